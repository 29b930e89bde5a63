//! Helpers shared by the integration tests.
#![allow(dead_code)]

use burn::module::Param;
use burn::nn::Linear;
use burn::tensor::{Device, Tensor, TensorData};

pub fn dev() -> Device {
    Device::flex()
}

pub fn t2(rows: usize, cols: usize, v: &[f32]) -> Tensor<2> {
    Tensor::from_data(TensorData::new(v.to_vec(), [rows, cols]), &dev())
}

pub fn t3(a: usize, b: usize, c: usize, v: &[f32]) -> Tensor<3> {
    Tensor::from_data(TensorData::new(v.to_vec(), [a, b, c]), &dev())
}

pub fn values<const D: usize>(t: Tensor<D>) -> Vec<f32> {
    t.into_data().try_to_vec().unwrap()
}

/// A Linear layer with the given `[in, out]` weight (row-major) and optional bias.
pub fn linear(d_in: usize, d_out: usize, w: &[f32], b: Option<&[f32]>) -> Linear {
    Linear {
        weight: Param::from_tensor(t2(d_in, d_out, w)),
        bias: b.map(|b| {
            Param::from_tensor(Tensor::from_data(
                TensorData::new(b.to_vec(), [d_out]),
                &dev(),
            ))
        }),
    }
}

pub fn close(a: &[f32], b: &[f32], tol: f32) {
    assert_eq!(a.len(), b.len(), "lengths differ: {a:?} vs {b:?}");
    for (x, y) in a.iter().zip(b) {
        assert!((x - y).abs() <= tol, "{a:?} vs {b:?}");
    }
}

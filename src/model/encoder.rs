//! The encoder h_theta and the variational prior/posterior, section 4.3 (Eq. 7-9).

use burn::module::Module;
use burn::nn::{Linear, LinearConfig};
use burn::tensor::activation::relu;
use burn::tensor::{Device, Tensor};

use crate::config::Fidelity;

/// Fully connected layers `input -> sizes[0] -> sizes[1] -> ...`, PyTorch's default init.
pub fn linear_stack(input: usize, sizes: &[usize], device: &Device) -> Vec<Linear> {
    std::iter::once(input)
        .chain(sizes.iter().copied())
        .collect::<Vec<_>>()
        .windows(2)
        .map(|w| LinearConfig::new(w[0], w[1]).init(device))
        .collect()
}

/// A stack of fully connected layers `h(x) = ReLU(Wx + b)` applied to every point (Eq. 7; the
/// task identity network of Eq. 10 has the same structure). With `linear_last` the last layer
/// has no ReLU (the official code).
#[derive(Module, Debug)]
pub struct PointMlp {
    pub layers: Vec<Linear>,
    pub linear_last: bool,
}

impl PointMlp {
    pub fn new(
        input: usize,
        hidden: &[usize],
        output: usize,
        linear_last: bool,
        device: &Device,
    ) -> Self {
        let sizes: Vec<usize> = hidden.iter().copied().chain([output]).collect();
        PointMlp {
            layers: linear_stack(input, &sizes, device),
            linear_last,
        }
    }

    /// `[B, N, input]` to `[B, N, output]`.
    pub fn forward(&self, mut h: Tensor<3>) -> Tensor<3> {
        let last = self.layers.len() - 1;
        for (l, layer) in self.layers.iter().enumerate() {
            h = layer.forward(h);
            if l < last || !self.linear_last {
                h = relu(h);
            }
        }
        h
    }
}

/// Eq. 8: the permutation-invariant mean of the points selected by `mask` (`[B, N]`, 0 or 1).
/// A task with no selected point gets zeros.
pub fn masked_mean(h: Tensor<3>, mask: Tensor<2>) -> Tensor<2> {
    let [b, _, d] = h.dims();
    let count = mask.clone().sum_dim(1).clamp_min(1.0); // [B, 1]
    let sum = (h * mask.unsqueeze_dim::<3>(2)).sum_dim(1).reshape([b, d]);
    sum / count
}

/// A diagonal Gaussian q(z | .) with its mean and standard deviation, `[B, z_dim]` each.
#[derive(Clone, Debug)]
pub struct Gaussian {
    pub mu: Tensor<2>,
    pub sigma: Tensor<2>,
    /// log sigma (kept to compute the KL term without a log of sigma).
    pub log_sigma: Tensor<2>,
}

impl Gaussian {
    /// Eq. 9's reparameterisation: `z = mu + eps * sigma` for a given noise `eps`.
    pub fn sample(&self, eps: Tensor<2>) -> Tensor<2> {
        self.mu.clone() + eps * self.sigma.clone()
    }

    /// `KL(self || other)` summed over dimensions, `[B, 1]` (L_c of Eq. 19).
    pub fn kl(&self, other: &Gaussian) -> Tensor<2> {
        let var_ratio = (self.sigma.clone() / other.sigma.clone()).powi_scalar(2);
        let mean_term = ((self.mu.clone() - other.mu.clone()) / other.sigma.clone()).powi_scalar(2);
        ((var_ratio + mean_term - 1.0) * 0.5 + other.log_sigma.clone() - self.log_sigma.clone())
            .sum_dim(1)
    }
}

/// Bound on log sigma: keeps exp() finite for degenerate inputs without touching normal values.
const LOG_SIGMA_BOUND: f64 = 10.0;

/// h_theta (Eq. 7) followed by the mean (Eq. 8) and the Gaussian head of Eq. 9:
/// `r = ReLU(W_s r)`, `mu = W_mu r`, `log sigma = W_sigma r`.
#[derive(Module, Debug)]
pub struct LatentEncoder {
    pub h: PointMlp,
    pub w_s: Linear,
    pub w_mu: Linear,
    pub w_sigma: Linear,
    /// The official code treats the W_sigma output as a log-variance (sigma = exp(out / 2)).
    pub log_variance: bool,
}

impl LatentEncoder {
    pub fn new(
        input: usize,
        hidden: &[usize],
        r_dim: usize,
        s_dim: usize,
        z_dim: usize,
        fidelity: Fidelity,
        device: &Device,
    ) -> Self {
        let code = fidelity == Fidelity::OfficialCode;
        // Eq. 9 has weight matrices only; the official code's layers have biases.
        let linear = |i, o| LinearConfig::new(i, o).with_bias(code).init(device);
        LatentEncoder {
            h: PointMlp::new(input, hidden, r_dim, code, device),
            w_s: linear(r_dim, s_dim),
            w_mu: linear(s_dim, z_dim),
            w_sigma: linear(s_dim, z_dim),
            log_variance: code,
        }
    }

    /// Per-point encodings r_ij, `[B, N, r_dim]`; computed once and aggregated for any subset.
    pub fn encode_points(&self, xy: Tensor<3>) -> Tensor<3> {
        self.h.forward(xy)
    }

    /// q(z | points selected by `mask`), from the per-point encodings.
    pub fn distribution(&self, r: Tensor<3>, mask: Tensor<2>) -> Gaussian {
        let r = relu(self.w_s.forward(masked_mean(r, mask)));
        let mu = self.w_mu.forward(r.clone());
        let out = self.w_sigma.forward(r);
        let log_sigma = if self.log_variance { out * 0.5 } else { out };
        let log_sigma = log_sigma.clamp(-LOG_SIGMA_BOUND, LOG_SIGMA_BOUND);
        Gaussian {
            mu,
            sigma: log_sigma.clone().exp(),
            log_sigma,
        }
    }
}

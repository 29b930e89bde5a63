//! The customization module, section 4.4 (Eq. 10-14): the task identity network m_phi, the
//! global pool A, the Student-t soft assignment, the final task embedding and the clustering
//! loss.

use burn::module::{Module, Param};
use burn::nn::{Initializer, Linear, LinearConfig};
use burn::tensor::activation::sigmoid;
use burn::tensor::{Device, Tensor};
use rand::Rng;

use super::encoder::{PointMlp, masked_mean};
use crate::config::Fidelity;

/// What the customization module derives from a support set.
#[derive(Clone, Debug)]
pub struct TaskIdentity {
    /// t_i, the temporary task embedding (Eq. 10 + mean), `[B, t_dim]`.
    pub t: Tensor<2>,
    /// c_i, the soft cluster assignment (Eq. 11), `[B, k]`, rows sum to 1.
    pub c: Tensor<2>,
    /// o_i, the final task embedding (Eq. 12), `[B, t_dim]`.
    pub o: Tensor<2>,
}

#[derive(Module, Debug)]
pub struct Customization {
    /// m_phi: the same structure as h_theta (Eq. 10).
    pub m_phi: PointMlp,
    /// The global pool A, stored as `[k, t_dim]` (one centroid a_j per row), Xavier-uniform.
    pub global_pool: Param<Tensor<2>>,
    /// W_o of Eq. 12 (absent in the official code, which uses `o = t + cA`).
    pub w_o: Option<Linear>,
    pub alpha: f64,
    /// The official code uses the unsquared distance in Eq. 11.
    pub squared_distance: bool,
}

impl Customization {
    pub fn new(
        input: usize,
        hidden: &[usize],
        t_dim: usize,
        k: usize,
        alpha: f64,
        fidelity: Fidelity,
        device: &Device,
    ) -> Self {
        let code = fidelity == Fidelity::OfficialCode;
        Customization {
            m_phi: PointMlp::new(input, hidden, t_dim, code, device),
            global_pool: Initializer::XavierUniform { gain: 1.0 }.init_with(
                [k, t_dim],
                Some(t_dim),
                Some(k),
                device,
            ),
            w_o: (!code).then(|| {
                LinearConfig::new(t_dim, t_dim)
                    .with_bias(false)
                    .init(device)
            }),
            alpha,
            squared_distance: !code,
        }
    }

    /// Eq. 10-12 for the points selected by `support` (`[B, N]`).
    pub fn forward(&self, xy: Tensor<3>, support: Tensor<2>) -> TaskIdentity {
        self.from_points(self.m_phi.forward(xy), support)
    }

    /// Eq. 10's mean and Eq. 11-12 from the points' m_phi outputs `h` (`[B, N, t_dim]`) and
    /// per-point weights `support` (`[B, N]`: 0/1 selects points, counts weigh a resample).
    pub fn from_points(&self, h: Tensor<3>, support: Tensor<2>) -> TaskIdentity {
        let t = masked_mean(h, support);
        let c = self.assign(t.clone());
        let pool = self.global_pool.val();
        let mixed = t.clone() + c.clone().matmul(pool); // t_i + A c_i^T
        let o = match &self.w_o {
            Some(w_o) => sigmoid(w_o.forward(mixed)),
            None => mixed,
        };
        TaskIdentity { t, c, o }
    }

    /// The global pool A set to `centroids` (`[k, t_dim]`, row-major), e.g. from [`kmeans`]
    /// over task embeddings t_i: DEC's initialisation (Xie et al., ICML 2016), not in the
    /// paper, which starts A at random. The parameter keeps its identity.
    pub fn with_pool(mut self, centroids: &[f32]) -> Self {
        self.global_pool = self.global_pool.map(|pool| {
            let dims = pool.dims();
            let data = burn::tensor::TensorData::new(centroids.to_vec(), dims);
            let grad = pool.is_require_grad();
            Tensor::from_data(data, &pool.device()).set_require_grad(grad)
        });
        self
    }

    /// Eq. 11: `c_ij ∝ (1 + ||t_i - a_j||^2 / alpha)^(-(alpha+1)/2)`, normalised over j.
    pub fn assign(&self, t: Tensor<2>) -> Tensor<2> {
        let [b, d] = t.dims();
        let pool = self.global_pool.val();
        let [k, _] = pool.dims();
        let diff = t.unsqueeze_dim::<3>(1).expand([b, k, d])
            - pool.unsqueeze_dim::<3>(0).expand([b, k, d]);
        let dist2 = diff.powi_scalar(2).sum_dim(2).reshape([b, k]);
        let dist = if self.squared_distance {
            dist2
        } else {
            (dist2 + 1e-12).sqrt()
        };
        let q = (dist / self.alpha + 1.0).powf_scalar(-(self.alpha + 1.0) / 2.0);
        let total = q.clone().sum_dim(1);
        q / total
    }
}

/// Eq. 14: the target distribution `D_ij = (C_ij^2 / f_j) / sum_j' (C_ij'^2 / f_j')` with
/// `f_j = sum_i C_ij`, computed over the tasks of `c` (`[B, k]`) and detached, as in DEC.
pub fn target_distribution(c: Tensor<2>) -> Tensor<2> {
    let c = c.detach();
    let f = c.clone().sum_dim(0); // [1, k]
    let weight = c.powi_scalar(2) / f;
    let norm = weight.clone().sum_dim(1);
    weight / norm
}

/// Eq. 13: `L_u = KL(D || C) = sum_i sum_j D_ij log(D_ij / C_ij)`, divided by the number of
/// tasks so that it is on the same per-task scale as the other terms of Eq. 19.
pub fn clustering_loss(c: Tensor<2>) -> Tensor<1> {
    let [b, _] = c.dims();
    let d = target_distribution(c.clone());
    let eps = 1e-12;
    let kl = d.clone() * ((d + eps).log() - (c + eps).log());
    kl.sum() / b as f64
}

/// The official code's clustering term: its target has a shape bug that makes D all ones, so
/// the loss is `mean_i(-sum_j log c_ij)`, which pushes assignments towards uniform.
pub fn official_clustering_loss(c: Tensor<2>) -> Tensor<1> {
    let [b, _] = c.dims();
    (c + 1e-12).log().sum().neg() / b as f64
}

/// Lloyd's k-means with k-means++ seeding over `points` (`[n, dim]`, row-major): `k` centroids,
/// `[k, dim]` row-major. DEC initialises its cluster centres this way ([`Customization::with_pool`]).
/// With fewer distinct points than `k`, the remaining centroids repeat a point.
pub fn kmeans(
    points: &[f32],
    dim: usize,
    k: usize,
    iterations: usize,
    rng: &mut impl Rng,
) -> Vec<f32> {
    let n = points.len() / dim.max(1);
    if n == 0 || k == 0 {
        return vec![0.0; k * dim];
    }
    let row = |i: usize| &points[i * dim..(i + 1) * dim];
    let dist2 = |a: &[f32], b: &[f32]| a.iter().zip(b).map(|(x, y)| (x - y) * (x - y)).sum::<f32>();
    let mut centroids: Vec<f32> = row(rng.random_range(0..n)).to_vec();
    let mut nearest: Vec<f32> = (0..n).map(|i| dist2(row(i), &centroids[..dim])).collect();
    while centroids.len() < k * dim {
        let total: f32 = nearest.iter().sum();
        let pick = if total > 0.0 {
            let mut left = rng.random::<f32>() * total;
            nearest
                .iter()
                .position(|&d| {
                    left -= d;
                    left <= 0.0
                })
                .unwrap_or(n - 1)
        } else {
            rng.random_range(0..n)
        };
        let c = row(pick).to_vec();
        for (i, d) in nearest.iter_mut().enumerate() {
            *d = d.min(dist2(row(i), &c));
        }
        centroids.extend(c);
    }
    let mut labels = vec![0usize; n];
    for _ in 0..iterations {
        for (i, label) in labels.iter_mut().enumerate() {
            *label = centroids
                .chunks(dim)
                .map(|c| dist2(row(i), c))
                .enumerate()
                .min_by(|a, b| a.1.total_cmp(&b.1))
                .map_or(0, |(j, _)| j);
        }
        let mut sums = vec![0f32; k * dim];
        let mut counts = vec![0usize; k];
        for (i, &label) in labels.iter().enumerate() {
            counts[label] += 1;
            for (s, x) in sums[label * dim..(label + 1) * dim].iter_mut().zip(row(i)) {
                *s += x;
            }
        }
        for j in 0..k {
            if counts[j] > 0 {
                for (c, s) in centroids[j * dim..(j + 1) * dim]
                    .iter_mut()
                    .zip(&sums[j * dim..(j + 1) * dim])
                {
                    *c = s / counts[j] as f32;
                }
            }
        }
    }
    centroids
}

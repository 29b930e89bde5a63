//! Losses, section 4.6 (Eq. 17-19).

use burn::tensor::Tensor;
use burn::tensor::activation::{log_softmax, relu};

use crate::config::{Feedback, Fidelity};

/// Mean over the points selected by `mask` of a per-point loss `[B, N]`, per task `[B, 1]`.
fn masked_point_mean(per_point: Tensor<2>, mask: Tensor<2>) -> Tensor<2> {
    let count = mask.clone().sum_dim(1).clamp_min(1.0);
    (per_point * mask).sum_dim(1) / count
}

/// Eq. 17 (squared error, explicit ratings) or Eq. 18 (binary cross-entropy of sigmoid(score),
/// implicit feedback), averaged over the query points of each task: `L_r,i`, `[B, 1]`.
/// The official code uses the squared error for implicit data too.
pub fn prediction_loss(
    scores: Tensor<2>,
    y: Tensor<2>,
    mask: Tensor<2>,
    feedback: Feedback,
    fidelity: Fidelity,
) -> Tensor<2> {
    let per_point = match (feedback, fidelity) {
        (Feedback::Implicit, Fidelity::Paper) => {
            // -[y log s(l) + (1-y) log(1-s(l))] = max(l, 0) - l y + log(1 + exp(-|l|)),
            // the numerically stable form of Eq. 18 on the logit l.
            relu(scores.clone()) - scores.clone() * y + (scores.abs().neg().exp() + 1.0).log()
        }
        _ => (y - scores).powi_scalar(2),
    };
    masked_point_mean(per_point, mask)
}

/// The catalog objective's prediction loss (not in the paper; Mult-DAE's multinomial
/// likelihood, Liang et al., WWW 2018): `-mean_{j liked} log softmax(scores)_j` over the
/// catalog, per task `[B, 1]`. `liked` (`[B, M]`) is 1 for each task's liked query items; a task
/// without any contributes 0.
pub fn catalog_loss(scores: Tensor<2>, liked: Tensor<2>) -> Tensor<2> {
    let count = liked.clone().sum_dim(1).clamp_min(1.0);
    -(log_softmax(scores, 1) * liked).sum_dim(1) / count
}

/// Eq. 19: `L = mean_i (L_r,i + L_c,i) + lambda * L_u`.
pub fn total_loss(
    l_r: Tensor<2>,
    l_c: Tensor<2>,
    l_u: Option<Tensor<1>>,
    lambda: f64,
) -> Tensor<1> {
    let per_task = (l_r + l_c).mean();
    match l_u {
        Some(l_u) => per_task + l_u * lambda,
        None => per_task,
    }
}

//! Co-occurrence item clusters: a content field for datasets whose items have none.
//!
//! **Not in the paper.** Last.FM and Gowalla have no item contents (paper, Table 2), so Eq. 6
//! gives every item an id embedding learned from the few tasks that contain it. With ids only,
//! the trained models do not use the support set at all (the README's support-set ablation):
//! nothing tells the model that two artists are liked by the same people. This module derives
//! one categorical item field from the **training** users' positives only, so no validation or
//! test interaction leaks into it:
//!
//! 1. `X[u, i] = 1 / sqrt(|I_u| * n_i)` for every training user `u` and item `i` they liked
//!    (label 1, or a rating of 4 or more)
//!    (`I_u` the user's liked items, `n_i` the number of training users who liked `i`), so
//!    `(X^T X)[i, j]` is the co-occurrence of `i` and `j` normalised by both popularities;
//! 2. the item factors of its rank-`r` truncated SVD, `V_r S_r`, by subspace iteration;
//! 3. spherical k-means on the row-normalised factors, `k` clusters, seeded.
//!
//! The field's value is the cluster (1..=k), or 0 ("unknown") for an item no training user
//! liked. With it the item side becomes an Eq. 5 content embedding of (id, cluster).

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use crate::error::{Result, TanpError};
use crate::features::Field;
use crate::task::Task;

/// How the clusters are computed.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ClusterConfig {
    /// Number of clusters k.
    pub k: usize,
    /// Rank r of the truncated SVD.
    pub rank: usize,
    /// Subspace-iteration steps.
    pub power_steps: usize,
    /// k-means steps (it stops earlier when no assignment changes).
    pub kmeans_steps: usize,
    pub seed: u64,
}

impl ClusterConfig {
    /// `k` clusters on a rank-16 factorisation.
    pub fn new(k: usize, seed: u64) -> Self {
        ClusterConfig {
            k,
            rank: 16,
            power_steps: 30,
            kmeans_steps: 50,
            seed,
        }
    }
}

/// The cluster of each of `items` items (0 for items no training user liked), from the
/// interactions of `train` labelled `liked_from` or more ([`crate::config::Feedback::liked_from`]).
pub fn item_clusters(
    items: usize,
    train: &[Task],
    liked_from: f32,
    config: &ClusterConfig,
) -> Result<Vec<u32>> {
    if config.k == 0 || config.rank == 0 {
        return Err(TanpError::Config(format!(
            "item clusters need k >= 1 and rank >= 1, got k = {} and rank = {}",
            config.k, config.rank
        )));
    }
    // Each training user's distinct liked items, as dense indices of the liked items.
    let mut dense = vec![u32::MAX; items];
    let mut liked_items: Vec<u32> = Vec::new();
    let mut users: Vec<Vec<u32>> = Vec::with_capacity(train.len());
    for task in train {
        let mut row: Vec<u32> = Vec::new();
        for x in task.interactions().filter(|x| x.y >= liked_from) {
            let Some(slot) = dense.get_mut(x.item as usize) else {
                return Err(TanpError::Config(format!(
                    "item clusters: task of user {} has item {} but the catalog has {items} items",
                    task.user, x.item
                )));
            };
            if *slot == u32::MAX {
                *slot = liked_items.len() as u32;
                liked_items.push(x.item);
            }
            row.push(*slot);
        }
        row.sort_unstable();
        row.dedup();
        if !row.is_empty() {
            users.push(row);
        }
    }
    let n = liked_items.len();
    let mut labels = vec![0u32; items];
    if n == 0 {
        return Ok(labels);
    }
    let (factors, rank) = item_factors(&users, n, config);
    let assignment = spherical_kmeans(&factors, rank, config);
    for (d, &item) in liked_items.iter().enumerate() {
        labels[item as usize] = assignment[d] + 1;
    }
    Ok(labels)
}

/// The clusters as a categorical field (vocabulary k + 1, 0 = unknown).
pub fn cluster_field(labels: &[u32], k: usize) -> Field {
    let mut field = Field::new("cluster", k + 1);
    for &l in labels {
        field.push(&[l]).expect("labels are at most k");
    }
    field
}

/// A sparse `users x n` matrix with `X[u, i] = 1 / sqrt(|I_u| n_i)`.
struct Normalised<'a> {
    users: &'a [Vec<u32>],
    user_weight: Vec<f64>,
    item_weight: Vec<f64>,
}

impl Normalised<'_> {
    /// `X^T (X q)` for a dense `n x r` matrix `q` (row-major).
    fn gram_times(&self, q: &[f64], r: usize) -> Vec<f64> {
        let mut out = vec![0.0; q.len()];
        let mut xq = vec![0.0; r];
        for (u, row) in self.users.iter().enumerate() {
            xq.iter_mut().for_each(|v| *v = 0.0);
            for &i in row {
                let w = self.item_weight[i as usize];
                for (c, v) in xq.iter_mut().enumerate() {
                    *v += w * q[i as usize * r + c];
                }
            }
            let wu = self.user_weight[u] * self.user_weight[u];
            for &i in row {
                let w = self.item_weight[i as usize] * wu;
                for (c, v) in xq.iter().enumerate() {
                    out[i as usize * r + c] += w * v;
                }
            }
        }
        out
    }
}

/// The rows of `V_r S_r` (`n x r`, row-major) of the normalised matrix and `r` (the configured
/// rank, or `n` when fewer items were liked), by subspace iteration on `X^T X` and a
/// Rayleigh-Ritz step.
fn item_factors(users: &[Vec<u32>], n: usize, config: &ClusterConfig) -> (Vec<f64>, usize) {
    let mut counts = vec![0usize; n];
    for row in users {
        for &i in row {
            counts[i as usize] += 1;
        }
    }
    let x = Normalised {
        users,
        user_weight: users
            .iter()
            .map(|r| 1.0 / (r.len() as f64).sqrt())
            .collect(),
        item_weight: counts.iter().map(|&c| 1.0 / (c as f64).sqrt()).collect(),
    };
    let r = config.rank.min(n);
    let mut rng = StdRng::seed_from_u64(config.seed);
    let mut q: Vec<f64> = (0..n * r).map(|_| rng.random_range(-1.0..1.0)).collect();
    orthonormalise(&mut q, n, r);
    for _ in 0..config.power_steps {
        q = x.gram_times(&q, r);
        orthonormalise(&mut q, n, r);
    }
    // Rayleigh-Ritz: Q^T (X^T X) Q = W diag(s^2) W^T, and V S = Q W diag(s).
    let aq = x.gram_times(&q, r);
    let mut small = vec![0.0; r * r];
    for row in 0..n {
        for a in 0..r {
            for b in 0..r {
                small[a * r + b] += q[row * r + a] * aq[row * r + b];
            }
        }
    }
    let (values, vectors) = symmetric_eigen(&mut small, r);
    let mut out = vec![0.0; n * r];
    for row in 0..n {
        for c in 0..r {
            let s = values[c].max(0.0).sqrt();
            let v: f64 = (0..r).map(|a| q[row * r + a] * vectors[a * r + c]).sum();
            out[row * r + c] = v * s;
        }
    }
    (out, r)
}

/// Modified Gram-Schmidt on the `r` columns of a row-major `n x r` matrix. A column that
/// vanishes (it lies in the span of the earlier ones) becomes zero.
fn orthonormalise(m: &mut [f64], n: usize, r: usize) {
    for c in 0..r {
        for p in 0..c {
            let dot: f64 = (0..n).map(|i| m[i * r + c] * m[i * r + p]).sum();
            for i in 0..n {
                m[i * r + c] -= dot * m[i * r + p];
            }
        }
        let norm = (0..n).map(|i| m[i * r + c].powi(2)).sum::<f64>().sqrt();
        if norm > 1e-12 {
            for i in 0..n {
                m[i * r + c] /= norm;
            }
        } else {
            for i in 0..n {
                m[i * r + c] = 0.0;
            }
        }
    }
}

/// Eigenvalues and eigenvectors (as columns of a row-major `r x r` matrix) of a symmetric
/// matrix, by cyclic Jacobi rotations; `a` is destroyed.
fn symmetric_eigen(a: &mut [f64], r: usize) -> (Vec<f64>, Vec<f64>) {
    let mut v = vec![0.0; r * r];
    for i in 0..r {
        v[i * r + i] = 1.0;
    }
    for _ in 0..100 {
        let off: f64 = (0..r)
            .flat_map(|i| (0..r).filter(move |&j| j != i).map(move |j| (i, j)))
            .map(|(i, j)| a[i * r + j].powi(2))
            .sum();
        if off < 1e-22 {
            break;
        }
        for p in 0..r {
            for q in p + 1..r {
                let apq = a[p * r + q];
                if apq.abs() < 1e-300 {
                    continue;
                }
                let theta = (a[q * r + q] - a[p * r + p]) / (2.0 * apq);
                // signum(0.0) is 1.0, so theta = 0 gives t = 1 (a 45-degree rotation).
                let t = theta.signum() / (theta.abs() + (theta * theta + 1.0).sqrt());
                let c = 1.0 / (t * t + 1.0).sqrt();
                let s = t * c;
                for k in 0..r {
                    let (akp, akq) = (a[k * r + p], a[k * r + q]);
                    a[k * r + p] = c * akp - s * akq;
                    a[k * r + q] = s * akp + c * akq;
                }
                for k in 0..r {
                    let (apk, aqk) = (a[p * r + k], a[q * r + k]);
                    a[p * r + k] = c * apk - s * aqk;
                    a[q * r + k] = s * apk + c * aqk;
                }
                for k in 0..r {
                    let (vkp, vkq) = (v[k * r + p], v[k * r + q]);
                    v[k * r + p] = c * vkp - s * vkq;
                    v[k * r + q] = s * vkp + c * vkq;
                }
            }
        }
    }
    ((0..r).map(|i| a[i * r + i]).collect(), v)
}

/// Spherical k-means on the rows of `factors` (`n x r`, row-major): the cluster (0..k) of
/// each row.
fn spherical_kmeans(factors: &[f64], r: usize, config: &ClusterConfig) -> Vec<u32> {
    let n = factors.len() / r;
    let unit: Vec<f64> = factors
        .chunks(r)
        .flat_map(|row| {
            let norm = row.iter().map(|v| v * v).sum::<f64>().sqrt().max(1e-12);
            row.iter().map(move |v| v / norm)
        })
        .collect();
    let k = config.k.min(n);
    let mut rng = StdRng::seed_from_u64(config.seed ^ 0x9e37_79b9_7f4a_7c15);
    let starts = rand::seq::index::sample(&mut rng, n, k);
    let mut centroids: Vec<f64> = starts
        .iter()
        .flat_map(|i| unit[i * r..(i + 1) * r].iter().copied())
        .collect();
    let mut assignment = vec![u32::MAX; n];
    for _ in 0..config.kmeans_steps {
        let mut changed = false;
        for (i, row) in unit.chunks(r).enumerate() {
            let best = centroids
                .chunks(r)
                .map(|c| c.iter().zip(row).map(|(a, b)| a * b).sum::<f64>())
                .enumerate()
                .fold(
                    (0, f64::NEG_INFINITY),
                    |acc, (j, s)| if s > acc.1 { (j, s) } else { acc },
                )
                .0 as u32;
            changed |= assignment[i] != best;
            assignment[i] = best;
        }
        if !changed {
            break;
        }
        let mut sums = vec![0.0; k * r];
        for (i, row) in unit.chunks(r).enumerate() {
            let c = assignment[i] as usize;
            for (s, v) in sums[c * r..(c + 1) * r].iter_mut().zip(row) {
                *s += v;
            }
        }
        for (c, sum) in sums.chunks(r).enumerate() {
            let norm = sum.iter().map(|v| v * v).sum::<f64>().sqrt();
            // An empty cluster keeps its centroid.
            if norm > 1e-12 {
                for (dst, v) in centroids[c * r..(c + 1) * r].iter_mut().zip(sum) {
                    *dst = v / norm;
                }
            }
        }
    }
    assignment
}

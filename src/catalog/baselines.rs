//! Catalog baselines (not in the paper), each fitted on the training users' interactions and
//! tuned on the validation users by [`super::selection_score`]:
//! - popularity: how many training users liked the item,
//! - item-kNN: cosine similarity of item columns, summed over the support items,
//! - EASE (Steck, WWW 2019): the closed-form item-item ridge regression with a zero diagonal.
//!
//! Every scorer adds the popularity, scaled far below any real score difference, as a tie
//! breaker (a support set with nothing the method can use ranks by popularity).

use serde::{Deserialize, Serialize};
use serde_json::json;

use super::{CatalogScorer, selection_score};
use crate::config::Feedback;
use crate::data::{Dataset, Episodes};
use crate::error::{Result, TanpError};
use crate::task::{Interaction, Task};

/// Which of a user's interactions form their row of the item matrix and their input.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Signal {
    /// Only the liked items (rating >= 4 / label 1).
    Liked,
    /// Every rated item, whatever its rating.
    Rated,
}

impl Signal {
    fn keeps(self, x: &Interaction, liked_from: f32) -> bool {
        match self {
            Signal::Liked => x.y >= liked_from,
            Signal::Rated => true,
        }
    }
}

/// The training users' item sets (by `signal`), one sorted list per user.
pub fn item_sets(train: &[Task], signal: Signal, liked_from: f32) -> Vec<Vec<u32>> {
    train
        .iter()
        .map(|t| {
            let mut items: Vec<u32> = t
                .interactions()
                .filter(|x| signal.keeps(x, liked_from))
                .map(|x| x.item)
                .collect();
            items.sort_unstable();
            items.dedup();
            items
        })
        .collect()
}

/// How many training users liked each item, scaled to [0, 1].
pub fn liked_popularity(items: usize, train: &[Task], liked_from: f32) -> Vec<f32> {
    let mut counts = vec![0f32; items];
    for set in item_sets(train, Signal::Liked, liked_from) {
        for i in set {
            counts[i as usize] += 1.0;
        }
    }
    let max = counts.iter().copied().fold(1.0, f32::max);
    counts.iter().map(|c| c / max).collect()
}

/// The popularity ranker: the same list for everyone.
pub struct Popularity {
    pub popularity: Vec<f32>,
}

impl Popularity {
    pub fn fit(items: usize, train: &[Task], liked_from: f32) -> Self {
        Popularity {
            popularity: liked_popularity(items, train, liked_from),
        }
    }

    pub fn scores(&self) -> Vec<f32> {
        self.popularity.clone()
    }
}

/// A dense square matrix, row-major.
pub struct Square {
    pub n: usize,
    pub v: Vec<f64>,
}

impl Square {
    fn zeros(n: usize) -> Self {
        Square {
            n,
            v: vec![0.0; n * n],
        }
    }

    fn row(&self, i: usize) -> &[f64] {
        &self.v[i * self.n..(i + 1) * self.n]
    }

    /// `X^T X` of binary rows given as item lists: co-occurrence counts.
    pub fn gram(n: usize, sets: &[Vec<u32>]) -> Self {
        let mut g = Square::zeros(n);
        for set in sets {
            for &a in set {
                let row = &mut g.v[a as usize * n..(a as usize + 1) * n];
                for &b in set {
                    row[b as usize] += 1.0;
                }
            }
        }
        g
    }

    /// The inverse of a symmetric positive-definite matrix through its Cholesky factor.
    pub fn spd_inverse(&self) -> Result<Square> {
        let n = self.n;
        // L, lower triangular, row-major: L[i][j] = (A[i][j] - <L_i, L_j>) / L[j][j].
        let mut l = Square::zeros(n);
        for i in 0..n {
            for j in 0..=i {
                let dot: f64 = l.v[i * n..i * n + j]
                    .iter()
                    .zip(&l.v[j * n..j * n + j])
                    .map(|(a, b)| a * b)
                    .sum();
                let value = self.v[i * n + j] - dot;
                if i == j {
                    if value <= 0.0 || !value.is_finite() {
                        return Err(TanpError::Numeric(format!(
                            "the matrix is not positive definite (pivot {i} is {value})"
                        )));
                    }
                    l.v[i * n + i] = value.sqrt();
                } else {
                    l.v[i * n + j] = value / l.v[j * n + j];
                }
            }
        }
        // M = L^-T (upper triangular), row i of M = column i of L^-1, by forward substitution:
        // L x = e_i gives column i of L^-1, which is zero above i.
        let mut m = Square::zeros(n);
        let mut x = vec![0.0; n];
        for i in 0..n {
            x.iter_mut().for_each(|v| *v = 0.0);
            x[i] = 1.0 / l.v[i * n + i];
            for r in i + 1..n {
                let dot: f64 = l.v[r * n + i..r * n + r]
                    .iter()
                    .zip(&x[i..r])
                    .map(|(a, b)| a * b)
                    .sum();
                x[r] = -dot / l.v[r * n + r];
            }
            m.v[i * n..(i + 1) * n].copy_from_slice(&x);
        }
        // A^-1 = L^-T L^-1: entry (i, j) = <M_i, M_j> over k >= max(i, j).
        let mut inv = Square::zeros(n);
        for i in 0..n {
            for j in 0..=i {
                let d: f64 = m.row(i)[i..]
                    .iter()
                    .zip(&m.row(j)[i..])
                    .map(|(a, b)| a * b)
                    .sum();
                inv.v[i * n + j] = d;
                inv.v[j * n + i] = d;
            }
        }
        Ok(inv)
    }
}

/// A linear item-to-item scorer: `score_j = sum over input items i of w_i * W[i][j]`, plus the
/// popularity tie-breaker. Item-kNN and EASE are both of this form.
pub struct ItemToItem {
    pub weights: Vec<f32>,
    pub n: usize,
    pub signal: Signal,
    /// Weight each input item by its rating minus 3 (centred) instead of 1.
    pub centred: bool,
    pub liked_from: f32,
    pub popularity: Vec<f32>,
}

impl ItemToItem {
    pub fn scores(&self, support: &[Interaction]) -> Vec<f32> {
        let mut out: Vec<f32> = self.popularity.iter().map(|p| p * 1e-6).collect();
        for x in support
            .iter()
            .filter(|x| self.signal.keeps(x, self.liked_from))
        {
            let w = if self.centred { x.y - 3.0 } else { 1.0 };
            let row = &self.weights[x.item as usize * self.n..(x.item as usize + 1) * self.n];
            out.iter_mut().zip(row).for_each(|(o, r)| *o += w * r);
        }
        out
    }
}

/// Item-kNN's settings.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct KnnConfig {
    pub signal: Signal,
    pub centred: bool,
    /// Shrinkage added to the cosine's denominator (damps pairs seen by few users).
    pub shrink: f64,
}

/// Item-kNN: cosine similarity of the item columns of the training users' matrix, every
/// neighbour kept, the item itself excluded.
pub fn item_knn(items: usize, train: &[Task], liked_from: f32, config: &KnnConfig) -> ItemToItem {
    let sets = item_sets(train, config.signal, liked_from);
    let g = Square::gram(items, &sets);
    let norm: Vec<f64> = (0..items).map(|i| g.v[i * items + i].sqrt()).collect();
    let mut weights = vec![0f32; items * items];
    for i in 0..items {
        for j in 0..items {
            if i != j && norm[i] > 0.0 && norm[j] > 0.0 {
                weights[i * items + j] =
                    (g.v[i * items + j] / (norm[i] * norm[j] + config.shrink)) as f32;
            }
        }
    }
    ItemToItem {
        weights,
        n: items,
        signal: config.signal,
        centred: config.centred,
        liked_from,
        popularity: liked_popularity(items, train, liked_from),
    }
}

/// EASE: `B = I - P diag(1 / diag P)` with `P = (X^T X + lambda I)^-1`, so `B_jj = 0`.
pub fn ease(
    items: usize,
    train: &[Task],
    liked_from: f32,
    signal: Signal,
    lambda: f64,
) -> Result<ItemToItem> {
    let sets = item_sets(train, signal, liked_from);
    let mut g = Square::gram(items, &sets);
    for i in 0..items {
        g.v[i * items + i] += lambda;
    }
    let p = g.spd_inverse()?;
    let mut weights = vec![0f32; items * items];
    for i in 0..items {
        for j in 0..items {
            if i != j {
                weights[i * items + j] = (-p.v[i * items + j] / p.v[j * items + j]) as f32;
            }
        }
    }
    Ok(ItemToItem {
        weights,
        n: items,
        signal,
        centred: false,
        liked_from,
        popularity: liked_popularity(items, train, liked_from),
    })
}

/// The catalog baselines `tanp catalog --method` fits.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "kebab-case")]
pub enum Method {
    /// Items by how many training users liked them: one list for everyone.
    Popularity,
    /// Cosine item-item similarity summed over the support items.
    ItemKnn,
    /// EASE (Steck, WWW 2019), closed form.
    Ease,
    /// Mult-DAE (Liang et al., WWW 2018): a denoising autoencoder with a multinomial likelihood.
    MultDae,
}

impl Method {
    pub fn name(self) -> &'static str {
        match self {
            Method::Popularity => "popularity",
            Method::ItemKnn => "item-knn",
            Method::Ease => "ease",
            Method::MultDae => "mult-dae",
        }
    }
}

/// A fitted baseline and what tuning chose.
pub struct Tuned {
    pub scorer: Box<dyn CatalogScorer>,
    /// The chosen settings and every setting's validation score.
    pub chosen: serde_json::Value,
}

impl CatalogScorer for ItemToItem {
    fn scores(&self, _user: u32, support: &[Interaction]) -> Result<Vec<f32>> {
        Ok(ItemToItem::scores(self, support))
    }
}

impl CatalogScorer for Popularity {
    fn scores(&self, _user: u32, _support: &[Interaction]) -> Result<Vec<f32>> {
        Ok(Popularity::scores(self))
    }
}

/// Fits `method` on the training users for every setting of its grid and keeps the one with
/// the best [`selection_score`] on the validation users.
pub fn fit_tuned(
    method: Method,
    data: &Dataset,
    episodes: &Episodes,
    counts: &[u32],
    seed: u64,
    quiet: bool,
) -> Result<Tuned> {
    let train = &episodes.train[..];
    let valid = |scorer: &dyn CatalogScorer| {
        selection_score(scorer, &episodes.valid, counts, data.feedback, seed)
    };
    let mut grid: Vec<(serde_json::Value, f64)> = Vec::new();
    let mut best: Option<(Box<dyn CatalogScorer>, serde_json::Value, f64)> = None;
    let mut consider = |scorer: Box<dyn CatalogScorer>, setting: serde_json::Value| -> Result<()> {
        let score = valid(&*scorer)?;
        if !quiet {
            eprintln!("{} {setting}: validation NDCG@10 {score:.4}", method.name());
        }
        grid.push((setting.clone(), score));
        if best.as_ref().is_none_or(|b| score > b.2) {
            best = Some((scorer, setting, score));
        }
        Ok(())
    };
    fit_grid(method, data, train, &valid, quiet, &mut consider)?;
    let (scorer, setting, score) = best.expect("every method has at least one setting");
    Ok(Tuned {
        scorer,
        chosen: json!({
            "setting": setting,
            "validation_ndcg_10": score,
            "selection": "mean NDCG@10 over N_S = 5, 10, well-known filter, validation users",
            "grid": grid.into_iter().map(|(s, v)| json!({"setting": s, "validation": v})).collect::<Vec<_>>(),
        }),
    })
}

/// A fitted scorer and its setting, handed to the selection.
type Consider<'a> = dyn FnMut(Box<dyn CatalogScorer>, serde_json::Value) -> Result<()> + 'a;

/// Fits `method` on `train` for every setting of its grid and hands each to `consider`
/// (Mult-DAE selects its epoch with `valid` too).
fn fit_grid(
    method: Method,
    data: &Dataset,
    train: &[Task],
    valid: &dyn Fn(&dyn CatalogScorer) -> Result<f64>,
    quiet: bool,
    consider: &mut Consider,
) -> Result<()> {
    let items = data.items.len();
    let liked_from = data.feedback.liked_from();
    match method {
        Method::Popularity => consider(
            Box::new(Popularity::fit(items, train, liked_from)),
            json!({"score": "training users who liked the item"}),
        )?,
        Method::ItemKnn => {
            for (signal, centred) in [
                (Signal::Liked, false),
                (Signal::Rated, false),
                (Signal::Rated, true),
            ] {
                if signal == Signal::Rated && data.feedback == Feedback::Implicit {
                    continue;
                }
                for shrink in [0.0, 10.0, 50.0] {
                    let config = KnnConfig {
                        signal,
                        centred,
                        shrink,
                    };
                    consider(
                        Box::new(item_knn(items, train, liked_from, &config)),
                        json!(config),
                    )?;
                }
            }
        }
        Method::Ease => {
            for signal in [Signal::Liked, Signal::Rated] {
                if signal == Signal::Rated && data.feedback == Feedback::Implicit {
                    continue;
                }
                for lambda in [300.0, 1000.0, 3000.0, 10000.0, 30000.0] {
                    consider(
                        Box::new(ease(items, train, liked_from, signal, lambda)?),
                        json!({"signal": signal, "lambda": lambda}),
                    )?;
                }
            }
        }
        Method::MultDae => {
            for config in super::dae::grid() {
                let (model, _, epoch) =
                    super::dae::fit(items, train, liked_from, &config, valid, quiet)?;
                consider(Box::new(model), json!({"config": config, "epoch": epoch}))?;
            }
        }
    }
    Ok(())
}

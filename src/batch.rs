//! How a set of tasks (section 3, [`crate::task`]) becomes one padded tensor batch.

use burn::tensor::{Device, Tensor, TensorData};
use rand::Rng;
use rand::seq::SliceRandom;

use crate::features::FeatureTable;
use crate::model::TensorBatch;
use crate::model::embedding::FieldInput;
use crate::negatives::NegativeSampler;
use crate::task::{Interaction, Task};

/// One point of a batch and the roles it plays.
#[derive(Clone, Copy, Debug)]
struct Point {
    item: u32,
    y: f32,
    support: bool,
    target: bool,
    predict: bool,
}

/// Training points: the first `context` are the support set, all are in tau_i, and those after
/// the support set are predicted (all of them with `predict_all`, the official code's loss).
fn split_points(all: &[Interaction], context: usize, predict_all: bool) -> Vec<Point> {
    all.iter()
        .enumerate()
        .map(|(j, x)| Point {
            item: x.item,
            y: x.y,
            support: j < context,
            target: true,
            predict: predict_all || j >= context,
        })
        .collect()
}

/// How each training task is turned into points on every visit.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Resplit {
    /// The paper's "variability of interaction sequence": a fresh random support set of `n_s`
    /// interactions, the query set is the rest; the posterior sees the whole task.
    Paper { n_s: usize },
    /// The official code: a random context of at least `context_min` interactions and a random
    /// target that extends it; the loss covers the whole target.
    OfficialCode { context_min: usize },
}

/// A batch of tasks on the host, padded to the longest task, ready to become tensors.
#[derive(Clone, Debug)]
pub struct HostBatch {
    pub users: Vec<u32>,
    pub items: Vec<u32>,
    pub y: Vec<f32>,
    pub support: Vec<f32>,
    pub target: Vec<f32>,
    pub predict: Vec<f32>,
    pub b: usize,
    pub n: usize,
}

impl HostBatch {
    fn from_points(tasks: Vec<(u32, Vec<Point>)>) -> Self {
        let b = tasks.len();
        let n = tasks.iter().map(|(_, p)| p.len()).max().unwrap_or(0).max(1);
        let mut out = HostBatch {
            users: Vec::with_capacity(b),
            items: vec![0; b * n],
            y: vec![0.0; b * n],
            support: vec![0.0; b * n],
            target: vec![0.0; b * n],
            predict: vec![0.0; b * n],
            b,
            n,
        };
        let flag = |v: bool| if v { 1.0 } else { 0.0 };
        for (i, (user, points)) in tasks.into_iter().enumerate() {
            out.users.push(user);
            for (j, p) in points.into_iter().enumerate() {
                let at = i * n + j;
                out.items[at] = p.item;
                out.y[at] = p.y;
                out.support[at] = flag(p.support);
                out.target[at] = flag(p.target);
                out.predict[at] = flag(p.predict);
            }
        }
        out
    }

    /// Test-time batch: the support set is the context, the query set is predicted.
    pub fn evaluation(tasks: &[&Task]) -> Self {
        Self::from_points(
            tasks
                .iter()
                .map(|t| {
                    let support = t.support.iter().map(|x| (x, true));
                    let query = t.query.iter().map(|x| (x, false));
                    let points = support
                        .chain(query)
                        .map(|(x, s)| Point {
                            item: x.item,
                            y: x.y,
                            support: s,
                            target: true,
                            predict: !s,
                        })
                        .collect();
                    (t.user, points)
                })
                .collect(),
        )
    }

    /// Training batch, re-split at random on every visit as `resplit` says, with fresh
    /// negatives from `negatives` when given.
    pub fn training(
        tasks: &[&Task],
        resplit: Resplit,
        negatives: Option<&NegativeSampler>,
        rng: &mut impl Rng,
    ) -> Self {
        Self::from_points(
            tasks
                .iter()
                .map(|t| {
                    let mut all: Vec<Interaction> = t.interactions().collect();
                    if let Some(sampler) = negatives {
                        sampler.resample(t.user, &mut all, rng);
                    }
                    all.shuffle(rng);
                    let n = all.len();
                    let (context, target) = match resplit {
                        Resplit::Paper { n_s } => (n_s.min(n.saturating_sub(1)).max(1), n),
                        Resplit::OfficialCode { context_min } => {
                            let lo = context_min.min(n.saturating_sub(1)).max(1);
                            let context = rng.random_range(lo..n.max(lo + 1));
                            let extra = rng.random_range(0..(n - context).max(1));
                            (context, context + extra)
                        }
                    };
                    let code = matches!(resplit, Resplit::OfficialCode { .. });
                    (t.user, split_points(&all[..target], context, code))
                })
                .collect(),
        )
    }

    /// Training batch of the catalog objective ([`crate::config::Objective::Catalog`]): on every
    /// visit a random support set of `n_s.0..=n_s.1` interactions (with their ratings, for the
    /// encoder and the task identity); the rest of the user's interactions are the query set,
    /// in the posterior's tau_i and predicted. What is predicted is the whole catalog
    /// ([`HostBatch::liked_queries`] marks the targets).
    pub fn catalog_training(tasks: &[&Task], n_s: (usize, usize), rng: &mut impl Rng) -> Self {
        Self::from_points(
            tasks
                .iter()
                .map(|t| {
                    let mut all: Vec<Interaction> = t.interactions().collect();
                    all.shuffle(rng);
                    let hi = n_s.1.min(all.len().saturating_sub(1)).max(1);
                    let context = rng.random_range(n_s.0.clamp(1, hi)..=hi);
                    (t.user, split_points(&all, context, false))
                })
                .collect(),
        )
    }

    /// `[B, items]`, row-major: 1 where the task's predicted (query) points hold an item the
    /// user liked (`y >= liked_from`), the catalog objective's targets.
    pub fn liked_queries(&self, items: usize, liked_from: f32) -> Vec<f32> {
        let mut liked = vec![0.0; self.b * items];
        for (t, task) in self.liked_items(liked_from).iter().enumerate() {
            for &j in task {
                liked[t * items + j as usize] = 1.0;
            }
        }
        liked
    }

    /// Each task's predicted (query) items that the user liked (`y >= liked_from`).
    pub fn liked_items(&self, liked_from: f32) -> Vec<Vec<u32>> {
        (0..self.b)
            .map(|t| {
                (t * self.n..(t + 1) * self.n)
                    .filter(|&j| self.predict[j] > 0.0 && self.y[j] >= liked_from)
                    .map(|j| self.items[j])
                    .collect()
            })
            .collect()
    }

    /// The tensors of this batch. `unknown_user(task, field)` hides a user field (feature
    /// dropout during training, or a visitor who gave no demographics).
    pub fn to_tensors(
        &self,
        users: &FeatureTable,
        items: &FeatureTable,
        unknown_user: impl Fn(usize, usize) -> bool,
        device: &Device,
    ) -> TensorBatch {
        let mask = |v: &[f32]| {
            Tensor::<2>::from_data(TensorData::new(v.to_vec(), [self.b, self.n]), device)
        };
        TensorBatch {
            users: FieldInput::for_entities(users, &self.users, unknown_user, device),
            items: FieldInput::for_entities(items, &self.items, |_, _| false, device),
            y: mask(&self.y),
            support: mask(&self.support),
            target: mask(&self.target),
            predict: mask(&self.predict),
        }
    }
}

/// Standard normal noise for the reparameterisation trick, drawn from the caller's seeded RNG
/// (Box-Muller) so that runs repeat exactly on every backend.
pub fn normal_noise(rows: usize, cols: usize, rng: &mut impl Rng, device: &Device) -> Tensor<2> {
    let mut v = Vec::with_capacity(rows * cols);
    while v.len() < rows * cols {
        let u1: f32 = rng.random::<f32>().max(f32::MIN_POSITIVE);
        let u2: f32 = rng.random();
        let r = (-2.0 * u1.ln()).sqrt();
        let th = std::f32::consts::TAU * u2;
        v.push(r * th.cos());
        v.push(r * th.sin());
    }
    v.truncate(rows * cols);
    Tensor::from_data(TensorData::new(v, [rows, cols]), device)
}

//! Evaluation of a model on test tasks: scores for each query item, then both metric families.

use burn::tensor::{Device, Tensor};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde::{Deserialize, Serialize};

use crate::batch::{HostBatch, normal_noise};
use crate::config::{Feedback, ModelConfig};
use crate::data::Dataset;
use crate::features::FeatureTable;
use crate::metrics::{Definition, MetricTable};
use crate::model::{Tanp, TensorBatch};
use crate::task::Task;

/// How z is chosen at test time.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "kebab-case")]
pub enum ZMode {
    /// The mean of q(z | S_i) (our default: deterministic).
    Mean,
    /// One sample from q(z | S_i) (the paper's text and the official code).
    Sample,
}

/// The model's scores for one test user's query items, with the true labels.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Ranking {
    pub user: u32,
    pub items: Vec<u32>,
    pub truth: Vec<f32>,
    pub scores: Vec<f32>,
}

/// Both metric families for a set of rankings.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Metrics {
    pub paper: MetricTable,
    pub standard: MetricTable,
    /// Label threshold of the standard definition's binary relevance.
    pub relevance_threshold: f32,
}

impl Metrics {
    /// Both metric families as a results file holds them, each with its definition.
    pub fn to_json(&self) -> serde_json::Value {
        let family = |t: &MetricTable| {
            let mut o = serde_json::Map::new();
            for a in &t.at {
                o.insert(format!("P@{}", a.n), serde_json::json!(a.precision));
                o.insert(format!("NDCG@{}", a.n), serde_json::json!(a.ndcg));
                o.insert(format!("MAP@{}", a.n), serde_json::json!(a.map));
            }
            serde_json::Value::Object(o)
        };
        serde_json::json!({
            "paper": family(&self.paper),
            "standard": family(&self.standard),
            "definitions": {
                "paper": "official TaNP scorer.py: value-matching hits (negatives can count), AP divided by N, NDCG gain 2^y-1",
                "standard": format!("binary relevance (label >= {}), AP normalised by min(N, relevant), NDCG gain 1", self.relevance_threshold),
            },
            "test_users": self.paper.users,
        })
    }

    /// Both metric families as a table for a terminal.
    pub fn table(&self) -> String {
        let mut out = String::new();
        for t in [&self.paper, &self.standard] {
            let name = match t.definition {
                Definition::Paper => "paper",
                Definition::Standard => "standard",
            };
            let row: Vec<String> = t.row().iter().map(|v| format!("{v:.4}")).collect();
            out.push_str(&format!(
                "{name:>8} | {} | users {}\n",
                row.join(" "),
                t.users
            ));
        }
        out.push_str(
            "           P@5    NDCG@5 MAP@5  P@7    NDCG@7 MAP@7  P@10   NDCG@10 MAP@10\n",
        );
        out
    }

    pub fn from_rankings(rankings: &[Ranking], feedback: Feedback) -> Self {
        let threshold = feedback.liked_from();
        let pairs = || rankings.iter().map(|r| (&r.scores[..], &r.truth[..]));
        Metrics {
            paper: MetricTable::compute(Definition::Paper, threshold, pairs()),
            standard: MetricTable::compute(Definition::Standard, threshold, pairs()),
            relevance_threshold: threshold,
        }
    }

    /// The score used for model selection: the mean of the nine paper-definition metrics.
    pub fn selection_score(&self) -> f64 {
        let row = self.paper.row();
        row.iter().sum::<f64>() / row.len().max(1) as f64
    }
}

/// The support-set ablation: task `i` keeps its user and query set but gets the support set of
/// task `(i + 1) mod n`, another user's. A model that adapts to the support set loses accuracy
/// on these tasks; a model whose scores ignore the support set scores exactly as before.
pub fn swap_supports(tasks: &[Task]) -> Vec<Task> {
    let n = tasks.len();
    (0..n)
        .map(|i| Task {
            support: tasks[(i + 1) % n].support.clone(),
            ..tasks[i].clone()
        })
        .collect()
}

/// Scores every query item of every task (support as context, as at test time).
#[allow(clippy::too_many_arguments)]
pub fn rank_tasks(
    model: &Tanp,
    tasks: &[Task],
    users: &FeatureTable,
    items: &FeatureTable,
    z: ZMode,
    batch_size: usize,
    z_dim: usize,
    rng: &mut impl Rng,
    device: &Device,
) -> Vec<Ranking> {
    rank_with(tasks, users, items, batch_size, device, |batch| {
        let [b, _] = batch.y.dims();
        let eps = match z {
            ZMode::Mean => None,
            ZMode::Sample => Some(normal_noise(b, z_dim, rng, device)),
        };
        model.predict(batch, eps).0
    })
}

/// Scores every query item of every task with `score`, which maps a test-time batch (support
/// points as context, query points predicted) to one score per point, `[B, N]`.
pub fn rank_with(
    tasks: &[Task],
    users: &FeatureTable,
    items: &FeatureTable,
    batch_size: usize,
    device: &Device,
    mut score: impl FnMut(&TensorBatch) -> Tensor<2>,
) -> Vec<Ranking> {
    let mut out = Vec::with_capacity(tasks.len());
    for chunk in tasks.chunks(batch_size.max(1)) {
        let refs: Vec<&Task> = chunk.iter().collect();
        let host = HostBatch::evaluation(&refs);
        let batch = host.to_tensors(users, items, |_, _| false, device);
        let scores: Vec<f32> = score(&batch).into_data().try_to_vec().expect("f32 scores");
        for (i, task) in chunk.iter().enumerate() {
            let start = i * host.n + task.support.len();
            out.push(Ranking {
                user: task.user,
                items: task.query.iter().map(|x| x.item).collect(),
                truth: task.query.iter().map(|x| x.y).collect(),
                scores: scores[start..start + task.query.len()].to_vec(),
            });
        }
    }
    out
}

/// The test metrics of `model` on `tasks` of `data` (z as `z` says; with `hide_users`, every
/// user field given as "unknown", as a visitor gives none), and the rankings they come from.
/// A fixed seed makes a sampled z repeatable.
pub fn evaluate(
    model: &Tanp,
    config: &ModelConfig,
    data: &Dataset,
    tasks: &[Task],
    z: ZMode,
    hide_users: bool,
) -> (Vec<Ranking>, Metrics) {
    let mut users = data.users.clone();
    if hide_users {
        for f in users.fields.iter_mut() {
            let vocab = f.vocab;
            let n = f.len();
            *f = crate::features::Field::new(f.name.clone(), vocab);
            for _ in 0..n {
                f.push(&[0]).expect("0 is in every vocabulary");
            }
        }
    }
    let mut rng = StdRng::seed_from_u64(7);
    let rankings = rank_tasks(
        model,
        tasks,
        &users,
        &data.items,
        z,
        64,
        config.z_dim,
        &mut rng,
        &Device::flex(),
    );
    let metrics = Metrics::from_rankings(&rankings, data.feedback);
    (rankings, metrics)
}

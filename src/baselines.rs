//! The paper's comparison points, in the same harness and on the same tasks as TaNP (native
//! only): a popularity ranker and MeLU (Lee et al., KDD 2019) trained by first-order MAML.
//!
//! Both produce [`Ranking`]s of the test tasks' query items, so they are scored by the very
//! metric code (both definitions) that scores TaNP.

use std::time::Instant;

use burn::module::{Module, Param};
use burn::nn::{Linear, LinearConfig};
use burn::optim::AdamConfig;
use burn::tensor::activation::{relu, sigmoid};
use burn::tensor::{Device, Tensor};
use serde::{Deserialize, Serialize};

use crate::batch::{HostBatch, Resplit};
use crate::config::{Feedback, Fidelity, ModelConfig};
use crate::data::{Dataset, Episodes};
use crate::error::{Result, TanpError};
use crate::eval::{Metrics, Ranking, rank_with};
use crate::fit::{epoch_bar, epoch_order, fit_epoch};
use crate::model::embedding::SideEmbedding;
use crate::model::loss::prediction_loss;
use crate::model::{Tanp, TensorBatch, TrainStep};
use crate::negatives::Negatives;
use crate::task::{Interaction, Task};
use crate::train::negative_sampler;

/// Ranks every query item by how often training users liked it: the number of positive
/// interactions (rating >= 4 on explicit data, label 1 on implicit data) in all training
/// tasks, ties broken by the number of interactions. The same ranking for every user.
pub fn popularity(data: &Dataset, episodes: &Episodes, tasks: &[Task]) -> Vec<Ranking> {
    let threshold = data.feedback.liked_from();
    let mut liked = vec![0f64; data.items.len()];
    let mut seen = vec![0f64; data.items.len()];
    for task in &episodes.train {
        for x in task.interactions() {
            seen[x.item as usize] += 1.0;
            if x.y >= threshold {
                liked[x.item as usize] += 1.0;
            }
        }
    }
    tasks
        .iter()
        .map(|t| {
            query_ranking(t, |x| {
                (liked[x.item as usize] + seen[x.item as usize] * 1e-6) as f32
            })
        })
        .collect()
}

/// A task's query items ranked by `score`.
fn query_ranking(task: &Task, score: impl FnMut(&Interaction) -> f32) -> Ranking {
    Ranking {
        user: task.user,
        items: task.query.iter().map(|x| x.item).collect(),
        truth: task.query.iter().map(|x| x.y).collect(),
        scores: task.query.iter().map(score).collect(),
    }
}

/// Ranks every query item at random (seeded): what each metric gives a ranking that knows
/// nothing, under the protocol's query sizes and rating mix.
pub fn random(tasks: &[Task], seed: u64) -> Vec<Ranking> {
    use rand::{Rng, SeedableRng};
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    tasks
        .iter()
        .map(|t| query_ranking(t, |_| rng.random::<f32>()))
        .collect()
}

/// MeLU's settings. Local updates adapt the decision layers to each task's support set with
/// plain gradient steps; the global update (Adam) uses the first-order MAML gradient of the
/// query loss at the adapted weights.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MeluConfig {
    pub hidden: Vec<usize>,
    pub local_steps: usize,
    pub local_lr: f64,
    pub epochs: usize,
    pub batch_size: usize,
    pub lr: f64,
    pub seed: u64,
    pub n_s: usize,
    /// Training negatives, as for TaNP ([`crate::train::TrainConfig::negatives`]).
    #[serde(default)]
    pub negatives: Negatives,
}

impl Default for MeluConfig {
    fn default() -> Self {
        MeluConfig {
            hidden: vec![64, 64],
            local_steps: 1,
            local_lr: 5e-4,
            epochs: 40,
            batch_size: 32,
            lr: 1e-3,
            seed: 2020,
            n_s: 20,
            negatives: Negatives::Resample,
        }
    }
}

/// MeLU: the user and item embeddings TaNP uses (Eq. 5/6) and a fully connected decision
/// network on `[u | v]` whose weights are personalised by local updates.
#[derive(Module, Debug)]
pub struct Melu {
    user_embedding: SideEmbedding,
    item_embedding: SideEmbedding,
    layers: Vec<Linear>,
    implicit: bool,
}

/// One weight matrix and bias per layer, for every task of a batch: `[B, in, out]`, `[B, 1, out]`.
type TaskWeights = Vec<(Tensor<3>, Tensor<3>)>;

impl Melu {
    pub fn new(model: &ModelConfig, config: &MeluConfig, device: &Device) -> Self {
        let user_embedding = SideEmbedding::new(&model.user, Fidelity::Paper, device);
        let item_embedding = SideEmbedding::new(&model.item, Fidelity::Paper, device);
        let mut widths = vec![model.user.out_dim() + model.item.out_dim()];
        widths.extend(&config.hidden);
        widths.push(1);
        let layers = widths
            .windows(2)
            .map(|w| LinearConfig::new(w[0], w[1]).init(device))
            .collect();
        Melu {
            user_embedding,
            item_embedding,
            layers,
            implicit: model.feedback == Feedback::Implicit,
        }
    }

    fn feedback(&self) -> Feedback {
        if self.implicit {
            Feedback::Implicit
        } else {
            Feedback::Explicit
        }
    }

    /// `[u_i | v_j]` for every point of the batch, `[B, N, x_dim]`.
    fn inputs(&self, batch: &TensorBatch) -> Tensor<3> {
        let [b, n] = batch.y.dims();
        let u = self.user_embedding.forward(&batch.users);
        let v = self.item_embedding.forward(&batch.items);
        let [_, dv] = v.dims();
        Tanp::join(u, v.reshape([b, n, dv]))
    }

    /// The global decision weights repeated for `b` tasks (tracked: gradients reach them).
    fn global_weights(&self, b: usize) -> TaskWeights {
        self.layers
            .iter()
            .map(|l| {
                let w = l.weight.val();
                let [i, o] = w.dims();
                let bias = l
                    .bias
                    .as_ref()
                    .map(Param::val)
                    .expect("MeLU layers have biases");
                (
                    w.unsqueeze_dim::<3>(0).expand([b, i, o]),
                    bias.reshape([1, 1, o]).expand([b, 1, o]),
                )
            })
            .collect()
    }

    /// Raw outputs (ratings or logits) `[B, N]` of the decision network with per-task weights.
    fn decide(x: Tensor<3>, weights: &TaskWeights) -> Tensor<2> {
        let last = weights.len() - 1;
        let mut h = x;
        for (i, (w, b)) in weights.iter().enumerate() {
            h = h.matmul(w.clone()) + b.clone();
            if i < last {
                h = relu(h);
            }
        }
        h.squeeze_dim::<2>(2)
    }

    /// Local updates: `local_steps` gradient steps on each task's support loss, starting from
    /// the global weights. Returns the (untracked) change of every weight, per task.
    fn local_update(&self, x: Tensor<3>, batch: &TensorBatch, config: &MeluConfig) -> TaskWeights {
        let [b, _] = batch.y.dims();
        let base: TaskWeights = self
            .global_weights(b)
            .into_iter()
            .map(|(w, bias)| (w.detach(), bias.detach()))
            .collect();
        let mut delta: TaskWeights = base
            .iter()
            .map(|(w, bias)| (w.zeros_like(), bias.zeros_like()))
            .collect();
        let x = x.detach();
        for _ in 0..config.local_steps {
            let weights: TaskWeights = base
                .iter()
                .zip(&delta)
                .map(|((w, bias), (dw, db))| {
                    (
                        (w.clone() + dw.clone()).require_grad(),
                        (bias.clone() + db.clone()).require_grad(),
                    )
                })
                .collect();
            let out = Self::decide(x.clone(), &weights);
            // Summed over tasks: each task's weights get the gradient of its own mean loss.
            let loss = prediction_loss(
                out,
                batch.y.clone(),
                batch.support.clone(),
                self.feedback(),
                Fidelity::Paper,
            )
            .sum();
            let grads = loss.backward();
            for ((w, bias), (dw, db)) in weights.iter().zip(delta.iter_mut()) {
                if let (Some(gw), Some(gb)) = (w.grad(&grads), bias.grad(&grads)) {
                    *dw = dw.clone() - gw * config.local_lr;
                    *db = db.clone() - gb * config.local_lr;
                }
            }
        }
        delta
    }

    /// The adapted weights: global weights plus each task's local change.
    fn adapted(&self, b: usize, delta: &TaskWeights) -> TaskWeights {
        self.global_weights(b)
            .into_iter()
            .zip(delta)
            .map(|((w, bias), (dw, db))| (w + dw.clone(), bias + db.clone()))
            .collect()
    }

    /// The first-order MAML loss of a batch: the query loss at the locally adapted weights,
    /// averaged over tasks. Its gradient reaches the embeddings and the global weights.
    pub fn meta_loss(&self, batch: &TensorBatch, config: &MeluConfig) -> Tensor<1> {
        let [b, _] = batch.y.dims();
        let x = self.inputs(batch);
        let delta = self.local_update(x.clone(), batch, config);
        let out = Self::decide(x, &self.adapted(b, &delta));
        prediction_loss(
            out,
            batch.y.clone(),
            batch.predict.clone(),
            self.feedback(),
            Fidelity::Paper,
        )
        .mean()
    }

    /// Scores of every point after adapting to the support points (test time), `[B, N]`.
    pub fn predict(&self, batch: &TensorBatch, config: &MeluConfig) -> Tensor<2> {
        let [b, _] = batch.y.dims();
        let x = self.inputs(batch).detach();
        let delta = self.local_update(x.clone(), batch, config);
        let weights: TaskWeights = self
            .adapted(b, &delta)
            .into_iter()
            .map(|(w, bias)| (w.detach(), bias.detach()))
            .collect();
        let out = Self::decide(x, &weights);
        if self.implicit { sigmoid(out) } else { out }
    }
}

/// Scores every query item of every task after MeLU's local update on its support set.
pub fn melu_rankings(
    model: &Melu,
    config: &MeluConfig,
    data: &Dataset,
    tasks: &[Task],
    device: &Device,
) -> Vec<Ranking> {
    rank_with(tasks, &data.users, &data.items, 64, device, |batch| {
        model.predict(batch, config)
    })
}

/// What a MeLU training run produced.
pub struct MeluRun {
    pub model: Melu,
    pub best_epoch: usize,
    pub device: Device,
}

/// Meta-trains MeLU on the training tasks (each re-split at random on every visit, as TaNP's
/// training does) and keeps the epoch with the best validation score (the mean of the nine
/// paper-definition metrics, as for TaNP).
pub fn train_melu(
    data: &Dataset,
    episodes: &Episodes,
    model_config: &ModelConfig,
    config: &MeluConfig,
    quiet: bool,
) -> Result<MeluRun> {
    if episodes.train.is_empty() || config.batch_size == 0 || config.epochs == 0 {
        return Err(TanpError::Config(
            "MeLU training needs tasks, a batch size and epochs of at least 1".into(),
        ));
    }
    let device = Device::flex().autodiff();
    device.seed(config.seed);
    let mut model = Melu::new(model_config, config, &device);
    let mut optim = AdamConfig::new().with_epsilon(1e-8).init();
    let batches = episodes.train.len().div_ceil(config.batch_size);
    let bar = epoch_bar((config.epochs * batches) as u64, quiet, "MeLU epoch");
    let mut best: Option<(f64, usize, Melu)> = None;
    let sampler = negative_sampler(config.negatives, data, &episodes.train);
    let resplit = Resplit::Paper { n_s: config.n_s };
    for epoch in 0..config.epochs {
        let started = Instant::now();
        let (mut rng, order) = epoch_order(&episodes.train, config.seed, epoch);
        let (next, sums) = fit_epoch(
            model,
            &mut optim,
            config.lr,
            order.chunks(config.batch_size),
            (&bar, "MeLU", epoch),
            |model, chunk| {
                let host = HostBatch::training(chunk, resplit, sampler.as_ref(), &mut rng);
                let batch = host.to_tensors(&data.users, &data.items, |_, _| false, &device);
                let loss = model.meta_loss(&batch, config);
                TrainStep {
                    prediction: loss.clone(),
                    kl: loss.zeros_like(),
                    loss,
                    clustering: None,
                }
            },
        )?;
        model = next;
        let sum = sums.loss;
        let score = if episodes.valid.is_empty() {
            -sum
        } else {
            let rankings = melu_rankings(&model, config, data, &episodes.valid, &device);
            Metrics::from_rankings(&rankings, data.feedback).selection_score()
        };
        if best.as_ref().is_none_or(|b| score > b.0) {
            best = Some((score, epoch + 1, model.clone()));
        }
        bar.set_message(format!(
            "{}/{} loss {:.4} valid {:.4} ({:.1} s)",
            epoch + 1,
            config.epochs,
            sum / batches as f64,
            score,
            started.elapsed().as_secs_f64()
        ));
    }
    bar.finish();
    let (_, best_epoch, model) = best.expect("at least one epoch");
    Ok(MeluRun {
        model,
        best_epoch,
        device,
    })
}

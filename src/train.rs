//! Training (Algorithm 1): Adam over batches of tasks, each task re-split on every visit,
//! model selection on the validation tasks, checkpoints that let an interrupted run resume,
//! and a seed that makes a run repeatable.

use std::path::Path;
use std::time::Instant;

use burn::module::Module;
use burn::optim::{AdamConfig, AdamWConfig, ModuleOptimizer};
use burn::tensor::{Device, Tensor, TensorData};
use rand::rngs::StdRng;

use crate::batch::{HostBatch, Resplit, normal_noise};
use crate::catalog::sampled::SampledSoftmax;
use crate::checkpoint::{EpochCheckpoint, load_checkpoint, write_epoch};
pub use crate::checkpoint::{
    EpochLog, RunDir, TrainState, Weights, load_model, load_run_weights, read_state, save_model,
};
use crate::config::{Feedback, Fidelity, ModelConfig, Objective};
use crate::data::spec::DataSpec;
use crate::data::{Dataset, Episodes};
use crate::error::{Result, TanpError};
use crate::eval::{Metrics, ZMode, rank_tasks};
use crate::fit::fit_epoch;
pub use crate::fit::{epoch_bar, epoch_order};
use crate::model::embedding::FieldInput;
use crate::model::{Tanp, TrainStep};
use crate::negatives::{NegativeSampler, Negatives};
pub use crate::recipe::{PoolInit, TrainConfig};
use crate::task::{Interaction, Task};
use serde::{Deserialize, Serialize};

/// The sampler that `negatives` asks for on `data`: `None` for fixed negatives and for
/// explicit ratings (they have no negatives). A user's positives are those of their history
/// and of the given tasks.
pub fn negative_sampler(
    negatives: Negatives,
    data: &Dataset,
    tasks: &[Task],
) -> Option<NegativeSampler> {
    if negatives == Negatives::Fixed || data.feedback == Feedback::Explicit {
        return None;
    }
    let liked_from = data.feedback.liked_from();
    let liked = |x: &Interaction| x.y >= liked_from;
    let histories = data.histories.iter().enumerate().flat_map(|(u, h)| {
        h.iter()
            .filter(|x| liked(x))
            .map(move |x| (u as u32, x.item))
    });
    let tasks = tasks
        .iter()
        .flat_map(|t| t.interactions().filter(liked).map(|x| (t.user, x.item)));
    Some(NegativeSampler::new(
        data.items.len(),
        histories.chain(tasks),
    ))
}

/// Trains on `episodes.train`, selects on `episodes.valid`, writes checkpoints to `out` (and
/// resumes from them when `out` holds a run with the same configuration and data).
/// Returns the best model (by validation score) and the final state.
pub fn train(
    data: &Dataset,
    episodes: &Episodes,
    model_config: &ModelConfig,
    config: &TrainConfig,
    out: &Path,
    quiet: bool,
) -> Result<(Tanp, TrainState)> {
    model_config.validate()?;
    if episodes.train.is_empty() || config.batch_size == 0 {
        return Err(TanpError::Config(
            "training needs tasks and a batch size of at least 1".into(),
        ));
    }
    std::fs::create_dir_all(out).map_err(|e| TanpError::io(out, e))?;
    let dir = RunDir(out.to_path_buf());
    dir.clean()?;
    let device = Device::flex().autodiff();
    device.seed(config.seed);
    let (mut model, mut optim, mut state) =
        start_or_resume(&dir, data, model_config, config, &device, quiet)?;
    let run = Run::new(data, episodes, model_config, config, &device);
    if let (Some(sampled), false) = (&run.sampled, quiet) {
        eprintln!(
            "catalog objective: sampled softmax over {} of {} items per batch (logQ-corrected; \
             --catalog-softmax full for every item)",
            sampled.samples(),
            data.items.len()
        );
    }
    let per_epoch = run.batches_per_epoch();
    let bar = epoch_bar((config.epochs * per_epoch) as u64, quiet, "epoch");
    bar.set_position((state.epoch * per_epoch) as u64);
    for epoch in state.epoch..config.epochs {
        let started = Instant::now();
        let (mut rng, order) = epoch_order(run.tasks(), config.seed, epoch);
        let batches = order.chunks(config.batch_size).take(per_epoch);
        let (next, sums) = fit_epoch(
            model,
            &mut optim,
            config.lr_at(epoch),
            batches,
            (&bar, "TaNP", epoch),
            |model, chunk| run.step(model, chunk, &mut rng),
        )?;
        model = next;
        if epoch == 0 && config.pool_init == PoolInit::Kmeans {
            model = run.kmeans_pool(model, &mut rng, quiet);
        }
        let valid_model = model.valid();
        let valid_score = run.valid_score(&valid_model, sums.mean(sums.loss), &mut rng)?;
        let improved = state.record(epoch, &sums, valid_score, started.elapsed().as_secs_f64());
        write_epoch(
            &dir,
            EpochCheckpoint {
                state: &state,
                model: &model,
                new_best: improved.then_some(&valid_model),
                save_optimizer: &|path| {
                    optim
                        .save(path)
                        .map_err(|e| TanpError::Model(format!("cannot save optimizer state: {e}")))
                },
            },
        )?;
        bar.set_message(format!(
            "{}/{} loss {:.4} valid {:.4} (best {:.4} @ {})",
            epoch + 1,
            config.epochs,
            sums.mean(sums.loss),
            valid_score,
            state.best_score,
            state.best_epoch.unwrap_or(0)
        ));
    }
    bar.finish();
    let best = load_model(model_config, &dir.best(), &device.clone().inner())?;
    Ok((best, state))
}

/// A fresh model, optimiser and state, or those of the run in `dir` when it holds one with the
/// same configuration and data. A state that exists but cannot be read stops the run: starting
/// afresh would overwrite it.
fn start_or_resume(
    dir: &RunDir,
    data: &Dataset,
    model_config: &ModelConfig,
    config: &TrainConfig,
    device: &Device,
    quiet: bool,
) -> Result<(Tanp, ModuleOptimizer, TrainState)> {
    let adam = || {
        if config.weight_decay > 0.0 {
            AdamWConfig::new()
                .with_epsilon(1e-8)
                .with_weight_decay(config.weight_decay as f32)
                .init()
        } else {
            AdamConfig::new().with_epsilon(1e-8).init()
        }
    };
    if !dir.has_state() {
        let fresh = TrainState {
            model: model_config.clone(),
            train: config.clone(),
            dataset: data.name.clone(),
            epoch: 0,
            best_epoch: None,
            best_score: f64::NEG_INFINITY,
            log: Vec::new(),
        };
        return Ok((Tanp::new(model_config, device), adam(), fresh));
    }
    let state = read_state(&dir.0)?;
    if state.model != *model_config || state.train != *config || state.dataset != data.name {
        return Err(TanpError::Config(format!(
            "{} holds a run with another configuration; choose another --out",
            dir.0.display()
        )));
    }
    let model = load_checkpoint(model_config, &dir.last(), device)?;
    let optim = adam()
        .load(dir.optimizer())
        .map_err(|e| TanpError::Model(format!("optimizer state: {e}")))?;
    if !quiet {
        eprintln!("resuming {} after epoch {}", dir.0.display(), state.epoch);
    }
    Ok((model, optim, state))
}

/// What every epoch of a run needs: the data, the tasks it visits and how it turns them into
/// batches.
struct Run<'a> {
    data: &'a Dataset,
    episodes: &'a Episodes,
    model_config: &'a ModelConfig,
    config: &'a TrainConfig,
    /// The users' own interactions, when the objective learns from them instead of the tasks.
    own: Vec<Task>,
    resplit: Resplit,
    sampler: Option<NegativeSampler>,
    /// The catalog objective's full softmax scores every item in every batch.
    all_items: Option<Vec<FieldInput>>,
    /// Or its sampled softmax draws candidates for each batch.
    sampled: Option<SampledSoftmax>,
    device: Device,
}

impl<'a> Run<'a> {
    fn new(
        data: &'a Dataset,
        episodes: &'a Episodes,
        model_config: &'a ModelConfig,
        config: &'a TrainConfig,
        device: &Device,
    ) -> Self {
        let catalog = model_config.objective == Objective::Catalog;
        let samples = catalog
            .then(|| config.catalog_softmax.samples(data.items.len()))
            .flatten();
        let all_items = (catalog && samples.is_none()).then(|| {
            let all: Vec<u32> = (0..data.items.len() as u32).collect();
            FieldInput::for_entities(&data.items, &all, |_, _| false, device)
        });
        // The catalog objective learns from the users' own interactions (on implicit data,
        // their positives; the tasks' negatives are not the users' data).
        let own = if catalog && data.feedback == Feedback::Implicit {
            episodes
                .train
                .iter()
                .map(|t| Task {
                    user: t.user,
                    support: crate::catalog::own_interactions(t, data.feedback),
                    query: Vec::new(),
                })
                .collect()
        } else {
            Vec::new()
        };
        // The proposal: how many training users rated (on implicit data: liked) each item.
        let sampled = samples.map(|n| {
            let counts =
                crate::catalog::training_counts(data.items.len(), &episodes.train, data.feedback);
            SampledSoftmax::new(&counts, n)
        });
        Run {
            data,
            episodes,
            model_config,
            config,
            own,
            resplit: match model_config.fidelity {
                Fidelity::Paper => Resplit::Paper { n_s: config.n_s },
                Fidelity::OfficialCode => Resplit::OfficialCode {
                    context_min: config.context_min,
                },
            },
            sampler: negative_sampler(config.negatives, data, &episodes.train),
            all_items,
            sampled,
            device: device.clone(),
        }
    }

    /// The training tasks as the objective sees them.
    fn tasks(&self) -> &[Task] {
        if self.own.is_empty() {
            &self.episodes.train
        } else {
            &self.own
        }
    }

    fn batches_per_epoch(&self) -> usize {
        let tasks = self.tasks().len();
        if self.config.drop_last {
            (tasks / self.config.batch_size).max(1)
        } else {
            tasks.div_ceil(self.config.batch_size)
        }
    }

    /// One batch of training tasks, each re-split as the objective wants.
    fn host_batch(&self, chunk: &[&Task], rng: &mut StdRng) -> HostBatch {
        match self.model_config.objective {
            Objective::Rating => {
                HostBatch::training(chunk, self.resplit, self.sampler.as_ref(), rng)
            }
            Objective::Catalog => {
                HostBatch::catalog_training(chunk, (self.config.support_min, self.config.n_s), rng)
            }
        }
    }

    /// The losses of `model` on one batch of training tasks (Algorithm 1, or the catalog
    /// objective), each task re-split and its user fields hidden at random.
    fn step(&self, model: &Tanp, chunk: &[&Task], rng: &mut StdRng) -> TrainStep {
        let (data, config) = (self.data, self.config);
        let host = self.host_batch(chunk, rng);
        let n_fields = data.users.fields.len();
        let dropout: Vec<bool> = (0..chunk.len() * n_fields)
            .map(|_| {
                config.user_feature_dropout > 0.0
                    && rand::Rng::random_bool(rng, config.user_feature_dropout)
            })
            .collect();
        let device = &self.device;
        let batch = host.to_tensors(
            &data.users,
            &data.items,
            |t, f| dropout[t * n_fields + f],
            device,
        );
        let eps = normal_noise(chunk.len(), self.model_config.z_dim, rng, device);
        let liked_from = data.feedback.liked_from();
        let matrix = |v: Vec<f32>, m: usize| {
            Tensor::<2>::from_data(TensorData::new(v, [chunk.len(), m]), device)
        };
        match (&self.all_items, &self.sampled) {
            (Some(all_items), _) => {
                let m = data.items.len();
                let liked = matrix(host.liked_queries(m, liked_from), m);
                model.catalog_train_step(&batch, config.catalog_z, eps, all_items, liked, None)
            }
            (None, Some(sampled)) => {
                let c = sampled.draw(&host.liked_items(liked_from), rng);
                let m = c.items.len();
                let items = FieldInput::for_entities(&data.items, &c.items, |_, _| false, device);
                let (liked, correction) = (matrix(c.liked, m), matrix(c.correction, m));
                model.catalog_train_step(
                    &batch,
                    config.catalog_z,
                    eps,
                    &items,
                    liked,
                    Some(correction),
                )
            }
            (None, None) => model.train_step(&batch, eps),
        }
    }

    /// `model` with its global pool A at the centroids of k-means over the task embeddings t_i
    /// of every training task (a support set drawn as in training), DEC's start
    /// ([`PoolInit::Kmeans`]).
    fn kmeans_pool(&self, model: Tanp, rng: &mut StdRng, quiet: bool) -> Tanp {
        let Some(k) = model
            .customization
            .as_ref()
            .map(|m| m.global_pool.dims()[0])
        else {
            return model;
        };
        let (valid, inner) = (model.valid(), self.device.clone().inner());
        let hide_users = self.config.hides_user_fields();
        let mut points = Vec::new();
        let tasks: Vec<&Task> = self.tasks().iter().collect();
        for chunk in tasks.chunks(256) {
            let host = self.host_batch(chunk, rng);
            let batch = host.to_tensors(
                &self.data.users,
                &self.data.items,
                |_, _| hide_users,
                &inner,
            );
            if let Some(t) = valid.task_embeddings(&batch) {
                points.extend(t.into_data().try_to_vec::<f32>().unwrap_or_default());
            }
        }
        let dim = points.len() / tasks.len().max(1);
        let centroids = crate::model::customization::kmeans(&points, dim, k, 25, rng);
        if !quiet {
            eprintln!(
                "global pool A: k-means over the t_i of {} tasks",
                tasks.len()
            );
        }
        model.with_pool(&centroids)
    }

    /// The model-selection score of an epoch: the catalog objective's validation NDCG@10, the
    /// mean of the nine paper metrics on the validation tasks, or (without validation tasks)
    /// minus the mean training loss.
    fn valid_score(&self, model: &Tanp, mean_loss: f64, rng: &mut StdRng) -> Result<f64> {
        let (data, episodes, inner) = (self.data, self.episodes, self.device.clone().inner());
        if episodes.valid.is_empty() {
            return Ok(-mean_loss);
        }
        if self.model_config.objective == Objective::Catalog {
            return crate::catalog::catalog_valid_score(
                model,
                self.model_config,
                data,
                episodes,
                self.config.seed,
                &inner,
            );
        }
        let rankings = rank_tasks(
            model,
            &episodes.valid,
            &data.users,
            &data.items,
            self.config.z_mode,
            64,
            self.model_config.z_dim,
            rng,
            &inner,
        );
        Ok(Metrics::from_rankings(&rankings, data.feedback).selection_score())
    }
}

/// How a run's data was made, stored next to its checkpoints.
#[derive(Serialize, Deserialize)]
pub struct RunInfo {
    pub data: DataSpec,
    pub command: Vec<String>,
}

/// A trained run from its directory `dir` (`run.json` and the checkpoints; the data read from
/// `data_dir`): what made it, its model configuration, the best (or with `last`, the last)
/// epoch's model, its data and tasks, and its test-time z.
pub fn load_run(
    dir: &Path,
    data_dir: &Path,
    last: bool,
) -> Result<(RunInfo, ModelConfig, Tanp, Dataset, Episodes, ZMode)> {
    let info_path = dir.join("run.json");
    let text = std::fs::read_to_string(&info_path).map_err(|e| TanpError::io(&info_path, e))?;
    let mut info: RunInfo = serde_json::from_str(&text).map_err(|e| {
        TanpError::Model(format!(
            "{}: not a run description: {e}",
            info_path.display()
        ))
    })?;
    info.data.data_dir = data_dir.to_path_buf();
    let state = read_state(dir)?;
    let (data, episodes) = info.data.load()?;
    let which = if last { Weights::Last } else { Weights::Best };
    let model = load_run_weights(&state.model, dir, which, &Device::flex())?;
    Ok((info, state.model, model, data, episodes, state.train.z_mode))
}

//! Training (Algorithm 1): Adam over batches of tasks, each task re-split on every visit,
//! model selection on the validation tasks, checkpoints that let an interrupted run resume,
//! and a seed that makes a run repeatable.

use std::path::Path;
use std::time::Instant;

use burn::module::Module;
use burn::optim::{AdamConfig, GradientsParams};
use burn::tensor::Device;
use indicatif::{ProgressBar, ProgressStyle};
use rand::SeedableRng;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;

use crate::batch::{HostBatch, Resplit, normal_noise};
use crate::checkpoint::{EpochCheckpoint, load_checkpoint, write_epoch};
pub use crate::checkpoint::{
    EpochLog, RunDir, TrainState, Weights, load_model, load_run_weights, read_state, save_model,
};
use crate::config::{Feedback, Fidelity, ModelConfig, Objective};
use crate::data::{Dataset, Episodes};
use crate::error::{Result, TanpError};
use crate::eval::{Metrics, rank_tasks};
use crate::model::Tanp;
use crate::model::embedding::FieldInput;
use crate::negatives::{NegativeSampler, Negatives};
pub use crate::recipe::TrainConfig;
use crate::task::{Interaction, Task};

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
/// resumes from them when `out` already holds a run with the same configuration).
/// Returns the best model (by validation score) and the final state.
/// The seeded RNG of one epoch and its shuffled task order. Each epoch has its own stream, so a
/// resumed run repeats an uninterrupted one.
pub fn epoch_order(tasks: &[Task], seed: u64, epoch: usize) -> (StdRng, Vec<&Task>) {
    let mut rng = StdRng::seed_from_u64(seed.wrapping_mul(1_000_003).wrapping_add(epoch as u64));
    let mut order: Vec<&Task> = tasks.iter().collect();
    order.shuffle(&mut rng);
    (rng, order)
}

/// The progress bar of a training run: `steps` batches, a message per epoch; hidden when quiet.
pub fn epoch_bar(steps: u64, quiet: bool, label: &str) -> ProgressBar {
    if quiet {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(steps);
    bar.set_style(
        ProgressStyle::with_template(&format!("{{elapsed_precise}} [{{bar:30}}] {label} {{msg}}"))
            .expect("valid template")
            .progress_chars("=> "),
    );
    bar
}

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

    let fresh = TrainState {
        model: model_config.clone(),
        train: config.clone(),
        dataset: data.name.clone(),
        epoch: 0,
        best_epoch: None,
        best_score: f64::NEG_INFINITY,
        log: Vec::new(),
    };
    // A state that exists but cannot be read stops the run: starting afresh would overwrite it.
    let resume = if dir.has_state() {
        Some(read_state(out)?)
    } else {
        None
    };
    let (mut model, mut optim, mut state) = match resume {
        Some(s) if s.model == *model_config && s.train == *config && s.dataset == data.name => {
            let model = load_checkpoint(model_config, &dir.last(), &device)?;
            let optim = AdamConfig::new()
                .with_epsilon(1e-8)
                .init()
                .load(dir.optimizer())
                .map_err(|e| TanpError::Model(format!("optimizer state: {e}")))?;
            if !quiet {
                eprintln!("resuming {} after epoch {}", out.display(), s.epoch);
            }
            (model, optim, s)
        }
        Some(_) => {
            return Err(TanpError::Config(format!(
                "{} holds a run with another configuration; choose another --out",
                out.display()
            )));
        }
        None => (
            Tanp::new(model_config, &device),
            AdamConfig::new().with_epsilon(1e-8).init(),
            fresh,
        ),
    };

    let resplit = match model_config.fidelity {
        Fidelity::Paper => Resplit::Paper { n_s: config.n_s },
        Fidelity::OfficialCode => Resplit::OfficialCode {
            context_min: config.context_min,
        },
    };
    let batches_per_epoch = if config.drop_last {
        (episodes.train.len() / config.batch_size).max(1)
    } else {
        episodes.train.len().div_ceil(config.batch_size)
    };
    let bar = epoch_bar((config.epochs * batches_per_epoch) as u64, quiet, "epoch");
    bar.set_position((state.epoch * batches_per_epoch) as u64);
    let n_fields = data.users.fields.len();
    let inner = device.clone().inner();
    let sampler = negative_sampler(config.negatives, data, &episodes.train);
    // The catalog objective scores every item in every batch.
    let all_items = (model_config.objective == Objective::Catalog).then(|| {
        let all: Vec<u32> = (0..data.items.len() as u32).collect();
        FieldInput::for_entities(&data.items, &all, |_, _| false, &device)
    });

    // The catalog objective learns from the users' own interactions (on implicit data, their
    // positives; the tasks' negatives are not the users' data).
    let own: Vec<Task>;
    let train_tasks = if all_items.is_some() && data.feedback == Feedback::Implicit {
        own = episodes
            .train
            .iter()
            .map(|t| Task {
                user: t.user,
                support: crate::catalog::own_interactions(t, data.feedback),
                query: Vec::new(),
            })
            .collect();
        &own[..]
    } else {
        &episodes.train[..]
    };
    for epoch in state.epoch..config.epochs {
        let started = Instant::now();
        let (mut rng, order) = epoch_order(train_tasks, config.seed, epoch);
        let (mut sum_loss, mut sum_pred, mut sum_kl, mut sum_cl) = (0.0, 0.0, 0.0, 0.0);
        for chunk in order.chunks(config.batch_size).take(batches_per_epoch) {
            let host = match model_config.objective {
                Objective::Rating => {
                    HostBatch::training(chunk, resplit, sampler.as_ref(), &mut rng)
                }
                Objective::Catalog => {
                    HostBatch::catalog_training(chunk, (config.support_min, config.n_s), &mut rng)
                }
            };
            let dropout: Vec<bool> = (0..chunk.len() * n_fields)
                .map(|_| {
                    config.user_feature_dropout > 0.0
                        && rand::Rng::random_bool(&mut rng, config.user_feature_dropout)
                })
                .collect();
            let batch = host.to_tensors(
                &data.users,
                &data.items,
                |t, f| dropout[t * n_fields + f],
                &device,
            );
            let eps = normal_noise(chunk.len(), model_config.z_dim, &mut rng, &device);
            let step = match &all_items {
                None => model.train_step(&batch, eps),
                Some(all_items) => {
                    let m = data.items.len();
                    let liked = host.liked_queries(m, data.feedback.liked_from());
                    let liked = burn::tensor::Tensor::<2>::from_data(
                        burn::tensor::TensorData::new(liked, [chunk.len(), m]),
                        &device,
                    );
                    model.catalog_train_step(&batch, config.catalog_z, eps, all_items, liked)
                }
            };
            let scalar = |t: burn::tensor::Tensor<1>| -> f64 { t.into_scalar::<f32>() as f64 };
            let loss_value = scalar(step.loss.clone().detach());
            if !loss_value.is_finite() {
                return Err(TanpError::Numeric(format!(
                    "training loss became {loss_value} at epoch {epoch}; lower the learning rate"
                )));
            }
            sum_loss += loss_value;
            sum_pred += scalar(step.prediction.detach());
            sum_kl += scalar(step.kl.detach());
            sum_cl += step.clustering.map_or(0.0, |c| scalar(c.detach()));
            let grads = GradientsParams::from_grads(step.loss.backward(), &model);
            model = optim.step(config.lr, model, grads);
            bar.inc(1);
        }
        let batches = batches_per_epoch as f64;
        let valid_model = model.valid();
        let valid_score = if episodes.valid.is_empty() {
            -(sum_loss / batches)
        } else if model_config.objective == Objective::Catalog {
            crate::catalog::catalog_valid_score(
                &valid_model,
                model_config,
                data,
                episodes,
                config.seed,
                &inner,
            )?
        } else {
            let rankings = rank_tasks(
                &valid_model,
                &episodes.valid,
                &data.users,
                &data.items,
                config.z_mode,
                64,
                model_config.z_dim,
                &mut rng,
                &inner,
            );
            Metrics::from_rankings(&rankings, data.feedback).selection_score()
        };
        state.log.push(EpochLog {
            epoch: epoch + 1,
            loss: sum_loss / batches,
            prediction_loss: sum_pred / batches,
            kl: sum_kl / batches,
            clustering: sum_cl / batches,
            valid_score,
            seconds: started.elapsed().as_secs_f64(),
        });
        let improved = valid_score > state.best_score;
        if improved {
            state.best_score = valid_score;
            state.best_epoch = Some(epoch + 1);
        }
        state.epoch = epoch + 1;
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
            sum_loss / batches,
            valid_score,
            state.best_score,
            state.best_epoch.unwrap_or(0)
        ));
    }
    bar.finish();
    let best = load_model(model_config, &dir.best(), &inner)?;
    Ok((best, state))
}

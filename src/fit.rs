//! The minibatch loop that TaNP ([`crate::train`]) and MeLU ([`crate::baselines`]) share: a
//! seeded task order per epoch, one Adam step per batch, a stop on a non-finite loss, and a
//! progress bar.

use burn::module::Module;
use burn::optim::{GradientsParams, ModuleOptimizer};
use indicatif::{ProgressBar, ProgressStyle};
use rand::SeedableRng;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;

use crate::error::{Result, TanpError};
use crate::model::TrainStep;
use crate::task::Task;

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

/// The losses of one epoch, summed over its batches.
#[derive(Clone, Debug, Default)]
pub struct EpochSums {
    pub loss: f64,
    pub prediction: f64,
    pub kl: f64,
    pub clustering: f64,
    pub batches: usize,
}

impl EpochSums {
    /// The mean of a sum over the epoch's batches.
    pub fn mean(&self, sum: f64) -> f64 {
        sum / self.batches.max(1) as f64
    }
}

/// One epoch: for each batch of tasks, `step` gives the losses of `model` on it; a non-finite
/// loss stops the run with an error naming `what` and the epoch; otherwise one optimiser step
/// at learning rate `lr`. Returns the updated model and the summed losses.
pub fn fit_epoch<'a, M: Module>(
    mut model: M,
    optim: &mut ModuleOptimizer,
    lr: f64,
    batches: impl Iterator<Item = &'a [&'a Task]>,
    progress: (&ProgressBar, &str, usize),
    mut step: impl FnMut(&M, &[&Task]) -> TrainStep,
) -> Result<(M, EpochSums)> {
    let (bar, what, epoch) = progress;
    let scalar = |t: burn::tensor::Tensor<1>| -> f64 { t.detach().into_scalar::<f32>() as f64 };
    let mut sums = EpochSums::default();
    for batch in batches {
        let losses = step(&model, batch);
        let loss = scalar(losses.loss.clone());
        if !loss.is_finite() {
            return Err(TanpError::Diverged {
                what: what.to_string(),
                loss,
                epoch,
            });
        }
        sums.loss += loss;
        sums.prediction += scalar(losses.prediction);
        sums.kl += scalar(losses.kl);
        sums.clustering += losses.clustering.map_or(0.0, scalar);
        sums.batches += 1;
        let grads = GradientsParams::from_grads(losses.loss.backward(), &model);
        model = optim.step(lr, model, grads);
        bar.inc(1);
    }
    Ok((model, sums))
}

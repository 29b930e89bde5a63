//! Mult-DAE (Liang et al., "Variational Autoencoders for Collaborative Filtering", WWW 2018),
//! the catalog baseline with a learned user representation: the user's items as a normalised
//! binary vector, one tanh hidden layer, a softmax over the catalog, trained with the
//! multinomial log-likelihood of the user's other liked items.
//!
//! Cold start in training as in the test: on every visit each training user gives a random
//! `input_min..=input_max` of their interactions (the liked ones form the input, as the paper's
//! denoising drops items), and the loss is the likelihood of their other liked items.

use burn::module::Module;
use burn::nn::{Linear, LinearConfig};
use burn::optim::{AdamConfig, GradientsParams};
use burn::tensor::activation::{log_softmax, tanh};
use burn::tensor::{Device, Tensor, TensorData};
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use serde::{Deserialize, Serialize};

use super::CatalogScorer;
use crate::error::{Result, TanpError};
use crate::task::{Interaction, Task};

#[derive(Module, Debug)]
pub struct MultDae {
    encoder: Linear,
    decoder: Linear,
}

impl MultDae {
    /// Logits over the catalog for input rows `[B, items]`.
    fn forward(&self, input: Tensor<2>) -> Tensor<2> {
        let norm = input
            .clone()
            .powi_scalar(2)
            .sum_dim(1)
            .sqrt()
            .clamp_min(1e-8);
        self.decoder
            .forward(tanh(self.encoder.forward(input / norm)))
    }
}

/// Mult-DAE's settings.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DaeConfig {
    pub hidden: usize,
    pub epochs: usize,
    pub lr: f64,
    pub batch_size: usize,
    /// L2 weight decay (Adam).
    pub weight_decay: f64,
    pub input_min: usize,
    pub input_max: usize,
    pub seed: u64,
}

/// The settings tried on the validation users.
pub fn grid() -> Vec<DaeConfig> {
    [200, 600]
        .into_iter()
        .map(|hidden| DaeConfig {
            hidden,
            epochs: 60,
            lr: 1e-3,
            batch_size: 64,
            weight_decay: 1e-5,
            input_min: 3,
            input_max: 20,
            seed: 2020,
        })
        .collect()
}

/// A trained Mult-DAE, scoring on the CPU.
pub struct DaeScorer {
    model: MultDae,
    items: usize,
    liked_from: f32,
    device: Device,
}

impl DaeScorer {
    fn input_row(&self, support: &[Interaction], row: &mut [f32]) {
        for x in support.iter().filter(|x| x.y >= self.liked_from) {
            row[x.item as usize] = 1.0;
        }
    }
}

impl CatalogScorer for DaeScorer {
    fn scores(&self, _user: u32, support: &[Interaction]) -> Result<Vec<f32>> {
        let mut row = vec![0f32; self.items];
        self.input_row(support, &mut row);
        let input = Tensor::from_data(TensorData::new(row, [1, self.items]), &self.device);
        self.model
            .forward(input)
            .into_data()
            .try_to_vec()
            .map_err(|e| TanpError::Numeric(format!("cannot read Mult-DAE scores: {e:?}")))
    }
}

/// One training batch: inputs and targets `[B, items]`.
fn batch(
    users: &[&Task],
    items: usize,
    liked_from: f32,
    config: &DaeConfig,
    rng: &mut impl Rng,
) -> (Vec<f32>, Vec<f32>) {
    let mut input = vec![0f32; users.len() * items];
    let mut target = vec![0f32; users.len() * items];
    for (b, task) in users.iter().enumerate() {
        let mut all: Vec<Interaction> = task.interactions().collect();
        all.shuffle(rng);
        let hi = config.input_max.min(all.len().saturating_sub(1)).max(1);
        let k = rng.random_range(config.input_min.clamp(1, hi)..=hi);
        for (j, x) in all.iter().enumerate() {
            if x.y >= liked_from {
                let at = b * items + x.item as usize;
                if j < k {
                    input[at] = 1.0;
                } else {
                    target[at] = 1.0;
                }
            }
        }
    }
    (input, target)
}

/// Trains Mult-DAE for `config.epochs` epochs and returns the epoch with the best `valid`
/// score (checked every 5 epochs and at the end).
pub fn fit(
    items: usize,
    train: &[Task],
    liked_from: f32,
    config: &DaeConfig,
    valid: &dyn Fn(&dyn CatalogScorer) -> Result<f64>,
    quiet: bool,
) -> Result<(DaeScorer, f64, usize)> {
    let device = Device::flex().autodiff();
    device.seed(config.seed);
    let mut model = MultDae {
        encoder: LinearConfig::new(items, config.hidden).init(&device),
        decoder: LinearConfig::new(config.hidden, items).init(&device),
    };
    let mut optim = AdamConfig::new()
        .with_weight_decay(Some(burn::optim::decay::WeightDecayConfig::new(
            config.weight_decay as f32,
        )))
        .init();
    let mut rng = StdRng::seed_from_u64(config.seed);
    let inner = device.clone().inner();
    let mut best: Option<(DaeScorer, f64, usize)> = None;
    for epoch in 1..=config.epochs {
        let mut order: Vec<&Task> = train.iter().collect();
        order.shuffle(&mut rng);
        for chunk in order.chunks(config.batch_size) {
            let (input, target) = batch(chunk, items, liked_from, config, &mut rng);
            let shape = [chunk.len(), items];
            let input = Tensor::<2>::from_data(TensorData::new(input, shape), &device);
            let target = Tensor::<2>::from_data(TensorData::new(target, shape), &device);
            let loss = -(log_softmax(model.forward(input), 1) * target)
                .sum_dim(1)
                .mean();
            let grads = GradientsParams::from_grads(loss.backward(), &model);
            model = optim.step(config.lr, model, grads);
        }
        if epoch % 5 == 0 || epoch == config.epochs {
            let scorer = DaeScorer {
                model: model.valid(),
                items,
                liked_from,
                device: inner.clone(),
            };
            let score = valid(&scorer)?;
            if !quiet {
                eprintln!(
                    "mult-dae hidden {} epoch {epoch}: validation {score:.4}",
                    config.hidden
                );
            }
            if best.as_ref().is_none_or(|b| score > b.1) {
                best = Some((scorer, score, epoch));
            }
        }
    }
    best.ok_or_else(|| TanpError::Config("Mult-DAE needs at least one epoch".into()))
}

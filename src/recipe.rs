//! A training recipe: every setting of a training run besides the model's sizes
//! ([`crate::config::ModelConfig`]). Stored in checkpoints, so a run resumes as it started.

use serde::{Deserialize, Serialize};

use crate::config::CatalogZ;
use crate::eval::ZMode;
use crate::negatives::Negatives;

/// The settings of one training run.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TrainConfig {
    pub epochs: usize,
    pub batch_size: usize,
    pub lr: f64,
    pub seed: u64,
    /// N_S for the paper's per-visit re-split.
    pub n_s: usize,
    /// The official code's minimum context size (used with `Fidelity::OfficialCode`).
    pub context_min: usize,
    /// Probability that a user field is hidden ("unknown") in a training task, so that the
    /// model also serves visitors who give no demographics.
    pub user_feature_dropout: f64,
    /// Drop the last incomplete batch of each epoch (the official code does).
    pub drop_last: bool,
    /// How z is chosen when validating and testing.
    pub z_mode: ZMode,
    /// Where a training task's negatives come from on each visit (implicit data). Runs
    /// written before this option existed used the tasks' own ([`Negatives::Fixed`]).
    #[serde(default)]
    pub negatives: Negatives,
    /// The catalog objective's smallest support set per visit (the largest is `n_s`).
    #[serde(default = "default_support_min")]
    pub support_min: usize,
    /// Which z the catalog objective decodes training tasks with.
    #[serde(default)]
    pub catalog_z: CatalogZ,
}

impl TrainConfig {
    /// Whether every user field was hidden in every training task: such a model never saw
    /// them, and its embeddings of them (but the "unknown" row) are untrained.
    pub fn hides_user_fields(&self) -> bool {
        self.user_feature_dropout >= 1.0
    }
}

fn default_support_min() -> usize {
    3
}

impl Default for TrainConfig {
    fn default() -> Self {
        TrainConfig {
            epochs: 150,
            batch_size: 32,
            lr: 5e-5,
            seed: 2020,
            n_s: 20,
            context_min: 20,
            user_feature_dropout: 0.0,
            drop_last: false,
            z_mode: ZMode::Mean,
            negatives: Negatives::Resample,
            support_min: default_support_min(),
            catalog_z: CatalogZ::Sample,
        }
    }
}

//! A trained run as a browser bundle (`tanp export`): the weights in the asked storage, the
//! test metrics of the weights as stored, the training tasks' soft assignments (Figure 4), the
//! catalog with its training counts, starter items and, for a model that saw them, the user
//! fields a visitor may give.

use std::path::Path;

use burn::tensor::Device;
use serde_json::json;

use crate::bundle::{Bundle, CatalogFile, keep_unknown_user_rows};
use crate::compact_weights::{Q8Scope, to_half, to_q8};
use crate::config::ModelConfig;
use crate::data::Dataset;
use crate::error::Result;
use crate::eval::{ZMode, evaluate};
use crate::model::Tanp;
use crate::recommend::Recommender;
use crate::task::Task;
use crate::train::{load_run, read_state};

/// How a bundle stores its weights (the model always computes in f32).
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum WeightFormat {
    /// The embedding tables in 8 bits with a scale per row, the rest in f16.
    Q8,
    /// Every matrix (tables and layer weights) in 8 bits, the vectors in f16.
    Q8All,
    /// Everything in half precision.
    F16,
    F32,
}

/// What `tanp export` asks for beyond the run.
#[derive(Clone, Debug)]
pub struct ExportOptions {
    pub weights: WeightFormat,
    /// Evaluate the test users with the weights as stored (the bundle's `test_metrics`).
    pub metrics: bool,
    /// Training tasks whose soft assignments the bundle carries, and the seed that picks them.
    pub sample_tasks: usize,
    pub seed: u64,
}

/// The bundle of the run in `dir` (data read from `data_dir`).
pub fn export_run(dir: &Path, data_dir: &Path, options: &ExportOptions) -> Result<Bundle> {
    let (info, config, trained, data, episodes, z) = load_run(dir, data_dir, false)?;
    let state = read_state(dir)?;
    let device = Device::flex();
    // A model trained with every user field hidden ships only their "unknown" rows.
    let blind = state.train.hides_user_fields();
    let (trained, config) = if blind {
        keep_unknown_user_rows(trained, &config)?
    } else {
        (trained, config)
    };
    let full = crate::weights::weights_to_bytes(&trained)?;
    let weights = match options.weights {
        WeightFormat::Q8 => to_q8(&full, Q8Scope::Tables)?,
        WeightFormat::Q8All => to_q8(&full, Q8Scope::Matrices)?,
        WeightFormat::F16 => to_half(&full)?,
        WeightFormat::F32 => full,
    };
    // The model as shipped (rounded as asked): what the metrics describe.
    let model = crate::weights::model_from_bytes(
        &config,
        weights.clone(),
        "the exported weights",
        &device,
    )?;
    let mut provenance = json!({
        "command": info.command.join(" "),
        "commit": crate::provenance::git_commit(),
        "data": data.identity,
        "split": info.data,
        "train": state.train,
        "best_epoch": state.best_epoch,
        "epochs_run": state.epoch,
        "weights": format!("{:?}", options.weights).to_lowercase(),
    });
    if options.metrics {
        provenance["test_metrics"] =
            shipped_metrics(&model, &config, &data, &episodes.test, z, blind);
    }
    let recommender = Recommender::new(
        model,
        config.clone(),
        data.catalog.clone(),
        &data.items,
        &device,
    )?;
    // Figure 4: a seeded sample of training tasks (a model that never saw user fields is
    // given none).
    let training_clusters = crate::catalog::training_assignments(
        &recommender,
        &data,
        &episodes.train,
        (options.seed, options.sample_tasks),
        !blind,
    )?;
    let items = crate::catalog::catalog_with_counts(&data, &episodes);
    let counts: Vec<u32> = items.iter().map(|item| item.ratings).collect();
    let mut bundle = Bundle::new(
        config,
        &data.name,
        provenance,
        training_clusters,
        CatalogFile {
            items,
            features: data.items.clone(),
        },
        weights,
    )?;
    bundle.manifest.starters = crate::catalog::starters(&data, &counts, 24);
    // A model that never saw user fields offers visitors none to give.
    if !blind {
        bundle.manifest.profile_fields = data.profile_fields.clone();
    }
    Ok(bundle)
}

/// The paper's metrics of the shipped weights on the test users, without demographics (as a
/// visitor who gives none) and, for a model that saw them, with.
fn shipped_metrics(
    model: &Tanp,
    config: &ModelConfig,
    data: &Dataset,
    tasks: &[Task],
    z: ZMode,
    blind: bool,
) -> serde_json::Value {
    let without = evaluate(model, config, data, tasks, z, true).1;
    if blind {
        return json!({ "without_demographics": without.to_json() });
    }
    let with = evaluate(model, config, data, tasks, z, false).1;
    json!({
        "with_demographics": with.to_json(),
        "without_demographics": without.to_json(),
    })
}

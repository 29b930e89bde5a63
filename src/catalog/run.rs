//! One evaluation on the catalog protocol (`tanp catalog`): a trained TaNP (a run directory or a
//! bundle) or a baseline tuned on the validation users, on the test users, with what the results
//! file records.

use std::path::Path;

use burn::tensor::Device;
use serde_json::json;

use super::baselines::{Method, fit_tuned};
use super::{
    CatalogProtocol, CatalogReport, ClusterSummary, evaluate, tanp_scorer, tasks_cluster_summary,
    training_counts,
};
use crate::bundle::{Bundle, MANIFEST};
use crate::config::ModelConfig;
use crate::data::spec::DataSpec;
use crate::data::{Dataset, Episodes};
use crate::error::{Result, TanpError};
use crate::recommend::Recommender;

/// What a catalog evaluation produced, for the table and the results file.
pub struct CatalogRun {
    pub method: String,
    pub data: Dataset,
    pub episodes: Episodes,
    pub report: CatalogReport,
    /// The setting evaluated: the run's command and config, or the baseline's tuned choice.
    pub chosen: serde_json::Value,
    pub split_seed: u64,
    /// Figure 4 over the test users at N_S = 10 (TaNP only).
    pub clusters: Option<ClusterSummary>,
}

impl CatalogRun {
    /// The results file: this run with the command that made it and its wall time.
    pub fn to_json(
        &self,
        command: &[String],
        catalog_seed: u64,
        seconds: f64,
    ) -> serde_json::Value {
        json!({
            "protocol": "catalog",
            "method": self.method,
            "command": command.join(" "),
            "commit": crate::provenance::git_commit(),
            "dataset": self.data.identity,
            "split_seed": self.split_seed,
            "catalog_seed": catalog_seed,
            "test_users": self.episodes.test.len(),
            "chosen": self.chosen,
            "catalog": self.report,
            "wall_seconds": seconds,
            "machine": format!("{} cores", std::thread::available_parallelism().map_or(0, |n| n.get())),
        })
    }
}

/// A TaNP model to evaluate: what trained it, its recommender, its data and split.
struct ModelUnderTest {
    command: serde_json::Value,
    config: ModelConfig,
    recommender: Recommender,
    data: Dataset,
    episodes: Episodes,
    split_seed: u64,
}

/// Opens a run directory, or a bundle (its provenance names the data and the split).
fn open(dir: &Path, data_dir: &Path) -> Result<ModelUnderTest> {
    if !dir.join(MANIFEST).exists() {
        let (info, config, model, data, episodes, _) =
            crate::train::load_run(dir, data_dir, false)?;
        let recommender = Recommender::new(
            model,
            config.clone(),
            data.catalog.clone(),
            &data.items,
            &Device::flex(),
        )?;
        return Ok(ModelUnderTest {
            command: json!(info.command.join(" ")),
            config,
            recommender,
            data,
            episodes,
            split_seed: info.data.split_seed,
        });
    }
    let bundle = Bundle::read(dir)?;
    let mut split: DataSpec = serde_json::from_value(bundle.manifest.provenance["split"].clone())
        .map_err(|e| {
        TanpError::Model(format!(
            "{}: the bundle's provenance names no split: {e}",
            dir.display()
        ))
    })?;
    split.data_dir = data_dir.to_path_buf();
    let (data, episodes) = split.load()?;
    Ok(ModelUnderTest {
        command: bundle.manifest.provenance["command"].clone(),
        config: bundle.manifest.config.clone(),
        recommender: bundle.recommender(&Device::flex())?,
        data,
        episodes,
        split_seed: split.split_seed,
    })
}

/// TaNP (a run or a bundle in `dir`) on the catalog protocol, with Figure 4 over the test
/// users; `with_demographics` gives each test user their user fields.
pub fn of_model(
    dir: &Path,
    data_dir: &Path,
    protocol: &CatalogProtocol,
    with_demographics: bool,
) -> Result<CatalogRun> {
    let m = open(dir, data_dir)?;
    let (data, episodes) = (m.data, m.episodes);
    let profiles = with_demographics.then_some(&data.users);
    let counts = training_counts(data.items.len(), &episodes.train, data.feedback);
    let report = evaluate(
        &tanp_scorer(&m.recommender, profiles),
        &episodes.test,
        &counts,
        data.feedback,
        protocol,
    )?;
    let clusters = tasks_cluster_summary(&m.recommender, &episodes.test, 10, &data, protocol.seed)?;
    let chosen = json!({"run": dir, "command": m.command, "config": m.config,
        "demographics": with_demographics, "clusters_n_s_10": clusters});
    Ok(CatalogRun {
        method: "tanp".to_string(),
        data,
        episodes,
        report,
        chosen,
        split_seed: m.split_seed,
        clusters: Some(clusters),
    })
}

/// A baseline tuned on the validation users of `data`'s split, on the catalog protocol.
pub fn of_baseline(
    method: Method,
    data: &DataSpec,
    protocol: &CatalogProtocol,
    quiet: bool,
) -> Result<CatalogRun> {
    let (dataset, episodes) = data.load()?;
    let counts = training_counts(dataset.items.len(), &episodes.train, dataset.feedback);
    let tuned = fit_tuned(method, &dataset, &episodes, &counts, protocol.seed, quiet)?;
    let report = evaluate(
        &*tuned.scorer,
        &episodes.test,
        &counts,
        dataset.feedback,
        protocol,
    )?;
    Ok(CatalogRun {
        method: method.name().to_string(),
        data: dataset,
        episodes,
        report,
        chosen: tuned.chosen,
        split_seed: data.split_seed,
        clusters: None,
    })
}

//! Where a result came from: the commit of the code that ran, and the results files of
//! `tanp train` and `tanp baseline` (command, commit, seed, data, metrics, wall time).

use std::path::Path;

use crate::data::spec::DataSpec;
use crate::data::{Dataset, Episodes};
use crate::error::{Result, TanpError};
use crate::eval::Metrics;

/// The commit checked out in the working directory, with `-dirty` when files outside
/// `results/` differ from it; `None` outside a git checkout.
pub fn git_commit() -> Option<String> {
    let out = std::process::Command::new("git")
        .args(["rev-parse", "HEAD"])
        .output()
        .ok()
        .filter(|o| o.status.success())?;
    // Changed files outside results/ (results do not change what runs; a rerun replaces them).
    let dirty = std::process::Command::new("git")
        .args([
            "status",
            "--porcelain",
            "--untracked-files=no",
            "--",
            ".",
            ":!results",
        ])
        .output()
        .ok()
        .is_some_and(|o| !o.stdout.is_empty());
    let hash = String::from_utf8(out.stdout).ok()?.trim().to_string();
    Some(if dirty { format!("{hash}-dirty") } else { hash })
}

/// Writes `text` to `path`, creating its folder.
pub fn write_file(path: &Path, text: &str) -> Result<()> {
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent).map_err(|e| TanpError::io(parent, e))?;
    }
    std::fs::write(path, text).map_err(|e| TanpError::io(path, e))
}

/// What ran: the command, the commit, the seed and the data of a run.
pub struct RunSource<'a> {
    pub command: Vec<String>,
    pub commit: Option<String>,
    pub seed: u64,
    pub data: &'a DataSpec,
    pub dataset: &'a Dataset,
    pub episodes: &'a Episodes,
}

/// What a run gave: the model and its training settings, how well it did, how long it took.
pub struct RunOutcome<'a> {
    pub model: serde_json::Value,
    pub train: serde_json::Value,
    pub best_epoch: Option<usize>,
    /// Per-epoch training loss and validation score (TaNP runs): the learning curve.
    pub curve: Option<serde_json::Value>,
    pub metrics: &'a Metrics,
    /// The same test tasks with each user's support set swapped for another's
    /// ([`crate::eval::swap_supports`]): how much the scores depend on the support set.
    pub swapped_support: &'a Metrics,
    /// Training and evaluation wall time.
    pub seconds: (f64, f64),
}

impl RunSource<'_> {
    /// Prints the metrics table of `outcome` and, with a `path`, writes the results file: one
    /// JSON per reported run (command, commit, seed, data, metrics, wall time).
    pub fn report(&self, outcome: &RunOutcome, path: Option<&Path>) -> Result<()> {
        print!("{}", outcome.metrics.table());
        let Some(path) = path else { return Ok(()) };
        let e = self.episodes;
        let result = serde_json::json!({
            "command": self.command.join(" "),
            "commit": self.commit,
            "seed": self.seed,
            "split_seed": self.data.split_seed,
            "dataset": self.dataset.identity,
            "tasks": {"train": e.train.len(), "valid": e.valid.len(), "test": e.test.len()},
            "model": outcome.model,
            "train": outcome.train,
            "best_epoch": outcome.best_epoch,
            "metrics": outcome.metrics.to_json(),
            "metrics_swapped_support": outcome.swapped_support.to_json(),
            "curve": outcome.curve,
            "wall_seconds": {"train": outcome.seconds.0, "eval": outcome.seconds.1},
            "machine": format!("{} cores", std::thread::available_parallelism().map_or(0, |n| n.get())),
        });
        write_file(path, &serde_json::to_string_pretty(&result).expect("json"))
    }
}

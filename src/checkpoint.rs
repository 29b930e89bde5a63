//! Training checkpoints: one directory per finished epoch, written as one unit.
//!
//! Epoch `n` is the directory `epoch-000n` of the run directory, holding `state.json` (configs,
//! log, best epoch), `last.bpk` (the weights in burn's own format, which keeps parameter ids so
//! that the optimizer state keyed by them applies again), `optimizer.bin` and
//! `best.safetensors` (the best validation epoch's weights so far). It is written under a
//! temporary name, every file and the directory synced, then renamed into place, and only then
//! is the previous epoch's directory removed: a run killed at any moment (SIGKILL included)
//! leaves at least one complete epoch, and resuming from it repeats the uninterrupted run.
//! A state that cannot be read is an error, never a reason to start again over it.

use std::path::{Path, PathBuf};

use burn::store::{BurnpackStore, ModuleSnapshot, SafetensorsStore};
use burn::tensor::Device;
use serde::{Deserialize, Serialize};

use crate::config::ModelConfig;
use crate::error::{Result, TanpError};
use crate::fit::EpochSums;
use crate::model::Tanp;
use crate::recipe::TrainConfig;

/// One line of the training log.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct EpochLog {
    pub epoch: usize,
    pub loss: f64,
    pub prediction_loss: f64,
    pub kl: f64,
    pub clustering: f64,
    pub valid_score: f64,
    pub seconds: f64,
}

/// What a checkpoint holds besides the weights.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct TrainState {
    pub model: ModelConfig,
    pub train: TrainConfig,
    pub dataset: String,
    /// Epochs completed.
    pub epoch: usize,
    pub best_epoch: Option<usize>,
    /// The best validation score so far (-inf before any; JSON has no infinity: `null`).
    #[serde(with = "score")]
    pub best_score: f64,
    pub log: Vec<EpochLog>,
}

impl TrainState {
    /// Logs epoch `epoch` (0-based) with its summed losses, validation score and duration, and
    /// returns whether the score is a new best.
    pub fn record(
        &mut self,
        epoch: usize,
        sums: &EpochSums,
        valid_score: f64,
        seconds: f64,
    ) -> bool {
        self.log.push(EpochLog {
            epoch: epoch + 1,
            loss: sums.mean(sums.loss),
            prediction_loss: sums.mean(sums.prediction),
            kl: sums.mean(sums.kl),
            clustering: sums.mean(sums.clustering),
            valid_score,
            seconds,
        });
        self.epoch = epoch + 1;
        let improved = valid_score > self.best_score;
        if improved {
            self.best_score = valid_score;
            self.best_epoch = Some(epoch + 1);
        }
        improved
    }
}

/// A score that may be non-finite: written as `null` when it is, read back as -inf.
pub mod score {
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(v: &f64, s: S) -> Result<S::Ok, S::Error> {
        if v.is_finite() {
            s.serialize_f64(*v)
        } else {
            s.serialize_none()
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
        Ok(Option::<f64>::deserialize(d)?.unwrap_or(f64::NEG_INFINITY))
    }
}

const STATE: &str = "state.json";
const LAST: &str = "last.bpk";
const BEST: &str = "best.safetensors";
const OPTIMIZER: &str = "optimizer.bin";
const PREFIX: &str = "epoch-";
const TEMPORARY: &str = ".tmp";

/// A run directory.
pub struct RunDir(pub PathBuf);

impl RunDir {
    /// The latest complete epoch's directory; the run directory itself for runs written before
    /// checkpoints had directories (or before the first epoch).
    pub fn current(&self) -> PathBuf {
        self.epochs()
            .last()
            .map_or_else(|| self.0.clone(), |(_, dir)| dir.clone())
    }

    /// The complete epoch directories, oldest first.
    fn epochs(&self) -> Vec<(usize, PathBuf)> {
        let mut out: Vec<(usize, PathBuf)> = std::fs::read_dir(&self.0)
            .into_iter()
            .flatten()
            .flatten()
            .filter_map(|e| {
                let name = e.file_name().into_string().ok()?;
                let n = name.strip_prefix(PREFIX)?.parse().ok()?;
                Some((n, e.path()))
            })
            .collect();
        out.sort();
        out
    }

    pub fn state(&self) -> PathBuf {
        self.current().join(STATE)
    }
    /// The last epoch's weights (burn's format, for resuming).
    pub fn last(&self) -> PathBuf {
        self.current().join(LAST)
    }
    pub fn best(&self) -> PathBuf {
        self.current().join(BEST)
    }
    pub fn optimizer(&self) -> PathBuf {
        self.current().join(OPTIMIZER)
    }

    /// Whether the run has a state to resume from.
    pub fn has_state(&self) -> bool {
        self.state().exists()
    }

    /// Removes what an interrupted write left: unfinished epoch directories.
    pub fn clean(&self) -> Result<()> {
        for entry in std::fs::read_dir(&self.0).map_err(|e| TanpError::io(&self.0, e))? {
            let path = entry.map_err(|e| TanpError::io(&self.0, e))?.path();
            let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
            if name.starts_with(PREFIX) && name.ends_with(TEMPORARY) {
                std::fs::remove_dir_all(&path).map_err(|e| TanpError::io(&path, e))?;
            }
        }
        Ok(())
    }
}

/// What one finished epoch writes.
pub struct EpochCheckpoint<'a> {
    pub state: &'a TrainState,
    /// The weights after the epoch (the training model).
    pub model: &'a Tanp,
    /// The epoch's validation model when it is the best so far (else the previous best is kept).
    pub new_best: Option<&'a Tanp>,
    /// Writes the optimizer state to the given path.
    pub save_optimizer: &'a dyn Fn(&Path) -> Result<()>,
}

/// Writes epoch `checkpoint.state.epoch` as one unit (see the module comment).
pub fn write_epoch(run: &RunDir, checkpoint: EpochCheckpoint) -> Result<()> {
    let epoch = checkpoint.state.epoch;
    let previous = run.epochs();
    let name = format!("{PREFIX}{epoch:04}");
    let tmp = run.0.join(format!("{name}{TEMPORARY}"));
    if tmp.exists() {
        std::fs::remove_dir_all(&tmp).map_err(|e| TanpError::io(&tmp, e))?;
    }
    std::fs::create_dir_all(&tmp).map_err(|e| TanpError::io(&tmp, e))?;
    match checkpoint.new_best {
        Some(best) => save_model(best, &tmp.join(BEST))?,
        None => {
            let old = run.best();
            if old.exists() {
                link_or_copy(&old, &tmp.join(BEST))?;
            }
        }
    }
    save_checkpoint(checkpoint.model, &tmp.join(LAST))?;
    (checkpoint.save_optimizer)(&tmp.join(OPTIMIZER))?;
    let text = serde_json::to_string_pretty(checkpoint.state)
        .map_err(|e| TanpError::Model(format!("cannot write the training state: {e}")))?;
    std::fs::write(tmp.join(STATE), text).map_err(|e| TanpError::io(tmp.join(STATE), e))?;
    for file in [STATE, LAST, BEST, OPTIMIZER] {
        let path = tmp.join(file);
        if path.exists() {
            sync(&path)?;
        }
    }
    sync(&tmp)?;
    let done = run.0.join(&name);
    if done.exists() {
        std::fs::remove_dir_all(&done).map_err(|e| TanpError::io(&done, e))?;
    }
    std::fs::rename(&tmp, &done).map_err(|e| TanpError::io(&done, e))?;
    sync(&run.0)?;
    for (n, dir) in previous {
        if n < epoch {
            std::fs::remove_dir_all(&dir).map_err(|e| TanpError::io(&dir, e))?;
        }
    }
    Ok(())
}

/// Flushes a file or directory to disk.
fn sync(path: &Path) -> Result<()> {
    std::fs::File::open(path)
        .and_then(|f| f.sync_all())
        .map_err(|e| TanpError::io(path, e))
}

/// A hard link (the files are never changed once written), or a copy where links fail.
fn link_or_copy(from: &Path, to: &Path) -> Result<()> {
    std::fs::hard_link(from, to)
        .or_else(|_| std::fs::copy(from, to).map(drop))
        .map_err(|e| TanpError::io(to, e))
}

/// Reads a run directory's state (the latest complete epoch's).
pub fn read_state(dir: &Path) -> Result<TrainState> {
    let path = RunDir(dir.to_path_buf()).state();
    let text = std::fs::read_to_string(&path).map_err(|e| TanpError::io(&path, e))?;
    serde_json::from_str(&text)
        .map_err(|e| TanpError::Model(format!("{}: not a training state: {e}", path.display())))
}

/// Saves a model's weights as safetensors.
pub fn save_model(model: &Tanp, path: &Path) -> Result<()> {
    let mut store = SafetensorsStore::from_file(path.to_path_buf()).overwrite(true);
    model
        .save_into(&mut store)
        .map_err(|e| TanpError::Model(format!("cannot write {}: {e}", path.display())))
}

/// Loads weights saved by [`save_model`] into a model built from `config`.
pub fn load_model(config: &ModelConfig, path: &Path, device: &Device) -> Result<Tanp> {
    let bytes = std::fs::read(path).map_err(|e| TanpError::io(path, e))?;
    crate::weights::model_from_bytes(config, bytes, &path.display().to_string(), device)
}

/// Which weights of a run directory to load.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Weights {
    /// The best validation epoch's (`best.safetensors`).
    Best,
    /// The last finished epoch's (the resume checkpoint `last.bpk`).
    Last,
}

/// Loads the `which` weights of the run directory `dir` for a model of shape `config`.
pub fn load_run_weights(
    config: &ModelConfig,
    dir: &Path,
    which: Weights,
    device: &Device,
) -> Result<Tanp> {
    let run = RunDir(dir.to_path_buf());
    match which {
        Weights::Best => load_model(config, &run.best(), device),
        Weights::Last => load_checkpoint(config, &run.last(), device),
    }
}

fn save_checkpoint(model: &Tanp, path: &Path) -> Result<()> {
    let mut store = BurnpackStore::from_file(path)
        .overwrite(true)
        .auto_extension(false);
    model
        .save_into(&mut store)
        .map_err(|e| TanpError::Model(format!("cannot write {}: {e}", path.display())))
}

/// The training model from `last.bpk`.
pub fn load_checkpoint(config: &ModelConfig, path: &Path, device: &Device) -> Result<Tanp> {
    if !path.exists() {
        return Err(TanpError::io(
            path,
            std::io::Error::new(std::io::ErrorKind::NotFound, "no checkpoint"),
        ));
    }
    let mut model = Tanp::new(config, device);
    let mut store = BurnpackStore::from_file(path).auto_extension(false);
    model
        .load_from(&mut store)
        .map_err(|e| TanpError::Model(format!("cannot load {}: {e}", path.display())))?;
    Ok(model)
}

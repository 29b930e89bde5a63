//! A training recipe: every setting of a training run besides the model's sizes
//! ([`crate::config::ModelConfig`]). Stored in checkpoints, so a run resumes as it started.

use serde::{Deserialize, Serialize};

use crate::config::{CatalogZ, EmbeddingSpec, ModelConfig};
use crate::data::Dataset;
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
    /// How the learning rate changes over the epochs (runs written before this option
    /// existed: constant).
    #[serde(default)]
    pub lr_schedule: LrSchedule,
    /// Decoupled weight decay (AdamW, Loshchilov and Hutter, 2019); 0 = plain Adam, the paper's
    /// optimiser (runs written before this option existed).
    #[serde(default)]
    pub weight_decay: f64,
    /// How the global pool A starts (runs written before this option existed: at random).
    #[serde(default)]
    pub pool_init: PoolInit,
    /// The catalog objective's softmax: over the whole catalog, or sampled
    /// ([`CatalogSoftmax`]; runs written before this option existed: the whole catalog).
    #[serde(default = "full_softmax")]
    pub catalog_softmax: CatalogSoftmax,
}

fn full_softmax() -> CatalogSoftmax {
    CatalogSoftmax::Full
}

/// Which items the catalog objective's softmax runs over in training (validation and test
/// always rank the whole catalog).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum CatalogSoftmax {
    /// The whole catalog up to [`CatalogSoftmax::AUTO_FULL_UP_TO`] items, beyond that
    /// [`CatalogSoftmax::AUTO_SAMPLES`] sampled items per batch.
    #[default]
    Auto,
    /// Every catalog item, for every task (Mult-DAE's likelihood).
    Full,
    /// The batch's liked items and this many items drawn per batch from smoothed popularity,
    /// logQ-corrected ([`crate::catalog::sampled`]).
    Sampled(usize),
}

impl std::str::FromStr for CatalogSoftmax {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "auto" => Ok(CatalogSoftmax::Auto),
            "full" => Ok(CatalogSoftmax::Full),
            n => match n.parse::<usize>() {
                Ok(n) if n > 0 => Ok(CatalogSoftmax::Sampled(n)),
                _ => Err(format!(
                    "expected `auto`, `full` or a number of sampled items above 0, found `{s}`"
                )),
            },
        }
    }
}

impl CatalogSoftmax {
    /// The largest catalog that `Auto` trains with the full softmax.
    pub const AUTO_FULL_UP_TO: usize = 50_000;
    /// The draws per batch of `Auto` beyond that.
    pub const AUTO_SAMPLES: usize = 8_192;

    /// The draws per batch for a catalog of `items`, `None` for the full softmax.
    pub fn samples(self, items: usize) -> Option<usize> {
        match self {
            CatalogSoftmax::Full => None,
            CatalogSoftmax::Sampled(n) if n < items => Some(n),
            CatalogSoftmax::Sampled(_) => None,
            CatalogSoftmax::Auto if items > Self::AUTO_FULL_UP_TO => Some(Self::AUTO_SAMPLES),
            CatalogSoftmax::Auto => None,
        }
    }
}

/// How the global pool A of the customization module starts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Default, clap::ValueEnum)]
#[serde(rename_all = "kebab-case")]
pub enum PoolInit {
    /// Xavier-uniform at random (the paper's code).
    #[default]
    Random,
    /// Not in the paper: after the first epoch, the centroids of k-means over the training
    /// tasks' task embeddings t_i, as DEC (Xie et al., ICML 2016) starts its clusters. At a
    /// random start the tasks can sit at one distance from every centroid, where Eq. 13/14
    /// have no gradient to give and the assignments stay uniform.
    Kmeans,
}

/// The learning rate over a run.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Default, clap::ValueEnum)]
#[serde(rename_all = "kebab-case")]
pub enum LrSchedule {
    /// `lr` in every epoch (the paper).
    #[default]
    Constant,
    /// Cosine decay from `lr` in the first epoch towards 0 after the last:
    /// `lr * (1 + cos(pi * epoch / epochs)) / 2`.
    Cosine,
}

impl TrainConfig {
    /// The learning rate of epoch `epoch` (0-based).
    pub fn lr_at(&self, epoch: usize) -> f64 {
        match self.lr_schedule {
            LrSchedule::Constant => self.lr,
            LrSchedule::Cosine => {
                let t = epoch as f64 / self.epochs.max(1) as f64;
                self.lr * 0.5 * (1.0 + (std::f64::consts::PI * t).cos())
            }
        }
    }

    /// The settings a run starts from before its flags: the paper's (the defaults, as the
    /// `paper` preset says), or with `official_sizes` the official code's train.sh (100 epochs,
    /// lr 1e-4, the last short batch dropped, as the `official-code` preset says); and the
    /// training negatives of each fidelity (the paper draws them again on every visit, the
    /// official code keeps the task's own).
    pub fn starting_point(official_sizes: bool, fidelity: crate::config::Fidelity) -> Self {
        let paper = TrainConfig::default();
        let negatives = match fidelity {
            crate::config::Fidelity::Paper => crate::negatives::Negatives::Resample,
            crate::config::Fidelity::OfficialCode => crate::negatives::Negatives::Fixed,
        };
        if official_sizes {
            TrainConfig {
                epochs: 100,
                lr: 1e-4,
                drop_last: true,
                negatives,
                ..paper
            }
        } else {
            TrainConfig { negatives, ..paper }
        }
    }

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
            lr_schedule: LrSchedule::Constant,
            weight_decay: 0.0,
            pool_init: PoolInit::Random,
            catalog_softmax: CatalogSoftmax::Auto,
        }
    }
}

/// The paper's model for `data` with the paper's layer sizes (section 5.2.3), or with
/// `official` the official code's train.sh sizes (embeddings 32/16, hidden 32/16, task 16).
pub fn sized_config(data: &Dataset, official: bool) -> ModelConfig {
    let (id_hidden, id_dim) = if official { (32, 16) } else { (32, 32) };
    let spec = |table: &crate::features::FeatureTable| {
        if table.fields.len() == 1 {
            EmbeddingSpec::Id {
                count: table.fields[0].vocab,
                hidden: id_hidden,
                dim: id_dim,
            }
        } else {
            EmbeddingSpec::Content {
                vocab: table.vocab(),
                dim: 32,
            }
        }
    };
    let mut c = ModelConfig::paper(spec(&data.users), spec(&data.items), data.feedback);
    if official {
        c.encoder_hidden = vec![32, 16];
        c.r_dim = 32;
        c.s_dim = 32;
        c.z_dim = 32;
        c.task_hidden = vec![32, 32];
        c.t_dim = 16;
        c.decoder_hidden = vec![32, 32, 16];
        c.lambda = 1.0;
    }
    c
}

/// A named recipe: the `tanp train` flags it stands for, in the one place the CLI (`tanp train
/// --preset NAME`) and the scripts take them from. Flags given after the preset override it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Preset {
    pub name: &'static str,
    pub about: &'static str,
    pub flags: &'static [&'static str],
}

/// Every named recipe.
pub const PRESETS: &[Preset] = &[
    Preset {
        name: "paper",
        about: "the paper's equations and sizes (section 5.2.3): 150 epochs, lr 5e-5 (the defaults)",
        flags: &[
            "--fidelity",
            "paper",
            "--sizes",
            "paper",
            "--epochs",
            "150",
            "--lr",
            "5e-5",
        ],
    },
    Preset {
        name: "official-code",
        about: "the official PyTorch code and its train.sh: 100 epochs, lr 1e-4, fixed negatives",
        flags: &[
            "--fidelity",
            "official-code",
            "--sizes",
            "official",
            "--epochs",
            "100",
            "--lr",
            "1e-4",
        ],
    },
    Preset {
        name: "experiments-lastfm",
        about: "Tables 3-5 and Figures 3-5 on Last.FM (scripts/experiments.sh): lr 1e-3, 150 epochs",
        flags: &["--lr", "1e-3", "--epochs", "150", "--negatives", "resample"],
    },
    Preset {
        name: "experiments-ml-1m",
        about: "Tables 3-5 and Figures 3-5 on ML-1M: lr 1e-3, 40 epochs",
        flags: &["--lr", "1e-3", "--epochs", "40", "--negatives", "resample"],
    },
    Preset {
        name: "experiments-gowalla",
        about: "Tables 3-5 and Figures 3-5 on Gowalla: lr 1e-3, 40 epochs, its fixed negatives",
        flags: &["--lr", "1e-3", "--epochs", "40", "--negatives", "fixed"],
    },
    Preset {
        name: "lastfm-clusters",
        about: "the recipe that reaches the official Last.FM run: 20 item clusters, lr 1e-3, 400 epochs",
        flags: &["--item-clusters", "20", "--lr", "1e-3", "--epochs", "400"],
    },
    Preset {
        name: "catalog",
        about: "whole-catalog recommendation (not in the paper), on any dataset: the catalog-mlp \
                recipe with the dot head and widths 192 (z 128)",
        flags: &[
            "--preset",
            "catalog-mlp",
            "--decoder-head",
            "dot",
            "--hidden",
            "192",
            "--z-dim",
            "128",
            "--decoder-hidden",
            "192,192,128",
        ],
    },
    Preset {
        name: "catalog-ml-1m",
        about: "the shipped ML-1M model's recipe: the catalog recipe without the actor field \
                (7,979 actors, most in one film: the bundle fits the browser's 3 MB)",
        flags: &["--preset", "catalog", "--drop-item-field", "actor"],
    },
    Preset {
        name: "catalog-mlp",
        about: "whole-catalog recommendation with the paper's decoder (shipped before): a softmax \
                over the catalog, item ids, user fields hidden, k 5, lambda 0.5",
        flags: &[
            "--objective",
            "catalog",
            "--item-id-field",
            "--catalog-z",
            "prior-mean",
            "--n-s",
            "20",
            "--support-min",
            "3",
            "--lr",
            "3e-3",
            "--epochs",
            "40",
            "--user-dropout",
            "1.0",
            "--k",
            "5",
            "--lambda",
            "0.5",
        ],
    },
    Preset {
        name: "catalog-dot",
        about: "the catalog recipe at widths 256 with every item field: a probe, its bundle is \
                over the browser's 3 MB",
        flags: &[
            "--preset",
            "catalog",
            "--hidden",
            "256",
            "--decoder-hidden",
            "256,256,128",
        ],
    },
];

/// The preset called `name`.
pub fn preset(name: &str) -> Option<&'static Preset> {
    PRESETS.iter().find(|p| p.name == name)
}

/// `args` (a command line) with every `--preset NAME` (or `--preset=NAME`) replaced by the
/// preset's flags, in place, so that flags after it override it. An unknown name is an error
/// that lists the presets.
pub fn expand_presets(args: Vec<String>) -> crate::error::Result<Vec<String>> {
    expand(with_default_preset(args), 0)
}

/// `tanp train` on your own data (`--dataset csv`) without a `--preset` trains the catalog
/// recipe: the preset goes first, so every flag given overrides it.
fn with_default_preset(mut args: Vec<String>) -> Vec<String> {
    let own = args
        .windows(2)
        .any(|w| w[0] == "--dataset" && w[1] == "csv")
        || args.iter().any(|a| a == "--dataset=csv");
    let preset = args
        .iter()
        .any(|a| a == "--preset" || a.starts_with("--preset="));
    if args.get(1).map(String::as_str) == Some("train") && own && !preset {
        args.splice(2..2, ["--preset".to_string(), "catalog".to_string()]);
    }
    args
}

/// [`expand_presets`] at nesting `depth` (a preset may start from another one).
fn expand(args: Vec<String>, depth: usize) -> crate::error::Result<Vec<String>> {
    if depth > 4 {
        return Err(crate::error::TanpError::Config(
            "--preset: presets nest more than 4 deep".into(),
        ));
    }
    let mut out = Vec::with_capacity(args.len());
    let mut it = args.into_iter();
    while let Some(arg) = it.next() {
        let name = match arg.strip_prefix("--preset") {
            Some("") => it.next(),
            Some(rest) if rest.starts_with('=') => Some(rest[1..].to_string()),
            _ => {
                out.push(arg);
                continue;
            }
        };
        let name = name.unwrap_or_default();
        let preset = preset(&name).ok_or_else(|| {
            let names: Vec<&str> = PRESETS.iter().map(|p| p.name).collect();
            crate::error::TanpError::Config(format!(
                "--preset: expected one of {}, found {name:?}",
                names.join(", ")
            ))
        })?;
        out.extend(expand(
            preset.flags.iter().map(|f| f.to_string()).collect(),
            depth + 1,
        )?);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn catalog_softmax_parses_and_resolves() {
        let parse = |s: &str| s.parse::<CatalogSoftmax>();
        assert_eq!(parse("auto"), Ok(CatalogSoftmax::Auto));
        assert_eq!(parse("full"), Ok(CatalogSoftmax::Full));
        assert_eq!(parse("4096"), Ok(CatalogSoftmax::Sampled(4096)));
        for bad in ["0", "-3", "many", ""] {
            let err = parse(bad).unwrap_err();
            assert!(err.contains("expected `auto`, `full`"), "{bad}: {err}");
        }
        assert_eq!(CatalogSoftmax::Auto.samples(50_000), None);
        assert_eq!(CatalogSoftmax::Auto.samples(50_001), Some(8_192));
        assert_eq!(CatalogSoftmax::Full.samples(1_000_000), None);
        assert_eq!(CatalogSoftmax::Sampled(100).samples(1_000), Some(100));
        // As many draws as items or more: the whole catalog is the softmax.
        assert_eq!(CatalogSoftmax::Sampled(1_000).samples(1_000), None);
    }

    #[test]
    fn runs_written_before_the_sampled_softmax_resume_with_the_full_one() {
        let mut json = serde_json::to_value(TrainConfig::default()).unwrap();
        json.as_object_mut().unwrap().remove("catalog_softmax");
        let old: TrainConfig = serde_json::from_value(json).unwrap();
        assert_eq!(old.catalog_softmax, CatalogSoftmax::Full);
        let new = TrainConfig {
            catalog_softmax: CatalogSoftmax::Sampled(512),
            ..TrainConfig::default()
        };
        let back: TrainConfig =
            serde_json::from_value(serde_json::to_value(&new).unwrap()).unwrap();
        assert_eq!(back, new);
    }
}

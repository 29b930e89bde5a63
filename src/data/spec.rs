//! What data a run uses ([`DataSpec`]): the command line's data flags as a library type, so that
//! the CLI, the run directories and the scripts describe data one way.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use super::clusters::{ClusterConfig, cluster_field, item_clusters};
use super::split::{SplitConfig, make_episodes};
use super::{Dataset, DatasetName, Episodes};
use crate::error::{Result, TanpError};
use crate::features::FeatureTable;

/// Which tasks a run uses.
#[derive(Clone, Copy, clap::ValueEnum, Serialize, Deserialize, PartialEq, Eq, Debug)]
#[serde(rename_all = "kebab-case")]
pub enum Protocol {
    /// The dataset's own episodes where it ships them (Last.FM), else a fresh user split.
    Auto,
    /// A random 7:1:2 user split with the history-length filter, by --split-seed.
    Split,
}

/// The data of a run: the dataset, its tasks (its own episodes or a seeded user split) and the
/// item fields beyond the dataset's own. The command line's data flags (`tanp train`, `eval`,
/// `baseline`), stored in each run directory (`run.json`) so that a run is loaded as it was
/// trained.
#[derive(clap::Args, Clone, Serialize, Deserialize, Debug)]
pub struct DataSpec {
    /// ml-1m, lastfm or gowalla.
    #[arg(long)]
    pub dataset: String,
    /// The folder holding ml-1m/, lastfm/ and gowalla/.
    #[arg(long, default_value = "../shared/data")]
    pub data_dir: PathBuf,
    #[arg(long, value_enum, default_value = "auto")]
    pub protocol: Protocol,
    #[arg(long, default_value_t = 2020)]
    pub split_seed: u64,
    /// N_S, the support size.
    #[arg(long, default_value_t = 20)]
    pub n_s: usize,
    #[arg(long, default_value_t = 40)]
    pub min_len: usize,
    #[arg(long, default_value_t = 200)]
    pub max_len: usize,
    /// Add K co-occurrence item clusters, computed from the training users' positives, as an
    /// item content field (not in the paper, which uses item ids only on Last.FM and Gowalla;
    /// see src/data/clusters.rs). Off by default.
    #[arg(long, value_name = "K")]
    #[serde(default)]
    pub item_clusters: Option<usize>,
    /// Add the item's own id as an item content field (Eq. 5 lookup; not in the paper's
    /// MovieLens input, whose items are described by their contents only).
    #[arg(long)]
    #[serde(default)]
    pub item_id_field: bool,
    /// Leave out an item content field by name (e.g. `year`); repeatable.
    #[arg(long = "drop-item-field", value_name = "NAME")]
    #[serde(default)]
    pub drop_item_fields: Vec<String>,
}

impl DataSpec {
    /// Loads the dataset from `data_dir`, makes or takes its tasks, and adds the asked item
    /// fields (co-occurrence clusters of the training users' positives, the item id) or drops
    /// some.
    pub fn load(&self) -> Result<(Dataset, Episodes)> {
        let args = self;
        let name: DatasetName = args.dataset.parse()?;
        let mut data = name.load(&args.data_dir)?;
        let episodes = match (&data.episodes, args.protocol) {
            (Some(e), Protocol::Auto) => e.clone(),
            _ => make_episodes(
                &data,
                &SplitConfig {
                    seed: args.split_seed,
                    n_s: args.n_s,
                    min_len: args.min_len,
                    max_len: args.max_len,
                    ..SplitConfig::default()
                },
            )?,
        };
        if let Some(k) = args.item_clusters {
            let config = ClusterConfig::new(k, args.split_seed);
            let labels = item_clusters(
                data.items.len(),
                &episodes.train,
                data.feedback.liked_from(),
                &config,
            )?;
            data.items.fields.push(cluster_field(&labels, k));
        }
        for name in &args.drop_item_fields {
            let before = data.items.fields.len();
            data.items.fields.retain(|f| &f.name != name);
            if data.items.fields.len() == before {
                let names: Vec<&str> = data.items.fields.iter().map(|f| f.name.as_str()).collect();
                return Err(TanpError::Config(format!(
                    "--drop-item-field {name}: no such item field (the fields are {names:?})"
                )));
            }
        }
        if args.item_id_field {
            data.items
                .fields
                .push(FeatureTable::ids("item id", data.items.len()).fields[0].clone());
        }
        Ok((data, episodes))
    }
}

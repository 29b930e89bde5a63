//! What data a run uses ([`DataSpec`]): the command line's data flags as a library type, so that
//! the CLI, the run directories and the scripts describe data one way.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use super::clusters::{ClusterConfig, cluster_field, item_clusters};
use super::generic;
use super::split::{SplitConfig, SupportOrder, make_episodes};
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
    /// Users are tasks when they have from --min-len to --max-len interactions (default: the
    /// paper's 40-200; on your own data 4 and no upper bound).
    #[arg(long)]
    pub min_len: Option<usize>,
    #[arg(long)]
    pub max_len: Option<usize>,
    /// Which interactions form the support set: `random` (the paper's and the official code's)
    /// or `file` (the first N_S in the data file's order; for the protocol audit).
    #[arg(long, value_enum, default_value = "random")]
    #[serde(default)]
    pub support_order: SupportOrder,
    /// Keep at most this many query interactions per task, drawn at random (default: all the
    /// remaining ones, as in the paper; for the protocol audit).
    #[arg(long, value_name = "N")]
    #[serde(default)]
    pub query_size: Option<usize>,
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
    /// Your own data (`--dataset csv`): the interactions file, CSV or TSV with a header, or
    /// Parquet (`.parquet`): user, item, optional rating and time columns (src/data/generic.rs).
    #[arg(long, value_name = "FILE")]
    #[serde(default)]
    pub interactions: Option<PathBuf>,
    /// Your own data: the items file, CSV, TSV or Parquet (id, title, optional image and link
    /// URLs, any categorical or multi-valued columns: `|`-separated text, or Parquet lists).
    #[arg(long, value_name = "FILE")]
    #[serde(default)]
    pub items: Option<PathBuf>,
    /// Your own data: the users file, CSV, TSV or Parquet (id and categorical columns).
    #[arg(long, value_name = "FILE")]
    #[serde(default)]
    pub users: Option<PathBuf>,
    /// Your own data: the interactions' column names when the header does not use the usual
    /// ones, e.g. `user=customer,item=sku,rating=stars,time=ts`.
    #[arg(long, value_name = "ROLE=NAME,...")]
    #[serde(default)]
    pub columns: Option<String>,
}

/// The history-length filter of your own data: users with 3 ratings to give and 1 to predict.
const OWN_MIN_LEN: usize = 4;

impl DataSpec {
    /// Loads the dataset from `data_dir`, makes or takes its tasks, and adds the asked item
    /// fields (co-occurrence clusters of the training users' positives, the item id) or drops
    /// some.
    pub fn load(&self) -> Result<(Dataset, Episodes)> {
        let args = self;
        let name: DatasetName = args.dataset.parse()?;
        let mut data = match name {
            DatasetName::Csv => generic::load(&self.own_source()?)?.0,
            _ => name.load(&args.data_dir)?,
        };
        let episodes = match (&data.episodes, args.protocol) {
            (Some(e), Protocol::Auto) => e.clone(),
            _ => make_episodes(&data, &self.split_config(name))?,
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
        drop_fields(&mut data.items, &args.drop_item_fields)?;
        if args.item_id_field {
            data.items
                .fields
                .push(FeatureTable::ids("item id", data.items.len()).fields[0].clone());
        }
        Ok((data, episodes))
    }
}

impl DataSpec {
    /// Where your own data comes from (`--dataset csv`).
    pub fn own_source(&self) -> Result<generic::Source> {
        let interactions = self
            .interactions
            .clone()
            .ok_or_else(|| TanpError::Config("--dataset csv needs --interactions FILE".into()))?;
        Ok(generic::Source {
            interactions,
            items: self.items.clone(),
            users: self.users.clone(),
            columns: match &self.columns {
                Some(c) => c.parse()?,
                None => generic::Columns::default(),
            },
        })
    }

    /// The user split: the paper's history-length filter (40-200) on the research datasets;
    /// on your own data at least 4 interactions and no upper bound, and the paper protocol's
    /// support sets at most `min_len - 1` (the catalog recipe draws its own).
    fn split_config(&self, name: DatasetName) -> SplitConfig {
        let own = name == DatasetName::Csv;
        let paper = SplitConfig::default();
        let min_len = self
            .min_len
            .unwrap_or(if own { OWN_MIN_LEN } else { paper.min_len });
        SplitConfig {
            seed: self.split_seed,
            n_s: if own {
                self.n_s.min(min_len.saturating_sub(1))
            } else {
                self.n_s
            },
            min_len,
            max_len: self
                .max_len
                .unwrap_or(if own { usize::MAX } else { paper.max_len }),
            support_order: self.support_order,
            query_size: self.query_size,
            ..paper
        }
    }
}

/// `table` without the fields called `names` (`--drop-item-field`). A name given twice (a
/// preset's flag repeated on the command line) drops its field once; an unknown name is an error
/// that lists the fields.
pub fn drop_fields(table: &mut FeatureTable, names: &[String]) -> Result<()> {
    let have: Vec<String> = table.fields.iter().map(|f| f.name.clone()).collect();
    for name in names {
        if !have.contains(name) {
            return Err(TanpError::Config(format!(
                "--drop-item-field {name}: no such item field (the fields are {have:?})"
            )));
        }
        table.fields.retain(|f| &f.name != name);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::features::Field;

    #[test]
    fn dropping_a_field_twice_drops_it_once_and_an_unknown_name_says_what_exists() {
        let mut table = FeatureTable {
            fields: vec![Field::new("genre", 3), Field::new("actor", 5)],
        };
        let twice = ["actor".to_string(), "actor".to_string()];
        drop_fields(&mut table, &twice).unwrap();
        assert_eq!(table.fields.len(), 1);
        assert_eq!(table.fields[0].name, "genre");
        let err = drop_fields(&mut table, &["year".to_string()]).unwrap_err();
        assert!(err.to_string().contains("[\"genre\"]"), "{err}");
    }
}

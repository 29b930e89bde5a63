//! The paper's protocol (section 5.1.1): a random 7:1:2 split of users, a history-length
//! filter, and tasks with a random support set of N_S interactions and the rest as query.

use std::collections::HashSet;

use rand::SeedableRng;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use serde::{Deserialize, Serialize};

use super::{Dataset, Episodes};
use crate::error::{Result, TanpError};
use crate::task::{Interaction, Task};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SplitConfig {
    pub seed: u64,
    pub train_ratio: f64,
    pub valid_ratio: f64,
    /// Users are kept when `min_len <= history length <= max_len` (paper: 40-200).
    pub min_len: usize,
    pub max_len: usize,
    /// N_S, the support size (paper: 20, 15 or 10).
    pub n_s: usize,
    /// Which N_S interactions form the support set (paper and official code: random).
    #[serde(default)]
    pub support_order: SupportOrder,
    /// At most this many of the remaining interactions form the query set, drawn at random
    /// (paper: none, "remaining interactions are set as the query set"). For the protocol audit.
    #[serde(default)]
    pub query_size: Option<usize>,
}

/// How a task's interactions are divided into support and query sets.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "kebab-case")]
pub enum SupportOrder {
    /// A random N_S (the official code shuffles each history; the paper says "randomly").
    #[default]
    Random,
    /// The first N_S in the data file's order, the query the rest in that order (ML-1M's
    /// MeLU file has no timestamps, so this is the closest to "the first ratings" it allows).
    File,
}

impl Default for SplitConfig {
    fn default() -> Self {
        SplitConfig {
            seed: 2020,
            train_ratio: 0.7,
            valid_ratio: 0.1,
            min_len: 40,
            max_len: 200,
            n_s: 20,
            support_order: SupportOrder::Random,
            query_size: None,
        }
    }
}

/// Splits the users, as the official code does: shuffle all users, the first 70% train, the
/// next 10% validate, the rest test (before the length filter); then keep users in the length
/// range, drop test and validation interactions with items no training user has seen, and draw
/// each task's support set at random (or take the first N_S, [`SupportOrder::File`]), the rest
/// (or `query_size` of it) being the query set.
pub fn make_episodes(data: &Dataset, cfg: &SplitConfig) -> Result<Episodes> {
    if cfg.n_s == 0 || cfg.min_len <= cfg.n_s || cfg.min_len > cfg.max_len {
        return Err(TanpError::Config(format!(
            "need 0 < n_s < min_len <= max_len, found n_s {}, min_len {}, max_len {}",
            cfg.n_s, cfg.min_len, cfg.max_len
        )));
    }
    if !(0.0..=1.0).contains(&(cfg.train_ratio + cfg.valid_ratio)) || cfg.train_ratio <= 0.0 {
        return Err(TanpError::Config(
            "train and validation ratios must be in (0, 1] together".into(),
        ));
    }
    let mut rng = StdRng::seed_from_u64(cfg.seed);
    let mut users: Vec<u32> = (0..data.histories.len() as u32).collect();
    users.shuffle(&mut rng);
    let n_train = (cfg.train_ratio * users.len() as f64) as usize;
    let n_valid = (cfg.valid_ratio * users.len() as f64) as usize;
    let (train, rest) = users.split_at(n_train);
    let (valid, test) = rest.split_at(n_valid);

    let seen: HashSet<u32> = train
        .iter()
        .flat_map(|&u| data.histories[u as usize].iter().map(|x| x.item))
        .collect();
    let mut tasks = |group: &[u32], restrict: bool| -> Vec<Task> {
        group
            .iter()
            .filter_map(|&u| {
                let history = &data.histories[u as usize];
                if !(cfg.min_len..=cfg.max_len).contains(&history.len()) {
                    return None;
                }
                let mut points: Vec<Interaction> = history
                    .iter()
                    .filter(|x| !restrict || seen.contains(&x.item))
                    .copied()
                    .collect();
                if cfg.support_order == SupportOrder::Random {
                    points.shuffle(&mut rng);
                }
                if points.len() <= cfg.n_s {
                    return None;
                }
                let mut query = points.split_off(cfg.n_s);
                if let Some(q) = cfg.query_size.filter(|&q| q < query.len()) {
                    query.shuffle(&mut rng);
                    query.truncate(q);
                }
                Some(Task {
                    user: u,
                    support: points,
                    query,
                })
            })
            .collect()
    };
    Ok(Episodes {
        train: tasks(train, false),
        valid: tasks(valid, true),
        test: tasks(test, true),
    })
}

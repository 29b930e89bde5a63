//! Gowalla as NGCF split it (`gowalla/ngcf/`), turned into implicit-feedback tasks.
//!
//! The paper uses "a part of" Gowalla (2,692 users, 27,237 items, 134,476 interactions) without
//! saying which part. Our documented rule ([`Subset`]): merge NGCF's train and test lists, keep
//! users with 20 to 100 check-in venues (so that with 1:1 negatives their histories fall in
//! the paper's 40-200 filter), draw 2,692 of them with a fixed seed, keep the venues they
//! visited, and add for each user as many negatives as positives, drawn uniformly without
//! replacement from the kept venues the user never visited (MKR's rule, which the paper follows).

use std::collections::{BTreeSet, HashMap};
use std::path::Path;

use rand::SeedableRng;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;

use super::{
    CatalogItem, Dataset, file_identity, lines, parse_field, read_text, sampled_negatives,
};
use crate::config::Feedback;
use crate::error::{Result, TanpError};
use crate::features::FeatureTable;
use crate::task::Interaction;

/// Which users of Gowalla form the dataset.
#[derive(Clone, Debug)]
pub struct Subset {
    pub min_positives: usize,
    pub max_positives: usize,
    pub users: usize,
    pub seed: u64,
}

impl Default for Subset {
    fn default() -> Self {
        Subset {
            min_positives: 20,
            max_positives: 100,
            users: 2692,
            seed: 2021,
        }
    }
}

/// Reads an NGCF list file (`user item item ...` per line) into `lists`.
pub fn read_lists(path: &Path, lists: &mut HashMap<u32, BTreeSet<u32>>) -> Result<()> {
    let text = read_text(path)?;
    for (no, line) in lines(&text) {
        let mut parts = line.split_whitespace();
        let user: u32 = parse_field(path, no, "a user id", parts.next().unwrap_or(""))?;
        let set = lists.entry(user).or_default();
        for v in parts {
            set.insert(parse_field(path, no, "an item id", v)?);
        }
    }
    Ok(())
}

/// Loads the Gowalla subset from `dir` (the `gowalla` folder).
pub fn load(dir: &Path, subset: &Subset) -> Result<Dataset> {
    let train = dir.join("ngcf/train_reconstructed.txt");
    let test = dir.join("ngcf/test.txt");
    let mut lists = HashMap::new();
    read_lists(&train, &mut lists)?;
    read_lists(&test, &mut lists)?;
    from_lists(
        lists,
        subset,
        serde_json::json!({
            "dataset": "gowalla",
            "subset": format!("{} users with {}-{} positives, seed {}", subset.users, subset.min_positives, subset.max_positives, subset.seed),
            "files": [file_identity(&train)?, file_identity(&test)?],
        }),
    )
}

/// Builds the dataset from merged per-user venue sets.
pub fn from_lists(
    lists: HashMap<u32, BTreeSet<u32>>,
    subset: &Subset,
    identity: serde_json::Value,
) -> Result<Dataset> {
    let mut eligible: Vec<u32> = lists
        .iter()
        .filter(|(_, s)| (subset.min_positives..=subset.max_positives).contains(&s.len()))
        .map(|(&u, _)| u)
        .collect();
    eligible.sort_unstable();
    if eligible.len() < subset.users {
        return Err(TanpError::Config(format!(
            "gowalla: {} users have {}-{} venues, fewer than the {} requested",
            eligible.len(),
            subset.min_positives,
            subset.max_positives,
            subset.users
        )));
    }
    let mut rng = StdRng::seed_from_u64(subset.seed);
    eligible.shuffle(&mut rng);
    eligible.truncate(subset.users);
    eligible.sort_unstable();

    let venues: BTreeSet<u32> = eligible
        .iter()
        .flat_map(|u| lists[u].iter().copied())
        .collect();
    let venue_index: HashMap<u32, u32> = venues
        .iter()
        .enumerate()
        .map(|(i, &v)| (v, i as u32))
        .collect();
    let histories = eligible
        .iter()
        .map(|u| {
            let pos: Vec<u32> = lists[u]
                .iter()
                .map(|v| venue_index[v])
                .collect::<BTreeSet<u32>>()
                .into_iter()
                .collect();
            let neg = sampled_negatives(&pos, venues.len(), &mut rng);
            pos.iter()
                .map(|&item| Interaction { item, y: 1.0 })
                .chain(neg)
                .collect()
        })
        .collect();
    Ok(Dataset {
        name: "gowalla".into(),
        feedback: Feedback::Implicit,
        users: FeatureTable::ids("user", eligible.len()),
        items: FeatureTable::ids("venue", venues.len()),
        user_ids: eligible.iter().map(u32::to_string).collect(),
        catalog: venues
            .iter()
            .map(|v| CatalogItem::unnamed("venue", v))
            .collect(),
        profile_fields: Vec::new(),
        histories,
        episodes: None,
        identity,
    })
}

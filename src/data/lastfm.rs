//! Last.FM as MKR and TaNP prepared it (`lastfm/` of the shared data): implicit feedback with
//! 1:1 pre-sampled negatives (`tanp_lastfm_20/ratings_final.txt`), and TaNP's exact task
//! episodes (`tanp_lastfm_20/episodes.tsv`: 248 training, 35 validation, 66 test tasks). No side
//! information: users and items are embedded from their ids (Eq. 6).

use std::collections::BTreeMap;
use std::path::Path;

use super::{
    CatalogItem, Dataset, Episodes, file_identity, lines, parse_field, read_text, split_exact,
};
use crate::config::Feedback;
use crate::error::{Result, TanpError};
use crate::features::FeatureTable;
use crate::task::{Interaction, Task};

fn label(path: &Path, no: usize, v: &str) -> Result<f32> {
    match v.trim() {
        "0" => Ok(0.0),
        "1" => Ok(1.0),
        _ => Err(TanpError::parse(
            path.display().to_string(),
            no,
            "a label 0 or 1",
            v,
        )),
    }
}

/// Reads `ratings_final.txt` (`user<TAB>item<TAB>label`): per-user histories, with user and
/// item counts taken as the largest id + 1.
pub fn read_ratings(path: &Path) -> Result<(Vec<Vec<Interaction>>, usize)> {
    let text = read_text(path)?;
    let mut rows = Vec::new();
    let (mut users, mut items) = (0usize, 0usize);
    let limit = super::dense_id_limit(text.lines().count());
    for (no, line) in lines(&text) {
        let f = split_exact(path, no, line, "\t", 3, "(user, item, label)")?;
        let u: u32 = parse_field(path, no, "a user id", f[0])?;
        let i: u32 = parse_field(path, no, "an item id", f[1])?;
        if u as usize >= limit || i as usize >= limit {
            return Err(TanpError::parse(
                path.display().to_string(),
                no,
                format!("dense user and item ids, below {limit} for a file of this length"),
                line,
            ));
        }
        rows.push((u, i, label(path, no, f[2])?));
        users = users.max(u as usize + 1);
        items = items.max(i as usize + 1);
    }
    let mut histories = vec![Vec::new(); users];
    for (u, item, y) in rows {
        histories[u as usize].push(Interaction { item, y });
    }
    Ok((histories, items))
}

/// A task being read: its user and its support and query points by position.
type Sets = (u32, BTreeMap<u32, Interaction>, BTreeMap<u32, Interaction>);

/// Reads `episodes.tsv` (`split task set pos user item label`, with a header).
pub fn read_episodes(path: &Path, users: usize, items: usize) -> Result<Episodes> {
    let text = read_text(path)?;
    let file = path.display().to_string();
    let mut tasks: BTreeMap<(u8, u32), Sets> = BTreeMap::new();
    let mut lines = lines(&text);
    match lines.next() {
        Some((_, h))
            if h.split('\t').collect::<Vec<_>>()
                == ["split", "task", "set", "pos", "user", "item", "label"] => {}
        Some((no, h)) => {
            return Err(TanpError::parse(
                file,
                no,
                "the header split/task/set/pos/user/item/label",
                h,
            ));
        }
        None => return Err(TanpError::parse(file, 1, "a header line", "")),
    }
    for (no, line) in lines {
        episode_line(path, no, line, (users, items), &mut tasks)?;
    }
    let mut episodes = Episodes::default();
    for ((split, _), (user, support, query)) in tasks {
        let task = Task {
            user,
            support: support.into_values().collect(),
            query: query.into_values().collect(),
        };
        match split {
            0 => episodes.train.push(task),
            1 => episodes.valid.push(task),
            _ => episodes.test.push(task),
        }
    }
    Ok(episodes)
}

/// Adds line `no` of `episodes.tsv` to its task in `tasks` (keyed by split and task number),
/// for `limits` = (users, items) of the ratings file.
fn episode_line(
    path: &Path,
    no: usize,
    line: &str,
    limits: (usize, usize),
    tasks: &mut BTreeMap<(u8, u32), Sets>,
) -> Result<()> {
    let file = || path.display().to_string();
    let (users, items) = limits;
    let f = split_exact(
        path,
        no,
        line,
        "\t",
        7,
        "(split, task, set, pos, user, item, label)",
    )?;
    let split = match f[0] {
        "training" => 0u8,
        "validation" => 1,
        "testing" => 2,
        other => {
            return Err(TanpError::parse(
                file(),
                no,
                "training, validation or testing",
                other,
            ));
        }
    };
    let task: u32 = parse_field(path, no, "a task number", f[1])?;
    let pos: u32 = parse_field(path, no, "a position", f[3])?;
    let user: u32 = parse_field(path, no, "a user id", f[4])?;
    let item: u32 = parse_field(path, no, "an item id", f[5])?;
    if user as usize >= users || item as usize >= items {
        return Err(TanpError::parse(
            file(),
            no,
            format!("user < {users} and item < {items} (ids of ratings_final.txt)"),
            line,
        ));
    }
    let point = Interaction {
        item,
        y: label(path, no, f[6])?,
    };
    let entry = tasks
        .entry((split, task))
        .or_insert_with(|| (user, BTreeMap::new(), BTreeMap::new()));
    if entry.0 != user {
        return Err(TanpError::parse(
            file(),
            no,
            format!("user {} for this task", entry.0),
            f[4],
        ));
    }
    let set = match f[2] {
        "support" => &mut entry.1,
        "query" => &mut entry.2,
        other => return Err(TanpError::parse(file(), no, "support or query", other)),
    };
    if set.insert(pos, point).is_some() {
        return Err(TanpError::parse(
            file(),
            no,
            "a new position in this set",
            f[3],
        ));
    }
    Ok(())
}

/// Loads Last.FM from `dir` (the `lastfm` folder).
pub fn load(dir: &Path) -> Result<Dataset> {
    let tanp = dir.join("tanp_lastfm_20");
    let ratings = tanp.join("ratings_final.txt");
    let (histories, items) = read_ratings(&ratings)?;
    let users = histories.len();
    let episodes_path = tanp.join("episodes.tsv");
    let episodes = read_episodes(&episodes_path, users, items)?;
    Ok(Dataset {
        name: "lastfm".into(),
        feedback: Feedback::Implicit,
        users: FeatureTable::ids("user", users),
        items: FeatureTable::ids("item", items),
        user_ids: (0..users).map(|u| u.to_string()).collect(),
        catalog: (0..items)
            .map(|i| CatalogItem::unnamed("artist", i))
            .collect(),
        profile_fields: Vec::new(),
        histories,
        episodes: Some(episodes),
        identity: serde_json::json!({
            "dataset": "lastfm",
            "files": [file_identity(&ratings)?, file_identity(&episodes_path)?],
        }),
    })
}

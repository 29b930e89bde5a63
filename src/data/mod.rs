//! Dataset readers (native only). Each turns the files of `../shared/data` into a [`Dataset`]:
//! feature tables for users and items, every user's interaction history, and the item catalog.
//! Every malformed line is an error naming the file, the line and what was expected.

pub mod clusters;
pub mod generic;
pub mod gowalla;
pub mod lastfm;
pub mod movielens;
pub mod parquet_rows;
pub mod spec;
pub mod split;
pub mod synthetic;

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::config::Feedback;
pub use crate::data_types::{CatalogItem, ProfileField};
use crate::error::{Result, TanpError};
use crate::features::FeatureTable;
use crate::task::{Interaction, Task};

/// A dataset in model-ready form. Users and items are indexed 0..n.
#[derive(Clone, Debug)]
pub struct Dataset {
    pub name: String,
    pub feedback: Feedback,
    pub users: FeatureTable,
    pub items: FeatureTable,
    /// The dataset's own id of each user.
    pub user_ids: Vec<String>,
    pub catalog: Vec<CatalogItem>,
    /// Names of the user fields' values, for a visitor who chooses to give them (empty when the
    /// user features are plain ids).
    pub profile_fields: Vec<ProfileField>,
    /// Every user's interactions, in file order.
    pub histories: Vec<Vec<Interaction>>,
    /// Fixed task episodes, when the dataset ships them (TaNP's own Last.FM episodes).
    pub episodes: Option<Episodes>,
    /// A short identity of the source files (name, sizes, hashes) for results.
    pub identity: serde_json::Value,
}

/// Training, validation and test tasks.
#[derive(Clone, Debug, Default)]
pub struct Episodes {
    pub train: Vec<Task>,
    pub valid: Vec<Task>,
    pub test: Vec<Task>,
}

impl Dataset {
    /// Number of interactions over all users.
    pub fn interactions(&self) -> usize {
        self.histories.iter().map(Vec::len).sum()
    }
}

/// Reads a UTF-8 text file, naming the path on failure and the line of the first byte that is
/// not UTF-8.
pub fn read_text(path: &Path) -> Result<String> {
    let bytes = std::fs::read(path).map_err(|e| TanpError::io(path, e))?;
    String::from_utf8(bytes).map_err(|e| {
        let at = e.utf8_error().valid_up_to();
        let bytes = e.as_bytes();
        let line = 1 + bytes[..at].iter().filter(|&&b| b == b'\n').count();
        let start = bytes[..at]
            .iter()
            .rposition(|&b| b == b'\n')
            .map_or(0, |p| p + 1);
        TanpError::parse(
            path.display().to_string(),
            line,
            "UTF-8 text",
            format!(
                "{}<byte 0x{:02x}>",
                String::from_utf8_lossy(&bytes[start..at]),
                bytes[at]
            ),
        )
    })
}

/// The largest id a reader of dense id tables accepts for a file of `rows` lines: ids index
/// vectors, so an id far beyond the number of lines (4294967295, say) would allocate billions
/// of empty entries.
pub fn dense_id_limit(rows: usize) -> usize {
    rows.max(1024).saturating_mul(2)
}

/// The lines of a file with their 1-based numbers, `\r` stripped, empty lines skipped.
pub fn lines(text: &str) -> impl Iterator<Item = (usize, &str)> {
    text.lines()
        .enumerate()
        .map(|(i, l)| (i + 1, l.trim_end_matches('\r')))
        .filter(|(_, l)| !l.trim().is_empty())
}

/// Parses a field of a line, or names the file, line, field and the expected kind.
pub fn parse_field<T: std::str::FromStr>(
    file: &Path,
    line: usize,
    what: &str,
    value: &str,
) -> Result<T> {
    value
        .trim()
        .parse()
        .map_err(|_| TanpError::parse(file.display().to_string(), line, what, value))
}

/// The non-empty lines of a file's `text` with their numbers, each split into exactly `n`
/// fields by `sep` (or an error naming the file, the line and the expected `layout`).
pub fn records<'a>(
    path: &'a Path,
    text: &'a str,
    sep: &'a str,
    n: usize,
    layout: &'a str,
) -> impl Iterator<Item = Result<(usize, Vec<&'a str>)>> + 'a {
    lines(text).map(move |(no, line)| split_exact(path, no, line, sep, n, layout).map(|f| (no, f)))
}

/// Splits a line into exactly `n` fields by `sep`.
pub fn split_exact<'a>(
    file: &Path,
    line_no: usize,
    line: &'a str,
    sep: &str,
    n: usize,
    layout: &str,
) -> Result<Vec<&'a str>> {
    let parts: Vec<&str> = line.split(sep).collect();
    if parts.len() != n {
        return Err(TanpError::parse(
            file.display().to_string(),
            line_no,
            format!(
                "{n} fields {layout} separated by {sep:?}, got {}",
                parts.len()
            ),
            line,
        ));
    }
    Ok(parts)
}

/// As many negatives (label 0) as `positives` (distinct items), drawn uniformly without
/// replacement from the items of `0..items` not among them: MKR's rule for implicit data, which
/// the paper follows (Gowalla, your own implicit data).
pub fn sampled_negatives(
    positives: &[u32],
    items: usize,
    rng: &mut impl rand::Rng,
) -> Vec<crate::task::Interaction> {
    use rand::seq::IndexedRandom;
    let pos: std::collections::HashSet<u32> = positives.iter().copied().collect();
    let candidates: Vec<u32> = (0..items as u32).filter(|i| !pos.contains(i)).collect();
    candidates
        .choose_multiple(rng, positives.len())
        .map(|&item| crate::task::Interaction { item, y: 0.0 })
        .collect()
}

/// Size and a content hash of a file, for the data identity in results.
pub fn file_identity(path: &Path) -> Result<serde_json::Value> {
    use sha2::{Digest, Sha256};
    let bytes = std::fs::read(path).map_err(|e| TanpError::io(path, e))?;
    let hash = Sha256::digest(&bytes);
    let hex: String = hash.iter().take(8).map(|b| format!("{b:02x}")).collect();
    Ok(serde_json::json!({
        "file": path.file_name().map(|f| f.to_string_lossy().to_string()),
        "bytes": bytes.len(),
        "sha256_prefix": hex,
    }))
}

/// The datasets this crate reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum DatasetName {
    Ml1m,
    Lastfm,
    Gowalla,
    /// Your own data ([`generic`]): the files are named by `--interactions`, `--items` and
    /// `--users`, not found in the data folder.
    Csv,
}

impl DatasetName {
    pub fn as_str(self) -> &'static str {
        match self {
            DatasetName::Ml1m => "ml-1m",
            DatasetName::Lastfm => "lastfm",
            DatasetName::Gowalla => "gowalla",
            DatasetName::Csv => "csv",
        }
    }

    /// Loads the dataset from `data_dir` (the folder with `ml-1m/`, `lastfm/`, `gowalla/`).
    pub fn load(self, data_dir: &Path) -> Result<Dataset> {
        match self {
            DatasetName::Ml1m => movielens::load(&data_dir.join("ml-1m")),
            DatasetName::Lastfm => lastfm::load(&data_dir.join("lastfm")),
            DatasetName::Gowalla => {
                gowalla::load(&data_dir.join("gowalla"), &gowalla::Subset::default())
            }
            DatasetName::Csv => Err(TanpError::Config(
                "your own data is read from the files --interactions (and --items, --users) name"
                    .into(),
            )),
        }
    }
}

impl std::str::FromStr for DatasetName {
    type Err = TanpError;
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "ml-1m" | "movielens" | "ml1m" => Ok(DatasetName::Ml1m),
            "lastfm" | "last.fm" => Ok(DatasetName::Lastfm),
            "gowalla" => Ok(DatasetName::Gowalla),
            "csv" | "own" => Ok(DatasetName::Csv),
            other => Err(TanpError::Config(format!(
                "unknown dataset {other:?}: expected ml-1m, lastfm, gowalla or csv (your own \
                 data, with --interactions FILE)"
            ))),
        }
    }
}

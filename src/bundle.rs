//! The model bundle: the one format that carries a trained model from native training to the
//! browser. A directory of three open-format files:
//!
//! - `manifest.json`: format name and version, the [`ModelConfig`], where the model came from
//!   (command, data, metrics), the soft cluster assignments of sampled training tasks (the
//!   paper's Figure 4), and the size and SHA-256 of the two other files;
//! - `catalog.json`: the items the page shows (id, title, year, genres) and the categorical
//!   features the model needs for each of them;
//! - `weights.safetensors`: the weights, named by their module path.
//!
//! The manifest covers itself too: its `checksum` is the SHA-256 of its own bytes with that
//! field's value written as 64 zeros ([`manifest_checksum`]).

use std::collections::BTreeMap;

use burn::tensor::Device;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::config::{EmbeddingSpec, ModelConfig};
use crate::data_types::{CatalogItem, ProfileField};
use crate::error::{MAX_ECHO, Result, TanpError, shorten};
use crate::features::FeatureTable;
use crate::model::Tanp;
use crate::recommend::Recommender;

/// The `format` field of every manifest.
pub const FORMAT: &str = "tanp-bundle";
/// The manifest version this code reads and writes.
pub const VERSION: u32 = 1;
pub const MANIFEST: &str = "manifest.json";
pub const CATALOG: &str = "catalog.json";
pub const WEIGHTS: &str = "weights.safetensors";

/// Size and checksum of one bundle file.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FileEntry {
    pub bytes: usize,
    pub sha256: String,
}

/// One sampled training task of Figure 4: who, how many ratings, and its assignment c_i.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TaskAssignment {
    pub user: String,
    pub ratings: usize,
    pub clusters: Vec<f32>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    pub format: String,
    pub version: u32,
    pub config: ModelConfig,
    pub dataset: String,
    /// How the model was made and how well it does: free-form, shown to people.
    pub provenance: serde_json::Value,
    pub training_clusters: Vec<TaskAssignment>,
    /// Item ids a visitor starts rating from: well-known items of varied genres.
    #[serde(default)]
    pub starters: Vec<String>,
    /// The user fields a visitor may fill in, with their values' names (empty: ids only).
    #[serde(default)]
    pub profile_fields: Vec<ProfileField>,
    pub files: BTreeMap<String, FileEntry>,
    /// SHA-256 of this file's bytes with this value as 64 zeros (see [`manifest_checksum`]).
    #[serde(default)]
    pub checksum: String,
}

/// The contents of `catalog.json`.
#[derive(Clone, Debug, PartialEq)]
pub struct CatalogFile {
    pub items: Vec<CatalogItem>,
    pub features: FeatureTable,
}

/// A feature field as `catalog.json` stores it: without `offsets` when every item has exactly
/// one value, and then without `values` too when item i's value is i + 1 (an item-id field),
/// so that a large catalog does not spend bytes on what its shape says.
#[derive(Serialize, Deserialize)]
struct StoredField {
    name: String,
    vocab: usize,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    offsets: Option<Vec<u32>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    values: Option<Vec<u32>>,
}

#[derive(Serialize, Deserialize)]
struct StoredFeatures {
    fields: Vec<StoredField>,
}

#[derive(Serialize, Deserialize)]
struct StoredCatalog {
    items: Vec<CatalogItem>,
    features: StoredFeatures,
}

impl StoredField {
    fn of(field: &crate::features::Field) -> Self {
        let (offsets, values) = field.parts();
        let single = offsets.len() == values.len() + 1
            && offsets.iter().enumerate().all(|(i, &o)| o as usize == i);
        let ids = single && values.iter().enumerate().all(|(i, &v)| v as usize == i + 1);
        StoredField {
            name: field.name.clone(),
            vocab: field.vocab,
            offsets: (!single).then(|| offsets.to_vec()),
            values: (!ids).then(|| values.to_vec()),
        }
    }

    /// The field of `items` entities (what the file leaves out is built for that many only, so
    /// a small file cannot ask for a large allocation).
    fn expand(self, items: usize) -> Result<crate::features::Field> {
        let bad =
            |what: String| TanpError::Model(format!("{CATALOG}: field {}: {what}", self.name));
        let values = match (self.values, &self.offsets) {
            (Some(v), _) => v,
            (None, None) => (1..=items as u32).collect(),
            (None, Some(_)) => return Err(bad("offsets without values".into())),
        };
        let offsets = match self.offsets {
            Some(o) => o,
            None if values.len() == items => (0..=items as u32).collect(),
            None => {
                return Err(bad(format!(
                    "one value per item expected ({items} items), found {}",
                    values.len()
                )));
            }
        };
        Ok(crate::features::Field::from_parts(
            self.name, self.vocab, offsets, values,
        ))
    }
}

impl<'de> Deserialize<'de> for CatalogFile {
    /// The file's structure, expanded but not yet checked ([`CatalogFile::parse`] checks it).
    fn deserialize<D: serde::Deserializer<'de>>(
        deserializer: D,
    ) -> std::result::Result<Self, D::Error> {
        let stored = StoredCatalog::deserialize(deserializer)?;
        let n = stored.items.len();
        let fields = stored
            .features
            .fields
            .into_iter()
            .map(|f| f.expand(n))
            .collect::<Result<Vec<_>>>()
            .map_err(serde::de::Error::custom)?;
        Ok(CatalogFile {
            items: stored.items,
            features: FeatureTable { fields },
        })
    }
}

impl Serialize for CatalogFile {
    fn serialize<S: serde::Serializer>(
        &self,
        serializer: S,
    ) -> std::result::Result<S::Ok, S::Error> {
        #[derive(Serialize)]
        struct Out<'a> {
            items: &'a [CatalogItem],
            features: StoredFeatures,
        }
        Out {
            items: &self.items,
            features: StoredFeatures {
                fields: self.features.fields.iter().map(StoredField::of).collect(),
            },
        }
        .serialize(serializer)
    }
}

/// A bundle in memory, checked.
#[derive(Clone, Debug)]
pub struct Bundle {
    pub manifest: Manifest,
    pub catalog: CatalogFile,
    pub weights: Vec<u8>,
}

/// The SHA-256 (lowercase hex) of a bundle's catalog and weights files.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileDigests {
    pub catalog: String,
    pub weights: String,
}

/// The model of `manifest` from the weights' bytes, with its catalog: see
/// [`Bundle::recommender`].
fn build_recommender(
    manifest: &Manifest,
    items: Vec<CatalogItem>,
    features: &crate::features::FeatureTable,
    weights: Vec<u8>,
    device: &Device,
) -> Result<Recommender> {
    let model = crate::weights::model_from_bytes(&manifest.config, weights, WEIGHTS, device)?;
    let recommender = Recommender::new(model, manifest.config.clone(), items, features, device)?;
    let blind = manifest.config.objective == crate::config::Objective::Catalog
        && manifest.profile_fields.is_empty();
    Ok(if blind {
        recommender.refuse_profiles()
    } else {
        recommender
    })
}

/// Hex SHA-256 of `bytes`.
pub fn sha256(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The placeholder a manifest's checksum stands in for while the checksum is computed.
const UNSET: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// The checksum a manifest's `checksum` field must hold: the SHA-256 of the manifest's bytes
/// with the value of that field (`claimed`, found exactly once in the bytes) as 64 zeros.
pub fn manifest_checksum(bytes: &[u8], claimed: &str) -> Result<String> {
    let quoted = format!("\"{claimed}\"");
    let is_hex = claimed.len() == 64 && claimed.bytes().all(|b| b.is_ascii_hexdigit());
    let at: Vec<usize> = bytes
        .windows(quoted.len())
        .enumerate()
        .filter(|(_, w)| *w == quoted.as_bytes())
        .map(|(i, _)| i)
        .collect();
    if !is_hex || at.len() != 1 {
        return Err(TanpError::Model(format!(
            "{MANIFEST}: expected a checksum of 64 hex digits found once, found {:?}",
            crate::error::shorten(claimed, 80)
        )));
    }
    let mut zeroed = bytes.to_vec();
    zeroed[at[0] + 1..at[0] + 65].copy_from_slice(UNSET.as_bytes());
    Ok(sha256(&zeroed))
}

fn entry(bytes: &[u8]) -> FileEntry {
    FileEntry {
        bytes: bytes.len(),
        sha256: sha256(bytes),
    }
}

impl Bundle {
    /// Assembles a bundle from its parts and computes the file entries.
    pub fn new(
        config: ModelConfig,
        dataset: &str,
        provenance: serde_json::Value,
        training_clusters: Vec<TaskAssignment>,
        catalog: CatalogFile,
        weights: Vec<u8>,
    ) -> Result<Self> {
        let catalog_bytes = to_json(&catalog, false)?;
        let files = BTreeMap::from([
            (CATALOG.to_string(), entry(&catalog_bytes)),
            (WEIGHTS.to_string(), entry(&weights)),
        ]);
        Ok(Bundle {
            manifest: Manifest {
                format: FORMAT.into(),
                version: VERSION,
                config,
                dataset: dataset.into(),
                provenance,
                training_clusters,
                starters: Vec::new(),
                profile_fields: Vec::new(),
                files,
                checksum: String::new(),
            },
            catalog,
            weights,
        })
    }

    /// The manifest's bytes, its checksum computed.
    pub fn manifest_bytes(&self) -> Result<Vec<u8>> {
        let mut manifest = self.manifest.clone();
        manifest.checksum = UNSET.into();
        let unset = to_json(&manifest, true)?;
        manifest.checksum = manifest_checksum(&unset, UNSET)?;
        to_json(&manifest, true)
    }

    /// The three files' bytes, as written to disk or served: (name, bytes).
    pub fn files(&self) -> Result<Vec<(&'static str, Vec<u8>)>> {
        Ok(vec![
            (MANIFEST, self.manifest_bytes()?),
            (CATALOG, to_json(&self.catalog, false)?),
            (WEIGHTS, self.weights.clone()),
        ])
    }

    /// Parses and checks a bundle from the bytes of its three files: the format and version,
    /// each file's size and checksum against the manifest, and the catalog against the config.
    pub fn from_bytes(manifest_bytes: &[u8], catalog: &[u8], weights: Vec<u8>) -> Result<Self> {
        let digests = FileDigests {
            catalog: sha256(catalog),
            weights: sha256(&weights),
        };
        Self::from_hashed_bytes(manifest_bytes, catalog, weights, &digests)
    }

    /// [`Bundle::from_bytes`] for a caller that has hashed the catalog and the weights itself
    /// (the browser, whose WebCrypto digests them in about 2 ms where the wasm code, on its
    /// first run, takes 40-50): `digests` must be those files' SHA-256, and are checked against
    /// the manifest as the computed ones would be.
    pub fn from_hashed_bytes(
        manifest_bytes: &[u8],
        catalog: &[u8],
        weights: Vec<u8>,
        digests: &FileDigests,
    ) -> Result<Self> {
        let manifest = Manifest::parse(manifest_bytes)?;
        manifest.check_file(CATALOG, catalog.len(), &digests.catalog)?;
        manifest.check_file(WEIGHTS, weights.len(), &digests.weights)?;
        let catalog = CatalogFile::parse(catalog)?;
        manifest.check_consistency()?;
        Ok(Bundle {
            manifest,
            catalog,
            weights,
        })
    }

    /// The model, ready to recommend on `device`. A catalog-objective bundle without profile
    /// fields was trained with every user field hidden, and refuses profiles.
    pub fn recommender(&self, device: &Device) -> Result<Recommender> {
        build_recommender(
            &self.manifest,
            self.catalog.items.clone(),
            &self.catalog.features,
            self.weights.clone(),
            device,
        )
    }

    /// [`Bundle::recommender`] that gives the catalog and the weights' bytes to the model
    /// instead of copying them (a page holds one copy of a large catalog, not two), and returns
    /// the manifest beside it.
    pub fn into_recommender(self, device: &Device) -> Result<(Manifest, Recommender)> {
        let Bundle {
            manifest,
            catalog,
            weights,
        } = self;
        let recommender =
            build_recommender(&manifest, catalog.items, &catalog.features, weights, device)?;
        Ok((manifest, recommender))
    }

    /// Writes the three files into `dir` (created if needed).
    #[cfg(feature = "native")]
    pub fn write(&self, dir: &std::path::Path) -> Result<()> {
        std::fs::create_dir_all(dir).map_err(|e| TanpError::io(dir, e))?;
        for (name, bytes) in self.files()? {
            let path = dir.join(name);
            std::fs::write(&path, bytes).map_err(|e| TanpError::io(&path, e))?;
        }
        Ok(())
    }

    /// Reads and checks the bundle in `dir`.
    #[cfg(feature = "native")]
    pub fn read(dir: &std::path::Path) -> Result<Self> {
        let read = |name: &str| {
            let path = dir.join(name);
            std::fs::read(&path).map_err(|e| TanpError::io(&path, e))
        };
        Bundle::from_bytes(&read(MANIFEST)?, &read(CATALOG)?, read(WEIGHTS)?)
    }
}

impl Manifest {
    /// Parses `manifest.json`: its format and version first (so that another format is named as
    /// such), then the fields, then its own checksum and the model configuration.
    fn parse(bytes: &[u8]) -> Result<Self> {
        let value: serde_json::Value = serde_json::from_slice(bytes)
            .map_err(|e| TanpError::Model(format!("{MANIFEST} is not JSON: {e}")))?;
        let field = |name: &str| value.get(name).map_or("nothing".into(), |v| v.to_string());
        let format_error = |what, expected: String| TanpError::Format {
            file: MANIFEST.into(),
            what,
            expected,
            found: shorten(&field(what), MAX_ECHO),
        };
        if value.get("format").and_then(|f| f.as_str()) != Some(FORMAT) {
            return Err(format_error("format", format!("\"{FORMAT}\"")));
        }
        if value.get("version").and_then(|v| v.as_u64()) != Some(VERSION as u64) {
            return Err(format_error("version", VERSION.to_string()));
        }
        let manifest: Manifest = serde_json::from_value(value)
            .map_err(|e| TanpError::Model(format!("{MANIFEST}: {e}")))?;
        let found = manifest_checksum(bytes, &manifest.checksum)?;
        if found != manifest.checksum {
            return Err(TanpError::Checksum {
                file: MANIFEST.into(),
                expected: manifest.checksum,
                found,
            });
        }
        manifest.config.validate()?;
        Ok(manifest)
    }

    /// Checks the size and SHA-256 (lowercase hex) of the bundle file `name` against the
    /// manifest's entry.
    fn check_file(&self, name: &str, size: usize, sha256: &str) -> Result<()> {
        let want = self
            .files
            .get(name)
            .ok_or_else(|| TanpError::Model(format!("{MANIFEST} does not list {name}")))?;
        if want.bytes != size {
            return Err(TanpError::FileSize {
                file: name.into(),
                expected: want.bytes,
                found: size,
            });
        }
        if want.sha256 != sha256 {
            return Err(TanpError::Checksum {
                file: name.into(),
                expected: want.sha256.clone(),
                found: crate::error::shorten(sha256, 80),
            });
        }
        Ok(())
    }

    /// The training clusters have k weights each, and the profile fields match the user fields.
    fn check_consistency(&self) -> Result<()> {
        let k = self.config.k;
        if let Some(t) = self
            .training_clusters
            .iter()
            .find(|t| !t.clusters.is_empty() && t.clusters.len() != k)
        {
            return Err(TanpError::Model(format!(
                "{MANIFEST}: training task of user {} has {} cluster weights, expected k = {k}",
                t.user,
                t.clusters.len()
            )));
        }
        let vocab = &self.config.user.field_vocab();
        if !self.profile_fields.is_empty() && self.profile_fields.len() != vocab.len() {
            return Err(TanpError::Model(format!(
                "{MANIFEST}: {} profile fields, expected one per user field ({})",
                self.profile_fields.len(),
                vocab.len()
            )));
        }
        if let Some((f, v)) = self
            .profile_fields
            .iter()
            .zip(vocab)
            .find(|(f, v)| f.labels.len() + 1 != **v)
        {
            return Err(TanpError::Model(format!(
                "{MANIFEST}: profile field {} names {} values, expected {} (its vocabulary less \"unknown\")",
                f.name,
                f.labels.len(),
                v - 1
            )));
        }
        Ok(())
    }
}

impl CatalogFile {
    /// Parses `catalog.json` and checks its features against its items.
    fn parse(bytes: &[u8]) -> Result<Self> {
        let catalog: CatalogFile = serde_json::from_slice(bytes).map_err(|e| {
            let e = e.to_string();
            // What expand says already names the file.
            TanpError::Model(if e.starts_with(CATALOG) {
                e
            } else {
                format!("{CATALOG}: {e}")
            })
        })?;
        catalog.features.validate().map_err(|e| match e {
            TanpError::Model(m) | TanpError::Config(m) => {
                TanpError::Model(format!("{CATALOG}: {m}"))
            }
            other => other,
        })?;
        if catalog.features.len() != catalog.items.len() {
            return Err(TanpError::Model(format!(
                "{CATALOG}: the features describe {} items, the catalog lists {}",
                catalog.features.len(),
                catalog.items.len()
            )));
        }
        Ok(catalog)
    }
}

fn to_json<T: Serialize>(value: &T, pretty: bool) -> Result<Vec<u8>> {
    let bytes = if pretty {
        serde_json::to_vec_pretty(value)
    } else {
        serde_json::to_vec(value)
    };
    bytes.map_err(|e| TanpError::Model(format!("cannot serialise the bundle: {e}")))
}

/// For a model trained with every user field hidden: keeps only the "unknown" row (index 0) of
/// each user field's table, the only one it ever used, and says so in the config (vocabularies
/// of 1). The bundle then carries no untrained rows, and no profile can reach them.
pub fn keep_unknown_user_rows(
    mut model: Tanp,
    config: &ModelConfig,
) -> Result<(Tanp, ModelConfig)> {
    let mut config = config.clone();
    match (&mut model.user_embedding, &config.user) {
        (
            crate::model::embedding::SideEmbedding::Content(tables),
            EmbeddingSpec::Content { vocab, dim },
        ) => {
            for table in &mut tables.tables {
                let row = table.weight.val().slice([0..1, 0..*dim]);
                table.weight = burn::module::Param::from_tensor(row);
            }
            config.user = EmbeddingSpec::Content {
                vocab: vec![1; vocab.len()],
                dim: *dim,
            };
            Ok((model, config))
        }
        (crate::model::embedding::SideEmbedding::Id(id), EmbeddingSpec::Id { hidden, dim, .. }) => {
            // Eq. 6's one-hot id: the "unknown" id's row of its first layer.
            let row = id.w1.weight.val().slice([0..1, 0..*hidden]);
            id.w1.weight = burn::module::Param::from_tensor(row);
            config.user = EmbeddingSpec::Id {
                count: 1,
                hidden: *hidden,
                dim: *dim,
            };
            Ok((model, config))
        }
        _ => Err(TanpError::Model(
            "the user embedding does not match its configuration".into(),
        )),
    }
}

//! Your own data: interactions from a CSV or TSV file with a header line, or a Parquet file, and
//! optionally an items file (titles, categorical and multi-valued fields, image and link URLs)
//! and a users file (categorical fields) in either format, read with the `csv` and `parquet`
//! crates.
//!
//! Columns are found by their header names ([`Columns`]; `--columns user=uid,item=sku` names
//! them). Without a rating column the data is implicit feedback, and each user gets as many
//! negatives as positives drawn from the items they never interacted with, as on Gowalla (the
//! paper's rule for implicit data). Ratings outside 1-5 are mapped linearly onto 1-5 from the
//! file's own range (the model's scale; 4 and 5 count as liked). With a time column each user's
//! history is in time order, else in file order. What was dropped or merged is counted in a
//! [`ReadReport`].

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use rand::SeedableRng;
use rand::rngs::StdRng;
use serde::{Deserialize, Serialize};

use super::{CatalogItem, Dataset, ProfileField, file_identity, sampled_negatives};
use crate::config::Feedback;
use crate::error::{Result, TanpError};
use crate::features::{FeatureTable, Field};
use crate::task::Interaction;

/// Header names each column is recognised by (compared case-insensitively, with `-` and spaces
/// read as `_`).
const USER: &[&str] = &[
    "user",
    "user_id",
    "userid",
    "uid",
    "customer_id",
    "visitor_id",
];
const ITEM: &[&str] = &[
    "item",
    "item_id",
    "itemid",
    "iid",
    "movie_id",
    "movieid",
    "product_id",
    "sku",
    "track_id",
];
const RATING: &[&str] = &["rating", "score", "stars", "value"];
const TIME: &[&str] = &["timestamp", "time", "ts", "date", "datetime"];
const TITLE: &[&str] = &["title", "name"];
const IMAGE: &[&str] = &["image", "image_url", "poster", "thumbnail"];
const LINK: &[&str] = &["link", "url", "href"];
const GENRES: &[&str] = &["genre", "genres", "category", "categories"];
/// The separator of a multi-valued field's values (`Comedy|Drama`).
const MULTI: char = '|';
/// The seed of the implicit data's negatives.
const NEGATIVE_SEED: u64 = 2021;

/// Which header names hold the interactions' columns; `None` = found by name.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Columns {
    pub user: Option<String>,
    pub item: Option<String>,
    pub rating: Option<String>,
    pub time: Option<String>,
}

impl std::str::FromStr for Columns {
    type Err = TanpError;
    /// `user=uid,item=sku,rating=stars,time=ts` (any subset).
    fn from_str(s: &str) -> Result<Self> {
        let mut c = Columns::default();
        for part in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let (key, name) = part.split_once('=').ok_or_else(|| {
                TanpError::Config(format!("--columns: expected ROLE=NAME, found {part:?}"))
            })?;
            let slot = match key.trim() {
                "user" => &mut c.user,
                "item" => &mut c.item,
                "rating" => &mut c.rating,
                "time" => &mut c.time,
                other => {
                    return Err(TanpError::Config(format!(
                        "--columns: unknown role {other:?} (expected user, item, rating or time)"
                    )));
                }
            };
            *slot = Some(name.trim().to_string());
        }
        Ok(c)
    }
}

/// Where a dataset of your own comes from.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Source {
    pub interactions: PathBuf,
    pub items: Option<PathBuf>,
    pub users: Option<PathBuf>,
    pub columns: Columns,
}

/// What reading did beyond taking rows as they are.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ReadReport {
    /// Data rows of the interactions file.
    pub rows: usize,
    /// Interactions kept (each user and item pair once).
    pub interactions: usize,
    pub users: usize,
    pub items: usize,
    /// Repeated user and item pairs: the last one (in time, else file order) is kept.
    pub duplicates: usize,
    /// Rows whose item is not in the items file: dropped.
    pub unknown_items: usize,
    /// Users of the users file without any interaction: left out.
    pub users_without_interactions: usize,
    /// Items of the items file nobody interacted with: kept in the catalog.
    pub items_without_interactions: usize,
    /// The ratings' range in the file (explicit data).
    pub rating_range: Option<[f32; 2]>,
    /// Whether the ratings were mapped onto 1-5.
    pub rescaled: bool,
    /// Negatives drawn for implicit data.
    pub negatives: usize,
}

impl ReadReport {
    /// One line for the terminal.
    pub fn describe(&self) -> String {
        let mut s = format!(
            "{} rows: {} interactions of {} users with {} items",
            self.rows, self.interactions, self.users, self.items
        );
        for (n, what) in [
            (self.duplicates, "repeated user-item pairs merged"),
            (
                self.unknown_items,
                "rows with items not in the items file dropped",
            ),
            (
                self.users_without_interactions,
                "users without interactions left out",
            ),
            (
                self.items_without_interactions,
                "items without interactions kept",
            ),
            (self.negatives, "negatives drawn (implicit data)"),
        ] {
            if n > 0 {
                s.push_str(&format!("; {n} {what}"));
            }
        }
        if let (Some([lo, hi]), true) = (self.rating_range, self.rescaled) {
            s.push_str(&format!("; ratings {lo}-{hi} mapped onto 1-5"));
        }
        s
    }
}

/// One delimited file with a header: its path, its header names and its records.
struct Table {
    path: PathBuf,
    header: Vec<String>,
    rows: Vec<(usize, csv::StringRecord)>,
}

fn normalise(name: &str) -> String {
    name.trim()
        .trim_start_matches('\u{feff}')
        .to_lowercase()
        .replace(['-', ' '], "_")
}

impl Table {
    /// Reads `path`: Parquet when its name ends in `.parquet` or `.pq` ([`super::parquet_rows`]);
    /// tab-separated when it ends in `.tsv` or `.tab` or its first line holds a tab, else
    /// comma-separated; quotes as in RFC 4180.
    fn read(path: &Path) -> Result<Table> {
        let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("");
        if matches!(ext.to_ascii_lowercase().as_str(), "parquet" | "pq") {
            let (header, rows) = super::parquet_rows::read(path)?;
            return Ok(Table {
                path: path.to_path_buf(),
                header: header.iter().map(|h| normalise(h)).collect(),
                rows,
            });
        }
        let text = super::read_text(path)?;
        let first = text.lines().next().unwrap_or("");
        let tab = matches!(ext, "tsv" | "tab") || first.contains('\t');
        let mut reader = csv::ReaderBuilder::new()
            .delimiter(if tab { b'\t' } else { b',' })
            .flexible(false)
            .from_reader(text.as_bytes());
        let header: Vec<String> = reader
            .headers()
            .map_err(|e| csv_error(path, &e))?
            .iter()
            .map(normalise)
            .collect();
        if header.iter().all(String::is_empty) {
            return Err(TanpError::parse(
                path.display().to_string(),
                1,
                "a header line",
                first,
            ));
        }
        let mut rows = Vec::new();
        for record in reader.records() {
            let record = record.map_err(|e| csv_error(path, &e))?;
            let line = record.position().map_or(0, |p| p.line() as usize);
            if record.iter().all(|f| f.trim().is_empty()) {
                continue;
            }
            rows.push((line, record));
        }
        Ok(Table {
            path: path.to_path_buf(),
            header,
            rows,
        })
    }

    /// The column named `given` (from `--columns`), else the first of `names` in the header.
    fn column(&self, given: Option<&str>, names: &[&str], role: &str) -> Result<Option<usize>> {
        match given {
            // `--columns rating=`: no such column (implicit feedback, say).
            Some("") => Ok(None),
            Some(name) => {
                let want = normalise(name);
                let at = self.header.iter().position(|h| *h == want);
                at.map(Some).ok_or_else(|| {
                    TanpError::Config(format!(
                        "{}: no column {name:?} for the {role} (the header has {:?})",
                        self.path.display(),
                        self.header
                    ))
                })
            }
            None => Ok(names
                .iter()
                .find_map(|n| self.header.iter().position(|h| h == n))),
        }
    }

    fn required(&self, given: Option<&str>, names: &[&str], role: &str) -> Result<usize> {
        self.column(given, names, role)?.ok_or_else(|| {
            TanpError::Config(format!(
                "{}: no {role} column: expected one of {names:?} in the header {:?}, or name it \
                 with --columns {role}=NAME",
                self.path.display(),
                self.header
            ))
        })
    }

    fn value<'a>(&self, record: &'a csv::StringRecord, column: usize) -> &'a str {
        record.get(column).unwrap_or("").trim()
    }

    /// The non-empty value of `column` in `record`, or an error naming the file and line.
    fn needed<'a>(
        &self,
        (line, record): &'a (usize, csv::StringRecord),
        column: usize,
        what: &str,
    ) -> Result<&'a str> {
        let v = self.value(record, column);
        if v.is_empty() {
            return Err(TanpError::parse(
                self.path.display().to_string(),
                *line,
                format!("a {what} in column {:?}", self.header[column]),
                record.iter().collect::<Vec<_>>().join(","),
            ));
        }
        Ok(v)
    }
}

impl Table {
    /// The finite number in `column` of a row, or an error naming the file and line.
    fn number(&self, r: &(usize, csv::StringRecord), column: usize) -> Result<f32> {
        let v = self.needed(r, column, "rating")?;
        match v.parse::<f32>() {
            Ok(y) if y.is_finite() => Ok(y),
            _ => Err(TanpError::parse(
                self.path.display().to_string(),
                r.0,
                format!("a finite number in column {:?}", self.header[column]),
                v,
            )),
        }
    }
}

fn csv_error(path: &Path, e: &csv::Error) -> TanpError {
    let line = e.position().map_or(0, |p| p.line() as usize);
    TanpError::parse(
        path.display().to_string(),
        line,
        "a well-formed delimited row with as many fields as the header",
        e.to_string(),
    )
}

/// The categorical columns of an items or users file as feature fields: index 0 is "unknown"
/// (an empty value), multi-valued columns (any value holding `|`) take several indices.
struct Categorical {
    names: Vec<String>,
    vocabs: Vec<Vec<String>>,
    /// Per entity (in order) and column, the value indices.
    values: Vec<Vec<Vec<u32>>>,
}

impl Categorical {
    /// The fields of `columns` for the entities whose rows are `order` (`None`: a row the
    /// file lacks, every field unknown).
    fn new(table: &Table, columns: &[usize], order: &[Option<usize>]) -> Categorical {
        let multi: Vec<bool> = columns
            .iter()
            .map(|&c| {
                table
                    .rows
                    .iter()
                    .any(|(_, r)| table.value(r, c).contains(MULTI))
            })
            .collect();
        let mut vocabs: Vec<Vec<String>> = vec![vec!["unknown".into()]; columns.len()];
        let mut index: Vec<HashMap<String, u32>> = vec![HashMap::new(); columns.len()];
        let none = csv::StringRecord::new();
        let values = order
            .iter()
            .map(|&row| {
                let record = row.map_or(&none, |row| &table.rows[row].1);
                columns
                    .iter()
                    .enumerate()
                    .map(|(f, &c)| {
                        let raw = table.value(record, c);
                        let parts: Vec<&str> = if multi[f] {
                            raw.split(MULTI).map(str::trim).collect()
                        } else {
                            vec![raw]
                        };
                        parts
                            .into_iter()
                            .filter(|p| !p.is_empty())
                            .map(|p| {
                                *index[f].entry(p.to_string()).or_insert_with(|| {
                                    vocabs[f].push(p.to_string());
                                    vocabs[f].len() as u32 - 1
                                })
                            })
                            .collect()
                    })
                    .collect()
            })
            .collect();
        Categorical {
            names: columns.iter().map(|&c| table.header[c].clone()).collect(),
            vocabs,
            values,
        }
    }

    fn table(&self) -> Result<FeatureTable> {
        let mut fields: Vec<Field> = self
            .names
            .iter()
            .zip(&self.vocabs)
            .map(|(n, v)| Field::new(n.clone(), v.len()))
            .collect();
        for entity in &self.values {
            for (field, v) in fields.iter_mut().zip(entity) {
                field.push(if v.is_empty() { &[0] } else { v })?;
            }
        }
        Ok(FeatureTable { fields })
    }
}

/// The items: from the items file when given (every row, in file order), else every item of
/// the interactions in order of first appearance.
struct Items {
    ids: Vec<String>,
    index: HashMap<String, u32>,
    table: FeatureTable,
    catalog: Vec<CatalogItem>,
}

fn read_items(path: &Path) -> Result<Items> {
    let t = Table::read(path)?;
    let id = t.required(None, &[ITEM, &["id"]].concat(), "item")?;
    let title = t.column(None, TITLE, "title")?;
    let image = t.column(None, IMAGE, "image")?;
    let link = t.column(None, LINK, "link")?;
    let genres = t.column(None, GENRES, "genres")?;
    let mut index = HashMap::new();
    for (row, r) in t.rows.iter().enumerate() {
        let key = t.needed(r, id, "item id")?.to_string();
        if index.insert(key, row as u32).is_some() {
            return Err(TanpError::parse(
                path.display().to_string(),
                r.0,
                "each item once",
                t.value(&r.1, id),
            ));
        }
    }
    let content: Vec<usize> = (0..t.header.len())
        .filter(|c| ![Some(id), title, image, link].contains(&Some(*c)))
        .collect();
    let every: Vec<Option<usize>> = (0..t.rows.len()).map(Some).collect();
    let fields = Categorical::new(&t, &content, &every);
    let opt = |r: &csv::StringRecord, c: Option<usize>| {
        c.map(|c| t.value(r, c).to_string())
            .filter(|v| !v.is_empty())
    };
    let catalog = t
        .rows
        .iter()
        .map(|(_, r)| {
            let id = t.value(r, id).to_string();
            CatalogItem {
                title: opt(r, title).unwrap_or_else(|| id.clone()),
                id,
                year: None,
                genres: genres
                    .map(|g| {
                        let v = t.value(r, g);
                        v.split(MULTI)
                            .map(str::trim)
                            .filter(|s| !s.is_empty())
                            .map(String::from)
                            .collect()
                    })
                    .unwrap_or_default(),
                ratings: 0,
                image: opt(r, image),
                link: opt(r, link),
            }
        })
        .collect();
    let table = if content.is_empty() {
        FeatureTable::ids("item", t.rows.len())
    } else {
        fields.table()?
    };
    Ok(Items {
        ids: t
            .rows
            .iter()
            .map(|(_, r)| t.value(r, id).to_string())
            .collect(),
        index,
        table,
        catalog,
    })
}

/// One interaction row as read.
struct Row {
    user: String,
    item: u32,
    y: f32,
    time: Option<String>,
    order: usize,
}

/// Loads a dataset of your own (see the module documentation).
pub fn load(source: &Source) -> Result<(Dataset, ReadReport)> {
    let t = Table::read(&source.interactions)?;
    let mut report = ReadReport {
        rows: t.rows.len(),
        ..ReadReport::default()
    };
    let items = match &source.items {
        Some(p) => Some(read_items(p)?),
        None => None,
    };
    let (mut rows, item_ids, explicit) =
        read_rows(&t, &source.columns, items.as_ref(), &mut report)?;
    let feedback = if explicit {
        rescale(&mut rows, &mut report, &t.path)?;
        Feedback::Explicit
    } else {
        Feedback::Implicit
    };
    let (user_ids, mut histories) = histories(rows, &mut report);
    let n_items = item_ids.len();
    let mut seen = vec![false; n_items];
    for x in histories.iter().flatten() {
        seen[x.item as usize] = true;
    }
    report.items_without_interactions = seen.iter().filter(|s| !**s).count();
    if feedback == Feedback::Implicit {
        add_negatives(&mut histories, n_items, &mut report);
    }
    report.users = user_ids.len();
    report.items = n_items;
    let (users, profile_fields) = match &source.users {
        Some(p) => read_users(p, &user_ids, &mut report)?,
        None => (FeatureTable::ids("user", user_ids.len()), Vec::new()),
    };
    let (items_table, catalog) = match items {
        Some(it) => (it.table, it.catalog),
        None => (
            FeatureTable::ids("item", n_items),
            item_ids
                .iter()
                .map(|id| CatalogItem::unnamed("item", id))
                .collect(),
        ),
    };
    let mut files = vec![file_identity(&source.interactions)?];
    for p in [&source.items, &source.users].into_iter().flatten() {
        files.push(file_identity(p)?);
    }
    let data = Dataset {
        name: "csv".into(),
        feedback,
        users,
        items: items_table,
        user_ids,
        catalog,
        profile_fields,
        histories,
        episodes: None,
        identity: serde_json::json!({ "dataset": "csv", "files": files, "read": report }),
    };
    Ok((data, report))
}

/// The interaction rows of `t`, the item ids (the items file's, else in order of first
/// appearance) and whether the rows carry ratings (explicit feedback).
fn read_rows(
    t: &Table,
    c: &Columns,
    items: Option<&Items>,
    report: &mut ReadReport,
) -> Result<(Vec<Row>, Vec<String>, bool)> {
    let user_col = t.required(c.user.as_deref(), USER, "user")?;
    let item_col = t.required(c.item.as_deref(), ITEM, "item")?;
    let rating_col = t.column(c.rating.as_deref(), RATING, "rating")?;
    let time_col = t.column(c.time.as_deref(), TIME, "time")?;
    let (mut item_ids, mut item_index) = match items {
        Some(it) => (it.ids.clone(), it.index.clone()),
        None => (Vec::new(), HashMap::new()),
    };
    let mut rows = Vec::with_capacity(t.rows.len());
    for (order, r) in t.rows.iter().enumerate() {
        let user = t.needed(r, user_col, "user id")?.to_string();
        let item_key = t.needed(r, item_col, "item id")?;
        let item = match item_index.get(item_key) {
            Some(&i) => i,
            None if items.is_some() => {
                report.unknown_items += 1;
                continue;
            }
            None => {
                item_ids.push(item_key.to_string());
                item_index.insert(item_key.to_string(), item_ids.len() as u32 - 1);
                item_ids.len() as u32 - 1
            }
        };
        let y = match rating_col {
            Some(col) => t.number(r, col)?,
            None => 1.0,
        };
        let time = time_col.map(|col| t.value(&r.1, col).to_string());
        rows.push(Row {
            user,
            item,
            y,
            time,
            order,
        });
    }
    if rows.is_empty() {
        return Err(TanpError::Config(format!(
            "{}: no interaction to learn from ({} rows, {} with unknown items)",
            t.path.display(),
            report.rows,
            report.unknown_items
        )));
    }
    Ok((rows, item_ids, rating_col.is_some()))
}

/// Implicit data: as many negatives as positives for each user ([`sampled_negatives`]).
fn add_negatives(histories: &mut [Vec<Interaction>], n_items: usize, report: &mut ReadReport) {
    let mut rng = StdRng::seed_from_u64(NEGATIVE_SEED);
    for h in histories {
        let positives: Vec<u32> = h.iter().map(|x| x.item).collect();
        let negatives = sampled_negatives(&positives, n_items, &mut rng);
        report.negatives += negatives.len();
        h.extend(negatives);
    }
}

/// Maps ratings outside 1-5 linearly onto 1-5 from their own range.
fn rescale(rows: &mut [Row], report: &mut ReadReport, path: &Path) -> Result<()> {
    let lo = rows.iter().map(|r| r.y).fold(f32::INFINITY, f32::min);
    let hi = rows.iter().map(|r| r.y).fold(f32::NEG_INFINITY, f32::max);
    report.rating_range = Some([lo, hi]);
    if hi <= lo {
        return Err(TanpError::Config(format!(
            "{}: every rating is {lo}: without a spread there is nothing to learn from them; \
             leave the rating column out (--columns rating=) for implicit feedback",
            path.display()
        )));
    }
    if lo >= 1.0 && hi <= 5.0 {
        return Ok(());
    }
    for r in rows.iter_mut() {
        r.y = 1.0 + 4.0 * (r.y - lo) / (hi - lo);
    }
    report.rescaled = true;
    Ok(())
}

/// Each user's interactions in time order (ties and rows without a time in file order), each
/// item once (the last).
fn histories(mut rows: Vec<Row>, report: &mut ReadReport) -> (Vec<String>, Vec<Vec<Interaction>>) {
    // Users in order of first appearance in the file.
    let mut user_index: HashMap<String, usize> = HashMap::new();
    let mut user_ids = Vec::new();
    for r in &rows {
        user_index.entry(r.user.clone()).or_insert_with(|| {
            user_ids.push(r.user.clone());
            user_ids.len() - 1
        });
    }
    rows.sort_by(|a, b| {
        let time = match (&a.time, &b.time) {
            (Some(x), Some(y)) => match (x.parse::<f64>(), y.parse::<f64>()) {
                (Ok(x), Ok(y)) => x.total_cmp(&y),
                _ => x.cmp(y),
            },
            _ => std::cmp::Ordering::Equal,
        };
        time.then(a.order.cmp(&b.order))
    });
    // From the last row back, each user-item pair's first sight is its last rating.
    let mut histories: Vec<Vec<Interaction>> = vec![Vec::new(); user_ids.len()];
    let mut seen = std::collections::HashSet::new();
    for r in rows.into_iter().rev() {
        let u = user_index[&r.user];
        if seen.insert((u, r.item)) {
            histories[u].push(Interaction {
                item: r.item,
                y: r.y,
            });
        } else {
            report.duplicates += 1;
        }
    }
    histories.iter_mut().for_each(|h| h.reverse());
    report.interactions = histories.iter().map(Vec::len).sum();
    (user_ids, histories)
}

/// The users file's categorical columns for the users that have interactions.
fn read_users(
    path: &Path,
    user_ids: &[String],
    report: &mut ReadReport,
) -> Result<(FeatureTable, Vec<ProfileField>)> {
    let t = Table::read(path)?;
    let id = t.required(None, &[USER, &["id"]].concat(), "user")?;
    let mut row_of: HashMap<&str, usize> = HashMap::new();
    for (row, r) in t.rows.iter().enumerate() {
        let key = t.needed(r, id, "user id")?;
        if row_of.insert(key, row).is_some() {
            return Err(TanpError::parse(
                path.display().to_string(),
                r.0,
                "each user once",
                key,
            ));
        }
    }
    let known: std::collections::HashSet<&str> = user_ids.iter().map(String::as_str).collect();
    report.users_without_interactions = row_of.keys().filter(|k| !known.contains(*k)).count();
    let content: Vec<usize> = (0..t.header.len()).filter(|&c| c != id).collect();
    if content.is_empty() {
        return Ok((FeatureTable::ids("user", user_ids.len()), Vec::new()));
    }
    // Users without a row in the users file get every field unknown.
    let order: Vec<Option<usize>> = user_ids
        .iter()
        .map(|u| row_of.get(u.as_str()).copied())
        .collect();
    let fields = Categorical::new(&t, &content, &order);
    let profile = fields
        .names
        .iter()
        .zip(&fields.vocabs)
        .map(|(name, labels)| ProfileField {
            name: name.clone(),
            labels: labels[1..].to_vec(),
        })
        .collect();
    Ok((fields.table()?, profile))
}

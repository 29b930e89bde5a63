//! MovieLens-1M with MeLU's side information (`ml-1m/` of the shared data).
//!
//! Users (Eq. 5): gender, age, occupation, zip prefix (first 5 characters), looked up in MeLU's
//! `m_*.txt` lists. Items: publication year (the paper's fifth item field, absent from MeLU's
//! code), rate, genres, directors, actors from `melu/movies_extrainfos.dat`. `N/A` is MeLU's
//! `nan` token, director parentheticals such as `(co-director)` are removed, lists are CRLF.
//! Ratings 1-5 are regression targets. Only movies that have ratings form the catalog.

use std::collections::HashMap;
use std::path::Path;

use super::{
    CatalogItem, Dataset, ProfileField, file_identity, lines, parse_field, read_text, records,
};
use crate::config::Feedback;
use crate::error::{Result, TanpError};
use crate::features::{FeatureTable, Field};
use crate::task::Interaction;

/// A vocabulary list (`m_*.txt`): value -> index, with 0 kept for "unknown".
struct Vocab {
    index: HashMap<String, u32>,
    /// The values in list order: value index `i + 1` is `values[i]`.
    values: Vec<String>,
    len: usize,
}

impl Vocab {
    fn read(path: &Path) -> Result<Self> {
        let text = read_text(path)?;
        let values: Vec<String> = lines(&text).map(|(_, l)| l.trim().to_string()).collect();
        Self::from_values(values)
    }

    fn from_values(values: Vec<String>) -> Result<Self> {
        let len = values.len() + 1;
        let index = values
            .iter()
            .enumerate()
            .map(|(i, v)| (v.clone(), i as u32 + 1))
            .collect();
        Ok(Vocab { index, values, len })
    }

    fn lookup(&self, file: &Path, line: usize, what: &str, value: &str) -> Result<u32> {
        if value == "nan" && !self.index.contains_key(value) {
            return Ok(0); // a missing value where the list has no `nan` token: unknown
        }
        self.index.get(value).copied().ok_or_else(|| {
            TanpError::parse(
                file.display().to_string(),
                line,
                format!("a {what} listed in m_{what}.txt"),
                value,
            )
        })
    }
}

/// The MovieLens-1M README's names for the coded user values (age groups, occupations).
fn user_label(field: &str, value: &str) -> String {
    const OCCUPATIONS: [&str; 21] = [
        "other or not specified",
        "academic/educator",
        "artist",
        "clerical/admin",
        "college/grad student",
        "customer service",
        "doctor/health care",
        "executive/managerial",
        "farmer",
        "homemaker",
        "K-12 student",
        "lawyer",
        "programmer",
        "retired",
        "sales/marketing",
        "scientist",
        "self-employed",
        "technician/engineer",
        "tradesman/craftsman",
        "unemployed",
        "writer",
    ];
    let named = match (field, value) {
        ("gender", "M") => Some("male"),
        ("gender", "F") => Some("female"),
        ("age", "1") => Some("under 18"),
        ("age", "18") => Some("18-24"),
        ("age", "25") => Some("25-34"),
        ("age", "35") => Some("35-44"),
        ("age", "45") => Some("45-49"),
        ("age", "50") => Some("50-55"),
        ("age", "56") => Some("56+"),
        ("occupation", v) => v
            .parse::<usize>()
            .ok()
            .and_then(|i| OCCUPATIONS.get(i).copied()),
        _ => None,
    };
    named.map_or_else(|| value.to_string(), str::to_string)
}

/// MeLU's value normalisation: `N/A` is the `nan` token.
fn melu_value(v: &str) -> &str {
    let v = v.trim();
    if v == "N/A" { "nan" } else { v }
}

/// Removes `(...)` parentheticals, as MeLU does for director names.
fn strip_parentheticals(v: &str) -> String {
    let mut out = String::with_capacity(v.len());
    let mut depth = 0usize;
    for ch in v.chars() {
        match ch {
            '(' => depth += 1,
            ')' if depth > 0 => depth -= 1,
            _ if depth == 0 => out.push(ch),
            _ => {}
        }
    }
    out.trim().to_string()
}

fn list(v: &str) -> impl Iterator<Item = &str> {
    v.split(", ").map(str::trim).filter(|s| !s.is_empty())
}

/// One movie of `movies_extrainfos.dat`.
struct Movie {
    id: u32,
    title: String,
    year: Option<u16>,
    rate: u32,
    genres: Vec<u32>,
    genre_names: Vec<String>,
    directors: Vec<u32>,
    actors: Vec<u32>,
}

/// MeLU's vocabularies (`melu/m_*.txt`).
struct Vocabs {
    rate: Vocab,
    genre: Vocab,
    director: Vocab,
    actor: Vocab,
    gender: Vocab,
    age: Vocab,
    occupation: Vocab,
    zipcode: Vocab,
}

impl Vocabs {
    fn read(melu: &Path) -> Result<Self> {
        let read = |name: &str| Vocab::read(&melu.join(format!("m_{name}.txt")));
        Ok(Vocabs {
            rate: read("rate")?,
            genre: read("genre")?,
            director: read("director")?,
            actor: read("actor")?,
            gender: read("gender")?,
            age: read("age")?,
            occupation: read("occupation")?,
            zipcode: read("zipcode")?,
        })
    }
}

/// Loads MovieLens-1M from `dir` (the `ml-1m` folder).
pub fn load(dir: &Path) -> Result<Dataset> {
    let melu = dir.join("melu");
    let vocabs = Vocabs::read(&melu)?;
    let movies_path = melu.join("movies_extrainfos.dat");
    let movies = read_movies(&movies_path, &vocabs)?;
    let users_path = dir.join("users.dat");
    let users = read_users(&users_path, &vocabs)?;
    let ratings_path = dir.join("ratings_melu_no_timestamp.dat");
    let raw = read_ratings(&ratings_path, &users.index, &movies)?;

    // The catalog is the movies that have ratings, in id order.
    let mut rated: Vec<usize> = raw.iter().map(|&(_, m, _)| m).collect();
    rated.sort_unstable_by_key(|&m| movies[m].id);
    rated.dedup();
    let item_of: HashMap<usize, u32> = rated
        .iter()
        .enumerate()
        .map(|(i, &m)| (m, i as u32))
        .collect();
    let mut histories = vec![Vec::new(); users.ids.len()];
    let mut seen = std::collections::HashSet::new();
    for (u, m, rating) in raw {
        // 4 (user, movie) pairs occur twice after MeLU merged two duplicate movies: keep the first.
        if seen.insert((u, m)) {
            histories[u].push(Interaction {
                item: item_of[&m],
                y: rating as f32,
            });
        }
    }
    // The year vocabulary covers every movie of the file, rated or not.
    let mut years: Vec<u16> = movies.iter().filter_map(|m| m.year).collect();
    years.sort_unstable();
    years.dedup();
    let rated: Vec<&Movie> = rated.iter().map(|&m| &movies[m]).collect();
    let (items, catalog) = item_table(&rated, &years, &vocabs)?;
    let identity = serde_json::json!({
        "dataset": "ml-1m",
        "files": [
            file_identity(&ratings_path)?,
            file_identity(&movies_path)?,
            file_identity(&users_path)?,
        ],
    });
    let v = &vocabs;
    let profile_fields = [
        ("gender", &v.gender),
        ("age", &v.age),
        ("occupation", &v.occupation),
        ("zip", &v.zipcode),
    ]
    .into_iter()
    .map(|(name, vocab)| ProfileField {
        name: name.into(),
        labels: vocab.values.iter().map(|v| user_label(name, v)).collect(),
    })
    .collect();
    Ok(Dataset {
        name: "ml-1m".into(),
        feedback: Feedback::Explicit,
        users: users.table,
        items,
        user_ids: users.ids,
        catalog,
        profile_fields,
        histories,
        episodes: None,
        identity,
    })
}

/// Every movie of `movies_extrainfos.dat`, in file order.
fn read_movies(path: &Path, v: &Vocabs) -> Result<Vec<Movie>> {
    let text = read_text(path)?;
    let mut movies = Vec::new();
    let layout = "(id, title, year, rate, released, genre, director, writer, actors, plot, poster)";
    for record in records(path, &text, "::", 11, layout) {
        let (no, f) = record?;
        let id: u32 = parse_field(path, no, "a movie id", f[0])?;
        let year = match f[2].trim() {
            "N/A" => None,
            y => Some(parse_field::<u16>(
                path,
                no,
                "a year",
                y.get(..4).unwrap_or(y),
            )?),
        };
        let genre_names: Vec<String> = list(melu_value(f[5])).map(str::to_string).collect();
        movies.push(Movie {
            id,
            title: f[1].trim().to_string(),
            year,
            rate: v.rate.lookup(path, no, "rate", melu_value(f[3]))?,
            genres: genre_names
                .iter()
                .map(|g| v.genre.lookup(path, no, "genre", g))
                .collect::<Result<_>>()?,
            genre_names: genre_names.into_iter().filter(|g| g != "nan").collect(),
            directors: list(melu_value(f[6]))
                .map(|d| {
                    v.director
                        .lookup(path, no, "director", &strip_parentheticals(d))
                })
                .collect::<Result<_>>()?,
            actors: list(melu_value(f[8]))
                .map(|a| v.actor.lookup(path, no, "actor", a))
                .collect::<Result<_>>()?,
        });
    }
    Ok(movies)
}

/// The users of `users.dat`: their ids, where each id sits, and their feature table.
struct Users {
    ids: Vec<String>,
    index: HashMap<u32, usize>,
    table: FeatureTable,
}

fn read_users(path: &Path, v: &Vocabs) -> Result<Users> {
    let text = read_text(path)?;
    let mut ids = Vec::new();
    let mut index = HashMap::new();
    let mut fields = [
        Field::new("gender", v.gender.len),
        Field::new("age", v.age.len),
        Field::new("occupation", v.occupation.len),
        Field::new("zip", v.zipcode.len),
    ];
    for record in records(path, &text, "::", 5, "(id, gender, age, occupation, zip)") {
        let (no, f) = record?;
        let id: u32 = parse_field(path, no, "a user id", f[0])?;
        let zip: String = f[4].trim().chars().take(5).collect();
        let values = [
            v.gender.lookup(path, no, "gender", f[1].trim())?,
            v.age.lookup(path, no, "age", f[2].trim())?,
            v.occupation.lookup(path, no, "occupation", f[3].trim())?,
            v.zipcode.lookup(path, no, "zipcode", &zip)?,
        ];
        for (field, value) in fields.iter_mut().zip(values) {
            field.push(&[value])?;
        }
        if index.insert(id, ids.len()).is_some() {
            return Err(TanpError::parse(
                path.display().to_string(),
                no,
                "a new user id",
                f[0],
            ));
        }
        ids.push(id.to_string());
    }
    Ok(Users {
        ids,
        index,
        table: FeatureTable {
            fields: fields.into(),
        },
    })
}

/// `(user position, movie position, rating)` of every line of the ratings file.
fn read_ratings(
    path: &Path,
    user_index: &HashMap<u32, usize>,
    movies: &[Movie],
) -> Result<Vec<(usize, usize, u8)>> {
    let text = read_text(path)?;
    let movie_pos: HashMap<u32, usize> =
        movies.iter().enumerate().map(|(i, m)| (m.id, i)).collect();
    let bad = |no, expected: &str, found: &str| {
        TanpError::parse(path.display().to_string(), no, expected, found)
    };
    let mut raw = Vec::new();
    for record in records(path, &text, "::", 3, "(user, movie, rating)") {
        let (no, f) = record?;
        let user: u32 = parse_field(path, no, "a user id", f[0])?;
        let movie: u32 = parse_field(path, no, "a movie id", f[1])?;
        let rating: u8 = parse_field(path, no, "a rating 1-5", f[2])?;
        if !(1..=5).contains(&rating) {
            return Err(bad(no, "a rating 1-5", f[2]));
        }
        let u = *user_index
            .get(&user)
            .ok_or_else(|| bad(no, "a user listed in users.dat", f[0]))?;
        let m = *movie_pos
            .get(&movie)
            .ok_or_else(|| bad(no, "a movie listed in movies_extrainfos.dat", f[1]))?;
        raw.push((u, m, rating));
    }
    Ok(raw)
}

/// The item feature table (year as its position in `years`, rate, genre, director, actor) and
/// the catalog of `rated`.
fn item_table(
    rated: &[&Movie],
    years: &[u16],
    v: &Vocabs,
) -> Result<(FeatureTable, Vec<CatalogItem>)> {
    let mut fields = [
        Field::new("year", years.len() + 1),
        Field::new("rate", v.rate.len),
        Field::new("genre", v.genre.len),
        Field::new("director", v.director.len),
        Field::new("actor", v.actor.len),
    ];
    let mut catalog = Vec::with_capacity(rated.len());
    for mv in rated {
        let year = mv
            .year
            .map(|y| years.binary_search(&y).expect("collected above") as u32 + 1);
        fields[0].push(&year.into_iter().collect::<Vec<_>>())?;
        fields[1].push(&[mv.rate])?;
        fields[2].push(&mv.genres)?;
        fields[3].push(&mv.directors)?;
        fields[4].push(&mv.actors)?;
        catalog.push(CatalogItem {
            id: mv.id.to_string(),
            title: mv.title.clone(),
            year: mv.year,
            genres: mv.genre_names.clone(),
            ratings: 0,
            image: None,
            link: None,
        });
    }
    Ok((
        FeatureTable {
            fields: fields.into(),
        },
        catalog,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parentheticals_are_removed() {
        assert_eq!(
            strip_parentheticals("Gary Goldman(co-director)"),
            "Gary Goldman"
        );
        assert_eq!(strip_parentheticals("A (x) B"), "A  B");
        assert_eq!(strip_parentheticals("Plain"), "Plain");
    }

    #[test]
    fn na_is_the_nan_token() {
        assert_eq!(melu_value("N/A"), "nan");
        assert_eq!(melu_value(" PG "), "PG");
    }
}

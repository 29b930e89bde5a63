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
    CatalogItem, Dataset, ProfileField, file_identity, lines, parse_field, read_text, split_exact,
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

/// Loads MovieLens-1M from `dir` (the `ml-1m` folder).
pub fn load(dir: &Path) -> Result<Dataset> {
    let melu = dir.join("melu");
    let rate = Vocab::read(&melu.join("m_rate.txt"))?;
    let genre = Vocab::read(&melu.join("m_genre.txt"))?;
    let director = Vocab::read(&melu.join("m_director.txt"))?;
    let actor = Vocab::read(&melu.join("m_actor.txt"))?;
    let gender = Vocab::read(&melu.join("m_gender.txt"))?;
    let age = Vocab::read(&melu.join("m_age.txt"))?;
    let occupation = Vocab::read(&melu.join("m_occupation.txt"))?;
    let zipcode = Vocab::read(&melu.join("m_zipcode.txt"))?;

    // Items.
    let path = melu.join("movies_extrainfos.dat");
    let text = read_text(&path)?;
    let mut movies = Vec::new();
    for (no, line) in lines(&text) {
        let f = split_exact(
            &path,
            no,
            line,
            "::",
            11,
            "(id, title, year, rate, released, genre, director, writer, actors, plot, poster)",
        )?;
        let id: u32 = parse_field(&path, no, "a movie id", f[0])?;
        let year = match f[2].trim() {
            "N/A" => None,
            y => Some(parse_field::<u16>(
                &path,
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
            rate: rate.lookup(&path, no, "rate", melu_value(f[3]))?,
            genres: genre_names
                .iter()
                .map(|g| genre.lookup(&path, no, "genre", g))
                .collect::<Result<_>>()?,
            genre_names: genre_names.into_iter().filter(|g| g != "nan").collect(),
            directors: list(melu_value(f[6]))
                .map(|d| director.lookup(&path, no, "director", &strip_parentheticals(d)))
                .collect::<Result<_>>()?,
            actors: list(melu_value(f[8]))
                .map(|a| actor.lookup(&path, no, "actor", a))
                .collect::<Result<_>>()?,
        });
    }
    let mut years: Vec<u16> = movies.iter().filter_map(|m| m.year).collect();
    years.sort_unstable();
    years.dedup();

    // Users.
    let upath = dir.join("users.dat");
    let text = read_text(&upath)?;
    let mut user_ids = Vec::new();
    let mut user_index = HashMap::new();
    let mut ufields = [
        Field::new("gender", gender.len),
        Field::new("age", age.len),
        Field::new("occupation", occupation.len),
        Field::new("zip", zipcode.len),
    ];
    for (no, line) in lines(&text) {
        let f = split_exact(
            &upath,
            no,
            line,
            "::",
            5,
            "(id, gender, age, occupation, zip)",
        )?;
        let id: u32 = parse_field(&upath, no, "a user id", f[0])?;
        let zip: String = f[4].trim().chars().take(5).collect();
        let values = [
            gender.lookup(&upath, no, "gender", f[1].trim())?,
            age.lookup(&upath, no, "age", f[2].trim())?,
            occupation.lookup(&upath, no, "occupation", f[3].trim())?,
            zipcode.lookup(&upath, no, "zipcode", &zip)?,
        ];
        for (field, v) in ufields.iter_mut().zip(values) {
            field.push(&[v])?;
        }
        if user_index.insert(id, user_ids.len()).is_some() {
            return Err(TanpError::parse(
                upath.display().to_string(),
                no,
                "a new user id",
                f[0],
            ));
        }
        user_ids.push(id.to_string());
    }

    // Ratings; the catalog is the movies that have ratings, in id order.
    let rpath = dir.join("ratings_melu_no_timestamp.dat");
    let text = read_text(&rpath)?;
    let movie_pos: HashMap<u32, usize> =
        movies.iter().enumerate().map(|(i, m)| (m.id, i)).collect();
    let mut raw = Vec::new();
    for (no, line) in lines(&text) {
        let f = split_exact(&rpath, no, line, "::", 3, "(user, movie, rating)")?;
        let user: u32 = parse_field(&rpath, no, "a user id", f[0])?;
        let movie: u32 = parse_field(&rpath, no, "a movie id", f[1])?;
        let rating: u8 = parse_field(&rpath, no, "a rating 1-5", f[2])?;
        if !(1..=5).contains(&rating) {
            return Err(TanpError::parse(
                rpath.display().to_string(),
                no,
                "a rating 1-5",
                f[2],
            ));
        }
        let u = *user_index.get(&user).ok_or_else(|| {
            TanpError::parse(
                rpath.display().to_string(),
                no,
                "a user listed in users.dat",
                f[0],
            )
        })?;
        let m = *movie_pos.get(&movie).ok_or_else(|| {
            TanpError::parse(
                rpath.display().to_string(),
                no,
                "a movie listed in movies_extrainfos.dat",
                f[1],
            )
        })?;
        raw.push((u, m, rating));
    }
    let mut rated: Vec<usize> = raw.iter().map(|&(_, m, _)| m).collect();
    rated.sort_unstable_by_key(|&m| movies[m].id);
    rated.dedup();
    let item_of: HashMap<usize, u32> = rated
        .iter()
        .enumerate()
        .map(|(i, &m)| (m, i as u32))
        .collect();

    let mut histories = vec![Vec::new(); user_ids.len()];
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

    let mut ifields = [
        Field::new("year", years.len() + 1),
        Field::new("rate", rate.len),
        Field::new("genre", genre.len),
        Field::new("director", director.len),
        Field::new("actor", actor.len),
    ];
    let mut catalog = Vec::with_capacity(rated.len());
    for &m in &rated {
        let mv = &movies[m];
        let year = mv
            .year
            .map(|y| years.binary_search(&y).expect("collected above") as u32 + 1);
        ifields[0].push(&year.into_iter().collect::<Vec<_>>())?;
        ifields[1].push(&[mv.rate])?;
        ifields[2].push(&mv.genres)?;
        ifields[3].push(&mv.directors)?;
        ifields[4].push(&mv.actors)?;
        catalog.push(CatalogItem {
            id: mv.id.to_string(),
            title: mv.title.clone(),
            year: mv.year,
            genres: mv.genre_names.clone(),
            ratings: 0,
        });
    }

    let identity = serde_json::json!({
        "dataset": "ml-1m",
        "files": [file_identity(&rpath)?, file_identity(&path)?, file_identity(&upath)?],
    });
    let profile_fields = [
        ("gender", &gender),
        ("age", &age),
        ("occupation", &occupation),
        ("zip", &zipcode),
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
        users: FeatureTable {
            fields: ufields.into(),
        },
        items: FeatureTable {
            fields: ifields.into(),
        },
        user_ids,
        catalog,
        profile_fields,
        histories,
        episodes: None,
        identity,
    })
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

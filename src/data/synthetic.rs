//! A synthetic catalog of any size for tests and for the cost curve (`tanp synth`): item
//! popularity and user activity follow power laws, and every user has a taste (one or two of
//! `genres` kinds of item) that decides most of what they rate and how highly, so that there is
//! something to learn. Written as the CSV files `tanp train --dataset csv` reads.

use std::io::Write;
use std::path::Path;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use crate::error::{Result, TanpError};

/// What to generate.
#[derive(Clone, Debug, PartialEq)]
pub struct SynthConfig {
    pub users: usize,
    pub items: usize,
    pub genres: usize,
    /// The median user's number of ratings (activity is log-normal around it, at least 5).
    pub ratings_per_user: usize,
    /// Zipf exponent of item popularity.
    pub popularity_exponent: f64,
    /// Share of a user's ratings drawn from their own genres.
    pub taste: f64,
    /// Whether items carry image and link URLs (`https://example.com/...`).
    pub urls: bool,
    pub seed: u64,
}

impl Default for SynthConfig {
    fn default() -> Self {
        SynthConfig {
            users: 1000,
            items: 500,
            genres: 8,
            ratings_per_user: 30,
            popularity_exponent: 0.9,
            taste: 0.85,
            urls: false,
            seed: 7,
        }
    }
}

/// Samples from a Zipf-like law over `n` ranks by inverting its cumulative weights.
struct PowerLaw {
    cumulative: Vec<f64>,
}

impl PowerLaw {
    fn new(n: usize, exponent: f64) -> Self {
        let mut total = 0.0;
        let cumulative = (1..=n)
            .map(|r| {
                total += (r as f64).powf(-exponent);
                total
            })
            .collect();
        PowerLaw { cumulative }
    }

    fn sample(&self, rng: &mut impl Rng) -> usize {
        let total = *self.cumulative.last().unwrap_or(&1.0);
        let x = rng.random::<f64>() * total;
        self.cumulative.partition_point(|&c| c < x)
    }
}

/// The genre of item `i`: items are dealt to genres in turn, so each genre has popular and
/// rare items.
pub fn genre_of(item: usize, genres: usize) -> usize {
    item % genres.max(1)
}

/// Writes `interactions.csv` (user, item, rating, timestamp) and `items.csv` (id, title, genre,
/// and image and link URLs with `urls`) into `dir`. Returns the number of interactions.
pub fn write(dir: &Path, config: &SynthConfig) -> Result<usize> {
    if config.users == 0 || config.items < 2 * config.genres.max(1) {
        return Err(TanpError::Config(format!(
            "synth: need users and at least two items per genre, found {} users, {} items, {} genres",
            config.users, config.items, config.genres
        )));
    }
    std::fs::create_dir_all(dir).map_err(|e| TanpError::io(dir, e))?;
    let mut rng = StdRng::seed_from_u64(config.seed);
    let g = config.genres.max(1);
    // Per genre, its items from the most to the least popular.
    let per_genre: Vec<Vec<usize>> = (0..g)
        .map(|k| (0..config.items).filter(|&i| genre_of(i, g) == k).collect())
        .collect();
    let laws: Vec<PowerLaw> = per_genre
        .iter()
        .map(|items| PowerLaw::new(items.len(), config.popularity_exponent))
        .collect();
    let overall = PowerLaw::new(config.items, config.popularity_exponent);
    let path = dir.join("interactions.csv");
    let file = std::fs::File::create(&path).map_err(|e| TanpError::io(&path, e))?;
    let mut out = std::io::BufWriter::new(file);
    let io = |e| TanpError::io(&path, e);
    writeln!(out, "user,item,rating,timestamp").map_err(io)?;
    let mut written = 0;
    for u in 0..config.users {
        let first = rng.random_range(0..g);
        let tastes = [first, (first + 1 + rng.random_range(0..g.max(2) - 1)) % g];
        let spread: f64 = rng.random::<f64>() * 2.0 - 1.0;
        let n = ((config.ratings_per_user as f64) * spread.exp())
            .round()
            .max(5.0) as usize;
        let n = n.min(config.items / 2);
        let mut rated = std::collections::HashSet::new();
        let mut t = 0u64;
        let mut draws = 0;
        while rated.len() < n && draws < 50 * n {
            draws += 1;
            let own = rng.random_bool(config.taste);
            let item = if own {
                let k = tastes[usize::from(rng.random_bool(0.3))];
                per_genre[k][laws[k].sample(&mut rng)]
            } else {
                overall.sample(&mut rng)
            };
            if !rated.insert(item) {
                continue;
            }
            let liked = tastes.contains(&genre_of(item, g));
            let rating = if liked {
                rng.random_range(4..=5)
            } else {
                rng.random_range(1..=3)
            };
            t += rng.random_range(1..1000);
            writeln!(out, "u{u},i{item},{rating},{t}").map_err(io)?;
            written += 1;
        }
    }
    out.flush().map_err(io)?;
    write_items(dir, config)?;
    Ok(written)
}

fn write_items(dir: &Path, config: &SynthConfig) -> Result<()> {
    let path = dir.join("items.csv");
    let file = std::fs::File::create(&path).map_err(|e| TanpError::io(&path, e))?;
    let mut out = std::io::BufWriter::new(file);
    let io = |e| TanpError::io(&path, e);
    let urls = if config.urls { ",image,link" } else { "" };
    writeln!(out, "id,title,genre{urls}").map_err(io)?;
    for i in 0..config.items {
        let genre = genre_of(i, config.genres);
        let urls = if config.urls {
            format!(",https://example.com/img/{i}.png,https://example.com/item/{i}")
        } else {
            String::new()
        };
        writeln!(out, "i{i},Item {i} of kind {genre},kind {genre}{urls}").map_err(io)?;
    }
    out.flush().map_err(io)
}

//! A visitor's request as JSON text: the one input format of the wasm surface (and of anything
//! else that takes requests from outside). Hostile input is bounded before any work is done:
//! the text's length is checked before it is parsed, serde_json's recursion limit turns deep
//! nesting into an error instead of a stack overflow, unknown fields are refused, the number of
//! ratings is capped before they are converted, and every echoed value is shortened.

use serde::Deserialize;

use crate::error::{Result, TanpError, shorten};
use crate::recommend::{MAX_SUPPORT, RankOptions};

/// The longest request text accepted: 200 ratings with long ids and a profile fit in a tenth.
pub const MAX_REQUEST_BYTES: usize = 64 * 1024;

/// An item id as JS gives it: a string or a number.
#[derive(Clone, Debug, Deserialize)]
#[serde(untagged)]
enum ItemId {
    Text(String),
    Number(f64),
}

impl ItemId {
    /// The catalog's spelling: integral numbers without a fraction (`1196`, not `1196.0`).
    fn into_string(self) -> String {
        match self {
            ItemId::Text(s) => s,
            ItemId::Number(n) if n.fract() == 0.0 && n.abs() < 1e15 => format!("{}", n as i64),
            ItemId::Number(n) => n.to_string(),
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RatingIn {
    item: ItemId,
    rating: f64,
}

fn default_top() -> usize {
    10
}

fn yes() -> bool {
    true
}

/// The wire form: `{ ratings: [{ item, rating }], top, exclude_rated, profile, min_ratings }`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RequestIn {
    ratings: Vec<RatingIn>,
    #[serde(default = "default_top")]
    top: usize,
    #[serde(default = "yes")]
    exclude_rated: bool,
    #[serde(default)]
    profile: Option<Vec<u32>>,
    #[serde(default)]
    min_ratings: u32,
}

/// A parsed request: the support set as (item id, rating), the optional profile (one value
/// index per user field, 0 = not given) and the ranking options.
#[derive(Clone, Debug, PartialEq)]
pub struct Request {
    pub support: Vec<(String, f64)>,
    pub profile: Option<Vec<u32>>,
    pub options: RankOptions,
}

/// The JSON syntax a caller should send, quoted in every parse error.
const EXPECTED: &str =
    "{ ratings: [{ item, rating }], top, exclude_rated, profile, min_ratings } as JSON";

impl Request {
    /// Parses and bounds a request for a catalog of `items` items. Checks the shape only: item
    /// ids, ratings and the profile are checked against the model by the recommender.
    pub fn parse(text: &str, items: usize) -> Result<Self> {
        if text.len() > MAX_REQUEST_BYTES {
            return Err(TanpError::Request(format!(
                "it is {} bytes long, at most {MAX_REQUEST_BYTES} are accepted",
                text.len()
            )));
        }
        let wire: RequestIn = serde_json::from_str(text).map_err(|e| {
            TanpError::Request(format!(
                "{}; expected {EXPECTED}",
                shorten(&e.to_string(), 200)
            ))
        })?;
        if wire.ratings.len() > MAX_SUPPORT {
            return Err(TanpError::Request(format!(
                "it has {} ratings, at most {MAX_SUPPORT} are accepted",
                wire.ratings.len()
            )));
        }
        if wire.top == 0 || wire.top > items {
            return Err(TanpError::Request(format!(
                "top must be between 1 and {items}, found {}",
                wire.top
            )));
        }
        Ok(Request {
            support: wire
                .ratings
                .into_iter()
                .map(|r| (r.item.into_string(), r.rating))
                .collect(),
            profile: wire.profile,
            options: RankOptions {
                top: wire.top,
                exclude_rated: wire.exclude_rated,
                min_ratings: wire.min_ratings,
            },
        })
    }
}

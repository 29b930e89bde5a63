//! One error type for the whole crate: every failure says what was expected, what was found,
//! and where.

use thiserror::Error;

/// Everything that can go wrong in `tanp`, from a malformed data line to a bad support set.
#[derive(Debug, Error)]
pub enum TanpError {
    /// A data file line that does not have the expected shape.
    #[error("{file}:{line}: expected {expected}, found {found:?}")]
    Parse {
        file: String,
        line: usize,
        expected: String,
        found: String,
    },
    /// An I/O error on a named path.
    #[error("{path}: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
    /// An item id that the model or catalog does not know.
    #[error("unknown item id {0}: it is not in the model's catalog")]
    UnknownItem(String),
    /// A rating or label outside the range the model was trained on.
    #[error(
        "rating {} for item {item} is out of range: expected a number in [{min}, {max}]",
        short_number(*value)
    )]
    RatingOutOfRange {
        item: String,
        value: f64,
        min: f64,
        max: f64,
    },
    /// A request that is not well-formed (too long, not the expected JSON, too many ratings).
    #[error("invalid request: {0}")]
    Request(String),
    /// A support set with no rating.
    #[error("invalid support set: it is empty: rate at least one item")]
    EmptySupport,
    /// A support set longer than a model accepts.
    #[error("invalid support set: it has {count} ratings, at most {max} are accepted")]
    TooManyRatings { count: usize, max: usize },
    /// The same item twice in one support set.
    #[error("invalid support set: item {0} is rated twice")]
    RatedTwice(String),
    /// A user profile the model cannot take: it was trained without user fields, the profile has
    /// another number of fields, or a value outside a field's vocabulary.
    #[error("invalid support set: {0}")]
    Profile(String),
    /// A well-known filter no catalog item passes.
    #[error("invalid support set: no catalog item has at least {min} ratings (the most is {most})")]
    NoWellKnownItem { min: u32, most: u32 },
    /// Another unusable support set.
    #[error("invalid support set: {0}")]
    Support(String),
    /// A model bundle or checkpoint that is malformed or does not match.
    #[error("invalid model: {0}")]
    Model(String),
    /// A bundle file whose SHA-256 is not the one recorded for it (the manifest's own checksum
    /// included).
    #[error(
        "invalid model: {file}: checksum mismatch: expected sha256 {expected}, found {found} (corrupt, edited or from another model)"
    )]
    Checksum {
        file: String,
        expected: String,
        found: String,
    },
    /// A bundle file of another size than its manifest records.
    #[error(
        "invalid model: {file}: expected {expected} bytes, found {found} (truncated or from another model)"
    )]
    FileSize {
        file: String,
        expected: usize,
        found: usize,
    },
    /// A bundle of another format or version than this code reads.
    #[error("invalid model: {file}: expected {what} {expected}, found {found}")]
    Format {
        file: String,
        what: &'static str,
        expected: String,
        found: String,
    },
    /// An invalid configuration or command-line value.
    #[error("invalid configuration: {0}")]
    Config(String),
    /// A score that is not a finite number (NaN or infinity).
    #[error("numerical error: the score of item {item} is {value}")]
    NonFiniteScore { item: String, value: f32 },
    /// A training loss that is not a finite number.
    #[error(
        "numerical error: {what} training loss became {loss} at epoch {epoch}; lower the learning rate"
    )]
    Diverged {
        what: String,
        loss: f64,
        epoch: usize,
    },
    /// Another numerical failure, or a tensor that cannot be read back.
    #[error("numerical error: {0}")]
    Numeric(String),
}

/// Result with [`TanpError`].
pub type Result<T> = std::result::Result<T, TanpError>;

impl TanpError {
    /// A parse error at `file:line`.
    pub fn parse(
        file: impl Into<String>,
        line: usize,
        expected: impl Into<String>,
        found: impl Into<String>,
    ) -> Self {
        TanpError::Parse {
            file: file.into(),
            line,
            expected: expected.into(),
            found: shorten(&found.into(), 120),
        }
    }

    /// An I/O error on `path`.
    pub fn io(path: impl AsRef<std::path::Path>, source: std::io::Error) -> Self {
        TanpError::Io {
            path: path.as_ref().display().to_string(),
            source,
        }
    }
}

/// The most bytes of an input (an item id, a manifest field) that an error message repeats.
pub const MAX_ECHO: usize = 64;

/// `text` cut to at most `max` bytes (at a character boundary) with `…` when cut: what an error
/// message echoes of an input, so that a 1 MiB id makes a short message.
pub fn shorten(text: &str, max: usize) -> String {
    if text.len() <= max {
        return text.to_string();
    }
    let mut cut = max;
    while !text.is_char_boundary(cut) {
        cut -= 1;
    }
    format!("{}…", &text[..cut])
}

/// A number as an error message shows it: in full when short, else in scientific notation
/// (Rust writes 1e308 as 309 digits).
fn short_number(v: f64) -> String {
    if !v.is_finite() || v == 0.0 || (1e-6..1e9).contains(&v.abs()) {
        format!("{v}")
    } else {
        format!("{v:e}")
    }
}

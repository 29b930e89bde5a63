//! Parquet files for your own data (`--dataset csv` reads `.parquet` interactions, items and
//! users files as it reads CSV): the rows of a file as text fields under their column names,
//! read with the `parquet` crate's row API, so that one reader ([`super::generic`]) checks and
//! counts them whatever the format.
//!
//! Each value becomes the text a CSV export would hold: strings as they are, numbers and
//! booleans in their usual notation, dates and timestamps as integers in the file's own units
//! (days, milli- or microseconds since 1970, so that they order numerically as a time column),
//! lists joined with `|` (a multi-valued field, e.g. genres), nulls empty. A row's "line" in
//! error messages is its row number, the first row being 1.

use std::path::Path;

use parquet::file::reader::{FileReader, SerializedFileReader};
use parquet::record::Field;

use crate::error::{Result, TanpError};

/// Rows numbered from 1, each as its fields' text.
pub type Rows = Vec<(usize, csv::StringRecord)>;

/// The column names and the rows of the Parquet file at `path`.
pub fn read(path: &Path) -> Result<(Vec<String>, Rows)> {
    let bad = |row: usize, e: parquet::errors::ParquetError| {
        TanpError::parse(
            path.display().to_string(),
            row,
            "a readable Parquet file",
            e.to_string(),
        )
    };
    let file = std::fs::File::open(path).map_err(|e| TanpError::io(path, e))?;
    let reader = SerializedFileReader::new(file).map_err(|e| bad(0, e))?;
    let header = reader
        .metadata()
        .file_metadata()
        .schema_descr()
        .root_schema()
        .get_fields()
        .iter()
        .map(|f| f.name().to_string())
        .collect();
    let mut rows = Vec::new();
    for (i, row) in reader
        .get_row_iter(None)
        .map_err(|e| bad(0, e))?
        .enumerate()
    {
        let row = row.map_err(|e| bad(i + 1, e))?;
        let fields: Vec<String> = row.get_column_iter().map(|(_, f)| text(f)).collect();
        rows.push((i + 1, csv::StringRecord::from(fields)));
    }
    Ok((header, rows))
}

/// One value as text (see the module's documentation).
fn text(field: &Field) -> String {
    match field {
        Field::Null => String::new(),
        Field::Str(s) => s.clone(),
        Field::Bytes(b) => String::from_utf8_lossy(b.data()).into_owned(),
        Field::Date(days) => days.to_string(),
        Field::TimeMillis(t) => t.to_string(),
        Field::TimeMicros(t) | Field::TimestampMillis(t) | Field::TimestampMicros(t) => {
            t.to_string()
        }
        Field::ListInternal(list) => list
            .elements()
            .iter()
            .map(text)
            .filter(|v| !v.is_empty())
            .collect::<Vec<_>>()
            .join("|"),
        other => other.to_string(),
    }
}

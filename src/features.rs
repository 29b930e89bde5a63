//! Categorical side information of users or items, stored compactly (one CSR list per field).
//!
//! Index 0 of every field means "unknown": a value the data does not give (or a visitor did not
//! tell). Readers map real values to 1..vocab.

use serde::{Deserialize, Serialize};

use crate::error::{Result, TanpError};

/// One categorical field: its name, vocabulary size (including index 0 = unknown) and, for each
/// entity, the list of value indices (several for multi-valued fields such as genres).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Field {
    pub name: String,
    pub vocab: usize,
    offsets: Vec<u32>,
    values: Vec<u32>,
}

impl Field {
    /// A field with no entities yet.
    pub fn new(name: impl Into<String>, vocab: usize) -> Self {
        Field {
            name: name.into(),
            vocab,
            offsets: vec![0],
            values: Vec::new(),
        }
    }

    /// Appends one entity's values; an empty list is stored as "unknown" (index 0).
    pub fn push(&mut self, values: &[u32]) -> Result<()> {
        if let Some(&v) = values.iter().find(|&&v| v as usize >= self.vocab) {
            return Err(TanpError::Config(format!(
                "field {}: value index {v} outside its vocabulary of {}",
                self.name, self.vocab
            )));
        }
        if values.is_empty() {
            self.values.push(0);
        } else {
            self.values.extend_from_slice(values);
        }
        self.offsets.push(self.values.len() as u32);
        Ok(())
    }

    /// The value indices of entity `e`.
    pub fn get(&self, e: usize) -> &[u32] {
        &self.values[self.offsets[e] as usize..self.offsets[e + 1] as usize]
    }

    /// A field from its stored parts: `offsets` (`entities + 1` of them, from 0) delimit each
    /// entity's `values`. Not checked here: see [`Field::validate`].
    pub fn from_parts(name: String, vocab: usize, offsets: Vec<u32>, values: Vec<u32>) -> Self {
        Field {
            name,
            vocab,
            offsets,
            values,
        }
    }

    /// The offsets and values, as [`Field::from_parts`] takes them.
    pub fn parts(&self) -> (&[u32], &[u32]) {
        (&self.offsets, &self.values)
    }

    /// Number of entities.
    pub fn len(&self) -> usize {
        self.offsets.len().saturating_sub(1)
    }

    /// Checks the structure a file may have broken: offsets that start at 0, never decrease and
    /// end at the number of values; every value inside the vocabulary.
    pub fn validate(&self) -> Result<()> {
        let bad = |what: String| Err(TanpError::Model(format!("field {}: {what}", self.name)));
        if self.offsets.first() != Some(&0) {
            return bad(format!(
                "offsets must start at 0, found {:?}",
                self.offsets.first()
            ));
        }
        if let Some(i) = self.offsets.windows(2).position(|w| w[1] < w[0]) {
            return bad(format!(
                "offsets decrease at entity {i} ({} then {})",
                self.offsets[i],
                self.offsets[i + 1]
            ));
        }
        let end = *self.offsets.last().expect("checked non-empty") as usize;
        if end != self.values.len() {
            return bad(format!(
                "offsets end at {end}, expected the number of values {}",
                self.values.len()
            ));
        }
        if let Some(v) = self.values.iter().find(|&&v| v as usize >= self.vocab) {
            return bad(format!(
                "value index {v} outside its vocabulary of {}",
                self.vocab
            ));
        }
        Ok(())
    }

    /// Whether no entity was pushed.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The most values any entity has.
    pub fn max_values(&self) -> usize {
        self.offsets
            .windows(2)
            .map(|w| (w[1] - w[0]) as usize)
            .max()
            .unwrap_or(1)
    }
}

/// All fields of one side (users or items); entity `e` has `fields[f].get(e)` for each field.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FeatureTable {
    pub fields: Vec<Field>,
}

impl FeatureTable {
    /// A table with one field whose value for entity `e` is `e + 1` (the id case of Eq. 6).
    pub fn ids(name: &str, count: usize) -> Self {
        let mut field = Field::new(name, count + 1);
        for e in 0..count {
            field
                .push(&[e as u32 + 1])
                .expect("in range by construction");
        }
        FeatureTable {
            fields: vec![field],
        }
    }

    /// Number of entities.
    pub fn len(&self) -> usize {
        self.fields.first().map_or(0, Field::len)
    }

    /// Whether the table has no entity.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Vocabulary size of each field.
    pub fn vocab(&self) -> Vec<usize> {
        self.fields.iter().map(|f| f.vocab).collect()
    }

    /// Checks every field's structure and that all fields have the same number of entities.
    pub fn validate(&self) -> Result<()> {
        self.fields.iter().try_for_each(Field::validate)?;
        let n = self.len();
        match self.fields.iter().find(|f| f.len() != n) {
            Some(f) => Err(TanpError::Config(format!(
                "field {} has {} entities, expected {n}",
                f.name,
                f.len()
            ))),
            None => Ok(()),
        }
    }
}

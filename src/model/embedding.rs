//! Embedding layers, section 4.2 of the paper (Eq. 5 and Eq. 6).

use burn::module::{Module, Param};
use burn::nn::{Embedding, EmbeddingConfig, Initializer, Linear, LinearConfig};
use burn::tensor::activation::{relu, sigmoid};
use burn::tensor::{Device, Int, Tensor, TensorData};

use crate::config::{EmbeddingSpec, Fidelity};
use crate::features::FeatureTable;

/// The value indices of one categorical field for a set of rows, padded to the widest row.
/// `weights` holds `1/count` for real values and 0 for padding, so a weighted sum is the mean
/// of the row's value embeddings.
#[derive(Clone, Debug)]
pub struct FieldInput {
    pub indices: Tensor<2, Int>,
    pub weights: Option<Tensor<2>>,
}

impl FieldInput {
    /// Builds the padded input of one field from each row's value list.
    pub fn from_rows<'a>(rows: impl ExactSizeIterator<Item = &'a [u32]>, device: &Device) -> Self {
        let rows: Vec<&[u32]> = rows.collect();
        let width = rows.iter().map(|r| r.len().max(1)).max().unwrap_or(1);
        let mut indices = Vec::with_capacity(rows.len() * width);
        let mut weights = Vec::with_capacity(rows.len() * width);
        for row in &rows {
            let row: &[u32] = if row.is_empty() { &[0] } else { row };
            let w = 1.0 / row.len() as f32;
            for j in 0..width {
                indices.push(row.get(j).copied().unwrap_or(0) as i64);
                weights.push(if j < row.len() { w } else { 0.0 });
            }
        }
        let shape = [rows.len(), width];
        FieldInput {
            indices: Tensor::from_data(TensorData::new(indices, shape), device),
            weights: (width > 1)
                .then(|| Tensor::from_data(TensorData::new(weights, shape), device)),
        }
    }

    /// The inputs of every field of `table` for the given entities; `unknown(e, f)` replaces
    /// entity `e`'s field `f` by "unknown" (feature dropout, or a visitor who gave nothing).
    pub fn for_entities(
        table: &FeatureTable,
        entities: &[u32],
        unknown: impl Fn(usize, usize) -> bool,
        device: &Device,
    ) -> Vec<FieldInput> {
        table
            .fields
            .iter()
            .enumerate()
            .map(|(f, field)| {
                let rows = entities.iter().enumerate().map(|(row, &e)| {
                    if unknown(row, f) {
                        &[0u32][..]
                    } else {
                        field.get(e as usize)
                    }
                });
                FieldInput::from_rows(rows, device)
            })
            .collect()
    }
}

/// Eq. 5: `u = [E_1 c_1 | ... | E_n c_n]`, one table per categorical field; a multi-valued
/// field contributes the mean of its values' embeddings.
#[derive(Module, Debug)]
pub struct ContentEmbedding {
    pub tables: Vec<Embedding>,
}

impl ContentEmbedding {
    pub fn new(vocab: &[usize], dim: usize, device: &Device) -> Self {
        ContentEmbedding {
            tables: vocab
                .iter()
                .map(|&n| EmbeddingConfig::new(n, dim).init(device))
                .collect(),
        }
    }

    /// `fields[f]` has `rows` rows; the result is `[rows, n_fields * dim]`.
    pub fn forward(&self, fields: &[FieldInput]) -> Tensor<2> {
        let parts = self
            .tables
            .iter()
            .zip(fields)
            .map(|(table, input)| {
                let e = table.forward(input.indices.clone()); // [rows, width, dim]
                let [rows, width, dim] = e.dims();
                match &input.weights {
                    None => e.reshape([rows, width * dim]),
                    Some(w) => (e * w.clone().unsqueeze_dim::<3>(2))
                        .sum_dim(1)
                        .reshape([rows, dim]),
                }
            })
            .collect();
        Tensor::cat(parts, 1)
    }
}

/// Eq. 6: `u = sigma(W2 sigma(W1 e + b1) + b2)` for a one-hot id `e`. `W1 e` is a table lookup.
/// Initialised like a PyTorch `Linear(count, hidden)`: U(-1/sqrt(count), 1/sqrt(count)), so an id
/// never seen in training (a cold user) keeps a small random embedding.
#[derive(Module, Debug)]
pub struct IdEmbedding {
    pub w1: Embedding,
    pub b1: Param<Tensor<1>>,
    pub layer2: Linear,
    /// The official code uses ReLU where the paper has sigmoid.
    pub relu: bool,
}

impl IdEmbedding {
    pub fn new(
        count: usize,
        hidden: usize,
        dim: usize,
        fidelity: Fidelity,
        device: &Device,
    ) -> Self {
        let bound = 1.0 / (count as f64).sqrt();
        let init = Initializer::Uniform {
            min: -bound,
            max: bound,
        };
        IdEmbedding {
            w1: EmbeddingConfig::new(count, hidden)
                .with_initializer(init.clone())
                .init(device),
            b1: init.init([hidden], device),
            layer2: LinearConfig::new(hidden, dim).init(device),
            relu: fidelity == Fidelity::OfficialCode,
        }
    }

    pub fn forward(&self, fields: &[FieldInput]) -> Tensor<2> {
        let e = self.w1.forward(fields[0].indices.clone()); // [rows, 1, hidden]
        let [rows, _, hidden] = e.dims();
        let h = e.reshape([rows, hidden]) + self.b1.val().unsqueeze_dim::<2>(0);
        let act = |t: Tensor<2>| if self.relu { relu(t) } else { sigmoid(t) };
        act(self.layer2.forward(act(h)))
    }
}

/// The embedding of one side, Eq. 5 or Eq. 6 depending on the data.
// Exactly one lives per side in a model: the size difference between variants does not matter.
#[allow(clippy::large_enum_variant)]
#[derive(Module, Debug)]
pub enum SideEmbedding {
    Content(ContentEmbedding),
    Id(IdEmbedding),
}

impl SideEmbedding {
    pub fn new(spec: &EmbeddingSpec, fidelity: Fidelity, device: &Device) -> Self {
        match spec {
            EmbeddingSpec::Content { vocab, dim } => {
                SideEmbedding::Content(ContentEmbedding::new(vocab, *dim, device))
            }
            EmbeddingSpec::Id { count, hidden, dim } => {
                SideEmbedding::Id(IdEmbedding::new(*count, *hidden, *dim, fidelity, device))
            }
        }
    }

    /// `[rows, out_dim]` for the given field inputs.
    pub fn forward(&self, fields: &[FieldInput]) -> Tensor<2> {
        match self {
            SideEmbedding::Content(m) => m.forward(fields),
            SideEmbedding::Id(m) => m.forward(fields),
        }
    }
}

//! Hyper-parameters of the model (section 4 of the paper) and the one compatibility switch.

use serde::{Deserialize, Serialize};

use crate::error::{Result, TanpError};

/// Which definition of the model to follow.
///
/// `Paper` (the default) implements the equations of the paper. `OfficialCode` reproduces the
/// behaviour of the official PyTorch code where it departs from the paper (see
/// `docs/reference-behaviour.md`, section 4): ReLU instead of sigmoid in Eq. 6, a linear last layer
/// in Eq. 7/10, biases and a log-variance head in Eq. 9, the unsquared distance in Eq. 11,
/// `o = t + cA` instead of Eq. 12, the degenerate clustering loss instead of Eq. 13-14, the
/// random context/target split instead of support/query, MSE instead of BCE for implicit data,
/// and a sampled `z` at test time.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "native", derive(clap::ValueEnum))]
#[serde(rename_all = "kebab-case")]
pub enum Fidelity {
    #[default]
    Paper,
    OfficialCode,
}

/// The adaptive decoder of section 4.5, or the plain decoder of the "w/o tm" ablation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "native", derive(clap::ValueEnum))]
#[serde(rename_all = "kebab-case")]
pub enum DecoderKind {
    /// No task-adaptive mechanism: no customization module, an unmodulated decoder.
    Plain,
    /// Eq. 15.
    Film,
    /// Eq. 16.
    #[default]
    GatingFilm,
}

impl DecoderKind {
    /// The name used on the command line and in results.
    pub fn name(self) -> &'static str {
        match self {
            DecoderKind::Plain => "w/o tm",
            DecoderKind::Film => "film",
            DecoderKind::GatingFilm => "gating-film",
        }
    }
}

/// Where the item meets the user in the decoder.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "native", derive(clap::ValueEnum))]
#[serde(rename_all = "kebab-case")]
pub enum DecoderHead {
    /// The paper (section 4.5): the item embedding is part of the decoder's input
    /// `g^1 = [u | v_j | z]`, and an MLP of the concatenation gives the score.
    #[default]
    Mlp,
    /// Not in the paper: the FiLM-modulated layers see the user side `[u | z]` only, giving
    /// h_i; each item's embedding v_j gives an output vector and a bias `[e_j | b_j]` (one
    /// linear map), and the score is `w . h_i + e_j . h_i + b_j`. An MLP of a concatenation
    /// learns a dot product poorly (Rendle et al., RecSys 2020); a catalog needs one.
    Dot,
}

/// Explicit ratings (regression, Eq. 17) or implicit feedback (binary, Eq. 18).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Feedback {
    Explicit,
    Implicit,
}

impl Feedback {
    /// The label from which an interaction counts as liked: a rating of 4 or more on explicit
    /// data, label 1 on implicit data. The standard metrics' relevance, the popularity ranker
    /// and the item clusters all use it.
    pub fn liked_from(self) -> f32 {
        match self {
            Feedback::Explicit => 4.0,
            Feedback::Implicit => POSITIVE_FROM,
        }
    }
}

/// Implicit labels at or above this are positives, below it negatives (labels are 0 or 1).
pub const POSITIVE_FROM: f32 = 0.5;

/// What the decoder is trained to predict.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "native", derive(clap::ValueEnum))]
#[serde(rename_all = "kebab-case")]
pub enum Objective {
    /// The paper (Eq. 17/18): the rating or label of each query item the user interacted with.
    #[default]
    Rating,
    /// Not in the paper: whole-catalog recommendation. The decoder's outputs over the catalog
    /// are the logits of a softmax, trained with the multinomial likelihood of the user's liked
    /// query items (Mult-DAE's, Liang et al., WWW 2018). The support set enters the encoder and
    /// the task identity with its ratings, and the posterior sees the whole task, as in the
    /// paper. See `src/catalog/`.
    Catalog,
}

/// Which z decodes the catalog objective's training tasks.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "native", derive(clap::ValueEnum))]
#[serde(rename_all = "kebab-case")]
pub enum CatalogZ {
    /// A sample of the posterior q(z | tau_i), as Algorithm 1.
    #[default]
    Sample,
    /// The posterior's mean.
    PosteriorMean,
    /// The prior q(z | S_i)'s mean, the z of test time (the posterior then enters through the
    /// KL term only).
    PriorMean,
}

/// How one side (users or items) is embedded (section 4.2).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum EmbeddingSpec {
    /// Eq. 5: one table per categorical field (index 0 of each is "unknown"), concatenated;
    /// a multi-valued field (genres, actors) is the mean of its values' embeddings.
    Content { vocab: Vec<usize>, dim: usize },
    /// Eq. 6: a one-hot id through two layers, `sigma(W2 sigma(W1 e + b1) + b2)`.
    Id {
        count: usize,
        hidden: usize,
        dim: usize,
    },
}

impl EmbeddingSpec {
    /// Width of the embedding this spec produces.
    pub fn out_dim(&self) -> usize {
        match self {
            EmbeddingSpec::Content { vocab, dim } => vocab.len() * dim,
            EmbeddingSpec::Id { dim, .. } => *dim,
        }
    }

    fn validate(&self, side: &str) -> Result<()> {
        let ok = match self {
            EmbeddingSpec::Content { vocab, dim } => {
                !vocab.is_empty() && !vocab.contains(&0) && *dim > 0
            }
            EmbeddingSpec::Id { count, hidden, dim } => *count > 0 && *hidden > 0 && *dim > 0,
        };
        if ok {
            Ok(())
        } else {
            Err(TanpError::Config(format!(
                "the {side} embedding needs at least one field, non-empty vocabularies and non-zero sizes, found {self:?}"
            )))
        }
    }

    /// Vocabulary size of each field (the id count for the id case).
    pub fn field_vocab(&self) -> Vec<usize> {
        match self {
            EmbeddingSpec::Content { vocab, .. } => vocab.clone(),
            EmbeddingSpec::Id { count, .. } => vec![*count],
        }
    }
}

/// Every size and switch of a TaNP model. Stored in checkpoints and bundles.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ModelConfig {
    pub fidelity: Fidelity,
    pub decoder: DecoderKind,
    pub feedback: Feedback,
    pub user: EmbeddingSpec,
    pub item: EmbeddingSpec,
    /// Hidden sizes of the encoder h_theta (Eq. 7); its output is `r_dim`.
    pub encoder_hidden: Vec<usize>,
    pub r_dim: usize,
    /// Width of `ReLU(W_s r)` in Eq. 9.
    pub s_dim: usize,
    pub z_dim: usize,
    /// Hidden sizes of the task identity network m_phi (Eq. 10); its output is `t_dim`.
    pub task_hidden: Vec<usize>,
    pub t_dim: usize,
    /// Number of soft cluster centroids in the global pool A.
    pub k: usize,
    /// Degrees of freedom of the Student-t kernel (Eq. 11).
    pub alpha: f64,
    /// Weight of the clustering loss (Eq. 19).
    pub lambda: f64,
    /// Hidden sizes of the decoder (Eq. 15/16); the output layer maps to one score.
    pub decoder_hidden: Vec<usize>,
    /// Ratings are in [rating_min, rating_max] (1-5 for MovieLens, 0-1 for implicit data).
    pub rating_min: f64,
    pub rating_max: f64,
    /// What the decoder predicts (bundles written before this option existed: `Rating`).
    #[serde(default)]
    pub objective: Objective,
    /// Where the item meets the user (bundles written before this option existed: `Mlp`).
    #[serde(default)]
    pub head: DecoderHead,
}

impl ModelConfig {
    /// The paper's sizes (section 5.2.3: embeddings of 32, l = 3, alpha = 1).
    pub fn paper(user: EmbeddingSpec, item: EmbeddingSpec, feedback: Feedback) -> Self {
        let (rating_min, rating_max) = match feedback {
            Feedback::Explicit => (1.0, 5.0),
            Feedback::Implicit => (0.0, 1.0),
        };
        ModelConfig {
            fidelity: Fidelity::Paper,
            decoder: DecoderKind::GatingFilm,
            feedback,
            user,
            item,
            encoder_hidden: vec![64, 64],
            r_dim: 64,
            s_dim: 64,
            z_dim: 32,
            task_hidden: vec![64, 64],
            t_dim: 32,
            k: 10,
            alpha: 1.0,
            lambda: 0.1,
            decoder_hidden: vec![64, 64, 32],
            rating_min,
            rating_max,
            objective: Objective::Rating,
            head: DecoderHead::Mlp,
        }
    }

    /// Width of x = [u | v].
    pub fn x_dim(&self) -> usize {
        self.user.out_dim() + self.item.out_dim()
    }

    /// Checks that every size is usable.
    pub fn validate(&self) -> Result<()> {
        let bad = |what: &str| Err(TanpError::Config(what.to_string()));
        if self.encoder_hidden.is_empty() || self.task_hidden.is_empty() {
            return bad("encoder_hidden and task_hidden need at least one layer each");
        }
        if self.decoder_hidden.is_empty() {
            return bad("decoder_hidden needs at least one layer");
        }
        let sizes = [self.r_dim, self.s_dim, self.z_dim, self.t_dim, self.k]
            .into_iter()
            .chain(self.encoder_hidden.iter().copied())
            .chain(self.task_hidden.iter().copied())
            .chain(self.decoder_hidden.iter().copied());
        for s in sizes {
            if s == 0 {
                return bad("every layer size and k must be at least 1");
            }
        }
        if self.alpha.is_nan() || self.alpha <= 0.0 {
            return bad("alpha must be > 0");
        }
        if self.lambda.is_nan() || self.lambda < 0.0 {
            return bad("lambda must be >= 0");
        }
        if self.rating_min.is_nan()
            || self.rating_max.is_nan()
            || self.rating_min >= self.rating_max
        {
            return bad("rating_min must be below rating_max");
        }
        self.user.validate("user")?;
        self.item.validate("item")
    }
}

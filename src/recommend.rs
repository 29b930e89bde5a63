//! Recommendations for one new user from a handful of ratings: the support set becomes a task,
//! the model adapts to it with no gradient step (Eq. 7-16), and the whole catalog is scored.
//! One [`Recommender`] serves the CLI and the browser, on any burn device.

use std::collections::{HashMap, HashSet};
use std::future::Future;

use burn::tensor::{Device, Int, Tensor, TensorData};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde::{Deserialize, Serialize};

use crate::batch::normal_noise;
use crate::config::{ModelConfig, Objective};
use crate::data_types::CatalogItem;
use crate::error::{MAX_ECHO, Result, TanpError, shorten};
use crate::features::FeatureTable;
use crate::model::embedding::FieldInput;
use crate::model::{Adapted, Tanp};

/// The most ratings one support set may hold (the paper's longest histories are 200).
pub const MAX_SUPPORT: usize = 200;

/// Samples of z used to estimate each shown score's spread.
pub const Z_SAMPLES: usize = 16;
/// The seed of those samples, so that the same support set always gives the same spreads.
const Z_SEED: u64 = 0x7a4e;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ScoredItem {
    pub id: String,
    pub title: String,
    /// The prediction with z = the mean of q(z | S) (see [`ScoreKind`]).
    pub score: f32,
    /// Standard deviation of the prediction over [`Z_SAMPLES`] samples of z ~ q(z | S).
    pub std: f32,
}

/// What a [`ScoredItem`]'s score is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ScoreKind {
    /// A predicted rating in the model's rating range (the paper's objective), or for
    /// implicit data the probability of a positive.
    Rating,
    /// The item's share of a softmax over the whole catalog ([`Objective::Catalog`]): how
    /// likely it is the next item this user likes. All items' shares sum to 1; the spread
    /// over z samples keeps the mean's normaliser.
    CatalogShare,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Recommendation {
    pub items: Vec<ScoredItem>,
    /// The soft cluster assignment c_i of the new user's task (Eq. 11); empty for w/o tm.
    pub clusters: Vec<f32>,
    pub score_kind: ScoreKind,
}

/// FiLM's scale and shift of one decoder layer (Eq. 15, gated as in Eq. 16).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LayerModulation {
    pub gamma: Vec<f32>,
    pub beta: Vec<f32>,
}

/// Every intermediate of the paper's Figure 2 for one new user's task: what the page's live
/// walk-through draws. Vectors are of the model's sizes; empty where the variant has no such
/// part (w/o tm has no task identity nor modulations).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Explanation {
    /// The rated items, in the order of `encodings`.
    pub support: Vec<String>,
    /// r_j = h_theta([u | v_j | y_j]) of every support point (Eq. 7).
    pub encodings: Vec<Vec<f32>>,
    /// The prior q(z | S) = N(mu, sigma^2) (Eq. 8-9).
    pub mu: Vec<f32>,
    pub sigma: Vec<f32>,
    /// t_i, the temporary task embedding (Eq. 10).
    pub task: Vec<f32>,
    /// c_i, the soft cluster assignment (Eq. 11).
    pub clusters: Vec<f32>,
    /// o_i, the final task embedding (Eq. 12).
    pub task_embedding: Vec<f32>,
    /// gamma and beta of each decoder hidden layer (Eq. 15/16).
    pub film: Vec<LayerModulation>,
}

/// Which items a recommendation shows.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct RankOptions {
    /// How many items to return.
    pub top: usize,
    /// Leave the rated items out.
    pub exclude_rated: bool,
    /// Leave out items that fewer training users rated (the catalog's `ratings`); 0 = keep all.
    pub min_ratings: u32,
}

impl Default for RankOptions {
    fn default() -> Self {
        RankOptions {
            top: 10,
            exclude_rated: true,
            min_ratings: 0,
        }
    }
}

/// How many items [`Recommender::item_side`] embeds at once.
const ITEM_SIDE_CHUNK: usize = 16_384;

/// What does not depend on the user, computed once per recommender.
struct ItemSide {
    /// The decoder's item side for every item (`W_v v_j` of its first layer, or the dot
    /// head's `[e_j | b_j]`), see [`crate::model::decoder::Decoder::item_part`].
    h_items: Tensor<2>,
}

/// A trained model with its catalog, ready to score the whole catalog for new users. What does
/// not depend on the user (every item's embedding v_j and its part of the decoder's first
/// layer) is computed once, on first use or by [`Recommender::warm`].
pub struct Recommender {
    pub model: Tanp,
    pub config: ModelConfig,
    pub catalog: Vec<CatalogItem>,
    index: HashMap<String, u32>,
    /// Every catalog item's features (Eq. 5): the item side is computed from them once, the
    /// support points' v_j on each call (v_j of the whole catalog is not kept).
    items: FeatureTable,
    item_side: std::sync::OnceLock<ItemSide>,
    /// The model's scores are logits of a softmax over the catalog ([`Objective::Catalog`]).
    softmax: bool,
    /// Whether a profile (user field values) may be given: not for a model that never saw
    /// user fields in training, whose embeddings of them are untrained.
    accepts_profile: bool,
    device: Device,
}

impl Recommender {
    /// The item side, computed on first use, [`ITEM_SIDE_CHUNK`] items at a time: what is
    /// kept is `h_items`; every item's embedding v_j and the layers' intermediates never exist
    /// for the whole catalog at once (in wasm, memory once grown is never given back).
    fn item_side(&self) -> &ItemSide {
        self.item_side.get_or_init(|| {
            let all: Vec<u32> = (0..self.catalog.len() as u32).collect();
            let du = self.config.user.out_dim();
            let chunks: Vec<Tensor<2>> = all
                .chunks(ITEM_SIDE_CHUNK)
                .map(|rows| {
                    let v = self.model.embed_items(&self.item_input(rows));
                    self.model.item_part(v, du)
                })
                .collect();
            ItemSide {
                h_items: Tensor::cat(chunks, 0),
            }
        })
    }

    /// The feature input of the catalog items at `rows`.
    fn item_input(&self, rows: &[u32]) -> Vec<FieldInput> {
        FieldInput::for_entities(&self.items, rows, |_, _| false, &self.device)
    }

    /// Prepares for the first visitor once a page has shown that the model is ready: computes
    /// what does not depend on the user (the item side) and makes one recommendation for a
    /// made-up visitor (the first five catalog items rated at the middle of the scale), so that
    /// the code of that path and, on WebGPU, its kernels are compiled now rather than on a
    /// visitor's first rating (on SwiftShader that first recommendation took 7 s instead of 0.4).
    pub async fn warm(&self) -> Result<()> {
        self.item_side();
        let rating = (self.config.rating_min + self.config.rating_max) / 2.0;
        let support: Vec<(String, f64)> = self
            .catalog
            .iter()
            .take(5)
            .map(|item| (item.id.clone(), rating))
            .collect();
        self.recommend(&support, None, &RankOptions::default())
            .await
            .map(|_| ())
    }

    /// Checks that `items` describes every catalog entry with the model's vocabularies (the
    /// item side is computed on first use, see [`Recommender::warm`]).
    pub fn new(
        model: Tanp,
        config: ModelConfig,
        catalog: Vec<CatalogItem>,
        items: &FeatureTable,
        device: &Device,
    ) -> Result<Self> {
        config.validate()?;
        items.validate()?;
        if items.len() != catalog.len() {
            return Err(TanpError::Model(format!(
                "the item features describe {} items, the catalog has {}",
                items.len(),
                catalog.len()
            )));
        }
        if catalog.is_empty() {
            return Err(TanpError::Model("the catalog is empty".into()));
        }
        let expected = config.item.field_vocab();
        if items.vocab() != expected {
            return Err(TanpError::Model(format!(
                "item field vocabularies {:?} do not match the model's {expected:?}",
                items.vocab()
            )));
        }
        let mut index = HashMap::with_capacity(catalog.len());
        for (i, item) in catalog.iter().enumerate() {
            if index.insert(item.id.clone(), i as u32).is_some() {
                return Err(TanpError::Model(format!(
                    "item id {} appears twice in the catalog",
                    item.id
                )));
            }
        }
        let items = items.clone();
        let softmax = config.objective == Objective::Catalog;
        Ok(Recommender {
            model,
            config,
            catalog,
            index,
            items,
            item_side: std::sync::OnceLock::new(),
            softmax,
            accepts_profile: true,
            device: device.clone(),
        })
    }

    /// Checks a support set given as (item id, rating) against the catalog and the rating
    /// range, and returns (catalog index, rating) pairs.
    pub fn validate_support(&self, support: &[(String, f64)]) -> Result<Vec<(u32, f32)>> {
        if support.is_empty() {
            return Err(TanpError::EmptySupport);
        }
        if support.len() > MAX_SUPPORT {
            return Err(TanpError::TooManyRatings {
                count: support.len(),
                max: MAX_SUPPORT,
            });
        }
        let (min, max) = (self.config.rating_min, self.config.rating_max);
        let mut seen = HashSet::new();
        support
            .iter()
            .map(|(id, rating)| {
                let item = *self
                    .index
                    .get(id.as_str())
                    .ok_or_else(|| TanpError::UnknownItem(shorten(id, MAX_ECHO)))?;
                if !rating.is_finite() || *rating < min || *rating > max {
                    return Err(TanpError::RatingOutOfRange {
                        item: shorten(id, MAX_ECHO),
                        value: *rating,
                        min,
                        max,
                    });
                }
                if !seen.insert(item) {
                    return Err(TanpError::RatedTwice(shorten(id, MAX_ECHO)));
                }
                Ok((item, *rating as f32))
            })
            .collect()
    }

    /// Checks a support set of catalog indices (the protocol's and Figure 4's tasks).
    fn check_indexed(&self, support: &[(u32, f32)]) -> Result<()> {
        if support.is_empty() || support.iter().any(|s| s.0 as usize >= self.catalog.len()) {
            return Err(TanpError::Support(
                "a task needs at least one rating of a catalog item".into(),
            ));
        }
        Ok(())
    }

    /// Refuses profiles from now on (a model trained with every user field hidden).
    pub fn refuse_profiles(mut self) -> Self {
        self.accepts_profile = false;
        self
    }

    /// Checks a user profile (one value index per user field, 0 = not given).
    fn user_input(&self, profile: Option<&[u32]>) -> Result<Vec<FieldInput>> {
        let vocab = self.config.user.field_vocab();
        let unknown = vec![0; vocab.len()];
        let profile = profile.unwrap_or(&unknown);
        if !self.accepts_profile && profile.iter().any(|&v| v != 0) {
            return Err(TanpError::Profile(
                "this model was trained without user fields (demographics): give no profile".into(),
            ));
        }
        if profile.len() != vocab.len() {
            return Err(TanpError::Profile(format!(
                "the user profile has {} fields, the model expects {}",
                profile.len(),
                vocab.len()
            )));
        }
        profile
            .iter()
            .zip(&vocab)
            .enumerate()
            .map(|(f, (&value, &size))| {
                if value as usize >= size {
                    return Err(TanpError::Profile(format!(
                        "user field {f}: value index {value} outside its vocabulary of {size}"
                    )));
                }
                Ok(FieldInput::from_rows(
                    std::iter::once(&[value][..]),
                    &self.device,
                ))
            })
            .collect()
    }

    /// The user's embedding u `[1, u_dim]` and the adapted task for a validated support set.
    fn adapt(
        &self,
        support: &[(u32, f32)],
        profile: Option<&[u32]>,
    ) -> Result<(Tensor<2>, Adapted)> {
        let u = self.model.embed_users(&self.user_input(profile)?);
        let xy = self.support_points(u.clone(), support);
        let adapted = self
            .model
            .adapt(xy, Tensor::ones([1, support.len()], &self.device));
        Ok((u, adapted))
    }

    /// `[u | v_j | y_j]` of every support point, `[1, n, x_dim + 1]`.
    fn support_points(&self, u: Tensor<2>, support: &[(u32, f32)]) -> Tensor<3> {
        let n = support.len();
        let rows: Vec<u32> = support.iter().map(|s| s.0).collect();
        let v = self.model.embed_items(&self.item_input(&rows));
        let [_, dv] = v.dims();
        let x = Tanp::join(u, v.reshape([1, n, dv]));
        let y = Tensor::<2>::from_data(
            TensorData::new(support.iter().map(|s| s.1).collect::<Vec<_>>(), [1, n]),
            &self.device,
        );
        Tanp::with_labels(x, y)
    }

    /// Scores the catalog for a new user with the given support set and optional profile
    /// (user field value indices; `None` = nothing given), and returns the best items that
    /// `options` lets through. Asynchronous because reading a GPU tensor is; on the CPU the
    /// future is ready at once (see [`block_on`]).
    pub async fn recommend(
        &self,
        support: &[(String, f64)],
        profile: Option<&[u32]>,
        options: &RankOptions,
    ) -> Result<Recommendation> {
        let RankOptions {
            top,
            exclude_rated,
            min_ratings,
        } = *options;
        if min_ratings > 0 && !self.catalog.iter().any(|c| c.ratings >= min_ratings) {
            return Err(TanpError::NoWellKnownItem {
                min: min_ratings,
                most: self.catalog.iter().map(|c| c.ratings).max().unwrap_or(0),
            });
        }
        let support = self.validate_support(support)?;
        let (u, adapted) = self.adapt(&support, profile)?;
        let mu = adapted.prior.mu.clone();
        let raw = self.model.decode_items(
            u.clone(),
            mu.clone(),
            &adapted.film,
            self.item_side().h_items.clone(),
        );
        // The catalog objective's logits become each item's share of a softmax over the whole
        // catalog; log_norm is that softmax's log normaliser, [1, 1].
        let log_norm = self.softmax.then(|| logsumexp(raw.clone()));
        let mean = match &log_norm {
            Some(norm) => (raw - norm.clone()).exp(),
            None => self.model.to_score(raw),
        };
        let mean = read(mean).await?;
        if let Some(i) = mean.iter().position(|s| !s.is_finite()) {
            return Err(TanpError::NonFiniteScore {
                item: self.catalog[i].id.clone(),
                value: mean[i],
            });
        }
        let rated: HashSet<u32> = support.iter().map(|s| s.0).collect();
        let shown = crate::metrics::top_k(&mean, top, |i| {
            (!exclude_rated || !rated.contains(&(i as u32)))
                && self.catalog[i].ratings >= min_ratings
        });

        let std = self.spread(u, &support, log_norm, &shown).await?;
        let items = shown
            .iter()
            .zip(&std)
            .map(|(&i, &std)| ScoredItem {
                id: self.catalog[i].id.clone(),
                title: self.catalog[i].title.clone(),
                score: mean[i],
                std,
            })
            .collect();
        let clusters = match adapted.identity {
            Some(identity) => read(identity.c).await?,
            None => Vec::new(),
        };
        let score_kind = if self.softmax {
            ScoreKind::CatalogShare
        } else {
            ScoreKind::Rating
        };
        Ok(Recommendation {
            items,
            clusters,
            score_kind,
        })
    }

    /// The spread (standard deviation) of the `shown` items' scores over [`Z_SAMPLES`] seeded
    /// resamples of the support set (its points drawn with replacement, the bootstrap), each
    /// adapted on its own (Eq. 8-12) and decoded with its own z ~ q(z | resample) (Eq. 9): how
    /// much the scores rest on each of the visitor's ratings and on the latent path's
    /// uncertainty. With one rating every resample is that rating, and only z varies. Ranking
    /// uses the mean. Catalog shares take each resample's logits on the mean's normaliser
    /// `log_norm` (recomputing it would score the whole catalog once per resample).
    async fn spread(
        &self,
        u: Tensor<2>,
        support: &[(u32, f32)],
        log_norm: Option<Tensor<2>>,
        shown: &[usize],
    ) -> Result<Vec<f32>> {
        if shown.is_empty() || support.is_empty() {
            return Ok(vec![0.0; shown.len()]);
        }
        let mut rng = StdRng::seed_from_u64(Z_SEED);
        let n = support.len();
        let mut counts = vec![0f32; Z_SAMPLES * n];
        for s in 0..Z_SAMPLES {
            for _ in 0..n {
                counts[s * n + rng.random_range(0..n)] += 1.0;
            }
        }
        let counts = Tensor::<2>::from_data(TensorData::new(counts, [Z_SAMPLES, n]), &self.device);
        let adapted = self
            .model
            .adapt_weighted(self.support_points(u.clone(), support), counts);
        let eps = normal_noise(Z_SAMPLES, self.config.z_dim, &mut rng, &self.device);
        let z = adapted.prior.sample(eps);
        let idx: Vec<i64> = shown.iter().map(|&i| i as i64).collect();
        let idx = Tensor::<1, Int>::from_data(TensorData::new(idx, [shown.len()]), &self.device);
        let raw = self.model.decode_items(
            u,
            z,
            &adapted.film,
            self.item_side().h_items.clone().select(0, idx),
        );
        let samples = match log_norm {
            Some(norm) => (raw - norm).exp(),
            None => self.model.to_score(raw),
        };
        read(samples.var(0).sqrt()).await
    }

    /// Every catalog item's score (z = the mean of q(z | S)) for a support set of catalog
    /// indices and ratings: what the catalog protocol ranks (`src/catalog/`).
    pub async fn catalog_scores(
        &self,
        support: &[(u32, f32)],
        profile: Option<&[u32]>,
    ) -> Result<Vec<f32>> {
        self.check_indexed(support)?;
        let (u, adapted) = self.adapt(support, profile)?;
        read(self.model.decode_items(
            u,
            adapted.prior.mu,
            &adapted.film,
            self.item_side().h_items.clone(),
        ))
        .await
    }

    /// Every intermediate of Figure 2 for a new user's support set (see [`Explanation`]).
    pub async fn explain(
        &self,
        support: &[(String, f64)],
        profile: Option<&[u32]>,
    ) -> Result<Explanation> {
        let checked = self.validate_support(support)?;
        let (u, adapted) = self.adapt(&checked, profile)?;
        let r = self
            .model
            .encoder
            .encode_points(self.support_points(u, &checked));
        let [_, _, r_dim] = r.dims();
        let encodings = read(r).await?.chunks(r_dim).map(<[f32]>::to_vec).collect();
        let (task, clusters, task_embedding) = match adapted.identity {
            Some(i) => (read(i.t).await?, read(i.c).await?, read(i.o).await?),
            None => Default::default(),
        };
        let mut film = Vec::with_capacity(adapted.film.len());
        for p in adapted.film {
            film.push(LayerModulation {
                gamma: read(p.gamma).await?,
                beta: read(p.beta).await?,
            });
        }
        Ok(Explanation {
            support: checked
                .iter()
                .map(|s| self.catalog[s.0 as usize].id.clone())
                .collect(),
            encodings,
            mu: read(adapted.prior.mu).await?,
            sigma: read(adapted.prior.sigma).await?,
            task,
            clusters,
            task_embedding,
            film,
        })
    }

    /// The soft cluster assignment c_i (Eq. 11) of a task given by catalog indices and ratings,
    /// with the user's own profile: the training tasks of Figure 4. Empty for w/o tm.
    pub async fn assignment(&self, support: &[(u32, f32)], profile: &[u32]) -> Result<Vec<f32>> {
        self.check_indexed(support)?;
        let (_, adapted) = self.adapt(support, Some(profile))?;
        match adapted.identity {
            Some(identity) => read(identity.c).await,
            None => Ok(Vec::new()),
        }
    }
}

/// `log sum_j exp(x_j)` over the columns of a `[1, M]` row, `[1, 1]`, computed stably.
fn logsumexp(x: Tensor<2>) -> Tensor<2> {
    let max = x.clone().max_dim(1);
    (x - max.clone()).exp().sum_dim(1).log() + max
}

/// Reads a tensor's values (from the GPU in the browser).
async fn read<const D: usize>(t: Tensor<D>) -> Result<Vec<f32>> {
    t.into_data_async()
        .await
        .map_err(|e| TanpError::Numeric(format!("cannot read a result tensor: {e:?}")))?
        .try_to_vec()
        .map_err(|e| TanpError::Numeric(format!("cannot read a result tensor: {e:?}")))
}

/// Runs a future whose work is synchronous (any burn CPU device) to completion.
pub fn block_on<F: Future>(future: F) -> F::Output {
    let mut future = std::pin::pin!(future);
    let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
    loop {
        if let std::task::Poll::Ready(value) = future.as_mut().poll(&mut cx) {
            return value;
        }
        std::thread::yield_now();
    }
}

//! Recommendations for one new user from a handful of ratings: the support set becomes a task,
//! the model adapts to it with no gradient step, and the whole catalog is scored. Shared by the
//! CLI and the browser.

use std::collections::{HashMap, HashSet};

use burn::tensor::{Device, Tensor, TensorData};
use rand::SeedableRng;
use rand::rngs::StdRng;
use serde::{Deserialize, Serialize};

use crate::batch::normal_noise;
use crate::config::ModelConfig;
use crate::data_types::CatalogItem;
use crate::error::{Result, TanpError};
use crate::features::FeatureTable;
use crate::model::Tanp;
use crate::model::embedding::FieldInput;

/// The most ratings one support set may hold (the paper's longest histories are 200).
pub const MAX_SUPPORT: usize = 200;
/// Samples of z used to estimate each score's spread.
pub const Z_SAMPLES: usize = 16;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ScoredItem {
    pub id: String,
    pub title: String,
    /// The prediction with z = the mean of q(z | S).
    pub score: f32,
    /// Standard deviation of the prediction over samples of z ~ q(z | S).
    pub std: f32,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Recommendation {
    pub items: Vec<ScoredItem>,
    /// The soft cluster assignment c_i of the new user's task (Eq. 11); empty for w/o tm.
    pub clusters: Vec<f32>,
}

/// Checks a support set given as (item id, rating) against the catalog and rating range, and
/// returns (catalog index, rating) pairs.
pub fn validate_support(
    config: &ModelConfig,
    catalog: &[CatalogItem],
    support: &[(String, f64)],
) -> Result<Vec<(u32, f32)>> {
    if support.is_empty() {
        return Err(TanpError::Support(
            "it is empty: rate at least one item".into(),
        ));
    }
    if support.len() > MAX_SUPPORT {
        return Err(TanpError::Support(format!(
            "it has {} ratings, at most {MAX_SUPPORT} are accepted",
            support.len()
        )));
    }
    let index: HashMap<&str, u32> = catalog
        .iter()
        .enumerate()
        .map(|(i, c)| (c.id.as_str(), i as u32))
        .collect();
    let mut seen = HashSet::new();
    support
        .iter()
        .map(|(id, rating)| {
            let item = *index
                .get(id.as_str())
                .ok_or_else(|| TanpError::UnknownItem(id.clone()))?;
            if !rating.is_finite() || *rating < config.rating_min || *rating > config.rating_max {
                return Err(TanpError::RatingOutOfRange {
                    item: id.clone(),
                    value: *rating,
                    min: config.rating_min,
                    max: config.rating_max,
                });
            }
            if !seen.insert(item) {
                return Err(TanpError::Support(format!("item {id} is rated twice")));
            }
            Ok((item, *rating as f32))
        })
        .collect()
}

/// Scores the catalog for a new user with the given support set. User features are unknown
/// (a visitor gives none). `exclude_rated` leaves the rated items out of the ranking.
#[allow(clippy::too_many_arguments)]
pub fn recommend(
    model: &Tanp,
    config: &ModelConfig,
    catalog: &[CatalogItem],
    items: &FeatureTable,
    users: &FeatureTable,
    support: &[(String, f64)],
    top: usize,
    exclude_rated: bool,
    device: &Device,
) -> Result<Recommendation> {
    let support = validate_support(config, catalog, support)?;
    let n = support.len();
    let user_inputs = FieldInput::for_entities(users, &[0], |_, _| true, device);
    let support_items: Vec<u32> = support.iter().map(|s| s.0).collect();
    let item_inputs = FieldInput::for_entities(items, &support_items, |_, _| false, device);
    let u = model.embed_users(&user_inputs);
    let v = model.embed_items(&item_inputs);
    let [_, dv] = v.dims();
    let x_support = Tanp::join(u.clone(), v.reshape([1, n, dv]));
    let y = Tensor::<2>::from_data(
        TensorData::new(support.iter().map(|s| s.1).collect::<Vec<_>>(), [1, n]),
        device,
    );
    let xy = Tanp::with_labels(x_support, y);
    let adapted = model.adapt(xy, Tensor::ones([1, n], device));

    let m = catalog.len();
    let all: Vec<u32> = (0..m as u32).collect();
    let catalog_inputs = FieldInput::for_entities(items, &all, |_, _| false, device);
    let v_all = model.embed_items(&catalog_inputs).reshape([1, m, dv]);
    let x = Tanp::join(u, v_all);
    let [_, _, dx] = x.dims();
    let mean = model.to_score(model.decode(x.clone(), adapted.prior.mu.clone(), &adapted.film));
    let mut rng = StdRng::seed_from_u64(0x7a4e);
    let eps = normal_noise(Z_SAMPLES, config.z_dim, &mut rng, device);
    let z = adapted.prior.mu.clone().expand([Z_SAMPLES, config.z_dim])
        + eps * adapted.prior.sigma.clone();
    let film: Vec<_> = adapted
        .film
        .iter()
        .map(|p| crate::model::decoder::FilmParams {
            gamma: p.gamma.clone().expand([Z_SAMPLES, p.gamma.dims()[1]]),
            beta: p.beta.clone().expand([Z_SAMPLES, p.beta.dims()[1]]),
        })
        .collect();
    let samples = model.to_score(model.decode(x.expand([Z_SAMPLES, m, dx]), z, &film));
    let std = samples.var(0).sqrt();

    let mean: Vec<f32> = mean
        .into_data()
        .try_to_vec()
        .map_err(|e| TanpError::Numeric(format!("{e:?}")))?;
    let std: Vec<f32> = std
        .into_data()
        .try_to_vec()
        .map_err(|e| TanpError::Numeric(format!("{e:?}")))?;
    if let Some(i) = mean.iter().position(|s| !s.is_finite()) {
        return Err(TanpError::Numeric(format!(
            "the score of item {} is {}",
            catalog[i].id, mean[i]
        )));
    }
    let rated: HashSet<u32> = support.iter().map(|s| s.0).collect();
    let order = crate::metrics::rank(&mean);
    let items = order
        .into_iter()
        .filter(|&i| !exclude_rated || !rated.contains(&(i as u32)))
        .take(top)
        .map(|i| ScoredItem {
            id: catalog[i].id.clone(),
            title: catalog[i].title.clone(),
            score: mean[i],
            std: std[i],
        })
        .collect();
    let clusters = match &adapted.identity {
        Some(id) => {
            id.c.clone()
                .into_data()
                .try_to_vec()
                .map_err(|e| TanpError::Numeric(format!("{e:?}")))?
        }
        None => Vec::new(),
    };
    Ok(Recommendation { items, clusters })
}

//! Helpers shared by the integration tests.
#![allow(dead_code)]

use burn::module::Param;
use burn::nn::Linear;
use burn::tensor::{Device, Tensor, TensorData};
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use tanp::config::{DecoderKind, EmbeddingSpec, Feedback, ModelConfig};
use tanp::data::{CatalogItem, Dataset, Episodes};
use tanp::eval::{Metrics, ZMode, rank_tasks, swap_supports};
use tanp::features::{FeatureTable, Field};
use tanp::metrics::AtN;
use tanp::task::{Interaction, Task};
use tanp::train::{TrainConfig, train};

pub fn dev() -> Device {
    Device::flex()
}

pub fn t2(rows: usize, cols: usize, v: &[f32]) -> Tensor<2> {
    Tensor::from_data(TensorData::new(v.to_vec(), [rows, cols]), &dev())
}

pub fn t3(a: usize, b: usize, c: usize, v: &[f32]) -> Tensor<3> {
    Tensor::from_data(TensorData::new(v.to_vec(), [a, b, c]), &dev())
}

pub fn values<const D: usize>(t: Tensor<D>) -> Vec<f32> {
    t.into_data().try_to_vec().unwrap()
}

/// A Linear layer with the given `[in, out]` weight (row-major) and optional bias.
pub fn linear(d_in: usize, d_out: usize, w: &[f32], b: Option<&[f32]>) -> Linear {
    Linear {
        weight: Param::from_tensor(t2(d_in, d_out, w)),
        bias: b.map(|b| {
            Param::from_tensor(Tensor::from_data(
                TensorData::new(b.to_vec(), [d_out]),
                &dev(),
            ))
        }),
    }
}

pub fn close(a: &[f32], b: &[f32], tol: f32) {
    assert_eq!(a.len(), b.len(), "lengths differ: {a:?} vs {b:?}");
    for (x, y) in a.iter().zip(b) {
        assert!((x - y).abs() <= tol, "{a:?} vs {b:?}");
    }
}

pub const ITEMS: usize = 30;

/// burn's random initialisation draws from one process-wide generator that `Device::seed`
/// resets; tests that need repeatable weights take this lock so that they do not interleave.
static SEEDED: std::sync::Mutex<()> = std::sync::Mutex::new(());

pub fn seeded() -> std::sync::MutexGuard<'static, ()> {
    SEEDED.lock().unwrap_or_else(|e| e.into_inner())
}

/// Items have a "genre" (i % 3); each user loves one genre (rating 5) and dislikes the others
/// (rating 1, with noise). Only the support set tells which genre a user loves.
pub fn synthetic() -> (Dataset, Episodes) {
    let mut rng = StdRng::seed_from_u64(11);
    let mut genre = Field::new("genre", 4);
    for i in 0..ITEMS {
        genre.push(&[(i % 3) as u32 + 1]).unwrap();
    }
    let mut id = Field::new("id", ITEMS + 1);
    for i in 0..ITEMS {
        id.push(&[i as u32 + 1]).unwrap();
    }
    let users = 240;
    let mut unknown = Field::new("unknown", 2);
    for _ in 0..users {
        unknown.push(&[1]).unwrap();
    }
    let histories: Vec<Vec<Interaction>> = (0..users)
        .map(|u| {
            let mut items: Vec<u32> = (0..ITEMS as u32).collect();
            items.shuffle(&mut rng);
            items
                .into_iter()
                .take(24)
                .map(|i| {
                    let love = (i as usize % 3) == u % 3;
                    let y = if love { 5.0 } else { 1.0 } + rng.random_range(0.0..1.0f32);
                    Interaction {
                        item: i,
                        y: y.round().min(5.0),
                    }
                })
                .collect()
        })
        .collect();
    let task = |u: usize| {
        let h = &histories[u];
        Task {
            user: u as u32,
            support: h[..8].to_vec(),
            query: h[8..].to_vec(),
        }
    };
    let episodes = Episodes {
        train: (0..180).map(task).collect(),
        valid: (180..200).map(task).collect(),
        test: (200..240).map(task).collect(),
    };
    let data = Dataset {
        name: "synthetic".into(),
        feedback: Feedback::Explicit,
        users: FeatureTable {
            fields: vec![unknown],
        },
        items: FeatureTable {
            fields: vec![genre, id],
        },
        user_ids: (0..users).map(|u| u.to_string()).collect(),
        profile_fields: Vec::new(),
        catalog: (0..ITEMS)
            .map(|i| CatalogItem {
                id: format!("m{i}"),
                title: format!("Movie {i}"),
                year: None,
                genres: vec![],
                ratings: i as u32,
                image: None,
                link: None,
            })
            .collect(),
        histories,
        episodes: None,
        identity: serde_json::Value::Null,
    };
    (data, episodes)
}

pub fn config(data: &Dataset, decoder: DecoderKind) -> ModelConfig {
    let mut c = ModelConfig::paper(
        EmbeddingSpec::Content {
            vocab: data.users.vocab(),
            dim: 4,
        },
        EmbeddingSpec::Content {
            vocab: data.items.vocab(),
            dim: 8,
        },
        Feedback::Explicit,
    );
    c.encoder_hidden = vec![32];
    c.task_hidden = vec![32];
    c.r_dim = 32;
    c.s_dim = 32;
    c.z_dim = 8;
    c.t_dim = 8;
    c.k = 3;
    c.decoder_hidden = vec![32, 16];
    c.decoder = decoder;
    c
}

/// The training recipe of the synthetic tests.
pub fn train_config(epochs: usize) -> TrainConfig {
    TrainConfig {
        epochs,
        batch_size: 16,
        lr: 1e-2,
        seed: 5,
        n_s: 8,
        ..TrainConfig::default()
    }
}

/// A fresh temporary run directory for the test `name`.
pub fn out_dir(name: &str) -> std::path::PathBuf {
    let d = std::env::temp_dir().join(format!("tanp-train-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    d
}

/// The standard metrics at 5 of a run on the test users: `(trained, random, swapped)`, where
/// `random` ranks the same queries at random and `swapped` gives every test user the next
/// user's support set (the support-set ablation).
pub struct AdaptationCheck {
    pub trained: AtN,
    pub random: AtN,
    pub swapped: AtN,
}

/// Trains `cfg` for `epochs` (call [`seeded`] first) and measures [`AdaptationCheck`].
pub fn train_and_check(
    data: &Dataset,
    episodes: &Episodes,
    cfg: &ModelConfig,
    epochs: usize,
    name: &str,
) -> AdaptationCheck {
    let (model, state) = train(
        data,
        episodes,
        cfg,
        &train_config(epochs),
        &out_dir(name),
        true,
    )
    .unwrap();
    assert_eq!(state.epoch, epochs);
    let mut rng = StdRng::seed_from_u64(1);
    let rank = |tasks: &[Task], rng: &mut StdRng| {
        rank_tasks(
            &model,
            tasks,
            &data.users,
            &data.items,
            ZMode::Mean,
            64,
            cfg.z_dim,
            rng,
            &dev(),
        )
    };
    let at5 = |m: Metrics| *m.standard.get(5).unwrap();
    let rankings = rank(&episodes.test, &mut rng);
    let trained = at5(Metrics::from_rankings(&rankings, data.feedback));
    let random: Vec<_> = rankings
        .iter()
        .map(|r| {
            let mut r = r.clone();
            r.scores = (0..r.scores.len()).map(|_| rng.random()).collect();
            r
        })
        .collect();
    let random = at5(Metrics::from_rankings(&random, data.feedback));
    let swapped = rank(&swap_supports(&episodes.test), &mut rng);
    let swapped = at5(Metrics::from_rankings(&swapped, data.feedback));
    AdaptationCheck {
        trained,
        random,
        swapped,
    }
}

/// A bundle of a freshly initialised model of `decoder` on the synthetic data (call [`seeded`]
/// first), with one training task's uniform assignment.
pub fn synthetic_bundle(decoder: DecoderKind) -> tanp::bundle::Bundle {
    let (data, _) = synthetic();
    let cfg = config(&data, decoder);
    let model = tanp::model::Tanp::new(&cfg, &Device::flex());
    tanp::bundle::Bundle::new(
        cfg.clone(),
        "synthetic",
        serde_json::json!({"command": "test"}),
        vec![tanp::bundle::TaskAssignment {
            user: "0".into(),
            ratings: 8,
            clusters: vec![1.0 / cfg.k as f32; cfg.k],
        }],
        tanp::bundle::CatalogFile {
            items: data.catalog.clone(),
            features: data.items.clone(),
        },
        tanp::weights::weights_to_bytes(&model).unwrap(),
    )
    .unwrap()
}

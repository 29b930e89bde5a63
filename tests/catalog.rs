//! The catalog protocol, its baselines, and TaNP's catalog objective.

mod common;

use common::{ITEMS, config, out_dir, seeded, synthetic};
use rand::SeedableRng;
use rand::rngs::StdRng;
use tanp::batch::HostBatch;
use tanp::catalog::baselines::{KnnConfig, Signal, Square, ease, item_knn};
use tanp::catalog::tanp_scorer;
use tanp::catalog::{
    CatalogProtocol, CatalogScorer, CatalogTask, catalog_tasks, evaluate, evaluate_tasks,
    mean_pairwise_jaccard, swap_catalog_supports,
};
use tanp::config::{DecoderKind, Feedback, Objective};
use tanp::error::Result;
use tanp::recipe::CatalogSoftmax;
use tanp::recommend::{RankOptions, Recommender, ScoreKind, block_on};
use tanp::task::{Interaction, Task};
use tanp::train::{TrainConfig, train};

fn x(item: u32, y: f32) -> Interaction {
    Interaction { item, y }
}

#[test]
fn recall_and_ndcg_by_hand() {
    // Scores rank items 0, 1, 2, ... first; item 0 is in the support set, so the list starts
    // at 1. Relevant: 2 and 7 (rank 2 and 7 of the list without item 0).
    let scorer = |_: u32, _: &[Interaction]| -> Result<Vec<f32>> {
        Ok((0..30).map(|i| -(i as f32)).collect())
    };
    let task = CatalogTask {
        user: 0,
        support: vec![x(0, 5.0)],
        relevant: vec![2, 11, 0],
    };
    let counts = vec![100u32; 30];
    let rows = evaluate_tasks(&scorer, &[task], &counts, &[0], 1, false).unwrap();
    let r = &rows[0];
    // The support item 0 is not relevant any more: relevant = {2, 11}.
    assert_eq!(r.users_with_relevant, 1);
    assert!((r.recall_10 - 0.5).abs() < 1e-12, "{r:?}");
    assert!((r.recall_20 - 1.0).abs() < 1e-12);
    let dcg10 = 1.0 / 3f64.log2();
    let idcg = 1.0 / 2f64.log2() + 1.0 / 3f64.log2();
    assert!((r.ndcg_10 - dcg10 / idcg).abs() < 1e-12);
    let dcg20 = dcg10 + 1.0 / 12f64.log2();
    assert!((r.ndcg_20 - dcg20 / idcg).abs() < 1e-12);
    assert!((r.coverage_10 - 10.0 / 30.0).abs() < 1e-12);
}

#[test]
fn the_filter_removes_candidates_and_their_relevance() {
    let scorer =
        |_: u32, _: &[Interaction]| -> Result<Vec<f32>> { Ok((0..30).map(|i| i as f32).collect()) };
    // Items below 10 ratings are not candidates: relevant item 3 drops out, item 29 stays.
    let counts: Vec<u32> = (0..30).map(|i| if i < 10 { 5 } else { 60 }).collect();
    let task = CatalogTask {
        user: 0,
        support: vec![x(12, 4.0)],
        relevant: vec![3, 29],
    };
    let rows = evaluate_tasks(&scorer, &[task], &counts, &[50, 0], 1, false).unwrap();
    assert_eq!(rows[0].candidates, 20);
    assert!((rows[0].recall_10 - 1.0).abs() < 1e-12);
    assert_eq!(rows[1].candidates, 30);
    assert!((rows[1].recall_10 - 0.5).abs() < 1e-12);
}

#[test]
fn tasks_are_seeded_and_split_support_from_relevant() {
    let users: Vec<Task> = (0..5)
        .map(|u| Task {
            user: u,
            support: (0..10)
                .map(|i| x(i, if i % 2 == 0 { 5.0 } else { 2.0 }))
                .collect(),
            query: (10..20).map(|i| x(i, 4.0)).collect(),
        })
        .collect();
    let a = catalog_tasks(&users, 5, Feedback::Explicit, 7);
    assert_eq!(a, catalog_tasks(&users, 5, Feedback::Explicit, 7));
    assert_ne!(a, catalog_tasks(&users, 5, Feedback::Explicit, 8));
    for t in &a {
        assert_eq!(t.support.len(), 5);
        assert!(
            t.relevant
                .iter()
                .all(|i| !t.support.iter().any(|s| s.item == *i))
        );
        // The 15 other items: 10 rated 4 plus the even ones of 0..10 not in the support set.
        let liked_in_support = t.support.iter().filter(|s| s.y >= 4.0).count();
        assert_eq!(t.relevant.len(), 10 + 5 - liked_in_support);
    }
    // Users with no more than N_S interactions are left out.
    assert!(catalog_tasks(&users, 20, Feedback::Explicit, 7).is_empty());
    let swapped = swap_catalog_supports(&a);
    assert_eq!(swapped[0].support, a[1].support);
    assert_eq!(swapped[4].support, a[0].support);
    assert_eq!(swapped[0].relevant, a[0].relevant);
}

#[test]
fn jaccard() {
    assert_eq!(mean_pairwise_jaccard(&[vec![1, 2], vec![1, 2]]), 1.0);
    assert_eq!(mean_pairwise_jaccard(&[vec![1, 2], vec![3, 4]]), 0.0);
    // {1,2} vs {2,3}: 1/3; the other two pairs 0 and 1.
    let j = mean_pairwise_jaccard(&[vec![1, 2], vec![2, 3], vec![2, 3]]);
    assert!((j - (1.0 / 3.0 + 1.0 / 3.0 + 1.0) / 3.0).abs() < 1e-12);
}

#[test]
fn spd_inverse_inverts() {
    let n = 6;
    let mut a = Square {
        n,
        v: vec![0.0; n * n],
    };
    for i in 0..n {
        for j in 0..n {
            a.v[i * n + j] =
                1.0 / (1.0 + (i as f64 - j as f64).abs()) + if i == j { n as f64 } else { 0.0 };
        }
    }
    let inv = a.spd_inverse().unwrap();
    for i in 0..n {
        for j in 0..n {
            let p: f64 = (0..n).map(|k| a.v[i * n + k] * inv.v[k * n + j]).sum();
            assert!((p - if i == j { 1.0 } else { 0.0 }).abs() < 1e-10);
        }
    }
    let mut bad = Square {
        n: 2,
        v: vec![1.0, 2.0, 2.0, 1.0],
    };
    assert!(bad.spd_inverse().is_err());
    bad.v[0] = f64::NAN;
    assert!(bad.spd_inverse().is_err());
}

/// Every synthetic user loves one of three genres (item % 3): a method that uses the support
/// set recommends that genre.
fn genre_recall(scorer: &dyn CatalogScorer) -> (f64, f64) {
    let (data, episodes) = synthetic();
    let counts = vec![100u32; ITEMS];
    let protocol = CatalogProtocol {
        n_s: vec![5],
        filters: vec![0],
        swapped: true,
        seed: 1,
    };
    let report = evaluate(scorer, &episodes.test, &counts, data.feedback, &protocol).unwrap();
    (
        report.get(5, 0, false).unwrap().recall_10,
        report.get(5, 0, true).unwrap().recall_10,
    )
}

#[test]
fn item_knn_and_ease_follow_the_support_set() {
    let (data, episodes) = synthetic();
    let liked = data.feedback.liked_from();
    let knn = item_knn(
        ITEMS,
        &episodes.train,
        liked,
        &KnnConfig {
            signal: Signal::Liked,
            centred: false,
            shrink: 0.0,
        },
    );
    let (own, swapped) = genre_recall(&knn);
    assert!(
        own > 0.8 && own > swapped + 0.4,
        "item-kNN: {own} vs swapped {swapped}"
    );
    let model = ease(ITEMS, &episodes.train, liked, Signal::Liked, 10.0).unwrap();
    let (own, swapped) = genre_recall(&model);
    assert!(
        own > 0.8 && own > swapped + 0.4,
        "EASE: {own} vs swapped {swapped}"
    );
}

#[test]
fn catalog_batches_predict_the_liked_query_items() {
    let task = Task {
        user: 0,
        support: vec![x(0, 5.0), x(1, 2.0)],
        query: vec![x(2, 4.0), x(3, 1.0), x(4, 5.0)],
    };
    let mut rng = StdRng::seed_from_u64(3);
    let host = HostBatch::catalog_training(&[&task, &task], (2, 2), &mut rng);
    assert_eq!((host.b, host.n), (2, 5));
    for t in 0..2 {
        let points = t * 5..(t + 1) * 5;
        assert_eq!(host.support[points.clone()].iter().sum::<f32>(), 2.0);
        assert!(
            host.target[points.clone()].iter().all(|&v| v == 1.0),
            "tau_i = the whole task"
        );
        for j in points {
            assert_eq!(host.predict[j], 1.0 - host.support[j]);
        }
    }
    let liked = host.liked_queries(8, 4.0);
    for t in 0..2 {
        let row = &liked[t * 8..(t + 1) * 8];
        for item in 0..8u32 {
            let expected = (0..5).any(|j| {
                let at = t * 5 + j;
                host.items[at] == item && host.predict[at] == 1.0 && host.y[at] >= 4.0
            });
            assert_eq!(row[item as usize] == 1.0, expected, "task {t} item {item}");
        }
    }
    // A support set larger than the task leaves at least one query point.
    let host = HostBatch::catalog_training(&[&task], (9, 9), &mut rng);
    assert_eq!(host.support.iter().sum::<f32>(), 4.0);
}

/// TaNP trained with the catalog objective on the synthetic genres, its softmax as given, and
/// checked to recommend the support set's genre.
fn catalog_recommender(softmax: CatalogSoftmax, out: &str) -> Recommender {
    let (data, episodes) = synthetic();
    let mut cfg = config(&data, DecoderKind::GatingFilm);
    cfg.objective = Objective::Catalog;
    let tc = TrainConfig {
        epochs: 30,
        batch_size: 16,
        lr: 1e-2,
        seed: 5,
        n_s: 8,
        support_min: 3,
        catalog_softmax: softmax,
        ..TrainConfig::default()
    };
    let (model, state) = train(&data, &episodes, &cfg, &tc, &out_dir(out), true).unwrap();
    assert_eq!(state.epoch, 30);
    let device = burn::tensor::Device::flex();
    let recommender =
        Recommender::new(model, cfg, data.catalog.clone(), &data.items, &device).unwrap();
    let (own, swapped) = genre_recall(&tanp_scorer(&recommender, None));
    // Ten random items out of 25 candidates would give about 0.4.
    assert!(
        own > 0.65 && own > swapped + 0.4,
        "TaNP catalog ({softmax:?}): {own} vs swapped {swapped}"
    );
    recommender
}

#[test]
fn the_sampled_softmax_learns_the_genres_too() {
    let _guard = seeded();
    // 6 draws per batch from 25 items: each batch's softmax sees about a third of the catalog.
    catalog_recommender(CatalogSoftmax::Sampled(6), "catalog-sampled");
}

#[test]
fn tanp_with_the_catalog_objective_recommends_the_supports_genre() {
    let _guard = seeded();
    let recommender = catalog_recommender(CatalogSoftmax::Full, "catalog");
    let scorer = tanp_scorer(&recommender, None);
    let scores = scorer(0, &[x(0, 5.0)]).unwrap();
    assert_eq!(scores.len(), ITEMS);
    assert!(scores.iter().all(|s| s.is_finite()));

    // recommend() gives each item's share of a softmax over the catalog.
    let support = vec![("m0".to_string(), 5.0), ("m3".to_string(), 4.0)];
    let options = RankOptions {
        top: ITEMS,
        exclude_rated: false,
        min_ratings: 0,
    };
    let rec = block_on(recommender.recommend(&support, None, &options)).unwrap();
    assert_eq!(rec.score_kind, ScoreKind::CatalogShare);
    let total: f32 = rec.items.iter().map(|i| i.score).sum();
    assert!((total - 1.0).abs() < 1e-4, "shares sum to {total}");
    assert!(rec.items.iter().all(|i| i.std.is_finite() && i.std >= 0.0));
    // A model trained without user fields refuses a profile, but not an empty one.
    drop(scorer);
    let blind = recommender.refuse_profiles();
    let err = block_on(blind.recommend(&support, Some(&[1]), &options)).unwrap_err();
    assert!(err.to_string().contains("without user fields"), "{err}");
    assert!(block_on(blind.recommend(&support, Some(&[0]), &options)).is_ok());
}

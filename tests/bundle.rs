//! The model bundle and the recommender that the browser and `tanp recommend` share.
mod common;

use burn::tensor::{Device, Tensor, TensorData};
use common::{config, seeded, synthetic, values};
use tanp::bundle::{
    Bundle, CATALOG, CatalogFile, MANIFEST, TaskAssignment, WEIGHTS, weights_to_bytes,
};
use tanp::config::DecoderKind;
use tanp::error::TanpError;
use tanp::model::Tanp;
use tanp::model::embedding::FieldInput;
use tanp::recommend::{RankOptions, Recommender, block_on};

fn support() -> Vec<(String, f64)> {
    [
        ("m0", 5.0),
        ("m3", 4.0),
        ("m1", 1.0),
        ("m7", 2.0),
        ("m9", 5.0),
    ]
    .into_iter()
    .map(|(i, r)| (i.to_string(), r))
    .collect()
}

fn top(n: usize) -> RankOptions {
    RankOptions {
        top: n,
        ..RankOptions::default()
    }
}

fn bundle(decoder: DecoderKind) -> Bundle {
    let (data, _) = synthetic();
    let cfg = config(&data, decoder);
    let model = Tanp::new(&cfg, &Device::flex());
    Bundle::new(
        cfg.clone(),
        "synthetic",
        serde_json::json!({"command": "test"}),
        vec![TaskAssignment {
            user: "0".into(),
            ratings: 8,
            clusters: vec![1.0 / cfg.k as f32; cfg.k],
        }],
        CatalogFile {
            items: data.catalog.clone(),
            features: data.items.clone(),
        },
        weights_to_bytes(&model).unwrap(),
    )
    .unwrap()
}

fn parts(b: &Bundle) -> (Vec<u8>, Vec<u8>, Vec<u8>) {
    let files = b.files().unwrap();
    let get = |n: &str| files.iter().find(|f| f.0 == n).unwrap().1.clone();
    (get(MANIFEST), get(CATALOG), get(WEIGHTS))
}

/// The recommender's fast path (item embeddings and the decoder's item part computed once,
/// std for the shown items only) gives the same scores as the plain Eq. 15/16 decoder over
/// the full `[u | v | z]` input.
#[test]
fn recommender_scores_equal_the_plain_decoder() {
    let _guard = seeded();
    let (data, _) = synthetic();
    let device = Device::flex();
    for decoder in [
        DecoderKind::Plain,
        DecoderKind::Film,
        DecoderKind::GatingFilm,
    ] {
        let cfg = config(&data, decoder);
        let model = Tanp::new(&cfg, &device);
        let rec = Recommender::new(
            model.clone(),
            cfg.clone(),
            data.catalog.clone(),
            &data.items,
            &device,
        )
        .unwrap();
        let out = block_on(rec.recommend(
            &support(),
            None,
            &RankOptions {
                top: data.catalog.len(),
                exclude_rated: false,
                min_ratings: 0,
            },
        ))
        .unwrap();
        assert_eq!(out.items.len(), data.catalog.len());

        // The plain path, written out from the model's public pieces.
        let user = FieldInput::for_entities(&data.users, &[0], |_, _| true, &device);
        let u = model.embed_users(&user);
        let ids: Vec<u32> = support()
            .iter()
            .map(|s| s.0[1..].parse().unwrap())
            .collect();
        let n = ids.len();
        let v_s = model.embed_items(&FieldInput::for_entities(
            &data.items,
            &ids,
            |_, _| false,
            &device,
        ));
        let dv = v_s.dims()[1];
        let y = Tensor::<2>::from_data(
            TensorData::new(
                support().iter().map(|s| s.1 as f32).collect::<Vec<_>>(),
                [1, n],
            ),
            &device,
        );
        let xy = Tanp::with_labels(Tanp::join(u.clone(), v_s.reshape([1, n, dv])), y);
        let adapted = model.adapt(xy, Tensor::ones([1, n], &device));
        let all: Vec<u32> = (0..data.catalog.len() as u32).collect();
        let v = model.embed_items(&FieldInput::for_entities(
            &data.items,
            &all,
            |_, _| false,
            &device,
        ));
        let x = Tanp::join(u, v.reshape([1, all.len(), dv]));
        let plain =
            values(model.to_score(model.decode(x, adapted.prior.mu.clone(), &adapted.film)));
        for item in &out.items {
            let i: usize = item.id[1..].parse().unwrap();
            assert!(
                (item.score - plain[i]).abs() < 1e-5,
                "{decoder:?} item {i}: {} vs {}",
                item.score,
                plain[i]
            );
        }
        if decoder == DecoderKind::Plain {
            assert!(out.clusters.is_empty());
        } else {
            common::close(&out.clusters, &values(adapted.identity.unwrap().c), 1e-6);
        }
    }
}

#[test]
fn bundle_round_trip_gives_the_same_recommendations() {
    let _guard = seeded();
    let b = bundle(DecoderKind::GatingFilm);
    let device = Device::flex();
    let before = block_on(
        b.recommender(&device)
            .unwrap()
            .recommend(&support(), None, &top(7)),
    )
    .unwrap();
    let (m, c, w) = parts(&b);
    let back = Bundle::from_bytes(&m, &c, w).unwrap();
    assert_eq!(back.manifest, b.manifest);
    assert_eq!(back.catalog, b.catalog);
    let after = block_on(
        back.recommender(&device)
            .unwrap()
            .recommend(&support(), None, &top(7)),
    )
    .unwrap();
    assert_eq!(before, after);
    assert!(after.items.iter().all(|i| i.std > 0.0 && i.std.is_finite()));

    let dir = std::env::temp_dir().join(format!("tanp-bundle-{}", std::process::id()));
    b.write(&dir).unwrap();
    let read = Bundle::read(&dir).unwrap();
    assert_eq!(read.manifest, b.manifest);
    std::fs::remove_dir_all(&dir).unwrap();
}

fn rejected(m: &[u8], c: &[u8], w: Vec<u8>) -> String {
    match Bundle::from_bytes(m, c, w) {
        Err(e @ TanpError::Model(_)) => e.to_string(),
        other => panic!("expected a model error, found {other:?}"),
    }
}

#[test]
fn corrupt_or_mismatched_bundles_are_rejected_with_a_reason() {
    let _guard = seeded();
    let b = bundle(DecoderKind::Film);
    let (m, c, w) = parts(&b);
    let text = String::from_utf8(m.clone()).unwrap();

    assert!(rejected(b"not json", &c, w.clone()).contains("not JSON"));
    let other = text.replace("\"tanp-bundle\"", "\"something-else\"");
    assert!(rejected(other.as_bytes(), &c, w.clone()).contains("expected format"));
    let v2 = text.replace("\"version\": 1", "\"version\": 2");
    assert!(rejected(v2.as_bytes(), &c, w.clone()).contains("expected version 1"));

    let mut flipped = w.clone();
    let last = flipped.len() - 1;
    flipped[last] ^= 1;
    assert!(rejected(&m, &c, flipped).contains("checksum mismatch"));
    assert!(rejected(&m, &c, w[..w.len() / 2].to_vec()).contains("truncated"));
    assert!(rejected(&m, &c[..10], w.clone()).contains(CATALOG));

    // Profile field labels must name every value of the user field's vocabulary but "unknown".
    let with_profile = |labels: serde_json::Value| {
        let mut v: serde_json::Value = serde_json::from_slice(&m).unwrap();
        v["profile_fields"] = serde_json::json!([{ "name": "unknown", "labels": labels }]);
        serde_json::to_vec(&v).unwrap()
    };
    let fine =
        Bundle::from_bytes(&with_profile(serde_json::json!(["yes"])), &c, w.clone()).unwrap();
    assert_eq!(fine.manifest.profile_fields[0].labels, vec!["yes"]);
    let err = rejected(&with_profile(serde_json::json!(["a", "b"])), &c, w.clone());
    assert!(
        err.contains("profile field unknown names 2 values, expected 1"),
        "{err}"
    );

    // Valid files whose weights belong to another model: checksums fit, shapes do not.
    let (data, _) = synthetic();
    let mut cfg = config(&data, DecoderKind::Film);
    cfg.z_dim = 5;
    let mismatched = Bundle::new(
        cfg,
        "synthetic",
        serde_json::Value::Null,
        vec![],
        b.catalog.clone(),
        w.clone(),
    )
    .unwrap();
    let err = mismatched
        .recommender(&Device::flex())
        .err()
        .expect("shapes differ");
    assert!(err.to_string().contains(WEIGHTS), "{err}");

    // A catalog whose features do not cover every item.
    let mut short = b.catalog.clone();
    short.items.pop();
    let bad = Bundle::new(
        b.manifest.config.clone(),
        "synthetic",
        serde_json::Value::Null,
        vec![],
        short,
        w,
    )
    .unwrap();
    let err = bad
        .recommender(&Device::flex())
        .err()
        .expect("lengths differ");
    assert!(err.to_string().contains("catalog has"), "{err}");
}

/// The live Figure 2 walk-through: every intermediate has the model's sizes and agrees with
/// what `recommend` uses.
#[test]
fn explanation_matches_the_recommendation_and_the_model_sizes() {
    let _guard = seeded();
    for decoder in [
        DecoderKind::Plain,
        DecoderKind::Film,
        DecoderKind::GatingFilm,
    ] {
        let b = bundle(decoder);
        let cfg = b.manifest.config.clone();
        let rec = b.recommender(&Device::flex()).unwrap();
        let e = block_on(rec.explain(&support(), None)).unwrap();
        let r = block_on(rec.recommend(&support(), None, &top(3))).unwrap();
        assert_eq!(e.support, vec!["m0", "m3", "m1", "m7", "m9"]);
        assert_eq!(e.encodings.len(), 5);
        assert!(e.encodings.iter().all(|r| r.len() == cfg.r_dim));
        assert_eq!((e.mu.len(), e.sigma.len()), (cfg.z_dim, cfg.z_dim));
        assert!(e.sigma.iter().all(|s| *s > 0.0 && s.is_finite()));
        assert_eq!(e.clusters, r.clusters);
        if decoder == DecoderKind::Plain {
            assert!(e.task.is_empty() && e.clusters.is_empty() && e.film.is_empty());
        } else {
            assert_eq!(
                (e.task.len(), e.task_embedding.len()),
                (cfg.t_dim, cfg.t_dim)
            );
            assert!((e.clusters.iter().sum::<f32>() - 1.0).abs() < 1e-5);
            assert_eq!(e.film.len(), cfg.decoder_hidden.len());
            for (layer, width) in e.film.iter().zip(&cfg.decoder_hidden) {
                assert_eq!((layer.gamma.len(), layer.beta.len()), (*width, *width));
            }
        }
        // Bad input is rejected as by recommend.
        assert!(block_on(rec.explain(&[], None)).is_err());
    }
}

/// Only items that enough training users rated, when asked: the synthetic item `m{i}` has `i`.
#[test]
fn min_ratings_keeps_only_well_known_items() {
    let _guard = seeded();
    let rec = bundle(DecoderKind::Film)
        .recommender(&Device::flex())
        .unwrap();
    let id = |it: &tanp::recommend::ScoredItem| it.id[1..].parse::<u32>().unwrap();
    // Items m20..m29 pass (none of them rated): exactly ten.
    let options = RankOptions {
        top: 10,
        exclude_rated: true,
        min_ratings: 20,
    };
    let r = block_on(rec.recommend(&support(), None, &options)).unwrap();
    assert_eq!(r.items.len(), 10);
    assert!(r.items.iter().all(|it| id(it) >= 20), "{:?}", r.items);
    // Without the filter the whole ranking (25 unrated items) reaches the others too.
    let all = block_on(rec.recommend(&support(), None, &top(25))).unwrap();
    assert_eq!(all.items.len(), 25);
    assert!(all.items.iter().any(|it| id(it) < 20));
    let too_many = RankOptions {
        min_ratings: 10_000,
        ..options
    };
    let err = block_on(rec.recommend(&support(), None, &too_many)).unwrap_err();
    assert!(
        err.to_string()
            .contains("no catalog item has at least 10000 ratings"),
        "{err}"
    );
}

/// Half-precision weights: half the bytes, widened exactly on load, scores within f16 rounding
/// of the full-precision model; a malformed file is an error, never a panic.
#[test]
fn half_precision_weights_load_and_score_like_the_full_ones() {
    use tanp::half_weights::{to_half, widen};
    let _guard = seeded();
    let (data, _) = synthetic();
    let cfg = config(&data, DecoderKind::GatingFilm);
    let device = Device::flex();
    let model = Tanp::new(&cfg, &device);
    let full = weights_to_bytes(&model).unwrap();
    let half = to_half(&full).unwrap();
    assert!(
        half.len() < full.len() * 6 / 10,
        "{} vs {}",
        half.len(),
        full.len()
    );
    // Widening is exact: rounding twice changes nothing.
    let wide = widen(half.clone()).unwrap();
    assert_eq!(to_half(&wide).unwrap(), half);
    // A file without F16 tensors passes through untouched.
    assert_eq!(widen(full.clone()).unwrap(), full);

    let catalog = CatalogFile {
        items: data.catalog.clone(),
        features: data.items.clone(),
    };
    let recommend = |weights: Vec<u8>| {
        let b = Bundle::new(
            cfg.clone(),
            "synthetic",
            serde_json::Value::Null,
            vec![],
            catalog.clone(),
            weights,
        )
        .unwrap();
        let (m, c, w) = parts(&b);
        let b = Bundle::from_bytes(&m, &c, w).unwrap();
        block_on(
            b.recommender(&device)
                .unwrap()
                .recommend(&support(), None, &top(30)),
        )
        .unwrap()
    };
    let (a, b) = (recommend(full), recommend(half.clone()));
    let score = |r: &tanp::recommend::Recommendation, id: &str| {
        r.items.iter().find(|i| i.id == id).unwrap().score
    };
    for it in &a.items {
        let d = (it.score - score(&b, &it.id)).abs();
        assert!(
            d < 2e-2 * it.score.abs().max(1.0),
            "{}: {} vs {}",
            it.id,
            it.score,
            score(&b, &it.id)
        );
    }

    for broken in [vec![], vec![1, 2, 3], half[..20].to_vec(), {
        let mut h = half.clone();
        h.truncate(h.len() - 3);
        h
    }] {
        let err = widen(broken).unwrap_err();
        assert!(err.to_string().contains("weights.safetensors"), "{err}");
    }
}

//! The model bundle and the recommender that the browser and `tanp recommend` share.
mod common;

use burn::tensor::{Device, Tensor, TensorData};
use common::{config, seeded, synthetic, values};
use tanp::bundle::{Bundle, CATALOG, CatalogFile, MANIFEST, WEIGHTS};
use tanp::config::{DecoderHead, DecoderKind, ModelConfig};
use tanp::error::TanpError;
use tanp::model::Tanp;
use tanp::model::embedding::FieldInput;
use tanp::recommend::{RankOptions, Recommender, block_on};
use tanp::weights::weights_to_bytes;

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
    common::synthetic_bundle(decoder)
}

fn parts(b: &Bundle) -> (Vec<u8>, Vec<u8>, Vec<u8>) {
    let files = b.files().unwrap();
    let get = |n: &str| files.iter().find(|f| f.0 == n).unwrap().1.clone();
    (get(MANIFEST), get(CATALOG), get(WEIGHTS))
}

/// The recommender's fast path (item embeddings and the decoder's item part computed once,
/// std for the shown items only) gives the same scores as the plain Eq. 15/16 decoder over
/// the full `[u | v | z]` input, with either head.
#[test]
fn recommender_scores_equal_the_plain_decoder() {
    let _guard = seeded();
    let (data, _) = synthetic();
    let device = Device::flex();
    for (decoder, head) in [
        (DecoderKind::Plain, DecoderHead::Mlp),
        (DecoderKind::Film, DecoderHead::Mlp),
        (DecoderKind::GatingFilm, DecoderHead::Mlp),
        (DecoderKind::GatingFilm, DecoderHead::Dot),
    ] {
        let mut cfg = config(&data, decoder);
        cfg.head = head;
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

/// Counts the parameters whose values exist (drawn or loaded) rather than waiting, lazily.
struct Initialized(usize);

impl burn::module::ModuleVisitor for Initialized {
    fn visit_float<const D: usize>(&mut self, param: &burn::module::Param<Tensor<D>>) {
        self.0 += usize::from(param.is_initialized());
    }
}

/// A model built to receive its weights draws none of its random initial values: building it
/// runs nothing on the device (in the browser a random draw is a GPU kernel to compile and run
/// on the way to the first frame), with every decoder and either head.
#[test]
fn a_new_model_draws_no_initial_values() {
    use burn::module::Module;
    let (data, _) = synthetic();
    let device = Device::flex();
    for (decoder, head) in [
        (DecoderKind::Plain, DecoderHead::Mlp),
        (DecoderKind::GatingFilm, DecoderHead::Mlp),
        (DecoderKind::GatingFilm, DecoderHead::Dot),
    ] {
        let mut cfg = config(&data, decoder);
        cfg.head = head;
        let mut drawn = Initialized(0);
        Tanp::new(&cfg, &device).visit(&mut drawn);
        assert_eq!(
            drawn.0, 0,
            "{decoder:?} / {head:?}: parameters drawn while building"
        );
    }
}

/// Warming up (the item side and one made-up visitor's recommendation) changes nothing a
/// visitor then gets.
#[test]
fn warming_up_leaves_recommendations_unchanged() {
    let _guard = seeded();
    let b = bundle(DecoderKind::GatingFilm);
    let device = Device::flex();
    let cold = b.recommender(&device).unwrap();
    let warmed = b.recommender(&device).unwrap();
    block_on(warmed.warm()).unwrap();
    let expected = block_on(cold.recommend(&support(), None, &top(7))).unwrap();
    let got = block_on(warmed.recommend(&support(), None, &top(7))).unwrap();
    assert_eq!(got, expected);
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
    // The manifest read back carries the checksum it was sealed with; the rest is as written.
    assert_eq!(back.manifest.checksum.len(), 64);
    let unsealed = tanp::bundle::Manifest {
        checksum: String::new(),
        ..back.manifest.clone()
    };
    assert_eq!(unsealed, b.manifest);
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
    assert_eq!(read.manifest, back.manifest);
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Digests computed by the caller (the browser's WebCrypto) are checked like computed ones: the
/// right ones give the same bundle, a wrong one is a checksum error naming the file, and a file
/// of the wrong size is refused before its digest is looked at.
#[test]
fn digests_given_by_the_caller_are_checked_against_the_manifest() {
    use tanp::bundle::FileDigests;
    let b = bundle(DecoderKind::GatingFilm);
    let (m, c, w) = parts(&b);
    let right = FileDigests {
        catalog: tanp::bundle::sha256(&c),
        weights: tanp::bundle::sha256(&w),
    };
    let hashed = Bundle::from_hashed_bytes(&m, &c, w.clone(), &right).unwrap();
    let computed = Bundle::from_bytes(&m, &c, w.clone()).unwrap();
    assert_eq!(hashed.manifest, computed.manifest);
    assert_eq!(hashed.catalog, computed.catalog);
    assert_eq!(hashed.weights, computed.weights);

    let wrong = FileDigests {
        weights: "0".repeat(64),
        ..right.clone()
    };
    match Bundle::from_hashed_bytes(&m, &c, w.clone(), &wrong) {
        Err(TanpError::Checksum { file, found, .. }) => {
            assert_eq!(file, WEIGHTS);
            assert_eq!(found, "0".repeat(64));
        }
        other => panic!("expected a checksum error, found {other:?}"),
    }
    let mut longer = w.clone();
    longer.push(0);
    assert!(matches!(
        Bundle::from_hashed_bytes(&m, &c, longer, &right),
        Err(TanpError::FileSize { .. })
    ));
}

fn rejected(m: &[u8], c: &[u8], w: Vec<u8>) -> String {
    match Bundle::from_bytes(m, c, w) {
        Err(
            e @ (TanpError::Model(_)
            | TanpError::Checksum { .. }
            | TanpError::FileSize { .. }
            | TanpError::Format { .. }),
        ) => e.to_string(),
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
    assert!(rejected(&m, &c, flipped.clone()).contains("checksum mismatch"));
    assert!(rejected(&m, &c, w[..w.len() / 2].to_vec()).contains("truncated"));
    // A caller can tell the failures apart by their variant, not only by their text.
    assert!(matches!(
        Bundle::from_bytes(&m, &c, flipped),
        Err(TanpError::Checksum { file, .. }) if file == WEIGHTS
    ));
    assert!(matches!(
        Bundle::from_bytes(&m, &c, w[..w.len() / 2].to_vec()),
        Err(TanpError::FileSize { file, found, .. }) if file == WEIGHTS && found == w.len() / 2
    ));
    assert!(matches!(
        Bundle::from_bytes(v2.as_bytes(), &c, w.clone()),
        Err(TanpError::Format {
            what: "version",
            ..
        })
    ));
    assert!(rejected(&m, &c[..10], w.clone()).contains(CATALOG));

    // Profile field labels must name every value of the user field's vocabulary but "unknown".
    let with_profile = |labels: serde_json::Value| {
        let mut edited = b.clone();
        edited.manifest.profile_fields =
            serde_json::from_value(serde_json::json!([{ "name": "unknown", "labels": labels }]))
                .unwrap();
        edited.manifest_bytes().unwrap()
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

/// The top 30 of a bundle made of the synthetic model's config and `weights`.
fn top30_with_weights(
    data: &tanp::data::Dataset,
    cfg: &ModelConfig,
    weights: Vec<u8>,
) -> tanp::recommend::Recommendation {
    let catalog = CatalogFile {
        items: data.catalog.clone(),
        features: data.items.clone(),
    };
    let b = Bundle::new(
        cfg.clone(),
        "synthetic",
        serde_json::Value::Null,
        vec![],
        catalog,
        weights,
    )
    .unwrap();
    let (m, c, w) = parts(&b);
    let b = Bundle::from_bytes(&m, &c, w).unwrap();
    block_on(
        b.recommender(&Device::flex())
            .unwrap()
            .recommend(&support(), None, &top(30)),
    )
    .unwrap()
}

/// Every score of `a` within `tolerance` (relative, at least absolute) of the same item's in `b`.
fn assert_scores_close(
    a: &tanp::recommend::Recommendation,
    b: &tanp::recommend::Recommendation,
    tolerance: f32,
) {
    for it in &a.items {
        let other = b.items.iter().find(|i| i.id == it.id).map(|i| i.score);
        let other = other.unwrap_or_else(|| panic!("{} missing from the second top 30", it.id));
        let d = (it.score - other).abs();
        assert!(
            d < tolerance * it.score.abs().max(1.0),
            "{}: {} vs {other}",
            it.id,
            it.score
        );
    }
}

/// A malformed compact file is a typed error naming the weights file, never a panic.
fn assert_rejected(broken: Vec<u8>, what: &str) {
    let err = tanp::compact_weights::widen(broken).unwrap_err();
    let msg = err.to_string();
    assert!(msg.contains("weights.safetensors"), "{what}: {msg}");
}

/// A fresh Gating-FiLM model on the synthetic data and its F32 safetensors, under the seed lock.
fn fresh_model_weights() -> (
    std::sync::MutexGuard<'static, ()>,
    tanp::data::Dataset,
    ModelConfig,
    Vec<u8>,
) {
    let guard = seeded();
    let (data, _) = synthetic();
    let cfg = config(&data, DecoderKind::GatingFilm);
    let model = Tanp::new(&cfg, &Device::flex());
    let full = weights_to_bytes(&model).unwrap();
    (guard, data, cfg, full)
}

/// Half-precision weights: half the bytes, widened exactly on load, scores within f16 rounding
/// of the full-precision model; a malformed file is an error, never a panic.
#[test]
fn half_precision_weights_load_and_score_like_the_full_ones() {
    use tanp::compact_weights::{to_half, widen};
    let (_guard, data, cfg, full) = fresh_model_weights();
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

    let (a, b) = (
        top30_with_weights(&data, &cfg, full.clone()),
        top30_with_weights(&data, &cfg, half.clone()),
    );
    assert_scores_close(&a, &b, 2e-2);

    for (broken, what) in [
        (vec![], "empty"),
        (vec![1, 2, 3], "3 bytes"),
        (half[..20].to_vec(), "cut in the header"),
        (half[..half.len() - 3].to_vec(), "cut in the data"),
    ] {
        assert_rejected(broken, what);
    }
}

/// The safetensors header of `bytes` and its data, for tests that corrupt one.
fn header_of(bytes: &[u8]) -> (serde_json::Map<String, serde_json::Value>, Vec<u8>) {
    let n = u64::from_le_bytes(bytes[..8].try_into().unwrap()) as usize;
    let header = serde_json::from_slice(&bytes[8..8 + n]).unwrap();
    (header, bytes[8 + n..].to_vec())
}

fn with_header(header: &serde_json::Map<String, serde_json::Value>, data: &[u8]) -> Vec<u8> {
    let json = serde_json::to_vec(header).unwrap();
    let mut out = (json.len() as u64).to_le_bytes().to_vec();
    out.extend(json);
    out.extend_from_slice(data);
    out
}

/// q8 weights: embedding tables in 8 bits with a scale per row, the rest in f16. Each table value
/// comes back within half a step (max|row| / 254) of the original; scores stay close to the
/// full-precision model's; every inconsistency between a table and its scales is an error.
#[test]
fn q8_weights_load_and_score_close_to_the_full_ones() {
    use tanp::compact_weights::{Q8Scope, SCALE_MAX_SUFFIX, SCALE_SUFFIX, to_q8, widen};
    let (_guard, data, cfg, full) = fresh_model_weights();
    let q8 = to_q8(&full, Q8Scope::Tables).unwrap();
    assert!(
        to_q8(&q8, Q8Scope::Tables).is_err(),
        "quantising twice must be refused"
    );
    let (q_header, _) = header_of(&q8);
    let tables: Vec<&String> = q_header
        .iter()
        .filter(|(_, v)| v["dtype"] == "I8")
        .map(|(k, _)| k)
        .collect();
    assert!(!tables.is_empty(), "no table was quantised");
    assert!(
        tables.iter().all(|t| t.contains("_embedding.")),
        "{tables:?}"
    );

    // Round trip: value by value against the original tables.
    let (f_header, f_data) = header_of(&full);
    let (w_header, w_data) = header_of(&widen(q8.clone()).unwrap());
    assert!(w_header.keys().all(|k| !k.ends_with(SCALE_SUFFIX)));
    let floats = |h: &serde_json::Map<String, serde_json::Value>, d: &[u8], name: &str| {
        let o = &h[name]["data_offsets"];
        let (a, b) = (
            o[0].as_u64().unwrap() as usize,
            o[1].as_u64().unwrap() as usize,
        );
        d[a..b]
            .chunks_exact(4)
            .map(|c| f32::from_le_bytes(c.try_into().unwrap()))
            .collect::<Vec<f32>>()
    };
    for table in &tables {
        let cols = f_header[table.as_str()]["shape"][1].as_u64().unwrap() as usize;
        let (orig, back) = (
            floats(&f_header, &f_data, table),
            floats(&w_header, &w_data, table),
        );
        assert_eq!(orig.len(), back.len());
        assert_eq!(q_header[&format!("{table}{SCALE_SUFFIX}")]["dtype"], "U8");
        assert_eq!(
            q_header[&format!("{table}{SCALE_MAX_SUFFIX}")]["shape"],
            serde_json::json!([1])
        );
        let step_of = |row: &[f32]| row.iter().fold(0f32, |m, x| m.max(x.abs())) / 127.0;
        let floor = orig.chunks(cols).map(step_of).fold(0f32, f32::max) * (-16f32).exp2();
        for (row_o, row_b) in orig.chunks(cols).zip(back.chunks(cols)) {
            let step = step_of(row_o);
            for (o, b) in row_o.iter().zip(row_b) {
                // Half a quantisation step, the step log-coded (at most 2^(1/16) larger, and
                // no smaller than the coding's floor, 2^-16 of the table's largest).
                let bound = (step * (1f32 / 16.0).exp2()).max(floor) / 2.0 * (1.0 + 1e-5) + 1e-6;
                assert!((o - b).abs() <= bound, "{table}: {o} vs {b} (step {step})");
            }
        }
    }

    let (a, b) = (
        top30_with_weights(&data, &cfg, full.clone()),
        top30_with_weights(&data, &cfg, q8.clone()),
    );
    assert_scores_close(&a, &b, 5e-2);
    // Every matrix in 8 bits (the layers too): still close, and smaller.
    let all = to_q8(&full, Q8Scope::Matrices).unwrap();
    assert!(all.len() < q8.len(), "{} vs {}", all.len(), q8.len());
    let (all_header, _) = header_of(&all);
    assert!(
        all_header
            .iter()
            .any(|(k, v)| v["dtype"] == "I8" && k.starts_with("decoder.")),
        "no layer weight was quantised"
    );
    assert_scores_close(&a, &top30_with_weights(&data, &cfg, all), 5e-2);

    // Bundles written before the log-coded scales hold F16 ones: they still load, to the same
    // values within F16's rounding of the scale.
    let (header, data_bytes) = header_of(&q8);
    let table = tables[0].clone();
    let scale = format!("{table}{SCALE_SUFFIX}");
    let scale_max = format!("{table}{SCALE_MAX_SUFFIX}");
    let widened = widen(q8.clone()).unwrap();
    let (wh, wd) = header_of(&widened);
    let decoded = {
        // The scales as widening applied them: the widened row over its int8 values.
        let q = {
            let o = &header[&table]["data_offsets"];
            data_bytes[o[0].as_u64().unwrap() as usize..o[1].as_u64().unwrap() as usize].to_vec()
        };
        let cols = header[&table]["shape"][1].as_u64().unwrap() as usize;
        let rows = floats(&wh, &wd, &table);
        rows.chunks(cols)
            .zip(q.chunks(cols))
            .map(|(r, q)| {
                r.iter()
                    .zip(q)
                    .find(|(_, q)| **q != 0)
                    .map_or(0.0, |(x, q)| x / (*q as i8 as f32))
            })
            .collect::<Vec<f32>>()
    };
    let mut old = header.clone();
    let mut old_data = data_bytes.clone();
    let start = old_data.len();
    for s in &decoded {
        old_data.extend_from_slice(&half::f16::from_f32(*s).to_le_bytes());
    }
    old[&scale] = serde_json::json!({"dtype": "F16", "shape": [decoded.len()], "data_offsets": [start, old_data.len()]});
    old.remove(&scale_max);
    let (oh, od) = header_of(&widen(with_header(&old, &old_data)).unwrap());
    for (a, b) in floats(&oh, &od, &table)
        .iter()
        .zip(floats(&wh, &wd, &table))
    {
        assert!((a - b).abs() <= b.abs() / 1024.0 + 1e-7, "{a} vs {b}");
    }
    let mut no_max = header.clone();
    no_max.remove(&scale_max);
    assert_rejected(
        with_header(&no_max, &data_bytes),
        "U8 scales without their maximum",
    );

    // Corruptions: a scale tensor missing, of the wrong length, or scaling no table.
    let mut missing = header.clone();
    missing.remove(&scale);
    assert_rejected(with_header(&missing, &data_bytes), "scales missing");
    let mut wrong = header.clone();
    wrong[&scale]["shape"] = serde_json::json!([1]);
    wrong[&scale]["data_offsets"][1] =
        serde_json::json!(wrong[&scale]["data_offsets"][0].as_u64().unwrap() + 4);
    assert_rejected(
        with_header(&wrong, &data_bytes),
        "scales of the wrong shape",
    );
    let mut huge = header.clone();
    huge[&table]["shape"] = serde_json::json!([1u64 << 62, 1u64 << 62]);
    assert_rejected(
        with_header(&huge, &data_bytes),
        "a shape whose size overflows",
    );
    let mut orphan = header.clone();
    let info = orphan.remove(&table).unwrap();
    orphan.insert(format!("{table}.renamed"), info);
    assert_rejected(with_header(&orphan, &data_bytes), "scales of no table");
}

/// The manifest covers itself: any edit is caught, and a manifest without a checksum is refused.
#[test]
fn an_edited_manifest_is_rejected() {
    let _guard = seeded();
    let b = bundle(DecoderKind::Film);
    let (m, c, w) = parts(&b);
    assert!(Bundle::from_bytes(&m, &c, w.clone()).is_ok());
    let text = String::from_utf8(m.clone()).unwrap();
    let edited = text.replace("\"synthetic\"", "\"synthetIc\"");
    assert_ne!(edited, text);
    let err = rejected(edited.as_bytes(), &c, w.clone());
    assert!(err.contains("checksum mismatch"), "{err}");
    let mut v: serde_json::Value = serde_json::from_slice(&m).unwrap();
    v.as_object_mut().unwrap().remove("checksum");
    let err = rejected(&serde_json::to_vec(&v).unwrap(), &c, w);
    assert!(err.contains("expected a checksum"), "{err}");
}

/// A catalog whose features break their structure (offsets out of range, decreasing or empty;
/// a value beyond its vocabulary) is a typed error at load, with every checksum valid.
#[test]
fn structurally_broken_catalogs_are_rejected() {
    let _guard = seeded();
    let b = bundle(DecoderKind::Film);
    let edit = |f: &dyn Fn(&mut serde_json::Value)| {
        let mut v = serde_json::to_value(&b.catalog).unwrap();
        // The file leaves out the offsets of a one-value-per-item field: write them out to edit.
        let n = v["items"].as_array().unwrap().len();
        let field = &mut v["features"]["fields"][0];
        if field.get("offsets").is_none() {
            field["offsets"] = serde_json::json!((0..=n).collect::<Vec<_>>());
        }
        if field.get("values").is_none() {
            field["values"] = serde_json::json!((1..=n).collect::<Vec<_>>());
        }
        f(field);
        let catalog: CatalogFile = serde_json::from_value(v).unwrap();
        let sealed = Bundle::new(
            b.manifest.config.clone(),
            "synthetic",
            serde_json::Value::Null,
            vec![],
            catalog,
            b.weights.clone(),
        )
        .unwrap();
        let (m, c, w) = parts(&sealed);
        rejected(&m, &c, w)
    };
    let err = edit(&|f| {
        let n = f["offsets"].as_array().unwrap().len();
        f["offsets"][n - 1] = serde_json::json!(1_000_000);
    });
    assert!(err.contains("offsets end at 1000000"), "{err}");
    let err = edit(&|f| f["offsets"][2] = serde_json::json!(0));
    assert!(err.contains("offsets decrease"), "{err}");
    let err = edit(&|f| f["offsets"] = serde_json::json!([]));
    assert!(err.contains("offsets must start at 0"), "{err}");
    let err = edit(&|f| f["values"][0] = serde_json::json!(4_000_000_000u32));
    assert!(err.contains("outside its vocabulary"), "{err}");
}

/// Weights in a dtype the model cannot use (BF16), or with sizes or offsets that do not fit
/// (including a u64 beyond any usize), are typed errors before burn sees them.
#[test]
fn weights_with_foreign_dtypes_or_sizes_are_rejected() {
    let (_guard, _data, _cfg, full) = fresh_model_weights();
    let (header, data) = header_of(&full);
    let name = header
        .keys()
        .find(|k| *k != "__metadata__")
        .unwrap()
        .clone();
    let tweak = |f: &dyn Fn(&mut serde_json::Value)| {
        let mut h = header.clone();
        f(h.get_mut(&name).unwrap());
        tanp::compact_weights::widen(with_header(&h, &data))
            .unwrap_err()
            .to_string()
    };
    let err = tweak(&|t| t["dtype"] = "BF16".into());
    assert!(err.contains("dtype BF16"), "{err}");
    let err = tweak(&|t| t["shape"][0] = serde_json::json!(1u64 << 40));
    assert!(err.contains("does not match"), "{err}");
    let err = tweak(&|t| t["data_offsets"][1] = serde_json::json!(u64::MAX));
    assert!(err.contains("outside the file"), "{err}");
    let mut huge = full.clone();
    huge[..8].copy_from_slice(&u64::MAX.to_le_bytes());
    let err = tanp::compact_weights::widen(huge).unwrap_err().to_string();
    assert!(err.contains("runs past the end"), "{err}");
}

/// Error messages repeat at most a bounded part of what they were given.
#[test]
fn errors_echo_a_bounded_part_of_the_input() {
    let _guard = seeded();
    let r = bundle(DecoderKind::Film)
        .recommender(&Device::flex())
        .unwrap();
    let long_id = "x".repeat(1 << 20);
    let err = r
        .validate_support(&[(long_id, 5.0)])
        .unwrap_err()
        .to_string();
    assert!(err.len() < 200, "{} bytes", err.len());
    let err = r
        .validate_support(&[("m0".into(), 1e308)])
        .unwrap_err()
        .to_string();
    assert!(err.contains("1e308") && err.len() < 200, "{err}");
}

/// `catalog.json` leaves out what a field's shape says (the offsets of a one-value-per-item
/// field, and the values of an item-id field) and reads both forms back to the same catalog; a
/// file that leaves out the wrong thing is an error, not a guess.
#[test]
fn catalog_fields_are_stored_compactly_and_read_back() {
    let _guard = seeded();
    let b = bundle(DecoderKind::Film);
    let v = serde_json::to_value(&b.catalog).unwrap();
    let fields = v["features"]["fields"].as_array().unwrap();
    let id = fields.iter().find(|f| f["name"] == "id").unwrap();
    assert!(
        id.get("offsets").is_none() && id.get("values").is_none(),
        "{id}"
    );
    let genre = fields.iter().find(|f| f["name"] == "genre").unwrap();
    assert!(
        genre.get("offsets").is_none() && genre.get("values").is_some(),
        "{genre}"
    );
    let back: CatalogFile = serde_json::from_value(v.clone()).unwrap();
    assert_eq!(back, b.catalog);
    let seal = |v: serde_json::Value| {
        let text = serde_json::to_vec(&v).unwrap();
        let sealed = Bundle::new(
            b.manifest.config.clone(),
            "synthetic",
            serde_json::Value::Null,
            vec![],
            b.catalog.clone(),
            b.weights.clone(),
        )
        .unwrap();
        let (m, _, w) = parts(&sealed);
        // Re-seal the manifest over the edited catalog, as an attacker with the format would.
        let mut manifest: serde_json::Value = serde_json::from_slice(&m).unwrap();
        manifest["files"]["catalog.json"]["bytes"] = serde_json::json!(text.len());
        manifest["files"]["catalog.json"]["sha256"] =
            serde_json::json!(tanp::bundle::sha256(&text));
        manifest["checksum"] = serde_json::json!("0".repeat(64));
        let unset = serde_json::to_vec_pretty(&manifest).unwrap();
        manifest["checksum"] = serde_json::json!(tanp::bundle::sha256(&unset));
        rejected(&serde_json::to_vec_pretty(&manifest).unwrap(), &text, w)
    };
    let mut lost = v.clone();
    lost["features"]["fields"][0]["offsets"] = serde_json::json!([0, 1]);
    lost["features"]["fields"][0]
        .as_object_mut()
        .unwrap()
        .remove("values");
    assert!(seal(lost).contains("offsets without values"));
    let mut short = v.clone();
    short["features"]["fields"][0]["values"] = serde_json::json!([1, 2]);
    let err = seal(short);
    assert!(err.contains("one value per item expected"), "{err}");
}

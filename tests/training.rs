//! Training on small synthetic data, resumption, determinism, permutation invariance and the
//! recommendation API's input checks.

mod common;

use burn::tensor::Device;
use tanp::batch::HostBatch;
use tanp::config::DecoderKind;
use tanp::error::TanpError;
use tanp::eval::swap_supports;
use tanp::model::Tanp;
use tanp::recommend::{RankOptions, Recommender, block_on};
use tanp::task::Task;
use tanp::train::{Weights, load_run_weights, train};

use common::{AdaptationCheck, config, out_dir, seeded, synthetic, train_and_check, train_config};

fn top(n: usize) -> RankOptions {
    RankOptions {
        top: n,
        ..RankOptions::default()
    }
}

#[test]
fn training_on_synthetic_tasks_clearly_beats_random() {
    let _guard = seeded();
    let (data, episodes) = synthetic();
    let cfg = config(&data, DecoderKind::GatingFilm);
    let AdaptationCheck {
        trained: t,
        random: b,
        swapped: s,
    } = train_and_check(&data, &episodes, &cfg, 80, "beats");
    // About a third of each query is loved: random P@5 is ~0.33, a model that adapts gets ~1.
    assert!(
        t.precision > b.precision + 0.4,
        "trained {t:?} vs random {b:?}"
    );
    assert!(t.ndcg > 0.9, "{t:?}");
    // The support-set ablation: with another user's support set (who loves another genre) the
    // adapted model ranks that user's genre first, so precision falls to or below random.
    assert!(
        s.precision < b.precision + 0.1,
        "swapped {s:?} vs random {b:?}"
    );
}

#[test]
fn swapping_supports_gives_each_task_the_next_users_support() {
    let (_, episodes) = synthetic();
    let tasks = &episodes.test[..3];
    let swapped = swap_supports(tasks);
    for i in 0..3 {
        assert_eq!(swapped[i].user, tasks[i].user);
        assert_eq!(swapped[i].query, tasks[i].query);
        assert_eq!(swapped[i].support, tasks[(i + 1) % 3].support);
    }
    assert!(swap_supports(&[]).is_empty());
}

#[test]
fn an_interrupted_run_resumes_to_the_same_weights() {
    let _guard = seeded();
    let (data, episodes) = synthetic();
    let cfg = config(&data, DecoderKind::Film);
    let full = out_dir("full");
    let (a, _) = train(&data, &episodes, &cfg, &train_config(4), &full, true).unwrap();
    let part = out_dir("part");
    // "Interrupt" after 2 epochs: a run with 2 epochs, then the 4-epoch run on its directory.
    train(&data, &episodes, &cfg, &train_config(2), &part, true).unwrap();
    let state = tanp::train::read_state(&part).unwrap();
    let resumed = tanp::train::TrainState {
        train: train_config(4),
        ..state
    };
    std::fs::write(
        tanp::train::RunDir(part.clone()).state(),
        serde_json::to_string(&resumed).unwrap(),
    )
    .unwrap();
    let (b, state) = train(&data, &episodes, &cfg, &train_config(4), &part, true).unwrap();
    assert_eq!(state.log.len(), 4);
    let batch = HostBatch::evaluation(&episodes.test.iter().collect::<Vec<_>>()).to_tensors(
        &data.users,
        &data.items,
        |_, _| false,
        &Device::flex(),
    );
    let (sa, _) = a.predict(&batch, None);
    let (sb, _) = b.predict(&batch, None);
    common::close(&common::values(sa), &common::values(sb.clone()), 1e-5);
    // `tanp eval --last` reads the resume checkpoint: the last epoch's weights, as trained.
    let last = load_run_weights(&cfg, &part, Weights::Last, &Device::flex()).unwrap();
    let (sl, _) = last.predict(&batch, None);
    common::close(&common::values(sb), &common::values(sl), 1e-6);
    load_run_weights(&cfg, &part, Weights::Best, &Device::flex()).unwrap();
    let missing = load_run_weights(&cfg, &out_dir("none"), Weights::Last, &Device::flex());
    assert!(
        missing.unwrap_err().to_string().contains("last.bpk"),
        "names the missing file"
    );
}

#[test]
fn predictions_do_not_depend_on_the_order_of_the_support_set() {
    let _guard = seeded();
    let (data, episodes) = synthetic();
    for decoder in [
        DecoderKind::Plain,
        DecoderKind::Film,
        DecoderKind::GatingFilm,
    ] {
        let cfg = config(&data, decoder);
        let device = Device::flex();
        device.seed(3);
        let model = Tanp::new(&cfg, &device);
        let task = episodes.test[0].clone();
        let mut shuffled = task.clone();
        shuffled.support.reverse();
        shuffled.support.rotate_left(3);
        let score = |t: &Task| {
            let b = HostBatch::evaluation(&[t]).to_tensors(
                &data.users,
                &data.items,
                |_, _| false,
                &device,
            );
            let (s, a) = model.predict(&b, None);
            (common::values(s), a.identity.map(|i| common::values(i.c)))
        };
        let (s1, c1) = score(&task);
        let (s2, c2) = score(&shuffled);
        let n = task.support.len();
        common::close(&s1[n..], &s2[n..], 1e-5);
        if let (Some(c1), Some(c2)) = (c1, c2) {
            common::close(&c1, &c2, 1e-6);
        }
    }
}

#[test]
fn recommend_rejects_bad_input_with_readable_errors() {
    let _guard = seeded();
    let (data, _) = synthetic();
    let cfg = config(&data, DecoderKind::GatingFilm);
    let device = Device::flex();
    let model = Tanp::new(&cfg, &device);
    let rec = Recommender::new(
        model,
        cfg.clone(),
        data.catalog.clone(),
        &data.items,
        &device,
    )
    .unwrap();
    let run = |support: Vec<(&str, f64)>| {
        let support: Vec<(String, f64)> = support
            .into_iter()
            .map(|(i, r)| (i.to_string(), r))
            .collect();
        block_on(rec.recommend(&support, None, &top(5)))
    };
    assert!(matches!(run(vec![]), Err(TanpError::EmptySupport)));
    let e = run(vec![("nope", 3.0)]).unwrap_err();
    assert!(matches!(e, TanpError::UnknownItem(_)) && e.to_string().contains("nope"));
    assert!(matches!(
        run(vec![("m1", 6.0)]),
        Err(TanpError::RatingOutOfRange { .. })
    ));
    assert!(matches!(
        run(vec![("m1", f64::NAN)]),
        Err(TanpError::RatingOutOfRange { .. })
    ));
    let e = run(vec![("m1", 3.0), ("m1", 4.0)]).unwrap_err();
    assert!(matches!(&e, TanpError::RatedTwice(id) if id == "m1"), "{e}");
    let many: Vec<(&str, f64)> = (0..201).map(|_| ("m1", 3.0)).collect();
    assert!(matches!(
        run(many),
        Err(TanpError::TooManyRatings {
            count: 201,
            max: 200
        })
    ));

    let rec = run(vec![("m1", 5.0), ("m2", 1.0)]).unwrap();
    assert_eq!(rec.items.len(), 5);
    assert!(rec.items.iter().all(|i| i.id != "m1" && i.id != "m2"));
    assert!(rec.items.windows(2).all(|w| w[0].score >= w[1].score));
    assert!(rec.items.iter().all(|i| i.std.is_finite() && i.std >= 0.0));
    assert_eq!(rec.clusters.len(), cfg.k);
    assert!((rec.clusters.iter().sum::<f32>() - 1.0).abs() < 1e-5);
}

/// A state that cannot be read stops the run instead of starting afresh over its checkpoints;
/// a best score of -inf (no epoch scored yet) survives the JSON round trip.
#[test]
fn an_unreadable_state_is_an_error_and_never_overwritten() {
    let _guard = seeded();
    let (data, episodes) = synthetic();
    let cfg = config(&data, DecoderKind::Film);
    let dir = out_dir("unreadable");
    train(&data, &episodes, &cfg, &train_config(1), &dir, true).unwrap();
    let run = tanp::train::RunDir(dir.clone());
    let mut state = tanp::train::read_state(&dir).unwrap();
    state.best_score = f64::NEG_INFINITY;
    let text = serde_json::to_string(&state).unwrap();
    assert!(text.contains("\"best_score\":null"), "{text}");
    let back: tanp::train::TrainState = serde_json::from_str(&text).unwrap();
    assert_eq!(back.best_score, f64::NEG_INFINITY);

    std::fs::write(run.state(), "{ not json").unwrap();
    let weights = std::fs::read(run.last()).unwrap();
    let err = train(&data, &episodes, &cfg, &train_config(2), &dir, true)
        .expect_err("an unreadable state is an error");
    assert!(err.to_string().contains("not a training state"), "{err}");
    assert_eq!(
        std::fs::read(run.last()).unwrap(),
        weights,
        "left as it was"
    );
}

//! The baselines of the paper's comparison, in the same harness: popularity and MeLU.

mod common;

use tanp::baselines::{MeluConfig, melu_rankings, popularity, train_melu};
use tanp::config::DecoderKind;
use tanp::eval::Metrics;

use common::{config, seeded, synthetic};

#[test]
fn popularity_counts_positive_training_interactions_and_ranks_everyone_alike() {
    let (data, episodes) = synthetic();
    let rankings = popularity(&data, &episodes, &episodes.test);
    assert_eq!(rankings.len(), episodes.test.len());
    // Hand count for one item: training interactions with rating >= 4.
    let item = episodes.test[0].query[0].item;
    let (liked, seen) = episodes
        .train
        .iter()
        .flat_map(|t| t.interactions())
        .filter(|x| x.item == item)
        .fold((0, 0), |(l, s), x| (l + (x.y >= 4.0) as u32, s + 1));
    let score = rankings[0].scores[0] as f64;
    assert!(
        (score - (liked as f64 + seen as f64 * 1e-6)).abs() < 1e-3,
        "{score} vs {liked}/{seen}"
    );
    // The same item gets the same score in every user's ranking.
    for r in &rankings {
        for (i, s) in r.items.iter().zip(&r.scores) {
            if *i == item {
                assert_eq!(*s as f64, score);
            }
        }
        assert_eq!(r.items.len(), r.truth.len());
        assert_eq!(r.items.len(), r.scores.len());
    }
}

#[test]
fn melu_adapts_to_the_support_set_and_beats_popularity() {
    let _guard = seeded();
    let (data, episodes) = synthetic();
    let embeddings = config(&data, DecoderKind::Plain);
    let cfg = MeluConfig {
        hidden: vec![32, 32],
        local_steps: 3,
        local_lr: 0.1,
        epochs: 40,
        batch_size: 16,
        lr: 1e-2,
        seed: 5,
        n_s: 8,
        ..MeluConfig::default()
    };
    let run = train_melu(&data, &episodes, &embeddings, &cfg, true).unwrap();
    assert!((1..=40).contains(&run.best_epoch));
    let melu = Metrics::from_rankings(
        &melu_rankings(&run.model, &cfg, &data, &episodes.test, &run.device),
        data.feedback,
    );
    let pop = Metrics::from_rankings(&popularity(&data, &episodes, &episodes.test), data.feedback);
    let (m, p) = (melu.standard.get(5).unwrap(), pop.standard.get(5).unwrap());
    // Each user loves one genre in three, which only the support set reveals: a ranking that
    // is the same for everyone cannot find it, local adaptation can.
    assert!(
        m.precision > p.precision + 0.3,
        "MeLU {m:?} vs popularity {p:?}"
    );
}

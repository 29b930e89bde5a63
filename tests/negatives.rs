//! Fresh negatives for implicit-feedback training tasks (`tanp::negatives`).

mod common;

use std::collections::HashSet;

use rand::SeedableRng;
use rand::rngs::StdRng;
use tanp::batch::{HostBatch, Resplit};
use tanp::negatives::{NegativeSampler, Negatives};
use tanp::task::{Interaction, Task};
use tanp::train::negative_sampler;

fn point(item: u32, y: f32) -> Interaction {
    Interaction { item, y }
}

#[test]
fn resampling_replaces_every_negative_by_a_distinct_item_the_user_never_liked() {
    // User 0 liked items 0..10 (items 0..4 also in the task); the catalog has 60 items.
    let sampler = NegativeSampler::new(60, (0..10).map(|i| (0, i)));
    let mut rng = StdRng::seed_from_u64(3);
    for _ in 0..200 {
        let mut task: Vec<Interaction> = (0..5).map(|i| point(i, 1.0)).collect();
        task.extend((50..60).map(|i| point(i, 0.0)));
        let before = task.clone();
        sampler.resample(0, &mut task, &mut rng);
        assert_eq!(task.len(), before.len());
        assert_eq!(task[..5], before[..5], "positives stay");
        let negatives: Vec<u32> = task[5..].iter().map(|x| x.item).collect();
        assert!(task[5..].iter().all(|x| x.y == 0.0), "labels stay");
        assert!(
            negatives.iter().all(|&i| (10..60).contains(&i)),
            "{negatives:?}"
        );
        let distinct: HashSet<u32> = negatives.iter().copied().collect();
        assert_eq!(
            distinct.len(),
            negatives.len(),
            "no item twice: {negatives:?}"
        );
    }
}

#[test]
fn resampling_draws_new_items_repeatably() {
    let sampler = NegativeSampler::new(1000, [(2, 7)]);
    let task = vec![point(7, 1.0), point(8, 0.0), point(9, 0.0)];
    let draw = |seed| {
        let mut t = task.clone();
        sampler.resample(2, &mut t, &mut StdRng::seed_from_u64(seed));
        t
    };
    assert_eq!(draw(1), draw(1), "same seed, same draw");
    // Over many draws the negatives cover much of the catalog, not the task's own two.
    let seen: HashSet<u32> = (0..200)
        .flat_map(|s| draw(s)[1..].to_vec())
        .map(|x| x.item)
        .collect();
    assert!(seen.len() > 250, "{} distinct negatives", seen.len());
}

#[test]
fn too_small_a_catalog_keeps_the_tasks_own_negatives() {
    // 8 items, 5 liked: 3 free items cannot give 2 negatives with room to spare.
    let sampler = NegativeSampler::new(8, (0..5).map(|i| (0, i)));
    let mut task = vec![point(0, 1.0), point(6, 0.0), point(7, 0.0)];
    let before = task.clone();
    sampler.resample(0, &mut task, &mut StdRng::seed_from_u64(1));
    assert_eq!(task, before);
    // An unknown user has liked nothing: any item but the task's positives may be drawn.
    let mut task = vec![point(0, 1.0), point(6, 0.0)];
    sampler.resample(99, &mut task, &mut StdRng::seed_from_u64(1));
    assert_ne!(task[1].item, 0);
}

#[test]
fn training_batches_use_the_sampler_and_explicit_data_gets_none() {
    let (data, episodes) = common::synthetic();
    // Ratings have no negatives: no sampler, whatever the option says.
    assert!(negative_sampler(Negatives::Resample, &data, &episodes.train).is_none());
    assert!(negative_sampler(Negatives::Fixed, &data, &episodes.train).is_none());

    let task = Task {
        user: 0,
        support: vec![point(1, 1.0), point(2, 0.0)],
        query: vec![point(3, 1.0), point(4, 0.0)],
    };
    let sampler = NegativeSampler::new(10_000, [(0, 1), (0, 3)]);
    let resplit = Resplit::Paper { n_s: 2 };
    let mut rng = StdRng::seed_from_u64(5);
    let fixed = HostBatch::training(&[&task], resplit, None, &mut rng);
    let mut own: Vec<u32> = fixed.items.clone();
    own.sort();
    assert_eq!(own, vec![1, 2, 3, 4]);
    let fresh = HostBatch::training(&[&task], resplit, Some(&sampler), &mut rng);
    let items: HashSet<u32> = fresh.items.iter().copied().collect();
    assert!(
        items.contains(&1) && items.contains(&3),
        "positives stay: {items:?}"
    );
    assert_eq!(fresh.y.iter().filter(|&&y| y == 0.0).count(), 2);
}

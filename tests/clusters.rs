//! Co-occurrence item clusters (src/data/clusters.rs) on hand-made training tasks, and a model
//! that adapts to the support set through them when items have nothing but an id.

mod common;

use tanp::config::DecoderKind;
use tanp::data::clusters::{ClusterConfig, cluster_field, item_clusters};
use tanp::task::{Interaction, Task};

use common::{AdaptationCheck, ITEMS, config, seeded, synthetic, train_and_check};

fn task(user: u32, liked: &[u32], disliked: &[u32]) -> Task {
    let point = |item: u32, y: f32| Interaction { item, y };
    let mut all: Vec<Interaction> = liked.iter().map(|&i| point(i, 1.0)).collect();
    all.extend(disliked.iter().map(|&i| point(i, 0.0)));
    let query = all.split_off(all.len() / 2);
    Task {
        user,
        support: all,
        query,
    }
}

/// Two groups of users with disjoint tastes: items 0-9 and items 10-19. Item 20 is only ever a
/// negative, item 21 never appears.
fn two_groups() -> Vec<Task> {
    (0..40u32)
        .map(|u| {
            let base = if u % 2 == 0 { 0 } else { 10 };
            let liked: Vec<u32> = (0..6).map(|j| base + (u / 2 + j * 3) % 10).collect();
            task(u, &liked, &[20])
        })
        .collect()
}

#[test]
fn items_liked_by_the_same_users_share_a_cluster_and_others_do_not() {
    let labels = item_clusters(22, &two_groups(), 0.5, &ClusterConfig::new(2, 1)).unwrap();
    assert_eq!(labels.len(), 22);
    let a = labels[0];
    let b = labels[10];
    assert!(a >= 1 && b >= 1 && a != b, "{labels:?}");
    assert!(labels[..10].iter().all(|&l| l == a), "{labels:?}");
    assert!(labels[10..20].iter().all(|&l| l == b), "{labels:?}");
    // Never liked by a training user: unknown.
    assert_eq!(labels[20], 0);
    assert_eq!(labels[21], 0);
}

#[test]
fn clusters_are_repeatable_and_the_field_has_one_value_per_item() {
    let tasks = two_groups();
    let config = ClusterConfig::new(3, 7);
    let first = item_clusters(22, &tasks, 0.5, &config).unwrap();
    assert_eq!(first, item_clusters(22, &tasks, 0.5, &config).unwrap());
    assert!(first.iter().all(|&l| l <= 3));
    let field = cluster_field(&first, 3);
    assert_eq!(field.vocab, 4);
    assert_eq!(field.len(), 22);
    assert_eq!(field.get(21), &[0]);
}

#[test]
fn bad_settings_and_items_outside_the_catalog_are_errors() {
    let tasks = two_groups();
    let err = item_clusters(22, &tasks, 0.5, &ClusterConfig::new(0, 1)).unwrap_err();
    assert!(err.to_string().contains("k >= 1"), "{err}");
    let err = item_clusters(15, &tasks, 0.5, &ClusterConfig::new(2, 1)).unwrap_err();
    assert!(err.to_string().contains("catalog has 15 items"), "{err}");
    // Fewer liked items than the rank and than k: every liked item still gets a cluster.
    let few = vec![task(0, &[1, 2], &[0]), task(1, &[2, 3], &[0])];
    let labels = item_clusters(5, &few, 0.5, &ClusterConfig::new(8, 1)).unwrap();
    assert_eq!(labels[0], 0);
    assert_eq!(labels[4], 0);
    assert!(
        labels[1..4].iter().all(|&l| (1..=8).contains(&l)),
        "{labels:?}"
    );
    // No positives at all: every item is unknown, no panic.
    let empty = vec![task(0, &[], &[1, 2])];
    assert_eq!(
        item_clusters(4, &empty, 0.5, &ClusterConfig::new(2, 1)).unwrap(),
        vec![0; 4]
    );
}

#[test]
fn with_clusters_a_model_on_item_ids_adapts_to_the_support_set() {
    let _guard = seeded();
    // The synthetic users love one of three hidden genres; the items keep only their id field
    // and get the clusters of the training users' loved items (rating 4 or more) instead.
    let (mut data, episodes) = synthetic();
    let id = data.items.fields.pop().expect("the id field");
    let labels = item_clusters(
        ITEMS,
        &episodes.train,
        data.feedback.liked_from(),
        &ClusterConfig::new(3, 2),
    )
    .unwrap();
    // The clusters recover the genres (up to their names).
    for i in 0..ITEMS {
        for j in 0..ITEMS {
            assert_eq!(labels[i] == labels[j], i % 3 == j % 3, "{labels:?}");
        }
    }
    // The order `tanp train --item-clusters` gives: the id, then the cluster.
    data.items.fields = vec![id, cluster_field(&labels, 3)];
    let cfg = config(&data, DecoderKind::GatingFilm);
    let AdaptationCheck {
        trained,
        random,
        swapped,
    } = train_and_check(&data, &episodes, &cfg, 200, "clusters");
    assert!(
        trained.precision > random.precision + 0.4,
        "trained {trained:?} vs random {random:?}"
    );
    assert!(
        swapped.precision < random.precision + 0.1,
        "swapped {swapped:?} vs random {random:?}"
    );
}

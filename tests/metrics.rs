//! Metric definitions on hand-computed rankings, including the official code's quirks.

use tanp::metrics::{Definition, MetricTable, paper_at, rank, standard_at, top_k};

fn close(a: f64, b: f64) {
    assert!((a - b).abs() < 1e-9, "{a} vs {b}");
}

#[test]
fn paper_definition_counts_negatives_as_hits_when_few_positives() {
    let truth = [1.0, 0.0, 0.0, 1.0, 0.0, 0.0];
    let ranked = rank(&[0.9, 0.8, 0.7, 0.6, 0.5, 0.4]);
    let m = paper_at(&ranked, &truth, 5);
    // The ideal top 5 is {1, 1, 0, 0, 0}: every one of the top 5 matches a value.
    close(m.precision, 1.0);
    close(m.map, (1.0 + 1.0 + 1.0 + 1.0 + 1.0) / 5.0);
    let dcg = 1.0 + 1.0 / 5f64.log2();
    let idcg = 1.0 + 1.0 / 3f64.log2();
    close(m.ndcg, dcg / idcg);
    // Standard: 2 relevant in the top 5; AP over min(5, 2) relevant items.
    let s = standard_at(&ranked, &truth, 5, 0.5);
    close(s.precision, 0.4);
    close(s.map, (1.0 + 2.0 / 4.0) / 2.0);
    close(s.ndcg, dcg / idcg);
}

#[test]
fn paper_definition_divides_ap_by_n() {
    let truth = [0.0, 1.0, 1.0, 0.0, 1.0, 1.0, 1.0, 1.0, 0.0, 0.0];
    let ranked: Vec<usize> = (0..10).collect();
    let m = paper_at(&ranked, &truth, 5);
    close(m.precision, 3.0 / 5.0);
    close(m.map, (1.0 / 2.0 + 2.0 / 3.0 + 3.0 / 5.0) / 5.0);
    let s = standard_at(&ranked, &truth, 5, 0.5);
    close(s.precision, 3.0 / 5.0);
    close(s.map, (1.0 / 2.0 + 2.0 / 3.0 + 3.0 / 5.0) / 5.0);
}

#[test]
fn paper_definition_matches_rating_values_and_uses_graded_gain() {
    let truth = [5.0, 3.0, 4.0, 1.0, 2.0];
    let ranked = rank(&[0.8, 0.9, 0.7, 0.6, 0.5]);
    assert_eq!(ranked, vec![1, 0, 2, 3, 4]);
    close(paper_at(&ranked, &truth, 3).precision, 1.0);
    let m = paper_at(&ranked, &truth, 2);
    close(m.precision, 0.5);
    close(m.map, (1.0 / 2.0) / 2.0);
    let dcg = 7.0 + 31.0 / 3f64.log2();
    let idcg = 31.0 + 15.0 / 3f64.log2();
    close(m.ndcg, dcg / idcg);
    // Standard relevance for ratings: >= 4.
    let s = standard_at(&ranked, &truth, 2, 4.0);
    close(s.precision, 0.5);
    close(s.map, (1.0 / 2.0) / 2.0);
}

#[test]
fn ties_keep_query_order_and_nan_ranks_last() {
    assert_eq!(rank(&[1.0, f32::NAN, 1.0, 2.0]), vec![3, 0, 2, 1]);
}

#[test]
fn a_query_of_exactly_n_items_always_has_paper_precision_one() {
    let truth = [0.0, 1.0, 0.0, 0.0, 1.0];
    let ranked = rank(&[5.0, 4.0, 3.0, 2.0, 1.0]);
    close(paper_at(&ranked, &truth, 5).precision, 1.0);
}

#[test]
fn no_relevant_item_scores_zero_instead_of_nan() {
    let truth = [0.0; 6];
    let ranked: Vec<usize> = (0..6).collect();
    let p = paper_at(&ranked, &truth, 5);
    assert_eq!(p.ndcg, 0.0);
    let s = standard_at(&ranked, &truth, 5, 0.5);
    assert_eq!((s.precision, s.ndcg, s.map), (0.0, 0.0, 0.0));
}

#[test]
fn tables_average_over_users() {
    let a = (vec![0.9f32, 0.1], vec![1.0f32, 0.0]);
    let b = (vec![0.1f32, 0.9], vec![1.0f32, 0.0]);
    let users = [(&a.0[..], &a.1[..]), (&b.0[..], &b.1[..])];
    let t = MetricTable::compute(Definition::Standard, 0.5, users);
    assert_eq!(t.users, 2);
    // P@5 = 1/5 for both users.
    close(t.get(5).unwrap().precision, 0.2);
    // NDCG@5: 1 and 1/log2(3).
    close(t.get(5).unwrap().ndcg, (1.0 + 1.0 / 3f64.log2()) / 2.0);
    assert_eq!(t.row().len(), 9);
}

#[test]
fn top_k_is_ranks_order_filtered_and_cut() {
    // Ties (scores from a few values), NaNs, a filter, and every k from 0 past the length.
    let scores: Vec<f32> = (0..300u32)
        .map(|i| match (i * 7919) % 13 {
            0 => f32::NAN,
            v => (v % 5) as f32 * 0.5,
        })
        .collect();
    let keep = |i: usize| i % 3 != 1;
    for k in [0, 1, 5, 20, 199, 200, 201, 500] {
        let expected: Vec<usize> = rank(&scores)
            .into_iter()
            .filter(|&i| keep(i))
            .take(k)
            .collect();
        assert_eq!(top_k(&scores, k, keep), expected, "k = {k}");
    }
}

//! Ranking metrics P@N, NDCG@N and MAP@N over a user's query set, in two named definitions.
//!
//! - [`Definition::Paper`]: exactly the official code's `scorer.py` (docs/reference-behaviour.md,
//!   section 3), so that numbers compare with the paper's tables. Hits are *value matches*: an
//!   item in the top N counts if its label value is still available among the N largest labels
//!   of the query (so with binary labels and fewer than N positives, negatives count as hits).
//!   AP is divided by N. NDCG uses the gain 2^y - 1 on the raw labels.
//! - [`Definition::Standard`]: binary relevance (rating >= 4 for MovieLens, label 1 for implicit
//!   data), P@N = relevant in top N / N, NDCG@N with gain 1, AP@N normalised by
//!   min(N, number of relevant items).
//!
//! Rankings sort by score, descending; ties keep the query order.

use serde::{Deserialize, Serialize};

/// The cut-offs of the paper's tables.
pub const CUTOFFS: [usize; 3] = [5, 7, 10];

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Definition {
    Paper,
    Standard,
}

/// P, NDCG and MAP at one cut-off.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct AtN {
    pub n: usize,
    pub precision: f64,
    pub ndcg: f64,
    pub map: f64,
}

/// Indices of `scores` from highest to lowest (stable for ties; NaN ranks last).
pub fn rank(scores: &[f32]) -> Vec<usize> {
    let mut idx: Vec<usize> = (0..scores.len()).collect();
    idx.sort_by(|&a, &b| by_score(scores, a, b));
    idx
}

/// The first `k` indices of [`rank`]'s order that `keep` lets through, found by selection
/// rather than by sorting every score (a catalog of a million items is ranked for a top 20).
pub fn top_k(scores: &[f32], k: usize, keep: impl Fn(usize) -> bool) -> Vec<usize> {
    let mut idx: Vec<usize> = (0..scores.len()).filter(|&i| keep(i)).collect();
    // Ties broken by index: the order of the stable sort in `rank`, and a total order.
    let order = |a: &usize, b: &usize| by_score(scores, *a, *b).then(a.cmp(b));
    if k < idx.len() {
        idx.select_nth_unstable_by(k, order);
        idx.truncate(k);
    }
    idx.sort_unstable_by(order);
    idx
}

/// Higher scores first, NaN last.
fn by_score(scores: &[f32], a: usize, b: usize) -> std::cmp::Ordering {
    let (sa, sb) = (scores[a], scores[b]);
    match (sa.is_nan(), sb.is_nan()) {
        (true, true) => std::cmp::Ordering::Equal,
        (true, false) => std::cmp::Ordering::Greater,
        (false, true) => std::cmp::Ordering::Less,
        _ => sb.total_cmp(&sa),
    }
}

fn dcg(gains: impl Iterator<Item = f64>) -> f64 {
    gains
        .enumerate()
        .map(|(i, g)| g / ((i + 2) as f64).log2())
        .sum()
}

/// The official code's metrics at cut-off `n` for labels `truth` ranked by `ranked`.
/// A query shorter than `n` is cut at its length (the official code would raise an error);
/// a query without any positive gain gets NDCG 0 (the official code would give NaN).
pub fn paper_at(ranked: &[usize], truth: &[f32], n: usize) -> AtN {
    let mut ideal: Vec<f32> = truth.to_vec();
    ideal.sort_by(|a, b| b.total_cmp(a));
    ideal.truncate(n);
    let mut available = ideal.clone();
    let (mut hits, mut ap) = (0usize, 0.0);
    for (i, &item) in ranked.iter().take(n).enumerate() {
        if let Some(pos) = available.iter().position(|&v| v == truth[item]) {
            available.swap_remove(pos);
            hits += 1;
            ap += hits as f64 / (i + 1) as f64;
        }
    }
    let gain = |y: f32| 2f64.powf(y as f64) - 1.0;
    let idcg = dcg(ideal.iter().map(|&y| gain(y)));
    let ndcg = if idcg > 0.0 {
        dcg(ranked.iter().take(n).map(|&i| gain(truth[i]))) / idcg
    } else {
        0.0
    };
    AtN {
        n,
        precision: hits as f64 / n as f64,
        ndcg,
        map: ap / n as f64,
    }
}

/// Binary-relevance metrics at cut-off `n`: an item is relevant when its label is at least
/// `threshold`. A query with no relevant item scores 0 on every metric.
pub fn standard_at(ranked: &[usize], truth: &[f32], n: usize, threshold: f32) -> AtN {
    let relevant = |i: usize| truth[i] >= threshold;
    let total = truth.iter().filter(|&&y| y >= threshold).count();
    let (mut hits, mut ap) = (0usize, 0.0);
    for (i, &item) in ranked.iter().take(n).enumerate() {
        if relevant(item) {
            hits += 1;
            ap += hits as f64 / (i + 1) as f64;
        }
    }
    let ideal = n.min(total);
    let idcg = dcg(std::iter::repeat_n(1.0, ideal));
    let gain = |i: usize| if relevant(i) { 1.0 } else { 0.0 };
    AtN {
        n,
        precision: hits as f64 / n as f64,
        ndcg: if idcg > 0.0 {
            dcg(ranked.iter().take(n).map(|&i| gain(i))) / idcg
        } else {
            0.0
        },
        map: if ideal > 0 { ap / ideal as f64 } else { 0.0 },
    }
}

/// Metrics of one definition, averaged over users, at each of [`CUTOFFS`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MetricTable {
    pub definition: Definition,
    pub users: usize,
    pub at: Vec<AtN>,
}

impl MetricTable {
    /// Averages per-user metrics from `(scores, truth)` pairs.
    pub fn compute<'a>(
        definition: Definition,
        threshold: f32,
        users: impl IntoIterator<Item = (&'a [f32], &'a [f32])>,
    ) -> Self {
        let mut sums = CUTOFFS.map(|n| AtN {
            n,
            ..AtN::default()
        });
        let mut count = 0;
        for (scores, truth) in users {
            let ranked = rank(scores);
            for s in sums.iter_mut() {
                let m = match definition {
                    Definition::Paper => paper_at(&ranked, truth, s.n),
                    Definition::Standard => standard_at(&ranked, truth, s.n, threshold),
                };
                s.precision += m.precision;
                s.ndcg += m.ndcg;
                s.map += m.map;
            }
            count += 1;
        }
        let denom = count.max(1) as f64;
        MetricTable {
            definition,
            users: count,
            at: sums
                .iter()
                .map(|s| AtN {
                    n: s.n,
                    precision: s.precision / denom,
                    ndcg: s.ndcg / denom,
                    map: s.map / denom,
                })
                .collect(),
        }
    }

    /// The metric at cut-off `n`.
    pub fn get(&self, n: usize) -> Option<&AtN> {
        self.at.iter().find(|a| a.n == n)
    }

    /// The nine numbers in the paper's column order (P, NDCG, MAP at 5, 7, 10).
    pub fn row(&self) -> Vec<f64> {
        self.at
            .iter()
            .flat_map(|a| [a.precision, a.ndcg, a.map])
            .collect()
    }
}

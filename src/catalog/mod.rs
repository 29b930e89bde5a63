//! The catalog protocol (not in the paper): what the demo does. A held-out user gives N_S of
//! their ratings as the support set; *every other catalog item* is ranked; the relevant items
//! are the user's other items they liked (rating >= 4 on MovieLens, label 1 on implicit data).
//!
//! The paper's protocol ranks only the items a user rated (their query set); a model can score
//! well there by regressing ratings while every visitor of the demo sees one list. This one
//! asks the demo's question: which films will this person watch and like.
//!
//! Metric definitions (named `catalog` in results):
//! - Recall@K = relevant items in the top K / min(K, relevant items) (Liang et al., WWW 2018),
//! - NDCG@K with binary gain, ideal DCG over min(K, relevant items),
//! - coverage@10: distinct items in all users' top 10 / candidate items,
//! - Jaccard@10: mean over all pairs of users of |top10_a ∩ top10_b| / |top10_a ∪ top10_b|
//!   (1 = everyone sees one list).
//!
//! Users without a relevant candidate are left out of Recall and NDCG (counted in `users`).
//! The "well-known" filter keeps only items that at least `min_ratings` training users rated
//! (the widget's default filter); relevant items are then those among the candidates.

pub mod baselines;
pub mod dae;
pub mod run;
pub mod sampled;

use std::collections::HashSet;

use rand::SeedableRng;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use serde::{Deserialize, Serialize};

use burn::tensor::Device;

use crate::bundle::TaskAssignment;
use crate::config::{Feedback, ModelConfig};
use crate::data::{Dataset, Episodes};
use crate::error::Result;
use crate::metrics::{rank, top_k};
use crate::model::Tanp;
use crate::recommend::{Recommender, block_on};
use crate::task::{Interaction, Task};

/// The support sizes the catalog table reports.
pub const CATALOG_N_S: [usize; 4] = [3, 5, 10, 20];
/// The widget's "well-known" threshold: training users who rated the item.
pub const WELL_KNOWN: u32 = 50;

/// One held-out user in the catalog protocol.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CatalogTask {
    pub user: u32,
    /// The N_S ratings the user gives.
    pub support: Vec<Interaction>,
    /// Every other item of the user's that they liked: the relevant items.
    pub relevant: Vec<u32>,
}

/// A user's interactions as the catalog protocol sees them: every rating on explicit data; on
/// implicit data only the positives (the tasks' negatives are sampled items the user never
/// touched, not the user's data).
pub fn own_interactions(task: &Task, feedback: Feedback) -> Vec<Interaction> {
    let liked_from = feedback.liked_from();
    task.interactions()
        .filter(|x| feedback == Feedback::Explicit || x.y >= liked_from)
        .collect()
}

/// The catalog tasks of `users` (the paper split's validation or test tasks, whose items are
/// restricted to those training users saw): `n_s` of each user's interactions
/// ([`own_interactions`]) drawn at random (seeded by `seed`, `n_s` and the user) as the support
/// set. Users with no more than `n_s` interactions are left out.
pub fn catalog_tasks(
    users: &[Task],
    n_s: usize,
    feedback: Feedback,
    seed: u64,
) -> Vec<CatalogTask> {
    let liked_from = feedback.liked_from();
    users
        .iter()
        .map(|t| (t, own_interactions(t, feedback)))
        .filter(|(_, all)| all.len() > n_s)
        .map(|(t, mut all)| {
            all.sort_by_key(|x| x.item);
            let mixed = seed
                .wrapping_mul(0x9e37_79b9_7f4a_7c15)
                .wrapping_add((n_s as u64) << 32)
                .wrapping_add(t.user as u64);
            all.shuffle(&mut StdRng::seed_from_u64(mixed));
            let rest = all.split_off(n_s);
            CatalogTask {
                user: t.user,
                support: all,
                relevant: rest
                    .iter()
                    .filter(|x| x.y >= liked_from)
                    .map(|x| x.item)
                    .collect(),
            }
        })
        .collect()
}

/// The support-set ablation on the catalog: user `i` keeps their relevant items but gives the
/// support set of user `(i + 1) mod n`.
pub fn swap_catalog_supports(tasks: &[CatalogTask]) -> Vec<CatalogTask> {
    let n = tasks.len();
    (0..n)
        .map(|i| CatalogTask {
            support: tasks[(i + 1) % n].support.clone(),
            ..tasks[i].clone()
        })
        .collect()
}

/// Something that scores every catalog item for a user from a support set: TaNP, a baseline.
pub trait CatalogScorer {
    /// One score per catalog item (higher = recommend first). `user` is the held-out user's
    /// index, for scorers that use their side information; the support set is all they know
    /// of the user's taste.
    fn scores(&self, user: u32, support: &[Interaction]) -> Result<Vec<f32>>;
}

impl<F: Fn(u32, &[Interaction]) -> Result<Vec<f32>>> CatalogScorer for F {
    fn scores(&self, user: u32, support: &[Interaction]) -> Result<Vec<f32>> {
        self(user, support)
    }
}

/// The catalog metrics of one setting (support size, filter, own or swapped support).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct CatalogRow {
    pub n_s: usize,
    /// The well-known filter's threshold (0 = the whole catalog).
    pub min_ratings: u32,
    /// Whether every user gave another user's support set (the ablation).
    pub swapped_support: bool,
    /// Users evaluated, and those of them with at least one relevant candidate.
    pub users: usize,
    pub users_with_relevant: usize,
    pub candidates: usize,
    pub recall_10: f64,
    pub recall_20: f64,
    pub ndcg_10: f64,
    pub ndcg_20: f64,
    pub coverage_10: f64,
    pub jaccard_10: f64,
}

/// Every row of the catalog table for one method.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct CatalogReport {
    pub definitions: String,
    pub rows: Vec<CatalogRow>,
}

impl CatalogReport {
    /// The row for `n_s`, the filter threshold and the support kind, if measured.
    pub fn get(&self, n_s: usize, min_ratings: u32, swapped: bool) -> Option<&CatalogRow> {
        self.rows
            .iter()
            .find(|r| r.n_s == n_s && r.min_ratings == min_ratings && r.swapped_support == swapped)
    }
}

/// What the definitions are, for results files.
pub const DEFINITIONS: &str = "catalog: every catalog item except the support set ranked; relevant = the user's other liked items (rating >= 4 / label 1) among the candidates; Recall@K = hits / min(K, relevant); NDCG@K binary gain, ideal over min(K, relevant); coverage@10 = distinct top-10 items / candidates; Jaccard@10 = mean over user pairs of top-10 overlap";

/// The candidates of a filter: items at least `min_ratings` training users rated.
pub fn candidates(counts: &[u32], min_ratings: u32) -> Vec<bool> {
    counts.iter().map(|&c| c >= min_ratings).collect()
}

/// Recall@K and NDCG@K of one ranked list against a relevant set.
fn recall_ndcg(top: &[u32], relevant: &HashSet<u32>, k: usize) -> (f64, f64) {
    let ideal = relevant.len().min(k);
    let mut hits = 0usize;
    let mut dcg = 0.0;
    for (i, item) in top.iter().take(k).enumerate() {
        if relevant.contains(item) {
            hits += 1;
            dcg += 1.0 / ((i + 2) as f64).log2();
        }
    }
    let idcg: f64 = (0..ideal).map(|i| 1.0 / ((i + 2) as f64).log2()).sum();
    (hits as f64 / ideal as f64, dcg / idcg)
}

/// Mean pairwise Jaccard index of the lists (0 when fewer than two).
pub fn mean_pairwise_jaccard(lists: &[Vec<u32>]) -> f64 {
    let sets: Vec<HashSet<u32>> = lists.iter().map(|l| l.iter().copied().collect()).collect();
    let (mut sum, mut pairs) = (0.0, 0usize);
    for a in 0..sets.len() {
        for b in a + 1..sets.len() {
            let inter = sets[a].intersection(&sets[b]).count();
            let union = sets[a].len() + sets[b].len() - inter;
            if union > 0 {
                sum += inter as f64 / union as f64;
            }
            pairs += 1;
        }
    }
    if pairs == 0 { 0.0 } else { sum / pairs as f64 }
}

/// Scores `tasks` once and measures every filter in `filters` (thresholds on `counts`).
pub fn evaluate_tasks(
    scorer: &dyn CatalogScorer,
    tasks: &[CatalogTask],
    counts: &[u32],
    filters: &[u32],
    n_s: usize,
    swapped: bool,
) -> Result<Vec<CatalogRow>> {
    let mut tops: Vec<Vec<Vec<u32>>> = vec![Vec::with_capacity(tasks.len()); filters.len()];
    let masks: Vec<Vec<bool>> = filters.iter().map(|&m| candidates(counts, m)).collect();
    let mut rows: Vec<CatalogRow> = filters
        .iter()
        .zip(&masks)
        .map(|(&m, mask)| CatalogRow {
            n_s,
            min_ratings: m,
            swapped_support: swapped,
            users: tasks.len(),
            candidates: mask.iter().filter(|&&c| c).count(),
            ..CatalogRow::default()
        })
        .collect();
    for task in tasks {
        let scores = scorer.scores(task.user, &task.support)?;
        let rated: HashSet<u32> = task.support.iter().map(|x| x.item).collect();
        for (f, mask) in masks.iter().enumerate() {
            let top: Vec<u32> = top_k(&scores, 20, |i| mask[i] && !rated.contains(&(i as u32)))
                .into_iter()
                .map(|i| i as u32)
                .collect();
            let relevant: HashSet<u32> = task
                .relevant
                .iter()
                .copied()
                .filter(|&i| mask[i as usize] && !rated.contains(&i))
                .collect();
            if !relevant.is_empty() {
                let row = &mut rows[f];
                let (r10, n10) = recall_ndcg(&top, &relevant, 10);
                let (r20, n20) = recall_ndcg(&top, &relevant, 20);
                row.users_with_relevant += 1;
                row.recall_10 += r10;
                row.ndcg_10 += n10;
                row.recall_20 += r20;
                row.ndcg_20 += n20;
            }
            tops[f].push(top.into_iter().take(10).collect());
        }
    }
    for (row, lists) in rows.iter_mut().zip(&tops) {
        let n = row.users_with_relevant.max(1) as f64;
        row.recall_10 /= n;
        row.ndcg_10 /= n;
        row.recall_20 /= n;
        row.ndcg_20 /= n;
        let distinct: HashSet<u32> = lists.iter().flatten().copied().collect();
        row.coverage_10 = distinct.len() as f64 / row.candidates.max(1) as f64;
        row.jaccard_10 = mean_pairwise_jaccard(lists);
    }
    Ok(rows)
}

/// What to measure: support sizes, filters, and whether to add the swapped-support ablation.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CatalogProtocol {
    pub n_s: Vec<usize>,
    pub filters: Vec<u32>,
    pub swapped: bool,
    pub seed: u64,
}

impl Default for CatalogProtocol {
    fn default() -> Self {
        CatalogProtocol {
            n_s: CATALOG_N_S.to_vec(),
            filters: vec![WELL_KNOWN, 0],
            swapped: true,
            seed: 2020,
        }
    }
}

/// The whole catalog table of one scorer on `users` (validation or test tasks).
pub fn evaluate(
    scorer: &dyn CatalogScorer,
    users: &[Task],
    counts: &[u32],
    feedback: Feedback,
    protocol: &CatalogProtocol,
) -> Result<CatalogReport> {
    // A filter that leaves no candidate (a small dataset: no item has that many training
    // ratings) measures nothing and is left out.
    let filters: Vec<u32> = protocol
        .filters
        .iter()
        .copied()
        .filter(|&m| counts.iter().any(|&c| c >= m))
        .collect();
    let mut rows = Vec::new();
    for &n_s in &protocol.n_s {
        let tasks = catalog_tasks(users, n_s, feedback, protocol.seed);
        rows.extend(evaluate_tasks(
            scorer, &tasks, counts, &filters, n_s, false,
        )?);
        if protocol.swapped {
            let swapped = swap_catalog_supports(&tasks);
            rows.extend(evaluate_tasks(
                scorer, &swapped, counts, &filters, n_s, true,
            )?);
        }
    }
    Ok(CatalogReport {
        definitions: DEFINITIONS.into(),
        rows,
    })
}

/// The selection score on validation users: the mean NDCG@10 over N_S = 5 and 10 with the
/// well-known filter (the demo's setting; the whole catalog where no item passes it), own
/// support sets.
pub fn selection_score(
    scorer: &dyn CatalogScorer,
    valid: &[Task],
    counts: &[u32],
    feedback: Feedback,
    seed: u64,
) -> Result<f64> {
    let filter = if counts.iter().any(|&c| c >= WELL_KNOWN) {
        WELL_KNOWN
    } else {
        0
    };
    let protocol = CatalogProtocol {
        n_s: vec![5, 10],
        filters: vec![filter],
        swapped: false,
        seed,
    };
    let report = evaluate(scorer, valid, counts, feedback, &protocol)?;
    Ok(report.rows.iter().map(|r| r.ndcg_10).sum::<f64>() / report.rows.len().max(1) as f64)
}

/// How many training users rated (on implicit data: interacted with) each item: the catalog's
/// `ratings` count, the well-known filter's measure, which `tanp export` writes into the bundle.
pub fn training_counts(items: usize, train: &[Task], feedback: Feedback) -> Vec<u32> {
    let mut counts = vec![0u32; items];
    for task in train {
        for x in own_interactions(task, feedback) {
            counts[x.item as usize] += 1;
        }
    }
    counts
}

/// Figure 4 over held-out users: how sharp and how spread the soft cluster assignments c_i
/// (Eq. 11) of their tasks are.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ClusterSummary {
    pub users: usize,
    /// Quartiles (25 %, 50 %, 75 %) of each user's largest c_ij.
    pub largest_quartiles: [f64; 3],
    /// How many users have each cluster as their arg-max.
    pub argmax_counts: Vec<usize>,
    /// The largest share of users any one cluster takes.
    pub largest_cluster_share: f64,
}

/// The [`ClusterSummary`] of the assignments `c` (one row per user; empty rows are skipped).
pub fn cluster_summary(c: &[Vec<f32>]) -> ClusterSummary {
    let rows: Vec<&Vec<f32>> = c.iter().filter(|r| !r.is_empty()).collect();
    let k = rows.first().map_or(0, |r| r.len());
    let mut largest: Vec<f64> = rows
        .iter()
        .map(|r| r.iter().copied().fold(f32::MIN, f32::max) as f64)
        .collect();
    largest.sort_by(f64::total_cmp);
    let quantile = |q: f64| {
        if largest.is_empty() {
            return 0.0;
        }
        let at = q * (largest.len() - 1) as f64;
        let (lo, hi) = (at.floor() as usize, at.ceil() as usize);
        largest[lo] + (largest[hi] - largest[lo]) * (at - lo as f64)
    };
    let mut argmax_counts = vec![0usize; k];
    for r in &rows {
        argmax_counts[rank(r)[0]] += 1;
    }
    let users = rows.len();
    ClusterSummary {
        users,
        largest_quartiles: [quantile(0.25), quantile(0.5), quantile(0.75)],
        largest_cluster_share: argmax_counts.iter().copied().max().unwrap_or(0) as f64
            / users.max(1) as f64,
        argmax_counts,
    }
}

/// Figure 4 over held-out users: the [`ClusterSummary`] of `recommender`'s soft cluster
/// assignments for each user of `tasks` given `n_s` of their ratings (drawn as in
/// [`catalog_tasks`] with `seed`), as a visitor gives them (no profile).
pub fn tasks_cluster_summary(
    recommender: &Recommender,
    tasks: &[Task],
    n_s: usize,
    data: &Dataset,
    seed: u64,
) -> Result<ClusterSummary> {
    let unknown = vec![0u32; data.users.fields.len()];
    let mut assignments = Vec::new();
    for task in catalog_tasks(tasks, n_s, data.feedback, seed) {
        let support: Vec<(u32, f32)> = task.support.iter().map(|x| (x.item, x.y)).collect();
        assignments.push(block_on(recommender.assignment(&support, &unknown))?);
    }
    Ok(cluster_summary(&assignments))
}

/// Figure 4 on training tasks, as the bundle ships it: the soft cluster assignments of a
/// seeded sample of `sample` = (seed, how many) tasks, each given its own support set and, with
/// `profiles`, its user's own features (else none).
pub fn training_assignments(
    recommender: &Recommender,
    data: &Dataset,
    tasks: &[Task],
    sample: (u64, usize),
    profiles: bool,
) -> Result<Vec<TaskAssignment>> {
    let (seed, count) = sample;
    let mut rng = StdRng::seed_from_u64(seed);
    let mut order: Vec<usize> = (0..tasks.len()).collect();
    order.shuffle(&mut rng);
    order
        .iter()
        .take(count)
        .map(|&t| {
            let task = &tasks[t];
            let support: Vec<(u32, f32)> = task.support.iter().map(|i| (i.item, i.y)).collect();
            let profile: Vec<u32> = data
                .users
                .fields
                .iter()
                .map(|f| {
                    let value = f.get(task.user as usize).first().copied().unwrap_or(0);
                    if profiles { value } else { 0 }
                })
                .collect();
            Ok(TaskAssignment {
                user: data.user_ids[task.user as usize].clone(),
                ratings: support.len(),
                clusters: block_on(recommender.assignment(&support, &profile))?,
            })
        })
        .collect()
}

/// The dataset's catalog with each item's number of training users (the widget's well-known
/// filter and the bundle's `catalog.json`).
pub fn catalog_with_counts(data: &Dataset, episodes: &Episodes) -> Vec<crate::data::CatalogItem> {
    let counts = training_counts(data.items.len(), &episodes.train, data.feedback);
    let mut items = data.catalog.clone();
    for (item, &n) in items.iter_mut().zip(&counts) {
        item.ratings = n;
    }
    items
}

/// `count` starter items for a visitor's first ratings: the most-rated training items, taken in
/// turn from each genre (an item's first genre), from the `8 * count` most rated.
pub fn starters(data: &Dataset, counts: &[u32], count: usize) -> Vec<String> {
    let mut order: Vec<usize> = (0..counts.len()).filter(|&i| counts[i] > 0).collect();
    order.sort_by_key(|&i| std::cmp::Reverse(counts[i]));
    order.truncate(count * 8);
    let mut by_genre: Vec<(String, std::collections::VecDeque<usize>)> = Vec::new();
    for i in order {
        let genre = data.catalog[i].genres.first().cloned().unwrap_or_default();
        match by_genre.iter_mut().find(|(g, _)| *g == genre) {
            Some((_, q)) => q.push_back(i),
            None => by_genre.push((genre, std::collections::VecDeque::from([i]))),
        }
    }
    let mut out = Vec::new();
    while out.len() < count && by_genre.iter().any(|(_, q)| !q.is_empty()) {
        for (_, q) in by_genre.iter_mut() {
            if let Some(i) = q.pop_front().filter(|_| out.len() < count) {
                out.push(data.catalog[i].id.clone());
            }
        }
    }
    out
}

impl ClusterSummary {
    /// One line for a terminal.
    pub fn describe(&self) -> String {
        let q = self.largest_quartiles;
        format!(
            "largest c_ij quartiles {:.3} / {:.3} / {:.3}; arg-max cluster counts {:?} (largest share {:.2})",
            q[0], q[1], q[2], self.argmax_counts, self.largest_cluster_share
        )
    }
}

impl CatalogReport {
    /// The report as a table for a terminal.
    pub fn table(&self) -> String {
        let mut out = String::from(
            "N_S  filter  support   Recall@10 Recall@20 NDCG@10 NDCG@20 cov@10 Jaccard@10\n",
        );
        for r in &self.rows {
            let filter = if r.min_ratings > 0 {
                format!(">={}", r.min_ratings)
            } else {
                "off".into()
            };
            out.push_str(&format!(
                "{:>3}  {:>6}  {:<8}  {:>9.4} {:>9.4} {:>7.4} {:>7.4} {:>6.4} {:>10.4}\n",
                r.n_s,
                filter,
                if r.swapped_support { "swapped" } else { "own" },
                r.recall_10,
                r.recall_20,
                r.ndcg_10,
                r.ndcg_20,
                r.coverage_10,
                r.jaccard_10
            ));
        }
        out
    }
}

/// The catalog objective's model selection: [`crate::catalog::selection_score`] on the
/// validation users, who give no demographics (as the demo's visitors).
pub fn catalog_valid_score(
    model: &Tanp,
    config: &ModelConfig,
    data: &Dataset,
    episodes: &Episodes,
    seed: u64,
    device: &Device,
) -> Result<f64> {
    let recommender = Recommender::new(
        model.clone(),
        config.clone(),
        data.catalog.clone(),
        &data.items,
        device,
    )?;
    let counts = training_counts(data.items.len(), &episodes.train, data.feedback);
    let scorer = tanp_scorer(&recommender, None);
    selection_score(&scorer, &episodes.valid, &counts, data.feedback, seed)
}

/// A TaNP recommender as a catalog scorer; `profiles` gives each user's field values (their
/// demographics), `None` hides them.
pub fn tanp_scorer<'a>(
    recommender: &'a Recommender,
    profiles: Option<&'a crate::features::FeatureTable>,
) -> impl Fn(u32, &[Interaction]) -> Result<Vec<f32>> + 'a {
    move |user, support| {
        let pairs: Vec<(u32, f32)> = support.iter().map(|x| (x.item, x.y)).collect();
        let profile: Option<Vec<u32>> = profiles.map(|table| {
            table
                .fields
                .iter()
                .map(|f| f.get(user as usize).first().copied().unwrap_or(0))
                .collect()
        });
        block_on(recommender.catalog_scores(&pairs, profile.as_deref()))
    }
}

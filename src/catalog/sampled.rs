//! The catalog objective's sampled softmax (not in the paper; docs/scale.md). The full softmax
//! ([`crate::model::loss::catalog_loss`]) scores every catalog item for every training task, so
//! past a few hundred thousand items it dominates an epoch. Here each batch scores only a set of
//! candidates: its tasks' liked items and the distinct items among `samples` draws from a
//! proposal Q (smoothed popularity, `(count + 1)^0.75` as word2vec's). Each sampled item's logit
//! is corrected by the log of its probability of being in the sample (the logQ correction of
//! Bengio and Senecal, 2008; Jean et al., ACL 2015; Yi et al., RecSys 2019), so that for every
//! task the candidates' corrected exponentials are an unbiased estimate of the full softmax's
//! normaliser:
//!
//! `Z_i ≈ sum_{j liked by i} e^{s_ij} + sum_{j in S, not liked by i} e^{s_ij} / p_j`,
//! `p_j = P(j in S) = 1 - (1 - q_j)^samples`.
//!
//! Another task's liked item that was not sampled is left out of task i's softmax (its
//! correction is [`EXCLUDED`]): counting it would weight the batch's popular items twice.
//! Validation and test still rank the whole catalog.

use rand::Rng;
use rand::distr::Distribution;
use rand::distr::weighted::WeightedIndex;

/// The correction of a candidate that is not in task i's softmax: a logit this far down has
/// `exp` of 0 in f32, and times a 0 target it stays 0 (`-inf` would give NaN there).
pub const EXCLUDED: f32 = -1.0e4;

/// Draws each batch's candidates.
pub struct SampledSoftmax {
    samples: usize,
    proposal: WeightedIndex<f64>,
    /// `ln p_j`: the log-probability that item j is among a batch's distinct sampled items.
    log_inclusion: Vec<f32>,
}

/// The candidates of one batch of `B` tasks, with `C` distinct items.
#[derive(Clone, Debug, PartialEq)]
pub struct Candidates {
    /// The distinct candidate items, ascending.
    pub items: Vec<u32>,
    /// `[B, C]`, row-major: 1 where the candidate is one of the task's liked items.
    pub liked: Vec<f32>,
    /// `[B, C]`, row-major: added to the task's logits: 0 for its liked items, `-ln p_j` for
    /// a sampled item it did not like, [`EXCLUDED`] otherwise.
    pub correction: Vec<f32>,
}

impl SampledSoftmax {
    /// A sampler for a catalog whose items were seen `counts[j]` times in training, drawing
    /// `samples` items per batch (with replacement; the distinct ones become candidates).
    pub fn new(counts: &[u32], samples: usize) -> Self {
        let weights: Vec<f64> = counts
            .iter()
            .map(|&c| (c as f64 + 1.0).powf(0.75))
            .collect();
        let total: f64 = weights.iter().sum();
        let log_inclusion = weights
            .iter()
            .map(|w| {
                let q = w / total;
                // 1 - (1 - q)^n without cancellation for small q.
                (-(samples as f64 * (-q).ln_1p()).exp_m1()).ln() as f32
            })
            .collect();
        SampledSoftmax {
            samples,
            proposal: WeightedIndex::new(&weights).expect("positive, finite weights"),
            log_inclusion,
        }
    }

    /// How many items each batch draws.
    pub fn samples(&self) -> usize {
        self.samples
    }

    /// The candidates for a batch whose task `i` liked the items `liked[i]`.
    pub fn draw(&self, liked: &[Vec<u32>], rng: &mut impl Rng) -> Candidates {
        let mut sampled: Vec<u32> = (0..self.samples)
            .map(|_| self.proposal.sample(rng) as u32)
            .collect();
        sampled.sort_unstable();
        sampled.dedup();
        let mut items = sampled.clone();
        items.extend(liked.iter().flatten().copied());
        items.sort_unstable();
        items.dedup();
        let c = items.len();
        let mut liked_m = vec![0.0; liked.len() * c];
        let mut correction = vec![EXCLUDED; liked.len() * c];
        for (i, task_liked) in liked.iter().enumerate() {
            let row = i * c;
            for (col, &j) in items.iter().enumerate() {
                if sampled.binary_search(&j).is_ok() {
                    correction[row + col] = -self.log_inclusion[j as usize];
                }
            }
            for j in task_liked {
                let col = items
                    .binary_search(j)
                    .expect("every liked item is a candidate");
                liked_m[row + col] = 1.0;
                correction[row + col] = 0.0;
            }
        }
        Candidates {
            items,
            liked: liked_m,
            correction,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand::rngs::StdRng;

    fn logsumexp(v: impl Iterator<Item = f64>) -> f64 {
        let v: Vec<f64> = v.collect();
        let m = v.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
        m + v.iter().map(|x| (x - m).exp()).sum::<f64>().ln()
    }

    #[test]
    fn candidates_hold_every_liked_item_with_no_correction() {
        let counts: Vec<u32> = (0..1000).map(|j| 1000 / (j + 1)).collect();
        let s = SampledSoftmax::new(&counts, 50);
        let liked = vec![vec![3, 999], vec![], vec![999, 500]];
        let c = s.draw(&liked, &mut StdRng::seed_from_u64(1));
        assert!(c.items.windows(2).all(|w| w[0] < w[1]));
        let n = c.items.len();
        assert!(n <= 50 + 3);
        for (i, task) in liked.iter().enumerate() {
            let row = &c.liked[i * n..(i + 1) * n];
            assert_eq!(row.iter().sum::<f32>() as usize, task.len());
            for j in task {
                let col = c.items.binary_search(j).unwrap();
                assert_eq!(row[col], 1.0);
                assert_eq!(c.correction[i * n + col], 0.0);
            }
        }
        // Task 1 liked nothing: 999 is a candidate only because others liked it, and unless it
        // was also sampled it is left out of task 1's softmax.
        let col = c.items.binary_search(&999).unwrap();
        let corr = c.correction[n + col];
        assert!(corr == EXCLUDED || corr > 0.0, "{corr}");
        // Sampled items carry -ln p_j > 0 (p_j < 1).
        assert!(c.correction.iter().any(|&x| x > 0.0));
    }

    #[test]
    fn corrected_normaliser_is_unbiased() {
        // Power-law counts, random scores; task 0 liked items 0 and 7.
        let m = 2000;
        let counts: Vec<u32> = (0..m).map(|j| (5000 / (j + 1)) as u32).collect();
        let mut rng = StdRng::seed_from_u64(7);
        let scores: Vec<f64> = (0..m).map(|_| rng.random_range(-3.0..3.0)).collect();
        let full = logsumexp(scores.iter().copied()).exp();
        let s = SampledSoftmax::new(&counts, 200);
        let liked = vec![vec![0, 7]];
        let draws = 4000;
        let mut mean = 0.0;
        for _ in 0..draws {
            let c = s.draw(&liked, &mut rng);
            let z: f64 = c
                .items
                .iter()
                .zip(&c.correction)
                .map(|(&j, &corr)| (scores[j as usize] + corr as f64).exp())
                .sum();
            mean += z / draws as f64;
        }
        assert!((mean / full - 1.0).abs() < 0.02, "{mean} vs {full}");
    }

    #[test]
    fn a_sample_that_covers_the_catalog_is_the_full_softmax() {
        // Uniform counts and far more draws than items: p_j = 1 to f32 precision, every item
        // sampled, so the corrected logits are the logits.
        let s = SampledSoftmax::new(&[4; 20], 5000);
        let c = s.draw(&[vec![2]], &mut StdRng::seed_from_u64(3));
        assert_eq!(c.items, (0..20).collect::<Vec<u32>>());
        assert!(
            c.correction.iter().all(|x| x.abs() < 1e-6),
            "{:?}",
            c.correction
        );
    }
}

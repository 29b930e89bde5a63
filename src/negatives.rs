//! Fresh negatives for implicit-feedback training tasks.
//!
//! Implicit data has no observed negatives: the paper "generate[s] negative samples for the
//! query sets" (section 5.1, following MKR: items the user never interacted with, drawn
//! uniformly, as many as positives). A fixed draw, as in TaNP's shipped Last.FM episodes, lets
//! the model memorise each rarely seen negative item as "disliked"; drawing the training tasks'
//! negatives again on every visit, by the same rule, shows the model many more of them. The
//! validation and test tasks always keep their own negatives, so results compare with the paper.

use std::collections::HashSet;

use rand::Rng;
use serde::{Deserialize, Serialize};

use crate::config::POSITIVE_FROM;
use crate::task::Interaction;

/// Where the negatives (label 0) of a training task come from on each visit.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "native", derive(clap::ValueEnum))]
#[serde(rename_all = "kebab-case")]
pub enum Negatives {
    /// The task's own negatives, as the dataset or its episodes give them.
    #[default]
    Fixed,
    /// Drawn again on every visit: each negative becomes an item drawn uniformly from the
    /// catalog items the user has no positive interaction with (no item twice in a task).
    /// Explicit ratings have no negatives, so there it changes nothing.
    Resample,
}

/// Draws negatives for users: knows the catalog size and each user's positive items.
#[derive(Clone, Debug)]
pub struct NegativeSampler {
    items: u32,
    positives: Vec<HashSet<u32>>,
}

impl NegativeSampler {
    /// A sampler over items `0..items`; `positives` lists (user, item) pairs the users liked.
    pub fn new(items: usize, positives: impl IntoIterator<Item = (u32, u32)>) -> Self {
        let mut sets: Vec<HashSet<u32>> = Vec::new();
        for (user, item) in positives {
            let u = user as usize;
            if sets.len() <= u {
                sets.resize_with(u + 1, HashSet::new);
            }
            sets[u].insert(item);
        }
        NegativeSampler {
            items: u32::try_from(items).unwrap_or(u32::MAX),
            positives: sets,
        }
    }

    /// Replaces the item of every negative in `interactions` (one task of `user`) by a fresh
    /// draw; positives stay. A user who liked so much of the catalog that too few items are
    /// left keeps the task's own negatives.
    pub fn resample(&self, user: u32, interactions: &mut [Interaction], rng: &mut impl Rng) {
        let empty = HashSet::new();
        let liked = self.positives.get(user as usize).unwrap_or(&empty);
        let is_negative = |x: &Interaction| x.y < POSITIVE_FROM;
        let wanted = interactions.iter().filter(|x| is_negative(x)).count();
        let task_positives: HashSet<u32> = interactions
            .iter()
            .filter(|x| !is_negative(x))
            .map(|x| x.item)
            .collect();
        let unlisted = task_positives.iter().filter(|i| !liked.contains(i)).count();
        let free = (self.items as usize).saturating_sub(liked.len() + unlisted);
        // At least twice as many free items as draws: rejection sampling always finishes, and
        // each draw needs about items / free tries.
        if wanted == 0 || free < 2 * wanted {
            return;
        }
        let mut drawn = HashSet::with_capacity(wanted);
        for x in interactions.iter_mut().filter(|x| is_negative(x)) {
            x.item = loop {
                let item = rng.random_range(0..self.items);
                if !liked.contains(&item) && !task_positives.contains(&item) && drawn.insert(item) {
                    break item;
                }
            };
        }
    }
}

//! Tasks (section 3, Definition 3.1): a user's interactions, split into a support set and a
//! query set. The types every layer above shares (data loading, batching, training, the
//! catalog protocol).

use serde::{Deserialize, Serialize};

/// One interaction x_ij = (u_i, v_j) with its rating or label y_ij.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Interaction {
    pub item: u32,
    pub y: f32,
}

/// A task tau_i: a user with a support set S_i and a query set Q_i.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Task {
    pub user: u32,
    pub support: Vec<Interaction>,
    pub query: Vec<Interaction>,
}

impl Task {
    /// All interactions of the task, S_i then Q_i.
    pub fn interactions(&self) -> impl Iterator<Item = Interaction> + '_ {
        self.support.iter().chain(&self.query).copied()
    }

    /// Number of interactions N_i.
    pub fn len(&self) -> usize {
        self.support.len() + self.query.len()
    }

    /// Whether the task has no interaction.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

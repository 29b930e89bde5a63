//! tanp: the Task-adaptive Neural Process (Lin et al., WWW 2021) for user cold-start
//! recommendation. The model ([`model`]) is backend-generic burn code shared by native training
//! and the browser; data loading, training, evaluation and the CLI are native only.

pub mod batch;
pub mod bundle;
pub mod compact_weights;
pub mod config;
#[cfg(feature = "native")]
pub mod data;
pub mod data_types;
pub mod error;
pub mod features;
pub mod metrics;
pub mod model;
pub mod negatives;
pub mod recommend;
pub mod request;
#[cfg(feature = "native")]
pub mod serve;
pub mod task;
#[cfg(all(feature = "wasm", target_arch = "wasm32"))]
pub mod web;
pub mod weights;

pub use error::{Result, TanpError};
#[cfg(feature = "native")]
pub mod baselines;
#[cfg(feature = "native")]
pub mod catalog;
#[cfg(feature = "native")]
pub mod checkpoint;
#[cfg(feature = "native")]
pub mod eval;
#[cfg(feature = "native")]
pub mod export;
#[cfg(feature = "native")]
pub mod fit;
#[cfg(feature = "native")]
pub mod provenance;
#[cfg(feature = "native")]
pub mod recipe;
#[cfg(feature = "native")]
pub mod train;

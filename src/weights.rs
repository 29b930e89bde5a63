//! A model's weights as safetensors bytes, named by module path: written by training
//! checkpoints and bundles alike, read back into a [`Tanp`] built from its [`ModelConfig`].
//! Compact (F16 / Q8) files are widened to F32 first ([`crate::compact_weights`]).

use burn::store::{ModuleSnapshot, SafetensorsStore};
use burn::tensor::Device;

use crate::config::ModelConfig;
use crate::error::{Result, TanpError};
use crate::model::Tanp;

/// A model's weights as safetensors bytes.
pub fn weights_to_bytes(model: &Tanp) -> Result<Vec<u8>> {
    let mut store = SafetensorsStore::from_bytes(None);
    model
        .save_into(&mut store)
        .map_err(|e| TanpError::Model(format!("cannot serialise the weights: {e}")))?;
    store
        .get_bytes()
        .map_err(|e| TanpError::Model(format!("cannot serialise the weights: {e}")))
}

/// A model built from `config` with the weights in `bytes` (safetensors); `source` names where
/// the bytes came from in error messages. Used for bundles and for training checkpoints.
pub fn model_from_bytes(
    config: &ModelConfig,
    bytes: Vec<u8>,
    source: &str,
    device: &Device,
) -> Result<Tanp> {
    config.validate()?;
    let mut model = Tanp::new(config, device);
    // Compact weights (q8 or f16, as bundles ship them) are widened: the model computes in F32.
    let bytes = crate::compact_weights::widen(bytes)?;
    let mut store = SafetensorsStore::from_bytes(Some(bytes));
    let result = model
        .load_from(&mut store)
        .map_err(|e| TanpError::Model(format!("{source} does not fit the model: {e}")))?;
    if !result.missing.is_empty() {
        return Err(TanpError::Model(format!(
            "{source} lacks tensors the model needs: {:?}",
            result.missing
        )));
    }
    Ok(model)
}

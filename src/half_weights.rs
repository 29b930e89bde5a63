//! Half-precision storage for bundle weights: a safetensors file whose F32 tensors are stored
//! as F16 halves the download, and is widened back to F32 before burn loads it, so the model
//! computes in F32 on every backend. Both directions rewrite the header and the data; nothing
//! else in the file changes.
//!
//! The format: an 8-byte little-endian header length `n`, `n` bytes of JSON (each tensor's
//! `dtype`, `shape` and `data_offsets` into the data that follows, plus an optional
//! `__metadata__`), then the data.

use half::f16;
use serde_json::{Map, Value};

use crate::error::{Result, TanpError};

fn bad(what: impl std::fmt::Display) -> TanpError {
    TanpError::Model(format!("weights.safetensors: {what}"))
}

/// The header and the data of a safetensors file.
fn split(bytes: &[u8]) -> Result<(Map<String, Value>, &[u8])> {
    let len: [u8; 8] = bytes
        .get(..8)
        .and_then(|b| b.try_into().ok())
        .ok_or_else(|| {
            bad(format!(
                "expected an 8-byte header length, found {} bytes",
                bytes.len()
            ))
        })?;
    let n = u64::from_le_bytes(len) as usize;
    let header = bytes
        .get(8..8usize.saturating_add(n))
        .ok_or_else(|| bad(format!("header of {n} bytes runs past the end of the file")))?;
    let header: Map<String, Value> = serde_json::from_slice(header)
        .map_err(|e| bad(format!("the header is not a JSON object: {e}")))?;
    Ok((header, &bytes[8 + n..]))
}

/// One tensor's entry: dtype and byte range, checked against the data.
fn tensor<'a>(name: &str, info: &Value, data: &'a [u8]) -> Result<(String, &'a [u8])> {
    let dtype = info["dtype"]
        .as_str()
        .ok_or_else(|| bad(format!("tensor {name} has no dtype")))?;
    let range = info["data_offsets"]
        .as_array()
        .and_then(|o| Some((o.first()?.as_u64()? as usize, o.get(1)?.as_u64()? as usize)))
        .ok_or_else(|| bad(format!("tensor {name} has no data_offsets")))?;
    let slice = data.get(range.0..range.1).ok_or_else(|| {
        bad(format!(
            "tensor {name}'s data {range:?} lies outside the file"
        ))
    })?;
    Ok((dtype.to_string(), slice))
}

/// Rewrites every tensor of dtype `from` with `convert` (other dtypes are copied).
fn rewrite(
    bytes: &[u8],
    (from, width): (&str, usize),
    to: &str,
    convert: impl Fn(&[u8]) -> Vec<u8>,
) -> Result<Vec<u8>> {
    let (header, data) = split(bytes)?;
    let mut names: Vec<(&String, &Value)> = header
        .iter()
        .filter(|(k, _)| *k != "__metadata__")
        .collect();
    names.sort_by_key(|(_, v)| v["data_offsets"][0].as_u64().unwrap_or(0));
    let mut out_header = Map::new();
    if let Some(meta) = header.get("__metadata__") {
        out_header.insert("__metadata__".into(), meta.clone());
    }
    let mut out_data = Vec::with_capacity(data.len());
    for (name, info) in names {
        let (dtype, slice) = tensor(name, info, data)?;
        if dtype == from && !slice.len().is_multiple_of(width) {
            return Err(bad(format!(
                "tensor {name} holds {} bytes, not a whole number of {dtype} values",
                slice.len()
            )));
        }
        let new = if dtype == from {
            convert(slice)
        } else {
            slice.to_vec()
        };
        let start = out_data.len();
        out_data.extend_from_slice(&new);
        let mut info = info.clone();
        if dtype == from {
            info["dtype"] = Value::from(to);
        }
        info["data_offsets"] = Value::from(vec![start as u64, out_data.len() as u64]);
        out_header.insert(name.clone(), info);
    }
    let mut json = serde_json::to_vec(&Value::Object(out_header)).expect("a JSON object");
    while !json.len().is_multiple_of(8) {
        json.push(b' ');
    }
    let mut out = Vec::with_capacity(8 + json.len() + out_data.len());
    out.extend_from_slice(&(json.len() as u64).to_le_bytes());
    out.extend_from_slice(&json);
    out.extend_from_slice(&out_data);
    Ok(out)
}

/// F32 tensors stored as F16 (round to nearest even).
pub fn to_half(bytes: &[u8]) -> Result<Vec<u8>> {
    rewrite(bytes, ("F32", 4), "F16", |s| {
        s.chunks_exact(4)
            .flat_map(|c| f16::from_f32(f32::from_le_bytes([c[0], c[1], c[2], c[3]])).to_le_bytes())
            .collect()
    })
}

/// F16 tensors widened to F32 (exactly). A file without F16 tensors comes back unchanged.
pub fn widen(bytes: Vec<u8>) -> Result<Vec<u8>> {
    let (header, _) = split(&bytes)?;
    if !header.values().any(|v| v["dtype"] == "F16") {
        return Ok(bytes);
    }
    rewrite(&bytes, ("F16", 2), "F32", |s| {
        s.chunks_exact(2)
            .flat_map(|c| f16::from_le_bytes([c[0], c[1]]).to_f32().to_le_bytes())
            .collect()
    })
}

//! Compact storage for bundle weights, widened back to F32 before burn loads them, so the model
//! computes in F32 on every backend:
//! - `f16`: every F32 tensor stored as F16 (half the bytes; rounding error below 0.05%);
//! - `q8`: the embedding tables (most of the bytes: one row per actor, director, ZIP code, ...)
//!   stored as I8 with one scale per row (`<name>.q8_scale`, symmetric absmax: `x = q * scale`),
//!   the scale log-coded in a byte relative to the table's largest ([`to_q8`]; bundles written
//!   before 2026-12-03 have F16 or F32 scales, still read), everything else as F16. A quarter of
//!   the F32 bytes for the tables; per-value error at most half a step, `max|row| / 254` times
//!   at most 2^(1/16) for the coded scale. With [`Q8Scope::Matrices`] the linear layers'
//!   weight matrices too (wide models, whose layers outweigh their tables).
//!
//! Both directions rewrite the header and the data; nothing else in the file changes.
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
    // A u64 that does not fit wasm32's usize is refused, never truncated.
    let n = usize::try_from(u64::from_le_bytes(len)).unwrap_or(usize::MAX);
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
        .and_then(|o| Some((index(o.first()?)?, index(o.get(1)?)?)))
        .ok_or_else(|| bad(format!("tensor {name} has no data_offsets")))?;
    let slice = data.get(range.0..range.1).ok_or_else(|| {
        bad(format!(
            "tensor {name}'s data {range:?} lies outside the file"
        ))
    })?;
    Ok((dtype.to_string(), slice))
}

/// A JSON number as a usize: none when it is not a non-negative integer or does not fit (a u64
/// beyond wasm32's usize).
fn index(v: &Value) -> Option<usize> {
    v.as_u64().and_then(|n| usize::try_from(n).ok())
}

/// The suffix of the tensor holding the per-row scales of an I8 tensor.
pub const SCALE_SUFFIX: &str = ".q8_scale";
/// The suffix of the one-value F32 tensor that U8 (log-coded) scales are relative to.
pub const SCALE_MAX_SUFFIX: &str = ".q8_scale_max";

/// Steps per octave of the log-coded scales: a row's scale is `max x 2^(-code / STEPS)`, so a
/// code costs at most 2^(1/16) - 1 = 4.4 % of the row's int8 range and spans 2^-16 of `max`.
const LOG_STEPS: f32 = 16.0;

/// The scale a U8 code stands for (the same function codes and decodes).
fn log_scale(max: f32, code: u8) -> f32 {
    max * (-(code as f32) / LOG_STEPS).exp2()
}

/// The code of the smallest coded scale at least `scale` (so that no value is clipped), or the
/// smallest scale there is when `scale` is below it.
fn log_code(max: f32, scale: f32) -> u8 {
    if max <= 0.0 || scale <= 0.0 {
        return u8::MAX;
    }
    let mut code = (-(scale / max).log2() * LOG_STEPS)
        .floor()
        .clamp(0.0, 255.0) as u8;
    // Rounding in log2 can land one step short: step back until the scale covers the row.
    while code > 0 && log_scale(max, code) < scale {
        code -= 1;
    }
    code
}

/// A tensor's shape from its header entry.
fn shape(name: &str, info: &Value) -> Result<Vec<usize>> {
    info["shape"]
        .as_array()
        .and_then(|a| a.iter().map(index).collect())
        .ok_or_else(|| bad(format!("tensor {name} has no shape")))
}

/// One tensor of a file.
struct Entry<'a> {
    name: String,
    dtype: String,
    shape: Vec<usize>,
    data: &'a [u8],
}

/// One tensor of the rewritten file.
struct Out {
    name: String,
    dtype: String,
    shape: Vec<usize>,
    data: Vec<u8>,
}

impl Out {
    /// `e` under a new dtype.
    fn like(e: &Entry, dtype: &str, data: Vec<u8>) -> Out {
        Out {
            name: e.name.clone(),
            dtype: dtype.to_string(),
            shape: e.shape.clone(),
            data,
        }
    }
}

fn find<'a, 'b>(all: &'b [Entry<'a>], name: &str) -> Option<&'b Entry<'a>> {
    all.iter().find(|e| e.name == name)
}

/// Rewrites a safetensors file tensor by tensor: `convert` maps each tensor (seeing all of
/// them) to the tensors that replace it, none to drop it. Unknown dtypes are the caller's to copy.
fn rewrite(
    bytes: &[u8],
    convert: impl Fn(&Entry, &[Entry]) -> Result<Vec<Out>>,
) -> Result<Vec<u8>> {
    let (header, data) = split(bytes)?;
    let mut entries = Vec::new();
    for (name, info) in header.iter().filter(|(k, _)| *k != "__metadata__") {
        let (dtype, slice) = tensor(name, info, data)?;
        let start = info["data_offsets"][0].as_u64().unwrap_or(0);
        let entry = Entry {
            name: name.clone(),
            dtype,
            shape: shape(name, info)?,
            data: slice,
        };
        entries.push((start, entry));
    }
    entries.sort_by_key(|(start, _)| *start);
    let entries: Vec<Entry> = entries.into_iter().map(|(_, e)| e).collect();
    let mut out_header = Map::new();
    if let Some(meta) = header.get("__metadata__") {
        out_header.insert("__metadata__".into(), meta.clone());
    }
    let mut out_data = Vec::with_capacity(data.len());
    for entry in &entries {
        for out in convert(entry, &entries)? {
            let start = out_data.len();
            out_data.extend_from_slice(&out.data);
            out_header.insert(
                out.name,
                serde_json::json!({
                    "dtype": out.dtype,
                    "shape": out.shape,
                    "data_offsets": [start, out_data.len()],
                }),
            );
        }
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

/// `e` unchanged (dtypes this module does not convert pass through as they are).
fn copy(e: &Entry) -> Result<Vec<Out>> {
    Ok(vec![Out::like(e, &e.dtype, e.data.to_vec())])
}

/// The values of a tensor of `width`-byte elements, checked against its shape.
fn values<'a>(e: &'a Entry, width: usize) -> Result<std::slice::ChunksExact<'a, u8>> {
    let bytes = e
        .shape
        .iter()
        .try_fold(width, |n, &d| n.checked_mul(d))
        .filter(|&n| n == e.data.len());
    if bytes.is_none() {
        return Err(bad(format!(
            "tensor {} of shape {:?} ({}, {width} bytes each) does not match its {} bytes",
            e.name,
            e.shape,
            e.dtype,
            e.data.len()
        )));
    }
    Ok(e.data.chunks_exact(width))
}

fn f32s(e: &Entry) -> Result<Vec<f32>> {
    Ok(values(e, 4)?
        .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
        .collect())
}

fn f16s(e: &Entry) -> Result<Vec<f32>> {
    Ok(values(e, 2)?
        .map(|c| f16::from_le_bytes([c[0], c[1]]).to_f32())
        .collect())
}

fn f16_bytes(v: &[f32]) -> Vec<u8> {
    v.iter()
        .flat_map(|&x| f16::from_f32(x).to_le_bytes())
        .collect()
}

fn f32_bytes(v: impl IntoIterator<Item = f32>) -> Vec<u8> {
    // Sized up front and filled in a plain loop: this runs on every page load, mostly in the
    // browser's baseline wasm tier, where an iterator adapter per value costs several times more.
    let v = v.into_iter();
    let mut out = Vec::with_capacity(4 * v.size_hint().0);
    for x in v {
        out.extend_from_slice(&x.to_le_bytes());
    }
    out
}

/// F32 tensors stored as F16 (round to nearest even).
pub fn to_half(bytes: &[u8]) -> Result<Vec<u8>> {
    rewrite(bytes, |e, _| match e.dtype.as_str() {
        "F32" => Ok(vec![Out::like(e, "F16", f16_bytes(&f32s(e)?))]),
        _ => copy(e),
    })
}

/// Which F32 tensors `q8` stores in 8 bits (the rest in F16).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Q8Scope {
    /// The embedding tables (most of the bytes of a paper-size model).
    Tables,
    /// Every matrix: the tables and the linear layers' weights (`[in, out]`, a scale per input
    /// row); biases and other vectors stay F16.
    Matrices,
}

impl Q8Scope {
    /// Whether this scope stores tensor `e` in 8 bits.
    fn covers(self, e: &Entry) -> bool {
        let matrix = e.dtype == "F32" && e.shape.len() == 2;
        match self {
            Q8Scope::Tables => matrix && e.name.contains("_embedding."),
            Q8Scope::Matrices => matrix,
        }
    }
}

/// The tensors of `scope` as I8 with a per-row scale, other F32 tensors as F16. The scales are
/// log-coded in one byte each (U8 `<name>.q8_scale`, relative to the F32 `<name>.q8_scale_max`):
/// 40 % of F16 scales' bytes after gzip, which matters at a large catalog's one row per
/// item (bundles written before 2026-12-03 have F16 or F32 scales, still read).
pub fn to_q8(bytes: &[u8], scope: Q8Scope) -> Result<Vec<u8>> {
    rewrite(bytes, |e, _| {
        if e.name.ends_with(SCALE_SUFFIX) || e.name.ends_with(SCALE_MAX_SUFFIX) || e.dtype == "I8" {
            return Err(bad(format!("tensor {} is already stored in q8", e.name)));
        }
        if !scope.covers(e) {
            return match e.dtype.as_str() {
                "F32" => Ok(vec![Out::like(e, "F16", f16_bytes(&f32s(e)?))]),
                _ => copy(e),
            };
        }
        let v = f32s(e)?;
        let cols = e.shape[1].max(1);
        let needed: Vec<f32> = v
            .chunks(cols)
            .map(|row| row.iter().fold(0f32, |m, x| m.max(x.abs())) / 127.0)
            .collect();
        let max = needed.iter().fold(0f32, |m, &x| m.max(x));
        let codes: Vec<u8> = needed.iter().map(|&s| log_code(max, s)).collect();
        let mut q = Vec::with_capacity(v.len());
        for (row, &code) in v.chunks(cols).zip(&codes) {
            // The scale as widening decodes it, so that both use the same one.
            let scale = log_scale(max, code);
            q.extend(row.iter().map(|&x| {
                let step = if max > 0.0 { x / scale } else { 0.0 };
                step.round().clamp(-127.0, 127.0) as i8 as u8
            }));
        }
        Ok(vec![
            Out::like(e, "I8", q),
            Out {
                name: format!("{}{SCALE_SUFFIX}", e.name),
                dtype: "U8".into(),
                shape: vec![codes.len()],
                data: codes,
            },
            Out {
                name: format!("{}{SCALE_MAX_SUFFIX}", e.name),
                dtype: "F32".into(),
                shape: vec![1],
                data: max.to_le_bytes().to_vec(),
            },
        ])
    })
}

/// The scales U8 codes stand for, relative to the I8 tensor `e`'s one-value F32 maximum.
fn decoded_scales(e: &Entry, codes: &Entry, all: &[Entry]) -> Result<Vec<f32>> {
    let name = format!("{}{SCALE_MAX_SUFFIX}", e.name);
    let max = find(all, &name)
        .filter(|m| m.dtype == "F32" && m.shape == [1])
        .ok_or_else(|| {
            bad(format!(
                "I8 tensor {} has U8 scales but no F32 {name} of shape [1]",
                e.name
            ))
        })?;
    let max = f32s(max)?[0];
    if !max.is_finite() || max < 0.0 {
        return Err(bad(format!(
            "{name} is {max}: expected a finite scale >= 0"
        )));
    }
    Ok(values(codes, 1)?.map(|c| log_scale(max, c[0])).collect())
}

/// F16 and q8 tensors widened to F32 (F16 exactly; I8 times its row's scale), then checked:
/// every tensor F32 with as many bytes as its shape needs, inside the file. A file holding F32
/// tensors only comes back unchanged. What burn then loads can have no other dtype (BF16 trapped
/// in wasm) and no inconsistent size.
pub fn widen(bytes: Vec<u8>) -> Result<Vec<u8>> {
    let (header, _) = split(&bytes)?;
    let bytes = if header
        .values()
        .any(|v| v["dtype"] == "F16" || v["dtype"] == "I8")
    {
        widen_compact(&bytes)?
    } else {
        bytes
    };
    check_f32(&bytes)?;
    Ok(bytes)
}

/// Checks that every tensor of a safetensors file is F32 and fits its shape and the file.
fn check_f32(bytes: &[u8]) -> Result<()> {
    let (header, data) = split(bytes)?;
    for (name, info) in header.iter().filter(|(k, _)| *k != "__metadata__") {
        let (dtype, slice) = tensor(name, info, data)?;
        if dtype != "F32" {
            return Err(bad(format!(
                "tensor {name} has dtype {dtype}; expected F32, F16 or I8 (q8)"
            )));
        }
        let entry = Entry {
            name: name.clone(),
            dtype,
            shape: shape(name, info)?,
            data: slice,
        };
        values(&entry, 4).map(drop)?;
    }
    Ok(())
}

fn widen_compact(bytes: &[u8]) -> Result<Vec<u8>> {
    rewrite(bytes, |e, all| {
        if let Some(table) = e
            .name
            .strip_suffix(SCALE_SUFFIX)
            .or_else(|| e.name.strip_suffix(SCALE_MAX_SUFFIX))
        {
            if find(all, table).is_none_or(|t| t.dtype != "I8") {
                return Err(bad(format!("{} scales no I8 tensor {table}", e.name)));
            }
            return Ok(vec![]);
        }
        match e.dtype.as_str() {
            "F16" => Ok(vec![Out::like(e, "F32", f32_bytes(f16s(e)?))]),
            "I8" => {
                let scale_name = format!("{}{SCALE_SUFFIX}", e.name);
                let scales = find(all, &scale_name)
                    .ok_or_else(|| bad(format!("I8 tensor {} has no {scale_name}", e.name)))?;
                let rows = e.shape.first().copied().unwrap_or(1);
                let known = matches!(scales.dtype.as_str(), "U8" | "F16" | "F32");
                if e.shape.len() != 2 || !known || scales.shape != [rows] {
                    return Err(bad(format!(
                        "I8 tensor {} should be [rows, cols] with U8, F16 or F32 scales of \
                         shape [rows]; found {:?} with {} scales of shape {:?}",
                        e.name, e.shape, scales.dtype, scales.shape
                    )));
                }
                // U8 log-coded scales (bundles from 2026-12-03 on), F16 or F32 (before).
                let scales = match scales.dtype.as_str() {
                    "U8" => decoded_scales(e, scales, all)?,
                    "F16" => f16s(scales)?,
                    _ => f32s(scales)?,
                };
                let cols = e.shape[1].max(1);
                values(e, 1).map(drop)?; // the size check
                let mut wide = Vec::with_capacity(4 * e.data.len());
                for (row, &scale) in e.data.chunks(cols).zip(&scales) {
                    for &b in row {
                        wide.extend_from_slice(&(b as i8 as f32 * scale).to_le_bytes());
                    }
                }
                Ok(vec![Out::like(e, "F32", wide)])
            }
            _ => copy(e),
        }
    })
}

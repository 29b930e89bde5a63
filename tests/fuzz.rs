//! A mutation fuzzer on stable Rust for the two parsers that take untrusted bytes: the request
//! text of the wasm surface ([`Request::parse`], then the recommender's checks) and the model
//! bundle ([`Bundle::from_bytes`], then building the recommender). Seeded and repeatable; no
//! coverage guidance (cargo-fuzz needs a nightly toolchain, which this project does not use).
//!
//! Each execution mutates a corpus entry (tests/fuzz-corpus/) 1-4 times: bit flips, bytes
//! replaced by JSON syntax, ranges deleted or duplicated, tokens inserted (huge and negative
//! numbers, deep nesting, `null`, escapes), truncation. Half of the bundle mutations are
//! re-sealed (file sizes, checksums and the manifest's own checksum recomputed) so that they
//! get past the checksums to the parsers behind them. An execution fails on a panic, on taking
//! longer than a second, or on allocating more than 256 MiB at once (a counting allocator).
//!
//! `make test` runs a short campaign (TANP_FUZZ_EXECS, default 3,000 per target);
//! `scripts/fuzz.sh` runs the long one. A failing input is written to the temp directory.
//! `TANP_FUZZ_WRITE_CORPUS=1` rewrites the bundle seed after a format change.

mod common;

use std::alloc::{GlobalAlloc, Layout, System};
use std::panic::AssertUnwindSafe;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use burn::tensor::Device;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use tanp::bundle::{Bundle, CATALOG, MANIFEST, WEIGHTS, sha256};
use tanp::config::DecoderKind;
use tanp::model::Tanp;
use tanp::recommend::block_on;
use tanp::request::Request;

/// Counts live bytes and their peak, to catch runaway allocations.
struct Counting;

static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let live = LIVE.fetch_add(layout.size(), Ordering::Relaxed) + layout.size();
        PEAK.fetch_max(live, Ordering::Relaxed);
        // SAFETY: forwarded unchanged to the system allocator.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
        // SAFETY: forwarded unchanged to the system allocator.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

const MAX_ALLOCATED: usize = 256 << 20;
const MAX_TIME: Duration = Duration::from_secs(1);

fn corpus(kind: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fuzz-corpus")
        .join(kind)
}

fn executions() -> usize {
    std::env::var("TANP_FUZZ_EXECS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(3_000)
}

const TOKENS: &[&str] = &[
    "1e308",
    "-1",
    "-0",
    "4294967295",
    "18446744073709551616",
    "1.5",
    "null",
    "true",
    "[]",
    "{}",
    "\"\"",
    "\"\\u0000\"",
    "\"\\ud800\"",
    "NaN",
    "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[",
    "{\"a\":{\"a\":{\"a\":{\"a\":{\"a\":{\"a\":",
    "\"BF16\"",
    "\"F16\"",
    "\"I8\"",
];

/// One random change to `bytes`.
fn mutate_once(bytes: &mut Vec<u8>, rng: &mut StdRng) {
    let len = bytes.len();
    let at = if len == 0 {
        0
    } else {
        rng.random_range(0..len)
    };
    match rng.random_range(0..7) {
        0 if len > 0 => bytes[at] ^= 1 << rng.random_range(0..8),
        1 if len > 0 => {
            const SYNTAX: &[u8] = b"{}[],:\"-09eE.\\ \n\x00\xff";
            bytes[at] = SYNTAX[rng.random_range(0..SYNTAX.len())];
        }
        2 if len > 0 => {
            let end = (at + rng.random_range(1..64)).min(len);
            bytes.drain(at..end);
        }
        3 if len > 0 => {
            let end = (at + rng.random_range(1..256)).min(len);
            let copy = bytes[at..end].to_vec();
            let to = rng.random_range(0..=len);
            bytes.splice(to..to, copy);
        }
        4 => {
            let token = TOKENS[rng.random_range(0..TOKENS.len())].as_bytes();
            let to = rng.random_range(0..=len);
            bytes.splice(to..to, token.iter().copied());
        }
        5 if len > 0 => bytes.truncate(at),
        _ => {
            // Replace a number with a token.
            if let Some(start) = (at..len).find(|&i| bytes[i].is_ascii_digit()) {
                let end = (start..len)
                    .find(|&i| !bytes[i].is_ascii_digit())
                    .unwrap_or(len);
                let token = TOKENS[rng.random_range(0..TOKENS.len())].as_bytes();
                bytes.splice(start..end, token.iter().copied());
            }
        }
    }
}

fn mutate(seed: &[u8], rng: &mut StdRng) -> Vec<u8> {
    let mut bytes = seed.to_vec();
    for _ in 0..rng.random_range(1..=4) {
        mutate_once(&mut bytes, rng);
    }
    bytes
}

/// Runs `body` once, failing on a panic, a slow run or a runaway allocation; `input` describes
/// the input for the report (written to the temp directory).
fn execute(target: &str, n: usize, input: &[&[u8]], body: impl FnOnce()) {
    PEAK.store(LIVE.load(Ordering::Relaxed), Ordering::Relaxed);
    let before = LIVE.load(Ordering::Relaxed);
    let started = Instant::now();
    let outcome = std::panic::catch_unwind(AssertUnwindSafe(body));
    let (took, peak) = (
        started.elapsed(),
        PEAK.load(Ordering::Relaxed).saturating_sub(before),
    );
    let failure = match outcome {
        Err(_) => Some("panicked".to_string()),
        Ok(()) if took > MAX_TIME => Some(format!("took {took:?}")),
        Ok(()) if peak > MAX_ALLOCATED => Some(format!("allocated {peak} bytes at once")),
        Ok(()) => None,
    };
    if let Some(what) = failure {
        let dir = std::env::temp_dir().join(format!("tanp-fuzz-{target}-{n}"));
        std::fs::create_dir_all(&dir).unwrap();
        for (i, part) in input.iter().enumerate() {
            std::fs::write(dir.join(format!("input-{i}")), part).unwrap();
        }
        panic!(
            "{target}: execution {n} {what}; its input is in {}",
            dir.display()
        );
    }
}

/// The bundle seed: a small trained-shape model on the synthetic data, as its three files.
fn bundle_seed() -> [Vec<u8>; 3] {
    let dir = corpus("bundle");
    let read = |name: &str| std::fs::read(dir.join(name));
    if std::env::var("TANP_FUZZ_WRITE_CORPUS").is_ok() {
        let _guard = common::seeded();
        common::synthetic_bundle(DecoderKind::GatingFilm)
            .write(&dir)
            .unwrap();
    }
    let seed = [
        read(MANIFEST).unwrap(),
        read(CATALOG).unwrap(),
        read(WEIGHTS).unwrap(),
    ];
    Bundle::from_bytes(&seed[0], &seed[1], seed[2].clone()).unwrap_or_else(|e| {
        panic!("the bundle seed no longer loads ({e}): rerun with TANP_FUZZ_WRITE_CORPUS=1")
    });
    seed
}

/// Recomputes the sizes and checksums of a mutated bundle (when its manifest is still JSON).
fn reseal(files: &mut [Vec<u8>; 3]) {
    let Ok(mut manifest) = serde_json::from_slice::<serde_json::Value>(&files[0]) else {
        return;
    };
    if !manifest
        .get("files")
        .is_some_and(serde_json::Value::is_object)
    {
        return;
    }
    for (name, bytes) in [(CATALOG, &files[1]), (WEIGHTS, &files[2])] {
        manifest["files"][name] =
            serde_json::json!({ "bytes": bytes.len(), "sha256": sha256(bytes) });
    }
    let zeros = "0".repeat(64);
    manifest["checksum"] = zeros.clone().into();
    let unset = serde_json::to_vec(&manifest).unwrap();
    manifest["checksum"] = sha256(&unset).into();
    files[0] = serde_json::to_vec(&manifest).unwrap();
}

#[test]
fn fuzz_the_bundle_parser() {
    let seed = bundle_seed();
    let mut rng = StdRng::seed_from_u64(2026);
    let device = Device::flex();
    let (mut loaded, mut built) = (0, 0);
    for n in 0..executions() {
        let mut files = seed.clone();
        let which = rng.random_range(0..3);
        files[which] = mutate(&seed[which], &mut rng);
        if rng.random_bool(0.5) {
            reseal(&mut files);
        }
        let input: Vec<&[u8]> = files.iter().map(Vec::as_slice).collect();
        execute("bundle", n, &input, || {
            if let Ok(bundle) = Bundle::from_bytes(&files[0], &files[1], files[2].clone()) {
                loaded += 1;
                if bundle.recommender(&device).is_ok() {
                    built += 1;
                }
            }
        });
    }
    eprintln!(
        "bundle: {} executions, {loaded} parsed, {built} built a recommender",
        executions()
    );
    assert!(loaded > 0, "the mutations never got past the checksums");
}

#[test]
fn fuzz_the_request_parser() {
    let seeds: Vec<Vec<u8>> = std::fs::read_dir(corpus("request"))
        .unwrap()
        .map(|e| std::fs::read(e.unwrap().path()).unwrap())
        .collect();
    assert!(!seeds.is_empty());
    let _guard = common::seeded();
    let (data, _) = common::synthetic();
    let cfg = common::config(&data, DecoderKind::GatingFilm);
    let device = Device::flex();
    let recommender = tanp::recommend::Recommender::new(
        Tanp::new(&cfg, &device),
        cfg,
        data.catalog.clone(),
        &data.items,
        &device,
    )
    .unwrap();
    let items = recommender.catalog.len();
    let mut rng = StdRng::seed_from_u64(2027);
    let (mut parsed, mut answered) = (0, 0);
    for n in 0..executions() {
        let bytes = mutate(&seeds[rng.random_range(0..seeds.len())], &mut rng);
        execute("request", n, &[&bytes], || {
            let text = String::from_utf8_lossy(&bytes);
            if let Ok(request) = Request::parse(&text, items) {
                parsed += 1;
                let result = block_on(recommender.recommend(
                    &request.support,
                    request.profile.as_deref(),
                    &request.options,
                ));
                answered += usize::from(result.is_ok());
            }
        });
    }
    eprintln!(
        "request: {} executions, {parsed} parsed, {answered} answered",
        executions()
    );
    assert!(parsed > 0 && answered > 0);
}

//! Training killed with SIGKILL at random moments (during an epoch, while a checkpoint is being
//! written, while it is being renamed) resumes to exactly the weights, log and best epoch of an
//! uninterrupted run. The training runs in a child process (this test binary, re-run with
//! `KILL_CHILD` set), so that a kill is a real one: no destructor, no flush.
//!
//! `TANP_KILLS=N` sets the number of kills (default 20).

mod common;

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use burn::tensor::Device;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use tanp::config::DecoderKind;
use tanp::train::{TrainState, Weights, load_run_weights, read_state, train};
use tanp::weights::weights_to_bytes;

use common::{config, out_dir, seeded, synthetic, train_config};

const KILL_CHILD: &str = "TANP_KILL_TEST_CHILD";
const KILL_EPOCHS: &str = "TANP_KILL_TEST_EPOCHS";

/// Not a test of its own: the child process of the kill test trains here, into the directory
/// named by `TANP_KILL_TEST_CHILD` (it returns at once when that is not set).
#[test]
fn kill_test_child_process() {
    let Ok(out) = std::env::var(KILL_CHILD) else {
        return;
    };
    let epochs = std::env::var(KILL_EPOCHS).unwrap().parse().unwrap();
    let _guard = seeded();
    let (data, episodes) = synthetic();
    let cfg = config(&data, DecoderKind::GatingFilm);
    train(
        &data,
        &episodes,
        &cfg,
        &train_config(epochs),
        Path::new(&out),
        true,
    )
    .unwrap();
}

fn child(out: &Path, epochs: usize) -> Child {
    Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "kill_test_child_process", "--test-threads=1"])
        .env(KILL_CHILD, out)
        .env(KILL_EPOCHS, epochs.to_string())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap()
}

/// Runs a child to its end; returns how long it took.
fn run_to_end(out: &Path, epochs: usize) -> Duration {
    let start = Instant::now();
    assert!(
        child(out, epochs).wait().unwrap().success(),
        "the child run failed"
    );
    start.elapsed()
}

/// The state without wall-clock times, which differ between runs.
fn timeless(mut s: TrainState) -> TrainState {
    for e in &mut s.log {
        e.seconds = 0.0;
    }
    s
}

/// Every tensor of a run's `which` weights, by name, as exact bytes (files written by two
/// processes differ in their metadata order and burn's parameter ids, not in their values).
fn tensors(dir: &Path, which: Weights) -> Vec<(String, Vec<u8>)> {
    let (data, _) = synthetic();
    let cfg = config(&data, DecoderKind::GatingFilm);
    let model = load_run_weights(&cfg, dir, which, &Device::flex()).unwrap();
    let bytes = weights_to_bytes(&model).unwrap();
    let n = u64::from_le_bytes(bytes[..8].try_into().unwrap()) as usize;
    let header: serde_json::Map<String, serde_json::Value> =
        serde_json::from_slice(&bytes[8..8 + n]).unwrap();
    let mut out: Vec<(String, Vec<u8>)> = header
        .iter()
        .filter(|(k, _)| *k != "__metadata__")
        .map(|(k, v)| {
            let range = &v["data_offsets"];
            let (a, b) = (range[0].as_u64().unwrap(), range[1].as_u64().unwrap());
            (
                k.clone(),
                bytes[8 + n + a as usize..8 + n + b as usize].to_vec(),
            )
        })
        .collect();
    out.sort();
    out
}

#[test]
fn training_killed_at_random_moments_ends_like_an_uninterrupted_run() {
    let kills: usize = std::env::var("TANP_KILLS")
        .ok()
        .and_then(|k| k.parse().ok())
        .unwrap_or(20);
    // Enough epochs that the kills land before the run ends (a life gains under one epoch).
    let epochs = kills.max(24);
    let reference = out_dir("kill-reference");
    let total = run_to_end(&reference, epochs);
    // A child that finds every epoch done only starts, loads and stops: the fixed cost.
    let startup = run_to_end(&reference, epochs).min(total);
    let epoch = total.saturating_sub(startup) / epochs as u32;

    let killed = out_dir("kill-resumed");
    let mut rng = StdRng::seed_from_u64(7);
    let mut done = 0;
    while done < kills {
        let mut c = child(&killed, epochs);
        std::thread::sleep(startup + epoch.mul_f64(rng.random_range(0.0..1.2)));
        match c.try_wait().unwrap() {
            Some(_) => break, // finished before this kill
            None => {
                c.kill().unwrap(); // SIGKILL
                c.wait().unwrap();
                done += 1;
            }
        }
    }
    run_to_end(&killed, epochs);
    assert!(
        done >= kills,
        "only {done} kills landed before the run ended"
    );

    let (a, b) = (
        read_state(&reference).unwrap(),
        read_state(&killed).unwrap(),
    );
    assert_eq!(b.epoch, epochs);
    assert_eq!(
        serde_json::to_value(timeless(a)).unwrap(),
        serde_json::to_value(timeless(b)).unwrap(),
        "the same log, scores and best epoch"
    );
    for which in [Weights::Best, Weights::Last] {
        assert!(
            tensors(&reference, which) == tensors(&killed, which),
            "the same {which:?} weights, bit for bit"
        );
    }
    // Nothing half-written is left behind.
    let leftovers: Vec<_> = std::fs::read_dir(&killed)
        .unwrap()
        .flatten()
        .map(|e| e.file_name().into_string().unwrap())
        .filter(|n| n.ends_with(".tmp"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
    let _ = std::fs::remove_dir_all(&reference);
    let _ = std::fs::remove_dir_all(&killed);
}

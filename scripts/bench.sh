#!/usr/bin/env bash
# Speed benchmarks (not tests): wall time and peak memory from /usr/bin/time -v.
#  1. Last.FM: one training epoch over TaNP's 248 training tasks plus evaluation of the 66 test
#     users (the official code takes ~17 s for this on the same 2-core machine).
#  2. ML-1M: a full training run of the shipped recipe (Gating-FiLM, 40 epochs, lr 1e-3, user
#     feature dropout 0.3; paper protocol: 7:1:2 user split, N_S = 20) plus test evaluation.
set -euo pipefail
DATA=${1:-../shared/data}
cd "$(dirname "$0")/.."
cargo build --release --quiet
BIN=${CARGO_TARGET_DIR:-target}/release/tanp
OUT=$(mktemp -d)
echo "machine: $(nproc) cores ($(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo)), $(free -g | awk '/Mem:/ {print $2}') GiB; $(git rev-parse --short HEAD)"
measure() {
  /usr/bin/time -v "$@" 2>&1 >/dev/null | grep -E "Elapsed \(wall clock\)|Maximum resident set size"
}
echo "== Last.FM, 1 epoch + test evaluation (includes data loading)"
measure "$BIN" train --dataset lastfm --data-dir "$DATA" --out "$OUT/lastfm" --sizes official --epochs 1 --quiet
echo "== ML-1M, full training run (shipped recipe: 40 epochs, lr 1e-3) + test evaluation"
measure "$BIN" train --dataset ml-1m --data-dir "$DATA" --out "$OUT/ml" --epochs 40 --lr 1e-3 --user-dropout 0.3 --quiet
rm -rf "$OUT"

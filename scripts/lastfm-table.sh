#!/usr/bin/env bash
# Last.FM on TaNP's own episodes (248/35/66 tasks, N_S = 20): three decoders x three seeds, for
# the paper-faithful model and for the official-code compatibility mode. One results/ JSON each.
set -euo pipefail
DATA=${1:-../shared/data}
cd "$(dirname "$0")/.."
cargo build --quiet
BIN=${CARGO_TARGET_DIR:-target}/debug/tanp
mkdir -p results/lastfm
for decoder in plain film gating-film; do
  for seed in 1 2 3; do
    # Paper-faithful (default fidelity, so resampled training negatives), official sizes, lr 1e-3,
    # lambda 0.1, 150 epochs.
    $BIN train --dataset lastfm --data-dir "$DATA" --out "runs/lastfm/paper-$decoder-$seed" \
      --decoder "$decoder" --sizes official --lr 1e-3 --lambda 0.1 --epochs 150 --seed "$seed" --quiet \
      --results "results/lastfm/paper-$decoder-seed$seed.json" > /dev/null
    # The official code's behaviour and its train.sh settings (lr 1e-4, 100 epochs, lambda 1).
    $BIN train --dataset lastfm --data-dir "$DATA" --out "runs/lastfm/official-$decoder-$seed" \
      --decoder "$decoder" --fidelity official-code --sizes official --z sample --seed "$seed" --quiet \
      --results "results/lastfm/official-code-$decoder-seed$seed.json" > /dev/null
  done
done
python3 scripts/table.py results/lastfm

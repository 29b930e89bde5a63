#!/usr/bin/env bash
# The cost curve of your own catalog: for each catalog size, a synthetic shop (`tanp synth`:
# power-law popularity and activity, users with tastes), then
#   - training: wall time and peak memory of `tanp train --dataset csv` (the catalog recipe),
#   - the bundle: its size, raw and gzip, and per item,
#   - one recommendation natively (`tanp bench`) and in headless Chromium on the CPU path
#     (`scripts/bench-web.mjs --model`: load time and the median of 101 recommendations).
# One line per size in runs/scale/curve.tsv; docs/scale.md has the figures. The quality column
# is the kept epoch's validation score (training's selection score, src/catalog/mod.rs: catalog
# NDCG@10 of the validation users at N_S = 5 and 10, among the items that 50 training users
# rated), so that a cheaper training shows what it costs.
#
#   scripts/scale.sh                                 10k and 100k items
#   SIZES="10000" EPOCHS=3 scripts/scale.sh          narrow it (2 epochs by default)
#   SIZES=1000000 WARM_VISITS=3 scripts/scale.sh     the 1M-item point (sampled softmax: the
#                                                    default beyond 50,000 items)
#   SOFTMAX=full SIZES=100000 scripts/scale.sh       the catalog objective's softmax
#                                                    (`--catalog-softmax`, default auto)
# Resumable: a size whose data and finished run exist is not generated or trained again (each
# softmax has its own run-, bundle-, time- and train- files under runs/scale/ITEMS/).
set -euo pipefail
cd "$(dirname "$0")/.."
SIZES=${SIZES:-"10000 100000"}
USERS=${USERS:-20000}
EPOCHS=${EPOCHS:-2}
SOFTMAX=${SOFTMAX:-auto}
OUT=${OUT:-runs/scale}
if [ -z "${TANP_BIN:-}" ]; then cargo build --release --quiet --bin tanp; fi
BIN=${TANP_BIN:-${CARGO_TARGET_DIR:-target}/release/tanp}
mkdir -p "$OUT"
curve="$OUT/curve.tsv"
[ -f "$curve" ] || printf 'items\tusers\tinteractions\tepochs\tsoftmax\ttrain_s\tpeak_rss_mb\tvalid_ndcg10\tbundle_raw_mb\tbundle_gzip_mb\tgzip_bytes_per_item_beyond_titles\tnative_ms\tbrowser\n' > "$curve"
gz() { gzip -9 -c "$1" | wc -c; }
for items in $SIZES; do
  dir="$OUT/$items"
  echo "== $items items, $USERS users"
  [ -f "$dir/data/items.csv" ] || "$BIN" synth --out "$dir/data" --users "$USERS" --items "$items" --genres 20 --seed 11
  interactions=$(($(wc -l < "$dir/data/interactions.csv") - 1))
  final="$dir/run-$SOFTMAX/epoch-$(printf %04d "$EPOCHS")/state.json"
  if [ ! -f "$final" ] || [ ! -f "$dir/time-$SOFTMAX.txt" ]; then
    rm -rf "$dir/run-$SOFTMAX"
    /usr/bin/time -f '%e %M' -o "$dir/time-$SOFTMAX.txt" "$BIN" train --dataset csv \
      --interactions "$dir/data/interactions.csv" --items "$dir/data/items.csv" \
      --epochs "$EPOCHS" --catalog-softmax "$SOFTMAX" --out "$dir/run-$SOFTMAX" --quiet > "$dir/train-$SOFTMAX.log" 2>&1
  fi
  read -r train_s peak_kb < "$dir/time-$SOFTMAX.txt"
  valid=$(python3 -c "import json,sys; print(f\"{json.load(open(sys.argv[1]))['best_score']:.4f}\")" "$final")
  "$BIN" export --model "$dir/run-$SOFTMAX" --out "$dir/bundle-$SOFTMAX" --weights q8-all --no-metrics > /dev/null
  raw=$(cat "$dir"/bundle-$SOFTMAX/* | wc -c)
  gzip_total=$(( $(gz "$dir/bundle-$SOFTMAX/manifest.json") + $(gz "$dir/bundle-$SOFTMAX/catalog.json") + $(gz "$dir/bundle-$SOFTMAX/weights.safetensors") ))
  # The titles alone, gzip: what a catalog costs whatever the model.
  titles=$(python3 -c "import json,sys; print('\n'.join(i['title'] for i in json.load(open(sys.argv[1]))['items']))" "$dir/bundle-$SOFTMAX/catalog.json" | gzip -9 -c | wc -c)
  per_item=$(( (gzip_total - titles) / items ))
  native=$("$BIN" bench --model "$dir/bundle-$SOFTMAX" --runs 101 | sed -E 's/.*median ([0-9.]+) ms.*/\1/')
  browser=$(node scripts/bench-web.mjs --model "$dir/bundle-$SOFTMAX" --backends cpu --runs 101 --memory-calls 0 --warm-visits "${WARM_VISITS:-9}" | grep '^cpu:' | sed -E 's/^cpu: widget shows "cpu"; //')
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%.2f\t%.2f\t%s\t%s\t%s\n' "$items" "$USERS" "$interactions" "$EPOCHS" \
    "$SOFTMAX" "$train_s" "$((peak_kb / 1024))" "$valid" "$(python3 -c "print($raw / 1e6)")" "$(python3 -c "print($gzip_total / 1e6)")" \
    "$per_item" "$native" "$browser" | tee -a "$curve"
done

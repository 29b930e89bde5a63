#!/usr/bin/env bash
# The catalog protocol (not in the paper; src/catalog/): every catalog item ranked for held-out
# users from N_S = 3, 5, 10, 20 of their ratings. One results JSON per method and split under
# results/catalog/<dataset>/. Resumable: a run whose JSON exists is skipped.
#
#   scripts/catalog.sh [DATA]          ML-1M, splits 2020, 2021, 2022
#   SPLITS="2020" DATASETS="ml-1m" METHODS="tanp ease" scripts/catalog.sh   narrow it
#
# Baselines (popularity, item-kNN, EASE, Mult-DAE) are tuned on the validation users of each
# split. TaNP's catalog recipe is the preset `catalog` (src/recipe.rs).
set -euo pipefail
DATA=${1:-../shared/data}
cd "$(dirname "$0")/.."
if [ -z "${TANP_BIN:-}" ]; then cargo build --release --quiet --bin tanp; fi
BIN=${TANP_BIN:-${CARGO_TARGET_DIR:-target}/release/tanp}
SPLITS=${SPLITS:-"2020 2021 2022"}
DATASETS=${DATASETS:-"ml-1m"}
METHODS=${METHODS:-"popularity item-knn ease mult-dae tanp tanp-mlp tanp-dot256"}
OUT=results/catalog
RUNS=runs/catalog

# TaNP's recipes are presets (src/recipe.rs, the one place that defines them): `tanp` is the
# shipped catalog recipe (`catalog-ml-1m` on ML-1M, `catalog` elsewhere: the item id as one more
# item content field, a softmax over the catalog, z of the prior q(z | S) when decoding training
# tasks, support sets of 3-20 ratings per visit, user fields always hidden, k = 5, lambda = 0.5,
# the dot head, widths 192; on ML-1M without the actor field); `tanp-mlp` is the same with the
# paper's decoder at the paper's sizes (`catalog-mlp`, shipped before), `tanp-dot256` the dot
# head at widths 256 with every item field (`catalog-dot`, a probe over the size budget).
tanp_recipe() {
  case $1 in
    tanp) if [ "$2" = ml-1m ]; then echo --preset catalog-ml-1m; else echo --preset catalog; fi ;;
    tanp-mlp) echo --preset catalog-mlp ;;
    tanp-dot256) echo --preset catalog-dot ;;
  esac
}

for dataset in $DATASETS; do
  mkdir -p "$OUT/$dataset" "$RUNS/$dataset"
  for split in $SPLITS; do
    for method in $METHODS; do
      file="$OUT/$dataset/$method-split$split.json"
      if [ -f "$file" ]; then continue; fi
      echo "== $dataset $method split $split"
      if [[ "$method" == tanp* ]]; then
        run="$RUNS/$dataset/$method-split$split"
        # shellcheck disable=SC2046
        "$BIN" train --dataset "$dataset" --data-dir "$DATA" --split-seed "$split" --seed "$split" \
          $(tanp_recipe "$method" "$dataset") --out "$run" --quiet --results "$run.json"
        "$BIN" catalog --model "$run" --data-dir "$DATA" --results "$file"
      else
        "$BIN" catalog --method "$method" --dataset "$dataset" --data-dir "$DATA" \
          --split-seed "$split" --quiet --results "$file"
      fi
    done
  done
done
node scripts/paper-data.mjs

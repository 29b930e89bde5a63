#!/usr/bin/env bash
# The long fuzz campaign of tests/fuzz.rs: 1,000,000 executions of each target (the bundle
# parser and the request parser), seeded and repeatable; `make test` runs 3,000 of each.
#
#   scripts/fuzz.sh                       1,000,000 each
#   TANP_FUZZ_EXECS=10000 scripts/fuzz.sh
set -euo pipefail
cd "$(dirname "$0")/.."
export TANP_FUZZ_EXECS="${TANP_FUZZ_EXECS:-1000000}"
/usr/bin/time -f "fuzz: %e s wall, %M KiB peak RSS" \
  cargo test --quiet --test fuzz -- --nocapture --test-threads=2

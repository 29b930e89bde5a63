# tanp-web: the two commands of the README, and the rest.
DATA ?= ../shared/data
CARGO ?= cargo

PORT ?= 8080
TARGET_DIR := $(or $(CARGO_TARGET_DIR),target)
TANP_BIN := $(TARGET_DIR)/debug/tanp

.PHONY: test test-native test-browser web demo build lint fmt lastfm-table bench bench-web bench-scale experiments paper-data fuzz

## Run every test (CI calls this): Rust tests, then the browser tests in headless Chromium.
test: test-native test-browser

test-native:
	$(CARGO) test --all-targets

test-browser: web
	$(CARGO) build --bin tanp
	scripts/setup-browser.sh
	TANP_BIN=$(TANP_BIN) node --test --test-concurrency=1 tests/browser/

## The wasm package: pkg/ (and its copy in www/pkg/).
web:
	scripts/build-web.sh

## Build and serve the demo page on the shipped model: http://127.0.0.1:$(PORT)/
demo: web
	$(CARGO) build --bin tanp
	$(TANP_BIN) serve --dir www --port $(PORT)

build:
	$(CARGO) build --release

lint:
	$(CARGO) fmt --check
	$(CARGO) clippy --all-targets -- -D warnings
	$(CARGO) clippy --lib --target wasm32-unknown-unknown --no-default-features --features web -- -D warnings
	$(CARGO) clippy --lib --target wasm32-unknown-unknown --no-default-features --features webgpu -- -D warnings

fmt:
	$(CARGO) fmt

## Last.FM on TaNP's own episodes: three variants x three seeds, results/ JSON files.
lastfm-table: build
	scripts/lastfm-table.sh $(DATA)

## The paper's experiments (Tables 3-5, Figures 3 and 5), resumable; then the paper page's data.
experiments:
	scripts/experiments.sh all $(DATA)
	node scripts/paper-data.mjs

## www/paper/data.json from results/ (a test fails when it is stale).
paper-data:
	node scripts/paper-data.mjs

## The long fuzz campaign: 1,000,000 executions of the bundle and request parsers each.
fuzz:
	scripts/fuzz.sh

## Speed: one Last.FM epoch + test evaluation, and a full ML-1M run, with /usr/bin/time -v.
bench: build
	scripts/bench.sh $(DATA)

## Browser figures on both backends: recommendation time, cold start, size, memory.
bench-web: web
	$(CARGO) build --bin tanp
	scripts/setup-browser.sh
	TANP_BIN=$(TANP_BIN) node scripts/bench-web.mjs

## The cost curve of your own catalog (scripts/scale.sh): synthetic shops of 10k and 100k items
## (SIZES="1000000" for the 1M point), training, bundle, native and browser figures, the 100k goals.
bench-scale: web
	scripts/setup-browser.sh
	scripts/scale.sh

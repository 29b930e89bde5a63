# tanp-web: the two commands of the README, and the rest.
DATA ?= ../shared/data
CARGO ?= cargo

.PHONY: test demo build lint fmt lastfm-table bench

## Run every test (CI calls this).
test:
	$(CARGO) test --all-targets

## Build and serve the demo page on the shipped model (issue "The recommender in the browser").
demo:
	@echo "make demo: not yet. The browser demo (wasm package, widget, page) is the open issue"
	@echo "'The recommender in the browser'; the native CLI works: see README.md."
	@exit 1

build:
	$(CARGO) build --release

lint:
	$(CARGO) fmt --check
	$(CARGO) clippy --all-targets -- -D warnings

fmt:
	$(CARGO) fmt

## Last.FM on TaNP's own episodes: three variants x three seeds, results/ JSON files.
lastfm-table: build
	scripts/lastfm-table.sh $(DATA)

## Speed: one Last.FM epoch + test evaluation, and a full ML-1M run, with /usr/bin/time -v.
bench: build
	scripts/bench.sh $(DATA)

#!/usr/bin/env bash
# Builds the wasm package into pkg/ (wasm-bindgen --target web, ESM + TypeScript types +
# package.json) and copies it to www/pkg/ for the demo page. Two builds of the same crate:
# tanp_bg.wasm (feature `web`: the CPU backend only, small) and tanp_webgpu_bg.wasm (feature
# `webgpu`: burn's wgpu runtime, no CPU backend); index.js downloads only the one the backend needs. Installs what is missing: the
# wasm32 target and wasm-bindgen-cli at exactly the version of the wasm-bindgen crate in
# Cargo.lock.
set -euo pipefail
cd "$(dirname "$0")/.."

target_dir="${CARGO_TARGET_DIR:-target}"
rustup target add wasm32-unknown-unknown >/dev/null 2>&1 || true

want=$(awk '/^name = "wasm-bindgen"$/ { getline; gsub(/version = |"/, ""); print; exit }' Cargo.lock)
have=$(wasm-bindgen --version 2>/dev/null | awk '{ print $2 }' || true)
if [ "$have" != "$want" ]; then
  echo "installing wasm-bindgen-cli $want (found: ${have:-none})"
  # --locked fails here (its locked webpki-roots is newer than this registry's index).
  cargo install wasm-bindgen-cli --version "$want"
fi

rm -rf pkg
# build FEATURE OUT_NAME PROFILE: one wasm build, bound into pkg/OUT_NAME.js + OUT_NAME_bg.wasm.
build() {
  echo "building the wasm module, features $1 (profile $3)"
  cargo build --lib --target wasm32-unknown-unknown --profile "$3" \
    --no-default-features --features "$1"
  wasm-bindgen --target web --out-dir pkg --out-name "$2" --remove-name-section --remove-producers-section \
    "$target_dir/wasm32-unknown-unknown/$3/tanp.wasm"
}
# The CPU build is tuned for speed (it does the numerical work); the WebGPU build for size (its
# Rust side records and dispatches GPU work: opt-level "z" halves its download).
build web tanp wasm-release
build webgpu tanp_webgpu wasm-size
# Each glue module becomes a factory of fresh instances (web/index.js restarts a trapped one).
node scripts/glue-factory.mjs pkg/tanp.js pkg/tanp_webgpu.js
cp web/index.js web/index.d.ts pkg/
# Each build's SHA-256 is its key in the visitor's cache (web/index.js, WASM_SHA256).
sed -i -e "s/@CPU_WASM_SHA256@/$(sha256sum pkg/tanp_bg.wasm | cut -d' ' -f1)/" \
  -e "s/@WEBGPU_WASM_SHA256@/$(sha256sum pkg/tanp_webgpu_bg.wasm | cut -d' ' -f1)/" pkg/index.js
# The widget and its worker, their types and the custom-elements manifest, as the package ships
# them (the worker imports the package's index.js beside it), and the README and licences.
cp www/tanp-recommender.js pkg/widget.js
rm -rf pkg/widget && cp -r www/widget pkg/widget
sed 's|"./pkg/index.js"|"./index.js"|' www/worker.js > pkg/worker.js
sed 's|"./pkg/index.js"|"./index.js"|' www/tanp-recommender.d.ts > pkg/widget.d.ts
sed 's|"tanp-recommender.js"|"widget.js"|g' www/custom-elements.json > pkg/custom-elements.json
cp web/README.md LICENSE-MIT LICENSE-APACHE pkg/
version=$(awk -F'"' '/^version = / { print $2; exit }' Cargo.toml)
cat > pkg/package.json <<JSON
{
  "name": "tanp-web",
  "version": "$version",
  "description": "TaNP (Lin et al., WWW 2021) cold-start recommender in the browser: WebGPU or wasm CPU",
  "license": "MIT OR Apache-2.0",
  "type": "module",
  "main": "index.js",
  "module": "index.js",
  "types": "index.d.ts",
  "exports": {
    ".": { "types": "./index.d.ts", "default": "./index.js" },
    "./widget": { "types": "./widget.d.ts", "default": "./widget.js" },
    "./worker": "./worker.js",
    "./custom-elements.json": "./custom-elements.json",
    "./*.wasm": "./*.wasm"
  },
  "customElements": "custom-elements.json",
  "files": ["index.js", "index.d.ts", "tanp.js", "tanp.d.ts", "tanp_glue.d.ts", "tanp_bg.wasm",
            "tanp_bg.wasm.d.ts", "tanp_webgpu.js", "tanp_webgpu.d.ts", "tanp_webgpu_glue.d.ts",
            "tanp_webgpu_bg.wasm", "tanp_webgpu_bg.wasm.d.ts", "widget.js", "widget/", "widget.d.ts",
            "worker.js", "custom-elements.json", "README.md", "LICENSE-MIT", "LICENSE-APACHE"],
  "sideEffects": ["./widget.js"]
}
JSON
rm -rf www/pkg
cp -r pkg www/pkg
ls -l pkg
for f in pkg/tanp_bg.wasm pkg/tanp_webgpu_bg.wasm; do echo "$f gzip -9: $(gzip -9 -c "$f" | wc -c) bytes"; done

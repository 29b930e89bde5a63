// Browser figures for the README, on both backends in headless Chromium (Debian's, with
// --enable-unsafe-webgpu so that WebGPU exists, through SwiftShader on this machine):
// - cold start to interactive: navigation start until the first frame after the widget's
//   tanp-load event (its status says "Ready"); warm start: the same on later visits, each in a
//   new page of the same profile (bundle and wasm from the Cache API), median of --warm-visits;
// - median time of one recommendation over the whole catalog (5 ratings, top 10, std over
//   16 z samples for the shown items), measured around Recommender.recommend in the page;
// - gzip size of what a visitor downloads on each backend: wasm, JS glue, widget, worker, bundle;
// - wasm linear memory after loading and after many recommendations (a leak shows as growth).
// Usage: node scripts/bench-web.mjs [--runs N] [--warm-visits N] [--memory-calls N] [--model DIR]
//   [--backends cpu,webgpu] [--timeout-ms MS] [--visit-gap-ms MS]
// (--model: another bundle than www/model, e.g. one of scripts/scale.sh's synthetic catalogs).
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import zlib from "node:zlib";
import { MODES, ROOT, launch, serveSite } from "../tests/browser/harness.mjs";

const arg = (name, def) => {
  const i = process.argv.indexOf(name);
  return i > 0 ? Number(process.argv[i + 1]) : def;
};
const RUNS = arg("--runs", 101);
const WARM_VISITS = arg("--warm-visits", 9);
const CALLS = arg("--memory-calls", 1000);
const text = (name, def) => {
  const i = process.argv.indexOf(name);
  return i > 0 ? process.argv[i + 1] : def;
};
const MODEL = text("--model", null);
const BACKENDS = text("--backends", "cpu,webgpu").split(",");
// The longest one call to the wasm engine may take (the widget's default is 60 s).
const TIMEOUT_MS = arg("--timeout-ms", 60_000);
// The pause between closing one visit's page and opening the next. On SwiftShader the GPU process
// tears the closed page's WebGPU device down for about a second on this 2-core machine, and a
// visit opened meanwhile waits for it (burn's device start: ~0.2 s after a pause, 1.1-1.2 s
// back to back); 0 measures that.
const VISIT_GAP_MS = arg("--visit-gap-ms", 1000);

// What one visitor downloads on each backend: the wasm build that backend needs (the CPU one is
// small; the WebGPU one carries burn's wgpu runtime), the JS, the page and the model bundle.
const common = ["pkg/index.js", "demo.js", "tanp-recommender.js", "widget/style.js", "widget/worker-client.js",
  "widget/storage.js", "worker.js", "index.html"];
const bundle = ["model/manifest.json", "model/catalog.json", "model/weights.safetensors"];
const wasm = { cpu: ["pkg/tanp_bg.wasm", "pkg/tanp.js"], webgpu: ["pkg/tanp_webgpu_bg.wasm", "pkg/tanp_webgpu.js"] };
const source = (f) => (MODEL && f.startsWith("model/") ? path.join(path.resolve(MODEL), f.slice(6)) : path.join(ROOT, "www", f));
const size = (files) => files.reduce((acc, f) => {
  const bytes = fs.readFileSync(source(f));
  return { raw: acc.raw + bytes.length, gz: acc.gz + zlib.gzipSync(bytes, { level: 9 }).length };
}, { raw: 0, gz: 0 });
const mb = (b) => (b / 1e6).toFixed(2);
console.log(`machine: ${os.cpus().length} cores, ${os.cpus()[0].model}; node ${process.version}`);
const b = size(bundle);
console.log(`model bundle: ${mb(b.raw)} MB raw, ${mb(b.gz)} MB gzip -9`);
for (const backend of BACKENDS) {
  const w = size(wasm[backend]);
  const all = size([...wasm[backend], ...common, ...bundle]);
  console.log(`download ${backend}: wasm + glue ${mb(w.gz)} MB gzip; wasm + glue + bundle ${mb(w.gz + b.gz)} MB gzip; ` +
    `everything incl. page ${mb(all.gz)} MB gzip (${mb(all.raw)} MB raw)`);
}

const site = await serveSite();
if (MODEL) {
  fs.rmSync(path.join(site.dir, "model"), { recursive: true });
  fs.cpSync(path.resolve(MODEL), path.join(site.dir, "model"), { recursive: true });
}
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
try {
  for (const backend of BACKENDS) {
    const mode = MODES.find((m) => m.webgpu);
    const browser = await launch(mode);
    const context = await browser.newContext();
    // The page notes when the frame after tanp-load starts (what the visitor first sees ready),
    // so that the figure carries no polling delay; a failed load is noted too.
    await context.addInitScript(() => {
      const note = () => requestAnimationFrame(() => { globalThis.__tanpReady ??= performance.now(); });
      document.addEventListener("tanp-load", note, { once: true });
      document.addEventListener("tanp-error", note, { once: true });
    });
    const visit = async () => {
      const page = await context.newPage();
      await page.goto(`${site.url}?backend=${backend}`);
      await page.waitForFunction(() => globalThis.__tanpReady, null, { timeout: 300_000, polling: 100 });
      const status = await page.evaluate(() => document.querySelector("tanp-recommender").shadowRoot
        .querySelector("[data-testid=status]").textContent);
      if (!/Ready/.test(status)) throw new Error(`the widget did not load: ${status}`);
      return [page, await page.evaluate(() => globalThis.__tanpReady)];
    };
    const [page, cold] = await visit();
    await new Promise((resolve) => setTimeout(resolve, VISIT_GAP_MS));
    // Later visits: the bundle and the wasm come from the Cache API (keyed by their SHA-256).
    const warms = [];
    for (let i = 0; i < WARM_VISITS; i++) {
      const [p, t] = await visit();
      warms.push(t);
      await p.close();
      await new Promise((resolve) => setTimeout(resolve, VISIT_GAP_MS));
    }
    const warm = median(warms);
    const shown = await page.evaluate(() => document.querySelector("tanp-recommender").shadowRoot
      .querySelector("[data-testid=backend]").textContent);
    // The leak check makes CALLS calls on both backends (on SwiftShader that takes minutes).
    const calls = CALLS;
    const runs = backend === "cpu" ? RUNS : Math.min(RUNS, 21);
    const r = await page.evaluate(async ([backend, runs, calls, timeoutMs]) => {
      const { Recommender, wasmMemoryBytes } = await import("/pkg/index.js");
      const rec = await Recommender.load("/model/", { backend, timeoutMs });
      const ratings = rec.catalog().slice(0, 5).map((c, i) => ({ item: c.id, rating: 1 + ((i * 2) % 5) }));
      const times = [];
      await rec.recommend({ ratings, top: 10 }); // warm-up
      const memLoaded = wasmMemoryBytes();
      for (let i = 0; i < runs; i++) times.push((await rec.recommend({ ratings, top: 10 })).ms);
      for (let i = runs; i < calls; i++) await rec.recommend({ ratings, top: 10 });
      return { times, memLoaded, memAfter: wasmMemoryBytes(), items: rec.catalog().length };
    }, [backend, runs, calls, TIMEOUT_MS]);
    console.log(`${backend}: widget shows "${shown}"; cold start to interactive ${cold.toFixed(0)} ms, ` +
      `warm (later visits, cached) median ${warm.toFixed(0)} ms (${Math.min(...warms).toFixed(0)}-${Math.max(...warms).toFixed(0)}, ${warms.length} visits); ` +
      `recommendation over ${r.items} items: median ${median(r.times).toFixed(1)} ms ` +
      `(min ${Math.min(...r.times).toFixed(1)}, max ${Math.max(...r.times).toFixed(1)}, ${r.times.length} runs); ` +
      `wasm memory ${mb(r.memLoaded)} MB after load, ${mb(r.memAfter)} MB after ${Math.max(calls, runs) + 1} calls`);
    await browser.close();
  }
} finally {
  site.close();
}

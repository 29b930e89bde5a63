// The npm package: `npm pack` of pkg/ holds the API, the widget, the worker, the wasm, their
// types, a README and the licences; it installs into a scratch project, bundles with esbuild
// (from npm, the lockfile's), and the bundled page recommends in Chromium.
import { after, test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import * as esbuild from "esbuild";
import { MODES, ROOT, launch, serveDir } from "./harness.mjs";

const scratch = fs.mkdtempSync(path.join(os.tmpdir(), "tanp-npm-"));
after(() => fs.rmSync(scratch, { recursive: true, force: true }));

test("npm pack -> install -> esbuild bundle -> recommendations in Chromium", async () => {
  const packed = execFileSync("npm", ["pack", path.join(ROOT, "pkg"), "--pack-destination", scratch, "--json"],
    { encoding: "utf8" });
  const [info] = JSON.parse(packed);
  const files = info.files.map((f) => f.path).sort();
  for (const f of ["index.js", "index.d.ts", "tanp.js", "tanp_bg.wasm", "tanp_webgpu.js", "tanp_webgpu_bg.wasm",
    "widget.js", "widget/style.js", "widget/storage.js", "widget/worker-client.js", "widget.d.ts", "worker.js", "custom-elements.json", "README.md", "LICENSE-MIT", "LICENSE-APACHE",
    "package.json"]) {
    assert.ok(files.includes(f), `the tarball holds ${f}: ${files.join(", ")}`);
  }

  const project = path.join(scratch, "app");
  fs.mkdirSync(path.join(project, "src"), { recursive: true });
  fs.writeFileSync(path.join(project, "package.json"), JSON.stringify({ name: "app", private: true, type: "module" }));
  execFileSync("npm", ["install", path.join(scratch, info.filename), "--no-audit", "--no-fund", "--offline"],
    { cwd: project, stdio: "ignore" });
  fs.writeFileSync(path.join(project, "src", "app.js"), `
import { Recommender } from "tanp-web";
import "tanp-web/widget";
const r = await Recommender.load("./model/", { backend: "cpu", wasmUrl: "./tanp_bg.wasm" });
const first = r.catalog()[0].id;
const result = await r.recommend({ ratings: [{ item: first, rating: 5 }], top: 10 });
window.result = { items: result.items.length, widget: Boolean(customElements.get("tanp-recommender")) };
`);
  const dist = path.join(project, "dist");
  await esbuild.build({
    entryPoints: [path.join(project, "src", "app.js")], bundle: true, format: "esm", splitting: true,
    outdir: dist, absWorkingDir: project, logLevel: "silent",
  });
  fs.copyFileSync(path.join(project, "node_modules/tanp-web/tanp_bg.wasm"), path.join(dist, "tanp_bg.wasm"));
  fs.cpSync(path.join(ROOT, "www/model"), path.join(dist, "model"), { recursive: true });
  fs.writeFileSync(path.join(dist, "index.html"),
    `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>bundled</title>
<script type="module" src="app.js"></script></head><body></body></html>`);

  const server = await serveDir(dist);
  const browser = await launch(MODES.find((m) => !m.webgpu));
  try {
    const page = await browser.newPage();
    const errors = [];
    page.on("pageerror", (e) => errors.push(e.message));
    await page.goto(server.url);
    await page.waitForFunction(() => window.result, null, { timeout: 120_000 });
    assert.deepEqual(await page.evaluate(() => window.result), { items: 10, widget: true });
    assert.deepEqual(errors, []);
  } finally {
    await browser.close();
    server.close();
  }
});

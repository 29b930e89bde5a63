// Shared by the browser tests and the web benchmark: a copy of www/ served by `tanp serve`,
// Debian's Chromium driven by playwright-core, and the native CLI for parity checks.
import { after, before } from "node:test";
import { spawn, execFileSync } from "node:child_process";
import crypto from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
export const TANP = process.env.TANP_BIN
  ?? path.join(process.env.CARGO_TARGET_DIR ?? path.join(ROOT, "target"), "debug", "tanp");
export const CHROMIUM = process.env.CHROMIUM ?? "/usr/bin/chromium";

/** The two ways the tests run Chromium: with WebGPU (SwiftShader here) and without. */
export const MODES = [
  { name: "webgpu-flag", flags: ["--enable-unsafe-webgpu"], webgpu: true },
  { name: "no-webgpu", flags: [], webgpu: false },
];

/**
 * Copies www/ (with pkg/ and the shipped model) to a temporary folder, adds broken bundles
 * for the error tests, and serves it on a free loopback port (`tanp serve` with `args`; by
 * default with its strict Content-Security-Policy).
 */
export async function serveSite(args = []) {
  for (const need of ["www/pkg/index.js", "www/pkg/tanp_bg.wasm", "www/pkg/tanp_webgpu_bg.wasm", "www/model/manifest.json"]) {
    if (!fs.existsSync(path.join(ROOT, need))) throw new Error(`${need} is missing: run scripts/build-web.sh`);
  }
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "tanp-site-"));
  fs.cpSync(path.join(ROOT, "www"), dir, { recursive: true });
  const model = path.join(dir, "model");
  const corrupt = path.join(dir, "bad-checksum");
  fs.cpSync(model, corrupt, { recursive: true });
  const w = fs.readFileSync(path.join(corrupt, "weights.safetensors"));
  w[w.length - 1] ^= 1;
  fs.writeFileSync(path.join(corrupt, "weights.safetensors"), w);
  const version = path.join(dir, "bad-version");
  fs.cpSync(model, version, { recursive: true });
  const manifest = JSON.parse(fs.readFileSync(path.join(version, "manifest.json"), "utf8"));
  manifest.version = 99;
  fs.writeFileSync(path.join(version, "manifest.json"), JSON.stringify(manifest));
  const missing = path.join(dir, "bad-missing");
  fs.cpSync(model, missing, { recursive: true });
  fs.rmSync(path.join(missing, "catalog.json"));
  brokenBundles(dir, model);

  const server = await serveDir(dir, args);
  return {
    url: server.url,
    dir,
    close() {
      server.close();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** `tanp serve` on `dir` (with extra `args`, e.g. --cors or --csp) on a free loopback port. */
export async function serveDir(dir, args = []) {
  const server = spawn(TANP, ["serve", "--dir", dir, "--port", "0", ...args], { stdio: ["ignore", "pipe", "inherit"] });
  const url = await new Promise((resolve, reject) => {
    let out = "";
    server.stdout.on("data", (d) => {
      out += d;
      const m = out.match(/http:\/\/127\.0\.0\.1:(\d+)\//);
      if (m) resolve(m[0]);
    });
    server.on("exit", (code) => reject(new Error(`tanp serve exited with ${code}: ${out}`)));
  });
  return { url, close: () => server.kill() };
}

const sha256 = (bytes) => crypto.createHash("sha256").update(bytes).digest("hex");

/**
 * Bundles whose checksums are all valid but whose contents break an invariant: the wasm module
 * must refuse them with a message, not trap. The manifest is re-sealed as `tanp export` seals
 * it (its checksum: the SHA-256 of its bytes with the checksum written as 64 zeros).
 */
function brokenBundles(dir, model) {
  const variant = (name, { catalog: editCatalog, weights: editWeights }) => {
    const out = path.join(dir, name);
    fs.cpSync(model, out, { recursive: true });
    const manifest = JSON.parse(fs.readFileSync(path.join(out, "manifest.json"), "utf8"));
    if (editCatalog) {
      const catalog = JSON.parse(fs.readFileSync(path.join(out, "catalog.json"), "utf8"));
      editCatalog(catalog);
      fs.writeFileSync(path.join(out, "catalog.json"), JSON.stringify(catalog));
    }
    if (editWeights) {
      const w = fs.readFileSync(path.join(out, "weights.safetensors"));
      const n = Number(w.readBigUInt64LE(0));
      const header = JSON.parse(w.subarray(8, 8 + n).toString("utf8"));
      editWeights(header);
      const json = Buffer.from(JSON.stringify(header));
      const len = Buffer.alloc(8);
      len.writeBigUInt64LE(BigInt(json.length));
      fs.writeFileSync(path.join(out, "weights.safetensors"), Buffer.concat([len, json, w.subarray(8 + n)]));
    }
    for (const file of ["catalog.json", "weights.safetensors"]) {
      const bytes = fs.readFileSync(path.join(out, file));
      manifest.files[file] = { bytes: bytes.length, sha256: sha256(bytes) };
    }
    manifest.checksum = "0".repeat(64);
    const unset = JSON.stringify(manifest, null, 2);
    manifest.checksum = sha256(Buffer.from(unset));
    fs.writeFileSync(path.join(out, "manifest.json"), JSON.stringify(manifest, null, 2));
  };
  // A multi-valued field: the file stores its offsets (one-value fields leave them out).
  const field = (catalog) => catalog.features.fields.find((f) => f.offsets);
  variant("bad-offsets", { catalog: (c) => { const f = field(c); f.offsets[f.offsets.length - 1] = 1e6; } });
  variant("bad-decreasing", { catalog: (c) => { field(c).offsets[2] = 0; } });
  variant("bad-vocab", { catalog: (c) => { field(c).values[0] = field(c).vocab + 5; } });
  // A float tensor (not an 8-bit one or its scales, whose pairing is checked first) in BF16.
  const float = (h) => Object.keys(h).find((k) => k !== "__metadata__" && h[k].dtype !== "I8" && !/\.q8_scale(_max)?$/.test(k));
  variant("bad-bf16", { weights: (h) => { h[float(h)].dtype = "BF16"; } });
  variant("bad-edited", {});
  const edited = path.join(dir, "bad-edited", "manifest.json");
  fs.writeFileSync(edited, fs.readFileSync(edited, "utf8").replace(/"dataset": "([^"]*)"/, '"dataset": "$1 (edited)"'));
}

/**
 * In a describe block: a Chromium of `mode` with one page open on `site` (its NOTICE.txt, a page
 * of the site's origin that runs nothing), closed after the block. Returns a function that gives
 * the page.
 */
export function pageOn(site, mode) {
  let browser, page;
  before(async () => {
    browser = await launch(mode);
    page = await browser.newPage();
    await page.goto(`${site.url}NOTICE.txt`);
  });
  after(async () => { await browser?.close(); });
  return () => page;
}

export async function launch(mode) {
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
      "--disable-background-networking", "--disable-component-update", "--disable-sync",
      ...mode.flags,
    ],
  });
}

/** `tanp recommend` on the shipped bundle: the native reference for parity. */
export function nativeRecommend(ratings, top = 10, profile = null, minRatings = 0) {
  const arg = ratings.map((r) => `${r.item}:${r.rating}`).join(",");
  const extra = profile ? ["--profile", profile.join(",")] : [];
  if (minRatings) extra.push("--min-ratings", String(minRatings));
  const out = execFileSync(TANP, ["recommend", "--model", path.join(ROOT, "www/model"), "--ratings", arg, "--top", String(top), "--json", ...extra], { encoding: "utf8" });
  return JSON.parse(out);
}

/** Waits until the page's widget has loaded its model (or says why it could not). */
export async function ready(page) {
  await page.waitForFunction(() => {
    const s = document.querySelector("tanp-recommender")?.shadowRoot?.querySelector("[data-testid=status]");
    return s && /Ready|Recommendations for|Could not/.test(s.textContent);
  }, null, { timeout: 120_000 });
}

/** Waits for the widget's recommendations for `ratings` ratings; returns their ids and scores. */
export async function recommendations(page, ratings) {
  await page.waitForFunction((n) => {
    const root = document.querySelector("tanp-recommender").shadowRoot;
    return root.querySelector("[data-testid=status]").textContent.includes(`your ${n} rating(s)`)
      && root.querySelectorAll("[data-testid=recommendation]").length > 0;
  }, ratings, { timeout: 120_000 });
  return page.locator("[data-testid=recommendation]").evaluateAll((els) =>
    els.map((e) => ({ id: e.dataset.itemId, score: Number(e.dataset.score) })));
}

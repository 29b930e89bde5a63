// The widget on someone else's site: served from another origin (with CORS, as from a CDN), and
// every page under a strict Content-Security-Policy set by the test server (`tanp serve`).
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { MODES, launch, serveDir, serveSite } from "./harness.mjs";

const STRICT = "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self'; worker-src 'self'";

/** Records Content-Security-Policy violations and page errors from the start of each page. */
async function watch(context) {
  await context.addInitScript(() => {
    window.violations = [];
    document.addEventListener("securitypolicyviolation", (e) =>
      window.violations.push(`${e.violatedDirective} ${e.blockedURI}`));
  });
}

async function ready(page) {
  await page.waitForFunction(() => {
    const s = document.querySelector("tanp-recommender")?.shadowRoot?.querySelector("[data-testid=status]");
    return s && /Ready|Recommendations for|Could not/.test(s.textContent);
  }, null, { timeout: 120_000 });
  return page.evaluate(() => document.querySelector("tanp-recommender").shadowRoot
    .querySelector("[data-testid=status]").textContent);
}

/** Rates the first `n` starters and waits for the list; returns how many items it shows. */
async function rateAndList(page, n = 3) {
  await page.evaluate((n) => {
    const el = document.querySelector("tanp-recommender");
    const ids = [...el.shadowRoot.querySelectorAll("[data-testid=candidate]")].slice(0, n).map((r) => r.dataset.itemId);
    for (const id of ids) el.rate(id, 5);
  }, n);
  await page.waitForFunction((n) => document.querySelector("tanp-recommender").shadowRoot
    .querySelector("[data-testid=status]").textContent.includes(`your ${n} rating(s)`), n, { timeout: 120_000 });
  return page.evaluate(() => document.querySelector("tanp-recommender").shadowRoot
    .querySelectorAll("[data-testid=recommendation]").length);
}

const mode = MODES.find((m) => !m.webgpu);

describe("embedding, Chromium", () => {
  let browser;
  before(async () => { browser = await launch(mode); });
  after(async () => { await browser?.close(); });

  test("every page works under the strict policy the server sends", async () => {
    const site = await serveSite();
    try {
      const head = await fetch(site.url);
      assert.equal(head.headers.get("content-security-policy"), STRICT);
      assert.equal(head.headers.get("x-content-type-options"), "nosniff");
      for (const page of ["", "embed.html", "paper.html"]) {
        const context = await browser.newContext();
        await watch(context);
        const p = await context.newPage();
        const errors = [];
        p.on("pageerror", (e) => errors.push(e.message));
        await p.goto(site.url + page);
        assert.match(await ready(p), /Ready/, page);
        assert.ok(await rateAndList(p) > 0, page);
        // The widget's styles and the heatmap's colours are applied (no inline style was blocked).
        const styled = await p.evaluate(() => {
          const root = document.querySelector("tanp-recommender").shadowRoot;
          const bar = getComputedStyle(root.querySelector(".bar"));
          const cell = getComputedStyle(root.querySelector("[data-testid=heatmap-cell]"));
          const meter = getComputedStyle(root.querySelector(".meter i"));
          return { border: bar.borderTopStyle, cell: cell.backgroundColor, meter: meter.width };
        });
        assert.equal(styled.border, "solid", page);
        assert.notEqual(styled.cell, "rgba(0, 0, 0, 0)", page);
        assert.notEqual(styled.meter, "0px", page);
        if (page === "paper.html") {
          await p.waitForSelector("[data-testid=fig4-cell]");
        }
        assert.deepEqual(await p.evaluate(() => window.violations), [], `${page || "index.html"}: CSP violations`);
        assert.deepEqual(errors, [], page);
        await context.close();
      }
    } finally {
      site.close();
    }
  });

  test("the widget, its worker, the wasm and the model from another origin", async () => {
    const assets = await serveSite(["--cors"]);
    const hostDir = fs.mkdtempSync(path.join(os.tmpdir(), "tanp-host-"));
    const b = assets.url.replace(/\/$/, "");
    fs.writeFileSync(path.join(hostDir, "index.html"), `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>A site on another origin</title>
<script type="module" src="${b}/tanp-recommender.js"></script>
</head>
<body><h1>Someone else's site</h1><tanp-recommender model="${b}/model/" top="5"></tanp-recommender></body></html>`);
    // The host's own policy allows the asset origin, as an embedder's CSP would: scripts, the
    // worker's module graph (a blob shim, then worker.js and its static imports), fetches.
    const policy = `default-src 'self'; script-src 'self' ${b} 'wasm-unsafe-eval'; style-src 'self'; `
      + `worker-src 'self' blob: ${b}; connect-src 'self' ${b}`;
    const host = await serveDir(hostDir, ["--csp", policy]);
    try {
      assert.notEqual(new URL(host.url).origin, new URL(assets.url).origin);
      const context = await browser.newContext();
      await watch(context);
      const page = await context.newPage();
      const errors = [];
      page.on("pageerror", (e) => errors.push(e.message));
      const fromAssets = [];
      context.on("request", (r) => { if (r.url().startsWith(b)) fromAssets.push(new URL(r.url()).pathname); });
      await page.goto(host.url);
      assert.match(await ready(page), /Ready/);
      assert.equal(await rateAndList(page), 5);
      for (const file of ["/tanp-recommender.js", "/widget/worker-client.js", "/worker.js", "/pkg/index.js", "/pkg/tanp_bg.wasm",
        "/model/manifest.json", "/model/weights.safetensors"]) {
        assert.ok(fromAssets.includes(file), `${file} from the asset origin: ${fromAssets.join(", ")}`);
      }
      assert.deepEqual(await page.evaluate(() => window.violations), []);
      assert.deepEqual(errors, []);
      await context.close();
    } finally {
      host.close();
      assets.close();
      fs.rmSync(hostDir, { recursive: true, force: true });
    }
  });
});

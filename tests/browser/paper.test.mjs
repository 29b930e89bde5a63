// www/paper.html in headless Chromium: the tables and figures render from the committed
// results, and the live Figure 2 walk-through follows the visitor's ratings.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { MODES, ROOT, launch, serveSite } from "./harness.mjs";
import { buildPaperData } from "../../scripts/paper-data.mjs";

const data = JSON.parse(fs.readFileSync(path.join(ROOT, "www/paper/data.json"), "utf8"));
const manifest = JSON.parse(fs.readFileSync(path.join(ROOT, "www/model/manifest.json"), "utf8"));

test("www/paper/data.json is what scripts/paper-data.mjs makes of results/", () => {
  assert.deepEqual(JSON.parse(JSON.stringify(buildPaperData())), data,
    "stale: run node scripts/paper-data.mjs and commit www/paper/data.json");
});

const site = await serveSite();
after(() => site.close());

describe("paper page, Chromium without WebGPU", () => {
  let browser;
  let page;
  const errors = [];
  before(async () => {
    browser = await launch(MODES.find((m) => !m.webgpu));
    page = await browser.newPage();
    page.on("pageerror", (e) => errors.push(e.message));
    await page.goto(`${site.url}paper.html`);
    await page.waitForSelector("[data-testid=paper-status][data-ready]", { timeout: 60_000 });
  });
  after(async () => { await browser?.close(); });

  test("tables 3-5: one row per method, filled where results exist", async () => {
    for (const t of data.tables) {
      const table = page.locator(`[data-testid=results-table][data-dataset="${t.id}"]`);
      assert.equal(await table.locator("[data-testid=result-row]").count(), t.rows.length);
      const filled = t.rows.filter((r) => r.ours).length;
      assert.equal(await table.locator("[data-testid=result-row]:not([data-missing])").count(), filled, t.id);
      // The paper's value and our difference sit under each of our numbers that has one.
      const withPaper = t.rows.filter((r) => r.ours && r.paper_values).length;
      assert.equal(await table.locator("td .paper").count(), withPaper * data.columns.length);
    }
  });

  test("figures 3, 4 and 5: one mark per result", async () => {
    const fig3 = data.figure3.flatMap((d) => d.series.flatMap((s) => s.points)).filter((p) => p.value !== null).length;
    assert.equal(await page.locator("[data-testid=fig3-mark]").count(), fig3);
    assert.equal(await page.locator("[data-testid=figure3]").count(), 3);
    assert.equal(await page.locator("[data-testid=fig4-cell]").count(), manifest.training_clusters.length * manifest.config.k);
    const fig4l = data.figure4_lambda.lambdas.reduce((n, l) => n + l.tasks.reduce((m, t) => m + t.clusters.length, 0), 0);
    assert.ok(fig4l > 0);
    assert.equal(await page.locator("[data-testid=fig4l-cell]").count(), fig4l);
    assert.equal(await page.locator("[data-testid=figure4-lambda]").count(), data.figure4_lambda.lambdas.length);
    const fig5 = ["lambda", "k"].flatMap((key) => data.figure5[key]).filter((p) => p.metrics).length * 3;
    assert.equal(await page.locator("[data-testid=fig5-mark]").count(), fig5);
    assert.equal(await page.locator("[data-testid=figure5]").count(), 2);
  });

  test("the catalog protocol: one row per method and table, one cell per support size", async () => {
    assert.ok(data.catalog.length >= 1, "catalog results exist");
    for (const t of data.catalog) {
      const filters = [...new Set(t.methods[0].rows.map((r) => r.min_ratings))];
      const tables = page.locator(`[data-testid=catalog-table][data-dataset="${t.dataset}"]`);
      assert.equal(await tables.count(), filters.length, t.dataset);
      assert.equal(await tables.locator("[data-testid=catalog-row]").count(), filters.length * t.methods.length);
      const sizes = new Set(t.methods[0].rows.map((r) => r.n_s)).size;
      assert.equal(await tables.locator("[data-testid=catalog-cell]").count(), filters.length * t.methods.length * sizes);
    }
  });

  test("learning curves: two lines and two kept-epoch marks per run that has a curve", async () => {
    assert.ok(data.curves.length > 0, "no results file carries a learning curve");
    assert.equal(await page.locator("[data-testid=curve-line]").count(), 2 * data.curves.length);
    const kept = data.curves.filter((c) => c.best_epoch).length;
    assert.equal(await page.locator("[data-testid=curve-best]").count(), 2 * kept);
    const datasets = new Set(data.curves.map((c) => c.dataset)).size;
    assert.equal(await page.locator("[data-testid=curves]").count(), 2 * datasets);
    // The kept epoch's mark shows that run's validation score at that epoch.
    const first = data.curves[0];
    const marks = page.locator(`[data-testid=curves][data-dataset="${first.dataset}"] [data-testid=curve-best]`);
    const values = await marks.evaluateAll((els) => els.map((e) => Number(e.dataset.value)));
    assert.ok(values.includes(first.valid[first.best_epoch - 1]), `${values} lacks ${first.valid[first.best_epoch - 1]}`);
  });

  test("support-set ablation: one row per ablated method, own and swapped values from the results", async () => {
    const rows = data.support_ablation.rows;
    assert.ok(rows.length > 0, "no results file carries the support-set ablation");
    assert.equal(await page.locator("[data-testid=ablation-row]").count(), rows.length);
    const first = page.locator("[data-testid=ablation-row]").first();
    const cells = await first.locator("td").allTextContents();
    // dataset, model, seeds, then own / swapped per column.
    assert.equal(cells.length, 3 + 2 * data.support_ablation.columns.length);
    assert.equal(cells[3], rows[0].own[0].toFixed(2));
    assert.ok(cells[4].startsWith(rows[0].swapped[0].toFixed(2)), cells[4]);
  });

  test("the live Figure 2 walk-through follows the ratings", async () => {
    const walkRatings = () => page.locator("[data-testid=walk-status]").getAttribute("data-ratings");
    const candidates = page.locator("[data-testid=candidate]");
    for (const [i, stars] of [[0, 5], [1, 2]]) await candidates.nth(i).locator(`[data-stars="${stars}"]`).click();
    await page.waitForFunction(() => document.querySelector("[data-testid=walk-status]").dataset.ratings === "2", null, { timeout: 60_000 });
    const steps = await page.locator("[data-testid=fig2-step]").evaluateAll((es) => es.map((e) => e.dataset.step));
    assert.deepEqual(steps, ["encodings", "prior", "task", "clusters", "final", "film", "scores"]);
    const cfg = manifest.config;
    assert.equal(await page.locator("[data-testid=fig2-encoding]").count(), 2 * cfg.r_dim);
    assert.equal(await page.locator("[data-testid=fig2-mu]").count(), cfg.z_dim);
    assert.equal(await page.locator("[data-testid=fig2-cluster]").count(), cfg.k);
    const film = cfg.decoder_hidden.reduce((a, b) => a + 2 * b, 0);
    assert.equal(await page.locator("[data-testid=fig2-film]").count(), film);
    assert.equal(await page.locator("[data-testid=fig2-score]").count(), 8);
    const values = (id) => page.locator(`[data-testid=${id}]`).evaluateAll((es) => es.map((e) => Number(e.dataset.value)));
    const clusters = await values("fig2-cluster");
    assert.ok(Math.abs(clusters.reduce((a, b) => a + b, 0) - 1) < 1e-3);
    const task = [...await values("fig2-cluster"), ...await values("fig2-film")];

    await candidates.nth(2).locator('[data-stars="4"]').click();
    await page.waitForFunction(() => document.querySelector("[data-testid=walk-status]").dataset.ratings === "3", null, { timeout: 60_000 });
    assert.equal(await walkRatings(), "3");
    assert.equal(await page.locator("[data-testid=fig2-encoding]").count(), 3 * cfg.r_dim);
    // The task identity (c_i and FiLM's gamma, beta) follows the support set. (The shipped catalog
    // model's prior mean mu does not: its latent path is unused, README.)
    const task3 = [...await values("fig2-cluster"), ...await values("fig2-film")];
    assert.ok(task3.some((v, i) => Math.abs(v - task[i]) > 1e-6), "the task identity moves with the ratings");

    await page.locator("tanp-recommender").locator("button", { hasText: "Clear" }).click();
    await page.waitForFunction(() => document.querySelectorAll("[data-testid=fig2-step]").length === 0, null, { timeout: 60_000 });
    assert.deepEqual(errors, []);
  });
});

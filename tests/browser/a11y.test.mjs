// Accessibility: axe-core (from npm) on the demo, embed and paper pages, with the widget loaded
// and rated, finds no serious or critical violation; the widget's star groups carry their
// film's name and take Home/End; its heatmap's values exist as text.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import path from "node:path";
import { MODES, ROOT, launch, serveSite } from "./harness.mjs";

const AXE = path.join(ROOT, "node_modules/axe-core/axe.min.js");
const site = await serveSite();
after(() => site.close());

async function ready(page) {
  await page.waitForFunction(() => {
    const s = document.querySelector("tanp-recommender")?.shadowRoot?.querySelector("[data-testid=status]");
    return s && /Ready|Recommendations for|Could not/.test(s.textContent);
  }, null, { timeout: 120_000 });
}

describe("accessibility, Chromium", () => {
  let browser, context;
  before(async () => {
    browser = await launch(MODES.find((m) => !m.webgpu));
    // axe is injected as a script of its own, which the pages' strict policy would block.
    context = await browser.newContext({ bypassCSP: true });
  });
  after(async () => { await browser?.close(); });

  for (const page of ["", "embed.html", "paper.html"]) {
    test(`axe finds no serious or critical violation on ${page || "index.html"}`, async () => {
      const p = await context.newPage();
      await p.goto(site.url + page);
      await ready(p);
      // Rate two films so that every part of the widget is on screen.
      await p.evaluate(() => {
        const el = document.querySelector("tanp-recommender");
        const ids = [...el.shadowRoot.querySelectorAll("[data-testid=candidate]")].slice(0, 2).map((r) => r.dataset.itemId);
        for (const id of ids) el.rate(id, 4);
      });
      await p.waitForFunction(() => document.querySelector("tanp-recommender").shadowRoot
        .querySelectorAll("[data-testid=recommendation]").length > 0, null, { timeout: 120_000 });
      await p.addScriptTag({ path: AXE });
      const result = await p.evaluate(async () => {
        const r = await window.axe.run(document, { resultTypes: ["violations"] });
        return r.violations.filter((v) => v.impact === "serious" || v.impact === "critical")
          .map((v) => `${v.id} (${v.impact}): ${v.nodes.slice(0, 3).map((n) => n.target.join(" ")).join(" | ")}`);
      });
      assert.deepEqual(result, [], result.join("\n"));
      await p.close();
    });
  }

  test("star groups are named with their film, take Home/End, and the heatmap reads as text", async () => {
    const p = await context.newPage();
    await p.goto(site.url);
    await ready(p);
    const out = await p.evaluate(() => {
      const root = document.querySelector("tanp-recommender").shadowRoot;
      const row = root.querySelector("[data-testid=candidate]");
      const title = row.querySelector(".title").textContent.trim();
      const group = row.querySelector("[role=radiogroup]");
      const star = row.querySelector("[data-stars]");
      const box = star.getBoundingClientRect();
      return { title, name: group.getAttribute("aria-label"), size: [box.width, box.height], id: row.dataset.itemId };
    });
    assert.ok(out.name.includes(out.title), `${out.name} names ${out.title}`);
    assert.ok(out.size[0] >= 24 && out.size[1] >= 24, `a star is ${out.size.join(" x ")} px`);
    // Every button and input of the widget is a target of at least 24 x 24 px.
    const small = await p.evaluate(() => [...document.querySelector("tanp-recommender").shadowRoot
      .querySelectorAll("button, input, select, summary")].filter((b) => b.offsetParent !== null)
      .map((b) => [b.getAttribute("aria-label") ?? b.textContent.trim(), b.getBoundingClientRect()])
      .filter(([, r]) => r.width < 24 || r.height < 24).map(([n, r]) => `${n}: ${r.width} x ${r.height}`));
    assert.deepEqual(small, []);
    // End rates 5 stars, Home 1 star.
    const star = p.locator(`[data-testid=candidate][data-item-id="${out.id}"] [data-stars="1"]`);
    await star.focus();
    await p.keyboard.press("End");
    assert.equal(await p.evaluate((id) => document.querySelector("tanp-recommender").ratings.find((r) => r.item === id)?.rating, out.id), 5);
    await p.keyboard.press("Home");
    assert.equal(await p.evaluate((id) => document.querySelector("tanp-recommender").ratings.find((r) => r.item === id)?.rating, out.id), 1);
    await p.waitForFunction(() => document.querySelector("tanp-recommender").shadowRoot
      .querySelectorAll("[data-testid=recommendation]").length > 0, null, { timeout: 120_000 });
    const table = await p.evaluate(() => {
      const t = document.querySelector("tanp-recommender").shadowRoot.querySelector("[data-testid=heatmap-table]");
      return t ? [...t.querySelectorAll("tr")].map((tr) => tr.textContent.replace(/\s+/g, " ").trim()) : null;
    });
    assert.ok(table && table.length >= 2, "a table of the heatmap's values");
    assert.match(table[1], /^You\s*[\d.]+%/);
    await p.close();
  });
});

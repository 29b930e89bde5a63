// Your own catalog, end to end: the four commands of the README's "Your own catalog" (a CSV of
// interactions and one of items, written here by `tanp synth`; `tanp train --dataset csv`;
// `tanp export`; the widget on a page) and recommendations in Chromium that follow the visitor,
// with the items' images and links, and no image when the page turns them off.
import { after, test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { MODES, ROOT, TANP, launch, ready, recommendations, serveDir } from "./harness.mjs";

const scratch = fs.mkdtempSync(path.join(os.tmpdir(), "tanp-own-"));
after(() => fs.rmSync(scratch, { recursive: true, force: true }));

test("a CSV of interactions -> train -> export -> the widget recommends the visitor's kind of item", async () => {
  const data = path.join(scratch, "data");
  const run = path.join(scratch, "run");
  const site = path.join(scratch, "site");
  const tanp = (...args) => execFileSync(TANP, args, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
  tanp("synth", "--out", data, "--users", "500", "--items", "240", "--genres", "6", "--urls", "--seed", "3");
  tanp("train", "--dataset", "csv", "--interactions", path.join(data, "interactions.csv"),
    "--items", path.join(data, "items.csv"), "--epochs", "8", "--out", run, "--quiet");
  fs.cpSync(path.join(ROOT, "www"), site, { recursive: true, filter: (p) => !p.includes(`${path.sep}model`) });
  tanp("export", "--model", run, "--out", path.join(site, "model"));
  const catalog = JSON.parse(fs.readFileSync(path.join(site, "model", "catalog.json"), "utf8")).items;
  assert.equal(catalog.length, 240);
  assert.match(catalog[0].image, /^https:\/\/example\.com\/img\/0\.png$/);

  const server = await serveDir(site);
  const browser = await launch(MODES.find((m) => !m.webgpu));
  try {
    const kindOf = new Map(catalog.map((it) => [it.id, it.genres[0]]));
    for (const kind of ["kind 2", "kind 5"]) {
      const context = await browser.newContext();
      const page = await context.newPage();
      await page.goto(server.url);
      await ready(page);
      const mine = catalog.filter((it) => it.genres[0] === kind).slice(0, 5).map((it) => it.id);
      await page.evaluate((ids) => {
        const el = document.querySelector("tanp-recommender");
        el.minRatings = 1;
        for (const id of ids) el.rate(id, 5);
      }, mine);
      const recs = await recommendations(page, 5);
      const own = recs.filter((r) => kindOf.get(r.id) === kind).length;
      assert.ok(own >= 6, `${kind}: ${own} of ${recs.length} of that kind (${recs.map((r) => kindOf.get(r.id))})`);
      const media = await page.locator("[data-testid=recommendation]").evaluateAll((els) => els.map((e) => ({
        img: e.querySelector("img")?.getAttribute("src") ?? null,
        link: e.querySelector("a.title")?.getAttribute("href") ?? null,
      })));
      for (const [i, m] of media.entries()) {
        const n = recs[i].id.slice(1);
        assert.equal(m.img, `https://example.com/img/${n}.png`);
        assert.equal(m.link, `https://example.com/item/${n}`);
      }
      // images="off": no image, and so no request for one; the links stay.
      await page.evaluate(() => { document.querySelector("tanp-recommender").images = false; });
      const imgs = await page.locator("[data-testid=recommendation] img").count();
      assert.equal(imgs, 0);
      assert.equal(await page.locator("tanp-recommender").getAttribute("images"), "off");
      await context.close();
    }
  } finally {
    await browser.close();
    server.close();
  }
});

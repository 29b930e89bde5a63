// The package's JS API: every bad input rejects its Promise with a readable message.
import { after, describe, test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { MODES, ROOT, pageOn, serveSite } from "./harness.mjs";

/** The shipped model's number of clusters. */
const K = JSON.parse(fs.readFileSync(path.join(ROOT, "www/model/manifest.json"), "utf8")).config.k;

// These tests run their code in the page with eval(), which the strict policy forbids: the
// API is tested here, the policy in embedding.test.mjs.
const site = await serveSite(["--csp", "none"]);
after(() => site.close());

/** Runs `body(Recommender)` in the page; returns its value or `{ error: message }`. */
async function inPage(page, body, arg) {
  return page.evaluate(async ([src, arg]) => {
    const { Recommender } = await import("/pkg/index.js");
    try {
      return await (0, eval)(`(${src})`)(Recommender, arg);
    } catch (e) {
      return { error: e instanceof Error ? e.message : `not an Error: ${String(e)}` };
    }
  }, [body.toString(), arg]);
}

for (const mode of MODES) {
  describe(`Recommender API, Chromium ${mode.name}`, () => {
    const page = pageOn(site, mode);

    const backends = mode.webgpu ? ["cpu", "webgpu"] : ["cpu"];
    for (const backend of backends) {
      test(`bad requests are rejected with a message (${backend})`, async () => {
        const results = await inPage(page(), async (Recommender, backend) => {
          const r = await Recommender.load("/model/", { backend });
          const catalog = r.catalog();
          const a = catalog[0].id, b = catalog[1].id;
          const attempt = async (request) => {
            try {
              await r.recommend(request);
              return "accepted";
            } catch (e) {
              return e instanceof Error ? e.message : `not an Error: ${String(e)}`;
            }
          };
          const many = catalog.slice(0, 201).map((c) => ({ item: c.id, rating: 3 }));
          const out = {
            backend: r.backend,
            unknown: await attempt({ ratings: [{ item: "no-such-movie", rating: 4 }] }),
            high: await attempt({ ratings: [{ item: a, rating: 6 }] }),
            low: await attempt({ ratings: [{ item: a, rating: 0 }] }),
            nan: await attempt({ ratings: [{ item: a, rating: NaN }] }),
            text: await attempt({ ratings: [{ item: a, rating: "five" }] }),
            empty: await attempt({ ratings: [] }),
            long: await attempt({ ratings: many }),
            twice: await attempt({ ratings: [{ item: a, rating: 4 }, { item: a, rating: 2 }] }),
            top: await attempt({ ratings: [{ item: a, rating: 4 }], top: 0 }),
            shape: await attempt({ ratings: "lots" }),
            field: await attempt({ ratings: [{ movie: a, rating: 4 }] }),
            minNegative: await attempt({ ratings: [{ item: a, rating: 4 }], min_ratings: -1 }),
            minTooHigh: await attempt({ ratings: [{ item: a, rating: 4 }], min_ratings: 1e6 }),
          };
          const known = await r.recommend({ ratings: [{ item: a, rating: 5 }], top: 10, min_ratings: 100 });
          const count = new Map(catalog.map((c) => [c.id, c.ratings ?? 0]));
          out.wellKnown = known.items.every((it) => count.get(it.id) >= 100) && known.items.length === 10;
          const explainError = async (request) => {
            try {
              await r.explain(request);
              return "accepted";
            } catch (e) {
              return e instanceof Error ? e.message : `not an Error: ${String(e)}`;
            }
          };
          out.explainUnknown = await explainError({ ratings: [{ item: "no-such-movie", rating: 4 }] });
          out.explainEmpty = await explainError({ ratings: [] });
          out.explainShape = await explainError({});
          const e = await r.explain({ ratings: [{ item: a, rating: 5 }, { item: b, rating: 2 }] });
          out.explained = { support: e.support.length, encodings: e.encodings.length, clusters: e.clusters.length, film: e.film.length };
          const ok = await r.recommend({ ratings: [{ item: a, rating: 5 }, { item: Number(b), rating: 1 }], top: 3 });
          out.after = { items: ok.items.length, clusters: ok.clusters.length, ms: typeof ok.ms };
          return out;
        }, backend);
        assert.equal(results.backend, backend);
        assert.match(results.unknown, /unknown item id no-such-movie/);
        assert.match(results.high, /out of range.*\[1, 5\]/);
        assert.match(results.low, /out of range/);
        assert.match(results.nan, /out of range/);
        assert.match(results.text, /invalid request/);
        assert.match(results.empty, /empty/);
        assert.match(results.long, /at most 200/);
        assert.match(results.twice, /rated twice/);
        assert.match(results.top, /top must be between 1 and/);
        assert.match(results.shape, /ratings must be an array/);
        assert.match(results.field, /invalid request/);
        assert.match(results.minNegative, /invalid request/);
        assert.match(results.explainUnknown, /unknown item id no-such-movie/);
        assert.match(results.explainEmpty, /empty/);
        assert.match(results.explainShape, /ratings must be an array/);
        assert.deepEqual(results.explained, { support: 2, encodings: 2, clusters: K, film: 3 });
        assert.match(results.minTooHigh, /no catalog item has at least 1000000 ratings/);
        assert.equal(results.wellKnown, true, "min_ratings keeps well-known items only");
        assert.deepEqual(results.after, { items: 3, clusters: K, ms: "number" }, "still works after errors");
      });
    }

    test("load reports its progress up to the total", async () => {
      const events = await inPage(page(), async (Recommender) => {
        const events = [];
        await Recommender.load("/model/", { backend: "cpu", onProgress: (p) => events.push(p) });
        return events;
      });
      assert.ok(events.length >= 3, `${events.length} progress events`);
      for (let i = 1; i < events.length; i++) assert.ok(events[i].loaded >= events[i - 1].loaded, "loaded never falls");
      const last = events.at(-1);
      assert.equal(last.loaded, last.total, "ends at the total");
      const bundle = ["manifest.json", "catalog.json", "weights.safetensors"]
        .reduce((n, f) => n + fs.statSync(path.join(ROOT, "www/model", f)).size, 0);
      assert.ok(last.total >= bundle, `${last.total} >= ${bundle}`);
      assert.ok(events.some((e) => e.file === "weights.safetensors"));
    });

    test("corrupt or mismatched bundles are rejected with a message", async () => {
      const load = (url, backend = "cpu") => inPage(page(), async (Recommender, [url, backend]) => {
        await Recommender.load(url, { backend });
        return { error: null };
      }, [url, backend]);
      assert.match((await load("/bad-checksum/")).error, /weights\.safetensors: checksum mismatch/);
      assert.match((await load("/bad-version/")).error, /expected version 1, found 99/);
      assert.match((await load("/bad-missing/")).error, /cannot fetch .*catalog\.json: HTTP 404/);
      assert.match((await load("/model/", "quantum")).error, /unknown backend "quantum"/);
      if (!mode.webgpu) assert.match((await load("/model/", "webgpu")).error, /WebGPU was requested but/);
    });
  });
}

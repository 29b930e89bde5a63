// Hostile input and faults in the browser: every case ends in a rejected Promise with a short,
// readable message, and the same page's model keeps answering afterwards.
import { after, describe, test } from "node:test";
import assert from "node:assert/strict";
import { MODES, pageOn, serveSite } from "./harness.mjs";

// These tests run their code in the page with eval(), which the strict policy forbids: the
// API is tested here, the policy in embedding.test.mjs.
const site = await serveSite(["--csp", "none"]);
after(() => site.close());

/** Runs `body(api, arg)` in the page with the package's exports; returns its value. */
async function inPage(page, body, arg) {
  return page.evaluate(async ([src, arg]) => {
    const api = await import("/pkg/index.js");
    return (0, eval)(`(${src})`)(api, arg);
  }, [body.toString(), arg]);
}

/** In the page: the message a call rejects with, or "accepted". */
const ATTEMPT = `async (call) => {
  try { await call(); return "accepted"; } catch (e) { return e instanceof Error ? e.message : "not an Error: " + String(e); }
}`;

for (const mode of MODES) {
  describe(`hostile input, Chromium ${mode.name}`, () => {
    const page = pageOn(site, mode);

    const backends = mode.webgpu ? ["cpu", "webgpu"] : ["cpu"];
    for (const backend of backends) {
      test(`hostile requests are rejected and the model keeps answering (${backend})`, async () => {
        const out = await inPage(page(), async ({ Recommender, wasmMemoryBytes }, [backend, attemptSrc]) => {
          const attempt = (0, eval)(`(${attemptSrc})`);
          const r = await Recommender.load("/model/", { backend });
          const a = r.catalog()[0].id;
          const good = { ratings: [{ item: a, rating: 5 }], top: 5 };
          let deep = 1;
          for (let i = 0; i < 100_000; i++) deep = { x: deep };
          let nested = 1;
          for (let i = 0; i < 1000; i++) nested = [nested];
          const throwing = { ratings: [{ get item() { throw new Error("getter says no"); }, rating: 5 }] };
          const proxy = new Proxy({}, { get() { throw new Error("trap says no"); }, ownKeys() { throw new Error("trap says no"); } });
          const memBefore = wasmMemoryBytes();
          const result = {
            deep: await attempt(() => r.recommend({ ratings: [{ item: deep, rating: 5 }] })),
            deepExplain: await attempt(() => r.explain({ ratings: [{ item: deep, rating: 5 }] })),
            nested: await attempt(() => r.recommend({ ratings: [{ item: nested, rating: 5 }] })),
            getter: await attempt(() => r.recommend(throwing)),
            proxy: await attempt(() => r.recommend(proxy)),
            proxyRating: await attempt(() => r.recommend({ ratings: [proxy] })),
            cycle: await attempt(() => { const c = { rating: 5 }; c.item = c; return r.recommend({ ratings: [c] }); }),
            bigint: await attempt(() => r.recommend({ ratings: [{ item: a, rating: 5n }] })),
            unknownField: await attempt(() => r.recommend({ ...good, evil: true })),
            unknownRatingField: await attempt(() => r.recommend({ ratings: [{ item: a, rating: 5, extra: 1 }] })),
            million: await attempt(() => r.recommend({ ratings: Array.from({ length: 1_000_000 }, (_, i) => ({ item: String(i), rating: 3 })) })),
            longId: await attempt(() => r.recommend({ ratings: [{ item: "x".repeat(1 << 20), rating: 5 }] })),
            mediumId: await attempt(() => r.recommend({ ratings: [{ item: "y".repeat(30_000), rating: 5 }] })),
            hugeNumber: await attempt(() => r.recommend({ ratings: [{ item: a, rating: 1e308 }] })),
            hugeId: await attempt(() => r.recommend({ ratings: [{ item: 1e308, rating: 5 }] })),
          };
          // A burst of throwing requests settles every Promise.
          const burst = await Promise.allSettled(Array.from({ length: 3000 }, () => r.recommend(throwing)));
          result.burstRejected = burst.filter((b) => b.status === "rejected").length;
          result.memGrowth = wasmMemoryBytes() - memBefore;
          const after = await r.recommend(good);
          result.after = after.items.length;
          return result;
        }, [backend, ATTEMPT]);
        const short = (m) => assert.ok(m.length < 600, `a bounded message, found ${m.length} characters`);
        for (const [name, message] of Object.entries(out)) {
          if (typeof message === "string") {
            assert.notEqual(message, "accepted", name);
            short(message);
          }
        }
        // 100,000 levels: JSON.stringify copes here and the text is over the cap (or it throws);
        // 1,000 levels fit the cap and meet the Rust parser's recursion limit.
        assert.match(out.deep, /invalid request: (it cannot be written as JSON|it is \d+ characters long)/);
        assert.match(out.nested, /invalid request: recursion limit exceeded/);
        assert.match(out.deepExplain, /invalid request/);
        assert.match(out.getter, /invalid request: getter says no/);
        assert.match(out.proxy, /invalid request: trap says no/);
        assert.match(out.proxyRating, /invalid request: trap says no/);
        assert.match(out.cycle, /cannot be written as JSON/);
        assert.match(out.bigint, /cannot be written as JSON/);
        assert.match(out.unknownField, /unknown field "evil"/);
        assert.match(out.unknownRatingField, /rating 0 has the unknown field "extra"/);
        assert.match(out.million, /it has 1000000 ratings, at most 200/);
        assert.match(out.longId, /at most 65536 are accepted/);
        assert.match(out.mediumId, /unknown item id y+…/);
        assert.match(out.hugeNumber, /rating 1e308 for item/);
        assert.match(out.hugeId, /unknown item id 1e308|unknown item id 1000/);
        assert.equal(out.burstRejected, 3000);
        assert.ok(out.memGrowth <= 4 << 20, `wasm memory grew by ${out.memGrowth} bytes`);
        assert.equal(out.after, 5, "the model still answers");
      });

      test(`a trap or a hang rejects the call in flight and the module restarts itself (${backend})`, async () => {
        const out = await inPage(page(), async ({ Recommender, __testFault }, backend) => {
          const r = await Recommender.load("/model/", { backend });
          const good = { ratings: [{ item: r.catalog()[0].id, rating: 5 }], top: 3 };
          const before = await r.recommend(good);
          const panic = await __testFault(backend, "panic");
          const afterPanic = await r.recommend(good);
          const hang = await __testFault(backend, "hang", 300);
          const afterHang = await r.recommend(good);
          const ids = (x) => x.items.map((it) => it.id).join(",");
          return { panic, hang, same: ids(before) === ids(afterPanic) && ids(before) === ids(afterHang) };
        }, backend);
        assert.match(out.panic, /the wasm module panicked: .*a test fault.*restarted/);
        assert.match(out.hang, /did not answer within 300 ms.*restarted/);
        assert.equal(out.same, true, "the restarted module gives the same recommendations");
      });
    }

    test("bundles that break an invariant behind valid checksums are rejected", async () => {
      const out = await inPage(page(), async ({ Recommender }, attemptSrc) => {
        const attempt = (0, eval)(`(${attemptSrc})`);
        const result = {};
        for (const name of ["bad-offsets", "bad-decreasing", "bad-vocab", "bad-bf16", "bad-edited"]) {
          result[name] = await attempt(() => Recommender.load(`/${name}/`, { backend: "cpu" }));
        }
        const r = await Recommender.load("/model/", { backend: "cpu" });
        result.after = (await r.recommend({ ratings: [{ item: r.catalog()[0].id, rating: 4 }] })).items.length;
        return result;
      }, ATTEMPT);
      assert.match(out["bad-offsets"], /catalog\.json: field .*: offsets end at 1000000/);
      assert.match(out["bad-decreasing"], /offsets decrease/);
      assert.match(out["bad-vocab"], /outside its vocabulary/);
      assert.match(out["bad-bf16"], /dtype BF16/);
      assert.match(out["bad-edited"], /manifest\.json: checksum mismatch/);
      assert.equal(out.after, 10);
    });
  });
}

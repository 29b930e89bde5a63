// The widget's custom-elements manifest and type declarations name every attribute, event,
// part and CSS custom property the widget's source uses (no browser needed).
import { test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { ROOT } from "./harness.mjs";

// The element and the modules it imports (styles, worker client, storage).
const source = ["www/tanp-recommender.js", ...fs.readdirSync(path.join(ROOT, "www/widget")).map((f) => `www/widget/${f}`)]
  .map((f) => fs.readFileSync(path.join(ROOT, f), "utf8")).join("\n");
const types = fs.readFileSync(path.join(ROOT, "www/tanp-recommender.d.ts"), "utf8");
const manifest = JSON.parse(fs.readFileSync(path.join(ROOT, "www/custom-elements.json"), "utf8"));
const element = manifest.modules[0].declarations.find((d) => d.tagName === "tanp-recommender");
const all = (re) => [...new Set([...source.matchAll(re)].map((m) => m[1]))].sort();
const names = (list) => list.map((x) => x.name).sort();

test("custom-elements.json and the types cover the widget's whole surface", () => {
  assert.deepEqual(names(element.attributes), all(/getAttribute\("([a-z-]+)"\)/g));
  assert.deepEqual(names(element.events), all(/#emit\("(tanp-[a-z]+)"/g));
  assert.deepEqual(names(element.cssParts), all(/part="([a-z0-9]+)"/g));
  assert.deepEqual(names(element.cssProperties), all(/var\((--tanp-[a-z-]+)/g));
  for (const event of names(element.events)) assert.ok(types.includes(`"${event}"`), `${event} in the types`);
  for (const prop of element.members.filter((m) => m.kind === "field").map((m) => m.name)) {
    assert.match(types, new RegExp(`\\b${prop}\\b`), `${prop} in the types`);
  }
});

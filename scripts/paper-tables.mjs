// Prints www/paper/data.json's Tables 3-5 as Markdown for the README: our mean ± std over seeds
// (percent, `paper` definitions) beside the paper's own row where it has one.
// Usage: node scripts/paper-tables.mjs
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const data = JSON.parse(fs.readFileSync(path.join(ROOT, "www/paper/data.json"), "utf8"));
const f = (v) => v.toFixed(2);
for (const t of data.tables) {
  console.log(`\n${t.table}, ${t.name} (N_S = 20, \`paper\` metrics, %, mean ± std over seeds)\n`);
  console.log(`| model | seeds | ${data.columns.join(" | ")} | train s |`);
  console.log(`|---|---|${data.columns.map(() => "---").join("|")}|---|`);
  for (const row of t.rows) {
    if (row.ours) {
      const o = row.ours.paper;
      const train = row.ours.runs.reduce((a, r) => a + (r.wall_seconds?.train ?? 0), 0) / row.ours.runs.length;
      console.log(`| ${row.name} | ${row.ours.runs.length} | ${o.mean.map((m, i) => `${f(m)} ± ${f(o.std[i])}`).join(" | ")} | ${train.toFixed(0)} |`);
    } else {
      console.log(`| ${row.name} | 0 | ${data.columns.map(() => "not run yet").join(" | ")} | |`);
    }
  }
  // The paper's rows, once each (the item-cluster rows compare with the same ones).
  const paperRows = new Map(t.rows.filter((r) => r.paper_values).map((r) => [r.paper, r.paper_values]));
  for (const [name, values] of paperRows) {
    console.log(`| paper: ${name} | | ${values.map(f).join(" | ")} | |`);
  }
}

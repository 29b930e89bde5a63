// Gathers everything www/paper.html shows into www/paper/data.json, from committed JSON only:
// results/experiments/<dataset>/<run>-seed<N>.json (scripts/experiments.sh), the paper's own
// numbers (results/paper/tables.json) and the shipped bundle's Figure 4 sample
// (www/model/manifest.json), and the learning curves TaNP results files carry. Every number keeps
// the command and commit that produced it.
// Usage: node scripts/paper-data.mjs [--check]   (--check: fail if data.json is stale)
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const COLUMNS = ["P@5", "NDCG@5", "MAP@5", "P@7", "NDCG@7", "MAP@7", "P@10", "NDCG@10", "MAP@10"];
const DATASETS = [
  { id: "ml-1m", name: "MovieLens-1M", table: "Table 3" },
  { id: "lastfm", name: "Last.FM", table: "Table 4" },
  { id: "gowalla", name: "Gowalla", table: "Table 5" },
];
/**
 * Our rows of Tables 3-5 and the paper's row each one compares with. The `clusters-` rows are
 * not in the paper: the same methods with co-occurrence item clusters as an item content field
 * (`--item-clusters`, scripts/experiments.sh clusters), only on the datasets without item contents.
 */
const CLUSTERED = ["lastfm", "gowalla"];
const METHODS = [
  { run: "popularity", name: "Popularity", short: "popularity", paper: null, script: "tables" },
  { run: "melu", name: "MeLU (first-order MAML)", short: "MeLU", paper: "MeLU", script: "tables" },
  { run: "tanp-plain", name: "TaNP (w/o tm)", paper: "TaNP (w/o tm)", script: "tables" },
  { run: "tanp-film", name: "TaNP (FiLM)", paper: "TaNP (FiLM)", script: "tables" },
  { run: "tanp-gating-film", name: "TaNP (Gating-FiLM)", short: "TaNP", paper: "TaNP (Gating-FiLM)", script: "tables" },
  { run: "clusters-melu", name: "MeLU + item clusters (not in the paper)", paper: "MeLU", script: "clusters", only: CLUSTERED },
  { run: "clusters-tanp-plain", name: "TaNP (w/o tm) + item clusters (not in the paper)", paper: "TaNP (w/o tm)", script: "clusters", only: CLUSTERED },
  { run: "clusters-tanp-film", name: "TaNP (FiLM) + item clusters (not in the paper)", paper: "TaNP (FiLM)", script: "clusters", only: CLUSTERED },
  { run: "clusters-tanp-gating-film", name: "TaNP (Gating-FiLM) + item clusters (not in the paper)", short: "TaNP + clusters", paper: "TaNP (Gating-FiLM)", script: "clusters", only: CLUSTERED },
  // Issue 17's protocol audit: the official code's history filter (N_S + query_size = 30 to 200
  // ratings) instead of the paper's stated 40-200, and the validation search on it.
  { run: "len30-popularity", dir: "results/audit", name: "Popularity, users with 30-200 ratings (the official code's filter)", paper: null, script: "audit", only: ["ml-1m"] },
  { run: "len30-tanp-gating-film", dir: "results/audit", name: "TaNP (Gating-FiLM), users with 30-200 ratings (the official code's filter)", paper: "TaNP (Gating-FiLM)", script: "audit", only: ["ml-1m"] },
  { run: "chosen", dir: "results/search", prefix: true, name: "TaNP (Gating-FiLM), 30-200 ratings, the recipe chosen on validation (scripts/ml1m-search.sh)", paper: "TaNP (Gating-FiLM)", script: "scripts/ml1m-search.sh grid; scripts/ml1m-search.sh combine; scripts/ml1m-search.sh chosen", only: ["ml-1m"] },
];
/** The methods whose rows a dataset's table has. */
const methodsOf = (dataset) => METHODS.filter((m) => !m.only || m.only.includes(dataset));

const readJson = (file) => JSON.parse(fs.readFileSync(file, "utf8"));
const mean = (xs) => xs.reduce((a, b) => a + b, 0) / xs.length;
const std = (xs) => (xs.length > 1 ? Math.sqrt(xs.reduce((a, x) => a + (x - mean(xs)) ** 2, 0) / (xs.length - 1)) : 0);

/**
 * Every run of one dataset: { "<run name>": [ { seed, file, ... } ] }, read once per dataset.
 * `best_epoch`, `curve` (the learning curve, TaNP runs) and `loss_kind` are for the curves only.
 */
const runsCache = new Map();
function runsOf(dataset, folder = "results/experiments") {
  const key = `${folder}/${dataset}`;
  if (!runsCache.has(key)) runsCache.set(key, readRuns(dataset, folder));
  return runsCache.get(key);
}

/** A method's runs: by its name, or (`prefix`) the one run name that starts with it. */
function runsOfMethod(dataset, m) {
  const runs = runsOf(dataset, m.dir);
  if (!m.prefix) return runs[m.run];
  const names = Object.keys(runs).filter((n) => n.startsWith(`${m.run}-`));
  return names.length === 1 ? runs[names[0]] : undefined;
}

function readRuns(dataset, folder) {
  const dir = path.join(ROOT, folder, dataset);
  const out = {};
  if (!fs.existsSync(dir)) return out;
  for (const f of fs.readdirSync(dir).sort()) {
    const m = /^(.*)-seed(\d+)\.json$/.exec(f);
    if (!m) continue;
    const r = readJson(path.join(dir, f));
    (out[m[1]] ??= []).push({
      seed: Number(m[2]),
      file: `${folder}/${dataset}/${f}`,
      command: r.command,
      commit: r.commit,
      wall_seconds: r.wall_seconds,
      paper: COLUMNS.map((c) => 100 * r.metrics.paper[c]),
      standard: COLUMNS.map((c) => 100 * r.metrics.standard[c]),
      test_users: r.metrics.test_users,
      // The same test users, each with another user's support set (`swap_supports`).
      swapped: r.metrics_swapped_support ? COLUMNS.map((c) => 100 * r.metrics_swapped_support.paper[c]) : null,
      best_epoch: r.best_epoch,
      curve: r.curve,
      // Eq. 17 (squared error) for ratings and under the official code; Eq. 18 (BCE) otherwise.
      loss_kind: r.model?.feedback === "implicit" && r.model?.fidelity !== "official-code" ? "BCE" : "MSE",
    });
  }
  return out;
}

/** Mean and std over seeds of each metric column, both definitions. */
function summary(runs) {
  const col = (family, i) => runs.map((r) => r[family][i]);
  return {
    seeds: runs.map((r) => r.seed),
    paper: { mean: COLUMNS.map((_, i) => mean(col("paper", i))), std: COLUMNS.map((_, i) => std(col("paper", i))) },
    standard: { mean: COLUMNS.map((_, i) => mean(col("standard", i))), std: COLUMNS.map((_, i) => std(col("standard", i))) },
    runs: runs.map(({ best_epoch, curve, loss_kind, swapped, ...r }) => r),
  };
}

/**
 * The support-set ablation (not in the paper): `paper` P@5, NDCG@5 and MAP@5 of each method
 * with the test users' own support sets and with another user's, mean over the seeds, for
 * every method whose results files all carry both; plus the shipped ML-1M model's evaluation.
 */
const ABLATION_COLUMNS = ["P@5", "NDCG@5", "MAP@5"];
function supportAblation() {
  const pick = (values) => ABLATION_COLUMNS.map((c) => values[COLUMNS.indexOf(c)]);
  const rows = DATASETS.flatMap((d) => methodsOf(d.id).flatMap((m) => {
    const runs = runsOfMethod(d.id, m) ?? [];
    if (!runs.length || runs.some((r) => !r.swapped)) return [];
    const avg = (key) => pick(COLUMNS.map((_, i) => mean(runs.map((r) => r[key][i]))));
    return [{ dataset: d.id, dataset_name: d.name, run: m.run, name: m.name, seeds: runs.length,
      own: avg("paper"), swapped: avg("swapped"), files: runs.map((r) => r.file) }];
  }));
  const own = path.join(ROOT, "results/ml1m/shipped-eval.json");
  const swapped = path.join(ROOT, "results/ml1m/shipped-eval-swap-support.json");
  if (fs.existsSync(own) && fs.existsSync(swapped)) {
    const [a, b] = [readJson(own), readJson(swapped)];
    rows.unshift({ dataset: "ml-1m", dataset_name: "MovieLens-1M", run: "shipped", name: "TaNP (Gating-FiLM), rating recipe (shipped until the catalog model)",
      seeds: 1, own: ABLATION_COLUMNS.map((c) => 100 * a.metrics.paper[c]),
      swapped: ABLATION_COLUMNS.map((c) => 100 * b.metrics.paper[c]),
      files: ["results/ml1m/shipped-eval.json", "results/ml1m/shipped-eval-swap-support.json"] });
  }
  return { columns: ABLATION_COLUMNS, rows };
}

/**
 * The catalog protocol (not in the paper; src/catalog/, scripts/catalog.sh): every method's
 * catalog metrics, mean over the splits of results/catalog/<dataset>/<method>-split<N>.json.
 */
const CATALOG_METHODS = [
  { method: "popularity", name: "Popularity" },
  { method: "item-knn", name: "Item-kNN (cosine)" },
  { method: "ease", name: "EASE (Steck, 2019)" },
  { method: "mult-dae", name: "Mult-DAE (Liang et al., 2018)" },
  { method: "tanp-rating", name: "TaNP (Gating-FiLM), the paper's rating objective (shipped first)" },
  { method: "tanp-mlp", name: "TaNP (Gating-FiLM), catalog recipe with the paper's decoder (shipped before)" },
  { method: "tanp", name: "TaNP (Gating-FiLM), catalog recipe: dot head, widths 192 (shipped)" },
  { method: "tanp-dot256", name: "TaNP (Gating-FiLM), catalog recipe: dot head, widths 256, every item field (probe)" },
];
const CATALOG_METRICS = ["recall_10", "ndcg_10", "recall_20", "ndcg_20", "coverage_10", "jaccard_10"];
function catalogTables() {
  return DATASETS.map((d) => d.id).flatMap((dataset) => {
    const dir = path.join(ROOT, "results/catalog", dataset);
    if (!fs.existsSync(dir)) return [];
    const methods = CATALOG_METHODS.flatMap((m) => {
      const files = fs.readdirSync(dir).filter((f) => f.startsWith(`${m.method}-split`) && f.endsWith(".json")).sort();
      if (!files.length) return [];
      const runs = files.map((f) => ({ file: `results/catalog/${dataset}/${f}`, ...readJson(path.join(dir, f)) }));
      const keys = runs[0].catalog.rows.map((r) => [r.n_s, r.min_ratings, r.swapped_support]);
      const rows = keys.map(([n_s, min_ratings, swapped]) => {
        const same = runs.map((r) => r.catalog.rows.find((x) => x.n_s === n_s && x.min_ratings === min_ratings && x.swapped_support === swapped));
        return { n_s, min_ratings, swapped, ...Object.fromEntries(CATALOG_METRICS.map((k) => [k, mean(same.map((x) => x[k]))])) };
      });
      return [{ ...m, splits: runs.map((r) => r.split_seed), files: runs.map((r) => r.file),
        commands: runs.map((r) => r.command), commits: runs.map((r) => r.commit),
        clusters: runs.map((r) => r.chosen?.clusters_n_s_10 ?? null).filter(Boolean), rows }];
    });
    return methods.length ? [{ dataset, name: DATASETS.find((d) => d.id === dataset).name, definitions: readJson(path.join(ROOT, methods[0].files[0])).catalog.definitions, methods }] : [];
  });
}

export function buildPaperData() {
  const paper = readJson(path.join(ROOT, "results/paper/tables.json"));
  const tables = DATASETS.map((d) => {
    return {
      ...d,
      rows: methodsOf(d.id).map(({ dir, prefix, ...m }) => ({
        ...m,
        ours: runsOfMethod(d.id, { dir, prefix, ...m }) ? summary(runsOfMethod(d.id, { dir, prefix, ...m })) : null,
        paper_values: m.paper ? paper.tables[d.id][m.paper] : null,
      })),
    };
  });
  // Figure 3: P@10 for N_S = 10, 15 and 20 (20 = the tables' seed-1 runs).
  const figure3 = DATASETS.map((d) => {
    const runs = runsOf(d.id);
    const pick = (name) => runs[name]?.find((r) => r.seed === 1) ?? null;
    return {
      dataset: d.id,
      name: d.name,
      series: ["popularity", "melu", "tanp-gating-film", ...(CLUSTERED.includes(d.id) ? ["clusters-tanp-gating-film"] : [])].map((run) => ({
        run,
        name: METHODS.find((m) => m.run === run).name,
        short: METHODS.find((m) => m.run === run).short,
        points: [10, 15, 20].map((ns) => {
          const r = pick(ns === 20 ? run : `ns${ns}-${run}`);
          return { n_s: ns, value: r ? r.paper[COLUMNS.indexOf("P@10")] : null, file: r?.file ?? null };
        }),
      })),
    };
  });
  // Figure 5: Last.FM, TaNP (FiLM), lambda and k.
  const lastfm = runsOf("lastfm");
  const sweep = (prefix, values) => values.map((v) => {
    const r = lastfm[`${prefix}${v}-tanp-film`]?.find((x) => x.seed === 1) ?? null;
    return { value: v, metrics: r ? Object.fromEntries(COLUMNS.map((c, i) => [c, r.paper[i]])) : null, file: r?.file ?? null };
  });
  const figure5 = {
    lambda: sweep("lambda", ["0.01", "0.05", "0.1", "0.5", "1.0"]),
    k: sweep("k", ["10", "20", "30", "40", "50"]),
  };
  // Figure 4: the shipped ML-1M model's sample of 10 training tasks.
  const manifest = readJson(path.join(ROOT, "www/model/manifest.json"));
  const figure4 = {
    source: "www/model/manifest.json",
    command: manifest.provenance?.command ?? null,
    commit: manifest.provenance?.commit ?? null,
    k: manifest.config.k,
    tasks: manifest.training_clusters,
  };
  // Figure 4 against lambda: the same 10 tasks under models trained with other lambdas.
  const byLambda = readJson(path.join(ROOT, "results/ml1m/figure4-lambda/clusters.json"));
  const figure4_lambda = {
    source: "results/ml1m/figure4-lambda/clusters.json",
    what: byLambda.what,
    lambdas: Object.entries(byLambda.by_lambda).map(([lambda, v]) => ({ lambda, run: v.run, tasks: v.training_clusters })),
  };
  // Learning curves: every TaNP run of the tables whose results file carries one.
  const round = (v) => Math.round(v * 1e4) / 1e4;
  const curves = DATASETS.flatMap((d) => methodsOf(d.id).filter((m) => m.run.includes("tanp")).flatMap((m) =>
    (runsOf(d.id)[m.run] ?? []).flatMap((r) => {
      if (!Array.isArray(r.curve) || !r.curve.length) return [];
      return [{
        dataset: d.id, dataset_name: d.name, run: m.run, name: m.name, seed: r.seed, file: r.file, commit: r.commit,
        best_epoch: r.best_epoch,
        loss_kind: r.loss_kind,
        loss: r.curve.map((e) => round(e.prediction_loss)),
        valid: r.curve.map((e) => round(e.valid_score)),
      }];
    })));
  return { columns: COLUMNS, paper_source: paper.source, tables, figure3, figure4, figure4_lambda, figure5, curves,
    support_ablation: supportAblation(), catalog: catalogTables() };
}

const OUT = path.join(ROOT, "www/paper/data.json");
if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const text = JSON.stringify(buildPaperData(), null, 1) + "\n";
  if (process.argv.includes("--check")) {
    const have = fs.existsSync(OUT) ? fs.readFileSync(OUT, "utf8") : "";
    if (have !== text) {
      console.error("www/paper/data.json is stale: run node scripts/paper-data.mjs");
      process.exit(1);
    }
  } else {
    fs.mkdirSync(path.dirname(OUT), { recursive: true });
    fs.writeFileSync(OUT, text);
    console.log(`wrote ${path.relative(ROOT, OUT)} (${text.length} bytes)`);
  }
}

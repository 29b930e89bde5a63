// www/paper.html: the paper's tables and figures from paper/data.json (built from the committed
// results/ by scripts/paper-data.mjs), and a live walk through Figure 2 for the visitor's
// ratings (the <tanp-recommender> widget's explain()). No external resources.
import "./tanp-recommender.js";

const $ = (ref) => document.querySelector(`[data-ref=${ref}]`);
const SVG = "http://www.w3.org/2000/svg";
const PALETTE = ["#3b5bdb", "#e8590c", "#2b8a3e", "#ae3ec9", "#1098ad"];

function svg(tag, attrs = {}, children = []) {
  const e = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) if (v !== undefined && v !== null) e.setAttribute(k, v);
  for (const c of [].concat(children)) if (c) e.append(c);
  return e;
}

function text(x, y, s, attrs = {}) {
  return svg("text", { x, y, ...attrs }, [document.createTextNode(s)]);
}

function html(tag, attrs = {}, children = []) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === "text") e.textContent = v;
    else if (k === "dataset") Object.assign(e.dataset, v);
    else if (v !== undefined && v !== null) e.setAttribute(k, v);
  }
  for (const c of [].concat(children)) if (c) e.append(c);
  return e;
}

function figure(testid, caption, body, attrs = {}) {
  return html("figure", { "data-testid": testid, ...attrs }, [body, html("figcaption", { text: caption })]);
}

/**
 * Accessible names for what was rendered under `root`: every chart (svg) becomes an image named
 * by its figure's caption (or the nearest heading) followed by its values (its marks' titles),
 * and every scrolling table wrapper a focusable, named region.
 */
function nameCharts(root = document) {
  const nearestHeading = (el) => {
    for (let e = el; e && e !== document.body; e = e.parentElement) {
      for (let p = e.previousElementSibling; p; p = p.previousElementSibling) {
        if (/^H[1-4]$/.test(p.tagName)) return p.textContent.trim();
      }
    }
    return "Chart";
  };
  for (const g of root.querySelectorAll("svg")) {
    if (g.dataset.named) continue;
    const caption = g.closest("figure")?.querySelector("figcaption")?.textContent.trim() ?? nearestHeading(g);
    const own = g.getAttribute("aria-label");
    const values = [...g.querySelectorAll("title")].map((t) => t.textContent.trim()).filter(Boolean);
    const shown = values.slice(0, 60).join("; ") + (values.length > 60 ? `; and ${values.length - 60} more` : "");
    g.setAttribute("role", "img");
    g.setAttribute("aria-label", `${own && own !== caption ? `${own}. ` : ""}${caption}${values.length ? ` Values: ${shown}` : ""}`);
    g.dataset.named = "";
  }
  for (const div of root.querySelectorAll(".scroll:not([tabindex])")) {
    div.setAttribute("tabindex", "0");
    div.setAttribute("role", "region");
    div.setAttribute("aria-label", nearestHeading(div.firstElementChild ?? div));
  }
}

const fmt = (v, d = 2) => (v === null || v === undefined || Number.isNaN(v) ? "–" : v.toFixed(d));

/** An empty chart: the title and five horizontal grid lines labelled with their values. */
function chartFrame({ title, width, height, pad, lo, hi, y, digits }) {
  const g = svg("svg", { width, height, viewBox: `0 0 ${width} ${height}`, role: "img", "aria-label": title });
  g.append(text(width / 2, 12, title, { "font-weight": 600, "text-anchor": "middle" }));
  for (let t = 0; t <= 4; t++) {
    const v = lo + (t / 4) * (hi - lo);
    g.append(svg("line", { x1: pad.l, x2: width - pad.r, y1: y(v), y2: y(v), stroke: "#eceef3" }));
    g.append(text(pad.l - 4, y(v) + 4, v.toFixed(digits), { "text-anchor": "end" }));
  }
  return g;
}

/** A line chart over categorical x values; every drawn point is a mark with `markId`. */
function lineChart({ title, xs, series, markId, width = 340, height = 220, yLabel, legendRows = Math.ceil(series.length / 3) }) {
  // The legend takes a row per three series (more when charts side by side must match).
  height += 14 * (legendRows - 1);
  const pad = { l: 42, r: 26, t: 22, b: 20 + 14 * legendRows };
  const values = series.flatMap((s) => s.points.map((p) => p.y)).filter((v) => v !== null);
  let lo = Math.min(...values), hi = Math.max(...values);
  if (!values.length) { lo = 0; hi = 1; }
  if (hi - lo < 1e-9) { lo -= 1; hi += 1; }
  const span = hi - lo;
  lo -= span * 0.1; hi += span * 0.1;
  const x = (i) => pad.l + (xs.length === 1 ? 0.5 : i / (xs.length - 1)) * (width - pad.l - pad.r);
  const y = (v) => height - pad.b - ((v - lo) / (hi - lo)) * (height - pad.t - pad.b);
  const g = chartFrame({ title, width, height, pad, lo, hi, y, digits: 1 });
  xs.forEach((label, i) => g.append(text(x(i), height - pad.b + 14, label, { "text-anchor": "middle" })));
  if (yLabel) g.append(text(4, pad.t - 4, yLabel, { fill: "#5c6475" }));
  series.forEach((s, si) => {
    const colour = PALETTE[si % PALETTE.length];
    const pts = s.points.map((p, i) => (p.y === null ? null : [x(i), y(p.y), p])).filter(Boolean);
    if (pts.length > 1) {
      g.append(svg("polyline", { points: pts.map(([a, b]) => `${a},${b}`).join(" "), fill: "none", stroke: colour, "stroke-width": 2 }));
    }
    for (const [a, b, p] of pts) {
      g.append(svg("circle", { cx: a, cy: b, r: 4, fill: colour, "data-testid": markId, "data-value": p.y },
        [svg("title", {}, [document.createTextNode(p.title ?? `${s.name}: ${fmt(p.y)}`)])]));
    }
    const [lx, ly] = [pad.l + 4 + (si % 3) * 100, height - 14 * (legendRows - Math.floor(si / 3))];
    g.append(svg("rect", { x: lx, y: ly, width: 10, height: 4, fill: colour }));
    g.append(text(lx + 14, ly + 5, s.short ?? s.name.replace(/ \(.*\)$/, "")));
  });
  return g;
}

/**
 * Rows of values as coloured cells: blue for positive, red for negative, by magnitude; or, with
 * `positive`, a light-to-dark ramp over the shown range (min to max), so that small differences
 * between probabilities stay visible.
 */
function heatRows({ rows, labels, markId, cell = 9, positive = false, width, range }) {
  const cols = Math.max(...rows.map((r) => r.length));
  const labelW = labels ? 64 : 0;
  const cw = width ? Math.max(2, Math.min(cell, (width - labelW) / cols)) : cell;
  const max = Math.max(1e-9, ...rows.flat().map(Math.abs));
  // `range`: a fixed [lo, hi] for the ramp instead of the shown one.
  const [lo, hi] = range ?? [Math.min(...rows.flat()), Math.max(...rows.flat())];
  const shade = (v) => (positive ? (hi - lo > 1e-12 ? (v - lo) / (hi - lo) : 1) : Math.abs(v) / max);
  const g = svg("svg", { width: labelW + cols * cw, height: rows.length * (cell + 2), role: "img" });
  rows.forEach((r, i) => {
    if (labels) g.append(text(0, i * (cell + 2) + cell - 1, labels[i]));
    r.forEach((v, j) => {
      const t = shade(v);
      const colour = positive || v >= 0 ? `rgba(59,91,219,${0.08 + 0.92 * t})` : `rgba(201,42,42,${0.08 + 0.92 * t})`;
      g.append(svg("rect", { x: labelW + j * cw, y: i * (cell + 2), width: Math.max(1, cw - 1), height: cell, fill: colour,
        "data-testid": markId, "data-value": v }, [svg("title", {}, [document.createTextNode(v.toFixed(4))])]));
    });
  });
  return g;
}

/** Vertical bars with optional ± whiskers. */
function bars({ values, errors, markId, height = 120, width = 320, zero = true }) {
  const lo = Math.min(zero ? 0 : Infinity, ...values.map((v, i) => v - (errors?.[i] ?? 0)));
  const hi = Math.max(zero ? 0 : -Infinity, ...values.map((v, i) => v + (errors?.[i] ?? 0)));
  const y = (v) => height - 14 - ((v - lo) / Math.max(1e-9, hi - lo)) * (height - 20);
  const bw = width / values.length;
  const g = svg("svg", { width, height, role: "img" });
  g.append(svg("line", { x1: 0, x2: width, y1: y(0), y2: y(0), stroke: "#adb5bd" }));
  values.forEach((v, i) => {
    const top = Math.min(y(v), y(0));
    g.append(svg("rect", { x: i * bw + 1, y: top, width: Math.max(1, bw - 2), height: Math.max(1, Math.abs(y(v) - y(0))),
      fill: "#3b5bdb", "data-testid": markId, "data-value": v }, [svg("title", {}, [document.createTextNode(
        errors ? `${v.toFixed(4)} ± ${errors[i].toFixed(4)}` : v.toFixed(4))])]));
    if (errors) {
      g.append(svg("line", { x1: i * bw + bw / 2, x2: i * bw + bw / 2, y1: y(v - errors[i]), y2: y(v + errors[i]), stroke: "#e8590c", "stroke-width": 1.5 }));
    }
  });
  if (values.length <= 20) values.forEach((_, i) => g.append(text(i * bw + bw / 2, height - 2, String(i + 1), { "text-anchor": "middle" })));
  return g;
}

// ---------------------------------------------------------------- tables 3-5

function renderTables(data, family) {
  const host = $("tables");
  host.replaceChildren();
  for (const t of data.tables) {
    const head = html("tr", {}, [html("th", { text: "model" }), ...data.columns.map((c) => html("th", { text: c }))]);
    const rows = t.rows.map((row) => {
      if (!row.ours) {
        return html("tr", { "data-testid": "result-row", "data-run": row.run, "data-missing": "" }, [
          html("td", { text: row.name }),
          html("td", { colspan: data.columns.length, class: "missing", text: `not run yet (${row.script?.startsWith("scripts/") ? row.script : `scripts/experiments.sh ${row.script ?? "tables"}`})` }),
        ]);
      }
      const ours = row.ours[family];
      const prov = row.ours.runs.map((r) => `seed ${r.seed}: ${r.file} (commit ${String(r.commit).slice(0, 10)})`).join("\n");
      const cells = data.columns.map((_, i) => {
        const td = html("td", { title: `${row.ours.runs.length} seed(s)\n${prov}` }, [
          document.createTextNode(`${fmt(ours.mean[i])} ± ${fmt(ours.std[i])}`)]);
        if (family === "paper" && row.paper_values) {
          const d = ours.mean[i] - row.paper_values[i];
          td.append(html("span", { class: "paper" }, [
            document.createTextNode(`paper ${fmt(row.paper_values[i])} `),
            html("span", { class: `diff ${d >= 0 ? "pos" : "neg"}`, text: `${d >= 0 ? "+" : ""}${fmt(d)}` }),
          ]));
        }
        return td;
      });
      return html("tr", { "data-testid": "result-row", "data-run": row.run, "data-seeds": row.ours.runs.length },
        [html("td", { text: `${row.name} (${row.ours.runs.length} seed${row.ours.runs.length > 1 ? "s" : ""})` }), ...cells]);
    });
    host.append(html("h3", { text: `${t.table}: ${t.name}` }), html("div", { class: "scroll" }, [
      html("table", { "data-testid": "results-table", "data-dataset": t.id }, [html("thead", {}, head), html("tbody", {}, rows)])]));
  }
}

// ---------------------------------------------------------------- figures 3, 4, 5

function renderFigure3(data) {
  const host = $("figure3");
  const legendRows = Math.max(...data.figure3.map((d) => Math.ceil(d.series.length / 3)));
  for (const d of data.figure3) {
    const series = d.series.map((s) => ({
      name: s.name,
      short: s.short,
      points: s.points.map((p) => ({ y: p.value, title: `${s.name}, N_S = ${p.n_s}: P@10 ${fmt(p.value)} (${p.file ?? "not run"})` })),
    }));
    host.append(figure("figure3", `${d.name}: P@10 against N_S.`, lineChart({
      title: d.name, xs: ["N_S=10", "N_S=15", "N_S=20"], series, markId: "fig3-mark", yLabel: "P@10 %", legendRows }), { "data-dataset": d.dataset }));
  }
}

function renderFigure4(data) {
  const f = data.figure4;
  const rows = f.tasks.map((t) => t.clusters);
  const labels = f.tasks.map((t, i) => `τ${i + 1} u${t.user}`);
  const chart = heatRows({ rows, labels, markId: "fig4-cell", cell: 22, positive: true, range: [0, 1] });
  chart.setAttribute("height", Number(chart.getAttribute("height")) + 18);
  chart.setAttribute("width", Math.max(Number(chart.getAttribute("width")), 440));
  chart.append(text(64, Number(chart.getAttribute("height")) - 4, "light = 0 %, dark = 100 % (absolute scale)"));
  const top = rows.map((r) => Math.max(...r));
  $("figure4").append(figure("figure4",
    `The shipped ML-1M model, TaNP (Gating-FiLM) with the catalog recipe (${f.source}; ${f.command ?? ""}): c_ij of 10 random ` +
    `training tasks over k = ${f.k} clusters, largest c_ij per task ${Math.min(...top).toFixed(2)}-${Math.max(...top).toFixed(2)}. ` +
    "Darker is larger. The catalog section below gives the distribution over all test users.", chart));
  // The same tasks under the same recipe with other lambdas (weights of the DEC loss), on one scale.
  const byLambda = data.figure4_lambda;
  const lambdas = [...byLambda.lambdas].sort((a, b) => Number(a.lambda) - Number(b.lambda));
  const row = html("div", { class: "charts" });
  for (const l of lambdas) {
    const rows = l.tasks.map((t) => t.clusters);
    const top = rows.map((r) => Math.max(...r));
    const chart = heatRows({ rows, markId: "fig4l-cell", cell: 12, positive: true, range: [0, 1] });
    row.append(figure("figure4-lambda",
      `λ = ${l.lambda}: largest c_ij ${Math.min(...top).toFixed(3)}-${Math.max(...top).toFixed(3)} (${l.run}).`, chart, { "data-lambda": l.lambda }));
  }
  $("figure4").after(html("p", { class: "muted" }, [
    `Below: the same 10 tasks for ML-1M models of the paper's rating recipe (the model shipped before the catalog one, k = 10) with λ = ${lambdas.map((l) => l.lambda).join(", ")}, ` +
    `on one scale, light = 0, dark = 1 (${byLambda.source}). There the assignments stay nearly uniform unless λ = 5, outside the paper's grid.`]), row);
}

function renderFigure5(data) {
  const metrics = ["P@5", "NDCG@5", "MAP@5"];
  for (const [key, label] of [["lambda", "λ"], ["k", "k"]]) {
    const points = data.figure5[key];
    const series = metrics.map((m) => ({
      name: m,
      points: points.map((p) => ({ y: p.metrics ? p.metrics[m] : null, title: `${label} = ${p.value}: ${m} ${fmt(p.metrics?.[m])} (${p.file ?? "not run"})` })),
    }));
    $("figure5").append(figure("figure5", `Last.FM, TaNP (FiLM), seed 1: ${label} varied, the rest at their defaults.`,
      lineChart({ title: `${label}`, xs: points.map((p) => p.value), series, markId: "fig5-mark", yLabel: "%" }), { "data-param": key }));
  }
}

// ---------------------------------------------------------------- learning curves

/**
 * One line per run of `key` ("loss" or "valid") against the epoch, coloured by variant, with a
 * mark at the epoch model selection kept.
 */
function curveChart({ title, runs, key, yLabel, width = 440, height = 230 }) {
  const pad = { l: 44, r: 14, t: 22, b: 46 };
  // The range leaves out the first epoch (an untrained model's loss would flatten the rest);
  // a value outside it is drawn at the edge.
  const values = runs.flatMap((r) => (r[key].length > 2 ? r[key].slice(1) : r[key]));
  const epochs = Math.max(...runs.map((r) => r[key].length));
  const lo = Math.min(...values), hi = Math.max(...values) + 1e-9;
  const x = (e) => pad.l + ((e - 1) / Math.max(epochs - 1, 1)) * (width - pad.l - pad.r);
  const y = (v) => height - pad.b - ((Math.min(Math.max(v, lo), hi) - lo) / (hi - lo)) * (height - pad.t - pad.b);
  const g = chartFrame({ title, width, height, pad, lo, hi, y, digits: 2 });
  for (const e of [1, Math.round(epochs / 2), epochs]) g.append(text(x(e), height - pad.b + 14, `${e}`, { "text-anchor": "middle" }));
  g.append(text((pad.l + width - pad.r) / 2, height - pad.b + 26, "epoch", { "text-anchor": "middle", fill: "#5c6475" }));
  g.append(text(4, pad.t - 4, yLabel, { fill: "#5c6475" }));
  // One colour per variant on every chart: w/o tm, FiLM, Gating-FiLM.
  const VARIANTS = ["tanp-plain", "tanp-film", "tanp-gating-film"];
  const variants = VARIANTS.filter((v) => runs.some((r) => r.run === v));
  const colour = (r) => PALETTE[VARIANTS.indexOf(r.run) % PALETTE.length];
  for (const r of runs) {
    const label = `${r.name}, seed ${r.seed} (${r.file})`;
    g.append(svg("polyline", { points: r[key].map((v, i) => `${x(i + 1)},${y(v)}`).join(" "), fill: "none",
      stroke: colour(r), "stroke-width": 1.5, opacity: 0.8, "data-testid": "curve-line" },
      [svg("title", {}, [document.createTextNode(label)])]));
    if (r.best_epoch) {
      const v = r[key][r.best_epoch - 1];
      g.append(svg("circle", { cx: x(r.best_epoch), cy: y(v), r: 4, fill: colour(r), stroke: "#fff", "data-testid": "curve-best", "data-value": v },
        [svg("title", {}, [document.createTextNode(`${label}: kept epoch ${r.best_epoch}, ${yLabel} ${v.toFixed(3)}`)])]));
    }
  }
  variants.forEach((run, i) => {
    g.append(svg("rect", { x: pad.l + i * 130, y: height - 8, width: 10, height: 4, fill: colour({ run }) }));
    g.append(text(pad.l + 14 + i * 130, height - 3, runs.find((r) => r.run === run).name));
  });
  return g;
}

function renderCurves(data) {
  for (const dataset of [...new Set(data.curves.map((c) => c.dataset))]) {
    const runs = data.curves.filter((c) => c.dataset === dataset);
    const name = runs[0].dataset_name;
    const kinds = [...new Set(runs.map((r) => r.loss_kind))].join("/");
    for (const [key, label] of [["loss", `prediction loss (${kinds})`], ["valid", "validation score"]]) {
      $("curves").append(figure("curves", `${name}: ${label} of every TaNP run per epoch; dots: the epoch model selection kept.`,
        curveChart({ title: `${name}, ${label}`, runs, key, yLabel: key === "loss" ? "loss" : "score" }), { "data-dataset": dataset }));
    }
  }
}

// ---------------------------------------------------------------- support-set ablation

function renderAblation(data) {
  const a = data.support_ablation;
  const head = html("tr", {}, [html("th", { text: "dataset" }), html("th", { text: "model" }), html("th", { text: "seeds" }),
    ...a.columns.flatMap((c) => [html("th", { text: `${c} own` }), html("th", { text: `${c} swapped` })])]);
  const rows = a.rows.map((r) => html("tr", { "data-testid": "ablation-row", "data-dataset": r.dataset, "data-run": r.run,
    title: r.files.join("\n") }, [
    html("td", { text: r.dataset_name }), html("td", { text: r.name, class: "left" }), html("td", { text: String(r.seeds) }),
    ...a.columns.flatMap((_, i) => {
      // Rounded first, so that a tiny negative difference shows as +0.00, not -0.00.
      const d = Math.round((r.swapped[i] - r.own[i]) * 100) / 100 || 0;
      return [html("td", { text: fmt(r.own[i]) }), html("td", {}, [document.createTextNode(`${fmt(r.swapped[i])} `),
        html("span", { class: "muted", text: `(${d >= 0 ? "+" : ""}${fmt(d)})` })])];
    })]));
  $("ablation").replaceChildren(a.rows.length
    ? html("div", { class: "scroll" }, [html("table", { "data-testid": "ablation-table" }, [html("thead", {}, head), html("tbody", {}, rows)])])
    : html("p", { class: "missing", text: "No results file carries the ablation yet (scripts/experiments.sh tables)." }));
}

// ---------------------------------------------------------------- catalog protocol

function renderCatalog(data) {
  const host = $("catalog");
  const tables = data.catalog ?? [];
  if (!tables.length) {
    host.replaceChildren(html("p", { class: "missing", text: "No catalog results yet (scripts/catalog.sh)." }));
    return;
  }
  const pct = (v) => (100 * v).toFixed(2);
  host.replaceChildren(...tables.flatMap((t) => {
    const sizes = [...new Set(t.methods[0].rows.map((r) => r.n_s))];
    const row = (m, n_s, min, swapped) => m.rows.find((r) => r.n_s === n_s && r.min_ratings === min && r.swapped === swapped);
    const table = (min) => {
      const head = html("tr", {}, [html("th", { text: "method" }), html("th", { text: "splits" }),
        ...sizes.map((n) => html("th", { text: `N_S = ${n}: Recall@10 / NDCG@10` })),
        html("th", { text: "N_S = 10 swapped: Recall@10" }), html("th", { text: "N_S = 10: Jaccard@10" }),
        html("th", { text: "N_S = 10: coverage@10" })]);
      const body = t.methods.map((m) => html("tr", { "data-testid": "catalog-row", "data-method": m.method,
        "data-filter": String(min), title: [...m.files, ...m.commands].join("\n") }, [
        html("td", { text: m.name, class: "left" }), html("td", { text: m.splits.join(", ") }),
        ...sizes.map((n) => {
          const r = row(m, n, min, false);
          return html("td", { "data-testid": "catalog-cell", "data-n-s": n, "data-value": r?.recall_10 ?? "",
            text: r ? `${pct(r.recall_10)} / ${pct(r.ndcg_10)}` : "–" });
        }),
        html("td", { text: row(m, 10, min, true) ? pct(row(m, 10, min, true).recall_10) : "–" }),
        html("td", { text: row(m, 10, min, false)?.jaccard_10.toFixed(3) ?? "–" }),
        html("td", { text: row(m, 10, min, false) ? pct(row(m, 10, min, false).coverage_10) : "–" })]));
      return html("div", { class: "scroll" }, [html("table", { "data-testid": "catalog-table", "data-filter": String(min),
        "data-dataset": t.dataset,
        "aria-label": `Catalog protocol, ${t.name ?? t.dataset}, ${min ? `well-known items (at least ${min} training ratings)` : "whole catalog"}` },
      [html("caption", { text: min ? `Well-known films only (at least ${min} training ratings; the widget's default)` : "The whole catalog" }),
        html("thead", {}, head), html("tbody", {}, body)])]);
    };
    const tanp = t.methods.find((m) => m.method === "tanp");
    const clusters = tanp?.clusters?.length
      ? html("p", { "data-testid": "catalog-clusters", text: `Figure 4 over the test users (N_S = 10, no demographics), per split: ` +
        tanp.clusters.map((c) => `median largest c_ij ${c.largest_quartiles[1].toFixed(2)} (quartiles ${c.largest_quartiles[0].toFixed(2)}–${c.largest_quartiles[2].toFixed(2)}), largest cluster ${(100 * c.largest_cluster_share).toFixed(0)} % of users`).join("; ") + "." })
      : null;
    const wellKnown = Math.max(...t.methods[0].rows.map((r) => r.min_ratings));
    return [html("h3", { text: t.name ?? t.dataset }), ...(wellKnown ? [table(wellKnown)] : []), table(0), clusters,
      html("p", { class: "muted", text: `Definitions: ${t.definitions}. Mean over splits; %; hover a row for its files and commands.` })];
  }));
}

// ---------------------------------------------------------------- figure 2, live

const widget = document.querySelector("tanp-recommender");
let latest = 0;

function step(id, title, caption, body) {
  return html("figure", { "data-testid": "fig2-step", "data-step": id }, [html("h3", { text: title }), body, html("figcaption", { text: caption })]);
}

async function renderWalk(result) {
  const ticket = ++latest;
  const host = document.querySelector("[data-testid=walkthrough]");
  const status = document.querySelector("[data-testid=walk-status]");
  let e;
  try {
    e = await widget.explain();
  } catch (err) {
    status.textContent = `Could not explain: ${err.message}`;
    return;
  }
  if (ticket !== latest) return;
  if (!e) {
    host.replaceChildren();
    status.textContent = "Rate a movie to see the walk-through.";
    delete status.dataset.ratings;
    return;
  }
  const titles = new Map((result?.items ?? []).map((it) => [it.id, it.title]));
  const short = (id) => { const t = widget.itemTitle(id) ?? titles.get(id) ?? id; return t.length > 9 ? t.slice(0, 8) + "…" : t; };
  const steps = [
    step("encodings", "1. Support encodings r_j (Eq. 7)",
      `h_θ([u | v_j | y_j]) for each of your ${e.encodings.length} ratings, ${e.encodings[0]?.length ?? 0} numbers each (blue > 0, red < 0).`,
      heatRows({ rows: e.encodings, labels: e.support.map(short), markId: "fig2-encoding", cell: 9, width: 320 })),
    step("prior", "2. Prior q(z | S) (Eq. 8-9)",
      `Mean μ (bars) and spread σ (whiskers) of each of the ${e.mu.length} dimensions of z.`,
      bars({ values: e.mu, errors: e.sigma, markId: "fig2-mu" })),
  ];
  if (e.clusters.length) {
    steps.push(
      step("task", "3. Task embedding t_i (Eq. 10)", "The mean of m_φ over the support points.",
        heatRows({ rows: [e.task], markId: "fig2-task", cell: 14, width: 320 })),
      step("clusters", "4. Soft assignment c_i (Eq. 11)", `Student-t similarity of t_i to the ${e.clusters.length} centroids of the global pool A, normalised.`,
        bars({ values: e.clusters, markId: "fig2-cluster" })),
      step("final", "5. Final task embedding o_i (Eq. 12)", "σ(W_o (t_i + c_i A)): what modulates the decoder.",
        heatRows({ rows: [e.task_embedding], markId: "fig2-o", cell: 14, width: 320 })),
      step("film", "6. FiLM per decoder layer (Eq. 15/16)", "Scales γ (first row of a layer) and shifts β (second row) of each hidden layer.",
        heatRows({ rows: e.film.flatMap((l) => [l.gamma, l.beta]), labels: e.film.flatMap((_, i) => [`γ layer ${i + 1}`, `β layer ${i + 1}`]), markId: "fig2-film", cell: 9, width: 320 })),
    );
  }
  const items = result?.items ?? [];
  steps.push(step("scores", "7. Final scores", "The decoder's predicted rating of the top items (z = μ), ± its spread over samples of z.",
    bars({ values: items.map((it) => it.score), errors: items.map((it) => it.std), markId: "fig2-score", zero: false })));
  host.replaceChildren(...steps);
  nameCharts(host);
  status.textContent = `Figure 2 for your ${e.support.length} rating(s).`;
  status.dataset.ratings = String(e.support.length);
}

widget.addEventListener("tanp-recommendations", (ev) => renderWalk(ev.detail));
widget.ready.then(() => { if (!widget.ratings.length) renderWalk(null); }, () => {});
// Clearing all ratings fires no recommendation: watch the rated list instead.
new MutationObserver(() => { if (!widget.ratings.length) renderWalk(null); })
  .observe(widget.shadowRoot, { subtree: true, childList: true });

// ---------------------------------------------------------------- data

const status = document.querySelector("[data-testid=paper-status]");
try {
  const response = await fetch("paper/data.json");
  if (!response.ok) throw new Error(`HTTP ${response.status}`);
  const data = await response.json();
  const family = () => ($("standard").checked ? "standard" : "paper");
  renderTables(data, family());
  $("standard").addEventListener("change", () => renderTables(data, family()));
  renderFigure3(data);
  renderFigure4(data);
  renderFigure5(data);
  renderCurves(data);
  renderAblation(data);
  renderCatalog(data);
  nameCharts();
  $("standard").addEventListener("change", () => nameCharts());
  const runs = data.tables.flatMap((t) => t.rows.filter((r) => r.ours).flatMap((r) => r.ours.runs)).length;
  status.textContent = `${runs} runs in the tables; ${data.paper_source}.`;
  status.dataset.ready = "";
} catch (err) {
  status.textContent = `Could not load paper/data.json: ${err.message}`;
}

// <tanp-recommender model="model/" backend="auto" top="10" min-ratings="50" call-timeout="30000"
// worker="worker.js" loading="lazy">: the TaNP demo widget.
// A visitor rates a few items; the model (in a Web Worker) adapts to them with no gradient
// step and shows the top-N with their uncertainty and the visitor's soft cluster assignment
// beside sampled training tasks (the paper's Figure 4). A visitor may also give demographics
// (optional; the model handles "not given"). Ratings and demographics persist in localStorage.
// Styling: --tanp-font, --tanp-fg, --tanp-bg, --tanp-muted, --tanp-accent, --tanp-border,
// --tanp-radius, --tanp-star, --tanp-star-off, --tanp-heat-low, --tanp-heat-high, --tanp-heat-edge; parts bar, rate, candidates,
// ratings, recommendations, figure4, heatmap. Types: tanp-recommender.d.ts; every attribute,
// property, event, part and CSS property: custom-elements.json.

import { STYLE, adoptStyle, applyStyles } from "./widget/style.js";
import { ModelWorker } from "./widget/worker-client.js";
import { loadProfile, loadRatings, saveProfile, saveRatings } from "./widget/storage.js";

/** Fields with more values than this are typed (ZIP codes), the others are chosen from a list. */
const MAX_CHOICES = 60;
const FIELD_NAMES = { gender: "Gender", age: "Age", occupation: "Occupation", zip: "ZIP code" };
/** The most ratings the model takes (pkg/index.js MAX_RATINGS). */
export const MAX_RATINGS = 200;
/** How long the worker may take to answer one request (attribute `call-timeout`, ms); loading the
 * model may take four times as long. */
const CALL_TIMEOUT_MS = 30_000;
/** A worker that times out this many times in a row is not restarted again. */
const MAX_RESTARTS = 2;

/**
 * Whole stars for a bundle's rating scale (its config's rating_min / rating_max): 1-5 for
 * MovieLens; a 0-1 implicit scale is one star ("liked"). Falls back to 1-5.
 */
export function starScale(config) {
  const min = Number(config?.rating_min), max = Number(config?.rating_max);
  if (!Number.isFinite(min) || !Number.isFinite(max) || max < 1 || max > 10 || max < min) return { lo: 1, hi: 5 };
  return { lo: Math.max(1, Math.ceil(min)), hi: Math.floor(max) };
}

/** `url` when it is an absolute http(s) URL, else null (no `javascript:` links from a catalog). */
function webUrl(url) {
  if (typeof url !== "string") return null;
  try {
    const u = new URL(url);
    return u.protocol === "https:" || u.protocol === "http:" ? u.href : null;
  } catch {
    return null;
  }
}

function escapeHtml(s) {
  return String(s).replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]);
}

function fold(s) {
  return s.normalize("NFD").replace(/[\u0300-\u036f]/g, "").toLowerCase();
}

/** A colour between --tanp-heat-low and --tanp-heat-high for t in [0, 1]. */
function heat(t) {
  const pct = Math.round(Math.max(0, Math.min(1, t)) * 100);
  return `color-mix(in srgb, var(--tanp-heat-high, #1c3faa) ${pct}%, var(--tanp-heat-low, #f1f3f9))`;
}

export class TanpRecommender extends HTMLElement {
  static observedAttributes = ["model", "backend", "top", "min-ratings", "images"];

  #root;
  #worker = null; // a ModelWorker
  #restarts = 0;
  #observer = null;
  #catalog = [];
  #byId = new Map();
  #starters = [];
  #training = [];
  #k = 0;
  #ratings = new Map(); // item id -> rating, in the order given
  #result = null;
  #sequence = 0;
  #loaded = null;
  #notice = "";
  #scale = { lo: 1, hi: 5 }; // whole stars of the bundle's rating scale
  #fields = []; // [{ name, labels }]: the user fields a visitor may fill in
  #profile = []; // one value index per field, 0 = not given

  constructor() {
    super();
    this.#root = this.attachShadow({ mode: "open" });
    adoptStyle(this.#root);
    this.#root.innerHTML = `${this.#root.adoptedStyleSheets?.length ? "" : `<style>${STYLE}</style>`}
      <div class="bar" part="bar">
        <span>Backend: <strong data-testid="backend">…</strong> <span class="muted" data-ref="reason"></span></span>
        <span data-testid="status" role="status" aria-live="polite">Loading…</span>
        <span class="muted" data-ref="timing"></span>
      </div>
      <div class="grid">
        <section part="rate">
          <h3>Rate movies</h3>
          <input type="search" data-testid="search" placeholder="Search the catalog…" aria-label="Search the catalog">
          <ul data-ref="candidates" part="candidates" aria-label="Movies to rate"></ul>
          <details data-testid="profile" data-ref="profile" hidden>
            <summary>About you (optional)</summary>
            <p class="muted small">Not needed: the model was trained to work without it. If given, it is
            used like a training user's demographics (Eq. 5) and stays in this browser.</p>
            <div class="profile" data-ref="profileFields"></div>
          </details>
        </section>
        <section part="ratings">
          <h3>Your ratings <button class="text" data-ref="clear" type="button">Clear</button></h3>
          <ul data-ref="rated" aria-label="Your ratings"></ul>
          <h3 class="spaced">Recommended for you</h3>
          <label class="small muted" data-ref="wellKnownLabel"><input type="checkbox" data-testid="well-known" data-ref="wellKnown" checked>
            well-known films only (rated by at least <span data-ref="minRatings"></span> training users)</label>
          <ol data-ref="recommendations" part="recommendations" aria-label="Recommendations"></ol>
        </section>
        <section part="figure4">
          <h3>Soft cluster assignment (Figure 4)</h3>
          <div data-testid="heatmap" data-ref="heatmap" part="heatmap"></div>
          <p class="muted small">Each row is a task: your ratings, then ${""}sampled training users. Each cell is the
          probability c<sub>ij</sub> (Eq. 11) that the task belongs to cluster j of the global pool.</p>
        </section>
      </div>`;
    const q = (r) => this.#root.querySelector(`[data-ref=${r}]`);
    this.$ = {
      backend: this.#root.querySelector("[data-testid=backend]"),
      status: this.#root.querySelector("[data-testid=status]"),
      search: this.#root.querySelector("[data-testid=search]"),
      reason: q("reason"), timing: q("timing"), candidates: q("candidates"), rated: q("rated"),
      recommendations: q("recommendations"), heatmap: q("heatmap"), clear: q("clear"),
      profile: q("profile"), profileFields: q("profileFields"),
      wellKnown: q("wellKnown"), wellKnownLabel: q("wellKnownLabel"), minRatings: q("minRatings"),
    };
    this.$.wellKnown.addEventListener("change", () => this.#update());
    this.$.profileFields.addEventListener("change", (e) => this.#onProfileInput(e.target));
    this.$.search.addEventListener("input", () => this.#renderCandidates());
    this.$.clear.addEventListener("click", () => this.clear());
    this.#root.addEventListener("click", (e) => this.#onClick(e));
    this.#root.addEventListener("keydown", (e) => this.#onKey(e));
  }

  connectedCallback() {
    if (this.#loaded) return;
    // loading="lazy": nothing is downloaded until the widget comes near the viewport.
    if (this.getAttribute("loading") === "lazy" && typeof IntersectionObserver === "function") {
      this.#setStatus("The model loads when this comes into view.");
      this.#observer = new IntersectionObserver((entries) => {
        if (!entries.some((e) => e.isIntersecting)) return;
        this.#observer.disconnect();
        this.#observer = null;
        if (!this.#loaded && this.isConnected) this.#load();
      }, { rootMargin: "200px" });
      this.#observer.observe(this);
      return;
    }
    this.#load();
  }

  disconnectedCallback() {
    this.#observer?.disconnect();
    this.#observer = null;
    this.#worker?.terminate();
    this.#worker = null;
    this.#loaded = null;
  }

  attributeChangedCallback(name, old, value) {
    if (old === value || !this.isConnected || !this.#loaded) return;
    if (name === "top" || name === "min-ratings") {
      this.#renderWellKnown();
      this.#update();
    } else if (name === "images") this.#renderRecommendations();
    else this.#load();
  }

  /** Resolves when the model is loaded (rejects with the reason it could not be). */
  get ready() {
    return this.#loaded ?? Promise.reject(new Error("the element is not connected"));
  }

  get ratings() {
    return [...this.#ratings].map(([item, rating]) => ({ item, rating }));
  }

  /** Replaces every rating at once ([{ item, rating }]); nothing changes if one is refused. */
  set ratings(list) {
    if (!Array.isArray(list)) throw new Error("ratings must be an array of { item, rating }");
    if (list.length > MAX_RATINGS) throw new Error(`at most ${MAX_RATINGS} ratings are taken, found ${list.length}`);
    const next = new Map();
    for (const { item, rating } of list) {
      this.#check(item, rating);
      next.set(item, rating);
    }
    this.#ratings = next;
    this.#changed();
  }

  /** The model bundle's URL (attribute `model`); setting it loads that model. */
  get model() {
    return this.getAttribute("model") ?? "model/";
  }

  set model(url) {
    this.setAttribute("model", String(url));
  }

  /** "auto", "webgpu" or "cpu" (attribute `backend`); setting it reloads the model. */
  get backend() {
    return this.getAttribute("backend") ?? "auto";
  }

  set backend(value) {
    this.setAttribute("backend", String(value));
  }

  /** How long the worker may take per request, in ms (attribute `call-timeout`). */
  get callTimeout() {
    const n = Number(this.getAttribute("call-timeout"));
    return Number.isFinite(n) && n > 0 ? n : CALL_TIMEOUT_MS;
  }

  set callTimeout(ms) {
    this.setAttribute("call-timeout", String(ms));
  }

  /** The well-known filter in force: the `min-ratings` attribute (default 50) while checked. */
  get minRatings() {
    const n = Number.parseInt(this.getAttribute("min-ratings") ?? "50", 10);
    const usable = Number.isFinite(n) && n > 0 && this.#catalog.some((it) => (it.ratings ?? 0) >= n);
    return usable && this.$.wellKnown.checked ? n : 0;
  }

  /** The well-known filter's threshold (attribute `min-ratings`; reading gives the one in force). */
  set minRatings(n) {
    this.setAttribute("min-ratings", String(n));
  }

  #renderWellKnown() {
    const n = Number.parseInt(this.getAttribute("min-ratings") ?? "50", 10);
    const usable = Number.isFinite(n) && n > 0 && this.#catalog.some((it) => (it.ratings ?? 0) >= n);
    this.$.wellKnownLabel.hidden = !usable;
    this.$.minRatings.textContent = String(n);
  }

  get top() {
    const n = Number.parseInt(this.getAttribute("top") ?? "10", 10);
    return Number.isFinite(n) && n > 0 ? Math.min(n, 100) : 10;
  }

  /** How many recommendations to show (attribute `top`, 1-100). */
  set top(n) {
    this.setAttribute("top", String(n));
  }

  /** Whether recommendations show the items' images (attribute `images`: "off" hides them).
   * Images come from the URLs in the bundle's catalog (the site's own servers): showing one is a
   * request that tells that server an item was recommended here. */
  get images() {
    return this.getAttribute("images") !== "off";
  }

  set images(on) {
    this.setAttribute("images", on ? "on" : "off");
  }

  /** The visitor's demographics: { field name: value label } for the fields they gave. */
  get profile() {
    const out = {};
    this.#fields.forEach((f, i) => { if (this.#profile[i]) out[f.name] = f.labels[this.#profile[i] - 1]; });
    return out;
  }

  get #modelUrl() {
    return new URL(this.getAttribute("model") ?? "model/", document.baseURI).href;
  }

  /**
   * One request to the worker. A worker that does not answer in time (a module stuck in a
   * loop, which no Promise can interrupt) is terminated and a fresh one loads the model again,
   * up to MAX_RESTARTS times in a row.
   */
  #call(op, payload = {}) {
    const timeoutMs = this.callTimeout * (op === "load" ? 4 : 1);
    let timedOut = false;
    const onTimeout = (error) => {
      timedOut = true;
      this.#emit("tanp-timeout", { op, timeoutMs });
      if (this.#restarts++ < MAX_RESTARTS) this.#load(`${error.message}: restarted it.`);
      else this.#setStatus(`${error.message}; reload the page to try again.`, true);
    };
    return this.#worker.call(op, payload, timeoutMs, onTimeout).then((answer) => {
      this.#restarts = 0; // the worker answers again
      return answer;
    }, (error) => {
      if (!timedOut) this.#restarts = 0; // the worker answered, with an error
      throw error;
    });
  }

  #load(why = "") {
    this.#worker?.terminate();
    this.#setStatus(`${why ? `${why} ` : ""}Loading the model…`);
    const mb = (n) => (n / 1e6).toFixed(1);
    this.#worker = new ModelWorker(new URL(this.getAttribute("worker") ?? "./worker.js", import.meta.url), {
      onProgress: (progress) => {
        const { loaded, total } = progress;
        this.#setStatus(`Loading the model… ${total ? Math.round((100 * loaded) / total) : 0} % (${mb(loaded)} of ${mb(total)} MB)`);
        this.#emit("tanp-progress", progress);
      },
      onFailure: (error) => this.#setStatus(error.message, true),
    });
    const modelUrl = this.#modelUrl;
    const backend = this.getAttribute("backend") ?? "auto";
    const loading = this.#call("load", { modelUrl, backend }).then(
      (info) => {
        this.#catalog = info.catalog ?? JSON.parse(info.catalogText).items;
        this.#byId = new Map(this.#catalog.map((item) => [item.id, item]));
        this.#starters = (info.info?.starters ?? []).filter((id) => this.#byId.has(id));
        this.#training = info.training;
        this.#k = info.k;
        this.#fields = (info.info?.profile_fields ?? []).filter((f) => Array.isArray(f.labels));
        this.#scale = starScale(info.info?.config);
        this.$.backend.textContent = info.backend;
        this.$.backend.dataset.backend = info.backend;
        this.$.reason.textContent = `(${info.reason})`;
        this.$.timing.textContent = `model ready in ${Math.round(info.loadMs)} ms`;
        this.#renderWellKnown();
        this.#restore();
        this.#restoreProfile();
        this.#renderProfile();
        this.#renderCandidates();
        this.#renderRated();
        this.#renderHeatmap();
        if (this.#ratings.size) this.#update();
        else this.#setStatus("Ready: rate a few movies you know.");
        this.#emit("tanp-load", { backend: info.backend, reason: info.reason, loadMs: info.loadMs, items: this.#catalog.length });
        return info;
      },
      (e) => {
        if (this.#loaded !== loading) return this.#loaded; // superseded by a newer load
        this.$.backend.textContent = "none";
        this.#setStatus(`Could not load the model: ${e.message}`, true);
        this.#emit("tanp-error", { phase: "load", message: e.message });
        throw e;
      },
    );
    this.#loaded = loading;
    this.#loaded.catch(() => {});
  }

  #emit(type, detail) {
    this.dispatchEvent(new CustomEvent(type, { detail, bubbles: true, composed: true }));
  }

  #setStatus(text, error = false) {
    const full = this.#notice ? `${text} ${this.#notice}` : text;
    this.$.status.textContent = full;
    this.$.status.classList.toggle("notice", error);
  }

  /** Restores saved ratings; unreadable storage is discarded with a notice, never thrown. */
  #restore() {
    const saved = loadRatings(this.#modelUrl, (item, rating) => this.#inScale(rating) && this.#byId.has(item), MAX_RATINGS);
    this.#ratings = saved.ratings;
    this.#notice = saved.notice;
    if (saved.rewrite) this.#save();
  }

  /** Restores the saved demographics; anything that does not fit this model is dropped. */
  #restoreProfile() {
    const saved = loadProfile(this.#modelUrl, this.#fields);
    this.#profile = saved.profile;
    if (saved.notice) this.#addNotice(saved.notice);
    if (saved.rewrite) this.#saveProfile();
  }

  #addNotice(text) {
    this.#notice = this.#notice ? `${this.#notice} ${text}` : text;
  }

  #saveProfile() {
    saveProfile(this.#modelUrl, this.profile);
  }

  /** Sets the visitor's demographics ({ field: label }, null or {} for none) and updates. */
  setProfile(values) {
    const next = this.#fields.map(() => 0);
    for (const [name, label] of Object.entries(values ?? {})) {
      const i = this.#fields.findIndex((f) => f.name === name);
      if (i < 0) throw new Error(`unknown profile field ${JSON.stringify(name)}: expected one of ${this.#fields.map((f) => f.name).join(", ")}`);
      if (label === null || label === "") continue;
      const v = this.#fields[i].labels.indexOf(String(label));
      if (v < 0) throw new Error(`${name}: ${JSON.stringify(label)} is not one of the model's values`);
      next[i] = v + 1;
    }
    this.#profile = next;
    this.#saveProfile();
    this.#renderProfile();
    this.#update();
  }

  #onProfileInput(el) {
    const i = Number(el.dataset.index);
    const field = this.#fields[i];
    if (!field) return;
    let v = 0;
    if (el.tagName === "SELECT") v = Number(el.value) || 0;
    else {
      const text = el.value.trim().slice(0, 5);
      v = text ? field.labels.indexOf(text) + 1 : 0;
      el.setCustomValidity(text && !v ? "not among the model's ZIP codes: ignored" : "");
      el.title = text && !v ? "Not among the ZIP codes of the training data: ignored." : "";
    }
    this.#profile[i] = v;
    this.#saveProfile();
    this.#update();
  }

  #renderProfile() {
    this.$.profile.hidden = !this.#fields.length;
    this.$.profileFields.innerHTML = this.#fields.map((f, i) => {
      const name = FIELD_NAMES[f.name] ?? f.name;
      const id = `tanp-profile-${i}`;
      const current = this.#profile[i] ?? 0;
      const control = f.labels.length > MAX_CHOICES
        ? `<input id="${id}" data-testid="profile-field" data-field="${escapeHtml(f.name)}" data-index="${i}"
            inputmode="numeric" maxlength="10" placeholder="not given" value="${current ? escapeHtml(f.labels[current - 1]) : ""}">`
        : `<select id="${id}" data-testid="profile-field" data-field="${escapeHtml(f.name)}" data-index="${i}">
            <option value="0">not given</option>${f.labels.map((l, j) =>
              `<option value="${j + 1}"${current === j + 1 ? " selected" : ""}>${escapeHtml(l)}</option>`).join("")}</select>`;
      return `<label for="${id}">${escapeHtml(name)}</label>${control}`;
    }).join("");
    if (this.#profile.some((v) => v)) this.$.profile.open = true;
  }

  #save() {
    saveRatings(this.#modelUrl, this.ratings);
  }

  /** The title of a catalog item (null when the id is unknown or nothing is loaded). */
  itemTitle(id) {
    return this.#byId.get(id)?.title ?? null;
  }

  /**
   * Every intermediate of the paper's Figure 2 for the current ratings (and demographics, if
   * given): see Recommender.explain. Resolves to null while nothing is rated.
   */
  async explain() {
    await this.ready;
    if (!this.#ratings.size) return null;
    return this.#call("explain", {
      request: { ratings: this.ratings, ...(this.#profile.some((v) => v) ? { profile: this.#profile } : {}) },
    });
  }

  /** The bundle's rating scale as whole stars: { lo, hi } (1-5 for MovieLens). */
  get scale() {
    return { ...this.#scale };
  }

  #inScale(rating) {
    return Number.isInteger(rating) && rating >= this.#scale.lo && rating <= this.#scale.hi;
  }

  /** Rates an item (an integer on the bundle's scale) and updates the recommendations; at most MAX_RATINGS items. */
  rate(item, rating) {
    this.#check(item, rating);
    if (!this.#ratings.has(item) && this.#ratings.size >= MAX_RATINGS) {
      throw new Error(`at most ${MAX_RATINGS} ratings are taken: remove one before rating another`);
    }
    this.#ratings.set(item, rating);
    this.#changed();
  }

  /** Throws a readable Error unless `item` is in the catalog and `rating` an integer on the scale. */
  #check(item, rating) {
    if (!this.#byId.size) throw new Error("the model is not loaded yet: await the element's ready first");
    if (!this.#byId.has(item)) throw new Error(`unknown item id ${String(item).slice(0, 64)}`);
    const { lo, hi } = this.#scale;
    if (!this.#inScale(rating)) throw new Error(`rating must be an integer ${lo}-${hi}, found ${String(rating).slice(0, 32)}`);
  }

  unrate(item) {
    this.#ratings.delete(item);
    this.#changed();
  }

  /** Forgets every rating (and the saved copy). */
  clear() {
    this.#ratings.clear();
    this.#changed();
  }

  #changed() {
    this.#emit("tanp-change", { ratings: this.ratings });
    this.#save();
    this.#renderCandidates();
    this.#renderRated();
    this.#update();
  }

  async #update() {
    const sequence = ++this.#sequence;
    if (!this.#ratings.size) {
      this.#result = null;
      this.#renderRecommendations();
      this.#renderHeatmap();
      this.#setStatus("Ready: rate a few movies you know.");
      return;
    }
    this.#setStatus(`Adapting to ${this.#ratings.size} rating(s)…`);
    try {
      const result = await this.#call("recommend", {
        request: {
          ratings: this.ratings, top: this.top, exclude_rated: true, min_ratings: this.minRatings,
          ...(this.#profile.some((v) => v) ? { profile: this.#profile } : {}),
        },
      });
      if (sequence !== this.#sequence) return; // a newer rating is on its way
      this.#result = result;
      this.$.timing.textContent = `last recommendation: ${result.ms.toFixed(1)} ms`;
      this.$.timing.dataset.ms = String(result.ms);
      this.#renderRecommendations();
      this.#renderHeatmap();
      this.#setStatus(`Recommendations for your ${this.#ratings.size} rating(s).`);
      this.#emit("tanp-recommendations", {
        ...result, ratings: this.ratings, profile: this.profile, min_ratings: this.minRatings, backend: this.$.backend.textContent,
      });
    } catch (e) {
      if (sequence === this.#sequence) {
        this.#setStatus(`Could not recommend: ${e.message}`, true);
        this.#emit("tanp-error", { phase: "recommend", message: e.message });
      }
    }
  }

  #stars(item) {
    const current = this.#ratings.get(item) ?? 0;
    const it = this.#byId.get(item);
    const name = `Your rating of ${it.title}${it.year ? ` (${it.year})` : ""}`;
    let html = `<span class="stars" role="radiogroup" aria-label="${escapeHtml(name)}">`;
    for (let s = this.#scale.lo; s <= this.#scale.hi; s++) {
      html += `<button type="button" role="radio" data-stars="${s}" aria-checked="${s === current}"
        aria-label="${s} star${s > 1 ? "s" : ""}" tabindex="${s === (current || 1) ? 0 : -1}"
        class="${s <= current ? "on" : ""}">★</button>`;
    }
    return html + "</span>";
  }

  #label(item, withMedia = false) {
    const it = this.#byId.get(item);
    const year = it.year ? ` (${it.year})` : "";
    const genres = it.genres?.length ? it.genres.join(", ") : "";
    const name = `${escapeHtml(it.title)}${year}`;
    const link = withMedia ? webUrl(it.link) : null;
    const image = withMedia && this.images ? webUrl(it.image) : null;
    const title = link
      ? `<a class="title" part="link" href="${escapeHtml(link)}" target="_blank" rel="noopener noreferrer" title="${escapeHtml(genres)}">${name}</a>`
      : `<span class="title" title="${escapeHtml(genres)}">${name}</span>`;
    const img = image
      ? `<img part="image" src="${escapeHtml(image)}" alt="" width="48" height="48" loading="lazy" referrerpolicy="no-referrer" decoding="async">`
      : "";
    return img + title;
  }

  #renderCandidates() {
    const query = fold(this.$.search.value.trim());
    let ids;
    if (query) {
      ids = [];
      for (const it of this.#catalog) {
        if (fold(it.title).includes(query)) ids.push(it.id);
        if (ids.length >= 30) break;
      }
    } else {
      ids = this.#starters.length ? this.#starters : this.#catalog.slice(0, 24).map((it) => it.id);
    }
    this.$.candidates.innerHTML = ids.length
      ? ids.map((id) => `<li data-testid="candidate" data-item-id="${escapeHtml(id)}">${this.#label(id)}${this.#stars(id)}</li>`).join("")
      : `<li class="muted">No title matches.</li>`;
  }

  #renderRated() {
    this.$.rated.innerHTML = this.#ratings.size
      ? [...this.#ratings].map(([id, r]) => `<li data-testid="rated" data-item-id="${escapeHtml(id)}" data-rating="${r}">
          ${this.#label(id)}<span aria-label="${r} stars">${"★".repeat(r)}</span>
          <button type="button" class="text" data-remove="${escapeHtml(id)}" aria-label="Remove your rating of ${escapeHtml(this.#byId.get(id).title)}">✕</button></li>`).join("")
      : `<li class="muted">Nothing rated yet.</li>`;
    this.$.clear.disabled = this.#ratings.size === 0;
  }

  #renderRecommendations() {
    const items = this.#result?.items ?? [];
    if (!items.length) {
      this.$.recommendations.innerHTML = `<li class="muted">Rate at least one movie.</li>`;
      return;
    }
    // A rating model's meter spans the rating scale; a catalog model's the first item's share.
    const share = this.#result.score_kind === "catalog-share";
    const lo = share ? 0 : this.#scale.lo, hi = share ? Math.max(...items.map((it) => it.score + it.std)) : this.#scale.hi;
    const pos = (v) => `${(100 * (Math.max(lo, Math.min(hi, v)) - lo) / (hi - lo)).toFixed(1)}%`;
    const text = (v) => (share ? `${(v * 100).toPrecision(2)}%` : v.toFixed(2));
    // The ± is the spread over resamples of the visitor's ratings (and samples of z): with one
    // rating every resample is the same, so it says nothing and is not shown.
    const spread = this.#ratings.size > 1;
    const title = (share
      ? "chance that this is the next film you like (share of the whole catalog)"
      : "predicted rating") + (spread ? " ± spread over resamples of your ratings and samples of z" : "");
    this.$.recommendations.innerHTML = items.map((it) => `
      <li data-testid="recommendation" data-item-id="${escapeHtml(it.id)}" data-score="${it.score}" data-std="${it.std}">
        ${this.#label(it.id, true)}
        <span class="score" title="${title}">${text(it.score)}${spread ? ` ± ${text(it.std)}` : ""}
          <span class="meter"><b data-style="left:${pos(it.score - it.std)};right:calc(100% - ${pos(it.score + it.std)})"></b><i data-style="left:0;width:${pos(it.score)}"></i></span></span>
      </li>`).join("");
    applyStyles(this.$.recommendations);
  }

  #renderHeatmap() {
    const rows = [];
    if (this.#result?.clusters?.length) rows.push({ kind: "visitor", label: "You", values: this.#result.clusters });
    for (const t of this.#training) rows.push({ kind: "training", label: `user ${t.user}`, values: t.clusters });
    const k = this.#k;
    if (!k || !rows.length) {
      this.$.heatmap.innerHTML = `<p class="muted">This model has no cluster assignment (w/o tm).</p>`;
      return;
    }
    // An absolute colour scale: 0 % to 100 % of a user's assignment (legend below).
    const min = 0, max = 1;
    const scale = (v) => v;
    // The colours are for the eye (hidden from screen readers); the table after them is the text.
    let html = `<div aria-hidden="true"><div class="heat" data-style="grid-template-columns:7em repeat(${k}, 1fr)"><span></span>`;
    for (let j = 0; j < k; j++) html += `<span class="muted centre">${j + 1}</span>`;
    html += "</div>";
    for (const r of rows) {
      html += `<div class="heat" data-testid="heatmap-row" data-kind="${r.kind}" data-style="grid-template-columns:7em repeat(${k}, 1fr)">
        <span class="label ${r.kind}">${escapeHtml(r.label)}</span>`;
      for (const v of r.values) {
        html += `<span class="cell" data-testid="heatmap-cell" data-value="${v}" title="${(v * 100).toFixed(1)}%" data-style="background:${heat(scale(v))}"></span>`;
      }
      html += "</div>";
    }
    const pct = (v) => `${(v * 100).toFixed(1)}%`;
    html += `<div class="legend"><span>${pct(min)}</span><span class="ramp" data-style="background:linear-gradient(to right, ${heat(0)}, ${heat(1)})"></span><span>${pct(max)}</span></div></div>`;
    html += `<table class="sr-only" data-testid="heatmap-table"><caption>Soft cluster assignments, percent</caption>
      <tr><th scope="col">Task</th>${Array.from({ length: k }, (_, j) => `<th scope="col">cluster ${j + 1}</th>`).join("")}</tr>
      ${rows.map((r) => `<tr><th scope="row">${escapeHtml(r.label)}</th>${r.values.map((v) => `<td>${(v * 100).toFixed(1)}%</td>`).join("")}</tr>`).join("")}
    </table>`;
    this.$.heatmap.innerHTML = html;
    applyStyles(this.$.heatmap);
  }

  #onClick(e) {
    const star = e.target.closest("[data-stars]");
    if (star) {
      const item = star.closest("[data-item-id]").dataset.itemId;
      this.#rateFromUi(item, Number(star.dataset.stars));
      return;
    }
    const remove = e.target.closest("[data-remove]");
    if (remove) this.unrate(remove.dataset.remove);
  }

  /** Arrow keys move along a row of stars and rate; Home and End rate the lowest and highest; digits rate directly. */
  #onKey(e) {
    const star = e.target.closest?.("[data-stars]");
    if (!star) return;
    const item = star.closest("[data-item-id]").dataset.itemId;
    let s = Number(star.dataset.stars);
    const { lo, hi } = this.#scale;
    if (e.key === "ArrowRight" || e.key === "ArrowUp") s = Math.min(hi, s + 1);
    else if (e.key === "Home") s = lo;
    else if (e.key === "End") s = hi;
    else if (e.key === "ArrowLeft" || e.key === "ArrowDown") s = Math.max(lo, s - 1);
    else if (/^[0-9]$/.test(e.key) && this.#inScale(Number(e.key))) s = Number(e.key);
    else return;
    e.preventDefault();
    this.#rateFromUi(item, s);
  }

  /** A rating from a click or a key: a refusal (the cap) is shown, not thrown. */
  #rateFromUi(item, s) {
    try {
      this.rate(item, s);
    } catch (e) {
      this.#setStatus(e.message, true);
      return;
    }
    this.#focusStar(item, s);
  }

  #focusStar(item, s) {
    const row = [...this.#root.querySelectorAll("[data-testid=candidate]")].find((r) => r.dataset.itemId === item);
    row?.querySelector(`[data-stars="${s}"]`)?.focus();
  }
}

if (!customElements.get("tanp-recommender")) customElements.define("tanp-recommender", TanpRecommender);

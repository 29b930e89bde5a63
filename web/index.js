// tanp: the TaNP recommender in the browser. A thin layer over two builds of one wasm-bindgen
// module: tanp.js / tanp_bg.wasm (CPU with wasm SIMD, small) and tanp_webgpu.js /
// tanp_webgpu_bg.wasm (burn's WebGPU runtime and no CPU backend, larger). Only the one the chosen
// backend needs is downloaded. This file fetches a model bundle, chooses the backend, times
// calls, and keeps the module answering: requests are checked and bounded before they reach
// wasm, and a module that traps (a panic, or a call that never settles) rejects the calls in
// flight and is replaced by a fresh instance, to which every loaded model moves by itself.

/**
 * The two builds. Each glue module exports `createInstance()` (see scripts/glue-factory.mjs):
 * a fresh copy of wasm-bindgen's glue with its own state, so that a broken instance can be
 * thrown away. The imports are literal, for bundlers.
 */
const MODULES = {
  cpu: () => import("./tanp.js"),
  webgpu: () => import("./tanp_webgpu.js"),
};

/** The most ratings one request may hold (the model's own cap). */
export const MAX_RATINGS = 200;
/** The longest request text sent to wasm (the model's own cap, src/request.rs). */
export const MAX_REQUEST_BYTES = 64 * 1024;
/** How long one call into wasm may take before its instance counts as hung. */
export const DEFAULT_TIMEOUT_MS = 60_000;

/** A message cut to `max` characters, for errors that repeat what they were given. */
function shorten(text, max = 300) {
  const s = String(text);
  return s.length <= max ? s : `${s.slice(0, max)}…`;
}

/** Why a thrown value failed, in words. */
function reason(e) {
  try {
    return shorten(e?.message ?? e);
  } catch {
    return "an unreadable error";
  }
}

/**
 * One wasm build's current instance. A trap (reported by the module's panic hook, or a call
 * that outlives its timeout) retires the instance: the calls in flight are rejected, and the
 * next call instantiates a fresh one.
 */
class Engine {
  /** Bumped each time an instance is retired; models compare it with their own. */
  generation = 0;
  #backend;
  #wasmUrl;
  #instance = null;
  #module = null;
  #inFlight = new Set();
  /** The live instance's wasm exports, once instantiated. */
  live = null;
  /** Where the next instantiation reports the wasm download (set by a load). */
  progress = null;

  constructor(backend, wasmUrl) {
    this.#backend = backend;
    this.#wasmUrl = wasmUrl;
  }

  /**
   * The compiled wasm module: compiled once, while the glue's JS loads, and kept, so that an
   * instance started after a trap is not compiled again.
   */
  #compile() {
    this.#module ??= (async () => {
      const url = this.#wasmUrl ?? new URL(WASM_FILES[this.#backend], import.meta.url);
      const sha = WASM_SHA256[this.#backend];
      return WebAssembly.compileStreaming(await wasmResponse(url, sha.startsWith("@") ? "" : sha, this.progress));
    })().catch((e) => {
      this.#module = null; // the next attempt fetches again
      throw e;
    });
    return this.#module;
  }

  /** The glue of a live instance (instantiated on first use and after a trap). */
  instance() {
    if (!this.#instance) {
      const generation = this.generation;
      const started = now();
      this.#instance = Promise.all([MODULES[this.#backend](), this.#compile()])
        .then(async ([{ createInstance }, module]) => {
          const glue = createInstance();
          const exports = await glue.default({ module_or_path: module });
          measure(`tanp:wasm ${this.#backend}`, started);
          glue.setPanicHandler((message) => this.retire(generation, `the wasm module panicked: ${shorten(String(message).replace(/\s+/g, " "), 500)}`));
          if (generation === this.generation) this.live = exports;
          return glue;
        })
        .catch((e) => {
          if (generation === this.generation) this.#instance = null;
          throw new Error(`cannot load the tanp wasm module for ${this.#backend}: ${reason(e)}`);
        });
    }
    return this.#instance;
  }

  /**
   * Runs `work(glue)` on the instance of `generation` (the current one when omitted); rejects
   * when it throws, when the instance traps meanwhile, or after `timeoutMs`. A call meant for an
   * instance retired meanwhile is refused with a `Stale` error, which callers retry.
   */
  async call(work, timeoutMs = DEFAULT_TIMEOUT_MS, generation = this.generation) {
    const glue = await this.instance();
    if (generation !== this.generation) throw new Stale();
    return new Promise((resolve, reject) => {
      const entry = { reject };
      const done = () => {
        clearTimeout(entry.timer);
        this.#inFlight.delete(entry);
      };
      entry.timer = setTimeout(() => {
        this.retire(generation, `the wasm module did not answer within ${timeoutMs} ms`);
      }, timeoutMs);
      this.#inFlight.add(entry);
      let pending;
      try {
        pending = Promise.resolve(work(glue));
      } catch (e) {
        pending = Promise.reject(e);
      }
      pending.then(
        (value) => { done(); resolve(value); },
        (e) => {
          done();
          if (e instanceof WebAssembly.RuntimeError) this.retire(generation, `the wasm module trapped: ${reason(e)}`);
          reject(e instanceof Error ? e : new Error(reason(e)));
        },
      );
    });
  }

  /** Retires the instance of `generation` (once): rejects what is in flight on it. */
  retire(generation, why) {
    if (generation !== this.generation) return;
    this.generation += 1;
    this.#instance = null;
    this.live = null;
    const error = new Error(`${why}; it was restarted, the call can be tried again`);
    for (const entry of this.#inFlight) {
      clearTimeout(entry.timer);
      entry.reject(error);
    }
    this.#inFlight.clear();
  }
}

/** A call meant for an instance that was retired before it started. */
class Stale extends Error {}

const engines = {};

function engine(backend, wasmUrl) {
  engines[backend] ??= new Engine(backend, wasmUrl);
  return engines[backend];
}

/**
 * Instantiates the wasm build for `backend` ("cpu" or "webgpu"); `wasmUrl` says where its .wasm
 * file lives when it is not next to this file. Resolves to the instance's glue module.
 */
export async function initWasm(backend = "cpu", wasmUrl) {
  if (!MODULES[backend]) throw new Error(`unknown backend ${JSON.stringify(backend)}: expected "webgpu" or "cpu"`);
  return engine(backend, wasmUrl).instance();
}

/** Bytes of the live wasm instances' linear memory (0 before one is loaded): for leak checks. */
export function wasmMemoryBytes() {
  return Object.values(engines).reduce((sum, e) => sum + (e.live?.memory?.buffer.byteLength ?? 0), 0);
}

/**
 * For the tests of this wrapper's recovery: a call on `backend`'s instance that, once in
 * flight, panics (`"panic"`) or never settles (`"hang"`). Resolves to the rejection's message.
 */
export async function __testFault(backend, kind, timeoutMs = DEFAULT_TIMEOUT_MS) {
  try {
    await engine(backend).call((glue) => glue.__testFault(kind), timeoutMs);
    return null;
  } catch (e) {
    return reason(e);
  }
}

const BACKENDS = ["auto", "webgpu", "cpu"];

/**
 * Decides which backend to try. "auto" takes WebGPU only with a hardware adapter: a software
 * fallback adapter (SwiftShader) is much slower than the wasm CPU path for this small model.
 */
async function chooseBackend(requested) {
  if (requested === "cpu") return { backend: "cpu", reason: "CPU requested" };
  const gpu = globalThis.navigator?.gpu;
  const refuse = (why) => {
    if (requested === "webgpu") throw new Error(`WebGPU was requested but ${why}`);
    return { backend: "cpu", reason: `CPU (wasm SIMD): ${why}` };
  };
  if (!gpu) return refuse("this browser does not expose WebGPU (navigator.gpu is missing)");
  let adapter = null;
  try {
    adapter = await gpu.requestAdapter({ powerPreference: "high-performance" });
  } catch (e) {
    return refuse(`requestAdapter failed: ${reason(e)}`);
  }
  if (!adapter) return refuse("no WebGPU adapter is available");
  const info = adapter.info ?? {};
  const fallback = adapter.isFallbackAdapter ?? info.isFallbackAdapter ?? false;
  const name = [info.vendor, info.architecture, info.description].filter(Boolean).join(" ") || "unknown";
  if (fallback && requested === "auto") {
    return refuse(`the only WebGPU adapter (${name}) is a software fallback, slower than the CPU path`);
  }
  return { backend: "webgpu", reason: `WebGPU ${requested === "webgpu" ? "requested" : "hardware adapter"}: ${name}` };
}

/**
 * The SHA-256 of each wasm build, written into pkg/index.js by scripts/build-web.sh: the key under
 * which a visitor's browser keeps it (a changed build has another key and is fetched again).
 */
const WASM_SHA256 = { cpu: "@CPU_WASM_SHA256@", webgpu: "@WEBGPU_WASM_SHA256@" };
const WASM_FILES = { cpu: "tanp_bg.wasm", webgpu: "tanp_webgpu_bg.wasm" };
/** The Cache API store for bundle files and wasm builds, keyed by their SHA-256. */
const CACHE = "tanp-web-v1";

/**
 * Counts downloaded bytes against a total that grows as sizes become known, and reports each
 * change to `onProgress({ loaded, total, file })`.
 */
class Progress {
  loaded = 0;
  total = 0;
  #onProgress;

  constructor(onProgress) {
    this.#onProgress = typeof onProgress === "function" ? onProgress : null;
  }

  expect(bytes) {
    this.total += bytes;
  }

  add(bytes, file) {
    this.loaded += bytes;
    try {
      this.#onProgress?.({ loaded: this.loaded, total: Math.max(this.total, this.loaded), file });
    } catch {
      // A listener that throws does not stop the download.
    }
  }
}

/** The body of `response` as bytes, reported to `progress` chunk by chunk. */
async function readBody(response, progress, file) {
  if (!response.body?.getReader) {
    const bytes = new Uint8Array(await response.arrayBuffer());
    progress?.add(bytes.length, file);
    return bytes;
  }
  const reader = response.body.getReader();
  const chunks = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    chunks.push(value);
    size += value.length;
    progress?.add(value.length, file);
  }
  const bytes = new Uint8Array(size);
  let at = 0;
  for (const c of chunks) {
    bytes.set(c, at);
    at += c.length;
  }
  return bytes;
}

/** The response for `url`, or an Error that names the URL and what went wrong. */
async function fetchOk(url) {
  let response;
  try {
    response = await fetch(url);
  } catch (e) {
    throw new Error(`cannot fetch ${url}: ${reason(e)}`);
  }
  if (!response.ok) throw new Error(`cannot fetch ${url}: HTTP ${response.status}`);
  return response;
}

/** The bytes at `url`, counted into `progress`. */
async function fetchBytes(url, progress) {
  return readBody(await fetchOk(url), progress, String(url).split("/").pop());
}

/** The browser's cache for this package, or null where there is none (insecure contexts). */
async function openCache() {
  try {
    return globalThis.caches ? await globalThis.caches.open(CACHE) : null;
  } catch {
    return null;
  }
}

/**
 * Where a file whose SHA-256 is `sha256` is kept: the cache (null where there is none or the
 * checksum is not one), its key (the URL with `?sha256=`), its name, and the cached copy, if any.
 */
async function cacheEntry(url, sha256) {
  const cache = /^[0-9a-f]{64}$/.test(sha256 ?? "") ? await openCache() : null;
  const key = new URL(url, globalThis.location?.href);
  key.searchParams.set("sha256", sha256);
  const hit = cache ? await cache.match(key.href).catch(() => null) : null;
  return { cache, key, file: key.pathname.split("/").pop(), hit };
}

/**
 * Keeps `body` under `key`, dropping older versions of the same file, without making anyone wait:
 * a full or unavailable cache only means a download next time.
 */
function keep(cache, key, body, headers) {
  if (!cache) return;
  (async () => {
    for (const old of await cache.keys()) {
      const u = new URL(old.url);
      if (u.origin === key.origin && u.pathname === key.pathname && u.href !== key.href) await cache.delete(old);
    }
    await cache.put(key.href, new Response(body, { headers }));
  })().catch(() => {});
}

/**
 * The bytes at `url`, whose SHA-256 is `sha256`: from the Cache API when an earlier visit kept
 * them, else downloaded (with progress) and kept.
 */
async function cachedBytes(url, sha256, progress) {
  const { cache, key, file, hit } = await cacheEntry(url, sha256);
  if (hit) return readBody(hit, progress, file);
  const bytes = await fetchBytes(url, progress);
  keep(cache, key, bytes, { "Content-Type": "application/octet-stream", "Content-Length": String(bytes.length) });
  return bytes;
}

/**
 * The wasm build at `url` as a Response, so that the browser compiles it while it streams in:
 * from the Cache API when an earlier visit kept it under `sha256`, else from the network (kept
 * for the next visit), its bytes counted into `progress`.
 */
async function wasmResponse(url, sha256, progress) {
  const { cache, key, file, hit } = await cacheEntry(url, sha256);
  // A download is counted as it streams in, through a response typed application/wasm (the
  // compiler streams only that type, whatever the host sent); a cache hit (stored with that
  // type) or a body-less response is counted whole and passed on as it is. (Chromium never keeps
  // compiled code for a module read from Cache Storage: docs/browser.md.)
  const counted = (response, whole) => {
    const size = Number(response.headers.get("Content-Length")) || 0;
    progress?.expect(size);
    if (whole || !response.body) {
      progress?.add(size, file);
      return response;
    }
    const count = new TransformStream({ transform(chunk, c) { progress?.add(chunk.length, file); c.enqueue(chunk); } });
    return new Response(response.body.pipeThrough(count), { headers: { "Content-Type": "application/wasm" } });
  };
  if (hit) return counted(hit, true);
  const response = await fetchOk(url);
  if (cache) {
    const copy = response.clone(); // an unread clone would hold the whole body: only with a cache
    keep(cache, key, copy.body, { "Content-Type": "application/wasm", "Content-Length": copy.headers.get("Content-Length") ?? "" });
  }
  return counted(response);
}

/**
 * The three files of a bundle: the manifest first (small, always fetched: it says whether the
 * bundle changed), then the catalog and the weights from the cache or the network, keyed by the
 * SHA-256 the manifest gives them. The manifest's sizes make the progress total.
 */
async function fetchBundle(base, progress) {
  const started = now();
  const manifest = await fetchBytes(base + "manifest.json", progress);
  let files = {};
  try {
    files = JSON.parse(new TextDecoder().decode(manifest)).files ?? {};
  } catch {
    // Not JSON: the wasm module says what is wrong with it.
  }
  const entry = (name) => (files && typeof files[name] === "object" ? files[name] : {});
  const names = ["catalog.json", "weights.safetensors"];
  progress.expect(manifest.length);
  for (const name of names) progress.expect(Number(entry(name).bytes) || 0);
  const [catalog, weights] = await Promise.all(names.map((name) =>
    cachedBytes(base + name, String(entry(name).sha256 ?? ""), progress)));
  const digests = await sha256Hex([catalog, weights]);
  measure("tanp:bundle", started);
  return [manifest, catalog, weights, digests];
}

/**
 * The SHA-256 of each of `files` as lowercase hex, from WebCrypto (a couple of milliseconds
 * where the wasm code, on its first run, takes 40-50 ms for the shipped bundle); the wasm module
 * checks them against the manifest. Undefined where WebCrypto is missing (insecure contexts):
 * the wasm module then hashes the files itself.
 */
async function sha256Hex(files) {
  const subtle = globalThis.crypto?.subtle;
  if (!subtle) return undefined;
  try {
    const hex = async (bytes) => Array.from(new Uint8Array(await subtle.digest("SHA-256", bytes)),
      (b) => b.toString(16).padStart(2, "0")).join("");
    return await Promise.all(files.map(hex));
  } catch {
    return undefined;
  }
}

const now = () => globalThis.performance?.now() ?? Date.now();

/** A User Timing entry named `name` from `start` to now (the browser's performance panel shows
 * them: tanp:bundle, tanp:wasm <backend>, tanp:create). */
function measure(name, start) {
  try {
    globalThis.performance?.measure?.(name, { start, end: now() });
  } catch {
    // No User Timing here: nothing to record.
  }
}

/** Throws when `object` has an own property other than `allowed`. */
function refuseUnknown(object, allowed, what) {
  const extra = Object.keys(object).find((key) => !allowed.includes(key));
  if (extra !== undefined) {
    throw new Error(`${what} has the unknown field ${JSON.stringify(shorten(extra, 40))}: expected ${allowed.join(", ")}`);
  }
}

/**
 * The request as the JSON text wasm parses, built from plain copies of the caller's fields.
 * Throws a readable Error for anything that cannot be one: getters or proxies that throw,
 * cycles, nesting too deep for JSON.stringify, too many ratings, a text over the size cap.
 */
function encodeRequest(request, fields) {
  let plain;
  try {
    if (request === null || typeof request !== "object") throw new Error("it must be an object");
    refuseUnknown(request, ["ratings", ...fields], "the request");
    const ratings = request.ratings;
    if (!Array.isArray(ratings)) throw new Error("ratings must be an array of { item, rating }");
    const count = ratings.length;
    if (count > MAX_RATINGS) throw new Error(`it has ${count} ratings, at most ${MAX_RATINGS} are accepted`);
    plain = { ratings: Array.from({ length: count }, (_, i) => {
      const r = ratings[i];
      if (r === null || typeof r !== "object") return r; // wasm names the wrong type
      refuseUnknown(r, ["item", "rating"], `rating ${i}`);
      const { item, rating } = r;
      if (typeof rating === "number" && !Number.isFinite(rating)) {
        // JSON has no NaN or Infinity: say what the model would have said.
        throw new Error(`rating ${rating} for item ${shorten(item, 64)} is out of range: expected a finite number`);
      }
      return { item, rating };
    }) };
    for (const field of fields) {
      const value = request[field];
      if (value !== undefined) plain[field] = value;
    }
  } catch (e) {
    throw new Error(`invalid request: ${reason(e)}`);
  }
  let text;
  try {
    text = JSON.stringify(plain);
  } catch (e) {
    throw new Error(`invalid request: it cannot be written as JSON (${reason(e)})`);
  }
  if (text.length > MAX_REQUEST_BYTES) {
    throw new Error(`invalid request: it is ${text.length} characters long as JSON, at most ${MAX_REQUEST_BYTES} are accepted`);
  }
  return text;
}

export class Recommender {
  #engine;
  #bytes;
  #inner = null;
  #generation = -1;
  #timeoutMs;
  #cached;
  /** Why this backend was chosen, in words. */
  backendReason;
  /** Milliseconds from the start of `load` until the model was ready. */
  loadMs;

  constructor(engine, bytes, backend, timeoutMs) {
    this.#engine = engine;
    this.#bytes = bytes;
    this.#timeoutMs = timeoutMs;
    this.#cached = { backend };
  }

  /**
   * Loads the model bundle in the directory `modelUrl` (manifest.json, catalog.json,
   * weights.safetensors). `backend`: "auto" (default), "webgpu" or "cpu". `wasmUrl` and
   * `webgpuWasmUrl`: where tanp_bg.wasm / tanp_webgpu_bg.wasm live, when not next to this file.
   * `timeoutMs`: how long one call into wasm may take before the module is restarted.
   */
  static async load(modelUrl, { backend = "auto", wasmUrl, webgpuWasmUrl, timeoutMs = DEFAULT_TIMEOUT_MS, onProgress } = {}) {
    const start = now();
    if (!BACKENDS.includes(backend)) {
      throw new Error(`unknown backend ${JSON.stringify(backend)}: expected "auto", "webgpu" or "cpu"`);
    }
    if (typeof modelUrl !== "string" && !(modelUrl instanceof URL)) {
      throw new Error("modelUrl must be the URL of a model bundle directory");
    }
    if (!(Number.isFinite(timeoutMs) && timeoutMs > 0)) throw new Error(`timeoutMs must be a positive number, found ${shorten(timeoutMs, 40)}`);
    const base = String(modelUrl).replace(/\/?$/, "/");
    const urls = { cpu: wasmUrl, webgpu: webgpuWasmUrl };
    const progress = new Progress(onProgress);
    const bundle = fetchBundle(base, progress);
    bundle.catch(() => {}); // awaited below; this only keeps an early failure from being "unhandled"
    // The engine of `backend`, its wasm module compiling from now on, while the bundle
    // downloads (an error surfaces in #ready); starting twice is starting once.
    const started = (backend) => {
      const e = engine(backend, urls[backend]);
      e.progress = progress;
      e.instance().catch(() => {});
      return e;
    };
    // A backend asked for by name compiles while the adapter is requested, too.
    if (backend === "cpu" || (backend === "webgpu" && globalThis.navigator?.gpu)) started(backend);
    let choice = await chooseBackend(backend);
    const create = async (backend) => {
      const e = started(backend);
      const model = new Recommender(e, await bundle, backend, timeoutMs);
      await model.#ready();
      return model;
    };
    let model;
    try {
      model = await create(choice.backend);
    } catch (e) {
      if (choice.backend !== "webgpu" || backend === "webgpu") throw e;
      // auto: a hardware adapter that burn could not use; say so and run on the CPU.
      choice = { backend: "cpu", reason: `CPU (wasm SIMD): WebGPU failed to start: ${reason(e)}` };
      model = await create("cpu");
    }
    model.backendReason = choice.reason;
    model.loadMs = now() - start;
    // The catalog's item side is computed after the caller has heard that the model is ready
    // (a macrotask later), not before: a visitor takes longer to rate than this takes.
    setTimeout(() => model.warm().catch(() => {}), 0);
    return model;
  }

  /** Computes what does not depend on the visitor now instead of on the first recommendation. */
  async warm() {
    const start = now();
    await this.#run((inner) => inner.warm());
    measure("tanp:warm", start);
  }

  /**
   * The model on the engine's live instance: built from the bundle's bytes on first use and
   * again after the instance was replaced. The first build also reads what never changes.
   */
  async #ready() {
    for (let attempt = 0; ; attempt++) {
      if (this.#inner && this.#generation === this.#engine.generation) return this.#inner;
      const generation = this.#engine.generation;
      const [manifest, catalog, weights, digests] = this.#bytes;
      let inner;
      try {
        inner = await this.#engine.call(
          async (glue) => {
            const started = now();
            const created = await glue.Recommender.create(manifest, catalog, weights, this.#cached.backend, digests);
            measure("tanp:create", started);
            if (!this.#cached.info) {
              this.#cached = {
                ...this.#cached, k: created.k, training: created.trainingClusters(), info: created.info(),
              };
            }
            return created;
          },
          this.#timeoutMs,
          generation,
        );
      } catch (e) {
        if (e instanceof Stale && attempt === 0) continue;
        throw e instanceof Stale ? new Error("the wasm module was restarted twice while the model loaded") : e;
      }
      this.#inner = inner;
      this.#generation = generation;
      return inner;
    }
  }

  /** "webgpu" or "cpu". */
  get backend() {
    return this.#cached.backend;
  }

  /** Number of soft clusters k. */
  get k() {
    return this.#cached.k;
  }

  /** The items the model knows: [{ id, title, year, genres }]. */
  catalog() {
    // Parsed here from the bundle's bytes (which the model was built and checked from) rather
    // than converted out of wasm: V8's JSON parser is several times faster at 100k items.
    this.#cached.catalog ??= JSON.parse(this.catalogText()).items;
    return this.#cached.catalog;
  }

  /**
   * The bundle's catalog.json as text (its `items` are what catalog() returns): a string crosses
   * to another thread (postMessage) several times faster than the parsed items.
   */
  catalogText() {
    return new TextDecoder().decode(this.#bytes[1]);
  }

  /** The soft cluster assignments of sampled training tasks: [{ user, ratings, clusters }]. */
  trainingClusters() {
    return this.#cached.training;
  }

  /** Format, config, dataset, provenance (command, metrics) of the loaded bundle. */
  info() {
    return this.#cached.info;
  }

  /**
   * Adapts to the ratings (the support set) and scores the whole catalog:
   * { items: [{ id, title, score, std }], clusters, ms }.
   */
  async recommend(request) {
    const start = now();
    const text = encodeRequest(request, ["top", "exclude_rated", "profile", "min_ratings"]);
    const result = await this.#run((inner) => inner.recommend(text));
    result.ms = now() - start;
    return result;
  }

  /**
   * Every intermediate of the paper's Figure 2 for these ratings: { support, encodings (r_j,
   * Eq. 7), mu, sigma (Eq. 8-9), task (t_i, Eq. 10), clusters (c_i, Eq. 11), task_embedding
   * (o_i, Eq. 12), film: [{ gamma, beta }] per decoder layer (Eq. 15/16) }.
   */
  async explain(request) {
    const text = encodeRequest(request, ["profile"]);
    return this.#run((inner) => inner.explain(text));
  }

  /** `work(model)` on a live instance; once more on a fresh one if the instance was replaced first. */
  async #run(work) {
    for (let attempt = 0; ; attempt++) {
      const inner = await this.#ready();
      try {
        return await this.#engine.call(() => work(inner), this.#timeoutMs, this.#generation);
      } catch (e) {
        if (!(e instanceof Stale) || attempt > 0) throw e instanceof Stale ? new Error("the wasm module was restarted twice during one call") : e;
      }
    }
  }

  /** Frees the wasm memory held by the model. */
  free() {
    const inner = this.#inner;
    this.#inner = null;
    if (inner && this.#generation === this.#engine.generation) inner.free();
  }
}

// tanp: the TaNP recommender in the browser. A thin layer over two builds of one wasm-bindgen
// module: tanp.js / tanp_bg.wasm (CPU with wasm SIMD, small) and tanp_webgpu.js /
// tanp_webgpu_bg.wasm (burn's WebGPU runtime and no CPU backend, larger). Only the one the chosen backend
// needs is downloaded. This file fetches a model bundle, chooses the backend and times calls.

/** The two builds: which glue module and wasm file each backend needs. */
const MODULES = {
  cpu: { glue: "./tanp.js", option: "wasmUrl" },
  webgpu: { glue: "./tanp_webgpu.js", option: "webgpuWasmUrl" },
};
const loaded = {};
const instances = {};

/**
 * Instantiates the wasm build for `backend` ("cpu" or "webgpu") once; `wasmUrl` says where its
 * .wasm file lives when it is not next to this file. Resolves to the glue module's exports.
 */
export function initWasm(backend = "cpu", wasmUrl) {
  const spec = MODULES[backend];
  if (!spec) return Promise.reject(new Error(`unknown backend ${JSON.stringify(backend)}: expected "webgpu" or "cpu"`));
  if (!loaded[backend]) {
    loaded[backend] = import(spec.glue)
      .then(async (glue) => {
        instances[backend] = await glue.default(wasmUrl ? { module_or_path: wasmUrl } : undefined);
        return glue;
      })
      .catch((e) => {
        loaded[backend] = null;
        throw new Error(`cannot load the tanp wasm module for ${backend}: ${e?.message ?? e}`);
      });
  }
  return loaded[backend];
}

/** Bytes of the loaded wasm modules' linear memory (0 before one is loaded): for leak checks. */
export function wasmMemoryBytes() {
  return Object.values(instances).reduce((sum, e) => sum + (e?.memory?.buffer.byteLength ?? 0), 0);
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
    return refuse(`requestAdapter failed: ${e?.message ?? e}`);
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

async function fetchBytes(url) {
  let response;
  try {
    response = await fetch(url);
  } catch (e) {
    throw new Error(`cannot fetch ${url}: ${e?.message ?? e}`);
  }
  if (!response.ok) throw new Error(`cannot fetch ${url}: HTTP ${response.status}`);
  return new Uint8Array(await response.arrayBuffer());
}

const now = () => globalThis.performance?.now() ?? Date.now();

export class Recommender {
  #inner;
  #catalog = null;
  /** Why this backend was chosen, in words. */
  backendReason;
  /** Milliseconds from the start of `load` until the model was ready. */
  loadMs;

  constructor(inner, reason, loadMs) {
    this.#inner = inner;
    this.backendReason = reason;
    this.loadMs = loadMs;
  }

  /**
   * Loads the model bundle in the directory `modelUrl` (manifest.json, catalog.json,
   * weights.safetensors). `backend`: "auto" (default), "webgpu" or "cpu". `wasmUrl` and
   * `webgpuWasmUrl`: where tanp_bg.wasm / tanp_webgpu_bg.wasm live, when not next to this file.
   */
  static async load(modelUrl, { backend = "auto", wasmUrl, webgpuWasmUrl } = {}) {
    const start = now();
    if (!BACKENDS.includes(backend)) {
      throw new Error(`unknown backend ${JSON.stringify(backend)}: expected "auto", "webgpu" or "cpu"`);
    }
    if (typeof modelUrl !== "string" && !(modelUrl instanceof URL)) {
      throw new Error("modelUrl must be the URL of a model bundle directory");
    }
    const base = String(modelUrl).replace(/\/?$/, "/");
    const urls = { cpu: wasmUrl, webgpu: webgpuWasmUrl };
    const bundle = Promise.all(["manifest.json", "catalog.json", "weights.safetensors"].map((f) => fetchBytes(base + f)));
    bundle.catch(() => {}); // awaited below; this only keeps an early failure from being "unhandled"
    let choice = await chooseBackend(backend);
    const create = async (backend) => {
      const [glue, [manifest, catalog, weights]] = await Promise.all([initWasm(backend, urls[backend]), bundle]);
      return glue.Recommender.create(manifest, catalog, weights, backend);
    };
    let inner;
    try {
      inner = await create(choice.backend);
    } catch (e) {
      if (choice.backend !== "webgpu" || backend === "webgpu") throw e;
      // auto: a hardware adapter that burn could not use; say so and run on the CPU.
      choice = { backend: "cpu", reason: `CPU (wasm SIMD): WebGPU failed to start: ${e?.message ?? e}` };
      inner = await create("cpu");
    }
    return new Recommender(inner, choice.reason, now() - start);
  }

  /** "webgpu" or "cpu". */
  get backend() {
    return this.#inner.backend;
  }

  /** Number of soft clusters k. */
  get k() {
    return this.#inner.k;
  }

  /** The items the model knows: [{ id, title, year, genres }]. */
  catalog() {
    if (!this.#catalog) this.#catalog = this.#inner.catalog();
    return this.#catalog;
  }

  /** The soft cluster assignments of sampled training tasks: [{ user, ratings, clusters }]. */
  trainingClusters() {
    return this.#inner.trainingClusters();
  }

  /** Format, config, dataset, provenance (command, metrics) of the loaded bundle. */
  info() {
    return this.#inner.info();
  }

  /**
   * Adapts to the ratings (the support set) and scores the whole catalog:
   * { items: [{ id, title, score, std }], clusters, ms }.
   */
  async recommend({ ratings, top = 10, exclude_rated = true, profile, min_ratings } = {}) {
    const start = now();
    const request = { ratings, top, exclude_rated };
    if (profile !== undefined) request.profile = profile;
    if (min_ratings !== undefined) request.min_ratings = min_ratings;
    if (!Array.isArray(ratings)) throw new Error("invalid request: ratings must be an array of { item, rating }");
    const result = await this.#inner.recommend(request);
    result.ms = now() - start;
    return result;
  }

  /**
   * Every intermediate of the paper's Figure 2 for these ratings: { support, encodings (r_j,
   * Eq. 7), mu, sigma (Eq. 8-9), task (t_i, Eq. 10), clusters (c_i, Eq. 11), task_embedding
   * (o_i, Eq. 12), film: [{ gamma, beta }] per decoder layer (Eq. 15/16) }.
   */
  async explain({ ratings, profile } = {}) {
    if (!Array.isArray(ratings)) throw new Error("invalid request: ratings must be an array of { item, rating }");
    const request = { ratings };
    if (profile !== undefined) request.profile = profile;
    return this.#inner.explain(request);
  }

  /** Frees the wasm memory held by the model. */
  free() {
    this.#inner.free();
  }
}

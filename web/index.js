// tanp: the TaNP recommender in the browser. A thin layer over the wasm-bindgen module
// (tanp.js / tanp_bg.wasm): fetching a model bundle, choosing the backend, timing calls.
import init, { Recommender as WasmRecommender } from "./tanp.js";

let ready = null;
let exports = null;
/** Instantiates the wasm module once (tanp_bg.wasm next to this file unless given). */
export function initWasm(wasmUrl) {
  if (!ready) {
    ready = init(wasmUrl ? { module_or_path: wasmUrl } : undefined).then((e) => (exports = e), (e) => {
      ready = null;
      throw new Error(`cannot load the tanp wasm module: ${e?.message ?? e}`);
    });
  }
  return ready;
}

/** Bytes of the wasm module's linear memory (0 before it is loaded): for leak checks. */
export function wasmMemoryBytes() {
  return exports?.memory?.buffer.byteLength ?? 0;
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
   * weights.safetensors). `backend`: "auto" (default), "webgpu" or "cpu".
   */
  static async load(modelUrl, { backend = "auto", wasmUrl } = {}) {
    const start = now();
    if (!BACKENDS.includes(backend)) {
      throw new Error(`unknown backend ${JSON.stringify(backend)}: expected "auto", "webgpu" or "cpu"`);
    }
    if (typeof modelUrl !== "string" && !(modelUrl instanceof URL)) {
      throw new Error("modelUrl must be the URL of a model bundle directory");
    }
    const base = String(modelUrl).replace(/\/?$/, "/");
    const [, manifest, catalog, weights] = await Promise.all([
      initWasm(wasmUrl),
      fetchBytes(base + "manifest.json"),
      fetchBytes(base + "catalog.json"),
      fetchBytes(base + "weights.safetensors"),
    ]);
    let choice = await chooseBackend(backend);
    let inner;
    try {
      inner = await WasmRecommender.create(manifest, catalog, weights, choice.backend);
    } catch (e) {
      if (choice.backend !== "webgpu" || backend === "webgpu") throw e;
      // auto: a hardware adapter that burn could not use; say so and run on the CPU.
      choice = { backend: "cpu", reason: `CPU (wasm SIMD): WebGPU failed to start: ${e?.message ?? e}` };
      inner = await WasmRecommender.create(manifest, catalog, weights, "cpu");
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
  async recommend({ ratings, top = 10, exclude_rated = true, profile } = {}) {
    const start = now();
    const request = { ratings, top, exclude_rated };
    if (profile !== undefined) request.profile = profile;
    if (!Array.isArray(ratings)) throw new Error("invalid request: ratings must be an array of { item, rating }");
    const result = await this.#inner.recommend(request);
    result.ms = now() - start;
    return result;
  }

  /** Frees the wasm memory held by the model. */
  free() {
    this.#inner.free();
  }
}

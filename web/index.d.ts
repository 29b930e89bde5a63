/** The TaNP recommender (Lin et al., WWW 2021) running in the browser. */
export type Backend = "webgpu" | "cpu";

export interface LoadOptions {
  /** "auto" (default): WebGPU with a hardware adapter, else the wasm CPU path. */
  backend?: "auto" | Backend;
  /** Where tanp_bg.wasm (the CPU build) lives, when not next to this module. */
  wasmUrl?: string | URL;
  /** Where tanp_webgpu_bg.wasm (the WebGPU build) lives, when not next to this module. */
  webgpuWasmUrl?: string | URL;
  /**
   * How long one call into wasm may take (default 60000 ms). A call that takes longer, or a
   * module that panics, rejects the calls in flight and the module is restarted by itself; the
   * model moves to the new instance on its next call.
   */
  timeoutMs?: number;
  /**
   * Called as the bundle and the wasm build download (or come out of the browser's cache, where
   * an earlier visit kept them under their SHA-256): bytes so far, the total known so far (the
   * manifest's sizes, then the wasm's), and the file.
   */
  onProgress?: (progress: { loaded: number; total: number; file: string }) => void;
}

/** The most ratings one request may hold. */
export declare const MAX_RATINGS: 200;
/** The longest request accepted, in characters of its JSON text. */
export declare const MAX_REQUEST_BYTES: number;
/** The default of `LoadOptions.timeoutMs`. */
export declare const DEFAULT_TIMEOUT_MS: number;

export interface CatalogItem {
  id: string;
  title: string;
  year: number | null;
  genres: string[];
  /** An image URL (your own data's items file), shown by the widget unless images="off". */
  image?: string;
  /** The item's page (your own data's items file). */
  link?: string;
  /** How many training users rated the item (absent where unknown). */
  ratings?: number;
}

export interface Rating {
  /** A catalog item id (MovieLens movie id for the shipped model). */
  item: string | number;
  /** 1-5 for the shipped model. */
  rating: number;
}

export interface RecommendRequest {
  ratings: Rating[];
  /** How many items to return (default 10). */
  top?: number;
  /** Leave the rated items out (default true). */
  exclude_rated?: boolean;
  /**
   * One value index per user field (0 = not given); omitted = nothing given. A model trained
   * with every user field hidden (its manifest lists no `profile_fields`) rejects any non-zero value.
   */
  profile?: number[];
  /** Only items that at least this many training users rated (default 0: all). */
  min_ratings?: number;
}

export interface ScoredItem {
  id: string;
  title: string;
  /** The prediction with z at the mean of q(z | S). */
  score: number;
  /** Spread of the prediction over samples of z ~ q(z | S). */
  std: number;
}

export interface Recommendation {
  items: ScoredItem[];
  /** The soft cluster assignment of the visitor's task (k numbers summing to 1). */
  clusters: number[];
  /**
   * What `score` is: `"rating"`, a predicted rating in the model's range (the paper's
   * objective); or `"catalog-share"`, the item's share of a softmax over the whole catalog
   * (the catalog objective): how likely it is the next item the visitor likes.
   */
  score_kind: "rating" | "catalog-share";
  /** Milliseconds the call took. */
  ms: number;
}

export interface TaskAssignment {
  user: string;
  ratings: number;
  clusters: number[];
}

/** Bytes of the loaded wasm modules' linear memory (0 before one is loaded). */
export declare function wasmMemoryBytes(): number;

/** The live instance of the wasm build for one backend (Recommender.load calls it). */
export declare function initWasm(backend?: Backend, wasmUrl?: string | URL): Promise<unknown>;

/**
 * Tests only: a call on a backend's instance that, once in flight, panics or never settles.
 * Resolves to the message the call was rejected with (null if it was not).
 */
export declare function __testFault(backend: Backend, kind: "panic" | "hang", timeoutMs?: number): Promise<string | null>;

/** The paper's Figure 2 for one task; arrays are empty where the variant has no such part. */
export interface Explanation {
  /** The rated item ids, in the order of `encodings`. */
  support: string[];
  /** r_j = h_theta([u | v_j | y_j]) of each support point (Eq. 7). */
  encodings: number[][];
  /** The prior q(z | S) = N(mu, sigma^2) (Eq. 8-9). */
  mu: number[];
  sigma: number[];
  /** t_i, the temporary task embedding (Eq. 10). */
  task: number[];
  /** c_i, the soft cluster assignment (Eq. 11). */
  clusters: number[];
  /** o_i, the final task embedding (Eq. 12). */
  task_embedding: number[];
  /** FiLM scale and shift of each decoder hidden layer (Eq. 15/16). */
  film: { gamma: number[]; beta: number[] }[];
}

export declare class Recommender {
  private constructor();
  /** Loads a model bundle directory (manifest.json, catalog.json, weights.safetensors). */
  static load(modelUrl: string | URL, options?: LoadOptions): Promise<Recommender>;
  readonly backend: Backend;
  /** Why this backend was chosen. */
  readonly backendReason: string;
  /** Milliseconds from the start of load until ready. */
  readonly loadMs: number;
  /** Number of soft clusters. */
  readonly k: number;
  catalog(): CatalogItem[];
  /** The bundle's catalog.json as text (`JSON.parse(text).items` is catalog()): cheaper to post to another thread. */
  catalogText(): string;
  trainingClusters(): TaskAssignment[];
  info(): Record<string, unknown>;
  /**
   * Rejects with a readable, bounded Error on bad input (unknown item, rating out of range, more
   * than MAX_RATINGS ratings, a request that cannot be JSON, ...); the model keeps answering.
   */
  recommend(request: RecommendRequest): Promise<Recommendation>;
  /** Every intermediate of the paper's Figure 2 for these ratings. */
  explain(request: { ratings: Rating[]; profile?: number[] }): Promise<Explanation>;
  /** Prepares for the first rating now instead of on it (`load` schedules it right after it
   * resolves): computes the catalog's item side and makes one recommendation for a made-up
   * visitor, which compiles that path's code and, on WebGPU, its kernels. */
  warm(): Promise<void>;
  free(): void;
}

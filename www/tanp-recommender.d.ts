/**
 * <tanp-recommender>: the TaNP widget (www/tanp-recommender.js). A visitor rates items; the model,
 * in a Web Worker, adapts with no gradient step and shows recommendations and the visitor's soft
 * cluster assignment beside training users (the paper's Figure 4).
 *
 * Attributes (each with a property that reflects to it): model, backend, top, min-ratings
 * (minRatings), call-timeout (callTimeout), images; worker and loading="lazy" as attributes only.
 * Parts: bar, rate, candidates, ratings, recommendations, figure4, heatmap.
 * CSS custom properties: --tanp-font, --tanp-fg, --tanp-bg, --tanp-muted, --tanp-accent,
 * --tanp-border, --tanp-radius, --tanp-star, --tanp-star-off, --tanp-heat-low, --tanp-heat-high,
 * --tanp-heat-edge.
 */
import type { Recommendation } from "./pkg/index.js";

export interface Rated {
  item: string;
  /** An integer 1-5. */
  rating: number;
}

export interface TanpEvents {
  /** The model is ready. */
  "tanp-load": CustomEvent<{ backend: "webgpu" | "cpu"; reason: string; loadMs: number; items: number }>;
  /** Download progress of the bundle and the wasm build. */
  "tanp-progress": CustomEvent<{ loaded: number; total: number; file: string }>;
  /** The visitor's ratings changed (also after `ratings = ...`, `rate`, `unrate`, `clear`). */
  "tanp-change": CustomEvent<{ ratings: Rated[] }>;
  /** New recommendations for the current ratings. */
  "tanp-recommendations": CustomEvent<Recommendation & { ratings: Rated[]; profile: Record<string, string>; min_ratings: number; backend: string }>;
  /** Loading or recommending failed; `message` says why. */
  "tanp-error": CustomEvent<{ phase: "load" | "recommend"; message: string }>;
  /** The worker did not answer in time and was restarted. */
  "tanp-timeout": CustomEvent<{ op: string; timeoutMs: number }>;
}

export declare const MAX_RATINGS: 200;

export declare class TanpRecommender extends HTMLElement {
  /** Resolves when the model is loaded; rejects with the reason it could not be. */
  readonly ready: Promise<unknown>;
  /** The visitor's ratings; setting replaces them all (nothing changes if one is refused). */
  ratings: Rated[];
  /** The model bundle's URL; setting it loads that model. */
  model: string;
  backend: "auto" | "webgpu" | "cpu";
  /** 1-100 (default 10). */
  top: number;
  /** Reading gives the well-known filter in force (0 when off); setting sets the threshold. */
  minRatings: number;
  /** Milliseconds per worker request (default 30000; four times that to load). */
  callTimeout: number;
  /** Whether recommendations show the items' images (attribute `images`, "off" hides them). */
  images: boolean;
  /** The visitor's demographics, { field: label }, for the fields they gave. */
  readonly profile: Record<string, string>;
  /** The bundle's rating scale as whole stars (1-5 for MovieLens): the stars shown and the ratings `rate` takes. */
  readonly scale: { lo: number; hi: number };
  /** Rates an item; throws a readable Error for an unknown item, a rating off the scale, or more than 200 ratings. */
  rate(item: string, rating: number): void;
  unrate(item: string): void;
  clear(): void;
  itemTitle(id: string): string | null;
  /** The paper's Figure 2 for the current ratings (null while nothing is rated). */
  explain(): Promise<unknown>;
  addEventListener<K extends keyof TanpEvents>(type: K, listener: (event: TanpEvents[K]) => void, options?: boolean | AddEventListenerOptions): void;
  addEventListener(type: string, listener: EventListenerOrEventListenerObject, options?: boolean | AddEventListenerOptions): void;
}

declare global {
  interface HTMLElementTagNameMap {
    "tanp-recommender": TanpRecommender;
  }
}

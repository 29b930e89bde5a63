// The Web Worker that hosts the wasm model, so the page never freezes while it computes.
// Messages: { id, op: "load", modelUrl, backend }, { id, op: "recommend" | "explain", request };
// replies: { id, ok: true, result } or { id, ok: false, error }, and while loading
// { id, progress: { loaded, total, file } }.
import { Recommender } from "./pkg/index.js";

let recommender = null;

async function handle(message) {
  switch (message.op) {
    case "load": {
      recommender?.free();
      recommender = null;
      // Download progress goes to the page as { id, progress: { loaded, total, file } }.
      const onProgress = (progress) => self.postMessage({ id: message.id, progress });
      const r = await Recommender.load(message.modelUrl, { backend: message.backend, onProgress });
      recommender = r;
      return {
        backend: r.backend,
        reason: r.backendReason,
        loadMs: r.loadMs,
        k: r.k,
        // The page parses the text: posting a string is several times cheaper than the items.
        catalogText: r.catalogText(),
        training: r.trainingClusters(),
        info: r.info(),
      };
    }
    case "recommend":
      if (!recommender) throw new Error("no model is loaded yet");
      return recommender.recommend(message.request);
    case "explain":
      if (!recommender) throw new Error("no model is loaded yet");
      return recommender.explain(message.request);
    default:
      throw new Error(`unknown operation ${JSON.stringify(message.op)}`);
  }
}

self.onmessage = async ({ data }) => {
  try {
    self.postMessage({ id: data.id, ok: true, result: await handle(data) });
  } catch (e) {
    self.postMessage({ id: data.id, ok: false, error: String(e?.message ?? e) });
  }
};

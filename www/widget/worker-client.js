// The widget's side of its Web Worker (worker.js): requests with ids, answers and progress
// messages, a time limit per request, and the failure of the worker itself.

let nextId = 0;

/**
 * A module worker for `url`. A worker script must come from the page's origin: when the widget
 * is served from another one (a CDN, with CORS), the worker starts from a same-origin shim, a
 * blob module that imports it (under a Content-Security-Policy that needs `worker-src blob:`;
 * or host worker.js and pkg/ on the page's origin and point the `worker` attribute at it).
 */
function startWorker(url) {
  if (url.origin === globalThis.location?.origin) return new Worker(url, { type: "module" });
  const shim = URL.createObjectURL(new Blob([`import ${JSON.stringify(url.href)};\n`], { type: "text/javascript" }));
  return new Worker(shim, { type: "module" });
}

/** One worker hosting the model. */
export class ModelWorker {
  #worker;
  #pending = new Map();
  #onProgress;

  /**
   * Starts the worker at `url`. `onProgress(progress)` receives the download progress of a
   * load; `onFailure(error)` hears that the worker itself failed (every pending call is
   * rejected with that error too).
   */
  constructor(url, { onProgress = () => {}, onFailure = () => {} } = {}) {
    this.#onProgress = onProgress;
    this.#worker = startWorker(url);
    this.#worker.onmessage = ({ data }) => {
      const p = this.#pending.get(data.id);
      if (!p) return;
      if (data.progress) {
        this.#onProgress(data.progress);
        return;
      }
      this.#pending.delete(data.id);
      data.ok ? p.resolve(data.result) : p.reject(new Error(data.error));
    };
    this.#worker.onerror = (e) => {
      const error = new Error(`the model worker failed: ${e.message || "could not start"}`);
      this.#rejectAll(error);
      onFailure(error);
    };
  }

  /**
   * One request `{ op, ...payload }`; resolves with the worker's answer. A request that gets no
   * answer within `timeoutMs` rejects, and `onTimeout(error)` is called (the caller decides
   * whether to restart: a module stuck in a loop cannot be interrupted from here).
   */
  call(op, payload, timeoutMs, onTimeout) {
    const id = ++nextId;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        if (!this.#pending.delete(id)) return;
        const error = new Error(`the model did not answer within ${timeoutMs / 1000} s`);
        reject(error);
        onTimeout(error);
      }, timeoutMs);
      const settle = (f) => (value) => {
        clearTimeout(timer);
        f(value);
      };
      this.#pending.set(id, { resolve: settle(resolve), reject: settle(reject) });
      this.#worker.postMessage({ id, op, ...payload });
    });
  }

  /** Stops the worker; pending calls reject with `reason`. */
  terminate(reason = new Error("the model was reloaded")) {
    this.#worker.terminate();
    this.#rejectAll(reason);
  }

  #rejectAll(error) {
    for (const p of this.#pending.values()) p.reject(error);
    this.#pending.clear();
  }
}

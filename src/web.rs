//! The wasm-bindgen surface: a thin layer over [`crate::bundle`] and [`crate::recommend`].
//! Every error becomes a JS `Error` (a rejected Promise) whose message says what was wrong;
//! the JS wrapper in `web/` adds `Recommender.load(url, options)` and timings.

#[cfg(feature = "webgpu")]
use std::cell::RefCell;
use std::rc::Rc;

use burn::tensor::Device;
use serde::Serialize;
use wasm_bindgen::prelude::*;

use crate::bundle::{Bundle, FileDigests, Manifest};
use crate::error::TanpError;
use crate::recommend;
use crate::request::Request;

#[cfg(feature = "webgpu")]
thread_local! {
    /// burn's wgpu runtime can be initialised once per thread; later loads reuse it.
    static WEBGPU: RefCell<Option<Device>> = const { RefCell::new(None) };
}

unsafe extern "C" {
    /// Synthesised by wasm-ld: runs the static constructors (cubecl registers its IR dialects
    /// through `inventory`).
    fn __wasm_call_ctors();
}

thread_local! {
    /// Whether the static constructors have run in this instance.
    static CONSTRUCTED: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Runs the static constructors, once per instance, before the first call that runs model code
/// (`warm`, `recommend`, `explain`). They are cubecl's IR registrations (about 4,900 tiny
/// functions in the WebGPU build, none in the CPU build), needed only to compile GPU kernels;
/// building the model launches none (tested: `a_new_model_draws_no_initial_values`), so they
/// wait until after the model is ready instead of delaying the first frame (V8 compiles each
/// one on its first call: 40-60 ms here). Because the module calls `__wasm_call_ctors` itself,
/// wasm-ld does not wrap *every* export in a call to it (its "command" heuristic), which re-ran
/// all constructors on each call from JS.
fn construct() {
    if !CONSTRUCTED.with(|c| c.replace(true)) {
        // SAFETY: runs once per instance (the flag above), before any code that reads what
        // the constructors register.
        unsafe { __wasm_call_ctors() }
    }
}

/// Installs the panic hook at instantiation.
#[wasm_bindgen(start)]
fn start() {
    std::panic::set_hook(Box::new(|info| {
        let message = crate::error::shorten(&info.to_string(), 1000);
        PANIC_HANDLER.with(|h| {
            if let Some(handler) = h.borrow().as_ref() {
                let _ = handler.call1(&JsValue::NULL, &JsValue::from_str(&message));
            }
        });
    }));
}

thread_local! {
    /// The JS function told of a panic, just before the module traps (`setPanicHandler`).
    static PANIC_HANDLER: std::cell::RefCell<Option<js_sys::Function>> =
        const { std::cell::RefCell::new(None) };
}

/// Registers the function called with a panic's message just before the module traps. A trap
/// leaves the instance unusable and, inside an async call, settles no Promise: the JS wrapper
/// uses this to reject the calls in flight and start a fresh instance.
#[wasm_bindgen(js_name = setPanicHandler)]
pub fn set_panic_handler(handler: js_sys::Function) {
    PANIC_HANDLER.with(|h| *h.borrow_mut() = Some(handler));
}

/// For the tests of the JS wrapper's recovery only: a call that, once in flight, panics
/// (`"panic"`: the module traps and the Promise never settles) or never settles (`"hang"`).
#[wasm_bindgen(js_name = __testFault)]
pub fn test_fault(kind: String) -> js_sys::Promise {
    wasm_bindgen_futures::future_to_promise(async move {
        match kind.as_str() {
            "panic" => panic!("a test fault"),
            "hang" => {
                let never = js_sys::Promise::new(&mut |_, _| {});
                wasm_bindgen_futures::JsFuture::from(never).await
            }
            other => Err(JsError::new(&format!(
                "unknown fault {:?}: expected \"panic\" or \"hang\"",
                crate::error::shorten(other, 40)
            ))
            .into()),
        }
    })
}

fn js_error(e: TanpError) -> JsError {
    JsError::new(&e.to_string())
}

/// Through a JSON string: one `JSON.parse` is far faster than building a large object (the
/// catalog) field by field across the wasm boundary.
fn to_js<T: Serialize>(value: &T) -> Result<JsValue, JsError> {
    let text = serde_json::to_string(value)
        .map_err(|e| JsError::new(&format!("cannot convert a result to JS: {e}")))?;
    js_sys::JSON::parse(&text).map_err(|_| JsError::new("cannot convert a result to JS"))
}

/// Initialises the WebGPU device once (an error when no adapter or device can be had).
#[cfg(feature = "webgpu")]
async fn webgpu() -> Result<Device, JsError> {
    if let Some(device) = WEBGPU.with(|d| d.borrow().clone()) {
        return Ok(device);
    }
    let device = Device::wgpu_options()
        .init_async()
        .await
        .map_err(|e| JsError::new(&format!("WebGPU is not available: {e}")))?;
    WEBGPU.with(|d| *d.borrow_mut() = Some(device.clone()));
    Ok(device)
}

/// This module was built without WebGPU (the CPU-only `tanp_bg.wasm`).
#[cfg(not(feature = "webgpu"))]
async fn webgpu() -> Result<Device, JsError> {
    Err(JsError::new(
        "this wasm module is the CPU-only build: load tanp_webgpu_bg.wasm for WebGPU",
    ))
}

/// burn's CPU backend, in the `web` build.
#[cfg(feature = "cpu")]
fn cpu() -> Result<Device, JsError> {
    Ok(Device::flex())
}

/// The WebGPU build carries no CPU backend (the JS wrapper loads the `web` build for the CPU).
#[cfg(not(feature = "cpu"))]
fn cpu() -> Result<Device, JsError> {
    Err(JsError::new(
        "this wasm module is the WebGPU build: load tanp_bg.wasm for the CPU backend",
    ))
}

/// A loaded model bundle on one backend.
#[wasm_bindgen]
pub struct Recommender {
    inner: Rc<recommend::Recommender>,
    manifest: Rc<Manifest>,
    backend: String,
}

#[wasm_bindgen]
impl Recommender {
    /// Checks the bundle's three files and builds the model on `backend` ("webgpu" or "cpu").
    /// `digests`: the SHA-256 of the catalog and of the weights as lowercase hex, when the
    /// caller has computed them (the JS wrapper, with WebCrypto); otherwise computed here.
    pub async fn create(
        manifest: Vec<u8>,
        catalog: Vec<u8>,
        weights: Vec<u8>,
        backend: String,
        digests: Option<Vec<String>>,
    ) -> Result<Recommender, JsError> {
        let device = match backend.as_str() {
            "cpu" => cpu()?,
            "webgpu" => webgpu().await?,
            other => {
                return Err(JsError::new(&format!(
                    "unknown backend {other:?}: expected \"webgpu\" or \"cpu\""
                )));
            }
        };
        let bundle = match digests.as_deref() {
            None => Bundle::from_bytes(&manifest, &catalog, weights),
            Some([catalog_sha256, weights_sha256]) => {
                let digests = FileDigests {
                    catalog: catalog_sha256.clone(),
                    weights: weights_sha256.clone(),
                };
                Bundle::from_hashed_bytes(&manifest, &catalog, weights, &digests)
            }
            Some(other) => {
                return Err(JsError::new(&format!(
                    "digests: expected the SHA-256 of the catalog and of the weights, found {} values",
                    other.len()
                )));
            }
        }
        .map_err(js_error)?;
        let (manifest, inner) = bundle.into_recommender(&device).map_err(js_error)?;
        Ok(Recommender {
            inner: Rc::new(inner),
            manifest: Rc::new(manifest),
            backend,
        })
    }

    /// "webgpu" or "cpu".
    #[wasm_bindgen(getter)]
    pub fn backend(&self) -> String {
        self.backend.clone()
    }

    /// Promise: prepares for the first visitor now instead of on their first rating: the
    /// catalog's item side (every item's embedding and its part of the decoder) and one
    /// recommendation for a made-up visitor, which compiles that path's code and kernels.
    pub fn warm(&self) -> js_sys::Promise {
        construct();
        let inner = self.inner.clone();
        wasm_bindgen_futures::future_to_promise(async move {
            inner.warm().await.map_err(js_error)?;
            Ok(JsValue::UNDEFINED)
        })
    }

    /// Number of soft clusters k.
    #[wasm_bindgen(getter)]
    pub fn k(&self) -> usize {
        self.inner.config.k
    }

    /// The sampled training tasks' soft assignments: `[{ user, ratings, clusters }]`.
    #[wasm_bindgen(js_name = trainingClusters)]
    pub fn training_clusters(&self) -> Result<JsValue, JsError> {
        to_js(&self.manifest.training_clusters)
    }

    /// The manifest without the file list: format, version, config, dataset, provenance.
    pub fn info(&self) -> Result<JsValue, JsError> {
        let m = &self.manifest;
        to_js(&serde_json::json!({
            "format": m.format,
            "version": m.version,
            "config": m.config,
            "dataset": m.dataset,
            "provenance": m.provenance,
            "items": self.inner.catalog.len(),
            "starters": m.starters,
            "profile_fields": m.profile_fields,
        }))
    }

    /// The JSON text of `{ ratings: [{ item, rating }], top = 10, exclude_rated = true,
    /// profile?, min_ratings = 0 }` (at most [`crate::request::MAX_REQUEST_BYTES`]) → Promise of
    /// `{ items: [{ id, title, score, std }], clusters }`.
    pub fn recommend(&self, request: String) -> js_sys::Promise {
        construct();
        let inner = self.inner.clone();
        wasm_bindgen_futures::future_to_promise(async move {
            let request = Request::parse(&request, inner.catalog.len()).map_err(js_error)?;
            let rec = inner
                .recommend(
                    &request.support,
                    request.profile.as_deref(),
                    &request.options,
                )
                .await
                .map_err(js_error)?;
            Ok(to_js(&rec)?)
        })
    }

    /// The JSON text of `{ ratings, profile? }` → Promise of every intermediate of the paper's
    /// Figure 2: `{ support, encodings, mu, sigma, task, clusters, task_embedding,
    /// film: [{ gamma, beta }] }`.
    pub fn explain(&self, request: String) -> js_sys::Promise {
        construct();
        let inner = self.inner.clone();
        wasm_bindgen_futures::future_to_promise(async move {
            let request = Request::parse(&request, inner.catalog.len()).map_err(js_error)?;
            let explanation = inner
                .explain(&request.support, request.profile.as_deref())
                .await
                .map_err(js_error)?;
            Ok(to_js(&explanation)?)
        })
    }
}

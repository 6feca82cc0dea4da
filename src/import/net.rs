//! `fetch()` for the SMART client: performs the requests `phr-smart` describes and hands back what
//! came, as its types. Nothing here decides anything about the protocol.
//!
//! Every request goes out with `credentials: "omit"` (no cookies: the bearer token is the only
//! credential), `redirect: "error"` (a redirect could carry the token elsewhere), `cache:
//! "no-store"` (health data never lands in the HTTP cache) and a timeout (an `AbortController`).
//!
//! When `fetch()` rejects, the browser does not say why. The app then asks the same URL once more
//! in `no-cors` mode (no credentials, no token, nothing readable comes back): if *that* answers,
//! the server is up and simply does not allow this site (CORS), which deserves its own message.

use std::cell::Cell;
use std::rc::Rc;

use js_sys::Uint8Array;
use phr_smart::{HttpRequest, HttpResponse, NetworkFailure};
use wasm_bindgen::closure::Closure;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{
    AbortController, Headers, RequestCache, RequestCredentials, RequestInit, RequestMode,
    RequestRedirect, Response,
};

/// Timeout of one FHIR request (a page of up to 100 resources, or an attachment).
pub const FHIR_TIMEOUT_MS: i32 = 60_000;
/// Timeout of discovery and token requests.
pub const AUTH_TIMEOUT_MS: i32 = 30_000;
/// Timeout of the CORS probe.
const PROBE_TIMEOUT_MS: i32 = 10_000;

/// Response headers the SMART crate looks at (CORS exposes these when the server allows it).
const READ_HEADERS: &[&str] = &["Content-Type", "Retry-After", "WWW-Authenticate"];

/// A `setTimeout` that aborts a request; cleared when dropped.
struct Deadline {
    handle: Option<i32>,
    fired: Rc<Cell<bool>>,
    _closure: Closure<dyn FnMut()>,
}

impl Deadline {
    fn new(controller: Option<AbortController>, ms: i32) -> Deadline {
        let fired = Rc::new(Cell::new(false));
        let flag = fired.clone();
        let closure = Closure::<dyn FnMut()>::new(move || {
            flag.set(true);
            if let Some(c) = &controller {
                c.abort();
            }
        });
        let handle = web_sys::window().and_then(|w| {
            w.set_timeout_with_callback_and_timeout_and_arguments_0(
                closure.as_ref().unchecked_ref(),
                ms,
            )
            .ok()
        });
        Deadline {
            handle,
            fired,
            _closure: closure,
        }
    }
}

impl Drop for Deadline {
    fn drop(&mut self) {
        if let (Some(h), Some(w)) = (self.handle, web_sys::window()) {
            w.clear_timeout_with_handle(h);
        }
    }
}

fn navigator_online() -> bool {
    web_sys::window()
        .map(|w| w.navigator().on_line())
        .unwrap_or(true)
}

/// Performs one request. `Err` only when no HTTP response arrived at all.
pub async fn perform(req: &HttpRequest, timeout_ms: i32) -> Result<HttpResponse, NetworkFailure> {
    let Some(window) = web_sys::window() else {
        return Err(NetworkFailure::FetchFailed);
    };
    let init = RequestInit::new();
    init.set_method(req.method.as_str());
    init.set_mode(RequestMode::Cors);
    init.set_credentials(RequestCredentials::Omit);
    init.set_redirect(RequestRedirect::Error);
    init.set_cache(RequestCache::NoStore);
    if let Ok(headers) = Headers::new() {
        for (name, value) in &req.headers {
            let _ = headers.append(name, value);
        }
        init.set_headers(&headers);
    }
    if let Some(body) = &req.body {
        init.set_body(&JsValue::from_str(body));
    }
    let controller = AbortController::new().ok();
    if let Some(c) = &controller {
        init.set_signal(Some(&c.signal()));
    }
    let deadline = Deadline::new(controller, timeout_ms);
    let result = fetch_bytes(&window, &req.url, &init).await;
    let timed_out = deadline.fired.get();
    drop(deadline);
    match result {
        Ok(resp) => Ok(resp),
        Err(()) if timed_out => Err(NetworkFailure::TimedOut),
        Err(()) if !navigator_online() => Err(NetworkFailure::Offline),
        Err(()) if answers_without_cors(&req.url).await => Err(NetworkFailure::Blocked),
        Err(()) => Err(NetworkFailure::FetchFailed),
    }
}

async fn fetch_bytes(
    window: &web_sys::Window,
    url: &str,
    init: &RequestInit,
) -> Result<HttpResponse, ()> {
    let resp: Response = JsFuture::from(window.fetch_with_str_and_init(url, init))
        .await
        .map_err(|_| ())?
        .dyn_into()
        .map_err(|_| ())?;
    let status = resp.status();
    let headers = resp.headers();
    let mut read = Vec::new();
    for name in READ_HEADERS {
        if let Ok(Some(v)) = headers.get(name) {
            read.push((name.to_string(), v));
        }
    }
    let buffer = JsFuture::from(resp.array_buffer().map_err(|_| ())?)
        .await
        .map_err(|_| ())?;
    let body = Uint8Array::new(&buffer).to_vec();
    Ok(HttpResponse {
        status,
        headers: read,
        body,
    })
}

/// Whether the server answers `url` at all when asked without CORS (an opaque response that the
/// app cannot read; no credentials, no token).
async fn answers_without_cors(url: &str) -> bool {
    let Some(window) = web_sys::window() else {
        return false;
    };
    let init = RequestInit::new();
    init.set_method("GET");
    init.set_mode(RequestMode::NoCors);
    init.set_credentials(RequestCredentials::Omit);
    init.set_cache(RequestCache::NoStore);
    let controller = AbortController::new().ok();
    if let Some(c) = &controller {
        init.set_signal(Some(&c.signal()));
    }
    let _deadline = Deadline::new(controller, PROBE_TIMEOUT_MS);
    JsFuture::from(window.fetch_with_str_and_init(url, &init))
        .await
        .is_ok()
}

/// Fetches a file that sits next to the app (e.g. `providers.json`), revalidating with the server
/// so a deployer's edit shows at once.
pub async fn fetch_own_file(path: &str) -> Result<(u16, Vec<u8>), String> {
    let window = web_sys::window().ok_or("no window")?;
    let init = RequestInit::new();
    init.set_method("GET");
    init.set_credentials(RequestCredentials::SameOrigin);
    init.set_cache(RequestCache::NoCache);
    let resp: Response = JsFuture::from(window.fetch_with_str_and_init(path, &init))
        .await
        .map_err(|e| crate::platform::js_error_text(&e))?
        .dyn_into()
        .map_err(|_| "not a response".to_string())?;
    let status = resp.status();
    let buffer = JsFuture::from(
        resp.array_buffer()
            .map_err(|e| crate::platform::js_error_text(&e))?,
    )
    .await
    .map_err(|e| crate::platform::js_error_text(&e))?;
    Ok((status, Uint8Array::new(&buffer).to_vec()))
}

pub use crate::platform::time::sleep;

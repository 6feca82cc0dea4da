//! Thin adapters over browser APIs: IndexedDB, WebCrypto, the KDF worker, files, time.
//!
//! Nothing here decides anything; the pure crates do. Each adapter turns browser errors into the
//! typed errors of the crate it serves.

pub mod files;
pub mod idb;
pub mod ids;
pub mod kdf;
pub mod modules;
pub mod time;
pub mod webcrypto;

use wasm_bindgen::{JsCast, JsValue};

/// The `name` of a DOMException (or other JS error), e.g. `QuotaExceededError`.
pub fn js_error_name(v: &JsValue) -> String {
    if let Some(e) = v.dyn_ref::<web_sys::DomException>() {
        return e.name();
    }
    js_sys::Reflect::get(v, &JsValue::from_str("name"))
        .ok()
        .and_then(|n| n.as_string())
        .unwrap_or_default()
}

/// A short description of a JS error for messages (never includes user data: browser errors don't).
pub fn js_error_text(v: &JsValue) -> String {
    let name = js_error_name(v);
    let message = js_sys::Reflect::get(v, &JsValue::from_str("message"))
        .ok()
        .and_then(|m| m.as_string())
        .or_else(|| v.as_string())
        .unwrap_or_default();
    match (name.is_empty(), message.is_empty()) {
        (false, false) => format!("{name}: {message}"),
        (false, true) => name,
        (true, false) => message,
        (true, true) => "unknown browser error".into(),
    }
}

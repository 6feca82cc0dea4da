//! Measurements of an import, for the benchmark: `window.__phrImportStats`, an object of numbers
//! only (no names, no ids, nothing about the record), and `performance` marks/measures named
//! `phr-import*`.
//!
//! | field | meaning |
//! |---|---|
//! | `total_ms` | wall time from the start (after sign-in) to the end of the last save |
//! | `network_wait_ms` | time the import waited with requests in flight and nothing to do |
//! | `parse_ms` | reading responses (the SMART session: JSON slicing, paging, references) |
//! | `store_ms` | merging resources into the record |
//! | `save_encode_ms`, `save_encrypt_ms`, `save_persist_ms` | saving: segment encoding, AES-GCM + SHA-256 (WebCrypto), IndexedDB |
//! | `index_ms` | rebuilding the views' index once at the end |
//! | `requests`, `responses`, `resources`, `response_bytes`, `saves` | counts |
//! | `finished` | 1 when the import finished, else 0 |

use wasm_bindgen::JsValue;

use crate::platform::time::perf_now;
use crate::session::SaveTimings;

#[derive(Clone, Debug, Default)]
pub struct Stats {
    pub started: f64,
    pub requests: u64,
    pub responses: u64,
    pub resources: u64,
    pub response_bytes: u64,
    pub saves: u64,
    pub network_wait_ms: f64,
    pub parse_ms: f64,
    pub store_ms: f64,
    pub index_ms: f64,
    pub total_ms: f64,
    /// Save timings of the session when the import started (subtracted).
    pub save_base: SaveTimings,
    pub save: SaveTimings,
    pub finished: bool,
}

impl Stats {
    pub fn start(save_base: SaveTimings) -> Stats {
        mark("phr-import-start");
        Stats {
            started: perf_now(),
            save_base,
            save: save_base,
            ..Stats::default()
        }
    }

    /// Writes the numbers to `window.__phrImportStats`.
    pub fn publish(&mut self) {
        self.total_ms = perf_now() - self.started;
        let Some(window) = web_sys::window() else {
            return;
        };
        let o = js_sys::Object::new();
        let fields: [(&str, f64); 16] = [
            ("total_ms", self.total_ms),
            ("network_wait_ms", self.network_wait_ms),
            ("parse_ms", self.parse_ms),
            ("store_ms", self.store_ms),
            (
                "save_encode_ms",
                self.save.encode_ms - self.save_base.encode_ms,
            ),
            (
                "save_encrypt_ms",
                self.save.encrypt_ms - self.save_base.encrypt_ms,
            ),
            (
                "save_persist_ms",
                self.save.persist_ms - self.save_base.persist_ms,
            ),
            ("index_ms", self.index_ms),
            ("requests", self.requests as f64),
            ("responses", self.responses as f64),
            ("resources", self.resources as f64),
            ("response_bytes", self.response_bytes as f64),
            ("saves", self.saves as f64),
            ("finished", if self.finished { 1.0 } else { 0.0 }),
            ("started_at_ms", self.started),
            ("wasm_memory_bytes", wasm_memory_bytes()),
        ];
        for (k, v) in fields {
            let _ = js_sys::Reflect::set(&o, &JsValue::from_str(k), &JsValue::from_f64(v));
        }
        let _ = js_sys::Reflect::set(&window, &JsValue::from_str("__phrImportStats"), &o);
    }

    pub fn finish(&mut self) {
        self.finished = true;
        self.publish();
        mark("phr-import-end");
        if let Some(p) = web_sys::window().and_then(|w| w.performance()) {
            let _ = p.measure_with_start_mark_and_end_mark(
                "phr-import",
                "phr-import-start",
                "phr-import-end",
            );
        }
    }
}

/// Writes `window[name] = { field: number, ... }` (numbers only).
pub fn publish_numbers(name: &str, fields: &[(&str, f64)]) {
    let Some(window) = web_sys::window() else {
        return;
    };
    let o = js_sys::Object::new();
    for (k, v) in fields {
        let _ = js_sys::Reflect::set(&o, &JsValue::from_str(k), &JsValue::from_f64(*v));
    }
    let _ = js_sys::Reflect::set(&window, &JsValue::from_str(name), &o);
}

pub fn mark(name: &str) {
    if let Some(p) = web_sys::window().and_then(|w| w.performance()) {
        let _ = p.mark(name);
    }
}

/// The size of this module's WebAssembly memory (it only grows, so it is the peak so far).
pub fn wasm_memory_bytes() -> f64 {
    use wasm_bindgen::JsCast;
    wasm_bindgen::memory()
        .dyn_into::<js_sys::WebAssembly::Memory>()
        .ok()
        .and_then(|m| m.buffer().dyn_into::<js_sys::ArrayBuffer>().ok())
        .map(|b| b.byte_length() as f64)
        .unwrap_or(0.0)
}

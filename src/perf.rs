//! Performance marks for the benchmark (`scripts/bench.sh`). Names and numbers only: never record
//! content. Marks are visible to `performance.getEntriesByName`; numbers go to `window.__phrStats`.

use wasm_bindgen::JsValue;

fn performance() -> Option<web_sys::Performance> {
    web_sys::window()?.performance()
}

/// `performance.mark(name)`.
pub fn mark(name: &str) {
    if let Some(p) = performance() {
        let _ = p.mark(name);
    }
}

/// `performance.measure(name, start_mark)`: from the mark until now.
pub fn measure(name: &str, start_mark: &str) {
    if let Some(p) = performance() {
        let _ = p.measure_with_start_mark(name, start_mark);
    }
}

/// Sets `window.__phrStats[key] = value` (a number).
pub fn stat(key: &str, value: f64) {
    let Some(window) = web_sys::window() else {
        return;
    };
    let stats = js_sys::Reflect::get(&window, &JsValue::from_str("__phrStats"))
        .ok()
        .filter(|v| v.is_object())
        .unwrap_or_else(|| {
            let o: JsValue = js_sys::Object::new().into();
            let _ = js_sys::Reflect::set(&window, &JsValue::from_str("__phrStats"), &o);
            o
        });
    let _ = js_sys::Reflect::set(&stats, &JsValue::from_str(key), &JsValue::from_f64(value));
}

/// Runs `f`, recording its duration as a `performance.measure` named `name`.
pub fn timed<T>(name: &str, f: impl FnOnce() -> T) -> T {
    let start = format!("{name}:start");
    mark(&start);
    let out = f();
    measure(name, &start);
    out
}

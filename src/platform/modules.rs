//! Loading the record module: the second WebAssembly module of the app, with every screen that
//! shows the record. The shell (first load) stays small; the record module is fetched and compiled
//! in the background once the shell is interactive, and started after unlock.
//!
//! `modules.json` (written by the build hook, `scripts/csp_hash.py`) names the module's
//! content-hashed files, so a new deployment is never mixed with a cached old module.

use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;

#[wasm_bindgen(inline_js = r#"
let loading = null;
export function load_record_module() {
  if (!loading) {
    loading = (async () => {
      const base = document.baseURI;
      const res = await fetch(new URL('./modules.json', base), { cache: 'no-cache', credentials: 'omit' });
      if (!res.ok) throw new Error('modules.json: HTTP ' + res.status);
      const manifest = await res.json();
      const m = await import(new URL(manifest.record.js, base).href);
      await m.default({ module_or_path: new URL(manifest.record.wasm, base).href });
      return m;
    })();
    loading.catch(() => { loading = null; });
  }
  return loading;
}
"#)]
extern "C" {
    #[wasm_bindgen(js_name = load_record_module)]
    fn load_record_module_js() -> js_sys::Promise;
}

/// The record module's exports, loading it first if needed.
pub async fn record_module() -> Result<JsValue, String> {
    JsFuture::from(load_record_module_js())
        .await
        .map_err(|e| super::js_error_text(&e))
}

/// Starts loading the record module without waiting (prefetch after the shell is interactive).
pub fn prefetch_record_module() {
    wasm_bindgen_futures::spawn_local(async {
        let _ = record_module().await;
    });
}

/// Calls an exported function of the record module.
pub fn call(module: &JsValue, name: &str, args: &[JsValue]) -> Result<JsValue, String> {
    let f: js_sys::Function = js_sys::Reflect::get(module, &JsValue::from_str(name))
        .map_err(|e| super::js_error_text(&e))?
        .dyn_into()
        .map_err(|_| format!("the record module has no {name}"))?;
    let args: js_sys::Array = args.iter().collect();
    f.apply(&JsValue::NULL, &args)
        .map_err(|e| super::js_error_text(&e))
}

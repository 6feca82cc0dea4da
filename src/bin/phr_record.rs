//! The record module: the second WebAssembly module of the app (see `platform::modules`). The shell
//! loads it in the background and calls these exports; nothing runs when it loads.

#[cfg(target_arch = "wasm32")]
mod exports {
    use wasm_bindgen::prelude::*;

    /// Opens a vault with a key the shell verified and shows the record (see `record_app::start`).
    #[wasm_bindgen]
    pub async fn start_record(options: JsValue) -> Result<(), JsValue> {
        phr_app::record_app::start(options).await
    }

    /// Starts the module's runtime and handles a sign-in returning from a provider (see
    /// `record_app::boot`).
    #[wasm_bindgen]
    pub fn boot(hooks: JsValue) {
        phr_app::record_app::boot(hooks);
    }

    /// Shows a SMART Health Link (no vault needed).
    #[wasm_bindgen]
    pub fn show_viewer(root: web_sys::HtmlElement, fragment: String) {
        phr_app::record_app::show_viewer(root, fragment);
    }

    /// Removes the SMART Health Link viewer.
    #[wasm_bindgen]
    pub fn hide_viewer() {
        phr_app::record_app::hide_viewer();
    }

    /// Locks the open vault: the screens, the record and the keys are dropped.
    #[wasm_bindgen]
    pub fn lock_record(reason: Option<String>) {
        phr_app::record_app::lock(reason);
    }
}

fn main() {
    #[cfg(target_arch = "wasm32")]
    console_error_panic_hook::set_once();
}

//! Selective sharing, the app half: the record mapped onto `phr-consent` and `phr-share`
//! (labels, segmentation, IPS, JWE, SMART Health Links, QR), the share host over HTTP, and the
//! pieces the share screen, the viewer and the item page render. See docs/sharing.md.

pub mod build;
pub mod crypto;
pub mod document;
pub mod labels_view;
pub mod log;
pub mod model;
pub mod net;
pub mod qr_view;

use std::rc::Rc;

use leptos::prelude::*;

use crate::state::AppCtx;
use model::Catalog;

/// The labelled record, rebuilt once per change of the record. Owned by the component that
/// creates it, so it is dropped with the screen (locking unmounts every record screen).
#[derive(Clone, Copy)]
pub struct CatalogCache(StoredValue<Option<(u64, Rc<Catalog>)>, LocalStorage>);

impl CatalogCache {
    pub fn new() -> CatalogCache {
        CatalogCache(StoredValue::new_local(None))
    }

    /// The catalog of the open record (tracked: callers re-run when the record changes).
    pub fn get(&self, app: AppCtx) -> Option<Rc<Catalog>> {
        let revision = app.revision.get();
        if let Some(c) = self.0.with_value(|c| {
            c.as_ref()
                .filter(|(r, _)| *r == revision)
                .map(|(_, c)| c.clone())
        }) {
            return Some(c);
        }
        let index = app.index();
        let built = app
            .session()
            .map(|s| Rc::new(Catalog::build(&s.record(), index.as_deref())));
        self.0
            .set_value(built.as_ref().map(|c| (revision, c.clone())));
        built
    }
}

impl Default for CatalogCache {
    fn default() -> Self {
        Self::new()
    }
}

/// Waits until the browser has painted (so a progress message shows before a long step).
pub async fn next_paint() {
    crate::platform::time::sleep(30).await;
}

/// Copies text to the clipboard (`navigator.clipboard.writeText`); false if the browser refused.
pub async fn copy_text(text: &str) -> bool {
    use wasm_bindgen::{JsCast, JsValue};
    let Some(window) = web_sys::window() else {
        return false;
    };
    let clipboard = js_sys::Reflect::get(&window.navigator(), &JsValue::from_str("clipboard"))
        .ok()
        .filter(|c| !c.is_undefined());
    let Some(clipboard) = clipboard else {
        return false;
    };
    let Ok(write) = js_sys::Reflect::get(&clipboard, &JsValue::from_str("writeText")) else {
        return false;
    };
    let Some(write) = write.dyn_ref::<js_sys::Function>() else {
        return false;
    };
    match write.call1(&clipboard, &JsValue::from_str(text)) {
        Ok(p) => match p.dyn_into::<js_sys::Promise>() {
            Ok(p) => wasm_bindgen_futures::JsFuture::from(p).await.is_ok(),
            Err(_) => false,
        },
        Err(_) => false,
    }
}

//! Runs Argon2id off the main thread, in a dedicated Web Worker (`src/bin/kdf_worker.rs`, built by
//! Trunk as `kdf_worker_loader.js`), so the page never freezes while a key is derived. The worker is
//! created for one derivation and terminated right after, which also returns its 64 MiB of memory.
//!
//! The passphrase crosses to the worker by `postMessage` (memory only, same origin) and the 32-byte
//! key comes back the same way.

use std::cell::RefCell;
use std::rc::Rc;

use js_sys::{Function, Object, Reflect, Uint8Array};
use phr_vault::{KdfParams, Kek, VaultError, KEY_LEN, SALT_LEN};
use wasm_bindgen::closure::Closure;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{ErrorEvent, MessageEvent, Worker};

/// The worker's loader script, relative to the page (works under any subpath).
pub const WORKER_URL: &str = "./kdf_worker_loader.js";

type Settle = Rc<RefCell<Option<(Function, Function)>>>;

fn set(obj: &Object, key: &str, value: &JsValue) {
    let _ = Reflect::set(obj, &JsValue::from_str(key), value);
}

/// Derives the passphrase key-encryption key in a Web Worker.
pub async fn derive_kek(
    passphrase: &str,
    params: &KdfParams,
    salt: &[u8; SALT_LEN],
) -> Result<Kek, VaultError> {
    // Refuse bad parameters here too, before spending any effort.
    params.check()?;
    let worker = Worker::new(WORKER_URL).map_err(|e| VaultError::StorageUnavailable {
        detail: format!(
            "the key derivation worker could not start ({})",
            super::js_error_text(&e)
        ),
    })?;

    let request = Object::new();
    set(&request, "passphrase", &JsValue::from_str(passphrase));
    set(&request, "m_kib", &JsValue::from(params.m_kib));
    set(&request, "t", &JsValue::from(params.t));
    set(&request, "p", &JsValue::from(params.p));
    set(&request, "salt", &Uint8Array::from(&salt[..]).into());

    let settle: Settle = Rc::default();
    let promise = js_sys::Promise::new(&mut |resolve, reject| {
        *settle.borrow_mut() = Some((resolve, reject));
    });

    let on_message = {
        let settle = settle.clone();
        let worker = worker.clone();
        Closure::<dyn FnMut(MessageEvent)>::new(move |event: MessageEvent| {
            let data = event.data();
            let kind = Reflect::get(&data, &"type".into())
                .ok()
                .and_then(|t| t.as_string())
                .unwrap_or_default();
            match kind.as_str() {
                "ready" => {
                    let _ = worker.post_message(&request);
                }
                "kek" | "error" => {
                    if let Some((resolve, reject)) = settle.borrow_mut().take() {
                        let f = if kind == "kek" { resolve } else { reject };
                        let _ = f.call1(&JsValue::NULL, &data);
                    }
                }
                _ => {}
            }
        })
    };
    let on_error = {
        let settle = settle.clone();
        Closure::<dyn FnMut(ErrorEvent)>::new(move |event: ErrorEvent| {
            if let Some((_, reject)) = settle.borrow_mut().take() {
                let o = Object::new();
                set(&o, "message", &JsValue::from_str(&event.message()));
                let _ = reject.call1(&JsValue::NULL, &o);
            }
        })
    };
    worker.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
    worker.set_onerror(Some(on_error.as_ref().unchecked_ref()));

    let outcome = JsFuture::from(promise).await;
    worker.terminate();
    drop(on_message);
    drop(on_error);

    match outcome {
        Ok(data) => {
            let bytes = Reflect::get(&data, &"kek".into())
                .ok()
                .and_then(|k| k.dyn_into::<Uint8Array>().ok())
                .map(|a| a.to_vec())
                .unwrap_or_default();
            let bytes: [u8; KEY_LEN] =
                bytes
                    .try_into()
                    .map_err(|_| VaultError::StorageUnavailable {
                        detail: "the key derivation worker returned a malformed key".into(),
                    })?;
            Ok(Kek::from_bytes(bytes))
        }
        Err(data) => {
            let message = Reflect::get(&data, &"message".into())
                .ok()
                .and_then(|m| m.as_string())
                .unwrap_or_else(|| "unknown error".into());
            Err(VaultError::StorageUnavailable {
                detail: format!("the key derivation failed ({message})"),
            })
        }
    }
}

//! The key-derivation Web Worker: Argon2id off the main thread.
//!
//! Protocol (structured-clone messages): the worker posts `{type: "ready"}` once its wasm is
//! running; the page posts `{passphrase, m_kib, t, p, salt: Uint8Array}`; the worker answers
//! `{type: "kek", kek: Uint8Array(32)}` or `{type: "error", message}`. The page terminates the
//! worker afterwards. Nothing is logged or stored.

#[cfg(target_arch = "wasm32")]
fn main() {
    use wasm_bindgen::closure::Closure;
    use wasm_bindgen::JsCast;

    let scope: web_sys::DedicatedWorkerGlobalScope = js_sys::global().unchecked_into();
    let reply_to = scope.clone();
    let on_message =
        Closure::<dyn FnMut(web_sys::MessageEvent)>::new(move |e: web_sys::MessageEvent| {
            let _ = reply_to.post_message(&worker::handle(&e.data()));
        });
    scope.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
    on_message.forget();
    let _ = scope.post_message(&worker::message("ready", None));
}

#[cfg(not(target_arch = "wasm32"))]
fn main() {
    eprintln!("kdf_worker only runs in a browser, as a Web Worker.");
}

#[cfg(target_arch = "wasm32")]
mod worker {
    use js_sys::{Object, Reflect, Uint8Array};
    use phr_vault::{derive_kek, KdfParams, SALT_LEN};
    use wasm_bindgen::{JsCast, JsValue};

    pub fn message(kind: &str, extra: Option<(&str, JsValue)>) -> JsValue {
        let o = Object::new();
        let _ = Reflect::set(&o, &"type".into(), &kind.into());
        if let Some((k, v)) = extra {
            let _ = Reflect::set(&o, &k.into(), &v);
        }
        o.into()
    }

    fn error(text: &str) -> JsValue {
        message("error", Some(("message", JsValue::from_str(text))))
    }

    fn number(data: &JsValue, key: &str) -> Option<u32> {
        let v = Reflect::get(data, &key.into()).ok()?.as_f64()?;
        (v >= 0.0 && v <= f64::from(u32::MAX) && v.fract() == 0.0).then_some(v as u32)
    }

    pub fn handle(data: &JsValue) -> JsValue {
        let Some(passphrase) = Reflect::get(data, &"passphrase".into())
            .ok()
            .and_then(|p| p.as_string())
        else {
            return error("no passphrase in the request");
        };
        let (Some(m_kib), Some(t), Some(p)) =
            (number(data, "m_kib"), number(data, "t"), number(data, "p"))
        else {
            return error("missing key derivation parameters");
        };
        let salt: Option<[u8; SALT_LEN]> = Reflect::get(data, &"salt".into())
            .ok()
            .and_then(|s| s.dyn_into::<Uint8Array>().ok())
            .and_then(|s| s.to_vec().try_into().ok());
        let Some(salt) = salt else {
            return error("missing or malformed salt");
        };
        match derive_kek(&passphrase, &KdfParams { m_kib, t, p }, &salt) {
            Ok(kek) => message(
                "kek",
                Some(("kek", Uint8Array::from(&kek.as_bytes()[..]).into())),
            ),
            Err(e) => error(&e.to_string()),
        }
    }
}

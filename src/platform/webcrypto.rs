//! WebCrypto: random bytes, and the bulk AES-256-GCM and SHA-256 of the vault.
//!
//! AES-GCM in WebCrypto runs natively (~25x faster than wasm), so segment blobs are sealed and
//! opened here, byte-identical to the RustCrypto reference in `phr-vault` (a browser test proves
//! it). The vault key is imported as a non-extractable `CryptoKey`.

use js_sys::{Array, Object, Reflect, Uint8Array};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{AesGcmParams, CryptoKey, SubtleCrypto};

use super::js_error_text;

fn crypto() -> web_sys::Crypto {
    let global = js_sys::global();
    Reflect::get(&global, &JsValue::from_str("crypto"))
        .ok()
        .and_then(|c| c.dyn_into::<web_sys::Crypto>().ok())
        .expect("the Web Crypto API is available in every supported browser")
}

fn subtle() -> SubtleCrypto {
    crypto().subtle()
}

/// Cryptographically secure random bytes from `crypto.getRandomValues`.
pub fn random_bytes(buf: &mut [u8]) {
    let c = crypto();
    // getRandomValues fills at most 65,536 bytes per call.
    for chunk in buf.chunks_mut(65_536) {
        c.get_random_values_with_u8_array(chunk)
            .expect("crypto.getRandomValues must not fail");
    }
}

/// The browser's randomness, for the pure crates.
pub struct WebEntropy;

impl phr_vault::Entropy for WebEntropy {
    fn fill(&mut self, buf: &mut [u8]) {
        random_bytes(buf);
    }
}

/// Imports a raw 256-bit key for AES-GCM, non-extractable.
pub async fn import_aes_key(raw: &[u8; 32]) -> Result<CryptoKey, String> {
    let algorithm = Object::new();
    Reflect::set(&algorithm, &"name".into(), &"AES-GCM".into()).map_err(|e| js_error_text(&e))?;
    let usages = Array::of2(&"encrypt".into(), &"decrypt".into());
    let key_data = Uint8Array::from(&raw[..]);
    let promise = subtle()
        .import_key_with_object("raw", &key_data.into(), &algorithm, false, &usages)
        .map_err(|e| js_error_text(&e))?;
    let key = JsFuture::from(promise)
        .await
        .map_err(|e| js_error_text(&e))?;
    key.dyn_into::<CryptoKey>()
        .map_err(|_| "importKey returned no key".into())
}

fn gcm_params(nonce: &[u8], aad: &[u8]) -> AesGcmParams {
    let params = AesGcmParams::new("AES-GCM", &Uint8Array::from(nonce));
    params.set_additional_data(&Uint8Array::from(aad));
    params
}

/// AES-256-GCM encrypt; returns ciphertext || 16-byte tag.
pub async fn aes_gcm_encrypt(
    key: &CryptoKey,
    nonce: &[u8],
    aad: &[u8],
    plaintext: &[u8],
) -> Result<Vec<u8>, String> {
    let promise = subtle()
        .encrypt_with_object_and_u8_array(&gcm_params(nonce, aad), key, plaintext)
        .map_err(|e| js_error_text(&e))?;
    let buf = JsFuture::from(promise)
        .await
        .map_err(|e| js_error_text(&e))?;
    Ok(Uint8Array::new(&buf).to_vec())
}

/// AES-256-GCM encrypt that leaves the result in JavaScript: returns `ciphertext || tag` as a JS
/// `Uint8Array`, so a segment blob is never copied back into wasm memory (it goes from here to
/// IndexedDB, beside its head; see [`crate::platform::idb::split_blob`]). WebCrypto copies
/// `plaintext` when called, so the caller may drop it as soon as this future is created.
pub fn aes_gcm_seal_js(
    key: &CryptoKey,
    nonce: &[u8],
    aad: &[u8],
    plaintext: &[u8],
) -> Result<impl std::future::Future<Output = Result<Uint8Array, String>>, String> {
    let promise = subtle()
        .encrypt_with_object_and_u8_array(&gcm_params(nonce, aad), key, plaintext)
        .map_err(|e| js_error_text(&e))?;
    Ok(async move {
        let buf = JsFuture::from(promise)
            .await
            .map_err(|e| js_error_text(&e))?;
        Ok(Uint8Array::new(&buf))
    })
}

/// The 32 bytes of a started `crypto.subtle.digest("SHA-256", …)`.
async fn digest_result(promise: Result<js_sys::Promise, JsValue>) -> Result<[u8; 32], String> {
    let promise = promise.map_err(|e| js_error_text(&e))?;
    let buf = JsFuture::from(promise)
        .await
        .map_err(|e| js_error_text(&e))?;
    let bytes = Uint8Array::new(&buf).to_vec();
    bytes
        .try_into()
        .map_err(|_| "SHA-256 digest of the wrong length".into())
}

/// AES-256-GCM decrypt; `Err(None)` when authentication fails (tampered or wrong key), `Err(Some)`
/// for other failures.
pub async fn aes_gcm_decrypt(
    key: &CryptoKey,
    nonce: &[u8],
    aad: &[u8],
    ciphertext: &[u8],
) -> Result<Vec<u8>, Option<String>> {
    let promise = subtle()
        .decrypt_with_object_and_u8_array(&gcm_params(nonce, aad), key, ciphertext)
        .map_err(|e| Some(js_error_text(&e)))?;
    match JsFuture::from(promise).await {
        Ok(buf) => Ok(Uint8Array::new(&buf).to_vec()),
        Err(e) if super::js_error_name(&e) == "OperationError" => Err(None),
        Err(e) => Err(Some(js_error_text(&e))),
    }
}

/// SHA-256 with the browser's native implementation.
pub async fn sha256(data: &[u8]) -> Result<[u8; 32], String> {
    digest_result(subtle().digest_with_str_and_u8_array("SHA-256", data)).await
}

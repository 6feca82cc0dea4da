//! The encrypted file of a share, made with the browser's native DEFLATE (`CompressionStream`)
//! and AES-GCM (WebCrypto), which are many times faster than doing both in wasm. The JWE's
//! format (header, AAD, layout) comes from `phr_share::jwe`; the browser only does the bulk
//! work. Where `CompressionStream` is missing, the body is compressed in wasm.

use js_sys::{Array, Reflect, Uint8Array};
use phr_share::jwe;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;

use crate::platform::webcrypto;

/// A compact JWE (`dir`, `A256GCM`, `zip: DEF`) of `plaintext` with `cty: application/fhir+json`,
/// under `key` with the fresh `iv`.
pub async fn encrypt_fhir_json(
    plaintext: &[u8],
    key: &[u8; 32],
    iv: [u8; 12],
) -> Result<String, String> {
    let protected = jwe::protected_header(jwe::FHIR_JSON, true);
    let body = match deflate_raw(plaintext).await {
        Some(body) => body,
        None => jwe::deflate(plaintext),
    };
    let crypto_key = webcrypto::import_aes_key(key).await?;
    let sealed = webcrypto::aes_gcm_encrypt(&crypto_key, &iv, protected.as_bytes(), &body).await?;
    jwe::compact(&protected, &iv, &sealed).map_err(|e| e.to_string())
}

/// Raw DEFLATE with the browser's `CompressionStream("deflate-raw")`; `None` if unavailable.
async fn deflate_raw(data: &[u8]) -> Option<Vec<u8>> {
    let global = js_sys::global();
    let ctor = Reflect::get(&global, &JsValue::from_str("CompressionStream")).ok()?;
    let ctor = ctor.dyn_into::<js_sys::Function>().ok()?;
    let stream = Reflect::construct(&ctor, &Array::of1(&JsValue::from_str("deflate-raw"))).ok()?;
    let blob =
        web_sys::Blob::new_with_u8_array_sequence(&Array::of1(&Uint8Array::from(data))).ok()?;
    let source = blob.stream();
    let pipe = Reflect::get(&source, &JsValue::from_str("pipeThrough"))
        .ok()?
        .dyn_into::<js_sys::Function>()
        .ok()?;
    let compressed = pipe
        .call1(&source, &stream)
        .ok()?
        .dyn_into::<web_sys::ReadableStream>()
        .ok()?;
    let response = web_sys::Response::new_with_opt_readable_stream(Some(&compressed)).ok()?;
    let buffer = JsFuture::from(response.array_buffer().ok()?).await.ok()?;
    Some(Uint8Array::new(&buffer).to_vec())
}

#[cfg(test)]
mod tests {
    use super::*;
    use wasm_bindgen_test::{wasm_bindgen_test, wasm_bindgen_test_configure};

    wasm_bindgen_test_configure!(run_in_browser);

    /// The browser-made file opens with the pure crate's decryption (and so with any JWE
    /// library): same header, AAD and layout; the browser's DEFLATE output inflates.
    #[wasm_bindgen_test]
    async fn browser_jwe_opens_with_the_reference_decryption() {
        let text = br#"{"resourceType":"Bundle","type":"document","entry":[]}"#.repeat(200);
        let key = [7u8; 32];
        let made = encrypt_fhir_json(&text, &key, [1u8; 12]).await.unwrap();
        assert!(
            deflate_raw(&text).await.is_some(),
            "Chromium has deflate-raw"
        );
        let opened = jwe::decrypt(&made, &key).unwrap();
        assert_eq!(opened.plaintext, text);
        assert_eq!(opened.content_type.as_deref(), Some(jwe::FHIR_JSON));
        assert_eq!(jwe::header_json(&made).unwrap()["zip"], "DEF");
        assert!(made.len() < text.len() / 4, "compressed");
        assert_eq!(
            jwe::decrypt(&made, &[8u8; 32]),
            Err(jwe::JweError::DecryptionFailed)
        );
    }
}

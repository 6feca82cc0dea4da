//! JWE compact serialisation as SMART Health Links use it: `alg: dir`, `enc: A256GCM`, a `cty`,
//! and optionally `zip: DEF` (raw DEFLATE, RFC 1951).
//!
//! The key and the IV are parameters: the app draws a fresh 256-bit key per share and a fresh
//! 96-bit IV per encryption from the platform's CSPRNG. Reusing an IV with the same key breaks
//! AES-GCM, so [`encrypt`] takes the IV by value and the caller must never pass the same one
//! twice for a key.

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde::Deserialize;

/// Content type of a FHIR JSON payload.
pub const FHIR_JSON: &str = "application/fhir+json";

/// Largest plaintext accepted after decompression (guards against "zip bombs").
pub const MAX_PLAINTEXT: usize = 64 * 1024 * 1024;

/// Why a JWE could not be made or opened.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum JweError {
    #[error("this is not an encrypted health record file (not a compact JWE with five parts)")]
    Malformed,
    #[error("the encrypted file's header is damaged or unreadable")]
    BadHeader,
    #[error("the file uses {0}, which this app cannot open; ask the sender to share it again with a SMART Health Links app")]
    Unsupported(String),
    #[error("the key does not open this file: the link is incomplete or wrong, or the file was changed after it was shared; ask the sender for a new link")]
    DecryptionFailed,
    #[error("the key in the link has the wrong length (expected 32 bytes); ask the sender for a new link")]
    BadKey,
    #[error("the file's compressed content is damaged")]
    BadCompression,
    #[error("the file is too large to open safely")]
    TooLarge,
}

/// A decrypted file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Decrypted {
    /// The `cty` header (e.g. `application/fhir+json`), if any.
    pub content_type: Option<String>,
    pub plaintext: Vec<u8>,
}

#[derive(Deserialize)]
struct Header {
    alg: Option<String>,
    enc: Option<String>,
    cty: Option<String>,
    zip: Option<String>,
    crit: Option<serde_json::Value>,
}

/// The protected header [`encrypt`] writes, base64url-encoded (it is also the AES-GCM AAD):
/// `{"alg":"dir","enc":"A256GCM","cty":…}` plus `"zip":"DEF"` when `compress`.
pub fn protected_header(content_type: &str, compress: bool) -> String {
    // Written by hand for a stable, conventional key order.
    let cty = serde_json::Value::String(content_type.to_string());
    let header_json = if compress {
        format!("{{\"alg\":\"dir\",\"enc\":\"A256GCM\",\"cty\":{cty},\"zip\":\"DEF\"}}")
    } else {
        format!("{{\"alg\":\"dir\",\"enc\":\"A256GCM\",\"cty\":{cty}}}")
    };
    URL_SAFE_NO_PAD.encode(header_json.as_bytes())
}

/// Raw DEFLATE (RFC 1951), as `zip: DEF` requires: what [`encrypt`] compresses with.
pub fn deflate(plaintext: &[u8]) -> Vec<u8> {
    miniz_oxide::deflate::compress_to_vec(plaintext, 9)
}

/// Assembles a compact JWE from its parts, for callers that compress and encrypt with another
/// implementation (a browser's native DEFLATE and AES-GCM): `protected` from
/// [`protected_header`], the 12-byte IV, and the AES-256-GCM output over the (compressed) body
/// with `protected` as AAD: ciphertext followed by the 16-byte tag.
pub fn compact(protected: &str, iv: &[u8; 12], sealed: &[u8]) -> Result<String, JweError> {
    if sealed.len() < 16 {
        return Err(JweError::Malformed);
    }
    let (ct, tag) = sealed.split_at(sealed.len() - 16);
    Ok(format!(
        "{protected}..{}.{}.{}",
        URL_SAFE_NO_PAD.encode(iv),
        URL_SAFE_NO_PAD.encode(ct),
        URL_SAFE_NO_PAD.encode(tag)
    ))
}

/// Encrypts `plaintext` as a compact JWE with `alg: dir`, `enc: A256GCM`, `cty`, and (when
/// `compress`) `zip: DEF`. `key`: 32 random bytes (the SHL key); `iv`: 12 fresh random bytes.
pub fn encrypt(
    plaintext: &[u8],
    key: &[u8; 32],
    iv: [u8; 12],
    content_type: &str,
    compress: bool,
) -> Result<String, JweError> {
    let protected = protected_header(content_type, compress);
    let body: Vec<u8> = if compress {
        deflate(plaintext)
    } else {
        plaintext.to_vec()
    };
    let cipher = Aes256Gcm::new(key.into());
    let sealed = cipher
        .encrypt(
            &Nonce::from(iv),
            Payload {
                msg: &body,
                aad: protected.as_bytes(),
            },
        )
        .map_err(|_| JweError::TooLarge)?;
    compact(&protected, &iv, &sealed)
}

/// Decrypts a compact JWE made with `alg: dir` and `enc: A256GCM` (with or without `zip: DEF`).
pub fn decrypt(jwe: &str, key: &[u8]) -> Result<Decrypted, JweError> {
    let key: &[u8; 32] = key.try_into().map_err(|_| JweError::BadKey)?;
    let parts: Vec<&str> = jwe.trim().split('.').collect();
    let [protected, encrypted_key, iv, ct, tag] = parts.as_slice() else {
        return Err(JweError::Malformed);
    };
    let header_bytes = URL_SAFE_NO_PAD
        .decode(protected)
        .map_err(|_| JweError::BadHeader)?;
    let header: Header = serde_json::from_slice(&header_bytes).map_err(|_| JweError::BadHeader)?;
    match header.alg.as_deref() {
        Some("dir") => {}
        Some(other) => return Err(JweError::Unsupported(format!("key management \"{other}\""))),
        None => return Err(JweError::BadHeader),
    }
    match header.enc.as_deref() {
        Some("A256GCM") => {}
        Some(other) => return Err(JweError::Unsupported(format!("encryption \"{other}\""))),
        None => return Err(JweError::BadHeader),
    }
    if let Some(z) = header.zip.as_deref().filter(|z| *z != "DEF") {
        return Err(JweError::Unsupported(format!("compression \"{z}\"")));
    }
    if header.crit.is_some() {
        return Err(JweError::Unsupported("critical header extensions".into()));
    }
    if !encrypted_key.is_empty() {
        return Err(JweError::Malformed);
    }
    let iv = URL_SAFE_NO_PAD
        .decode(iv)
        .map_err(|_| JweError::Malformed)?;
    if iv.len() != 12 {
        return Err(JweError::Unsupported(format!("a {}-byte IV", iv.len())));
    }
    let mut sealed = URL_SAFE_NO_PAD
        .decode(ct)
        .map_err(|_| JweError::Malformed)?;
    let tag = URL_SAFE_NO_PAD
        .decode(tag)
        .map_err(|_| JweError::Malformed)?;
    if tag.len() != 16 {
        return Err(JweError::DecryptionFailed);
    }
    sealed.extend_from_slice(&tag);
    let iv: [u8; 12] = iv.try_into().map_err(|_| JweError::Malformed)?;
    let cipher = Aes256Gcm::new(key.into());
    let body = cipher
        .decrypt(
            &Nonce::from(iv),
            Payload {
                msg: &sealed,
                aad: protected.as_bytes(),
            },
        )
        .map_err(|_| JweError::DecryptionFailed)?;
    let plaintext = if header.zip.as_deref() == Some("DEF") {
        miniz_oxide::inflate::decompress_to_vec_with_limit(&body, MAX_PLAINTEXT).map_err(|e| {
            match e.status {
                miniz_oxide::inflate::TINFLStatus::HasMoreOutput => JweError::TooLarge,
                _ => JweError::BadCompression,
            }
        })?
    } else {
        body
    };
    Ok(Decrypted {
        content_type: header.cty,
        plaintext,
    })
}

/// The protected header of a compact JWE, decoded (for diagnostics).
pub fn header_json(jwe: &str) -> Result<serde_json::Value, JweError> {
    let protected = jwe.split('.').next().ok_or(JweError::Malformed)?;
    let bytes = URL_SAFE_NO_PAD
        .decode(protected)
        .map_err(|_| JweError::BadHeader)?;
    serde_json::from_slice(&bytes).map_err(|_| JweError::BadHeader)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parts_assemble_to_what_encrypt_makes() {
        let key = [9u8; 32];
        let iv = [3u8; 12];
        let text = br#"{"resourceType":"Bundle","type":"document"}"#;
        for compress in [true, false] {
            let protected = protected_header(FHIR_JSON, compress);
            let body = if compress {
                deflate(text)
            } else {
                text.to_vec()
            };
            let sealed = Aes256Gcm::new((&key).into())
                .encrypt(
                    &Nonce::from(iv),
                    Payload {
                        msg: &body,
                        aad: protected.as_bytes(),
                    },
                )
                .unwrap();
            let jwe = compact(&protected, &iv, &sealed).unwrap();
            assert_eq!(jwe, encrypt(text, &key, iv, FHIR_JSON, compress).unwrap());
            let opened = decrypt(&jwe, &key).unwrap();
            assert_eq!(opened.plaintext, text);
            assert_eq!(opened.content_type.as_deref(), Some(FHIR_JSON));
        }
        let header = header_json(&encrypt(text, &key, iv, FHIR_JSON, true).unwrap()).unwrap();
        assert_eq!(header["zip"], "DEF");
        assert_eq!(compact("x", &iv, &[0; 15]), Err(JweError::Malformed));
    }
}

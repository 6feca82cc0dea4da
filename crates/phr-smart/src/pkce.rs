//! PKCE (RFC 7636, method `S256`) and the OAuth `state` value.
//!
//! Random bytes come from the caller (the browser's `crypto.getRandomValues`) through
//! [`RandomSource`]; this crate never reads randomness itself.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// A source of cryptographically secure random bytes, supplied by the caller.
///
/// Any `FnMut(&mut [u8])` is one, so the shell can pass
/// `&mut |buf: &mut [u8]| crypto.get_random_values_with_u8_array(buf)`.
pub trait RandomSource {
    /// Fills `buf` with random bytes.
    fn fill(&mut self, buf: &mut [u8]);
}

impl<F: FnMut(&mut [u8])> RandomSource for F {
    fn fill(&mut self, buf: &mut [u8]) {
        self(buf)
    }
}

/// Random bytes behind a code verifier (256 bits).
pub const VERIFIER_BYTES: usize = 32;
/// Random bytes behind a `state` value (128 bits; SMART requires at least 122).
pub const STATE_BYTES: usize = 16;

/// A PKCE code verifier: 32 random bytes as base64url without padding (43 characters).
///
/// `Debug` does not show it.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct CodeVerifier(String);

impl CodeVerifier {
    /// The verifier for these random bytes.
    pub fn from_bytes(bytes: &[u8; VERIFIER_BYTES]) -> Self {
        Self(URL_SAFE_NO_PAD.encode(bytes))
    }

    /// A fresh verifier from the caller's randomness.
    pub fn generate(rng: &mut dyn RandomSource) -> Self {
        let mut bytes = [0u8; VERIFIER_BYTES];
        rng.fill(&mut bytes);
        Self::from_bytes(&bytes)
    }

    /// The verifier text sent to the token endpoint.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The `S256` challenge: base64url(SHA-256(verifier)), sent in the authorize URL.
    pub fn challenge(&self) -> String {
        s256_challenge(&self.0)
    }
}

impl std::fmt::Debug for CodeVerifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("CodeVerifier(<redacted>)")
    }
}

/// base64url-no-pad(SHA-256(ASCII(verifier))), the RFC 7636 `S256` transformation.
pub fn s256_challenge(verifier: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
}

/// The OAuth `state` value: 128 random bits as base64url (22 characters). It ties the redirect
/// back to the sign-in this tab started.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct OAuthState(String);

impl OAuthState {
    /// The state for these random bytes.
    pub fn from_bytes(bytes: &[u8; STATE_BYTES]) -> Self {
        Self(URL_SAFE_NO_PAD.encode(bytes))
    }

    /// A fresh state from the caller's randomness.
    pub fn generate(rng: &mut dyn RandomSource) -> Self {
        let mut bytes = [0u8; STATE_BYTES];
        rng.fill(&mut bytes);
        Self::from_bytes(&bytes)
    }

    /// The text sent in the authorize URL.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Constant-time comparison with a value from the redirect.
    pub fn matches(&self, other: &str) -> bool {
        let a = self.0.as_bytes();
        let b = other.as_bytes();
        if a.len() != b.len() {
            return false;
        }
        a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
    }
}

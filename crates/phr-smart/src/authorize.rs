//! Starting a sign-in (authorize URL + the [`PendingAuthorization`] kept across the redirect)
//! and checking the redirect that comes back.
//!
//! The pending authorization is the only thing that survives the full-page redirect. The shell
//! stores [`PendingAuthorization::seal`] in `sessionStorage` under
//! [`PendingAuthorization::storage_key`], and on return looks it up with
//! [`storage_key_for_callback`], opens it with [`PendingAuthorization::open`], calls
//! [`PendingAuthorization::complete`], and deletes it whatever the outcome. It expires after
//! [`PENDING_LIFETIME_MS`].
//!
//! What is stored says nothing by itself: which provider the patient is signing in to (the name
//! of a behavioral health clinic is sensitive) and the PKCE verifier are encrypted
//! (AES-256-GCM) under a key derived from the sign-in's `state`, and the storage key is a hash of
//! the `state`. The `state` is only in the address the provider sends back, which the shell
//! clears at once. Only the start time is readable, so stale sign-ins can be dropped.

use std::fmt;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;

use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::discovery::SmartServer;
use crate::pkce::{CodeVerifier, OAuthState, RandomSource};
use crate::scopes::RequestedScopes;
use crate::time::UnixMillis;
use crate::urls::{check_secure, decode_form_component, encode_pairs, FhirBase, UrlError};

/// How long a started sign-in stays valid: 10 minutes.
pub const PENDING_LIFETIME_MS: u64 = 10 * 60 * 1000;

/// Version of the [`PendingAuthorization`] JSON.
const PENDING_VERSION: u32 = 1;

/// Version of the sealed form kept in `sessionStorage` ([`PendingAuthorization::seal`]).
const SEALED_VERSION: u32 = 2;
/// Domain strings of the storage key and the sealing key, both derived from the `state`.
const STORAGE_KEY_DOMAIN: &[u8] = b"phr-smart/pending/v2/storage-key";
const SEALING_KEY_INFO: &[u8] = b"phr-smart/pending/v2/sealing-key";
const SEALED_AAD: &[u8] = b"phr-smart/pending/v2";

const STORAGE_PREFIX: &str = "phr-smart/pending/";

/// The app's registration at one provider.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClientRegistration {
    /// Stable id of the provider entry (from the directory).
    pub provider_id: String,
    /// Name shown to the patient, e.g. "Good Health Clinic".
    pub provider_name: String,
    /// The OAuth `client_id` registered for this app at this provider.
    pub client_id: String,
    /// The app's redirect URI, registered at the provider (exact match).
    pub redirect_uri: String,
}

/// Why a sign-in could not be started.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum AuthorizeError {
    /// The provider entry has no client id.
    #[error("This app has no registration (client id) for {provider}, so it cannot connect. Tell whoever runs this app.")]
    MissingClientId {
        /// Provider name.
        provider: String,
    },
    /// The redirect URI is not a safe absolute URL.
    #[error("This app's return address is not valid ({0}). Tell whoever runs this app.")]
    BadRedirectUri(UrlError),
}

/// The start of a sign-in: where to send the browser, and what to keep until it returns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthorizationStart {
    /// The provider's sign-in page with all parameters; assign it to `window.location`.
    pub url: String,
    /// Keep this in `sessionStorage` until the redirect returns.
    pub pending: PendingAuthorization,
}

/// What a started sign-in needs to remember across the redirect. Serialises to JSON for
/// `sessionStorage`; holds the PKCE verifier (useless without the one-time code) but no token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PendingAuthorization {
    version: u32,
    /// Provider entry id.
    pub provider_id: String,
    /// Provider name for messages.
    pub provider_name: String,
    /// The FHIR base (`aud`).
    pub fhir_base: FhirBase,
    /// Where to exchange the code.
    pub token_endpoint: String,
    /// Expected `iss` on the callback, when the server named its issuer.
    pub issuer: Option<String>,
    /// The OAuth client id.
    pub client_id: String,
    /// The redirect URI sent (must be sent again with the code).
    pub redirect_uri: String,
    verifier: CodeVerifier,
    state: OAuthState,
    /// The scopes asked for.
    pub requested_scopes: RequestedScopes,
    /// When the sign-in started (unix ms).
    pub created_at_ms: UnixMillis,
}

/// A one-time authorization code from the callback. `Debug` does not show it.
#[derive(Clone, PartialEq, Eq)]
pub struct AuthorizationCode(String);

impl AuthorizationCode {
    /// The code text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for AuthorizationCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("AuthorizationCode(<redacted>)")
    }
}

/// Which `state` check failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StateProblem {
    /// The redirect carries no `state`.
    Missing,
    /// `state` differs from the one this tab sent.
    Mismatch,
    /// A parameter appears twice.
    Duplicated,
    /// No sign-in was started in this tab with this `state` (nothing stored).
    Unknown,
}

/// Why the redirect back from the provider was not accepted.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum CallbackError {
    /// `state` is missing, different, duplicated, or unknown: the response is stale or forged.
    #[error("This sign-in response does not belong to a sign-in started in this browser tab (it may be old, or forged). Nothing was imported. Start connecting again from this app.")]
    ForgedOrStale(StateProblem),
    /// The sign-in started more than 10 minutes ago.
    #[error("The sign-in at {provider} took longer than 10 minutes, so it was cancelled for safety. Nothing was imported. Please connect again.")]
    Expired {
        /// Provider name.
        provider: String,
    },
    /// The saved sign-in could not be read back.
    #[error("The app could not read back the sign-in it started (its saved details are damaged). Nothing was imported. Please connect again.")]
    Unreadable,
    /// The patient said no at the provider.
    #[error("You declined access at {provider}; nothing was imported.")]
    Declined {
        /// Provider name.
        provider: String,
    },
    /// The provider returned another OAuth error.
    #[error("{provider} did not complete the sign-in ({code}{}). Nothing was imported. Try again; if it keeps happening, tell whoever runs this app.", .description.as_ref().map(|d| format!(": {d}")).unwrap_or_default())]
    ProviderError {
        /// Provider name.
        provider: String,
        /// The OAuth `error` code.
        code: String,
        /// `error_description`, when given.
        description: Option<String>,
    },
    /// No `code` in an otherwise valid redirect.
    #[error("{provider} sent the app back without an authorization code, so nothing could be imported. Please connect again.")]
    MissingCode {
        /// Provider name.
        provider: String,
    },
    /// The redirect names a different authorization server (`iss`), a sign of a mix-up attack.
    #[error("The sign-in response came from a different server than {provider}. Nothing was imported, for safety. Please connect again.")]
    IssuerMismatch {
        /// Provider name.
        provider: String,
    },
}

/// Starts a standalone patient sign-in: generates the PKCE verifier and `state` from `rng`, and
/// builds the authorize URL with `response_type=code, client_id, redirect_uri, scope, state,
/// aud, code_challenge, code_challenge_method=S256`.
pub fn begin_authorization(
    server: &SmartServer,
    client: &ClientRegistration,
    scopes: &RequestedScopes,
    rng: &mut dyn RandomSource,
    now: UnixMillis,
) -> Result<AuthorizationStart, AuthorizeError> {
    if client.client_id.trim().is_empty() {
        return Err(AuthorizeError::MissingClientId {
            provider: client.provider_name.clone(),
        });
    }
    let redirect = check_secure(&client.redirect_uri).map_err(AuthorizeError::BadRedirectUri)?;
    if redirect.has_fragment {
        return Err(AuthorizeError::BadRedirectUri(UrlError::Unsafe(
            client.redirect_uri.clone(),
            "a #fragment",
        )));
    }
    let verifier = CodeVerifier::generate(rng);
    let state = OAuthState::generate(rng);
    let url = authorize_url(
        &server.authorization_endpoint,
        client,
        scopes,
        &state,
        &server.fhir_base,
        &verifier.challenge(),
    );
    Ok(AuthorizationStart {
        url,
        pending: PendingAuthorization {
            version: PENDING_VERSION,
            provider_id: client.provider_id.clone(),
            provider_name: client.provider_name.clone(),
            fhir_base: server.fhir_base.clone(),
            token_endpoint: server.token_endpoint.clone(),
            issuer: server.issuer.clone(),
            client_id: client.client_id.clone(),
            redirect_uri: client.redirect_uri.clone(),
            verifier,
            state,
            requested_scopes: scopes.clone(),
            created_at_ms: now,
        },
    })
}

fn authorize_url(
    endpoint: &str,
    client: &ClientRegistration,
    scopes: &RequestedScopes,
    state: &OAuthState,
    aud: &FhirBase,
    challenge: &str,
) -> String {
    let scope = scopes.to_scope_string();
    let query = encode_pairs([
        ("response_type", "code"),
        ("client_id", client.client_id.as_str()),
        ("redirect_uri", client.redirect_uri.as_str()),
        ("scope", scope.as_str()),
        ("state", state.as_str()),
        ("aud", aud.as_str()),
        ("code_challenge", challenge),
        ("code_challenge_method", "S256"),
    ]);
    let sep = if endpoint.contains('?') { '&' } else { '?' };
    format!("{endpoint}{sep}{query}")
}

/// The query parameters of a callback URL (or of a bare query string).
fn callback_params(callback: &str) -> Vec<(String, String)> {
    let without_fragment = callback.split('#').next().unwrap_or_default();
    let query = match without_fragment.split_once('?') {
        Some((_, q)) => q,
        None if !without_fragment.contains("://") => without_fragment,
        None => "",
    };
    query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| match p.split_once('=') {
            Some((k, v)) => (decode_form_component(k), decode_form_component(v)),
            None => (decode_form_component(p), String::new()),
        })
        .collect()
}

/// The `sessionStorage` key under which the pending authorization for this callback was stored,
/// or `None` when the callback carries no usable `state` (then report
/// [`CallbackError::ForgedOrStale`]).
pub fn storage_key_for_callback(callback: &str) -> Option<String> {
    callback_state(callback).map(|state| storage_key_of(&state))
}

/// The one usable `state` of a callback.
fn callback_state(callback: &str) -> Option<String> {
    let params = callback_params(callback);
    let mut states = params.iter().filter(|(k, _)| k == "state");
    let (_, state) = states.next()?;
    if states.next().is_some() || state.is_empty() || state.len() > 200 {
        return None;
    }
    Some(state.clone())
}

/// `phr-smart/pending/` and 128 bits of SHA-256(domain || state), in hex: the `state` itself is
/// never stored.
fn storage_key_of(state: &str) -> String {
    use sha2::{Digest, Sha256};
    let mut h = Sha256::new();
    h.update(STORAGE_KEY_DOMAIN);
    h.update(state.as_bytes());
    let digest = h.finalize();
    let hex: String = digest[..16].iter().map(|b| format!("{b:02x}")).collect();
    format!("{STORAGE_PREFIX}{hex}")
}

/// The AES-256-GCM key a pending sign-in is sealed under: HKDF-SHA256 of its `state` (which
/// carries at least 128 random bits).
fn sealing_key(state: &str) -> aes_gcm::Aes256Gcm {
    use aes_gcm::KeyInit;
    let mut key = [0u8; 32];
    hkdf::Hkdf::<sha2::Sha256>::new(None, state.as_bytes())
        .expand(SEALING_KEY_INFO, &mut key)
        .expect("32 bytes is a valid HKDF-SHA256 output length");
    aes_gcm::Aes256Gcm::new(&key.into())
}

/// The sealed form kept in `sessionStorage`.
#[derive(Serialize, Deserialize)]
struct SealedPending {
    v: u32,
    /// When the sign-in started (unix ms): readable, so stale entries can be dropped.
    created_at_ms: UnixMillis,
    /// base64url nonce and ciphertext (with its tag).
    nonce: String,
    sealed: String,
}

/// True when a stored pending sign-in ([`PendingAuthorization::seal`]) has expired or cannot be
/// read (then it is of no use either): the shell drops such entries at start-up.
pub fn stored_pending_is_stale(stored: &str, now: UnixMillis) -> bool {
    match serde_json::from_str::<SealedPending>(stored) {
        Ok(s) if s.v == SEALED_VERSION => expired(s.created_at_ms, now),
        _ => true,
    }
}

/// More than [`PENDING_LIFETIME_MS`] since `created_at`, or the clock went back by more than that.
fn expired(created_at: UnixMillis, now: UnixMillis) -> bool {
    now.saturating_sub(created_at) > PENDING_LIFETIME_MS
        || created_at.saturating_sub(now) > PENDING_LIFETIME_MS
}

impl PendingAuthorization {
    /// The `sessionStorage` key for this sign-in (a hash of its `state`).
    pub fn storage_key(&self) -> String {
        storage_key_of(self.state.as_str())
    }

    /// The JSON of this sign-in (what [`PendingAuthorization::seal`] encrypts).
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("pending authorization serialises")
    }

    /// The text kept in `sessionStorage`: this sign-in encrypted under a key derived from its
    /// `state`, with a fresh nonce from `rng`.
    pub fn seal(&self, rng: &mut dyn RandomSource) -> String {
        use aes_gcm::aead::{Aead, Payload};
        let mut nonce = [0u8; 12];
        rng.fill(&mut nonce);
        let json = self.to_json();
        let sealed = sealing_key(self.state.as_str())
            .encrypt(
                &nonce.into(),
                Payload {
                    msg: json.as_bytes(),
                    aad: SEALED_AAD,
                },
            )
            .expect("AES-GCM encrypts any message of this size");
        serde_json::to_string(&SealedPending {
            v: SEALED_VERSION,
            created_at_ms: self.created_at_ms,
            nonce: URL_SAFE_NO_PAD.encode(nonce),
            sealed: URL_SAFE_NO_PAD.encode(sealed),
        })
        .expect("sealed pending authorization serialises")
    }

    /// Opens what [`PendingAuthorization::seal`] stored, with the `state` of the `callback` (full
    /// URL or its query). A callback with another `state`, or a damaged entry, cannot open it.
    pub fn open(stored: &str, callback: &str) -> Result<Self, CallbackError> {
        use aes_gcm::aead::{Aead, Payload};
        let state =
            callback_state(callback).ok_or(CallbackError::ForgedOrStale(StateProblem::Missing))?;
        let s: SealedPending =
            serde_json::from_str(stored).map_err(|_| CallbackError::Unreadable)?;
        if s.v != SEALED_VERSION {
            return Err(CallbackError::Unreadable);
        }
        let nonce: [u8; 12] = URL_SAFE_NO_PAD
            .decode(&s.nonce)
            .ok()
            .and_then(|n| n.try_into().ok())
            .ok_or(CallbackError::Unreadable)?;
        let sealed = URL_SAFE_NO_PAD
            .decode(&s.sealed)
            .map_err(|_| CallbackError::Unreadable)?;
        let json = sealing_key(&state)
            .decrypt(
                &nonce.into(),
                Payload {
                    msg: &sealed,
                    aad: SEALED_AAD,
                },
            )
            .map_err(|_| CallbackError::Unreadable)?;
        let json = String::from_utf8(json).map_err(|_| CallbackError::Unreadable)?;
        let p = Self::from_json(&json)?;
        if p.created_at_ms != s.created_at_ms {
            return Err(CallbackError::Unreadable);
        }
        Ok(p)
    }

    /// Reads the JSON back.
    pub fn from_json(json: &str) -> Result<Self, CallbackError> {
        let p: Self = serde_json::from_str(json).map_err(|_| CallbackError::Unreadable)?;
        if p.version != PENDING_VERSION {
            return Err(CallbackError::Unreadable);
        }
        Ok(p)
    }

    /// True when more than [`PENDING_LIFETIME_MS`] have passed since the sign-in started (or the
    /// clock went backwards by more than that).
    pub fn is_expired(&self, now: UnixMillis) -> bool {
        expired(self.created_at_ms, now)
    }

    /// The PKCE verifier (sent with the code to the token endpoint).
    pub fn verifier(&self) -> &CodeVerifier {
        &self.verifier
    }

    /// The `state` sent to the provider (it comes back in the callback).
    pub fn state(&self) -> &str {
        self.state.as_str()
    }

    /// Checks the redirect (full URL or its query) and returns the authorization code.
    ///
    /// Order: `state` first (a forged response learns nothing else), then expiry, then the
    /// issuer, then the provider's `error`, then the `code`.
    pub fn complete(
        &self,
        callback: &str,
        now: UnixMillis,
    ) -> Result<AuthorizationCode, CallbackError> {
        let params = callback_params(callback);
        let single = |name: &str| -> Result<Option<&str>, CallbackError> {
            let mut it = params.iter().filter(|(k, _)| k == name);
            let first = it.next().map(|(_, v)| v.as_str());
            if it.next().is_some() {
                return Err(CallbackError::ForgedOrStale(StateProblem::Duplicated));
            }
            Ok(first)
        };
        let provider = || self.provider_name.clone();
        match single("state")? {
            None | Some("") => return Err(CallbackError::ForgedOrStale(StateProblem::Missing)),
            Some(s) if !self.state.matches(s) => {
                return Err(CallbackError::ForgedOrStale(StateProblem::Mismatch))
            }
            Some(_) => {}
        }
        if self.is_expired(now) {
            return Err(CallbackError::Expired {
                provider: provider(),
            });
        }
        if let (Some(iss), Some(expected)) = (single("iss")?, &self.issuer) {
            if iss.trim_end_matches('/') != expected.trim_end_matches('/') {
                return Err(CallbackError::IssuerMismatch {
                    provider: provider(),
                });
            }
        }
        if let Some(error) = single("error")? {
            let description = single("error_description")?
                .map(|d| crate::http::truncate(d.trim(), 300))
                .filter(|d| !d.is_empty());
            return Err(if error == "access_denied" {
                CallbackError::Declined {
                    provider: provider(),
                }
            } else {
                CallbackError::ProviderError {
                    provider: provider(),
                    code: crate::http::truncate(error, 60),
                    description,
                }
            });
        }
        match single("code")? {
            Some(code) if !code.is_empty() => Ok(AuthorizationCode(code.to_string())),
            _ => Err(CallbackError::MissingCode {
                provider: provider(),
            }),
        }
    }
}

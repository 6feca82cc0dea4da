//! Token exchange, refresh, and the two things that come out of it:
//!
//! * [`AccessToken`]: the bearer token, **in memory only**. It has no `Serialize` and its `Debug`
//!   is redacted, so it cannot end up in storage or logs by accident.
//! * [`Connection`]: everything needed to sync again later (provider, patient id, granted scopes,
//!   the refresh token if one was issued, expiry, last sync). It serialises to JSON and lives
//!   inside the encrypted vault. Real EHRs rarely give browser apps a refresh token, so a
//!   connection without one is normal: the shell offers one-click reconnect, which starts a new
//!   sign-in from the same connection.

use std::fmt;

use base64::engine::general_purpose::{URL_SAFE, URL_SAFE_NO_PAD};
use base64::Engine;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use thiserror::Error;

use crate::authorize::{AuthorizationCode, ClientRegistration, PendingAuthorization};
use crate::http::{sniff, truncate, BodyShape, HttpRequest, HttpResponse, Method, RequestId};
use crate::scopes::{GrantedAccess, SearchAccess, SEARCH_TYPES};
use crate::time::UnixMillis;
use crate::urls::{encode_pairs, is_fhir_id, FhirBase};

/// Refresh (or reconnect) when the access token has less than this left: 60 seconds.
pub const REFRESH_MARGIN_MS: u64 = 60_000;

const CONNECTION_VERSION: u32 = 1;

/// A bearer access token, held in memory only. Not serialisable; `Debug` is redacted.
#[derive(Clone, PartialEq, Eq)]
pub struct AccessToken {
    token: String,
    expires_at_ms: Option<UnixMillis>,
    patient_id: String,
}

impl AccessToken {
    /// A token for `patient_id` that expires at `expires_at_ms` (unknown: `None`).
    pub fn new(token: String, expires_at_ms: Option<UnixMillis>, patient_id: String) -> Self {
        Self {
            token,
            expires_at_ms,
            patient_id,
        }
    }

    /// The `Authorization` header value: `Bearer <token>`.
    pub fn authorization_header(&self) -> String {
        format!("Bearer {}", self.token)
    }

    /// When the token expires (unix ms), if the server said.
    pub fn expires_at_ms(&self) -> Option<UnixMillis> {
        self.expires_at_ms
    }

    /// The patient this token gives access to.
    pub fn patient_id(&self) -> &str {
        &self.patient_id
    }

    /// True when less than [`REFRESH_MARGIN_MS`] remain: refresh (or reconnect) before using it.
    pub fn needs_refresh(&self, now: UnixMillis) -> bool {
        self.expires_at_ms
            .is_some_and(|exp| exp.saturating_sub(now) < REFRESH_MARGIN_MS)
    }

    /// True when the token has expired.
    pub fn is_expired(&self, now: UnixMillis) -> bool {
        self.expires_at_ms.is_some_and(|exp| now >= exp)
    }
}

impl fmt::Debug for AccessToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AccessToken")
            .field("token", &"<redacted>")
            .field("expires_at_ms", &self.expires_at_ms)
            .field("patient_id", &self.patient_id)
            .finish()
    }
}

/// Why a token request failed. Messages are for the patient.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum TokenError {
    /// `invalid_grant` on the code exchange: the code expired, was used, or the verifier is wrong.
    #[error("The sign-in at {provider} could not be completed: it took too long or was already used. Nothing was imported. Please connect again.")]
    InvalidGrant {
        /// Provider name.
        provider: String,
    },
    /// `invalid_grant` on refresh: the saved access was revoked or expired. The refresh token
    /// has been removed from the connection.
    #[error("{provider} no longer accepts this app's saved access (it may have expired or been revoked). Reconnect by signing in again; your imported records are safe.")]
    RefreshRejected {
        /// Provider name.
        provider: String,
    },
    /// `invalid_client` (or `unauthorized_client`): the app's registration is wrong.
    #[error("{provider} did not accept this app's registration ({code}). This is a setup problem: tell whoever runs this app. Nothing was imported.")]
    InvalidClient {
        /// Provider name.
        provider: String,
        /// The OAuth error code.
        code: String,
    },
    /// Another OAuth error.
    #[error("{provider} refused to give access ({code}{}). Please connect again; if it keeps happening, tell whoever runs this app.", .description.as_ref().map(|d| format!(": {d}")).unwrap_or_default())]
    OAuth {
        /// Provider name.
        provider: String,
        /// The OAuth error code.
        code: String,
        /// `error_description`, when given.
        description: Option<String>,
    },
    /// An HTTP error without an OAuth error body.
    #[error("{provider}'s sign-in service answered with an error (HTTP {status}). Try again in a few minutes.")]
    Http {
        /// Provider name.
        provider: String,
        /// HTTP status.
        status: u16,
    },
    /// The body was not a JSON object.
    #[error("{provider}'s sign-in service sent an answer this app cannot read ({detail}). Try again later; if it keeps happening, tell whoever runs this app.")]
    NotJson {
        /// Provider name.
        provider: String,
        /// What it looked like.
        detail: &'static str,
    },
    /// No `access_token` in a success response.
    #[error("{provider} completed the sign-in but sent no access token. Please connect again.")]
    MissingAccessToken {
        /// Provider name.
        provider: String,
    },
    /// `token_type` is not `Bearer`.
    #[error("{provider} issued a kind of access token this app cannot use (\"{token_type}\"). Tell whoever runs this app.")]
    NotBearer {
        /// Provider name.
        provider: String,
        /// What it said.
        token_type: String,
    },
    /// No `patient` in the response (and none in `fhirUser`).
    #[error("{provider} did not say which patient record you gave access to, so nothing can be imported. Connect again and choose a patient record if asked.")]
    NoPatient {
        /// Provider name.
        provider: String,
    },
    /// A refresh returned a different patient than the connection's.
    #[error("{provider} returned access for a different patient record than the one connected. Nothing was changed. Reconnect to choose the right record.")]
    PatientChanged {
        /// Provider name.
        provider: String,
    },
    /// Refresh asked for but the connection has no refresh token.
    #[error("There is no saved access for {provider}. Reconnect by signing in again.")]
    NoRefreshToken {
        /// Provider name.
        provider: String,
    },
}

/// The parsed fields of a successful token response.
struct TokenFields {
    access_token: String,
    expires_in: Option<u64>,
    scope: Option<String>,
    patient: Option<String>,
    refresh_token: Option<String>,
    fhir_user: Option<String>,
}

fn form_post(url: &str, pairs: &[(&str, &str)]) -> HttpRequest {
    HttpRequest {
        id: RequestId::STANDALONE,
        method: Method::Post,
        url: url.to_string(),
        headers: vec![
            (
                "Content-Type".into(),
                "application/x-www-form-urlencoded".into(),
            ),
            ("Accept".into(), "application/json".into()),
        ],
        body: Some(encode_pairs(pairs.iter().copied())),
    }
}

fn str_field(v: &Value, name: &str) -> Option<String> {
    v.get(name)
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
}

fn parse_expires_in(v: Option<&Value>) -> Option<u64> {
    match v? {
        Value::Number(n) => n
            .as_u64()
            .or_else(|| n.as_f64().filter(|f| *f >= 0.0).map(|f| f as u64)),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// Decodes (does not verify) the `fhirUser` (or SMART v1 `profile`) claim of an id_token.
/// The claim is only used as a hint for the patient id when `patient` is missing, and for display.
pub fn id_token_fhir_user(id_token: &str) -> Option<String> {
    let payload = id_token.split('.').nth(1)?;
    let bytes = URL_SAFE_NO_PAD
        .decode(payload)
        .or_else(|_| URL_SAFE.decode(payload))
        .ok()?;
    let claims: Value = serde_json::from_slice(&bytes).ok()?;
    str_field(&claims, "fhirUser").or_else(|| str_field(&claims, "profile"))
}

/// `…/Patient/123` or `Patient/123` → `123`.
fn patient_from_fhir_user(fhir_user: &str) -> Option<String> {
    let mut parts = fhir_user.rsplit('/');
    let id = parts.next()?;
    (parts.next()? == "Patient" && is_fhir_id(id)).then(|| id.to_string())
}

fn parse_token_response(
    resp: &HttpResponse,
    provider: &str,
    refreshing: bool,
) -> Result<TokenFields, TokenError> {
    let provider_s = || provider.to_string();
    let json = match sniff(&resp.body) {
        BodyShape::Json(v @ Value::Object(_)) => v,
        _ if !resp.is_success() => {
            return Err(TokenError::Http {
                provider: provider_s(),
                status: resp.status,
            });
        }
        BodyShape::Html => {
            return Err(TokenError::NotJson {
                provider: provider_s(),
                detail: "a web page",
            })
        }
        BodyShape::Empty => {
            return Err(TokenError::NotJson {
                provider: provider_s(),
                detail: "an empty answer",
            })
        }
        _ => {
            return Err(TokenError::NotJson {
                provider: provider_s(),
                detail: "not JSON",
            })
        }
    };
    if let Some(code) = str_field(&json, "error") {
        let description = str_field(&json, "error_description").map(|d| truncate(&d, 300));
        return Err(match code.as_str() {
            "invalid_grant" if refreshing => TokenError::RefreshRejected {
                provider: provider_s(),
            },
            "invalid_grant" => TokenError::InvalidGrant {
                provider: provider_s(),
            },
            "invalid_client" | "unauthorized_client" => TokenError::InvalidClient {
                provider: provider_s(),
                code,
            },
            _ => TokenError::OAuth {
                provider: provider_s(),
                code: truncate(&code, 60),
                description,
            },
        });
    }
    if !resp.is_success() {
        return Err(TokenError::Http {
            provider: provider_s(),
            status: resp.status,
        });
    }
    let access_token =
        str_field(&json, "access_token").ok_or_else(|| TokenError::MissingAccessToken {
            provider: provider_s(),
        })?;
    // Missing token_type is tolerated (the token is only ever sent as Bearer); any other type
    // (DPoP, MAC, …) would be misused as a bearer token and is refused.
    if let Some(tt) = str_field(&json, "token_type") {
        if !tt.eq_ignore_ascii_case("bearer") {
            return Err(TokenError::NotBearer {
                provider: provider_s(),
                token_type: truncate(&tt, 40),
            });
        }
    }
    let id_token = str_field(&json, "id_token");
    Ok(TokenFields {
        access_token,
        expires_in: parse_expires_in(json.get("expires_in")),
        scope: str_field(&json, "scope"),
        patient: str_field(&json, "patient"),
        refresh_token: str_field(&json, "refresh_token"),
        fhir_user: id_token.as_deref().and_then(id_token_fhir_user),
    })
}

fn expiry(now: UnixMillis, expires_in: Option<u64>) -> Option<UnixMillis> {
    expires_in.map(|s| now.saturating_add(s.saturating_mul(1000)))
}

/// The result of a successful sign-in.
#[derive(Debug, Clone)]
pub struct Authorized {
    /// Save this inside the vault.
    pub connection: Connection,
    /// Keep this in memory for the import.
    pub access_token: AccessToken,
    /// The search types that were *not* granted (the patient or server gave less than asked),
    /// plus `Patient` when the patient resource itself cannot be read.
    pub not_granted: Vec<String>,
    /// Scopes that were asked for but not granted (e.g. `offline_access`).
    pub scopes_not_granted: Vec<String>,
}

impl PendingAuthorization {
    /// The token request for the code from the callback (`authorization_code` grant, public
    /// client: `client_id` in the body, no secret).
    pub fn token_request(&self, code: &AuthorizationCode) -> HttpRequest {
        form_post(
            &self.token_endpoint,
            &[
                ("grant_type", "authorization_code"),
                ("code", code.as_str()),
                ("redirect_uri", &self.redirect_uri),
                ("code_verifier", self.verifier().as_str()),
                ("client_id", &self.client_id),
            ],
        )
    }

    /// Reads the token endpoint's response and builds the connection and the in-memory token.
    pub fn finish(&self, resp: &HttpResponse, now: UnixMillis) -> Result<Authorized, TokenError> {
        let provider = &self.provider_name;
        let fields = parse_token_response(resp, provider, false)?;
        let patient_id = fields
            .patient
            .clone()
            .or_else(|| fields.fhir_user.as_deref().and_then(patient_from_fhir_user))
            .filter(|p| is_fhir_id(p))
            .ok_or_else(|| TokenError::NoPatient {
                provider: provider.clone(),
            })?;
        // RFC 6749 §5.1: scope may be omitted only when it equals what was asked.
        let granted_scope = fields
            .scope
            .clone()
            .unwrap_or_else(|| self.requested_scopes.to_scope_string());
        let granted = GrantedAccess::parse(&granted_scope);
        let mut not_granted: Vec<String> = Vec::new();
        if !granted.can_read("Patient") {
            not_granted.push("Patient".into());
        }
        not_granted.extend(
            SEARCH_TYPES
                .iter()
                .filter(|t| granted.search_access(t) == SearchAccess::None)
                .map(|t| t.to_string()),
        );
        let scopes_not_granted = self
            .requested_scopes
            .0
            .iter()
            .filter(|s| !granted.has(s))
            .cloned()
            .collect();
        let expires_at = expiry(now, fields.expires_in);
        let connection = Connection {
            version: CONNECTION_VERSION,
            provider_id: self.provider_id.clone(),
            provider_name: self.provider_name.clone(),
            fhir_base: self.fhir_base.clone(),
            token_endpoint: self.token_endpoint.clone(),
            client_id: self.client_id.clone(),
            redirect_uri: self.redirect_uri.clone(),
            patient_id: patient_id.clone(),
            fhir_user: fields.fhir_user.clone(),
            granted_scope,
            refresh_token: fields.refresh_token.clone(),
            access_expires_at_ms: expires_at,
            connected_at_ms: now,
            last_sync_ms: None,
            last_full_sync_ms: None,
        };
        Ok(Authorized {
            connection,
            access_token: AccessToken::new(fields.access_token, expires_at, patient_id),
            not_granted,
            scopes_not_granted,
        })
    }
}

/// A connection to one provider for one patient. Serialises to JSON (inside the encrypted vault);
/// holds the refresh token when one was issued, never the access token. `Debug` hides the
/// refresh token.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Connection {
    version: u32,
    /// Provider entry id.
    pub provider_id: String,
    /// Provider name for messages.
    pub provider_name: String,
    /// FHIR base.
    pub fhir_base: FhirBase,
    /// Token endpoint (for refresh).
    pub token_endpoint: String,
    /// OAuth client id.
    pub client_id: String,
    /// Redirect URI used when connecting (for reconnect).
    pub redirect_uri: String,
    /// The patient's id at this provider.
    pub patient_id: String,
    /// `fhirUser` from the id_token (who signed in), when given.
    pub fhir_user: Option<String>,
    /// The granted scopes, space-separated.
    pub granted_scope: String,
    refresh_token: Option<String>,
    /// When the last access token expires(d), unix ms.
    pub access_expires_at_ms: Option<UnixMillis>,
    /// When the connection was made, unix ms.
    pub connected_at_ms: UnixMillis,
    /// When the last finished sync *started* (unix ms); the next incremental sync asks for
    /// anything updated after this.
    pub last_sync_ms: Option<UnixMillis>,
    /// When the last finished *full* sync started.
    pub last_full_sync_ms: Option<UnixMillis>,
}

impl fmt::Debug for Connection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Connection")
            .field("provider_id", &self.provider_id)
            .field("fhir_base", &self.fhir_base)
            .field("patient_id", &self.patient_id)
            .field("granted_scope", &self.granted_scope)
            .field(
                "refresh_token",
                &self.refresh_token.as_ref().map(|_| "<redacted>"),
            )
            .field("access_expires_at_ms", &self.access_expires_at_ms)
            .field("last_sync_ms", &self.last_sync_ms)
            .finish_non_exhaustive()
    }
}

/// Unreadable stored connection JSON.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("The saved connection details could not be read ({0}). Reconnect to this provider; your imported records are not affected.")]
pub struct ConnectionDecodeError(String);

impl Connection {
    /// JSON for the vault.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("connection serialises")
    }

    /// Reads the JSON back.
    pub fn from_json(json: &str) -> Result<Self, ConnectionDecodeError> {
        let c: Self =
            serde_json::from_str(json).map_err(|e| ConnectionDecodeError(e.to_string()))?;
        if c.version != CONNECTION_VERSION {
            return Err(ConnectionDecodeError(format!(
                "unknown version {}",
                c.version
            )));
        }
        Ok(c)
    }

    /// The granted access, parsed.
    pub fn granted(&self) -> GrantedAccess {
        GrantedAccess::parse(&self.granted_scope)
    }

    /// True when a refresh token is stored (silent renewal possible).
    pub fn can_refresh(&self) -> bool {
        self.refresh_token.is_some()
    }

    /// Drops the refresh token (e.g. when the patient disconnects).
    pub fn forget_refresh_token(&mut self) {
        self.refresh_token = None;
    }

    /// The registration to reconnect with (one click: discovery + a new sign-in for the same
    /// provider).
    pub fn client_registration(&self) -> ClientRegistration {
        ClientRegistration {
            provider_id: self.provider_id.clone(),
            provider_name: self.provider_name.clone(),
            client_id: self.client_id.clone(),
            redirect_uri: self.redirect_uri.clone(),
        }
    }

    /// The refresh request (`refresh_token` grant, public client), or `None` without a refresh
    /// token (then reconnect).
    pub fn refresh_request(&self) -> Option<HttpRequest> {
        let rt = self.refresh_token.as_deref()?;
        Some(form_post(
            &self.token_endpoint,
            &[
                ("grant_type", "refresh_token"),
                ("refresh_token", rt),
                ("client_id", &self.client_id),
            ],
        ))
    }

    /// Applies the refresh response: returns the new access token and rotates the stored
    /// refresh token when the server issued a new one (keeping the old one only if it did not).
    /// On `invalid_grant` the dead refresh token is removed. Save the connection afterwards.
    pub fn apply_refresh(
        &mut self,
        resp: &HttpResponse,
        now: UnixMillis,
    ) -> Result<AccessToken, TokenError> {
        if self.refresh_token.is_none() {
            return Err(TokenError::NoRefreshToken {
                provider: self.provider_name.clone(),
            });
        }
        let fields = match parse_token_response(resp, &self.provider_name, true) {
            Ok(f) => f,
            Err(e) => {
                if matches!(e, TokenError::RefreshRejected { .. }) {
                    self.refresh_token = None;
                }
                return Err(e);
            }
        };
        if let Some(p) = &fields.patient {
            if *p != self.patient_id {
                return Err(TokenError::PatientChanged {
                    provider: self.provider_name.clone(),
                });
            }
        }
        if let Some(rt) = fields.refresh_token {
            self.refresh_token = Some(rt);
        }
        if let Some(scope) = fields.scope {
            self.granted_scope = scope;
        }
        let expires_at = expiry(now, fields.expires_in);
        self.access_expires_at_ms = expires_at;
        Ok(AccessToken::new(
            fields.access_token,
            expires_at,
            self.patient_id.clone(),
        ))
    }

    /// Records a finished sync (`started_at_ms` is when it started).
    pub fn record_sync(&mut self, started_at_ms: UnixMillis, full: bool) {
        self.last_sync_ms = Some(started_at_ms);
        if full {
            self.last_full_sync_ms = Some(started_at_ms);
        }
    }
}

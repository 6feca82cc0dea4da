//! Discovery: what a FHIR server says about its SMART sign-in.
//!
//! [`Discovery`] is a two-step state machine: it asks for `{base}/.well-known/smart-configuration`
//! and, if that is missing or unusable, for the CapabilityStatement at `{base}/metadata` (the
//! deprecated SMART v1 `oauth-uris` extension). Either way the result is one [`SmartServer`] that
//! has passed the checks a patient-facing public client needs: an authorization endpoint, a token
//! endpoint, both over https, and PKCE with `S256`.
//!
//! Parsing is tolerant of real-world shapes (missing optional fields, extra fields, fields of the
//! wrong type are ignored, trailing slashes) and strict only where safety depends on it.

use std::fmt;

use serde::{Deserialize, Serialize};
use serde_json::Value;
use thiserror::Error;

use crate::http::{sniff, BodyShape, HttpRequest, HttpResponse, NetworkFailure, RequestId};
use crate::urls::{check_secure, FhirBase, UrlError};

/// Extension URL of the SMART v1 OAuth URIs inside `CapabilityStatement.rest.security`.
pub const OAUTH_URIS_EXTENSION: &str =
    "http://fhir-registry.smarthealthit.org/StructureDefinition/oauth-uris";
/// Extension URL of the SMART v1 capabilities list inside `CapabilityStatement.rest.security`.
pub const CAPABILITIES_EXTENSION: &str =
    "http://fhir-registry.smarthealthit.org/StructureDefinition/capabilities";

/// What to do when a server does not say whether it supports PKCE.
///
/// A server that *lists* its methods without `S256` is always refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum PkcePolicy {
    /// Refuse unless `code_challenge_methods_supported` includes `S256` (SMART 2 requires the
    /// field). This is the default.
    #[default]
    RequireAdvertised,
    /// Proceed when the server is silent (a SMART v1 server known only from its
    /// CapabilityStatement, or a well-known file without the field); the app still sends an
    /// `S256` challenge, which servers that do not know PKCE ignore.
    AssumeWhenUnadvertised,
}

/// Where the endpoints came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum DiscoverySource {
    /// `.well-known/smart-configuration` (SMART 2).
    WellKnown,
    /// The CapabilityStatement's `oauth-uris` extension (deprecated SMART v1 mechanism).
    CapabilityStatement,
}

/// Something unusual that does not stop the connection but is worth logging for the deployer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum DiscoveryWarning {
    /// The server lists capabilities but not this one needed for standalone patient access.
    MissingCapability(String),
    /// The server also lists the `plain` PKCE method, which SMART forbids. The app uses `S256`.
    PlainPkceAdvertised,
    /// The well-known file was unusable; endpoints came from the CapabilityStatement.
    UsedCapabilityStatement,
    /// PKCE support was not advertised and [`PkcePolicy::AssumeWhenUnadvertised`] let it pass.
    PkceAssumed,
}

impl fmt::Display for DiscoveryWarning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DiscoveryWarning::MissingCapability(c) => {
                write!(f, "the server does not list the SMART capability \"{c}\"")
            }
            DiscoveryWarning::PlainPkceAdvertised => f.write_str(
                "the server also offers the insecure PKCE method \"plain\"; S256 is used",
            ),
            DiscoveryWarning::UsedCapabilityStatement => f.write_str(
                "no usable .well-known/smart-configuration; used the CapabilityStatement instead",
            ),
            DiscoveryWarning::PkceAssumed => {
                f.write_str("the server does not say it supports PKCE; S256 is sent anyway")
            }
        }
    }
}

/// A FHIR server's SMART sign-in details, checked and ready to authorise against.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SmartServer {
    /// The FHIR base (also the `aud` value).
    pub fhir_base: FhirBase,
    /// OAuth authorization endpoint (https).
    pub authorization_endpoint: String,
    /// OAuth token endpoint (https).
    pub token_endpoint: String,
    /// OpenID Connect issuer, when given; checked against the callback's `iss` parameter.
    pub issuer: Option<String>,
    /// Token revocation endpoint, when given.
    pub revocation_endpoint: Option<String>,
    /// Where the patient can see and revoke app access, when given.
    pub management_endpoint: Option<String>,
    /// SMART capabilities (empty when the server lists none).
    pub capabilities: Vec<String>,
    /// `scopes_supported`, when given (not an exhaustive list, per the spec).
    pub scopes_supported: Option<Vec<String>>,
    /// `code_challenge_methods_supported`, when given.
    pub code_challenge_methods: Option<Vec<String>>,
    /// `grant_types_supported`, when given.
    pub grant_types: Option<Vec<String>>,
    /// `user_access_brand_bundle`, when given.
    pub user_access_brand_bundle: Option<String>,
    /// Which document the endpoints came from.
    pub source: DiscoverySource,
    /// Non-fatal findings.
    pub warnings: Vec<DiscoveryWarning>,
}

impl SmartServer {
    /// True when the server lists this SMART capability.
    pub fn has_capability(&self, capability: &str) -> bool {
        self.capabilities.iter().any(|c| c == capability)
    }

    /// True when the server says it can issue refresh tokens (`permission-offline`, or
    /// `offline_access` / `refresh_token` listed).
    pub fn offers_offline_access(&self) -> bool {
        self.has_capability("permission-offline")
            || self
                .scopes_supported
                .as_ref()
                .is_some_and(|s| s.iter().any(|x| x == "offline_access"))
    }
}

/// Whether a CapabilityStatement (the body of `GET {base}/metadata`) says the server supports the
/// `_lastUpdated` search parameter for the types in `types` that it offers: listed in
/// `rest.searchParam` (all types), or in the `rest.resource.searchParam` of every one of those
/// types that `rest.resource` lists (at least one must be listed; a type the server does not
/// list is not offered, and its search finds nothing either way). Only then is an incremental
/// sync (`ImportOptions::since`) safe; anything unreadable answers `false` (do a full sync).
pub fn supports_last_updated(metadata_body: &[u8], types: &[&str]) -> bool {
    let Ok(v) = serde_json::from_slice::<Value>(metadata_body) else {
        return false;
    };
    if !matches!(
        v.get("resourceType").and_then(Value::as_str),
        Some("CapabilityStatement")
    ) {
        return false;
    }
    let lists = |params: Option<&Value>| {
        params.and_then(Value::as_array).is_some_and(|ps| {
            ps.iter()
                .any(|p| p.get("name").and_then(Value::as_str) == Some("_lastUpdated"))
        })
    };
    let Some(rests) = v.get("rest").and_then(Value::as_array) else {
        return false;
    };
    let Some(server) = rests
        .iter()
        .find(|r| r.get("mode").and_then(Value::as_str) != Some("client"))
    else {
        return false;
    };
    if lists(server.get("searchParam")) {
        return true;
    }
    let resources = server
        .get("resource")
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or_default();
    let offered: Vec<&Value> = resources
        .iter()
        .filter(|r| {
            r.get("type")
                .and_then(Value::as_str)
                .is_some_and(|t| types.contains(&t))
        })
        .collect();
    !offered.is_empty() && offered.iter().all(|r| lists(r.get("searchParam")))
}

/// Why a server cannot be connected to. Messages are for the patient (or the person adding a
/// provider) and say what to do.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum DiscoveryError {
    /// Neither discovery document could be fetched.
    #[error("{}", failure.message(base))]
    Unreachable {
        /// The FHIR base that was tried.
        base: String,
        /// What the browser reported.
        failure: NetworkFailure,
    },
    /// The address answered, but not like a FHIR server.
    #[error("{base} does not look like a FHIR server ({detail}). Check the address: it should be the provider's FHIR API base, not its website or patient portal.")]
    NotFhirServer {
        /// The FHIR base that was tried.
        base: String,
        /// What was seen instead, e.g. "it answered with a web page".
        detail: String,
    },
    /// A FHIR server, but it does not advertise SMART sign-in.
    #[error("{base} is a FHIR server but does not offer SMART sign-in for apps, so this app cannot connect to it. Ask the provider whether it offers patient access for apps.")]
    NotSmart {
        /// The FHIR base.
        base: String,
    },
    /// SMART configuration without an authorization endpoint (e.g. backend services only).
    #[error("{base} does not offer sign-in for patients (no authorization endpoint), so this app cannot connect to it.")]
    NoAuthorizationEndpoint {
        /// The FHIR base.
        base: String,
    },
    /// SMART configuration without a token endpoint.
    #[error("{base} does not say where to obtain access (no token endpoint), so this app cannot connect to it.")]
    NoTokenEndpoint {
        /// The FHIR base.
        base: String,
    },
    /// The server lists PKCE methods, and `S256` is not among them.
    #[error("{base} does not support the secure sign-in method this app requires (PKCE with S256; it offers: {offered}). Connecting would not be safe, so the app refuses.")]
    NoPkceS256 {
        /// The FHIR base.
        base: String,
        /// The methods it offers, comma-separated (may be empty).
        offered: String,
    },
    /// The server does not say whether it supports PKCE and the policy requires it.
    #[error("{base} does not say it supports the secure sign-in method this app requires (PKCE with S256), so the app refuses to connect. An older server may still work if whoever runs this app allows it.")]
    PkceNotAdvertised {
        /// The FHIR base.
        base: String,
    },
    /// An endpoint is not https (or not a valid URL).
    #[error("The provider's {which} is not a safe address: {problem}")]
    UnsafeEndpoint {
        /// "sign-in page" or "token endpoint".
        which: &'static str,
        /// Why.
        problem: UrlError,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Stage {
    WellKnown,
    Metadata,
    Done,
}

/// What happened to the well-known request, kept to pick the most useful final error.
#[derive(Debug, Clone, PartialEq, Eq)]
enum WellKnownProblem {
    Network(NetworkFailure),
    Unusable(String),
    NoAuthorizationEndpoint,
}

/// The next thing discovery needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DiscoveryStep {
    /// Perform this GET and feed the response to [`Discovery::on_response`].
    Fetch(HttpRequest),
    /// Discovery finished with a checked server.
    Done(Box<SmartServer>),
}

/// Sans-I/O discovery with the CapabilityStatement fallback. See the module docs.
#[derive(Debug, Clone)]
pub struct Discovery {
    base: FhirBase,
    policy: PkcePolicy,
    stage: Stage,
    well_known: Option<WellKnownProblem>,
}

impl Discovery {
    /// Starts discovery for a FHIR base.
    pub fn new(base: FhirBase, policy: PkcePolicy) -> Self {
        Self {
            base,
            policy,
            stage: Stage::WellKnown,
            well_known: None,
        }
    }

    /// `{base}/.well-known/smart-configuration`.
    pub fn well_known_url(base: &FhirBase) -> String {
        base.join(".well-known/smart-configuration")
    }

    /// `{base}/metadata`.
    pub fn metadata_url(base: &FhirBase) -> String {
        base.join("metadata")
    }

    /// The request to perform now (the well-known file first, then `metadata`).
    /// `None` once discovery has finished.
    pub fn request(&self) -> Option<HttpRequest> {
        match self.stage {
            Stage::WellKnown => Some(HttpRequest::get(
                RequestId::STANDALONE,
                Self::well_known_url(&self.base),
                "application/json",
            )),
            Stage::Metadata => Some(HttpRequest::get(
                RequestId::STANDALONE,
                Self::metadata_url(&self.base),
                "application/fhir+json",
            )),
            Stage::Done => None,
        }
    }

    /// Feeds the response to the current [`request`](Self::request).
    pub fn on_response(&mut self, resp: &HttpResponse) -> Result<DiscoveryStep, DiscoveryError> {
        match self.stage {
            Stage::WellKnown => self.on_well_known(resp),
            Stage::Metadata => self.on_metadata(resp),
            Stage::Done => Err(self.not_fhir("discovery had already finished")),
        }
    }

    /// Reports that the current request failed without an HTTP response.
    pub fn on_network_failure(
        &mut self,
        failure: NetworkFailure,
    ) -> Result<DiscoveryStep, DiscoveryError> {
        match (&self.stage, failure) {
            (Stage::WellKnown, NetworkFailure::Offline)
            | (Stage::Metadata, _)
            | (Stage::Done, _) => {
                self.stage = Stage::Done;
                Err(DiscoveryError::Unreachable {
                    base: self.base.to_string(),
                    failure,
                })
            }
            (Stage::WellKnown, _) => {
                // Some servers open CORS on /metadata but not on the well-known file.
                self.well_known = Some(WellKnownProblem::Network(failure));
                self.fallback()
            }
        }
    }

    fn fallback(&mut self) -> Result<DiscoveryStep, DiscoveryError> {
        self.stage = Stage::Metadata;
        Ok(DiscoveryStep::Fetch(
            self.request().expect("metadata stage has a request"),
        ))
    }

    fn not_fhir(&self, detail: &str) -> DiscoveryError {
        DiscoveryError::NotFhirServer {
            base: self.base.to_string(),
            detail: detail.to_string(),
        }
    }

    fn on_well_known(&mut self, resp: &HttpResponse) -> Result<DiscoveryStep, DiscoveryError> {
        let problem = match (resp.is_success(), sniff(&resp.body)) {
            (true, BodyShape::Json(v)) if looks_like_smart_configuration(&v) => {
                let raw = RawConfig::from_well_known(&v);
                if raw.authorization_endpoint.is_some() {
                    self.stage = Stage::Done;
                    return self
                        .finish(raw, DiscoverySource::WellKnown)
                        .map(|s| DiscoveryStep::Done(Box::new(s)));
                }
                WellKnownProblem::NoAuthorizationEndpoint
            }
            (true, shape) => WellKnownProblem::Unusable(describe(&shape, resp.status)),
            (false, shape) => WellKnownProblem::Unusable(describe(&shape, resp.status)),
        };
        self.well_known = Some(problem);
        self.fallback()
    }

    fn on_metadata(&mut self, resp: &HttpResponse) -> Result<DiscoveryStep, DiscoveryError> {
        self.stage = Stage::Done;
        let shape = sniff(&resp.body);
        let statement = match (&shape, resp.is_success()) {
            (BodyShape::Json(v), true)
                if matches!(
                    v.get("resourceType").and_then(Value::as_str),
                    Some("CapabilityStatement" | "Conformance")
                ) =>
            {
                v
            }
            _ => {
                return Err(match &self.well_known {
                    Some(WellKnownProblem::Network(f)) if !resp.is_success() => {
                        DiscoveryError::Unreachable {
                            base: self.base.to_string(),
                            failure: *f,
                        }
                    }
                    Some(WellKnownProblem::NoAuthorizationEndpoint) => {
                        DiscoveryError::NoAuthorizationEndpoint {
                            base: self.base.to_string(),
                        }
                    }
                    _ => self.not_fhir(&describe(&shape, resp.status)),
                })
            }
        };
        let raw = RawConfig::from_capability_statement(statement);
        if raw.authorization_endpoint.is_none() {
            return Err(match self.well_known {
                Some(WellKnownProblem::NoAuthorizationEndpoint) => {
                    DiscoveryError::NoAuthorizationEndpoint {
                        base: self.base.to_string(),
                    }
                }
                _ if raw.token_endpoint.is_some() => DiscoveryError::NoAuthorizationEndpoint {
                    base: self.base.to_string(),
                },
                _ => DiscoveryError::NotSmart {
                    base: self.base.to_string(),
                },
            });
        }
        self.finish(raw, DiscoverySource::CapabilityStatement)
            .map(|s| DiscoveryStep::Done(Box::new(s)))
    }

    fn finish(
        &self,
        raw: RawConfig,
        source: DiscoverySource,
    ) -> Result<SmartServer, DiscoveryError> {
        let base = self.base.to_string();
        let authorization_endpoint = raw
            .authorization_endpoint
            .ok_or_else(|| DiscoveryError::NoAuthorizationEndpoint { base: base.clone() })?;
        let token_endpoint = raw
            .token_endpoint
            .ok_or_else(|| DiscoveryError::NoTokenEndpoint { base: base.clone() })?;
        check_secure(&authorization_endpoint).map_err(|problem| {
            DiscoveryError::UnsafeEndpoint {
                which: "sign-in page",
                problem,
            }
        })?;
        check_secure(&token_endpoint).map_err(|problem| DiscoveryError::UnsafeEndpoint {
            which: "token endpoint",
            problem,
        })?;

        let mut warnings = Vec::new();
        if source == DiscoverySource::CapabilityStatement {
            warnings.push(DiscoveryWarning::UsedCapabilityStatement);
        }
        match &raw.code_challenge_methods {
            Some(methods) if methods.iter().any(|m| m == "S256") => {
                if methods.iter().any(|m| m.eq_ignore_ascii_case("plain")) {
                    warnings.push(DiscoveryWarning::PlainPkceAdvertised);
                }
            }
            Some(methods) if !methods.is_empty() => {
                return Err(DiscoveryError::NoPkceS256 {
                    base,
                    offered: methods.join(", "),
                })
            }
            _ => match self.policy {
                PkcePolicy::RequireAdvertised => {
                    return Err(DiscoveryError::PkceNotAdvertised { base })
                }
                PkcePolicy::AssumeWhenUnadvertised => warnings.push(DiscoveryWarning::PkceAssumed),
            },
        }
        if !raw.capabilities.is_empty() {
            for needed in [
                "launch-standalone",
                "client-public",
                "context-standalone-patient",
                "permission-patient",
            ] {
                if !raw.capabilities.iter().any(|c| c == needed) {
                    warnings.push(DiscoveryWarning::MissingCapability(needed.to_string()));
                }
            }
        }
        Ok(SmartServer {
            fhir_base: self.base.clone(),
            authorization_endpoint,
            token_endpoint,
            issuer: raw.issuer,
            revocation_endpoint: raw.revocation_endpoint,
            management_endpoint: raw.management_endpoint,
            capabilities: raw.capabilities,
            scopes_supported: raw.scopes_supported,
            code_challenge_methods: raw.code_challenge_methods,
            grant_types: raw.grant_types,
            user_access_brand_bundle: raw.brand_bundle,
            source,
            warnings,
        })
    }
}

fn describe(shape: &BodyShape, status: u16) -> String {
    let what = match shape {
        BodyShape::Html => "a web page",
        BodyShape::Empty => "an empty response",
        BodyShape::Other => "something that is not JSON",
        BodyShape::Json(v) if v.get("resourceType").is_some() => "a different FHIR resource",
        BodyShape::Json(_) => "JSON that is not a SMART configuration or CapabilityStatement",
    };
    if (200..300).contains(&status) {
        format!("it answered with {what}")
    } else {
        format!("it answered HTTP {status} with {what}")
    }
}

/// A smart-configuration is a JSON object that is not a FHIR resource and names at least one of
/// the SMART fields.
fn looks_like_smart_configuration(v: &Value) -> bool {
    v.is_object()
        && v.get("resourceType").is_none()
        && ["authorization_endpoint", "token_endpoint", "capabilities"]
            .iter()
            .any(|k| v.get(k).is_some())
}

#[derive(Debug, Default)]
struct RawConfig {
    authorization_endpoint: Option<String>,
    token_endpoint: Option<String>,
    issuer: Option<String>,
    revocation_endpoint: Option<String>,
    management_endpoint: Option<String>,
    capabilities: Vec<String>,
    scopes_supported: Option<Vec<String>>,
    code_challenge_methods: Option<Vec<String>>,
    grant_types: Option<Vec<String>>,
    brand_bundle: Option<String>,
}

fn non_empty_str(v: Option<&Value>) -> Option<String> {
    v.and_then(Value::as_str)
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
}

/// An array of strings, or (seen in the wild) one space-separated string.
fn string_list(v: Option<&Value>) -> Option<Vec<String>> {
    match v? {
        Value::Array(items) => Some(
            items
                .iter()
                .filter_map(Value::as_str)
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_string)
                .collect(),
        ),
        Value::String(s) => Some(s.split_whitespace().map(str::to_string).collect()),
        _ => None,
    }
}

impl RawConfig {
    fn from_well_known(v: &Value) -> Self {
        Self {
            authorization_endpoint: non_empty_str(v.get("authorization_endpoint")),
            token_endpoint: non_empty_str(v.get("token_endpoint")),
            issuer: non_empty_str(v.get("issuer")),
            revocation_endpoint: non_empty_str(v.get("revocation_endpoint")),
            management_endpoint: non_empty_str(v.get("management_endpoint")),
            capabilities: string_list(v.get("capabilities")).unwrap_or_default(),
            scopes_supported: string_list(v.get("scopes_supported")),
            code_challenge_methods: string_list(v.get("code_challenge_methods_supported")),
            grant_types: string_list(v.get("grant_types_supported")),
            brand_bundle: non_empty_str(v.get("user_access_brand_bundle")),
        }
    }

    fn from_capability_statement(v: &Value) -> Self {
        let mut raw = RawConfig::default();
        let Some(rests) = v.get("rest").and_then(Value::as_array) else {
            return raw;
        };
        // Prefer the server-mode entry; tolerate a missing mode.
        let mut ordered: Vec<&Value> = rests
            .iter()
            .filter(|r| r.get("mode").and_then(Value::as_str) == Some("server"))
            .collect();
        ordered.extend(
            rests
                .iter()
                .filter(|r| r.get("mode").and_then(Value::as_str) != Some("server")),
        );
        for rest in ordered {
            let Some(exts) = rest
                .pointer("/security/extension")
                .and_then(Value::as_array)
            else {
                continue;
            };
            for ext in exts {
                match ext.get("url").and_then(Value::as_str) {
                    Some(OAUTH_URIS_EXTENSION) => {
                        for sub in ext
                            .get("extension")
                            .and_then(Value::as_array)
                            .into_iter()
                            .flatten()
                        {
                            let value = non_empty_str(sub.get("valueUri"))
                                .or_else(|| non_empty_str(sub.get("valueUrl")));
                            let slot = match sub.get("url").and_then(Value::as_str) {
                                Some("authorize") => &mut raw.authorization_endpoint,
                                Some("token") => &mut raw.token_endpoint,
                                Some("revoke") => &mut raw.revocation_endpoint,
                                Some("manage") => &mut raw.management_endpoint,
                                _ => continue,
                            };
                            if slot.is_none() {
                                *slot = value;
                            }
                        }
                    }
                    Some(CAPABILITIES_EXTENSION) => {
                        if let Some(code) = non_empty_str(ext.get("valueCode")) {
                            raw.capabilities.push(code);
                        }
                    }
                    _ => {}
                }
            }
            if raw.authorization_endpoint.is_some() {
                break;
            }
        }
        raw
    }
}

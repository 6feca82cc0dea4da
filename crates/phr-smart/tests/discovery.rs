//! Discovery against real-world shaped documents, the CapabilityStatement fallback, and refusals.

mod common;

use common::{discover, fixture, json_response};
use phr_smart::{
    choose_version, requested_scopes, Discovery, DiscoveryError, DiscoverySource, DiscoveryStep,
    DiscoveryWarning, FhirBase, HttpResponse, NetworkFailure, PkcePolicy, ResourceScopes,
    ScopeOptions, ScopeVersion,
};

const EPIC_BASE: &str = "https://fhir.epic-like.example.com/interconnect-fhir-oauth/api/FHIR/R4/";

#[test]
fn requests_well_known_then_metadata_with_trailing_slash_removed() {
    let base = FhirBase::parse(EPIC_BASE).unwrap();
    let mut d = Discovery::new(base, PkcePolicy::default());
    let first = d.request().unwrap();
    assert_eq!(
        first.url,
        "https://fhir.epic-like.example.com/interconnect-fhir-oauth/api/FHIR/R4/.well-known/smart-configuration"
    );
    assert!(first.header("Authorization").is_none());
    let step = d.on_response(&HttpResponse::new(404, "Not Found")).unwrap();
    let DiscoveryStep::Fetch(second) = step else {
        panic!("expected the metadata fallback");
    };
    assert_eq!(
        second.url,
        "https://fhir.epic-like.example.com/interconnect-fhir-oauth/api/FHIR/R4/metadata"
    );
    assert_eq!(second.header("accept"), Some("application/fhir+json"));
}

#[test]
fn epic_like_configuration() {
    let s = discover(
        EPIC_BASE,
        PkcePolicy::default(),
        json_response(200, &fixture("discovery/epic-like.json")),
        None,
    )
    .unwrap();
    assert_eq!(s.source, DiscoverySource::WellKnown);
    assert_eq!(
        s.fhir_base.as_str(),
        "https://fhir.epic-like.example.com/interconnect-fhir-oauth/api/FHIR/R4"
    );
    assert_eq!(
        s.authorization_endpoint,
        "https://fhir.epic-like.example.com/interconnect-fhir-oauth/oauth2/authorize"
    );
    assert_eq!(
        s.token_endpoint,
        "https://fhir.epic-like.example.com/interconnect-fhir-oauth/oauth2/token"
    );
    assert_eq!(
        s.issuer.as_deref(),
        Some("https://fhir.epic-like.example.com/interconnect-fhir-oauth/oauth2")
    );
    assert!(s.offers_offline_access());
    assert!(s.warnings.is_empty(), "{:?}", s.warnings);
    // permission-v2 and no resource scopes listed: v2 wildcard.
    assert_eq!(choose_version(&s), ScopeVersion::V2);
    assert_eq!(
        requested_scopes(&s, &ScopeOptions::default()).to_scope_string(),
        "launch/patient openid fhirUser offline_access patient/*.rs"
    );
}

#[test]
fn cerner_like_configuration_lists_per_type_scopes_only() {
    let s = discover(
        "https://fhir-myrecord.cerner-like.example.com/r4/ec2458f2-1e24-41c8-b71b-0e701af7583d",
        PkcePolicy::default(),
        json_response(200, &fixture("discovery/cerner-like.json")),
        None,
    )
    .unwrap();
    assert!(s.has_capability("permission-v2"));
    assert_eq!(
        s.revocation_endpoint.as_deref(),
        Some("https://authorization.cerner-like.example.com/tenants/ec2458f2-1e24-41c8-b71b-0e701af7583d/hosts/fhir-myrecord.cerner-like.example.com/protocols/oauth2/profiles/smart-v1/token/revoke")
    );
    let scopes = requested_scopes(&s, &ScopeOptions::default());
    assert!(scopes.0.contains(&"patient/Observation.rs".to_string()));
    assert!(scopes.0.contains(&"patient/Binary.rs".to_string()));
    assert!(!scopes.0.iter().any(|x| x.contains('*')), "{scopes:?}");
    // Only the types the server lists are asked for.
    assert!(!scopes.0.contains(&"patient/Goal.rs".to_string()));
}

#[test]
fn sandbox_like_configuration_without_permission_capabilities_uses_v1() {
    let s = discover(
        "https://launch.sandbox-like.example.org/v/r4/fhir",
        PkcePolicy::default(),
        json_response(200, &fixture("discovery/smart-sandbox-like.json")),
        None,
    )
    .unwrap();
    assert_eq!(choose_version(&s), ScopeVersion::V1);
    let opts = ScopeOptions {
        offline_access: false,
        ..ScopeOptions::default()
    };
    assert_eq!(
        requested_scopes(&s, &opts).to_scope_string(),
        "launch/patient openid fhirUser patient/*.read"
    );
    let per_type = ScopeOptions {
        resources: Some(ResourceScopes::PerType(vec![
            "Condition".into(),
            "Observation".into(),
        ])),
        openid: false,
        ..ScopeOptions::default()
    };
    assert_eq!(
        requested_scopes(&s, &per_type).to_scope_string(),
        "launch/patient offline_access patient/Condition.read patient/Observation.read"
    );
}

#[test]
fn capability_statement_fallback_for_a_v1_server() {
    let base = "https://legacy.example.org/fhir";
    let wk = HttpResponse::new(404, fixture("discovery/portal-page.html"))
        .with_header("Content-Type", "text/html");
    let meta = json_response(200, &fixture("discovery/capability-statement-v1.json"));
    // Default policy: the CapabilityStatement cannot advertise PKCE, so it is refused.
    let err = discover(base, PkcePolicy::default(), wk.clone(), Some(meta.clone())).unwrap_err();
    assert!(
        matches!(err, DiscoveryError::PkceNotAdvertised { .. }),
        "{err:?}"
    );
    // Allowed by policy: endpoints come from the oauth-uris extension.
    let s = discover(base, PkcePolicy::AssumeWhenUnadvertised, wk, Some(meta)).unwrap();
    assert_eq!(s.source, DiscoverySource::CapabilityStatement);
    assert_eq!(
        s.authorization_endpoint,
        "https://legacy.example.org/oauth/authorize"
    );
    assert_eq!(s.token_endpoint, "https://legacy.example.org/oauth/token");
    assert_eq!(
        s.management_endpoint.as_deref(),
        Some("https://legacy.example.org/oauth/manage")
    );
    assert!(s.has_capability("launch-standalone"));
    assert!(s
        .warnings
        .contains(&DiscoveryWarning::UsedCapabilityStatement));
    assert!(s.warnings.contains(&DiscoveryWarning::PkceAssumed));
}

#[test]
fn falls_back_when_well_known_is_not_a_configuration() {
    // A FHIR server answering the well-known path with an OperationOutcome.
    let oo =
        r#"{"resourceType":"OperationOutcome","issue":[{"severity":"error","code":"not-found"}]}"#;
    let s = discover(
        "https://legacy.example.org/fhir",
        PkcePolicy::AssumeWhenUnadvertised,
        json_response(200, oo),
        Some(json_response(
            200,
            &fixture("discovery/capability-statement-v1.json"),
        )),
    )
    .unwrap();
    assert_eq!(s.source, DiscoverySource::CapabilityStatement);
}

#[test]
fn falls_back_when_well_known_fetch_fails_cors() {
    let mut d = Discovery::new(
        FhirBase::parse("https://legacy.example.org/fhir").unwrap(),
        PkcePolicy::AssumeWhenUnadvertised,
    );
    let step = d.on_network_failure(NetworkFailure::FetchFailed).unwrap();
    assert!(matches!(step, DiscoveryStep::Fetch(ref r) if r.url.ends_with("/metadata")));
    let step = d
        .on_response(&json_response(
            200,
            &fixture("discovery/capability-statement-v1.json"),
        ))
        .unwrap();
    assert!(matches!(step, DiscoveryStep::Done(_)));
}

#[test]
fn refuses_a_website_that_is_not_a_fhir_server() {
    let html = HttpResponse::new(200, fixture("discovery/portal-page.html"))
        .with_header("Content-Type", "text/html");
    let err = discover(
        "https://myhealth.example.org",
        PkcePolicy::default(),
        html.clone(),
        Some(html),
    )
    .unwrap_err();
    let DiscoveryError::NotFhirServer { detail, .. } = &err else {
        panic!("{err:?}");
    };
    assert!(detail.contains("web page"), "{detail}");
    assert!(err.to_string().contains("does not look like a FHIR server"));
}

#[test]
fn refuses_non_json_and_foreign_json() {
    let err = discover(
        "https://x.example.org/fhir",
        PkcePolicy::default(),
        HttpResponse::new(200, "hello"),
        Some(json_response(200, r#"{"status":"ok","version":3}"#)),
    )
    .unwrap_err();
    assert!(
        matches!(&err, DiscoveryError::NotFhirServer { detail, .. } if detail.contains("not a SMART configuration")),
        "{err:?}"
    );
}

#[test]
fn refuses_an_open_fhir_server_without_smart() {
    let err = discover(
        "https://open.example.org/fhir",
        PkcePolicy::default(),
        HttpResponse::new(404, ""),
        Some(json_response(
            200,
            &fixture("discovery/capability-statement-open.json"),
        )),
    )
    .unwrap_err();
    assert!(matches!(err, DiscoveryError::NotSmart { .. }), "{err:?}");
}

#[test]
fn refuses_plain_only_pkce() {
    let err = discover(
        "https://weak.example.org/fhir",
        PkcePolicy::AssumeWhenUnadvertised,
        json_response(200, &fixture("discovery/well-known-plain-only.json")),
        None,
    )
    .unwrap_err();
    assert_eq!(
        err,
        DiscoveryError::NoPkceS256 {
            base: "https://weak.example.org/fhir".into(),
            offered: "plain".into()
        }
    );
}

#[test]
fn refuses_missing_pkce_field_by_default() {
    let mut doc: serde_json::Value =
        serde_json::from_str(&fixture("discovery/epic-like.json")).unwrap();
    doc.as_object_mut()
        .unwrap()
        .remove("code_challenge_methods_supported");
    let wk = json_response(200, &doc.to_string());
    let err = discover(EPIC_BASE, PkcePolicy::default(), wk.clone(), None).unwrap_err();
    assert!(matches!(err, DiscoveryError::PkceNotAdvertised { .. }));
    let ok = discover(EPIC_BASE, PkcePolicy::AssumeWhenUnadvertised, wk, None).unwrap();
    assert!(ok.warnings.contains(&DiscoveryWarning::PkceAssumed));
}

#[test]
fn refuses_backend_only_configuration() {
    let err = discover(
        "https://backend.example.org/fhir",
        PkcePolicy::default(),
        json_response(200, &fixture("discovery/well-known-backend-only.json")),
        Some(json_response(
            200,
            &fixture("discovery/capability-statement-open.json"),
        )),
    )
    .unwrap_err();
    assert!(
        matches!(err, DiscoveryError::NoAuthorizationEndpoint { .. }),
        "{err:?}"
    );
}

#[test]
fn refuses_insecure_endpoints() {
    let doc = r#"{"authorization_endpoint":"http://ehr.example.org/auth","token_endpoint":"https://ehr.example.org/token","capabilities":[],"code_challenge_methods_supported":["S256"]}"#;
    let err = discover(
        "https://ehr.example.org/fhir",
        PkcePolicy::default(),
        json_response(200, doc),
        None,
    )
    .unwrap_err();
    assert!(
        matches!(
            err,
            DiscoveryError::UnsafeEndpoint {
                which: "sign-in page",
                ..
            }
        ),
        "{err:?}"
    );
}

#[test]
fn tolerates_odd_shapes_and_warns_about_missing_capabilities() {
    // scopes as one string, capabilities missing standalone, plain listed alongside S256,
    // a wrong-typed optional field, and unknown extras.
    let doc = r#"{
        "authorization_endpoint": "https://ehr.example.org/auth",
        "token_endpoint": "https://ehr.example.org/token",
        "scopes_supported": "openid launch/patient patient/*.rs",
        "capabilities": ["launch-ehr", "client-public", "permission-patient", "context-standalone-patient"],
        "code_challenge_methods_supported": ["S256", "plain"],
        "revocation_endpoint": 42,
        "x-vendor": {"a": [1]}
    }"#;
    let s = discover(
        "https://ehr.example.org/fhir/",
        PkcePolicy::default(),
        json_response(200, doc),
        None,
    )
    .unwrap();
    assert_eq!(s.revocation_endpoint, None);
    assert_eq!(
        s.scopes_supported.as_deref().unwrap(),
        ["openid", "launch/patient", "patient/*.rs"]
    );
    assert!(s.warnings.contains(&DiscoveryWarning::MissingCapability(
        "launch-standalone".into()
    )));
    assert!(s.warnings.contains(&DiscoveryWarning::PlainPkceAdvertised));
    // v2 syntax in scopes_supported (no permission-v* capability) → v2.
    assert_eq!(choose_version(&s), ScopeVersion::V2);
}

#[test]
fn local_demo_over_http_is_allowed() {
    let doc = r#"{"issuer":"http://localhost:4000/oidc","authorization_endpoint":"http://localhost:4000/oidc/auth","token_endpoint":"http://localhost:4000/oidc/token","capabilities":["launch-standalone","client-public","context-standalone-patient","permission-patient","permission-offline","permission-v1","permission-v2","sso-openid-connect"],"code_challenge_methods_supported":["S256"]}"#;
    let s = discover(
        "http://localhost:4000/fhir",
        PkcePolicy::default(),
        json_response(200, doc),
        None,
    )
    .unwrap();
    assert_eq!(s.token_endpoint, "http://localhost:4000/oidc/token");
}

#[test]
fn unreachable_when_offline_or_both_fail() {
    let mut d = Discovery::new(
        FhirBase::parse("https://ehr.example.org/fhir").unwrap(),
        PkcePolicy::default(),
    );
    let err = d.on_network_failure(NetworkFailure::Offline).unwrap_err();
    assert!(err.to_string().contains("offline"));

    let mut d = Discovery::new(
        FhirBase::parse("https://ehr.example.org/fhir").unwrap(),
        PkcePolicy::default(),
    );
    d.on_network_failure(NetworkFailure::FetchFailed).unwrap();
    let err = d
        .on_network_failure(NetworkFailure::FetchFailed)
        .unwrap_err();
    assert!(
        matches!(
            err,
            DiscoveryError::Unreachable {
                failure: NetworkFailure::FetchFailed,
                ..
            }
        ),
        "{err:?}"
    );
    assert!(err.to_string().contains("CORS"));
    assert_eq!(d.request(), None);
}

#[test]
fn last_updated_support_from_the_capability_statement() {
    use phr_smart::supports_last_updated;
    let per_type = br#"{"resourceType":"CapabilityStatement","rest":[{"mode":"server","resource":[
        {"type":"Condition","searchParam":[{"name":"patient"},{"name":"_lastUpdated"}]},
        {"type":"Observation","searchParam":[{"name":"_lastUpdated"}]},
        {"type":"Goal","searchParam":[{"name":"patient"}]}]}]}"#;
    assert!(supports_last_updated(
        per_type,
        &["Condition", "Observation"]
    ));
    assert!(
        !supports_last_updated(per_type, &["Condition", "Goal"]),
        "Goal lacks it"
    );
    assert!(
        supports_last_updated(per_type, &["Condition", "Device"]),
        "Device is not offered: its search finds nothing either way"
    );
    assert!(
        !supports_last_updated(per_type, &["Device"]),
        "nothing listed"
    );
    assert!(!supports_last_updated(per_type, &[]));
    let global = br#"{"resourceType":"CapabilityStatement","rest":[{"mode":"server",
        "searchParam":[{"name":"_lastUpdated","type":"date"}],"resource":[{"type":"Goal"}]}]}"#;
    assert!(supports_last_updated(global, &["Goal", "Device"]));
    for bad in [
        &b"<html>"[..],
        br#"{"resourceType":"OperationOutcome"}"#,
        br#"{"resourceType":"CapabilityStatement"}"#,
        br#"{"resourceType":"CapabilityStatement","rest":[{"mode":"client","searchParam":[{"name":"_lastUpdated"}]}]}"#,
    ] {
        assert!(!supports_last_updated(bad, &["Goal"]));
    }
}

#[test]
fn blocked_fetch_falls_back_to_metadata_then_says_blocked() {
    let base = FhirBase::parse("https://fhir.example.org/r4").unwrap();
    let mut d = Discovery::new(base, PkcePolicy::default());
    let step = d.on_network_failure(NetworkFailure::Blocked).unwrap();
    assert!(
        matches!(step, DiscoveryStep::Fetch(_)),
        "tries /metadata next"
    );
    let err = d.on_network_failure(NetworkFailure::Blocked).unwrap_err();
    assert!(
        err.to_string()
            .contains("does not allow browser apps from this site"),
        "{err}"
    );
}

//! Token exchange, reduced grants, error bodies, refresh near expiry and rotation, and what is
//! (not) persisted.

mod common;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use common::{json_response, sandbox_server, seeded_rng};
use phr_smart::http::Method;
use phr_smart::{
    begin_authorization, AccessToken, ClientRegistration, Connection, HttpResponse,
    PendingAuthorization, RequestedScopes, SearchAccess, TokenError, REFRESH_MARGIN_MS,
};

const NOW: u64 = 1_700_000_000_000;
const BASE: &str = "http://localhost:4000/fhir";

fn pending() -> PendingAuthorization {
    let mut server = sandbox_server(BASE);
    server.token_endpoint = "http://localhost:4000/oidc/token".into();
    let client = ClientRegistration {
        provider_id: "demo-a".into(),
        provider_name: "Demo Clinic".into(),
        client_id: "phr-app".into(),
        redirect_uri: "http://localhost:8080/callback".into(),
    };
    let scopes = RequestedScopes(
        "launch/patient openid fhirUser offline_access patient/*.rs"
            .split(' ')
            .map(str::to_string)
            .collect(),
    );
    begin_authorization(&server, &client, &scopes, &mut seeded_rng(3), NOW)
        .unwrap()
        .pending
}

fn code(p: &PendingAuthorization) -> phr_smart::AuthorizationCode {
    let state = p.state().to_string();
    p.complete(&format!("code=the-code&state={state}"), NOW)
        .unwrap()
}

fn jwt(claims: &str) -> String {
    format!(
        "{}.{}.sig",
        URL_SAFE_NO_PAD.encode(r#"{"alg":"RS256"}"#),
        URL_SAFE_NO_PAD.encode(claims)
    )
}

#[test]
fn token_request_is_a_public_client_form_post() {
    let p = pending();
    let req = p.token_request(&code(&p));
    assert_eq!(req.method, Method::Post);
    assert_eq!(req.url, "http://localhost:4000/oidc/token");
    assert_eq!(
        req.header("content-type"),
        Some("application/x-www-form-urlencoded")
    );
    assert_eq!(
        req.body.as_deref().unwrap(),
        format!(
            "grant_type=authorization_code&code=the-code&redirect_uri=http%3A%2F%2Flocalhost%3A8080%2Fcallback&code_verifier={}&client_id=phr-app",
            p.verifier().as_str()
        )
    );
    assert!(
        req.header("Authorization").is_none(),
        "public client: no secret"
    );
}

#[test]
fn full_grant_builds_connection_and_in_memory_token() {
    let p = pending();
    let body = format!(
        r#"{{"access_token":"AT-secret-1","token_type":"bearer","expires_in":3600,"scope":"launch/patient openid fhirUser offline_access patient/*.rs","patient":"123","refresh_token":"RT-1","id_token":"{}","need_patient_banner":false}}"#,
        jwt(r#"{"sub":"123","fhirUser":"http://localhost:4000/fhir/Patient/123","aud":"phr-app"}"#)
    );
    let a = p.finish(&json_response(200, &body), NOW).unwrap();
    assert_eq!(a.access_token.patient_id(), "123");
    assert_eq!(a.access_token.authorization_header(), "Bearer AT-secret-1");
    assert_eq!(a.access_token.expires_at_ms(), Some(NOW + 3_600_000));
    assert!(a.not_granted.is_empty(), "{:?}", a.not_granted);
    assert!(a.scopes_not_granted.is_empty());
    let c = &a.connection;
    assert_eq!(c.patient_id, "123");
    assert_eq!(
        c.fhir_user.as_deref(),
        Some("http://localhost:4000/fhir/Patient/123")
    );
    assert!(c.can_refresh());
    assert_eq!(c.fhir_base.as_str(), BASE);

    // Persisted form: the refresh token is there (it lives in the vault), the access token
    // is not; Debug output hides both.
    let json = c.to_json();
    assert!(json.contains("RT-1"));
    assert!(!json.contains("AT-secret-1"));
    assert_eq!(Connection::from_json(&json).unwrap(), *c);
    assert!(!format!("{c:?}").contains("RT-1"));
    assert!(!format!("{:?}", a.access_token).contains("AT-secret"));
}

#[test]
fn reduced_scopes_are_reported() {
    let p = pending();
    let body = r#"{"access_token":"AT","token_type":"Bearer","expires_in":300,
        "scope":"launch/patient openid patient/Patient.rs patient/Condition.rs patient/Observation.rs?category=http://terminology.hl7.org/CodeSystem/observation-category|laboratory",
        "patient":"123"}"#;
    let a = p.finish(&json_response(200, body), NOW).unwrap();
    assert!(!a.not_granted.contains(&"Patient".to_string()));
    assert!(!a.not_granted.contains(&"Condition".to_string()));
    assert!(!a.not_granted.contains(&"Observation".to_string()));
    assert!(a.not_granted.contains(&"AllergyIntolerance".to_string()));
    assert!(a.not_granted.contains(&"Immunization".to_string()));
    assert_eq!(
        a.scopes_not_granted,
        vec!["fhirUser", "offline_access", "patient/*.rs"]
    );
    assert!(!a.connection.can_refresh());
    let granted = a.connection.granted();
    assert!(matches!(
        granted.search_access("Observation"),
        SearchAccess::Only(_)
    ));
}

#[test]
fn missing_scope_means_as_requested_and_patient_can_come_from_fhir_user() {
    let p = pending();
    let body = format!(
        r#"{{"access_token":"AT","expires_in":"600","id_token":"{}"}}"#,
        jwt(r#"{"sub":"x","fhirUser":"http://localhost:4000/fhir/Patient/p-77"}"#)
    );
    let a = p.finish(&json_response(200, &body), NOW).unwrap();
    assert_eq!(a.connection.patient_id, "p-77");
    assert_eq!(
        a.connection.granted_scope,
        "launch/patient openid fhirUser offline_access patient/*.rs"
    );
    assert_eq!(a.access_token.expires_at_ms(), Some(NOW + 600_000));
}

#[test]
fn missing_fields_are_errors() {
    let p = pending();
    assert!(matches!(
        p.finish(
            &json_response(200, r#"{"token_type":"Bearer","patient":"1"}"#),
            NOW
        ),
        Err(TokenError::MissingAccessToken { .. })
    ));
    let err = p
        .finish(
            &json_response(200, r#"{"access_token":"AT","token_type":"Bearer"}"#),
            NOW,
        )
        .unwrap_err();
    assert!(matches!(err, TokenError::NoPatient { .. }));
    assert!(err.to_string().contains("did not say which patient"));
    // A practitioner fhirUser does not give a patient.
    let body = format!(
        r#"{{"access_token":"AT","id_token":"{}"}}"#,
        jwt(r#"{"fhirUser":"Practitioner/9"}"#)
    );
    assert!(matches!(
        p.finish(&json_response(200, &body), NOW),
        Err(TokenError::NoPatient { .. })
    ));
    // A patient id that is not a FHIR id is refused.
    assert!(matches!(
        p.finish(
            &json_response(200, r#"{"access_token":"AT","patient":"../Patient/1"}"#),
            NOW
        ),
        Err(TokenError::NoPatient { .. })
    ));
}

#[test]
fn non_bearer_token_is_refused() {
    let p = pending();
    let err = p
        .finish(
            &json_response(
                200,
                r#"{"access_token":"AT","token_type":"DPoP","patient":"1"}"#,
            ),
            NOW,
        )
        .unwrap_err();
    assert_eq!(
        err,
        TokenError::NotBearer {
            provider: "Demo Clinic".into(),
            token_type: "DPoP".into()
        }
    );
}

#[test]
fn error_bodies_are_typed() {
    let p = pending();
    let e = |status, body: &str| p.finish(&json_response(status, body), NOW).unwrap_err();
    assert!(matches!(
        e(
            400,
            r#"{"error":"invalid_grant","error_description":"grant request is invalid"}"#
        ),
        TokenError::InvalidGrant { .. }
    ));
    assert!(matches!(
        e(401, r#"{"error":"invalid_client"}"#),
        TokenError::InvalidClient { .. }
    ));
    let other = e(
        400,
        r#"{"error":"invalid_request","error_description":"aud must be http://localhost:4000/fhir"}"#,
    );
    assert!(other
        .to_string()
        .contains("invalid_request: aud must be http://localhost:4000/fhir"));
    assert_eq!(
        e(503, "<html>Service Unavailable</html>"),
        TokenError::Http {
            provider: "Demo Clinic".into(),
            status: 503
        }
    );
    assert!(matches!(
        e(200, "<html>login</html>"),
        TokenError::NotJson {
            detail: "a web page",
            ..
        }
    ));
    assert!(matches!(e(200, ""), TokenError::NotJson { .. }));
    assert!(matches!(e(200, "[1,2]"), TokenError::NotJson { .. }));
}

fn connection_with_refresh(expires_in: u64) -> (Connection, AccessToken) {
    let p = pending();
    let body = format!(
        r#"{{"access_token":"AT-1","token_type":"Bearer","expires_in":{expires_in},"scope":"launch/patient offline_access patient/*.rs","patient":"123","refresh_token":"RT-1"}}"#
    );
    let a = p.finish(&json_response(200, &body), NOW).unwrap();
    (a.connection, a.access_token)
}

#[test]
fn refresh_needed_near_expiry() {
    let (_, token) = connection_with_refresh(3600);
    let expiry = NOW + 3_600_000;
    assert!(!token.needs_refresh(NOW));
    assert!(!token.needs_refresh(expiry - REFRESH_MARGIN_MS));
    assert!(token.needs_refresh(expiry - REFRESH_MARGIN_MS + 1));
    assert!(token.needs_refresh(expiry + 1));
    assert!(!token.is_expired(expiry - 1));
    assert!(token.is_expired(expiry));
    // Unknown expiry: never "needs refresh" up front (a 401 will tell).
    let t = AccessToken::new("x".into(), None, "1".into());
    assert!(!t.needs_refresh(u64::MAX));
}

#[test]
fn refresh_rotates_the_refresh_token() {
    let (mut c, _) = connection_with_refresh(3600);
    let req = c.refresh_request().unwrap();
    assert_eq!(
        req.body.as_deref(),
        Some("grant_type=refresh_token&refresh_token=RT-1&client_id=phr-app")
    );
    let later = NOW + 3_590_000;
    let t = c
        .apply_refresh(
            &json_response(200, r#"{"access_token":"AT-2","token_type":"Bearer","expires_in":3600,"scope":"launch/patient offline_access patient/*.rs","patient":"123","refresh_token":"RT-2"}"#),
            later,
        )
        .unwrap();
    assert_eq!(t.authorization_header(), "Bearer AT-2");
    assert_eq!(t.expires_at_ms(), Some(later + 3_600_000));
    assert_eq!(c.access_expires_at_ms, Some(later + 3_600_000));
    let req = c.refresh_request().unwrap();
    assert_eq!(
        req.body.as_deref(),
        Some("grant_type=refresh_token&refresh_token=RT-2&client_id=phr-app")
    );
    assert!(
        !c.to_json().contains("RT-1"),
        "the used refresh token is dropped"
    );
}

#[test]
fn refresh_without_rotation_keeps_the_token_and_may_narrow_scope() {
    let (mut c, _) = connection_with_refresh(3600);
    c.apply_refresh(
        &json_response(200, r#"{"access_token":"AT-2","token_type":"Bearer","expires_in":60,"scope":"launch/patient patient/Condition.rs"}"#),
        NOW,
    )
    .unwrap();
    assert!(c.to_json().contains("RT-1"));
    assert_eq!(c.granted_scope, "launch/patient patient/Condition.rs");
}

#[test]
fn refresh_rejected_drops_the_refresh_token() {
    let (mut c, _) = connection_with_refresh(3600);
    let err = c
        .apply_refresh(
            &json_response(
                400,
                r#"{"error":"invalid_grant","error_description":"grant request is invalid"}"#,
            ),
            NOW,
        )
        .unwrap_err();
    assert!(matches!(err, TokenError::RefreshRejected { .. }));
    assert!(err.to_string().contains("Reconnect"));
    assert!(!c.can_refresh());
    assert!(c.refresh_request().is_none());
    assert!(matches!(
        c.apply_refresh(&json_response(200, "{}"), NOW),
        Err(TokenError::NoRefreshToken { .. })
    ));
}

#[test]
fn refresh_server_error_keeps_the_refresh_token() {
    let (mut c, _) = connection_with_refresh(3600);
    let err = c
        .apply_refresh(&HttpResponse::new(502, "Bad Gateway"), NOW)
        .unwrap_err();
    assert!(matches!(err, TokenError::Http { status: 502, .. }));
    assert!(c.can_refresh());
}

#[test]
fn refresh_for_another_patient_is_refused() {
    let (mut c, _) = connection_with_refresh(3600);
    let err = c
        .apply_refresh(
            &json_response(200, r#"{"access_token":"AT-2","token_type":"Bearer","patient":"999","refresh_token":"RT-2"}"#),
            NOW,
        )
        .unwrap_err();
    assert!(matches!(err, TokenError::PatientChanged { .. }));
    assert!(c.to_json().contains("RT-1"), "nothing changed");
}

#[test]
fn reconnect_uses_the_same_registration_and_records_syncs() {
    let (mut c, _) = connection_with_refresh(3600);
    let reg = c.client_registration();
    assert_eq!(reg.client_id, "phr-app");
    assert_eq!(reg.redirect_uri, "http://localhost:8080/callback");
    c.record_sync(NOW + 10, true);
    c.record_sync(NOW + 20, false);
    assert_eq!(c.last_sync_ms, Some(NOW + 20));
    assert_eq!(c.last_full_sync_ms, Some(NOW + 10));
    assert!(Connection::from_json("{}").is_err());
}

//! PKCE, state, the authorize URL, the pending sign-in across the redirect, and callback checks.

mod common;

use common::{sandbox_server, seeded_rng};
use phr_smart::{
    begin_authorization, s256_challenge, storage_key_for_callback, stored_pending_is_stale,
    AuthorizationStart, AuthorizeError, CallbackError, ClientRegistration, CodeVerifier,
    OAuthState, PendingAuthorization, RequestedScopes, StateProblem, PENDING_LIFETIME_MS,
};

/// RFC 7636 Appendix B.
const RFC_VERIFIER_BYTES: [u8; 32] = [
    116, 24, 223, 180, 151, 153, 224, 37, 79, 250, 96, 125, 216, 173, 187, 186, 22, 212, 37, 77,
    105, 214, 191, 240, 91, 88, 5, 88, 83, 132, 141, 121,
];

const NOW: u64 = 1_700_000_000_000;

fn client() -> ClientRegistration {
    ClientRegistration {
        provider_id: "sandbox".into(),
        provider_name: "Sandbox Health".into(),
        client_id: "phr-app".into(),
        redirect_uri: "https://phr.example.net/callback".into(),
    }
}

/// Hands out the RFC verifier bytes, then 0..16 for the state.
fn fixed_rng() -> impl FnMut(&mut [u8]) {
    let mut stream: Vec<u8> = RFC_VERIFIER_BYTES.to_vec();
    stream.extend(0u8..16);
    let mut pos = 0;
    move |buf: &mut [u8]| {
        for b in buf {
            *b = stream[pos];
            pos += 1;
        }
    }
}

fn start() -> AuthorizationStart {
    let server = sandbox_server("https://launch.sandbox-like.example.org/v/r4/fhir");
    let scopes = RequestedScopes(vec![
        "launch/patient".into(),
        "openid".into(),
        "fhirUser".into(),
        "offline_access".into(),
        "patient/*.read".into(),
    ]);
    begin_authorization(&server, &client(), &scopes, &mut fixed_rng(), NOW).unwrap()
}

#[test]
fn rfc7636_appendix_b_vector() {
    let v = CodeVerifier::from_bytes(&RFC_VERIFIER_BYTES);
    assert_eq!(v.as_str(), "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk");
    assert_eq!(v.challenge(), "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM");
    assert_eq!(
        s256_challenge("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"),
        "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
    );
    assert!(!format!("{v:?}").contains("dBjf"));
}

#[test]
fn verifier_and_state_lengths_and_uniqueness() {
    let mut rng = seeded_rng(7);
    let mut states = std::collections::BTreeSet::new();
    for _ in 0..200 {
        let v = CodeVerifier::generate(&mut rng);
        // 32 bytes → 43 base64url chars (RFC 7636 allows 43..=128 of the unreserved set).
        assert_eq!(v.as_str().len(), 43);
        assert!(v
            .as_str()
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'));
        let s = OAuthState::generate(&mut rng);
        // 16 bytes = 128 bits ≥ the 122 SMART requires; 22 base64url chars.
        assert_eq!(s.as_str().len(), 22);
        assert!(states.insert(s.as_str().to_string()), "state repeated");
    }
    // The state really carries the random bytes: flipping one input bit changes it.
    let a = OAuthState::from_bytes(&[0u8; 16]);
    let mut bytes = [0u8; 16];
    bytes[15] = 1;
    assert_ne!(a, OAuthState::from_bytes(&bytes));
}

#[test]
fn authorize_url_exact() {
    let s = start();
    assert_eq!(
        s.url,
        "https://launch.sandbox-like.example.org/v/r4/auth/authorize?response_type=code\
         &client_id=phr-app\
         &redirect_uri=https%3A%2F%2Fphr.example.net%2Fcallback\
         &scope=launch%2Fpatient%20openid%20fhirUser%20offline_access%20patient%2F%2A.read\
         &state=AAECAwQFBgcICQoLDA0ODw\
         &aud=https%3A%2F%2Flaunch.sandbox-like.example.org%2Fv%2Fr4%2Ffhir\
         &code_challenge=E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM\
         &code_challenge_method=S256"
    );
    // The key is a hash of the state, never the state itself: 128 bits of
    // SHA-256("phr-smart/pending/v2/storage-key" || state), as Python's hashlib gives.
    assert_eq!(
        s.pending.storage_key(),
        "phr-smart/pending/241674a50bab429c43c8f0b67fb1237f"
    );
}

#[test]
fn authorize_url_appends_to_an_endpoint_with_a_query() {
    let mut server = sandbox_server("https://ehr.example.org/fhir");
    server.authorization_endpoint = "https://ehr.example.org/auth?tenant=a".into();
    let s = begin_authorization(
        &server,
        &client(),
        &RequestedScopes(vec!["launch/patient".into()]),
        &mut fixed_rng(),
        NOW,
    )
    .unwrap();
    assert!(s
        .url
        .starts_with("https://ehr.example.org/auth?tenant=a&response_type=code&"));
}

#[test]
fn bad_client_registration_is_refused() {
    let server = sandbox_server("https://ehr.example.org/fhir");
    let scopes = RequestedScopes(vec!["launch/patient".into()]);
    let mut c = client();
    c.client_id = " ".into();
    assert!(matches!(
        begin_authorization(&server, &c, &scopes, &mut fixed_rng(), NOW),
        Err(AuthorizeError::MissingClientId { .. })
    ));
    let mut c = client();
    c.redirect_uri = "http://phr.example.net/callback".into();
    assert!(matches!(
        begin_authorization(&server, &c, &scopes, &mut fixed_rng(), NOW),
        Err(AuthorizeError::BadRedirectUri(_))
    ));
}

#[test]
fn the_stored_sign_in_reveals_nothing_and_opens_only_with_its_state() {
    let s = start();
    let stored = s.pending.seal(&mut fixed_rng());
    // Nothing readable about the provider, the patient's sign-in or its secrets.
    for secret in [
        s.pending.provider_name.as_str(),
        s.pending.fhir_base.as_str(),
        s.pending.token_endpoint.as_str(),
        s.pending.client_id.as_str(),
        s.pending.redirect_uri.as_str(),
        s.pending.state(),
        s.pending.verifier().as_str(),
        "launch.sandbox-like",
    ] {
        assert!(!stored.contains(secret), "{secret} is readable in {stored}");
        assert!(!s.pending.storage_key().contains(secret));
    }
    let cb = format!("{CB}?code=abc&state={}", s.pending.state());
    assert_eq!(PendingAuthorization::open(&stored, &cb).unwrap(), s.pending);
    // Another state (a forged or mixed-up callback) cannot open it, nor can a damaged entry.
    let other = format!("{CB}?code=abc&state=AAECAwQFBgcICQoLDA0ODx");
    assert!(matches!(
        PendingAuthorization::open(&stored, &other),
        Err(CallbackError::Unreadable)
    ));
    // One character of the ciphertext changed.
    let at = stored.find("\"sealed\":\"").unwrap() + 12;
    let mut damaged = stored.clone();
    let with = if &stored[at..=at] == "A" { "B" } else { "A" };
    damaged.replace_range(at..=at, with);
    assert!(matches!(
        PendingAuthorization::open(&damaged, &cb),
        Err(CallbackError::Unreadable)
    ));
    assert!(matches!(
        PendingAuthorization::open(&s.pending.to_json(), &cb),
        Err(CallbackError::Unreadable)
    ));
    // Staleness is readable without the state.
    assert!(!stored_pending_is_stale(&stored, NOW + PENDING_LIFETIME_MS));
    assert!(stored_pending_is_stale(
        &stored,
        NOW + PENDING_LIFETIME_MS + 1
    ));
    assert!(stored_pending_is_stale("{not json", NOW));
    assert!(
        stored_pending_is_stale(&s.pending.to_json(), NOW),
        "the old plain form is dropped"
    );
}

#[test]
fn pending_authorization_round_trips_and_expires() {
    let s = start();
    let json = s.pending.to_json();
    let back = PendingAuthorization::from_json(&json).unwrap();
    assert_eq!(back, s.pending);
    assert_eq!(
        back.verifier().as_str(),
        "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
    );
    assert!(!back.is_expired(NOW + PENDING_LIFETIME_MS));
    assert!(back.is_expired(NOW + PENDING_LIFETIME_MS + 1));
    assert!(matches!(
        PendingAuthorization::from_json("{not json"),
        Err(CallbackError::Unreadable)
    ));
    let wrong_version = json.replace("\"version\":1", "\"version\":9");
    assert!(matches!(
        PendingAuthorization::from_json(&wrong_version),
        Err(CallbackError::Unreadable)
    ));
}

const CB: &str = "https://phr.example.net/callback";

#[test]
fn callback_success_and_storage_lookup() {
    let s = start();
    let url = format!("{CB}?code=abc%2B123&state=AAECAwQFBgcICQoLDA0ODw&iss=https%3A%2F%2Flaunch.sandbox-like.example.org%2Fv%2Fr4%2Ffhir");
    assert_eq!(
        storage_key_for_callback(&url).as_deref(),
        Some(s.pending.storage_key().as_str())
    );
    let code = s.pending.complete(&url, NOW + 5_000).unwrap();
    assert_eq!(code.as_str(), "abc+123");
    assert!(!format!("{code:?}").contains("abc"));
    // A bare query string works too.
    let code = s
        .pending
        .complete("code=xyz&state=AAECAwQFBgcICQoLDA0ODw", NOW)
        .unwrap();
    assert_eq!(code.as_str(), "xyz");
}

#[test]
fn callback_state_mismatch_is_forged_or_stale() {
    let s = start();
    let err = s
        .pending
        .complete(&format!("{CB}?code=abc&state=AAECAwQFBgcICQoLDA0ODx"), NOW)
        .unwrap_err();
    assert_eq!(err, CallbackError::ForgedOrStale(StateProblem::Mismatch));
    assert!(err.to_string().contains("Nothing was imported"));
}

#[test]
fn callback_missing_state_is_forged_or_stale() {
    let s = start();
    assert_eq!(
        s.pending
            .complete(&format!("{CB}?code=abc"), NOW)
            .unwrap_err(),
        CallbackError::ForgedOrStale(StateProblem::Missing)
    );
    assert_eq!(storage_key_for_callback(&format!("{CB}?code=abc")), None);
    // Even a provider error without state is not trusted.
    assert_eq!(
        s.pending
            .complete(&format!("{CB}?error=access_denied"), NOW)
            .unwrap_err(),
        CallbackError::ForgedOrStale(StateProblem::Missing)
    );
}

#[test]
fn callback_duplicated_parameters_are_refused() {
    let s = start();
    let url = format!("{CB}?code=a&code=b&state=AAECAwQFBgcICQoLDA0ODw");
    assert_eq!(
        s.pending.complete(&url, NOW).unwrap_err(),
        CallbackError::ForgedOrStale(StateProblem::Duplicated)
    );
    let url = format!("{CB}?state=AAECAwQFBgcICQoLDA0ODw&state=AAECAwQFBgcICQoLDA0ODw&code=a");
    assert_eq!(storage_key_for_callback(&url), None);
}

#[test]
fn callback_access_denied() {
    let s = start();
    let err = s
        .pending
        .complete(
            &format!("{CB}?error=access_denied&error_description=User+denied&state=AAECAwQFBgcICQoLDA0ODw"),
            NOW,
        )
        .unwrap_err();
    assert_eq!(
        err,
        CallbackError::Declined {
            provider: "Sandbox Health".into()
        }
    );
    assert_eq!(
        err.to_string(),
        "You declined access at Sandbox Health; nothing was imported."
    );
}

#[test]
fn callback_other_error_carries_its_description() {
    let s = start();
    let err = s
        .pending
        .complete(
            &format!("{CB}?error=invalid_scope&error_description=Scope+patient%2F*.read+is+not+allowed&state=AAECAwQFBgcICQoLDA0ODw"),
            NOW,
        )
        .unwrap_err();
    assert_eq!(
        err,
        CallbackError::ProviderError {
            provider: "Sandbox Health".into(),
            code: "invalid_scope".into(),
            description: Some("Scope patient/*.read is not allowed".into()),
        }
    );
    assert!(err
        .to_string()
        .contains("(invalid_scope: Scope patient/*.read is not allowed)"));
}

#[test]
fn callback_missing_code() {
    let s = start();
    assert_eq!(
        s.pending
            .complete(&format!("{CB}?state=AAECAwQFBgcICQoLDA0ODw&code="), NOW)
            .unwrap_err(),
        CallbackError::MissingCode {
            provider: "Sandbox Health".into()
        }
    );
}

#[test]
fn callback_after_ten_minutes_is_expired() {
    let s = start();
    let err = s
        .pending
        .complete(
            &format!("{CB}?code=abc&state=AAECAwQFBgcICQoLDA0ODw"),
            NOW + PENDING_LIFETIME_MS + 1,
        )
        .unwrap_err();
    assert!(matches!(err, CallbackError::Expired { .. }));
}

#[test]
fn callback_from_another_issuer_is_refused() {
    let s = start();
    let err = s
        .pending
        .complete(
            &format!("{CB}?code=abc&state=AAECAwQFBgcICQoLDA0ODw&iss=https%3A%2F%2Fevil.example"),
            NOW,
        )
        .unwrap_err();
    assert!(matches!(err, CallbackError::IssuerMismatch { .. }));
}

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use phr_share::jwe::{self, JweError, FHIR_JSON};
use phr_share::qr::QrMatrix;
use phr_share::shl::{
    build_link, direct_file_url, file_url, lint_label, parse_link, LinkRequest, PatientIdentity,
    Request, ShlError, DEFAULT_LABEL,
};

const KEY: [u8; 32] = [0x42; 32];
const IV: [u8; 12] = [9; 12];

/// The example from the SMART Health Links specification (links-specification.md, "Example
/// Encryption"): key and JWE, which decrypts to a SMART Health Card file.
const SPEC_KEY: &str = "rxTgYlOaKJPFtcEd0qcceN8wEU4p94SqAwIWQe6uX7Q";
const SPEC_JWE: &str = include_str!("vectors/shl-spec-example.jwe");

#[test]
fn spec_example_decrypts() {
    let key = URL_SAFE_NO_PAD.decode(SPEC_KEY).unwrap();
    let d = jwe::decrypt(SPEC_JWE, &key).unwrap();
    assert_eq!(
        d.content_type.as_deref(),
        Some("application/smart-health-card")
    );
    let v: serde_json::Value = serde_json::from_slice(&d.plaintext).unwrap();
    let vc = v["verifiableCredential"][0].as_str().unwrap();
    assert!(vc.starts_with("eyJ6aXAiOiJERUYiLCJhbGciOiJFUzI1NiIsImtpZCI6IjNLZmRnLVh3UC03Z1h5eXd0VWZVQUR3QnVtRE9QS01ReC1pRUxMMTFX"));
}

#[test]
fn round_trip_with_and_without_compression() {
    let text = br#"{"resourceType":"Bundle","type":"document","entry":[]}"#.repeat(50);
    for compress in [true, false] {
        let t = jwe::encrypt(&text, &KEY, IV, FHIR_JSON, compress).unwrap();
        let header = jwe::header_json(&t).unwrap();
        assert_eq!(header["alg"], "dir");
        assert_eq!(header["enc"], "A256GCM");
        assert_eq!(header["cty"], FHIR_JSON);
        assert_eq!(header.get("zip").is_some(), compress);
        let parts: Vec<&str> = t.split('.').collect();
        assert_eq!(parts.len(), 5);
        assert_eq!(parts[1], "", "dir has no encrypted key");
        assert_eq!(URL_SAFE_NO_PAD.decode(parts[2]).unwrap(), IV);
        let d = jwe::decrypt(&t, &KEY).unwrap();
        assert_eq!(d.plaintext, text);
        assert_eq!(d.content_type.as_deref(), Some(FHIR_JSON));
        if compress {
            assert!(
                t.len() < text.len() / 4,
                "DEFLATE should shrink repetitive JSON"
            );
        }
    }
}

#[test]
fn fresh_ivs_give_different_ciphertexts() {
    let a = jwe::encrypt(b"same", &KEY, [1; 12], FHIR_JSON, true).unwrap();
    let b = jwe::encrypt(b"same", &KEY, [2; 12], FHIR_JSON, true).unwrap();
    assert_ne!(a.split('.').nth(3), b.split('.').nth(3));
}

#[test]
fn tampering_anywhere_is_detected() {
    let t = jwe::encrypt(b"{\"a\":1}", &KEY, IV, FHIR_JSON, true).unwrap();
    let parts: Vec<String> = t.split('.').map(str::to_string).collect();
    for i in [0usize, 2, 3, 4] {
        let mut p = parts.clone();
        let mut bytes = URL_SAFE_NO_PAD.decode(&p[i]).unwrap();
        bytes[0] ^= 1;
        p[i] = URL_SAFE_NO_PAD.encode(bytes);
        let err = jwe::decrypt(&p.join("."), &KEY).unwrap_err();
        assert!(
            matches!(err, JweError::DecryptionFailed | JweError::BadHeader),
            "part {i}: {err:?}"
        );
    }
    // Truncated and extended.
    assert_eq!(
        jwe::decrypt(&t[..t.len() - 3], &KEY).unwrap_err(),
        JweError::DecryptionFailed
    );
    assert_eq!(
        jwe::decrypt(&format!("{t}.x"), &KEY).unwrap_err(),
        JweError::Malformed
    );
    assert_eq!(
        jwe::decrypt("not a jwe", &KEY).unwrap_err(),
        JweError::Malformed
    );
}

#[test]
fn wrong_key_and_unsupported_headers() {
    let t = jwe::encrypt(b"x", &KEY, IV, FHIR_JSON, false).unwrap();
    assert_eq!(
        jwe::decrypt(&t, &[0x43; 32]).unwrap_err(),
        JweError::DecryptionFailed
    );
    assert_eq!(jwe::decrypt(&t, &[0x42; 16]).unwrap_err(), JweError::BadKey);
    let rest = t.split_once('.').unwrap().1;
    for (header, what) in [
        (r#"{"alg":"A256KW","enc":"A256GCM"}"#, "key management"),
        (r#"{"alg":"dir","enc":"A128CBC-HS256"}"#, "encryption"),
        (
            r#"{"alg":"dir","enc":"A256GCM","zip":"GZIP"}"#,
            "compression",
        ),
    ] {
        let forged = format!("{}.{rest}", URL_SAFE_NO_PAD.encode(header));
        match jwe::decrypt(&forged, &KEY).unwrap_err() {
            JweError::Unsupported(s) => assert!(s.contains(what), "{s}"),
            other => panic!("{header}: {other:?}"),
        }
    }
    let err = JweError::DecryptionFailed.to_string();
    assert!(err.contains("ask the sender for a new link"));
}

fn identity() -> PatientIdentity {
    PatientIdentity {
        names: vec!["Alex Doe".into(), "Lexi".into()],
        birth_date: Some("1984-03-09".into()),
        identifiers: vec!["MRN-445566".into()],
    }
}

#[test]
fn link_round_trip_with_and_without_viewer_prefix() {
    let url = file_url("https://share.example.org/shl/", &[5; 32]).unwrap();
    assert!(url.starts_with("https://share.example.org/shl/"));
    assert_eq!(url.rsplit('/').next().unwrap().len(), 43);
    for prefix in [None, Some("https://phr.example/#")] {
        let link = build_link(
            &LinkRequest {
                url: &url,
                key: &KEY,
                exp: Some(2_000_000_000),
                label: None,
                viewer_prefix: prefix,
            },
            &identity(),
        )
        .unwrap();
        if let Some(p) = prefix {
            assert!(link.starts_with(&format!("{p}shlink:/")));
        } else {
            assert!(link.starts_with("shlink:/"));
        }
        let parsed = parse_link(&link, 1_900_000_000).unwrap();
        assert_eq!(parsed.key, KEY);
        assert_eq!(parsed.payload.url, url);
        assert_eq!(parsed.payload.flag.as_deref(), Some("U"));
        assert_eq!(parsed.payload.label.as_deref(), Some(DEFAULT_LABEL));
        assert_eq!(parsed.payload.exp, Some(2_000_000_000));
        assert!(parsed.direct_file && !parsed.passcode_required);
        assert_eq!(
            parsed.request("Dr. Rivera & Co", None).unwrap(),
            Request::Get {
                url: format!("{url}?recipient=Dr.%20Rivera%20%26%20Co")
            }
        );
        // The payload is minified JSON with the spec's field names.
        let b64 = link.split("shlink:/").nth(1).unwrap();
        let json = String::from_utf8(URL_SAFE_NO_PAD.decode(b64).unwrap()).unwrap();
        assert!(json.starts_with("{\"url\":") && !json.contains("\": ") && !json.contains(", \""));
    }
}

#[test]
fn parses_the_spec_example_link() {
    let link = "https://viewer.example.org#shlink:/eyJ1cmwiOiJodHRwczovL2Voci5leGFtcGxlLm9yZy9xci9ZOXh3a1VkdG1OOXd3b0pvTjNmZkpJaFgyVUd2Q0wxSm5sUFZOTDNrRFdNL20iLCJmbGFnIjoiTFAiLCJrZXkiOiJyeFRnWWxPYUtKUEZ0Y0VkMHFjY2VOOHdFVTRwOTRTcUF3SVdRZTZ1WDdRIiwibGFiZWwiOiJCYWNrLXRvLXNjaG9vbCBpbW11bml6YXRpb25zIGZvciBPbGl2ZXIgQnJvd24ifQ";
    let p = parse_link(link, 0).unwrap();
    assert_eq!(
        p.payload.url,
        "https://ehr.example.org/qr/Y9xwkUdtmN9wwoJoN3ffJIhX2UGvCL1JnlPVNL3kDWM/m"
    );
    assert_eq!(
        p.payload.label.as_deref(),
        Some("Back-to-school immunizations for Oliver Brown")
    );
    assert!(p.passcode_required && p.long_term && !p.direct_file);
    assert_eq!(
        p.request("Clinic", None).unwrap_err(),
        ShlError::NeedsPasscode
    );
    match p.request("Clinic", Some("1234")).unwrap() {
        Request::PostManifest { url, body } => {
            assert_eq!(url, p.payload.url);
            let b: serde_json::Value = serde_json::from_str(&body).unwrap();
            assert_eq!(b["recipient"], "Clinic");
            assert_eq!(b["passcode"], "1234");
        }
        other => panic!("{other:?}"),
    }
}

fn encode(json: &str) -> String {
    format!("shlink:/{}", URL_SAFE_NO_PAD.encode(json))
}

#[test]
fn rejections() {
    let key = URL_SAFE_NO_PAD.encode([1u8; 32]);
    let ok = |extra: &str| {
        encode(&format!(
            r#"{{"url":"https://h.example/x","key":"{key}"{extra}}}"#
        ))
    };
    assert!(parse_link(&ok(""), 0).is_ok());
    assert_eq!(
        parse_link(&ok(r#","flag":"PU""#), 0).unwrap_err(),
        ShlError::UAndP
    );
    assert_eq!(
        parse_link(&ok(r#","v":2"#), 0).unwrap_err(),
        ShlError::UnsupportedVersion(2)
    );
    assert!(
        matches!(parse_link(&ok(r#","exp":100,"label":"Summary""#), 200).unwrap_err(),
        ShlError::Expired { expired_at: 100, label: Some(l) } if l == "Summary")
    );
    let unknown = parse_link(&ok(r#","flag":"LXU""#), 0).unwrap();
    assert_eq!(unknown.unknown_flags, vec!['X']);
    let short_key = URL_SAFE_NO_PAD.encode([1u8; 16]);
    assert_eq!(
        parse_link(
            &encode(&format!(
                r#"{{"url":"https://h.example/x","key":"{short_key}"}}"#
            )),
            0
        )
        .unwrap_err(),
        ShlError::BadKey
    );
    assert_eq!(
        parse_link(
            &encode(&format!(r#"{{"url":"ftp://h/x","key":"{key}"}}"#)),
            0
        )
        .unwrap_err(),
        ShlError::BadUrl
    );
    let long = format!("https://h.example/{}", "a".repeat(120));
    assert!(matches!(
        parse_link(&encode(&format!(r#"{{"url":"{long}","key":"{key}"}}"#)), 0).unwrap_err(),
        ShlError::UrlTooLong(_)
    ));
    assert_eq!(
        parse_link(&encode(&format!(r#"{{"key":"{key}"}}"#)), 0).unwrap_err(),
        ShlError::Missing("address (url)")
    );
    assert_eq!(
        parse_link("shlink:/!!!", 0).unwrap_err(),
        ShlError::Undecodable
    );
    assert_eq!(
        parse_link("https://example.org/page", 0).unwrap_err(),
        ShlError::NotALink
    );
    assert_eq!(
        parse_link("https://x/?q=shlink:/abc", 0).unwrap_err(),
        ShlError::NotALink
    );
}

#[test]
fn labels_are_checked_for_personal_information() {
    let who = identity();
    assert!(lint_label("Health summary", &who).is_empty());
    assert!(lint_label("Summary for Dr. Kim, March visit", &who).is_empty());
    assert!(!lint_label("Alex's allergies", &who).is_empty());
    assert!(!lint_label("summary DOE", &who).is_empty());
    assert!(!lint_label("born 03/09/1984", &who).is_empty());
    assert!(!lint_label("1984-03-09", &who).is_empty());
    assert!(!lint_label("record mrn445566", &who).is_empty());
    let url = file_url("https://share.example.org", &[5; 32]).unwrap();
    let err = build_link(
        &LinkRequest {
            url: &url,
            key: &KEY,
            exp: None,
            label: Some("Alex Doe summary"),
            viewer_prefix: None,
        },
        &who,
    )
    .unwrap_err();
    assert!(matches!(err, ShlError::LabelHasPhi(_)));
    assert!(err.to_string().contains("your name"));
    let long = "x".repeat(81);
    assert_eq!(
        build_link(
            &LinkRequest {
                url: &url,
                key: &KEY,
                exp: None,
                label: Some(&long),
                viewer_prefix: None
            },
            &who
        )
        .unwrap_err(),
        ShlError::LabelTooLong
    );
    assert_eq!(
        build_link(
            &LinkRequest {
                url: &url,
                key: &KEY,
                exp: None,
                label: None,
                viewer_prefix: Some("https://v.example/")
            },
            &who
        )
        .unwrap_err(),
        ShlError::BadViewerPrefix
    );
}

#[test]
fn share_hosts_and_file_urls() {
    assert_eq!(
        file_url("ftp://x", &[0; 32]).unwrap_err(),
        ShlError::BadShareHost
    );
    assert_eq!(
        file_url("http://evil.example", &[0; 32]).unwrap_err(),
        ShlError::BadShareHost
    );
    assert!(file_url("http://127.0.0.1:8081/shl", &[0; 32]).is_ok());
    assert!(matches!(
        file_url(&format!("https://{}", "h".repeat(90)), &[0; 32]).unwrap_err(),
        ShlError::UrlTooLong(_)
    ));
    let a = file_url("https://s.example", &[1; 32]).unwrap();
    let b = file_url("https://s.example", &[2; 32]).unwrap();
    assert_ne!(a, b);
    assert_eq!(
        direct_file_url("https://s.example/f?x=1", "A B"),
        "https://s.example/f?x=1&recipient=A%20B"
    );
}

#[test]
fn qr_of_a_real_link_fits_and_has_version_for_ecc_m() {
    let url = file_url("https://share.example.org/shl", &[5; 32]).unwrap();
    let link = build_link(
        &LinkRequest {
            url: &url,
            key: &KEY,
            exp: Some(2_000_000_000),
            label: None,
            viewer_prefix: Some("https://phr.example/#"),
        },
        &identity(),
    )
    .unwrap();
    let qr = QrMatrix::encode(&link).unwrap();
    assert!((1..=40).contains(&qr.version()));
    assert_eq!(qr.width, qr.version() * 4 + 17);
    let svg = qr.svg("QR code for your shared health summary link", 320);
    assert!(svg.contains("role=\"img\"") && svg.contains("<title>"));
}

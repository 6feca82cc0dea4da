//! The provider directory file, patient-added providers, and User-access Brands bundles.

mod common;

use common::fixture;
use phr_smart::{
    parse_directory, patient_added_provider, providers_from_brands, BrandsError, DirectoryError,
    EntrySource,
};

#[test]
fn directory_file_parses_and_normalises() {
    let d = parse_directory(&fixture("directory/providers.json")).unwrap();
    assert_eq!(d.providers.len(), 3);
    let demo = d.get("demo-a").unwrap();
    assert_eq!(demo.fhir_base.as_str(), "http://localhost:4000/fhir");
    assert_eq!(demo.source, EntrySource::Directory);
    assert!(!demo.part2_program && !demo.observation_by_category);
    assert_eq!(demo.scopes, None);
    let gh = d.get("good-health").unwrap();
    assert!(gh.observation_by_category);
    assert_eq!(
        gh.logo.as_deref(),
        Some("https://goodhealth.example.org/logo.svg")
    );
    let rc = d.get("recovery-center").unwrap();
    assert!(rc.part2_program);
    assert_eq!(
        rc.scopes.as_deref().unwrap(),
        ["launch/patient", "openid", "fhirUser", "patient/*.read"]
    );
    assert!(rc
        .logo
        .as_deref()
        .unwrap()
        .starts_with("data:image/svg+xml"));
}

fn entry_error(entry_json: &str) -> DirectoryError {
    let doc = format!(
        r#"{{"providers":[{{"id":"ok","name":"OK","fhir_base":"https://ok.example.org/fhir","client_id":"c"}},{entry_json}]}}"#
    );
    parse_directory(&doc).unwrap_err()
}

#[test]
fn directory_errors_point_at_the_entry_and_field() {
    let e = entry_error(
        r#"{"id":"bad","name":"Bad","fhir_base":"http://bad.example.org/fhir","client_id":"c"}"#,
    );
    let DirectoryError::Field {
        entry,
        field,
        problem,
    } = &e
    else {
        panic!("{e:?}");
    };
    assert_eq!((entry.position, entry.id.as_deref()), (2, Some("bad")));
    assert_eq!(field, "fhir_base");
    assert!(problem.contains("https"), "{problem}");
    assert!(e
        .to_string()
        .starts_with("In the provider directory, provider #2 (\"bad\"): \"fhir_base\""));

    let cases = [
        (
            r#"{"id":"x","name":"X","fhir_base":"https://x.example.org"}"#,
            "client_id",
            "is missing",
        ),
        (
            r#"{"id":"x","name":" ","fhir_base":"https://x.example.org","client_id":"c"}"#,
            "name",
            "is empty",
        ),
        (
            r#"{"id":"x y","name":"X","fhir_base":"https://x.example.org","client_id":"c"}"#,
            "id",
            "may only use",
        ),
        (
            r#"{"id":"x","name":"X","fhir_base":"https://x.example.org","client_id":"c","client-id":"d"}"#,
            "client-id",
            "not a known field",
        ),
        (
            r#"{"id":"x","name":"X","fhir_base":"https://x.example.org","client_id":"c","logo":"javascript:alert(1)"}"#,
            "logo",
            "https://",
        ),
        (
            r#"{"id":"x","name":"X","fhir_base":"https://x.example.org","client_id":"c","part2_program":"yes"}"#,
            "part2_program",
            "true or false",
        ),
        (
            r#"{"id":"x","name":"X","fhir_base":"https://x.example.org","client_id":"c","scopes":["patient/*.rs"]}"#,
            "scopes",
            "launch/patient",
        ),
        (
            r#"{"id":"x","name":"X","fhir_base":"https://x.example.org","client_id":"c","scopes":["launch/patient openid"]}"#,
            "scopes",
            "spaces",
        ),
        (
            r#"{"id":"x","name":"X","fhir_base":"https://x.example.org","client_id":"c","scopes":["launch/patient","openid"]}"#,
            "scopes",
            "resource scope",
        ),
        (
            r#"{"id":"x","name":"X","fhir_base":"https://x.example.org/r4?tenant=1","client_id":"c"}"#,
            "fhir_base",
            "query",
        ),
        (
            r#"{"id":7,"name":"X","fhir_base":"https://x.example.org","client_id":"c"}"#,
            "id",
            "must be a string",
        ),
    ];
    for (json, want_field, want_problem) in cases {
        match entry_error(json) {
            DirectoryError::Field {
                entry,
                field,
                problem,
            } => {
                assert_eq!(entry.position, 2, "{json}");
                assert_eq!(field, want_field, "{json}");
                assert!(problem.contains(want_problem), "{json}: {problem}");
            }
            other => panic!("{json}: {other:?}"),
        }
    }
    assert!(
        matches!(entry_error("[1]"), DirectoryError::Field { ref field, .. } if field == "(entry)")
    );
}

#[test]
fn directory_duplicate_ids_and_shape_errors() {
    let e = entry_error(
        r#"{"id":"ok","name":"Again","fhir_base":"https://x.example.org","client_id":"c"}"#,
    );
    assert!(matches!(e, DirectoryError::DuplicateId { first: 1, ref id, .. } if id == "ok"));
    assert!(e.to_string().contains("provider #1 already uses"));
    assert!(matches!(
        parse_directory("[]"),
        Err(DirectoryError::Shape(_))
    ));
    assert!(matches!(
        parse_directory("{}"),
        Err(DirectoryError::Shape(_))
    ));
    assert!(matches!(
        parse_directory(r#"{"providers":[],"provider":[]}"#),
        Err(DirectoryError::Shape(ref m)) if m.contains("\"provider\"")
    ));
    assert!(matches!(
        parse_directory("{"),
        Err(DirectoryError::NotJson(_))
    ));
    assert_eq!(
        parse_directory(r#"{"providers":[]}"#)
            .unwrap()
            .providers
            .len(),
        0
    );
}

#[test]
fn patient_added_provider_validation() {
    let p = patient_added_provider("", "https://fhir.newclinic.example.org/R4/", " my-client ")
        .unwrap();
    assert_eq!(
        p.fhir_base.as_str(),
        "https://fhir.newclinic.example.org/R4"
    );
    assert_eq!(p.client_id, "my-client");
    assert_eq!(p.name, "https://fhir.newclinic.example.org");
    assert_eq!(p.source, EntrySource::PatientAdded);
    assert_eq!(p.id, "added:https://fhir.newclinic.example.org/R4");

    let demo = patient_added_provider("Demo", "http://localhost:4000/fhir", "phr-app").unwrap();
    assert_eq!(demo.name, "Demo");

    for (base, client) in [
        ("http://fhir.newclinic.example.org/R4", "c"),
        ("fhir.newclinic.example.org", "c"),
        ("https://fhir.newclinic.example.org/R4", ""),
        ("https://fhir.newclinic.example.org/R4", "   "),
    ] {
        let e = patient_added_provider("X", base, client).unwrap_err();
        assert!(
            matches!(e, DirectoryError::PatientInput(_)),
            "{base} {client}"
        );
    }
    let e = patient_added_provider("X", "http://fhir.example.org", "c").unwrap_err();
    assert!(e.to_string().contains("https"), "{e}");
}

#[test]
fn brands_bundle_becomes_provider_entries() {
    let b = providers_from_brands(
        &fixture("brands/brands-bundle.json"),
        "vendor-client",
        "vendor:",
    )
    .unwrap();
    assert_eq!(
        b.timestamp.as_deref(),
        Some("2024-09-05T20:18:52.638960-07:00")
    );
    let summary: Vec<(&str, &str, &str, Option<&str>)> = b
        .providers
        .iter()
        .map(|p| {
            (
                p.id.as_str(),
                p.name.as_str(),
                p.fhir_base.as_str(),
                p.logo.as_deref(),
            )
        })
        .collect();
    assert_eq!(
        summary,
        [
            (
                "vendor:examplehealth-examplehealth-r4",
                "ExampleHealth",
                "https://ehrfhir.examplehealth.org/ProdFHIR/api/FHIR/R4",
                Some("https://example.org/examplehealth/logo/main.1024x1024.png")
            ),
            (
                "vendor:ehpmadison-examplehealth-r4",
                "ExampleHealth Physicians of Madison",
                "https://ehrfhir.examplehealth.org/ProdFHIR/api/FHIR/R4",
                Some("https://ehpmadison.example.com/logo.png")
            ),
            (
                "vendor:ehchospital-examplehealth-r4",
                "ExampleHealth Community Hospital",
                "https://ehrfhir.examplehealth.org/ProdFHIR/api/FHIR/R4",
                Some("https://example.org/examplehealth/logo/main.1024x1024.png")
            ),
            (
                "vendor:examplehospital-gateway",
                "ExampleHospital (Patient Gateway)",
                "https://gateway.examplehospital.example.org/fhir/r4",
                Some("https://examplehospital.example.org/gateway.svg")
            ),
            (
                "vendor:examplehospital-peds",
                "ExampleHospital (Pediatrics)",
                "https://peds.examplehospital.example.org/api/FHIR/R4",
                None
            ),
        ]
    );
    assert!(b
        .providers
        .iter()
        .all(|p| p.client_id == "vendor-client" && p.source == EntrySource::Brands));

    let reasons: Vec<(String, String)> = b
        .skipped
        .iter()
        .map(|s| (s.what.clone(), s.reason.clone()))
        .collect();
    let has = |what: &str, reason: &str| {
        reasons
            .iter()
            .any(|(w, r)| w.contains(what) && r.contains(reason))
    };
    assert!(has("Endpoint/examplehealth-r2", "not R4"), "{reasons:?}");
    assert!(has("Organization/closed-clinic", "inactive"), "{reasons:?}");
    assert!(
        has("Organization/no-endpoint", "no FHIR endpoint"),
        "{reasons:?}"
    );
    assert!(has("Endpoint/plainhttp", "https"), "{reasons:?}");
    assert!(has("entry #8", "not a readable resource"), "{reasons:?}");
}

#[test]
fn brands_errors() {
    assert!(matches!(
        providers_from_brands("nope", "c", ""),
        Err(BrandsError::NotJson(_))
    ));
    assert!(matches!(
        providers_from_brands(r#"{"resourceType":"Organization"}"#, "c", ""),
        Err(BrandsError::NotBundle(ref t)) if t == "Organization"
    ));
    let empty =
        providers_from_brands(r#"{"resourceType":"Bundle","type":"collection"}"#, "c", "").unwrap();
    assert!(empty.providers.is_empty() && empty.skipped.is_empty());
}

#[test]
fn entries_write_back_as_directory_json() {
    let d = parse_directory(&fixture("directory/providers.json")).unwrap();
    let written = serde_json::json!({
        "providers": d.providers.iter().map(|p| p.to_directory_json()).collect::<Vec<_>>()
    });
    let again = parse_directory(&written.to_string()).unwrap();
    assert_eq!(again, d, "a written directory reads back the same");
    let demo = d.get("demo-a").unwrap().to_directory_json();
    assert!(demo.get("part2_program").is_none() && demo.get("scopes").is_none());
    let brands =
        providers_from_brands(&fixture("brands/brands-bundle.json"), "app-1", "b:").unwrap();
    assert!(!brands.providers.is_empty());
    let written = serde_json::json!({
        "providers": brands.providers.iter().map(|p| p.to_directory_json()).collect::<Vec<_>>()
    });
    let from_brands = parse_directory(&written.to_string()).unwrap();
    assert_eq!(from_brands.providers.len(), brands.providers.len());
    for (a, b) in from_brands.providers.iter().zip(&brands.providers) {
        assert_eq!(
            (&a.id, &a.name, &a.fhir_base, &a.client_id, &a.logo),
            (&b.id, &b.name, &b.fhir_base, &b.client_id, &b.logo)
        );
    }
}

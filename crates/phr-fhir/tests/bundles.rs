use phr_fhir::types::{Reference, Value};
use phr_fhir::views::{Condition, Observation};
use phr_fhir::{
    bundle, parse_bundle, parse_import, parse_ndjson, FhirError, ImportFormat, Resource,
};

const PAGE: &str = include_str!("fixtures/searchset-page.json");

/// The exact text of the `resource` member of the n-th entry in the fixture, found by hand.
fn entry_text(n: usize) -> &'static str {
    let mut rest = PAGE;
    let mut start = 0;
    for _ in 0..=n {
        let i = rest.find("\"resource\":").expect("fixture has the entry");
        start += i + "\"resource\":".len();
        rest = &PAGE[start..];
    }
    let begin = start + rest.find('{').unwrap();
    // Walk to the matching brace (the fixture has no braces inside strings).
    let mut depth = 0;
    for (i, c) in PAGE[begin..].char_indices() {
        match c {
            '{' => depth += 1,
            '}' => {
                depth -= 1;
                if depth == 0 {
                    return &PAGE[begin..=begin + i];
                }
            }
            _ => {}
        }
    }
    unreachable!()
}

#[test]
fn bundle_entries_keep_their_exact_bytes() {
    let parsed = parse_bundle(PAGE).unwrap();
    assert_eq!(parsed.resources.len(), 3);
    for (i, r) in parsed.resources.iter().enumerate() {
        assert_eq!(r.raw(), entry_text(i), "entry {i} must be byte-identical");
    }
    // Decimals, unicode escapes, unknown elements and whitespace all survive.
    assert!(parsed.resources[0].raw().contains("\"value\":1.50"));
    assert!(parsed.resources[0].raw().contains("caf\\u00e9"));
    assert!(parsed.resources[1]
        .raw()
        .contains("\"futureElement\": {\"nested\": [1, 2.000, true, null]}"));
    // Serialising a resource embeds the original text verbatim.
    let wrapped = serde_json::to_string(&serde_json::json!({"r": 1})).unwrap();
    assert_eq!(wrapped, "{\"r\":1}");
    let embedded = serde_json::to_string(&parsed.resources[1]).unwrap();
    assert_eq!(embedded, entry_text(1));
}

#[test]
fn bundle_reports_bad_entries_and_keeps_the_rest() {
    let parsed = parse_bundle(PAGE).unwrap();
    let locations: Vec<_> = parsed.issues.iter().map(|i| i.location.as_str()).collect();
    assert_eq!(locations, ["entry 4", "entry 5", "entry 6"]);
    assert!(parsed.issues[0].problem.contains("Results truncated"));
    assert!(parsed.issues[1].problem.contains("no resource"));
    assert!(parsed.issues[2].problem.contains("no resourceType"));
    assert_eq!(parsed.total, Some(4));
    assert_eq!(
        bundle::next_link(&parsed),
        Some("https://ehr.example/fhir/Observation?patient=p1&_count=3&_offset=3")
    );
}

#[test]
fn views_read_decimals_as_written() {
    let parsed = parse_bundle(PAGE).unwrap();
    let glucose: Observation = parsed.resources[0].view().unwrap();
    let q = glucose.value_quantity.as_ref().unwrap();
    assert_eq!(q.value.as_ref().unwrap().as_str(), "1.50");
    assert_eq!(q.value.as_ref().unwrap().to_f64(), Some(1.5));
    assert_eq!(q.display().as_deref(), Some("1.50 mmol/L"));
    assert_eq!(
        glucose.reference_range[0]
            .low
            .as_ref()
            .unwrap()
            .value
            .as_ref()
            .unwrap()
            .as_str(),
        "3.90"
    );
    assert!(glucose.has_category("laboratory"));
    assert_eq!(glucose.date(), Some("2024-03-01T08:30:00-05:00"));
    assert_eq!(glucose.code.as_ref().unwrap().display(), Some("Glucose"));

    let bp: Observation = parsed.resources[1].view().unwrap();
    assert_eq!(bp.date(), Some("2024-03-02T09:00:00Z"));
    let values: Vec<String> = bp
        .component
        .iter()
        .filter_map(|c| c.value().and_then(|v| v.display()))
        .collect();
    assert_eq!(values, ["120 mm[Hg]", "80.0 mm[Hg]"]);
    assert!(bp.value().is_none());

    let c: Condition = parsed.resources[2].view().unwrap();
    assert!(!c.is_active());
    assert_eq!(c.date(), Some("2019-05-01"));
}

#[test]
fn ndjson_lines_become_resources() {
    let text = "{\"resourceType\":\"Patient\",\"id\":\"a\"}\r\n\n{\"resourceType\":\"Observation\",\"id\":\"b\",\"valueQuantity\":{\"value\":0.10}}\n{oops\n[1]\n";
    let parsed = parse_ndjson(text);
    assert_eq!(parsed.resources.len(), 2);
    assert_eq!(
        parsed.resources[0].raw(),
        "{\"resourceType\":\"Patient\",\"id\":\"a\"}"
    );
    assert!(parsed.resources[1].raw().contains("0.10"));
    let locations: Vec<_> = parsed.issues.iter().map(|i| i.location.as_str()).collect();
    assert_eq!(locations, ["line 4", "line 5"]);
}

#[test]
fn import_detects_the_format() {
    let (format, parsed) = parse_import(PAGE).unwrap();
    assert_eq!(format, ImportFormat::Bundle("searchset".into()));
    assert_eq!(parsed.resources.len(), 3);

    let nd = "{\"resourceType\":\"Patient\",\"id\":\"a\"}\n{\"resourceType\":\"Patient\",\"id\":\"b\"}\n";
    let (format, parsed) = parse_import(nd).unwrap();
    assert_eq!(format, ImportFormat::Ndjson);
    assert_eq!(parsed.resources.len(), 2);

    let (format, parsed) =
        parse_import("\u{feff}{\"resourceType\":\"Condition\",\"id\":\"x\"}").unwrap();
    assert_eq!(format, ImportFormat::Single);
    assert_eq!(parsed.resources[0].id(), Some("x"));

    for (input, expect_malformed) in [
        ("<html><body>Service unavailable</body></html>", false),
        ("{\"resourceType\":\"Bundle\",\"entry\":[", true),
        ("", false),
    ] {
        let err = parse_import(input).unwrap_err();
        assert_eq!(
            matches!(err, FhirError::MalformedJson { .. }),
            expect_malformed,
            "{input}: {err}"
        );
    }
    assert!(matches!(
        parse_import("{\"hello\":1}"),
        Err(FhirError::NotFhir { .. })
    ));
}

#[test]
fn wrong_resource_type_is_reported() {
    let err = parse_bundle("{\"resourceType\":\"Patient\",\"id\":\"p\"}").unwrap_err();
    assert_eq!(
        err,
        FhirError::WrongResourceType {
            expected: "Bundle".into(),
            found: "Patient".into()
        }
    );
    assert!(err.to_string().contains("expected a FHIR Bundle"));
}

#[test]
fn references_resolve_to_type_and_id() {
    let cases = [
        ("Patient/123", Some(("Patient", "123"))),
        (
            "https://ehr.example/fhir/Practitioner/abc",
            Some(("Practitioner", "abc")),
        ),
        ("Observation/o1/_history/2", Some(("Observation", "o1"))),
        ("#contained", None),
        ("urn:uuid:1234", None),
        ("patient/123", None),
    ];
    for (text, expected) in cases {
        assert_eq!(Reference::to(text).type_and_id(), expected, "{text}");
    }
}

#[test]
fn value_display_covers_the_value_types() {
    let obs: Observation = Resource::from_json(
        r#"{"resourceType":"Observation","valueCodeableConcept":{"coding":[{"code":"260385009","display":"Negative"}]}}"#,
    )
    .unwrap()
    .view()
    .unwrap();
    assert_eq!(
        obs.value().and_then(|v| v.display()).as_deref(),
        Some("Negative")
    );
    let obs: Observation =
        Resource::from_json(r#"{"resourceType":"Observation","valueBoolean":false}"#)
            .unwrap()
            .view()
            .unwrap();
    assert_eq!(obs.value(), Some(Value::Boolean(false)));
}

//! The one-pass scanner agrees with reading the whole resource as a DOM, on chosen cases and on
//! seeded random resources; `Resource::from_scan` agrees with `Resource::from_json`.

use phr_fhir::scan::{scan, Field, Scan};
use phr_fhir::{FhirError, Resource};
use serde_json::{json, Value};

/// What the scan should find, read the slow way (a DOM).
fn expected(v: &Value) -> (Vec<String>, Vec<String>) {
    fn refs(v: &Value, out: &mut Vec<String>) {
        match v {
            Value::Object(m) => {
                for (k, x) in m {
                    if k == "reference" {
                        if let Some(s) = x.as_str() {
                            out.push(s.to_string());
                        }
                    }
                    refs(x, out);
                }
            }
            Value::Array(a) => a.iter().for_each(|x| refs(x, out)),
            _ => {}
        }
    }
    let mut references = Vec::new();
    refs(v, &mut references);
    let forms: Vec<&Value> = match v.get("resourceType").and_then(Value::as_str) {
        Some("DocumentReference") => v
            .get("content")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|c| c.get("attachment"))
            .collect(),
        Some("DiagnosticReport") => v
            .get("presentedForm")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .collect(),
        _ => Vec::new(),
    };
    let attachments = forms
        .into_iter()
        .filter(|a| a.get("data").is_none())
        .filter_map(|a| a.get("url").and_then(Value::as_str).map(str::to_string))
        .collect();
    (references, attachments)
}

fn field(v: Option<&Value>) -> Field {
    match v {
        None => Field::Missing,
        Some(Value::Null) => Field::Missing,
        Some(Value::String(s)) => Field::Str(s.clone()),
        Some(_) => Field::Other,
    }
}

fn check(text: &str) -> Scan {
    let v: Value = serde_json::from_str(text).unwrap();
    let s = scan(text).unwrap_or_else(|e| panic!("{e} in {text}"));
    let (mut references, mut attachments) = expected(&v);
    // The DOM's maps are sorted by key: compare what is found, not its order.
    let sorted = |mut x: Vec<String>| {
        x.sort();
        x
    };
    references.sort();
    attachments.sort();
    assert_eq!(sorted(s.references.clone()), references, "{text}");
    assert_eq!(sorted(s.attachment_urls.clone()), attachments, "{text}");
    assert_eq!(s.resource_type, field(v.get("resourceType")), "{text}");
    assert_eq!(s.id, field(v.get("id")), "{text}");
    // Building from the scan gives what reading the text gives, errors included.
    assert_eq!(
        Resource::from_scan(
            serde_json::value::RawValue::from_string(text.to_string()).unwrap(),
            &s
        ),
        Resource::from_json(text),
        "{text}"
    );
    s
}

#[test]
fn references_anywhere_and_attachments_only_where_fhir_puts_them() {
    let s = check(
        r#"{"resourceType":"DocumentReference","id":"d1",
            "subject":{"reference":"Patient/p1"},
            "author":[{"reference":"Practitioner/x","display":"Dr"}],
            "content":[{"attachment":{"contentType":"text/plain","url":"Binary/b1"}},
                       {"attachment":{"url":"Binary/inline","data":"aGk="}},
                       {"format":{"url":"not-an-attachment"}}],
            "context":{"related":[{"reference":"Encounter/e\/1"}]}}"#,
    );
    assert_eq!(
        s.references,
        ["Patient/p1", "Practitioner/x", "Encounter/e/1"]
    );
    assert_eq!(
        s.attachment_urls,
        ["Binary/b1"],
        "inline data is not fetched"
    );

    let s = check(
        r#"{"presentedForm":[{"url":"http://h/fhir/Binary/r"},{"data":"eA=="}],
            "resourceType":"DiagnosticReport","id":"r1"}"#,
    );
    assert_eq!(
        s.attachment_urls,
        ["http://h/fhir/Binary/r"],
        "the type may come after the attachments"
    );

    let s = check(
        r#"{"resourceType":"Observation","presentedForm":[{"url":"Binary/x"}],
            "content":[{"attachment":{"url":"Binary/y"}}],"id":"o"}"#,
    );
    assert!(
        s.attachment_urls.is_empty(),
        "only DocumentReference and DiagnosticReport attachments count"
    );

    let s = check(r#"{"resourceType":"Observation","id":7,"reference":{"reference":3}}"#);
    assert_eq!(s.id, Field::Other);
    assert!(s.references.is_empty());
    check(r#"{"id":"no-type"}"#);
    check(r#"{"resourceType":"NotAType","id":"x"}"#);
    check(r#"{"resourceType":["Observation"]}"#);
}

#[test]
fn text_that_is_not_one_json_object_is_refused() {
    for bad in [
        "",
        "[]",
        "\"Observation\"",
        "{\"resourceType\":\"Observation\"",
        "{\"resourceType\":\"Observation\"} trailing",
        "{\"resourceType\":\"Observation\",}",
        "{\"resourceType\":\"Observation\",\"id\":\"a\",\"id\":\"b\"}",
    ] {
        assert!(scan(bad).is_err(), "{bad:?}");
        assert!(
            matches!(
                Resource::from_json(bad),
                Err(FhirError::MalformedJson { .. } | FhirError::NotFhir { .. })
            ),
            "{bad:?}"
        );
    }
}

struct Rng(u64);
impl Rng {
    fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 % n as u64) as usize
    }
}

const KEYS: &[&str] = &[
    "reference",
    "content",
    "attachment",
    "presentedForm",
    "url",
    "data",
    "id",
    "resourceType",
    "code",
    "text",
];

fn random_value(rng: &mut Rng, depth: usize) -> Value {
    match rng.below(if depth > 3 { 4 } else { 7 }) {
        0 => Value::Null,
        1 => json!(rng.below(100)),
        2 | 3 => json!(
            [
                "Patient/1",
                "Binary/b",
                "http://x/fhir/Binary/c",
                "a\"b",
                ""
            ][rng.below(5)]
        ),
        4 => Value::Array(
            (0..rng.below(4))
                .map(|_| random_value(rng, depth + 1))
                .collect(),
        ),
        _ => {
            let mut m = serde_json::Map::new();
            for _ in 0..rng.below(5) {
                m.insert(
                    KEYS[rng.below(KEYS.len())].into(),
                    random_value(rng, depth + 1),
                );
            }
            Value::Object(m)
        }
    }
}

#[test]
fn agrees_with_the_dom_on_random_resources() {
    let mut rng = Rng(0x5eed_f00d);
    let types = ["DocumentReference", "DiagnosticReport", "Observation"];
    for _ in 0..3_000 {
        let mut v = match random_value(&mut rng, 0) {
            Value::Object(m) => m,
            _ => serde_json::Map::new(),
        };
        if rng.below(4) > 0 {
            v.insert("resourceType".into(), json!(types[rng.below(types.len())]));
        }
        let text = if rng.below(2) == 0 {
            serde_json::to_string(&v).unwrap()
        } else {
            serde_json::to_string_pretty(&v).unwrap()
        };
        check(&text);
    }
}

//! Reading one response body: a search Bundle page or a single resource.
//!
//! Resources are sliced out of the body with [`RawValue`], so the JSON handed on is byte-for-byte
//! what the server sent (`1.50` stays `1.50`, key order and whitespace stay). A page is accepted
//! or refused as a whole: if any entry is of a type that was not asked for, nothing from that page
//! is emitted.

use phr_fhir::scan::{scan, Field};
use phr_fhir::Resource;
use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::Value;

use super::{ImportFailure, RawResource};
use crate::http::operation_outcome_text;
use crate::scopes::REFERENCE_TYPES;
use crate::urls::{is_fhir_id, FhirBase};

/// One accepted search page.
#[derive(Debug)]
pub(crate) struct Page {
    pub resources: Vec<RawResource>,
    /// Text of OperationOutcome entries (search.mode = outcome), e.g. "some results were
    /// withheld".
    pub outcomes: Vec<String>,
    pub total: Option<u64>,
    pub next: Option<String>,
    /// Entries without a resource, or whose resource has no usable id.
    pub skipped: u32,
}

#[derive(Deserialize)]
struct Head {
    #[serde(rename = "resourceType")]
    resource_type: Option<String>,
}

#[derive(Deserialize)]
struct BundleView<'a> {
    #[serde(rename = "resourceType", default)]
    resource_type: Option<String>,
    #[serde(default)]
    total: Option<Value>,
    #[serde(default)]
    link: Option<Vec<LinkView>>,
    #[serde(default, borrow)]
    entry: Option<Vec<EntryView<'a>>>,
}

#[derive(Deserialize)]
struct LinkView {
    relation: Option<String>,
    url: Option<String>,
}

#[derive(Deserialize)]
struct EntryView<'a> {
    #[serde(default, borrow)]
    resource: Option<&'a RawValue>,
    #[serde(default)]
    search: Option<SearchView>,
}

#[derive(Deserialize)]
struct SearchView {
    mode: Option<String>,
}

/// Parses the top of a body: valid JSON, a FHIR resource, of the expected type.
fn parse_head<'a>(body: &'a [u8], expected: &str) -> Result<(&'a RawValue, Head), ImportFailure> {
    let raw: &RawValue = serde_json::from_slice(body).map_err(|e| {
        let trimmed = body.trim_ascii_start();
        if trimmed.first() == Some(&b'<') {
            ImportFailure::NotFhir {
                what: "a web page instead of FHIR data",
            }
        } else if trimmed.is_empty() {
            ImportFailure::NotFhir {
                what: "an empty answer",
            }
        } else {
            ImportFailure::MalformedJson {
                line: e.line(),
                column: e.column(),
            }
        }
    })?;
    let head: Head = serde_json::from_str(raw.get()).map_err(|_| ImportFailure::NotFhir {
        what: "JSON that is not a FHIR resource",
    })?;
    match head.resource_type.as_deref() {
        None => Err(ImportFailure::NotFhir {
            what: "JSON that is not a FHIR resource",
        }),
        Some("OperationOutcome") if expected != "OperationOutcome" => {
            let v: Value = serde_json::from_str(raw.get()).unwrap_or(Value::Null);
            Err(ImportFailure::OperationOutcome {
                detail: operation_outcome_text(&v).unwrap_or_default(),
            })
        }
        Some(t) if t != expected => Err(ImportFailure::WrongResourceType {
            expected: expected.to_string(),
            found: crate::http::truncate(t, 60),
        }),
        Some(_) => Ok((raw, head)),
    }
}

fn usable_id(id: &Field) -> Option<String> {
    id.as_str().filter(|id| is_fhir_id(id)).map(str::to_string)
}

/// Parses a search result page for `expected_type`. `includes` lists the types asked for with
/// `_include`; entries in `include` mode may also be any of the referenced types.
pub(crate) fn parse_search_page(
    body: &[u8],
    expected_type: &str,
    includes: &[&str],
) -> Result<Page, ImportFailure> {
    // One pass for a good page; a bad one is read again to say exactly what is wrong with it.
    let bundle = match serde_json::from_slice::<BundleView>(body) {
        Ok(b) if b.resource_type.as_deref() == Some("Bundle") => b,
        _ => {
            parse_head(body, "Bundle")?;
            return Err(ImportFailure::NotFhir {
                what: "a damaged Bundle",
            });
        }
    };
    let mut page = Page {
        resources: Vec::new(),
        outcomes: Vec::new(),
        total: bundle.total.as_ref().and_then(Value::as_u64),
        next: bundle
            .link
            .unwrap_or_default()
            .into_iter()
            .find(|l| l.relation.as_deref() == Some("next"))
            .and_then(|l| l.url)
            .filter(|u| !u.trim().is_empty()),
        skipped: 0,
    };
    for entry in bundle.entry.unwrap_or_default() {
        let Some(resource) = entry.resource else {
            page.skipped += 1;
            continue;
        };
        let not_fhir = || ImportFailure::NotFhir {
            what: "a Bundle entry that is not a FHIR resource",
        };
        let scanned = scan(resource.get()).map_err(|_| not_fhir())?;
        let Some(ty) = scanned.resource_type.as_str() else {
            return Err(not_fhir());
        };
        let mode = entry.search.and_then(|s| s.mode);
        if ty == "OperationOutcome" {
            let v: Value = serde_json::from_str(resource.get()).unwrap_or(Value::Null);
            if let Some(text) = operation_outcome_text(&v).filter(|t| !t.is_empty()) {
                page.outcomes.push(text);
            }
            continue;
        }
        let allowed = if mode.as_deref() == Some("include") {
            ty == expected_type || includes.contains(&ty) || REFERENCE_TYPES.contains(&ty)
        } else {
            ty == expected_type
        };
        if !allowed {
            return Err(ImportFailure::UnexpectedEntry {
                found: crate::http::truncate(ty, 60),
            });
        }
        let Some(id) = usable_id(&scanned.id) else {
            page.skipped += 1;
            continue;
        };
        let resource_type = ty.to_string();
        page.resources.push(RawResource {
            resource: Resource::from_scan(resource.to_owned(), &scanned).map_err(|_| not_fhir())?,
            resource_type,
            id,
            scan: scanned,
        });
    }
    Ok(page)
}

/// Parses a single resource read; it must have the expected type and id.
pub(crate) fn parse_single(
    body: &[u8],
    expected_type: &str,
    expected_id: &str,
) -> Result<RawResource, ImportFailure> {
    let (raw, _) = parse_head(body, expected_type)?;
    let scanned = scan(raw.get()).map_err(|_| ImportFailure::NotFhir {
        what: "JSON that is not a FHIR resource",
    })?;
    let found = usable_id(&scanned.id);
    match found {
        Some(id) if id == expected_id => Ok(RawResource {
            resource: Resource::from_scan(raw.to_owned(), &scanned).map_err(|_| {
                ImportFailure::NotFhir {
                    what: "JSON that is not a FHIR resource",
                }
            })?,
            resource_type: expected_type.to_string(),
            id,
            scan: scanned,
        }),
        _ if expected_type == "Patient" => Err(ImportFailure::PatientMismatch),
        _ => Err(ImportFailure::WrongResourceType {
            expected: format!("{expected_type}/{expected_id}"),
            found: format!(
                "{expected_type}/{}",
                found.unwrap_or_else(|| "(no id)".into())
            ),
        }),
    }
}

/// What one resource points at.
#[derive(Debug, Default)]
pub(crate) struct Links {
    /// `(type, id)` of same-server references to the referenced types.
    pub references: Vec<(String, String)>,
    /// Absolute same-server URLs of attachments to fetch.
    pub attachments: Vec<String>,
    /// References/attachments on other servers (not followed).
    pub external: u64,
}

/// Collects the references and attachment URLs of one resource (read when its page was).
pub(crate) fn collect_links(resource: &RawResource, base: &FhirBase, attachments: bool) -> Links {
    let mut links = Links::default();
    for reference in &resource.scan.references {
        // Most references are relative and to types that are not fetched (`Encounter/123`):
        // they are checked as slices and never copied.
        match base.local_reference_ref(reference) {
            Some((ty, id)) if REFERENCE_TYPES.contains(&ty.as_ref()) => {
                if !links.references.iter().any(|(t, i)| *t == ty && *i == id) {
                    links.references.push((ty.into_owned(), id.into_owned()));
                }
            }
            Some(_) => {}
            None => {
                if (reference.starts_with("http://") || reference.starts_with("https://"))
                    && REFERENCE_TYPES
                        .iter()
                        .any(|t| reference.contains(&format!("/{t}/")))
                {
                    links.external += 1;
                }
            }
        }
    }
    if attachments {
        for url in &resource.scan.attachment_urls {
            let absolute = if url.starts_with("http://") || url.starts_with("https://") {
                base.contains(url).then(|| url.to_string())
            } else if crate::urls::split_type_id_ref(url).is_some_and(|(t, _)| t == "Binary") {
                Some(base.join(url))
            } else {
                None
            };
            match absolute {
                Some(u) => {
                    if !links.attachments.contains(&u) {
                        links.attachments.push(u)
                    }
                }
                None => links.external += 1,
            }
        }
    }
    links
}

#[cfg(test)]
mod tests {
    use super::*;

    fn links_of(json: &str) -> Links {
        let body = format!(r#"{{"resourceType":"Bundle","entry":[{{"resource":{json}}}]}}"#);
        let page = parse_search_page(body.as_bytes(), "DiagnosticReport", &[]).unwrap();
        let base = FhirBase::parse("https://ehr.example.org/fhir").unwrap();
        collect_links(&page.resources[0], &base, true)
    }

    #[test]
    fn links_are_the_fetched_types_on_this_server_once_each() {
        let links = links_of(
            r##"{"resourceType":"DiagnosticReport","id":"r1",
                "subject":{"reference":"Patient/p1"},
                "encounter":{"reference":"Encounter/e1"},
                "performer":[{"reference":"Practitioner/d1"},{"reference":"Practitioner/d1/_history/2"},
                             {"reference":"https://ehr.example.org/fhir/Organization/o1"},
                             {"reference":"https://other.example/fhir/Organization/o2"},
                             {"reference":"Organization/o 3"},{"reference":"urn:uuid:5"},{"reference":"#c1"}],
                "presentedForm":[{"url":"Binary/b1"},{"url":"https://ehr.example.org/fhir/Binary/b2"},
                                 {"url":"https://elsewhere.example/b3"},{"url":"Binary/b1"}]}"##,
        );
        let refs: Vec<(&str, &str)> = links
            .references
            .iter()
            .map(|(t, i)| (t.as_str(), i.as_str()))
            .collect();
        // Patient and Encounter are not fetched as references; the history version and the
        // absolute URL of the same server resolve; ids with spaces are not ids.
        assert_eq!(refs, [("Practitioner", "d1"), ("Organization", "o1")]);
        assert_eq!(
            links.attachments,
            [
                "https://ehr.example.org/fhir/Binary/b1",
                "https://ehr.example.org/fhir/Binary/b2"
            ]
        );
        // The other server's organization and attachment are counted, not followed.
        assert_eq!(links.external, 2);
    }
}

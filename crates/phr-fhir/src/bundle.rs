//! Splitting Bundles and NDJSON into resources without touching their bytes.
//!
//! Parsing never fails as a whole because one entry is bad: good entries come back as resources and
//! each bad one becomes an [`ImportIssue`] naming where it was. Only input that is not a Bundle or
//! NDJSON at all is an error.

use serde::Deserialize;
use serde_json::value::RawValue;

use crate::views::BundleLink;
use crate::{FhirError, Resource};

/// One problem with one part of an import; the rest of the import goes on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ImportIssue {
    /// Where: `entry 3` or `line 12`.
    pub location: String,
    pub problem: String,
}

impl std::fmt::Display for ImportIssue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.location, self.problem)
    }
}

/// What kind of file was imported.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ImportFormat {
    /// A Bundle of this `type` (collection, searchset, transaction, batch, document, ...).
    Bundle(String),
    Ndjson,
    /// A single resource that is not a Bundle.
    Single,
}

/// The resources found in an import, with the issues met on the way.
#[derive(Debug, Default)]
pub struct ParsedImport {
    pub resources: Vec<Resource>,
    pub issues: Vec<ImportIssue>,
    /// Bundle links (`next`, `self`...), for searchset pages.
    pub links: Vec<BundleLink>,
    /// `Bundle.total` when the server sent one.
    pub total: Option<u64>,
}

#[derive(Deserialize)]
struct RawBundle<'a> {
    #[serde(rename = "resourceType")]
    resource_type: Option<String>,
    #[serde(rename = "type")]
    kind: Option<String>,
    #[serde(default)]
    total: Option<u64>,
    #[serde(default)]
    link: Vec<BundleLink>,
    #[serde(default, borrow)]
    entry: Option<Vec<&'a RawValue>>,
}

#[derive(Deserialize)]
struct RawEntry<'a> {
    #[serde(default, borrow)]
    resource: Option<&'a RawValue>,
    #[serde(default)]
    search: Option<EntrySearch>,
}

#[derive(Deserialize, Default)]
struct EntrySearch {
    #[serde(default)]
    mode: Option<String>,
}

/// Splits a Bundle into its entries' resources, each keeping its exact bytes.
///
/// Entries without a resource (e.g. a transaction DELETE) are reported as issues; searchset entries
/// with `search.mode = outcome` (OperationOutcome) are reported as issues with their text.
pub fn parse_bundle(text: &str) -> Result<ParsedImport, FhirError> {
    parse_bundle_with_kind(text).map(|(_, parsed)| parsed)
}

/// [`parse_bundle`], also returning `Bundle.type`. The input is parsed once; each resource is
/// copied once (its own bytes), so peak memory is about twice the input.
fn parse_bundle_with_kind(text: &str) -> Result<(Option<String>, ParsedImport), FhirError> {
    let bundle: RawBundle = serde_json::from_str(text).map_err(|e| {
        if e.classify() == serde_json::error::Category::Data {
            FhirError::NotFhir {
                detail: "it is not a FHIR Bundle".into(),
            }
        } else {
            FhirError::MalformedJson {
                detail: e.to_string(),
            }
        }
    })?;
    match bundle.resource_type.as_deref() {
        Some("Bundle") => {}
        Some(other) => {
            return Err(FhirError::WrongResourceType {
                expected: "Bundle".into(),
                found: other.into(),
            })
        }
        None => {
            return Err(FhirError::NotFhir {
                detail: "it has no resourceType".into(),
            })
        }
    }
    let entries = bundle.entry.unwrap_or_default();
    let mut out = ParsedImport {
        links: bundle.link,
        total: bundle.total,
        resources: Vec::with_capacity(entries.len()),
        ..ParsedImport::default()
    };
    for (i, raw_entry) in entries.into_iter().enumerate() {
        let location = format!("entry {}", i + 1);
        let entry: RawEntry = match serde_json::from_str(raw_entry.get()) {
            Ok(e) => e,
            Err(e) => {
                out.issues.push(ImportIssue {
                    location,
                    problem: format!("the entry has an unexpected shape ({e})"),
                });
                continue;
            }
        };
        let Some(raw) = entry.resource else {
            out.issues.push(ImportIssue {
                location,
                problem: "the entry has no resource".into(),
            });
            continue;
        };
        match Resource::from_raw_value(raw) {
            Ok(r) => {
                let outcome =
                    entry.search.as_ref().and_then(|s| s.mode.as_deref()) == Some("outcome");
                if outcome || r.resource_type() == "OperationOutcome" {
                    out.issues.push(ImportIssue {
                        location,
                        problem: format!("the server reported: {}", operation_outcome_text(&r)),
                    });
                } else {
                    out.resources.push(r);
                }
            }
            Err(e) => out.issues.push(ImportIssue {
                location,
                problem: e.to_string(),
            }),
        }
    }
    Ok((bundle.kind, out))
}

/// Splits NDJSON (one resource per line; blank lines allowed) into resources.
pub fn parse_ndjson(text: &str) -> ParsedImport {
    let mut out = ParsedImport::default();
    for (i, line) in text.lines().enumerate() {
        let line = line.trim_end_matches('\r');
        if line.trim().is_empty() {
            continue;
        }
        match Resource::from_json(line) {
            Ok(r) => out.resources.push(r),
            Err(e) => out.issues.push(ImportIssue {
                location: format!("line {}", i + 1),
                problem: e.to_string(),
            }),
        }
    }
    out
}

/// Reads an imported file: a Bundle (any type), NDJSON, or one resource.
pub fn parse_import(text: &str) -> Result<(ImportFormat, ParsedImport), FhirError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let trimmed = text.trim_start();
    if !trimmed.starts_with('{') {
        return Err(FhirError::NotFhir {
            detail: "the file does not start with a JSON object (expected a FHIR Bundle or NDJSON)"
                .into(),
        });
    }
    // NDJSON: more than one non-empty line, each a JSON object on its own. A pretty-printed Bundle
    // also has many lines, so decide by whether the first line alone is complete JSON.
    let first_line = trimmed.lines().next().unwrap_or("");
    let first_is_whole = serde_json::from_str::<&RawValue>(first_line).is_ok();
    let more_lines = trimmed.lines().skip(1).any(|l| !l.trim().is_empty());
    if first_is_whole && more_lines {
        let parsed = parse_ndjson(text);
        if parsed.resources.is_empty() && !parsed.issues.is_empty() {
            return Err(FhirError::NotFhir {
                detail: format!("no line is a FHIR resource ({})", parsed.issues[0]),
            });
        }
        return Ok((ImportFormat::Ndjson, parsed));
    }
    // Only the head is read here: copying the whole text into a `Resource` first would double
    // the memory a large Bundle needs.
    let head = crate::resource_head(text)?;
    if head == "Bundle" {
        let (kind, parsed) = parse_bundle_with_kind(text)?;
        Ok((
            ImportFormat::Bundle(kind.unwrap_or_else(|| "unknown".into())),
            parsed,
        ))
    } else {
        let single = Resource::from_json(text)?;
        Ok((
            ImportFormat::Single,
            ParsedImport {
                resources: vec![single],
                ..ParsedImport::default()
            },
        ))
    }
}

/// The human-readable text of an OperationOutcome (its issues' details or diagnostics).
pub fn operation_outcome_text(r: &Resource) -> String {
    #[derive(Deserialize, Default)]
    #[serde(default)]
    struct Oo {
        issue: Vec<OoIssue>,
    }
    #[derive(Deserialize, Default)]
    #[serde(default)]
    struct OoIssue {
        severity: Option<String>,
        code: Option<String>,
        details: Option<crate::types::CodeableConcept>,
        diagnostics: Option<String>,
    }
    let oo: Oo = r.view().unwrap_or_default();
    let texts: Vec<String> = oo
        .issue
        .iter()
        .map(|i| {
            i.details
                .as_ref()
                .and_then(|d| d.display().map(str::to_string))
                .or_else(|| i.diagnostics.clone())
                .or_else(|| i.code.clone())
                .unwrap_or_else(|| i.severity.clone().unwrap_or_else(|| "error".into()))
        })
        .collect();
    if texts.is_empty() {
        "an error without details".into()
    } else {
        texts.join("; ")
    }
}

/// The `next` link of a searchset page, if any.
pub fn next_link(parsed: &ParsedImport) -> Option<&str> {
    parsed
        .links
        .iter()
        .find(|l| l.relation.as_deref() == Some("next"))
        .and_then(|l| l.url.as_deref())
}

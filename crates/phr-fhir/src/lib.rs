//! A FHIR R4 subset for a personal health record.
//!
//! # Key design decision: the original bytes are the resource
//!
//! A [`Resource`] owns the exact JSON text it arrived as. Nothing in the app ever re-serialises an
//! imported resource, so a round trip is byte-exact by construction: decimals such as `1.50` keep
//! their precision, unknown elements and extensions survive, and key order is untouched. This is
//! what "the provider's EHR stays the legal record" means in code.
//!
//! Typed access goes through read-only *views* ([`views`]): small structs that deserialize only the
//! elements the app needs, straight from the original text, and ignore everything else. Views never
//! use `#[serde(flatten)]`, because flattening buffers the input and loses decimal text; numbers are
//! read as [`types::Decimal`], which keeps the original digits.
//!
//! Bundles and NDJSON are split into resources by slicing each entry's `resource` out of the input
//! with [`serde_json::value::RawValue`], so the bytes of each resource are exactly those of the file
//! or server response.

pub mod bundle;
pub mod primitives;
pub mod scan;
pub mod types;
pub mod views;

use serde::de::DeserializeOwned;
use serde::Deserialize;
use serde_json::value::RawValue;

pub use bundle::{
    parse_bundle, parse_import, parse_ndjson, ImportFormat, ImportIssue, ParsedImport,
};

/// Why some input is not a usable FHIR resource.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FhirError {
    /// The bytes are not JSON at all (or not valid UTF-8).
    #[error("this is not valid JSON ({detail}); the file may be damaged or in another format")]
    MalformedJson { detail: String },
    /// JSON, but not a FHIR resource (no `resourceType`, or not an object).
    #[error("this is JSON but not a FHIR resource: {detail}")]
    NotFhir { detail: String },
    /// A FHIR resource, but not of the type that was expected here.
    #[error("expected a FHIR {expected} but found a {found}")]
    WrongResourceType { expected: String, found: String },
    /// A view could not read an element it needs.
    #[error("the {resource_type} resource has an element of an unexpected shape ({detail})")]
    UnexpectedShape {
        resource_type: String,
        detail: String,
    },
}

/// A FHIR resource as it arrived: the original JSON text plus its type and id.
///
/// Construction validates that the text is a JSON object with a plausible `resourceType`; it never
/// changes the text.
#[derive(Clone)]
pub struct Resource {
    /// Held as a `RawValue` (valid JSON by construction), so that embedding it in a segment or a
    /// share never reads it again.
    raw: Box<RawValue>,
    resource_type: Box<str>,
    id: Option<Box<str>>,
}

impl PartialEq for Resource {
    fn eq(&self, other: &Self) -> bool {
        self.raw.get() == other.raw.get()
            && self.resource_type == other.resource_type
            && self.id == other.id
    }
}

impl Eq for Resource {}

impl std::fmt::Debug for Resource {
    // Deliberately omits the content: resources hold PHI and Debug output ends up in logs.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Resource")
            .field("resource_type", &self.resource_type)
            .field("id", &self.id)
            .field("bytes", &self.raw.get().len())
            .finish()
    }
}

#[derive(Deserialize)]
struct Head<'a> {
    #[serde(rename = "resourceType", borrow)]
    resource_type: Option<&'a RawValue>,
    #[serde(borrow)]
    id: Option<&'a RawValue>,
}

/// The `resourceType` of JSON text that must be one FHIR resource, reading nothing else and
/// copying nothing (same errors as [`Resource::from_json`]).
pub(crate) fn resource_head(raw: &str) -> Result<String, FhirError> {
    read_head(raw).map(|(rt, _)| rt)
}

/// Reads `resourceType` (checked to be a resource type name) and `id` without parsing the rest.
fn read_head(raw: &str) -> Result<(String, Option<String>), FhirError> {
    let head: Head = serde_json::from_str(raw).map_err(|e| {
        if e.classify() == serde_json::error::Category::Data {
            FhirError::NotFhir {
                detail: "it is not a JSON object".into(),
            }
        } else {
            FhirError::MalformedJson {
                detail: e.to_string(),
            }
        }
    })?;
    let rt = head.resource_type.ok_or_else(|| FhirError::NotFhir {
        detail: "it has no resourceType".into(),
    })?;
    let rt: String = serde_json::from_str(rt.get()).map_err(|_| FhirError::NotFhir {
        detail: "its resourceType is not a string".into(),
    })?;
    if !is_resource_type_name(&rt) {
        return Err(FhirError::NotFhir {
            detail: format!("\"{}\" is not a FHIR resource type", truncate(&rt, 40)),
        });
    }
    let id = head
        .id
        .map(|v| {
            serde_json::from_str::<String>(v.get()).map_err(|_| FhirError::NotFhir {
                detail: "its id is not a string".into(),
            })
        })
        .transpose()?;
    Ok((rt, id))
}

impl Resource {
    /// Wraps JSON text that must be one FHIR resource. The text is kept exactly as given.
    pub fn from_json(raw: impl Into<String>) -> Result<Resource, FhirError> {
        let raw: String = raw.into();
        let (resource_type, id) = read_head(&raw)?;
        // read_head read the whole text as one JSON object, so this cannot fail.
        let raw = RawValue::from_string(raw).map_err(|e| FhirError::MalformedJson {
            detail: e.to_string(),
        })?;
        Ok(Resource {
            raw,
            resource_type: resource_type.into_boxed_str(),
            id: id.map(String::into_boxed_str),
        })
    }

    /// As [`Resource::from_json`], from JSON already checked by serde_json (a `RawValue` sliced
    /// out of a Bundle or a stored segment): its text is copied, not read again.
    pub fn from_raw_value(raw: &RawValue) -> Result<Resource, FhirError> {
        let (resource_type, id) = read_head(raw.get())?;
        Ok(Resource {
            raw: raw.to_owned(),
            resource_type: resource_type.into_boxed_str(),
            id: id.map(String::into_boxed_str),
        })
    }

    /// Builds the resource from text already read by [`scan::scan`] (one pass for both), with the
    /// same checks and errors as [`Resource::from_json`].
    pub fn from_scan(raw: Box<RawValue>, scan: &scan::Scan) -> Result<Resource, FhirError> {
        if scan.len != raw.get().len() {
            // Not the text that was scanned: read it properly.
            return Resource::from_raw_value(&raw);
        }
        let rt = match &scan.resource_type {
            scan::Field::Str(rt) => rt,
            scan::Field::Missing => {
                return Err(FhirError::NotFhir {
                    detail: "it has no resourceType".into(),
                })
            }
            scan::Field::Other => {
                return Err(FhirError::NotFhir {
                    detail: "its resourceType is not a string".into(),
                })
            }
        };
        if !is_resource_type_name(rt) {
            return Err(FhirError::NotFhir {
                detail: format!("\"{}\" is not a FHIR resource type", truncate(rt, 40)),
            });
        }
        let id = match &scan.id {
            scan::Field::Str(id) => Some(id.clone().into_boxed_str()),
            scan::Field::Missing => None,
            scan::Field::Other => {
                return Err(FhirError::NotFhir {
                    detail: "its id is not a string".into(),
                })
            }
        };
        Ok(Resource {
            raw,
            resource_type: rt.clone().into_boxed_str(),
            id,
        })
    }

    /// Like [`Resource::from_json`], but the resource must be of type `expected`.
    pub fn from_json_expecting(
        raw: impl Into<String>,
        expected: &str,
    ) -> Result<Resource, FhirError> {
        let r = Resource::from_json(raw)?;
        if r.resource_type() != expected {
            return Err(FhirError::WrongResourceType {
                expected: expected.into(),
                found: r.resource_type().into(),
            });
        }
        Ok(r)
    }

    /// Builds a resource from a value the app created itself (patient-entered data, shares).
    /// The value is serialised once; from then on its text is fixed like any other resource's.
    pub fn from_value(value: &serde_json::Value) -> Result<Resource, FhirError> {
        Resource::from_json(value.to_string())
    }

    /// The original JSON text, byte for byte.
    pub fn raw(&self) -> &str {
        self.raw.get()
    }

    /// The resource as an embedded JSON value that serialises to exactly [`Resource::raw`].
    pub fn raw_value(&self) -> &RawValue {
        &self.raw
    }

    pub fn resource_type(&self) -> &str {
        &self.resource_type
    }

    pub fn id(&self) -> Option<&str> {
        self.id.as_deref()
    }

    /// `Type/id`, the form used in references (None without an id).
    pub fn reference(&self) -> Option<String> {
        self.id().map(|id| format!("{}/{}", self.resource_type, id))
    }

    /// Parses the whole resource into a generic JSON value. Numbers become `f64` here, so never
    /// serialise this back as the resource: use [`Resource::raw`] for that.
    pub fn value(&self) -> serde_json::Value {
        serde_json::from_str(self.raw.get()).unwrap_or(serde_json::Value::Null)
    }

    /// Reads a typed view (see [`views`]) from the original text.
    pub fn view<T: DeserializeOwned>(&self) -> Result<T, FhirError> {
        serde_json::from_str(self.raw.get()).map_err(|e| FhirError::UnexpectedShape {
            resource_type: self.resource_type.to_string(),
            detail: e.to_string(),
        })
    }
}

impl serde::Serialize for Resource {
    /// Serialises as the original JSON text, embedded verbatim.
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.raw_value().serialize(s)
    }
}

impl<'de> Deserialize<'de> for Resource {
    /// Deserialises from an embedded JSON object, keeping its exact text. Only works with
    /// `serde_json` (it relies on `RawValue`).
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let raw = Box::<RawValue>::deserialize(d)?;
        let (resource_type, id) = read_head(raw.get()).map_err(serde::de::Error::custom)?;
        Ok(Resource {
            raw,
            resource_type: resource_type.into_boxed_str(),
            id: id.map(String::into_boxed_str),
        })
    }
}

/// Whether `s` looks like a FHIR resource type name (`Observation`, `AllergyIntolerance`, ...).
pub fn is_resource_type_name(s: &str) -> bool {
    let mut chars = s.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_uppercase())
        && s.len() <= 64
        && chars.all(|c| c.is_ascii_alphanumeric())
}

fn truncate(s: &str, n: usize) -> String {
    s.chars().take(n).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_bytes_exactly() {
        let text = "{\"resourceType\":\"Observation\",\"id\":\"o1\",\"valueQuantity\":{\"value\":1.50},\n \"zzz\":[1e3, 0.10]}";
        let r = Resource::from_json(text).unwrap();
        assert_eq!(r.raw(), text);
        assert_eq!(r.resource_type(), "Observation");
        assert_eq!(r.id(), Some("o1"));
        assert_eq!(serde_json::to_string(&r).unwrap(), text);
        let back: Resource = serde_json::from_str(&serde_json::to_string(&r).unwrap()).unwrap();
        assert_eq!(back.raw(), text);
    }

    #[test]
    fn rejects_non_fhir() {
        assert!(matches!(
            Resource::from_json("{"),
            Err(FhirError::MalformedJson { .. })
        ));
        assert!(matches!(
            Resource::from_json("[1]"),
            Err(FhirError::NotFhir { .. })
        ));
        assert!(matches!(
            Resource::from_json("{\"a\":1}"),
            Err(FhirError::NotFhir { .. })
        ));
        assert!(matches!(
            Resource::from_json("{\"resourceType\":5}"),
            Err(FhirError::NotFhir { .. })
        ));
        assert!(matches!(
            Resource::from_json("{\"resourceType\":\"<script>\"}"),
            Err(FhirError::NotFhir { .. })
        ));
        assert!(matches!(
            Resource::from_json("<html>Not found</html>"),
            Err(FhirError::MalformedJson { .. })
        ));
        assert_eq!(
            Resource::from_json_expecting("{\"resourceType\":\"Patient\"}", "Bundle"),
            Err(FhirError::WrongResourceType {
                expected: "Bundle".into(),
                found: "Patient".into()
            })
        );
    }

    #[test]
    fn debug_hides_content() {
        let r = Resource::from_json(
            "{\"resourceType\":\"Patient\",\"name\":[{\"family\":\"CANARY\"}]}",
        )
        .unwrap();
        assert!(!format!("{r:?}").contains("CANARY"));
    }
}

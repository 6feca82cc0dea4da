//! FHIR R4 data types, as read-only views. Every field is optional and unknown elements are ignored:
//! the original JSON text (see [`crate::Resource`]) is the complete, lossless form.

use serde::{Deserialize, Deserializer, Serialize};
use serde_json::value::RawValue;

/// A FHIR `decimal`, keeping the exact digits it was written with (`1.50` stays `1.50`).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Decimal(String);

impl Decimal {
    /// Wraps decimal text; `None` unless it is a valid JSON number.
    pub fn parse(text: &str) -> Option<Decimal> {
        let t = text.trim();
        serde_json::from_str::<serde_json::Number>(t).ok()?;
        Some(Decimal(t.to_string()))
    }

    /// Formats a number the app computed (never for data that came from elsewhere).
    pub fn from_f64(v: f64) -> Option<Decimal> {
        serde_json::Number::from_f64(v).map(|n| Decimal(n.to_string()))
    }

    /// The digits as written.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn to_f64(&self) -> Option<f64> {
        self.0.parse().ok().filter(|v: &f64| v.is_finite())
    }
}

impl std::fmt::Display for Decimal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for Decimal {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let raw = <&RawValue>::deserialize(d)?;
        Decimal::parse(raw.get()).ok_or_else(|| serde::de::Error::custom("not a decimal number"))
    }
}

impl Serialize for Decimal {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match RawValue::from_string(self.0.clone()) {
            Ok(raw) => raw.serialize(s),
            Err(e) => Err(serde::ser::Error::custom(e)),
        }
    }
}

#[derive(Clone, Debug, Default, PartialEq, Deserialize, Serialize)]
#[serde(default, rename_all = "camelCase")]
pub struct Coding {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub system: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub display: Option<String>,
}

impl Coding {
    pub fn new(system: &str, code: &str, display: &str) -> Coding {
        Coding {
            system: Some(system.into()),
            version: None,
            code: Some(code.into()),
            display: (!display.is_empty()).then(|| display.into()),
        }
    }

    /// Same system and code (both present).
    pub fn same_concept(&self, other: &Coding) -> bool {
        self.system.is_some()
            && self.code.is_some()
            && self.system == other.system
            && self.code == other.code
    }
}

#[derive(Clone, Debug, Default, PartialEq, Deserialize, Serialize)]
#[serde(default)]
pub struct CodeableConcept {
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub coding: Vec<Coding>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
}

impl CodeableConcept {
    /// The best human-readable label: `text`, else the first coding display, else the first code.
    pub fn display(&self) -> Option<&str> {
        self.text
            .as_deref()
            .filter(|t| !t.trim().is_empty())
            .or_else(|| self.coding.iter().find_map(|c| c.display.as_deref()))
            .or_else(|| self.coding.iter().find_map(|c| c.code.as_deref()))
    }

    /// The first code in `system`.
    pub fn code_in(&self, system: &str) -> Option<&str> {
        self.coding
            .iter()
            .find(|c| c.system.as_deref() == Some(system))
            .and_then(|c| c.code.as_deref())
    }

    /// Whether any coding is `system|code`.
    pub fn has(&self, system: &str, code: &str) -> bool {
        self.coding
            .iter()
            .any(|c| c.system.as_deref() == Some(system) && c.code.as_deref() == Some(code))
    }

    /// Whether any coding has this code (any system).
    pub fn has_code(&self, code: &str) -> bool {
        self.coding.iter().any(|c| c.code.as_deref() == Some(code))
    }
}

#[derive(Clone, Debug, Default, PartialEq, Deserialize, Serialize)]
#[serde(default)]
pub struct Reference {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reference: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub display: Option<String>,
}

impl Reference {
    pub fn to(reference: &str) -> Reference {
        Reference {
            reference: Some(reference.into()),
            display: None,
        }
    }

    /// `(type, id)` of a relative (`Patient/1`) or absolute (`https://x/fhir/Patient/1`) literal
    /// reference, ignoring any `_history` suffix. None for `#contained`, `urn:` and malformed ones.
    pub fn type_and_id(&self) -> Option<(&str, &str)> {
        let r = self.reference.as_deref()?;
        let r = r.split("/_history/").next()?;
        let mut parts = r.rsplitn(3, '/');
        let id = parts.next()?;
        let ty = parts.next()?;
        (crate::is_resource_type_name(ty) && !id.is_empty()).then_some((ty, id))
    }
}

#[derive(Clone, Debug, Default, PartialEq, Deserialize, Serialize)]
#[serde(default)]
pub struct Identifier {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub system: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    pub kind: Option<CodeableConcept>,
}

#[derive(Clone, Debug, Default, PartialEq, Deserialize, Serialize)]
#[serde(default)]
pub struct Period {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub start: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub end: Option<String>,
}

#[derive(Clone, Debug, Default, PartialEq, Deserialize, Serialize)]
#[serde(default)]
pub struct Quantity {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value: Option<Decimal>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub comparator: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unit: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub system: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
}

impl Quantity {
    /// The UCUM code when the system is UCUM (or unstated), else the free-text unit.
    pub fn unit_key(&self) -> Option<&str> {
        let ucum = self
            .system
            .as_deref()
            .is_none_or(|s| s == "http://unitsofmeasure.org");
        if ucum {
            self.code.as_deref().or(self.unit.as_deref())
        } else {
            self.unit.as_deref()
        }
    }

    /// Text such as `1.50 mmol/L` or `< 5 mg`.
    pub fn display(&self) -> Option<String> {
        let v = self.value.as_ref()?;
        let mut s = String::new();
        if let Some(c) = &self.comparator {
            s.push_str(c);
            s.push(' ');
        }
        s.push_str(v.as_str());
        if let Some(u) = self.unit.as_deref().or(self.code.as_deref()) {
            s.push(' ');
            s.push_str(u);
        }
        Some(s)
    }
}

#[derive(Clone, Debug, Default, PartialEq, Deserialize, Serialize)]
#[serde(default)]
pub struct Range {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub low: Option<Quantity>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub high: Option<Quantity>,
}

#[derive(Clone, Debug, Default, PartialEq, Deserialize, Serialize)]
#[serde(default)]
pub struct Ratio {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub numerator: Option<Quantity>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub denominator: Option<Quantity>,
}

#[derive(Clone, Debug, Default, PartialEq, Deserialize, Serialize)]
#[serde(default)]
pub struct HumanName {
    #[serde(rename = "use", skip_serializing_if = "Option::is_none")]
    pub use_: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub family: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub given: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub prefix: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub suffix: Vec<String>,
}

impl HumanName {
    /// `text`, else "Given Family".
    pub fn display(&self) -> String {
        if let Some(t) = self.text.as_deref().filter(|t| !t.trim().is_empty()) {
            return t.to_string();
        }
        let mut parts: Vec<&str> = self.given.iter().map(String::as_str).collect();
        if let Some(f) = &self.family {
            parts.push(f);
        }
        parts.join(" ")
    }
}

#[derive(Clone, Debug, Default, PartialEq, Deserialize, Serialize)]
#[serde(default)]
pub struct ContactPoint {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub system: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
    #[serde(rename = "use", skip_serializing_if = "Option::is_none")]
    pub use_: Option<String>,
}

#[derive(Clone, Debug, Default, PartialEq, Deserialize, Serialize)]
#[serde(default, rename_all = "camelCase")]
pub struct Address {
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub line: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub city: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub state: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub postal_code: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub country: Option<String>,
}

#[derive(Clone, Debug, Default, PartialEq, Deserialize, Serialize)]
#[serde(default, rename_all = "camelCase")]
pub struct Attachment {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub content_type: Option<String>,
    /// Base64 content.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub size: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub creation: Option<String>,
}

#[derive(Clone, Debug, Default, PartialEq, Deserialize, Serialize)]
#[serde(default, rename_all = "camelCase")]
pub struct Annotation {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub author_reference: Option<Reference>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub author_string: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub time: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
}

#[derive(Clone, Debug, Default, PartialEq, Deserialize, Serialize)]
#[serde(default, rename_all = "camelCase")]
pub struct Meta {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_updated: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub profile: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub security: Vec<Coding>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub tag: Vec<Coding>,
}

/// `Resource.text`: the XHTML narrative. Untrusted: render only through a sanitiser.
#[derive(Clone, Debug, Default, PartialEq, Deserialize, Serialize)]
#[serde(default)]
pub struct Narrative {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub div: Option<String>,
}

#[derive(Clone, Debug, Default, PartialEq, Deserialize, Serialize)]
#[serde(default, rename_all = "camelCase")]
pub struct TimingRepeat {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub frequency: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub period: Option<Decimal>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub period_unit: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub time_of_day: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub day_of_week: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bounds_period: Option<Period>,
}

#[derive(Clone, Debug, Default, PartialEq, Deserialize, Serialize)]
#[serde(default)]
pub struct Timing {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub repeat: Option<TimingRepeat>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub code: Option<CodeableConcept>,
}

#[derive(Clone, Debug, Default, PartialEq, Deserialize, Serialize)]
#[serde(default, rename_all = "camelCase")]
pub struct DoseAndRate {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dose_quantity: Option<Quantity>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dose_range: Option<Range>,
}

#[derive(Clone, Debug, Default, PartialEq, Deserialize, Serialize)]
#[serde(default, rename_all = "camelCase")]
pub struct Dosage {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub timing: Option<Timing>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub as_needed_boolean: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub route: Option<CodeableConcept>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub dose_and_rate: Vec<DoseAndRate>,
}

/// The `[x]` value of an Observation or component.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    Quantity(Quantity),
    CodeableConcept(CodeableConcept),
    String(String),
    Boolean(bool),
    Integer(i64),
    Range(Range),
    Ratio(Ratio),
    DateTime(String),
    Period(Period),
}

impl Value {
    /// A short human-readable form.
    pub fn display(&self) -> Option<String> {
        match self {
            Value::Quantity(q) => q.display(),
            Value::CodeableConcept(c) => c.display().map(str::to_string),
            Value::String(s) => Some(s.clone()),
            Value::Boolean(b) => Some(if *b { "Yes" } else { "No" }.into()),
            Value::Integer(i) => Some(i.to_string()),
            Value::Range(r) => Some(format!(
                "{} – {}",
                r.low
                    .as_ref()
                    .and_then(Quantity::display)
                    .unwrap_or_default(),
                r.high
                    .as_ref()
                    .and_then(Quantity::display)
                    .unwrap_or_default()
            )),
            Value::Ratio(r) => Some(format!(
                "{} / {}",
                r.numerator
                    .as_ref()
                    .and_then(Quantity::display)
                    .unwrap_or_default(),
                r.denominator
                    .as_ref()
                    .and_then(Quantity::display)
                    .unwrap_or_default()
            )),
            Value::DateTime(d) => Some(d.clone()),
            Value::Period(p) => Some(format!(
                "{} – {}",
                p.start.as_deref().unwrap_or(""),
                p.end.as_deref().unwrap_or("")
            )),
        }
    }

    pub fn as_quantity(&self) -> Option<&Quantity> {
        match self {
            Value::Quantity(q) => Some(q),
            _ => None,
        }
    }
}

/// The `value[x]` fields, flattened by hand (serde's flatten would lose decimal text).
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct ValueX {
    pub value_quantity: Option<Quantity>,
    pub value_codeable_concept: Option<CodeableConcept>,
    pub value_string: Option<String>,
    pub value_boolean: Option<bool>,
    pub value_integer: Option<i64>,
    pub value_range: Option<Range>,
    pub value_ratio: Option<Ratio>,
    pub value_date_time: Option<String>,
    pub value_period: Option<Period>,
}

impl ValueX {
    pub fn value(&self) -> Option<Value> {
        if let Some(q) = &self.value_quantity {
            return Some(Value::Quantity(q.clone()));
        }
        if let Some(c) = &self.value_codeable_concept {
            return Some(Value::CodeableConcept(c.clone()));
        }
        if let Some(s) = &self.value_string {
            return Some(Value::String(s.clone()));
        }
        if let Some(b) = self.value_boolean {
            return Some(Value::Boolean(b));
        }
        if let Some(i) = self.value_integer {
            return Some(Value::Integer(i));
        }
        if let Some(r) = &self.value_range {
            return Some(Value::Range(r.clone()));
        }
        if let Some(r) = &self.value_ratio {
            return Some(Value::Ratio(r.clone()));
        }
        if let Some(d) = &self.value_date_time {
            return Some(Value::DateTime(d.clone()));
        }
        self.value_period.clone().map(Value::Period)
    }
}

/// LOINC "Patient Note": the type of the DocumentReference that holds a patient's own note (on
/// an item, its `context.related` points at the item). phr-record writes it; phr-views reads it.
pub const PATIENT_NOTE_LOINC: &str = "51855-5";

/// Well-known code systems.
pub mod systems {
    pub const LOINC: &str = "http://loinc.org";
    pub const SNOMED: &str = "http://snomed.info/sct";
    pub const RXNORM: &str = "http://www.nlm.nih.gov/research/umls/rxnorm";
    pub const CVX: &str = "http://hl7.org/fhir/sid/cvx";
    pub const ICD10CM: &str = "http://hl7.org/fhir/sid/icd-10-cm";
    pub const UCUM: &str = "http://unitsofmeasure.org";
    pub const OBSERVATION_CATEGORY: &str =
        "http://terminology.hl7.org/CodeSystem/observation-category";
    pub const CONDITION_CLINICAL: &str = "http://terminology.hl7.org/CodeSystem/condition-clinical";
    pub const CONDITION_CATEGORY: &str = "http://terminology.hl7.org/CodeSystem/condition-category";
    pub const ALLERGY_CLINICAL: &str =
        "http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical";
    /// v3 ActCode: sensitivity codes such as ETH, PSY, HIV, SDV, SEX, PSYTHPN.
    pub const ACT_CODE: &str = "http://terminology.hl7.org/CodeSystem/v3-ActCode";
    /// v3 Confidentiality: N, R, V.
    pub const CONFIDENTIALITY: &str = "http://terminology.hl7.org/CodeSystem/v3-Confidentiality";
    /// v3 ObservationValue: PATAST (patient asserted) and other integrity labels.
    pub const OBSERVATION_VALUE: &str = "http://terminology.hl7.org/CodeSystem/v3-ObservationValue";
    pub const PROVENANCE_PARTICIPANT_TYPE: &str =
        "http://terminology.hl7.org/CodeSystem/provenance-participant-type";
}

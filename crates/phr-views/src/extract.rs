//! Reading one resource into a draft item (owned, before interning). One parse per resource:
//! a lean borrowed reading ([`crate::json`]) for known types, a lenient generic reading otherwise
//! or when the typed reading fails (the item then carries a "could not read" note).
//!
//! Each type's reading declares only the elements used here; the parser skips everything else
//! (narratives, identifiers, extensions, base64 content) without building it.

use std::borrow::Cow;

use phr_fhir::Resource;
use serde::Deserialize;
use serde_json::Value as Json;

use crate::codes;
use crate::index::{
    Activity, AttachmentInfo, Category, ContactData, Interp, F_ERROR, F_GONE, F_HIDDEN, F_PARTIAL,
    F_PATIENT, F_UNREADABLE,
};
use crate::input::{SourceKind, ViewItem};
use crate::json::{
    cow, end, opt, start, trim_cow, Annotation, Attachment, CodeableConcept, Coding, ContactPoint,
    Dosage, HumanName, Identifier, Meta, Period, Quantity, Range, Ratio, Reference, Str, Value,
};
use crate::text::{capitalise, truncate_chars};
use crate::time::When;

/// Text of a draft: borrowed from the resource's text when it can be (most of it).
pub(crate) type Text<'a> = Cow<'a, str>;

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub(crate) struct DraftCode<'a> {
    pub(crate) system: Text<'a>,
    pub(crate) code: Text<'a>,
    pub(crate) display: Option<Text<'a>>,
}

#[derive(Clone, Debug)]
pub(crate) struct DraftQty<'a> {
    pub(crate) value: f64,
    pub(crate) text: Text<'a>,
    pub(crate) unit: Text<'a>,
    pub(crate) label: Text<'a>,
    pub(crate) comparator: Text<'a>,
}

#[derive(Clone, Debug)]
pub(crate) struct DraftComponent<'a> {
    pub(crate) code: DraftCode<'a>,
    pub(crate) title: String,
    pub(crate) value: Option<DraftQty<'a>>,
    pub(crate) text: String,
}

type DraftRange<'a> = (Option<DraftQty<'a>>, Option<DraftQty<'a>>, Text<'a>);

// Drafts live only while the index is built, one at a time per resource: size does not matter.
#[allow(clippy::large_enum_variant)]
#[derive(Clone, Debug)]
pub(crate) enum DraftExtra<'a> {
    None,
    Obs {
        value: Option<DraftQty<'a>>,
        range: Option<DraftRange<'a>>,
        interp: Interp,
        components: Vec<DraftComponent<'a>>,
    },
    Med {
        ingredients: Vec<DraftCode<'a>>,
        end: Option<When>,
    },
    Allergy {
        criticality: Option<String>,
        substances: Vec<DraftCode<'a>>,
    },
    Ended {
        end: Option<When>,
    },
    Goal {
        due: Option<When>,
        target: String,
    },
    Patient {
        name: String,
        birth_date: Option<String>,
        contacts: Vec<ContactData>,
    },
    CareTeam {
        /// (name, role, member reference)
        participants: Vec<(String, String, Option<String>)>,
    },
    Practitioner {
        qualification: String,
        npi: Option<String>,
    },
    Document {
        attachments: Vec<AttachmentInfo>,
        /// `context.related` references (a patient note points at the item it is about).
        related: Vec<String>,
    },
}

pub(crate) struct Draft<'a> {
    pub(crate) key: &'a str,
    pub(crate) source: u16,
    pub(crate) rtype: &'a str,
    pub(crate) rid: Option<&'a str>,
    pub(crate) category: Category,
    pub(crate) activity: Activity,
    pub(crate) flags: u8,
    pub(crate) title: Text<'a>,
    pub(crate) title_is_fallback: bool,
    pub(crate) codes: Vec<DraftCode<'a>>,
    pub(crate) detail: String,
    pub(crate) status: Text<'a>,
    pub(crate) date: Option<When>,
    pub(crate) search: String,
    pub(crate) extra: DraftExtra<'a>,
    pub(crate) med_ref: Option<String>,
}

type Res = Result<(), serde_json::Error>;

/// Reads a lean typed view straight from the resource's text.
fn view<'a, T: Deserialize<'a>>(r: &'a Resource) -> Result<T, serde_json::Error> {
    serde_json::from_str(r.raw())
}

/// An optional string element as an owned string (empty when absent).
fn owned(s: &Option<Str<'_>>) -> String {
    opt(s).unwrap_or("").to_string()
}

/// Reads one entry. Never fails.
pub(crate) fn extract<'a>(vi: &ViewItem<'a>, source: u16) -> Draft<'a> {
    let r = vi.resource;
    let mut flags = 0;
    if vi.source.kind == SourceKind::Patient {
        flags |= F_PATIENT;
    }
    if vi.hidden {
        flags |= F_HIDDEN;
    }
    if vi.gone_at_source {
        flags |= F_GONE;
    }
    let mut d = Draft {
        key: vi.key,
        source,
        rtype: r.resource_type(),
        rid: r.id(),
        category: category_for_type(r.resource_type()),
        activity: Activity::Unknown,
        flags,
        title: Cow::Borrowed(""),
        title_is_fallback: false,
        codes: Vec::new(),
        detail: String::new(),
        status: Cow::Borrowed(""),
        date: None,
        search: String::new(),
        extra: DraftExtra::None,
        med_ref: None,
    };
    let typed: Res = match r.resource_type() {
        "Observation" => observation(r, &mut d),
        "Condition" => condition(r, &mut d),
        "AllergyIntolerance" => allergy(r, &mut d),
        "MedicationRequest" | "MedicationStatement" => med_order(r, &mut d),
        "MedicationAdministration" => med_admin(r, &mut d),
        "Medication" => medication(r, &mut d),
        "Immunization" => immunization(r, &mut d),
        "Procedure" => procedure(r, &mut d),
        "Encounter" => encounter(r, &mut d),
        "DiagnosticReport" => diagnostic_report(r, &mut d),
        "DocumentReference" => document_reference(r, &mut d),
        "Goal" => goal(r, &mut d),
        "CarePlan" => care_plan(r, &mut d),
        "CareTeam" => care_team(r, &mut d),
        "Patient" => patient(r, &mut d),
        "Practitioner" | "RelatedPerson" => person(r, &mut d),
        "Device" => device(r, &mut d),
        _ => {
            generic(r, &mut d);
            Ok(())
        }
    };
    if typed.is_err() {
        // Keep identity and flags; re-read what we can, leniently.
        let keep = d.flags & (F_PATIENT | F_HIDDEN | F_GONE);
        d.flags = keep;
        d.title = Cow::Borrowed("");
        d.title_is_fallback = false;
        d.codes.clear();
        d.detail.clear();
        d.status = Cow::Borrowed("");
        d.date = None;
        d.search.clear();
        d.extra = DraftExtra::None;
        d.med_ref = None;
        d.activity = Activity::Unknown;
        d.category = category_for_type(r.resource_type());
        // A second, lenient parse, only for resources whose typed view failed.
        let found = generic(r, &mut d);
        d.flags |= if found { F_PARTIAL } else { F_UNREADABLE };
    }
    if d.title.trim().is_empty() {
        d.title = type_label(r.resource_type()).into();
        d.title_is_fallback = true;
    }
    d
}

/// The UI category of a resource type (Observations are refined by their category and code).
pub(crate) fn category_for_type(t: &str) -> Category {
    match t {
        "AllergyIntolerance" => Category::Allergy,
        "MedicationRequest" | "MedicationStatement" | "MedicationDispense" => Category::Medication,
        "MedicationAdministration" => Category::DoseLog,
        "Condition" => Category::Problem,
        "Observation" => Category::Observation,
        "Immunization" | "ImmunizationRecommendation" => Category::Immunization,
        "Procedure" => Category::Procedure,
        "Encounter" => Category::Visit,
        "DocumentReference" => Category::Document,
        "DiagnosticReport" => Category::Report,
        "Goal" => Category::Goal,
        "CarePlan" => Category::CarePlan,
        "CareTeam" => Category::CareTeam,
        "Device" => Category::Device,
        "Claim" | "ExplanationOfBenefit" | "Coverage" => Category::Billing,
        "Patient" | "Practitioner" | "PractitionerRole" | "Organization" | "Location"
        | "Medication" | "RelatedPerson" | "Provenance" | "Binary" | "Specimen" => {
            Category::Directory
        }
        _ => Category::Other,
    }
}

/// A readable name for a resource type.
pub(crate) fn type_label(t: &str) -> String {
    match t {
        "AllergyIntolerance" => "Allergy".into(),
        "MedicationRequest" | "MedicationStatement" | "Medication" => "Medication".into(),
        "MedicationAdministration" => "Medication dose".into(),
        "Condition" => "Health problem".into(),
        "Encounter" => "Visit".into(),
        "DocumentReference" => "Document".into(),
        "DiagnosticReport" => "Report".into(),
        "ExplanationOfBenefit" => "Explanation of benefit".into(),
        "Coverage" => "Insurance coverage".into(),
        _ => {
            let mut out = String::new();
            for (i, c) in t.chars().enumerate() {
                if i > 0 && c.is_ascii_uppercase() {
                    out.push(' ');
                    out.push(c.to_ascii_lowercase());
                } else {
                    out.push(c);
                }
            }
            out
        }
    }
}

fn apply_meta(meta: Option<&Meta<'_>>, d: &mut Draft<'_>) {
    if let Some(m) = meta {
        if m.security
            .iter()
            .any(|c| opt(&c.code) == Some(codes::PATAST))
        {
            d.flags |= F_PATIENT;
        }
    }
}

fn draft_codes<'a>(cc: &CodeableConcept<'a>) -> Vec<DraftCode<'a>> {
    cc.coding.iter().filter_map(draft_code).collect()
}

fn draft_code<'a>(c: &Coding<'a>) -> Option<DraftCode<'a>> {
    let code = trim_cow(c.code.as_ref()?.cow());
    if code.is_empty() {
        return None;
    }
    Some(DraftCode {
        system: cow(&c.system),
        code,
        display: c
            .display
            .as_ref()
            .filter(|d| !d.trim().is_empty())
            .map(Str::cow),
    })
}

fn set_concept<'a>(d: &mut Draft<'a>, cc: Option<&CodeableConcept<'a>>) {
    if let Some(cc) = cc {
        if let Some(t) = cc.display_cow() {
            d.title = trim_cow(t);
        }
        d.codes = draft_codes(cc);
    }
}

fn parse_date(s: Option<&str>) -> Option<When> {
    s.and_then(When::parse)
}

fn push_search(d: &mut Draft<'_>, s: &str) {
    let s = s.trim();
    if s.is_empty() {
        return;
    }
    if !d.search.is_empty() {
        d.search.push(' ');
    }
    d.search.push_str(s);
}

fn push_cc_search(d: &mut Draft<'_>, cc: &CodeableConcept<'_>) {
    if let Some(t) = cc.display() {
        push_search(d, t);
    }
    for c in &cc.coding {
        if let Some(code) = opt(&c.code) {
            push_search(d, code);
        }
    }
}

fn join_nonempty(parts: &[&str], sep: &str) -> String {
    let mut out = String::new();
    for p in parts.iter().map(|p| p.trim()).filter(|p| !p.is_empty()) {
        if !out.is_empty() {
            out.push_str(sep);
        }
        out.push_str(p);
    }
    out
}

/// The unit as a patient should read it: a UCUM code the table knows becomes its label
/// (`mm[Hg]` → `mmHg`, `Cel` → `°C`, `[lb_av]` → `lb`); free text stays as written.
pub(crate) fn unit_text<'a>(q: &Quantity<'a>) -> Text<'a> {
    let written = trim_cow(
        q.unit
            .as_ref()
            .or(q.code.as_ref())
            .map_or(Cow::Borrowed(""), Str::cow),
    );
    match ucum_label(&written) {
        Some(l) => Cow::Borrowed(l),
        None => written,
    }
}

fn unit_label(written: &str) -> &str {
    ucum_label(written).unwrap_or(written)
}

/// The patient-facing label of a UCUM code the table knows.
fn ucum_label(written: &str) -> Option<&'static str> {
    // The first match in the table wins, as a linear search would find it.
    static LABELS: std::sync::OnceLock<rustc_hash::FxHashMap<&'static str, &'static str>> =
        std::sync::OnceLock::new();
    let labels = LABELS.get_or_init(|| {
        let mut m = rustc_hash::FxHashMap::default();
        for d in crate::ucum::UNITS {
            m.entry(d.code).or_insert(d.label);
        }
        m
    });
    labels.get(written).copied()
}

/// `< 5 mg/dL`: comparator, digits as written, readable unit.
pub(crate) fn qty_display(q: &Quantity<'_>) -> Option<String> {
    let v = q.value.as_ref()?;
    let mut s = String::new();
    if let Some(c) = opt(&q.comparator) {
        s.push_str(c);
        s.push(' ');
    }
    s.push_str(v.as_str());
    let u = unit_label(opt(&q.unit).or(opt(&q.code)).unwrap_or("").trim());
    if !u.is_empty() {
        s.push(' ');
        s.push_str(u);
    }
    Some(s)
}

pub(crate) fn draft_qty<'a>(q: &Quantity<'a>) -> Option<DraftQty<'a>> {
    let dec = q.value.as_ref()?;
    let value = dec.to_f64()?;
    Some(DraftQty {
        value,
        text: Cow::Borrowed(dec.as_str()),
        unit: trim_cow(q.unit_key_cow()),
        label: unit_text(q),
        comparator: cow(&q.comparator),
    })
}

fn interp_of(list: &[CodeableConcept<'_>]) -> Interp {
    for cc in list {
        for c in &cc.coding {
            let i = match opt(&c.code).unwrap_or("") {
                "N" => Interp::Normal,
                "H" | "HU" | "H>" | ">" => Interp::High,
                "L" | "LU" | "L<" | "<" => Interp::Low,
                "HH" => Interp::CriticalHigh,
                "LL" => Interp::CriticalLow,
                "A" | "AA" => Interp::Abnormal,
                _ => continue,
            };
            return i;
        }
    }
    Interp::None
}

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
struct RefRangeView<'a> {
    #[serde(borrow)]
    low: Option<Quantity<'a>>,
    #[serde(borrow)]
    high: Option<Quantity<'a>>,
    #[serde(borrow)]
    text: Option<Str<'a>>,
    #[serde(rename = "type", borrow)]
    kind: Option<CodeableConcept<'a>>,
}

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
struct ComponentView<'a> {
    #[serde(borrow)]
    code: Option<CodeableConcept<'a>>,
    #[serde(borrow)]
    value_quantity: Option<Quantity<'a>>,
    #[serde(borrow)]
    value_codeable_concept: Option<CodeableConcept<'a>>,
    #[serde(borrow)]
    value_string: Option<Str<'a>>,
    value_boolean: Option<bool>,
    value_integer: Option<i64>,
}

impl<'a> ComponentView<'a> {
    fn value(&self) -> Option<Value<'_, 'a>> {
        if let Some(q) = &self.value_quantity {
            return Some(Value::Quantity(q));
        }
        if let Some(c) = &self.value_codeable_concept {
            return Some(Value::CodeableConcept(c));
        }
        if let Some(s) = &self.value_string {
            return Some(Value::String(s));
        }
        if let Some(b) = self.value_boolean {
            return Some(Value::Boolean(b));
        }
        self.value_integer.map(Value::Integer)
    }
}

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
struct ObservationView<'a> {
    #[serde(borrow)]
    meta: Option<Meta<'a>>,
    #[serde(borrow)]
    status: Option<Str<'a>>,
    #[serde(borrow)]
    category: Vec<CodeableConcept<'a>>,
    #[serde(borrow)]
    code: Option<CodeableConcept<'a>>,
    #[serde(borrow)]
    effective_date_time: Option<Str<'a>>,
    #[serde(borrow)]
    effective_period: Option<Period<'a>>,
    #[serde(borrow)]
    effective_instant: Option<Str<'a>>,
    #[serde(borrow)]
    issued: Option<Str<'a>>,
    #[serde(borrow)]
    value_quantity: Option<Quantity<'a>>,
    #[serde(borrow)]
    value_codeable_concept: Option<CodeableConcept<'a>>,
    #[serde(borrow)]
    value_string: Option<Str<'a>>,
    value_boolean: Option<bool>,
    value_integer: Option<i64>,
    #[serde(borrow)]
    value_range: Option<Range<'a>>,
    #[serde(borrow)]
    value_ratio: Option<Ratio<'a>>,
    #[serde(borrow)]
    value_date_time: Option<Str<'a>>,
    #[serde(borrow)]
    value_period: Option<Period<'a>>,
    #[serde(borrow)]
    data_absent_reason: Option<CodeableConcept<'a>>,
    #[serde(borrow)]
    interpretation: Vec<CodeableConcept<'a>>,
    #[serde(borrow)]
    reference_range: Vec<RefRangeView<'a>>,
    #[serde(borrow)]
    component: Vec<ComponentView<'a>>,
}

impl<'a> ObservationView<'a> {
    fn value(&self) -> Option<Value<'_, 'a>> {
        if let Some(q) = &self.value_quantity {
            return Some(Value::Quantity(q));
        }
        if let Some(c) = &self.value_codeable_concept {
            return Some(Value::CodeableConcept(c));
        }
        if let Some(s) = &self.value_string {
            return Some(Value::String(s));
        }
        if let Some(b) = self.value_boolean {
            return Some(Value::Boolean(b));
        }
        if let Some(i) = self.value_integer {
            return Some(Value::Integer(i));
        }
        if let Some(r) = &self.value_range {
            return Some(Value::Range(r));
        }
        if let Some(r) = &self.value_ratio {
            return Some(Value::Ratio(r));
        }
        if let Some(d) = &self.value_date_time {
            return Some(Value::DateTime(d));
        }
        self.value_period.as_ref().map(Value::Period)
    }

    /// effective[x] (start of a period), else `issued`.
    fn date(&self) -> Option<&str> {
        opt(&self.effective_date_time)
            .or(opt(&self.effective_instant))
            .or_else(|| start(&self.effective_period))
            .or(opt(&self.issued))
    }

    fn has_category(&self, code: &str) -> bool {
        self.category
            .iter()
            .any(|c| c.has(codes::OBSERVATION_CATEGORY, code) || c.has_code(code))
    }
}

fn observation<'a>(r: &'a Resource, d: &mut Draft<'a>) -> Res {
    let o: ObservationView = view(r)?;
    apply_meta(o.meta.as_ref(), d);
    d.status = cow(&o.status);
    if d.status == "entered-in-error" {
        d.flags |= F_ERROR;
    }
    set_concept(d, o.code.as_ref());
    let loinc = o.code.as_ref().and_then(|c| c.code_in(codes::LOINC));
    d.category = if o.has_category("laboratory") {
        Category::LabResult
    } else if o.has_category("vital-signs") || loinc.is_some_and(codes::is_vital_code) {
        Category::VitalSign
    } else {
        Category::Observation
    };
    d.date = parse_date(o.date());
    let mut value = None;
    match o.value() {
        Some(Value::Quantity(q)) => {
            value = draft_qty(q);
            d.detail = qty_display(q).unwrap_or_default();
        }
        Some(Value::CodeableConcept(cc)) => {
            d.detail = cc.display().unwrap_or("").to_string();
            push_cc_search(d, cc);
        }
        Some(v) => d.detail = v.display().unwrap_or_default(),
        None => {
            if let Some(reason) = o.data_absent_reason.as_ref().and_then(|c| c.display()) {
                d.detail = format!("No value ({reason})");
            }
        }
    }
    let mut components = Vec::with_capacity(o.component.len());
    for c in &o.component {
        let code = c
            .code
            .as_ref()
            .and_then(|cc| {
                cc.coding
                    .iter()
                    .filter(|x| opt(&x.system) == Some(codes::LOINC))
                    .chain(cc.coding.iter())
                    .find_map(draft_code)
            })
            .unwrap_or(DraftCode {
                system: Cow::Borrowed(""),
                code: Cow::Borrowed(""),
                display: None,
            });
        let title = c
            .code
            .as_ref()
            .and_then(|cc| cc.display())
            .unwrap_or("")
            .to_string();
        push_search(d, &title);
        push_search(d, &code.code);
        let v = c.value();
        components.push(DraftComponent {
            code,
            title,
            value: match v {
                Some(Value::Quantity(q)) => draft_qty(q),
                _ => None,
            },
            text: match v {
                Some(Value::Quantity(q)) => qty_display(q).unwrap_or_default(),
                Some(other) => other.display().unwrap_or_default(),
                None => String::new(),
            },
        });
    }
    if d.detail.is_empty() && !components.is_empty() {
        let sys = components.iter().find(|c| c.code.code == codes::SYSTOLIC);
        let dia = components.iter().find(|c| c.code.code == codes::DIASTOLIC);
        d.detail = match (
            sys.and_then(|c| c.value.as_ref()),
            dia.and_then(|c| c.value.as_ref()),
        ) {
            (Some(s), Some(di)) => format!("{}/{} {}", s.text, di.text, s.label)
                .trim()
                .to_string(),
            _ => components
                .iter()
                .filter(|c| !c.text.is_empty())
                .map(|c| join_nonempty(&[&c.title, &c.text], " "))
                .collect::<Vec<_>>()
                .join("; "),
        };
    }
    for i in &o.interpretation {
        if let Some(t) = i.display() {
            push_search(d, t);
        }
    }
    let range = o
        .reference_range
        .iter()
        .find(|rr| {
            rr.kind
                .as_ref()
                .is_none_or(|k| k.has_code("normal") || k.coding.is_empty())
        })
        .map(|rr| {
            (
                rr.low.as_ref().and_then(draft_qty),
                rr.high.as_ref().and_then(draft_qty),
                cow(&rr.text),
            )
        });
    d.extra = DraftExtra::Obs {
        value,
        range,
        interp: interp_of(&o.interpretation),
        components,
    };
    Ok(())
}

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
struct ConditionView<'a> {
    #[serde(borrow)]
    meta: Option<Meta<'a>>,
    #[serde(borrow)]
    clinical_status: Option<CodeableConcept<'a>>,
    #[serde(borrow)]
    verification_status: Option<CodeableConcept<'a>>,
    #[serde(borrow)]
    category: Vec<CodeableConcept<'a>>,
    #[serde(borrow)]
    severity: Option<CodeableConcept<'a>>,
    #[serde(borrow)]
    code: Option<CodeableConcept<'a>>,
    #[serde(borrow)]
    onset_date_time: Option<Str<'a>>,
    #[serde(borrow)]
    onset_period: Option<Period<'a>>,
    #[serde(borrow)]
    abatement_date_time: Option<Str<'a>>,
    #[serde(borrow)]
    abatement_string: Option<Str<'a>>,
    #[serde(borrow)]
    recorded_date: Option<Str<'a>>,
}

impl<'a> ConditionView<'a> {
    fn date(&self) -> Option<&str> {
        opt(&self.onset_date_time)
            .or_else(|| start(&self.onset_period))
            .or(opt(&self.recorded_date))
    }

    fn clinical_status_code(&self) -> Option<&str> {
        self.clinical_status
            .as_ref()
            .and_then(|c| c.coding.iter().find_map(|c| opt(&c.code)))
    }

    fn clinical_status_code_cow(&self) -> Text<'a> {
        self.clinical_status
            .as_ref()
            .and_then(|c| c.coding.iter().find_map(|c| c.code.as_ref()))
            .map_or(Cow::Borrowed(""), Str::cow)
    }

    /// Active unless a status says otherwise, or an abatement date exists.
    fn is_active(&self) -> bool {
        match self.clinical_status_code() {
            Some(s) => matches!(s, "active" | "recurrence" | "relapse"),
            None => self.abatement_date_time.is_none() && self.abatement_string.is_none(),
        }
    }

    fn is_entered_in_error(&self) -> bool {
        self.verification_status
            .as_ref()
            .is_some_and(|v| v.has_code("entered-in-error"))
    }
}

fn condition<'a>(r: &'a Resource, d: &mut Draft<'a>) -> Res {
    let c: ConditionView = view(r)?;
    apply_meta(c.meta.as_ref(), d);
    set_concept(d, c.code.as_ref());
    if c.is_entered_in_error() {
        d.flags |= F_ERROR;
    }
    d.activity = if c.is_active() {
        Activity::Active
    } else {
        Activity::Ended
    };
    d.status = c.clinical_status_code_cow();
    d.date = parse_date(c.date());
    let status_label = match &*d.status {
        "" => {
            if d.activity == Activity::Active {
                String::new()
            } else {
                "Resolved".into()
            }
        }
        s => capitalise(s),
    };
    let severity = c.severity.as_ref().and_then(|s| s.display()).unwrap_or("");
    d.detail = join_nonempty(&[&status_label, severity], ", ");
    for cat in &c.category {
        if let Some(t) = cat.display() {
            push_search(d, t);
        }
    }
    d.extra = DraftExtra::Ended {
        end: parse_date(opt(&c.abatement_date_time)),
    };
    Ok(())
}

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
struct AllergyReaction<'a> {
    #[serde(borrow)]
    substance: Option<CodeableConcept<'a>>,
    #[serde(borrow)]
    manifestation: Vec<CodeableConcept<'a>>,
}

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
struct AllergyView<'a> {
    #[serde(borrow)]
    meta: Option<Meta<'a>>,
    #[serde(borrow)]
    clinical_status: Option<CodeableConcept<'a>>,
    #[serde(borrow)]
    verification_status: Option<CodeableConcept<'a>>,
    /// food | medication | environment | biologic (codes, not CodeableConcepts).
    #[serde(borrow)]
    category: Vec<Str<'a>>,
    #[serde(borrow)]
    criticality: Option<Str<'a>>,
    #[serde(borrow)]
    code: Option<CodeableConcept<'a>>,
    #[serde(borrow)]
    onset_date_time: Option<Str<'a>>,
    #[serde(borrow)]
    recorded_date: Option<Str<'a>>,
    #[serde(borrow)]
    reaction: Vec<AllergyReaction<'a>>,
}

impl AllergyView<'_> {
    fn is_active(&self) -> bool {
        let refuted = self
            .verification_status
            .as_ref()
            .is_some_and(|v| v.has_code("refuted") || v.has_code("entered-in-error"));
        let inactive = self
            .clinical_status
            .as_ref()
            .is_some_and(|c| c.has_code("inactive") || c.has_code("resolved"));
        !refuted && !inactive
    }

    fn date(&self) -> Option<&str> {
        opt(&self.onset_date_time).or(opt(&self.recorded_date))
    }
}

fn allergy<'a>(r: &'a Resource, d: &mut Draft<'a>) -> Res {
    let a: AllergyView = view(r)?;
    apply_meta(a.meta.as_ref(), d);
    set_concept(d, a.code.as_ref());
    if a.verification_status
        .as_ref()
        .is_some_and(|v| v.has_code("entered-in-error"))
    {
        d.flags |= F_ERROR;
    }
    d.activity = if a.is_active() {
        Activity::Active
    } else {
        Activity::Ended
    };
    d.status = a
        .clinical_status
        .as_ref()
        .and_then(|c| c.coding.iter().find_map(|x| x.code.as_ref()))
        .map_or(Cow::Borrowed(""), Str::cow);
    d.date = parse_date(a.date());
    let mut reactions: Vec<&str> = Vec::new();
    let mut substances = Vec::new();
    for re in &a.reaction {
        for m in &re.manifestation {
            if let Some(t) = m.display() {
                if !reactions.iter().any(|x| x.eq_ignore_ascii_case(t)) {
                    reactions.push(t);
                }
            }
        }
        if let Some(s) = &re.substance {
            substances.extend(draft_codes(s));
            push_cc_search(d, s);
        }
    }
    let crit = opt(&a.criticality).map(str::to_string);
    let crit_text = match crit.as_deref() {
        Some("high") => "high criticality",
        Some("low") => "low criticality",
        Some("unable-to-assess") => "criticality not assessed",
        _ => "",
    };
    d.detail = join_nonempty(&[&reactions.join(", "), crit_text], "; ");
    for c in &a.category {
        push_search(d, c);
    }
    d.extra = DraftExtra::Allergy {
        criticality: crit,
        substances,
    };
    Ok(())
}

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
struct ContainedMed<'a> {
    #[serde(borrow)]
    resource_type: Str<'a>,
    #[serde(borrow)]
    id: Option<Str<'a>>,
    #[serde(borrow)]
    code: Option<CodeableConcept<'a>>,
    #[serde(borrow)]
    ingredient: Vec<MedIngredient<'a>>,
}

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
struct MedIngredient<'a> {
    #[serde(borrow)]
    item_codeable_concept: Option<CodeableConcept<'a>>,
}

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
struct MedOrder<'a> {
    #[serde(borrow)]
    meta: Option<Meta<'a>>,
    #[serde(borrow)]
    status: Option<Str<'a>>,
    #[serde(borrow)]
    medication_codeable_concept: Option<CodeableConcept<'a>>,
    #[serde(borrow)]
    medication_reference: Option<Reference<'a>>,
    #[serde(borrow)]
    authored_on: Option<Str<'a>>,
    #[serde(borrow)]
    effective_date_time: Option<Str<'a>>,
    #[serde(borrow)]
    effective_period: Option<Period<'a>>,
    #[serde(borrow)]
    date_asserted: Option<Str<'a>>,
    #[serde(borrow)]
    dosage_instruction: Vec<Dosage<'a>>,
    #[serde(borrow)]
    dosage: Vec<Dosage<'a>>,
    #[serde(borrow)]
    contained: Vec<ContainedMed<'a>>,
    #[serde(borrow)]
    reason_code: Vec<CodeableConcept<'a>>,
    #[serde(borrow)]
    note: Vec<Annotation<'a>>,
}

fn ingredient_codes<'a>(list: &[MedIngredient<'a>]) -> Vec<DraftCode<'a>> {
    list.iter()
        .filter_map(|i| i.item_codeable_concept.as_ref())
        .flat_map(draft_codes)
        .collect()
}

/// The medication concept of an order: inline, contained (`#id`), or left for reference
/// resolution. Returns ingredient codes found.
fn med_concept<'a>(
    d: &mut Draft<'a>,
    cc: Option<&CodeableConcept<'a>>,
    reference: Option<&Reference<'a>>,
    contained: &[ContainedMed<'a>],
) -> Vec<DraftCode<'a>> {
    let mut ingredients = Vec::new();
    if cc.is_some() {
        set_concept(d, cc);
    } else if let Some(rf) = reference {
        let target = opt(&rf.reference).unwrap_or("");
        if let Some(local) = target.strip_prefix('#') {
            if let Some(m) = contained
                .iter()
                .find(|m| &*m.resource_type == "Medication" && opt(&m.id) == Some(local))
            {
                set_concept(d, m.code.as_ref());
                ingredients = ingredient_codes(&m.ingredient);
            }
        } else if !target.is_empty() {
            d.med_ref = Some(target.to_string());
        }
        if d.title.is_empty() {
            if let Some(t) = opt(&rf.display).filter(|t| !t.trim().is_empty()) {
                d.title = t.trim().to_string().into();
            } else {
                d.title_is_fallback = true;
            }
        }
    }
    ingredients
}

fn med_order<'a>(r: &'a Resource, d: &mut Draft<'a>) -> Res {
    let m: MedOrder = view(r)?;
    apply_meta(m.meta.as_ref(), d);
    let ingredients = med_concept(
        d,
        m.medication_codeable_concept.as_ref(),
        m.medication_reference.as_ref(),
        &m.contained,
    );
    let status = cow(&m.status);
    let is_request = r.resource_type() == "MedicationRequest";
    d.activity = match &*status {
        "active" => Activity::Active,
        "on-hold" => Activity::Paused,
        "intended" | "draft" => Activity::Planned,
        "completed" | "stopped" | "cancelled" | "ended" | "not-taken" => Activity::Ended,
        _ => Activity::Unknown,
    };
    if status == "entered-in-error" {
        d.flags |= F_ERROR;
    }
    d.status = status;
    d.date = if is_request {
        parse_date(opt(&m.authored_on))
    } else {
        parse_date(
            opt(&m.effective_date_time)
                .or(start(&m.effective_period))
                .or(opt(&m.date_asserted)),
        )
    };
    let dosages = if is_request {
        &m.dosage_instruction
    } else {
        &m.dosage
    };
    d.detail = dosages
        .iter()
        .filter_map(|x| opt(&x.text))
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .collect::<Vec<_>>()
        .join("; ");
    if d.detail.is_empty() {
        if let Some(q) = dosages
            .iter()
            .flat_map(|x| x.dose_and_rate.iter())
            .find_map(|x| x.dose_quantity.as_ref())
            .and_then(qty_display)
        {
            d.detail = q;
        }
    }
    for rc in &m.reason_code {
        if let Some(t) = rc.display() {
            push_search(d, t);
        }
    }
    for n in &m.note {
        if let Some(t) = opt(&n.text) {
            push_search(d, &truncate_chars(t, 200));
        }
    }
    let end = end(&m.effective_period).or_else(|| {
        dosages
            .iter()
            .filter_map(|x| x.timing.as_ref()?.repeat.as_ref()?.bounds_period.as_ref())
            .find_map(|p| opt(&p.end))
    });
    d.extra = DraftExtra::Med {
        ingredients,
        end: parse_date(end),
    };
    Ok(())
}

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
struct MedAdmin<'a> {
    #[serde(borrow)]
    meta: Option<Meta<'a>>,
    #[serde(borrow)]
    status: Option<Str<'a>>,
    #[serde(borrow)]
    status_reason: Vec<CodeableConcept<'a>>,
    #[serde(borrow)]
    medication_codeable_concept: Option<CodeableConcept<'a>>,
    #[serde(borrow)]
    medication_reference: Option<Reference<'a>>,
    #[serde(borrow)]
    effective_date_time: Option<Str<'a>>,
    #[serde(borrow)]
    effective_period: Option<Period<'a>>,
    #[serde(borrow)]
    contained: Vec<ContainedMed<'a>>,
}

fn med_admin<'a>(r: &'a Resource, d: &mut Draft<'a>) -> Res {
    let m: MedAdmin = view(r)?;
    apply_meta(m.meta.as_ref(), d);
    med_concept(
        d,
        m.medication_codeable_concept.as_ref(),
        m.medication_reference.as_ref(),
        &m.contained,
    );
    let status = cow(&m.status);
    if status == "entered-in-error" {
        d.flags |= F_ERROR;
    }
    let reason = m
        .status_reason
        .iter()
        .find_map(|c| c.display())
        .unwrap_or("");
    d.detail = match &*status {
        "completed" => "Taken".into(),
        "not-done" => join_nonempty(&["Skipped", reason], ": "),
        s => capitalise(s),
    };
    d.status = status;
    d.date = parse_date(opt(&m.effective_date_time).or(start(&m.effective_period)));
    Ok(())
}

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
struct MedicationView<'a> {
    #[serde(borrow)]
    meta: Option<Meta<'a>>,
    #[serde(borrow)]
    code: Option<CodeableConcept<'a>>,
    #[serde(borrow)]
    ingredient: Vec<MedIngredient<'a>>,
}

fn medication<'a>(r: &'a Resource, d: &mut Draft<'a>) -> Res {
    let m: MedicationView = view(r)?;
    apply_meta(m.meta.as_ref(), d);
    set_concept(d, m.code.as_ref());
    d.extra = DraftExtra::Med {
        ingredients: ingredient_codes(&m.ingredient),
        end: None,
    };
    Ok(())
}

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
struct ImmunizationView<'a> {
    #[serde(borrow)]
    meta: Option<Meta<'a>>,
    #[serde(borrow)]
    status: Option<Str<'a>>,
    #[serde(borrow)]
    vaccine_code: Option<CodeableConcept<'a>>,
    #[serde(borrow)]
    occurrence_date_time: Option<Str<'a>>,
    #[serde(borrow)]
    occurrence_string: Option<Str<'a>>,
    #[serde(borrow)]
    lot_number: Option<Str<'a>>,
}

fn immunization<'a>(r: &'a Resource, d: &mut Draft<'a>) -> Res {
    let i: ImmunizationView = view(r)?;
    apply_meta(i.meta.as_ref(), d);
    set_concept(d, i.vaccine_code.as_ref());
    let status = cow(&i.status);
    if status == "entered-in-error" {
        d.flags |= F_ERROR;
    }
    d.detail = if status == "not-done" {
        "Not given".into()
    } else {
        opt(&i.lot_number)
            .map(|l| format!("Lot {l}"))
            .unwrap_or_default()
    };
    d.status = status;
    d.date = parse_date(opt(&i.occurrence_date_time).or(opt(&i.occurrence_string)));
    Ok(())
}

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
struct ProcedureView<'a> {
    #[serde(borrow)]
    meta: Option<Meta<'a>>,
    #[serde(borrow)]
    status: Option<Str<'a>>,
    #[serde(borrow)]
    code: Option<CodeableConcept<'a>>,
    #[serde(borrow)]
    performed_date_time: Option<Str<'a>>,
    #[serde(borrow)]
    performed_period: Option<Period<'a>>,
    #[serde(borrow)]
    reason_code: Vec<CodeableConcept<'a>>,
}

fn procedure<'a>(r: &'a Resource, d: &mut Draft<'a>) -> Res {
    let p: ProcedureView = view(r)?;
    apply_meta(p.meta.as_ref(), d);
    set_concept(d, p.code.as_ref());
    let status = cow(&p.status);
    if status == "entered-in-error" {
        d.flags |= F_ERROR;
    }
    let reasons: Vec<&str> = p.reason_code.iter().filter_map(|c| c.display()).collect();
    d.detail = reasons.join(", ");
    d.status = status;
    d.date = parse_date(opt(&p.performed_date_time).or_else(|| start(&p.performed_period)));
    d.extra = DraftExtra::Ended {
        end: parse_date(end(&p.performed_period)),
    };
    Ok(())
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct EncounterParticipant<'a> {
    #[serde(borrow)]
    individual: Option<Reference<'a>>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct EncounterLocation<'a> {
    #[serde(borrow)]
    location: Option<Reference<'a>>,
}

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
struct EncounterView<'a> {
    #[serde(borrow)]
    meta: Option<Meta<'a>>,
    #[serde(borrow)]
    status: Option<Str<'a>>,
    #[serde(borrow)]
    class: Option<Coding<'a>>,
    #[serde(rename = "type", borrow)]
    kind: Vec<CodeableConcept<'a>>,
    #[serde(borrow)]
    service_type: Option<CodeableConcept<'a>>,
    #[serde(borrow)]
    participant: Vec<EncounterParticipant<'a>>,
    #[serde(borrow)]
    period: Option<Period<'a>>,
    #[serde(borrow)]
    reason_code: Vec<CodeableConcept<'a>>,
    #[serde(borrow)]
    location: Vec<EncounterLocation<'a>>,
    #[serde(borrow)]
    service_provider: Option<Reference<'a>>,
}

fn encounter<'a>(r: &'a Resource, d: &mut Draft<'a>) -> Res {
    let e: EncounterView = view(r)?;
    apply_meta(e.meta.as_ref(), d);
    if let Some(t) = e.kind.first() {
        set_concept(d, Some(t));
        for more in &e.kind[1..] {
            d.codes.extend(draft_codes(more));
        }
    }
    if d.title.is_empty() {
        if let Some(t) = e.service_type.as_ref().and_then(|s| s.display()) {
            d.title = t.to_string().into();
        }
    }
    if let Some(class) = &e.class {
        let label = match opt(&class.code).unwrap_or("") {
            "AMB" => "Outpatient visit",
            "EMER" => "Emergency visit",
            "IMP" | "ACUTE" | "NONAC" => "Hospital stay",
            "VR" => "Virtual visit",
            "HH" => "Home visit",
            "OBSENC" => "Observation stay",
            _ => "",
        };
        let label = opt(&class.display)
            .filter(|_| label.is_empty())
            .unwrap_or(label);
        if d.title.is_empty() && !label.is_empty() {
            d.title = label.to_string().into();
        }
        if d.codes.is_empty() {
            d.codes.extend(draft_code(class));
        }
        push_search(d, label);
    }
    let status = cow(&e.status);
    if status == "entered-in-error" {
        d.flags |= F_ERROR;
    }
    d.status = status;
    let reasons: Vec<&str> = e.reason_code.iter().filter_map(|c| c.display()).collect();
    let provider = e
        .service_provider
        .as_ref()
        .and_then(|p| opt(&p.display))
        .unwrap_or("");
    d.detail = join_nonempty(&[&reasons.join(", "), provider], " · ");
    for p in &e.participant {
        if let Some(n) = p.individual.as_ref().and_then(|i| opt(&i.display)) {
            push_search(d, n);
        }
    }
    for l in &e.location {
        if let Some(n) = l.location.as_ref().and_then(|i| opt(&i.display)) {
            push_search(d, n);
        }
    }
    d.date = parse_date(start(&e.period));
    d.extra = DraftExtra::Ended {
        end: parse_date(end(&e.period)),
    };
    Ok(())
}

/// The text of a short `text/plain` attachment carried in the resource.
fn small_plain_text(a: &Attachment<'_>) -> Option<String> {
    let kind = opt(&a.content_type)?;
    if !kind
        .trim_start()
        .to_ascii_lowercase()
        .starts_with("text/plain")
    {
        return None;
    }
    let data = a.data?.small?;
    use base64::Engine as _;
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(data)
        .ok()?;
    String::from_utf8(bytes).ok()
}

fn attachment_info(a: &Attachment<'_>) -> AttachmentInfo {
    AttachmentInfo {
        content_type: opt(&a.content_type).map(str::to_string),
        title: opt(&a.title).map(str::to_string),
        has_data: a.data.is_some_and(|x| x.present),
        url: opt(&a.url).map(str::to_string),
        size: a.size,
    }
}

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
struct DiagnosticReportView<'a> {
    #[serde(borrow)]
    meta: Option<Meta<'a>>,
    #[serde(borrow)]
    status: Option<Str<'a>>,
    #[serde(borrow)]
    category: Vec<CodeableConcept<'a>>,
    #[serde(borrow)]
    code: Option<CodeableConcept<'a>>,
    #[serde(borrow)]
    effective_date_time: Option<Str<'a>>,
    #[serde(borrow)]
    effective_period: Option<Period<'a>>,
    #[serde(borrow)]
    issued: Option<Str<'a>>,
    #[serde(borrow)]
    conclusion: Option<Str<'a>>,
    #[serde(borrow)]
    presented_form: Vec<Attachment<'a>>,
}

fn diagnostic_report<'a>(r: &'a Resource, d: &mut Draft<'a>) -> Res {
    let x: DiagnosticReportView = view(r)?;
    apply_meta(x.meta.as_ref(), d);
    set_concept(d, x.code.as_ref());
    let status = cow(&x.status);
    if status == "entered-in-error" {
        d.flags |= F_ERROR;
    }
    d.status = status;
    d.date = parse_date(
        opt(&x.effective_date_time)
            .or_else(|| start(&x.effective_period))
            .or(opt(&x.issued)),
    );
    if let Some(c) = opt(&x.conclusion) {
        d.detail = truncate_chars(c.trim(), 120);
        push_search(d, &truncate_chars(c, 400));
    }
    for c in &x.category {
        if let Some(t) = c.display() {
            push_search(d, t);
        }
    }
    if !x.presented_form.is_empty() {
        d.extra = DraftExtra::Document {
            attachments: x.presented_form.iter().map(attachment_info).collect(),
            related: Vec::new(),
        };
    }
    Ok(())
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct DocumentContent<'a> {
    #[serde(borrow)]
    attachment: Option<Attachment<'a>>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct DocumentContext<'a> {
    #[serde(borrow)]
    period: Option<Period<'a>>,
    #[serde(borrow)]
    related: Vec<Reference<'a>>,
}

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
struct DocumentReferenceView<'a> {
    #[serde(borrow)]
    meta: Option<Meta<'a>>,
    #[serde(borrow)]
    status: Option<Str<'a>>,
    #[serde(borrow)]
    doc_status: Option<Str<'a>>,
    #[serde(rename = "type", borrow)]
    kind: Option<CodeableConcept<'a>>,
    #[serde(borrow)]
    category: Vec<CodeableConcept<'a>>,
    #[serde(borrow)]
    date: Option<Str<'a>>,
    #[serde(borrow)]
    author: Vec<Reference<'a>>,
    #[serde(borrow)]
    description: Option<Str<'a>>,
    #[serde(borrow)]
    content: Vec<DocumentContent<'a>>,
    #[serde(borrow)]
    context: Option<DocumentContext<'a>>,
}

fn document_reference<'a>(r: &'a Resource, d: &mut Draft<'a>) -> Res {
    let x: DocumentReferenceView = view(r)?;
    apply_meta(x.meta.as_ref(), d);
    set_concept(d, x.kind.as_ref());
    let first_title = x
        .content
        .iter()
        .find_map(|c| opt(&c.attachment.as_ref()?.title));
    if d.title.is_empty() {
        d.title = opt(&x.description)
            .or(first_title)
            .unwrap_or("")
            .to_string()
            .into();
    }
    let status = cow(&x.status);
    if status == "entered-in-error" {
        d.flags |= F_ERROR;
    }
    d.status = x.doc_status.as_ref().map_or(status, Str::cow);
    d.date = parse_date(
        opt(&x.date)
            .or(x.context.as_ref().and_then(|c| start(&c.period)))
            .or(x
                .content
                .iter()
                .find_map(|c| opt(&c.attachment.as_ref()?.creation))),
    );
    let category = x.category.iter().find_map(|c| c.display()).unwrap_or("");
    let desc = opt(&x.description).filter(|t| *t != d.title).unwrap_or("");
    d.detail = join_nonempty(&[desc, category], " · ");
    if let Some(t) = first_title.filter(|t| *t != d.title) {
        push_search(d, t);
    }
    for a in &x.author {
        if let Some(n) = opt(&a.display) {
            push_search(d, n);
        }
    }
    // The patient's own notes are searchable by their words. (Providers' documents are not
    // decoded: a record holds hundreds of clinical notes, and the index stays compact.)
    if x.kind
        .as_ref()
        .is_some_and(|k| k.has(codes::LOINC, crate::lists::PATIENT_NOTE_LOINC))
    {
        for a in x.content.iter().filter_map(|c| c.attachment.as_ref()) {
            if let Some(text) = small_plain_text(a) {
                push_search(d, &text);
            }
        }
    }
    d.extra = DraftExtra::Document {
        attachments: x
            .content
            .iter()
            .filter_map(|c| c.attachment.as_ref())
            .map(attachment_info)
            .collect(),
        related: x
            .context
            .as_ref()
            .map(|c| {
                c.related
                    .iter()
                    .filter_map(|r| opt(&r.reference).map(str::to_string))
                    .collect()
            })
            .unwrap_or_default(),
    };
    Ok(())
}

fn quantity_text(q: &Quantity<'_>) -> String {
    qty_display(q).unwrap_or_default()
}

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
struct GoalTarget<'a> {
    #[serde(borrow)]
    measure: Option<CodeableConcept<'a>>,
    #[serde(borrow)]
    detail_quantity: Option<Quantity<'a>>,
    #[serde(borrow)]
    detail_range: Option<Range<'a>>,
    #[serde(borrow)]
    detail_codeable_concept: Option<CodeableConcept<'a>>,
    #[serde(borrow)]
    detail_string: Option<Str<'a>>,
    #[serde(borrow)]
    due_date: Option<Str<'a>>,
}

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
struct GoalView<'a> {
    #[serde(borrow)]
    meta: Option<Meta<'a>>,
    #[serde(borrow)]
    lifecycle_status: Option<Str<'a>>,
    #[serde(borrow)]
    description: Option<CodeableConcept<'a>>,
    #[serde(borrow)]
    start_date: Option<Str<'a>>,
    #[serde(borrow)]
    target: Vec<GoalTarget<'a>>,
    #[serde(borrow)]
    status_date: Option<Str<'a>>,
}

fn goal<'a>(r: &'a Resource, d: &mut Draft<'a>) -> Res {
    let g: GoalView = view(r)?;
    apply_meta(g.meta.as_ref(), d);
    set_concept(d, g.description.as_ref());
    let status = cow(&g.lifecycle_status);
    d.activity = match &*status {
        "active" | "accepted" => Activity::Active,
        "proposed" | "planned" => Activity::Planned,
        "on-hold" => Activity::Paused,
        "completed" | "cancelled" | "rejected" => Activity::Ended,
        "entered-in-error" => {
            d.flags |= F_ERROR;
            Activity::Ended
        }
        _ => Activity::Unknown,
    };
    d.status = status;
    d.date = parse_date(opt(&g.start_date).or(opt(&g.status_date)));
    let mut targets = Vec::new();
    let mut due = None;
    for t in &g.target {
        let measure = t.measure.as_ref().and_then(|m| m.display()).unwrap_or("");
        let detail = if let Some(q) = &t.detail_quantity {
            quantity_text(q)
        } else if let Some(rg) = &t.detail_range {
            match (&rg.low, &rg.high) {
                (Some(l), Some(h)) => format!("{} – {}", quantity_text(l), quantity_text(h)),
                (Some(l), None) => format!("at least {}", quantity_text(l)),
                (None, Some(h)) => format!("at most {}", quantity_text(h)),
                (None, None) => String::new(),
            }
        } else if let Some(cc) = &t.detail_codeable_concept {
            cc.display().unwrap_or("").to_string()
        } else {
            owned(&t.detail_string)
        };
        let when = parse_date(opt(&t.due_date));
        if due.is_none() {
            due = when;
        }
        let by = when.map(|w| format!("by {w}")).unwrap_or_default();
        let text = join_nonempty(&[measure, &detail, &by], " ");
        if !text.is_empty() {
            targets.push(text);
        }
        if let Some(m) = &t.measure {
            push_cc_search(d, m);
        }
    }
    d.detail = targets.join("; ");
    d.extra = DraftExtra::Goal {
        due,
        target: d.detail.clone(),
    };
    Ok(())
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct CarePlanActivityDetail<'a> {
    #[serde(borrow)]
    code: Option<CodeableConcept<'a>>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct CarePlanActivity<'a> {
    #[serde(borrow)]
    detail: Option<CarePlanActivityDetail<'a>>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct CarePlanView<'a> {
    #[serde(borrow)]
    meta: Option<Meta<'a>>,
    #[serde(borrow)]
    status: Option<Str<'a>>,
    #[serde(borrow)]
    category: Vec<CodeableConcept<'a>>,
    #[serde(borrow)]
    title: Option<Str<'a>>,
    #[serde(borrow)]
    description: Option<Str<'a>>,
    #[serde(borrow)]
    period: Option<Period<'a>>,
    #[serde(borrow)]
    activity: Vec<CarePlanActivity<'a>>,
}

fn care_plan<'a>(r: &'a Resource, d: &mut Draft<'a>) -> Res {
    let c: CarePlanView = view(r)?;
    apply_meta(c.meta.as_ref(), d);
    let cat = c.category.iter().find(|x| x.display().is_some());
    if let Some(t) = opt(&c.title).filter(|t| !t.trim().is_empty()) {
        d.title = t.to_string().into();
        if let Some(cat) = cat {
            d.codes = draft_codes(cat);
        }
    } else {
        set_concept(d, cat);
    }
    let status = cow(&c.status);
    d.activity = status_activity(&status);
    if status == "entered-in-error" {
        d.flags |= F_ERROR;
    }
    d.status = status;
    d.date = parse_date(start(&c.period));
    d.detail = opt(&c.description)
        .map(|x| truncate_chars(x, 120))
        .unwrap_or_default();
    for a in &c.activity {
        if let Some(t) = a
            .detail
            .as_ref()
            .and_then(|x| x.code.as_ref())
            .and_then(|x| x.display())
        {
            push_search(d, t);
        }
    }
    d.extra = DraftExtra::Ended {
        end: parse_date(end(&c.period)),
    };
    Ok(())
}

fn status_activity(status: &str) -> Activity {
    match status {
        "active" => Activity::Active,
        "on-hold" | "suspended" => Activity::Paused,
        "draft" | "proposed" => Activity::Planned,
        "completed" | "revoked" | "inactive" => Activity::Ended,
        _ => Activity::Unknown,
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct CareTeamParticipant<'a> {
    #[serde(borrow)]
    role: Vec<CodeableConcept<'a>>,
    #[serde(borrow)]
    member: Option<Reference<'a>>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct CareTeamView<'a> {
    #[serde(borrow)]
    meta: Option<Meta<'a>>,
    #[serde(borrow)]
    status: Option<Str<'a>>,
    #[serde(borrow)]
    name: Option<Str<'a>>,
    #[serde(borrow)]
    period: Option<Period<'a>>,
    #[serde(borrow)]
    participant: Vec<CareTeamParticipant<'a>>,
}

fn care_team<'a>(r: &'a Resource, d: &mut Draft<'a>) -> Res {
    let c: CareTeamView = view(r)?;
    apply_meta(c.meta.as_ref(), d);
    if let Some(n) = opt(&c.name) {
        d.title = n.to_string().into();
    }
    let status = cow(&c.status);
    d.activity = status_activity(&status);
    if status == "entered-in-error" {
        d.flags |= F_ERROR;
    }
    d.status = status;
    d.date = parse_date(start(&c.period));
    let mut participants = Vec::new();
    for p in &c.participant {
        let name = p
            .member
            .as_ref()
            .and_then(|m| opt(&m.display))
            .unwrap_or("")
            .to_string();
        let role = p
            .role
            .iter()
            .find_map(|r| r.display())
            .unwrap_or("")
            .to_string();
        push_search(d, &name);
        push_search(d, &role);
        participants.push((
            name,
            role,
            p.member
                .as_ref()
                .and_then(|m| opt(&m.reference))
                .map(str::to_string),
        ));
    }
    d.detail = participants
        .iter()
        .map(|p| p.0.as_str())
        .filter(|n| !n.is_empty())
        .collect::<Vec<_>>()
        .join(", ");
    d.extra = DraftExtra::CareTeam { participants };
    Ok(())
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct PatientContact<'a> {
    #[serde(borrow)]
    relationship: Vec<CodeableConcept<'a>>,
    #[serde(borrow)]
    name: Option<HumanName<'a>>,
    #[serde(borrow)]
    telecom: Vec<ContactPoint<'a>>,
}

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
struct PatientView<'a> {
    #[serde(borrow)]
    meta: Option<Meta<'a>>,
    #[serde(borrow)]
    name: Vec<HumanName<'a>>,
    #[serde(borrow)]
    birth_date: Option<Str<'a>>,
    #[serde(borrow)]
    contact: Vec<PatientContact<'a>>,
}

fn patient<'a>(r: &'a Resource, d: &mut Draft<'a>) -> Res {
    let p: PatientView = view(r)?;
    apply_meta(p.meta.as_ref(), d);
    // The official (or first) name.
    let name = p
        .name
        .iter()
        .find(|n| opt(&n.use_) == Some("official"))
        .or_else(|| p.name.first())
        .map(HumanName::display)
        .unwrap_or_default();
    d.title = name.clone().into();
    let contacts = p
        .contact
        .iter()
        .map(|c| ContactData {
            name: c.name.as_ref().map(HumanName::display).unwrap_or_default(),
            relationship: c
                .relationship
                .iter()
                .find_map(|r| r.display())
                .unwrap_or("")
                .to_string(),
            relationship_codes: c
                .relationship
                .iter()
                .flat_map(|r| r.coding.iter())
                .filter_map(|x| opt(&x.code).map(str::to_string))
                .collect(),
            phone: c
                .telecom
                .iter()
                .find(|t| opt(&t.system).is_none_or(|s| s == "phone" || s == "sms"))
                .and_then(|t| opt(&t.value).map(str::to_string)),
        })
        .collect();
    let birth_date = opt(&p.birth_date).map(str::to_string);
    d.detail = birth_date
        .as_ref()
        .map(|b| format!("Born {b}"))
        .unwrap_or_default();
    d.extra = DraftExtra::Patient {
        name,
        birth_date,
        contacts,
    };
    Ok(())
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct Qualification<'a> {
    #[serde(borrow)]
    code: Option<CodeableConcept<'a>>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct PersonView<'a> {
    #[serde(borrow)]
    meta: Option<Meta<'a>>,
    #[serde(borrow)]
    name: Vec<HumanName<'a>>,
    #[serde(borrow)]
    identifier: Vec<Identifier<'a>>,
    #[serde(borrow)]
    qualification: Vec<Qualification<'a>>,
    #[serde(borrow)]
    relationship: Vec<CodeableConcept<'a>>,
}

fn person<'a>(r: &'a Resource, d: &mut Draft<'a>) -> Res {
    let p: PersonView = view(r)?;
    apply_meta(p.meta.as_ref(), d);
    if let Some(n) = p.name.first() {
        let mut s = n.display();
        if let Some(prefix) = n.prefix.first().filter(|_| n.text.is_none()) {
            s = format!("{} {s}", &**prefix);
        }
        d.title = s.into();
    }
    let qualification = p
        .qualification
        .iter()
        .filter_map(|q| q.code.as_ref()?.display())
        .chain(p.relationship.iter().filter_map(|r| r.display()))
        .collect::<Vec<_>>()
        .join(", ");
    d.detail = qualification.clone();
    let npi = p
        .identifier
        .iter()
        .find(|i| opt(&i.system) == Some(codes::NPI))
        .and_then(|i| opt(&i.value).map(str::to_string));
    if let Some(n) = &npi {
        push_search(d, n);
    }
    d.extra = DraftExtra::Practitioner { qualification, npi };
    Ok(())
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct DeviceName<'a> {
    #[serde(borrow)]
    name: Option<Str<'a>>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct UdiCarrier<'a> {
    #[serde(rename = "carrierHRF", borrow)]
    carrier_hrf: Option<Str<'a>>,
}

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
struct DeviceView<'a> {
    #[serde(borrow)]
    meta: Option<Meta<'a>>,
    #[serde(borrow)]
    status: Option<Str<'a>>,
    #[serde(rename = "type", borrow)]
    kind: Option<CodeableConcept<'a>>,
    #[serde(borrow)]
    device_name: Vec<DeviceName<'a>>,
    #[serde(borrow)]
    udi_carrier: Vec<UdiCarrier<'a>>,
}

fn device<'a>(r: &'a Resource, d: &mut Draft<'a>) -> Res {
    let x: DeviceView = view(r)?;
    apply_meta(x.meta.as_ref(), d);
    set_concept(d, x.kind.as_ref());
    if let Some(n) = x.device_name.iter().find_map(|n| opt(&n.name)) {
        if d.title.is_empty() {
            d.title = n.to_string().into();
        } else {
            push_search(d, n);
        }
    }
    let status = cow(&x.status);
    d.activity = status_activity(&status);
    if status == "entered-in-error" {
        d.flags |= F_ERROR;
    }
    d.status = status;
    if let Some(u) = x.udi_carrier.iter().find_map(|u| opt(&u.carrier_hrf)) {
        push_search(d, u);
    }
    Ok(())
}

/// The top-level elements [`generic`] reads.
const GENERIC_KEYS: &[&str] = &[
    "meta",
    "status",
    "clinicalStatus",
    "verificationStatus",
    "code",
    "vaccineCode",
    "medicationCodeableConcept",
    "type",
    "description",
    "name",
    "category",
    "effectiveDateTime",
    "effectiveInstant",
    "occurrenceDateTime",
    "performedDateTime",
    "onsetDateTime",
    "authoredOn",
    "date",
    "recordedDate",
    "issued",
    "created",
    "recorded",
    "dateAsserted",
    "effectivePeriod",
    "performedPeriod",
    "onsetPeriod",
    "period",
    "billablePeriod",
];

/// A resource as a generic JSON object holding only [`GENERIC_KEYS`] (the same values a full
/// parse gives for them, the last one winning for repeated keys); everything else is skipped.
struct Pruned(Json);

impl<'de> Deserialize<'de> for Pruned {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = Pruned;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut map: A,
            ) -> Result<Pruned, A::Error> {
                let mut out = serde_json::Map::new();
                while let Some(k) = map.next_key::<Str<'de>>()? {
                    if GENERIC_KEYS.contains(&&*k) {
                        out.insert(k.to_owned_string(), map.next_value::<Json>()?);
                    } else {
                        map.next_value::<serde::de::IgnoredAny>()?;
                    }
                }
                Ok(Pruned(Json::Object(out)))
            }
        }
        d.deserialize_map(V)
    }
}

/// Lenient reading through a generic JSON value, for unknown types and resources whose typed
/// view failed. Returns whether anything meaningful (a concept or a date) was found.
fn generic(r: &Resource, d: &mut Draft<'_>) -> bool {
    let v: Json = serde_json::from_str::<Pruned>(r.raw())
        .map(|p| p.0)
        .unwrap_or_else(|_| r.value());
    let get = |path: &[&str]| -> Option<&Json> {
        let mut cur = &v;
        for p in path {
            cur = cur.get(p)?;
        }
        Some(cur)
    };
    if let Some(sec) = get(&["meta", "security"]).and_then(Json::as_array) {
        if sec
            .iter()
            .any(|c| c.get("code").and_then(Json::as_str) == Some(codes::PATAST))
        {
            d.flags |= F_PATIENT;
        }
    }
    let status = v.get("status").and_then(Json::as_str).unwrap_or("");
    d.status = status.to_string().into();
    let clinical = get(&["clinicalStatus", "coding"])
        .and_then(Json::as_array)
        .and_then(|a| a.iter().find_map(|c| c.get("code").and_then(Json::as_str)));
    let verification_error = get(&["verificationStatus", "coding"])
        .and_then(Json::as_array)
        .is_some_and(|a| {
            a.iter()
                .any(|c| c.get("code").and_then(Json::as_str) == Some("entered-in-error"))
        });
    if status == "entered-in-error" || verification_error {
        d.flags |= F_ERROR;
    }
    if let Some(c) = clinical {
        d.status = c.to_string().into();
        d.activity = match c {
            "active" | "recurrence" | "relapse" => Activity::Active,
            _ => Activity::Ended,
        };
    } else if d.category == Category::Medication {
        d.activity = match status {
            "active" => Activity::Active,
            "on-hold" => Activity::Paused,
            "completed" | "stopped" | "cancelled" => Activity::Ended,
            _ => Activity::Unknown,
        };
    }
    let mut found = false;
    for field in [
        "code",
        "vaccineCode",
        "medicationCodeableConcept",
        "type",
        "description",
    ] {
        let Some(x) = v.get(field) else { continue };
        let x = x.as_array().and_then(|a| a.first()).unwrap_or(x);
        if let Ok(cc) = CodeableConcept::deserialize(x) {
            if cc.display().is_some() {
                set_concept(d, Some(&cc.to_static()));
                found = true;
                break;
            }
        }
    }
    if d.title.is_empty() {
        if let Some(n) = v.get("name") {
            if let Some(s) = n.as_str() {
                d.title = s.to_string().into();
            } else if let Ok(names) = Vec::<HumanName>::deserialize(n) {
                if let Some(h) = names.first() {
                    d.title = h.display().into();
                }
            }
        }
        if !d.title.is_empty() {
            found = true;
        }
    }
    if d.category == Category::Billing {
        let label = type_label(r.resource_type());
        d.title = if d.title.is_empty() {
            label.into()
        } else {
            format!("{label} ({})", d.title).into()
        };
        found = true;
    }
    const DATES: &[&[&str]] = &[
        &["effectiveDateTime"],
        &["effectiveInstant"],
        &["occurrenceDateTime"],
        &["performedDateTime"],
        &["onsetDateTime"],
        &["authoredOn"],
        &["date"],
        &["recordedDate"],
        &["issued"],
        &["created"],
        &["recorded"],
        &["dateAsserted"],
        &["effectivePeriod", "start"],
        &["performedPeriod", "start"],
        &["onsetPeriod", "start"],
        &["period", "start"],
        &["billablePeriod", "start"],
    ];
    for p in DATES {
        if let Some(w) = get(p).and_then(Json::as_str).and_then(When::parse) {
            d.date = Some(w);
            found = true;
            break;
        }
    }
    if d.category == Category::Observation {
        let lab = v
            .get("category")
            .map(|c| c.to_string().contains("\"laboratory\""))
            .unwrap_or(false);
        if lab {
            d.category = Category::LabResult;
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn type_labels() {
        assert_eq!(type_label("ImagingStudy"), "Imaging study");
        assert_eq!(type_label("AllergyIntolerance"), "Allergy");
    }
}

//! Reading one resource into a draft item (owned, before interning). One parse per resource:
//! the typed view for known types, a lenient generic reading otherwise or when the typed view
//! fails (the item then carries a "could not read" note).

use phr_fhir::types::{
    Annotation, Attachment, CodeableConcept, Coding, Dosage, HumanName, Identifier, Meta, Period,
    Quantity, Reference, Value,
};
use phr_fhir::views;
use phr_fhir::Resource;
use serde::Deserialize;
use serde_json::Value as Json;

use crate::codes;
use crate::index::{
    Activity, AttachmentInfo, Category, ContactData, Interp, F_ERROR, F_GONE, F_HIDDEN, F_PARTIAL,
    F_PATIENT, F_UNREADABLE,
};
use crate::input::{SourceKind, ViewItem};
use crate::text::{capitalise, truncate_chars};
use crate::time::When;

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub(crate) struct DraftCode {
    pub(crate) system: String,
    pub(crate) code: String,
    pub(crate) display: Option<String>,
}

#[derive(Clone, Debug)]
pub(crate) struct DraftQty {
    pub(crate) value: f64,
    pub(crate) text: String,
    pub(crate) unit: String,
    pub(crate) label: String,
    pub(crate) comparator: String,
}

#[derive(Clone, Debug)]
pub(crate) struct DraftComponent {
    pub(crate) code: DraftCode,
    pub(crate) title: String,
    pub(crate) value: Option<DraftQty>,
    pub(crate) text: String,
}

type DraftRange = (Option<DraftQty>, Option<DraftQty>, String);

// Drafts live only while the index is built, one at a time per resource: size does not matter.
#[allow(clippy::large_enum_variant)]
#[derive(Clone, Debug)]
pub(crate) enum DraftExtra {
    None,
    Obs {
        value: Option<DraftQty>,
        range: Option<DraftRange>,
        interp: Interp,
        components: Vec<DraftComponent>,
    },
    Med {
        ingredients: Vec<DraftCode>,
        end: Option<When>,
    },
    Allergy {
        criticality: Option<String>,
        substances: Vec<DraftCode>,
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
    pub(crate) title: String,
    pub(crate) title_is_fallback: bool,
    pub(crate) codes: Vec<DraftCode>,
    pub(crate) detail: String,
    pub(crate) status: String,
    pub(crate) date: Option<When>,
    pub(crate) search: String,
    pub(crate) extra: DraftExtra,
    pub(crate) med_ref: Option<String>,
}

type Res = Result<(), phr_fhir::FhirError>;

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
        title: String::new(),
        title_is_fallback: false,
        codes: Vec::new(),
        detail: String::new(),
        status: String::new(),
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
        d.title.clear();
        d.title_is_fallback = false;
        d.codes.clear();
        d.detail.clear();
        d.status.clear();
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
        d.title = type_label(r.resource_type());
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

fn apply_meta(meta: Option<&Meta>, d: &mut Draft<'_>) {
    if let Some(m) = meta {
        if m.security
            .iter()
            .any(|c| c.code.as_deref() == Some(codes::PATAST))
        {
            d.flags |= F_PATIENT;
        }
    }
}

fn draft_codes(cc: &CodeableConcept) -> Vec<DraftCode> {
    cc.coding.iter().filter_map(draft_code).collect()
}

fn draft_code(c: &Coding) -> Option<DraftCode> {
    let code = c.code.as_deref()?.trim();
    if code.is_empty() {
        return None;
    }
    Some(DraftCode {
        system: c.system.clone().unwrap_or_default(),
        code: code.to_string(),
        display: c.display.clone().filter(|d| !d.trim().is_empty()),
    })
}

fn set_concept(d: &mut Draft<'_>, cc: Option<&CodeableConcept>) {
    if let Some(cc) = cc {
        if let Some(t) = cc.display() {
            d.title = t.trim().to_string();
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

fn push_cc_search(d: &mut Draft<'_>, cc: &CodeableConcept) {
    if let Some(t) = cc.display() {
        push_search(d, t);
    }
    for c in &cc.coding {
        if let Some(code) = &c.code {
            push_search(d, code);
        }
    }
}

fn join_nonempty(parts: &[&str], sep: &str) -> String {
    parts
        .iter()
        .map(|p| p.trim())
        .filter(|p| !p.is_empty())
        .collect::<Vec<_>>()
        .join(sep)
}

/// The unit as a patient should read it: a UCUM code the table knows becomes its label
/// (`mm[Hg]` → `mmHg`, `Cel` → `°C`, `[lb_av]` → `lb`); free text stays as written.
pub(crate) fn unit_text(q: &Quantity) -> String {
    let written = q.unit.as_deref().or(q.code.as_deref()).unwrap_or("").trim();
    match crate::ucum::UNITS.iter().find(|d| d.code == written) {
        Some(d) => d.label.to_string(),
        None => written.to_string(),
    }
}

/// `< 5 mg/dL`: comparator, digits as written, readable unit.
pub(crate) fn qty_display(q: &Quantity) -> Option<String> {
    let v = q.value.as_ref()?;
    let mut s = String::new();
    if let Some(c) = &q.comparator {
        s.push_str(c);
        s.push(' ');
    }
    s.push_str(v.as_str());
    let u = unit_text(q);
    if !u.is_empty() {
        s.push(' ');
        s.push_str(&u);
    }
    Some(s)
}

pub(crate) fn draft_qty(q: &Quantity) -> Option<DraftQty> {
    let dec = q.value.as_ref()?;
    let value = dec.to_f64()?;
    Some(DraftQty {
        value,
        text: dec.as_str().to_string(),
        unit: q.unit_key().unwrap_or("").trim().to_string(),
        label: unit_text(q),
        comparator: q.comparator.clone().unwrap_or_default(),
    })
}

fn interp_of(list: &[CodeableConcept]) -> Interp {
    for cc in list {
        for c in &cc.coding {
            let i = match c.code.as_deref().unwrap_or("") {
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

fn observation(r: &Resource, d: &mut Draft<'_>) -> Res {
    let o: views::Observation = r.view()?;
    apply_meta(o.meta.as_ref(), d);
    d.status = o.status.clone().unwrap_or_default();
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
            value = draft_qty(&q);
            d.detail = qty_display(&q).unwrap_or_default();
        }
        Some(Value::CodeableConcept(cc)) => {
            d.detail = cc.display().unwrap_or("").to_string();
            push_cc_search(d, &cc);
        }
        Some(v) => d.detail = v.display().unwrap_or_default(),
        None => {
            if let Some(reason) = o.data_absent_reason.as_ref().and_then(|c| c.display()) {
                d.detail = format!("No value ({reason})");
            }
        }
    }
    let mut components = Vec::new();
    for c in &o.component {
        let code = c
            .code
            .as_ref()
            .and_then(|cc| {
                cc.coding
                    .iter()
                    .filter(|x| x.system.as_deref() == Some(codes::LOINC))
                    .chain(cc.coding.iter())
                    .find_map(draft_code)
            })
            .unwrap_or(DraftCode {
                system: String::new(),
                code: String::new(),
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
            value: v.as_ref().and_then(Value::as_quantity).and_then(draft_qty),
            text: match v.as_ref() {
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
                rr.text.clone().unwrap_or_default(),
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

fn condition(r: &Resource, d: &mut Draft<'_>) -> Res {
    let c: views::Condition = r.view()?;
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
    d.status = c.clinical_status_code().unwrap_or("").to_string();
    d.date = parse_date(c.date());
    let status_label = match d.status.as_str() {
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
        end: parse_date(c.abatement_date_time.as_deref()),
    };
    Ok(())
}

fn allergy(r: &Resource, d: &mut Draft<'_>) -> Res {
    let a: views::AllergyIntolerance = r.view()?;
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
        .and_then(|c| c.coding.iter().find_map(|x| x.code.clone()))
        .unwrap_or_default();
    d.date = parse_date(a.date());
    let mut reactions: Vec<String> = Vec::new();
    let mut substances = Vec::new();
    for re in &a.reaction {
        for m in &re.manifestation {
            if let Some(t) = m.display() {
                if !reactions.iter().any(|x| x.eq_ignore_ascii_case(t)) {
                    reactions.push(t.to_string());
                }
            }
        }
        if let Some(s) = &re.substance {
            substances.extend(draft_codes(s));
            push_cc_search(d, s);
        }
    }
    let crit = a.criticality.clone();
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
struct ContainedMed {
    resource_type: String,
    id: Option<String>,
    code: Option<CodeableConcept>,
    ingredient: Vec<MedIngredient>,
}

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
struct MedIngredient {
    item_codeable_concept: Option<CodeableConcept>,
}

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
struct MedOrder {
    meta: Option<Meta>,
    status: Option<String>,
    medication_codeable_concept: Option<CodeableConcept>,
    medication_reference: Option<Reference>,
    authored_on: Option<String>,
    effective_date_time: Option<String>,
    effective_period: Option<Period>,
    date_asserted: Option<String>,
    dosage_instruction: Vec<Dosage>,
    dosage: Vec<Dosage>,
    contained: Vec<ContainedMed>,
    reason_code: Vec<CodeableConcept>,
    note: Vec<Annotation>,
}

fn ingredient_codes(list: &[MedIngredient]) -> Vec<DraftCode> {
    list.iter()
        .filter_map(|i| i.item_codeable_concept.as_ref())
        .flat_map(draft_codes)
        .collect()
}

/// The medication concept of an order: inline, contained (`#id`), or left for reference
/// resolution. Returns ingredient codes found.
fn med_concept(
    d: &mut Draft<'_>,
    cc: Option<&CodeableConcept>,
    reference: Option<&Reference>,
    contained: &[ContainedMed],
) -> Vec<DraftCode> {
    let mut ingredients = Vec::new();
    if cc.is_some() {
        set_concept(d, cc);
    } else if let Some(rf) = reference {
        let target = rf.reference.as_deref().unwrap_or("");
        if let Some(local) = target.strip_prefix('#') {
            if let Some(m) = contained
                .iter()
                .find(|m| m.resource_type == "Medication" && m.id.as_deref() == Some(local))
            {
                set_concept(d, m.code.as_ref());
                ingredients = ingredient_codes(&m.ingredient);
            }
        } else if !target.is_empty() {
            d.med_ref = Some(target.to_string());
        }
        if d.title.is_empty() {
            if let Some(t) = rf.display.as_deref().filter(|t| !t.trim().is_empty()) {
                d.title = t.trim().to_string();
            } else {
                d.title_is_fallback = true;
            }
        }
    }
    ingredients
}

fn med_order(r: &Resource, d: &mut Draft<'_>) -> Res {
    let m: MedOrder = r.view()?;
    apply_meta(m.meta.as_ref(), d);
    let ingredients = med_concept(
        d,
        m.medication_codeable_concept.as_ref(),
        m.medication_reference.as_ref(),
        &m.contained,
    );
    let status = m.status.clone().unwrap_or_default();
    let is_request = r.resource_type() == "MedicationRequest";
    d.activity = match status.as_str() {
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
        parse_date(m.authored_on.as_deref())
    } else {
        parse_date(
            m.effective_date_time
                .as_deref()
                .or(m.effective_period.as_ref().and_then(|p| p.start.as_deref()))
                .or(m.date_asserted.as_deref()),
        )
    };
    let dosages = if is_request {
        &m.dosage_instruction
    } else {
        &m.dosage
    };
    d.detail = dosages
        .iter()
        .filter_map(|x| x.text.as_deref())
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
        if let Some(t) = &n.text {
            push_search(d, &truncate_chars(t, 200));
        }
    }
    let end = m
        .effective_period
        .as_ref()
        .and_then(|p| p.end.as_deref())
        .or_else(|| {
            dosages
                .iter()
                .filter_map(|x| x.timing.as_ref()?.repeat.as_ref()?.bounds_period.as_ref())
                .find_map(|p| p.end.as_deref())
        });
    d.extra = DraftExtra::Med {
        ingredients,
        end: parse_date(end),
    };
    Ok(())
}

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
struct MedAdmin {
    meta: Option<Meta>,
    status: Option<String>,
    status_reason: Vec<CodeableConcept>,
    medication_codeable_concept: Option<CodeableConcept>,
    medication_reference: Option<Reference>,
    effective_date_time: Option<String>,
    effective_period: Option<Period>,
    contained: Vec<ContainedMed>,
}

fn med_admin(r: &Resource, d: &mut Draft<'_>) -> Res {
    let m: MedAdmin = r.view()?;
    apply_meta(m.meta.as_ref(), d);
    med_concept(
        d,
        m.medication_codeable_concept.as_ref(),
        m.medication_reference.as_ref(),
        &m.contained,
    );
    let status = m.status.clone().unwrap_or_default();
    if status == "entered-in-error" {
        d.flags |= F_ERROR;
    }
    let reason = m
        .status_reason
        .iter()
        .find_map(|c| c.display())
        .unwrap_or("");
    d.detail = match status.as_str() {
        "completed" => "Taken".into(),
        "not-done" => join_nonempty(&["Skipped", reason], ": "),
        s => capitalise(s),
    };
    d.status = status;
    d.date = parse_date(
        m.effective_date_time
            .as_deref()
            .or(m.effective_period.as_ref().and_then(|p| p.start.as_deref())),
    );
    Ok(())
}

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
struct MedicationView {
    meta: Option<Meta>,
    code: Option<CodeableConcept>,
    ingredient: Vec<views::MedicationIngredient>,
}

fn medication(r: &Resource, d: &mut Draft<'_>) -> Res {
    let m: MedicationView = r.view()?;
    apply_meta(m.meta.as_ref(), d);
    set_concept(d, m.code.as_ref());
    let ingredients = m
        .ingredient
        .iter()
        .filter_map(|i| i.item_codeable_concept.as_ref())
        .flat_map(draft_codes)
        .collect();
    d.extra = DraftExtra::Med {
        ingredients,
        end: None,
    };
    Ok(())
}

fn immunization(r: &Resource, d: &mut Draft<'_>) -> Res {
    let i: views::Immunization = r.view()?;
    apply_meta(i.meta.as_ref(), d);
    set_concept(d, i.vaccine_code.as_ref());
    let status = i.status.clone().unwrap_or_default();
    if status == "entered-in-error" {
        d.flags |= F_ERROR;
    }
    d.detail = if status == "not-done" {
        "Not given".into()
    } else {
        i.lot_number
            .as_deref()
            .map(|l| format!("Lot {l}"))
            .unwrap_or_default()
    };
    d.status = status;
    d.date = parse_date(
        i.occurrence_date_time
            .as_deref()
            .or(i.occurrence_string.as_deref()),
    );
    Ok(())
}

fn procedure(r: &Resource, d: &mut Draft<'_>) -> Res {
    let p: views::Procedure = r.view()?;
    apply_meta(p.meta.as_ref(), d);
    set_concept(d, p.code.as_ref());
    let status = p.status.clone().unwrap_or_default();
    if status == "entered-in-error" {
        d.flags |= F_ERROR;
    }
    let reasons: Vec<&str> = p.reason_code.iter().filter_map(|c| c.display()).collect();
    d.detail = reasons.join(", ");
    d.status = status;
    d.date = parse_date(p.date());
    d.extra = DraftExtra::Ended {
        end: parse_date(p.performed_period.as_ref().and_then(|x| x.end.as_deref())),
    };
    Ok(())
}

fn encounter(r: &Resource, d: &mut Draft<'_>) -> Res {
    let e: views::Encounter = r.view()?;
    apply_meta(e.meta.as_ref(), d);
    if let Some(t) = e.kind.first() {
        set_concept(d, Some(t));
        for more in &e.kind[1..] {
            d.codes.extend(draft_codes(more));
        }
    }
    if d.title.is_empty() {
        if let Some(t) = e.service_type.as_ref().and_then(|s| s.display()) {
            d.title = t.to_string();
        }
    }
    if let Some(class) = &e.class {
        let label = match class.code.as_deref().unwrap_or("") {
            "AMB" => "Outpatient visit",
            "EMER" => "Emergency visit",
            "IMP" | "ACUTE" | "NONAC" => "Hospital stay",
            "VR" => "Virtual visit",
            "HH" => "Home visit",
            "OBSENC" => "Observation stay",
            _ => "",
        };
        let label = class
            .display
            .as_deref()
            .filter(|_| label.is_empty())
            .unwrap_or(label);
        if d.title.is_empty() && !label.is_empty() {
            d.title = label.to_string();
        }
        if d.codes.is_empty() {
            d.codes.extend(draft_code(class));
        }
        push_search(d, label);
    }
    let status = e.status.clone().unwrap_or_default();
    if status == "entered-in-error" {
        d.flags |= F_ERROR;
    }
    d.status = status;
    let reasons: Vec<&str> = e.reason_code.iter().filter_map(|c| c.display()).collect();
    let provider = e
        .service_provider
        .as_ref()
        .and_then(|p| p.display.as_deref())
        .unwrap_or("");
    d.detail = join_nonempty(&[&reasons.join(", "), provider], " · ");
    for p in &e.participant {
        if let Some(n) = p.individual.as_ref().and_then(|i| i.display.as_deref()) {
            push_search(d, n);
        }
    }
    for l in &e.location {
        if let Some(n) = l.location.as_ref().and_then(|i| i.display.as_deref()) {
            push_search(d, n);
        }
    }
    d.date = parse_date(e.period.as_ref().and_then(|p| p.start.as_deref()));
    d.extra = DraftExtra::Ended {
        end: parse_date(e.period.as_ref().and_then(|p| p.end.as_deref())),
    };
    Ok(())
}

fn attachment_info(a: &Attachment) -> AttachmentInfo {
    AttachmentInfo {
        content_type: a.content_type.clone(),
        title: a.title.clone(),
        has_data: a.data.as_deref().is_some_and(|x| !x.is_empty()),
        url: a.url.clone(),
        size: a.size,
    }
}

fn diagnostic_report(r: &Resource, d: &mut Draft<'_>) -> Res {
    let x: views::DiagnosticReport = r.view()?;
    apply_meta(x.meta.as_ref(), d);
    set_concept(d, x.code.as_ref());
    let status = x.status.clone().unwrap_or_default();
    if status == "entered-in-error" {
        d.flags |= F_ERROR;
    }
    d.status = status;
    d.date = parse_date(x.date());
    if let Some(c) = &x.conclusion {
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

fn document_reference(r: &Resource, d: &mut Draft<'_>) -> Res {
    let x: views::DocumentReference = r.view()?;
    apply_meta(x.meta.as_ref(), d);
    set_concept(d, x.kind.as_ref());
    let first_title = x
        .content
        .iter()
        .find_map(|c| c.attachment.as_ref()?.title.clone());
    if d.title.is_empty() {
        d.title = x
            .description
            .clone()
            .or(first_title.clone())
            .unwrap_or_default();
    }
    let status = x.status.clone().unwrap_or_default();
    if status == "entered-in-error" {
        d.flags |= F_ERROR;
    }
    d.status = x.doc_status.clone().unwrap_or(status);
    d.date = parse_date(
        x.date
            .as_deref()
            .or(x
                .context
                .as_ref()
                .and_then(|c| c.period.as_ref())
                .and_then(|p| p.start.as_deref()))
            .or(x
                .content
                .iter()
                .find_map(|c| c.attachment.as_ref()?.creation.as_deref())),
    );
    let category = x.category.iter().find_map(|c| c.display()).unwrap_or("");
    let desc = x
        .description
        .as_deref()
        .filter(|t| *t != d.title)
        .unwrap_or("");
    d.detail = join_nonempty(&[desc, category], " · ");
    if let Some(t) = first_title.as_deref().filter(|t| *t != d.title) {
        push_search(d, t);
    }
    for a in &x.author {
        if let Some(n) = &a.display {
            push_search(d, n);
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
                    .filter_map(|r| r.reference.clone())
                    .collect()
            })
            .unwrap_or_default(),
    };
    Ok(())
}

fn quantity_text(q: &Quantity) -> String {
    qty_display(q).unwrap_or_default()
}

fn goal(r: &Resource, d: &mut Draft<'_>) -> Res {
    let g: views::Goal = r.view()?;
    apply_meta(g.meta.as_ref(), d);
    set_concept(d, g.description.as_ref());
    let status = g.lifecycle_status.clone().unwrap_or_default();
    d.activity = match status.as_str() {
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
    d.date = parse_date(g.start_date.as_deref().or(g.status_date.as_deref()));
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
            t.detail_string.clone().unwrap_or_default()
        };
        let when = parse_date(t.due_date.as_deref());
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

fn care_plan(r: &Resource, d: &mut Draft<'_>) -> Res {
    let c: views::CarePlan = r.view()?;
    apply_meta(c.meta.as_ref(), d);
    let cat = c.category.iter().find(|x| x.display().is_some());
    if let Some(t) = c.title.as_deref().filter(|t| !t.trim().is_empty()) {
        d.title = t.to_string();
        if let Some(cat) = cat {
            d.codes = draft_codes(cat);
        }
    } else {
        set_concept(d, cat);
    }
    let status = c.status.clone().unwrap_or_default();
    d.activity = status_activity(&status);
    if status == "entered-in-error" {
        d.flags |= F_ERROR;
    }
    d.status = status;
    d.date = parse_date(c.period.as_ref().and_then(|p| p.start.as_deref()));
    d.detail = c
        .description
        .as_deref()
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
        end: parse_date(c.period.as_ref().and_then(|p| p.end.as_deref())),
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

fn care_team(r: &Resource, d: &mut Draft<'_>) -> Res {
    let c: views::CareTeam = r.view()?;
    apply_meta(c.meta.as_ref(), d);
    if let Some(n) = c.name.as_deref() {
        d.title = n.to_string();
    }
    let status = c.status.clone().unwrap_or_default();
    d.activity = status_activity(&status);
    if status == "entered-in-error" {
        d.flags |= F_ERROR;
    }
    d.status = status;
    d.date = parse_date(c.period.as_ref().and_then(|p| p.start.as_deref()));
    let mut participants = Vec::new();
    for p in &c.participant {
        let name = p
            .member
            .as_ref()
            .and_then(|m| m.display.clone())
            .unwrap_or_default();
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
            p.member.as_ref().and_then(|m| m.reference.clone()),
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

fn patient(r: &Resource, d: &mut Draft<'_>) -> Res {
    let p: views::Patient = r.view()?;
    apply_meta(p.meta.as_ref(), d);
    let name = p.display_name().unwrap_or_default();
    d.title = name.clone();
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
                .filter_map(|x| x.code.clone())
                .collect(),
            phone: c
                .telecom
                .iter()
                .find(|t| {
                    t.system
                        .as_deref()
                        .is_none_or(|s| s == "phone" || s == "sms")
                })
                .and_then(|t| t.value.clone()),
        })
        .collect();
    d.detail = p
        .birth_date
        .clone()
        .map(|b| format!("Born {b}"))
        .unwrap_or_default();
    d.extra = DraftExtra::Patient {
        name,
        birth_date: p.birth_date.clone(),
        contacts,
    };
    Ok(())
}

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
struct PersonView {
    meta: Option<Meta>,
    name: Vec<HumanName>,
    identifier: Vec<Identifier>,
    qualification: Vec<views::PractitionerQualification>,
    relationship: Vec<CodeableConcept>,
}

fn person(r: &Resource, d: &mut Draft<'_>) -> Res {
    let p: PersonView = r.view()?;
    apply_meta(p.meta.as_ref(), d);
    if let Some(n) = p.name.first() {
        let mut s = n.display();
        if let Some(prefix) = n.prefix.first().filter(|_| n.text.is_none()) {
            s = format!("{prefix} {s}");
        }
        d.title = s;
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
        .find(|i| i.system.as_deref() == Some(codes::NPI))
        .and_then(|i| i.value.clone());
    if let Some(n) = &npi {
        push_search(d, n);
    }
    d.extra = DraftExtra::Practitioner { qualification, npi };
    Ok(())
}

fn device(r: &Resource, d: &mut Draft<'_>) -> Res {
    let x: views::Device = r.view()?;
    apply_meta(x.meta.as_ref(), d);
    set_concept(d, x.kind.as_ref());
    if let Some(n) = x.device_name.iter().find_map(|n| n.name.clone()) {
        if d.title.is_empty() {
            d.title = n;
        } else {
            push_search(d, &n);
        }
    }
    let status = x.status.clone().unwrap_or_default();
    d.activity = status_activity(&status);
    if status == "entered-in-error" {
        d.flags |= F_ERROR;
    }
    d.status = status;
    if let Some(u) = x.udi_carrier.iter().find_map(|u| u.carrier_h_r_f.clone()) {
        push_search(d, &u);
    }
    Ok(())
}

/// Lenient reading through a generic JSON value, for unknown types and resources whose typed
/// view failed. Returns whether anything meaningful (a concept or a date) was found.
fn generic(r: &Resource, d: &mut Draft<'_>) -> bool {
    let v: Json = r.value();
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
    d.status = status.to_string();
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
        d.status = c.to_string();
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
        if let Ok(cc) = serde_json::from_value::<CodeableConcept>(x.clone()) {
            if cc.display().is_some() {
                set_concept(d, Some(&cc));
                found = true;
                break;
            }
        }
    }
    if d.title.is_empty() {
        if let Some(n) = v.get("name") {
            if let Some(s) = n.as_str() {
                d.title = s.to_string();
            } else if let Ok(names) = serde_json::from_value::<Vec<HumanName>>(n.clone()) {
                if let Some(h) = names.first() {
                    d.title = h.display();
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
            label
        } else {
            format!("{label} ({})", d.title)
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

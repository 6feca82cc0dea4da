//! One-line descriptions of resources, shared by the generated narratives, the preview, the
//! printable summary and the viewer. Robust to any shape: a resource it does not know still gets
//! its type and whatever `code` it has.

use phr_fhir::types::{CodeableConcept, Dosage, Reference};
use phr_fhir::views::*;
use phr_fhir::Resource;
use serde::Deserialize;

/// How a resource reads in a table.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct Row {
    /// What it is ("Hypertension", "Lisinopril 10 MG Oral Tablet", "Hemoglobin A1c").
    pub title: String,
    /// Value, dose, reaction... (may be empty).
    pub detail: String,
    /// The most relevant date, as written in the resource.
    pub date: Option<String>,
    /// Status ("active", "resolved", "completed"...), if any.
    pub status: Option<String>,
}

fn cc(c: &Option<CodeableConcept>) -> Option<String> {
    c.as_ref().and_then(|c| c.display()).map(str::to_string)
}

fn first_code(c: &Option<CodeableConcept>) -> Option<String> {
    c.as_ref()
        .and_then(|c| c.coding.iter().find_map(|c| c.code.clone()))
}

fn dosage_text(d: &[Dosage]) -> String {
    d.iter()
        .filter_map(|d| d.text.clone())
        .collect::<Vec<_>>()
        .join("; ")
}

fn medication_name<'r>(
    code: &Option<CodeableConcept>,
    reference: &Option<Reference>,
    lookup: &dyn Fn(&str) -> Option<&'r Resource>,
) -> String {
    if let Some(n) = cc(code) {
        return n;
    }
    if let Some(r) = reference {
        if let Some(m) = r
            .reference
            .as_deref()
            .and_then(lookup)
            .and_then(|m| m.view::<Medication>().ok())
            .and_then(|m| cc(&m.code))
        {
            return m;
        }
        if let Some(d) = &r.display {
            return d.clone();
        }
    }
    "Medication".into()
}

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
struct Generic {
    code: Option<CodeableConcept>,
    status: Option<String>,
    #[serde(rename = "type")]
    kind: Option<serde_json::Value>,
    name: Option<serde_json::Value>,
    title: Option<String>,
    description: Option<serde_json::Value>,
    date: Option<String>,
}

fn short(t: &str) -> String {
    match t {
        "Organization" | "Practitioner" | "Location" => t.to_string(),
        other => other.to_string(),
    }
}

/// Describes a resource. `lookup` finds other resources of the same document by reference
/// (used to name a `medicationReference`); pass `&|_| None` when there are none.
pub fn describe<'r>(r: &Resource, lookup: &dyn Fn(&str) -> Option<&'r Resource>) -> Row {
    let t = r.resource_type();
    let fallback = || Row {
        title: t.to_string(),
        ..Row::default()
    };
    match t {
        "Condition" => r
            .view::<Condition>()
            .map(|c| Row {
                title: cc(&c.code).unwrap_or_else(|| "Condition".into()),
                detail: c
                    .abatement_date_time
                    .as_ref()
                    .map(|d| format!("Resolved {d}"))
                    .unwrap_or_default(),
                date: c.date().map(str::to_string),
                status: c.clinical_status_code().map(str::to_string),
            })
            .unwrap_or_else(|_| fallback()),
        "AllergyIntolerance" => r
            .view::<AllergyIntolerance>()
            .map(|a| {
                let reactions: Vec<String> = a
                    .reaction
                    .iter()
                    .flat_map(|x| x.manifestation.iter().filter_map(|m| m.display()))
                    .map(str::to_string)
                    .collect();
                let mut detail = reactions.join(", ");
                if let Some(c) = &a.criticality {
                    if !detail.is_empty() {
                        detail.push_str("; ");
                    }
                    detail.push_str(&format!("criticality {c}"));
                }
                Row {
                    title: cc(&a.code).unwrap_or_else(|| "Allergy".into()),
                    detail,
                    date: a.date().map(str::to_string),
                    status: a
                        .clinical_status
                        .as_ref()
                        .and_then(|c| c.coding.iter().find_map(|c| c.code.clone())),
                }
            })
            .unwrap_or_else(|_| fallback()),
        "MedicationRequest" => r
            .view::<MedicationRequest>()
            .map(|m| Row {
                title: medication_name(
                    &m.medication_codeable_concept,
                    &m.medication_reference,
                    lookup,
                ),
                detail: dosage_text(&m.dosage_instruction),
                date: m.authored_on.clone(),
                status: m.status.clone(),
            })
            .unwrap_or_else(|_| fallback()),
        "MedicationStatement" => r
            .view::<MedicationStatement>()
            .map(|m| Row {
                title: medication_name(
                    &m.medication_codeable_concept,
                    &m.medication_reference,
                    lookup,
                ),
                detail: dosage_text(&m.dosage),
                date: m
                    .effective_date_time
                    .clone()
                    .or_else(|| m.effective_period.as_ref().and_then(|p| p.start.clone()))
                    .or(m.date_asserted.clone()),
                status: m.status.clone(),
            })
            .unwrap_or_else(|_| fallback()),
        "MedicationAdministration" => r
            .view::<MedicationAdministration>()
            .map(|m| Row {
                title: medication_name(
                    &m.medication_codeable_concept,
                    &m.medication_reference,
                    lookup,
                ),
                detail: String::new(),
                date: m
                    .effective_date_time
                    .clone()
                    .or_else(|| m.effective_period.as_ref().and_then(|p| p.start.clone())),
                status: m.status.clone(),
            })
            .unwrap_or_else(|_| fallback()),
        "Immunization" => r
            .view::<Immunization>()
            .map(|i| Row {
                title: cc(&i.vaccine_code).unwrap_or_else(|| "Immunization".into()),
                detail: i.lot_number.map(|l| format!("Lot {l}")).unwrap_or_default(),
                date: i.occurrence_date_time.or(i.occurrence_string),
                status: i.status,
            })
            .unwrap_or_else(|_| fallback()),
        "Observation" => r
            .view::<Observation>()
            .map(|o| {
                let mut detail = o.value().and_then(|v| v.display()).unwrap_or_default();
                if detail.is_empty() && !o.component.is_empty() {
                    detail = o
                        .component
                        .iter()
                        .filter_map(|c| {
                            let v = c.value().and_then(|v| v.display())?;
                            Some(match cc(&c.code) {
                                Some(n) => format!("{n}: {v}"),
                                None => v,
                            })
                        })
                        .collect::<Vec<_>>()
                        .join("; ");
                }
                if let Some(i) = o.interpretation.first().and_then(|i| i.display()) {
                    detail = format!("{detail} ({i})");
                }
                Row {
                    title: cc(&o.code).unwrap_or_else(|| "Observation".into()),
                    detail: detail.trim().to_string(),
                    date: o.date().map(str::to_string),
                    status: o.status.clone(),
                }
            })
            .unwrap_or_else(|_| fallback()),
        "DiagnosticReport" => r
            .view::<DiagnosticReport>()
            .map(|d| Row {
                title: cc(&d.code).unwrap_or_else(|| "Report".into()),
                detail: d.conclusion.clone().unwrap_or_default(),
                date: d.date().map(str::to_string),
                status: d.status.clone(),
            })
            .unwrap_or_else(|_| fallback()),
        "Procedure" => r
            .view::<Procedure>()
            .map(|p| Row {
                title: cc(&p.code).unwrap_or_else(|| "Procedure".into()),
                detail: String::new(),
                date: p.date().map(str::to_string),
                status: p.status.clone(),
            })
            .unwrap_or_else(|_| fallback()),
        "Device" => r
            .view::<Device>()
            .map(|d| Row {
                title: d
                    .device_name
                    .iter()
                    .find_map(|n| n.name.clone())
                    .or_else(|| cc(&d.kind))
                    .unwrap_or_else(|| "Device".into()),
                detail: d
                    .udi_carrier
                    .iter()
                    .find_map(|u| u.device_identifier.clone())
                    .map(|u| format!("UDI {u}"))
                    .unwrap_or_default(),
                date: d.manufacture_date,
                status: d.status,
            })
            .unwrap_or_else(|_| fallback()),
        "CarePlan" => r
            .view::<CarePlan>()
            .map(|c| Row {
                title: c
                    .title
                    .clone()
                    .or_else(|| {
                        c.category
                            .iter()
                            .find_map(|x| x.display().map(str::to_string))
                    })
                    .unwrap_or_else(|| "Care plan".into()),
                detail: c
                    .activity
                    .iter()
                    .filter_map(|a| a.detail.as_ref().and_then(|d| cc(&d.code)))
                    .collect::<Vec<_>>()
                    .join(", "),
                date: c.period.as_ref().and_then(|p| p.start.clone()),
                status: c.status.clone(),
            })
            .unwrap_or_else(|_| fallback()),
        "Goal" => r
            .view::<Goal>()
            .map(|g| Row {
                title: cc(&g.description).unwrap_or_else(|| "Goal".into()),
                detail: String::new(),
                date: g.start_date.clone(),
                status: g.lifecycle_status.clone(),
            })
            .unwrap_or_else(|_| fallback()),
        "Patient" => r
            .view::<Patient>()
            .map(|p| Row {
                title: p.display_name().unwrap_or_else(|| "Patient".into()),
                detail: p.gender.clone().unwrap_or_default(),
                date: p.birth_date.clone(),
                status: None,
            })
            .unwrap_or_else(|_| fallback()),
        "Practitioner" => r
            .view::<Practitioner>()
            .map(|p| Row {
                title: p
                    .name
                    .first()
                    .map(|n| n.display())
                    .unwrap_or_else(|| "Practitioner".into()),
                ..Row::default()
            })
            .unwrap_or_else(|_| fallback()),
        "Organization" | "Location" => r
            .view::<Organization>()
            .map(|o| Row {
                title: o.name.unwrap_or_else(|| short(t)),
                ..Row::default()
            })
            .unwrap_or_else(|_| fallback()),
        "Medication" => r
            .view::<Medication>()
            .map(|m| Row {
                title: cc(&m.code).unwrap_or_else(|| "Medication".into()),
                ..Row::default()
            })
            .unwrap_or_else(|_| fallback()),
        _ => {
            let g: Generic = r.view().unwrap_or_default();
            let text_of = |v: &Option<serde_json::Value>| -> Option<String> {
                match v.as_ref()? {
                    serde_json::Value::String(s) => Some(s.clone()),
                    other => serde_json::from_value::<CodeableConcept>(other.clone())
                        .ok()
                        .and_then(|c| c.display().map(str::to_string)),
                }
            };
            Row {
                title: cc(&g.code)
                    .or(g.title.clone())
                    .or_else(|| text_of(&g.name))
                    .or_else(|| text_of(&g.description))
                    .or_else(|| text_of(&g.kind))
                    .or_else(|| first_code(&g.code))
                    .unwrap_or_else(|| t.to_string()),
                detail: String::new(),
                date: g.date,
                status: g.status,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn describes_common_types_and_unknown_ones() {
        let o = Resource::from_json(
            r#"{"resourceType":"Observation","code":{"text":"Hemoglobin"},"valueQuantity":{"value":13.50,"unit":"g/dL"},"effectiveDateTime":"2024-01-02"}"#,
        )
        .unwrap();
        let row = describe(&o, &|_| None);
        assert_eq!(row.title, "Hemoglobin");
        assert_eq!(row.detail, "13.50 g/dL");
        assert_eq!(row.date.as_deref(), Some("2024-01-02"));
        let m = Resource::from_json(r#"{"resourceType":"Medication","code":{"text":"Aspirin"}}"#)
            .unwrap();
        let mr = Resource::from_json(
            r#"{"resourceType":"MedicationRequest","medicationReference":{"reference":"urn:uuid:m"}}"#,
        )
        .unwrap();
        assert_eq!(
            describe(&mr, &|u| (u == "urn:uuid:m").then_some(&m)).title,
            "Aspirin"
        );
        let weird = Resource::from_json(
            r#"{"resourceType":"Flag","code":{"coding":[{"code":"x"}]},"status":5}"#,
        )
        .unwrap();
        assert_eq!(describe(&weird, &|_| None).title, "Flag");
        let bad =
            Resource::from_json(r#"{"resourceType":"Condition","code":"not an object"}"#).unwrap();
        assert_eq!(describe(&bad, &|_| None).title, "Condition");
    }
}

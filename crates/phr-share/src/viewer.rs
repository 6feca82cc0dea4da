//! The clinician's view of a received document: works for our IPS Bundles and for Bundles made by
//! other tools (any Bundle type, with or without a Composition, unknown sections and shapes).
//! Everything in the model is plain text; the app and [`crate::summary`] escape it on output.

use std::collections::HashMap;

use phr_consent::labels;
use phr_fhir::types::{CodeableConcept, Coding, Reference};
use phr_fhir::views::Common;
use phr_fhir::Resource;
use serde::Deserialize;
use serde_json::value::RawValue;

use crate::describe::{describe, Row};
use crate::narrative::plain_text;
use crate::section::{section_for, Section};
use crate::PART2_NOTICE;

/// Why a document cannot be shown at all.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ViewError {
    #[error("the shared file is not a FHIR Bundle ({0}); ask the sender to share it again")]
    NotABundle(String),
}

/// The patient, as the document names them.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct PatientView {
    pub name: Option<String>,
    pub birth_date: Option<String>,
    pub gender: Option<String>,
    pub identifiers: Vec<String>,
}

/// One row of a section.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct RowView {
    pub resource_type: String,
    pub row: Row,
    /// Where it came from ("Demo General Hospital"), from the document's Provenance.
    pub source: Option<String>,
    /// Entered by the patient (PATAST label, or a Provenance whose agent is the patient).
    pub patient_reported: bool,
}

/// One section.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct SectionView {
    pub title: String,
    /// LOINC code of the section, if coded.
    pub code: Option<String>,
    pub rows: Vec<RowView>,
    /// Why the section is empty ("Unavailable"), if it says.
    pub empty_reason: Option<String>,
}

/// A received document, ready to render.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct DocumentView {
    pub title: String,
    pub date: Option<String>,
    pub patient: PatientView,
    pub sections: Vec<SectionView>,
    /// Notices that must be shown with the data (e.g. the 42 CFR Part 2 redisclosure notice).
    pub notices: Vec<String>,
    /// The document is marked restricted (confidentiality R or V).
    pub restricted: bool,
    /// Problems met while reading (an entry that could not be found...), for the reader.
    pub issues: Vec<String>,
}

#[derive(Deserialize)]
struct RawBundle<'a> {
    #[serde(rename = "resourceType")]
    resource_type: Option<String>,
    timestamp: Option<String>,
    #[serde(default)]
    meta: Option<phr_fhir::types::Meta>,
    #[serde(default, borrow)]
    entry: Vec<RawEntry<'a>>,
}

#[derive(Deserialize)]
struct RawEntry<'a> {
    #[serde(rename = "fullUrl")]
    full_url: Option<String>,
    #[serde(borrow)]
    resource: Option<&'a RawValue>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct Comp {
    title: Option<String>,
    date: Option<String>,
    subject: Option<Reference>,
    confidentiality: Option<String>,
    meta: Option<phr_fhir::types::Meta>,
    section: Vec<Sec>,
}

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
struct Sec {
    title: Option<String>,
    code: Option<CodeableConcept>,
    text: Option<phr_fhir::types::Narrative>,
    entry: Vec<Reference>,
    empty_reason: Option<CodeableConcept>,
    section: Vec<Sec>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct Prov {
    target: Vec<Reference>,
    agent: Vec<ProvAgent>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct ProvAgent {
    who: Option<Reference>,
}

struct Doc {
    resources: Vec<Resource>,
    by_url: HashMap<String, usize>,
}

impl Doc {
    fn find(&self, reference: &str) -> Option<usize> {
        if let Some(&i) = self.by_url.get(reference) {
            return Some(i);
        }
        let (t, id) = Reference::to(reference)
            .type_and_id()
            .map(|(a, b)| (a.to_string(), b.to_string()))?;
        self.resources
            .iter()
            .position(|r| r.resource_type() == t && r.id() == Some(id.as_str()))
    }
}

fn has_code(security: &[Coding], code: &str) -> bool {
    security.iter().any(|c| c.code.as_deref() == Some(code))
}

/// Reads a document (any FHIR Bundle) into the clinician view.
pub fn view_document(text: &str) -> Result<DocumentView, ViewError> {
    let bundle: RawBundle =
        serde_json::from_str(text).map_err(|e| ViewError::NotABundle(e.to_string()))?;
    if bundle.resource_type.as_deref() != Some("Bundle") {
        return Err(ViewError::NotABundle(
            "it has no resourceType Bundle".into(),
        ));
    }
    let mut issues = Vec::new();
    let mut doc = Doc {
        resources: Vec::new(),
        by_url: HashMap::new(),
    };
    for (n, e) in bundle.entry.iter().enumerate() {
        let Some(raw) = e.resource else { continue };
        match Resource::from_json(raw.get()) {
            Ok(r) => {
                let i = doc.resources.len();
                if let Some(u) = &e.full_url {
                    doc.by_url.insert(u.clone(), i);
                }
                if let Some(rf) = r.reference() {
                    doc.by_url.entry(rf).or_insert(i);
                }
                doc.resources.push(r);
            }
            Err(err) => issues.push(format!("entry {} could not be read: {err}", n + 1)),
        }
    }

    // Sources from Provenance.
    let mut source_of: HashMap<usize, (Option<String>, bool)> = HashMap::new();
    for r in doc
        .resources
        .iter()
        .filter(|r| r.resource_type() == "Provenance")
    {
        let p: Prov = r.view().unwrap_or_default();
        let Some(who) = p.agent.iter().find_map(|a| a.who.clone()) else {
            continue;
        };
        let agent = who.reference.as_deref().and_then(|x| doc.find(x));
        let is_patient = agent.is_some_and(|i| doc.resources[i].resource_type() == "Patient");
        let name = who
            .display
            .clone()
            .or_else(|| agent.map(|i| describe(&doc.resources[i], &|_| None).title));
        for t in &p.target {
            if let Some(i) = t.reference.as_deref().and_then(|x| doc.find(x)) {
                source_of.entry(i).or_insert((name.clone(), is_patient));
            }
        }
    }
    let lookup = |u: &str| doc.find(u).map(|i| &doc.resources[i]);
    let row_for = |i: usize| -> RowView {
        let r = &doc.resources[i];
        let patast = r
            .view::<Common>()
            .ok()
            .and_then(|c| c.meta)
            .is_some_and(|m| m.security.iter().any(labels::is_patast));
        let (source, by_patient) = source_of.get(&i).cloned().unwrap_or((None, false));
        RowView {
            resource_type: r.resource_type().to_string(),
            row: describe(r, &lookup),
            source: if by_patient {
                Some("Patient".into())
            } else {
                source
            },
            patient_reported: patast || by_patient,
        }
    };

    let composition = doc
        .resources
        .iter()
        .position(|r| r.resource_type() == "Composition");
    let comp: Comp = composition
        .map(|i| doc.resources[i].view().unwrap_or_default())
        .unwrap_or_default();
    let mut notices = Vec::new();
    let mut sections = Vec::new();
    if composition.is_some() {
        let mut stack: Vec<&Sec> = comp.section.iter().rev().collect();
        while let Some(s) = stack.pop() {
            let code = s
                .code
                .as_ref()
                .and_then(|c| c.coding.iter().find_map(|c| c.code.clone()));
            let title = s
                .title
                .clone()
                .or_else(|| {
                    s.code
                        .as_ref()
                        .and_then(|c| c.display().map(str::to_string))
                })
                .or_else(|| {
                    code.as_deref()
                        .and_then(Section::from_loinc)
                        .map(|x| x.title().to_string())
                })
                .unwrap_or_else(|| "Section".into());
            let mut rows = Vec::new();
            for e in &s.entry {
                match e.reference.as_deref().and_then(|x| doc.find(x)) {
                    Some(i) => rows.push(row_for(i)),
                    None => issues.push(format!("an entry of \"{title}\" is not in the document")),
                }
            }
            let empty_reason = s
                .empty_reason
                .as_ref()
                .and_then(|c| c.display().map(str::to_string));
            if rows.is_empty() && empty_reason.is_none() && s.section.is_empty() {
                if let Some(t) = s
                    .text
                    .as_ref()
                    .and_then(|t| t.div.as_deref())
                    .map(plain_text)
                {
                    if !t.is_empty() {
                        notices.push(t);
                    }
                }
            } else if !(rows.is_empty() && empty_reason.is_none()) || code.is_some() {
                sections.push(SectionView {
                    title,
                    code,
                    rows,
                    empty_reason,
                });
            }
            stack.extend(s.section.iter().rev());
        }
    } else {
        // No Composition: group what is there by IPS section.
        let mut groups: Vec<(Section, Vec<RowView>)> = Vec::new();
        for (i, r) in doc.resources.iter().enumerate() {
            if let Some(s) = section_for(r) {
                match groups.iter_mut().find(|(g, _)| *g == s) {
                    Some((_, rows)) => rows.push(row_for(i)),
                    None => groups.push((s, vec![row_for(i)])),
                }
            }
        }
        groups.sort_by_key(|(s, _)| Section::ALL.iter().position(|x| x == s));
        sections = groups
            .into_iter()
            .map(|(s, rows)| SectionView {
                title: s.title().into(),
                code: Some(s.loinc().into()),
                rows,
                empty_reason: None,
            })
            .collect();
    }

    let mut security: Vec<Coding> = bundle.meta.map(|m| m.security).unwrap_or_default();
    security.extend(comp.meta.map(|m| m.security).unwrap_or_default());
    if has_code(&security, "42CFRPart2") && !notices.iter().any(|n| n.contains("42 CFR part 2")) {
        notices.push(PART2_NOTICE.to_string());
    }
    let restricted = matches!(comp.confidentiality.as_deref(), Some("R" | "V"))
        || has_code(&security, "R")
        || has_code(&security, "V");

    let patient_idx = comp
        .subject
        .as_ref()
        .and_then(|s| s.reference.as_deref())
        .and_then(|x| doc.find(x))
        .or_else(|| {
            doc.resources
                .iter()
                .position(|r| r.resource_type() == "Patient")
        });
    let patient = patient_idx
        .and_then(|i| doc.resources[i].view::<phr_fhir::views::Patient>().ok())
        .map(|p| PatientView {
            name: p.display_name(),
            birth_date: p.birth_date.clone(),
            gender: p.gender.clone(),
            identifiers: p
                .identifier
                .iter()
                .filter_map(|i| i.value.clone())
                .collect(),
        })
        .unwrap_or_default();
    if patient_idx.is_none() {
        issues.push("the document does not name its patient".into());
    }

    Ok(DocumentView {
        title: comp.title.unwrap_or_else(|| "Shared health records".into()),
        date: comp.date.or(bundle.timestamp),
        patient,
        sections,
        notices,
        restricted,
        issues,
    })
}

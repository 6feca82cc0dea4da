//! Lists by category, each row with its source(s) and date.

use std::collections::HashMap;

use crate::index::{Activity, Category, Extra, GroupId, Index, ItemId, ItemRef};
use crate::results::{test_key, VitalKind};
use crate::rows::Row;

/// Which list.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ListKind {
    Medications,
    Allergies,
    Problems,
    /// Labs, one section per test.
    Results,
    /// Vital signs, one section per kind.
    Vitals,
    Immunizations,
    Procedures,
    Visits,
    /// DocumentReference, and DiagnosticReport with a presented form.
    Documents,
    /// Care teams and clinicians.
    CareTeam,
    Goals,
}

/// A titled part of a list.
#[derive(Clone, Debug, PartialEq)]
pub struct ListSection {
    pub title: String,
    pub rows: Vec<Row>,
}

/// A list screen.
#[derive(Clone, Debug, PartialEq)]
pub struct CategoryList {
    pub kind: ListKind,
    pub sections: Vec<ListSection>,
}

impl CategoryList {
    /// Total rows over all sections.
    pub fn len(&self) -> usize {
        self.sections.iter().map(|s| s.rows.len()).sum()
    }

    /// Whether the list has no rows.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The section with this title.
    pub fn section(&self, title: &str) -> Option<&ListSection> {
        self.sections.iter().find(|s| s.title == title)
    }
}

fn newest_first(index: &Index, v: &mut [(GroupId, ItemId)]) {
    v.sort_by(|a, b| {
        let da = index.item(a.1).date().map(|d| d.sort_key());
        let db = index.item(b.1).date().map(|d| d.sort_key());
        db.cmp(&da).then(a.0.cmp(&b.0))
    });
}

fn to_rows(index: &Index, v: Vec<(GroupId, ItemId)>, include_hidden: bool) -> Vec<Row> {
    v.into_iter()
        .map(|(g, rep)| index.row_with_rep(g, rep, include_hidden))
        .collect()
}

fn collect<'a>(
    index: &'a Index,
    include_hidden: bool,
    keep: impl FnMut(&ItemRef<'a>) -> bool + 'a,
) -> Vec<(GroupId, ItemId)> {
    index.shown_groups(include_hidden, keep).collect()
}

/// Splits by a key into named sections (in the given order), each newest first.
fn sectioned(
    index: &Index,
    pairs: Vec<(GroupId, ItemId)>,
    order: &[&str],
    section_of: impl Fn(&ItemRef<'_>) -> &'static str,
    include_hidden: bool,
) -> Vec<ListSection> {
    let mut by: HashMap<&'static str, Vec<(GroupId, ItemId)>> = HashMap::new();
    for p in pairs {
        by.entry(section_of(&index.item(p.1))).or_default().push(p);
    }
    order
        .iter()
        .filter_map(|&t| {
            let mut v = by.remove(t)?;
            newest_first(index, &mut v);
            Some(ListSection {
                title: t.to_string(),
                rows: to_rows(index, v, include_hidden),
            })
        })
        .collect()
}

fn single(title: &str, index: &Index, mut v: Vec<(GroupId, ItemId)>, h: bool) -> Vec<ListSection> {
    if v.is_empty() {
        return Vec::new();
    }
    newest_first(index, &mut v);
    vec![ListSection {
        title: title.to_string(),
        rows: to_rows(index, v, h),
    }]
}

/// Groups rows by a key (test, vital kind) into sections titled by the newest row, sections
/// ordered by their newest row.
fn by_key(
    index: &Index,
    pairs: Vec<(GroupId, ItemId)>,
    key: impl Fn(ItemId) -> (String, Option<String>),
    include_hidden: bool,
) -> Vec<ListSection> {
    type Section = (Option<String>, Vec<(GroupId, ItemId)>);
    let mut groups: HashMap<String, Section> = HashMap::new();
    for p in pairs {
        let (k, title) = key(p.1);
        let e = groups.entry(k).or_insert((title, Vec::new()));
        e.1.push(p);
    }
    let mut sections: Vec<(Option<(i32, i64)>, ListSection)> = groups
        .into_values()
        .map(|(title, mut v)| {
            newest_first(index, &mut v);
            let newest = index.item(v[0].1);
            let t = title.unwrap_or_else(|| newest.title().to_string());
            (
                newest.date().map(|d| d.sort_key()),
                ListSection {
                    title: t,
                    rows: to_rows(index, v, include_hidden),
                },
            )
        })
        .collect();
    sections.sort_by(|a, b| b.0.cmp(&a.0).then_with(|| a.1.title.cmp(&b.1.title)));
    sections.into_iter().map(|s| s.1).collect()
}

/// The list of a kind. Hidden entries are left out unless `include_hidden`.
pub fn list(index: &Index, kind: ListKind, include_hidden: bool) -> CategoryList {
    let h = include_hidden;
    let sections = match kind {
        ListKind::Medications => {
            let v = collect(index, h, |it| {
                matches!(
                    it.resource_type(),
                    "MedicationRequest" | "MedicationStatement"
                )
            });
            sectioned(
                index,
                v,
                &["Active", "Planned", "Stopped", "Status unknown"],
                |it| match it.activity() {
                    Activity::Active | Activity::Paused if !it.gone_at_source() => "Active",
                    Activity::Planned => "Planned",
                    Activity::Ended => "Stopped",
                    _ => "Status unknown",
                },
                h,
            )
        }
        ListKind::Allergies => {
            let v = collect(index, h, |it| it.category() == Category::Allergy);
            sectioned(
                index,
                v,
                &["Active", "Inactive"],
                |it| {
                    if it.activity() == Activity::Active && !it.gone_at_source() {
                        "Active"
                    } else {
                        "Inactive"
                    }
                },
                h,
            )
        }
        ListKind::Problems => {
            let v = collect(index, h, |it| it.category() == Category::Problem);
            sectioned(
                index,
                v,
                &["Active", "Resolved"],
                |it| {
                    if it.activity() == Activity::Active && !it.gone_at_source() {
                        "Active"
                    } else {
                        "Resolved"
                    }
                },
                h,
            )
        }
        ListKind::Results => {
            let v = collect(index, h, |it| it.category() == Category::LabResult);
            by_key(index, v, |id| (test_key(index, id), None), h)
        }
        ListKind::Vitals => {
            let v = collect(index, h, |it| it.category() == Category::VitalSign);
            by_key(
                index,
                v,
                |id| match VitalKind::of(index, id) {
                    Some(k) => (format!("vital:{k:?}"), Some(k.label().to_string())),
                    None => (test_key(index, id), None),
                },
                h,
            )
        }
        ListKind::Immunizations => single(
            "Immunizations",
            index,
            collect(index, h, |it| it.resource_type() == "Immunization"),
            h,
        ),
        ListKind::Procedures => single(
            "Procedures",
            index,
            collect(index, h, |it| it.category() == Category::Procedure),
            h,
        ),
        ListKind::Visits => single(
            "Visits",
            index,
            collect(index, h, |it| it.category() == Category::Visit),
            h,
        ),
        ListKind::Documents => single(
            "Documents",
            index,
            collect(index, h, |it| {
                (it.resource_type() == "DocumentReference" && !is_note_about_item(index, it))
                    || (it.resource_type() == "DiagnosticReport"
                        && matches!(index.extra(it.id()), Some(Extra::Document { attachments, .. }) if !attachments.is_empty()))
            }),
            h,
        ),
        ListKind::CareTeam => {
            let mut out = single(
                "Care teams",
                index,
                collect(index, h, |it| it.category() == Category::CareTeam),
                h,
            );
            let mut clinicians =
                collect(index, h, |it| matches!(it.resource_type(), "Practitioner"));
            clinicians.sort_by(|a, b| {
                index
                    .item(a.1)
                    .title()
                    .cmp(index.item(b.1).title())
                    .then(a.0.cmp(&b.0))
            });
            if !clinicians.is_empty() {
                out.push(ListSection {
                    title: "Clinicians".into(),
                    rows: to_rows(index, clinicians, h),
                });
            }
            out
        }
        ListKind::Goals => {
            let v = collect(index, h, |it| it.category() == Category::Goal);
            sectioned(
                index,
                v,
                &["Current", "Ended"],
                |it| match it.activity() {
                    Activity::Active | Activity::Planned | Activity::Paused | Activity::Unknown => {
                        "Current"
                    }
                    Activity::Ended => "Ended",
                },
                h,
            )
        }
    };
    CategoryList { kind, sections }
}

/// A member of a care team.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CareTeamMember {
    pub name: String,
    pub role: String,
}

/// A care team with its members.
#[derive(Clone, Debug, PartialEq)]
pub struct CareTeamView {
    pub row: Row,
    pub members: Vec<CareTeamMember>,
}

/// Care teams with their participants (names resolved from Practitioner resources of the same
/// source when the team only references them).
pub fn care_teams(index: &Index, include_hidden: bool) -> Vec<CareTeamView> {
    let mut v = collect(index, include_hidden, |it| {
        it.category() == Category::CareTeam
    });
    newest_first(index, &mut v);
    v.into_iter()
        .map(|(g, rep)| CareTeamView {
            row: index.row_with_rep(g, rep, include_hidden),
            members: match index.extra(rep) {
                Some(Extra::CareTeam { participants }) => participants
                    .iter()
                    .map(|(n, r)| CareTeamMember {
                        name: n.clone(),
                        role: r.clone(),
                    })
                    .collect(),
                _ => Vec::new(),
            },
        })
        .collect()
}

/// An attachment of a document entry, as listed (the content is read with
/// [`crate::document::read_attachment`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AttachmentSummary {
    /// Position among the resource's attachments (`content[i]` / `presentedForm[i]`).
    pub position: usize,
    pub content_type: Option<String>,
    pub title: Option<String>,
    /// The data is in the resource (base64); otherwise it must be fetched from `url`.
    pub included: bool,
    pub url: Option<String>,
    pub size: Option<u64>,
}

/// The attachments of a DocumentReference or DiagnosticReport item.
pub fn attachments(index: &Index, id: ItemId) -> Vec<AttachmentSummary> {
    match index.extra(id) {
        Some(Extra::Document { attachments, .. }) => attachments
            .iter()
            .enumerate()
            .map(|(i, a)| AttachmentSummary {
                position: i,
                content_type: a.content_type.clone(),
                title: a.title.clone(),
                included: a.has_data,
                url: a.url.clone(),
                size: a.size,
            })
            .collect(),
        _ => Vec::new(),
    }
}

/// LOINC "Patient Note": the record keeps a patient's note on an item as a DocumentReference of
/// this type whose `context.related` points at the item.
pub use phr_fhir::types::PATIENT_NOTE_LOINC;

fn is_note_about_item(index: &Index, it: &ItemRef<'_>) -> bool {
    it.code_in(crate::codes::LOINC) == Some(PATIENT_NOTE_LOINC)
        && matches!(index.extra(it.id()), Some(Extra::Document { related, .. }) if !related.is_empty())
}

/// The patient's notes about an item, newest first. `reference` is the item's exact reference as
/// the record writes it into the note's `context.related` (e.g. `https://ehr.example/fhir/
/// Observation/123` or `urn:uuid:…`). Notes about items are left out of the Documents list and
/// shown with their item instead.
pub fn notes_about(index: &Index, reference: &str, include_hidden: bool) -> Vec<Row> {
    let mut v = collect(index, include_hidden, move |it| {
        it.resource_type() == "DocumentReference"
            && matches!(index.extra(it.id()), Some(Extra::Document { related, .. })
                if related.iter().any(|r| r == reference))
    });
    newest_first(index, &mut v);
    to_rows(index, v, include_hidden)
}

mod common;

use common::*;
use phr_views::document::{attachments_of, read_attachment, DocumentView};
use phr_views::lists::{attachments, care_teams, list, notes_about, ListKind};

fn section_titles(l: &phr_views::lists::CategoryList) -> Vec<&str> {
    l.sections.iter().map(|s| s.title.as_str()).collect()
}

fn row_titles(s: &phr_views::lists::ListSection) -> Vec<&str> {
    s.rows.iter().map(|r| r.title.as_str()).collect()
}

#[test]
fn medications_active_and_stopped() {
    let rec = fixture_record();
    let index = rec.index();
    let l = list(&index, ListKind::Medications, false);
    assert_eq!(section_titles(&l), ["Active", "Stopped"]);
    assert_eq!(l.section("Active").unwrap().rows.len(), 7);
    assert_eq!(
        row_titles(l.section("Stopped").unwrap()),
        ["Amoxicillin 250 MG Oral Capsule"]
    );
    // Every row has its sources and date.
    for r in &l.section("Active").unwrap().rows {
        assert!(!r.sources.is_empty());
        assert!(r.date.is_some(), "{}", r.title);
    }
}

#[test]
fn allergies_problems_and_goals_by_status() {
    let rec = fixture_record();
    let index = rec.index();
    let a = list(&index, ListKind::Allergies, false);
    assert_eq!(section_titles(&a), ["Active", "Inactive"]);
    assert_eq!(row_titles(a.section("Inactive").unwrap()), ["Latex"]);
    let p = list(&index, ListKind::Problems, false);
    assert_eq!(
        row_titles(p.section("Resolved").unwrap()),
        ["Acute bronchitis (disorder)"]
    );
    let g = list(&index, ListKind::Goals, false);
    assert_eq!(
        row_titles(g.section("Current").unwrap()),
        ["Lose weight", "Keep HbA1c below 6.5%"]
    );
    assert_eq!(
        row_titles(g.section("Ended").unwrap()),
        ["Finish physical therapy"]
    );
}

#[test]
fn results_grouped_by_test_and_vitals_by_kind() {
    let rec = fixture_record();
    let index = rec.index();
    let r = list(&index, ListKind::Results, false);
    let a1c = r
        .section("Hemoglobin A1c/Hemoglobin.total in Blood")
        .unwrap();
    let values: Vec<&str> = a1c.rows.iter().map(|r| r.detail.as_str()).collect();
    assert_eq!(values, ["6.4 %", "6.1 %", "5.9 %"]);
    // Glucose: two results from the hospital and one from the file abroad, one section.
    let glu = r.section("Glucose [Mass/volume] in Blood").unwrap();
    assert_eq!(glu.rows.len(), 3);
    assert!(glu.rows.iter().any(|r| r.detail == "5.8 mmol/L"));
    // The unreadable hemoglobin is listed (with its note), not lost.
    let hb = r.section("Hemoglobin [Mass/volume] in Blood").unwrap();
    assert!(hb.rows[0].note.is_some());

    let v = list(&index, ListKind::Vitals, false);
    let weights = v.section("Weight").unwrap();
    let w: Vec<(&str, bool)> = weights
        .rows
        .iter()
        .map(|r| (r.detail.as_str(), r.patient_reported))
        .collect();
    assert_eq!(
        w,
        [
            ("176 lb", true),
            ("80.5 kg", false),
            ("82.0 kg", false),
            ("81 kg", false),
            ("84.2 kg", false)
        ]
    );
    assert!(v.section("Blood pressure").is_some());
}

#[test]
fn immunizations_procedures_visits_documents() {
    let rec = fixture_record();
    let index = rec.index();
    let i = list(&index, ListKind::Immunizations, false);
    assert_eq!(i.len(), 2);
    let p = list(&index, ListKind::Procedures, false);
    assert_eq!(row_titles(&p.sections[0]), ["Colonoscopy (procedure)"]);
    let v = list(&index, ListKind::Visits, false);
    assert_eq!(
        row_titles(&v.sections[0]),
        [
            "Follow-up encounter (procedure)",
            "Encounter for check up",
            "Emergency room admission (procedure)"
        ]
    );
    assert_eq!(v.sections[0].rows[2].detail, "Acute bronchitis (disorder)");
    let d = list(&index, ListKind::Documents, false);
    assert_eq!(
        row_titles(&d.sections[0]),
        [
            "Summary of episode note",
            "Lipid panel with direct LDL - Serum or Plasma"
        ]
    );
    let doc = index.find(&rec.key_of("gh-docref-ccd")).unwrap();
    let atts = attachments(&index, doc);
    assert_eq!(atts.len(), 2);
    assert!(atts[0].included);
    assert_eq!(atts[1].content_type.as_deref(), Some("application/pdf"));
    assert!(!atts[1].included);
    assert!(atts[1].url.as_deref().unwrap().starts_with("Binary/"));
}

#[test]
fn care_team_resolves_members() {
    let rec = fixture_record();
    let index = rec.index();
    let teams = care_teams(&index, false);
    assert_eq!(teams.len(), 1);
    let members: Vec<(&str, &str)> = teams[0]
        .members
        .iter()
        .map(|m| (m.name.as_str(), m.role.as_str()))
        .collect();
    assert_eq!(
        members,
        [
            ("Dr. Rosa Lee", "Primary care physician"),
            ("Sam Ortiz, RN", "Nurse")
        ]
    );
    let l = list(&index, ListKind::CareTeam, false);
    assert_eq!(section_titles(&l), ["Care teams", "Clinicians"]);
    let clinician = &l.section("Clinicians").unwrap().rows[0];
    assert_eq!(clinician.title, "Dr. Rosa Lee");
    assert_eq!(clinician.detail, "Doctor of Medicine");
}

#[test]
fn patient_notes_show_with_their_item_not_as_documents() {
    let rec = fixture_record();
    let index = rec.index();
    let notes = notes_about(
        &index,
        "https://ehr.demo-general.example/fhir/Procedure/gh-proc-colo",
        false,
    );
    assert_eq!(notes.len(), 1);
    assert!(notes[0].patient_reported);
    assert_eq!(notes[0].title, "Patient Note");
    let res = &rec
        .entries
        .iter()
        .find(|e| e.key == notes[0].key)
        .unwrap()
        .resource;
    assert_eq!(
        read_attachment(&attachments_of(res)[0]),
        Ok(DocumentView::Text(
            "Doctor said to repeat in 5 years.".into()
        ))
    );
    // Exact reference only.
    assert!(notes_about(&index, "Procedure/gh-proc-colo", false).is_empty());
    let docs = list(&index, ListKind::Documents, false);
    assert!(!docs.sections[0]
        .rows
        .iter()
        .any(|r| r.title == "Patient Note"));
}

mod common;

use common::*;
use phr_views::timeline::{
    item_matches, month_breaks, page, page_count, rows_for, timeline, window, SearchQuery,
    TimelineFilter,
};
use phr_views::{Category, CategorySet, Day, SourceKind};
use serde_json::json;

fn titles(index: &phr_views::Index, f: &TimelineFilter) -> Vec<String> {
    rows_for(index, &timeline(index, f), f.include_hidden)
        .into_iter()
        .map(|r| r.title)
        .collect()
}

/// The titles a timeline search for `text` shows.
fn searched(index: &phr_views::Index, text: &str) -> Vec<String> {
    titles(
        index,
        &TimelineFilter {
            text: text.into(),
            ..Default::default()
        },
    )
}

#[test]
fn newest_first_and_one_row_per_fact() {
    let rec = fixture_record();
    let index = rec.index();
    let groups = timeline(&index, &TimelineFilter::default());
    let rows = rows_for(&index, &groups, false);
    assert!(rows.len() > 40);
    for w in rows.windows(2) {
        let a = w[0].date.unwrap().sort_key();
        let b = w[1].date.unwrap().sort_key();
        assert!(a >= b, "{:?} before {:?}", w[0].date, w[1].date);
    }
    // Directory entries (Patient, Practitioner, Medication) and undated items are not on it;
    // entered-in-error is not either.
    assert!(rows.iter().all(|r| r.category != Category::Directory));
    assert!(!rows.iter().any(|r| r.title.contains("Diabetes mellitus")));
    // The flu shot from two providers is one row.
    let flu: Vec<_> = rows
        .iter()
        .filter(|r| r.title.starts_with("Influenza"))
        .collect();
    assert_eq!(flu.len(), 1);
    assert_eq!(flu[0].sources.len(), 2);
    // The first rows are the patient's dose log of March 2024, flagged patient-reported.
    assert_eq!(rows[0].category, Category::DoseLog);
    assert!(rows[0].patient_reported);
    // The clinical view leaves out the dose log and billing.
    let clinical = rows_for(
        &index,
        &timeline(&index, &TimelineFilter::clinical()),
        false,
    );
    assert!(clinical
        .iter()
        .all(|r| !matches!(r.category, Category::DoseLog | Category::Billing)));
    assert_eq!(clinical[0].title, "Body weight");
    let claim = rows
        .iter()
        .find(|r| r.category == Category::Billing)
        .unwrap();
    assert_eq!(claim.title, "Claim (Professional)");
}

#[test]
fn filters_by_category_source_and_date() {
    let rec = fixture_record();
    let index = rec.index();
    let f = TimelineFilter {
        categories: CategorySet::of(&[Category::Immunization]),
        ..Default::default()
    };
    assert_eq!(
        titles(&index, &f),
        [
            "Influenza, seasonal, injectable, preservative free",
            "Td (adult) preservative free"
        ]
    );
    // By resource type.
    let f = TimelineFilter {
        resource_types: Some(vec!["Procedure".into()]),
        ..Default::default()
    };
    assert_eq!(titles(&index, &f), ["Colonoscopy (procedure)"]);
    // Source filter: a fact matches when any of its copies comes from the source.
    let bh = index.source_by_id("ehr:demo-behavioral").unwrap();
    let f = TimelineFilter {
        sources: Some(vec![bh]),
        categories: CategorySet::of(&[Category::Immunization, Category::Problem]),
        ..Default::default()
    };
    assert_eq!(
        titles(&index, &f),
        [
            "Influenza, seasonal, injectable, preservative free",
            "Anxiety disorder (disorder)",
            "Essential hypertension (disorder)"
        ]
    );
    // Date range, inclusive, on the dates as written.
    let f = TimelineFilter {
        from: Day::from_ymd(2023, 3, 5),
        to: Day::from_ymd(2023, 3, 5),
        categories: CategorySet::of(&[Category::Visit, Category::Report, Category::Document]),
        ..Default::default()
    };
    assert_eq!(
        titles(&index, &f),
        [
            "Summary of episode note",
            "Lipid panel with direct LDL - Serum or Plasma",
            "Encounter for check up"
        ]
    );
}

#[test]
fn search_matches_displays_codes_values_all_words_and_folds_accents() {
    let rec = fixture_record();
    let index = rec.index();
    let search = |text: &str| searched(&index, text);
    // By LOINC code: the three results and the goal whose target is measured by that test.
    let a1c = search("4548-4");
    assert_eq!(a1c.len(), 4);
    assert_eq!(
        a1c.iter()
            .filter(|t| t.starts_with("Hemoglobin A1c"))
            .count(),
        3
    );
    assert!(a1c.contains(&"Keep HbA1c below 6.5%".to_string()));
    // By RxNorm code (atorvastatin from two providers, two prescriptions).
    assert_eq!(search("617310").len(), 2);
    // By CVX code.
    assert_eq!(
        search("140"),
        ["Influenza, seasonal, injectable, preservative free"]
    );
    // Several words: all must match, in any order, any case.
    assert_eq!(
        search("GLUCOSE blood 96"),
        ["Glucose [Mass/volume] in Blood"]
    );
    assert!(search("glucose 12345").is_empty());
    // A display that only the other source's copy has ("HbA1c") still finds the fact.
    assert_eq!(
        search("hba1c"),
        [
            "Hemoglobin A1c/Hemoglobin.total in Blood",
            "Keep HbA1c below 6.5%"
        ]
    );
    // Diacritics and case are folded both ways.
    let mut rec2 = Record::new();
    let s = rec2.source("ehr:x", "Clinique Saint-Étienne", SourceKind::Ehr);
    rec2.add_json(
        s,
        json!({"resourceType":"Condition","id":"c","code":{"text":"Névrite optique"},"onsetDateTime":"2020-01-01"}),
    );
    let i2 = rec2.index();
    for q in ["nevrite", "NÉVRITE", "optique nev"] {
        let hits = timeline(
            &i2,
            &TimelineFilter {
                text: q.into(),
                ..Default::default()
            },
        );
        assert_eq!(hits.len(), 1, "{q}");
    }
    // Words match at the start of a word: "cose" is inside "glucose", not a word of its own.
    assert!(search("glucose cose").is_empty());
    assert!(!search("glucose gluc").is_empty());
    // Reaction names of allergies are searchable too.
    assert_eq!(search("hives"), ["Amoxicillin"]);
    // Matching is per item; the query helper agrees with the timeline.
    let q = SearchQuery::new("creatinine 1.32");
    let id = index.find(&rec.key_of("gh-creat")).unwrap();
    assert!(item_matches(&index, id, &q));
    assert!(!item_matches(
        &index,
        id,
        &SearchQuery::new("creatinine 9.99")
    ));
}

#[test]
fn hidden_items_are_left_out_unless_asked() {
    let mut rec = fixture_record();
    let k = rec.key_of("gh-proc-colo");
    rec.entry_mut(&k).hidden = true;
    let index = rec.index();
    let f = TimelineFilter {
        text: "colonoscopy".into(),
        ..Default::default()
    };
    assert!(timeline(&index, &f).is_empty());
    let f = TimelineFilter {
        include_hidden: true,
        ..f
    };
    let rows = rows_for(&index, &timeline(&index, &f), true);
    assert_eq!(rows.len(), 1);
    assert!(rows[0].hidden);
}

#[test]
fn windowing_and_paging_helpers() {
    let w = window(1000, 48.0, 4800.0, 480.0, 5);
    assert_eq!(w.range, 95..116);
    assert_eq!(w.offset_px, 95.0 * 48.0);
    assert_eq!(w.total_px, 48_000.0);
    let top = window(1000, 48.0, 0.0, 480.0, 5);
    assert_eq!(top.range, 0..16);
    let past_end = window(10, 48.0, 99_999.0, 480.0, 2);
    assert_eq!(past_end.range, 7..10);
    assert_eq!(window(0, 48.0, 0.0, 480.0, 5).range, 0..0);
    assert_eq!(window(10, 0.0, 0.0, 480.0, 5).range, 0..0);
    let items: Vec<u32> = (0..25).collect();
    assert_eq!(page(&items, 0, 10), &items[0..10]);
    assert_eq!(page(&items, 2, 10), &items[20..25]);
    assert!(page(&items, 3, 10).is_empty());
    assert!(page(&items, usize::MAX, 10).is_empty());
    assert_eq!(page_count(25, 10), 3);
    assert_eq!(page_count(0, 10), 0);

    let rec = fixture_record();
    let index = rec.index();
    let groups = timeline(&index, &TimelineFilter::default());
    let breaks = month_breaks(&index, &groups);
    assert_eq!(breaks[0], (2024, 3, 0));
    // Ids of unknown groups give nothing rather than a panic.
    assert!(index.row(phr_views::GroupId(u32::MAX), true).is_none());
    assert!(index.group_members(phr_views::GroupId(u32::MAX)).is_empty());
    assert!(breaks.windows(2).all(|w| w[0].2 < w[1].2));
}

#[test]
fn a_note_is_found_by_the_words_in_it() {
    use base64::Engine as _;
    let b64 = |t: &str| base64::engine::general_purpose::STANDARD.encode(t);
    let doc = |id: &str, content_type: &str, text: &str| {
        json!({
            "resourceType": "DocumentReference", "id": id, "status": "current",
            "type": {"coding": [{"system": "http://loinc.org", "code": "51855-5", "display": "Patient Note"}]},
            "date": "2024-03-02T10:00:00Z",
            "content": [{"attachment": {"contentType": content_type, "data": b64(text), "title": "My note"}}]
        })
    };
    let long = format!("{} zebrafinch", "filler words ".repeat(2000));
    let rec = record_of(
        SourceKind::Patient,
        vec![
            doc(
                "n1",
                "text/plain; charset=utf-8",
                "Ask about the dizziness after the new dose",
            ),
            doc("n2", "text/html", "<p>quokka</p>"),
            doc("n3", "text/plain", &long),
            json!({
                "resourceType": "DocumentReference", "id": "p1", "status": "current",
                "type": {"coding": [{"system": "http://loinc.org", "code": "11506-3", "display": "Progress note"}]},
                "date": "2024-03-01T10:00:00Z",
                "content": [{"attachment": {"contentType": "text/plain", "data": b64("wallaby")}}]
            }),
        ],
    );
    let index = rec.index();
    let search = |text: &str| searched(&index, text).len();
    assert_eq!(search("dizziness"), 1, "the note's own words");
    assert_eq!(search("new dose"), 1);
    assert_eq!(search("quokka"), 0, "only plain text is read");
    assert_eq!(search("wallaby"), 0, "only the patient's notes are decoded");
    assert_eq!(
        search("zebrafinch"),
        0,
        "long documents are not decoded for search (they can be megabytes)"
    );
}

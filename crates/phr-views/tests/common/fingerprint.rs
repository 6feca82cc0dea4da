//! A text fingerprint of everything an index answers through the public API: every item's
//! accessors, every group and row, the timeline (plain and searched), the summary, every list,
//! care teams, attachments, notes, charts and medication checks. Two indexes that give the same
//! fingerprint answer every screen identically.
#![allow(dead_code)]

use std::fmt::Write;

use phr_views::charts::{charts, ChartOptions};
use phr_views::lists::{attachments, care_teams, list, notes_about, ListKind};
use phr_views::medcheck::medication_checks;
use phr_views::results::{range_flag, reference_range, test_key};
use phr_views::summary::{summary, SummaryOptions};
use phr_views::timeline::{month_breaks, rows_for, timeline, TimelineFilter};
use phr_views::{Day, GroupId, Index, ItemId};

/// Search texts the fingerprint runs through the timeline.
pub const QUERIES: &[&str] = &[
    "a",
    "hemo",
    "hemoglobin a1c",
    "glucose 9",
    "dr",
    "café",
    "8480",
    "active",
    "zzzz",
    "medication",
    "mg",
];

/// The fingerprint, one fact per line; `references` are looked up with `notes_about`.
pub fn fingerprint(index: &Index, today: Day, references: &[&str]) -> String {
    let mut out = String::new();
    let o = &mut out;
    writeln!(o, "len {} groups {}", index.len(), index.group_count()).unwrap();
    for (i, s) in index.sources().iter().enumerate() {
        writeln!(o, "source {i} {s:?}").unwrap();
    }
    for it in index.items() {
        let id = it.id();
        writeln!(
            o,
            "item {} key={:?} type={} cat={:?} act={:?} date={:?} end={:?} title={:?} \
             detail={:?} status={:?} codes={:?} src={:?} pr={} hid={} gone={} err={} note={:?} \
             hay={:?} group={:?} find={:?}",
            id.0,
            it.key(),
            it.resource_type(),
            it.category(),
            it.activity(),
            it.date(),
            it.end_date(),
            it.title(),
            it.detail(),
            it.status(),
            it.codes().collect::<Vec<_>>(),
            it.source_id(),
            it.patient_reported(),
            it.hidden(),
            it.gone_at_source(),
            it.entered_in_error(),
            it.note(),
            it.haystack(),
            it.group(),
            index.find(it.key()),
        )
        .unwrap();
        writeln!(
            o,
            "  test={:?} range={:?} flag={:?} att={:?}",
            test_key(index, id),
            reference_range(index, id),
            range_flag(index, id),
            attachments(index, id),
        )
        .unwrap();
    }
    writeln!(o, "find-missing {:?}", index.find("no such key")).unwrap();
    writeln!(
        o,
        "get-out-of-range {:?}",
        index.get(ItemId(u32::MAX)).is_some()
    )
    .unwrap();
    for g in 0..index.group_count() as u32 {
        let g = GroupId(g);
        writeln!(
            o,
            "group {} members={:?} rep={:?}",
            g.0,
            index.group_members(g),
            index.group_rep(g)
        )
        .unwrap();
        writeln!(o, "  row={:?}", index.row(g, false)).unwrap();
        writeln!(o, "  row-hidden={:?}", index.row(g, true)).unwrap();
    }
    let clinical = timeline(index, &TimelineFilter::clinical());
    writeln!(o, "timeline-clinical {clinical:?}").unwrap();
    writeln!(o, "month-breaks {:?}", month_breaks(index, &clinical)).unwrap();
    let all = timeline(
        index,
        &TimelineFilter {
            include_hidden: true,
            ..TimelineFilter::default()
        },
    );
    writeln!(o, "timeline-all {all:?}").unwrap();
    let head = &all[..all.len().min(50)];
    writeln!(o, "rows-for {:?}", rows_for(index, head, true)).unwrap();
    for q in QUERIES {
        let f = TimelineFilter {
            text: (*q).to_string(),
            ..TimelineFilter::default()
        };
        writeln!(o, "search {q:?} {:?}", timeline(index, &f)).unwrap();
    }
    writeln!(
        o,
        "summary {:?}",
        summary(index, &SummaryOptions::new(today))
    )
    .unwrap();
    for kind in [
        ListKind::Medications,
        ListKind::Allergies,
        ListKind::Problems,
        ListKind::Results,
        ListKind::Vitals,
        ListKind::Immunizations,
        ListKind::Procedures,
        ListKind::Visits,
        ListKind::Documents,
        ListKind::CareTeam,
        ListKind::Goals,
    ] {
        for hidden in [false, true] {
            writeln!(o, "list {kind:?} {hidden} {:?}", list(index, kind, hidden)).unwrap();
        }
    }
    writeln!(o, "care-teams {:?}", care_teams(index, true)).unwrap();
    for r in references {
        writeln!(o, "notes {r} {:?}", notes_about(index, r, true)).unwrap();
    }
    writeln!(o, "charts {:?}", charts(index, &ChartOptions::default())).unwrap();
    writeln!(o, "medcheck {:?}", medication_checks(index)).unwrap();
    out
}

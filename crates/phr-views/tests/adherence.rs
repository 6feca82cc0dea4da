//! Adherence arithmetic across time zones and DST changes.
mod common;

use common::*;
use phr_fhir::Resource;
use phr_views::adherence::fhir::{
    dose_log, schedule_from_resource, schedules_from_resource, ScheduleError,
};
use phr_views::adherence::{
    doses, doses_all, stats, week, week_all, weeks, AdherenceOptions, DoseAction, DoseLogEntry,
    DoseSchedule, DoseStatus, FixedZone, LocalZone, RuleZone, SlotId, SlotTiming, ZoneHistory,
};
use phr_views::{Day, LocalDateTime, LocalTime, Timestamp, Weekday};
use serde_json::json;

fn day(y: i32, m: u32, d: u32) -> Day {
    Day::from_ymd(y, m, d).unwrap()
}

fn t(h: u32, m: u32) -> LocalTime {
    LocalTime::hm(h, m).unwrap()
}

fn ts(s: &str) -> Timestamp {
    Timestamp::parse(s).unwrap()
}

fn statuses(r: &[phr_views::adherence::DayDoses]) -> Vec<(String, Vec<DoseStatus>)> {
    r.iter()
        .map(|d| {
            (
                d.day.to_string(),
                d.doses.iter().map(|x| x.status).collect(),
            )
        })
        .collect()
}

#[test]
fn fixture_week_from_fhir_in_new_york() {
    let rec = fixture_record();
    let ny = RuleZone::new_york();
    let stmt = rec
        .entries
        .iter()
        .find(|e| e.resource.id() == Some("pe-vitd"))
        .unwrap();
    let schedule = schedule_from_resource(&stmt.resource, &ny).unwrap();
    assert_eq!(schedule.times, [t(8, 0), t(20, 0)]);
    assert_eq!(
        schedule.start,
        LocalDateTime::new(day(2024, 3, 4), LocalTime::MIDNIGHT)
    );
    assert_eq!(schedule.end, None);
    let log = dose_log(
        rec.entries.iter().map(|e| (e.key.as_str(), &e.resource)),
        "MedicationStatement/pe-vitd",
        &ny,
    );
    // Five usable entries; the entered-in-error one is ignored silently.
    assert_eq!(log.entries.len(), 5);
    assert!(log.issues.is_empty());
    assert_eq!(
        log.entries[0].slot,
        Some(SlotId {
            day: day(2024, 3, 4),
            time: t(8, 0)
        })
    );
    assert_eq!(log.entries[4].slot, None);
    assert_eq!(log.entries[2].action, DoseAction::Skipped);

    let now = ts("2024-03-07T09:00:00-05:00");
    let w = week(
        &schedule,
        &log.entries,
        &ny,
        day(2024, 3, 4),
        now,
        &AdherenceOptions::default(),
    );
    use DoseStatus::*;
    let got = statuses(&w.days);
    assert_eq!(got[0], ("2024-03-04".into(), vec![Taken, Taken]));
    assert_eq!(got[1], ("2024-03-05".into(), vec![Skipped, Taken]));
    // 08:00 never answered → missed; 20:00 answered by the entry at 20:40 without a slot.
    assert_eq!(got[2], ("2024-03-06".into(), vec![Missed, Taken]));
    // At 09:00 the 08:00 dose is within its two-hour grace period.
    assert_eq!(got[3], ("2024-03-07".into(), vec![Due, Upcoming]));
    assert_eq!(got[6], ("2024-03-10".into(), vec![Upcoming, Upcoming]));
    let s = w.stats;
    assert_eq!(
        (s.scheduled, s.taken, s.skipped, s.missed, s.due, s.upcoming),
        (14, 4, 1, 1, 1, 7)
    );
    assert_eq!(s.counted, 7);
    assert_eq!(s.percent, Some(57));
    // Keys of the answering entries come back.
    let first = &w.days[0].doses[0];
    assert_eq!(
        log.entries[first.entry.unwrap()].key.as_deref(),
        Some(rec.key_of("pe-d1").as_str())
    );
    assert_eq!(first.due, ts("2024-03-04T13:00:00Z"));
}

#[test]
fn spring_forward_dose_at_0230_is_shifted_not_lost() {
    let ny = RuleZone::new_york();
    let schedule = DoseSchedule::daily(&[t(2, 30)], day(2024, 3, 1));
    let r = doses(
        &schedule,
        &[],
        &ny,
        day(2024, 3, 9),
        day(2024, 3, 11),
        ts("2024-03-20T00:00:00Z"),
        &AdherenceOptions::default(),
    );
    let got: Vec<(usize, Timestamp, SlotTiming)> = r
        .days
        .iter()
        .map(|d| (d.doses.len(), d.doses[0].due, d.doses[0].timing))
        .collect();
    assert_eq!(
        got,
        [
            (1, ts("2024-03-09T07:30:00Z"), SlotTiming::Normal),
            // 02:30 does not exist on 10 March: due at 03:30 EDT.
            (
                1,
                ts("2024-03-10T07:30:00Z"),
                SlotTiming::ShiftedForward { seconds: 3600 }
            ),
            (1, ts("2024-03-11T06:30:00Z"), SlotTiming::Normal),
        ]
    );
    // A dose taken at 03:35 EDT that day, logged without a slot, answers it.
    let log = [DoseLogEntry {
        slot: None,
        at: ts("2024-03-10T03:35:00-04:00"),
        action: DoseAction::Taken,
        key: None,
    }];
    let r = doses(
        &schedule,
        &log,
        &ny,
        day(2024, 3, 10),
        day(2024, 3, 10),
        ts("2024-03-10T12:00:00Z"),
        &AdherenceOptions::default(),
    );
    assert_eq!(r.days[0].doses[0].status, DoseStatus::Taken);
    assert!(r.unmatched.is_empty());
}

#[test]
fn fall_back_day_has_one_dose_at_the_first_0130() {
    let ny = RuleZone::new_york();
    let schedule = DoseSchedule::daily(&[t(1, 30), t(9, 0)], day(2024, 11, 1));
    // Taken at 01:40 in the *second* 01:xx hour (EST), without a slot.
    let log = [DoseLogEntry {
        slot: None,
        at: ts("2024-11-03T01:40:00-05:00"),
        action: DoseAction::Taken,
        key: None,
    }];
    let now = ts("2024-11-04T12:00:00Z");
    let r = doses(
        &schedule,
        &log,
        &ny,
        day(2024, 11, 2),
        day(2024, 11, 4),
        now,
        &AdherenceOptions::default(),
    );
    let d = &r.days[1];
    assert_eq!(d.day, day(2024, 11, 3));
    assert_eq!(
        d.doses.len(),
        2,
        "a 25-hour day still has one dose per time"
    );
    assert_eq!(d.doses[0].due, ts("2024-11-03T05:30:00Z"), "01:30 EDT");
    assert_eq!(d.doses[0].timing, SlotTiming::FirstOfRepeated);
    assert_eq!(d.doses[0].status, DoseStatus::Taken);
    assert_eq!(d.doses[1].due, ts("2024-11-03T14:00:00Z"), "09:00 EST");
    let s = stats(&r.days);
    assert_eq!((s.scheduled, s.taken, s.missed), (6, 1, 4));
    assert_eq!(s.upcoming, 1, "4 Nov 09:00 EST is after now");
}

#[test]
fn london_rules_too() {
    let l = RuleZone::london();
    let schedule = DoseSchedule::daily(&[t(1, 30)], day(2024, 3, 1));
    let r = doses(
        &schedule,
        &[],
        &l,
        day(2024, 3, 31),
        day(2024, 3, 31),
        ts("2024-04-01T00:00:00Z"),
        &AdherenceOptions::default(),
    );
    assert_eq!(r.days[0].doses[0].due, ts("2024-03-31T01:30:00Z"));
    assert_eq!(
        r.days[0].doses[0].timing,
        SlotTiming::ShiftedForward { seconds: 3600 }
    );
    let r = doses(
        &schedule,
        &[],
        &l,
        day(2024, 10, 27),
        day(2024, 10, 27),
        ts("2024-11-01T00:00:00Z"),
        &AdherenceOptions::default(),
    );
    assert_eq!(
        r.days[0].doses[0].due,
        ts("2024-10-27T00:30:00Z"),
        "01:30 BST"
    );
    assert_eq!(r.days[0].doses[0].timing, SlotTiming::FirstOfRepeated);
}

#[test]
fn travel_follows_the_local_wall_clock() {
    // New York until the evening flight of 10 June (22:00 UTC), London from then, back to New
    // York on 20 June at 12:00 UTC.
    let zone = ZoneHistory {
        initial: Box::new(RuleZone::new_york()),
        changes: vec![
            (ts("2024-06-10T22:00:00Z"), Box::new(RuleZone::london())),
            (ts("2024-06-20T12:00:00Z"), Box::new(RuleZone::new_york())),
        ],
    };
    let schedule = DoseSchedule::daily(&[t(8, 0), t(20, 0)], day(2024, 6, 1));
    let r = doses(
        &schedule,
        &[],
        &zone,
        day(2024, 6, 10),
        day(2024, 6, 21),
        ts("2024-07-01T00:00:00Z"),
        &AdherenceOptions::default(),
    );
    let due = |y: i32, m: u32, d: u32, i: usize| {
        r.days.iter().find(|x| x.day == day(y, m, d)).unwrap().doses[i].due
    };
    assert_eq!(due(2024, 6, 10, 0), ts("2024-06-10T12:00:00Z"), "08:00 EDT");
    assert_eq!(due(2024, 6, 10, 1), ts("2024-06-11T00:00:00Z"), "20:00 EDT");
    assert_eq!(due(2024, 6, 11, 0), ts("2024-06-11T07:00:00Z"), "08:00 BST");
    assert_eq!(due(2024, 6, 20, 0), ts("2024-06-20T07:00:00Z"), "08:00 BST");
    assert_eq!(due(2024, 6, 20, 1), ts("2024-06-21T00:00:00Z"), "20:00 EDT");
    assert_eq!(due(2024, 6, 21, 0), ts("2024-06-21T12:00:00Z"), "08:00 EDT");
    // Every day keeps exactly its two doses.
    assert!(r.days.iter().all(|d| d.doses.len() == 2));
    assert_eq!(stats(&r.days).scheduled, 24);
    // The same instants in a fixed zone would be different: the zone really is followed.
    let fixed = doses(
        &schedule,
        &[],
        &FixedZone::hours(-4),
        day(2024, 6, 11),
        day(2024, 6, 11),
        ts("2024-07-01T00:00:00Z"),
        &AdherenceOptions::default(),
    );
    assert_eq!(fixed.days[0].doses[0].due, ts("2024-06-11T12:00:00Z"));
}

#[test]
fn weekdays_end_corrections_and_unmatched_entries() {
    let utc = FixedZone::UTC;
    let schedule = DoseSchedule {
        times: vec![t(9, 0)],
        days_of_week: vec![Weekday::Mon, Weekday::Wed, Weekday::Fri],
        start: LocalDateTime::new(day(2024, 5, 6), t(12, 0)), // Monday noon: Monday's dose not scheduled
        end: Some(LocalDateTime::new(day(2024, 5, 17), LocalTime::MIDNIGHT)), // through Thu 16th
    };
    let slot = |d| SlotId {
        day: day(2024, 5, d),
        time: t(9, 0),
    };
    let log = vec![
        // Wednesday: skipped first, then corrected to taken.
        DoseLogEntry {
            slot: Some(slot(8)),
            at: ts("2024-05-08T09:10:00Z"),
            action: DoseAction::Skipped,
            key: Some("a".into()),
        },
        DoseLogEntry {
            slot: Some(slot(8)),
            at: ts("2024-05-08T11:00:00Z"),
            action: DoseAction::Taken,
            key: Some("b".into()),
        },
        // A slot the schedule does not have (Tuesday).
        DoseLogEntry {
            slot: Some(slot(7)),
            at: ts("2024-05-07T09:00:00Z"),
            action: DoseAction::Taken,
            key: Some("c".into()),
        },
        // Far from any dose.
        DoseLogEntry {
            slot: None,
            at: ts("2024-05-11T18:00:00Z"),
            action: DoseAction::Taken,
            key: Some("d".into()),
        },
    ];
    let now = ts("2024-06-01T00:00:00Z");
    let r = doses(
        &schedule,
        &log,
        &utc,
        day(2024, 5, 6),
        day(2024, 5, 19),
        now,
        &AdherenceOptions::default(),
    );
    let scheduled: Vec<String> = r
        .days
        .iter()
        .filter(|d| !d.doses.is_empty())
        .map(|d| d.day.to_string())
        .collect();
    assert_eq!(
        scheduled,
        ["2024-05-08", "2024-05-10", "2024-05-13", "2024-05-15"]
    );
    let wed = &r.days[2].doses[0];
    assert_eq!(wed.status, DoseStatus::Taken);
    assert_eq!(log[wed.entry.unwrap()].key.as_deref(), Some("b"));
    assert_eq!(r.unmatched, [2, 3]);
    let s = r.stats();
    assert_eq!((s.taken, s.missed, s.percent), (1, 3, Some(25)));

    // Two weeks, Monday-based.
    let ws = weeks(
        &schedule,
        &log,
        &utc,
        (day(2024, 5, 6), day(2024, 5, 19)),
        Weekday::Mon,
        now,
        &AdherenceOptions::default(),
    );
    let per_week: Vec<(String, u32, Option<u8>)> = ws
        .iter()
        .map(|w| (w.start.to_string(), w.stats.scheduled, w.stats.percent))
        .collect();
    assert_eq!(
        per_week,
        [
            ("2024-05-06".into(), 2, Some(50)),
            ("2024-05-13".into(), 2, Some(0))
        ]
    );
}

#[test]
fn nothing_due_means_no_percentage() {
    let schedule = DoseSchedule::daily(&[t(8, 0)], day(2024, 1, 1));
    let w = week(
        &schedule,
        &[],
        &FixedZone::UTC,
        day(2024, 1, 1),
        ts("2023-12-31T00:00:00Z"),
        &AdherenceOptions::default(),
    );
    assert_eq!(w.stats.scheduled, 7);
    assert_eq!(w.stats.upcoming, 7);
    assert_eq!(w.stats.percent, None);
    // A dose taken early counts even before it is due.
    let log = [DoseLogEntry {
        slot: Some(SlotId {
            day: day(2024, 1, 1),
            time: t(8, 0),
        }),
        at: ts("2024-01-01T07:30:00Z"),
        action: DoseAction::Taken,
        key: None,
    }];
    let w = week(
        &schedule,
        &log,
        &FixedZone::UTC,
        day(2024, 1, 1),
        ts("2024-01-01T07:45:00Z"),
        &AdherenceOptions::default(),
    );
    assert_eq!((w.stats.counted, w.stats.percent), (1, Some(100)));
}

#[test]
fn fhir_schedule_errors_say_what_to_do() {
    let ny = RuleZone::new_york();
    let stmt = |dosage: serde_json::Value| {
        Resource::from_value(
            &json!({"resourceType":"MedicationStatement","id":"s","status":"active",
            "effectiveDateTime":"2024-01-01","dosage":[dosage]}),
        )
        .unwrap()
    };
    let bid = stmt(
        json!({"text":"twice a day","timing":{"repeat":{"frequency":2,"period":1,"periodUnit":"d"}}}),
    );
    let e = schedule_from_resource(&bid, &ny).unwrap_err();
    assert_eq!(
        e,
        ScheduleError::NoTimesOfDay {
            how_often: "2 times a day".into()
        }
    );
    assert!(e.to_string().contains("choose the times you take it"));
    let prn = stmt(json!({"text":"as needed","asNeededBoolean":true}));
    assert_eq!(
        schedule_from_resource(&prn, &ny),
        Err(ScheduleError::AsNeeded)
    );
    let bad = stmt(json!({"timing":{"repeat":{"timeOfDay":["25:00:00"]}}}));
    assert_eq!(
        schedule_from_resource(&bad, &ny),
        Err(ScheduleError::BadTimeOfDay("25:00:00".into()))
    );
    let cond = Resource::from_value(&json!({"resourceType":"Condition","id":"c"})).unwrap();
    assert!(matches!(
        schedule_from_resource(&cond, &ny),
        Err(ScheduleError::NotAMedication(_))
    ));
    let no_start = Resource::from_value(&json!({"resourceType":"MedicationStatement","id":"s",
        "dosage":[{"timing":{"repeat":{"timeOfDay":["08:00:00"]}}}]}))
    .unwrap();
    assert_eq!(
        schedule_from_resource(&no_start, &ny),
        Err(ScheduleError::NoStart)
    );
}

#[test]
fn fhir_request_with_bounds_weekdays_and_offsets() {
    let ny = RuleZone::new_york();
    let req = Resource::from_value(&json!({"resourceType":"MedicationRequest","id":"r",
        "status":"active","intent":"order","authoredOn":"2024-02-01T10:00:00-05:00",
        "dosageInstruction":[{"timing":{"repeat":{"timeOfDay":["21:00:00","07:30"],"dayOfWeek":["mon","thu"],
            "boundsPeriod":{"start":"2024-02-05T12:00:00Z","end":"2024-03-01"}}}}]}))
    .unwrap();
    let s = schedule_from_resource(&req, &ny).unwrap();
    assert_eq!(s.times, [t(7, 30), t(21, 0)]);
    assert_eq!(s.days_of_week, [Weekday::Mon, Weekday::Thu]);
    // 12:00 UTC is 07:00 in New York; the date-only end includes 1 March.
    assert_eq!(s.start, LocalDateTime::new(day(2024, 2, 5), t(7, 0)));
    assert_eq!(
        s.end,
        Some(LocalDateTime::new(day(2024, 3, 2), LocalTime::MIDNIGHT))
    );
    assert_eq!(s.slots_on(day(2024, 2, 5)).len(), 2);
    assert_eq!(s.slots_on(day(2024, 2, 6)).len(), 0);

    // A dose log with a slot written as one dateTime and the link in `partOf`, plus one with an
    // odd status that is reported, not counted.
    let ma = |id: &str, status: &str| {
        Resource::from_value(&json!({"resourceType":"MedicationAdministration","id":id,"status":status,
            "partOf":[{"reference":"https://ehr.example/fhir/MedicationRequest/r"}],
            "effectiveDateTime":"2024-02-05T07:35:00",
            "extension":[{"url":"http://example.org/dose-slot","valueDateTime":"2024-02-05T07:30:00"}]}))
        .unwrap()
    };
    let a = ma("a", "completed");
    let b = ma("b", "in-progress");
    let other = Resource::from_value(&json!({"resourceType":"MedicationAdministration","id":"o",
        "status":"completed","supportingInformation":[{"reference":"MedicationStatement/zzz"}],
        "effectiveDateTime":"2024-02-05T07:35:00Z"}))
    .unwrap();
    let log = dose_log(
        [("ka", &a), ("kb", &b), ("ko", &other)],
        "MedicationRequest/r",
        &ny,
    );
    assert_eq!(log.entries.len(), 1);
    assert_eq!(
        log.entries[0].slot,
        Some(SlotId {
            day: day(2024, 2, 5),
            time: t(7, 30)
        })
    );
    // A time without an offset is read on the patient's wall clock.
    assert_eq!(log.entries[0].at, ts("2024-02-05T12:35:00Z"));
    assert_eq!(log.issues.len(), 1);
    assert_eq!(log.issues[0].key, "kb");
}

#[test]
fn zone_offsets_are_what_the_browser_would_report() {
    // The browser implements LocalZone with JS Date; this checks the generic resolution against
    // a zone whose offset is defined only by offset_at.
    struct Plus530;
    impl LocalZone for Plus530 {
        fn offset_at(&self, _: Timestamp) -> i32 {
            5 * 3600 + 1800
        }
    }
    let schedule = DoseSchedule::daily(&[t(8, 0)], day(2024, 1, 1));
    let r = doses(
        &schedule,
        &[],
        &Plus530,
        day(2024, 1, 2),
        day(2024, 1, 2),
        ts("2024-01-01T00:00:00Z"),
        &AdherenceOptions::default(),
    );
    assert_eq!(r.days[0].doses[0].due, ts("2024-01-02T02:30:00Z"));
}

#[test]
fn a_changed_schedule_counts_each_day_against_the_times_that_applied() {
    // 08:00 from Monday 4 March at 07:00 (tracking starts then), changed to 09:00 and 21:00 on
    // Wednesday at noon; stopped on Friday at noon (New York).
    let ny = RuleZone::new_york();
    let stmt = Resource::from_value(&json!({"resourceType":"MedicationStatement","id":"m",
        "status":"stopped","effectivePeriod":{"start":"2024-01-15","end":"2024-03-08T12:00:00-05:00"},
        "dosage":[
            {"timing":{"repeat":{"timeOfDay":["09:00:00","21:00:00"],"frequency":2,"period":1,"periodUnit":"d",
                "boundsPeriod":{"start":"2024-03-06T12:00:00-05:00"}}}},
            {"timing":{"repeat":{"timeOfDay":["08:00:00"],"frequency":1,"period":1,"periodUnit":"d",
                "boundsPeriod":{"start":"2024-03-04T07:00:00-05:00","end":"2024-03-06T12:00:00-05:00"}}}}
        ]}))
    .unwrap();
    let schedules = schedules_from_resource(&stmt, &ny).unwrap();
    assert_eq!(schedules.len(), 2);
    // The single-schedule reader still gives the current schedule.
    assert_eq!(
        schedule_from_resource(&stmt, &ny).unwrap().times,
        [t(9, 0), t(21, 0)]
    );
    let slot = |d: u32, h: u32| SlotId {
        day: day(2024, 3, d),
        time: t(h, 0),
    };
    let taken = |d: u32, h: u32| DoseLogEntry {
        slot: Some(slot(d, h)),
        at: ts(&format!("2024-03-{d:02}T{h:02}:05:00-05:00")),
        action: DoseAction::Taken,
        key: None,
    };
    let log = vec![
        taken(4, 8),
        taken(5, 8),
        taken(6, 8),
        taken(6, 21),
        taken(7, 9),
    ];
    let now = ts("2024-03-10T12:00:00-04:00");
    let w = week_all(
        &schedules,
        &log,
        &ny,
        day(2024, 3, 4),
        now,
        &AdherenceOptions::default(),
    );
    use DoseStatus::*;
    let got = statuses(&w.days);
    assert_eq!(got[0].1, vec![Taken], "Monday: 08:00 only");
    assert_eq!(got[1].1, vec![Taken]);
    // Wednesday: 08:00 under the old times, 21:00 under the new (09:00 was before the change).
    assert_eq!(got[2].1, vec![Taken, Taken]);
    assert_eq!(
        w.days[2].doses.iter().map(|d| d.slot).collect::<Vec<_>>(),
        [slot(6, 8), slot(6, 21)]
    );
    assert_eq!(got[3].1, vec![Taken, Missed]);
    // Friday: 09:00 before the stop, 21:00 after it is not scheduled; nothing at the weekend.
    assert_eq!(got[4].1, vec![Missed]);
    assert!(got[5].1.is_empty() && got[6].1.is_empty());
    assert_eq!((w.stats.taken, w.stats.counted), (5, 7));
    assert_eq!(w.stats.percent, Some(71));
    // Every entry answered a slot.
    let r = doses_all(
        &schedules,
        &log,
        &ny,
        day(2024, 3, 4),
        day(2024, 3, 10),
        now,
        &AdherenceOptions::default(),
    );
    assert!(r.unmatched.is_empty());
    // Counted against today's times only, the old days would look wrong: that is what the
    // earlier schedule prevents.
    let only_now = week(
        &schedules[0],
        &log,
        &ny,
        day(2024, 3, 4),
        now,
        &AdherenceOptions::default(),
    );
    assert_ne!(only_now.stats, w.stats);
}

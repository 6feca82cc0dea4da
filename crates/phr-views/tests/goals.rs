//! Goal targets and progress charts: the measure since the goal started, in the target's unit,
//! from every source, with the target bounds on the chart.
mod common;

use common::*;
use phr_fhir::Resource;
use phr_views::goals::{bounds_text, goal_progress, goal_targets, GoalProgressOptions};
use phr_views::{SourceKind, When};
use serde_json::{json, Value};

const PATAST: &str = r#"{"security":[{"system":"http://terminology.hl7.org/CodeSystem/v3-ObservationValue","code":"PATAST"}]}"#;

fn patast() -> Value {
    serde_json::from_str(PATAST).unwrap()
}

fn weight(id: &str, when: &str, value: f64, unit: &str, code: &str) -> Value {
    json!({"resourceType":"Observation","id":id,"status":"final",
        "category":[{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/observation-category","code":"vital-signs"}]}],
        "code":{"coding":[{"system":"http://loinc.org","code":"29463-7","display":"Body weight"}]},
        "effectiveDateTime":when,
        "valueQuantity":{"value":value,"unit":unit,"system":"http://unitsofmeasure.org","code":code}})
}

fn bp(id: &str, when: &str, sys: f64, dia: f64) -> Value {
    let c = |code: &str, v: f64| {
        json!({"code":{"coding":[{"system":"http://loinc.org","code":code}]},
        "valueQuantity":{"value":v,"unit":"mmHg","system":"http://unitsofmeasure.org","code":"mm[Hg]"}})
    };
    json!({"resourceType":"Observation","id":id,"status":"final","meta":patast(),
        "code":{"coding":[{"system":"http://loinc.org","code":"85354-9"}]},
        "effectiveDateTime":when,"component":[c("8480-6", sys), c("8462-4", dia)]})
}

fn goal(v: Value) -> Resource {
    Resource::from_value(&v).unwrap()
}

#[test]
fn targets_read_as_bounds() {
    let g = goal(
        json!({"resourceType":"Goal","lifecycleStatus":"active","description":{"text":"BP"},
        "target":[
            {"measure":{"coding":[{"system":"http://loinc.org","code":"8480-6"}],"text":"Systolic"},
             "detailQuantity":{"value":130,"comparator":"<=","unit":"mmHg","system":"http://unitsofmeasure.org","code":"mm[Hg]"},
             "dueDate":"2024-12-31"},
            {"measure":{"coding":[{"system":"http://loinc.org","code":"8462-4"}]},
             "detailRange":{"low":{"value":60,"unit":"mmHg","system":"http://unitsofmeasure.org","code":"mm[Hg]"},
                            "high":{"value":80,"unit":"mmHg","system":"http://unitsofmeasure.org","code":"mm[Hg]"}}},
            {"measure":{"text":"Walking"},"detailString":"30 minutes a day"}
        ]}),
    );
    let t = goal_targets(&g);
    assert_eq!(t.len(), 3);
    assert_eq!((t[0].low, t[0].high), (None, Some(130.0)));
    assert_eq!(t[0].text, "at most 130 mmHg");
    assert_eq!(t[0].due.as_deref(), Some("2024-12-31"));
    assert_eq!(t[0].loinc.as_deref(), Some("8480-6"));
    assert_eq!((t[1].low, t[1].high), (Some(60.0), Some(80.0)));
    assert_eq!(t[1].text, "60 – 80 mmHg");
    assert_eq!(t[1].is_met(85.0, "mm[Hg]"), Some(false));
    assert_eq!(t[1].is_met(70.0, "mm[Hg]"), Some(true));
    assert!(!t[2].is_numeric());
    assert_eq!(t[2].text, "30 minutes a day");
    assert_eq!(t[2].is_met(1.0, ""), None);
    // Comparing across units converts; units of another dimension can't be compared.
    let w = goal(
        json!({"resourceType":"Goal","description":{"text":"w"},"target":[
        {"measure":{"coding":[{"system":"http://loinc.org","code":"29463-7"}]},
         "detailQuantity":{"value":80,"comparator":"<=","unit":"kg","system":"http://unitsofmeasure.org","code":"kg"}}]}),
    );
    let t = goal_targets(&w);
    assert_eq!(t[0].is_met(176.0, "[lb_av]"), Some(true), "176 lb < 80 kg");
    assert_eq!(t[0].is_met(177.0, "[lb_av]"), Some(false));
    assert_eq!(t[0].is_met(1.0, "mm[Hg]"), None);
    assert!(
        goal_targets(&Resource::from_value(&weight("x", "2024", 1.0, "kg", "kg")).unwrap())
            .is_empty()
    );
}

#[test]
fn weight_progress_since_the_start_in_the_targets_unit() {
    let mut r = Record::new();
    let ehr = r.source("ehr:gh", GH, SourceKind::Ehr);
    let me = r.source("patient", YOU, SourceKind::Patient);
    // An old clinic weight (before the goal), a recent clinic weight in kg, the patient's in lb.
    r.add_json(ehr, weight("old", "2020-01-10", 95.0, "kg", "kg"));
    r.add_json(
        ehr,
        weight("w1", "2024-05-03T09:00:00-04:00", 90.0, "kg", "kg"),
    );
    let mut mine = weight("w2", "2024-05-20T07:30:00-04:00", 195.0, "lb", "[lb_av]");
    mine["meta"] = patast();
    r.add_json(me, mine);
    let index = r.index();
    let g = goal(
        json!({"resourceType":"Goal","lifecycleStatus":"active","description":{"text":"Lose weight"},
        "startDate":"2024-05-01",
        "target":[{"measure":{"coding":[{"system":"http://loinc.org","code":"29463-7"}]},
            "detailQuantity":{"value":190,"comparator":"<=","unit":"lb","system":"http://unitsofmeasure.org","code":"[lb_av]"},
            "dueDate":"2024-08-01"}]}),
    );
    let p = goal_progress(&index, &g, &GoalProgressOptions::default());
    let chart = p.chart.expect("a chart");
    assert_eq!(chart.unit, "[lb_av]", "the target's unit");
    let pts = &chart.lines[0].points;
    assert_eq!(pts.len(), 2, "the 2020 weight is before the goal started");
    assert_eq!(pts[0].text, "198.4", "90 kg converted");
    assert!(pts[0].converted && !pts[0].patient_reported);
    assert_eq!(pts[1].text, "195.0", "digits as recorded");
    assert!(pts[1].patient_reported);
    assert_eq!(chart.table.len(), 2);
    assert_eq!(p.target_bounds, vec![Some((None, Some(190.0)))]);
    assert_eq!(p.latest.len(), 1);
    assert_eq!(p.latest[0].text, "195.0 lb");
    assert_eq!(p.latest[0].met, Some(false));
    // The y axis shows the target; the x axis reaches the due date.
    assert!(chart.y_axis.min <= 190.0 && chart.y_axis.max >= 198.4);
    let due = When::parse("2024-08-01").unwrap().timestamp().0 as f64;
    assert!(chart.x_axis.max >= due);
    assert_eq!(chart.reference_range, None);
    assert_eq!(
        bounds_text(p.target_bounds[0].unwrap(), &chart.unit_label),
        "at most 190 lb"
    );

    // A measurement logged for the goal before its start moves the start back.
    let opts = GoalProgressOptions {
        linked_dates: vec![When::parse("2020-01-10").unwrap()],
        include_hidden: false,
    };
    let p = goal_progress(&index, &g, &opts);
    assert_eq!(p.chart.unwrap().lines[0].points.len(), 3);
}

#[test]
fn blood_pressure_goal_uses_the_bp_chart_with_a_target_per_line() {
    let mut r = Record::new();
    let me = r.source("patient", YOU, SourceKind::Patient);
    r.add_json(me, bp("b1", "2024-05-02T08:00:00Z", 142.0, 92.0));
    r.add_json(me, bp("b2", "2024-05-09T08:00:00Z", 128.0, 78.0));
    let index = r.index();
    let g = goal(
        json!({"resourceType":"Goal","lifecycleStatus":"active","description":{"text":"BP"},
        "startDate":"2024-05-01","target":[
            {"measure":{"coding":[{"system":"http://loinc.org","code":"8480-6"}]},
             "detailQuantity":{"value":130,"comparator":"<=","unit":"mmHg","system":"http://unitsofmeasure.org","code":"mm[Hg]"}},
            {"measure":{"coding":[{"system":"http://loinc.org","code":"8462-4"}]},
             "detailQuantity":{"value":80,"comparator":"<=","unit":"mmHg","system":"http://unitsofmeasure.org","code":"mm[Hg]"}}]}),
    );
    let p = goal_progress(&index, &g, &GoalProgressOptions::default());
    let chart = p.chart.unwrap();
    assert_eq!(chart.lines.len(), 2);
    assert_eq!(
        p.target_bounds,
        vec![Some((None, Some(130.0))), Some((None, Some(80.0)))]
    );
    let met: Vec<_> = p.latest.iter().map(|l| (l.line.as_str(), l.met)).collect();
    assert_eq!(met, [("Systolic", Some(true)), ("Diastolic", Some(true))]);
}

#[test]
fn goals_without_numbers_or_measurements_have_no_chart() {
    let mut r = Record::new();
    let me = r.source("patient", YOU, SourceKind::Patient);
    r.add_json(me, weight("w", "2024-05-02", 80.0, "kg", "kg"));
    let index = r.index();
    let words = goal(
        json!({"resourceType":"Goal","description":{"text":"Walk"},"startDate":"2024-05-01",
        "target":[{"measure":{"text":"Walking"},"detailString":"30 minutes a day"}]}),
    );
    let p = goal_progress(&index, &words, &GoalProgressOptions::default());
    assert!(p.chart.is_none());
    assert_eq!(p.targets[0].text, "30 minutes a day");
    let steps = goal(
        json!({"resourceType":"Goal","description":{"text":"Steps"},"startDate":"2024-05-01",
        "target":[{"measure":{"coding":[{"system":"http://loinc.org","code":"41950-7"}]},
            "detailQuantity":{"value":8000,"comparator":">=","unit":"steps/day","system":"http://unitsofmeasure.org","code":"/d"}}]}),
    );
    assert!(
        goal_progress(&index, &steps, &GoalProgressOptions::default())
            .chart
            .is_none()
    );
    // A weight goal in a unit of another dimension: the chart is shown, the target is not drawn.
    let odd = goal(
        json!({"resourceType":"Goal","description":{"text":"w"},"startDate":"2024-05-01",
        "target":[{"measure":{"coding":[{"system":"http://loinc.org","code":"29463-7"}]},
            "detailQuantity":{"value":5,"comparator":"<=","unit":"mmHg","system":"http://unitsofmeasure.org","code":"mm[Hg]"}}]}),
    );
    let p = goal_progress(&index, &odd, &GoalProgressOptions::default());
    assert!(p.chart.is_some());
    assert_eq!(p.target_bounds, vec![None]);
    assert!(p.note.unwrap().contains("cannot be converted"));
}

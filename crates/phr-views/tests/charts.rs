mod common;

use common::*;
use phr_views::charts::{charts, charts_for_test, Chart, ChartOptions, ChartTopic};
use phr_views::SourceKind;
use serde_json::json;

fn find<'a>(cs: &'a [Chart], id_prefix: &str) -> Vec<&'a Chart> {
    cs.iter().filter(|c| c.id.starts_with(id_prefix)).collect()
}

#[test]
fn weight_converts_pounds_into_the_common_unit() {
    let rec = fixture_record();
    let index = rec.index();
    let cs = charts(&index, &ChartOptions::default());
    let w = find(&cs, "http://loinc.org|29463-7");
    assert_eq!(w.len(), 1, "kg and lb are one chart");
    let w = w[0];
    assert_eq!(w.topic, ChartTopic::Weight);
    assert_eq!(w.unit, "kg");
    assert_eq!(w.unit_label, "kg");
    let pts = &w.lines[0].points;
    let values: Vec<&str> = pts.iter().map(|p| p.text.as_str()).collect();
    // Oldest first; 176 lb = 79.8 kg (converted, one decimal at least), others as written.
    assert_eq!(values, ["84.2", "81", "82.0", "80.5", "79.8"]);
    let last = pts.last().unwrap();
    assert!(last.converted);
    assert!(last.patient_reported);
    assert_eq!(last.recorded, "176 lb");
    assert!((last.value - 79.832_257_12).abs() < 1e-6);
    // The data table, newest first, says what was recorded.
    assert_eq!(w.table_headers, ["Date", "Body Weight"]);
    assert_eq!(w.table[0].cells, ["79.8 kg (recorded as 176 lb)"]);
    assert_eq!(w.table[1].cells, ["80.5 kg"]);
    assert!(w.table[0].patient_reported);
    assert!(w.note.is_none());
    // Axes cover the data.
    assert!(w.y_axis.min <= 79.8 && w.y_axis.max >= 84.2);
    assert!(w.x_axis.min <= pts[0].x && w.x_axis.max >= last.x);
    assert!(!w.x_axis.ticks.is_empty());
    for p in pts {
        let fx = w.x_axis.fraction(p.x);
        let fy = w.y_axis.fraction(p.value);
        assert!((0.0..=1.0).contains(&fx) && (0.0..=1.0).contains(&fy));
    }

    // Preferring pounds converts everything the other way.
    let cs = charts(
        &index,
        &ChartOptions {
            preferred_units: vec!["[lb_av]".into()],
            include_hidden: false,
        },
    );
    let w = find(&cs, "http://loinc.org|29463-7")[0];
    assert_eq!(w.unit, "[lb_av]");
    assert_eq!(w.unit_label, "lb");
    let values: Vec<&str> = w.lines[0].points.iter().map(|p| p.text.as_str()).collect();
    assert_eq!(values, ["185.6", "178.6", "180.8", "177.5", "176"]);
}

#[test]
fn glucose_in_mg_dl_and_mmol_l_is_never_mixed() {
    let rec = fixture_record();
    let index = rec.index();
    let glu = charts_for_test(&index, "http://loinc.org|2339-0", &ChartOptions::default());
    assert_eq!(glu.len(), 2, "two charts, one per unit dimension");
    let mass = glu.iter().find(|c| c.unit == "mg/dL").unwrap();
    let molar = glu.iter().find(|c| c.unit == "mmol/L").unwrap();
    assert_eq!(mass.topic, ChartTopic::Glucose);
    let mass_values: Vec<f64> = mass.lines[0].points.iter().map(|p| p.value).collect();
    assert_eq!(mass_values, [104.0, 96.0]);
    let molar_values: Vec<f64> = molar.lines[0].points.iter().map(|p| p.value).collect();
    assert_eq!(molar_values, [5.8]);
    assert!(mass.lines[0].points.iter().all(|p| !p.converted));
    // Both say why.
    assert!(mass.note.as_deref().unwrap().contains("mmol/L"));
    assert!(molar.note.as_deref().unwrap().contains("mg/dL"));
    // Each has its own reference range in its own unit.
    assert_eq!(mass.reference_range, Some((Some(70.0), Some(99.0))));
    assert_eq!(molar.reference_range, Some((Some(3.9), Some(5.5))));
    assert_ne!(mass.id, molar.id);
}

#[test]
fn convertible_units_of_one_test_share_a_chart() {
    // Creatinine in mg/dL from one source and µmol/L from another: different dimensions (mass
    // vs substance concentration) → two charts. Cholesterol in g/L and mg/dL: one chart.
    let mut rec = Record::new();
    let a = rec.source("ehr:a", GH, SourceKind::Ehr);
    let b = rec.source("ehr:b", BH, SourceKind::Ehr);
    let obs = |id: &str, code: &str, when: &str, v: f64, unit: &str| {
        json!({"resourceType":"Observation","id":id,"status":"final",
            "category":[{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/observation-category","code":"laboratory"}]}],
            "code":{"coding":[{"system":"http://loinc.org","code":code,"display":"Test"}]},
            "effectiveDateTime":when,
            "valueQuantity":{"value":v,"unit":unit,"system":"http://unitsofmeasure.org","code":unit}})
    };
    rec.add_json(a, obs("c1", "2093-3", "2022-01-01", 210.0, "mg/dL"));
    rec.add_json(b, obs("c2", "2093-3", "2023-01-01", 1.9, "g/L"));
    rec.add_json(a, obs("k1", "2160-0", "2022-01-01", 1.1, "mg/dL"));
    rec.add_json(b, obs("k2", "2160-0", "2023-01-01", 97.0, "umol/L"));
    let index = rec.index();
    let cs = charts(&index, &ChartOptions::default());
    let chol = find(&cs, "http://loinc.org|2093-3");
    assert_eq!(chol.len(), 1);
    let v: Vec<String> = chol[0].lines[0]
        .points
        .iter()
        .map(|p| format!("{} {}", p.text, chol[0].unit))
        .collect();
    // Tie on frequency: the most recent unit wins.
    assert_eq!(v, ["2.1 g/L", "1.9 g/L"]);
    let creat = find(&cs, "http://loinc.org|2160-0");
    assert_eq!(creat.len(), 2);
}

#[test]
fn blood_pressure_from_panels_and_separate_observations() {
    let rec = fixture_record();
    let index = rec.index();
    let cs = charts(&index, &ChartOptions::default());
    let bp = find(&cs, "bp");
    assert_eq!(bp.len(), 1);
    let bp = bp[0];
    assert_eq!(cs[0].id, bp.id, "blood pressure comes first");
    assert_eq!(bp.unit_label, "mmHg");
    let names: Vec<&str> = bp.lines.iter().map(|l| l.name.as_str()).collect();
    assert_eq!(names, ["Systolic", "Diastolic"]);
    let sys: Vec<f64> = bp.lines[0].points.iter().map(|p| p.value).collect();
    let dia: Vec<f64> = bp.lines[1].points.iter().map(|p| p.value).collect();
    assert_eq!(sys, [142.0, 136.0, 128.0, 131.0]);
    assert_eq!(dia, [91.0, 86.0, 82.0, 84.0]);
    assert!(bp.lines[0].points[3].patient_reported);
    assert_eq!(bp.table_headers, ["Date", "Systolic", "Diastolic"]);
    assert_eq!(bp.table[0].cells, ["131 mmHg", "84 mmHg"]);
    // The separate systolic/diastolic observations do not also appear as their own charts.
    assert!(find(&cs, "http://loinc.org|8480-6").is_empty());
    assert!(find(&cs, "http://loinc.org|8462-4").is_empty());
}

#[test]
fn chart_order_and_topics() {
    let rec = fixture_record();
    let index = rec.index();
    let cs = charts(&index, &ChartOptions::default());
    let topics: Vec<ChartTopic> = cs.iter().map(|c| c.topic).collect();
    let mut sorted = topics.clone();
    sorted.sort();
    assert_eq!(topics, sorted);
    assert!(topics.contains(&ChartTopic::HeartRate));
    assert!(topics.contains(&ChartTopic::Bmi));
    assert!(topics.contains(&ChartTopic::Lab));
    // HbA1c from two sources at the same time is one point.
    let a1c = find(&cs, "http://loinc.org|4548-4")[0];
    assert_eq!(a1c.lines[0].points.len(), 3);
    assert_eq!(a1c.lines[0].points[2].sources, [GH, BH]);
    assert_eq!(a1c.reference_range, Some((Some(4.0), Some(5.6))));
    assert!(a1c.lines[0].points[2].flag.is_out_of_range());
}

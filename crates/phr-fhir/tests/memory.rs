//! Importing a large Bundle file needs at most about twice its size: the text is parsed once by
//! slicing (`RawValue`), and each resource copies only its own bytes. This test binary has a single
//! test and counts every allocation (peak_alloc), so nothing else runs beside it.

use peak_alloc::PeakAlloc;

#[global_allocator]
static ALLOC: PeakAlloc = PeakAlloc;

fn bundle(n: usize) -> String {
    let mut s = String::from(r#"{"resourceType":"Bundle","type":"collection","entry":["#);
    for i in 0..n {
        if i > 0 {
            s.push(',');
        }
        s.push_str(&format!(
            r#"{{"fullUrl":"urn:uuid:obs-{i}","resource":{{"resourceType":"Observation","id":"obs-{i}","status":"final","code":{{"coding":[{{"system":"http://loinc.org","code":"2345-7","display":"Glucose"}}],"text":"Glucose"}},"subject":{{"reference":"Patient/p"}},"effectiveDateTime":"2024-01-01T08:00:00Z","valueQuantity":{{"value":{}.5,"unit":"mg/dL","system":"http://unitsofmeasure.org","code":"mg/dL"}},"note":[{{"text":"measured at the clinic after a short rest, number {i}"}}]}}}}"#,
            70 + i % 50
        ));
    }
    s.push_str("]}");
    s
}

#[test]
fn a_large_bundle_is_parsed_within_about_twice_its_size() {
    let text = bundle(40_000);
    let size = text.len();
    let before = ALLOC.current_usage();
    ALLOC.reset_peak_usage();
    let (format, parsed) = phr_fhir::parse_import(&text).unwrap();
    let peak = ALLOC.peak_usage() - before;
    eprintln!("input {size} bytes, extra peak {peak} bytes");
    assert_eq!(format, phr_fhir::ImportFormat::Bundle("collection".into()));
    assert_eq!(parsed.resources.len(), 40_000);
    assert!(parsed.issues.is_empty());
    // The resources themselves are most of the input; anything beyond ~1.3x would mean the
    // text (or the resources) were copied again.
    assert!(
        peak <= size + size * 3 / 10,
        "parsing needed {peak} extra bytes for a {size}-byte file"
    );
}

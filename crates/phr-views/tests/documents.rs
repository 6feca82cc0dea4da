//! C-CDA text extraction and attachment reading.
mod common;

use common::*;
use phr_fhir::types::Attachment;
use phr_views::document::{
    attachments_of, parse_cda, read_attachment, read_bytes, tables, to_html, to_plain_text,
    CdaError, DocumentError, DocumentView,
};

const CCD: &str = include_str!("fixtures/ccd.xml");

#[test]
fn ccd_sections_titles_text_and_tables() {
    let doc = parse_cda(CCD).unwrap();
    assert_eq!(
        doc.title.as_deref(),
        Some("Continuity of Care Document – Demo General Hospital")
    );
    assert_eq!(doc.date.as_deref(), Some("2023-03-05 09:00"));
    assert_eq!(doc.patient.as_deref(), Some("Zoë Ann Müller"));
    let titles: Vec<&str> = doc
        .sections
        .iter()
        .map(|s| s.title.as_deref().unwrap_or(""))
        .collect();
    assert_eq!(titles, ["Allergies", "Medications", "Results", "Problems"]);
    assert_eq!(doc.sections[0].code.as_deref(), Some("48765-2"));

    let allergies = tables(&doc.sections[0].content);
    assert_eq!(allergies.len(), 1);
    assert_eq!(allergies[0].header, ["Substance", "Reaction", "Status"]);
    assert_eq!(
        allergies[0].rows,
        [
            vec!["Amoxicillin", "Hives", "Active"],
            vec!["Peanut", "Eruption of skin", "Active"]
        ]
    );
    assert!(to_html(&doc.sections[0].content).contains("<b>Amoxicillin</b>"));

    let meds = to_plain_text(&doc.sections[1].content);
    assert_eq!(
        meds,
        "Current medications\n\
         • Atorvastatin 20 mg tablet – 1 every evening\n\
         • Lisinopril 10 mg tablet – 1 daily [Check potassium yearly]\n\
         Reviewed with patient & caregiver.\n\
         Next review in 6 months.\n\
         More: click here or the medication guide (https://example.org/meds)."
    );
    let meds_html = to_html(&doc.sections[1].content);
    assert!(meds_html.contains("<ol>") && meds_html.contains("<i>6 months</i>"));
    assert!(!meds_html.contains("alert") && !meds_html.contains("javascript"));
    assert!(!meds_html.contains("pill photo"));

    // Nested section with a table using colspan.
    let results = &doc.sections[2];
    assert_eq!(
        to_plain_text(&results.content),
        "Laboratory results from 2023-03-05"
    );
    assert_eq!(results.sections[0].title.as_deref(), Some("Chemistry"));
    let chem = tables(&results.sections[0].content);
    assert_eq!(chem[0].header, ["Test", "Result", "Range"]);
    assert_eq!(chem[0].rows[1], ["Creatinine", "1.32 mg/dL (high)"]);
    assert!(to_html(&results.sections[0].content).contains("<td colspan=\"2\">"));

    // The problem list has an unclosed <item>: both items are still there.
    assert_eq!(
        to_plain_text(&doc.sections[3].content),
        "• Essential hypertension\n• Prediabetes"
    );
    let all = doc.to_plain_text();
    assert!(all.starts_with("Continuity of Care Document"));
    assert!(all.contains("## Chemistry"));
}

#[test]
fn not_a_cda_and_non_xml_bodies() {
    assert_eq!(
        parse_cda("<html><body>hi</body></html>"),
        Err(CdaError::NotCda)
    );
    let doc = parse_cda(
        "<ClinicalDocument xmlns=\"urn:hl7-org:v3\"><title>Scan</title><component><nonXMLBody>\
         <text mediaType=\"application/pdf\" representation=\"B64\">JVBERi0=</text></nonXMLBody></component></ClinicalDocument>",
    )
    .unwrap();
    assert!(doc.sections.is_empty());
    assert!(doc.attached_file.unwrap().contains("application/pdf"));
}

#[test]
fn fixture_attachments_decode_and_route() {
    let rec = fixture_record();
    let res = |seed: &str| {
        &rec.entries
            .iter()
            .find(|e| e.resource.id() == Some(seed))
            .unwrap()
            .resource
    };
    let atts = attachments_of(res("gh-docref-ccd"));
    assert_eq!(atts.len(), 2);
    // Base64 with line breaks (MIME style) decodes; XML with a ClinicalDocument is a CDA.
    match read_attachment(&atts[0]).unwrap() {
        DocumentView::Cda(doc) => assert_eq!(doc.sections.len(), 4),
        other => panic!("expected a CDA, got {other:?}"),
    }
    // Not included: the app must fetch it.
    match read_attachment(&atts[1]).unwrap() {
        DocumentView::External { url, content_type } => {
            assert_eq!(url, "Binary/gh-pdf");
            assert_eq!(content_type.as_deref(), Some("application/pdf"));
        }
        other => panic!("expected external, got {other:?}"),
    }
    // The lab report's HTML is sanitised.
    let report = attachments_of(res("gh-dr-lipid"));
    let DocumentView::Html(nodes) = read_attachment(&report[0]).unwrap() else {
        panic!("expected HTML");
    };
    let text = to_plain_text(&nodes);
    assert_eq!(
        text,
        "Lipid panel\nYour cholesterol is in range.chart details lab site (https://example.org/labs)\nTest | Value\nCholesterol | 210 mg/dL"
    );
    let html = to_html(&nodes);
    for bad in ["script", "onclick", "onerror", "javascript", "stolen"] {
        assert!(!html.contains(bad), "{bad}");
    }
}

#[test]
fn bytes_by_content_type_and_sniffing() {
    assert_eq!(
        read_bytes(
            Some("text/plain; charset=utf-8"),
            "Take with food.".as_bytes()
        ),
        Ok(DocumentView::Text("Take with food.".into()))
    );
    // Latin-1 declared, and undeclared non-UTF-8 falls back to Windows-1252.
    assert_eq!(
        read_bytes(Some("text/plain; charset=ISO-8859-1"), b"Caf\xe9"),
        Ok(DocumentView::Text("Café".into()))
    );
    assert_eq!(
        read_bytes(None, b"\x93quoted\x94 caf\xe9"),
        Ok(DocumentView::File {
            content_type: "application/octet-stream".into(),
            bytes: b"\x93quoted\x94 caf\xe9".to_vec()
        }),
        "unknown binary without a type is offered as a file"
    );
    assert_eq!(
        read_bytes(Some("text/plain"), b"\x93quoted\x94 caf\xe9"),
        Ok(DocumentView::Text("\u{201c}quoted\u{201d} café".into()))
    );
    // UTF-16 with a BOM.
    let utf16: Vec<u8> = [0xFF, 0xFE]
        .into_iter()
        .chain("Hi".encode_utf16().flat_map(|u| u.to_le_bytes()))
        .collect();
    assert_eq!(
        read_bytes(Some("text/plain"), &utf16),
        Ok(DocumentView::Text("Hi".into()))
    );
    assert!(matches!(
        read_bytes(Some("text/plain; charset=koi8-r"), b"x"),
        Err(DocumentError::BadText { .. })
    ));
    // Sniffing.
    assert!(matches!(
        read_bytes(None, b"%PDF-1.7 ..."),
        Ok(DocumentView::File { content_type, .. }) if content_type == "application/pdf"
    ));
    assert!(matches!(
        read_bytes(None, CCD.as_bytes()),
        Ok(DocumentView::Cda(_))
    ));
    assert!(matches!(
        read_bytes(None, b"<p>Hello<script>x</script></p>"),
        Ok(DocumentView::Html(n)) if to_plain_text(&n) == "Hello"
    ));
    // XML that is not a CDA is shown as its text only.
    assert_eq!(
        read_bytes(
            Some("application/xml"),
            b"<a><b>one</b> <c>two</c><script>x</script></a>"
        ),
        Ok(DocumentView::Text("one two".into()))
    );
    // RTF and images are files, never inline.
    assert!(matches!(
        read_bytes(Some("image/png"), b"\x89PNG"),
        Ok(DocumentView::File { .. })
    ));
}

#[test]
fn attachment_errors_tell_the_patient_what_to_do() {
    let att = |data: Option<&str>, url: Option<&str>| Attachment {
        content_type: Some("text/plain".into()),
        data: data.map(str::to_string),
        url: url.map(str::to_string),
        ..Default::default()
    };
    let e = read_attachment(&att(Some("!!!not base64!!!"), None)).unwrap_err();
    assert_eq!(e, DocumentError::BadBase64);
    assert!(e.to_string().contains("ask the provider to send it again"));
    let e = read_attachment(&att(None, None)).unwrap_err();
    assert_eq!(e, DocumentError::NoContent);
    assert!(e.to_string().contains("ask the provider for a copy"));
    // Missing padding and URL-safe alphabet are tolerated.
    assert_eq!(
        read_attachment(&att(Some("SGVsbG8"), None)),
        Ok(DocumentView::Text("Hello".into()))
    );
    assert_eq!(
        read_attachment(&att(Some("_-8="), None)).map(|_| ()),
        Ok(())
    );
}

//! Seeded random inputs: nothing panics, sanitising is stable, and odd resources still index.
mod common;

use common::*;
use phr_views::document::{parse_cda, sanitize_html, to_html, SafeNode};
use phr_views::summary::{summary, SummaryOptions};
use phr_views::timeline::{timeline, TimelineFilter};
use phr_views::{Day, SourceKind};
use serde_json::{json, Value};

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

const PIECES: &[&str] = &[
    "<",
    ">",
    "</",
    "/>",
    "<!--",
    "-->",
    "<![CDATA[",
    "]]>",
    "<!",
    "<?",
    "&",
    "&#",
    "&#x",
    ";",
    "amp",
    "lt",
    "\"",
    "'",
    "=",
    " ",
    "\n",
    "\0",
    "é",
    "€",
    "script",
    "style",
    "svg",
    "img",
    "a",
    "p",
    "table",
    "tr",
    "td",
    "li",
    "ul",
    "noscript",
    "iframe",
    "href",
    "src",
    "onerror",
    "javascript:",
    "alert(1)",
    "colspan",
    "2",
    "x",
    "ClinicalDocument",
    "section",
    "text",
    "title",
    "paragraph",
    "list",
    "item",
    "content",
];

fn random_markup(rng: &mut Rng) -> String {
    let n = rng.below(60);
    (0..n).map(|_| PIECES[rng.below(PIECES.len())]).collect()
}

fn elements_ok(nodes: &[SafeNode]) -> bool {
    nodes.iter().all(|n| match n {
        SafeNode::Text(t) => !t.is_empty(),
        SafeNode::Element {
            tag,
            colspan,
            rowspan,
            children,
        } => {
            let cell = matches!(
                tag,
                phr_views::document::SafeTag::Td | phr_views::document::SafeTag::Th
            );
            (cell || (colspan.is_none() && rowspan.is_none()))
                && (!tag.is_void() || children.is_empty())
                && elements_ok(children)
        }
    })
}

#[test]
fn random_markup_never_panics_and_sanitising_is_stable() {
    let mut rng = Rng(0xDEAD_BEEF_1234_5678);
    for _ in 0..5_000 {
        let input = random_markup(&mut rng);
        let nodes = sanitize_html(&input);
        assert!(elements_ok(&nodes), "{input:?}");
        let html = to_html(&nodes);
        // Every tag in the serialised output is an allowlisted one with at most a span
        // attribute (text is escaped, so any `<` starts a tag we wrote).
        for part in html.split('<').skip(1) {
            let tag = part.split('>').next().unwrap_or("");
            let mut words = tag.trim_start_matches('/').split(' ');
            let name = words.next().unwrap_or("");
            assert!(
                phr_views::document::SafeTag::from_name(name).is_some_and(|t| t.name() == name),
                "{name:?} in {html:?}"
            );
            for attr in words {
                assert!(
                    attr.starts_with("colspan=") || attr.starts_with("rowspan="),
                    "{attr}"
                );
            }
        }
        assert_eq!(sanitize_html(&html), nodes, "{input:?}");
        let _ = parse_cda(&input);
    }
}

fn random_value(rng: &mut Rng, depth: usize) -> Value {
    match rng.below(if depth > 2 { 5 } else { 8 }) {
        0 => Value::Null,
        1 => json!(rng.below(2) == 0),
        2 => json!(rng.next() % 1000),
        3 => json!(
            [
                "active",
                "2024-01-01",
                "8480-6",
                "http://loinc.org",
                "",
                "x"
            ][rng.below(6)]
        ),
        4 => json!(1.5),
        5 => Value::Array(
            (0..rng.below(3))
                .map(|_| random_value(rng, depth + 1))
                .collect(),
        ),
        _ => {
            let keys = [
                "code",
                "coding",
                "system",
                "display",
                "text",
                "value",
                "unit",
                "status",
                "valueQuantity",
                "component",
                "effectiveDateTime",
                "category",
                "reaction",
                "clinicalStatus",
                "dosage",
                "timing",
                "repeat",
                "timeOfDay",
                "meta",
                "security",
            ];
            let mut m = serde_json::Map::new();
            for _ in 0..rng.below(4) {
                m.insert(
                    keys[rng.below(keys.len())].into(),
                    random_value(rng, depth + 1),
                );
            }
            Value::Object(m)
        }
    }
}

#[test]
fn random_resources_index_without_panics() {
    let mut rng = Rng(0x0123_4567_89AB_CDEF);
    let types = [
        "Observation",
        "Condition",
        "AllergyIntolerance",
        "MedicationRequest",
        "MedicationStatement",
        "MedicationAdministration",
        "Immunization",
        "Procedure",
        "Encounter",
        "DiagnosticReport",
        "DocumentReference",
        "Goal",
        "CareTeam",
        "Patient",
        "Practitioner",
        "Device",
        "Claim",
        "Basic",
    ];
    let mut rec = Record::new();
    let a = rec.source("ehr:a", GH, SourceKind::Ehr);
    let b = rec.source("patient", YOU, SourceKind::Patient);
    for i in 0..3_000 {
        let mut v = match random_value(&mut rng, 0) {
            Value::Object(m) => Value::Object(m),
            _ => json!({}),
        };
        v["resourceType"] = json!(types[rng.below(types.len())]);
        v["id"] = json!(format!("r{i}"));
        rec.add_json(if i % 3 == 0 { b } else { a }, v);
    }
    let index = rec.index();
    assert_eq!(index.len(), 3_000);
    for it in index.items() {
        // Patient entries are flagged whatever their content.
        if it.source().kind == SourceKind::Patient {
            assert!(it.patient_reported());
        }
        assert!(!it.title().is_empty());
    }
    let _ = timeline(
        &index,
        &TimelineFilter {
            text: "active 8480".into(),
            ..Default::default()
        },
    );
    let _ = summary(
        &index,
        &SummaryOptions::new(Day::from_ymd(2024, 1, 1).unwrap()),
    );
    let _ = phr_views::charts::charts(&index, &Default::default());
    let _ = phr_views::medcheck::medication_checks(&index);
    for k in [
        phr_views::lists::ListKind::Medications,
        phr_views::lists::ListKind::Results,
        phr_views::lists::ListKind::CareTeam,
        phr_views::lists::ListKind::Documents,
    ] {
        let _ = phr_views::lists::list(&index, k, true);
    }
}

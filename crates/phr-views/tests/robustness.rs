//! Seeded random inputs: nothing panics, sanitising is stable, and odd resources still index.
mod common;

use common::random::{random_record, Rng, KEYS};
use phr_views::document::{parse_cda, sanitize_html, to_html, SafeNode};
use phr_views::summary::{summary, SummaryOptions};
use phr_views::timeline::{timeline, TimelineFilter};
use phr_views::{Day, SourceKind};

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
    let rec = random_record(&mut rng, 3_000, 3_000, &types, KEYS);
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

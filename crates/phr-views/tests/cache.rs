//! The index cache: a round trip answers every query identically, the format is frozen per
//! version, and damaged, truncated, foreign or other-version bytes give a typed error, never a
//! panic. Also: the summary survives a serde round trip.
mod common;

use common::fingerprint::fingerprint;
use common::random::{random_record, Rng, KEYS};
use common::*;
use phr_views::summary::{summary, Summary, SummaryOptions, SUMMARY_CACHE_VERSION};
use phr_views::{Day, Index, IndexCacheError, SourceKind, INDEX_CACHE_VERSION};
use serde_json::json;

fn today() -> Day {
    Day::from_ymd(2024, 6, 1).unwrap()
}

/// Every view of the index, as text (see `common::fingerprint`).
fn fp(index: &Index) -> String {
    fingerprint(
        index,
        today(),
        &["Observation/obs-a1c-1", "Observation/none"],
    )
}

/// The fixture record with hidden, gone, patient-entered and malformed entries.
fn fixture_index() -> Index {
    let mut rec = fixture_record();
    for (i, e) in rec.entries.iter_mut().enumerate() {
        e.hidden = i % 7 == 3;
        e.gone = i % 11 == 5;
    }
    rec.index()
}

/// A small record touching every kind of stored detail.
fn small_record() -> Record {
    let mut r = Record::new();
    let ehr = r.source("ehr:a", "Hospital A", SourceKind::Ehr);
    let me = r.source("patient", "You", SourceKind::Patient);
    r.add_json(
        ehr,
        json!({"resourceType":"Observation","id":"o1","status":"final",
        "category":[{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/observation-category","code":"laboratory"}]}],
        "code":{"coding":[{"system":"http://loinc.org","code":"4548-4","display":"Hemoglobin A1c"}]},
        "effectiveDateTime":"2024-03-05T08:05:00-05:00",
        "valueQuantity":{"value":6.4,"unit":"%","system":"http://unitsofmeasure.org","code":"%"},
        "interpretation":[{"coding":[{"code":"H"}]}],
        "referenceRange":[{"low":{"value":4.0,"code":"%"},"high":{"value":5.6,"code":"%"}}]}),
    );
    r.add_json(
        ehr,
        json!({"resourceType":"Observation","id":"bp","status":"final",
        "code":{"coding":[{"system":"http://loinc.org","code":"85354-9","display":"Blood pressure"}]},
        "effectiveDateTime":"2024-03-05",
        "component":[
          {"code":{"coding":[{"system":"http://loinc.org","code":"8480-6"}]},"valueQuantity":{"value":128,"code":"mm[Hg]"}},
          {"code":{"coding":[{"system":"http://loinc.org","code":"8462-4"}]},"valueQuantity":{"value":82,"code":"mm[Hg]"}}]}),
    );
    r.add_json(
        ehr,
        json!({"resourceType":"Condition","id":"c1",
        "clinicalStatus":{"coding":[{"code":"resolved"}]},
        "code":{"text":"Bronchitis","coding":[{"system":"http://snomed.info/sct","code":"10509002"}]},
        "onsetDateTime":"2019-01-02","abatementDateTime":"2019-02-10"}),
    );
    r.add_json(
        ehr,
        json!({"resourceType":"Patient","id":"p1","name":[{"given":["Zoë"],"family":"Müller"}],
        "birthDate":"1970-05-06",
        "contact":[{"relationship":[{"coding":[{"code":"C"}],"text":"Sister"}],
          "name":{"text":"Ana Müller"},"telecom":[{"system":"phone","value":"555-0100"}]}]}),
    );
    r.add_json(
        ehr,
        json!({"resourceType":"AllergyIntolerance","id":"a1","criticality":"high",
        "code":{"text":"Penicillin"},"reaction":[{"manifestation":[{"text":"Hives"}],
        "substance":{"coding":[{"system":"http://www.nlm.nih.gov/research/umls/rxnorm","code":"7980"}]}}]}),
    );
    r.add_json(
        ehr,
        json!({"resourceType":"MedicationRequest","id":"m1","status":"active",
        "medicationCodeableConcept":{"coding":[{"system":"http://www.nlm.nih.gov/research/umls/rxnorm","code":"860975","display":"Metformin"}]},
        "authoredOn":"2023-01-01","dosageInstruction":[{"text":"1 tablet daily"}]}),
    );
    r.add_json(
        ehr,
        json!({"resourceType":"DocumentReference","id":"d1","status":"current",
        "type":{"text":"Discharge summary"},"date":"2024-01-02T10:00:00Z",
        "content":[{"attachment":{"contentType":"text/plain","data":"SGVsbG8=","title":"Summary","size":5}}],
        "context":{"related":[{"reference":"Observation/o1"}]}}),
    );
    r.add_json(
        ehr,
        json!({"resourceType":"CareTeam","id":"t1","status":"active","name":"Diabetes team",
        "participant":[{"role":[{"text":"Nurse"}],"member":{"display":"Rosa Lee"}}]}),
    );
    r.add_json(
        ehr,
        json!({"resourceType":"Practitioner","id":"pr1","name":[{"prefix":["Dr."],"given":["Rosa"],"family":"Lee"}],
        "identifier":[{"system":"http://hl7.org/fhir/sid/us-npi","value":"9999912345"}]}),
    );
    r.add_json(
        ehr,
        json!({"resourceType":"Goal","id":"g1","lifecycleStatus":"active",
        "description":{"text":"Lower A1c"},"startDate":"2024-01-01",
        "target":[{"measure":{"text":"A1c"},"detailQuantity":{"value":7,"unit":"%"},"dueDate":"2024-12-31"}]}),
    );
    r.add_json(
        me,
        json!({"resourceType":"Observation","id":"o1","status":"final",
        "code":{"coding":[{"system":"http://loinc.org","code":"4548-4","display":"HbA1c"}]},
        "effectiveDateTime":"2024-03-05T08:05:00-05:00",
        "valueQuantity":{"value":6.4,"unit":"%","system":"http://unitsofmeasure.org","code":"%"}}),
    );
    r.add_json(
        me,
        json!({"resourceType":"Observation","id":"bad","status":"final","category":"laboratory",
        "code":{"text":"Odd"},"effectiveDateTime":"2024-03-05"}),
    );
    r.entries[2].hidden = true;
    r.entries[5].gone = true;
    r
}

/// `to_bytes` of [`small_record`]'s index in format version 2. If this changes, the layout
/// changed: bump `INDEX_CACHE_VERSION` and update this vector.
const FROZEN_V2: &str = concat!(
    "5048495802000000930748656d6f676c6f62696e20413163343534382d3468656d6f676c6f62696e20613163",
    "20343534382d34362e3425342e30352e366568723a612f4f62736572766174696f6e2f6f31362e3420256669",
    "6e616c362e3420252068426c6f6f6420707265737375726538353335342d39626c6f6f642070726573737572",
    "652038353335342d39383438302d363132386d6d5b48675d6d6d4867313238206d6d4867383436322d343832",
    "3832206d6d48676568723a612f4f62736572766174696f6e2f62703132382f3832206d6d48673132382f3832",
    "206d6d686720383438302d3620383438302d3620383436322d3420383436322d3442726f6e63686974697331",
    "3035303930303262726f6e6368697469732031303530393030326568723a612f436f6e646974696f6e2f6331",
    "5265736f6c7665647265736f6c7665645a6fc3ab204dc3bc6c6c65727a6f65206d756c6c65726568723a612f",
    "50617469656e742f7031426f726e20313937302d30352d3036626f726e20313937302d30352d303650656e69",
    "63696c6c696e70656e6963696c6c696e373938306568723a612f416c6c65726779496e746f6c6572616e6365",
    "2f613148697665733b206869676820637269746963616c69747968697665733b206869676820637269746963",
    "616c697479203739383020373938304d6574666f726d696e3836303937356d6574666f726d696e2038363039",
    "37356568723a612f4d656469636174696f6e526571756573742f6d3131207461626c6574206461696c796163",
    "746976654469736368617267652073756d6d6172796469736368617267652073756d6d6172796568723a612f",
    "446f63756d656e745265666572656e63652f643163757272656e7473756d6d61727944696162657465732074",
    "65616d6469616265746573207465616d6568723a612f436172655465616d2f7431526f7361204c6565726f73",
    "61206c656520726f7361206c6565206e7572736544722e20526f7361204c656564722e20726f7361206c6565",
    "6568723a612f50726163746974696f6e65722f707231393939393931323334354c6f776572204131636c6f77",
    "6572206131636568723a612f476f616c2f67314131632037202520627920323032342d31322d333161316320",
    "37202520627920323032342d31322d3331206131634862413163686261316320343534382d3470617469656e",
    "742f4f62736572766174696f6e2f6f314f64646f646470617469656e742f4f62736572766174696f6e2f6261",
    "640310687474703a2f2f6c6f696e632e6f726716687474703a2f2f736e6f6d65642e696e666f2f7363742b68",
    "7474703a2f2f7777772e6e6c6d2e6e69682e676f762f72657365617263682f756d6c732f72786e6f726d090b",
    "4f62736572766174696f6e09436f6e646974696f6e0750617469656e7412416c6c65726779496e746f6c6572",
    "616e6365114d656469636174696f6e5265717565737411446f63756d656e745265666572656e636508436172",
    "655465616d0c50726163746974696f6e657204476f616c02056568723a610a486f73706974616c2041000770",
    "617469656e7403596f750205000e06000e006607580e01fd0108000002f20306e90309000e06cf06050c000e",
    "00011415580e01016d16f3010a0201850213ba020c0300c6020afe020a030088030ae903090301f80310b604",
    "110400c7041180050d04008d050dca050c0400d6050c82060904008b0609cf06050401d4060cf606030500f9",
    "0603010100000000000010402d032c012c01000001666666666666164030032c012c01000000000b00019a99",
    "99999999194029032c012c01000001020000000000020083010600000100000000000060408901038c010692",
    "01040000960108009e01060000010000000000805440a401028c01069201040000a60107030380a6fbc50bff",
    "ff03050c5a6fc3ab204dc3bc6c6c6572010a313937302d30352d3036010b416e61204dc3bc6c6c6572065369",
    "7374657201014301083535352d3031303002010468696768010292030400000100000801010a746578742f70",
    "6c61696e010753756d6d61727901000105010e4f62736572766174696f6e2f6f31060108526f7361204c6565",
    "054e757273650700010a39393939393132333435040380d099f70cffff031541316320372025206279203230",
    "32342d31322d333100019a9999999999194029032c012c0100000000000c33140047054c05510704f8e1b8de",
    "0cd704010000040400ad011401c1010b4c05cc0127038082b3de0cffff0302000005040098021202aa0208b2",
    "0208b202080380fcdfc20bffff03030001030302d0021003e0020f0000ef020f0004000211040096031b04b1",
    "03170000c803210005000300000088041a05a2040eb00406a2040e0380b486bb0cffff03060004010004d804",
    "1a060000f20407f9040704c0fa9ed90c000700050a04009a051107ab0508b00406b30517000800060e0000e2",
    "05160800000000f8050a0009000711040094060d09a10615b00406b6061903808290d90cffff030a00080c00",
    "00e006160a47054c05470504f8e1b8de0cd7040b0100060401fc06170b00004c050000038082b3de0cffff03",
    "0001000404210c00010203040506070809000a0b000002010201020301030401040501050601060701070801",
    "080901090a010b0b010c000a0102030405060708090b0700010a060905026aba9a2668f1dd64",
);

#[test]
fn round_trip_answers_every_query_identically() {
    for index in [fixture_index(), small_record().index()] {
        let bytes = index.to_bytes();
        let back = Index::from_bytes(&bytes).expect("round trip");
        assert_eq!(fp(&back), fp(&index));
        // Writing the loaded index again gives the same bytes.
        assert_eq!(back.to_bytes(), bytes);
    }
}

#[test]
fn the_current_format_is_frozen() {
    let index = small_record().index();
    let bytes = index.to_bytes();
    assert_eq!(&bytes[..4], b"PHIX");
    assert_eq!(u32::from_le_bytes(bytes[4..8].try_into().unwrap()), 2);
    assert_eq!(INDEX_CACHE_VERSION, 2);
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    assert_eq!(
        hex, FROZEN_V2,
        "the cache layout changed: bump INDEX_CACHE_VERSION"
    );
    // Bytes written earlier in this version still load and answer the same.
    let back = Index::from_bytes(&unhex(FROZEN_V2)).expect("frozen bytes load");
    assert_eq!(fp(&back), fp(&index));
}

fn unhex(hex: &str) -> Vec<u8> {
    (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap())
        .collect()
}

#[test]
fn another_version_is_refused_with_a_typed_error() {
    let mut bytes = small_record().index().to_bytes();
    // A cache written before version 2 (whose search text left out the patient's notes) is
    // refused, so the index is rebuilt from the record.
    bytes[4..8].copy_from_slice(&1u32.to_le_bytes());
    assert_eq!(
        Index::from_bytes(&bytes).err(),
        Some(IndexCacheError::Version {
            found: 1,
            expected: 2
        })
    );
    bytes[4..8].copy_from_slice(&0u32.to_le_bytes());
    assert_eq!(
        Index::from_bytes(&bytes).err(),
        Some(IndexCacheError::Version {
            found: 0,
            expected: INDEX_CACHE_VERSION
        })
    );
    bytes[4..8].copy_from_slice(&(INDEX_CACHE_VERSION + 1).to_le_bytes());
    assert!(matches!(
        Index::from_bytes(&bytes),
        Err(IndexCacheError::Version { .. })
    ));
    let msg = Index::from_bytes(&bytes).unwrap_err().to_string();
    assert!(msg.contains("rebuilt from your record"), "{msg}");
}

#[test]
fn foreign_bytes_are_not_an_index() {
    for b in [
        &b""[..],
        b"PHIX",
        b"{\"resourceType\":\"Bundle\"}",
        b"PHIY\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00",
    ] {
        assert_eq!(
            Index::from_bytes(b).err(),
            Some(IndexCacheError::NotAnIndex)
        );
    }
}

#[test]
fn every_truncation_is_an_error() {
    let bytes = small_record().index().to_bytes();
    for n in 0..bytes.len() {
        assert!(Index::from_bytes(&bytes[..n]).is_err(), "truncated to {n}");
    }
    let mut longer = bytes.clone();
    longer.push(0);
    assert!(Index::from_bytes(&longer).is_err());
}

#[test]
fn every_flipped_byte_is_an_error() {
    let bytes = small_record().index().to_bytes();
    for i in 0..bytes.len() {
        for mask in [0x01u8, 0x80, 0xFF] {
            let mut b = bytes.clone();
            b[i] ^= mask;
            assert!(Index::from_bytes(&b).is_err(), "byte {i} ^ {mask:#x}");
        }
    }
}

/// The cache's checksum, restated here so the test can seal damaged bodies (this also freezes
/// the algorithm).
fn checksum(b: &[u8]) -> u64 {
    const K: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut h: u64 = 0x5048_4958_0000_0001 ^ (b.len() as u64).wrapping_mul(K);
    let mut chunks = b.chunks_exact(8);
    for c in &mut chunks {
        h = (h ^ u64::from_le_bytes(c.try_into().unwrap()))
            .wrapping_mul(K)
            .rotate_left(29);
    }
    let mut last = [0u8; 8];
    last[..chunks.remainder().len()].copy_from_slice(chunks.remainder());
    h = (h ^ u64::from_le_bytes(last))
        .wrapping_mul(K)
        .rotate_left(29);
    h ^= h >> 33;
    h = h.wrapping_mul(0xFF51_AFD7_ED55_8CCD);
    h ^= h >> 33;
    h = h.wrapping_mul(0xC4CE_B9FE_1A85_EC53);
    h ^ (h >> 33)
}

fn seal(body: &[u8]) -> Vec<u8> {
    let mut out = body.to_vec();
    out.extend_from_slice(&checksum(body).to_le_bytes());
    out
}

#[test]
fn damage_behind_a_valid_checksum_is_caught_or_harmless() {
    // Damage the tables themselves and re-seal them: loading must fail with a typed error or
    // give an index on which every view still runs without panicking.
    let bytes = small_record().index().to_bytes();
    let body = &bytes[..bytes.len() - 8];
    assert_eq!(seal(body), bytes, "the restated checksum matches");
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let (mut refused, mut loaded) = (0, 0);
    for round in 0..3_000 {
        let mut b = body.to_vec();
        for _ in 0..1 + round % 3 {
            let i = 8 + (rng.next() as usize) % (b.len() - 8);
            b[i] = match rng.next() % 4 {
                0 => 0,
                1 => 0xFF,
                2 => b[i].wrapping_add(1),
                _ => rng.next() as u8,
            };
        }
        match Index::from_bytes(&seal(&b)) {
            Err(IndexCacheError::Corrupt { .. }) => refused += 1,
            Err(e) => panic!("unexpected error {e:?}"),
            Ok(index) => {
                loaded += 1;
                let _ = fp(&index);
            }
        }
    }
    assert!(
        refused > 0 && loaded > 0,
        "{refused} refused, {loaded} loaded"
    );
}

#[test]
fn random_bytes_never_panic() {
    let mut rng = Rng(0x0123_4567_89AB_CDEF);
    for len in 0..400 {
        let mut b: Vec<u8> = (0..len).map(|_| rng.next() as u8).collect();
        if len >= 8 {
            b[..4].copy_from_slice(b"PHIX");
            b[4..8].copy_from_slice(&INDEX_CACHE_VERSION.to_le_bytes());
        }
        assert!(Index::from_bytes(&b).is_err());
        if len >= 8 {
            let _ = Index::from_bytes(&seal(&b));
        }
    }
}

/// The first 14 robustness keys and a few more of the kinds the cache stores.
fn cache_keys() -> Vec<&'static str> {
    let more = [
        "name",
        "content",
        "attachment",
        "participant",
        "meta",
        "security",
    ];
    KEYS[..14].iter().copied().chain(more).collect()
}

#[test]
fn odd_resources_round_trip_too() {
    let types = [
        "Observation",
        "Condition",
        "AllergyIntolerance",
        "MedicationRequest",
        "MedicationStatement",
        "Immunization",
        "Encounter",
        "DocumentReference",
        "Goal",
        "CareTeam",
        "Patient",
        "Practitioner",
        "Claim",
    ];
    let mut rng = Rng(0xDEAD_BEEF_1234_5678);
    let rec = random_record(&mut rng, 1_500, 700, &types, &cache_keys());
    let index = rec.index();
    let back = Index::from_bytes(&index.to_bytes()).expect("round trip");
    assert_eq!(fp(&back), fp(&index));
}

#[test]
fn the_summary_survives_a_serde_round_trip() {
    let index = fixture_index();
    let s = summary(&index, &SummaryOptions::new(today()));
    assert!(!s.problems.is_empty() && !s.recent_results.is_empty());
    let text = serde_json::to_string(&s).unwrap();
    let back: Summary = serde_json::from_str(&text).unwrap();
    assert_eq!(back, s);
    // Notes are stored as codes and read back as the crate's own texts.
    let small = small_record().index();
    let bad = small.item(small.find("patient/Observation/bad").unwrap());
    let row = small.row_of(bad.id(), true).unwrap();
    assert_eq!(row.note, Some(phr_views::index::NOTE_PARTIAL));
    let text = serde_json::to_string(&row).unwrap();
    assert!(text.contains("\"partial\""), "{text}");
    let back: phr_views::Row = serde_json::from_str(&text).unwrap();
    assert_eq!(back, row);
    // Damaged summaries are refused, not half-read.
    assert!(serde_json::from_str::<Summary>("{\"allergies\":[]}").is_err());
    let bad_note = text.replace("\"partial\"", "\"<script>\"");
    assert!(serde_json::from_str::<phr_views::Row>(&bad_note).is_err());
}

/// The serialised summary of [`small_record`] (JSON) in summary version 1. If this changes,
/// bump `SUMMARY_CACHE_VERSION` and update it.
const FROZEN_SUMMARY_V1: &str = concat!(
    r#"{"allergies":[{"group":4,"key":"ehr:a/AllergyIntolerance/a1","resource_type":"AllergyIntol"#,
    r#"erance","category":"Allergy","title":"Penicillin","detail":"Hives; high criticality","stat"#,
    r#"us":"","activity":"Active","date":null,"sources":[{"source":0,"label":"Hospital A","kind":"#,
    r#""Ehr","key":"ehr:a/AllergyIntolerance/a1","patient_reported":false,"gone_at_source":false,"#,
    r#""hidden":false}],"patient_reported":false,"gone_at_source":false,"hidden":false,"note":nul"#,
    r#"l}],"medications":[],"problems":[],"recent_results":[{"row":{"group":0,"key":"ehr:a/Observ"#,
    r#"ation/o1","resource_type":"Observation","category":"LabResult","title":"Hemoglobin A1c","d"#,
    r#"etail":"6.4 %","status":"final","activity":"Unknown","date":[1709643900,-300,3],"sources":"#,
    r#"[{"source":0,"label":"Hospital A","kind":"Ehr","key":"ehr:a/Observation/o1","patient_repor"#,
    r#"ted":false,"gone_at_source":false,"hidden":false},{"source":1,"label":"You","kind":"Patien"#,
    r#"t","key":"patient/Observation/o1","patient_reported":true,"gone_at_source":false,"hidden":"#,
    r#"false}],"patient_reported":false,"gone_at_source":false,"hidden":false,"note":null},"test_"#,
    r#"key":"http://loinc.org|4548-4","value":6.4,"value_text":"6.4 %","range":"4.0 – 5.6 %","fla"#,
    r#"g":"High"}],"vitals":[{"kind":"BloodPressure","row":{"group":1,"key":"ehr:a/Observation/bp"#,
    r#"","resource_type":"Observation","category":"VitalSign","title":"Blood pressure","detail":""#,
    r#"128/82 mmHg","status":"final","activity":"Unknown","date":[1709596800,null,2],"sources":[{"#,
    r#""source":0,"label":"Hospital A","kind":"Ehr","key":"ehr:a/Observation/bp","patient_reporte"#,
    r#"d":false,"gone_at_source":false,"hidden":false}],"patient_reported":false,"gone_at_source""#,
    r#":false,"hidden":false,"note":null},"value_text":"128/82 mmHg","keys":["ehr:a/Observation/b"#,
    r#"p"]}],"goals":[{"row":{"group":9,"key":"ehr:a/Goal/g1","resource_type":"Goal","category":""#,
    r#"Goal","title":"Lower A1c","detail":"A1c 7 % by 2024-12-31","status":"active","activity":"A"#,
    r#"ctive","date":[1704067200,null,2],"sources":[{"source":0,"label":"Hospital A","kind":"Ehr""#,
    r#","key":"ehr:a/Goal/g1","patient_reported":false,"gone_at_source":false,"hidden":false}],"p"#,
    r#"atient_reported":false,"gone_at_source":false,"hidden":false,"note":null},"due":[173560320"#,
    r#"0,null,2],"target":"A1c 7 % by 2024-12-31"}],"emergency_card":{"name":"Zoë Müller","birth_"#,
    r#"date":"1970-05-06","allergies":[{"text":"Penicillin","detail":"Hives; high criticality","p"#,
    r#"atient_reported":false,"sources":["Hospital A"]}],"medications":[],"conditions":[],"emerge"#,
    r#"ncy_contact":{"name":"Ana Müller","relationship":"Sister","phone":"555-0100","patient_ente"#,
    r#"red":false}}}"#,
);

#[test]
fn the_summary_shape_is_frozen() {
    assert_eq!(SUMMARY_CACHE_VERSION, 1);
    let s = summary(&small_record().index(), &SummaryOptions::new(today()));
    let text = serde_json::to_string(&s).unwrap();
    assert_eq!(
        text, FROZEN_SUMMARY_V1,
        "the summary shape changed: bump SUMMARY_CACHE_VERSION"
    );
    let back: Summary = serde_json::from_str(FROZEN_SUMMARY_V1).unwrap();
    assert_eq!(back, s);
}

//! The import session against recorded responses, driven by a fake server that answers the
//! requests the session describes.

mod common;

use std::collections::{BTreeMap, HashMap, VecDeque};

use common::{fixture, json_response, sandbox_server, seeded_rng};
use phr_smart::import::{
    AuthPause, ImportError, ImportEvent, ImportFailure, ImportOptions, ImportSession, ImportState,
    ImportSummary, ObservationQueries, ProgressState, QueryKey, QueryKind, SessionStatus,
};
use phr_smart::{
    begin_authorization, AccessToken, ClientRegistration, Connection, HttpRequest, HttpResponse,
    NetworkFailure, RequestId, RequestedScopes,
};

const BASE: &str = "https://ehr.example.org/fhir";
const T0: u64 = 1_714_000_000_000;

// ----- setup -------------------------------------------------------------------------------

fn connect(scope: &str, expires_in: u64) -> (Connection, AccessToken) {
    let server = sandbox_server(BASE);
    let client = ClientRegistration {
        provider_id: "good-health".into(),
        provider_name: "Good Health".into(),
        client_id: "phr-app".into(),
        redirect_uri: "https://phr.example.net/callback".into(),
    };
    let scopes = RequestedScopes(scope.split(' ').map(str::to_string).collect());
    let p = begin_authorization(&server, &client, &scopes, &mut seeded_rng(9), T0)
        .unwrap()
        .pending;
    let body = format!(
        r#"{{"access_token":"token-1","token_type":"Bearer","expires_in":{expires_in},"scope":"{scope}","patient":"p1"}}"#
    );
    let a = p.finish(&json_response(200, &body), T0).unwrap();
    (a.connection, a.access_token)
}

fn full_connection() -> (Connection, AccessToken) {
    connect("launch/patient openid fhirUser patient/*.rs", 3600)
}

fn token(name: &str) -> AccessToken {
    AccessToken::new(name.into(), Some(T0 + 7_200_000), "p1".into())
}

fn search(ty: &str) -> String {
    let include = if ty == "MedicationRequest" {
        "&_include=MedicationRequest%3Amedication"
    } else {
        ""
    };
    format!("{BASE}/{ty}?patient=p1&_count=100{include}")
}

fn read(rel: &str) -> String {
    format!("{BASE}/{rel}")
}

const SEARCH_TYPES: &[&str] = &[
    "AllergyIntolerance",
    "Condition",
    "MedicationRequest",
    "MedicationStatement",
    "Observation",
    "Immunization",
    "Procedure",
    "DiagnosticReport",
    "DocumentReference",
    "Encounter",
    "CarePlan",
    "Goal",
    "CareTeam",
    "Device",
];

// ----- fake server -------------------------------------------------------------------------

#[derive(Clone)]
enum Reply {
    Http(HttpResponse),
    Net(NetworkFailure),
    Timeout,
}

#[derive(Default)]
struct Fake {
    routes: HashMap<String, VecDeque<Reply>>,
    /// (time, url, authorization header) of every request.
    log: Vec<(u64, String, String)>,
    unexpected: Vec<String>,
}

impl Fake {
    fn on(&mut self, url: &str, reply: Reply) -> &mut Self {
        self.routes
            .entry(url.to_string())
            .or_default()
            .push_back(reply);
        self
    }

    fn file(&mut self, url: &str, name: &str) -> &mut Self {
        let r = json_response(200, &fixture(&format!("import/{name}")))
            .with_header("Content-Type", "application/fhir+json");
        self.on(url, Reply::Http(r))
    }

    fn status(&mut self, url: &str, status: u16, body: &str) -> &mut Self {
        self.on(url, Reply::Http(json_response(status, body)))
    }

    fn empty_searches(&mut self, types: &[&str]) -> &mut Self {
        for t in types {
            self.file(&search(t), "empty.json");
        }
        self
    }

    fn reply(&mut self, req: &HttpRequest, now: u64) -> Reply {
        let auth = req.header("Authorization").unwrap_or_default().to_string();
        self.log.push((now, req.url.clone(), auth));
        match self.routes.get_mut(&req.url).and_then(VecDeque::pop_front) {
            Some(r) => r,
            None => {
                self.unexpected.push(req.url.clone());
                Reply::Http(HttpResponse::new(599, "no route"))
            }
        }
    }

    fn requests_to(&self, url: &str) -> Vec<u64> {
        self.log
            .iter()
            .filter(|(_, u, _)| u == url)
            .map(|(t, _, _)| *t)
            .collect()
    }
}

fn feed(s: &mut ImportSession, fake: &mut Fake, req: &HttpRequest, now: u64) -> Vec<ImportEvent> {
    match fake.reply(req, now) {
        Reply::Http(r) => s.on_response(req.id, r, now),
        Reply::Net(f) => s.on_network_error(req.id, f, now),
        Reply::Timeout => s.on_timeout(req.id, now),
    }
}

/// Runs the shell loop until the session finishes or stops.
fn drive(s: &mut ImportSession, fake: &mut Fake, now: &mut u64) -> Vec<ImportEvent> {
    let mut events = Vec::new();
    for _ in 0..10_000 {
        let reqs = s.next_requests(*now);
        if reqs.is_empty() {
            match s.status(*now) {
                SessionStatus::Running {
                    in_flight: 0,
                    wake_at_ms: Some(t),
                } => {
                    assert!(t > *now, "nothing sent although ready at {t}");
                    *now = t;
                    continue;
                }
                _ => break,
            }
        }
        for req in reqs {
            *now += 10;
            events.extend(feed(s, fake, &req, *now));
        }
    }
    events
}

fn start(conn: &Connection, tok: AccessToken, options: ImportOptions) -> ImportSession {
    ImportSession::start(conn, tok, options, 42, T0).unwrap()
}

// ----- event helpers -----------------------------------------------------------------------

fn emitted(events: &[ImportEvent]) -> Vec<(String, String)> {
    events
        .iter()
        .filter_map(|e| match e {
            ImportEvent::Resources(b) => Some(b),
            _ => None,
        })
        .flat_map(|b| b.resources.iter())
        .map(|r| (r.resource_type.clone(), r.id.clone()))
        .collect()
}

fn raw_json(events: &[ImportEvent], ty: &str, id: &str) -> String {
    events
        .iter()
        .filter_map(|e| match e {
            ImportEvent::Resources(b) => Some(b),
            _ => None,
        })
        .flat_map(|b| b.resources.iter())
        .find(|r| r.resource_type == ty && r.id == id)
        .map(|r| r.resource.raw().to_string())
        .unwrap_or_else(|| panic!("{ty}/{id} not emitted"))
}

fn failures(events: &[ImportEvent]) -> BTreeMap<String, ImportFailure> {
    events
        .iter()
        .filter_map(|e| match e {
            ImportEvent::TypeFailed { query, reason, .. } => {
                Some((query.to_string(), reason.clone()))
            }
            _ => None,
        })
        .collect()
}

fn summary(events: &[ImportEvent]) -> ImportSummary {
    let finished: Vec<&ImportSummary> = events
        .iter()
        .filter_map(|e| match e {
            ImportEvent::Finished(s) => Some(s),
            _ => None,
        })
        .collect();
    assert_eq!(finished.len(), 1, "exactly one Finished event");
    finished[0].clone()
}

fn count_of(list: &[(String, String)], ty: &str) -> usize {
    list.iter().filter(|(t, _)| t == ty).count()
}

// ----- the full scenario -------------------------------------------------------------------

fn full_scenario() -> Fake {
    let mut f = Fake::default();
    let oo = fixture("import/operation-outcome.json");
    f.file(&read("Patient/p1"), "patient.json");
    f.on(
        &search("AllergyIntolerance"),
        Reply::Http(HttpResponse::new(429, "").with_header("Retry-After", "7")),
    )
    .file(&search("AllergyIntolerance"), "allergy-1.json")
    .file(&search("Condition"), "condition-1.json")
    .file(
        "https://ehr.example.org/fhir?_getpages=c0ffee&_getpagesoffset=2&_count=2&_bundletype=searchset",
        "condition-2.json",
    )
    .file(&search("MedicationRequest"), "medicationrequest-1.json")
    .empty_searches(&["MedicationStatement"])
    .file(&search("Observation"), "observation-1.json")
    .file(&search("Immunization"), "immunization-cross-origin-next.json")
    .status(&search("Procedure"), 400, &oo)
    .status(&search("DiagnosticReport"), 500, "Internal Server Error")
    .file(&search("DiagnosticReport"), "empty.json")
    .file(&search("DocumentReference"), "documentreference-1.json")
    .file(&search("Encounter"), "malformed.json")
    .file(&search("CarePlan"), "careplan-unexpected-entry.json")
    .file(&search("Goal"), "patient.json")
    .file(&search("CareTeam"), "operation-outcome.json")
    .status(&search("Device"), 403, r#"{"resourceType":"OperationOutcome","issue":[{"severity":"error","code":"forbidden","diagnostics":"Device is not enabled for patient apps"}]}"#)
    .file(&read("Practitioner/dr1"), "practitioner-dr1.json")
    .file(&read("Practitioner/dr2"), "practitioner-dr2.json")
    .file(&read("Organization/org1"), "organization-org1.json")
    .file(&read("Organization/org2"), "organization-org2.json")
    .file(&read("PractitionerRole/role1"), "practitionerrole-role1.json")
    .file(&read("Medication/med2"), "medication-med2.json")
    .file(&read("Binary/bin1"), "binary-bin1.json")
    .on(
        &read("Binary/bin2"),
        Reply::Http(
            HttpResponse::new(200, b"%PDF-1.7\n%\xE2\xE3\xCF\xD3\n".to_vec())
                .with_header("Content-Type", "application/pdf"),
        ),
    );
    f
}

#[test]
fn full_import_against_recorded_responses() {
    let (conn, tok) = full_connection();
    let mut s = start(&conn, tok, ImportOptions::default());
    let mut fake = full_scenario();
    let mut now = T0;
    let events = drive(&mut s, &mut fake, &mut now);
    assert!(fake.unexpected.is_empty(), "{:?}", fake.unexpected);
    assert_eq!(s.status(now), SessionStatus::Finished);

    // Every resource exactly once.
    let got = emitted(&events);
    let mut dedup = got.clone();
    dedup.sort();
    dedup.dedup();
    assert_eq!(
        dedup.len(),
        got.len(),
        "a resource was emitted twice: {got:?}"
    );
    for (ty, n) in [
        ("Patient", 1),
        ("AllergyIntolerance", 1),
        ("Condition", 3),
        ("MedicationRequest", 2),
        ("Medication", 2),
        ("Observation", 2),
        ("Immunization", 1),
        ("DocumentReference", 3),
        ("Practitioner", 2),
        ("PractitionerRole", 1),
        ("Organization", 2),
        ("Binary", 1),
        ("CarePlan", 0),
        ("Encounter", 0),
    ] {
        assert_eq!(count_of(&got, ty), n, "{ty}: {got:?}");
    }

    // The failures, each isolated to its own query.
    let failed = failures(&events);
    assert_eq!(
        failed.keys().cloned().collect::<Vec<_>>(),
        [
            "CarePlan",
            "CareTeam",
            "Device",
            "Encounter",
            "Goal",
            "Immunization",
            "Procedure"
        ]
    );
    assert!(
        matches!(failed["Device"], ImportFailure::Forbidden { detail: Some(ref d) } if d == "Device is not enabled for patient apps")
    );
    assert!(
        matches!(failed["Procedure"], ImportFailure::Rejected { status: 400, detail: Some(ref d) } if d.contains("requires a status parameter"))
    );
    assert!(
        matches!(failed["CareTeam"], ImportFailure::OperationOutcome { ref detail } if detail.contains("status parameter"))
    );
    assert!(matches!(
        failed["Encounter"],
        ImportFailure::MalformedJson { line: 2, .. }
    ));
    assert_eq!(
        failed["Goal"],
        ImportFailure::WrongResourceType {
            expected: "Bundle".into(),
            found: "Patient".into()
        }
    );
    assert_eq!(
        failed["CarePlan"],
        ImportFailure::UnexpectedEntry {
            found: "Condition".into()
        }
    );
    assert!(matches!(
        failed["Immunization"],
        ImportFailure::UnsafeNextLink { .. }
    ));

    // The token never went anywhere but the FHIR base.
    assert!(
        fake.log.iter().all(|(_, u, _)| u.starts_with(BASE)),
        "{:?}",
        fake.log
    );
    assert!(fake.log.iter().all(|(_, _, a)| a == "Bearer token-1"));

    // Patient went first, alone.
    assert_eq!(fake.log[0].1, read("Patient/p1"));
    assert!(fake.log[1].0 > fake.log[0].0);

    // References: each read once; the _include'd Medication not read; none before the searches
    // finished.
    for r in [
        "Practitioner/dr1",
        "Practitioner/dr2",
        "Organization/org1",
        "Organization/org2",
        "PractitionerRole/role1",
        "Medication/med2",
        "Binary/bin1",
        "Binary/bin2",
    ] {
        assert_eq!(fake.requests_to(&read(r)).len(), 1, "{r}");
    }
    assert!(fake.requests_to(&read("Medication/med1")).is_empty());
    let last_search = fake
        .log
        .iter()
        .filter(|(_, u, _)| u.contains("patient=p1") || u.contains("_getpages"))
        .map(|(t, _, _)| *t)
        .max()
        .unwrap();
    let first_ref = fake.requests_to(&read("Practitioner/dr1"))[0];
    assert!(first_ref > last_search);

    // 429 with Retry-After: 7 was honoured; the 500 was retried after a backoff.
    let allergy = fake.requests_to(&search("AllergyIntolerance"));
    assert_eq!(allergy.len(), 2);
    assert!(allergy[1] >= allergy[0] + 7_000, "{allergy:?}");
    let reports = fake.requests_to(&search("DiagnosticReport"));
    assert_eq!(reports.len(), 2);
    assert!(reports[1] >= reports[0] + 500, "{reports:?}");

    // The PDF attachment arrives as bytes; the JSON Binary as a resource.
    let pdf = events
        .iter()
        .find_map(|e| match e {
            ImportEvent::Attachment(a) => Some(a),
            _ => None,
        })
        .unwrap();
    assert_eq!(pdf.url, read("Binary/bin2"));
    assert_eq!(pdf.content_type.as_deref(), Some("application/pdf"));
    assert!(pdf.data.starts_with(b"%PDF-1.7"));

    // The server's note in the Observation page becomes a warning.
    assert!(events.iter().any(|e| matches!(e,
        ImportEvent::Warning { query, message } if query.resource_type == "Observation" && message.contains("privacy settings"))));

    let sum = summary(&events);
    assert!(sum.full_sync);
    assert_eq!(sum.started_at_ms, T0);
    assert_eq!(
        sum.complete_types,
        [
            "AllergyIntolerance",
            "Condition",
            "DiagnosticReport",
            "DocumentReference",
            "MedicationRequest",
            "MedicationStatement",
            "Observation",
            "Patient"
        ]
    );
    assert_eq!(sum.failed.len(), 7);
    assert!(sum.not_granted.is_empty());
    assert_eq!(sum.resources_by_type["Condition"], 3);
    assert_eq!(sum.seen.len(), got.len());
    // ext9 (another server's practitioner) and the CDN document were not followed.
    assert_eq!(sum.external_references_skipped, 2);
    assert!(matches!(events.last(), Some(ImportEvent::Finished(_))));

    // Progress agrees.
    let progress = s.progress();
    let cond = progress
        .iter()
        .find(|p| p.query.resource_type == "Condition")
        .unwrap();
    assert_eq!((cond.fetched, cond.total, cond.pages), (3, Some(3), 2));
    assert_eq!(cond.state, ProgressState::Done);
    let imm = progress
        .iter()
        .find(|p| p.query.resource_type == "Immunization")
        .unwrap();
    assert_eq!((imm.fetched, imm.state), (1, ProgressState::Failed));
    let practitioners = progress
        .iter()
        .find(|p| {
            p.query
                == QueryKey {
                    resource_type: "Practitioner".into(),
                    kind: QueryKind::References,
                    filter: None,
                }
        })
        .unwrap();
    assert_eq!(practitioners.fetched, 2);
}

#[test]
fn failure_messages_speak_to_the_patient() {
    let (conn, tok) = full_connection();
    let mut s = start(&conn, tok, ImportOptions::default());
    let mut fake = full_scenario();
    let mut now = T0;
    let events = drive(&mut s, &mut fake, &mut now);
    let messages: BTreeMap<String, String> = events
        .iter()
        .filter_map(|e| match e {
            ImportEvent::TypeFailed { query, message, .. } => {
                Some((query.resource_type.clone(), message.clone()))
            }
            _ => None,
        })
        .collect();
    assert_eq!(
        messages["Device"],
        "Good Health did not allow this app to read your devices (HTTP 403). It said: \"Device is not enabled for patient apps\". The rest of your record is still imported; you can reconnect and grant access to include it."
    );
    assert!(messages["Immunization"].contains("another address"));
    assert!(messages["Immunization"].contains("does not send your access there"));
    assert!(messages["Encounter"].contains("invalid JSON"));
}

#[test]
fn decimals_and_bytes_are_preserved_exactly() {
    let (conn, tok) = full_connection();
    let mut s = start(&conn, tok, ImportOptions::default());
    let mut fake = full_scenario();
    let mut now = T0;
    let events = drive(&mut s, &mut fake, &mut now);
    let o1 = raw_json(&events, "Observation", "o1");
    assert!(o1.contains(r#""value":1.50,"#), "{o1}");
    let file = fixture("import/observation-1.json");
    assert!(
        file.contains(&o1),
        "o1 must be a byte-exact slice of the response"
    );
    let o2 = raw_json(&events, "Observation", "o2");
    assert!(o2.contains(r#""value":120.0,"#) && o2.contains(r#""value":8.0E1,"#));
    // Pretty-printed resources keep their whitespace too.
    let patient = raw_json(&events, "Patient", "p1");
    assert_eq!(patient, fixture("import/patient.json").trim_end());
}

// ----- retry and backoff -------------------------------------------------------------------

fn condition_only() -> ImportOptions {
    ImportOptions {
        types: Some(vec!["Condition".into()]),
        fetch_references: false,
        fetch_attachments: false,
        ..ImportOptions::default()
    }
}

fn patient_ok(fake: &mut Fake) {
    fake.file(&read("Patient/p1"), "patient.json");
}

/// Sends the Patient read and answers it.
fn pass_patient(s: &mut ImportSession, fake: &mut Fake, now: u64) {
    let reqs = s.next_requests(now);
    assert_eq!(reqs.len(), 1);
    assert_eq!(reqs[0].url, read("Patient/p1"));
    feed(s, fake, &reqs[0], now);
}

#[test]
fn retry_after_seconds_is_honoured_exactly() {
    let (conn, tok) = full_connection();
    let mut s = start(&conn, tok, condition_only());
    let mut fake = Fake::default();
    patient_ok(&mut fake);
    fake.on(
        &search("Condition"),
        Reply::Http(HttpResponse::new(429, "").with_header("retry-after", "7")),
    );
    pass_patient(&mut s, &mut fake, T0);
    let req = s.next_requests(T0 + 100).pop().unwrap();
    let ev = feed(&mut s, &mut fake, &req, T0 + 100);
    assert!(ev.is_empty(), "{ev:?}");
    assert_eq!(
        s.status(T0 + 100),
        SessionStatus::Running {
            in_flight: 0,
            wake_at_ms: Some(T0 + 7_100)
        }
    );
    assert!(s.next_requests(T0 + 7_099).is_empty());
    let again = s.next_requests(T0 + 7_100);
    assert_eq!(again.len(), 1);
    assert_eq!(again[0].url, search("Condition"));
}

#[test]
fn retry_after_http_date_is_honoured() {
    let (conn, tok) = full_connection();
    let mut s = start(&conn, tok, condition_only());
    let mut fake = Fake::default();
    patient_ok(&mut fake);
    // T0 = 2024-04-24T23:06:40Z; ask to come back 20 s later.
    fake.on(
        &search("Condition"),
        Reply::Http(
            HttpResponse::new(503, "").with_header("Retry-After", "Wed, 24 Apr 2024 23:07:00 GMT"),
        ),
    );
    pass_patient(&mut s, &mut fake, T0);
    let req = s.next_requests(T0).pop().unwrap();
    feed(&mut s, &mut fake, &req, T0);
    assert!(s.next_requests(T0 + 19_999).is_empty());
    assert_eq!(s.next_requests(T0 + 20_000).len(), 1);
}

#[test]
fn retry_after_too_long_fails_only_that_type() {
    let (conn, tok) = full_connection();
    let mut s = start(&conn, tok, condition_only());
    let mut fake = Fake::default();
    patient_ok(&mut fake);
    fake.on(
        &search("Condition"),
        Reply::Http(HttpResponse::new(429, "").with_header("Retry-After", "3600")),
    );
    let mut now = T0;
    let events = drive(&mut s, &mut fake, &mut now);
    assert_eq!(
        failures(&events)["Condition"],
        ImportFailure::Busy {
            retry_after_secs: 3600
        }
    );
    assert!(events.iter().any(|e| matches!(e,
        ImportEvent::TypeFailed { message, .. } if message.contains("come back in 60 minutes"))));
    assert_eq!(summary(&events).complete_types, ["Patient"]);
}

#[test]
fn server_error_500_then_success() {
    let (conn, tok) = full_connection();
    let mut s = start(&conn, tok, condition_only());
    let mut fake = Fake::default();
    patient_ok(&mut fake);
    fake.status(&search("Condition"), 500, "oops")
        .file(&search("Condition"), "condition-1.json")
        .file(
            "https://ehr.example.org/fhir?_getpages=c0ffee&_getpagesoffset=2&_count=2&_bundletype=searchset",
            "condition-2.json",
        );
    let mut now = T0;
    let events = drive(&mut s, &mut fake, &mut now);
    assert!(failures(&events).is_empty());
    assert_eq!(count_of(&emitted(&events), "Condition"), 3);
}

#[test]
fn repeated_failures_give_up_after_the_bound() {
    let (conn, tok) = full_connection();
    let mut s = start(&conn, tok, condition_only());
    let mut fake = Fake::default();
    patient_ok(&mut fake);
    for _ in 0..2 {
        fake.status(&search("Condition"), 500, "oops");
    }
    let mut now = T0;
    let events = drive(&mut s, &mut fake, &mut now);
    assert_eq!(
        failures(&events)["Condition"],
        ImportFailure::GaveUp {
            status: 500,
            attempts: 2
        }
    );
    assert!(fake.unexpected.is_empty());

    let (conn, tok) = full_connection();
    let mut s = start(&conn, tok, condition_only());
    let mut fake = Fake::default();
    patient_ok(&mut fake);
    for _ in 0..5 {
        fake.status(&search("Condition"), 502, "bad gateway");
    }
    let mut now = T0;
    let events = drive(&mut s, &mut fake, &mut now);
    assert_eq!(
        failures(&events)["Condition"],
        ImportFailure::GaveUp {
            status: 502,
            attempts: 5
        }
    );
    assert!(fake.unexpected.is_empty());
}

/// The delays between tries of a query that keeps answering 503, for a seed.
fn backoff_delays(seed: u64) -> Vec<u64> {
    let (conn, tok) = full_connection();
    let mut s = ImportSession::start(&conn, tok, condition_only(), seed, T0).unwrap();
    let mut fake = Fake::default();
    patient_ok(&mut fake);
    for _ in 0..5 {
        fake.status(&search("Condition"), 503, "");
    }
    let mut now = T0;
    drive(&mut s, &mut fake, &mut now);
    let times = fake.requests_to(&search("Condition"));
    times.windows(2).map(|w| w[1] - w[0]).collect()
}

#[test]
fn backoff_is_exponential_with_seeded_jitter() {
    let a = backoff_delays(1);
    assert_eq!(a.len(), 4);
    // Equal jitter: between half and all of 1 s, 2 s, 4 s, 8 s (+ the harness's 10 ms).
    for (i, d) in a.iter().enumerate() {
        let exp = 1_000u64 << i;
        assert!(
            (exp / 2 + 10..=exp + 10).contains(d),
            "try {i}: {d} ms not in [{}, {}]",
            exp / 2,
            exp
        );
    }
    assert_eq!(a, backoff_delays(1), "same seed, same delays");
    assert_ne!(a, backoff_delays(2), "the seed drives the jitter");
}

// ----- 401 and token expiry ----------------------------------------------------------------

#[test]
fn unauthorized_mid_import_pauses_and_resumes_without_duplicates() {
    let (conn, tok) = full_connection();
    let mut s = start(&conn, tok, condition_only());
    let mut fake = Fake::default();
    let page2 =
        "https://ehr.example.org/fhir?_getpages=c0ffee&_getpagesoffset=2&_count=2&_bundletype=searchset";
    patient_ok(&mut fake);
    fake.file(&search("Condition"), "condition-1.json")
        .status(page2, 401, "")
        .file(page2, "condition-2.json");
    let mut now = T0;
    let mut events = drive(&mut s, &mut fake, &mut now);
    assert!(events.contains(&ImportEvent::NeedsAuth(AuthPause::Unauthorized)));
    assert_eq!(
        s.status(now),
        SessionStatus::NeedsAuth(AuthPause::Unauthorized)
    );
    assert!(s.next_requests(now).is_empty());
    assert!(!events.iter().any(|e| matches!(e, ImportEvent::Finished(_))));

    // Another patient's token is refused.
    let other = AccessToken::new("t".into(), None, "p2".into());
    assert!(matches!(
        s.resume_with_token(other),
        Err(ImportError::DifferentPatient { .. })
    ));

    s.resume_with_token(token("token-2")).unwrap();
    let req = s.next_requests(now).pop().unwrap();
    assert_eq!(req.url, page2, "the same request is sent again");
    assert_eq!(req.header("Authorization"), Some("Bearer token-2"));
    events.extend(feed(&mut s, &mut fake, &req, now));
    events.extend(drive(&mut s, &mut fake, &mut now));
    let got = emitted(&events);
    assert_eq!(count_of(&got, "Condition"), 3);
    assert_eq!(fake.requests_to(&search("Condition")).len(), 1);
    summary(&events);
}

#[test]
fn a_late_401_for_the_old_token_does_not_pause_again() {
    let (conn, tok) = full_connection();
    let opts = ImportOptions {
        types: Some(vec!["Condition".into(), "Goal".into()]),
        fetch_references: false,
        ..ImportOptions::default()
    };
    let mut s = start(&conn, tok, opts);
    let mut fake = Fake::default();
    patient_ok(&mut fake);
    pass_patient(&mut s, &mut fake, T0);
    let reqs = s.next_requests(T0);
    assert_eq!(reqs.len(), 2);
    // First 401 pauses.
    let ev = s.on_response(reqs[0].id, HttpResponse::new(401, ""), T0);
    assert_eq!(ev, vec![ImportEvent::NeedsAuth(AuthPause::Unauthorized)]);
    s.resume_with_token(token("token-2")).unwrap();
    // The second request (sent with the old token) also comes back 401: no new pause.
    let ev = s.on_response(reqs[1].id, HttpResponse::new(401, ""), T0);
    assert!(ev.is_empty());
    let again = s.next_requests(T0);
    assert_eq!(again.len(), 2);
    assert!(again
        .iter()
        .all(|r| r.header("Authorization") == Some("Bearer token-2")));
}

#[test]
fn expiring_token_pauses_before_sending() {
    let (conn, _) = full_connection();
    let short = AccessToken::new("token-1".into(), Some(T0 + 60_000), "p1".into());
    let mut s = start(&conn, short, condition_only());
    assert_eq!(s.next_requests(T0).len(), 1);
    // Within 10 s of expiry nothing is sent.
    assert!(s.next_requests(T0 + 50_001).is_empty());
    assert_eq!(
        s.status(T0 + 50_001),
        SessionStatus::NeedsAuth(AuthPause::TokenExpired)
    );
    assert!(AuthPause::TokenExpired
        .message("Good Health")
        .contains("sign in again"));
}

#[test]
fn start_refuses_a_token_for_another_patient() {
    let (conn, _) = full_connection();
    let other = AccessToken::new("t".into(), None, "p2".into());
    assert!(matches!(
        ImportSession::start(&conn, other, ImportOptions::default(), 1, T0),
        Err(ImportError::DifferentPatient { .. })
    ));
}

// ----- network failures and resume ---------------------------------------------------------

#[test]
fn network_error_then_resume_from_serialised_state() {
    let (conn, tok) = full_connection();
    let opts = ImportOptions {
        types: Some(vec!["Condition".into()]),
        fetch_attachments: false,
        ..ImportOptions::default()
    };
    let mut s = start(&conn, tok, opts);
    let page2 =
        "https://ehr.example.org/fhir?_getpages=c0ffee&_getpagesoffset=2&_count=2&_bundletype=searchset";
    let mut fake = Fake::default();
    patient_ok(&mut fake);
    fake.file(&search("Condition"), "condition-1.json");
    for _ in 0..3 {
        fake.on(page2, Reply::Net(NetworkFailure::FetchFailed));
    }
    let mut now = T0;
    let first = drive(&mut s, &mut fake, &mut now);
    let SessionStatus::Interrupted(i) = s.status(now) else {
        panic!("expected an interruption, got {:?}", s.status(now));
    };
    assert!(
        i.message.contains("connection to Good Health was lost"),
        "{}",
        i.message
    );
    assert!(first.contains(&ImportEvent::Interrupted(i.clone())));
    assert_eq!(fake.requests_to(page2).len(), 3);

    // Save, "reload", resume with a new token.
    let json = s.snapshot().to_json();
    assert!(
        !json.contains("token-1"),
        "the access token is never in the saved state"
    );
    drop(s);
    let state = ImportState::from_json(&json).unwrap();
    assert_eq!(state.patient_id(), "p1");
    let mut s = ImportSession::resume(state, token("token-2")).unwrap();
    fake.file(page2, "condition-2.json")
        .file(&read("Practitioner/dr1"), "practitioner-dr1.json")
        .file(&read("Organization/org1"), "organization-org1.json");
    let second = drive(&mut s, &mut fake, &mut now);
    assert!(fake.unexpected.is_empty(), "{:?}", fake.unexpected);

    // Nothing fetched twice, nothing emitted twice across both sessions.
    assert_eq!(fake.requests_to(&read("Patient/p1")).len(), 1);
    assert_eq!(fake.requests_to(&search("Condition")).len(), 1);
    let mut all = emitted(&first);
    all.extend(emitted(&second));
    assert_eq!(count_of(&all, "Condition"), 3);
    assert_eq!(count_of(&all, "Patient"), 1);
    assert_eq!(count_of(&all, "Practitioner"), 1);
    let sum = summary(&second);
    assert_eq!(sum.resources_by_type["Condition"], 3);
    assert_eq!(sum.started_at_ms, T0);
}

#[test]
fn interrupted_session_retries_on_request() {
    let (conn, tok) = full_connection();
    let mut s = start(&conn, tok, condition_only());
    let mut fake = Fake::default();
    patient_ok(&mut fake);
    fake.on(&search("Condition"), Reply::Net(NetworkFailure::Offline))
        .file(&search("Condition"), "condition-2.json");
    let mut now = T0;
    let events = drive(&mut s, &mut fake, &mut now);
    // Offline interrupts at once (no pointless retries).
    assert_eq!(fake.requests_to(&search("Condition")).len(), 1);
    assert!(events.iter().any(|e| matches!(e,
        ImportEvent::Interrupted(i) if i.failure == NetworkFailure::Offline && i.message.contains("offline"))));
    assert!(s.next_requests(now + 60_000).is_empty());
    s.retry_interrupted();
    let events = drive(&mut s, &mut fake, &mut now);
    assert_eq!(count_of(&emitted(&events), "Condition"), 1);
    summary(&events);
}

#[test]
fn cors_failure_on_first_request_is_explained() {
    let (conn, tok) = full_connection();
    let mut s = start(&conn, tok, condition_only());
    let mut fake = Fake::default();
    for _ in 0..3 {
        fake.on(&read("Patient/p1"), Reply::Net(NetworkFailure::FetchFailed));
    }
    let mut now = T0;
    drive(&mut s, &mut fake, &mut now);
    let SessionStatus::Interrupted(i) = s.status(now) else {
        panic!("{:?}", s.status(now));
    };
    assert!(i
        .message
        .contains("does not allow browser apps from this site (CORS)"));
    // Only the Patient read was ever tried: the searches wait for it.
    assert!(fake.log.iter().all(|(_, u, _)| u == &read("Patient/p1")));
}

#[test]
fn timeouts_are_retried() {
    let (conn, tok) = full_connection();
    let mut s = start(&conn, tok, condition_only());
    let mut fake = Fake::default();
    patient_ok(&mut fake);
    fake.on(&search("Condition"), Reply::Timeout)
        .on(&search("Condition"), Reply::Timeout)
        .file(&search("Condition"), "condition-2.json");
    let mut now = T0;
    let events = drive(&mut s, &mut fake, &mut now);
    assert_eq!(count_of(&emitted(&events), "Condition"), 1);
    assert!(!events
        .iter()
        .any(|e| matches!(e, ImportEvent::Interrupted(_))));
}

// ----- paging safety -------------------------------------------------------------------------

#[test]
fn cross_origin_next_link_is_refused() {
    let (conn, tok) = full_connection();
    let opts = ImportOptions {
        types: Some(vec!["Immunization".into()]),
        ..condition_only()
    };
    let mut s = start(&conn, tok, opts);
    let mut fake = Fake::default();
    patient_ok(&mut fake);
    fake.file(
        &search("Immunization"),
        "immunization-cross-origin-next.json",
    );
    let mut now = T0;
    let events = drive(&mut s, &mut fake, &mut now);
    assert!(fake.unexpected.is_empty());
    assert!(!fake.log.iter().any(|(_, u, _)| u.contains("evil.example")));
    assert_eq!(count_of(&emitted(&events), "Immunization"), 1);
    assert_eq!(
        failures(&events)["Immunization"],
        ImportFailure::UnsafeNextLink {
            link: "https://evil.example/fhir/Immunization?patient=p1&page=2".into()
        }
    );
}

fn one_page_with_next(next: &str) -> String {
    format!(
        r#"{{"resourceType":"Bundle","type":"searchset","link":[{{"relation":"next","url":"{next}"}}],"entry":[{{"resource":{{"resourceType":"Condition","id":"c1"}}}}]}}"#
    )
}

#[test]
fn next_links_outside_the_base_path_are_refused() {
    for next in [
        "https://ehr.example.org/other-tenant/Condition?page=2",
        "https://ehr.example.org/fhir/../admin/Condition?page=2",
        "http://ehr.example.org/fhir/Condition?page=2",
        "//evil.example/fhir/Condition",
    ] {
        let (conn, tok) = full_connection();
        let mut s = start(&conn, tok, condition_only());
        let mut fake = Fake::default();
        patient_ok(&mut fake);
        fake.status(&search("Condition"), 200, &one_page_with_next(next));
        let mut now = T0;
        let events = drive(&mut s, &mut fake, &mut now);
        assert!(
            matches!(
                failures(&events)["Condition"],
                ImportFailure::UnsafeNextLink { .. }
            ),
            "{next}"
        );
        assert!(fake.unexpected.is_empty(), "{next}: {:?}", fake.unexpected);
    }
}

#[test]
fn relative_next_link_is_followed() {
    let (conn, tok) = full_connection();
    let mut s = start(&conn, tok, condition_only());
    let mut fake = Fake::default();
    patient_ok(&mut fake);
    fake.status(
        &search("Condition"),
        200,
        &one_page_with_next("/fhir/Condition?patient=p1&page=2"),
    )
    .file(
        "https://ehr.example.org/fhir/Condition?patient=p1&page=2",
        "condition-2.json",
    );
    let mut now = T0;
    let events = drive(&mut s, &mut fake, &mut now);
    assert_eq!(count_of(&emitted(&events), "Condition"), 2);
    assert!(failures(&events).is_empty());
}

#[test]
fn paging_loop_is_stopped() {
    let (conn, tok) = full_connection();
    let mut s = start(&conn, tok, condition_only());
    let mut fake = Fake::default();
    patient_ok(&mut fake);
    fake.status(
        &search("Condition"),
        200,
        &one_page_with_next(&search("Condition")),
    );
    let mut now = T0;
    let events = drive(&mut s, &mut fake, &mut now);
    assert_eq!(failures(&events)["Condition"], ImportFailure::PagingLoop);
    assert_eq!(count_of(&emitted(&events), "Condition"), 1);
}

#[test]
fn expired_next_link_restarts_the_query_without_duplicates() {
    let (conn, tok) = full_connection();
    let mut s = start(&conn, tok, condition_only());
    let page2 =
        "https://ehr.example.org/fhir?_getpages=c0ffee&_getpagesoffset=2&_count=2&_bundletype=searchset";
    let mut fake = Fake::default();
    patient_ok(&mut fake);
    fake.file(&search("Condition"), "condition-1.json")
        .status(page2, 410, r#"{"resourceType":"OperationOutcome","issue":[{"severity":"error","code":"not-found","diagnostics":"Search session expired"}]}"#)
        .file(&search("Condition"), "condition-1.json")
        .file(page2, "condition-2.json");
    let mut now = T0;
    let events = drive(&mut s, &mut fake, &mut now);
    assert!(fake.unexpected.is_empty());
    assert_eq!(fake.requests_to(&search("Condition")).len(), 2);
    let got = emitted(&events);
    assert_eq!(count_of(&got, "Condition"), 3, "{got:?}");
    assert!(failures(&events).is_empty());
    assert!(events.iter().any(|e| matches!(e,
        ImportEvent::Warning { message, .. } if message.contains("had expired"))));
    let p = &s.progress()[1];
    assert_eq!(p.fetched, 3);
}

// ----- bad input ------------------------------------------------------------------------------

#[test]
fn patient_mismatch_fails_the_patient_read_only() {
    let (conn, tok) = full_connection();
    let mut s = start(&conn, tok, condition_only());
    let mut fake = Fake::default();
    fake.status(
        &read("Patient/p1"),
        200,
        r#"{"resourceType":"Patient","id":"someone-else"}"#,
    )
    .file(&search("Condition"), "condition-2.json");
    let mut now = T0;
    let events = drive(&mut s, &mut fake, &mut now);
    assert_eq!(failures(&events)["Patient"], ImportFailure::PatientMismatch);
    assert_eq!(count_of(&emitted(&events), "Patient"), 0);
    assert_eq!(count_of(&emitted(&events), "Condition"), 1);
}

#[test]
fn entries_without_ids_are_skipped_with_a_warning() {
    let (conn, tok) = full_connection();
    let mut s = start(&conn, tok, condition_only());
    let mut fake = Fake::default();
    patient_ok(&mut fake);
    fake.status(
        &search("Condition"),
        200,
        r#"{"resourceType":"Bundle","type":"searchset","entry":[{"resource":{"resourceType":"Condition"}},{"fullUrl":"urn:x"},{"resource":{"resourceType":"Condition","id":"ok-1"}}]}"#,
    );
    let mut now = T0;
    let events = drive(&mut s, &mut fake, &mut now);
    assert_eq!(
        emitted(&events),
        [
            ("Patient".into(), "p1".into()),
            ("Condition".into(), "ok-1".into())
        ]
    );
    assert!(events.iter().any(|e| matches!(e,
        ImportEvent::Warning { message, .. } if message.contains("2 entries"))));
}

#[test]
fn html_instead_of_fhir_is_a_clear_failure() {
    let (conn, tok) = full_connection();
    let mut s = start(&conn, tok, condition_only());
    let mut fake = Fake::default();
    patient_ok(&mut fake);
    fake.on(
        &search("Condition"),
        Reply::Http(HttpResponse::new(
            200,
            fixture("discovery/portal-page.html"),
        )),
    );
    let mut now = T0;
    let events = drive(&mut s, &mut fake, &mut now);
    assert_eq!(
        failures(&events)["Condition"],
        ImportFailure::NotFhir {
            what: "a web page instead of FHIR data"
        }
    );
}

// ----- references ------------------------------------------------------------------------------

#[test]
fn references_are_fetched_once_and_only_when_readable() {
    // Only Condition and Patient granted: Practitioner reads are not attempted.
    let (conn, tok) = connect(
        "launch/patient patient/Patient.rs patient/Condition.rs",
        3600,
    );
    let mut s = start(&conn, tok, ImportOptions::default());
    let mut fake = Fake::default();
    patient_ok(&mut fake);
    fake.file(&search("Condition"), "condition-2.json");
    let mut now = T0;
    let events = drive(&mut s, &mut fake, &mut now);
    assert!(fake.unexpected.is_empty(), "{:?}", fake.unexpected);
    let sum = summary(&events);
    assert_eq!(sum.not_granted.len(), 13);
    assert!(sum.not_granted.contains(&"Observation".to_string()));
    assert_eq!(sum.complete_types, ["Condition", "Patient"]);
}

#[test]
fn missing_reference_is_a_warning_not_a_failure() {
    let (conn, tok) = full_connection();
    let opts = ImportOptions {
        types: Some(vec!["Condition".into()]),
        ..ImportOptions::default()
    };
    let mut s = start(&conn, tok, opts);
    let mut fake = Fake::default();
    patient_ok(&mut fake);
    fake.file(&search("Condition"), "condition-2.json")
        .status(&read("Practitioner/dr1"), 404, "")
        .file(&read("Organization/org1"), "organization-org1.json");
    let mut now = T0;
    let events = drive(&mut s, &mut fake, &mut now);
    assert!(failures(&events).is_empty());
    assert!(events.iter().any(|e| matches!(e,
        ImportEvent::Warning { query, message }
            if query.kind == QueryKind::References && message.contains("Practitioner/dr1") && message.contains("no longer available"))));
    let p = s
        .progress()
        .into_iter()
        .find(|p| p.query.resource_type == "Practitioner")
        .unwrap();
    assert_eq!((p.fetched, p.failed), (0, 1));
    summary(&events);
}

#[test]
fn reference_cap_is_respected() {
    let (conn, tok) = full_connection();
    let opts = ImportOptions {
        types: Some(vec!["Condition".into()]),
        max_references: 1,
        ..ImportOptions::default()
    };
    let mut s = start(&conn, tok, opts);
    let mut fake = Fake::default();
    patient_ok(&mut fake);
    fake.file(&search("Condition"), "condition-2.json")
        .file(&read("Practitioner/dr1"), "practitioner-dr1.json");
    let mut now = T0;
    let events = drive(&mut s, &mut fake, &mut now);
    assert!(fake.unexpected.is_empty(), "{:?}", fake.unexpected);
    assert!(fake.requests_to(&read("Organization/org1")).is_empty());
    assert!(events.iter().any(|e| matches!(e,
        ImportEvent::Warning { message, .. } if message.contains("more clinicians"))));
}

// ----- plans -------------------------------------------------------------------------------------

#[test]
fn concurrency_bound_is_respected() {
    let (conn, tok) = full_connection();
    let opts = ImportOptions {
        max_in_flight: 3,
        ..ImportOptions::default()
    };
    let mut s = start(&conn, tok, opts);
    let mut fake = Fake::default();
    patient_ok(&mut fake);
    let patient = s.next_requests(T0);
    assert_eq!(patient.len(), 1, "the Patient read goes alone");
    assert!(
        s.next_requests(T0).is_empty(),
        "nothing else until it is answered"
    );
    feed(&mut s, &mut fake, &patient[0], T0);
    let batch = s.next_requests(T0);
    assert_eq!(batch.len(), 3);
    assert_eq!(
        batch.iter().map(|r| r.url.clone()).collect::<Vec<_>>(),
        [
            search("AllergyIntolerance"),
            search("Condition"),
            search("MedicationRequest")
        ]
    );
    assert!(s.next_requests(T0).is_empty());
    let ids: Vec<RequestId> = batch.iter().map(|r| r.id).collect();
    assert_eq!(
        s.status(T0),
        SessionStatus::Running {
            in_flight: 3,
            wake_at_ms: None
        }
    );
    s.on_response(
        ids[0],
        json_response(200, &fixture("import/empty.json")),
        T0,
    );
    let next = s.next_requests(T0);
    assert_eq!(next.len(), 1);
    assert_eq!(next[0].url, search("MedicationStatement"));
    // Unknown or repeated ids are ignored.
    assert!(s
        .on_response(ids[0], HttpResponse::new(200, "{}"), T0)
        .is_empty());
    assert!(s
        .on_response(RequestId(999), HttpResponse::new(200, "{}"), T0)
        .is_empty());
}

#[test]
fn incremental_sync_uses_last_updated() {
    let (conn, tok) = full_connection();
    let opts = ImportOptions {
        since: Some(1_709_251_200_000), // 2024-03-01T00:00:00Z
        types: Some(vec!["Condition".into()]),
        fetch_references: false,
        ..ImportOptions::default()
    };
    let mut s = start(&conn, tok, opts);
    let mut fake = Fake::default();
    patient_ok(&mut fake);
    let url =
        format!("{BASE}/Condition?patient=p1&_count=100&_lastUpdated=gt2024-03-01T00%3A00%3A00Z");
    fake.file(&url, "condition-2.json");
    let mut now = T0;
    let events = drive(&mut s, &mut fake, &mut now);
    assert!(fake.unexpected.is_empty(), "{:?}", fake.unexpected);
    let sum = summary(&events);
    assert!(!sum.full_sync);
    assert!(
        sum.complete_types.is_empty(),
        "no gone-detection on incremental syncs"
    );
    assert_eq!(
        sum.seen,
        [
            ("Condition".into(), "c3".into()),
            ("Patient".into(), "p1".into())
        ]
    );
}

#[test]
fn observation_per_category_emits_each_once_and_is_not_complete() {
    let (conn, tok) = full_connection();
    let opts = ImportOptions {
        types: Some(vec!["Observation".into()]),
        observation_queries: ObservationQueries::PerCategory(vec![
            "laboratory".into(),
            "vital-signs".into(),
        ]),
        fetch_references: false,
        ..ImportOptions::default()
    };
    let mut s = start(&conn, tok, opts);
    let mut fake = Fake::default();
    patient_ok(&mut fake);
    fake.file(
        &format!("{BASE}/Observation?patient=p1&category=laboratory&_count=100"),
        "observation-laboratory.json",
    )
    .file(
        &format!("{BASE}/Observation?patient=p1&category=vital-signs&_count=100"),
        "observation-vital-signs.json",
    );
    let mut now = T0;
    let events = drive(&mut s, &mut fake, &mut now);
    assert!(fake.unexpected.is_empty(), "{:?}", fake.unexpected);
    let got = emitted(&events);
    assert_eq!(
        count_of(&got, "Observation"),
        2,
        "o1 has two categories, emitted once"
    );
    let sum = summary(&events);
    assert_eq!(sum.resources_by_type["Observation"], 2);
    assert!(!sum.complete_types.contains(&"Observation".to_string()));
    let labels: Vec<String> = s.progress().iter().map(|p| p.query.to_string()).collect();
    assert_eq!(
        labels,
        [
            "Patient",
            "Observation (laboratory)",
            "Observation (vital-signs)"
        ]
    );
}

#[test]
fn granular_scopes_shape_the_plan() {
    let (conn, tok) = connect(
        "launch/patient patient/Patient.r patient/Observation.rs?category=http://terminology.hl7.org/CodeSystem/observation-category|laboratory",
        3600,
    );
    let mut s = start(&conn, tok, ImportOptions::default());
    let mut fake = Fake::default();
    patient_ok(&mut fake);
    fake.file(
        &format!("{BASE}/Observation?patient=p1&category=http%3A%2F%2Fterminology.hl7.org%2FCodeSystem%2Fobservation-category%7Claboratory&_count=100"),
        "observation-laboratory.json",
    );
    let mut now = T0;
    let events = drive(&mut s, &mut fake, &mut now);
    assert!(fake.unexpected.is_empty(), "{:?}", fake.unexpected);
    assert_eq!(count_of(&emitted(&events), "Observation"), 1);
    let sum = summary(&events);
    assert_eq!(sum.complete_types, ["Patient"]);
    assert_eq!(sum.not_granted.len(), 13);
}

#[test]
fn nothing_granted_finishes_at_once() {
    let (conn, tok) = connect("launch/patient openid", 3600);
    let mut s = start(&conn, tok, ImportOptions::default());
    assert!(s.next_requests(T0).is_empty());
    assert_eq!(s.status(T0), SessionStatus::Finished);
    let sum = s.summary(T0);
    assert_eq!(sum.not_granted.len(), SEARCH_TYPES.len() + 1);
    assert!(sum.seen.is_empty());
}

#[test]
fn saved_state_is_versioned() {
    let (conn, tok) = full_connection();
    let s = start(&conn, tok, ImportOptions::default());
    let json = s.snapshot().to_json();
    let bumped = json.replacen("\"version\":1", "\"version\":2", 1);
    assert!(matches!(
        ImportState::from_json(&bumped),
        Err(ImportError::StateUnreadable(_))
    ));
    assert!(matches!(
        ImportState::from_json("[]"),
        Err(ImportError::StateUnreadable(_))
    ));
    let state = ImportState::from_json(&json).unwrap();
    assert!(matches!(
        ImportSession::resume(state, AccessToken::new("x".into(), None, "p9".into())),
        Err(ImportError::DifferentPatient { .. })
    ));
}

#[test]
fn observation_search_without_category_falls_back_per_category() {
    let (conn, tok) = full_connection();
    let opts = ImportOptions {
        types: Some(vec!["Observation".into(), "Condition".into()]),
        fetch_references: false,
        ..ImportOptions::default()
    };
    let mut s = start(&conn, tok, opts);
    let mut fake = Fake::default();
    patient_ok(&mut fake);
    fake.status(
        &search("Observation"),
        400,
        r#"{"resourceType":"OperationOutcome","issue":[{"severity":"error","code":"required","details":{"text":"Must specify category or code."}}]}"#,
    )
    .file(&search("Condition"), "condition-2.json")
    .file(
        &format!("{BASE}/Observation?patient=p1&category=laboratory&_count=100"),
        "observation-laboratory.json",
    )
    .file(
        &format!("{BASE}/Observation?patient=p1&category=vital-signs&_count=100"),
        "observation-vital-signs.json",
    );
    for c in [
        "social-history",
        "survey",
        "exam",
        "imaging",
        "procedure",
        "activity",
    ] {
        fake.file(
            &format!("{BASE}/Observation?patient=p1&category={c}&_count=100"),
            "empty.json",
        );
    }
    let mut now = T0;
    let events = drive(&mut s, &mut fake, &mut now);
    assert!(fake.unexpected.is_empty(), "{:?}", fake.unexpected);
    assert!(failures(&events).is_empty(), "{:?}", failures(&events));
    assert_eq!(count_of(&emitted(&events), "Observation"), 2);
    assert!(events.iter().any(|e| matches!(e,
        ImportEvent::Warning { message, .. } if message.contains("category by category") && message.contains("Must specify category or code."))));
    let sum = summary(&events);
    assert_eq!(sum.complete_types, ["Condition", "Patient"]);
    // Condition kept its place in the plan.
    let labels: Vec<String> = s.progress().iter().map(|p| p.query.to_string()).collect();
    assert_eq!(
        labels[..3],
        ["Patient", "Observation (laboratory)", "Condition"]
    );
    assert_eq!(labels.len(), 10);
}

#[test]
fn repeated_401_despite_new_tokens_fails_only_that_type() {
    let (conn, tok) = full_connection();
    let opts = ImportOptions {
        types: Some(vec!["Condition".into(), "Goal".into()]),
        fetch_references: false,
        ..ImportOptions::default()
    };
    let mut s = start(&conn, tok, opts);
    let mut fake = Fake::default();
    patient_ok(&mut fake);
    fake.file(&search("Condition"), "condition-2.json");
    for _ in 0..3 {
        fake.status(&search("Goal"), 401, "");
    }
    let mut now = T0;
    let mut events = Vec::new();
    for n in 2..=4 {
        events.extend(drive(&mut s, &mut fake, &mut now));
        if n < 4 {
            assert_eq!(
                s.status(now),
                SessionStatus::NeedsAuth(AuthPause::Unauthorized)
            );
            s.resume_with_token(token(&format!("token-{n}"))).unwrap();
        }
    }
    assert!(fake.unexpected.is_empty(), "{:?}", fake.unexpected);
    assert_eq!(failures(&events)["Goal"], ImportFailure::AuthRefused);
    assert_eq!(count_of(&emitted(&events), "Condition"), 1);
    summary(&events);
}

#[test]
fn provider_entry_helpers_feed_the_session() {
    let dir = phr_smart::parse_directory(&fixture("directory/providers.json")).unwrap();
    let gh = dir.get("good-health").unwrap();
    let reg = gh.client_registration("https://phr.example.net/callback");
    assert_eq!(reg.client_id, "3f2a9c1e-phr");
    assert_eq!(reg.provider_name, "Good Health Clinic");
    assert_eq!(
        gh.import_options().observation_queries,
        ObservationQueries::us_core_categories()
    );
    let rc = dir.get("recovery-center").unwrap();
    let server = sandbox_server(rc.fhir_base.as_str());
    assert_eq!(
        phr_smart::requested_scopes(&server, &rc.scope_options()).to_scope_string(),
        "launch/patient openid fhirUser patient/*.read"
    );

    let (mut conn, _) = full_connection();
    assert_eq!(conn.incremental_since(), None);
    conn.record_sync(T0, true);
    assert_eq!(
        conn.incremental_since(),
        Some(T0 - phr_smart::INCREMENTAL_OVERLAP_MS)
    );
}

#[test]
fn delayed_retry_is_announced_while_other_requests_are_in_flight() {
    let (conn, tok) = full_connection();
    let opts = ImportOptions {
        types: Some(vec!["Condition".into(), "Goal".into()]),
        fetch_references: false,
        ..ImportOptions::default()
    };
    let mut s = start(&conn, tok, opts);
    let mut fake = Fake::default();
    patient_ok(&mut fake);
    pass_patient(&mut s, &mut fake, T0);
    let reqs = s.next_requests(T0);
    assert_eq!(reqs.len(), 2);
    let ev = s.on_response(
        reqs[0].id,
        HttpResponse::new(503, "").with_header("Retry-After", "5"),
        T0,
    );
    assert!(ev.is_empty());
    // Goal is still in flight; the Condition retry is due in 5 s.
    assert_eq!(
        s.status(T0),
        SessionStatus::Running {
            in_flight: 1,
            wake_at_ms: Some(T0 + 5_000)
        }
    );
    assert!(s.next_requests(T0 + 4_999).is_empty());
    let retry = s.next_requests(T0 + 5_000);
    assert_eq!(retry.len(), 1);
    assert_eq!(retry[0].url, search("Condition"));
}

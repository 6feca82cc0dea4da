//! The share composer model and segmentation.
//!
//! # Key design decision: shared entries are prepared copies, built from an allow-list
//!
//! Nothing in a share is copied "as is". Each included item is parsed into a fresh copy that
//! loses its narrative (`text`, which may mention anything), its `contained` resources and its
//! `meta`; its references are rewritten to the document's own `fullUrl`s, and any reference that
//! would not resolve inside the document is removed *with its display text*. Security labels are
//! rebuilt from the item's computed labels, so a label can only appear when its category is
//! shared. Whether an item is included is decided first, from its labels, and everything after
//! that only ever sees included items, so a withheld item cannot leak through a reference, a
//! narrative, a contained resource, a Provenance target or a label. The record itself is never
//! changed.

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use phr_consent::{labels, Category, ItemLabels, Resolver};
use phr_fhir::types::Reference;
use phr_fhir::views::Common;
use phr_fhir::Resource;
use sha2::{Digest, Sha256};

use crate::describe::{describe, Row};
use crate::json::Node;
use crate::section::{is_supporting_type, section_for, Section};
use crate::ShareError;

/// Where an item came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SourceKind {
    /// Imported from a provider's EHR over SMART on FHIR.
    Ehr,
    /// Imported from a file the patient chose.
    File,
    /// Entered by the patient.
    Patient,
}

/// A source of items: a provider connection, an imported file, or the patient.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct SourceRef {
    /// Stable id of the source in the app.
    pub id: String,
    /// Name shown to people ("Demo General Hospital").
    pub label: String,
    pub kind: SourceKind,
    /// The provider is a 42 CFR Part 2 program.
    pub part2_program: bool,
}

/// One item of the record, offered for sharing. The app maps its record onto these.
#[derive(Clone, Copy, Debug)]
pub struct ShareItem<'a> {
    /// The app's stable key for the item.
    pub key: &'a str,
    pub resource: &'a Resource,
    pub source: &'a SourceRef,
    /// The item's labels (from `phr_consent::label_record`).
    pub labels: &'a ItemLabels,
    /// The item's own Provenance, if the record has one (not shared; kept for the app's use).
    pub provenance: Option<&'a Resource>,
}

impl ShareItem<'_> {
    /// Entered by the patient: from a patient source, or labelled `PATAST` by whoever made it.
    pub fn patient_reported(&self) -> bool {
        self.source.kind == SourceKind::Patient
            || self
                .resource
                .view::<Common>()
                .ok()
                .and_then(|c| c.meta)
                .is_some_and(|m| m.security.iter().any(labels::is_patast))
    }
}

/// What the patient chose to share.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Selection {
    /// The IPS sections chosen. Required sections are always in the document (empty ones say so).
    pub sections: BTreeSet<Section>,
    /// Items the patient unticked.
    pub excluded_items: BTreeSet<String>,
    /// Items the patient ticked one by one. Psychotherapy notes are only ever shared this way.
    pub explicit_items: BTreeSet<String>,
    /// Sensitive categories the patient explicitly included. Everything else sensitive is withheld.
    pub included_categories: BTreeSet<Category>,
}

impl Default for Selection {
    /// The IPS required and recommended sections; no sensitive category included.
    fn default() -> Self {
        Selection {
            sections: [
                Section::Problems,
                Section::Medications,
                Section::Allergies,
                Section::Immunizations,
                Section::Results,
                Section::Procedures,
                Section::Devices,
            ]
            .into_iter()
            .collect(),
            excluded_items: BTreeSet::new(),
            explicit_items: BTreeSet::new(),
            included_categories: BTreeSet::new(),
        }
    }
}

impl Selection {
    /// Includes every sensitive category that may be included in bulk (not psychotherapy notes).
    pub fn include_all_bulk_includable(&mut self) {
        self.included_categories
            .extend(Category::ALL.into_iter().filter(|c| c.bulk_includable()));
    }
}

/// What happens to one item.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Decision {
    /// Shared in this section.
    Included(Section),
    /// Shared because an included entry refers to it (a Medication, a Practitioner...).
    Supporting,
    /// Withheld because of these categories, which the patient did not include.
    Withheld(Vec<Category>),
    /// The patient unticked it.
    Unticked,
    /// Its section was not chosen, or nothing shared refers to it.
    NotChosen,
}

/// The decision for every item plus the counts the UI shows.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SharePlan {
    /// One decision per item, in input order.
    pub decisions: Vec<Decision>,
    /// "Withheld: N items in Substance use", per category.
    pub withheld: BTreeMap<Category, usize>,
}

impl SharePlan {
    /// Sentences for the composer ("Withheld: 3 items in Substance use").
    pub fn withheld_summary(&self) -> Vec<String> {
        self.withheld
            .iter()
            .map(|(c, n)| {
                format!(
                    "Withheld: {n} item{} in {}",
                    if *n == 1 { "" } else { "s" },
                    c.label()
                )
            })
            .collect()
    }
}

fn blocked_by(item: &ShareItem<'_>, sel: &Selection) -> Vec<Category> {
    let mut out: Vec<Category> = item
        .labels
        .categories
        .keys()
        .copied()
        .filter(|c| !sel.included_categories.contains(c))
        .collect();
    if item.labels.has(Category::PsychotherapyNotes)
        && !sel.explicit_items.contains(item.key)
        && !out.contains(&Category::PsychotherapyNotes)
    {
        out.push(Category::PsychotherapyNotes);
    }
    out
}

/// Decides, for every item, whether it is shared. Pure and cheap: call it on every change in the
/// composer to update the counts.
pub fn plan(items: &[ShareItem<'_>], selection: &Selection) -> SharePlan {
    plan_with(items, selection, &resolver_for(items))
}

/// Resolves references between the items (within their source first).
fn resolver_for(items: &[ShareItem<'_>]) -> Resolver {
    Resolver::new(items.iter().map(|i| (i.source.id.as_str(), i.resource)))
}

fn plan_with(items: &[ShareItem<'_>], selection: &Selection, resolver: &Resolver) -> SharePlan {
    let mut decisions = vec![Decision::NotChosen; items.len()];
    let mut withheld = BTreeMap::new();
    let mut queue = VecDeque::new();
    for (i, item) in items.iter().enumerate() {
        let Some(section) = section_for(item.resource) else {
            continue;
        };
        let chosen =
            selection.sections.contains(&section) || selection.explicit_items.contains(item.key);
        if !chosen {
            continue;
        }
        if selection.excluded_items.contains(item.key) {
            decisions[i] = Decision::Unticked;
            continue;
        }
        let blocked = blocked_by(item, selection);
        if blocked.is_empty() {
            decisions[i] = Decision::Included(section);
            queue.push_back(i);
        } else {
            for c in &blocked {
                *withheld.entry(*c).or_insert(0) += 1;
            }
            decisions[i] = Decision::Withheld(blocked);
        }
    }
    // Pull in supporting resources that included entries refer to.
    while let Some(i) = queue.pop_front() {
        let item = &items[i];
        for r in phr_consent::references_of(item.resource) {
            let Some(j) = resolver.resolve(&item.source.id, &r) else {
                continue;
            };
            let target = &items[j];
            if decisions[j] != Decision::NotChosen
                || !is_supporting_type(target.resource.resource_type())
                || selection.excluded_items.contains(target.key)
                || !blocked_by(target, selection).is_empty()
            {
                continue;
            }
            decisions[j] = Decision::Supporting;
            queue.push_back(j);
        }
    }
    SharePlan {
        decisions,
        withheld,
    }
}

/// One prepared copy in the document.
#[derive(Clone, Debug)]
pub struct Prepared {
    /// The item's key in the app (not written into the document).
    pub key: String,
    /// `urn:uuid:...` in the document.
    pub full_url: String,
    /// `None` for supporting resources and the Patient.
    pub section: Option<Section>,
    /// The prepared copy.
    pub resource: Resource,
    /// Index into [`Segmented::sources`].
    pub source: usize,
    pub patient_reported: bool,
    /// The item's (included) sensitive categories.
    pub categories: BTreeSet<Category>,
    pub part2: bool,
}

/// The result of segmentation: only what will leave, ready for the IPS builder.
#[derive(Clone, Debug)]
pub struct Segmented {
    pub patient: Prepared,
    /// Section entries then supporting resources, in a stable order.
    pub entries: Vec<Prepared>,
    /// The sources of the shared entries, in first-use order.
    pub sources: Vec<SourceRef>,
    pub plan: SharePlan,
    /// The sections the patient chose.
    pub sections: BTreeSet<Section>,
    /// The seed the document's ids derive from.
    pub(crate) seed: [u8; 32],
}

impl Segmented {
    /// Whether any shared entry is substance-use data (the Part 2 notice then goes with it).
    pub fn includes_substance_use(&self) -> bool {
        self.entries
            .iter()
            .any(|e| e.categories.contains(&Category::SubstanceUse))
    }

    /// The union of the shared entries' sensitive categories.
    pub fn included_categories(&self) -> BTreeSet<Category> {
        self.entries
            .iter()
            .flat_map(|e| e.categories.iter().copied())
            .collect()
    }

    /// A deterministic `urn:uuid:` for a document-level resource.
    pub(crate) fn full_url_for(&self, name: &str) -> String {
        format!("urn:uuid:{}", uuid(&self.seed, name))
    }

    /// The exact list of what will leave, for the patient to check before sharing.
    pub fn preview(&self) -> Vec<PreviewRow> {
        let lookup = |u: &str| {
            self.entries
                .iter()
                .find(|e| e.full_url == u)
                .map(|e| &e.resource)
        };
        std::iter::once(&self.patient)
            .chain(self.entries.iter())
            .map(|p| {
                let row = describe(&p.resource, &lookup);
                PreviewRow {
                    section: p.section,
                    resource_type: p.resource.resource_type().to_string(),
                    row,
                    source: self.sources.get(p.source).map(|s| s.label.clone()),
                    patient_reported: p.patient_reported,
                }
            })
            .collect()
    }
}

/// One line of the preview.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PreviewRow {
    pub section: Option<Section>,
    pub resource_type: String,
    pub row: Row,
    pub source: Option<String>,
    pub patient_reported: bool,
}

/// A UUID (version 4 layout) derived from a per-share random seed and a name, so one share's ids
/// are unpredictable to others but reproducible for tests.
pub(crate) fn uuid(seed: &[u8; 32], name: &str) -> String {
    let mut h = Sha256::new();
    h.update(seed);
    h.update([0u8]);
    h.update(name.as_bytes());
    let d = h.finalize();
    let mut b = [0u8; 16];
    b.copy_from_slice(&d[..16]);
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(36);
    for (i, x) in b.iter().enumerate() {
        if matches!(i, 4 | 6 | 8 | 10) {
            out.push('-');
        }
        out.push(char::from(HEX[usize::from(x >> 4)]));
        out.push(char::from(HEX[usize::from(x & 0x0f)]));
    }
    out
}

/// Segments a record for sharing: decides what is included ([`plan`]) and prepares a copy of
/// each included item for the document. `patient` is the Patient resource to put in the document
/// (every reference to any Patient points to it); `seed` is 32 fresh random bytes per share.
pub fn select(
    items: &[ShareItem<'_>],
    patient: &Resource,
    selection: &Selection,
    seed: &[u8; 32],
) -> Result<Segmented, ShareError> {
    if patient.resource_type() != "Patient" {
        return Err(ShareError::NotAPatient);
    }
    let resolver = resolver_for(items);
    let plan = plan_with(items, selection, &resolver);

    // Included items, sections first (in document order), then supporting ones.
    let mut order: Vec<(usize, Option<Section>)> = Vec::new();
    for s in Section::ALL {
        for (i, d) in plan.decisions.iter().enumerate() {
            if *d == Decision::Included(s) {
                order.push((i, Some(s)));
            }
        }
    }
    for (i, d) in plan.decisions.iter().enumerate() {
        if *d == Decision::Supporting {
            order.push((i, None));
        }
    }

    let patient_id = uuid(seed, "patient");
    let patient_url = format!("urn:uuid:{patient_id}");
    // Each included item's new id, by item index.
    let mut id_of: Vec<Option<String>> = vec![None; items.len()];
    for (i, _) in &order {
        id_of[*i] = Some(uuid(seed, &format!("item:{}", items[*i].key)));
    }
    let url_of = |j: usize| id_of[j].as_ref().map(|id| format!("urn:uuid:{id}"));

    let mut sources: Vec<SourceRef> = Vec::new();
    let mut entries = Vec::new();
    for (i, section) in order {
        let item = &items[i];
        let source = match sources.iter().position(|s| s.id == item.source.id) {
            Some(p) => p,
            None => {
                sources.push(item.source.clone());
                sources.len() - 1
            }
        };
        let resolve = |r: &str| -> Option<String> {
            if is_patient_reference(r) {
                return Some(patient_url.clone());
            }
            let j = resolver.resolve(&item.source.id, r)?;
            if items[j].resource.resource_type() == "Patient" {
                return Some(patient_url.clone());
            }
            url_of(j)
        };
        let patient_reported = item.patient_reported();
        let mut security = item.labels.security_codings();
        if patient_reported {
            security.push(labels::patast());
        }
        let id = id_of[i].as_deref().unwrap_or_default();
        let copy = prepare_copy(item.resource, id, &security, &resolve)?;
        entries.push(Prepared {
            key: item.key.to_string(),
            full_url: format!("urn:uuid:{id}"),
            section,
            resource: copy,
            source,
            patient_reported,
            categories: item.labels.category_set(),
            part2: item.labels.part2,
        });
    }

    // The Patient: references from it (general practitioner, managing organisation) resolve
    // only to shared entries.
    let patient_resolve = |r: &str| -> Option<String> {
        let j = resolver.resolve("", r)?;
        url_of(j)
    };
    let patient_copy =
        without_government_ids(prepare_copy(patient, &patient_id, &[], &patient_resolve)?)?;
    let patient = Prepared {
        key: String::new(),
        full_url: patient_url,
        section: None,
        resource: patient_copy,
        source: usize::MAX,
        patient_reported: false,
        categories: BTreeSet::new(),
        part2: false,
    };
    Ok(Segmented {
        patient,
        entries,
        sources,
        plan,
        sections: selection.sections.clone(),
        seed: *seed,
    })
}

/// Identifier systems of government-issued numbers (US Social Security, passports, driver's
/// licences by state OID). A care summary identifies the patient by name, birth date and the
/// providers' record numbers; these numbers are an identity-theft risk and are never shared.
const GOVERNMENT_ID_SYSTEMS: [&str; 3] = [
    "http://hl7.org/fhir/sid/us-ssn",
    "http://hl7.org/fhir/sid/passport-",
    "urn:oid:2.16.840.1.113883.4.3.",
];
/// The same by identifier type (HL7 v2 table 0203): social security, driver's licence, passport,
/// national insurance, national unique individual identifier, tax id.
const GOVERNMENT_ID_TYPES: [&str; 6] = ["SS", "DL", "PPN", "NI", "NNxxx", "TAX"];

fn is_government_id(identifier: &serde_json::Value) -> bool {
    let system = identifier["system"].as_str().unwrap_or_default();
    let by_system = GOVERNMENT_ID_SYSTEMS
        .iter()
        .any(|g| system == g.trim_end_matches(['.', '-']) || system.starts_with(g));
    let by_type = identifier["type"]["coding"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|c| c["code"].as_str())
        .any(|code| {
            GOVERNMENT_ID_TYPES.contains(&code)
                || (code.len() == 5 && code.starts_with("NN") && code != "NNxxx")
        });
    by_system || by_type
}

/// The shared Patient without government-issued identifiers (see [`GOVERNMENT_ID_SYSTEMS`]).
fn without_government_ids(patient: Resource) -> Result<Resource, ShareError> {
    let mut value = patient.value();
    let Some(ids) = value
        .get_mut("identifier")
        .and_then(serde_json::Value::as_array_mut)
    else {
        return Ok(patient);
    };
    let before = ids.len();
    ids.retain(|i| !is_government_id(i));
    if ids.len() == before {
        return Ok(patient);
    }
    if ids.is_empty() {
        value.as_object_mut().map(|o| o.remove("identifier"));
    }
    Resource::from_value(&value).map_err(|_| ShareError::Internal)
}

fn is_patient_reference(r: &str) -> bool {
    Reference::to(r)
        .type_and_id()
        .is_some_and(|(t, _)| t == "Patient")
}

/// Builds the shared copy of one resource: new id, no narrative, no contained resources, meta
/// rebuilt with only `security`, references rewritten by `resolve` (or removed with their display
/// when it returns `None`), and a generated narrative.
fn prepare_copy(
    resource: &Resource,
    id: &str,
    security: &[phr_fhir::types::Coding],
    resolve: &dyn Fn(&str) -> Option<String>,
) -> Result<Resource, ShareError> {
    let mut node = Node::of_resource(resource).map_err(|_| ShareError::Internal)?;
    node.remove("text");
    node.remove("contained");
    node.remove("meta");
    node.set("id", Node::str(id));
    rewrite_references(&mut node, resolve, true);
    if !security.is_empty() {
        let sec = Node::parse(&serde_json::to_string(security).map_err(|_| ShareError::Internal)?)
            .map_err(|_| ShareError::Internal)?;
        node.set("meta", Node::obj([("security", sec)]));
    }
    node.move_first("meta");
    node.move_first("id");
    node.move_first("resourceType");
    // Narrative generated from the prepared copy itself, so it can only say what the copy says.
    let draft_json = node.to_json();
    let draft = Resource::from_json(draft_json.as_str()).map_err(|_| ShareError::Internal)?;
    let row = describe(&draft, &|_| None);
    let div = crate::narrative::resource_div(&row);
    let text = Node::obj([("status", Node::str("generated")), ("div", Node::str(div))]);
    // The text goes after `meta` (or after the id): the members before it are written again on
    // their own, and the draft's text is cut where they end, instead of writing the whole copy
    // a second time.
    let Node::Object(pairs) = &node else {
        return Err(ShareError::Internal);
    };
    let at = pairs
        .iter()
        .position(|(k, _)| k == "meta")
        .map_or(2, |p| p + 1)
        .min(pairs.len());
    let head = Node::Object(pairs[..at].to_vec()).to_json();
    let cut = head.len() - 1;
    if draft_json.get(..cut) != head.get(..cut) {
        return Err(ShareError::Internal);
    }
    let mut out = String::with_capacity(draft_json.len() + 256);
    out.push_str(&draft_json[..cut]);
    if at > 0 {
        out.push(',');
    }
    out.push_str("\"text\":");
    out.push_str(&text.to_json());
    // The members after the text, and the closing brace.
    out.push_str(&draft_json[cut..]);
    Resource::from_json(out).map_err(|_| ShareError::Internal)
}

/// Keys that Reference objects may carry besides `reference`.
const REFERENCE_KEYS: [&str; 5] = ["display", "type", "identifier", "extension", "id"];

fn looks_like_unresolvable_reference(pairs: &[(String, Node)]) -> bool {
    !pairs.is_empty()
        && pairs
            .iter()
            .any(|(k, _)| k == "display" || k == "identifier")
        && pairs
            .iter()
            .all(|(k, _)| REFERENCE_KEYS.contains(&k.as_str()))
}

/// Rewrites references under `node`; returns `false` when `node` itself is a reference that must
/// be removed.
fn rewrite_references(
    node: &mut Node,
    resolve: &dyn Fn(&str) -> Option<String>,
    top: bool,
) -> bool {
    match node {
        Node::Object(pairs) => {
            if !top {
                if let Some(r) = pairs
                    .iter()
                    .find(|(k, _)| k == "reference")
                    .map(|(_, v)| v.clone())
                {
                    let target = r.as_str().and_then(resolve);
                    return match target {
                        Some(url) => {
                            // Keep only the reference and the display of a shared target.
                            pairs
                                .retain(|(k, _)| k == "reference" || k == "display" || k == "type");
                            if let Some(slot) = pairs.iter_mut().find(|(k, _)| k == "reference") {
                                slot.1 = Node::String(url);
                            }
                            true
                        }
                        None => false,
                    };
                }
                if looks_like_unresolvable_reference(pairs) {
                    return false;
                }
            }
            pairs.retain_mut(|(_, v)| rewrite_references(v, resolve, false));
            // An element left empty by the removal is removed too (FHIR forbids empty objects),
            // and so is an extension that lost its value.
            top || pairs.iter().any(|(k, _)| k != "url" && k != "id")
        }
        Node::Array(items) => {
            items.retain_mut(|v| rewrite_references(v, resolve, false));
            !items.is_empty()
        }
        _ => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uuids_are_v4_layout_and_seeded() {
        let a = uuid(&[1; 32], "x");
        // SHA-256(seed || 0 || name), first 16 bytes, version and variant bits set (Python's
        // hashlib gives the same).
        assert_eq!(a, "e71253a3-a30f-4862-9b44-2ae9945fb632");
        assert_eq!(a.len(), 36);
        assert_eq!(&a[14..15], "4");
        assert!(matches!(&a[19..20], "8" | "9" | "a" | "b"));
        assert_eq!(a, uuid(&[1; 32], "x"));
        assert_ne!(a, uuid(&[2; 32], "x"));
        assert_ne!(a, uuid(&[1; 32], "y"));
    }

    #[test]
    fn a_copy_has_its_members_in_order_with_the_narrative_after_meta() {
        let original = Resource::from_json(
            r#"{"resourceType":"Observation","id":"o1","text":{"status":"generated","div":"<div>old</div>"},
            "meta":{"versionId":"3"},"status":"final","code":{"text":"Glucose"},"valueQuantity":{"value":5.50,"unit":"mmol/L"},
            "subject":{"reference":"Patient/p"}}"#,
        )
        .unwrap();
        let resolve = |r: &str| (r == "Patient/p").then(|| "urn:uuid:p".to_string());
        for security in [vec![], vec![labels::patast()]] {
            let copy = prepare_copy(&original, "new-id", &security, &resolve).unwrap();
            let tree = Node::parse(copy.raw()).unwrap();
            // Written exactly as the tree writes itself (compact, one of each member).
            assert_eq!(tree.to_json(), copy.raw());
            let Node::Object(pairs) = &tree else { panic!() };
            let keys: Vec<&str> = pairs.iter().map(|(k, _)| k.as_str()).collect();
            let mut want = vec!["resourceType", "id"];
            if !security.is_empty() {
                want.push("meta");
            }
            want.extend(["text", "status", "code", "valueQuantity", "subject"]);
            assert_eq!(keys, want);
            assert_eq!(copy.id(), Some("new-id"));
            assert!(
                copy.raw().contains(r#""value":5.50"#),
                "decimals kept as written"
            );
            assert!(copy.raw().contains("Glucose") && !copy.raw().contains("old"));
        }
    }

    #[test]
    fn references_are_rewritten_or_removed_with_display() {
        let mut n = Node::parse(
            r#"{"resourceType":"MedicationRequest","subject":{"reference":"Patient/p","display":"Pat"},
            "reasonReference":[{"reference":"Condition/secret","display":"SECRET"},{"reference":"Condition/ok","display":"Fine"}],
            "requester":{"display":"Dr Nobody"},
            "note":[{"text":"kept"}],
            "extension":[{"url":"x","valueReference":{"reference":"Encounter/e"}}]}"#,
        )
        .unwrap();
        let resolve = |r: &str| match r {
            "Patient/p" => Some("urn:uuid:p".to_string()),
            "Condition/ok" => Some("urn:uuid:ok".to_string()),
            _ => None,
        };
        rewrite_references(&mut n, &resolve, true);
        let t = n.to_json();
        assert!(!t.contains("secret") && !t.contains("SECRET"), "{t}");
        assert!(!t.contains("Dr Nobody"));
        assert!(
            !t.contains("extension"),
            "extension left empty must go: {t}"
        );
        assert!(t.contains(r#""reasonReference":[{"reference":"urn:uuid:ok","display":"Fine"}]"#));
        assert!(t.contains(r#""subject":{"reference":"urn:uuid:p","display":"Pat"}"#));
        assert!(t.contains(r#""note":[{"text":"kept"}]"#));
    }
}

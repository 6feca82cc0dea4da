//! Computing each item's sensitivity labels, with reasons.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use phr_fhir::types::{CodeableConcept, Coding};
use phr_fhir::Resource;
use serde_json::Value;

use crate::resolve::{clinical_references, Resolver};
use crate::valuesets::{match_code, match_text};
use crate::{
    category_for_act_code, is_act_code_system, is_confidentiality_system, labels, Category,
};

/// One item of the record, as the labeller needs it. The app maps its record onto these.
#[derive(Clone, Copy, Debug)]
pub struct LabelSubject<'a> {
    /// The app's stable key for the item (used by overrides and in the output).
    pub key: &'a str,
    pub resource: &'a Resource,
    /// Which source (EHR connection, imported file, the patient) the item came from; references
    /// resolve within a source first.
    pub source_id: &'a str,
    /// The source is a provider marked in the directory as a 42 CFR Part 2 program.
    pub part2_program: bool,
}

/// A patient's correction of an item's labels. Recorded by the app; always wins.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Override {
    pub key: String,
    pub category: Category,
    /// `true`: the patient added this label; `false`: the patient removed it.
    pub add: bool,
}

/// Why an item is in a category.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Reason {
    /// The EHR sent this label (`meta.security` or `DocumentReference.securityLabel`).
    EhrLabel { code: String },
    /// A code of the item is in a value set.
    ValueSet {
        matched: String,
        value_set: &'static str,
    },
    /// The item's text or a code's name contains a keyword of a value set.
    Keyword {
        keyword: String,
        value_set: &'static str,
    },
    /// The item comes from a provider that is a 42 CFR Part 2 program.
    Part2Program,
    /// The item refers to another item in this category.
    RefersTo { reference: String },
    /// The patient added this label.
    PatientAdded,
}

impl std::fmt::Display for Reason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Reason::EhrLabel { code } => write!(f, "EHR label {code}"),
            Reason::ValueSet { matched, value_set } => {
                write!(f, "{matched} in value set {value_set}")
            }
            Reason::Keyword { keyword, value_set } => {
                write!(f, "the name mentions {keyword} (value set {value_set})")
            }
            Reason::Part2Program => f.write_str("provider is a Part 2 program"),
            Reason::RefersTo { reference } => write!(f, "refers to {reference}"),
            Reason::PatientAdded => f.write_str("you added this label"),
        }
    }
}

/// The labels of one item.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ItemLabels {
    /// Each category the item is in, with every reason found.
    pub categories: BTreeMap<Category, Vec<Reason>>,
    /// The sensitivity codes behind each category (`ETH`, `OPIOIDUD`, `STD`...).
    pub act_codes: BTreeMap<Category, BTreeSet<String>>,
    /// The item is 42 CFR Part 2 data (Part 2 provider, or the EHR's `42CFRPart2` label).
    pub part2: bool,
    /// The EHR's confidentiality code, if `R` or `V`.
    pub confidentiality: Option<String>,
    /// Categories the patient removed (kept so the UI can show "you removed this label").
    pub removed_by_patient: BTreeSet<Category>,
}

impl ItemLabels {
    /// Whether the item is in any sensitive category.
    pub fn is_sensitive(&self) -> bool {
        !self.categories.is_empty()
    }

    pub fn has(&self, c: Category) -> bool {
        self.categories.contains_key(&c)
    }

    /// The categories, in display order.
    pub fn category_set(&self) -> BTreeSet<Category> {
        self.categories.keys().copied().collect()
    }

    /// The reasons for one category, as sentences for the patient.
    pub fn reasons(&self, c: Category) -> Vec<String> {
        self.categories
            .get(&c)
            .map(|rs| rs.iter().map(ToString::to_string).collect())
            .unwrap_or_default()
    }

    /// The security labels a shared copy of this item carries: confidentiality `R`, each
    /// category's sensitivity codes, and `42CFRPart2` for Part 2 data. Empty when the item is
    /// not sensitive.
    pub fn security_codings(&self) -> Vec<Coding> {
        let mut out = Vec::new();
        if self.categories.is_empty() {
            return out;
        }
        out.push(labels::restricted());
        let mut codes = BTreeSet::new();
        for c in self.categories.keys() {
            match self.act_codes.get(c).filter(|s| !s.is_empty()) {
                Some(set) => codes.extend(set.iter().cloned()),
                None => codes.extend(c.default_act_code().map(str::to_string)),
            }
        }
        out.extend(codes.iter().map(|c| labels::act_code(c)));
        if self.part2 && self.has(Category::SubstanceUse) {
            out.push(labels::part2());
        }
        out
    }

    fn add(&mut self, c: Category, reason: Reason, act_code: Option<&str>) -> bool {
        let list = self.categories.entry(c).or_default();
        let new = !list.contains(&reason);
        if new {
            list.push(reason);
        }
        if let Some(a) = act_code {
            self.act_codes.entry(c).or_default().insert(a.to_string());
        }
        new
    }
}

/// The labels of every item of a record.
#[derive(Clone, Debug, Default)]
pub struct Labelling {
    items: Vec<(String, ItemLabels)>,
    by_key: HashMap<String, usize>,
}

impl Labelling {
    /// The labels of the item with this key (unlabelled items have empty labels).
    pub fn get(&self, key: &str) -> Option<&ItemLabels> {
        self.by_key.get(key).map(|&i| &self.items[i].1)
    }

    /// `(key, labels)` in input order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &ItemLabels)> {
        self.items.iter().map(|(k, l)| (k.as_str(), l))
    }

    /// How many items are in each category.
    pub fn counts(&self) -> BTreeMap<Category, usize> {
        let mut m = BTreeMap::new();
        for (_, l) in &self.items {
            for c in l.categories.keys() {
                *m.entry(*c).or_insert(0) += 1;
            }
        }
        m
    }
}

/// Labels every item of a record: EHR labels, value sets, Part 2 providers, the patient's
/// overrides, then propagation along references to a fixed point. Overrides win: a category the
/// patient removed from an item is never added back to it by propagation.
pub fn label_record(subjects: &[LabelSubject<'_>], overrides: &[Override]) -> Labelling {
    let mut labels: Vec<ItemLabels> = subjects.iter().map(direct_labels).collect();

    let by_key: HashMap<String, usize> = subjects
        .iter()
        .enumerate()
        .map(|(i, s)| (s.key.to_string(), i))
        .collect();
    for o in overrides {
        let Some(&i) = by_key.get(&o.key) else {
            continue;
        };
        let l = &mut labels[i];
        if o.add {
            l.removed_by_patient.remove(&o.category);
            l.add(
                o.category,
                Reason::PatientAdded,
                o.category.default_act_code(),
            );
        } else {
            l.categories.remove(&o.category);
            l.act_codes.remove(&o.category);
            l.removed_by_patient.insert(o.category);
            if o.category == Category::SubstanceUse {
                l.part2 = false;
            }
        }
    }

    let resources: Vec<&Resource> = subjects.iter().map(|s| s.resource).collect();
    let resolver = Resolver::new(subjects.iter().map(|s| (s.source_id, s.resource)));
    let edges: Vec<Vec<(usize, String)>> = subjects
        .iter()
        .map(|s| clinical_references(&resolver, &resources, s.source_id, s.resource))
        .collect();

    let mut changed = true;
    while changed {
        changed = false;
        for i in 0..labels.len() {
            for (j, reference) in &edges[i] {
                if *j == i {
                    continue;
                }
                let target = labels[*j].clone();
                for (c, _) in &target.categories {
                    if labels[i].removed_by_patient.contains(c) {
                        continue;
                    }
                    if !labels[i].has(*c) {
                        let codes = target.act_codes.get(c).cloned().unwrap_or_default();
                        let l = &mut labels[i];
                        l.add(
                            *c,
                            Reason::RefersTo {
                                reference: reference.clone(),
                            },
                            None,
                        );
                        l.act_codes.entry(*c).or_default().extend(codes);
                        changed = true;
                    }
                    if *c == Category::SubstanceUse && target.part2 && !labels[i].part2 {
                        labels[i].part2 = true;
                        changed = true;
                    }
                }
            }
        }
    }

    let items = subjects
        .iter()
        .zip(labels)
        .map(|(s, l)| (s.key.to_string(), l))
        .collect();
    Labelling { items, by_key }
}

fn direct_labels(s: &LabelSubject<'_>) -> ItemLabels {
    let mut l = ItemLabels::default();
    let v = s.resource.value();
    ehr_labels(&v, &mut l);
    classify_codes(s.resource.resource_type(), &v, &mut l);
    if let Some(Value::Array(contained)) = v.get("contained") {
        for c in contained {
            ehr_labels(c, &mut l);
            if let Some(t) = c.get("resourceType").and_then(Value::as_str) {
                classify_codes(t, c, &mut l);
            }
        }
    }
    if s.part2_program {
        l.add(Category::SubstanceUse, Reason::Part2Program, None);
        l.part2 = true;
    }
    if l.categories.is_empty() {
        if let Some(conf) = l.confidentiality.clone() {
            l.add(
                Category::ProviderRestricted,
                Reason::EhrLabel { code: conf },
                None,
            );
        }
    }
    l
}

fn codings_of(v: &Value) -> Vec<Coding> {
    match v {
        Value::Array(a) => a
            .iter()
            .filter_map(|c| serde_json::from_value(c.clone()).ok())
            .collect(),
        _ => Vec::new(),
    }
}

fn ehr_labels(v: &Value, l: &mut ItemLabels) {
    let mut codings = v
        .get("meta")
        .and_then(|m| m.get("security"))
        .map(codings_of)
        .unwrap_or_default();
    if let Some(Value::Array(sl)) = v.get("securityLabel") {
        for cc in sl {
            if let Some(c) = cc.get("coding") {
                codings.extend(codings_of(c));
            }
        }
    }
    for c in codings {
        let (Some(system), Some(code)) = (c.system.as_deref(), c.code.as_deref()) else {
            continue;
        };
        if is_act_code_system(system) {
            if let Some(cat) = category_for_act_code(code) {
                let act = (code != "42CFRPart2").then_some(code);
                l.add(
                    cat,
                    Reason::EhrLabel {
                        code: code.to_string(),
                    },
                    act,
                );
                if code == "42CFRPart2" {
                    l.part2 = true;
                }
            }
        } else if is_confidentiality_system(system) && matches!(code, "R" | "V") {
            let stronger = l.confidentiality.as_deref() != Some("V");
            if stronger {
                l.confidentiality = Some(code.to_string());
            }
        }
    }
}

/// The elements whose codes say what an item is about, per resource type (dotted paths; arrays
/// along the way are flattened).
fn coded_elements(resource_type: &str) -> &'static [&'static str] {
    match resource_type {
        "Condition" => &["code", "evidence.code"],
        "Observation" => &[
            "code",
            "valueCodeableConcept",
            "component.code",
            "component.valueCodeableConcept",
        ],
        "MedicationRequest"
        | "MedicationStatement"
        | "MedicationAdministration"
        | "MedicationDispense" => &["medicationCodeableConcept", "reasonCode"],
        "Medication" => &["code", "ingredient.itemCodeableConcept"],
        "Encounter" => &["type", "reasonCode", "serviceType"],
        "Procedure" | "ServiceRequest" => &["code", "reasonCode"],
        "DocumentReference" => &["type"],
        "DiagnosticReport" => &["code", "conclusionCode"],
        "Immunization" => &["vaccineCode"],
        "CarePlan" => &[
            "category",
            "activity.detail.code",
            "activity.detail.reasonCode",
        ],
        "Goal" => &["description"],
        "Composition" => &["type", "section.code"],
        _ => &["code"],
    }
}

fn collect_at<'v>(v: &'v Value, path: &[&str], out: &mut Vec<&'v Value>) {
    match v {
        Value::Array(items) => items.iter().for_each(|i| collect_at(i, path, out)),
        _ => match path.split_first() {
            None => out.push(v),
            Some((head, rest)) => {
                if let Some(child) = v.get(*head) {
                    collect_at(child, rest, out);
                }
            }
        },
    }
}

fn classify_codes(resource_type: &str, v: &Value, l: &mut ItemLabels) {
    for path in coded_elements(resource_type) {
        let segs: Vec<&str> = path.split('.').collect();
        let mut found = Vec::new();
        collect_at(v, &segs, &mut found);
        for node in found {
            let Ok(cc) = serde_json::from_value::<CodeableConcept>(node.clone()) else {
                continue;
            };
            classify_concept(&cc, l);
        }
    }
}

fn classify_concept(cc: &CodeableConcept, l: &mut ItemLabels) {
    let mut texts: Vec<&str> = Vec::new();
    for c in &cc.coding {
        if let (Some(system), Some(code)) = (c.system.as_deref(), c.code.as_deref()) {
            for m in match_code(system, code) {
                l.add(
                    m.category,
                    Reason::ValueSet {
                        matched: m.matched,
                        value_set: m.value_set,
                    },
                    Some(m.act_code),
                );
            }
        }
        if let Some(d) = c.display.as_deref() {
            texts.push(d);
        }
    }
    if let Some(t) = cc.text.as_deref() {
        texts.push(t);
    }
    for t in texts {
        for m in match_text(t) {
            l.add(
                m.category,
                Reason::Keyword {
                    keyword: m.matched,
                    value_set: m.value_set,
                },
                Some(m.act_code),
            );
        }
    }
}

//! The record, as the sharing crates need it: every item with its source and sensitivity labels,
//! the patient, and what the patient changed about labels.
//!
//! Labels are computed (`phr_consent::label_record`), never stored: the record keeps only the
//! patient's changes (`Record::change_label`), which become `phr_consent::Override`s here.

use std::collections::{BTreeSet, HashMap};

use phr_consent::{label_record, Category, ItemLabels, LabelSubject, Labelling, Override};
use phr_fhir::types::systems;
use phr_fhir::Resource;
use phr_record::{LabelAction, Record, SecurityLabel};
use phr_share::shl::PatientIdentity;
use phr_share::{Section, ShareItem, SourceKind, SourceRef};

use crate::record_util::{key_string, source_label};

/// The security label the record stores for a patient's change to a category: the category's
/// v3-ActCode sensitivity code, or confidentiality `R` for "restricted by your provider".
pub fn label_for(category: Category) -> SecurityLabel {
    match category.default_act_code() {
        Some(code) => SecurityLabel {
            system: systems::ACT_CODE.into(),
            code: code.into(),
        },
        None => SecurityLabel {
            system: systems::CONFIDENTIALITY.into(),
            code: "R".into(),
        },
    }
}

/// The category a stored label stands for (the reverse of [`label_for`]).
pub fn category_of(label: &SecurityLabel) -> Option<Category> {
    if phr_consent::is_act_code_system(&label.system) {
        phr_consent::category_for_act_code(&label.code)
    } else if phr_consent::is_confidentiality_system(&label.system)
        && matches!(label.code.as_str(), "R" | "V")
    {
        Some(Category::ProviderRestricted)
    } else {
        None
    }
}

/// The patient's label changes as overrides for the labeller (the last change per item and label
/// wins).
pub fn overrides(record: &Record) -> Vec<Override> {
    let mut seen = BTreeSet::new();
    let mut out = Vec::new();
    for change in record.label_changes() {
        let key = key_string(&change.item);
        if !seen.insert(key.clone()) {
            continue;
        }
        let net = record.label_overrides(&change.item);
        for (labels, add) in [(&net.added, true), (&net.removed, false)] {
            for label in labels {
                if let Some(category) = category_of(label) {
                    out.push(Override {
                        key: key.clone(),
                        category,
                        add,
                    });
                }
            }
        }
    }
    out
}

/// Records that the patient added or removed a category on these items (every copy of one fact).
pub fn change_label(
    record: &mut Record,
    keys: &[String],
    category: Category,
    add: bool,
    at: &str,
) -> Result<(), phr_record::RecordError> {
    let action = if add {
        LabelAction::Add
    } else {
        LabelAction::Remove
    };
    for key in keys {
        if let Some(entry_key) = crate::record_util::parse_key(key) {
            record.change_label(&entry_key, label_for(category), action, at)?;
        }
    }
    Ok(())
}

/// Every item of the record with its labels, the sources, and the patient: computed once per
/// change of the record and owned (no borrow of the record is kept).
pub struct Catalog {
    /// Item keys, in the record's entry order.
    pub keys: Vec<String>,
    /// The IPS section of each item (`None`: supporting resources and everything else).
    pub sections: Vec<Option<Section>>,
    item_source: Vec<usize>,
    pub sources: Vec<SourceRef>,
    pub labels: Labelling,
    /// The Patient resource the document is about.
    pub patient: Resource,
    /// What a link label must not reveal.
    pub identity: PatientIdentity,
    /// Copies of a fact that another source also has: left out of a share by default (the copy
    /// kept is the least sensitive one, then the one the record shows).
    pub duplicates: BTreeSet<String>,
    /// Items the patient hid from their views: left out of a share by default.
    pub hidden: BTreeSet<String>,
    by_key: HashMap<String, usize>,
}

impl Catalog {
    /// Labels the whole record (EHR labels, value sets, Part 2 providers, the patient's changes,
    /// propagation) and prepares the sources.
    pub fn build(record: &Record, index: Option<&phr_views::Index>) -> Catalog {
        let mut sources: Vec<SourceRef> = Vec::new();
        let mut source_at: HashMap<String, usize> = HashMap::new();
        let mut keys = Vec::new();
        let mut item_source = Vec::new();
        let mut sections = Vec::new();
        let mut hidden = BTreeSet::new();
        let entries: Vec<_> = record.entries().collect();
        for (source, resource_key, entry) in &entries {
            sections.push(phr_share::section_for(entry.resource()));
            let at = *source_at
                .entry(source.as_str().to_string())
                .or_insert_with(|| {
                    let kind = if source.is_patient() {
                        SourceKind::Patient
                    } else if source.is_ehr() {
                        SourceKind::Ehr
                    } else {
                        SourceKind::File
                    };
                    sources.push(SourceRef {
                        id: source.as_str().to_string(),
                        label: source_label(record, source),
                        kind,
                        part2_program: record.source(source).is_some_and(|s| s.is_part2()),
                    });
                    sources.len() - 1
                });
            let entry_key = phr_record::EntryKey::new((*source).clone(), (*resource_key).clone());
            let key = key_string(&entry_key);
            if record.is_hidden(&entry_key) {
                hidden.insert(key.clone());
            }
            keys.push(key);
            item_source.push(at);
        }
        let subjects: Vec<LabelSubject<'_>> = entries
            .iter()
            .zip(&keys)
            .zip(&item_source)
            .map(|(((_, _, entry), key), s)| LabelSubject {
                key,
                resource: entry.resource(),
                source_id: &sources[*s].id,
                part2_program: sources[*s].part2_program,
            })
            .collect();
        let labels = label_record(&subjects, &overrides(record));
        drop(subjects);

        let (patient, identity) = patient_of(record);
        let by_key = keys
            .iter()
            .enumerate()
            .map(|(i, k)| (k.clone(), i))
            .collect();
        let mut catalog = Catalog {
            keys,
            sections,
            item_source,
            sources,
            labels,
            patient,
            identity,
            duplicates: BTreeSet::new(),
            hidden,
            by_key,
        };
        if let Some(index) = index {
            catalog.duplicates = catalog.find_duplicates(index);
        }
        catalog
    }

    fn find_duplicates(&self, index: &phr_views::Index) -> BTreeSet<String> {
        let mut out = BTreeSet::new();
        for item in index.items() {
            let group = index.group_of(item.id());
            let members = index.group_members(group);
            if members.len() < 2 || members[0] != item.id().0 {
                continue;
            }
            let rep = index.group_rep(group).0;
            let keep = members
                .iter()
                .copied()
                .min_by_key(|m| {
                    let key = index.item(phr_views::ItemId(*m)).key();
                    let sensitive = self.labels.get(key).map_or(0, |l| l.categories.len());
                    (sensitive, *m != rep)
                })
                .unwrap_or(rep);
            for m in members.iter().copied().filter(|m| *m != keep) {
                out.insert(index.item(phr_views::ItemId(m)).key().to_string());
            }
        }
        out
    }

    /// The position of an item in [`Catalog::keys`].
    pub fn position(&self, key: &str) -> Option<usize> {
        self.by_key.get(key).copied()
    }

    /// The labels of one item (empty for an unknown key).
    pub fn labels_of(&self, key: &str) -> ItemLabels {
        self.labels.get(key).cloned().unwrap_or_default()
    }

    /// The source of an item.
    pub fn source_of(&self, key: &str) -> Option<&SourceRef> {
        self.by_key
            .get(key)
            .map(|&i| &self.sources[self.item_source[i]])
    }

    /// Runs `f` over the record's items as the share crate takes them. The record must be the one
    /// this catalog was built from (same revision).
    pub fn with_items<T>(&self, record: &Record, f: impl FnOnce(&[ShareItem<'_>]) -> T) -> T {
        let empty = ItemLabels::default();
        let items: Vec<ShareItem<'_>> = record
            .entries()
            .zip(&self.keys)
            .zip(&self.item_source)
            .map(|(((_, _, entry), key), s)| ShareItem {
                key,
                resource: entry.resource(),
                source: &self.sources[*s],
                labels: self.labels.get(key).unwrap_or(&empty),
                provenance: None,
            })
            .collect();
        f(&items)
    }
}

/// The Patient the document is about (the first from a provider, else from a file, else the one
/// the patient entered, else a Patient with no details), and what identifies them.
fn patient_of(record: &Record) -> (Resource, PatientIdentity) {
    let mut chosen: Option<(u8, Resource)> = None;
    let mut identity = PatientIdentity::default();
    for (source, key, entry) in record.entries() {
        if key.resource_type() != "Patient" {
            continue;
        }
        let rank = if source.is_ehr() {
            0
        } else if source.is_file() {
            1
        } else {
            2
        };
        if chosen.as_ref().is_none_or(|(r, _)| rank < *r) {
            chosen = Some((rank, entry.resource().clone()));
        }
        if let Ok(p) = entry.resource().view::<phr_fhir::views::Patient>() {
            for n in &p.name {
                identity.names.extend(n.given.iter().cloned());
                identity.names.extend(n.family.iter().cloned());
                identity.names.extend(n.text.iter().cloned());
            }
            if identity.birth_date.is_none() {
                identity.birth_date = p.birth_date.clone();
            }
            identity
                .identifiers
                .extend(p.identifier.iter().filter_map(|i| i.value.clone()));
        }
    }
    let patient = chosen.map(|(_, r)| r).unwrap_or_else(|| {
        Resource::from_json(r#"{"resourceType":"Patient","id":"patient"}"#)
            .expect("a minimal Patient is valid FHIR")
    });
    identity.names.sort();
    identity.names.dedup();
    (patient, identity)
}

#[cfg(test)]
mod tests {
    use super::*;
    use wasm_bindgen_test::wasm_bindgen_test;

    #[wasm_bindgen_test]
    fn labels_round_trip_through_the_record_form() {
        for c in Category::ALL {
            assert_eq!(category_of(&label_for(c)), Some(c), "{c:?}");
        }
        assert_eq!(
            category_of(&SecurityLabel {
                system: "http://example.org".into(),
                code: "ETH".into()
            }),
            None
        );
    }
}

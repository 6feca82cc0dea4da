//! Medication checks across providers, by exact code match only.
//!
//! Two findings, both worded as a question for the patient's clinician, never as advice:
//!
//! * **Same drug from two sources**: two active medications (MedicationRequest or
//!   MedicationStatement, active or on hold, not hidden, not gone at the source) from different
//!   sources share an RxNorm code, or, when Medication ingredient data is present, an ingredient
//!   code (ingredient vs ingredient, or ingredient vs the other's own code).
//! * **Allergy and medication share a code**: an active allergy's code (or a reaction substance
//!   code) is exactly the code of an active medication or one of its ingredients.
//!
//! No drug classes, no cross-reactivity, no interactions: this crate invents no medical
//! knowledge. A same fact reported by two sources (one group, see [`crate::group`]) is one
//! medication and is not flagged against itself.

use std::collections::BTreeSet;

use crate::codes;
use crate::index::{Activity, Category, Extra, GroupId, Index, ItemId};
use crate::input::SourceKind;

/// What was found.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum FindingKind {
    /// Same RxNorm code active from two sources.
    SameDrug,
    /// A shared ingredient code, active from two sources.
    SameIngredient,
    /// An active allergy's code equals an active medication's code or ingredient code.
    AllergyMatch,
}

/// A finding to show the patient.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MedFinding {
    pub kind: FindingKind,
    /// A sentence ending in a suggestion to ask the clinician.
    pub message: String,
    /// The entry keys involved.
    pub keys: Vec<String>,
    /// The matching code, `system|code`.
    pub code: String,
}

struct MedGroup {
    title: String,
    sources: BTreeSet<u16>,
    source_text: String,
    keys: Vec<String>,
    /// (system, code) of the drug itself.
    own: BTreeSet<(String, String)>,
    /// (system, code, display) of ingredients.
    ingredients: Vec<(String, String, String)>,
}

fn source_phrase(index: &Index, ids: &BTreeSet<u16>) -> String {
    let names: Vec<String> = ids
        .iter()
        .filter_map(|&s| index.source(crate::SourceId(s)))
        .map(|s| match s.kind {
            SourceKind::Patient => "your own entries".to_string(),
            _ => s.label.clone(),
        })
        .collect();
    join_and(&names)
}

fn join_and(names: &[String]) -> String {
    match names {
        [] => String::new(),
        [a] => a.clone(),
        [a, b] => format!("{a} and {b}"),
        [rest @ .., last] => format!("{}, and {last}", rest.join(", ")),
    }
}

fn collect_group(index: &Index, g: GroupId, rep: ItemId) -> MedGroup {
    let mut sources = BTreeSet::new();
    let mut keys = Vec::new();
    let mut own = BTreeSet::new();
    let mut ingredients = Vec::new();
    for m in index.shown_members(g, false) {
        let it = index.item(m);
        sources.insert(it.source_id().0);
        keys.push(it.key().to_string());
        for c in it.codes() {
            own.insert((c.system.to_string(), c.code.to_string()));
        }
        if let Some(Extra::Med {
            ingredients: ing, ..
        }) = index.extra(m)
        {
            for c in ing {
                let r = index.code_ref(c);
                let t = (
                    r.system.to_string(),
                    r.code.to_string(),
                    r.display.to_string(),
                );
                if !ingredients.contains(&t) {
                    ingredients.push(t);
                }
            }
        }
    }
    MedGroup {
        title: index.item(rep).title().to_string(),
        source_text: source_phrase(index, &sources),
        sources,
        keys,
        own,
        ingredients,
    }
}

/// Runs both checks over the active medications and allergies.
pub fn medication_checks(index: &Index) -> Vec<MedFinding> {
    let current = |it: &crate::ItemRef<'_>| !it.gone_at_source() && !it.entered_in_error();
    let meds: Vec<MedGroup> = index
        .shown_groups(false, |it| {
            matches!(
                it.resource_type(),
                "MedicationRequest" | "MedicationStatement"
            ) && matches!(it.activity(), Activity::Active | Activity::Paused)
                && current(it)
        })
        .map(|(g, rep)| collect_group(index, g, rep))
        .collect();
    let mut out = Vec::new();
    for (i, a) in meds.iter().enumerate() {
        for b in &meds[i + 1..] {
            let different_sources = a.sources.iter().any(|s| !b.sources.contains(s))
                || b.sources.iter().any(|s| !a.sources.contains(s));
            if !different_sources {
                continue;
            }
            let mut keys = a.keys.clone();
            keys.extend(b.keys.iter().cloned());
            let shared_rx = a
                .own
                .iter()
                .find(|c| c.0 == codes::RXNORM && b.own.contains(*c));
            if let Some((sys, code)) = shared_rx {
                let all: BTreeSet<u16> = a.sources.union(&b.sources).copied().collect();
                let message = if a.title.eq_ignore_ascii_case(&b.title) {
                    format!(
                        "{} appears as active from {}. Ask your clinician whether you should be \
                         taking both.",
                        a.title,
                        source_phrase(index, &all)
                    )
                } else {
                    format!(
                        "{} (from {}) and {} (from {}) have the same drug code and both appear as \
                         active. Ask your clinician whether you should be taking both.",
                        a.title, a.source_text, b.title, b.source_text
                    )
                };
                out.push(MedFinding {
                    kind: FindingKind::SameDrug,
                    message,
                    keys,
                    code: format!("{sys}|{code}"),
                });
                continue;
            }
            let shared_ing = a
                .ingredients
                .iter()
                .find(|(s, c, _)| {
                    b.ingredients.iter().any(|(s2, c2, _)| s == s2 && c == c2)
                        || b.own.contains(&(s.clone(), c.clone()))
                })
                .cloned()
                .or_else(|| {
                    b.ingredients
                        .iter()
                        .find(|(s, c, _)| a.own.contains(&(s.clone(), c.clone())))
                        .cloned()
                });
            if let Some((sys, code, display)) = shared_ing {
                let name = if display.is_empty() {
                    format!("the ingredient coded {code}")
                } else {
                    display.to_lowercase()
                };
                out.push(MedFinding {
                    kind: FindingKind::SameIngredient,
                    message: format!(
                        "{} (from {}) and {} (from {}) both contain {}, according to their \
                         recorded codes, and both appear as active. Ask your clinician whether \
                         you should be taking both.",
                        a.title, a.source_text, b.title, b.source_text, name
                    ),
                    keys,
                    code: format!("{sys}|{code}"),
                });
            }
        }
    }
    // Allergies.
    for (g, rep) in index.shown_groups(false, |it| {
        it.category() == Category::Allergy && it.activity() == Activity::Active && current(it)
    }) {
        let mut codes_set: BTreeSet<(String, String)> = BTreeSet::new();
        let mut sources = BTreeSet::new();
        let mut keys = Vec::new();
        for m in index.shown_members(g, false) {
            let it = index.item(m);
            sources.insert(it.source_id().0);
            keys.push(it.key().to_string());
            for c in it.codes() {
                codes_set.insert((c.system.to_string(), c.code.to_string()));
            }
            if let Some(Extra::Allergy { substances, .. }) = index.extra(m) {
                for c in substances {
                    let r = index.code_ref(c);
                    codes_set.insert((r.system.to_string(), r.code.to_string()));
                }
            }
        }
        let allergy = index.item(rep).title().to_string();
        let allergy_src = source_phrase(index, &sources);
        for med in &meds {
            let hit = med
                .own
                .iter()
                .find(|c| codes_set.contains(*c))
                .cloned()
                .or_else(|| {
                    med.ingredients
                        .iter()
                        .map(|(s, c, _)| (s.clone(), c.clone()))
                        .find(|c| codes_set.contains(c))
                });
            if let Some((sys, code)) = hit {
                let mut k = keys.clone();
                k.extend(med.keys.iter().cloned());
                out.push(MedFinding {
                    kind: FindingKind::AllergyMatch,
                    message: format!(
                        "Your record lists an allergy to {allergy} (from {allergy_src}), and {} \
                         appears as an active medication (from {}) with the same code. Ask your \
                         clinician before taking it.",
                        med.title, med.source_text
                    ),
                    keys: k,
                    code: format!("{sys}|{code}"),
                });
            }
        }
    }
    out
}

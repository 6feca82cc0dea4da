//! The value sets, shipped as data files (`data/*.json`), compiled in with `include_str!` and
//! parsed once. Each file is one category's value set and states its source and version.

use std::collections::HashMap;
use std::sync::OnceLock;

use serde::Deserialize;

use crate::Category;

const FILES: [(&str, &str); 7] = [
    (
        "substance-use.json",
        include_str!("../data/substance-use.json"),
    ),
    (
        "mental-health.json",
        include_str!("../data/mental-health.json"),
    ),
    (
        "psychotherapy-notes.json",
        include_str!("../data/psychotherapy-notes.json"),
    ),
    ("hiv-sti.json", include_str!("../data/hiv-sti.json")),
    (
        "sexual-reproductive.json",
        include_str!("../data/sexual-reproductive.json"),
    ),
    ("genetic.json", include_str!("../data/genetic.json")),
    (
        "violence-abuse.json",
        include_str!("../data/violence-abuse.json"),
    ),
];

/// One category's value set, as read from its data file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ValueSet {
    /// Stable identifier (the file name without `.json`).
    pub id: String,
    /// Human-readable title, used in reasons ("in value set Substance use v1").
    pub title: String,
    /// Version of this data file; bump it whenever codes change.
    pub version: String,
    /// The category (see [`Category::id`]).
    #[serde(deserialize_with = "category")]
    pub category: Category,
    /// Default v3-ActCode sensitivity code for matches.
    pub act_code: String,
    /// Where the codes come from.
    pub source: String,
    /// Code lists by system.
    pub include: Vec<Include>,
    /// Whole-word, case-insensitive phrases matched against code displays and texts
    /// (catches medication names under any RxNorm product code, and patient-entered text).
    #[serde(default)]
    pub keywords: Vec<String>,
}

/// Codes of one system, optionally with their own sensitivity code.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Include {
    pub system: String,
    /// Overrides [`ValueSet::act_code`] for these codes (e.g. `STD` inside the HIV/STI set).
    #[serde(default)]
    pub act_code: Option<String>,
    /// Exact codes, `[code, display]`.
    #[serde(default)]
    pub codes: Vec<(String, String)>,
    /// Code prefixes (ICD-10-CM categories), `[prefix, display]`. `F11` matches `F11.20`.
    #[serde(default)]
    pub prefixes: Vec<(String, String)>,
}

fn category<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Category, D::Error> {
    let s = String::deserialize(d)?;
    Category::from_id(&s).ok_or_else(|| serde::de::Error::custom(format!("unknown category {s}")))
}

/// How a code matched a value set.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ValueSetMatch {
    pub category: Category,
    /// The sensitivity code this match stands for (`ETH`, `STD`...).
    pub act_code: &'static str,
    /// `Substance use v1`.
    pub value_set: &'static str,
    /// What matched, for the patient: `SNOMED 6525002`, `ICD-10-CM F11.20`, `"buprenorphine"`.
    pub matched: String,
}

struct Index {
    sets: Vec<ValueSet>,
    names: Vec<String>,
    /// (system, code) -> (set, include)
    exact: HashMap<(String, String), Vec<(usize, usize)>>,
    /// system -> (prefix, set, include)
    prefixes: HashMap<String, Vec<(String, usize, usize)>>,
    /// (lowercase keyword, set)
    keywords: Vec<(String, usize)>,
}

fn index() -> &'static Index {
    static INDEX: OnceLock<Index> = OnceLock::new();
    INDEX.get_or_init(|| {
        let mut sets = Vec::new();
        for (name, text) in FILES {
            // The files are part of the source tree and checked by a test; a broken file is a
            // build defect, so fall back to skipping it rather than panicking in the browser.
            match serde_json::from_str::<ValueSet>(text) {
                Ok(vs) => sets.push(vs),
                Err(e) => debug_assert!(false, "value set {name} does not parse: {e}"),
            }
        }
        let mut exact: HashMap<(String, String), Vec<(usize, usize)>> = HashMap::new();
        let mut prefixes: HashMap<String, Vec<(String, usize, usize)>> = HashMap::new();
        let mut keywords = Vec::new();
        for (si, vs) in sets.iter().enumerate() {
            for (ii, inc) in vs.include.iter().enumerate() {
                for (code, _) in &inc.codes {
                    exact
                        .entry((inc.system.clone(), normalize_code(&inc.system, code)))
                        .or_default()
                        .push((si, ii));
                }
                for (p, _) in &inc.prefixes {
                    prefixes.entry(inc.system.clone()).or_default().push((
                        normalize_code(&inc.system, p),
                        si,
                        ii,
                    ));
                }
            }
            for k in &vs.keywords {
                keywords.push((k.to_lowercase(), si));
            }
        }
        let names = sets
            .iter()
            .map(|s| format!("{} v{}", s.title, s.version))
            .collect();
        Index {
            sets,
            names,
            exact,
            prefixes,
            keywords,
        }
    })
}

/// All value sets shipped with the app (for an "about the sensitivity rules" screen).
pub fn value_sets() -> &'static [ValueSet] {
    &index().sets
}

fn normalize_code(system: &str, code: &str) -> String {
    let c = code.trim();
    if system == phr_fhir::types::systems::ICD10CM {
        c.to_ascii_uppercase()
    } else {
        c.to_string()
    }
}

fn system_name(system: &str) -> &str {
    use phr_fhir::types::systems::*;
    match system {
        SNOMED => "SNOMED",
        LOINC => "LOINC",
        RXNORM => "RxNorm",
        ICD10CM => "ICD-10-CM",
        CVX => "CVX",
        other => other,
    }
}

fn make_match(si: usize, ii: usize, matched: String) -> ValueSetMatch {
    let idx = index();
    let vs = &idx.sets[si];
    let inc = &vs.include[ii];
    ValueSetMatch {
        category: vs.category,
        act_code: inc.act_code.as_deref().unwrap_or(&vs.act_code),
        value_set: &idx.names[si],
        matched,
    }
}

/// Matches one coding against every value set.
pub(crate) fn match_code(system: &str, code: &str) -> Vec<ValueSetMatch> {
    let idx = index();
    let code = normalize_code(system, code);
    let mut out = Vec::new();
    if let Some(hits) = idx.exact.get(&(system.to_string(), code.clone())) {
        for &(si, ii) in hits {
            out.push(make_match(
                si,
                ii,
                format!("{} {}", system_name(system), code),
            ));
        }
    }
    if let Some(list) = idx.prefixes.get(system) {
        for (p, si, ii) in list {
            if prefix_matches(&code, p) {
                out.push(make_match(
                    *si,
                    *ii,
                    format!("{} {}", system_name(system), code),
                ));
            }
        }
    }
    out
}

/// ICD-10-CM categories and subcategories: `F11` matches `F11`, `F11.20` and the dot-less
/// `F1120` some EHRs send.
fn prefix_matches(code: &str, prefix: &str) -> bool {
    code.starts_with(prefix) || code.replace('.', "").starts_with(&prefix.replace('.', ""))
}

/// Matches free text (a code's display or a concept's text) against the keyword lists.
pub(crate) fn match_text(text: &str) -> Vec<ValueSetMatch> {
    let idx = index();
    let lower = text.to_lowercase();
    let mut out = Vec::new();
    for (k, si) in &idx.keywords {
        if contains_word(&lower, k) {
            let vs = &idx.sets[*si];
            out.push(ValueSetMatch {
                category: vs.category,
                act_code: &vs.act_code,
                value_set: &idx.names[*si],
                matched: format!("\"{k}\""),
            });
        }
    }
    out
}

/// Whole-word (or whole-phrase) containment on already-lowercased text.
fn contains_word(haystack: &str, needle: &str) -> bool {
    if needle.is_empty() {
        return false;
    }
    let mut start = 0;
    while let Some(pos) = haystack[start..].find(needle) {
        let at = start + pos;
        let end = at + needle.len();
        let before_ok = haystack[..at]
            .chars()
            .next_back()
            .is_none_or(|c| !c.is_alphanumeric());
        let after_ok = haystack[end..]
            .chars()
            .next()
            .is_none_or(|c| !c.is_alphanumeric());
        if before_ok && after_ok {
            return true;
        }
        start = at + haystack[at..].chars().next().map_or(1, char::len_utf8);
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;
    use phr_fhir::types::systems::*;

    #[test]
    fn every_data_file_parses_and_names_its_source() {
        assert_eq!(value_sets().len(), FILES.len());
        for vs in value_sets() {
            assert!(!vs.source.is_empty(), "{} has no source", vs.id);
            assert!(!vs.version.is_empty());
            assert_eq!(vs.category.id(), vs.id, "file id and category differ");
        }
        for c in crate::Category::ALL {
            if c != Category::ProviderRestricted {
                assert!(
                    value_sets().iter().any(|v| v.category == c),
                    "{c} has no value set"
                );
            }
        }
    }

    #[test]
    fn exact_prefix_and_keyword_matching() {
        let m = match_code(SNOMED, "6525002");
        assert_eq!(m.len(), 1);
        assert_eq!(m[0].category, Category::SubstanceUse);
        assert_eq!(m[0].value_set, "Substance use v3");
        assert_eq!(m[0].matched, "SNOMED 6525002");
        assert_eq!(
            match_code(ICD10CM, "f11.20")[0].category,
            Category::SubstanceUse
        );
        assert!(
            match_code(ICD10CM, "F17.210").is_empty(),
            "tobacco is not SUD"
        );
        assert_eq!(match_code(ICD10CM, "A54.9")[0].act_code, "STD");
        assert_eq!(match_code(ICD10CM, "B20")[0].act_code, "HIV");
        assert!(match_code(LOINC, "8867-4").is_empty());
        assert!(match_code("http://other", "6525002").is_empty());
        let k = match_text("Buprenorphine 8 MG / Naloxone 2 MG Sublingual Tablet");
        assert!(k.iter().all(|m| m.category == Category::SubstanceUse));
        assert!(k.iter().any(|m| m.matched == "\"buprenorphine\""));
        assert!(match_text("Hearing aids").is_empty());
        assert!(match_text("Lithiumx").is_empty(), "whole words only");
        assert_eq!(
            match_text("Screening for HIV")[0].category,
            Category::HivSti
        );
    }

    #[test]
    fn word_boundaries() {
        assert!(contains_word("take suboxone daily", "suboxone"));
        assert!(!contains_word("nonrape", "rape"));
        assert!(contains_word("rape.", "rape"));
        assert!(contains_word("é hiv", "hiv"));
    }
}

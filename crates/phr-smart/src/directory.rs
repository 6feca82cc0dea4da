//! The provider directory: the providers a patient can connect to.
//!
//! Entries come from three places, all validated the same way:
//!
//! 1. the deployer's directory file ([`parse_directory`]),
//! 2. a SMART User-access Brands Bundle ([`providers_from_brands`]), typically converted offline,
//! 3. a provider the patient adds by hand ([`patient_added_provider`]).
//!
//! # Directory file (JSON)
//!
//! ```json
//! {
//!   "providers": [
//!     {
//!       "id": "good-health",
//!       "name": "Good Health Clinic",
//!       "fhir_base": "https://fhir.goodhealth.example.org/r4",
//!       "client_id": "3f2a9c1e-phr",
//!       "logo": "https://goodhealth.example.org/logo.svg",
//!       "part2_program": false,
//!       "scopes": ["launch/patient", "openid", "fhirUser", "patient/*.read"],
//!       "observation_by_category": false
//!     }
//!   ]
//! }
//! ```
//!
//! | field | required | meaning |
//! |---|---|---|
//! | `id` | yes | Stable id, unique in the file: 1–128 of `A-Z a-z 0-9 - _ . :`. Connections refer to it, so do not change it once published. |
//! | `name` | yes | Shown to patients (1–200 characters). |
//! | `fhir_base` | yes | The FHIR R4 base URL. `https://` (plain `http://` only for `localhost`, `127.0.0.1` or `[::1]`, for the demo). No `?query` or `#fragment`; a trailing `/` is removed. |
//! | `client_id` | yes | The OAuth client id this deployment registered at that provider (redirect URI registered for this site's origin). |
//! | `logo` | no | `https://…` image URL, or a `data:image/…` URI (as in Brands bundles). |
//! | `part2_program` | no | `true` if the provider is a 42 CFR Part 2 program (substance use disorder treatment): everything imported from it is labelled as Part 2 data. Default `false`. |
//! | `scopes` | no | The complete scope list to request, replacing the automatic choice (v2 `patient/*.rs` or v1 `patient/*.read`). Must include `launch/patient`. |
//! | `observation_by_category` | no | `true` for servers that refuse an Observation search without a category (e.g. Epic): one query per US Core category. Default `false`. |
//!
//! Top-level keys and entry keys starting with `_` or `$` are ignored (use them for comments or
//! `$schema`). Any other unknown key is an error, so a typo like `"client-id"` is caught instead
//! of silently ignored. Every error names the entry (its position and id) and the field.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use thiserror::Error;

use crate::authorize::ClientRegistration;
use crate::import::{ImportOptions, ObservationQueries};
use crate::scopes::ScopeOptions;
use crate::urls::{check_secure, FhirBase};

/// Where a provider entry came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum EntrySource {
    /// The deployer's directory file.
    Directory,
    /// A User-access Brands Bundle.
    Brands,
    /// Added by the patient.
    PatientAdded,
}

/// One provider the patient can connect to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProviderEntry {
    /// Stable id.
    pub id: String,
    /// Display name.
    pub name: String,
    /// FHIR base.
    pub fhir_base: FhirBase,
    /// OAuth client id registered for this app.
    pub client_id: String,
    /// Logo URL (`https:` or `data:image/`).
    pub logo: Option<String>,
    /// A 42 CFR Part 2 program.
    pub part2_program: bool,
    /// Complete scope list override.
    pub scopes: Option<Vec<String>>,
    /// Search Observations per category.
    pub observation_by_category: bool,
    /// Where the entry came from.
    pub source: EntrySource,
}

impl ProviderEntry {
    /// The registration to sign in with, given this site's redirect URI.
    pub fn client_registration(&self, redirect_uri: &str) -> ClientRegistration {
        ClientRegistration {
            provider_id: self.id.clone(),
            provider_name: self.name.clone(),
            client_id: self.client_id.clone(),
            redirect_uri: redirect_uri.to_string(),
        }
    }

    /// Scope choices for this provider (its `scopes` override, if any).
    pub fn scope_options(&self) -> ScopeOptions {
        ScopeOptions {
            override_scopes: self.scopes.clone(),
            ..ScopeOptions::default()
        }
    }

    /// The entry as it is written in a directory file (`providers.json`): the fields of the
    /// table above, optional ones only when set. [`parse_directory`] reads it back unchanged.
    pub fn to_directory_json(&self) -> Value {
        let mut m = Map::new();
        m.insert("id".into(), Value::String(self.id.clone()));
        m.insert("name".into(), Value::String(self.name.clone()));
        m.insert(
            "fhir_base".into(),
            Value::String(self.fhir_base.as_str().to_string()),
        );
        m.insert("client_id".into(), Value::String(self.client_id.clone()));
        if let Some(logo) = &self.logo {
            m.insert("logo".into(), Value::String(logo.clone()));
        }
        if self.part2_program {
            m.insert("part2_program".into(), Value::Bool(true));
        }
        if let Some(scopes) = &self.scopes {
            m.insert(
                "scopes".into(),
                Value::Array(scopes.iter().cloned().map(Value::String).collect()),
            );
        }
        if self.observation_by_category {
            m.insert("observation_by_category".into(), Value::Bool(true));
        }
        Value::Object(m)
    }

    /// Import options for this provider (per-category Observation queries when flagged).
    pub fn import_options(&self) -> ImportOptions {
        ImportOptions {
            observation_queries: if self.observation_by_category {
                ObservationQueries::us_core_categories()
            } else {
                ObservationQueries::Single
            },
            ..ImportOptions::default()
        }
    }
}

/// The parsed directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProviderDirectory {
    /// Entries in file order.
    pub providers: Vec<ProviderEntry>,
}

impl ProviderDirectory {
    /// The entry with this id.
    pub fn get(&self, id: &str) -> Option<&ProviderEntry> {
        self.providers.iter().find(|p| p.id == id)
    }
}

/// Which entry a directory error is about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EntryRef {
    /// 1-based position in `providers`.
    pub position: usize,
    /// Its `id`, if it had a readable one.
    pub id: Option<String>,
}

impl std::fmt::Display for EntryRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.id {
            Some(id) => write!(f, "provider #{} (\"{id}\")", self.position),
            None => write!(f, "provider #{}", self.position),
        }
    }
}

/// Problems in a directory file or a patient-added provider. Messages name the entry and field.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum DirectoryError {
    /// Not JSON at all.
    #[error("The provider directory is not valid JSON ({0}).")]
    NotJson(String),
    /// The top level is wrong.
    #[error("The provider directory must be a JSON object with a \"providers\" list ({0}).")]
    Shape(String),
    /// A field of one entry is wrong.
    #[error("In the provider directory, {entry}: \"{field}\" {problem}.")]
    Field {
        /// Which entry.
        entry: EntryRef,
        /// Which field.
        field: String,
        /// What is wrong.
        problem: String,
    },
    /// Two entries share an id.
    #[error("In the provider directory, {entry} uses the id \"{id}\", which provider #{first} already uses. Ids must be unique.")]
    DuplicateId {
        /// The second entry.
        entry: EntryRef,
        /// The id.
        id: String,
        /// Position of the first entry with it.
        first: usize,
    },
    /// A patient-added provider is not usable.
    #[error("{0}")]
    PatientInput(String),
}

const KNOWN_FIELDS: &[&str] = &[
    "id",
    "name",
    "fhir_base",
    "client_id",
    "logo",
    "part2_program",
    "scopes",
    "observation_by_category",
];

fn is_comment_key(k: &str) -> bool {
    k.starts_with('_') || k.starts_with('$')
}

fn valid_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 128
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | ':'))
}

/// Checks a logo value: an https (or localhost http) URL or a `data:image/` URI.
pub(crate) fn valid_logo(logo: &str) -> bool {
    logo.starts_with("data:image/") || check_secure(logo).is_ok()
}

/// Parses and validates the deployer's directory file.
pub fn parse_directory(json: &str) -> Result<ProviderDirectory, DirectoryError> {
    let root: Value =
        serde_json::from_str(json).map_err(|e| DirectoryError::NotJson(e.to_string()))?;
    let Value::Object(root) = root else {
        return Err(DirectoryError::Shape(
            "the top level is not an object".into(),
        ));
    };
    for key in root.keys() {
        if key != "providers" && !is_comment_key(key) {
            return Err(DirectoryError::Shape(format!("unknown key \"{key}\"")));
        }
    }
    let Some(Value::Array(items)) = root.get("providers") else {
        return Err(DirectoryError::Shape(
            "\"providers\" is missing or not a list".into(),
        ));
    };
    let mut providers = Vec::with_capacity(items.len());
    let mut ids: BTreeMap<String, usize> = BTreeMap::new();
    for (index, item) in items.iter().enumerate() {
        let position = index + 1;
        let entry = parse_entry(item, position)?;
        if let Some(first) = ids.get(&entry.id) {
            return Err(DirectoryError::DuplicateId {
                entry: EntryRef {
                    position,
                    id: Some(entry.id.clone()),
                },
                id: entry.id,
                first: *first,
            });
        }
        ids.insert(entry.id.clone(), position);
        providers.push(entry);
    }
    Ok(ProviderDirectory { providers })
}

fn parse_entry(item: &Value, position: usize) -> Result<ProviderEntry, DirectoryError> {
    let id_hint = item.get("id").and_then(Value::as_str).map(str::to_string);
    let entry_ref = || EntryRef {
        position,
        id: id_hint.clone(),
    };
    let err = |field: &str, problem: &str| DirectoryError::Field {
        entry: entry_ref(),
        field: field.to_string(),
        problem: problem.to_string(),
    };
    let Value::Object(map) = item else {
        return Err(err("(entry)", "must be an object"));
    };
    for key in map.keys() {
        if !KNOWN_FIELDS.contains(&key.as_str()) && !is_comment_key(key) {
            return Err(err(
                key,
                "is not a known field (expected one of: id, name, fhir_base, client_id, logo, part2_program, scopes, observation_by_category)",
            ));
        }
    }
    let required = |field: &str| -> Result<String, DirectoryError> {
        match map.get(field) {
            None => Err(err(field, "is missing")),
            Some(Value::String(s)) if s.trim().is_empty() => Err(err(field, "is empty")),
            Some(Value::String(s)) => Ok(s.trim().to_string()),
            Some(_) => Err(err(field, "must be a string")),
        }
    };
    let id = required("id")?;
    if !valid_id(&id) {
        return Err(err(
            "id",
            "may only use letters, digits and - _ . : (at most 128)",
        ));
    }
    let name = required("name")?;
    if name.chars().count() > 200 {
        return Err(err("name", "is longer than 200 characters"));
    }
    let fhir_base = FhirBase::parse(&required("fhir_base")?)
        .map_err(|e| err("fhir_base", &format!("is not usable: {e}")))?;
    let client_id = required("client_id")?;
    let logo = match map.get("logo") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) if valid_logo(s.trim()) => Some(s.trim().to_string()),
        Some(Value::String(_)) => {
            return Err(err(
                "logo",
                "must be an https:// address or a data:image/ URI",
            ))
        }
        Some(_) => return Err(err("logo", "must be a string")),
    };
    let flag = |field: &str| -> Result<bool, DirectoryError> {
        match map.get(field) {
            None | Some(Value::Null) => Ok(false),
            Some(Value::Bool(b)) => Ok(*b),
            Some(_) => Err(err(field, "must be true or false")),
        }
    };
    let part2_program = flag("part2_program")?;
    let observation_by_category = flag("observation_by_category")?;
    let scopes = parse_scopes(map, &err)?;
    Ok(ProviderEntry {
        id,
        name,
        fhir_base,
        client_id,
        logo,
        part2_program,
        scopes,
        observation_by_category,
        source: EntrySource::Directory,
    })
}

fn parse_scopes(
    map: &Map<String, Value>,
    err: &dyn Fn(&str, &str) -> DirectoryError,
) -> Result<Option<Vec<String>>, DirectoryError> {
    let list = match map.get("scopes") {
        None | Some(Value::Null) => return Ok(None),
        Some(Value::Array(items)) => items,
        Some(_) => return Err(err("scopes", "must be a list of strings")),
    };
    let mut scopes = Vec::with_capacity(list.len());
    let mut unique = BTreeSet::new();
    for s in list {
        let Some(s) = s.as_str() else {
            return Err(err("scopes", "must be a list of strings"));
        };
        if s.is_empty() || s.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(err(
                "scopes",
                &format!(
                    "contains \"{s}\", which is empty or has spaces (list each scope separately)"
                ),
            ));
        }
        if unique.insert(s.to_string()) {
            scopes.push(s.to_string());
        }
    }
    if !scopes.iter().any(|s| s == "launch/patient") {
        return Err(err(
            "scopes",
            "must include \"launch/patient\" (so the provider tells the app which patient record was shared)",
        ));
    }
    if !scopes
        .iter()
        .any(|s| s.starts_with("patient/") || s.starts_with("user/"))
    {
        return Err(err(
            "scopes",
            "must include at least one patient/… resource scope (e.g. \"patient/*.rs\")",
        ));
    }
    Ok(Some(scopes))
}

/// Validates a provider the patient typed in: an https FHIR base (or `http://localhost` for the
/// demo) and a non-empty client id. The name defaults to the base's host.
pub fn patient_added_provider(
    name: &str,
    fhir_base: &str,
    client_id: &str,
) -> Result<ProviderEntry, DirectoryError> {
    let base = FhirBase::parse(fhir_base).map_err(|e| {
        DirectoryError::PatientInput(format!("The FHIR address cannot be used: {e}"))
    })?;
    let client_id = client_id.trim();
    if client_id.is_empty() {
        return Err(DirectoryError::PatientInput(
            "Enter the client id this app is registered with at that provider (ask whoever runs this app).".into(),
        ));
    }
    if client_id.chars().any(|c| c.is_control()) || client_id.len() > 256 {
        return Err(DirectoryError::PatientInput(
            "The client id contains characters that are not allowed.".into(),
        ));
    }
    let name = name.trim();
    let name = if name.is_empty() {
        base.origin().to_string()
    } else {
        crate::http::truncate(name, 200)
    };
    Ok(ProviderEntry {
        id: format!("added:{}", base.as_str()),
        name,
        fhir_base: base,
        client_id: client_id.to_string(),
        logo: None,
        part2_program: false,
        scopes: None,
        observation_by_category: false,
        source: EntrySource::PatientAdded,
    })
}

pub use crate::brands::{providers_from_brands, BrandSkip, BrandsError, BrandsImport};

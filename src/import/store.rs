//! What the import keeps inside the vault (encrypted with the record, as app documents):
//!
//! * `connections`: one [`StoredConnection`] per provider (the SMART `Connection`, which holds the
//!   refresh token when the provider issued one, never an access token);
//! * `import-resume`: the resume state of an import that did not finish, per provider (it names
//!   the patient and server URLs, so it lives here, never in browser storage);
//! * `added-providers`: providers the patient added by hand.
//!
//! A document that exists but cannot be read is an error, never silently replaced.

use std::collections::BTreeMap;

use phr_record::app::docs;
use phr_record::Record;
use phr_smart::import::ImportState;
use phr_smart::{Connection, ProviderEntry};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

/// App document with the providers the patient added.
pub const ADDED_PROVIDERS: &str = "added-providers";

/// A connection to one provider, as kept in the vault.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct StoredConnection {
    pub connection: Connection,
    /// Whether the server supports `_lastUpdated` for every type the import searches (`None`:
    /// not checked yet). Only then are updates incremental.
    #[serde(default)]
    pub incremental: Option<bool>,
}

fn read_doc<T: DeserializeOwned + Default>(record: &Record, name: &str) -> Result<T, String> {
    match record.app_doc(name) {
        None => Ok(T::default()),
        Some(raw) => serde_json::from_str(raw.get()).map_err(|e| {
            format!(
                "Saved import details in your vault could not be read ({e}). They were left as they are; \
                 reconnecting to your providers sets them up again without touching your records."
            )
        }),
    }
}

fn write_doc<T: Serialize>(record: &mut Record, name: &str, doc: &T) -> Result<(), String> {
    record.set_app_doc(name, doc).map_err(|e| e.to_string())
}

pub fn connections(record: &Record) -> Result<BTreeMap<String, StoredConnection>, String> {
    read_doc(record, docs::CONNECTIONS)
}

pub fn connection(record: &Record, provider_id: &str) -> Result<Option<StoredConnection>, String> {
    Ok(connections(record)?.remove(provider_id))
}

pub fn put_connection(record: &mut Record, stored: &StoredConnection) -> Result<(), String> {
    let mut all = connections(record)?;
    all.insert(stored.connection.provider_id.clone(), stored.clone());
    write_doc(record, docs::CONNECTIONS, &all)
}

pub fn remove_connection(record: &mut Record, provider_id: &str) -> Result<(), String> {
    let mut all = connections(record)?;
    all.remove(provider_id);
    write_doc(record, docs::CONNECTIONS, &all)
}

/// Resume states by provider id, as the SMART crate's JSON.
fn resume_docs(record: &Record) -> Result<BTreeMap<String, String>, String> {
    read_doc(record, docs::IMPORT_RESUME)
}

/// The resume state of an unfinished import from this provider. An unreadable one is reported
/// as `Err` (the caller starts over: nothing already imported is lost or duplicated).
pub fn resume_state(record: &Record, provider_id: &str) -> Result<Option<ImportState>, String> {
    match resume_docs(record)?.get(provider_id) {
        None => Ok(None),
        Some(json) => ImportState::from_json(json)
            .map(Some)
            .map_err(|e| e.to_string()),
    }
}

pub fn has_resume_state(record: &Record, provider_id: &str) -> bool {
    resume_docs(record).is_ok_and(|d| d.contains_key(provider_id))
}

pub fn put_resume_state(
    record: &mut Record,
    provider_id: &str,
    state: &ImportState,
) -> Result<(), String> {
    let mut all = resume_docs(record)?;
    all.insert(provider_id.to_string(), state.to_json());
    write_doc(record, docs::IMPORT_RESUME, &all)
}

pub fn remove_resume_state(record: &mut Record, provider_id: &str) -> Result<(), String> {
    let mut all = resume_docs(record)?;
    if all.remove(provider_id).is_some() {
        if all.is_empty() {
            record
                .remove_app_doc(docs::IMPORT_RESUME)
                .map_err(|e| e.to_string())?;
            return Ok(());
        }
        write_doc(record, docs::IMPORT_RESUME, &all)?;
    }
    Ok(())
}

pub fn added_providers(record: &Record) -> Result<Vec<ProviderEntry>, String> {
    read_doc(record, ADDED_PROVIDERS)
}

pub fn put_added_provider(record: &mut Record, entry: ProviderEntry) -> Result<(), String> {
    let mut all = added_providers(record)?;
    all.retain(|p| p.id != entry.id);
    all.push(entry);
    write_doc(record, ADDED_PROVIDERS, &all)
}

pub fn remove_added_provider(record: &mut Record, provider_id: &str) -> Result<(), String> {
    let mut all = added_providers(record)?;
    all.retain(|p| p.id != provider_id);
    write_doc(record, ADDED_PROVIDERS, &all)
}

//! App data kept inside the record so that it is encrypted with it. The app defines what these
//! mean; the record only stores them, each in its own segment so that changing one rewrites only
//! that segment.

use serde::{Deserialize, Serialize};

/// Names of well-known opaque documents (see [`crate::Record::set_app_doc`]).
pub mod docs {
    /// SMART connections (opaque JSON from the SMART crate: tokens, endpoints, scopes).
    pub const CONNECTIONS: &str = "connections";
    /// Import resume state (opaque JSON from the SMART import session).
    pub const IMPORT_RESUME: &str = "import-resume";
}

/// Whether `name` can name an app document: 1 to 32 of `a-z 0-9 -`, starting with a letter.
pub fn is_app_doc_name(name: &str) -> bool {
    (1..=32).contains(&name.len())
        && name.starts_with(|c: char| c.is_ascii_lowercase())
        && name
            .bytes()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == b'-')
}

/// The patient's settings. Unknown fields written by a newer app version are kept.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Settings {
    /// Lock the record after this many idle minutes.
    #[serde(default = "default_idle_lock_minutes")]
    pub idle_lock_minutes: u32,
    /// Who to call in an emergency (shown on the printable summary if the patient chooses).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub emergency_contact: Option<EmergencyContact>,
    /// Settings this version does not know, kept as they were.
    #[serde(flatten)]
    pub other: serde_json::Map<String, serde_json::Value>,
}

/// The default idle lock: 5 minutes.
pub const DEFAULT_IDLE_LOCK_MINUTES: u32 = 5;

fn default_idle_lock_minutes() -> u32 {
    DEFAULT_IDLE_LOCK_MINUTES
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            idle_lock_minutes: DEFAULT_IDLE_LOCK_MINUTES,
            emergency_contact: None,
            other: serde_json::Map::new(),
        }
    }
}

/// An emergency contact.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct EmergencyContact {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub relationship: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
}

/// One entry of the share log: what was shared, when. `detail` is defined by the share code
/// (kind of share, sections, expiry, revocation...).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ShareLogEntry {
    pub id: String,
    pub created_at: String,
    #[serde(default)]
    pub detail: serde_json::Value,
}

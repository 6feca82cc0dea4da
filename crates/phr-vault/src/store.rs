//! Storage: key layout, write plans, a synchronous [`Store`] trait, and [`MemoryStore`], a fake
//! with fault injection.
//!
//! The browser's store (IndexedDB) is asynchronous and this crate is synchronous, so the crate
//! never drives storage itself for writes. It produces a [`WritePlan`]: a precondition
//! ([`Expect`]) and an ordered list of puts and deletes. The shell executes a plan in one
//! IndexedDB `readwrite` transaction: first it checks the precondition (with
//! [`Expect::check`] on the values it read inside the transaction), then it applies the
//! operations in order. [`execute`] does the same for any synchronous [`Store`].
//!
//! The order of the operations is crash-safe even without a transaction: new blobs go under
//! new keys first, then the manifest (the single switch-over point), then the header (if it
//! changes), and only then the deletes of blobs nothing references any more.
//!
//! # Keys
//!
//! ```text
//! vault/<vault id>/header             the header bytes
//! vault/<vault id>/manifest           the manifest blob
//! vault/<vault id>/seg/<name>/<seq>   a segment blob (seq in decimal)
//! ```

use std::collections::BTreeMap;

use sha2::{Digest, Sha256};

use crate::error::{StoreError, VaultError};
use crate::ids::VaultId;
use crate::segment::peek_seq;

/// Prefix of every key of one vault.
pub fn vault_prefix(vault_id: &VaultId) -> String {
    format!("vault/{vault_id}/")
}

/// The key of a vault's header.
pub fn header_key(vault_id: &VaultId) -> String {
    format!("vault/{vault_id}/header")
}

/// The key of a vault's manifest.
pub fn manifest_key(vault_id: &VaultId) -> String {
    format!("vault/{vault_id}/manifest")
}

/// The key of one segment blob.
pub fn segment_key(vault_id: &VaultId, name: &str, seq: u64) -> String {
    format!("vault/{vault_id}/seg/{name}/{seq}")
}

/// Parses a segment key of `vault_id` into (name, seq).
pub(crate) fn parse_segment_key<'a>(vault_id: &VaultId, key: &'a str) -> Option<(&'a str, u64)> {
    let rest = key
        .strip_prefix(&vault_prefix(vault_id))?
        .strip_prefix("seg/")?;
    let (name, seq) = rest.rsplit_once('/')?;
    Some((name, seq.parse().ok()?))
}

/// The ids of every vault that has a header among `keys` (the shell lists its keys, this picks
/// out the vaults).
pub fn vault_ids<'a>(keys: impl IntoIterator<Item = &'a str>) -> Vec<VaultId> {
    let mut ids: Vec<VaultId> = keys
        .into_iter()
        .filter_map(|k| {
            let id = k.strip_prefix("vault/")?.strip_suffix("/header")?;
            id.parse().ok()
        })
        .collect();
    ids.sort();
    ids.dedup();
    ids
}

/// What must hold in storage before a plan may write anything.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Expect {
    /// Nothing of this vault exists: neither header nor manifest (creating a vault, or restoring
    /// a backup into a browser that does not have it).
    NoVault,
    /// The stored manifest is at exactly this generation (saving, or restoring over a vault the
    /// patient chose to replace).
    Generation(u64),
    /// The stored header is exactly the bytes with this SHA-256 (changing the passphrase, the
    /// recovery key or the name).
    Header([u8; 32]),
}

impl Expect {
    /// Checks the precondition against what storage holds for the vault right now.
    /// `header` and `manifest` are the stored values (or `None` when absent).
    ///
    /// # Errors
    /// [`VaultError::VaultExists`] when [`Expect::NoVault`] finds a vault, and
    /// [`VaultError::Conflict`] when the generation or header changed.
    pub fn check(&self, header: Option<&[u8]>, manifest: Option<&[u8]>) -> Result<(), VaultError> {
        match self {
            Expect::NoVault => {
                if header.is_some() || manifest.is_some() {
                    return Err(VaultError::VaultExists);
                }
            }
            Expect::Generation(expected) => {
                let found = manifest.map(|m| peek_seq(m).unwrap_or(0)).unwrap_or(0);
                if found != *expected {
                    return Err(VaultError::Conflict);
                }
            }
            Expect::Header(sum) => {
                if header.map(|h| <[u8; 32]>::from(Sha256::digest(h))) != Some(*sum) {
                    return Err(VaultError::Conflict);
                }
            }
        }
        Ok(())
    }
}

/// One storage operation.
#[derive(Clone, PartialEq, Eq)]
pub enum Op {
    /// Store `value` under `key`, replacing any previous value.
    Put {
        /// The key.
        key: String,
        /// The bytes.
        value: Vec<u8>,
    },
    /// Remove `key` (no error if absent).
    Delete {
        /// The key.
        key: String,
    },
}

impl core::fmt::Debug for Op {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Op::Put { key, value } => write!(f, "Put({key}, {} bytes)", value.len()),
            Op::Delete { key } => write!(f, "Delete({key})"),
        }
    }
}

/// A precondition plus operations to apply in order. Produced by the vault; executed by the
/// shell (one IndexedDB transaction) or by [`execute`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WritePlan {
    /// The vault the plan writes to.
    pub vault_id: VaultId,
    /// Checked before the first operation.
    pub expect: Expect,
    /// Applied in this order.
    pub ops: Vec<Op>,
}

impl WritePlan {
    /// Total bytes the plan puts (for a quota pre-check with `navigator.storage.estimate()`).
    pub fn bytes_written(&self) -> u64 {
        self.ops
            .iter()
            .map(|op| match op {
                Op::Put { value, .. } => value.len() as u64,
                Op::Delete { .. } => 0,
            })
            .sum()
    }
}

/// A synchronous key-value store of byte strings.
pub trait Store {
    /// The value under `key`, if any.
    ///
    /// # Errors
    /// When the store cannot be read.
    fn get(&self, key: &str) -> Result<Option<Vec<u8>>, StoreError>;
    /// Stores `value` under `key`.
    ///
    /// # Errors
    /// Quota or availability errors.
    fn put(&mut self, key: &str, value: &[u8]) -> Result<(), StoreError>;
    /// Removes `key` if present.
    ///
    /// # Errors
    /// Availability errors.
    fn delete(&mut self, key: &str) -> Result<(), StoreError>;
    /// Every key that starts with `prefix`, sorted.
    ///
    /// # Errors
    /// When the store cannot be read.
    fn keys_with_prefix(&self, prefix: &str) -> Result<Vec<String>, StoreError>;
}

/// Checks a plan's precondition against `store` and applies its operations in order, stopping at
/// the first error. Nothing is written when the precondition fails.
///
/// A non-transactional store must not run two executions at once (the browser shell uses one
/// IndexedDB transaction per plan, which serialises them).
///
/// # Errors
/// [`VaultError::VaultExists`], [`VaultError::Conflict`], or the store's error converted
/// ([`VaultError::QuotaExceeded`], [`VaultError::StorageUnavailable`]).
pub fn execute(store: &mut impl Store, plan: &WritePlan) -> Result<(), VaultError> {
    let header = store.get(&header_key(&plan.vault_id))?;
    let manifest = store.get(&manifest_key(&plan.vault_id))?;
    plan.expect.check(header.as_deref(), manifest.as_deref())?;
    for op in &plan.ops {
        match op {
            Op::Put { key, value } => store.put(key, value)?,
            Op::Delete { key } => store.delete(key)?,
        }
    }
    Ok(())
}

/// An in-memory [`Store`] for tests, with fault injection. Not transactional: operations before
/// an injected failure stay applied, exactly like a browser tab that crashes mid-write.
#[derive(Debug, Clone, Default)]
pub struct MemoryStore {
    data: BTreeMap<String, Vec<u8>>,
    quota: Option<u64>,
    fail_at: Option<(usize, StoreError)>,
    fail_reads: bool,
    mutations: usize,
}

impl MemoryStore {
    /// An empty store with no quota and no faults.
    pub fn new() -> Self {
        Self::default()
    }

    /// Limits the total size of all stored values; a put that would exceed it fails with
    /// [`StoreError::QuotaExceeded`] carrying the missing byte count.
    pub fn set_quota(&mut self, bytes: Option<u64>) {
        self.quota = bytes;
    }

    /// Makes the mutation (put or delete) with index `step` — counted from now, starting at 0 —
    /// fail with `error` without being applied. One-shot: later operations succeed again, as
    /// after a reload.
    pub fn fail_at(&mut self, step: usize, error: StoreError) {
        self.fail_at = Some((self.mutations + step, error));
    }

    /// Makes every read fail (a store that cannot be opened).
    pub fn set_fail_reads(&mut self, fail: bool) {
        self.fail_reads = fail;
    }

    /// The stored contents.
    pub fn contents(&self) -> &BTreeMap<String, Vec<u8>> {
        &self.data
    }

    /// Mutable access, to damage stored bytes in tests.
    pub fn contents_mut(&mut self) -> &mut BTreeMap<String, Vec<u8>> {
        &mut self.data
    }

    /// Total bytes stored.
    pub fn used_bytes(&self) -> u64 {
        self.data.values().map(|v| v.len() as u64).sum()
    }

    fn mutation(&mut self) -> Result<(), StoreError> {
        let index = self.mutations;
        self.mutations += 1;
        match &self.fail_at {
            Some((at, _)) if *at == index => {
                let (_, e) = self.fail_at.take().expect("checked");
                Err(e)
            }
            _ => Ok(()),
        }
    }
}

impl Store for MemoryStore {
    fn get(&self, key: &str) -> Result<Option<Vec<u8>>, StoreError> {
        if self.fail_reads {
            return Err(StoreError::Unavailable("reads are failing".into()));
        }
        Ok(self.data.get(key).cloned())
    }

    fn put(&mut self, key: &str, value: &[u8]) -> Result<(), StoreError> {
        self.mutation()?;
        if let Some(quota) = self.quota {
            let old = self.data.get(key).map_or(0, |v| v.len() as u64);
            let after = self.used_bytes() - old + value.len() as u64;
            if after > quota {
                return Err(StoreError::QuotaExceeded {
                    bytes_needed: Some(after - quota),
                });
            }
        }
        self.data.insert(key.to_owned(), value.to_vec());
        Ok(())
    }

    fn delete(&mut self, key: &str) -> Result<(), StoreError> {
        self.mutation()?;
        self.data.remove(key);
        Ok(())
    }

    fn keys_with_prefix(&self, prefix: &str) -> Result<Vec<String>, StoreError> {
        if self.fail_reads {
            return Err(StoreError::Unavailable("reads are failing".into()));
        }
        Ok(self
            .data
            .range(prefix.to_owned()..)
            .take_while(|(k, _)| k.starts_with(prefix))
            .map(|(k, _)| k.clone())
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_round_trip() {
        let id = VaultId::from_bytes([1; 16]);
        let k = segment_key(&id, "fhir-3", 42);
        assert_eq!(k, format!("vault/{id}/seg/fhir-3/42"));
        assert_eq!(parse_segment_key(&id, &k), Some(("fhir-3", 42)));
        assert_eq!(parse_segment_key(&id, &header_key(&id)), None);
        assert_eq!(
            parse_segment_key(&VaultId::from_bytes([2; 16]), &k),
            None,
            "another vault's key"
        );
        let keys = [
            header_key(&id),
            manifest_key(&id),
            k,
            "vault/nope/header".into(),
            "prefs".into(),
        ];
        assert_eq!(vault_ids(keys.iter().map(String::as_str)), vec![id]);
    }

    #[test]
    fn memory_store_faults() {
        let mut s = MemoryStore::new();
        s.put("a", b"1").unwrap();
        s.fail_at(1, StoreError::Unavailable("boom".into()));
        s.put("b", b"2").unwrap();
        assert!(s.put("c", b"3").is_err());
        s.put("d", b"4").unwrap();
        assert_eq!(
            s.keys_with_prefix("").unwrap(),
            vec!["a".to_owned(), "b".into(), "d".into()]
        );
        s.set_quota(Some(5));
        assert_eq!(
            s.put("e", b"123"),
            Err(StoreError::QuotaExceeded {
                bytes_needed: Some(1)
            })
        );
        s.put("a", b"12").unwrap();
        s.set_fail_reads(true);
        assert!(s.get("a").is_err());
    }
}

//! # phr-vault: the patient's encrypted record, at rest
//!
//! The record lives only in the patient's browser, encrypted under keys only they hold. This
//! crate is the pure core of that vault: the key hierarchy, the byte formats, the save and load
//! algorithm over an abstract store, and backup files. It does no I/O and reads no clock or
//! randomness: time is passed in as RFC 3339 text and random bytes come from an [`Entropy`].
//! The byte-level specification is `docs/vault-format.md`.
//!
//! ```text
//! passphrase ──Argon2id(header salt, m, t, p)──► KEK_pw ──┐
//!                                                          ├─ AES-256-GCM wrap ─► vault key (VK)
//! recovery key ──HKDF-SHA256(slot salt)────────► KEK_rk ──┘
//! VK ──AES-256-GCM──► segment blobs, the manifest blob, and the header MAC
//! ```
//!
//! ## The key design decision: the crate plans, the shell executes
//!
//! IndexedDB is asynchronous and WebCrypto is asynchronous; this crate is synchronous and pure.
//! So every write is a [`WritePlan`]: a precondition ([`Expect`]: "no vault yet", "still at
//! generation N", "header unchanged") plus puts and deletes in a crash-safe order (new blobs
//! under new keys, then the manifest as the single switch-over point, then deletes). The shell
//! runs a plan in one IndexedDB transaction; [`execute`] runs it on any synchronous [`Store`],
//! such as the fault-injecting [`MemoryStore`] the tests use to prove that a failure at any step
//! leaves either the complete old or the complete new generation. Nothing stored is ever replaced
//! by an empty vault: the only path that writes a new vault expects [`Expect::NoVault`].
//!
//! Likewise the bulk AES-GCM can run in WebCrypto: [`SealParts`] and [`parse_blob`] expose the
//! exact prefix, nonce and AAD, so `crypto.subtle.encrypt` produces byte-identical blobs to
//! [`seal_segment`], the reference implementation (see the [`segment`] module).
//!
//! ## How the shell uses it
//!
//! * **List vaults**: [`vault_ids`] over the store's keys, then [`Header::parse`] each header
//!   (cheap, no KDF) for the name and creation date.
//! * **Unlock**: send [`Header::kdf_params`] and [`Header::kdf_salt`] with the passphrase to the
//!   KDF worker, which calls [`derive_kek`]; then [`Header::unlock_with_passphrase_kek`], and
//!   [`Vault::open`] with the manifest blob. A recovery key needs no worker:
//!   [`RecoveryKey::parse`] then [`Header::unlock`]. Then [`Vault::read_segment`] per segment
//!   (each may fail alone), and [`Vault::check_rollback`] with the last generation this browser saw.
//! * **Save**: [`Vault::plan_save`] (or [`Vault::seal_parts`] + WebCrypto +
//!   [`Vault::plan_save_sealed`]), execute `plan.write`, then [`Vault::commit`]. A
//!   [`VaultError::Conflict`] means another tab saved first.
//! * **Passphrase, recovery key, name**: [`Vault::change_passphrase`],
//!   [`Vault::replace_recovery_key`], [`Vault::rename`]; execute, then [`Vault::commit_header`].
//! * **Backup**: [`Vault::export_backup`]; **restore**: [`Backup::parse`], [`Backup::unlock`],
//!   [`stored_generation`] to ask the patient, [`UnlockedBackup::plan_restore`].

mod backup;
mod encoding;
mod entropy;
mod error;
mod header;
mod ids;
mod kdf;
mod keys;
mod manifest;
mod passphrase;
mod recovery;
pub mod segment;
mod store;
mod text;
mod vault;

pub use backup::{
    Backup, RestoreTarget, UnlockedBackup, BACKUP_EXTENSION, BACKUP_MAGIC, BACKUP_VERSION,
};
pub use entropy::Entropy;
pub use error::{StoreError, VaultError};
pub use header::{
    slot_aad, Header, Secret, SlotKind, FORMAT_VERSION, HEADER_FMT, HEADER_MAC_DOMAIN,
    SLOT_AAD_DOMAIN,
};
pub use ids::{VaultId, MANIFEST_NAME, MAX_SEGMENT_NAME_LEN};
pub use kdf::{
    derive_kek, random_salt, KdfParams, MAX_M_KIB, MAX_P, MAX_T, MAX_WORK_KIB, MIN_M_KIB, MIN_T,
    SALT_LEN,
};
pub use keys::{Kek, VaultKey, KEY_LEN, NONCE_LEN, TAG_LEN};
pub use manifest::{blob_tag, BlobCheck, Manifest, SegmentEntry};
pub use passphrase::{assess_passphrase, assess_passphrase_with, Assessment, ACCEPTABLE_BITS};
pub use recovery::{RecoveryKey, RECOVERY_INFO, RECOVERY_SECRET_LEN};
pub use segment::{open_segment, parse_blob, peek_seq, seal_segment, ParsedBlob, SealParts};
pub use store::{
    execute, header_key, manifest_key, segment_key, vault_ids, vault_prefix, Expect, MemoryStore,
    Op, Store, WritePlan,
};
pub use text::MAX_NAME_CHARS;
pub use vault::{
    check_rollback, create_vault, create_vault_with_kek, stored_generation, CreateOptions, Created,
    DescribedSegment, HeaderChange, SavePlan, Vault,
};

//! The vault's one error type.
//!
//! Every variant is something the patient can act on, so every message says what happened and
//! what to do. Variants carry only non-secret context (segment names, generations, byte counts):
//! an error message is safe to show and to log.

use thiserror::Error;

/// Everything that can go wrong when creating, unlocking, reading, saving or restoring a vault.
///
/// No variant is ever produced *after* something stored was overwritten: plans are checked before
/// they are written, and the write order keeps the previous generation readable.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum VaultError {
    /// The passphrase or the recovery key does not open this vault. One variant for both, and no
    /// hint about which part failed, so the error is no oracle.
    #[error(
        "That passphrase or recovery key does not open this vault. Check it (capital letters \
         matter in a passphrase) and try again."
    )]
    WrongSecret,

    /// The recovery key as typed cannot be a recovery key at all: the check symbols do not match,
    /// a character is not in the alphabet, or it has the wrong length. Nothing was tried against
    /// the vault.
    #[error(
        "The recovery key has a typo ({detail}). Compare each group with your printed copy; \
         the letters I, L and O may be typed as 1, 1 and 0."
    )]
    RecoveryKeyTypo {
        /// What is wrong, without repeating the key.
        detail: &'static str,
    },

    /// The stored vault header cannot be read (not the expected JSON, a checksum mismatch or a
    /// non-canonical encoding). This is damage to the stored bytes, not a wrong passphrase.
    #[error(
        "The vault's header is damaged ({reason}), so it cannot be opened. Your data has not been \
         changed. Restore the vault from a backup file."
    )]
    CorruptHeader {
        /// Which check failed.
        reason: &'static str,
    },

    /// The header decrypted with a correct secret, but its contents were changed after they were
    /// written (the header MAC does not match).
    #[error(
        "The vault's header was changed by someone or something other than this app. Do not trust \
         this copy: restore the vault from a backup file."
    )]
    TamperedHeader,

    /// The header, segment, or backup was written by a newer format version.
    #[error(
        "This was made by a newer version of the app; update the app to open it (format version \
         {found})."
    )]
    UnsupportedVersion {
        /// The version number found in the stored bytes.
        found: u64,
    },

    /// The Argon2id parameters are below the safety floor or above the ceiling. Checked before
    /// any hashing runs.
    #[error(
        "The vault's key-derivation settings are outside the safe range ({detail}). The vault was \
         not opened. If you did not expect this, restore from a backup file."
    )]
    KdfParamsOutOfRange {
        /// Which limit was crossed.
        detail: &'static str,
    },

    /// A new passphrase was refused by the strength check.
    #[error("This passphrase is too easy to guess. {}", feedback.join(" "))]
    WeakPassphrase {
        /// Suggestions, one sentence each.
        feedback: Vec<String>,
    },

    /// A caller-supplied value (vault name, segment name, timestamp) is not acceptable.
    #[error("{what} is not valid: {detail}.")]
    InvalidInput {
        /// What was rejected.
        what: &'static str,
        /// Why.
        detail: &'static str,
    },

    /// A segment blob failed authentication: its bytes were damaged or altered. Only this segment
    /// is affected; the others can still be read.
    #[error(
        "The part of your record called \"{segment}\" is damaged and cannot be read. The rest of \
         your record is unaffected. Restore this part from a backup file."
    )]
    SegmentAuthFailed {
        /// The segment's name.
        segment: String,
    },

    /// A segment blob is well-formed but belongs somewhere else: another vault, another segment
    /// name, or another (older or newer) write.
    #[error(
        "The stored copy of \"{segment}\" belongs to {what}, so it was not used. The rest of your \
         record is unaffected. Restore this part from a backup file."
    )]
    SegmentMismatch {
        /// The segment the caller asked for.
        segment: String,
        /// What the blob belongs to instead: "another vault", "another part of the record",
        /// "an older save" or "a newer save".
        what: &'static str,
    },

    /// A segment blob is not a segment blob at all (bad magic, truncated, bad length field).
    #[error(
        "The stored copy of \"{segment}\" is damaged ({reason}). The rest of your record is \
         unaffected. Restore this part from a backup file."
    )]
    SegmentMalformed {
        /// The segment the caller asked for.
        segment: String,
        /// Which check failed.
        reason: &'static str,
    },

    /// The manifest lists a segment whose blob is not in storage.
    #[error(
        "The part of your record called \"{segment}\" is missing from this browser's storage. The \
         rest of your record is unaffected. Restore this part from a backup file."
    )]
    SegmentMissing {
        /// The segment's name.
        segment: String,
    },

    /// The segment name is not in the manifest.
    #[error("This vault has no part called \"{segment}\".")]
    UnknownSegment {
        /// The name asked for.
        segment: String,
    },

    /// The header exists but the manifest (the list of segments) does not.
    #[error(
        "The list of your record's parts is missing from this browser's storage, so the record \
         cannot be shown. Nothing was changed. Restore the vault from a backup file."
    )]
    ManifestMissing,

    /// The manifest exists but cannot be read or verified.
    #[error(
        "The list of your record's parts is damaged ({reason}), so the record cannot be shown. \
         Nothing was changed. Restore the vault from a backup file."
    )]
    ManifestCorrupt {
        /// Which check failed.
        reason: &'static str,
    },

    /// A backup file is not a readable backup (wrong magic, truncated, checksum mismatch).
    #[error(
        "This file is not a readable vault backup ({reason}). Nothing was changed. Try another \
         copy of the backup."
    )]
    CorruptBackup {
        /// Which check failed.
        reason: &'static str,
    },

    /// The browser refused the write because storage is full.
    #[error(
        "Your browser's storage for this app is full{}, so the change was not saved. Your previous \
         save is intact. Export a backup file, then free some space.",
        bytes_needed.map(|n| format!(" (about {n} more bytes are needed)")).unwrap_or_default()
    )]
    QuotaExceeded {
        /// How many more bytes the write needed, when known.
        bytes_needed: Option<u64>,
    },

    /// Storage could not be used at all (private mode, blocked by settings, database closed).
    #[error(
        "This browser's storage cannot be used right now ({detail}). Nothing was changed. Close \
         other tabs of this app and reload; if it persists, export a backup file."
    )]
    StorageUnavailable {
        /// What the store reported.
        detail: String,
    },

    /// The vault was changed (in another tab or window) since this copy was loaded.
    #[error(
        "This vault was changed in another tab or window since this tab loaded it. Nothing was \
         written. Reload to see the latest version, then make your change again."
    )]
    Conflict,

    /// There is no vault with this id in storage.
    #[error("This vault is not in this browser's storage. If you have a backup file, restore it.")]
    VaultNotFound,

    /// Creating or restoring would write over an existing vault, which needs an explicit choice.
    #[error(
        "A vault with this identity already exists in this browser. Nothing was changed. Choose \
         explicitly whether to replace it."
    )]
    VaultExists,

    /// The stored vault is older than one this browser has already seen: storage was rolled back
    /// (for example an old copy was put back).
    #[error(
        "This vault is older than the one this browser last saw (save {found}, expected at least \
         save {seen}). Someone may have put back an old copy. If you did not restore a backup \
         yourself, check your data before making changes."
    )]
    RolledBack {
        /// The highest generation seen before.
        seen: u64,
        /// The generation found now.
        found: u64,
    },
}

/// An error reported by a [`Store`](crate::store::Store) implementation.
///
/// The browser shell maps IndexedDB errors onto these (`QuotaExceededError`, and per browser
/// quirks also some `AbortError`s, map to [`StoreError::QuotaExceeded`]).
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum StoreError {
    /// The write did not fit.
    #[error("storage quota exceeded")]
    QuotaExceeded {
        /// How many more bytes were needed, when known.
        bytes_needed: Option<u64>,
    },
    /// The store cannot be used (closed, blocked, failed mid-operation).
    #[error("storage unavailable: {0}")]
    Unavailable(String),
}

impl From<StoreError> for VaultError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::QuotaExceeded { bytes_needed } => {
                VaultError::QuotaExceeded { bytes_needed }
            }
            StoreError::Unavailable(detail) => VaultError::StorageUnavailable { detail },
        }
    }
}

//! The manifest: a sealed segment named `manifest` that lists every data segment with the
//! sequence number, length and SHA-256 of its current blob. Its own sequence number is the vault's
//! generation, which grows by one with every save.
//!
//! Because the manifest authenticates each blob's hash, a blob that is swapped, replayed or
//! damaged is caught even before decryption, and a save becomes visible atomically when the
//! manifest is written.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::encoding::{hex_decode_exact, hex_encode};
use crate::entropy::Entropy;
use crate::error::VaultError;
use crate::ids::{check_segment_name, VaultId, MANIFEST_NAME};
use crate::keys::{open, VaultKey};
use crate::segment::{peek_seq, seal_segment, ParsedBlob};
use crate::text::check_timestamp;

/// What the manifest records about one data segment's current blob.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SegmentEntry {
    /// The generation at which the blob was written (its sequence number).
    pub seq: u64,
    /// The blob's length in bytes.
    pub len: u64,
    /// SHA-256 of the whole blob.
    pub sha256: [u8; 32],
}

impl SegmentEntry {
    /// The entry describing `blob` written at `seq`.
    pub fn for_blob(seq: u64, blob: &[u8]) -> Self {
        Self {
            seq,
            len: blob.len() as u64,
            sha256: Sha256::digest(blob).into(),
        }
    }

    /// Whether `blob` is exactly the blob this entry describes.
    pub fn matches(&self, blob: &[u8]) -> bool {
        self.matches_digest(blob, &Sha256::digest(blob).into())
    }

    /// Like [`SegmentEntry::matches`], with the blob's SHA-256 computed by the caller (the browser
    /// shell uses WebCrypto's native `digest`, far faster than hashing in wasm).
    pub fn matches_digest(&self, blob: &[u8], sha256: &[u8; 32]) -> bool {
        blob.len() as u64 == self.len && *sha256 == self.sha256
    }
}

/// The decrypted manifest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Manifest {
    /// The vault generation (the manifest blob's sequence number).
    pub generation: u64,
    /// When this generation was saved (RFC 3339, passed in by the caller).
    pub saved: String,
    /// The data segments by name.
    pub segments: BTreeMap<String, SegmentEntry>,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct ManifestRepr {
    saved: String,
    segments: Vec<EntryRepr>,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct EntryRepr {
    name: String,
    seq: u64,
    len: u64,
    sha256: String,
}

impl Manifest {
    /// The manifest's plaintext: compact JSON, segments sorted by name.
    pub fn to_json(&self) -> Vec<u8> {
        let repr = ManifestRepr {
            saved: self.saved.clone(),
            segments: self
                .segments
                .iter()
                .map(|(name, e)| EntryRepr {
                    name: name.clone(),
                    seq: e.seq,
                    len: e.len,
                    sha256: hex_encode(&e.sha256),
                })
                .collect(),
        };
        serde_json::to_vec(&repr).expect("manifest serialises")
    }

    fn from_json(generation: u64, json: &[u8]) -> Result<Self, VaultError> {
        let corrupt = |reason| VaultError::ManifestCorrupt { reason };
        let repr: ManifestRepr =
            serde_json::from_slice(json).map_err(|_| corrupt("unexpected content"))?;
        check_timestamp(&repr.saved).map_err(|_| corrupt("bad save time"))?;
        let mut segments = BTreeMap::new();
        for e in repr.segments {
            check_segment_name(&e.name, false).map_err(|_| corrupt("bad segment name"))?;
            if e.seq == 0 || e.seq > generation {
                return Err(corrupt("segment from a later save"));
            }
            let sha256 = hex_decode_exact(&e.sha256).ok_or(corrupt("bad segment hash"))?;
            let entry = SegmentEntry {
                seq: e.seq,
                len: e.len,
                sha256,
            };
            if segments.insert(e.name, entry).is_some() {
                return Err(corrupt("a segment is listed twice"));
            }
        }
        Ok(Self {
            generation,
            saved: repr.saved,
            segments,
        })
    }

    /// Seals this manifest as the blob for its generation.
    pub(crate) fn seal(
        &self,
        vk: &VaultKey,
        vault_id: &VaultId,
        entropy: &mut impl Entropy,
    ) -> Result<Vec<u8>, VaultError> {
        seal_segment(
            vk,
            vault_id,
            MANIFEST_NAME,
            self.generation,
            &self.to_json(),
            entropy,
        )
    }

    /// Opens and checks a manifest blob of vault `vault_id`. The generation is whatever the blob
    /// says (rollback is judged separately, see [`check_rollback`](crate::check_rollback)).
    ///
    /// # Errors
    /// [`VaultError::ManifestCorrupt`] or [`VaultError::UnsupportedVersion`].
    pub fn open(vk: &VaultKey, vault_id: &VaultId, blob: &[u8]) -> Result<Self, VaultError> {
        let corrupt = |reason| VaultError::ManifestCorrupt { reason };
        let generation = match peek_seq(blob) {
            Ok(seq) => seq,
            Err(e @ VaultError::UnsupportedVersion { .. }) => return Err(e),
            Err(_) => return Err(corrupt("not a manifest")),
        };
        let parsed: ParsedBlob<'_> =
            crate::segment::parse_blob(blob, vault_id, MANIFEST_NAME, generation).map_err(|e| {
                match e {
                    VaultError::SegmentMismatch {
                        what: "another vault",
                        ..
                    } => corrupt("it belongs to another vault"),
                    _ => corrupt("not a manifest"),
                }
            })?;
        let json = open(vk.as_bytes(), &parsed.nonce, &parsed.aad, parsed.ciphertext)
            .ok_or(corrupt("it failed authentication"))?;
        Self::from_json(generation, &json)
    }
}

//! The manifest: a sealed segment named `manifest` that lists every data segment with the
//! sequence number, length and check value of its current blob. Its own sequence number is the
//! vault's generation, which grows by one with every save.
//!
//! Because the manifest authenticates each blob's check value, a blob that is swapped, replayed
//! or damaged is caught, and a save becomes visible atomically when the manifest is written.
//!
//! The check value is the blob's AES-GCM tag (its last 16 bytes) in a version 2 manifest, and
//! SHA-256 of the whole blob in version 1. The tag pins the blob as well as a hash does: the
//! prefix pins vault, name and sequence number; decryption authenticates nonce, prefix and
//! ciphertext under the vault key; and any other blob that authenticates under that key for
//! the same name and sequence number (another nonce) has another tag, except with negligible
//! probability. The tag costs nothing to compute, where SHA-256 of every blob took a full
//! pass over the record at every save and unlock. A version 2 manifest keeps the SHA-256 entries of
//! blobs written by version 1 until those segments are next saved.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::encoding::{hex_decode_exact, hex_encode};
use crate::entropy::Entropy;
use crate::error::VaultError;
use crate::ids::{check_segment_name, VaultId, MANIFEST_NAME};
use crate::keys::{open, VaultKey, TAG_LEN};
use crate::segment::{peek_seq, seal_segment, ParsedBlob};
use crate::text::check_timestamp;

/// How the manifest pins one blob's exact bytes (besides its length).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BlobCheck {
    /// The blob's AES-GCM tag: its last 16 bytes (written by format version 2).
    Tag([u8; TAG_LEN]),
    /// SHA-256 of the whole blob (format version 1).
    Sha256([u8; 32]),
}

/// The AES-GCM tag of a sealed blob: its last 16 bytes (`None` if it is too short to have one).
pub fn blob_tag(blob: &[u8]) -> Option<[u8; TAG_LEN]> {
    blob.len()
        .checked_sub(TAG_LEN)
        .map(|at| blob[at..].try_into().expect("16 bytes"))
}

/// What the manifest records about one data segment's current blob.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SegmentEntry {
    /// The generation at which the blob was written (its sequence number).
    pub seq: u64,
    /// The blob's length in bytes.
    pub len: u64,
    /// The blob's tag (or, for a blob written by version 1, its SHA-256).
    pub check: BlobCheck,
}

impl SegmentEntry {
    /// The entry describing `blob` written at `seq`.
    pub fn for_blob(seq: u64, blob: &[u8]) -> Self {
        Self {
            seq,
            len: blob.len() as u64,
            check: BlobCheck::Tag(blob_tag(blob).unwrap_or_default()),
        }
    }

    /// Whether checking a blob against this entry needs the blob's SHA-256 (a version 1 entry).
    pub fn needs_digest(&self) -> bool {
        matches!(self.check, BlobCheck::Sha256(_))
    }

    /// Whether `blob` is exactly the blob this entry describes.
    pub fn matches(&self, blob: &[u8]) -> bool {
        let digest = self.needs_digest().then(|| Sha256::digest(blob).into());
        self.matches_digest(blob, digest.as_ref())
    }

    /// Like [`SegmentEntry::matches`], with the blob's SHA-256 computed by the caller when
    /// [`SegmentEntry::needs_digest`] (the browser shell uses WebCrypto's native `digest`, far
    /// faster than hashing in wasm). A tag entry ignores `sha256`; a SHA-256 entry without one
    /// does not match.
    pub fn matches_digest(&self, blob: &[u8], sha256: Option<&[u8; 32]>) -> bool {
        if blob.len() as u64 != self.len {
            return false;
        }
        match &self.check {
            BlobCheck::Tag(tag) => blob_tag(blob).as_ref() == Some(tag),
            BlobCheck::Sha256(expected) => sha256 == Some(expected),
        }
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
    #[serde(default, skip_serializing_if = "Option::is_none")]
    sha256: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    tag: Option<String>,
}

impl Manifest {
    /// The manifest's plaintext (format version 2): compact JSON, segments sorted by name.
    pub fn to_json(&self) -> Vec<u8> {
        let repr = ManifestRepr {
            saved: self.saved.clone(),
            segments: self
                .segments
                .iter()
                .map(|(name, e)| {
                    let (sha256, tag) = match &e.check {
                        BlobCheck::Sha256(h) => (Some(hex_encode(h)), None),
                        BlobCheck::Tag(t) => (None, Some(hex_encode(t))),
                    };
                    EntryRepr {
                        name: name.clone(),
                        seq: e.seq,
                        len: e.len,
                        sha256,
                        tag,
                    }
                })
                .collect(),
        };
        serde_json::to_vec(&repr).expect("manifest serialises")
    }

    /// Reads a manifest's plaintext. `version` is its blob's format version: a version 1 manifest
    /// lists SHA-256 values only; version 2 lists a tag, or a SHA-256 for a blob written by
    /// version 1.
    fn from_json(version: u8, generation: u64, json: &[u8]) -> Result<Self, VaultError> {
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
            let check = match (e.sha256, e.tag) {
                (Some(h), None) => {
                    BlobCheck::Sha256(hex_decode_exact(&h).ok_or(corrupt("bad segment hash"))?)
                }
                (None, Some(t)) if version >= 2 => {
                    BlobCheck::Tag(hex_decode_exact(&t).ok_or(corrupt("bad segment tag"))?)
                }
                _ => return Err(corrupt("unexpected content")),
            };
            let entry = SegmentEntry {
                seq: e.seq,
                len: e.len,
                check,
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
        Self::from_json(parsed.version, generation, &json)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TAG: &str = "000102030405060708090a0b0c0d0e0f";
    const SHA: &str = "000102030405060708090a0b0c0d0e0f000102030405060708090a0b0c0d0e0f";

    fn manifest(entry: &str) -> Vec<u8> {
        format!(r#"{{"saved":"2026-11-22T10:00:00Z","segments":[{{"name":"fhir-0","seq":1,"len":40,{entry}}}]}}"#)
            .into_bytes()
    }

    #[test]
    fn each_entry_has_exactly_one_check_and_tags_only_from_version_2() {
        let tag = manifest(&format!(r#""tag":"{TAG}""#));
        let sha = manifest(&format!(r#""sha256":"{SHA}""#));
        let both = manifest(&format!(r#""sha256":"{SHA}","tag":"{TAG}""#));
        let neither =
            br#"{"saved":"2026-11-22T10:00:00Z","segments":[{"name":"fhir-0","seq":1,"len":40}]}"#
                .to_vec();
        let v2 = Manifest::from_json(2, 1, &tag).unwrap();
        assert!(!v2.segments["fhir-0"].needs_digest());
        assert_eq!(
            v2.to_json(),
            tag,
            "a tag entry is written back as it was read"
        );
        let v1_entry = Manifest::from_json(2, 1, &sha).unwrap();
        assert!(v1_entry.segments["fhir-0"].needs_digest());
        assert_eq!(v1_entry.to_json(), sha, "a SHA-256 entry is kept as it was");
        assert!(Manifest::from_json(1, 1, &sha).is_ok());
        for (version, json) in [(1, &tag), (2, &both), (1, &both)] {
            assert_eq!(
                Manifest::from_json(version, 1, json),
                Err(VaultError::ManifestCorrupt {
                    reason: "unexpected content"
                }),
                "version {version}: {}",
                String::from_utf8_lossy(json)
            );
        }
        assert_eq!(
            Manifest::from_json(2, 1, &neither),
            Err(VaultError::ManifestCorrupt {
                reason: "unexpected content"
            })
        );
        let short_tag = manifest(r#""tag":"0001""#);
        assert!(Manifest::from_json(2, 1, &short_tag).is_err());
    }

    #[test]
    fn a_tag_entry_matches_only_the_blob_that_ends_with_it() {
        let blob: Vec<u8> = (0..40).collect();
        let entry = SegmentEntry::for_blob(3, &blob);
        assert_eq!(entry.check, BlobCheck::Tag(blob_tag(&blob).unwrap()));
        assert!(entry.matches(&blob));
        let mut other = blob.clone();
        other[39] ^= 1;
        assert!(!entry.matches(&other));
        assert!(!entry.matches(&blob[..39]));
        assert_eq!(blob_tag(&blob[..15]), None);
    }
}

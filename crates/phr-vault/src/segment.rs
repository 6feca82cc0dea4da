//! Segment blobs: the binary, AES-256-GCM sealed unit of storage.
//!
//! ```text
//! offset  size  field
//! 0       4     magic "PHRS"
//! 4       1     format version (2; 1 is still read)
//! 5       16    vault id
//! 21      1     name length n (1..=64)
//! 22      n     segment name (ASCII)
//! 22+n    8     sequence number, big-endian u64 (>= 1)
//! 30+n    12    nonce (random)
//! 42+n    ...   AES-256-GCM ciphertext || 16-byte tag
//! AAD = "phr-vault/v2/segment" || bytes[0 .. 30+n]   (everything before the nonce)
//! ```
//!
//! Version 1 blobs have the same layout with AAD domain `"phr-vault/v1/segment"`. The versions
//! differ in what the manifest records about a blob (SHA-256 in v1, the GCM tag in v2; see
//! [`crate::SegmentEntry`]), so a version 1 app refuses a version 2 vault as newer instead of
//! misreading it.
//!
//! # WebCrypto split
//!
//! AES-GCM in wasm is about 25 times slower than WebCrypto, so the browser shell may encrypt
//! the bulk data itself. [`seal_segment`] / [`open_segment`] are the reference (RustCrypto); the
//! low-level steps reproduce them byte for byte:
//!
//! 1. [`SealParts::new`] builds the prefix and the AAD for (vault, name, seq, nonce);
//! 2. the shell runs `crypto.subtle.encrypt({name: "AES-GCM", iv: parts.nonce,
//!    additionalData: parts.aad}, vaultKey, plaintext)` (tag length 128, the default);
//! 3. [`SealParts::assemble`] appends the nonce and the ciphertext to the prefix.
//!
//! To open, [`parse_blob`] checks the prefix against what the manifest expects and returns the
//! nonce, AAD and ciphertext for `crypto.subtle.decrypt` with the same arguments.

use crate::entropy::{random, Entropy};
use crate::error::VaultError;
use crate::ids::{check_segment_name, VaultId, VAULT_ID_LEN};
use crate::keys::{open, seal, VaultKey, NONCE_LEN, TAG_LEN};

/// Magic bytes at the start of every segment blob.
pub const SEGMENT_MAGIC: &[u8; 4] = b"PHRS";
/// The segment blob format version this crate writes.
pub const SEGMENT_VERSION: u8 = 2;
/// The oldest blob version this crate reads.
pub const SEGMENT_VERSION_MIN: u8 = 1;
/// Domain string prepended to the prefix to form the AAD of a version 2 blob.
pub const SEGMENT_AAD_DOMAIN: &[u8] = b"phr-vault/v2/segment";
/// The AAD domain string of a version 1 blob.
pub const SEGMENT_AAD_DOMAIN_V1: &[u8] = b"phr-vault/v1/segment";

/// Everything needed to encrypt one segment outside this crate and assemble the blob.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SealParts {
    /// The blob prefix: magic, version, vault id, name, seq.
    pub prefix: Vec<u8>,
    /// The AES-GCM nonce (IV).
    pub nonce: [u8; NONCE_LEN],
    /// The AES-GCM additional data: the domain string followed by the prefix.
    pub aad: Vec<u8>,
}

impl SealParts {
    /// Builds the prefix and AAD for sealing `name` at `seq` in vault `vault_id` with `nonce`.
    /// The nonce must be fresh random bytes (see [`SealParts::random`]).
    ///
    /// # Errors
    /// [`VaultError::InvalidInput`] for a bad segment name or `seq == 0`.
    pub fn new(
        vault_id: &VaultId,
        name: &str,
        seq: u64,
        nonce: [u8; NONCE_LEN],
    ) -> Result<Self, VaultError> {
        check_segment_name(name, true)?;
        if seq == 0 {
            return Err(VaultError::InvalidInput {
                what: "The sequence number",
                detail: "it must be at least 1",
            });
        }
        let mut prefix = Vec::with_capacity(30 + name.len());
        prefix.extend_from_slice(SEGMENT_MAGIC);
        prefix.push(SEGMENT_VERSION);
        prefix.extend_from_slice(vault_id.as_bytes());
        prefix.push(name.len() as u8);
        prefix.extend_from_slice(name.as_bytes());
        prefix.extend_from_slice(&seq.to_be_bytes());
        let aad = aad_for(SEGMENT_VERSION, &prefix);
        Ok(Self { prefix, nonce, aad })
    }

    /// Like [`SealParts::new`] with a nonce drawn from `entropy`.
    ///
    /// # Errors
    /// As [`SealParts::new`].
    pub fn random(
        vault_id: &VaultId,
        name: &str,
        seq: u64,
        entropy: &mut impl Entropy,
    ) -> Result<Self, VaultError> {
        Self::new(vault_id, name, seq, random(entropy))
    }

    /// The bytes before the ciphertext: `prefix || nonce`. A shell that keeps the ciphertext
    /// outside this crate (in JavaScript) builds the blob as `head || ciphertext_and_tag`.
    pub fn head(&self) -> Vec<u8> {
        let mut head = Vec::with_capacity(self.prefix.len() + NONCE_LEN);
        head.extend_from_slice(&self.prefix);
        head.extend_from_slice(&self.nonce);
        head
    }

    /// The finished blob: `prefix || nonce || ciphertext_and_tag`. `ciphertext_and_tag` is
    /// exactly what WebCrypto's AES-GCM `encrypt` returns.
    pub fn assemble(&self, ciphertext_and_tag: &[u8]) -> Vec<u8> {
        let mut blob = Vec::with_capacity(self.prefix.len() + NONCE_LEN + ciphertext_and_tag.len());
        blob.extend_from_slice(&self.prefix);
        blob.extend_from_slice(&self.nonce);
        blob.extend_from_slice(ciphertext_and_tag);
        blob
    }
}

fn aad_for(version: u8, prefix: &[u8]) -> Vec<u8> {
    let domain = if version == 1 {
        SEGMENT_AAD_DOMAIN_V1
    } else {
        SEGMENT_AAD_DOMAIN
    };
    let mut aad = Vec::with_capacity(domain.len() + prefix.len());
    aad.extend_from_slice(domain);
    aad.extend_from_slice(prefix);
    aad
}

/// A blob split into its fields. Borrowed from the blob.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParsedBlob<'a> {
    /// The blob's format version (1 or 2).
    pub version: u8,
    /// The vault id in the prefix.
    pub vault_id: VaultId,
    /// The segment name in the prefix.
    pub name: &'a str,
    /// The sequence number in the prefix.
    pub seq: u64,
    /// The nonce.
    pub nonce: [u8; NONCE_LEN],
    /// The AAD to decrypt with (domain string || prefix).
    pub aad: Vec<u8>,
    /// Ciphertext || tag, as WebCrypto's AES-GCM `decrypt` takes it.
    pub ciphertext: &'a [u8],
}

/// Splits a blob without checking whose it is. `what` names the segment in errors.
fn split<'a>(blob: &'a [u8], what: &str) -> Result<ParsedBlob<'a>, VaultError> {
    let malformed = |reason| VaultError::SegmentMalformed {
        segment: what.to_owned(),
        reason,
    };
    if blob.len() < 5 || &blob[..4] != SEGMENT_MAGIC {
        return Err(malformed("not a vault segment"));
    }
    if !(SEGMENT_VERSION_MIN..=SEGMENT_VERSION).contains(&blob[4]) {
        return Err(if blob[4] > SEGMENT_VERSION {
            VaultError::UnsupportedVersion {
                found: u64::from(blob[4]),
            }
        } else {
            malformed("unknown format version")
        });
    }
    let name_at = 5 + VAULT_ID_LEN + 1;
    if blob.len() < name_at {
        return Err(malformed("too short"));
    }
    let n = usize::from(blob[name_at - 1]);
    let seq_at = name_at + n;
    let nonce_at = seq_at + 8;
    let ct_at = nonce_at + NONCE_LEN;
    if blob.len() < ct_at + TAG_LEN {
        return Err(malformed("too short"));
    }
    let name = core::str::from_utf8(&blob[name_at..seq_at])
        .ok()
        .filter(|name| check_segment_name(name, true).is_ok())
        .ok_or(malformed("invalid segment name"))?;
    let seq = u64::from_be_bytes(blob[seq_at..nonce_at].try_into().expect("8 bytes"));
    if seq == 0 {
        return Err(malformed("sequence number 0"));
    }
    Ok(ParsedBlob {
        version: blob[4],
        vault_id: VaultId::from_bytes(blob[5..5 + VAULT_ID_LEN].try_into().expect("16 bytes")),
        name,
        seq,
        nonce: blob[nonce_at..ct_at].try_into().expect("12 bytes"),
        aad: aad_for(blob[4], &blob[..nonce_at]),
        ciphertext: &blob[ct_at..],
    })
}

/// Reads a blob's sequence number without a key and without expectations. The store executor
/// uses it on the stored manifest to check the generation of a save plan.
///
/// # Errors
/// [`VaultError::SegmentMalformed`] or [`VaultError::UnsupportedVersion`].
pub fn peek_seq(blob: &[u8]) -> Result<u64, VaultError> {
    split(blob, "(unknown)").map(|p| p.seq)
}

/// The segment name in a blob's prefix, if the blob is well-formed.
pub(crate) fn parse_blob_name(blob: &[u8]) -> Option<String> {
    split(blob, "").ok().map(|p| p.name.to_owned())
}

/// Splits a blob and checks that it is segment `name` at `seq` of vault `vault_id`, as the
/// manifest says it should be. No decryption happens.
///
/// # Errors
/// [`VaultError::SegmentMalformed`], [`VaultError::UnsupportedVersion`], or
/// [`VaultError::SegmentMismatch`] saying what the blob belongs to instead.
pub fn parse_blob<'a>(
    blob: &'a [u8],
    vault_id: &VaultId,
    name: &str,
    seq: u64,
) -> Result<ParsedBlob<'a>, VaultError> {
    let parsed = split(blob, name)?;
    let mismatch = |what| VaultError::SegmentMismatch {
        segment: name.to_owned(),
        what,
    };
    if parsed.vault_id != *vault_id {
        return Err(mismatch("another vault"));
    }
    if parsed.name != name {
        return Err(mismatch("another part of the record"));
    }
    if parsed.seq < seq {
        return Err(mismatch("an older save"));
    }
    if parsed.seq > seq {
        return Err(mismatch("a newer save"));
    }
    Ok(parsed)
}

/// Seals `plaintext` as segment `name` at `seq`: the reference implementation of the format.
///
/// # Errors
/// [`VaultError::InvalidInput`] for a bad name or `seq == 0`.
pub fn seal_segment(
    key: &VaultKey,
    vault_id: &VaultId,
    name: &str,
    seq: u64,
    plaintext: &[u8],
    entropy: &mut impl Entropy,
) -> Result<Vec<u8>, VaultError> {
    let parts = SealParts::random(vault_id, name, seq, entropy)?;
    let ciphertext = seal(key.as_bytes(), &parts.nonce, &parts.aad, plaintext);
    Ok(parts.assemble(&ciphertext))
}

/// Opens a blob, checking that it is segment `name` at `seq` of vault `vault_id`.
///
/// # Errors
/// As [`parse_blob`], plus [`VaultError::SegmentAuthFailed`] when the tag does not verify.
pub fn open_segment(
    key: &VaultKey,
    blob: &[u8],
    vault_id: &VaultId,
    name: &str,
    seq: u64,
) -> Result<Vec<u8>, VaultError> {
    let parsed = parse_blob(blob, vault_id, name, seq)?;
    open(
        key.as_bytes(),
        &parsed.nonce,
        &parsed.aad,
        parsed.ciphertext,
    )
    .ok_or_else(|| VaultError::SegmentAuthFailed {
        segment: name.to_owned(),
    })
}

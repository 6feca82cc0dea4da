//! Backup files: one binary container holding the exact header bytes, the manifest blob and
//! every segment blob.
//!
//! ```text
//! "PHRB" | version u8 (1)
//! | u32 BE length | header bytes
//! | u32 BE length | manifest blob
//! | u32 BE count  | count × (u32 BE length | segment blob)   (sorted by segment name)
//! | SHA-256 of every preceding byte (32)
//! ```
//!
//! The trailing checksum tells a damaged or truncated file from a wrong passphrase. Everything
//! inside is already encrypted and authenticated, so the file is as safe to keep as the vault.
//! Opening needs the passphrase or recovery key of the header inside, and verifies every segment
//! before anything may be written. A restore re-seals the record at a new generation above both
//! the backup's and the replaced vault's, so its blobs never overwrite a blob still referenced.

use std::collections::BTreeMap;

use sha2::{Digest, Sha256};

use crate::entropy::Entropy;
use crate::error::VaultError;
use crate::header::{Header, Secret};
use crate::ids::VaultId;
use crate::keys::VaultKey;
use crate::manifest::{Manifest, SegmentEntry};
use crate::segment::seal_segment;
use crate::store::{header_key, manifest_key, segment_key, vault_prefix, Expect, Op, WritePlan};
use crate::vault::Vault;

/// Magic bytes of a backup file.
pub const BACKUP_MAGIC: &[u8; 4] = b"PHRB";
/// The backup container version this crate writes and reads.
pub const BACKUP_VERSION: u8 = 1;
/// Suggested file extension.
pub const BACKUP_EXTENSION: &str = "phrbackup";

fn push_chunk(out: &mut Vec<u8>, chunk: &[u8]) {
    let len = u32::try_from(chunk.len()).expect("no blob reaches 4 GiB");
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(chunk);
}

/// Encodes a backup container. `segments` in manifest (name) order.
pub(crate) fn encode_backup(header: &[u8], manifest: &[u8], segments: &[Vec<u8>]) -> Vec<u8> {
    let total = 9
        + header.len()
        + 4
        + manifest.len()
        + 4
        + segments.iter().map(|s| s.len() + 4).sum::<usize>()
        + 32;
    let mut out = Vec::with_capacity(total);
    out.extend_from_slice(BACKUP_MAGIC);
    out.push(BACKUP_VERSION);
    push_chunk(&mut out, header);
    push_chunk(&mut out, manifest);
    out.extend_from_slice(
        &u32::try_from(segments.len())
            .expect("fewer than 4 billion segments")
            .to_be_bytes(),
    );
    for s in segments {
        push_chunk(&mut out, s);
    }
    let sum = Sha256::digest(&out);
    out.extend_from_slice(&sum);
    out
}

/// A parsed backup file (checksum verified, header parsed, nothing decrypted yet).
#[derive(Debug, Clone)]
pub struct Backup {
    header: Header,
    manifest: Vec<u8>,
    segments: Vec<Vec<u8>>,
}

struct Reader<'a> {
    rest: &'a [u8],
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], VaultError> {
        if self.rest.len() < n {
            return Err(VaultError::CorruptBackup {
                reason: "the file is cut short",
            });
        }
        let (head, tail) = self.rest.split_at(n);
        self.rest = tail;
        Ok(head)
    }

    fn u32(&mut self) -> Result<usize, VaultError> {
        let b = self.take(4)?;
        Ok(u32::from_be_bytes(b.try_into().expect("4 bytes")) as usize)
    }

    fn chunk(&mut self) -> Result<&'a [u8], VaultError> {
        let n = self.u32()?;
        self.take(n)
    }
}

impl Backup {
    /// Parses a backup file.
    ///
    /// # Errors
    /// [`VaultError::CorruptBackup`] (wrong magic, truncated, checksum mismatch, trailing bytes),
    /// [`VaultError::UnsupportedVersion`], or an error of [`Header::parse`].
    pub fn parse(bytes: &[u8]) -> Result<Self, VaultError> {
        let corrupt = |reason| VaultError::CorruptBackup { reason };
        if bytes.len() < 5 || &bytes[..4] != BACKUP_MAGIC {
            return Err(corrupt("it is not a vault backup"));
        }
        if bytes[4] > BACKUP_VERSION {
            return Err(VaultError::UnsupportedVersion {
                found: u64::from(bytes[4]),
            });
        }
        if bytes[4] != BACKUP_VERSION {
            return Err(corrupt("unknown version"));
        }
        if bytes.len() < 5 + 12 + 32 {
            return Err(corrupt("the file is cut short"));
        }
        let (content, sum) = bytes.split_at(bytes.len() - 32);
        if Sha256::digest(content).as_slice() != sum {
            return Err(corrupt(
                "checksum mismatch: the file is damaged or incomplete",
            ));
        }
        let mut r = Reader {
            rest: &content[5..],
        };
        let header_bytes = r.chunk()?;
        let manifest = r.chunk()?.to_vec();
        let count = r.u32()?;
        // Each segment needs at least its 4-byte length: refuse absurd counts before allocating.
        if count > r.rest.len() / 4 {
            return Err(corrupt("bad segment count"));
        }
        let mut segments = Vec::with_capacity(count);
        for _ in 0..count {
            segments.push(r.chunk()?.to_vec());
        }
        if !r.rest.is_empty() {
            return Err(corrupt("unexpected bytes at the end"));
        }
        Ok(Self {
            header: Header::parse(header_bytes)?,
            manifest,
            segments,
        })
    }

    /// The header inside (for the vault's name and id, and for the KDF worker).
    pub fn header(&self) -> &Header {
        &self.header
    }

    /// Unlocks and fully verifies the backup: header MAC, manifest, and every segment decrypted.
    ///
    /// # Errors
    /// Any unlock error, manifest error, or segment error (naming the segment), and
    /// [`VaultError::CorruptBackup`] when the file holds blobs the manifest does not list.
    pub fn unlock(&self, secret: Secret<'_>) -> Result<UnlockedBackup, VaultError> {
        let key = self.header.unlock(secret)?;
        self.unlock_with_key(key)
    }

    /// As [`Backup::unlock`] with a vault key obtained from
    /// [`Header::unlock_with_passphrase_kek`] on [`Backup::header`].
    ///
    /// # Errors
    /// As [`Backup::unlock`].
    pub fn unlock_with_key(&self, key: VaultKey) -> Result<UnlockedBackup, VaultError> {
        let vault = Vault::open(self.header.clone(), key, Some(&self.manifest))?;
        let mut by_name: BTreeMap<String, &[u8]> = BTreeMap::new();
        for blob in &self.segments {
            let name = crate::segment::parse_blob_name(blob).ok_or(VaultError::CorruptBackup {
                reason: "it holds something that is not a segment",
            })?;
            if by_name.insert(name, blob).is_some() {
                return Err(VaultError::CorruptBackup {
                    reason: "a segment appears twice",
                });
            }
        }
        let mut plaintexts = BTreeMap::new();
        for name in vault.segment_names() {
            let blob = by_name.remove(name);
            plaintexts.insert(name.to_owned(), vault.read_segment(name, blob)?);
        }
        if !by_name.is_empty() {
            return Err(VaultError::CorruptBackup {
                reason: "it holds segments its manifest does not list",
            });
        }
        Ok(UnlockedBackup { vault, plaintexts })
    }
}

/// Where a restore writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RestoreTarget {
    /// This browser has no vault with the backup's id ([`stored_generation`](crate::stored_generation)
    /// returned `None`).
    New,
    /// Replace the stored vault, which the patient was told is at this generation. If it changed
    /// since, the restore fails with [`VaultError::Conflict`].
    Replace {
        /// The generation the patient agreed to replace.
        generation: u64,
    },
}

/// A verified, decrypted backup, ready to be inspected and restored.
#[derive(Debug)]
pub struct UnlockedBackup {
    vault: Vault,
    plaintexts: BTreeMap<String, Vec<u8>>,
}

impl UnlockedBackup {
    /// The backed-up vault's id.
    pub fn vault_id(&self) -> VaultId {
        self.vault.vault_id()
    }

    /// Its display name.
    pub fn name(&self) -> &str {
        self.vault.name()
    }

    /// The backed-up vault's key (to open the restored vault without asking again).
    pub fn vault_key(&self) -> &VaultKey {
        self.vault.vault_key()
    }

    /// Its generation ("this backup is save N").
    pub fn generation(&self) -> u64 {
        self.vault.generation()
    }

    /// When that generation was saved.
    pub fn saved(&self) -> &str {
        &self.vault.manifest().saved
    }

    /// The record: every segment's plaintext by name.
    pub fn segments(&self) -> &BTreeMap<String, Vec<u8>> {
        &self.plaintexts
    }

    /// Plans the restore. The record is re-sealed at generation
    /// `max(backup, replaced) + 1`; the backup's header is written byte for byte (so the
    /// backup's passphrase and recovery key apply afterwards). `existing_keys` are the store's
    /// keys under the vault's prefix (every one not rewritten is deleted at the end).
    ///
    /// Writes: segments, manifest (the switch-over), header, then deletes. Draws one nonce per
    /// segment (in name order), then the manifest nonce.
    ///
    /// # Errors
    /// [`VaultError::InvalidInput`] if the generation counter would overflow.
    pub fn plan_restore<S: AsRef<str>>(
        &self,
        target: RestoreTarget,
        existing_keys: &[S],
        entropy: &mut impl Entropy,
    ) -> Result<WritePlan, VaultError> {
        let id = self.vault_id();
        let (expect, replaced) = match target {
            RestoreTarget::New => (Expect::NoVault, 0),
            RestoreTarget::Replace { generation } => (Expect::Generation(generation), generation),
        };
        let generation =
            self.generation()
                .max(replaced)
                .checked_add(1)
                .ok_or(VaultError::InvalidInput {
                    what: "The save counter",
                    detail: "it has reached its maximum",
                })?;
        let key = self.vault.vault_key();
        let mut ops = Vec::new();
        let mut segments = BTreeMap::new();
        let mut written = Vec::new();
        for (name, plaintext) in &self.plaintexts {
            let blob = seal_segment(key, &id, name, generation, plaintext, entropy)?;
            segments.insert(name.clone(), SegmentEntry::for_blob(generation, &blob));
            let k = segment_key(&id, name, generation);
            written.push(k.clone());
            ops.push(Op::Put {
                key: k,
                value: blob,
            });
        }
        let manifest = Manifest {
            generation,
            saved: self.saved().to_owned(),
            segments,
        };
        ops.push(Op::Put {
            key: manifest_key(&id),
            value: manifest.seal(key, &id, entropy)?,
        });
        ops.push(Op::Put {
            key: header_key(&id),
            value: self.vault.header().bytes().to_vec(),
        });
        written.push(manifest_key(&id));
        written.push(header_key(&id));
        let prefix = vault_prefix(&id);
        for k in existing_keys {
            let k = k.as_ref();
            if k.starts_with(&prefix) && !written.iter().any(|w| w == k) {
                ops.push(Op::Delete { key: k.to_owned() });
            }
        }
        Ok(WritePlan {
            vault_id: id,
            expect,
            ops,
        })
    }
}

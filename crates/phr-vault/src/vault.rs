//! The unlocked vault: creation, reading segments, save plans, header changes, backups.

use std::collections::{BTreeMap, BTreeSet};

use sha2::{Digest, Sha256};

use crate::entropy::Entropy;
use crate::error::VaultError;
use crate::header::{Header, Secret};
use crate::ids::{check_segment_name, VaultId};
use crate::kdf::{derive_kek, random_salt, KdfParams, SALT_LEN};
use crate::keys::{Kek, VaultKey, TAG_LEN};
use crate::manifest::{blob_tag, BlobCheck, Manifest, SegmentEntry};
use crate::passphrase::assess_passphrase_with;
use crate::recovery::RecoveryKey;
use crate::segment::{open_segment, parse_blob, seal_segment, ParsedBlob, SealParts};
use crate::store::{
    execute, header_key, manifest_key, parse_segment_key, segment_key, Expect, Op, Store, WritePlan,
};
use crate::text::{check_name, check_timestamp};

/// What a new vault is made of, besides its secrets.
#[derive(Debug, Clone, Copy)]
pub struct CreateOptions<'a> {
    /// Display name, stored in plaintext (tell the patient not to use their real name if they
    /// do not want it visible).
    pub name: &'a str,
    /// Creation time, RFC 3339 (the crate reads no clock).
    pub created: &'a str,
    /// Argon2id parameters: [`KdfParams::DEFAULT`], or [`KdfParams::MINIMUM`] on devices that
    /// cannot afford 64 MiB.
    pub kdf: KdfParams,
}

/// A freshly created vault.
#[derive(Debug)]
pub struct Created {
    /// The unlocked vault (generation 1, no segments).
    pub vault: Vault,
    /// The recovery key: show it once (`display()`), ask the patient to write it down, then drop.
    pub recovery_key: RecoveryKey,
    /// Writes the manifest, then the header; expects no vault with this id.
    pub plan: WritePlan,
}

/// Creates a vault: checks the passphrase's strength, runs Argon2id, generates the keys.
///
/// Draws from `entropy`, in order: Argon2id salt, then as [`create_vault_with_kek`].
///
/// # Errors
/// [`VaultError::WeakPassphrase`], [`VaultError::KdfParamsOutOfRange`],
/// [`VaultError::InvalidInput`] for a bad name or timestamp.
pub fn create_vault(
    options: &CreateOptions<'_>,
    passphrase: &str,
    entropy: &mut impl Entropy,
) -> Result<Created, VaultError> {
    let assessment = assess_passphrase_with(passphrase, &[options.name]);
    if !assessment.acceptable {
        return Err(VaultError::WeakPassphrase {
            feedback: assessment.feedback,
        });
    }
    check_name(options.name)?;
    check_timestamp(options.created)?;
    options.kdf.check()?;
    let salt = random_salt(entropy);
    let kek = derive_kek(passphrase, &options.kdf, &salt)?;
    create_vault_with_kek(options, salt, &kek, entropy)
}

/// Creates a vault from a passphrase KEK derived elsewhere (the KDF worker) as
/// `derive_kek(passphrase, options.kdf, kdf_salt)`. The caller must have checked the passphrase
/// with [`assess_passphrase`](crate::assess_passphrase).
///
/// Draws from `entropy`, in order: vault id (16), vault key (32), recovery key (16),
/// passphrase-slot nonce (12), recovery-slot salt (16), recovery-slot nonce (12),
/// header-MAC nonce (12), manifest nonce (12).
///
/// # Errors
/// [`VaultError::KdfParamsOutOfRange`], [`VaultError::InvalidInput`].
pub fn create_vault_with_kek(
    options: &CreateOptions<'_>,
    kdf_salt: [u8; SALT_LEN],
    passphrase_kek: &Kek,
    entropy: &mut impl Entropy,
) -> Result<Created, VaultError> {
    check_name(options.name)?;
    check_timestamp(options.created)?;
    options.kdf.check()?;
    let vault_id = VaultId::generate(entropy);
    let key = VaultKey::generate(entropy);
    let recovery_key = RecoveryKey::generate(entropy);
    let header = Header::build(
        vault_id,
        options.name,
        options.created,
        options.kdf,
        kdf_salt,
        passphrase_kek,
        &recovery_key,
        &key,
        entropy,
    )?;
    let manifest = Manifest {
        generation: 1,
        saved: options.created.to_owned(),
        segments: BTreeMap::new(),
    };
    let manifest_blob = manifest.seal(&key, &vault_id, entropy)?;
    let plan = WritePlan {
        vault_id,
        expect: Expect::NoVault,
        ops: vec![
            Op::Put {
                key: manifest_key(&vault_id),
                value: manifest_blob,
            },
            Op::Put {
                key: header_key(&vault_id),
                value: header.bytes().to_vec(),
            },
        ],
    };
    Ok(Created {
        vault: Vault {
            header,
            key,
            manifest,
        },
        recovery_key,
        plan,
    })
}

/// Reads a vault's generation from storage without any key: `None` when there is no vault with
/// this id, `Some(0)` when a vault exists but its manifest is missing or unreadable (so that a
/// damaged vault can still be replaced by a restore). Used to ask the patient before a restore.
///
/// # Errors
/// Storage errors.
pub fn stored_generation(
    store: &impl Store,
    vault_id: &VaultId,
) -> Result<Option<u64>, VaultError> {
    let header = store.get(&header_key(vault_id))?;
    let manifest = store.get(&manifest_key(vault_id))?;
    Ok(match (header, manifest) {
        (None, None) => None,
        (_, None) => Some(0),
        (_, Some(m)) => Some(crate::segment::peek_seq(&m).unwrap_or(0)),
    })
}

/// Rollback detection: the generation found must not be below the highest one seen before (the
/// shell keeps that number outside the vault, e.g. in localStorage, and inside the record).
///
/// # Errors
/// [`VaultError::RolledBack`].
pub fn check_rollback(found: u64, last_seen: Option<u64>) -> Result<(), VaultError> {
    match last_seen {
        Some(seen) if found < seen => Err(VaultError::RolledBack { seen, found }),
        _ => Ok(()),
    }
}

/// A save that has been planned but not yet applied to the in-memory vault. Execute
/// [`SavePlan::write`], then call [`Vault::commit`], which hands back [`SavePlan::cleanup`] to run
/// afterwards. If execution fails, drop the plan: the vault stays at its previous generation and
/// the save can be retried.
#[derive(Debug, Clone)]
pub struct SavePlan {
    /// The storage writes: the new blobs and the manifest that names them. The save is complete
    /// (and durable) once this has run.
    pub write: WritePlan,
    /// Deletes the blobs this save replaced or removed, which nothing references once `write` has
    /// run. It is a separate write so that a save does not wait for it; if it fails or never
    /// runs, only orphans remain, and [`Vault::plan_gc`] removes them later. Its precondition is
    /// this save's generation, so it never touches a newer save's state.
    pub cleanup: WritePlan,
    base: u64,
    manifest: Manifest,
}

impl SavePlan {
    /// The generation this save creates.
    pub fn generation(&self) -> u64 {
        self.manifest.generation
    }
}

/// A segment blob sealed and held by the shell, described for the manifest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DescribedSegment {
    /// The segment's name.
    pub name: String,
    /// The sequence number the blob was sealed at (and is stored under): the next generation.
    pub seq: u64,
    /// The blob's length in bytes.
    pub len: u64,
    /// The blob's AES-GCM tag: its last 16 bytes.
    pub tag: [u8; TAG_LEN],
}

/// A planned header rewrite (passphrase, recovery key or name). Execute [`HeaderChange::write`],
/// then call [`Vault::commit_header`].
#[derive(Debug, Clone)]
pub struct HeaderChange {
    /// The storage write: one put of the header, expecting the current header bytes.
    pub write: WritePlan,
    header: Header,
}

impl HeaderChange {
    /// The new header's exact bytes.
    pub fn header_bytes(&self) -> &[u8] {
        self.header.bytes()
    }
}

/// An unlocked vault: the header, the vault key and the current manifest.
#[derive(Debug)]
pub struct Vault {
    header: Header,
    key: VaultKey,
    manifest: Manifest,
}

impl Vault {
    /// Combines an unlocked header (see [`Header::unlock`]) with the stored manifest blob.
    ///
    /// # Errors
    /// [`VaultError::ManifestMissing`] when `manifest_blob` is `None`,
    /// [`VaultError::ManifestCorrupt`] or [`VaultError::UnsupportedVersion`].
    pub fn open(
        header: Header,
        key: VaultKey,
        manifest_blob: Option<&[u8]>,
    ) -> Result<Self, VaultError> {
        let blob = manifest_blob.ok_or(VaultError::ManifestMissing)?;
        let manifest = Manifest::open(&key, &header.vault_id(), blob)?;
        Ok(Self {
            header,
            key,
            manifest,
        })
    }

    /// Reads the header and manifest of `vault_id` from `store` and unlocks with `secret`.
    ///
    /// # Errors
    /// [`VaultError::VaultNotFound`], any error of [`Header::parse`], [`Header::unlock`] and
    /// [`Vault::open`], or a storage error.
    pub fn unlock(
        store: &impl Store,
        vault_id: &VaultId,
        secret: Secret<'_>,
    ) -> Result<Self, VaultError> {
        let header_bytes = store
            .get(&header_key(vault_id))?
            .ok_or(VaultError::VaultNotFound)?;
        let header = Header::parse(&header_bytes)?;
        if header.vault_id() != *vault_id {
            return Err(VaultError::CorruptHeader {
                reason: "it belongs to another vault",
            });
        }
        let key = header.unlock(secret)?;
        let manifest = store.get(&manifest_key(vault_id))?;
        Self::open(header, key, manifest.as_deref())
    }

    /// The vault's id.
    pub fn vault_id(&self) -> VaultId {
        self.header.vault_id()
    }

    /// The (now authenticated) display name.
    pub fn name(&self) -> &str {
        self.header.name()
    }

    /// The header as currently stored.
    pub fn header(&self) -> &Header {
        &self.header
    }

    /// The vault key, for importing into WebCrypto as a non-extractable AES-GCM key.
    pub fn vault_key(&self) -> &VaultKey {
        &self.key
    }

    /// The current manifest.
    pub fn manifest(&self) -> &Manifest {
        &self.manifest
    }

    /// The current generation (grows by one per save).
    pub fn generation(&self) -> u64 {
        self.manifest.generation
    }

    /// The data segments' names.
    pub fn segment_names(&self) -> impl Iterator<Item = &str> {
        self.manifest.segments.keys().map(String::as_str)
    }

    /// The storage key of a segment's current blob.
    ///
    /// # Errors
    /// [`VaultError::UnknownSegment`].
    pub fn segment_key(&self, name: &str) -> Result<String, VaultError> {
        let entry = self.entry(name)?;
        Ok(segment_key(&self.vault_id(), name, entry.seq))
    }

    fn entry(&self, name: &str) -> Result<&SegmentEntry, VaultError> {
        self.manifest
            .segments
            .get(name)
            .ok_or_else(|| VaultError::UnknownSegment {
                segment: name.to_owned(),
            })
    }

    /// Checks a stored segment blob against the manifest (name, vault, seq, length and tag or
    /// hash) without decrypting it, and splits it for WebCrypto's `decrypt`. A WebCrypto
    /// `OperationError` on the result means [`VaultError::SegmentAuthFailed`].
    ///
    /// # Errors
    /// [`VaultError::UnknownSegment`], [`VaultError::SegmentMissing`] (`blob` is `None`),
    /// [`VaultError::SegmentMalformed`], [`VaultError::SegmentMismatch`],
    /// [`VaultError::SegmentAuthFailed`] (tag or hash mismatch), [`VaultError::UnsupportedVersion`].
    pub fn check_segment_blob<'a>(
        &self,
        name: &str,
        blob: Option<&'a [u8]>,
    ) -> Result<ParsedBlob<'a>, VaultError> {
        let digest = match blob {
            Some(b) if self.needs_digest(name) => Some(Sha256::digest(b).into()),
            _ => None,
        };
        self.check_segment_blob_with_digest(name, blob, digest.as_ref())
    }

    /// Whether checking segment `name`'s blob needs its SHA-256: only a blob written by format
    /// version 1 (a version 2 manifest records the blob's AES-GCM tag, which needs no hashing).
    pub fn needs_digest(&self, name: &str) -> bool {
        self.entry(name).is_ok_and(SegmentEntry::needs_digest)
    }

    /// [`Vault::check_segment_blob`] with the blob's SHA-256 computed by the caller when
    /// [`Vault::needs_digest`] says so (WebCrypto's `digest` in the browser: hashing tens of
    /// megabytes in wasm would dominate unlock time); otherwise `sha256` is ignored.
    /// `sha256` must be the digest of exactly `blob`.
    ///
    /// # Errors
    /// As [`Vault::check_segment_blob`].
    pub fn check_segment_blob_with_digest<'a>(
        &self,
        name: &str,
        blob: Option<&'a [u8]>,
        sha256: Option<&[u8; 32]>,
    ) -> Result<ParsedBlob<'a>, VaultError> {
        let entry = self.entry(name)?;
        let Some(blob) = blob else {
            return Err(VaultError::SegmentMissing {
                segment: name.to_owned(),
            });
        };
        let parsed = parse_blob(blob, &self.vault_id(), name, entry.seq)?;
        if !entry.matches_digest(blob, sha256) {
            return Err(VaultError::SegmentAuthFailed {
                segment: name.to_owned(),
            });
        }
        Ok(parsed)
    }

    /// Decrypts one segment. Each segment is independent: a damaged one does not stop the others.
    ///
    /// # Errors
    /// As [`Vault::check_segment_blob`], plus [`VaultError::SegmentAuthFailed`] when decryption
    /// fails.
    pub fn read_segment(&self, name: &str, blob: Option<&[u8]>) -> Result<Vec<u8>, VaultError> {
        let entry = self.entry(name)?;
        self.check_segment_blob(name, blob)?;
        open_segment(
            &self.key,
            blob.expect("checked"),
            &self.vault_id(),
            name,
            entry.seq,
        )
    }

    /// Reads and decrypts every segment from `store`, each with its own result.
    pub fn read_all(&self, store: &impl Store) -> BTreeMap<String, Result<Vec<u8>, VaultError>> {
        self.segment_names()
            .map(|name| {
                let result = self.segment_key(name).and_then(|key| {
                    let blob = store.get(&key)?;
                    self.read_segment(name, blob.as_deref())
                });
                (name.to_owned(), result)
            })
            .collect()
    }

    /// The generation the next save will create.
    ///
    /// # Errors
    /// [`VaultError::InvalidInput`] if the counter would overflow (it cannot in practice).
    pub fn next_generation(&self) -> Result<u64, VaultError> {
        self.manifest
            .generation
            .checked_add(1)
            .ok_or(VaultError::InvalidInput {
                what: "The save counter",
                detail: "it has reached its maximum",
            })
    }

    /// For the WebCrypto path: the prefix, nonce and AAD to seal segment `name` in the next save.
    ///
    /// # Errors
    /// [`VaultError::InvalidInput`] for a bad or reserved name.
    pub fn seal_parts(
        &self,
        name: &str,
        entropy: &mut impl Entropy,
    ) -> Result<SealParts, VaultError> {
        check_segment_name(name, false)?;
        SealParts::random(&self.vault_id(), name, self.next_generation()?, entropy)
    }

    /// Plans a save of the segments that changed (`name → plaintext`) and those deleted; every
    /// other segment keeps its blob. Seals with RustCrypto.
    ///
    /// Draws one nonce per changed segment (in the given order), then the manifest nonce.
    ///
    /// # Errors
    /// [`VaultError::InvalidInput`] (bad or duplicate names), [`VaultError::UnknownSegment`]
    /// (deleting a segment that does not exist).
    pub fn plan_save(
        &self,
        changed: &[(&str, &[u8])],
        deleted: &[&str],
        saved: &str,
        entropy: &mut impl Entropy,
    ) -> Result<SavePlan, VaultError> {
        self.check_changes(changed.iter().map(|(n, _)| *n), deleted)?;
        let next = self.next_generation()?;
        let mut sealed = Vec::with_capacity(changed.len());
        for (name, plaintext) in changed {
            let blob = seal_segment(&self.key, &self.vault_id(), name, next, plaintext, entropy)?;
            sealed.push(((*name).to_owned(), blob));
        }
        self.build_save(sealed, deleted, saved, entropy)
    }

    /// Plans a save from blobs the shell sealed itself (WebCrypto, with [`Vault::seal_parts`]).
    /// Each blob's prefix is checked; the ciphertext is not decrypted.
    ///
    /// # Errors
    /// As [`Vault::plan_save`], plus blob errors from [`parse_blob`].
    pub fn plan_save_sealed(
        &self,
        sealed: Vec<(String, Vec<u8>)>,
        deleted: &[&str],
        saved: &str,
        entropy: &mut impl Entropy,
    ) -> Result<SavePlan, VaultError> {
        self.check_changes(sealed.iter().map(|(n, _)| n.as_str()), deleted)?;
        let next = self.next_generation()?;
        for (name, blob) in &sealed {
            parse_blob(blob, &self.vault_id(), name, next)?;
        }
        self.build_save(sealed, deleted, saved, entropy)
    }

    fn check_changes<'a>(
        &self,
        changed: impl Iterator<Item = &'a str>,
        deleted: &[&'a str],
    ) -> Result<(), VaultError> {
        let mut seen = BTreeSet::new();
        for name in changed.chain(deleted.iter().copied()) {
            check_segment_name(name, false)?;
            if !seen.insert(name) {
                return Err(VaultError::InvalidInput {
                    what: "The list of changes",
                    detail: "a segment appears twice",
                });
            }
        }
        for name in deleted {
            self.entry(name)?;
        }
        Ok(())
    }

    fn build_save(
        &self,
        sealed: Vec<(String, Vec<u8>)>,
        deleted: &[&str],
        saved: &str,
        entropy: &mut impl Entropy,
    ) -> Result<SavePlan, VaultError> {
        let id = self.vault_id();
        let next = self.next_generation()?;
        let described: Vec<DescribedSegment> = sealed
            .iter()
            .map(|(name, blob)| DescribedSegment {
                name: name.clone(),
                seq: next,
                len: blob.len() as u64,
                tag: blob_tag(blob).unwrap_or_default(),
            })
            .collect();
        let mut plan = self.build_save_described(described, deleted, saved, entropy)?;
        // The blobs go first, then the manifest that names them (the deletes are the cleanup).
        let mut ops: Vec<Op> = sealed
            .into_iter()
            .map(|(name, blob)| Op::Put {
                key: segment_key(&id, &name, next),
                value: blob,
            })
            .collect();
        ops.append(&mut plan.write.ops);
        plan.write.ops = ops;
        Ok(plan)
    }

    /// Plans a save whose segment blobs the shell holds and writes itself (sealed with
    /// [`Vault::seal_parts`]; the blobs stay in JavaScript, so they are described here by their
    /// length and AES-GCM tag only). The returned plan's write puts the manifest. It must run in the
    /// same atomic write as the puts of the described blobs, each under
    /// [`segment_key`]`(vault, name, seq)`, issued before the plan's own operations.
    /// Every `seq` must be the next generation (what [`Vault::seal_parts`] sealed at).
    ///
    /// # Errors
    /// As [`Vault::plan_save`].
    pub fn plan_save_described(
        &self,
        described: Vec<DescribedSegment>,
        deleted: &[&str],
        saved: &str,
        entropy: &mut impl Entropy,
    ) -> Result<SavePlan, VaultError> {
        self.check_changes(described.iter().map(|d| d.name.as_str()), deleted)?;
        let next = self.next_generation()?;
        // A blob sealed for another save would be stored under a key this manifest does not name.
        if let Some(d) = described.iter().find(|d| d.seq != next) {
            return Err(VaultError::SegmentMismatch {
                segment: d.name.clone(),
                what: if d.seq < next {
                    "an older save"
                } else {
                    "a newer save"
                },
            });
        }
        self.build_save_described(described, deleted, saved, entropy)
    }

    fn build_save_described(
        &self,
        described: Vec<DescribedSegment>,
        deleted: &[&str],
        saved: &str,
        entropy: &mut impl Entropy,
    ) -> Result<SavePlan, VaultError> {
        check_timestamp(saved)?;
        let id = self.vault_id();
        let next = self.next_generation()?;
        let mut manifest = Manifest {
            generation: next,
            saved: saved.to_owned(),
            segments: self.manifest.segments.clone(),
        };
        let mut deletes = Vec::new();
        for DescribedSegment { name, len, tag, .. } in described {
            let entry = SegmentEntry {
                seq: next,
                len,
                check: BlobCheck::Tag(tag),
            };
            if let Some(old) = manifest.segments.insert(name.clone(), entry) {
                deletes.push(segment_key(&id, &name, old.seq));
            }
        }
        for name in deleted {
            let old = manifest.segments.remove(*name).expect("checked to exist");
            deletes.push(segment_key(&id, name, old.seq));
        }
        let ops = vec![Op::Put {
            key: manifest_key(&id),
            value: manifest.seal(&self.key, &id, entropy)?,
        }];
        Ok(SavePlan {
            write: WritePlan {
                vault_id: id,
                expect: Expect::Generation(self.manifest.generation),
                ops,
            },
            cleanup: WritePlan {
                vault_id: id,
                expect: Expect::Generation(next),
                ops: deletes.into_iter().map(|key| Op::Delete { key }).collect(),
            },
            base: self.manifest.generation,
            manifest,
        })
    }

    /// Applies an executed save to the in-memory vault.
    ///
    /// # Errors
    /// [`VaultError::Conflict`] if the plan was not based on the current generation.
    ///
    /// Returns the save's [`SavePlan::cleanup`], to run next (or leave to garbage collection).
    pub fn commit(&mut self, plan: SavePlan) -> Result<WritePlan, VaultError> {
        if plan.base != self.manifest.generation {
            return Err(VaultError::Conflict);
        }
        self.manifest = plan.manifest;
        Ok(plan.cleanup)
    }

    /// Plans, executes and commits a save on a synchronous store, then runs its cleanup.
    ///
    /// # Errors
    /// As [`Vault::plan_save`] and [`execute`]. On error the vault is unchanged, in memory and
    /// (thanks to the write order) in storage as far as readers are concerned. A failed cleanup
    /// is not an error: the save is complete, and the blobs it did not delete are orphans that
    /// [`Vault::plan_gc`] removes.
    pub fn save(
        &mut self,
        store: &mut impl Store,
        changed: &[(&str, &[u8])],
        deleted: &[&str],
        saved: &str,
        entropy: &mut impl Entropy,
    ) -> Result<(), VaultError> {
        let plan = self.plan_save(changed, deleted, saved, entropy)?;
        execute(store, &plan.write)?;
        let cleanup = self.commit(plan)?;
        let _ = execute(store, &cleanup);
        Ok(())
    }

    fn header_change(&self, header: Header) -> HeaderChange {
        let id = self.vault_id();
        HeaderChange {
            write: WritePlan {
                vault_id: id,
                expect: Expect::Header(Sha256::digest(self.header.bytes()).into()),
                ops: vec![Op::Put {
                    key: header_key(&id),
                    value: header.bytes().to_vec(),
                }],
            },
            header,
        }
    }

    /// Plans a passphrase change (also the way to set a new passphrase after unlocking with the
    /// recovery key, and to upgrade KDF parameters). Only the vault key is re-wrapped; no data is
    /// re-encrypted. Checks the new passphrase's strength.
    ///
    /// Draws: Argon2id salt, slot nonce, MAC nonce.
    ///
    /// # Errors
    /// [`VaultError::WeakPassphrase`], [`VaultError::KdfParamsOutOfRange`].
    pub fn change_passphrase(
        &self,
        new_passphrase: &str,
        kdf: KdfParams,
        entropy: &mut impl Entropy,
    ) -> Result<HeaderChange, VaultError> {
        let assessment = assess_passphrase_with(new_passphrase, &[self.name()]);
        if !assessment.acceptable {
            return Err(VaultError::WeakPassphrase {
                feedback: assessment.feedback,
            });
        }
        kdf.check()?;
        let salt = random_salt(entropy);
        let kek = derive_kek(new_passphrase, &kdf, &salt)?;
        self.change_passphrase_with_kek(kdf, salt, &kek, entropy)
    }

    /// As [`Vault::change_passphrase`] with a KEK derived by the KDF worker. The caller must have
    /// checked the passphrase's strength.
    ///
    /// # Errors
    /// [`VaultError::KdfParamsOutOfRange`].
    pub fn change_passphrase_with_kek(
        &self,
        kdf: KdfParams,
        kdf_salt: [u8; SALT_LEN],
        kek: &Kek,
        entropy: &mut impl Entropy,
    ) -> Result<HeaderChange, VaultError> {
        let header = self
            .header
            .with_passphrase(kdf, kdf_salt, kek, &self.key, entropy)?;
        Ok(self.header_change(header))
    }

    /// Plans a new recovery key (the old one stops working once the plan is written).
    ///
    /// Draws: recovery key, salt, slot nonce, MAC nonce.
    ///
    /// # Errors
    /// None in practice; the header is rebuilt with checked values.
    pub fn replace_recovery_key(
        &self,
        entropy: &mut impl Entropy,
    ) -> Result<(RecoveryKey, HeaderChange), VaultError> {
        let rk = RecoveryKey::generate(entropy);
        let header = self.header.with_recovery(&rk, &self.key, entropy)?;
        Ok((rk, self.header_change(header)))
    }

    /// Plans a new display name.
    ///
    /// # Errors
    /// [`VaultError::InvalidInput`] for a bad name.
    pub fn rename(
        &self,
        name: &str,
        entropy: &mut impl Entropy,
    ) -> Result<HeaderChange, VaultError> {
        let header = self.header.with_name(name, &self.key, entropy)?;
        Ok(self.header_change(header))
    }

    /// Applies an executed header change to the in-memory vault.
    ///
    /// # Errors
    /// [`VaultError::Conflict`] if the change was planned from another header.
    pub fn commit_header(&mut self, change: HeaderChange) -> Result<(), VaultError> {
        let current: [u8; 32] = Sha256::digest(self.header.bytes()).into();
        if change.write.expect != Expect::Header(current) {
            return Err(VaultError::Conflict);
        }
        self.header = change.header;
        Ok(())
    }

    /// Plans the removal of segment blobs nothing references: left behind by a save that failed
    /// before its manifest was written. `keys` are the store's keys under
    /// [`vault_prefix`](crate::vault_prefix). Only blobs from generations up to the current one are removed, so a
    /// save in flight in another tab is never touched.
    pub fn plan_gc<S: AsRef<str>>(&self, keys: &[S]) -> WritePlan {
        let id = self.vault_id();
        let ops = keys
            .iter()
            .filter_map(|k| {
                let key = k.as_ref();
                let (name, seq) = parse_segment_key(&id, key)?;
                let referenced = self.manifest.segments.get(name).map(|e| e.seq) == Some(seq);
                (!referenced && seq <= self.manifest.generation).then(|| Op::Delete {
                    key: key.to_owned(),
                })
            })
            .collect();
        WritePlan {
            vault_id: id,
            expect: Expect::Generation(self.manifest.generation),
            ops,
        }
    }

    /// Builds a backup file from `store`: the current header, the manifest blob and every segment
    /// blob, each checked against the manifest first (no decryption).
    ///
    /// # Errors
    /// [`VaultError::Conflict`] if storage moved on to another generation, segment errors from
    /// [`Vault::check_segment_blob`], storage errors.
    pub fn export_backup(&self, store: &impl Store) -> Result<Vec<u8>, VaultError> {
        let id = self.vault_id();
        let manifest_blob = store
            .get(&manifest_key(&id))?
            .ok_or(VaultError::ManifestMissing)?;
        if crate::segment::peek_seq(&manifest_blob).ok() != Some(self.manifest.generation) {
            return Err(VaultError::Conflict);
        }
        let mut blobs = Vec::with_capacity(self.manifest.segments.len());
        for name in self.manifest.segments.keys() {
            let blob = store.get(&self.segment_key(name)?)?;
            self.check_segment_blob(name, blob.as_deref())?;
            blobs.push(blob.expect("checked"));
        }
        Ok(crate::backup::encode_backup(
            self.header.bytes(),
            &manifest_blob,
            &blobs,
        ))
    }

    /// [`check_rollback`] for this vault's generation.
    ///
    /// # Errors
    /// [`VaultError::RolledBack`].
    pub fn check_rollback(&self, last_seen: Option<u64>) -> Result<(), VaultError> {
        check_rollback(self.manifest.generation, last_seen)
    }
}

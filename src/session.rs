//! The unlocked vault: the record in memory plus what is needed to save it.
//!
//! This module is glue: `phr-vault` decides formats and plans writes, `phr-record` holds the
//! record, and this code runs their plans against IndexedDB and WebCrypto. Saving is an explicit
//! call ([`Session::save`]); nothing is persisted behind the patient's back.
//!
//! Key material: the vault key lives in `phr_vault::Vault` (zeroized on drop) and as a
//! non-extractable WebCrypto key. Locking drops the whole [`Session`].

use std::cell::{Cell, Ref, RefCell, RefMut};
use std::collections::BTreeMap;
use std::rc::{Rc, Weak};

use futures::StreamExt;

use phr_record::{Record, SegmentLoadError};
use phr_vault::{
    Header, KdfParams, Kek, RecoveryKey, Secret, Store, Vault, VaultError, VaultId, VaultKey,
};
use web_sys::CryptoKey;

use crate::platform::idb::{self, Db};
use crate::platform::kdf;
use crate::platform::time::{now_rfc3339, perf_now};
use crate::platform::webcrypto::{self, WebEntropy};

/// A vault stored in this browser, as listed before unlocking (no key needed).
#[derive(Clone, Debug, PartialEq)]
pub struct VaultSummary {
    pub id: VaultId,
    pub name: String,
    pub created: String,
    /// Why the header could not be read, if it could not (the vault is still listed: corrupted
    /// storage is never hidden or replaced).
    pub problem: Option<String>,
}

/// How the patient proves they may open the vault.
#[derive(Clone)]
pub enum Credential {
    Passphrase(String),
    RecoveryKey(String),
}

/// Progress of a long operation, for the UI.
#[derive(Clone, Debug, PartialEq)]
pub struct Progress {
    pub step: &'static str,
    /// 0.0..=1.0, or None when the step has no measurable progress.
    pub fraction: Option<f64>,
}

/// Lists the vaults in this browser, newest first.
pub async fn list_vaults(db: &Db) -> Result<Vec<VaultSummary>, VaultError> {
    let ids = db.vault_ids().await?;
    let keys: Vec<String> = ids.iter().map(phr_vault::header_key).collect();
    let headers = db.get_many(&keys).await?;
    let mut out: Vec<VaultSummary> = ids
        .into_iter()
        .zip(headers)
        .map(|(id, bytes)| match bytes.as_deref().map(Header::parse) {
            Some(Ok(h)) => VaultSummary {
                id,
                name: h.name().to_owned(),
                created: h.created().to_owned(),
                problem: None,
            },
            Some(Err(e)) => VaultSummary {
                id,
                name: "Unreadable vault".into(),
                created: String::new(),
                problem: Some(e.to_string()),
            },
            None => VaultSummary {
                id,
                name: "Incomplete vault".into(),
                created: String::new(),
                problem: Some(
                    "Its header is missing, so it cannot be opened. Restore it from a backup."
                        .into(),
                ),
            },
        })
        .collect();
    out.sort_by(|a, b| b.created.cmp(&a.created));
    Ok(out)
}

/// localStorage key of the last generation this browser saw for a vault (not sensitive: a counter).
fn seen_key(id: &VaultId) -> String {
    format!("phr.seen.{id}")
}

fn last_seen(id: &VaultId) -> Option<u64> {
    web_sys::window()?
        .local_storage()
        .ok()??
        .get_item(&seen_key(id))
        .ok()??
        .parse()
        .ok()
}

fn remember_seen(id: &VaultId, generation: u64) {
    if let Some(s) = web_sys::window().and_then(|w| w.local_storage().ok().flatten()) {
        let _ = s.set_item(&seen_key(id), &generation.to_string());
    }
}

/// Turns a credential into the vault key. A passphrase goes through Argon2id in the KDF worker.
pub async fn vault_key(header: &Header, credential: &Credential) -> Result<VaultKey, VaultError> {
    match credential {
        Credential::Passphrase(p) => {
            let kek = kdf::derive_kek(p, &header.kdf_params(), header.kdf_salt()).await?;
            header.unlock_with_passphrase_kek(&kek)
        }
        Credential::RecoveryKey(text) => {
            let rk = RecoveryKey::parse(text)?;
            header.unlock(Secret::RecoveryKey(&rk))
        }
    }
}

/// A vault key that opened a vault's header and manifest: what the shell hands to the record
/// module, which then reads and decrypts the record.
pub struct VerifiedKey {
    pub id: VaultId,
    pub key: VaultKey,
    pub opened_with_recovery_key: bool,
}

/// Checks a credential against a stored vault without reading the record: header, key derivation
/// (in the worker), manifest. Cheap apart from the KDF.
pub async fn verify_credential(
    db: &Db,
    id: &VaultId,
    credential: Credential,
) -> Result<VerifiedKey, VaultError> {
    let header_bytes = db
        .get(&phr_vault::header_key(id))
        .await?
        .ok_or(VaultError::VaultNotFound)?;
    let header = Header::parse(&header_bytes)?;
    crate::perf::mark("phr-unlock-start");
    let key = vault_key(&header, &credential).await?;
    crate::perf::mark("phr-keys-ready");
    let manifest = db.get(&phr_vault::manifest_key(id)).await?;
    let vault = Vault::open(header, key, manifest.as_deref())?;
    vault.check_rollback(last_seen(id))?;
    Ok(VerifiedKey {
        id: *id,
        key: VaultKey::from_bytes(*vault.vault_key().as_bytes()),
        opened_with_recovery_key: matches!(credential, Credential::RecoveryKey(_)),
    })
}

/// The vault segment that caches the views' index (encrypted like the record). It is only used when
/// it was written in the same save as the newest record segment, so it always matches the record.
pub const INDEX_CACHE_SEGMENT: &str = "cache.index";
/// Prefix of the cache segment: the app version, so a new app never trusts an older app's index.
const INDEX_CACHE_TAG: &[u8] =
    concat!("phr-index-cache-2 ", env!("CARGO_PKG_VERSION"), "\n").as_bytes();

/// Which stored record an index cache describes: every record segment's name and sequence number.
/// The cache is used only when this equals the manifest's (after a restore, which seals every
/// segment anew, or after any later save, it does not).
fn record_fingerprint(segments: &BTreeMap<String, phr_vault::SegmentEntry>) -> Vec<u8> {
    let mut out = Vec::new();
    for (name, entry) in segments {
        if name != INDEX_CACHE_SEGMENT {
            out.extend_from_slice(format!("{name} {}\n", entry.seq).as_bytes());
        }
    }
    out
}

/// The cache segment's plaintext: tag, fingerprint (length-prefixed), index.
fn encode_index_cache(fingerprint: &[u8], index: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(INDEX_CACHE_TAG.len() + 4 + fingerprint.len() + index.len());
    out.extend_from_slice(INDEX_CACHE_TAG);
    out.extend_from_slice(&(fingerprint.len() as u32).to_le_bytes());
    out.extend_from_slice(fingerprint);
    out.extend_from_slice(index);
    out
}

/// The fingerprint and index bytes of a cache segment, if it is one of this app version's.
fn decode_index_cache(bytes: &[u8]) -> Option<(&[u8], &[u8])> {
    let body = bytes.strip_prefix(INDEX_CACHE_TAG)?;
    let len = u32::from_le_bytes(body.get(..4)?.try_into().ok()?) as usize;
    let rest = &body[4..];
    (rest.len() >= len).then(|| rest.split_at(len))
}

/// The unlocked vault.
///
/// Methods take `&self`: the record and the vault sit in `RefCell`s that are only borrowed for
/// synchronous moments, never across an `await`, so the UI can read the record while a save runs.
pub struct Session {
    db: Db,
    vault: RefCell<Vault>,
    key: CryptoKey,
    record: RefCell<Record>,
    /// Segments that could not be read; the rest of the record is usable.
    pub load_errors: Vec<SegmentLoadError>,
    /// Set when this vault was opened with the recovery key (the UI offers a new passphrase).
    opened_with_recovery_key: Cell<bool>,
    saving: Cell<bool>,
    save_again: Cell<bool>,
    /// Bumped by every [`Session::record_mut`]: the index below is current when it matches.
    record_revision: Cell<u64>,
    index: RefCell<Option<(u64, Rc<phr_views::Index>)>>,
    timings: Cell<SaveTimings>,
    /// This session, once shared ([`Session::into_shared`]): lets a save schedule the index cache.
    me: RefCell<Weak<Session>>,
    /// An index cache write is scheduled.
    cache_scheduled: Cell<bool>,
    /// An index cache write is running (saves wait for it).
    cache_writing: Cell<bool>,
    /// The index came from the stored cache at unlock (rather than being built).
    index_from_cache: bool,
    /// The record fingerprint of the stored index cache, when it is known to be usable.
    cache_describes: RefCell<Option<Vec<u8>>>,
}

/// How long after the last save the index cache is written (a burst of saves, as in an import,
/// writes it once).
const INDEX_CACHE_DELAY_MS: u32 = 1_000;

/// How many segments a save seals at once.
const SEAL_AHEAD: usize = 4;

/// A segment blob sealed in JavaScript, with its segment name, length and tag.
struct SealedJs {
    name: String,
    /// The generation it was sealed for (its storage key names it).
    seq: u64,
    /// The blob as stored: `[head, ciphertext || tag]` ([`idb::split_blob`]).
    value: wasm_bindgen::JsValue,
    len: u64,
    /// The AES-GCM tag (the blob's last 16 bytes), which the manifest records.
    tag: [u8; phr_vault::TAG_LEN],
}

/// Where one save's time went (ms), and its size.
#[derive(Default)]
struct SaveParts {
    encode_ms: f64,
    seal_ms: f64,
    header_ms: f64,
    persist_ms: f64,
    bytes: u64,
}

/// Time spent saving since the session opened (ms), by phase; the import publishes it for the
/// benchmark.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct SaveTimings {
    pub encode_ms: f64,
    pub encrypt_ms: f64,
    pub persist_ms: f64,
}

/// What a save did.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct SaveOutcome {
    pub segments_written: usize,
    pub bytes_written: u64,
    pub generation: u64,
}

impl Session {
    /// Opens a vault with a passphrase key derived elsewhere (tests derive it on the page).
    pub async fn unlock_with_passphrase_kek(
        db: &Db,
        id: &VaultId,
        kek: &Kek,
    ) -> Result<Session, VaultError> {
        let header_bytes = db
            .get(&phr_vault::header_key(id))
            .await?
            .ok_or(VaultError::VaultNotFound)?;
        let header = Header::parse(&header_bytes)?;
        let key = header.unlock_with_passphrase_kek(kek)?;
        Session::open_with_key(db, header, key, &|_| {}).await
    }

    /// Opens a vault by id with a key the shell verified (the record module's entry point).
    pub async fn open_by_id(
        db: &Db,
        id: &VaultId,
        key: VaultKey,
        opened_with_recovery_key: bool,
        progress: &dyn Fn(Progress),
    ) -> Result<Session, VaultError> {
        let header_bytes = db
            .get(&phr_vault::header_key(id))
            .await?
            .ok_or(VaultError::VaultNotFound)?;
        let header = Header::parse(&header_bytes)?;
        let session = Session::open_with_key(db, header, key, progress).await?;
        session
            .opened_with_recovery_key
            .set(opened_with_recovery_key);
        Ok(session)
    }

    /// Opens a vault whose key is already known (after unlock or creation).
    pub async fn open_with_key(
        db: &Db,
        header: Header,
        key: VaultKey,
        progress: &dyn Fn(Progress),
    ) -> Result<Session, VaultError> {
        let id = header.vault_id();
        let manifest = db.get(&phr_vault::manifest_key(&id)).await?;
        let vault = Vault::open(header, key, manifest.as_deref())?;
        vault.check_rollback(last_seen(&id))?;
        let webkey = webcrypto::import_aes_key(vault.vault_key().as_bytes())
            .await
            .map_err(|detail| VaultError::StorageUnavailable { detail })?;

        let names: Vec<String> = vault.segment_names().map(str::to_owned).collect();
        let keys: Vec<String> = names
            .iter()
            .map(|n| vault.segment_key(n))
            .collect::<Result<_, _>>()?;
        progress(Progress {
            step: "Reading your record",
            fraction: Some(0.0),
        });
        crate::perf::mark("phr-read-start");
        let blobs = db.get_many(&keys).await?;
        crate::perf::measure("phr-idb-read", "phr-read-start");
        crate::perf::mark("phr-decrypt-start");
        let total = names.len().max(1) as f64;
        let mut plaintexts: Vec<(String, Result<Vec<u8>, VaultError>)> =
            Vec::with_capacity(names.len());
        for (i, (name, blob)) in names.into_iter().zip(blobs).enumerate() {
            let result = open_segment(&vault, &webkey, &name, blob.as_deref()).await;
            plaintexts.push((name, result));
            if i % 8 == 7 {
                progress(Progress {
                    step: "Decrypting your record",
                    fraction: Some((i + 1) as f64 / total),
                });
            }
        }
        progress(Progress {
            step: "Preparing your record",
            fraction: Some(1.0),
        });
        crate::perf::measure("phr-decrypt", "phr-decrypt-start");
        let plaintext_bytes: usize = plaintexts
            .iter()
            .map(|(_, r)| r.as_ref().map(Vec::len).unwrap_or(0))
            .sum();
        crate::perf::stat("plaintextBytes", plaintext_bytes as f64);
        // The index cache is not part of the record; use it only if it describes exactly the
        // stored record.
        let fingerprint = record_fingerprint(&vault.manifest().segments);
        let cached_index = plaintexts
            .iter()
            .position(|(n, _)| n == INDEX_CACHE_SEGMENT)
            .map(|i| plaintexts.remove(i).1)
            .and_then(Result::ok)
            .and_then(|bytes| {
                let (describes, body) = decode_index_cache(&bytes)?;
                if describes != fingerprint.as_slice() {
                    return None;
                }
                crate::perf::timed("phr-index-cache-load", || {
                    phr_views::Index::from_bytes(body)
                })
                .ok()
            });
        let index_from_cache = cached_index.is_some();
        let (record, load_errors) =
            crate::perf::timed("phr-record-load", || Record::load_results(plaintexts));
        crate::perf::mark("phr-record-loaded");
        remember_seen(&id, vault.generation());
        Ok(Session {
            db: db.clone(),
            vault: RefCell::new(vault),
            key: webkey,
            record: RefCell::new(record),
            load_errors,
            opened_with_recovery_key: Cell::new(false),
            saving: Cell::new(false),
            save_again: Cell::new(false),
            record_revision: Cell::new(0),
            index: RefCell::new(cached_index.map(|i| (0, Rc::new(i)))),
            timings: Cell::new(SaveTimings::default()),
            index_from_cache,
            cache_describes: RefCell::new(index_from_cache.then_some(fingerprint)),
            me: RefCell::new(Weak::new()),
            cache_scheduled: Cell::new(false),
            cache_writing: Cell::new(false),
        })
    }

    /// The record, for reading. Never hold it across an `await`.
    pub fn record(&self) -> Ref<'_, Record> {
        self.record.borrow()
    }

    /// Whether the index was read from the stored cache at unlock.
    pub fn loaded_index_cache(&self) -> bool {
        self.index_from_cache
    }

    /// Shares the session; from then on each save that wrote something also schedules the
    /// index cache (see [`Session::write_index_cache`]).
    pub fn into_shared(self) -> Rc<Session> {
        let shared = Rc::new(self);
        *shared.me.borrow_mut() = Rc::downgrade(&shared);
        shared
    }

    /// The record, for changing (then call [`Session::save`]). Never hold it across an `await`.
    pub fn record_mut(&self) -> RefMut<'_, Record> {
        self.record_revision.set(self.record_revision.get() + 1);
        self.record.borrow_mut()
    }

    /// The views' index of the record as it is now: from the cache loaded at unlock, or built
    /// once per change of the record.
    pub fn index(&self) -> Rc<phr_views::Index> {
        let revision = self.record_revision.get();
        if let Some((r, index)) = &*self.index.borrow() {
            if *r == revision {
                return index.clone();
            }
        }
        let index = Rc::new(crate::perf::timed("phr-index-build", || {
            crate::record_util::build_index(&self.record.borrow())
        }));
        *self.index.borrow_mut() = Some((revision, index.clone()));
        index
    }

    pub fn vault_id(&self) -> VaultId {
        self.vault.borrow().vault_id()
    }

    pub fn name(&self) -> String {
        self.vault.borrow().name().to_owned()
    }

    pub fn generation(&self) -> u64 {
        self.vault.borrow().generation()
    }

    pub fn last_saved(&self) -> String {
        self.vault.borrow().manifest().saved.clone()
    }

    pub fn opened_with_recovery_key(&self) -> bool {
        self.opened_with_recovery_key.get()
    }

    /// Time spent saving so far.
    pub fn save_timings(&self) -> SaveTimings {
        self.timings.get()
    }

    /// Whether there are changes not yet saved.
    pub fn has_unsaved_changes(&self) -> bool {
        !self.record.borrow().pending_save().is_empty()
    }

    /// Saves what changed (and only that). On any error nothing is marked saved, the stored
    /// vault is unchanged, and the changes stay in memory so the save can be retried.
    ///
    /// Saves in one tab never overlap: a save requested while one runs is folded into a second
    /// round once the first finishes.
    pub async fn save(&self) -> Result<SaveOutcome, VaultError> {
        // An index cache write is short (one transaction); wait for it, so that this save runs
        // and its caller hears how it went.
        while self.cache_writing.get() {
            crate::platform::time::sleep(5).await;
        }
        if self.saving.get() {
            self.save_again.set(true);
            return Ok(SaveOutcome {
                generation: self.generation(),
                ..SaveOutcome::default()
            });
        }
        self.saving.set(true);
        let mut outcome = self.save_once().await;
        while outcome.is_ok() && self.save_again.replace(false) {
            outcome = self.save_once().await;
        }
        self.save_again.set(false);
        self.saving.set(false);
        if matches!(&outcome, Ok(o) if o.segments_written > 0) {
            self.schedule_index_cache();
        }
        outcome
    }

    /// Writes the index cache a moment after the last save, in its own transaction, so that a save
    /// only waits for the record itself. If the tab closes first, the next unlock builds the
    /// index from the record (slower, never wrong).
    fn schedule_index_cache(&self) {
        let me = self.me.borrow().clone();
        if me.strong_count() == 0 || self.cache_scheduled.replace(true) {
            return;
        }
        wasm_bindgen_futures::spawn_local(async move {
            crate::platform::time::sleep(INDEX_CACHE_DELAY_MS).await;
            let Some(session) = me.upgrade() else {
                return;
            };
            session.cache_scheduled.set(false);
            // A save that is running schedules the cache again when it ends. Failures only cost
            // speed at the next unlock, so they are not reported.
            let _ = session.write_index_cache().await;
        });
    }

    /// Whether the stored index cache describes the stored record.
    fn index_cache_current(&self) -> bool {
        let now = record_fingerprint(&self.vault.borrow().manifest().segments);
        self.cache_describes.borrow().as_deref() == Some(now.as_slice())
    }

    /// Stores the views' index of the saved record, encrypted like the record, so the next unlock
    /// need not rebuild it. Does nothing (Ok(false)) while a save runs, while there are unsaved
    /// changes (the index would describe a record that is not stored), or when the stored cache
    /// is current.
    pub async fn write_index_cache(&self) -> Result<bool, VaultError> {
        if self.saving.get()
            || self.cache_writing.get()
            || self.has_unsaved_changes()
            || self.index_cache_current()
        {
            return Ok(false);
        }
        self.cache_writing.set(true);
        let written = self.write_index_cache_once().await;
        self.cache_writing.set(false);
        written.map(|()| true)
    }

    async fn write_index_cache_once(&self) -> Result<(), VaultError> {
        crate::perf::mark("phr-index-cache-save-start");
        let index = self.index();
        let fingerprint = record_fingerprint(&self.vault.borrow().manifest().segments);
        let cache = encode_index_cache(&fingerprint, &index.to_bytes());
        drop(index);
        let sealed = self.seal(INDEX_CACHE_SEGMENT, cache)?.await?;
        let save = self
            .write_sealed(vec![sealed], &[], &mut SaveParts::default())
            .await?;
        let generation = save.generation();
        let cleanup = self.vault.borrow_mut().commit(save)?;
        self.start_cleanup(&cleanup);
        *self.cache_describes.borrow_mut() = Some(fingerprint);
        remember_seen(&self.vault_id(), generation);
        crate::perf::measure("phr-index-cache-save", "phr-index-cache-save-start");
        Ok(())
    }

    /// Deletes the blobs a committed save replaced, in a transaction of its own that a save does
    /// not wait for. The transaction is started before this returns, so a later save or read is
    /// ordered after it. If it fails (or the tab closes first) the blobs stay as orphans, which
    /// [`Session::collect_garbage`] removes at the next unlock.
    fn start_cleanup(&self, cleanup: &phr_vault::WritePlan) {
        if cleanup.ops.is_empty() {
            return;
        }
        crate::perf::mark("phr-save-cleanup-start");
        if let Ok(done) = self.db.begin_with_blobs(&[], cleanup) {
            wasm_bindgen_futures::spawn_local(async move {
                let _ = done.await;
                crate::perf::measure("phr-save-cleanup", "phr-save-cleanup-start");
            });
        }
    }

    /// Removes the blobs of this vault that its manifest does not reference (left by a cleanup
    /// that did not run), in the background. Blobs of a save another tab has in flight are never
    /// touched, and if another tab saves meanwhile nothing is removed (the precondition fails).
    pub fn collect_garbage(&self) {
        let me = self.me.borrow().clone();
        wasm_bindgen_futures::spawn_local(async move {
            let Some(db) = me.upgrade().map(|s| s.db.clone()) else {
                return;
            };
            let Ok(keys) = db.keys().await else {
                return;
            };
            let Some(plan) = me.upgrade().map(|s| s.vault.borrow().plan_gc(&keys)) else {
                return;
            };
            if !plan.ops.is_empty() {
                let _ = db.execute(&plan).await;
            }
        });
    }

    /// Starts encrypting one segment with WebCrypto under the vault's framing. The blob is built
    /// and kept in JavaScript (it is never copied back into wasm memory); the plaintext is dropped
    /// as soon as WebCrypto has taken its copy.
    fn seal(
        &self,
        name: &str,
        plaintext: Vec<u8>,
    ) -> Result<impl std::future::Future<Output = Result<SealedJs, VaultError>>, VaultError> {
        let (parts, seq) = {
            let vault = self.vault.borrow();
            (
                vault.seal_parts(name, &mut WebEntropy)?,
                vault.next_generation()?,
            )
        };
        let unavailable = |detail| VaultError::StorageUnavailable { detail };
        let sealing = webcrypto::aes_gcm_seal_js(&self.key, &parts.nonce, &parts.aad, &plaintext)
            .map_err(unavailable)?;
        drop(plaintext);
        let name = name.to_string();
        Ok(async move {
            let body = sealing.await.map_err(unavailable)?;
            let n = body.length();
            if n < phr_vault::TAG_LEN as u32 {
                return Err(unavailable("AES-GCM returned no tag".into()));
            }
            let mut tag = [0; phr_vault::TAG_LEN];
            body.subarray(n - phr_vault::TAG_LEN as u32, n)
                .copy_to(&mut tag);
            let head = parts.head();
            Ok(SealedJs {
                name,
                seq,
                len: (head.len() + n as usize) as u64,
                value: idb::split_blob(&js_sys::Uint8Array::from(&head[..]), &body),
                tag,
            })
        })
    }

    /// Writes segment blobs sealed by [`Session::seal`], the manifest that names them and the
    /// deletion of `deleted` in one transaction, and returns the executed plan for
    /// [`Vault::commit`].
    async fn write_sealed(
        &self,
        sealed: Vec<SealedJs>,
        deleted: &[&str],
        parts: &mut SaveParts,
    ) -> Result<phr_vault::SavePlan, VaultError> {
        let vault_id = self.vault_id();
        let mut blobs = Vec::with_capacity(sealed.len());
        let mut described = Vec::with_capacity(sealed.len());
        let mut blob_bytes = 0;
        for s in sealed {
            blob_bytes += s.len;
            described.push(phr_vault::DescribedSegment {
                len: s.len,
                tag: s.tag,
                name: s.name.clone(),
                seq: s.seq,
            });
            blobs.push((phr_vault::segment_key(&vault_id, &s.name, s.seq), s.value));
        }
        let started = perf_now();
        let save = self.vault.borrow().plan_save_described(
            described,
            deleted,
            &now_rfc3339(),
            &mut WebEntropy,
        )?;
        parts.header_ms = perf_now() - started;
        parts.bytes = blob_bytes + save.write.bytes_written();
        // No space check first: a full disk fails the transaction, which changes nothing, and the
        // space needed is worked out then.
        let started = perf_now();
        let executed = self.db.execute_with_blobs(&blobs, &save.write).await;
        parts.persist_ms = perf_now() - started;
        match executed {
            Ok(()) => Ok(save),
            Err(VaultError::QuotaExceeded { bytes_needed: None }) => {
                Err(VaultError::QuotaExceeded {
                    bytes_needed: space_needed(parts.bytes).await.or(Some(parts.bytes)),
                })
            }
            Err(e) => Err(e),
        }
    }

    async fn save_once(&self) -> Result<SaveOutcome, VaultError> {
        crate::perf::mark("phr-save-start");
        let plan = self.record.borrow().pending_save();
        if plan.is_empty() {
            return Ok(SaveOutcome {
                generation: self.generation(),
                ..SaveOutcome::default()
            });
        }
        // Segments are serialised one at a time and sealed a few at a time (WebCrypto works
        // beside the page), so at most SEAL_AHEAD plaintexts are alive at once.
        let mut parts = SaveParts::default();
        let sealing_started = perf_now();
        let mut sealed = Vec::with_capacity(plan.write.len());
        let mut in_flight = futures::stream::FuturesOrdered::new();
        for name in &plan.write {
            let started = perf_now();
            let plaintext = self.record.borrow().encode_segment(name).map_err(|e| {
                VaultError::InvalidInput {
                    what: "The record",
                    detail: record_error_detail(&e),
                }
            })?;
            parts.encode_ms += perf_now() - started;
            in_flight.push_back(self.seal(name, plaintext)?);
            if in_flight.len() >= SEAL_AHEAD {
                if let Some(done) = in_flight.next().await {
                    sealed.push(done?);
                }
            }
        }
        while let Some(done) = in_flight.next().await {
            sealed.push(done?);
        }
        parts.seal_ms = perf_now() - sealing_started - parts.encode_ms;
        let deleted: Vec<&str> = plan.delete.iter().map(String::as_str).collect();
        let written = self.write_sealed(sealed, &deleted, &mut parts).await;
        let mut t = self.timings.get();
        t.encode_ms += parts.encode_ms;
        t.encrypt_ms += parts.seal_ms;
        t.persist_ms += parts.persist_ms;
        self.timings.set(t);
        let save = written?;
        let generation = save.generation();
        let cleanup = self.vault.borrow_mut().commit(save)?;
        self.start_cleanup(&cleanup);
        self.record.borrow_mut().mark_saved(&plan);
        remember_seen(&self.vault_id(), generation);
        crate::perf::measure("phr-save", "phr-save-start");
        crate::perf::stat("lastSaveBytes", parts.bytes as f64);
        crate::perf::stat("lastSaveSegments", plan.write.len() as f64);
        // Where the last save's time went (the benchmark prints these next to the floor).
        for (key, ms) in [
            ("lastSaveEncodeMs", parts.encode_ms),
            ("lastSaveSealMs", parts.seal_ms),
            ("lastSaveHeaderMs", parts.header_ms),
            ("lastSavePersistMs", parts.persist_ms),
        ] {
            crate::perf::stat(key, ms);
        }
        Ok(SaveOutcome {
            segments_written: plan.write.len(),
            bytes_written: parts.bytes,
            generation,
        })
    }

    /// Sets a new passphrase: only the vault key's wrapping changes; the record is not re-encrypted.
    pub async fn change_passphrase(&self, new_passphrase: &str) -> Result<(), VaultError> {
        let name = self.name();
        let assessment = phr_vault::assess_passphrase_with(new_passphrase, &[name.as_str()]);
        if !assessment.acceptable {
            return Err(VaultError::WeakPassphrase {
                feedback: assessment.feedback,
            });
        }
        let mut entropy = WebEntropy;
        let params = KdfParams::DEFAULT;
        let salt = phr_vault::random_salt(&mut entropy);
        let kek = kdf::derive_kek(new_passphrase, &params, &salt).await?;
        let change =
            self.vault
                .borrow()
                .change_passphrase_with_kek(params, salt, &kek, &mut entropy)?;
        self.db.execute(&change.write).await?;
        self.vault.borrow_mut().commit_header(change)?;
        self.opened_with_recovery_key.set(false);
        Ok(())
    }

    /// Replaces the recovery key; returns the new one to show once.
    pub async fn new_recovery_key(&self) -> Result<RecoveryKey, VaultError> {
        let (rk, change) = self.vault.borrow().replace_recovery_key(&mut WebEntropy)?;
        self.db.execute(&change.write).await?;
        self.vault.borrow_mut().commit_header(change)?;
        Ok(rk)
    }

    /// Renames the vault (the name is not secret: it is shown before unlocking).
    pub async fn rename(&self, name: &str) -> Result<(), VaultError> {
        let change = self.vault.borrow().rename(name, &mut WebEntropy)?;
        self.db.execute(&change.write).await?;
        self.vault.borrow_mut().commit_header(change)
    }

    /// The encrypted backup file of the saved state (save first to include recent changes).
    pub async fn export_backup(&self) -> Result<Vec<u8>, VaultError> {
        let snapshot = self.db.snapshot(&self.vault_id()).await?;
        // The manifest pins each blob by length and tag, which the crate checks without
        // decrypting. Each blob is also decrypted here (WebCrypto, discarding the plaintext), so
        // damage inside a ciphertext is caught now, naming the segment, and a backup never
        // carries a blob that cannot be read.
        let to_open = {
            let vault = self.vault.borrow();
            let mut to_open = Vec::new();
            for name in vault.segment_names() {
                let Some(blob) = snapshot.get(&vault.segment_key(name)?)? else {
                    return Err(VaultError::SegmentMissing {
                        segment: name.to_owned(),
                    });
                };
                let parsed = vault.check_segment_blob(name, Some(&blob))?;
                let (nonce, aad) = (parsed.nonce, parsed.aad);
                let ciphertext_at = blob.len() - parsed.ciphertext.len();
                to_open.push((name.to_owned(), nonce, aad, blob, ciphertext_at));
            }
            to_open
        };
        for (name, nonce, aad, blob, at) in to_open {
            decrypt_segment(&self.key, &name, &nonce, &aad, &blob[at..]).await?;
        }
        self.vault.borrow().export_backup(&snapshot)
    }
}

/// Decrypts one stored segment with WebCrypto after checking it against the manifest.
async fn open_segment(
    vault: &Vault,
    key: &CryptoKey,
    name: &str,
    blob: Option<&[u8]>,
) -> Result<Vec<u8>, VaultError> {
    // Only a blob written by format version 1 is pinned by its SHA-256; a version 2 manifest
    // records the blob's tag, which needs no hashing.
    let digest = match blob {
        Some(b) if vault.needs_digest(name) => Some(
            webcrypto::sha256(b)
                .await
                .map_err(|detail| VaultError::StorageUnavailable { detail })?,
        ),
        _ => None,
    };
    let parsed = vault.check_segment_blob_with_digest(name, blob, digest.as_ref())?;
    decrypt_segment(key, name, &parsed.nonce, &parsed.aad, parsed.ciphertext).await
}

/// WebCrypto's AES-GCM decrypt of a checked segment blob's parts; a failed authentication is
/// [`VaultError::SegmentAuthFailed`] for `name`.
async fn decrypt_segment(
    key: &CryptoKey,
    name: &str,
    nonce: &[u8],
    aad: &[u8],
    ciphertext: &[u8],
) -> Result<Vec<u8>, VaultError> {
    webcrypto::aes_gcm_decrypt(key, nonce, aad, ciphertext)
        .await
        .map_err(|e| match e {
            None => VaultError::SegmentAuthFailed {
                segment: name.to_owned(),
            },
            Some(detail) => VaultError::StorageUnavailable { detail },
        })
}

/// How many more bytes a write of `bytes` needs than the browser says are free, if any.
async fn space_needed(bytes: u64) -> Option<u64> {
    let (usage, quota) = idb::storage_estimate().await?;
    let free = (quota - usage).max(0.0) as u64;
    (bytes > free).then(|| bytes - free)
}

fn record_error_detail(e: &phr_record::RecordError) -> &'static str {
    match e {
        phr_record::RecordError::DamagedSegment { .. } => {
            "a damaged part of the record cannot be overwritten"
        }
        _ => "it could not be prepared for saving",
    }
}

/// A vault that has been created in memory but not stored yet: the patient must first confirm
/// that they have kept the recovery key.
pub struct PendingVault {
    pub created: phr_vault::Created,
}

impl PendingVault {
    /// Derives the key (in the worker) and builds the vault in memory. Nothing is stored yet.
    pub async fn create(name: &str, passphrase: &str) -> Result<PendingVault, VaultError> {
        let assessment = phr_vault::assess_passphrase_with(passphrase, &[name]);
        if !assessment.acceptable {
            return Err(VaultError::WeakPassphrase {
                feedback: assessment.feedback,
            });
        }
        let mut entropy = WebEntropy;
        let params = KdfParams::DEFAULT;
        let salt = phr_vault::random_salt(&mut entropy);
        let kek = kdf::derive_kek(passphrase, &params, &salt).await?;
        PendingVault::create_with_kek(name, params, salt, &kek)
    }

    /// As [`PendingVault::create`] with a key derived elsewhere (tests derive it inline).
    pub fn create_with_kek(
        name: &str,
        params: KdfParams,
        salt: [u8; phr_vault::SALT_LEN],
        kek: &Kek,
    ) -> Result<PendingVault, VaultError> {
        let created = now_rfc3339();
        let options = phr_vault::CreateOptions {
            name,
            created: &created,
            kdf: params,
        };
        let created = phr_vault::create_vault_with_kek(&options, salt, kek, &mut WebEntropy)?;
        Ok(PendingVault { created })
    }

    /// The recovery key to show, grouped for reading.
    pub fn recovery_key_text(&self) -> String {
        self.created.recovery_key.display().to_string()
    }

    /// Whether `typed` is the recovery key (tolerant of case, spaces and dashes).
    pub fn confirms(&self, typed: &str) -> bool {
        RecoveryKey::parse(typed)
            .is_ok_and(|k| k.as_bytes() == self.created.recovery_key.as_bytes())
    }

    /// Stores the new vault. Refuses to write over any existing data.
    pub async fn store_key(self, db: &Db) -> Result<VerifiedKey, VaultError> {
        db.execute(&self.created.plan).await?;
        let _ = idb::request_persistence().await;
        let vault = self.created.vault;
        Ok(VerifiedKey {
            id: vault.vault_id(),
            key: VaultKey::from_bytes(*vault.vault_key().as_bytes()),
            opened_with_recovery_key: false,
        })
    }

    /// Stores the new vault and opens it (tests; the app hands the key to the record module).
    pub async fn store(self, db: &Db) -> Result<Session, VaultError> {
        let verified = self.store_key(db).await?;
        Session::open_by_id(db, &verified.id, verified.key, false, &|_| {}).await
    }
}

/// Reads a backup file's vault id, name and generation, and the stored vault it would replace.
pub struct BackupCandidate {
    pub backup: phr_vault::Backup,
    /// The generation of the vault with the same id in this browser, if there is one.
    pub existing_generation: Option<u64>,
}

impl BackupCandidate {
    pub async fn read(db: &Db, bytes: &[u8]) -> Result<BackupCandidate, VaultError> {
        let backup = phr_vault::Backup::parse(bytes)?;
        let id = backup.header().vault_id();
        let snapshot = db.snapshot(&id).await?;
        let existing_generation = phr_vault::stored_generation(&snapshot, &id)?;
        Ok(BackupCandidate {
            backup,
            existing_generation,
        })
    }

    /// Decrypts and checks every part of the backup (nothing is written yet).
    pub async fn unlock(
        &self,
        credential: &Credential,
    ) -> Result<phr_vault::UnlockedBackup, VaultError> {
        let key = vault_key(self.backup.header(), credential).await?;
        self.backup.unlock_with_key(key)
    }

    /// Writes the backup, as a new vault or over the existing one (which the patient agreed to).
    pub async fn restore_key(
        &self,
        db: &Db,
        unlocked: &phr_vault::UnlockedBackup,
    ) -> Result<VerifiedKey, VaultError> {
        let id = unlocked.vault_id();
        let snapshot = db.snapshot(&id).await?;
        let target = match self.existing_generation {
            None => phr_vault::RestoreTarget::New,
            Some(generation) => phr_vault::RestoreTarget::Replace { generation },
        };
        let existing: Vec<String> = snapshot.contents().keys().cloned().collect();
        let plan = unlocked.plan_restore(target, &existing, &mut WebEntropy)?;
        db.execute(&plan).await?;
        Ok(VerifiedKey {
            id,
            key: VaultKey::from_bytes(*unlocked_key(unlocked)),
            opened_with_recovery_key: false,
        })
    }
}

fn unlocked_key(unlocked: &phr_vault::UnlockedBackup) -> &[u8; 32] {
    unlocked.vault_key().as_bytes()
}

/// Segment plaintexts by name (for tests and diagnostics).
pub type Plaintexts = BTreeMap<String, Vec<u8>>;

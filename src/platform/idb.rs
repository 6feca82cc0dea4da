//! IndexedDB: where the vault's encrypted blobs live.
//!
//! One database (`phr`), one object store (`kv`) of byte strings keyed by the vault crate's keys
//! (`v/<vault id>/...`). A [`WritePlan`] from `phr-vault` runs in ONE readwrite transaction: its
//! precondition is checked inside the transaction, then its puts and deletes are applied, and the
//! browser commits all of it or nothing. So a tab closed mid-save leaves the previous state, and
//! two tabs can't silently overwrite each other (the second one's precondition fails).

use ::idb::{Database, Factory, ObjectStoreParams, TransactionMode, TransactionResult};
use js_sys::Uint8Array;
use phr_vault::{header_key, manifest_key, MemoryStore, Op, Store, VaultError, VaultId, WritePlan};
use wasm_bindgen::{JsCast, JsValue};

use super::{js_error_name, js_error_text};

pub const DB_NAME: &str = "phr";
pub const STORE: &str = "kv";
const DB_VERSION: u32 = 1;

/// An open connection to the app's database. Cloning shares the connection; dropping the last
/// clone closes it (so it never blocks another tab's upgrade or a deletion).
#[derive(Clone)]
pub struct Db {
    db: std::rc::Rc<Connection>,
}

struct Connection(Database);

impl std::ops::Deref for Connection {
    type Target = Database;
    fn deref(&self) -> &Database {
        &self.0
    }
}

impl Drop for Connection {
    fn drop(&mut self) {
        self.0.close();
    }
}

fn unavailable(detail: impl Into<String>) -> VaultError {
    VaultError::StorageUnavailable {
        detail: detail.into(),
    }
}

/// Maps an IndexedDB failure to the vault's error: a full disk is its own case.
fn map_idb_error(e: ::idb::Error, tx_error: Option<web_sys::DomException>) -> VaultError {
    let name = tx_error.as_ref().map(|d| d.name()).unwrap_or_default();
    let text = e.to_string();
    if name == "QuotaExceededError" || text.contains("QuotaExceededError") {
        return VaultError::QuotaExceeded { bytes_needed: None };
    }
    unavailable(if name.is_empty() { text } else { name })
}

/// A sealed blob stored in two parts, `[head, ciphertext || tag]` (a JS array of two
/// `Uint8Array`s): WebCrypto returns the ciphertext in a buffer of its own, and storing it beside
/// the head saves copying megabytes into one buffer. Read back, the parts are concatenated:
/// every reader sees the blob's bytes, `head || ciphertext || tag`.
pub fn split_blob(head: &Uint8Array, body: &Uint8Array) -> JsValue {
    js_sys::Array::of2(head, body).into()
}

fn to_bytes(v: &JsValue) -> Option<Vec<u8>> {
    if v.is_undefined() || v.is_null() {
        return None;
    }
    if let Some(a) = v.dyn_ref::<Uint8Array>() {
        return Some(a.to_vec());
    }
    if let Some(parts) = v.dyn_ref::<js_sys::Array>() {
        // A split blob: its parts in order. Anything else in an array is not a blob.
        let parts: Vec<Uint8Array> = parts
            .iter()
            .map(|p| p.dyn_into::<Uint8Array>().ok())
            .collect::<Option<_>>()?;
        let mut out = Vec::with_capacity(parts.iter().map(|p| p.length() as usize).sum());
        for p in parts {
            let at = out.len();
            out.resize(at + p.length() as usize, 0);
            p.copy_to(&mut out[at..]);
        }
        return Some(out);
    }
    if let Some(b) = v.dyn_ref::<js_sys::ArrayBuffer>() {
        return Some(Uint8Array::new(b).to_vec());
    }
    None
}

impl Db {
    /// Opens (and on first use creates) the database. Fails with `StorageUnavailable` when the
    /// browser forbids IndexedDB, e.g. in some private windows.
    pub async fn open() -> Result<Db, VaultError> {
        let factory = Factory::new().map_err(|e| unavailable(e.to_string()))?;
        let mut request = factory
            .open(DB_NAME, Some(DB_VERSION))
            .map_err(|e| unavailable(e.to_string()))?;
        request.on_upgrade_needed(|event| {
            if let Ok(db) = ::idb::event::DatabaseEvent::database(&event) {
                if !db.store_names().iter().any(|n| n == STORE) {
                    let _ = db.create_object_store(STORE, ObjectStoreParams::new());
                }
            }
        });
        let mut db = request.await.map_err(|e| unavailable(e.to_string()))?;
        // Another tab (or a test) wants to upgrade or delete the database: let it, rather than
        // block it. This tab's next storage call then reports storage as unavailable.
        db.on_version_change(|event| {
            if let Some(db) = event
                .target()
                .and_then(|t| t.dyn_into::<web_sys::IdbDatabase>().ok())
            {
                db.close();
            }
        });
        Ok(Db {
            db: std::rc::Rc::new(Connection(db)),
        })
    }

    /// A transaction on the app's one object store, and the store.
    fn store(
        &self,
        mode: TransactionMode,
    ) -> Result<(::idb::Transaction, ::idb::ObjectStore), VaultError> {
        let tx = self
            .db
            .transaction(&[STORE], mode)
            .map_err(|e| unavailable(e.to_string()))?;
        let store = tx
            .object_store(STORE)
            .map_err(|e| unavailable(e.to_string()))?;
        Ok((tx, store))
    }

    /// The value under `key`.
    pub async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, VaultError> {
        Ok(self.get_many(&[key.to_owned()]).await?.pop().flatten())
    }

    /// The values under `keys`, read in one transaction (a consistent snapshot).
    pub async fn get_many(&self, keys: &[String]) -> Result<Vec<Option<Vec<u8>>>, VaultError> {
        let (_tx, store) = self.store(TransactionMode::ReadOnly)?;
        let mut requests = Vec::with_capacity(keys.len());
        for key in keys {
            requests.push(
                store
                    .get(JsValue::from_str(key))
                    .map_err(|e| unavailable(e.to_string()))?,
            );
        }
        let mut out = Vec::with_capacity(keys.len());
        for request in requests {
            let value = request.await.map_err(|e| unavailable(e.to_string()))?;
            out.push(value.as_ref().and_then(to_bytes));
        }
        Ok(out)
    }

    /// Every key in the store.
    pub async fn keys(&self) -> Result<Vec<String>, VaultError> {
        let (_tx, store) = self.store(TransactionMode::ReadOnly)?;
        let keys = store
            .get_all_keys(None, None)
            .map_err(|e| unavailable(e.to_string()))?
            .await
            .map_err(|e| unavailable(e.to_string()))?;
        Ok(keys.iter().filter_map(JsValue::as_string).collect())
    }

    /// The ids of the vaults stored in this browser.
    pub async fn vault_ids(&self) -> Result<Vec<VaultId>, VaultError> {
        let keys = self.keys().await?;
        Ok(phr_vault::vault_ids(keys.iter().map(String::as_str)))
    }

    /// Runs a write plan atomically: precondition, then every operation, in one transaction.
    pub async fn execute(&self, plan: &WritePlan) -> Result<(), VaultError> {
        self.execute_with_blobs(&[], plan).await
    }

    /// Runs a save whose segment blobs were sealed in JavaScript (never copied into wasm
    /// memory): the precondition's reads, the puts of `blobs` (key, a `Uint8Array` or a
    /// [`split_blob`]), then the plan's own
    /// operations (the manifest that names the blobs), all in one transaction, as
    /// [`Db::execute`].
    pub async fn execute_with_blobs(
        &self,
        blobs: &[(String, JsValue)],
        plan: &WritePlan,
    ) -> Result<(), VaultError> {
        self.begin_with_blobs(blobs, plan)?.await
    }

    /// Starts [`Db::execute_with_blobs`] now: the transaction is created and every request is
    /// issued before this returns, so any transaction started later runs after this one. The
    /// returned future checks the precondition and commits; it must be polled (awaited or
    /// spawned) right away, before the reads complete, or the writes would commit unchecked.
    pub fn begin_with_blobs(
        &self,
        blobs: &[(String, JsValue)],
        plan: &WritePlan,
    ) -> Result<impl std::future::Future<Output = Result<(), VaultError>> + 'static, VaultError>
    {
        let (tx, store) = self.store(TransactionMode::ReadWrite)?;
        // The precondition's reads and then every write are issued at once, without waiting for
        // the reads: the browser runs a transaction's requests in order, so if the precondition
        // fails the transaction is aborted and none of the writes happen.
        let read = |key: String| {
            store
                .get(JsValue::from_str(&key))
                .map_err(|e| unavailable(e.to_string()))
        };
        let header = read(header_key(&plan.vault_id))?;
        let manifest = read(manifest_key(&plan.vault_id))?;
        for (key, blob) in blobs {
            if let Err(e) = store.put(blob, Some(&JsValue::from_str(key))) {
                let _ = tx.abort();
                return Err(map_idb_error(e, None));
            }
        }
        for op in &plan.ops {
            let issued = match op {
                Op::Put { key, value } => store
                    .put(
                        &Uint8Array::from(&value[..]).into(),
                        Some(&JsValue::from_str(key)),
                    )
                    .map(drop),
                Op::Delete { key } => store.delete(JsValue::from_str(key)).map(drop),
            };
            if let Err(e) = issued {
                let _ = tx.abort();
                return Err(map_idb_error(e, None));
            }
        }
        let tx_handle = store.transaction();
        let expect = plan.expect.clone();
        Ok(async move {
            // A write that fails (a full disk) aborts the transaction, and with it these reads:
            // report the transaction's own error.
            let value = |v: Result<Option<JsValue>, ::idb::Error>| match v {
                Ok(v) => Ok(v.as_ref().and_then(to_bytes)),
                Err(e) => Err(map_idb_error(e, tx_handle.error())),
            };
            let header = value(header.await)?;
            let manifest = value(manifest.await)?;
            if let Err(e) = expect.check(header.as_deref(), manifest.as_deref()) {
                let _ = tx.abort();
                return Err(e);
            }
            match tx.commit() {
                Ok(tx) => match tx.await {
                    Ok(TransactionResult::Committed) => Ok(()),
                    Ok(TransactionResult::Aborted) => Err(map_idb_error(
                        ::idb::Error::DomExceptionNotFound,
                        tx_handle.error(),
                    )),
                    Err(e) => Err(map_idb_error(e, tx_handle.error())),
                },
                Err(e) => Err(map_idb_error(e, tx_handle.error())),
            }
        })
    }

    /// A synchronous snapshot of one vault's keys and values, for operations of the pure crate that
    /// read a whole vault at once (backup export, restore checks).
    pub async fn snapshot(&self, vault: &VaultId) -> Result<MemoryStore, VaultError> {
        let prefix = phr_vault::vault_prefix(vault);
        let keys: Vec<String> = self
            .keys()
            .await?
            .into_iter()
            .filter(|k| k.starts_with(&prefix))
            .collect();
        let values = self.get_many(&keys).await?;
        let mut store = MemoryStore::new();
        for (key, value) in keys.into_iter().zip(values) {
            if let Some(v) = value {
                store.put(&key, &v).map_err(VaultError::from)?;
            }
        }
        Ok(store)
    }

    /// Deletes the whole database (used by tests and by "remove this vault" when it's the last).
    pub async fn delete_all() -> Result<(), VaultError> {
        let factory = Factory::new().map_err(|e| unavailable(e.to_string()))?;
        factory
            .delete(DB_NAME)
            .map_err(|e| unavailable(e.to_string()))?
            .await
            .map_err(|e| unavailable(e.to_string()))
    }

    pub fn close(&self) {
        self.db.close();
    }
}

/// Space the browser reports as used and available for this site, in bytes.
pub async fn storage_estimate() -> Option<(f64, f64)> {
    let promise = web_sys::window()?.navigator().storage().estimate().ok()?;
    let estimate = wasm_bindgen_futures::JsFuture::from(promise).await.ok()?;
    let get = |k: &str| {
        js_sys::Reflect::get(&estimate, &JsValue::from_str(k))
            .ok()
            .and_then(|v| v.as_f64())
    };
    Some((get("usage")?, get("quota")?))
}

/// Asks the browser to keep this site's storage when space runs low (best effort).
pub async fn request_persistence() -> bool {
    let Some(window) = web_sys::window() else {
        return false;
    };
    let Ok(promise) = window.navigator().storage().persist() else {
        return false;
    };
    wasm_bindgen_futures::JsFuture::from(promise)
        .await
        .ok()
        .and_then(|v| v.as_bool())
        .unwrap_or(false)
}

/// Describes a browser error value (exposed for the storage-unavailable message).
pub fn describe(e: &JsValue) -> String {
    let name = js_error_name(e);
    if name.is_empty() {
        js_error_text(e)
    } else {
        name
    }
}

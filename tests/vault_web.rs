//! The vault's browser half, in headless Chromium: WebCrypto interop with the RustCrypto reference,
//! IndexedDB plans (atomic, two tabs), per-segment damage, wrong keys.
#![cfg(target_arch = "wasm32")]

use phr_app::platform::idb::Db;
use phr_app::platform::webcrypto;
use phr_app::session::{PendingVault, Session};
use phr_fhir::Resource;
use phr_record::{Source, SourceId};
use phr_vault::{derive_kek, KdfParams, SealParts, VaultError, VaultId, VaultKey};
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

const PASS: &str = "correct horse battery staple orbit";

/// A fresh database and a stored vault, opened. The KDF runs inline at the minimum parameters.
async fn new_vault(name: &str) -> (Db, Session) {
    let _ = Db::delete_all().await;
    let db = Db::open().await.expect("IndexedDB opens");
    let params = KdfParams::MINIMUM;
    let salt = [7u8; 16];
    let kek = derive_kek(PASS, &params, &salt).unwrap();
    let pending = PendingVault::create_with_kek(name, params, salt, &kek).unwrap();
    let session = pending.store(&db).await.expect("vault stored");
    (db, session)
}

fn obs(id: &str, value: &str) -> Resource {
    Resource::from_json(format!(
        r#"{{"resourceType":"Observation","id":"{id}","status":"final","code":{{"text":"Glucose"}},"valueQuantity":{{"value":{value},"unit":"mmol/L"}}}}"#
    ))
    .unwrap()
}

fn add_resources(session: &Session, ids: &[&str]) {
    let mut record = session.record_mut();
    let source = SourceId::ehr("demo-general").unwrap();
    if record.source(&source).is_none() {
        record
            .add_source(
                Source::ehr(
                    "demo-general",
                    "Demo General Hospital",
                    "https://ehr.example/fhir",
                    false,
                    "2026-11-21T10:00:00Z",
                )
                .unwrap(),
            )
            .unwrap();
    }
    let items: Vec<_> = ids
        .iter()
        .map(|id| {
            (
                obs(id, "1.50"),
                format!("https://ehr.example/fhir/Observation/{id}"),
            )
        })
        .collect();
    record
        .apply_import(&source, items, "2026-11-21T10:00:00Z")
        .unwrap();
}

fn kek_for(pass: &str) -> phr_vault::Kek {
    derive_kek(pass, &KdfParams::MINIMUM, &[7u8; 16]).unwrap()
}

#[wasm_bindgen_test]
async fn webcrypto_and_rustcrypto_produce_identical_blobs() {
    let key = VaultKey::from_bytes([42u8; 32]);
    let id = VaultId::from_bytes([9u8; 16]);
    let nonce = [3u8; 12];
    let plaintext = br#"{"resourceType":"Observation","valueQuantity":{"value":1.50}}"#;
    let parts = SealParts::new(&id, "res.1.0", 5, nonce).unwrap();

    // Reference: RustCrypto through the vault crate, with the same nonce.
    struct Fixed([u8; 12]);
    impl phr_vault::Entropy for Fixed {
        fn fill(&mut self, buf: &mut [u8]) {
            buf.copy_from_slice(&self.0[..buf.len()]);
        }
    }
    let reference =
        phr_vault::seal_segment(&key, &id, "res.1.0", 5, plaintext, &mut Fixed(nonce)).unwrap();

    let webkey = webcrypto::import_aes_key(key.as_bytes()).await.unwrap();
    let ct = webcrypto::aes_gcm_encrypt(&webkey, &parts.nonce, &parts.aad, plaintext)
        .await
        .unwrap();
    assert_eq!(parts.assemble(&ct), reference, "byte-identical blobs");

    // And each side opens the other's output.
    let parsed = phr_vault::parse_blob(&reference, &id, "res.1.0", 5).unwrap();
    let opened = webcrypto::aes_gcm_decrypt(&webkey, &parsed.nonce, &parsed.aad, parsed.ciphertext)
        .await
        .unwrap();
    assert_eq!(opened, plaintext);
    assert_eq!(
        phr_vault::open_segment(&key, &parts.assemble(&ct), &id, "res.1.0", 5).unwrap(),
        plaintext
    );
    // A flipped ciphertext bit fails authentication in WebCrypto too.
    let mut tampered = parsed.ciphertext.to_vec();
    tampered[0] ^= 1;
    assert_eq!(
        webcrypto::aes_gcm_decrypt(&webkey, &parsed.nonce, &parsed.aad, &tampered).await,
        Err(None)
    );
    // WebCrypto's SHA-256 equals the reference.
    use sha2::Digest;
    let digest: [u8; 32] = sha2::Sha256::digest(&reference).into();
    assert_eq!(webcrypto::sha256(&reference).await.unwrap(), digest);
}

#[wasm_bindgen_test]
async fn saves_only_what_changed_and_reopens_byte_exact() {
    let (db, session) = new_vault("Round trip").await;
    add_resources(&session, &["a", "b", "c"]);
    let first = session.save().await.unwrap();
    assert!(first.segments_written >= 1);
    assert!(!session.has_unsaved_changes());
    let nothing = session.save().await.unwrap();
    assert_eq!(
        nothing.segments_written, 0,
        "a save with no change writes nothing"
    );

    let id = session.vault_id();
    let generation = session.generation();
    drop(session);
    let reopened = Session::unlock_with_passphrase_kek(&db, &id, &kek_for(PASS))
        .await
        .unwrap();
    assert_eq!(reopened.generation(), generation);
    assert!(reopened.load_errors.is_empty());
    let record = reopened.record();
    assert_eq!(record.len(), 3);
    let raw: Vec<String> = record
        .entries()
        .map(|(_, _, e)| e.resource().raw().to_string())
        .collect();
    assert!(
        raw.contains(&obs("b", "1.50").raw().to_string()),
        "original bytes kept"
    );
}

#[wasm_bindgen_test]
async fn wrong_passphrase_is_refused_and_changes_nothing() {
    let (db, session) = new_vault("Wrong key").await;
    add_resources(&session, &["a"]);
    session.save().await.unwrap();
    let id = session.vault_id();
    let keys_before = db.keys().await.unwrap();
    let result =
        Session::unlock_with_passphrase_kek(&db, &id, &kek_for("not the passphrase")).await;
    assert!(matches!(result, Err(VaultError::WrongSecret)));
    assert_eq!(db.keys().await.unwrap(), keys_before);
}

#[wasm_bindgen_test]
async fn a_second_tab_cannot_overwrite_the_first() {
    let (db, tab_a) = new_vault("Two tabs").await;
    add_resources(&tab_a, &["a"]);
    tab_a.save().await.unwrap();
    let id = tab_a.vault_id();
    // Tab B opens the same vault through its own connection.
    let db_b = Db::open().await.unwrap();
    let tab_b = Session::unlock_with_passphrase_kek(&db_b, &id, &kek_for(PASS))
        .await
        .unwrap();
    add_resources(&tab_a, &["from-a"]);
    tab_a.save().await.unwrap();
    add_resources(&tab_b, &["from-b"]);
    let keys_before_b = db.keys().await.unwrap();
    let result = tab_b.save().await;
    // Tab B's blobs were written under the same keys as tab A's newest ones, in the transaction
    // its failed precondition aborted: every one of them is rolled back.
    assert_eq!(db.keys().await.unwrap(), keys_before_b);
    assert!(matches!(result, Err(VaultError::Conflict)), "{result:?}");
    assert!(result.unwrap_err().to_string().contains("another tab"));
    assert!(
        tab_b.has_unsaved_changes(),
        "tab B keeps its change in memory"
    );

    let reopened = Session::unlock_with_passphrase_kek(&db, &id, &kek_for(PASS))
        .await
        .unwrap();
    let ids: Vec<String> = reopened
        .record()
        .entries()
        .filter_map(|(_, _, e)| e.resource().id().map(str::to_owned))
        .collect();
    assert!(ids.contains(&"from-a".to_string()));
    assert!(!ids.contains(&"from-b".to_string()));
}

#[wasm_bindgen_test]
async fn a_damaged_segment_is_named_and_the_rest_stays_readable() {
    let (db, session) = new_vault("Damage").await;
    add_resources(&session, &["a", "b"]);
    session
        .record_mut()
        .set_settings(phr_record::Settings::default())
        .unwrap();
    session.save().await.unwrap();
    let id = session.vault_id();
    let prefix = phr_vault::vault_prefix(&id);
    let resource_key = db
        .keys()
        .await
        .unwrap()
        .into_iter()
        .find(|k| k.starts_with(&prefix) && k.contains("res."))
        .expect("a resource segment is stored");
    let mut blob = db.get(&resource_key).await.unwrap().unwrap();
    let last = blob.len() - 1;
    blob[last] ^= 0x01;
    let plan = phr_vault::WritePlan {
        vault_id: id,
        expect: phr_vault::Expect::Generation(session.generation()),
        ops: vec![phr_vault::Op::Put {
            key: resource_key.clone(),
            value: blob,
        }],
    };
    db.execute(&plan).await.unwrap();
    drop(session);

    let reopened = Session::unlock_with_passphrase_kek(&db, &id, &kek_for(PASS))
        .await
        .unwrap();
    assert_eq!(reopened.load_errors.len(), 1);
    let damaged = &reopened.load_errors[0];
    assert!(
        resource_key.contains(&damaged.name),
        "{} in {}",
        damaged.name,
        resource_key
    );
    assert_eq!(
        reopened.record().len(),
        0,
        "the damaged chunk's items are missing"
    );
    assert!(
        reopened
            .record()
            .damaged_segments()
            .any(|n| n == damaged.name),
        "and protected from being overwritten"
    );
}

#[wasm_bindgen_test]
async fn the_index_cache_is_written_after_the_save_and_used_at_the_next_unlock() {
    let (db, session) = new_vault("Index cache").await;
    let session = session.into_shared();
    add_resources(&session, &["a", "b"]);
    session.save().await.unwrap();
    let id = session.vault_id();
    let saved = session.generation();
    let early = Session::unlock_with_passphrase_kek(&db, &id, &kek_for(PASS))
        .await
        .unwrap();
    assert!(
        !early.loaded_index_cache(),
        "the save does not wait for the index cache"
    );
    drop(early);

    phr_app::platform::time::sleep(1_500).await;
    assert!(
        session.generation() > saved,
        "a moment later the cache is stored, in its own transaction"
    );
    let reopened = Session::unlock_with_passphrase_kek(&db, &id, &kek_for(PASS))
        .await
        .unwrap();
    assert!(reopened.loaded_index_cache());
    assert_eq!(reopened.index().to_bytes(), session.index().to_bytes());
    drop(reopened);

    add_resources(&session, &["c"]);
    assert!(
        !session.write_index_cache().await.unwrap(),
        "never while changes are unsaved: it would describe a record that is not stored"
    );
    session.save().await.unwrap();
    // A save asked for while the cache is being written waits for it, then runs and reports.
    let (cached, saved) = futures::join!(session.write_index_cache(), async {
        add_resources(&session, &["d"]);
        session.save().await
    });
    assert!(cached.unwrap());
    assert_eq!(saved.unwrap().segments_written, 1, "the save really ran");
    assert!(!session.has_unsaved_changes());
    assert!(session.write_index_cache().await.unwrap());
    assert!(
        !session.write_index_cache().await.unwrap(),
        "nothing to write when the stored cache is current"
    );
    let reopened = Session::unlock_with_passphrase_kek(&db, &id, &kek_for(PASS))
        .await
        .unwrap();
    assert!(reopened.loaded_index_cache());
    assert_eq!(reopened.record().len(), 4);
    assert_eq!(reopened.index().to_bytes(), session.index().to_bytes());
    drop(reopened);

    // A save after the cache was written makes it stale: the next unlock builds the index.
    add_resources(&session, &["e"]);
    session.save().await.unwrap();
    let reopened = Session::unlock_with_passphrase_kek(&db, &id, &kek_for(PASS))
        .await
        .unwrap();
    assert!(!reopened.loaded_index_cache(), "a stale cache is not used");
    assert_eq!(reopened.record().len(), 5);
}

/// Blobs sealed in JavaScript are put in the same transaction as the plan: a failed precondition
/// rolls them back with it, and a plan that holds writes them all.
#[wasm_bindgen_test]
async fn blobs_held_in_javascript_are_written_with_their_plan_or_not_at_all() {
    let _ = Db::delete_all().await;
    let db = Db::open().await.unwrap();
    let id = VaultId::from_bytes([3; 16]);
    let blob = |n: u8, len: usize| js_sys::Uint8Array::from(&vec![n; len][..]);
    // One whole blob, and one stored in two parts as a save stores them (head, ciphertext).
    let blobs = vec![
        ("blob/a".to_string(), blob(1, 100_000).into()),
        (
            "blob/b".to_string(),
            phr_app::platform::idb::split_blob(&blob(3, 40), &blob(2, 100_000)),
        ),
    ];
    let plan = |expect| phr_vault::WritePlan {
        vault_id: id,
        expect,
        ops: vec![phr_vault::Op::Put {
            key: phr_vault::manifest_key(&id),
            value: b"manifest".to_vec(),
        }],
    };
    // The plan expects a generation, and there is no vault: nothing is written.
    let refused = db
        .execute_with_blobs(&blobs, &plan(phr_vault::Expect::Generation(4)))
        .await;
    assert!(matches!(refused, Err(VaultError::Conflict)), "{refused:?}");
    assert!(db.keys().await.unwrap().is_empty());
    db.execute_with_blobs(&blobs, &plan(phr_vault::Expect::NoVault))
        .await
        .unwrap();
    assert_eq!(db.get("blob/a").await.unwrap(), Some(vec![1; 100_000]));
    let mut b = vec![3; 40];
    b.extend_from_slice(&[2; 100_000]);
    assert_eq!(
        db.get("blob/b").await.unwrap(),
        Some(b),
        "the parts, concatenated"
    );
    assert_eq!(
        db.get(&phr_vault::manifest_key(&id)).await.unwrap(),
        Some(b"manifest".to_vec())
    );
    // An array holding anything but bytes is not a blob: it reads as absent (the vault then
    // names the segment as missing), never as partial bytes.
    let odd: wasm_bindgen::JsValue = js_sys::Array::of2(&blob(1, 4), &"text".into()).into();
    let nothing_else = phr_vault::WritePlan {
        vault_id: id,
        expect: phr_vault::Expect::Generation(0),
        ops: Vec::new(),
    };
    db.execute_with_blobs(&[("blob/odd".to_string(), odd)], &nothing_else)
        .await
        .unwrap();
    assert!(db.keys().await.unwrap().contains(&"blob/odd".to_string()));
    assert_eq!(db.get("blob/odd").await.unwrap(), None);
}

#[wasm_bindgen_test]
async fn replaced_blobs_are_deleted_after_a_save_and_orphans_at_unlock() {
    let (db, session) = new_vault("Cleanup").await;
    let session = session.into_shared();
    add_resources(&session, &["a"]);
    session.save().await.unwrap();
    add_resources(&session, &["b"]);
    session.save().await.unwrap();
    let id = session.vault_id();
    let prefix = format!("{}seg/", phr_vault::vault_prefix(&id));
    let seg_keys = |keys: Vec<String>| -> Vec<String> {
        keys.into_iter()
            .filter(|k| k.starts_with(&prefix))
            .collect()
    };
    // The second save's cleanup was started before save() returned, so this read runs after it:
    // each segment has exactly one stored blob (the replaced ones are gone).
    let stored = seg_keys(db.keys().await.unwrap());
    let names: std::collections::BTreeSet<&str> = stored
        .iter()
        .map(|k| k[prefix.len()..].rsplit_once('/').unwrap().0)
        .collect();
    assert!(!stored.is_empty());
    assert_eq!(
        names.len(),
        stored.len(),
        "one blob per segment: {stored:?}"
    );

    // A blob no manifest names, as a cleanup that never ran (a closed tab) leaves behind ...
    let orphan = phr_vault::segment_key(&id, "res.orphan", 1);
    db.execute(&phr_vault::WritePlan {
        vault_id: id,
        expect: phr_vault::Expect::Generation(session.generation()),
        ops: vec![phr_vault::Op::Put {
            key: orphan.clone(),
            value: vec![1, 2, 3],
        }],
    })
    .await
    .unwrap();
    assert!(db.keys().await.unwrap().contains(&orphan));
    // ... is removed by the garbage collection an unlock starts, and nothing else is.
    session.collect_garbage();
    let mut removed = false;
    for _ in 0..100 {
        if !db.keys().await.unwrap().contains(&orphan) {
            removed = true;
            break;
        }
        phr_app::platform::time::sleep(20).await;
    }
    assert!(removed, "the orphan was collected");
    let after = db.keys().await.unwrap();
    assert!(
        stored.iter().all(|k| after.contains(k)),
        "every referenced blob is kept"
    );
}

/// A save stores each blob as [head, ciphertext]; the manifest pins it by length and tag. Damage
/// inside a ciphertext leaves the tag as it was, so the backup export decrypts every blob before
/// it offers a file: the damaged segment is named and no file is made.
#[wasm_bindgen_test]
async fn a_backup_is_refused_when_a_ciphertext_is_damaged_naming_the_segment() {
    let (db, session) = new_vault("Backup damage").await;
    add_resources(&session, &["a", "b"]);
    session.save().await.unwrap();
    assert!(session.export_backup().await.is_ok());
    let id = session.vault_id();
    let prefix = format!("{}seg/res.", phr_vault::vault_prefix(&id));
    let key = db
        .keys()
        .await
        .unwrap()
        .into_iter()
        .find(|k| k.starts_with(&prefix))
        .expect("a record segment");
    let name = key[format!("{}seg/", phr_vault::vault_prefix(&id)).len()..]
        .rsplit_once('/')
        .unwrap()
        .0
        .to_string();
    let mut blob = db.get(&key).await.unwrap().unwrap();
    let middle = blob.len() - 40;
    blob[middle] ^= 1;
    db.execute(&phr_vault::WritePlan {
        vault_id: id,
        expect: phr_vault::Expect::Generation(session.generation()),
        ops: vec![phr_vault::Op::Put { key, value: blob }],
    })
    .await
    .unwrap();
    assert_eq!(
        session.export_backup().await.unwrap_err(),
        VaultError::SegmentAuthFailed { segment: name }
    );
}

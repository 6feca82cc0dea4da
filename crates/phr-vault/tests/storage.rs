//! Crash safety, quota, two tabs, garbage collection, backups and restores, with the
//! fault-injecting MemoryStore (which is *not* transactional: operations before a failure stay).

mod common;

use std::collections::BTreeMap;

use common::*;
use phr_vault::{
    execute, header_key, manifest_key, stored_generation, vault_prefix, Backup, MemoryStore, Op,
    RestoreTarget, Secret, Store, StoreError, Vault, VaultError,
};

type Record = BTreeMap<String, Vec<u8>>;

fn rec(items: &[(&str, &[u8])]) -> Record {
    items
        .iter()
        .map(|(k, v)| ((*k).to_owned(), v.to_vec()))
        .collect()
}

/// A vault at generation 2 holding `a`, `b`, `c`.
fn base(seed: u64) -> (phr_vault::Created, MemoryStore, TestEntropy, Record) {
    let (created, mut store, mut e) = fast_vault(seed);
    let mut vault = reopen(&store, &created);
    let items: [(&str, &[u8]); 3] = [("a", b"alpha"), ("b", b"bravo"), ("c", b"charlie")];
    vault.save(&mut store, &items, &[], SAVED, &mut e).unwrap();
    (created, store, e, rec(&items))
}

#[test]
fn a_failure_at_any_step_of_a_save_leaves_the_old_or_the_new_state() {
    let (created, store0, _, old) = base(1);
    let changed: [(&str, &[u8]); 2] = [("a", b"ALPHA"), ("d", b"delta")];
    let deleted = ["c"];
    let new = rec(&[("a", b"ALPHA"), ("b", b"bravo"), ("d", b"delta")]);

    let probe = reopen(&store0, &created)
        .plan_save(&changed, &deleted, SAVED, &mut TestEntropy::new(50))
        .unwrap();
    let writes = probe.write.ops.len();
    let ops = writes + probe.cleanup.ops.len();
    let manifest_at = probe
        .write
        .ops
        .iter()
        .position(|op| matches!(op, Op::Put { key, .. } if key.ends_with("/manifest")))
        .unwrap();
    // Order: both new blobs, then the manifest; then, as the cleanup, the two deletes.
    assert_eq!((writes, ops, manifest_at), (3, 5, 2));
    assert!(probe
        .cleanup
        .ops
        .iter()
        .all(|op| matches!(op, Op::Delete { .. })));

    for fault in [
        StoreError::Unavailable("tab closed".into()),
        StoreError::QuotaExceeded {
            bytes_needed: Some(1234),
        },
    ] {
        for k in 0..=ops {
            let mut store = store0.clone();
            let mut vault = reopen(&store, &created);
            store.fail_at(k, fault.clone());
            let result = vault.save(
                &mut store,
                &changed,
                &deleted,
                SAVED,
                &mut TestEntropy::new(50),
            );
            let after = reopen(&store, &created);
            let state = record(&after, &store);
            if k < writes {
                assert_eq!(
                    result.unwrap_err(),
                    VaultError::from(fault.clone()),
                    "k={k}"
                );
                // The in-memory vault did not move on: retrying is possible.
                assert_eq!(vault.generation(), 2);
            } else {
                // A failure in the cleanup does not fail the save: it is stored.
                result.unwrap();
                assert_eq!(vault.generation(), 3, "k={k}");
            }
            if k <= manifest_at {
                assert_eq!(state, old, "k={k}: expected the old state");
                assert_eq!(after.generation(), 2);
                // Retrying the same save from the unchanged vault completes it.
                vault
                    .save(
                        &mut store,
                        &changed,
                        &deleted,
                        SAVED,
                        &mut TestEntropy::new(51),
                    )
                    .unwrap();
                assert_eq!(record(&reopen(&store, &created), &store), new, "k={k}");
            } else {
                assert_eq!(state, new, "k={k}: expected the new state");
                assert_eq!(after.generation(), 3);
            }
            // Leftovers of the failed attempt are garbage-collectable and nothing else is.
            let vault = reopen(&store, &created);
            let keys = store
                .keys_with_prefix(&vault_prefix(&vault.vault_id()))
                .unwrap();
            execute(&mut store, &vault.plan_gc(&keys)).unwrap();
            let referenced = vault.segment_names().count() + 2;
            assert_eq!(
                store
                    .keys_with_prefix(&vault_prefix(&vault.vault_id()))
                    .unwrap()
                    .len(),
                referenced,
                "k={k}"
            );
            assert_eq!(
                record(&vault, &store),
                record(&reopen(&store, &created), &store)
            );
        }
    }
}

#[test]
fn a_full_store_reports_the_missing_bytes_and_keeps_the_old_save() {
    let (created, mut store, mut e, old) = base(2);
    store.set_quota(Some(store.used_bytes() + 100));
    let mut vault = reopen(&store, &created);
    let big = vec![7u8; 10_000];
    let err = vault
        .save(&mut store, &[("b", big.as_slice())], &[], SAVED, &mut e)
        .unwrap_err();
    match err {
        VaultError::QuotaExceeded {
            bytes_needed: Some(n),
        } => assert!(n > 9_000, "{n}"),
        other => panic!("{other:?}"),
    }
    assert!(err.to_string().contains("previous save is intact"));
    assert_eq!(record(&reopen(&store, &created), &store), old);
    // The in-memory vault still holds the old generation; a smaller save goes through.
    vault
        .save(&mut store, &[("b", b"B".as_slice())], &[], SAVED, &mut e)
        .unwrap();
    assert_eq!(record(&reopen(&store, &created), &store)["b"], b"B");
}

#[test]
fn a_save_from_a_stale_tab_is_a_conflict_and_writes_nothing() {
    let (created, mut store, mut e, _) = base(3);
    let mut tab_a = reopen(&store, &created);
    let mut tab_b = reopen(&store, &created);
    tab_a
        .save(
            &mut store,
            &[("a", b"from tab A".as_slice())],
            &[],
            SAVED,
            &mut e,
        )
        .unwrap();
    let before = store.contents().clone();
    let err = tab_b
        .save(
            &mut store,
            &[("b", b"from tab B".as_slice())],
            &[],
            SAVED,
            &mut e,
        )
        .unwrap_err();
    assert_eq!(err, VaultError::Conflict);
    assert!(err.to_string().contains("another tab"));
    assert_eq!(store.contents(), &before);
    // After reloading, tab B saves on top of tab A's change.
    let mut tab_b = reopen(&store, &created);
    tab_b
        .save(
            &mut store,
            &[("b", b"from tab B".as_slice())],
            &[],
            SAVED,
            &mut e,
        )
        .unwrap();
    let now = record(&reopen(&store, &created), &store);
    assert_eq!(now["a"], b"from tab A");
    assert_eq!(now["b"], b"from tab B");

    // A plan committed against the wrong generation is refused too.
    let plan = tab_a
        .plan_save(&[("c", b"x".as_slice())], &[], SAVED, &mut e)
        .unwrap();
    let mut other = reopen(&store, &created);
    other
        .save(&mut store, &[("c", b"y".as_slice())], &[], SAVED, &mut e)
        .unwrap();
    assert_eq!(other.commit(plan).unwrap_err(), VaultError::Conflict);
}

#[test]
fn header_changes_from_a_stale_tab_conflict() {
    let (created, mut store, mut e, _) = base(4);
    let mut tab_a = reopen(&store, &created);
    let tab_b = reopen(&store, &created);
    let change = tab_a.rename("Renamed in A", &mut e).unwrap();
    execute(&mut store, &change.write).unwrap();
    tab_a.commit_header(change).unwrap();
    let before = store.contents().clone();
    let change = tab_b
        .change_passphrase(
            "orange tractor violin moss",
            phr_vault::KdfParams::MINIMUM,
            &mut e,
        )
        .unwrap();
    assert_eq!(
        execute(&mut store, &change.write).unwrap_err(),
        VaultError::Conflict
    );
    assert_eq!(store.contents(), &before);
}

#[test]
fn creating_never_overwrites_an_existing_vault() {
    let (created, mut store, _, old) = base(5);
    let id = created.vault.vault_id();
    let before = store.contents().clone();
    // Re-running the creation plan (same id) is refused.
    assert_eq!(
        execute(&mut store, &created.plan).unwrap_err(),
        VaultError::VaultExists
    );
    // Even when the stored header is garbage or the manifest alone survived.
    store
        .contents_mut()
        .insert(header_key(&id), b"garbage".to_vec());
    assert_eq!(
        execute(&mut store, &created.plan).unwrap_err(),
        VaultError::VaultExists
    );
    store.contents_mut().remove(&header_key(&id));
    assert_eq!(
        execute(&mut store, &created.plan).unwrap_err(),
        VaultError::VaultExists
    );
    let mut restored = before.clone();
    std::mem::swap(store.contents_mut(), &mut restored);
    assert_eq!(record(&reopen(&store, &created), &store), old);
    // A corrupted header yields an error, not an empty vault.
    store.contents_mut().insert(header_key(&id), b"{}".to_vec());
    assert!(matches!(
        Vault::unlock(&store, &id, Secret::RecoveryKey(&created.recovery_key)),
        Err(VaultError::CorruptHeader { .. })
    ));
}

#[test]
fn a_failure_while_creating_leaves_no_half_vault() {
    let mut e = TestEntropy::new(6);
    let created = phr_vault::create_vault_with_kek(
        &options(),
        [1; 16],
        &phr_vault::Kek::from_bytes([6; 32]),
        &mut e,
    )
    .unwrap();
    let mut store = MemoryStore::new();
    store.fail_at(1, StoreError::Unavailable("crash".into()));
    assert!(execute(&mut store, &created.plan).is_err());
    // The manifest went first; without a header there is no vault to list or open.
    assert!(phr_vault::vault_ids(store.contents().keys().map(String::as_str)).is_empty());
    assert_eq!(
        Vault::unlock(
            &store,
            &created.vault.vault_id(),
            Secret::RecoveryKey(&created.recovery_key)
        )
        .unwrap_err(),
        VaultError::VaultNotFound
    );
}

#[test]
fn backup_restores_a_byte_identical_record_into_a_new_browser() {
    let (created, store, mut e, old) = base(7);
    let vault = reopen(&store, &created);
    let file = vault.export_backup(&store).unwrap();

    let mut fresh = MemoryStore::new();
    let backup = Backup::parse(&file).unwrap();
    assert_eq!(backup.header().name(), "Home record");
    assert_eq!(
        backup
            .unlock(Secret::Passphrase("wrong passphrase here"))
            .unwrap_err(),
        VaultError::WrongSecret
    );
    let unlocked = backup
        .unlock(Secret::RecoveryKey(&created.recovery_key))
        .unwrap();
    assert_eq!(unlocked.generation(), 2);
    assert_eq!(unlocked.saved(), SAVED);
    assert_eq!(unlocked.segments(), &old);
    assert_eq!(
        stored_generation(&fresh, &unlocked.vault_id()).unwrap(),
        None
    );
    let plan = unlocked
        .plan_restore(RestoreTarget::New, &[] as &[String], &mut e)
        .unwrap();
    execute(&mut fresh, &plan).unwrap();
    let restored = reopen(&fresh, &created);
    assert_eq!(record(&restored, &fresh), old);
    assert_eq!(restored.generation(), 3);
    // The header is the backup's, byte for byte.
    assert_eq!(
        fresh.contents()[&header_key(&restored.vault_id())],
        store.contents()[&header_key(&restored.vault_id())]
    );
    // Restoring "as new" where the vault exists is refused.
    assert_eq!(
        execute(&mut fresh, &plan).unwrap_err(),
        VaultError::VaultExists
    );
}

#[test]
fn restoring_over_a_vault_needs_the_generation_the_patient_agreed_to() {
    let (created, mut store, mut e, old) = base(8);
    let id = created.vault.vault_id();
    let file = reopen(&store, &created).export_backup(&store).unwrap();
    // The vault moves on after the backup.
    let mut vault = reopen(&store, &created);
    vault
        .save(
            &mut store,
            &[("a", b"newer".as_slice())],
            &["b"],
            SAVED,
            &mut e,
        )
        .unwrap();
    vault
        .save(&mut store, &[("e", b"echo".as_slice())], &[], SAVED, &mut e)
        .unwrap();
    let current = stored_generation(&store, &id).unwrap().unwrap();
    assert_eq!(current, 4);

    let unlocked = Backup::parse(&file)
        .unwrap()
        .unlock(Secret::RecoveryKey(&created.recovery_key))
        .unwrap();
    // "This backup is save 2 from <date>; your vault is save 4."
    assert_eq!(unlocked.generation(), 2);
    let keys = store.keys_with_prefix(&vault_prefix(&id)).unwrap();

    // Agreeing to replace an older generation than the stored one is a conflict.
    let stale = unlocked
        .plan_restore(RestoreTarget::Replace { generation: 3 }, &keys, &mut e)
        .unwrap();
    let before = store.contents().clone();
    assert_eq!(
        execute(&mut store, &stale).unwrap_err(),
        VaultError::Conflict
    );
    assert_eq!(store.contents(), &before);

    let plan = unlocked
        .plan_restore(RestoreTarget::Replace { generation: 4 }, &keys, &mut e)
        .unwrap();
    // At every crash point the vault shows the complete old or the complete restored record.
    let newer = record(&reopen(&store, &created), &store);
    let manifest_at = plan
        .ops
        .iter()
        .position(|op| matches!(op, Op::Put { key, .. } if *key == manifest_key(&id)))
        .unwrap();
    for k in 0..=plan.ops.len() {
        let mut s = store.clone();
        s.fail_at(k, StoreError::Unavailable("crash".into()));
        let result = execute(&mut s, &plan);
        assert_eq!(result.is_ok(), k == plan.ops.len());
        let state = record(&reopen(&s, &created), &s);
        if k <= manifest_at {
            assert_eq!(state, newer, "k={k}");
        } else {
            assert_eq!(state, old, "k={k}");
        }
    }
    execute(&mut store, &plan).unwrap();
    let restored = reopen(&store, &created);
    assert_eq!(record(&restored, &store), old);
    // The generation moved forward (5), so no tab's stale plan and no rollback check trips.
    assert_eq!(restored.generation(), 5);
    assert!(restored.check_rollback(Some(4)).is_ok());
    // Nothing but the restored vault's items is left.
    assert_eq!(
        store.keys_with_prefix(&vault_prefix(&id)).unwrap().len(),
        old.len() + 2
    );
}

#[test]
fn a_backup_with_a_damaged_segment_is_refused_before_anything_is_written() {
    let (created, store, _, _) = base(9);
    let vault = reopen(&store, &created);
    let file = vault.export_backup(&store).unwrap();
    // Rebuild a backup from tampered storage: export refuses already. It checks each blob
    // against the manifest without decrypting: prefix, length and tag (here a flipped tag bit;
    // a flip inside the ciphertext fails decryption, below and at unlock).
    let mut damaged = store.clone();
    let key = vault.segment_key("b").unwrap();
    *damaged
        .contents_mut()
        .get_mut(&key)
        .unwrap()
        .last_mut()
        .unwrap() ^= 0x10;
    assert_eq!(
        vault.export_backup(&damaged).unwrap_err(),
        VaultError::SegmentAuthFailed {
            segment: "b".into()
        }
    );
    // A backup whose segment was edited and whose checksum was recomputed (deliberate) fails
    // when unlocked, naming the segment.
    let mut edited = file[..file.len() - 32].to_vec();
    let pos = edited.windows(5).rposition(|w| w == b"PHRS\x02").unwrap() + 60;
    edited[pos] ^= 1;
    let sum = <sha2::Sha256 as sha2::Digest>::digest(&edited);
    edited.extend_from_slice(&sum);
    let backup = Backup::parse(&edited).unwrap();
    assert!(matches!(
        backup.unlock(Secret::RecoveryKey(&created.recovery_key)),
        Err(VaultError::SegmentAuthFailed { .. })
    ));
}

#[test]
fn unavailable_storage_is_reported() {
    let (created, mut store, mut e, _) = base(10);
    let mut vault = reopen(&store, &created);
    store.set_fail_reads(true);
    assert!(matches!(
        vault.save(&mut store, &[("a", b"x".as_slice())], &[], SAVED, &mut e),
        Err(VaultError::StorageUnavailable { .. })
    ));
    assert!(matches!(
        vault.read_all(&store)["a"],
        Err(VaultError::StorageUnavailable { .. })
    ));
    store.set_fail_reads(false);
    assert_eq!(vault.generation(), 2);
}

#[test]
fn save_rejects_bad_change_lists() {
    let (created, store, mut e, _) = base(11);
    let vault = reopen(&store, &created);
    type Changes<'a> = (&'a [(&'a str, &'a [u8])], &'a [&'a str]);
    let bad: [Changes; 5] = [
        (&[("manifest", b"x")], &[]),
        (&[("a", b"x"), ("a", b"y")], &[]),
        (&[("a", b"x")], &["a"]),
        (&[("Bad Name", b"x")], &[]),
        (&[], &["zzz"]),
    ];
    for (changed, deleted) in bad {
        assert!(
            vault.plan_save(changed, deleted, SAVED, &mut e).is_err(),
            "{changed:?} {deleted:?}"
        );
    }
    assert!(vault.plan_save(&[], &[], "yesterday", &mut e).is_err());
}

#[test]
fn a_vault_with_a_damaged_manifest_can_be_replaced_by_a_restore() {
    let (created, mut store, mut e, old) = base(12);
    let id = created.vault.vault_id();
    let file = reopen(&store, &created).export_backup(&store).unwrap();
    // The manifest is destroyed: the vault cannot be shown, and says so.
    store
        .contents_mut()
        .insert(manifest_key(&id), b"not a manifest".to_vec());
    assert!(matches!(
        Vault::unlock(&store, &id, Secret::RecoveryKey(&created.recovery_key)),
        Err(VaultError::ManifestCorrupt { .. })
    ));
    assert_eq!(stored_generation(&store, &id).unwrap(), Some(0));
    let unlocked = Backup::parse(&file)
        .unwrap()
        .unlock(Secret::RecoveryKey(&created.recovery_key))
        .unwrap();
    let keys = store.keys_with_prefix(&vault_prefix(&id)).unwrap();
    // Restoring "as new" is refused: something is there.
    let as_new = unlocked
        .plan_restore(RestoreTarget::New, &keys, &mut e)
        .unwrap();
    assert_eq!(
        execute(&mut store, &as_new).unwrap_err(),
        VaultError::VaultExists
    );
    let plan = unlocked
        .plan_restore(RestoreTarget::Replace { generation: 0 }, &keys, &mut e)
        .unwrap();
    execute(&mut store, &plan).unwrap();
    assert_eq!(record(&reopen(&store, &created), &store), old);
}

#[test]
fn garbage_collection_never_touches_another_tabs_save_in_flight() {
    let (created, mut store, mut e, _) = base(13);
    let id = created.vault.vault_id();
    let tab_a = reopen(&store, &created);
    let mut tab_b = reopen(&store, &created);
    let plan = tab_b
        .plan_save(&[("a", b"from B".as_slice())], &[], SAVED, &mut e)
        .unwrap();
    // Tab B has written its new blob but not yet its manifest...
    let Op::Put { key, value } = &plan.write.ops[0] else {
        panic!("a save starts with its blobs");
    };
    store.put(key, value).unwrap();
    // ... when tab A collects garbage.
    let keys = store.keys_with_prefix(&vault_prefix(&id)).unwrap();
    let gc = tab_a.plan_gc(&keys);
    assert!(gc.ops.is_empty(), "{:?}", gc.ops);
    // Tab B finishes; its save is complete.
    for op in &plan.write.ops[1..] {
        match op {
            Op::Put { key, value } => store.put(key, value).unwrap(),
            Op::Delete { key } => store.delete(key).unwrap(),
        }
    }
    tab_b.commit(plan).unwrap();
    assert_eq!(record(&reopen(&store, &created), &store)["a"], b"from B");
    // Tab A's stale GC plan is now a conflict.
    assert_eq!(execute(&mut store, &gc).unwrap_err(), VaultError::Conflict);
}

#[test]
fn a_late_cleanup_never_deletes_what_a_newer_save_stored() {
    let (created, mut store, mut e, _) = base(14);
    let id = created.vault.vault_id();
    let mut vault = reopen(&store, &created);
    // Save 1 replaces "a"; its cleanup is held back (a tab that closed right after saving).
    let plan = vault
        .plan_save(&[("a", b"first".as_slice())], &[], SAVED, &mut e)
        .unwrap();
    execute(&mut store, &plan.write).unwrap();
    let late = vault.commit(plan).unwrap();
    assert_eq!(late.ops.len(), 1, "the replaced blob of a");
    // Save 2 replaces "a" again, with its own cleanup.
    vault
        .save(
            &mut store,
            &[("a", b"second".as_slice())],
            &[],
            SAVED,
            &mut e,
        )
        .unwrap();
    let keys_before = store.keys_with_prefix(&vault_prefix(&id)).unwrap();
    // Save 1's cleanup now runs: it is refused, and deletes nothing.
    assert_eq!(
        execute(&mut store, &late).unwrap_err(),
        VaultError::Conflict
    );
    assert_eq!(
        store.keys_with_prefix(&vault_prefix(&id)).unwrap(),
        keys_before
    );
    // Its blob is an orphan that garbage collection removes; the record reads the newest state.
    let keys = store.keys_with_prefix(&vault_prefix(&id)).unwrap();
    let gc = vault.plan_gc(&keys);
    assert_eq!(gc.ops.len(), 1, "{:?}", gc.ops);
    execute(&mut store, &gc).unwrap();
    let reopened = reopen(&store, &created);
    assert_eq!(record(&reopened, &store)["a"], b"second");
    assert_eq!(
        store.keys_with_prefix(&vault_prefix(&id)).unwrap().len(),
        reopened.segment_names().count() + 2
    );
}

//! Every single-bit flip, truncation and extension of every stored artefact is detected; blobs
//! cannot be swapped between vaults or segments or replayed from older saves.

mod common;

use common::*;
use phr_vault::{
    header_key, manifest_key, open_segment, segment_key, Backup, Header, Secret, Vault, VaultError,
};

/// A vault with two small segments, saved once (generation 2).
fn setup(
    seed: u64,
) -> (
    phr_vault::Created,
    phr_vault::MemoryStore,
    Vault,
    TestEntropy,
) {
    let (created, mut store, mut e) = fast_vault(seed);
    let mut vault = reopen(&store, &created);
    vault
        .save(
            &mut store,
            &[
                ("fhir-0", br#"{"resourceType":"Patient"}"#.as_slice()),
                ("notes", b"took 5 mg".as_slice()),
            ],
            &[],
            SAVED,
            &mut e,
        )
        .unwrap();
    (created, store, vault, e)
}

/// Variants of `bytes` that must all be rejected: every prefix, a few extensions, empty.
fn truncations_and_extensions(bytes: &[u8]) -> Vec<Vec<u8>> {
    let mut out: Vec<Vec<u8>> = (0..bytes.len()).map(|n| bytes[..n].to_vec()).collect();
    for extra in [&b"\0"[..], b" ", b"\n", b"}", b"A", &[0xff; 16]] {
        let mut v = bytes.to_vec();
        v.extend_from_slice(extra);
        out.push(v);
    }
    out
}

#[test]
fn every_bit_flip_of_the_header_is_detected() {
    let (created, store, _, _) = setup(1);
    let stored = store.contents()[&header_key(&created.vault.vault_id())].clone();
    let rk = &created.recovery_key;
    let (mut corrupt, mut tampered, mut wrong) = (0, 0, 0);
    let mut mac_flips = Vec::new();
    for i in 0..stored.len() {
        for bit in 0..8 {
            let bad = flipped(&stored, i, bit);
            match Header::parse(&bad) {
                Err(VaultError::CorruptHeader { .. }) => corrupt += 1,
                Err(other) => panic!("byte {i} bit {bit}: unexpected {other:?}"),
                Ok(h) => {
                    // Only flips that survive the checksum get here; unlocking must fail.
                    match h.unlock(Secret::RecoveryKey(rk)) {
                        Err(VaultError::TamperedHeader) => tampered += 1,
                        Err(VaultError::WrongSecret) => wrong += 1,
                        other => panic!("byte {i} bit {bit}: undetected ({other:?})"),
                    }
                    mac_flips.push((i, bit));
                }
            }
        }
    }
    assert_eq!(corrupt + tampered + wrong, stored.len() * 8);
    // The MAC's 38 characters are the only part the checksum does not cover.
    assert!(tampered > 0 && tampered <= 38 * 8, "{tampered}");
    // Through the passphrase path too: a vault with a real Argon2id passphrase slot (minimum
    // parameters), a sample of its MAC flips.
    let real = phr_vault::create_vault(&options(), PASSPHRASE, &mut TestEntropy::new(11)).unwrap();
    let real_header = real.vault.header().bytes().to_vec();
    let mac_at = real_header.len() - 40;
    let mut checked = 0;
    for i in (mac_at..real_header.len() - 2).step_by(9) {
        let Some(h) = (0..8).find_map(|bit| Header::parse(&flipped(&real_header, i, bit)).ok())
        else {
            continue;
        };
        assert_eq!(
            h.unlock(Secret::Passphrase(PASSPHRASE)).unwrap_err(),
            VaultError::TamperedHeader
        );
        checked += 1;
    }
    assert!(checked >= 3);
    // Exactly the MAC's characters are the flips the checksum lets through.
    let mac_at = stored.len() - 40;
    assert!(mac_flips
        .iter()
        .all(|(i, _)| (mac_at..stored.len() - 2).contains(i)));
    for bad in truncations_and_extensions(&stored) {
        assert!(
            matches!(Header::parse(&bad), Err(VaultError::CorruptHeader { .. })),
            "{}",
            String::from_utf8_lossy(&bad)
        );
    }
}

#[test]
fn every_bit_flip_of_a_segment_blob_is_detected() {
    let (created, store, vault, _) = setup(2);
    let id = created.vault.vault_id();
    let seq = vault.manifest().segments["notes"].seq;
    let blob = store.contents()[&segment_key(&id, "notes", seq)].clone();
    assert_eq!(
        vault.read_segment("notes", Some(&blob)).unwrap(),
        b"took 5 mg"
    );
    for i in 0..blob.len() {
        for bit in 0..8 {
            let bad = flipped(&blob, i, bit);
            // Through the manifest (hash check first) ...
            assert!(
                vault.read_segment("notes", Some(&bad)).is_err(),
                "{i}/{bit}"
            );
            // ... and by the blob's own authentication alone.
            assert!(
                open_segment(vault.vault_key(), &bad, &id, "notes", seq).is_err(),
                "{i}/{bit}"
            );
        }
    }
    for bad in truncations_and_extensions(&blob) {
        assert!(vault.read_segment("notes", Some(&bad)).is_err());
        assert!(open_segment(vault.vault_key(), &bad, &id, "notes", seq).is_err());
    }
}

#[test]
fn every_bit_flip_of_the_manifest_is_detected() {
    let (created, store, _, _) = setup(3);
    let id = created.vault.vault_id();
    let header = Header::parse(&store.contents()[&header_key(&id)]).unwrap();
    let blob = store.contents()[&manifest_key(&id)].clone();
    let key = || {
        header
            .unlock(Secret::RecoveryKey(&created.recovery_key))
            .unwrap()
    };
    assert!(Vault::open(header.clone(), key(), Some(&blob)).is_ok());
    let vk = key();
    for i in 0..blob.len() {
        for bit in 0..8 {
            let bad = flipped(&blob, i, bit);
            match Vault::open(header.clone(), vk.clone(), Some(&bad)) {
                Err(VaultError::ManifestCorrupt { .. } | VaultError::UnsupportedVersion { .. }) => {
                }
                other => panic!("{i}/{bit}: {other:?}"),
            }
        }
    }
    for bad in truncations_and_extensions(&blob) {
        assert!(Vault::open(header.clone(), vk.clone(), Some(&bad)).is_err());
    }
}

#[test]
fn every_bit_flip_of_a_backup_is_detected() {
    let (created, store, vault, _) = setup(4);
    let backup = vault.export_backup(&store).unwrap();
    let ok = Backup::parse(&backup).unwrap();
    ok.unlock(Secret::RecoveryKey(&created.recovery_key))
        .unwrap();
    for i in 0..backup.len() {
        for bit in 0..8 {
            match Backup::parse(&flipped(&backup, i, bit)) {
                Err(VaultError::CorruptBackup { .. } | VaultError::UnsupportedVersion { .. }) => {}
                other => panic!("{i}/{bit}: {other:?}"),
            }
        }
    }
    for bad in truncations_and_extensions(&backup) {
        assert!(Backup::parse(&bad).is_err());
    }
}

#[test]
fn blobs_cannot_move_between_vaults_or_segments() {
    let (a, store_a, vault_a, _) = setup(5);
    let (_, store_b, vault_b, _) = setup(6);
    let a_id = a.vault.vault_id();
    let seq = vault_a.manifest().segments["notes"].seq;
    let a_notes = store_a.contents()[&segment_key(&a_id, "notes", seq)].clone();
    let a_fhir = store_a.contents()[&segment_key(&a_id, "fhir-0", seq)].clone();

    // Vault A's blob offered to vault B.
    assert_eq!(
        vault_b.read_segment("notes", Some(&a_notes)).unwrap_err(),
        VaultError::SegmentMismatch {
            segment: "notes".into(),
            what: "another vault"
        }
    );
    // Relabelled with B's id: the AAD no longer matches.
    let mut relabelled = a_notes.clone();
    relabelled[5..21].copy_from_slice(vault_b.vault_id().as_bytes());
    assert_eq!(
        open_segment(
            vault_b.vault_key(),
            &relabelled,
            &vault_b.vault_id(),
            "notes",
            seq
        )
        .unwrap_err(),
        VaultError::SegmentAuthFailed {
            segment: "notes".into()
        }
    );
    // Even under A's own key, a relabelled blob fails.
    assert!(open_segment(
        vault_a.vault_key(),
        &relabelled,
        &vault_b.vault_id(),
        "notes",
        seq
    )
    .is_err());

    // Segment "fhir-0" offered as "notes" (a swap within a vault).
    assert_eq!(
        vault_a.read_segment("notes", Some(&a_fhir)).unwrap_err(),
        VaultError::SegmentMismatch {
            segment: "notes".into(),
            what: "another part of the record"
        }
    );
    // Manifest of vault A with vault B's header and key.
    let a_manifest = store_a.contents()[&manifest_key(&a_id)].clone();
    let b_header = vault_b.header().clone();
    assert!(matches!(
        Vault::open(b_header, vault_b.vault_key().clone(), Some(&a_manifest)),
        Err(VaultError::ManifestCorrupt { .. })
    ));
    let _ = store_b;
}

#[test]
fn old_blobs_cannot_be_replayed() {
    let (created, mut store, mut vault, mut e) = setup(7);
    let id = created.vault.vault_id();
    let old_seq = vault.manifest().segments["notes"].seq;
    let old_blob = store.contents()[&segment_key(&id, "notes", old_seq)].clone();
    let old_manifest = store.contents()[&manifest_key(&id)].clone();
    vault
        .save(
            &mut store,
            &[("notes", b"took 10 mg".as_slice())],
            &[],
            SAVED,
            &mut e,
        )
        .unwrap();
    let new_seq = vault.manifest().segments["notes"].seq;
    assert_eq!(new_seq, old_seq + 1);

    // The old blob put back under the current key.
    assert_eq!(
        vault.read_segment("notes", Some(&old_blob)).unwrap_err(),
        VaultError::SegmentMismatch {
            segment: "notes".into(),
            what: "an older save"
        }
    );
    // The old blob with its sequence number edited: authentication fails.
    let mut bumped = old_blob.clone();
    let n = usize::from(bumped[21]);
    bumped[22 + n..30 + n].copy_from_slice(&new_seq.to_be_bytes());
    assert_eq!(
        open_segment(vault.vault_key(), &bumped, &id, "notes", new_seq).unwrap_err(),
        VaultError::SegmentAuthFailed {
            segment: "notes".into()
        }
    );
    assert!(vault.read_segment("notes", Some(&bumped)).is_err());

    // The old manifest put back (a rollback): it opens at the old generation, the shell's
    // last-seen generation reveals the rollback, and the blob it points to is gone.
    store.contents_mut().insert(manifest_key(&id), old_manifest);
    let rolled = reopen(&store, &created);
    assert_eq!(rolled.generation(), vault.generation() - 1);
    assert_eq!(
        rolled.check_rollback(Some(vault.generation())).unwrap_err(),
        VaultError::RolledBack {
            seen: vault.generation(),
            found: vault.generation() - 1
        }
    );
    assert!(vault.check_rollback(Some(vault.generation())).is_ok());
    let all = rolled.read_all(&store);
    assert_eq!(
        all["notes"],
        Err(VaultError::SegmentMissing {
            segment: "notes".into()
        })
    );
    // The untouched segment still reads.
    assert!(all["fhir-0"].is_ok());
}

#[test]
fn a_damaged_segment_does_not_hide_the_others() {
    let (created, mut store, vault, _) = setup(8);
    let key = vault.segment_key("fhir-0").unwrap();
    store.contents_mut().get_mut(&key).unwrap()[40] ^= 1;
    let all = reopen(&store, &created).read_all(&store);
    assert_eq!(
        all["fhir-0"],
        Err(VaultError::SegmentAuthFailed {
            segment: "fhir-0".into()
        })
    );
    assert_eq!(all["notes"].as_deref(), Ok(b"took 5 mg".as_slice()));
    store.contents_mut().remove(&key);
    let all = reopen(&store, &created).read_all(&store);
    assert_eq!(
        all["fhir-0"],
        Err(VaultError::SegmentMissing {
            segment: "fhir-0".into()
        })
    );
    assert!(all["notes"].is_ok());
    assert_eq!(
        vault.read_segment("nope", None).unwrap_err(),
        VaultError::UnknownSegment {
            segment: "nope".into()
        }
    );
}

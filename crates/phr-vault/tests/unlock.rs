//! Creating, unlocking with either secret, changing the passphrase, recovering, and the KDF
//! parameter policy as seen through stored headers.

mod common;

use common::*;
use phr_vault::{
    create_vault, execute, Header, KdfParams, Kek, MemoryStore, RecoveryKey, Secret, Vault,
    VaultError,
};
use sha2::{Digest, Sha256};

#[test]
fn create_then_unlock_with_passphrase_and_recovery_key() {
    let mut e = TestEntropy::new(1);
    let created = create_vault(&options(), PASSPHRASE, &mut e).unwrap();
    let mut store = MemoryStore::new();
    execute(&mut store, &created.plan).unwrap();
    let id = created.vault.vault_id();

    let header = Header::parse(&store.contents()[&phr_vault::header_key(&id)]).unwrap();
    assert_eq!(header.name(), "Home record");
    assert_eq!(header.created(), CREATED);
    assert_eq!(header.kdf_params(), KdfParams::MINIMUM);

    let by_pass = Vault::unlock(&store, &id, Secret::Passphrase(PASSPHRASE)).unwrap();
    assert_eq!(
        by_pass.vault_key().as_bytes(),
        created.vault.vault_key().as_bytes()
    );
    assert_eq!(by_pass.generation(), 1);
    assert_eq!(by_pass.segment_names().count(), 0);

    // The recovery key as the patient typed it from paper: lowercase, spaces.
    let typed = created
        .recovery_key
        .display()
        .to_lowercase()
        .replace('-', " ");
    let rk = RecoveryKey::parse(&typed).unwrap();
    let by_rk = Vault::unlock(&store, &id, Secret::RecoveryKey(&rk)).unwrap();
    assert_eq!(
        by_rk.vault_key().as_bytes(),
        created.vault.vault_key().as_bytes()
    );
}

#[test]
fn wrong_secrets_give_one_error_and_change_nothing() {
    let mut e = TestEntropy::new(2);
    let created = create_vault(&options(), PASSPHRASE, &mut e).unwrap();
    let mut store = MemoryStore::new();
    execute(&mut store, &created.plan).unwrap();
    let before = store.contents().clone();
    let id = created.vault.vault_id();
    for wrong in [
        "correct horse battery stapl",
        "Correct horse battery staple",
        "",
    ] {
        assert_eq!(
            Vault::unlock(&store, &id, Secret::Passphrase(wrong)).unwrap_err(),
            VaultError::WrongSecret
        );
    }
    let other = RecoveryKey::generate(&mut TestEntropy::new(99));
    assert_eq!(
        Vault::unlock(&store, &id, Secret::RecoveryKey(&other)).unwrap_err(),
        VaultError::WrongSecret
    );
    assert_eq!(store.contents(), &before);
}

#[test]
fn a_recovery_key_typo_is_not_a_wrong_key() {
    let (created, _, _) = fast_vault(3);
    let shown = created.recovery_key.display().to_string();
    // Swap two neighbouring characters of the first group.
    let mut chars: Vec<char> = shown.chars().collect();
    let j = (0..3).find(|&j| chars[j] != chars[j + 1]).unwrap();
    chars.swap(j, j + 1);
    let swapped: String = chars.into_iter().collect();
    assert!(matches!(
        RecoveryKey::parse(&swapped),
        Err(VaultError::RecoveryKeyTypo { .. })
    ));
    // One group missing.
    assert!(matches!(
        RecoveryKey::parse(&shown[5..]),
        Err(VaultError::RecoveryKeyTypo { .. })
    ));
}

#[test]
fn weak_passphrases_are_refused_at_creation_and_change() {
    let mut e = TestEntropy::new(4);
    match create_vault(&options(), "password123", &mut e) {
        Err(VaultError::WeakPassphrase { feedback }) => assert!(!feedback.is_empty()),
        other => panic!("{other:?}"),
    }
    // The vault's own name does not make a passphrase.
    match create_vault(&options(), "Home record", &mut e) {
        Err(VaultError::WeakPassphrase { .. }) => {}
        other => panic!("{other:?}"),
    }
    let (created, _, mut e) = fast_vault(4);
    assert!(matches!(
        created
            .vault
            .change_passphrase("letmein", KdfParams::MINIMUM, &mut e),
        Err(VaultError::WeakPassphrase { .. })
    ));
}

#[test]
fn change_passphrase_rewraps_only_the_key() {
    let (created, mut store, mut e) = fast_vault(5);
    let mut vault = reopen(&store, &created);
    vault
        .save(
            &mut store,
            &[("notes", b"hello".as_slice())],
            &[],
            SAVED,
            &mut e,
        )
        .unwrap();
    let blobs_before: Vec<_> = store
        .contents()
        .iter()
        .filter(|(k, _)| !k.ends_with("/header"))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();

    let new_pass = "purple elephant juggles quietly";
    let change = vault
        .change_passphrase(new_pass, KdfParams::MINIMUM, &mut e)
        .unwrap();
    execute(&mut store, &change.write).unwrap();
    vault.commit_header(change).unwrap();

    // Only the header changed.
    let blobs_after: Vec<_> = store
        .contents()
        .iter()
        .filter(|(k, _)| !k.ends_with("/header"))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    assert_eq!(blobs_before, blobs_after);

    let id = vault.vault_id();
    let reopened = Vault::unlock(&store, &id, Secret::Passphrase(new_pass)).unwrap();
    assert_eq!(record(&reopened, &store)["notes"], b"hello");
    // The old passphrase KEK no longer works; the recovery key still does.
    let header = Header::parse(&store.contents()[&phr_vault::header_key(&id)]).unwrap();
    assert_eq!(
        header
            .unlock_with_passphrase_kek(&Kek::from_bytes([5; 32]))
            .unwrap_err(),
        VaultError::WrongSecret
    );
    reopen(&store, &created);
}

#[test]
fn recovery_key_unlocks_and_sets_a_new_passphrase() {
    let (created, mut store, mut e) = fast_vault(6);
    // The patient forgot the passphrase: unlock with the recovery key, set a new one.
    let rk = RecoveryKey::parse(&created.recovery_key.display()).unwrap();
    let mut vault =
        Vault::unlock(&store, &created.vault.vault_id(), Secret::RecoveryKey(&rk)).unwrap();
    let new_pass = "my granddaughter plants tulips every april";
    let change = vault
        .change_passphrase(new_pass, KdfParams::MINIMUM, &mut e)
        .unwrap();
    execute(&mut store, &change.write).unwrap();
    vault.commit_header(change).unwrap();
    Vault::unlock(&store, &vault.vault_id(), Secret::Passphrase(new_pass)).unwrap();

    // A new recovery key replaces the old one.
    let (new_rk, change) = vault.replace_recovery_key(&mut e).unwrap();
    execute(&mut store, &change.write).unwrap();
    vault.commit_header(change).unwrap();
    Vault::unlock(&store, &vault.vault_id(), Secret::RecoveryKey(&new_rk)).unwrap();
    assert_eq!(
        Vault::unlock(&store, &vault.vault_id(), Secret::RecoveryKey(&rk)).unwrap_err(),
        VaultError::WrongSecret
    );
}

#[test]
fn rename_is_authenticated() {
    let (created, mut store, mut e) = fast_vault(7);
    let mut vault = reopen(&store, &created);
    let change = vault.rename("Travel copy", &mut e).unwrap();
    execute(&mut store, &change.write).unwrap();
    vault.commit_header(change).unwrap();
    assert_eq!(reopen(&store, &created).name(), "Travel copy");
    assert!(matches!(
        vault.rename(" padded", &mut e),
        Err(VaultError::InvalidInput { .. })
    ));
}

/// Rewrites a header body with `edit` and recomputes the checksum (a deliberate tamperer).
fn edit_body(header: &[u8], edit: impl Fn(&str) -> String) -> Vec<u8> {
    let text = std::str::from_utf8(header).unwrap();
    let start = text.find("\"body\":").unwrap() + 7;
    let end = text.find(",\"sha256\":").unwrap();
    let body = edit(&text[start..end]);
    let sum: String = Sha256::digest(body.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let mac_start = text.find(",\"mac\":").unwrap();
    format!(
        "{}{}{}{}{}",
        &text[..start],
        body,
        ",\"sha256\":\"",
        sum,
        &text[mac_start..].replacen(",\"mac\"", "\",\"mac\"", 1)
    )
    .into_bytes()
}

#[test]
fn deliberate_header_edits_are_caught() {
    let (created, store, _) = fast_vault(8);
    let id = created.vault.vault_id();
    let stored = store.contents()[&phr_vault::header_key(&id)].clone();

    // Renaming with a recomputed checksum: parses, but the MAC catches it after unlock.
    let renamed = edit_body(&stored, |b| b.replace("Home record", "Evil record"));
    let h = Header::parse(&renamed).unwrap();
    assert_eq!(h.name(), "Evil record");
    assert_eq!(
        h.unlock(Secret::RecoveryKey(&created.recovery_key))
            .unwrap_err(),
        VaultError::TamperedHeader
    );

    // A KDF downgrade below the floor is refused before any hashing.
    let weak = edit_body(&stored, |b| b.replace("\"m_kib\":19456", "\"m_kib\":1024"));
    let h = Header::parse(&weak).unwrap();
    assert_eq!(
        h.unlock(Secret::Passphrase(PASSPHRASE)).unwrap_err(),
        VaultError::KdfParamsOutOfRange {
            detail: "memory below 19 MiB"
        }
    );
    // An absurd cost (a denial of service) likewise.
    let huge = edit_body(&stored, |b| b.replace("\"t\":2", "\"t\":1000000"));
    assert!(matches!(
        Header::parse(&huge)
            .unwrap()
            .unlock(Secret::Passphrase(PASSPHRASE)),
        Err(VaultError::KdfParamsOutOfRange { .. })
    ));
    // Even with a KEK computed elsewhere, a below-floor header is refused.
    assert!(matches!(
        Header::parse(&weak)
            .unwrap()
            .unlock_with_passphrase_kek(&Kek::from_bytes([8; 32])),
        Err(VaultError::KdfParamsOutOfRange { .. })
    ));
    // A changed salt: a KEK derived from the old salt still unwraps the slot (the salt is an
    // input of the KDF, not of the slot), but the header MAC catches the edit.
    let resalted = edit_body(&stored, |b| {
        b.replace(
            "\"salt\":\"BwcHBwcHBwcHBwcHBwcHBw\"",
            "\"salt\":\"CAcHBwcHBwcHBwcHBwcHBw\"",
        )
    });
    assert_ne!(resalted, stored);
    assert_eq!(
        Header::parse(&resalted)
            .unwrap()
            .unlock_with_passphrase_kek(&Kek::from_bytes([8; 32]))
            .unwrap_err(),
        VaultError::TamperedHeader
    );
}

#[test]
fn newer_versions_are_refused_with_update_advice() {
    let (created, store, _) = fast_vault(9);
    let stored = store.contents()[&phr_vault::header_key(&created.vault.vault_id())].clone();
    let newer = edit_body(&stored, |b| b.replace("\"v\":1", "\"v\":2"));
    let err = Header::parse(&newer).unwrap_err();
    assert_eq!(err, VaultError::UnsupportedVersion { found: 2 });
    assert!(err
        .to_string()
        .contains("made by a newer version of the app; update the app"));
    // A future header may add fields: still "newer", not "corrupt".
    let newer_with_fields = edit_body(&stored, |b| {
        b.replace("\"v\":1", "\"v\":7")
            .replace("\"kdf\":", "\"future\":[1,2],\"kdf\":")
    });
    assert_eq!(
        Header::parse(&newer_with_fields).unwrap_err(),
        VaultError::UnsupportedVersion { found: 7 }
    );
    // An unknown field in a v1 header is corruption.
    let extra = edit_body(&stored, |b| b.replace("\"kdf\":", "\"extra\":0,\"kdf\":"));
    assert!(matches!(
        Header::parse(&extra),
        Err(VaultError::CorruptHeader { .. })
    ));
}

#[test]
fn unlock_reports_missing_vault_and_missing_manifest() {
    let (created, mut store, _) = fast_vault(10);
    let id = created.vault.vault_id();
    let other = phr_vault::VaultId::from_bytes([0xee; 16]);
    assert_eq!(
        Vault::unlock(&store, &other, Secret::RecoveryKey(&created.recovery_key)).unwrap_err(),
        VaultError::VaultNotFound
    );
    store.contents_mut().remove(&phr_vault::manifest_key(&id));
    assert_eq!(
        Vault::unlock(&store, &id, Secret::RecoveryKey(&created.recovery_key)).unwrap_err(),
        VaultError::ManifestMissing
    );
    store.set_fail_reads(true);
    assert!(matches!(
        Vault::unlock(&store, &id, Secret::RecoveryKey(&created.recovery_key)),
        Err(VaultError::StorageUnavailable { .. })
    ));
}

#[test]
fn a_stored_header_of_another_vault_is_refused() {
    let (a, mut store, _) = fast_vault(11);
    let (b, store_b, _) = fast_vault(12);
    let a_id = a.vault.vault_id();
    let b_header = store_b.contents()[&phr_vault::header_key(&b.vault.vault_id())].clone();
    store
        .contents_mut()
        .insert(phr_vault::header_key(&a_id), b_header);
    assert!(matches!(
        Vault::unlock(&store, &a_id, Secret::RecoveryKey(&b.recovery_key)),
        Err(VaultError::CorruptHeader { .. })
    ));
}

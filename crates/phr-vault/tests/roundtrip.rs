//! Round trips (property-based), nonce uniqueness, and the WebCrypto split reproducing the
//! reference implementation byte for byte.

mod common;

use std::collections::{BTreeMap, HashSet};

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use common::*;
use phr_vault::{
    blob_tag, execute, open_segment, parse_blob, seal_segment, Backup, BlobCheck, KdfParams,
    MemoryStore, RestoreTarget, SealParts, Secret, VaultError, VaultId, VaultKey,
};
use proptest::prelude::*;

proptest! {
    #![proptest_config(ProptestConfig { cases: 128, ..ProptestConfig::default() })]

    #[test]
    fn open_inverts_seal(
        plaintext in proptest::collection::vec(any::<u8>(), 0..4096),
        key in any::<[u8; 32]>(),
        id in any::<[u8; 16]>(),
        name in "[a-z0-9][a-z0-9._-]{0,63}",
        seq in 1u64..,
        seed in any::<u64>(),
    ) {
        let key = VaultKey::from_bytes(key);
        let id = VaultId::from_bytes(id);
        let blob = seal_segment(&key, &id, &name, seq, &plaintext, &mut TestEntropy::new(seed)).unwrap();
        prop_assert_eq!(blob.len(), 42 + name.len() + plaintext.len() + 16);
        prop_assert_eq!(open_segment(&key, &blob, &id, &name, seq).unwrap(), plaintext);
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 8, ..ProptestConfig::default() })]

    #[test]
    fn passphrase_and_recovery_key_round_trip(
        passphrase in "\\PC{0,40}",
        seed in any::<u64>(),
    ) {
        // Argon2id runs for real here (minimum parameters), so only a few cases.
        let mut e = TestEntropy::new(seed);
        let salt = phr_vault::random_salt(&mut e);
        let kek = phr_vault::derive_kek(&passphrase, &KdfParams::MINIMUM, &salt).unwrap();
        let created = phr_vault::create_vault_with_kek(&options(), salt, &kek, &mut e).unwrap();
        let header = phr_vault::Header::parse(created.vault.header().bytes()).unwrap();
        let vk = header.unlock(Secret::Passphrase(&passphrase)).unwrap();
        prop_assert_eq!(vk.as_bytes(), created.vault.vault_key().as_bytes());
        let wrong = format!("{passphrase}x");
        prop_assert_eq!(header.unlock(Secret::Passphrase(&wrong)).unwrap_err(), VaultError::WrongSecret);
        let rk = phr_vault::RecoveryKey::parse(&created.recovery_key.display()).unwrap();
        let vk = header.unlock(Secret::RecoveryKey(&rk)).unwrap();
        prop_assert_eq!(vk.as_bytes(), created.vault.vault_key().as_bytes());
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn random_change_sequences_survive_save_and_load(
        steps in proptest::collection::vec(
            proptest::collection::vec(
                (0usize..6, proptest::option::of(proptest::collection::vec(any::<u8>(), 0..300))),
                0..5,
            ),
            1..8,
        ),
        seed in any::<u64>(),
    ) {
        let (created, mut store, mut e) = fast_vault(seed);
        let mut vault = reopen(&store, &created);
        let mut model: BTreeMap<String, Vec<u8>> = BTreeMap::new();
        for (i, step) in steps.iter().enumerate() {
            // Collapse the step into a valid change list: last word per name wins.
            let mut changes: BTreeMap<String, Option<Vec<u8>>> = BTreeMap::new();
            for (n, data) in step {
                changes.insert(format!("seg-{n}"), data.clone());
            }
            let changed: Vec<(&str, &[u8])> = changes
                .iter()
                .filter_map(|(k, v)| v.as_ref().map(|v| (k.as_str(), v.as_slice())))
                .collect();
            let deleted: Vec<&str> = changes
                .iter()
                .filter(|(k, v)| v.is_none() && model.contains_key(*k))
                .map(|(k, _)| k.as_str())
                .collect();
            vault.save(&mut store, &changed, &deleted, SAVED, &mut e).unwrap();
            for (k, v) in &changes {
                match v {
                    Some(v) => { model.insert(k.clone(), v.clone()); }
                    None => { model.remove(k); }
                }
            }
            prop_assert_eq!(vault.generation(), i as u64 + 2);
            let loaded = reopen(&store, &created);
            prop_assert_eq!(&record(&loaded, &store), &model);
            // Storage holds exactly header, manifest and one blob per segment.
            prop_assert_eq!(store.contents().len(), model.len() + 2);
        }
        // And a backup of the final state restores it elsewhere.
        let file = vault.export_backup(&store).unwrap();
        let unlocked = Backup::parse(&file).unwrap()
            .unlock(Secret::RecoveryKey(&created.recovery_key)).unwrap();
        prop_assert_eq!(unlocked.segments(), &model);
        let mut other = MemoryStore::new();
        execute(&mut other, &unlocked.plan_restore(RestoreTarget::New, &[] as &[String], &mut e).unwrap()).unwrap();
        prop_assert_eq!(&record(&reopen(&other, &created), &other), &model);
    }
}

#[test]
fn one_hundred_thousand_encryptions_never_repeat_a_nonce() {
    let key = VaultKey::from_bytes([1; 32]);
    let id = VaultId::from_bytes([2; 16]);
    let mut e = TestEntropy::new(42);
    let mut nonces = HashSet::new();
    let mut ciphertexts = HashSet::new();
    for _ in 0..100_000 {
        let blob = seal_segment(&key, &id, "notes", 1, b"same plaintext", &mut e).unwrap();
        let parsed = parse_blob(&blob, &id, "notes", 1).unwrap();
        assert!(nonces.insert(parsed.nonce), "nonce repeated");
        assert!(ciphertexts.insert(parsed.ciphertext.to_vec()));
    }
    assert_eq!(nonces.len(), 100_000);
}

#[test]
fn saves_and_header_rewrites_draw_fresh_nonces() {
    let (created, mut store, mut e) = fast_vault(3);
    let mut vault = reopen(&store, &created);
    let mut nonces = HashSet::new();
    for i in 0..200u32 {
        let data = i.to_be_bytes();
        let plan = vault
            .plan_save(
                &[("a", data.as_slice()), ("b", data.as_slice())],
                &[],
                SAVED,
                &mut e,
            )
            .unwrap();
        for op in &plan.write.ops {
            if let phr_vault::Op::Put { value, .. } = op {
                assert!(nonces.insert(nonce_of(value)));
            }
        }
        execute(&mut store, &plan.write).unwrap();
        vault.commit(plan).unwrap();
        let change = vault.rename(&format!("Record {i}"), &mut e).unwrap();
        assert!(nonces.insert(mac_nonce_of(change.header_bytes())));
        execute(&mut store, &change.write).unwrap();
        vault.commit_header(change).unwrap();
    }
    assert_eq!(nonces.len(), 800);
}

/// A blob's nonce: after magic, version, id, name and seq.
fn nonce_of(blob: &[u8]) -> [u8; 12] {
    let n = usize::from(blob[21]);
    blob[30 + n..42 + n].try_into().unwrap()
}

/// The header MAC's nonce: the first 12 bytes of the base64url `mac` field.
fn mac_nonce_of(header: &[u8]) -> [u8; 12] {
    use base64::Engine;
    let text = std::str::from_utf8(header).unwrap();
    let mac = &text[text.rfind("\"mac\":\"").unwrap() + 7..text.len() - 2];
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(mac)
        .unwrap();
    bytes[..12].try_into().unwrap()
}

/// What the browser shell does with WebCrypto, done here with the raw AES-GCM primitive:
/// `crypto.subtle.encrypt({name: "AES-GCM", iv: nonce, additionalData: aad}, vk, plaintext)`.
fn webcrypto_encrypt(vk: &VaultKey, nonce: &[u8; 12], aad: &[u8], plaintext: &[u8]) -> Vec<u8> {
    Aes256Gcm::new(vk.as_bytes().into())
        .encrypt(
            &Nonce::from(*nonce),
            Payload {
                msg: plaintext,
                aad,
            },
        )
        .unwrap()
}

fn webcrypto_decrypt(vk: &VaultKey, nonce: &[u8; 12], aad: &[u8], ct: &[u8]) -> Option<Vec<u8>> {
    Aes256Gcm::new(vk.as_bytes().into())
        .decrypt(&Nonce::from(*nonce), Payload { msg: ct, aad })
        .ok()
}

#[test]
fn the_webcrypto_split_reproduces_the_reference_blobs() {
    let (created, mut store, _) = fast_vault(4);
    let mut vault = reopen(&store, &created);
    let plaintext = br#"{"resourceType":"Observation","status":"final"}"#;

    // Same entropy stream for both paths.
    let reference = seal_segment(
        vault.vault_key(),
        &vault.vault_id(),
        "fhir-1",
        vault.next_generation().unwrap(),
        plaintext,
        &mut TestEntropy::new(77),
    )
    .unwrap();
    let parts = vault
        .seal_parts("fhir-1", &mut TestEntropy::new(77))
        .unwrap();
    assert_eq!(
        parts,
        SealParts::new(&vault.vault_id(), "fhir-1", 2, parts.nonce).unwrap()
    );
    let ct = webcrypto_encrypt(vault.vault_key(), &parts.nonce, &parts.aad, plaintext);
    let blob = parts.assemble(&ct);
    assert_eq!(blob, reference);

    // The shell-sealed blob goes into a save plan and reads back through both paths.
    let mut e = TestEntropy::new(78);
    let plan = vault
        .plan_save_sealed(vec![("fhir-1".into(), blob.clone())], &[], SAVED, &mut e)
        .unwrap();
    execute(&mut store, &plan.write).unwrap();
    vault.commit(plan).unwrap();
    let stored = store.contents()[&vault.segment_key("fhir-1").unwrap()].clone();
    assert_eq!(
        vault.read_segment("fhir-1", Some(&stored)).unwrap(),
        plaintext
    );
    let parsed = vault.check_segment_blob("fhir-1", Some(&stored)).unwrap();
    assert_eq!(
        webcrypto_decrypt(
            vault.vault_key(),
            &parsed.nonce,
            &parsed.aad,
            parsed.ciphertext
        )
        .unwrap(),
        plaintext
    );
    // A shell blob sealed for the wrong generation or name is refused by the planner.
    let stale = SealParts::new(&vault.vault_id(), "fhir-1", 2, [9; 12]).unwrap();
    let stale_blob = stale.assemble(&webcrypto_encrypt(
        vault.vault_key(),
        &stale.nonce,
        &stale.aad,
        b"x",
    ));
    assert!(matches!(
        vault.plan_save_sealed(vec![("fhir-1".into(), stale_blob)], &[], SAVED, &mut e),
        Err(VaultError::SegmentMismatch { .. })
    ));
    let wrong_name = vault.seal_parts("notes", &mut e).unwrap();
    let wrong_blob = wrong_name.assemble(&webcrypto_encrypt(
        vault.vault_key(),
        &wrong_name.nonce,
        &wrong_name.aad,
        b"x",
    ));
    assert!(vault
        .plan_save_sealed(vec![("fhir-1".into(), wrong_blob)], &[], SAVED, &mut e)
        .is_err());
    // The AAD is the domain string followed by the prefix.
    assert_eq!(&parts.aad[..20], b"phr-vault/v2/segment");
    assert_eq!(&parts.aad[20..], parts.prefix.as_slice());
}

/// A version 2 manifest pins each blob by its AES-GCM tag (its last 16 bytes): checking needs no
/// digest, and a blob with another tag or length is caught before decryption.
#[test]
fn the_manifest_pins_each_blob_by_its_tag() {
    let (created, mut store, _) = fast_vault(5);
    let mut vault = reopen(&store, &created);
    vault
        .save(
            &mut store,
            &[("fhir-1", b"tag me")],
            &[],
            SAVED,
            &mut TestEntropy::new(90),
        )
        .unwrap();
    let key = vault.segment_key("fhir-1").unwrap();
    let stored = store.contents()[&key].clone();
    assert!(!vault.needs_digest("fhir-1"));
    assert_eq!(
        vault.manifest().segments["fhir-1"].check,
        BlobCheck::Tag(blob_tag(&stored).unwrap())
    );
    assert!(vault
        .check_segment_blob_with_digest("fhir-1", Some(&stored), None)
        .is_ok());
    // The manifest names the tag in hex.
    let manifest = String::from_utf8(vault.manifest().to_json()).unwrap();
    let tag_hex: String = blob_tag(&stored)
        .unwrap()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    assert!(
        manifest.contains(&format!("\"tag\":\"{tag_hex}\"")),
        "{manifest}"
    );
    assert!(!manifest.contains("sha256"), "{manifest}");
    // Another blob for the same segment and save (another nonce) has another tag: refused.
    let parts = vault
        .seal_parts("fhir-1", &mut TestEntropy::new(91))
        .unwrap();
    let same_seq =
        SealParts::new(&vault.vault_id(), "fhir-1", vault.generation(), parts.nonce).unwrap();
    let other = same_seq.assemble(&webcrypto_encrypt(
        vault.vault_key(),
        &same_seq.nonce,
        &same_seq.aad,
        b"tag me",
    ));
    assert_eq!(other.len(), stored.len());
    assert!(matches!(
        vault.check_segment_blob("fhir-1", Some(&other)),
        Err(VaultError::SegmentAuthFailed { .. })
    ));
    // A flipped tag bit and a truncated blob are caught without decrypting.
    let mut flipped = stored.clone();
    *flipped.last_mut().unwrap() ^= 1;
    assert!(matches!(
        vault.check_segment_blob("fhir-1", Some(&flipped)),
        Err(VaultError::SegmentAuthFailed { .. })
    ));
    assert!(vault
        .check_segment_blob("fhir-1", Some(&stored[..stored.len() - 1]))
        .is_err());
    assert!(matches!(
        vault.check_segment_blob_with_digest("fhir-1", None, None),
        Err(VaultError::SegmentMissing { .. })
    ));
}

/// The browser keeps sealed blobs in JavaScript and only describes them (length, tag): the
/// described plan plus the blob puts under their segment keys, issued first, must be exactly the
/// plan of the blob-taking path, and read back the same.
#[test]
fn described_blobs_plan_the_same_save_as_blobs_handed_over() {
    use phr_vault::{DescribedSegment, Op};
    let (created, mut store, _) = fast_vault(6);
    let mut vault = reopen(&store, &created);
    // A first save, so the second one replaces a blob and deletes one segment.
    let mut e = TestEntropy::new(92);
    vault
        .save(
            &mut store,
            &[("fhir-1", b"old one"), ("fhir-2", b"old two")],
            &[],
            SAVED,
            &mut e,
        )
        .unwrap();
    let mut blobs = Vec::new();
    for (i, (name, plaintext)) in [("fhir-1", &b"new one"[..]), ("notes", &b"new notes"[..])]
        .into_iter()
        .enumerate()
    {
        let parts = vault
            .seal_parts(name, &mut TestEntropy::new(100 + i as u64))
            .unwrap();
        let ct = webcrypto_encrypt(vault.vault_key(), &parts.nonce, &parts.aad, plaintext);
        let mut blob = parts.head();
        blob.extend_from_slice(&ct);
        assert_eq!(blob, parts.assemble(&ct), "head || ciphertext is the blob");
        assert_eq!(
            blob_tag(&blob).unwrap(),
            ct[ct.len() - 16..],
            "the tag ends the blob"
        );
        blobs.push((name.to_string(), blob));
    }
    let given = vault
        .plan_save_sealed(blobs.clone(), &["fhir-2"], SAVED, &mut TestEntropy::new(93))
        .unwrap();
    let described = vault
        .plan_save_described(
            blobs
                .iter()
                .map(|(name, blob)| DescribedSegment {
                    name: name.clone(),
                    seq: vault.next_generation().unwrap(),
                    len: blob.len() as u64,
                    tag: blob_tag(blob).unwrap(),
                })
                .collect(),
            &["fhir-2"],
            SAVED,
            &mut TestEntropy::new(93),
        )
        .unwrap();
    assert_eq!(described.generation(), given.generation());
    let mut whole = described.write.clone();
    let mut puts: Vec<Op> = blobs
        .iter()
        .map(|(name, blob)| Op::Put {
            key: phr_vault::segment_key(&vault.vault_id(), name, vault.next_generation().unwrap()),
            value: blob.clone(),
        })
        .collect();
    puts.append(&mut whole.ops);
    whole.ops = puts;
    assert_eq!(whole, given.write, "identical writes, byte for byte");
    assert_eq!(described.cleanup, given.cleanup, "identical cleanups");
    // The described plan alone writes no blob: only the manifest. Its cleanup deletes the blobs
    // of the changed and the deleted segment, once the new generation is stored.
    assert_eq!(described.write.ops.len(), 1);
    assert!(matches!(&described.write.ops[0], Op::Put { key, .. } if !key.contains("/seg/")));
    assert_eq!(described.cleanup.ops.len(), 2);
    assert!(described
        .cleanup
        .ops
        .iter()
        .all(|op| matches!(op, Op::Delete { key } if key.contains("/seg/"))));
    assert_eq!(
        described.cleanup.expect,
        phr_vault::Expect::Generation(described.generation())
    );
    execute(&mut store, &whole).unwrap();
    let cleanup = vault.commit(described).unwrap();
    execute(&mut store, &cleanup).unwrap();
    let reopened = reopen(&store, &created);
    let all = reopened.read_all(&store);
    assert_eq!(all["fhir-1"].as_ref().unwrap(), b"new one");
    assert_eq!(all["notes"].as_ref().unwrap(), b"new notes");
    assert!(!all.contains_key("fhir-2"));
    // Names are checked as in every other save, and a blob sealed for another save (its key would
    // not be the one the manifest names) is refused.
    let next = vault.next_generation().unwrap();
    let one = |name: &str, seq| DescribedSegment {
        name: name.into(),
        seq,
        len: 1,
        tag: [0; 16],
    };
    let plan = |d: Vec<DescribedSegment>| {
        vault.plan_save_described(d, &[], SAVED, &mut TestEntropy::new(94))
    };
    assert!(plan(vec![one("notes", next); 2]).is_err());
    assert!(plan(vec![one("", next)]).is_err());
    assert!(matches!(
        plan(vec![one("notes", next - 1)]),
        Err(VaultError::SegmentMismatch {
            what: "an older save",
            ..
        })
    ));
    assert!(matches!(
        plan(vec![one("notes", next + 1)]),
        Err(VaultError::SegmentMismatch {
            what: "a newer save",
            ..
        })
    ));
    assert!(plan(vec![one("notes", next)]).is_ok());
}

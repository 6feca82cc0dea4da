//! Frozen test vectors. Every version's vectors (tests/vectors/v1/, v2/) must decrypt forever, and
//! re-running the recipe with the seeded entropy must reproduce the current version's (v2) byte
//! for byte, which catches silent format drift.
//!
//! To regenerate after a deliberate, versioned format change (into a new directory; see
//! `docs/vault-format.md` §12): `PHR_VAULT_WRITE_VECTORS=1 cargo test -p phr-vault --test vectors`.

mod common;

use std::path::PathBuf;

use common::TestEntropy;
use phr_vault::{
    create_vault, derive_kek, execute, Backup, CreateOptions, Header, KdfParams, MemoryStore,
    RecoveryKey, Secret, Vault,
};
use serde_json::{json, Value};

const SEED: u64 = 20_261_121;
const PASSPHRASE: &str = "correct horse battery staple";
const NAME: &str = "Vector vault";
const CREATED: &str = "2026-11-21T12:00:00Z";
const SAVED: &str = "2026-11-21T12:05:00Z";
const SEGMENTS: [(&str, &str); 2] = [
    (
        "fhir-0",
        r#"{"resourceType":"Patient","id":"example","name":[{"family":"Doe","given":["Jane"]}]}"#,
    ),
    ("notes", "Take the blood pressure tablet with breakfast."),
];

/// The directory of the version this crate writes.
const CURRENT: &str = "v2";

fn dir_of(version: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/vectors")
        .join(version)
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn unhex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

/// The recipe. Returns (file name, bytes) pairs.
fn produce() -> Vec<(String, Vec<u8>)> {
    let mut e = TestEntropy::new(SEED);
    let options = CreateOptions {
        name: NAME,
        created: CREATED,
        kdf: KdfParams::MINIMUM,
    };
    let created = create_vault(&options, PASSPHRASE, &mut e).unwrap();
    let mut store = MemoryStore::new();
    execute(&mut store, &created.plan).unwrap();
    let mut vault = created.vault;
    let changed: Vec<(&str, &[u8])> = SEGMENTS.iter().map(|(n, p)| (*n, p.as_bytes())).collect();
    vault
        .save(&mut store, &changed, &[], SAVED, &mut e)
        .unwrap();
    let backup = vault.export_backup(&store).unwrap();

    let id = vault.vault_id();
    let header = store.contents()[&phr_vault::header_key(&id)].clone();
    let manifest = store.contents()[&phr_vault::manifest_key(&id)].clone();
    let kek = derive_kek(PASSPHRASE, &KdfParams::MINIMUM, vault.header().kdf_salt()).unwrap();
    let inputs = json!({
        "description": "phr-vault format v2 test vector. Produced by tests/vectors.rs with the seeded entropy of tests/common/mod.rs; see docs/vault-format.md.",
        "seed": SEED,
        "passphrase": PASSPHRASE,
        "recovery_key": created.recovery_key.display().as_str(),
        "name": NAME,
        "created": CREATED,
        "saved": SAVED,
        "kdf": {"m_kib": KdfParams::MINIMUM.m_kib, "t": KdfParams::MINIMUM.t, "p": KdfParams::MINIMUM.p},
        "vault_id": id.to_string(),
        "passphrase_kek": hex(kek.as_bytes()),
        "recovery_kek": hex(created.recovery_key.derive_kek(&recovery_salt(&header)).as_bytes()),
        "vault_key": hex(vault.vault_key().as_bytes()),
        "generation": vault.generation(),
        "segments": SEGMENTS.iter().map(|(n, p)| json!({
            "name": n,
            "seq": vault.manifest().segments[*n].seq,
            "file": format!("segment-{n}.bin"),
            "store_key": vault.segment_key(n).unwrap(),
            "plaintext": p,
        })).collect::<Vec<_>>(),
        "manifest_plaintext": String::from_utf8(vault.manifest().to_json()).unwrap(),
        "files": {
            "header": {"file": "header.json", "store_key": phr_vault::header_key(&id)},
            "manifest": {"file": "manifest.bin", "store_key": phr_vault::manifest_key(&id)},
            "backup": {"file": "backup.phrbackup"},
        },
    });
    let mut files = vec![
        (
            "inputs.json".to_owned(),
            (serde_json::to_string_pretty(&inputs).unwrap() + "\n").into_bytes(),
        ),
        ("header.json".to_owned(), header),
        ("manifest.bin".to_owned(), manifest),
        ("backup.phrbackup".to_owned(), backup),
    ];
    for (n, _) in SEGMENTS {
        let key = vault.segment_key(n).unwrap();
        files.push((format!("segment-{n}.bin"), store.contents()[&key].clone()));
    }
    files
}

/// The recovery slot's salt, read from the header JSON (the crate does not expose it).
fn recovery_salt(header: &[u8]) -> Vec<u8> {
    use base64::Engine;
    let v: Value = serde_json::from_slice(header).unwrap();
    let salt = v["body"]["slots"][1]["salt"].as_str().unwrap();
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(salt)
        .unwrap()
}

fn read(version: &str, name: &str) -> Vec<u8> {
    std::fs::read(dir_of(version).join(name)).unwrap_or_else(|e| panic!("{version}/{name}: {e}"))
}

#[test]
fn vectors_are_reproduced_byte_for_byte() {
    let files = produce();
    if std::env::var_os("PHR_VAULT_WRITE_VECTORS").is_some() {
        std::fs::create_dir_all(dir_of(CURRENT)).unwrap();
        for (name, bytes) in &files {
            std::fs::write(dir_of(CURRENT).join(name), bytes).unwrap();
        }
    }
    for (name, bytes) in files {
        assert!(
            read(CURRENT, &name) == bytes,
            "{name} drifted from the frozen vector"
        );
    }
}

#[test]
fn vectors_decrypt_forever() {
    for version in ["v1", "v2"] {
        decrypts(version);
    }
}

fn decrypts(version: &str) {
    let read = |name: &str| read(version, name);
    let inputs: Value = serde_json::from_slice(&read("inputs.json")).unwrap();
    let header_bytes = read("header.json");
    let header = Header::parse(&header_bytes).unwrap();
    assert_eq!(header.vault_id().to_string(), inputs["vault_id"]);
    assert_eq!(header.name(), inputs["name"]);

    let by_pass = header
        .unlock(Secret::Passphrase(inputs["passphrase"].as_str().unwrap()))
        .unwrap();
    assert_eq!(hex(by_pass.as_bytes()), inputs["vault_key"]);
    let rk = RecoveryKey::parse(inputs["recovery_key"].as_str().unwrap()).unwrap();
    assert_eq!(
        hex(rk.derive_kek(&recovery_salt(&header_bytes)).as_bytes()),
        inputs["recovery_kek"]
    );
    let by_rk = header.unlock(Secret::RecoveryKey(&rk)).unwrap();
    assert_eq!(by_rk.as_bytes(), by_pass.as_bytes());
    let kek = phr_vault::Kek::from_bytes(
        unhex(inputs["passphrase_kek"].as_str().unwrap())
            .try_into()
            .unwrap(),
    );
    assert_eq!(
        header.unlock_with_passphrase_kek(&kek).unwrap().as_bytes(),
        by_pass.as_bytes()
    );

    let vault = Vault::open(header, by_pass, Some(&read("manifest.bin"))).unwrap();
    assert_eq!(vault.generation(), inputs["generation"].as_u64().unwrap());
    assert_eq!(
        String::from_utf8(vault.manifest().to_json()).unwrap(),
        inputs["manifest_plaintext"]
    );
    for seg in inputs["segments"].as_array().unwrap() {
        let name = seg["name"].as_str().unwrap();
        let blob = read(seg["file"].as_str().unwrap());
        assert_eq!(vault.segment_key(name).unwrap(), seg["store_key"]);
        assert_eq!(
            vault.read_segment(name, Some(&blob)).unwrap(),
            seg["plaintext"].as_str().unwrap().as_bytes()
        );
    }

    let backup = Backup::parse(&read("backup.phrbackup")).unwrap();
    let unlocked = backup.unlock(Secret::RecoveryKey(&rk)).unwrap();
    assert_eq!(unlocked.saved(), inputs["saved"]);
    for seg in inputs["segments"].as_array().unwrap() {
        assert_eq!(
            unlocked.segments()[seg["name"].as_str().unwrap()],
            seg["plaintext"].as_str().unwrap().as_bytes()
        );
    }
}

/// Our own Argon2id vectors for the two parameter sets the app uses, through `derive_kek`. The
/// expected values were computed independently with the reference C implementation (libargon2
/// through Python argon2-cffi, `hash_secret_raw(type=ID, version=19, hash_len=32)`).
/// (The RFC 9106 vector runs in the unit tests of `kdf`, through the same internal function.)
#[test]
fn argon2id_vectors_for_our_parameter_sets() {
    let cases = [
        (
            KdfParams::MINIMUM,
            "0213c1625f662b68831071a82353c2e9ec4ca6fc6927167a0fe4e624b36c1d83",
        ),
        (
            KdfParams::DEFAULT,
            "29f7ce13c4a0deca933b39f63925ede0a677e87ea1984345f1d079373f2b2ad4",
        ),
    ];
    let salt: [u8; 16] = *b"phr-vault salt!!";
    for (params, expected) in cases {
        let kek = derive_kek("correct horse battery staple", &params, &salt).unwrap();
        assert_eq!(hex(kek.as_bytes()), expected, "{params:?}");
    }
}

/// A vault written by version 1 keeps working: its blobs are checked by SHA-256 (the v1 manifest
/// records nothing else), a save writes a version 2 manifest that pins the new blob by its tag and
/// keeps the untouched blob's SHA-256, and everything reads back.
#[test]
fn a_version_1_vault_is_read_and_upgraded_segment_by_segment() {
    use phr_vault::{BlobCheck, VaultError};
    use sha2::{Digest, Sha256};
    let inputs: Value = serde_json::from_slice(&read("v1", "inputs.json")).unwrap();
    let mut store = MemoryStore::new();
    let header = read("v1", "header.json");
    let id = Header::parse(&header).unwrap().vault_id();
    let put = |key: String, value: Vec<u8>| phr_vault::Op::Put { key, value };
    let mut ops = vec![
        put(phr_vault::header_key(&id), header.clone()),
        put(phr_vault::manifest_key(&id), read("v1", "manifest.bin")),
    ];
    for seg in inputs["segments"].as_array().unwrap() {
        ops.push(put(
            seg["store_key"].as_str().unwrap().to_owned(),
            read("v1", seg["file"].as_str().unwrap()),
        ));
    }
    let plan = phr_vault::WritePlan {
        vault_id: id,
        expect: phr_vault::Expect::NoVault,
        ops,
    };
    execute(&mut store, &plan).unwrap();
    let passphrase = Secret::Passphrase(PASSPHRASE);
    let mut vault = Vault::unlock(&store, &id, passphrase).unwrap();
    let notes = read("v1", "segment-notes.bin");
    assert!(vault.needs_digest("notes"));
    let digest: [u8; 32] = Sha256::digest(&notes).into();
    assert!(vault
        .check_segment_blob_with_digest("notes", Some(&notes), Some(&digest))
        .is_ok());
    let mut wrong = digest;
    wrong[0] ^= 1;
    for bad in [Some(&wrong), None] {
        assert!(matches!(
            vault.check_segment_blob_with_digest("notes", Some(&notes), bad),
            Err(VaultError::SegmentAuthFailed { .. })
        ));
    }

    vault
        .save(
            &mut store,
            &[("notes", b"new notes")],
            &[],
            SAVED,
            &mut TestEntropy::new(7),
        )
        .unwrap();
    assert!(!vault.needs_digest("notes"));
    assert!(vault.needs_digest("fhir-0"));
    assert!(matches!(
        vault.manifest().segments["notes"].check,
        BlobCheck::Tag(_)
    ));
    assert!(matches!(
        vault.manifest().segments["fhir-0"].check,
        BlobCheck::Sha256(_)
    ));
    let manifest_blob = store.contents()[&phr_vault::manifest_key(&id)].clone();
    assert_eq!(
        manifest_blob[4], 2,
        "the manifest is rewritten as version 2"
    );
    let reopened = Vault::unlock(&store, &id, Secret::Passphrase(PASSPHRASE)).unwrap();
    let all = reopened.read_all(&store);
    assert_eq!(all["notes"].as_ref().unwrap(), b"new notes");
    assert_eq!(
        all["fhir-0"].as_ref().unwrap(),
        inputs["segments"][0]["plaintext"]
            .as_str()
            .unwrap()
            .as_bytes()
    );
    // The untouched version 1 blob is still its original bytes, still checked by SHA-256.
    let fhir0 = read("v1", "segment-fhir-0.bin");
    assert_eq!(
        store.contents()[&reopened.segment_key("fhir-0").unwrap()],
        fhir0
    );
    assert_eq!(fhir0[4], 1);
}

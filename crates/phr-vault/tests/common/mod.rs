//! Shared test helpers: a seeded entropy source and quick vault setup.
#![allow(dead_code)]

use phr_vault::{
    create_vault_with_kek, execute, CreateOptions, Created, Entropy, KdfParams, Kek, MemoryStore,
    Secret, Vault,
};
use sha2::{Digest, Sha256};

/// Deterministic entropy: block i = SHA-256("phr-vault test entropy" || seed (8 bytes LE) ||
/// i (8 bytes LE)), consumed byte by byte. Documented in docs/vault-format.md because the frozen
/// vectors are produced with it.
pub struct TestEntropy {
    seed: u64,
    counter: u64,
    block: [u8; 32],
    pos: usize,
}

impl TestEntropy {
    pub fn new(seed: u64) -> Self {
        Self {
            seed,
            counter: 0,
            block: [0; 32],
            pos: 32,
        }
    }
}

impl Entropy for TestEntropy {
    fn fill(&mut self, buf: &mut [u8]) {
        for b in buf {
            if self.pos == 32 {
                let mut h = Sha256::new();
                h.update(b"phr-vault test entropy");
                h.update(self.seed.to_le_bytes());
                h.update(self.counter.to_le_bytes());
                self.block = h.finalize().into();
                self.counter += 1;
                self.pos = 0;
            }
            *b = self.block[self.pos];
            self.pos += 1;
        }
    }
}

pub const PASSPHRASE: &str = "correct horse battery staple";
pub const CREATED: &str = "2026-11-21T20:00:00Z";
pub const SAVED: &str = "2026-11-22T08:30:00Z";

pub fn options() -> CreateOptions<'static> {
    CreateOptions {
        name: "Home record",
        created: CREATED,
        kdf: KdfParams::MINIMUM,
    }
}

/// A vault created without running Argon2 (a fixed KEK stands in for the worker's output),
/// already written to a fresh store.
pub fn fast_vault(seed: u64) -> (Created, MemoryStore, TestEntropy) {
    let mut e = TestEntropy::new(seed);
    let kek = Kek::from_bytes([seed as u8; 32]);
    let created = create_vault_with_kek(&options(), [7; 16], &kek, &mut e).unwrap();
    let mut store = MemoryStore::new();
    execute(&mut store, &created.plan).unwrap();
    (created, store, e)
}

/// Re-opens a vault from storage with its recovery key (fast: HKDF only).
pub fn reopen(store: &MemoryStore, created: &Created) -> Vault {
    Vault::unlock(
        store,
        &created.vault.vault_id(),
        Secret::RecoveryKey(&created.recovery_key),
    )
    .unwrap()
}

/// Every segment's plaintext, panicking on any error.
pub fn record(vault: &Vault, store: &MemoryStore) -> std::collections::BTreeMap<String, Vec<u8>> {
    vault
        .read_all(store)
        .into_iter()
        .map(|(k, v)| (k, v.unwrap()))
        .collect()
}

/// Flips bit `bit` of byte `i`.
pub fn flipped(bytes: &[u8], i: usize, bit: u8) -> Vec<u8> {
    let mut b = bytes.to_vec();
    b[i] ^= 1 << bit;
    b
}

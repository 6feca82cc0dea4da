//! The vault header: plaintext JSON that holds the KDF parameters and the two key slots.
//!
//! Stored form (one line, no whitespace, fields in this order):
//!
//! ```text
//! {"body":<body JSON>,"sha256":"<64 lowercase hex>","mac":"<base64url(nonce 12 || tag 16)>"}
//! ```
//!
//! `body` is kept as its *exact stored bytes*: it is never re-serialised, the checksum and the MAC
//! are computed over those bytes. The outer envelope, which carries no information of its own,
//! must be byte-identical to its canonical form. Together with strict base64url and lowercase hex,
//! this makes every change to the stored bytes detectable:
//!
//! * any change inside `body` or to `sha256` fails the checksum ([`VaultError::CorruptHeader`]),
//!   before any key derivation runs, so damage is told apart from a wrong passphrase;
//! * a change to the outer syntax breaks JSON or canonical form ([`VaultError::CorruptHeader`]);
//! * a change to `mac` (or a deliberate edit of `body` with a recomputed checksum) is caught
//!   after unlock by the MAC under the vault key ([`VaultError::TamperedHeader`]), or earlier
//!   by a slot that no longer unwraps ([`VaultError::WrongSecret`]).

use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use sha2::{Digest, Sha256};

use crate::encoding::{b64_decode_exact, b64_encode, hex_decode_exact, hex_encode};
use crate::entropy::{random, Entropy};
use crate::error::VaultError;
use crate::ids::VaultId;
use crate::kdf::{derive_kek, KdfParams, SALT_LEN};
use crate::keys::{open, seal, unwrap_key, wrap_key, Kek, VaultKey, KEY_LEN, NONCE_LEN, TAG_LEN};
use crate::recovery::RecoveryKey;
use crate::text::{check_name, check_timestamp};

/// The `fmt` value of a header body.
pub const HEADER_FMT: &str = "phr-vault";
/// The format version this crate writes and reads.
pub const FORMAT_VERSION: u64 = 1;
/// Domain string at the start of a key slot's AAD.
pub const SLOT_AAD_DOMAIN: &[u8] = b"phr-vault/v1/slot";
/// Domain string at the start of the header MAC's AAD.
pub const HEADER_MAC_DOMAIN: &[u8] = b"phr-vault/v1/header-mac";
/// The Argon2 version number stored in the header (0x13).
pub const ARGON2_VERSION: u32 = 19;

const WRAPPED_LEN: usize = KEY_LEN + TAG_LEN;

/// Which key slot.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SlotKind {
    /// Unlocked by the passphrase through Argon2id.
    Passphrase,
    /// Unlocked by the recovery key through HKDF.
    Recovery,
}

impl SlotKind {
    /// The `kind` string in the header.
    pub fn as_str(self) -> &'static str {
        match self {
            SlotKind::Passphrase => "passphrase",
            SlotKind::Recovery => "recovery",
        }
    }
}

/// A secret that unlocks a vault.
#[derive(Debug, Clone, Copy)]
pub enum Secret<'a> {
    /// The passphrase (the shell should pass it NFC-normalised).
    Passphrase(&'a str),
    /// The recovery key.
    RecoveryKey(&'a RecoveryKey),
}

/// AAD of a key slot: `"phr-vault/v1/slot" || vault id (16 bytes) || kind`.
pub fn slot_aad(vault_id: &VaultId, kind: SlotKind) -> Vec<u8> {
    let mut aad = SLOT_AAD_DOMAIN.to_vec();
    aad.extend_from_slice(vault_id.as_bytes());
    aad.extend_from_slice(kind.as_str().as_bytes());
    aad
}

fn mac_aad(body: &[u8]) -> Vec<u8> {
    let mut aad = HEADER_MAC_DOMAIN.to_vec();
    aad.extend_from_slice(body);
    aad
}

// ---- serde representations (the JSON shape, nothing else) ----

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct BodyRepr {
    fmt: String,
    v: u64,
    vault_id: String,
    name: String,
    created: String,
    kdf: KdfRepr,
    slots: Vec<SlotRepr>,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct KdfRepr {
    alg: String,
    version: u32,
    m_kib: u32,
    t: u32,
    p: u32,
    salt: String,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct SlotRepr {
    kind: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    salt: Option<String>,
    nonce: String,
    wrapped: String,
}

/// Only what every header version must keep, to tell "newer" from "damaged".
#[derive(Deserialize)]
struct EnvelopeProbe<'a> {
    #[serde(borrow)]
    body: &'a RawValue,
    sha256: String,
}

#[derive(Deserialize)]
struct BodyProbe {
    fmt: String,
    v: u64,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct EnvelopeRepr<'a> {
    #[serde(borrow)]
    body: &'a RawValue,
    sha256: String,
    mac: String,
}

fn envelope(body: &[u8], mac: &[u8; NONCE_LEN + TAG_LEN]) -> Vec<u8> {
    let mut out = Vec::with_capacity(body.len() + 160);
    out.extend_from_slice(b"{\"body\":");
    out.extend_from_slice(body);
    out.extend_from_slice(b",\"sha256\":\"");
    out.extend_from_slice(hex_encode(&Sha256::digest(body)).as_bytes());
    out.extend_from_slice(b"\",\"mac\":\"");
    out.extend_from_slice(b64_encode(mac).as_bytes());
    out.extend_from_slice(b"\"}");
    out
}

// ---- the parsed header ----

#[derive(Debug, Clone, PartialEq, Eq)]
struct PassphraseSlot {
    nonce: [u8; NONCE_LEN],
    wrapped: [u8; WRAPPED_LEN],
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct RecoverySlot {
    salt: [u8; SALT_LEN],
    nonce: [u8; NONCE_LEN],
    wrapped: [u8; WRAPPED_LEN],
}

/// A parsed, checksum-verified, still locked header. Holds the exact stored bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Header {
    bytes: Vec<u8>,
    body: Vec<u8>,
    vault_id: VaultId,
    name: String,
    created: String,
    kdf: KdfParams,
    kdf_salt: [u8; SALT_LEN],
    passphrase: PassphraseSlot,
    recovery: RecoverySlot,
    mac: [u8; NONCE_LEN + TAG_LEN],
}

impl Header {
    /// Parses stored header bytes. Runs no key derivation: this is cheap and is how the shell
    /// lists vaults (id, name, created) and learns the KDF parameters for the worker.
    ///
    /// # Errors
    /// [`VaultError::CorruptHeader`] for anything that is not an intact v1 header, and
    /// [`VaultError::UnsupportedVersion`] for an intact header of a newer version.
    pub fn parse(bytes: &[u8]) -> Result<Self, VaultError> {
        let corrupt = |reason| VaultError::CorruptHeader { reason };
        let text = core::str::from_utf8(bytes).map_err(|_| corrupt("not text"))?;
        // 1. The part every version keeps: the body and its checksum.
        let probe: EnvelopeProbe<'_> =
            serde_json::from_str(text).map_err(|_| corrupt("not a vault header"))?;
        let sum: [u8; 32] =
            hex_decode_exact(&probe.sha256).ok_or(corrupt("the checksum is not lowercase hex"))?;
        let body = probe.body.get().as_bytes();
        if Sha256::digest(body).as_slice() != sum {
            return Err(corrupt("checksum mismatch"));
        }
        // 2. The version, now that the body is known to be intact.
        let version: BodyProbe =
            serde_json::from_slice(body).map_err(|_| corrupt("no format version"))?;
        if version.fmt != HEADER_FMT {
            return Err(corrupt("not a vault header"));
        }
        if version.v > FORMAT_VERSION {
            return Err(VaultError::UnsupportedVersion { found: version.v });
        }
        if version.v != FORMAT_VERSION {
            return Err(corrupt("unknown format version"));
        }
        // 3. Strict v1 decoding.
        let env: EnvelopeRepr<'_> =
            serde_json::from_str(text).map_err(|_| corrupt("unexpected field"))?;
        if env.body.get() != probe.body.get() || env.sha256 != probe.sha256 {
            return Err(corrupt("not in canonical form"));
        }
        let mac: [u8; NONCE_LEN + TAG_LEN] =
            b64_decode_exact(&env.mac).ok_or(corrupt("the MAC is badly encoded"))?;
        if envelope(body, &mac) != bytes {
            return Err(corrupt("not in canonical form"));
        }
        let repr: BodyRepr = serde_json::from_slice(body).map_err(|_| corrupt("invalid body"))?;
        Self::from_repr(bytes.to_vec(), body.to_vec(), repr, mac)
    }

    fn from_repr(
        bytes: Vec<u8>,
        body: Vec<u8>,
        repr: BodyRepr,
        mac: [u8; NONCE_LEN + TAG_LEN],
    ) -> Result<Self, VaultError> {
        let corrupt = |reason| VaultError::CorruptHeader { reason };
        let vault_id: VaultId = repr.vault_id.parse().map_err(|_| corrupt("bad vault id"))?;
        check_name(&repr.name).map_err(|_| corrupt("bad name"))?;
        check_timestamp(&repr.created).map_err(|_| corrupt("bad creation time"))?;
        if repr.kdf.alg != "argon2id" || repr.kdf.version != ARGON2_VERSION {
            return Err(corrupt("unknown key derivation"));
        }
        let kdf_salt = b64_decode_exact(&repr.kdf.salt).ok_or(corrupt("bad KDF salt"))?;
        let [pass, rec] = <[SlotRepr; 2]>::try_from(repr.slots)
            .map_err(|_| corrupt("expected exactly two key slots"))?;
        if pass.kind != SlotKind::Passphrase.as_str() || pass.salt.is_some() {
            return Err(corrupt("bad passphrase slot"));
        }
        if rec.kind != SlotKind::Recovery.as_str() {
            return Err(corrupt("bad recovery slot"));
        }
        let bad_slot = corrupt("bad key slot encoding");
        let passphrase = PassphraseSlot {
            nonce: b64_decode_exact(&pass.nonce).ok_or(bad_slot.clone())?,
            wrapped: b64_decode_exact(&pass.wrapped).ok_or(bad_slot.clone())?,
        };
        let recovery = RecoverySlot {
            salt: rec
                .salt
                .as_deref()
                .and_then(b64_decode_exact)
                .ok_or(bad_slot.clone())?,
            nonce: b64_decode_exact(&rec.nonce).ok_or(bad_slot.clone())?,
            wrapped: b64_decode_exact(&rec.wrapped).ok_or(bad_slot)?,
        };
        Ok(Self {
            bytes,
            body,
            vault_id,
            name: repr.name,
            created: repr.created,
            kdf: KdfParams {
                m_kib: repr.kdf.m_kib,
                t: repr.kdf.t,
                p: repr.kdf.p,
            },
            kdf_salt,
            passphrase,
            recovery,
            mac,
        })
    }

    /// The exact stored bytes.
    pub fn bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// The vault's id.
    pub fn vault_id(&self) -> VaultId {
        self.vault_id
    }

    /// The display name. Not authenticated until unlock: show it as "unverified" in a picker.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The creation time, as passed in when the vault was created.
    pub fn created(&self) -> &str {
        &self.created
    }

    /// The Argon2id parameters (not yet range-checked; unlock checks them).
    pub fn kdf_params(&self) -> KdfParams {
        self.kdf
    }

    /// The Argon2id salt.
    pub fn kdf_salt(&self) -> &[u8; SALT_LEN] {
        &self.kdf_salt
    }

    /// Unlocks with a passphrase (runs Argon2id here) or a recovery key (HKDF only), verifies the
    /// header MAC, and returns the vault key.
    ///
    /// # Errors
    /// [`VaultError::KdfParamsOutOfRange`] (before hashing), [`VaultError::WrongSecret`], or
    /// [`VaultError::TamperedHeader`].
    pub fn unlock(&self, secret: Secret<'_>) -> Result<VaultKey, VaultError> {
        match secret {
            Secret::Passphrase(p) => {
                let kek = derive_kek(p, &self.kdf, &self.kdf_salt)?;
                self.unlock_with_passphrase_kek(&kek)
            }
            Secret::RecoveryKey(rk) => {
                let kek = rk.derive_kek(&self.recovery.salt);
                self.unlock_slot(&kek, SlotKind::Recovery)
            }
        }
    }

    /// Unlocks with a passphrase KEK derived elsewhere (the KDF worker) from this header's
    /// [`kdf_params`](Self::kdf_params) and [`kdf_salt`](Self::kdf_salt).
    ///
    /// # Errors
    /// [`VaultError::KdfParamsOutOfRange`], [`VaultError::WrongSecret`] or
    /// [`VaultError::TamperedHeader`].
    pub fn unlock_with_passphrase_kek(&self, kek: &Kek) -> Result<VaultKey, VaultError> {
        // Refuse a below-floor header even if some caller derived a KEK for it anyway.
        self.kdf.check()?;
        self.unlock_slot(kek, SlotKind::Passphrase)
    }

    fn unlock_slot(&self, kek: &Kek, kind: SlotKind) -> Result<VaultKey, VaultError> {
        let (nonce, wrapped) = match kind {
            SlotKind::Passphrase => (&self.passphrase.nonce, &self.passphrase.wrapped),
            SlotKind::Recovery => (&self.recovery.nonce, &self.recovery.wrapped),
        };
        let vk = unwrap_key(kek, nonce, &slot_aad(&self.vault_id, kind), wrapped)
            .ok_or(VaultError::WrongSecret)?;
        self.verify_mac(&vk)?;
        Ok(vk)
    }

    fn verify_mac(&self, vk: &VaultKey) -> Result<(), VaultError> {
        let (nonce, tag) = self.mac.split_at(NONCE_LEN);
        let nonce: [u8; NONCE_LEN] = nonce.try_into().expect("12 bytes");
        open(vk.as_bytes(), &nonce, &mac_aad(&self.body), tag)
            .map(|_| ())
            .ok_or(VaultError::TamperedHeader)
    }

    /// Builds a new header. `passphrase_kek` must come from `derive_kek(passphrase, kdf, kdf_salt)`.
    /// Draws, in order: passphrase-slot nonce, recovery-slot salt, recovery-slot nonce, MAC nonce.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn build(
        vault_id: VaultId,
        name: &str,
        created: &str,
        kdf: KdfParams,
        kdf_salt: [u8; SALT_LEN],
        passphrase_kek: &Kek,
        recovery_key: &RecoveryKey,
        vk: &VaultKey,
        entropy: &mut impl Entropy,
    ) -> Result<Self, VaultError> {
        let pass_nonce = random(entropy);
        let passphrase = PassphraseSlot {
            nonce: pass_nonce,
            wrapped: wrap_key(
                passphrase_kek,
                &pass_nonce,
                &slot_aad(&vault_id, SlotKind::Passphrase),
                vk,
            ),
        };
        let rec_salt: [u8; SALT_LEN] = random(entropy);
        let rec_nonce = random(entropy);
        let recovery = RecoverySlot {
            salt: rec_salt,
            nonce: rec_nonce,
            wrapped: wrap_key(
                &recovery_key.derive_kek(&rec_salt),
                &rec_nonce,
                &slot_aad(&vault_id, SlotKind::Recovery),
                vk,
            ),
        };
        Self::assemble(
            vault_id, name, created, kdf, kdf_salt, passphrase, recovery, vk, entropy,
        )
    }

    /// This header with a new passphrase slot (new KDF parameters and salt). The recovery slot is
    /// kept as it is. Draws: slot nonce, MAC nonce.
    pub(crate) fn with_passphrase(
        &self,
        kdf: KdfParams,
        kdf_salt: [u8; SALT_LEN],
        kek: &Kek,
        vk: &VaultKey,
        entropy: &mut impl Entropy,
    ) -> Result<Self, VaultError> {
        let nonce = random(entropy);
        let passphrase = PassphraseSlot {
            nonce,
            wrapped: wrap_key(
                kek,
                &nonce,
                &slot_aad(&self.vault_id, SlotKind::Passphrase),
                vk,
            ),
        };
        Self::assemble(
            self.vault_id,
            &self.name,
            &self.created,
            kdf,
            kdf_salt,
            passphrase,
            self.recovery.clone(),
            vk,
            entropy,
        )
    }

    /// This header with a new recovery slot. Draws: salt, slot nonce, MAC nonce.
    pub(crate) fn with_recovery(
        &self,
        recovery_key: &RecoveryKey,
        vk: &VaultKey,
        entropy: &mut impl Entropy,
    ) -> Result<Self, VaultError> {
        let salt: [u8; SALT_LEN] = random(entropy);
        let nonce = random(entropy);
        let recovery = RecoverySlot {
            salt,
            nonce,
            wrapped: wrap_key(
                &recovery_key.derive_kek(&salt),
                &nonce,
                &slot_aad(&self.vault_id, SlotKind::Recovery),
                vk,
            ),
        };
        Self::assemble(
            self.vault_id,
            &self.name,
            &self.created,
            self.kdf,
            self.kdf_salt,
            self.passphrase.clone(),
            recovery,
            vk,
            entropy,
        )
    }

    /// This header with a new display name. Draws: MAC nonce.
    pub(crate) fn with_name(
        &self,
        name: &str,
        vk: &VaultKey,
        entropy: &mut impl Entropy,
    ) -> Result<Self, VaultError> {
        Self::assemble(
            self.vault_id,
            name,
            &self.created,
            self.kdf,
            self.kdf_salt,
            self.passphrase.clone(),
            self.recovery.clone(),
            vk,
            entropy,
        )
    }

    #[allow(clippy::too_many_arguments)]
    fn assemble(
        vault_id: VaultId,
        name: &str,
        created: &str,
        kdf: KdfParams,
        kdf_salt: [u8; SALT_LEN],
        passphrase: PassphraseSlot,
        recovery: RecoverySlot,
        vk: &VaultKey,
        entropy: &mut impl Entropy,
    ) -> Result<Self, VaultError> {
        check_name(name)?;
        check_timestamp(created)?;
        kdf.check()?;
        let repr = BodyRepr {
            fmt: HEADER_FMT.to_owned(),
            v: FORMAT_VERSION,
            vault_id: vault_id.to_string(),
            name: name.to_owned(),
            created: created.to_owned(),
            kdf: KdfRepr {
                alg: "argon2id".to_owned(),
                version: ARGON2_VERSION,
                m_kib: kdf.m_kib,
                t: kdf.t,
                p: kdf.p,
                salt: b64_encode(&kdf_salt),
            },
            slots: vec![
                SlotRepr {
                    kind: SlotKind::Passphrase.as_str().to_owned(),
                    salt: None,
                    nonce: b64_encode(&passphrase.nonce),
                    wrapped: b64_encode(&passphrase.wrapped),
                },
                SlotRepr {
                    kind: SlotKind::Recovery.as_str().to_owned(),
                    salt: Some(b64_encode(&recovery.salt)),
                    nonce: b64_encode(&recovery.nonce),
                    wrapped: b64_encode(&recovery.wrapped),
                },
            ],
        };
        let body = serde_json::to_vec(&repr).expect("header body serialises");
        let mac_nonce: [u8; NONCE_LEN] = random(entropy);
        let tag = seal(vk.as_bytes(), &mac_nonce, &mac_aad(&body), &[]);
        let mut mac = [0u8; NONCE_LEN + TAG_LEN];
        mac[..NONCE_LEN].copy_from_slice(&mac_nonce);
        mac[NONCE_LEN..].copy_from_slice(&tag);
        let bytes = envelope(&body, &mac);
        Ok(Self {
            bytes,
            body,
            vault_id,
            name: name.to_owned(),
            created: created.to_owned(),
            kdf,
            kdf_salt,
            passphrase,
            recovery,
            mac,
        })
    }
}

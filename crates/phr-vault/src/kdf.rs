//! Passphrase → key-encryption key, with Argon2id (RFC 9106, version 0x13).
//!
//! Parameters are stored in the header, so a damaged or malicious header could ask for weak
//! parameters (a downgrade that makes a stolen copy cheap to crack) or absurd ones (a tab that
//! hangs or runs out of memory). [`KdfParams::check`] enforces a floor and a ceiling, and
//! [`derive_kek`] calls it *before* any hashing. The RFC 9106 test vector runs through the same
//! internal function as [`derive_kek`].

use argon2::{Algorithm, Argon2, AssociatedData, ParamsBuilder, Version};
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use crate::entropy::{random, Entropy};
use crate::error::VaultError;
use crate::keys::{Kek, KEY_LEN};

/// Length of the Argon2id salt.
pub const SALT_LEN: usize = 16;

/// Argon2id cost parameters, as stored in the header (`m_kib`, `t`, `p`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct KdfParams {
    /// Memory in KiB.
    pub m_kib: u32,
    /// Passes over memory.
    pub t: u32,
    /// Lanes.
    pub p: u32,
}

impl KdfParams {
    /// What new vaults use: 64 MiB, 3 passes, 1 lane (RFC 9106's second recommended option
    /// without lanes; wasm has no threads, so more lanes cost us time but not an attacker).
    pub const DEFAULT: Self = Self {
        m_kib: 65_536,
        t: 3,
        p: 1,
    };
    /// The floor, OWASP's minimum for Argon2id: 19 MiB, 2 passes, 1 lane. Also the low-memory
    /// fallback for devices that cannot allocate 64 MiB.
    pub const MINIMUM: Self = Self {
        m_kib: MIN_M_KIB,
        t: MIN_T,
        p: 1,
    };

    /// Checks the floor and the ceiling. Runs no hashing.
    ///
    /// # Errors
    /// [`VaultError::KdfParamsOutOfRange`] naming the limit that was crossed.
    pub fn check(&self) -> Result<(), VaultError> {
        let out = |detail| Err(VaultError::KdfParamsOutOfRange { detail });
        if self.m_kib < MIN_M_KIB {
            return out("memory below 19 MiB");
        }
        if self.m_kib > MAX_M_KIB {
            return out("memory above 1 GiB");
        }
        if self.t < MIN_T {
            return out("fewer than 2 passes");
        }
        if self.t > MAX_T {
            return out("more than 20 passes");
        }
        if self.p < 1 || self.p > MAX_P {
            return out("lanes outside 1 to 16");
        }
        if u64::from(self.m_kib) * u64::from(self.t) > MAX_WORK_KIB {
            return out("memory times passes above 4 GiB");
        }
        Ok(())
    }
}

impl Default for KdfParams {
    fn default() -> Self {
        Self::DEFAULT
    }
}

/// Floor: memory in KiB (19 MiB, OWASP).
pub const MIN_M_KIB: u32 = 19_456;
/// Floor: passes (OWASP).
pub const MIN_T: u32 = 2;
/// Ceiling: memory in KiB (1 GiB; a quarter of wasm32's whole address space).
pub const MAX_M_KIB: u32 = 1_048_576;
/// Ceiling: passes.
pub const MAX_T: u32 = 20;
/// Ceiling: lanes.
pub const MAX_P: u32 = 16;
/// Ceiling on memory × passes in KiB: about 21 times the default's work, so at worst tens of
/// seconds in wasm on a phone, never minutes.
pub const MAX_WORK_KIB: u64 = 4 * 1_048_576;

/// A fresh random Argon2id salt.
pub fn random_salt(entropy: &mut impl Entropy) -> [u8; SALT_LEN] {
    random(entropy)
}

/// Derives the passphrase KEK: `Argon2id(passphrase, salt, m, t, p)` → 32 bytes.
///
/// This is the slow step. The browser shell runs it in a Web Worker (with this crate compiled in)
/// and hands the 32 bytes back with [`Kek::from_bytes`].
///
/// # Errors
/// [`VaultError::KdfParamsOutOfRange`] before any hashing when `params` fail [`KdfParams::check`].
pub fn derive_kek(
    passphrase: &str,
    params: &KdfParams,
    salt: &[u8; SALT_LEN],
) -> Result<Kek, VaultError> {
    params.check()?;
    let mut out = Zeroizing::new([0u8; KEY_LEN]);
    argon2id(passphrase.as_bytes(), salt, &[], &[], params, &mut out[..]).map_err(|_| {
        VaultError::KdfParamsOutOfRange {
            detail: "not accepted by Argon2",
        }
    })?;
    Ok(Kek::from_bytes(*out))
}

/// The one Argon2id call of the crate. `secret` and `ad` are empty in the vault format; they
/// exist so that the RFC 9106 test vector exercises this exact function.
fn argon2id(
    password: &[u8],
    salt: &[u8],
    secret: &[u8],
    ad: &[u8],
    params: &KdfParams,
    out: &mut [u8],
) -> Result<(), argon2::Error> {
    let mut builder = ParamsBuilder::new();
    builder
        .m_cost(params.m_kib)
        .t_cost(params.t)
        .p_cost(params.p)
        .output_len(out.len());
    if !ad.is_empty() {
        builder.data(AssociatedData::new(ad)?);
    }
    let built = builder.build()?;
    let argon = if secret.is_empty() {
        Argon2::new(Algorithm::Argon2id, Version::V0x13, built)
    } else {
        Argon2::new_with_secret(secret, Algorithm::Argon2id, Version::V0x13, built)?
    };
    argon.hash_password_into(password, salt, out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 9106 section 5.3 (Argon2id): through the same function `derive_kek` uses.
    #[test]
    fn rfc9106_argon2id_vector() {
        let params = KdfParams {
            m_kib: 32,
            t: 3,
            p: 4,
        };
        let mut tag = [0u8; 32];
        argon2id(&[1; 32], &[2; 16], &[3; 8], &[4; 12], &params, &mut tag).unwrap();
        assert_eq!(
            tag,
            [
                0x0d, 0x64, 0x0d, 0xf5, 0x8d, 0x78, 0x76, 0x6c, 0x08, 0xc0, 0x37, 0xa3, 0x4a, 0x8b,
                0x53, 0xc9, 0xd0, 0x1e, 0xf0, 0x45, 0x2d, 0x75, 0xb6, 0x5e, 0xb5, 0x25, 0x20, 0xe9,
                0x6b, 0x01, 0xe6, 0x59
            ]
        );
    }

    #[test]
    fn floors_and_ceilings() {
        assert_eq!(KdfParams::DEFAULT.check(), Ok(()));
        assert_eq!(KdfParams::MINIMUM.check(), Ok(()));
        let bad = [
            (19_455, 2, 1, "memory below 19 MiB"),
            (65_536, 1, 1, "fewer than 2 passes"),
            (65_536, 3, 0, "lanes outside 1 to 16"),
            (65_536, 3, 17, "lanes outside 1 to 16"),
            (MAX_M_KIB + 1, 2, 1, "memory above 1 GiB"),
            (65_536, 21, 1, "more than 20 passes"),
            (MAX_M_KIB, 5, 1, "memory times passes above 4 GiB"),
            (u32::MAX, u32::MAX, u32::MAX, "memory above 1 GiB"),
        ];
        for (m_kib, t, p, detail) in bad {
            let params = KdfParams { m_kib, t, p };
            assert_eq!(
                params.check(),
                Err(VaultError::KdfParamsOutOfRange { detail }),
                "{params:?}"
            );
        }
        // The edges themselves are accepted.
        for (m_kib, t, p) in [(MAX_M_KIB, 4, 16), (209_715, 20, 1), (MIN_M_KIB, MIN_T, 16)] {
            assert_eq!(KdfParams { m_kib, t, p }.check(), Ok(()));
        }
    }

    /// A ceiling-breaking request returns at once: if it reached Argon2 it would try to allocate
    /// 4 TiB and abort the test process, so returning at all proves no hashing ran.
    #[test]
    fn out_of_range_is_refused_before_hashing() {
        let params = KdfParams {
            m_kib: u32::MAX,
            t: 3,
            p: 1,
        };
        assert!(matches!(
            derive_kek("correct horse battery staple", &params, &[0; SALT_LEN]),
            Err(VaultError::KdfParamsOutOfRange { .. })
        ));
        let weak = KdfParams {
            m_kib: 8,
            t: 1,
            p: 1,
        };
        assert!(matches!(
            derive_kek("x", &weak, &[0; SALT_LEN]),
            Err(VaultError::KdfParamsOutOfRange { .. })
        ));
    }
}

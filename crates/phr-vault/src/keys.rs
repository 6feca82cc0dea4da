//! Key material: 256-bit keys that are zeroized when dropped and never printed, plus the AES-256-GCM
//! primitives every layer of the format uses.

use aes_gcm::aead::{Aead, AeadInOut, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use core::fmt;
use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

use crate::entropy::{random, Entropy};

/// Length of every key in the format (AES-256).
pub const KEY_LEN: usize = 32;
/// Length of every AES-GCM nonce in the format.
pub const NONCE_LEN: usize = 12;
/// Length of every AES-GCM tag in the format.
pub const TAG_LEN: usize = 16;

macro_rules! secret_key {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, Zeroize, ZeroizeOnDrop)]
        pub struct $name([u8; KEY_LEN]);

        impl $name {
            /// Wraps raw key bytes (for example a KEK handed back by the KDF worker).
            pub fn from_bytes(bytes: [u8; KEY_LEN]) -> Self {
                Self(bytes)
            }

            /// The raw key bytes. Copy them only into something that is itself zeroized or into
            /// a non-extractable WebCrypto key.
            pub fn as_bytes(&self) -> &[u8; KEY_LEN] {
                &self.0
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(concat!(stringify!($name), "(<redacted>)"))
            }
        }
    };
}

secret_key!(
    /// A key-encryption key: the output of Argon2id (passphrase) or HKDF (recovery key). It only
    /// ever wraps the [`VaultKey`], never data.
    Kek
);

secret_key!(
    /// The vault key (VK): 256 random bits that encrypt every segment and authenticate the header.
    /// It never changes for the life of a vault; passphrase changes re-wrap it.
    VaultKey
);

impl VaultKey {
    pub(crate) fn generate(entropy: &mut impl Entropy) -> Self {
        Self(random(entropy))
    }
}

/// AES-256-GCM encryption: returns `ciphertext || tag`.
pub(crate) fn seal(
    key: &[u8; KEY_LEN],
    nonce: &[u8; NONCE_LEN],
    aad: &[u8],
    plaintext: &[u8],
) -> Vec<u8> {
    let cipher = Aes256Gcm::new(key.into());
    cipher
        .encrypt(
            &Nonce::from(*nonce),
            Payload {
                msg: plaintext,
                aad,
            },
        )
        // Only fails for inputs above 64 GiB, which nothing in this crate produces.
        .expect("AES-GCM input within limits")
}

/// AES-256-GCM decryption of `ciphertext || tag`; `None` when authentication fails.
pub(crate) fn open(
    key: &[u8; KEY_LEN],
    nonce: &[u8; NONCE_LEN],
    aad: &[u8],
    ciphertext: &[u8],
) -> Option<Vec<u8>> {
    let cipher = Aes256Gcm::new(key.into());
    cipher
        .decrypt(
            &Nonce::from(*nonce),
            Payload {
                msg: ciphertext,
                aad,
            },
        )
        .ok()
}

/// Wraps a 32-byte key: `AES-256-GCM(kek, nonce, aad, key)`, 48 bytes.
pub(crate) fn wrap_key(
    kek: &Kek,
    nonce: &[u8; NONCE_LEN],
    aad: &[u8],
    key: &VaultKey,
) -> [u8; KEY_LEN + TAG_LEN] {
    seal(kek.as_bytes(), nonce, aad, key.as_bytes())
        .try_into()
        .expect("32-byte key wraps to 48 bytes")
}

/// Unwraps a key wrapped by [`wrap_key`]; `None` when the KEK or the AAD is wrong.
pub(crate) fn unwrap_key(
    kek: &Kek,
    nonce: &[u8; NONCE_LEN],
    aad: &[u8],
    wrapped: &[u8; KEY_LEN + TAG_LEN],
) -> Option<VaultKey> {
    let cipher = Aes256Gcm::new(kek.as_bytes().into());
    let mut buf = Zeroizing::new(wrapped.to_vec());
    cipher
        .decrypt_in_place(&Nonce::from(*nonce), aad, &mut *buf)
        .ok()?;
    let bytes: [u8; KEY_LEN] = buf.as_slice().try_into().ok()?;
    Some(VaultKey(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_never_print_their_bytes() {
        let k = VaultKey::from_bytes([0xab; KEY_LEN]);
        let shown = format!("{k:?}");
        assert_eq!(shown, "VaultKey(<redacted>)");
        assert!(!shown.contains("ab"));
    }

    #[test]
    fn zeroize_clears_key_bytes() {
        let mut k = Kek::from_bytes([7; KEY_LEN]);
        k.zeroize();
        assert_eq!(k.as_bytes(), &[0; KEY_LEN]);
    }

    #[test]
    fn wrap_unwrap_binds_kek_and_aad() {
        let kek = Kek::from_bytes([1; KEY_LEN]);
        let vk = VaultKey::from_bytes([2; KEY_LEN]);
        let nonce = [3; NONCE_LEN];
        let w = wrap_key(&kek, &nonce, b"aad", &vk);
        assert_eq!(
            unwrap_key(&kek, &nonce, b"aad", &w).map(|k| *k.as_bytes()),
            Some([2; KEY_LEN])
        );
        assert!(unwrap_key(&kek, &nonce, b"aae", &w).is_none());
        assert!(unwrap_key(&Kek::from_bytes([9; KEY_LEN]), &nonce, b"aad", &w).is_none());
        assert!(unwrap_key(&kek, &[4; NONCE_LEN], b"aad", &w).is_none());
    }
}

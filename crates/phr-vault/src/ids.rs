//! Vault identities and segment names.

use core::fmt;
use core::str::FromStr;

use crate::encoding::{hex_decode_exact, hex_encode};
use crate::entropy::{random, Entropy};
use crate::error::VaultError;

/// Length of a vault id in bytes.
pub const VAULT_ID_LEN: usize = 16;

/// A vault's identity: 128 random bits, written as 32 lowercase hex digits. Not secret.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct VaultId([u8; VAULT_ID_LEN]);

impl VaultId {
    /// Draws a new id.
    pub fn generate(entropy: &mut impl Entropy) -> Self {
        Self(random(entropy))
    }

    /// From raw bytes.
    pub fn from_bytes(bytes: [u8; VAULT_ID_LEN]) -> Self {
        Self(bytes)
    }

    /// The raw bytes (as they appear in segment blobs).
    pub fn as_bytes(&self) -> &[u8; VAULT_ID_LEN] {
        &self.0
    }
}

impl fmt::Display for VaultId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&hex_encode(&self.0))
    }
}

impl fmt::Debug for VaultId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "VaultId({self})")
    }
}

impl FromStr for VaultId {
    type Err = VaultError;

    /// Parses exactly 32 lowercase hex digits.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        hex_decode_exact(s)
            .map(Self)
            .ok_or(VaultError::InvalidInput {
                what: "The vault id",
                detail: "it must be 32 lowercase hex digits",
            })
    }
}

/// The reserved segment name of the manifest.
pub const MANIFEST_NAME: &str = "manifest";
/// Longest segment name, in bytes.
pub const MAX_SEGMENT_NAME_LEN: usize = 64;

/// Checks a segment name: 1 to 64 characters from `a-z 0-9 . _ -`, starting with a letter or
/// digit. Names appear in plaintext in storage keys and backups, so they must never contain
/// health information: use names like `fhir-3` or `notes`, not `oncology`.
///
/// `allow_manifest` is false for data segments: the name `manifest` is reserved.
pub(crate) fn check_segment_name(name: &str, allow_manifest: bool) -> Result<(), VaultError> {
    let bad = |detail| {
        Err(VaultError::InvalidInput {
            what: "The segment name",
            detail,
        })
    };
    let bytes = name.as_bytes();
    if bytes.is_empty() || bytes.len() > MAX_SEGMENT_NAME_LEN {
        return bad("it must be 1 to 64 characters long");
    }
    let ok = |c: u8| c.is_ascii_lowercase() || c.is_ascii_digit();
    if !ok(bytes[0])
        || !bytes
            .iter()
            .all(|&c| ok(c) || matches!(c, b'.' | b'_' | b'-'))
    {
        return bad("use only a-z, 0-9, '.', '_' and '-', starting with a letter or digit");
    }
    if !allow_manifest && name == MANIFEST_NAME {
        return bad("\"manifest\" is reserved");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vault_id_text_is_strict_lowercase_hex() {
        let id = VaultId::from_bytes([0xab; VAULT_ID_LEN]);
        let text = id.to_string();
        assert_eq!(text, "ab".repeat(16));
        assert_eq!(text.parse::<VaultId>().unwrap(), id);
        assert!(text.to_uppercase().parse::<VaultId>().is_err());
        assert!(text[1..].parse::<VaultId>().is_err());
    }

    #[test]
    fn segment_names() {
        for ok in ["a", "fhir-3", "notes.v2", "x_y", &"a".repeat(64)] {
            assert_eq!(check_segment_name(ok, false), Ok(()), "{ok}");
        }
        for bad in [
            "",
            "A",
            "-a",
            "a/b",
            "a b",
            "é",
            &"a".repeat(65),
            "manifest",
        ] {
            assert!(check_segment_name(bad, false).is_err(), "{bad}");
        }
        assert_eq!(check_segment_name("manifest", true), Ok(()));
    }
}

//! The recovery key: 128 random bits, shown once as seven groups of four Crockford base32
//! characters, e.g. `7KQ2-M9XD-...`.
//!
//! The last two characters are Reed–Solomon check symbols over GF(32) (generator roots α and α²).
//! The code has minimum distance 3, so *every* single mistyped character, *every* pair of mistyped
//! characters and *every* swap of two characters is reported as a typo (and a random error slips
//! through with probability 1/1024) without trying the key against the vault. A typo and a wrong
//! key are therefore different errors. Parsing ignores case, spaces and dashes, and reads the
//! look-alikes I and L as 1 and O as 0, as Crockford base32 prescribes.

use core::fmt;
use hkdf::Hkdf;
use sha2::Sha256;
use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

use crate::entropy::{random, Entropy};
use crate::error::VaultError;
use crate::keys::{Kek, KEY_LEN};

/// Random bits in a recovery key: 16 bytes.
pub const RECOVERY_SECRET_LEN: usize = 16;
/// Data symbols: 128 bits in 26 five-bit symbols (the last two bits are zero).
const DATA_SYMBOLS: usize = 26;
/// Data plus two check symbols.
const SYMBOLS: usize = DATA_SYMBOLS + 2;
/// HKDF info string of the recovery slot.
pub const RECOVERY_INFO: &[u8] = b"phr-vault/v1/recovery";

const ALPHABET: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";

/// A recovery key. Zeroized on drop; `Debug` does not print it.
#[derive(Clone, PartialEq, Eq, Zeroize, ZeroizeOnDrop)]
pub struct RecoveryKey([u8; RECOVERY_SECRET_LEN]);

impl fmt::Debug for RecoveryKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("RecoveryKey(<redacted>)")
    }
}

impl RecoveryKey {
    /// Draws a new recovery key.
    pub fn generate(entropy: &mut impl Entropy) -> Self {
        Self(random(entropy))
    }

    /// Wraps raw secret bytes (for tests and the format's test vectors).
    pub fn from_bytes(bytes: [u8; RECOVERY_SECRET_LEN]) -> Self {
        Self(bytes)
    }

    /// The raw secret.
    pub fn as_bytes(&self) -> &[u8; RECOVERY_SECRET_LEN] {
        &self.0
    }

    /// The key as the patient sees it: `XXXX-XXXX-XXXX-XXXX-XXXX-XXXX-XXXX` (uppercase Crockford
    /// base32, the last two characters are the check). Show it once; never store it.
    pub fn display(&self) -> Zeroizing<String> {
        let symbols = Zeroizing::new(encode_symbols(&self.0));
        let mut out = Zeroizing::new(String::with_capacity(SYMBOLS + SYMBOLS / 4));
        for (i, s) in symbols.iter().enumerate() {
            if i > 0 && i % 4 == 0 {
                out.push('-');
            }
            out.push(ALPHABET[usize::from(*s)] as char);
        }
        out
    }

    /// Parses a typed recovery key, tolerant of case, spaces, dashes and the look-alikes I, L, O.
    ///
    /// # Errors
    /// [`VaultError::RecoveryKeyTypo`] when the text cannot be a recovery key (wrong length, a
    /// character outside the alphabet, or the check symbols do not match).
    pub fn parse(text: &str) -> Result<Self, VaultError> {
        let typo = |detail| VaultError::RecoveryKeyTypo { detail };
        let mut symbols = Zeroizing::new(Vec::with_capacity(SYMBOLS));
        for c in text.chars() {
            if c == '-' || c.is_whitespace() {
                continue;
            }
            let value = decode_char(c).ok_or(typo("a character that recovery keys never use"))?;
            symbols.push(value);
        }
        if symbols.len() != SYMBOLS {
            return Err(typo("it should have 28 letters and digits"));
        }
        if !is_codeword(&symbols) {
            return Err(typo("the check characters do not match"));
        }
        let mut bytes = [0u8; RECOVERY_SECRET_LEN];
        let mut acc: u32 = 0;
        let mut bits = 0;
        let mut i = 0;
        for &s in &symbols[..DATA_SYMBOLS] {
            acc = (acc << 5) | u32::from(s);
            bits += 5;
            if bits >= 8 {
                bits -= 8;
                bytes[i] = (acc >> bits) as u8;
                i += 1;
                acc &= (1 << bits) - 1;
            }
        }
        // The two bits after the 128 data bits are always zero in a real key.
        if acc != 0 {
            bytes.zeroize();
            return Err(typo("the check characters do not match"));
        }
        acc.zeroize();
        Ok(Self(bytes))
    }

    /// KEK_rk = HKDF-SHA256(ikm = the 16 secret bytes, salt = the slot's salt,
    /// info = "phr-vault/v1/recovery"), 32 bytes. Fast: no Argon2, the key is already random.
    pub fn derive_kek(&self, salt: &[u8]) -> Kek {
        let hk = Hkdf::<Sha256>::new(Some(salt), &self.0);
        let mut out = Zeroizing::new([0u8; KEY_LEN]);
        hk.expand(RECOVERY_INFO, &mut out[..])
            .expect("32 bytes is a valid HKDF-SHA256 output length");
        Kek::from_bytes(*out)
    }
}

fn decode_char(c: char) -> Option<u8> {
    let c = match c.to_ascii_uppercase() {
        'I' | 'L' => '1',
        'O' => '0',
        other => other,
    };
    if !c.is_ascii() {
        return None;
    }
    ALPHABET.iter().position(|&a| a == c as u8).map(|p| p as u8)
}

/// 16 bytes → 26 data symbols + 2 check symbols.
fn encode_symbols(bytes: &[u8; RECOVERY_SECRET_LEN]) -> [u8; SYMBOLS] {
    let mut out = [0u8; SYMBOLS];
    let mut acc: u32 = 0;
    let mut bits = 0;
    let mut n = 0;
    for &b in bytes {
        acc = (acc << 8) | u32::from(b);
        bits += 8;
        while bits >= 5 {
            bits -= 5;
            out[n] = ((acc >> bits) & 31) as u8;
            n += 1;
        }
        acc &= (1 << bits) - 1;
    }
    out[n] = ((acc << (5 - bits)) & 31) as u8;
    n += 1;
    debug_assert_eq!(n, DATA_SYMBOLS);
    let [c0, c1] = check_symbols(&out[..DATA_SYMBOLS]);
    out[DATA_SYMBOLS] = c0;
    out[DATA_SYMBOLS + 1] = c1;
    acc.zeroize();
    out
}

/// Multiplication in GF(32) with the primitive polynomial x⁵ + x² + 1.
fn gf_mul(mut a: u8, mut b: u8) -> u8 {
    let mut p = 0;
    while b != 0 {
        if b & 1 != 0 {
            p ^= a;
        }
        b >>= 1;
        a <<= 1;
        if a & 0x20 != 0 {
            a ^= 0x25;
        }
    }
    p
}

const ALPHA: u8 = 2;

/// Systematic Reed–Solomon encoding: the remainder of `data(x)·x²` divided by
/// `g(x) = (x − α)(x − α²)`.
fn check_symbols(data: &[u8]) -> [u8; 2] {
    let a2 = gf_mul(ALPHA, ALPHA);
    let g1 = ALPHA ^ a2;
    let g0 = gf_mul(ALPHA, a2);
    let mut r = [0u8; 2];
    for &d in data {
        let feedback = d ^ r[0];
        r[0] = r[1] ^ gf_mul(feedback, g1);
        r[1] = gf_mul(feedback, g0);
    }
    r
}

/// A word is a codeword when it vanishes at α and α² (Horner evaluation).
fn is_codeword(symbols: &[u8]) -> bool {
    let a2 = gf_mul(ALPHA, ALPHA);
    let (mut s1, mut s2) = (0u8, 0u8);
    for &s in symbols {
        s1 = gf_mul(s1, ALPHA) ^ s;
        s2 = gf_mul(s2, a2) ^ s;
    }
    s1 == 0 && s2 == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(seed: u8) -> RecoveryKey {
        let mut b = [0u8; RECOVERY_SECRET_LEN];
        for (i, x) in b.iter_mut().enumerate() {
            *x = seed
                .wrapping_mul(31)
                .wrapping_add((i as u8).wrapping_mul(97))
                ^ 0x5a;
        }
        RecoveryKey::from_bytes(b)
    }

    #[test]
    fn gf32_is_a_field() {
        // α generates all 31 non-zero elements.
        let mut x = 1u8;
        let mut seen = std::collections::BTreeSet::new();
        for _ in 0..31 {
            seen.insert(x);
            x = gf_mul(x, ALPHA);
        }
        assert_eq!(x, 1);
        assert_eq!(seen.len(), 31);
    }

    #[test]
    fn display_and_parse_round_trip_with_tolerance() {
        for seed in 0..50 {
            let k = key(seed);
            let shown = k.display();
            assert_eq!(shown.len(), 34);
            assert_eq!(shown.matches('-').count(), 6);
            assert_eq!(RecoveryKey::parse(&shown).unwrap(), k);
            let sloppy = shown
                .to_lowercase()
                .replace('-', " ")
                .replace('1', "l")
                .replace('0', "o");
            assert_eq!(RecoveryKey::parse(&sloppy).unwrap(), k);
            assert_eq!(RecoveryKey::parse(&shown.replace('-', "")).unwrap(), k);
            assert_eq!(RecoveryKey::parse(&format!("  {}\n", *shown)).unwrap(), k);
        }
        let all_ones = RecoveryKey::from_bytes([0xff; RECOVERY_SECRET_LEN]);
        assert_eq!(RecoveryKey::parse(&all_ones.display()).unwrap(), all_ones);
        let zeros = RecoveryKey::from_bytes([0; RECOVERY_SECRET_LEN]);
        assert_eq!(&*zeros.display(), "0000-0000-0000-0000-0000-0000-0000");
    }

    fn symbols_to_text(symbols: &[u8]) -> String {
        symbols
            .iter()
            .map(|&s| ALPHABET[usize::from(s)] as char)
            .collect()
    }

    fn is_typo(text: &str) -> bool {
        matches!(
            RecoveryKey::parse(text),
            Err(VaultError::RecoveryKeyTypo { .. })
        )
    }

    #[test]
    fn every_single_and_double_substitution_is_a_typo() {
        let k = key(7);
        let good = encode_symbols(k.as_bytes());
        for i in 0..SYMBOLS {
            for delta_i in 1..32u8 {
                let mut w = good;
                w[i] ^= delta_i;
                assert!(is_typo(&symbols_to_text(&w)), "single error at {i}");
                for j in i + 1..SYMBOLS {
                    for delta_j in 1..32u8 {
                        let mut w2 = w;
                        w2[j] ^= delta_j;
                        assert!(!is_codeword(&w2), "double error at {i},{j}");
                    }
                }
            }
        }
    }

    #[test]
    fn every_transposition_is_a_typo() {
        for seed in 0..20 {
            let good = encode_symbols(key(seed).as_bytes());
            for i in 0..SYMBOLS {
                for j in i + 1..SYMBOLS {
                    if good[i] == good[j] {
                        continue;
                    }
                    let mut w = good;
                    w.swap(i, j);
                    assert!(is_typo(&symbols_to_text(&w)), "swap {i},{j}");
                }
            }
        }
    }

    #[test]
    fn malformed_text_is_a_typo() {
        let shown = key(3).display();
        assert!(is_typo(""));
        assert!(is_typo(&shown[..shown.len() - 1]));
        assert!(is_typo(&format!("{}A", *shown)));
        assert!(is_typo(&shown.replacen(
            |c: char| c.is_ascii_alphanumeric(),
            "U",
            1
        )));
        assert!(is_typo(&shown.replacen(
            |c: char| c.is_ascii_alphanumeric(),
            "é",
            1
        )));
        assert!(is_typo(&shown.replacen(
            |c: char| c.is_ascii_alphanumeric(),
            "*",
            1
        )));
    }

    #[test]
    fn nonzero_padding_bits_are_a_typo() {
        // A codeword whose 26th symbol has non-zero low bits encodes no key.
        let mut w = encode_symbols(key(1).as_bytes());
        w[DATA_SYMBOLS - 1] |= 1;
        let [c0, c1] = check_symbols(&w[..DATA_SYMBOLS]);
        w[DATA_SYMBOLS] = c0;
        w[DATA_SYMBOLS + 1] = c1;
        assert!(is_codeword(&w));
        assert!(is_typo(&symbols_to_text(&w)));
    }

    #[test]
    fn kek_depends_on_key_and_salt() {
        let k = key(1);
        let a = k.derive_kek(&[0; 16]);
        assert_eq!(a.as_bytes(), k.derive_kek(&[0; 16]).as_bytes());
        assert_ne!(a.as_bytes(), k.derive_kek(&[1; 16]).as_bytes());
        assert_ne!(a.as_bytes(), key(2).derive_kek(&[0; 16]).as_bytes());
    }

    #[test]
    fn debug_is_redacted() {
        assert_eq!(format!("{:?}", key(1)), "RecoveryKey(<redacted>)");
    }
}

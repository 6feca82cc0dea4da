//! Strict, canonical text encodings for the header: base64url without padding (non-canonical
//! trailing bits rejected) and lowercase hex. Canonical decoding means two different strings never
//! decode to the same bytes, which is what makes every bit flip in the stored header detectable.

use base64::alphabet::URL_SAFE;
use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig};
use base64::engine::DecodePaddingMode;
use base64::Engine;

const B64: GeneralPurpose = GeneralPurpose::new(
    &URL_SAFE,
    GeneralPurposeConfig::new()
        .with_encode_padding(false)
        .with_decode_padding_mode(DecodePaddingMode::RequireNone)
        .with_decode_allow_trailing_bits(false),
);

/// base64url, no padding.
pub(crate) fn b64_encode(bytes: &[u8]) -> String {
    B64.encode(bytes)
}

/// Strict base64url decoding: no padding, no whitespace, no non-zero trailing bits.
pub(crate) fn b64_decode(s: &str) -> Option<Vec<u8>> {
    B64.decode(s).ok()
}

/// Strict base64url decoding to exactly `N` bytes.
pub(crate) fn b64_decode_exact<const N: usize>(s: &str) -> Option<[u8; N]> {
    b64_decode(s)?.try_into().ok()
}

/// Lowercase hex.
pub(crate) fn hex_encode(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(DIGITS[usize::from(b >> 4)] as char);
        s.push(DIGITS[usize::from(b & 0xf)] as char);
    }
    s
}

/// Lowercase-only hex decoding to exactly `N` bytes.
pub(crate) fn hex_decode_exact<const N: usize>(s: &str) -> Option<[u8; N]> {
    fn nibble(c: u8) -> Option<u8> {
        match c {
            b'0'..=b'9' => Some(c - b'0'),
            b'a'..=b'f' => Some(c - b'a' + 10),
            _ => None,
        }
    }
    let bytes = s.as_bytes();
    if bytes.len() != N * 2 {
        return None;
    }
    let mut out = [0u8; N];
    for (i, pair) in bytes.chunks_exact(2).enumerate() {
        out[i] = (nibble(pair[0])? << 4) | nibble(pair[1])?;
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64url_is_canonical() {
        assert_eq!(b64_encode(&[0xfb, 0xff]), "-_8");
        assert_eq!(b64_decode("-_8"), Some(vec![0xfb, 0xff]));
        // Padding, standard alphabet and whitespace are refused.
        assert_eq!(b64_decode("-_8="), None);
        assert_eq!(b64_decode("+/8"), None);
        assert_eq!(b64_decode("-_8 "), None);
        // "-_9" decodes to the same two bytes with a non-zero trailing bit: refused.
        assert_eq!(b64_decode("-_9"), None);
        assert_eq!(b64_decode_exact::<2>("-_8"), Some([0xfb, 0xff]));
        assert_eq!(b64_decode_exact::<3>("-_8"), None);
    }

    #[test]
    fn hex_is_lowercase_only() {
        assert_eq!(hex_encode(&[0x00, 0xab, 0xff]), "00abff");
        assert_eq!(hex_decode_exact::<3>("00abff"), Some([0x00, 0xab, 0xff]));
        assert_eq!(hex_decode_exact::<3>("00ABff"), None);
        assert_eq!(hex_decode_exact::<3>("00abf"), None);
        assert_eq!(hex_decode_exact::<2>("00abff"), None);
        assert_eq!(hex_decode_exact::<1>("0g"), None);
    }
}

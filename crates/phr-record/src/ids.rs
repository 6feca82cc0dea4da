//! Hashing, hex and name-based UUIDs. The crate has no randomness, so every identifier it makes
//! itself (export fullUrls, Provenance ids, file source ids) is derived from content with
//! SHA-256: the same input always gives the same id.

use sha2::{Digest, Sha256};

/// SHA-256 of `parts`, each prefixed by its length so that `("ab","c")` and `("a","bc")` differ.
pub(crate) fn sha256_parts(parts: &[&[u8]]) -> [u8; 32] {
    let mut h = Sha256::new();
    for p in parts {
        h.update((p.len() as u64).to_be_bytes());
        h.update(p);
    }
    h.finalize().into()
}

pub(crate) fn sha256(bytes: &[u8]) -> [u8; 32] {
    Sha256::digest(bytes).into()
}

pub(crate) fn hex(bytes: &[u8]) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(HEX[usize::from(b >> 4)] as char);
        s.push(HEX[usize::from(b & 15)] as char);
    }
    s
}

pub(crate) fn unhex32(s: &str) -> Option<[u8; 32]> {
    let b = s.as_bytes();
    if b.len() != 64 {
        return None;
    }
    let val = |c: u8| match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        _ => None,
    };
    let mut out = [0u8; 32];
    for (i, o) in out.iter_mut().enumerate() {
        *o = (val(b[2 * i])? << 4) | val(b[2 * i + 1])?;
    }
    Some(out)
}

/// A name-based UUID (RFC 9562 version 8, built from SHA-256 of a namespace and name), in the
/// lowercase 8-4-4-4-12 form.
pub fn derived_uuid(namespace: &str, name: &[&[u8]]) -> String {
    let mut parts: Vec<&[u8]> = vec![namespace.as_bytes()];
    parts.extend_from_slice(name);
    let h = sha256_parts(&parts);
    let mut b = [0u8; 16];
    b.copy_from_slice(&h[..16]);
    b[6] = (b[6] & 0x0f) | 0x80; // version 8
    b[8] = (b[8] & 0x3f) | 0x80; // RFC variant
    let x = hex(&b);
    format!(
        "{}-{}-{}-{}-{}",
        &x[0..8],
        &x[8..12],
        &x[12..16],
        &x[16..20],
        &x[20..32]
    )
}

/// Whether `s` is a UUID in lowercase 8-4-4-4-12 form (the form `urn:uuid:` needs).
pub fn is_lower_uuid(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 36
        && b.iter().enumerate().all(|(i, &c)| match i {
            8 | 13 | 18 | 23 => c == b'-',
            _ => c.is_ascii_digit() || (b'a'..=b'f').contains(&c),
        })
}

/// Whether `s` is a valid FHIR `id`: 1 to 64 of `A-Z a-z 0-9 - .`.
pub fn is_fhir_id(s: &str) -> bool {
    (1..=64).contains(&s.len())
        && s.bytes()
            .all(|c| c.is_ascii_alphanumeric() || c == b'-' || c == b'.')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn derived_uuids_are_stable_and_well_formed() {
        let a = derived_uuid("ns", &[b"x"]);
        assert_eq!(a, derived_uuid("ns", &[b"x"]));
        assert_ne!(a, derived_uuid("ns", &[b"y"]));
        assert_ne!(
            derived_uuid("ns", &[b"ab", b"c"]),
            derived_uuid("ns", &[b"a", b"bc"])
        );
        assert!(is_lower_uuid(&a), "{a}");
        assert_eq!(&a[14..15], "8");
        assert!(matches!(&a[19..20], "8" | "9" | "a" | "b"));
    }

    #[test]
    fn hex_round_trip() {
        let h = sha256(b"abc");
        assert_eq!(
            hex(&h),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_eq!(unhex32(&hex(&h)), Some(h));
        assert_eq!(unhex32("zz"), None);
    }

    #[test]
    fn fhir_ids() {
        assert!(is_fhir_id("abc-1.2"));
        assert!(!is_fhir_id(""));
        assert!(!is_fhir_id("a/b"));
        assert!(!is_fhir_id(&"a".repeat(65)));
        assert!(is_lower_uuid("123e4567-e89b-12d3-a456-426614174000"));
        assert!(!is_lower_uuid("123E4567-E89B-12D3-A456-426614174000"));
    }
}

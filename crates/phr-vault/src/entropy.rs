//! Randomness is a parameter: the crate never reads an OS random source itself.

/// A source of cryptographically secure random bytes.
///
/// The browser shell implements it with `crypto.getRandomValues`; tests use a seeded generator.
/// Every nonce, salt and key the vault creates is drawn from here, so a deterministic source makes
/// the output byte-exact reproducible (that is how the frozen test vectors are re-produced).
pub trait Entropy {
    /// Fills `buf` entirely with random bytes. Must not fail: an implementation that cannot
    /// produce secure randomness must not return (panic or abort) rather than return weak bytes.
    fn fill(&mut self, buf: &mut [u8]);
}

impl<E: Entropy + ?Sized> Entropy for &mut E {
    fn fill(&mut self, buf: &mut [u8]) {
        (**self).fill(buf);
    }
}

/// Draws `N` random bytes.
pub(crate) fn random<const N: usize>(entropy: &mut impl Entropy) -> [u8; N] {
    let mut out = [0u8; N];
    entropy.fill(&mut out);
    out
}

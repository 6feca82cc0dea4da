//! Text helpers: search folding and the compact string arena the index keeps its text in.

use std::hash::{BuildHasher, Hasher};

use hashbrown::HashTable;
use rustc_hash::FxBuildHasher;

/// Lower-cases and strips common Latin diacritics, so `Café` and `CAFE` both fold to `cafe`.
///
/// Covers Latin-1 Supplement and Latin Extended-A by table (no Unicode normalisation tables are
/// shipped to the browser); combining marks are dropped; other characters are lower-cased.
pub fn fold(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    fold_into(&mut out, s);
    out
}

/// Appends the folded form of `s` to `out`.
pub fn fold_into(out: &mut String, s: &str) {
    for c in s.chars() {
        if c.is_ascii() {
            out.push(c.to_ascii_lowercase());
            continue;
        }
        match fold_char(c) {
            Folded::Drop => {}
            Folded::Str(t) => out.push_str(t),
            Folded::Lower => out.extend(c.to_lowercase()),
        }
    }
}

enum Folded {
    Drop,
    Str(&'static str),
    Lower,
}

fn fold_char(c: char) -> Folded {
    let s = match c as u32 {
        0x0300..=0x036F => return Folded::Drop,
        0x00C0..=0x00C5 | 0x00E0..=0x00E5 | 0x0100..=0x0105 => "a",
        0x00C6 | 0x00E6 => "ae",
        0x00C7 | 0x00E7 | 0x0106..=0x010D => "c",
        0x00C8..=0x00CB | 0x00E8..=0x00EB | 0x0112..=0x011B => "e",
        0x00CC..=0x00CF | 0x00EC..=0x00EF | 0x0128..=0x0131 => "i",
        0x00D0 | 0x00F0 | 0x010E..=0x0111 => "d",
        0x00D1 | 0x00F1 | 0x0143..=0x014B => "n",
        0x00D2..=0x00D6 | 0x00D8 | 0x00F2..=0x00F6 | 0x00F8 | 0x014C..=0x0151 => "o",
        0x00D9..=0x00DC | 0x00F9..=0x00FC | 0x0168..=0x0173 => "u",
        0x00DD | 0x00FD | 0x00FF | 0x0176..=0x0178 => "y",
        0x00DE | 0x00FE => "th",
        0x00DF => "ss",
        0x011C..=0x0123 => "g",
        0x0124..=0x0127 => "h",
        0x0132..=0x0133 => "ij",
        0x0134..=0x0135 => "j",
        0x0136..=0x0138 => "k",
        0x0139..=0x0142 => "l",
        0x0152..=0x0153 => "oe",
        0x0154..=0x0159 => "r",
        0x015A..=0x0161 | 0x017F => "s",
        0x0162..=0x0167 => "t",
        0x0174..=0x0175 => "w",
        0x0179..=0x017E => "z",
        0x2018 | 0x2019 | 0x201B => "'",
        0x201C | 0x201D => "\"",
        0x2010..=0x2015 => "-",
        0x00A0 => " ",
        _ => return Folded::Lower,
    };
    Folded::Str(s)
}

/// A slice of the arena: byte offset and length.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub(crate) struct Span {
    start: u32,
    len: u32,
}

impl Span {
    pub(crate) const EMPTY: Span = Span { start: 0, len: 0 };

    pub(crate) fn new(start: u32, len: u32) -> Span {
        Span { start, len }
    }

    pub(crate) fn start(self) -> u32 {
        self.start
    }

    pub(crate) fn len(self) -> u32 {
        self.len
    }
}

/// One growable string holding all of the index's text; items refer to it by [`Span`].
#[derive(Default)]
pub(crate) struct Arena {
    buf: String,
}

impl Arena {
    pub(crate) fn with_capacity(n: usize) -> Arena {
        Arena {
            buf: String::with_capacity(n),
        }
    }

    pub(crate) fn push(&mut self, s: &str) -> Span {
        if s.is_empty() {
            return Span::EMPTY;
        }
        let start = self.buf.len() as u32;
        self.buf.push_str(s);
        Span {
            start,
            len: s.len() as u32,
        }
    }

    /// The whole text (for the cache format).
    pub(crate) fn as_str(&self) -> &str {
        &self.buf
    }

    /// Wraps text read back from the cache.
    pub(crate) fn from_string(buf: String) -> Arena {
        Arena { buf }
    }

    /// Whether a span lies inside the text on character boundaries (so `get` returns it).
    pub(crate) fn contains(&self, s: Span) -> bool {
        let start = s.start as usize;
        let end = start.saturating_add(s.len as usize);
        end <= self.buf.len() && self.buf.is_char_boundary(start) && self.buf.is_char_boundary(end)
    }

    pub(crate) fn get(&self, s: Span) -> &str {
        let start = s.start as usize;
        self.buf.get(start..start + s.len as usize).unwrap_or("")
    }

    pub(crate) fn shrink(&mut self) {
        self.buf.shrink_to_fit();
    }

    pub(crate) fn capacity(&self) -> usize {
        self.buf.capacity()
    }
}

/// A fast hash of a string (the tables are dropped after the build; inputs are bounded).
pub(crate) fn hash_str(s: &str) -> u64 {
    let mut h = FxBuildHasher.build_hasher();
    h.write(s.as_bytes());
    h.write_u8(0xff);
    h.finish()
}

/// Deduplicates repeated strings while an index is being built (dropped afterwards). The table
/// holds only spans: the text is compared in the arena, so interning allocates nothing.
#[derive(Default)]
pub(crate) struct Interner {
    table: HashTable<Span>,
}

impl Interner {
    pub(crate) fn with_capacity(n: usize) -> Interner {
        Interner {
            table: HashTable::with_capacity(n),
        }
    }

    pub(crate) fn intern(&mut self, arena: &mut Arena, s: &str) -> Span {
        if s.is_empty() {
            return Span::EMPTY;
        }
        let h = hash_str(s);
        if let Some(&span) = self.table.find(h, |&sp| arena.get(sp) == s) {
            return span;
        }
        let span = arena.push(s);
        self.table
            .insert_unique(h, span, |&sp| hash_str(arena.get(sp)));
        span
    }
}

/// The first `n` characters of `s`, with an ellipsis when cut.
pub(crate) fn truncate_chars(s: &str, n: usize) -> String {
    let mut it = s.char_indices();
    match it.nth(n) {
        None => s.to_string(),
        Some((i, _)) => format!("{}…", s[..i].trim_end()),
    }
}

/// Upper-cases the first character.
pub(crate) fn capitalise(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        None => String::new(),
        Some(f) => f.to_uppercase().chain(c).collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folds_case_and_diacritics() {
        assert_eq!(fold("Café Crème"), "cafe creme");
        assert_eq!(fold("ŁÓDŹ Straße"), "lodz strasse");
        assert_eq!(fold("Cafe\u{301}"), "cafe");
        assert_eq!(fold("HbA1c 4548-4"), "hba1c 4548-4");
        assert_eq!(fold("ΑΒΓ"), "αβγ");
    }

    #[test]
    fn arena_and_interner() {
        let mut a = Arena::default();
        let mut i = Interner::default();
        let x = i.intern(&mut a, "Body Weight");
        let y = i.intern(&mut a, "Body Weight");
        let z = a.push("kg");
        assert_eq!(x, y);
        assert_eq!(a.get(x), "Body Weight");
        assert_eq!(a.get(z), "kg");
        assert_eq!(a.get(Span::EMPTY), "");
        assert_eq!(truncate_chars("abcdef", 3), "abc…");
        assert_eq!(truncate_chars("abc", 3), "abc");
    }
}

//! HTML named character references (a subset covering what clinical documents use) and the
//! decoding of `&name;`, `&#123;` and `&#x7B;` references. Unknown references stay as written:
//! decoding only ever produces text, never markup.

/// Sorted by name (binary search).
const NAMED: &[(&str, &str)] = &[
    ("AElig", "\u{c6}"),
    ("Aacute", "\u{c1}"),
    ("Acirc", "\u{c2}"),
    ("Agrave", "\u{c0}"),
    ("Aring", "\u{c5}"),
    ("Atilde", "\u{c3}"),
    ("Auml", "\u{c4}"),
    ("Ccedil", "\u{c7}"),
    ("Dagger", "\u{2021}"),
    ("Delta", "\u{394}"),
    ("ETH", "\u{d0}"),
    ("Eacute", "\u{c9}"),
    ("Ecirc", "\u{ca}"),
    ("Egrave", "\u{c8}"),
    ("Euml", "\u{cb}"),
    ("Hat", "^"),
    ("Iacute", "\u{cd}"),
    ("Icirc", "\u{ce}"),
    ("Igrave", "\u{cc}"),
    ("Iuml", "\u{cf}"),
    ("Ntilde", "\u{d1}"),
    ("OElig", "\u{152}"),
    ("Oacute", "\u{d3}"),
    ("Ocirc", "\u{d4}"),
    ("Ograve", "\u{d2}"),
    ("Omega", "\u{3a9}"),
    ("Oslash", "\u{d8}"),
    ("Otilde", "\u{d5}"),
    ("Ouml", "\u{d6}"),
    ("Prime", "\u{2033}"),
    ("Scaron", "\u{160}"),
    ("Sigma", "\u{3a3}"),
    ("THORN", "\u{de}"),
    ("Uacute", "\u{da}"),
    ("Ucirc", "\u{db}"),
    ("Ugrave", "\u{d9}"),
    ("Uuml", "\u{dc}"),
    ("Yacute", "\u{dd}"),
    ("aacute", "\u{e1}"),
    ("acirc", "\u{e2}"),
    ("acute", "\u{b4}"),
    ("aelig", "\u{e6}"),
    ("agrave", "\u{e0}"),
    ("alpha", "\u{3b1}"),
    ("amp", "&"),
    ("apos", "'"),
    ("aring", "\u{e5}"),
    ("ast", "*"),
    ("asymp", "\u{2248}"),
    ("atilde", "\u{e3}"),
    ("auml", "\u{e4}"),
    ("bdquo", "\u{201e}"),
    ("beta", "\u{3b2}"),
    ("brvbar", "\u{a6}"),
    ("bsol", "\\"),
    ("bull", "\u{2022}"),
    ("ccedil", "\u{e7}"),
    ("cedil", "\u{b8}"),
    ("cent", "\u{a2}"),
    ("check", "\u{2713}"),
    ("colon", ":"),
    ("comma", ","),
    ("commat", "@"),
    ("copy", "\u{a9}"),
    ("curren", "\u{a4}"),
    ("dagger", "\u{2020}"),
    ("darr", "\u{2193}"),
    ("deg", "\u{b0}"),
    ("delta", "\u{3b4}"),
    ("divide", "\u{f7}"),
    ("dollar", "$"),
    ("eacute", "\u{e9}"),
    ("ecirc", "\u{ea}"),
    ("egrave", "\u{e8}"),
    ("emsp", "\u{2003}"),
    ("ensp", "\u{2002}"),
    ("epsilon", "\u{3b5}"),
    ("equals", "="),
    ("equiv", "\u{2261}"),
    ("eth", "\u{f0}"),
    ("euml", "\u{eb}"),
    ("euro", "\u{20ac}"),
    ("excl", "!"),
    ("frac12", "\u{bd}"),
    ("frac14", "\u{bc}"),
    ("frac34", "\u{be}"),
    ("gamma", "\u{3b3}"),
    ("ge", "\u{2265}"),
    ("grave", "`"),
    ("gt", ">"),
    ("harr", "\u{2194}"),
    ("hellip", "\u{2026}"),
    ("iacute", "\u{ed}"),
    ("icirc", "\u{ee}"),
    ("iexcl", "\u{a1}"),
    ("igrave", "\u{ec}"),
    ("infin", "\u{221e}"),
    ("iquest", "\u{bf}"),
    ("iuml", "\u{ef}"),
    ("kappa", "\u{3ba}"),
    ("lambda", "\u{3bb}"),
    ("laquo", "\u{ab}"),
    ("larr", "\u{2190}"),
    ("lcub", "{"),
    ("ldquo", "\u{201c}"),
    ("le", "\u{2264}"),
    ("lowast", "\u{2217}"),
    ("lowbar", "_"),
    ("loz", "\u{25ca}"),
    ("lpar", "("),
    ("lrm", "\u{200e}"),
    ("lsqb", "["),
    ("lsquo", "\u{2018}"),
    ("lt", "<"),
    ("macr", "\u{af}"),
    ("mdash", "\u{2014}"),
    ("micro", "\u{b5}"),
    ("middot", "\u{b7}"),
    ("minus", "\u{2212}"),
    ("mu", "\u{3bc}"),
    ("nbsp", "\u{a0}"),
    ("ndash", "\u{2013}"),
    ("ne", "\u{2260}"),
    ("newline", "\u{a}"),
    ("not", "\u{ac}"),
    ("ntilde", "\u{f1}"),
    ("num", "#"),
    ("oacute", "\u{f3}"),
    ("ocirc", "\u{f4}"),
    ("oelig", "\u{153}"),
    ("ograve", "\u{f2}"),
    ("omega", "\u{3c9}"),
    ("ordf", "\u{aa}"),
    ("ordm", "\u{ba}"),
    ("oslash", "\u{f8}"),
    ("otilde", "\u{f5}"),
    ("ouml", "\u{f6}"),
    ("para", "\u{b6}"),
    ("percnt", "%"),
    ("period", "."),
    ("permil", "\u{2030}"),
    ("pi", "\u{3c0}"),
    ("plus", "+"),
    ("plusmn", "\u{b1}"),
    ("pound", "\u{a3}"),
    ("prime", "\u{2032}"),
    ("prod", "\u{220f}"),
    ("quest", "?"),
    ("quot", "\""),
    ("radic", "\u{221a}"),
    ("raquo", "\u{bb}"),
    ("rarr", "\u{2192}"),
    ("rcub", "}"),
    ("rdquo", "\u{201d}"),
    ("reg", "\u{ae}"),
    ("rlm", "\u{200f}"),
    ("rpar", ")"),
    ("rsqb", "]"),
    ("rsquo", "\u{2019}"),
    ("sbquo", "\u{201a}"),
    ("scaron", "\u{161}"),
    ("sect", "\u{a7}"),
    ("semi", ";"),
    ("shy", "\u{ad}"),
    ("sigma", "\u{3c3}"),
    ("sol", "/"),
    ("sum", "\u{2211}"),
    ("sup1", "\u{b9}"),
    ("sup2", "\u{b2}"),
    ("sup3", "\u{b3}"),
    ("szlig", "\u{df}"),
    ("tab", "\u{9}"),
    ("tau", "\u{3c4}"),
    ("thinsp", "\u{2009}"),
    ("thorn", "\u{fe}"),
    ("times", "\u{d7}"),
    ("trade", "\u{2122}"),
    ("uacute", "\u{fa}"),
    ("uarr", "\u{2191}"),
    ("ucirc", "\u{fb}"),
    ("ugrave", "\u{f9}"),
    ("uml", "\u{a8}"),
    ("uuml", "\u{fc}"),
    ("verbar", "|"),
    ("yacute", "\u{fd}"),
    ("yen", "\u{a5}"),
    ("yuml", "\u{ff}"),
    ("zwj", "\u{200d}"),
    ("zwnj", "\u{200c}"),
];

/// Names the HTML standard also accepts without a trailing semicolon.
const LEGACY: &[&str] = &["amp", "lt", "gt", "quot", "nbsp", "copy", "reg"];

fn named(name: &str) -> Option<&'static str> {
    NAMED
        .binary_search_by(|(n, _)| n.cmp(&name))
        .ok()
        .map(|i| NAMED[i].1)
}

/// Windows-1252 meanings of C1 control code points in numeric references (HTML rule).
pub(crate) fn c1(cp: u32) -> Option<char> {
    const MAP: [u16; 32] = [
        0x20AC, 0, 0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021, 0x02C6, 0x2030, 0x0160, 0x2039,
        0x0152, 0, 0x017D, 0, 0, 0x2018, 0x2019, 0x201C, 0x201D, 0x2022, 0x2013, 0x2014, 0x02DC,
        0x2122, 0x0161, 0x203A, 0x0153, 0, 0x017E, 0x0178,
    ];
    let m = *MAP.get((cp.checked_sub(0x80)?) as usize)?;
    char::from_u32(u32::from(m)).filter(|_| m != 0)
}

fn numeric(cp: u32) -> char {
    if (0x80..=0x9F).contains(&cp) {
        return c1(cp).unwrap_or('\u{FFFD}');
    }
    match char::from_u32(cp) {
        Some('\0') | None => '\u{FFFD}',
        Some(c) => c,
    }
}

/// Decodes character references in `s`. In attribute values, a legacy reference without `;`
/// followed by a letter, digit or `=` is left alone (HTML rule).
pub(crate) fn decode(s: &str, in_attribute: bool) -> String {
    if !s.contains('&') {
        return s.to_string();
    }
    let mut out = String::with_capacity(s.len());
    let b = s.as_bytes();
    let mut i = 0;
    let mut last = 0;
    while i < b.len() {
        if b[i] != b'&' {
            i += 1;
            continue;
        }
        out.push_str(&s[last..i]);
        let start = i;
        i += 1;
        if i < b.len() && b[i] == b'#' {
            let hex = i + 1 < b.len() && (b[i + 1] == b'x' || b[i + 1] == b'X');
            let mut j = if hex { i + 2 } else { i + 1 };
            let ds = j;
            while j < b.len()
                && (if hex {
                    b[j].is_ascii_hexdigit()
                } else {
                    b[j].is_ascii_digit()
                })
            {
                j += 1;
            }
            if j == ds {
                out.push('&');
                last = start + 1;
                i = start + 1;
                continue;
            }
            let digits = &s[ds..j];
            let cp = u32::from_str_radix(digits, if hex { 16 } else { 10 }).unwrap_or(u32::MAX);
            out.push(numeric(cp));
            if j < b.len() && b[j] == b';' {
                j += 1;
            }
            i = j;
            last = j;
            continue;
        }
        let mut j = i;
        while j < b.len() && b[j].is_ascii_alphanumeric() && j - i < 32 {
            j += 1;
        }
        let name = &s[i..j];
        if j < b.len() && b[j] == b';' {
            if let Some(v) = named(name) {
                out.push_str(v);
                i = j + 1;
                last = i;
                continue;
            }
        }
        // Legacy: longest known prefix without a semicolon.
        let legacy = LEGACY
            .iter()
            .filter(|l| name.starts_with(**l))
            .max_by_key(|l| l.len());
        if let Some(l) = legacy {
            let after = b.get(i + l.len()).copied();
            let blocked =
                in_attribute && after.is_some_and(|c| c.is_ascii_alphanumeric() || c == b'=');
            if !blocked {
                if let Some(v) = named(l) {
                    out.push_str(v);
                    i += l.len();
                    last = i;
                    continue;
                }
            }
        }
        out.push('&');
        last = start + 1;
        i = start + 1;
    }
    out.push_str(&s[last..]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_is_sorted() {
        assert!(NAMED.windows(2).all(|w| w[0].0 < w[1].0));
    }

    #[test]
    fn decodes_references() {
        assert_eq!(decode("a &amp; b &lt;i&gt;", false), "a & b <i>");
        assert_eq!(decode("&#106;&#x61;&#X76;a", false), "java");
        assert_eq!(
            decode("&#0; &#xD800; &#x110000;", false),
            "\u{FFFD} \u{FFFD} \u{FFFD}"
        );
        assert_eq!(decode("&#150;", false), "\u{2013}");
        assert_eq!(
            decode("&eacute;t&eacute; &unknown; &", false),
            "\u{e9}t\u{e9} &unknown; &"
        );
        assert_eq!(decode("&ampx &copy2024", false), "&x \u{a9}2024");
        assert_eq!(decode("?a=1&copy=2", true), "?a=1&copy=2");
        assert_eq!(decode("&#106avascript", false), "javascript");
    }
}

//! A lenient tokenizer for real-world HTML, XHTML and XML.
//!
//! It follows the HTML standard where that matters for safety: tag names end only at
//! whitespace, `/` or `>` (so `<scr<script>` is one odd tag name, not a script); a tag cut off by
//! the end of input is dropped; an unclosed quoted attribute value runs to the end of input and
//! the tag is dropped; comments, doctypes and processing instructions are skipped; in HTML mode
//! the content of raw-text elements (`script`, `style`, `noscript`, `iframe`, `textarea`…) is
//! not parsed as markup. NUL characters are removed and line endings normalised before
//! tokenizing. Character references are decoded into text; decoding never yields markup.

use super::entities::decode;

/// One token.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Token {
    Text(String),
    Start {
        name: String,
        attrs: Vec<(String, String)>,
        self_closing: bool,
    },
    End {
        name: String,
    },
}

/// Elements whose content is raw text in HTML (not markup).
const RAW_TEXT: &[&str] = &[
    "script",
    "style",
    "xmp",
    "iframe",
    "noembed",
    "noframes",
    "noscript",
    "plaintext",
];
/// Raw text with character references (kept as text by the sanitiser when allowed).
const RCDATA: &[&str] = &["textarea", "title"];

pub(crate) struct Tokenizer {
    src: String,
    pos: usize,
    xml: bool,
    raw: Option<(String, bool)>,
}

/// Removes NUL and normalises CR/CRLF to LF.
fn preprocess(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\0' => {}
            '\r' => {
                if chars.peek() == Some(&'\n') {
                    chars.next();
                }
                out.push('\n');
            }
            _ => out.push(c),
        }
    }
    out
}

fn is_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\x0c' | b'\r')
}

impl Tokenizer {
    pub(crate) fn new(s: &str, xml: bool) -> Tokenizer {
        let src = preprocess(s.strip_prefix('\u{FEFF}').unwrap_or(s));
        Tokenizer {
            src,
            pos: 0,
            xml,
            raw: None,
        }
    }

    fn find_from(&self, from: usize, pat: &str) -> Option<usize> {
        self.src.get(from..)?.find(pat).map(|i| i + from)
    }

    /// Finds `</name` (ASCII case-insensitive) followed by whitespace, `/` or `>`.
    fn find_end_tag(&self, name: &str) -> Option<usize> {
        let b = self.src.as_bytes();
        let n = name.as_bytes();
        let mut i = self.pos;
        while i + 2 + n.len() <= b.len() {
            if b[i] == b'<'
                && b[i + 1] == b'/'
                && b[i + 2..i + 2 + n.len()].eq_ignore_ascii_case(n)
                && b.get(i + 2 + n.len())
                    .is_none_or(|&c| is_space(c) || c == b'/' || c == b'>')
            {
                return Some(i);
            }
            i += 1;
        }
        None
    }

    /// Parses a tag starting at `self.pos` (pointing at `<`). Returns None and moves to the end
    /// of input when the tag is cut off.
    fn tag(&mut self, end: bool) -> Option<Token> {
        let b = self.src.as_bytes();
        let mut i = self.pos + if end { 2 } else { 1 };
        let name_start = i;
        while i < b.len() && !is_space(b[i]) && b[i] != b'/' && b[i] != b'>' {
            i += 1;
        }
        if i >= b.len() {
            self.pos = b.len();
            return None;
        }
        let mut name = self.src[name_start..i].to_string();
        if !self.xml {
            name.make_ascii_lowercase();
        }
        let mut attrs = Vec::new();
        let mut self_closing = false;
        loop {
            while i < b.len() && (is_space(b[i]) || b[i] == b'/') {
                self_closing = b[i] == b'/';
                i += 1;
            }
            if i >= b.len() {
                self.pos = b.len();
                return None;
            }
            if b[i] == b'>' {
                i += 1;
                break;
            }
            self_closing = false;
            let an_start = i;
            i += 1; // the first character may be `=`
            while i < b.len() && !is_space(b[i]) && !matches!(b[i], b'/' | b'>' | b'=') {
                i += 1;
            }
            let mut an = self.src[an_start..i].to_string();
            if !self.xml {
                an.make_ascii_lowercase();
            }
            while i < b.len() && is_space(b[i]) {
                i += 1;
            }
            let mut value = String::new();
            if i < b.len() && b[i] == b'=' {
                i += 1;
                while i < b.len() && is_space(b[i]) {
                    i += 1;
                }
                if i >= b.len() {
                    self.pos = b.len();
                    return None;
                }
                if b[i] == b'"' || b[i] == b'\'' {
                    let q = b[i];
                    let vs = i + 1;
                    let Some(ve) = b[vs..].iter().position(|&c| c == q).map(|p| p + vs) else {
                        // Unclosed quoted value: the rest of the input is inside the tag.
                        self.pos = b.len();
                        return None;
                    };
                    value = decode(&self.src[vs..ve], true);
                    i = ve + 1;
                } else {
                    let vs = i;
                    while i < b.len() && !is_space(b[i]) && b[i] != b'>' {
                        i += 1;
                    }
                    value = decode(&self.src[vs..i], true);
                }
            }
            if !an.is_empty() && !attrs.iter().any(|(n, _): &(String, String)| *n == an) {
                attrs.push((an, value));
            }
        }
        self.pos = i;
        if end {
            return Some(Token::End { name });
        }
        if !self.xml {
            if RAW_TEXT.contains(&name.as_str()) {
                self.raw = Some((name.clone(), false));
            } else if RCDATA.contains(&name.as_str()) && !self_closing {
                self.raw = Some((name.clone(), true));
            }
        }
        Some(Token::Start {
            name,
            attrs,
            self_closing,
        })
    }
}

impl Iterator for Tokenizer {
    type Item = Token;

    fn next(&mut self) -> Option<Token> {
        loop {
            if let Some((name, decoded)) = self.raw.take() {
                let end = self.find_end_tag(&name).unwrap_or(self.src.len());
                let text = &self.src[self.pos..end];
                self.pos = end;
                if !text.is_empty() {
                    return Some(Token::Text(if decoded {
                        decode(text, false)
                    } else {
                        text.to_string()
                    }));
                }
                continue;
            }
            let b = self.src.as_bytes();
            if self.pos >= b.len() {
                return None;
            }
            if b[self.pos] != b'<' {
                let end = self.find_from(self.pos, "<").unwrap_or(b.len());
                let text = decode(&self.src[self.pos..end], false);
                self.pos = end;
                return Some(Token::Text(text));
            }
            let rest = &self.src[self.pos..];
            if rest.starts_with("<!--") {
                let after = self.pos + 4;
                let close = [self.find_from(after, "-->"), self.find_from(after, "--!>")]
                    .into_iter()
                    .flatten()
                    .min();
                match close {
                    Some(c) => {
                        self.pos = c + if self.src[c..].starts_with("-->") {
                            3
                        } else {
                            4
                        };
                    }
                    None => self.pos = b.len(),
                }
                continue;
            }
            if rest.starts_with("<![CDATA[") {
                let after = self.pos + 9;
                let close = self.find_from(after, "]]>").unwrap_or(b.len());
                let text = self.src[after..close].to_string();
                self.pos = (close + 3).min(b.len());
                if !text.is_empty() {
                    return Some(Token::Text(text));
                }
                continue;
            }
            let next = b.get(self.pos + 1).copied();
            match next {
                Some(b'!') | Some(b'?') => {
                    self.pos = self.find_from(self.pos + 2, ">").map_or(b.len(), |p| p + 1);
                    continue;
                }
                Some(b'/') => {
                    match b.get(self.pos + 2).copied() {
                        Some(c) if c.is_ascii_alphabetic() => {
                            if let Some(t) = self.tag(true) {
                                return Some(t);
                            }
                        }
                        Some(b'>') => self.pos += 3,
                        _ => {
                            // Bogus comment up to `>`.
                            self.pos = self.find_from(self.pos + 2, ">").map_or(b.len(), |p| p + 1);
                        }
                    }
                    continue;
                }
                Some(c) if c.is_ascii_alphabetic() => {
                    if let Some(t) = self.tag(false) {
                        return Some(t);
                    }
                    continue;
                }
                _ => {
                    self.pos += 1;
                    return Some(Token::Text("<".into()));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn toks(s: &str) -> Vec<Token> {
        Tokenizer::new(s, false).collect()
    }

    fn start(name: &str, attrs: &[(&str, &str)]) -> Token {
        Token::Start {
            name: name.into(),
            attrs: attrs
                .iter()
                .map(|(a, b)| (a.to_string(), b.to_string()))
                .collect(),
            self_closing: false,
        }
    }

    #[test]
    fn basic_tags_and_attributes() {
        assert_eq!(
            toks("<P Class=x title='a>b'>Hi &amp; bye</p>"),
            vec![
                start("p", &[("class", "x"), ("title", "a>b")]),
                Token::Text("Hi & bye".into()),
                Token::End { name: "p".into() }
            ]
        );
    }

    #[test]
    fn raw_text_and_cut_off_input() {
        assert_eq!(
            toks("<script>if (a<b) {}</SCRIPT >x"),
            vec![
                start("script", &[]),
                Token::Text("if (a<b) {}".into()),
                Token::End {
                    name: "script".into()
                },
                Token::Text("x".into())
            ]
        );
        assert_eq!(
            toks("a<b title=\"unclosed>c"),
            vec![Token::Text("a".into())]
        );
        assert_eq!(toks("a<b"), vec![Token::Text("a".into())]);
        assert_eq!(
            toks("1 < 2"),
            vec![
                Token::Text("1 ".into()),
                Token::Text("<".into()),
                Token::Text(" 2".into())
            ]
        );
        assert_eq!(
            toks("<!-- <script> --><![CDATA[<b>]]>"),
            vec![Token::Text("<b>".into())]
        );
        assert_eq!(
            toks("<scr\0ipt>x"),
            vec![start("script", &[]), Token::Text("x".into())]
        );
    }
}

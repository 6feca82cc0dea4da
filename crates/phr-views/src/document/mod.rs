//! Documents shown safely: HTML and FHIR XHTML narrative become a tree of allowlisted nodes the
//! app renders node by node (never `innerHTML`); C-CDA XML becomes a readable text model;
//! attachments are decoded from base64 and routed by content type.
//!
//! # Key design decision: an allowlist tree, not cleaned HTML
//!
//! The output type cannot express anything dangerous: a [`SafeNode`] is either text or an
//! element whose tag is one of the [`SafeTag`] variants (structure and formatting only) with at
//! most a numeric `colspan`/`rowspan`. There are no attributes, URLs, styles or event handlers to
//! get wrong. Elements that carry active or foreign content (`script`, `style`, `iframe`,
//! `object`, `embed`, `svg`, `math`, `template`, `noscript`…) are dropped with everything inside
//! them; unknown elements are unwrapped (their text kept). Images become their alt text and links
//! their text followed by the URL as plain text (web and mail addresses only). Character
//! references are decoded into text, so `&lt;script&gt;` shows as the characters `<script>`.

mod cda;
mod entities;
mod tokenizer;

pub use cda::{parse_cda, CdaDocument, CdaError, CdaSection};

use base64::Engine;
use phr_fhir::types::Attachment;
use phr_fhir::Resource;
use serde::Deserialize;

use tokenizer::{Token, Tokenizer};

/// The tags a safe tree may contain.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SafeTag {
    P,
    Br,
    Div,
    Span,
    B,
    Strong,
    I,
    Em,
    U,
    Small,
    Ul,
    Ol,
    Li,
    Dl,
    Dt,
    Dd,
    Table,
    Caption,
    Thead,
    Tbody,
    Tfoot,
    Tr,
    Th,
    Td,
    H1,
    H2,
    H3,
    H4,
    H5,
    H6,
    Pre,
    Code,
    Blockquote,
    Hr,
    Sub,
    Sup,
}

impl SafeTag {
    /// The HTML element name (for `document.createElement`).
    pub fn name(self) -> &'static str {
        use SafeTag::*;
        match self {
            P => "p",
            Br => "br",
            Div => "div",
            Span => "span",
            B => "b",
            Strong => "strong",
            I => "i",
            Em => "em",
            U => "u",
            Small => "small",
            Ul => "ul",
            Ol => "ol",
            Li => "li",
            Dl => "dl",
            Dt => "dt",
            Dd => "dd",
            Table => "table",
            Caption => "caption",
            Thead => "thead",
            Tbody => "tbody",
            Tfoot => "tfoot",
            Tr => "tr",
            Th => "th",
            Td => "td",
            H1 => "h1",
            H2 => "h2",
            H3 => "h3",
            H4 => "h4",
            H5 => "h5",
            H6 => "h6",
            Pre => "pre",
            Code => "code",
            Blockquote => "blockquote",
            Hr => "hr",
            Sub => "sub",
            Sup => "sup",
        }
    }

    /// The tag for an element name (lower case), mapping a few legacy and semantic names onto the
    /// allowlist (`center`/`section`… → div, `tt`/`kbd` → code).
    pub fn from_name(name: &str) -> Option<SafeTag> {
        use SafeTag::*;
        Some(match name {
            "p" => P,
            "br" => Br,
            "div" | "center" | "section" | "article" | "header" | "footer" | "main" | "nav"
            | "aside" | "figure" | "figcaption" | "address" => Div,
            "span" => Span,
            "b" => B,
            "strong" => Strong,
            "i" | "cite" | "var" | "dfn" => I,
            "em" => Em,
            "u" | "ins" => U,
            "small" => Small,
            "ul" | "menu" | "dir" => Ul,
            "ol" => Ol,
            "li" => Li,
            "dl" => Dl,
            "dt" => Dt,
            "dd" => Dd,
            "table" => Table,
            "caption" => Caption,
            "thead" => Thead,
            "tbody" => Tbody,
            "tfoot" => Tfoot,
            "tr" => Tr,
            "th" => Th,
            "td" => Td,
            "h1" => H1,
            "h2" => H2,
            "h3" => H3,
            "h4" => H4,
            "h5" => H5,
            "h6" => H6,
            "pre" | "listing" => Pre,
            "code" | "tt" | "kbd" | "samp" => Code,
            "blockquote" => Blockquote,
            "hr" => Hr,
            "sub" => Sub,
            "sup" => Sup,
            _ => return None,
        })
    }

    /// Elements that never have children.
    pub fn is_void(self) -> bool {
        matches!(self, SafeTag::Br | SafeTag::Hr)
    }

    fn is_block(self) -> bool {
        use SafeTag::*;
        matches!(
            self,
            P | Div | Ul | Ol | Dl | Table | H1 | H2 | H3 | H4 | H5 | H6 | Pre | Blockquote | Hr
        )
    }

    fn is_heading(self) -> bool {
        use SafeTag::*;
        matches!(self, H1 | H2 | H3 | H4 | H5 | H6)
    }

    /// Containers in which whitespace-only text is meaningless.
    fn drops_whitespace(self) -> bool {
        use SafeTag::*;
        matches!(self, Table | Thead | Tbody | Tfoot | Tr | Ul | Ol | Dl)
    }
}

/// A node of a safe tree.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SafeNode {
    Element {
        tag: SafeTag,
        /// Table cells only: 1–1000.
        colspan: Option<u16>,
        rowspan: Option<u16>,
        children: Vec<SafeNode>,
    },
    Text(String),
}

impl SafeNode {
    fn element(tag: SafeTag, children: Vec<SafeNode>) -> SafeNode {
        SafeNode::Element {
            tag,
            colspan: None,
            rowspan: None,
            children,
        }
    }
}

/// Elements dropped with all their content.
/// (`head` is not here: its content is dropped element by element, so a document that never
/// closes its head still shows its body.)
const DROP_WITH_CONTENT: &[&str] = &[
    "script",
    "style",
    "iframe",
    "object",
    "embed",
    "svg",
    "math",
    "noscript",
    "noembed",
    "noframes",
    "template",
    "title",
    "xmp",
    "plaintext",
    "applet",
    "frame",
    "frameset",
    "audio",
    "video",
    "canvas",
    "map",
    "select",
    "datalist",
    "base",
    "link",
    "meta",
    "param",
    "source",
    "track",
    "portal",
    "button",
];

/// Void elements: never have content or an end tag in HTML.
const VOID: &[&str] = &[
    "area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "param", "source",
    "track", "wbr", "keygen",
];

const MAX_DEPTH: usize = 64;

enum Frame {
    Root,
    Elem {
        tag: SafeTag,
        colspan: Option<u16>,
        rowspan: Option<u16>,
    },
    Link {
        href: Option<String>,
    },
}

struct Open {
    name: String,
    frame: Frame,
    children: Vec<SafeNode>,
}

fn span_attr(attrs: &[(String, String)], name: &str) -> Option<u16> {
    let v = attrs
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))?
        .1
        .trim();
    let n: u16 = v.parse().ok()?;
    (1..=1000).contains(&n).then_some(n)
}

/// A link target shown as text: only web and mail addresses, never `javascript:`, `data:`…
pub(crate) fn safe_url(href: &str) -> Option<String> {
    let cleaned: String = href
        .chars()
        .filter(|c| !c.is_control() && !c.is_whitespace())
        .collect();
    let lower = cleaned.to_ascii_lowercase();
    ["https://", "http://", "mailto:", "tel:"]
        .iter()
        .any(|p| lower.starts_with(p))
        .then(|| href.trim().to_string())
        .filter(|u| u.len() <= 2048)
}

pub(crate) fn push_text(children: &mut Vec<SafeNode>, t: &str) {
    if t.is_empty() {
        return;
    }
    if let Some(SafeNode::Text(prev)) = children.last_mut() {
        prev.push_str(t);
    } else {
        children.push(SafeNode::Text(t.to_string()));
    }
}

pub(crate) fn text_of(nodes: &[SafeNode]) -> String {
    let mut s = String::new();
    for n in nodes {
        match n {
            SafeNode::Text(t) => s.push_str(t),
            SafeNode::Element { children, .. } => s.push_str(&text_of(children)),
        }
    }
    s
}

struct TreeBuilder {
    stack: Vec<Open>,
}

impl TreeBuilder {
    fn new() -> TreeBuilder {
        TreeBuilder {
            stack: vec![Open {
                name: String::new(),
                frame: Frame::Root,
                children: Vec::new(),
            }],
        }
    }

    fn top(&mut self) -> &mut Open {
        let last = self.stack.len() - 1;
        &mut self.stack[last]
    }

    fn close_top(&mut self) {
        if self.stack.len() <= 1 {
            return;
        }
        let Some(open) = self.stack.pop() else { return };
        let parent = self.top();
        match open.frame {
            Frame::Root => {}
            Frame::Elem {
                tag,
                colspan,
                rowspan,
            } => parent.children.push(SafeNode::Element {
                tag,
                colspan,
                rowspan,
                children: open.children,
            }),
            Frame::Link { href } => {
                let text = text_of(&open.children);
                for c in open.children {
                    match c {
                        SafeNode::Text(t) => push_text(&mut parent.children, &t),
                        e => parent.children.push(e),
                    }
                }
                if let Some(h) = href {
                    if text.trim() != h {
                        let sep = if text.trim().is_empty() { "" } else { " " };
                        push_text(&mut parent.children, &format!("{sep}({h})"));
                    }
                }
            }
        }
    }

    /// Closes up to and including the nearest open element named one of `names`, unless a
    /// `boundary` element is met first.
    fn close_nearest(&mut self, names: &[&str], boundary: &[&str]) {
        for i in (1..self.stack.len()).rev() {
            let n = self.stack[i].name.as_str();
            if names.contains(&n) {
                while self.stack.len() > i {
                    self.close_top();
                }
                return;
            }
            if boundary.contains(&n) {
                return;
            }
        }
    }

    fn text(&mut self, t: &str) {
        let top = self.top();
        if let Frame::Elem { tag, .. } = top.frame {
            if tag.drops_whitespace() && t.trim().is_empty() {
                return;
            }
            if tag.is_void() {
                return;
            }
        }
        push_text(&mut top.children, t);
    }

    fn start(&mut self, name: &str, attrs: &[(String, String)], self_closing: bool) {
        if name == "img"
            || name == "area"
            || (name == "input"
                && attrs
                    .iter()
                    .any(|(n, v)| n == "type" && v.eq_ignore_ascii_case("image")))
        {
            if let Some((_, alt)) = attrs.iter().find(|(n, _)| n == "alt") {
                let alt = alt.trim();
                if !alt.is_empty() {
                    self.text(alt);
                }
            }
            return;
        }
        if name == "a" {
            self.close_nearest(&["a"], &[]);
            if self.stack.len() > MAX_DEPTH {
                return;
            }
            let href = attrs
                .iter()
                .find(|(n, _)| n == "href")
                .and_then(|(_, v)| safe_url(v));
            if self_closing {
                return;
            }
            self.stack.push(Open {
                name: "a".into(),
                frame: Frame::Link { href },
                children: Vec::new(),
            });
            return;
        }
        let Some(tag) = SafeTag::from_name(name) else {
            return;
        };
        const TABLE_SCOPE: &[&str] = &["table", "td", "th", "caption"];
        if tag.is_block() {
            self.close_nearest(&["p"], TABLE_SCOPE);
        }
        match tag {
            SafeTag::Li => self.close_nearest(&["li"], &["ul", "ol", "menu", "dir", "table"]),
            SafeTag::Dt | SafeTag::Dd => self.close_nearest(&["dt", "dd"], &["dl", "table"]),
            SafeTag::Td | SafeTag::Th => self.close_nearest(&["td", "th"], &["tr", "table"]),
            SafeTag::Tr => self.close_nearest(&["tr"], &["table"]),
            SafeTag::Thead | SafeTag::Tbody | SafeTag::Tfoot => {
                self.close_nearest(&["thead", "tbody", "tfoot"], &["table"])
            }
            t if t.is_heading() => {
                if let Frame::Elem { tag: top, .. } = self.top().frame {
                    if top.is_heading() {
                        self.close_top();
                    }
                }
            }
            _ => {}
        }
        if self.stack.len() > MAX_DEPTH {
            return;
        }
        let (colspan, rowspan) = if matches!(tag, SafeTag::Td | SafeTag::Th) {
            (span_attr(attrs, "colspan"), span_attr(attrs, "rowspan"))
        } else {
            (None, None)
        };
        let frame = Frame::Elem {
            tag,
            colspan,
            rowspan,
        };
        if tag.is_void() || self_closing {
            let top = self.top();
            top.children.push(SafeNode::Element {
                tag,
                colspan,
                rowspan,
                children: Vec::new(),
            });
            return;
        }
        self.stack.push(Open {
            name: name.to_string(),
            frame,
            children: Vec::new(),
        });
    }

    fn end(&mut self, name: &str) {
        if name == "br" {
            // `</br>` is a line break in HTML.
            self.top()
                .children
                .push(SafeNode::element(SafeTag::Br, Vec::new()));
            return;
        }
        let canonical = match SafeTag::from_name(name) {
            Some(_) => name,
            None if name == "a" => name,
            None => return,
        };
        self.close_nearest(&[canonical], &[]);
    }

    fn finish(mut self) -> Vec<SafeNode> {
        while self.stack.len() > 1 {
            self.close_top();
        }
        self.stack.pop().map(|o| o.children).unwrap_or_default()
    }
}

/// Turns HTML or FHIR XHTML into a safe tree. Never fails; anything not understood is dropped or
/// kept as text.
pub fn sanitize_html(html: &str) -> Vec<SafeNode> {
    let mut tb = TreeBuilder::new();
    let mut dropping: Option<(String, usize)> = None;
    for tok in Tokenizer::new(html, false) {
        if let Some((name, depth)) = &mut dropping {
            match &tok {
                Token::Start {
                    name: n,
                    self_closing,
                    ..
                } if n == name && !*self_closing && !VOID.contains(&n.as_str()) => *depth += 1,
                Token::End { name: n } if n == name => {
                    *depth -= 1;
                    if *depth == 0 {
                        dropping = None;
                    }
                }
                _ => {}
            }
            continue;
        }
        match tok {
            Token::Text(t) => tb.text(&t),
            Token::Start {
                name,
                attrs,
                self_closing,
            } => {
                if DROP_WITH_CONTENT.contains(&name.as_str()) {
                    // Void ones have no content to drop; `<script/>` still opens raw text in HTML.
                    let opens = !VOID.contains(&name.as_str())
                        && (!self_closing
                            || matches!(
                                name.as_str(),
                                "script"
                                    | "style"
                                    | "iframe"
                                    | "noscript"
                                    | "xmp"
                                    | "noembed"
                                    | "noframes"
                                    | "plaintext"
                            ));
                    if opens {
                        dropping = Some((name, 1));
                    }
                    continue;
                }
                tb.start(&name, &attrs, self_closing);
            }
            Token::End { name } => tb.end(&name),
        }
    }
    tb.finish()
}

/// The narrative (`text.div`) of a resource as a safe tree, if it has one.
pub fn narrative(resource: &Resource) -> Option<Vec<SafeNode>> {
    #[derive(Deserialize, Default)]
    #[serde(default)]
    struct WithText {
        text: Option<phr_fhir::types::Narrative>,
    }
    let w: WithText = resource.view().ok()?;
    let div = w.text?.div?;
    let nodes = sanitize_html(&div);
    (!nodes.is_empty()).then_some(nodes)
}

fn escape(s: &str, out: &mut String) {
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
}

/// Serialises a safe tree as HTML with every text escaped (for printable documents the app
/// builds; the app itself renders nodes, not this string).
pub fn to_html(nodes: &[SafeNode]) -> String {
    let mut out = String::new();
    write_html(nodes, &mut out);
    out
}

fn write_html(nodes: &[SafeNode], out: &mut String) {
    for n in nodes {
        match n {
            SafeNode::Text(t) => escape(t, out),
            SafeNode::Element {
                tag,
                colspan,
                rowspan,
                children,
            } => {
                out.push('<');
                out.push_str(tag.name());
                if let Some(c) = colspan {
                    out.push_str(&format!(" colspan=\"{c}\""));
                }
                if let Some(r) = rowspan {
                    out.push_str(&format!(" rowspan=\"{r}\""));
                }
                out.push('>');
                if !tag.is_void() {
                    write_html(children, out);
                    out.push_str("</");
                    out.push_str(tag.name());
                    out.push('>');
                }
            }
        }
    }
}

/// The text of a safe tree, with line breaks for blocks, `• ` for list items and ` | ` between
/// table cells (for screen readers, copying, and search).
pub fn to_plain_text(nodes: &[SafeNode]) -> String {
    let mut out = String::new();
    write_text(nodes, &mut out);
    let lines: Vec<&str> = out.lines().map(str::trim_end).collect();
    let mut result = String::new();
    let mut blank = true;
    for l in lines {
        if l.trim().is_empty() {
            if !blank {
                result.push('\n');
            }
            blank = true;
            continue;
        }
        result.push_str(l.trim_start_matches(' '));
        result.push('\n');
        blank = false;
    }
    result.trim().to_string()
}

fn newline(out: &mut String) {
    if !out.is_empty() && !out.ends_with('\n') {
        out.push('\n');
    }
}

fn write_text(nodes: &[SafeNode], out: &mut String) {
    for n in nodes {
        match n {
            SafeNode::Text(t) => {
                let collapsed = t.split_whitespace().collect::<Vec<_>>().join(" ");
                if !collapsed.is_empty() {
                    if t.starts_with(char::is_whitespace)
                        && !out.ends_with([' ', '\n'])
                        && !out.is_empty()
                    {
                        out.push(' ');
                    }
                    out.push_str(&collapsed);
                    if t.ends_with(char::is_whitespace) {
                        out.push(' ');
                    }
                }
            }
            SafeNode::Element { tag, children, .. } => match tag {
                SafeTag::Br => out.push('\n'),
                SafeTag::Hr => {
                    newline(out);
                    out.push_str("———\n");
                }
                SafeTag::Li => {
                    newline(out);
                    out.push_str("• ");
                    write_text(children, out);
                    newline(out);
                }
                SafeTag::Td | SafeTag::Th => {
                    if !out.ends_with('\n') && !out.is_empty() {
                        out.push_str(" | ");
                    }
                    let mut cell = String::new();
                    write_text(children, &mut cell);
                    out.push_str(cell.trim().replace('\n', " ").as_str());
                }
                SafeTag::Tr => {
                    newline(out);
                    write_text(children, out);
                    newline(out);
                }
                t if t.is_block()
                    || matches!(
                        t,
                        SafeTag::Li | SafeTag::Dt | SafeTag::Dd | SafeTag::Caption
                    ) =>
                {
                    newline(out);
                    write_text(children, out);
                    newline(out);
                }
                _ => write_text(children, out),
            },
        }
    }
}

/// A table as plain cells.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SimpleTable {
    pub caption: Option<String>,
    /// Cells of the header row(s) (`thead`, or a first row of `th` cells).
    pub header: Vec<String>,
    pub rows: Vec<Vec<String>>,
}

/// Every table in a tree, as plain cells (nested tables are listed separately).
pub fn tables(nodes: &[SafeNode]) -> Vec<SimpleTable> {
    let mut out = Vec::new();
    collect_tables(nodes, &mut out);
    out
}

fn collect_tables(nodes: &[SafeNode], out: &mut Vec<SimpleTable>) {
    for n in nodes {
        if let SafeNode::Element { tag, children, .. } = n {
            if *tag == SafeTag::Table {
                let mut t = SimpleTable {
                    caption: None,
                    header: Vec::new(),
                    rows: Vec::new(),
                };
                table_rows(children, false, &mut t);
                out.push(t);
            }
            collect_tables(children, out);
        }
    }
}

fn cell_text(children: &[SafeNode]) -> String {
    to_plain_text(children).replace('\n', " ")
}

fn table_rows(nodes: &[SafeNode], in_head: bool, t: &mut SimpleTable) {
    for n in nodes {
        let SafeNode::Element { tag, children, .. } = n else {
            continue;
        };
        match tag {
            SafeTag::Caption => t.caption = Some(cell_text(children)),
            SafeTag::Thead => table_rows(children, true, t),
            SafeTag::Tbody | SafeTag::Tfoot => table_rows(children, false, t),
            SafeTag::Tr => {
                let cells: Vec<(bool, String)> = children
                    .iter()
                    .filter_map(|c| match c {
                        SafeNode::Element {
                            tag: ct @ (SafeTag::Td | SafeTag::Th),
                            children,
                            ..
                        } => Some((*ct == SafeTag::Th, cell_text(children))),
                        _ => None,
                    })
                    .collect();
                let all_th = !cells.is_empty() && cells.iter().all(|c| c.0);
                let texts: Vec<String> = cells.into_iter().map(|c| c.1).collect();
                if (in_head || (all_th && t.rows.is_empty())) && t.header.is_empty() {
                    t.header = texts;
                } else {
                    t.rows.push(texts);
                }
            }
            _ => {}
        }
    }
}

/// What an attachment turned out to be.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DocumentView {
    /// HTML or XHTML, sanitised.
    Html(Vec<SafeNode>),
    /// A C-CDA document.
    Cda(CdaDocument),
    /// Plain text, shown as text.
    Text(String),
    /// Anything else (PDF, images, RTF…): offer it as a download (`blob:`), never inline.
    File {
        content_type: String,
        bytes: Vec<u8>,
    },
    /// The content is not in the resource; it must be fetched from `url` (with the source's
    /// authorisation), then passed to [`read_bytes`].
    External {
        url: String,
        content_type: Option<String>,
    },
}

/// Why an attachment could not be shown.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum DocumentError {
    #[error("this document has no content and no link to it; ask the provider for a copy")]
    NoContent,
    #[error("this document's file is damaged (its contents could not be decoded); ask the provider to send it again, or open it in their patient portal")]
    BadBase64,
    #[error("this document is too large to open here ({size} bytes); download it instead")]
    TooLarge { size: usize },
    #[error("this document's text could not be read in its stated encoding ({charset}); download it to open it in another program")]
    BadText { charset: String },
}

/// Largest attachment decoded in memory.
pub const MAX_ATTACHMENT_BYTES: usize = 64 * 1024 * 1024;

fn decode_base64(data: &str) -> Result<Vec<u8>, DocumentError> {
    use base64::engine::{general_purpose, DecodePaddingMode, GeneralPurposeConfig};
    let cleaned: String = data.chars().filter(|c| !c.is_ascii_whitespace()).collect();
    if cleaned.len() / 4 * 3 > MAX_ATTACHMENT_BYTES {
        return Err(DocumentError::TooLarge {
            size: cleaned.len() / 4 * 3,
        });
    }
    let cfg = GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent);
    let standard = base64::engine::GeneralPurpose::new(&base64::alphabet::STANDARD, cfg);
    let url = base64::engine::GeneralPurpose::new(&base64::alphabet::URL_SAFE, cfg);
    standard
        .decode(cleaned.as_bytes())
        .or_else(|_| url.decode(cleaned.as_bytes()))
        .or_else(|_| general_purpose::STANDARD.decode(cleaned.as_bytes()))
        .map_err(|_| DocumentError::BadBase64)
}

fn mime_and_charset(content_type: Option<&str>) -> (String, Option<String>) {
    let Some(ct) = content_type else {
        return (String::new(), None);
    };
    let mut parts = ct.split(';');
    let mime = parts.next().unwrap_or("").trim().to_ascii_lowercase();
    let charset = parts.find_map(|p| {
        let (k, v) = p.split_once('=')?;
        (k.trim().eq_ignore_ascii_case("charset"))
            .then(|| v.trim().trim_matches('"').to_ascii_lowercase())
    });
    (mime, charset)
}

fn windows_1252(bytes: &[u8]) -> String {
    bytes
        .iter()
        .map(|&b| match b {
            0x80..=0x9F => entities::c1(u32::from(b)).unwrap_or('\u{FFFD}'),
            _ => char::from(b),
        })
        .collect()
}

fn decode_text(bytes: &[u8], charset: Option<&str>) -> Result<String, DocumentError> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let utf16 = |le: bool, b: &[u8]| -> Result<String, DocumentError> {
        let units: Vec<u16> = b
            .chunks_exact(2)
            .map(|c| {
                if le {
                    u16::from_le_bytes([c[0], c[1]])
                } else {
                    u16::from_be_bytes([c[0], c[1]])
                }
            })
            .collect();
        Ok(String::from_utf16_lossy(&units))
    };
    if let Some(rest) = bytes.strip_prefix(b"\xFF\xFE") {
        return utf16(true, rest);
    }
    if let Some(rest) = bytes.strip_prefix(b"\xFE\xFF") {
        return utf16(false, rest);
    }
    match charset {
        None | Some("utf-8") | Some("utf8") => match std::str::from_utf8(bytes) {
            Ok(s) => Ok(s.to_string()),
            Err(_) if charset.is_none() => Ok(windows_1252(bytes)),
            Err(_) => Ok(String::from_utf8_lossy(bytes).into_owned()),
        },
        Some(
            "iso-8859-1" | "latin1" | "latin-1" | "windows-1252" | "cp1252" | "us-ascii" | "ascii",
        ) => Ok(windows_1252(bytes)),
        Some("utf-16le") => utf16(true, bytes),
        Some("utf-16" | "utf-16be") => utf16(false, bytes),
        Some(other) => Err(DocumentError::BadText {
            charset: other.to_string(),
        }),
    }
}

fn looks_like_cda(text: &str) -> bool {
    let head: String = text.chars().take(4096).collect();
    head.contains("ClinicalDocument")
}

fn looks_like_html(text: &str) -> bool {
    let head: String = text
        .chars()
        .take(1024)
        .collect::<String>()
        .to_ascii_lowercase();
    let t = head.trim_start();
    t.starts_with("<!doctype html")
        || t.starts_with("<html")
        || t.starts_with("<div")
        || t.starts_with("<p>")
        || t.starts_with("<p ")
        || t.starts_with("<table")
        || t.starts_with("<body")
}

/// Shows fetched or decoded bytes according to their content type (sniffed when missing).
pub fn read_bytes(content_type: Option<&str>, bytes: &[u8]) -> Result<DocumentView, DocumentError> {
    if bytes.len() > MAX_ATTACHMENT_BYTES {
        return Err(DocumentError::TooLarge { size: bytes.len() });
    }
    let (mime, charset) = mime_and_charset(content_type);
    let file = |m: &str| DocumentView::File {
        content_type: if m.is_empty() {
            "application/octet-stream".into()
        } else {
            m.to_string()
        },
        bytes: bytes.to_vec(),
    };
    match mime.as_str() {
        "text/html" | "application/xhtml+xml" => Ok(DocumentView::Html(sanitize_html(
            &decode_text(bytes, charset.as_deref())?,
        ))),
        "text/xml"
        | "application/xml"
        | "application/hl7-v3+xml"
        | "application/cda+xml"
        | "application/hl7-cda+xml" => {
            let text = decode_text(bytes, charset.as_deref())?;
            match parse_cda(&text) {
                Ok(doc) => Ok(DocumentView::Cda(doc)),
                Err(_) => Ok(DocumentView::Text(cda::xml_text(&text))),
            }
        }
        "text/plain" | "text/markdown" | "text/csv" | "text/tab-separated-values" => {
            Ok(DocumentView::Text(decode_text(bytes, charset.as_deref())?))
        }
        "" => {
            if bytes.starts_with(b"%PDF") {
                return Ok(file("application/pdf"));
            }
            match std::str::from_utf8(bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes)) {
                Ok(text) if looks_like_cda(text) => match parse_cda(text) {
                    Ok(doc) => Ok(DocumentView::Cda(doc)),
                    Err(_) => Ok(DocumentView::Text(cda::xml_text(text))),
                },
                Ok(text) if looks_like_html(text) => Ok(DocumentView::Html(sanitize_html(text))),
                Ok(text) if !text.contains('\0') => Ok(DocumentView::Text(text.to_string())),
                _ => Ok(file("")),
            }
        }
        m => Ok(file(m)),
    }
}

/// Reads an attachment: decodes `data` (base64, whitespace and missing padding tolerated) and
/// routes by content type; without data, points at its `url`.
pub fn read_attachment(att: &Attachment) -> Result<DocumentView, DocumentError> {
    match att.data.as_deref().filter(|d| !d.trim().is_empty()) {
        Some(data) => {
            let bytes = decode_base64(data)?;
            read_bytes(att.content_type.as_deref(), &bytes)
        }
        None => match att.url.as_deref().filter(|u| !u.trim().is_empty()) {
            Some(url) => Ok(DocumentView::External {
                url: url.to_string(),
                content_type: att.content_type.clone(),
            }),
            None => Err(DocumentError::NoContent),
        },
    }
}

/// The attachments of a DocumentReference (`content[].attachment`) or DiagnosticReport
/// (`presentedForm`), in order (positions match [`crate::lists::AttachmentSummary::position`]).
pub fn attachments_of(resource: &Resource) -> Vec<Attachment> {
    match resource.resource_type() {
        "DocumentReference" => resource
            .view::<phr_fhir::views::DocumentReference>()
            .map(|d| d.content.into_iter().filter_map(|c| c.attachment).collect())
            .unwrap_or_default(),
        "DiagnosticReport" => resource
            .view::<phr_fhir::views::DiagnosticReport>()
            .map(|d| d.presented_form)
            .unwrap_or_default(),
        _ => Vec::new(),
    }
}

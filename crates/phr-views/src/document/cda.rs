//! C-CDA documents as a readable model: the document title, date and patient, and each
//! section's title, code and narrative text (paragraphs, lists, tables) as a safe tree.
//!
//! Coded entries are not interpreted: the narrative is what the author signed and what a person
//! reads. The narrative block's elements map onto [`SafeTag`]s (`paragraph` → p, `list` → ul/ol,
//! `item` → li, `content` with a bold/italic/underline style → b/i/u, tables as tables); anything
//! else is unwrapped to its text, and active content is dropped, exactly as for HTML.

use super::tokenizer::{Token, Tokenizer};
use super::{push_text, safe_url, text_of, to_plain_text, SafeNode, SafeTag};

/// A section of a C-CDA document.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CdaSection {
    pub title: Option<String>,
    /// The section code (`48765-2` for allergies…).
    pub code: Option<String>,
    pub code_system: Option<String>,
    pub code_display: Option<String>,
    /// The narrative text.
    pub content: Vec<SafeNode>,
    /// Nested sections.
    pub sections: Vec<CdaSection>,
}

/// A C-CDA document, ready to read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CdaDocument {
    pub title: Option<String>,
    /// `effectiveTime`, as `2024-03-05` or `2024-03-05 10:30` (as written).
    pub date: Option<String>,
    /// The patient's name as written in the document.
    pub patient: Option<String>,
    pub sections: Vec<CdaSection>,
    /// For documents whose body is an attached file (`nonXMLBody`), what it is.
    pub attached_file: Option<String>,
}

impl CdaDocument {
    /// The whole document as text: title, then each section's title and text.
    pub fn to_plain_text(&self) -> String {
        let mut out = String::new();
        if let Some(t) = &self.title {
            out.push_str(t);
            out.push_str("\n\n");
        }
        fn walk(s: &[CdaSection], depth: usize, out: &mut String) {
            for sec in s {
                if let Some(t) = &sec.title {
                    out.push_str(&"#".repeat(depth + 1));
                    out.push(' ');
                    out.push_str(t);
                    out.push('\n');
                }
                let body = to_plain_text(&sec.content);
                if !body.is_empty() {
                    out.push_str(&body);
                    out.push('\n');
                }
                out.push('\n');
                walk(&sec.sections, depth + 1, out);
            }
        }
        walk(&self.sections, 0, &mut out);
        if let Some(a) = &self.attached_file {
            out.push_str(a);
        }
        out.trim().to_string()
    }
}

/// Why XML was not read as a C-CDA document.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum CdaError {
    #[error("this file is XML but not a clinical document (C-CDA); it is shown as plain text")]
    NotCda,
}

#[derive(Debug)]
struct XElem {
    name: String,
    attrs: Vec<(String, String)>,
    children: Vec<XNode>,
}

#[derive(Debug)]
enum XNode {
    Elem(XElem),
    Text(String),
}

fn local(name: &str) -> &str {
    name.rsplit(':').next().unwrap_or(name)
}

impl XElem {
    fn attr(&self, name: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|(n, _)| local(n) == name)
            .map(|(_, v)| v.as_str())
    }

    fn child(&self, name: &str) -> Option<&XElem> {
        self.elems().find(|e| e.name == name)
    }

    fn elems(&self) -> impl Iterator<Item = &XElem> {
        self.children.iter().filter_map(|c| match c {
            XNode::Elem(e) => Some(e),
            XNode::Text(_) => None,
        })
    }

    fn text(&self) -> String {
        let mut s = String::new();
        for c in &self.children {
            match c {
                XNode::Text(t) => s.push_str(t),
                XNode::Elem(e) => {
                    s.push(' ');
                    s.push_str(&e.text());
                }
            }
        }
        s.split_whitespace().collect::<Vec<_>>().join(" ")
    }
}

const MAX_XML_DEPTH: usize = 256;

fn parse_xml(s: &str) -> Vec<XNode> {
    let mut stack: Vec<XElem> = vec![XElem {
        name: String::new(),
        attrs: Vec::new(),
        children: Vec::new(),
    }];
    fn close(stack: &mut Vec<XElem>) {
        if stack.len() > 1 {
            if let Some(e) = stack.pop() {
                if let Some(p) = stack.last_mut() {
                    p.children.push(XNode::Elem(e));
                }
            }
        }
    }
    for tok in Tokenizer::new(s, true) {
        match tok {
            Token::Text(t) => {
                if let Some(top) = stack.last_mut() {
                    if let Some(XNode::Text(prev)) = top.children.last_mut() {
                        prev.push_str(&t);
                    } else {
                        top.children.push(XNode::Text(t));
                    }
                }
            }
            Token::Start {
                name,
                attrs,
                self_closing,
            } => {
                if stack.len() > MAX_XML_DEPTH {
                    continue;
                }
                let e = XElem {
                    name: local(&name).to_string(),
                    attrs,
                    children: Vec::new(),
                };
                if self_closing {
                    if let Some(top) = stack.last_mut() {
                        top.children.push(XNode::Elem(e));
                    }
                } else {
                    stack.push(e);
                }
            }
            Token::End { name } => {
                let n = local(&name);
                if let Some(i) = stack.iter().rposition(|e| e.name == n) {
                    if i > 0 {
                        while stack.len() > i {
                            close(&mut stack);
                        }
                    }
                }
            }
        }
    }
    while stack.len() > 1 {
        close(&mut stack);
    }
    stack.pop().map(|r| r.children).unwrap_or_default()
}

/// All text of an XML document, whitespace collapsed (for XML that is not C-CDA).
pub(crate) fn xml_text(s: &str) -> String {
    fn walk(nodes: &[XNode], out: &mut String) {
        for n in nodes {
            match n {
                XNode::Text(t) => {
                    for w in t.split_whitespace() {
                        if !out.is_empty() {
                            out.push(' ');
                        }
                        out.push_str(w);
                    }
                }
                XNode::Elem(e) => {
                    if !DROP.contains(&e.name.to_ascii_lowercase().as_str()) {
                        walk(&e.children, out);
                    }
                }
            }
        }
    }
    let mut out = String::new();
    walk(&parse_xml(s), &mut out);
    out
}

const DROP: &[&str] = &[
    "script",
    "style",
    "iframe",
    "object",
    "embed",
    "svg",
    "math",
    "template",
    "noscript",
    "rendermultimedia",
    "footnoteref",
    "col",
    "colgroup",
    "head",
    "title",
    "applet",
];

fn span(e: &XElem, name: &str) -> Option<u16> {
    let n: u16 = e.attr(name)?.trim().parse().ok()?;
    (1..=1000).contains(&n).then_some(n)
}

fn clean(tag: SafeTag, mut children: Vec<SafeNode>) -> Vec<SafeNode> {
    if matches!(
        tag,
        SafeTag::Table
            | SafeTag::Thead
            | SafeTag::Tbody
            | SafeTag::Tfoot
            | SafeTag::Tr
            | SafeTag::Ul
            | SafeTag::Ol
    ) {
        children.retain(|c| !matches!(c, SafeNode::Text(t) if t.trim().is_empty()));
    }
    children
}

fn narrative(nodes: &[XNode], depth: usize, out: &mut Vec<SafeNode>) {
    for n in nodes {
        match n {
            XNode::Text(t) => push_text(out, t),
            XNode::Elem(e) => narrative_elem(e, depth, out),
        }
    }
}

fn wrap(tag: SafeTag, children: Vec<SafeNode>) -> SafeNode {
    SafeNode::Element {
        tag,
        colspan: None,
        rowspan: None,
        children: clean(tag, children),
    }
}

fn narrative_elem(e: &XElem, depth: usize, out: &mut Vec<SafeNode>) {
    let lname = e.name.to_ascii_lowercase();
    if DROP.contains(&lname.as_str()) {
        return;
    }
    if depth > 64 {
        narrative(&e.children, depth, out);
        return;
    }
    let inner = |out: &mut Vec<SafeNode>| narrative(&e.children, depth + 1, out);
    match lname.as_str() {
        "paragraph" => {
            let mut c = Vec::new();
            inner(&mut c);
            out.push(wrap(SafeTag::P, c));
        }
        "content" => {
            let mut c = Vec::new();
            inner(&mut c);
            let style = e.attr("styleCode").unwrap_or("").to_ascii_lowercase();
            let mut node_children = c;
            for (key, tag) in [
                ("underline", SafeTag::U),
                ("italics", SafeTag::I),
                ("bold", SafeTag::B),
            ] {
                if style.contains(key) {
                    node_children = vec![wrap(tag, node_children)];
                }
            }
            for n in node_children {
                match n {
                    SafeNode::Text(t) => push_text(out, &t),
                    other => out.push(other),
                }
            }
        }
        "list" => {
            if let Some(cap) = e.child("caption") {
                out.push(wrap(
                    SafeTag::P,
                    vec![wrap(SafeTag::B, vec![SafeNode::Text(cap.text())])],
                ));
            }
            let ordered = e
                .attr("listType")
                .is_some_and(|t| t.eq_ignore_ascii_case("ordered"));
            let mut items = Vec::new();
            for c in &e.children {
                match c {
                    XNode::Elem(x) if x.name == "caption" => {}
                    XNode::Elem(x) => narrative_elem(x, depth + 1, &mut items),
                    XNode::Text(t) => push_text(&mut items, t),
                }
            }
            out.push(wrap(if ordered { SafeTag::Ol } else { SafeTag::Ul }, items));
        }
        "item" => {
            let mut c = Vec::new();
            inner(&mut c);
            out.push(wrap(SafeTag::Li, c));
        }
        "caption" => {
            let mut c = Vec::new();
            inner(&mut c);
            out.push(wrap(SafeTag::Caption, c));
        }
        "linkhtml" => {
            let mut c = Vec::new();
            inner(&mut c);
            let text = text_of(&c);
            for n in c {
                match n {
                    SafeNode::Text(t) => push_text(out, &t),
                    other => out.push(other),
                }
            }
            if let Some(h) = e.attr("href").and_then(safe_url) {
                if text.trim() != h {
                    push_text(out, &format!(" ({h})"));
                }
            }
        }
        "footnote" => {
            push_text(out, " [");
            inner(out);
            push_text(out, "]");
        }
        "td" | "th" => {
            let mut c = Vec::new();
            inner(&mut c);
            out.push(SafeNode::Element {
                tag: if lname == "td" {
                    SafeTag::Td
                } else {
                    SafeTag::Th
                },
                colspan: span(e, "colspan"),
                rowspan: span(e, "rowspan"),
                children: c,
            });
        }
        _ => match SafeTag::from_name(&lname) {
            Some(tag) => {
                let mut c = Vec::new();
                if !tag.is_void() {
                    inner(&mut c);
                }
                out.push(wrap(tag, c));
            }
            None => inner(out),
        },
    }
}

fn cda_date(v: &str) -> Option<String> {
    let d: String = v.chars().take_while(char::is_ascii_digit).collect();
    if d.len() < 8 {
        return (d.len() == 4).then_some(d);
    }
    let mut s = format!("{}-{}-{}", &d[0..4], &d[4..6], &d[6..8]);
    if d.len() >= 12 {
        s.push_str(&format!(" {}:{}", &d[8..10], &d[10..12]));
    }
    Some(s)
}

fn section(e: &XElem) -> CdaSection {
    let code = e.child("code");
    let mut content = Vec::new();
    if let Some(t) = e.child("text") {
        narrative(&t.children, 0, &mut content);
        content.retain(|c| !matches!(c, SafeNode::Text(t) if t.trim().is_empty()));
    }
    CdaSection {
        title: e.child("title").map(XElem::text).filter(|t| !t.is_empty()),
        code: code.and_then(|c| c.attr("code")).map(str::to_string),
        code_system: code.and_then(|c| c.attr("codeSystem")).map(str::to_string),
        code_display: code.and_then(|c| c.attr("displayName")).map(str::to_string),
        content,
        sections: e
            .elems()
            .filter(|c| c.name == "component")
            .filter_map(|c| c.child("section"))
            .map(section)
            .collect(),
    }
}

fn find_elem<'a>(nodes: &'a [XNode], name: &str) -> Option<&'a XElem> {
    for n in nodes {
        if let XNode::Elem(e) = n {
            if e.name == name {
                return Some(e);
            }
            if let Some(f) = find_elem(&e.children, name) {
                return Some(f);
            }
        }
    }
    None
}

/// Reads a C-CDA document. Lenient about broken XML; an error only when there is no
/// `ClinicalDocument` at all.
pub fn parse_cda(xml: &str) -> Result<CdaDocument, CdaError> {
    let nodes = parse_xml(xml);
    let doc = find_elem(&nodes, "ClinicalDocument").ok_or(CdaError::NotCda)?;
    let patient = doc
        .child("recordTarget")
        .and_then(|r| r.child("patientRole"))
        .and_then(|r| r.child("patient"))
        .and_then(|p| p.child("name"))
        .map(|n| {
            let given: Vec<String> = n
                .elems()
                .filter(|x| x.name == "given")
                .map(XElem::text)
                .collect();
            let family = n.child("family").map(XElem::text).unwrap_or_default();
            if given.is_empty() && family.is_empty() {
                n.text()
            } else {
                format!("{} {}", given.join(" "), family).trim().to_string()
            }
        })
        .filter(|s| !s.is_empty());
    let mut sections = Vec::new();
    let mut attached_file = None;
    if let Some(body) = doc.child("component") {
        if let Some(sb) = body.child("structuredBody") {
            sections = sb
                .elems()
                .filter(|c| c.name == "component")
                .filter_map(|c| c.child("section"))
                .map(section)
                .collect();
        }
        if let Some(nx) = body.child("nonXMLBody") {
            let media = nx
                .child("text")
                .and_then(|t| t.attr("mediaType"))
                .unwrap_or("a file");
            attached_file = Some(format!(
                "This document's content is an attached file ({media}) that cannot be shown here."
            ));
        }
    }
    Ok(CdaDocument {
        title: doc
            .child("title")
            .map(XElem::text)
            .filter(|t| !t.is_empty()),
        date: doc
            .child("effectiveTime")
            .and_then(|t| t.attr("value"))
            .and_then(cda_date),
        patient,
        sections,
        attached_file,
    })
}

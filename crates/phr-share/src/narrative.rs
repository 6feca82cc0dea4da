//! Generated XHTML narratives and HTML escaping. Every piece of data is escaped; nothing from a
//! resource is ever inserted as markup.

use crate::describe::Row;

/// Escapes text for HTML and XHTML (element content and attribute values).
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            // Control characters are not allowed in XML 1.0.
            c if (c as u32) < 0x20 && !matches!(c, '\n' | '\t' | '\r') => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

const XHTML: &str = "http://www.w3.org/1999/xhtml";

/// The narrative `div` of one prepared resource.
pub fn resource_div(row: &Row) -> String {
    let mut s = format!("<div xmlns=\"{XHTML}\"><p><b>{}</b>", escape(&row.title));
    if !row.detail.is_empty() {
        s.push_str(&format!(": {}", escape(&row.detail)));
    }
    if let Some(st) = &row.status {
        s.push_str(&format!(" ({})", escape(st)));
    }
    if let Some(d) = &row.date {
        s.push_str(&format!(", {}", escape(d)));
    }
    s.push_str("</p></div>");
    s
}

/// One row of a section table: the description, its source, and whether the patient reported it.
pub struct SectionRow<'a> {
    pub row: &'a Row,
    pub source: &'a str,
    pub patient_reported: bool,
}

/// The narrative `div` of a section: a table with one row per entry.
pub fn section_div(rows: &[SectionRow<'_>]) -> String {
    let mut s = format!(
        "<div xmlns=\"{XHTML}\"><table><thead><tr><th>Item</th><th>Details</th><th>Status</th><th>Date</th><th>Source</th></tr></thead><tbody>"
    );
    for r in rows {
        let source = if r.patient_reported {
            format!("{} (patient-reported)", r.source)
        } else {
            r.source.to_string()
        };
        s.push_str(&format!(
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            escape(&r.row.title),
            escape(&r.row.detail),
            escape(r.row.status.as_deref().unwrap_or("")),
            escape(r.row.date.as_deref().unwrap_or("")),
            escape(&source)
        ));
    }
    s.push_str("</tbody></table></div>");
    s
}

/// A narrative `div` of paragraphs.
pub fn paragraphs_div(paragraphs: &[&str]) -> String {
    let mut s = format!("<div xmlns=\"{XHTML}\">");
    for p in paragraphs {
        s.push_str(&format!("<p>{}</p>", escape(p)));
    }
    s.push_str("</div>");
    s
}

/// Plain text of untrusted (X)HTML: tags dropped, block ends turned into spaces, the five
/// predefined and numeric entities decoded. The result is text, to be escaped again on output.
pub fn plain_text(html: &str) -> String {
    let mut out = String::new();
    let mut in_tag = false;
    let mut chars = html.chars().peekable();
    while let Some(c) = chars.next() {
        if in_tag {
            if c == '>' {
                in_tag = false;
                out.push(' ');
            }
            continue;
        }
        match c {
            '<' => in_tag = true,
            '&' => {
                let mut ent = String::new();
                while let Some(&n) = chars.peek() {
                    if n == ';' || ent.len() > 10 {
                        break;
                    }
                    ent.push(n);
                    chars.next();
                }
                let semicolon = chars.peek() == Some(&';');
                if semicolon {
                    chars.next();
                }
                let decoded = match ent.as_str() {
                    "amp" => Some('&'),
                    "lt" => Some('<'),
                    "gt" => Some('>'),
                    "quot" => Some('"'),
                    "apos" => Some('\''),
                    "nbsp" => Some(' '),
                    e if e.starts_with("#x") || e.starts_with("#X") => {
                        u32::from_str_radix(&e[2..], 16)
                            .ok()
                            .and_then(char::from_u32)
                    }
                    e if e.starts_with('#') => e[1..].parse().ok().and_then(char::from_u32),
                    _ => None,
                };
                match decoded.filter(|_| semicolon) {
                    Some(d) => out.push(d),
                    None => {
                        out.push('&');
                        out.push_str(&ent);
                        if semicolon {
                            out.push(';');
                        }
                    }
                }
            }
            c => out.push(c),
        }
    }
    out.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_everything() {
        let row = Row {
            title: "<script>alert(1)</script>".into(),
            detail: "a & \"b\"".into(),
            date: None,
            status: None,
        };
        let d = resource_div(&row);
        assert!(!d.contains("<script>"));
        assert!(d.contains("&lt;script&gt;"));
        assert!(d.contains("a &amp; &quot;b&quot;"));
    }

    #[test]
    fn plain_text_of_markup() {
        assert_eq!(
            plain_text("<div><p>A &amp; B</p><p>C&#39;s &lt;x&gt;</p></div>"),
            "A & B C's <x>"
        );
        assert_eq!(plain_text("<img src=x onerror=alert(1)>hi"), "hi");
        assert_eq!(plain_text("AT&T"), "AT&T");
    }
}

//! The printable summary: a complete standalone HTML document (its own stylesheet, with print
//! rules, good for "Save as PDF"), rendered from the same [`DocumentView`] the viewer shows, so
//! what is printed is exactly what the shared document contains. All text is escaped.

use crate::narrative::escape;
use crate::viewer::{view_document, DocumentView, ViewError};
use crate::LEGAL_RECORD_LINE;

const STYLE: &str = r#"
:root { color-scheme: light; }
* { box-sizing: border-box; }
body { font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: #111; margin: 0; background: #fff; }
main { max-width: 60rem; margin: 0 auto; padding: 1.5rem; }
header { border-bottom: 2px solid #111; padding-bottom: .75rem; margin-bottom: 1rem; }
h1 { font-size: 1.5rem; margin: 0 0 .25rem; }
h2 { font-size: 1.15rem; margin: 1.5rem 0 .5rem; border-bottom: 1px solid #999; padding-bottom: .2rem; }
.patient { font-size: 1.05rem; }
.patient dt { display: inline; font-weight: 600; }
.patient dd { display: inline; margin: 0 1.25rem 0 .25rem; }
.meta { color: #444; }
table { width: 100%; border-collapse: collapse; margin: .25rem 0 .75rem; }
th, td { text-align: left; vertical-align: top; padding: .35rem .5rem; border-bottom: 1px solid #ccc; }
th { font-size: .85rem; text-transform: uppercase; letter-spacing: .03em; color: #333; border-bottom: 2px solid #666; }
.badge { display: inline-block; font-size: .78rem; padding: .05rem .4rem; border: 1px solid #666; border-radius: .6rem; white-space: nowrap; margin: .1rem .2rem .1rem 0; }
.badge.patient { border-style: dashed; font-style: italic; }
.empty { color: #444; font-style: italic; }
.notice { border: 2px solid #111; padding: .75rem 1rem; margin: 1rem 0; }
.notice h2 { margin-top: 0; border: 0; }
.legal { margin-top: 2rem; padding-top: .75rem; border-top: 1px solid #999; color: #333; font-size: .9rem; }
@media print {
  body { font-size: 10.5pt; }
  main { max-width: none; padding: 0; }
  h2 { break-after: avoid; }
  tr, .notice { break-inside: avoid; }
  thead { display: table-header-group; }
  a { color: inherit; text-decoration: none; }
  @page { margin: 15mm; }
}
"#;

/// Renders a complete HTML document for printing or saving as PDF.
pub fn render_html(view: &DocumentView) -> String {
    let mut h = String::with_capacity(8192);
    let title = match &view.patient.name {
        Some(n) => format!("{} — {}", view.title, n),
        None => view.title.clone(),
    };
    h.push_str("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">");
    h.push_str("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">");
    h.push_str(&format!(
        "<title>{}</title><style>{STYLE}</style></head><body><main>",
        escape(&title)
    ));

    h.push_str(&format!(
        "<header><h1>{}</h1><dl class=\"patient\">",
        escape(&view.title)
    ));
    let p = &view.patient;
    for (k, v) in [
        ("Patient", p.name.as_deref()),
        ("Born", p.birth_date.as_deref()),
        ("Sex", p.gender.as_deref()),
    ] {
        if let Some(v) = v {
            h.push_str(&format!("<dt>{k}</dt><dd>{}</dd>", escape(v)));
        }
    }
    h.push_str("</dl>");
    if let Some(d) = &view.date {
        h.push_str(&format!("<p class=\"meta\">Prepared {}</p>", escape(d)));
    }
    if view.restricted {
        h.push_str("<p class=\"meta\"><strong>Restricted:</strong> this summary contains sensitive information shared by the patient's choice.</p>");
    }
    h.push_str("</header>");

    for n in &view.notices {
        h.push_str(&format!(
            "<section class=\"notice\" role=\"note\"><h2>Notice to the recipient</h2><p>{}</p></section>",
            escape(n)
        ));
    }

    for s in &view.sections {
        h.push_str(&format!("<section><h2>{}</h2>", escape(&s.title)));
        if s.rows.is_empty() {
            h.push_str(&format!(
                "<p class=\"empty\">{}</p></section>",
                escape(match s.empty_reason.as_deref() {
                    Some("Unavailable") | None => "No information available.",
                    Some(other) => other,
                })
            ));
            continue;
        }
        h.push_str("<table><thead><tr><th scope=\"col\">Item</th><th scope=\"col\">Details</th><th scope=\"col\">Status</th><th scope=\"col\">Date</th><th scope=\"col\">Source</th></tr></thead><tbody>");
        for r in &s.rows {
            let mut badges = String::new();
            if let Some(src) = r.source.as_deref().filter(|s| *s != "Patient") {
                badges.push_str(&format!("<span class=\"badge\">{}</span>", escape(src)));
            }
            if r.patient_reported {
                badges.push_str("<span class=\"badge patient\">patient-reported</span>");
            }
            h.push_str(&format!(
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                escape(&r.row.title),
                escape(&r.row.detail),
                escape(r.row.status.as_deref().unwrap_or("")),
                escape(r.row.date.as_deref().unwrap_or("")),
                badges
            ));
        }
        h.push_str("</tbody></table></section>");
    }

    h.push_str(&format!(
        "<p class=\"legal\">{}</p>",
        escape(LEGAL_RECORD_LINE)
    ));
    h.push_str("</main></body></html>\n");
    h
}

/// Reads a shared document and renders it for printing.
pub fn render_document_html(bundle_json: &str) -> Result<String, ViewError> {
    Ok(render_html(&view_document(bundle_json)?))
}

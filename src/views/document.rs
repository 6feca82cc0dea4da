//! Documents and narratives, rendered from the sanitiser's allowlisted node tree. Each node becomes
//! a DOM element or a text node; no markup string ever reaches the DOM, so nothing in a document
//! can run (no script, no event handler, no remote load).

use leptos::html;
use leptos::prelude::*;
use phr_views::document::{CdaDocument, CdaSection, SafeNode, SafeTag};

/// Renders sanitised nodes.
pub fn safe_nodes(nodes: &[SafeNode]) -> AnyView {
    nodes.iter().map(safe_node).collect_view().into_any()
}

fn safe_node(node: &SafeNode) -> AnyView {
    match node {
        SafeNode::Text(t) => t.clone().into_any(),
        SafeNode::Element {
            tag,
            colspan,
            rowspan,
            children,
        } => element(*tag, *colspan, *rowspan, safe_nodes(children)),
    }
}

fn element(tag: SafeTag, colspan: Option<u16>, rowspan: Option<u16>, c: AnyView) -> AnyView {
    use SafeTag::*;
    let span = |v: Option<u16>| v.map(|n| n.to_string());
    match tag {
        P => html::p().child(c).into_any(),
        Br => html::br().into_any(),
        Div => html::div().child(c).into_any(),
        Span => html::span().child(c).into_any(),
        B => html::b().child(c).into_any(),
        Strong => html::strong().child(c).into_any(),
        I => html::i().child(c).into_any(),
        Em => html::em().child(c).into_any(),
        U => html::u().child(c).into_any(),
        Small => html::small().child(c).into_any(),
        Ul => html::ul().child(c).into_any(),
        Ol => html::ol().child(c).into_any(),
        Li => html::li().child(c).into_any(),
        Dl => html::dl().child(c).into_any(),
        Dt => html::dt().child(c).into_any(),
        Dd => html::dd().child(c).into_any(),
        Caption => html::caption().child(c).into_any(),
        Table => html::table().child(c).into_any(),
        Thead => html::thead().child(c).into_any(),
        Tbody => html::tbody().child(c).into_any(),
        Tfoot => html::tfoot().child(c).into_any(),
        Tr => html::tr().child(c).into_any(),
        Th => html::th()
            .attr("colspan", span(colspan))
            .attr("rowspan", span(rowspan))
            .child(c)
            .into_any(),
        Td => html::td()
            .attr("colspan", span(colspan))
            .attr("rowspan", span(rowspan))
            .child(c)
            .into_any(),
        H1 | H2 => html::h3().child(c).into_any(),
        H3 => html::h4().child(c).into_any(),
        H4 | H5 | H6 => html::h5().child(c).into_any(),
        Pre => html::pre().child(c).into_any(),
        Code => html::code().child(c).into_any(),
        Blockquote => html::blockquote().child(c).into_any(),
        Hr => html::hr().into_any(),
        Sub => html::sub().child(c).into_any(),
        Sup => html::sup().child(c).into_any(),
    }
}

/// A C-CDA document as readable sections.
pub fn cda(doc: &CdaDocument) -> AnyView {
    view! {
        <div class="cda">
            {doc.title.clone().map(|t| view! { <h3>{t}</h3> })}
            {doc.date.clone().map(|d| view! { <p class="muted">{d}</p> })}
            {cda_sections(&doc.sections)}
            {doc.attached_file.clone().map(|f| view! { <p>{f}</p> })}
        </div>
    }
    .into_any()
}

fn cda_sections(sections: &[CdaSection]) -> AnyView {
    sections
        .iter()
        .map(|s| {
            view! {
                <section class="cda-section">
                    {s.title.clone().map(|t| view! { <h4>{t}</h4> })}
                    {safe_nodes(&s.content)}
                    {cda_sections(&s.sections)}
                </section>
            }
            .into_any()
        })
        .collect_view()
        .into_any()
}

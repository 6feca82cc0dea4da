//! A shared document as a clinician reads it, rendered from `phr_share::DocumentView` (the same
//! model the standalone printable summary uses). Every value is text: nothing in a received
//! document can become markup.

use leptos::prelude::*;
use phr_share::{DocumentView, RowView, SectionView, LEGAL_RECORD_LINE};

/// Rows shown per section before "Show all". The rest are in the page but hidden on screen, so
/// printing (which shows them) never depends on what was expanded.
const FIRST_ROWS: usize = 100;

/// The whole document: who, notices, sections, the legal line.
#[component]
pub fn SharedDocument(doc: DocumentView) -> impl IntoView {
    let p = doc.patient.clone();
    view! {
        <article class="shared-doc" aria-labelledby="shared-doc-title">
            <header class="doc-head">
                <h2 id="shared-doc-title">{doc.title.clone()}</h2>
                <dl class="doc-patient">
                    {p.name.clone().map(|n| view! { <div><dt>"Patient"</dt><dd id="doc-patient-name">{n}</dd></div> })}
                    {p.birth_date.clone().map(|b| view! { <div><dt>"Born"</dt><dd>{b}</dd></div> })}
                    {p.gender.clone().map(|g| view! { <div><dt>"Sex"</dt><dd>{g}</dd></div> })}
                    {(!p.identifiers.is_empty()).then(|| view! { <div><dt>"Identifiers"</dt><dd>{p.identifiers.join(", ")}</dd></div> })}
                </dl>
                {doc.date.clone().map(|d| view! { <p class="muted">"Prepared " {crate::format::date_time(&d)}</p> })}
                {doc.restricted.then(|| view! {
                    <p class="doc-restricted" id="doc-restricted">
                        <strong>"Restricted: "</strong>
                        "this summary contains sensitive information shared by the patient's choice."
                    </p>
                })}
            </header>
            {doc.notices.iter().map(|n| view! {
                <section class="doc-notice" role="note" aria-label="Notice to the recipient">
                    <h3>"Notice to the recipient"</h3>
                    <p>{n.clone()}</p>
                </section>
            }).collect_view()}
            {doc.sections.iter().enumerate().map(|(i, s)| view! { <DocSection section=s.clone() position=i /> }).collect_view()}
            {(!doc.issues.is_empty()).then(|| view! {
                <details class="doc-issues">
                    <summary>{format!("{} problem(s) reading this document", doc.issues.len())}</summary>
                    <ul>{doc.issues.iter().map(|i| view! { <li>{i.clone()}</li> }).collect_view()}</ul>
                </details>
            })}
            <p class="doc-legal">{LEGAL_RECORD_LINE}</p>
        </article>
    }
}

#[component]
fn DocSection(section: SectionView, position: usize) -> impl IntoView {
    let expanded = RwSignal::new(false);
    let heading = format!("doc-section-{position}");
    let heading_id = heading.clone();
    let total = section.rows.len();
    let title = section.title.clone();
    let body = if section.rows.is_empty() {
        let why = match section.empty_reason.as_deref() {
            Some("Unavailable") | None => "No information available.".to_string(),
            Some(other) => other.to_string(),
        };
        view! { <p class="empty">{why}</p> }.into_any()
    } else {
        view! {
            <table class="doc-table">
                <caption class="visually-hidden">{title.clone()}</caption>
                <thead>
                    <tr>
                        <th scope="col">"Item"</th>
                        <th scope="col">"Details"</th>
                        <th scope="col">"Status"</th>
                        <th scope="col">"Date"</th>
                        <th scope="col">"Source"</th>
                    </tr>
                </thead>
                <tbody>
                    {section.rows.iter().enumerate().map(|(i, r)| {
                        let beyond = Signal::derive(move || i >= FIRST_ROWS && !expanded.get());
                        view! { <DocRow row=r.clone() beyond=beyond /> }
                    }).collect_view()}
                </tbody>
            </table>
            {move || (total > FIRST_ROWS && !expanded.get()).then(|| view! {
                <button type="button" class="secondary show-all" on:click=move |_| expanded.set(true)>
                    {format!("Show all {total} items")}
                </button>
            })}
        }
        .into_any()
    };
    view! {
        <section class="doc-section" aria-labelledby=heading data-code=section.code.clone()>
            <h3 id=heading_id>{section.title.clone()} <span class="count">{format!(" ({total})")}</span></h3>
            {body}
        </section>
    }
}

#[component]
fn DocRow(row: RowView, beyond: Signal<bool>) -> impl IntoView {
    let source = row.source.clone().filter(|s| s != "Patient");
    view! {
        <tr class:patient=row.patient_reported class:beyond=move || beyond.get()>
            <td data-label="Item">{row.row.title.clone()}</td>
            <td data-label="Details">{row.row.detail.clone()}</td>
            <td data-label="Status">{row.row.status.clone().unwrap_or_default()}</td>
            <td data-label="Date" class="date">{row.row.date.clone().map(|d| crate::format::date(&d)).unwrap_or_default()}</td>
            <td data-label="Source">
                {source.map(|s| view! { <span class="badge ehr">{s}</span> })}
                {row.patient_reported.then(|| view! {
                    <span class="badge patient" title="Entered by the patient; not verified by a clinician">"Patient-reported"</span>
                })}
            </td>
        </tr>
    }
}

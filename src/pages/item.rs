//! One item of the record: every copy with where it came from, the provider's own text and
//! documents (shown safely), the original FHIR, and the patient's notes. Provider items are never
//! edited: notes are separate records and hiding is reversible.

use leptos::prelude::*;
use leptos::task::spawn_local;
use phr_record::patient::{self, Authoring, NoteInput};
use phr_record::EntryKey;
use phr_views::document::{self, DocumentView};

use crate::components::ErrorBox;
use crate::messages::vault_error_message;
use crate::platform::{files, ids, time::now_rfc3339};
use crate::record_util::{key_string, parse_key, patient_reference, source_label};
use crate::state::{AppCtx, NoticeKind};
use crate::views::document::{cda, safe_nodes};
use crate::views::row::RowView;

/// Saves after a change, reporting the outcome; the change stays in memory if the save fails.
pub fn save_after_change(app: AppCtx, done: &'static str) {
    app.changed();
    let Some(session) = app.session() else { return };
    spawn_local(async move {
        match session.save().await {
            Ok(_) => app.say(NoticeKind::Success, done),
            Err(e) => app.say(NoticeKind::Error, vault_error_message(&e)),
        }
        app.changed();
    });
}

#[component]
pub fn ItemPage(key: String) -> impl IntoView {
    let app = AppCtx::expect();
    let Some(entry_key) = parse_key(&key) else {
        return view! {
            <section class="page"><h1>"Item not found"</h1><p>"This link does not point to an item of your record."</p></section>
        }
        .into_any();
    };
    let key_for_view = key.clone();
    let key_for_rx = key.clone();
    // An imported prescription: the patient can track its doses (as their own medication).
    let prescription = move || {
        app.with_session(|s| {
            let index = s.index();
            crate::tracking::data::prescription(&s.record(), Some(&index), &key_for_rx)
        })
        .flatten()
    };
    let details = move || {
        let index = app.index()?;
        let id = index.find(&key_for_view)?;
        let group = index.group_of(id);
        let row = index.row(group, true)?;
        let copies: Vec<String> = index
            .group_members(group)
            .iter()
            .map(|m| index.item(phr_views::ItemId(*m)).key().to_string())
            .collect();
        Some((row, copies))
    };
    view! {
        <section class="page item" aria-labelledby="item-title">
            {move || match details() {
                None => view! {
                    <h1 id="item-title">"Item not found"</h1>
                    <p>"It may have been removed from your record."</p>
                }.into_any(),
                Some((row, copies)) => view! {
                    <h1 id="item-title">{row.title.clone()}</h1>
                    {row.patient_reported.then(|| view! {
                        <p class="notice info" id="patient-reported-notice">
                            "You added this. It has not been verified by a clinician."
                        </p>
                    })}
                    <ul class="rows"><RowView row=row.clone() /></ul>
                    {prescription().map(|p| match p.tracked_as {
                        None => view! {
                            <div class="actions">
                                <a class="button secondary" id="track-prescription"
                                    href=crate::route::Route::TrackPrescription(key.clone()).href()>
                                    "Track my doses"
                                </a>
                            </div>
                        }.into_any(),
                        Some(name) => view! {
                            <p class="muted" id="prescription-tracked">
                                {format!("You track the doses of this prescription in My tracking, as \u{201c}{name}\u{201d}. ")}
                                <a href="#/tracking">"Open My tracking"</a>
                            </p>
                        }.into_any(),
                    })}
                    <crate::share::labels_view::SensitivityLabels keys=copies.clone() />
                    {copies.into_iter().map(|k| view! { <Copy key=k /> }).collect_view()}
                }.into_any(),
            }}
            <Notes key=entry_key.clone() />
        </section>
    }
    .into_any()
}

/// One copy of the fact, from one source.
#[component]
fn Copy(key: String) -> impl IntoView {
    let app = AppCtx::expect();
    let Some(entry_key) = parse_key(&key) else {
        return ().into_any();
    };
    let info = app
        .with_session(|s| {
            let record = s.record();
            let entry = record.get(&entry_key)?;
            Some((
                source_label(&record, &entry_key.source),
                entry.fetched_at().to_string(),
                entry.request().to_string(),
                entry.status().is_gone(),
                record.is_hidden(&entry_key),
                entry.resource().clone(),
            ))
        })
        .flatten();
    let Some((source, fetched, request, gone, hidden, resource)) = info else {
        return ().into_any();
    };
    let is_patient = entry_key.source.is_patient();
    let narrative = document::narrative(&resource);
    let attachments = document::attachments_of(&resource);
    let raw = pretty(resource.raw());
    let key_for_hide = entry_key.clone();
    let toggle_hidden = move |_| {
        let Some(session) = app.session() else { return };
        let result = if hidden {
            session
                .record_mut()
                .unhide(&key_for_hide)
                .map(|_| "Shown again in your record.")
        } else {
            session
                .record_mut()
                .hide(&key_for_hide, &now_rfc3339())
                .map(|_| "Hidden from your views. The original is kept; you can show it again.")
        };
        match result {
            Ok(msg) => save_after_change(app, msg),
            Err(e) => app.say(NoticeKind::Error, e.to_string()),
        }
    };
    view! {
        <article class="card copy" aria-label=format!("Copy from {source}")>
            <h2>{if is_patient { "Your entry".to_string() } else { format!("From {source}") }}</h2>
            <p class="muted">
                {if is_patient { format!("Entered {}", crate::format::date_time(&fetched)) } else { format!("Copied {} from {}", crate::format::date_time(&fetched), request) }}
            </p>
            {gone.then(|| view! { <p class="notice warn">"This item is no longer returned by the provider. It is kept here as it was."</p> })}
            {hidden.then(|| view! { <p class="notice info">"Hidden from your views."</p> })}
            {narrative.map(|n| view! {
                <section class="narrative" aria-label="The provider's text">
                    <h3>"Provider's summary"</h3>
                    {safe_nodes(&n)}
                </section>
            })}
            {(!attachments.is_empty()).then(|| view! {
                <section class="documents" aria-label="Documents">
                    <h3>"Documents"</h3>
                    {attachments.iter().enumerate().map(|(i, a)| view! { <Attachment attachment=a.clone() position=i entry=entry_key.clone() /> }).collect_view()}
                </section>
            })}
            <div class="actions">
                {(!is_patient).then(|| view! {
                    <button type="button" class="secondary hide-toggle" on:click=toggle_hidden>
                        {if hidden { "Show in my record again" } else { "Hide from my views" }}
                    </button>
                })}
            </div>
            <details class="raw">
                <summary>"Original record (FHIR)"</summary>
                <pre>{raw}</pre>
            </details>
        </article>
    }
    .into_any()
}

/// JSON indented for reading (display only: the stored bytes are never changed).
fn pretty(raw: &str) -> String {
    serde_json::from_str::<serde_json::Value>(raw)
        .ok()
        .and_then(|v| serde_json::to_string_pretty(&v).ok())
        .unwrap_or_else(|| raw.to_string())
}

/// An attachment, shown according to what it is. Nothing in it can run.
#[component]
fn Attachment(
    attachment: phr_fhir::types::Attachment,
    position: usize,
    entry: EntryKey,
) -> impl IntoView {
    let app = AppCtx::expect();
    let title = attachment
        .title
        .clone()
        .unwrap_or_else(|| format!("Attachment {}", position + 1));
    // Content fetched at import time is kept as a Binary of the same source.
    let fetched_binary = attachment.url.as_deref().and_then(|url| {
        let id = url.rsplit('/').next()?.to_string();
        app.with_session(|s| {
            let key = EntryKey::new(
                entry.source.clone(),
                phr_record::ResourceKey::new("Binary", &id),
            );
            s.record().get(&key).map(|e| e.resource().clone())
        })
        .flatten()
    });
    let view_of = match (&attachment.data, fetched_binary) {
        (None, Some(binary)) => binary.view::<BinaryView>().ok().and_then(|b| {
            let mut a = attachment.clone();
            a.data = b.data;
            a.content_type = a.content_type.or(b.content_type);
            document::read_attachment(&a).ok()
        }),
        _ => document::read_attachment(&attachment).ok(),
    };
    let body = match view_of {
        Some(DocumentView::Html(nodes)) => view! { <div class="doc-html">{safe_nodes(&nodes)}</div> }.into_any(),
        Some(DocumentView::Cda(doc)) => cda(&doc),
        Some(DocumentView::Text(text)) => view! { <pre class="doc-text">{text}</pre> }.into_any(),
        Some(DocumentView::File { content_type, bytes }) => {
            // Shown inline only when it really is a PDF (the browser's PDF viewer never runs it
            // as a page of this app); anything else is offered as a download.
            let is_pdf = content_type == "application/pdf" && bytes.starts_with(b"%PDF-");
            let url = blob_url(&bytes, &content_type);
            let name = format!("{}.{}", title.replace(['/', '\\'], "-"), if is_pdf { "pdf" } else { "bin" });
            view! {
                {(is_pdf && url.is_some()).then(|| view! {
                    <iframe class="doc-pdf" title=title.clone() src=url.clone().unwrap_or_default()></iframe>
                })}
                <button type="button" class="secondary" on:click=move |_| { let _ = files::download(&bytes, &name, &content_type); }>
                    "Download"
                </button>
            }
            .into_any()
        }
        Some(DocumentView::External { .. }) | None => view! {
            <p class="muted">"This document is kept by the provider. Import again from the provider to bring its content here."</p>
        }
        .into_any(),
    };
    view! {
        <div class="attachment">
            <h4>{title.clone()}</h4>
            {body}
        </div>
    }
}

#[derive(serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct BinaryView {
    content_type: Option<String>,
    data: Option<String>,
}

fn blob_url(bytes: &[u8], content_type: &str) -> Option<String> {
    let parts = js_sys::Array::of1(&js_sys::Uint8Array::from(bytes).into());
    let options = web_sys::BlobPropertyBag::new();
    options.set_type(content_type);
    let blob = web_sys::Blob::new_with_u8_array_sequence_and_options(&parts, &options).ok()?;
    web_sys::Url::create_object_url_with_blob(&blob).ok()
}

/// The patient's notes about this item, and a form to add one.
#[component]
fn Notes(key: EntryKey) -> impl IntoView {
    let app = AppCtx::expect();
    let text = RwSignal::new(String::new());
    let error = RwSignal::new(None::<String>);
    let reference = app
        .with_session(|s| s.record().reference_to(&key))
        .flatten()
        .unwrap_or_default();
    let reference_for_list = reference.clone();
    let notes = move || {
        let index = app.index()?;
        let rows = phr_views::lists::notes_about(&index, &reference_for_list, false);
        // The note's text lives in its attachment; show it, with when it was written.
        app.with_session(|s| {
            let record = s.record();
            rows.into_iter()
                .map(|row| {
                    let text = parse_key(&row.key)
                        .and_then(|k| {
                            record
                                .get(&k)
                                .and_then(|e| patient::note_text(e.resource()))
                        })
                        .unwrap_or_default();
                    (row.date.map(|d| d.to_string()).unwrap_or_default(), text)
                })
                .collect::<Vec<_>>()
        })
    };
    let about_display = app.index().and_then(|i| {
        i.find(&key_string(&key))
            .map(|id| i.item(id).title().to_string())
    });
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let Some(session) = app.session() else { return };
        let body = text.get_untracked();
        if body.trim().is_empty() {
            error.set(Some("Write the note first.".into()));
            return;
        }
        let result = {
            let patient = patient_reference(&session.record());
            let auth = Authoring::new(&ids::uuid_v4(), &patient, &now_rfc3339());
            patient::note(
                &auth,
                &NoteInput {
                    about: reference.clone(),
                    about_display: about_display.clone(),
                    text: body,
                    title: None,
                },
            )
            .and_then(|item| session.record_mut().put_patient_item(item))
        };
        match result {
            Ok(_) => {
                text.set(String::new());
                error.set(None);
                save_after_change(app, "Your note was saved.");
            }
            Err(e) => error.set(Some(e.to_string())),
        }
    };
    view! {
        <section class="card notes" aria-labelledby="notes-title">
            <h2 id="notes-title">"Your notes"</h2>
            {move || notes().map(|rows| if rows.is_empty() {
                view! { <p class="empty">"No notes yet."</p> }.into_any()
            } else {
                view! {
                    <ul class="rows note-list">
                        {rows.into_iter().map(|(date, text)| view! {
                            <li class="row patient">
                                <div class="row-main"><span class="note-text">{text}</span></div>
                                <div class="row-meta"><time>{date}</time><span class="badge patient">"You added"</span></div>
                            </li>
                        }).collect_view()}
                    </ul>
                }.into_any()
            })}
            <form class="stack" on:submit=submit>
                <label class="field">
                    <span>"Add a note (the provider's record is not changed)"</span>
                    <textarea id="note-text" rows="3" prop:value=move || text.get() on:input=move |ev| text.set(event_target_value(&ev))></textarea>
                </label>
                {move || error.get().map(|e| view! { <ErrorBox text=e /> })}
                <div class="actions"><button type="submit" id="add-note">"Add note"</button></div>
            </form>
        </section>
    }
}

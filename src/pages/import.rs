//! Bringing records in: from a FHIR file (Bundle of any type, or NDJSON).

use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::components::{ErrorBox, ProgressBar};
use crate::messages::vault_error_message;
use crate::platform::{files, time::now_rfc3339};
use crate::session::Progress;
use crate::state::{AppCtx, NoticeKind};

#[component]
pub fn ImportPage() -> impl IntoView {
    view! {
        <section class="page" aria-labelledby="import-title">
            <h1 id="import-title">"Import records"</h1>
            <FileImport />
        </section>
    }
}

/// What an import did, for the patient.
#[derive(Clone, Debug, PartialEq)]
struct ImportReport {
    file: String,
    added: usize,
    updated: usize,
    unchanged: usize,
    issues: Vec<String>,
}

#[component]
pub fn FileImport() -> impl IntoView {
    let app = AppCtx::expect();
    let busy = RwSignal::new(None::<&'static str>);
    let error = RwSignal::new(None::<String>);
    let report = RwSignal::new(None::<ImportReport>);
    let input = NodeRef::<leptos::html::Input>::new();
    let on_change = move |_| {
        let Some(el) = input.get() else { return };
        let Some(file) = files::picked_file(&el) else {
            return;
        };
        let Some(session) = app.session() else { return };
        let name = file.name();
        error.set(None);
        report.set(None);
        busy.set(Some("Reading the file"));
        spawn_local(async move {
            let bytes = match files::read_file(&file).await {
                Ok(b) => b,
                Err(e) => {
                    busy.set(None);
                    error.set(Some(format!(
                        "The file could not be read ({e}). Pick it again."
                    )));
                    return;
                }
            };
            let Ok(text) = String::from_utf8(bytes) else {
                busy.set(None);
                error.set(Some(
                    "This file is not text (FHIR files are UTF-8 JSON). Nothing was imported."
                        .into(),
                ));
                return;
            };
            busy.set(Some("Checking the file"));
            let parsed = match phr_fhir::parse_import(&text) {
                Ok((_, parsed)) => parsed,
                Err(e) => {
                    busy.set(None);
                    error.set(Some(format!("{e}. Nothing was imported.")));
                    return;
                }
            };
            drop(text);
            let issues: Vec<String> = parsed.issues.iter().map(ToString::to_string).collect();
            let outcome = session
                .record_mut()
                .import_file(parsed, &name, &now_rfc3339());
            let outcome = match outcome {
                Ok(o) => o,
                Err(e) => {
                    busy.set(None);
                    error.set(Some(format!(
                        "The file could not be added ({e}). Nothing was imported."
                    )));
                    return;
                }
            };
            app.changed();
            busy.set(Some("Saving to your vault"));
            let saved = session.save().await;
            busy.set(None);
            app.changed();
            match saved {
                Ok(_) => {
                    report.set(Some(ImportReport {
                        file: name,
                        added: outcome.merge.added,
                        updated: outcome.merge.updated,
                        unchanged: outcome.merge.unchanged,
                        issues,
                    }));
                    app.say(NoticeKind::Success, "The file was imported.");
                }
                Err(e) => error.set(Some(vault_error_message(&e))),
            }
        });
    };
    view! {
        <section class="panel" aria-labelledby="file-import-title">
            <h2 id="file-import-title">"From a FHIR file"</h2>
            <p>"A FHIR R4 Bundle (collection, searchset, transaction or document) or NDJSON. Each item keeps the file as its source."</p>
            <label class="field">
                <span>"FHIR file"</span>
                <input id="fhir-file" type="file" accept=".json,.ndjson,application/json,application/fhir+json" node_ref=input on:change=on_change />
            </label>
            {move || busy.get().map(|s| view! { <ProgressBar progress=Progress { step: s, fraction: None } /> })}
            {move || error.get().map(|e| view! { <ErrorBox text=e /> })}
            {move || report.get().map(|r| view! {
                <div class="card" id="file-import-report" role="status">
                    <p>
                        <strong>{r.file.clone()}</strong>": "
                        {format!("{} new, {} updated, {} already in your record.", r.added, r.updated, r.unchanged)}
                    </p>
                    {(!r.issues.is_empty()).then(|| view! {
                        <details open>
                            <summary>{format!("{} part(s) of the file could not be used", r.issues.len())}</summary>
                            <ul>{r.issues.iter().map(|i| view! { <li>{i.clone()}</li> }).collect_view()}</ul>
                        </details>
                    })}
                    <a href="#/timeline">"See it in your timeline"</a>
                </div>
            })}
        </section>
    }
}

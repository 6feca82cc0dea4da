//! Bringing records in: from the patient's providers over SMART on FHIR (connect, update,
//! reconnect, progress per type, results), from a provider the patient adds by hand, and from a
//! FHIR file (Bundle of any type, or NDJSON). The machinery lives in `crate::import`.

use leptos::prelude::*;
use leptos::task::spawn_local;
use phr_record::SourceId;
use phr_smart::import::{type_label, ProgressState};
use phr_smart::{patient_added_provider, EntrySource, ProviderEntry};

use crate::components::{ErrorBox, ProgressBar};
use crate::import::run::{self, Outcome, TypeRow};
use crate::import::stats::{publish_numbers, wasm_memory_bytes};
use crate::import::{self, oauth, store, ImportCtx, RunPhase, RunView, SyncMode};
use crate::messages::vault_error_message;
use crate::platform::{files, time::now_rfc3339, time::perf_now};
use crate::session::Progress;
use crate::state::{AppCtx, NoticeKind};

#[component]
pub fn ImportPage() -> impl IntoView {
    view! {
        <section class="page import-page" aria-labelledby="import-title">
            <h1 id="import-title">"Import records"</h1>
            <p class="lead">
                "Copy your records from your providers into your vault. Their systems stay the official record: "
                "what you import is kept exactly as they sent it, read-only, with where and when it came from."
            </p>
            <SignInStatus />
            <RunPanel />
            <Providers />
            <AddProvider />
            <FileImport />
        </section>
    }
}

/// A status line with an indeterminate progress bar and changing text.
#[component]
fn Working(#[prop(into)] text: String) -> impl IntoView {
    view! {
        <div class="progress" role="status" aria-live="polite">
            <span class="progress-label">{text.clone()}</span>
            <progress aria-label=text></progress>
        </div>
    }
}

/// Work around the sign-in, and why the last one did not complete.
#[component]
fn SignInStatus() -> impl IntoView {
    let ictx = ImportCtx::expect();
    view! {
        {move || ictx.busy.get().map(|b| view! { <Working text=b /> })}
        {move || ictx.sign_in_error.get().map(|e| view! {
            <div class="notice error" role="alert" id="sign-in-error">
                <span>{e}</span>
                <button type="button" class="link-button" on:click=move |_| ictx.sign_in_error.set(None)>"Dismiss"</button>
            </div>
        })}
    }
}

fn capitalised(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().collect::<String>() + c.as_str(),
        None => String::new(),
    }
}

/// Starts the sign-in at a provider; a failure is shown in `error`.
fn connect_to(
    app: AppCtx,
    ictx: ImportCtx,
    provider: ProviderEntry,
    error: RwSignal<Option<String>>,
) {
    error.set(None);
    spawn_local(async move {
        let e = oauth::connect(app, ictx, provider).await;
        if !e.is_empty() {
            error.set(Some(e));
        }
    });
}

/// The running (or last) import: progress per type, what needs the patient, and the results.
#[component]
fn RunPanel() -> impl IntoView {
    let app = AppCtx::expect();
    let ictx = ImportCtx::expect();
    let reconnect_error = RwSignal::new(None::<String>);
    view! {
        {move || ictx.run.get().map(|r| {
            let provider_id = r.provider_id.clone();
            let title = match &r.phase {
                RunPhase::Finished => format!("Import from {} finished", r.provider_name),
                RunPhase::Failed(_) => format!("Import from {} stopped", r.provider_name),
                RunPhase::NeedsSignIn(_) | RunPhase::Interrupted(_) | RunPhase::Paused => format!("Import from {} paused", r.provider_name),
                _ => format!("Importing from {}", r.provider_name),
            };
            let reconnect = move |_| {
                if let Some(p) = import::provider_entry(app, ictx, &provider_id) {
                    connect_to(app, ictx, p, reconnect_error);
                }
            };
            let id_for_continue = r.provider_id.clone();
            let phase_view = match r.phase.clone() {
                RunPhase::Preparing(text) => view! { <Working text=text /> }.into_any(),
                RunPhase::Fetching | RunPhase::Saving => {
                    let saving = r.phase == RunPhase::Saving;
                    let done = r.rows.iter().filter(|x| matches!(x.state, ProgressState::Done | ProgressState::Failed)).count();
                    let fraction = if r.rows.is_empty() { None } else { Some(done as f64 / r.rows.len() as f64) };
                    view! {
                        <ProgressBar progress=Progress { step: if saving { "Saving to your vault" } else { "Fetching your records" }, fraction } />
                        <p class="muted" id="import-stored">{format!("{} records received so far{}.", r.stored, if r.incremental { " (only what changed since the last update)" } else { "" })}</p>
                        <div class="actions">
                            <button type="button" class="secondary" id="import-pause" on:click=move |_| ictx.send(run::Msg::Pause)>"Pause"</button>
                        </div>
                    }.into_any()
                }
                RunPhase::NeedsSignIn(message) => view! {
                    <div class="notice error" role="alert" id="import-needs-sign-in">
                        <span>{message}</span>
                        <button type="button" id="import-reconnect" on:click=reconnect>
                            "Sign in again"
                        </button>
                    </div>
                }.into_any(),
                RunPhase::Interrupted(message) => view! {
                    <div class="notice error" role="alert" id="import-interrupted">
                        <span>{message}</span>
                        <span class="actions">
                            <button type="button" id="import-retry" on:click=move |_| ictx.send(run::Msg::Retry)>"Try again"</button>
                            <button type="button" class="secondary" on:click=move |_| ictx.send(run::Msg::Pause)>"Later"</button>
                        </span>
                    </div>
                }.into_any(),
                RunPhase::Paused => view! {
                    <div class="notice info" role="status" id="import-paused">
                        <span>"Paused. Everything received so far is saved; the import continues where it stopped."</span>
                        <button type="button" id="import-continue" on:click=move |_| run::start(app, ictx, id_for_continue.clone(), SyncMode::Auto)>"Continue"</button>
                    </div>
                }.into_any(),
                RunPhase::Failed(message) => view! { <ErrorBox text=message /> }.into_any(),
                RunPhase::Finished => r.outcome.clone().map(|o| view! { <OutcomeView outcome=o run=r.clone() /> }.into_any()).unwrap_or_else(|| ().into_any()),
            };
            view! {
                <section class="panel import-run" id="import-run" aria-labelledby="import-run-title" data-phase=phase_name(&r.phase)>
                    <h2 id="import-run-title">{title}</h2>
                    {r.resumed.then(|| view! { <p class="muted">"Continuing an import that did not finish; nothing is fetched twice."</p> })}
                    {phase_view}
                    {move || reconnect_error.get().map(|e| view! { <ErrorBox text=e /> })}
                    {(!r.failures.is_empty()).then(|| view! {
                        <div class="notice warn" id="import-failures" role="alert">
                            <p><strong>"Some parts could not be imported:"</strong></p>
                            <ul>{r.failures.iter().map(|f| view! { <li>{f.clone()}</li> }).collect_view()}</ul>
                        </div>
                    })}
                    {(!r.not_granted.is_empty()).then(|| view! {
                        <p class="notice info" id="import-not-granted">
                            {format!("{} did not share: {}. To include them, reconnect and allow them.", r.provider_name,
                                r.not_granted.iter().map(|t| type_label(t).to_string()).collect::<Vec<_>>().join(", "))}
                        </p>
                    })}
                    {r.notes.iter().map(|n| view! { <p class="notice info import-note">{n.clone()}</p> }).collect_view()}
                    {(!r.rows.is_empty() && r.phase != RunPhase::Finished).then(|| view! { <TypeProgress rows=r.rows.clone() /> })}
                    {(!r.warnings.is_empty()).then(|| view! {
                        <details class="import-warnings">
                            <summary>{format!("{} note(s) from the import", r.warnings.len())}</summary>
                            <ul>{r.warnings.iter().map(|w| view! { <li>{w.clone()}</li> }).collect_view()}</ul>
                        </details>
                    })}
                </section>
            }
        })}
    }
}

fn phase_name(p: &RunPhase) -> &'static str {
    match p {
        RunPhase::Preparing(_) => "preparing",
        RunPhase::Fetching => "fetching",
        RunPhase::Saving => "saving",
        RunPhase::NeedsSignIn(_) => "needs-sign-in",
        RunPhase::Interrupted(_) => "interrupted",
        RunPhase::Paused => "paused",
        RunPhase::Finished => "finished",
        RunPhase::Failed(_) => "failed",
    }
}

/// Progress per resource type: a bar and counts each.
#[component]
fn TypeProgress(rows: Vec<TypeRow>) -> impl IntoView {
    view! {
        <table class="type-progress" id="import-progress">
            <caption>"Progress by type"</caption>
            <thead><tr><th scope="col">"What"</th><th scope="col">"Progress"</th><th scope="col">"Received"</th></tr></thead>
            <tbody>
                {rows.into_iter().map(|r| {
                    // Waiting: empty; running without a known total: indeterminate.
                    let (value, max) = match (r.state, r.total) {
                        (ProgressState::Done | ProgressState::Failed, _) => (1.0, 1.0),
                        (ProgressState::Waiting, _) => (0.0, 1.0),
                        (_, Some(t)) if t > 0 => (r.fetched as f64, t as f64),
                        _ => (-1.0, 1.0),
                    };
                    let count = match r.total {
                        Some(t) if r.state != ProgressState::Done || t != r.fetched => format!("{} of {t}", r.fetched),
                        _ => r.fetched.to_string(),
                    };
                    let state = match r.state {
                        ProgressState::Waiting => "waiting",
                        ProgressState::Running => "fetching",
                        ProgressState::Done => "done",
                        ProgressState::Failed => "failed",
                    };
                    let label = r.label.clone();
                    view! {
                        <tr data-type=r.resource_type.clone() data-row=r.id.clone() data-state=state class=format!("state-{state}")>
                            <th scope="row">{r.label.clone()}</th>
                            <td>
                                {if value < 0.0 {
                                    view! { <progress aria-label=format!("{label}: progress")></progress> }.into_any()
                                } else {
                                    view! { <progress max=max.to_string() value=value.to_string() aria-label=format!("{label}: progress")></progress> }.into_any()
                                }}
                            </td>
                            <td class="count-cell">
                                <span class="n">{count}</span>
                                <span class="state">{format!(" {state}")}</span>
                                {(r.failed > 0).then(|| view! { <span class="state">{format!(", {} failed", r.failed)}</span> })}
                            </td>
                        </tr>
                    }
                }).collect_view()}
            </tbody>
        </table>
    }
}

/// The results of a finished import.
#[component]
fn OutcomeView(outcome: Outcome, run: RunView) -> impl IntoView {
    let ictx = ImportCtx::expect();
    let received: u64 = outcome.by_type.iter().map(|(_, n)| n).sum();
    let name = run.provider_name.clone();
    let summary =
        format!(
        "{received} records received from {name}{}: {} new, {} updated, {} already in your record.",
        if outcome.full { "" } else { " (what changed since the last update)" },
        outcome.added,
        outcome.updated,
        outcome.unchanged
    );
    view! {
        <div class="notice success" role="status" id="import-outcome" data-added=outcome.added data-updated=outcome.updated data-unchanged=outcome.unchanged data-gone=outcome.flagged_gone>
            <p>{summary}</p>
            {(outcome.flagged_gone > 0).then(|| view! {
                <p id="import-gone">{format!("{} record(s) are no longer at {name}. They are kept in your vault, marked as no longer at the source.", outcome.flagged_gone)}</p>
            })}
            <p><a href="#/timeline">"See them in your timeline"</a></p>
        </div>
        <details class="import-by-type">
            <summary>"Received by type"</summary>
            <table class="import-counts" id="import-counts">
                <thead><tr><th scope="col">"Type"</th><th scope="col">"Records"</th></tr></thead>
                <tbody>
                    {outcome.by_type.iter().map(|(t, n)| view! {
                        <tr data-type=t.clone()><th scope="row">{capitalised(type_label(t))}</th><td class="n">{*n}</td></tr>
                    }).collect_view()}
                </tbody>
            </table>
        </details>
        <div class="actions">
            <button type="button" class="secondary" id="import-close" on:click=move |_| ictx.run.set(None)>"Close"</button>
        </div>
    }
}

/// What the card of one provider shows.
#[derive(Clone, Debug, PartialEq)]
struct CardState {
    connected: bool,
    can_update: bool,
    resume: bool,
    stored: usize,
    by_type: Vec<(String, usize)>,
    last_sync: Option<String>,
}

/// The providers: the deployer's directory and the patient's own.
#[component]
fn Providers() -> impl IntoView {
    let app = AppCtx::expect();
    let ictx = ImportCtx::expect();
    let providers = move || import::all_providers(app, ictx);
    view! {
        <section class="panel providers" aria-labelledby="providers-title">
            <h2 id="providers-title">"From your providers"</h2>
            <p>"Connect once by signing in at your provider (their own page, not this app), then update whenever you like. This app never sees your password."</p>
            {move || ictx.directory.get().and_then(Result::err).map(|e| view! { <ErrorBox text=e /> })}
            {move || match ictx.directory.get() {
                None => view! { <Working text="Loading the list of providers…" /> }.into_any(),
                Some(_) => {
                    let list = providers();
                    if list.is_empty() {
                        view! { <p class="empty">"No providers are listed for this site. Add yours below."</p> }.into_any()
                    } else {
                        view! {
                            <ul class="provider-list">
                                {list.into_iter().map(|p| view! { <ProviderCard provider=p /> }).collect_view()}
                            </ul>
                        }.into_any()
                    }
                }
            }}
        </section>
    }
}

#[component]
fn ProviderCard(provider: ProviderEntry) -> impl IntoView {
    let app = AppCtx::expect();
    let ictx = ImportCtx::expect();
    let error = RwSignal::new(None::<String>);
    let id = provider.id.clone();
    let name = provider.name.clone();
    let source = SourceId::ehr(&id).ok();
    let id_for_state = id.clone();
    let state = move || {
        let has_token = ictx.has_token(&id_for_state);
        app.with_session(|s| {
            let record = s.record();
            let connection = store::connection(&record, &id_for_state).ok().flatten();
            let resume = store::has_resume_state(&record, &id_for_state);
            let (by_type, stored, last_sync) = match &source {
                Some(src) => {
                    let counts = run::stored_counts(s, src);
                    let total = counts.values().sum();
                    let last = record.source(src).and_then(|x| x.last_sync_at.clone());
                    (counts.into_iter().collect::<Vec<_>>(), total, last)
                }
                None => (Vec::new(), 0, None),
            };
            CardState {
                connected: connection.is_some(),
                can_update: has_token
                    || connection
                        .as_ref()
                        .is_some_and(|c| c.connection.can_refresh()),
                resume,
                stored,
                by_type,
                last_sync,
            }
        })
    };
    let busy = move || ictx.is_running_tracked() || ictx.busy.get().is_some();
    let p_connect = provider.clone();
    let connect = move |_| connect_to(app, ictx, p_connect.clone(), error);
    let id_update = id.clone();
    let update = move |_| run::start(app, ictx, id_update.clone(), SyncMode::Auto);
    let id_full = id.clone();
    let full = move |_| run::start(app, ictx, id_full.clone(), SyncMode::Full);
    let id_disconnect = id.clone();
    let name_disconnect = name.clone();
    let disconnect = move |_| {
        let Some(session) = app.session() else { return };
        let removed = {
            let mut record = session.record_mut();
            store::remove_connection(&mut record, &id_disconnect)
                .and_then(|()| store::remove_resume_state(&mut record, &id_disconnect))
        };
        if let Err(e) = removed {
            error.set(Some(e));
            return;
        }
        ictx.forget_token(&id_disconnect);
        ictx.run.update(|r| {
            if r.as_ref().is_some_and(|r| r.provider_id == id_disconnect) {
                *r = None
            }
        });
        let name = name_disconnect.clone();
        spawn_local(async move {
            match session.save().await {
                Ok(_) => app.say(NoticeKind::Success, format!("Disconnected from {name}. The records already imported stay in your vault.")),
                Err(e) => app.say(NoticeKind::Error, vault_error_message(&e)),
            }
            app.changed();
        });
    };
    let id_remove = id.clone();
    let remove = move |_| {
        let Some(session) = app.session() else { return };
        if let Err(e) = store::remove_added_provider(&mut session.record_mut(), &id_remove) {
            error.set(Some(e));
            return;
        }
        crate::pages::item::save_after_change(app, "The provider was removed from your list.");
    };
    let patient_added = provider.source == EntrySource::PatientAdded;
    let hidden_name = format!(" {name}");
    view! {
        <li class="card provider-card" data-provider=id.clone()>
            <div class="provider-head">
                <h3>{name.clone()}</h3>
                {provider.part2_program.then(|| view! {
                    <span class="badge part2" title="Records from this provider are protected by 42 CFR Part 2: they are labelled so they are never shared without your explicit consent.">
                        "Substance use treatment program (42 CFR Part 2)"
                    </span>
                })}
                {patient_added.then(|| view! { <span class="badge">"Added by you"</span> })}
            </div>
            <p class="muted provider-base">{provider.fhir_base.as_str().to_string()}</p>
            {move || state().map(|st| {
                let status = if !st.connected {
                    "Not connected.".to_string()
                } else {
                    match &st.last_sync {
                        Some(t) => format!("Connected. Last updated {}.", crate::format::date_time(t)),
                        None => "Connected.".to_string(),
                    }
                };
                let hidden = hidden_name.clone();
                let hidden2 = hidden_name.clone();
                let hidden3 = hidden_name.clone();
                let name = name.clone();
                view! {
                    <p class="provider-status">
                        {status}
                        {(st.stored > 0).then(|| view! {
                            " " <span class="provider-count" data-count=st.stored>{format!("{} records from this provider in your vault.", st.stored)}</span>
                        })}
                    </p>
                    {st.resume.then(|| view! { <p class="notice info provider-resume">"An import from here did not finish. It continues where it stopped."</p> })}
                    <div class="actions">
                        {if !st.connected {
                            view! {
                                <button type="button" class="connect" disabled=busy on:click=connect.clone()>
                                    "Connect" <span class="visually-hidden">{hidden}</span>
                                </button>
                            }.into_any()
                        } else if st.can_update {
                            view! {
                                <button type="button" class="update" disabled=busy on:click=update.clone()>
                                    {if st.resume { "Continue import" } else { "Update" }} <span class="visually-hidden">{hidden}</span>
                                </button>
                            }.into_any()
                        } else {
                            view! {
                                <button type="button" class="reconnect" disabled=busy on:click=connect.clone()>
                                    "Reconnect" <span class="visually-hidden">{hidden}</span>
                                </button>
                                <span class="muted">{format!("You sign in at {name} again; the import starts right after.")}</span>
                            }.into_any()
                        }}
                    </div>
                    {st.connected.then(|| view! {
                        <details class="provider-more">
                            <summary>"More options" <span class="visually-hidden">{format!(" for{hidden2}")}</span></summary>
                            <div class="actions">
                                {st.can_update.then(|| view! {
                                    <button type="button" class="secondary full-update" disabled=busy on:click=full.clone()>
                                        "Check everything again" <span class="visually-hidden">{hidden3.clone()}</span>
                                    </button>
                                })}
                                {st.can_update.then(|| view! {
                                    <button type="button" class="secondary reconnect" disabled=busy on:click=connect.clone()>
                                        "Reconnect" <span class="visually-hidden">{hidden3.clone()}</span>
                                    </button>
                                })}
                                <button type="button" class="secondary disconnect" disabled=busy on:click=disconnect.clone()>
                                    "Disconnect" <span class="visually-hidden">{hidden3.clone()}</span>
                                </button>
                            </div>
                            <p class="muted">"“Check everything again” fetches your whole record, so records the provider no longer has are noticed. Disconnecting keeps the records already imported."</p>
                        </details>
                    })}
                    {(!st.by_type.is_empty()).then(|| view! {
                        <details class="stored-counts">
                            <summary>{format!("What is stored from {name}")}</summary>
                            <table class="import-counts">
                                <thead><tr><th scope="col">"Type"</th><th scope="col">"Records"</th></tr></thead>
                                <tbody>
                                    {st.by_type.iter().map(|(t, n)| view! {
                                        <tr data-type=t.clone()><th scope="row">{capitalised(type_label(t))}</th><td class="n">{*n}</td></tr>
                                    }).collect_view()}
                                </tbody>
                            </table>
                        </details>
                    })}
                    {(patient_added && !st.connected).then(|| view! {
                        <button type="button" class="link-button" on:click=remove.clone()>"Remove from my list"</button>
                    })}
                }
            })}
            {move || error.get().map(|e| view! { <ErrorBox text=e /> })}
        </li>
    }
}

/// A provider that is not in the site's list: its FHIR address and this app's client id there.
#[component]
fn AddProvider() -> impl IntoView {
    let app = AppCtx::expect();
    let ictx = ImportCtx::expect();
    let name = RwSignal::new(String::new());
    let base = RwSignal::new(String::new());
    let client = RwSignal::new(String::new());
    let error = RwSignal::new(None::<String>);
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        error.set(None);
        let entry = match patient_added_provider(
            &name.get_untracked(),
            &base.get_untracked(),
            &client.get_untracked(),
        ) {
            Ok(e) => e,
            Err(e) => return error.set(Some(e.to_string())),
        };
        if let Some(same) = import::all_providers(app, ictx)
            .into_iter()
            .find(|p| p.fhir_base == entry.fhir_base)
        {
            return error.set(Some(format!(
                "{} is already in your list with this address.",
                same.name
            )));
        }
        let Some(session) = app.session() else { return };
        if let Err(e) = store::put_added_provider(&mut session.record_mut(), entry) {
            return error.set(Some(e));
        }
        name.set(String::new());
        base.set(String::new());
        client.set(String::new());
        crate::pages::item::save_after_change(
            app,
            "The provider was added to your list. Connect to it above.",
        );
    };
    view! {
        <section class="panel add-provider" aria-labelledby="add-provider-title">
            <h2 id="add-provider-title">"Add a provider yourself"</h2>
            <p>"If your provider is not listed, you can add its FHIR address. It must have registered this app (ask whoever runs this app for the client id) and allow browser apps from this site."</p>
            <form class="stack" on:submit=submit>
                <label class="field">
                    <span>"Name (optional)"</span>
                    <input id="add-provider-name" type="text" autocomplete="off" prop:value=move || name.get() on:input=move |ev| name.set(event_target_value(&ev)) />
                </label>
                <label class="field">
                    <span>"FHIR address"</span>
                    <input id="add-provider-base" type="url" inputmode="url" autocomplete="off" spellcheck="false" placeholder="https://fhir.example.org/r4" prop:value=move || base.get() on:input=move |ev| base.set(event_target_value(&ev)) />
                    <small>"The provider's FHIR API base, not its website."</small>
                </label>
                <label class="field">
                    <span>"Client id"</span>
                    <input id="add-provider-client" type="text" autocomplete="off" spellcheck="false" prop:value=move || client.get() on:input=move |ev| client.set(event_target_value(&ev)) />
                </label>
                {move || error.get().map(|e| view! { <ErrorBox text=e /> })}
                <div class="actions"><button type="submit" id="add-provider-submit">"Add provider"</button></div>
            </form>
        </section>
    }
}

/// Resources merged (and saved) at a time when importing a file.
const FILE_PART: usize = 5_000;

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
    let busy = RwSignal::new(None::<Progress>);
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
        let step = |step: &'static str, fraction: Option<f64>| Some(Progress { step, fraction });
        busy.set(step("Reading the file", None));
        spawn_local(async move {
            // Frugal with memory: the bytes are read once, the resources are sliced out of them
            // (each keeps only its own bytes), the text is freed, and the resources are merged
            // and saved in parts, so the encrypted copy of the whole file never sits in memory
            // beside it. `window.__phrFileImportStats` records the wasm memory after each step.
            let started = perf_now();
            let mut memory = vec![("wasm_memory_start", wasm_memory_bytes())];
            let fail = move |message: String| {
                busy.set(None);
                error.set(Some(message));
            };
            let bytes = match files::read_file(&file).await {
                Ok(b) => b,
                Err(e) => return fail(format!("The file could not be read ({e}). Pick it again.")),
            };
            drop(file);
            let size = bytes.len() as f64;
            memory.push(("wasm_memory_read", wasm_memory_bytes()));
            let Ok(text) = String::from_utf8(bytes) else {
                return fail(
                    "This file is not text (FHIR files are UTF-8 JSON). Nothing was imported."
                        .into(),
                );
            };
            busy.set(step("Checking the file", None));
            // Parsing and merging run without a break: each step first yields to the browser, so
            // that it can draw the step it announces before the work starts.
            crate::platform::time::sleep(0).await;
            let parse_started = perf_now();
            let parsed = match phr_fhir::parse_import(&text) {
                Ok((_, parsed)) => parsed,
                Err(e) => return fail(format!("{e}. Nothing was imported.")),
            };
            drop(text);
            let parse_ms = perf_now() - parse_started;
            memory.push(("wasm_memory_parsed", wasm_memory_bytes()));
            let issues: Vec<String> = parsed.issues.iter().map(ToString::to_string).collect();
            let imported_at = now_rfc3339();
            let begun =
                session
                    .record_mut()
                    .begin_file_import(&parsed.resources, &name, &imported_at);
            let (source, _) = match begun {
                Ok(b) => b,
                Err(e) => {
                    return fail(format!(
                        "The file could not be added ({e}). Nothing was imported."
                    ))
                }
            };
            let request = phr_record::file_request(&name);
            let total = parsed.resources.len();
            let mut resources = parsed.resources.into_iter();
            let (mut added, mut updated, mut unchanged, mut done) = (0, 0, 0, 0);
            let (mut merge_ms, mut save_ms) = (0.0, 0.0);
            let mut saved = Ok(());
            loop {
                let part: Vec<_> = resources
                    .by_ref()
                    .take(FILE_PART)
                    .map(|r| (r, request.clone()))
                    .collect();
                if part.is_empty() {
                    break;
                }
                let n = part.len();
                busy.set(step(
                    "Adding the records to your vault",
                    Some(done as f64 / total as f64),
                ));
                crate::platform::time::sleep(0).await;
                let merge_started = perf_now();
                let merged = session
                    .record_mut()
                    .apply_import(&source, part, &imported_at);
                merge_ms += perf_now() - merge_started;
                match merged {
                    Ok(o) => {
                        added += o.added;
                        updated += o.updated;
                        unchanged += o.unchanged;
                    }
                    Err(e) => {
                        saved = Err(format!(
                            "Part of the file could not be added ({e}). What was added before is kept; import the file again to add the rest."
                        ));
                        break;
                    }
                }
                done += n;
                let save_started = perf_now();
                let result = session.save().await;
                save_ms += perf_now() - save_started;
                if let Err(e) = result {
                    let kept = done - n;
                    saved = Err(if kept == 0 {
                        vault_error_message(&e)
                    } else {
                        format!(
                            "{} {kept} of the file's {total} records were saved before this; \
                             import the file again later to add the rest (nothing is added twice).",
                            vault_error_message(&e)
                        )
                    });
                    break;
                }
            }
            drop(resources);
            memory.push(("wasm_memory_saved", wasm_memory_bytes()));
            busy.set(None);
            app.changed();
            let mut numbers = vec![
                ("bytes", size),
                ("resources", total as f64),
                ("parse_ms", parse_ms),
                ("merge_ms", merge_ms),
                ("save_ms", save_ms),
                ("total_ms", perf_now() - started),
            ];
            numbers.extend(memory);
            publish_numbers("__phrFileImportStats", &numbers);
            match saved {
                Ok(()) => {
                    report.set(Some(ImportReport {
                        file: name,
                        added,
                        updated,
                        unchanged,
                        issues,
                    }));
                    app.say(NoticeKind::Success, "The file was imported.");
                }
                Err(e) => error.set(Some(e)),
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
            {move || busy.get().map(|p| view! { <ProgressBar progress=p /> })}
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

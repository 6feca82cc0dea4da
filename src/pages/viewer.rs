//! The SMART Health Link viewer (`#shlink:/…`): opens a link made by this app or any other tool,
//! fetches the encrypted file, decrypts it in the browser and shows it to a clinician. No vault
//! is needed and nothing is stored.
//!
//! The key is in the page's fragment, which browsers never send; requests carry no referrer, and
//! the app never writes the fragment anywhere (no history entry, no log, no title).

use leptos::prelude::*;
use leptos::task::spawn_local;
use phr_share::jwe::{self, JweError};
use phr_share::shl::{self, ParsedLink, Request, ShlError};
use phr_share::{view_document, DocumentView};

use crate::components::{ErrorBox, ProgressBar};
use crate::platform::time::now_ms;
use crate::session::Progress;
use crate::share::document::SharedDocument;
use crate::share::net::{request, Answer};

#[derive(Clone, Debug, PartialEq)]
enum State {
    /// Waiting for the recipient's name (and passcode, when the link needs one).
    Ask,
    Loading(&'static str),
    Shown(Vec<DocumentView>),
    /// A problem with what the link points to; `kind` is a stable word for tests and styling.
    Failed {
        kind: &'static str,
        text: String,
    },
}

/// Why the viewer could not show the link's content, in words for the person holding it.
fn link_problem(e: &ShlError) -> (&'static str, String) {
    match e {
        ShlError::Expired { expired_at, .. } => (
            "expired",
            format!(
                "This link expired on {}. Ask the person who shared it for a new link.",
                crate::format::date_time(&epoch_to_rfc3339(*expired_at))
            ),
        ),
        other => ("invalid", format!("This link cannot be opened: {other}.")),
    }
}

fn epoch_to_rfc3339(secs: u64) -> String {
    js_sys::Date::new(&wasm_bindgen::JsValue::from_f64(secs as f64 * 1000.0))
        .to_iso_string()
        .into()
}

fn now_secs() -> u64 {
    (now_ms() / 1000.0) as u64
}

#[component]
pub fn ViewerPage(fragment: String) -> impl IntoView {
    let parsed = shl::parse_link(&fragment, now_secs());
    let state = RwSignal::new(State::Ask);
    let recipient = RwSignal::new(String::new());
    let passcode = RwSignal::new(String::new());
    let form_error = RwSignal::new(None::<String>);

    let intro = view! {
        <p class="lead">
            "Someone shared health information with you. It is decrypted here, in your browser; "
            "nothing is stored and the key in the link is never sent anywhere."
        </p>
    };
    let link = match parsed {
        Ok(link) => link,
        Err(e) => {
            let (kind, text) = link_problem(&e);
            return view! {
                <section class="page viewer" aria-labelledby="viewer-title">
                    <h1 id="viewer-title">"Shared health information"</h1>
                    {intro}
                    <div class="notice error" role="alert" id="viewer-error" data-kind=kind>{text}</div>
                </section>
            }
            .into_any();
        }
    };
    let label = link.payload.label.clone();
    let exp = link.payload.exp;
    let needs_passcode = link.passcode_required;
    let link = StoredValue::new(link);

    let open = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let who = recipient.get_untracked().trim().to_string();
        if who.is_empty() {
            form_error.set(Some(
                "Enter your name or organisation first: the share host asks who is opening the link."
                    .into(),
            ));
            return;
        }
        let code = passcode.get_untracked();
        if needs_passcode && code.is_empty() {
            form_error.set(Some(
                "Enter the passcode the sender gave you (it is not in the link).".into(),
            ));
            return;
        }
        form_error.set(None);
        let link = link.get_value();
        spawn_local(async move {
            state.set(State::Loading("Fetching the shared file"));
            let result =
                fetch_documents(&link, &who, needs_passcode.then_some(code.as_str()), state).await;
            state.set(match result {
                Ok(docs) => State::Shown(docs),
                Err((kind, text)) => State::Failed { kind, text },
            });
        });
    };
    let print = move |_| {
        if let Some(w) = web_sys::window() {
            let _ = w.print();
        }
    };

    view! {
        <section class="page viewer" aria-labelledby="viewer-title">
            <h1 id="viewer-title">"Shared health information"</h1>
            {intro}
            <dl class="facts compact">
                <dt>"Label"</dt>
                <dd id="viewer-label">{label.unwrap_or_else(|| "(none)".into())}</dd>
                {exp.map(|e| view! {
                    <dt>"Offered until"</dt>
                    <dd>{crate::format::date_time(&epoch_to_rfc3339(e))}</dd>
                })}
            </dl>
            {move || match state.get() {
                State::Ask | State::Failed { .. } => view! {
                    <form class="stack viewer-form" on:submit=open>
                        <label class="field">
                            <span>"Your name or organisation"</span>
                            <small>"Sent to the share host as the recipient, as SMART Health Links require."</small>
                            <input id="viewer-recipient" type="text" autocomplete="organization"
                                prop:value=move || recipient.get()
                                on:input=move |ev| recipient.set(event_target_value(&ev)) />
                        </label>
                        {needs_passcode.then(|| view! {
                            <label class="field">
                                <span>"Passcode"</span>
                                <input id="viewer-passcode" type="password" autocomplete="off"
                                    prop:value=move || passcode.get()
                                    on:input=move |ev| passcode.set(event_target_value(&ev)) />
                            </label>
                        })}
                        {move || form_error.get().map(|e| view! { <ErrorBox text=e /> })}
                        <div class="actions"><button type="submit" id="viewer-open">"Open"</button></div>
                    </form>
                }.into_any(),
                State::Loading(step) => view! { <ProgressBar progress=Progress { step, fraction: None } /> }.into_any(),
                State::Shown(_) => view! {
                    <div class="actions">
                        <button type="button" class="secondary" id="viewer-print" on:click=print>"Print or save as PDF"</button>
                    </div>
                }.into_any(),
            }}
            {move || match state.get() {
                State::Failed { kind, text } => view! {
                    <div class="notice error" role="alert" id="viewer-error" data-kind=kind>{text}</div>
                }.into_any(),
                State::Shown(docs) => docs
                    .into_iter()
                    .map(|doc| view! { <SharedDocument doc=doc /> })
                    .collect_view()
                    .into_any(),
                _ => ().into_any(),
            }}
        </section>
    }
    .into_any()
}

type Problem = (&'static str, String);

/// Fetches and opens what a link points to: one file (`U` flag) or a manifest's files.
async fn fetch_documents(
    link: &ParsedLink,
    recipient: &str,
    passcode: Option<&str>,
    state: RwSignal<State>,
) -> Result<Vec<DocumentView>, Problem> {
    let req = link
        .request(recipient, passcode)
        .map_err(|e| link_problem(&e))?;
    match req {
        Request::Get { url } => {
            let answer = get(&url).await?;
            state.set(State::Loading("Decrypting"));
            Ok(vec![open_file(&answer.body, &link.key)?])
        }
        Request::PostManifest { url, body } => {
            let answer = request("POST", &url, Some(&body), Some("application/json"))
                .await
                .map_err(|e| no_answer(&e.0))?;
            if answer.status == 401 {
                return Err((
                    "passcode",
                    "The passcode is not right. Check it with the sender and try again (the host may allow only a few attempts).".into(),
                ));
            }
            check_status(&answer)?;
            let manifest: Manifest = serde_json::from_str(&answer.body).map_err(|_| {
                (
                    "invalid",
                    "The share host sent something that is not a SMART Health Links manifest. Ask the sender for a new link."
                        .to_string(),
                )
            })?;
            state.set(State::Loading("Decrypting"));
            let mut docs = Vec::new();
            let mut skipped = 0;
            for f in manifest.files {
                if f.content_type != jwe::FHIR_JSON {
                    skipped += 1;
                    continue;
                }
                let jwe_text = match (f.embedded, f.location) {
                    (Some(e), _) => e,
                    (None, Some(loc)) => get(&loc).await?.body,
                    (None, None) => continue,
                };
                docs.push(open_file(&jwe_text, &link.key)?);
            }
            if docs.is_empty() {
                return Err((
                    "unsupported",
                    if skipped > 0 {
                        "This link holds only kinds of files this viewer does not show (for example SMART Health Cards).".to_string()
                    } else {
                        "This link holds no files.".to_string()
                    },
                ));
            }
            Ok(docs)
        }
    }
}

#[derive(serde::Deserialize)]
struct Manifest {
    #[serde(default)]
    files: Vec<ManifestFile>,
}

#[derive(serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct ManifestFile {
    #[serde(default)]
    content_type: String,
    embedded: Option<String>,
    location: Option<String>,
}

fn no_answer(detail: &str) -> Problem {
    (
        "unreachable",
        format!(
            "The shared file could not be fetched ({detail}). Check your internet connection and try again; \
             if it keeps failing, the share host may be down or may not allow this site."
        ),
    )
}

fn check_status(answer: &Answer) -> Result<(), Problem> {
    match answer.status {
        200..=299 => Ok(()),
        404 | 410 => Err((
            "revoked",
            "This link has been revoked, or it has expired and its file was removed. Ask the person who shared it for a new link."
                .into(),
        )),
        s => Err((
            "host",
            format!("The share host could not provide the file (HTTP {s}). Try again later, or ask the sender for a new link."),
        )),
    }
}

async fn get(url: &str) -> Result<Answer, Problem> {
    let answer = request("GET", url, None, None)
        .await
        .map_err(|e| no_answer(&e.0))?;
    check_status(&answer)?;
    Ok(answer)
}

/// Decrypts one file and reads it as a document.
fn open_file(jwe_text: &str, key: &[u8; 32]) -> Result<DocumentView, Problem> {
    let decrypted = jwe::decrypt(jwe_text, key).map_err(|e| match e {
        JweError::DecryptionFailed => (
            "tampered",
            "This shared file cannot be opened safely: it was changed after it was shared, or the key in the link is wrong or incomplete. \
             Do not rely on it; ask the sender for a new link."
                .to_string(),
        ),
        JweError::Malformed | JweError::BadHeader => (
            "tampered",
            format!("{e}. The file may have been damaged or replaced; ask the sender for a new link."),
        ),
        other => ("unsupported", format!("{other}.")),
    })?;
    if let Some(ct) = decrypted.content_type.as_deref() {
        if ct != jwe::FHIR_JSON && ct != "application/json" {
            return Err((
                "unsupported",
                format!("The shared file is of a kind this viewer does not show ({ct})."),
            ));
        }
    }
    let text = String::from_utf8(decrypted.plaintext).map_err(|_| {
        (
            "invalid",
            "The shared file is not text, so it cannot be a FHIR document. Ask the sender to share it again."
                .to_string(),
        )
    })?;
    view_document(&text).map_err(|e| ("invalid", format!("{e}.")))
}

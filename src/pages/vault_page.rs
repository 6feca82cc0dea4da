//! The open vault: lock, backups and exports, passphrase and recovery key.

use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::components::{ErrorBox, PassphraseField, ProgressBar};
use crate::messages::{human_bytes, vault_error_message};
use crate::platform::files;
use crate::platform::time::now_rfc3339;
use crate::session::Progress;
use crate::state::{AppCtx, NoticeKind};

/// `my-health-record-2026-11-21`, from the vault name (kept to safe characters).
fn file_stem(name: &str) -> String {
    let mut stem: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect();
    stem = stem
        .split('-')
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>()
        .join("-");
    if stem.is_empty() {
        stem = "health-record".into();
    }
    format!("{stem}-{}", &now_rfc3339()[..10])
}

#[component]
pub fn VaultPage() -> impl IntoView {
    let app = AppCtx::expect();
    let info = move || {
        app.with_session(|s| {
            (
                s.name(),
                s.last_saved(),
                s.generation(),
                s.record().len(),
                s.has_unsaved_changes(),
            )
        })
    };
    view! {
        <section class="page" aria-labelledby="vault-title">
            <h1 id="vault-title">"Vault and backups"</h1>
            {move || info().map(|(name, saved, generation, entries, unsaved)| view! {
                <dl class="facts compact">
                    <dt>"Vault"</dt><dd id="vault-info-name">{name}</dd>
                    <dt>"Last saved"</dt><dd>{crate::format::date_time(&saved)} " (save " {generation} ")"</dd>
                    <dt>"Items in your record"</dt><dd id="vault-info-count">{entries}</dd>
                    <dt>"Unsaved changes"</dt><dd>{if unsaved { "Yes: they will be saved with your next change, or use Save now" } else { "None" }}</dd>
                </dl>
            })}
            <div class="actions">
                <button type="button" id="lock-now" on:click=move |_| app.lock(Some("You locked your vault.".into()))>
                    "Lock now"
                </button>
                <SaveNow />
            </div>
            <BackupSection />
            <ExportSection />
            <PassphraseSection />
            <RecoveryKeySection />
        </section>
    }
}

#[component]
fn SaveNow() -> impl IntoView {
    let app = AppCtx::expect();
    let busy = RwSignal::new(false);
    view! {
        <button type="button" class="secondary" id="save-now" disabled=move || busy.get() on:click=move |_| {
            let Some(session) = app.session() else { return };
            busy.set(true);
            spawn_local(async move {
                let result = session.save().await;
                busy.set(false);
                app.changed();
                match result {
                    Ok(o) if o.segments_written > 0 => app.say(NoticeKind::Success, format!("Saved ({}).", human_bytes(o.bytes_written))),
                    Ok(_) => app.say(NoticeKind::Info, "Everything was already saved."),
                    Err(e) => app.say(NoticeKind::Error, vault_error_message(&e)),
                }
            });
        }>"Save now"</button>
    }
}

#[component]
fn BackupSection() -> impl IntoView {
    let app = AppCtx::expect();
    let busy = RwSignal::new(false);
    let error = RwSignal::new(None::<String>);
    let download = move |_| {
        let Some(session) = app.session() else { return };
        busy.set(true);
        error.set(None);
        spawn_local(async move {
            // The backup holds what is saved, so save first.
            let result = match session.save().await {
                Ok(_) => session.export_backup().await,
                Err(e) => Err(e),
            };
            busy.set(false);
            match result {
                Ok(bytes) => {
                    let name = format!(
                        "{}.{}",
                        file_stem(&session.name()),
                        phr_vault::BACKUP_EXTENSION
                    );
                    match files::download(&bytes, &name, "application/octet-stream") {
                        Ok(()) => app.say(
                            NoticeKind::Success,
                            format!("Backup downloaded ({}).", human_bytes(bytes.len() as u64)),
                        ),
                        Err(e) => error.set(Some(format!(
                            "The download could not start ({e}). Try again."
                        ))),
                    }
                }
                Err(e) => error.set(Some(vault_error_message(&e))),
            }
        });
    };
    view! {
        <section class="panel" aria-labelledby="backup-title">
            <h2 id="backup-title">"Encrypted backup"</h2>
            <p>
                "Browsers can clear their storage. Keep a backup file somewhere safe: it is encrypted "
                "like your vault and opens with the same passphrase or recovery key, in this browser "
                "or another one."
            </p>
            <button type="button" id="download-backup" on:click=download disabled=move || busy.get()>
                "Download encrypted backup"
            </button>
            {move || busy.get().then(|| view! { <ProgressBar progress=Progress { step: "Preparing the backup", fraction: None } /> })}
            {move || error.get().map(|e| view! { <ErrorBox text=e /> })}
        </section>
    }
}

#[component]
fn ExportSection() -> impl IntoView {
    let app = AppCtx::expect();
    let understood = RwSignal::new(false);
    let error = RwSignal::new(None::<String>);
    let export = move |_| {
        if !understood.get_untracked() {
            error.set(Some(
                "Tick the box first: the exported file is not encrypted.".into(),
            ));
            return;
        }
        error.set(None);
        let result = app.with_session(|s| {
            let record = s.record();
            let opts = phr_record::ExportOptions {
                bundle_id: crate::platform::ids::uuid_v4(),
                timestamp: now_rfc3339(),
                patient: crate::record_util::patient_reference(&record),
            };
            record.export_bundle(&opts).map(|json| (json, s.name()))
        });
        match result {
            Some(Ok((json, name))) => {
                let file = format!("{}-fhir.json", file_stem(&name));
                match files::download(json.as_bytes(), &file, "application/fhir+json") {
                    Ok(()) => app.say(
                        NoticeKind::Success,
                        "The unencrypted FHIR file was downloaded. Keep it private.",
                    ),
                    Err(e) => error.set(Some(format!(
                        "The download could not start ({e}). Try again."
                    ))),
                }
            }
            Some(Err(e)) => error.set(Some(format!("The export could not be built ({e})."))),
            None => {}
        }
    };
    view! {
        <section class="panel" aria-labelledby="export-title">
            <h2 id="export-title">"Export as FHIR (not encrypted)"</h2>
            <p>
                "A standard FHIR R4 file with everything in your record, including where each item "
                "came from. Other health apps can read it. "
                <strong>"Anyone who gets this file can read your health information."</strong>
            </p>
            <label class="choice">
                <input type="checkbox" id="export-understood"
                    prop:checked=move || understood.get()
                    on:change=move |ev| understood.set(event_target_checked(&ev)) />
                "I understand that this file is not encrypted"
            </label>
            <button type="button" class="secondary" id="export-fhir" on:click=export>"Export FHIR file"</button>
            {move || error.get().map(|e| view! { <ErrorBox text=e /> })}
        </section>
    }
}

#[component]
fn PassphraseSection() -> impl IntoView {
    let app = AppCtx::expect();
    let new_pass = RwSignal::new(String::new());
    let confirm = RwSignal::new(String::new());
    let busy = RwSignal::new(false);
    let error = RwSignal::new(None::<String>);
    let via_recovery = move || {
        app.with_session(|s| s.opened_with_recovery_key())
            .unwrap_or(false)
    };
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let p = new_pass.get_untracked();
        if p != confirm.get_untracked() {
            error.set(Some(
                "The two passphrases are different. Type the same passphrase twice.".into(),
            ));
            return;
        }
        let Some(session) = app.session() else { return };
        busy.set(true);
        error.set(None);
        spawn_local(async move {
            let result = session.change_passphrase(&p).await;
            busy.set(false);
            match result {
                Ok(()) => {
                    new_pass.set(String::new());
                    confirm.set(String::new());
                    app.changed();
                    app.say(
                        NoticeKind::Success,
                        "Your passphrase was changed. Use the new one from now on.",
                    );
                }
                Err(e) => error.set(Some(vault_error_message(&e))),
            }
        });
    };
    view! {
        <section class="panel" aria-labelledby="passphrase-title">
            <h2 id="passphrase-title">"Change passphrase"</h2>
            <Show when=via_recovery>
                <p class="notice warn" role="status" id="set-new-passphrase">
                    "You opened this vault with your recovery key. Set a new passphrase now."
                </p>
            </Show>
            <p>"Only the key that protects your record is re-wrapped; your record is not re-encrypted."</p>
            <form class="stack" on:submit=submit>
                <PassphraseField id="change-passphrase" label="New passphrase" value=new_pass autocomplete="new-password" />
                <PassphraseField id="change-passphrase-confirm" label="Type the new passphrase again" value=confirm autocomplete="new-password" />
                {move || busy.get().then(|| view! { <ProgressBar progress=Progress { step: "Protecting your vault with the new passphrase", fraction: None } /> })}
                {move || error.get().map(|e| view! { <ErrorBox text=e /> })}
                <div class="actions"><button type="submit" disabled=move || busy.get()>"Change passphrase"</button></div>
            </form>
        </section>
    }
}

#[component]
fn RecoveryKeySection() -> impl IntoView {
    let app = AppCtx::expect();
    let shown = RwSignal::new(None::<String>);
    let error = RwSignal::new(None::<String>);
    let replace = move |_| {
        let Some(session) = app.session() else { return };
        spawn_local(async move {
            match session.new_recovery_key().await {
                Ok(rk) => shown.set(Some(rk.display().to_string())),
                Err(e) => error.set(Some(vault_error_message(&e))),
            }
        });
    };
    view! {
        <section class="panel" aria-labelledby="recovery-title">
            <h2 id="recovery-title">"Recovery key"</h2>
            <p>"Lost your recovery key? Make a new one: the old one stops working at once."</p>
            {move || match shown.get() {
                Some(key) => view! {
                    <p class="recovery-key" id="new-recovery-key" aria-label="Your new recovery key">{key}</p>
                    <p>"Write it down now; it will not be shown again."</p>
                }.into_any(),
                None => view! {
                    <button type="button" class="secondary" id="new-recovery-key-button" on:click=replace>"Make a new recovery key"</button>
                }.into_any(),
            }}
            {move || error.get().map(|e| view! { <ErrorBox text=e /> })}
        </section>
    }
}

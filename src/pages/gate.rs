//! Before the record is open: create a vault, unlock one, or restore a backup.

use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::components::{ErrorBox, PassphraseField, ProgressBar};
use crate::messages::vault_error_message;
use crate::platform::files;
use crate::session::{
    list_vaults, verify_credential, BackupCandidate, Credential, PendingVault, Progress,
    VaultSummary, VerifiedKey,
};
use crate::shell::ShellCtx;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Mode {
    Unlock,
    Create,
    Restore,
}

/// The locked app: lists the vaults in this browser and offers the ways in.
#[component]
pub fn Gate() -> impl IntoView {
    let app = ShellCtx::expect();
    let vaults = RwSignal::new(None::<Result<Vec<VaultSummary>, String>>);
    let mode = RwSignal::new(Mode::Unlock);
    let reload = move || {
        let Some(db) = app.db() else { return };
        spawn_local(async move {
            let listed = list_vaults(&db).await.map_err(|e| vault_error_message(&e));
            if matches!(&listed, Ok(v) if v.is_empty()) {
                mode.set(Mode::Create);
            }
            vaults.set(Some(listed));
        });
    };
    reload();

    view! {
        <section class="page gate" aria-labelledby="gate-title">
            {move || match vaults.get() {
                None => view! { <h1 id="gate-title">"Opening your vaults…"</h1> }.into_any(),
                Some(Err(e)) => view! {
                    <h1 id="gate-title">"Your vaults could not be listed"</h1>
                    <ErrorBox text=e />
                }.into_any(),
                Some(Ok(list)) => {
                    let has_vaults = !list.is_empty();
                    view! {
                        {move || match mode.get() {
                            Mode::Unlock if has_vaults => view! {
                                <UnlockForm vaults=list.clone() />
                            }.into_any(),
                            Mode::Restore => view! { <RestoreForm /> }.into_any(),
                            _ => view! { <CreateForm first=!has_vaults /> }.into_any(),
                        }}
                        <nav class="gate-modes" aria-label="Other ways in">
                            <Show when=move || has_vaults && mode.get() != Mode::Unlock>
                                <button type="button" class="link-button" on:click=move |_| mode.set(Mode::Unlock)>
                                    "Unlock a vault"
                                </button>
                            </Show>
                            <Show when=move || mode.get() != Mode::Create>
                                <button type="button" class="link-button" on:click=move |_| mode.set(Mode::Create)>
                                    {if has_vaults { "Create another vault" } else { "Create a vault" }}
                                </button>
                            </Show>
                            <Show when=move || mode.get() != Mode::Restore>
                                <button type="button" class="link-button" on:click=move |_| mode.set(Mode::Restore)>
                                    "Restore from a backup file"
                                </button>
                            </Show>
                        </nav>
                    }.into_any()
                }
            }}
        </section>
    }
}

#[component]
fn UnlockForm(vaults: Vec<VaultSummary>) -> impl IntoView {
    let app = ShellCtx::expect();
    let selected = RwSignal::new(vaults.first().map(|v| v.id.to_string()).unwrap_or_default());
    let use_recovery = RwSignal::new(false);
    let secret = RwSignal::new(String::new());
    let busy = RwSignal::new(None::<Progress>);
    let error = RwSignal::new(None::<String>);
    let several = vaults.len() > 1;
    let vaults_for_problem = vaults.clone();
    let problem = move || {
        vaults_for_problem
            .iter()
            .find(|v| v.id.to_string() == selected.get())
            .and_then(|v| v.problem.clone())
    };

    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if busy.get_untracked().is_some() {
            return;
        }
        let Some(db) = app.db() else { return };
        let Ok(id) = selected.get_untracked().parse() else {
            error.set(Some("Choose a vault to unlock.".into()));
            return;
        };
        let text = secret.get_untracked();
        if text.trim().is_empty() {
            error.set(Some(if use_recovery.get_untracked() {
                "Enter your recovery key.".into()
            } else {
                "Enter your passphrase.".into()
            }));
            return;
        }
        let credential = if use_recovery.get_untracked() {
            Credential::RecoveryKey(text)
        } else {
            Credential::Passphrase(text)
        };
        error.set(None);
        busy.set(Some(Progress {
            step: "Checking your passphrase",
            fraction: None,
        }));
        spawn_local(async move {
            let verified = verify_credential(&db, &id, credential).await;
            let result = match verified {
                Ok(v) => app.open_record(v, None, move |p| busy.set(Some(p))).await,
                Err(e) => Err(vault_error_message(&e)),
            };
            busy.set(None);
            match result {
                Ok(()) => secret.set(String::new()),
                Err(e) => error.set(Some(e)),
            }
        });
    };

    view! {
        <h1 id="gate-title">"Unlock your health record"</h1>
        {move || app.lock_reason.get().map(|r| view! { <p class="notice info" role="status">{r}</p> })}
        <form class="stack" on:submit=submit>
            <Show when=move || several fallback={
                let name = vaults.first().map(|v| v.name.clone()).unwrap_or_default();
                move || view! { <p class="vault-name">"Vault: " <strong>{name.clone()}</strong></p> }
            }>
                <label class="field">
                    <span>"Vault"</span>
                    <select
                        id="vault-select"
                        on:change=move |ev| selected.set(event_target_value(&ev))
                        prop:value=move || selected.get()
                    >
                        {vaults
                            .iter()
                            .map(|v| view! { <option value=v.id.to_string()>{v.name.clone()}</option> })
                            .collect_view()}
                    </select>
                </label>
            </Show>
            {move || problem().map(|p| view! { <ErrorBox text=p /> })}
            {move || if use_recovery.get() {
                view! {
                    <label class="field">
                        <span>"Recovery key"</span>
                        <input
                            id="recovery-key"
                            type="text"
                            autocomplete="off"
                            autocapitalize="characters"
                            spellcheck="false"
                            placeholder="XXXX-XXXX-…"
                            prop:value=move || secret.get()
                            on:input=move |ev| secret.set(event_target_value(&ev))
                        />
                    </label>
                }.into_any()
            } else {
                view! {
                    <PassphraseField id="passphrase" label="Passphrase" value=secret autocomplete="current-password" />
                }.into_any()
            }}
            {move || busy.get().map(|p| view! { <ProgressBar progress=p /> })}
            {move || error.get().map(|e| view! { <ErrorBox text=e /> })}
            <div class="actions">
                <button type="submit" disabled=move || busy.get().is_some()>"Unlock"</button>
                <button
                    type="button"
                    class="link-button"
                    on:click=move |_| {
                        use_recovery.update(|r| *r = !*r);
                        secret.set(String::new());
                        error.set(None);
                    }
                >
                    {move || if use_recovery.get() { "Use my passphrase instead" } else { "Use my recovery key instead" }}
                </button>
            </div>
        </form>
    }
}

#[component]
fn CreateForm(first: bool) -> impl IntoView {
    let app = ShellCtx::expect();
    let name = RwSignal::new(if first {
        "My health record".to_string()
    } else {
        String::new()
    });
    let passphrase = RwSignal::new(String::new());
    let confirm = RwSignal::new(String::new());
    let busy = RwSignal::new(false);
    let error = RwSignal::new(None::<String>);
    let pending = StoredValue::new_local(None::<PendingVault>);
    let recovery_text = RwSignal::new(None::<String>);

    let assessment = Memo::new(move |_| {
        let p = passphrase.get();
        (!p.is_empty()).then(|| phr_vault::assess_passphrase_with(&p, &[name.get().as_str()]))
    });

    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if busy.get_untracked() {
            return;
        }
        let n = name.get_untracked().trim().to_string();
        let p = passphrase.get_untracked();
        if n.is_empty() {
            error.set(Some(
                "Give the vault a name, such as \"My record\" or your child's first name.".into(),
            ));
            return;
        }
        if p != confirm.get_untracked() {
            error.set(Some(
                "The two passphrases are different. Type the same passphrase twice.".into(),
            ));
            return;
        }
        if !assessment.get_untracked().is_some_and(|a| a.acceptable) {
            error.set(Some(
                "Choose a stronger passphrase: see the advice under the field.".into(),
            ));
            return;
        }
        error.set(None);
        busy.set(true);
        spawn_local(async move {
            let result = PendingVault::create(&n, &p).await;
            busy.set(false);
            match result {
                Ok(v) => {
                    recovery_text.set(Some(v.recovery_key_text()));
                    pending.set_value(Some(v));
                    passphrase.set(String::new());
                    confirm.set(String::new());
                }
                Err(e) => error.set(Some(vault_error_message(&e))),
            }
        });
    };

    let on_confirmed = move |verified: VerifiedKey| {
        pending.set_value(None);
        spawn_local(async move {
            let welcome =
                "Your vault is ready. Only your passphrase or your recovery key can open it.";
            match app.open_record(verified, Some(welcome), |_| {}).await {
                Ok(()) => recovery_text.set(None),
                Err(e) => {
                    recovery_text.set(None);
                    error.set(Some(e));
                }
            }
        });
    };

    view! {
        {move || match recovery_text.get() {
            Some(key) => view! {
                <RecoveryKeyConfirm key=key pending=pending on_confirmed=on_confirmed />
            }.into_any(),
            None => view! {
                <h1 id="gate-title">{if first { "Create your vault" } else { "Create another vault" }}</h1>
                <p class="lead">
                    "Your record is encrypted in this browser with a key made from your passphrase. "
                    "Nobody else can open it, so choose a passphrase you will remember."
                </p>
                <form class="stack" on:submit=submit>
                    <label class="field">
                        <span>"Vault name"</span>
                        <input
                            id="vault-name"
                            type="text"
                            maxlength="64"
                            prop:value=move || name.get()
                            on:input=move |ev| name.set(event_target_value(&ev))
                            aria-describedby="vault-name-help"
                        />
                        <small id="vault-name-help">
                            "Shown before unlocking, so anyone using this browser can see it. "
                            "A first name or \"My record\" is fine."
                        </small>
                    </label>
                    <PassphraseField id="new-passphrase" label="Passphrase" value=passphrase autocomplete="new-password" />
                    {move || assessment.get().map(|a| view! { <StrengthMeter assessment=a /> })}
                    <PassphraseField id="confirm-passphrase" label="Type the passphrase again" value=confirm autocomplete="new-password" />
                    {move || busy.get().then(|| view! {
                        <ProgressBar progress=Progress { step: "Creating your vault: deriving a key from your passphrase", fraction: None } />
                    })}
                    {move || error.get().map(|e| view! { <ErrorBox text=e /> })}
                    <div class="actions">
                        <button type="submit" disabled=move || busy.get()>"Create vault"</button>
                    </div>
                </form>
            }.into_any(),
        }}
    }
}

#[component]
fn StrengthMeter(assessment: phr_vault::Assessment) -> impl IntoView {
    let label = match (assessment.acceptable, assessment.score) {
        (false, _) => "Too weak",
        (true, 0..=2) => "Acceptable",
        (true, 3) => "Strong",
        (true, _) => "Very strong",
    };
    let class = if assessment.acceptable {
        "strength ok"
    } else {
        "strength weak"
    };
    view! {
        <div class=class id="passphrase-strength" role="status" aria-live="polite">
            <meter min="0" max="4" value=assessment.score.to_string() aria-label="Passphrase strength"></meter>
            <span class="strength-label">{label}</span>
            <ul>{assessment.feedback.into_iter().map(|f| view! { <li>{f}</li> }).collect_view()}</ul>
        </div>
    }
}

/// Shows the recovery key once; the vault is only stored after the patient types it back.
#[component]
fn RecoveryKeyConfirm(
    key: String,
    pending: StoredValue<Option<PendingVault>, LocalStorage>,
    on_confirmed: impl Fn(VerifiedKey) + Copy + 'static,
) -> impl IntoView {
    let app = ShellCtx::expect();
    let typed = RwSignal::new(String::new());
    let error = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);
    let key_for_download = key.clone();

    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let ok = pending.with_value(|p| {
            p.as_ref()
                .is_some_and(|p| p.confirms(&typed.get_untracked()))
        });
        if !ok {
            error.set(Some(
                "That is not the recovery key shown above. Check each group of characters and try again.".into(),
            ));
            return;
        }
        let (Some(db), Some(p)) = (app.db(), pending.try_update_value(Option::take).flatten())
        else {
            return;
        };
        busy.set(true);
        spawn_local(async move {
            match p.store_key(&db).await {
                Ok(verified) => on_confirmed(verified),
                Err(e) => {
                    busy.set(false);
                    error.set(Some(vault_error_message(&e)));
                }
            }
        });
    };

    view! {
        <h1 id="gate-title">"Save your recovery key"</h1>
        <p class="lead">
            "If you forget your passphrase, this key is the only other way into your vault. "
            "Write it down or print it and keep it somewhere safe. It is shown only now."
        </p>
        <p class="recovery-key" id="recovery-key-display" aria-label="Your recovery key">{key.clone()}</p>
        <div class="actions">
            <button
                type="button"
                class="secondary"
                on:click=move |_| {
                    let text = format!(
                        "Recovery key for your health record vault\n\n{key_for_download}\n\nKeep this somewhere safe. Anyone with this key and this browser can open your record.\n"
                    );
                    let _ = files::download(text.as_bytes(), "health-record-recovery-key.txt", "text/plain");
                }
            >
                "Save as a text file"
            </button>
            <button type="button" class="secondary" on:click=move |_| {
                if let Some(w) = web_sys::window() { let _ = w.print(); }
            }>"Print"</button>
        </div>
        <form class="stack" on:submit=submit>
            <label class="field">
                <span>"Type the recovery key to confirm you have it"</span>
                <input
                    id="recovery-key-confirm"
                    type="text"
                    autocomplete="off"
                    spellcheck="false"
                    prop:value=move || typed.get()
                    on:input=move |ev| typed.set(event_target_value(&ev))
                />
            </label>
            {move || error.get().map(|e| view! { <ErrorBox text=e /> })}
            <div class="actions">
                <button type="submit" disabled=move || busy.get()>"I have saved it: open my vault"</button>
            </div>
        </form>
    }
}

#[component]
fn RestoreForm() -> impl IntoView {
    let app = ShellCtx::expect();
    let candidate = StoredValue::new_local(None::<BackupCandidate>);
    let summary = RwSignal::new(None::<(String, u64, String, Option<u64>)>);
    let use_recovery = RwSignal::new(false);
    let secret = RwSignal::new(String::new());
    let error = RwSignal::new(None::<String>);
    let busy = RwSignal::new(None::<&'static str>);
    let confirm_replace = RwSignal::new(false);
    let file_input = NodeRef::<leptos::html::Input>::new();

    let on_file = move |_| {
        let Some(input) = file_input.get() else {
            return;
        };
        let Some(file) = files::picked_file(&input) else {
            return;
        };
        let Some(db) = app.db() else { return };
        error.set(None);
        summary.set(None);
        busy.set(Some("Reading the backup file"));
        spawn_local(async move {
            let bytes = match files::read_file(&file).await {
                Ok(b) => b,
                Err(e) => {
                    busy.set(None);
                    error.set(Some(format!(
                        "The file could not be read ({e}). Pick the file again."
                    )));
                    return;
                }
            };
            match BackupCandidate::read(&db, &bytes).await {
                Ok(c) => {
                    let h = c.backup.header();
                    summary.set(Some((
                        h.name().to_owned(),
                        0,
                        h.created().to_owned(),
                        c.existing_generation,
                    )));
                    candidate.set_value(Some(c));
                }
                Err(e) => error.set(Some(vault_error_message(&e))),
            }
            busy.set(None);
        });
    };

    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let Some(db) = app.db() else { return };
        let text = secret.get_untracked();
        if text.trim().is_empty() {
            error.set(Some(
                "Enter the passphrase or recovery key of the backup.".into(),
            ));
            return;
        }
        let replacing = summary.get_untracked().and_then(|s| s.3).is_some();
        if replacing && !confirm_replace.get_untracked() {
            error.set(Some(
                "Tick the box to confirm that this backup replaces the vault in this browser."
                    .into(),
            ));
            return;
        }
        let credential = if use_recovery.get_untracked() {
            Credential::RecoveryKey(text)
        } else {
            Credential::Passphrase(text)
        };
        let Some(c) = candidate.try_update_value(Option::take).flatten() else {
            return;
        };
        error.set(None);
        busy.set(Some("Checking and decrypting the backup"));
        spawn_local(async move {
            let unlocked = match c.unlock(&credential).await {
                Ok(u) => u,
                Err(e) => {
                    busy.set(None);
                    error.set(Some(vault_error_message(&e)));
                    candidate.set_value(Some(c));
                    return;
                }
            };
            busy.set(Some("Restoring"));
            let restored = match c.restore_key(&db, &unlocked).await {
                Ok(verified) => {
                    app.open_record(verified, Some("The backup was restored."), |_| {})
                        .await
                }
                Err(e) => Err(vault_error_message(&e)),
            };
            busy.set(None);
            match restored {
                Ok(()) => {}
                Err(e) => {
                    error.set(Some(e));
                    candidate.set_value(Some(c));
                }
            }
        });
    };

    view! {
        <h1 id="gate-title">"Restore from a backup file"</h1>
        <p class="lead">"Pick an encrypted backup file (.phrbackup) made with this app."</p>
        <form class="stack" on:submit=submit>
            <label class="field">
                <span>"Backup file"</span>
                <input id="backup-file" type="file" accept=".phrbackup,application/octet-stream" node_ref=file_input on:change=on_file />
            </label>
            {move || summary.get().map(|(name, _, created, existing)| view! {
                <div class="card" id="backup-summary">
                    <p>"Vault " <strong>{name}</strong> ", created " {created.get(..10).unwrap_or_default().to_string()}</p>
                    {existing.map(|g| view! {
                        <div class="notice warn" role="alert">
                            <p>
                                "This browser already has this vault (saved " {g} " times). Restoring replaces it "
                                "with the backup; changes made since the backup will be lost."
                            </p>
                            <label class="choice">
                                <input id="confirm-replace" type="checkbox"
                                    prop:checked=move || confirm_replace.get()
                                    on:change=move |ev| confirm_replace.set(event_target_checked(&ev)) />
                                "Replace the vault in this browser with this backup"
                            </label>
                        </div>
                    })}
                </div>
            })}
            <Show when=move || summary.get().is_some()>
                {move || if use_recovery.get() {
                    view! {
                        <label class="field">
                            <span>"Recovery key"</span>
                            <input id="restore-recovery-key" type="text" autocomplete="off" spellcheck="false"
                                prop:value=move || secret.get()
                                on:input=move |ev| secret.set(event_target_value(&ev)) />
                        </label>
                    }.into_any()
                } else {
                    view! { <PassphraseField id="restore-passphrase" label="Passphrase of the backup" value=secret autocomplete="current-password" /> }.into_any()
                }}
                <div class="actions">
                    <button type="submit" disabled=move || busy.get().is_some()>"Restore"</button>
                    <button type="button" class="link-button" on:click=move |_| use_recovery.update(|r| *r = !*r)>
                        {move || if use_recovery.get() { "Use the passphrase instead" } else { "Use the recovery key instead" }}
                    </button>
                </div>
            </Show>
            {move || busy.get().map(|s| view! { <ProgressBar progress=Progress { step: s, fraction: None } /> })}
            {move || error.get().map(|e| view! { <ErrorBox text=e /> })}
        </form>
    }
}

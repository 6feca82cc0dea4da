//! Sharing a summary of the record with a care team: the composer (who, what, sensitive
//! information with an explicit consent, a preview of exactly what leaves), the share itself
//! (SMART Health Link with QR code, encrypted file, IPS JSON, printable summary), and the share
//! log, where every share can be revoked.

use leptos::prelude::*;
use leptos::task::spawn_local;
use phr_consent::{Category, Purpose, RIGHT_TO_REVOKE};
use phr_share::{Decision, DocumentView, Section, Selection, SharePlan};

use crate::components::{ErrorBox, ProgressBar};
use crate::messages::vault_error_message;
use crate::platform::files;
use crate::platform::time::{now_ms, now_rfc3339};
use crate::platform::webcrypto::random_bytes;
use crate::session::Progress;
use crate::share::build::{self, Built, Terms};
use crate::share::document::SharedDocument;
use crate::share::log::{
    purpose_from_id, purpose_id, purpose_text, ShareDetail, ShareKind, ShareStatus, PURPOSES,
};
use crate::share::net::{load_config, Config};
use crate::share::qr_view::{QrCode, QrOf};
use crate::share::{copy_text, next_paint, CatalogCache};
use crate::state::{AppCtx, NoticeKind};

/// How long a link is offered: (days, words).
const DURATIONS: [(u32, &str); 5] = [
    (1, "1 day"),
    (7, "1 week"),
    (30, "30 days"),
    (90, "90 days"),
    (365, "1 year"),
];

fn now_secs() -> u64 {
    (now_ms() / 1000.0) as u64
}

fn section_slug(s: Section) -> String {
    serde_json::to_value(s)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default()
}

/// A share just made, while its page is open (it holds the key and the document: memory only).
#[derive(Clone, Debug)]
struct ShareResult {
    id: String,
    terms: Terms,
    built: Built,
    doc: DocumentView,
    /// A problem after the share was made (it could not be saved in the vault).
    warning: Option<String>,
}

#[component]
pub fn SharePage() -> impl IntoView {
    let config = RwSignal::new(None::<Config>);
    spawn_local(async move {
        config.set(Some(load_config().await));
    });
    let result = RwSignal::new(None::<ShareResult>);
    let has_result = Memo::new(move |_| result.with(Option::is_some));
    view! {
        <section class="page share-page" class:has-result=move || has_result.get() aria-labelledby="share-title">
            <h1 id="share-title">"Share your health summary"</h1>
            <p class="lead">
                "Make a summary of your record for a clinician. You choose what goes in; sensitive "
                "information stays out unless you include it; you can revoke a link at any time."
            </p>
            {move || if has_result.get() {
                view! { <ResultPanel result=result /> }.into_any()
            } else {
                view! { <Composer config=config result=result /> }.into_any()
            }}
            <ShareLog />
        </section>
    }
}

/// What a preview showed, and what it was made from (a share is built from exactly this).
#[derive(Clone, Debug, PartialEq)]
struct PreviewData {
    selection: Selection,
    terms: Terms,
    seed: [u8; 32],
    patient: String,
    sources: Vec<String>,
    sections: Vec<(String, Vec<PreviewLine>)>,
    supporting: Vec<PreviewLine>,
    total: usize,
    categories: Vec<Category>,
    substance_use: bool,
}

#[derive(Clone, Debug, PartialEq)]
struct PreviewLine {
    title: String,
    detail: String,
    date: String,
    source: String,
    patient_reported: bool,
}

#[component]
fn Composer(
    config: RwSignal<Option<Config>>,
    result: RwSignal<Option<ShareResult>>,
) -> impl IntoView {
    let app = AppCtx::expect();
    let cache = CatalogCache::new();
    let Some(initial) = untrack(|| cache.get(app)) else {
        return ().into_any();
    };
    if initial.keys.is_empty() {
        return view! {
            <p class="empty" id="share-empty">
                "Your record is empty, so there is nothing to share yet. "
                <a href="#/import">"Import records"</a>
            </p>
        }
        .into_any();
    }
    let left_out = (initial.duplicates.len(), initial.hidden.len());
    let selection = RwSignal::new({
        let mut s = Selection::default();
        s.excluded_items.extend(initial.duplicates.iter().cloned());
        s.excluded_items.extend(initial.hidden.iter().cloned());
        s
    });
    let section_totals: Vec<(Section, usize)> = Section::ALL
        .into_iter()
        .map(|s| {
            (
                s,
                initial.sections.iter().filter(|x| **x == Some(s)).count(),
            )
        })
        .filter(|(s, n)| *n > 0 || s.is_required())
        .collect();
    drop(initial);

    let recipient = RwSignal::new(String::new());
    let purpose = RwSignal::new(Purpose::Treatment);
    let days = RwSignal::new(30u32);
    let label = RwSignal::new(String::new());
    let terms = Memo::new(move |_| Terms {
        recipient: recipient.get(),
        purpose: purpose.get(),
        days: days.get(),
        label: label.get(),
    });
    let consented = RwSignal::new(None::<(String, Purpose, u32)>);
    let consent_for = RwSignal::new(None::<Category>);
    let preview = RwSignal::new(None::<PreviewData>);
    let busy = RwSignal::new(None::<&'static str>);
    let error = RwSignal::new(None::<String>);
    let info = RwSignal::new(None::<String>);

    let plan = Memo::new(move |_| {
        let catalog = cache.get(app)?;
        let sel = selection.get();
        app.with_session(|s| catalog.with_items(&s.record(), |items| phr_share::plan(items, &sel)))
    });

    // A consent names the recipient, the purpose and the expiry: changing any of them withholds
    // the sensitive information again until the patient confirms anew.
    let terms_changed = move || {
        let now = terms.get_untracked().consent_part();
        if let Some(c) = consented.get_untracked() {
            if c != now {
                selection.update(|s| {
                    s.included_categories.clear();
                    s.explicit_items.clear();
                });
                consented.set(None);
                consent_for.set(None);
                info.set(Some(
                    "You changed who receives this share, why, or for how long, so the sensitive information you had included is withheld again. Include it again if you still want to share it."
                        .into(),
                ));
            }
        }
    };

    let label_problem = move || {
        let who = untrack(|| cache.get(app))?;
        build::label_problem(&label.get(), &who.identity)
    };

    let make_preview = move |_| {
        error.set(None);
        let t = terms.get_untracked();
        if t.recipient.trim().is_empty() {
            error.set(Some(
                "Say who will receive this share first (step 1).".into(),
            ));
            return;
        }
        if let Some(p) = untrack(label_problem) {
            error.set(Some(p));
            return;
        }
        let (Some(catalog), Some(session)) = (untrack(|| cache.get(app)), app.session()) else {
            return;
        };
        let sel = selection.get_untracked();
        let mut seed = [0u8; 32];
        random_bytes(&mut seed);
        let segmented = catalog.with_items(&session.record(), |items| {
            phr_share::select(items, &catalog.patient, &sel, &seed)
        });
        match segmented {
            Ok(seg) => {
                let rows = seg.preview();
                let mut sections: Vec<(String, Vec<PreviewLine>)> = Vec::new();
                let mut supporting = Vec::new();
                let mut patient = String::new();
                for (i, r) in rows.into_iter().enumerate() {
                    let line = PreviewLine {
                        title: r.row.title.clone(),
                        detail: r.row.detail.clone(),
                        date: r
                            .row
                            .date
                            .as_deref()
                            .map(crate::format::date)
                            .unwrap_or_default(),
                        source: r.source.clone().unwrap_or_default(),
                        patient_reported: r.patient_reported,
                    };
                    match r.section {
                        _ if i == 0 => patient = line.title,
                        Some(s) => match sections.iter_mut().find(|(t, _)| t == s.title()) {
                            Some((_, v)) => v.push(line),
                            None => sections.push((s.title().to_string(), vec![line])),
                        },
                        None => supporting.push(line),
                    }
                }
                preview.set(Some(PreviewData {
                    selection: sel,
                    terms: t,
                    seed,
                    patient,
                    sources: seg.sources.iter().map(|s| s.label.clone()).collect(),
                    sections,
                    supporting,
                    total: seg.entries.len(),
                    categories: seg.included_categories().into_iter().collect(),
                    substance_use: seg.includes_substance_use(),
                }));
            }
            Err(e) => error.set(Some(format!("The preview could not be made: {e}."))),
        }
    };
    let stale = move || {
        preview.with(|p| {
            p.as_ref()
                .is_some_and(|p| p.selection != selection.get() || p.terms != terms.get())
        })
    };

    let create = move |_| {
        error.set(None);
        let Some(p) = preview.get_untracked() else {
            return;
        };
        if untrack(stale) {
            error.set(Some(
                "You changed your choices after the preview. Preview again first.".into(),
            ));
            return;
        }
        let (Some(catalog), Some(session)) = (untrack(|| cache.get(app)), app.session()) else {
            return;
        };
        let host = config.get_untracked().and_then(|c| c.share_host);
        busy.set(Some("Building and encrypting your summary"));
        spawn_local(async move {
            next_paint().await;
            let now = now_rfc3339();
            let built = build::build(
                &catalog,
                &session,
                &p.selection,
                &p.seed,
                &p.terms,
                host.as_deref(),
                &now,
                now_secs(),
            )
            .await;
            let built = match built {
                Ok(b) => b,
                Err(e) => {
                    busy.set(None);
                    error.set(Some(e));
                    return;
                }
            };
            let doc = match phr_share::view_document(&built.ips) {
                Ok(d) => d,
                Err(e) => {
                    busy.set(None);
                    error.set(Some(format!("The summary could not be read back: {e}.")));
                    return;
                }
            };
            let kind = match &built.url {
                Some(url) => {
                    busy.set(Some("Uploading the encrypted file"));
                    if let Err(e) = build::publish(url, &built.jwe).await {
                        busy.set(None);
                        error.set(Some(e));
                        return;
                    }
                    ShareKind::Link
                }
                None => ShareKind::File,
            };
            let recorded = build::record_share(
                &mut session.record_mut(),
                &catalog,
                &built,
                &p.terms,
                kind,
                &now,
            );
            let id = match recorded {
                Ok(id) => id,
                Err(e) => {
                    if let Some(url) = &built.url {
                        let _ = build::delete_file(url).await;
                    }
                    busy.set(None);
                    error.set(Some(e));
                    return;
                }
            };
            busy.set(Some("Saving to your vault"));
            let warning = session.save().await.err().map(|e| {
                format!(
                    "The share was made, but it could not be recorded in your vault yet: {} Revoke it below if you do not want it to stay available.",
                    vault_error_message(&e)
                )
            });
            busy.set(None);
            result.set(Some(ShareResult {
                id,
                terms: p.terms,
                built,
                doc,
                warning,
            }));
            app.changed();
            app.say(NoticeKind::Success, "Your share is ready.");
        });
    };

    view! {
        <section class="card share-step" aria-labelledby="step-who">
            <h2 id="step-who">"1. Who is it for?"</h2>
            <div class="share-fields">
                <label class="field">
                    <span>"Who will receive it"</span>
                    <small>"A person or organisation, for example “Dr. Rivera, Riverside Clinic”. It goes in your share log, and in your consent if you include sensitive information."</small>
                    <input id="share-recipient" type="text" autocomplete="off"
                        prop:value=move || recipient.get()
                        on:input=move |ev| { recipient.set(event_target_value(&ev)); terms_changed(); } />
                </label>
                <label class="field">
                    <span>"Why"</span>
                    <select id="share-purpose"
                        prop:value=move || purpose_id(purpose.get())
                        on:change=move |ev| { purpose.set(purpose_from_id(&event_target_value(&ev))); terms_changed(); }>
                        {PURPOSES.into_iter().map(|p| view! { <option value=purpose_id(p)>{purpose_text(p)}</option> }).collect_view()}
                    </select>
                </label>
                <label class="field">
                    <span>"Offer the link for"</span>
                    <small>"You can revoke it at any time before then."</small>
                    <select id="share-days"
                        prop:value=move || days.get().to_string()
                        on:change=move |ev| { days.set(event_target_value(&ev).parse().unwrap_or(30)); terms_changed(); }>
                        {DURATIONS.into_iter().map(|(d, t)| view! { <option value=d.to_string()>{t}</option> }).collect_view()}
                    </select>
                </label>
                <label class="field">
                    <span>"Link label (optional)"</span>
                    <small>"Anyone who sees the link can read its label: leave out your name and health details. Without one it says “Health summary”."</small>
                    <input id="share-label" type="text" autocomplete="off" maxlength="80" placeholder="Health summary"
                        prop:value=move || label.get()
                        on:input=move |ev| label.set(event_target_value(&ev)) />
                </label>
                {move || label_problem().map(|p| view! { <ErrorBox text=p /> })}
            </div>
        </section>

        <section class="card share-step" aria-labelledby="step-what">
            <h2 id="step-what">"2. What to share"</h2>
            <p class="muted">
                "The sections of an International Patient Summary. Problems, medications and allergies are always in it (an empty one says “No information available”)."
            </p>
            {(left_out.0 + left_out.1 > 0).then(|| view! {
                <p class="muted" id="share-left-out">
                    {format!(
                        "Left out to start with: {} cop{} of items another source also has, and {} item{} you hid. Tick them under “Choose items” to include them.",
                        left_out.0, if left_out.0 == 1 { "y" } else { "ies" },
                        left_out.1, if left_out.1 == 1 { "" } else { "s" },
                    )}
                </p>
            })}
            <ul class="share-sections">
                {section_totals.into_iter().map(|(s, total)| view! {
                    <SectionChoice section=s total=total selection=selection plan=plan cache=cache />
                }).collect_view()}
            </ul>
        </section>

        <section class="card share-step" aria-labelledby="step-sensitive">
            <h2 id="step-sensitive">"3. Sensitive information"</h2>
            <p class="muted">
                "Information about substance use, mental health, sexual and reproductive health, HIV, genetics or abuse is left out, and so are its labels, unless you choose to include it."
            </p>
            {move || info.get().map(|t| view! { <p class="notice info" role="status" id="share-consent-reset">{t}</p> })}
            <Sensitive plan=plan selection=selection consent_for=consent_for cache=cache />
            {move || consent_for.get().map(|c| view! {
                <ConsentPanel
                    category=c
                    terms=terms
                    plan=plan
                    cache=cache
                    on_include=move || {
                        selection.update(|s| { s.included_categories.insert(c); });
                        consented.set(Some(terms.get_untracked().consent_part()));
                        consent_for.set(None);
                        info.set(None);
                    }
                    on_cancel=move || consent_for.set(None)
                />
            })}
        </section>

        <section class="card share-step" aria-labelledby="step-preview">
            <h2 id="step-preview">"4. Check and share"</h2>
            <p class="muted">"See exactly what will leave before anything is shared."</p>
            <div class="actions">
                <button type="button" id="share-preview" class="secondary" on:click=make_preview>
                    "Preview what will be shared"
                </button>
            </div>
            {move || error.get().map(|e| view! { <ErrorBox text=e /> })}
            {move || preview.get().map(|p| view! {
                <PreviewView preview=p stale=Signal::derive(stale) />
                <div class="actions">
                    <button type="button" id="share-create" on:click=create
                        disabled=move || busy.get().is_some() || stale()>
                        {move || if config.with(|c| c.as_ref().is_some_and(|c| c.share_host.is_some())) {
                            "Share: create the link and QR code"
                        } else {
                            "Share: create the encrypted file"
                        }}
                    </button>
                </div>
            })}
            {move || busy.get().map(|s| view! { <ProgressBar progress=Progress { step: s, fraction: None } /> })}
        </section>
    }
    .into_any()
}

/// One IPS section: include it or not, and choose its items.
#[component]
fn SectionChoice(
    section: Section,
    total: usize,
    selection: RwSignal<Selection>,
    plan: Memo<Option<SharePlan>>,
    cache: CatalogCache,
) -> impl IntoView {
    let app = AppCtx::expect();
    let slug = section_slug(section);
    let checkbox_id = format!("section-{slug}");
    let list_id = format!("section-items-{slug}");
    let open = RwSignal::new(false);
    let chosen = move || selection.with(|s| s.sections.contains(&section));
    let included = move || {
        let catalog = cache.get(app)?;
        plan.with(|p| {
            p.as_ref().map(|p| {
                p.decisions
                    .iter()
                    .zip(&catalog.sections)
                    .filter(|(d, s)| **s == Some(section) && matches!(d, Decision::Included(_)))
                    .count()
            })
        })
    };
    view! {
        <li class="share-section" data-section=slug.clone()>
            <div class="share-section-head">
                <label class="choice">
                    <input type="checkbox" id=checkbox_id
                        prop:checked=chosen
                        on:change=move |ev| {
                            let on = event_target_checked(&ev);
                            selection.update(|s| {
                                if on { s.sections.insert(section); } else { s.sections.remove(&section); }
                            });
                        } />
                    <span>{section.title()}</span>
                </label>
                <span class="count section-count">
                    {move || included().map(|n| format!("{n} of {total} item{} included", if total == 1 { "" } else { "s" }))}
                </span>
                {(total > 0).then(|| view! {
                    <button type="button" class="link-button" aria-controls=list_id.clone()
                        aria-expanded=move || open.get().to_string()
                        on:click=move |_| open.update(|o| *o = !*o)>
                        {move || if open.get() { "Hide items" } else { "Choose items" }}
                        <span class="visually-hidden">{format!(" in {}", section.title())}</span>
                    </button>
                })}
            </div>
            <div id=list_id>
                {move || open.get().then(|| view! { <ItemPicker section=section selection=selection plan=plan cache=cache /> })}
            </div>
        </li>
    }
}

/// The items of a section, each with a tick box (withheld ones say why).
#[component]
fn ItemPicker(
    section: Section,
    selection: RwSignal<Selection>,
    plan: Memo<Option<SharePlan>>,
    cache: CatalogCache,
) -> impl IntoView {
    let app = AppCtx::expect();
    let shown = RwSignal::new(50usize);
    let rows = move || {
        let catalog = cache.get(app)?;
        let index = app.index()?;
        let chosen = selection.with(|s| s.sections.contains(&section));
        let mut rows: Vec<(String, String, String, String, Decision, bool)> = plan.with(|p| {
            let p = p.as_ref()?;
            Some(
                catalog
                    .sections
                    .iter()
                    .enumerate()
                    .filter(|(_, s)| **s == Some(section))
                    .map(|(i, _)| {
                        let key = catalog.keys[i].clone();
                        let (title, date) = index
                            .find(&key)
                            .map(|id| {
                                let item = index.item(id);
                                (
                                    item.title().to_string(),
                                    item.date().map(|d| d.to_string()).unwrap_or_default(),
                                )
                            })
                            .unwrap_or_default();
                        let source = catalog
                            .source_of(&key)
                            .map(|s| s.label.clone())
                            .unwrap_or_default();
                        let note = catalog.duplicates.contains(&key);
                        (key, title, date, source, p.decisions[i].clone(), note)
                    })
                    .collect(),
            )
        })?;
        rows.sort_by(|a, b| b.2.cmp(&a.2).then_with(|| a.1.cmp(&b.1)));
        Some((rows, chosen))
    };
    view! {
        {move || rows().map(|(rows, chosen)| {
            let total = rows.len();
            let limit = shown.get();
            view! {
                <ul class="share-items">
                    {rows.into_iter().take(limit).map(|(key, title, date, source, decision, duplicate)| {
                        let withheld = match &decision {
                            Decision::Withheld(cats) => Some(cats.iter().map(|c| c.label()).collect::<Vec<_>>().join(", ")),
                            _ => None,
                        };
                        let included = matches!(decision, Decision::Included(_));
                        let is_withheld = withheld.is_some();
                        let k = key.clone();
                        view! {
                            <li class="share-item" class:withheld=is_withheld>
                                <label class="choice">
                                    <input type="checkbox"
                                        prop:checked=included
                                        disabled=is_withheld || !chosen
                                        on:change=move |ev| {
                                            let on = event_target_checked(&ev);
                                            selection.update(|s| {
                                                if on { s.excluded_items.remove(&k); } else { s.excluded_items.insert(k.clone()); }
                                            });
                                        } />
                                    <span class="share-item-title">{title}</span>
                                </label>
                                <span class="muted share-item-meta">
                                    {[date, source].into_iter().filter(|s| !s.is_empty()).collect::<Vec<_>>().join(" · ")}
                                </span>
                                {withheld.map(|w| view! { <span class="status-tag">{format!("withheld: {w}")}</span> })}
                                {duplicate.then(|| view! { <span class="status-tag">"copy from another source"</span> })}
                            </li>
                        }
                    }).collect_view()}
                </ul>
                {(total > limit).then(|| view! {
                    <button type="button" class="secondary" on:click=move |_| shown.update(|n| *n += 100)>
                        {format!("Show more ({} of {total} shown)", limit)}
                    </button>
                })}
            }
        })}
    }
}

/// What is withheld per category, and what the patient included.
#[component]
fn Sensitive(
    plan: Memo<Option<SharePlan>>,
    selection: RwSignal<Selection>,
    consent_for: RwSignal<Option<Category>>,
    cache: CatalogCache,
) -> impl IntoView {
    let app = AppCtx::expect();
    let notes = move || {
        // Psychotherapy notes are shared one by one, after the consent.
        if !selection.with(|s| {
            s.included_categories
                .contains(&Category::PsychotherapyNotes)
        }) {
            return Vec::new();
        }
        let Some(catalog) = cache.get(app) else {
            return Vec::new();
        };
        let index = app.index();
        catalog
            .keys
            .iter()
            .filter(|k| catalog.labels_of(k).has(Category::PsychotherapyNotes))
            .map(|k| {
                let title = index
                    .as_ref()
                    .and_then(|i| i.find(k).map(|id| i.item(id).title().to_string()))
                    .unwrap_or_else(|| "Psychotherapy note".into());
                (k.clone(), title)
            })
            .collect::<Vec<_>>()
    };
    view! {
        {move || plan.get().map(|p| {
            let included: Vec<Category> = selection.with(|s| s.included_categories.iter().copied().collect());
            if p.withheld.is_empty() && included.is_empty() {
                return view! { <p id="sensitive-none">"Nothing sensitive is in what you chose."</p> }.into_any();
            }
            view! {
                <ul class="sensitive-list">
                    {p.withheld.iter().zip(p.withheld_summary()).map(|((c, _), text)| {
                        let c = *c;
                        let can_include = !included.contains(&c);
                        view! {
                            <li class="withheld" data-category=c.id()>
                                <span class="withheld-text">{text}</span>
                                {can_include.then(|| view! {
                                    <button type="button" class="secondary" id=format!("include-{}", c.id())
                                        on:click=move |_| consent_for.set(Some(c))>
                                        "Include…"
                                        <span class="visually-hidden">{format!(" {}", c.label())}</span>
                                    </button>
                                })}
                            </li>
                        }
                    }).collect_view()}
                    {included.iter().map(|c| {
                        let c = *c;
                        view! {
                            <li class="included" data-category=c.id()>
                                <span>{format!("Included by your choice: {}", c.label())}</span>
                                <button type="button" class="link-button"
                                    on:click=move |_| selection.update(|s| { s.included_categories.remove(&c); })>
                                    "Withhold again"
                                    <span class="visually-hidden">{format!(" {}", c.label())}</span>
                                </button>
                            </li>
                        }
                    }).collect_view()}
                </ul>
            }.into_any()
        })}
        {move || {
            let notes = notes();
            (!notes.is_empty()).then(|| view! {
                <fieldset class="choice-group">
                    <legend>"Psychotherapy notes to share (each one needs your tick)"</legend>
                    {notes.into_iter().map(|(k, title)| {
                        let key = k.clone();
                        view! {
                            <label class="choice">
                                <input type="checkbox"
                                    prop:checked=move || selection.with(|s| s.explicit_items.contains(&k))
                                    on:change=move |ev| {
                                        let on = event_target_checked(&ev);
                                        selection.update(|s| {
                                            if on { s.explicit_items.insert(key.clone()); } else { s.explicit_items.remove(&key); }
                                        });
                                    } />
                                <span>{title}</span>
                            </label>
                        }
                    }).collect_view()}
                </fieldset>
            })
        }}
    }
}

/// The explicit consent step: names the recipient, the purpose and the expiry, and states the
/// right to revoke.
#[component]
fn ConsentPanel(
    category: Category,
    terms: Memo<Terms>,
    plan: Memo<Option<SharePlan>>,
    cache: CatalogCache,
    on_include: impl Fn() + 'static,
    on_cancel: impl Fn() + 'static,
) -> impl IntoView {
    let app = AppCtx::expect();
    let agreed = RwSignal::new(false);
    let t = terms.get_untracked();
    let until = build::epoch_to_rfc3339(now_secs() + u64::from(t.days) * 86_400);
    let until = crate::format::date(&until);
    // The items that this choice would include (those withheld only for this category).
    let affected: Vec<String> = {
        let catalog = untrack(|| cache.get(app));
        let index = untrack(|| app.index());
        plan.with_untracked(|p| {
            let (Some(p), Some(catalog)) = (p.as_ref(), catalog) else {
                return Vec::new();
            };
            p.decisions
                .iter()
                .enumerate()
                .filter(|(_, d)| matches!(d, Decision::Withheld(c) if c.as_slice() == [category]))
                .map(|(i, _)| {
                    index
                        .as_ref()
                        .and_then(|x| {
                            x.find(&catalog.keys[i])
                                .map(|id| x.item(id).title().to_string())
                        })
                        .unwrap_or_default()
                })
                .collect()
        })
    };
    let n = affected.len();
    let recipient = t.recipient.trim().to_string();
    let missing_recipient = recipient.is_empty();
    let what = category.label().to_lowercase();
    view! {
        <section class="consent-panel" id="consent-panel" role="region" aria-labelledby="consent-title">
            <h3 id="consent-title">{format!("Include {} in this share?", category.label())}</h3>
            {if missing_recipient {
                view! { <ErrorBox text="Say who will receive this share first (step 1): your consent names them." /> }.into_any()
            } else {
                view! {
                    <p id="consent-statement">
                        {format!("You are choosing to share {n} item{} about {what} with ", if n == 1 { "" } else { "s" })}
                        <strong>{recipient.clone()}</strong>
                        " for "
                        <strong>{purpose_text(t.purpose).to_lowercase()}</strong>
                        ", until "
                        <strong>{until.clone()}</strong>
                        "."
                    </p>
                    {(category == Category::SubstanceUse).then(|| view! {
                        <p id="consent-part2">
                            "Substance use records may be protected by federal law (42 CFR Part 2). A notice goes with them telling "
                            {recipient.clone()}
                            " not to share them further without your written consent."
                        </p>
                    })}
                    {(category == Category::PsychotherapyNotes).then(|| view! {
                        <p>"Psychotherapy notes are shared one by one: after you agree, tick each note you want to share."</p>
                    })}
                    <p class="right-to-revoke" id="consent-revoke">{RIGHT_TO_REVOKE}</p>
                    <p class="muted">"Your choice is recorded in your vault as a consent, with the date."</p>
                    {(n > 0).then(|| view! {
                        <details>
                            <summary>{format!("The {n} item{} this includes", if n == 1 { "" } else { "s" })}</summary>
                            <ul class="consent-items">{affected.iter().map(|a| view! { <li>{a.clone()}</li> }).collect_view()}</ul>
                        </details>
                    })}
                    <label class="choice">
                        <input type="checkbox" id="consent-agree" prop:checked=move || agreed.get()
                            on:change=move |ev| agreed.set(event_target_checked(&ev)) />
                        <span>{format!("I agree to share {what} with {recipient}.")}</span>
                    </label>
                }.into_any()
            }}
            <div class="actions">
                {(!missing_recipient).then(|| view! {
                    <button type="button" id="consent-confirm" disabled=move || !agreed.get() on:click=move |_| on_include()>
                        {format!("Include {}", category.label())}
                    </button>
                })}
                <button type="button" class="secondary" id="consent-cancel" on:click=move |_| on_cancel()>"Cancel"</button>
            </div>
        </section>
    }
}

#[component]
fn PreviewView(preview: PreviewData, stale: Signal<bool>) -> impl IntoView {
    let lines = |lines: Vec<PreviewLine>| {
        view! {
            <ul class="rows preview-rows">
                {lines.into_iter().map(|l| view! {
                    <li class="row" class:patient=l.patient_reported>
                        <div class="row-main">
                            <span class="row-title">{l.title}</span>
                            {(!l.detail.is_empty()).then(|| view! { <span class="row-detail">{l.detail}</span> })}
                        </div>
                        <div class="row-meta">
                            {(!l.date.is_empty()).then(|| view! { <time>{l.date}</time> })}
                            <span class="badges">
                                {(!l.source.is_empty()).then(|| view! { <span class="badge file">{l.source}</span> })}
                                {l.patient_reported.then(|| view! { <span class="badge patient">"You added"</span> })}
                            </span>
                        </div>
                    </li>
                }).collect_view()}
            </ul>
        }
    };
    let p = preview;
    view! {
        <div class="share-preview" id="share-preview-panel">
            <h3>"This is exactly what will leave"</h3>
            {move || stale.get().then(|| view! {
                <p class="notice info" role="status" id="preview-stale">"You changed your choices after this preview. Preview again before sharing."</p>
            })}
            <p id="preview-summary">
                {format!(
                    "{} item{} about {}, for {}{}.",
                    p.total,
                    if p.total == 1 { "" } else { "s" },
                    if p.patient.is_empty() { "you".to_string() } else { p.patient.clone() },
                    p.terms.recipient.trim(),
                    if p.sources.is_empty() { String::new() } else { format!(", from {}", p.sources.join(", ")) },
                )}
            </p>
            {(!p.categories.is_empty()).then(|| view! {
                <p class="notice warn" id="preview-sensitive">
                    {format!(
                        "Included by your choice: {}. Its sensitivity labels go with it.",
                        p.categories.iter().map(|c| c.label()).collect::<Vec<_>>().join(", ")
                    )}
                </p>
            })}
            {p.substance_use.then(|| view! {
                <p class="notice warn" id="preview-part2">
                    "The federal notice (42 CFR Part 2) that forbids redisclosure goes with the substance use information."
                </p>
            })}
            {p.sections.into_iter().map(|(title, l)| view! {
                <details class="preview-section">
                    <summary>{format!("{title} ({})", l.len())}</summary>
                    {lines(l)}
                </details>
            }).collect_view()}
            {(!p.supporting.is_empty()).then(|| view! {
                <details class="preview-section">
                    <summary>{format!("Also included because shared items refer to them ({})", p.supporting.len())}</summary>
                    {lines(p.supporting.clone())}
                </details>
            })}
            <p class="muted">
                "Not included: anything withheld above, your notes, and the providers' own texts (the summary describes each item afresh)."
            </p>
        </div>
    }
}

/// Records that the patient took the share away another way (printed, downloaded).
fn note_output(app: AppCtx, id: &str, what: &str) {
    let Some(session) = app.session() else { return };
    let changed = build::update_entry(&mut session.record_mut(), id, |d| {
        if d.outputs.iter().any(|o| o == what) {
            false
        } else {
            d.outputs.push(what.to_string());
            true
        }
    });
    if matches!(changed, Ok(true)) {
        spawn_local(async move {
            if let Err(e) = session.save().await {
                app.say(NoticeKind::Error, vault_error_message(&e));
            }
            app.changed();
        });
    }
}

/// Revokes a share: deletes its file from the share host (for links made there), then marks it
/// revoked and its consent ended, and saves.
async fn revoke_share(app: AppCtx, id: String) -> Result<(), String> {
    let Some(session) = app.session() else {
        return Err("Your vault is locked. Unlock it and try again.".into());
    };
    let detail = session
        .record()
        .share_log()
        .iter()
        .find(|e| e.id == id)
        .and_then(ShareDetail::of)
        .ok_or("This share is not in your share log.")?;
    if detail.kind == ShareKind::Link {
        if let Some(url) = &detail.url {
            build::delete_file(url).await?;
        }
    }
    build::mark_revoked(&mut session.record_mut(), &id, &now_rfc3339())?;
    let saved = session.save().await;
    app.changed();
    saved.map(|_| ()).map_err(|e| {
        format!(
            "The share was revoked, but your vault could not record it yet: {}",
            vault_error_message(&e)
        )
    })
}

#[component]
fn ResultPanel(result: RwSignal<Option<ShareResult>>) -> impl IntoView {
    let app = AppCtx::expect();
    let Some(r) = result.get_untracked() else {
        return ().into_any();
    };
    let id = r.id.clone();
    let id_for_status = id.clone();
    let status = move || {
        app.with_session(|s| {
            s.record()
                .share_log()
                .iter()
                .find(|e| e.id == id_for_status)
                .and_then(ShareDetail::of)
                .map(|d| d.status)
        })
        .flatten()
    };
    let revoked = Memo::new(move |_| status() == Some(ShareStatus::Revoked));
    let error = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);
    let stem = format!("health-summary-{}", &now_rfc3339()[..10]);
    let link = RwSignal::new(r.built.link.clone().zip(r.built.qr.clone()));
    let file_url = RwSignal::new(String::new());

    let download = {
        let id = id.clone();
        let stem = stem.clone();
        move |what: &'static str| {
            let outcome = result.with_untracked(|r| {
                let r = r.as_ref()?;
                Some(match what {
                    "ips-json" => files::download(
                        r.built.ips.as_bytes(),
                        &format!("{stem}.json"),
                        "application/fhir+json",
                    ),
                    "encrypted-file" => files::download(
                        r.built.jwe.as_bytes(),
                        &format!("{stem}.jwe"),
                        "application/jose",
                    ),
                    _ => files::download(
                        phr_share::summary::render_html(&r.doc).as_bytes(),
                        &format!("{stem}.html"),
                        "text/html",
                    ),
                })
            });
            match outcome {
                Some(Ok(())) => note_output(app, &id, what),
                Some(Err(e)) => error.set(Some(format!(
                    "The download could not start ({e}). Try again."
                ))),
                None => {}
            }
        }
    };
    let download_ips = {
        let d = download.clone();
        move |_| d("ips-json")
    };
    let download_jwe = {
        let d = download.clone();
        move |_| d("encrypted-file")
    };
    let download_jwe_again = {
        let d = download.clone();
        move |_| d("encrypted-file")
    };
    let download_html = move |_| download("summary-html");
    let print = {
        let id = id.clone();
        move |_| {
            note_output(app, &id, "printed");
            if let Some(w) = web_sys::window() {
                let _ = w.print();
            }
        }
    };
    let revoke = {
        let id = id.clone();
        move |_| {
            let id = id.clone();
            busy.set(true);
            spawn_local(async move {
                match revoke_share(app, id).await {
                    Ok(()) => {
                        error.set(None);
                        app.say(
                            NoticeKind::Success,
                            "The share is revoked: the link no longer opens.",
                        );
                    }
                    Err(e) => error.set(Some(e)),
                }
                busy.set(false);
            });
        }
    };
    // Without a share host: the patient put the file somewhere and gives its address.
    let make_link = {
        let id = id.clone();
        let terms = r.terms.clone();
        let key = r.built.key;
        let exp = r.built.exp;
        let cache = CatalogCache::new();
        move |ev: leptos::ev::SubmitEvent| {
            ev.prevent_default();
            let url = file_url.get_untracked().trim().to_string();
            let Some(catalog) = untrack(|| cache.get(app)) else {
                return;
            };
            match build::link_for(&url, &key, exp, &terms, &catalog.identity) {
                Ok((l, qr)) => {
                    let Some(session) = app.session() else { return };
                    let updated = build::update_entry(&mut session.record_mut(), &id, |d| {
                        d.url = Some(url.clone());
                        d.link = Some(l.clone());
                        true
                    });
                    if let Err(e) = updated {
                        error.set(Some(e));
                        return;
                    }
                    error.set(None);
                    link.set(Some((l, qr)));
                    crate::pages::item::save_after_change(
                        app,
                        "The link is ready and recorded in your share log.",
                    );
                }
                Err(e) => error.set(Some(e)),
            }
        }
    };
    let recipient = r.terms.recipient.trim().to_string();
    let summary_line = format!(
        "For {} · {} · offered until {} · {} item{}",
        recipient,
        purpose_text(r.terms.purpose),
        crate::format::date(&r.built.expires),
        r.built.items,
        if r.built.items == 1 { "" } else { "s" },
    );
    let doc = r.doc.clone();
    let has_host = r.built.url.is_some();
    // The composer is gone: move focus to the result so keyboard and screen reader users land on it.
    let heading = NodeRef::<leptos::html::H2>::new();
    Effect::new(move |_| {
        if let Some(h) = heading.get() {
            let _ = h.focus();
        }
    });
    view! {
        <section class="card share-result" id="share-result" aria-labelledby="share-result-title">
            <h2 id="share-result-title" tabindex="-1" node_ref=heading>
                {move || if revoked.get() { "This share is revoked" } else { "Your share is ready" }}
            </h2>
            <p id="share-result-summary">{summary_line}</p>
            {r.warning.clone().map(|w| view! { <ErrorBox text=w /> })}
            {move || revoked.get().then(|| view! {
                <p class="notice info" role="status" id="share-revoked">"Revoked: the encrypted file was deleted from the share host, so the link no longer opens."</p>
            })}
            {move || (!revoked.get()).then(|| match link.get() {
                Some((l, qr)) => view! {
                    <div class="share-link-box">
                        <QrCode matrix=qr label="QR code of the link to your health summary" id="share-qr" />
                        <div class="share-link-text">
                            <label class="field">
                                <span>"Link"</span>
                                <input id="share-link" type="text" readonly prop:value=l.clone() />
                            </label>
                            <div class="actions">
                                <button type="button" id="share-copy" on:click={
                                    let l = l.clone();
                                    move |_| {
                                        let l = l.clone();
                                        spawn_local(async move {
                                            if copy_text(&l).await {
                                                app.say(NoticeKind::Success, "The link is copied.");
                                            } else {
                                                app.say(NoticeKind::Error, "The link could not be copied: select it and copy it yourself.");
                                            }
                                        });
                                    }
                                }>"Copy link"</button>
                                <a class="button secondary" id="share-open" href=l.clone() target="_blank" rel="noopener noreferrer">
                                    "Open it as the recipient will"
                                </a>
                            </div>
                            <p class="muted">
                                {format!("Anyone who has this link or QR code can open your summary until you revoke it. Give it only to {recipient}.")}
                            </p>
                        </div>
                    </div>
                }.into_any(),
                None => view! {
                    <div class="share-no-host" id="share-no-host">
                        <p>
                            {if has_host { "" } else { "This app has no share host. " }}
                            "Download the encrypted file, put it on a web server you trust (at an https address that is long and hard to guess), then give its address here to make the link and QR code."
                        </p>
                        <div class="actions">
                            <button type="button" class="secondary" id="share-download-jwe-first" on:click=download_jwe_again.clone()>
                                "Download the encrypted file"
                            </button>
                        </div>
                        <form class="stack" on:submit=make_link.clone()>
                            <label class="field">
                                <span>"Address where you put the file"</span>
                                <input id="share-file-url" type="url" autocomplete="off"
                                    prop:value=move || file_url.get()
                                    on:input=move |ev| file_url.set(event_target_value(&ev)) />
                            </label>
                            <div class="actions"><button type="submit" id="share-make-link">"Make the link"</button></div>
                        </form>
                    </div>
                }.into_any(),
            })}
            {move || error.get().map(|e| view! { <ErrorBox text=e /> })}
            <h3>"Other ways to hand it over"</h3>
            <div class="actions">
                <button type="button" class="secondary" id="share-print" on:click=print>"Print or save as PDF"</button>
                <button type="button" class="secondary" id="share-download-html" on:click=download_html>"Download the printable summary (HTML)"</button>
                <button type="button" class="secondary" id="share-download-ips" on:click=download_ips>"Download as FHIR (IPS JSON)"</button>
                <button type="button" class="secondary" id="share-download-jwe" on:click=download_jwe>"Download the encrypted file"</button>
            </div>
            <div class="actions">
                {move || (!revoked.get()).then(|| view! {
                    <button type="button" class="danger" id="share-revoke" disabled=move || busy.get() on:click=revoke.clone()>
                        "Revoke this share"
                    </button>
                })}
                <button type="button" class="secondary" id="share-new" on:click=move |_| result.set(None)>"Make another share"</button>
            </div>
            <section class="share-document" aria-labelledby="share-document-title">
                <h3 id="share-document-title">"What the recipient will see"</h3>
                <SharedDocument doc=doc />
            </section>
        </section>
    }
    .into_any()
}

/// The share log: every share, newest first, with revoke.
#[component]
fn ShareLog() -> impl IntoView {
    let app = AppCtx::expect();
    let entries = move || {
        app.with_session(|s| {
            let record = s.record();
            let consents: Vec<(String, String, String)> = record
                .consents()
                .filter_map(|c| {
                    let v = c.value();
                    Some((
                        c.id()?.to_string(),
                        v.get("dateTime")?.as_str()?.to_string(),
                        v.get("status")?.as_str()?.to_string(),
                    ))
                })
                .collect();
            record
                .share_log()
                .iter()
                .rev()
                .filter_map(|e| {
                    let d = ShareDetail::of(e)?;
                    let consent = d
                        .consent_id
                        .as_ref()
                        .and_then(|id| consents.iter().find(|c| &c.0 == id))
                        .map(|c| (c.1.clone(), c.2.clone()));
                    Some((e.id.clone(), e.created_at.clone(), d, consent))
                })
                .collect::<Vec<_>>()
        })
    };
    view! {
        <section class="card share-log" id="share-log" aria-labelledby="share-log-title">
            <h2 id="share-log-title">"Shares you have made"</h2>
            <p class="muted">
                "Your own record of what you shared, with whom, why and when. It is kept encrypted in your vault."
            </p>
            {move || entries().map(|list| if list.is_empty() {
                view! { <p class="empty" id="share-log-empty">"You have not shared anything yet."</p> }.into_any()
            } else {
                view! {
                    <ul class="share-log-list">
                        {list.into_iter().map(|(id, created, d, consent)| view! {
                            <LogEntry id=id created=created detail=d consent=consent />
                        }).collect_view()}
                    </ul>
                }.into_any()
            })}
        </section>
    }
}

#[component]
fn LogEntry(
    id: String,
    created: String,
    detail: ShareDetail,
    consent: Option<(String, String)>,
) -> impl IntoView {
    let app = AppCtx::expect();
    let error = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);
    let now = now_rfc3339();
    let expired = detail.expired(&now);
    let (status_word, status_text) = match (detail.status, expired) {
        (ShareStatus::Revoked, _) => ("revoked", "revoked".to_string()),
        (ShareStatus::Active, true) if detail.kind == ShareKind::Link => (
            "expired",
            "expired: revoke it to delete the file".to_string(),
        ),
        (ShareStatus::Active, true) => ("expired", "expired".to_string()),
        (ShareStatus::Active, false) if detail.kind == ShareKind::File && detail.url.is_none() => {
            ("active", "encrypted file made".to_string())
        }
        (ShareStatus::Active, false) => ("active", "active".to_string()),
    };
    let active = detail.status == ShareStatus::Active;
    let revoke = {
        let id = id.clone();
        move |_| {
            let id = id.clone();
            busy.set(true);
            spawn_local(async move {
                match revoke_share(app, id).await {
                    Ok(()) => app.say(
                        NoticeKind::Success,
                        "The share is revoked: the link no longer opens.",
                    ),
                    Err(e) => error.set(Some(e)),
                }
                busy.set(false);
            });
        }
    };
    let sections = Section::ALL
        .into_iter()
        .filter(|s| detail.sections.contains(s))
        .map(|s| s.title())
        .collect::<Vec<_>>()
        .join(", ");
    let categories = if detail.categories.is_empty() {
        "None: all withheld".to_string()
    } else {
        detail
            .categories
            .iter()
            .map(|c| c.label())
            .collect::<Vec<_>>()
            .join(", ")
    };
    let outputs = detail
        .outputs
        .iter()
        .map(|o| match o.as_str() {
            "ips-json" => "downloaded as FHIR",
            "encrypted-file" => "encrypted file downloaded",
            "summary-html" => "printable summary downloaded",
            "printed" => "printed",
            _ => "other",
        })
        .collect::<Vec<_>>()
        .join(", ");
    let recipient = detail.recipient.clone();
    view! {
        <li class="share-entry" data-status=status_word data-share-id=id.clone()>
            <h3>
                <span class="share-recipient">{detail.recipient.clone()}</span>
                " "
                <span class="status-tag share-status">{status_text}</span>
            </h3>
            <dl class="facts compact">
                <dt>"Shared"</dt><dd>{crate::format::date_time(&created)}</dd>
                <dt>"Why"</dt><dd>{purpose_text(detail.purpose)}</dd>
                <dt>"Sections"</dt><dd>{sections}</dd>
                <dt>"Sensitive information"</dt><dd class="share-categories">{categories}</dd>
                <dt>"Items"</dt><dd>{detail.items}</dd>
                {detail.expires.clone().map(|e| view! { <dt>"Offered until"</dt><dd>{crate::format::date_time(&e)}</dd> })}
                {consent.map(|(at, status)| view! {
                    <dt>"Your consent"</dt>
                    <dd class="share-consent">
                        {format!("recorded {}; {}", crate::format::date_time(&at), if status == "active" { "in force" } else { "ended" })}
                    </dd>
                })}
                {detail.revoked_at.clone().map(|r| view! { <dt>"Revoked"</dt><dd>{crate::format::date_time(&r)}</dd> })}
                {(!outputs.is_empty()).then(|| view! { <dt>"Also"</dt><dd>{outputs}</dd> })}
            </dl>
            {(active && detail.link.is_some()).then(|| {
                let l = detail.link.clone().unwrap_or_default();
                view! {
                    <details class="share-again">
                        <summary>"Show the link and QR code again"</summary>
                        <QrOf data=l.clone() label=format!("QR code of the link shared with {recipient}") id=format!("qr-{id}") />
                        <label class="field">
                            <span>"Link"</span>
                            <input type="text" readonly prop:value=l />
                        </label>
                    </details>
                }
            })}
            <div class="actions">
                {(active && detail.kind == ShareKind::Link).then(|| view! {
                    <button type="button" class="danger share-revoke" disabled=move || busy.get() on:click=revoke.clone()
                        aria-label=format!("Revoke the share with {}", detail.recipient)>
                        "Revoke"
                    </button>
                })}
                {(active && detail.kind == ShareKind::File).then(|| view! {
                    <button type="button" class="secondary share-revoke" disabled=move || busy.get() on:click=revoke.clone()>
                        "I deleted the file: mark it revoked"
                    </button>
                })}
            </div>
            {move || error.get().map(|e| view! { <ErrorBox text=e /> })}
        </li>
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;
    use wasm_bindgen_test::wasm_bindgen_test;

    #[wasm_bindgen_test]
    fn section_slugs_are_stable() {
        assert_eq!(section_slug(Section::Problems), "problems");
        assert_eq!(section_slug(Section::VitalSigns), "vital-signs");
        let all: BTreeSet<String> = Section::ALL.into_iter().map(section_slug).collect();
        assert_eq!(all.len(), Section::ALL.len());
    }
}

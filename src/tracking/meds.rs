//! Medications the patient takes: today's doses (taken / skipped), the list with its schedules,
//! weekly adherence, and the form to add a medication or change its schedule.

use leptos::prelude::*;
use phr_record::patient::{
    self, DoseAmount, DoseLogInput, DoseOutcome, DoseSchedule, DoseSlot, MedicationInput,
    MedicationStatus, Weekday,
};
use phr_record::EntryKey;
use phr_views::adherence::{DoseStatus, SlotTiming};

use super::data::{AsNeededDose, DoseView, Med, Tracking};
use super::forms::{number, optional, Field, Select};
use super::zone::{day_text, now_local, time_text, today_text};
use super::{authoring_edit, authoring_new, focus_first_later, focus_later, put_and_save};
use crate::components::{ConfirmDelete, ErrorBox};
use crate::state::{AppCtx, NoticeKind};

/// Units a dose can be in: (shown, UCUM code).
const DOSE_UNITS: &[(&str, &str)] = &[
    ("tablet", "{tbl}"),
    ("capsule", "{capsule}"),
    ("mg", "mg"),
    ("mcg", "ug"),
    ("g", "g"),
    ("mL", "mL"),
    ("drop", "[drp]"),
    ("IU", "[iU]"),
    ("puff", "{puff}"),
];

fn dose_id(med: &Med, dose: &DoseView) -> String {
    format!(
        "dose-{}-{}-{}",
        med.id,
        dose.dose.slot.day,
        time_text(dose.dose.slot.time).replace(':', "")
    )
}

fn status_text(d: &DoseView) -> String {
    let at = d.answered_at.clone().unwrap_or_default();
    match d.dose.status {
        DoseStatus::Taken => format!("Taken (logged {at})"),
        DoseStatus::Skipped => format!("Skipped (logged {at})"),
        DoseStatus::Missed => "Not logged".into(),
        DoseStatus::Due => "Due now".into(),
        DoseStatus::Upcoming => "Later today".into(),
    }
}

fn status_class(s: DoseStatus) -> &'static str {
    match s {
        DoseStatus::Taken => "dose-status taken",
        DoseStatus::Skipped => "dose-status skipped",
        DoseStatus::Missed => "dose-status missed",
        DoseStatus::Due => "dose-status due",
        DoseStatus::Upcoming => "dose-status upcoming",
    }
}

/// Records a dose as taken or skipped (re-answering edits the same log entry).
fn answer(app: AppCtx, med: &Med, dose: &DoseView, taken: bool) {
    let Some(session) = app.session() else { return };
    let at = now_local();
    let auth = match dose.entry_key.as_ref().and_then(|k| k.resource.id()) {
        Some(id) => authoring_edit(&session, id),
        None => authoring_new(&session),
    };
    let input = DoseLogInput {
        medication: med.concept.clone(),
        regimen: med.reference.clone(),
        slot: Some(DoseSlot {
            date: dose.dose.slot.day.to_string(),
            time_of_day: time_text(dose.dose.slot.time),
        }),
        outcome: if taken {
            DoseOutcome::Taken { at }
        } else {
            DoseOutcome::Skipped { at, reason: None }
        },
        dose: med.input.schedule.dose.clone(),
        note: None,
    };
    let when = time_text(dose.dose.slot.time);
    let done = format!(
        "{} at {when}: {}.",
        med.input.name,
        if taken { "taken" } else { "skipped" }
    );
    if put_and_save(app, patient::dose_log_entry(&auth, &input), done) {
        focus_first_later(vec![
            format!("{}-undo", dose_id(med, dose)),
            "unlogged-doses-summary".into(),
            "today-doses-title".into(),
        ]);
    }
}

/// Logs a dose of an as-needed medication, taken now.
fn took_as_needed(app: AppCtx, med: &Med) {
    let Some(session) = app.session() else { return };
    let at = now_local();
    let input = DoseLogInput {
        medication: med.concept.clone(),
        regimen: med.reference.clone(),
        slot: None,
        outcome: DoseOutcome::Taken { at: at.clone() },
        dose: med.input.schedule.dose.clone(),
        note: None,
    };
    let auth = authoring_new(&session);
    let done = format!("{}: dose taken at {}.", med.input.name, time_of(&at));
    if put_and_save(app, patient::dose_log_entry(&auth, &input), done) {
        focus_later(format!("med-{}-took-now", med.id));
    }
}

/// `14:05` from `2026-11-21T14:05:00+01:00`.
fn time_of(rfc3339: &str) -> &str {
    rfc3339.get(11..16).unwrap_or(rfc3339)
}

/// Deletes one dose-log entry, saves, says `done` and moves focus to `focus`.
fn unlog(app: AppCtx, key: Option<EntryKey>, done: String, focus: String) {
    let Some(session) = app.session() else { return };
    let Some(key) = key else { return };
    let result = session.record_mut().delete_patient_item(&key);
    match result {
        Ok(_) => {
            super::save(app, done);
            focus_later(focus);
        }
        Err(e) => app.say(NoticeKind::Error, format!("Not changed: {e}")),
    }
}

/// Removes an as-needed dose logged by mistake.
fn remove_as_needed(app: AppCtx, med: &Med, dose: &AsNeededDose) {
    unlog(
        app,
        dose.entry_key.clone(),
        format!(
            "{}: the dose at {} is no longer logged.",
            med.input.name, dose.when
        ),
        format!("med-{}-took-now", med.id),
    );
}

/// An as-needed medication: log a dose now; the doses of the last seven days.
#[component]
fn AsNeeded(med: Med, active: bool) -> impl IntoView {
    let app = AppCtx::expect();
    let count = med.as_needed.len();
    let summary = match count {
        0 => "No doses logged in the last 7 days.".to_string(),
        1 => "1 dose in the last 7 days.".to_string(),
        n => format!("{n} doses in the last 7 days."),
    };
    let m_took = med.clone();
    let list_label = format!("Recent doses of {}", med.input.name);
    view! {
        <div class="as-needed">
            {active.then(|| view! {
                <button type="button" id=format!("med-{}-took-now", med.id)
                    on:click=move |_| took_as_needed(app, &m_took)>
                    "Took a dose now"<span class="visually-hidden">{format!(" for {}", med.input.name)}</span>
                </button>
            })}
            <p class="muted" id=format!("med-{}-as-needed-count", med.id)>{summary}</p>
            {(count > 0).then(|| view! {
                <ul class="as-needed-doses" aria-label=list_label>
                    {med.as_needed.iter().take(5).map(|d| {
                        let (m, dd) = (med.clone(), d.clone());
                        view! {
                            <li>
                                <span class="when">{format!("Taken {}", d.when)}</span>
                                " "
                                <button type="button" class="link-button"
                                    on:click=move |_| remove_as_needed(app, &m, &dd)>
                                    "Remove"<span class="visually-hidden">{format!(" the dose at {}", d.when)}</span>
                                </button>
                            </li>
                        }
                    }).collect_view()}
                </ul>
            })}
        </div>
    }
}

fn undo(app: AppCtx, med: &Med, dose: &DoseView) {
    unlog(
        app,
        dose.entry_key.clone(),
        format!(
            "{} at {}: no longer logged.",
            med.input.name,
            time_text(dose.dose.slot.time)
        ),
        format!("{}-taken", dose_id(med, dose)),
    );
}

/// One scheduled dose with big Taken / Skipped buttons.
#[component]
fn DoseRow(med: Med, dose: DoseView, #[prop(optional)] show_day: bool) -> impl IntoView {
    let app = AppCtx::expect();
    let id = dose_id(&med, &dose);
    let time = time_text(dose.dose.slot.time);
    let name = med.input.name.clone();
    let context = if show_day {
        format!("{name}, {} at {time}", day_text(dose.dose.slot.day))
    } else {
        format!("{name} at {time}")
    };
    let amount = med.input.schedule.dose.as_ref().map(|d| d.text());
    let status = dose.dose.status;
    let answered = matches!(status, DoseStatus::Taken | DoseStatus::Skipped);
    let later = |seconds: i64| {
        let minutes = seconds / 60;
        if minutes % 60 == 0 && minutes >= 120 {
            format!("{} hours", minutes / 60)
        } else if minutes == 60 {
            "1 hour".to_string()
        } else {
            format!("{minutes} minutes")
        }
    };
    // Said while it matters: before the dose is answered.
    let timing = match dose.dose.timing {
        _ if answered => None,
        SlotTiming::ShiftedForward { seconds } => Some(format!(
            "The clock skips {time} today (a daylight-saving or time-zone change): this dose is due {} later.",
            later(seconds)
        )),
        SlotTiming::FirstOfRepeated => Some(format!(
            "The clock passes {time} twice today (a daylight-saving or time-zone change): this is one dose, due the first time."
        )),
        SlotTiming::Normal => None,
    };
    let (m1, d1, m2, d2, m3, d3) = (
        med.clone(),
        dose.clone(),
        med.clone(),
        dose.clone(),
        med.clone(),
        dose.clone(),
    );
    view! {
        <li class="dose" class:answered=answered id=id.clone()>
            <div class="dose-when">
                {show_day.then(|| view! { <span class="dose-day">{day_text(dose.dose.slot.day)}</span> })}
                <span class="dose-time">{time.clone()}</span>
            </div>
            <div class="dose-what">
                <span class="dose-name">{name.clone()}</span>
                {amount.map(|a| view! { <span class="muted">{a}</span> })}
                <span class=status_class(status)>{status_text(&dose)}</span>
                {timing.map(|t| view! { <span class="dose-note">{t}</span> })}
            </div>
            <div class="dose-actions" role="group" aria-label=context.clone()>
                <button
                    type="button"
                    class="dose-button taken"
                    id=format!("{id}-taken")
                    aria-pressed=(status == DoseStatus::Taken).to_string()
                    on:click=move |_| answer(app, &m1, &d1, true)
                >
                    "Taken"<span class="visually-hidden">{format!(": {context}")}</span>
                </button>
                <button
                    type="button"
                    class="dose-button skipped secondary"
                    id=format!("{id}-skipped")
                    aria-pressed=(status == DoseStatus::Skipped).to_string()
                    on:click=move |_| answer(app, &m2, &d2, false)
                >
                    "Skipped"<span class="visually-hidden">{format!(": {context}")}</span>
                </button>
                {answered.then(|| view! {
                    <button type="button" class="link-button" id=format!("{id}-undo") on:click=move |_| undo(app, &m3, &d3)>
                        "Undo"<span class="visually-hidden">{format!(": {context}")}</span>
                    </button>
                })}
            </div>
        </li>
    }
}

/// Today's doses of every medication, in time order, and the doses of the past week that were
/// not logged.
#[component]
pub fn TodayDoses(data: Memo<Option<Tracking>>) -> impl IntoView {
    let rows = Memo::new(move |_| {
        data.with(|t| {
            let Some(t) = t else { return Vec::new() };
            let mut rows: Vec<(Med, DoseView)> = t
                .meds
                .iter()
                .flat_map(|m| m.today.iter().map(move |d| (m.clone(), d.clone())))
                .collect();
            rows.sort_by(|a, b| {
                (a.1.dose.due, a.0.input.name.to_lowercase())
                    .cmp(&(b.1.dose.due, b.0.input.name.to_lowercase()))
            });
            rows
        })
    });
    let earlier = Memo::new(move |_| {
        data.with(|t| {
            let Some(t) = t else { return Vec::new() };
            let mut earlier: Vec<(Med, DoseView)> = t
                .meds
                .iter()
                .flat_map(|m| m.unlogged.iter().map(move |d| (m.clone(), d.clone())))
                .collect();
            earlier.sort_by_key(|(_, d)| std::cmp::Reverse(d.dose.due));
            earlier
        })
    });
    let day = Memo::new(move |_| data.with(|t| t.as_ref().map(|t| t.today)));
    let any_meds =
        Memo::new(move |_| data.with(|t| t.as_ref().is_some_and(|t| !t.meds.is_empty())));
    view! {
        <section class="card tracking-section" id="today-doses" aria-labelledby="today-doses-title">
            <h2 id="today-doses-title" tabindex="-1">
                "Today's doses"
                {move || day.get().map(|d| view! { <span class="muted">{format!(" · {}", day_text(d))}</span> })}
            </h2>
            <Show
                when=move || rows.with(Vec::is_empty)
                fallback=move || view! {
                    <ul class="doses" id="today-dose-list">
                        <For
                            each=move || rows.get()
                            key=|(m, d)| (m.id.clone(), d.dose.slot, d.dose.status, d.answered_at.clone(), d.dose.timing, m.input.name.clone())
                            children=|(m, d)| view! { <DoseRow med=m dose=d /> }
                        />
                    </ul>
                }
            >
                <p class="empty">
                    {move || if any_meds.get() { "No doses scheduled for today." } else { "Add a medication or supplement below to track its doses." }}
                </p>
            </Show>
            <Show when=move || !earlier.with(Vec::is_empty)>
                <details class="unlogged" id="unlogged-doses">
                    <summary id="unlogged-doses-summary">{move || {
                        let n = earlier.with(Vec::len);
                        format!("{n} dose{} of the past week not logged", if n == 1 { "" } else { "s" })
                    }}</summary>
                    <p class="muted">"If you took or skipped one of these, you can still say so."</p>
                    <ul class="doses" id="unlogged-dose-list">
                        <For
                            each=move || earlier.get()
                            key=|(m, d)| (m.id.clone(), d.dose.slot, d.dose.status, m.input.name.clone())
                            children=|(m, d)| view! { <DoseRow med=m dose=d show_day=true /> }
                        />
                    </ul>
                </details>
            </Show>
        </section>
    }
}

fn percent_text(s: &phr_views::adherence::AdherenceStats) -> String {
    match s.percent {
        Some(p) => format!("{p}%"),
        None => "—".into(),
    }
}

/// Adherence by week: this week and the previous ones.
#[component]
fn AdherenceTable(med: Med) -> impl IntoView {
    let caption = format!("Doses of {} by week", med.input.name);
    let this_week = med.weeks.first().map(|(_, s)| *s);
    let summary = this_week.map(|s| match s.percent {
        Some(p) => format!(
            "This week: {p}% taken ({} of {} dose{} due so far{}).",
            s.taken,
            s.counted,
            if s.counted == 1 { "" } else { "s" },
            if s.skipped > 0 {
                format!("; {} skipped", s.skipped)
            } else {
                String::new()
            }
        ),
        None => "This week: no dose due yet.".into(),
    });
    view! {
        <p class="adherence-summary" id=format!("adherence-{}", med.id)>{summary}</p>
        <details class="adherence-weeks">
            <summary>"Earlier weeks"</summary>
            <table class="data-table">
                <caption class="visually-hidden">{caption}</caption>
                <thead>
                    <tr>
                        <th scope="col">"Week"</th>
                        <th scope="col">"Taken"</th>
                        <th scope="col">"Skipped"</th>
                        <th scope="col">"Not logged"</th>
                        <th scope="col">"Taken of doses due"</th>
                    </tr>
                </thead>
                <tbody>
                    {med.weeks.iter().enumerate().map(|(i, (start, s))| view! {
                        <tr>
                            <th scope="row">{if i == 0 { format!("This week (from {})", day_text(*start)) } else { format!("From {}", day_text(*start)) }}</th>
                            <td>{s.taken}</td>
                            <td>{s.skipped}</td>
                            <td>{s.missed + s.due}</td>
                            <td>{percent_text(s)}</td>
                        </tr>
                    }).collect_view()}
                </tbody>
            </table>
        </details>
    }
}

/// One medication with its schedule, adherence and actions.
#[component]
fn MedCard(med: Med, editing: RwSignal<Option<Option<Med>>>) -> impl IntoView {
    let app = AppCtx::expect();
    let confirm_delete = RwSignal::new(false);
    let active = med.is_active();
    let status = match med.input.status {
        MedicationStatus::Active => None,
        MedicationStatus::OnHold => Some("on hold"),
        MedicationStatus::Stopped => Some("stopped"),
    };
    let (m_edit, m_stop, m_delete) = (med.clone(), med.clone(), med.clone());
    let title_id = format!("med-{}-title", med.id);
    let stop = move |_| {
        let Some(session) = app.session() else { return };
        let mut input = m_stop.input.clone();
        let now = now_local();
        let done;
        if input.status == MedicationStatus::Stopped {
            // Taking it again: the schedule before the stop is kept for the weeks it covered.
            let mut earlier = input.schedule.clone();
            earlier.until = input.stopped.clone().or_else(|| Some(now.clone()));
            if !earlier.times_of_day.is_empty() && earlier.from.is_some() {
                input.earlier_schedules.insert(0, earlier);
            }
            input.schedule.from = Some(now);
            input.schedule.until = None;
            input.stopped = None;
            input.status = MedicationStatus::Active;
            done = format!("{}: taking it again.", input.name);
        } else {
            input.status = MedicationStatus::Stopped;
            input.stopped = Some(now);
            done = format!("{}: stopped. Its dose history is kept.", input.name);
        }
        let auth = authoring_edit(&session, &m_stop.id);
        put_and_save(app, patient::medication_statement(&auth, &input), done);
    };
    let delete = move |_| {
        let Some(session) = app.session() else { return };
        let mut failed = None;
        {
            let mut record = session.record_mut();
            for k in &m_delete.log_keys {
                if let Err(e) = record.delete_patient_item(k) {
                    failed = Some(e);
                }
            }
            if let Err(e) = record.delete_patient_item(&m_delete.key) {
                failed = Some(e);
            }
        }
        match failed {
            None => super::save(
                app,
                format!("{} and its dose log were deleted.", m_delete.input.name),
            ),
            Some(e) => {
                app.say(
                    NoticeKind::Error,
                    format!("Not everything was deleted: {e}"),
                );
                app.changed();
            }
        }
    };
    let entries = med.log_keys.len();
    view! {
        <li class="card med" id=format!("med-{}", med.id) aria-labelledby=title_id.clone()>
            <div class="med-head">
                <h3 id=title_id.clone()>{med.input.name.clone()}</h3>
                <span class="badges">
                    <span class="badge patient" title="Entered by you: not verified by a clinician">"You added"</span>
                    {status.map(|s| view! { <span class="status-tag">{s}</span> })}
                </span>
            </div>
            <p class="med-schedule">{med.schedule_text.clone()}</p>
            {med.input.based_on.is_some().then(|| view! {
                <p class="muted based-on">
                    "Your own tracking of a prescription from your provider. "
                    {med.prescription.clone().map(|k| view! {
                        <a href=crate::route::Route::Item(k).href()>
                            "See the prescription"<span class="visually-hidden">{format!(" of {}", med.input.name)}</span>
                        </a>
                    })}
                </p>
            })}
            {med.input.reason.clone().map(|r| view! { <p class="muted">{format!("For: {r}")}</p> })}
            {med.input.started.clone().map(|s| view! { <p class="muted">{format!("Started {}", crate::format::date(&s))}</p> })}
            {if med.input.schedule.as_needed && med.input.schedule.times_of_day.is_empty() {
                view! { <AsNeeded med=med.clone() active=active /> }.into_any()
            } else {
                med.untracked.clone().map(|u| view! { <p class="muted">{format!("Doses are not tracked: {u}.")}</p> }).into_any()
            }}
            {(med.untracked.is_none() && !med.weeks.is_empty()).then(|| view! { <AdherenceTable med=med.clone() /> })}
            {(med.unmatched > 0).then(|| view! {
                <p class="muted">{format!("{} logged dose(s) this past week match no scheduled dose and are not counted.", med.unmatched)}</p>
            })}
            <div class="actions">
                {active.then(|| view! {
                    <button type="button" class="secondary" id=format!("med-{}-edit", med.id)
                        on:click=move |_| {
                            editing.set(Some(Some(m_edit.clone())));
                            focus_later("med-name".into());
                        }>
                        "Change schedule"<span class="visually-hidden">{format!(" of {}", med.input.name)}</span>
                    </button>
                })}
                <button type="button" class="secondary" id=format!("med-{}-stop", med.id) on:click=stop>
                    {if active { "Stopped taking it" } else { "Taking it again" }}
                    <span class="visually-hidden">{format!(": {}", med.input.name)}</span>
                </button>
                <button type="button" class="link-button" aria-expanded=move || confirm_delete.get().to_string()
                    on:click=move |_| confirm_delete.update(|c| *c = !*c)>
                    "Delete"<span class="visually-hidden">{format!(" {}", med.input.name)}</span>
                </button>
            </div>
            <ConfirmDelete open=confirm_delete on_delete=delete
                message=format!("Delete {} and its {} dose-log entr{}? This cannot be undone. To keep the history, choose \u{201c}Stopped taking it\u{201d} instead.",
                    med.input.name, entries, if entries == 1 { "y" } else { "ies" }) />
        </li>
    }
}

/// The patient's medications and the add/change form.
#[component]
pub fn Medications(
    data: Memo<Option<Tracking>>,
    /// The item key of a provider's prescription to track: the form opens filled in from it.
    #[prop(default = None)]
    prescription: Option<String>,
) -> impl IntoView {
    let app = AppCtx::expect();
    // None: no form; Some(None): adding; Some(Some(med)): changing that medication.
    let editing = RwSignal::new(None::<Option<Med>>);
    // What an added medication starts from (a prescription), if anything.
    let prefill = RwSignal::new(None::<MedicationInput>);
    // The name under which the patient already tracks that prescription.
    let mut already = None::<String>;
    if let Some(key) = prescription {
        let found = app
            .with_session(|s| {
                let index = s.index();
                super::data::prescription(&s.record(), Some(&index), &key)
            })
            .flatten();
        match found {
            Some(p) => match p.tracked_as {
                Some(name) => already = Some(name),
                None => {
                    prefill.set(Some(p.input));
                    editing.set(Some(None));
                    focus_later("med-form-title".into());
                }
            },
            None => app.say(
                NoticeKind::Error,
                "That prescription is not in your record any more, so it cannot be tracked.",
            ),
        }
    }
    let meds =
        Memo::new(move |_| data.with(|t| t.as_ref().map(|t| t.meds.clone()).unwrap_or_default()));
    view! {
        <section class="card tracking-section" id="my-medications" aria-labelledby="my-medications-title">
            <h2 id="my-medications-title" tabindex="-1">"My medications and supplements"</h2>
            <p class="muted">"Medicines you take that you add yourself (over the counter, supplements). Your providers' prescriptions are in your record; open one there and choose \u{201c}Track my doses\u{201d} to log its doses here."</p>
            {already.map(|name| view! {
                <p class="notice info" id="prescription-tracked">
                    {format!("You already track the doses of this prescription, as \u{201c}{name}\u{201d} below.")}
                </p>
            })}
            <Show when=move || meds.with(Vec::is_empty)>
                <p class="empty">"None added yet."</p>
            </Show>
            <ul class="med-list">
                <For
                    each=move || meds.get()
                    key=|m| format!("{m:?}")
                    children=move |m| view! { <MedCard med=m editing=editing /> }
                />
            </ul>
            {move || match editing.get() {
                None => view! {
                    <div class="actions">
                        <button type="button" id="add-medication" on:click=move |_| {
                            prefill.set(None);
                            editing.set(Some(None));
                            focus_later("med-name".into());
                        }>
                            "Add a medication or supplement"
                        </button>
                    </div>
                }.into_any(),
                Some(med) => view! { <MedForm med=med editing=editing prefill=prefill.get_untracked() /> }.into_any(),
            }}
        </section>
    }
}

/// Adds a medication, or changes one (its schedule, dose, reason).
#[component]
fn MedForm(
    med: Option<Med>,
    editing: RwSignal<Option<Option<Med>>>,
    /// For a new medication: what it starts from (a provider's prescription).
    #[prop(default = None)]
    prefill: Option<MedicationInput>,
) -> impl IntoView {
    let app = AppCtx::expect();
    let is_edit = med.is_some();
    let from_prescription = !is_edit && prefill.as_ref().is_some_and(|p| p.based_on.is_some());
    let instructions = prefill
        .as_ref()
        .filter(|_| from_prescription)
        .and_then(|p| p.schedule.text.clone());
    let input = med.as_ref().map(|m| m.input.clone()).or(prefill);
    let sched = input
        .as_ref()
        .map(|i| i.schedule.clone())
        .unwrap_or_default();
    let name = RwSignal::new(input.as_ref().map(|i| i.name.clone()).unwrap_or_default());
    let amount = RwSignal::new(
        sched
            .dose
            .as_ref()
            .map(|d| d.value.clone())
            .unwrap_or_else(|| "1".into()),
    );
    let unit = RwSignal::new(
        sched
            .dose
            .as_ref()
            .map(|d| d.unit.clone())
            .unwrap_or_else(|| "tablet".into()),
    );
    let times: RwSignal<Vec<(u32, RwSignal<String>)>> = RwSignal::new(
        if sched.times_of_day.is_empty() && !is_edit {
            // A prescription's "twice a day" becomes times to choose from.
            match sched.times_per_day {
                Some(2) => vec!["08:00".to_string(), "20:00".to_string()],
                Some(3) => vec!["08:00".into(), "14:00".into(), "20:00".into()],
                Some(4) => vec![
                    "08:00".into(),
                    "12:00".into(),
                    "16:00".into(),
                    "20:00".into(),
                ],
                _ => vec!["08:00".to_string()],
            }
        } else {
            sched
                .times_of_day
                .iter()
                .map(|t| t[..5].to_string())
                .collect()
        }
        .into_iter()
        .enumerate()
        .map(|(i, t)| (i as u32, RwSignal::new(t)))
        .collect(),
    );
    let next_time = StoredValue::new(times.get_untracked().len() as u32);
    let days: Vec<(Weekday, RwSignal<bool>)> = Weekday::ALL
        .iter()
        .map(|d| (*d, RwSignal::new(sched.days_of_week.contains(d))))
        .collect();
    let as_needed = RwSignal::new(sched.as_needed && sched.times_of_day.is_empty());
    let started = RwSignal::new(
        input
            .as_ref()
            .and_then(|i| i.started.clone())
            .map(|s| crate::format::date(&s))
            .unwrap_or_else(today_text),
    );
    let reason = RwSignal::new(
        input
            .as_ref()
            .and_then(|i| i.reason.clone())
            .unwrap_or_default(),
    );
    let error = RwSignal::new(None::<String>);
    let heading = match (&med, &input) {
        (Some(m), _) => format!("Change {}", m.input.name),
        (None, Some(p)) if from_prescription => format!("Track my doses of {}", p.name),
        _ => "Add a medication or supplement".to_string(),
    };
    let days_for_submit = days.clone();
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let Some(session) = app.session() else { return };
        let result = (|| -> Result<MedicationInput, String> {
            let name = optional(&name.get_untracked())
                .ok_or("Enter the name of the medication or supplement.")?;
            let amount = number(&amount.get_untracked(), "The amount per dose")?;
            let unit_text = unit.get_untracked();
            let dose = amount.map(|value| DoseAmount {
                value,
                ucum: DOSE_UNITS
                    .iter()
                    .find(|(u, _)| *u == unit_text)
                    .map(|(_, c)| c.to_string()),
                unit: unit_text.clone(),
            });
            let needed = as_needed.get_untracked();
            let mut times_of_day: Vec<String> = Vec::new();
            if !needed {
                for (_, t) in times.get_untracked() {
                    let t = t.get_untracked();
                    if t.trim().is_empty() {
                        continue;
                    }
                    let n = phr_record::time::normalize_time_of_day(&t).ok_or_else(|| {
                        format!("\u{201c}{t}\u{201d} is not a time of day, like 08:00.")
                    })?;
                    times_of_day.push(n);
                }
                if times_of_day.is_empty() {
                    return Err("Add at least one time you take it, or tick \u{201c}Only when needed\u{201d}.".into());
                }
            }
            times_of_day.sort();
            times_of_day.dedup();
            let mut days_of_week: Vec<Weekday> = days_for_submit
                .iter()
                .filter(|(_, on)| on.get_untracked())
                .map(|(d, _)| *d)
                .collect();
            if days_of_week.len() == 7 {
                days_of_week.clear();
            }
            let started = optional(&started.get_untracked());
            if let Some(s) = &started {
                if !phr_record::time::is_full_date(s) {
                    return Err("The start date must be a date, like 2024-05-01.".into());
                }
            }
            let now = now_local();
            let mut out = match &input {
                Some(i) => i.clone(),
                None => MedicationInput {
                    name: String::new(),
                    coding: vec![],
                    status: MedicationStatus::Active,
                    started: None,
                    stopped: None,
                    schedule: DoseSchedule::default(),
                    earlier_schedules: vec![],
                    reason: None,
                    note: None,
                    based_on: None,
                },
            };
            let old = out.schedule.clone();
            let timing_changed = old.times_of_day != times_of_day
                || {
                    let mut a = old.days_of_week.clone();
                    a.sort();
                    a != days_of_week
                }
                || old.as_needed != needed;
            out.name = name;
            out.started = started;
            out.reason = optional(&reason.get_untracked());
            out.schedule = DoseSchedule {
                dose,
                times_of_day,
                days_of_week,
                times_per_day: None,
                as_needed: needed,
                // The patient's own words would no longer match changed times (and a
                // prescription's wording is the prescription's, not the patient's).
                text: if !is_edit || timing_changed {
                    None
                } else {
                    old.text.clone()
                },
                from: if !is_edit || timing_changed {
                    // Doses are counted from now: not from when the medication was started.
                    Some(now.clone())
                } else {
                    old.from.clone()
                },
                until: None,
            };
            if is_edit && timing_changed && !old.times_of_day.is_empty() {
                // The old times still apply to the days before this change.
                let mut earlier = old;
                earlier.until = Some(now);
                if earlier.from.is_some() {
                    out.earlier_schedules.insert(0, earlier);
                }
            }
            Ok(out)
        })();
        let out = match result {
            Ok(o) => o,
            Err(e) => {
                error.set(Some(e));
                return;
            }
        };
        let auth = match &med {
            Some(m) => authoring_edit(&session, &m.id),
            None => authoring_new(&session),
        };
        let done = if is_edit {
            format!("{}: changes saved.", out.name)
        } else {
            format!("{} was added.", out.name)
        };
        if put_and_save(app, patient::medication_statement(&auth, &out), done) {
            error.set(None);
            editing.set(None);
            focus_later("my-medications-title".into());
        }
    };
    let add_time = move |_| {
        let n = next_time.get_value();
        next_time.set_value(n + 1);
        times.update(|t| t.push((n, RwSignal::new(String::new()))));
        focus_later(format!("med-time-{n}"));
    };
    view! {
        <form class="stack med-form" id="med-form" on:submit=submit aria-labelledby="med-form-title">
            <h3 id="med-form-title" tabindex="-1">{heading}</h3>
            {from_prescription.then(|| view! {
                <p class="muted" id="med-form-prescription">
                    {match &instructions {
                        Some(t) => format!("Your provider's prescription says: \u{201c}{t}\u{201d}. "),
                        None => String::new(),
                    }}
                    "Choose the times you take it. The prescription in your record is not changed; \
                     this and the doses you log are marked as added by you."
                </p>
            })}
            <Field id="med-name".into() label="Name" value=name required=true hint="For example: Vitamin D3 1000 IU" />
            <div class="field-row">
                <Field id="med-amount".into() label="Amount per dose" value=amount inputmode="decimal" />
                <Select id="med-unit".into() label="Unit" value=unit options=DOSE_UNITS.iter().map(|(u, _)| (*u, *u)).collect() />
            </div>
            <label class="choice">
                <input type="checkbox" id="med-as-needed" prop:checked=move || as_needed.get()
                    on:change=move |ev| as_needed.set(event_target_checked(&ev)) />
                "Only when needed (no set times)"
            </label>
            <Show when=move || !as_needed.get()>
                <fieldset class="choice-group">
                    <legend>"Times I take it"</legend>
                    <ul class="time-list">
                        <For
                            each=move || times.get()
                            key=|(n, _)| *n
                            children=move |(n, value)| {
                                let id = format!("med-time-{n}");
                                view! {
                                    <li class="with-button">
                                        <label class="visually-hidden" for=id.clone()>{format!("Time {}", n + 1)}</label>
                                        <input type="time" id=id class="med-time" prop:value=move || value.get()
                                            on:input=move |ev| value.set(event_target_value(&ev))
                                            on:change=move |ev| value.set(event_target_value(&ev)) />
                                        <button type="button" class="secondary" on:click=move |_| {
                                            times.update(|t| t.retain(|(m, _)| *m != n));
                                            focus_later("med-add-time".into());
                                        }>
                                            "Remove"<span class="visually-hidden">{move || format!(" the time {}", value.get())}</span>
                                        </button>
                                    </li>
                                }
                            }
                        />
                    </ul>
                    <button type="button" class="secondary" id="med-add-time" on:click=add_time>"Add a time"</button>
                </fieldset>
                <fieldset class="choice-group days">
                    <legend>"Days (leave all unticked for every day)"</legend>
                    {days.iter().map(|(d, on)| {
                        let on = *on;
                        view! {
                            <label class="choice">
                                <input type="checkbox" prop:checked=move || on.get() on:change=move |ev| on.set(event_target_checked(&ev)) />
                                {d.label()}
                            </label>
                        }
                    }).collect_view()}
                </fieldset>
            </Show>
            <Field id="med-started".into() label="Started taking it" value=started kind="date" />
            <Field id="med-reason".into() label="What I take it for (optional)" value=reason />
            {move || error.get().map(|e| view! { <ErrorBox text=e /> })}
            <div class="actions">
                <button type="submit" id="med-save">{if is_edit { "Save changes" } else { "Add" }}</button>
                <button type="button" class="secondary" on:click=move |_| {
                    editing.set(None);
                    focus_later("my-medications-title".into());
                }>"Cancel"</button>
            </div>
            {is_edit.then(|| view! { <p class="muted">"Changing the times keeps your earlier doses counted against the times that applied then."</p> })}
        </form>
    }
}

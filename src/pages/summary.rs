//! The first screen after unlocking: what matters now, and an emergency card.

use leptos::prelude::*;
use phr_views::summary::{self, EmergencyCard, SummaryOptions};

use crate::state::AppCtx;
use crate::views::row::{RowView, Rows};

/// Today in the browser's time zone.
pub fn today() -> phr_views::Day {
    let d = js_sys::Date::new_0();
    phr_views::Day::from_ymd(d.get_full_year() as i32, d.get_month() + 1, d.get_date())
        .unwrap_or_else(|| phr_views::Day::from_ymd(2000, 1, 1).expect("valid date"))
}

/// How many active medications and problems the summary lists before "Show all": a summary is
/// read at a glance, and a record with hundreds of them stays quick to open. Allergies are never
/// shortened.
const SUMMARY_LIMIT: usize = 50;

#[component]
pub fn SummaryPage() -> impl IntoView {
    let app = AppCtx::expect();
    let printing = RwSignal::new(false);
    let data = Memo::new(move |_| {
        let index = app.index()?;
        let contact = app
            .with_session(|s| s.record().settings().emergency_contact.clone())
            .flatten()
            .map(|c| summary::EmergencyContact {
                name: c.name,
                relationship: c.relationship.unwrap_or_default(),
                phone: c.phone,
                patient_entered: true,
            });
        let mut opts = SummaryOptions::new(today());
        opts.emergency_contact = contact;
        let (s, checks) = crate::perf::timed("phr-summary-compute", || {
            (
                summary::summary(&index, &opts),
                phr_views::medcheck::medication_checks(&index),
            )
        });
        Some((s, checks, index.len()))
    });
    // For the benchmark: when the summary is on screen after an unlock.
    request_animation_frame(|| crate::perf::mark("phr-summary-rendered"));

    view! {
        <section class="page summary" class:print-card=move || printing.get() aria-labelledby="summary-title">
            <h1 id="summary-title">"Summary"</h1>
            {move || data.get().map(|(s, checks, total)| {
                if total == 0 {
                    return view! { <EmptyRecord /> }.into_any();
                }
                view! {
                    {(!checks.is_empty()).then(|| view! {
                        <div class="notice warn" id="medication-checks" role="region" aria-label="Medication checks">
                            <h2>"Worth asking your clinician"</h2>
                            <ul>{checks.into_iter().map(|c| view! { <li>{c.message}</li> }).collect_view()}</ul>
                        </div>
                    })}
                    <div class="summary-grid">
                        <SummaryCard title="Allergies" id="summary-allergies">
                            <Rows rows=s.allergies.clone() empty="No known allergies recorded." />
                        </SummaryCard>
                        <SummaryCard title="Medications" id="summary-medications">
                            <Rows rows=s.medications.clone() empty="No active medications recorded." limit=SUMMARY_LIMIT noun="active medications" list_id="summary-medications-list" />
                        </SummaryCard>
                        <SummaryCard title="Problems" id="summary-problems">
                            <Rows rows=s.problems.clone() empty="No active problems recorded." limit=SUMMARY_LIMIT noun="active problems" list_id="summary-problems-list" />
                        </SummaryCard>
                        <SummaryCard title="Recent results" id="summary-results">
                            {if s.recent_results.is_empty() {
                                view! { <p class="empty">"No results yet."</p> }.into_any()
                            } else {
                                view! {
                                    <ul class="rows">
                                        {s.recent_results.iter().map(|r| {
                                            use phr_views::results::RangeFlag;
                                            let flag = match r.flag {
                                                RangeFlag::High => Some("high"),
                                                RangeFlag::Low => Some("low"),
                                                RangeFlag::CriticalHigh => Some("very high"),
                                                RangeFlag::CriticalLow => Some("very low"),
                                                RangeFlag::Abnormal => Some("flagged abnormal"),
                                                _ => None,
                                            };
                                            let extra = match (&r.range, flag) {
                                                (Some(range), Some(f)) => format!("{} ({f}; range {range})", r.value_text),
                                                (Some(range), None) => format!("{} (range {range})", r.value_text),
                                                (None, Some(f)) => format!("{} ({f})", r.value_text),
                                                (None, None) => r.value_text.clone(),
                                            };
                                            view! { <RowView row=r.row.clone() extra=extra /> }
                                        }).collect_view()}
                                    </ul>
                                }.into_any()
                            }}
                        </SummaryCard>
                        <SummaryCard title="Latest vitals" id="summary-vitals">
                            {if s.vitals.is_empty() {
                                view! { <p class="empty">"No vital signs yet."</p> }.into_any()
                            } else {
                                view! {
                                    <ul class="rows">
                                        {s.vitals.iter().map(|v| view! {
                                            <RowView row=v.row.clone() extra=v.value_text.clone() />
                                        }).collect_view()}
                                    </ul>
                                }.into_any()
                            }}
                        </SummaryCard>
                        <SummaryCard title="Goals" id="summary-goals">
                            {if s.goals.is_empty() {
                                view! { <p class="empty">"No goals yet. "<a href="#/tracking">"Set a goal"</a></p> }.into_any()
                            } else {
                                view! {
                                    <ul class="rows">
                                        {s.goals.iter().map(|g| view! {
                                            <RowView row=g.row.clone() extra=g.target.clone() />
                                        }).collect_view()}
                                    </ul>
                                }.into_any()
                            }}
                        </SummaryCard>
                    </div>
                    <EmergencyCardView card=s.emergency_card.clone() printing=printing />
                }.into_any()
            })}
        </section>
    }
}

#[component]
fn SummaryCard(title: &'static str, id: &'static str, children: Children) -> impl IntoView {
    let heading = format!("{id}-title");
    view! {
        <section class="card" id=id aria-labelledby=heading.clone()>
            <h2 id=heading.clone()>{title}</h2>
            {children()}
        </section>
    }
}

#[component]
fn EmptyRecord() -> impl IntoView {
    view! {
        <div class="empty-record" id="empty-record">
            <p class="lead">"Your record is empty so far."</p>
            <ul class="cards">
                <li class="card">
                    <h2>"From your providers"</h2>
                    <p>"Connect to your clinics and hospitals and bring your records here."</p>
                    <a class="button" href="#/import">"Import records"</a>
                </li>
                <li class="card">
                    <h2>"Track your own"</h2>
                    <p>"Add medications and supplements, log doses, set goals, record measurements."</p>
                    <a class="button secondary" href="#/tracking">"Start tracking"</a>
                </li>
            </ul>
        </div>
    }
}

/// Allergies, medications, conditions and whom to call, at a glance and printable.
#[component]
fn EmergencyCardView(card: EmergencyCard, printing: RwSignal<bool>) -> impl IntoView {
    let print = move |_| {
        printing.set(true);
        if let Some(w) = web_sys::window() {
            let _ = w.print();
        }
        printing.set(false);
    };
    let lines = |items: Vec<phr_views::summary::CardLine>, empty: &'static str| {
        if items.is_empty() {
            view! { <p class="empty">{empty}</p> }.into_any()
        } else {
            view! {
                <ul>
                    {items.into_iter().map(|l| view! {
                        <li>
                            {l.text.clone()}
                            {l.patient_reported.then(|| view! { <span class="badge patient">"You added"</span> })}
                        </li>
                    }).collect_view()}
                </ul>
            }
            .into_any()
        }
    };
    view! {
        <section class="card emergency-card" id="emergency-card" aria-labelledby="emergency-title">
            <h2 id="emergency-title">"Emergency card"</h2>
            {(card.name.is_some() || card.birth_date.is_some()).then(|| view! {
                <p class="ec-who">
                    {card.name.clone().unwrap_or_default()}
                    {card.birth_date.clone().map(|b| format!(", born {b}"))}
                </p>
            })}
            <div class="ec-grid">
                <div><h3>"Allergies"</h3>{lines(card.allergies.clone(), "None recorded")}</div>
                <div><h3>"Medications"</h3>{lines(card.medications.clone(), "None recorded")}</div>
                <div><h3>"Conditions"</h3>{lines(card.conditions.clone(), "None recorded")}</div>
                <div>
                    <h3>"Emergency contact"</h3>
                    {match card.emergency_contact.clone() {
                        Some(c) => view! {
                            <p>
                                {c.name} {(!c.relationship.is_empty()).then(|| format!(" ({})", c.relationship))}
                                {c.phone.map(|p| view! { <br /> <a href=format!("tel:{p}")>{p.clone()}</a> })}
                            </p>
                        }.into_any(),
                        None => view! { <p class="empty">"None recorded. "<a href="#/tracking">"Add one"</a></p> }.into_any(),
                    }}
                </div>
            </div>
            <button type="button" class="secondary" id="print-emergency-card" on:click=print>"Print emergency card"</button>
        </section>
    }
}

//! The patient's own measurements (weight, blood pressure, glucose, heart rate, steps, A1c, mood,
//! anything else), with UCUM units: the inputs, shared with goal logging, and the section that
//! records one and lists the recent ones.

use leptos::prelude::*;
use phr_record::patient::{self, Amount, Measurement, ObservationInput, Unit};
use phr_views::Row;

use super::data::Tracking;
use super::forms::{optional, required_number, Field, Select};
use super::zone::{input_to_rfc3339, now_input};
use super::{authoring_new, focus_later, put_and_save};
use crate::components::ErrorBox;
use crate::route::Route;
use crate::state::{AppCtx, NoticeKind};

/// What can be measured: (value, label).
pub const KINDS: &[(&str, &str)] = &[
    ("weight", "Weight"),
    ("bp", "Blood pressure"),
    ("glucose", "Blood glucose"),
    ("heart-rate", "Heart rate"),
    ("steps", "Steps in a day"),
    ("a1c", "Hemoglobin A1c"),
    ("mood", "Mood"),
    ("other", "Something else"),
];

const MOODS: &[(&str, &str)] = &[
    ("Very good", "Very good"),
    ("Good", "Good"),
    ("OK", "OK"),
    ("Low", "Low"),
    ("Very low", "Very low"),
];

/// The state of a measurement form.
#[derive(Clone, Copy)]
pub struct MeasureFields {
    pub kind: RwSignal<String>,
    pub value: RwSignal<String>,
    pub value2: RwSignal<String>,
    pub unit: RwSignal<String>,
    pub what: RwSignal<String>,
    pub when: RwSignal<String>,
    /// The "when" the app filled in; while the field still shows it, "when" means now.
    auto_when: RwSignal<String>,
}

impl MeasureFields {
    pub fn new(kind: &str) -> MeasureFields {
        MeasureFields {
            kind: RwSignal::new(kind.to_string()),
            value: RwSignal::new(String::new()),
            value2: RwSignal::new(String::new()),
            unit: RwSignal::new(String::new()),
            what: RwSignal::new(String::new()),
            when: RwSignal::new(now_input()),
            auto_when: RwSignal::new(now_input()),
        }
    }

    /// Brings a "when" the patient has not changed up to now (the form may have been open a
    /// while).
    pub fn refresh_when(&self) {
        if self.when.get_untracked() == self.auto_when.get_untracked() {
            let now = now_input();
            self.auto_when.set(now.clone());
            self.when.set(now);
        }
    }

    /// Empties the values (after saving), keeping the kind and unit.
    pub fn clear(&self) {
        self.value.set(String::new());
        self.value2.set(String::new());
        self.auto_when.set(now_input());
        self.when.set(now_input());
    }

    /// The measurement and when it applies, or what to fix.
    pub fn build(&self) -> Result<(Measurement, String), String> {
        let kind = self.kind.get_untracked();
        let value = self.value.get_untracked();
        let unit = self.unit.get_untracked();
        let when = self.when.get_untracked();
        let effective = if when == self.auto_when.get_untracked() {
            super::zone::now_local()
        } else {
            input_to_rfc3339(&when).ok_or("Enter when it was measured, as a date and time.")?
        };
        let m = match kind.as_str() {
            "weight" => Measurement::Weight(Amount::new(
                &required_number(&value, "The weight")?,
                if unit == "lb" {
                    Unit::Pound
                } else {
                    Unit::Kilogram
                },
            )),
            "bp" => Measurement::BloodPressure {
                systolic: required_number(&value, "The systolic pressure (upper number)")?,
                diastolic: required_number(
                    &self.value2.get_untracked(),
                    "The diastolic pressure (lower number)",
                )?,
            },
            "glucose" => Measurement::Glucose(Amount::new(
                &required_number(&value, "The glucose")?,
                if unit == "mmol/L" {
                    Unit::MillimolePerLiter
                } else {
                    Unit::MilligramPerDeciliter
                },
            )),
            "heart-rate" => Measurement::HeartRate(required_number(&value, "The heart rate")?),
            "steps" => {
                let n = required_number(&value, "The number of steps")?;
                Measurement::Steps(
                    n.parse::<u64>()
                        .map_err(|_| "The number of steps must be a whole number.".to_string())?,
                )
            }
            "a1c" => Measurement::HemoglobinA1c(required_number(&value, "The A1c")?),
            "mood" => Measurement::Mood(optional(&value).unwrap_or_else(|| MOODS[1].0.to_string())),
            _ => Measurement::Text {
                what: optional(&self.what.get_untracked())
                    .ok_or("Say what you measured or noticed.")?,
                value: optional(&value).ok_or("Enter the value or what you noticed.")?,
            },
        };
        // Steps are for a day: the date only.
        let effective = if kind == "steps" {
            effective[..10].to_string()
        } else {
            effective
        };
        Ok((m, effective))
    }
}

/// The inputs for one kind of measurement. `prefix` makes the ids unique on the page; `what` is
/// fixed for goals measured in words.
#[component]
pub fn MeasureInputs(
    prefix: String,
    fields: MeasureFields,
    #[prop(optional_no_strip)] fixed_what: Option<String>,
) -> impl IntoView {
    let id = move |s: &str| format!("{prefix}-{s}");
    let kind = fields.kind;
    let inputs = {
        let id = id.clone();
        let fixed_what = fixed_what.clone();
        move || {
            let id = id.clone();
            match kind.get().as_str() {
                "weight" => {
                    if fields.unit.get_untracked() != "lb" {
                        fields.unit.set("kg".into());
                    }
                    view! {
                        <div class="field-row">
                            <Field id=id("value") label="Weight" value=fields.value inputmode="decimal" required=true />
                            <Select id=id("unit") label="Unit" value=fields.unit options=vec![("kg", "kg"), ("lb", "lb")] />
                        </div>
                    }
                    .into_any()
                }
                "bp" => view! {
                    <div class="field-row">
                        <Field id=id("value") label="Systolic (upper number, mmHg)" value=fields.value inputmode="numeric" required=true />
                        <Field id=id("value2") label="Diastolic (lower number, mmHg)" value=fields.value2 inputmode="numeric" required=true />
                    </div>
                }
                .into_any(),
                "glucose" => {
                    if fields.unit.get_untracked() != "mmol/L" {
                        fields.unit.set("mg/dL".into());
                    }
                    view! {
                        <div class="field-row">
                            <Field id=id("value") label="Glucose" value=fields.value inputmode="decimal" required=true />
                            <Select id=id("unit") label="Unit" value=fields.unit options=vec![("mg/dL", "mg/dL"), ("mmol/L", "mmol/L")] />
                        </div>
                    }
                    .into_any()
                }
                "heart-rate" => view! {
                    <Field id=id("value") label="Heart rate (beats per minute)" value=fields.value inputmode="numeric" required=true />
                }
                .into_any(),
                "steps" => view! {
                    <Field id=id("value") label="Steps that day" value=fields.value inputmode="numeric" required=true />
                }
                .into_any(),
                "a1c" => view! {
                    <Field id=id("value") label="Hemoglobin A1c (%)" value=fields.value inputmode="decimal" required=true />
                }
                .into_any(),
                "mood" => {
                    if fields.value.get_untracked().is_empty() {
                        fields.value.set(MOODS[1].0.into());
                    }
                    view! { <Select id=id("value") label="How I feel" value=fields.value options=MOODS.to_vec() /> }.into_any()
                }
                _ => match fixed_what.clone() {
                    Some(what) => {
                        fields.what.set(what.clone());
                        view! { <Field id=id("value") label=format!("{what}: how it went") value=fields.value required=true /> }
                            .into_any()
                    }
                    None => view! {
                        <div class="field-row">
                            <Field id=id("what") label="What" value=fields.what hint="For example: Sleep" required=true />
                            <Field id=id("value") label="Value or what I noticed" value=fields.value required=true />
                        </div>
                    }
                    .into_any(),
                },
            }
        }
    };
    view! {
        <div class="measure-inputs" on:focusin=move |_| fields.refresh_when()>
            {inputs}
            <Field id=id("when") label="When" value=fields.when kind="datetime-local" />
        </div>
    }
}

/// Records one of the patient's own measurements; returns whether it was stored.
pub fn record_measurement(
    app: AppCtx,
    fields: &MeasureFields,
    goal: Option<String>,
    error: RwSignal<Option<String>>,
) -> bool {
    let Some(session) = app.session() else {
        return false;
    };
    let (measurement, effective) = match fields.build() {
        Ok(x) => x,
        Err(e) => {
            error.set(Some(e));
            return false;
        }
    };
    let auth = authoring_new(&session);
    let item = patient::observation(
        &auth,
        &ObservationInput {
            measurement,
            effective,
            goal,
            note: None,
        },
    );
    if let Err(e) = &item {
        error.set(Some(format!("Not saved: {e}")));
        return false;
    }
    let ok = put_and_save(app, item, "Your measurement was saved.");
    if ok {
        error.set(None);
        fields.clear();
    }
    ok
}

/// One of the patient's measurements, with a way to delete it.
#[component]
fn MeasurementRow(row: Row) -> impl IntoView {
    let app = AppCtx::expect();
    let href = Route::Item(row.key.clone()).href();
    let date = row.date.map(|d| d.to_string()).unwrap_or_default();
    let key = row.key.clone();
    let label = format!("{} {}", row.title, date);
    let delete = move |_| {
        let Some(session) = app.session() else { return };
        let Some(k) = crate::record_util::parse_key(&key) else {
            return;
        };
        let result = session.record_mut().delete_patient_item(&k);
        match result {
            Ok(_) => {
                super::save(app, "The measurement was deleted.");
                focus_later("my-measurements-title".into());
            }
            Err(e) => app.say(NoticeKind::Error, format!("Not deleted: {e}")),
        }
    };
    view! {
        <li class="row patient">
            <div class="row-main">
                <a class="row-title" href=href>{row.title.clone()}</a>
                <span class="row-detail">{row.detail.clone()}</span>
            </div>
            <div class="row-meta">
                <time>{date.clone()}</time>
                <span class="badge patient" title="Entered by you: not verified by a clinician">"You added"</span>
                <button type="button" class="link-button" on:click=delete>
                    "Delete"<span class="visually-hidden">{format!(" {label}")}</span>
                </button>
            </div>
        </li>
    }
}

/// Record a measurement; the most recent ones.
#[component]
pub fn Measurements(data: Memo<Option<Tracking>>) -> impl IntoView {
    let app = AppCtx::expect();
    let fields = MeasureFields::new("weight");
    let error = RwSignal::new(None::<String>);
    let shown = RwSignal::new(10usize);
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if record_measurement(app, &fields, None, error) {
            focus_later("measure-value".into());
        }
    };
    let recent = Memo::new(move |_| {
        data.with(|t| {
            t.as_ref()
                .map(|t| t.measurements.clone())
                .unwrap_or_default()
        })
    });
    view! {
        <section class="card tracking-section" id="my-measurements" aria-labelledby="my-measurements-title">
            <h2 id="my-measurements-title" tabindex="-1">"Record a measurement"</h2>
            <form class="stack" id="measure-form" on:submit=submit>
                <Select id="measure-kind".into() label="What I measured" value=fields.kind options=KINDS.to_vec() />
                <MeasureInputs prefix="measure".into() fields=fields />
                {move || error.get().map(|e| view! { <ErrorBox text=e /> })}
                <div class="actions"><button type="submit" id="measure-save">"Save measurement"</button></div>
            </form>
            <h3>"My recent measurements"</h3>
            <Show when=move || recent.with(Vec::is_empty)>
                <p class="empty">"None yet."</p>
            </Show>
            <ul class="rows" id="measurement-list">
                <For
                    each=move || recent.with(|r| r.iter().take(shown.get()).cloned().collect::<Vec<_>>())
                    key=|r| (r.key.clone(), r.detail.clone(), r.date.map(|d| d.to_string()))
                    children=|r| view! { <MeasurementRow row=r /> }
                />
            </ul>
            <Show when=move || { recent.with(Vec::len) > shown.get() }>
                <button type="button" class="secondary" on:click=move |_| shown.update(|s| *s += 20)>
                    {move || format!("Show more ({} in all)", recent.with(Vec::len))}
                </button>
            </Show>
        </section>
    }
}

//! My tracking: today's doses, my medications and adherence, goals with progress charts, my own
//! measurements, and the emergency contact. The pieces are in `crate::tracking`.

use leptos::prelude::*;

use crate::state::AppCtx;
use crate::tracking::contact::EmergencyContactForm;
use crate::tracking::data;
use crate::tracking::goals::Goals;
use crate::tracking::measure::Measurements;
use crate::tracking::meds::{Medications, TodayDoses};
use crate::tracking::zone::{self, ZoneLog, ZONE_DOC};

/// `prescription`: the item key of a provider's prescription whose doses the patient chose to
/// track (the medication form opens filled in from it).
#[component]
pub fn TrackingPage(#[prop(optional, into)] prescription: Option<String>) -> impl IntoView {
    let app = AppCtx::expect();
    // Doses become due and then not logged as time passes: re-read every half minute.
    let tick = RwSignal::new(0u64);
    if let Ok(handle) = set_interval_with_handle(
        move || tick.update(|t| *t += 1),
        std::time::Duration::from_secs(30),
    ) {
        on_cleanup(move || handle.clear());
    }
    let data = Memo::new(move |_| {
        tick.track();
        let index = app.index()?;
        app.with_session(|s| {
            let record = s.record();
            let zones: ZoneLog = record.app_doc_as(ZONE_DOC).unwrap_or_default();
            let zone = zones.zone();
            data::read(&record, &index, zone.as_ref(), zone::now())
        })
    });
    view! {
        <section class="page tracking" aria-labelledby="tracking-title">
            <h1 id="tracking-title">"My tracking"</h1>
            <p class="lead">
                "What you add here is yours: it is marked \u{201c}You added\u{201d} everywhere, it is \
                 kept as standard FHIR so it exports and shares, and it is never shown as checked by a clinician."
            </p>
            <div class="tracking-grid">
                <TodayDoses data=data />
                <Medications data=data prescription=prescription />
                <Goals data=data />
                <Measurements data=data />
                <EmergencyContactForm />
            </div>
        </section>
    }
}

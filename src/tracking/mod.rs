//! The patient's own tracking: medications they take with a dose log and weekly adherence,
//! goals with measurements and a progress chart, their own measurements, and an emergency
//! contact. The screen is `pages::tracking`; the pieces live here.
//!
//! Everything the patient enters is standard FHIR built by `phr_record::patient` (PATAST
//! security label, a Provenance naming the patient as author) and stored with
//! `Record::put_patient_item`; every change is followed by an explicit save.

pub mod contact;
pub mod data;
pub mod forms;
pub mod goals;
pub mod measure;
pub mod meds;
pub mod zone;

use phr_record::patient::Authoring;
use phr_record::Authored;
use wasm_bindgen::JsCast;

use crate::platform::ids;
use crate::record_util::patient_reference;
use crate::session::Session;
use crate::state::{AppCtx, NoticeKind};

/// Who is writing, for a new item.
pub fn authoring_new(session: &Session) -> Authoring {
    let patient = patient_reference(&session.record());
    Authoring::new(&ids::uuid_v4(), &patient, &zone::now_local())
}

/// Who is writing, for an edit of the item with this id.
pub fn authoring_edit(session: &Session, id: &str) -> Authoring {
    let patient = patient_reference(&session.record());
    Authoring::new(id, &patient, &zone::now_local()).editing()
}

/// Notes the browser's time zone in the record when it changed since the last entry (travel),
/// so that earlier days keep the clock they were lived in.
fn note_zone(session: &Session) {
    let log: zone::ZoneLog = session
        .record()
        .app_doc_as(zone::ZONE_DOC)
        .unwrap_or_default();
    if let Some(next) = log.with_device_zone(&crate::platform::time::now_rfc3339()) {
        // A failure here only means the zone is noted next time.
        let _ = session.record_mut().set_app_doc(zone::ZONE_DOC, &next);
    }
}

/// Stores a patient item and saves, announcing `done`; returns false (with the reason announced)
/// when the record refused it.
pub fn put_and_save(
    app: AppCtx,
    item: phr_record::Result<Authored>,
    done: impl Into<String>,
) -> bool {
    let done = done.into();
    let Some(session) = app.session() else {
        return false;
    };
    let result = item.and_then(|item| session.record_mut().put_patient_item(item));
    match result {
        Ok(_) => {
            note_zone(&session);
            save_with(app, done);
            true
        }
        Err(e) => {
            app.say(NoticeKind::Error, format!("Not saved: {e}"));
            false
        }
    }
}

/// Saves after other changes (deletions, settings), noting the zone too.
pub fn save(app: AppCtx, done: impl Into<String>) {
    if let Some(session) = app.session() {
        note_zone(&session);
    }
    save_with(app, done.into());
}

/// Saves, then announces `done` (or what went wrong: the change stays in memory to retry).
fn save_with(app: AppCtx, done: String) {
    app.changed();
    let Some(session) = app.session() else { return };
    leptos::task::spawn_local(async move {
        match session.save().await {
            Ok(_) => app.say(NoticeKind::Success, done),
            Err(e) => app.say(NoticeKind::Error, crate::messages::vault_error_message(&e)),
        }
        app.changed();
    });
}

/// Moves keyboard focus to the element with this id once the screen has re-rendered (after a
/// change re-draws the control the patient used).
pub fn focus_later(id: String) {
    focus_first_later(vec![id]);
}

/// As [`focus_later`], to the first of these ids that is on the screen then (the control used
/// may be gone, e.g. a dose that left the "not logged" list). Focus is never taken from a field the
/// patient has moved to in the meantime: typing that starts before the screen settles stays where
/// it was typed.
pub fn focus_first_later(ids: Vec<String>) {
    let Some(window) = web_sys::window() else {
        return;
    };
    let focused_then = window.document().and_then(|d| d.active_element());
    let f = wasm_bindgen::closure::Closure::once_into_js(move || {
        let Some(document) = web_sys::window().and_then(|w| w.document()) else {
            return;
        };
        if let Some(now) = document.active_element() {
            let moved = focused_then.as_ref() != Some(&now);
            let editing = matches!(now.tag_name().as_str(), "INPUT" | "TEXTAREA" | "SELECT");
            if moved && editing {
                return;
            }
        }
        if let Some(el) = ids
            .iter()
            .find_map(|id| document.get_element_by_id(id))
            .and_then(|e| e.dyn_into::<web_sys::HtmlElement>().ok())
        {
            let _ = el.focus();
        }
    });
    let _ = window.set_timeout_with_callback_and_timeout_and_arguments_0(f.unchecked_ref(), 50);
}

/// A DOM id fragment from free text (ids of the patient's items are UUIDs: safe as they are).
pub fn slug(s: &str) -> String {
    s.chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect()
}

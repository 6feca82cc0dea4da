//! The emergency contact: kept in the record's settings (encrypted with it) and shown on the
//! summary's emergency card.

use leptos::prelude::*;
use phr_record::EmergencyContact;

use super::forms::{optional, Field};
use crate::components::ErrorBox;
use crate::state::{AppCtx, NoticeKind};

#[component]
pub fn EmergencyContactForm() -> impl IntoView {
    let app = AppCtx::expect();
    let current = app
        .with_session(|s| s.record().settings().emergency_contact.clone())
        .flatten();
    let name = RwSignal::new(current.as_ref().map(|c| c.name.clone()).unwrap_or_default());
    let relationship = RwSignal::new(
        current
            .as_ref()
            .and_then(|c| c.relationship.clone())
            .unwrap_or_default(),
    );
    let phone = RwSignal::new(
        current
            .as_ref()
            .and_then(|c| c.phone.clone())
            .unwrap_or_default(),
    );
    let saved = RwSignal::new(current.is_some());
    let error = RwSignal::new(None::<String>);

    let store = move |contact: Option<EmergencyContact>, done: &'static str| {
        let Some(session) = app.session() else { return };
        let mut settings = session.record().settings().clone();
        settings.emergency_contact = contact;
        let has = settings.emergency_contact.is_some();
        let result = session.record_mut().set_settings(settings);
        match result {
            Ok(()) => {
                error.set(None);
                saved.set(has);
                super::save(app, done);
            }
            Err(e) => app.say(NoticeKind::Error, format!("Not saved: {e}")),
        }
    };
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let Some(n) = optional(&name.get_untracked()) else {
            error.set(Some("Enter the name of the person to call.".into()));
            return;
        };
        let p = optional(&phone.get_untracked());
        if let Some(p) = &p {
            let digits = p.chars().filter(char::is_ascii_digit).count();
            let allowed = p
                .chars()
                .all(|c| c.is_ascii_digit() || " +-().".contains(c));
            if digits < 3 || !allowed {
                error.set(Some(
                    "The phone number can have digits, spaces, + - ( ) and dots only.".into(),
                ));
                return;
            }
        }
        store(
            Some(EmergencyContact {
                name: n,
                relationship: optional(&relationship.get_untracked()),
                phone: p,
            }),
            "Your emergency contact was saved. It shows on your emergency card.",
        );
    };
    let remove = move |_| {
        name.set(String::new());
        relationship.set(String::new());
        phone.set(String::new());
        store(None, "Your emergency contact was removed.");
    };
    view! {
        <section class="card tracking-section" id="emergency-contact" aria-labelledby="emergency-contact-title">
            <h2 id="emergency-contact-title">"Emergency contact"</h2>
            <p class="muted">"Shown on the emergency card of your summary, for whoever helps you in an emergency."</p>
            <form class="stack" id="contact-form" on:submit=submit>
                <Field id="contact-name".into() label="Name" value=name autocomplete="off" required=true />
                <Field id="contact-relationship".into() label="Relationship (optional)" value=relationship hint="For example: Daughter" />
                <Field id="contact-phone".into() label="Phone (optional)" value=phone kind="tel" autocomplete="off" />
                {move || error.get().map(|e| view! { <ErrorBox text=e /> })}
                <div class="actions">
                    <button type="submit" id="contact-save">"Save contact"</button>
                    <Show when=move || saved.get()>
                        <button type="button" class="secondary" id="contact-remove" on:click=remove>"Remove"</button>
                    </Show>
                </div>
            </form>
        </section>
    }
}

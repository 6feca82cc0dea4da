use leptos::prelude::*;

/// How the app protects the record, in plain words.
#[component]
pub fn PrivacyPage() -> impl IntoView {
    view! {
        <section class="page" aria-labelledby="privacy-title">
            <h1 id="privacy-title">"How your data is protected"</h1>
            <dl class="facts">
                <dt>"Where your record lives"</dt>
                <dd>
                    "Only in this browser, on this device. This website is a set of static files: "
                    "it has no server that stores or reads your data."
                </dd>
                <dt>"How it is locked"</dt>
                <dd>
                    "Your record is encrypted (AES-256-GCM) with a key derived from your passphrase "
                    "(Argon2id). Without the passphrase or your recovery key, nobody can read it, "
                    "including us."
                </dd>
                <dt>"What is stored unencrypted"</dt>
                <dd>"Only display preferences, such as text size and colour theme."</dd>
                <dt>"Your providers' records"</dt>
                <dd>
                    "Items imported from a clinic or hospital are copies. Their systems remain "
                    "the legal record. You can add notes or hide items here, but never change them."
                </dd>
                <dt>"Sharing"</dt>
                <dd>
                    "Nothing leaves this browser unless you create a share. Sensitive categories "
                    "(such as substance use, mental health or HIV) are left out unless you "
                    "explicitly include them."
                </dd>
            </dl>
        </section>
    }
}

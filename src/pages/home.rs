use leptos::prelude::*;

/// The first screen: what this app is and what it does with the patient's data.
#[component]
pub fn HomePage() -> impl IntoView {
    view! {
        <section class="page" aria-labelledby="home-title">
            <h1 id="home-title">"Your health record, kept by you"</h1>
            <p class="lead">
                "Bring your records home from every clinic and hospital, keep them encrypted in this "
                "browser, and share exactly what you choose with the people who care for you."
            </p>
            <ul class="cards">
                <li class="card">
                    <h2>"Private by design"</h2>
                    <p>
                        "Your record is encrypted with a key made from your passphrase. "
                        "No server ever sees it."
                    </p>
                </li>
                <li class="card">
                    <h2>"From all your providers"</h2>
                    <p>
                        "Each item keeps where it came from. Your providers' systems stay the "
                        "official record: their items are never edited here."
                    </p>
                </li>
                <li class="card">
                    <h2>"You decide what is shared"</h2>
                    <p>
                        "Sensitive parts of your record stay out of every share unless you "
                        "choose to include them."
                    </p>
                </li>
            </ul>
        </section>
    }
}

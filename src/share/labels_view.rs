//! The sensitivity labels of one item (every copy of the fact), why each applies, and the
//! patient's add / remove. Changes are recorded in the vault (`Record::change_label`) with the
//! time; the labels themselves are always recomputed.

use std::collections::BTreeMap;

use leptos::prelude::*;
use phr_consent::Category;

use crate::components::ErrorBox;
use crate::pages::item::save_after_change;
use crate::platform::time::now_rfc3339;
use crate::share::model::change_label;
use crate::share::CatalogCache;
use crate::state::AppCtx;

/// What the item shows: each category with its reasons, and the categories the patient removed.
#[derive(Clone, Debug, PartialEq, Default)]
struct Shown {
    categories: BTreeMap<Category, Vec<String>>,
    removed: Vec<Category>,
    part2: bool,
}

#[component]
pub fn SensitivityLabels(keys: Vec<String>) -> impl IntoView {
    let app = AppCtx::expect();
    let cache = CatalogCache::new();
    let keys = StoredValue::new(keys);
    let error = RwSignal::new(None::<String>);
    let to_add = RwSignal::new(String::new());
    let shown = move || {
        let catalog = cache.get(app)?;
        let mut s = Shown::default();
        keys.with_value(|keys| {
            for k in keys {
                let l = catalog.labels_of(k);
                s.part2 |= l.part2;
                for c in l.categories.keys() {
                    let reasons = s.categories.entry(*c).or_default();
                    for r in l.reasons(*c) {
                        if !reasons.contains(&r) {
                            reasons.push(r);
                        }
                    }
                }
                for c in &l.removed_by_patient {
                    if !s.removed.contains(c) {
                        s.removed.push(*c);
                    }
                }
            }
        });
        s.removed.retain(|c| !s.categories.contains_key(c));
        Some(s)
    };
    let change = move |category: Category, add: bool| {
        let Some(session) = app.session() else { return };
        let result = keys.with_value(|keys| {
            change_label(
                &mut session.record_mut(),
                keys,
                category,
                add,
                &now_rfc3339(),
            )
        });
        match result {
            Ok(()) => {
                error.set(None);
                save_after_change(
                    app,
                    if add {
                        "Label added. The change is recorded in your vault."
                    } else {
                        "Label removed. The change is recorded in your vault."
                    },
                );
            }
            Err(e) => error.set(Some(format!("The label could not be changed: {e}"))),
        }
    };
    let add = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        match Category::from_id(&to_add.get_untracked()) {
            Some(c) => {
                to_add.set(String::new());
                change(c, true);
            }
            None => error.set(Some("Choose a label to add first.".into())),
        }
    };
    view! {
        <section class="card sensitivity" id="sensitivity-labels" aria-labelledby="labels-title">
            <h2 id="labels-title">"Sensitivity labels"</h2>
            <p class="muted">
                "Items with a label are left out of what you share, unless you choose to include them."
            </p>
            {move || shown().map(|s| {
                let options: Vec<Category> = Category::ALL
                    .into_iter()
                    .filter(|c| !s.categories.contains_key(c))
                    .collect();
                view! {
                    {if s.categories.is_empty() {
                        view! { <p id="labels-none">"Not marked as sensitive."</p> }.into_any()
                    } else {
                        view! {
                            <ul class="label-list">
                                {s.categories.iter().map(|(c, reasons)| {
                                    let c = *c;
                                    view! {
                                        <li class="label-item" data-category=c.id()>
                                            <span class="label-name">{c.label()}</span>
                                            <span class="muted label-why">{format!("Why: {}", reasons.join("; "))}</span>
                                            <button
                                                type="button"
                                                class="link-button"
                                                on:click=move |_| change(c, false)
                                            >
                                                "Remove"
                                                <span class="visually-hidden">{format!(" the {} label", c.label())}</span>
                                            </button>
                                        </li>
                                    }
                                }).collect_view()}
                            </ul>
                        }.into_any()
                    }}
                    {s.part2.then(|| view! {
                        <p class="muted" id="labels-part2">
                            "From a substance-use program protected by federal law (42 CFR Part 2): if you share it, a notice forbidding redisclosure goes with it."
                        </p>
                    })}
                    {(!s.removed.is_empty()).then(|| view! {
                        <p class="labels-removed">
                            "You removed: "
                            {s.removed.iter().map(|c| {
                                let c = *c;
                                view! {
                                    <span class="removed-label">
                                        {c.label()}
                                        <button type="button" class="link-button" on:click=move |_| change(c, true)>
                                            "Add back"
                                            <span class="visually-hidden">{format!(" the {} label", c.label())}</span>
                                        </button>
                                    </span>
                                }
                            }).collect_view()}
                        </p>
                    })}
                    <form class="label-add" on:submit=add>
                        <label class="field">
                            <span>"Add a label"</span>
                            <select id="label-add" prop:value=move || to_add.get() on:change=move |ev| to_add.set(event_target_value(&ev))>
                                <option value="">"Choose…"</option>
                                {options.into_iter().map(|c| view! { <option value=c.id()>{c.label()}</option> }).collect_view()}
                            </select>
                        </label>
                        <button type="submit" class="secondary" id="label-add-button">"Add label"</button>
                    </form>
                }
            })}
            {move || error.get().map(|e| view! { <ErrorBox text=e /> })}
        </section>
    }
}

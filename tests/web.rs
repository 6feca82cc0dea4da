//! Browser tests (wasm-bindgen-test in headless Chromium). Run by scripts/test.sh.
#![cfg(target_arch = "wasm32")]

use leptos::prelude::*;
use leptos::task::tick;
use wasm_bindgen::JsCast;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

fn document() -> web_sys::Document {
    web_sys::window().unwrap().document().unwrap()
}

/// A fresh element to mount into, so tests don't see each other's DOM.
fn container() -> web_sys::HtmlElement {
    let el = document().create_element("div").unwrap();
    document().body().unwrap().append_child(&el).unwrap();
    el.unchecked_into()
}

#[wasm_bindgen_test]
async fn menu_button_toggles_navigation() {
    let root = container();
    let route = RwSignal::new(phr_app::route::Route::Home);
    let _handle = leptos::mount::mount_to(root.clone(), move || {
        view! { <phr_app::shell::Header route=route /> }
    });

    let button: web_sys::HtmlElement = root
        .query_selector(".menu-button")
        .unwrap()
        .expect("menu button rendered")
        .unchecked_into();
    let nav = root.query_selector("#main-nav").unwrap().unwrap();
    assert_eq!(
        button.get_attribute("aria-expanded").as_deref(),
        Some("false")
    );
    assert!(!nav.class_list().contains("open"));

    button.click();
    tick().await;
    assert_eq!(
        button.get_attribute("aria-expanded").as_deref(),
        Some("true")
    );
    assert!(nav.class_list().contains("open"));
    assert_eq!(button.text_content().as_deref(), Some("Close menu"));

    button.click();
    tick().await;
    assert_eq!(
        button.get_attribute("aria-expanded").as_deref(),
        Some("false")
    );
}

#[wasm_bindgen_test]
async fn current_route_is_marked_in_navigation() {
    let root = container();
    let route = RwSignal::new(phr_app::route::Route::Settings);
    let _handle = leptos::mount::mount_to(root.clone(), move || {
        view! { <phr_app::shell::Header route=route /> }
    });
    let current = root
        .query_selector("a[aria-current='page']")
        .unwrap()
        .unwrap();
    assert_eq!(current.text_content().as_deref(), Some("Settings"));
    route.set(phr_app::route::Route::Privacy);
    tick().await;
    let current = root
        .query_selector("a[aria-current='page']")
        .unwrap()
        .unwrap();
    assert_eq!(current.text_content().as_deref(), Some("Privacy"));
}

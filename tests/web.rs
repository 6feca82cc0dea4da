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

/// Resolves on the next animation frame (after the frame's own callbacks have run).
async fn next_frame() {
    let promise = js_sys::Promise::new(&mut |resolve, _| {
        let _ = web_sys::window().unwrap().request_animation_frame(&resolve);
    });
    wasm_bindgen_futures::JsFuture::from(promise).await.unwrap();
}

#[wasm_bindgen_test]
async fn a_list_removed_before_its_first_frame_does_not_panic() {
    // Uncaught errors (a panic in a frame callback is one) are collected here.
    let errors = std::rc::Rc::new(std::cell::RefCell::new(Vec::<String>::new()));
    let seen = errors.clone();
    let on_error = wasm_bindgen::closure::Closure::<dyn FnMut(web_sys::ErrorEvent)>::new(
        move |e: web_sys::ErrorEvent| seen.borrow_mut().push(e.message()),
    );
    let window = web_sys::window().unwrap();
    window
        .add_event_listener_with_callback("error", on_error.as_ref().unchecked_ref())
        .unwrap();

    let root = container();
    let handle = leptos::mount::mount_to(root.clone(), move || {
        view! {
            <phr_app::views::virtual_list::VirtualList
                count=Signal::stored(100usize)
                lines_for=|_, _| Vec::new()
                label="Test list"
            />
        }
    });
    assert!(root.query_selector(".virtual-list").unwrap().is_some());
    // The patient moves to another screen before the list's first frame.
    drop(handle);
    next_frame().await;
    next_frame().await;

    window
        .remove_event_listener_with_callback("error", on_error.as_ref().unchecked_ref())
        .unwrap();
    assert_eq!(*errors.borrow(), Vec::<String>::new());
}

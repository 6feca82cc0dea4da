//! HTTP for sharing: the deployment's `config.json`, and the share host (PUT, GET, DELETE).
//!
//! Every request omits credentials and the referrer and bypasses the HTTP cache, so nothing about
//! the app page (and never the link's key, which lives only in the page's fragment) reaches the
//! share host or ends up in a cache.

use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{ReferrerPolicy, RequestCache, RequestCredentials, RequestInit, RequestMode};

use crate::platform::js_error_text;

/// An HTTP answer (any status).
#[derive(Clone, Debug, PartialEq)]
pub struct Answer {
    pub status: u16,
    pub body: String,
}

impl Answer {
    pub fn ok(&self) -> bool {
        (200..300).contains(&self.status)
    }
}

/// Why a request got no answer at all (offline, refused, blocked by CORS...).
#[derive(Clone, Debug, PartialEq)]
pub struct NoAnswer(pub String);

/// Makes a request and reads the whole answer as text.
pub async fn request(
    method: &str,
    url: &str,
    body: Option<&str>,
    content_type: Option<&str>,
) -> Result<Answer, NoAnswer> {
    let window = web_sys::window().ok_or_else(|| NoAnswer("no window".into()))?;
    let init = RequestInit::new();
    init.set_method(method);
    init.set_mode(RequestMode::Cors);
    init.set_credentials(RequestCredentials::Omit);
    init.set_cache(RequestCache::NoStore);
    init.set_referrer_policy(ReferrerPolicy::NoReferrer);
    if let Some(b) = body {
        init.set_body(&JsValue::from_str(b));
    }
    let request = web_sys::Request::new_with_str_and_init(url, &init)
        .map_err(|e| NoAnswer(js_error_text(&e)))?;
    if let Some(ct) = content_type {
        request
            .headers()
            .set("Content-Type", ct)
            .map_err(|e| NoAnswer(js_error_text(&e)))?;
    }
    let response = JsFuture::from(window.fetch_with_request(&request))
        .await
        .map_err(|e| NoAnswer(js_error_text(&e)))?;
    let response: web_sys::Response = response
        .dyn_into()
        .map_err(|_| NoAnswer("fetch returned no response".into()))?;
    let status = response.status();
    let text = response.text().map_err(|e| NoAnswer(js_error_text(&e)))?;
    let body = JsFuture::from(text)
        .await
        .map_err(|e| NoAnswer(js_error_text(&e)))?
        .as_string()
        .unwrap_or_default();
    Ok(Answer { status, body })
}

/// The deployment's settings (`config.json` next to `index.html`).
#[derive(Clone, Debug, Default, PartialEq, serde::Deserialize)]
pub struct Config {
    /// Where encrypted SMART Health Link files are PUT; `None` when the deployment has none.
    #[serde(default)]
    pub share_host: Option<String>,
}

/// Reads `config.json`. A missing or unreadable file means "no share host" (the patient can still
/// download the encrypted file and host it themselves).
pub async fn load_config() -> Config {
    match request("GET", "config.json", None, None).await {
        Ok(a) if a.ok() => serde_json::from_str::<Config>(&a.body)
            .map(|mut c| {
                c.share_host = c
                    .share_host
                    .map(|h| h.trim().to_string())
                    .filter(|h| !h.is_empty());
                c
            })
            .unwrap_or_default(),
        _ => Config::default(),
    }
}

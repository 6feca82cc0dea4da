//! Hash-based routing. A static host serves one `index.html`, so the route lives in the URL fragment
//! (`#/settings`), which never reaches a server. A fragment starting with `shlink:/` is reserved for the
//! SMART Health Link viewer and is never rewritten.

/// A screen of the app.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Route {
    Home,
    Vault,
    Privacy,
    Settings,
}

impl Route {
    /// Every route, in navigation order.
    pub const NAV: &'static [Route] = &[Route::Home, Route::Vault, Route::Privacy, Route::Settings];

    /// Whether the route shows record data (and so needs an unlocked vault).
    pub fn needs_vault(self) -> bool {
        matches!(self, Route::Vault)
    }

    /// Parses a fragment such as `#/settings`. Unknown fragments fall back to Home.
    pub fn from_hash(hash: &str) -> Route {
        let path = hash.trim_start_matches('#').trim_start_matches('/');
        let path = path.split(['?', '/']).next().unwrap_or("");
        match path {
            "privacy" => Route::Privacy,
            "vault" => Route::Vault,
            "settings" => Route::Settings,
            _ => Route::Home,
        }
    }

    pub fn href(self) -> &'static str {
        match self {
            Route::Home => "#/",
            Route::Vault => "#/vault",
            Route::Privacy => "#/privacy",
            Route::Settings => "#/settings",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Route::Home => "Home",
            Route::Vault => "Vault & backups",
            Route::Privacy => "Privacy",
            Route::Settings => "Settings",
        }
    }
}

/// The current fragment of the page's URL (empty when there is none).
pub fn current_hash() -> String {
    web_sys::window()
        .and_then(|w| w.location().hash().ok())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::Route;
    use wasm_bindgen_test::{wasm_bindgen_test, wasm_bindgen_test_configure};

    wasm_bindgen_test_configure!(run_in_browser);

    #[wasm_bindgen_test]
    fn parses_fragments() {
        assert_eq!(Route::from_hash(""), Route::Home);
        assert_eq!(Route::from_hash("#/"), Route::Home);
        assert_eq!(Route::from_hash("#/settings"), Route::Settings);
        assert_eq!(Route::from_hash("#/privacy?x=1"), Route::Privacy);
        assert_eq!(Route::from_hash("#/nonsense"), Route::Home);
        for r in Route::NAV {
            assert_eq!(Route::from_hash(r.href()), *r);
        }
    }
}

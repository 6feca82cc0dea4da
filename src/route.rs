//! Hash-based routing. A static host serves one `index.html`, so the route lives in the URL fragment
//! (`#/timeline`), which never reaches a server. A fragment starting with `shlink:/` is a SMART Health
//! Link opened in the viewer; it is never rewritten (the link's key is in it).
//!
//! Fragments carry no health information: item routes use opaque keys, never names or codes.

use phr_views::lists::ListKind;

/// A screen of the app.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Route {
    /// The summary when unlocked; the welcome screen otherwise.
    Home,
    Timeline,
    Record(ListKind),
    Charts,
    /// One item of the record, by its opaque key.
    Item(String),
    Tracking,
    /// My tracking, with the form to track the doses of a provider's prescription (by the
    /// prescription item's opaque key).
    TrackPrescription(String),
    Import,
    Share,
    Vault,
    Privacy,
    Settings,
    /// The SMART Health Link viewer (no vault needed); holds the whole fragment.
    Viewer(String),
}

/// Navigation entries: (route, label). Record areas appear only when a vault is open.
pub const NAV: &[(&str, &str)] = &[
    ("#/", "Summary"),
    ("#/timeline", "Timeline"),
    ("#/record/medications", "Record"),
    ("#/charts", "Charts"),
    ("#/tracking", "My tracking"),
    ("#/import", "Import"),
    ("#/share", "Share"),
    ("#/vault", "Vault & backups"),
    ("#/settings", "Settings"),
    ("#/privacy", "Privacy"),
];

/// The list kinds, with their path segment and label, in the order shown.
pub const LISTS: &[(ListKind, &str, &str)] = &[
    (ListKind::Medications, "medications", "Medications"),
    (ListKind::Allergies, "allergies", "Allergies"),
    (ListKind::Problems, "problems", "Problems"),
    (ListKind::Results, "results", "Results"),
    (ListKind::Vitals, "vitals", "Vitals"),
    (ListKind::Immunizations, "immunizations", "Immunizations"),
    (ListKind::Procedures, "procedures", "Procedures"),
    (ListKind::Visits, "visits", "Visits"),
    (ListKind::Documents, "documents", "Documents"),
    (ListKind::CareTeam, "care-team", "Care team"),
    (ListKind::Goals, "goals", "Goals"),
];

pub fn list_slug(kind: ListKind) -> &'static str {
    LISTS
        .iter()
        .find(|(k, _, _)| *k == kind)
        .map(|(_, s, _)| *s)
        .unwrap_or("medications")
}

pub fn list_label(kind: ListKind) -> &'static str {
    LISTS
        .iter()
        .find(|(k, _, _)| *k == kind)
        .map(|(_, _, l)| *l)
        .unwrap_or("Medications")
}

impl Route {
    /// Parses a fragment such as `#/settings`. Unknown fragments fall back to Home.
    pub fn from_hash(hash: &str) -> Route {
        let fragment = hash.strip_prefix('#').unwrap_or(hash);
        if fragment.starts_with("shlink:/") || fragment.contains("#shlink:/") {
            return Route::Viewer(fragment.to_string());
        }
        let path = fragment.trim_start_matches('/');
        let path = path.split('?').next().unwrap_or("");
        let mut parts = path.splitn(2, '/');
        let head = parts.next().unwrap_or("");
        let rest = parts.next().unwrap_or("");
        match head {
            "timeline" => Route::Timeline,
            "record" => Route::Record(
                LISTS
                    .iter()
                    .find(|(_, slug, _)| *slug == rest)
                    .map(|(k, _, _)| *k)
                    .unwrap_or(ListKind::Medications),
            ),
            "charts" => Route::Charts,
            "item" if !rest.is_empty() => Route::Item(decode(rest)),
            "tracking" => match rest.strip_prefix("prescription/") {
                Some(key) if !key.is_empty() => Route::TrackPrescription(decode(key)),
                _ => Route::Tracking,
            },
            "import" => Route::Import,
            "share" => Route::Share,
            "vault" => Route::Vault,
            "privacy" => Route::Privacy,
            "settings" => Route::Settings,
            _ => Route::Home,
        }
    }

    pub fn href(&self) -> String {
        match self {
            Route::Home => "#/".into(),
            Route::Timeline => "#/timeline".into(),
            Route::Record(kind) => format!("#/record/{}", list_slug(*kind)),
            Route::Charts => "#/charts".into(),
            Route::Item(key) => format!("#/item/{}", encode(key)),
            Route::Tracking => "#/tracking".into(),
            Route::TrackPrescription(key) => format!("#/tracking/prescription/{}", encode(key)),
            Route::Import => "#/import".into(),
            Route::Share => "#/share".into(),
            Route::Vault => "#/vault".into(),
            Route::Privacy => "#/privacy".into(),
            Route::Settings => "#/settings".into(),
            Route::Viewer(fragment) => format!("#{fragment}"),
        }
    }

    /// Whether the route shows record data (and so needs an unlocked vault).
    pub fn needs_vault(&self) -> bool {
        !matches!(
            self,
            Route::Home | Route::Privacy | Route::Settings | Route::Viewer(_)
        )
    }

    /// The navigation entry this route belongs to.
    pub fn nav_href(&self) -> &'static str {
        match self {
            Route::Home => "#/",
            Route::Timeline => "#/timeline",
            Route::Record(_) | Route::Item(_) => "#/record/medications",
            Route::Charts => "#/charts",
            Route::Tracking | Route::TrackPrescription(_) => "#/tracking",
            Route::Import => "#/import",
            Route::Share => "#/share",
            Route::Vault => "#/vault",
            Route::Privacy => "#/privacy",
            Route::Settings => "#/settings",
            Route::Viewer(_) => "",
        }
    }
}

/// Percent-encodes a route parameter (keys are JSON; they must survive the fragment).
pub fn encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len() * 3);
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Reverses [`encode`]; malformed escapes are kept as they are.
pub fn decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' && i + 2 < b.len() {
            if let Ok(v) = u8::from_str_radix(&s[i + 1..i + 3], 16) {
                out.push(v);
                i += 3;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8(out).unwrap_or_else(|_| s.to_string())
}

/// The current fragment of the page's URL (empty when there is none).
pub fn current_hash() -> String {
    web_sys::window()
        .and_then(|w| w.location().hash().ok())
        .unwrap_or_default()
}

/// Navigates to a route (adds a history entry, like a link).
pub fn go(route: &Route) {
    if let Some(w) = web_sys::window() {
        let _ = w.location().set_hash(&route.href());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use wasm_bindgen_test::{wasm_bindgen_test, wasm_bindgen_test_configure};

    wasm_bindgen_test_configure!(run_in_browser);

    #[wasm_bindgen_test]
    fn parses_fragments() {
        assert_eq!(Route::from_hash(""), Route::Home);
        assert_eq!(Route::from_hash("#/"), Route::Home);
        assert_eq!(Route::from_hash("#/settings"), Route::Settings);
        assert_eq!(Route::from_hash("#/privacy?x=1"), Route::Privacy);
        assert_eq!(Route::from_hash("#/nonsense"), Route::Home);
        assert_eq!(
            Route::from_hash("#/record/vitals"),
            Route::Record(ListKind::Vitals)
        );
        assert_eq!(
            Route::from_hash("#/record/nope"),
            Route::Record(ListKind::Medications)
        );
        let key = r#"{"s":"ehr:demo","t":"Observation","id":"a/b c"}"#;
        let item = Route::Item(key.into());
        assert_eq!(Route::from_hash(&item.href()), item);
        assert!(!item.href()[1..].contains('#'));
        let track = Route::TrackPrescription(key.into());
        assert_eq!(Route::from_hash(&track.href()), track);
        assert_eq!(track.nav_href(), "#/tracking");
        assert_eq!(
            Route::from_hash("#/tracking/prescription/"),
            Route::Tracking
        );
        assert!(matches!(
            Route::from_hash("#shlink:/eyJ1cmwi"),
            Route::Viewer(_)
        ));
        for (href, _) in NAV {
            assert_eq!(Route::from_hash(href).nav_href(), *href);
        }
        for (kind, _, _) in LISTS {
            assert_eq!(
                Route::from_hash(&Route::Record(*kind).href()),
                Route::Record(*kind)
            );
        }
    }

    #[wasm_bindgen_test]
    fn encoding_round_trips() {
        for s in ["", "abc", "a b/c%d{\"e\":1}", "é ü 漢字", "%zz"] {
            assert_eq!(decode(&encode(s)), s);
        }
    }
}

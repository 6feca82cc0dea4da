//! The HTTP boundary: requests this crate *describes* and responses the shell *feeds back*.
//!
//! The shell turns an [`HttpRequest`] into a `fetch()` call and the result into an
//! [`HttpResponse`] (or reports a [`NetworkFailure`] when `fetch()` rejects). Nothing here
//! performs I/O.

use std::fmt;

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Identifies one request of an import session, so its response can be matched to it.
/// Requests built outside a session (discovery, token) use [`RequestId::STANDALONE`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct RequestId(pub u64);

impl RequestId {
    /// The id of requests that are not part of an import session.
    pub const STANDALONE: RequestId = RequestId(0);
}

/// HTTP method.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Method {
    /// GET
    Get,
    /// POST (only the token endpoint, with a form body)
    Post,
}

impl Method {
    /// `"GET"` or `"POST"`, as `fetch()` wants it.
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Post => "POST",
        }
    }
}

/// A request for the shell to perform with `fetch()`.
///
/// Send it with `credentials: "omit"` and `redirect: "error"` (SMART endpoints do not redirect
/// API calls, and following a redirect could carry the token elsewhere). `Debug` hides the
/// `Authorization` header and the body, which may hold codes and tokens.
#[derive(Clone, PartialEq, Eq)]
pub struct HttpRequest {
    /// Matches the response to the request inside an import session.
    pub id: RequestId,
    /// GET or POST.
    pub method: Method,
    /// Absolute URL.
    pub url: String,
    /// Header name/value pairs, in order.
    pub headers: Vec<(String, String)>,
    /// Body (an `application/x-www-form-urlencoded` string for token requests).
    pub body: Option<String>,
}

impl HttpRequest {
    pub(crate) fn get(id: RequestId, url: String, accept: &str) -> Self {
        Self {
            id,
            method: Method::Get,
            url,
            headers: vec![("Accept".into(), accept.into())],
            body: None,
        }
    }

    /// The value of a header (case-insensitive name).
    pub fn header(&self, name: &str) -> Option<&str> {
        find_header(&self.headers, name)
    }
}

impl fmt::Debug for HttpRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let headers: Vec<(&str, &str)> = self
            .headers
            .iter()
            .map(|(n, v)| {
                if n.eq_ignore_ascii_case("authorization") {
                    (n.as_str(), "<redacted>")
                } else {
                    (n.as_str(), v.as_str())
                }
            })
            .collect();
        f.debug_struct("HttpRequest")
            .field("id", &self.id)
            .field("method", &self.method)
            .field("url", &self.url)
            .field("headers", &headers)
            .field(
                "body",
                &self.body.as_ref().map(|b| format!("<{} bytes>", b.len())),
            )
            .finish()
    }
}

/// A response the shell received: the status, the headers it could read (CORS exposes only some:
/// `Retry-After` needs `Access-Control-Expose-Headers` on the server; `Content-Type` is always
/// readable) and the body bytes exactly as received.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpResponse {
    /// HTTP status code.
    pub status: u16,
    /// Header name/value pairs.
    pub headers: Vec<(String, String)>,
    /// The body bytes, unchanged.
    pub body: Vec<u8>,
}

impl HttpResponse {
    /// A response with no headers.
    pub fn new(status: u16, body: impl Into<Vec<u8>>) -> Self {
        Self {
            status,
            headers: Vec::new(),
            body: body.into(),
        }
    }

    /// Adds a header (builder style).
    pub fn with_header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.to_string(), value.to_string()));
        self
    }

    /// The value of a header (case-insensitive name).
    pub fn header(&self, name: &str) -> Option<&str> {
        find_header(&self.headers, name)
    }

    /// True for 2xx.
    pub fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }
}

fn find_header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

/// What the shell knows when `fetch()` rejects without an HTTP status (a `TypeError`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum NetworkFailure {
    /// `navigator.onLine` was false: this device has no network.
    Offline,
    /// `fetch()` failed while the device was online. For a request to another origin this is
    /// almost always CORS (the server does not allow browser apps from this site) or the server
    /// being unreachable; browsers deliberately do not say which.
    FetchFailed,
    /// The shell's per-request timer fired before a response arrived.
    TimedOut,
    /// `fetch()` failed, but the server answered the same URL when asked without CORS (an opaque
    /// `mode: "no-cors"` probe the shell may send, which carries no credentials and whose answer
    /// the app cannot read): the server is up but does not allow browser apps from this site.
    Blocked,
}

impl NetworkFailure {
    /// Classifies a rejected `fetch()` from what the shell can observe.
    pub fn classify(navigator_online: bool) -> Self {
        if navigator_online {
            NetworkFailure::FetchFailed
        } else {
            NetworkFailure::Offline
        }
    }

    /// A message for the patient, naming the provider.
    pub fn message(self, provider: &str) -> String {
        match self {
            NetworkFailure::Offline => format!(
                "This device is offline, so {provider} could not be reached. Connect to the \
                 internet and try again; nothing already imported is lost."
            ),
            NetworkFailure::FetchFailed => format!(
                "{provider} could not be reached from this app. Either this provider does not \
                 allow browser apps from this site (CORS), or it could not be reached right now. \
                 Try again later; if it keeps happening, tell whoever runs this app."
            ),
            NetworkFailure::TimedOut => format!(
                "{provider} took too long to answer. Try again later; nothing already imported \
                 is lost."
            ),
            NetworkFailure::Blocked => format!(
                "{provider} does not allow browser apps from this site (its server answered, but \
                 without permission for this site: CORS). Nothing more can be imported from it \
                 until the provider allows this app's address. Tell whoever runs this app; \
                 nothing already imported is lost."
            ),
        }
    }
}

/// What a response body looks like, for error messages.
pub(crate) enum BodyShape {
    /// Parsed JSON.
    Json(Value),
    /// Looks like an HTML page (a login page, a proxy error page, a portal landing page).
    Html,
    /// Empty body.
    Empty,
    /// Something else that is not JSON.
    Other,
}

pub(crate) fn sniff(body: &[u8]) -> BodyShape {
    let trimmed = body.trim_ascii_start();
    if trimmed.is_empty() {
        return BodyShape::Empty;
    }
    if let Ok(v) = serde_json::from_slice::<Value>(body) {
        return BodyShape::Json(v);
    }
    if trimmed.first() == Some(&b'<') {
        BodyShape::Html
    } else {
        BodyShape::Other
    }
}

/// The readable text of an OperationOutcome (`details.text`, else `diagnostics`, else the code),
/// joined and shortened so it fits in a message.
pub(crate) fn operation_outcome_text(v: &Value) -> Option<String> {
    if v.get("resourceType")?.as_str()? != "OperationOutcome" {
        return None;
    }
    let mut parts: Vec<String> = Vec::new();
    for issue in v.get("issue")?.as_array()? {
        let text = issue
            .pointer("/details/text")
            .and_then(Value::as_str)
            .or_else(|| issue.get("diagnostics").and_then(Value::as_str))
            .or_else(|| issue.get("code").and_then(Value::as_str));
        if let Some(t) = text {
            let t = t.trim();
            if !t.is_empty() && !parts.iter().any(|p| p == t) {
                parts.push(t.to_string());
            }
        }
    }
    let joined = parts.join("; ");
    Some(truncate(&joined, 300))
}

pub(crate) fn truncate(s: &str, max_chars: usize) -> String {
    if s.chars().count() <= max_chars {
        s.to_string()
    } else {
        let cut: String = s.chars().take(max_chars - 1).collect();
        format!("{cut}…")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_hides_secrets() {
        let req = HttpRequest {
            id: RequestId(3),
            method: Method::Post,
            url: "https://x.example/token".into(),
            headers: vec![("Authorization".into(), "Bearer secret-token".into())],
            body: Some("code=secret-code".into()),
        };
        let dbg = format!("{req:?}");
        assert!(!dbg.contains("secret"), "{dbg}");
        assert!(dbg.contains("<redacted>"));
    }

    #[test]
    fn classify_fetch_failures() {
        assert_eq!(NetworkFailure::classify(false), NetworkFailure::Offline);
        assert_eq!(NetworkFailure::classify(true), NetworkFailure::FetchFailed);
        assert!(NetworkFailure::FetchFailed
            .message("Good Health")
            .contains("CORS"));
        assert!(NetworkFailure::Offline
            .message("Good Health")
            .contains("offline"));
        let blocked = NetworkFailure::Blocked.message("Good Health");
        assert!(
            blocked.contains("does not allow browser apps from this site"),
            "{blocked}"
        );
    }

    #[test]
    fn outcome_text() {
        let v: Value = serde_json::json!({"resourceType":"OperationOutcome","issue":[
            {"severity":"error","code":"processing","details":{"text":"Category is required"}},
            {"severity":"error","code":"processing","diagnostics":"Category is required"},
            {"severity":"warning","code":"informational","diagnostics":"x"}]});
        assert_eq!(
            operation_outcome_text(&v).as_deref(),
            Some("Category is required; x")
        );
    }
}

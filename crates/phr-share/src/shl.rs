//! SMART Health Links: building `U`-flag links for our shares, and parsing any `shlink:/` link.
//!
//! The payload `{url, key, exp, flag, label, v}` is only base64url-encoded, not encrypted: anyone
//! holding the link can read the label. The default label therefore carries no PHI, and a custom
//! label is checked against the patient's names, birth date and identifiers ([`lint_label`]).
//! The key lives in the URL fragment after the viewer's `#`, which browsers never send to servers.

use base64::engine::general_purpose::{URL_SAFE, URL_SAFE_NO_PAD};
use base64::Engine;
use serde::{Deserialize, Serialize};

/// The default label: says what it is without saying whose.
pub const DEFAULT_LABEL: &str = "Health summary";

/// The SHL spec caps the manifest/file URL length.
pub const MAX_URL_LEN: usize = 128;

/// The SHL spec caps the label length.
pub const MAX_LABEL_LEN: usize = 80;

/// Why a link could not be built or opened.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ShlError {
    #[error("this is not a SMART Health Link (it should contain \"shlink:/\")")]
    NotALink,
    #[error(
        "the link is damaged (its content cannot be decoded); ask the sender to share it again"
    )]
    Undecodable,
    #[error("the link is missing its {0}; ask the sender to share it again")]
    Missing(&'static str),
    #[error("the link's address is not a web address this app can open")]
    BadUrl,
    #[error(
        "the link's address is longer than SMART Health Links allow ({0} characters, at most 128)"
    )]
    UrlTooLong(usize),
    #[error("the link's key is not a 256-bit key; ask the sender to share it again")]
    BadKey,
    #[error("the link is invalid: it combines the U and P flags, which SMART Health Links forbid")]
    UAndP,
    #[error("the link needs a passcode and a manifest server; this app opens it only with the passcode from the sender")]
    NeedsPasscode,
    #[error(
        "the link was made for a newer version of SMART Health Links ({0}); please update the app"
    )]
    UnsupportedVersion(u64),
    #[error("the link expired on {expired_at} (epoch seconds); ask the sender for a new one")]
    Expired {
        expired_at: u64,
        label: Option<String>,
    },
    #[error("the share host address must start with https:// (or be a local test address)")]
    BadShareHost,
    #[error("the viewer address must end with '#'")]
    BadViewerPrefix,
    #[error("the label is longer than 80 characters")]
    LabelTooLong,
    #[error("the label would reveal personal information to anyone who sees the link: {0}")]
    LabelHasPhi(String),
}

/// A SMART Health Link payload.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Payload {
    pub url: String,
    /// 32 bytes, base64url (43 characters).
    pub key: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exp: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub flag: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub v: Option<u64>,
}

/// Whether a share host is acceptable: `https://`, or `http://` on a loopback address (tests and
/// the local demo).
fn share_host_ok(host: &str) -> bool {
    if let Some(rest) = host.strip_prefix("https://") {
        return !rest.is_empty();
    }
    if let Some(rest) = host.strip_prefix("http://") {
        let authority = rest.split('/').next().unwrap_or("");
        let name = authority.rsplit_once(':').map_or(authority, |(h, _)| h);
        return matches!(name, "localhost" | "127.0.0.1" | "[::1]");
    }
    false
}

/// The file URL of a new share: the share host plus a random 43-character path segment
/// (32 random bytes, so 256 bits of entropy). Fails if the result would exceed 128 characters.
pub fn file_url(share_host: &str, random: &[u8; 32]) -> Result<String, ShlError> {
    let host = share_host.trim().trim_end_matches('/');
    if !share_host_ok(host) {
        return Err(ShlError::BadShareHost);
    }
    let url = format!("{host}/{}", URL_SAFE_NO_PAD.encode(random));
    if url.len() > MAX_URL_LEN {
        return Err(ShlError::UrlTooLong(url.len()));
    }
    Ok(url)
}

/// The base64url form of a 32-byte key, as it goes in the payload.
pub fn encode_key(key: &[u8; 32]) -> String {
    URL_SAFE_NO_PAD.encode(key)
}

/// What the patient knows about themselves, to check a label against.
#[derive(Clone, Debug, Default)]
pub struct PatientIdentity {
    /// Names (given and family names, nicknames).
    pub names: Vec<String>,
    /// `YYYY-MM-DD`.
    pub birth_date: Option<String>,
    /// Identifier values (MRN, SSN, member ids).
    pub identifiers: Vec<String>,
}

/// Problems with a label: each string says what it would reveal. Empty when the label is fine.
pub fn lint_label(label: &str, who: &PatientIdentity) -> Vec<String> {
    let mut out = Vec::new();
    let lower = label.to_lowercase();
    let words: Vec<&str> = lower
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .collect();
    for name in &who.names {
        for part in name.to_lowercase().split(|c: char| !c.is_alphanumeric()) {
            if part.chars().count() >= 2 && words.contains(&part) {
                out.push(format!("your name (\"{part}\")"));
            }
        }
    }
    if let Some(b) = who.birth_date.as_deref() {
        let parts: Vec<&str> = b.split('-').collect();
        if let [y, m, d] = parts.as_slice() {
            let forms = [
                b.to_string(),
                format!("{m}/{d}/{y}"),
                format!("{d}/{m}/{y}"),
                format!("{d}.{m}.{y}"),
                format!("{y}{m}{d}"),
                format!(
                    "{}/{}/{y}",
                    m.trim_start_matches('0'),
                    d.trim_start_matches('0')
                ),
            ];
            if forms.iter().any(|f| label.contains(f.as_str())) {
                out.push("your birth date".into());
            }
        }
    }
    let compact: String = label
        .chars()
        .filter(|c| c.is_alphanumeric())
        .collect::<String>()
        .to_lowercase();
    for id in &who.identifiers {
        let idc: String = id
            .chars()
            .filter(|c| c.is_alphanumeric())
            .collect::<String>()
            .to_lowercase();
        if idc.len() >= 4 && compact.contains(&idc) {
            out.push("one of your identifiers".into());
        }
    }
    out.dedup();
    out
}

/// What a new link says.
#[derive(Clone, Debug)]
pub struct LinkRequest<'a> {
    /// From [`file_url`].
    pub url: &'a str,
    /// The share's 32-byte key.
    pub key: &'a [u8; 32],
    /// Expiry hint (epoch seconds), when the patient chose one.
    pub exp: Option<u64>,
    /// `None` for [`DEFAULT_LABEL`].
    pub label: Option<&'a str>,
    /// The app's own viewer URL ending in `#` (e.g. `https://phr.example/#`), or `None` for a
    /// bare `shlink:/` link.
    pub viewer_prefix: Option<&'a str>,
}

/// Builds a `U`-flag link: payload → minified JSON → base64url → `shlink:/…`, after the viewer
/// prefix. A custom label is refused if [`lint_label`] finds personal information in it.
pub fn build_link(req: &LinkRequest<'_>, who: &PatientIdentity) -> Result<String, ShlError> {
    let label = req.label.unwrap_or(DEFAULT_LABEL).trim();
    if label.chars().count() > MAX_LABEL_LEN {
        return Err(ShlError::LabelTooLong);
    }
    let issues = lint_label(label, who);
    if !issues.is_empty() {
        return Err(ShlError::LabelHasPhi(issues.join(", ")));
    }
    if req.url.len() > MAX_URL_LEN {
        return Err(ShlError::UrlTooLong(req.url.len()));
    }
    if !share_host_ok(req.url) {
        return Err(ShlError::BadShareHost);
    }
    if let Some(p) = req.viewer_prefix {
        if !p.ends_with('#') {
            return Err(ShlError::BadViewerPrefix);
        }
    }
    let payload = Payload {
        url: req.url.to_string(),
        key: encode_key(req.key),
        exp: req.exp,
        flag: Some("U".into()),
        label: (!label.is_empty()).then(|| label.to_string()),
        v: Some(1),
    };
    let json = serde_json::to_string(&payload).map_err(|_| ShlError::Undecodable)?;
    Ok(format!(
        "{}shlink:/{}",
        req.viewer_prefix.unwrap_or(""),
        URL_SAFE_NO_PAD.encode(json.as_bytes())
    ))
}

/// A parsed, validated link.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParsedLink {
    pub payload: Payload,
    /// The decoded 32-byte key.
    pub key: [u8; 32],
    /// Flags this app does not know (ignored, as the spec requires).
    pub unknown_flags: Vec<char>,
    pub passcode_required: bool,
    pub long_term: bool,
    pub direct_file: bool,
}

impl ParsedLink {
    /// What the viewer must request next.
    pub fn request(&self, recipient: &str, passcode: Option<&str>) -> Result<Request, ShlError> {
        if self.direct_file {
            return Ok(Request::Get {
                url: direct_file_url(&self.payload.url, recipient),
            });
        }
        if self.passcode_required && passcode.is_none() {
            return Err(ShlError::NeedsPasscode);
        }
        let mut body = serde_json::json!({ "recipient": recipient });
        if let Some(p) = passcode {
            body["passcode"] = serde_json::Value::String(p.to_string());
        }
        Ok(Request::PostManifest {
            url: self.payload.url.clone(),
            body: body.to_string(),
        })
    }
}

/// The HTTP request to make for a link.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Request {
    /// `U` flag: `GET url?recipient=…` returns the JWE.
    Get { url: String },
    /// Otherwise: `POST url` with a JSON body returns the manifest.
    PostManifest { url: String, body: String },
}

/// `url?recipient=…` (or `&recipient=…` if the URL already has a query).
pub fn direct_file_url(url: &str, recipient: &str) -> String {
    let sep = if url.contains('?') { '&' } else { '?' };
    format!("{url}{sep}recipient={}", percent_encode(recipient))
}

fn percent_encode(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Parses any SMART Health Link: bare `shlink:/…`, or after a viewer URL's `#` (ours or another
/// tool's). `now` (epoch seconds) is used to report an expired link.
pub fn parse_link(text: &str, now: u64) -> Result<ParsedLink, ShlError> {
    let text = text.trim();
    let encoded = match text.find("shlink:/") {
        Some(0) => &text["shlink:/".len()..],
        Some(i) if text[..i].ends_with('#') => &text[i + "shlink:/".len()..],
        _ => return Err(ShlError::NotALink),
    };
    let encoded = encoded.trim_end_matches('=');
    let bytes = URL_SAFE_NO_PAD
        .decode(encoded)
        .or_else(|_| URL_SAFE.decode(encoded))
        .map_err(|_| ShlError::Undecodable)?;
    let value: serde_json::Value =
        serde_json::from_slice(&bytes).map_err(|_| ShlError::Undecodable)?;
    let obj = value.as_object().ok_or(ShlError::Undecodable)?;
    let url = obj
        .get("url")
        .and_then(|u| u.as_str())
        .ok_or(ShlError::Missing("address (url)"))?
        .to_string();
    let key_text = obj
        .get("key")
        .and_then(|k| k.as_str())
        .ok_or(ShlError::Missing("key"))?
        .to_string();
    let exp = match obj.get("exp") {
        None | Some(serde_json::Value::Null) => None,
        Some(v) => Some(
            v.as_f64()
                .filter(|f| *f >= 0.0)
                .ok_or(ShlError::Undecodable)? as u64,
        ),
    };
    let flag = match obj.get("flag") {
        None | Some(serde_json::Value::Null) => None,
        Some(v) => Some(v.as_str().ok_or(ShlError::Undecodable)?.to_string()),
    };
    let label = obj
        .get("label")
        .and_then(|l| l.as_str())
        .map(|l| l.chars().take(MAX_LABEL_LEN).collect::<String>());
    let v = match obj.get("v") {
        None | Some(serde_json::Value::Null) => None,
        Some(v) => Some(v.as_u64().ok_or(ShlError::Undecodable)?),
    };

    if let Some(ver) = v.filter(|v| *v > 1) {
        return Err(ShlError::UnsupportedVersion(ver));
    }
    if !(url.starts_with("https://") || url.starts_with("http://"))
        || url.contains(char::is_whitespace)
    {
        return Err(ShlError::BadUrl);
    }
    if url.len() > MAX_URL_LEN {
        return Err(ShlError::UrlTooLong(url.len()));
    }
    let key_bytes = URL_SAFE_NO_PAD
        .decode(key_text.trim_end_matches('='))
        .map_err(|_| ShlError::BadKey)?;
    let key: [u8; 32] = key_bytes.try_into().map_err(|_| ShlError::BadKey)?;
    let flags = flag.clone().unwrap_or_default();
    let passcode_required = flags.contains('P');
    let direct_file = flags.contains('U');
    if passcode_required && direct_file {
        return Err(ShlError::UAndP);
    }
    if let Some(e) = exp.filter(|e| *e < now) {
        return Err(ShlError::Expired {
            expired_at: e,
            label,
        });
    }
    Ok(ParsedLink {
        unknown_flags: flags
            .chars()
            .filter(|c| !matches!(c, 'L' | 'P' | 'U'))
            .collect(),
        long_term: flags.contains('L'),
        passcode_required,
        direct_file,
        key,
        payload: Payload {
            url,
            key: key_text,
            exp,
            flag,
            label,
            v,
        },
    })
}

//! URL handling: the FHIR base, origins, "is this URL on the same server", percent-encoding.
//!
//! The crate deliberately does not pull in a full WHATWG URL parser (it would be the largest part
//! of the wasm). Instead it parses the small, strict subset of absolute `http(s)` URLs that FHIR
//! servers use, and *refuses* anything a browser might normalise differently (dot segments,
//! backslashes, user info, control characters). Refusing is safe: the worst outcome is a clear
//! error, never a bearer token sent to a server the patient did not choose.

use std::borrow::Cow;
use std::fmt;

use percent_encoding::{percent_decode_str, utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
use serde::{Deserialize, Serialize};
use thiserror::Error;

/// Everything except the RFC 3986 "unreserved" characters is percent-encoded.
const STRICT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// Percent-encodes one query value (or form value): only `A-Z a-z 0-9 - . _ ~` stay as they are,
/// so a space becomes `%20` and `/` becomes `%2F`.
pub fn encode_component(value: &str) -> String {
    utf8_percent_encode(value, STRICT).to_string()
}

/// Decodes one `application/x-www-form-urlencoded` value (`+` is a space). Invalid UTF-8 is
/// replaced, which can only make a value *not* match, never match by accident.
pub fn decode_form_component(value: &str) -> String {
    let spaced = value.replace('+', " ");
    percent_decode_str(&spaced).decode_utf8_lossy().into_owned()
}

/// Builds `a=1&b=2` from pairs, strictly percent-encoding names and values.
pub fn encode_pairs<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> String {
    let mut out = String::new();
    for (name, value) in pairs {
        if !out.is_empty() {
            out.push('&');
        }
        out.push_str(&encode_component(name));
        out.push('=');
        out.push_str(&encode_component(value));
    }
    out
}

/// Why a URL was refused.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum UrlError {
    /// Empty or not an absolute `http(s)://host/...` URL.
    #[error("\"{0}\" is not a web address. It must start with https:// (for example https://fhir.example.org/r4).")]
    NotAbsolute(String),
    /// Plain `http` to a host other than this computer.
    #[error("\"{0}\" does not use https. Health data may only travel over https (plain http is allowed only for http://localhost while testing).")]
    NotHttps(String),
    /// The URL carries `user:password@`, a fragment, or characters a browser would rewrite.
    #[error("\"{0}\" contains parts that are not allowed here ({1}). Use the plain address of the server.")]
    Unsafe(String, &'static str),
    /// A base URL with a `?query`.
    #[error("\"{0}\" has a ?query part. A FHIR base address has none (for example https://fhir.example.org/r4).")]
    HasQuery(String),
}

/// The parts of an absolute URL that decide where a request goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ParsedUrl {
    pub scheme: String,
    pub host: String,
    pub port: u16,
    /// Path as written (without query or fragment); starts with `/` or is empty.
    pub path: String,
    pub query: Option<String>,
    pub has_fragment: bool,
}

impl ParsedUrl {
    pub(crate) fn origin(&self) -> Origin {
        Origin {
            scheme: self.scheme.clone(),
            host: self.host.clone(),
            port: self.port,
        }
    }
}

/// Scheme, host and port: the unit browsers use for CORS, and the unit a bearer token is bound to.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Origin {
    scheme: String,
    host: String,
    port: u16,
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let default = if self.scheme == "https" { 443 } else { 80 };
        if self.port == default {
            write!(f, "{}://{}", self.scheme, self.host)
        } else {
            write!(f, "{}://{}:{}", self.scheme, self.host, self.port)
        }
    }
}

fn is_loopback(host: &str) -> bool {
    host == "localhost" || host == "127.0.0.1" || host == "[::1]"
}

/// Parses a strict absolute http(s) URL. Returns an error for anything a browser's URL parser
/// could interpret differently from the text (so the origin check below cannot be fooled).
pub(crate) fn parse_absolute(input: &str) -> Result<ParsedUrl, UrlError> {
    let s = input;
    if s.is_empty() || s.len() > 4096 {
        return Err(UrlError::NotAbsolute(shorten(s)));
    }
    if s.chars().any(|c| c.is_control() || c.is_whitespace()) {
        return Err(UrlError::Unsafe(shorten(s), "spaces or control characters"));
    }
    if s.contains('\\') {
        return Err(UrlError::Unsafe(shorten(s), "backslashes"));
    }
    let (scheme, rest) = s
        .split_once("://")
        .ok_or_else(|| UrlError::NotAbsolute(shorten(s)))?;
    let scheme = scheme.to_ascii_lowercase();
    if scheme != "https" && scheme != "http" {
        return Err(UrlError::NotAbsolute(shorten(s)));
    }
    let (before_fragment, has_fragment) = match rest.split_once('#') {
        Some((a, _)) => (a, true),
        None => (rest, false),
    };
    let (before_query, query) = match before_fragment.split_once('?') {
        Some((a, q)) => (a, Some(q.to_string())),
        None => (before_fragment, None),
    };
    let (authority, path) = match before_query.find('/') {
        Some(i) => (&before_query[..i], &before_query[i..]),
        None => (before_query, ""),
    };
    if authority.contains('@') {
        return Err(UrlError::Unsafe(shorten(s), "a user name or password"));
    }
    let (host, port) =
        split_host_port(authority).ok_or_else(|| UrlError::NotAbsolute(shorten(s)))?;
    let port = match port {
        Some(p) => p,
        None if scheme == "https" => 443,
        None => 80,
    };
    for segment in path.split('/') {
        let lower = segment.to_ascii_lowercase();
        if matches!(
            lower.as_str(),
            "." | ".." | "%2e" | "%2e%2e" | ".%2e" | "%2e."
        ) {
            return Err(UrlError::Unsafe(
                shorten(s),
                "\".\" or \"..\" path segments",
            ));
        }
    }
    Ok(ParsedUrl {
        scheme,
        host,
        port,
        path: path.to_string(),
        query,
        has_fragment,
    })
}

fn split_host_port(authority: &str) -> Option<(String, Option<u16>)> {
    let (host, port) = if let Some(rest) = authority.strip_prefix('[') {
        let end = rest.find(']')?;
        let host = &authority[..end + 2];
        let after = &rest[end + 1..];
        match after.strip_prefix(':') {
            Some(p) => (host, Some(p)),
            None if after.is_empty() => (host, None),
            None => return None,
        }
    } else {
        match authority.rsplit_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (authority, None),
        }
    };
    if host.is_empty()
        || !host
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_' | '[' | ']' | ':'))
    {
        return None;
    }
    let port = match port {
        Some(p) if !p.is_empty() && p.chars().all(|c| c.is_ascii_digit()) => Some(p.parse().ok()?),
        Some(_) => return None,
        None => None,
    };
    Some((host.to_ascii_lowercase(), port))
}

fn shorten(s: &str) -> String {
    if s.chars().count() <= 120 {
        s.to_string()
    } else {
        let cut: String = s.chars().take(117).collect();
        format!("{cut}...")
    }
}

/// Checks that a URL is one the app may send health data or credentials to: https, or plain
/// http only to the loopback host (the local demo EHR).
pub(crate) fn check_secure(url: &str) -> Result<ParsedUrl, UrlError> {
    let parsed = parse_absolute(url)?;
    if parsed.scheme == "http" && !is_loopback(&parsed.host) {
        return Err(UrlError::NotHttps(shorten(url)));
    }
    Ok(parsed)
}

/// A FHIR server's base URL, normalised: scheme and host lower-case, no trailing slash, no
/// query or fragment. `https` is required, except `http://localhost` (and 127.0.0.1, \[::1\]) for
/// the local demo.
///
/// The normalised text is also what the app sends as `aud` when authorising, so two spellings of
/// the same base (with and without a trailing slash) behave the same.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct FhirBase {
    text: String,
    origin: Origin,
    path: String,
}

impl FhirBase {
    /// Parses and normalises a FHIR base URL.
    pub fn parse(input: &str) -> Result<Self, UrlError> {
        let trimmed = input.trim();
        let parsed = check_secure(trimmed)?;
        if parsed.has_fragment {
            return Err(UrlError::Unsafe(shorten(trimmed), "a #fragment"));
        }
        if parsed.query.is_some() {
            return Err(UrlError::HasQuery(shorten(trimmed)));
        }
        let path = parsed.path.trim_end_matches('/').to_string();
        let origin = parsed.origin();
        Ok(Self {
            text: format!("{origin}{path}"),
            origin,
            path,
        })
    }

    /// The normalised base, e.g. `https://fhir.example.org/r4`.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// The base's origin (scheme, host, port).
    pub fn origin(&self) -> Origin {
        self.origin.clone()
    }

    /// `{base}/{relative}`; `relative` must not start with a slash.
    pub fn join(&self, relative: &str) -> String {
        format!("{}/{}", self.text, relative.trim_start_matches('/'))
    }

    /// True when `url` is an absolute URL on the same origin *and* under this base's path, so it
    /// is safe to send this server's bearer token to it. Dot segments and other ambiguous forms
    /// are never contained.
    pub fn contains(&self, url: &str) -> bool {
        let Ok(parsed) = parse_absolute(url) else {
            return false;
        };
        if parsed.origin() != self.origin {
            return false;
        }
        let path = parsed.path.as_str();
        self.path.is_empty()
            || path == self.path
            || path
                .strip_prefix(self.path.as_str())
                .is_some_and(|rest| rest.starts_with('/'))
    }

    /// Resolves a link the server gave us (absolute, origin-relative `/x`, or base-relative `x`)
    /// to an absolute URL, or `None` when the result is not inside this base.
    pub fn resolve_link(&self, link: &str) -> Option<String> {
        let absolute = if link.starts_with("http://") || link.starts_with("https://") {
            link.to_string()
        } else if link.starts_with("//") {
            return None;
        } else if link.starts_with('/') {
            format!("{}{}", self.origin(), link)
        } else if link.starts_with('?') {
            format!("{}{}", self.text, link)
        } else {
            self.join(link)
        };
        self.contains(&absolute).then_some(absolute)
    }

    /// Turns a FHIR reference (`Type/id`, `Type/id/_history/1`, or an absolute URL under this
    /// base) into `(type, id)`. Contained (`#x`), `urn:` and other servers' references give `None`.
    pub fn local_reference(&self, reference: &str) -> Option<(String, String)> {
        self.local_reference_ref(reference)
            .map(|(ty, id)| (ty.into_owned(), id.into_owned()))
    }

    /// [`FhirBase::local_reference`] without copying a relative reference (most are): type and
    /// id are then slices of `reference`.
    pub(crate) fn local_reference_ref<'r>(
        &self,
        reference: &'r str,
    ) -> Option<(Cow<'r, str>, Cow<'r, str>)> {
        if !(reference.starts_with("http://") || reference.starts_with("https://")) {
            return split_type_id_ref(reference).map(|(ty, id)| (ty.into(), id.into()));
        }
        if !self.contains(reference) {
            return None;
        }
        let parsed = parse_absolute(reference).ok()?;
        if parsed.query.is_some() || parsed.has_fragment {
            return None;
        }
        let relative = parsed.path[self.path.len()..].trim_start_matches('/');
        split_type_id_ref(relative).map(|(ty, id)| (ty.to_string().into(), id.to_string().into()))
    }
}

/// `Type/id` or `Type/id/_history/v` → `(Type, id)`, with FHIR's type and id syntax checked.
pub(crate) fn split_type_id(relative: &str) -> Option<(String, String)> {
    split_type_id_ref(relative).map(|(ty, id)| (ty.to_string(), id.to_string()))
}

/// [`split_type_id`] without copying: slices of `relative`.
pub(crate) fn split_type_id_ref(relative: &str) -> Option<(&str, &str)> {
    let mut parts = relative.split('/');
    let ty = parts.next()?;
    let id = parts.next()?;
    match (parts.next(), parts.next(), parts.next()) {
        (None, _, _) => {}
        (Some("_history"), Some(v), None) if !v.is_empty() => {}
        _ => return None,
    }
    (is_resource_type(ty) && is_fhir_id(id)).then_some((ty, id))
}

/// FHIR resource type names: an upper-case letter then letters.
pub(crate) fn is_resource_type(s: &str) -> bool {
    // Bytes, not chars: any non-ASCII character has bytes outside these ranges, so the answer is
    // the same without decoding UTF-8.
    let mut bytes = s.bytes();
    bytes.next().is_some_and(|b| b.is_ascii_uppercase()) && bytes.all(|b| b.is_ascii_alphabetic())
}

/// FHIR `id` characters (`A-Z a-z 0-9 - .`). FHIR caps ids at 64 characters; up to 256 are
/// accepted because refusing a longer id from a non-conformant server would lose data, and the
/// character set (what keeps ids safe inside URLs) is still enforced.
pub(crate) fn is_fhir_id(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 256
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.')
}

impl TryFrom<String> for FhirBase {
    type Error = UrlError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<FhirBase> for String {
    fn from(value: FhirBase) -> Self {
        value.text
    }
}

impl fmt::Display for FhirBase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base_is_normalised() {
        let b = FhirBase::parse(" HTTPS://FHIR.Example.org/R4/ ").unwrap();
        assert_eq!(b.as_str(), "https://fhir.example.org/R4");
        let b = FhirBase::parse("https://fhir.example.org:443/").unwrap();
        assert_eq!(b.as_str(), "https://fhir.example.org");
        let b = FhirBase::parse("http://localhost:4000/fhir").unwrap();
        assert_eq!(b.as_str(), "http://localhost:4000/fhir");
    }

    #[test]
    fn base_refusals() {
        assert!(matches!(
            FhirBase::parse("http://fhir.example.org/r4"),
            Err(UrlError::NotHttps(_))
        ));
        assert!(matches!(
            FhirBase::parse("fhir.example.org/r4"),
            Err(UrlError::NotAbsolute(_))
        ));
        assert!(matches!(
            FhirBase::parse("https://fhir.example.org/r4?x=1"),
            Err(UrlError::HasQuery(_))
        ));
        assert!(matches!(
            FhirBase::parse("https://user:pw@fhir.example.org/r4"),
            Err(UrlError::Unsafe(..))
        ));
        assert!(matches!(
            FhirBase::parse("ftp://fhir.example.org"),
            Err(UrlError::NotAbsolute(_))
        ));
    }

    #[test]
    fn contains_requires_same_origin_and_path_prefix() {
        let b = FhirBase::parse("https://ehr.example.org/tenant-a/fhir").unwrap();
        assert!(b.contains("https://ehr.example.org/tenant-a/fhir/Observation?patient=1"));
        assert!(b.contains("https://EHR.example.org:443/tenant-a/fhir?_getpages=abc"));
        assert!(!b.contains("https://ehr.example.org/tenant-b/fhir/Observation"));
        assert!(!b.contains("https://ehr.example.org/tenant-a/fhirx/Observation"));
        assert!(!b.contains("http://ehr.example.org/tenant-a/fhir/Observation"));
        assert!(!b.contains("https://ehr.example.org:8443/tenant-a/fhir/Observation"));
        assert!(!b.contains("https://evil.example/tenant-a/fhir/Observation"));
        assert!(!b.contains("https://ehr.example.org/tenant-a/fhir/../../tenant-b/fhir/x"));
        assert!(!b.contains("https://ehr.example.org/tenant-a/fhir/%2E%2E/x"));
        assert!(!b.contains("https://ehr.example.org/tenant-a/fhir\\..\\x"));
        assert!(!b.contains("https://ehr.example.org@evil.example/tenant-a/fhir/x"));
    }

    #[test]
    fn links_resolve_relative_forms() {
        let b = FhirBase::parse("https://ehr.example.org/fhir").unwrap();
        assert_eq!(
            b.resolve_link("/fhir/Observation?page=2").as_deref(),
            Some("https://ehr.example.org/fhir/Observation?page=2")
        );
        assert_eq!(
            b.resolve_link("?_getpages=x").as_deref(),
            Some("https://ehr.example.org/fhir?_getpages=x")
        );
        assert_eq!(
            b.resolve_link("Observation?page=2").as_deref(),
            Some("https://ehr.example.org/fhir/Observation?page=2")
        );
        assert_eq!(b.resolve_link("//evil.example/fhir/x"), None);
        assert_eq!(b.resolve_link("/other/x"), None);
    }

    #[test]
    fn references_resolve_only_on_this_server() {
        let b = FhirBase::parse("https://ehr.example.org/fhir").unwrap();
        let pr = |t: &str, i: &str| Some((t.to_string(), i.to_string()));
        assert_eq!(
            b.local_reference("Practitioner/p1"),
            pr("Practitioner", "p1")
        );
        assert_eq!(
            b.local_reference("Practitioner/p1/_history/3"),
            pr("Practitioner", "p1")
        );
        assert_eq!(
            b.local_reference("https://ehr.example.org/fhir/Organization/o.1"),
            pr("Organization", "o.1")
        );
        assert_eq!(
            b.local_reference("https://other.example/fhir/Organization/o1"),
            None
        );
        assert_eq!(b.local_reference("#med1"), None);
        assert_eq!(b.local_reference("urn:uuid:1234"), None);
        assert_eq!(b.local_reference("Practitioner/p 1"), None);
        assert_eq!(b.local_reference("Practitioner?identifier=x"), None);
    }

    #[test]
    fn type_and_id_syntax_is_checked_on_bytes() {
        // The byte-wise checks refuse every non-ASCII letter or digit, as the char-wise ones did.
        assert!(is_fhir_id("a-B.9"));
        for id in ["", "é1", "a١", "a b", "a/b", "a_b", &"x".repeat(257)] {
            assert!(!is_fhir_id(id), "{id:?}");
        }
        assert!(is_fhir_id(&"x".repeat(256)));
        assert!(is_resource_type("Observation"));
        for ty in ["", "observation", "Ob1", "Obsé", "Öbs", "Ob-s"] {
            assert!(!is_resource_type(ty), "{ty:?}");
        }
        assert_eq!(
            split_type_id_ref("Encounter/e1/_history/2"),
            Some(("Encounter", "e1"))
        );
        assert_eq!(split_type_id_ref("Encounter/e1/_history/"), None);
        assert_eq!(split_type_id_ref("Encounter/e1/x"), None);
        assert_eq!(split_type_id_ref("Encounter"), None);
        assert_eq!(
            split_type_id("Patient/p.1"),
            Some(("Patient".to_string(), "p.1".to_string()))
        );
    }

    #[test]
    fn strict_percent_encoding() {
        assert_eq!(
            encode_component("launch/patient openid"),
            "launch%2Fpatient%20openid"
        );
        assert_eq!(encode_component("a-b.c_d~e"), "a-b.c_d~e");
        assert_eq!(decode_form_component("a+b%2Fc"), "a b/c");
    }
}

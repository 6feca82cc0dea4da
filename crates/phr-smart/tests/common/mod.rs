//! Shared test helpers: fixtures, a deterministic random source, and smart-server builders.
#![allow(dead_code)]

use std::path::PathBuf;

use phr_smart::{Discovery, DiscoveryStep, FhirBase, HttpResponse, PkcePolicy, SmartServer};

pub fn fixture_path(rel: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(rel)
}

pub fn fixture(rel: &str) -> String {
    std::fs::read_to_string(fixture_path(rel)).unwrap_or_else(|e| panic!("fixture {rel}: {e}"))
}

pub fn json_response(status: u16, body: &str) -> HttpResponse {
    HttpResponse::new(status, body.as_bytes().to_vec())
        .with_header("Content-Type", "application/json")
}

/// A deterministic byte stream (xorshift) standing in for `crypto.getRandomValues`.
pub fn seeded_rng(seed: u64) -> impl FnMut(&mut [u8]) {
    let mut x = seed | 1;
    move |buf: &mut [u8]| {
        for b in buf {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            *b = (x >> 24) as u8;
        }
    }
}

/// Runs discovery on a base with a well-known response (and an optional metadata response).
pub fn discover(
    base: &str,
    policy: PkcePolicy,
    well_known: HttpResponse,
    metadata: Option<HttpResponse>,
) -> Result<SmartServer, phr_smart::DiscoveryError> {
    let mut d = Discovery::new(FhirBase::parse(base).unwrap(), policy);
    match d.on_response(&well_known)? {
        DiscoveryStep::Done(s) => Ok(*s),
        DiscoveryStep::Fetch(req) => {
            assert!(req.url.ends_with("/metadata"), "{}", req.url);
            let meta = metadata.expect("discovery asked for metadata");
            match d.on_response(&meta)? {
                DiscoveryStep::Done(s) => Ok(*s),
                DiscoveryStep::Fetch(r) => panic!("unexpected third request {}", r.url),
            }
        }
    }
}

/// The SMART-sandbox-like server (v1 wildcard scopes) on `base`.
pub fn sandbox_server(base: &str) -> SmartServer {
    discover(
        base,
        PkcePolicy::default(),
        json_response(200, &fixture("discovery/smart-sandbox-like.json")),
        None,
    )
    .unwrap()
}

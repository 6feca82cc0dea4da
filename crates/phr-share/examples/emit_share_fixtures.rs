//! Writes a realistic share (IPS Bundles with and without substance-use data, the JWE, the
//! SMART Health Link, its QR module matrix and the printable summary) for the independent
//! consumer tests under `e2e/consumers/`.
//!
//! `cargo run -p phr-share --example emit_share_fixtures -- <out dir> [share host]`
//!
//! Randomness is fixed here so the fixtures are reproducible; the app draws the seed, key and IV
//! from the platform CSPRNG for every share.

#[path = "../tests/common/fixture.rs"]
mod fixture;

use phr_consent::Category;
use phr_share::jwe::{self, FHIR_JSON};
use phr_share::qr::QrMatrix;
use phr_share::shl::{self, LinkRequest, PatientIdentity};
use phr_share::{build_ips, select, summary, DocumentMeta, Selection};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let out = std::path::PathBuf::from(
        args.next()
            .ok_or("usage: emit_share_fixtures <out dir> [share host]")?,
    );
    let host = args
        .next()
        .unwrap_or_else(|| "http://127.0.0.1:8765/shl".into());
    std::fs::create_dir_all(&out)?;

    let rec = fixture::demo_record();
    let items = rec.share_items();
    let meta = |id: &str| DocumentMeta {
        identifier_system: "urn:ietf:rfc:3986".into(),
        identifier_value: format!("urn:uuid:{id}"),
        timestamp: "2026-11-21T10:00:00Z".into(),
        title: "Patient summary".into(),
    };

    let without = select(&items, &rec.patient, &Selection::default(), &[11; 32])?;
    let doc_without = build_ips(&without, &meta("6f1d1c4e-8a43-4a52-9d2b-0c1f6a3e7b10"))?;
    std::fs::write(out.join("ips-without-sud.json"), doc_without.raw())?;

    let mut sel = Selection::default();
    sel.included_categories.insert(Category::SubstanceUse);
    sel.sections.insert(phr_share::Section::VitalSigns);
    let with = select(&items, &rec.patient, &sel, &[12; 32])?;
    let doc_with = build_ips(&with, &meta("0b7e5c2a-93d4-4c8e-b1f0-5a6d2e9c4f31"))?;
    std::fs::write(out.join("ips-with-sud.json"), doc_with.raw())?;
    std::fs::write(
        out.join("summary.html"),
        summary::render_document_html(doc_with.raw())?,
    )?;

    let key = [0x5a; 32];
    let jwe = jwe::encrypt(doc_with.raw().as_bytes(), &key, [0x17; 12], FHIR_JSON, true)?;
    std::fs::write(out.join("share.jwe"), &jwe)?;

    let url = shl::file_url(&host, &[0x33; 32])?;
    let exp = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)?
        .as_secs()
        + 3600;
    let who = PatientIdentity {
        names: vec!["Alex Doe".into()],
        birth_date: Some("1984-03-09".into()),
        identifiers: vec!["MRN-445566".into()],
    };
    let link = shl::build_link(
        &LinkRequest {
            url: &url,
            key: &key,
            exp: Some(exp),
            label: None,
            viewer_prefix: Some("http://localhost:8080/#"),
        },
        &who,
    )?;
    std::fs::write(out.join("link.txt"), &link)?;
    std::fs::write(out.join("key.txt"), shl::encode_key(&key))?;

    let qr = QrMatrix::encode(&link)?;
    let bits: String = qr
        .modules
        .iter()
        .map(|d| if *d { '1' } else { '0' })
        .collect();
    std::fs::write(
        out.join("qr.json"),
        serde_json::json!({ "width": qr.width, "version": qr.version(), "modules": bits })
            .to_string(),
    )?;
    std::fs::write(
        out.join("qr.svg"),
        qr.svg("QR code for a shared health summary link", 320),
    )?;
    println!("wrote share fixtures to {}", out.display());
    Ok(())
}

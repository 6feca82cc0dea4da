//! Making a share: segmentation → IPS → JWE → link → QR (the pure crates, with the bulk
//! compression and encryption done natively by the browser; timed as
//! `performance.measure("share-build")` and its parts), then recording it in the vault (Consent
//! and share log) and, on the share host, publishing and revoking.

use phr_consent::{build_consent, Category, DisclosureChoice, Purpose};
use phr_record::Record;
use phr_share::qr::QrMatrix;
use phr_share::shl::{self, LinkRequest, PatientIdentity};
use phr_share::{build_ips, select, DocumentMeta, Section, Selection};

use crate::platform::{ids, webcrypto::random_bytes};
use crate::session::Session;
use crate::share::crypto::encrypt_fhir_json;
use crate::share::log::{ShareDetail, ShareKind, ShareStatus};
use crate::share::model::Catalog;
use crate::share::net::{request, NoAnswer};

/// The name of the measure the benchmark reads.
pub const MEASURE: &str = "share-build";

/// Who receives a share, why, for how long, and the link's label.
#[derive(Clone, Debug, PartialEq)]
pub struct Terms {
    pub recipient: String,
    pub purpose: Purpose,
    /// How many days the link is offered.
    pub days: u32,
    /// The link's label (empty: the default, which says nothing about the patient).
    pub label: String,
}

impl Terms {
    /// The parts a consent names: a change to any of them needs a new consent.
    pub fn consent_part(&self) -> (String, Purpose, u32) {
        (self.recipient.trim().to_string(), self.purpose, self.days)
    }

    pub fn label_or_default(&self) -> &str {
        match self.label.trim() {
            "" => shl::DEFAULT_LABEL,
            l => l,
        }
    }
}

/// A share ready to hand over.
#[derive(Clone, Debug)]
pub struct Built {
    /// The IPS document Bundle (JSON).
    pub ips: String,
    /// The encrypted file (compact JWE).
    pub jwe: String,
    pub key: [u8; 32],
    /// Where the file goes on the share host (none without one).
    pub url: Option<String>,
    pub link: Option<String>,
    pub qr: Option<QrMatrix>,
    /// Expiry (epoch seconds and RFC 3339).
    pub exp: u64,
    pub expires: String,
    /// Entries in the document besides the Composition, the Patient and Provenance.
    pub items: usize,
    pub categories: Vec<Category>,
    pub sections: Vec<Section>,
}

fn performance() -> Option<web_sys::Performance> {
    web_sys::window().and_then(|w| w.performance())
}

/// The app's own viewer address: this page's origin and path, then `#`.
pub fn viewer_prefix() -> String {
    let location = web_sys::window().map(|w| w.location());
    let origin = location
        .as_ref()
        .and_then(|l| l.origin().ok())
        .unwrap_or_default();
    let path = location
        .as_ref()
        .and_then(|l| l.pathname().ok())
        .unwrap_or_else(|| "/".into());
    format!("{origin}{path}#")
}

pub fn epoch_to_rfc3339(secs: u64) -> String {
    js_sys::Date::new(&wasm_bindgen::JsValue::from_f64(secs as f64 * 1000.0))
        .to_iso_string()
        .into()
}

/// Checks a custom label for personal information (names, birth date, identifiers).
pub fn label_problem(label: &str, who: &PatientIdentity) -> Option<String> {
    let label = label.trim();
    if label.chars().count() > shl::MAX_LABEL_LEN {
        return Some(format!(
            "The label is too long: at most {} characters.",
            shl::MAX_LABEL_LEN
        ));
    }
    let issues = shl::lint_label(label, who);
    (!issues.is_empty()).then(|| {
        format!(
            "Anyone who sees the link can read its label, and this one reveals {}. Use a label without it, or leave it empty.",
            issues.join(", ")
        )
    })
}

/// The link and its QR code for a file at `url`.
pub fn link_for(
    url: &str,
    key: &[u8; 32],
    exp: u64,
    terms: &Terms,
    who: &PatientIdentity,
) -> Result<(String, QrMatrix), String> {
    let link = shl::build_link(
        &LinkRequest {
            url,
            key,
            exp: Some(exp),
            label: Some(terms.label_or_default()),
            viewer_prefix: Some(&viewer_prefix()),
        },
        who,
    )
    .map_err(|e| format!("The link could not be made: {e}."))?;
    let qr = QrMatrix::encode(&link).map_err(|e| format!("{e}."))?;
    Ok((link, qr))
}

/// Builds the share: what the patient previewed (same selection, same seed), as an IPS, encrypted
/// under a fresh key, with its link and QR code when there is a share host. The record is read
/// synchronously at the start; nothing is borrowed across the encryption's `await`.
#[allow(clippy::too_many_arguments)]
pub async fn build(
    catalog: &Catalog,
    session: &Session,
    selection: &Selection,
    seed: &[u8; 32],
    terms: &Terms,
    share_host: Option<&str>,
    now: &str,
    now_secs: u64,
) -> Result<Built, String> {
    let perf = performance();
    let mark = |name: &str| {
        if let Some(p) = &perf {
            let _ = p.mark(name);
        }
    };
    mark("share-build-start");
    let segmented = {
        let record = session.record();
        catalog.with_items(&record, |items| {
            select(items, &catalog.patient, selection, seed)
        })
    }
    .map_err(|e| format!("The share could not be prepared: {e}."))?;
    mark("share-build-selected");
    let meta = DocumentMeta {
        identifier_system: "urn:ietf:rfc:3986".into(),
        identifier_value: format!("urn:uuid:{}", ids::uuid_v4()),
        timestamp: now.to_string(),
        title: "Patient summary".into(),
    };
    let doc = build_ips(&segmented, &meta)
        .map_err(|e| format!("The summary could not be built: {e}."))?;
    mark("share-build-ips");
    let mut key = [0u8; 32];
    random_bytes(&mut key);
    let mut iv = [0u8; 12];
    random_bytes(&mut iv);
    let encrypted = encrypt_fhir_json(doc.raw().as_bytes(), &key, iv)
        .await
        .map_err(|e| format!("The summary could not be encrypted ({e}). Try again."))?;
    mark("share-build-encrypted");
    let exp = now_secs + u64::from(terms.days) * 86_400;
    let (url, link, qr) = match share_host {
        Some(host) => {
            let mut path = [0u8; 32];
            random_bytes(&mut path);
            let url = shl::file_url(host, &path).map_err(|e| {
                format!("The share host in this app's settings cannot be used: {e}. Ask whoever runs this app to fix config.json; meanwhile, download the encrypted file instead.")
            })?;
            let (link, qr) = link_for(&url, &key, exp, terms, &catalog.identity)?;
            (Some(url), Some(link), Some(qr))
        }
        None => (None, None, None),
    };
    mark("share-build-end");
    if let Some(p) = &perf {
        // The whole step (what the benchmark reads), then its parts.
        for (name, from, to) in [
            (MEASURE, "share-build-start", "share-build-end"),
            (
                "share-build:select",
                "share-build-start",
                "share-build-selected",
            ),
            ("share-build:ips", "share-build-selected", "share-build-ips"),
            (
                "share-build:encrypt",
                "share-build-ips",
                "share-build-encrypted",
            ),
            (
                "share-build:link-qr",
                "share-build-encrypted",
                "share-build-end",
            ),
        ] {
            let _ = p.measure_with_start_mark_and_end_mark(name, from, to);
        }
    }
    Ok(Built {
        ips: doc.raw().to_string(),
        jwe: encrypted,
        key,
        url,
        link,
        qr,
        exp,
        expires: epoch_to_rfc3339(exp),
        items: segmented.entries.len(),
        categories: segmented.included_categories().into_iter().collect(),
        sections: selection.sections.iter().copied().collect(),
    })
}

/// Puts the encrypted file on the share host.
pub async fn publish(url: &str, jwe_text: &str) -> Result<(), String> {
    match request("PUT", url, Some(jwe_text), Some("application/jose")).await {
        Ok(a) if a.ok() => Ok(()),
        Ok(a) if a.status == 413 => Err(
            "The share host refused the file because it is too large. Share fewer sections or items, or download the encrypted file instead. Nothing was shared."
                .into(),
        ),
        Ok(a) => Err(format!(
            "The share host refused the file (HTTP {}). Nothing was shared. Try again later, or download the encrypted file and share it yourself.",
            a.status
        )),
        Err(NoAnswer(detail)) => Err(format!(
            "The share host could not be reached ({detail}). Nothing was shared. Check your connection and try again, or download the encrypted file and share it yourself."
        )),
    }
}

/// Records the share in the vault: the Consent (when sensitive information is included by the
/// patient's choice) and the share log entry. Returns the log entry's id. Save afterwards.
pub fn record_share(
    record: &mut Record,
    catalog: &Catalog,
    built: &Built,
    terms: &Terms,
    kind: ShareKind,
    now: &str,
) -> Result<String, String> {
    let consent_id = if built.categories.is_empty() {
        None
    } else {
        let id = ids::uuid_v4();
        let patient_reference = crate::record_util::patient_reference(record);
        let patient_name = catalog
            .patient
            .view::<phr_fhir::views::Patient>()
            .ok()
            .and_then(|p| p.display_name());
        let consent = build_consent(&DisclosureChoice {
            consent_id: &id,
            patient_reference: &patient_reference,
            patient_name: patient_name.as_deref(),
            recipient: terms.recipient.trim(),
            purpose: terms.purpose,
            categories: &built.categories,
            date_time: now,
            expires: Some(&built.expires),
        })
        .map_err(|e| format!("Your consent could not be recorded: {e}. Nothing was shared."))?;
        record
            .put_consent(consent)
            .map_err(|e| format!("Your consent could not be recorded: {e}. Nothing was shared."))?;
        Some(id)
    };
    let id = ids::uuid_v4();
    let detail = ShareDetail {
        v: 1,
        kind,
        recipient: terms.recipient.trim().to_string(),
        purpose: terms.purpose,
        sections: built.sections.clone(),
        categories: built.categories.clone(),
        items: built.items,
        expires: Some(built.expires.clone()),
        status: ShareStatus::Active,
        revoked_at: None,
        url: built.url.clone(),
        link: built.link.clone(),
        consent_id,
        label: terms.label_or_default().to_string(),
        outputs: Vec::new(),
    };
    record
        .put_share_log_entry(detail.entry(&id, now))
        .map_err(|e| format!("The share could not be recorded in your vault: {e}."))?;
    Ok(id)
}

/// Changes the detail of a share log entry (`f` returns false to leave it unchanged).
pub fn update_entry(
    record: &mut Record,
    id: &str,
    f: impl FnOnce(&mut ShareDetail) -> bool,
) -> Result<bool, String> {
    let Some(entry) = record.share_log().iter().find(|e| e.id == id).cloned() else {
        return Ok(false);
    };
    let Some(mut detail) = ShareDetail::of(&entry) else {
        return Ok(false);
    };
    if !f(&mut detail) {
        return Ok(false);
    }
    record
        .put_share_log_entry(detail.entry(&entry.id, &entry.created_at))
        .map_err(|e| format!("The share log could not be updated: {e}."))?;
    Ok(true)
}

/// Marks a share revoked and its Consent inactive (ended now).
pub fn mark_revoked(record: &mut Record, id: &str, now: &str) -> Result<(), String> {
    let mut consent_id = None;
    update_entry(record, id, |d| {
        consent_id = d.consent_id.clone();
        d.status = ShareStatus::Revoked;
        d.revoked_at = Some(now.to_string());
        true
    })?;
    if let Some(cid) = consent_id {
        let consent = record
            .consents()
            .find(|c| c.id() == Some(cid.as_str()))
            .map(|c| c.value());
        if let Some(mut v) = consent {
            v["status"] = serde_json::Value::String("inactive".into());
            if let Some(period) = v
                .get_mut("provision")
                .and_then(|p| p.get_mut("period"))
                .and_then(|p| p.as_object_mut())
            {
                period.insert("end".into(), serde_json::Value::String(now.to_string()));
            }
            if let Ok(r) = phr_fhir::Resource::from_value(&v) {
                record
                    .put_consent(r)
                    .map_err(|e| format!("The consent could not be updated: {e}."))?;
            }
        }
    }
    Ok(())
}

/// Deletes a share's file from the share host. A file already gone counts as deleted.
pub async fn delete_file(url: &str) -> Result<(), String> {
    match request("DELETE", url, None, None).await {
        Ok(a) if a.ok() || a.status == 404 || a.status == 410 => Ok(()),
        Ok(a) => Err(format!(
            "The share host did not delete the file (HTTP {}). The link still works; try again later.",
            a.status
        )),
        Err(NoAnswer(detail)) => Err(format!(
            "The share host could not be reached ({detail}). The link still works; try again when you are online."
        )),
    }
}

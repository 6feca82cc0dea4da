//! SMART User-access Brands (HL7 SMART App Launch, brands.md) → provider directory entries.
//!
//! A Brands Bundle holds `Organization` resources (brands: name, logo via the
//! `organization-brand` extension, portals via `organization-portal`) and `Endpoint` resources
//! (FHIR base URLs). A brand reaches its endpoints through `organization-portal`'s
//! `portalEndpoint` references and/or `Organization.endpoint`; an affiliate brand without its own
//! endpoints (`partOf` a parent) shares its parent's. Each usable (brand, R4 endpoint) pair
//! becomes one [`ProviderEntry`].
//!
//! Vendor bundles can be tens of megabytes, so entries are read lazily: each resource is sliced
//! out as raw JSON and only the few fields used here are decoded. A malformed entry is skipped
//! with a reason, never fatal.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::Value;
use thiserror::Error;

use crate::directory::{valid_logo, EntrySource, ProviderEntry};
use crate::urls::FhirBase;

const BRAND_EXT: &str = "http://hl7.org/fhir/StructureDefinition/organization-brand";
const PORTAL_EXT: &str = "http://hl7.org/fhir/StructureDefinition/organization-portal";
const FHIR_VERSION_EXT: &str = "http://hl7.org/fhir/StructureDefinition/endpoint-fhir-version";

/// The Bundle itself is unusable.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum BrandsError {
    /// Not JSON.
    #[error("The brands file is not valid JSON ({0}).")]
    NotJson(String),
    /// JSON, but not a Bundle.
    #[error("The brands file is not a FHIR Bundle of brands (found {0}).")]
    NotBundle(String),
}

/// A brand or endpoint that did not become a provider entry, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BrandSkip {
    /// e.g. `Organization/good-health` or `Organization/x → Endpoint/y`.
    pub what: String,
    /// Why.
    pub reason: String,
}

/// The result of converting a Brands Bundle.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BrandsImport {
    /// Usable entries, in bundle order.
    pub providers: Vec<ProviderEntry>,
    /// What was left out.
    pub skipped: Vec<BrandSkip>,
    /// `Bundle.timestamp` (when the publisher last changed it).
    pub timestamp: Option<String>,
}

#[derive(Deserialize)]
struct BundleIn<'a> {
    #[serde(rename = "resourceType")]
    resource_type: Option<String>,
    timestamp: Option<String>,
    #[serde(default, borrow)]
    entry: Option<Vec<EntryIn<'a>>>,
}

#[derive(Deserialize)]
struct EntryIn<'a> {
    #[serde(rename = "fullUrl")]
    full_url: Option<String>,
    #[serde(borrow)]
    resource: Option<&'a RawValue>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct ResourceIn {
    resource_type: Option<String>,
    id: Option<String>,
    name: Option<String>,
    active: Option<bool>,
    status: Option<String>,
    #[serde(default)]
    extension: Vec<Ext>,
    #[serde(default)]
    endpoint: Vec<RefIn>,
    part_of: Option<RefIn>,
    address: Option<Value>,
    connection_type: Option<Value>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct Ext {
    url: Option<String>,
    #[serde(default)]
    extension: Vec<Ext>,
    value_url: Option<String>,
    value_uri: Option<String>,
    value_string: Option<String>,
    value_code: Option<String>,
    value_reference: Option<RefIn>,
}

impl Ext {
    fn text(&self) -> Option<&str> {
        self.value_url
            .as_deref()
            .or(self.value_uri.as_deref())
            .or(self.value_string.as_deref())
            .or(self.value_code.as_deref())
            .map(str::trim)
            .filter(|s| !s.is_empty())
    }
}

#[derive(Deserialize, Default, Clone)]
struct RefIn {
    reference: Option<String>,
}

struct EndpointInfo {
    id: String,
    result: Result<FhirBase, String>,
}

#[derive(Default, Clone)]
struct Portal {
    name: Option<String>,
    logo: Option<String>,
    endpoints: Vec<String>,
}

struct OrgInfo {
    key: String,
    id: String,
    name: Option<String>,
    active: Option<bool>,
    logo: Option<String>,
    portals: Vec<Portal>,
    endpoints: Vec<String>,
    part_of: Option<String>,
}

impl OrgInfo {
    /// (endpoint reference, portal) pairs; `Organization.endpoint` ones have no portal.
    fn endpoint_refs(&self) -> Vec<(String, Option<Portal>)> {
        let mut out: Vec<(String, Option<Portal>)> = Vec::new();
        for p in &self.portals {
            for e in &p.endpoints {
                if !out.iter().any(|(r, _)| r == e) {
                    out.push((e.clone(), Some(p.clone())));
                }
            }
        }
        for e in &self.endpoints {
            if !out.iter().any(|(r, _)| r == e) {
                out.push((e.clone(), None));
            }
        }
        out
    }
}

/// Normalises a reference to `Type/id` (relative, or the tail of an absolute URL).
fn ref_key(reference: &str) -> Option<String> {
    let mut parts = reference.trim_end_matches('/').rsplit('/');
    let id = parts.next()?;
    let ty = parts.next()?;
    (!id.is_empty() && crate::urls::is_resource_type(ty)).then(|| format!("{ty}/{id}"))
}

fn check_endpoint(r: &ResourceIn) -> Result<FhirBase, String> {
    if let Some(status) = r.status.as_deref() {
        if status != "active" {
            return Err(format!("the endpoint's status is \"{status}\""));
        }
    }
    if let Some(ct) = &r.connection_type {
        let code = ct
            .get("code")
            .and_then(Value::as_str)
            .or_else(|| ct.pointer("/coding/0/code").and_then(Value::as_str));
        if let Some(code) = code {
            if code != "hl7-fhir-rest" {
                return Err(format!("not a FHIR REST endpoint ({code})"));
            }
        }
    }
    let versions: Vec<&str> = r
        .extension
        .iter()
        .filter(|e| e.url.as_deref() == Some(FHIR_VERSION_EXT))
        .filter_map(Ext::text)
        .collect();
    if !versions.is_empty() && !versions.iter().any(|v| v.starts_with("4.")) {
        return Err(format!("FHIR version {} is not R4", versions.join(", ")));
    }
    let address = r
        .address
        .as_ref()
        .and_then(Value::as_str)
        .ok_or_else(|| "the endpoint has no address".to_string())?;
    FhirBase::parse(address).map_err(|e| e.to_string())
}

fn read_org(r: &ResourceIn, key: String, id: String) -> OrgInfo {
    let mut logo = None;
    let mut portals = Vec::new();
    for ext in &r.extension {
        match ext.url.as_deref() {
            Some(BRAND_EXT) if logo.is_none() => {
                logo = ext
                    .extension
                    .iter()
                    .filter(|e| e.url.as_deref() == Some("brandLogo"))
                    .filter_map(Ext::text)
                    .find(|l| valid_logo(l))
                    .map(str::to_string);
            }
            Some(PORTAL_EXT) => {
                let mut portal = Portal::default();
                for sub in &ext.extension {
                    match sub.url.as_deref() {
                        Some("portalName") => portal.name = sub.text().map(str::to_string),
                        Some("portalLogo") => {
                            portal.logo = sub.text().filter(|l| valid_logo(l)).map(str::to_string)
                        }
                        Some("portalEndpoint") => {
                            if let Some(k) = sub
                                .value_reference
                                .as_ref()
                                .and_then(|v| v.reference.as_deref())
                                .and_then(ref_key)
                            {
                                portal.endpoints.push(k);
                            }
                        }
                        _ => {}
                    }
                }
                portals.push(portal);
            }
            _ => {}
        }
    }
    OrgInfo {
        key,
        id,
        name: r
            .name
            .as_deref()
            .map(str::trim)
            .filter(|n| !n.is_empty())
            .map(str::to_string),
        active: r.active,
        logo,
        portals,
        endpoints: r
            .endpoint
            .iter()
            .filter_map(|e| e.reference.as_deref().and_then(ref_key))
            .collect(),
        part_of: r
            .part_of
            .as_ref()
            .and_then(|p| p.reference.as_deref())
            .and_then(ref_key),
    }
}

fn entry_id(prefix: &str, org: &str, endpoint: &str) -> String {
    let raw = format!("{prefix}{org}/{endpoint}");
    let mut id: String = raw
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | ':') {
                c
            } else {
                '-'
            }
        })
        .collect();
    id.truncate(128);
    id
}

/// Converts a User-access Brands Bundle into provider entries that use `client_id` (the app's
/// registration with that vendor). `id_prefix` keeps ids from different bundles apart
/// (e.g. `"epic:"`).
pub fn providers_from_brands(
    bundle_json: &str,
    client_id: &str,
    id_prefix: &str,
) -> Result<BrandsImport, BrandsError> {
    let bundle: BundleIn =
        serde_json::from_str(bundle_json).map_err(|e| BrandsError::NotJson(e.to_string()))?;
    match bundle.resource_type.as_deref() {
        Some("Bundle") => {}
        other => {
            return Err(BrandsError::NotBundle(
                other.unwrap_or("no resourceType").to_string(),
            ))
        }
    }
    let mut skipped = Vec::new();
    let mut endpoints: BTreeMap<String, EndpointInfo> = BTreeMap::new();
    let mut orgs: Vec<OrgInfo> = Vec::new();
    for (n, entry) in bundle.entry.unwrap_or_default().into_iter().enumerate() {
        let Some(raw) = entry.resource else { continue };
        let r: ResourceIn = match serde_json::from_str(raw.get()) {
            Ok(r) => r,
            Err(e) => {
                skipped.push(BrandSkip {
                    what: format!("entry #{}", n + 1),
                    reason: format!("not a readable resource ({e})"),
                });
                continue;
            }
        };
        let Some(id) = r.id.clone().filter(|i| !i.is_empty()) else {
            continue;
        };
        match r.resource_type.as_deref() {
            Some("Endpoint") => {
                let info = EndpointInfo {
                    id: id.clone(),
                    result: check_endpoint(&r),
                };
                if let Some(full) = entry.full_url.as_deref().and_then(ref_key) {
                    if full != format!("Endpoint/{id}") {
                        endpoints.insert(
                            full,
                            EndpointInfo {
                                id: id.clone(),
                                result: info.result.clone(),
                            },
                        );
                    }
                }
                endpoints.insert(format!("Endpoint/{id}"), info);
            }
            Some("Organization") => {
                orgs.push(read_org(&r, format!("Organization/{id}"), id));
            }
            _ => {}
        }
    }
    let by_key: BTreeMap<&str, usize> = orgs
        .iter()
        .enumerate()
        .map(|(i, o)| (o.key.as_str(), i))
        .collect();

    let mut providers: Vec<ProviderEntry> = Vec::new();
    for org in &orgs {
        let what = org.key.clone();
        if org.active == Some(false) {
            skipped.push(BrandSkip {
                what,
                reason: "the brand is marked inactive".into(),
            });
            continue;
        }
        let Some(name) = org.name.clone() else {
            skipped.push(BrandSkip {
                what,
                reason: "the brand has no name".into(),
            });
            continue;
        };
        // Own endpoints, else the nearest ancestor's (affiliates share the parent's portal).
        let mut source = org;
        let mut inherited_logo = org.logo.clone();
        let mut depth = 0;
        while source.endpoint_refs().is_empty() && depth < 5 {
            let Some(parent) = source
                .part_of
                .as_deref()
                .and_then(|p| by_key.get(p))
                .map(|i| &orgs[*i])
            else {
                break;
            };
            source = parent;
            if inherited_logo.is_none() {
                inherited_logo = parent.logo.clone();
            }
            depth += 1;
        }
        let refs = source.endpoint_refs();
        if refs.is_empty() {
            skipped.push(BrandSkip {
                what,
                reason: "the brand has no FHIR endpoint".into(),
            });
            continue;
        }
        let mut made: Vec<ProviderEntry> = Vec::new();
        let mut portal_names: Vec<Option<String>> = Vec::new();
        for (reference, portal) in refs {
            let Some(endpoint) = endpoints.get(&reference) else {
                skipped.push(BrandSkip {
                    what: format!("{what} → {reference}"),
                    reason: "the endpoint is not in the bundle".into(),
                });
                continue;
            };
            let base = match &endpoint.result {
                Ok(b) => b.clone(),
                Err(reason) => {
                    skipped.push(BrandSkip {
                        what: format!("{what} → {reference}"),
                        reason: reason.clone(),
                    });
                    continue;
                }
            };
            if made.iter().any(|p| p.fhir_base == base) {
                continue;
            }
            let logo = inherited_logo
                .clone()
                .or_else(|| portal.as_ref().and_then(|p| p.logo.clone()));
            portal_names.push(portal.and_then(|p| p.name));
            made.push(ProviderEntry {
                id: entry_id(id_prefix, &org.id, &endpoint.id),
                name: name.clone(),
                fhir_base: base,
                client_id: client_id.to_string(),
                logo,
                part2_program: false,
                scopes: None,
                observation_by_category: false,
                source: EntrySource::Brands,
            });
        }
        if made.len() > 1 {
            for (entry, portal) in made.iter_mut().zip(portal_names) {
                if let Some(p) = portal {
                    entry.name = format!("{} ({p})", entry.name);
                }
            }
        }
        providers.extend(made);
    }
    Ok(BrandsImport {
        providers,
        skipped,
        timestamp: bundle.timestamp,
    })
}

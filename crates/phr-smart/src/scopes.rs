//! Scopes: what to ask for, and what was actually granted.
//!
//! Asking: SMART v2 `patient/*.rs` with `launch/patient openid fhirUser offline_access`, falling
//! back to v1 `patient/*.read` when the server only speaks v1, and to one scope per resource type
//! when the server lists per-type scopes but no wildcard.
//!
//! Granted: servers may grant less than asked (the patient can untick things; a server may not
//! support a type). [`GrantedAccess`] reads the granted scope string, in v1 or v2 syntax,
//! including v2 granular scopes such as
//! `patient/Observation.rs?category=http://terminology.hl7.org/CodeSystem/observation-category|laboratory`,
//! and answers "may I search / read this type".

use serde::{Deserialize, Serialize};

use crate::discovery::SmartServer;
use crate::urls::decode_form_component;

/// The resource types the import searches (US Core patient-compartment set), in plan order.
pub const SEARCH_TYPES: &[&str] = &[
    "AllergyIntolerance",
    "Condition",
    "MedicationRequest",
    "MedicationStatement",
    "Observation",
    "Immunization",
    "Procedure",
    "DiagnosticReport",
    "DocumentReference",
    "Encounter",
    "CarePlan",
    "Goal",
    "CareTeam",
    "Device",
];

/// Types the import reads because imported resources refer to them.
pub const REFERENCE_TYPES: &[&str] = &[
    "Practitioner",
    "PractitionerRole",
    "Organization",
    "Location",
    "Medication",
];

/// Every type a per-type scope request names: `Patient`, the search types, the referenced types,
/// and `Binary` (document attachments).
pub fn all_import_types() -> Vec<&'static str> {
    let mut v = vec!["Patient"];
    v.extend_from_slice(SEARCH_TYPES);
    v.extend_from_slice(REFERENCE_TYPES);
    v.push("Binary");
    v
}

/// SMART scope syntax version.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ScopeVersion {
    /// `patient/Observation.read`
    V1,
    /// `patient/Observation.rs`
    V2,
}

/// How resource scopes are written.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum ResourceScopes {
    /// `patient/*.rs` (or `patient/*.read`): every type, now and later.
    Wildcard,
    /// One scope per listed type, for servers that do not accept wildcards.
    PerType(Vec<String>),
}

/// Choices for [`requested_scopes`]. `Default` is: version and wildcard chosen from the server,
/// OpenID (`openid fhirUser`) and `offline_access` requested.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScopeOptions {
    /// Force a syntax version; `None` chooses from the server ([`choose_version`]).
    pub version: Option<ScopeVersion>,
    /// Force wildcard or per-type; `None` chooses from the server.
    pub resources: Option<ResourceScopes>,
    /// Ask for a refresh token (`offline_access`). Many EHRs do not give one to browser apps;
    /// asking is harmless.
    pub offline_access: bool,
    /// Ask for `openid fhirUser` (who signed in).
    pub openid: bool,
    /// A complete scope list from the provider directory; replaces everything above.
    pub override_scopes: Option<Vec<String>>,
}

impl Default for ScopeOptions {
    fn default() -> Self {
        Self {
            version: None,
            resources: None,
            offline_access: true,
            openid: true,
            override_scopes: None,
        }
    }
}

/// The scopes to send in the authorize URL, in order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct RequestedScopes(pub Vec<String>);

impl RequestedScopes {
    /// Space-separated, as the `scope` parameter wants it.
    pub fn to_scope_string(&self) -> String {
        self.0.join(" ")
    }
}

/// Picks the scope syntax the server understands: `permission-v2` → v2, `permission-v1` → v1,
/// else whatever syntax `scopes_supported` uses, else v1 (servers that say nothing are mostly
/// SMART v1, and v2 servers commonly accept v1 scopes too).
pub fn choose_version(server: &SmartServer) -> ScopeVersion {
    if server.has_capability("permission-v2") {
        return ScopeVersion::V2;
    }
    if server.has_capability("permission-v1") {
        return ScopeVersion::V1;
    }
    let listed = server.scopes_supported.as_deref().unwrap_or_default();
    let saw_v2 = listed
        .iter()
        .filter_map(|s| parse_resource_scope(s))
        .any(|r| r.syntax == ScopeVersion::V2);
    if saw_v2 {
        ScopeVersion::V2
    } else {
        ScopeVersion::V1
    }
}

/// Wildcard unless the server lists `patient/` scopes and none of them is a wildcard; then one
/// scope per type it lists (or per import type, if it lists none of ours).
fn choose_resources(server: &SmartServer) -> ResourceScopes {
    let listed = server.scopes_supported.as_deref().unwrap_or_default();
    let patient_rules: Vec<ResourceRule> = listed
        .iter()
        .filter_map(|s| parse_resource_scope(s))
        .filter(|r| r.context == "patient")
        .collect();
    if patient_rules.is_empty() || patient_rules.iter().any(|r| r.ty.is_none()) {
        return ResourceScopes::Wildcard;
    }
    let wanted = all_import_types();
    let types: Vec<String> = wanted
        .iter()
        .filter(|t| patient_rules.iter().any(|r| r.ty.as_deref() == Some(**t)))
        .map(|t| t.to_string())
        .collect();
    if types.is_empty() {
        ResourceScopes::PerType(wanted.iter().map(|t| t.to_string()).collect())
    } else {
        ResourceScopes::PerType(types)
    }
}

/// The scopes to request from this server.
pub fn requested_scopes(server: &SmartServer, options: &ScopeOptions) -> RequestedScopes {
    if let Some(list) = &options.override_scopes {
        return RequestedScopes(list.clone());
    }
    let version = options.version.unwrap_or_else(|| choose_version(server));
    let resources = options
        .resources
        .clone()
        .unwrap_or_else(|| choose_resources(server));
    let mut scopes = vec!["launch/patient".to_string()];
    if options.openid {
        scopes.push("openid".into());
        scopes.push("fhirUser".into());
    }
    if options.offline_access {
        scopes.push("offline_access".into());
    }
    let suffix = match version {
        ScopeVersion::V1 => "read",
        ScopeVersion::V2 => "rs",
    };
    match resources {
        ResourceScopes::Wildcard => scopes.push(format!("patient/*.{suffix}")),
        ResourceScopes::PerType(types) => {
            scopes.extend(types.iter().map(|t| format!("patient/{t}.{suffix}")))
        }
    }
    RequestedScopes(scopes)
}

/// One parsed `patient/…` or `user/…` scope.
#[derive(Debug, Clone, PartialEq, Eq)]
struct ResourceRule {
    context: String,
    /// `None` for `*`.
    ty: Option<String>,
    read: bool,
    search: bool,
    /// v2 granular restriction: `(param, value)` pairs, all of which apply.
    query: Option<Vec<(String, String)>>,
    syntax: ScopeVersion,
}

fn parse_resource_scope(scope: &str) -> Option<ResourceRule> {
    let (context, rest) = scope.split_once('/')?;
    if context != "patient" && context != "user" {
        return None;
    }
    let (rest, query) = match rest.split_once('?') {
        Some((r, q)) => (r, Some(q)),
        None => (rest, None),
    };
    let (ty, perm) = rest.rsplit_once('.')?;
    let ty = match ty {
        "*" => None,
        t if crate::urls::is_resource_type(t) => Some(t.to_string()),
        _ => return None,
    };
    let (read, search, syntax) = match perm {
        "read" | "*" => (true, true, ScopeVersion::V1),
        "write" => (false, false, ScopeVersion::V1),
        p if !p.is_empty() && p.chars().all(|c| "cruds".contains(c)) => {
            (p.contains('r'), p.contains('s'), ScopeVersion::V2)
        }
        _ => return None,
    };
    let query = query.map(|q| {
        q.split('&')
            .filter(|kv| !kv.is_empty())
            .map(|kv| match kv.split_once('=') {
                Some((k, v)) => (decode_form_component(k), decode_form_component(v)),
                None => (decode_form_component(kv), String::new()),
            })
            .collect()
    });
    Some(ResourceRule {
        context: context.to_string(),
        ty,
        read,
        search,
        query,
        syntax,
    })
}

/// What searching a type is allowed to return.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SearchAccess {
    /// Not granted.
    None,
    /// Every resource of the type.
    All,
    /// Only resources matching one of these parameter sets (v2 granular scopes), e.g.
    /// `[[("category", "…|laboratory")], [("category", "…|vital-signs")]]`.
    Only(Vec<Vec<(String, String)>>),
}

/// The access a token response granted, parsed from its `scope`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GrantedAccess {
    scopes: Vec<String>,
    rules: Vec<ResourceRule>,
}

impl GrantedAccess {
    /// Parses a space-separated scope string (v1 and v2 syntax may be mixed).
    pub fn parse(scope: &str) -> Self {
        let scopes: Vec<String> = scope.split_whitespace().map(str::to_string).collect();
        let rules = scopes
            .iter()
            .filter_map(|s| parse_resource_scope(s))
            .collect();
        Self { scopes, rules }
    }

    /// The granted scopes, as listed.
    pub fn scopes(&self) -> &[String] {
        &self.scopes
    }

    /// True when this exact scope was granted.
    pub fn has(&self, scope: &str) -> bool {
        self.scopes.iter().any(|s| s == scope)
    }

    /// True when `offline_access` (a refresh token) was granted.
    pub fn has_offline_access(&self) -> bool {
        self.has("offline_access") || self.has("online_access")
    }

    fn rules_for<'a>(&'a self, ty: &'a str) -> impl Iterator<Item = &'a ResourceRule> + 'a {
        self.rules
            .iter()
            .filter(move |r| r.ty.as_deref().is_none_or(|t| t == ty))
    }

    /// May the app read `ty` by id (`GET {base}/{ty}/{id}`)?
    pub fn can_read(&self, ty: &str) -> bool {
        self.rules_for(ty).any(|r| r.read)
    }

    /// May the app search `ty`, and for what?
    pub fn search_access(&self, ty: &str) -> SearchAccess {
        let mut restricted = Vec::new();
        for rule in self.rules_for(ty).filter(|r| r.search) {
            match &rule.query {
                None => return SearchAccess::All,
                Some(q) => {
                    if !restricted.contains(q) {
                        restricted.push(q.clone())
                    }
                }
            }
        }
        if restricted.is_empty() {
            SearchAccess::None
        } else {
            SearchAccess::Only(restricted)
        }
    }

    /// The search types (in plan order) that are not searchable at all with this grant.
    pub fn ungranted_search_types(&self) -> Vec<&'static str> {
        SEARCH_TYPES
            .iter()
            .copied()
            .filter(|t| self.search_access(t) == SearchAccess::None)
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn v1_and_v2_rules() {
        let g = GrantedAccess::parse("launch/patient openid patient/Observation.read patient/Condition.rs patient/Encounter.r user/Goal.cruds patient/Device.write");
        assert_eq!(g.search_access("Observation"), SearchAccess::All);
        assert!(g.can_read("Observation"));
        assert_eq!(g.search_access("Condition"), SearchAccess::All);
        assert!(g.can_read("Encounter"));
        assert_eq!(g.search_access("Encounter"), SearchAccess::None);
        assert_eq!(g.search_access("Goal"), SearchAccess::All);
        assert_eq!(g.search_access("Device"), SearchAccess::None);
        assert!(!g.can_read("Device"));
        assert!(!g.can_read("Patient"));
        assert!(!g.has_offline_access());
    }

    #[test]
    fn wildcard_and_granular() {
        let g = GrantedAccess::parse(
            "patient/*.r patient/Observation.s?category=http://terminology.hl7.org/CodeSystem/observation-category|laboratory patient/Observation.rs?category=http://terminology.hl7.org/CodeSystem/observation-category|vital-signs offline_access",
        );
        assert!(g.can_read("Practitioner"));
        assert_eq!(g.search_access("Condition"), SearchAccess::None);
        let SearchAccess::Only(sets) = g.search_access("Observation") else {
            panic!("expected granular access");
        };
        assert_eq!(sets.len(), 2);
        assert_eq!(
            sets[0],
            vec![(
                "category".to_string(),
                "http://terminology.hl7.org/CodeSystem/observation-category|laboratory".to_string()
            )]
        );
        assert!(g.has_offline_access());
    }

    #[test]
    fn junk_scopes_are_ignored() {
        let g = GrantedAccess::parse(
            "patient/observation.read system/*.read patient/*.xyz patient/Observation",
        );
        assert_eq!(g.search_access("Observation"), SearchAccess::None);
    }
}

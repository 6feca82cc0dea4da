//! Entry keys: (source, resourceType, id). Resources without an id (common in files) are keyed by
//! the SHA-256 of their bytes instead, so re-importing the same file adds nothing.

use phr_fhir::Resource;
use serde::{Deserialize, Serialize};

use crate::ids::{hex, sha256, unhex32};
use crate::source::SourceId;

/// How a resource is identified within its source.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum LocalId {
    /// The resource's own `id`.
    Id(Box<str>),
    /// SHA-256 of the resource's bytes, for resources without an `id`.
    Content([u8; 32]),
}

/// A resource's key within one source: its type and [`LocalId`].
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ResourceKey {
    resource_type: Box<str>,
    local: LocalId,
}

impl ResourceKey {
    /// The key of a resource: its type and id, or its content hash when it has no id.
    pub fn of(resource: &Resource) -> ResourceKey {
        ResourceKey {
            resource_type: resource.resource_type().into(),
            local: match resource.id() {
                Some(id) => LocalId::Id(id.into()),
                None => LocalId::Content(sha256(resource.raw().as_bytes())),
            },
        }
    }

    /// The key of `resource_type/id` (for lookups).
    pub fn new(resource_type: &str, id: &str) -> ResourceKey {
        ResourceKey {
            resource_type: resource_type.into(),
            local: LocalId::Id(id.into()),
        }
    }

    pub fn resource_type(&self) -> &str {
        &self.resource_type
    }

    pub fn local(&self) -> &LocalId {
        &self.local
    }

    /// The resource id, if the key is not a content hash.
    pub fn id(&self) -> Option<&str> {
        match &self.local {
            LocalId::Id(id) => Some(id),
            LocalId::Content(_) => None,
        }
    }

    /// `Type/id`, or `Type#sha256:<hex>` for an id-less resource (for logs and tests; never a
    /// FHIR reference).
    pub fn label(&self) -> String {
        match &self.local {
            LocalId::Id(id) => format!("{}/{}", self.resource_type, id),
            LocalId::Content(h) => format!("{}#sha256:{}", self.resource_type, hex(h)),
        }
    }
}

/// A key across the whole record: the source plus the [`ResourceKey`].
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct EntryKey {
    pub source: SourceId,
    pub resource: ResourceKey,
}

impl EntryKey {
    pub fn new(source: SourceId, resource: ResourceKey) -> EntryKey {
        EntryKey { source, resource }
    }

    /// The JSON form of the key made of `source` and `resource` (what serialising an
    /// [`EntryKey`] gives), without building one.
    pub fn json_of(source: &SourceId, resource: &ResourceKey) -> String {
        serde_json::to_string(&KeyForm::from_key(Some(source), resource)).unwrap_or_default()
    }
}

/// The stored form: `{"t": type, "id": id}` or `{"t": type, "h": hex}`.
#[derive(Serialize, Deserialize)]
pub(crate) struct KeyForm<'a> {
    #[serde(default, skip_serializing_if = "Option::is_none", borrow)]
    pub s: Option<std::borrow::Cow<'a, str>>,
    #[serde(borrow)]
    pub t: std::borrow::Cow<'a, str>,
    #[serde(default, skip_serializing_if = "Option::is_none", borrow)]
    pub id: Option<std::borrow::Cow<'a, str>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub h: Option<String>,
}

impl<'a> KeyForm<'a> {
    pub(crate) fn from_key(source: Option<&'a SourceId>, k: &'a ResourceKey) -> KeyForm<'a> {
        let (id, h) = match &k.local {
            LocalId::Id(id) => (Some(std::borrow::Cow::Borrowed(&**id)), None),
            LocalId::Content(h) => (None, Some(hex(h))),
        };
        KeyForm {
            s: source.map(|s| std::borrow::Cow::Borrowed(s.as_str())),
            t: std::borrow::Cow::Borrowed(&k.resource_type),
            id,
            h,
        }
    }

    pub(crate) fn resource_key(&self) -> Result<ResourceKey, String> {
        if !phr_fhir::is_resource_type_name(&self.t) {
            return Err("a key has an invalid resource type".into());
        }
        let local = match (&self.id, &self.h) {
            (Some(id), None) => LocalId::Id((**id).into()),
            (None, Some(h)) => LocalId::Content(
                unhex32(h).ok_or_else(|| "a key has an invalid content hash".to_string())?,
            ),
            _ => return Err("a key needs exactly one of an id or a content hash".into()),
        };
        Ok(ResourceKey {
            resource_type: (*self.t).into(),
            local,
        })
    }

    pub(crate) fn entry_key(&self) -> Result<EntryKey, String> {
        let s = self
            .s
            .as_deref()
            .ok_or_else(|| "a key has no source".to_string())?;
        Ok(EntryKey {
            source: SourceId::parse(s).map_err(|e| e.to_string())?,
            resource: self.resource_key()?,
        })
    }
}

impl Serialize for ResourceKey {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        KeyForm::from_key(None, self).serialize(s)
    }
}

impl<'de> Deserialize<'de> for ResourceKey {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let f = KeyForm::deserialize(d)?;
        f.resource_key().map_err(serde::de::Error::custom)
    }
}

impl Serialize for EntryKey {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        KeyForm::from_key(Some(&self.source), &self.resource).serialize(s)
    }
}

impl<'de> Deserialize<'de> for EntryKey {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let f = KeyForm::deserialize(d)?;
        f.entry_key().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_json_of_a_key_is_the_serialised_entry_key() {
        let source = SourceId::parse("ehr:demo-general").unwrap();
        let with_id = ResourceKey::new("Observation", "o-1");
        let no_id =
            ResourceKey::of(&phr_fhir::Resource::from_json(r#"{"resourceType":"Basic"}"#).unwrap());
        for key in [with_id, no_id] {
            let entry = EntryKey::new(source.clone(), key.clone());
            let json = EntryKey::json_of(&source, &key);
            assert_eq!(json, serde_json::to_string(&entry).unwrap());
            assert_eq!(serde_json::from_str::<EntryKey>(&json).unwrap(), entry);
        }
    }
}

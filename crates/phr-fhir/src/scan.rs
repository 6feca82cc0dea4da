//! One pass over a resource's JSON text: its head (`resourceType`, `id`) and what it points at.
//!
//! An import needs, for every resource it receives, the type and id and the references and
//! attachment URLs it should follow. Reading them with a DOM (`serde_json::Value`) allocates a
//! tree per resource; [`scan`] walks the text once with a streaming visitor, validating it as
//! JSON, keeping nothing but those strings. [`crate::Resource::from_scan`] then builds the resource
//! from the same text without reading it again.

use std::fmt;

use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};

/// A top-level element of the head, as found.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Field {
    #[default]
    Missing,
    Str(String),
    /// Present, but not a string.
    Other,
}

impl Field {
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Field::Str(s) => Some(s),
            _ => None,
        }
    }
}

/// What [`scan`] found.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Scan {
    pub resource_type: Field,
    pub id: Field,
    /// Every `reference` string, anywhere in the resource, in document order (duplicates kept).
    pub references: Vec<String>,
    /// URLs of attachments that are not inline (no `data`): `DocumentReference.content.attachment`
    /// and `DiagnosticReport.presentedForm`.
    pub attachment_urls: Vec<String>,
    /// Length of the scanned text (checked by [`crate::Resource::from_scan`]).
    pub(crate) len: usize,
}

/// Where an attachment candidate was found (which resource type it counts for).
#[derive(Clone, Copy, PartialEq, Eq)]
enum AttachmentPlace {
    /// `content[].attachment` (DocumentReference).
    Content,
    /// `presentedForm[]` (DiagnosticReport).
    PresentedForm,
}

#[derive(Default)]
struct Found {
    resource_type: Field,
    id: Field,
    references: Vec<String>,
    attachments: Vec<(AttachmentPlace, String)>,
}

/// Reads `raw` once: a JSON object, its head and its links. Errors are serde_json's (syntax, or
/// "not an object" as a data error).
pub fn scan(raw: &str) -> Result<Scan, serde_json::Error> {
    let mut found = Found::default();
    let mut de = serde_json::Deserializer::from_str(raw);
    let _: Got = de.deserialize_map(Node {
        found: &mut found,
        at: At::Root,
        want: false,
    })?;
    de.end()?;
    let keep = |place: AttachmentPlace| match found.resource_type.as_str() {
        Some("DocumentReference") => place == AttachmentPlace::Content,
        Some("DiagnosticReport") => place == AttachmentPlace::PresentedForm,
        _ => false,
    };
    let attachment_urls = found
        .attachments
        .iter()
        .filter(|(place, _)| keep(*place))
        .map(|(_, url)| url.clone())
        .collect();
    Ok(Scan {
        resource_type: found.resource_type,
        id: found.id,
        references: found.references,
        attachment_urls,
        len: raw.len(),
    })
}

/// Where in the resource a value sits (only the places that matter are told apart).
#[derive(Clone, Copy, PartialEq, Eq)]
enum At {
    Root,
    /// The `content` array at the root, or one of its items.
    Content,
    ContentItem,
    /// An attachment object (or the array of `presentedForm`, whose items are attachments).
    Attachment(AttachmentPlace),
    PresentedForm,
    Elsewhere,
}

/// Keys that matter; everything else is `Other` (matched without allocating).
enum Key {
    ResourceType,
    Id,
    Reference,
    Content,
    Attachment,
    PresentedForm,
    Url,
    Data,
    Other,
}

struct KeySeed;

impl<'de> DeserializeSeed<'de> for KeySeed {
    type Value = Key;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Key, D::Error> {
        d.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for KeySeed {
    type Value = Key;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a key")
    }
    fn visit_str<E: de::Error>(self, k: &str) -> Result<Key, E> {
        Ok(match k {
            "resourceType" => Key::ResourceType,
            "id" => Key::Id,
            "reference" => Key::Reference,
            "content" => Key::Content,
            "attachment" => Key::Attachment,
            "presentedForm" => Key::PresentedForm,
            "url" => Key::Url,
            "data" => Key::Data,
            _ => Key::Other,
        })
    }
}

/// What a value was, as far as the scan cares (a string is copied only when wanted).
enum Got {
    Null,
    Str(String),
    Other,
}

impl Got {
    fn string(self) -> Option<String> {
        match self {
            Got::Str(s) => Some(s),
            _ => None,
        }
    }
    /// A head element: `null` counts as absent, as for any optional FHIR element.
    fn field(self) -> Field {
        match self {
            Got::Null => Field::Missing,
            Got::Str(s) => Field::Str(s),
            Got::Other => Field::Other,
        }
    }
}

/// Any value: walked for nested references.
struct Node<'a> {
    found: &'a mut Found,
    at: At,
    want: bool,
}

impl<'de> DeserializeSeed<'de> for Node<'_> {
    type Value = Got;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Got, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Node<'_> {
    type Value = Got;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str(if self.at == At::Root {
            "a JSON object"
        } else {
            "a JSON value"
        })
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Got, E> {
        Ok(if self.want {
            Got::Str(v.to_owned())
        } else {
            Got::Other
        })
    }
    fn visit_bool<E: de::Error>(self, _: bool) -> Result<Got, E> {
        Ok(Got::Other)
    }
    fn visit_i64<E: de::Error>(self, _: i64) -> Result<Got, E> {
        Ok(Got::Other)
    }
    fn visit_u64<E: de::Error>(self, _: u64) -> Result<Got, E> {
        Ok(Got::Other)
    }
    fn visit_f64<E: de::Error>(self, _: f64) -> Result<Got, E> {
        Ok(Got::Other)
    }
    fn visit_unit<E: de::Error>(self) -> Result<Got, E> {
        Ok(Got::Null)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Got, A::Error> {
        let item = match self.at {
            At::Content => At::ContentItem,
            At::PresentedForm => At::Attachment(AttachmentPlace::PresentedForm),
            _ => At::Elsewhere,
        };
        while seq
            .next_element_seed(Node {
                found: self.found,
                at: item,
                want: false,
            })?
            .is_some()
        {}
        Ok(Got::Other)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Got, A::Error> {
        let found = self.found;
        let (mut url, mut data) = (None, false);
        let (mut seen_type, mut seen_id) = (false, false);
        while let Some(key) = map.next_key_seed(KeySeed)? {
            let at = match (&key, self.at) {
                (Key::Content, At::Root) => At::Content,
                (Key::PresentedForm, At::Root) => At::PresentedForm,
                (Key::Attachment, At::ContentItem) => At::Attachment(AttachmentPlace::Content),
                _ => At::Elsewhere,
            };
            // Like any strict reader of the head: a second resourceType or id is an error.
            if self.at == At::Root {
                match key {
                    Key::ResourceType if std::mem::replace(&mut seen_type, true) => {
                        return Err(de::Error::duplicate_field("resourceType"))
                    }
                    Key::Id if std::mem::replace(&mut seen_id, true) => {
                        return Err(de::Error::duplicate_field("id"))
                    }
                    _ => {}
                }
            }
            let want = match key {
                Key::ResourceType | Key::Id => self.at == At::Root,
                Key::Reference => true,
                Key::Url => matches!(self.at, At::Attachment(_)),
                _ => false,
            };
            // Strings that matter are returned; everything is walked.
            let value = map.next_value_seed(Node { found, at, want })?;
            match key {
                Key::ResourceType if self.at == At::Root => found.resource_type = value.field(),
                Key::Id if self.at == At::Root => found.id = value.field(),
                Key::Reference => found.references.extend(value.string()),
                Key::Url if matches!(self.at, At::Attachment(_)) => url = value.string(),
                Key::Data if matches!(self.at, At::Attachment(_)) => data = true,
                _ => {}
            }
        }
        if let (At::Attachment(place), Some(url), false) = (self.at, url, data) {
            found.attachments.push((place, url));
        }
        Ok(Got::Other)
    }
}

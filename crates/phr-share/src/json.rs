//! A small lossless JSON tree for preparing shared copies.
//!
//! `serde_json::Value` turns `1.50` into `1.5` and sorts object keys. A shared copy must show a
//! lab value with the digits the lab reported, so copies are edited as [`Node`]s: numbers keep
//! their original text and objects keep their key order.

use serde::de::{self, Deserializer, MapAccess, Visitor};
use serde::ser::{SerializeMap, SerializeSeq};
use serde::{Deserialize, Serialize, Serializer};
use serde_json::value::RawValue;

/// A JSON value whose numbers keep their text and whose objects keep their order.
#[derive(Clone, Debug, PartialEq)]
pub enum Node {
    Null,
    Bool(bool),
    /// The number exactly as written.
    Number(String),
    String(String),
    Array(Vec<Node>),
    Object(Vec<(String, Node)>),
}

impl Node {
    /// Parses JSON text.
    pub fn parse(text: &str) -> Result<Node, serde_json::Error> {
        let raw: &RawValue = serde_json::from_str(text)?;
        Node::from_raw(raw)
    }

    fn from_raw(raw: &RawValue) -> Result<Node, serde_json::Error> {
        let t = raw.get().trim_start();
        match t.as_bytes().first() {
            Some(b'{') => {
                let pairs: Pairs = serde_json::from_str(t)?;
                let mut out = Vec::with_capacity(pairs.0.len());
                for (k, v) in pairs.0 {
                    out.push((k, Node::from_raw(&v)?));
                }
                Ok(Node::Object(out))
            }
            Some(b'[') => {
                let items: Vec<Box<RawValue>> = serde_json::from_str(t)?;
                items
                    .iter()
                    .map(|i| Node::from_raw(i))
                    .collect::<Result<_, _>>()
                    .map(Node::Array)
            }
            Some(b'"') => Ok(Node::String(serde_json::from_str(t)?)),
            Some(b't') | Some(b'f') => Ok(Node::Bool(serde_json::from_str(t)?)),
            Some(b'n') => Ok(Node::Null),
            _ => Ok(Node::Number(t.trim_end().to_string())),
        }
    }

    /// Compact JSON text.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_else(|_| "null".into())
    }

    pub fn str(s: impl Into<String>) -> Node {
        Node::String(s.into())
    }

    /// An object from pairs.
    pub fn obj<const N: usize>(pairs: [(&str, Node); N]) -> Node {
        Node::Object(pairs.into_iter().map(|(k, v)| (k.to_string(), v)).collect())
    }

    pub fn get(&self, key: &str) -> Option<&Node> {
        match self {
            Node::Object(p) => p.iter().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match self {
            Node::String(s) => Some(s),
            _ => None,
        }
    }

    /// Sets (or replaces, keeping its position) a key of an object.
    pub fn set(&mut self, key: &str, value: Node) {
        if let Node::Object(p) = self {
            match p.iter_mut().find(|(k, _)| k == key) {
                Some(slot) => slot.1 = value,
                None => p.push((key.to_string(), value)),
            }
        }
    }

    /// Removes a key of an object.
    pub fn remove(&mut self, key: &str) -> Option<Node> {
        if let Node::Object(p) = self {
            if let Some(i) = p.iter().position(|(k, _)| k == key) {
                return Some(p.remove(i).1);
            }
        }
        None
    }

    /// Puts `key` first (FHIR convention for `resourceType`).
    pub fn move_first(&mut self, key: &str) {
        if let Node::Object(p) = self {
            if let Some(i) = p.iter().position(|(k, _)| k == key) {
                let e = p.remove(i);
                p.insert(0, e);
            }
        }
    }
}

struct Pairs(Vec<(String, Box<RawValue>)>);

impl<'de> Deserialize<'de> for Pairs {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Pairs;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut m: A) -> Result<Pairs, A::Error> {
                let mut out = Vec::new();
                while let Some((k, v)) = m.next_entry::<String, Box<RawValue>>()? {
                    out.push((k, v));
                }
                Ok(Pairs(out))
            }
        }
        d.deserialize_map(V)
    }
}

impl Serialize for Node {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Node::Null => s.serialize_unit(),
            Node::Bool(b) => s.serialize_bool(*b),
            Node::Number(n) => match RawValue::from_string(n.clone()) {
                Ok(raw) => raw.serialize(s),
                Err(e) => Err(serde::ser::Error::custom(e)),
            },
            Node::String(t) => s.serialize_str(t),
            Node::Array(items) => {
                let mut seq = s.serialize_seq(Some(items.len()))?;
                for i in items {
                    seq.serialize_element(i)?;
                }
                seq.end()
            }
            Node::Object(pairs) => {
                let mut map = s.serialize_map(Some(pairs.len()))?;
                for (k, v) in pairs {
                    map.serialize_entry(k, v)?;
                }
                map.end()
            }
        }
    }
}

impl<'de> Deserialize<'de> for Node {
    /// Only lossless with `serde_json` (relies on `RawValue`).
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let raw = Box::<RawValue>::deserialize(d)?;
        Node::from_raw(&raw).map_err(de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_numbers_and_order() {
        let text =
            r#"{"resourceType":"Observation","z":1.50,"a":[1e3,-0.10,true,null,"x\"y"],"o":{}}"#;
        let n = Node::parse(text).unwrap();
        assert_eq!(n.to_json(), text);
        let mut n2 = n.clone();
        n2.set("z", Node::str("s"));
        n2.remove("o");
        assert_eq!(
            n2.to_json(),
            r#"{"resourceType":"Observation","z":"s","a":[1e3,-0.10,true,null,"x\"y"]}"#
        );
    }

    #[test]
    fn rejects_bad_json() {
        assert!(Node::parse("{").is_err());
        assert!(Node::parse("{\"a\":01}").is_err());
    }
}

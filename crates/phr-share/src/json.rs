//! A small lossless JSON tree for preparing shared copies.
//!
//! `serde_json::Value` turns `1.50` into `1.5` and sorts object keys. A shared copy must show a
//! lab value with the digits the lab reported, so copies are edited as [`Node`]s: numbers keep
//! their original text and objects keep their key order.

use serde::de::{self, Deserializer};
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
    /// Parses JSON text. `serde_json` checks that it is JSON (its errors say where it is not);
    /// the tree is then built in one pass over the text.
    pub fn parse(text: &str) -> Result<Node, serde_json::Error> {
        serde_json::from_str::<de::IgnoredAny>(text)?;
        Self::tree(text)
    }

    /// The tree of a resource's original text. That text was checked to be JSON when the
    /// [`phr_fhir::Resource`] was made, so it is not checked again.
    pub fn of_resource(resource: &phr_fhir::Resource) -> Result<Node, serde_json::Error> {
        Self::tree(resource.raw())
    }

    /// The tree of text known to be JSON, in one pass.
    fn tree(text: &str) -> Result<Node, serde_json::Error> {
        let mut p = Parser {
            text,
            bytes: text.as_bytes(),
            at: 0,
        };
        p.value().map_err(de::Error::custom)
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

/// A one-pass reader of text already known to be JSON. Numbers are kept as written.
struct Parser<'a> {
    text: &'a str,
    bytes: &'a [u8],
    at: usize,
}

const NOT_JSON: &str = "not JSON";

impl Parser<'_> {
    fn skip_ws(&mut self) {
        while matches!(self.bytes.get(self.at), Some(b' ' | b'\n' | b'\r' | b'\t')) {
            self.at += 1;
        }
    }

    fn peek(&mut self) -> Option<u8> {
        self.skip_ws();
        self.bytes.get(self.at).copied()
    }

    fn expect(&mut self, b: u8) -> Result<(), &'static str> {
        if self.peek() == Some(b) {
            self.at += 1;
            Ok(())
        } else {
            Err(NOT_JSON)
        }
    }

    fn value(&mut self) -> Result<Node, &'static str> {
        match self.peek().ok_or(NOT_JSON)? {
            b'{' => {
                self.at += 1;
                let mut pairs = Vec::new();
                if self.peek() == Some(b'}') {
                    self.at += 1;
                    return Ok(Node::Object(pairs));
                }
                loop {
                    let key = self.string()?;
                    self.expect(b':')?;
                    pairs.push((key, self.value()?));
                    match self.peek() {
                        Some(b',') => self.at += 1,
                        Some(b'}') => {
                            self.at += 1;
                            return Ok(Node::Object(pairs));
                        }
                        _ => return Err(NOT_JSON),
                    }
                }
            }
            b'[' => {
                self.at += 1;
                let mut items = Vec::new();
                if self.peek() == Some(b']') {
                    self.at += 1;
                    return Ok(Node::Array(items));
                }
                loop {
                    items.push(self.value()?);
                    match self.peek() {
                        Some(b',') => self.at += 1,
                        Some(b']') => {
                            self.at += 1;
                            return Ok(Node::Array(items));
                        }
                        _ => return Err(NOT_JSON),
                    }
                }
            }
            b'"' => self.string().map(Node::String),
            b't' => self.literal("true", Node::Bool(true)),
            b'f' => self.literal("false", Node::Bool(false)),
            b'n' => self.literal("null", Node::Null),
            _ => {
                let start = self.at;
                while matches!(
                    self.bytes.get(self.at),
                    Some(b'-' | b'+' | b'.' | b'e' | b'E' | b'0'..=b'9')
                ) {
                    self.at += 1;
                }
                if self.at == start {
                    return Err(NOT_JSON);
                }
                Ok(Node::Number(self.text[start..self.at].to_string()))
            }
        }
    }

    fn literal(&mut self, word: &str, node: Node) -> Result<Node, &'static str> {
        if self.text[self.at..].starts_with(word) {
            self.at += word.len();
            Ok(node)
        } else {
            Err(NOT_JSON)
        }
    }

    fn string(&mut self) -> Result<String, &'static str> {
        self.expect(b'"')?;
        let start = self.at;
        let mut escaped = false;
        loop {
            match self.bytes.get(self.at) {
                Some(b'"') => break,
                Some(b'\\') => {
                    escaped = true;
                    self.at += 2;
                }
                Some(_) => self.at += 1,
                None => return Err(NOT_JSON),
            }
        }
        let end = self.at;
        self.at += 1;
        // The quote and the backslash are ASCII, so both ends are character boundaries.
        let inner = self.text.get(start..end).ok_or(NOT_JSON)?;
        if escaped {
            serde_json::from_str(&self.text[start - 1..=end]).map_err(|_| NOT_JSON)
        } else {
            Ok(inner.to_string())
        }
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
        Node::parse(raw.get()).map_err(de::Error::custom)
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
    fn reads_any_json_like_serde_json() {
        let text = " {\"s\" : \"caf\\u00e9 \\\"q\\\" \\\\ \\n é 漢\", \"n\":[ -0.0 , 12E-3,1.500 ],\n \"e\":[],\"o\":{ \"k\" : { } },\"b\":false,\"dup\":1,\"dup\":2 } ";
        let n = Node::parse(text).unwrap();
        assert_eq!(
            n.get("s").and_then(Node::as_str),
            Some("café \"q\" \\ \n é 漢")
        );
        assert_eq!(
            n.to_json(),
            r#"{"s":"café \"q\" \\ \n é 漢","n":[-0.0,12E-3,1.500],"e":[],"o":{"k":{}},"b":false,"dup":1,"dup":2}"#
        );
        let reparsed: serde_json::Value = serde_json::from_str(&n.to_json()).unwrap();
        let original: serde_json::Value = serde_json::from_str(text).unwrap();
        assert_eq!(reparsed, original);
        assert_eq!(Node::parse("\"x\"").unwrap(), Node::str("x"));
        assert_eq!(Node::parse(" 7 ").unwrap(), Node::Number("7".into()));
        let via_serde: Node = serde_json::from_str(r#"{"a":[1.10]}"#).unwrap();
        assert_eq!(via_serde.to_json(), r#"{"a":[1.10]}"#);
    }

    #[test]
    fn a_resource_tree_writes_back_its_original_text() {
        let text = r#"{"resourceType":"Observation","id":"o","valueQuantity":{"value":1.50,"unit":"g"},"note":[{"text":"caf\u00e9 \"x\""}]}"#;
        let r = phr_fhir::Resource::from_json(text).unwrap();
        assert_eq!(Node::of_resource(&r).unwrap(), Node::parse(text).unwrap());
    }

    #[test]
    fn rejects_bad_json() {
        assert!(Node::parse("{").is_err());
        assert!(Node::parse("{\"a\":01}").is_err());
        assert!(Node::parse("[1,]").is_err());
        assert!(Node::parse("{} x").is_err());
    }
}

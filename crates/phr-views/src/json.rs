//! Lean, borrowed readings of the FHIR elements the index needs.
//!
//! These mirror `phr_fhir::types` and `phr_fhir::views` (same field names, same helper semantics)
//! but borrow their strings from the resource's text (a copy is made only for strings with JSON
//! escapes) and declare only the elements the index reads: everything else is skipped by the
//! parser without being built. This is what makes [`crate::Index::build`] one cheap pass over the
//! record instead of one allocation per string.

use std::borrow::Cow;
use std::fmt;
use std::ops::Deref;

use serde::de::{Deserializer, Visitor};
use serde::Deserialize;
use serde_json::value::RawValue;

/// A JSON string, borrowed from the resource text unless it had escapes.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Str<'a>(Cow<'a, str>);

impl Deref for Str<'_> {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}

impl<'a> Str<'a> {
    /// The text as an owned string.
    pub(crate) fn to_owned_string(&self) -> String {
        self.0.to_string()
    }

    /// An owned copy, free of any borrow.
    pub(crate) fn to_static(&self) -> Str<'static> {
        Str(Cow::Owned(self.0.to_string()))
    }

    /// The text with the resource's lifetime (a copy only when it had escapes).
    pub(crate) fn cow(&self) -> Cow<'a, str> {
        match &self.0 {
            Cow::Borrowed(s) => Cow::Borrowed(s),
            Cow::Owned(s) => Cow::Owned(s.clone()),
        }
    }
}

/// An optional string element with the resource's lifetime (empty when absent).
pub(crate) fn cow<'a>(s: &Option<Str<'a>>) -> Cow<'a, str> {
    s.as_ref().map_or(Cow::Borrowed(""), Str::cow)
}

/// Trims without copying borrowed text.
pub(crate) fn trim_cow(s: Cow<'_, str>) -> Cow<'_, str> {
    match s {
        Cow::Borrowed(b) => Cow::Borrowed(b.trim()),
        Cow::Owned(o) if o.trim().len() == o.len() => Cow::Owned(o),
        Cow::Owned(o) => Cow::Owned(o.trim().to_string()),
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for Str<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Str<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string")
            }
            fn visit_borrowed_str<E: serde::de::Error>(self, v: &'de str) -> Result<Str<'de>, E> {
                Ok(Str(Cow::Borrowed(v)))
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Str<'de>, E> {
                Ok(Str(Cow::Owned(v.to_string())))
            }
            fn visit_string<E: serde::de::Error>(self, v: String) -> Result<Str<'de>, E> {
                Ok(Str(Cow::Owned(v)))
            }
        }
        d.deserialize_str(V)
    }
}

/// `Option<Str>` as `Option<&str>`.
pub(crate) fn opt<'s>(s: &'s Option<Str<'_>>) -> Option<&'s str> {
    s.as_deref()
}

/// A FHIR decimal: the digits as written (like `phr_fhir::types::Decimal`, the same numbers are
/// accepted).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Decimal<'a>(&'a str);

impl<'a> Decimal<'a> {
    pub(crate) fn as_str(&self) -> &'a str {
        self.0
    }

    pub(crate) fn to_f64(self) -> Option<f64> {
        self.0.parse().ok().filter(|v: &f64| v.is_finite())
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for Decimal<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let raw = <&'de RawValue>::deserialize(d)?;
        let t = raw.get().trim();
        let is_number = t
            .as_bytes()
            .first()
            .is_some_and(|b| *b == b'-' || b.is_ascii_digit())
            && serde_json::from_str::<serde_json::Number>(t).is_ok();
        if is_number {
            Ok(Decimal(t))
        } else {
            Err(serde::de::Error::custom("not a decimal number"))
        }
    }
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct Coding<'a> {
    #[serde(borrow)]
    pub(crate) system: Option<Str<'a>>,
    #[serde(borrow)]
    pub(crate) code: Option<Str<'a>>,
    #[serde(borrow)]
    pub(crate) display: Option<Str<'a>>,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct CodeableConcept<'a> {
    #[serde(borrow)]
    pub(crate) coding: Vec<Coding<'a>>,
    #[serde(borrow)]
    pub(crate) text: Option<Str<'a>>,
}

impl<'a> CodeableConcept<'a> {
    /// `text`, else the first coding display, else the first code.
    pub(crate) fn display(&self) -> Option<&str> {
        self.display_str().map(|s| &**s)
    }

    /// An owned copy, free of any borrow.
    pub(crate) fn to_static(&self) -> CodeableConcept<'static> {
        let s = |x: &Option<Str<'_>>| x.as_ref().map(Str::to_static);
        CodeableConcept {
            coding: self
                .coding
                .iter()
                .map(|c| Coding {
                    system: s(&c.system),
                    code: s(&c.code),
                    display: s(&c.display),
                })
                .collect(),
            text: s(&self.text),
        }
    }

    /// [`CodeableConcept::display`] with the resource's lifetime.
    pub(crate) fn display_cow(&self) -> Option<Cow<'a, str>> {
        self.display_str().map(Str::cow)
    }

    fn display_str(&self) -> Option<&Str<'a>> {
        self.text
            .as_ref()
            .filter(|t| !t.trim().is_empty())
            .or_else(|| self.coding.iter().find_map(|c| c.display.as_ref()))
            .or_else(|| self.coding.iter().find_map(|c| c.code.as_ref()))
    }

    /// The first code in `system`.
    pub(crate) fn code_in(&self, system: &str) -> Option<&str> {
        self.coding
            .iter()
            .find(|c| opt(&c.system) == Some(system))
            .and_then(|c| opt(&c.code))
    }

    /// Whether any coding is `system|code`.
    pub(crate) fn has(&self, system: &str, code: &str) -> bool {
        self.coding
            .iter()
            .any(|c| opt(&c.system) == Some(system) && opt(&c.code) == Some(code))
    }

    /// Whether any coding has this code (any system).
    pub(crate) fn has_code(&self, code: &str) -> bool {
        self.coding.iter().any(|c| opt(&c.code) == Some(code))
    }
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct Reference<'a> {
    #[serde(borrow)]
    pub(crate) reference: Option<Str<'a>>,
    #[serde(borrow)]
    pub(crate) display: Option<Str<'a>>,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct Period<'a> {
    #[serde(borrow)]
    pub(crate) start: Option<Str<'a>>,
    #[serde(borrow)]
    pub(crate) end: Option<Str<'a>>,
}

/// `period.start` of an optional period.
pub(crate) fn start<'s>(p: &'s Option<Period<'_>>) -> Option<&'s str> {
    p.as_ref().and_then(|p| opt(&p.start))
}

/// `period.end` of an optional period.
pub(crate) fn end<'s>(p: &'s Option<Period<'_>>) -> Option<&'s str> {
    p.as_ref().and_then(|p| opt(&p.end))
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct Quantity<'a> {
    #[serde(borrow)]
    pub(crate) value: Option<Decimal<'a>>,
    #[serde(borrow)]
    pub(crate) comparator: Option<Str<'a>>,
    #[serde(borrow)]
    pub(crate) unit: Option<Str<'a>>,
    #[serde(borrow)]
    pub(crate) system: Option<Str<'a>>,
    #[serde(borrow)]
    pub(crate) code: Option<Str<'a>>,
}

impl<'a> Quantity<'a> {
    /// The UCUM code when the system is UCUM (or unstated), else the free-text unit (empty when
    /// none), with the resource's lifetime.
    pub(crate) fn unit_key_cow(&self) -> Cow<'a, str> {
        let ucum = opt(&self.system).is_none_or(|s| s == "http://unitsofmeasure.org");
        let s = if ucum {
            self.code.as_ref().or(self.unit.as_ref())
        } else {
            self.unit.as_ref()
        };
        s.map_or(Cow::Borrowed(""), Str::cow)
    }

    /// Text such as `1.50 mmol/L` or `< 5 mg` (unit as written).
    pub(crate) fn display(&self) -> Option<String> {
        let v = self.value.as_ref()?;
        let mut s = String::new();
        if let Some(c) = opt(&self.comparator) {
            s.push_str(c);
            s.push(' ');
        }
        s.push_str(v.as_str());
        if let Some(u) = opt(&self.unit).or(opt(&self.code)) {
            s.push(' ');
            s.push_str(u);
        }
        Some(s)
    }
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct Range<'a> {
    #[serde(borrow)]
    pub(crate) low: Option<Quantity<'a>>,
    #[serde(borrow)]
    pub(crate) high: Option<Quantity<'a>>,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct Ratio<'a> {
    #[serde(borrow)]
    pub(crate) numerator: Option<Quantity<'a>>,
    #[serde(borrow)]
    pub(crate) denominator: Option<Quantity<'a>>,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct HumanName<'a> {
    #[serde(rename = "use", borrow)]
    pub(crate) use_: Option<Str<'a>>,
    #[serde(borrow)]
    pub(crate) text: Option<Str<'a>>,
    #[serde(borrow)]
    pub(crate) family: Option<Str<'a>>,
    #[serde(borrow)]
    pub(crate) given: Vec<Str<'a>>,
    #[serde(borrow)]
    pub(crate) prefix: Vec<Str<'a>>,
}

impl HumanName<'_> {
    /// `text`, else "Given Family".
    pub(crate) fn display(&self) -> String {
        if let Some(t) = opt(&self.text).filter(|t| !t.trim().is_empty()) {
            return t.to_string();
        }
        let mut parts: Vec<&str> = self.given.iter().map(|s| &**s).collect();
        if let Some(f) = opt(&self.family) {
            parts.push(f);
        }
        parts.join(" ")
    }
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct ContactPoint<'a> {
    #[serde(borrow)]
    pub(crate) system: Option<Str<'a>>,
    #[serde(borrow)]
    pub(crate) value: Option<Str<'a>>,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct Identifier<'a> {
    #[serde(borrow)]
    pub(crate) system: Option<Str<'a>>,
    #[serde(borrow)]
    pub(crate) value: Option<Str<'a>>,
}

/// Base64 content longer than this is only noted as present (documents can be megabytes).
pub(crate) const SMALL_DATA: usize = 16 * 1024;

/// Base64 content, without building it: whether there is some, and the text itself when it is
/// short ([`SMALL_DATA`]) and can be borrowed from the resource's JSON (a patient's note, a short
/// plain-text document), for search.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Data<'a> {
    pub(crate) present: bool,
    pub(crate) small: Option<&'a str>,
}

impl<'de: 'a, 'a> Deserialize<'de> for Data<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<'a>(std::marker::PhantomData<&'a ()>);
        impl<'de: 'a, 'a> Visitor<'de> for V<'a> {
            type Value = Data<'a>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string")
            }
            fn visit_borrowed_str<E: serde::de::Error>(self, v: &'de str) -> Result<Data<'a>, E> {
                Ok(Data {
                    present: !v.is_empty(),
                    small: (!v.is_empty() && v.len() <= SMALL_DATA).then_some(v),
                })
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Data<'a>, E> {
                Ok(Data {
                    present: !v.is_empty(),
                    small: None,
                })
            }
        }
        d.deserialize_str(V(std::marker::PhantomData))
    }
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub(crate) struct Attachment<'a> {
    #[serde(borrow)]
    pub(crate) content_type: Option<Str<'a>>,
    /// Base64 content: whether there is some, and short content itself.
    #[serde(borrow)]
    pub(crate) data: Option<Data<'a>>,
    #[serde(borrow)]
    pub(crate) url: Option<Str<'a>>,
    pub(crate) size: Option<u64>,
    #[serde(borrow)]
    pub(crate) title: Option<Str<'a>>,
    #[serde(borrow)]
    pub(crate) creation: Option<Str<'a>>,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct Annotation<'a> {
    #[serde(borrow)]
    pub(crate) text: Option<Str<'a>>,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct Meta<'a> {
    #[serde(borrow)]
    pub(crate) security: Vec<Coding<'a>>,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub(crate) struct TimingRepeat<'a> {
    #[serde(borrow)]
    pub(crate) bounds_period: Option<Period<'a>>,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct Timing<'a> {
    #[serde(borrow)]
    pub(crate) repeat: Option<TimingRepeat<'a>>,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub(crate) struct DoseAndRate<'a> {
    #[serde(borrow)]
    pub(crate) dose_quantity: Option<Quantity<'a>>,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub(crate) struct Dosage<'a> {
    #[serde(borrow)]
    pub(crate) text: Option<Str<'a>>,
    #[serde(borrow)]
    pub(crate) timing: Option<Timing<'a>>,
    #[serde(borrow)]
    pub(crate) dose_and_rate: Vec<DoseAndRate<'a>>,
}

/// The `value[x]` of an Observation or component (same precedence as `phr_fhir::types::ValueX`).
#[derive(Clone, Copy, Debug)]
pub(crate) enum Value<'r, 'a> {
    Quantity(&'r Quantity<'a>),
    CodeableConcept(&'r CodeableConcept<'a>),
    String(&'r str),
    Boolean(bool),
    Integer(i64),
    Range(&'r Range<'a>),
    Ratio(&'r Ratio<'a>),
    DateTime(&'r str),
    Period(&'r Period<'a>),
}

impl Value<'_, '_> {
    /// A short human-readable form.
    pub(crate) fn display(&self) -> Option<String> {
        let q =
            |q: &Option<Quantity<'_>>| q.as_ref().and_then(Quantity::display).unwrap_or_default();
        match self {
            Value::Quantity(x) => x.display(),
            Value::CodeableConcept(c) => c.display().map(str::to_string),
            Value::String(s) => Some(s.to_string()),
            Value::Boolean(b) => Some(if *b { "Yes" } else { "No" }.into()),
            Value::Integer(i) => Some(i.to_string()),
            Value::Range(r) => Some(format!("{} – {}", q(&r.low), q(&r.high))),
            Value::Ratio(r) => Some(format!("{} / {}", q(&r.numerator), q(&r.denominator))),
            Value::DateTime(d) => Some(d.to_string()),
            Value::Period(p) => Some(format!(
                "{} – {}",
                opt(&p.start).unwrap_or(""),
                opt(&p.end).unwrap_or("")
            )),
        }
    }
}

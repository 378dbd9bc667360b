//! JSON plumbing shared by the models: properties kept verbatim, objects
//! read one property at a time so every problem can be reported with its path.

use std::fmt;

use serde::de::{Deserializer, MapAccess, Visitor};
use serde::{Deserialize, Serialize, Serializer};
use serde_json::value::RawValue;

use crate::validation::Problems;

/// One JSON value kept exactly as it was written: used for properties the
/// models do not know, so they round-trip byte for byte.
///
/// ```
/// use used_insight::RawJson;
/// let v = RawJson::new(r#"{"weight": 1.50}"#)?;
/// assert_eq!(v.as_str(), r#"{"weight": 1.50}"#);
/// # Ok::<(), used_insight::InvalidJson>(())
/// ```
#[derive(Clone)]
pub struct RawJson(Box<RawValue>);

/// The text given to [`RawJson::new`] is not one JSON value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvalidJson {
    reason: String,
}

impl fmt::Display for InvalidJson {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "not a JSON value: {}", self.reason)
    }
}

impl std::error::Error for InvalidJson {}

impl RawJson {
    /// Wraps JSON text after checking it is exactly one JSON value.
    pub fn new(json: impl Into<String>) -> Result<Self, InvalidJson> {
        RawValue::from_string(json.into())
            .map(Self)
            .map_err(|e| InvalidJson {
                reason: e.to_string(),
            })
    }

    /// The JSON text, as it was written.
    pub fn as_str(&self) -> &str {
        self.0.get()
    }

    pub(crate) fn from_raw(raw: Box<RawValue>) -> Self {
        Self(raw)
    }
}

impl PartialEq for RawJson {
    fn eq(&self, other: &Self) -> bool {
        self.as_str() == other.as_str()
    }
}

impl Eq for RawJson {}

impl fmt::Debug for RawJson {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Display for RawJson {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for RawJson {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.0.serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for RawJson {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Box::<RawValue>::deserialize(deserializer).map(Self)
    }
}

/// A JSON object's properties in document order, values still unparsed.
pub(crate) struct RawObject(pub(crate) Vec<(String, Box<RawValue>)>);

impl<'de> Deserialize<'de> for RawObject {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct ObjectVisitor;
        impl<'de> Visitor<'de> for ObjectVisitor {
            type Value = RawObject;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<RawObject, A::Error> {
                let mut entries = Vec::with_capacity(map.size_hint().unwrap_or(8));
                while let Some(entry) = map.next_entry::<String, Box<RawValue>>()? {
                    entries.push(entry);
                }
                Ok(RawObject(entries))
            }
        }
        deserializer.deserialize_map(ObjectVisitor)
    }
}

/// `parent.key`, or `key` at the top level.
pub(crate) fn join_path(parent: &str, key: &str) -> String {
    if parent.is_empty() {
        key.to_owned()
    } else {
        format!("{parent}.{key}")
    }
}

/// What a JSON value's first byte says it is, for error messages.
pub(crate) fn kind_of(raw: &RawValue) -> &'static str {
    match raw.get().as_bytes().first() {
        Some(b'{') => "an object",
        Some(b'[') => "an array",
        Some(b'"') => "a string",
        Some(b't' | b'f') => "a boolean",
        Some(b'n') => "null",
        _ => "a number",
    }
}

pub(crate) fn is_null(raw: &RawValue) -> bool {
    raw.get() == "null"
}

/// Reads an object at `path`, reporting duplicate property names (the JSON
/// grammar allows them; which one a server takes is anybody's guess).
pub(crate) fn read_object(
    raw: &RawValue,
    path: &str,
    problems: &mut Problems,
) -> Option<RawObject> {
    match serde_json::from_str::<RawObject>(raw.get()) {
        Ok(object) => {
            let mut names: Vec<&str> = object.0.iter().map(|(k, _)| k.as_str()).collect();
            names.sort_unstable();
            for pair in names.windows(2) {
                if pair[0] == pair[1] {
                    problems.push(
                        join_path(path, pair[0]),
                        "the property appears more than once",
                    );
                }
            }
            Some(object)
        }
        Err(_) => {
            problems.push(path, format!("expected an object, found {}", kind_of(raw)));
            None
        }
    }
}

/// Reads an optional string property; `null` means absent.
pub(crate) fn read_string(raw: &RawValue, path: &str, problems: &mut Problems) -> Option<String> {
    if is_null(raw) {
        return None;
    }
    match serde_json::from_str::<String>(raw.get()) {
        Ok(s) => Some(s),
        Err(_) => {
            problems.push(path, format!("expected a string, found {}", kind_of(raw)));
            None
        }
    }
}

/// Parses a whole document as a JSON object, naming the syntax error if any.
pub(crate) fn parse_document(text: &str, problems: &mut Problems) -> Option<Box<RawValue>> {
    match serde_json::from_str::<Box<RawValue>>(text) {
        Ok(raw) => Some(raw),
        Err(e) => {
            problems.push("", format!("the body is not valid JSON: {e}"));
            None
        }
    }
}

//! JSON plumbing shared by the models: properties kept verbatim, objects
//! read one property at a time so every problem can be reported with its path.

use std::fmt;

use serde::de::Deserializer;
use serde::{Deserialize, Serialize, Serializer};
use serde_json::value::RawValue;

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

/// `parent.key`, or `key` at the top level.
pub(crate) fn join_path(parent: &str, key: &str) -> String {
    if parent.is_empty() {
        key.to_owned()
    } else {
        format!("{parent}.{key}")
    }
}

//! JSON values kept verbatim ([`RawJson`], for properties the models do not
//! know) and the JSON path helper the readers and checks share.

use std::fmt;

use serde::de::{Deserializer, MapAccess, SeqAccess, Visitor};
use serde::{Deserialize, Serialize, Serializer};
use serde_json::value::RawValue;
use serde_json::{Map, Value};

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

    fn from_value<E: serde::de::Error>(value: Value) -> Result<Self, E> {
        serde_json::value::to_raw_value(&value)
            .map(Self)
            .map_err(E::custom)
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

/// How serde_json hands out a value's text unparsed: it answers a request
/// for a newtype struct of this name with a one-entry map from this name to
/// the text. Any other format answers with the value itself, which is then
/// written as compact JSON. The round-trip tests of the vectors fail if
/// serde_json ever changes this.
const SERDE_JSON_RAW_TOKEN: &str = "$serde_json::private::RawValue";

/// From JSON text the value is kept byte for byte; from any other serde
/// format (a Python dict, say) it is written as compact JSON.
impl<'de> Deserialize<'de> for RawJson {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_newtype_struct(SERDE_JSON_RAW_TOKEN, RawJsonVisitor)
    }
}

struct RawJsonVisitor;

/// The text of a value handed over by the token protocol, taken as it is:
/// serde_json's own `Box<RawValue>` reader is given the text the way
/// serde_json hands it over, so it is not parsed a second time.
struct Verbatim;

impl<'de> serde::de::DeserializeSeed<'de> for Verbatim {
    type Value = Box<RawValue>;
    fn deserialize<D: Deserializer<'de>>(self, text: D) -> Result<Box<RawValue>, D::Error> {
        Box::<RawValue>::deserialize(TokenProtocol(text))
    }
}

/// Asked for the raw-value newtype, answers with one entry from the token
/// to the text deserializer it wraps.
struct TokenProtocol<D>(D);

impl<'de, D: Deserializer<'de>> Deserializer<'de> for TokenProtocol<D> {
    type Error = D::Error;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, D::Error> {
        self.0.deserialize_any(visitor)
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, D::Error> {
        visitor.visit_map(TokenEntry(Some(self.0)))
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string
        bytes byte_buf option unit unit_struct seq tuple
        tuple_struct map struct enum identifier ignored_any
    }
}

struct TokenEntry<D>(Option<D>);

impl<'de, D: Deserializer<'de>> MapAccess<'de> for TokenEntry<D> {
    type Error = D::Error;

    fn next_key_seed<K: serde::de::DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, D::Error> {
        if self.0.is_none() {
            return Ok(None);
        }
        let token: serde::de::value::StrDeserializer<'_, D::Error> =
            serde::de::IntoDeserializer::into_deserializer(SERDE_JSON_RAW_TOKEN);
        seed.deserialize(token).map(Some)
    }

    fn next_value_seed<V: serde::de::DeserializeSeed<'de>>(
        &mut self,
        seed: V,
    ) -> Result<V::Value, D::Error> {
        match self.0.take() {
            Some(text) => seed.deserialize(text),
            None => Err(serde::de::Error::custom("the raw value was read already")),
        }
    }
}

/// The first key of a map: serde_json's token (compared without a copy) or
/// an ordinary property name.
enum FirstKey {
    Token,
    Other(String),
}

struct FirstKeySeed;

impl<'de> serde::de::DeserializeSeed<'de> for FirstKeySeed {
    type Value = FirstKey;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<FirstKey, D::Error> {
        d.deserialize_str(FirstKeyVisitor)
    }
}

struct FirstKeyVisitor;

impl Visitor<'_> for FirstKeyVisitor {
    type Value = FirstKey;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a property name")
    }
    fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<FirstKey, E> {
        Ok(if v == SERDE_JSON_RAW_TOKEN {
            FirstKey::Token
        } else {
            FirstKey::Other(v.to_owned())
        })
    }
}

impl<'de> Visitor<'de> for RawJsonVisitor {
    type Value = RawJson;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_newtype_struct<D: Deserializer<'de>>(self, d: D) -> Result<RawJson, D::Error> {
        RawJson::from_value(Value::deserialize(d)?)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<RawJson, A::Error> {
        let mut object = Map::new();
        let first = match map.next_key_seed(FirstKeySeed)? {
            None => return RawJson::from_value(Value::Object(object)),
            Some(FirstKey::Token) => return map.next_value_seed(Verbatim).map(RawJson),
            Some(FirstKey::Other(key)) => key,
        };
        object.insert(first, map.next_value()?);
        while let Some((key, value)) = map.next_entry::<String, Value>()? {
            object.insert(key, value);
        }
        RawJson::from_value(Value::Object(object))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<RawJson, A::Error> {
        let value = Value::deserialize(serde::de::value::SeqAccessDeserializer::new(seq))?;
        RawJson::from_value(value)
    }

    fn visit_bool<E: serde::de::Error>(self, v: bool) -> Result<RawJson, E> {
        RawJson::from_value(Value::Bool(v))
    }
    fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<RawJson, E> {
        RawJson::from_value(Value::from(v))
    }
    fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<RawJson, E> {
        RawJson::from_value(Value::from(v))
    }
    fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<RawJson, E> {
        match serde_json::Number::from_f64(v) {
            Some(n) => RawJson::from_value(Value::Number(n)),
            None => Err(E::custom(format!("{v} has no JSON form"))),
        }
    }
    fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<RawJson, E> {
        RawJson::from_value(Value::from(v))
    }
    fn visit_unit<E: serde::de::Error>(self) -> Result<RawJson, E> {
        RawJson::from_value(Value::Null)
    }
    fn visit_none<E: serde::de::Error>(self) -> Result<RawJson, E> {
        RawJson::from_value(Value::Null)
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<RawJson, D::Error> {
        RawJson::from_value(Value::deserialize(d)?)
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn from_json_text_the_value_is_kept_verbatim() {
        let raw: RawJson = serde_json::from_str(r#"{"weight" : 1.50}"#).unwrap();
        assert_eq!(raw.as_str(), r#"{"weight" : 1.50}"#);
    }

    #[test]
    fn from_another_format_the_value_is_written_as_json() {
        use serde::de::value::{Error, MapDeserializer, SeqDeserializer};
        let map = MapDeserializer::<_, Error>::new([("a", 1u64), ("b", 2u64)].into_iter());
        assert_eq!(
            RawJson::deserialize(map).unwrap().as_str(),
            r#"{"a":1,"b":2}"#
        );
        let seq = SeqDeserializer::<_, Error>::new(["x", "y"].into_iter());
        assert_eq!(RawJson::deserialize(seq).unwrap().as_str(), r#"["x","y"]"#);
    }
}

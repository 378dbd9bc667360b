//! Reading Graph's wire shape in one pass over the text. Nothing fails on
//! the first problem: a value of the wrong kind is consumed, noted with its
//! path, and reading goes on, so every problem is reported at once. Paths
//! are only written out when there is a problem to report.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::fmt;
use std::marker::PhantomData;

use serde::de::{DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};

use crate::json::join_path;
use crate::scan::{scan_document, ScanObject};
use crate::validation::{Problems, ValidationErrors, MAX_BODY_BYTES};
use crate::{DateTimeOffset, RawJson};

/// Where a value sits: its parent's path and its own key, joined on demand.
#[derive(Clone, Copy)]
pub(crate) struct At<'a> {
    pub(crate) parent: &'a str,
    pub(crate) key: &'a str,
}

impl At<'_> {
    pub(crate) fn path(&self) -> String {
        join_path(self.parent, self.key)
    }

    /// The path as a parent for the properties inside this value; borrowed
    /// whenever one side is empty (the top level and its direct children).
    pub(crate) fn as_parent(&self) -> Cow<'_, str> {
        match (self.parent.is_empty(), self.key.is_empty()) {
            (true, _) => Cow::Borrowed(self.key),
            (_, true) => Cow::Borrowed(self.parent),
            _ => Cow::Owned(self.path()),
        }
    }
}

/// A model object read from the wire: its `@odata.type`, its known
/// properties (each read by `read_known`), and a bag for the rest.
pub(crate) trait WireObject: Default {
    /// `@odata.type` as written, e.g. `#microsoft.graph.usedInsight`.
    const ODATA_TYPE: &'static str;
    /// Known property names, in wire order.
    const PROPERTIES: &'static [&'static str];
    fn additional_data(&mut self) -> &mut BTreeMap<String, RawJson>;
    /// Reads the value of known property number `index` (into `PROPERTIES`).
    fn read_known<'de, A: MapAccess<'de>>(
        &mut self,
        index: usize,
        map: &mut A,
        at: At<'_>,
        problems: &mut Problems,
    ) -> Result<(), A::Error>;
}

/// What a JSON value is, for "expected …, found …" messages.
fn found(kind: &str) -> String {
    format!("found {kind}")
}

/// Reads a whole body; `None` when it is not one JSON object.
pub(crate) fn decode_document<T: ScanObject>(json: &str, problems: &mut Problems) -> Option<T> {
    if json.len() > MAX_BODY_BYTES {
        problems.push(
            "",
            format!(
                "the body is {} bytes; at most {MAX_BODY_BYTES} allowed",
                json.len()
            ),
        );
        return None;
    }
    // The common case, a document without a problem, read quickly; the
    // serde reader reads anything else and finds every problem.
    if let Some(value) = scan_document::<T>(json) {
        return Some(value);
    }
    read_document(json, problems)
}

/// [`decode_document`] by the serde reader alone.
pub(crate) fn read_document<T: WireObject>(json: &str, problems: &mut Problems) -> Option<T> {
    let mut de = serde_json::Deserializer::from_str(json);
    let at = At {
        parent: "",
        key: "",
    };
    let value = ObjectSeed::<T>::new(at, problems).deserialize(&mut de);
    match value.and_then(|v| de.end().map(|()| v)) {
        Ok(Some(v)) => Some(v),
        Ok(None) => {
            if problems.is_empty() {
                problems.push("", "expected an object, found null");
            }
            None
        }
        Err(e) => {
            problems.push("", format!("the body is not valid JSON: {e}"));
            None
        }
    }
}

/// Reads a model from any serde deserializer (JSON text, a Python dict…)
/// with the same reader as [`decode_document`]: what could be read (a value
/// with a problem is left absent) and every problem of shape with its path.
/// `Err` only when the deserializer itself fails.
pub(crate) fn read_partial<'de, T: WireObject, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<(T, Problems), D::Error> {
    let mut problems = Problems::default();
    let at = At {
        parent: "",
        key: "",
    };
    let value = ObjectSeed::<T>::new(at, &mut problems).deserialize(deserializer)?;
    Ok((value.unwrap_or_default(), problems))
}

/// [`read_partial`], all or nothing.
pub(crate) fn read_model<'de, T: WireObject, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Result<T, ValidationErrors>, D::Error> {
    let (value, problems) = read_partial(deserializer)?;
    Ok(problems.into_result().map(|()| value))
}

/// A seed's answer to a boolean or a number where it wants something else:
/// a problem at its path (each seed has `wrong_kind`).
macro_rules! wrong_kind_for_scalars {
    () => {
        fn visit_bool<E>(self, _: bool) -> Result<Self::Value, E> {
            Ok(self.wrong_kind("a boolean"))
        }
        fn visit_i64<E>(self, _: i64) -> Result<Self::Value, E> {
            Ok(self.wrong_kind("a number"))
        }
        fn visit_u64<E>(self, _: u64) -> Result<Self::Value, E> {
            Ok(self.wrong_kind("a number"))
        }
        fn visit_f64<E>(self, _: f64) -> Result<Self::Value, E> {
            Ok(self.wrong_kind("a number"))
        }
    };
}

/// Reads one object property by property; any other kind of value is a
/// problem at `at`, and `null` means absent.
pub(crate) struct ObjectSeed<'a, 'p, T> {
    at: At<'a>,
    problems: &'p mut Problems,
    _type: PhantomData<T>,
}

impl<'a, 'p, T> ObjectSeed<'a, 'p, T> {
    pub(crate) fn new(at: At<'a>, problems: &'p mut Problems) -> Self {
        Self {
            at,
            problems,
            _type: PhantomData,
        }
    }

    fn wrong_kind(self, kind: &str) -> Option<T> {
        self.problems.push(
            self.at.path(),
            format!("expected an object, {}", found(kind)),
        );
        None
    }
}

impl<'de, T: WireObject> DeserializeSeed<'de> for ObjectSeed<'_, '_, T> {
    type Value = Option<T>;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de, T: WireObject> Visitor<'de> for ObjectSeed<'_, '_, T> {
    type Value = Option<T>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let parent = self.at.as_parent();
        let problems = self.problems;
        let mut out = T::default();
        let mut seen: u32 = 0;
        while let Some(key) = map.next_key_seed(KeySeed)? {
            let at = At {
                parent: &parent,
                key: &key,
            };
            if key == "@odata.type" {
                let value: Option<String> =
                    map.next_value_seed(TextSeed::new(at, &mut *problems))?;
                check_odata_type(value.as_deref(), at, T::ODATA_TYPE, problems);
                continue;
            }
            match T::PROPERTIES.iter().position(|p| *p == key) {
                Some(index) => {
                    if seen & (1 << index) != 0 {
                        problems.push(at.path(), "the property appears more than once");
                    }
                    seen |= 1 << index;
                    out.read_known(index, &mut map, at, problems)?;
                }
                None => {
                    let raw: RawJson = map.next_value()?;
                    let duplicate = out
                        .additional_data()
                        .insert(key.clone().into_owned(), raw)
                        .is_some();
                    if duplicate {
                        problems.push(at.path(), "the property appears more than once");
                    }
                }
            }
        }
        Ok(Some(out))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(self.wrong_kind("an array"))
    }
    fn visit_str<E>(self, _: &str) -> Result<Self::Value, E> {
        Ok(self.wrong_kind("a string"))
    }
    wrong_kind_for_scalars!();
    fn visit_unit<E>(self) -> Result<Self::Value, E> {
        Ok(None)
    }
}

/// A value read from JSON text: a `String` as is, a date-time parsed
/// straight from the text (no copy of it is made).
pub(crate) trait FromText: Sized {
    fn from_text(text: Cow<'_, str>, at: At<'_>, problems: &mut Problems) -> Option<Self>;
}

impl FromText for String {
    fn from_text(text: Cow<'_, str>, _: At<'_>, _: &mut Problems) -> Option<Self> {
        Some(text.into_owned())
    }
}

impl FromText for DateTimeOffset {
    fn from_text(text: Cow<'_, str>, at: At<'_>, problems: &mut Problems) -> Option<Self> {
        DateTimeOffset::parse(&text)
            .map_err(|e| problems.push(at.path(), e.to_string()))
            .ok()
    }
}

/// A text property; `null` means absent, anything else is a problem.
pub(crate) struct TextSeed<'a, 'p, T> {
    pub(crate) at: At<'a>,
    pub(crate) problems: &'p mut Problems,
    _type: PhantomData<T>,
}

impl<'a, 'p, T> TextSeed<'a, 'p, T> {
    pub(crate) fn new(at: At<'a>, problems: &'p mut Problems) -> Self {
        Self {
            at,
            problems,
            _type: PhantomData,
        }
    }

    fn wrong_kind(self, kind: &str) -> Option<T> {
        self.problems.push(
            self.at.path(),
            format!("expected a string, {}", found(kind)),
        );
        None
    }
}

impl<'de, T: FromText> DeserializeSeed<'de> for TextSeed<'_, '_, T> {
    type Value = Option<T>;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de, T: FromText> Visitor<'de> for TextSeed<'_, '_, T> {
    type Value = Option<T>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a string")
    }
    fn visit_str<E>(self, v: &str) -> Result<Self::Value, E> {
        Ok(T::from_text(Cow::Borrowed(v), self.at, self.problems))
    }
    fn visit_string<E>(self, v: String) -> Result<Self::Value, E> {
        Ok(T::from_text(Cow::Owned(v), self.at, self.problems))
    }
    fn visit_unit<E>(self) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(self.wrong_kind("an object"))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(self.wrong_kind("an array"))
    }
    wrong_kind_for_scalars!();
}

/// Property names, borrowed from the text when they hold no escapes.
struct KeySeed;

impl<'de> DeserializeSeed<'de> for KeySeed {
    type Value = Cow<'de, str>;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for KeySeed {
    type Value = Cow<'de, str>;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a property name")
    }
    fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Self::Value, E> {
        Ok(Cow::Borrowed(v))
    }
    fn visit_str<E>(self, v: &str) -> Result<Self::Value, E> {
        Ok(Cow::Owned(v.to_owned()))
    }
    fn visit_string<E>(self, v: String) -> Result<Self::Value, E> {
        Ok(Cow::Owned(v))
    }
}

/// Reads a string property.
pub(crate) fn read_string<'de, A: MapAccess<'de>>(
    map: &mut A,
    at: At<'_>,
    problems: &mut Problems,
) -> Result<Option<String>, A::Error> {
    map.next_value_seed(TextSeed::new(at, problems))
}

/// Reads an Edm.DateTimeOffset property, parsed straight from the text.
pub(crate) fn read_datetime<'de, A: MapAccess<'de>>(
    map: &mut A,
    at: At<'_>,
    problems: &mut Problems,
) -> Result<Option<DateTimeOffset>, A::Error> {
    map.next_value_seed(TextSeed::new(at, problems))
}

/// Reads a nested model object.
pub(crate) fn read_nested<'de, A: MapAccess<'de>, T: WireObject>(
    map: &mut A,
    at: At<'_>,
    problems: &mut Problems,
) -> Result<Option<T>, A::Error> {
    map.next_value_seed(ObjectSeed::<T>::new(at, problems))
}

/// `@odata.type` is optional on input; when present it must name this type,
/// with or without the leading `#`.
fn check_odata_type(value: Option<&str>, at: At<'_>, expected: &str, problems: &mut Problems) {
    let Some(value) = value else { return };
    if !odata_type_matches(value, expected) {
        let bare = expected.trim_start_matches('#');
        problems.push(at.path(), format!("must be `#{bare}`, not `{value}`"));
    }
}

/// Whether an `@odata.type` names the type `expected` names.
pub(crate) fn odata_type_matches(value: &str, expected: &str) -> bool {
    value.strip_prefix('#').unwrap_or(value) == expected.trim_start_matches('#')
}

//! The models described as data, and the one macro that declares them.
//!
//! Each model is written once, in `model.rs`, with [`graph_model!`]: its
//! fields, their wire names, their kinds and which are required. From that
//! one list the macro generates the struct, the reader's arms, the writer,
//! the checks, the setter by wire path, and the public [`ModelInfo`] table
//! that the C and Python layers walk instead of keeping copies.

use serde::de::MapAccess;

use crate::decode::{read_datetime, read_string, At};
use crate::validation::{check_id, check_text, check_url, Problems};
use crate::DateTimeOffset;

/// One of the four model types, with its description as data. Sealed: the
/// models are declared by this crate only.
///
/// ```
/// use used_insight::{Model, UsageDetails};
/// assert_eq!(UsageDetails::MODEL.odata_type, "microsoft.graph.usageDetails");
/// ```
pub trait Model:
    sealed::Sealed + ModelRef + Default + Clone + PartialEq + std::fmt::Debug + serde::Serialize
{
    /// This model as data: its `@odata.type` and its fields, in wire order.
    const MODEL: &'static ModelInfo;
}

/// A model's values, walked field by field in the table's order, for
/// bindings that build their own objects from core's (see
/// [`crate::bindings`]). Object-safe, so one function handles every model.
///
/// ```
/// use used_insight::{FieldRef, ModelRef, UsageDetails};
/// let details = UsageDetails {
///     last_accessed_date_time: Some("2026-11-28T10:00:00Z".parse()?),
///     ..Default::default()
/// };
/// let mut seen = Vec::new();
/// details.visit_fields(&mut |field, value| {
///     seen.push((field.wire_name, matches!(value, Some(FieldRef::DateTime(_)))))
/// });
/// assert_eq!(seen, [("lastAccessedDateTime", true), ("lastModifiedDateTime", false)]);
/// # Ok::<(), used_insight::DateTimeError>(())
/// ```
pub trait ModelRef {
    /// This model as data.
    fn model_info(&self) -> &'static ModelInfo;
    /// Calls `visit` once per field of [`ModelRef::model_info`], in order,
    /// with its value (`None` when absent).
    fn visit_fields(&self, visit: &mut dyn FnMut(&'static FieldInfo, Option<FieldRef<'_>>));
    /// The properties kept verbatim.
    fn additional_data(&self) -> &std::collections::BTreeMap<String, crate::RawJson>;
}

/// One field's value, as [`ModelRef::visit_fields`] hands it over.
#[derive(Clone, Copy)]
#[non_exhaustive]
pub enum FieldRef<'a> {
    /// A text, identifier or URL property.
    Text(&'a str),
    /// A date-time property.
    DateTime(&'a DateTimeOffset),
    /// A nested object.
    Object(&'a dyn ModelRef),
}

impl std::fmt::Debug for FieldRef<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            FieldRef::Text(text) => f.debug_tuple("Text").field(text).finish(),
            FieldRef::DateTime(value) => f.debug_tuple("DateTime").field(value).finish(),
            FieldRef::Object(value) => f
                .debug_tuple("Object")
                .field(&value.model_info().name)
                .finish(),
        }
    }
}

pub(crate) mod sealed {
    /// Implemented by [`graph_model!`] only; carries what the bindings call
    /// through [`crate::bindings`].
    pub trait Sealed: Sized {
        /// See [`crate::bindings::read_model`].
        fn read_with<'de, D: serde::Deserializer<'de>>(
            deserializer: D,
        ) -> Result<(Self, Vec<crate::Problem>), D::Error>;
    }
}

/// One model type as data: its name, its `@odata.type` and its properties
/// in wire order.
///
/// ```
/// use used_insight::{FieldKind, Model, UsedInsight};
/// let model = &UsedInsight::MODEL;
/// assert_eq!(model.odata_type, "#microsoft.graph.usedInsight");
/// let names: Vec<&str> = model.fields.iter().map(|f| f.wire_name).collect();
/// assert_eq!(names, ["id", "lastUsed", "resourceVisualization", "resourceReference"]);
/// assert!(matches!(model.fields[1].kind, FieldKind::Object(m) if m.name == "UsageDetails"));
/// ```
#[derive(Debug)]
#[non_exhaustive]
pub struct ModelInfo {
    /// The Rust (and Python) type name, e.g. `UsageDetails`.
    pub name: &'static str,
    /// `@odata.type` as written on the wire: `#microsoft.graph.usedInsight`
    /// for the top level, `microsoft.graph.usageDetails` etc. nested.
    pub odata_type: &'static str,
    /// The known properties, in the order they are written.
    pub fields: &'static [FieldInfo],
}

impl ModelInfo {
    /// The field with this wire name, if the model has one.
    pub fn field(&self, wire_name: &str) -> Option<&'static FieldInfo> {
        self.fields.iter().find(|f| f.wire_name == wire_name)
    }
}

/// One known property of a model.
#[derive(Debug)]
#[non_exhaustive]
pub struct FieldInfo {
    /// The snake_case name of the Rust field and the Python attribute,
    /// e.g. `last_accessed_date_time`, `type`.
    pub name: &'static str,
    /// Graph's camelCase name, e.g. `lastAccessedDateTime`.
    pub wire_name: &'static str,
    /// What values it holds and which rules apply.
    pub kind: FieldKind,
    /// Whether a create must carry it.
    pub required: bool,
}

/// What a property holds, and so which rules it is checked by.
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
pub enum FieldKind {
    /// Text of at most [`MAX_TEXT_BYTES`](crate::MAX_TEXT_BYTES).
    Text,
    /// An identifier: text without control characters.
    Id,
    /// An absolute `http`/`https` URL of at most [`MAX_URL_BYTES`](crate::MAX_URL_BYTES).
    Url,
    /// An Edm.DateTimeOffset ([`DateTimeOffset`]), RFC 3339 text on the wire.
    DateTime,
    /// A nested model object.
    Object(&'static ModelInfo),
}

/// `r#type` → `type`: the field name as Python and the table spell it.
pub(crate) const fn snake_name(rust_name: &'static str) -> &'static str {
    let bytes = rust_name.as_bytes();
    if bytes.len() > 2 && bytes[0] == b'r' && bytes[1] == b'#' {
        let (_, rest) = bytes.split_at(2);
        if let Ok(name) = std::str::from_utf8(rest) {
            return name;
        }
    }
    rust_name
}

/// A value a model field can hold: how it is read, checked, set from text
/// and shown to bindings.
pub(crate) trait FieldValue: Sized {
    /// This value for [`ModelRef::visit_fields`].
    fn as_field_ref(&self) -> FieldRef<'_>;

    /// Reads the value of a property (`null` is absent).
    fn read<'de, A: MapAccess<'de>>(
        map: &mut A,
        at: At<'_>,
        problems: &mut Problems,
    ) -> Result<Option<Self>, A::Error>;

    /// Checks a present value by the rules of its kind.
    fn check(&self, kind: FieldKind, at: At<'_>, problems: &mut Problems);

    /// Sets `slot` from text at `rest` (the wire path below this field,
    /// empty for the field itself); `path` is the whole path, for problems.
    /// `false` when nothing is at `rest`.
    fn set_text(
        slot: &mut Option<Self>,
        rest: &str,
        text: &str,
        path: &str,
        problems: &mut Problems,
    ) -> bool;
}

impl FieldValue for String {
    fn as_field_ref(&self) -> FieldRef<'_> {
        FieldRef::Text(self)
    }

    fn read<'de, A: MapAccess<'de>>(
        map: &mut A,
        at: At<'_>,
        problems: &mut Problems,
    ) -> Result<Option<Self>, A::Error> {
        read_string(map, at, problems)
    }

    fn check(&self, kind: FieldKind, at: At<'_>, problems: &mut Problems) {
        match kind {
            FieldKind::Url => check_url(self, at, problems),
            FieldKind::Id => check_id(self, at, problems),
            FieldKind::Text | FieldKind::DateTime | FieldKind::Object(_) => {
                check_text(self, at, problems)
            }
        }
    }

    fn set_text(
        slot: &mut Option<Self>,
        rest: &str,
        text: &str,
        _path: &str,
        _problems: &mut Problems,
    ) -> bool {
        set_leaf(slot, rest, || Some(text.to_owned()))
    }
}

impl FieldValue for DateTimeOffset {
    fn as_field_ref(&self) -> FieldRef<'_> {
        FieldRef::DateTime(self)
    }

    fn read<'de, A: MapAccess<'de>>(
        map: &mut A,
        at: At<'_>,
        problems: &mut Problems,
    ) -> Result<Option<Self>, A::Error> {
        read_datetime(map, at, problems)
    }

    /// Any parsed date-time is valid: its text was checked when read.
    fn check(&self, _kind: FieldKind, _at: At<'_>, _problems: &mut Problems) {}

    fn set_text(
        slot: &mut Option<Self>,
        rest: &str,
        text: &str,
        path: &str,
        problems: &mut Problems,
    ) -> bool {
        set_leaf(slot, rest, || {
            DateTimeOffset::parse(text)
                .map_err(|e| problems.push(path, e.to_string()))
                .ok()
        })
    }
}

/// Sets a leaf (`rest` empty, else nothing is there) to `value()`, when
/// that gives one (a text that does not parse is the caller's problem).
fn set_leaf<T>(slot: &mut Option<T>, rest: &str, value: impl FnOnce() -> Option<T>) -> bool {
    if !rest.is_empty() {
        return false;
    }
    if let Some(value) = value() {
        *slot = Some(value);
    }
    true
}

/// Declares a Graph model once. From the list of fields it generates the
/// struct (every field an `Option`, plus `additional_data`), the public
/// `MODEL` table, the reader (`WireObject`) and its quick path for plain
/// documents (`ScanObject`), the compact JSON writer
/// (`WriteJson`, what `to_json` uses), `Serialize`, `Deserialize`, the
/// create rules (`check`) and the setter by wire path (`set_text`).
///
/// A field is `name: Type => "wireName" as kind`, optionally `required`;
/// kinds are `text`, `id`, `url`, `datetime` and `object`.
macro_rules! graph_model {
    (@kind text, $ty:ty) => { $crate::schema::FieldKind::Text };
    (@kind id, $ty:ty) => { $crate::schema::FieldKind::Id };
    (@kind url, $ty:ty) => { $crate::schema::FieldKind::Url };
    (@kind datetime, $ty:ty) => { $crate::schema::FieldKind::DateTime };
    (@kind object, $ty:ty) => {
        $crate::schema::FieldKind::Object(<$ty as $crate::schema::Model>::MODEL)
    };
    (@required) => { false };
    (@required required) => { true };
    (
        $(#[$meta:meta])*
        pub struct $name:ident = $odata:literal {
            $(
                $(#[$field_meta:meta])*
                $field:ident : $ty:ty => $wire:literal as $kind:ident $($required:ident)?,
            )*
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Default, PartialEq, Eq)]
        pub struct $name {
            $(
                $(#[$field_meta])*
                pub $field: Option<$ty>,
            )*
            /// Properties not listed above, kept verbatim (e.g. `@odata.context`).
            pub additional_data: std::collections::BTreeMap<String, $crate::RawJson>,
        }

        impl $crate::schema::Model for $name {
            const MODEL: &'static $crate::schema::ModelInfo = &$crate::schema::ModelInfo {
                name: stringify!($name),
                odata_type: $odata,
                fields: &[$(
                    $crate::schema::FieldInfo {
                        name: $crate::schema::snake_name(stringify!($field)),
                        wire_name: $wire,
                        kind: graph_model!(@kind $kind, $ty),
                        required: graph_model!(@required $($required)?),
                    },
                )*],
            };
        }

        impl $crate::schema::sealed::Sealed for $name {
            fn read_with<'de, D: serde::Deserializer<'de>>(
                deserializer: D,
            ) -> Result<(Self, Vec<$crate::Problem>), D::Error> {
                $crate::decode::read_partial::<Self, D>(deserializer)
                    .map(|(value, problems)| (value, problems.into_vec()))
            }
        }

        impl $name {
            /// Checks Graph's rules on this object at `path` (empty at the top).
            pub(crate) fn check(&self, path: &str, problems: &mut $crate::validation::Problems) {
                $crate::validation::check_shadowing(
                    &self.additional_data,
                    path,
                    <Self as $crate::decode::WireObject>::PROPERTIES,
                    problems,
                );
                $(
                    let at = $crate::decode::At { parent: path, key: $wire };
                    match &self.$field {
                        Some(value) => $crate::schema::FieldValue::check(
                            value,
                            graph_model!(@kind $kind, $ty),
                            at,
                            problems,
                        ),
                        None if graph_model!(@required $($required)?) => {
                            problems.push_if_new(&at.path(), "is required")
                        }
                        None => {}
                    }
                )*
            }

            /// Sets the property at wire path `rest` (`title`, or
            /// `lastUsed.lastAccessedDateTime` from a usedInsight) from text,
            /// creating the nested objects on the way. `false` if the model
            /// has no such path.
            pub(crate) fn set_text_at(
                &mut self,
                rest: &str,
                text: &str,
                path: &str,
                problems: &mut $crate::validation::Problems,
            ) -> bool {
                let (head, tail) = rest.split_once('.').unwrap_or((rest, ""));
                $(
                    if head == $wire {
                        return <$ty as $crate::schema::FieldValue>::set_text(
                            &mut self.$field, tail, text, path, problems,
                        );
                    }
                )*
                false
            }
        }

        impl $crate::schema::ModelRef for $name {
            fn model_info(&self) -> &'static $crate::schema::ModelInfo {
                <Self as $crate::schema::Model>::MODEL
            }

            #[allow(unused_assignments)]
            fn visit_fields(
                &self,
                visit: &mut dyn FnMut(&'static $crate::schema::FieldInfo, Option<$crate::schema::FieldRef<'_>>),
            ) {
                let fields = <Self as $crate::schema::Model>::MODEL.fields;
                let mut number = 0usize;
                $(
                    visit(
                        &fields[number],
                        self.$field.as_ref().map($crate::schema::FieldValue::as_field_ref),
                    );
                    number += 1;
                )*
            }

            fn additional_data(&self) -> &std::collections::BTreeMap<String, $crate::RawJson> {
                &self.additional_data
            }
        }

        impl $crate::schema::FieldValue for $name {
            fn as_field_ref(&self) -> $crate::schema::FieldRef<'_> {
                $crate::schema::FieldRef::Object(self)
            }

            fn read<'de, A: serde::de::MapAccess<'de>>(
                map: &mut A,
                at: $crate::decode::At<'_>,
                problems: &mut $crate::validation::Problems,
            ) -> Result<Option<Self>, A::Error> {
                $crate::decode::read_nested(map, at, problems)
            }

            fn check(
                &self,
                _kind: $crate::schema::FieldKind,
                at: $crate::decode::At<'_>,
                problems: &mut $crate::validation::Problems,
            ) {
                $name::check(self, &at.as_parent(), problems)
            }

            fn set_text(
                slot: &mut Option<Self>,
                rest: &str,
                text: &str,
                path: &str,
                problems: &mut $crate::validation::Problems,
            ) -> bool {
                !rest.is_empty()
                    && slot.get_or_insert_with(Default::default).set_text_at(rest, text, path, problems)
            }
        }

        impl $crate::decode::WireObject for $name {
            const ODATA_TYPE: &'static str = $odata;
            const PROPERTIES: &'static [&'static str] = &[$($wire),*];

            fn additional_data(
                &mut self,
            ) -> &mut std::collections::BTreeMap<String, $crate::RawJson> {
                &mut self.additional_data
            }

            // One arm per field, numbered as PROPERTIES is: both come from
            // the same list, so they cannot drift apart.
            #[allow(unused_assignments)]
            fn read_known<'de, A: serde::de::MapAccess<'de>>(
                &mut self,
                index: usize,
                map: &mut A,
                at: $crate::decode::At<'_>,
                problems: &mut $crate::validation::Problems,
            ) -> Result<(), A::Error> {
                let mut number = 0usize;
                $(
                    if index == number {
                        self.$field = $crate::schema::FieldValue::read(map, at, problems)?;
                        return Ok(());
                    }
                    number += 1;
                )*
                unreachable!("property number {index} of {}", stringify!($name))
            }
        }

        impl $crate::scan::ScanObject for $name {
            // Numbered as PROPERTIES is, as `read_known` is.
            #[allow(unused_assignments)]
            fn scan_known(
                &mut self,
                index: usize,
                scanner: &mut $crate::scan::Scanner<'_>,
            ) -> Option<()> {
                let mut number = 0usize;
                $(
                    if index == number {
                        self.$field = <$ty as $crate::scan::ScanValue>::scan(scanner)?;
                        return Some(());
                    }
                    number += 1;
                )*
                None
            }
        }

        impl $crate::scan::ScanValue for $name {
            fn scan(
                scanner: &mut $crate::scan::Scanner<'_>,
            ) -> Option<Option<Self>> {
                $crate::scan::scan_nested(scanner)
            }
        }

        impl $crate::write::WriteJson for $name {
            fn write_json(&self, out: &mut String) {
                out.push_str(concat!("{\"@odata.type\":\"", $odata, "\""));
                $(
                    if let Some(value) = &self.$field {
                        out.push_str(concat!(",\"", $wire, "\":"));
                        $crate::write::WriteJson::write_json(value, out);
                    }
                )*
                $crate::write::write_additional(out, &self.additional_data);
                out.push('}');
            }

            fn json_len_hint(&self) -> usize {
                let mut len = $odata.len() + 18;
                $(
                    if let Some(value) = &self.$field {
                        len += $wire.len() + 4 + $crate::write::WriteJson::json_len_hint(value);
                    }
                )*
                for (key, value) in &self.additional_data {
                    len += key.len() + 4 + value.as_str().len();
                }
                len
            }
        }

        /// Written with `serde_json` this is exactly what
        /// [`WriteJson`]($crate::write::WriteJson) writes.
        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                let mut map = $crate::model::begin(serializer, $odata)?;
                $( map.opt($wire, &self.$field)?; )*
                map.finish(&self.additional_data)
            }
        }

        /// Deserializing goes through the same reader as `from_json` and
        /// fails with every problem listed.
        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                $crate::decode::read_model::<Self, D>(deserializer)?
                    .map_err(serde::de::Error::custom)
            }
        }
    };
}

pub(crate) use graph_model;

#[cfg(test)]
mod tests {
    use super::snake_name;

    #[test]
    fn raw_identifiers_lose_their_prefix() {
        assert_eq!(snake_name("r#type"), "type");
        assert_eq!(snake_name("title"), "title");
        assert_eq!(snake_name("r"), "r");
    }
}

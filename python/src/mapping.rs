//! A mapping in Graph's wire shape (a dict from `json.loads`, or written by
//! hand) → core's models, with no JSON text in between: known properties
//! are converted one by one, the unknown ones are kept in `additional_data`
//! as `RawJson` (only those values are written as JSON).
//!
//! Only type conversion happens here, as for the model classes (`convert`):
//! a Python value that has no JSON form (a set, a naive datetime, NaN, a
//! lone surrogate…) is this layer's problem, reported with its path. Whether
//! the *shape* is right is core's decision: a value this layer does not take
//! as is — a number where text belongs, a date-time text that
//! `DateTimeOffset::parse` refuses, an `@odata.type` other than the one core
//! writes, a property given twice — is written, with its key, into a small
//! *residue* document that mirrors the mapping, and core's reader
//! (`UsedInsight::from_json`) reports its problems with core's paths, words
//! and order, as if it had read the whole mapping as JSON. A well-formed
//! mapping leaves no residue and core's reader is not called.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::sync::OnceLock;

use pyo3::prelude::*;
use pyo3::types::{PyDateTime, PyDict, PyMapping, PyString};
use used_insight::{
    DateTimeOffset, RawJson, ResourceReference, ResourceVisualization, UsageDetails, UsedInsight,
    ValidationErrors,
};

use crate::convert::{datetime_from_py, join_path, Problems};
use crate::json::{mapping_items, property_name_utf8, utf8, value_to_json, write_string, Path};

/// Reads a mapping as a `T` (a usedInsight, or one of its nested types read
/// on its own, as `from_dict` does). `problems` gets this layer's problems;
/// the second value is core's verdict on the residue, with the paths core
/// gives them in a usedInsight (under `T::PROPERTY` for a nested type).
pub(crate) fn read<T: Wire>(
    mapping: &Bound<'_, PyMapping>,
    problems: &mut Problems,
) -> PyResult<(T, Result<(), ValidationErrors>)> {
    let mut residue = Residue::default();
    let value = read_object::<T>(mapping, "", 0, problems, &mut residue)?;
    Ok((value, residue.judge(T::PROPERTY)))
}

/// A model type read from a mapping.
pub(crate) trait Wire: Default {
    /// Which of core's `@odata.type` values (see [`written_odata_types`]).
    const LEVEL: usize;
    /// The usedInsight property that holds this type, if nested.
    const PROPERTY: Option<&'static str>;
    /// Known property names, as numbered for [`Wire::set`].
    const PROPERTIES: &'static [&'static str];
    fn additional_data(&mut self) -> &mut BTreeMap<String, RawJson>;
    /// Converts the value of known property number `index`.
    fn set(&mut self, index: usize, value: &Bound<'_, PyAny>, at: At<'_>) -> PyResult<()>;
}

impl Wire for UsedInsight {
    const LEVEL: usize = 0;
    const PROPERTY: Option<&'static str> = None;
    const PROPERTIES: &'static [&'static str] = &[
        "id",
        "lastUsed",
        "resourceVisualization",
        "resourceReference",
    ];

    fn additional_data(&mut self) -> &mut BTreeMap<String, RawJson> {
        &mut self.additional_data
    }

    fn set(&mut self, index: usize, value: &Bound<'_, PyAny>, at: At<'_>) -> PyResult<()> {
        match index {
            0 => self.id = string(value, at)?,
            1 => self.last_used = nested(value, at)?,
            2 => self.resource_visualization = nested(value, at)?,
            _ => self.resource_reference = nested(value, at)?,
        }
        Ok(())
    }
}

impl Wire for UsageDetails {
    const LEVEL: usize = 1;
    const PROPERTY: Option<&'static str> = Some("lastUsed");
    const PROPERTIES: &'static [&'static str] = &["lastAccessedDateTime", "lastModifiedDateTime"];

    fn additional_data(&mut self) -> &mut BTreeMap<String, RawJson> {
        &mut self.additional_data
    }

    fn set(&mut self, index: usize, value: &Bound<'_, PyAny>, at: At<'_>) -> PyResult<()> {
        let field = match index {
            0 => &mut self.last_accessed_date_time,
            _ => &mut self.last_modified_date_time,
        };
        *field = datetime(value, at)?;
        Ok(())
    }
}

impl Wire for ResourceVisualization {
    const LEVEL: usize = 2;
    const PROPERTY: Option<&'static str> = Some("resourceVisualization");
    const PROPERTIES: &'static [&'static str] = &[
        "title",
        "type",
        "mediaType",
        "previewImageUrl",
        "previewText",
        "containerWebUrl",
        "containerDisplayName",
        "containerType",
    ];

    fn additional_data(&mut self) -> &mut BTreeMap<String, RawJson> {
        &mut self.additional_data
    }

    fn set(&mut self, index: usize, value: &Bound<'_, PyAny>, at: At<'_>) -> PyResult<()> {
        let field = match index {
            0 => &mut self.title,
            1 => &mut self.r#type,
            2 => &mut self.media_type,
            3 => &mut self.preview_image_url,
            4 => &mut self.preview_text,
            5 => &mut self.container_web_url,
            6 => &mut self.container_display_name,
            _ => &mut self.container_type,
        };
        *field = string(value, at)?;
        Ok(())
    }
}

impl Wire for ResourceReference {
    const LEVEL: usize = 3;
    const PROPERTY: Option<&'static str> = Some("resourceReference");
    const PROPERTIES: &'static [&'static str] = &["webUrl", "id", "type"];

    fn additional_data(&mut self) -> &mut BTreeMap<String, RawJson> {
        &mut self.additional_data
    }

    fn set(&mut self, index: usize, value: &Bound<'_, PyAny>, at: At<'_>) -> PyResult<()> {
        let field = match index {
            0 => &mut self.web_url,
            1 => &mut self.id,
            _ => &mut self.r#type,
        };
        *field = string(value, at)?;
        Ok(())
    }
}

/// A known property being read: where it is, and where its problems go.
pub(crate) struct At<'a> {
    /// The path of the object holding it (`""` at the top).
    parent: &'a str,
    key: &'a str,
    /// How deep the object holding it is nested in the mapping given.
    depth: usize,
    problems: &'a mut Problems,
    /// The residue of the object holding it.
    residue: &'a mut Residue,
}

impl At<'_> {
    /// The value's JSON text, for core to judge, and any problem of Python
    /// type inside it for this layer's list; `None` when it has no JSON form
    /// at all (then it is absent, as a `null` would be).
    fn other(&mut self, value: &Bound<'_, PyAny>) -> PyResult<Option<String>> {
        let parent = Path::Whole(self.parent);
        let text = value_to_json(
            value,
            Path::Key(&parent, self.key),
            self.depth + 1,
            self.problems,
        )?;
        Ok((text != "null").then_some(text))
    }

    /// Hands the value, as JSON text, to core.
    fn leave(&mut self, json: String) {
        self.residue.push(self.key, Node::Json(json));
    }
}

/// A text property; an aware datetime given for one is its Edm text.
fn string(value: &Bound<'_, PyAny>, mut at: At<'_>) -> PyResult<Option<String>> {
    if value.is_none() {
        return Ok(None);
    }
    if let Ok(text) = value.cast::<PyString>() {
        if let Ok(text) = text.to_cow() {
            return Ok(Some(text.into_owned()));
        }
    }
    Ok(match at.other(value)? {
        Some(json) if json.starts_with('"') => serde_json::from_str(&json).ok(),
        Some(json) => {
            at.leave(json);
            None
        }
        None => None,
    })
}

/// An Edm.DateTimeOffset property: text read by core's parser, or an aware
/// datetime.
fn datetime(value: &Bound<'_, PyAny>, mut at: At<'_>) -> PyResult<Option<DateTimeOffset>> {
    if value.is_none() {
        return Ok(None);
    }
    if let Some(encoded) = value
        .cast::<PyString>()
        .ok()
        .and_then(|t| t.encode_utf8().ok())
    {
        let text = utf8(&encoded);
        return Ok(match DateTimeOffset::parse(text) {
            Ok(instant) => Some(instant),
            Err(_) => {
                // Core's reader says why, at its path, in its order.
                let mut json = String::with_capacity(text.len() + 2);
                write_string(text, &mut json);
                at.leave(json);
                None
            }
        });
    }
    if value.is_instance_of::<PyDateTime>() {
        return datetime_from_py(value, &join_path(at.parent, at.key), at.problems);
    }
    if let Some(json) = at.other(value)? {
        at.leave(json);
    }
    Ok(None)
}

/// A nested object property.
fn nested<T: Wire>(value: &Bound<'_, PyAny>, mut at: At<'_>) -> PyResult<Option<T>> {
    if value.is_none() {
        return Ok(None);
    }
    if let Some(mapping) = as_mapping(value) {
        let path = if at.parent.is_empty() {
            Cow::Borrowed(at.key)
        } else {
            Cow::Owned(join_path(at.parent, at.key))
        };
        let mut inner = Residue::default();
        let object = read_object::<T>(mapping, &path, at.depth + 1, at.problems, &mut inner)?;
        if !inner.0.is_empty() {
            at.residue.push(at.key, Node::Object(inner));
        }
        return Ok(Some(object));
    }
    if let Some(json) = at.other(value)? {
        at.leave(json);
    }
    Ok(None)
}

/// `value` as a mapping, when it is a dict or any `collections.abc.Mapping`.
pub(crate) fn as_mapping<'a, 'py>(
    value: &'a Bound<'py, PyAny>,
) -> Option<&'a Bound<'py, PyMapping>> {
    match value.cast::<PyDict>() {
        Ok(dict) => Some(dict.as_mapping()),
        Err(_) => value.cast::<PyMapping>().ok(),
    }
}

fn read_object<T: Wire>(
    mapping: &Bound<'_, PyMapping>,
    path: &str,
    depth: usize,
    problems: &mut Problems,
    residue: &mut Residue,
) -> PyResult<T> {
    let written_type = &written_odata_types()[T::LEVEL];
    let mut out = T::default();
    let mut seen: u32 = 0;
    for (key, value) in mapping_items(mapping)? {
        let Some(name) = property_name_utf8(&key, Path::Whole(path), problems)? else {
            continue;
        };
        let key = utf8(&name);
        if key == "@odata.type" {
            // The value core writes is one core reads; any other goes to core.
            let written = value
                .cast::<PyString>()
                .ok()
                .and_then(|text| text.encode_utf8().ok())
                .is_some_and(|text| !written_type.is_empty() && utf8(&text) == written_type);
            if !written {
                let parent = Path::Whole(path);
                let json = value_to_json(&value, Path::Key(&parent, key), depth + 1, problems)?;
                residue.push(key, Node::Json(json));
            }
            continue;
        }
        match T::PROPERTIES.iter().position(|known| *known == key) {
            Some(index) => {
                let again = seen & (1 << index) != 0;
                seen |= 1 << index;
                if again {
                    residue.stand_in(key);
                }
                let left = residue.0.len();
                let at = At {
                    parent: path,
                    key,
                    depth,
                    problems: &mut *problems,
                    residue: &mut *residue,
                };
                out.set(index, &value, at)?;
                if again && residue.0.len() == left {
                    residue.push(key, Node::null());
                }
            }
            None => {
                let parent = Path::Whole(path);
                let at = Path::Key(&parent, key);
                let json = value_to_json(&value, at, depth + 1, problems)?;
                match RawJson::new(json) {
                    Ok(raw) => {
                        if out.additional_data().insert(key.to_owned(), raw).is_some() {
                            residue.stand_in(key);
                            residue.push(key, Node::null());
                        }
                    }
                    Err(e) => problems.push(at.render(), e.to_string()),
                }
            }
        }
    }
    Ok(out)
}

/// What core is asked to judge: per object, the properties this layer did
/// not take, in the mapping's order.
#[derive(Default)]
struct Residue(Vec<(String, Node)>);

enum Node {
    Json(String),
    Object(Residue),
}

impl Node {
    fn null() -> Self {
        Node::Json("null".to_owned())
    }
}

impl Residue {
    fn push(&mut self, key: &str, node: Node) {
        self.0.push((key.to_owned(), node));
    }

    /// A property given again (by a mapping whose `items()` repeats a
    /// key): the residue holds its earlier value, or a `null` in its stead,
    /// so that core, seeing the key twice, says so.
    fn stand_in(&mut self, key: &str) {
        if !self.0.iter().any(|(k, _)| k == key) {
            self.push(key, Node::null());
        }
    }

    fn write(&self, out: &mut String) {
        out.push('{');
        for (i, (key, node)) in self.0.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            write_string(key, out);
            out.push(':');
            match node {
                Node::Json(json) => out.push_str(json),
                Node::Object(inner) => inner.write(out),
            }
        }
        out.push('}');
    }

    /// Core's verdict on the residue, read as a usedInsight (as the value
    /// of `property` when the mapping is a nested type read on its own).
    fn judge(&self, property: Option<&str>) -> Result<(), ValidationErrors> {
        if self.0.is_empty() {
            return Ok(());
        }
        let mut document = String::new();
        if let Some(property) = property {
            document.push('{');
            write_string(property, &mut document);
            document.push(':');
        }
        self.write(&mut document);
        if property.is_some() {
            document.push('}');
        }
        UsedInsight::from_json(&document).map(|_| ())
    }
}

/// The `@odata.type` core writes for a usedInsight and each nested type,
/// by [`Wire::LEVEL`], learnt from core's own output once. A mapping that
/// carries exactly these (as `to_dict()` and Graph's answers do) needs no
/// residue for them; core reads what it writes.
fn written_odata_types() -> &'static [String; 4] {
    static TYPES: OnceLock<[String; 4]> = OnceLock::new();
    TYPES.get_or_init(|| {
        let full = UsedInsight {
            last_used: Some(UsageDetails::default()),
            resource_visualization: Some(ResourceVisualization::default()),
            resource_reference: Some(ResourceReference::default()),
            ..UsedInsight::default()
        };
        let document: serde_json::Value = serde_json::from_str(&full.to_json()).unwrap_or_default();
        let odata_type = |object: &serde_json::Value| {
            object
                .get("@odata.type")
                .and_then(serde_json::Value::as_str)
                .unwrap_or_default()
                .to_owned()
        };
        [
            odata_type(&document),
            odata_type(&document[UsageDetails::PROPERTY.unwrap_or_default()]),
            odata_type(&document[ResourceVisualization::PROPERTY.unwrap_or_default()]),
            odata_type(&document[ResourceReference::PROPERTY.unwrap_or_default()]),
        ]
    })
}

//! Python values → core's models through core's own reader: a serde
//! `Deserializer` over a Python value, which `used_insight::bindings::
//! read_model` drives exactly as it drives serde_json over JSON text. So a
//! dict in Graph's wire shape and a model object are read with core's
//! problems, paths, wording and order; nothing here knows a property name —
//! model objects are walked by core's field table (`Model::MODEL`).
//!
//! What only Python can get wrong is this layer's to report, with its path,
//! and the value is then shown to core as absent (`null`) so core goes on
//! checking the rest: a value with no JSON form (a `set`, `bytes`, NaN, a
//! lone surrogate, a naive `datetime`), a key that is not a `str`, and a
//! model attribute of the wrong Python type. Properties core keeps verbatim
//! (unknown ones, `additional_data`) are handed over as JSON text the way
//! serde_json hands over a `RawValue`, so integers of any size stay exact.

use std::borrow::Cow;
use std::cell::RefCell;
use std::fmt;

use pyo3::intern;
use pyo3::prelude::*;
use pyo3::types::{
    PyBool, PyBytes, PyDateTime, PyDict, PyFloat, PyInt, PyList, PyMapping, PyString, PyTuple,
};
use serde::de::value::StrDeserializer;
use serde::de::{self, DeserializeSeed, IntoDeserializer, MapAccess, SeqAccess, Visitor};
use used_insight::{bindings, FieldKind, Model, ModelInfo, Problem, UsedInsight};

use crate::classes::{self, PyModel};
use crate::convert::{datetime_from_py, join_path, type_name, Problems};
use crate::json::{mapping_items, property_name_utf8, utf8, value_to_json, Items, Path};

/// Deeper nesting than this is refused (serde_json stops at 128 levels, and
/// a container that holds itself would recurse forever).
const MAX_DEPTH: usize = 100;

/// The name serde_json gives the newtype struct behind its `RawValue`:
/// asked for it, a deserializer may answer with the value's JSON text.
const RAW_VALUE_TOKEN: &str = "$serde_json::private::RawValue";

/// What was read: the model (values with problems left absent), this
/// layer's problems, then core's problems of shape.
pub(crate) struct Read<T> {
    pub(crate) model: T,
    pub(crate) problems: Problems,
    pub(crate) shape: Vec<Problem>,
}

impl<T> Read<T> {
    /// This layer's problems, then core's, as core's `Problem`s.
    pub(crate) fn found(&mut self) -> Vec<Problem> {
        let mine = std::mem::take(&mut self.problems.0);
        mine.into_iter()
            .map(|(path, reason)| Problem { path, reason })
            .chain(std::mem::take(&mut self.shape))
            .collect()
    }
}

/// Reads a dict in Graph's wire shape (`model_object: false`) or an
/// instance of `T`'s model class (`true`) as a `T`.
pub(crate) fn read<T: Model>(value: &Bound<'_, PyAny>, model_object: bool) -> PyResult<Read<T>> {
    let sink = RefCell::new(Problems::default());
    let expect = if model_object {
        Expect::Model(T::MODEL)
    } else {
        Expect::Wire
    };
    let de = Value {
        value: value.clone(),
        path: Path::Whole(""),
        depth: 0,
        expect,
        sink: &sink,
    };
    match bindings::read_model::<T, _>(de) {
        Ok((model, shape)) => Ok(Read {
            model,
            problems: sink.into_inner(),
            shape,
        }),
        Err(ReadError::Python(e)) => Err(e),
        Err(ReadError::Serde(message)) => Err(pyo3::exceptions::PyRuntimeError::new_err(message)),
    }
}

/// Reads a `UsedInsight` object or a wire-shape mapping for a create;
/// `None` when `insight` is neither.
pub(crate) fn read_insight(insight: &Bound<'_, PyAny>) -> PyResult<Option<Read<UsedInsight>>> {
    let class = &classes::of(insight.py(), UsedInsight::MODEL)?.class;
    if insight.is_instance(class.bind(insight.py()).as_any())? {
        return read::<UsedInsight>(insight, true).map(Some);
    }
    if as_mapping(insight).is_some() {
        return read::<UsedInsight>(insight, false).map(Some);
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

/// Core's field table for Python: each model's class name → its fields as
/// (attribute name, wire name), in wire order. The model classes in
/// `used_insight._models` are checked against it by the test suite.
#[pyfunction]
pub(crate) fn model_fields() -> Vec<(&'static str, Vec<(&'static str, &'static str)>)> {
    classes::all_infos()
        .into_iter()
        .map(|model| {
            let fields = model.fields.iter().map(|f| (f.name, f.wire_name)).collect();
            (model.name, fields)
        })
        .collect()
}

/// A property name, shown to serde.
fn key(name: &str) -> StrDeserializer<'_, ReadError> {
    name.into_deserializer()
}

/// A failure of the reading itself (not a problem with the input).
#[derive(Debug)]
pub(crate) enum ReadError {
    /// Python code run while reading raised.
    Python(PyErr),
    Serde(String),
}

impl fmt::Display for ReadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ReadError::Python(e) => fmt::Display::fmt(e, f),
            ReadError::Serde(message) => f.write_str(message),
        }
    }
}

impl std::error::Error for ReadError {}

impl de::Error for ReadError {
    fn custom<T: fmt::Display>(message: T) -> Self {
        ReadError::Serde(message.to_string())
    }
}

impl From<PyErr> for ReadError {
    fn from(e: PyErr) -> Self {
        ReadError::Python(e)
    }
}

/// What a value must be: anything with a JSON form (in a mapping, core
/// judges the shape), or, for a model object's attribute, the Python type
/// the model declares.
#[derive(Clone, Copy)]
enum Expect {
    Wire,
    Text,
    DateTime,
    Model(&'static ModelInfo),
}

impl Expect {
    fn of(kind: FieldKind) -> Self {
        match kind {
            FieldKind::DateTime => Expect::DateTime,
            FieldKind::Object(model) => Expect::Model(model),
            _ => Expect::Text,
        }
    }
}

/// One Python value, shown to serde.
struct Value<'a, 'py> {
    value: Bound<'py, PyAny>,
    path: Path<'a>,
    depth: usize,
    expect: Expect,
    sink: &'a RefCell<Problems>,
}

impl<'a, 'py> Value<'a, 'py> {
    /// A value inside this one's container, at `path`.
    fn inside(
        value: Bound<'py, PyAny>,
        path: Path<'a>,
        depth: usize,
        expect: Expect,
        sink: &'a RefCell<Problems>,
    ) -> Self {
        Value {
            value,
            path,
            depth: depth + 1,
            expect,
            sink,
        }
    }

    fn problem(&self, reason: impl Into<String>) {
        self.sink.borrow_mut().push(self.path.render(), reason);
    }

    fn text<'de, V: Visitor<'de>>(
        &self,
        text: &Bound<'py, PyString>,
        visitor: V,
    ) -> Result<V::Value, ReadError> {
        // Python hands over its UTF-8 as a new `String` (abi3), which core
        // then keeps as is: one copy, no second check.
        match text.to_cow() {
            Ok(Cow::Owned(owned)) => visitor.visit_string(owned),
            Ok(Cow::Borrowed(borrowed)) => visitor.visit_str(borrowed),
            Err(_) => {
                self.problem("is not valid Unicode text (it holds a lone surrogate)");
                visitor.visit_unit()
            }
        }
    }

    /// An aware datetime, as the Edm text core reads.
    fn datetime<'de, V: Visitor<'de>>(&self, visitor: V) -> Result<V::Value, ReadError> {
        let mut problems = Problems::default();
        let read = datetime_from_py(&self.value, self.path, &mut problems)?;
        self.sink.borrow_mut().0.extend(problems.0);
        match read {
            Some(instant) => visitor.visit_string(instant.to_string()),
            None => visitor.visit_unit(),
        }
    }

    fn model<'de, V: Visitor<'de>>(
        &self,
        model: &'static ModelInfo,
        visitor: V,
    ) -> Result<V::Value, ReadError> {
        let py = self.value.py();
        let python = classes::of(py, model)?;
        if !self.value.is_instance(python.class.bind(py).as_any())? {
            self.problem(format!(
                "expected a {} or None, found {}",
                model.name,
                type_name(&self.value)
            ));
            return visitor.visit_unit();
        }
        visitor.visit_map(ModelObject {
            object: &self.value,
            model: python,
            next_field: 0,
            extra: None,
            pending: None,
            path: self.path,
            depth: self.depth,
            sink: self.sink,
        })
    }

    fn wire<'de, V: Visitor<'de>>(&self, visitor: V) -> Result<V::Value, ReadError> {
        let value = &self.value;
        if let Ok(text) = value.cast::<PyString>() {
            self.text(text, visitor)
        } else if let Ok(dict) = value.cast_exact::<PyDict>() {
            visitor.visit_map(Entries {
                items: mapping_items(dict.as_mapping())?,
                pending: None,
                path: self.path,
                depth: self.depth,
                sink: self.sink,
            })
        } else if let Ok(flag) = value.cast::<PyBool>() {
            visitor.visit_bool(flag.is_true())
        } else if value.is_instance_of::<PyInt>() {
            if let Ok(n) = value.extract::<i64>() {
                visitor.visit_i64(n)
            } else if let Ok(n) = value.extract::<u64>() {
                visitor.visit_u64(n)
            } else {
                // Past 64 bits: still a number to core (kept exact only
                // where core keeps JSON text, see `RAW_VALUE_TOKEN`).
                visitor.visit_f64(value.extract::<f64>().unwrap_or(f64::INFINITY))
            }
        } else if value.is_instance_of::<PyFloat>() {
            let number: f64 = value.extract()?;
            if number.is_finite() {
                visitor.visit_f64(number)
            } else {
                self.problem(format!("is {number}, which JSON cannot represent"));
                visitor.visit_unit()
            }
        } else if value.is_instance_of::<PyList>() || value.is_instance_of::<PyTuple>() {
            let items: Vec<Bound<'py, PyAny>> = value.try_iter()?.collect::<PyResult<_>>()?;
            visitor.visit_seq(ListItems {
                items: items.into_iter().enumerate(),
                path: self.path,
                depth: self.depth,
                sink: self.sink,
            })
        } else if value.is_instance_of::<PyDateTime>() {
            self.datetime(visitor)
        } else if let Some(mapping) = as_mapping(value) {
            visitor.visit_map(Entries {
                items: mapping_items(mapping)?,
                pending: None,
                path: self.path,
                depth: self.depth,
                sink: self.sink,
            })
        } else {
            self.problem(format!(
                "expected a JSON value (dict, list, str, int, float, bool or None), found {}",
                type_name(value)
            ));
            visitor.visit_unit()
        }
    }
}

impl<'de> de::Deserializer<'de> for Value<'_, '_> {
    type Error = ReadError;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, ReadError> {
        if self.depth > MAX_DEPTH {
            self.problem(format!(
                "is nested more than {MAX_DEPTH} levels deep (or contains itself)"
            ));
            return visitor.visit_unit();
        }
        if self.value.is_none() {
            return visitor.visit_unit();
        }
        match self.expect {
            Expect::Wire => self.wire(visitor),
            Expect::Text => match self.value.cast::<PyString>() {
                Ok(text) => self.text(text, visitor),
                Err(_) => {
                    self.problem(format!(
                        "expected a str or None, found {}",
                        type_name(&self.value)
                    ));
                    visitor.visit_unit()
                }
            },
            Expect::DateTime => self.datetime(visitor),
            Expect::Model(model) => self.model(model, visitor),
        }
    }

    /// Core keeps this value as JSON text: write it here, exactly.
    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        visitor: V,
    ) -> Result<V::Value, ReadError> {
        if name != RAW_VALUE_TOKEN {
            return visitor.visit_newtype_struct(self);
        }
        let mut problems = Problems::default();
        let json = value_to_json(&self.value, self.path, self.depth, &mut problems)?;
        self.sink.borrow_mut().0.extend(problems.0);
        visitor.visit_map(RawText(Some(json)))
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string
        bytes byte_buf option unit unit_struct seq tuple
        tuple_struct map struct enum identifier ignored_any
    }
}

/// A value's JSON text, as serde_json hands over a `RawValue`: one entry,
/// from the token to the text.
struct RawText(Option<String>);

impl<'de> MapAccess<'de> for RawText {
    type Error = ReadError;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, ReadError> {
        if self.0.is_none() {
            return Ok(None);
        }
        seed.deserialize(key(RAW_VALUE_TOKEN)).map(Some)
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, ReadError> {
        let text = self.0.take().unwrap_or_default();
        seed.deserialize(serde::de::value::StringDeserializer::<ReadError>::new(text))
    }
}

/// The items of a list or tuple.
struct ListItems<'a, 'py> {
    items: std::iter::Enumerate<std::vec::IntoIter<Bound<'py, PyAny>>>,
    path: Path<'a>,
    depth: usize,
    sink: &'a RefCell<Problems>,
}

impl<'de> SeqAccess<'de> for ListItems<'_, '_> {
    type Error = ReadError;

    fn next_element_seed<T: DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, ReadError> {
        let Some((index, value)) = self.items.next() else {
            return Ok(None);
        };
        let path = Path::Index(&self.path, index);
        seed.deserialize(Value::inside(
            value,
            path,
            self.depth,
            Expect::Wire,
            self.sink,
        ))
        .map(Some)
    }
}

/// The entries of a mapping, read from a snapshot (see `mapping_items`);
/// a key that is not a `str` is reported and its entry left out.
struct Entries<'a, 'py> {
    items: Items<'py>,
    /// The key just given and its value.
    pending: Option<(Key<'py>, Bound<'py, PyAny>)>,
    path: Path<'a>,
    depth: usize,
    sink: &'a RefCell<Problems>,
}

impl<'de> MapAccess<'de> for Entries<'_, '_> {
    type Error = ReadError;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, ReadError> {
        for (key, value) in self.items.by_ref() {
            let known = classes::wire_names(key.py()).find(&key);
            let name = match known {
                Some(name) => Key::Known(name),
                None => match property_name_utf8(&key, self.path, &mut self.sink.borrow_mut())? {
                    Some(encoded) => Key::Encoded(encoded),
                    None => continue,
                },
            };
            let read = match &name {
                Key::Known(name) => seed.deserialize(self::key(name))?,
                Key::Encoded(encoded) => seed.deserialize(self::key(utf8(encoded)))?,
            };
            self.pending = Some((name, value));
            return Ok(Some(read));
        }
        Ok(None)
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, ReadError> {
        let (key, value) = self
            .pending
            .take()
            .ok_or_else(|| ReadError::Serde("a value asked for before its key".into()))?;
        let path = match &key {
            Key::Known(name) => Path::Key(&self.path, name),
            Key::Encoded(encoded) => Path::KeyUtf8(&self.path, encoded.as_bytes()),
        };
        seed.deserialize(Value::inside(
            value,
            path,
            self.depth,
            Expect::Wire,
            self.sink,
        ))
    }
}

/// A mapping's key: one of core's wire names (the very string object
/// interned), or any other text as Python's UTF-8 encoding of it.
enum Key<'py> {
    Known(&'static str),
    Encoded(Bound<'py, PyBytes>),
}

/// A model object, shown as its wire shape: the attributes core's table
/// lists (those not `None`), under their wire names, then `additional_data`.
struct ModelObject<'a, 'py> {
    object: &'a Bound<'py, PyAny>,
    model: &'static PyModel,
    next_field: usize,
    /// `additional_data`'s entries, once the fields are done.
    extra: Option<Items<'py>>,
    pending: Option<(Pending, Bound<'py, PyAny>)>,
    path: Path<'a>,
    depth: usize,
    sink: &'a RefCell<Problems>,
}

enum Pending {
    Field(&'static str, Expect),
    Extra(String),
}

impl<'py> ModelObject<'_, 'py> {
    /// `additional_data`: a mapping of property name to any JSON value.
    fn extra(&mut self) -> PyResult<&mut Items<'py>> {
        if self.extra.is_none() {
            let py = self.object.py();
            let value = self.object.getattr(intern!(py, "additional_data"))?;
            let items = match as_mapping(&value) {
                Some(mapping) => mapping_items(mapping)?,
                None => {
                    if !value.is_none() {
                        self.sink.borrow_mut().push(
                            self.path.render(),
                            format!(
                                "additional_data must be a dict of property name to JSON value, found {}",
                                type_name(&value)
                            ),
                        );
                    }
                    Items::Listed(Vec::new().into_iter())
                }
            };
            self.extra = Some(items);
        }
        Ok(self.extra.as_mut().expect("set above"))
    }
}

impl<'de> MapAccess<'de> for ModelObject<'_, '_> {
    type Error = ReadError;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, ReadError> {
        while let Some(field) = self.model.info.fields.get(self.next_field) {
            let attribute = self.model.attributes[self.next_field].bind(self.object.py());
            self.next_field += 1;
            let value = self.object.getattr(attribute)?;
            if value.is_none() {
                continue;
            }
            self.pending = Some((
                Pending::Field(field.wire_name, Expect::of(field.kind)),
                value,
            ));
            return seed.deserialize(key(field.wire_name)).map(Some);
        }
        loop {
            let Some((key, value)) = self.extra()?.next() else {
                return Ok(None);
            };
            let name = match key.cast::<PyString>().ok().map(|k| k.to_cow()) {
                Some(Ok(name)) => name.into_owned(),
                _ => {
                    self.sink.borrow_mut().push(
                        join_path(&self.path.render(), &key.repr()?.to_cow()?),
                        format!(
                            "additional_data keys must be str, found {}",
                            type_name(&key)
                        ),
                    );
                    continue;
                }
            };
            let read = seed.deserialize(self::key(&name))?;
            self.pending = Some((Pending::Extra(name), value));
            return Ok(Some(read));
        }
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, ReadError> {
        let (pending, value) = self
            .pending
            .take()
            .ok_or_else(|| ReadError::Serde("a value asked for before its key".into()))?;
        let (key, expect) = match &pending {
            Pending::Field(wire_name, expect) => (*wire_name, *expect),
            Pending::Extra(name) => (name.as_str(), Expect::Wire),
        };
        let path = Path::Key(&self.path, key);
        seed.deserialize(Value::inside(value, path, self.depth, expect, self.sink))
    }
}

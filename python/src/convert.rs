//! Core's models → the Python models (`used_insight._models`, plain Python
//! classes), aware `datetime` ↔ core's `DateTimeOffset`, and the
//! `to_dict` / `from_dict` functions. Reading Python values into core's
//! models is `reader`'s job (through core's own reader).

use std::collections::BTreeMap;

use pyo3::exceptions::{PyRuntimeError, PyTypeError};
use pyo3::intern;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{
    PyDateAccess, PyDateTime, PyDelta, PyDeltaAccess, PyDict, PyString, PyTimeAccess, PyType,
    PyTzInfo,
};
use time::{Date, Month, OffsetDateTime, PrimitiveDateTime, Time, UtcOffset};
use used_insight::{
    DateTimeOffset, FieldRef, Model, ModelRef, Problem, RawJson, ResourceReference,
    ResourceVisualization, UsageDetails, UsedInsight,
};

use crate::classes;
use crate::errors;
use crate::json::Path;
use crate::reader;

/// Problems found while converting, as (JSON path, reason), in order.
#[derive(Debug, Default)]
pub(crate) struct Problems(pub(crate) Vec<(String, String)>);

impl Problems {
    pub(crate) fn push(&mut self, path: impl Into<String>, reason: impl Into<String>) {
        self.0.push((path.into(), reason.into()));
    }
}

impl From<Vec<Problem>> for Problems {
    fn from(problems: Vec<Problem>) -> Self {
        Self(problems.into_iter().map(|p| (p.path, p.reason)).collect())
    }
}

/// `parent.key`, or `key` at the top level, as core writes paths.
pub(crate) fn join_path(parent: &str, key: &str) -> String {
    if parent.is_empty() {
        key.to_owned()
    } else {
        format!("{parent}.{key}")
    }
}

/// `str`, `datetime.datetime`…, for messages.
pub(crate) fn type_name(value: &Bound<'_, PyAny>) -> String {
    let ty = value.get_type();
    let name = ty
        .qualname()
        .map(|n| n.to_string())
        .unwrap_or_else(|_| "?".into());
    match ty.module().map(|m| m.to_string()) {
        Ok(module) if module != "builtins" => format!("{module}.{name}"),
        _ => name,
    }
}

/// An aware `datetime` → core's `DateTimeOffset`, keeping the UTC offset it
/// has at that instant (a `zoneinfo` zone works as well as a fixed offset).
pub(crate) fn datetime_from_py(
    value: &Bound<'_, PyAny>,
    path: Path<'_>,
    problems: &mut Problems,
) -> PyResult<Option<DateTimeOffset>> {
    if value.is_none() {
        return Ok(None);
    }
    let Ok(dt) = value.cast::<PyDateTime>() else {
        problems.push(
            path.render(),
            format!(
                "expected an aware datetime.datetime or None, found {}",
                type_name(value)
            ),
        );
        return Ok(None);
    };
    let offset = dt.call_method0(intern!(value.py(), "utcoffset"))?;
    if offset.is_none() {
        problems.push(
            path.render(),
            "is a naive datetime (no tzinfo), which names no instant; give it a time zone, \
             e.g. datetime.now(timezone.utc) or value.replace(tzinfo=timezone.utc)",
        );
        return Ok(None);
    }
    let offset = offset.cast::<PyDelta>()?;
    if offset.get_microseconds() != 0 {
        problems.push(
            path.render(),
            "has a UTC offset with a fraction of a second",
        );
        return Ok(None);
    }
    let offset_seconds = i64::from(offset.get_days()) * 86_400 + i64::from(offset.get_seconds());
    // The wall-clock fields, read as if UTC, then moved by the offset.
    let wall = Month::try_from(dt.get_month())
        .ok()
        .and_then(|month| Date::from_calendar_date(dt.get_year(), month, dt.get_day()).ok())
        .zip(
            Time::from_hms_micro(
                dt.get_hour(),
                dt.get_minute(),
                dt.get_second(),
                dt.get_microsecond(),
            )
            .ok(),
        )
        .map(|(date, time)| PrimitiveDateTime::new(date, time).assume_utc());
    let Some(wall) = wall else {
        problems.push(path.render(), "is not a representable date-time");
        return Ok(None);
    };
    let nanos = wall.unix_timestamp_nanos() - i128::from(offset_seconds) * 1_000_000_000;
    let offset_seconds = i32::try_from(offset_seconds).unwrap_or(i32::MAX);
    match DateTimeOffset::from_unix_nanos(nanos, offset_seconds) {
        Ok(instant) => Ok(Some(instant)),
        Err(e) => {
            problems.push(path.render(), e.to_string());
            Ok(None)
        }
    }
}

// -------------------------------------------------------------- from core

/// Core's `UsedInsight` → a model instance (of `class`, default `UsedInsight`).
pub(crate) fn insight_to_py<'py>(
    py: Python<'py>,
    value: &UsedInsight,
    class: Option<&Bound<'py, PyType>>,
) -> PyResult<Bound<'py, PyAny>> {
    model_to_py(py, value, class)
}

/// Any core model → an instance of its Python class (or of `class`),
/// walking core's field table: keyword arguments by attribute name.
pub(crate) fn model_to_py<'py>(
    py: Python<'py>,
    value: &dyn ModelRef,
    class: Option<&Bound<'py, PyType>>,
) -> PyResult<Bound<'py, PyAny>> {
    let python = classes::of(py, value.model_info())?;
    let kw = PyDict::new(py);
    let mut failed = None;
    let mut number = 0;
    value.visit_fields(&mut |_, value| {
        let attribute = python.attributes[number].bind(py);
        number += 1;
        // An absent field is left to the class's default (None): a shorter
        // call.
        let (Some(value), None) = (value, &failed) else {
            return;
        };
        if let Err(e) = field_to_py(py, value).and_then(|v| kw.set_item(attribute, v)) {
            failed = Some(e);
        }
    });
    if let Some(e) = failed {
        return Err(e);
    }
    kw.set_item(
        intern!(py, "additional_data"),
        additional_to_py(py, value.additional_data())?,
    )?;
    class.unwrap_or(python.class.bind(py)).call((), Some(&kw))
}

fn field_to_py<'py>(py: Python<'py>, value: FieldRef<'_>) -> PyResult<Bound<'py, PyAny>> {
    match value {
        FieldRef::Text(text) => Ok(PyString::new(py, text).into_any()),
        FieldRef::DateTime(instant) => datetime_to_py(py, instant),
        FieldRef::Object(nested) => model_to_py(py, nested, None),
        other => Err(PyRuntimeError::new_err(format!(
            "no Python form for {other:?}"
        ))),
    }
}

fn additional_to_py<'py>(
    py: Python<'py>,
    values: &BTreeMap<String, RawJson>,
) -> PyResult<Bound<'py, PyDict>> {
    let out = PyDict::new(py);
    for (key, raw) in values {
        let text = raw.as_str();
        // Strings (such as Graph's `@odata.context`) and literals are read
        // here; numbers, arrays and objects by Python's own reader.
        match text {
            "null" => out.set_item(key, py.None())?,
            "true" => out.set_item(key, true)?,
            "false" => out.set_item(key, false)?,
            _ if text.starts_with('"') => match serde_json::from_str::<String>(text) {
                Ok(string) => out.set_item(key, string)?,
                Err(_) => out.set_item(key, json_loads(py, text)?)?,
            },
            _ => out.set_item(key, json_loads(py, text)?)?,
        }
    }
    Ok(out)
}

/// Core's `DateTimeOffset` → an aware `datetime` with the same UTC offset.
/// Python keeps microseconds: a 7th to 9th fractional digit is dropped
/// (truncated, as Graph's own SDKs do). UTC, what Graph answers with, is
/// `datetime.timezone.utc` itself; another offset is a fixed-offset
/// `datetime.timezone`.
fn datetime_to_py<'py>(py: Python<'py>, value: &DateTimeOffset) -> PyResult<Bound<'py, PyAny>> {
    let out_of_range = || PyRuntimeError::new_err(format!("date-time {value} is out of range"));
    let offset_seconds = value.offset_seconds();
    let offset = UtcOffset::from_whole_seconds(offset_seconds).map_err(|_| out_of_range())?;
    let local = OffsetDateTime::from_unix_timestamp_nanos(value.unix_nanos())
        .ok()
        .and_then(|utc| utc.checked_to_offset(offset))
        .ok_or_else(out_of_range)?;
    let tzinfo = if offset_seconds == 0 {
        PyTzInfo::utc(py)?.to_owned()
    } else {
        PyTzInfo::fixed_offset(py, PyDelta::new(py, 0, offset_seconds, 0, true)?)?
    };
    let (date, time) = (local.date(), local.time());
    Ok(PyDateTime::new(
        py,
        date.year(),
        u8::from(date.month()),
        date.day(),
        time.hour(),
        time.minute(),
        time.second(),
        time.microsecond(),
        Some(&tzinfo),
    )?
    .into_any())
}

/// `json.loads`, for properties kept verbatim: Python's own reader keeps
/// integers of any size exact. Imported on first use.
fn json_loads<'py>(py: Python<'py>, text: &str) -> PyResult<Bound<'py, PyAny>> {
    static LOADS: PyOnceLock<Py<PyAny>> = PyOnceLock::new();
    let loads = LOADS.get_or_try_init(py, || -> PyResult<_> {
        Ok(py.import("json")?.getattr("loads")?.unbind())
    })?;
    loads.bind(py).call1((text,))
}

// ---------------------------------------------------------- module functions

/// Calls `$run::<T>($($arg),*)` with the core type named by `$model`.
macro_rules! with_model {
    ($model:expr, $run:ident($($arg:expr),*)) => {
        match $model.name {
            "UsedInsight" => $run::<UsedInsight>($($arg),*),
            "UsageDetails" => $run::<UsageDetails>($($arg),*),
            "ResourceVisualization" => $run::<ResourceVisualization>($($arg),*),
            "ResourceReference" => $run::<ResourceReference>($($arg),*),
            other => Err(PyRuntimeError::new_err(format!("no Python class for {other}"))),
        }
    };
}

/// A model as a dict in Graph's wire shape (camelCase, `@odata.type`).
#[pyfunction]
pub(crate) fn to_dict<'py>(model: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyAny>> {
    let Some(info) = classes::of_class(&model.get_type())?.map(|m| m.info) else {
        return Err(PyTypeError::new_err(format!(
            "expected a used_insight model, found {}",
            type_name(model)
        )));
    };
    with_model!(info, to_dict_as(model))
}

fn to_dict_as<'py, T: Model>(model: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyAny>> {
    let py = model.py();
    let mut read = reader::read::<T>(model, true)?;
    let found = read.found();
    if !found.is_empty() {
        return Err(errors::validation_error(py, Problems::from(found)));
    }
    json_loads(py, &to_json(&read.model)?)
}

fn to_json<T: serde::Serialize>(value: &T) -> PyResult<String> {
    serde_json::to_string(value).map_err(|e| PyRuntimeError::new_err(e.to_string()))
}

/// A model read from a dict in Graph's wire shape; every problem of shape
/// is reported (by core) with its path.
#[pyfunction]
pub(crate) fn from_dict<'py>(
    cls: &Bound<'py, PyType>,
    data: &Bound<'py, PyAny>,
) -> PyResult<Bound<'py, PyAny>> {
    let Some(info) = classes::of_class(cls)?.map(|m| m.info) else {
        return Err(PyTypeError::new_err(format!(
            "{} is not a used_insight model class",
            cls.name()?
        )));
    };
    if reader::as_mapping(data).is_none() {
        return Err(PyTypeError::new_err(format!(
            "from_dict() expects a dict in Graph's wire shape, found {}",
            type_name(data)
        )));
    }
    with_model!(info, from_dict_as(cls, data))
}

/// A mapping read as a `T`, or ValidationError listing this layer's
/// problems, then core's on its shape (paths relative to the object).
fn from_dict_as<'py, T: Model>(
    cls: &Bound<'py, PyType>,
    data: &Bound<'py, PyAny>,
) -> PyResult<Bound<'py, PyAny>> {
    let mut read = reader::read::<T>(data, false)?;
    let found = read.found();
    if !found.is_empty() {
        return Err(errors::validation_error(cls.py(), Problems::from(found)));
    }
    model_to_py(cls.py(), &read.model, Some(cls))
}

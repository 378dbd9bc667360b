//! Python values → JSON text, for dicts in Graph's wire shape and for the
//! `additional_data` of the models. Every value that has no JSON form is
//! reported with its path (and written as `null`, so core can still check
//! the rest); what the JSON must *mean* is core's business.

use pyo3::prelude::*;
use pyo3::types::{PyBool, PyDateTime, PyFloat, PyInt, PyList, PyMapping, PyString, PyTuple};

use crate::convert::{datetime_from_py, join_path, type_name, Problems};

/// Deeper nesting than this is refused: serde_json (and so core) stops at
/// 128 levels, and a container that holds itself would recurse forever.
const MAX_DEPTH: usize = 100;

/// Writes a mapping (a dict or any `collections.abc.Mapping`) as a JSON object.
pub(crate) fn mapping_to_json(
    value: &Bound<'_, PyAny>,
    problems: &mut Problems,
) -> PyResult<String> {
    let mut out = String::with_capacity(512);
    write_value(value, "", &mut out, problems, 0)?;
    Ok(out)
}

/// One value as JSON text, e.g. an entry of `additional_data`.
pub(crate) fn value_to_json(
    value: &Bound<'_, PyAny>,
    path: &str,
    problems: &mut Problems,
) -> PyResult<String> {
    let mut out = String::new();
    write_value(value, path, &mut out, problems, 0)?;
    Ok(out)
}

fn write_value(
    value: &Bound<'_, PyAny>,
    path: &str,
    out: &mut String,
    problems: &mut Problems,
    depth: usize,
) -> PyResult<()> {
    if depth > MAX_DEPTH {
        problems.push(
            path,
            format!("is nested more than {MAX_DEPTH} levels deep (or contains itself)"),
        );
        out.push_str("null");
        return Ok(());
    }
    if value.is_none() {
        out.push_str("null");
    } else if let Ok(text) = value.cast::<PyString>() {
        match text.to_cow() {
            Ok(text) => write_string(&text, out),
            Err(_) => {
                problems.push(
                    path,
                    "is not valid Unicode text (it holds a lone surrogate)",
                );
                out.push_str("null");
            }
        }
    } else if let Ok(flag) = value.cast::<PyBool>() {
        out.push_str(if flag.is_true() { "true" } else { "false" });
    } else if value.is_instance_of::<PyInt>() {
        // Python's own decimal text: exact for any size. A subclass (an
        // IntEnum…) is written as the plain int it is.
        let plain = if value.is_exact_instance_of::<PyInt>() {
            value.clone()
        } else {
            value.py().get_type::<PyInt>().call1((value,))?
        };
        out.push_str(&plain.str()?.to_cow()?);
    } else if value.is_instance_of::<PyFloat>() {
        let number: f64 = value.extract()?;
        if number.is_finite() {
            // Shortest text that reads back as the same float, like `repr`.
            out.push_str(&serde_json::to_string(&number).unwrap_or_else(|_| "null".into()));
        } else {
            problems.push(path, format!("is {number}, which JSON cannot represent"));
            out.push_str("null");
        }
    } else if value.is_instance_of::<PyList>() || value.is_instance_of::<PyTuple>() {
        out.push('[');
        for (i, item) in value.try_iter()?.enumerate() {
            if i > 0 {
                out.push(',');
            }
            write_value(&item?, &format!("{path}[{i}]"), out, problems, depth + 1)?;
        }
        out.push(']');
    } else if value.is_instance_of::<PyDateTime>() {
        // An aware datetime is an Edm.DateTimeOffset; core writes the text.
        match datetime_from_py(value, path, problems)? {
            Some(instant) => write_string(&instant.to_string(), out),
            None => out.push_str("null"),
        }
    } else if let Ok(mapping) = value.cast::<PyMapping>() {
        // A dict or any Mapping, read through a snapshot of its items:
        // Python code run while converting (a tzinfo's utcoffset, another
        // thread) may change it meanwhile.
        let items = mapping.items()?;
        let mut pairs = Vec::with_capacity(items.len());
        for item in items.iter() {
            pairs.push(item.extract::<(Bound<'_, PyAny>, Bound<'_, PyAny>)>()?);
        }
        write_object(pairs.into_iter(), path, out, problems, depth)?;
    } else {
        problems.push(
            path,
            format!(
                "expected a JSON value (dict, list, str, int, float, bool or None), found {}",
                type_name(value)
            ),
        );
        out.push_str("null");
    }
    Ok(())
}

fn write_object<'py>(
    entries: impl Iterator<Item = (Bound<'py, PyAny>, Bound<'py, PyAny>)>,
    path: &str,
    out: &mut String,
    problems: &mut Problems,
    depth: usize,
) -> PyResult<()> {
    out.push('{');
    let mut first = true;
    for (key, value) in entries {
        let key = match key.cast::<PyString>().ok().map(|k| k.to_cow()) {
            Some(Ok(key)) => key.into_owned(),
            _ => {
                problems.push(
                    join_path(path, &key.repr()?.to_cow()?),
                    format!("property names must be str, found {}", type_name(&key)),
                );
                continue;
            }
        };
        if !first {
            out.push(',');
        }
        first = false;
        write_string(&key, out);
        out.push(':');
        write_value(&value, &join_path(path, &key), out, problems, depth + 1)?;
    }
    out.push('}');
    Ok(())
}

fn write_string(text: &str, out: &mut String) {
    // Serializing a str cannot fail.
    out.push_str(&serde_json::to_string(text).unwrap_or_default());
}

//! `Client.create_many`: many creates through core's JSON batching.
//!
//! The inputs are read here, with the GIL, into core's model (models and
//! dicts alike, so they mix); core validates, batches, retries and returns
//! one result per input, with the GIL released, and the created models
//! become Python models with no JSON text in between.
//!
//! An input this layer already found invalid (a naive datetime, a lone
//! surrogate…) has no place in core's model entry point, whose batch request
//! ids are the indexes of what it is given. So when there is one, the inputs
//! go through core's JSON entry point instead, the refused ones as `None`:
//! not sent, but counted for progress, so batch request ids stay the
//! caller's indexes.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use pyo3::exceptions::{PyException, PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyList, PyString, PyTuple};
use used_insight::{BatchOptions, Error, Problem, UsedInsight};

use crate::client::{read_insight, report_logging_failure};
use crate::convert::{self, type_name};
use crate::errors::{self, to_py_err};

/// The created usedInsight, as core's JSON entry points return it.
fn created_from_json(created: &str) -> PyResult<UsedInsight> {
    UsedInsight::from_json(created)
        .map_err(|e| errors::internal(format!("core's answer could not be read back: {e}")))
}

/// One input read: what core is to create for whom, or why it must not be.
type Read = Result<(String, UsedInsight), PyErr>;

pub(crate) fn create_many<'py>(
    py: Python<'py>,
    core: impl FnOnce() -> PyResult<used_insight::Client>,
    items: &Bound<'py, PyAny>,
    concurrency: i64,
    progress: Option<Bound<'py, PyAny>>,
    cancel: Option<&crate::cancel::PyCancelToken>,
) -> PyResult<Bound<'py, PyList>> {
    // The rule and its words are core's.
    let concurrency = used_insight::bindings::concurrency(concurrency.into())
        .map_err(|e| PyValueError::new_err(e.message))?;
    if let Some(p) = progress.as_ref().filter(|p| !p.is_callable()) {
        return Err(PyTypeError::new_err(format!(
            "progress must be a callable taking (done, total), not {}",
            type_name(p)
        )));
    }
    let client = core()?;

    // Every input is read before anything is sent: misuse raises with
    // nothing done.
    let iter = items.try_iter().map_err(|e| {
        if e.is_instance_of::<PyTypeError>(py) {
            PyTypeError::new_err(format!(
                "items must be an iterable of (user_id, insight) tuples, not {}",
                type_name(items)
            ))
        } else {
            e
        }
    })?;
    let mut read: Vec<Read> = Vec::new();
    for (index, item) in iter.enumerate() {
        read.push(read_item(&item?, index)?);
    }
    if read.is_empty() {
        return Ok(PyList::empty(py));
    }

    let progress = progress.map(Bound::unbind);
    // Ctrl+C, or a BaseException from progress, stops the call: see `cancel`.
    let stop = crate::cancel::Interruptible::new(py, cancel)?;
    let calls = Progress {
        callable: progress.as_ref(),
        done: AtomicUsize::new(0),
        stopped: AtomicBool::new(false),
        stop: &stop,
    };
    let report = |_done: usize, total: usize| calls.report(total);
    let mut options = BatchOptions::default()
        .with_concurrency(concurrency)
        .with_cancel(stop.token());
    if progress.is_some() {
        options = options.with_progress(&report);
    }
    let total = read.len();
    // Per input: this layer's refusal, or core's result.
    let outcomes: Vec<Result<Result<UsedInsight, Error>, PyErr>> = if read.iter().all(Result::is_ok)
    {
        let items: Vec<(String, UsedInsight)> = read.into_iter().flatten().collect();
        let created = py.detach(|| client.create_many_with(&items, &options));
        report_logging_failure(py);
        created.into_iter().map(Ok).collect()
    } else {
        let read: Vec<Result<(String, String), PyErr>> = read
            .into_iter()
            .map(|r| r.map(|(user_id, model)| (user_id, model.to_json())))
            .collect();
        let inputs: Vec<Option<&(String, String)>> = read.iter().map(|r| r.as_ref().ok()).collect();
        let created = py.detach(|| {
            used_insight::bindings::create_many_json_partial(&client, &inputs, &options)
        });
        report_logging_failure(py);
        let mut outcomes = Vec::with_capacity(total);
        for (mine, theirs) in read.into_iter().zip(created) {
            outcomes.push(match (mine, theirs) {
                (Err(invalid), _) => Err(invalid),
                (Ok(_), Some(Ok(json))) => Ok(Ok(created_from_json(&json)?)),
                (Ok(_), Some(Err(e))) => Ok(Err(e)),
                (Ok(_), None) => {
                    return Err(errors::internal("core skipped an input that was sent"))
                }
            });
        }
        outcomes
    };
    if outcomes.len() != total {
        return Err(errors::internal(format!(
            "core returned {} results for {total} inputs",
            outcomes.len()
        )));
    }

    let results = PyList::empty(py);
    for outcome in outcomes {
        let result = match outcome {
            Err(invalid) => invalid.into_value(py).into_bound(py).into_any(),
            Ok(Ok(created)) => convert::insight_to_py(py, &created, None)?,
            Ok(Err(e)) => to_py_err(py, e).into_value(py).into_bound(py).into_any(),
        };
        results.append(result)?;
    }
    if let Some(stop) = stop.take() {
        return Err(crate::cancel::with_outcome(
            py,
            stop,
            "used_insight_results",
            &results,
        ));
    }
    Ok(results)
}

/// Reads `items[index]`: a misuse is the outer `Err` (raised); an invalid
/// input is the inner one (its result).
fn read_item(item: &Bound<'_, PyAny>, index: usize) -> PyResult<Read> {
    let pair = item
        .cast::<PyTuple>()
        .ok()
        .filter(|t| t.len() == 2)
        .ok_or_else(|| {
            let found = match item.cast::<PyTuple>() {
                Ok(t) => format!("a tuple of {}", t.len()),
                Err(_) => type_name(item),
            };
            PyTypeError::new_err(format!(
                "items[{index}] must be a (user_id, insight) tuple, not {found}"
            ))
        })?;
    let (user_id, insight) = (pair.get_item(0)?, pair.get_item(1)?);
    let Ok(user_id) = user_id.cast::<PyString>() else {
        return Err(PyTypeError::new_err(format!(
            "items[{index}][0] (the user id) must be a str, not {}",
            type_name(&user_id)
        )));
    };
    let mut found = Vec::new();
    let user_id = match user_id.to_cow() {
        Ok(text) => text.into_owned(),
        Err(_) => {
            found.push(Problem {
                path: "usersId".into(),
                reason: "is not valid Unicode text (it holds a lone surrogate)".into(),
            });
            String::new()
        }
    };
    let what = format!("items[{index}][1] (the insight)");
    Ok(match read_insight(&insight, &what, &user_id, found)? {
        Ok(model) => Ok((user_id, model)),
        Err(problems) => Err(errors::validation_error(item.py(), problems)),
    })
}

/// The caller's progress callable, called from core (the calling thread or
/// core's workers, the GIL released), each time with the GIL taken back.
struct Progress<'a> {
    callable: Option<&'a Py<PyAny>>,
    /// Calls made; counted under the GIL, so `done` only goes up.
    done: AtomicUsize,
    /// Set once the callable raised: it is not called again.
    stopped: AtomicBool,
    /// The call's cancel: a BaseException that is not an Exception
    /// (KeyboardInterrupt, SystemExit) it raises stops the call, and is
    /// raised once every input has its result.
    stop: &'a crate::cancel::Interruptible,
}

impl Progress<'_> {
    fn report(&self, total: usize) {
        let Some(callable) = self.callable else {
            return;
        };
        if self.stopped.load(Ordering::SeqCst) {
            return;
        }
        Python::attach(|py| {
            // Another thread may have stopped it while this one waited.
            if self.stopped.load(Ordering::SeqCst) {
                return;
            }
            let done = self.done.fetch_add(1, Ordering::SeqCst) + 1;
            let callable = callable.bind(py);
            // A logging handler that raised earlier on this thread left its
            // exception pending (see `report_logging_failure`): keep it
            // aside, so the call starts clean, and put it back after.
            let pending = PyErr::take(py);
            if let Err(error) = callable.call1((done, total)) {
                self.stopped.store(true, Ordering::SeqCst);
                if error.is_instance_of::<PyException>(py) {
                    error.write_unraisable(py, Some(callable));
                } else {
                    self.stop.interrupt(error);
                }
            }
            if let Some(pending) = pending {
                pending.restore(py);
            }
        });
    }
}

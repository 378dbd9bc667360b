//! Graph's throttling, as the emulator enforces it on the Insights service
//! (`/users/{id}/insights/…`): requests in progress at once, requests
//! started in a sliding window, and a latency every request takes, so that
//! a client's pacing can be seen working — or failing. `$batch` items count
//! one each; items without `dependsOn` run in parallel, chained ones in
//! order, and an item whose dependency failed gets 424 without running.

use std::collections::{BTreeMap, VecDeque};
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::graph::{self, BatchPlan, Ctx, GraphReq, Resp};
use crate::server::Shared;
use crate::Fault;

/// The limits the emulator enforces, and the time each request takes.
/// `Default`: none, no latency (every request answered at once).
///
/// Throttled requests count in the window too, as Graph counts retries.
/// The answer to a request over a limit is Graph's: 429 `TooManyRequests`
/// with `Retry-After` in seconds (fractional, rounded up to the
/// millisecond): for the window, when enough of it has expired; for
/// concurrency, the latency (when a request in progress will be done).
///
/// JSON (control endpoint, all fields optional): `{"max_concurrent": 4,
/// "requests": 20, "per_ms": 2000, "latency_ms": 50}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Limits {
    /// Insights requests (each `$batch` item counts) in progress at once;
    /// one more gets 429. `None`: no limit.
    pub max_concurrent: Option<u32>,
    /// Insights requests started in any `per_ms` milliseconds; one more
    /// gets 429. `None`: no limit.
    pub requests: Option<u32>,
    /// The window of `requests`, in milliseconds (required with it).
    pub per_ms: u64,
    /// How long each Insights request, and each `$batch` item, takes to be
    /// answered once admitted (it is in progress meanwhile).
    pub latency_ms: u64,
}

impl Limits {
    /// Checks the values: limits of at least 1, a window with `requests`.
    pub fn validate(&self) -> Result<(), String> {
        if self.max_concurrent == Some(0) {
            return Err("max_concurrent must be 1 or more (or absent for no limit)".into());
        }
        match self.requests {
            Some(0) => Err("requests must be 1 or more (or absent for no limit)".into()),
            Some(_) if self.per_ms == 0 => Err("requests needs per_ms, the window, above 0".into()),
            _ => Ok(()),
        }
    }
}

/// What the limits did since the emulator started, the limits were set, or
/// it was reset (`GET /_emulator/limits`, [`crate::Emulator::limits_report`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct LimitsReport {
    /// The limits in force.
    pub limits: Limits,
    /// Insights requests (and items) admitted.
    pub admitted: u64,
    /// Insights requests (and items) answered 429 by the limits.
    pub throttled: u64,
    /// The most Insights requests (and items) ever in progress at once.
    pub peak_in_flight: u32,
}

/// The limits' state, shared by every connection.
#[derive(Default)]
pub(crate) struct Gate {
    state: Mutex<GateState>,
}

#[derive(Default)]
struct GateState {
    report: LimitsReport,
    in_flight: u32,
    /// Start instants of the requests in the window, oldest first.
    window: VecDeque<Instant>,
}

/// An admitted request in progress; dropping it ends it.
pub(crate) struct Slot<'a>(&'a Gate);

impl Drop for Slot<'_> {
    fn drop(&mut self) {
        self.0.lock().in_flight -= 1;
    }
}

impl Gate {
    fn lock(&self) -> MutexGuard<'_, GateState> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Puts new limits in force and starts counting afresh.
    pub(crate) fn set(&self, limits: Limits) {
        let mut state = self.lock();
        let in_flight = state.in_flight;
        *state = GateState {
            report: LimitsReport {
                limits,
                ..LimitsReport::default()
            },
            in_flight,
            window: VecDeque::new(),
        };
    }

    /// Starts counting afresh under the same limits.
    pub(crate) fn reset(&self) {
        let limits = self.lock().report.limits;
        self.set(limits);
    }

    pub(crate) fn report(&self) -> LimitsReport {
        self.lock().report
    }

    fn latency(&self) -> Duration {
        Duration::from_millis(self.lock().report.limits.latency_ms)
    }

    /// Admits one request now, or says how long to wait (`Retry-After`).
    fn admit(&self) -> Result<Slot<'_>, Duration> {
        let now = Instant::now();
        let mut state = self.lock();
        let limits = state.report.limits;
        let mut wait = Duration::ZERO;
        if let Some(max) = limits.requests {
            let per = Duration::from_millis(limits.per_ms);
            while state.window.front().is_some_and(|t| *t + per <= now) {
                state.window.pop_front();
            }
            let full = state.window.len() >= max as usize;
            state.window.push_back(now);
            if full {
                // When enough has expired for one more, this one included.
                let len = state.window.len();
                let at = state.window[len - max as usize] + per;
                wait = wait.max(at.saturating_duration_since(now));
            }
        }
        let over = wait > Duration::ZERO
            || limits
                .max_concurrent
                .is_some_and(|max| state.in_flight >= max);
        if over {
            if limits
                .max_concurrent
                .is_some_and(|max| state.in_flight >= max)
            {
                wait = wait.max(Duration::from_millis(limits.latency_ms));
            }
            state.report.throttled += 1;
            return Err(wait.max(Duration::from_millis(1)));
        }
        state.in_flight += 1;
        state.report.admitted += 1;
        state.report.peak_in_flight = state.report.peak_in_flight.max(state.in_flight);
        Ok(Slot(self))
    }
}

/// Graph's 429 for a request over a limit.
fn throttled(ctx: &Ctx<'_>, wait: Duration) -> Resp {
    let mut resp = graph::error(
        ctx,
        429,
        "TooManyRequests",
        "Too many requests. The request was throttled: retry after the time given in Retry-After.",
    );
    let millis = wait.as_micros().div_ceil(1000);
    resp.set_header(
        "Retry-After",
        &format!("{}.{:03}", millis / 1000, millis % 1000),
    );
    resp
}

/// Answers a Graph request under the limits: a `$batch` item by item,
/// an Insights request after the latency (or at once with 429), anything
/// else as it is. `item_faults` are the `$batch` items to answer with a
/// fault instead of running them (a fault's `batch_item(s)`, or chaos), by
/// index; `record` the index of the request in the log, to mark what was
/// throttled.
pub(crate) async fn serve(
    ctx: &Ctx<'_>,
    req: &GraphReq<'_>,
    item_faults: &BTreeMap<usize, Fault>,
    record: usize,
) -> Resp {
    let outer = if graph::is_batch(req.path) {
        graph::batch_payload(req)
    } else {
        None
    };
    if let Some(plan) = graph::route_batch(ctx, req, &outer) {
        return match plan {
            Ok(plan) => run_batch(ctx, &plan, req.authorization, item_faults, record).await,
            Err(resp) => resp,
        };
    }
    if !graph::is_insights(req.path) {
        return graph::handle(ctx, req);
    }
    let gate = &ctx.shared.gate;
    match gate.admit() {
        Ok(slot) => {
            tokio::time::sleep(gate.latency()).await;
            let resp = graph::handle(ctx, req);
            drop(slot);
            resp
        }
        Err(wait) => {
            mark(ctx.shared, record, None);
            throttled(ctx, wait)
        }
    }
}

/// Runs a `$batch` level by level: the items of a level (those whose
/// dependencies are all done) start together and take the latency once.
async fn run_batch(
    ctx: &Ctx<'_>,
    plan: &BatchPlan<'_>,
    authorization: Option<&str>,
    item_faults: &BTreeMap<usize, Fault>,
    record: usize,
) -> Resp {
    let gate = &ctx.shared.gate;
    let mut answers: Vec<Option<Resp>> = plan.items.iter().map(|_| None).collect();
    for level in plan.levels() {
        let mut running = Vec::new();
        for i in level {
            let (id, item) = plan.items[i];
            let failed = plan.depends_on[i].iter().find(|&&d| {
                !answers[d]
                    .as_ref()
                    .is_some_and(|a| (200..300).contains(&a.status))
            });
            if let Some(&dependency) = failed {
                answers[i] = Some(graph::failed_dependency(ctx, id, plan.items[dependency].0));
                continue;
            }
            if let Some(f) = item_faults.get(&i) {
                answers[i] = Some(graph::item_fault_answer(ctx, f));
                continue;
            }
            if !graph::item_is_insights(plan.version, item) {
                running.push((i, None));
                continue;
            }
            match gate.admit() {
                Ok(slot) => running.push((i, Some(slot))),
                Err(wait) => {
                    mark(ctx.shared, record, Some(id));
                    answers[i] = Some(throttled(ctx, wait));
                }
            }
        }
        if running.iter().any(|(_, slot)| slot.is_some()) {
            tokio::time::sleep(gate.latency()).await;
        }
        for (i, slot) in running {
            let (id, item) = plan.items[i];
            answers[i] = Some(graph::batch_item(
                ctx,
                authorization,
                plan.version,
                id,
                item,
            ));
            drop(slot);
        }
    }
    let answers = answers
        .into_iter()
        .map(|a| a.expect("every item is answered at its level"))
        .collect();
    graph::batch_answer(plan, answers)
}

/// Marks the logged request as throttled: the whole of it (`None`) or one
/// of its `$batch` items.
fn mark(shared: &Shared, record: usize, item: Option<&str>) {
    let mut state = shared.state();
    if let Some(request) = state.requests.get_mut(record) {
        match item {
            None => request.throttled = true,
            Some(id) => request.throttled_items.push(id.to_owned()),
        }
    }
}

/// `GET /_emulator/limits`: the report; `POST` with a [`Limits`] object:
/// puts it in force (`{}` turns every limit off).
pub(crate) fn control(
    shared: &Shared,
    method: &str,
    body: &[u8],
) -> Option<(u16, serde_json::Value)> {
    match method {
        "GET" => Some((200, json!(shared.gate.report()))),
        "POST" => {
            let limits = serde_json::from_slice::<Limits>(body)
                .map_err(|e| format!("limits: {e}"))
                .and_then(|l| l.validate().map(|()| l).map_err(|e| format!("limits: {e}")));
            Some(match limits {
                Ok(limits) => {
                    shared.gate.set(limits);
                    (200, json!(shared.gate.report()))
                }
                Err(message) => (400, json!({ "error": message })),
            })
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gate(limits: Limits) -> Gate {
        let g = Gate::default();
        g.set(limits);
        g
    }

    #[test]
    fn concurrency_is_bounded_and_freed() {
        let g = gate(Limits {
            max_concurrent: Some(2),
            latency_ms: 50,
            ..Limits::default()
        });
        let a = g.admit().unwrap();
        let _b = g.admit().unwrap();
        assert_eq!(g.admit().err(), Some(Duration::from_millis(50)));
        drop(a);
        assert!(g.admit().is_ok());
        let r = g.report();
        assert_eq!((r.admitted, r.throttled, r.peak_in_flight), (3, 1, 2));
    }

    #[test]
    fn the_window_counts_throttled_requests_too() {
        let g = gate(Limits {
            requests: Some(2),
            per_ms: 1000,
            ..Limits::default()
        });
        drop(g.admit().unwrap());
        drop(g.admit().unwrap());
        let wait = g.admit().err().unwrap();
        assert!(wait > Duration::from_millis(900) && wait <= Duration::from_millis(1000));
        assert_eq!(g.lock().window.len(), 3);
    }

    #[test]
    fn bad_limits_are_refused() {
        for (limits, message) in [
            (
                Limits {
                    max_concurrent: Some(0),
                    ..Limits::default()
                },
                "max_concurrent",
            ),
            (
                Limits {
                    requests: Some(0),
                    per_ms: 1,
                    ..Limits::default()
                },
                "requests must",
            ),
            (
                Limits {
                    requests: Some(5),
                    ..Limits::default()
                },
                "per_ms",
            ),
        ] {
            assert!(limits.validate().unwrap_err().contains(message));
        }
    }
}

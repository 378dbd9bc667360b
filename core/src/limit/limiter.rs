//! The limiter one client's clones and threads share: requests in flight,
//! an exact sliding window of requests sent, and a client-wide pause after
//! Graph throttles. Waiters are served first come, first served, so a batch
//! needing several slots is not starved by single creates.
//!
//! Cost on the hot path: one short mutex section to take a slot and one to
//! give it back; nothing at all when the client has no limit.

use std::collections::VecDeque;
use std::sync::{Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use crate::cancel::Cancel;
use crate::error::{CancelledError, TimeoutError};
use crate::{Error, RateLimit};

/// What one HTTP request takes from the limits: `in_flight` slots while it
/// is in flight (a batch: the items Graph may run at once) and `requests`
/// in the window (a batch: every item).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Cost {
    pub(crate) in_flight: u32,
    pub(crate) requests: u32,
}

impl Cost {
    /// A single request.
    pub(crate) const ONE: Cost = Cost {
        in_flight: 1,
        requests: 1,
    };
}

/// Why a request did not get a slot: the phase of its [`TimeoutError`].
const SLOT_TIMEOUT: &str =
    "the wait for a free request slot under the client's rate limit (nothing was sent)";

/// The phase of a [`CancelledError`] during that wait.
const SLOT_CANCELLED: &str = "while waiting for a free request slot under the client's rate limit";

/// Why [`Limiter::acquire`] gave no slot.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum NoSlot {
    /// The deadline passed.
    TimedOut,
    /// The call was cancelled.
    Cancelled,
}

/// A client's limiter (see the module's documentation).
pub(crate) struct Limiter {
    limit: RateLimit,
    /// How long one request may wait for a slot: the client's timeout.
    wait_bound: Duration,
    state: Mutex<State>,
    changed: Condvar,
}

#[derive(Default)]
struct State {
    /// The process (fork generation) the counts below belong to.
    generation: u64,
    in_flight: u64,
    /// Requests answered, stamped when their answer came and kept for `per`
    /// after it: Graph counts a request when it arrives, which is before the
    /// answer, so the client never frees a slot before Graph does. Oldest
    /// first, with how many requests each stamp stands for.
    answered: VecDeque<(Instant, u64)>,
    answered_count: u64,
    /// Requests sent and not yet answered: they are in the window too.
    unanswered: u64,
    /// Graph asked the whole client to wait until then.
    paused_until: Option<Instant>,
    /// Tickets of the waiting requests, in arrival order.
    queue: VecDeque<u64>,
    next_ticket: u64,
}

/// Why a cost cannot be taken now: wait until this instant, or (`None`)
/// until a request in flight is answered.
type NotYet = Option<Instant>;

impl State {
    fn ready(&mut self, now: Instant, cost: Cost, limit: &RateLimit) -> Result<(), NotYet> {
        while let Some(&(at, n)) = self.answered.front() {
            if at + limit.per > now {
                break;
            }
            self.answered.pop_front();
            self.answered_count -= n;
        }
        if let Some(until) = self.paused_until {
            if until > now {
                return Err(Some(until));
            }
            self.paused_until = None;
        }
        // A cost larger than the limit itself goes alone rather than never.
        if self.in_flight > 0
            && self.in_flight + u64::from(cost.in_flight) > u64::from(limit.max_concurrent)
        {
            return Err(None);
        }
        let used = self.answered_count + self.unanswered;
        let wanted = used + u64::from(cost.requests);
        if used > 0 && wanted > u64::from(limit.requests) {
            // The stamp whose expiry frees enough of the window, if the
            // answered requests alone can free it.
            let mut to_free = wanted - u64::from(limit.requests);
            for &(at, n) in &self.answered {
                if n >= to_free {
                    return Err(Some(at + limit.per));
                }
                to_free -= n;
            }
            return Err(None);
        }
        Ok(())
    }

    /// In a forked child: the parent's requests in flight and its waiting
    /// threads are not this process's (they never finish here), so they are
    /// forgotten; the window's history and Graph's pause are kept, since
    /// Graph counts the app's requests whichever process sent them.
    fn adopt(&mut self, generation: u64) {
        if self.generation != generation {
            self.generation = generation;
            self.in_flight = 0;
            self.unanswered = 0;
            self.queue.clear();
        }
    }

    fn take(&mut self, cost: Cost) {
        self.in_flight += u64::from(cost.in_flight);
        self.unanswered += u64::from(cost.requests);
    }
}

/// A taken slot; dropping it counts the request as answered.
pub(crate) struct Permit<'a> {
    limiter: &'a Limiter,
    cost: Cost,
    /// The process that took it: a permit carried across fork() is
    /// returned by nobody in the child, whose counts start afresh.
    generation: u64,
}

impl Drop for Permit<'_> {
    fn drop(&mut self) {
        self.limiter.release(self.cost, self.generation);
    }
}

impl Limiter {
    pub(crate) fn new(limit: RateLimit, wait_bound: Duration) -> Self {
        Self {
            limit,
            wait_bound,
            state: Mutex::new(State {
                generation: crate::fork::generation(),
                ..State::default()
            }),
            changed: Condvar::new(),
        }
    }

    /// The limits kept.
    pub(crate) fn limit(&self) -> &RateLimit {
        &self.limit
    }

    /// The state, as this process's (see [`State::adopt`]).
    fn lock(&self) -> MutexGuard<'_, State> {
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        state.adopt(crate::fork::generation());
        state
    }

    /// Takes `cost` once the limits allow it, waiting (first come, first
    /// served) until `deadline` at most, or until the call is cancelled
    /// (looked at every slice).
    pub(crate) fn acquire(
        &self,
        cost: Cost,
        deadline: Option<Instant>,
        cancel: Cancel<'_>,
    ) -> Result<Permit<'_>, NoSlot> {
        let mut state = self.lock();
        let now = Instant::now();
        if state.queue.is_empty() && state.ready(now, cost, &self.limit).is_ok() {
            state.take(cost);
            return Ok(Permit {
                limiter: self,
                cost,
                generation: state.generation,
            });
        }
        let ticket = state.next_ticket;
        state.next_ticket += 1;
        state.queue.push_back(ticket);
        loop {
            let now = Instant::now();
            let mut wake = None;
            if state.queue.front() == Some(&ticket) {
                match state.ready(now, cost, &self.limit) {
                    Ok(()) => {
                        state.queue.pop_front();
                        state.take(cost);
                        let generation = state.generation;
                        drop(state);
                        // The next in line may fit too.
                        self.changed.notify_all();
                        return Ok(Permit {
                            limiter: self,
                            cost,
                            generation,
                        });
                    }
                    Err(until) => wake = until,
                }
            }
            if deadline.is_some_and(|d| now >= d) {
                return Err(self.leave_queue(state, ticket, NoSlot::TimedOut));
            }
            let until = match (wake, deadline) {
                (Some(w), Some(d)) => Some(w.min(d)),
                (w, d) => w.or(d),
            };
            let timeout = until.map(|until| until.saturating_duration_since(now));
            state = match (timeout, cancel.token()) {
                (None, None) => self.changed.wait(state).unwrap_or_else(|e| e.into_inner()),
                (timeout, _) => {
                    let slice = cancel.slice(timeout.unwrap_or(Duration::MAX));
                    self.changed
                        .wait_timeout(state, slice)
                        .unwrap_or_else(|e| e.into_inner())
                        .0
                }
            };
            if cancel.token().is_some() {
                // The caller's check may run code that uses this client:
                // never with the lock held.
                drop(state);
                let stop = cancel.poll();
                state = self.lock();
                if stop {
                    return Err(self.leave_queue(state, ticket, NoSlot::Cancelled));
                }
            }
        }
    }

    /// A waiter gives up its place; those behind it may now go.
    fn leave_queue(&self, mut state: MutexGuard<'_, State>, ticket: u64, why: NoSlot) -> NoSlot {
        state.queue.retain(|t| *t != ticket);
        drop(state);
        self.changed.notify_all();
        why
    }

    fn release(&self, cost: Cost, generation: u64) {
        let mut state = self.lock();
        if state.generation != generation {
            return; // taken before a fork, in the parent's counts
        }
        state.in_flight -= u64::from(cost.in_flight);
        state.unanswered -= u64::from(cost.requests);
        let n = u64::from(cost.requests);
        state.answered.push_back((Instant::now(), n));
        state.answered_count += n;
        let waiting = !state.queue.is_empty();
        drop(state);
        if waiting {
            self.changed.notify_all();
        }
    }

    /// Holds every request of the client until `wait` has passed (Graph's
    /// `Retry-After`): Graph counts retries against the limit too, so one
    /// thread's 429 is every thread's signal to back off. Logged once per
    /// pause.
    pub(crate) fn pause(&self, wait: Duration, status: u16) {
        let now = Instant::now();
        let Some(until) = now.checked_add(wait) else {
            return;
        };
        let mut state = self.lock();
        let was_paused = state.paused_until.is_some_and(|p| p > now);
        if !matches!(state.paused_until, Some(p) if p >= until) {
            state.paused_until = Some(until);
        }
        drop(state);
        if !was_paused {
            log::info!(
                "Graph answered HTTP {status}: every request of this client waits {:.3} s",
                wait.as_secs_f64()
            );
        }
    }
}

/// When the wait for the next attempt's slot starts: at the call's start,
/// then after each retry's wait. The slot must come within the client's
/// timeout of that; the retry waits themselves are the retry policy's.
/// Without a limiter there is nothing to wait for, and no clock is read.
pub(crate) struct SlotWait {
    from: Option<Instant>,
}

impl SlotWait {
    pub(crate) fn starting_now(limiter: Option<&Limiter>) -> Self {
        Self {
            from: limiter.map(|_| Instant::now()),
        }
    }

    /// The next attempt comes after `wait`.
    pub(crate) fn retry_after(&mut self, wait: Duration) {
        if self.from.is_some() {
            let now = Instant::now();
            self.from = Some(now.checked_add(wait).unwrap_or(now));
        }
    }

    /// A slot for one attempt, or (no limiter) none needed; a timeout error
    /// saying nothing was sent when none came in time, a cancelled one when
    /// the call was cancelled meanwhile.
    pub(crate) fn acquire<'a>(
        &self,
        limiter: Option<&'a Limiter>,
        cost: Cost,
        client_request_id: &str,
        cancel: Cancel<'_>,
    ) -> Result<Option<Permit<'a>>, Error> {
        let (Some(limiter), Some(from)) = (limiter, self.from) else {
            return Ok(None);
        };
        let deadline = from.checked_add(limiter.wait_bound);
        match limiter.acquire(cost, deadline, cancel) {
            Ok(permit) => Ok(Some(permit)),
            Err(NoSlot::TimedOut) => Err(Error::Timeout(TimeoutError {
                phase: SLOT_TIMEOUT,
                request_may_have_been_sent: false,
                client_request_id: client_request_id.to_owned(),
            })),
            Err(NoSlot::Cancelled) => Err(Error::Cancelled(CancelledError::new(
                SLOT_CANCELLED,
                false,
                Some(client_request_id),
            ))),
        }
    }
}

/// What a client does after a throttled or unavailable answer it may retry:
/// with a limiter, a 429 — or any answer with `Retry-After` — pauses the
/// whole client (with `Retry-After`, or the retry's own back-off when Graph
/// gave none), and the retry waits for its slot like every other request;
/// otherwise the retry just sleeps its `wait`. `wait` is `None` when the
/// retry policy gives up; Graph's pause is still kept. `false` when the
/// call was cancelled during the sleep.
pub(crate) fn back_off(
    limiter: Option<&Limiter>,
    status: u16,
    retry_after: Option<Duration>,
    wait: Option<Duration>,
    cancel: Cancel<'_>,
) -> bool {
    match limiter {
        Some(limiter) if status == 429 || retry_after.is_some() => {
            if let Some(pause) = retry_after.or(wait) {
                limiter.pause(pause, status);
            }
            true
        }
        _ => match wait {
            Some(wait) => cancel.sleep(wait),
            None => true,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    fn limiter(max_concurrent: u32, requests: u32, per_ms: u64) -> Limiter {
        Limiter::new(
            RateLimit {
                max_concurrent,
                requests,
                per: Duration::from_millis(per_ms),
            },
            Duration::from_secs(5),
        )
    }

    fn soon(ms: u64) -> Option<Instant> {
        Some(Instant::now() + Duration::from_millis(ms))
    }

    #[test]
    fn in_flight_is_bounded_and_freed_on_drop() {
        let l = limiter(2, 100, 1000);
        let a = l.acquire(Cost::ONE, soon(10), Cancel::NONE).unwrap();
        let _b = l.acquire(Cost::ONE, soon(10), Cancel::NONE).unwrap();
        assert!(
            l.acquire(Cost::ONE, soon(20), Cancel::NONE).is_err(),
            "a third waits"
        );
        drop(a);
        assert!(l.acquire(Cost::ONE, soon(20), Cancel::NONE).is_ok());
    }

    #[test]
    fn the_window_frees_a_slot_per_after_the_answer() {
        let l = limiter(10, 3, 200);
        let start = Instant::now();
        for _ in 0..3 {
            drop(l.acquire(Cost::ONE, soon(10), Cancel::NONE).unwrap());
        }
        assert!(
            l.acquire(Cost::ONE, soon(50), Cancel::NONE).is_err(),
            "window full"
        );
        drop(l.acquire(Cost::ONE, soon(1000), Cancel::NONE).unwrap());
        let waited = start.elapsed();
        assert!(waited >= Duration::from_millis(200), "{waited:?}");
        assert!(waited < Duration::from_millis(400), "{waited:?}");
    }

    #[test]
    fn unanswered_requests_count_in_the_window() {
        let l = limiter(10, 2, 100);
        let _a = l.acquire(Cost::ONE, soon(10), Cancel::NONE).unwrap();
        let _b = l.acquire(Cost::ONE, soon(10), Cancel::NONE).unwrap();
        // Neither answered: no stamp can expire, so only the deadline ends the wait.
        assert!(l.acquire(Cost::ONE, soon(250), Cancel::NONE).is_err());
    }

    #[test]
    fn a_batch_cost_takes_its_items_and_oversized_costs_go_alone() {
        let l = limiter(4, 20, 1000);
        let batch = Cost {
            in_flight: 4,
            requests: 4,
        };
        let a = l.acquire(batch, soon(10), Cancel::NONE).unwrap();
        assert!(l.acquire(Cost::ONE, soon(10), Cancel::NONE).is_err());
        drop(a);
        let wide = Cost {
            in_flight: 9,
            requests: 4,
        };
        let w = l
            .acquire(wide, soon(10), Cancel::NONE)
            .expect("alone, it goes");
        assert!(l.acquire(Cost::ONE, soon(10), Cancel::NONE).is_err());
        drop(w);
        let fresh = limiter(4, 20, 1000);
        let long = Cost {
            in_flight: 1,
            requests: 50,
        };
        assert!(
            fresh.acquire(long, soon(10), Cancel::NONE).is_ok(),
            "an empty window takes it"
        );
    }

    #[test]
    fn a_pause_holds_everyone_until_it_ends() {
        let l = limiter(4, 100, 1000);
        l.pause(Duration::from_millis(150), 429);
        let start = Instant::now();
        assert!(l.acquire(Cost::ONE, soon(50), Cancel::NONE).is_err());
        drop(l.acquire(Cost::ONE, soon(1000), Cancel::NONE).unwrap());
        assert!(start.elapsed() >= Duration::from_millis(140));
    }

    #[test]
    fn waiters_are_served_in_arrival_order() {
        let l = Arc::new(limiter(1, 1000, 1000));
        let first = l.acquire(Cost::ONE, None, Cancel::NONE).unwrap();
        let order = Arc::new(Mutex::new(Vec::new()));
        let mut threads = Vec::new();
        for i in 0..4 {
            let (mine, order) = (Arc::clone(&l), Arc::clone(&order));
            threads.push(std::thread::spawn(move || {
                let _p = mine.acquire(Cost::ONE, None, Cancel::NONE).unwrap();
                order.lock().unwrap().push(i);
            }));
            // Let each thread queue before the next.
            while l.lock().queue.len() < i + 1 {
                std::thread::yield_now();
            }
        }
        drop(first);
        for t in threads {
            t.join().unwrap();
        }
        assert_eq!(*order.lock().unwrap(), [0, 1, 2, 3]);
    }

    #[test]
    fn a_cancel_ends_the_wait_and_leaves_the_queue() {
        let l = limiter(1, 1000, 1000);
        let held = l.acquire(Cost::ONE, None, Cancel::NONE).unwrap();
        let token = crate::CancelToken::new();
        let stopper = token.clone();
        std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(50));
            stopper.cancel();
        });
        let start = Instant::now();
        let refused = l.acquire(Cost::ONE, None, Cancel::new(Some(&token)));
        assert_eq!(refused.err(), Some(NoSlot::Cancelled));
        assert!(
            start.elapsed() < Duration::from_millis(150),
            "{:?}",
            start.elapsed()
        );
        assert!(l.lock().queue.is_empty());
        drop(held);
    }

    #[test]
    fn a_waiter_that_times_out_leaves_the_queue() {
        let l = limiter(1, 1000, 1000);
        let held = l.acquire(Cost::ONE, None, Cancel::NONE).unwrap();
        assert!(l.acquire(Cost::ONE, soon(20), Cancel::NONE).is_err());
        assert!(l.lock().queue.is_empty());
        drop(held);
        assert!(l.acquire(Cost::ONE, soon(10), Cancel::NONE).is_ok());
    }
}

//! Stopping a call early: [`CancelToken`], and how every wait of a call
//! sees it.
//!
//! A token is an atomic flag (plus, for bindings, a check run now and then).
//! Setting the flag is all `cancel` does — one atomic store, so a C signal
//! handler may call it — and nothing is woken: instead every wait of a call
//! that has a token (the retry waits, the limiter, a token renewal another
//! thread runs, connecting, the answer) waits in slices of at most
//! [`SLICE`] and looks at the flag between them. A call without a token
//! waits exactly as before, in one piece.
//!
//! The waits `Client` makes itself get the token as an argument ([`Cancel`]);
//! those below ureq and the credentials' token requests (which run on the
//! caller's thread, inside `Agent::run`) find it in a thread-local set for
//! the call ([`enter`]), as the transport (`cancel_io`) reads it.

use std::cell::{Cell, RefCell};
use std::fmt;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The longest a wait of a call with a token goes without looking at it:
/// the delay between `cancel` and the call noticing, at worst.
pub(crate) const SLICE: Duration = Duration::from_millis(20);

/// A handle to stop calls early: pass it to
/// [`Client::create_with_cancel`](crate::Client::create_with_cancel),
/// [`Client::create_json_with_cancel`](crate::Client::create_json_with_cancel)
/// or [`BatchOptions::with_cancel`](crate::BatchOptions::with_cancel), and
/// call [`cancel`](Self::cancel) from anywhere — another thread, a GUI's
/// Cancel button, a shutdown hook.
///
/// Once cancelled, every call using the token returns within about 20 ms
/// (the slice its waits are cut into): waits for a retry, a free slot under
/// the client's [`RateLimit`](crate::RateLimit), a token, a connection or an
/// answer end at once, and no new request starts. The call then fails with
/// [`Error::Cancelled`](crate::Error::Cancelled), which says whether the
/// request may have been processed: a request already sent is abandoned —
/// its connection closed, never reused — since Graph may still carry it
/// out. `create_many` returns one result per input as always: those
/// already known, `Cancelled` "not sent" for inputs that never left, and
/// `Cancelled` "may have been processed" for those of a batch in flight.
///
/// Cheap to clone (clones share the flag), `Send + Sync`. A token stays
/// cancelled: use a new one for new work.
///
/// ```no_run
/// use used_insight::{CancelToken, Client, Error};
/// # let insight = used_insight::UsedInsight::default();
/// let client = Client::builder().token("eyJ0eXAi.example").build()?;
/// let cancel = CancelToken::new();
/// let stopper = cancel.clone();
/// std::thread::spawn(move || {
///     std::thread::sleep(std::time::Duration::from_secs(5));
///     stopper.cancel(); // give up after 5 s
/// });
/// match client.create_with_cancel("alice@contoso.com", &insight, &cancel) {
///     Ok(created) => println!("created {:?}", created.id),
///     Err(Error::Cancelled(e)) if e.request_may_have_been_sent => {
///         eprintln!("stopped; it may have been created anyway: {e}")
///     }
///     Err(e) => eprintln!("{e}"),
/// }
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Default)]
pub struct CancelToken {
    shared: Arc<Shared>,
}

#[derive(Default)]
struct Shared {
    cancelled: AtomicBool,
    check: Option<Check>,
}

/// A caller's check.
type Check = Box<dyn Fn() -> bool + Send + Sync>;

impl CancelToken {
    /// A token not cancelled yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// A token that also runs `check` on the threads of a call using it —
    /// the calling thread and, for `create_many`, its workers — at most once
    /// per 20 ms on each while the call runs (between the slices of its
    /// waits, and before each request); when `check` returns `true` the
    /// token is cancelled. For integrations that can only poll: Python's
    /// binding runs its signal handlers there, so Ctrl+C stops a call.
    ///
    /// `check` must be quick and must not call into the client.
    ///
    /// ```
    /// use std::time::{Duration, Instant};
    /// let deadline = Instant::now() + Duration::from_secs(30);
    /// let cancel = used_insight::CancelToken::with_check(move || Instant::now() > deadline);
    /// assert!(!cancel.is_cancelled());
    /// ```
    pub fn with_check(check: impl Fn() -> bool + Send + Sync + 'static) -> Self {
        Self {
            shared: Arc::new(Shared {
                cancelled: AtomicBool::new(false),
                check: Some(Box::new(check)),
            }),
        }
    }

    /// Cancels every call using this token (and its clones), now and later.
    ///
    /// Async-signal-safe: it is one atomic store — no lock, no allocation,
    /// no system call — so a signal handler may call it.
    pub fn cancel(&self) {
        self.shared.cancelled.store(true, Ordering::Release);
    }

    /// Whether [`cancel`](Self::cancel) was called (or the check said so).
    pub fn is_cancelled(&self) -> bool {
        self.shared.cancelled.load(Ordering::Acquire)
    }

    /// Whether the call should stop: the flag, and the caller's check when
    /// it is due on this thread (at most once per [`SLICE`]).
    pub(crate) fn poll(&self) -> bool {
        if self.is_cancelled() {
            return true;
        }
        let Some(check) = &self.shared.check else {
            return false;
        };
        let now = Instant::now();
        let due = CHECK_DUE.with(|due| match due.get() {
            Some(at) if now < at => false,
            _ => {
                due.set(now.checked_add(SLICE));
                true
            }
        });
        if due && check() {
            self.cancel();
        }
        self.is_cancelled()
    }
}

impl fmt::Debug for CancelToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CancelToken")
            .field("cancelled", &self.is_cancelled())
            .field("check", &self.shared.check.is_some())
            .finish()
    }
}

/// The token of one call, if it has one: what `Client`'s own waits take.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Cancel<'a>(Option<&'a CancelToken>);

impl<'a> Cancel<'a> {
    /// No token: nothing can stop the call.
    pub(crate) const NONE: Cancel<'static> = Cancel(None);

    pub(crate) fn new(token: Option<&'a CancelToken>) -> Self {
        Self(token)
    }

    pub(crate) fn token(self) -> Option<&'a CancelToken> {
        self.0
    }

    /// Whether the call should stop now (see [`CancelToken::poll`]).
    pub(crate) fn poll(self) -> bool {
        self.0.is_some_and(CancelToken::poll)
    }

    /// How long one blocking wait with `left` to go may last: all of it
    /// without a token, at most a [`SLICE`] with one.
    pub(crate) fn slice(self, left: Duration) -> Duration {
        match self.0 {
            Some(_) => left.min(SLICE),
            None => left,
        }
    }

    /// Sleeps `wait`; `false` (at once) when the call is cancelled first.
    pub(crate) fn sleep(self, wait: Duration) -> bool {
        let Some(token) = self.0 else {
            std::thread::sleep(wait);
            return true;
        };
        let until = Instant::now().checked_add(wait);
        loop {
            if token.poll() {
                return false;
            }
            let left = match until {
                Some(until) => until.saturating_duration_since(Instant::now()),
                None => SLICE,
            };
            if left.is_zero() {
                return true;
            }
            std::thread::sleep(left.min(SLICE));
        }
    }
}

thread_local! {
    /// When a check may run again on this thread (see [`CancelToken::poll`]).
    static CHECK_DUE: Cell<Option<Instant>> = const { Cell::new(None) };
    /// The token of the call running on this thread, for the waits below
    /// `Client` (the transport, credentials).
    static CURRENT: RefCell<Option<CancelToken>> = const { RefCell::new(None) };
    /// Where the current attempt is (see [`Stage`]).
    static STAGE: Cell<Stage> = const { Cell::new(Stage::NEW) };
}

/// How far the request of the current attempt has got, as the transport
/// sees it: a cancel before any byte of the request was written leaves the
/// request unsent.
#[derive(Debug, Clone, Copy)]
struct Stage {
    /// Connections being opened (a proxy tunnel opens one inside another);
    /// what is written meanwhile is a handshake, not the request.
    connecting: u8,
    /// A byte of the request may have been written.
    sent: bool,
}

impl Stage {
    const NEW: Stage = Stage {
        connecting: 0,
        sent: false,
    };
}

/// Makes `cancel` the current call's token on this thread until the guard
/// is dropped (the previous one then comes back), and starts a new attempt.
/// Without a token nothing changes (an enclosing call's token stays).
pub(crate) fn enter(cancel: Cancel<'_>) -> Option<Entered> {
    let token = cancel.token()?.clone();
    let previous = CURRENT.with(|c| c.replace(Some(token)));
    let stage = STAGE.with(|s| s.replace(Stage::NEW));
    Some(Entered { previous, stage })
}

/// Restores the enclosing call's token (see [`enter`]).
pub(crate) struct Entered {
    previous: Option<CancelToken>,
    stage: Stage,
}

impl Drop for Entered {
    fn drop(&mut self) {
        let previous = self.previous.take();
        CURRENT.with(|c| *c.borrow_mut() = previous);
        STAGE.with(|s| s.set(self.stage));
    }
}

/// Whether a call on this thread has a token (the transport's fast path).
pub(crate) fn active() -> bool {
    CURRENT.with(|c| c.borrow().is_some())
}

/// Whether the current call should stop: its flag, and its check when due.
/// The token is cloned out first, so a check that calls back into this
/// library on this thread finds no borrow held.
pub(crate) fn current_poll() -> bool {
    let token = CURRENT.with(|c| c.borrow().clone());
    token.is_some_and(|t| t.poll())
}

/// The current call's token as a [`Cancel`] for a wait, or none.
pub(crate) fn current() -> Option<CancelToken> {
    CURRENT.with(|c| c.borrow().clone())
}

/// A new attempt starts: nothing of its request is written yet.
pub(crate) fn begin_attempt() {
    STAGE.with(|s| s.set(Stage::NEW));
}

/// A connection starts being opened (connect, proxy tunnel, TLS handshake).
pub(crate) fn connecting() {
    STAGE.with(|s| {
        let mut stage = s.get();
        stage.connecting = stage.connecting.saturating_add(1);
        s.set(stage);
    });
}

/// A connection is open; what is written next is the request.
pub(crate) fn connected() {
    STAGE.with(|s| {
        let mut stage = s.get();
        stage.connecting = stage.connecting.saturating_sub(1);
        s.set(stage);
    });
}

/// The transport is about to write: unless a connection is being opened,
/// that is the request.
pub(crate) fn writing() {
    STAGE.with(|s| {
        let mut stage = s.get();
        if stage.connecting == 0 {
            stage.sent = true;
            s.set(stage);
        }
    });
}

/// Whether a byte of the current attempt's request may have been written.
pub(crate) fn request_may_have_been_sent() -> bool {
    STAGE.with(|s| s.get().sent)
}

/// Whether the current attempt is still opening its connection.
pub(crate) fn is_connecting() -> bool {
    STAGE.with(|s| s.get().connecting > 0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicU32;

    #[test]
    fn cancel_is_shared_by_clones_and_stays() {
        let a = CancelToken::new();
        let b = a.clone();
        assert!(!b.is_cancelled());
        a.cancel();
        assert!(b.is_cancelled() && b.poll());
    }

    #[test]
    fn a_sleep_ends_within_a_slice_of_the_cancel() {
        let token = CancelToken::new();
        let stopper = token.clone();
        let started = Instant::now();
        std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(50));
            stopper.cancel();
        });
        assert!(!Cancel::new(Some(&token)).sleep(Duration::from_secs(10)));
        let took = started.elapsed();
        assert!(took < Duration::from_millis(50) + 3 * SLICE, "{took:?}");
        assert!(Cancel::NONE.sleep(Duration::from_millis(1)));
    }

    #[test]
    fn the_check_runs_at_most_once_a_slice_and_cancels() {
        let calls = Arc::new(AtomicU32::new(0));
        let counted = calls.clone();
        let token = CancelToken::with_check(move || counted.fetch_add(1, Ordering::SeqCst) >= 2);
        assert!(!token.poll());
        assert!(!token.poll(), "not due again yet");
        assert_eq!(calls.load(Ordering::SeqCst), 1);
        assert!(!Cancel::new(Some(&token)).sleep(Duration::from_secs(5)));
        assert_eq!(calls.load(Ordering::SeqCst), 3);
        assert!(token.is_cancelled());
    }

    #[test]
    fn entering_sets_and_restores_the_current_token() {
        assert!(!active());
        let outer = CancelToken::new();
        {
            let _outer = enter(Cancel::new(Some(&outer)));
            assert!(active());
            writing();
            assert!(request_may_have_been_sent());
            {
                let inner = CancelToken::new();
                inner.cancel();
                let _inner = enter(Cancel::new(Some(&inner)));
                assert!(current_poll());
                assert!(!request_may_have_been_sent(), "a new attempt");
                assert!(enter(Cancel::NONE).is_none());
                assert!(current_poll(), "no token keeps the enclosing one");
            }
            assert!(!current_poll());
            assert!(request_may_have_been_sent());
            connecting();
            begin_attempt();
            connecting();
            writing();
            assert!(is_connecting() && !request_may_have_been_sent());
            connected();
            writing();
            assert!(request_may_have_been_sent());
        }
        assert!(!active());
    }
}

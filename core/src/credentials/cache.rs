//! One cached token and the rule for renewing it: reused until fewer than
//! min(5 minutes, half its lifetime) remain — or until the issuer's
//! `refresh_on` — then renewed by exactly one caller while the others wait
//! (single flight). A renewal that fails while the old token is still valid
//! keeps the old one, and is not tried again for [`RETRY_AFTER_FAILURE`].
//! A process forked while a renewal runs keeps the token but not the
//! renewal: its first caller starts one of its own.

use std::sync::{Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant, SystemTime};

use super::AccessToken;
use crate::cancel::Cancel;
use crate::error::{CancelledError, TokenProviderError};
use crate::Error;

/// The phase of a [`CancelledError`] while a token is awaited.
pub(crate) const TOKEN_WAIT: &str = "while waiting for a token";

/// Longest margin kept before expiry.
const MAX_MARGIN: Duration = Duration::from_secs(5 * 60);

/// After a failed renewal while the old token is still valid, how long the
/// old one is used before trying again (so a broken token endpoint is not
/// asked on every call).
pub(crate) const RETRY_AFTER_FAILURE: Duration = Duration::from_secs(30);

/// When a token received at `received` should be renewed.
pub(crate) fn refresh_at(token: &AccessToken, received: SystemTime) -> SystemTime {
    let lifetime = token
        .expires_on
        .duration_since(received)
        .unwrap_or(Duration::ZERO);
    let margin = MAX_MARGIN.min(lifetime / 2);
    let computed = token.expires_on - margin;
    match token.refresh_on {
        Some(suggested) if suggested < token.expires_on => suggested,
        _ => computed,
    }
}

/// A token cache for one credential and one set of scopes.
#[derive(Debug, Default)]
pub(crate) struct TokenCache {
    state: Mutex<State>,
    flight_done: Condvar,
}

#[derive(Debug, Default)]
struct State {
    token: Option<Cached>,
    /// A renewal is under way, in the process of this fork generation: a
    /// child forked meanwhile has no thread to finish it, and starts its own.
    flight: Option<u64>,
    /// Counts finished renewals, so a waiter knows its flight landed.
    flights: u64,
    /// How the last renewal failed, for those who waited on it.
    failure: Option<(u64, Error)>,
    /// After a failed renewal with a valid old token: not before this.
    quiet_until: Option<Instant>,
}

impl State {
    fn in_flight(&self) -> bool {
        self.flight
            .is_some_and(|born| born == crate::fork::generation())
    }
}

#[derive(Debug)]
struct Cached {
    token: AccessToken,
    refresh_at: SystemTime,
}

impl Cached {
    fn usable(&self, now: SystemTime) -> bool {
        now < self.token.expires_on
    }
}

impl TokenCache {
    /// The cached token while it is fresh; otherwise a new one from `fetch`
    /// — called by one thread at a time. Those arriving while it runs wait
    /// for its result, at most `wait_limit` (or until their call is
    /// cancelled), unless the old token is still valid (then they use it
    /// and do not wait). A renewal that ends because its own call was
    /// cancelled gives the others nothing: the next of them starts one.
    pub(crate) fn get(
        &self,
        wait_limit: Duration,
        cancel: Cancel<'_>,
        fetch: impl FnOnce() -> Result<AccessToken, Error>,
    ) -> Result<AccessToken, Error> {
        let deadline = Instant::now() + wait_limit;
        let mut state = self.lock();
        loop {
            let now = SystemTime::now();
            if let Some(cached) = &state.token {
                if now < cached.refresh_at {
                    return Ok(cached.token.clone());
                }
                let quiet = state.quiet_until.is_some_and(|t| Instant::now() < t);
                if cached.usable(now) && (state.in_flight() || quiet) {
                    return Ok(cached.token.clone());
                }
            }
            if !state.in_flight() {
                break;
            }
            let waiting_on = state.flights;
            while state.in_flight() && state.flights == waiting_on {
                let left = deadline.saturating_duration_since(Instant::now());
                if left.is_zero() {
                    return Err(Error::TokenProvider(TokenProviderError::new(format!(
                        "no token within {:.1} s: another request for one is still under way",
                        wait_limit.as_secs_f64()
                    ))));
                }
                state = self
                    .flight_done
                    .wait_timeout(state, cancel.slice(left))
                    .unwrap_or_else(|e| e.into_inner())
                    .0;
                if cancel.token().is_some() {
                    // The caller's check runs without the lock held.
                    drop(state);
                    if cancel.poll() {
                        return Err(Error::Cancelled(CancelledError::new(
                            TOKEN_WAIT, false, None,
                        )));
                    }
                    state = self.lock();
                }
            }
            if let Some((flight, error)) = &state.failure {
                if *flight == waiting_on + 1 {
                    return Err(error.replicate());
                }
            }
        }
        state.flight = Some(crate::fork::generation());
        drop(state);
        let mut landing = Landing {
            cache: self,
            landed: false,
        };
        let result = fetch();
        landing.landed = true;
        self.land(result)
    }

    /// Records a renewal's result and wakes those waiting for it.
    fn land(&self, result: Result<AccessToken, Error>) -> Result<AccessToken, Error> {
        let now = SystemTime::now();
        let mut state = self.lock();
        state.flight = None;
        state.flights += 1;
        self.flight_done.notify_all();
        if let Err(Error::Cancelled(_)) = &result {
            // Only the renewing call was cancelled: no failure to share,
            // and the next caller renews.
            return result;
        }
        match result {
            Ok(token) => {
                state.failure = None;
                state.quiet_until = None;
                state.token = Some(Cached {
                    refresh_at: refresh_at(&token, now),
                    token: token.clone(),
                });
                Ok(token)
            }
            Err(error) => match state.token.as_ref().filter(|c| c.usable(now)) {
                Some(cached) => {
                    let left = cached
                        .token
                        .expires_on
                        .duration_since(now)
                        .unwrap_or_default();
                    log::warn!(
                        "renewing the token failed; the current one, valid {:.0} s more, is \
                         used meanwhile: {error}",
                        left.as_secs_f64()
                    );
                    let token = cached.token.clone();
                    state.quiet_until = Some(Instant::now() + RETRY_AFTER_FAILURE);
                    state.failure = None;
                    Ok(token)
                }
                None => {
                    state.failure = Some((state.flights, error.replicate()));
                    Err(error)
                }
            },
        }
    }

    /// Forgets the token (Graph refused it), so the next call gets a new one.
    pub(crate) fn forget(&self) {
        self.lock().token = None;
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// Ends a renewal even when `fetch` panics (a binding's callback), so the
/// waiters are woken instead of waiting for a flight that never lands.
struct Landing<'a> {
    cache: &'a TokenCache,
    landed: bool,
}

impl Drop for Landing<'_> {
    fn drop(&mut self) {
        if !self.landed {
            let _ = self
                .cache
                .land(Err(Error::TokenProvider(TokenProviderError::new(
                    "the token request panicked",
                ))));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicU32, Ordering};
    use std::sync::{Arc, Barrier};

    fn token(text: &str, lifetime: Duration) -> AccessToken {
        AccessToken::new(text, SystemTime::now() + lifetime)
    }

    fn failure() -> Error {
        Error::TokenProvider(TokenProviderError::new("endpoint down"))
    }

    const WAIT: Duration = Duration::from_secs(5);

    #[test]
    fn the_margin_is_five_minutes_or_half_the_lifetime() {
        let now = SystemTime::now();
        let hour = AccessToken::new("a", now + Duration::from_secs(3600));
        assert_eq!(refresh_at(&hour, now), now + Duration::from_secs(3300));
        let short = AccessToken::new("a", now + Duration::from_secs(120));
        assert_eq!(refresh_at(&short, now), now + Duration::from_secs(60));
        let suggested = hour
            .clone()
            .with_refresh_on(now + Duration::from_secs(1800));
        assert_eq!(refresh_at(&suggested, now), now + Duration::from_secs(1800));
        let past_expiry = hour.with_refresh_on(now + Duration::from_secs(7200));
        assert_eq!(
            refresh_at(&past_expiry, now),
            now + Duration::from_secs(3300)
        );
    }

    #[test]
    fn a_fresh_token_is_reused_and_a_due_one_renewed() {
        let cache = TokenCache::default();
        let calls = AtomicU32::new(0);
        let fetch = |lifetime| {
            let n = calls.fetch_add(1, Ordering::SeqCst);
            Ok(token(&format!("t{n}"), lifetime))
        };
        let hour = Duration::from_secs(3600);
        for _ in 0..3 {
            let t = cache.get(WAIT, Cancel::NONE, || fetch(hour)).unwrap();
            assert_eq!(t.token.secret(), "t0");
        }
        assert_eq!(calls.load(Ordering::SeqCst), 1);
        // A token already past its refresh time is replaced on the next call.
        cache.forget();
        let soon = cache
            .get(WAIT, Cancel::NONE, || fetch(Duration::ZERO))
            .unwrap();
        assert_eq!(soon.token.secret(), "t1");
        let next = cache.get(WAIT, Cancel::NONE, || fetch(hour)).unwrap();
        assert_eq!(next.token.secret(), "t2");
    }

    #[test]
    fn a_failed_renewal_keeps_a_valid_token_then_waits_before_trying_again() {
        let cache = TokenCache::default();
        // Due at once (refresh_on now) but valid for an hour.
        let due = token("old", Duration::from_secs(3600)).with_refresh_on(SystemTime::now());
        cache.get(WAIT, Cancel::NONE, || Ok(due)).unwrap();
        let calls = AtomicU32::new(0);
        for _ in 0..3 {
            let t = cache
                .get(WAIT, Cancel::NONE, || {
                    calls.fetch_add(1, Ordering::SeqCst);
                    Err(failure())
                })
                .unwrap();
            assert_eq!(t.token.secret(), "old");
        }
        assert_eq!(calls.load(Ordering::SeqCst), 1, "asked once, then quiet");
    }

    #[test]
    fn a_failed_renewal_without_a_valid_token_is_an_error() {
        let cache = TokenCache::default();
        let err = cache
            .get(WAIT, Cancel::NONE, || Err(failure()))
            .unwrap_err();
        assert!(err.to_string().contains("endpoint down"), "{err}");
        // The next call tries again.
        let t = cache.get(WAIT, Cancel::NONE, || {
            Ok(token("new", Duration::from_secs(60)))
        });
        assert_eq!(t.unwrap().token.secret(), "new");
    }

    #[test]
    fn eight_threads_one_renewal() {
        let cache = Arc::new(TokenCache::default());
        let calls = Arc::new(AtomicU32::new(0));
        let start = Arc::new(Barrier::new(8));
        let threads: Vec<_> = (0..8)
            .map(|_| {
                let (cache, calls, start) = (cache.clone(), calls.clone(), start.clone());
                std::thread::spawn(move || {
                    start.wait();
                    cache
                        .get(WAIT, Cancel::NONE, || {
                            calls.fetch_add(1, Ordering::SeqCst);
                            std::thread::sleep(Duration::from_millis(200));
                            Ok(token("shared", Duration::from_secs(3600)))
                        })
                        .unwrap()
                })
            })
            .collect();
        for t in threads {
            assert_eq!(t.join().unwrap().token.secret(), "shared");
        }
        assert_eq!(calls.load(Ordering::SeqCst), 1);
    }

    #[test]
    fn waiters_share_a_failure_instead_of_each_asking_again() {
        let cache = Arc::new(TokenCache::default());
        let calls = Arc::new(AtomicU32::new(0));
        let start = Arc::new(Barrier::new(4));
        let threads: Vec<_> = (0..4)
            .map(|_| {
                let (cache, calls, start) = (cache.clone(), calls.clone(), start.clone());
                std::thread::spawn(move || {
                    start.wait();
                    cache.get(WAIT, Cancel::NONE, || {
                        calls.fetch_add(1, Ordering::SeqCst);
                        std::thread::sleep(Duration::from_millis(200));
                        Err(failure())
                    })
                })
            })
            .collect();
        for t in threads {
            let err = t.join().unwrap().unwrap_err();
            assert!(err.to_string().contains("endpoint down"), "{err}");
        }
        assert_eq!(calls.load(Ordering::SeqCst), 1);
    }

    #[test]
    fn a_waiter_gives_up_at_its_limit() {
        let cache = Arc::new(TokenCache::default());
        let (started_tx, started_rx) = std::sync::mpsc::channel();
        let slow = {
            let cache = cache.clone();
            std::thread::spawn(move || {
                cache.get(WAIT, Cancel::NONE, || {
                    started_tx.send(()).unwrap();
                    std::thread::sleep(Duration::from_millis(500));
                    Ok(token("late", Duration::from_secs(60)))
                })
            })
        };
        started_rx.recv().unwrap();
        let err = cache
            .get(Duration::from_millis(50), Cancel::NONE, || {
                unreachable!("one flight")
            })
            .unwrap_err();
        assert!(err.to_string().contains("still under way"), "{err}");
        assert!(slow.join().unwrap().is_ok());
    }

    #[test]
    fn a_cancelled_waiter_leaves_and_a_cancelled_renewal_is_not_shared() {
        let cache = Arc::new(TokenCache::default());
        let (started_tx, started_rx) = std::sync::mpsc::channel();
        let renewing = crate::CancelToken::new();
        let slow = {
            let (cache, renewing) = (cache.clone(), renewing.clone());
            std::thread::spawn(move || {
                cache.get(WAIT, Cancel::new(Some(&renewing)), || {
                    started_tx.send(()).unwrap();
                    // As a transport does: it sees its call's cancel.
                    while !renewing.is_cancelled() {
                        std::thread::sleep(Duration::from_millis(5));
                    }
                    Err(Error::Cancelled(CancelledError::new(
                        TOKEN_WAIT, false, None,
                    )))
                })
            })
        };
        started_rx.recv().unwrap();
        let waiting = crate::CancelToken::new();
        waiting.cancel();
        let start = std::time::Instant::now();
        let err = cache
            .get(WAIT, Cancel::new(Some(&waiting)), || {
                unreachable!("one flight")
            })
            .unwrap_err();
        assert!(matches!(err, Error::Cancelled(_)), "{err}");
        assert!(start.elapsed() < Duration::from_millis(100));
        // A waiter not cancelled is not told of the renewal's cancel: it
        // renews itself once that renewal has ended.
        let other = {
            let cache = cache.clone();
            std::thread::spawn(move || {
                cache.get(WAIT, Cancel::NONE, || {
                    Ok(token("own", Duration::from_secs(60)))
                })
            })
        };
        std::thread::sleep(Duration::from_millis(30));
        renewing.cancel();
        assert!(matches!(slow.join().unwrap(), Err(Error::Cancelled(_))));
        assert_eq!(other.join().unwrap().unwrap().token.secret(), "own");
    }

    #[test]
    fn a_panicking_fetch_releases_the_waiters() {
        let cache = Arc::new(TokenCache::default());
        let c = cache.clone();
        let panicked =
            std::thread::spawn(move || c.get(WAIT, Cancel::NONE, || panic!("callback bug")));
        assert!(panicked.join().is_err());
        let t = cache.get(WAIT, Cancel::NONE, || {
            Ok(token("after", Duration::from_secs(60)))
        });
        assert_eq!(t.unwrap().token.secret(), "after");
    }
}

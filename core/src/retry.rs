//! Applying the `RetryPolicy`: which statuses are retried (429, 503, 504),
//! how `Retry-After` is read, and the budget that decides each wait of one
//! logical call (backoff with jitter; caps on retries, each wait and the
//! total).

use std::time::{Duration, SystemTime};

use crate::RetryPolicy;

/// Throttled (429) or temporarily unavailable (503, 504): the request was not
/// carried out and may be sent again. Nothing else is retried.
pub(crate) fn is_retryable_status(status: u16) -> bool {
    matches!(status, 429 | 503 | 504)
}

/// Longest `Retry-After` taken seriously; larger values are treated as
/// garbage rather than as a reason to sleep for days.
const RETRY_AFTER_CEILING: Duration = Duration::from_secs(24 * 3600);

/// Reads `Retry-After` as whole seconds (`120`), fractional seconds
/// (`2.128`, which Graph sends and Microsoft's SDKs truncate), or an
/// HTTP-date. A date in the past means "now".
pub(crate) fn parse_retry_after(value: &str, now: SystemTime) -> Option<Duration> {
    let value = value.trim();
    if value.starts_with(|c: char| c.is_ascii_digit() || c == '.') {
        let seconds: f64 = value.parse().ok()?;
        if !seconds.is_finite() || seconds < 0.0 {
            return None;
        }
        return Duration::try_from_secs_f64(seconds)
            .ok()
            .filter(|d| *d <= RETRY_AFTER_CEILING);
    }
    let at = httpdate::parse_http_date(value).ok()?;
    let wait = at.duration_since(now).unwrap_or(Duration::ZERO);
    (wait <= RETRY_AFTER_CEILING).then_some(wait)
}

/// Tracks the waits of one logical call against the policy's limits.
#[derive(Debug)]
pub(crate) struct RetryBudget<'a> {
    policy: &'a RetryPolicy,
    retries_done: u32,
    waited: Duration,
}

impl<'a> RetryBudget<'a> {
    pub(crate) fn new(policy: &'a RetryPolicy) -> Self {
        Self {
            policy,
            retries_done: 0,
            waited: Duration::ZERO,
        }
    }

    /// Retries already made.
    pub(crate) fn retries_done(&self) -> u32 {
        self.retries_done
    }

    /// How long to wait before the next retry, or `None` when the policy
    /// says stop (no retries left, or the wait breaks a limit). Counts the
    /// retry as made.
    pub(crate) fn next_wait(&mut self, retry_after: Option<Duration>) -> Option<Duration> {
        if self.retries_done >= self.policy.max_retries {
            return None;
        }
        let wait = retry_after.unwrap_or_else(|| self.backoff());
        if wait > self.policy.max_delay || self.waited + wait > self.policy.max_total_wait {
            return None;
        }
        self.retries_done += 1;
        self.waited += wait;
        Some(wait)
    }

    /// `initial_delay × 2^retries`, capped at `max_delay`, with "equal
    /// jitter" (half fixed, half random) so that many clients throttled
    /// together do not come back together.
    fn backoff(&self) -> Duration {
        let exp = self
            .policy
            .initial_delay
            .saturating_mul(1u32 << self.retries_done.min(16));
        let capped = exp.min(self.policy.max_delay);
        let half = capped / 2;
        half + half.mul_f64(fastrand::f64())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_forms() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        assert_eq!(parse_retry_after("2", now), Some(Duration::from_secs(2)));
        assert_eq!(
            parse_retry_after("2.128", now),
            Some(Duration::from_millis(2128))
        );
        assert_eq!(
            parse_retry_after(" 0.5 ", now),
            Some(Duration::from_millis(500))
        );
        let later = httpdate::fmt_http_date(now + Duration::from_secs(30));
        assert_eq!(
            parse_retry_after(&later, now),
            Some(Duration::from_secs(30))
        );
        let earlier = httpdate::fmt_http_date(now - Duration::from_secs(30));
        assert_eq!(parse_retry_after(&earlier, now), Some(Duration::ZERO));
        for bad in ["-1", "soon", "", "NaN", "inf", "1e400", "999999999"] {
            assert_eq!(parse_retry_after(bad, now), None, "{bad}");
        }
    }

    #[test]
    fn budget_stops_at_max_retries_and_limits() {
        let policy = RetryPolicy::default()
            .with_max_retries(2)
            .with_max_delay(Duration::from_secs(10))
            .with_max_total_wait(Duration::from_secs(15));
        let mut budget = RetryBudget::new(&policy);
        assert_eq!(
            budget.next_wait(Some(Duration::from_secs(11))),
            None,
            "over max_delay"
        );
        assert_eq!(
            budget.next_wait(Some(Duration::from_secs(8))),
            Some(Duration::from_secs(8))
        );
        assert_eq!(
            budget.next_wait(Some(Duration::from_secs(8))),
            None,
            "over total"
        );
        assert_eq!(
            budget.next_wait(Some(Duration::from_secs(7))),
            Some(Duration::from_secs(7))
        );
        assert_eq!(
            budget.next_wait(Some(Duration::ZERO)),
            None,
            "no retries left"
        );
        assert_eq!(budget.retries_done(), 2);
    }

    #[test]
    fn backoff_doubles_with_jitter_within_bounds() {
        let policy = RetryPolicy::default().with_initial_delay(Duration::from_millis(100));
        let mut budget = RetryBudget::new(&policy);
        for n in 0..3u32 {
            let full = Duration::from_millis(100) * (1 << n);
            let wait = budget.next_wait(None).unwrap();
            assert!(wait >= full / 2 && wait <= full, "retry {n}: {wait:?}");
        }
    }

    #[test]
    fn only_throttling_and_unavailable_are_retried() {
        for s in [429, 503, 504] {
            assert!(is_retryable_status(s));
        }
        for s in [200, 201, 400, 401, 403, 404, 409, 500, 502] {
            assert!(!is_retryable_status(s));
        }
    }
}

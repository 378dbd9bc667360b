//! Living within Graph's limits: [`RateLimit`], the limits a client keeps
//! to (Graph's published Insights limits by default), and the rules on its
//! values. The limiter that enforces them is in `limiter`; how a batch is
//! shaped to fit them, in `shape`.

use std::time::Duration;

use crate::error::ConfigError;

mod limiter;
mod shape;

pub(crate) use limiter::{back_off, Cost, Limiter, SlotWait};
pub(crate) use shape::BatchShape;
pub use shape::ShapeChoice;

/// The longest window accepted: Graph's own are minutes long, and bounding
/// it keeps every instant the limiter computes representable.
const MAX_PER: Duration = Duration::from_secs(24 * 3600);

/// The limits a [`Client`](crate::Client) keeps to: at most `max_concurrent`
/// requests in flight and at most `requests` sent in any `per` (a sliding
/// window, counted exactly), shared by every clone and thread of the client
/// and by `create` and `create_many` alike. Each item of a JSON batch counts
/// as one request, as Graph counts it.
///
/// The default is Graph's published limit for `users/{id}/insights`
/// (usedInsight included): 4 concurrent requests, 10,000 requests per
/// 10 minutes. A client waits for a free slot rather than be throttled; a
/// create that cannot get one within the client's
/// [`timeout`](crate::ClientBuilder::timeout) fails with [`Error::Timeout`](crate::Error::Timeout)
/// and is not sent. Set it with [`ClientBuilder::rate_limit`](crate::ClientBuilder::rate_limit);
/// `None` turns it off.
///
/// ```
/// use std::time::Duration;
/// use used_insight::RateLimit;
/// assert_eq!(RateLimit::default(), RateLimit { max_concurrent: 4, requests: 10_000, per: Duration::from_secs(600) });
/// // Half of Graph's limits, e.g. for two programs sharing one app registration:
/// let half = RateLimit { max_concurrent: 2, requests: 5_000, per: Duration::from_secs(600) };
/// let client = used_insight::Client::builder().token("t").rate_limit(Some(half)).build()?;
/// # Ok::<(), used_insight::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct RateLimit {
    /// Requests in flight at once (each batch item counts). At least 1.
    pub max_concurrent: u32,
    /// Requests sent in any window of length `per`. At least 1.
    pub requests: u32,
    /// The window's length: more than zero, at most a day.
    pub per: Duration,
}

impl RateLimit {
    /// Graph's published Insights service limits: 4 concurrent requests and
    /// 10,000 requests per 10 minutes (the [`Default`]).
    pub const GRAPH_INSIGHTS: RateLimit = RateLimit {
        max_concurrent: 4,
        requests: 10_000,
        per: Duration::from_secs(600),
    };

    /// Checks the values: `max_concurrent` and `requests` at least 1, `per`
    /// more than zero and at most a day. [`ClientBuilder::build`](crate::ClientBuilder::build)
    /// applies the same check.
    ///
    /// ```
    /// use std::time::Duration;
    /// let zero = used_insight::RateLimit { max_concurrent: 0, ..Default::default() };
    /// assert_eq!(zero.check().unwrap_err().to_string(), "rate_limit.max_concurrent must be 1 or more, not 0");
    /// ```
    pub fn check(&self) -> Result<(), ConfigError> {
        for (name, value) in [
            ("max_concurrent", self.max_concurrent),
            ("requests", self.requests),
        ] {
            if value == 0 {
                return Err(ConfigError::new(format!(
                    "rate_limit.{name} must be 1 or more, not 0"
                )));
            }
        }
        if self.per.is_zero() {
            return Err(ConfigError::new("rate_limit.per must be more than zero"));
        }
        if self.per > MAX_PER {
            return Err(too_long(self.per.as_secs_f64()));
        }
        Ok(())
    }

    /// A limit from the values a binding receives (C integers, Python ints
    /// and a float of seconds), checked as [`RateLimit::check`] checks it.
    /// For [`crate::bindings::rate_limit`].
    pub(crate) fn from_parts(
        max_concurrent: i128,
        requests: i128,
        per_seconds: f64,
    ) -> Result<RateLimit, ConfigError> {
        let count = |name: &str, value: i128| {
            u32::try_from(value).map_err(|_| {
                ConfigError::new(format!(
                    "rate_limit.{name} must be 1 or more (at most {}), not {value}",
                    u32::MAX
                ))
            })
        };
        if !per_seconds.is_finite() || per_seconds < 0.0 {
            return Err(ConfigError::new(format!(
                "rate_limit.per must be a number of seconds more than zero, not {per_seconds}"
            )));
        }
        if per_seconds > MAX_PER.as_secs_f64() {
            return Err(too_long(per_seconds));
        }
        let per = Duration::from_secs_f64(per_seconds);
        let limit = RateLimit {
            max_concurrent: count("max_concurrent", max_concurrent)?,
            requests: count("requests", requests)?,
            per,
        };
        limit.check().map(|()| limit)
    }
}

fn too_long(per_seconds: f64) -> ConfigError {
    ConfigError::new(format!(
        "rate_limit.per must be at most {} s (a day), not {per_seconds} s",
        MAX_PER.as_secs()
    ))
}

impl Default for RateLimit {
    fn default() -> Self {
        Self::GRAPH_INSIGHTS
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_is_graphs_insights_limit() {
        let d = RateLimit::default();
        assert_eq!((d.max_concurrent, d.requests), (4, 10_000));
        assert_eq!(d.per, Duration::from_secs(600));
        assert!(d.check().is_ok());
    }

    #[test]
    fn zeros_and_huge_windows_are_refused_with_the_field_named() {
        let d = RateLimit::default();
        let cases = [
            (
                RateLimit { requests: 0, ..d },
                "rate_limit.requests must be 1 or more, not 0",
            ),
            (
                RateLimit {
                    per: Duration::ZERO,
                    ..d
                },
                "rate_limit.per must be more than zero",
            ),
            (
                RateLimit {
                    per: Duration::from_secs(86_401),
                    ..d
                },
                "rate_limit.per must be at most 86400 s (a day), not 86401 s",
            ),
        ];
        for (limit, message) in cases {
            assert_eq!(limit.check().unwrap_err().to_string(), message);
        }
    }

    #[test]
    fn parts_from_bindings() {
        let ok = RateLimit::from_parts(4, 20, 2.5).unwrap();
        assert_eq!(ok.per, Duration::from_millis(2500));
        for (c, r, p, message) in [
            (
                -1,
                20,
                1.0,
                "rate_limit.max_concurrent must be 1 or more (at most 4294967295), not -1",
            ),
            (
                4,
                1 << 40,
                1.0,
                "rate_limit.requests must be 1 or more (at most 4294967295), not 1099511627776",
            ),
            (4, 0, 1.0, "rate_limit.requests must be 1 or more, not 0"),
            (
                4,
                20,
                f64::NAN,
                "rate_limit.per must be a number of seconds more than zero, not NaN",
            ),
            (
                4,
                20,
                -1.0,
                "rate_limit.per must be a number of seconds more than zero, not -1",
            ),
            (4, 20, 0.0, "rate_limit.per must be more than zero"),
            (
                4,
                20,
                1e6,
                "rate_limit.per must be at most 86400 s (a day), not 1000000 s",
            ),
        ] {
            assert_eq!(
                RateLimit::from_parts(c, r, p).unwrap_err().to_string(),
                message
            );
        }
    }
}

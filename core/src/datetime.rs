//! `DateTimeOffset`, Graph's Edm.DateTimeOffset: an instant with the UTC
//! offset it was written in, parsed strictly and written back exactly, to
//! Edm's 100 ns tick.

use std::fmt;
use std::str::FromStr;
use std::time::SystemTime;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use time::format_description::well_known::Rfc3339;
use time::{OffsetDateTime, UtcOffset};

/// Graph's `Edm.DateTimeOffset`: an RFC 3339 date-time with a mandatory
/// offset (`Z` or `±hh:mm`), e.g. `2026-11-28T10:00:00Z` or
/// `2017-01-01T00:00:00.2315436+03:00`.
///
/// Up to seven fractional digits — Edm's resolution of 100 ns ticks — are
/// kept exactly (Graph sends seven, Microsoft's Python SDK six) and written
/// back with trailing zeros trimmed, so no precision is lost in a round
/// trip. More digits are refused rather than sent to a service that cannot
/// hold them. A zero offset is written as `Z`.
/// Equality compares the instant *and* the offset.
///
/// ```
/// use used_insight::DateTimeOffset;
/// let t: DateTimeOffset = "2017-01-01T00:00:00.2315436+03:00".parse()?;
/// assert_eq!(t.to_string(), "2017-01-01T00:00:00.2315436+03:00");
/// assert_eq!(t.offset_seconds(), 3 * 3600);
/// # Ok::<(), used_insight::DateTimeError>(())
/// ```
#[derive(Clone, Copy)]
pub struct DateTimeOffset(OffsetDateTime);

impl PartialEq for DateTimeOffset {
    fn eq(&self, other: &Self) -> bool {
        self.0 == other.0 && self.0.offset() == other.0.offset()
    }
}

impl Eq for DateTimeOffset {}

impl std::hash::Hash for DateTimeOffset {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.unix_nanos().hash(state);
        self.offset_seconds().hash(state);
    }
}

/// Why a text or a timestamp is not a valid [`DateTimeOffset`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DateTimeError {
    reason: String,
}

impl DateTimeError {
    fn new(reason: impl Into<String>) -> Self {
        Self {
            reason: reason.into(),
        }
    }
}

impl fmt::Display for DateTimeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.reason)
    }
}

impl std::error::Error for DateTimeError {}

/// Most fractional digits Edm.DateTimeOffset holds: 100 ns ticks.
const MAX_FRACTION_DIGITS: usize = 7;
const TICK_NANOS: i128 = 100;

/// Truncates to whole 100 ns ticks, Edm's resolution.
fn to_tick(value: OffsetDateTime) -> OffsetDateTime {
    let nanos = value.nanosecond();
    value
        .replace_nanosecond(nanos - nanos % TICK_NANOS as u32)
        .unwrap_or(value)
}

impl DateTimeOffset {
    /// Parses an Edm.DateTimeOffset. The offset is required: a date-time
    /// without one names no instant, so it is refused rather than guessed.
    pub fn parse(text: &str) -> Result<Self, DateTimeError> {
        check_shape(text)?;
        OffsetDateTime::parse(text, &Rfc3339)
            .map(Self)
            .map_err(|e| DateTimeError::new(format!("`{text}` is not a valid date-time: {e}")))
    }

    /// The current instant, in UTC, to the 100 ns tick.
    pub fn now_utc() -> Self {
        Self(to_tick(OffsetDateTime::now_utc()))
    }

    /// An instant given as nanoseconds since the Unix epoch, to be written
    /// with the given UTC offset in seconds (whole minutes only, less than
    /// 24 hours, as RFC 3339 requires). Years 1 to 9999 are accepted. A
    /// finer reading than Edm's 100 ns tick is truncated to the tick.
    ///
    /// ```
    /// use used_insight::DateTimeOffset;
    /// let t = DateTimeOffset::from_unix_nanos(1_700_000_000_500_000_000, 3600)?;
    /// assert_eq!(t.to_string(), "2023-11-14T23:13:20.5+01:00");
    /// # Ok::<(), used_insight::DateTimeError>(())
    /// ```
    pub fn from_unix_nanos(nanos: i128, offset_seconds: i32) -> Result<Self, DateTimeError> {
        if offset_seconds % 60 != 0 {
            return Err(DateTimeError::new(
                "a UTC offset must be whole minutes (RFC 3339 has no offset seconds)",
            ));
        }
        let offset = UtcOffset::from_whole_seconds(offset_seconds)
            .ok()
            .filter(|_| offset_seconds.abs() < 24 * 3600)
            .ok_or_else(|| DateTimeError::new("a UTC offset must be less than 24 hours"))?;
        let instant = OffsetDateTime::from_unix_timestamp_nanos(nanos)
            .map_err(|_| DateTimeError::new("the instant is outside years 1 to 9999"))?;
        let value = to_tick(instant.to_offset(offset));
        if value.year() < 1 {
            return Err(DateTimeError::new("the instant is outside years 1 to 9999"));
        }
        Ok(Self(value))
    }

    /// The instant as nanoseconds since the Unix epoch.
    pub fn unix_nanos(&self) -> i128 {
        self.0.unix_timestamp_nanos()
    }

    /// The UTC offset it is written with, in seconds east of UTC.
    pub fn offset_seconds(&self) -> i32 {
        self.0.offset().whole_seconds()
    }
}

/// What `time`'s RFC 3339 parser is lenient about and Edm.DateTimeOffset is not:
/// the `T` separator, and fractions longer than an instant can hold.
fn check_shape(text: &str) -> Result<(), DateTimeError> {
    let bytes = text.as_bytes();
    if bytes.len() < 20 || !matches!(bytes[10], b'T' | b't') {
        return Err(DateTimeError::new(format!(
            "`{text}` is not an RFC 3339 date-time with an offset, like 2026-11-28T10:00:00Z"
        )));
    }
    if bytes.get(19) == Some(&b'.') {
        let digits = bytes[20..]
            .iter()
            .take_while(|b| b.is_ascii_digit())
            .count();
        if digits > MAX_FRACTION_DIGITS {
            return Err(DateTimeError::new(format!(
                "`{text}` has {digits} fractional digits; at most {MAX_FRACTION_DIGITS} are allowed"
            )));
        }
    }
    Ok(())
}

impl From<SystemTime> for DateTimeOffset {
    /// Converts to UTC, truncated to Edm's 100 ns tick.
    fn from(value: SystemTime) -> Self {
        Self(to_tick(OffsetDateTime::from(value)))
    }
}

impl From<DateTimeOffset> for SystemTime {
    fn from(value: DateTimeOffset) -> Self {
        value.0.into()
    }
}

impl FromStr for DateTimeOffset {
    type Err = DateTimeError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl fmt::Display for DateTimeOffset {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Construction guarantees years 1..=9999 and whole-minute offsets,
        // the only things RFC 3339 formatting can refuse.
        match self.0.format(&Rfc3339) {
            Ok(text) => f.write_str(&text),
            Err(_) => Err(fmt::Error),
        }
    }
}

impl fmt::Debug for DateTimeOffset {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "DateTimeOffset({self})")
    }
}

impl Serialize for DateTimeOffset {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for DateTimeOffset {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = std::borrow::Cow::<str>::deserialize(deserializer)?;
        Self::parse(&text).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round_trip(text: &str) -> String {
        DateTimeOffset::parse(text).unwrap().to_string()
    }

    #[test]
    fn keeps_seven_fractional_digits_and_the_offset() {
        assert_eq!(
            round_trip("2017-01-01T00:00:00.2315436+03:00"),
            "2017-01-01T00:00:00.2315436+03:00"
        );
    }

    #[test]
    fn accepts_python_sdk_form_and_writes_zero_offset_as_z() {
        assert_eq!(
            round_trip("2024-01-02T03:04:05.123456+00:00"),
            "2024-01-02T03:04:05.123456Z"
        );
        assert_eq!(
            round_trip("2024-01-01T00:00:00+00:00"),
            "2024-01-01T00:00:00Z"
        );
    }

    #[test]
    fn accepts_year_one_which_graph_uses_for_unknown() {
        assert_eq!(round_trip("0001-01-01T00:00:00Z"), "0001-01-01T00:00:00Z");
    }

    #[test]
    fn refuses_missing_offset_space_separator_and_overlong_fraction() {
        for bad in [
            "2024-01-01T00:00:00",
            "2024-01-01 00:00:00Z",
            "2024-01-01T00:00:00.1234567890Z",
            "2024-01-01T00:00:00.12345678Z",
            "2024-13-01T00:00:00Z",
            "yesterday",
            "",
        ] {
            assert!(DateTimeOffset::parse(bad).is_err(), "{bad} was accepted");
        }
    }

    #[test]
    fn from_unix_nanos_refuses_offset_seconds_and_out_of_range() {
        assert!(DateTimeOffset::from_unix_nanos(0, 30).is_err());
        assert!(DateTimeOffset::from_unix_nanos(0, 24 * 3600).is_err());
        assert!(DateTimeOffset::from_unix_nanos(i128::MAX, 0).is_err());
        let t = DateTimeOffset::from_unix_nanos(123_456_789, 0).unwrap();
        assert_eq!(
            t.to_string(),
            "1970-01-01T00:00:00.1234567Z",
            "truncated to the tick"
        );
        let t = DateTimeOffset::from_unix_nanos(0, -5 * 3600).unwrap();
        assert_eq!(t.to_string(), "1969-12-31T19:00:00-05:00");
        assert_eq!(t.unix_nanos(), 0);
    }
}

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
        let value = OffsetDateTime::parse(text, &Rfc3339)
            .map_err(|e| DateTimeError::new(format!("`{text}` is not a valid date-time: {e}")))?;
        if !in_edm_range(value) {
            return Err(DateTimeError::new(format!(
                "`{text}` is outside years 1 to 9999 (as written or in UTC)"
            )));
        }
        Ok(Self(value))
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
        OffsetDateTime::from_unix_timestamp_nanos(nanos)
            .ok()
            .and_then(|instant| instant.checked_to_offset(offset))
            .map(to_tick)
            .filter(|value| in_edm_range(*value))
            .map(Self)
            .ok_or_else(|| {
                DateTimeError::new("the instant is outside years 1 to 9999 (as written or in UTC)")
            })
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

/// Whether Edm.DateTimeOffset — .NET's `DateTimeOffset`, which Graph
/// parses into — holds the value: years 1 to 9999 both as written and in
/// UTC. (RFC 3339 has a year 0, and `9999-12-31T23:00:00-05:00` is in the
/// year 10000 in UTC.)
fn in_edm_range(value: OffsetDateTime) -> bool {
    const YEARS: std::ops::RangeInclusive<i32> = 1..=9999;
    YEARS.contains(&value.year())
        && value
            .checked_to_offset(UtcOffset::UTC)
            .is_some_and(|utc| YEARS.contains(&utc.year()))
}

/// What `time`'s RFC 3339 parser is lenient about and Edm.DateTimeOffset is not:
/// the `T` separator, fractions longer than an instant can hold, and leap
/// seconds (`23:59:60`, which `time` reads as `23:59:59.999999999`: nine
/// digits, which would then not parse again).
fn check_shape(text: &str) -> Result<(), DateTimeError> {
    let bytes = text.as_bytes();
    if bytes.len() < 20 || !matches!(bytes[10], b'T' | b't') {
        return Err(DateTimeError::new(format!(
            "`{text}` is not an RFC 3339 date-time with an offset, like 2026-11-28T10:00:00Z"
        )));
    }
    if &bytes[17..19] == b"60" {
        return Err(DateTimeError::new(format!(
            "`{text}` is a leap second, which Edm.DateTimeOffset cannot hold"
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

/// Longest RFC 3339 text written: `9999-12-31T23:59:59.999999999+23:59`.
const MAX_TEXT_LEN: usize = 35;

/// A date-time's RFC 3339 text, written on the stack.
pub(crate) struct Rfc3339Text {
    bytes: [u8; MAX_TEXT_LEN],
    len: usize,
}

impl Rfc3339Text {
    pub(crate) fn as_str(&self) -> &str {
        // Only ASCII digits and separators are ever written.
        std::str::from_utf8(&self.bytes[..self.len]).unwrap_or_default()
    }

    fn push(&mut self, byte: u8) {
        self.bytes[self.len] = byte;
        self.len += 1;
    }

    fn push_two_digits(&mut self, value: u8) {
        self.push(b'0' + value / 10);
        self.push(b'0' + value % 10);
    }
}

impl DateTimeOffset {
    /// The RFC 3339 text, byte for byte what `time`'s `Rfc3339` formatter
    /// writes (a unit test holds it there), without its formatting
    /// machinery: every create writes two or three of these. `None` only
    /// for what `time` refuses too (a year outside 0..=9999, an offset with
    /// seconds), which construction rules out.
    pub(crate) fn rfc3339(&self) -> Option<Rfc3339Text> {
        let value = self.0;
        let year = value.year();
        let offset = value.offset().whole_seconds();
        if !(0..10_000).contains(&year) || offset % 60 != 0 || offset.abs() >= 24 * 3600 {
            return None;
        }
        let mut text = Rfc3339Text {
            bytes: [0; MAX_TEXT_LEN],
            len: 0,
        };
        let year = year as u16; // 0..10_000, checked above
        text.push_two_digits((year / 100) as u8);
        text.push_two_digits((year % 100) as u8);
        text.push(b'-');
        text.push_two_digits(u8::from(value.month()));
        text.push(b'-');
        text.push_two_digits(value.day());
        text.push(b'T');
        text.push_two_digits(value.hour());
        text.push(b':');
        text.push_two_digits(value.minute());
        text.push(b':');
        text.push_two_digits(value.second());
        let mut nanos = value.nanosecond();
        if nanos != 0 {
            text.push(b'.');
            let start = text.len;
            text.len += 9;
            for slot in text.bytes[start..text.len].iter_mut().rev() {
                *slot = b'0' + (nanos % 10) as u8;
                nanos /= 10;
            }
            // Trailing zeros trimmed; a digit before them is not zero.
            while text.bytes[text.len - 1] == b'0' {
                text.len -= 1;
            }
        }
        if offset == 0 {
            text.push(b'Z');
        } else {
            text.push(if offset < 0 { b'-' } else { b'+' });
            let minutes = offset.unsigned_abs() / 60;
            text.push_two_digits((minutes / 60) as u8);
            text.push(b':');
            text.push_two_digits((minutes % 60) as u8);
        }
        Some(text)
    }
}

impl fmt::Display for DateTimeOffset {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Construction guarantees years 1..=9999 and whole-minute offsets,
        // the only things RFC 3339 formatting can refuse.
        match self.rfc3339() {
            Some(text) => f.write_str(text.as_str()),
            None => Err(fmt::Error),
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
        match self.rfc3339() {
            Some(text) => serializer.serialize_str(text.as_str()),
            None => Err(serde::ser::Error::custom(
                "a date-time RFC 3339 cannot write",
            )),
        }
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

    /// Found by the `datetime` fuzz target (fuzz/) and while writing it:
    /// these parsed, and did not round-trip — year 0 and a UTC instant
    /// past 9999 are refused by `from_unix_nanos` (and by .NET, which Graph
    /// parses with), a leap second was written as `…23:59:59.999999999Z`,
    /// nine digits, which do not parse.
    #[test]
    fn refuses_year_zero_and_leap_seconds_which_do_not_round_trip() {
        for (bad, reason) in [
            ("0000-01-01T00:00:00Z", "outside years 1 to 9999"),
            (
                "0000-12-31T23:59:59.9999999-01:00",
                "outside years 1 to 9999",
            ),
            ("9999-12-31T23:59:59.1-05:30", "outside years 1 to 9999"),
            ("0001-01-01T00:30:00+01:00", "outside years 1 to 9999"),
            ("2016-12-31T23:59:60Z", "leap second"),
            ("2016-12-31T23:59:60.5+00:00", "leap second"),
        ] {
            let err = DateTimeOffset::parse(bad).expect_err(bad).to_string();
            assert!(err.contains(reason) && err.contains(bad), "{bad}: {err}");
        }
        assert_eq!(
            round_trip("2016-12-31T23:59:59.9999999Z"),
            "2016-12-31T23:59:59.9999999Z"
        );
        for edge in [
            "9999-12-31T23:59:59.9999999Z",
            "9999-12-31T23:59:59+05:30",
            "0001-01-01T00:00:00-01:00",
        ] {
            assert_eq!(round_trip(edge), edge);
        }
    }

    /// Found while writing the `datetime` fuzz target (its
    /// `from_unix_nanos` half covers it now): a valid instant whose offset
    /// moves it past 9999 panicked in `time`'s `to_offset`.
    #[test]
    fn from_unix_nanos_refuses_what_its_offset_moves_out_of_range() {
        let last_second = 253_402_300_799 * 1_000_000_000; // 9999-12-31T23:59:59Z
        assert_eq!(
            DateTimeOffset::from_unix_nanos(last_second, -3600)
                .unwrap()
                .to_string(),
            "9999-12-31T22:59:59-01:00"
        );
        for offset in [3600, 23 * 3600 + 59 * 60] {
            let err = DateTimeOffset::from_unix_nanos(last_second, offset).unwrap_err();
            assert!(err.to_string().contains("years 1 to 9999"), "{err}");
        }
        let first = -62_135_596_800 * 1_000_000_000; // 0001-01-01T00:00:00Z
        assert!(DateTimeOffset::from_unix_nanos(first, -60).is_err());
        assert!(DateTimeOffset::from_unix_nanos(first - 1, 3600).is_err());
    }

    #[test]
    fn the_text_is_what_times_rfc3339_formatter_writes() {
        let mut rng = fastrand::Rng::with_seed(3339);
        let range = OffsetDateTime::new_utc(
            time::Date::from_calendar_date(1, time::Month::January, 2).unwrap(),
            time::Time::MIDNIGHT,
        )
        .unix_timestamp_nanos()
            ..=time::macros::datetime!(9999-12-30 0:00 UTC).unix_timestamp_nanos();
        for i in 0..20_000 {
            let nanos = rng.i128(range.clone());
            // Whole seconds, whole ticks, and any nanosecond (parsed text
            // never has more than 7 digits, but the writer trims any).
            let nanos = match i % 3 {
                0 => nanos - nanos.rem_euclid(1_000_000_000),
                1 => nanos - nanos.rem_euclid(100),
                _ => nanos,
            };
            let offset = match i % 4 {
                0 => 0,
                _ => rng.i32(-(23 * 60 + 59)..=23 * 60 + 59) * 60,
            };
            let value = OffsetDateTime::from_unix_timestamp_nanos(nanos)
                .unwrap()
                .to_offset(UtcOffset::from_whole_seconds(offset).unwrap());
            let ours = DateTimeOffset(value).to_string();
            assert_eq!(ours, value.format(&Rfc3339).unwrap(), "{nanos} {offset}");
        }
        let year_zero = time::macros::datetime!(0000-03-01 12:30:00.5 -00:30);
        assert_eq!(
            DateTimeOffset(year_zero).to_string(),
            year_zero.format(&Rfc3339).unwrap()
        );
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

//! Properties that hold for every input, checked on many generated ones
//! (proptest): a valid model round-trips through JSON unchanged, a user id
//! is always exactly one path segment that decodes back to it, and a
//! date-time text that parses is written back as the same instant with the
//! same precision. A failing case is shrunk to a small one and printed;
//! proptest keeps its seed in `proptest-regressions/` to replay it first.

use std::collections::BTreeMap;

use proptest::prelude::*;
use used_insight::fuzzing::create_path;
use used_insight::{
    validate_user_id, DateTimeOffset, Model, RawJson, ResourceReference, ResourceVisualization,
    UsageDetails, UsedInsight,
};

// ------------------------------------------------------------ generators

/// Any text: every Unicode scalar value, control characters included
/// (JSON escapes them).
fn any_text(max: usize) -> impl Strategy<Value = String> {
    proptest::collection::vec(any::<char>(), 0..max).prop_map(String::from_iter)
}

/// Text without control characters (identifiers).
fn id_text() -> impl Strategy<Value = String> {
    any_text(30).prop_map(|s| s.chars().filter(|c| !c.is_control()).collect())
}

/// An absolute http(s) URL: any case of the scheme, a host, maybe a port,
/// a path and query of RFC 3986 characters and `%XX` escapes.
fn url() -> impl Strategy<Value = String> {
    (
        prop_oneof!["http", "https", "HTTPS", "Http"],
        "[a-z0-9][a-z0-9.-]{0,20}",
        proptest::option::of(1u16..),
        proptest::collection::vec(
            prop_oneof![
                "[A-Za-z0-9._~!$&'()*+,;=:@-]{1,12}",
                "%[0-9A-Fa-f]{2}",
                Just("/".to_owned()),
                Just("?".to_owned()),
            ],
            0..8,
        ),
    )
        .prop_map(|(scheme, host, port, tail)| {
            let port = port.map(|p| format!(":{p}")).unwrap_or_default();
            format!("{scheme}://{host}{port}/{}", tail.concat())
        })
}

/// The parts of an RFC 3339 date-time, written out as text.
#[derive(Debug, Clone)]
struct DateTimeText {
    year: i32,
    month: u8,
    day: u8,
    hour: u8,
    minute: u8,
    second: u8,
    /// Fractional digits as written (0 to 9 of them; more than 7 are refused).
    fraction: String,
    /// `None` for `Z` (or `z`), else minutes east of UTC.
    offset_minutes: Option<i32>,
    lowercase: bool,
}

impl DateTimeText {
    fn text(&self) -> String {
        let fraction = if self.fraction.is_empty() {
            String::new()
        } else {
            format!(".{}", self.fraction)
        };
        let offset = match self.offset_minutes {
            None if self.lowercase => "z".to_owned(),
            None => "Z".to_owned(),
            Some(m) => {
                let sign = if m < 0 { '-' } else { '+' };
                format!("{sign}{:02}:{:02}", m.abs() / 60, m.abs() % 60)
            }
        };
        let t = if self.lowercase { 't' } else { 'T' };
        format!(
            "{:04}-{:02}-{:02}{t}{:02}:{:02}:{:02}{fraction}{offset}",
            self.year, self.month, self.day, self.hour, self.minute, self.second
        )
    }

    /// Nanoseconds since the Unix epoch, computed from the parts alone
    /// (Howard Hinnant's `days_from_civil`), not by the parser under test.
    fn unix_nanos(&self) -> i128 {
        let y = i64::from(self.year) - i64::from(self.month <= 2);
        let era = y.div_euclid(400);
        let yoe = y - era * 400;
        let m = i64::from(self.month);
        let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(self.day) - 1;
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
        let days = era * 146_097 + doe - 719_468;
        let seconds = days * 86_400
            + i64::from(self.hour) * 3600
            + i64::from(self.minute) * 60
            + i64::from(self.second)
            - i64::from(self.offset_minutes.unwrap_or(0)) * 60;
        let mut digits = self.fraction.clone();
        digits.truncate(9);
        while digits.len() < 9 {
            digits.push('0');
        }
        i128::from(seconds) * 1_000_000_000 + digits.parse::<i128>().unwrap_or(0)
    }
}

fn days_in(year: i32, month: u8) -> u8 {
    match month {
        4 | 6 | 9 | 11 => 30,
        2 if year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) => 29,
        2 => 28,
        _ => 31,
    }
}

/// Date-time texts around and beyond Edm's limits: years 0 to 9999, leap
/// days, second 60, up to 9 fractional digits, offsets up to ±23:59.
fn datetime_text() -> impl Strategy<Value = DateTimeText> {
    (
        prop_oneof![0i32..=9999, Just(1), Just(9999), Just(0)],
        1u8..=12,
        1u8..=31,
        (0u8..24, 0u8..60, prop_oneof![0u8..60, Just(60)]),
        "[0-9]{0,9}",
        proptest::option::of(-(23 * 60 + 59)..=(23 * 60 + 59)),
        any::<bool>(),
    )
        .prop_map(
            |(year, month, day, (hour, minute, second), fraction, offset_minutes, lowercase)| {
                DateTimeText {
                    year,
                    month,
                    day: day.min(days_in(year, month)),
                    hour,
                    minute,
                    second,
                    fraction,
                    offset_minutes,
                    lowercase,
                }
            },
        )
}

/// A valid date-time: one of the texts above that parses.
fn datetime() -> impl Strategy<Value = DateTimeOffset> {
    datetime_text().prop_filter_map("outside what Edm holds", |t| {
        DateTimeOffset::parse(&t.text()).ok()
    })
}

/// JSON text of any shape, written as a person or another service might:
/// numbers Rust would write otherwise (`1.50`, `1E3`, `-0`), escapes,
/// spaces between tokens, nesting.
fn json_text() -> impl Strategy<Value = String> {
    let leaf = prop_oneof![
        Just("null".to_owned()),
        Just("true".to_owned()),
        Just("false".to_owned()),
        "-?(0|[1-9][0-9]{0,6})(\\.[0-9]{1,4})?([eE][+-]?[0-9]{1,2})?",
        any_text(12).prop_map(|s| serde_json::to_string(&s).expect("a string writes")),
        Just(r#""caf\u00e9 \"q\" \/ \ud83d\ude00""#.to_owned()),
    ];
    leaf.prop_recursive(3, 24, 4, |inner| {
        let space = prop_oneof![Just(""), Just(" "), Just("\n  ")];
        prop_oneof![
            (
                proptest::collection::vec(inner.clone(), 0..4),
                space.clone()
            )
                .prop_map(|(items, s)| format!("[{s}{}{s}]", items.join(&format!(",{s}")))),
            (proptest::collection::vec((any_text(6), inner), 0..4), space).prop_map(
                |(members, s)| {
                    let members: Vec<String> = members
                        .into_iter()
                        .map(|(k, v)| format!("{}{s}:{s}{v}", serde_json::to_string(&k).unwrap()))
                        .collect();
                    format!("{{{s}{}{s}}}", members.join(&format!(",{s}")))
                }
            ),
        ]
    })
}

/// Properties a model does not know: any names but its own properties'
/// and `@odata.type`, any JSON values.
fn unknown_properties<M: Model>() -> impl Strategy<Value = BTreeMap<String, RawJson>> {
    proptest::collection::btree_map(any_text(10), json_text(), 0..3).prop_map(|map| {
        map.into_iter()
            .filter(|(k, _)| k != "@odata.type" && M::MODEL.field(k).is_none())
            .map(|(k, v)| (k, RawJson::new(v).expect("generated JSON is valid")))
            .collect()
    })
}

fn usage_details() -> impl Strategy<Value = UsageDetails> {
    (
        proptest::option::of(datetime()),
        proptest::option::of(datetime()),
        unknown_properties::<UsageDetails>(),
    )
        .prop_map(|(accessed, modified, additional_data)| UsageDetails {
            last_accessed_date_time: accessed,
            last_modified_date_time: modified,
            additional_data,
        })
}

fn resource_visualization() -> impl Strategy<Value = ResourceVisualization> {
    let text = || proptest::option::of(any_text(40));
    (
        (text(), text(), text(), proptest::option::of(url())),
        (text(), proptest::option::of(url()), text(), text()),
        unknown_properties::<ResourceVisualization>(),
    )
        .prop_map(
            |(
                (title, r#type, media_type, preview_image_url),
                (preview_text, container_web_url, container_display_name, container_type),
                additional_data,
            )| ResourceVisualization {
                title,
                r#type,
                media_type,
                preview_image_url,
                preview_text,
                container_web_url,
                container_display_name,
                container_type,
                additional_data,
            },
        )
}

fn resource_reference() -> impl Strategy<Value = ResourceReference> {
    (
        proptest::option::of(url()),
        proptest::option::of(any_text(40)),
        proptest::option::of(any_text(40)),
        unknown_properties::<ResourceReference>(),
    )
        .prop_map(|(web_url, id, r#type, additional_data)| ResourceReference {
            web_url,
            id,
            r#type,
            additional_data,
        })
}

/// A valid usedInsight: the three required objects, anything else
/// optional, unknown properties at every level.
fn insight() -> impl Strategy<Value = UsedInsight> {
    (
        proptest::option::of(id_text()),
        usage_details(),
        resource_visualization(),
        resource_reference(),
        unknown_properties::<UsedInsight>(),
    )
        .prop_map(
            |(id, last_used, visualization, reference, additional_data)| UsedInsight {
                id,
                last_used: Some(last_used),
                resource_visualization: Some(visualization),
                resource_reference: Some(reference),
                additional_data,
            },
        )
}

// ------------------------------------------------------------ properties

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    /// Written and read back, a valid usedInsight is the same value, and
    /// is written the same again: nothing lost, nothing added (unknown
    /// properties byte for byte, 7-digit fractions, offsets).
    #[test]
    fn a_valid_model_round_trips_through_json(insight in insight()) {
        prop_assert!(insight.validate().is_ok(), "{:?}", insight.validate());
        let json = insight.to_json();
        let read = UsedInsight::from_json(&json);
        prop_assert_eq!(read.as_ref().ok(), Some(&insight), "{}", json);
        prop_assert_eq!(read.map(|r| r.to_json()).ok(), Some(json));
    }

    /// Any user id is exactly one path segment of the create URL, and
    /// percent-decodes back to itself.
    #[test]
    fn a_user_id_is_one_segment_that_decodes_back(user_id in any_text(40)) {
        let path = create_path(&user_id);
        let segment = path
            .strip_prefix("/users/")
            .and_then(|p| p.strip_suffix("/insights/used"))
            .expect("the fixed parts of the path");
        prop_assert!(!segment.contains(['/', '?', '#']) && segment.is_ascii(), "{}", segment);
        let decoded = percent_encoding::percent_decode_str(segment).decode_utf8();
        prop_assert_eq!(decoded.as_deref().ok(), Some(user_id.as_str()));
        if validate_user_id(&user_id).is_ok() {
            prop_assert!(segment != "." && segment != "..");
        }
    }

    /// A date-time text that parses is the instant its parts name, and is
    /// written back as that instant and offset with the same fractional
    /// digits (trailing zeros trimmed), which parses to the same value.
    #[test]
    fn a_datetime_text_that_parses_formats_back_to_the_same_instant(t in datetime_text()) {
        let text = t.text();
        let Ok(parsed) = DateTimeOffset::parse(&text) else {
            // Refused only for what Edm.DateTimeOffset cannot hold.
            let utc_year_ok = {
                let days = t.unix_nanos().div_euclid(86_400 * 1_000_000_000);
                (-719_162..=2_932_896).contains(&days) // 0001-01-01 to 9999-12-31
            };
            prop_assert!(
                t.year == 0 || t.second == 60 || t.fraction.len() > 7 || !utc_year_ok,
                "{} was refused", text
            );
            return Ok(());
        };
        prop_assert_eq!(parsed.unix_nanos(), t.unix_nanos(), "{}", text);
        prop_assert_eq!(parsed.offset_seconds(), t.offset_minutes.unwrap_or(0) * 60);
        let written = parsed.to_string();
        let digits: String = written
            .split_once('.')
            .map(|(_, rest)| rest.chars().take_while(char::is_ascii_digit).collect())
            .unwrap_or_default();
        prop_assert_eq!(digits, t.fraction.trim_end_matches('0'), "{} -> {}", text, written);
        prop_assert_eq!(DateTimeOffset::parse(&written).ok(), Some(parsed));
    }
}

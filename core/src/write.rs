//! Writing the models as compact JSON: byte for byte what `serde_json`
//! writes through their `Serialize` impls (the tests hold it there), but
//! without serde's machinery — every create writes one body, and escaping
//! each byte through serde_json's table was the largest part of preparing
//! it. Property names are the models' own literals, which need no escaping;
//! string values are copied as they are unless they hold a byte JSON must
//! escape, and then serde_json writes them.

use crate::bytes::every_byte;
use crate::{DateTimeOffset, RawJson};

/// A value written into a model's JSON.
pub(crate) trait WriteJson {
    /// Appends the value's JSON.
    fn write_json(&self, out: &mut String);
    /// About how many bytes [`WriteJson::write_json`] appends, to size the
    /// buffer once.
    fn json_len_hint(&self) -> usize;
}

impl WriteJson for String {
    fn write_json(&self, out: &mut String) {
        write_str(out, self);
    }
    fn json_len_hint(&self) -> usize {
        self.len() + 2
    }
}

impl WriteJson for DateTimeOffset {
    fn write_json(&self, out: &mut String) {
        match self.rfc3339() {
            Some(text) => {
                out.push('"');
                out.push_str(text.as_str());
                out.push('"');
            }
            // What construction rules out; serde's path handles it as it did.
            None => out.push_str(&serde_json::to_string(self).unwrap_or_default()),
        }
    }
    fn json_len_hint(&self) -> usize {
        30
    }
}

/// Appends the kept unknown properties, each `,"key":value` with the value
/// as it was written.
pub(crate) fn write_additional(
    out: &mut String,
    additional: &std::collections::BTreeMap<String, RawJson>,
) {
    for (key, value) in additional {
        out.push(',');
        write_str(out, key);
        out.push(':');
        out.push_str(value.as_str());
    }
}

/// Appends a JSON string: the text between quotes as it is when no byte
/// needs escaping, otherwise serde_json's own escaping.
pub(crate) fn write_str(out: &mut String, text: &str) {
    if !every_byte(text.as_bytes(), b'a', |b| {
        (b >= 0x20) & (b != b'"') & (b != b'\\')
    }) {
        // Cannot fail: a `str` always serializes.
        out.push_str(&serde_json::to_string(text).unwrap_or_default());
    } else {
        out.push('"');
        out.push_str(text);
        out.push('"');
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_are_written_as_serde_json_writes_them() {
        let mut samples: Vec<String> = vec![
            String::new(),
            "plain".into(),
            "a\"b".into(),
            "back\\slash".into(),
            "tab\there, line\nbreak\r, \u{8}\u{c}".into(),
            "\u{0}\u{1f}\u{7f}".into(),
            "tökén ✓ 𝄞".into(),
            "x".repeat(40) + "\"",
            "y".repeat(33) + "\u{1}" + &"z".repeat(10),
        ];
        for b in 0u8..0x80 {
            let c = char::from(b);
            samples.push(format!("{c}"));
            samples.push(format!("{}{c}{}", "p".repeat(15), "q".repeat(20)));
        }
        for text in &samples {
            let mut out = String::new();
            write_str(&mut out, text);
            assert_eq!(out, serde_json::to_string(text).unwrap(), "{text:?}");
        }
    }

    #[test]
    fn models_are_written_as_serde_json_writes_them() {
        use crate::UsedInsight;
        let full = r##"{"@odata.context":"https://graph/$metadata#x","@odata.type":"#microsoft.graph.usedInsight","id":"i\"d","lastUsed":{"lastAccessedDateTime":"2017-01-01T00:00:00.2315436+03:00","lastModifiedDateTime":"0001-01-01T00:00:00Z","extra":[1, 2.50]},"resourceVisualization":{"title":"Quarterly \u0001 report ✓","type":"Word","mediaType":"m","previewImageUrl":"https://a/p.png","previewText":"","containerWebUrl":"https://a/","containerDisplayName":"F","containerType":"Site","z\nkey":null},"resourceReference":{"webUrl":"https://a/x.docx","id":"drives/b!abc","type":"microsoft.graph.driveItem"},"zz":{"a" : true}}"##;
        let samples = [
            full,
            "{}",
            r#"{"lastUsed":{}}"#,
            r#"{"resourceReference":{"id":"x"},"b":1,"a":"\\"}"#,
        ];
        for json in samples {
            let insight = UsedInsight::from_json(json).unwrap();
            let ours = insight.to_json();
            assert_eq!(ours, serde_json::to_string(&insight).unwrap());
            assert_eq!(UsedInsight::from_json(&ours).unwrap(), insight);
        }
    }
}

//! Request parameters: an `application/x-www-form-urlencoded` body (token
//! endpoint) or a query string (managed identity endpoints).

use percent_encoding::percent_decode_str;

use super::error::EntraError;

/// Decoded `name=value` pairs, in order.
pub(crate) struct Params(Vec<(String, String)>);

impl Params {
    /// Decodes `a=1&b=x+y` (`+` is a space, `%XX` escapes; invalid UTF-8 is
    /// replaced).
    pub(crate) fn parse(text: &str) -> Params {
        let decode = |s: &str| {
            percent_decode_str(&s.replace('+', " "))
                .decode_utf8_lossy()
                .into_owned()
        };
        Params(
            text.split('&')
                .filter(|pair| !pair.is_empty())
                .map(|pair| {
                    let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
                    (decode(name), decode(value))
                })
                .collect(),
        )
    }

    /// A form body; any content type but `application/x-www-form-urlencoded`
    /// reads as an empty form (Entra then misses `grant_type`).
    pub(crate) fn form(content_type: Option<&str>, body: &[u8]) -> Params {
        let is_form = content_type.is_some_and(|ct| {
            ct.split(';')
                .next()
                .unwrap_or("")
                .trim()
                .eq_ignore_ascii_case("application/x-www-form-urlencoded")
        });
        if is_form {
            Params::parse(&String::from_utf8_lossy(body))
        } else {
            Params(Vec::new())
        }
    }

    /// The first non-empty value of a parameter (an empty one counts as
    /// missing, as for Entra).
    pub(crate) fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(n, v)| n == name && !v.is_empty())
            .map(|(_, v)| v.as_str())
    }

    /// [`Params::get`], or Entra's AADSTS900144 naming the parameter.
    pub(crate) fn require(&self, name: &str) -> Result<&str, EntraError> {
        self.get(name)
            .ok_or_else(|| EntraError::missing_parameter(name))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decoding() {
        let form = Params::form(
            Some("application/x-www-form-urlencoded; charset=utf-8"),
            b"a=1&scope=https%3A%2F%2Fgraph.microsoft.com%2F.default&b=x+y&empty=&a=2",
        );
        assert_eq!(form.get("a"), Some("1"));
        assert_eq!(
            form.get("scope"),
            Some("https://graph.microsoft.com/.default")
        );
        assert_eq!(form.get("b"), Some("x y"));
        assert_eq!(form.get("empty"), None);
        assert_eq!(form.require("empty").unwrap_err().code, 900144);
        assert!(Params::form(Some("application/json"), b"a=1")
            .get("a")
            .is_none());
        assert!(Params::form(None, b"a=1").get("a").is_none());
    }
}

//! Reading credentials' environment variables: the process environment
//! for callers, a table in tests (so no test changes its own process's
//! environment). An empty value counts as unset, as in azure-identity.

use crate::error::ConfigError;

/// A source of variables.
pub(crate) type Vars<'a> = &'a dyn Fn(&str) -> Option<String>;

/// The process environment.
pub(crate) fn process(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

/// Why variables do not make a credential.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum EnvProblem {
    /// Not configured: these are not set.
    Missing(Vec<&'static str>),
    /// Configured, wrongly.
    Invalid(ConfigError),
}

impl EnvProblem {
    /// In words: `AZURE_TENANT_ID and AZURE_CLIENT_ID are not set`.
    pub(crate) fn describe(&self) -> String {
        match self {
            EnvProblem::Missing(names) => match names.as_slice() {
                [one] => format!("{one} is not set"),
                [init @ .., last] => format!("{} and {last} are not set", init.join(", ")),
                [] => "not configured".to_owned(),
            },
            EnvProblem::Invalid(e) => e.message.clone(),
        }
    }

    pub(crate) fn into_config_error(self, credential: &str) -> ConfigError {
        match self {
            EnvProblem::Invalid(e) => e,
            missing => ConfigError::new(format!("{credential}: {}", missing.describe())),
        }
    }
}

impl From<ConfigError> for EnvProblem {
    fn from(e: ConfigError) -> Self {
        EnvProblem::Invalid(e)
    }
}

/// The values of `names`, or which of them are missing.
pub(crate) fn require<const N: usize>(
    vars: Vars<'_>,
    names: [&'static str; N],
) -> Result<[String; N], EnvProblem> {
    let values = names.map(vars);
    let missing: Vec<&'static str> = names
        .iter()
        .zip(&values)
        .filter(|(_, v)| v.is_none())
        .map(|(n, _)| *n)
        .collect();
    if !missing.is_empty() {
        return Err(EnvProblem::Missing(missing));
    }
    Ok(values.map(Option::unwrap_or_default))
}

#[cfg(test)]
pub(crate) fn table<'a>(pairs: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<String> + 'a {
    move |name| {
        pairs
            .iter()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| (*v).to_owned())
            .filter(|v| !v.trim().is_empty())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_names_are_listed() {
        let vars = table(&[("A", "1"), ("B", " ")]);
        assert_eq!(require(&vars, ["A"]).unwrap(), ["1".to_owned()]);
        let err = require(&vars, ["A", "B", "C"]).unwrap_err();
        assert_eq!(err.describe(), "B and C are not set");
        assert_eq!(
            require(&vars, ["C"]).unwrap_err().describe(),
            "C is not set"
        );
    }
}

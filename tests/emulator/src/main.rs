//! `graph-emulator [--port N] [--host ADDR] [--token T] [--tls …] [--entra-app …]
//! [--limit-… | --latency MS]`: runs the
//! Graph stand-in until SIGTERM or SIGINT. The first line of stdout is
//! `listening on http://HOST:PORT` (`https://` with TLS, then a second line
//! `ca PATH`).

use std::net::IpAddr;
use std::process::ExitCode;
use std::time::Duration;

use graph_emulator::{cli, Emulator, EmulatorConfig, EntraApp, ManagedIdentity, TlsOptions};

const USAGE: &str = "\
Usage: graph-emulator [--port N] [--host ADDR] [--token T]
                      [--tls] [--ca-out PATH] [--tls-names NAME,...] [--tls-expired]
                      [--entra-app TENANT:CLIENT_ID:SECRET]...
                      [--entra-app-cert TENANT:CLIENT_ID:CERT_PEM_PATH]...
                      [--entra-app-federated TENANT:CLIENT_ID:ASSERTION]...
                      [--token-lifetime SECS] [--managed-identity HEADER[:CLIENT_ID,...]]
                      [--require-issued-tokens]
                      [--limit-concurrent N] [--limit-requests N --limit-per SECS]
                      [--latency MS]
                      [--chaos PERCENT] [--chaos-lost PERCENT]
                      [--chaos-slow PERCENT] [--chaos-slow-ms MS]
                      [--chaos-retry-after-ms MS] [--chaos-seed N]

A local Microsoft Graph stand-in for used-insight (POST/GET
/{v1.0|beta}/users/{id}/insights/used, /{version}/$batch, and the
/_emulator/ control endpoints), with a stand-in for Microsoft Entra ID
(/{tenant}/oauth2/v2.0/token) and managed identity (/msi/token,
/metadata/identity/oauth2/token).

Options:
  --port N      TCP port to listen on (default 0: a free ephemeral port)
  --host ADDR   IP address to bind (default 127.0.0.1)
  --token T     require exactly 'Authorization: Bearer T'
                (default: any non-empty bearer token)
  --tls         serve HTTPS with a throwaway CA made at start-up
  --ca-out PATH write the CA certificate (PEM) there (default: a file in a
                fresh temporary directory, removed at exit)
  --tls-names NAME,...
                names/IPs in the server certificate instead of localhost,
                127.0.0.1, ::1 (e.g. wrong.example: a name mismatch)
  --tls-expired serve an expired server certificate
  --entra-app TENANT:CLIENT_ID:SECRET
                register an app that authenticates with this client secret
                (the secret is everything after the second ':'); repeatable
  --entra-app-cert TENANT:CLIENT_ID:CERT_PEM_PATH
                register an app that authenticates with assertions signed by
                the key of this RSA certificate (PEM file, read at start-up)
  --entra-app-federated TENANT:CLIENT_ID:ASSERTION
                register an app that authenticates with exactly this
                federated assertion (workload identity)
                (the --entra-app* options for the same TENANT:CLIENT_ID add
                up to one app with several credentials)
  --token-lifetime SECS
                expires_in of the access tokens issued (default 3599)
  --managed-identity HEADER[:CLIENT_ID,...]
                answer the managed identity endpoints; App Service requests
                must send X-IDENTITY-HEADER: HEADER; CLIENT_IDs are the
                user-assigned identities (a system-assigned one always exists)
  --require-issued-tokens
                Graph routes accept only unexpired tokens this emulator
                issued for Graph (and --token T if given)
  --limit-concurrent N
                Insights requests (each $batch item counts) in progress at
                once; more get 429 TooManyRequests with Retry-After
  --limit-requests N
                Insights requests started in any --limit-per window; more
                get 429 (throttled requests count too)
  --limit-per SECS
                the window of --limit-requests, in seconds (e.g. 600, 2.5)
  --latency MS  each Insights request, and each $batch item, takes MS
                milliseconds (unchained items in parallel, dependsOn chains
                in order)
  --chaos PERCENT
                that share of Graph POSTs (creates, and each $batch item)
                gets a random error, as Dev Proxy's GraphRandomErrorPlugin
                makes them: 429 (with Retry-After), 500, 502, 503, 504, 507;
                nothing is stored for them
  --chaos-lost PERCENT
                that share of creates (and $batch requests) is processed,
                the insight stored, then the connection closed unanswered
  --chaos-slow PERCENT
                that share of processed POSTs is answered late
  --chaos-slow-ms MS
                the longest delay of a slow answer (default 500)
  --chaos-retry-after-ms MS
                a chaos 429's Retry-After is random up to this (default 100)
  --chaos-seed N
                the seed of chaos's random choices (default: from the clock;
                GET /_emulator/chaos shows it)
  -h, --help    print this help
The --ca-out and --tls-* options imply --tls.

Prints 'listening on http://HOST:PORT' as the first line of stdout (with TLS:
'listening on https://HOST:PORT', then 'ca PATH', the CA's absolute path),
then serves until SIGTERM or SIGINT (exit status 0).";

type Parsed = cli::Parsed<Box<EmulatorConfig>>;

fn parse_args(args: impl IntoIterator<Item = String>) -> Result<Parsed, String> {
    let mut config = EmulatorConfig::default();
    let mut args = args.into_iter();
    while let Some(arg) = args.next() {
        let (name, inline) = match arg.split_once('=') {
            Some((n, v)) if n.starts_with("--") => (n.to_owned(), Some(v.to_owned())),
            _ => (arg.clone(), None),
        };
        let mut value = |name: &str| -> Result<String, String> {
            match inline.clone().or_else(|| args.next()) {
                Some(v) => Ok(v),
                None => Err(format!("{name} needs a value")),
            }
        };
        if inline.is_some()
            && matches!(
                name.as_str(),
                "--tls" | "--tls-expired" | "--require-issued-tokens"
            )
        {
            return Err(format!("{name} takes no value"));
        }
        match name.as_str() {
            "-h" | "--help" => return Ok(Parsed::Help),
            "--tls" => {
                config.tls.get_or_insert_with(TlsOptions::default);
            }
            "--tls-expired" => {
                config.tls.get_or_insert_with(TlsOptions::default).expired = true;
            }
            "--tls-names" => {
                let v = value("--tls-names")?;
                let names: Vec<String> = v.split(',').map(|n| n.trim().to_owned()).collect();
                if names.iter().any(String::is_empty) {
                    return Err(format!("invalid --tls-names {v:?}: an empty name"));
                }
                config.tls.get_or_insert_with(TlsOptions::default).names = names;
            }
            "--ca-out" => {
                let v = value("--ca-out")?;
                if v.is_empty() {
                    return Err("--ca-out must not be empty".into());
                }
                config.tls.get_or_insert_with(TlsOptions::default).ca_out = Some(v.into());
            }
            "--port" => {
                let v = value("--port")?;
                config.port = v
                    .parse()
                    .map_err(|_| format!("invalid --port {v:?}: expected 0..=65535"))?;
            }
            "--host" => {
                let v = value("--host")?;
                config.host = v
                    .parse::<IpAddr>()
                    .map_err(|_| format!("invalid --host {v:?}: expected an IP address"))?;
            }
            "--limit-concurrent" | "--limit-requests" => {
                let v = value(&name)?;
                let n: u32 = v.parse().ok().filter(|n| *n >= 1).ok_or_else(|| {
                    format!("invalid {name} {v:?}: expected a whole number, 1 or more")
                })?;
                if name == "--limit-concurrent" {
                    config.limits.max_concurrent = Some(n);
                } else {
                    config.limits.requests = Some(n);
                }
            }
            "--limit-per" => {
                let v = value("--limit-per")?;
                let secs: f64 = v
                    .parse()
                    .ok()
                    .filter(|s: &f64| s.is_finite() && *s > 0.0 && *s <= 86_400.0)
                    .ok_or_else(|| {
                        format!(
                            "invalid --limit-per {v:?}: expected seconds, above 0, at most 86400"
                        )
                    })?;
                config.limits.per_ms = (secs * 1000.0).round().max(1.0) as u64;
            }
            "--latency" => {
                let v = value("--latency")?;
                config.limits.latency_ms = v
                    .parse()
                    .map_err(|_| format!("invalid --latency {v:?}: expected whole milliseconds"))?;
            }
            "--token" => {
                let v = value("--token")?;
                if v.is_empty() {
                    return Err("--token must not be empty".into());
                }
                config.token = Some(v);
            }
            "--entra-app" | "--entra-app-cert" | "--entra-app-federated" => {
                let v = value(&name)?;
                let (tenant, client_id, credential) = split_app(&name, &v)?;
                let app = app_entry(&mut config.entra_apps, tenant, client_id);
                match name.as_str() {
                    "--entra-app" => app.secret = Some(credential.to_owned()),
                    "--entra-app-cert" => {
                        let pem = std::fs::read_to_string(credential)
                            .map_err(|e| format!("{name}: cannot read {credential:?}: {e}"))?;
                        app.certificate_pem = Some(pem);
                    }
                    _ => app.federated_assertion = Some(credential.to_owned()),
                }
                app.validate().map_err(|e| format!("{name} {v:?}: {e}"))?;
            }
            "--token-lifetime" => {
                let v = value("--token-lifetime")?;
                let secs: u64 = v.parse().map_err(|_| {
                    format!("invalid --token-lifetime {v:?}: expected whole seconds")
                })?;
                config.token_lifetime = Duration::from_secs(secs);
            }
            "--managed-identity" => {
                let v = value("--managed-identity")?;
                let (header, ids) = v.split_once(':').unwrap_or((&v, ""));
                if header.is_empty() {
                    return Err(format!(
                        "invalid --managed-identity {v:?}: the identity header value is empty"
                    ));
                }
                let client_ids: Vec<String> = if ids.is_empty() {
                    Vec::new()
                } else {
                    ids.split(',').map(|id| id.trim().to_owned()).collect()
                };
                if client_ids.iter().any(String::is_empty) {
                    return Err(format!(
                        "invalid --managed-identity {v:?}: an empty client id"
                    ));
                }
                config.managed_identity = Some(ManagedIdentity {
                    identity_header: header.to_owned(),
                    client_ids,
                });
            }
            "--chaos" | "--chaos-lost" | "--chaos-slow" => {
                let v = value(&name)?;
                let percent: u8 = v.parse().ok().filter(|p| *p <= 100).ok_or_else(|| {
                    format!("invalid {name} {v:?}: expected a whole percentage, 0 to 100")
                })?;
                match name.as_str() {
                    "--chaos" => config.chaos.error_percent = percent,
                    "--chaos-lost" => config.chaos.lost_percent = percent,
                    _ => config.chaos.slow_percent = percent,
                }
            }
            "--chaos-slow-ms" | "--chaos-retry-after-ms" => {
                let v = value(&name)?;
                let ms: u64 = v
                    .parse()
                    .map_err(|_| format!("invalid {name} {v:?}: expected whole milliseconds"))?;
                if name == "--chaos-slow-ms" {
                    config.chaos.slow_ms = ms;
                } else {
                    config.chaos.retry_after_ms = ms;
                }
            }
            "--chaos-seed" => {
                let v = value("--chaos-seed")?;
                config.chaos.seed =
                    Some(v.parse().map_err(|_| {
                        format!("invalid --chaos-seed {v:?}: expected a whole number")
                    })?);
            }
            "--require-issued-tokens" => config.require_issued_tokens = true,
            other => return Err(format!("unexpected argument {other:?}")),
        }
    }
    config.limits.validate().map_err(|e| match e {
        e if e.contains("per_ms") => "--limit-requests needs --limit-per".to_owned(),
        e => e,
    })?;
    if config.limits.per_ms > 0 && config.limits.requests.is_none() {
        return Err("--limit-per needs --limit-requests".into());
    }
    config.chaos.validate().map_err(|e| {
        e.replace("error_percent", "--chaos")
            .replace("lost_percent", "--chaos-lost")
    })?;
    Ok(Parsed::Run(Box::new(config)))
}

/// Splits `TENANT:CLIENT_ID:CREDENTIAL` (the credential may contain `:`).
fn split_app<'a>(name: &str, v: &'a str) -> Result<(&'a str, &'a str, &'a str), String> {
    let mut parts = v.splitn(3, ':');
    match (parts.next(), parts.next(), parts.next()) {
        (Some(tenant), Some(client_id), Some(credential))
            if !tenant.is_empty() && !client_id.is_empty() && !credential.is_empty() =>
        {
            Ok((tenant, client_id, credential))
        }
        _ => Err(format!(
            "invalid {name} {v:?}: expected TENANT:CLIENT_ID:{}",
            match name {
                "--entra-app" => "SECRET",
                "--entra-app-cert" => "CERT_PEM_PATH",
                _ => "ASSERTION",
            }
        )),
    }
}

/// The app being described for this tenant and client id, added if new.
fn app_entry<'a>(apps: &'a mut Vec<EntraApp>, tenant: &str, client_id: &str) -> &'a mut EntraApp {
    let index = apps
        .iter()
        .position(|a| {
            a.tenant.eq_ignore_ascii_case(tenant) && a.client_id.eq_ignore_ascii_case(client_id)
        })
        .unwrap_or_else(|| {
            apps.push(EntraApp {
                tenant: tenant.to_owned(),
                client_id: client_id.to_owned(),
                ..EntraApp::default()
            });
            apps.len() - 1
        });
    &mut apps[index]
}

fn main() -> ExitCode {
    cli::main(
        "graph-emulator",
        USAGE,
        parse_args(std::env::args().skip(1)),
        |config| run(*config),
    )
}

fn run(config: EmulatorConfig) -> std::io::Result<()> {
    // Handlers first: a SIGTERM right after the announcement is handled.
    let signals = cli::Signals::install()?;
    let emulator = Emulator::start(config)?;
    cli::announce(
        &mut std::io::stdout().lock(),
        emulator.base_url(),
        emulator.ca_path(),
    )?;
    signals.wait();
    emulator.shutdown();
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<Parsed, String> {
        parse_args(args.iter().map(|s| s.to_string()))
    }

    #[test]
    fn parses_options() {
        let Ok(Parsed::Run(c)) = parse(&["--port", "8080", "--host=0.0.0.0", "--token", "t"])
        else {
            panic!("should parse");
        };
        assert_eq!(c.port, 8080);
        assert_eq!(c.host.to_string(), "0.0.0.0");
        assert_eq!(c.token.as_deref(), Some("t"));
        assert!(matches!(parse(&["--help"]), Ok(Parsed::Help)));
        assert!(parse(&["--port"]).unwrap_err().contains("needs a value"));
        assert!(parse(&["--port", "x"]).unwrap_err().contains("--port"));
        assert!(parse(&["--host", "localhost"]).is_err());
        assert!(parse(&["--frobnicate"]).is_err());
    }

    #[test]
    fn parses_limits() {
        let Ok(Parsed::Run(c)) = parse(&[
            "--limit-concurrent",
            "4",
            "--limit-requests=20",
            "--limit-per",
            "2.5",
            "--latency",
            "50",
        ]) else {
            panic!("should parse");
        };
        assert_eq!(
            c.limits,
            graph_emulator::Limits {
                max_concurrent: Some(4),
                requests: Some(20),
                per_ms: 2500,
                latency_ms: 50
            }
        );
        assert!(parse(&["--limit-requests", "20"])
            .unwrap_err()
            .contains("--limit-per"));
        assert!(parse(&["--limit-per", "2"])
            .unwrap_err()
            .contains("--limit-requests"));
        assert!(parse(&["--limit-concurrent", "0"]).is_err());
        assert!(parse(&["--limit-per", "-1", "--limit-requests", "2"]).is_err());
        assert!(parse(&["--latency", "fast"]).is_err());
    }

    #[test]
    fn parses_chaos() {
        let Ok(Parsed::Run(c)) = parse(&[
            "--chaos",
            "10",
            "--chaos-lost=3",
            "--chaos-slow",
            "5",
            "--chaos-slow-ms",
            "200",
            "--chaos-retry-after-ms",
            "50",
            "--chaos-seed",
            "7",
        ]) else {
            panic!("should parse");
        };
        assert_eq!(
            c.chaos,
            graph_emulator::Chaos {
                error_percent: 10,
                lost_percent: 3,
                slow_percent: 5,
                slow_ms: 200,
                retry_after_ms: 50,
                seed: Some(7),
            }
        );
        assert!(parse(&["--chaos", "101"]).unwrap_err().contains("0 to 100"));
        assert!(parse(&["--chaos-seed", "x"]).is_err());
        let err = parse(&["--chaos", "60", "--chaos-lost", "50"]).unwrap_err();
        assert!(
            err.contains("--chaos and --chaos-lost add up to 110"),
            "{err}"
        );
    }

    #[test]
    fn parses_tls_options() {
        let Ok(Parsed::Run(c)) = parse(&[]) else {
            panic!("should parse");
        };
        assert_eq!(c.tls, None);
        let Ok(Parsed::Run(c)) = parse(&["--tls"]) else {
            panic!("should parse");
        };
        assert_eq!(c.tls, Some(TlsOptions::default()));
        let Ok(Parsed::Run(c)) = parse(&[
            "--tls-names",
            "wrong.example, 10.0.0.1",
            "--tls-expired",
            "--ca-out=ca.pem",
        ]) else {
            panic!("should parse");
        };
        assert_eq!(
            c.tls,
            Some(TlsOptions {
                names: vec!["wrong.example".into(), "10.0.0.1".into()],
                expired: true,
                ca_out: Some("ca.pem".into()),
            })
        );
        assert!(parse(&["--tls=yes"]).unwrap_err().contains("no value"));
        assert!(parse(&["--tls-names", "a,,b"]).is_err());
        assert!(parse(&["--tls-names"]).is_err());
        assert!(parse(&["--ca-out", ""]).is_err());
    }

    #[test]
    fn parses_entra_options() {
        let pem = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../core/tests/certs/entra-test-app.pem"
        );
        let Ok(Parsed::Run(c)) = parse(&[
            "--entra-app",
            "t1:app1:se:cr:et",
            "--entra-app-cert",
            &format!("t1:APP1:{pem}"),
            "--entra-app-federated=t2:app2:eyJ.x.y",
            "--token-lifetime",
            "7200",
            "--managed-identity",
            "hdr:id-1, id-2",
            "--require-issued-tokens",
        ]) else {
            panic!("should parse");
        };
        assert_eq!(c.entra_apps.len(), 2);
        assert_eq!(c.entra_apps[0].secret.as_deref(), Some("se:cr:et"));
        assert!(c.entra_apps[0]
            .certificate_pem
            .as_deref()
            .unwrap()
            .contains("BEGIN CERTIFICATE"));
        assert_eq!(
            c.entra_apps[1].federated_assertion.as_deref(),
            Some("eyJ.x.y")
        );
        assert_eq!(c.token_lifetime, Duration::from_secs(7200));
        let mi = c.managed_identity.unwrap();
        assert_eq!(mi.identity_header, "hdr");
        assert_eq!(mi.client_ids, ["id-1", "id-2"]);
        assert!(c.require_issued_tokens);

        let Ok(Parsed::Run(c)) = parse(&["--managed-identity", "hdr"]) else {
            panic!("should parse");
        };
        assert!(c.managed_identity.unwrap().client_ids.is_empty());
        assert!(parse(&["--entra-app", "t:c"])
            .unwrap_err()
            .contains("TENANT:CLIENT_ID:SECRET"));
        assert!(parse(&["--entra-app", "t::s"]).is_err());
        assert!(parse(&["--entra-app-cert", "t:c:/nonexistent.pem"])
            .unwrap_err()
            .contains("cannot read"));
        assert!(parse(&[
            "--entra-app-cert",
            &format!(
                "t:c:{}",
                concat!(env!("CARGO_MANIFEST_DIR"), "/src/main.rs")
            )
        ])
        .unwrap_err()
        .contains("certificate_pem"));
        assert!(parse(&["--token-lifetime", "1.5"]).is_err());
        assert!(parse(&["--managed-identity", ":id"]).is_err());
        assert!(parse(&["--managed-identity", "h:a,,b"]).is_err());
        assert!(parse(&["--require-issued-tokens=yes"]).is_err());
    }
}

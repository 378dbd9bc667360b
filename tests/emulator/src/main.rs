//! `graph-emulator [--port N] [--host ADDR] [--token T] [--tls …]`: runs the
//! Graph stand-in until SIGTERM or SIGINT. The first line of stdout is
//! `listening on http://HOST:PORT` (`https://` with TLS, then a second line
//! `ca PATH`).

use std::io::Write;
use std::net::IpAddr;
use std::process::ExitCode;

use graph_emulator::{Emulator, EmulatorConfig, TlsOptions};

const USAGE: &str = "\
Usage: graph-emulator [--port N] [--host ADDR] [--token T]
                      [--tls] [--ca-out PATH] [--tls-names NAME,...] [--tls-expired]

A local Microsoft Graph stand-in for used-insight (POST/GET
/{v1.0|beta}/users/{id}/insights/used, /{version}/$batch, and the
/_emulator/ control endpoints).

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
  -h, --help    print this help
The --ca-out and --tls-* options imply --tls.

Prints 'listening on http://HOST:PORT' as the first line of stdout (with TLS:
'listening on https://HOST:PORT', then 'ca PATH', the CA's absolute path),
then serves until SIGTERM or SIGINT (exit status 0).";

#[derive(Debug)]
enum Parsed {
    Run(EmulatorConfig),
    Help,
}

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
        if inline.is_some() && matches!(name.as_str(), "--tls" | "--tls-expired") {
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
            "--token" => {
                let v = value("--token")?;
                if v.is_empty() {
                    return Err("--token must not be empty".into());
                }
                config.token = Some(v);
            }
            other => return Err(format!("unexpected argument {other:?}")),
        }
    }
    Ok(Parsed::Run(config))
}

fn main() -> ExitCode {
    let config = match parse_args(std::env::args().skip(1)) {
        Ok(Parsed::Run(config)) => config,
        Ok(Parsed::Help) => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Err(e) => {
            eprintln!("graph-emulator: {e}\n\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    match run(config) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("graph-emulator: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run(config: EmulatorConfig) -> std::io::Result<()> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_io()
        .build()?;
    // Install the signal handlers before announcing the port, so a SIGTERM sent
    // right after the line is read is handled (not fatal).
    let signals = runtime.block_on(async { Signals::new() })?;
    let emulator = Emulator::start(config)?;
    {
        let mut stdout = std::io::stdout().lock();
        writeln!(stdout, "listening on {}", emulator.base_url())?;
        if let Some(path) = emulator.ca_path() {
            writeln!(stdout, "ca {}", path.display())?;
        }
        stdout.flush()?;
    }
    runtime.block_on(signals.wait());
    emulator.shutdown();
    Ok(())
}

#[cfg(unix)]
struct Signals {
    term: tokio::signal::unix::Signal,
    int: tokio::signal::unix::Signal,
}

#[cfg(unix)]
impl Signals {
    fn new() -> std::io::Result<Signals> {
        use tokio::signal::unix::{signal, SignalKind};
        Ok(Signals {
            term: signal(SignalKind::terminate())?,
            int: signal(SignalKind::interrupt())?,
        })
    }

    async fn wait(mut self) {
        tokio::select! {
            _ = self.term.recv() => {}
            _ = self.int.recv() => {}
        }
    }
}

#[cfg(not(unix))]
struct Signals;

#[cfg(not(unix))]
impl Signals {
    fn new() -> std::io::Result<Signals> {
        Ok(Signals)
    }

    async fn wait(self) {
        let _ = tokio::signal::ctrl_c().await;
    }
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
}

//! `tunnel-proxy --to ADDR [--port N] [--tls] [--ca-out PATH] [--basic USER:PASSWORD]`:
//! a CONNECT proxy leading every tunnel to one loopback address (see
//! [`graph_emulator::TunnelProxy`]), until SIGTERM or SIGINT. The first
//! line of stdout is `listening on http://127.0.0.1:PORT` (`https://` with
//! TLS, then `ca PATH`); then one line per request received, written before
//! it is answered: `CONNECT graph.microsoft.com:443 user=- status=200`.

use std::io::Write;
use std::net::SocketAddr;
use std::process::ExitCode;

use graph_emulator::{cli, ProxyCredentials, TunnelConfig, TunnelProxy};

const USAGE: &str = "\
Usage: tunnel-proxy --to ADDR [--port N] [--tls] [--ca-out PATH] [--basic USER:PASSWORD]

A CONNECT proxy for used-insight's tests: it answers `CONNECT any-host:port`
with 200 and joins the client to ADDR, whatever host it named, so a client
of https://graph.microsoft.com reaches a local graph-emulator (started with
--tls-names graph.microsoft.com) and nothing leaves loopback.

Options:
  --to ADDR     where every tunnel leads: a loopback IP:PORT, or the URL
                graph-emulator announced (http(s)://127.0.0.1:PORT)
  --port N      TCP port to listen on, on 127.0.0.1 (default 0: a free port)
  --tls         serve https:// (TLS to the proxy) with a throwaway CA
  --ca-out PATH write that CA certificate (PEM) there (default: a file in a
                fresh temporary directory, removed at exit); implies --tls
  --basic USER:PASSWORD
                answer 407 to a CONNECT without these Basic credentials
  -h, --help    print this help

Prints 'listening on http://127.0.0.1:PORT' first (with TLS: 'listening on
https://127.0.0.1:PORT', then 'ca PATH'), then one line per request, written
before it is answered: 'METHOD TARGET user=USER|- status=STATUS', e.g.
'CONNECT graph.microsoft.com:443 user=- status=200' (the password is never
printed; spaces and non-printable bytes as %XX). Serves until SIGTERM or
SIGINT (exit status 0).";

type Parsed = cli::Parsed<TunnelConfig>;

/// `127.0.0.1:PORT`, `[::1]:PORT`, or a URL with such an authority.
fn parse_to(value: &str) -> Result<SocketAddr, String> {
    let authority = value
        .split_once("://")
        .map_or(value, |(_, rest)| rest)
        .split('/')
        .next()
        .unwrap_or_default();
    authority
        .parse()
        .map_err(|_| format!("invalid --to {value:?}: expected IP:PORT or http(s)://IP:PORT"))
}

fn parse_args(args: impl IntoIterator<Item = String>) -> Result<Parsed, String> {
    let mut to = None;
    let mut config = TunnelConfig::to(SocketAddr::from(([127, 0, 0, 1], 0)));
    let mut args = args.into_iter();
    while let Some(arg) = args.next() {
        let (name, inline) = match arg.split_once('=') {
            Some((n, v)) if n.starts_with("--") => (n.to_owned(), Some(v.to_owned())),
            _ => (arg.clone(), None),
        };
        let mut value = |name: &str| -> Result<String, String> {
            inline
                .clone()
                .or_else(|| args.next())
                .ok_or_else(|| format!("{name} needs a value"))
        };
        match name.as_str() {
            "-h" | "--help" => return Ok(Parsed::Help),
            "--tls" if inline.is_some() => return Err("--tls takes no value".into()),
            "--tls" => config.tls = true,
            "--to" => to = Some(parse_to(&value("--to")?)?),
            "--port" => {
                let v = value("--port")?;
                config.port = v
                    .parse()
                    .map_err(|_| format!("invalid --port {v:?}: expected 0..=65535"))?;
            }
            "--ca-out" => {
                let v = value("--ca-out")?;
                if v.is_empty() {
                    return Err("--ca-out must not be empty".into());
                }
                config.tls = true;
                config.ca_out = Some(v.into());
            }
            "--basic" => {
                let v = value("--basic")?;
                match v.split_once(':') {
                    Some((user, password)) if !user.is_empty() => {
                        config.credentials = Some(ProxyCredentials {
                            user: user.to_owned(),
                            password: password.to_owned(),
                        });
                    }
                    _ => return Err("invalid --basic: expected USER:PASSWORD".into()),
                }
            }
            other => return Err(format!("unexpected argument {other:?}")),
        }
    }
    config.to = to.ok_or("--to is required")?;
    Ok(Parsed::Run(config))
}

fn main() -> ExitCode {
    cli::main(
        "tunnel-proxy",
        USAGE,
        parse_args(std::env::args().skip(1)),
        run,
    )
}

fn run(config: TunnelConfig) -> std::io::Result<()> {
    // Handlers first: a SIGTERM right after the announcement is handled.
    let signals = cli::Signals::install()?;
    // Request lines wait until the announcement is out: the lock is taken
    // before the proxy can accept anything.
    let mut stdout = std::io::stdout().lock();
    let proxy = TunnelProxy::start_observed(config, |request| {
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "{request}");
        let _ = out.flush();
    })?;
    cli::announce(&mut stdout, proxy.url(), proxy.ca_path())?;
    drop(stdout);
    signals.wait();
    proxy.shutdown();
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
        let Ok(Parsed::Run(c)) = parse(&["--to", "https://127.0.0.1:8443", "--basic=u:p:w"]) else {
            panic!("should parse");
        };
        assert_eq!(c.to, "127.0.0.1:8443".parse().unwrap());
        assert!(!c.tls);
        let credentials = c.credentials.unwrap();
        assert_eq!((&*credentials.user, &*credentials.password), ("u", "p:w"));
        let Ok(Parsed::Run(c)) = parse(&["--to=[::1]:1", "--ca-out", "ca.pem", "--port", "9"])
        else {
            panic!("should parse");
        };
        assert!(c.tls && c.port == 9 && c.to.is_ipv6());
        assert!(matches!(parse(&["-h"]), Ok(Parsed::Help)));
        assert!(parse(&[]).unwrap_err().contains("--to is required"));
        assert!(parse(&["--to", "localhost:1"]).is_err());
        assert!(parse(&["--to", "1.2.3.4:1", "--basic", ":p"]).is_err());
        assert!(parse(&["--tls=1", "--to", "127.0.0.1:1"]).is_err());
    }
}

//! What the `graph-emulator` and `tunnel-proxy` binaries share: the exit
//! status from their parsed arguments, the `listening on` announcement, and
//! serving until SIGTERM or SIGINT. Not for library users: the binaries'
//! output is a protocol other languages' tests read.

use std::io::{self, Write};
use std::path::Path;
use std::process::ExitCode;

/// What a binary's command line asks for.
#[derive(Debug)]
pub enum Parsed<C> {
    /// Serve with this configuration.
    Run(C),
    /// Print the usage text and exit.
    Help,
}

/// Runs `program`: prints `usage` for [`Parsed::Help`] (exit status 0),
/// the error and `usage` to stderr for a bad command line (status 2),
/// otherwise calls `run`, whose error goes to stderr (status 1).
pub fn main<C>(
    program: &str,
    usage: &str,
    parsed: Result<Parsed<C>, String>,
    run: impl FnOnce(C) -> io::Result<()>,
) -> ExitCode {
    let config = match parsed {
        Ok(Parsed::Run(config)) => config,
        Ok(Parsed::Help) => {
            println!("{usage}");
            return ExitCode::SUCCESS;
        }
        Err(e) => {
            eprintln!("{program}: {e}\n\n{usage}");
            return ExitCode::from(2);
        }
    };
    match run(config) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("{program}: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Writes `listening on URL`, then `ca PATH` when serving with a CA, and
/// flushes: the lines a test reads to find the server.
pub fn announce(out: &mut impl Write, url: &str, ca_path: Option<&Path>) -> io::Result<()> {
    writeln!(out, "listening on {url}")?;
    if let Some(path) = ca_path {
        writeln!(out, "ca {}", path.display())?;
    }
    out.flush()
}

/// SIGTERM and SIGINT handlers (Ctrl-C elsewhere), installed before the
/// announcement so a signal sent right after it is handled, not fatal.
pub struct Signals {
    runtime: tokio::runtime::Runtime,
    handlers: Handlers,
}

impl Signals {
    /// Installs the handlers.
    pub fn install() -> io::Result<Signals> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_io()
            .build()?;
        let handlers = runtime.block_on(async { Handlers::new() })?;
        Ok(Signals { runtime, handlers })
    }

    /// Blocks until one of the signals arrives.
    pub fn wait(self) {
        self.runtime.block_on(self.handlers.wait());
    }
}

#[cfg(unix)]
struct Handlers {
    term: tokio::signal::unix::Signal,
    int: tokio::signal::unix::Signal,
}

#[cfg(unix)]
impl Handlers {
    fn new() -> io::Result<Handlers> {
        use tokio::signal::unix::{signal, SignalKind};
        Ok(Handlers {
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
struct Handlers;

#[cfg(not(unix))]
impl Handlers {
    fn new() -> io::Result<Handlers> {
        Ok(Handlers)
    }

    async fn wait(self) {
        let _ = tokio::signal::ctrl_c().await;
    }
}

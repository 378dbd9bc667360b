//! A small local Microsoft Graph stand-in for `used-insight`'s tests and demo.
//!
//! It implements `POST /{v1.0|beta}/users/{id}/insights/used` ("Create used"),
//! `GET` of the collection and of one insight, and `POST /{version}/$batch`,
//! with the checks Graph performs (bearer token, JSON content type, body shape)
//! and Graph-shaped errors. A control protocol under `/_emulator/` queues
//! [`Fault`]s (error statuses, delays, dropped connections, truncated or
//! oversized bodies…) and lists the [`RecordedRequest`]s it received.
//! Optional [`Limits`] enforce Graph's throttling (concurrency, a window,
//! a latency per request and per `$batch` item). Optional [`Chaos`] makes
//! random faults on Graph's POSTs, as Microsoft Dev Proxy's random Graph
//! errors do, plus answers lost after the insight was stored and slow
//! answers.
//!
//! It also plays Microsoft Entra ID for credential tests: the v2.0 token
//! endpoint for registered [`EntraApp`]s (client secret, certificate
//! assertion, federated assertion), the managed identity endpoints
//! ([`ManagedIdentity`]), and, with [`EmulatorConfig::require_issued_tokens`],
//! Graph routes that accept only the tokens it issued.
//!
//! Rust tests start it in-process with [`Emulator::start`]; other languages run
//! the `graph-emulator` binary. With [`EmulatorConfig::tls`] it serves HTTPS
//! with a throwaway CA ([`Emulator::ca_pem`]), including deliberately bad
//! certificates ([`TlsOptions`]). See the crate's README for the wire protocol.
//!
//! [`TunnelProxy`] is a CONNECT proxy that leads every tunnel to one loopback
//! address (the emulator), so a client configured for Graph's own host, with
//! a proxy from its environment, reaches the emulator without leaving
//! loopback; the `tunnel-proxy` binary runs it for other languages.
//!
//! ```no_run
//! use graph_emulator::{Emulator, EmulatorConfig, Fault};
//!
//! let emu = Emulator::start(EmulatorConfig::default()).unwrap();
//! emu.push_faults([Fault { status: Some(503), retry_after: Some("1".into()), ..Fault::default() }]);
//! println!("Graph base URL: {}/v1.0", emu.base_url());
//! // ... run the client against it ...
//! assert_eq!(emu.requests().len(), 0);
//! emu.shutdown();
//! ```
#![deny(missing_docs)]

use std::collections::BTreeMap;
use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use serde::{Deserialize, Serialize};

mod body;
mod chaos;
pub mod cli;
mod entra;
mod graph;
mod limits;
mod server;
mod tls;
mod tunnel;

pub use chaos::{Chaos, ChaosReport, CHAOS_STATUSES};
pub use limits::{Limits, LimitsReport};
use server::Shared;
pub use tunnel::{ProxyCredentials, ProxyRequest, TunnelConfig, TunnelProxy};

pub use entra::{EntraApp, ManagedIdentity, DEFAULT_TOKEN_LIFETIME, SYSTEM_ASSIGNED_CLIENT_ID};

/// Largest request body the emulator accepts; larger ones get `413`.
pub const MAX_REQUEST_BODY: usize = 4 * 1024 * 1024;

/// How to start an [`Emulator`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmulatorConfig {
    /// TCP port to listen on; `0` (the default) picks a free ephemeral port.
    pub port: u16,
    /// Address to bind; defaults to `127.0.0.1`.
    pub host: IpAddr,
    /// When set, requests must carry exactly `Authorization: Bearer <token>`;
    /// when `None` (the default) any non-empty bearer token is accepted.
    pub token: Option<String>,
    /// When set, serve HTTPS (see [`TlsOptions`]); `None` (the default) serves
    /// plain HTTP.
    pub tls: Option<TlsOptions>,
    /// Apps the emulated Entra ID knows from the start (more can be
    /// registered with [`Emulator::register_app`]); [`Emulator::reset`]
    /// returns to these.
    pub entra_apps: Vec<EntraApp>,
    /// `expires_in` of the access tokens issued (token endpoint and managed
    /// identity); default [`DEFAULT_TOKEN_LIFETIME`] (3599 s). Changeable while
    /// running with [`Emulator::set_token_lifetime`].
    pub token_lifetime: Duration,
    /// When set, the managed identity endpoints answer (see [`ManagedIdentity`]).
    pub managed_identity: Option<ManagedIdentity>,
    /// When true, Graph routes accept only unexpired access tokens this
    /// emulator issued for Graph (plus [`EmulatorConfig::token`] if set).
    /// Whatever this says, a token the emulator issued is refused once
    /// expired or when issued for another resource.
    pub require_issued_tokens: bool,
    /// Graph's limits to enforce, and the latency of each request (see
    /// [`Limits`]); `Default`: none.
    pub limits: Limits,
    /// Random faults on Graph's POSTs (see [`Chaos`]); `Default`: none.
    pub chaos: Chaos,
}

impl Default for EmulatorConfig {
    fn default() -> Self {
        EmulatorConfig {
            port: 0,
            host: IpAddr::V4(Ipv4Addr::LOCALHOST),
            token: None,
            tls: None,
            entra_apps: Vec::new(),
            token_lifetime: DEFAULT_TOKEN_LIFETIME,
            managed_identity: None,
            require_issued_tokens: false,
            limits: Limits::default(),
            chaos: Chaos::default(),
        }
    }
}

/// HTTPS settings. At start-up the emulator makes a throwaway certificate
/// authority and a server certificate signed by it (ECDSA P-256), serves
/// `https://…` with it and writes the CA certificate as PEM to a file
/// ([`Emulator::ca_path`]); clients trust that file (or
/// [`Emulator::ca_pem`]). `TlsOptions::default()` gives a certificate any
/// client trusting the CA accepts for `localhost`, `127.0.0.1` and `::1`; the
/// other fields make deliberately bad ones.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct TlsOptions {
    /// DNS names and IP addresses the server certificate covers. Empty (the
    /// default): `localhost`, `127.0.0.1`, `::1` and the bound address when it
    /// is not loopback or unspecified. Anything else, e.g. `["wrong.example"]`,
    /// makes clients connecting to `127.0.0.1` see a name mismatch.
    pub names: Vec<String>,
    /// Issue a server certificate that expired yesterday (valid from 30 days
    /// ago), so clients see an expired certificate.
    pub expired: bool,
    /// Where to write the CA certificate (made absolute; an existing file is
    /// replaced, and the file is left in place at shutdown). `None` (the
    /// default): `ca.pem` in a fresh directory under the system's temporary
    /// directory, removed with the directory at shutdown.
    pub ca_out: Option<PathBuf>,
}

/// A fault to inject into the next request(s) that match it.
///
/// Faults form a FIFO queue; each incoming (non-control) request takes the
/// first queued fault that matches it (`method`, `path_contains`,
/// `body_contains`, `batch_item(s)`) and applies it. Every field is optional in JSON; unknown
/// fields are rejected so typos do not go unnoticed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Fault {
    /// Only requests with this HTTP method match (case-insensitive).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub method: Option<String>,
    /// Only requests whose raw path (and query), as received, contains this match.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path_contains: Option<String>,
    /// How many matching requests this fault applies to before it is used up
    /// (default 1; 0 behaves like 1).
    pub times: u32,
    /// Wait this long (milliseconds) before acting: before answering normally
    /// or applying the rest of the fault.
    #[serde(skip_serializing_if = "is_zero")]
    pub delay_ms: u64,
    /// Answer this status instead of processing the request, with a
    /// Graph-shaped error body whose code fits the status (429
    /// `TooManyRequests`, 503 `serviceNotAvailable`, 504 `gatewayTimeout`, 500
    /// `generalException`, 400 `BadRequest`, 401 `InvalidAuthenticationToken`,
    /// 403 `Forbidden`, 404 `ResourceNotFound`, anything else `error`). A 3xx
    /// status gets no body (combine with `headers` such as `Location`). On the
    /// Entra endpoints (token, managed identity) the error body is theirs
    /// instead (see the README).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    /// Overrides the Graph error code (setting it alone implies status 500).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    /// Overrides the Graph error message (setting it alone implies status 500).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// `Retry-After` header value, sent verbatim (e.g. `"2"`, `"0.6"`, an HTTP-date).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retry_after: Option<String>,
    /// Extra response headers. They replace same-named headers and are added
    /// to whatever is answered: the fault's answer, or the normal answer when
    /// the fault has no `status`/`code`/`message`/`body`/`body_bytes`.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub headers: BTreeMap<String, String>,
    /// Answer with this raw body instead of processing (status defaults to
    /// 500; `Content-Type` is `content_type` or `text/html`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub body: Option<String>,
    /// `Content-Type` for `body` / `body_bytes` answers.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub content_type: Option<String>,
    /// After reading the request, close the connection without sending a
    /// single response byte. Nothing is stored.
    #[serde(skip_serializing_if = "is_false")]
    pub drop_connection: bool,
    /// Answer as usual (the insight is stored) but send only the first half of
    /// the body, with the full `Content-Length`, then close the connection.
    #[serde(skip_serializing_if = "is_false")]
    pub truncate: bool,
    /// Answer (status defaults to 201, `Content-Type` to `application/json`)
    /// with a streamed body of exactly this many bytes, with `Content-Length`.
    /// From 10 bytes on it is valid JSON: `{"pad":"aaaa…"}`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub body_bytes: Option<u64>,
    /// Only for `$batch` requests: the item at this 0-based index of the
    /// request's `requests` array gets the fault's `status` (default 500),
    /// `code`, `message`, `retry_after` (as item header `Retry-After`) and
    /// `headers`, and is not processed; the other items are processed normally.
    /// `delay_ms` still delays the whole request; `drop_connection`,
    /// `truncate`, `body` and `body_bytes` are ignored. Such a fault only
    /// matches `POST …/$batch` requests that have an item at that index.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub batch_item: Option<usize>,
    /// Like `batch_item`, for several items of the same `$batch` request at
    /// once (combined with `batch_item` when both are given). Matches only
    /// batches that have every listed index.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub batch_items: Vec<usize>,
    /// Only requests whose raw body contains this text match — e.g.
    /// `"\"id\":\"21\""` to pick the `$batch` request carrying item id 21,
    /// whatever order concurrent batches arrive in.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub body_contains: Option<String>,
}

fn is_zero(v: &u64) -> bool {
    *v == 0
}

fn is_false(v: &bool) -> bool {
    !*v
}

impl Default for Fault {
    fn default() -> Self {
        Fault {
            method: None,
            path_contains: None,
            times: 1,
            delay_ms: 0,
            status: None,
            code: None,
            message: None,
            retry_after: None,
            headers: BTreeMap::new(),
            body: None,
            content_type: None,
            drop_connection: false,
            truncate: false,
            body_bytes: None,
            batch_item: None,
            batch_items: Vec::new(),
            body_contains: None,
        }
    }
}

impl Fault {
    /// The `$batch` item indexes this fault answers for (`batch_item` and
    /// `batch_items` together); empty for whole-request faults.
    pub fn item_indexes(&self) -> Vec<usize> {
        self.batch_item
            .into_iter()
            .chain(self.batch_items.iter().copied())
            .collect()
    }

    /// Checks that the fault can be applied: a final status (200..=999) and
    /// valid header names and values.
    pub fn validate(&self) -> Result<(), String> {
        if let Some(status) = self.status {
            if !(200..=999).contains(&status) {
                return Err(format!(
                    "status {status} is not a final HTTP status (200..=999)"
                ));
            }
        }
        for (name, value) in &self.headers {
            if hyper::header::HeaderName::from_bytes(name.as_bytes()).is_err() {
                return Err(format!("invalid header name {name:?}"));
            }
            if hyper::header::HeaderValue::from_str(value).is_err() {
                return Err(format!("invalid value for header {name:?}"));
            }
        }
        for (what, value) in [
            ("retry_after", &self.retry_after),
            ("content_type", &self.content_type),
        ] {
            if let Some(value) = value {
                if hyper::header::HeaderValue::from_str(value).is_err() {
                    return Err(format!("invalid header value in {what}"));
                }
            }
        }
        Ok(())
    }
}

/// One HTTP request the emulator received (control requests excluded).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(default)]
pub struct RecordedRequest {
    /// HTTP method, e.g. `POST`.
    pub method: String,
    /// Raw path and query exactly as received (not percent-decoded).
    pub path: String,
    /// Headers with lowercase names; repeated headers joined with `", "`.
    pub headers: BTreeMap<String, String>,
    /// Raw body as text (lossy UTF-8). For a `413` answer, its first 4 MiB.
    pub body: String,
    /// Milliseconds since the emulator started, when the request head arrived.
    pub elapsed_ms: f64,
    /// Answered 429 by the emulator's [`Limits`] (not by a fault).
    #[serde(skip_serializing_if = "is_false")]
    pub throttled: bool,
    /// The ids of the `$batch` items answered 429 by the [`Limits`].
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub throttled_items: Vec<String>,
}

/// A running emulator: a tokio current-thread runtime serving HTTP/1.1 on its
/// own thread. Dropping it shuts it down.
pub struct Emulator {
    shared: Arc<Shared>,
    port: u16,
    /// With TLS: the CA certificate's PEM text and file (removed on drop when
    /// it is a temporary one, after the server thread has stopped).
    ca: Option<(String, tls::CaFile)>,
    shutdown_tx: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl fmt::Debug for Emulator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Emulator")
            .field("base_url", &self.shared.base_url)
            .finish_non_exhaustive()
    }
}

impl Emulator {
    /// Binds the listening socket and starts serving on a new thread.
    /// Returns once the socket is listening (connections are accepted from then on).
    ///
    /// Fails with [`std::io::ErrorKind::InvalidInput`] when an app of
    /// [`EmulatorConfig::entra_apps`] is invalid (see [`EntraApp::validate`]).
    pub fn start(config: EmulatorConfig) -> std::io::Result<Emulator> {
        for app in &config.entra_apps {
            app.validate().map_err(|e| {
                std::io::Error::new(std::io::ErrorKind::InvalidInput, format!("entra app: {e}"))
            })?;
        }
        let std_listener = std::net::TcpListener::bind(SocketAddr::new(config.host, config.port))?;
        std_listener.set_nonblocking(true)?;
        let local = std_listener.local_addr()?;
        let base_url = base_url_for(local, config.tls.is_some());
        let (acceptor, ca) = match &config.tls {
            None => (None, None),
            Some(options) => {
                let made = tls::make(options, announced_ip(local.ip()))?;
                let file = tls::CaFile::write(&made.ca_pem, options.ca_out.as_deref())?;
                (Some(made.acceptor), Some((made.ca_pem, file)))
            }
        };
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_io()
            .enable_time()
            .build()?;
        let listener = {
            let _guard = runtime.enter();
            tokio::net::TcpListener::from_std(std_listener)?
        };
        let entra = entra::Setup {
            apps: config.entra_apps,
            token_lifetime: config.token_lifetime,
            managed_identity: config.managed_identity,
            require_issued_tokens: config.require_issued_tokens,
        };
        config.limits.validate().map_err(|e| {
            std::io::Error::new(std::io::ErrorKind::InvalidInput, format!("limits: {e}"))
        })?;
        config.chaos.validate().map_err(|e| {
            std::io::Error::new(std::io::ErrorKind::InvalidInput, format!("chaos: {e}"))
        })?;
        let shared = Arc::new(Shared::new(base_url, config.token, entra));
        shared.gate.set(config.limits);
        shared.chaos.set(config.chaos);
        let (shutdown_tx, shutdown_rx) = tokio::sync::oneshot::channel::<()>();
        let thread_shared = Arc::clone(&shared);
        let thread = std::thread::Builder::new()
            .name(format!("graph-emulator:{}", local.port()))
            .spawn(move || {
                runtime.block_on(server::serve(
                    listener,
                    acceptor,
                    thread_shared,
                    async move {
                        let _ = shutdown_rx.await;
                    },
                ));
                // Dropping the runtime cancels the connection tasks still running.
                drop(runtime);
            })?;
        Ok(Emulator {
            shared,
            port: local.port(),
            ca,
            shutdown_tx: Some(shutdown_tx),
            thread: Some(thread),
        })
    }

    /// Base URL without a trailing slash or version, e.g. `http://127.0.0.1:41234`
    /// (`https://…` with TLS). An unspecified bind address (`0.0.0.0`, `::`) is
    /// shown as loopback.
    pub fn base_url(&self) -> &str {
        &self.shared.base_url
    }

    /// With TLS, the throwaway CA's certificate as PEM text (what clients must
    /// trust); `None` without TLS.
    pub fn ca_pem(&self) -> Option<&str> {
        self.ca.as_ref().map(|(pem, _)| pem.as_str())
    }

    /// With TLS, the absolute path of the file holding [`Emulator::ca_pem`];
    /// `None` without TLS. See [`TlsOptions::ca_out`] for its lifetime.
    pub fn ca_path(&self) -> Option<&Path> {
        self.ca.as_ref().map(|(_, file)| file.path.as_path())
    }

    /// The TCP port it listens on.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Appends faults to the queue (see [`Fault`]).
    ///
    /// # Panics
    /// If a fault is invalid (see [`Fault::validate`]).
    pub fn push_faults(&self, faults: impl IntoIterator<Item = Fault>) {
        let faults: Vec<Fault> = faults.into_iter().collect();
        for fault in &faults {
            if let Err(e) = fault.validate() {
                panic!("invalid fault {fault:?}: {e}");
            }
        }
        self.shared.push_faults(faults);
    }

    /// Faults still queued, with their remaining `times`.
    pub fn pending_faults(&self) -> Vec<Fault> {
        self.shared.state().faults.iter().cloned().collect()
    }

    /// Requests received so far, in arrival order, excluding `/_emulator/*` ones.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.shared.state().requests.clone()
    }

    /// Insights stored for that (percent-decoded) user id, in creation order.
    pub fn stored(&self, user_id: &str) -> Vec<serde_json::Value> {
        self.shared
            .state()
            .store
            .get(user_id)
            .cloned()
            .unwrap_or_default()
    }

    /// Number of insights stored across all users.
    pub fn stored_count(&self) -> usize {
        self.shared.state().store.values().map(Vec::len).sum()
    }

    /// Registers an app with the emulated Entra ID, replacing one with the same
    /// tenant and client id.
    ///
    /// # Panics
    /// If the app is invalid (see [`EntraApp::validate`]).
    pub fn register_app(&self, app: EntraApp) {
        if let Err(e) = self.shared.entra.register(app) {
            panic!("invalid Entra app: {e}");
        }
    }

    /// Sets `expires_in` of the access tokens issued from now on (tokens
    /// already issued keep their expiry).
    pub fn set_token_lifetime(&self, lifetime: Duration) {
        self.shared.entra.set_token_lifetime(lifetime);
    }

    /// The token requests among [`Emulator::requests`]: those to
    /// `/{tenant}/oauth2/v2.0/token`, `/msi/token` and
    /// `/metadata/identity/oauth2/token`, in arrival order.
    pub fn token_requests(&self) -> Vec<RecordedRequest> {
        self.shared
            .state()
            .requests
            .iter()
            .filter(|r| entra::is_entra_path(&r.path))
            .cloned()
            .collect()
    }

    /// Clears queued faults, recorded requests and stored insights; the
    /// emulated Entra ID returns to its start-up apps and token lifetime and
    /// forgets the tokens it issued and the assertion ids it saw.
    /// Puts these limits in force (see [`Limits`]) and starts counting
    /// afresh; `Limits::default()` turns them off.
    ///
    /// # Panics
    /// If the limits are invalid (see [`Limits::validate`]).
    pub fn set_limits(&self, limits: Limits) {
        if let Err(e) = limits.validate() {
            panic!("invalid limits {limits:?}: {e}");
        }
        self.shared.gate.set(limits);
    }

    /// The limits in force and what they did (admitted, throttled, the
    /// peak in progress) since they were set or the emulator was reset.
    pub fn limits_report(&self) -> LimitsReport {
        self.shared.gate.report()
    }

    /// Puts this chaos in force (see [`Chaos`]) and starts counting
    /// afresh; `Chaos::default()` turns it off.
    ///
    /// # Panics
    /// If the chaos is invalid (see [`Chaos::validate`]).
    pub fn set_chaos(&self, chaos: Chaos) {
        if let Err(e) = chaos.validate() {
            panic!("invalid chaos {chaos:?}: {e}");
        }
        self.shared.chaos.set(chaos);
    }

    /// The chaos in force, its seed, and what it did since it was set or
    /// the emulator was reset.
    pub fn chaos_report(&self) -> ChaosReport {
        self.shared.chaos.report()
    }

    /// Clears queued faults, recorded requests and stored insights, and
    /// restarts the counting of the limits and of chaos (both stay in
    /// force; chaos starts again from its seed).
    pub fn reset(&self) {
        self.shared.reset();
    }

    /// Stops serving, closes open connections and joins the server thread.
    /// Dropping the emulator does the same.
    pub fn shutdown(mut self) {
        self.stop();
    }

    fn stop(&mut self) {
        if let Some(tx) = self.shutdown_tx.take() {
            let _ = tx.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl Drop for Emulator {
    fn drop(&mut self) {
        self.stop();
    }
}

/// The address clients are told to use: loopback for an unspecified one.
fn announced_ip(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V4(ip) if ip.is_unspecified() => IpAddr::V4(Ipv4Addr::LOCALHOST),
        IpAddr::V6(ip) if ip.is_unspecified() => IpAddr::V6(Ipv6Addr::LOCALHOST),
        ip => ip,
    }
}

fn base_url_for(addr: SocketAddr, tls: bool) -> String {
    let scheme = if tls { "https" } else { "http" };
    // SocketAddr's Display brackets IPv6 addresses.
    format!(
        "{scheme}://{}",
        SocketAddr::new(announced_ip(addr.ip()), addr.port())
    )
}

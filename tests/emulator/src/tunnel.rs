//! A pinned CONNECT proxy: it accepts `CONNECT any-host:port`, records what
//! was asked (and the Basic user name, never the password), answers `200`
//! and joins the client to ONE fixed loopback address — the emulator —
//! whatever host the client named. So a client configured for
//! `https://graph.microsoft.com` and a proxy from its environment reaches
//! the emulator, and nothing leaves loopback.

use std::fmt;
use std::io;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::Duration;

use base64::Engine;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_rustls::TlsAcceptor;

use crate::tls;
use crate::TlsOptions;

/// Largest request head the proxy reads; a longer one gets `431`.
const MAX_HEAD: usize = 16 * 1024;
/// How long a client may take to send its request head.
const HEAD_TIMEOUT: Duration = Duration::from_secs(10);

/// How to start a [`TunnelProxy`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TunnelConfig {
    /// Where every tunnel leads, whatever the `CONNECT` names: a loopback
    /// address (anything else is refused at start), e.g. the emulator's.
    pub to: SocketAddr,
    /// TCP port to listen on (on `127.0.0.1`); `0` (the default) picks a
    /// free ephemeral port.
    pub port: u16,
    /// Serve `https://` (TLS to the proxy itself) with a throwaway CA made
    /// at start-up, for `localhost`, `127.0.0.1` and `::1`
    /// ([`TunnelProxy::ca_pem`]); `false` (the default) serves plain
    /// `http://`.
    pub tls: bool,
    /// Where to write that CA certificate (see [`TlsOptions::ca_out`]);
    /// `None`: a temporary file removed at shutdown.
    pub ca_out: Option<PathBuf>,
    /// Basic credentials every `CONNECT` must carry in
    /// `Proxy-Authorization`; without them, or with others, the answer is
    /// `407`. `None` (the default): no credentials asked (any sent are
    /// ignored, their user name still recorded).
    pub credentials: Option<ProxyCredentials>,
}

impl TunnelConfig {
    /// Tunnels to `to`, plain `http://`, any port, no credentials.
    pub fn to(to: SocketAddr) -> TunnelConfig {
        TunnelConfig {
            to,
            port: 0,
            tls: false,
            ca_out: None,
            credentials: None,
        }
    }
}

/// A user name and password a [`TunnelProxy`] requires. `Debug` never shows
/// the password.
#[derive(Clone, PartialEq, Eq)]
pub struct ProxyCredentials {
    /// The Basic user name.
    pub user: String,
    /// The Basic password.
    pub password: String,
}

impl fmt::Debug for ProxyCredentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ProxyCredentials")
            .field("user", &self.user)
            .finish_non_exhaustive()
    }
}

/// One request the proxy received, as recorded before it answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProxyRequest {
    /// The method: `CONNECT`, or anything else (answered `405`).
    pub method: String,
    /// The request target as sent: for `CONNECT`, the authority the client
    /// asked for, e.g. `graph.microsoft.com:443`.
    pub target: String,
    /// The user name of a `Proxy-Authorization: Basic` header, if any (the
    /// password is never kept).
    pub user: Option<String>,
    /// What the proxy answered: `200` (tunnel open), `407` (credentials
    /// missing or wrong), `405` (not a `CONNECT`), `400` (a malformed
    /// request), `431` (a head over 16 KiB) or `502` (the pinned address
    /// refused the connection).
    pub status: u16,
}

impl fmt::Display for ProxyRequest {
    /// The line the `tunnel-proxy` binary prints:
    /// `CONNECT graph.microsoft.com:443 user=- status=200`, bytes outside
    /// printable ASCII (and spaces, `%`) as `%XX`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} {} user={} status={}",
            escape(&self.method),
            escape(&self.target),
            self.user.as_deref().map_or_else(|| "-".to_owned(), escape),
            self.status
        )
    }
}

/// A running pinned CONNECT proxy: a tokio current-thread runtime on its own
/// thread. Dropping it shuts it down.
///
/// ```no_run
/// use graph_emulator::{Emulator, EmulatorConfig, TlsOptions, TunnelConfig, TunnelProxy};
///
/// let emu = Emulator::start(EmulatorConfig {
///     tls: Some(TlsOptions { names: vec!["graph.microsoft.com".into()], ..Default::default() }),
///     ..Default::default()
/// }).unwrap();
/// let to = format!("127.0.0.1:{}", emu.port()).parse().unwrap();
/// let proxy = TunnelProxy::start(TunnelConfig::to(to)).unwrap();
/// // HTTPS_PROXY=proxy.url(): a client of https://graph.microsoft.com
/// // trusting emu.ca_pem() reaches the emulator through the tunnel.
/// assert_eq!(proxy.requests().len(), 0);
/// ```
pub struct TunnelProxy {
    url: String,
    port: u16,
    shared: Arc<Shared>,
    ca: Option<(String, tls::CaFile)>,
    shutdown_tx: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl fmt::Debug for TunnelProxy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TunnelProxy")
            .field("url", &self.url)
            .field("to", &self.shared.to)
            .finish_non_exhaustive()
    }
}

type Observer = Box<dyn Fn(&ProxyRequest) + Send + Sync>;

struct Shared {
    to: SocketAddr,
    credentials: Option<ProxyCredentials>,
    requests: Mutex<Vec<ProxyRequest>>,
    observer: Option<Observer>,
}

impl Shared {
    fn requests(&self) -> MutexGuard<'_, Vec<ProxyRequest>> {
        self.requests.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Records a request before it is answered, so whoever waits for the
    /// answer finds it recorded.
    fn record(&self, request: ProxyRequest) {
        if let Some(observer) = &self.observer {
            observer(&request);
        }
        self.requests().push(request);
    }
}

impl TunnelProxy {
    /// Binds `127.0.0.1:port`, makes the certificates (with TLS) and serves
    /// on a new thread; returns once listening.
    pub fn start(config: TunnelConfig) -> io::Result<TunnelProxy> {
        TunnelProxy::start_inner(config, None)
    }

    /// Like [`TunnelProxy::start`], calling `observer` with every request
    /// as it is recorded, before it is answered (the binary prints them).
    pub fn start_observed(
        config: TunnelConfig,
        observer: impl Fn(&ProxyRequest) + Send + Sync + 'static,
    ) -> io::Result<TunnelProxy> {
        TunnelProxy::start_inner(config, Some(Box::new(observer)))
    }

    fn start_inner(config: TunnelConfig, observer: Option<Observer>) -> io::Result<TunnelProxy> {
        if !config.to.ip().is_loopback() {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!(
                    "the tunnel leads to {}, which is not loopback: tests stay on loopback",
                    config.to
                ),
            ));
        }
        let loopback = IpAddr::V4(Ipv4Addr::LOCALHOST);
        let std_listener = std::net::TcpListener::bind(SocketAddr::new(loopback, config.port))?;
        std_listener.set_nonblocking(true)?;
        let port = std_listener.local_addr()?.port();
        let (acceptor, ca) = if config.tls {
            let made = tls::make(&TlsOptions::default(), loopback)?;
            let file = tls::CaFile::write(&made.ca_pem, config.ca_out.as_deref())?;
            (Some(made.acceptor), Some((made.ca_pem, file)))
        } else {
            (None, None)
        };
        let scheme = if config.tls { "https" } else { "http" };
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_io()
            .enable_time()
            .build()?;
        let listener = {
            let _guard = runtime.enter();
            tokio::net::TcpListener::from_std(std_listener)?
        };
        let shared = Arc::new(Shared {
            to: config.to,
            credentials: config.credentials,
            requests: Mutex::new(Vec::new()),
            observer,
        });
        let (shutdown_tx, shutdown_rx) = tokio::sync::oneshot::channel::<()>();
        let thread_shared = Arc::clone(&shared);
        let thread = std::thread::Builder::new()
            .name(format!("tunnel-proxy:{port}"))
            .spawn(move || {
                runtime.block_on(serve(listener, acceptor, thread_shared, shutdown_rx));
                // Dropping the runtime ends the tunnels still open.
                drop(runtime);
            })?;
        Ok(TunnelProxy {
            url: format!("{scheme}://127.0.0.1:{port}"),
            port,
            shared,
            ca,
            shutdown_tx: Some(shutdown_tx),
            thread: Some(thread),
        })
    }

    /// `http://127.0.0.1:PORT` (`https://…` with TLS): the proxy URL to
    /// give a client.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The proxy URL with `user:password@` in it (neither is encoded: keep
    /// them to URL-safe characters).
    pub fn url_with(&self, user: &str, password: &str) -> String {
        let (scheme, rest) = self.url.split_once("://").unwrap_or(("http", &self.url));
        format!("{scheme}://{user}:{password}@{rest}")
    }

    /// The TCP port it listens on.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// With TLS, its throwaway CA's certificate as PEM text; `None` without.
    pub fn ca_pem(&self) -> Option<&str> {
        self.ca.as_ref().map(|(pem, _)| pem.as_str())
    }

    /// With TLS, the absolute path of the file holding
    /// [`TunnelProxy::ca_pem`]; `None` without.
    pub fn ca_path(&self) -> Option<&Path> {
        self.ca.as_ref().map(|(_, file)| file.path.as_path())
    }

    /// The requests received so far, in arrival order.
    pub fn requests(&self) -> Vec<ProxyRequest> {
        self.shared.requests().clone()
    }

    /// The targets of the `CONNECT` requests received so far, in order,
    /// e.g. `["graph.microsoft.com:443"]`, whatever was answered.
    pub fn connects(&self) -> Vec<String> {
        self.shared
            .requests()
            .iter()
            .filter(|r| r.method == "CONNECT")
            .map(|r| r.target.clone())
            .collect()
    }

    /// Stops listening, ends open tunnels and joins the thread (removing a
    /// temporary CA file). Dropping it does the same.
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

impl Drop for TunnelProxy {
    fn drop(&mut self) {
        self.stop();
    }
}

async fn serve(
    listener: tokio::net::TcpListener,
    acceptor: Option<TlsAcceptor>,
    shared: Arc<Shared>,
    shutdown: tokio::sync::oneshot::Receiver<()>,
) {
    tokio::pin!(shutdown);
    loop {
        tokio::select! {
            _ = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => {
                    let _ = stream.set_nodelay(true);
                    let shared = Arc::clone(&shared);
                    let acceptor = acceptor.clone();
                    tokio::spawn(async move {
                        match acceptor {
                            None => serve_connection(stream, &shared).await,
                            // A failed handshake (the client does not trust
                            // our CA) just ends the connection: no request.
                            Some(acceptor) => {
                                if let Ok(stream) = acceptor.accept(stream).await {
                                    serve_connection(stream, &shared).await;
                                }
                            }
                        }
                    });
                }
                Err(_) => tokio::time::sleep(Duration::from_millis(10)).await,
            }
        }
    }
}

/// One client connection: one request head, then either a tunnel until
/// either side closes, or an error answer and the end of the connection.
async fn serve_connection<S>(mut client: S, shared: &Shared)
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let (head, rest) = match tokio::time::timeout(HEAD_TIMEOUT, read_head(&mut client)).await {
        Ok(Ok(Some(read))) => read,
        Ok(Err(TooLong)) => {
            let _ = answer(&mut client, 431, "Request Header Fields Too Large", "").await;
            return;
        }
        // Closed, broken or silent before a whole head: nothing to record.
        Ok(Ok(None)) | Err(_) => return,
    };
    let request = parse_head(&head);
    let Some((method, target, user, password)) = request else {
        shared.record(ProxyRequest {
            method: String::new(),
            target: String::new(),
            user: None,
            status: 400,
        });
        let _ = answer(&mut client, 400, "Bad Request", "").await;
        return;
    };
    let mut record = ProxyRequest {
        method,
        target,
        user,
        status: 200,
    };
    if record.method != "CONNECT" {
        record.status = 405;
        shared.record(record);
        let _ = answer(&mut client, 405, "Method Not Allowed", "Allow: CONNECT\r\n").await;
        return;
    }
    if let Some(required) = &shared.credentials {
        let given = record.user.as_deref().zip(password.as_deref());
        if given != Some((required.user.as_str(), required.password.as_str())) {
            record.status = 407;
            shared.record(record);
            let challenge = "Proxy-Authenticate: Basic realm=\"tunnel-proxy\"\r\n";
            let _ = answer(&mut client, 407, "Proxy Authentication Required", challenge).await;
            return;
        }
    }
    let mut upstream = match TcpStream::connect(shared.to).await {
        Ok(upstream) => upstream,
        Err(_) => {
            record.status = 502;
            shared.record(record);
            let _ = answer(&mut client, 502, "Bad Gateway", "").await;
            return;
        }
    };
    let _ = upstream.set_nodelay(true);
    shared.record(record);
    if client
        .write_all(b"HTTP/1.1 200 Connection established\r\n\r\n")
        .await
        .is_err()
        || client.flush().await.is_err()
        || upstream.write_all(&rest).await.is_err()
    {
        return;
    }
    let _ = tokio::io::copy_bidirectional(&mut client, &mut upstream).await;
}

/// A head longer than [`MAX_HEAD`].
struct TooLong;

/// Reads up to the blank line ending the request head: the head, and any
/// bytes the client sent after it (already the tunnel's). `None` when the
/// connection ends first.
async fn read_head<S: AsyncRead + Unpin>(
    client: &mut S,
) -> Result<Option<(String, Vec<u8>)>, TooLong> {
    let mut buf = Vec::with_capacity(1024);
    let mut chunk = [0u8; 4096];
    loop {
        if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            let rest = buf.split_off(end + 4);
            return Ok(Some((String::from_utf8_lossy(&buf).into_owned(), rest)));
        }
        if buf.len() > MAX_HEAD {
            return Err(TooLong);
        }
        match client.read(&mut chunk).await {
            Ok(0) | Err(_) => return Ok(None),
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
    }
}

/// Method, target, and the Basic user name and password of
/// `Proxy-Authorization`, if any; `None` for a malformed request line.
type Head = (String, String, Option<String>, Option<String>);

fn parse_head(head: &str) -> Option<Head> {
    let mut lines = head.split("\r\n");
    let mut parts = lines.next()?.split(' ');
    let (method, target, version) = (parts.next()?, parts.next()?, parts.next()?);
    if method.is_empty() || target.is_empty() || !version.starts_with("HTTP/") {
        return None;
    }
    let mut user = None;
    let mut password = None;
    for line in lines {
        let Some((name, value)) = line.split_once(':') else {
            continue;
        };
        if !name.trim().eq_ignore_ascii_case("proxy-authorization") {
            continue;
        }
        let mut value = value.trim().splitn(2, ' ');
        let scheme = value.next().unwrap_or_default();
        let encoded = value.next().unwrap_or_default().trim();
        if !scheme.eq_ignore_ascii_case("basic") {
            continue;
        }
        let Ok(decoded) = base64::engine::general_purpose::STANDARD.decode(encoded) else {
            continue;
        };
        let decoded = String::from_utf8_lossy(&decoded).into_owned();
        let (u, p) = decoded.split_once(':').unwrap_or((&decoded, ""));
        user = Some(u.to_owned());
        password = Some(p.to_owned());
    }
    Some((method.to_owned(), target.to_owned(), user, password))
}

async fn answer<S: AsyncWrite + Unpin>(
    client: &mut S,
    status: u16,
    reason: &str,
    headers: &str,
) -> io::Result<()> {
    let head = format!(
        "HTTP/1.1 {status} {reason}\r\n{headers}Content-Length: 0\r\nConnection: close\r\n\r\n"
    );
    client.write_all(head.as_bytes()).await?;
    client.flush().await?;
    client.shutdown().await
}

/// Printable ASCII as is; spaces, `%` and anything else as `%XX`, so a
/// recorded line always splits into its four fields.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_graphic() && byte != b'%' {
            out.push(byte as char);
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn heads_parse_with_the_basic_user_and_password() {
        let head = "CONNECT graph.microsoft.com:443 HTTP/1.1\r\nHost: x\r\n\
                    proxy-authorization: Basic dXNlcjpwYTpzcw==";
        let (method, target, user, password) = parse_head(head).unwrap();
        assert_eq!(method, "CONNECT");
        assert_eq!(target, "graph.microsoft.com:443");
        assert_eq!(user.as_deref(), Some("user"));
        assert_eq!(password.as_deref(), Some("pa:ss"));
        assert!(parse_head("CONNECT\r\n").is_none());
        assert!(parse_head("CONNECT a:1 SMTP\r\n").is_none());
    }

    #[test]
    fn recorded_lines_keep_four_fields_and_never_a_password() {
        let request = ProxyRequest {
            method: "CONNECT".into(),
            target: "graph.microsoft.com:443".into(),
            user: Some("a user%".into()),
            status: 200,
        };
        assert_eq!(
            request.to_string(),
            "CONNECT graph.microsoft.com:443 user=a%20user%25 status=200"
        );
        let none = ProxyRequest {
            user: None,
            ..request
        };
        assert!(none.to_string().contains(" user=- "));
        let credentials = ProxyCredentials {
            user: "u".into(),
            password: "secret".into(),
        };
        assert!(!format!("{credentials:?}").contains("secret"));
    }

    #[test]
    fn only_loopback_is_a_tunnel_s_end() {
        let config = TunnelConfig::to("192.0.2.1:443".parse().unwrap());
        let err = TunnelProxy::start(config).unwrap_err();
        assert!(err.to_string().contains("not loopback"), "{err}");
    }
}

//! The sockets under ureq, cut into slices so that a cancelled call stops
//! waiting at once (see `cancel`).
//!
//! The connector chain is ureq's default one for this library's needs —
//! HTTP `CONNECT` proxies, TCP, rustls — with ureq's TCP connector replaced
//! by [`SlicedTcpConnector`]: when the call on this thread has a
//! [`CancelToken`](crate::CancelToken), connecting (a non-blocking connect,
//! polled) and every read wait at most a slice and look at the token in
//! between (the transport itself is [`SlicedTcp`](crate::tcp::SlicedTcp)).
//! The TLS layer sits above it, so handshakes are covered too.
//! A call without a token connects and reads in one piece, as ureq does.
//!
//! Two markers around the chain tell `cancel` when a connection is being
//! opened, so that a cancel before the request's first byte is written is
//! reported "not sent". A cancelled transport is dropped by ureq (an error
//! ends the request), so it never goes back to the pool.

use std::fmt;
use std::io;
use std::net::{SocketAddr, TcpStream};
use std::sync::{mpsc, Arc};
use std::time::{Duration, Instant};

use ureq::unversioned::resolver::{ResolvedSocketAddrs, Resolver};
use ureq::unversioned::transport::time::Duration as UreqDuration;
use ureq::unversioned::transport::{
    ConnectProxyConnector, ConnectionDetails, Connector, LazyBuffers, NextTimeout, RustlsConnector,
    ShutdownHandle, Transport,
};
use ureq::ProxyProtocol;

use crate::cancel::{self, SLICE};
use crate::tcp::SlicedTcp;

/// The connector chain of every agent of this library.
pub(crate) fn connector() -> impl Connector<()> {
    ().chain(OpeningStarts)
        .chain(ConnectProxyConnector::default())
        .chain(SlicedTcpConnector)
        .chain(RustlsConnector::default())
        .chain(OpeningEnds)
}

/// What a cancelled transport returns, inside a `ureq::Error::Io`: what the
/// call was doing, and whether a byte of the request may have been written.
#[derive(Debug)]
pub(crate) struct CancelledIo {
    pub(crate) phase: &'static str,
    pub(crate) sent: bool,
}

impl fmt::Display for CancelledIo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "cancelled {}", self.phase)
    }
}

impl std::error::Error for CancelledIo {}

/// The cancel as ureq carries it back up. `ErrorKind::Other`, not
/// `Interrupted`: `write_all` and friends retry `Interrupted`.
pub(crate) fn cancelled(phase_if_sent: &'static str) -> ureq::Error {
    let sent = cancel::request_may_have_been_sent();
    let phase = if cancel::is_connecting() {
        "while connecting"
    } else if sent {
        phase_if_sent
    } else {
        "before the request was sent"
    };
    ureq::Error::Io(io::Error::other(CancelledIo { phase, sent }))
}

/// The cancel inside a ureq error, if that is what ended the request.
pub(crate) fn cancelled_by(error: &ureq::Error) -> Option<&CancelledIo> {
    match error {
        ureq::Error::Io(e) => e.get_ref()?.downcast_ref::<CancelledIo>(),
        _ => None,
    }
}

/// First in the chain: a connection starts being opened.
#[derive(Debug)]
struct OpeningStarts;

impl<In: Transport> Connector<In> for OpeningStarts {
    type Out = In;

    fn connect(
        &self,
        _: &ConnectionDetails,
        chained: Option<In>,
    ) -> Result<Option<In>, ureq::Error> {
        if cancel::active() {
            cancel::connecting();
            if cancel::current_poll() {
                return Err(cancelled("while connecting"));
            }
        }
        Ok(chained)
    }
}

/// Last in the chain: the connection is open (TLS included).
#[derive(Debug)]
struct OpeningEnds;

impl<In: Transport> Connector<In> for OpeningEnds {
    type Out = In;

    fn connect(
        &self,
        _: &ConnectionDetails,
        chained: Option<In>,
    ) -> Result<Option<In>, ureq::Error> {
        if cancel::active() {
            cancel::connected();
        }
        Ok(chained)
    }
}

/// Opens TCP connections to the resolved addresses, each address getting
/// a share of the connect timeout (half for the first, a quarter for the
/// next…, as ureq does), moving on when one is refused or unreachable.
#[derive(Debug)]
struct SlicedTcpConnector;

impl<In: Transport> Connector<In> for SlicedTcpConnector {
    type Out = ureq::unversioned::transport::Either<In, SlicedTcp>;

    fn connect(
        &self,
        details: &ConnectionDetails,
        chained: Option<In>,
    ) -> Result<Option<Self::Out>, ureq::Error> {
        use ureq::unversioned::transport::Either;
        if let Some(chained) = chained {
            // Through a proxy tunnel, already connected (by this connector).
            return Ok(Some(Either::A(chained)));
        }
        if let Some(proxy) = details.config.proxy() {
            // SOCKS is refused when a client is built (decision 18); never
            // fall back to a direct connection should one get here.
            if !matches!(proxy.protocol(), ProxyProtocol::Http | ProxyProtocol::Https) {
                return Err(ureq::Error::ConnectionFailed);
            }
        }
        let stream = connect_any(&details.addrs, details.timeout)?;
        if details.config.no_delay() {
            stream.set_nodelay(true)?;
        }
        let stream = Arc::new(stream);
        let weak = Arc::downgrade(&stream) as std::sync::Weak<dyn ShutdownHandle>;
        (details.register_shutdown)(weak)?;
        let buffers = LazyBuffers::new(
            details.config.input_buffer_size(),
            details.config.output_buffer_size(),
        );
        Ok(Some(Either::B(SlicedTcp::new(stream, buffers))))
    }
}

/// Shortest share of the connect timeout an address gets.
const MIN_PER_ADDRESS: Duration = Duration::from_millis(10);

fn connect_any(
    addrs: &ResolvedSocketAddrs,
    timeout: NextTimeout,
) -> Result<TcpStream, ureq::Error> {
    let started = Instant::now();
    let total = exact(timeout.after);
    let count = i32::try_from(addrs.len()).unwrap_or(i32::MAX);
    let total_weight = 2.0 * (1.0 - 0.5_f64.powi(count));
    let mut weight = 1.0_f64;
    let mut last: Option<ureq::Error> = None;
    for addr in addrs.iter() {
        let share = total.map(|t| t.mul_f64(weight / total_weight).max(MIN_PER_ADDRESS));
        weight /= 2.0;
        match connect_one(*addr, share) {
            Ok(stream) => return Ok(stream),
            Err(ureq::Error::Io(e)) if cancelled_io(&e) => return Err(ureq::Error::Io(e)),
            Err(ureq::Error::Io(e)) if moves_on(&e) => last = Some(ureq::Error::Io(e)),
            Err(e @ ureq::Error::Timeout(_)) => {
                if total.is_some_and(|t| started.elapsed() >= t) {
                    return Err(ureq::Error::Timeout(timeout.reason));
                }
                last = Some(e);
            }
            Err(e) => return Err(e),
        }
    }
    Err(last.unwrap_or_else(|| {
        io::Error::new(io::ErrorKind::ConnectionRefused, "Connection refused").into()
    }))
}

fn cancelled_io(e: &io::Error) -> bool {
    e.get_ref().is_some_and(|inner| inner.is::<CancelledIo>())
}

/// A failure that concerns only this address, so the next may work.
fn moves_on(e: &io::Error) -> bool {
    use io::ErrorKind as K;
    matches!(
        e.kind(),
        K::ConnectionRefused
            | K::HostUnreachable
            | K::NetworkUnreachable
            | K::NetworkDown
            | K::AddrNotAvailable
    )
}

/// `None` for "no timeout".
pub(crate) fn exact(d: UreqDuration) -> Option<Duration> {
    match d {
        UreqDuration::Exact(d) => Some(d),
        UreqDuration::NotHappening => None,
    }
}

fn connect_timed_out() -> ureq::Error {
    ureq::Error::Timeout(ureq::Timeout::Connect)
}

/// One address: blocking without a token; with one, a non-blocking connect
/// polled a slice at a time (Unix; elsewhere bounded by the connect timeout).
fn connect_one(addr: SocketAddr, share: Option<Duration>) -> Result<TcpStream, ureq::Error> {
    if cancel::active() {
        #[cfg(unix)]
        return polled::connect(addr, share);
    }
    let connected = match share {
        Some(share) => TcpStream::connect_timeout(&addr, share),
        None => TcpStream::connect(addr),
    };
    match connected {
        Ok(stream) => Ok(stream),
        Err(e)
            if matches!(
                e.kind(),
                io::ErrorKind::TimedOut | io::ErrorKind::WouldBlock
            ) =>
        {
            Err(connect_timed_out())
        }
        Err(e) => Err(e.into()),
    }
}

#[cfg(unix)]
mod polled {
    use super::*;
    use socket2::{Domain, Protocol, Socket, Type};
    use std::os::fd::AsRawFd;

    /// Starts a non-blocking connect and waits for it a slice at a time.
    pub(super) fn connect(
        addr: SocketAddr,
        share: Option<Duration>,
    ) -> Result<TcpStream, ureq::Error> {
        let socket = Socket::new(Domain::for_address(addr), Type::STREAM, Some(Protocol::TCP))?;
        socket.set_nonblocking(true)?;
        match socket.connect(&addr.into()) {
            Ok(()) => {}
            Err(e) if e.raw_os_error() == Some(libc::EINPROGRESS) => {
                let until = share.and_then(|s| Instant::now().checked_add(s));
                loop {
                    if cancel::current_poll() {
                        return Err(cancelled("while connecting"));
                    }
                    let left = until.map(|u| u.saturating_duration_since(Instant::now()));
                    if left.is_some_and(|l| l.is_zero()) {
                        return Err(connect_timed_out());
                    }
                    let wait = left.map_or(SLICE, |l| l.min(SLICE));
                    if writable(&socket, wait)? {
                        break;
                    }
                }
                if let Some(e) = socket.take_error()? {
                    return Err(e.into());
                }
            }
            Err(e) => return Err(e.into()),
        }
        socket.set_nonblocking(false)?;
        Ok(socket.into())
    }

    /// Waits until the socket is writable (its connect finished, either
    /// way) or `wait` passed.
    #[allow(unsafe_code)] // poll(2): std has no way to wait for a connect
    fn writable(socket: &Socket, wait: Duration) -> io::Result<bool> {
        let mut fd = libc::pollfd {
            fd: socket.as_raw_fd(),
            events: libc::POLLOUT,
            revents: 0,
        };
        // At least 1 ms, so a sub-millisecond rest is not a busy loop.
        let ms = wait.as_millis().clamp(1, 1000) as libc::c_int;
        // SAFETY: `fd` is one valid, initialised pollfd for the duration of
        // the call, and the count says one.
        let ready = unsafe { libc::poll(&mut fd, 1, ms) };
        match ready {
            -1 => {
                let e = io::Error::last_os_error();
                if e.kind() == io::ErrorKind::Interrupted {
                    Ok(false) // a signal: look at the token, then wait on
                } else {
                    Err(e)
                }
            }
            0 => Ok(false),
            _ => Ok(true),
        }
    }
}

/// Resolves a host name on a helper thread while the calling thread waits
/// in slices, so a cancel does not wait for a slow DNS server. (IP
/// literals and cached names never get here.)
pub(crate) fn resolve_cancellable(
    lookup: impl Resolver + 'static,
    uri: &ureq::http::Uri,
    config: &ureq::config::Config,
    timeout: NextTimeout,
) -> Result<ResolvedSocketAddrs, ureq::Error> {
    let (sender, answer) = mpsc::sync_channel(1);
    let (uri, config) = (uri.clone(), config.clone());
    std::thread::Builder::new()
        .name("used-insight-resolve".into())
        .spawn(move || {
            let _ = sender.send(lookup.resolve(&uri, &config, timeout));
        })?;
    loop {
        if cancel::current_poll() {
            return Err(cancelled("while connecting"));
        }
        match answer.recv_timeout(SLICE) {
            Ok(resolved) => return resolved,
            Err(mpsc::RecvTimeoutError::Timeout) => {}
            Err(mpsc::RecvTimeoutError::Disconnected) => return Err(ureq::Error::HostNotFound),
        }
    }
}

//! The TCP transport under ureq (and under rustls, when the URL is
//! `https://`): reads that a cancel can interrupt, and as few system calls
//! per request as the job allows.
//!
//! Per create, against ureq's own TCP transport:
//! - **one write instead of two.** ureq hands over the request head and
//!   the body separately; both are kept and written together when the
//!   answer is first awaited (or once [`FLUSH_AT`] bytes are waiting). One
//!   `sendto` less, and the server gets the request in one piece. Nothing
//!   is written before it is needed: a request kept back is not sent.
//! - **socket timeouts set when they must change, not on every call.** A
//!   deadline shrinks by the microsecond, so setting the exact time left
//!   would be a `setsockopt` per read and write. The timeout set is kept
//!   while it is at most the time left and not much shorter; waking early
//!   only means looking at the time and waiting on.
//! - **the idle check is one `recv(MSG_PEEK | MSG_DONTWAIT)`** instead of
//!   switching the socket to non-blocking and back around a read.
//!
//! When the call on this thread has a [`CancelToken`](crate::CancelToken),
//! every read waits at most a slice ([`SLICE`]) and looks at the token in
//! between.

use std::fmt;
use std::io::{self, Read, Write};
use std::net::TcpStream;
use std::sync::Arc;
use std::time::{Duration, Instant};

use ureq::unversioned::transport::{Buffers, LazyBuffers, NextTimeout, Transport};

use crate::cancel::{self, SLICE};
use crate::cancel_io::{cancelled, exact};

/// Bytes kept back at most before they are written without waiting for
/// the answer to be awaited (a large `$batch` body).
const FLUSH_AT: usize = 64 * 1024;

/// A TCP connection of this library's connector.
pub(crate) struct SlicedTcp {
    /// Shared (weakly) with the agent, so `Agent::shutdown` can close it.
    stream: Arc<TcpStream>,
    buffers: LazyBuffers,
    /// Output handed over by ureq and not written yet.
    pending: Vec<u8>,
    /// When the pending output must be written by, and what for.
    write_by: Option<(Instant, ureq::Timeout)>,
    /// The socket's timeouts as last set.
    read_timeout: Option<Duration>,
    write_timeout: Option<Duration>,
}

impl fmt::Debug for SlicedTcp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SlicedTcp")
            .field("peer", &self.stream.peer_addr().ok())
            .finish()
    }
}

/// The timeout to set on the socket for a wait of `wanted`, or `None`
/// when the one set (`current`) will do: it must not outlast the wait,
/// and should not be much shorter (each early wake-up is a loop round).
/// A new value is set a little short of the wait, so that the next
/// request's slightly shorter wait still finds it fitting.
fn timeout_to_set(current: Option<Duration>, wanted: Option<Duration>) -> Option<Option<Duration>> {
    match (current, wanted) {
        (None, None) => None,
        (_, None) => Some(None),
        (Some(set), Some(wait)) if set <= wait && set >= wait - wait / 8 => None,
        (_, Some(wait)) => Some(Some(wait - wait / 16)),
    }
}

impl SlicedTcp {
    pub(crate) fn new(stream: Arc<TcpStream>, buffers: LazyBuffers) -> Self {
        SlicedTcp {
            stream,
            buffers,
            pending: Vec::new(),
            write_by: None,
            read_timeout: None,
            write_timeout: None,
        }
    }

    fn set_read_timeout(&mut self, wanted: Option<Duration>) -> io::Result<()> {
        if let Some(timeout) = timeout_to_set(self.read_timeout, wanted) {
            self.stream.set_read_timeout(timeout)?;
            self.read_timeout = timeout;
        }
        Ok(())
    }

    fn set_write_timeout(&mut self, wanted: Option<Duration>) -> io::Result<()> {
        if let Some(timeout) = timeout_to_set(self.write_timeout, wanted) {
            self.stream.set_write_timeout(timeout)?;
            self.write_timeout = timeout;
        }
        Ok(())
    }

    /// Writes what is pending, by the earliest deadline it was handed
    /// over with. Writes are not sliced: a request is small enough for
    /// the socket's buffer, and a write cut halfway would corrupt it.
    fn flush(&mut self) -> Result<(), ureq::Error> {
        if self.pending.is_empty() {
            return Ok(());
        }
        let result = self.write_pending();
        self.pending.clear();
        self.write_by = None;
        result
    }

    fn write_pending(&mut self) -> Result<(), ureq::Error> {
        if cancel::active() {
            if cancel::current_poll() {
                return Err(cancelled("while sending the request"));
            }
            cancel::writing();
        }
        let mut written = 0;
        while written < self.pending.len() {
            let left = match self.write_by {
                Some((by, reason)) => {
                    let left = by.saturating_duration_since(Instant::now());
                    if left.is_zero() {
                        return Err(ureq::Error::Timeout(reason));
                    }
                    Some(left)
                }
                None => None,
            };
            self.set_write_timeout(left)?;
            match (&*self.stream).write(&self.pending[written..]) {
                Ok(0) => return Err(io::Error::from(io::ErrorKind::WriteZero).into()),
                Ok(n) => written += n,
                // The timeout set (or a signal) ended the wait early: look
                // at the time left, then go on.
                Err(e)
                    if matches!(
                        e.kind(),
                        io::ErrorKind::TimedOut
                            | io::ErrorKind::WouldBlock
                            | io::ErrorKind::Interrupted
                    ) => {}
                Err(e) => return Err(e.into()),
            }
        }
        Ok(())
    }
}

impl Transport for SlicedTcp {
    fn buffers(&mut self) -> &mut dyn Buffers {
        &mut self.buffers
    }

    fn transmit_output(&mut self, amount: usize, timeout: NextTimeout) -> Result<(), ureq::Error> {
        let timeout = timeout.for_write();
        if let Some(after) = exact(timeout.after) {
            if after.is_zero() {
                return Err(ureq::Error::Timeout(timeout.reason));
            }
            let by = Instant::now() + after;
            if !matches!(self.write_by, Some((earlier, _)) if earlier <= by) {
                self.write_by = Some((by, timeout.reason));
            }
        }
        self.pending
            .extend_from_slice(&self.buffers.output()[..amount]);
        if self.pending.len() >= FLUSH_AT {
            self.flush()?;
        }
        Ok(())
    }

    fn await_input(&mut self, timeout: NextTimeout) -> Result<bool, ureq::Error> {
        // Nothing comes back for a request not written yet.
        self.flush()?;
        let timeout = timeout.for_read();
        let sliced = cancel::active();
        let until = exact(timeout.after).map(|after| Instant::now().checked_add(after));
        loop {
            if sliced && cancel::current_poll() {
                return Err(cancelled("while waiting for the answer"));
            }
            let left = match until {
                Some(Some(until)) => Some(until.saturating_duration_since(Instant::now())),
                Some(None) | None => None,
            };
            if left.is_some_and(|l| l.is_zero()) {
                return Err(ureq::Error::Timeout(timeout.reason));
            }
            let wait = if sliced {
                Some(left.map_or(SLICE, |l| l.min(SLICE)))
            } else {
                left
            };
            self.set_read_timeout(wait)?;
            let input = self.buffers.input_append_buf();
            match (&*self.stream).read(input) {
                Ok(amount) => {
                    self.buffers.input_appended(amount);
                    return Ok(amount > 0);
                }
                // A slice or the timeout set is over, or a signal came:
                // look at the token and the time left, then wait on.
                Err(e)
                    if matches!(
                        e.kind(),
                        io::ErrorKind::WouldBlock
                            | io::ErrorKind::TimedOut
                            | io::ErrorKind::Interrupted
                    ) =>
                {
                    if until.is_none() && !sliced && e.kind() == io::ErrorKind::Interrupted {
                        // No timeout at all: a signal interrupts, as in ureq.
                        return Err(e.into());
                    }
                }
                Err(e) => return Err(e.into()),
            }
        }
    }

    fn is_open(&mut self) -> bool {
        // Output kept back means a request was never finished: not reusable.
        self.pending.is_empty() && idle_and_open(&self.stream)
    }
}

/// Idle and open: a read would block. Anything to read (bytes nobody
/// asked for) or an error or end of stream (closed) means it cannot be
/// reused.
#[cfg(unix)]
#[allow(unsafe_code)] // recv(2) with flags: std has no non-blocking peek
fn idle_and_open(stream: &TcpStream) -> bool {
    use std::os::fd::AsRawFd;
    let mut byte = 0u8;
    // SAFETY: the buffer is one valid, writable byte for the duration of
    // the call, and the length says one.
    let got = unsafe {
        libc::recv(
            stream.as_raw_fd(),
            (&mut byte as *mut u8).cast(),
            1,
            libc::MSG_PEEK | libc::MSG_DONTWAIT,
        )
    };
    got == -1 && io::Error::last_os_error().kind() == io::ErrorKind::WouldBlock
}

#[cfg(not(unix))]
fn idle_and_open(stream: &TcpStream) -> bool {
    let probe = || -> io::Result<bool> {
        stream.set_nonblocking(true)?;
        let mut byte = [0u8];
        let open = matches!(
            stream.peek(&mut byte),
            Err(e) if e.kind() == io::ErrorKind::WouldBlock
        );
        stream.set_nonblocking(false)?;
        Ok(open)
    };
    probe().unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: Duration = Duration::from_millis(1);

    #[test]
    fn a_timeout_set_is_kept_while_it_fits_the_wait() {
        let first = timeout_to_set(None, Some(60_000 * MS)).unwrap().unwrap();
        assert!(first < 60_000 * MS && first > 55_000 * MS);
        // The next request's wait is a little shorter: no change.
        assert_eq!(timeout_to_set(Some(first), Some(59_999 * MS)), None);
        // A wait shorter than the timeout set: it must change.
        let shorter = timeout_to_set(Some(first), Some(1_000 * MS))
            .unwrap()
            .unwrap();
        assert!(shorter <= 1_000 * MS);
        // A much longer wait: changed, so a long wait is not cut in many.
        assert!(timeout_to_set(Some(shorter), Some(60_000 * MS)).is_some());
        // No timeout wanted: cleared once, then left alone.
        assert_eq!(timeout_to_set(Some(shorter), None), Some(None));
        assert_eq!(timeout_to_set(None, None), None);
    }

    #[test]
    fn a_timeout_set_never_outlasts_the_wait() {
        for wait_us in [1u64, 15, 16, 17, 1_000, 19_999, 20_000, 59_999_999] {
            let wait = Duration::from_micros(wait_us);
            for current in [None, Some(wait / 2), Some(wait), Some(wait * 2)] {
                let set = timeout_to_set(current, Some(wait)).unwrap_or(current);
                let set = set.expect("a wait has a timeout");
                assert!(set <= wait && !set.is_zero(), "{set:?} for {wait:?}");
            }
        }
    }
}

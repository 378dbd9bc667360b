//! Which process state belongs to. A child made by `fork()` inherits the
//! parent's memory, so a client built before the fork still holds the
//! parent's pooled keep-alive sockets: parent and child would then write
//! requests into, and read answers from, the same connections — and one
//! process can read the other's answer. Everything that must not cross a
//! fork (the connection pool, limiter counts, a token refresh in progress)
//! remembers the [`generation`] it was made in and starts afresh when the
//! generation has changed.
//!
//! The generation is a counter bumped by a `pthread_atfork` child handler,
//! installed the first time it is read: checking it costs one atomic load
//! per request (a `getpid()` would be a system call every time). Forks
//! through the C library's `fork()` — Python's `os.fork` and
//! `multiprocessing`, C daemons — run that handler; a raw `clone` system
//! call does not, and is not supported.

use std::sync::atomic::{AtomicU64, Ordering};

/// Bumped in every child process, by the at-fork handler.
static GENERATION: AtomicU64 = AtomicU64::new(0);

/// The current process's generation: equal values mean "the same process
/// as when it was read before"; any fork since changes it in the child.
pub(crate) fn generation() -> u64 {
    install_hook();
    GENERATION.load(Ordering::Acquire)
}

#[cfg(unix)]
#[allow(unsafe_code)] // a foreign call (the other: poll, in cancel_io)
fn install_hook() {
    static HOOK: std::sync::Once = std::sync::Once::new();
    HOOK.call_once(|| {
        // SAFETY: `in_child` is async-signal-safe (one atomic add), as a
        // handler run right after fork() in a multi-threaded program must be.
        let status = unsafe { libc::pthread_atfork(None, None, Some(in_child)) };
        // pthread_atfork fails only without memory for the handler; then
        // a forked child is not detected, which is no worse than before.
        if status != 0 {
            log::warn!("pthread_atfork failed ({status}); a client used across fork() is not safe");
        }
    });
}

#[cfg(not(unix))]
fn install_hook() {}

#[cfg(unix)]
extern "C" fn in_child() {
    GENERATION.fetch_add(1, Ordering::AcqRel);
}

/// Values inherited from another process, kept for the life of this one:
/// never used, never dropped (dropping one could shut down sockets that
/// process still uses), and still reachable, so leak checkers such as
/// valgrind do not report them.
static INHERITED: std::sync::Mutex<Vec<Box<dyn std::any::Any + Send>>> =
    std::sync::Mutex::new(Vec::new());

fn keep_forever<T: Send + 'static>(value: T) {
    INHERITED
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .push(Box::new(value));
}

/// A value that belongs to the process that made it: [`ForkLocal::get`]
/// answers the value made in this process, remaking it (with `make`) in a
/// forked child the first time it is asked there. The value inherited from
/// the parent is never used nor dropped in the child (see [`INHERITED`]).
pub(crate) struct ForkLocal<T: Send + 'static> {
    born: u64,
    /// `None` only while being dropped.
    original: Option<T>,
    /// The value made in a forked child, with its generation.
    remade: std::sync::Mutex<Option<(u64, T)>>,
}

impl<T: Clone + Send + 'static> ForkLocal<T> {
    pub(crate) fn new(value: T) -> Self {
        Self {
            born: generation(),
            original: Some(value),
            remade: std::sync::Mutex::new(None),
        }
    }

    /// This process's value: the original in the process that made it (no
    /// lock), otherwise the child's own, made by `make` on first use.
    pub(crate) fn get(&self, make: impl FnOnce() -> T) -> std::borrow::Cow<'_, T> {
        let now = generation();
        if let (true, Some(original)) = (now == self.born, &self.original) {
            return std::borrow::Cow::Borrowed(original);
        }
        let mut remade = self
            .remade
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        match &*remade {
            Some((born, value)) if *born == now => std::borrow::Cow::Owned(value.clone()),
            _ => {
                let value = make();
                // A grandchild's inherited copy is kept, never dropped, too.
                if let Some((_, inherited)) = remade.replace((now, value.clone())) {
                    keep_forever(inherited);
                }
                std::borrow::Cow::Owned(value)
            }
        }
    }
}

impl<T: Send + 'static> Drop for ForkLocal<T> {
    fn drop(&mut self) {
        let now = generation();
        if now != self.born {
            if let Some(inherited) = self.original.take() {
                keep_forever(inherited);
            }
        }
        let remade = self
            .remade
            .get_mut()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some((born, inherited)) = remade.take() {
            if born == now {
                drop(inherited);
            } else {
                keep_forever(inherited);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_original_is_used_in_the_process_that_made_it() {
        let local = ForkLocal::new(7);
        assert_eq!(*local.get(|| unreachable!("not a child")), 7);
        assert_eq!(generation(), local.born);
    }
}

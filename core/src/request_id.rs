//! Fresh `client-request-id` values (random UUIDs, version 4).
//!
//! `Uuid::new_v4` asks the kernel for 16 random bytes every time: a system
//! call per create, on the hot path. Here each thread asks for enough bytes
//! for [`PER_FILL`] ids at once and hands them out in turn, so the ids come
//! from the same source (the OS's CSPRNG) at a 64th of the calls. The bytes
//! belong to the process that drew them: a child made by `fork()` would
//! otherwise hand out its parent's next ids, so a thread's stock is thrown
//! away when the [`fork::generation`](crate::fork::generation) has changed.

use std::cell::RefCell;

use uuid::Uuid;

/// Ids drawn per system call.
const PER_FILL: usize = 64;

struct Stock {
    bytes: [u8; 16 * PER_FILL],
    /// Ids still unused: the last `left` 16-byte slots.
    left: usize,
    generation: u64,
}

thread_local! {
    static STOCK: RefCell<Stock> = const {
        RefCell::new(Stock { bytes: [0; 16 * PER_FILL], left: 0, generation: 0 })
    };
}

/// A new random (version 4) UUID.
pub(crate) fn new() -> Uuid {
    let generation = crate::fork::generation();
    STOCK
        .try_with(|stock| {
            let mut stock = stock.borrow_mut();
            if stock.left == 0 || stock.generation != generation {
                getrandom::fill(&mut stock.bytes).ok()?;
                stock.left = PER_FILL;
                stock.generation = generation;
            }
            stock.left -= 1;
            let at = stock.left * 16;
            let mut id = [0u8; 16];
            id.copy_from_slice(&stock.bytes[at..at + 16]);
            Some(uuid::Builder::from_random_bytes(id).into_uuid())
        })
        .ok()
        .flatten()
        // No thread-local storage left (a thread being torn down) or the
        // kernel refused: one id straight from the source, as uuid does.
        .unwrap_or_else(Uuid::new_v4)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn ids_are_version_4_and_do_not_repeat_across_refills() {
        let ids: HashSet<Uuid> = (0..PER_FILL * 5 + 3).map(|_| new()).collect();
        assert_eq!(ids.len(), PER_FILL * 5 + 3);
        for id in &ids {
            assert_eq!(id.get_version_num(), 4);
            assert_eq!(id.get_variant(), uuid::Variant::RFC4122);
        }
    }

    #[test]
    fn each_thread_draws_its_own() {
        let here: HashSet<Uuid> = (0..10).map(|_| new()).collect();
        let there: HashSet<Uuid> = std::thread::spawn(|| (0..10).map(|_| new()).collect())
            .join()
            .unwrap();
        assert!(here.is_disjoint(&there));
    }
}

//! How `create_many` shapes its JSON batches to fit the limits. Graph runs
//! the items of a batch without `dependsOn` in parallel and those chained
//! by `dependsOn` one after another, and refuses batches that mix the two
//! ("fully sequential or fully parallel"). So a batch either puts all its
//! items in flight at once (parallel) or one at a time (sequential);
//! docs/DECISIONS.md ("The batch shape") records which is used when, with the
//! measurements behind it.

use super::Cost;
use crate::{RateLimit, MAX_BATCH_REQUESTS as MAX_ITEMS};

/// The shape `create_many` uses. Not part of the stable API: the benchmark
/// sets it to measure the alternatives against each other.
#[doc(hidden)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ShapeChoice {
    /// The shape chosen from the client's limit (see [`BatchShape::for_limit`]).
    #[default]
    Auto,
    /// Unchained batches of at most this many items (1..=20).
    Parallel(usize),
    /// Batches of at most this many items (1..=20), each after the one before.
    Sequential(usize),
}

/// Items per batch, and whether they run one after another.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct BatchShape {
    pub(crate) size: usize,
    pub(crate) sequential: bool,
}

impl BatchShape {
    /// Without a limit: batches of 20 in parallel, as Graph allows. With
    /// one, no batch puts more items in flight than the limiter allows:
    /// with fewer batches in flight (`concurrency`) than requests may be,
    /// parallel batches of `max_concurrent` items; with as many or more,
    /// sequential batches of 20, one item in flight each, `max_concurrent`
    /// of them at once. Never more items than the window holds.
    pub(crate) fn for_limit(
        limit: Option<&RateLimit>,
        choice: ShapeChoice,
        concurrency: usize,
    ) -> Self {
        let clamp = |n: usize| n.clamp(1, MAX_ITEMS);
        match choice {
            ShapeChoice::Parallel(n) => BatchShape {
                size: clamp(n),
                sequential: false,
            },
            ShapeChoice::Sequential(n) => BatchShape {
                size: clamp(n),
                sequential: true,
            },
            ShapeChoice::Auto => {
                let Some(limit) = limit else {
                    return BatchShape {
                        size: MAX_ITEMS,
                        sequential: false,
                    };
                };
                let count = |n: u32| usize::try_from(n).unwrap_or(usize::MAX);
                let window = clamp(count(limit.requests));
                if concurrency >= count(limit.max_concurrent) {
                    BatchShape {
                        size: window,
                        sequential: true,
                    }
                } else {
                    BatchShape {
                        size: clamp(count(limit.max_concurrent)).min(window),
                        sequential: false,
                    }
                }
            }
        }
    }

    /// What a batch of `items` of this shape takes from the limits: every
    /// item in the window, and in flight all of them (parallel) or one.
    pub(crate) fn cost(&self, items: usize) -> Cost {
        let items = u32::try_from(items).unwrap_or(u32::MAX);
        Cost {
            in_flight: if self.sequential { 1 } else { items },
            requests: items,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn one_batch_in_flight_holds_what_may_run_in_parallel() {
        let graph = RateLimit::default();
        let auto = |limit: &RateLimit, concurrency| {
            BatchShape::for_limit(Some(limit), ShapeChoice::Auto, concurrency)
        };
        let shape = auto(&graph, 1);
        assert_eq!(
            shape,
            BatchShape {
                size: 4,
                sequential: false
            }
        );
        assert_eq!(
            shape.cost(4),
            Cost {
                in_flight: 4,
                requests: 4
            }
        );
        assert_eq!(auto(&graph, 3).size, 4);
        let wide = RateLimit {
            max_concurrent: 50,
            ..graph
        };
        assert_eq!(auto(&wide, 1).size, 20);
        let narrow_window = RateLimit {
            max_concurrent: 4,
            requests: 2,
            per: Duration::from_secs(1),
        };
        assert_eq!(auto(&narrow_window, 1).size, 2);
        assert_eq!(auto(&narrow_window, 4).size, 2);
        assert_eq!(
            BatchShape::for_limit(None, ShapeChoice::Auto, 1),
            BatchShape {
                size: 20,
                sequential: false
            }
        );
    }

    #[test]
    fn as_many_batches_as_may_be_in_flight_are_chains_of_twenty() {
        let graph = RateLimit::default();
        for concurrency in [4, 8] {
            let shape = BatchShape::for_limit(Some(&graph), ShapeChoice::Auto, concurrency);
            assert_eq!(
                shape,
                BatchShape {
                    size: 20,
                    sequential: true
                }
            );
        }
    }

    #[test]
    fn a_sequential_batch_has_one_item_in_flight() {
        let shape = BatchShape::for_limit(None, ShapeChoice::Sequential(20), 1);
        assert_eq!(
            shape.cost(20),
            Cost {
                in_flight: 1,
                requests: 20
            }
        );
        assert_eq!(
            BatchShape::for_limit(None, ShapeChoice::Parallel(0), 1).size,
            1
        );
    }
}

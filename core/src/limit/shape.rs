//! How `create_many` shapes its JSON batches to fit the limits. Graph runs
//! the items of a batch without `dependsOn` in parallel and those chained
//! by `dependsOn` one after another, and refuses batches that mix the two
//! ("fully sequential or fully parallel"). So a batch either puts all its
//! items in flight at once (parallel) or one at a time (sequential);
//! docs/DECISIONS.md (entry 20) records which is used and why.

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
    /// one: parallel batches of no more items than may be in flight (nor
    /// than the window holds), so one batch never puts more in flight than
    /// the limiter allows.
    pub(crate) fn for_limit(limit: Option<&RateLimit>, choice: ShapeChoice) -> Self {
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
                let size = match limit {
                    None => MAX_ITEMS,
                    Some(l) => {
                        clamp(usize::try_from(l.max_concurrent.min(l.requests)).unwrap_or(1))
                    }
                };
                BatchShape {
                    size,
                    sequential: false,
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
    fn parallel_batches_never_exceed_the_in_flight_limit() {
        let graph = RateLimit::default();
        let shape = BatchShape::for_limit(Some(&graph), ShapeChoice::Auto);
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
        let wide = RateLimit {
            max_concurrent: 50,
            ..graph
        };
        assert_eq!(
            BatchShape::for_limit(Some(&wide), ShapeChoice::Auto).size,
            20
        );
        let narrow_window = RateLimit {
            max_concurrent: 4,
            requests: 2,
            per: Duration::from_secs(1),
        };
        assert_eq!(
            BatchShape::for_limit(Some(&narrow_window), ShapeChoice::Auto).size,
            2
        );
        assert_eq!(BatchShape::for_limit(None, ShapeChoice::Auto).size, 20);
    }

    #[test]
    fn a_sequential_batch_has_one_item_in_flight() {
        let shape = BatchShape::for_limit(None, ShapeChoice::Sequential(20));
        assert_eq!(
            shape.cost(20),
            Cost {
                in_flight: 1,
                requests: 20
            }
        );
        assert_eq!(
            BatchShape::for_limit(None, ShapeChoice::Parallel(0)).size,
            1
        );
    }
}

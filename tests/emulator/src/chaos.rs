//! Chaos: random faults on Graph's POSTs, as Microsoft Dev Proxy's
//! `GraphRandomErrorPlugin` makes them — for a POST one of 429 (with
//! `Retry-After`), 500, 502, 503, 504 and 507, and in a `$batch` each item
//! on its own — plus what that plugin does not make and a client must
//! survive: answers lost after the work was done (the insight stored, then
//! the connection closed without a word) and slow answers. Queued
//! [`Fault`](crate::Fault)s come first: chaos only rolls for a request no
//! fault matched.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::Fault;

/// Dev Proxy's errors for POST, in its order.
pub const CHAOS_STATUSES: [u16; 6] = [429, 500, 502, 503, 504, 507];

/// How often each kind of chaos strikes a Graph POST (a create, or a
/// `$batch`), in percent; all 0 (the default): none.
///
/// Each create rolls once: an error (`error_percent`), else a lost answer
/// (`lost_percent`), else a normal answer; independently, a processed one
/// is slow (`slow_percent`). In a `$batch` each item rolls for an error on
/// its own, as Dev Proxy does, and the batch as a whole for a lost or slow
/// answer.
///
/// JSON (control endpoint, all fields optional):
/// `{"error_percent": 10, "lost_percent": 2, "slow_percent": 5,
/// "slow_ms": 300, "retry_after_ms": 100, "seed": 7}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Chaos {
    /// Percent of creates (and of `$batch` items) answered with a random
    /// error of [`CHAOS_STATUSES`], Graph-shaped, without being processed:
    /// nothing is stored. Dev Proxy's `rate`.
    pub error_percent: u8,
    /// Percent of creates (and of `$batch` requests) processed — the
    /// insight stored, every item run — whose connection is then closed
    /// without an answer.
    pub lost_percent: u8,
    /// Percent of processed creates (and `$batch` requests) answered only
    /// after a random delay of up to `slow_ms`, the work already done.
    pub slow_percent: u8,
    /// The longest delay of a slow answer, in milliseconds (default 500).
    pub slow_ms: u64,
    /// A chaos 429's `Retry-After` is random up to this, in milliseconds,
    /// sent as fractional seconds as Graph does (default 100; Dev Proxy
    /// sends whole seconds, 5 by default, which would make tests slow).
    pub retry_after_ms: u64,
    /// Seed of the random choices. `None` (the default): one from the
    /// clock, shown in the [`ChaosReport`] so a run can be repeated. The
    /// same seed gives the same sequence of rolls; with requests in
    /// parallel, which request gets which roll depends on their order.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub seed: Option<u64>,
}

impl Default for Chaos {
    fn default() -> Self {
        Chaos {
            error_percent: 0,
            lost_percent: 0,
            slow_percent: 0,
            slow_ms: 500,
            retry_after_ms: 100,
            seed: None,
        }
    }
}

impl Chaos {
    /// Checks the values: percentages up to 100, errors and lost answers
    /// together too (one roll picks either).
    pub fn validate(&self) -> Result<(), String> {
        for (name, value) in [
            ("error_percent", self.error_percent),
            ("lost_percent", self.lost_percent),
            ("slow_percent", self.slow_percent),
        ] {
            if value > 100 {
                return Err(format!("{name} must be 0 to 100, not {value}"));
            }
        }
        let both = u16::from(self.error_percent) + u16::from(self.lost_percent);
        if both > 100 {
            return Err(format!(
                "error_percent and lost_percent add up to {both}; at most 100"
            ));
        }
        Ok(())
    }

    fn is_off(&self) -> bool {
        self.error_percent == 0 && self.lost_percent == 0 && self.slow_percent == 0
    }
}

/// What chaos did since it was set or the emulator was reset
/// (`GET /_emulator/chaos`, [`crate::Emulator::chaos_report`]).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct ChaosReport {
    /// The chaos in force.
    pub chaos: Chaos,
    /// The seed in use (given, or taken from the clock).
    pub seed: u64,
    /// Creates and `$batch` items answered with each error status.
    pub errors: BTreeMap<u16, u64>,
    /// Creates and `$batch` requests processed whose answer was then lost.
    pub lost: u64,
    /// Creates and `$batch` requests answered late.
    pub slow: u64,
    /// Creates and `$batch` items chaos let through (processed, the answer
    /// maybe lost or slow).
    pub passed: u64,
}

/// What chaos does to one request.
#[derive(Debug, Default)]
pub(crate) struct Roll {
    /// A create's error answer, as a fault (not processed).
    pub(crate) error: Option<Fault>,
    /// A `$batch`'s items answered with an error (not run), by index.
    pub(crate) item_errors: BTreeMap<usize, Fault>,
    /// Close the connection once processed, without answering.
    pub(crate) lost: bool,
    /// Answer (or close) this much later, once processed.
    pub(crate) delay: Option<Duration>,
}

/// The chaos in force and its dice, shared by every connection.
pub(crate) struct Dice {
    state: Mutex<DiceState>,
}

struct DiceState {
    rng: fastrand::Rng,
    report: ChaosReport,
}

impl Default for Dice {
    fn default() -> Self {
        let dice = Dice {
            state: Mutex::new(DiceState {
                rng: fastrand::Rng::with_seed(0),
                report: ChaosReport::default(),
            }),
        };
        dice.set(Chaos::default());
        dice
    }
}

impl Dice {
    fn lock(&self) -> std::sync::MutexGuard<'_, DiceState> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Puts chaos in force (validated by the caller) and starts counting
    /// afresh, from its seed.
    pub(crate) fn set(&self, chaos: Chaos) {
        let seed = chaos.seed.unwrap_or_else(|| fastrand::Rng::new().u64(..));
        *self.lock() = DiceState {
            rng: fastrand::Rng::with_seed(seed),
            report: ChaosReport {
                chaos,
                seed,
                ..ChaosReport::default()
            },
        };
    }

    /// Starts counting afresh under the same chaos and seed.
    pub(crate) fn reset(&self) {
        let report = self.report();
        self.set(Chaos {
            seed: Some(report.seed),
            ..report.chaos
        });
    }

    pub(crate) fn report(&self) -> ChaosReport {
        self.lock().report.clone()
    }

    /// Rolls for one Graph POST: a create (`batch_len` `None`) or a
    /// `$batch` of `batch_len` items. `None` when chaos is off.
    pub(crate) fn roll(&self, batch_len: Option<usize>) -> Option<Roll> {
        let mut state = self.lock();
        let chaos = state.report.chaos;
        if chaos.is_off() {
            return None;
        }
        let DiceState { rng, report } = &mut *state;
        let mut roll = Roll::default();
        let error = |rng: &mut fastrand::Rng, report: &mut ChaosReport| {
            let status = CHAOS_STATUSES[rng.usize(..CHAOS_STATUSES.len())];
            *report.errors.entry(status).or_default() += 1;
            let retry_after = (status == 429).then(|| {
                let millis = rng.u64(1..=chaos.retry_after_ms.max(1));
                format!("{}.{:03}", millis / 1000, millis % 1000)
            });
            Fault {
                status: Some(status),
                message: Some(format!(
                    "Chaos: a random {status}, as Dev Proxy makes them."
                )),
                retry_after,
                ..Fault::default()
            }
        };
        let outcome = rng.u8(..100);
        match batch_len {
            None if outcome < chaos.error_percent => {
                roll.error = Some(error(rng, report));
                return Some(roll);
            }
            None => report.passed += 1,
            Some(len) => {
                for index in 0..len {
                    if rng.u8(..100) < chaos.error_percent {
                        roll.item_errors.insert(index, error(rng, report));
                    } else {
                        report.passed += 1;
                    }
                }
            }
        }
        // The same roll: past the errors' share, the lost answers' share.
        let lost_from = if batch_len.is_some() {
            0
        } else {
            chaos.error_percent
        };
        if (lost_from..lost_from + chaos.lost_percent).contains(&outcome) {
            roll.lost = true;
            report.lost += 1;
        }
        if rng.u8(..100) < chaos.slow_percent {
            roll.delay = Some(Duration::from_millis(rng.u64(1..=chaos.slow_ms.max(1))));
            report.slow += 1;
        }
        Some(roll)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dice(chaos: Chaos) -> Dice {
        let dice = Dice::default();
        dice.set(chaos);
        dice
    }

    #[test]
    fn off_by_default() {
        assert!(Dice::default().roll(None).is_none());
        assert!(Dice::default().roll(Some(3)).is_none());
    }

    #[test]
    fn rates_are_kept_and_a_seed_repeats_the_rolls() {
        let chaos = Chaos {
            error_percent: 20,
            lost_percent: 10,
            slow_percent: 5,
            slow_ms: 50,
            seed: Some(42),
            ..Chaos::default()
        };
        let run = || {
            let dice = dice(chaos);
            let rolls: Vec<String> = (0..10_000)
                .map(|_| format!("{:?}", dice.roll(None).unwrap()))
                .collect();
            (rolls, dice.report())
        };
        let (rolls, report) = run();
        assert_eq!(run().0, rolls, "the same seed, the same rolls");
        let errors: u64 = report.errors.values().sum();
        assert!((1_700..2_300).contains(&errors), "{report:?}");
        assert!((800..1_200).contains(&report.lost), "{report:?}");
        assert!((350..650).contains(&report.slow), "{report:?}");
        assert_eq!(errors + report.passed, 10_000);
        assert_eq!(
            report.errors.keys().copied().collect::<Vec<_>>(),
            CHAOS_STATUSES
        );
    }

    #[test]
    fn only_429_has_a_retry_after_within_the_bound() {
        let dice = dice(Chaos {
            error_percent: 100,
            retry_after_ms: 250,
            seed: Some(7),
            ..Chaos::default()
        });
        let mut throttled = 0;
        for _ in 0..500 {
            let fault = dice.roll(None).unwrap().error.unwrap();
            match (fault.status, fault.retry_after) {
                (Some(429), Some(ra)) => {
                    throttled += 1;
                    let secs: f64 = ra.parse().unwrap();
                    assert!(secs > 0.0 && secs <= 0.25, "{ra}");
                }
                (Some(status), None) if status != 429 => {}
                other => panic!("{other:?}"),
            }
        }
        assert!(throttled > 0, "500 rolls gave no 429");
    }

    #[test]
    fn batch_items_roll_one_by_one() {
        let dice = dice(Chaos {
            error_percent: 50,
            seed: Some(1),
            ..Chaos::default()
        });
        let roll = dice.roll(Some(20)).unwrap();
        assert!(roll.error.is_none());
        assert!((3..=17).contains(&roll.item_errors.len()), "{roll:?}");
        assert!(roll.item_errors.keys().all(|i| *i < 20));
    }

    #[test]
    fn bad_values_are_refused() {
        let bad = Chaos {
            error_percent: 101,
            ..Chaos::default()
        };
        assert!(bad.validate().unwrap_err().contains("error_percent"));
        let bad = Chaos {
            error_percent: 60,
            lost_percent: 50,
            ..Chaos::default()
        };
        assert!(bad.validate().unwrap_err().contains("add up to 110"));
    }
}

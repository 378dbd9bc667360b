//! Chaos: graph-emulator's random faults (Dev Proxy's random Graph errors
//! for POST, answers lost after the insight was stored, slow answers) on
//! 8 threads × 500 creates through one client, then the same through
//! `create_many`. Whatever happens, every call ends in a success or a
//! typed error, and what the emulator stored is exactly the successes plus
//! some of the creates reported as "may have been processed": none stored
//! twice, none that an error called "not processed".
//!
//! The same test runs in C (tests/c/test_chaos.c) and Python
//! (python/tests/test_chaos.py). `USED_INSIGHT_CHAOS_SEED` replays a run.

mod common;

use std::collections::HashMap;
use std::time::{Duration, Instant};

use common::TOKEN;
use graph_emulator::{Chaos, Emulator, EmulatorConfig, CHAOS_STATUSES};
use used_insight::{Client, Error, TransportErrorKind, UsedInsight};

const THREADS: usize = 8;
const PER_THREAD: usize = 500;

/// Faults often enough that every kind happens many times in 4,000 creates.
fn chaos() -> Chaos {
    let seed = std::env::var("USED_INSIGHT_CHAOS_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(20_260_101);
    Chaos {
        error_percent: 10,
        lost_percent: 3,
        slow_percent: 3,
        slow_ms: 400,
        retry_after_ms: 50,
        seed: Some(seed),
    }
}

fn start() -> Emulator {
    Emulator::start(EmulatorConfig {
        token: Some(TOKEN.into()),
        chaos: chaos(),
        ..Default::default()
    })
    .expect("emulator starts")
}

/// One client for all threads, with its default rate limit (4 in flight);
/// a timeout shorter than the slowest answers, so some time out after the
/// insight was stored.
fn client(emu: &Emulator) -> Client {
    common::builder(emu)
        .timeout(Duration::from_millis(250))
        .build()
        .expect("client builds")
}

fn insight(title: &str) -> UsedInsight {
    let mut insight = common::insight();
    insight
        .resource_visualization
        .as_mut()
        .expect("the common insight has one")
        .title = Some(title.to_owned());
    insight
}

/// How one create ended, by its (unique) title.
#[derive(Debug)]
enum Outcome {
    Created(String),
    Failed {
        may_have_been_processed: bool,
        /// What kind of error, for the summary (`HTTP 503`, `timeout …`).
        kind: String,
        error: String,
    },
}

fn outcome(title: String, result: Result<UsedInsight, Error>) -> (String, Outcome) {
    let outcome = match result {
        Ok(created) => Outcome::Created(created.id.expect("Graph gave it an id")),
        Err(e) => {
            check_typed(&e);
            let kind = match &e {
                Error::Graph(g) => format!("HTTP {}", g.status),
                Error::Transport(t) => t.kind.as_str().to_owned(),
                Error::Timeout(t) => format!("timeout ({})", t.phase),
                _ => unreachable!("checked above"),
            };
            Outcome::Failed {
                may_have_been_processed: e.request_may_have_been_processed(),
                kind,
                error: e.to_string(),
            }
        }
    };
    (title, outcome)
}

/// An error chaos can cause, saying truthfully whether the create may have
/// been processed.
fn check_typed(e: &Error) {
    match e {
        // Chaos's statuses, after the retries the policy allows.
        Error::Graph(g) => {
            assert!(CHAOS_STATUSES.contains(&g.status), "{e}");
            assert!(!e.request_may_have_been_processed(), "{e}");
        }
        // An answer lost, or not in time: the work may be done.
        Error::Transport(t) if t.kind == TransportErrorKind::ConnectionLost => {
            assert!(e.request_may_have_been_processed(), "{e}");
        }
        // Out of time: waiting for a slot under the client's rate limit
        // (nothing sent), or for the answer (the work may be done). Which
        // of the two it says is checked against what was stored.
        Error::Timeout(_) => {}
        other => panic!("not an error chaos causes: {other:?}"),
    }
}

/// Waits until the emulator has stored all it will (a request that was
/// still arriving when its client gave up), then reads back each title's
/// stored ids.
fn stored_by_title(emu: &Emulator, user: &str) -> HashMap<String, Vec<String>> {
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut count = emu.stored_count();
    loop {
        std::thread::sleep(Duration::from_millis(500));
        let now = emu.stored_count();
        if now == count || Instant::now() > deadline {
            break;
        }
        count = now;
    }
    let mut stored: HashMap<String, Vec<String>> = HashMap::new();
    for insight in emu.stored(user) {
        let title = insight["resourceVisualization"]["title"]
            .as_str()
            .expect("a stored insight has its title")
            .to_owned();
        let id = insight["id"].as_str().expect("a stored id").to_owned();
        stored.entry(title).or_default().push(id);
    }
    stored
}

/// The properties every run must have, and that chaos struck every way.
fn check(emu: &Emulator, user: &str, outcomes: &HashMap<String, Outcome>) {
    assert_eq!(
        outcomes.len(),
        THREADS * PER_THREAD,
        "one outcome per create"
    );
    let stored = stored_by_title(emu, user);
    let (mut created, mut not_processed, mut maybe, mut maybe_stored) = (0, 0, 0, 0);
    let mut kinds: std::collections::BTreeMap<(&str, bool), usize> = Default::default();
    for (title, outcome) in outcomes {
        if let Outcome::Failed {
            kind,
            may_have_been_processed,
            ..
        } = outcome
        {
            *kinds.entry((kind, *may_have_been_processed)).or_default() += 1;
        }
        let ids = stored.get(title).map(Vec::as_slice).unwrap_or_default();
        assert!(ids.len() <= 1, "{title} stored {} times", ids.len());
        match outcome {
            Outcome::Created(id) => {
                created += 1;
                assert_eq!(ids, std::slice::from_ref(id), "{title} created as {id}");
            }
            Outcome::Failed {
                may_have_been_processed: false,
                error,
                ..
            } => {
                not_processed += 1;
                assert!(
                    ids.is_empty(),
                    "{title} stored, but the error said not: {error}"
                );
            }
            Outcome::Failed {
                may_have_been_processed: true,
                ..
            } => {
                maybe += 1;
                maybe_stored += ids.len();
            }
        }
    }
    for title in stored.keys() {
        assert!(
            outcomes.contains_key(title),
            "{title} stored, never created"
        );
    }
    let report = emu.chaos_report();
    eprintln!(
        "{user}: {created} created, {not_processed} failed unprocessed, {maybe} may have been \
         processed ({maybe_stored} of them stored); errors (kind, may have been processed): \
         {kinds:?}; emulator: {} requests, chaos {report:?}",
        emu.requests().len()
    );
    assert!(created > THREADS * PER_THREAD / 2, "{created} created");
    assert!(not_processed > 0 && maybe > 0 && maybe_stored > 0);
    assert!(report.lost > 0 && report.slow > 0);
    assert!(
        report.errors.get(&429).is_some_and(|n| *n > 0),
        "{report:?}"
    );
    assert!(emu.requests().len() > THREADS, "retries were sent");
}

#[test]
fn creates_from_many_threads_under_chaos_are_each_stored_once_or_truthfully_not() {
    let emu = start();
    let client = client(&emu);
    let user = "chaos-single@contoso.com";
    let outcomes: HashMap<String, Outcome> = std::thread::scope(|scope| {
        let threads: Vec<_> = (0..THREADS)
            .map(|t| {
                let client = &client;
                scope.spawn(move || {
                    (0..PER_THREAD)
                        .map(|i| {
                            let title = format!("chaos {t}-{i}");
                            let result = client.create(user, &insight(&title));
                            outcome(title, result)
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        threads
            .into_iter()
            .flat_map(|t| t.join().expect("a thread finished"))
            .collect()
    });
    check(&emu, user, &outcomes);
}

#[test]
fn create_many_from_many_threads_under_chaos_stores_each_once_or_truthfully_not() {
    let emu = start();
    let client = client(&emu);
    let user = "chaos-many@contoso.com";
    let outcomes: HashMap<String, Outcome> = std::thread::scope(|scope| {
        let threads: Vec<_> = (0..THREADS)
            .map(|t| {
                let client = &client;
                scope.spawn(move || {
                    let titles: Vec<String> = (0..PER_THREAD)
                        .map(|i| format!("chaos many {t}-{i}"))
                        .collect();
                    let items: Vec<(&str, UsedInsight)> =
                        titles.iter().map(|title| (user, insight(title))).collect();
                    let results = client.create_many(&items);
                    assert_eq!(results.len(), items.len(), "one result per item");
                    titles
                        .into_iter()
                        .zip(results)
                        .map(|(title, result)| outcome(title, result))
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        threads
            .into_iter()
            .flat_map(|t| t.join().expect("a thread finished"))
            .collect()
    });
    check(&emu, user, &outcomes);
}

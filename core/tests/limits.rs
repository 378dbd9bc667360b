//! Living within Graph's limits, against an emulator enforcing them with
//! the limits scaled down in time: a client's threads share its limiter and
//! get no 429, a window is paced rather than hammered, a 429 pauses every
//! thread, `create_many` stays under the limits, and without the limiter
//! the emulator does throttle (so these tests can fail).

mod common;

use std::sync::{Mutex, Once};
use std::time::{Duration, Instant};

use common::{fault, insight, TOKEN};
use graph_emulator::{Emulator, EmulatorConfig, Limits, RecordedRequest};
use serde_json::json;
use used_insight::{
    BatchOptions, Client, ClientBuilder, Error, RateLimit, RetryPolicy, ShapeChoice, UsedInsight,
};

fn emulator(limits: Limits) -> Emulator {
    Emulator::start(EmulatorConfig {
        token: Some(TOKEN.into()),
        limits,
        ..Default::default()
    })
    .expect("emulator starts")
}

/// The emulator's limits, and the client's the same.
fn limits(max_concurrent: u32, requests: u32, per_ms: u64, latency_ms: u64) -> (Limits, RateLimit) {
    (
        Limits {
            max_concurrent: Some(max_concurrent),
            requests: Some(requests),
            per_ms,
            latency_ms,
        },
        RateLimit {
            max_concurrent,
            requests,
            per: Duration::from_millis(per_ms),
        },
    )
}

fn builder(emu: &Emulator, limit: Option<RateLimit>) -> ClientBuilder {
    Client::builder()
        .token(TOKEN)
        .base_url(emu.base_url())
        .timeout(Duration::from_secs(5))
        .retry_policy(RetryPolicy::default().with_initial_delay(Duration::from_millis(20)))
        .rate_limit(limit)
}

fn items(n: usize) -> Vec<(String, UsedInsight)> {
    (0..n).map(|i| (format!("user{i}"), insight())).collect()
}

/// No answer of the emulator was a 429 from its limits.
fn assert_never_throttled(emu: &Emulator) {
    let report = emu.limits_report();
    assert_eq!(report.throttled, 0, "{report:?}");
    assert!(emu
        .requests()
        .iter()
        .all(|r| !r.throttled && r.throttled_items.is_empty()));
    assert!(report.peak_in_flight <= report.limits.max_concurrent.unwrap());
}

/// Most requests (batch items counted one by one) that arrived within any
/// `per` of each other.
fn most_in_any_window(requests: &[RecordedRequest], per: Duration) -> usize {
    let mut arrivals: Vec<(f64, usize)> = requests
        .iter()
        .map(|r| {
            let items = serde_json::from_str::<serde_json::Value>(&r.body)
                .ok()
                .and_then(|b| b["requests"].as_array().map(Vec::len))
                .unwrap_or(1);
            (r.elapsed_ms, items)
        })
        .collect();
    arrivals.sort_by(|a, b| a.0.total_cmp(&b.0));
    let per_ms = per.as_secs_f64() * 1000.0;
    (0..arrivals.len())
        .map(|i| {
            arrivals[i..]
                .iter()
                .take_while(|(t, _)| *t < arrivals[i].0 + per_ms)
                .map(|(_, n)| n)
                .sum::<usize>()
        })
        .max()
        .unwrap_or(0)
}

#[test]
fn sixteen_threads_sharing_a_client_get_no_429() {
    let (server, client_limit) = limits(4, 40, 1000, 50);
    let emu = emulator(server);
    let client = builder(&emu, Some(client_limit)).build().unwrap();
    std::thread::scope(|s| {
        for t in 0..16 {
            let client = &client;
            s.spawn(move || {
                for _ in 0..3 {
                    client.create(&format!("user{t}"), &insight()).unwrap();
                }
            });
        }
    });
    assert_eq!(emu.stored_count(), 48);
    assert_never_throttled(&emu);
    assert_eq!(emu.limits_report().peak_in_flight, 4, "the limit was used");
    assert!(most_in_any_window(&emu.requests(), Duration::from_secs(1)) <= 40);
}

#[test]
fn a_windowed_limit_is_paced_not_hammered() {
    let (server, client_limit) = limits(4, 10, 500, 10);
    let emu = emulator(server);
    let client = builder(&emu, Some(client_limit)).build().unwrap();
    let start = Instant::now();
    for _ in 0..25 {
        client.create("alice", &insight()).unwrap();
    }
    let took = start.elapsed();
    // 10 at once, 10 after the window, 5 after the next.
    assert!(took >= Duration::from_millis(1000), "{took:?}");
    assert!(took < Duration::from_millis(1600), "{took:?}");
    assert_never_throttled(&emu);
    assert_eq!(emu.requests().len(), 25, "no request was sent twice");
    assert!(most_in_any_window(&emu.requests(), Duration::from_millis(500)) <= 10);
}

#[test]
fn create_many_under_the_limits_gets_no_429() {
    let (server, client_limit) = limits(4, 12, 500, 20);
    // One batch in flight: parallel batches of 4. Four: chains of 12 (the
    // window), one item in flight each.
    for concurrency in [1, 4] {
        let emu = emulator(server);
        let client = builder(&emu, Some(client_limit)).build().unwrap();
        let options = BatchOptions::default().with_concurrency(concurrency);
        let start = Instant::now();
        let results = client.create_many_with(&items(30), &options);
        assert!(results.iter().all(Result::is_ok), "{results:?}");
        assert!(start.elapsed() >= Duration::from_millis(1000));
        assert_eq!(emu.stored_count(), 30, "nothing lost, nothing twice");
        assert_never_throttled(&emu);
        assert!(most_in_any_window(&emu.requests(), Duration::from_millis(500)) <= 12);
    }
}

#[test]
fn without_the_limiter_the_emulator_does_throttle() {
    let (server, _) = limits(4, 1000, 1000, 50);
    let emu = emulator(server);
    let client = builder(&emu, None)
        .retry_policy(RetryPolicy::none())
        .build()
        .unwrap();
    let throttled = std::thread::scope(|s| {
        let threads: Vec<_> = (0..16)
            .map(|t| {
                let client = &client;
                s.spawn(move || client.create(&format!("user{t}"), &insight()))
            })
            .collect();
        threads
            .into_iter()
            .map(|t| t.join().unwrap())
            .filter(|r| matches!(r, Err(Error::Graph(g)) if g.status == 429))
            .count()
    });
    assert!(throttled > 0);
    assert_eq!(emu.limits_report().throttled as usize, throttled);
    // The same with create_many sending Graph's full batches of 20.
    let results = client.create_many(&items(20));
    assert!(results.iter().any(|r| r.is_err()));
    assert!(!emu.requests().last().unwrap().throttled_items.is_empty());
}

static LOGS: Mutex<Vec<(log::Level, String)>> = Mutex::new(Vec::new());

struct Capture;

impl log::Log for Capture {
    fn enabled(&self, _: &log::Metadata) -> bool {
        true
    }
    fn log(&self, record: &log::Record) {
        LOGS.lock()
            .unwrap()
            .push((record.level(), record.args().to_string()));
    }
    fn flush(&self) {}
}

fn capture_logs() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        log::set_logger(&Capture).unwrap();
        log::set_max_level(log::LevelFilter::Info);
    });
}

/// Four threads creating on one client while Graph answers one 429 with
/// `Retry-After: wait` (a whole request's, or a batch item's): once the
/// answer is in, no thread sends more than the one request it may already
/// have had on its way, the throttled one waits the whole pause, and the
/// pause is logged once. (Without the shared pause each thread would send a
/// request every 30 ms.)
fn a_429_pauses_every_thread(fault_json: serde_json::Value, wait: &str, batch: bool) {
    capture_logs();
    let (mut server, client_limit) = limits(4, 1000, 1000, 30);
    server.requests = None;
    server.per_ms = 0;
    let emu = emulator(server);
    let client = builder(&emu, Some(client_limit)).build().unwrap();
    // Connections first, so that the timed part is only requests.
    for t in 0..4 {
        client.create(&format!("thread{t}"), &insight()).unwrap();
    }
    emu.reset();
    emu.push_faults([fault(fault_json)]);
    let until = Instant::now() + Duration::from_millis(1200);
    std::thread::scope(|s| {
        for t in 0..4 {
            let client = &client;
            s.spawn(move || {
                while Instant::now() < until {
                    if batch && t == 0 {
                        for r in client.create_many(&items(4)) {
                            r.unwrap();
                        }
                    } else {
                        client.create(&format!("thread{t}"), &insight()).unwrap();
                    }
                }
            });
        }
    });
    let requests = emu.requests();
    // Which thread sent a request: its user, or `$batch`.
    let sender = |r: &RecordedRequest| r.path.split('/').nth(3).unwrap_or("$batch").to_owned();
    // The throttled request: the first batch, or the single create sent
    // again with the same client-request-id.
    let crid = |r: &RecordedRequest| r.headers["client-request-id"].clone();
    let throttled = requests
        .iter()
        .find(|r| {
            if batch {
                r.path.ends_with("/$batch")
            } else {
                requests.iter().filter(|o| crid(o) == crid(r)).count() == 2
            }
        })
        .expect("a request was throttled");
    // A batch is answered once its other items are done: after the latency.
    let answered_at = throttled.elapsed_ms + if batch { 30.0 } else { 0.0 };
    let pause_ms = wait.parse::<f64>().unwrap() * 1000.0;
    let mut during: std::collections::HashMap<String, Vec<f64>> = Default::default();
    for r in &requests {
        if r.elapsed_ms > answered_at + 5.0 && r.elapsed_ms < answered_at + pause_ms {
            during.entry(sender(r)).or_default().push(r.elapsed_ms);
        }
    }
    assert!(
        during.values().all(|sent| sent.len() <= 1),
        "sent during the pause from {answered_at} ms: {during:?}"
    );
    assert!(!during.contains_key(&sender(throttled)), "{during:?}");
    assert!(
        requests
            .iter()
            .filter(|r| r.elapsed_ms >= answered_at + pause_ms)
            .count()
            >= 4,
        "work went on after the pause"
    );
    let logged = LOGS
        .lock()
        .unwrap()
        .iter()
        .filter(|(level, m)| *level == log::Level::Info && m.contains(&format!("waits {wait}00 s")))
        .count();
    assert_eq!(logged, 1, "{:?}", LOGS.lock().unwrap());
}

#[test]
fn a_429_pauses_the_other_threads() {
    a_429_pauses_every_thread(
        json!({"method": "POST", "status": 429, "retry_after": "0.6"}),
        "0.6",
        false,
    );
}

#[test]
fn a_429_on_a_batch_item_pauses_the_other_threads() {
    a_429_pauses_every_thread(
        json!({"batch_items": [0], "status": 429, "retry_after": "0.5"}),
        "0.5",
        true,
    );
}

#[test]
fn a_slot_not_had_within_the_timeout_is_not_sent() {
    let emu = emulator(Limits::default());
    let one_per_minute = RateLimit {
        max_concurrent: 4,
        requests: 1,
        per: Duration::from_secs(60),
    };
    let client = builder(&emu, Some(one_per_minute))
        .timeout(Duration::from_millis(300))
        .build()
        .unwrap();
    client.create("alice", &insight()).unwrap();
    let start = Instant::now();
    let err = client.create("alice", &insight()).unwrap_err();
    assert!(start.elapsed() >= Duration::from_millis(300));
    let Error::Timeout(t) = &err else {
        panic!("{err:?}")
    };
    assert!(!t.request_may_have_been_sent);
    assert!(!err.request_may_have_been_processed());
    assert!(err.to_string().contains("nothing was sent"), "{err}");
    for result in client.create_many(&items(3)) {
        let err = result.unwrap_err();
        assert!(matches!(err, Error::Timeout(_)), "{err:?}");
        assert!(!err.request_may_have_been_processed());
    }
    assert_eq!(emu.requests().len(), 1, "only the first was sent");
}

#[test]
fn items_a_failed_item_held_back_are_resent_once() {
    let emu = emulator(Limits::default());
    let client = builder(&emu, Some(RateLimit::default())).build().unwrap();
    emu.push_faults([fault(json!({"batch_items": [1], "status": 500}))]);
    let options = BatchOptions::default().with_shape(ShapeChoice::Sequential(5));
    let results = client.create_many_with(&items(5), &options);
    assert!(matches!(&results[1], Err(Error::Graph(g)) if g.status == 500));
    for i in [0, 2, 3, 4] {
        assert!(results[i].is_ok(), "{i}: {:?}", results[i]);
    }
    assert_eq!(emu.stored_count(), 4, "nothing created twice");
    let sizes: Vec<usize> = emu
        .requests()
        .iter()
        .map(|r| {
            let body: serde_json::Value = serde_json::from_str(&r.body).unwrap();
            body["requests"].as_array().unwrap().len()
        })
        .collect();
    assert_eq!(sizes, [5, 3], "the three 424 items, resent together");
}

//! Graph's limits as the emulator enforces them: concurrency, the window,
//! latency, `$batch` items counted one by one (parallel unless chained by
//! `dependsOn`, 424 after a failed dependency), the 429 answers and the
//! log's marks, the control endpoint.

mod common;

use std::collections::HashMap;
use std::time::{Duration, Instant};

use common::*;
use graph_emulator::{Emulator, EmulatorConfig, Fault, Limits};
use serde_json::{json, Value};

fn start_with(limits: Limits) -> Emulator {
    Emulator::start(EmulatorConfig {
        limits,
        ..Default::default()
    })
    .unwrap()
}

fn create(agent: &ureq::Agent, emu: &Emulator) -> Reply {
    post_json(agent, &used_url(emu, "u"), &insight())
}

fn item(id: &str, depends_on: Option<&str>) -> Value {
    let mut item = json!({
        "id": id, "method": "POST", "url": "/users/u/insights/used",
        "headers": {"Content-Type": "application/json"}, "body": insight(),
    });
    if let Some(dep) = depends_on {
        item["dependsOn"] = json!([dep]);
    }
    item
}

fn batch(
    agent: &ureq::Agent,
    emu: &Emulator,
    items: Vec<Value>,
) -> (Reply, HashMap<String, Value>) {
    let reply = post_json(
        agent,
        &format!("{}/v1.0/$batch", emu.base_url()),
        &json!({ "requests": items }),
    );
    assert_eq!(reply.status, 200, "{}", reply.text());
    let by_id = reply.json()["responses"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["id"].as_str().unwrap().to_owned(), r.clone()))
        .collect();
    (reply, by_id)
}

#[test]
fn latency_delays_each_request_and_nothing_is_limited_by_default() {
    let emu = start_with(Limits {
        latency_ms: 60,
        ..Limits::default()
    });
    let agent = agent();
    let t = Instant::now();
    assert_eq!(create(&agent, &emu).status, 201);
    assert!(t.elapsed() >= Duration::from_millis(60));
    // Control and non-Insights paths take no latency.
    let t = Instant::now();
    get(&agent, &format!("{}/v1.0/me", emu.base_url()));
    assert!(t.elapsed() < Duration::from_millis(60));
    let report = emu.limits_report();
    assert_eq!((report.admitted, report.throttled), (1, 0));
}

#[test]
fn concurrency_over_the_limit_gets_graphs_429_and_is_marked() {
    let emu = start_with(Limits {
        max_concurrent: Some(2),
        latency_ms: 300,
        ..Limits::default()
    });
    let statuses: Vec<u16> = std::thread::scope(|s| {
        let threads: Vec<_> = (0..3)
            .map(|i| {
                let emu = &emu;
                s.spawn(move || {
                    std::thread::sleep(Duration::from_millis(i * 50));
                    create(&agent(), emu).status
                })
            })
            .collect();
        threads.into_iter().map(|t| t.join().unwrap()).collect()
    });
    assert_eq!(statuses, [201, 201, 429]);
    let last = emu.requests();
    assert_eq!(
        last.iter().map(|r| r.throttled).collect::<Vec<_>>(),
        [false, false, true]
    );
    let report = emu.limits_report();
    assert_eq!(
        (report.admitted, report.throttled, report.peak_in_flight),
        (2, 1, 2)
    );
    assert_eq!(emu.stored_count(), 2);
}

#[test]
fn the_window_throttles_with_retry_after_until_a_slot_expires() {
    let emu = start_with(Limits {
        requests: Some(2),
        per_ms: 800,
        ..Limits::default()
    });
    let agent = agent();
    assert_eq!(create(&agent, &emu).status, 201);
    assert_eq!(create(&agent, &emu).status, 201);
    let reply = create(&agent, &emu);
    let message = reply.assert_graph_error(429, "TooManyRequests");
    assert!(message.contains("throttled"), "{message}");
    let wait: f64 = reply.header("retry-after").unwrap().parse().unwrap();
    assert!(wait > 0.6 && wait <= 0.8, "{wait}");
    // The throttled request counts too: one more slot frees after it.
    std::thread::sleep(Duration::from_secs_f64(wait));
    assert_eq!(create(&agent, &emu).status, 201);
    let control: Value = get(&agent, &format!("{}/_emulator/requests", emu.base_url())).json();
    let marks: Vec<bool> = control["requests"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r.get("throttled") == Some(&json!(true)))
        .collect();
    assert_eq!(marks, [false, false, true, false]);
}

#[test]
fn unchained_batch_items_run_in_parallel_and_count_one_each() {
    let emu = start_with(Limits {
        max_concurrent: Some(3),
        latency_ms: 100,
        ..Limits::default()
    });
    let agent = agent();
    let t = Instant::now();
    let (_, r) = batch(
        &agent,
        &emu,
        (0..3).map(|i| item(&i.to_string(), None)).collect(),
    );
    let took = t.elapsed();
    assert!(
        took >= Duration::from_millis(100) && took < Duration::from_millis(200),
        "{took:?}"
    );
    assert!(r.values().all(|v| v["status"] == 201));
    // Four unchained items: the fourth is over the limit of 3.
    let (_, r) = batch(
        &agent,
        &emu,
        (0..4).map(|i| item(&i.to_string(), None)).collect(),
    );
    assert_eq!(r["3"]["status"], 429);
    assert_eq!(r["3"]["body"]["error"]["code"], "TooManyRequests");
    assert!(r["3"]["headers"]["Retry-After"].as_str().is_some());
    assert_eq!(emu.requests()[1].throttled_items, ["3"]);
    assert!(!emu.requests()[1].throttled);
    assert_eq!(emu.limits_report().peak_in_flight, 3);
    assert_eq!(emu.stored_count(), 6);
}

#[test]
fn a_chain_runs_in_order_one_in_flight_and_a_failure_stops_its_dependents() {
    let emu = start_with(Limits {
        max_concurrent: Some(1),
        latency_ms: 50,
        ..Limits::default()
    });
    let agent = agent();
    let t = Instant::now();
    let items = vec![item("a", None), item("b", Some("a")), item("c", Some("b"))];
    let (_, r) = batch(&agent, &emu, items);
    assert!(t.elapsed() >= Duration::from_millis(150));
    assert!(r.values().all(|v| v["status"] == 201), "{r:?}");
    let stored = emu.stored("u");
    let ids: Vec<&Value> = ["a", "b", "c"]
        .iter()
        .map(|i| &r[*i]["body"]["id"])
        .collect();
    assert_eq!(
        ids,
        stored.iter().map(|s| &s["id"]).collect::<Vec<_>>(),
        "in chain order"
    );
    assert_eq!(emu.limits_report().peak_in_flight, 1);

    // The middle one fails (a fault): the last is not run.
    emu.push_faults([Fault {
        batch_item: Some(1),
        status: Some(500),
        ..Fault::default()
    }]);
    let items = vec![item("a", None), item("b", Some("a")), item("c", Some("b"))];
    let (_, r) = batch(&agent, &emu, items);
    assert_eq!(r["a"]["status"], 201);
    assert_eq!(r["b"]["status"], 500);
    assert_eq!(r["c"]["status"], 424);
    assert_eq!(r["c"]["body"]["error"]["code"], "FailedDependency");
    assert!(r["c"]["body"]["error"]["message"]
        .as_str()
        .unwrap()
        .contains("'b'"));
    assert_eq!(emu.stored_count(), 4);
}

#[test]
fn dependency_rules_are_graphs() {
    let emu = Emulator::start(EmulatorConfig::default()).unwrap();
    let agent = agent();
    let url = format!("{}/v1.0/$batch", emu.base_url());
    for (items, message) in [
        (
            vec![item("a", None), item("b", Some("a")), item("c", None)],
            "either fully sequential or fully parallel",
        ),
        (
            vec![item("a", None), item("b", Some("x"))],
            "'x', which is not in the batch",
        ),
        (
            vec![item("a", None), item("b", Some("c")), item("c", Some("b"))],
            "cycle",
        ),
        (
            vec![item("a", None), {
                let mut b = item("b", None);
                b["dependsOn"] = json!("a");
                b
            }],
            "must be an array of request ids",
        ),
    ] {
        let reply = post_json(&agent, &url, &json!({ "requests": items }));
        let got = reply.assert_graph_error(400, "BadRequest");
        assert!(got.contains(message), "{got}");
    }
    assert_eq!(emu.stored_count(), 0);
}

#[test]
fn limits_are_set_and_read_over_the_control_endpoint() {
    let emu = Emulator::start(EmulatorConfig::default()).unwrap();
    let agent = agent();
    let url = format!("{}/_emulator/limits", emu.base_url());
    let set = post_json(
        &agent,
        &url,
        &json!({"max_concurrent": 4, "requests": 1, "per_ms": 5000, "latency_ms": 10}),
    );
    assert_eq!(set.status, 200, "{}", set.text());
    assert_eq!(set.json()["limits"]["requests"], 1);
    assert_eq!(create(&agent, &emu).status, 201);
    assert_eq!(create(&agent, &emu).status, 429);
    let report = get(&agent, &url).json();
    assert_eq!(
        (report["admitted"].clone(), report["throttled"].clone()),
        (json!(1), json!(1))
    );
    for bad in [
        json!({"requests": 3}),
        json!({"max_concurrent": 0}),
        json!({"latency": 3}),
    ] {
        let reply = post_json(&agent, &url, &bad);
        assert_eq!(reply.status, 400, "{bad}");
        assert!(reply.json()["error"]
            .as_str()
            .unwrap()
            .starts_with("limits: "));
    }
    // Reset restarts the counting; {} turns every limit off.
    post_json(
        &agent,
        &format!("{}/_emulator/reset", emu.base_url()),
        &json!({}),
    );
    assert_eq!(emu.limits_report().throttled, 0);
    assert_eq!(post_json(&agent, &url, &json!({})).status, 200);
    assert_eq!(create(&agent, &emu).status, 201);
    assert_eq!(create(&agent, &emu).status, 201);
}

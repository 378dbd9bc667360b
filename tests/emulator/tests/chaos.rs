//! Chaos over real HTTP: random errors answered without storing, answers
//! lost after storing, slow answers, `$batch` items failed one by one,
//! queued faults first, the control endpoint, and a seed that repeats a run.

mod common;

use std::time::{Duration, Instant};

use common::*;
use graph_emulator::{Chaos, Emulator, EmulatorConfig, Fault, CHAOS_STATUSES};
use serde_json::{json, Value};

fn start_with(chaos: Chaos) -> Emulator {
    Emulator::start(EmulatorConfig {
        chaos,
        ..Default::default()
    })
    .unwrap()
}

fn raw_create(emu: &Emulator) -> Vec<u8> {
    raw_exchange(
        emu.port(),
        &raw_request(
            "POST",
            "/v1.0/users/u/insights/used",
            &[AUTH, JSON, ("Connection", "close")],
            &insight().to_string(),
        ),
    )
}

#[test]
fn errors_are_dev_proxys_for_post_and_store_nothing() {
    let emu = start_with(Chaos {
        error_percent: 100,
        retry_after_ms: 300,
        seed: Some(3),
        ..Chaos::default()
    });
    let agent = agent();
    let mut seen = std::collections::BTreeSet::new();
    for _ in 0..60 {
        let reply = post_json(&agent, &used_url(&emu, "u"), &insight());
        assert!(CHAOS_STATUSES.contains(&reply.status), "{}", reply.status);
        assert!(reply.json()["error"]["message"]
            .as_str()
            .unwrap()
            .starts_with("Chaos"));
        match reply.header("retry-after") {
            Some(ra) => {
                assert_eq!(reply.status, 429);
                let secs: f64 = ra.parse().unwrap();
                assert!(secs > 0.0 && secs <= 0.3, "{ra}");
            }
            None => assert_ne!(reply.status, 429),
        }
        seen.insert(reply.status);
    }
    assert_eq!(seen.into_iter().collect::<Vec<_>>(), CHAOS_STATUSES);
    assert_eq!(emu.stored_count(), 0);
    let report = emu.chaos_report();
    assert_eq!(report.errors.values().sum::<u64>(), 60);
    assert_eq!((report.passed, report.lost, report.seed), (0, 0, 3));
    // Chaos is for POSTs to Graph: reads and the control endpoint pass.
    assert_eq!(get(&agent, &used_url(&emu, "u")).status, 200);
}

#[test]
fn lost_answers_are_stored_first() {
    let emu = start_with(Chaos {
        lost_percent: 100,
        ..Chaos::default()
    });
    for n in 1..=3 {
        let received = raw_create(&emu);
        assert!(
            received.is_empty(),
            "{:?}",
            String::from_utf8_lossy(&received)
        );
        assert_eq!(emu.stored_count(), n, "stored, then the answer lost");
    }
    assert_eq!(emu.chaos_report().lost, 3);
}

#[test]
fn slow_answers_come_after_the_work() {
    let emu = start_with(Chaos {
        slow_percent: 100,
        slow_ms: 400,
        seed: Some(11),
        ..Chaos::default()
    });
    let agent = agent();
    let started = Instant::now();
    for _ in 0..5 {
        assert_eq!(
            post_json(&agent, &used_url(&emu, "u"), &insight()).status,
            201
        );
    }
    let took = started.elapsed();
    assert!(
        took > Duration::from_millis(100) && took < Duration::from_secs(3),
        "{took:?}"
    );
    assert_eq!(emu.stored_count(), 5);
    assert_eq!(emu.chaos_report().slow, 5);
}

#[test]
fn batch_items_fail_one_by_one_and_only_those_are_not_run() {
    let emu = start_with(Chaos {
        error_percent: 50,
        seed: Some(5),
        ..Chaos::default()
    });
    let items: Vec<Value> = (0..20)
        .map(|i| {
            json!({"id": i.to_string(), "method": "POST", "url": "/users/u/insights/used",
                   "headers": {"Content-Type": "application/json"}, "body": insight()})
        })
        .collect();
    let reply = post_json(
        &agent(),
        &format!("{}/v1.0/$batch", emu.base_url()),
        &json!({ "requests": items }),
    );
    assert_eq!(reply.status, 200);
    let responses = reply.json()["responses"].as_array().unwrap().clone();
    let failed = responses.iter().filter(|r| r["status"] != 201).count();
    assert!((1..20).contains(&failed), "{failed} of 20 failed");
    for r in responses.iter().filter(|r| r["status"] != 201) {
        let status = r["status"].as_u64().unwrap() as u16;
        assert!(CHAOS_STATUSES.contains(&status));
        assert_eq!(
            r["headers"].get("Retry-After").is_some(),
            status == 429,
            "{r}"
        );
    }
    assert_eq!(emu.stored_count(), 20 - failed);
    let report = emu.chaos_report();
    assert_eq!(report.errors.values().sum::<u64>() as usize, failed);
    assert_eq!(report.passed as usize, 20 - failed);
}

#[test]
fn queued_faults_come_first() {
    let emu = start_with(Chaos {
        error_percent: 100,
        ..Chaos::default()
    });
    emu.push_faults([Fault {
        status: Some(418),
        ..Fault::default()
    }]);
    let reply = post_json(&agent(), &used_url(&emu, "u"), &insight());
    assert_eq!(reply.status, 418);
    assert_eq!(emu.chaos_report().errors.values().sum::<u64>(), 0);
}

#[test]
fn a_seed_repeats_the_run() {
    let run = || {
        let emu = start_with(Chaos {
            error_percent: 30,
            lost_percent: 10,
            seed: Some(99),
            ..Chaos::default()
        });
        let outcomes: Vec<u16> = (0..40)
            .map(|_| {
                let received = raw_create(&emu);
                if received.is_empty() {
                    0
                } else {
                    parse_raw(&received).status
                }
            })
            .collect();
        (outcomes, emu.chaos_report())
    };
    let (first, report) = run();
    assert_eq!(run().0, first);
    assert!(first.contains(&0) && first.contains(&201), "{first:?}");
    assert!(
        first.iter().any(|s| CHAOS_STATUSES.contains(s)),
        "{first:?}"
    );
    assert_eq!(
        report.lost as usize,
        first.iter().filter(|s| **s == 0).count()
    );
}

#[test]
fn the_control_endpoint_sets_reports_and_refuses_chaos() {
    let emu = common::start();
    let agent = agent();
    let url = format!("{}/_emulator/chaos", emu.base_url());
    let report = get(&agent, &url).json();
    assert_eq!(report["chaos"]["error_percent"], 0);
    let set = post_json(&agent, &url, &json!({"error_percent": 100, "seed": 1}));
    assert_eq!(set.status, 200);
    assert_eq!(set.json()["seed"], 1);
    assert_ne!(
        post_json(&agent, &used_url(&emu, "u"), &insight()).status,
        201
    );
    let report = get(&agent, &url).json();
    assert_eq!(report["errors"].as_object().unwrap().len(), 1, "{report}");
    // Reset restarts the counting; the chaos stays in force.
    assert_eq!(
        post_json(
            &agent,
            &format!("{}/_emulator/reset", emu.base_url()),
            &json!({})
        )
        .status,
        200
    );
    let report = get(&agent, &url).json();
    assert_eq!(
        (
            report["errors"].clone(),
            report["chaos"]["error_percent"].clone()
        ),
        (json!({}), json!(100))
    );
    let refused = post_json(&agent, &url, &json!({"error_percent": 101}));
    assert_eq!(refused.status, 400);
    assert!(refused.text().contains("0 to 100"), "{}", refused.text());
    let refused = post_json(&agent, &url, &json!({"rate": 10}));
    assert_eq!(refused.status, 400, "unknown fields are refused");
    assert_eq!(post_json(&agent, &url, &json!({})).status, 200);
    assert_eq!(
        post_json(&agent, &used_url(&emu, "u"), &insight()).status,
        201
    );
}

//! `create_many` over JSON batching against the emulator: one result per
//! input, in order; throttled items retried alone; lost batches not resent;
//! the emulator holds exactly what was reported created.

mod common;

use std::collections::HashSet;
use std::sync::atomic::{AtomicUsize, Ordering};

use common::{builder, client, emulator, fault, insight};
use serde_json::json;
use used_insight::{BatchOptions, Error, UsedInsight};

fn items(n: usize) -> Vec<(String, UsedInsight)> {
    (0..n)
        .map(|i| {
            let mut insight = insight();
            insight.resource_visualization.as_mut().unwrap().title = Some(format!("doc {i}"));
            (format!("user{}@contoso.com", i % 4), insight)
        })
        .collect()
}

fn title(v: &serde_json::Value) -> String {
    v["resourceVisualization"]["title"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// The batching mechanics on Graph's full batches of 20, so without a rate
/// limit (which would make batches of 4: see tests/limits.rs).
fn run_scenario(concurrency: usize) {
    let emu = emulator();
    let client = builder(&emu).rate_limit(None).build().unwrap();
    let mut inputs = items(45);
    inputs[7].1.resource_reference.as_mut().unwrap().web_url = Some("not a url".into());
    inputs[30].1.last_used = None;
    // Batches hold inputs 0-20 (less 7), 21-41 (less 30) and 42-44; faults
    // find their batch by a request id inside it, whatever the timing.
    emu.push_faults([
        fault(json!({"body_contains": "\"id\":\"0\"", "batch_items": [3, 9], "status": 429, "retry_after": "0.3"})),
        fault(json!({"body_contains": "\"id\":\"21\"", "batch_items": [5], "status": 503, "retry_after": "0.1"})),
        fault(json!({"body_contains": "\"id\":\"42\"", "drop_connection": true})),
    ]);
    let calls = AtomicUsize::new(0);
    let last = AtomicUsize::new(0);
    let progress = |done: usize, total: usize| {
        assert_eq!(total, 45);
        calls.fetch_add(1, Ordering::SeqCst);
        last.fetch_max(done, Ordering::SeqCst);
    };
    let options = BatchOptions::default()
        .with_concurrency(concurrency)
        .with_progress(&progress);
    let results = client.create_many_with(&inputs, &options);

    assert_eq!(results.len(), 45, "one result per input");
    assert_eq!(calls.load(Ordering::SeqCst), 45);
    assert_eq!(last.load(Ordering::SeqCst), 45);
    let mut created_titles = HashSet::new();
    for (i, result) in results.iter().enumerate() {
        match (i, result) {
            (7 | 30, Err(Error::InvalidInput(_))) => {}
            (42..=44, Err(e @ Error::Transport(_))) => assert!(e.request_may_have_been_processed()),
            (_, Ok(created)) => {
                assert!(created.id.is_some());
                let t = created
                    .resource_visualization
                    .as_ref()
                    .unwrap()
                    .title
                    .clone()
                    .unwrap();
                assert_eq!(t, format!("doc {i}"), "result {i} is in input order");
                created_titles.insert(t);
            }
            (i, other) => panic!("input {i}: unexpected {other:?}"),
        }
    }
    assert_eq!(created_titles.len(), 40);
    let mut stored = Vec::new();
    for u in 0..4 {
        stored.extend(emu.stored(&format!("user{u}@contoso.com")));
    }
    let stored_titles: Vec<String> = stored.iter().map(title).collect();
    assert_eq!(stored_titles.len(), 40, "nothing stored twice or lost");
    assert_eq!(
        stored_titles.iter().cloned().collect::<HashSet<_>>(),
        created_titles
    );

    // The wire: three first batches plus two re-sends of throttled items only.
    let batches: Vec<serde_json::Value> = emu
        .requests()
        .iter()
        .map(|r| {
            assert!(r.path.ends_with("/$batch"), "{}", r.path);
            serde_json::from_str(&r.body).unwrap()
        })
        .collect();
    let mut sizes: Vec<usize> = batches
        .iter()
        .map(|b| b["requests"].as_array().unwrap().len())
        .collect();
    sizes.sort_unstable();
    assert_eq!(sizes, [1, 2, 3, 20, 20]);
    for b in &batches {
        for item in b["requests"].as_array().unwrap() {
            assert_eq!(item["method"], "POST");
            assert!(item["url"].as_str().unwrap().starts_with("/users/user"));
            assert_eq!(item["headers"]["Content-Type"], "application/json");
        }
    }
}

#[test]
fn forty_five_items_two_invalid_three_throttled_one_batch_lost() {
    run_scenario(1);
}

#[test]
fn the_same_with_three_batches_in_flight() {
    run_scenario(3);
}

#[test]
fn a_throttled_batch_request_is_retried_whole() {
    let emu = emulator();
    emu.push_faults([fault(
        json!({"path_contains": "$batch", "status": 429, "retry_after": "0.2"}),
    )]);
    let results = client(&emu).create_many(&items(3));
    assert!(results.iter().all(Result::is_ok), "{results:?}");
    let r = emu.requests();
    assert_eq!(r.len(), 2);
    assert_eq!(
        r[0].headers["client-request-id"],
        r[1].headers["client-request-id"]
    );
    assert!(r[1].elapsed_ms - r[0].elapsed_ms >= 200.0);
    assert_eq!(emu.stored_count(), 3);
}

#[test]
fn an_item_throttled_past_the_budget_reports_its_429() {
    let emu = emulator();
    emu.push_faults([fault(
        json!({"batch_items": [0], "status": 429, "retry_after": "0", "times": 10}),
    )]);
    let results = client(&emu).create_many(&items(2));
    let Err(Error::Graph(g)) = &results[0] else {
        panic!("{:?}", results[0])
    };
    assert_eq!((g.status, g.attempts), (429, 4));
    // Item 0 of later batches is the same input each time: it was sent 4 times
    // but created never; input 1 was created once.
    assert!(results[1].is_ok());
    assert_eq!(emu.stored_count(), 1);
}

#[test]
fn create_many_json_keeps_order_and_unknown_properties() {
    let emu = emulator();
    let mut first = insight().to_json();
    first.insert_str(1, r#""extra":[1],"#);
    let inputs = vec![("a", first.clone()), ("b", "{".to_owned()), ("c", first)];
    let results = client(&emu).create_many_json(&inputs, &BatchOptions::default());
    let created = UsedInsight::from_json(results[0].as_ref().unwrap()).unwrap();
    assert_eq!(created.additional_data["extra"].as_str(), "[1]");
    assert!(matches!(results[1], Err(Error::InvalidInput(_))));
    assert!(results[2].is_ok());
    assert_eq!(emu.stored_count(), 2);
}

#[test]
fn skipped_inputs_are_not_sent_but_keep_indexes_and_progress() {
    let emu = emulator();
    let body = insight().to_json();
    let a = ("a".to_owned(), body.clone());
    let c = ("c".to_owned(), body);
    let inputs = [Some(&a), None, Some(&c)];
    let done = AtomicUsize::new(0);
    let progress = |d: usize, _: usize| {
        done.fetch_max(d, Ordering::SeqCst);
    };
    let options = BatchOptions::default().with_progress(&progress);
    let results =
        used_insight::bindings::create_many_json_partial(&client(&emu), &inputs, &options);
    assert!(matches!(results[0], Some(Ok(_))));
    assert!(results[1].is_none());
    assert!(matches!(results[2], Some(Ok(_))));
    assert_eq!(done.load(Ordering::SeqCst), 3);
    let sent: serde_json::Value = serde_json::from_str(&emu.requests()[0].body).unwrap();
    let ids: Vec<_> = sent["requests"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].clone())
        .collect();
    assert_eq!(ids, [json!("0"), json!("2")]);
}

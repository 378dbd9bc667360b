//! A client used before `fork()` keeps working in both processes: the
//! child starts with an empty connection pool of its own, so no answer
//! ever reaches the wrong process and the parent's pooled connection is
//! left alone. A child forked while the parent renews its token does not
//! wait for a renewal no thread of its own is making.
#![cfg(unix)]

mod common;

use common::{client, emulator, insight};
use used_insight::{Client, UsedInsight};

const CREATES: usize = 25;

fn titled(title: &str) -> UsedInsight {
    let mut insight = insight();
    insight.resource_visualization.as_mut().unwrap().title = Some(title.to_owned());
    insight
}

/// Creates `CREATES` insights titled `{who}-{i}`; each answer must carry
/// the title its own request sent.
fn create_own(client: &Client, who: &str) -> Result<(), String> {
    for i in 0..CREATES {
        let title = format!("{who}-{i}");
        let created = client
            .create("alice", &titled(&title))
            .map_err(|e| format!("{title}: {e}"))?;
        let answered = created.resource_visualization.and_then(|v| v.title);
        if answered.as_deref() != Some(title.as_str()) {
            return Err(format!("{title}: the answer was {answered:?}'s"));
        }
    }
    Ok(())
}

#[test]
fn a_warm_client_works_in_parent_and_forked_child_at_once() {
    let emu = emulator();
    let c = client(&emu);
    // A pooled keep-alive connection exists before the fork.
    create_own(&c, "before").unwrap();

    // SAFETY: the child only makes requests (no locks held by other
    // threads are needed: the emulator serves from the parent) and leaves
    // with _exit, running no destructors.
    let pid = unsafe { libc::fork() };
    assert!(pid >= 0, "fork failed");
    if pid == 0 {
        let code = match create_own(&c, "child") {
            Ok(()) => 0,
            Err(why) => {
                eprintln!("child: {why}");
                1
            }
        };
        unsafe { libc::_exit(code) };
    }
    let parent = create_own(&c, "parent");
    let mut status = 0;
    // SAFETY: waiting for our own child.
    assert_eq!(unsafe { libc::waitpid(pid, &mut status, 0) }, pid);
    parent.unwrap();
    assert!(
        libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0,
        "the child failed (status {status}); see its message above"
    );
    // The parent's client still works afterwards.
    create_own(&c, "after").unwrap();

    let titles: std::collections::HashSet<String> = emu
        .stored("alice")
        .iter()
        .map(|i| {
            i["resourceVisualization"]["title"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    assert_eq!(titles.len(), 4 * CREATES, "each create stored once");
    // Request ids are drawn ahead, many at a time: the child must not
    // hand out the ids its parent drew before the fork.
    let ids: std::collections::HashSet<String> = emu
        .requests()
        .iter()
        .map(|r| r.headers["client-request-id"].clone())
        .collect();
    assert_eq!(ids.len(), 4 * CREATES, "every request has an id of its own");
}

#[test]
fn a_child_forked_during_a_token_renewal_gets_its_own_token_at_once() {
    use common::entra::*;
    use std::time::{Duration, Instant};
    use used_insight::credentials::ClientSecretCredential;

    let emu = entra();
    // The parent's token request takes 1.5 s; the child's is answered at once.
    emu.push_faults([common::fault(serde_json::json!(
        {"path_contains": "/oauth2/v2.0/token", "delay_ms": 1500}
    ))]);
    let credential = ClientSecretCredential::new(TENANT, CLIENT, SECRET)
        .unwrap()
        .authority(emu.base_url())
        .unwrap();
    let c = builder(&emu).credential(credential).build().unwrap();
    let renewing = {
        let c = c.clone();
        std::thread::spawn(move || c.create("alice", &titled("parent")))
    };
    // Fork once the parent's token request is under way.
    let started = Instant::now();
    while emu.token_requests().is_empty() {
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "no token request"
        );
        std::thread::sleep(Duration::from_millis(10));
    }

    // SAFETY: as above; the child makes requests and leaves with _exit.
    let pid = unsafe { libc::fork() };
    assert!(pid >= 0, "fork failed");
    if pid == 0 {
        let start = Instant::now();
        let code = match c.create("alice", &titled("child")) {
            Ok(_) if start.elapsed() < Duration::from_millis(1000) => 0,
            Ok(_) => {
                eprintln!(
                    "child: waited {:?} for the parent's renewal",
                    start.elapsed()
                );
                1
            }
            Err(e) => {
                eprintln!("child: {e}");
                1
            }
        };
        unsafe { libc::_exit(code) };
    }
    let mut status = 0;
    // SAFETY: waiting for our own child.
    assert_eq!(unsafe { libc::waitpid(pid, &mut status, 0) }, pid);
    assert!(
        libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0,
        "the child failed (status {status}); see its message above"
    );
    renewing.join().unwrap().unwrap();
    assert_eq!(emu.token_requests().len(), 2, "one token per process");
    assert_eq!(emu.stored_count(), 2);
}

#[test]
fn a_child_forked_while_the_parent_holds_every_slot_is_not_held_up() {
    use std::time::{Duration, Instant};
    use used_insight::RateLimit;

    let emu = emulator();
    // The parent's one request in flight takes 1.5 s; the limit allows one
    // at a time, so in the parent every other create waits for it.
    emu.push_faults([common::fault(serde_json::json!({"delay_ms": 1500}))]);
    let c = common::builder(&emu)
        .rate_limit(Some(RateLimit {
            max_concurrent: 1,
            requests: 1_000,
            per: Duration::from_secs(60),
        }))
        .build()
        .unwrap();
    let slow = {
        let c = c.clone();
        std::thread::spawn(move || c.create("alice", &titled("parent")))
    };
    let started = Instant::now();
    while emu.requests().is_empty() {
        assert!(started.elapsed() < Duration::from_secs(5), "no request");
        std::thread::sleep(Duration::from_millis(10));
    }

    // SAFETY: as above; the child makes requests and leaves with _exit.
    let pid = unsafe { libc::fork() };
    assert!(pid >= 0, "fork failed");
    if pid == 0 {
        // The parent's request is not this process's: its slot is free here.
        let start = Instant::now();
        let code = match c.create("alice", &titled("child")) {
            Ok(_) if start.elapsed() < Duration::from_millis(1000) => 0,
            Ok(_) => {
                eprintln!("child: waited {:?} for the parent's slot", start.elapsed());
                1
            }
            Err(e) => {
                eprintln!("child: {e}");
                1
            }
        };
        unsafe { libc::_exit(code) };
    }
    let mut status = 0;
    // SAFETY: waiting for our own child.
    assert_eq!(unsafe { libc::waitpid(pid, &mut status, 0) }, pid);
    assert!(
        libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0,
        "the child failed (status {status}); see its message above"
    );
    slow.join().unwrap().unwrap();
    // The parent's limiter still works: its slot came back.
    c.create("alice", &titled("after")).unwrap();
    assert_eq!(emu.stored_count(), 3);
}

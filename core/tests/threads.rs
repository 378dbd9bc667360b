//! One client shared between threads (each create with its own
//! `client-request-id`), and repeated creates to a host name, whose
//! addresses the client caches.

mod common;

use common::{builder, client, emulator, insight};

#[test]
fn eight_threads_share_one_client() {
    let emu = emulator();
    let c = client(&emu);
    std::thread::scope(|s| {
        for t in 0..8 {
            let c = c.clone();
            s.spawn(move || {
                for _ in 0..10 {
                    c.create(&format!("user{t}"), &insight()).unwrap();
                }
            });
        }
    });
    assert_eq!(emu.stored_count(), 80);
    let ids: std::collections::HashSet<_> = emu
        .requests()
        .iter()
        .map(|r| r.headers["client-request-id"].clone())
        .collect();
    assert_eq!(ids.len(), 80);
}

#[test]
fn a_host_name_is_resolved_and_reused_across_creates() {
    let emu = emulator();
    let by_name = emu.base_url().replace("127.0.0.1", "localhost");
    let c = builder(&emu).base_url(by_name).build().unwrap();
    for _ in 0..3 {
        c.create("alice", &insight()).unwrap();
    }
    assert_eq!(emu.stored("alice").len(), 3);
}

//! `soak`: many creates through one client, one after the other, against
//! graph-emulator, sampling this process's resident memory (`VmRSS`) and
//! open file descriptors every `--sample-every` creates: one JSON line per
//! sample, then a summary line. Every create must succeed. The emulator's
//! store is emptied every `--reset-every` creates so its memory stays
//! bounded (it is another process; only the client's is measured).
//!
//! The client has no rate limit (`--rate-limit` defaults to `off`): with
//! Graph's, 100,000 creates would take 100 minutes, and the limiter's
//! bookkeeping is bounded by its window, not by the number of creates.
//! bench/soak.py runs it and judges the samples.

use std::time::Instant;

use crate::{build_client, required, Args, BoxError, Limit};

/// The resident set size now, KiB (`VmRSS`).
fn rss_kib() -> i64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find_map(|l| l.strip_prefix("VmRSS:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        })
        .unwrap_or(-1)
}

/// Open file descriptors now.
fn open_fds() -> i64 {
    std::fs::read_dir("/proc/self/fd").map_or(-1, |dir| dir.count() as i64)
}

pub(crate) fn run(args: &Args) -> Result<(), BoxError> {
    let (client, insight) = build_client(args)?;
    let Limit::Count(count) = args.limit else {
        return Err("soak needs --count".into());
    };
    let base = required(&args.base, "base")?.trim_end_matches('/');
    let sample = |done: u64, started: Instant| {
        let line = serde_json::json!({
            "done": done,
            "rss_kib": rss_kib(),
            "fds": open_fds(),
            "elapsed_s": started.elapsed().as_secs_f64(),
        });
        println!("{line}");
    };
    let started = Instant::now();
    sample(0, started);
    for done in 1..=count {
        // A hundred users: the path is encoded afresh each time.
        let user = format!("soak{}@contoso.com", done % 100);
        let created = client.create(&user, &insight)?;
        if created.id.is_none() {
            return Err(format!("create {done}: no id").into());
        }
        if done % args.reset_every.max(1) == 0 {
            ureq::post(format!("{base}/_emulator/reset")).send_empty()?;
        }
        if done % args.sample_every.max(1) == 0 {
            sample(done, started);
        }
    }
    println!(
        "{}",
        serde_json::json!({
            "soak": "rust",
            "creates": count,
            "wall_s": started.elapsed().as_secs_f64(),
        })
    );
    Ok(())
}

//! `bulk`: N creates against a graph-emulator enforcing Graph's limits
//! (scaled down in time, with a latency), the way a bulk job would make
//! them — a loop on one thread, 16 threads sharing a client, or
//! `create_many` — with the client's rate limit on or off, and with a
//! chosen batch shape (for the measurement behind "The batch shape" in docs/DECISIONS.md).
//!
//! ```text
//! used-insight-bench bulk --base URL --insight FILE --count N
//!     --how loop | threads:T | many[:CONCURRENCY]
//!     [--rate-limit MAX,REQUESTS,PER_S | --rate-limit off]
//!     [--shape auto | parallel:K | sequential:K] [--rtt-ms MS] [--faults JSON]
//! ```
//!
//! The emulator's limits are run.py's to set; this driver resets its log,
//! store and counters first, optionally queues a delay on every request
//! (`--rtt-ms`: a network round trip the emulator's latency does not
//! model), runs, and prints one JSON line: creates that succeeded and
//! failed, wall and CPU time, HTTP requests made, and what the emulator's
//! limits throttled, plus what the emulator holds (to show nothing was lost
//! or created twice).

use std::time::Instant;

use used_insight::{BatchOptions, Client, RateLimit, ShapeChoice, UsedInsight};

use crate::{process_cpu, required, Args, BoxError, Limit};

/// How the creates are made.
enum How {
    Loop,
    Threads(usize),
    Many(usize),
}

fn parse_how(text: &str) -> Result<How, BoxError> {
    let (name, n) = match text.split_once(':') {
        Some((name, n)) => (name, Some(n.parse::<usize>()?)),
        None => (text, None),
    };
    match name {
        "loop" => Ok(How::Loop),
        "threads" => Ok(How::Threads(n.unwrap_or(16).max(1))),
        "many" => Ok(How::Many(n.unwrap_or(1).max(1))),
        _ => Err(format!("--how {text:?}: expected loop, threads:T or many[:C]").into()),
    }
}

/// `MAX,REQUESTS,PER_S` or `off`, read with core's own rules.
pub(crate) fn parse_rate_limit(text: &str) -> Result<Option<RateLimit>, BoxError> {
    if text == "off" {
        return Ok(None);
    }
    let parts: Vec<&str> = text.split(',').collect();
    let [max, requests, per] = parts[..] else {
        return Err(format!("--rate-limit {text:?}: expected MAX,REQUESTS,PER_S or off").into());
    };
    let limit = used_insight::bindings::rate_limit(max.parse()?, requests.parse()?, per.parse()?)
        .map_err(|e| format!("--rate-limit: {e}"))?;
    Ok(Some(limit))
}

fn parse_shape(text: &str) -> Result<ShapeChoice, BoxError> {
    let (name, n) = text.split_once(':').unwrap_or((text, "20"));
    let n: usize = n.parse()?;
    match name {
        "auto" => Ok(ShapeChoice::Auto),
        "parallel" => Ok(ShapeChoice::Parallel(n)),
        "sequential" => Ok(ShapeChoice::Sequential(n)),
        _ => Err(format!("--shape {text:?}: expected auto, parallel:K or sequential:K").into()),
    }
}

/// A control request to the emulator; the answer as JSON.
fn control(
    base: &str,
    method: &str,
    path: &str,
    body: &str,
) -> Result<serde_json::Value, BoxError> {
    let url = format!("{base}{path}");
    let mut response = if method == "GET" {
        ureq::get(&url).call()?
    } else {
        ureq::post(&url)
            .header("Content-Type", "application/json")
            .send(body)?
    };
    Ok(serde_json::from_str(
        &response.body_mut().read_to_string()?,
    )?)
}

pub(crate) fn run(args: &Args) -> Result<(), BoxError> {
    let base = required(&args.base, "base")?
        .trim_end_matches('/')
        .to_owned();
    let Limit::Count(count) = args.limit else {
        return Err("bulk needs --count".into());
    };
    let how = parse_how(args.how.as_deref().unwrap_or("loop"))?;
    let limit = parse_rate_limit(args.rate_limit.as_deref().unwrap_or("off"))?;
    let shape = parse_shape(args.shape.as_deref().unwrap_or("auto"))?;
    let insight = UsedInsight::from_json(&std::fs::read_to_string(required(
        &args.insight,
        "insight",
    )?)?)?;
    let client = Client::builder()
        .token(args.token.clone())
        .base_url(&base)
        .rate_limit(limit)
        .build()?;

    control(&base, "POST", "/_emulator/reset", "{}")?;
    if let Some(faults) = &args.faults {
        control(&base, "POST", "/_emulator/faults", faults)?;
    }
    if args.rtt_ms > 0 {
        let fault = serde_json::json!({"delay_ms": args.rtt_ms, "times": 1_000_000_000u64});
        control(&base, "POST", "/_emulator/faults", &fault.to_string())?;
    }
    let user = args.user.as_str();
    let cpu0 = process_cpu();
    let start = Instant::now();
    let results: Vec<bool> = match how {
        How::Loop => (0..count)
            .map(|_| client.create(user, &insight).is_ok())
            .collect(),
        How::Threads(threads) => std::thread::scope(|s| {
            let workers: Vec<_> = (0..threads)
                .map(|t| {
                    let (client, insight) = (&client, &insight);
                    // Thread t makes creates t, t + threads, …
                    let mine = (t as u64..count).step_by(threads).count();
                    s.spawn(move || {
                        (0..mine)
                            .map(|_| client.create(user, insight).is_ok())
                            .collect::<Vec<_>>()
                    })
                })
                .collect();
            workers
                .into_iter()
                .flat_map(|w| w.join().expect("worker"))
                .collect()
        }),
        How::Many(concurrency) => {
            let items: Vec<(&str, UsedInsight)> =
                (0..count).map(|_| (user, insight.clone())).collect();
            let options = BatchOptions::default()
                .with_concurrency(concurrency)
                .with_shape(shape);
            client
                .create_many_with(&items, &options)
                .iter()
                .map(Result::is_ok)
                .collect()
        }
    };
    let (wall, cpu) = (start.elapsed(), process_cpu() - cpu0);

    // What the emulator saw: its limits' report, the requests, and (with
    // the limits lifted for one read, then put back) what it stores.
    let report = control(&base, "GET", "/_emulator/limits", "")?;
    let requests = control(&base, "GET", "/_emulator/requests", "")?;
    let requests = requests["requests"].as_array().cloned().unwrap_or_default();
    let items_sent: usize = requests
        .iter()
        .map(|r| {
            serde_json::from_str::<serde_json::Value>(r["body"].as_str().unwrap_or(""))
                .ok()
                .and_then(|b| b["requests"].as_array().map(Vec::len))
                .unwrap_or(1)
        })
        .sum();
    control(&base, "POST", "/_emulator/limits", "{}")?;
    let stored = ureq::get(format!(
        "{base}/v1.0/users/{}/insights/used",
        user.replace('@', "%40")
    ))
    .header("Authorization", format!("Bearer {}", args.token))
    .call()?
    .body_mut()
    .read_to_string()?;
    control(
        &base,
        "POST",
        "/_emulator/limits",
        &report["limits"].to_string(),
    )?;
    let stored: serde_json::Value = serde_json::from_str(&stored)?;
    let ok = results.iter().filter(|r| **r).count();
    let line = serde_json::json!({
        "contestant": "bulk",
        "creates": ok,
        "failed": results.len() - ok,
        "wall_s": wall.as_secs_f64(),
        "cpu_s": cpu.as_secs_f64(),
        "http_requests": requests.len(),
        "items_sent": items_sent,
        "throttled": report["throttled"],
        "peak_in_flight": report["peak_in_flight"],
        "stored": stored["value"].as_array().map_or(0, Vec::len),
    });
    println!("{line}");
    Ok(())
}

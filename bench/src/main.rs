//! Benchmark drivers run by `bench/run.py`. Each run prints one JSON line:
//! how many creates succeeded, the wall time and the CPU time of this
//! process, both measured around the request loop only (start-up, client
//! construction and the first connection are outside the window, as they
//! are for every other contestant).
//!
//! ```text
//! used-insight-bench ureq  --request FILE            [--seconds S | --count N] [--timeouts] [--literal-resolver] [--ca PEM]
//! used-insight-bench core  --base URL --insight FILE [--seconds S | --count N] [--threads N] [--ca PEM] [--cancel | --json]
//! used-insight-bench first-create --base URL --insight FILE [--ca PEM]
//! used-insight-bench many  --base URL --insight FILE --count N [--rounds R] [--concurrency C]... [--reset]
//! used-insight-bench bulk  --base URL --insight FILE --count N --how loop|threads:T|many[:C]
//!                          [--rate-limit MAX,REQUESTS,PER_S|off] [--shape auto|parallel:K|sequential:K] [--rtt-ms MS] [--faults JSON]
//! used-insight-bench soak  --base URL --insight FILE --count N [--sample-every K] [--reset-every R]
//! ```
//!
//! Every mode but `bulk` measures the client's own cost, so its client has
//! no rate limit (`rate_limit(None)`) unless `--rate-limit` gives one (the
//! limiter's overhead row gives one that never binds). `bulk` is the
//! "bulk under Graph's limits" section: see `bulk.rs`.
//!
//! `ureq` is the bare loop: a ureq agent posting the fixed request bytes
//! (URL, headers and body from `--request`, written by run.py from what the
//! core itself sent to the emulator), no model, no validation. `core` is
//! `Client::create` with the same insight, on `--threads` threads sharing
//! one client.
//!
//! `--ca PEM` is for `https://` URLs: the bare loop then trusts only the
//! certificates in that file (ureq's `RootCerts::Specific`); the core adds
//! them to its roots with `ClientBuilder::add_root_certificates_file`, as a
//! program talking through a TLS-inspecting proxy would.

use std::io::Write;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use used_insight::{BatchOptions, Client, UsedInsight};

mod bulk;
mod soak;

/// Token every contestant sends (nginx ignores it; the emulator accepts any).
const DEFAULT_TOKEN: &str = "bench-token";
const DEFAULT_USER: &str = "alice@contoso.com";

/// CPU time (user + system) of this whole process so far.
fn process_cpu() -> Duration {
    // SAFETY: getrusage only writes into the zeroed struct we pass.
    let usage = unsafe {
        let mut usage: libc::rusage = std::mem::zeroed();
        libc::getrusage(libc::RUSAGE_SELF, &mut usage);
        usage
    };
    let tv = |t: libc::timeval| Duration::new(t.tv_sec as u64, t.tv_usec as u32 * 1000);
    tv(usage.ru_utime) + tv(usage.ru_stime)
}

/// Peak resident set size of this program, KiB: `VmHWM`, which starts
/// afresh at exec (getrusage's `ru_maxrss` carries over the peak of the
/// forked parent, so it is useless for a small child of a large one).
fn peak_rss_kib() -> i64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find_map(|l| l.strip_prefix("VmHWM:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        })
        .unwrap_or(-1)
}

/// When a timed loop stops: after a duration or after a number of creates.
#[derive(Clone, Copy, Debug)]
enum Limit {
    Seconds(f64),
    Count(u64),
}

impl Limit {
    fn deadline(self, start: Instant) -> Option<Instant> {
        match self {
            Limit::Seconds(s) => Some(start + Duration::from_secs_f64(s)),
            Limit::Count(_) => None,
        }
    }

    fn max_count(self) -> u64 {
        match self {
            Limit::Seconds(_) => u64::MAX,
            Limit::Count(n) => n,
        }
    }
}

#[derive(Debug)]
struct Args {
    mode: String,
    request: Option<String>,
    base: Option<String>,
    insight: Option<String>,
    token: String,
    user: String,
    limit: Limit,
    threads: usize,
    rounds: usize,
    concurrency: Vec<usize>,
    /// `many`: empty graph-emulator's store before each round.
    reset: bool,
    /// `ureq`: also set the core's timeouts (connect 10 s, global 60 s), to
    /// tell ureq's own per-request cost with timeouts from the core's.
    timeouts: bool,
    /// `ureq`: resolve IP-literal hosts without ureq's resolver thread (the
    /// fix this benchmark suggests for the core; see bench/README.md).
    literal_resolver: bool,
    /// `https://`: a PEM file of the CA that signed the server's certificate.
    ca: Option<String>,
    /// The client's rate limit, `MAX,REQUESTS,PER_S` or `off` (the default).
    rate_limit: Option<String>,
    /// `bulk`: how the creates are made.
    how: Option<String>,
    /// `bulk`: the batch shape of `create_many`.
    shape: Option<String>,
    /// `bulk`: a delay the emulator adds to every request, standing in for
    /// the network.
    rtt_ms: u64,
    /// `bulk`: faults to queue first (graph-emulator's JSON).
    faults: Option<String>,
    /// `core`: `create_with_cancel` with a token never cancelled, to
    /// measure what a token costs (its waits are cut into slices).
    cancel: bool,
    /// `core`: `create_json` on the insight file's text (JSON in, JSON
    /// out: the work the C layer's `used_insight_create` asks of core).
    json: bool,
    /// `soak`: print a sample of memory and file descriptors every this
    /// many creates.
    sample_every: u64,
    /// `soak`: empty graph-emulator's store every this many creates.
    reset_every: u64,
}

fn parse_args() -> Result<Args, lexopt::Error> {
    use lexopt::prelude::*;
    let mut parser = lexopt::Parser::from_env();
    let mut args = Args {
        mode: String::new(),
        request: None,
        base: None,
        insight: None,
        token: DEFAULT_TOKEN.to_owned(),
        user: DEFAULT_USER.to_owned(),
        limit: Limit::Seconds(2.0),
        threads: 1,
        rounds: 1,
        concurrency: Vec::new(),
        reset: false,
        timeouts: false,
        literal_resolver: false,
        ca: None,
        rate_limit: None,
        how: None,
        shape: None,
        rtt_ms: 0,
        faults: None,
        cancel: false,
        json: false,
        sample_every: 1000,
        reset_every: 10_000,
    };
    while let Some(arg) = parser.next()? {
        match arg {
            Value(mode) if args.mode.is_empty() => args.mode = mode.string()?,
            Long("request") => args.request = Some(parser.value()?.string()?),
            Long("base") => args.base = Some(parser.value()?.string()?),
            Long("insight") => args.insight = Some(parser.value()?.string()?),
            Long("token") => args.token = parser.value()?.string()?,
            Long("user") => args.user = parser.value()?.string()?,
            Long("seconds") => args.limit = Limit::Seconds(parser.value()?.parse()?),
            Long("count") => args.limit = Limit::Count(parser.value()?.parse()?),
            Long("threads") => args.threads = parser.value()?.parse()?,
            Long("rounds") => args.rounds = parser.value()?.parse()?,
            Long("concurrency") => args.concurrency.push(parser.value()?.parse()?),
            Long("reset") => args.reset = true,
            Long("timeouts") => args.timeouts = true,
            Long("literal-resolver") => args.literal_resolver = true,
            Long("ca") => args.ca = Some(parser.value()?.string()?),
            Long("rate-limit") => args.rate_limit = Some(parser.value()?.string()?),
            Long("how") => args.how = Some(parser.value()?.string()?),
            Long("shape") => args.shape = Some(parser.value()?.string()?),
            Long("rtt-ms") => args.rtt_ms = parser.value()?.parse()?,
            Long("faults") => args.faults = Some(parser.value()?.string()?),
            Long("cancel") => args.cancel = true,
            Long("json") => args.json = true,
            Long("sample-every") => args.sample_every = parser.value()?.parse()?,
            Long("reset-every") => args.reset_every = parser.value()?.parse()?,
            _ => return Err(arg.unexpected()),
        }
    }
    Ok(args)
}

type BoxError = Box<dyn std::error::Error + Send + Sync>;

fn required<'a>(value: &'a Option<String>, name: &str) -> Result<&'a str, BoxError> {
    value
        .as_deref()
        .ok_or_else(|| format!("--{name} is required").into())
}

/// One timed run's result, as one JSON line on stdout.
fn report(contestant: &str, threads: usize, creates: u64, wall: Duration, cpu: Duration) {
    let line = serde_json::json!({
        "contestant": contestant,
        "threads": threads,
        "creates": creates,
        "wall_s": wall.as_secs_f64(),
        "cpu_s": cpu.as_secs_f64(),
        "peak_rss_kib": peak_rss_kib(),
    });
    println!("{line}");
}

/// The fixed request the bare loop and every non-library contestant sends.
struct FixedRequest {
    url: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

fn read_request(path: &str) -> Result<FixedRequest, BoxError> {
    let v: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(path)?)?;
    let url = v["url"].as_str().ok_or("request: no url")?.to_owned();
    let body = v["body"]
        .as_str()
        .ok_or("request: no body")?
        .as_bytes()
        .to_vec();
    let mut headers = Vec::new();
    for pair in v["headers"].as_array().ok_or("request: no headers")? {
        let name = pair[0].as_str().ok_or("request: bad header")?;
        let value = pair[1].as_str().ok_or("request: bad header")?;
        headers.push((name.to_owned(), value.to_owned()));
    }
    Ok(FixedRequest { url, headers, body })
}

/// The bare loop: the same bytes through a ureq agent configured as the
/// core configures its own, the answer read in full, its status checked.
fn run_ureq(args: &Args) -> Result<(), BoxError> {
    let request = read_request(required(&args.request, "request")?)?;
    let mut config = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .max_redirects(0)
        .user_agent(ureq::config::AutoHeaderValue::None);
    if args.timeouts {
        config = config
            .timeout_connect(Some(Duration::from_secs(10)))
            .timeout_global(Some(Duration::from_secs(60)));
    }
    if let Some(ca) = &args.ca {
        config = config.tls_config(
            ureq::tls::TlsConfig::builder()
                .root_certs(ca_roots(ca)?)
                .build(),
        );
    }
    let agent = if args.literal_resolver {
        ureq::Agent::with_parts(
            config.build(),
            ureq::unversioned::transport::DefaultConnector::default(),
            LiteralFirst::default(),
        )
    } else {
        config.build().into()
    };
    let post = || -> Result<(), BoxError> {
        let mut builder = agent.post(&request.url);
        for (name, value) in &request.headers {
            builder = builder.header(name, value);
        }
        let mut response = builder.send(&request.body[..])?;
        let body = response.body_mut().read_to_vec()?;
        if response.status().as_u16() != 201 || body.is_empty() {
            return Err(format!("unexpected answer: HTTP {}", response.status()).into());
        }
        Ok(())
    };
    // Connect outside the timed window, as every contestant does.
    post()?;
    let (creates, wall, cpu) = timed_loop(args.limit, post)?;
    let name = match (args.timeouts, args.literal_resolver) {
        (false, false) => "ureq",
        (true, false) => "ureq-timeouts",
        (false, true) => "ureq-literal-resolver",
        (true, true) => "ureq-timeouts-literal-resolver",
    };
    report(&tls_suffix(name, args), 1, creates, wall, cpu);
    Ok(())
}

/// A contestant's name, `-tls` added when it trusts a CA (`https://`).
fn tls_suffix(name: &str, args: &Args) -> String {
    match args.ca {
        Some(_) => format!("{name}-tls"),
        None => name.to_owned(),
    }
}

/// The certificates of a PEM file as ureq's roots, and nothing else.
fn ca_roots(path: &str) -> Result<ureq::tls::RootCerts, BoxError> {
    let pem = std::fs::read(path)?;
    let mut certs = Vec::new();
    for item in ureq::tls::parse_pem(&pem) {
        if let ureq::tls::PemItem::Certificate(cert) = item? {
            certs.push(cert);
        }
    }
    if certs.is_empty() {
        return Err(format!("{path}: no certificate").into());
    }
    Ok(ureq::tls::RootCerts::Specific(std::sync::Arc::new(certs)))
}

/// ureq's `DefaultResolver` runs every lookup, IP literals included, on a
/// new thread whenever a timeout is configured (ureq 3.5, resolver.rs), and
/// ureq resolves before it looks in its connection pool: one thread per
/// request. This resolver answers IP literals itself and hands names on.
#[derive(Debug, Default)]
struct LiteralFirst(ureq::unversioned::resolver::DefaultResolver);

impl ureq::unversioned::resolver::Resolver for LiteralFirst {
    fn resolve(
        &self,
        uri: &ureq::http::Uri,
        config: &ureq::config::Config,
        timeout: ureq::unversioned::transport::NextTimeout,
    ) -> Result<ureq::unversioned::resolver::ResolvedSocketAddrs, ureq::Error> {
        let default_port = match uri.scheme_str() {
            Some("https") => Some(443),
            Some("http") => Some(80),
            _ => None,
        };
        if let (Some(host), Some(port)) = (uri.host(), uri.port_u16().or(default_port)) {
            let bare = host.trim_start_matches('[').trim_end_matches(']');
            if let Ok(ip) = bare.parse::<std::net::IpAddr>() {
                let mut addrs = self.empty();
                addrs.push(std::net::SocketAddr::new(ip, port));
                return Ok(addrs);
            }
        }
        self.0.resolve(uri, config, timeout)
    }
}

/// Runs `one` until the limit; returns (creates, wall, process CPU).
fn timed_loop(
    limit: Limit,
    mut one: impl FnMut() -> Result<(), BoxError>,
) -> Result<(u64, Duration, Duration), BoxError> {
    let cpu0 = process_cpu();
    let start = Instant::now();
    let deadline = limit.deadline(start);
    let max = limit.max_count();
    let mut creates = 0u64;
    while creates < max && deadline.map_or(true, |d| Instant::now() < d) {
        one()?;
        creates += 1;
    }
    Ok((creates, start.elapsed(), process_cpu() - cpu0))
}

fn build_client(args: &Args) -> Result<(Client, UsedInsight), BoxError> {
    let limit = bulk::parse_rate_limit(args.rate_limit.as_deref().unwrap_or("off"))?;
    let mut builder = Client::builder()
        .token(args.token.clone())
        .base_url(required(&args.base, "base")?)
        .rate_limit(limit);
    if let Some(ca) = &args.ca {
        builder = builder.add_root_certificates_file(ca);
    }
    let client = builder.build()?;
    let insight = UsedInsight::from_json(&std::fs::read_to_string(required(
        &args.insight,
        "insight",
    )?)?)?;
    Ok((client, insight))
}

/// `Client::create` in a loop, on `threads` threads sharing one client.
fn run_core(args: &Args) -> Result<(), BoxError> {
    let (client, insight) = build_client(args)?;
    let threads = args.threads.max(1);
    // Warm up: one connection per thread, outside the timed window.
    std::thread::scope(|s| {
        for _ in 0..threads {
            s.spawn(|| client.create(&args.user, &insight));
        }
    });
    let per_thread = match args.limit {
        Limit::Count(n) => Limit::Count(n.div_ceil(threads as u64)),
        seconds => seconds,
    };
    let token = used_insight::CancelToken::new();
    let insight_text = match (args.json, &args.insight) {
        (true, Some(path)) => Some(std::fs::read_to_string(path)?),
        _ => None,
    };
    let cpu0 = process_cpu();
    let start = Instant::now();
    let creates: Result<Vec<u64>, BoxError> = std::thread::scope(|s| {
        let workers: Vec<_> = (0..threads)
            .map(|_| {
                s.spawn(|| {
                    timed_loop(per_thread, || {
                        if args.cancel {
                            client.create_with_cancel(&args.user, &insight, &token)?;
                        } else if let Some(text) = &insight_text {
                            client.create_json(&args.user, text)?;
                        } else {
                            client.create(&args.user, &insight)?;
                        }
                        Ok(())
                    })
                    .map(|(n, ..)| n)
                })
            })
            .collect();
        workers
            .into_iter()
            .map(|w| w.join().map_err(|_| BoxError::from("worker panicked"))?)
            .collect()
    });
    let (wall, cpu) = (start.elapsed(), process_cpu() - cpu0);
    let base = match (args.cancel, args.json) {
        (true, _) => "core+cancel",
        (_, true) => "core-json",
        _ => "core",
    };
    let mut name = tls_suffix(base, args);
    if args.rate_limit.as_deref().is_some_and(|l| l != "off") {
        name.push_str("-limited");
    }
    report(&name, threads, creates?.iter().sum(), wall, cpu);
    Ok(())
}

/// A fresh process's first create: what a short-lived program pays.
fn run_first_create(args: &Args) -> Result<(), BoxError> {
    let (client, insight) = build_client(args)?;
    let created = client.create(&args.user, &insight)?;
    if created.id.is_none() {
        return Err("the created usedInsight has no id".into());
    }
    println!("{}", serde_json::json!({ "peak_rss_kib": peak_rss_kib() }));
    Ok(())
}

/// `create_many_with` vs a loop of `create`, `count` creates each, rounds
/// alternating so drift hits both alike.
fn run_many(args: &Args) -> Result<(), BoxError> {
    let (client, insight) = build_client(args)?;
    let Limit::Count(count) = args.limit else {
        return Err("many needs --count".into());
    };
    let items: Vec<(&str, UsedInsight)> = (0..count)
        .map(|_| (args.user.as_str(), insight.clone()))
        .collect();
    let concurrency = if args.concurrency.is_empty() {
        vec![1]
    } else {
        args.concurrency.clone()
    };
    let base = required(&args.base, "base")?.trim_end_matches('/');
    let reset = || -> Result<(), BoxError> {
        if args.reset {
            ureq::post(format!("{base}/_emulator/reset")).send_empty()?;
        }
        Ok(())
    };
    client.create(&args.user, &insight)?; // connect
    for _ in 0..args.rounds.max(1) {
        reset()?;
        let (creates, wall, cpu) = timed_loop(args.limit, || {
            client.create(&args.user, &insight)?;
            Ok(())
        })?;
        report("single-loop", 1, creates, wall, cpu);
        for &c in &concurrency {
            reset()?;
            let options = BatchOptions::default().with_concurrency(c);
            let cpu0 = process_cpu();
            let start = Instant::now();
            let results = client.create_many_with(&items, &options);
            let (wall, cpu) = (start.elapsed(), process_cpu() - cpu0);
            let ok = results.iter().filter(|r| r.is_ok()).count();
            if ok != items.len() {
                let first = results.into_iter().find_map(Result::err);
                return Err(format!(
                    "create_many: {ok} of {} succeeded; first error: {first:?}",
                    items.len()
                )
                .into());
            }
            report(&format!("create_many-c{c}"), c, ok as u64, wall, cpu);
        }
        std::io::stdout().flush()?;
    }
    Ok(())
}

fn main() -> ExitCode {
    let args = match parse_args() {
        Ok(args) => args,
        Err(e) => {
            eprintln!("used-insight-bench: {e}");
            return ExitCode::from(2);
        }
    };
    let result = match args.mode.as_str() {
        "ureq" => run_ureq(&args),
        "core" => run_core(&args),
        "first-create" => run_first_create(&args),
        "many" => run_many(&args),
        "bulk" => bulk::run(&args),
        "soak" => soak::run(&args),
        other => Err(format!(
            "unknown mode `{other}` (ureq, core, first-create, many, bulk, soak)"
        )
        .into()),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("used-insight-bench {}: {e}", args.mode);
            ExitCode::FAILURE
        }
    }
}

//! Cancelling calls through a `CancelToken`, against the emulator: every
//! wait — a slow answer, a `Retry-After`, the limiter, a token request,
//! connecting, a TLS handshake — ends within a few slices of the cancel,
//! nothing is sent after it, and every result says truthfully whether its
//! request may have been processed. Each test prints the measured delay
//! from the cancel to the return.

mod common;

use std::net::TcpListener;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::{builder, emulator, fault, insight};
use graph_emulator::Emulator;
use serde_json::json;
use used_insight::credentials::ClientSecretCredential;
use used_insight::{
    BatchOptions, CancelToken, CancelledError, Client, ClientBuilder, Error, RateLimit,
    RetryPolicy, UsedInsight,
};

/// A cancel later than this after it was asked for fails the test (the
/// waits are cut into 20 ms slices; the rest is margin for a loaded machine).
const PROMPT: Duration = Duration::from_millis(250);

/// Cancels `token` after `after`; returns when it did.
fn cancel_after(token: &CancelToken, after: Duration) -> Arc<Mutex<Option<Instant>>> {
    let at = Arc::new(Mutex::new(None));
    let (token, stamp) = (token.clone(), at.clone());
    std::thread::spawn(move || {
        std::thread::sleep(after);
        *stamp.lock().unwrap() = Some(Instant::now());
        token.cancel();
    });
    at
}

/// The delay from the cancel to now, checked against [`PROMPT`] and printed.
fn delay_since(cancelled_at: &Mutex<Option<Instant>>, case: &str) -> Duration {
    let at = cancelled_at.lock().unwrap().expect("the cancel happened");
    let delay = at.elapsed();
    eprintln!(
        "{case}: returned {:.1} ms after the cancel",
        delay.as_secs_f64() * 1e3
    );
    assert!(delay < PROMPT, "{case}: {delay:?} after the cancel");
    delay
}

fn cancelled(err: &Error) -> &CancelledError {
    match err {
        Error::Cancelled(e) => e,
        other => panic!("expected Cancelled, got {other:?}"),
    }
}

/// Nothing more arrives at the emulator after the call returned.
fn assert_nothing_more_sent(emu: &Emulator, count: usize) {
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(emu.requests().len(), count, "{:#?}", emu.requests());
}

/// Creates for alice with a token cancelled `after` the call began; checks
/// (and prints) that it returned within [`PROMPT`] of the cancel, as `case`.
fn create_cancelled_after(client: &Client, after: Duration, case: &str) -> Error {
    let token = CancelToken::new();
    let at = cancel_after(&token, after);
    let err = client
        .create_with_cancel("alice", &insight(), &token)
        .unwrap_err();
    delay_since(&at, case);
    err
}

#[test]
fn a_slow_answer_is_abandoned_and_may_have_been_processed() {
    let emu = emulator();
    emu.push_faults([fault(json!({"method": "POST", "delay_ms": 3000}))]);
    let client = builder(&emu)
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap();
    let err = create_cancelled_after(&client, Duration::from_millis(300), "slow answer");
    let e = cancelled(&err);
    assert!(e.request_may_have_been_sent && err.request_may_have_been_processed());
    assert_eq!(e.phase, "while waiting for the answer");
    let sent = emu.requests();
    assert_eq!(sent.len(), 1);
    assert_eq!(
        err.client_request_id(),
        sent[0].headers.get("client-request-id").map(String::as_str)
    );
    let text = err.to_string();
    assert!(
        text.starts_with("cancelled while waiting for the answer (the request may have been processed; its answer was abandoned) [client-request-id "),
        "{text}"
    );
    assert_nothing_more_sent(&emu, 1);
    // The abandoned connection is not reused: the next create gets its own.
    client.create("alice", &insight()).unwrap();
}

#[test]
fn a_token_cancelled_before_the_call_sends_nothing() {
    let emu = emulator();
    let client = common::client(&emu);
    let token = CancelToken::new();
    token.cancel();
    let err = client
        .create_json_with_cancel("alice", &insight().to_json(), &token)
        .unwrap_err();
    let e = cancelled(&err);
    assert!(!err.request_may_have_been_processed());
    assert_eq!(e.phase, "before the request was sent");
    assert!(
        err.to_string().contains("; not processed by Graph"),
        "{err}"
    );
    // Invalid input is still reported as such: validation comes first.
    let invalid = client
        .create_with_cancel("alice", &UsedInsight::default(), &token)
        .unwrap_err();
    assert!(matches!(invalid, Error::InvalidInput(_)), "{invalid}");
    assert_nothing_more_sent(&emu, 0);
}

/// A 429 with a long `Retry-After`: with the limiter the whole client
/// pauses and the retry waits for a slot; without it the retry sleeps.
fn retry_after_wait_is_cut_short(limit: Option<RateLimit>, phase: &str) {
    let emu = emulator();
    emu.push_faults([fault(
        json!({"method": "POST", "status": 429, "retry_after": "10"}),
    )]);
    let client = builder(&emu)
        .rate_limit(limit)
        .retry_policy(RetryPolicy::default().with_max_delay(Duration::from_secs(30)))
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap();
    let err = create_cancelled_after(
        &client,
        Duration::from_millis(300),
        &format!("Retry-After wait ({phase})"),
    );
    let e = cancelled(&err);
    // Graph refused the one request it got: nothing was created.
    assert!(!err.request_may_have_been_processed(), "{err}");
    assert_eq!(e.phase, phase);
    assert_nothing_more_sent(&emu, 1);
}

#[test]
fn a_retry_after_sleep_ends_at_once_without_the_limiter() {
    retry_after_wait_is_cut_short(None, "while waiting to retry");
}

#[test]
fn a_retry_after_pause_ends_at_once_with_the_limiter() {
    retry_after_wait_is_cut_short(
        Some(RateLimit::default()),
        "while waiting for a free request slot under the client's rate limit",
    );
}

#[test]
fn the_wait_for_a_free_slot_ends_at_once() {
    let emu = emulator();
    emu.push_faults([fault(json!({"method": "POST", "delay_ms": 1500}))]);
    let one_at_a_time = RateLimit {
        max_concurrent: 1,
        ..RateLimit::default()
    };
    let client = builder(&emu)
        .rate_limit(Some(one_at_a_time))
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap();
    let busy = {
        let client = client.clone();
        std::thread::spawn(move || client.create("bob", &insight()))
    };
    while emu.requests().is_empty() {
        std::thread::sleep(Duration::from_millis(5));
    }
    let err = create_cancelled_after(&client, Duration::from_millis(200), "limiter wait");
    assert!(!err.request_may_have_been_processed());
    assert_eq!(
        cancelled(&err).phase,
        "while waiting for a free request slot under the client's rate limit"
    );
    busy.join().unwrap().expect("the slot's holder finishes");
    assert_nothing_more_sent(&emu, 1);
    // The cancelled waiter left the queue: the next create goes at once.
    client.create("carol", &insight()).unwrap();
}

/// An Entra emulator whose token endpoint answers after 3 s, and a client
/// builder with a client-secret credential pointed at it.
fn slow_token_endpoint() -> (Emulator, ClientBuilder) {
    let emu = common::entra::entra();
    emu.push_faults([fault(
        json!({"path_contains": "/oauth2/v2.0/token", "delay_ms": 3000}),
    )]);
    let credential = ClientSecretCredential::new(
        common::entra::TENANT,
        common::entra::CLIENT,
        common::entra::SECRET,
    )
    .unwrap()
    .authority(emu.base_url())
    .unwrap();
    let builder = common::entra::builder(&emu).credential(credential);
    (emu, builder)
}

#[test]
fn a_slow_token_request_is_abandoned_and_nothing_reaches_graph() {
    let (emu, builder) = slow_token_endpoint();
    let client = builder.timeout(Duration::from_secs(30)).build().unwrap();
    // A second call waits for the first one's token request (single
    // flight); cancelling the waiter does not disturb the request.
    let renewing = {
        let client = client.clone();
        std::thread::spawn(move || client.create("bob", &insight()))
    };
    while emu.token_requests().is_empty() {
        std::thread::sleep(Duration::from_millis(5));
    }
    let err = create_cancelled_after(
        &client,
        Duration::from_millis(200),
        "waiting for another call's token request",
    );
    assert_eq!(cancelled(&err).phase, "while waiting for a token");
    assert!(!err.request_may_have_been_processed());
    assert!(err.client_request_id().is_some());
    renewing
        .join()
        .unwrap()
        .expect("the renewal was not cancelled");
    assert_eq!(common::entra::graph_requests(&emu).len(), 1, "bob's create");

    // The call renewing the token itself is cancelled: its token request
    // is abandoned, and the next call renews.
    client.create("warm", &insight()).unwrap();
    let (emu, builder) = slow_token_endpoint();
    let client = builder.build().unwrap();
    let err = create_cancelled_after(&client, Duration::from_millis(300), "own token request");
    assert_eq!(cancelled(&err).phase, "while waiting for a token");
    assert!(!err.request_may_have_been_processed());
    assert!(common::entra::graph_requests(&emu).is_empty());
    client.create("alice", &insight()).expect("renewed afresh");
    assert_eq!(emu.token_requests().len(), 2);
}

#[cfg(target_os = "linux")]
/// A listening socket whose accept queue is full: a connect to it gets no
/// answer at all (Linux drops the SYN), as from a host that is down.
fn unanswering_listener() -> (std::net::TcpListener, Vec<std::net::TcpStream>, u16) {
    use socket2::{Domain, Socket, Type};
    let socket = Socket::new(Domain::IPV4, Type::STREAM, None).unwrap();
    socket
        .bind(
            &"127.0.0.1:0"
                .parse::<std::net::SocketAddr>()
                .unwrap()
                .into(),
        )
        .unwrap();
    socket.listen(0).unwrap();
    let listener: TcpListener = socket.into();
    let port = listener.local_addr().unwrap().port();
    // Fill the queue (nothing is accepted).
    let mut held = Vec::new();
    for _ in 0..4 {
        let s = socket2::Socket::new(Domain::IPV4, Type::STREAM, None).unwrap();
        s.set_nonblocking(true).unwrap();
        let _ = s.connect(&listener.local_addr().unwrap().into());
        held.push(s.into());
    }
    std::thread::sleep(Duration::from_millis(50));
    (listener, held, port)
}

#[cfg(target_os = "linux")]
#[test]
fn a_connect_that_hangs_ends_at_once_and_sent_nothing() {
    let (_listener, _held, port) = unanswering_listener();
    let client = Client::builder()
        .token(common::TOKEN)
        .base_url(format!("http://127.0.0.1:{port}"))
        .connect_timeout(Duration::from_secs(20))
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap();
    let started = Instant::now();
    let err = create_cancelled_after(&client, Duration::from_millis(300), "connect");
    assert!(
        started.elapsed() >= Duration::from_millis(300),
        "it did hang"
    );
    assert_eq!(cancelled(&err).phase, "while connecting");
    assert!(!err.request_may_have_been_processed());
}

#[test]
fn a_tls_handshake_that_hangs_ends_at_once_and_sent_nothing() {
    // Accepts, reads the ClientHello, never answers.
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let accepted = Arc::new(Mutex::new(Vec::new()));
    {
        let accepted = accepted.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                accepted.lock().unwrap().push(stream);
            }
        });
    }
    let client = Client::builder()
        .token(common::TOKEN)
        .base_url(format!("https://127.0.0.1:{port}"))
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap();
    let err = create_cancelled_after(&client, Duration::from_millis(300), "TLS handshake");
    assert_eq!(cancelled(&err).phase, "while connecting");
    assert!(!err.request_may_have_been_processed());
    assert_eq!(accepted.lock().unwrap().len(), 1);
}

fn items(n: usize) -> Vec<(String, UsedInsight)> {
    (0..n).map(|i| (format!("user{i}"), insight())).collect()
}

/// `create_many` of 200 inputs in 10 batches of 20, each answered after
/// 400 ms, cancelled after 1 s: the batches answered by then are created,
/// those in flight may have been processed, the rest were not sent, and
/// nothing is sent after the cancel.
fn create_many_cancelled(concurrency: usize) {
    let emu = emulator();
    emu.push_faults([fault(
        json!({"path_contains": "$batch", "delay_ms": 400, "times": 100}),
    )]);
    let client = builder(&emu)
        .rate_limit(None)
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap();
    let token = CancelToken::new();
    let at = cancel_after(&token, Duration::from_millis(1000));
    let inputs = items(200);
    let options = BatchOptions::default()
        .with_cancel(&token)
        .with_concurrency(concurrency);
    let results = client.create_many_with(&inputs, &options);
    delay_since(&at, &format!("create_many, concurrency {concurrency}"));
    let sent_after = emu.requests().len();
    assert_eq!(results.len(), 200);
    let created = results.iter().filter(|r| r.is_ok()).count();
    let uncertain = results
        .iter()
        .filter(|r| matches!(r, Err(Error::Cancelled(e)) if e.request_may_have_been_sent))
        .count();
    let not_sent: Vec<usize> = results
        .iter()
        .enumerate()
        .filter(|(_, r)| matches!(r, Err(Error::Cancelled(e)) if !e.request_may_have_been_sent))
        .map(|(i, _)| i)
        .collect();
    assert_eq!(created + uncertain + not_sent.len(), 200, "{results:?}");
    assert_eq!(
        created,
        40 * concurrency,
        "the batches answered before the cancel"
    );
    assert_eq!(uncertain, 20 * concurrency, "the batches in flight");
    // Batches go whole: 20 per batch, in input order per worker.
    assert_eq!(created % 20, 0);
    assert_eq!(uncertain % 20, 0);
    assert!(uncertain >= 20, "a batch was in flight at the cancel");
    assert!(!not_sent.is_empty(), "some batches were never sent");
    // The emulator got exactly the batches that were created or in flight.
    assert_eq!(sent_after, (created + uncertain) / 20);
    // Graph may still carry out an abandoned batch: "may have been".
    std::thread::sleep(Duration::from_millis(500));
    let stored = emu.stored_count();
    assert!(
        created <= stored && stored <= created + uncertain,
        "{stored}"
    );
    for i in &not_sent {
        let Err(Error::Cancelled(e)) = &results[*i] else {
            unreachable!()
        };
        assert_eq!(e.phase, "before its batch was sent");
        assert!(e.client_request_id.is_none());
    }
    eprintln!(
        "create_many, concurrency {concurrency}: {created} created, {uncertain} may have been \
         processed, {} not sent; {sent_after} batches received",
        not_sent.len()
    );
    assert_nothing_more_sent(&emu, sent_after);
}

#[test]
fn create_many_stops_at_the_cancel_and_says_what_was_sent() {
    create_many_cancelled(1);
}

#[test]
fn create_many_with_workers_stops_at_the_cancel_too() {
    create_many_cancelled(2);
}

#[test]
fn throttled_batch_items_waiting_to_be_resent_are_not_processed() {
    let emu = emulator();
    emu.push_faults([fault(json!({
        "path_contains": "$batch", "batch_items": [1, 2], "status": 429, "retry_after": "10"
    }))]);
    let client = builder(&emu)
        .rate_limit(None)
        .retry_policy(RetryPolicy::default().with_max_delay(Duration::from_secs(30)))
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap();
    let token = CancelToken::new();
    let at = cancel_after(&token, Duration::from_millis(300));
    let results = client.create_many_with(&items(3), &BatchOptions::default().with_cancel(&token));
    delay_since(&at, "create_many waiting to resend throttled items");
    assert!(results[0].is_ok(), "{:?}", results[0]);
    for r in &results[1..] {
        let e = cancelled(r.as_ref().unwrap_err());
        assert_eq!(e.phase, "while waiting to retry");
        assert!(!e.request_may_have_been_sent);
    }
    assert_nothing_more_sent(&emu, 1);
}

#[test]
fn a_check_cancels_from_the_calling_thread() {
    let emu = emulator();
    emu.push_faults([fault(json!({"method": "POST", "delay_ms": 3000}))]);
    let client = builder(&emu)
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap();
    let deadline = Instant::now() + Duration::from_millis(300);
    let caller = std::thread::current().id();
    let token = CancelToken::with_check(move || {
        assert_eq!(std::thread::current().id(), caller);
        Instant::now() >= deadline
    });
    let err = client
        .create_with_cancel("alice", &insight(), &token)
        .unwrap_err();
    let late = deadline.elapsed();
    eprintln!(
        "check: returned {:.1} ms after its deadline",
        late.as_secs_f64() * 1e3
    );
    assert!(late < PROMPT, "{late:?}");
    assert!(token.is_cancelled());
    assert!(cancelled(&err).request_may_have_been_sent);
}

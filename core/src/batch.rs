//! Many creates at once (`Client::create_many` and its JSON and partial
//! forms, `BatchOptions`): inputs validated one by one, the valid ones sent
//! in Graph JSON batches (`POST /{version}/$batch`, at most 20 requests
//! each, shaped to the client's limits by `limit::BatchShape`), throttled
//! items and items whose dependency failed resent on their own, and exactly
//! one result per input, in input order.

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::Duration;

use crate::cancel::{Cancel, SLICE};
use crate::error::CancelledError;
use crate::CancelToken;

use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

use crate::client::{prepare, Input};
use crate::endpoint::create_path;
use crate::error::ConfigError;
use crate::limit::{back_off, BatchShape, ShapeChoice};
use crate::response::Answer;
use crate::retry::{is_retryable_status, parse_retry_after, RetryBudget};
use crate::validation::Problems;
use crate::{Client, Error, UsedInsight};

/// Most requests Graph accepts in one JSON batch.
pub const MAX_BATCH_REQUESTS: usize = 20;

/// How [`Client::create_many_with`] runs.
///
/// About concurrency: Graph counts every request inside a batch against the
/// same throttling limits as if it were sent alone, and throttles per user,
/// per app and per tenant. With the client's [`RateLimit`](crate::RateLimit)
/// on (the default), batches wait for their slots like single creates and
/// never put more items in flight than it allows: with fewer batches in
/// flight than `max_concurrent` (4 for Graph), each batch holds that many
/// items, which Graph runs together; with `concurrency` at least
/// `max_concurrent`, each batch is a `dependsOn` chain of up to 20 items,
/// one in flight at a time, and `max_concurrent` batches run together —
/// which pays off when the network's round trip to Graph is long next to
/// Graph's time per item (docs/DECISIONS.md, "The batch shape"). Without a limit,
/// keep concurrency low (2–4 at most) and let Graph's 429s slow you down.
///
/// ```
/// let progress = |done: usize, total: usize| eprintln!("{done}/{total}");
/// let options = used_insight::BatchOptions::default()
///     .with_concurrency(2)
///     .with_progress(&progress);
/// assert_eq!(options.concurrency, 2);
/// ```
#[derive(Clone, Copy)]
#[non_exhaustive]
pub struct BatchOptions<'a> {
    /// Batches in flight at once, on the client's connection pool: 1 (the
    /// default) or more. 0 is refused: every input gets
    /// [`Error::InvalidConfig`] and nothing is sent.
    pub concurrency: usize,
    /// Called with (results so far, total) each time an input gets its
    /// final result; from the worker threads when `concurrency` > 1.
    pub progress: Option<&'a (dyn Fn(usize, usize) + Sync)>,
    /// How batches are shaped; not part of the stable API (the benchmark
    /// measures the alternatives with it).
    #[doc(hidden)]
    pub shape: ShapeChoice,
    /// Stops the call early once cancelled: see [`BatchOptions::with_cancel`].
    pub cancel: Option<&'a CancelToken>,
}

impl Default for BatchOptions<'_> {
    fn default() -> Self {
        Self {
            concurrency: 1,
            progress: None,
            shape: ShapeChoice::Auto,
            cancel: None,
        }
    }
}

/// Why a concurrency is refused, in the words every layer uses.
pub(crate) fn bad_concurrency(value: impl std::fmt::Display) -> ConfigError {
    ConfigError::new(format!("concurrency must be 1 or more, not {value}"))
}

impl<'a> BatchOptions<'a> {
    /// Sets [`BatchOptions::concurrency`].
    pub fn with_concurrency(mut self, concurrency: usize) -> Self {
        self.concurrency = concurrency;
        self
    }

    /// Sets [`BatchOptions::progress`].
    pub fn with_progress(mut self, progress: &'a (dyn Fn(usize, usize) + Sync)) -> Self {
        self.progress = Some(progress);
        self
    }

    /// Sets [`BatchOptions::cancel`]: once `cancel` is cancelled no new
    /// batch is sent, a batch in flight is abandoned and every wait ends,
    /// within about 20 ms. The call still returns one result per input:
    /// those known before the cancel, and
    /// [`Error::Cancelled`] for the others — with
    /// `request_may_have_been_sent` `false` for inputs that were never sent
    /// (or that Graph refused and were waiting to be resent), `true` for
    /// those of the batch in flight, which Graph may still carry out.
    ///
    /// ```no_run
    /// # let client = used_insight::Client::builder().token("t").build()?;
    /// # let items: Vec<(String, used_insight::UsedInsight)> = Vec::new();
    /// use used_insight::{BatchOptions, CancelToken, Error};
    /// let cancel = CancelToken::new();
    /// // Elsewhere (a thread, a shutdown hook): cancel.cancel();
    /// let results = client.create_many_with(&items, &BatchOptions::default().with_cancel(&cancel));
    /// for (index, result) in results.iter().enumerate() {
    ///     match result {
    ///         Ok(_) => {}
    ///         Err(Error::Cancelled(e)) if !e.request_may_have_been_sent => {
    ///             println!("input {index} was not sent; send it again later")
    ///         }
    ///         Err(e) => println!("input {index}: {e}"),
    ///     }
    /// }
    /// # Ok::<(), used_insight::Error>(())
    /// ```
    pub fn with_cancel(mut self, cancel: &'a CancelToken) -> Self {
        self.cancel = Some(cancel);
        self
    }

    /// Sets the batch shape (not part of the stable API).
    #[doc(hidden)]
    pub fn with_shape(mut self, shape: ShapeChoice) -> Self {
        self.shape = shape;
        self
    }
}

impl std::fmt::Debug for BatchOptions<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BatchOptions")
            .field("concurrency", &self.concurrency)
            .field("progress", &self.progress.is_some())
            .field("shape", &self.shape)
            .field("cancel", &self.cancel)
            .finish()
    }
}

/// A validated input waiting for its result.
struct Pending<'p> {
    index: usize,
    path: String,
    body: Box<RawValue>,
    budget: RetryBudget<'p>,
}

/// Results in input order, filled from any worker; reports progress.
struct Results<'o> {
    slots: Mutex<Vec<Option<Result<UsedInsight, Error>>>>,
    done: AtomicUsize,
    progress: Option<&'o (dyn Fn(usize, usize) + Sync)>,
}

impl Results<'_> {
    fn record(&self, index: usize, result: Result<UsedInsight, Error>) {
        let total = {
            let mut slots = self.slots.lock().unwrap_or_else(|e| e.into_inner());
            debug_assert!(slots[index].is_none(), "input {index} got two results");
            slots[index] = Some(result);
            slots.len()
        };
        self.advance(total);
    }

    /// Each slot is filled exactly once, except for skipped inputs.
    fn into_slots(self) -> Vec<Option<Result<UsedInsight, Error>>> {
        self.slots.into_inner().unwrap_or_else(|e| e.into_inner())
    }

    /// Counts an input as done for progress: every input, recorded or skipped.
    fn advance(&self, total: usize) {
        let done = self.done.fetch_add(1, Ordering::SeqCst) + 1;
        if let Some(progress) = self.progress {
            progress(done, total);
        }
    }
}

impl Client {
    /// Creates many usedInsights, each `(user id, insight)`, in Graph JSON
    /// batches, one batch at a time. Returns exactly one result per input,
    /// in input order.
    ///
    /// Batches hold up to 20 items, and with the client's
    /// [`RateLimit`](crate::RateLimit) no more than may be in flight at once
    /// (4 with Graph's limits): Graph runs a batch's items in parallel and
    /// counts each as a request. Each batch waits for its slots like any
    /// request of the client. (With more batches in flight, see
    /// [`BatchOptions`].)
    ///
    /// Invalid inputs get their [`Error::InvalidInput`] and are not sent.
    /// Items Graph throttles inside a batch (429/503/504) are sent again,
    /// after their own `Retry-After`, within the client's retry policy; a
    /// batch whose answer is lost is not resent, and each of its items
    /// reports an error saying it may or may not have been created.
    ///
    /// ```no_run
    /// # let client = used_insight::Client::builder().token("t").build()?;
    /// # let insight = used_insight::UsedInsight::default();
    /// let items = vec![("alice@contoso.com", insight.clone()), ("bob@contoso.com", insight)];
    /// for (input, result) in items.iter().zip(client.create_many(&items)) {
    ///     match result {
    ///         Ok(created) => println!("{}: {:?}", input.0, created.id),
    ///         Err(e) => eprintln!("{}: {e}", input.0),
    ///     }
    /// }
    /// # Ok::<(), used_insight::Error>(())
    /// ```
    pub fn create_many<U: AsRef<str>>(
        &self,
        items: &[(U, UsedInsight)],
    ) -> Vec<Result<UsedInsight, Error>> {
        self.create_many_with(items, &BatchOptions::default())
    }

    /// [`Client::create_many`] with options: concurrency and a progress callback.
    pub fn create_many_with<U: AsRef<str>>(
        &self,
        items: &[(U, UsedInsight)],
        options: &BatchOptions<'_>,
    ) -> Vec<Result<UsedInsight, Error>> {
        self.run_batches(items.len(), options, |i| {
            let (user_id, insight) = &items[i];
            Some(
                prepare(user_id.as_ref(), Input::Model(insight))
                    .map(|body| (create_path(user_id.as_ref()), body)),
            )
        })
        .into_iter()
        .map(|r| r.expect("no input is skipped"))
        .collect()
    }

    /// [`Client::create_many_with`] with JSON text in and out, for callers
    /// that hold JSON already. Each result is the created usedInsight as
    /// compact JSON.
    pub fn create_many_json<U: AsRef<str>, J: AsRef<str>>(
        &self,
        items: &[(U, J)],
        options: &BatchOptions<'_>,
    ) -> Vec<Result<String, Error>> {
        let items: Vec<Option<&(U, J)>> = items.iter().map(Some).collect();
        self.create_many_json_partial(&items, options)
            .into_iter()
            .map(|r| r.expect("no input is skipped"))
            .collect()
    }

    /// See [`crate::bindings::create_many_json_partial`].
    pub(crate) fn create_many_json_partial<U: AsRef<str>, J: AsRef<str>>(
        &self,
        items: &[Option<&(U, J)>],
        options: &BatchOptions<'_>,
    ) -> Vec<Option<Result<String, Error>>> {
        self.run_batches(items.len(), options, |i| {
            let (user_id, json) = items[i]?;
            Some(
                prepare(user_id.as_ref(), Input::Json(json.as_ref()))
                    .map(|body| (create_path(user_id.as_ref()), body)),
            )
        })
        .into_iter()
        .map(|r| r.map(|r| r.map(|created| created.to_json())))
        .collect()
    }

    fn run_batches(
        &self,
        total: usize,
        options: &BatchOptions<'_>,
        prepare: impl Fn(usize) -> Option<Result<(String, String), Error>>,
    ) -> Vec<Option<Result<UsedInsight, Error>>> {
        let results = Results {
            slots: Mutex::new((0..total).map(|_| None).collect()),
            done: AtomicUsize::new(0),
            progress: options.progress,
        };
        if options.concurrency == 0 {
            for index in 0..total {
                match prepare(index) {
                    None => results.advance(total),
                    Some(_) => results.record(
                        index,
                        Err(Error::InvalidConfig(bad_concurrency(options.concurrency))),
                    ),
                }
            }
            return results.into_slots();
        }
        let mut pending = Vec::with_capacity(total);
        for index in 0..total {
            let Some(prepared) = prepare(index) else {
                results.advance(total);
                continue;
            };
            let prepared = prepared.and_then(|(path, body)| {
                let body = RawValue::from_string(body).map_err(|e| {
                    Error::InvalidInput(single_problem(format!(
                        "could not be written as JSON: {e}"
                    )))
                })?;
                Ok((path, body))
            });
            match prepared {
                Ok((path, body)) => pending.push(Pending {
                    index,
                    path,
                    body,
                    budget: RetryBudget::new(self.retry_policy()),
                }),
                Err(e) => results.record(index, Err(e)),
            }
        }
        let shape = BatchShape::for_limit(
            self.limiter().map(|l| l.limit()),
            options.shape,
            options.concurrency,
        );
        let mut batches: Vec<Vec<Pending>> = Vec::new();
        let mut rest = pending.into_iter().peekable();
        while rest.peek().is_some() {
            batches.push(rest.by_ref().take(shape.size).collect());
        }
        let workers = options.concurrency.min(batches.len()).max(1);
        let cancel = Cancel::new(options.cancel);
        // A batch is started only while the call is not cancelled; after
        // the cancel the rest are not sent.
        let run = |batch: Vec<Pending<'_>>| {
            if cancel.poll() {
                not_sent(batch, &results);
            } else {
                self.run_batch(batch, shape, &results, cancel);
            }
        };
        if workers == 1 {
            batches.into_iter().for_each(run);
        } else {
            let queue = Mutex::new(batches.into_iter());
            let finished = AtomicUsize::new(0);
            std::thread::scope(|scope| {
                for _ in 0..workers {
                    scope.spawn(|| {
                        loop {
                            let next = queue.lock().unwrap_or_else(|e| e.into_inner()).next();
                            match next {
                                Some(batch) => run(batch),
                                None => break,
                            }
                        }
                        finished.fetch_add(1, Ordering::SeqCst);
                    });
                }
                // The calling thread waits for the workers in slices, so
                // a token's check runs there too (Python handles signals
                // only on the thread that called).
                if cancel.token().is_some() {
                    while finished.load(Ordering::SeqCst) < workers {
                        cancel.poll();
                        std::thread::sleep(SLICE);
                    }
                }
            });
        }
        results.into_slots()
    }

    /// Sends one batch, then its throttled items and those whose dependency
    /// failed again (alone, together), until every item has a final result.
    fn run_batch(
        &self,
        mut round: Vec<Pending<'_>>,
        shape: BatchShape,
        results: &Results<'_>,
        cancel: Cancel<'_>,
    ) {
        let url = self.endpoint().batch_url();
        while !round.is_empty() {
            let client_request_id = crate::request_id::new().to_string();
            let body = batch_body(&round, shape.sequential);
            let cost = shape.cost(round.len());
            let answer = match self.post_with_retries(
                &url,
                body.as_bytes(),
                &client_request_id,
                cost,
                cancel,
            ) {
                Ok(answer) => answer,
                Err(e) => {
                    // Lost, refused or rejected as a whole: each item shares the
                    // fate of the request, and none is resent.
                    for item in round {
                        results.record(item.index, Err(e.replicate()));
                    }
                    return;
                }
            };
            let mut by_id = match serde_json::from_str::<BatchAnswer>(&answer.body) {
                Ok(parsed) => parsed
                    .responses
                    .into_iter()
                    .map(|r| (r.id.clone(), r))
                    .collect::<HashMap<_, _>>(),
                Err(e) => {
                    let err = answer
                        .undecodable(format!("not a JSON batch answer: {e}"), &client_request_id);
                    for item in round {
                        results.record(item.index, Err(err.replicate()));
                    }
                    return;
                }
            };
            let mut again = Vec::new();
            let mut wait = Duration::ZERO;
            let mut throttled = Throttled::default();
            for (position, mut item) in round.into_iter().enumerate() {
                let Some(reply) = by_id.remove(&item.index.to_string()) else {
                    let err = answer.undecodable(
                        format!(
                            "the batch answer has no response for request id {}",
                            item.index
                        ),
                        &client_request_id,
                    );
                    results.record(item.index, Err(err));
                    continue;
                };
                let reply = reply.into_answer();
                if reply.is_success() {
                    results.record(item.index, reply.created(&client_request_id));
                    continue;
                }
                // 424: the item it depended on failed, so Graph did not run
                // it; sent again, it is not a duplicate. (Only when it had a
                // dependency: otherwise a 424 is final, and no loop can form.)
                if reply.status == 424 && shape.sequential && position > 0 {
                    again.push(item);
                    continue;
                }
                if is_retryable_status(reply.status) {
                    throttled.note(reply.status, reply.retry_after);
                    if let Some(w) = item.budget.next_wait(reply.retry_after) {
                        wait = wait.max(w);
                        again.push(item);
                        continue;
                    }
                }
                let attempts = item.budget.retries_done() + 1;
                results.record(
                    item.index,
                    Err(reply.into_graph_error(&client_request_id, attempts)),
                );
            }
            if throttled.any {
                log::warn!(
                    "{} of a batch throttled (client-request-id {client_request_id}); resending them in {:.3} s",
                    again.len(),
                    wait.as_secs_f64()
                );
                let wait = (!again.is_empty()).then_some(wait);
                let waited = back_off(
                    self.limiter(),
                    throttled.status,
                    throttled.retry_after,
                    wait,
                    cancel,
                );
                if !waited {
                    // Refused by Graph and waiting to be resent: not processed.
                    let cancelled = Error::Cancelled(CancelledError::new(
                        "while waiting to retry",
                        false,
                        Some(&client_request_id),
                    ));
                    for item in again {
                        results.record(item.index, Err(cancelled.replicate()));
                    }
                    return;
                }
            }
            round = again;
        }
    }
}

/// The inputs of a batch never sent because the call was cancelled.
fn not_sent(batch: Vec<Pending<'_>>, results: &Results<'_>) {
    let cancelled = Error::Cancelled(CancelledError::new(
        "before its batch was sent",
        false,
        None,
    ));
    for item in batch {
        results.record(item.index, Err(cancelled.replicate()));
    }
}

/// The throttled items of one batch answer, as one signal for the client:
/// a 429 among them, the longest `Retry-After`.
#[derive(Default)]
struct Throttled {
    any: bool,
    status: u16,
    retry_after: Option<Duration>,
}

impl Throttled {
    fn note(&mut self, status: u16, retry_after: Option<Duration>) {
        self.any = true;
        if self.status != 429 {
            self.status = status;
        }
        self.retry_after = self.retry_after.max(retry_after);
    }
}

fn single_problem(reason: String) -> crate::ValidationErrors {
    let mut problems = Problems::default();
    problems.push("", reason);
    problems
        .into_result()
        .expect_err("one problem was just pushed")
}

/// The `$batch` request: ids are input indexes, so answers in any order
/// find their input. Sequential: each item depends on the one before.
fn batch_body(items: &[Pending<'_>], sequential: bool) -> String {
    #[derive(Serialize)]
    struct Request<'a> {
        requests: Vec<Item<'a>>,
    }
    #[derive(Serialize)]
    struct Item<'a> {
        id: String,
        method: &'static str,
        url: &'a str,
        headers: Headers,
        body: &'a RawValue,
        #[serde(rename = "dependsOn", skip_serializing_if = "Option::is_none")]
        depends_on: Option<[String; 1]>,
    }
    #[derive(Serialize)]
    struct Headers {
        #[serde(rename = "Content-Type")]
        content_type: &'static str,
    }
    let request = Request {
        requests: items
            .iter()
            .enumerate()
            .map(|(position, p)| Item {
                depends_on: (sequential && position > 0)
                    .then(|| [items[position - 1].index.to_string()]),
                id: p.index.to_string(),
                method: "POST",
                url: &p.path,
                headers: Headers {
                    content_type: "application/json",
                },
                body: &p.body,
            })
            .collect(),
    };
    serde_json::to_string(&request).unwrap_or_default()
}

#[derive(Deserialize)]
pub(crate) struct BatchAnswer {
    pub(crate) responses: Vec<ItemAnswer>,
}

#[derive(Deserialize)]
pub(crate) struct ItemAnswer {
    pub(crate) id: String,
    status: u16,
    #[serde(default)]
    headers: BTreeMap<String, String>,
    body: Option<Box<RawValue>>,
}

impl ItemAnswer {
    /// An item's answer in the same form as a whole HTTP answer, so success
    /// and error decoding are shared with single creates.
    pub(crate) fn into_answer(self) -> Answer {
        let header = |name: &str| {
            self.headers
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(name))
                .map(|(_, v)| v.clone())
        };
        Answer {
            status: self.status,
            retry_after: header("retry-after")
                .and_then(|v| parse_retry_after(&v, std::time::SystemTime::now())),
            request_id: header("request-id"),
            location: None,
            deprecation: None,
            body: self.body.map(|b| b.get().to_owned()).unwrap_or_default(),
        }
    }
}

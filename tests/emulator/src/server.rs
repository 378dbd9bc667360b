//! HTTP plumbing: accept loop, request reading and recording, fault application,
//! control endpoints.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::future::Future;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use http_body_util::BodyExt;
use hyper::body::{Bytes, Incoming};
use hyper::header::{HeaderName, HeaderValue, CONTENT_LENGTH};
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use serde_json::{json, Value};

use crate::body::{Payload, RespBody};
use crate::chaos::Dice;
use crate::entra::{self, Endpoint, Entra, EntraReq};
use crate::graph::{self, Ctx, GraphReq, Resp};
use crate::{Fault, RecordedRequest, MAX_REQUEST_BODY};

/// Mutable emulator state.
#[derive(Default)]
pub(crate) struct State {
    pub(crate) faults: VecDeque<Fault>,
    pub(crate) requests: Vec<RecordedRequest>,
    /// Decoded user id → insights in creation order.
    pub(crate) store: HashMap<String, Vec<Value>>,
}

/// State shared between the server tasks and the [`crate::Emulator`] handle.
pub(crate) struct Shared {
    state: Mutex<State>,
    started: Instant,
    pub(crate) base_url: String,
    pub(crate) token: Option<String>,
    /// The emulated Entra ID (token endpoint, managed identity, issued tokens).
    pub(crate) entra: Entra,
    /// Graph's limits, enforced by `crate::limits`.
    pub(crate) gate: crate::limits::Gate,
    /// Random faults on Graph's POSTs (`crate::chaos`).
    pub(crate) chaos: Dice,
}

impl Shared {
    pub(crate) fn new(base_url: String, token: Option<String>, entra: entra::Setup) -> Shared {
        Shared {
            state: Mutex::new(State::default()),
            started: Instant::now(),
            entra: Entra::new(entra, base_url.clone()),
            base_url,
            token,
            gate: crate::limits::Gate::default(),
            chaos: Dice::default(),
        }
    }

    pub(crate) fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub(crate) fn push_faults(&self, faults: Vec<Fault>) {
        self.state().faults.extend(faults);
    }

    pub(crate) fn reset(&self) {
        *self.state() = State::default();
        self.entra.reset();
        self.gate.reset();
        self.chaos.reset();
    }

    /// Takes (one use of) the first queued fault matching the request.
    fn take_fault(
        &self,
        method: &str,
        raw_path: &str,
        body: &[u8],
        batch_len: Option<usize>,
    ) -> Option<Fault> {
        let mut state = self.state();
        let index = state
            .faults
            .iter()
            .position(|f| fault_matches(f, method, raw_path, body, batch_len))?;
        let fault = &mut state.faults[index];
        if fault.times <= 1 {
            state.faults.remove(index)
        } else {
            fault.times -= 1;
            Some(fault.clone())
        }
    }
}

fn fault_matches(
    f: &Fault,
    method: &str,
    raw_path: &str,
    body: &[u8],
    batch_len: Option<usize>,
) -> bool {
    let method_ok = match &f.method {
        None => true,
        Some(m) => m.eq_ignore_ascii_case(method),
    };
    let path_ok = match &f.path_contains {
        None => true,
        Some(p) => raw_path.contains(p.as_str()),
    };
    let body_ok = match &f.body_contains {
        None => true,
        Some(needle) => String::from_utf8_lossy(body).contains(needle.as_str()),
    };
    let items = f.item_indexes();
    let batch_ok = items.is_empty() || batch_len.is_some_and(|n| items.iter().all(|i| *i < n));
    method_ok && path_ok && body_ok && batch_ok
}

/// The service's error: makes hyper close the connection without answering.
#[derive(Debug)]
pub(crate) struct DropConnection;

impl std::fmt::Display for DropConnection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("connection dropped by an injected fault")
    }
}

impl std::error::Error for DropConnection {}

/// Accepts connections until `shutdown` completes; with an `acceptor`, each
/// connection starts with a TLS handshake.
pub(crate) async fn serve(
    listener: tokio::net::TcpListener,
    acceptor: Option<tokio_rustls::TlsAcceptor>,
    shared: Arc<Shared>,
    shutdown: impl Future<Output = ()>,
) {
    tokio::pin!(shutdown);
    loop {
        tokio::select! {
            _ = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => {
                    let _ = stream.set_nodelay(true);
                    let shared = Arc::clone(&shared);
                    let acceptor = acceptor.clone();
                    tokio::spawn(async move {
                        match acceptor {
                            None => serve_connection(stream, shared).await,
                            // A failed handshake (say, the client rejected the
                            // certificate) just ends the connection.
                            Some(acceptor) => {
                                if let Ok(stream) = acceptor.accept(stream).await {
                                    serve_connection(stream, shared).await;
                                }
                            }
                        }
                    });
                }
                // E.g. out of file descriptors: back off instead of spinning.
                Err(_) => tokio::time::sleep(Duration::from_millis(10)).await,
            }
        }
    }
}

/// Serves HTTP/1.1 on one connection, plain or TLS, until it closes.
async fn serve_connection<S>(stream: S, shared: Arc<Shared>)
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let service = hyper::service::service_fn(move |req| handle(Arc::clone(&shared), req));
    let _ = hyper::server::conn::http1::Builder::new()
        .keep_alive(true)
        .serve_connection(TokioIo::new(stream), service)
        .await;
}

enum ReadBody {
    Complete(Vec<u8>),
    TooLarge(Vec<u8>),
}

/// Past the limit, up to this many bytes are still read (and discarded) so the
/// client, which is usually still sending, gets to see the 413.
const DRAIN_LIMIT: u64 = 64 * 1024 * 1024;

async fn read_body(body: &mut Incoming, declared: Option<u64>) -> Result<ReadBody, hyper::Error> {
    if declared.is_some_and(|n| n > DRAIN_LIMIT) {
        return Ok(ReadBody::TooLarge(Vec::new()));
    }
    let mut buf = Vec::new();
    let mut total = 0u64;
    while let Some(frame) = body.frame().await {
        if let Ok(data) = frame?.into_data() {
            total += data.len() as u64;
            if total > DRAIN_LIMIT {
                break;
            }
            if buf.len() + data.len() <= MAX_REQUEST_BODY {
                buf.extend_from_slice(&data);
            } else {
                // Keep what fits, for the record; discard the rest.
                let room = MAX_REQUEST_BODY - buf.len();
                buf.extend_from_slice(&data[..room]);
            }
        }
    }
    if total > MAX_REQUEST_BODY as u64 {
        Ok(ReadBody::TooLarge(buf))
    } else {
        Ok(ReadBody::Complete(buf))
    }
}

fn header_str<'a>(req: &'a Request<Incoming>, name: &str) -> Option<&'a str> {
    req.headers().get(name).and_then(|v| v.to_str().ok())
}

async fn handle(
    shared: Arc<Shared>,
    req: Request<Incoming>,
) -> Result<Response<RespBody>, DropConnection> {
    // Microsecond resolution keeps the JSON readable.
    let elapsed_ms = (shared.started.elapsed().as_secs_f64() * 1e6).round() / 1e3;
    let raw_path = req
        .uri()
        .path_and_query()
        .map(|pq| pq.as_str().to_owned())
        .unwrap_or_else(|| "/".to_owned());
    let path = req.uri().path().to_owned();
    let method = req.method().as_str().to_owned();
    let client_request_id = header_str(&req, "client-request-id")
        .filter(|v| !v.is_empty())
        .map(str::to_owned)
        .unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
    let ctx = Ctx {
        shared: &shared,
        request_id: uuid::Uuid::new_v4().to_string(),
        client_request_id,
    };
    let declared = header_str(&req, "content-length").and_then(|v| v.trim().parse::<u64>().ok());
    let authorization = header_str(&req, "authorization").map(str::to_owned);
    let content_type = header_str(&req, "content-type").map(str::to_owned);
    let mut headers: BTreeMap<String, String> = BTreeMap::new();
    for (name, value) in req.headers() {
        let value = String::from_utf8_lossy(value.as_bytes());
        headers
            .entry(name.as_str().to_owned())
            .and_modify(|v| {
                v.push_str(", ");
                v.push_str(&value);
            })
            .or_insert_with(|| value.into_owned());
    }

    let mut incoming = req.into_body();
    let read = read_body(&mut incoming, declared)
        .await
        .map_err(|_| DropConnection)?;

    if path.starts_with("/_emulator/") || path == "/_emulator" {
        let resp = match read {
            ReadBody::Complete(body) => control(&shared, &method, &path, &body),
            ReadBody::TooLarge(_) => control_error(413, "request body too large"),
        };
        return Ok(finish(&ctx, resp, false));
    }

    let (body, too_large) = match read {
        ReadBody::Complete(b) => (b, false),
        ReadBody::TooLarge(b) => (b, true),
    };
    let record = {
        let mut state = shared.state();
        state.requests.push(RecordedRequest {
            method: method.clone(),
            path: raw_path.clone(),
            headers: headers.clone(),
            body: String::from_utf8_lossy(&body).into_owned(),
            elapsed_ms,
            ..RecordedRequest::default()
        });
        state.requests.len() - 1
    };
    if too_large {
        let resp = graph::error(
            &ctx,
            413,
            "RequestEntityTooLarge",
            &format!("The request body exceeds the limit of {MAX_REQUEST_BODY} bytes."),
        );
        return Ok(finish(&ctx, resp, false));
    }

    let batch_len = if method == "POST" && path.ends_with("/$batch") {
        serde_json::from_slice::<Value>(&body)
            .ok()
            .and_then(|v| v.get("requests").and_then(Value::as_array).map(Vec::len))
    } else {
        None
    };
    let mut fault = shared.take_fault(&method, &raw_path, &body, batch_len);
    // Token and managed identity requests go to the emulated Entra ID.
    let entra_endpoint = entra::route(&path);

    // Chaos rolls only for a Graph POST no queued fault matched.
    let graph_post = method == "POST"
        && entra_endpoint.is_none()
        && (graph::is_insights(&path) || graph::is_batch(&path));
    let chaos = match &fault {
        None if graph_post => shared.chaos.roll(batch_len),
        _ => None,
    }
    .unwrap_or_default();
    if chaos.error.is_some() {
        fault = chaos.error;
    }

    if let Some(f) = &fault {
        if f.delay_ms > 0 {
            tokio::time::sleep(Duration::from_millis(f.delay_ms)).await;
        }
        if f.drop_connection && f.item_indexes().is_empty() {
            return Err(DropConnection);
        }
    }

    let graph_req = GraphReq {
        method: &method,
        path: &path,
        authorization: authorization.as_deref(),
        content_type: content_type.as_deref(),
        body: &body,
    };
    let entra_req = EntraReq {
        method: &method,
        path: &path,
        query: raw_path.split_once('?').map(|(_, q)| q),
        headers: &headers,
        body: &body,
    };
    // `$batch` items answered by a fault (`batch_item(s)`) or by chaos.
    let item_faults: BTreeMap<usize, Fault> = match &fault {
        Some(f) => f
            .item_indexes()
            .into_iter()
            .map(|i| (i, f.clone()))
            .collect(),
        None => chaos.item_errors,
    };
    let (resp, truncate) = match &fault {
        Some(_) if !item_faults.is_empty() => {
            let resp = crate::limits::serve(&ctx, &graph_req, &item_faults, record).await;
            (resp, false)
        }
        Some(f) => {
            let mut resp = match fault_response(&ctx, f, entra_endpoint.as_ref()) {
                Some(resp) => resp,
                None => match &entra_endpoint {
                    Some(endpoint) => entra::handle(&ctx, endpoint, &entra_req),
                    None => crate::limits::serve(&ctx, &graph_req, &item_faults, record).await,
                },
            };
            if let Some(ra) = &f.retry_after {
                resp.set_header("Retry-After", ra);
            }
            for (name, value) in &f.headers {
                resp.set_header(name, value);
            }
            (resp, f.truncate)
        }
        None => (
            match &entra_endpoint {
                Some(endpoint) => entra::handle(&ctx, endpoint, &entra_req),
                None => crate::limits::serve(&ctx, &graph_req, &item_faults, record).await,
            },
            false,
        ),
    };
    // Chaos after the work is done: a slow answer, a lost one.
    if let Some(delay) = chaos.delay {
        tokio::time::sleep(delay).await;
    }
    if chaos.lost {
        return Err(DropConnection);
    }
    Ok(finish(&ctx, resp, truncate))
}

/// The answer a fault gives instead of processing, if it gives one; on an
/// Entra endpoint its error is Entra-shaped.
fn fault_response(ctx: &Ctx<'_>, f: &Fault, entra_endpoint: Option<&Endpoint>) -> Option<Resp> {
    if let Some(n) = f.body_bytes {
        let mut resp = Resp::new(f.status.unwrap_or(201), Payload::Pad(n));
        resp.set_header(
            "Content-Type",
            f.content_type.as_deref().unwrap_or("application/json"),
        );
        return Some(resp);
    }
    if let Some(body) = &f.body {
        let mut resp = Resp::new(
            f.status.unwrap_or(500),
            Payload::Bytes(Bytes::from(body.clone().into_bytes())),
        );
        resp.set_header(
            "Content-Type",
            f.content_type.as_deref().unwrap_or("text/html"),
        );
        return Some(resp);
    }
    if f.status.is_some() || f.code.is_some() || f.message.is_some() {
        let status = f.status.unwrap_or(500);
        if (300..400).contains(&status) {
            return Some(Resp::new(status, Payload::Bytes(Bytes::new())));
        }
        return Some(match entra_endpoint {
            Some(endpoint) => entra::fault_error(ctx, endpoint, f, status),
            None => graph::fault_error(ctx, f, status),
        });
    }
    None
}

/// Adds the headers every answer carries and converts to a hyper response.
fn finish(ctx: &Ctx<'_>, mut resp: Resp, truncate: bool) -> Response<RespBody> {
    let mut builder = Response::builder()
        .status(StatusCode::from_u16(resp.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR));
    // Fault headers set earlier win over these defaults.
    if resp.header("request-id").is_none() {
        resp.headers
            .push(("request-id".into(), ctx.request_id.clone()));
    }
    if resp.header("client-request-id").is_none() {
        resp.headers
            .push(("client-request-id".into(), ctx.client_request_id.clone()));
    }
    for (name, value) in &resp.headers {
        if name.eq_ignore_ascii_case("content-length")
            || name.eq_ignore_ascii_case("transfer-encoding")
        {
            continue;
        }
        if let (Ok(name), Ok(value)) = (
            HeaderName::from_bytes(name.as_bytes()),
            HeaderValue::from_str(value),
        ) {
            builder = builder.header(name, value);
        }
    }
    builder = builder.header(CONTENT_LENGTH, resp.payload.len());
    builder
        .body(RespBody::new(resp.payload, truncate))
        .unwrap_or_else(|_| {
            let mut r = Response::new(RespBody::new(Payload::Bytes(Bytes::new()), false));
            *r.status_mut() = StatusCode::INTERNAL_SERVER_ERROR;
            r
        })
}

fn control_json(status: u16, value: &Value) -> Resp {
    graph::json_resp(status, value)
}

fn control_error(status: u16, message: &str) -> Resp {
    control_json(status, &json!({ "error": message }))
}

fn control(shared: &Shared, method: &str, path: &str, body: &[u8]) -> Resp {
    if let Some(resp) = entra::control(&shared.entra, method, path, body) {
        return resp;
    }
    match (method, path) {
        ("POST", "/_emulator/faults") => match parse_faults(body) {
            Ok(faults) => {
                let n = faults.len();
                shared.push_faults(faults);
                control_json(200, &json!({ "queued": n }))
            }
            Err(message) => control_error(400, &message),
        },
        ("GET", "/_emulator/faults") => {
            let faults: Vec<Fault> = shared.state().faults.iter().cloned().collect();
            control_json(200, &json!({ "faults": faults }))
        }
        ("GET", "/_emulator/requests") => {
            let requests = shared.state().requests.clone();
            control_json(200, &json!({ "requests": requests }))
        }
        ("POST", "/_emulator/reset") => {
            shared.reset();
            control_json(200, &json!({}))
        }
        (_, "/_emulator/chaos") => match chaos_control(shared, method, body) {
            Some((status, value)) => control_json(status, &value),
            None => control_error(405, &format!("method {method} not allowed on {path}")),
        },
        (_, "/_emulator/limits") => match crate::limits::control(shared, method, body) {
            Some((status, value)) => control_json(status, &value),
            None => control_error(405, &format!("method {method} not allowed on {path}")),
        },
        (_, "/_emulator/faults" | "/_emulator/requests" | "/_emulator/reset") => {
            control_error(405, &format!("method {method} not allowed on {path}"))
        }
        _ => control_error(404, &format!("unknown control endpoint {path}")),
    }
}

/// `GET /_emulator/chaos`: the report; `POST` with a [`crate::Chaos`]
/// object: puts it in force (`{}` turns chaos off).
fn chaos_control(shared: &Shared, method: &str, body: &[u8]) -> Option<(u16, Value)> {
    match method {
        "GET" => Some((200, json!(shared.chaos.report()))),
        "POST" => {
            let chaos = serde_json::from_slice::<crate::Chaos>(body)
                .map_err(|e| format!("chaos: {e}"))
                .and_then(|c| c.validate().map(|()| c).map_err(|e| format!("chaos: {e}")));
            Some(match chaos {
                Ok(chaos) => {
                    shared.chaos.set(chaos);
                    (200, json!(shared.chaos.report()))
                }
                Err(message) => (400, json!({ "error": message })),
            })
        }
        _ => None,
    }
}

fn parse_faults(body: &[u8]) -> Result<Vec<Fault>, String> {
    let value: Value =
        serde_json::from_slice(body).map_err(|e| format!("body is not valid JSON: {e}"))?;
    let faults: Vec<Fault> = match value {
        Value::Array(items) => items
            .into_iter()
            .enumerate()
            .map(|(i, v)| serde_json::from_value(v).map_err(|e| format!("fault [{i}]: {e}")))
            .collect::<Result<_, _>>()?,
        Value::Object(_) => {
            vec![serde_json::from_value(value).map_err(|e| format!("fault: {e}"))?]
        }
        _ => return Err("expected a fault object or an array of fault objects".into()),
    };
    for (i, fault) in faults.iter().enumerate() {
        fault.validate().map_err(|e| format!("fault [{i}]: {e}"))?;
    }
    Ok(faults)
}

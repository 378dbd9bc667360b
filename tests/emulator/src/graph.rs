//! The Graph behaviour: routing, checks, the usedInsight store and `$batch`.

use std::collections::HashSet;

use hyper::body::Bytes;
use percent_encoding::{percent_decode_str, utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
use serde::Serialize;
use serde_json::{json, Map, Value};
use time::format_description::well_known::Rfc3339;
use time::macros::format_description;
use time::OffsetDateTime;

use crate::body::Payload;
use crate::entra::BearerCheck;
use crate::server::Shared;
use crate::Fault;

const VERSIONS: [&str; 2] = ["v1.0", "beta"];
const MAX_BATCH: usize = 20;
const INSIGHT_TYPE: &str = "#microsoft.graph.usedInsight";
/// Characters left as they are when an insight id goes into a `Location` path.
const SEGMENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// Per-request identifiers.
pub(crate) struct Ctx<'a> {
    pub(crate) shared: &'a Shared,
    pub(crate) request_id: String,
    pub(crate) client_request_id: String,
}

/// What the Graph handler needs from a request (direct or `$batch` item).
pub(crate) struct GraphReq<'a> {
    pub(crate) method: &'a str,
    /// Raw path without the query.
    pub(crate) path: &'a str,
    pub(crate) authorization: Option<&'a str>,
    pub(crate) content_type: Option<&'a str>,
    pub(crate) body: &'a [u8],
}

/// A response before it becomes a hyper response.
pub(crate) struct Resp {
    pub(crate) status: u16,
    pub(crate) headers: Vec<(String, String)>,
    pub(crate) payload: Payload,
}

impl Resp {
    pub(crate) fn new(status: u16, payload: Payload) -> Resp {
        Resp {
            status,
            headers: Vec::new(),
            payload,
        }
    }

    /// Sets a header, replacing same-named ones (case-insensitively).
    pub(crate) fn set_header(&mut self, name: &str, value: &str) {
        self.headers.retain(|(n, _)| !n.eq_ignore_ascii_case(name));
        self.headers.push((name.to_owned(), value.to_owned()));
    }

    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

pub(crate) fn json_resp(status: u16, value: &Value) -> Resp {
    let body = serde_json::to_vec(value).unwrap_or_default();
    let mut resp = Resp::new(status, Payload::Bytes(Bytes::from(body)));
    resp.set_header("Content-Type", "application/json");
    resp
}

fn now_date() -> String {
    OffsetDateTime::now_utc()
        .format(format_description!(
            "[year]-[month]-[day]T[hour]:[minute]:[second]"
        ))
        .unwrap_or_default()
}

/// A Graph-shaped error body; a struct so the keys keep Graph's order.
#[derive(Serialize)]
struct ErrorBody<'a> {
    error: ErrorDetail<'a>,
}

#[derive(Serialize)]
struct ErrorDetail<'a> {
    code: &'a str,
    message: &'a str,
    #[serde(rename = "innerError")]
    inner_error: InnerError<'a>,
}

#[derive(Serialize)]
struct InnerError<'a> {
    date: String,
    #[serde(rename = "request-id")]
    request_id: &'a str,
    #[serde(rename = "client-request-id")]
    client_request_id: &'a str,
}

/// A Graph-shaped error answer.
pub(crate) fn error(ctx: &Ctx<'_>, status: u16, code: &str, message: &str) -> Resp {
    let body = ErrorBody {
        error: ErrorDetail {
            code,
            message,
            inner_error: InnerError {
                date: now_date(),
                request_id: &ctx.request_id,
                client_request_id: &ctx.client_request_id,
            },
        },
    };
    let bytes = serde_json::to_vec(&body).unwrap_or_default();
    let mut resp = Resp::new(status, Payload::Bytes(Bytes::from(bytes)));
    resp.set_header("Content-Type", "application/json");
    resp
}

fn code_for_status(status: u16) -> &'static str {
    match status {
        400 => "BadRequest",
        401 => "InvalidAuthenticationToken",
        403 => "Forbidden",
        404 => "ResourceNotFound",
        429 => "TooManyRequests",
        500 => "generalException",
        503 => "serviceNotAvailable",
        504 => "gatewayTimeout",
        _ => "error",
    }
}

/// The Graph error answer of a fault with this status.
pub(crate) fn fault_error(ctx: &Ctx<'_>, f: &Fault, status: u16) -> Resp {
    let code = f.code.as_deref().unwrap_or(code_for_status(status));
    let default_message = format!("Injected fault: the emulator was told to answer {status}.");
    let message = f.message.as_deref().unwrap_or(&default_message);
    error(ctx, status, code, message)
}

enum Route<'a> {
    Collection {
        version: &'a str,
        raw_user: &'a str,
    },
    Item {
        version: &'a str,
        raw_user: &'a str,
        raw_insight: &'a str,
    },
    Batch {
        version: &'a str,
    },
    /// The first segment that does not lead to a supported resource.
    NotFound(&'a str),
}

fn route(path: &str) -> Route<'_> {
    let segs: Vec<&str> = path.strip_prefix('/').unwrap_or(path).split('/').collect();
    let version = segs[0];
    if !VERSIONS.contains(&version) {
        return Route::NotFound(version);
    }
    if segs.len() == 2 && segs[1] == "$batch" {
        return Route::Batch { version };
    }
    let expected = ["users", "", "insights", "used"];
    for (i, want) in expected.iter().enumerate() {
        let Some(seg) = segs.get(i + 1) else {
            return Route::NotFound(segs[segs.len() - 1]);
        };
        if (i == 1 && seg.is_empty()) || (i != 1 && seg != want) {
            return Route::NotFound(seg);
        }
    }
    let raw_user = segs[2];
    match segs.len() {
        5 => Route::Collection { version, raw_user },
        6 if !segs[5].is_empty() => Route::Item {
            version,
            raw_user,
            raw_insight: segs[5],
        },
        n => Route::NotFound(segs[if n > 6 { 6 } else { 5 }]),
    }
}

fn check_auth(ctx: &Ctx<'_>, authorization: Option<&str>) -> Option<Resp> {
    const EMPTY: &str = "Access token is empty.";
    const INVALID: &str = "Access token validation failure.";
    let value = authorization.map(str::trim).unwrap_or("");
    let (scheme, token) = value.split_once(' ').unwrap_or((value, ""));
    let token = token.trim();
    let problem = if value.is_empty() || (scheme.eq_ignore_ascii_case("bearer") && token.is_empty())
    {
        Some(EMPTY)
    } else if !scheme.eq_ignore_ascii_case("bearer") {
        Some(INVALID)
    } else {
        bearer_problem(ctx, token)
    };
    problem.map(|message| error(ctx, 401, "InvalidAuthenticationToken", message))
}

/// What is wrong with a bearer token, if anything. Tokens the emulated
/// Entra ID issued must be unexpired and for Graph; other tokens must be the
/// configured one if there is one, and are refused when only issued tokens
/// are accepted.
fn bearer_problem(ctx: &Ctx<'_>, token: &str) -> Option<&'static str> {
    const EXPIRED: &str = "Access token has expired or is not yet valid.";
    const AUDIENCE: &str = "Access token validation failure. Invalid audience.";
    const INVALID: &str = "Access token validation failure.";
    let entra = &ctx.shared.entra;
    match entra.check_bearer(token) {
        BearerCheck::Valid => None,
        BearerCheck::Expired => Some(EXPIRED),
        BearerCheck::WrongAudience => Some(AUDIENCE),
        BearerCheck::Unknown => match &ctx.shared.token {
            Some(expected) if expected == token => None,
            Some(_) => Some(INVALID),
            None if entra.require_issued_tokens() => Some(INVALID),
            None => None,
        },
    }
}

fn is_json(content_type: Option<&str>) -> bool {
    content_type.is_some_and(|ct| {
        ct.split(';')
            .next()
            .unwrap_or("")
            .trim()
            .eq_ignore_ascii_case("application/json")
    })
}

fn check_content_type(ctx: &Ctx<'_>, content_type: Option<&str>) -> Option<Resp> {
    if is_json(content_type) {
        return None;
    }
    let message = match content_type {
        None => "The Content-Type header is missing; it must be 'application/json'.".to_owned(),
        Some(ct) => format!("Content-Type '{ct}' is not supported; it must be 'application/json'."),
    };
    Some(error(ctx, 415, "UnsupportedMediaType", &message))
}

fn parse_object(ctx: &Ctx<'_>, body: &[u8]) -> Result<Map<String, Value>, Resp> {
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(map)) => Ok(map),
        _ => Err(error(
            ctx,
            400,
            "BadRequest",
            "Unable to read JSON request payload. Please ensure Content-Type header is set and payload is of valid JSON format.",
        )),
    }
}

fn method_not_allowed(ctx: &Ctx<'_>, method: &str, allow: &str) -> Resp {
    let mut resp = error(
        ctx,
        405,
        "MethodNotAllowed",
        &format!("The HTTP method '{method}' is not allowed for this resource."),
    );
    resp.set_header("Allow", allow);
    resp
}

fn decode_segment(raw: &str) -> Option<String> {
    percent_decode_str(raw)
        .decode_utf8()
        .ok()
        .map(|s| s.into_owned())
}

/// A `$batch` request, checked and ready to run (see `crate::limits`).
pub(crate) struct BatchPlan<'b> {
    pub(crate) version: &'b str,
    /// `(id, item)` in request order.
    pub(crate) items: Vec<(&'b str, &'b Map<String, Value>)>,
    /// For each item, the indexes of the items it depends on.
    pub(crate) depends_on: Vec<Vec<usize>>,
}

impl BatchPlan<'_> {
    /// Each item's place in the run: 0 without dependencies, else one more
    /// than its latest dependency's. Items of one level run together.
    pub(crate) fn levels(&self) -> Vec<Vec<usize>> {
        let mut level = vec![None::<usize>; self.items.len()];
        fn of(i: usize, deps: &[Vec<usize>], level: &mut [Option<usize>]) -> usize {
            if let Some(l) = level[i] {
                return l;
            }
            let l = deps[i]
                .iter()
                .map(|&d| of(d, deps, level) + 1)
                .max()
                .unwrap_or(0);
            level[i] = Some(l);
            l
        }
        let mut levels: Vec<Vec<usize>> = Vec::new();
        for i in 0..self.items.len() {
            let l = of(i, &self.depends_on, &mut level);
            if levels.len() <= l {
                levels.resize_with(l + 1, Vec::new);
            }
            levels[l].push(i);
        }
        levels
    }
}

/// For a request to `/{version}/$batch`: the checked plan, or the error
/// answer (auth, method, payload). `None` for every other path.
pub(crate) fn route_batch<'b>(
    ctx: &Ctx<'_>,
    req: &GraphReq<'b>,
    outer: &'b Option<Map<String, Value>>,
) -> Option<Result<BatchPlan<'b>, Resp>> {
    let Route::Batch { version } = route(req.path) else {
        return None;
    };
    if let Some(resp) = check_auth(ctx, req.authorization) {
        return Some(Err(resp));
    }
    if req.method != "POST" {
        return Some(Err(method_not_allowed(ctx, req.method, "POST")));
    }
    Some(batch_plan(ctx, req, version, outer))
}

/// Parses a `$batch` body into the map `route_batch` borrows from.
pub(crate) fn batch_payload(req: &GraphReq<'_>) -> Option<Map<String, Value>> {
    match serde_json::from_slice::<Value>(req.body) {
        Ok(Value::Object(map)) => Some(map),
        _ => None,
    }
}

/// Whether a path (without the query) is `/{version}/$batch`.
pub(crate) fn is_batch(path: &str) -> bool {
    matches!(route(path), Route::Batch { .. })
}

/// Whether a path (without the query) is one of the Insights service's,
/// whose limits `crate::limits` applies.
pub(crate) fn is_insights(path: &str) -> bool {
    matches!(route(path), Route::Collection { .. } | Route::Item { .. })
}

/// Handles a Graph request other than `$batch` (a direct request or a
/// `$batch` item; a `$batch` inside a batch is not found).
pub(crate) fn handle(ctx: &Ctx<'_>, req: &GraphReq<'_>) -> Resp {
    if let Some(resp) = check_auth(ctx, req.authorization) {
        return resp;
    }
    match route(req.path) {
        Route::NotFound(seg) => not_found_segment(ctx, seg),
        Route::Batch { .. } => not_found_segment(ctx, "$batch"),
        Route::Collection { version, raw_user } => {
            let Some(user) = decode_segment(raw_user) else {
                return bad_user(ctx, raw_user);
            };
            match req.method {
                "POST" => create(ctx, req, version, raw_user, &user),
                "GET" => {
                    let value = ctx
                        .shared
                        .state()
                        .store
                        .get(&user)
                        .cloned()
                        .unwrap_or_default();
                    let context = format!(
                        "{}/{version}/$metadata#users('{raw_user}')/insights/used",
                        ctx.shared.base_url
                    );
                    json_resp(200, &json!({ "@odata.context": context, "value": value }))
                }
                _ => method_not_allowed(ctx, req.method, "GET, POST"),
            }
        }
        Route::Item {
            version,
            raw_user,
            raw_insight,
        } => {
            let (Some(user), Some(insight)) =
                (decode_segment(raw_user), decode_segment(raw_insight))
            else {
                return bad_user(ctx, raw_user);
            };
            if req.method != "GET" {
                return method_not_allowed(ctx, req.method, "GET");
            }
            let found = ctx.shared.state().store.get(&user).and_then(|items| {
                items
                    .iter()
                    .find(|v| id_string(v.get("id")).as_deref() == Some(insight.as_str()))
                    .cloned()
            });
            match found {
                Some(Value::Object(mut obj)) => {
                    obj.insert(
                        "@odata.context".into(),
                        Value::String(entity_context(ctx, version, raw_user)),
                    );
                    json_resp(200, &Value::Object(obj))
                }
                _ => error(
                    ctx,
                    404,
                    "ResourceNotFound",
                    &format!("Resource '{insight}' does not exist or one of its queried reference-property objects are not present."),
                ),
            }
        }
    }
}

fn not_found_segment(ctx: &Ctx<'_>, seg: &str) -> Resp {
    error(
        ctx,
        400,
        "BadRequest",
        &format!("Resource not found for the segment '{seg}'."),
    )
}

fn bad_user(ctx: &Ctx<'_>, raw: &str) -> Resp {
    error(
        ctx,
        400,
        "BadRequest",
        &format!("Invalid percent-encoding in the path segment '{raw}'."),
    )
}

fn entity_context(ctx: &Ctx<'_>, version: &str, raw_user: &str) -> String {
    format!(
        "{}/{version}/$metadata#users('{raw_user}')/insights/used/$entity",
        ctx.shared.base_url
    )
}

fn id_string(id: Option<&Value>) -> Option<String> {
    match id? {
        Value::Null => None,
        Value::String(s) => Some(s.clone()),
        other => Some(other.to_string()),
    }
}

fn odata_type_ok(value: Option<&Value>, name: &str) -> bool {
    match value {
        None => true,
        Some(Value::String(s)) => s.strip_prefix('#').unwrap_or(s) == name,
        Some(_) => false,
    }
}

/// Graph's checks on a usedInsight payload; the error names the property.
fn validate(obj: &Map<String, Value>) -> Result<(), String> {
    if !odata_type_ok(obj.get("@odata.type"), "microsoft.graph.usedInsight") {
        return Err(format!(
            "Invalid value for property '@odata.type': {}; expected '#microsoft.graph.usedInsight'.",
            obj["@odata.type"]
        ));
    }
    for (prop, type_name) in [
        ("lastUsed", "microsoft.graph.usageDetails"),
        (
            "resourceVisualization",
            "microsoft.graph.resourceVisualization",
        ),
        ("resourceReference", "microsoft.graph.resourceReference"),
    ] {
        let nested = match obj.get(prop) {
            None => return Err(format!("The property '{prop}' is required.")),
            Some(Value::Object(nested)) => nested,
            Some(_) => return Err(format!("The property '{prop}' must be an object.")),
        };
        if !odata_type_ok(nested.get("@odata.type"), type_name) {
            return Err(format!(
                "Invalid value for property '{prop}.@odata.type': {}; expected '#{type_name}'.",
                nested["@odata.type"]
            ));
        }
    }
    let last_used = obj["lastUsed"].as_object().expect("checked above");
    for prop in ["lastAccessedDateTime", "lastModifiedDateTime"] {
        match last_used.get(prop) {
            None | Some(Value::Null) => {}
            Some(Value::String(s)) if OffsetDateTime::parse(s, &Rfc3339).is_ok() => {}
            Some(other) => {
                return Err(format!(
                    "Invalid value for property 'lastUsed.{prop}': {other} is not an RFC 3339 date-time with an offset."
                ))
            }
        }
    }
    Ok(())
}

fn create(ctx: &Ctx<'_>, req: &GraphReq<'_>, version: &str, raw_user: &str, user: &str) -> Resp {
    if let Some(resp) = check_content_type(ctx, req.content_type) {
        return resp;
    }
    let mut obj = match parse_object(ctx, req.body) {
        Ok(obj) => obj,
        Err(resp) => return resp,
    };
    if let Err(message) = validate(&obj) {
        return error(ctx, 400, "invalidRequest", &message);
    }
    let id = match id_string(obj.get("id")) {
        Some(id) => id,
        None => {
            let id = uuid::Uuid::new_v4().to_string();
            obj.insert("id".into(), Value::String(id.clone()));
            id
        }
    };
    obj.insert("@odata.type".into(), Value::String(INSIGHT_TYPE.into()));
    ctx.shared
        .state()
        .store
        .entry(user.to_owned())
        .or_default()
        .push(Value::Object(obj.clone()));
    obj.insert(
        "@odata.context".into(),
        Value::String(entity_context(ctx, version, raw_user)),
    );
    let mut resp = json_resp(201, &Value::Object(obj));
    resp.set_header(
        "Location",
        &format!(
            "{}/{version}/users/{raw_user}/insights/used/{}",
            ctx.shared.base_url,
            utf8_percent_encode(&id, SEGMENT)
        ),
    );
    resp
}

fn batch_plan<'b>(
    ctx: &Ctx<'_>,
    req: &GraphReq<'b>,
    version: &'b str,
    outer: &'b Option<Map<String, Value>>,
) -> Result<BatchPlan<'b>, Resp> {
    if let Some(resp) = check_content_type(ctx, req.content_type) {
        return Err(resp);
    }
    let Some(outer) = outer else {
        return Err(parse_object(ctx, req.body).err().unwrap_or_else(|| {
            error(
                ctx,
                400,
                "BadRequest",
                "Unable to read JSON request payload.",
            )
        }));
    };
    let bad = |message: String| error(ctx, 400, "BadRequest", &message);
    let Some(Value::Array(items)) = outer.get("requests") else {
        return Err(bad(
            "Invalid batch payload format: 'requests' must be an array.".into(),
        ));
    };
    if items.is_empty() {
        return Err(bad(
            "Invalid batch payload format: 'requests' is empty.".into()
        ));
    }
    if items.len() > MAX_BATCH {
        return Err(bad(format!(
            "Number of batch requests exceeds the limit of {MAX_BATCH}: {}.",
            items.len()
        )));
    }
    let mut seen = HashSet::new();
    let mut checked = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        let Some(item) = item.as_object() else {
            return Err(bad(format!("Batch request at index {i} is not an object.")));
        };
        let Some(id) = item
            .get("id")
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
        else {
            return Err(bad(format!(
                "Batch request at index {i} is missing its 'id' (a non-empty string)."
            )));
        };
        if !seen.insert(id) {
            return Err(bad(format!("Batch request id '{id}' is duplicated.")));
        }
        for prop in ["method", "url"] {
            if !item
                .get(prop)
                .and_then(Value::as_str)
                .is_some_and(|s| !s.is_empty())
            {
                return Err(bad(format!(
                    "Batch request '{id}' is missing its '{prop}'."
                )));
            }
        }
        if item.get("headers").is_some_and(|h| !h.is_object()) {
            return Err(bad(format!(
                "Batch request '{id}': 'headers' must be an object."
            )));
        }
        checked.push((id, item));
    }
    let depends_on = dependencies(&checked).map_err(bad)?;
    Ok(BatchPlan {
        version,
        items: checked,
        depends_on,
    })
}

/// The `dependsOn` of each item as indexes, with Graph's rules: ids of
/// requests in the batch, no cycle, and the batch either fully parallel (no
/// `dependsOn`) or fully sequential (every item but one has one).
fn dependencies(items: &[(&str, &Map<String, Value>)]) -> Result<Vec<Vec<usize>>, String> {
    let index: std::collections::HashMap<&str, usize> = items
        .iter()
        .enumerate()
        .map(|(i, (id, _))| (*id, i))
        .collect();
    let mut deps = Vec::with_capacity(items.len());
    for (id, item) in items {
        let mut mine = Vec::new();
        match item.get("dependsOn") {
            None | Some(Value::Null) => {}
            Some(Value::Array(ids)) if !ids.is_empty() => {
                for dep in ids {
                    let Some(dep) = dep.as_str() else {
                        return Err(format!(
                            "Batch request '{id}': 'dependsOn' must be an array of request ids."
                        ));
                    };
                    let Some(&at) = index.get(dep) else {
                        return Err(format!(
                            "Batch request '{id}' depends on '{dep}', which is not in the batch."
                        ));
                    };
                    mine.push(at);
                }
            }
            Some(_) => {
                return Err(format!(
                    "Batch request '{id}': 'dependsOn' must be an array of request ids."
                ))
            }
        }
        deps.push(mine);
    }
    let roots = deps.iter().filter(|d| d.is_empty()).count();
    if roots != items.len() && roots != 1 {
        return Err("Batch should be either fully sequential or fully parallel.".into());
    }
    // A cycle leaves items that never become ready.
    let mut done = vec![false; items.len()];
    let mut progress = true;
    while progress {
        progress = false;
        for i in 0..items.len() {
            if !done[i] && deps[i].iter().all(|&d| done[d]) {
                done[i] = true;
                progress = true;
            }
        }
    }
    if done.iter().any(|d| !d) {
        return Err("Batch requests' dependsOn form a cycle.".into());
    }
    Ok(deps)
}

/// A `$batch` item's answer when an item it depends on did not succeed:
/// Graph does not run it.
pub(crate) fn failed_dependency(ctx: &Ctx<'_>, id: &str, dependency: &str) -> Resp {
    error(
        ctx,
        424,
        "FailedDependency",
        &format!("Batch request '{id}' was not run: request '{dependency}', which it depends on, failed."),
    )
}

/// A `$batch` item's answer from a fault with `batch_item(s)`.
pub(crate) fn item_fault_answer(ctx: &Ctx<'_>, f: &Fault) -> Resp {
    let mut resp = fault_error(ctx, f, f.status.unwrap_or(500));
    if let Some(ra) = &f.retry_after {
        resp.set_header("Retry-After", ra);
    }
    for (name, value) in &f.headers {
        resp.set_header(name, value);
    }
    resp
}

/// The `$batch` answer from the items' answers, in request order.
pub(crate) fn batch_answer(plan: &BatchPlan<'_>, answers: Vec<Resp>) -> Resp {
    let mut responses: Vec<Value> = plan
        .items
        .iter()
        .zip(answers)
        .map(|((id, _), resp)| item_response(id, resp))
        .collect();
    // Graph does not keep the order; answer in reverse so clients must match by id.
    responses.reverse();
    json_resp(200, &json!({ "responses": responses }))
}

/// Whether a `$batch` item goes to the Insights service (and so counts
/// against its limits).
pub(crate) fn item_is_insights(version: &str, item: &Map<String, Value>) -> bool {
    let url = item["url"].as_str().unwrap_or("");
    let full = format!("/{version}/{}", url.strip_prefix('/').unwrap_or(url));
    let path = full.split_once('?').map_or(full.as_str(), |(p, _)| p);
    !url.contains("://") && is_insights(path)
}

/// Runs one `$batch` item through the same handler as direct requests.
pub(crate) fn batch_item(
    ctx: &Ctx<'_>,
    authorization: Option<&str>,
    version: &str,
    id: &str,
    item: &Map<String, Value>,
) -> Resp {
    let method = item["method"].as_str().unwrap_or("").to_ascii_uppercase();
    let url = item["url"].as_str().unwrap_or("");
    if url.contains("://") {
        return error(
            ctx,
            400,
            "BadRequest",
            &format!(
                "Batch request '{id}': the url must be relative to the version, e.g. '/users/...'."
            ),
        );
    }
    let full = format!("/{version}/{}", url.strip_prefix('/').unwrap_or(url));
    let path = full.split_once('?').map_or(full.as_str(), |(p, _)| p);
    let content_type = item
        .get("headers")
        .and_then(Value::as_object)
        .and_then(|h| {
            h.iter()
                .find(|(k, _)| k.eq_ignore_ascii_case("content-type"))
                .and_then(|(_, v)| v.as_str())
        });
    let body = item.get("body").filter(|b| !b.is_null());
    let writes = matches!(method.as_str(), "POST" | "PUT" | "PATCH");
    if (body.is_some() && content_type.is_none()) || (writes && body.is_none()) {
        return error(
            ctx,
            400,
            "BadRequest",
            &format!("Write request id : {id} does not contain Content-Type header or body."),
        );
    }
    let bytes = match body {
        None => Vec::new(),
        Some(Value::String(s)) if !is_json(content_type) => s.clone().into_bytes(),
        Some(v) => serde_json::to_vec(v).unwrap_or_default(),
    };
    handle(
        ctx,
        &GraphReq {
            method: &method,
            path,
            authorization,
            content_type,
            body: &bytes,
        },
    )
}

fn item_response(id: &str, resp: Resp) -> Value {
    let mut headers = Map::new();
    for (name, value) in &resp.headers {
        headers.insert(name.clone(), Value::String(value.clone()));
    }
    let mut out = Map::new();
    out.insert("id".into(), Value::String(id.into()));
    out.insert("status".into(), json!(resp.status));
    out.insert("headers".into(), Value::Object(headers));
    if let Payload::Bytes(bytes) = &resp.payload {
        if !bytes.is_empty() {
            let body = if is_json(resp.header("content-type")) {
                serde_json::from_slice(bytes).unwrap_or(Value::Null)
            } else {
                Value::String(String::from_utf8_lossy(bytes).into_owned())
            };
            out.insert("body".into(), body);
        }
    }
    Value::Object(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes() {
        assert!(matches!(
            route("/v1.0/users/a%40b/insights/used"),
            Route::Collection {
                version: "v1.0",
                raw_user: "a%40b"
            }
        ));
        assert!(matches!(
            route("/beta/users/x/insights/used/42"),
            Route::Item {
                raw_insight: "42",
                ..
            }
        ));
        assert!(matches!(
            route("/beta/$batch"),
            Route::Batch { version: "beta" }
        ));
        assert!(matches!(
            route("/v2.0/users/x/insights/used"),
            Route::NotFound("v2.0")
        ));
        assert!(matches!(
            route("/v1.0/users/x/insights/trending"),
            Route::NotFound("trending")
        ));
        assert!(matches!(
            route("/v1.0/users//insights/used"),
            Route::NotFound("")
        ));
        assert!(matches!(route("/v1.0/users/x"), Route::NotFound("x")));
        assert!(matches!(
            route("/v1.0/users/x/insights/used/"),
            Route::NotFound("")
        ));
        assert!(matches!(
            route("/v1.0/users/x/insights/used/1/2"),
            Route::NotFound("2")
        ));
        assert!(matches!(route("/"), Route::NotFound("")));
    }

    #[test]
    fn validation_names_the_property() {
        let ok = json!({
            "lastUsed": {"lastAccessedDateTime": "2026-11-28T10:00:00Z"},
            "resourceVisualization": {"@odata.type": "microsoft.graph.resourceVisualization"},
            "resourceReference": {"@odata.type": "#microsoft.graph.resourceReference"},
        });
        assert_eq!(validate(ok.as_object().unwrap()), Ok(()));
        let mut bad = ok.clone();
        bad["lastUsed"]["lastModifiedDateTime"] = json!("2026-11-28T10:00:00");
        assert!(validate(bad.as_object().unwrap())
            .unwrap_err()
            .contains("lastUsed.lastModifiedDateTime"));
        let mut bad = ok.clone();
        bad.as_object_mut().unwrap().remove("resourceReference");
        assert!(validate(bad.as_object().unwrap())
            .unwrap_err()
            .contains("resourceReference"));
        let mut bad = ok.clone();
        bad["@odata.type"] = json!("#microsoft.graph.trending");
        assert!(validate(bad.as_object().unwrap())
            .unwrap_err()
            .contains("@odata.type"));
        let mut bad = ok;
        bad["lastUsed"]["@odata.type"] = json!("microsoft.graph.other");
        assert!(validate(bad.as_object().unwrap())
            .unwrap_err()
            .contains("lastUsed.@odata.type"));
    }
}

//! `used_insight_options`: an opaque settings object with one setter per
//! setting, so settings can be added without changing any struct layout.

use std::ffi::{c_char, c_void};
use std::str::FromStr;
use std::time::Duration;

use used_insight_core::{bindings, ClientBuilder, Cloud, ConfigError};

use crate::credentials::CredentialChoice;
use crate::error::{used_insight_error, Failure};
use crate::ptr::boxed;
use crate::status::used_insight_status;
use crate::token::{token_provider, used_insight_token_callback};

/// Settings for `used_insight_client_new`. Create with
/// `used_insight_options_new`, change with the `used_insight_options_set_*`
/// functions, free with `used_insight_options_free`.
///
/// Every setting has a default except the credential: set a token, a token
/// callback or a credential (`used_insight_options_set_*_credential`; the
/// last one set is used). The client copies the settings, so the options may be freed or
/// reused as soon as `used_insight_client_new` returns.
///
/// Not thread-safe: use one options object from one thread at a time.
pub struct used_insight_options {
    builder: ClientBuilder,
    /// Set by a `used_insight_options_set_*_credential` setter; made into
    /// core's credential by `used_insight_client_new` (see `credentials`).
    pub(crate) credential: Option<CredentialChoice>,
    /// Set by `used_insight_options_set_authority_host`.
    pub(crate) authority_host: Option<String>,
}

/// A Microsoft Graph national cloud, for `used_insight_options_set_cloud`.
/// The values are stable across versions.
#[repr(u32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum used_insight_cloud {
    /// `https://graph.microsoft.com` (the default).
    Global = 0,
    /// US Government L4: `https://graph.microsoft.us`.
    UsGov = 1,
    /// US Government L5 (DoD): `https://dod-graph.microsoft.us`.
    UsGovDod = 2,
    /// Microsoft Graph operated by 21Vianet: `https://microsoftgraph.chinacloudapi.cn`.
    China = 3,
}

impl used_insight_cloud {
    /// Reads a cloud that came from C as a plain integer.
    fn from_u32(value: u32) -> Result<Cloud, Failure> {
        [
            (Self::Global, Cloud::Global),
            (Self::UsGov, Cloud::UsGov),
            (Self::UsGovDod, Cloud::UsGovDod),
            (Self::China, Cloud::China),
        ]
        .into_iter()
        .find(|(c, _)| *c as u32 == value)
        .map(|(_, cloud)| cloud)
        .ok_or_else(|| invalid_argument(format!("{value} is not a used_insight_cloud")))
    }
}

impl used_insight_options {
    /// The builder with the settings of the setters (without a credential
    /// set by a `_set_*_credential` setter).
    pub(crate) fn to_builder(&self) -> ClientBuilder {
        self.builder.clone()
    }

    /// Sets a token or token callback on the builder, dropping a credential
    /// chosen earlier: the last one set is used.
    fn replace_credential(&mut self, set: impl FnOnce(ClientBuilder) -> ClientBuilder) {
        self.builder = set(std::mem::take(&mut self.builder));
        self.credential = None;
    }

    /// The builder the client is made from: [`to_builder`](Self::to_builder)
    /// with the credential chosen made now (reading files and the
    /// environment), or its configuration error.
    pub(crate) fn client_builder(&self) -> Result<ClientBuilder, Failure> {
        crate::credentials::client_builder(
            self.to_builder(),
            self.credential.as_ref(),
            self.authority_host.as_deref(),
        )
    }
}

fn invalid_argument(message: String) -> Failure {
    used_insight_error::new(used_insight_status::InvalidArgument, message)
}

/// A setting core refuses, as the setter's `INVALID_ARGUMENT`, in core's words.
fn refused(e: ConfigError) -> Failure {
    invalid_argument(e.message)
}

/// `builder` with a new value applied, if core's rules on values accept it
/// (e.g. "timeout must be more than zero").
pub(crate) fn checked(builder: ClientBuilder) -> Result<ClientBuilder, Failure> {
    bindings::check_settings(&builder).map_err(refused)?;
    Ok(builder)
}

/// Reads a setting given by name (a cloud, an API version).
fn parse<T: FromStr<Err = ConfigError>>(name: &str) -> Result<T, Failure> {
    name.parse().map_err(refused)
}

/// Creates options with every default: the Global cloud, API version
/// `v1.0`, a 60 s timeout per attempt, a 10 s connect timeout, 3 retries
/// backing off from 1 s, the Mozilla roots compiled in, the environment's
/// proxy, and no credential yet.
///
/// Returns a new object owned by the caller, to be freed with
/// `used_insight_options_free`; NULL only if memory ran out. Thread-safe.
#[no_mangle]
pub extern "C" fn used_insight_options_new() -> *mut used_insight_options {
    ffi_panic_boundary! {
        boxed(used_insight_options {
            builder: ClientBuilder::default(),
            credential: None,
            authority_host: None,
        })
    }
}

/// Frees options (including a token stored in them). NULL is a no-op.
/// Clients made from them are not affected.
///
/// # Safety
/// `options` must be NULL or from `used_insight_options_new`, not freed
/// before, and not used afterwards.
#[no_mangle]
pub unsafe extern "C" fn used_insight_options_free(options: *mut used_insight_options) {
    ffi_panic_boundary! {
        free!(options)
    }
}

/// Sets an explicit Graph root without the API version, e.g.
/// `"http://127.0.0.1:8080"` for a local emulator; it overrides the cloud.
/// Must be `https://` unless the host is loopback: that and the URL's syntax
/// are checked by `used_insight_client_new` (`USED_INSIGHT_STATUS_INVALID_CONFIG`).
///
/// The string is copied. Returns `USED_INSIGHT_STATUS_NULL_PARAMETER` if an
/// argument is NULL, `USED_INSIGHT_STATUS_INVALID_UTF8` if `base_url` is not
/// UTF-8; the options are unchanged on failure.
///
/// # Safety
/// `options` must be NULL or live options; `base_url` NULL or a
/// NUL-terminated string. Not thread-safe for the same `options`.
#[no_mangle]
pub unsafe extern "C" fn used_insight_options_set_base_url(
    options: *mut used_insight_options,
    base_url: *const c_char,
) -> used_insight_status {
    ffi_panic_boundary! {
        set!(options.builder.base_url(try_str!(base_url)))
    }
}

/// Selects a national cloud, one of the `used_insight_cloud` values (read as
/// a plain integer). Ignored when a base URL is set. Default
/// `USED_INSIGHT_CLOUD_GLOBAL`.
///
/// Returns `USED_INSIGHT_STATUS_INVALID_ARGUMENT` for a value that is not a
/// `used_insight_cloud`, `USED_INSIGHT_STATUS_NULL_PARAMETER` if `options` is
/// NULL; the options are unchanged on failure.
///
/// # Safety
/// `options` must be NULL or live options. Not thread-safe for the same
/// `options`.
#[no_mangle]
pub unsafe extern "C" fn used_insight_options_set_cloud(
    options: *mut used_insight_options,
    cloud: u32,
) -> used_insight_status {
    ffi_panic_boundary! {
        set!(options.builder.cloud(used_insight_cloud::from_u32(cloud)?))
    }
}

/// Selects a national cloud by name: `"global"`, `"us_gov"`,
/// `"us_gov_dod"` (or `"dod"`) or `"china"`, in any case, with `-` or `_`.
///
/// Returns `USED_INSIGHT_STATUS_INVALID_ARGUMENT` for an unknown name,
/// `USED_INSIGHT_STATUS_NULL_PARAMETER` / `USED_INSIGHT_STATUS_INVALID_UTF8`
/// for a NULL or non-UTF-8 argument; the options are unchanged on failure.
///
/// # Safety
/// `options` must be NULL or live options; `name` NULL or a NUL-terminated
/// string. Not thread-safe for the same `options`.
#[no_mangle]
pub unsafe extern "C" fn used_insight_options_set_cloud_name(
    options: *mut used_insight_options,
    name: *const c_char,
) -> used_insight_status {
    ffi_panic_boundary! {
        set!(options.builder.cloud(parse(try_str!(name))?))
    }
}

/// Selects the Graph API version: `"v1.0"` (the default) or `"beta"`.
///
/// Returns `USED_INSIGHT_STATUS_INVALID_ARGUMENT` for any other value,
/// `USED_INSIGHT_STATUS_NULL_PARAMETER` / `USED_INSIGHT_STATUS_INVALID_UTF8`
/// for a NULL or non-UTF-8 argument; the options are unchanged on failure.
///
/// # Safety
/// `options` must be NULL or live options; `version` NULL or a
/// NUL-terminated string. Not thread-safe for the same `options`.
#[no_mangle]
pub unsafe extern "C" fn used_insight_options_set_api_version(
    options: *mut used_insight_options,
    version: *const c_char,
) -> used_insight_status {
    ffi_panic_boundary! {
        set!(options.builder.api_version(parse(try_str!(version))?))
    }
}

/// Sets a fixed bearer token, replacing a token callback or credential set
/// earlier. The
/// token is copied; it is never logged or put in an error message. A token
/// that cannot be an HTTP header value is refused by
/// `used_insight_client_new` (`USED_INSIGHT_STATUS_INVALID_CONFIG`).
///
/// Returns `USED_INSIGHT_STATUS_NULL_PARAMETER` / `USED_INSIGHT_STATUS_INVALID_UTF8`
/// for a NULL or non-UTF-8 argument; the options are unchanged on failure.
///
/// # Safety
/// `options` must be NULL or live options; `token` NULL or a NUL-terminated
/// string. Not thread-safe for the same `options`.
#[no_mangle]
pub unsafe extern "C" fn used_insight_options_set_token(
    options: *mut used_insight_options,
    token: *const c_char,
) -> used_insight_status {
    ffi_panic_boundary! {
        crate::ptr::status((|| {
            let options = try_mut!(options);
            let token = try_str!(token);
            options.replace_credential(|b| b.token(token));
            Ok(())
        })())
    }
}

/// Sets a callback that supplies the bearer token before every request
/// (see `used_insight_token_callback` for its contract), replacing a token
/// or credential set earlier. `user_data` is passed to it unchanged and may be NULL.
///
/// Ownership: `user_data` stays the caller's; it must stay valid, and the
/// callback callable, until every client made from these options is freed.
/// Thread-safety: the callback may be called from any thread that uses the
/// client, concurrently.
///
/// Returns `USED_INSIGHT_STATUS_NULL_PARAMETER` if `options` or `callback` is
/// NULL; the options are unchanged on failure.
///
/// # Safety
/// `options` must be NULL or live options. Not thread-safe for the same
/// `options`.
#[no_mangle]
pub unsafe extern "C" fn used_insight_options_set_token_callback(
    options: *mut used_insight_options,
    callback: used_insight_token_callback,
    user_data: *mut c_void,
) -> used_insight_status {
    ffi_panic_boundary! {
        crate::ptr::status((|| {
            let options = try_mut!(options);
            let provider = token_provider(try_callback!(callback), user_data);
            options.replace_credential(|b| b.token_provider(provider));
            Ok(())
        })())
    }
}

/// Sets the longest time one attempt may take, from connecting to the last
/// byte of the answer, in milliseconds (waits between retries not included).
/// Default 60000.
///
/// Returns `USED_INSIGHT_STATUS_INVALID_ARGUMENT` for 0 (it must be more
/// than zero), `USED_INSIGHT_STATUS_NULL_PARAMETER` if `options` is NULL;
/// the options are unchanged on failure.
///
/// # Safety
/// `options` must be NULL or live options. Not thread-safe for the same
/// `options`.
#[no_mangle]
pub unsafe extern "C" fn used_insight_options_set_timeout_ms(
    options: *mut used_insight_options,
    timeout_ms: u64,
) -> used_insight_status {
    ffi_panic_boundary! {
        set!(options.builder => |b| checked(b.timeout(Duration::from_millis(timeout_ms))))
    }
}

/// Sets the longest time to establish a connection (DNS, TCP, TLS), in
/// milliseconds. Default 10000.
///
/// Returns `USED_INSIGHT_STATUS_INVALID_ARGUMENT` for 0 (it must be more
/// than zero), `USED_INSIGHT_STATUS_NULL_PARAMETER` if `options` is NULL;
/// the options are unchanged on failure.
///
/// # Safety
/// `options` must be NULL or live options. Not thread-safe for the same
/// `options`.
#[no_mangle]
pub unsafe extern "C" fn used_insight_options_set_connect_timeout_ms(
    options: *mut used_insight_options,
    timeout_ms: u64,
) -> used_insight_status {
    ffi_panic_boundary! {
        set!(options.builder => |b| checked(b.connect_timeout(Duration::from_millis(timeout_ms))))
    }
}

/// Sets how many times a throttled (429) or unavailable (503, 504) answer is
/// retried, honouring Graph's `Retry-After`; 0 never retries. Default 3.
/// Nothing else is retried: a create whose answer was lost is never resent.
///
/// Returns `USED_INSIGHT_STATUS_NULL_PARAMETER` if `options` is NULL.
///
/// # Safety
/// `options` must be NULL or live options. Not thread-safe for the same
/// `options`.
#[no_mangle]
pub unsafe extern "C" fn used_insight_options_set_max_retries(
    options: *mut used_insight_options,
    max_retries: u32,
) -> used_insight_status {
    ffi_panic_boundary! {
        set!(options.builder => |b| {
            let policy = b.get_retry_policy().clone().with_max_retries(max_retries);
            Ok(b.retry_policy(policy))
        })
    }
}

/// Sets the first back-off wait before retrying a throttled (429) or
/// unavailable (503, 504) answer that has no `Retry-After`, in
/// milliseconds; each further retry waits twice as long, and every wait
/// is between half and all of its length (random jitter, so that clients
/// throttled together do not come back together). A `Retry-After` from
/// Graph is always waited exactly instead. 0 retries at once. Default 1000.
/// The Microsoft Graph SDKs' retry handler option calls this `Delay`; tests
/// against an emulator use a few milliseconds.
///
/// Returns `USED_INSIGHT_STATUS_INVALID_ARGUMENT` for more than 60000
/// (60 s, the longest single wait), `USED_INSIGHT_STATUS_NULL_PARAMETER` if
/// `options` is NULL; the options are unchanged on failure.
///
/// # Safety
/// `options` must be NULL or live options. Not thread-safe for the same
/// `options`.
#[no_mangle]
pub unsafe extern "C" fn used_insight_options_set_retry_delay_ms(
    options: *mut used_insight_options,
    delay_ms: u32,
) -> used_insight_status {
    ffi_panic_boundary! {
        set!(options.builder => |b| {
            let delay = Duration::from_millis(delay_ms.into());
            let policy = bindings::retry_delay(b.get_retry_policy(), delay).map_err(refused)?;
            checked(b.retry_policy(policy))
        })
    }
}

/// Sets the limits the client keeps to, shared by every thread using it:
/// at most `max_concurrent` requests in flight and at most `requests`
/// requests in any `per_seconds` seconds (a sliding window). Each item of a
/// `used_insight_create_many` batch counts as one request. Default: Graph's
/// published limits for usedInsight, 4 in flight and 10000 per 600 s.
///
/// A create waits for a free slot, at most the timeout
/// (`used_insight_options_set_timeout_ms`); one that gets none fails with
/// `USED_INSIGHT_STATUS_TIMEOUT` and was not sent
/// (`used_insight_error_request_may_have_been_processed` is false). A 429
/// answer — or any answer with `Retry-After` — pauses every request of the
/// client until Graph's wait has passed.
///
/// Returns `USED_INSIGHT_STATUS_INVALID_ARGUMENT` for a 0 count, a window
/// that is not more than zero or is longer than a day (86400 s), or not a
/// number; `USED_INSIGHT_STATUS_NULL_PARAMETER` if `options` is NULL; the
/// options are unchanged on failure.
///
/// # Safety
/// `options` must be NULL or live options. Not thread-safe for the same
/// `options`.
#[no_mangle]
pub unsafe extern "C" fn used_insight_options_set_rate_limit(
    options: *mut used_insight_options,
    max_concurrent: u32,
    requests: u32,
    per_seconds: f64,
) -> used_insight_status {
    ffi_panic_boundary! {
        set!(options.builder => |b| {
            let limit = bindings::rate_limit(max_concurrent.into(), requests.into(), per_seconds)
                .map_err(refused)?;
            checked(b.rate_limit(Some(limit)))
        })
    }
}

/// Turns the rate limit off: requests go as fast as they are made, and each
/// backs off on its own when Graph throttles it (429). For a client that
/// shares Graph's limits with nothing and is paced some other way, or for
/// tests. `used_insight_options_set_rate_limit` turns it on again.
///
/// Returns `USED_INSIGHT_STATUS_NULL_PARAMETER` if `options` is NULL.
///
/// # Safety
/// `options` must be NULL or live options. Not thread-safe for the same
/// `options`.
#[no_mangle]
pub unsafe extern "C" fn used_insight_options_disable_rate_limit(
    options: *mut used_insight_options,
) -> used_insight_status {
    ffi_panic_boundary! {
        set!(options.builder => |b| Ok(b.rate_limit(None)))
    }
}

/// Sets your product's token, sent before this library's in `User-Agent`
/// (e.g. `"contoso-sync/2.1"`). Default: none. Checked by
/// `used_insight_client_new`.
///
/// Returns `USED_INSIGHT_STATUS_NULL_PARAMETER` / `USED_INSIGHT_STATUS_INVALID_UTF8`
/// for a NULL or non-UTF-8 argument; the options are unchanged on failure.
///
/// # Safety
/// `options` must be NULL or live options; `user_agent` NULL or a
/// NUL-terminated string. Not thread-safe for the same `options`.
#[no_mangle]
pub unsafe extern "C" fn used_insight_options_set_user_agent(
    options: *mut used_insight_options,
    user_agent: *const c_char,
) -> used_insight_status {
    ffi_panic_boundary! {
        set!(options.builder.user_agent(try_str!(user_agent)))
    }
}

/// Adds every certificate in a PEM file to the roots trusted for HTTPS, on
/// top of the default ones (Mozilla's, or the system's with
/// `used_insight_options_set_system_roots`), e.g. the root of a corporate
/// proxy that inspects TLS. May be called more than once; each file adds
/// its certificates. Certificate verification itself cannot be turned off.
///
/// The path is copied; the file is read by `used_insight_client_new`, which
/// returns `USED_INSIGHT_STATUS_INVALID_CONFIG` with a message naming the
/// file if it cannot be read, is not PEM or holds no certificate.
///
/// Returns `USED_INSIGHT_STATUS_NULL_PARAMETER` if an argument is NULL,
/// `USED_INSIGHT_STATUS_INVALID_UTF8` if `path` is not UTF-8; the options
/// are unchanged on failure.
///
/// # Safety
/// `options` must be NULL or live options; `path` NULL or a NUL-terminated
/// string. Not thread-safe for the same `options`.
#[no_mangle]
pub unsafe extern "C" fn used_insight_options_add_root_certificates_file(
    options: *mut used_insight_options,
    path: *const c_char,
) -> used_insight_status {
    ffi_panic_boundary! {
        set!(options.builder.add_root_certificates_file(try_str!(path)))
    }
}

/// As `used_insight_options_add_root_certificates_file`, from PEM text in
/// memory (one or more `-----BEGIN CERTIFICATE-----` blocks; other PEM
/// items such as keys are skipped). May be called more than once.
///
/// The text is copied. Text that is not PEM or holds no certificate is
/// refused by `used_insight_client_new` (`USED_INSIGHT_STATUS_INVALID_CONFIG`).
///
/// Returns `USED_INSIGHT_STATUS_NULL_PARAMETER` if an argument is NULL,
/// `USED_INSIGHT_STATUS_INVALID_UTF8` if `pem` is not UTF-8; the options are
/// unchanged on failure.
///
/// # Safety
/// `options` must be NULL or live options; `pem` NULL or a NUL-terminated
/// string. Not thread-safe for the same `options`.
#[no_mangle]
pub unsafe extern "C" fn used_insight_options_add_root_certificates_pem(
    options: *mut used_insight_options,
    pem: *const c_char,
) -> used_insight_status {
    ffi_panic_boundary! {
        set!(options.builder.add_root_certificates_pem(try_str!(pem)))
    }
}

/// `true`: trust the operating system's certificate store instead of the
/// Mozilla roots compiled into the library (on Linux it follows
/// `SSL_CERT_FILE`, `SSL_CERT_DIR` and the distribution's bundle), plus any
/// roots added with `used_insight_options_add_root_certificates_*`.
/// `false` (the default): the compiled-in roots. The store is read by
/// `used_insight_client_new`, which returns
/// `USED_INSIGHT_STATUS_INVALID_CONFIG` if it holds no certificate.
///
/// Returns `USED_INSIGHT_STATUS_NULL_PARAMETER` if `options` is NULL.
///
/// # Safety
/// `options` must be NULL or live options. Not thread-safe for the same
/// `options`.
#[no_mangle]
pub unsafe extern "C" fn used_insight_options_set_system_roots(
    options: *mut used_insight_options,
    use_system_roots: bool,
) -> used_insight_status {
    ffi_panic_boundary! {
        set!(options.builder.system_roots(use_system_roots))
    }
}

/// Sends every request through this proxy, whatever the environment says
/// (loopback hosts included): `http://host:port` or `https://host:port`,
/// with `user:password@` before the host if it needs them (`http://` is
/// assumed without a scheme). HTTPS to Graph goes through it as a `CONNECT`
/// tunnel, so TLS is still end to end. Replaces `used_insight_options_set_no_proxy`.
///
/// Default (neither this nor `used_insight_options_set_no_proxy` called):
/// the environment's proxy, read as curl reads it when the client is made
/// (`https_proxy`/`HTTPS_PROXY`, `all_proxy`/`ALL_PROXY`, `no_proxy`/`NO_PROXY`;
/// `http_proxy` for a plain `http://` base URL); a loopback base URL never
/// uses the environment's proxy.
///
/// The URL is copied; its password never appears in error messages. A URL
/// that is malformed or names a SOCKS proxy (not supported) is refused by
/// `used_insight_client_new` (`USED_INSIGHT_STATUS_INVALID_CONFIG`). A proxy
/// that cannot be reached fails each request with
/// `USED_INSIGHT_STATUS_TRANSPORT`, kind `USED_INSIGHT_TRANSPORT_KIND_CONNECT`,
/// its message naming the proxy; one that refuses the tunnel, kind
/// `USED_INSIGHT_TRANSPORT_KIND_PROXY`. In both cases nothing was sent.
///
/// Returns `USED_INSIGHT_STATUS_NULL_PARAMETER` if an argument is NULL,
/// `USED_INSIGHT_STATUS_INVALID_UTF8` if `url` is not UTF-8; the options are
/// unchanged on failure.
///
/// # Safety
/// `options` must be NULL or live options; `url` NULL or a NUL-terminated
/// string. Not thread-safe for the same `options`.
#[no_mangle]
pub unsafe extern "C" fn used_insight_options_set_proxy(
    options: *mut used_insight_options,
    url: *const c_char,
) -> used_insight_status {
    ffi_panic_boundary! {
        set!(options.builder.proxy(try_str!(url)))
    }
}

/// Never goes through a proxy, whatever the environment says. Replaces a
/// proxy set with `used_insight_options_set_proxy`.
///
/// Returns `USED_INSIGHT_STATUS_NULL_PARAMETER` if `options` is NULL.
///
/// # Safety
/// `options` must be NULL or live options. Not thread-safe for the same
/// `options`.
#[no_mangle]
pub unsafe extern "C" fn used_insight_options_set_no_proxy(
    options: *mut used_insight_options,
) -> used_insight_status {
    ffi_panic_boundary! {
        set!(options.builder => |b| Ok(b.no_proxy()))
    }
}

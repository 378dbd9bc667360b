//! # used-insight
//!
//! Microsoft Graph's *Create used* — `POST /users/{usersId}/insights/used` —
//! done exactly: models that read and write Graph's wire shape without
//! losing a property, validation that reports every problem before a byte is
//! sent, and a synchronous client with Graph's retry, redirect and error
//! rules.
//!
//! ```no_run
//! use used_insight::{Client, UsedInsight, UsageDetails, ResourceVisualization, ResourceReference};
//!
//! let client = Client::builder().token(std::env::var("GRAPH_TOKEN")?).build()?;
//! let insight = UsedInsight {
//!     last_used: Some(UsageDetails {
//!         last_accessed_date_time: Some(used_insight::DateTimeOffset::now_utc()),
//!         ..Default::default()
//!     }),
//!     resource_visualization: Some(ResourceVisualization {
//!         title: Some("Quarterly report".into()),
//!         r#type: Some("Word".into()),
//!         ..Default::default()
//!     }),
//!     resource_reference: Some(ResourceReference {
//!         web_url: Some("https://contoso.sharepoint.com/sites/finance/report.docx".into()),
//!         ..Default::default()
//!     }),
//!     ..Default::default()
//! };
//! let created = client.create("alice@contoso.com", &insight)?;
//! println!("{}", created.to_json());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
#![deny(unsafe_code)] // allowed three times: pthread_atfork (fork.rs), poll (cancel_io.rs), recv (tcp.rs)
#![deny(missing_docs)]

mod batch;
pub mod bindings;
mod bytes;
mod cancel;
mod cancel_io;
mod client;
mod config;
pub mod credentials;
mod datetime;
mod decode;
mod endpoint;
mod error;
mod fork;
#[doc(hidden)]
pub mod fuzzing;
mod headers;
mod json;
mod limit;
mod model;
mod proxy;
mod redirect;
mod request_id;
mod response;
mod retry;
mod scan;
mod schema;
mod tcp;
mod transport;
mod trust;
mod validation;
mod wire_trace;
mod write;

pub use batch::{BatchOptions, MAX_BATCH_REQUESTS};
pub use cancel::CancelToken;
pub use client::Client;
pub use config::{
    ApiVersion, ClientBuilder, Cloud, CredentialKind, RetryPolicy, TokenProviderResult,
};
pub use datetime::{DateTimeError, DateTimeOffset};
pub use error::{
    CancelledError, ConfigError, DecodeError, Error, GraphError, TimeoutError, TokenProviderError,
    TransportError, TransportErrorKind,
};
pub use headers::SDK_VERSION;
pub use json::{InvalidJson, RawJson};
pub use limit::RateLimit;
#[doc(hidden)]
pub use limit::ShapeChoice;
pub use model::{ResourceReference, ResourceVisualization, UsageDetails, UsedInsight};
pub use schema::{FieldInfo, FieldKind, FieldRef, Model, ModelInfo, ModelRef};
pub use validation::{
    validate_user_id, Problem, ValidationErrors, MAX_BODY_BYTES, MAX_TEXT_BYTES, MAX_URL_BYTES,
    MAX_USER_ID_BYTES,
};

/// The README's Rust examples, compiled as doctests so they stay true.
#[cfg(doctest)]
#[doc = include_str!("../../README.md")]
struct ReadmeDoctests;

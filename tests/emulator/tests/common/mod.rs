//! Helpers shared by the integration tests: a ureq agent and a raw HTTP/1.1
//! client over `std::net::TcpStream` for the cases ureq hides (dropped
//! connections, truncated bodies, exact bytes on the wire).
#![allow(dead_code)]

pub mod entra;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use graph_emulator::{Emulator, EmulatorConfig};
use serde_json::{json, Value};

pub fn start() -> Emulator {
    Emulator::start(EmulatorConfig::default()).expect("emulator starts")
}

/// A valid usedInsight payload.
pub fn insight() -> Value {
    json!({
        "lastUsed": {
            "lastAccessedDateTime": "2026-11-28T10:00:00Z",
            "lastModifiedDateTime": "2026-11-27T09:30:00.123+01:00"
        },
        "resourceVisualization": {
            "title": "Budget.xlsx",
            "type": "Excel",
            "mediaType": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        },
        "resourceReference": {
            "webUrl": "https://contoso.sharepoint.com/Budget.xlsx",
            "id": "drive-item-1",
            "type": "microsoft.graph.driveItem"
        }
    })
}

/// A parsed HTTP response.
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    /// Header names lowercased.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Reply {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("body is not JSON ({e}): {}", self.text()))
    }

    /// Asserts a Graph-shaped error with this status and code; returns the message.
    pub fn assert_graph_error(&self, status: u16, code: &str) -> String {
        assert_eq!(self.status, status, "body: {}", self.text());
        assert_eq!(self.header("content-type"), Some("application/json"));
        let v = self.json();
        assert_eq!(v["error"]["code"], code, "body: {v}");
        let inner = &v["error"]["innerError"];
        assert_eq!(inner["request-id"].as_str(), self.header("request-id"));
        assert_eq!(
            inner["client-request-id"].as_str(),
            self.header("client-request-id")
        );
        let date = inner["date"].as_str().expect("innerError.date");
        assert_eq!(date.len(), 19, "date {date:?}");
        v["error"]["message"].as_str().expect("message").to_owned()
    }
}

pub fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(10)))
        .build()
        .into()
}

/// Like [`agent`], trusting only this CA certificate (PEM) for HTTPS.
pub fn tls_agent(ca_pem: &str) -> ureq::Agent {
    use ureq::tls::{Certificate, RootCerts, TlsConfig};
    let ca = Certificate::from_pem(ca_pem.as_bytes()).expect("CA PEM parses");
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(10)))
        .tls_config(
            TlsConfig::builder()
                .root_certs(RootCerts::new_with_certs(&[ca]))
                .build(),
        )
        .build()
        .into()
}

/// Sends a request with ureq (keep-alive, pooled connections).
pub fn send(
    agent: &ureq::Agent,
    method: &str,
    url: &str,
    headers: &[(&str, &str)],
    body: Option<&str>,
) -> Reply {
    try_send(agent, method, url, headers, body).unwrap_or_else(|e| panic!("{method} {url}: {e}"))
}

/// [`send`], returning ureq's error (connection, TLS…) instead of panicking on it.
pub fn try_send(
    agent: &ureq::Agent,
    method: &str,
    url: &str,
    headers: &[(&str, &str)],
    body: Option<&str>,
) -> Result<Reply, ureq::Error> {
    let mut builder = ureq::http::Request::builder().method(method).uri(url);
    for (n, v) in headers {
        builder = builder.header(*n, *v);
    }
    let resp = match body {
        Some(body) => agent.run(builder.body(body.to_owned()).unwrap()),
        None => agent.run(builder.body(()).unwrap()),
    }?;
    let status = resp.status().as_u16();
    let headers = resp
        .headers()
        .iter()
        .map(|(n, v)| {
            (
                n.as_str().to_owned(),
                String::from_utf8_lossy(v.as_bytes()).into_owned(),
            )
        })
        .collect();
    let mut body = Vec::new();
    resp.into_body()
        .into_reader()
        .read_to_end(&mut body)
        .expect("read body");
    Ok(Reply {
        status,
        headers,
        body,
    })
}

pub const AUTH: (&str, &str) = ("Authorization", "Bearer test-token");
pub const JSON: (&str, &str) = ("Content-Type", "application/json");

/// POSTs a JSON body with a bearer token and JSON content type.
pub fn post_json(agent: &ureq::Agent, url: &str, body: &Value) -> Reply {
    send(agent, "POST", url, &[AUTH, JSON], Some(&body.to_string()))
}

pub fn get(agent: &ureq::Agent, url: &str) -> Reply {
    send(agent, "GET", url, &[AUTH], None)
}

/// Writes raw bytes on a fresh connection and reads until the server closes it.
/// Returns everything received (possibly nothing).
pub fn raw_exchange(port: u16, request: &[u8]) -> Vec<u8> {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    stream.write_all(request).expect("write");
    let mut received = Vec::new();
    let mut buf = [0u8; 64 * 1024];
    loop {
        match stream.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => received.extend_from_slice(&buf[..n]),
            // A reset after a dropped/truncated response also ends the exchange.
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => break,
            Err(e) => panic!("read: {e}"),
        }
    }
    received
}

/// Builds a raw HTTP/1.1 request (`Connection: close` unless `keep_alive`).
pub fn raw_request(method: &str, path: &str, headers: &[(&str, &str)], body: &str) -> Vec<u8> {
    let mut out = format!("{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n");
    for (n, v) in headers {
        out.push_str(&format!("{n}: {v}\r\n"));
    }
    if !body.is_empty() || method == "POST" {
        out.push_str(&format!("Content-Length: {}\r\n", body.len()));
    }
    out.push_str("\r\n");
    out.push_str(body);
    out.into_bytes()
}

/// Splits raw response bytes into (status, headers, body-bytes-received).
pub fn parse_raw(bytes: &[u8]) -> Reply {
    let split = bytes
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .unwrap_or_else(|| panic!("no header end in {:?}", String::from_utf8_lossy(bytes)));
    let head = String::from_utf8_lossy(&bytes[..split]).into_owned();
    let mut lines = head.split("\r\n");
    let status_line = lines.next().unwrap();
    let status = status_line
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("bad status line {status_line:?}"));
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    Reply {
        status,
        headers,
        body: bytes[split + 4..].to_vec(),
    }
}

/// URL of the usedInsight collection for a raw user segment.
pub fn used_url(emu: &Emulator, raw_user: &str) -> String {
    format!("{}/v1.0/users/{raw_user}/insights/used", emu.base_url())
}

//! The runner's one HTTP client and the record of each exchange.
//!
//! Redirects are never followed (the runner inspects them), every request has a timeout,
//! bodies are read up to a cap, and everything a report may print is redacted: no
//! token, code, secret or password leaves through an [`Exchange`].

use std::time::Duration;

use reqwest::header::{HeaderMap, HeaderName, HeaderValue};

/// Longest body the runner reads; the rest is cut (a report says so).
pub const BODY_CAP: usize = 1024 * 1024;

/// Parameter and JSON member names whose values are secrets.
pub const SECRET_NAMES: &[&str] = &[
    "access_token",
    "refresh_token",
    "id_token",
    "code",
    "code_verifier",
    "client_secret",
    "password",
    "token",
    "csrf_token",
    "assertion",
];

/// The HTTP client shared by every scenario.
#[derive(Debug, Clone)]
pub struct Http {
    client: reqwest::Client,
}

/// A request to send.
#[derive(Debug, Clone)]
pub struct Outgoing {
    /// `GET`, `POST`, ...
    pub method: reqwest::Method,
    /// Absolute URL (with any query).
    pub url: String,
    /// Headers to send.
    pub headers: Vec<(String, String)>,
    /// A raw body and its content type.
    pub body: Option<(String, Vec<u8>)>,
}

impl Outgoing {
    /// A request without headers or body.
    pub fn new(method: reqwest::Method, url: impl Into<String>) -> Self {
        Self {
            method,
            url: url.into(),
            headers: Vec::new(),
            body: None,
        }
    }

    /// Adds a header.
    pub fn header(mut self, name: &str, value: impl Into<String>) -> Self {
        self.headers.push((name.to_owned(), value.into()));
        self
    }

    /// Sets an `application/x-www-form-urlencoded` body from pairs, in order, repeated
    /// names kept (so a scenario can send a repeated parameter on purpose).
    pub fn form(mut self, pairs: &[(String, String)]) -> Self {
        self.body = Some((
            "application/x-www-form-urlencoded".to_owned(),
            encode_pairs(pairs).into_bytes(),
        ));
        self
    }

    /// Sets a raw body.
    pub fn raw_body(mut self, content_type: &str, body: Vec<u8>) -> Self {
        self.body = Some((content_type.to_owned(), body));
        self
    }
}

/// One request and its response, as reports show them (secrets redacted).
#[derive(Clone)]
pub struct Exchange {
    /// The method.
    pub method: String,
    /// The URL, with secret query values redacted.
    pub url: String,
    /// Request headers, redacted.
    pub request_headers: Vec<(String, String)>,
    /// Request body, redacted.
    pub request_body: Option<String>,
    /// Response status.
    pub status: u16,
    /// Response headers.
    pub headers: HeaderMap,
    /// Response body (up to [`BODY_CAP`]), unredacted: steps read tokens from it.
    pub body: String,
    /// Whether the body was cut at the cap.
    pub truncated: bool,
}

impl std::fmt::Debug for Exchange {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.describe())
    }
}

impl Exchange {
    /// The first value of a response header.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// Every value of a response header.
    pub fn header_all(&self, name: &str) -> Vec<String> {
        self.headers
            .get_all(name)
            .iter()
            .filter_map(|v| v.to_str().ok().map(str::to_owned))
            .collect()
    }

    /// The body as JSON, if it is JSON.
    pub fn json(&self) -> Option<serde_json::Value> {
        serde_json::from_str(&self.body).ok()
    }

    /// The media type of the response, lower-cased, without parameters.
    pub fn media_type(&self) -> Option<String> {
        self.header("content-type")
            .and_then(|v| v.split(';').next())
            .map(|m| m.trim().to_ascii_lowercase())
    }

    /// A redacted, human-readable account of the exchange for a failure report.
    pub fn describe(&self) -> String {
        let mut s = format!("{} {}\n", self.method, self.url);
        for (k, v) in &self.request_headers {
            s.push_str(&format!("  > {k}: {v}\n"));
        }
        if let Some(b) = &self.request_body {
            s.push_str(&format!("  > {}\n", excerpt(b, 300)));
        }
        s.push_str(&format!("  < {}\n", self.status));
        for (k, v) in &self.headers {
            let name = k.as_str();
            if matches!(
                name,
                "content-type"
                    | "www-authenticate"
                    | "location"
                    | "cache-control"
                    | "pragma"
                    | "retry-after"
            ) {
                let v = v.to_str().unwrap_or("(binary)");
                let v = if name == "location" {
                    redact_url(v)
                } else {
                    v.to_owned()
                };
                s.push_str(&format!("  < {name}: {v}\n"));
            }
        }
        if !self.body.is_empty() {
            let body = redact_body(&self.body);
            s.push_str(&format!(
                "  < {}{}\n",
                excerpt(&body, 400),
                if self.truncated {
                    " [body cut at 1 MiB]"
                } else {
                    ""
                }
            ));
        }
        s
    }
}

/// Why a request got no response.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{method} {url}: {reason}")]
pub struct SendError {
    /// The method.
    pub method: String,
    /// The URL, redacted.
    pub url: String,
    /// What went wrong (connection refused, timed out, ...).
    pub reason: String,
    /// Whether the target could not be reached at all.
    pub unreachable: bool,
}

/// Installs the TLS crypto provider (ring) once per process, for https targets.
fn tls_provider() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        // Fails only when another provider is already installed, which is fine.
        let _ = rustls::crypto::ring::default_provider().install_default();
    });
}

impl Http {
    /// A client with a per-request timeout that never follows redirects.
    pub fn new(timeout: Duration) -> Result<Self, reqwest::Error> {
        tls_provider();
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(timeout)
            .connect_timeout(timeout.min(Duration::from_secs(5)))
            .pool_max_idle_per_host(64)
            // Shorter than common server keep-alive timeouts (Node's is 5 s), so a pooled
            // connection is never reused just as the server closes it.
            .pool_idle_timeout(Duration::from_secs(2))
            .user_agent(concat!("oauth2-conformance/", env!("CARGO_PKG_VERSION")))
            .build()?;
        Ok(Self { client })
    }

    /// A client with its own cookie jar (for the login driver), same settings.
    pub fn with_cookies(timeout: Duration) -> Result<reqwest::Client, reqwest::Error> {
        tls_provider();
        reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(timeout)
            .connect_timeout(timeout.min(Duration::from_secs(5)))
            .cookie_store(true)
            .user_agent(concat!("oauth2-conformance/", env!("CARGO_PKG_VERSION")))
            .build()
    }

    /// Sends a request and records the exchange.
    pub async fn send(&self, out: Outgoing) -> Result<Exchange, SendError> {
        send_with(&self.client, out).await
    }
}

/// Sends with a given client (the shared one, or a login driver's cookie client).
pub async fn send_with(client: &reqwest::Client, out: Outgoing) -> Result<Exchange, SendError> {
    let fail = |reason: String, unreachable: bool| SendError {
        method: out.method.to_string(),
        url: redact_url(&out.url),
        reason,
        unreachable,
    };
    let mut req = client.request(out.method.clone(), &out.url);
    let mut request_headers = Vec::new();
    for (k, v) in &out.headers {
        let name = HeaderName::from_bytes(k.as_bytes())
            .map_err(|e| fail(format!("bad header name: {e}"), false))?;
        let value =
            HeaderValue::from_str(v).map_err(|e| fail(format!("bad header value: {e}"), false))?;
        req = req.header(name, value);
        let shown = if k.eq_ignore_ascii_case("authorization") || k.eq_ignore_ascii_case("cookie") {
            let scheme = v.split(' ').next().unwrap_or("");
            format!("{scheme} [redacted]")
        } else {
            v.clone()
        };
        request_headers.push((k.clone(), shown));
    }
    let mut request_body = None;
    if let Some((ct, body)) = &out.body {
        req = req.header("content-type", ct.as_str()).body(body.clone());
        request_headers.push(("content-type".to_owned(), ct.clone()));
        let text = String::from_utf8_lossy(body);
        request_body = Some(if ct.starts_with("application/x-www-form-urlencoded") {
            redact_query(&text)
        } else {
            redact_body(&text)
        });
    }
    let mut resp = req.send().await.map_err(|e| {
        let unreachable = e.is_connect();
        // The URL (which may carry secrets in its query) is already in the message,
        // redacted; the error's own copy is dropped.
        let e = e.without_url();
        let chain = error_chain(&e);
        let reason = if e.is_timeout() {
            "no response within the timeout".to_owned()
        } else if e.is_connect() {
            format!("could not connect ({chain})")
        } else {
            format!("request failed: {chain}")
        };
        fail(reason, unreachable)
    })?;
    let status = resp.status().as_u16();
    let headers = resp.headers().clone();
    let mut bytes = Vec::new();
    let mut truncated = false;
    loop {
        match resp.chunk().await {
            Ok(Some(chunk)) => {
                if bytes.len() + chunk.len() > BODY_CAP {
                    bytes.extend_from_slice(&chunk[..BODY_CAP - bytes.len()]);
                    truncated = true;
                    break;
                }
                bytes.extend_from_slice(&chunk);
            }
            Ok(None) => break,
            Err(e) => {
                return Err(fail(
                    if e.is_timeout() {
                        "the response body did not finish within the timeout".to_owned()
                    } else {
                        format!("the response body could not be read: {}", error_chain(&e))
                    },
                    false,
                ));
            }
        }
    }
    let body = String::from_utf8_lossy(&bytes).into_owned();
    witness_response(&headers, &body);
    Ok(Exchange {
        method: out.method.to_string(),
        url: redact_url(&out.url),
        request_headers,
        request_body,
        status,
        headers,
        body,
        truncated,
    })
}

fn error_chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut src = e.source();
    while let Some(x) = src {
        s.push_str(": ");
        s.push_str(&x.to_string());
        src = x.source();
    }
    s
}

/// Encodes pairs as `application/x-www-form-urlencoded`.
pub fn encode_pairs(pairs: &[(String, String)]) -> String {
    pairs
        .iter()
        .map(|(k, v)| format!("{}={}", encode(k), encode(v)))
        .collect::<Vec<_>>()
        .join("&")
}

/// Percent-encodes everything but the unreserved characters.
pub fn encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Decodes an `application/x-www-form-urlencoded` string into pairs (lenient).
pub fn decode_pairs(s: &str) -> Vec<(String, String)> {
    s.split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (decode(k), decode(v))
        })
        .collect()
}

/// Decodes one form component (lenient: bad escapes are kept as they are).
pub fn decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => {
                match std::str::from_utf8(&bytes[i + 1..i + 3])
                    .ok()
                    .and_then(|h| u8::from_str_radix(h, 16).ok())
                {
                    Some(b) => {
                        out.push(b);
                        i += 2;
                    }
                    None => out.push(b'%'),
                }
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn is_secret(name: &str) -> bool {
    SECRET_NAMES.contains(&name)
}

/// In JSON bodies `code` is an error code (JSON:API, RFC 6750 documents), not an
/// authorization code, which only travels in redirects and form bodies.
fn is_secret_member(name: &str) -> bool {
    name != "code" && is_secret(name)
}

/// Redacts secret values in a query or form string.
pub fn redact_query(q: &str) -> String {
    q.split('&')
        .map(|p| match p.split_once('=') {
            Some((k, _)) if is_secret(&decode(k)) => format!("{k}=[redacted]"),
            _ => p.to_owned(),
        })
        .collect::<Vec<_>>()
        .join("&")
}

/// Redacts secret query values of a URL.
pub fn redact_url(url: &str) -> String {
    match url.split_once('?') {
        Some((base, q)) => {
            let (q, frag) = q.split_once('#').map_or((q, None), |(q, f)| (q, Some(f)));
            let mut s = format!("{base}?{}", redact_query(q));
            if let Some(f) = frag {
                s.push('#');
                s.push_str(&redact_query(f));
            }
            s
        }
        None => url.to_owned(),
    }
}

/// Redacts secret members of a JSON body (or secret pairs of a form body); other text
/// is returned as it is.
pub fn redact_body(body: &str) -> String {
    if let Ok(mut v) = serde_json::from_str::<serde_json::Value>(body) {
        redact_json(&mut v);
        return v.to_string();
    }
    if body.contains('=') && !body.contains('<') && !body.contains(' ') {
        return redact_query(body);
    }
    body.to_owned()
}

fn redact_json(v: &mut serde_json::Value) {
    match v {
        serde_json::Value::Object(map) => {
            for (k, val) in map.iter_mut() {
                if is_secret_member(k) && val.is_string() {
                    *val = serde_json::Value::String("[redacted]".into());
                } else {
                    redact_json(val);
                }
            }
        }
        serde_json::Value::Array(a) => a.iter_mut().for_each(redact_json),
        _ => {}
    }
}

/// At most `n` characters of `s`, with an ellipsis when cut.
pub fn excerpt(s: &str, n: usize) -> String {
    let flat: String = s
        .chars()
        .map(|c| if c == '\n' || c == '\r' { ' ' } else { c })
        .collect();
    if flat.chars().count() <= n {
        flat
    } else {
        format!("{}…", flat.chars().take(n).collect::<String>())
    }
}

/// Every secret the runner has seen in this process: tokens and codes from responses,
/// and the profile's client secrets and passwords. Reports are checked against it before
/// they are written ([`scrub`]), a second line of defence behind the redaction above.
static SEEN: std::sync::Mutex<std::collections::BTreeSet<String>> =
    std::sync::Mutex::new(std::collections::BTreeSet::new());

/// Shortest value treated as a secret by [`scrub`] (shorter ones would match ordinary
/// words).
const MIN_SECRET_LEN: usize = 8;

/// Remembers a secret value.
pub fn witness(value: &str) {
    if value.len() >= MIN_SECRET_LEN {
        if let Ok(mut seen) = SEEN.lock() {
            seen.insert(value.to_owned());
        }
    }
}

/// The secrets seen so far.
pub fn witnessed() -> Vec<String> {
    SEEN.lock()
        .map(|s| s.iter().cloned().collect())
        .unwrap_or_default()
}

fn witness_json(v: &serde_json::Value) {
    match v {
        serde_json::Value::Object(map) => {
            for (k, val) in map {
                match val.as_str() {
                    Some(s) if is_secret_member(k) => witness(s),
                    _ => witness_json(val),
                }
            }
        }
        serde_json::Value::Array(a) => a.iter().for_each(witness_json),
        _ => {}
    }
}

fn witness_response(headers: &HeaderMap, body: &str) {
    if let Ok(v) = serde_json::from_str::<serde_json::Value>(body) {
        witness_json(&v);
    }
    if let Some(loc) = headers.get("location").and_then(|v| v.to_str().ok()) {
        for part in loc.split(['?', '#']).skip(1) {
            for (k, v) in decode_pairs(part) {
                if is_secret(&k) {
                    witness(&v);
                }
            }
        }
    }
}

/// Replaces every witnessed secret in `text` with `[redacted]`; returns the text and
/// how many replacements were needed (0 when redaction upstream did its job).
pub fn scrub(text: &str) -> (String, usize) {
    let mut out = text.to_owned();
    let mut n = 0;
    for secret in witnessed() {
        if out.contains(&secret) {
            n += out.matches(&secret).count();
            out = out.replace(&secret, "[redacted]");
        }
    }
    (out, n)
}

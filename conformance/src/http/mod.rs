//! The runner's one HTTP client and the record of each exchange.
//!
//! Redirects are never followed (the runner inspects them), every request has a timeout
//! for the whole exchange, a body over [`BODY_CAP`] fails the request unread, a failed
//! request says why in words (`failure.rs`), and everything a report may print is
//! redacted (`redact.rs`): no token, code, secret or password leaves through an
//! [`Exchange`].

use std::time::Duration;

use reqwest::header::{HeaderMap, HeaderName, HeaderValue};

mod failure;
mod form;
pub mod pace;
mod redact;

pub use form::{decode, decode_pairs, encode, encode_pairs, excerpt, lowercase_escapes};
use redact::witness_response;
pub use redact::{SECRET_NAMES, redact_body, redact_query, redact_url, scrub, witness, witnessed};

/// Remembers the secrets of a page a real browser loaded (as for every answer the
/// runner's own client reads), so no report can print them.
pub fn witness_page(headers: &reqwest::header::HeaderMap, body: &str) {
    witness_response(headers, body);
}

/// Longest body the runner reads: a longer one fails the request (no OAuth answer is
/// that big, and a broken target may send gigabytes).
pub const BODY_CAP: usize = 1024 * 1024;

/// The HTTP client shared by every scenario.
#[derive(Debug, Clone)]
pub struct Http {
    client: reqwest::Client,
    timeout: Duration,
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
    /// Response body (at most [`BODY_CAP`] bytes), unredacted: steps read tokens from it.
    pub body: String,
    /// When the response was complete.
    pub received_at: std::time::Instant,
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

    /// The status for a report; a redirect says where it leads and that the runner did
    /// not follow it (API answers are inspected as they are).
    pub fn status_text(&self) -> String {
        match self.header("location") {
            Some(to) if (300..400).contains(&self.status) => format!(
                "status {} (a redirect to {}, not followed)",
                self.status,
                redact_url(to)
            ),
            _ => format!("status {}", self.status),
        }
    }

    /// What the body is, for a report: a JSON object, other JSON, an empty body, or, when
    /// it is not JSON, its Content-Type and a short redacted excerpt.
    pub fn body_kind(&self) -> String {
        match self.json() {
            Some(serde_json::Value::Object(_)) => "a JSON object".to_owned(),
            Some(v) => format!(
                "JSON that is not an object: {}",
                excerpt(&redact_body(&v.to_string()), 80)
            ),
            None if self.body.trim().is_empty() => "an empty body".to_owned(),
            None => format!(
                "a {} body that is not JSON: {:?}",
                self.media_type()
                    .unwrap_or_else(|| "(no Content-Type)".to_owned()),
                excerpt(&redact_body(&self.body), 80)
            ),
        }
    }

    /// The body as a JSON object, or what it is instead (status and [`Self::body_kind`]),
    /// for a check that reads members.
    pub fn object(&self) -> Result<serde_json::Map<String, serde_json::Value>, String> {
        match self.json() {
            Some(serde_json::Value::Object(map)) => Ok(map),
            _ => Err(format!("{} with {}", self.status_text(), self.body_kind())),
        }
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
            s.push_str(&format!("  < {}\n", excerpt(&body, 400)));
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
pub(crate) fn tls_provider() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        // Fails only when another provider is already installed, which is fine.
        let _ = rustls::crypto::ring::default_provider().install_default();
    });
}

impl Http {
    /// A client with a per-request timeout that never follows redirects.
    pub fn new(timeout: Duration) -> Result<Self, reqwest::Error> {
        Self::build(timeout, false)
    }

    /// A client with its own cookie jar (for the login driver), same settings.
    pub fn with_cookies(timeout: Duration) -> Result<Self, reqwest::Error> {
        Self::build(timeout, true)
    }

    fn build(timeout: Duration, cookies: bool) -> Result<Self, reqwest::Error> {
        tls_provider();
        let client = reqwest::Client::builder()
            // API answers are inspected, never followed; the login driver follows
            // same-site redirects itself, a bounded number of times.
            .redirect(reqwest::redirect::Policy::none())
            // The whole request, body included: a target that drips bytes is cut off.
            .timeout(timeout)
            .connect_timeout(timeout.min(Duration::from_secs(5)))
            .cookie_store(cookies)
            .pool_max_idle_per_host(64)
            // Shorter than common server keep-alive timeouts (Node's is 5 s), so a pooled
            // connection is never reused just as the server closes it.
            .pool_idle_timeout(Duration::from_secs(2))
            .user_agent(concat!("oauth2-conformance/", env!("CARGO_PKG_VERSION")))
            .build()?;
        Ok(Self { client, timeout })
    }

    /// The timeout of every request.
    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    /// Sends a request and records the exchange: the body is read up to [`BODY_CAP`],
    /// and every failure is said in words (timed out, connection closed, not HTTP, body
    /// too big). The request waits for its slot under the run's rate cap, and a `429` or
    /// `503` with a `Retry-After` of at most the run's longest wait is waited out and
    /// sent once more (see [`pace`]); after the circuit breaker tripped, nothing is sent.
    pub async fn send(&self, out: Outgoing) -> Result<Exchange, SendError> {
        let pace = pace::current();
        if let Some(why) = pace.tripped() {
            return Err(SendError {
                method: out.method.to_string(),
                url: redact_url(&out.url),
                reason: format!("not sent: {why}"),
                unreachable: false,
            });
        }
        let lane = pace.lane().await;
        let first = self.send_once(&out, &pace).await;
        drop(lane);
        let first = first?;
        if matches!(first.status, 429 | 503) && !pace::throttle_observed() {
            let wait = first
                .header("retry-after")
                .and_then(|v| pace::retry_after_seconds(v, std::time::SystemTime::now()))
                .map(Duration::from_secs);
            if let Some(wait) = wait.filter(|w| *w <= pace.max_wait()) {
                pace.count_retry();
                tokio::time::sleep(wait).await;
                let _lane = pace.lane().await;
                return self.send_once(&out, &pace).await;
            }
        }
        Ok(first)
    }

    /// One request, no retry; tells `pace` whether an answer came.
    async fn send_once(&self, out: &Outgoing, pace: &pace::Pace) -> Result<Exchange, SendError> {
        let fail = |reason: String, unreachable: bool| SendError {
            method: out.method.to_string(),
            url: redact_url(&out.url),
            reason,
            unreachable,
        };
        let mut req = self.client.request(out.method.clone(), &out.url);
        let mut request_headers = Vec::new();
        for (k, v) in &out.headers {
            let name = HeaderName::from_bytes(k.as_bytes())
                .map_err(|e| fail(format!("bad header name: {e}"), false))?;
            let value = HeaderValue::from_str(v)
                .map_err(|e| fail(format!("bad header value: {e}"), false))?;
            req = req.header(name, value);
            let shown =
                if k.eq_ignore_ascii_case("authorization") || k.eq_ignore_ascii_case("cookie") {
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
            let reason = failure::reason(&e, self.timeout, None);
            pace.transport_failed(&reason);
            fail(reason, unreachable)
        })?;
        pace.answered();
        let status = resp.status().as_u16();
        let headers = resp.headers().clone();
        let media = headers
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("no Content-Type")
            .to_owned();
        if let Some(n) = resp.content_length().filter(|n| *n > BODY_CAP as u64) {
            return Err(fail(
                format!(
                    "response body over 1 MiB (status {status}, {media}, Content-Length {n}): not read"
                ),
                false,
            ));
        }
        let mut bytes = Vec::new();
        loop {
            match resp.chunk().await {
                Ok(Some(chunk)) => {
                    if bytes.len() + chunk.len() > BODY_CAP {
                        return Err(fail(
                            format!(
                                "response body over 1 MiB (status {status}, {media}): reading stopped there"
                            ),
                            false,
                        ));
                    }
                    bytes.extend_from_slice(&chunk);
                }
                Ok(None) => break,
                Err(e) => {
                    let e = e.without_url();
                    let reason = failure::reason(&e, self.timeout, Some(status));
                    pace.transport_failed(&reason);
                    return Err(fail(reason, false));
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
            received_at: std::time::Instant::now(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(status: u16, headers: &[(&'static str, &str)], body: &str) -> Exchange {
        let mut map = HeaderMap::new();
        for (k, v) in headers {
            map.insert(*k, HeaderValue::from_str(v).unwrap());
        }
        Exchange {
            method: "POST".into(),
            url: "http://as.example/token".into(),
            request_headers: Vec::new(),
            request_body: None,
            status,
            headers: map,
            body: body.into(),
            received_at: std::time::Instant::now(),
        }
    }

    /// A body that is not JSON is named by its media type and a short excerpt in which
    /// secret parameters are redacted.
    #[test]
    fn body_kind_names_the_media_type_and_redacts() {
        let html = answer(
            200,
            &[("content-type", "text/html; charset=utf-8")],
            "<p>Down</p>",
        );
        assert_eq!(
            html.body_kind(),
            "a text/html body that is not JSON: \"<p>Down</p>\""
        );
        let form = answer(200, &[], "access_token=s3cr3t-t0ken&token_type=bearer");
        let kind = form.body_kind();
        assert!(
            kind.contains("(no Content-Type)") && !kind.contains("s3cr3t"),
            "{kind}"
        );
        assert_eq!(answer(200, &[], " ").body_kind(), "an empty body");
        assert!(answer(200, &[], "[1]").object().is_err());
        assert!(answer(200, &[], "{\"a\":1}").object().is_ok());
    }

    /// A redirect says where it leads, with a code in its query redacted, and that it
    /// was not followed.
    #[test]
    fn status_text_of_a_redirect() {
        let x = answer(
            302,
            &[("location", "https://c.example/cb?code=s3cr3t-c0de")],
            "",
        );
        let text = x.status_text();
        assert!(text.starts_with("status 302 (a redirect to https://c.example/cb?code=[redacted]"));
        assert!(text.ends_with("not followed)"), "{text}");
        assert_eq!(answer(400, &[], "").status_text(), "status 400");
    }
}

//! A rewriting HTTP proxy in front of the bundled server: a test's [`Rule`] sees each
//! request and may change it or answer it itself, and may change each answer. It makes
//! a server that differs from the bundled one in one chosen way (stricter, looser, or
//! broken), without a switch in the server. It binds `127.0.0.1:0` only.

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use tokio::net::TcpListener;
use tokio::task::JoinHandle;
use warp::Filter as _;
use warp::http::{HeaderMap, Method, Response, StatusCode};
use warp::hyper::body::Bytes;

/// A request as the proxy received it.
#[derive(Debug, Clone)]
pub struct Req {
    /// The method.
    pub method: Method,
    /// The path.
    pub path: String,
    /// The raw query, without `?` (empty when there is none).
    pub query: String,
    /// The headers.
    pub headers: HeaderMap,
    /// The body.
    pub body: Vec<u8>,
}

impl Req {
    /// The form-encoded body's pairs.
    pub fn form(&self) -> Vec<(String, String)> {
        conformance::http::decode_pairs(&String::from_utf8_lossy(&self.body))
    }

    /// The query's pairs.
    pub fn query_pairs(&self) -> Vec<(String, String)> {
        conformance::http::decode_pairs(&self.query)
    }

    /// The first value of a form-body parameter.
    pub fn form_value(&self, name: &str) -> Option<String> {
        self.form()
            .into_iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v)
    }

    /// The first value of a query parameter.
    pub fn query_value(&self, name: &str) -> Option<String> {
        self.query_pairs()
            .into_iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v)
    }
}

/// An answer: from the server, or made by a rule.
#[derive(Debug, Clone)]
pub struct Resp {
    /// The status.
    pub status: u16,
    /// The headers, in order.
    pub headers: Vec<(String, String)>,
    /// The body.
    pub body: Vec<u8>,
    /// How long the proxy waits before it answers.
    pub delay: Duration,
}

impl Resp {
    /// A JSON answer.
    pub fn json(status: u16, body: &serde_json::Value) -> Self {
        Self {
            status,
            headers: vec![
                ("content-type".into(), "application/json".into()),
                ("cache-control".into(), "no-store".into()),
                ("pragma".into(), "no-cache".into()),
            ],
            body: body.to_string().into_bytes(),
            delay: Duration::ZERO,
        }
    }

    /// A 303 redirect to `location`.
    pub fn redirect(location: &str) -> Self {
        Self {
            status: 303,
            headers: vec![("location".into(), location.into())],
            body: Vec::new(),
            delay: Duration::ZERO,
        }
    }

    /// The first value of a header.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// Replaces every value of a header (removes it for `None`).
    pub fn set_header(&mut self, name: &str, value: Option<String>) {
        self.headers.retain(|(k, _)| !k.eq_ignore_ascii_case(name));
        if let Some(v) = value {
            self.headers.push((name.to_owned(), v));
        }
    }
}

/// What the proxy does with one request: `before` may change the request or answer it
/// (`Some`); `after` may change the server's answer.
pub trait Rule: Send + Sync + 'static {
    /// Before forwarding.
    fn before(&self, _req: &mut Req) -> Option<Resp> {
        None
    }
    /// After the server answered.
    fn after(&self, _req: &Req, _resp: &mut Resp) {}
}

/// A running proxy; dropping it stops it.
pub struct Proxy {
    task: JoinHandle<()>,
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Headers that belong to one connection, never forwarded.
const HOP: [&str; 5] = [
    "connection",
    "content-length",
    "transfer-encoding",
    "keep-alive",
    "host",
];

impl Proxy {
    /// Binds `127.0.0.1:0`; returns the listener's URL before anything is served, so
    /// the server behind can be told its issuer.
    pub async fn bind() -> std::io::Result<(TcpListener, String)> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let url = format!("http://{}", listener.local_addr()?);
        Ok((listener, url))
    }

    /// Serves on `listener`, forwarding to `upstream` through `rule`.
    pub fn serve(listener: TcpListener, upstream: String, rule: impl Rule) -> Self {
        let rule: Arc<dyn Rule> = Arc::new(rule);
        // reqwest needs a TLS provider even for plain http; the runner installs the same.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap_or_else(|_| reqwest::Client::new());
        let route = warp::method()
            .and(warp::path::full())
            .and(
                warp::query::raw()
                    .or(warp::any().map(String::new))
                    .unify(),
            )
            .and(warp::header::headers_cloned())
            .and(warp::body::bytes())
            .and_then(move |method, path: warp::path::FullPath, query, headers, body: Bytes| {
                let req = Req {
                    method,
                    path: path.as_str().to_owned(),
                    query,
                    headers,
                    body: body.to_vec(),
                };
                let (rule, client, upstream) = (rule.clone(), client.clone(), upstream.clone());
                async move { Ok::<_, Infallible>(handle(req, &*rule, &client, &upstream).await) }
            });
        let task = tokio::spawn(warp::serve(route).incoming(listener).run());
        Self { task }
    }
}

async fn handle(
    mut req: Req,
    rule: &dyn Rule,
    client: &reqwest::Client,
    upstream: &str,
) -> Response<Vec<u8>> {
    let resp = match rule.before(&mut req) {
        Some(r) => r,
        None => {
            let mut r = forward(&req, client, upstream).await;
            rule.after(&req, &mut r);
            r
        }
    };
    if !resp.delay.is_zero() {
        tokio::time::sleep(resp.delay).await;
    }
    let mut out = Response::builder()
        .status(StatusCode::from_u16(resp.status).unwrap_or(StatusCode::BAD_GATEWAY));
    for (k, v) in &resp.headers {
        out = out.header(k.as_str(), v.as_str());
    }
    out.body(resp.body).unwrap_or_else(|_| {
        let mut r = Response::new(Vec::new());
        *r.status_mut() = StatusCode::BAD_GATEWAY;
        r
    })
}

async fn forward(req: &Req, client: &reqwest::Client, upstream: &str) -> Resp {
    let url = if req.query.is_empty() {
        format!("{upstream}{}", req.path)
    } else {
        format!("{upstream}{}?{}", req.path, req.query)
    };
    let mut b = client.request(req.method.clone(), url);
    for (k, v) in &req.headers {
        if !HOP.contains(&k.as_str()) {
            b = b.header(k, v);
        }
    }
    if !req.body.is_empty() {
        b = b.body(req.body.clone());
    }
    match b.send().await {
        Ok(r) => {
            let status = r.status().as_u16();
            let headers = r
                .headers()
                .iter()
                .filter(|(k, _)| !HOP.contains(&k.as_str()))
                .map(|(k, v)| {
                    (
                        k.to_string(),
                        String::from_utf8_lossy(v.as_bytes()).into_owned(),
                    )
                })
                .collect();
            let body = r.bytes().await.map(|b| b.to_vec()).unwrap_or_default();
            Resp {
                status,
                headers,
                body,
                delay: Duration::ZERO,
            }
        }
        // A request target the proxy's client cannot express (`*`, a bad path): the
        // proxy refuses it as a server would, rather than blaming an upstream.
        Err(e) if e.is_builder() => Resp {
            status: 400,
            headers: vec![("content-type".into(), "text/plain".into())],
            body: b"proxy: a request target it cannot forward".to_vec(),
            delay: Duration::ZERO,
        },
        Err(e) => Resp {
            status: 502,
            headers: vec![("content-type".into(), "text/plain".into())],
            body: format!("proxy: {e}").into_bytes(),
            delay: Duration::ZERO,
        },
    }
}

//! The two ways test requests travel: raw HTTP/1.1 bytes over a kept-alive TCP
//! connection (for anything byte-level: invalid UTF-8, broken framing, odd header
//! bytes) and reqwest (for requests a normal client library can express).

use std::net::SocketAddr;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt as _, AsyncReadExt as _, AsyncWriteExt as _, BufReader};
use tokio::net::TcpStream;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

use crate::common::{Auth, form_encode};

/// Generous upper bound for one exchange, against hangs only.
const EXCHANGE_TIMEOUT: Duration = Duration::from_secs(30);

/// The longest request target the http crate represents (`u16::MAX - 1`); longer ones
/// are 414 from hyper, and reqwest cannot send them at all.
pub const MAX_URI: usize = 65_534;

/// A request ready to be written.
#[derive(Debug, Clone)]
pub struct WireRequest {
    /// The method token as sent.
    pub method: String,
    /// Path and query as sent on the request line.
    pub target: Vec<u8>,
    /// Header names and raw values (Host and the framing header are added on the wire).
    pub headers: Vec<(String, Vec<u8>)>,
    /// The body.
    pub body: Vec<u8>,
    /// Send the body with `Transfer-Encoding: chunked` instead of `Content-Length`.
    pub chunked: bool,
    /// Whole raw bytes sent instead of the above (framing garbage), on a fresh
    /// connection that is closed afterwards.
    pub garbage: Option<Vec<u8>>,
    /// Send through reqwest (only when [`WireRequest::reqwest_can_send`]).
    pub via_reqwest: bool,
}

impl WireRequest {
    /// Whether reqwest can express this request unchanged.
    pub fn reqwest_can_send(&self) -> bool {
        // reqwest normalises a path (dot segments, absolute form): only plain ones go.
        let path = self.target.split(|b| *b == b'?').next().unwrap_or_default();
        self.garbage.is_none()
            && self.target.len() < MAX_URI
            && path.starts_with(b"/")
            && !path.windows(2).any(|w| w == b"/.")
            && !self.chunked
            && reqwest::Method::from_bytes(self.method.as_bytes()).is_ok()
            && self
                .target
                .iter()
                .all(|b| b.is_ascii_graphic() && *b != b'#')
            && self.headers.iter().all(|(k, v)| {
                reqwest::header::HeaderName::from_bytes(k.as_bytes()).is_ok()
                    && reqwest::header::HeaderValue::from_bytes(v).is_ok()
                    && !k.eq_ignore_ascii_case("host")
                    && !k.eq_ignore_ascii_case("content-length")
                    && !k.eq_ignore_ascii_case("transfer-encoding")
                    && !k.eq_ignore_ascii_case("connection")
                    && !k.eq_ignore_ascii_case("expect")
            })
    }

    /// A GET of `target`.
    pub fn get(target: &str) -> Self {
        Self {
            method: "GET".into(),
            target: target.as_bytes().to_vec(),
            headers: Vec::new(),
            body: Vec::new(),
            chunked: false,
            garbage: None,
            via_reqwest: false,
        }
    }

    /// A form POST to `path`, authenticated as `auth` says (RFC 6749 §2.3).
    pub fn post_form(path: &str, auth: Auth<'_>, form: &[(&str, &str)]) -> Self {
        let mut form = form.to_vec();
        let mut headers = vec![(
            "content-type".to_owned(),
            b"application/x-www-form-urlencoded".to_vec(),
        )];
        match auth {
            Auth::Basic(id, secret) => {
                let credentials =
                    STANDARD.encode(format!("{}:{}", form_encode(id), form_encode(secret)));
                headers.push((
                    "authorization".into(),
                    format!("Basic {credentials}").into_bytes(),
                ));
            }
            Auth::Post(id, secret) => {
                form.push(("client_id", id));
                form.push(("client_secret", secret));
            }
            Auth::Public(id) => form.push(("client_id", id)),
            Auth::Nothing => {}
        }
        Self {
            method: "POST".into(),
            target: path.as_bytes().to_vec(),
            headers,
            body: crate::login::query(&form).into_bytes(),
            chunked: false,
            garbage: None,
            via_reqwest: false,
        }
    }

    /// Adds a header.
    pub fn header(mut self, name: &str, value: impl Into<Vec<u8>>) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// The raw HTTP/1.1 bytes of the request.
    pub fn to_bytes(&self) -> Vec<u8> {
        if let Some(g) = &self.garbage {
            return g.clone();
        }
        let mut out = Vec::with_capacity(self.body.len() + 512);
        out.extend_from_slice(self.method.as_bytes());
        out.push(b' ');
        out.extend_from_slice(&self.target);
        out.extend_from_slice(b" HTTP/1.1\r\nhost: 127.0.0.1\r\n");
        for (k, v) in &self.headers {
            out.extend_from_slice(k.as_bytes());
            out.extend_from_slice(b": ");
            out.extend_from_slice(v);
            out.extend_from_slice(b"\r\n");
        }
        if self.chunked {
            out.extend_from_slice(b"transfer-encoding: chunked\r\n\r\n");
            for chunk in self.body.chunks(4096) {
                out.extend_from_slice(format!("{:x}\r\n", chunk.len()).as_bytes());
                out.extend_from_slice(chunk);
                out.extend_from_slice(b"\r\n");
            }
            out.extend_from_slice(b"0\r\n\r\n");
        } else {
            if !self.body.is_empty() || self.method == "POST" || self.method == "PUT" {
                out.extend_from_slice(
                    format!("content-length: {}\r\n", self.body.len()).as_bytes(),
                );
            }
            out.extend_from_slice(b"\r\n");
            out.extend_from_slice(&self.body);
        }
        out
    }
}

/// A response as read, or the fact that none came.
#[derive(Debug, Clone, Default)]
pub struct WireResponse {
    /// The status (0 when the connection closed without a response).
    pub status: u16,
    /// Header names (lower-cased) and values.
    pub headers: Vec<(String, Vec<u8>)>,
    /// The body, de-chunked.
    pub body: Vec<u8>,
}

impl WireResponse {
    /// The single value of a header, as text.
    pub fn header(&self, name: &str) -> Option<String> {
        self.headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| String::from_utf8_lossy(v).into_owned())
    }

    /// How many times a header occurs.
    pub fn header_count(&self, name: &str) -> usize {
        self.headers.iter().filter(|(k, _)| k == name).count()
    }

    /// The body as JSON (`Null` when it is not).
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap_or_default()
    }

    /// The media type without parameters, lower-cased.
    pub fn media_type(&self) -> String {
        super::media_type_of(self.header("content-type"))
    }
}

/// One client connection: a raw socket (reopened when the server closes it) and a
/// reqwest client with its own pool.
pub struct Conn {
    addr: SocketAddr,
    raw: Option<BufReader<TcpStream>>,
    http: Option<reqwest::Client>,
}

impl Conn {
    /// A connection to the server at `addr` (opened lazily).
    pub fn new(addr: SocketAddr) -> Self {
        Self {
            addr,
            raw: None,
            http: None,
        }
    }

    /// Sends one request and reads its response.
    pub async fn send(&mut self, req: &WireRequest) -> WireResponse {
        let exchange = async {
            if req.via_reqwest && req.reqwest_can_send() {
                self.send_reqwest(req).await
            } else {
                self.send_raw(req).await
            }
        };
        tokio::time::timeout(EXCHANGE_TIMEOUT, exchange)
            .await
            .unwrap_or_else(|_| panic!("no answer within {EXCHANGE_TIMEOUT:?} to {req:?}"))
    }

    async fn send_reqwest(&mut self, req: &WireRequest) -> WireResponse {
        let method = reqwest::Method::from_bytes(req.method.as_bytes()).unwrap();
        let url = format!(
            "http://{}{}",
            self.addr,
            String::from_utf8_lossy(&req.target)
        );
        let mut sent = None;
        // Twice at most, as the raw path does: a kept-alive connection the server had
        // closed just as the request went out is no answer of the server's; once more
        // on a new connection.
        for _ in 0..2 {
            let reused = self.http.is_some();
            let http = self.http.get_or_insert_with(|| {
                reqwest::Client::builder()
                    .redirect(reqwest::redirect::Policy::none())
                    .timeout(EXCHANGE_TIMEOUT)
                    .pool_max_idle_per_host(1)
                    .build()
                    .unwrap()
            });
            let mut rb = http
                .request(method.clone(), url.clone())
                .body(req.body.clone());
            for (k, v) in &req.headers {
                rb = rb.header(
                    k.as_str(),
                    reqwest::header::HeaderValue::from_bytes(v).unwrap(),
                );
            }
            let r = rb.send().await;
            if r.is_err() && reused {
                self.http = None;
                continue;
            }
            sent = Some(r);
            break;
        }
        let Some(sent) = sent else {
            return WireResponse::default();
        };
        match sent {
            Ok(r) => {
                let status = r.status().as_u16();
                let headers = r
                    .headers()
                    .iter()
                    .map(|(k, v)| (k.as_str().to_owned(), v.as_bytes().to_vec()))
                    .collect();
                let body = r.bytes().await.map(|b| b.to_vec()).unwrap_or_default();
                WireResponse {
                    status,
                    headers,
                    body,
                }
            }
            Err(_) => WireResponse::default(),
        }
    }

    async fn send_raw(&mut self, req: &WireRequest) -> WireResponse {
        let fresh = req.garbage.is_some();
        let bytes = req.to_bytes();
        let head_only = req.method == "HEAD";
        let mut reused = !fresh && self.raw.is_some();
        let read = loop {
            if fresh || self.raw.is_none() {
                // A refused connection (a server that is gone) is no answer: status 0.
                self.raw = TcpStream::connect(self.addr).await.ok().map(BufReader::new);
            }
            let Some(stream) = self.raw.as_mut() else {
                return WireResponse::default();
            };
            // The server may answer (413) and close before reading everything: a failed
            // write is no failure as long as a response comes.
            let _ = stream.get_mut().write_all(&bytes).await;
            let read = read_response(stream, head_only).await;
            if read.is_none() && reused {
                // A kept-alive connection the server had already closed: once more on a
                // new one.
                self.raw = None;
                reused = false;
                continue;
            }
            break read;
        };
        let keep = !fresh
            && read
                .as_ref()
                .is_some_and(|(r, close)| r.status != 0 && !close);
        if !keep {
            self.raw = None;
        }
        read.map(|(r, _)| r).unwrap_or_default()
    }
}

/// Reads one response (skipping 1xx); `None` when the connection ends first. The flag
/// says whether the connection must be closed afterwards.
async fn read_response(
    stream: &mut BufReader<TcpStream>,
    head_only: bool,
) -> Option<(WireResponse, bool)> {
    loop {
        let mut line = Vec::new();
        if stream.read_until(b'\n', &mut line).await.ok()? == 0 {
            return None;
        }
        let status: u16 = std::str::from_utf8(&line)
            .ok()?
            .split(' ')
            .nth(1)?
            .parse()
            .ok()?;
        let mut headers = Vec::new();
        loop {
            let mut h = Vec::new();
            if stream.read_until(b'\n', &mut h).await.ok()? == 0 {
                return None;
            }
            let h = h.strip_suffix(b"\r\n").unwrap_or(&h);
            if h.is_empty() {
                break;
            }
            let i = h.iter().position(|b| *b == b':')?;
            let name = String::from_utf8_lossy(&h[..i]).to_ascii_lowercase();
            let value = h[i + 1..].trim_ascii().to_vec();
            headers.push((name, value));
        }
        if (100..200).contains(&status) {
            continue;
        }
        let mut r = WireResponse {
            status,
            headers,
            body: Vec::new(),
        };
        let close = r
            .header("connection")
            .is_some_and(|c| c.eq_ignore_ascii_case("close"));
        if head_only || status == 204 || status == 304 {
            return Some((r, close));
        }
        if r.header("transfer-encoding")
            .is_some_and(|t| t.eq_ignore_ascii_case("chunked"))
        {
            loop {
                let mut size = Vec::new();
                stream.read_until(b'\n', &mut size).await.ok()?;
                let size = std::str::from_utf8(&size).ok()?.trim();
                let size = usize::from_str_radix(size.split(';').next()?, 16).ok()?;
                let mut chunk = vec![0; size + 2];
                stream.read_exact(&mut chunk).await.ok()?;
                if size == 0 {
                    break;
                }
                r.body.extend_from_slice(&chunk[..size]);
            }
            return Some((r, close));
        }
        match r
            .header("content-length")
            .and_then(|l| l.parse::<usize>().ok())
        {
            Some(n) => {
                let mut body = vec![0; n];
                stream.read_exact(&mut body).await.ok()?;
                r.body = body;
                return Some((r, close));
            }
            None => {
                stream.read_to_end(&mut r.body).await.ok()?;
                return Some((r, true));
            }
        }
    }
}

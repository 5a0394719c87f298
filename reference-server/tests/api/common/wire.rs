//! The two ways test requests travel: raw HTTP/1.1 bytes over a kept-alive TCP
//! connection (for anything byte-level: invalid UTF-8, broken framing, odd header
//! bytes) and reqwest (for requests a normal client library can express).

use std::net::SocketAddr;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt as _, AsyncReadExt as _, AsyncWriteExt as _, BufReader};
use tokio::net::TcpStream;

/// Generous upper bound for one exchange, against hangs only.
const EXCHANGE_TIMEOUT: Duration = Duration::from_secs(30);

#[allow(unused_imports)] // MAX_URI: only the SQLite binary's fuzz test uses it
pub use oauth2_fuzz::wire::{MAX_URI, Request as WireRequest, Response as WireResponse};

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
            if req.via_reqwest && req.library_can_send() {
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

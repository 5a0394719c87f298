//! Raw HTTP/1.1 over TCP or TLS: generated requests go out byte for byte (a client
//! library would refuse or normalise most of them), and answers are read with limits,
//! so a target that hangs, drips or spews garbage costs one timeout and no memory.

use std::sync::Arc;
use std::time::Duration;

use tokio::io::{
    AsyncBufReadExt as _, AsyncRead, AsyncReadExt as _, AsyncWrite, AsyncWriteExt as _, BufReader,
};
use tokio::net::TcpStream;

/// The most of a response body read; the rest is cut off.
const BODY_LIMIT: usize = 1 << 20;
/// The most of a status line or header line read.
const LINE_LIMIT: usize = 64 * 1024;

trait Io: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Io for T {}

/// Where requests go: scheme, host and port of one origin.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Origin {
    /// Whether TLS is used.
    pub tls: bool,
    /// Host name or address (no brackets).
    pub host: String,
    /// Port.
    pub port: u16,
}

impl Origin {
    /// The origin of an absolute `http://` or `https://` URL and its request target
    /// (path and query, `/` when empty).
    pub fn split(url: &str) -> Option<(Origin, String)> {
        let (tls, rest) = if let Some(r) = url.strip_prefix("https://") {
            (true, r)
        } else {
            (false, url.strip_prefix("http://")?)
        };
        let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
        let (authority, target) = rest.split_at(end);
        let target = target.split('#').next().unwrap_or_default();
        let authority = authority.rsplit('@').next().unwrap_or(authority);
        let (host, port) = if let Some(v6) = authority.strip_prefix('[') {
            let (h, p) = v6.split_once(']')?;
            (h.to_owned(), p.strip_prefix(':').map(str::to_owned))
        } else {
            match authority.rsplit_once(':') {
                Some((h, p)) => (h.to_owned(), Some(p.to_owned())),
                None => (authority.to_owned(), None),
            }
        };
        let port = match port {
            Some(p) => p.parse().ok()?,
            None if tls => 443,
            None => 80,
        };
        let target = if target.is_empty() {
            "/".to_owned()
        } else if target.starts_with('?') {
            format!("/{target}")
        } else {
            target.to_owned()
        };
        Some((Origin { tls, host, port }, target))
    }

    /// The Host header's value.
    pub fn host_header(&self) -> String {
        let host = if self.host.contains(':') {
            format!("[{}]", self.host)
        } else {
            self.host.clone()
        };
        let default = if self.tls { 443 } else { 80 };
        if self.port == default {
            host
        } else {
            format!("{host}:{}", self.port)
        }
    }

    /// `scheme://host[:port]`.
    pub fn url(&self) -> String {
        format!(
            "{}://{}",
            if self.tls { "https" } else { "http" },
            self.host_header()
        )
    }
}

pub use oauth2_fuzz::wire::Response;

/// What came back.
#[derive(Debug, Clone)]
pub enum Answer {
    /// A response.
    Response(Response),
    /// The connection closed before a complete response.
    Closed,
    /// No complete response within the timeout.
    TimedOut,
    /// The bytes that came back are not an HTTP/1.1 response.
    NotHttp(String),
    /// No connection could be made.
    Unreachable(String),
}

impl Answer {
    /// The response, if one came.
    pub fn response(&self) -> Option<&Response> {
        match self {
            Self::Response(r) => Some(r),
            _ => None,
        }
    }

    /// One line for a report.
    pub fn describe(&self, timeout: Duration) -> String {
        match self {
            Self::Response(r) => {
                let body = String::from_utf8_lossy(&r.body);
                let body: String = body.chars().take(300).collect();
                format!(
                    "{} ({}) {body:?}",
                    r.status,
                    r.header("content-type")
                        .unwrap_or_else(|| "no content type".into())
                )
            }
            Self::Closed => "the connection closed without a complete answer".into(),
            Self::TimedOut => format!("no complete answer within {} s", timeout.as_secs_f64()),
            Self::NotHttp(why) => format!("an answer that is not HTTP/1.1 ({why})"),
            Self::Unreachable(why) => format!("no connection ({why})"),
        }
    }
}

/// One connection to an origin, reopened when the target closes it.
pub struct Conn {
    origin: Origin,
    tls: Option<Arc<tokio_rustls::TlsConnector>>,
    stream: Option<BufReader<Box<dyn Io>>>,
    timeout: Duration,
}

/// A TLS connector that checks certificates as the platform does.
pub fn tls_connector() -> Result<Arc<tokio_rustls::TlsConnector>, String> {
    use rustls_platform_verifier::ConfigVerifierExt as _;
    crate::http::tls_provider();
    let config = rustls::ClientConfig::with_platform_verifier()
        .map_err(|e| format!("TLS set-up failed: {e}"))?;
    Ok(Arc::new(tokio_rustls::TlsConnector::from(Arc::new(config))))
}

impl Conn {
    /// A connection (opened lazily).
    pub fn new(
        origin: Origin,
        tls: Option<Arc<tokio_rustls::TlsConnector>>,
        timeout: Duration,
    ) -> Self {
        Self {
            origin,
            tls,
            stream: None,
            timeout,
        }
    }

    async fn open(&self) -> Result<BufReader<Box<dyn Io>>, String> {
        let tcp = TcpStream::connect((self.origin.host.as_str(), self.origin.port))
            .await
            .map_err(|e| e.to_string())?;
        let _ = tcp.set_nodelay(true);
        if !self.origin.tls {
            return Ok(BufReader::new(Box::new(tcp)));
        }
        let connector = self.tls.clone().ok_or("no TLS connector")?;
        let name = rustls::pki_types::ServerName::try_from(self.origin.host.clone())
            .map_err(|e| format!("{}: {e}", self.origin.host))?;
        let tls = connector
            .connect(name, tcp)
            .await
            .map_err(|e| e.to_string())?;
        Ok(BufReader::new(Box::new(tls)))
    }

    /// Sends raw request bytes and reads the answer. `fresh`: on a new connection,
    /// closed afterwards (framing garbage). `head`: the answer has no body.
    pub async fn send(&mut self, bytes: &[u8], fresh: bool, head: bool) -> Answer {
        let timeout = self.timeout;
        match tokio::time::timeout(timeout, self.exchange(bytes, fresh, head)).await {
            Ok(a) => a,
            Err(_) => {
                self.stream = None;
                Answer::TimedOut
            }
        }
    }

    async fn exchange(&mut self, bytes: &[u8], fresh: bool, head: bool) -> Answer {
        let mut reused = !fresh && self.stream.is_some();
        loop {
            if fresh || self.stream.is_none() {
                match self.open().await {
                    Ok(s) => self.stream = Some(s),
                    Err(e) => return Answer::Unreachable(e),
                }
            }
            let Some(stream) = self.stream.as_mut() else {
                return Answer::Closed;
            };
            // The target may answer (413) and close before reading everything: a failed
            // write is no failure as long as a response comes.
            let _ = stream.get_mut().write_all(bytes).await;
            let _ = stream.get_mut().flush().await;
            let read = read_response(stream, head).await;
            match read {
                Err(Read::Closed) if reused => {
                    // A kept-alive connection the target had already closed: once more
                    // on a new one.
                    self.stream = None;
                    reused = false;
                }
                Err(Read::Closed) => {
                    self.stream = None;
                    return Answer::Closed;
                }
                Err(Read::NotHttp(why)) => {
                    self.stream = None;
                    return Answer::NotHttp(why);
                }
                Ok((r, close)) => {
                    if fresh || close {
                        self.stream = None;
                    }
                    return Answer::Response(r);
                }
            }
        }
    }
}

enum Read {
    Closed,
    NotHttp(String),
}

async fn line<R: AsyncRead + Unpin>(stream: &mut BufReader<R>) -> Result<Vec<u8>, Read> {
    let mut out = Vec::new();
    let n = (&mut *stream)
        .take(LINE_LIMIT as u64)
        .read_until(b'\n', &mut out)
        .await
        .map_err(|_| Read::Closed)?;
    if n == 0 {
        return Err(Read::Closed);
    }
    if !out.ends_with(b"\n") {
        return Err(if out.len() >= LINE_LIMIT {
            Read::NotHttp("a line over 64 KiB".into())
        } else {
            Read::Closed
        });
    }
    Ok(out)
}

/// Reads one response (skipping 1xx); the flag says whether the connection must be
/// closed afterwards.
async fn read_response<R: AsyncRead + Unpin>(
    stream: &mut BufReader<R>,
    head: bool,
) -> Result<(Response, bool), Read> {
    loop {
        let status_line = line(stream).await?;
        let text = String::from_utf8_lossy(&status_line);
        let mut parts = text.split(' ');
        let version = parts.next().unwrap_or_default();
        let status = parts.next().and_then(|s| s.trim().parse::<u16>().ok());
        let (true, Some(status)) = (version.starts_with("HTTP/1."), status) else {
            let shown: String = text.chars().take(60).collect();
            return Err(Read::NotHttp(format!("status line {shown:?}")));
        };
        let mut headers = Vec::new();
        loop {
            let h = line(stream).await?;
            let h = h
                .strip_suffix(b"\r\n")
                .or_else(|| h.strip_suffix(b"\n"))
                .unwrap_or(&h);
            if h.is_empty() {
                break;
            }
            if headers.len() > 500 {
                return Err(Read::NotHttp("over 500 header lines".into()));
            }
            let Some(i) = h.iter().position(|b| *b == b':') else {
                return Err(Read::NotHttp("a header line without a colon".into()));
            };
            let name = String::from_utf8_lossy(&h[..i]).to_ascii_lowercase();
            headers.push((name, h[i + 1..].trim_ascii().to_vec()));
        }
        if (100..200).contains(&status) {
            continue;
        }
        let mut r = Response {
            status,
            headers,
            body: Vec::new(),
        };
        let close = r
            .header("connection")
            .is_some_and(|c| c.eq_ignore_ascii_case("close"));
        if head || status == 204 || status == 304 {
            return Ok((r, close));
        }
        if r.header("transfer-encoding")
            .is_some_and(|t| t.to_ascii_lowercase().contains("chunked"))
        {
            loop {
                let size = line(stream).await?;
                let size = String::from_utf8_lossy(&size);
                let size = size.trim().split(';').next().unwrap_or_default().to_owned();
                let Ok(size) = usize::from_str_radix(&size, 16) else {
                    return Err(Read::NotHttp("a broken chunk size".into()));
                };
                if size == 0 {
                    // Trailers, up to the empty line.
                    loop {
                        if line(stream).await?.trim_ascii().is_empty() {
                            break;
                        }
                    }
                    return Ok((r, close));
                }
                if r.body.len() + size > BODY_LIMIT {
                    // Enough read to judge; the connection cannot be reused.
                    let take = BODY_LIMIT - r.body.len();
                    let mut chunk = vec![0; take];
                    stream
                        .read_exact(&mut chunk)
                        .await
                        .map_err(|_| Read::Closed)?;
                    r.body.extend_from_slice(&chunk);
                    return Ok((r, true));
                }
                let mut chunk = vec![0; size + 2];
                stream
                    .read_exact(&mut chunk)
                    .await
                    .map_err(|_| Read::Closed)?;
                r.body.extend_from_slice(&chunk[..size]);
            }
        }
        match r
            .header("content-length")
            .map(|l| l.trim().parse::<usize>())
        {
            Some(Ok(n)) => {
                let mut body = vec![0; n.min(BODY_LIMIT)];
                stream
                    .read_exact(&mut body)
                    .await
                    .map_err(|_| Read::Closed)?;
                r.body = body;
                return Ok((r, close || n > BODY_LIMIT));
            }
            Some(Err(_)) => return Err(Read::NotHttp("a Content-Length that is no number".into())),
            None => {
                (&mut *stream)
                    .take(BODY_LIMIT as u64)
                    .read_to_end(&mut r.body)
                    .await
                    .map_err(|_| Read::Closed)?;
                return Ok((r, true));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origins() {
        let (o, t) =
            Origin::split("https://as.example/oauth/token?x=1#f").unwrap_or_else(|| panic!());
        assert_eq!(
            (o.tls, o.host.as_str(), o.port, t.as_str()),
            (true, "as.example", 443, "/oauth/token?x=1")
        );
        assert_eq!(o.host_header(), "as.example");
        let (o, t) = Origin::split("http://127.0.0.1:8080").unwrap_or_else(|| panic!());
        assert_eq!(
            (o.port, t.as_str(), o.host_header()),
            (8080, "/", "127.0.0.1:8080".to_owned())
        );
        let (o, _) = Origin::split("http://[::1]:9/x").unwrap_or_else(|| panic!());
        assert_eq!(
            (o.host.as_str(), o.host_header()),
            ("::1", "[::1]:9".to_owned())
        );
        assert!(Origin::split("ftp://x").is_none());
    }
}

//! A misbehaving HTTP/1.1 server on raw TCP: one [`Mode`] per way a broken target can
//! answer, for the runner to be run against. It binds `127.0.0.1:0` only.

use std::net::SocketAddr;
use std::time::Duration;

use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::{JoinHandle, JoinSet};

/// How the server misbehaves, on every path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Reads the request and never answers (until the client goes away).
    Hang,
    /// Closes each connection as soon as it is accepted.
    CloseAtOnce,
    /// Sends the head and half of the promised body, then closes.
    CloseMidBody,
    /// Answers bytes that are not HTTP.
    Garbage,
    /// 200 with `Content-Length` of 10 MB and a JSON-looking body.
    HugeJson,
    /// 200, chunked, 10 MB of random bytes.
    HugeChunked,
    /// 200 `text/html` where JSON is expected.
    Html,
    /// 302 to the very same URL.
    RedirectSelf,
    /// 302 back and forth between two paths.
    RedirectPingPong,
    /// The head at once, then the body one byte per second.
    SlowDrip,
    /// A `Content-Length` that is not a number.
    BadLength,
    /// `429 Too Many Requests` with `Retry-After: 1` to everything.
    Throttled,
}

impl Mode {
    /// Every mode.
    pub const ALL: [Mode; 12] = [
        Mode::Hang,
        Mode::CloseAtOnce,
        Mode::CloseMidBody,
        Mode::Garbage,
        Mode::HugeJson,
        Mode::HugeChunked,
        Mode::Html,
        Mode::RedirectSelf,
        Mode::RedirectPingPong,
        Mode::SlowDrip,
        Mode::BadLength,
        Mode::Throttled,
    ];

    /// Whether every request to this server fails below HTTP (no answer, or not one
    /// that can be read): the circuit breaker stops a whole run against it.
    pub fn transport_fails(self) -> bool {
        matches!(
            self,
            Mode::Hang
                | Mode::CloseAtOnce
                | Mode::CloseMidBody
                | Mode::Garbage
                | Mode::SlowDrip
                | Mode::BadLength
        )
    }
}

/// Ten megabytes, the size of the huge bodies.
const HUGE: usize = 10 * 1000 * 1000;
/// Longest request head read before the server answers anyway.
const HEAD_CAP: usize = 64 * 1024;

/// A running misbehaving server; dropping it stops it and every connection.
pub struct BadServer {
    addr: SocketAddr,
    task: JoinHandle<()>,
}

impl Drop for BadServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl BadServer {
    /// Binds `127.0.0.1:0` and serves `mode` until dropped.
    pub async fn start(mode: Mode) -> std::io::Result<Self> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let task = tokio::spawn(async move {
            // Owned by the accept loop: aborting it drops the set, which aborts every
            // connection task still running.
            let mut connections = JoinSet::new();
            while let Ok((stream, _)) = listener.accept().await {
                connections.spawn(serve(stream, mode));
                while connections.try_join_next().is_some() {}
            }
        });
        Ok(Self { addr, task })
    }

    /// `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }
}

/// Reads a request head (and a body of the announced length); returns the path with
/// its query.
async fn read_request(stream: &mut TcpStream) -> Option<String> {
    let mut buf = Vec::new();
    let mut chunk = [0_u8; 4096];
    let end = loop {
        let n = stream.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
        if buf.len() > HEAD_CAP {
            break buf.len();
        }
    };
    let head = String::from_utf8_lossy(&buf[..end]).into_owned();
    let length: usize = head
        .lines()
        .filter_map(|l| l.split_once(':'))
        .find(|(k, _)| k.trim().eq_ignore_ascii_case("content-length"))
        .and_then(|(_, v)| v.trim().parse().ok())
        .unwrap_or(0);
    let mut have = buf.len() - end;
    while have < length {
        let n = stream.read(&mut chunk).await.ok()?;
        if n == 0 {
            break;
        }
        have += n;
    }
    let path = head.split_whitespace().nth(1).unwrap_or("/").to_owned();
    Some(path)
}

/// Pseudo-random bytes (xorshift), enough to look like noise.
fn noise(seed: &mut u64, out: &mut [u8]) {
    for b in out {
        *seed ^= *seed << 13;
        *seed ^= *seed >> 7;
        *seed ^= *seed << 17;
        *b = seed.to_le_bytes()[0];
    }
}

async fn serve(mut stream: TcpStream, mode: Mode) {
    if mode == Mode::CloseAtOnce {
        return;
    }
    let Some(path) = read_request(&mut stream).await else {
        return;
    };
    // Write errors mean the client stopped listening, which is its right.
    let _ = answer(&mut stream, mode, &path).await;
}

async fn answer(stream: &mut TcpStream, mode: Mode, path: &str) -> std::io::Result<()> {
    match mode {
        Mode::CloseAtOnce => Ok(()),
        Mode::Hang => {
            // Holds the connection, answering nothing, until the client closes it.
            let mut sink = [0_u8; 1024];
            while stream.read(&mut sink).await? > 0 {}
            Ok(())
        }
        Mode::CloseMidBody => {
            stream
                .write_all(b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 400\r\n\r\n{\"access_token\":\"abc")
                .await?;
            stream.flush().await
        }
        Mode::Garbage => {
            let mut bytes = [0_u8; 512];
            noise(&mut 0x9e37_79b9_7f4a_7c15, &mut bytes);
            stream.write_all(b"\x16\x03\x01garbage\0\xff").await?;
            stream.write_all(&bytes).await?;
            stream.shutdown().await
        }
        Mode::HugeJson => {
            let head = format!(
                "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {HUGE}\r\nconnection: close\r\n\r\n"
            );
            stream.write_all(head.as_bytes()).await?;
            let open = b"{\"access_token\":\"";
            stream.write_all(open).await?;
            let filler = vec![b'a'; 64 * 1024];
            let mut left = HUGE - open.len() - 2;
            while left > 0 {
                let n = left.min(filler.len());
                stream.write_all(&filler[..n]).await?;
                left -= n;
            }
            stream.write_all(b"\"}").await
        }
        Mode::HugeChunked => {
            stream
                .write_all(b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\nconnection: close\r\n\r\n")
                .await?;
            // One block of noise, sent again and again: cheap, so that hundreds of
            // connections at once still reach the client's cap rather than its timeout.
            let mut chunk = vec![0_u8; 64 * 1024];
            noise(&mut 0x2545_f491_4f6c_dd1d, &mut chunk);
            let mut sent = 0;
            while sent < HUGE {
                stream
                    .write_all(format!("{:x}\r\n", chunk.len()).as_bytes())
                    .await?;
                stream.write_all(&chunk).await?;
                stream.write_all(b"\r\n").await?;
                sent += chunk.len();
            }
            stream.write_all(b"0\r\n\r\n").await
        }
        Mode::Throttled => {
            let body = "{\"error\":\"slow_down\"}";
            let head = format!(
                "HTTP/1.1 429 Too Many Requests\r\ncontent-type: application/json\r\nretry-after: 1\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
                body.len()
            );
            stream.write_all(head.as_bytes()).await?;
            stream.write_all(body.as_bytes()).await
        }
        Mode::Html => {
            let body = "<!doctype html><html><head><title>Maintenance</title></head>\
                        <body><h1>Down for maintenance</h1><p>Back soon.</p></body></html>";
            let head = format!(
                "HTTP/1.1 200 OK\r\ncontent-type: text/html; charset=utf-8\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
                body.len()
            );
            stream.write_all(head.as_bytes()).await?;
            stream.write_all(body.as_bytes()).await
        }
        Mode::RedirectSelf | Mode::RedirectPingPong => {
            let (bare, query) = path.split_once('?').map_or((path, ""), |(p, q)| (p, q));
            let to = if mode == Mode::RedirectSelf {
                bare.to_owned()
            } else if let Some(p) = bare.strip_suffix("/pong") {
                p.to_owned()
            } else {
                format!("{}/pong", bare.trim_end_matches('/'))
            };
            let to = if query.is_empty() {
                to
            } else {
                format!("{to}?{query}")
            };
            let head = format!(
                "HTTP/1.1 302 Found\r\nlocation: {to}\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"
            );
            stream.write_all(head.as_bytes()).await
        }
        Mode::SlowDrip => {
            stream
                .write_all(b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 100\r\n\r\n")
                .await?;
            for b in b"{\"access_token\":\"dripping-slowly\"}".iter().cycle().take(100) {
                stream.write_all(&[*b]).await?;
                stream.flush().await?;
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
            Ok(())
        }
        Mode::BadLength => {
            stream
                .write_all(b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: ten\r\nconnection: close\r\n\r\n{\"error\":\"invalid_request\"}")
                .await
        }
    }
}

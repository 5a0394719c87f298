//! Load generator for `scripts/bench`: drives a running reference server over loopback
//! at a fixed concurrency, one endpoint at a time, and prints requests/s, p50, p99 and
//! errors per endpoint (and the same as JSON). Stateful flows (refresh rotation,
//! revocation of fresh tokens, the authorization code + PKCE flow) keep their own state.
//!
//! It speaks plain HTTP/1.1 with keep-alive over one TCP connection per simulated client
//! and runs on one thread by default (like `wrk -t1`), so that on a small machine it
//! takes as little CPU from the server as it can.
//!
//! Usage: bench URL[,URL...] [--seconds N] [--concurrency N] [--threads N] [--json PATH]
//!              [--only me,client_credentials,refresh,introspect,revoke,password,code_flow]
//!        bench URL --issue N      (insert N client_credentials tokens)
//!        bench URL,URL --propagation N [--json PATH]
//!                                 (revocation at the first replica -> refused at the
//!                                  second: N samples under /api/me load, p50 and p99)
//!        bench --bcrypt COST      (median time of one verification, ms)
//!
//! With several URLs (replicas of one server) the simulated clients are spread over
//! them, client i on replica i mod n.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use sha2::{Digest as _, Sha256};
use tokio::io::{AsyncBufReadExt as _, AsyncReadExt as _, AsyncWriteExt as _, BufReader};
use tokio::net::TcpStream;
use tokio::sync::Mutex;

const BASIC: (&str, &str) = ("basic-client", "basic-client-secret-0123456789");
const PUBLIC: &str = "public-client";
const REDIRECT: &str = "http://127.0.0.1/callback";
const USER: (&str, &str) = ("alice@example.com", "alice-correct-horse");

#[derive(serde::Serialize, Clone)]
struct Row {
    endpoint: String,
    requests: u64,
    errors: u64,
    rps: f64,
    p50_ms: f64,
    p99_ms: f64,
}

/// One keep-alive HTTP/1.1 connection.
struct Conn {
    addr: SocketAddr,
    io: Option<BufReader<TcpStream>>,
}

/// A response: status, the headers asked about, body.
struct Resp {
    status: u16,
    location: Option<String>,
    cookies: Vec<String>,
    body: Vec<u8>,
}

impl Resp {
    fn text(&self) -> &str {
        std::str::from_utf8(&self.body).unwrap_or("")
    }

    fn field(&self, name: &str) -> Option<String> {
        serde_json::from_slice::<serde_json::Value>(&self.body)
            .ok()?
            .get(name)?
            .as_str()
            .map(str::to_owned)
    }
}

impl Conn {
    fn new(addr: SocketAddr) -> Self {
        Self { addr, io: None }
    }

    async fn send(&mut self, req: &[u8]) -> std::io::Result<Resp> {
        let r = self.exchange(req).await;
        if r.is_err() {
            self.io = None;
        }
        r
    }

    async fn exchange(&mut self, req: &[u8]) -> std::io::Result<Resp> {
        if self.io.is_none() {
            let s = TcpStream::connect(self.addr).await?;
            s.set_nodelay(true)?;
            self.io = Some(BufReader::new(s));
        }
        let io = self.io.as_mut().expect("connected above");
        io.get_mut().write_all(req).await?;
        let mut line = String::new();
        io.read_line(&mut line).await?;
        let status: u16 = line
            .split(' ')
            .nth(1)
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| std::io::Error::other(format!("bad status line {line:?}")))?;
        let (mut length, mut close) = (0usize, false);
        let (mut location, mut cookies) = (None, Vec::new());
        loop {
            line.clear();
            if io.read_line(&mut line).await? == 0 {
                return Err(std::io::Error::other("connection closed in the headers"));
            }
            let l = line.trim_end();
            if l.is_empty() {
                break;
            }
            let Some((k, v)) = l.split_once(':') else {
                continue;
            };
            let v = v.trim();
            match k.to_ascii_lowercase().as_str() {
                "content-length" => length = v.parse().map_err(std::io::Error::other)?,
                "connection" => close = v.eq_ignore_ascii_case("close"),
                "location" => location = Some(v.to_owned()),
                "set-cookie" => cookies.push(v.split(';').next().unwrap_or("").to_owned()),
                "transfer-encoding" => return Err(std::io::Error::other("chunked response")),
                _ => {}
            }
        }
        let mut body = vec![0; length];
        io.read_exact(&mut body).await?;
        if close {
            self.io = None;
        }
        Ok(Resp {
            status,
            location,
            cookies,
            body,
        })
    }
}

/// The bytes of a request.
fn request(method: &str, path: &str, headers: &[(&str, &str)], body: &str) -> Vec<u8> {
    let mut r = format!("{method} {path} HTTP/1.1\r\nHost: bench\r\n");
    for (k, v) in headers {
        r.push_str(&format!("{k}: {v}\r\n"));
    }
    if method == "POST" {
        r.push_str("Content-Type: application/x-www-form-urlencoded\r\n");
        r.push_str(&format!("Content-Length: {}\r\n", body.len()));
    }
    r.push_str("\r\n");
    r.push_str(body);
    r.into_bytes()
}

fn basic() -> String {
    format!(
        "Basic {}",
        STANDARD.encode(format!("{}:{}", BASIC.0, BASIC.1))
    )
}

fn encode(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                char::from(b).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

fn form(pairs: &[(&str, &str)]) -> String {
    pairs
        .iter()
        .map(|(k, v)| format!("{k}={}", encode(v)))
        .collect::<Vec<_>>()
        .join("&")
}

fn random43() -> String {
    let mut b = [0u8; 32];
    let _ = getrandom::fill(&mut b);
    URL_SAFE_NO_PAD.encode(b)
}

/// A token request by basic-client.
fn token_request(pairs: &[(&str, &str)]) -> Vec<u8> {
    request(
        "POST",
        "/oauth/token",
        &[("Authorization", &basic())],
        &form(pairs),
    )
}

async fn password_tokens(addr: SocketAddr) -> (String, String) {
    let r = Conn::new(addr)
        .send(&token_request(&[
            ("grant_type", "password"),
            ("username", USER.0),
            ("password", USER.1),
        ]))
        .await
        .unwrap();
    (
        r.field("access_token")
            .unwrap_or_else(|| panic!("no token: {}", r.text())),
        r.field("refresh_token").unwrap(),
    )
}

/// What one run drives.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Me,
    ClientCredentials,
    Refresh,
    Introspect,
    Revoke,
    Password,
    CodeFlow,
}

impl Kind {
    fn label(self) -> &'static str {
        match self {
            Kind::Me => "GET /api/me",
            Kind::ClientCredentials => "client_credentials grant",
            Kind::Refresh => "refresh_token grant",
            Kind::Introspect => "introspection",
            Kind::Revoke => "revocation",
            Kind::Password => "password grant",
            Kind::CodeFlow => "authorization code + PKCE flow",
        }
    }
}

/// State shared by the workers of a run.
struct Shared {
    access: String,
    /// Tokens from the client_credentials run, revoked by the revocation run.
    issued: Mutex<Vec<String>>,
    /// One rotating refresh-token chain per worker.
    chains: Vec<Mutex<String>>,
}

/// One unit of work on a worker's connection; whether it succeeded.
async fn step(kind: Kind, c: &mut Conn, worker: usize, sh: &Shared, fixed: &[u8]) -> bool {
    match kind {
        Kind::Me | Kind::Introspect | Kind::Password => {
            matches!(c.send(fixed).await, Ok(r) if r.status == 200)
        }
        Kind::ClientCredentials => match c.send(fixed).await {
            Ok(r) if r.status == 200 => {
                if let Some(t) = r.field("access_token") {
                    sh.issued.lock().await.push(t);
                }
                true
            }
            _ => false,
        },
        Kind::Refresh => {
            let mut rt = sh.chains[worker].lock().await;
            let req = token_request(&[("grant_type", "refresh_token"), ("refresh_token", &rt)]);
            match c
                .send(&req)
                .await
                .ok()
                .and_then(|r| r.field("refresh_token"))
            {
                Some(new) => {
                    *rt = new;
                    true
                }
                None => false,
            }
        }
        Kind::Revoke => {
            // Fresh tokens from the client_credentials run; unknown ones when they run out.
            let token = sh.issued.lock().await.pop().unwrap_or_else(random43);
            let req = request(
                "POST",
                "/oauth/revoke",
                &[("Authorization", &basic())],
                &form(&[("token", &token)]),
            );
            matches!(c.send(&req).await, Ok(r) if r.status == 200)
        }
        Kind::CodeFlow => code_flow(c).await.is_some(),
    }
}

/// The authorization code + PKCE flow of a public client, end to end.
async fn code_flow(c: &mut Conn) -> Option<()> {
    let verifier = random43();
    let challenge = URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
    let q = [
        ("response_type", "code"),
        ("client_id", PUBLIC),
        ("redirect_uri", REDIRECT),
        ("scope", "profile"),
        ("state", "s"),
        ("code_challenge", challenge.as_str()),
        ("code_challenge_method", "S256"),
    ];
    let page = c
        .send(&request(
            "GET",
            &format!("/oauth/authorize?{}", form(&q)),
            &[],
            "",
        ))
        .await
        .ok()?;
    let csrf = page
        .text()
        .split("name=\"csrf_token\" value=\"")
        .nth(1)?
        .split('"')
        .next()?
        .to_owned();
    let cookie = page.cookies.join("; ");
    let mut fields: Vec<(&str, &str)> = q.to_vec();
    fields.extend([
        ("csrf_token", csrf.as_str()),
        ("email", USER.0),
        ("password", USER.1),
        ("action", "approve"),
    ]);
    let r = c
        .send(&request(
            "POST",
            "/oauth/authorize",
            &[("Cookie", &cookie)],
            &form(&fields),
        ))
        .await
        .ok()?;
    let loc = r.location?;
    let code = loc.split("code=").nth(1)?.split('&').next()?.to_owned();
    let t = c
        .send(&request(
            "POST",
            "/oauth/token",
            &[],
            &form(&[
                ("grant_type", "authorization_code"),
                ("code", &code),
                ("redirect_uri", REDIRECT),
                ("client_id", PUBLIC),
                ("code_verifier", &verifier),
            ]),
        ))
        .await
        .ok()?;
    (t.status == 200).then_some(())
}

/// The fixed request of the kinds that send the same bytes every time.
fn fixed_request(kind: Kind, access: &str) -> Vec<u8> {
    match kind {
        Kind::Me => request(
            "GET",
            "/api/me",
            &[("Authorization", &format!("Bearer {access}"))],
            "",
        ),
        Kind::Introspect => request(
            "POST",
            "/oauth/introspect",
            &[("Authorization", &basic())],
            &form(&[("token", access)]),
        ),
        Kind::ClientCredentials => token_request(&[("grant_type", "client_credentials")]),
        Kind::Password => token_request(&[
            ("grant_type", "password"),
            ("username", USER.0),
            ("password", USER.1),
        ]),
        _ => Vec::new(),
    }
}

async fn drive(
    kind: Kind,
    addrs: &[SocketAddr],
    sh: Arc<Shared>,
    seconds: u64,
    concurrency: usize,
) -> Row {
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let errors = Arc::new(AtomicU64::new(0));
    let fixed = Arc::new(fixed_request(kind, &sh.access));
    let started = Instant::now();
    let mut tasks = Vec::new();
    for worker in 0..concurrency {
        let (sh, errors, fixed) = (sh.clone(), errors.clone(), fixed.clone());
        let addr = addrs[worker % addrs.len()];
        tasks.push(tokio::spawn(async move {
            let mut c = Conn::new(addr);
            let mut lat: Vec<u32> = Vec::new();
            while Instant::now() < deadline {
                let t = Instant::now();
                let ok = step(kind, &mut c, worker, &sh, &fixed).await;
                lat.push(u32::try_from(t.elapsed().as_micros()).unwrap_or(u32::MAX));
                if !ok {
                    errors.fetch_add(1, Ordering::Relaxed);
                }
            }
            lat
        }));
    }
    let mut lat: Vec<u32> = Vec::new();
    for t in tasks {
        lat.extend(t.await.unwrap());
    }
    let elapsed = started.elapsed().as_secs_f64().max(seconds as f64);
    lat.sort_unstable();
    let pct = |p: f64| {
        lat.get(((lat.len() as f64 * p) as usize).min(lat.len().saturating_sub(1)))
            .map_or(0.0, |&us| f64::from(us) / 1000.0)
    };
    Row {
        endpoint: kind.label().to_owned(),
        requests: lat.len() as u64,
        errors: errors.load(Ordering::Relaxed),
        rps: lat.len() as f64 / elapsed,
        p50_ms: pct(0.50),
        p99_ms: pct(0.99),
    }
}

#[derive(serde::Serialize)]
struct Propagation {
    samples: usize,
    p50_ms: f64,
    p99_ms: f64,
    max_ms: f64,
}

/// `n` times: a fresh access token (by refresh, at `a`) is cached at `b` (two uses),
/// revoked at `a`; the time from the revocation's 200 to `b`'s first refusal, polling
/// back to back on a kept-alive connection, while `load` connections keep both replicas
/// busy with /api/me.
async fn propagation(a: SocketAddr, b: SocketAddr, n: usize, load: usize) -> Propagation {
    let (access, mut rt) = password_tokens(a).await;
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let mut loaders = Vec::new();
    for i in 0..load {
        let (stop, req) = (stop.clone(), fixed_request(Kind::Me, &access));
        let addr = if i % 2 == 0 { a } else { b };
        loaders.push(tokio::spawn(async move {
            let mut c = Conn::new(addr);
            while !stop.load(Ordering::Relaxed) {
                let _ = c.send(&req).await;
            }
        }));
    }
    let (mut ca, mut cb) = (Conn::new(a), Conn::new(b));
    let mut took = Vec::with_capacity(n);
    for _ in 0..n {
        let r = ca
            .send(&token_request(&[
                ("grant_type", "refresh_token"),
                ("refresh_token", &rt),
            ]))
            .await
            .unwrap();
        let at = r.field("access_token").expect("refresh failed");
        rt = r.field("refresh_token").unwrap();
        let me = fixed_request(Kind::Me, &at);
        for _ in 0..2 {
            assert_eq!(cb.send(&me).await.unwrap().status, 200);
        }
        let revoke = request(
            "POST",
            "/oauth/revoke",
            &[("Authorization", &basic())],
            &form(&[("token", &at)]),
        );
        assert_eq!(ca.send(&revoke).await.unwrap().status, 200);
        let t = Instant::now();
        loop {
            let status = cb.send(&me).await.unwrap().status;
            if status == 401 {
                break;
            }
            assert!(t.elapsed() < Duration::from_secs(10), "never refused");
        }
        took.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    stop.store(true, Ordering::Relaxed);
    for l in loaders {
        let _ = l.await;
    }
    took.sort_by(f64::total_cmp);
    let pct = |p: f64| took[((took.len() as f64 * p) as usize).min(took.len() - 1)];
    Propagation {
        samples: took.len(),
        p50_ms: pct(0.5),
        p99_ms: pct(0.99),
        max_ms: took[took.len() - 1],
    }
}

/// Inserts `n` client_credentials tokens as fast as the server takes them.
async fn issue(addr: SocketAddr, n: u64, concurrency: usize) {
    let left = Arc::new(AtomicU64::new(n));
    let req = Arc::new(fixed_request(Kind::ClientCredentials, ""));
    let mut tasks = Vec::new();
    for _ in 0..concurrency {
        let (left, req) = (left.clone(), req.clone());
        tasks.push(tokio::spawn(async move {
            let mut c = Conn::new(addr);
            while left
                .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |v| v.checked_sub(1))
                .is_ok()
            {
                let _ = c.send(&req).await;
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
}

fn bcrypt_ms(cost: u32) -> f64 {
    // Median of 5 verifications.
    let hash = bcrypt::hash("bench-password", cost).unwrap();
    let mut t: Vec<f64> = (0..5)
        .map(|_| {
            let s = Instant::now();
            assert!(bcrypt::verify("bench-password", &hash).unwrap());
            s.elapsed().as_secs_f64() * 1000.0
        })
        .collect();
    t.sort_by(f64::total_cmp);
    t[2]
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.get(1).map(String::as_str) == Some("--bcrypt") {
        let cost: u32 = args.get(2).map_or(12, |c| c.parse().unwrap());
        println!("{:.2}", bcrypt_ms(cost));
        return;
    }
    let opt = |name: &str| {
        args.iter()
            .position(|a| a == name)
            .and_then(|i| args.get(i + 1))
            .cloned()
    };
    let threads: usize = opt("--threads").map_or(1, |s| s.parse().unwrap());
    let rt = if threads <= 1 {
        tokio::runtime::Builder::new_current_thread()
    } else {
        let mut b = tokio::runtime::Builder::new_multi_thread();
        b.worker_threads(threads);
        b
    }
    .enable_all()
    .build()
    .unwrap();
    rt.block_on(run(&args, &opt));
}

async fn run(args: &[String], opt: &dyn Fn(&str) -> Option<String>) {
    let url = args.get(1).cloned().expect(
        "usage: bench URL [--seconds N] [--concurrency N] [--threads N] [--json PATH] [--only NAMES]",
    );
    let addrs: Vec<SocketAddr> = url
        .split(',')
        .map(|u| {
            u.trim_start_matches("http://")
                .trim_end_matches('/')
                .parse()
                .expect("URL must be http://IP:PORT")
        })
        .collect();
    let addr = addrs[0];
    let seconds: u64 = opt("--seconds").map_or(5, |s| s.parse().unwrap());
    let concurrency: usize = opt("--concurrency").map_or(64, |s| s.parse().unwrap());
    if let Some(n) = opt("--issue") {
        issue(addr, n.parse().unwrap(), concurrency).await;
        return;
    }
    if let Some(n) = opt("--propagation") {
        assert!(addrs.len() >= 2, "--propagation needs two replicas");
        let row = propagation(addrs[0], addrs[1], n.parse().unwrap(), concurrency).await;
        println!(
            "revocation at one replica seen at the other: p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms ({} samples, /api/me load at {} connections)",
            row.p50_ms, row.p99_ms, row.max_ms, row.samples, concurrency
        );
        if let Some(path) = opt("--json") {
            std::fs::write(path, serde_json::to_string_pretty(&row).unwrap()).unwrap();
        }
        return;
    }
    let only = opt("--only");
    let want = |n: &str| only.as_deref().is_none_or(|o| o.split(',').any(|x| x == n));
    let kinds = [
        ("me", Kind::Me),
        ("client_credentials", Kind::ClientCredentials),
        ("refresh", Kind::Refresh),
        ("introspect", Kind::Introspect),
        ("revoke", Kind::Revoke),
        ("password", Kind::Password),
        ("code_flow", Kind::CodeFlow),
    ];
    let (access, _) = password_tokens(addr).await;
    let mut chains = Vec::new();
    if want("refresh") {
        for _ in 0..concurrency {
            chains.push(Mutex::new(password_tokens(addr).await.1));
        }
    }
    let sh = Arc::new(Shared {
        access,
        issued: Mutex::new(Vec::new()),
        chains,
    });
    let mut rows = Vec::new();
    for (name, kind) in kinds {
        if want(name) {
            rows.push(drive(kind, &addrs, sh.clone(), seconds, concurrency).await);
        }
    }
    println!(
        "{:<32} {:>9} {:>10} {:>9} {:>9} {:>7}",
        "endpoint", "requests", "req/s", "p50 ms", "p99 ms", "errors"
    );
    for r in &rows {
        println!(
            "{:<32} {:>9} {:>10.0} {:>9.2} {:>9.2} {:>7}",
            r.endpoint, r.requests, r.rps, r.p50_ms, r.p99_ms, r.errors
        );
    }
    if let Some(path) = opt("--json") {
        std::fs::write(path, serde_json::to_string_pretty(&rows).unwrap()).unwrap();
    }
}

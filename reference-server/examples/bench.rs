//! Load generator for `scripts/bench`: drives a running reference server over loopback
//! at a fixed concurrency, one endpoint at a time, and prints requests/s, p50, p99 and
//! errors per endpoint (and the same as JSON). Stateful flows (refresh rotation,
//! revocation of fresh tokens, the authorization code + PKCE flow) keep their own state.
//!
//! Usage: bench URL [--seconds N] [--concurrency N] [--json PATH]

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use sha2::{Digest as _, Sha256};
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

fn basic() -> String {
    format!(
        "Basic {}",
        STANDARD.encode(format!("{}:{}", BASIC.0, BASIC.1))
    )
}

fn client() -> reqwest::Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(30))
        .pool_max_idle_per_host(256)
        .build()
        .unwrap()
}

fn json_field(body: &str, name: &str) -> Option<String> {
    serde_json::from_str::<serde_json::Value>(body)
        .ok()?
        .get(name)?
        .as_str()
        .map(str::to_owned)
}

async fn password_tokens(http: &reqwest::Client, url: &str) -> (String, String) {
    let r = http
        .post(format!("{url}/oauth/token"))
        .header("authorization", basic())
        .form(&[
            ("grant_type", "password"),
            ("username", USER.0),
            ("password", USER.1),
        ])
        .send()
        .await
        .unwrap();
    let body = r.text().await.unwrap();
    (
        json_field(&body, "access_token").expect(&body),
        json_field(&body, "refresh_token").unwrap(),
    )
}

/// One unit of work; returns whether it succeeded.
type Work = Arc<
    dyn Fn(
            reqwest::Client,
            usize,
        ) -> std::pin::Pin<Box<dyn std::future::Future<Output = bool> + Send>>
        + Send
        + Sync,
>;

async fn drive(
    name: &str,
    http: &reqwest::Client,
    work: Work,
    seconds: u64,
    concurrency: usize,
) -> Row {
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let errors = Arc::new(AtomicU64::new(0));
    let mut tasks = Vec::new();
    for worker in 0..concurrency {
        let http = http.clone();
        let work = work.clone();
        let errors = errors.clone();
        tasks.push(tokio::spawn(async move {
            let mut lat = Vec::new();
            while Instant::now() < deadline {
                let t = Instant::now();
                let ok = work(http.clone(), worker).await;
                lat.push(t.elapsed());
                if !ok {
                    errors.fetch_add(1, Ordering::Relaxed);
                }
            }
            lat
        }));
    }
    let started = Instant::now();
    let mut lat: Vec<Duration> = Vec::new();
    for t in tasks {
        lat.extend(t.await.unwrap());
    }
    let elapsed = started.elapsed().as_secs_f64().max(seconds as f64);
    lat.sort();
    let pct = |p: f64| {
        lat.get(((lat.len() as f64 * p) as usize).min(lat.len().saturating_sub(1)))
            .map_or(0.0, |d| d.as_secs_f64() * 1000.0)
    };
    Row {
        endpoint: name.to_owned(),
        requests: lat.len() as u64,
        errors: errors.load(Ordering::Relaxed),
        rps: lat.len() as f64 / elapsed,
        p50_ms: pct(0.50),
        p99_ms: pct(0.99),
    }
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

fn random43() -> String {
    let mut b = [0u8; 32];
    let _ = getrandom::fill(&mut b);
    URL_SAFE_NO_PAD.encode(b)
}

/// The authorization code + PKCE flow of a public client, end to end.
async fn code_flow(http: &reqwest::Client, url: &str) -> bool {
    let jar = Arc::new(reqwest::cookie::Jar::default());
    let c = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .cookie_provider(jar)
        .build()
        .unwrap();
    let _ = http;
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
    let query: Vec<String> = q
        .iter()
        .map(|(k, v)| format!("{k}={}", encode(v)))
        .collect();
    let Ok(page) = c
        .get(format!("{url}/oauth/authorize?{}", query.join("&")))
        .send()
        .await
    else {
        return false;
    };
    let Ok(html) = page.text().await else {
        return false;
    };
    let Some(csrf) = html
        .split("name=\"csrf_token\" value=\"")
        .nth(1)
        .and_then(|s| s.split('"').next())
    else {
        return false;
    };
    let mut form: Vec<(&str, &str)> = q.to_vec();
    form.extend([
        ("csrf_token", csrf),
        ("email", USER.0),
        ("password", USER.1),
        ("action", "approve"),
    ]);
    let Ok(r) = c
        .post(format!("{url}/oauth/authorize"))
        .form(&form)
        .send()
        .await
    else {
        return false;
    };
    let Some(loc) = r.headers().get("location").and_then(|v| v.to_str().ok()) else {
        return false;
    };
    let Some(code) = loc.split("code=").nth(1).and_then(|s| s.split('&').next()) else {
        return false;
    };
    let Ok(t) = c
        .post(format!("{url}/oauth/token"))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", REDIRECT),
            ("client_id", PUBLIC),
            ("code_verifier", verifier.as_str()),
        ])
        .send()
        .await
    else {
        return false;
    };
    t.status() == 200
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.get(1).map(String::as_str) == Some("--bcrypt") {
        // Time one bcrypt verification at a cost (median of 5).
        let cost: u32 = args.get(2).map_or(12, |c| c.parse().unwrap());
        let hash = bcrypt::hash("bench-password", cost).unwrap();
        let mut t: Vec<f64> = (0..5)
            .map(|_| {
                let s = Instant::now();
                assert!(bcrypt::verify("bench-password", &hash).unwrap());
                s.elapsed().as_secs_f64() * 1000.0
            })
            .collect();
        t.sort_by(f64::total_cmp);
        println!("{:.2}", t[2]);
        return;
    }
    let url = args
        .get(1)
        .cloned()
        .expect("usage: bench URL [--seconds N] [--concurrency N] [--json PATH] [--only NAME]");
    let opt = |name: &str| {
        args.iter()
            .position(|a| a == name)
            .and_then(|i| args.get(i + 1))
            .cloned()
    };
    let seconds: u64 = opt("--seconds").map_or(5, |s| s.parse().unwrap());
    let concurrency: usize = opt("--concurrency").map_or(64, |s| s.parse().unwrap());
    let only = opt("--only");
    let http = client();
    let mut rows = Vec::new();
    let want = |n: &str| only.as_deref().is_none_or(|o| o.split(',').any(|x| x == n));
    if let Some(n) = opt("--issue") {
        // Insert N client_credentials tokens as fast as the server takes them.
        let n: u64 = n.parse().unwrap();
        let left = Arc::new(AtomicU64::new(n));
        let mut tasks = Vec::new();
        for _ in 0..concurrency {
            let (h, u, left) = (http.clone(), url.clone(), left.clone());
            tasks.push(tokio::spawn(async move {
                while left
                    .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |v| v.checked_sub(1))
                    .is_ok()
                {
                    let _ = h
                        .post(format!("{u}/oauth/token"))
                        .header("authorization", basic())
                        .form(&[("grant_type", "client_credentials")])
                        .send()
                        .await;
                }
            }));
        }
        for t in tasks {
            t.await.unwrap();
        }
        return;
    }

    let (access, _) = password_tokens(&http, &url).await;
    let u = url.clone();
    if want("me") {
        let a = access.clone();
        let work: Work = Arc::new(move |h, _| {
            let (u, a) = (u.clone(), a.clone());
            Box::pin(async move {
                matches!(h.get(format!("{u}/api/me")).bearer_auth(a).send().await, Ok(r) if r.status() == 200)
            })
        });
        rows.push(drive("GET /api/me", &http, work, seconds, concurrency).await);
    }
    let issued = Arc::new(Mutex::new(Vec::<String>::new()));
    if want("client_credentials") {
        let (u, issued) = (url.clone(), issued.clone());
        let work: Work = Arc::new(move |h, _| {
            let (u, issued) = (u.clone(), issued.clone());
            Box::pin(async move {
                let Ok(r) = h
                    .post(format!("{u}/oauth/token"))
                    .header("authorization", basic())
                    .form(&[("grant_type", "client_credentials")])
                    .send()
                    .await
                else {
                    return false;
                };
                if r.status() != 200 {
                    return false;
                }
                let body = r.text().await.unwrap_or_default();
                if let Some(t) = json_field(&body, "access_token") {
                    issued.lock().await.push(t);
                }
                true
            })
        });
        rows.push(
            drive(
                "client_credentials grant",
                &http,
                work,
                seconds,
                concurrency,
            )
            .await,
        );
    }
    if want("refresh") {
        // One rotating chain per worker.
        let mut chains = Vec::new();
        for _ in 0..concurrency {
            chains.push(Mutex::new(password_tokens(&http, &url).await.1));
        }
        let chains = Arc::new(chains);
        let u = url.clone();
        let work: Work = Arc::new(move |h, worker| {
            let (u, chains) = (u.clone(), chains.clone());
            Box::pin(async move {
                let mut rt = chains[worker].lock().await;
                let Ok(r) = h
                    .post(format!("{u}/oauth/token"))
                    .header("authorization", basic())
                    .form(&[
                        ("grant_type", "refresh_token"),
                        ("refresh_token", rt.as_str()),
                    ])
                    .send()
                    .await
                else {
                    return false;
                };
                let body = r.text().await.unwrap_or_default();
                match json_field(&body, "refresh_token") {
                    Some(new) => {
                        *rt = new;
                        true
                    }
                    None => false,
                }
            })
        });
        rows.push(drive("refresh_token grant", &http, work, seconds, concurrency).await);
    }
    if want("introspect") {
        let (u, a) = (url.clone(), access.clone());
        let work: Work = Arc::new(move |h, _| {
            let (u, a) = (u.clone(), a.clone());
            Box::pin(async move {
                matches!(h.post(format!("{u}/oauth/introspect")).header("authorization", basic()).form(&[("token", a.as_str())]).send().await, Ok(r) if r.status() == 200)
            })
        });
        rows.push(drive("introspection", &http, work, seconds, concurrency).await);
    }
    if want("revoke") {
        let (u, issued) = (url.clone(), issued.clone());
        let work: Work = Arc::new(move |h, _| {
            let (u, issued) = (u.clone(), issued.clone());
            Box::pin(async move {
                // Fresh tokens from the client_credentials run; unknown ones when they run out.
                let token = issued.lock().await.pop().unwrap_or_else(random43);
                matches!(h.post(format!("{u}/oauth/revoke")).header("authorization", basic()).form(&[("token", token.as_str())]).send().await, Ok(r) if r.status() == 200)
            })
        });
        rows.push(drive("revocation", &http, work, seconds, concurrency).await);
    }
    if want("password") {
        let u = url.clone();
        let work: Work = Arc::new(move |h, _| {
            let u = u.clone();
            Box::pin(async move {
                matches!(h.post(format!("{u}/oauth/token")).header("authorization", basic()).form(&[("grant_type", "password"), ("username", USER.0), ("password", USER.1)]).send().await, Ok(r) if r.status() == 200)
            })
        });
        rows.push(drive("password grant", &http, work, seconds, concurrency).await);
    }
    if want("code_flow") {
        let u = url.clone();
        let work: Work = Arc::new(move |h, _| {
            let u = u.clone();
            Box::pin(async move { code_flow(&h, &u).await })
        });
        rows.push(
            drive(
                "authorization code + PKCE flow",
                &http,
                work,
                seconds,
                concurrency,
            )
            .await,
        );
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

//! Concurrency against the real binary: 256 connections of mixed load (grants,
//! refreshes, revocations, introspection, resource calls) while parallel redemptions of
//! one code and parallel refreshes of one refresh token race, five rounds. The writes
//! queue on the server's single writer connection, so nothing may fail with "database
//! is locked" or a 5xx, and each race has exactly one winner.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use tokio::sync::Barrier;

use crate::common::wire::{Conn, WireRequest, WireResponse};
use crate::common::*;
use crate::login::{BASIC_CALLBACK, Browser, Callback};

/// Connections of the background load.
const LOAD: usize = 256;
/// Parallel attempts in each race.
const RACERS: usize = 32;
/// Rounds of the two races.
const ROUNDS: usize = 5;
/// The most requests one load connection sends (the load also stops when the races end).
const MAX_PER_CONNECTION: usize = 2_000;

/// What went wrong on one connection.
#[derive(Debug, Default)]
struct Report {
    sent: usize,
    problems: Vec<String>,
}

impl Report {
    /// Sends a request and notes a 5xx, a "database is locked" body or another status
    /// than `expected`.
    async fn send(&mut self, conn: &mut Conn, req: &WireRequest, expected: u16) -> WireResponse {
        let r = conn.send(req).await;
        self.sent += 1;
        let body = String::from_utf8_lossy(&r.body);
        if r.status >= 500 || r.status != expected || body.contains("database is locked") {
            self.problems.push(format!(
                "{} {}: {} (expected {expected}) {body}",
                req.method,
                String::from_utf8_lossy(&req.target),
                r.status
            ));
        }
        r
    }
}

fn token(form: &[(&str, &str)], auth: Auth<'_>) -> WireRequest {
    WireRequest::post_form("/oauth/token", auth, form)
}

fn me(access: &str) -> WireRequest {
    WireRequest::get("/api/me").header("authorization", format!("Bearer {access}"))
}

/// One load connection: its own token family, then grants, refreshes, resource calls,
/// introspection and revocations in turn until told to stop.
async fn load(
    server: std::net::SocketAddr,
    i: usize,
    ready: Arc<AtomicUsize>,
    stop: Arc<AtomicBool>,
) -> Report {
    let mut conn = Conn::new(server);
    let mut rep = Report::default();
    let auth = if i % 2 == 0 { BASIC } else { POST };
    let password = [
        ("grant_type", "password"),
        ("username", ALICE),
        ("password", ALICE_PASSWORD),
    ];
    let r = rep.send(&mut conn, &token(&password, auth), 200).await;
    let mut access = r.json()["access_token"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let mut refresh = r.json()["refresh_token"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    ready.fetch_add(1, Ordering::SeqCst);
    let mut n = 0;
    while !stop.load(Ordering::SeqCst) && n < MAX_PER_CONNECTION {
        n += 1;
        match n % 5 {
            0 => {
                let form = [
                    ("grant_type", "refresh_token"),
                    ("refresh_token", refresh.as_str()),
                ];
                let r = rep.send(&mut conn, &token(&form, auth), 200).await;
                access = r.json()["access_token"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned();
                refresh = r.json()["refresh_token"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned();
            }
            1 | 3 => {
                rep.send(&mut conn, &me(&access), 200).await;
            }
            2 => {
                let cc = [("grant_type", "client_credentials")];
                let r = rep.send(&mut conn, &token(&cc, SERVICE), 200).await;
                let service = r.json()["access_token"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned();
                let revoke =
                    WireRequest::post_form("/oauth/revoke", SERVICE, &[("token", &service)]);
                rep.send(&mut conn, &revoke, 200).await;
                let probe =
                    WireRequest::post_form("/oauth/introspect", BASIC, &[("token", &service)]);
                let r = rep.send(&mut conn, &probe, 200).await;
                if r.json()["active"] != false {
                    rep.problems.push("a revoked token is still active".into());
                }
            }
            _ => {
                let probe =
                    WireRequest::post_form("/oauth/introspect", SECOND, &[("token", &refresh)]);
                let r = rep.send(&mut conn, &probe, 200).await;
                if r.json()["active"] != true {
                    rep.problems
                        .push("the current refresh token is not active".into());
                }
            }
        }
    }
    rep
}

/// Sends `req` from `RACERS` connections at once; returns the answers.
async fn race(server: std::net::SocketAddr, req: WireRequest) -> Vec<WireResponse> {
    let barrier = Arc::new(Barrier::new(RACERS));
    let tasks: Vec<_> = (0..RACERS)
        .map(|_| {
            let barrier = barrier.clone();
            let req = req.clone();
            tokio::spawn(async move {
                let mut conn = Conn::new(server);
                // Connect first, so every racer is on its own open connection.
                let _ = conn
                    .send(&WireRequest::get("/.well-known/oauth-authorization-server"))
                    .await;
                barrier.wait().await;
                conn.send(&req).await
            })
        })
        .collect();
    let mut out = Vec::new();
    for t in tasks {
        out.push(t.await.unwrap());
    }
    out
}

/// The one 200 of a race, after checking every loser got invalid_grant.
fn single_winner(answers: &[WireResponse], what: &str) -> (usize, serde_json::Value) {
    let winners: Vec<_> = answers.iter().filter(|r| r.status == 200).collect();
    for r in answers.iter().filter(|r| r.status != 200) {
        assert_eq!(r.status, 400, "{what}: a loser got {r:?}");
        assert_eq!(r.json()["error"], "invalid_grant", "{what}: {r:?}");
    }
    assert_eq!(winners.len(), 1, "{what}: {} winners", winners.len());
    (winners.len(), winners[0].json())
}

/// Reads the soft limit of open files (Linux), to stay within it.
fn open_file_limit() -> Option<u64> {
    let limits = std::fs::read_to_string("/proc/self/limits").ok()?;
    let line = limits.lines().find(|l| l.starts_with("Max open files"))?;
    line.split_whitespace().nth(3)?.parse().ok()
}

/// Under 256 connections of mixed load, parallel redemptions of one code and parallel refreshes of one refresh token each have exactly one winner, five rounds, with no 5xx and no "database is locked" anywhere.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mixed_load_with_races_has_one_winner_and_no_lock_errors() {
    // Each connection is a descriptor on both ends (same process for the client side).
    let needed = (LOAD + 2 * RACERS + 64) as u64;
    if let Some(limit) = open_file_limit() {
        assert!(
            limit >= needed,
            "ulimit -n is {limit}, the test needs {needed}"
        );
    }
    let dir = tempfile::tempdir().unwrap();
    let server = BinaryServer::spawn(
        fresh_database(dir.path(), "db.sqlite"),
        &dir.path().join("log"),
        "info",
    )
    .await;
    let addr = server.addr;
    let ready = Arc::new(AtomicUsize::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let load_tasks: Vec<_> = (0..LOAD)
        .map(|i| tokio::spawn(load(addr, i, ready.clone(), stop.clone())))
        .collect();
    let deadline = std::time::Instant::now() + Duration::from_secs(120);
    while ready.load(Ordering::SeqCst) < LOAD {
        assert!(
            std::time::Instant::now() < deadline,
            "the load did not start within 120 s"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }

    let mut winners = Vec::new();
    for round in 1..=ROUNDS {
        // RFC 6749 §4.1.2: a code is single use; the other redemptions are refused and
        // revoke what the first obtained.
        let b = Browser::at(&server.base);
        let page = b
            .open(&[
                ("response_type", "code"),
                ("client_id", BASIC_ID),
                ("redirect_uri", BASIC_CALLBACK),
            ])
            .await;
        let r = b
            .answer(&page, Some(ALICE), Some(ALICE_PASSWORD), "approve")
            .await;
        assert_eq!(r.status, 303, "{r:?}");
        let code = Callback::from_reply(&r).code();
        let redeem = token(
            &[
                ("grant_type", "authorization_code"),
                ("code", &code),
                ("redirect_uri", BASIC_CALLBACK),
            ],
            BASIC,
        );
        let (code_winners, won) = single_winner(&race(addr, redeem).await, "code race");
        let mut conn = Conn::new(addr);
        let at = won["access_token"].as_str().unwrap();
        assert_eq!(
            conn.send(&me(at)).await.status,
            401,
            "the reused code's token still works"
        );

        // RFC 9700 §4.14.2: a refresh token rotates once; the replays revoke the family.
        let first = conn
            .send(&token(
                &[
                    ("grant_type", "password"),
                    ("username", BOB),
                    ("password", BOB_PASSWORD),
                ],
                BASIC,
            ))
            .await;
        let rt = first.json()["refresh_token"].as_str().unwrap().to_owned();
        let refresh = token(
            &[("grant_type", "refresh_token"), ("refresh_token", &rt)],
            BASIC,
        );
        let (refresh_winners, won) = single_winner(&race(addr, refresh).await, "refresh race");
        let new_rt = won["refresh_token"].as_str().unwrap();
        let again = conn
            .send(&token(
                &[("grant_type", "refresh_token"), ("refresh_token", new_rt)],
                BASIC,
            ))
            .await;
        assert_eq!(
            again.json()["error"],
            "invalid_grant",
            "the family survived a replay"
        );
        println!(
            "concurrency round {round}: code race {code_winners}/{RACERS} winners, refresh race {refresh_winners}/{RACERS} winners"
        );
        winners.push((code_winners, refresh_winners));
    }
    stop.store(true, Ordering::SeqCst);

    let mut sent = 0;
    let mut problems = Vec::new();
    for t in load_tasks {
        let rep = t.await.unwrap();
        sent += rep.sent;
        problems.extend(rep.problems);
    }
    println!(
        "concurrency: {sent} load requests on {LOAD} connections during {ROUNDS} rounds of races"
    );
    assert!(
        problems.is_empty(),
        "{} problems, first: {:#?}",
        problems.len(),
        &problems[..problems.len().min(10)]
    );
    assert_eq!(winners, vec![(1, 1); ROUNDS]);
    assert!(sent >= LOAD * 5, "the load barely ran: {sent} requests");
    let log = server.log_text();
    assert!(
        log.lines().count() > sent / 2,
        "the server logged too little to judge"
    );
    assert!(
        !log.contains("database is locked"),
        "the log reports a locked database"
    );
    assert!(!log.contains(" ERROR "), "the log reports an error");
}

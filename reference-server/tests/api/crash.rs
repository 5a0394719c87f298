//! Crash safety: the binary is killed with SIGKILL in the middle of a token-issuing load
//! and started again on the same database file. Every answer it gave with 200 must
//! still hold: issued tokens work, revocations stay, rotated refresh tokens stay used.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use crate::common::wire::{Conn, WireRequest, WireResponse};
use crate::common::*;

/// Connections of the load.
const TASKS: usize = 16;
/// Answers with 200 to wait for before the kill.
const BEFORE_KILL: usize = 1_500;

/// The tokens of one password grant as the answers described them.
#[derive(Debug, Default)]
struct Family {
    /// Every access token answered with 200.
    access: Vec<String>,
    /// Access tokens whose revocation was answered with 200.
    revoked_access: Vec<String>,
    /// The newest refresh token.
    refresh: String,
    /// Refresh tokens rotated with 200.
    rotated: Vec<String>,
    /// The refresh token's revocation (so the whole grant's) was answered with 200.
    revoked: bool,
}

/// What one connection saw before the kill.
#[derive(Debug, Default)]
struct Seen {
    families: Vec<Family>,
    /// Client credentials tokens answered with 200.
    service: Vec<String>,
    /// Answers other than 200 while the server was up (there must be none).
    problems: Vec<String>,
}

impl Seen {
    /// Whether `r` is a 200; notes any other answer (no answer at all is the kill).
    fn ok(&mut self, r: &WireResponse) -> bool {
        if r.status != 200 && r.status != 0 {
            self.problems
                .push(format!("{} {}", r.status, String::from_utf8_lossy(&r.body)));
        }
        r.status == 200
    }
}

fn form(path: &str, auth: Auth<'_>, pairs: &[(&str, &str)]) -> WireRequest {
    WireRequest::post_form(path, auth, pairs)
}

fn text(r: &WireResponse, member: &str) -> String {
    r.json()[member].as_str().unwrap_or_default().to_owned()
}

/// Loads until the connection fails (the kill). A family whose refresh or revocation
/// was in flight then is dropped: its outcome is unknown, not wrong.
async fn load(
    addr: std::net::SocketAddr,
    i: usize,
    ok: Arc<AtomicUsize>,
    killed: Arc<AtomicBool>,
) -> Seen {
    let mut conn = Conn::new(addr);
    let mut seen = Seen::default();
    let password = [
        ("grant_type", "password"),
        ("username", ALICE),
        ("password", ALICE_PASSWORD),
    ];
    let auth = if i % 2 == 0 { BASIC } else { POST };
    let mut family: Option<Family> = None;
    let mut n = 0usize;
    while !killed.load(Ordering::SeqCst) {
        n += 1;
        let Some(f) = family.as_mut() else {
            let r = conn.send(&form("/oauth/token", auth, &password)).await;
            if !seen.ok(&r) {
                break;
            }
            ok.fetch_add(1, Ordering::SeqCst);
            family = Some(Family {
                access: vec![text(&r, "access_token")],
                refresh: text(&r, "refresh_token"),
                ..Family::default()
            });
            continue;
        };
        match n % 4 {
            0 => {
                let r = conn
                    .send(&form(
                        "/oauth/token",
                        auth,
                        &[
                            ("grant_type", "refresh_token"),
                            ("refresh_token", &f.refresh),
                        ],
                    ))
                    .await;
                if !seen.ok(&r) {
                    family = None;
                    break;
                }
                f.rotated
                    .push(std::mem::replace(&mut f.refresh, text(&r, "refresh_token")));
                f.access.push(text(&r, "access_token"));
            }
            1 => {
                let r = conn
                    .send(&form(
                        "/oauth/token",
                        SERVICE,
                        &[("grant_type", "client_credentials")],
                    ))
                    .await;
                if !seen.ok(&r) {
                    break;
                }
                seen.service.push(text(&r, "access_token"));
            }
            2 => {
                let target = f
                    .access
                    .iter()
                    .find(|a| !f.revoked_access.contains(a))
                    .cloned();
                if let Some(a) = target {
                    let r = conn
                        .send(&form("/oauth/revoke", auth, &[("token", &a)]))
                        .await;
                    if !seen.ok(&r) {
                        family = None;
                        break;
                    }
                    f.revoked_access.push(a);
                }
            }
            _ if n % 20 == 3 => {
                let r = conn
                    .send(&form("/oauth/revoke", auth, &[("token", &f.refresh)]))
                    .await;
                if !seen.ok(&r) {
                    family = None;
                    break;
                }
                f.revoked = true;
                seen.families.extend(family.take());
            }
            _ => continue,
        }
        ok.fetch_add(1, Ordering::SeqCst);
    }
    seen.families.extend(family);
    seen
}

/// After a SIGKILL mid-load and a restart on the same file, every token answered with 200 works, every revocation answered with 200 holds, and every refresh token rotated with 200 is refused.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn answers_given_before_sigkill_survive_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let db = fresh_database(dir.path(), "db.sqlite");
    let log = dir.path().join("log");
    let mut server = BinaryServer::spawn(&db, &log, "warn").await;
    let ok = Arc::new(AtomicUsize::new(0));
    let killed = Arc::new(AtomicBool::new(false));
    let tasks: Vec<_> = (0..TASKS)
        .map(|i| tokio::spawn(load(server.addr, i, ok.clone(), killed.clone())))
        .collect();
    let deadline = Instant::now() + Duration::from_secs(120);
    while ok.load(Ordering::SeqCst) < BEFORE_KILL {
        assert!(
            Instant::now() < deadline,
            "the load did not reach {BEFORE_KILL} answers in 120 s"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    // SIGKILL (Child::kill on unix): no graceful shutdown, no checkpoint.
    server.kill();
    killed.store(true, Ordering::SeqCst);
    let answered_before_kill = ok.load(Ordering::SeqCst);
    let mut seen = Vec::new();
    for t in tasks {
        seen.push(t.await.unwrap());
    }

    let server = BinaryServer::spawn(&db, &log, "warn").await;
    let mut conn = Conn::new(server.addr);
    let mut checked = 0usize;
    let mut rotated_checked = 0usize;
    let introspect = |t: &str| form("/oauth/introspect", SECOND, &[("token", t)]);
    for s in &seen {
        for t in &s.service {
            let r = conn.send(&introspect(t)).await;
            assert_eq!(
                r.json()["active"],
                true,
                "a client credentials token was lost: {r:?}"
            );
            checked += 1;
        }
        for f in &s.families {
            for a in &f.access {
                let expected = if f.revoked || f.revoked_access.contains(a) {
                    401
                } else {
                    200
                };
                let r = conn
                    .send(
                        &WireRequest::get("/api/me").header("authorization", format!("Bearer {a}")),
                    )
                    .await;
                assert_eq!(r.status, expected, "access token after the restart: {r:?}");
                checked += 1;
            }
            let r = conn.send(&introspect(&f.refresh)).await;
            assert_eq!(
                r.json()["active"],
                !f.revoked,
                "refresh token after the restart: {r:?}"
            );
            checked += 1;
            for old in &f.rotated {
                let r = conn.send(&introspect(old)).await;
                assert_eq!(
                    r.json()["active"],
                    false,
                    "a rotated refresh token came back: {r:?}"
                );
                checked += 1;
            }
            // Last for this family: presenting a rotated token again is refused (and,
            // as a replay, revokes the family).
            if let Some(old) = f.rotated.first() {
                let auth_form = [
                    ("grant_type", "refresh_token"),
                    ("refresh_token", old.as_str()),
                ];
                let basic = conn.send(&form("/oauth/token", BASIC, &auth_form)).await;
                let post = conn.send(&form("/oauth/token", POST, &auth_form)).await;
                assert!(
                    [&basic, &post]
                        .iter()
                        .all(|r| r.status == 400 && r.json()["error"] == "invalid_grant"),
                    "a rotated refresh token was accepted after the restart: {basic:?} {post:?}"
                );
                rotated_checked += 1;
            }
        }
    }
    let problems: Vec<_> = seen.iter().flat_map(|s| &s.problems).collect();
    assert!(
        problems.is_empty(),
        "refusals during the load: {problems:?}"
    );
    let families: usize = seen.iter().map(|s| s.families.len()).sum();
    println!(
        "crash: {answered_before_kill} answers with 200 before SIGKILL; {checked} tokens checked after the restart ({families} grants, {rotated_checked} rotated refresh tokens presented again)"
    );
    assert!(
        checked >= BEFORE_KILL / 2,
        "too few tokens checked: {checked}"
    );
    assert!(rotated_checked > 0 && seen.iter().any(|s| s.families.iter().any(|f| f.revoked)));
}

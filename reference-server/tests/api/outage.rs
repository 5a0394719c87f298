//! PostgreSQL faults: unreachable at start, lost while serving, every connection busy,
//! and a replica killed mid-load. Each test that stops the database has a cluster of
//! its own.

use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use futures_util::future::join_all;
use sqlx::Connection as _;

use crate::common::*;
use crate::login::Browser;

/// A cluster of this test's own (it will be stopped and started), or the skip.
fn own_cluster() -> pg_throwaway::Cluster {
    match pg_throwaway::Cluster::start() {
        Ok(c) => c,
        Err(e) => {
            pg_throwaway::skip_or_panic(&e.to_string());
            panic!("no PostgreSQL: {e}");
        }
    }
}

/// The binary cannot reach PostgreSQL: exit code 2 at once, one line on stderr that
/// names the database without its password and says why.
#[tokio::test]
async fn unreachable_database_at_start_exits_2() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let started = Instant::now();
    let out = Command::new(env!("CARGO_BIN_EXE_reference-server"))
        .args([
            "--bind",
            "127.0.0.1:0",
            "--no-fixtures",
            "--db-acquire-timeout",
            "5",
        ])
        .arg("--database")
        .arg(format!(
            "postgres://app:hunter2-secret@127.0.0.1:{port}/oauth"
        ))
        .env_clear()
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    assert!(started.elapsed() < Duration::from_secs(30));
    let stderr = String::from_utf8_lossy(&out.stderr);
    let lines: Vec<&str> = stderr.lines().collect();
    assert_eq!(lines.len(), 1, "{stderr}");
    assert!(
        lines[0].starts_with(
            "reference-server: cannot start: cannot open the database postgres://app:***@127.0.0.1:"
        ),
        "{stderr}"
    );
    assert!(lines[0].contains("refused"), "{stderr}");
    assert!(
        !stderr.contains("hunter2"),
        "the password was printed: {stderr}"
    );
}

/// Waits until `f` gives true (at most 60 s).
async fn eventually<F, Fut>(what: &str, mut f: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = Instant::now() + Duration::from_secs(60);
    while !f().await {
        assert!(Instant::now() < deadline, "{what} within 60 s");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The database goes away while the server runs: every endpoint that needs it answers
/// 503 with `Retry-After` in its own error format (never 500, never a panic), the
/// authorization endpoint redirects with `temporarily_unavailable`; once the database
/// is back, service resumes by itself.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn database_lost_while_serving_answers_503_then_recovers() {
    let cluster = own_cluster();
    let database = cluster.create_database().unwrap();
    let s = TestServer::start_on(&database, |c| {
        c.token_cache = false;
        c.db_acquire_timeout = Duration::from_secs(2);
    })
    .await;
    let tokens = s.alice(BASIC).await;
    let at = tokens.access_token();
    assert_eq!(s.me(&at).await.status, 200);
    let browser = Browser::new(&s);
    let page = browser
        .open(&[
            ("response_type", "code"),
            ("client_id", BASIC_ID),
            ("redirect_uri", crate::login::BASIC_CALLBACK),
            ("state", "s1"),
        ])
        .await;
    assert_eq!(page.status, 200);

    cluster.stop_server().unwrap();

    for r in [
        s.password(BASIC, ALICE, ALICE_PASSWORD, None).await,
        s.client_credentials(SERVICE, None).await,
        s.refresh(BASIC, &tokens.refresh_token(), None).await,
        s.revoke(BASIC, &[("token", &at)]).await,
        s.post_form("/oauth/introspect", BASIC, &[("token", &at)])
            .await,
    ] {
        assert_eq!(r.status, 503, "{r:?}");
        assert_eq!(r.header("retry-after").as_deref(), Some("1"), "{r:?}");
        assert_eq!(r.error(), "server_error", "{r:?}");
    }
    let me = s.me(&at).await;
    assert_eq!(me.status, 503, "{me:?}");
    assert_eq!(me.json()["errors"][0]["status"], "503", "{me:?}");
    let r = browser
        .answer(&page, Some(ALICE), Some(ALICE_PASSWORD), "approve")
        .await;
    assert_eq!(r.status, 303, "{r:?}");
    let cb = crate::login::Callback::from_reply(&r);
    assert_eq!(cb.get("error"), Some("temporarily_unavailable"), "{r:?}");
    assert_eq!(cb.get("state"), Some("s1"));

    cluster.start_server().unwrap();
    eventually("tokens are issued again", || async {
        let r = s.client_credentials(SERVICE, None).await;
        assert!(r.status == 200 || r.status == 503, "{r:?}");
        r.status == 200
    })
    .await;
    // What was stored before the outage is still there; the revocation that was
    // answered 503 did not happen.
    assert_eq!(s.me(&at).await.status, 200);
    assert_token_ok(&s.refresh(BASIC, &tokens.refresh_token(), None).await);
}

/// Every connection of the pool is busy (held by requests stuck behind a lock): further
/// requests wait for one, and when none frees up in time they are answered 503; the
/// stuck ones finish once the lock goes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pool_exhaustion_queues_then_answers_503() {
    let s = TestServer::start_with(|c| {
        c.token_cache = false;
        c.db_pool_size = 2;
        c.db_acquire_timeout = Duration::from_secs(1);
    })
    .await;
    let refresh_tokens: Vec<String> = join_all((0..8).map(|_| s.alice(BASIC)))
        .await
        .iter()
        .map(Reply::refresh_token)
        .collect();
    let mut admin = sqlx::AnyConnection::connect(&s.database).await.unwrap();
    let mut lock = admin.begin().await.unwrap();
    sqlx::query("LOCK TABLE tokens IN EXCLUSIVE MODE")
        .execute(&mut *lock)
        .await
        .unwrap();
    let released = Arc::new(AtomicBool::new(false));
    let requests = join_all(
        refresh_tokens
            .iter()
            .map(|rt| async { s.refresh(BASIC, rt, None).await }),
    );
    let release = {
        let released = released.clone();
        async move {
            tokio::time::sleep(Duration::from_secs(4)).await;
            released.store(true, Ordering::SeqCst);
            lock.rollback().await.unwrap();
        }
    };
    let (replies, ()) = tokio::join!(requests, release);
    let ok = replies.iter().filter(|r| r.status == 200).count();
    let unavailable: Vec<&Reply> = replies.iter().filter(|r| r.status == 503).collect();
    assert_eq!(ok + unavailable.len(), replies.len(), "{replies:?}");
    assert!(
        ok >= 1,
        "the requests holding the connections finish: {replies:?}"
    );
    assert!(
        !unavailable.is_empty(),
        "no request waited in vain: {replies:?}"
    );
    for r in unavailable {
        assert_eq!(r.header("retry-after").as_deref(), Some("1"));
        assert_eq!(r.error(), "server_error");
    }
    assert!(released.load(Ordering::SeqCst));
    assert_token_ok(&s.client_credentials(SERVICE, None).await);
}

/// Two replicas (real processes) under load on one database; one is killed with
/// SIGKILL: the other keeps answering, and every token the killed one answered with 200
/// works at the survivor.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_replica_killed_mid_load_loses_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let database = fresh_database(dir.path(), "unused");
    let mut a = BinaryServer::spawn(&database, &dir.path().join("a.log"), "warn").await;
    let b = BinaryServer::spawn(&database, &dir.path().join("b.log"), "warn").await;
    let killed = Arc::new(AtomicBool::new(false));
    let load = |base: String, killed: Arc<AtomicBool>| async move {
        let http = {
            install_tls();
            reqwest::Client::new()
        };
        let mut issued = Vec::new();
        let mut failed_after_kill = 0usize;
        for _ in 0..200 {
            let r = http
                .post(format!("{base}/oauth/token"))
                .basic_auth(SERVICE_ID, Some(SERVICE_SECRET))
                .form(&[("grant_type", "client_credentials")])
                .send()
                .await;
            let answer = match r {
                Ok(r) => {
                    let status = r.status().as_u16();
                    r.text().await.map(|text| (status, text))
                }
                Err(e) => Err(e),
            };
            match answer {
                Ok((status, text)) => {
                    assert_eq!(status, 200, "{text}");
                    let body: serde_json::Value = serde_json::from_str(&text).unwrap();
                    issued.push(body["access_token"].as_str().unwrap().to_owned());
                }
                Err(_) if killed.load(Ordering::SeqCst) => {
                    failed_after_kill += 1;
                    break;
                }
                Err(e) => panic!("{e}"),
            }
        }
        (issued, failed_after_kill)
    };
    let on_a = tokio::spawn(load(a.base.clone(), killed.clone()));
    let on_b = tokio::spawn(load(b.base.clone(), killed.clone()));
    tokio::time::sleep(Duration::from_millis(300)).await;
    killed.store(true, Ordering::SeqCst);
    a.kill();
    let (from_a, _) = on_a.await.unwrap();
    let (from_b, b_failures) = on_b.await.unwrap();
    assert_eq!(b_failures, 0, "the surviving replica failed requests");
    assert_eq!(
        from_b.len(),
        200,
        "the surviving replica answered everything"
    );
    assert!(
        !from_a.is_empty(),
        "the killed replica answered nothing before the kill"
    );
    let http = {
        install_tls();
        reqwest::Client::new()
    };
    for at in from_a.iter().chain(from_b.iter().step_by(20)) {
        let r = http
            .post(format!("{}/oauth/introspect", b.base))
            .basic_auth(SERVICE_ID, Some(SERVICE_SECRET))
            .form(&[("token", at.as_str())])
            .send()
            .await
            .unwrap();
        let r = Reply::read(r).await;
        assert_eq!(
            r.json()["active"],
            true,
            "a token answered 200 was lost: {r:?}"
        );
    }
}

/// Two replicas started at the same moment on an empty database: one applies the
/// migrations (under PostgreSQL's advisory lock), both load the fixtures, both serve.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replicas_starting_together_both_serve() {
    let dir = tempfile::tempdir().unwrap();
    let database = fresh_database(dir.path(), "unused");
    let (log_a, log_b) = (dir.path().join("a.log"), dir.path().join("b.log"));
    let (a, b) = tokio::join!(
        BinaryServer::spawn(&database, &log_a, "warn"),
        BinaryServer::spawn(&database, &log_b, "warn"),
    );
    let http = {
        install_tls();
        reqwest::Client::new()
    };
    for s in [&a, &b] {
        let r = http
            .post(format!("{}/oauth/token", s.base))
            .basic_auth(SERVICE_ID, Some(SERVICE_SECRET))
            .form(&[("grant_type", "client_credentials")])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
    }
}

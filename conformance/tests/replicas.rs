//! The whole conformance suite against two replicas of the bundled server on one
//! PostgreSQL database, behind a round-robin TCP proxy that sends each new connection to
//! the other replica, as a load balancer would: 0 failed, 0 errors. Every scenario's
//! requests land on both replicas, so each step checks that the replicas act as one
//! authorization server (codes, refresh tokens, revocations, throttling, metadata).
//!
//! The PostgreSQL cluster is a throwaway one (`pg-throwaway`, Debian's binaries).
//! Without them this test says so loudly and passes, unless `CI` is set, where it fails.
//! (`harness = false`: it answers `--list` so cargo-nextest can enumerate it.)

use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use conformance::report::{Outcome, console};
use conformance::target::Target;
use conformance::target::embedded::Embedded;
use conformance::{RunOptions, run};
use tokio::net::{TcpListener, TcpStream};

/// Accepts on `listener` and joins each connection to the next replica in turn; counts
/// the connections each replica got.
fn round_robin(listener: TcpListener, replicas: Vec<String>, counts: Arc<Vec<AtomicUsize>>) {
    let next = AtomicUsize::new(0);
    tokio::spawn(async move {
        while let Ok((mut client, _)) = listener.accept().await {
            let i = next.fetch_add(1, Ordering::Relaxed) % replicas.len();
            counts[i].fetch_add(1, Ordering::Relaxed);
            let addr = replicas[i].trim_start_matches("http://").to_owned();
            tokio::spawn(async move {
                if let Ok(mut upstream) = TcpStream::connect(&addr).await {
                    let _ = tokio::io::copy_bidirectional(&mut client, &mut upstream).await;
                }
            });
        }
    });
}

async fn run_on_replicas(database: String) -> Result<(), String> {
    let started = std::time::Instant::now();
    let listener = TcpListener::bind("127.0.0.1:0")
        .await
        .map_err(|e| e.to_string())?;
    let front = format!(
        "http://{}",
        listener.local_addr().map_err(|e| e.to_string())?
    );
    let mut replicas = Vec::new();
    let mut profile = None;
    for _ in 0..2 {
        let (issuer, db) = (front.clone(), database.clone());
        let (server, p) = Embedded::start_configured(false, move |c| {
            c.database = db.as_str().into();
            c.issuer = Some(issuer);
        })
        .await
        .map_err(|e| format!("a replica did not start: {e}"))?;
        replicas.push(server);
        profile.get_or_insert(p);
    }
    let counts = Arc::new(vec![AtomicUsize::new(0), AtomicUsize::new(0)]);
    round_robin(
        listener,
        replicas.iter().map(Embedded::url).collect(),
        counts.clone(),
    );
    let mut profile = profile.ok_or("no replica")?;
    profile.name = Some("reference-server, two replicas on PostgreSQL".into());
    let http = conformance::http::Http::new(std::time::Duration::from_secs(10))
        .map_err(|e| e.to_string())?;
    let target = Target::resolve(profile, None, &http)
        .await
        .map_err(|e| e.to_string())?;
    let name = target.name.clone();
    let mut opts = RunOptions::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../features"));
    opts.strict = true;
    let result = run(target, &opts).await;
    for r in replicas {
        r.stop().await;
    }
    let result = result.map_err(|e| e.to_string())?;
    print!("{}", console::render(&result, &name, started.elapsed()));
    let bad: Vec<String> = result
        .scenarios
        .iter()
        .filter(|s| {
            matches!(
                s.outcome,
                Outcome::Failed(_) | Outcome::UnexpectedPass(_) | Outcome::Error(_)
            )
        })
        .map(|s| format!("{}:{} {} {:?}", s.feature, s.line, s.name, s.outcome))
        .collect();
    let passed = result
        .scenarios
        .iter()
        .filter(|s| s.outcome == Outcome::Passed)
        .count();
    let (a, b) = (
        counts[0].load(Ordering::Relaxed),
        counts[1].load(Ordering::Relaxed),
    );
    println!("connections: {a} to the first replica, {b} to the second");
    if !bad.is_empty() {
        return Err(format!(
            "{} scenario(s) did not pass:\n{}",
            bad.len(),
            bad.join("\n")
        ));
    }
    if passed < 100 {
        return Err(format!("only {passed} scenarios passed"));
    }
    if a.min(b) < 50 {
        return Err(format!(
            "the proxy did not spread the connections ({a} and {b})"
        ));
    }
    Ok(())
}

fn main() -> ExitCode {
    if std::env::args().any(|a| a == "--list") {
        println!("replicas: test");
        return ExitCode::SUCCESS;
    }
    let cluster = match pg_throwaway::shared() {
        Ok(c) => c,
        Err(e) => {
            pg_throwaway::skip_or_panic(&e.to_string());
            println!("SKIPPED: the suite against two replicas on PostgreSQL (no PostgreSQL)");
            return ExitCode::SUCCESS;
        }
    };
    let database = match cluster.create_database() {
        Ok(url) => url,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::FAILURE;
        }
    };
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("cannot start a runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match rt.block_on(run_on_replicas(database)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("{e}");
            ExitCode::FAILURE
        }
    }
}

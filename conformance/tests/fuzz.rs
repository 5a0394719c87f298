//! `oauth2-conformance fuzz` finds what it should and only that:
//!
//! 1. Behind a proxy that breaks the bundled server in one way per finding class, a run
//!    reports exactly that class's row (the bundled server alone gives none), and the
//!    reported case, re-sent with `--replay`'s code path, reproduces it (for the classes
//!    that do not depend on timing).
//! 2. A target that hangs, and one that answers garbage, end the CLI run with exit 2
//!    ("the target stopped answering") well within the budget, naming why.
//!
//! (`harness = false`: one pace and one set of witnessed secrets per process.)

#[allow(dead_code)]
#[path = "verdicts/proxy.rs"]
mod proxy;

#[allow(dead_code)]
#[path = "bad_targets/server.rs"]
mod server;

#[allow(dead_code)]
#[path = "bad_targets/profile.rs"]
mod profile;

use std::process::{Command, ExitCode};
use std::time::{Duration, Instant};

use conformance::fuzz::{FuzzRun, Options};
use conformance::target::Target;
use conformance::target::embedded::Embedded;
use proxy::{Proxy, Req, Resp, Rule};

const BIN: &str = env!("CARGO_BIN_EXE_oauth2-conformance");

/// One way to break the bundled server, and the row it must show up as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Break {
    /// 500 for a token request that repeats a parameter.
    ServerError,
    /// No answer (longer than the timeout) to a revocation with a token type hint.
    Silence,
    /// Token endpoint 400s with an unregistered error code.
    ErrorCode,
    /// Resource 401s without their challenge.
    NoChallenge,
    /// Authorization errors redirected to whatever redirect_uri came.
    OpenRedirect,
    /// Tokens for a token request without grant_type.
    NoGrantType,
    /// The authorization endpoint's page echoes the query unescaped.
    Echo,
    /// Token errors that quote the request body.
    Quote,
}

impl Break {
    const ALL: [Break; 8] = [
        Break::ServerError,
        Break::Silence,
        Break::ErrorCode,
        Break::NoChallenge,
        Break::OpenRedirect,
        Break::NoGrantType,
        Break::Echo,
        Break::Quote,
    ];

    fn row(self) -> &'static str {
        match self {
            Break::ServerError => "F1",
            Break::Silence => "F2",
            Break::ErrorCode => "F3",
            Break::NoChallenge => "F4",
            Break::OpenRedirect => "F5",
            Break::NoGrantType => "F6",
            Break::Echo => "F7",
            Break::Quote => "F8",
        }
    }

    /// Whether a re-sent case must give the finding again (timing-free classes).
    fn replays(self) -> bool {
        self != Break::Silence
    }
}

fn repeats_a_name(req: &Req) -> bool {
    let names: Vec<String> = req.form().into_iter().map(|(k, _)| k).collect();
    let mut unique = names.clone();
    unique.sort();
    unique.dedup();
    unique.len() < names.len()
}

impl Rule for Break {
    fn before(&self, req: &mut Req) -> Option<Resp> {
        let post = req.method == warp::http::Method::POST;
        match self {
            Break::ServerError if post && req.path == "/oauth/token" && repeats_a_name(req) => {
                Some(Resp {
                    status: 500,
                    headers: vec![("content-type".into(), "text/html".into())],
                    body: b"<h1>Internal Server Error</h1>".to_vec(),
                    delay: Duration::ZERO,
                })
            }
            Break::Silence
                if post
                    && req.path == "/oauth/revoke"
                    && req.form_value("token_type_hint").is_some() =>
            {
                Some(Resp {
                    status: 200,
                    headers: Vec::new(),
                    body: Vec::new(),
                    delay: Duration::from_secs(4),
                })
            }
            Break::NoGrantType
                if post
                    && req.path == "/oauth/token"
                    && !String::from_utf8_lossy(&req.body)
                        .to_ascii_lowercase()
                        .contains("grant_type")
                    && !req.query.to_ascii_lowercase().contains("grant_type") =>
            {
                Some(Resp::json(
                    200,
                    &serde_json::json!({"access_token": "forged-access-token-0001", "token_type": "Bearer", "expires_in": 60}),
                ))
            }
            _ => None,
        }
    }

    fn after(&self, req: &Req, resp: &mut Resp) {
        match self {
            Break::ErrorCode if req.path == "/oauth/token" && resp.status == 400 => {
                resp.body = br#"{"error":"bad_request"}"#.to_vec();
            }
            Break::NoChallenge if req.path == "/api/me" && resp.status == 401 => {
                resp.set_header("www-authenticate", None);
            }
            Break::OpenRedirect if req.path == "/oauth/authorize" && resp.status == 400 => {
                if let Some(uri) = req.query_value("redirect_uri") {
                    *resp = Resp::redirect(&format!("{uri}?error=invalid_request"));
                }
            }
            Break::Echo
                if req.path == "/oauth/authorize" && req.method == warp::http::Method::GET =>
            {
                // Only markup: echoing the query's credentials would be another class.
                let values: Vec<String> = req
                    .query_pairs()
                    .into_iter()
                    .map(|(_, v)| v)
                    .filter(|v| v.contains('<'))
                    .collect();
                resp.set_header("content-type", Some("text/html".into()));
                resp.body = format!("<!doctype html><p>{}</p>", values.join(" ")).into_bytes();
            }
            Break::Quote if req.path == "/oauth/token" && matches!(resp.status, 400 | 401) => {
                let said = String::from_utf8_lossy(&req.body).into_owned();
                let mut v: serde_json::Value =
                    serde_json::from_slice(&resp.body).unwrap_or_default();
                v["error_description"] = serde_json::Value::String(format!("could not use {said}"));
                resp.body = v.to_string().into_bytes();
            }
            _ => {}
        }
    }
}

/// A rule that changes nothing.
struct Clean;
impl Rule for Clean {}

/// Runs `requests` generated requests against the bundled server behind `rule`; with
/// `replay`, re-sends each finding's case and says which rows reproduced.
async fn fuzz_behind(
    rule: impl Rule,
    requests: u64,
    replay: bool,
) -> Result<(FuzzRun, Vec<String>), String> {
    let (listener, front) = Proxy::bind().await.map_err(|e| e.to_string())?;
    let issuer = front.clone();
    let (server, profile) = Embedded::start_configured(false, move |c| c.issuer = Some(issuer))
        .await
        .map_err(|e| e.to_string())?;
    let _proxy = Proxy::serve(listener, server.url(), rule);
    conformance::http::pace::configure(None, Duration::from_secs(30));
    let http = conformance::http::Http::new(Duration::from_secs(10)).map_err(|e| e.to_string())?;
    let resolved = Target::resolve(profile, None, &http).await;
    let target: Target = match resolved {
        Ok(t) => t,
        Err(e) => {
            server.stop().await;
            return Err(e.to_string());
        }
    };
    let opts = Options {
        requests,
        seed: 11,
        timeout: Duration::from_secs(2),
        profile: None,
    };
    let run = conformance::fuzz::run(&target, opts.clone()).await;
    let mut reproduced = Vec::new();
    if let (true, Ok(run)) = (replay, &run) {
        for f in &run.findings {
            if let Ok((text, true)) = conformance::fuzz::replay(&target, opts.clone(), &f.id).await
            {
                if text.contains(&format!("reproduced: {} ", f.row)) {
                    reproduced.push(f.row.to_owned());
                }
            }
        }
    }
    server.stop().await;
    Ok((run?, reproduced))
}

fn rows(run: &FuzzRun) -> Vec<&'static str> {
    let mut r: Vec<&'static str> = run.findings.iter().map(|f| f.row).collect();
    r.dedup();
    r
}

/// A fuzz run as the JSON the CLI writes, read back as `diff` reads it.
fn as_json(run: &FuzzRun) -> Result<conformance::report::json::Report, String> {
    let has = |_| true;
    let result = conformance::fuzz::result(run, &has, None);
    let report = conformance::report::json::build(
        &result,
        conformance::report::json::TargetInfo {
            name: "reference-server".into(),
            issuer: None,
            profile: None,
        },
        "2026-01-01T00:00:00Z".into(),
        0,
    );
    conformance::report::diff::parse(&conformance::report::json::render(&report))
}

async fn classes() -> Result<(), String> {
    let (clean, _) = fuzz_behind(Clean, 800, false).await?;
    if !clean.findings.is_empty() || clean.stopped.is_some() {
        return Err(format!(
            "the bundled server behind a proxy that changes nothing gave findings: {}",
            conformance::fuzz::summary(&clean, None)
        ));
    }
    let base = as_json(&clean)?;
    let same = conformance::report::diff::compare(&base, &as_json(&clean)?);
    if same.exit_code() != 0 {
        return Err(format!(
            "diff of a clean fuzz result with itself:\n{}",
            same.console()
        ));
    }
    let mut problems = Vec::new();
    for b in Break::ALL {
        let started = Instant::now();
        let (run, reproduced) = fuzz_behind(b, 800, true).await?;
        let found = rows(&run);
        println!(
            "{b:?}: {} requests in {:.1?}, findings {found:?}, reproduced {reproduced:?}",
            run.sent,
            started.elapsed()
        );
        if found != [b.row()] {
            problems.push(format!(
                "{b:?} should give exactly {} and gave {found:?}:\n{}",
                b.row(),
                conformance::fuzz::summary(&run, None)
            ));
            continue;
        }
        if b.replays() && !reproduced.iter().any(|r| r == b.row()) {
            problems.push(format!(
                "{b:?}: the reported case did not reproduce {} when replayed:\n{}",
                b.row(),
                conformance::fuzz::summary(&run, None)
            ));
        }
        // `diff` reads fuzz results: the broken run regresses exactly the row's scenario.
        let diff = conformance::report::diff::compare(&base, &as_json(&run)?);
        let console = diff.console();
        let title = conformance::fuzz::oracle::row(b.row()).title;
        if diff.exit_code() != 1 || diff.regressions() != 1 || !console.contains(title) {
            problems.push(format!("{b:?}: diff against the clean run:\n{console}"));
        }
        let f = &run.findings[0];
        if f.count == 0 || f.request.is_empty() || f.answer.is_empty() {
            problems.push(format!("{b:?}: the finding is not described: {f:?}"));
        }
        if run.stopped.is_some() {
            problems.push(format!("{b:?}: the run was stopped: {:?}", run.stopped));
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems.join("\n\n"))
    }
}

/// 2. A target that hangs or answers garbage: exit 2 within the budget, naming why.
async fn dead_targets() -> Result<(), String> {
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    for mode in [server::Mode::Hang, server::Mode::Garbage] {
        let bad = server::BadServer::start(mode)
            .await
            .map_err(|e| e.to_string())?;
        let path = dir.path().join(format!("{mode:?}.toml"));
        std::fs::write(&path, profile::profile(profile::Shape::Suite, &bad.url()))
            .map_err(|e| e.to_string())?;
        let started = Instant::now();
        let bin = BIN.to_owned();
        let out = tokio::task::spawn_blocking(move || {
            Command::new(bin)
                .args([
                    "fuzz",
                    "--requests",
                    "2000",
                    "--timeout",
                    "2",
                    "--seed",
                    "3",
                    "--profile",
                ])
                .arg(&path)
                .env("NO_COLOR", "1")
                .output()
        })
        .await
        .map_err(|e| e.to_string())?
        .map_err(|e| e.to_string())?;
        let took = started.elapsed();
        let all = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        println!("{mode:?}: exit {:?} in {took:.1?}", out.status.code());
        if out.status.code() != Some(2) || !all.contains("stopped answering") {
            return Err(format!(
                "{mode:?}: expected exit 2 naming the stopped target, got {:?}:\n{all}",
                out.status.code()
            ));
        }
        // 2,000 requests would take over 8 minutes of 2 s timeouts; the breaker ends it.
        if took > Duration::from_secs(60) {
            return Err(format!("{mode:?}: took {took:?}"));
        }
        for s in profile::SECRETS {
            if all.contains(s) {
                return Err(format!("{mode:?}: a secret of the profile was printed"));
            }
        }
    }
    Ok(())
}

fn main() -> ExitCode {
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("no runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let mut failed = false;
    for (name, result) in [
        (
            "finding classes behind a breaking proxy",
            rt.block_on(classes()),
        ),
        ("hanging and garbage targets", rt.block_on(dead_targets())),
    ] {
        match result {
            Ok(()) => println!("test {name} ... ok"),
            Err(e) => {
                failed = true;
                println!("test {name} ... FAILED\n{e}");
            }
        }
    }
    if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}

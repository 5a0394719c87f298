//! The runner (the real `oauth2-conformance` binary) against misbehaving targets: a
//! server that hangs, closes connections, answers garbage, 10 MB bodies, HTML where JSON
//! is expected, redirect loops, drips bytes, or sends an invalid `Content-Length`. Each
//! misbehaviour is met at discovery and at the login preflight (exit 2, one line saying
//! what happened) and by the whole suite (exit 1, every failure saying what happened under
//! its section, a valid JSON report). No run may outlive a generous bound, panic, end by
//! a signal, or print a secret. `BAD_TARGETS_SHOW=1` prints every run's failures and keeps
//! the profiles and reports. (`harness = false`.)

#[path = "bad_targets/profile.rs"]
mod profile;
#[path = "bad_targets/server.rs"]
mod server;

use std::io::Read as _;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use profile::{SECRETS, Shape, profile};
use server::{BadServer, Mode};

const ROOT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/..");
const BIN: &str = env!("CARGO_BIN_EXE_oauth2-conformance");
/// Longest a run against one bad target may take before it counts as hung. The runs use
/// a 1 s request timeout and end in a few seconds; this bound only catches hangs.
const BOUND: Duration = Duration::from_secs(120);

/// What one run of the CLI did.
struct Ran {
    code: Option<i32>,
    stdout: String,
    stderr: String,
    wall: Duration,
    json: Option<String>,
}

/// Runs the CLI, killing it (and failing) if it outlives [`BOUND`].
fn run_cli(dir: &Path, shape: Shape, url: &str, name: &str) -> Result<Ran, String> {
    let profile_path = dir.join(format!("{name}.toml"));
    std::fs::write(&profile_path, profile(shape, url)).map_err(|e| e.to_string())?;
    let json_path = dir.join(format!("{name}.json"));
    let _ = std::fs::remove_file(&json_path);
    let mut cmd = Command::new(BIN);
    cmd.arg("--profile")
        .arg(&profile_path)
        .arg("--features")
        .arg(PathBuf::from(ROOT).join("features"))
        .args(["--timeout", "1"])
        .arg("--json")
        .arg(&json_path)
        .env("NO_COLOR", "1")
        .env_remove("RUST_BACKTRACE")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    if shape == Shape::Suite {
        // Every scenario at once: the run takes about one request timeout.
        cmd.args(["--concurrency", "256"]);
    }
    let started = Instant::now();
    let mut child = cmd
        .spawn()
        .map_err(|e| format!("cannot start {BIN}: {e}"))?;
    let drain = |pipe: Option<Box<dyn std::io::Read + Send>>| {
        std::thread::spawn(move || {
            let mut s = Vec::new();
            if let Some(mut p) = pipe {
                let _ = p.read_to_end(&mut s);
            }
            String::from_utf8_lossy(&s).into_owned()
        })
    };
    let out = drain(child.stdout.take().map(|p| Box::new(p) as _));
    let err = drain(child.stderr.take().map(|p| Box::new(p) as _));
    let status = loop {
        match child.try_wait().map_err(|e| e.to_string())? {
            Some(s) => break s,
            None if started.elapsed() > BOUND => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(format!("still running after {} s: killed", BOUND.as_secs()));
            }
            None => std::thread::sleep(Duration::from_millis(20)),
        }
    };
    let wall = started.elapsed();
    Ok(Ran {
        code: status.code(),
        stdout: out.join().unwrap_or_default(),
        stderr: err.join().unwrap_or_default(),
        wall,
        json: std::fs::read_to_string(&json_path).ok(),
    })
}

/// What the output must say about a mode, one of these phrases.
fn says(mode: Mode, shape: Shape) -> &'static [&'static str] {
    match (mode, shape) {
        (Mode::Hang | Mode::SlowDrip, _) => &["timed out"],
        (Mode::CloseAtOnce, _) => &["the connection closed before a response came"],
        (Mode::CloseMidBody, _) => &["the connection closed before the body was complete"],
        (Mode::Garbage | Mode::BadLength, _) => &["the answer is not valid HTTP/1.1"],
        (Mode::HugeJson | Mode::HugeChunked, _) => &["response body over 1 MiB"],
        (Mode::Html, Shape::Login) => &["no form with a password field"],
        (Mode::Html, _) => &["a text/html body that is not JSON"],
        (Mode::Throttled, Shape::Suite) => &["declined to serve"],
        (Mode::Throttled, _) => &["status 429", "answer 429"],
        (Mode::RedirectSelf | Mode::RedirectPingPong, Shape::Login) => &["too many redirects"],
        (Mode::RedirectSelf | Mode::RedirectPingPong, _) => &["status 302 (a redirect to"],
    }
}

/// Checks one run; returns the problems found.
fn check(mode: Mode, shape: Shape, r: &Ran) -> Vec<String> {
    let mut problems = Vec::new();
    let all = format!("{}\n{}", r.stdout, r.stderr);
    // A whole run against a target whose every request fails below HTTP is stopped by
    // the circuit breaker (exit 2), not reported scenario by scenario.
    let stopped = shape == Shape::Suite && mode.transport_fails();
    let want_code = match shape {
        Shape::Discovery | Shape::Login => 2,
        Shape::Suite if stopped => 2,
        Shape::Suite => 1,
    };
    if r.code != Some(want_code) {
        problems.push(format!(
            "exit code {:?}, expected {want_code} (None: killed by a signal)",
            r.code
        ));
    }
    if all.contains("panicked") {
        problems.push("the output mentions a panic".into());
    }
    for s in SECRETS {
        for form in [s.to_string(), conformance::http::encode(s)] {
            if all.contains(&form) || r.json.as_deref().is_some_and(|j| j.contains(&form)) {
                problems.push(format!("a secret of the profile was printed: {form}"));
            }
        }
    }
    let phrases = says(mode, shape);
    if !phrases.iter().any(|p| all.contains(p)) {
        problems.push(format!("the output does not say any of {phrases:?}"));
    }
    if want_code == 2 {
        let line = r
            .stderr
            .lines()
            .find(|l| l.starts_with("oauth2-conformance: could not run: "));
        if line.is_none() {
            problems.push("no one-line \"could not run\" reason on stderr".into());
        }
        if stopped
            && !line.is_some_and(|l| {
                l.contains("the target stopped answering: 10 transport failures in a row")
            })
        {
            problems.push("the circuit breaker did not say why it stopped the run".into());
        }
        if stopped && r.wall > Duration::from_secs(30) {
            problems.push(format!(
                "the circuit breaker took {:.0} s to stop the run",
                r.wall.as_secs_f64()
            ));
        }
        return problems;
    }
    // A target that throttles everything gets no verdict: every check met a 429 that
    // says nothing about its requirement.
    let (label, verdict) = if mode == Mode::Throttled {
        ("NO VERDICT", "no_verdict")
    } else {
        ("NOT CONFORMANT", "not_conformant")
    };
    if !r.stdout.contains(label) || !r.stdout.contains("  section:     rfc") {
        problems.push(format!("no {label} verdict with the failing sections"));
    }
    match r.json.as_deref().map(conformance::report::json::parse) {
        Some(Ok(report)) => {
            if mode == Mode::Throttled && report.summary.retried_after_throttle == 0 {
                problems.push("no 429 with Retry-After was counted as waited out".into());
            }
            if report.verdict != verdict || report.summary.failed + report.summary.errors == 0 {
                problems.push(format!(
                    "JSON report: verdict {} with {} failed and {} errors",
                    report.verdict, report.summary.failed, report.summary.errors
                ));
            }
            // A setup step that met the broken target makes an error (its scenario's
            // check did not run); a check that met it makes a failure. Both say what
            // happened.
            let failed: Vec<_> = report
                .scenarios
                .iter()
                .filter(|s| s.outcome == "failed" || s.outcome == "error")
                .collect();
            // A step that panics (cucumber keeps the panic off the console) or a step
            // without a definition leaves a failure without expected and actual.
            let bare: Vec<String> = failed
                .iter()
                .filter(|s| {
                    let d = s.detail.as_deref().unwrap_or("");
                    !d.contains("expected: ") || !d.contains("  actual: ")
                })
                .map(|s| format!("{}: {:?}", s.id, s.detail.as_deref().unwrap_or("")))
                .collect();
            if !bare.is_empty() {
                problems.push(format!(
                    "{} failures without expected and actual (a panic?), e.g. {}",
                    bare.len(),
                    bare.iter().take(2).cloned().collect::<Vec<_>>().join("; ")
                ));
            }
            if !failed.iter().any(|s| {
                let d = s.detail.as_deref().unwrap_or("");
                phrases.iter().any(|p| d.contains(p))
            }) {
                problems.push(format!(
                    "no failure in the JSON report says any of {phrases:?}"
                ));
            }
            if report.summary.passed > 0 {
                let passed: Vec<&str> = report
                    .scenarios
                    .iter()
                    .filter(|s| s.outcome == "passed")
                    .map(|s| s.id.as_str())
                    .collect();
                problems.push(format!(
                    "scenarios passed against a broken target: {passed:?}"
                ));
            }
        }
        Some(Err(e)) => problems.push(format!("the JSON report does not parse: {e}")),
        None => problems.push("no JSON report was written".into()),
    }
    problems
}

/// What one run showed, for the summary.
#[derive(Clone)]
struct Report {
    line: String,
    problems: Vec<String>,
    output: String,
}

struct Job {
    mode: Mode,
    shape: Shape,
    url: String,
}

/// Every misbehaviour of the bad server, met at discovery, at the login preflight and by
/// the whole suite, ends in time with the right exit code and says what happened.
fn main() -> ExitCode {
    if std::env::args().any(|a| a == "--list") {
        println!("bad_targets: test");
        return ExitCode::SUCCESS;
    }
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::FAILURE;
        }
    };
    let dir = match tempfile::tempdir() {
        Ok(d) => d,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::FAILURE;
        }
    };
    let mut servers = Vec::new();
    let mut jobs = Vec::new();
    for mode in Mode::ALL {
        let server = match rt.block_on(BadServer::start(mode)) {
            Ok(s) => s,
            Err(e) => {
                eprintln!("cannot start the {mode:?} server: {e}");
                return ExitCode::FAILURE;
            }
        };
        for shape in [Shape::Suite, Shape::Discovery, Shape::Login] {
            jobs.push(Job {
                mode,
                shape,
                url: server.url(),
            });
        }
        servers.push(server);
    }
    let total = jobs.len();
    let queue = Arc::new(Mutex::new(jobs.into_iter().enumerate()));
    let lines = Arc::new(Mutex::new(Vec::new()));
    let workers: Vec<_> = (0..4)
        .map(|_| {
            let (queue, lines) = (queue.clone(), lines.clone());
            let dir = dir.path().to_owned();
            std::thread::spawn(move || {
                loop {
                    let next = queue.lock().ok().and_then(|mut q| q.next());
                    let Some((i, job)) = next else { break };
                    let name = format!("{i}-{:?}-{:?}", job.mode, job.shape);
                    let report = match run_cli(&dir, job.shape, &job.url, &name) {
                        Ok(r) => Report {
                            line: format!(
                                "{:<16} {:<9} exit {:<4} {:>5.1} s  {}",
                                format!("{:?}", job.mode),
                                format!("{:?}", job.shape),
                                r.code.map_or("sig".into(), |c| c.to_string()),
                                r.wall.as_secs_f64(),
                                gist(&r)
                            ),
                            problems: check(job.mode, job.shape, &r),
                            output: format!(
                                "{}--- stdout (end) ---\n{}\n--- stderr (end) ---\n{}",
                                digest(&r.stdout),
                                tail(&r.stdout),
                                tail(&r.stderr)
                            ),
                        },
                        Err(e) => Report {
                            line: format!("{:?} {:?}", job.mode, job.shape),
                            problems: vec![e],
                            output: String::new(),
                        },
                    };
                    if let Ok(mut l) = lines.lock() {
                        l.push((i, report));
                    }
                }
            })
        })
        .collect();
    for w in workers {
        let _ = w.join();
    }
    drop(servers);
    let show = std::env::var_os("BAD_TARGETS_SHOW").is_some();
    if show {
        // The profiles and JSON reports stay for a closer look.
        println!("profiles and reports kept in {}", dir.keep().display());
    }
    let mut lines = lines.lock().map(|l| l.clone()).unwrap_or_default();
    lines.sort_by_key(|(i, _)| *i);
    let mut failed = 0;
    for (_, r) in &lines {
        println!("{}", r.line);
        for p in &r.problems {
            failed += 1;
            println!("  FAILED: {p}");
        }
        if show || !r.problems.is_empty() {
            println!("{}", r.output);
        }
    }
    if lines.len() != total {
        println!("only {} of {total} runs reported", lines.len());
        failed += 1;
    }
    if failed == 0 {
        println!("all {total} runs against bad targets behaved");
        println!("1 passed, 0 failed");
    } else {
        println!("{failed} problems");
        println!("0 passed, 1 failed");
    }
    if failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

/// The one-line reason of an exit-2 run, or the verdict of a run that got to scenarios.
fn gist(r: &Ran) -> String {
    let line = r
        .stderr
        .lines()
        .find_map(|l| l.strip_prefix("oauth2-conformance: could not run: "))
        .or_else(|| r.stdout.lines().find(|l| l.contains("CONFORMANT:")))
        .unwrap_or("");
    line.chars().take(150).collect()
}

/// The verdict and each distinct `actual:` line of a console report, with how often it
/// came.
fn digest(stdout: &str) -> String {
    let mut seen: std::collections::BTreeMap<&str, usize> = std::collections::BTreeMap::new();
    for l in stdout.lines() {
        if l.trim_start().starts_with("actual: ") || l.contains("CONFORMANT:") {
            *seen.entry(l.trim()).or_default() += 1;
        }
    }
    seen.iter()
        .map(|(l, n)| format!("{n:>5} x {l}\n"))
        .collect()
}

/// The last 60 lines of an output, for a failure report.
fn tail(s: &str) -> String {
    let lines: Vec<&str> = s.lines().collect();
    lines[lines.len().saturating_sub(60)..].join("\n")
}

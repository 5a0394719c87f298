//! The runner against the reference server started as a separate process (the
//! `reference-server` binary, a URL, `fixtures/profiles/reference.toml`) gives the same
//! verdict for every scenario as the embedded run. (`harness = false`.)

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitCode, Stdio};
use std::time::{Duration, Instant};

use conformance::report::{Outcome, RunResult};
use conformance::target::embedded::Embedded;
use conformance::target::{Profile, Target};
use conformance::{RunOptions, run};

const ROOT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/..");

/// The `reference-server` binary of this build, built if `cargo test` did not.
fn server_binary() -> Result<PathBuf, String> {
    let exe = std::env::current_exe().map_err(|e| e.to_string())?;
    // target/<profile>/deps/external-<hash> -> target/<profile>/reference-server
    let dir = exe
        .parent()
        .and_then(Path::parent)
        .ok_or("no target directory")?;
    let bin = dir.join(format!("reference-server{}", std::env::consts::EXE_SUFFIX));
    if !bin.exists() {
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        let status = Command::new(cargo)
            .args([
                "build",
                "-q",
                "-p",
                "reference-server",
                "--bin",
                "reference-server",
            ])
            .current_dir(ROOT)
            .status()
            .map_err(|e| e.to_string())?;
        if !status.success() {
            return Err("building reference-server failed".into());
        }
    }
    Ok(bin)
}

struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> Result<u16, String> {
    let l = std::net::TcpListener::bind("127.0.0.1:0").map_err(|e| e.to_string())?;
    Ok(l.local_addr().map_err(|e| e.to_string())?.port())
}

fn outcomes(r: &RunResult) -> BTreeMap<(String, usize, String), &'static str> {
    r.scenarios
        .iter()
        .map(|s| {
            let kind = match s.outcome {
                Outcome::Passed => "passed",
                Outcome::Failed(_) => "failed",
                Outcome::NotApplicable(_) => "not applicable",
                Outcome::Error(_) => "error",
                Outcome::ExpectedFailure(_) => "expected failure",
                Outcome::UnexpectedPass(_) => "unexpected pass",
            };
            ((s.feature.clone(), s.line, s.name.clone()), kind)
        })
        .collect()
}

async fn compare() -> Result<usize, String> {
    let features = format!("{ROOT}/features");
    let opts = {
        let mut o = RunOptions::new(&features);
        o.strict = true;
        o
    };
    let http = conformance::http::Http::new(Duration::from_secs(10)).map_err(|e| e.to_string())?;

    // The embedded run.
    let (server, profile) = Embedded::start().await.map_err(|e| e.to_string())?;
    let target = Target::resolve(profile, None, &http)
        .await
        .map_err(|e| e.to_string())?;
    let embedded = run(target, &opts).await.map_err(|e| e.to_string())?;
    server.stop().await;

    // The same server as a separate process, described by the profile file.
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    let port = free_port()?;
    let child = Command::new(server_binary()?)
        .args(["--bind", &format!("127.0.0.1:{port}")])
        .args([
            "--database",
            &dir.path().join("db.sqlite").display().to_string(),
        ])
        .args(["--fixtures", &format!("{ROOT}/fixtures/seed.json")])
        .args([
            "--bcrypt-cost",
            "4",
            "--code-ttl",
            "5",
            "--access-token-ttl",
            "5",
            "--login-block-seconds",
            "3",
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| e.to_string())?;
    let _guard = Running(child);
    let url = format!("http://127.0.0.1:{port}");
    let deadline = Instant::now() + Duration::from_secs(30);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        if Instant::now() > deadline {
            return Err("the reference-server process did not start listening".into());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let text = std::fs::read_to_string(format!("{ROOT}/fixtures/profiles/reference.toml"))
        .map_err(|e| e.to_string())?;
    let profile = Profile::from_toml(&text).map_err(|e| e.to_string())?;
    let target = Target::resolve(profile, Some(url), &http)
        .await
        .map_err(|e| e.to_string())?;
    let external = run(target, &opts).await.map_err(|e| e.to_string())?;

    let (a, b) = (outcomes(&embedded), outcomes(&external));
    let differences: Vec<String> = a
        .iter()
        .filter(|(k, v)| b.get(*k) != Some(*v))
        .map(|((f, l, n), v)| {
            format!(
                "{f}:{l} {n}: embedded {v}, process {:?}",
                b.get(&(f.clone(), *l, n.clone()))
            )
        })
        .chain(
            b.keys()
                .filter(|k| !a.contains_key(*k))
                .map(|(f, l, n)| format!("{f}:{l} {n}: only in the process run")),
        )
        .collect();
    if !differences.is_empty() {
        return Err(format!("verdicts differ:\n{}", differences.join("\n")));
    }
    if !external.conformant() {
        return Err("the separately started reference server is not conformant".into());
    }

    // A login page that cannot be driven (the profile's password is wrong): the
    // preflight fails, which the CLI turns into exit code 2.
    let wrong = text.replace("alice-correct-horse", "not-alice's-password");
    let profile = Profile::from_toml(&wrong).map_err(|e| e.to_string())?;
    let target = Target::resolve(profile, Some(format!("http://127.0.0.1:{port}")), &http)
        .await
        .map_err(|e| e.to_string())?;
    match conformance::preflight_login(&target, Duration::from_secs(10)).await {
        Err(msg) if msg.contains("login failed") => {}
        other => {
            return Err(format!(
                "a login with a wrong password should fail the preflight, got {other:?}"
            ));
        }
    }

    // An unreachable target: discovery fails fast with a clear reason.
    let closed = free_port()?;
    let profile = Profile::from_toml(&text).map_err(|e| e.to_string())?;
    let started = Instant::now();
    match Target::resolve(profile, Some(format!("http://127.0.0.1:{closed}")), &http).await {
        Err(conformance::target::TargetError::Unreachable(msg))
            if started.elapsed() < Duration::from_secs(15) =>
        {
            if !msg.contains("could not connect") {
                return Err(format!("unclear unreachable message: {msg}"));
            }
        }
        other => {
            return Err(format!(
                "an unreachable target should fail discovery quickly, got {other:?}"
            ));
        }
    }
    Ok(a.len())
}

fn main() -> ExitCode {
    if std::env::args().any(|a| a == "--list") {
        println!("external: test");
        return ExitCode::SUCCESS;
    }
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::FAILURE;
        }
    };
    match rt.block_on(compare()) {
        Ok(n) => {
            println!("same verdicts for all {n} scenarios, embedded and as a separate process");
            println!("1 passed, 0 failed");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("{e}");
            println!("0 passed, 1 failed");
            ExitCode::FAILURE
        }
    }
}

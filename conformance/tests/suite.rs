//! The whole conformance suite against the bundled reference server, as `cargo test`
//! runs it: once as a plain OAuth 2.0 server and once in its OAuth 2.1 / RFC 9700
//! configuration (no password grant, PKCE for every client), with `--strict`. Fails when
//! a scenario the server should pass fails, or when nothing ran.
//! (`harness = false`: it answers `--list` so cargo-nextest can enumerate it.)

use std::process::ExitCode;

use conformance::report::{Outcome, RunResult, console};
use conformance::target::Target;
use conformance::target::embedded::Embedded;
use conformance::{RunOptions, run};

/// No secret the run saw (tokens and codes issued during it, the fixtures' client
/// secrets and passwords) appears in any report format.
fn check_reports(result: &RunResult) -> Result<(), String> {
    use conformance::report::json;
    let report = json::build(
        result,
        json::TargetInfo {
            name: "reference-server".into(),
            issuer: None,
            profile: None,
        },
        "2026-01-01T00:00:00Z".into(),
        0,
    );
    let seen = conformance::http::witnessed();
    // The run issues hundreds of tokens and codes; a short list means the witness broke.
    if seen.len() < 100 {
        return Err(format!(
            "only {} secrets were witnessed during the run",
            seen.len()
        ));
    }
    let seed = include_str!("../../fixtures/seed.json");
    let fixture_secrets: Vec<String> = serde_json::from_str::<serde_json::Value>(seed)
        .map_err(|e| e.to_string())?
        .as_object()
        .into_iter()
        .flat_map(|o| o.values())
        .filter_map(|v| v.as_array())
        .flatten()
        .filter_map(|entry| entry.get("client_secret").or_else(|| entry.get("password")))
        .filter_map(|v| v.as_str().map(str::to_owned))
        .collect();
    if fixture_secrets.len() < 6 {
        return Err("the fixtures' secrets were not found".into());
    }
    let formats = [
        (
            "console",
            console::render(result, "reference-server", std::time::Duration::ZERO),
        ),
        ("json", json::render(&report)),
        ("junit", conformance::report::junit::render(&report)),
    ];
    for (name, text) in &formats {
        let leaked: Vec<&String> = seen
            .iter()
            .chain(&fixture_secrets)
            .filter(|s| text.contains(s.as_str()))
            .collect();
        if !leaked.is_empty() {
            return Err(format!(
                "the {name} report contains {} secret value(s)",
                leaked.len()
            ));
        }
    }
    println!(
        "reports checked: {} witnessed secrets and {} fixture secrets absent from every format",
        seen.len(),
        fixture_secrets.len()
    );
    Ok(())
}

/// The leak check needs failures with exchanges in them: the plain server judged by
/// the OAuth 2.1 scenarios fails them with token responses in the details.
async fn failing_run() -> Result<RunResult, String> {
    let (server, profile) = Embedded::start().await.map_err(|e| e.to_string())?;
    let http = conformance::http::Http::new(std::time::Duration::from_secs(10))
        .map_err(|e| e.to_string())?;
    let mut target = Target::resolve(profile, None, &http)
        .await
        .map_err(|e| e.to_string())?;
    target.capabilities.insert("oauth21".into());
    target.capabilities.remove("pkce_optional");
    let mut opts = RunOptions::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../features"));
    opts.tags = Some("@oauth21".into());
    let result = run(target, &opts).await;
    server.stop().await;
    let result = result.map_err(|e| e.to_string())?;
    let failures: Vec<&String> = result
        .scenarios
        .iter()
        .filter_map(|s| match &s.outcome {
            Outcome::Failed(m) => Some(m),
            _ => None,
        })
        .collect();
    if failures.len() < 2 || !failures.iter().any(|m| m.contains("[redacted]")) {
        return Err(
            "the OAuth 2.1 scenarios against the plain server should fail with redacted exchanges"
                .into(),
        );
    }
    Ok(result)
}

async fn run_embedded(oauth21: bool) -> Result<RunResult, String> {
    let started = std::time::Instant::now();
    let (server, profile) = Embedded::start_with(oauth21)
        .await
        .map_err(|e| format!("the bundled server did not start: {e}"))?;
    let http = conformance::http::Http::new(std::time::Duration::from_secs(10))
        .map_err(|e| e.to_string())?;
    let target = Target::resolve(profile, None, &http)
        .await
        .map_err(|e| e.to_string())?;
    let name = target.name.clone();
    let mut opts = RunOptions::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../features"));
    opts.strict = true;
    let result = run(target, &opts).await;
    server.stop().await;
    let result = result.map_err(|e| e.to_string())?;
    print!("{}", console::render(&result, &name, started.elapsed()));
    Ok(result)
}

fn main() -> ExitCode {
    if std::env::args().any(|a| a == "--list") {
        println!("suite: test");
        return ExitCode::SUCCESS;
    }
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
    let (mut passed, mut failed, mut not_applicable) = (0, 0, 0);
    for oauth21 in [false, true] {
        let result = match rt.block_on(run_embedded(oauth21)) {
            Ok(r) => r,
            Err(e) => {
                eprintln!("{e}");
                return ExitCode::FAILURE;
            }
        };
        if !oauth21 {
            // Each scenario's duration is its own (from its events' times), even though
            // scenarios run side by side and their events reach the report in order: the
            // expiry scenario lasts at least the bundled server's 5 s code lifetime.
            let expiry = result
                .scenarios
                .iter()
                .find(|s| s.name == "Redeeming an authorization code after it has expired")
                .map(|s| s.duration_ms);
            if expiry.is_none_or(|ms| ms < 5000) {
                eprintln!("the expiry scenario's duration is {expiry:?} ms, not at least 5000");
                println!("0 passed, 1 failed");
                return ExitCode::FAILURE;
            }
            let checked = rt.block_on(failing_run()).and_then(|failing| {
                check_reports(&result)?;
                check_reports(&failing)
            });
            if let Err(e) = checked {
                eprintln!("{e}");
                println!("0 passed, 1 failed");
                return ExitCode::FAILURE;
            }
        }
        passed += result
            .scenarios
            .iter()
            .filter(|s| s.outcome == Outcome::Passed)
            .count();
        failed += result
            .scenarios
            .iter()
            .filter(|s| {
                matches!(
                    s.outcome,
                    Outcome::Failed(_) | Outcome::UnexpectedPass(_) | Outcome::Error(_)
                )
            })
            .count();
        not_applicable += result
            .scenarios
            .iter()
            .filter(|s| matches!(s.outcome, Outcome::NotApplicable(_)))
            .count();
    }
    println!("{passed} passed, {failed} failed, {not_applicable} skipped");
    if passed == 0 || failed > 0 {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}

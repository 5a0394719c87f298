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
        passed += result
            .scenarios
            .iter()
            .filter(|s| s.outcome == Outcome::Passed)
            .count();
        failed += result
            .scenarios
            .iter()
            .filter(|s| matches!(s.outcome, Outcome::Failed(_) | Outcome::UnexpectedPass(_)))
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

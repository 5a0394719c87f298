//! The whole conformance suite against the bundled reference server, as `cargo test`
//! runs it: fails when a scenario the server should pass fails, or when nothing ran.
//! (`harness = false`: it answers `--list` so cargo-nextest can enumerate it.)

use std::process::ExitCode;

use conformance::report::{Outcome, console};
use conformance::target::Target;
use conformance::target::embedded::Embedded;
use conformance::{RunOptions, run};

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
    rt.block_on(async {
        let started = std::time::Instant::now();
        let (server, profile) = match Embedded::start().await {
            Ok(x) => x,
            Err(e) => {
                eprintln!("the bundled server did not start: {e}");
                return ExitCode::FAILURE;
            }
        };
        let http = match conformance::http::Http::new(std::time::Duration::from_secs(10)) {
            Ok(h) => h,
            Err(e) => {
                eprintln!("{e}");
                return ExitCode::FAILURE;
            }
        };
        let target = match Target::resolve(profile, None, &http).await {
            Ok(t) => t,
            Err(e) => {
                eprintln!("{e}");
                return ExitCode::FAILURE;
            }
        };
        let name = target.name.clone();
        let mut opts = RunOptions::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../features"));
        opts.strict = true;
        let result = run(target, &opts).await;
        server.stop().await;
        let result = match result {
            Ok(r) => r,
            Err(e) => {
                eprintln!("{e}");
                return ExitCode::FAILURE;
            }
        };
        print!("{}", console::render(&result, &name, started.elapsed()));
        let passed = result
            .scenarios
            .iter()
            .filter(|s| s.outcome == Outcome::Passed)
            .count();
        let failed = result
            .scenarios
            .iter()
            .filter(|s| matches!(s.outcome, Outcome::Failed(_) | Outcome::UnexpectedPass(_)))
            .count();
        let not_applicable = result
            .scenarios
            .iter()
            .filter(|s| matches!(s.outcome, Outcome::NotApplicable(_)))
            .count();
        println!("{passed} passed, {failed} failed, {not_applicable} skipped");
        if passed == 0 || failed > 0 {
            ExitCode::FAILURE
        } else {
            ExitCode::SUCCESS
        }
    })
}

//! The login drivers measured against the bundled server, in one run (`scripts/bench`
//! runs it): for the form driver on the plain login page, and the browser driver on the
//! plain page and on the script login UI (`--login-ui script`), the time of one login
//! (p50, p99 over `--logins N` sequential preflight logins) and of the whole suite.
//!
//! `cargo run --release -p conformance --example login_bench -- [--logins N] [--json PATH]
//! [--no-suite] [--slowest]` (`--slowest`: each suite's ten slowest scenarios)

use std::time::{Duration, Instant};

use conformance::target::Target;
use conformance::target::embedded::Embedded;
use conformance::target::profile::Driver;
use conformance::{RunOptions, run};

const FEATURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../features");

struct Row {
    what: &'static str,
    p50_ms: f64,
    p99_ms: f64,
    suite_s: f64,
    failed: usize,
    errors: usize,
    /// The slowest scenarios of the suite: (milliseconds, name).
    slowest: Vec<(u64, String)>,
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let i = ((p / 100.0) * (sorted.len() - 1) as f64).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

async fn measure(
    what: &'static str,
    browser: bool,
    script: bool,
    logins: usize,
    suite: bool,
) -> Result<Row, String> {
    let start = |script: bool| async move {
        let (server, mut profile) = Embedded::start_configured(false, |c| {
            if script {
                c.login_ui = reference_server::LoginUi::Script;
            }
        })
        .await
        .map_err(|e| e.to_string())?;
        if browser {
            profile.login.get_or_insert_with(Default::default).driver = Driver::Browser;
        }
        let http =
            conformance::http::Http::new(Duration::from_secs(10)).map_err(|e| e.to_string())?;
        let target = Target::resolve(profile, None, &http)
            .await
            .map_err(|e| e.to_string())?;
        Ok::<_, String>((server, target))
    };
    // Logins, one after another, on a server of their own.
    let (server, target) = start(script).await?;
    let mut times = Vec::with_capacity(logins);
    for _ in 0..logins {
        let t = Instant::now();
        conformance::preflight_login(&target, Duration::from_secs(10))
            .await
            .map_err(|e| format!("{what}: {e}"))?;
        times.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    server.stop().await;
    times.sort_by(f64::total_cmp);
    if !suite {
        return Ok(Row {
            what,
            p50_ms: percentile(&times, 50.0),
            p99_ms: percentile(&times, 99.0),
            suite_s: 0.0,
            failed: 0,
            errors: 0,
            slowest: Vec::new(),
        });
    }
    // The whole suite, as the CLI runs it, on a fresh server.
    let (server, target) = start(script).await?;
    let mut opts = RunOptions::new(FEATURES);
    if browser {
        opts.concurrency = conformance::login::chrome::SCENARIOS_PER_BROWSER
            * conformance::login::chrome::DEFAULT_BROWSERS;
    }
    let t = Instant::now();
    let result = run(target, &opts).await.map_err(|e| e.to_string());
    let suite_s = t.elapsed().as_secs_f64();
    server.stop().await;
    let result = result?;
    let count = |f: fn(&conformance::report::Outcome) -> bool| {
        result.scenarios.iter().filter(|s| f(&s.outcome)).count()
    };
    let mut slowest: Vec<(u64, String)> = result
        .scenarios
        .iter()
        .map(|s| (s.duration_ms, s.name.clone()))
        .collect();
    slowest.sort_by_key(|s| std::cmp::Reverse(s.0));
    slowest.truncate(10);
    Ok(Row {
        what,
        slowest,
        p50_ms: percentile(&times, 50.0),
        p99_ms: percentile(&times, 99.0),
        suite_s,
        failed: count(|o| matches!(o, conformance::report::Outcome::Failed(_))),
        errors: count(|o| matches!(o, conformance::report::Outcome::Error(_))),
    })
}

fn main() -> std::process::ExitCode {
    let args: Vec<String> = std::env::args().collect();
    let value = |name: &str| {
        args.iter()
            .position(|a| a == name)
            .and_then(|i| args.get(i + 1))
            .cloned()
    };
    let logins: usize = value("--logins").and_then(|v| v.parse().ok()).unwrap_or(40);
    let json = value("--json");
    let suite = !args.iter().any(|a| a == "--no-suite");
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("{e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    let rows = rt.block_on(async {
        let _browsers = conformance::login::chrome::Guard;
        let mut rows = Vec::new();
        for (what, browser, script) in [
            ("form driver, plain login page", false, false),
            ("browser driver, plain login page", true, false),
            ("browser driver, script login UI", true, true),
        ] {
            rows.push(measure(what, browser, script, logins, suite).await?);
        }
        Ok::<_, String>(rows)
    });
    let rows = match rows {
        Ok(r) => r,
        Err(e) => {
            eprintln!("login_bench: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    let base = rows.first().map_or(1.0, |r| r.suite_s.max(1e-9));
    println!("{logins} logins each, one after another; then the whole suite:");
    println!(
        "{:<34} {:>9} {:>9} {:>9} {:>8} {:>7} {:>7}",
        "driver", "p50 ms", "p99 ms", "suite s", "x form", "failed", "errors"
    );
    let mut out = Vec::new();
    for r in &rows {
        println!(
            "{:<34} {:>9.1} {:>9.1} {:>9.1} {:>8.2} {:>7} {:>7}",
            r.what,
            r.p50_ms,
            r.p99_ms,
            r.suite_s,
            r.suite_s / base,
            r.failed,
            r.errors
        );
        out.push(serde_json::json!({
            "driver": r.what,
            "login_p50_ms": r.p50_ms,
            "login_p99_ms": r.p99_ms,
            "suite_seconds": r.suite_s,
            "suite_ratio_to_form": r.suite_s / base,
            "failed": r.failed,
            "errors": r.errors,
        }));
    }
    if args.iter().any(|a| a == "--slowest") {
        for r in &rows {
            println!("slowest scenarios, {}:", r.what);
            for (ms, name) in &r.slowest {
                println!("  {ms:>7} ms  {name}");
            }
        }
    }
    if let Some(path) = json {
        let text = serde_json::to_string_pretty(&out).unwrap_or_default();
        if let Err(e) = std::fs::write(&path, text) {
            eprintln!("login_bench: {path}: {e}");
            return std::process::ExitCode::FAILURE;
        }
    }
    std::process::ExitCode::SUCCESS
}

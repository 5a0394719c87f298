//! The browser login driver (`[login] driver = "browser"`) against the bundled server:
//! the whole suite signs in through headless `chromium`, in automatic mode and with a
//! scripted profile, and must give the same scenarios as the form driver (none not
//! applicable because of the driver) with 0 failed and 0 errors; and no `chromium`
//! process survives.
//! Without `chromium` on PATH it is skipped with a loud line, except under CI (`CI`
//! set), where it fails. (`harness = false`: one target per process at a time.)

use std::collections::BTreeMap;
use std::process::ExitCode;
use std::time::Duration;

use conformance::report::{Outcome, RunResult};
use conformance::target::Target;
use conformance::target::embedded::Embedded;
use conformance::target::profile::{Driver, LoginStep, Profile};
use conformance::{RunOptions, run};

const FEATURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../features");

/// Runs the whole suite against a fresh bundled server whose profile `edit` changed.
async fn suite(edit: impl FnOnce(&mut Profile)) -> Result<RunResult, String> {
    let (server, mut profile) = Embedded::start().await.map_err(|e| e.to_string())?;
    edit(&mut profile);
    let http = conformance::http::Http::new(Duration::from_secs(10)).map_err(|e| e.to_string())?;
    let target = Target::resolve(profile, None, &http)
        .await
        .map_err(|e| e.to_string())?;
    if let Err(e) = conformance::preflight_login(&target, Duration::from_secs(10)).await {
        server.stop().await;
        return Err(format!("preflight: {e}"));
    }
    let result = run(target, &RunOptions::new(FEATURES)).await;
    server.stop().await;
    result.map_err(|e| e.to_string())
}

fn kinds(r: &RunResult) -> BTreeMap<(String, String), &'static str> {
    r.scenarios
        .iter()
        .map(|s| {
            let k = match s.outcome {
                Outcome::Passed | Outcome::UnexpectedPass(_) => "passed",
                Outcome::NotApplicable(_) => "not applicable",
                Outcome::Failed(_) | Outcome::ExpectedFailure(_) => "failed",
                Outcome::Error(_) => "error",
            };
            ((s.feature.clone(), s.name.clone()), k)
        })
        .collect()
}

/// The browser run must match the form run scenario by scenario.
fn same_as(form: &RunResult, browser: &RunResult, what: &str) -> Result<(), String> {
    let (a, b) = (kinds(form), kinds(browser));
    let differ: Vec<String> = a
        .iter()
        .filter(|(k, v)| b.get(*k) != Some(*v))
        .map(|(k, v)| {
            let detail = browser
                .scenarios
                .iter()
                .find(|s| s.feature == k.0 && s.name == k.1)
                .map(|s| format!("{:?}", s.outcome))
                .unwrap_or_default();
            format!(
                "{} / {}: {v} with the form driver, {} with the browser ({})",
                k.0,
                k.1,
                b.get(k).copied().unwrap_or("absent"),
                detail.chars().take(400).collect::<String>()
            )
        })
        .collect();
    if differ.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "{what}: {} scenarios differ:\n  {}",
            differ.len(),
            differ.join("\n  ")
        ))
    }
}

/// The scripted profile of the bundled server's plain login page.
fn scripted() -> Vec<LoginStep> {
    vec![
        LoginStep {
            wait_for: Some("input[name=username]".into()),
            fill: Some(["input[name=username]".into(), "{username}".into()]),
            ..LoginStep::default()
        },
        LoginStep {
            fill: Some(["input[type=password]".into(), "{password}".into()]),
            ..LoginStep::default()
        },
        LoginStep {
            click: Some("form button[type=submit], form input[type=submit]".into()),
            ..LoginStep::default()
        },
    ]
}

/// Whether any `chromium` process of this user is left.
fn leftover_browsers() -> Vec<String> {
    let Ok(out) = std::process::Command::new("pgrep")
        .args(["-a", "-f", "oauth2-conformance-chromium-"])
        .output()
    else {
        return Vec::new();
    };
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(str::to_owned)
        .collect()
}

fn main() -> ExitCode {
    if std::env::args().any(|a| a == "--list") {
        println!("browser_login: test");
        return ExitCode::SUCCESS;
    }
    if conformance::login::chrome::executable().is_none() {
        if std::env::var_os("CI").is_some() {
            println!("test browser_login ... FAILED\n  no chromium on PATH under CI");
            return ExitCode::FAILURE;
        }
        println!("test browser_login ... SKIPPED: no chromium on PATH (install Debian's chromium)");
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
    let outcome = rt.block_on(async {
        let form = suite(|_| {}).await?;
        let automatic =
            suite(|p| p.login.get_or_insert_with(Default::default).driver = Driver::Browser)
                .await?;
        same_as(&form, &automatic, "automatic mode")?;
        let script = suite(|p| {
            let login = p.login.get_or_insert_with(Default::default);
            login.driver = Driver::Browser;
            login.steps = Some(scripted());
        })
        .await?;
        same_as(&form, &script, "scripted mode")?;
        conformance::login::chrome::shutdown();
        tokio::time::sleep(Duration::from_millis(500)).await;
        let left = leftover_browsers();
        if !left.is_empty() {
            return Err(format!("browsers left running: {left:?}"));
        }
        Ok::<(), String>(())
    });
    match outcome {
        Ok(()) => {
            println!("test browser_login ... ok");
            ExitCode::SUCCESS
        }
        Err(e) => {
            println!("test browser_login ... FAILED\n  {e}");
            ExitCode::FAILURE
        }
    }
}

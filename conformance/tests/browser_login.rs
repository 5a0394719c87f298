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

/// Runs the whole suite against a fresh bundled server (with the script login UI when
/// `script`) whose profile `edit` changed.
async fn suite(script: bool, edit: impl FnOnce(&mut Profile)) -> Result<RunResult, String> {
    let (server, mut profile) = Embedded::start_configured(false, |c| {
        if script {
            c.login_ui = reference_server::LoginUi::Script;
        }
    })
    .await
    .map_err(|e| e.to_string())?;
    edit(&mut profile);
    let http = conformance::http::Http::new(Duration::from_secs(10)).map_err(|e| e.to_string())?;
    let target = Target::resolve(profile, None, &http)
        .await
        .map_err(|e| e.to_string())?;
    if let Err(e) = conformance::preflight_login(&target, Duration::from_secs(10)).await {
        server.stop().await;
        return Err(format!("preflight: {e}"));
    }
    let mut opts = RunOptions::new(FEATURES);
    if target.login.driver == Driver::Browser {
        // As the CLI does: at most 4 scenarios per browser of the pool.
        opts.concurrency = conformance::login::chrome::SCENARIOS_PER_BROWSER
            * conformance::login::chrome::DEFAULT_BROWSERS;
    }
    let result = run(target, &opts).await;
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

/// Scenarios that may differ against the script login UI for time, not for what the
/// driver can do: two logins through three screens each take about as long as the
/// bundled server's five-second access tokens live, so the first token may be past its
/// lifetime when used (an honest error, never a failure).
const MAY_AGE_WITH_SCRIPT_UI: [&str; 1] = ["Revoking the access token with the hint refresh_token"];

/// The browser run must match the form run scenario by scenario.
fn same_as(form: &RunResult, browser: &RunResult, what: &str, script: bool) -> Result<(), String> {
    let (a, b) = (kinds(form), kinds(browser));
    let differ: Vec<String> = a
        .iter()
        .filter(|(k, _)| {
            // Only an error (a credential past its lifetime) is allowed for these.
            !(script
                && MAY_AGE_WITH_SCRIPT_UI.contains(&k.1.as_str())
                && b.get(*k) == Some(&"error"))
        })
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

/// The scripted profile of the bundled server's script login UI: user name, Next,
/// password, Sign in, then Approve (optional: a denied request has its own button).
fn scripted_script_ui() -> Vec<LoginStep> {
    vec![
        LoginStep {
            fill: Some(["#username".into(), "{username}".into()]),
            ..LoginStep::default()
        },
        LoginStep {
            click: Some("#next".into()),
            ..LoginStep::default()
        },
        LoginStep {
            fill: Some(["#password".into(), "{password}".into()]),
            ..LoginStep::default()
        },
        LoginStep {
            click: Some("#sign-in".into()),
            ..LoginStep::default()
        },
    ]
}

/// The form driver's preflight against the script login UI ends with the hint to use the
/// browser driver.
async fn form_driver_gets_the_hint() -> Result<(), String> {
    let (server, profile) = Embedded::start_configured(false, |c| {
        c.login_ui = reference_server::LoginUi::Script;
    })
    .await
    .map_err(|e| e.to_string())?;
    let http = conformance::http::Http::new(Duration::from_secs(10)).map_err(|e| e.to_string())?;
    let target = Target::resolve(profile, None, &http)
        .await
        .map_err(|e| e.to_string())?;
    let r = conformance::preflight_login(&target, Duration::from_secs(10)).await;
    server.stop().await;
    match r {
        Err(e)
            if e.contains("the page builds its form with JavaScript: use driver = \"browser\"") =>
        {
            Ok(())
        }
        other => Err(format!(
            "the form driver on a script-built login page: {other:?}, not the hint to use the browser driver"
        )),
    }
}

/// The `chromium` processes this test started that are still running.
fn leftover_browsers() -> Vec<String> {
    let ours = conformance::login::chrome::started_profiles();
    let Ok(out) = std::process::Command::new("pgrep")
        .args(["-a", "-f", "oauth2-conformance-chromium-"])
        .output()
    else {
        return Vec::new();
    };
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter(|l| ours.iter().any(|p| l.contains(p.as_str())))
        .map(str::to_owned)
        .collect()
}

/// The profile folders of the browsers this test started that still exist.
fn leftover_profiles() -> Vec<String> {
    conformance::login::chrome::started_profiles()
        .into_iter()
        .filter(|p| std::path::Path::new(p).exists())
        .collect()
}

fn main() -> ExitCode {
    if std::env::args().any(|a| a == "--list") {
        println!("browser_login: test");
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
    // The form driver against a login page built by script: exit 2 at the preflight,
    // with the hint to use the browser driver (no chromium needed).
    if let Err(e) = rt.block_on(form_driver_gets_the_hint()) {
        println!("test browser_login ... FAILED\n  {e}");
        return ExitCode::FAILURE;
    }
    if conformance::login::chrome::executable().is_none() {
        if std::env::var_os("CI").is_some() {
            println!("test browser_login ... FAILED\n  no chromium on PATH under CI");
            return ExitCode::FAILURE;
        }
        println!("test browser_login ... SKIPPED: no chromium on PATH (install Debian's chromium)");
        return ExitCode::SUCCESS;
    }
    // Every way out of this test kills the browsers it started (Ctrl-C and SIGTERM too).
    let _browsers = conformance::login::chrome::Guard;
    rt.block_on(async { conformance::login::chrome::install_hooks() });
    // The whole-suite comparison takes about seven minutes on two cores: it runs with
    // BROWSER_LOGIN_FULL=1, which `.ci/run` sets. By default (a local `cargo test`) a
    // preflight login through each login UI, in automatic and scripted mode, is checked.
    if std::env::var_os("BROWSER_LOGIN_FULL").is_none() {
        println!(
            "browser_login: the whole-suite comparison is NOT run (set BROWSER_LOGIN_FULL=1); checking preflight logins only"
        );
        let outcome = rt.block_on(async {
            for (script, steps) in [
                (false, None),
                (true, None),
                (true, Some(scripted_script_ui())),
            ] {
                let (server, mut profile) = Embedded::start_configured(false, |c| {
                    if script {
                        c.login_ui = reference_server::LoginUi::Script;
                    }
                })
                .await
                .map_err(|e| e.to_string())?;
                let login = profile.login.get_or_insert_with(Default::default);
                login.driver = Driver::Browser;
                login.steps = steps;
                let http = conformance::http::Http::new(Duration::from_secs(10))
                    .map_err(|e| e.to_string())?;
                let target = Target::resolve(profile, None, &http)
                    .await
                    .map_err(|e| e.to_string())?;
                let r = conformance::preflight_login(&target, Duration::from_secs(10)).await;
                server.stop().await;
                match r {
                    Ok(Some(_)) => {}
                    other => {
                        return Err(format!(
                            "browser preflight (script UI: {script}): {other:?}"
                        ));
                    }
                }
            }
            conformance::login::chrome::shutdown();
            tokio::time::sleep(Duration::from_millis(500)).await;
            let left = leftover_browsers();
            if !left.is_empty() {
                return Err(format!("browsers left running: {left:?}"));
            }
            let folders = leftover_profiles();
            if !folders.is_empty() {
                return Err(format!("browser profile folders left behind: {folders:?}"));
            }
            Ok::<(), String>(())
        });
        return match outcome {
            Ok(()) => {
                println!("test browser_login ... ok");
                ExitCode::SUCCESS
            }
            Err(e) => {
                println!("test browser_login ... FAILED\n  {e}");
                ExitCode::FAILURE
            }
        };
    }
    let outcome = rt.block_on(async {
        let form = suite(false, |_| {}).await?;
        let browser = |steps: Option<Vec<LoginStep>>| {
            move |p: &mut Profile| {
                let login = p.login.get_or_insert_with(Default::default);
                login.driver = Driver::Browser;
                login.steps = steps;
            }
        };
        // Scripted mode is run against the login page built by script (its own
        // selectors); the plain page's scripted profile is the same code path.
        let runs: [(&str, bool, Option<Vec<LoginStep>>); 3] = [
            ("automatic mode, plain login page", false, None),
            ("automatic mode, script login UI", true, None),
            (
                "scripted mode, script login UI",
                true,
                Some(scripted_script_ui()),
            ),
        ];
        let mut problems = Vec::new();
        for (what, script, steps) in runs {
            let started = std::time::Instant::now();
            let r = suite(script, browser(steps)).await?;
            println!(
                "browser_login: {what}: {} scenarios in {:.0} s",
                r.scenarios.len(),
                started.elapsed().as_secs_f64()
            );
            if let Err(e) = same_as(&form, &r, what, script) {
                problems.push(e);
            }
        }
        if !problems.is_empty() {
            return Err(problems.join("\n"));
        }
        conformance::login::chrome::shutdown();
        tokio::time::sleep(Duration::from_millis(500)).await;
        let left = leftover_browsers();
        if !left.is_empty() {
            return Err(format!("browsers left running: {left:?}"));
        }
        let folders = leftover_profiles();
        if !folders.is_empty() {
            return Err(format!("browser profile folders left behind: {folders:?}"));
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

//! The HTML matrix in a real browser: two small reports (one conformant, one with a
//! failure whose detail holds a marker and some markup), rendered to a file and loaded by
//! Debian's headless `chromium` with `--dump-dom`. Proves the page parses into the matrix
//! (both targets, a failing badge), that the failing cell's anchor leads to a `<details>`
//! holding the marker, and that the markup in the detail stayed text.
//! Without `chromium` on PATH it is skipped, except under CI (`CI` set), where it fails.
//! (`harness = false`: it answers `--list` so cargo-nextest can enumerate it.)

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};
use std::time::{Duration, Instant};

use conformance::report::html;
use conformance::report::json::{Report, SCHEMA, Scenario, Section, Summary, TargetInfo, Tool};

const MARKER: &str = "MARKER-4f1c9e expected 400 invalid_grant, got 200";
const TIMEOUT: Duration = Duration::from_secs(60);

fn scenario(line: usize, name: &str, outcome: &str, detail: Option<&str>) -> Scenario {
    Scenario {
        id: format!("rfc6749/4.1-authorization-code.feature:{line}"),
        document: "rfc6749".into(),
        feature: "rfc6749/4.1-authorization-code.feature".into(),
        feature_name: "Authorization code grant".into(),
        rule: None,
        name: name.into(),
        line,
        tags: vec!["must".into(), "R41".into(), "rfc6749-4.1.2".into()],
        requirements: vec!["R41".into()],
        level: "must".into(),
        sections: vec![Section {
            tag: "rfc6749-4.1.2".into(),
            url: "https://www.rfc-editor.org/rfc/rfc6749#section-4.1.2".into(),
        }],
        outcome: outcome.into(),
        failing_step: None,
        duration_ms: 0,
        counted: true,
        detail: detail.map(str::to_owned),
        screenshot: None,
    }
}

fn report(name: &str, verdict: &str, scenarios: Vec<Scenario>) -> Report {
    Report {
        schema: SCHEMA.into(),
        tool: Tool {
            name: "oauth2-conformance".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            features_digest: String::new(),
        },
        target: TargetInfo {
            name: name.into(),
            issuer: None,
            profile: None,
        },
        started_at: "2026-11-27T20:12:07Z".into(),
        duration_ms: 1500,
        strict: false,
        verdict: verdict.into(),
        summary: Summary::default(),
        scenarios,
    }
}

fn on_path(name: &str) -> Option<PathBuf> {
    std::env::split_paths(&std::env::var_os("PATH")?)
        .map(|dir| dir.join(name))
        .find(|p| p.is_file())
}

/// Runs chromium on the page and returns the dumped DOM, killing it after [`TIMEOUT`].
fn dump_dom(chromium: &Path, page: &Path, dir: &Path) -> Result<String, String> {
    let profile = tempfile::tempdir_in(dir).map_err(|e| format!("temp dir: {e}"))?;
    let (out_path, err_path) = (dir.join("dom.html"), dir.join("chromium.log"));
    let stdout = File::create(&out_path).map_err(|e| e.to_string())?;
    let stderr = File::create(&err_path).map_err(|e| e.to_string())?;
    let mut child = Command::new(chromium)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .arg("--dump-dom")
        .arg(format!("file://{}", page.display()))
        .stdin(Stdio::null())
        .stdout(stdout)
        .stderr(stderr)
        .spawn()
        .map_err(|e| format!("cannot start {}: {e}", chromium.display()))?;
    let started = Instant::now();
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if started.elapsed() > TIMEOUT => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(format!(
                    "chromium took more than {} s; killed",
                    TIMEOUT.as_secs()
                ));
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(100)),
            Err(e) => return Err(format!("waiting for chromium: {e}")),
        }
    };
    let dom = std::fs::read_to_string(&out_path).map_err(|e| e.to_string())?;
    if !status.success() || dom.is_empty() {
        let log = std::fs::read_to_string(&err_path).unwrap_or_default();
        let tail: String = log.lines().rev().take(20).collect::<Vec<_>>().join("\n");
        return Err(format!(
            "chromium exited with {status}; its last log lines:\n{tail}"
        ));
    }
    Ok(dom)
}

fn check(chromium: &Path) -> Result<(), String> {
    let conformant = report(
        "alpha-server",
        "conformant",
        vec![
            scenario(10, "Redeeming a code once", "passed", None),
            scenario(20, "Redeeming a code a second time", "passed", None),
        ],
    );
    let detail = format!("{MARKER}\n<script>document.title = 'injected'</script>");
    let failing = report(
        "beta-server",
        "not_conformant",
        vec![
            scenario(10, "Redeeming a code once", "passed", None),
            scenario(
                20,
                "Redeeming a code a second time",
                "failed",
                Some(&detail),
            ),
        ],
    );
    let dir = tempfile::tempdir().map_err(|e| format!("temp dir: {e}"))?;
    let page = dir.path().join("matrix.html");
    std::fs::write(&page, html::render(&[conformant, failing])).map_err(|e| e.to_string())?;
    let dom = dump_dom(chromium, &page, dir.path())?;

    let need = |what: &str, text: &str| {
        if dom.contains(text) {
            Ok(())
        } else {
            Err(format!("the dumped DOM lacks {what} ({text:?})"))
        }
    };
    need("the matrix", "<table class=\"matrix\">")?;
    need("the first target", "alpha-server")?;
    need("the second target", "beta-server")?;
    need("a failing badge", "<span class=\"badge failed\">")?;
    need("the failure detail marker", MARKER)?;
    need("the detail's markup as text", "&lt;script&gt;")?;
    if dom.contains("<script") {
        return Err("a <script> element from a detail reached the DOM".into());
    }
    // The failing cell's anchor names the <details> that holds the marker.
    let href = "<a href=\"#t1-";
    let start = dom
        .find(href)
        .ok_or("no link from a failing cell to a detail")?
        + "<a href=\"#".len();
    let end = start + dom[start..].find('"').ok_or("unterminated href")?;
    let target = format!("<details class=\"item\" id=\"{}\">", &dom[start..end]);
    let at = dom
        .find(&target)
        .ok_or_else(|| format!("the link's target {target} is not in the DOM"))?;
    let body = &dom[at..at + dom[at..].find("</details>").ok_or("unterminated details")?];
    if !body.contains(MARKER) {
        return Err(format!("{target} does not hold the failure detail"));
    }
    Ok(())
}

fn main() -> ExitCode {
    if std::env::args().any(|a| a == "--list") {
        println!("html_browser: test");
        return ExitCode::SUCCESS;
    }
    let Some(chromium) = on_path("chromium") else {
        if std::env::var_os("CI").is_some() {
            eprintln!(
                "html_browser: chromium is not on PATH, and CI must have it (.ci/run installs it)"
            );
            println!("0 passed, 1 failed");
            return ExitCode::FAILURE;
        }
        eprintln!(
            "html_browser: SKIPPED: chromium is not on PATH (install Debian's chromium to run this test)"
        );
        println!("0 passed, 0 failed, 1 skipped");
        return ExitCode::SUCCESS;
    };
    match check(&chromium) {
        Ok(()) => {
            println!("html_browser: the matrix renders in chromium");
            println!("1 passed, 0 failed");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("html_browser: {e}");
            println!("0 passed, 1 failed");
            ExitCode::FAILURE
        }
    }
}

//! The installed binary as CI uses it: self-contained (no checkout needed), gating on
//! `diff`, rerunning what failed, and refusing bad input with exit 2.
//!
//! 1. The binary `cargo test` built (no new build) holds no path of the checkout's
//!    sources (only the build folder `target/` of generated dependency code, and the
//!    checkout root itself as debug information's compilation folder); a copy of it,
//!    run from a temporary folder with `--features` unset, checks the bundled server and
//!    gets the same verdicts as the in-tree run with `--features <checkout>/features`,
//!    and both record the digest `--version` prints; its JUnit is valid against the
//!    project's schema (`xmllint`).
//! 2. `diff` of those two bundled runs: exit 0. `diff` of the bundled run and a run
//!    against the bundled server behind a proxy that drops `Cache-Control: no-store`
//!    from token responses: exit 1, naming exactly the scenarios that passed before and
//!    fail or err now, and the Markdown and JUnit outputs name them too.
//! 3. `--rerun-failed` of the broken run against the bundled server runs exactly its
//!    failed and errored scenarios; `--name` selects by name.
//! 4. Unreadable or wrong-schema JSON for `diff` or `--rerun-failed`: exit 2 with the
//!    path and the reason; `--max-rps 0`: a usage error.
//!
//! (`harness = false`: the runner installs one target per process at a time.)

#[allow(dead_code)]
#[path = "verdicts/proxy.rs"]
mod proxy;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Output};
use std::time::Duration;

use conformance::report::json::{self, Report};
use conformance::target::Target;
use conformance::target::embedded::Embedded;
use conformance::{RunOptions, run};
use proxy::{Proxy, Req, Resp, Rule};

const BIN: &str = env!("CARGO_BIN_EXE_oauth2-conformance");
const ROOT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/..");

fn root() -> PathBuf {
    PathBuf::from(ROOT)
        .canonicalize()
        .unwrap_or_else(|_| PathBuf::from(ROOT))
}

/// Runs the binary with `args` in `dir`.
fn cli(dir: &Path, args: &[&str]) -> Result<Output, String> {
    Command::new(BIN)
        .current_dir(dir)
        .args(args)
        .env("NO_COLOR", "1")
        .output()
        .map_err(|e| format!("cannot run {BIN}: {e}"))
}

fn text(o: &Output) -> String {
    format!(
        "exit {:?}\n--- stdout\n{}\n--- stderr\n{}",
        o.status.code(),
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

fn read_report(path: &Path) -> Result<Report, String> {
    let t = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    json::parse(&t).map_err(|e| format!("{}: {e}", path.display()))
}

fn outcomes(r: &Report) -> BTreeMap<(String, String), String> {
    r.scenarios
        .iter()
        .map(|s| ((s.feature.clone(), s.name.clone()), s.outcome.clone()))
        .collect()
}

/// Every printable run of bytes around an occurrence of `needle` in `bytes`.
fn strings_with(bytes: &[u8], needle: &[u8]) -> BTreeSet<String> {
    let printable = |b: u8| (0x20..0x7f).contains(&b);
    let mut out = BTreeSet::new();
    let mut i = 0;
    while let Some(pos) = bytes[i..].windows(needle.len()).position(|w| w == needle) {
        let at = i + pos;
        let mut start = at;
        while start > 0 && printable(bytes[start - 1]) {
            start -= 1;
        }
        let mut end = at + needle.len();
        while end < bytes.len() && printable(bytes[end]) {
            end += 1;
        }
        out.insert(String::from_utf8_lossy(&bytes[start..end]).into_owned());
        i = end.max(at + 1);
    }
    out
}

/// 1. No path of the checkout's sources is compiled into the binary.
fn no_checkout_path_compiled_in() -> Result<(), String> {
    let bytes = std::fs::read(BIN).map_err(|e| e.to_string())?;
    let root = root().display().to_string();
    let build = format!("{root}/target/");
    let bad: Vec<String> = strings_with(&bytes, root.as_bytes())
        .into_iter()
        .filter(|s| {
            // The root alone (debug information's compilation folder) or generated code
            // of dependencies under target/ is no path the binary reads.
            let s = s.trim_matches(|c: char| !c.is_ascii_graphic());
            s != root && !s.contains(&build)
        })
        .collect();
    if bad.is_empty() {
        Ok(())
    } else {
        Err(format!("the binary holds paths of the checkout: {bad:?}"))
    }
}

/// 1. The copy outside the checkout and the in-tree run give the same verdicts; both
///    record the digest `--version` prints. Returns the two result files.
fn same_verdicts_without_checkout(tmp: &Path) -> Result<(PathBuf, PathBuf), String> {
    let away = tmp.join("elsewhere");
    std::fs::create_dir_all(&away).map_err(|e| e.to_string())?;
    let copy = away.join("oauth2-conformance");
    std::fs::copy(BIN, &copy).map_err(|e| e.to_string())?;
    let version = Command::new(&copy)
        .arg("--version")
        .output()
        .map_err(|e| e.to_string())?;
    let version = String::from_utf8_lossy(&version.stdout).trim().to_owned();
    let digest = version
        .split("(features ")
        .nth(1)
        .and_then(|d| d.strip_suffix(')'))
        .ok_or_else(|| format!("--version does not name the features digest: {version:?}"))?
        .to_owned();
    let outside = away.join("outside.json");
    let junit = away.join("outside.xml");
    let o = Command::new(&copy)
        .current_dir(&away)
        .env("NO_COLOR", "1")
        .arg("--json")
        .arg(&outside)
        .arg("--junit")
        .arg(&junit)
        .output()
        .map_err(|e| e.to_string())?;
    if o.status.code() != Some(0) {
        return Err(format!("the copy outside the checkout: {}", text(&o)));
    }
    // The JUnit of a whole real run is valid against the project's schema.
    let schema = root().join("conformance/tests/junit/junit.xsd");
    let lint = Command::new("xmllint")
        .arg("--noout")
        .arg("--schema")
        .arg(&schema)
        .arg(&junit)
        .output()
        .map_err(|e| format!("cannot run xmllint (apt-get install libxml2-utils): {e}"))?;
    if !lint.status.success() {
        return Err(format!("the JUnit of a real run: {}", text(&lint)));
    }
    let inside = tmp.join("inside.json");
    let features = root().join("features");
    let o = cli(
        &root(),
        &[
            "--features",
            &features.display().to_string(),
            "--json",
            &inside.display().to_string(),
        ],
    )?;
    if o.status.code() != Some(0) {
        return Err(format!("the in-tree run: {}", text(&o)));
    }
    let (a, b) = (read_report(&outside)?, read_report(&inside)?);
    if a.scenarios.len() < 100 {
        return Err(format!("only {} scenarios ran", a.scenarios.len()));
    }
    if outcomes(&a) != outcomes(&b) {
        let differ: Vec<String> = outcomes(&a)
            .into_iter()
            .filter(|(k, v)| outcomes(&b).get(k) != Some(v))
            .map(|(k, v)| format!("{}: {} outside", k.1, v))
            .collect();
        return Err(format!("the verdicts differ: {differ:?}"));
    }
    for r in [&a, &b] {
        if r.tool.features_digest != digest {
            return Err(format!(
                "a result records digest {:?}, --version prints {digest:?}",
                r.tool.features_digest
            ));
        }
    }
    Ok((outside, inside))
}

/// Drops `Cache-Control` from every token-endpoint answer (RFC 6749 §5.1 requires
/// `no-store`).
struct CacheableTokens;
impl Rule for CacheableTokens {
    fn before(&self, _req: &mut Req) -> Option<Resp> {
        None
    }
    fn after(&self, req: &Req, resp: &mut Resp) {
        if req.path == "/oauth/token" {
            resp.set_header("cache-control", None);
            resp.set_header("pragma", None);
        }
    }
}

/// The whole suite against the bundled server behind [`CacheableTokens`], written as a
/// JSON result.
async fn broken_run(path: &Path) -> Result<(), String> {
    let (listener, front) = Proxy::bind().await.map_err(|e| e.to_string())?;
    let issuer = front.clone();
    let (server, profile) = Embedded::start_configured(false, move |c| c.issuer = Some(issuer))
        .await
        .map_err(|e| e.to_string())?;
    let _proxy = Proxy::serve(listener, server.url(), CacheableTokens);
    let http = conformance::http::Http::new(Duration::from_secs(10)).map_err(|e| e.to_string())?;
    let target = Target::resolve(profile, None, &http)
        .await
        .map_err(|e| e.to_string())?;
    let opts = RunOptions::new(root().join("features"));
    let result = run(target, &opts).await;
    server.stop().await;
    let result = result.map_err(|e| e.to_string())?;
    let report = json::build(
        &result,
        json::TargetInfo {
            name: "reference-server".into(),
            issuer: None,
            profile: None,
        },
        "2026-01-01T00:00:00Z".into(),
        0,
    );
    std::fs::write(path, json::render(&report)).map_err(|e| e.to_string())
}

/// 2. `diff`: the same server twice is no regression; the broken one regresses exactly
///    the scenarios that passed before and fail or err now.
fn diff_gates(tmp: &Path, base: &Path, again: &Path, broken: &Path) -> Result<(), String> {
    let o = cli(
        tmp,
        &[
            "diff",
            &base.display().to_string(),
            &again.display().to_string(),
        ],
    )?;
    if o.status.code() != Some(0) {
        return Err(format!("diff of two bundled runs: {}", text(&o)));
    }
    let md = tmp.join("diff.md");
    let xml = tmp.join("diff.xml");
    let o = cli(
        tmp,
        &[
            "diff",
            &base.display().to_string(),
            &broken.display().to_string(),
            "--markdown",
            &md.display().to_string(),
            "--junit",
            &xml.display().to_string(),
        ],
    )?;
    if o.status.code() != Some(1) {
        return Err(format!("diff against the broken run: {}", text(&o)));
    }
    let (before, after) = (
        outcomes(&read_report(base)?),
        outcomes(&read_report(broken)?),
    );
    let regressed: BTreeSet<&(String, String)> = after
        .iter()
        .filter(|(k, v)| {
            matches!(v.as_str(), "failed" | "error")
                && before
                    .get(*k)
                    .is_some_and(|b| matches!(b.as_str(), "passed" | "not_applicable"))
        })
        .map(|(k, _)| k)
        .collect();
    if !regressed
        .iter()
        .any(|(f, n)| f == "rfc6749/5-token-responses.feature" && n.starts_with("Caching headers"))
    {
        return Err(format!(
            "dropping no-store regressed no §5.1 scenario: {regressed:?}"
        ));
    }
    let console = String::from_utf8_lossy(&o.stdout).into_owned();
    let first = console.lines().next().unwrap_or("");
    let want = format!(
        "{} regression{}",
        regressed.len(),
        if regressed.len() == 1 { "" } else { "s" }
    );
    if !first.starts_with(&want) {
        return Err(format!(
            "the summary {first:?} does not start with {want:?}"
        ));
    }
    let markdown = std::fs::read_to_string(&md).map_err(|e| e.to_string())?;
    let junit = std::fs::read_to_string(&xml).map_err(|e| e.to_string())?;
    for (_, name) in &regressed {
        if !console.contains(name.as_str()) || !markdown.contains(&proxy_escape(name)) {
            return Err(format!("the regression {name:?} is not named"));
        }
    }
    let cases = junit.matches("<testcase ").count();
    if cases != regressed.len() {
        return Err(format!(
            "{cases} JUnit test cases for {} regressions",
            regressed.len()
        ));
    }
    Ok(())
}

/// A name as the Markdown table writes it.
fn proxy_escape(name: &str) -> String {
    conformance::report::diff::markdown_cell(name)
}

/// 3. `--rerun-failed` runs exactly what failed or errored; `--name` selects by name.
fn rerun_and_name(tmp: &Path, broken: &Path) -> Result<(), String> {
    let failed: BTreeSet<(String, String)> = read_report(broken)?
        .scenarios
        .into_iter()
        .filter(|s| matches!(s.outcome.as_str(), "failed" | "error"))
        .map(|s| (s.feature, s.name))
        .collect();
    let out = tmp.join("rerun.json");
    let o = cli(
        tmp,
        &[
            "--rerun-failed",
            &broken.display().to_string(),
            "--json",
            &out.display().to_string(),
        ],
    )?;
    if o.status.code() != Some(0) {
        return Err(format!(
            "the rerun against the bundled server: {}",
            text(&o)
        ));
    }
    let ran: BTreeSet<(String, String)> = outcomes(&read_report(&out)?).into_keys().collect();
    if ran != failed {
        return Err(format!(
            "the rerun ran {} scenarios, the broken run failed {}: ran but not failed {:?}, failed but not ran {:?}",
            ran.len(),
            failed.len(),
            ran.difference(&failed).collect::<Vec<_>>(),
            failed.difference(&ran).collect::<Vec<_>>()
        ));
    }
    // --list selects the same scenarios (outline rows by their expanded names).
    let o = cli(
        tmp,
        &["--rerun-failed", &broken.display().to_string(), "--list"],
    )?;
    let listed = String::from_utf8_lossy(&o.stdout).into_owned();
    if !listed.contains(&format!("\n{} scenarios selected", failed.len())) {
        return Err(format!("--rerun-failed --list: {}", text(&o)));
    }
    let o = cli(
        tmp,
        &[
            "--name",
            "^Revoking the refresh token",
            "--json",
            &out.display().to_string(),
        ],
    )?;
    let named = read_report(&out)?;
    if o.status.code() != Some(0)
        || named.scenarios.is_empty()
        || !named
            .scenarios
            .iter()
            .all(|s| s.name.starts_with("Revoking the refresh token"))
    {
        return Err(format!("--name: {}", text(&o)));
    }
    Ok(())
}

/// 4. Bad input ends with exit 2 and says which file and why.
fn bad_input(tmp: &Path) -> Result<(), String> {
    let missing = tmp.join("missing.json");
    let garbage = tmp.join("garbage.json");
    let other = tmp.join("other-schema.json");
    std::fs::write(&garbage, "{ not json").map_err(|e| e.to_string())?;
    std::fs::write(&other, r#"{"schema":"something/else","scenarios":[]}"#)
        .map_err(|e| e.to_string())?;
    let cases: Vec<(Vec<String>, &Path, &str)> = vec![
        (
            vec![
                "diff".into(),
                missing.display().to_string(),
                garbage.display().to_string(),
            ],
            &missing,
            "No such file",
        ),
        (
            vec![
                "diff".into(),
                other.display().to_string(),
                other.display().to_string(),
            ],
            &other,
            "schema",
        ),
        (
            vec!["--rerun-failed".into(), garbage.display().to_string()],
            &garbage,
            "not a result file",
        ),
        (
            vec!["--rerun-failed".into(), missing.display().to_string()],
            &missing,
            "No such file",
        ),
    ];
    for (args, path, why) in cases {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let o = cli(tmp, &args)?;
        let err = String::from_utf8_lossy(&o.stderr);
        if o.status.code() != Some(2)
            || !err.contains(&path.display().to_string())
            || !err.contains(why)
        {
            return Err(format!("{args:?}: {}", text(&o)));
        }
    }
    let o = cli(tmp, &["--max-rps", "0"])?;
    let err = String::from_utf8_lossy(&o.stderr);
    if o.status.code() != Some(2) || !err.contains("invalid value '0' for '--max-rps") {
        return Err(format!("--max-rps 0: {}", text(&o)));
    }
    Ok(())
}

fn main() -> ExitCode {
    if std::env::args().any(|a| a == "--list") {
        println!("cli: test");
        return ExitCode::SUCCESS;
    }
    let outcome = (|| -> Result<(), String> {
        let tmp = tempfile::tempdir().map_err(|e| e.to_string())?;
        no_checkout_path_compiled_in()?;
        bad_input(tmp.path())?;
        let (outside, inside) = same_verdicts_without_checkout(tmp.path())?;
        let broken = tmp.path().join("broken.json");
        let rt = tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
            .map_err(|e| e.to_string())?;
        rt.block_on(broken_run(&broken))?;
        diff_gates(tmp.path(), &outside, &inside, &broken)?;
        rerun_and_name(tmp.path(), &broken)?;
        Ok(())
    })();
    match outcome {
        Ok(()) => {
            println!("test cli ... ok");
            ExitCode::SUCCESS
        }
        Err(e) => {
            println!("test cli ... FAILED\n  {e}");
            ExitCode::FAILURE
        }
    }
}

//! `oauth2-conformance`: run the features against the bundled server (no arguments) or
//! a target profile, print the summary, exit 0 / 1 / 2.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use clap::{CommandFactory as _, FromArgMatches as _, Parser};
use conformance::suite::Suite;
use conformance::target::embedded::Embedded;
use conformance::target::{Profile, Target};
use conformance::{EXIT_CONFORMANT, EXIT_COULD_NOT_RUN, EXIT_NOT_CONFORMANT, RunOptions, run};

/// Check an OAuth 2.0 authorization server against the conformance features.
///
/// Without --profile, starts the bundled reference server in-process and checks it.
/// Exit codes: 0 conformant, 1 not conformant, 2 could not run.
#[derive(Debug, Parser)]
#[command(name = "oauth2-conformance", about, long_about = None)]
#[command(args_conflicts_with_subcommands = true)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    /// Target profile (TOML); without it, the bundled server is started and checked.
    #[arg(long)]
    profile: Option<PathBuf>,
    /// Override the profile's issuer.
    #[arg(long)]
    issuer: Option<String>,
    /// Cucumber tag expression selecting scenarios, e.g. "@rfc7009 and @must".
    #[arg(long)]
    tags: Option<String>,
    /// SHOULD failures also fail the run.
    #[arg(long)]
    strict: bool,
    /// Run the features of this folder instead of those compiled into the binary (for
    /// people writing features).
    #[arg(long, value_name = "DIR")]
    features: Option<PathBuf>,
    /// Scenarios run at once [default: 32 for a target on loopback, 4 for any other; with
    /// the browser login driver at most 4 per browser].
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..))]
    concurrency: Option<u32>,
    /// At most N requests in any one-second window, bursts and retries included
    /// [default: no cap for a target on loopback, 20 for any other].
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    max_rps: Option<u32>,
    /// Browser processes the browser login driver may run at once.
    #[arg(long, value_name = "N", default_value_t = 2, value_parser = clap::value_parser!(u32).range(1..))]
    browsers: u32,
    /// Run exactly the scenarios that failed or errored in this JSON result.
    #[arg(long, value_name = "RESULT.json")]
    rerun_failed: Option<PathBuf>,
    /// Only scenarios whose name matches this regular expression.
    #[arg(long, value_name = "REGEX", value_parser = parse_regex)]
    name: Option<regex::Regex>,
    /// Timeout of every HTTP request, in seconds.
    #[arg(long, default_value_t = 10)]
    timeout: u64,
    /// Write the result as JSON (schema in docs/report-json.md).
    #[arg(long, value_name = "PATH")]
    json: Option<PathBuf>,
    /// Write the result as JUnit XML.
    #[arg(long, value_name = "PATH")]
    junit: Option<PathBuf>,
    /// Write the result as one self-contained HTML page.
    #[arg(long, value_name = "PATH")]
    html: Option<PathBuf>,
    /// Write the run's failures as a ready `[expected_failures]` TOML block (one line
    /// per failing requirement, with the failure's one-line reason), to adopt a baseline.
    #[arg(long, value_name = "PATH")]
    write_expected_failures: Option<PathBuf>,
    /// Print the scenarios that would run, with their tags, without running them.
    #[arg(long)]
    list: bool,
    /// A profile set that changes expectations: `oauth21` runs the OAuth 2.1 / RFC 9700
    /// scenarios (the password grant refused, PKCE required, query tokens refused).
    #[arg(long, value_parser = ["oauth21"])]
    profile_set: Option<String>,
}

#[derive(Debug, clap::Subcommand)]
enum Command {
    /// Merge JSON results of several runs into one HTML matrix of requirements x targets.
    Report {
        /// JSON result files written with --json.
        #[arg(required = true, value_name = "RESULT.json")]
        results: Vec<PathBuf>,
        /// The HTML page to write.
        #[arg(long, value_name = "PATH")]
        html: PathBuf,
    },
    /// Compare two JSON results: what regressed, was fixed, is new or gone, per scenario
    /// and per requirement. Exit codes: 0 no regression, 1 regressions, 2 unreadable input.
    Diff {
        /// The earlier result (written with --json).
        #[arg(value_name = "BASE.json")]
        base: PathBuf,
        /// The later result.
        #[arg(value_name = "NEW.json")]
        new: PathBuf,
        /// Also write the changes as a GitHub-flavoured Markdown table.
        #[arg(long, value_name = "PATH")]
        markdown: Option<PathBuf>,
        /// Also write the regressions as JUnit XML (one test case each).
        #[arg(long, value_name = "PATH")]
        junit: Option<PathBuf>,
    },
    /// Send generated hostile requests (mutations of valid ones, broken client
    /// authentication, framing garbage) to every endpoint the profile names; report
    /// 5xx answers, dropped connections and broken error shapes, shrunk and replayable.
    /// Exit codes: 0 no finding, 1 findings, 2 could not run.
    Fuzz(FuzzArgs),
}

#[derive(Debug, clap::Args)]
struct FuzzArgs {
    /// Target profile (TOML); without it, the bundled server is started and checked.
    #[arg(long)]
    profile: Option<PathBuf>,
    /// Generated requests to send.
    #[arg(long, default_value_t = 2000, value_parser = clap::value_parser!(u64).range(1..))]
    requests: u64,
    /// The seed [default: a random one, printed, so that the run can be repeated].
    #[arg(long)]
    seed: Option<u64>,
    /// At most N requests in any one-second window [default: no cap for a target on
    /// loopback, 20 for any other].
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    max_rps: Option<u32>,
    /// Re-send the one case a report names (SEED:INDEX or SEED:INDEX:N.HEX) and say
    /// whether its finding reproduces (exit 1) or not (exit 0).
    #[arg(long, value_name = "SEED:INDEX", value_parser = parse_case_id)]
    replay: Option<oauth2_fuzz::CaseId>,
    /// Timeout of every exchange, in seconds.
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..))]
    timeout: u64,
    /// Write the result as JSON (the suite's schema: one scenario per robustness row).
    #[arg(long, value_name = "PATH")]
    json: Option<PathBuf>,
    /// Write the result as JUnit XML.
    #[arg(long, value_name = "PATH")]
    junit: Option<PathBuf>,
    /// Write the result as one self-contained HTML page.
    #[arg(long, value_name = "PATH")]
    html: Option<PathBuf>,
}

fn parse_case_id(s: &str) -> Result<oauth2_fuzz::CaseId, String> {
    s.parse()
}

/// Writes the reports a run asked for, secrets scrubbed.
fn write_reports(
    report: &conformance::report::json::Report,
    json: Option<&PathBuf>,
    junit: Option<&PathBuf>,
    html: Option<&PathBuf>,
) -> Result<(), String> {
    let outputs = [
        (json, conformance::report::json::render(report)),
        (junit, conformance::report::junit::render(report)),
        (
            html,
            conformance::report::html::render(std::slice::from_ref(report)),
        ),
    ];
    for (path, text) in outputs {
        if let Some(path) = path {
            let (text, leaked) = conformance::http::scrub(&text);
            if leaked > 0 {
                eprintln!(
                    "oauth2-conformance: {leaked} secret value(s) reached {} and were removed; please report this bug",
                    path.display()
                );
            }
            std::fs::write(path, text)
                .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
        }
    }
    Ok(())
}

/// `oauth2-conformance fuzz [--profile P] ...`.
async fn fuzz(args: &FuzzArgs) -> ExitCode {
    let started_at = conformance::report::json::rfc3339(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs()),
    );
    let timeout = Duration::from_secs(args.timeout);
    let (embedded, profile) = match &args.profile {
        Some(path) => {
            let text = match std::fs::read_to_string(path) {
                Ok(t) => t,
                Err(e) => return could_not_run(&format!("cannot read {}: {e}", path.display())),
            };
            match Profile::from_toml(&text) {
                Ok(p) => (None, p),
                Err(e) => return could_not_run(&format!("{}: {e}", path.display())),
            }
        }
        None => match Embedded::start_with(false).await {
            Ok((e, p)) => (Some(e), p),
            Err(e) => return could_not_run(&format!("{e}")),
        },
    };
    let stop = |embedded: Option<Embedded>| async move {
        conformance::login::chrome::shutdown();
        if let Some(e) = embedded {
            e.stop().await;
        }
    };
    conformance::http::pace::configure(
        args.max_rps
            .or(if embedded.is_some() { None } else { Some(20) }),
        Duration::from_secs(30),
    );
    let http = match conformance::http::Http::new(timeout) {
        Ok(h) => h,
        Err(e) => return could_not_run(&e.to_string()),
    };
    let target = match Target::resolve(profile, None, &http).await {
        Ok(t) => t,
        Err(e) => {
            stop(embedded).await;
            return could_not_run(&e.to_string());
        }
    };
    let (_, max_rps) = target.load_defaults();
    conformance::http::pace::configure(
        args.max_rps.or(max_rps),
        Duration::from_secs(target.max_wait),
    );
    let profile_name = args.profile.as_ref().map(|p| p.display().to_string());
    let seed = args.seed.unwrap_or_else(|| {
        let mut b = [0u8; 8];
        let _ = getrandom::fill(&mut b);
        u64::from_le_bytes(b) % 1_000_000_000
    });
    let opts = conformance::fuzz::Options {
        requests: args.requests,
        seed,
        timeout,
        profile: profile_name.clone(),
    };
    if let Some(id) = &args.replay {
        let r = conformance::fuzz::replay(&target, opts, id).await;
        stop(embedded).await;
        return match r {
            Ok((text, reproduced)) => {
                print!("{text}");
                ExitCode::from(if reproduced {
                    EXIT_NOT_CONFORMANT
                } else {
                    EXIT_CONFORMANT
                })
            }
            Err(e) => could_not_run(&e),
        };
    }
    println!(
        "fuzz: {} generated requests with seed {seed} against {}",
        args.requests, target.name
    );
    let name = target.name.clone();
    let target_info = conformance::report::json::TargetInfo {
        name: target.name.clone(),
        issuer: target.issuer.clone(),
        profile: profile_name.clone(),
    };
    let run = conformance::fuzz::run(&target, opts).await;
    stop(embedded).await;
    let run = match run {
        Ok(r) => r,
        Err(e) => return could_not_run(&e),
    };
    print!(
        "{}",
        conformance::fuzz::summary(&run, profile_name.as_deref())
    );
    if let Some(why) = &run.stopped {
        return could_not_run(&format!(
            "{why}; the fuzz run was stopped after {} requests",
            run.sent
        ));
    }
    let plan = conformance::fuzz::Plan::of(&target).ok();
    let has = |ep: conformance::fuzz::oracle::Ep| {
        plan.as_ref().is_some_and(|p| p.origins.contains_key(&ep))
    };
    let result = conformance::fuzz::result(&run, &has, profile_name.as_deref());
    let elapsed_ms = u64::try_from(run.elapsed.as_millis()).unwrap_or(u64::MAX);
    let report = conformance::report::json::build(&result, target_info, started_at, elapsed_ms);
    print!(
        "{}",
        conformance::http::scrub(&conformance::report::console::render_with(
            &result,
            &name,
            run.elapsed,
            conformance::report::console::use_colour(),
        ))
        .0
    );
    if let Err(e) = write_reports(
        &report,
        args.json.as_ref(),
        args.junit.as_ref(),
        args.html.as_ref(),
    ) {
        return could_not_run(&e);
    }
    if run.findings.is_empty() {
        return ExitCode::from(EXIT_CONFORMANT);
    }
    // Any finding fails a fuzz run, whatever its level (the verdict line above counts
    // levels as a suite run does).
    println!(
        "fuzz: {} kind(s) of finding in {} requests: exit 1",
        run.findings.len(),
        run.sent
    );
    ExitCode::from(EXIT_NOT_CONFORMANT)
}

/// `oauth2-conformance report A.json B.json --html matrix.html`.
fn merge(results: &[PathBuf], html: &PathBuf) -> ExitCode {
    let mut reports = Vec::new();
    for path in results {
        let text = match std::fs::read_to_string(path) {
            Ok(t) => t,
            Err(e) => return could_not_run(&format!("cannot read {}: {e}", path.display())),
        };
        match conformance::report::json::parse(&text) {
            Ok(r) => reports.push(r),
            Err(e) => return could_not_run(&format!("{}: {e}", path.display())),
        }
    }
    if let Err(e) = std::fs::write(html, conformance::report::html::render(&reports)) {
        return could_not_run(&format!("cannot write {}: {e}", html.display()));
    }
    println!("wrote {} ({} targets)", html.display(), reports.len());
    ExitCode::from(EXIT_CONFORMANT)
}

/// A `--name` value: a regular expression, or a usage error.
fn parse_regex(s: &str) -> Result<regex::Regex, String> {
    regex::Regex::new(s).map_err(|e| format!("not a regular expression: {e}"))
}

/// The scenarios that failed or errored in a JSON result, by feature file and name.
fn failed_in(path: &PathBuf) -> Result<std::collections::BTreeSet<(String, String)>, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let report =
        conformance::report::json::parse(&text).map_err(|e| format!("{}: {e}", path.display()))?;
    Ok(report
        .scenarios
        .into_iter()
        .filter(|s| matches!(s.outcome.as_str(), "failed" | "error"))
        .map(|s| (s.feature, s.name))
        .collect())
}

/// `oauth2-conformance diff BASE.json NEW.json [--markdown PATH] [--junit PATH]`.
fn diff(base: &Path, new: &Path, markdown: Option<&Path>, junit: Option<&Path>) -> ExitCode {
    let read = |path: &Path| {
        std::fs::read_to_string(path)
            .map_err(|e| e.to_string())
            .and_then(|text| conformance::report::diff::parse(&text))
            .map_err(|e| format!("{}: {e}", path.display()))
    };
    let (base, new) = match (read(base), read(new)) {
        (Ok(b), Ok(n)) => (b, n),
        (Err(e), _) | (_, Err(e)) => return could_not_run(&e),
    };
    let diff = conformance::report::diff::compare(&base, &new);
    for (path, text) in [(markdown, diff.markdown()), (junit, diff.junit())] {
        if let Some(path) = path {
            if let Err(e) = std::fs::write(path, text) {
                return could_not_run(&format!("cannot write {}: {e}", path.display()));
            }
        }
    }
    print!("{}", diff.console());
    ExitCode::from(diff.exit_code())
}

fn could_not_run(msg: &str) -> ExitCode {
    conformance::login::chrome::shutdown();
    // The reason may quote a page of the target; no secret of the run may reach it.
    let (msg, _) = conformance::http::scrub(msg);
    eprintln!("oauth2-conformance: could not run: {msg}");
    ExitCode::from(EXIT_COULD_NOT_RUN)
}

#[tokio::main]
async fn main() -> ExitCode {
    // The version names the features compiled in, so two binaries that print the same
    // line run the same suite.
    let version: &'static str = Box::leak(conformance::suite::version_text().into_boxed_str());
    let cli = match Cli::from_arg_matches(&Cli::command().version(version).get_matches()) {
        Ok(c) => c,
        Err(e) => e.exit(),
    };
    if let Some(Command::Report { results, html }) = &cli.command {
        return merge(results, html);
    }
    if let Some(Command::Fuzz(args)) = &cli.command {
        conformance::login::chrome::set_pool_size(cli.browsers as usize);
        let _browsers = conformance::login::chrome::Guard;
        conformance::login::chrome::install_hooks();
        conformance::login::chrome::set_artifact_dir(PathBuf::from("."));
        return fuzz(args).await;
    }
    // No browser of the login driver outlives the run: not on Ctrl-C, not on a panic.
    conformance::login::chrome::set_pool_size(cli.browsers as usize);
    let _browsers = conformance::login::chrome::Guard;
    conformance::login::chrome::install_hooks();
    // Screenshots of failed browser logins go next to the reports.
    if let Some(dir) = [&cli.json, &cli.junit, &cli.html]
        .into_iter()
        .flatten()
        .find_map(|p| p.parent().map(std::path::Path::to_path_buf))
    {
        let dir = if dir.as_os_str().is_empty() {
            PathBuf::from(".")
        } else {
            dir
        };
        conformance::login::chrome::set_artifact_dir(dir);
    } else {
        conformance::login::chrome::set_artifact_dir(PathBuf::from("."));
    }
    if let Some(Command::Diff {
        base,
        new,
        markdown,
        junit,
    }) = &cli.command
    {
        return diff(base, new, markdown.as_deref(), junit.as_deref());
    }
    let only = match &cli.rerun_failed {
        None => None,
        Some(path) => match failed_in(path) {
            Ok(set) if set.is_empty() => {
                println!(
                    "nothing to rerun: {} has no failed or errored scenario",
                    path.display()
                );
                return ExitCode::from(EXIT_CONFORMANT);
            }
            Ok(set) => Some(set),
            Err(e) => return could_not_run(&e),
        },
    };
    let suite = match &cli.features {
        Some(dir) => Suite::folder(dir),
        None => Suite::embedded(),
    };
    let suite = match suite {
        Ok(s) => s,
        Err(e) => return could_not_run(&format!("cannot prepare the features: {e}")),
    };
    let started = Instant::now();
    let started_at = conformance::report::json::rfc3339(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs()),
    );
    let mut opts = RunOptions::new(suite.path());
    opts.tags = cli.tags.clone();
    opts.strict = cli.strict;
    opts.timeout = Duration::from_secs(cli.timeout.max(1));
    opts.name = cli.name.clone();
    opts.only = only;

    let (embedded, profile) = match &cli.profile {
        Some(path) => {
            let text = match std::fs::read_to_string(path) {
                Ok(t) => t,
                Err(e) => return could_not_run(&format!("cannot read {}: {e}", path.display())),
            };
            match Profile::from_toml(&text) {
                Ok(p) => (None, p),
                Err(e) => return could_not_run(&format!("{}: {e}", path.display())),
            }
        }
        None => match Embedded::start_with(cli.profile_set.as_deref() == Some("oauth21")).await {
            Ok((e, p)) => (Some(e), p),
            Err(e) => return could_not_run(&format!("{e}")),
        },
    };
    // Discovery is paced before the target is known: gently, unless it is the bundled
    // server or the user set the cap.
    conformance::http::pace::configure(
        cli.max_rps
            .or(if embedded.is_some() { None } else { Some(20) }),
        Duration::from_secs(30),
    );
    let http = match conformance::http::Http::new(opts.timeout) {
        Ok(h) => h,
        Err(e) => return could_not_run(&e.to_string()),
    };
    let mut target = match Target::resolve(profile, cli.issuer.clone(), &http).await {
        Ok(t) => t,
        Err(e) => return could_not_run(&e.to_string()),
    };
    if cli.profile_set.as_deref() == Some("oauth21") {
        target.capabilities.insert("oauth21".to_owned());
        target.capabilities.remove("pkce_optional");
    }
    // A local server may be pressed hard; a shared one gets a gentle default.
    let (mut concurrency, max_rps) = target.load_defaults();
    if target.login.driver == conformance::target::profile::Driver::Browser {
        // Scenarios wait for a browser: more at once than the pool serves would only age
        // their codes and tokens in the queue.
        concurrency = concurrency
            .min(conformance::login::chrome::SCENARIOS_PER_BROWSER * cli.browsers as usize);
    }
    opts.concurrency = cli.concurrency.map_or(concurrency, |n| n as usize);
    opts.max_rps = cli.max_rps.or(max_rps);
    conformance::http::pace::configure(opts.max_rps, Duration::from_secs(target.max_wait));
    let name = target.name.clone();
    let target_info = conformance::report::json::TargetInfo {
        name: target.name.clone(),
        issuer: target.issuer.clone(),
        profile: cli.profile.as_ref().map(|p| p.display().to_string()),
    };
    if cli.list {
        let listed = match conformance::list(&target, &opts) {
            Ok(l) => l,
            Err(e) => return could_not_run(&e.to_string()),
        };
        for l in &listed {
            let tags: Vec<String> = l.tags.iter().map(|t| format!("@{t}")).collect();
            let status = if l.missing.is_empty() {
                String::new()
            } else {
                format!("  [not applicable: needs {}]", l.missing.join(", "))
            };
            println!(
                "{}:{}  {}  {}{status}",
                l.feature,
                l.line,
                l.name,
                tags.join(" ")
            );
        }
        let runnable = listed.iter().filter(|l| l.missing.is_empty()).count();
        println!(
            "{} scenarios selected, {runnable} would run against {name}",
            listed.len()
        );
        if let Some(e) = embedded {
            e.stop().await;
        }
        return ExitCode::from(EXIT_CONFORMANT);
    }
    if let Err(e) = conformance::check_expected_failures(&target, &opts) {
        if let Some(em) = embedded {
            em.stop().await;
        }
        return could_not_run(&e);
    }
    if let Err(e) = conformance::preflight_login(&target, opts.timeout).await {
        if let Some(em) = embedded {
            em.stop().await;
        }
        return could_not_run(&e);
    }
    let expected = target.expected_failures.clone();
    let result = run(target, &opts).await;
    conformance::login::chrome::shutdown();
    if let Some(e) = embedded {
        e.stop().await;
    }
    let result = match result {
        Ok(r) => r,
        Err(e) => return could_not_run(&e.to_string()),
    };
    if let Some(why) = &result.stopped {
        return could_not_run(&format!(
            "{why}; the run was stopped, and its verdicts would say nothing"
        ));
    }
    let console = conformance::report::console::render_with(
        &result,
        &name,
        started.elapsed(),
        conformance::report::console::use_colour(),
    );
    print!("{}", conformance::http::scrub(&console).0);
    let report = conformance::report::json::build(
        &result,
        target_info,
        started_at,
        u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
    );
    if let Some(path) = &cli.write_expected_failures {
        let block = conformance::expected::baseline(&result.scenarios, &expected);
        let (block, _) = conformance::http::scrub(&block);
        if let Err(e) = std::fs::write(path, block) {
            return could_not_run(&format!("cannot write {}: {e}", path.display()));
        }
        eprintln!(
            "oauth2-conformance: wrote the expected failures of this run to {}",
            path.display()
        );
    }
    let outputs = [
        (
            cli.json.as_ref(),
            conformance::report::json::render(&report),
        ),
        (
            cli.junit.as_ref(),
            conformance::report::junit::render(&report),
        ),
        (
            cli.html.as_ref(),
            conformance::report::html::render(std::slice::from_ref(&report)),
        ),
    ];
    for (path, text) in outputs {
        if let Some(path) = path {
            let (text, leaked) = conformance::http::scrub(&text);
            if leaked > 0 {
                eprintln!(
                    "oauth2-conformance: {leaked} secret value(s) reached {} and were removed; please report this bug",
                    path.display()
                );
            }
            if let Err(e) = std::fs::write(path, text) {
                return could_not_run(&format!("cannot write {}: {e}", path.display()));
            }
        }
    }
    if result.scenarios.is_empty() {
        return could_not_run("no scenario was selected");
    }
    ExitCode::from(if result.conformant() {
        EXIT_CONFORMANT
    } else {
        EXIT_NOT_CONFORMANT
    })
}

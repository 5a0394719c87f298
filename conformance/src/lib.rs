//! The OAuth 2.0 conformance runner: the Gherkin features under `features/` checked
//! against an authorization server over HTTP, as a black box.
//!
//! # Layout
//! - [`target`]: target profiles (TOML), discovery, capabilities, and the embedded
//!   bundled server.
//! - [`http`]: the one HTTP client, exchanges and redaction.
//! - [`login`]: the form login driver that gets an authorization code without a
//!   browser.
//! - [`world`]: what a scenario remembers; [`steps`]: step definitions by protocol
//!   surface (token, authorize, revoke, introspect, resource, metadata, http).
//! - [`report`]: outcomes per scenario and the console summary.
//! - [`requirements`]: the requirement index the features cite.
//!
//! [`run`] runs the features against a resolved [`target::Target`].

pub mod expected;
pub mod fuzz;
pub mod http;
pub mod login;
pub mod mismatch;
pub mod report;
pub mod requirements;
pub mod secret;
pub mod steps;
pub mod suite;
pub mod target;
pub mod world;

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use cucumber::World as _;
use cucumber::WriterExt as _;
use cucumber::tag::Ext as _;

use report::collect::{Collector, Results, all_tags, relative};
use report::{Outcome, RunResult, ScenarioResult};
use target::Target;
use world::{Context, OAuthWorld};

/// Exit code: the target conforms.
pub const EXIT_CONFORMANT: u8 = 0;
/// Exit code: the target does not conform.
pub const EXIT_NOT_CONFORMANT: u8 = 1;
/// Exit code: the suite could not run.
pub const EXIT_COULD_NOT_RUN: u8 = 2;

/// How to run.
#[derive(Debug, Clone)]
pub struct RunOptions {
    /// The features folder.
    pub features: PathBuf,
    /// A cucumber tag expression selecting scenarios.
    pub tags: Option<String>,
    /// Whether SHOULD failures fail the run.
    pub strict: bool,
    /// Scenarios run at once.
    pub concurrency: usize,
    /// Timeout of every request.
    pub timeout: Duration,
    /// At most this many requests in any one-second window (`None`: no cap).
    pub max_rps: Option<u32>,
    /// Only scenarios whose name matches.
    pub name: Option<regex::Regex>,
    /// Only these scenarios, by feature file and name (`--rerun-failed`).
    pub only: Option<std::collections::BTreeSet<(String, String)>>,
}

impl RunOptions {
    /// Defaults for a features folder.
    pub fn new(features: impl Into<PathBuf>) -> Self {
        Self {
            features: features.into(),
            tags: None,
            strict: false,
            concurrency: 32,
            timeout: Duration::from_secs(10),
            max_rps: None,
            name: None,
            only: None,
        }
    }

    /// Whether the name filters (`--name`, `--rerun-failed`) keep a scenario.
    pub fn keeps(&self, feature: &str, name: &str) -> bool {
        self.name.as_ref().is_none_or(|re| re.is_match(name))
            && self
                .only
                .as_ref()
                .is_none_or(|o| o.contains(&(feature.to_owned(), name.to_owned())))
    }
}

/// Why a run could not happen.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// The tag expression does not parse.
    #[error("bad tag expression {0:?}")]
    Tags(String),
    /// The HTTP client could not be built.
    #[error("cannot build the HTTP client: {0}")]
    Http(String),
    /// No features.
    #[error("no features folder at {0}")]
    NoFeatures(String),
    /// A feature file does not parse.
    #[error("a feature does not parse: {0}")]
    Parse(String),
}

/// Whether a scenario is selected by the tag expression, and which capabilities it
/// needs that the target lacks.
pub fn selection(
    tags: &std::collections::BTreeSet<String>,
    expr: Option<&cucumber::gherkin::tagexpr::TagOperation>,
    target: &Target,
) -> (bool, Vec<String>) {
    let selected = expr.is_none_or(|op| op.eval(tags.iter()));
    let missing = tags
        .iter()
        .filter_map(|t| t.strip_prefix("needs."))
        .filter(|c| !target.has(c))
        .map(str::to_owned)
        .collect();
    (selected, missing)
}

/// A missing capability as a not-applicable reason names it, with why where the name
/// alone does not say.
fn capability_note(c: &str) -> String {
    match c {
        "brute_force_allowed" => "brute_force_allowed (the target is not on loopback, and the \
             brute-force scenarios run against a shared server only when the profile opts in \
             with [brute_force] remote = true)"
            .to_owned(),
        _ => c.to_owned(),
    }
}

/// A scenario as `--list` shows it.
#[derive(Debug, Clone)]
pub struct Listed {
    /// Feature file, relative to the features folder.
    pub feature: String,
    /// Line of the scenario.
    pub line: usize,
    /// Scenario name.
    pub name: String,
    /// Every tag that applies.
    pub tags: std::collections::BTreeSet<String>,
    /// Capabilities the target lacks (empty: it would run).
    pub missing: Vec<String>,
    /// How many runs it makes (the example rows of an outline, else 1).
    pub runs: usize,
}

/// Checks the features folder and parses the tag expression of a run.
fn tag_expression(
    opts: &RunOptions,
) -> Result<Option<cucumber::gherkin::tagexpr::TagOperation>, RunError> {
    if !opts.features.is_dir() {
        return Err(RunError::NoFeatures(opts.features.display().to_string()));
    }
    opts.tags
        .as_ref()
        .map(|t| t.parse().map_err(|_| RunError::Tags(t.clone())))
        .transpose()
}

/// The scenarios a run would select, without running them (features that do not parse
/// are an error).
pub fn list(target: &Target, opts: &RunOptions) -> Result<Vec<Listed>, RunError> {
    let expr = tag_expression(opts)?;
    let root = opts
        .features
        .canonicalize()
        .unwrap_or_else(|_| opts.features.clone());
    let mut files = Vec::new();
    collect_features(&root, &mut files);
    files.sort();
    let mut out = Vec::new();
    for path in files {
        let feature =
            cucumber::gherkin::Feature::parse_path(&path, cucumber::gherkin::GherkinEnv::default())
                .map_err(|e| RunError::Parse(format!("{}: {e}", path.display())))?;
        let rel = relative(&root, Some(&path));
        let mut add = |rule: Option<&cucumber::gherkin::Rule>, s: &cucumber::gherkin::Scenario| {
            let tags = all_tags(&feature, rule, s);
            let (selected, missing) = selection(&tags, expr.as_ref(), target);
            if !selected {
                return;
            }
            // An outline runs once per example row, named with the row's values, as
            // the results name it (and as --name and --rerun-failed match it).
            let runs: Vec<(String, usize)> = if s.examples.is_empty() {
                vec![(s.name.clone(), s.position.line)]
            } else {
                s.examples
                    .iter()
                    .filter_map(|e| e.table.as_ref())
                    .flat_map(|t| {
                        let header = t.rows.first().cloned().unwrap_or_default();
                        t.rows.iter().enumerate().skip(1).map(move |(i, row)| {
                            let mut name = s.name.clone();
                            for (k, v) in header.iter().zip(row) {
                                name = name.replace(&format!("<{k}>"), v);
                            }
                            (name, t.position.line + i)
                        })
                    })
                    .collect()
            };
            for (name, line) in runs {
                if opts.keeps(&rel, &name) {
                    out.push(Listed {
                        feature: rel.clone(),
                        line,
                        name,
                        tags: tags.clone(),
                        missing: missing.clone(),
                        runs: 1,
                    });
                }
            }
        };
        for s in &feature.scenarios {
            add(None, s);
        }
        for r in &feature.rules {
            for s in &r.scenarios {
                add(Some(r), s);
            }
        }
    }
    Ok(out)
}

fn collect_features(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            collect_features(&p, out);
        } else if p.extension().is_some_and(|x| x == "feature") {
            out.push(p);
        }
    }
}

/// Checks that every `[expected_failures]` key names a scenario of the features or a
/// requirement of the index: a key that matches nothing (a typo, a renamed scenario)
/// would silently expect nothing.
pub fn check_expected_failures(target: &Target, opts: &RunOptions) -> Result<(), String> {
    if target.expected_failures.is_empty() {
        return Ok(());
    }
    let mut all = opts.clone();
    all.tags = None;
    all.name = None;
    all.only = None;
    let names: std::collections::BTreeSet<String> = list(target, &all)
        .map_err(|e| e.to_string())?
        .into_iter()
        .map(|l| l.name)
        .collect();
    let root = opts
        .features
        .canonicalize()
        .unwrap_or_else(|_| opts.features.clone());
    let ids: std::collections::BTreeSet<String> =
        requirements::load(&root.join("requirements.tsv"))
            .unwrap_or_default()
            .into_iter()
            .map(|r| r.id)
            .collect();
    let unknown: Vec<&String> = target
        .expected_failures
        .keys()
        .filter(|k| !names.contains(*k) && !ids.contains(*k))
        .collect();
    if unknown.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "bad profile: [expected_failures] names no scenario and no requirement: {}",
            unknown
                .iter()
                .map(|k| format!("{k:?}"))
                .collect::<Vec<_>>()
                .join(", ")
        ))
    }
}

/// Checks, before any scenario, that the login page can be driven: one authorization
/// request for the primary user must come back to the client's redirection URI with a
/// code. `Ok(None)` when the target has no login to check; `Err` (exit 2) when the
/// profile describes a login that cannot be used, or the login does not end in a code,
/// with what was seen.
pub async fn preflight_login(target: &Target, timeout: Duration) -> Result<Option<String>, String> {
    if !target.has("login") {
        if target.login_configured {
            if let Some(why) = target.login_missing(&target.capabilities) {
                return Err(format!(
                    "the profile has a [login] section, but the runner cannot log in: {why}"
                ));
            }
        }
        return Ok(None);
    }
    let (Some(user), Some(endpoint)) = (
        target.primary.as_ref(),
        target.endpoints.authorization.clone(),
    ) else {
        return Ok(None);
    };
    let Some(client) = target::ClientRole::ALL
        .iter()
        .filter_map(|r| target.client(*r))
        .find(|c| c.redirect_uri.is_some() && c.has_grant("authorization_code"))
    else {
        return Err(
            "no client with a redirect_uri is registered for the authorization_code grant, so the runner cannot log in"
                .to_owned(),
        );
    };
    let redirect_uri = client.redirect_uri.clone().unwrap_or_default();
    let verifier = steps::authorize::random();
    let mut params = vec![
        ("response_type".to_owned(), "code".to_owned()),
        ("client_id".to_owned(), client.id.clone()),
        ("redirect_uri".to_owned(), redirect_uri.clone()),
        ("state".to_owned(), steps::authorize::random()),
    ];
    if let Some(s) = &client.scope {
        params.push(("scope".into(), s.clone()));
    }
    if target.has("pkce") {
        params.push(("code_challenge".into(), steps::authorize::s256(&verifier)));
        params.push(("code_challenge_method".into(), "S256".into()));
    }
    let sep = if endpoint.contains('?') { '&' } else { '?' };
    let url = format!("{endpoint}{sep}{}", http::encode_pairs(&params));
    let who = format!("[clients.{}], [users.primary]", client.role.key());
    match login::drive(&url, &redirect_uri, user, &target.login, timeout, true).await {
        Ok(resp) if resp.get("code").is_some_and(|c| !c.is_empty()) => {
            Ok(Some("the login came back with a code".to_owned()))
        }
        Ok(resp) => {
            let pages: Vec<String> = resp
                .trail
                .iter()
                .filter(|x| x.status == 200 && x.body.contains("<form"))
                .map(|x| {
                    format!(
                        "{}: {}",
                        http::redact_url(&x.url),
                        login::form::describe_forms(&login::html::forms(&x.body))
                    )
                })
                .collect();
            Err(format!(
                "the login preflight ({who}) did not end in a code: the authorization server \
                 redirected to the client with error={:?}, error_description={:?}; the forms \
                 the runner filled in: {}",
                resp.get("error").unwrap_or(""),
                resp.get("error_description").unwrap_or(""),
                if pages.is_empty() {
                    "none".to_owned()
                } else {
                    pages.join(" | ")
                }
            ))
        }
        Err(e) => Err(format!("login failed before any check ({who}): {e}")),
    }
}

/// Runs the features against a target.
pub async fn run(target: Target, opts: &RunOptions) -> Result<RunResult, RunError> {
    let expr = tag_expression(opts)?;
    let expr_text = expr.clone();
    let pace = http::pace::configure(opts.max_rps, Duration::from_secs(target.max_wait));
    let http = http::Http::new(opts.timeout).map_err(|e| RunError::Http(e.to_string()))?;
    let expected = target.expected_failures.clone();
    let ctx = Arc::new(Context::new(target, http, opts.timeout));
    world::install(ctx.clone());

    let results: Results = Arc::new(Mutex::new(Vec::new()));
    let skipped: Results = Arc::new(Mutex::new(Vec::new()));
    let root = opts
        .features
        .canonicalize()
        .unwrap_or_else(|_| opts.features.clone());
    let filter_root = root.clone();
    let filter_skipped = skipped.clone();
    let filter_ctx = ctx.clone();
    let filter_opts = opts.clone();
    let total = list(&ctx.target, opts)
        .map(|l| {
            l.iter()
                .filter(|s| s.missing.is_empty())
                .map(|s| s.runs)
                .sum()
        })
        .unwrap_or(0);
    let collector = Collector::new(results.clone(), &root, total);
    OAuthWorld::cucumber()
        .max_concurrent_scenarios(opts.concurrency)
        .with_writer(collector.normalized())
        .fail_on_skipped()
        // Last: changing the writer resets the CLI options, and without them cucumber
        // would parse this process's own arguments.
        .with_default_cli()
        // A refusal of a code or token that was past its lifetime when used says nothing
        // about the requirement: the scenario ends as an error, whatever its steps said.
        .after(|_, _, _, _, w| {
            Box::pin(async move {
                if let Some(w) = w {
                    if !w.throttled.is_empty() {
                        std::panic::panic_any(
                            mismatch::Mismatch::new(
                                "answers the checks can judge (the target declined to serve, \
                                 so its answer says nothing about the requirement: lower \
                                 --max-rps or --concurrency)",
                                w.throttled.join("; "),
                            )
                            .into_error()
                            .to_string(),
                        );
                    }
                    if !w.stale.is_empty() {
                        std::panic::panic_any(
                            mismatch::Mismatch::error(format!(
                                "a refusal came for a credential past its lifetime, so it says nothing about the requirement: {}",
                                w.stale.join("; ")
                            ))
                            .to_string(),
                        );
                    }
                }
            })
        })
        .filter_run(root.clone(), move |f, r, s| {
            // Tag filters and capabilities decide here; skipped scenarios are reported
            // as not applicable, never as passed.
            let tags = all_tags(f, r, s);
            let (selected, missing) = selection(&tags, expr.as_ref(), &filter_ctx.target);
            if !selected || !filter_opts.keeps(&relative(&filter_root, f.path.as_ref()), &s.name)
            {
                return false;
            }
            if missing.is_empty() {
                return true;
            }
            if let Ok(mut na) = filter_skipped.lock() {
                na.push(ScenarioResult {
                    feature: relative(&filter_root, f.path.as_ref()),
                    feature_name: f.name.clone(),
                    rule: r.map(|r| r.name.clone()),
                    name: s.name.clone(),
                    line: s.position.line,
                    tags,
                    outcome: Outcome::NotApplicable(format!(
                        "the target lacks: {}",
                        missing
                            .iter()
                            .map(|c| capability_note(c))
                            .collect::<Vec<_>>()
                            .join(", ")
                    )),
                    failing_step: None,
                    duration_ms: 0,
                });
            }
            false
        })
        .await;

    let mut scenarios: Vec<ScenarioResult> = Vec::new();
    for list in [results, skipped] {
        if let Ok(mut l) = list.lock() {
            scenarios.append(&mut l);
        }
    }
    for s in &mut scenarios {
        // A MAY is optional: when the target does not do it, the feature is missing,
        // which is not applicable rather than a failure.
        if s.level() == report::Level::May {
            if let Outcome::Failed(msg) = &s.outcome {
                s.outcome = Outcome::NotApplicable(format!(
                    "optional (MAY) behaviour the target does not offer:\n{msg}"
                ));
            }
        }
    }
    expected::apply(&mut scenarios, &expected);
    // Requirements no black box can check over HTTP count as not applicable, with the
    // index's reason, so a report never passes over them in silence.
    if let Ok(index) = requirements::load(&root.join("requirements.tsv")) {
        for r in index {
            if let Some(reason) = &r.not_checkable {
                // Tagged like a scenario of its document, so --tags selects them alike.
                let tags: std::collections::BTreeSet<String> =
                    [r.id.clone(), r.level.clone(), r.document.clone()]
                        .into_iter()
                        .collect();
                let feature = format!("{}/requirements.tsv", r.document);
                let name = format!("{}: {}", r.id, r.text);
                if !expr_text.as_ref().is_none_or(|op| op.eval(tags.iter()))
                    || !opts.keeps(&feature, &name)
                {
                    continue;
                }
                scenarios.push(ScenarioResult {
                    feature,
                    feature_name: "Requirements a black box cannot check".into(),
                    rule: None,
                    name,
                    line: 0,
                    tags,
                    outcome: Outcome::NotApplicable(format!("not checkable over HTTP: {reason}")),
                    failing_step: None,
                    duration_ms: 0,
                });
            }
        }
    }
    scenarios.sort_by(|a, b| (&a.feature, a.line).cmp(&(&b.feature, b.line)));
    Ok(RunResult {
        scenarios,
        strict: opts.strict,
        features_digest: suite::folder_digest(&root).unwrap_or_default(),
        retried: pace.retried(),
        stopped: pace.tripped(),
    })
}

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

pub mod http;
pub mod login;
pub mod mismatch;
pub mod report;
pub mod requirements;
pub mod secret;
pub mod steps;
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
        }
    }
}

/// The features folder: `features/` in the working directory, else the repository's.
pub fn default_features_dir() -> PathBuf {
    let local = PathBuf::from("features");
    if local.is_dir() {
        local
    } else {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../features")
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

/// Runs the features against a target.
pub async fn run(target: Target, opts: &RunOptions) -> Result<RunResult, RunError> {
    if !opts.features.is_dir() {
        return Err(RunError::NoFeatures(opts.features.display().to_string()));
    }
    let expr = match &opts.tags {
        Some(t) => Some(
            t.parse::<cucumber::gherkin::tagexpr::TagOperation>()
                .map_err(|_| RunError::Tags(t.clone()))?,
        ),
        None => None,
    };
    let http = http::Http::new(opts.timeout).map_err(|e| RunError::Http(e.to_string()))?;
    let expected = target.expected_failures.clone();
    let ctx = Arc::new(Context {
        target,
        http,
        timeout: opts.timeout,
    });
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
    let collector = Collector::new(results.clone(), &root, 0);
    OAuthWorld::cucumber()
        .max_concurrent_scenarios(opts.concurrency)
        .with_writer(collector.normalized())
        .fail_on_skipped()
        // Last: changing the writer resets the CLI options, and without them cucumber
        // would parse this process's own arguments.
        .with_default_cli()
        .filter_run(root.clone(), move |f, r, s| {
            // Tag filters and capabilities decide here; skipped scenarios are reported
            // as not applicable, never as passed.
            let tags = all_tags(f, r, s);
            let (selected, missing) = selection(&tags, expr.as_ref(), &filter_ctx.target);
            if !selected {
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
                        missing.join(", ")
                    )),
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
        let reason = expected
            .get(&s.name)
            .or_else(|| s.requirements().iter().find_map(|id| expected.get(id)))
            .cloned();
        if let Some(reason) = reason {
            s.outcome = match std::mem::replace(&mut s.outcome, Outcome::Passed) {
                Outcome::Failed(_) => Outcome::ExpectedFailure(reason),
                Outcome::Passed => Outcome::UnexpectedPass(reason),
                other => other,
            };
        }
    }
    // Requirements no black box can check over HTTP count as not applicable, with the
    // index's reason, so a report never passes over them in silence.
    if let Ok(index) = requirements::load(&root.join("requirements.tsv")) {
        for r in index {
            if let Some(reason) = &r.not_checkable {
                scenarios.push(ScenarioResult {
                    feature: format!("{}/requirements.tsv", r.document),
                    feature_name: "Requirements a black box cannot check".into(),
                    rule: None,
                    name: format!("{}: {}", r.id, r.text),
                    line: 0,
                    tags: [r.id.clone(), r.level.clone()].into_iter().collect(),
                    outcome: Outcome::NotApplicable(format!("not checkable over HTTP: {reason}")),
                });
            }
        }
    }
    scenarios.sort_by(|a, b| (&a.feature, a.line).cmp(&(&b.feature, b.line)));
    Ok(RunResult {
        scenarios,
        strict: opts.strict,
    })
}

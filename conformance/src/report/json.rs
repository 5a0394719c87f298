//! The JSON result: a documented, versioned schema (`docs/report-json.md`) that CI can
//! consume and that `oauth2-conformance report` merges into an HTML matrix. Everything in
//! it is already redacted: failure details carry exchanges through
//! [`crate::http::Exchange::describe`].

use serde::{Deserialize, Serialize};

use super::{Outcome, RunResult, ScenarioResult, section_link};

/// The schema identifier; a breaking change gets a new version.
pub const SCHEMA: &str = "oauth2-conformance/result/v1";

/// A whole run.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Report {
    /// Always [`SCHEMA`].
    pub schema: String,
    /// The tool that wrote it.
    pub tool: Tool,
    /// The target.
    pub target: TargetInfo,
    /// When the run started (RFC 3339, UTC).
    pub started_at: String,
    /// How long it took, milliseconds.
    pub duration_ms: u64,
    /// Whether SHOULD failures counted.
    pub strict: bool,
    /// `conformant` or `not_conformant`.
    pub verdict: String,
    /// Counts by outcome.
    pub summary: Summary,
    /// Every scenario (and every requirement no black box can check), in feature order.
    pub scenarios: Vec<Scenario>,
}

/// The tool.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Tool {
    /// `oauth2-conformance`.
    pub name: String,
    /// Its version.
    pub version: String,
    /// A short digest of the features and requirement index the run used (see
    /// [`crate::suite::Suite::digest`]): two results with the same digest ran the same
    /// suite (empty in files written before it was recorded).
    #[serde(default)]
    pub features_digest: String,
}

/// The target.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TargetInfo {
    /// Its name from the profile.
    pub name: String,
    /// Its issuer, if known.
    pub issuer: Option<String>,
    /// The profile file, if one was given (`null` for the bundled server).
    pub profile: Option<String>,
}

/// Counts by outcome.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Summary {
    /// Passed.
    pub passed: usize,
    /// Failed.
    pub failed: usize,
    /// Not applicable.
    pub not_applicable: usize,
    /// Errors: scenarios that could not reach their check (absent in files written
    /// before the outcome existed).
    #[serde(default)]
    pub errors: usize,
    /// Expected failures.
    pub expected_failures: usize,
    /// Unexpected passes.
    pub unexpected_passes: usize,
    /// `429` / `503` answers with `Retry-After` that were waited out and retried once
    /// before any step judged them (absent in older files).
    #[serde(default)]
    pub retried_after_throttle: usize,
}

/// One scenario.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Scenario {
    /// Stable id: `feature-path:line`.
    pub id: String,
    /// Document folder (`rfc6749`, ...).
    pub document: String,
    /// Feature file relative to the features folder.
    pub feature: String,
    /// Feature title.
    pub feature_name: String,
    /// Rule text, if any.
    pub rule: Option<String>,
    /// Scenario title.
    pub name: String,
    /// Line in the feature file.
    pub line: usize,
    /// Every tag, without `@`.
    pub tags: Vec<String>,
    /// Requirement IDs cited.
    pub requirements: Vec<String>,
    /// `must`, `should` or `may`.
    pub level: String,
    /// Sections with their RFC links.
    pub sections: Vec<Section>,
    /// `passed`, `failed`, `error`, `not_applicable`, `expected_failure` or
    /// `unexpected_pass`.
    pub outcome: String,
    /// The step that failed, or that stopped the scenario before its check (`error`),
    /// with its line.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failing_step: Option<String>,
    /// How long the scenario ran, milliseconds (0 when it did not run; absent in files
    /// written before it was recorded).
    #[serde(default)]
    pub duration_ms: u64,
    /// Whether a failure here makes the run not conformant.
    pub counted: bool,
    /// What went wrong, why not applicable, or why expected (redacted text).
    pub detail: Option<String>,
    /// The screenshot the browser login driver took of a login that did not end (a PNG
    /// file next to the reports), if one was taken.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub screenshot: Option<String>,
}

/// The path of the login screenshot a failure text names (`...; screenshot: PATH.png`).
pub fn screenshot_in(detail: &str) -> Option<String> {
    let (_, rest) = detail.rsplit_once("; screenshot: ")?;
    let path = rest.split(['\n', '"']).next()?.trim();
    path.ends_with(".png").then(|| path.to_owned())
}

/// A section tag and its link.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Section {
    /// The tag, e.g. `rfc6749-4.1.2`.
    pub tag: String,
    /// `https://www.rfc-editor.org/rfc/rfc6749#section-4.1.2`.
    pub url: String,
}

fn outcome(o: &Outcome) -> (&'static str, Option<String>) {
    match o {
        Outcome::Passed => ("passed", None),
        Outcome::Failed(m) => ("failed", Some(m.clone())),
        Outcome::NotApplicable(m) => ("not_applicable", Some(m.clone())),
        Outcome::Error(m) => ("error", Some(m.clone())),
        Outcome::ExpectedFailure(m) => ("expected_failure", Some(m.clone())),
        Outcome::UnexpectedPass(m) => ("unexpected_pass", Some(m.clone())),
    }
}

fn scenario(run: &RunResult, s: &ScenarioResult) -> Scenario {
    let (outcome, detail) = outcome(&s.outcome);
    Scenario {
        id: format!("{}:{}", s.feature, s.line),
        document: s.document(),
        feature: s.feature.clone(),
        feature_name: s.feature_name.clone(),
        rule: s.rule.clone(),
        name: s.name.clone(),
        line: s.line,
        tags: s.tags.iter().cloned().collect(),
        requirements: s.requirements(),
        level: s.level().as_str().to_owned(),
        sections: s
            .sections()
            .into_iter()
            .filter_map(|tag| section_link(&tag).map(|url| Section { tag, url }))
            .collect(),
        outcome: outcome.to_owned(),
        failing_step: s.failing_step.clone(),
        duration_ms: s.duration_ms,
        counted: run.counts(s) || matches!(s.outcome, Outcome::Error(_)),
        screenshot: detail.as_deref().and_then(screenshot_in),
        detail,
    }
}

/// Builds the report of a run.
pub fn build(run: &RunResult, target: TargetInfo, started_at: String, duration_ms: u64) -> Report {
    let mut summary = Summary {
        retried_after_throttle: run.retried,
        ..Summary::default()
    };
    for s in &run.scenarios {
        match s.outcome {
            Outcome::Passed => summary.passed += 1,
            Outcome::Failed(_) => summary.failed += 1,
            Outcome::NotApplicable(_) => summary.not_applicable += 1,
            Outcome::Error(_) => summary.errors += 1,
            Outcome::ExpectedFailure(_) => summary.expected_failures += 1,
            Outcome::UnexpectedPass(_) => summary.unexpected_passes += 1,
        }
    }
    Report {
        schema: SCHEMA.to_owned(),
        tool: Tool {
            name: "oauth2-conformance".to_owned(),
            version: env!("CARGO_PKG_VERSION").to_owned(),
            features_digest: run.features_digest.clone(),
        },
        target,
        started_at,
        duration_ms,
        strict: run.strict,
        verdict: run.verdict().as_str().to_owned(),
        summary,
        scenarios: run.scenarios.iter().map(|s| scenario(run, s)).collect(),
    }
}

/// The report as pretty JSON.
pub fn render(report: &Report) -> String {
    serde_json::to_string_pretty(report).unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"))
}

/// Reads a report, checking its schema.
pub fn parse(text: &str) -> Result<Report, String> {
    let r: Report = serde_json::from_str(text).map_err(|e| format!("not a result file: {e}"))?;
    if r.schema != SCHEMA {
        return Err(format!("schema {:?}, expected {SCHEMA:?}", r.schema));
    }
    Ok(r)
}

/// Seconds since the epoch as RFC 3339 UTC (`2026-11-27T20:12:07Z`).
pub fn rfc3339(secs: u64) -> String {
    let days = secs / 86_400;
    let rem = secs % 86_400;
    let (h, m, s) = (rem / 3600, rem % 3600 / 60, rem % 60);
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = i64::try_from(days).unwrap_or(0) + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let mo = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = if mo <= 2 { y + 1 } else { y };
    format!("{y:04}-{mo:02}-{d:02}T{h:02}:{m:02}:{s:02}Z")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Known dates format correctly.
    #[test]
    fn dates() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(rfc3339(1_795_810_327), "2026-11-27T20:12:07Z");
    }
}

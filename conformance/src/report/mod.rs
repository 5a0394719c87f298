//! Outcomes per scenario, collected from cucumber's events, and the writers that
//! present them.

pub mod collect;
pub mod console;
pub mod diff;
pub mod html;
pub mod json;
pub mod junit;

#[cfg(test)]
mod fixture;

use std::collections::BTreeSet;

/// What became of one scenario.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Every step passed.
    Passed,
    /// A step failed; the message says what was expected and what happened.
    Failed(String),
    /// Not run, or stopped: the target or the profile lacks what the scenario needs
    /// (the message says what).
    NotApplicable(String),
    /// The scenario could not reach its check: a setup step failed, or the target could
    /// not do what the scenario's `@needs` promised. Not a verdict on the requirement,
    /// and no clean verdict for the run either.
    Error(String),
    /// Failed, and the profile expects it to (with the profile's reason).
    ExpectedFailure(String),
    /// Passed, though the profile expects it to fail.
    UnexpectedPass(String),
}

/// The requirement level of a scenario.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Level {
    /// MUST / MUST NOT / REQUIRED.
    Must,
    /// SHOULD / SHOULD NOT / RECOMMENDED.
    Should,
    /// MAY / OPTIONAL.
    May,
}

impl Level {
    /// The tag word.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Must => "must",
            Self::Should => "should",
            Self::May => "may",
        }
    }
}

/// One scenario's result.
#[derive(Debug, Clone)]
pub struct ScenarioResult {
    /// Feature file path relative to the features folder.
    pub feature: String,
    /// Feature name.
    pub feature_name: String,
    /// Rule text, if any.
    pub rule: Option<String>,
    /// Scenario name.
    pub name: String,
    /// Line in the feature file.
    pub line: usize,
    /// Every tag that applies (feature, rule, scenario), without `@`.
    pub tags: BTreeSet<String>,
    /// The outcome.
    pub outcome: Outcome,
    /// The step that failed or stopped the scenario (`Given ...` with its line), if one
    /// did.
    pub failing_step: Option<String>,
    /// How long it ran, milliseconds (0 for a scenario that did not run).
    pub duration_ms: u64,
}

impl ScenarioResult {
    /// The document folder (`rfc6749`, `bcp`, ...).
    pub fn document(&self) -> String {
        self.feature.split('/').next().unwrap_or("").to_owned()
    }

    /// The level from the tags (`must` when none is given).
    pub fn level(&self) -> Level {
        if self.tags.contains("must") {
            Level::Must
        } else if self.tags.contains("should") {
            Level::Should
        } else if self.tags.contains("may") {
            Level::May
        } else {
            Level::Must
        }
    }

    /// Requirement IDs cited (`R41`, `M3`, `I2`).
    pub fn requirements(&self) -> Vec<String> {
        self.tags
            .iter()
            .filter(|t| is_requirement_id(t))
            .cloned()
            .collect()
    }

    /// Section tags such as `rfc6749-4.1.2`.
    pub fn sections(&self) -> Vec<String> {
        self.tags
            .iter()
            .filter(|t| section_link(t).is_some())
            .cloned()
            .collect()
    }
}

/// Whether a tag is a requirement ID: `R`, `M`, `I` or `F` (robustness, checked by
/// `fuzz`) followed by digits and at most one lowercase letter (`R24a`: a part of a
/// sentence with a level of its own).
pub fn is_requirement_id(tag: &str) -> bool {
    let mut chars = tag.chars();
    matches!(chars.next(), Some('R' | 'M' | 'I' | 'F')) && {
        let rest = chars.as_str();
        let digits = rest
            .strip_suffix(|c: char| c.is_ascii_lowercase())
            .unwrap_or(rest);
        !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit())
    }
}

/// The link to an RFC section for a tag like `rfc6749-4.1.2` or `rfc9700-2.1.1`.
pub fn section_link(tag: &str) -> Option<String> {
    let rest = tag.strip_prefix("rfc")?;
    let (num, section) = rest.split_once('-')?;
    if num.is_empty() || !num.bytes().all(|b| b.is_ascii_digit()) || section.is_empty() {
        return None;
    }
    Some(format!(
        "https://www.rfc-editor.org/rfc/rfc{num}#section-{section}"
    ))
}

/// What a run says of its target. Both kinds of "not conformant" exit 1.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// No counted failure, no unexpected pass, no error.
    Conformant,
    /// A counted failure or an unexpected pass.
    NotConformant,
    /// No failure, but errors: some checks did not run, so the run gives no verdict.
    NoVerdict,
}

impl Verdict {
    /// The JSON value: `conformant`, `not_conformant` or `no_verdict`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Conformant => "conformant",
            Self::NotConformant => "not_conformant",
            Self::NoVerdict => "no_verdict",
        }
    }

    /// The console's word for it.
    pub fn label(self) -> &'static str {
        match self {
            Self::Conformant => "CONFORMANT",
            Self::NotConformant => "NOT CONFORMANT",
            Self::NoVerdict => "NO VERDICT",
        }
    }
}

/// A run's outcomes.
#[derive(Debug, Clone)]
pub struct RunResult {
    /// Every scenario, in feature order.
    pub scenarios: Vec<ScenarioResult>,
    /// Whether SHOULD failures count.
    pub strict: bool,
    /// The digest of the features that ran ([`crate::suite::folder_digest`]).
    pub features_digest: String,
    /// How many `429` / `503` answers were waited out and retried.
    pub retried: usize,
    /// Why the circuit breaker stopped the run, if it did: its verdicts say nothing.
    pub stopped: Option<String>,
}

impl RunResult {
    /// Whether a failure counts against conformance.
    pub fn counts(&self, r: &ScenarioResult) -> bool {
        match r.level() {
            Level::Must => true,
            Level::Should => self.strict,
            Level::May => false,
        }
    }

    /// Whether the target conforms: no counted failure, no unexpected pass, and no
    /// error (a scenario whose check did not run leaves the verdict open).
    pub fn conformant(&self) -> bool {
        !self.scenarios.iter().any(|r| match r.outcome {
            Outcome::Failed(_) => self.counts(r),
            Outcome::UnexpectedPass(_) | Outcome::Error(_) => true,
            _ => false,
        })
    }

    /// The verdict: not conformant when a counted failure or an unexpected pass says
    /// so; no verdict when nothing did but some scenario could not reach its check.
    pub fn verdict(&self) -> Verdict {
        let broken = self.scenarios.iter().any(|r| match r.outcome {
            Outcome::Failed(_) => self.counts(r),
            Outcome::UnexpectedPass(_) => true,
            _ => false,
        });
        if broken {
            Verdict::NotConformant
        } else if self.conformant() {
            Verdict::Conformant
        } else {
            Verdict::NoVerdict
        }
    }

    /// How many scenarios ended with each outcome.
    pub fn counts_by_outcome(&self) -> Counts {
        let mut c = Counts::default();
        for r in &self.scenarios {
            c.add(&r.outcome);
        }
        c
    }
}

/// Scenarios by outcome.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Counts {
    /// Passed.
    pub passed: usize,
    /// Failed.
    pub failed: usize,
    /// Not applicable.
    pub not_applicable: usize,
    /// Errors: the check did not run.
    pub errors: usize,
    /// Expected failures.
    pub expected: usize,
    /// Unexpected passes.
    pub unexpected: usize,
}

impl Counts {
    /// Counts one outcome.
    pub fn add(&mut self, o: &Outcome) {
        match o {
            Outcome::Passed => self.passed += 1,
            Outcome::Failed(_) => self.failed += 1,
            Outcome::NotApplicable(_) => self.not_applicable += 1,
            Outcome::Error(_) => self.errors += 1,
            Outcome::ExpectedFailure(_) => self.expected += 1,
            Outcome::UnexpectedPass(_) => self.unexpected += 1,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scenario(level: &str, outcome: Outcome) -> ScenarioResult {
        ScenarioResult {
            feature: "rfc6749/x.feature".into(),
            feature_name: "x".into(),
            rule: None,
            name: format!("{level} {outcome:?}"),
            line: 1,
            tags: [level.to_owned()].into_iter().collect(),
            outcome,
            failing_step: None,
            duration_ms: 0,
        }
    }

    /// Errors without failures give no verdict; a counted failure says not conformant
    /// whatever else happened; SHOULD failures count only with --strict.
    #[test]
    fn verdicts() {
        let run = |strict, scenarios| RunResult {
            scenarios,
            strict,
            features_digest: String::new(),
            retried: 0,
            stopped: None,
        };
        let error = || scenario("must", Outcome::Error("setup".into()));
        let must = || scenario("must", Outcome::Failed("x".into()));
        let should = || scenario("should", Outcome::Failed("x".into()));
        let passed = || scenario("must", Outcome::Passed);
        assert_eq!(run(false, vec![passed()]).verdict(), Verdict::Conformant);
        assert_eq!(
            run(false, vec![passed(), error()]).verdict(),
            Verdict::NoVerdict
        );
        assert_eq!(
            run(false, vec![must(), error()]).verdict(),
            Verdict::NotConformant
        );
        assert_eq!(run(false, vec![should()]).verdict(), Verdict::Conformant);
        assert_eq!(run(true, vec![should()]).verdict(), Verdict::NotConformant);
        assert_eq!(
            run(true, vec![should(), error()]).verdict(),
            Verdict::NotConformant
        );
    }
}

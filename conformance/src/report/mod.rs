//! Outcomes per scenario, collected from cucumber's events, and the writers that
//! present them.

pub mod collect;
pub mod console;
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
    /// Not run: the target lacks a capability the scenario needs.
    NotApplicable(String),
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

/// Whether a tag is a requirement ID: `R`, `M` or `I` followed by digits.
pub fn is_requirement_id(tag: &str) -> bool {
    let mut chars = tag.chars();
    matches!(chars.next(), Some('R' | 'M' | 'I')) && {
        let rest = chars.as_str();
        !rest.is_empty() && rest.bytes().all(|b| b.is_ascii_digit())
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

/// A run's verdict.
#[derive(Debug, Clone)]
pub struct RunResult {
    /// Every scenario, in feature order.
    pub scenarios: Vec<ScenarioResult>,
    /// Whether SHOULD failures count.
    pub strict: bool,
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

    /// Whether the target conforms: no counted failure and no unexpected pass.
    pub fn conformant(&self) -> bool {
        !self.scenarios.iter().any(|r| match r.outcome {
            Outcome::Failed(_) => self.counts(r),
            Outcome::UnexpectedPass(_) => true,
            _ => false,
        })
    }
}

//! What a step reports when it does not pass, in one of three kinds: a failed check
//! (what the section requires, what was expected, what happened, and the HTTP exchange
//! that showed it, secrets redacted); a scenario that does not apply to this target or
//! profile (with the reason); or a scenario that could not reach its check (with the
//! reason). Steps return it; the collector reads its kind back from the text cucumber
//! hands over, and reports print it.

use crate::http::Exchange;

/// The three ways a step can stop a scenario.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// The target broke the cited sentence.
    Failed,
    /// The target or the profile lacks what the scenario needs; never a failure.
    NotApplicable,
    /// The scenario could not reach its check (a setup step failed, the target could
    /// not do what the scenario's `@needs` promised, a lifetime ran out).
    Error,
}

impl Kind {
    fn mark(self) -> &'static str {
        match self {
            Self::Failed => "\u{1f}failed\u{1f}",
            Self::NotApplicable => "\u{1f}not applicable\u{1f}",
            Self::Error => "\u{1f}error\u{1f}",
        }
    }
}

/// Reads the kind back from a step's failure text (the [`Mismatch`] `Display`, which
/// cucumber carries as the panic message) and returns it with the text without its mark.
/// A text without a mark did not come from a [`Mismatch`]: a step that panicked, which
/// says nothing about the target, so it is an error.
pub fn classify(text: &str) -> (Kind, String) {
    for kind in [Kind::Failed, Kind::NotApplicable, Kind::Error] {
        if let Some(rest) = text.strip_prefix(kind.mark()) {
            return (kind, rest.to_owned());
        }
    }
    (Kind::Error, format!("the step panicked: {text}"))
}

/// A step that did not pass.
#[derive(Debug, Clone)]
pub struct Mismatch {
    /// Which of the three outcomes it leads to.
    pub kind: Kind,
    /// What the check expected (for the other kinds: what the step needed).
    pub expected: String,
    /// What it saw (for the other kinds: the reason).
    pub actual: String,
    /// The exchange, already redacted.
    pub exchange: Option<String>,
}

impl Mismatch {
    /// A failed check without an exchange.
    pub fn new(expected: impl Into<String>, actual: impl Into<String>) -> Self {
        Self {
            kind: Kind::Failed,
            expected: expected.into(),
            actual: actual.into(),
            exchange: None,
        }
    }

    /// A failed check seen in an exchange.
    pub fn in_exchange(
        expected: impl Into<String>,
        actual: impl Into<String>,
        x: &Exchange,
    ) -> Self {
        Self {
            kind: Kind::Failed,
            expected: expected.into(),
            actual: actual.into(),
            exchange: Some(x.describe()),
        }
    }

    /// The scenario does not apply: the profile lacks a value it needs, or the target
    /// lacks something it needs (the reason says which).
    pub fn not_applicable(reason: impl Into<String>) -> Self {
        Self {
            kind: Kind::NotApplicable,
            expected: String::new(),
            actual: reason.into(),
            exchange: None,
        }
    }

    /// The scenario could not reach its check (the reason says why).
    pub fn error(reason: impl Into<String>) -> Self {
        Self {
            kind: Kind::Error,
            expected: String::new(),
            actual: reason.into(),
            exchange: None,
        }
    }

    /// The same mismatch as an error: a check that failed where the scenario only
    /// prepared its real check, so the real check did not run.
    pub fn into_error(mut self) -> Self {
        if self.kind == Kind::Failed {
            self.kind = Kind::Error;
        }
        self
    }

    /// Adds a note to what was seen (a lifetime that ran out, say).
    pub fn with_note(mut self, note: &str) -> Self {
        self.actual = format!("{} ({note})", self.actual);
        self
    }

    /// The text reports print, without the kind's mark.
    pub fn message(&self) -> String {
        let mut s = String::new();
        if self.kind == Kind::Failed || !self.expected.is_empty() {
            s.push_str(&format!(
                "expected: {}\n  actual: {}",
                self.expected, self.actual
            ));
        } else {
            s.push_str(&self.actual);
        }
        if let Some(x) = &self.exchange {
            s.push_str(&format!("\n exchange:\n{}", x.trim_end()));
        }
        s
    }
}

impl std::fmt::Display for Mismatch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}{}", self.kind.mark(), self.message())
    }
}

impl std::error::Error for Mismatch {}

impl From<crate::http::SendError> for Mismatch {
    fn from(e: crate::http::SendError) -> Self {
        Self::new("an HTTP response", e.to_string())
    }
}

/// The result of a step.
pub type Check = Result<(), Mismatch>;

/// Fails unless `cond`, with expected/actual and the exchange.
pub fn ensure(
    cond: bool,
    expected: impl Into<String>,
    actual: impl FnOnce() -> String,
    x: &Exchange,
) -> Check {
    if cond {
        Ok(())
    } else {
        Err(Mismatch::in_exchange(expected, actual(), x))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Each kind survives the trip through its text, and text from elsewhere (a panic)
    /// is an error.
    #[test]
    fn kinds_round_trip() {
        let (k, t) = classify(&Mismatch::new("a", "b").to_string());
        assert_eq!(k, Kind::Failed);
        assert_eq!(t, "expected: a\n  actual: b");
        let (k, t) = classify(&Mismatch::not_applicable("no [resource]").to_string());
        assert_eq!((k, t.as_str()), (Kind::NotApplicable, "no [resource]"));
        let (k, t) = classify(&Mismatch::error("the code expired").to_string());
        assert_eq!((k, t.as_str()), (Kind::Error, "the code expired"));
        let (k, t) = classify("index out of bounds");
        assert_eq!(k, Kind::Error);
        assert!(t.contains("panicked") && t.contains("index out of bounds"));
        assert_eq!(Mismatch::new("a", "b").into_error().kind, Kind::Error);
        assert_eq!(
            Mismatch::not_applicable("x").into_error().kind,
            Kind::NotApplicable
        );
    }
}

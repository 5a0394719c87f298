//! A failed check: what the section requires, what was expected, what happened, and the
//! HTTP exchange that showed it (secrets redacted). Steps return it; reports print it.

use crate::http::Exchange;

/// A requirement not met.
#[derive(Debug, Clone)]
pub struct Mismatch {
    /// What the check expected.
    pub expected: String,
    /// What it saw.
    pub actual: String,
    /// The exchange, already redacted.
    pub exchange: Option<String>,
}

impl Mismatch {
    /// A mismatch without an exchange.
    pub fn new(expected: impl Into<String>, actual: impl Into<String>) -> Self {
        Self {
            expected: expected.into(),
            actual: actual.into(),
            exchange: None,
        }
    }

    /// A mismatch seen in an exchange.
    pub fn in_exchange(
        expected: impl Into<String>,
        actual: impl Into<String>,
        x: &Exchange,
    ) -> Self {
        Self {
            expected: expected.into(),
            actual: actual.into(),
            exchange: Some(x.describe()),
        }
    }

    /// A step that could not do its work (missing profile data, unreachable server).
    pub fn cannot(what: impl Into<String>) -> Self {
        Self::new("the step to run", what)
    }
}

impl std::fmt::Display for Mismatch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(f, "expected: {}", self.expected)?;
        write!(f, "  actual: {}", self.actual)?;
        if let Some(x) = &self.exchange {
            write!(f, "\n exchange:\n{}", x.trim_end())?;
        }
        Ok(())
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

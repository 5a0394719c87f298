//! The console report: a summary table by document and level, then every failure with
//! its requirement, RFC link, expected, actual and the (redacted) HTTP exchange.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use super::{Counts, Level, Outcome, RunResult, section_link};

/// Whether to colour the console: only on a terminal, and never with `NO_COLOR` set.
pub fn use_colour() -> bool {
    use std::io::IsTerminal as _;
    std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty()) && std::io::stdout().is_terminal()
}

/// Wraps `text` in an ANSI colour (`31` red, `32` green, `33` yellow).
fn paint(text: &str, code: &str, colour: bool) -> String {
    if colour {
        format!("\x1b[{code}m{text}\x1b[0m")
    } else {
        text.to_owned()
    }
}

/// Renders the summary and failures as plain text.
pub fn render(run: &RunResult, target: &str, elapsed: std::time::Duration) -> String {
    render_with(run, target, elapsed, false)
}

/// Renders the summary and failures, coloured when `colour` is set.
pub fn render_with(
    run: &RunResult,
    target: &str,
    elapsed: std::time::Duration,
    colour: bool,
) -> String {
    let mut table: BTreeMap<(String, Level), Counts> = BTreeMap::new();
    let mut total = Counts::default();
    for r in &run.scenarios {
        table
            .entry((r.document(), r.level()))
            .or_default()
            .add(&r.outcome);
        total.add(&r.outcome);
    }
    let mut out = String::new();
    let _ = writeln!(out, "\nOAuth 2.0 conformance of {target}\n");
    let row = |out: &mut String, doc: &str, level: &str, c: &Counts| {
        let _ = writeln!(
            out,
            "{:<10} {:<7} {:>7} {:>7} {:>7} {:>15} {:>9} {:>11}",
            doc, level, c.passed, c.failed, c.errors, c.not_applicable, c.expected, c.unexpected
        );
    };
    let _ = writeln!(
        out,
        "{:<10} {:<7} {:>7} {:>7} {:>7} {:>15} {:>9} {:>11}",
        "document",
        "level",
        "passed",
        "failed",
        "errors",
        "not applicable",
        "expected",
        "unexpected"
    );
    for ((doc, level), c) in &table {
        row(&mut out, doc, &level.as_str().to_uppercase(), c);
    }
    row(&mut out, "all", "", &total);
    let failures: Vec<_> = run
        .scenarios
        .iter()
        .filter(|r| {
            matches!(
                r.outcome,
                Outcome::Failed(_) | Outcome::UnexpectedPass(_) | Outcome::Error(_)
            )
        })
        .collect();
    for r in &failures {
        let heading = if matches!(r.outcome, Outcome::Error(_)) {
            paint("ERROR", "33", colour)
        } else {
            paint("FAILED", "31", colour)
        };
        let _ = writeln!(out, "\n{heading} {}:{}  {}", r.feature, r.line, r.name);
        let level = r.level().as_str().to_uppercase();
        let counted = if matches!(r.outcome, Outcome::Error(_)) {
            " (its check did not run)"
        } else if run.counts(r) {
            ""
        } else {
            " (not counted: rerun with --strict to count SHOULD)"
        };
        let reqs = r.requirements().join(", ");
        let _ = writeln!(
            out,
            "  requirement: {level}{}{counted}",
            if reqs.is_empty() {
                String::new()
            } else {
                format!(" {reqs}")
            }
        );
        for s in r.sections() {
            if let Some(link) = section_link(&s) {
                let _ = writeln!(out, "  section:     {s}  {link}");
            }
        }
        match &r.outcome {
            Outcome::Failed(msg) | Outcome::Error(msg) => {
                for line in msg.lines() {
                    let _ = writeln!(out, "  {line}");
                }
            }
            Outcome::UnexpectedPass(reason) => {
                let _ = writeln!(
                    out,
                    "  passed, but the profile lists it as an expected failure: {reason}"
                );
            }
            _ => {}
        }
    }
    let verdict = run.verdict().label();
    let errors = if total.errors > 0 {
        format!(
            ", {} error{}: {} did not run",
            total.errors,
            if total.errors == 1 { "" } else { "s" },
            if total.errors == 1 {
                "its check"
            } else {
                "their checks"
            }
        )
    } else {
        String::new()
    };
    let _ = writeln!(
        out,
        "\n{verdict}: {} passed, {} failed{errors}, {} not applicable, {} expected failures, {} unexpected passes ({} scenarios in {:.1} s)",
        total.passed,
        total.failed,
        total.not_applicable,
        total.expected,
        total.unexpected,
        run.scenarios.len(),
        elapsed.as_secs_f64()
    );
    if run.retried > 0 {
        let _ = writeln!(
            out,
            "{} answer{} of 429 or 503 with Retry-After {} waited out and retried once before being judged",
            run.retried,
            if run.retried == 1 { "" } else { "s" },
            if run.retried == 1 { "was" } else { "were" }
        );
    }
    out
}

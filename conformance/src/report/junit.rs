//! JUnit XML for CI systems: a `testsuite` per document, a `testcase` per scenario.
//! Failures carry the requirement, its level, the RFC links, and the (redacted) expected,
//! actual and exchange. A scenario that could not reach its check is an `error` (with the
//! step that stopped it), not a failure. Not-applicable scenarios are `skipped` with the
//! reason; a SHOULD failure that does not count without `--strict` is still a failure,
//! typed so.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use super::json::{Report, Scenario};

/// Escapes text for XML content and attribute values.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            // XML 1.0 forbids most control characters even when escaped.
            c if (c as u32) < 0x20 && !matches!(c, '\t' | '\n' | '\r') => out.push('?'),
            c => out.push(c),
        }
    }
    out
}

fn headline(s: &Scenario) -> String {
    let mut h = s.level.to_uppercase();
    if !s.requirements.is_empty() {
        h.push(' ');
        h.push_str(&s.requirements.join(" "));
    }
    for sec in &s.sections {
        let _ = write!(h, " {} {}", sec.tag, sec.url);
    }
    h
}

/// Renders the report as JUnit XML.
pub fn render(report: &Report) -> String {
    let mut docs: BTreeMap<&str, Vec<&Scenario>> = BTreeMap::new();
    for s in &report.scenarios {
        docs.entry(s.document.as_str()).or_default().push(s);
    }
    let failures = |v: &[&Scenario]| {
        v.iter()
            .filter(|s| matches!(s.outcome.as_str(), "failed" | "unexpected_pass"))
            .count()
    };
    let skipped = |v: &[&Scenario]| {
        v.iter()
            .filter(|s| matches!(s.outcome.as_str(), "not_applicable" | "expected_failure"))
            .count()
    };
    let errors = |v: &[&Scenario]| v.iter().filter(|s| s.outcome == "error").count();
    let all: Vec<&Scenario> = report.scenarios.iter().collect();
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(
        out,
        "<testsuites name=\"{}\" tests=\"{}\" failures=\"{}\" errors=\"{}\" skipped=\"{}\" time=\"{:.3}\">",
        escape(&format!("OAuth 2.0 conformance of {}", report.target.name)),
        all.len(),
        failures(&all),
        errors(&all),
        skipped(&all),
        report.duration_ms as f64 / 1000.0
    );
    for (doc, list) in &docs {
        let _ = writeln!(
            out,
            "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{}\" skipped=\"{}\" errors=\"{}\" timestamp=\"{}\">",
            escape(doc),
            list.len(),
            failures(list),
            skipped(list),
            errors(list),
            escape(report.started_at.trim_end_matches('Z'))
        );
        for s in list {
            let _ = write!(
                out,
                "    <testcase classname=\"{}\" name=\"{}\" file=\"features/{}\" line=\"{}\"",
                escape(&s.feature.trim_end_matches(".feature").replace('/', ".")),
                escape(&s.name),
                escape(&s.feature),
                s.line
            );
            let detail = s.detail.as_deref().unwrap_or("");
            match s.outcome.as_str() {
                "passed" => out.push_str("/>\n"),
                "failed" | "unexpected_pass" => {
                    let kind = if s.outcome == "unexpected_pass" {
                        "unexpected pass".to_owned()
                    } else if s.counted {
                        s.level.to_uppercase()
                    } else {
                        format!("{} (not counted without --strict)", s.level.to_uppercase())
                    };
                    let _ = write!(
                        out,
                        ">\n      <failure type=\"{}\" message=\"{}\">{}</failure>\n    </testcase>\n",
                        escape(&kind),
                        escape(&headline(s)),
                        escape(detail)
                    );
                }
                "error" => {
                    let step = s.failing_step.as_deref().unwrap_or("a hook");
                    let _ = write!(
                        out,
                        ">\n      <error type=\"could not reach its check\" message=\"{}\">{}</error>\n    </testcase>\n",
                        escape(&format!(
                            "{}; the step {step} stopped it: its check did not run",
                            headline(s)
                        )),
                        escape(detail)
                    );
                }
                _ => {
                    let why = if s.outcome == "expected_failure" {
                        format!("expected failure: {detail}")
                    } else {
                        format!("not applicable: {detail}")
                    };
                    let _ = write!(
                        out,
                        ">\n      <skipped message=\"{}\"/>\n    </testcase>\n",
                        escape(&why)
                    );
                }
            }
        }
        out.push_str("  </testsuite>\n");
    }
    out.push_str("</testsuites>\n");
    out
}

//! JUnit XML for CI systems: a `testsuite` per document, a `testcase` per scenario.
//!
//! The structure is the one the Jenkins xUnit plugin's junit-10 schema describes, plus
//! `properties` inside each `testcase`; `conformance/tests/junit/junit.xsd` is the
//! project's schema of exactly what this module writes, and the `junit_schema` test
//! validates a rendered report against it with `xmllint`.
//!
//! A testcase's `classname` is its feature file (relative to the features folder), its
//! `name` the scenario's (with its line when two scenarios of one feature share a name),
//! its `time` the scenario's duration in seconds. Its properties list the requirement IDs,
//! the level, the section tags and the line. Failures carry the requirement, its level,
//! the RFC links, and the (redacted) expected, actual and exchange. A scenario that could
//! not reach its check is an `error` (with the step that stopped it), not a failure.
//! Not-applicable scenarios and expected failures are `skipped` with the reason; a SHOULD
//! failure that does not count without `--strict` is still a failure, typed so.

use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;

use super::json::{Report, Scenario};

/// Escapes text for XML content: markup characters become entities, and characters
/// XML 1.0 forbids even as references (most C0 controls, U+FFFE, U+FFFF) become `?`.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            // A raw carriage return would be read back as a line feed.
            '\r' => out.push_str("&#13;"),
            c if forbidden(c) => out.push('?'),
            c => out.push(c),
        }
    }
    out
}

/// Escapes text for an attribute value: as [`escape`], and line breaks and tabs become
/// character references, which a parser keeps (a raw one it would turn into a space).
pub fn escape_attr(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in escape(s).chars() {
        match c {
            '\n' => out.push_str("&#10;"),
            '\t' => out.push_str("&#9;"),
            c => out.push(c),
        }
    }
    out
}

/// Whether XML 1.0 forbids the character in a document, even as a character reference.
fn forbidden(c: char) -> bool {
    ((c as u32) < 0x20 && !matches!(c, '\t' | '\n' | '\r')) || matches!(c, '\u{FFFE}' | '\u{FFFF}')
}

/// Milliseconds as JUnit seconds with three decimals (`1.234`).
fn seconds(ms: u64) -> String {
    format!("{}.{:03}", ms / 1000, ms % 1000)
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

/// Counts of one group of scenarios, as the `testsuite` and `testsuites` attributes
/// want them.
#[derive(Default)]
struct Counts {
    tests: usize,
    failures: usize,
    errors: usize,
    skipped: usize,
    ms: u64,
}

impl Counts {
    fn of<'a>(list: impl IntoIterator<Item = &'a Scenario>) -> Self {
        let mut c = Self::default();
        for s in list {
            c.tests += 1;
            c.ms = c.ms.saturating_add(s.duration_ms);
            match s.outcome.as_str() {
                "failed" | "unexpected_pass" => c.failures += 1,
                "error" => c.errors += 1,
                "not_applicable" | "expected_failure" => c.skipped += 1,
                _ => {}
            }
        }
        c
    }
}

/// The testcase names of one document: the scenario's name, with ` (line N)` added when
/// another scenario of the same feature has that name too (CI systems key their history
/// on class and name).
fn case_names<'a>(list: &[&'a Scenario]) -> Vec<String> {
    let mut seen: HashMap<(&'a str, &'a str), usize> = HashMap::new();
    for s in list {
        *seen
            .entry((s.feature.as_str(), s.name.as_str()))
            .or_default() += 1;
    }
    list.iter()
        .map(|s| {
            if seen
                .get(&(s.feature.as_str(), s.name.as_str()))
                .is_some_and(|&n| n > 1)
            {
                format!("{} (line {})", s.name, s.line)
            } else {
                s.name.clone()
            }
        })
        .collect()
}

/// The `properties` of one testcase: requirement IDs, level, section tags, line.
fn properties(out: &mut String, s: &Scenario) {
    out.push_str("      <properties>\n");
    let mut property = |name: &str, value: &str| {
        let _ = writeln!(
            out,
            "        <property name=\"{name}\" value=\"{}\"/>",
            escape_attr(value)
        );
    };
    for id in &s.requirements {
        property("requirement", id);
    }
    property("level", &s.level);
    for sec in &s.sections {
        property("section", &sec.tag);
    }
    property("line", &s.line.to_string());
    out.push_str("      </properties>\n");
}

/// The element that says how a testcase ended, if it did not pass.
fn verdict(out: &mut String, s: &Scenario) {
    let detail = s.detail.as_deref().unwrap_or("");
    match s.outcome.as_str() {
        "passed" => {}
        "failed" | "unexpected_pass" => {
            let kind = if s.outcome == "unexpected_pass" {
                "unexpected pass".to_owned()
            } else if s.counted {
                s.level.to_uppercase()
            } else {
                format!("{} (not counted without --strict)", s.level.to_uppercase())
            };
            let _ = writeln!(
                out,
                "      <failure type=\"{}\" message=\"{}\">{}</failure>",
                escape_attr(&kind),
                escape_attr(&headline(s)),
                escape(detail)
            );
        }
        "error" => {
            let step = s.failing_step.as_deref().unwrap_or("a hook");
            let _ = writeln!(
                out,
                "      <error type=\"could not reach its check\" message=\"{}\">{}</error>",
                escape_attr(&format!(
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
            let _ = writeln!(out, "      <skipped message=\"{}\"/>", escape_attr(&why));
        }
    }
}

/// Renders the report as JUnit XML.
pub fn render(report: &Report) -> String {
    let mut docs: BTreeMap<&str, Vec<&Scenario>> = BTreeMap::new();
    for s in &report.scenarios {
        docs.entry(s.document.as_str()).or_default().push(s);
    }
    let all = Counts::of(&report.scenarios);
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(
        out,
        "<testsuites name=\"{}\" tests=\"{}\" failures=\"{}\" errors=\"{}\" time=\"{}\">",
        escape_attr(&format!("OAuth 2.0 conformance of {}", report.target.name)),
        all.tests,
        all.failures,
        all.errors,
        seconds(report.duration_ms)
    );
    for (id, (doc, list)) in docs.iter().enumerate() {
        let c = Counts::of(list.iter().copied());
        let _ = writeln!(
            out,
            "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{}\" errors=\"{}\" skipped=\"{}\" time=\"{}\" timestamp=\"{}\" id=\"{id}\">",
            escape_attr(doc),
            c.tests,
            c.failures,
            c.errors,
            c.skipped,
            seconds(c.ms),
            escape_attr(report.started_at.trim_end_matches('Z'))
        );
        for (s, name) in list.iter().zip(case_names(list)) {
            let _ = writeln!(
                out,
                "    <testcase classname=\"{}\" name=\"{}\" time=\"{}\">",
                escape_attr(&s.feature),
                escape_attr(&name),
                seconds(s.duration_ms)
            );
            properties(&mut out, s);
            verdict(&mut out, s);
            out.push_str("    </testcase>\n");
        }
        out.push_str("  </testsuite>\n");
    }
    out.push_str("</testsuites>\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Markup, line breaks and forbidden characters in text and attributes.
    #[test]
    fn escaping() {
        assert_eq!(escape("a<b>&\"c'"), "a&lt;b&gt;&amp;&quot;c&apos;");
        assert_eq!(escape("x\u{1b}[0m\u{0}\u{FFFF}y"), "x?[0m??y");
        assert_eq!(escape("one\r\ntwo\tthree"), "one&#13;\ntwo\tthree");
        assert_eq!(
            escape_attr("one\r\ntwo\tthree"),
            "one&#13;&#10;two&#9;three"
        );
    }

    /// Two scenarios of one feature with one name get their lines; others keep theirs.
    #[test]
    fn shared_names() {
        let report = super::super::fixture::report();
        let mut list: Vec<&Scenario> = report.scenarios.iter().take(2).collect();
        let mut twin = report.scenarios[0].clone();
        twin.line = 99;
        list.push(&twin);
        assert_eq!(
            case_names(&list),
            [
                "Redeeming a code once (line 10)",
                "Redeeming an authorization code a second time",
                "Redeeming a code once (line 99)",
            ]
        );
    }

    /// Times are seconds with three decimals.
    #[test]
    fn times() {
        assert_eq!(seconds(0), "0.000");
        assert_eq!(seconds(250), "0.250");
        assert_eq!(seconds(61_005), "61.005");
    }
}

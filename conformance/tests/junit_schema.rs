//! The JUnit XML against the project's schema (`tests/junit/junit.xsd`) with a real
//! validator, `xmllint` (Debian's libxml2-utils). A report with one scenario of each
//! outcome, names and details that need escaping, control characters and two scenarios
//! sharing a name is rendered to a file and must validate; documents that break the
//! schema (a testcase without a name, a failure outside any testcase, a second outcome
//! in one testcase) must be refused, which shows the validation can fail.
//! Without `xmllint` on PATH the test fails, saying how to install it (`.ci/run` does).
//! (`harness = false`: it answers `--list` so cargo-nextest can enumerate it.)

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Output};

use conformance::report::json::{Report, SCHEMA, Scenario, Section, Summary, TargetInfo, Tool};
use conformance::report::junit;

/// One scenario of the report.
fn scenario(
    doc: &str,
    feature: &str,
    line: usize,
    name: &str,
    outcome: &str,
    detail: Option<&str>,
) -> Scenario {
    let section = format!("{doc}-2.1");
    Scenario {
        id: format!("{doc}/{feature}:{line}"),
        document: doc.into(),
        feature: format!("{doc}/{feature}"),
        feature_name: "A feature".into(),
        rule: None,
        name: name.into(),
        line,
        tags: vec!["must".into(), format!("R{line}"), section.clone()],
        requirements: vec![format!("R{line}"), format!("R{line}a")],
        level: "must".into(),
        sections: vec![Section {
            url: format!("https://www.rfc-editor.org/rfc/{doc}#section-2.1"),
            tag: section,
        }],
        outcome: outcome.into(),
        failing_step: (outcome == "error")
            .then(|| "Given the Basic client has an authorization code (line 41)".into()),
        duration_ms: if outcome == "not_applicable" { 0 } else { 1234 },
        counted: true,
        detail: detail.map(str::to_owned),
        screenshot: None,
    }
}

/// A report with every outcome, across two documents.
fn report() -> Report {
    let detail = "expected: error \"invalid_grant\" & status <400>\n  actual: status 200\u{1b}[0m\r\n \
                  exchange:\nPOST http://127.0.0.1:1/oauth/token\n  < {\"a\":'b'}\u{0}\u{7}";
    let code = "4.1-authorization-code.feature";
    let revocation = "2-revocation.feature";
    Report {
        schema: SCHEMA.into(),
        tool: Tool {
            name: "oauth2-conformance".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            features_digest: String::new(),
        },
        target: TargetInfo {
            name: "a <server> & \"its\" 'friends'".into(),
            issuer: None,
            profile: None,
        },
        started_at: "2026-11-27T20:12:07Z".into(),
        duration_ms: 61_005,
        strict: false,
        verdict: "not_conformant".into(),
        summary: Summary::default(),
        scenarios: vec![
            scenario("rfc6749", code, 10, "Redeeming a code once", "passed", None),
            scenario(
                "rfc6749",
                code,
                20,
                "A <reused> code & \"its\" 'tokens'\u{1}",
                "failed",
                Some(detail),
            ),
            scenario(
                "rfc6749",
                code,
                30,
                "The code is bound to its client",
                "error",
                Some("setup step failed:\n\u{1b}expected: a code\n  actual: none"),
            ),
            scenario("rfc6749", code, 40, "Redeeming a code once", "passed", None),
            scenario(
                "rfc7009",
                revocation,
                5,
                "Revoking a refresh token",
                "not_applicable",
                Some("the target lacks: revocation\n(profile <capabilities>)"),
            ),
            scenario(
                "rfc7009",
                revocation,
                15,
                "Revoking with a wrong hint",
                "expected_failure",
                Some("known bug \"TICKET-1\"\t& more"),
            ),
            scenario(
                "rfc7009",
                revocation,
                25,
                "Unknown token gives 200",
                "unexpected_pass",
                Some("listed as TICKET-2"),
            ),
        ],
    }
}

fn on_path(name: &str) -> Option<PathBuf> {
    std::env::split_paths(&std::env::var_os("PATH")?)
        .map(|dir| dir.join(name))
        .find(|p| p.is_file())
}

/// Runs `xmllint --noout --schema XSD FILE` on the text.
fn validate(xmllint: &Path, dir: &Path, file: &str, text: &str) -> Result<Output, String> {
    let path = dir.join(file);
    std::fs::write(&path, text).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    let schema = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/junit/junit.xsd");
    Command::new(xmllint)
        .arg("--noout")
        .arg("--schema")
        .arg(&schema)
        .arg(&path)
        .output()
        .map_err(|e| format!("cannot start {}: {e}", xmllint.display()))
}

/// What xmllint said.
fn said(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).trim_end().to_owned()
}

/// The rendered report validates.
fn valid(xmllint: &Path, dir: &Path, xml: &str) -> Result<(), String> {
    let out = validate(xmllint, dir, "junit.xml", xml)?;
    if !out.status.success() {
        return Err(format!(
            "xmllint refused the rendered report ({}):\n{}\n--- the document:\n{xml}",
            out.status,
            said(&out)
        ));
    }
    for want in [
        "<testcase classname=\"rfc6749/4.1-authorization-code.feature\" name=\"Redeeming a code once (line 10)\" time=\"1.234\">",
        "<property name=\"requirement\" value=\"R20a\"/>",
        "<property name=\"level\" value=\"must\"/>",
        "<property name=\"section\" value=\"rfc7009-2.1\"/>",
        "<error type=\"could not reach its check\"",
        "<skipped message=\"not applicable: the target lacks: revocation&#10;(profile &lt;capabilities&gt;)\"/>",
        "<skipped message=\"expected failure: known bug &quot;TICKET-1&quot;&#9;&amp; more\"/>",
        "<testsuite name=\"rfc6749\" tests=\"4\" failures=\"1\" errors=\"1\" skipped=\"0\" time=\"4.936\"",
        "<testsuite name=\"rfc7009\" tests=\"3\" failures=\"1\" errors=\"0\" skipped=\"2\" time=\"2.468\"",
    ] {
        if !xml.contains(want) {
            return Err(format!("the rendered report lacks {want:?}:\n{xml}"));
        }
    }
    Ok(())
}

/// Documents that break the schema in one place each are refused.
fn invalid(xmllint: &Path, dir: &Path, xml: &str) -> Result<(), String> {
    let first_case = "name=\"Redeeming a code once (line 10)\" ";
    let failure = "      <failure type=\"MUST\" message=\"MUST R1\">detail</failure>\n";
    let broken = [
        ("a testcase without a name", xml.replacen(first_case, "", 1)),
        (
            "a failure outside any testcase",
            xml.replacen("  </testsuite>\n", &format!("{failure}  </testsuite>\n"), 1),
        ),
        (
            "a testcase with two outcomes",
            xml.replacen("      <skipped ", &format!("{failure}      <skipped "), 1),
        ),
        (
            "a time without its decimals",
            xml.replacen("time=\"1.234\"", "time=\"1\"", 1),
        ),
    ];
    for (i, (what, doc)) in broken.iter().enumerate() {
        if doc == xml {
            return Err(format!("could not break the document with {what}"));
        }
        let out = validate(xmllint, dir, &format!("broken-{i}.xml"), doc)?;
        if out.status.success() {
            return Err(format!("xmllint accepted a document with {what}:\n{doc}"));
        }
        // Refused by the schema (xmllint says "fails to validate"), not as bad XML.
        if !said(&out).contains("fails to validate") {
            return Err(format!(
                "xmllint refused the document with {what}, but not by the schema:\n{}",
                said(&out)
            ));
        }
    }
    Ok(())
}

fn check(xmllint: &Path) -> Result<(), String> {
    let dir = tempfile::tempdir().map_err(|e| format!("temp dir: {e}"))?;
    let xml = junit::render(&report());
    valid(xmllint, dir.path(), &xml)?;
    invalid(xmllint, dir.path(), &xml)
}

fn main() -> ExitCode {
    if std::env::args().any(|a| a == "--list") {
        println!("junit_schema: test");
        return ExitCode::SUCCESS;
    }
    let Some(xmllint) = on_path("xmllint") else {
        eprintln!(
            "junit_schema: xmllint is not on PATH; install it (Debian: apt-get install libxml2-utils; .ci/run does)"
        );
        println!("0 passed, 1 failed");
        return ExitCode::FAILURE;
    };
    match check(&xmllint) {
        Ok(()) => {
            println!(
                "junit_schema: the JUnit XML validates against tests/junit/junit.xsd, and broken documents do not"
            );
            println!("1 passed, 0 failed");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("junit_schema: {e}");
            println!("0 passed, 1 failed");
            ExitCode::FAILURE
        }
    }
}

//! A small fixed result that the report-format snapshot tests render (times and
//! versions normalised), so every format is pinned by a reviewed `.snap` file.

use std::collections::BTreeSet;

use super::json::{Report, TargetInfo, build};
use super::{Outcome, RunResult, ScenarioResult};

fn scenario(
    feature: &str,
    line: usize,
    name: &str,
    tags: &[&str],
    outcome: Outcome,
) -> ScenarioResult {
    ScenarioResult {
        feature: feature.to_owned(),
        feature_name: "Feature".to_owned(),
        rule: Some("A rule paraphrasing one sentence".to_owned()),
        name: name.to_owned(),
        line,
        tags: tags
            .iter()
            .map(|t| (*t).to_owned())
            .collect::<BTreeSet<_>>(),
        failing_step: match outcome {
            Outcome::Failed(_) => Some("Then the error is invalid_grant (line 12)".to_owned()),
            Outcome::Error(_) => Some(
                "Given the Basic client has an authorization code for the primary user (line 41)"
                    .to_owned(),
            ),
            _ => None,
        },
        duration_ms: if matches!(outcome, Outcome::NotApplicable(_)) {
            0
        } else {
            250
        },
        outcome,
    }
}

/// One scenario of each outcome, across two documents.
pub fn run() -> RunResult {
    let detail = "step \"Then the error is invalid_grant\" (line 12):\nexpected: error invalid_grant\n  actual: status 200\n exchange:\nPOST http://127.0.0.1:1/oauth/token\n  > authorization: Basic [redacted]\n  > grant_type=authorization_code&code=[redacted]\n  < 200\n  < {\"access_token\":\"[redacted]\",\"token_type\":\"Bearer\"}";
    RunResult {
        scenarios: vec![
            scenario(
                "rfc6749/4.1-authorization-code.feature",
                10,
                "Redeeming a code once",
                &["rfc6749", "rfc6749-4.1.3", "must", "R39"],
                Outcome::Passed,
            ),
            scenario(
                "rfc6749/4.1-authorization-code.feature",
                20,
                "Redeeming an authorization code a second time",
                &["rfc6749", "rfc6749-4.1.2", "must", "R41"],
                Outcome::Failed(detail.to_owned()),
            ),
            scenario(
                "rfc6749/4.1-authorization-code.feature",
                30,
                "The tokens of a reused code <are> \"revoked\" & gone",
                &["rfc6749", "rfc6749-10.5", "should", "R42"],
                Outcome::Failed("expected: 401\n  actual: 200".to_owned()),
            ),
            scenario(
                "rfc6749/4.1-authorization-code.feature",
                40,
                "The code is bound to its client",
                &["rfc6749", "rfc6749-4.1.3", "must", "R40"],
                Outcome::Error(
                    "setup step \"Given the Basic client has an authorization code for the primary user (line 41)\" failed, so the scenario's check did not run:\nexpected: an authorization code\n  actual: a redirect with error=\"temporarily_unavailable\"".to_owned(),
                ),
            ),
            scenario(
                "rfc7009/2-revocation.feature",
                5,
                "Revoking a refresh token",
                &["rfc7009", "rfc7009-2.1", "must", "R99", "needs.revocation"],
                Outcome::NotApplicable("the target lacks: revocation".to_owned()),
            ),
            scenario(
                "rfc7009/2-revocation.feature",
                15,
                "Revoking with a wrong hint",
                &["rfc7009", "rfc7009-2.1", "must", "R100"],
                Outcome::ExpectedFailure("known bug TICKET-1".to_owned()),
            ),
            scenario(
                "rfc7009/2-revocation.feature",
                25,
                "Unknown token gives 200",
                &["rfc7009", "rfc7009-2.2", "must", "R101"],
                Outcome::UnexpectedPass("listed as TICKET-2".to_owned()),
            ),
        ],
        strict: false,
        features_digest: "0123456789ab".to_owned(),
        retried: 2,
        stopped: None,
    }
}

/// The fixed run as a report with a fixed time, duration and version.
pub fn report() -> Report {
    let mut r = build(
        &run(),
        TargetInfo {
            name: "example-server".to_owned(),
            issuer: Some("https://as.example".to_owned()),
            profile: Some("fixtures/profiles/example.toml".to_owned()),
        },
        "2026-01-02T03:04:05Z".to_owned(),
        1234,
    );
    r.tool.version = "[version]".to_owned();
    r
}

mod snapshots {
    use super::*;

    /// The console summary and failure list.
    #[test]
    fn console() {
        insta::assert_snapshot!(super::super::console::render(
            &run(),
            "example-server",
            std::time::Duration::from_millis(1234)
        ));
    }

    /// The JSON result.
    #[test]
    fn json() {
        insta::assert_snapshot!(super::super::json::render(&report()));
    }

    /// The JUnit XML.
    #[test]
    fn junit() {
        insta::assert_snapshot!(super::super::junit::render(&report()));
    }

    /// The HTML page of one run, and the matrix of two.
    #[test]
    fn html() {
        let one = report();
        let mut other = report();
        other.target.name = "other-server".to_owned();
        insta::assert_snapshot!(
            "html_single",
            super::super::html::render(std::slice::from_ref(&one))
        );
        insta::assert_snapshot!("html_matrix", super::super::html::render(&[one, other]));
    }

    /// The JSON result reads back into the same report.
    #[test]
    fn json_round_trip() {
        let text = super::super::json::render(&report());
        let back = super::super::json::parse(&text).map(|r| super::super::json::render(&r));
        assert_eq!(back.as_deref(), Ok(text.as_str()));
    }
}

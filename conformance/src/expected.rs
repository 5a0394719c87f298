//! Expected failures: the profile's `[expected_failures]`, applied to a run's outcomes,
//! and the baseline block `--write-expected-failures` writes from a run.
//!
//! An entry is keyed by a scenario name or by a requirement ID. A scenario-name entry
//! says "this scenario is known to fail": if it fails, the failure is expected; if it
//! passes, the entry is stale (an unexpected pass, which fails the run). A requirement-ID
//! entry says "this requirement is known to fail": the scenarios citing it that fail are
//! expected failures, those that pass are passes, and the entry is stale (its passing
//! scenarios become unexpected passes) only when one of its scenarios passed and none
//! failed or could not run.

use std::collections::{BTreeMap, BTreeSet};

use crate::report::{Outcome, ScenarioResult};

/// Applies the profile's expected failures to a run's outcomes.
pub fn apply(scenarios: &mut [ScenarioResult], expected: &BTreeMap<String, String>) {
    // Requirement IDs some scenario citing them failed or errored for: not stale.
    let mut still_failing: BTreeSet<String> = BTreeSet::new();
    for s in scenarios.iter() {
        if matches!(s.outcome, Outcome::Failed(_) | Outcome::Error(_)) {
            still_failing.extend(s.requirements());
        }
    }
    for s in scenarios.iter_mut() {
        if let Some(reason) = expected.get(&s.name) {
            s.outcome = match std::mem::replace(&mut s.outcome, Outcome::Passed) {
                Outcome::Failed(_) => Outcome::ExpectedFailure(reason.clone()),
                Outcome::Passed => Outcome::UnexpectedPass(format!(
                    "the profile expects scenario {:?} to fail: {reason}",
                    s.name
                )),
                other => other,
            };
            continue;
        }
        let ids = s.requirements();
        let Some((id, reason)) = ids
            .iter()
            .find_map(|id| expected.get(id).map(|r| (id.clone(), r.clone())))
        else {
            continue;
        };
        s.outcome = match std::mem::replace(&mut s.outcome, Outcome::Passed) {
            Outcome::Failed(_) => Outcome::ExpectedFailure(format!("{id}: {reason}")),
            Outcome::Passed if !still_failing.contains(&id) => Outcome::UnexpectedPass(format!(
                "the profile expects {id} to fail ({reason}), and no scenario citing it failed: \
                 the entry is stale"
            )),
            other => other,
        };
    }
}

/// The key and one-line reason a failed scenario gets in a baseline: its requirement
/// when it cites exactly one, else its name; the reason is the level and the first line
/// of what was seen, with where.
fn baseline_entry(s: &ScenarioResult, message: &str) -> (String, String) {
    let ids = s.requirements();
    let key = match ids.as_slice() {
        [one] => one.clone(),
        _ => s.name.clone(),
    };
    let seen = message
        .lines()
        .find_map(|l| l.trim_start().strip_prefix("actual: "))
        .or_else(|| message.lines().map(str::trim).find(|l| !l.is_empty()))
        .unwrap_or("failed");
    let mut seen: String = seen.chars().take(160).collect();
    if seen.len() < message.len() && seen.chars().count() == 160 {
        seen.push_str("...");
    }
    let reason = format!(
        "{}: {seen} ({}:{})",
        s.level().as_str().to_uppercase(),
        s.feature,
        s.line
    );
    (key, reason)
}

/// The `[expected_failures]` block of a run: one line per failing requirement (or per
/// failing scenario that cites none or several), with a one-line reason; entries that
/// matched expected failures keep the profile's reason.
pub fn baseline(scenarios: &[ScenarioResult], expected: &BTreeMap<String, String>) -> String {
    let mut entries: BTreeMap<String, String> = BTreeMap::new();
    for s in scenarios {
        match &s.outcome {
            Outcome::Failed(m) => {
                let (k, r) = baseline_entry(s, m);
                entries.entry(k).or_insert(r);
            }
            Outcome::ExpectedFailure(_) => {
                let kept = expected
                    .get_key_value(&s.name)
                    .or_else(|| {
                        s.requirements()
                            .iter()
                            .find_map(|id| expected.get_key_value(id))
                    })
                    .map(|(k, r)| (k.clone(), r.clone()));
                if let Some((k, r)) = kept {
                    entries.entry(k).or_insert(r);
                }
            }
            _ => {}
        }
    }
    let mut table = toml::Table::new();
    for (k, r) in entries {
        table.insert(k, toml::Value::String(r));
    }
    let mut root = toml::Table::new();
    root.insert("expected_failures".into(), toml::Value::Table(table));
    let body = toml::to_string(&root).unwrap_or_default();
    format!(
        "# Known failures of this target, written by oauth2-conformance --write-expected-failures.\n\
         # Paste into the target profile; review each reason before you adopt it.\n{body}"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scenario(name: &str, ids: &[&str], outcome: Outcome) -> ScenarioResult {
        let mut tags: BTreeSet<String> = ids.iter().map(|s| (*s).to_owned()).collect();
        tags.insert("must".into());
        ScenarioResult {
            feature: "rfc6749/x.feature".into(),
            feature_name: "X".into(),
            rule: None,
            name: name.into(),
            line: 7,
            tags,
            outcome,
            failing_step: None,
            duration_ms: 0,
        }
    }

    fn failed() -> Outcome {
        Outcome::Failed("step \"Then x\":\nexpected: a\n  actual: b was seen".into())
    }

    /// An ID entry makes its failing scenarios expected and leaves its passing ones
    /// passed; it is stale only when none of its scenarios fails.
    #[test]
    fn requirement_entries() {
        let expected = BTreeMap::from([
            ("R7".to_owned(), "repeats accepted".to_owned()),
            ("R9".to_owned(), "fixed since".to_owned()),
        ]);
        let mut run = vec![
            scenario("a", &["R7"], failed()),
            scenario("b", &["R7"], Outcome::Passed),
            scenario("c", &["R9"], Outcome::Passed),
            scenario("d", &["R9"], Outcome::NotApplicable("x".into())),
            scenario("e", &["R1"], failed()),
        ];
        apply(&mut run, &expected);
        assert!(matches!(run[0].outcome, Outcome::ExpectedFailure(_)));
        assert_eq!(run[1].outcome, Outcome::Passed);
        assert!(matches!(run[2].outcome, Outcome::UnexpectedPass(_)));
        assert!(matches!(run[3].outcome, Outcome::NotApplicable(_)));
        assert!(matches!(run[4].outcome, Outcome::Failed(_)));
    }

    /// A scenario-name entry keeps its meaning: a pass is an unexpected pass; an error
    /// stays an error either way.
    #[test]
    fn name_entries() {
        let expected = BTreeMap::from([
            ("a".to_owned(), "known".to_owned()),
            ("b".to_owned(), "known".to_owned()),
            ("c".to_owned(), "known".to_owned()),
        ]);
        let mut run = vec![
            scenario("a", &["R7"], failed()),
            scenario("b", &["R7"], Outcome::Passed),
            scenario("c", &[], Outcome::Error("setup".into())),
        ];
        apply(&mut run, &expected);
        assert!(matches!(run[0].outcome, Outcome::ExpectedFailure(_)));
        assert!(matches!(run[1].outcome, Outcome::UnexpectedPass(_)));
        assert!(matches!(run[2].outcome, Outcome::Error(_)));
    }

    /// The baseline has one line per requirement, the one-line reason of the failure,
    /// and parses back into a profile's table that makes the same run pass.
    #[test]
    fn baseline_round_trip() {
        let run = vec![
            scenario("a", &["R7"], failed()),
            scenario("b", &["R7"], failed()),
            scenario("c", &["R1", "R2"], failed()),
            scenario("d", &["R3"], Outcome::Passed),
        ];
        let text = baseline(&run, &BTreeMap::new());
        let parsed: toml::Table = toml::from_str(&text).unwrap();
        let table = parsed["expected_failures"].as_table().unwrap();
        assert_eq!(table.len(), 2, "{text}");
        assert_eq!(
            table["R7"].as_str(),
            Some("MUST: b was seen (rfc6749/x.feature:7)")
        );
        assert!(table.contains_key("c"));
        let expected: BTreeMap<String, String> = table
            .iter()
            .map(|(k, v)| (k.clone(), v.as_str().unwrap_or("").to_owned()))
            .collect();
        let mut again = run.clone();
        apply(&mut again, &expected);
        assert!(
            again
                .iter()
                .all(|s| matches!(s.outcome, Outcome::ExpectedFailure(_) | Outcome::Passed)),
            "{again:?}"
        );
    }
}

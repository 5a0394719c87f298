//! The requirement index (`features/requirements.tsv`): every requirement the suite
//! knows, with its document, section, level, whether a black box can check it over
//! HTTP, and one line of text. The tests below keep the features and the index in
//! step: every checkable MUST has a scenario, every cited ID is in the index, and no
//! scenario cites a requirement the index calls uncheckable.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use cucumber::gherkin::{Feature, GherkinEnv};

use crate::report::is_requirement_id;

/// The features folders (documents) a requirement can belong to.
pub const DOCUMENTS: &[&str] = &[
    "rfc6749", "rfc6750", "rfc7009", "rfc7636", "rfc7662", "rfc8414", "bcp",
];

/// One requirement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Requirement {
    /// `R41`, `M3`, `I2`.
    pub id: String,
    /// `rfc6749`, `rfc7009`, `bcp`, ...
    pub document: String,
    /// Section number.
    pub section: String,
    /// `must`, `should` or `may`.
    pub level: String,
    /// `None` when checkable over HTTP; else why not.
    pub not_checkable: Option<String>,
    /// One line.
    pub text: String,
}

/// Parses the index: tab-separated `id document section level checkable text`, where
/// `checkable` is `yes` or `no: reason`; `#` starts a comment line.
pub fn parse(text: &str) -> Result<Vec<Requirement>, String> {
    let mut out = Vec::new();
    for (n, line) in text.lines().enumerate() {
        if line.trim().is_empty() || line.starts_with('#') {
            continue;
        }
        let cols: Vec<&str> = line.split('\t').collect();
        let [id, document, section, level, checkable, text] = cols.as_slice() else {
            return Err(format!(
                "line {}: expected 6 tab-separated columns, found {}",
                n + 1,
                cols.len()
            ));
        };
        if !matches!(*level, "must" | "should" | "may") {
            return Err(format!(
                "line {}: level {level:?} is not must, should or may",
                n + 1
            ));
        }
        let not_checkable = match *checkable {
            "yes" => None,
            c => Some(
                c.strip_prefix("no: ")
                    .ok_or_else(|| {
                        format!("line {}: checkable must be 'yes' or 'no: reason'", n + 1)
                    })?
                    .to_owned(),
            ),
        };
        out.push(Requirement {
            id: (*id).to_owned(),
            document: (*document).to_owned(),
            section: (*section).to_owned(),
            level: (*level).to_owned(),
            not_checkable,
            text: (*text).to_owned(),
        });
    }
    Ok(out)
}

impl Requirement {
    /// Whether a black box can check it over HTTP.
    pub fn checkable(&self) -> bool {
        self.not_checkable.is_none()
    }

    /// Whether its level is MUST.
    pub fn is_must(&self) -> bool {
        self.level == "must"
    }
}

/// Reads and parses the index file.
pub fn load(path: &Path) -> Result<Vec<Requirement>, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    parse(&text)
}

/// Every `.feature` file under a folder, sorted.
pub fn feature_files(dir: &Path) -> Result<Vec<PathBuf>, String> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let entries =
            std::fs::read_dir(&d).map_err(|e| format!("cannot read {}: {e}", d.display()))?;
        for entry in entries {
            let path = entry
                .map_err(|e| format!("cannot read {}: {e}", d.display()))?
                .path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|x| x == "feature") {
                out.push(path);
            }
        }
    }
    out.sort();
    Ok(out)
}

/// The requirement IDs each scenario cites (tags of its feature, rule and itself), as
/// `ID -> ["file:line", ...]`, file relative to `dir`.
pub fn citations(dir: &Path) -> Result<BTreeMap<String, BTreeSet<String>>, String> {
    let mut out: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for path in feature_files(dir)? {
        let f = Feature::parse_path(&path, GherkinEnv::default())
            .map_err(|e| format!("{}: {e}", path.display()))?;
        let file = path
            .strip_prefix(dir)
            .unwrap_or(&path)
            .display()
            .to_string();
        let direct = f.scenarios.iter().map(|s| (None, s));
        let ruled = f
            .rules
            .iter()
            .flat_map(|r| r.scenarios.iter().map(move |s| (Some(r), s)));
        for (rule, scenario) in direct.chain(ruled) {
            let tags = f
                .tags
                .iter()
                .chain(rule.map(|r| r.tags.iter()).into_iter().flatten())
                .chain(scenario.tags.iter());
            for tag in tags {
                let id = tag.trim_start_matches('@');
                if is_requirement_id(id) {
                    out.entry(id.to_owned())
                        .or_default()
                        .insert(format!("{file}:{}", scenario.position.line));
                }
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn features_dir() -> PathBuf {
        PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../features"))
    }

    fn index() -> Vec<Requirement> {
        match load(&features_dir().join("requirements.tsv")) {
            Ok(r) => r,
            Err(e) => panic!("{e}"),
        }
    }

    fn cited() -> BTreeMap<String, BTreeSet<String>> {
        match citations(&features_dir()) {
            Ok(c) => c,
            Err(e) => panic!("{e}"),
        }
    }

    /// The index lists R1..R104, M1..M7 and I1..I5, each once, in a known document.
    #[test]
    fn index_is_complete() {
        let reqs = index();
        let ids: Vec<&str> = reqs.iter().map(|r| r.id.as_str()).collect();
        let expected: Vec<String> = (1..=104)
            .map(|n| format!("R{n}"))
            .chain((1..=7).map(|n| format!("M{n}")))
            .chain((1..=5).map(|n| format!("I{n}")))
            .collect();
        assert_eq!(ids, expected, "the index must list every ID once, in order");
        let bad: Vec<&str> = reqs
            .iter()
            .filter(|r| !DOCUMENTS.contains(&r.document.as_str()))
            .map(|r| r.id.as_str())
            .collect();
        assert!(bad.is_empty(), "IDs with an unknown document: {bad:?}");
        let reasonless: Vec<&str> = reqs
            .iter()
            .filter(|r| {
                r.not_checkable
                    .as_deref()
                    .is_some_and(|s| s.trim().is_empty())
            })
            .map(|r| r.id.as_str())
            .collect();
        assert!(
            reasonless.is_empty(),
            "'no:' without a reason: {reasonless:?}"
        );
    }

    /// (a) Every checkable MUST is cited by at least one scenario.
    #[test]
    fn every_checkable_must_has_a_scenario() {
        let cited = cited();
        let reqs = index();
        let missing: Vec<&str> = reqs
            .iter()
            .filter(|r| r.is_must() && r.checkable() && !cited.contains_key(&r.id))
            .map(|r| r.id.as_str())
            .collect();
        assert!(
            missing.is_empty(),
            "checkable MUST requirements that no scenario cites: {missing:?}"
        );
    }

    /// (b) Every ID a scenario cites is in the index.
    #[test]
    fn every_cited_id_is_indexed() {
        let ids: BTreeSet<String> = index().into_iter().map(|r| r.id).collect();
        let unknown: Vec<String> = cited()
            .into_iter()
            .filter(|(id, _)| !ids.contains(id))
            .map(|(id, at)| format!("{id} at {at:?}"))
            .collect();
        assert!(
            unknown.is_empty(),
            "IDs cited but not in the index: {unknown:?}"
        );
    }

    /// (c) No scenario cites a requirement the index calls not checkable.
    #[test]
    fn no_scenario_cites_an_uncheckable_requirement() {
        let cited = cited();
        let wrong: Vec<String> = index()
            .into_iter()
            .filter(|r| !r.checkable())
            .filter_map(|r| cited.get(&r.id).map(|at| format!("{} at {at:?}", r.id)))
            .collect();
        assert!(
            wrong.is_empty(),
            "scenarios cite requirements marked not checkable: {wrong:?}"
        );
    }

    /// The parser rejects what the format does not allow.
    #[test]
    fn parse_rejects_bad_lines() {
        assert!(parse("R1\trfc6749\t3.1\tmust\tyes").is_err());
        assert!(parse("R1\trfc6749\t3.1\tmaybe\tyes\ttext").is_err());
        assert!(parse("R1\trfc6749\t3.1\tmust\tno\ttext").is_err());
        let ok = parse("# comment\n\nR1\trfc6749\t3.1\tmust\tno: TLS only\ttext");
        assert_eq!(
            ok.ok()
                .and_then(|r| r.first().and_then(|r| r.not_checkable.clone())),
            Some("TLS only".to_owned())
        );
    }
}

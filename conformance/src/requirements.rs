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
    "rfc6749",
    "rfc6750",
    "rfc7009",
    "rfc7636",
    "rfc7662",
    "rfc8414",
    "bcp",
    "robustness",
];

/// The document whose rows `oauth2-conformance fuzz` checks (no scenario cites them;
/// [`crate::fuzz::oracle::ROWS`] holds the checks, and a test keeps both in step).
pub const FUZZ_DOCUMENT: &str = "robustness";

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

/// One scenario's citations: where it is, its level tags and the requirement IDs it
/// cites (tags of its feature, rule and itself).
#[derive(Debug, Clone)]
pub struct Citing {
    /// `file:line`, file relative to the features folder.
    pub at: String,
    /// `must`, `should` or `may` tags found.
    pub levels: Vec<String>,
    /// Requirement IDs.
    pub ids: Vec<String>,
}

/// Every scenario with its level tags and requirement IDs.
pub fn scenarios(dir: &Path) -> Result<Vec<Citing>, String> {
    let mut out = Vec::new();
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
            let tags: Vec<&str> = f
                .tags
                .iter()
                .chain(rule.map(|r| r.tags.iter()).into_iter().flatten())
                .chain(scenario.tags.iter())
                .map(|t| t.trim_start_matches('@'))
                .collect();
            out.push(Citing {
                at: format!("{file}:{}", scenario.position.line),
                levels: tags
                    .iter()
                    .filter(|t| matches!(**t, "must" | "should" | "may"))
                    .map(|t| (*t).to_owned())
                    .collect(),
                ids: tags
                    .iter()
                    .filter(|t| is_requirement_id(t))
                    .map(|t| (*t).to_owned())
                    .collect(),
            });
        }
    }
    Ok(out)
}

/// The level a requirement's text supports: the BCP 14 keyword it quotes, or one of
/// the markers for sentences without one. `None` when the text names no level.
pub fn level_in_text(text: &str) -> Option<&'static str> {
    if text.contains("(no keyword: the protocol's definition)") {
        return Some("must");
    }
    if text.contains("(client rule)") || text.contains("(no keyword:") {
        return Some("may");
    }
    let words: Vec<&str> = text
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
        .collect();
    let has = |w: &str| words.contains(&w);
    let not_recommended = text.contains("NOT RECOMMENDED");
    if has("MUST") || has("REQUIRED") || has("SHALL") {
        Some("must")
    } else if has("SHOULD") || (has("RECOMMENDED") && !not_recommended) {
        Some("should")
    } else if has("MAY") || has("OPTIONAL") {
        Some("may")
    } else {
        None
    }
}

/// The requirement IDs each scenario cites (tags of its feature, rule and itself), as
/// `ID -> ["file:line", ...]`, file relative to `dir`.
pub fn citations(dir: &Path) -> Result<BTreeMap<String, BTreeSet<String>>, String> {
    let mut out: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for s in scenarios(dir)? {
        for id in s.ids {
            out.entry(id).or_default().insert(s.at.clone());
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

    /// The index lists R1..R107, M1..M7, I1..I5 and F1..F8, each once, in order, a split part
    /// (`R24a`) right after the sentence it splits, each in a known document.
    #[test]
    fn index_is_complete() {
        let reqs = index();
        let ids: Vec<&str> = reqs
            .iter()
            .map(|r| r.id.as_str())
            .filter(|id| id.ends_with(|c: char| c.is_ascii_digit()))
            .collect();
        let expected: Vec<String> = (1..=107)
            .map(|n| format!("R{n}"))
            .chain((1..=7).map(|n| format!("M{n}")))
            .chain((1..=5).map(|n| format!("I{n}")))
            .chain((1..=8).map(|n| format!("F{n}")))
            .collect();
        assert_eq!(ids, expected, "the index must list every ID once, in order");
        let mut previous = String::new();
        for r in &reqs {
            if let Some(base) = r.id.strip_suffix(|c: char| c.is_ascii_lowercase()) {
                let letter = r.id.chars().last().unwrap_or('a');
                let want = if letter == 'a' {
                    base.to_owned()
                } else {
                    format!("{base}{}", char::from(letter as u8 - 1))
                };
                assert_eq!(previous, want, "{} must follow {want}", r.id);
            }
            previous.clone_from(&r.id);
        }
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

    /// Every row's text quotes the keyword of its level (MUST/REQUIRED/SHALL,
    /// SHOULD/RECOMMENDED, MAY/OPTIONAL) or carries a marker: "(no keyword: the
    /// protocol's definition)" for a MUST-level definition, "(client rule)" or another
    /// "(no keyword: ...)" for what a server may do.
    #[test]
    fn every_row_quotes_its_level() {
        let wrong: Vec<String> = index()
            .iter()
            .filter(|r| level_in_text(&r.text) != Some(r.level.as_str()))
            .map(|r| {
                format!(
                    "{} is {} but its text reads as {:?}",
                    r.id,
                    r.level,
                    level_in_text(&r.text)
                )
            })
            .collect();
        assert!(wrong.is_empty(), "{wrong:#?}");
    }

    /// Every scenario has exactly one level tag, and every requirement it cites has
    /// that level in the index: a scenario that mixes levels must be split.
    #[test]
    fn every_scenario_has_its_requirements_level() {
        let levels: BTreeMap<String, String> =
            index().into_iter().map(|r| (r.id, r.level)).collect();
        let mut wrong = Vec::new();
        for s in scenarios(&features_dir()).unwrap_or_else(|e| panic!("{e}")) {
            let [level] = s.levels.as_slice() else {
                wrong.push(format!("{} has level tags {:?}", s.at, s.levels));
                continue;
            };
            if s.ids.is_empty() {
                wrong.push(format!("{} cites no requirement", s.at));
            }
            for id in &s.ids {
                match levels.get(id) {
                    Some(l) if l == level => {}
                    Some(l) => wrong.push(format!("{} is @{level} but cites {id} ({l})", s.at)),
                    None => wrong.push(format!("{} cites {id}, not in the index", s.at)),
                }
            }
        }
        assert!(wrong.is_empty(), "{wrong:#?}");
    }

    /// The level reader sees keywords as words, and NOT RECOMMENDED is no SHOULD.
    #[test]
    fn level_in_text_reads_keywords() {
        assert_eq!(level_in_text("the server MUST deny"), Some("must"));
        assert_eq!(level_in_text("`state` is REQUIRED"), Some("must"));
        assert_eq!(level_in_text("SHOULD respond with 401"), Some("should"));
        assert_eq!(
            level_in_text("MAY support it; NOT RECOMMENDED"),
            Some("may")
        );
        assert_eq!(level_in_text("(client rule) MUST NOT use GET"), Some("may"));
        assert_eq!(
            level_in_text("(no keyword: the protocol's definition) 200"),
            Some("must")
        );
        assert_eq!(level_in_text("mustard"), None);
    }

    /// (a) Every checkable MUST is cited by at least one scenario.
    #[test]
    fn every_checkable_must_has_a_scenario() {
        let cited = cited();
        let reqs = index();
        let missing: Vec<&str> = reqs
            .iter()
            .filter(|r| r.is_must() && r.checkable() && !cited.contains_key(&r.id))
            .filter(|r| r.document != FUZZ_DOCUMENT)
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

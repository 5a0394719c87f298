//! `oauth2-conformance diff BASE.json NEW.json`: what changed between two JSON results,
//! per scenario and per requirement, as console text, a GitHub-flavoured Markdown table
//! for a pull request, and JUnit XML with one test case per regression.
//!
//! # Outcomes
//!
//! The six outcomes of a result fall into four classes: `passed` and `unexpected_pass`
//! pass; `failed` and `expected_failure` fail (a known failure is still a failure, so
//! `expected_failure` -> `failed` is no change); `error` (the check did not run) and
//! `not_applicable` stand for themselves. An outcome this version does not know is
//! refused by [`parse`]; [`compare`] reads it as an error. A failure that does not count
//! (a SHOULD failure without `--strict`) is a failure here too; the output shows its
//! level and says it is not counted.
//!
//! # Changes
//!
//! Between the two classes of a scenario present in both results:
//!
//! * passed or not applicable -> failed or error: a **regression**;
//! * failed or error -> passed: **fixed**;
//! * anything else -> not applicable: **no longer checked** (neither a regression nor a
//!   fix: the target or the profile stopped offering what the scenario needs);
//! * any other change of class (not applicable -> passed, failed <-> error): an **other
//!   change**, listed but neither good nor bad news;
//! * the same class: no change, not listed.
//!
//! A scenario only in the new result is **new**, with its outcome; a new scenario that
//! fails is listed as new, not as a regression: after a suite upgrade it says nothing
//! about the server getting worse. A scenario only in the base result is **gone**.
//! Only scenario regressions set the exit code ([`Diff::exit_code`]: 0 without, 1 with);
//! every regression counts, whatever its level.
//!
//! # Identity of a scenario
//!
//! A scenario's `id` is `feature:line`, and lines shift when a feature is edited, so
//! scenarios are matched in three passes:
//!
//! 1. by feature and name, when that pair is unique in both results;
//! 2. for a pair that is not unique (an outline's rows share their name): by feature,
//!    name and line; the rows left over are paired in line order when both results
//!    have as many of them (the outline moved as a whole), and left for the next pass
//!    otherwise;
//! 3. what remains, by `id`, when the id is unique in both results and names a line
//!    (the requirements no black box can check all sit at line 0 of their document's
//!    `requirements.tsv`, so they are matched by name only).
//!
//! # Requirements
//!
//! Each requirement ID takes the worst class of the scenarios citing it, in the order
//! failed > error > passed > not applicable, and the strongest level of them (MUST >
//! SHOULD > MAY). Requirements are then compared like scenarios, by ID; their changes
//! are shown but do not set the exit code.
//!
//! # The suite
//!
//! `tool.features_digest` says which features a run used: equal digests mean the same
//! suite, different ones a changed suite, and an empty one (a file written before the
//! digest was recorded) leaves it unknown rather than claiming a change. Results of
//! different targets (name or issuer) are compared all the same, with a warning.

use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;

use super::json::{Report, Scenario};
use super::junit::escape;
use crate::{EXIT_CONFORMANT, EXIT_NOT_CONFORMANT};

/// The outcomes a result file may hold.
const OUTCOMES: [&str; 6] = [
    "passed",
    "failed",
    "error",
    "not_applicable",
    "expected_failure",
    "unexpected_pass",
];

/// What an outcome means for the comparison.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Class {
    /// Not applicable: not checked.
    NotApplicable,
    /// Passed (also an unexpected pass).
    Passed,
    /// The check did not run.
    Error,
    /// Failed (also an expected failure).
    Failed,
}

impl Class {
    /// The class of a JSON outcome (an unknown one reads as an error).
    pub fn of(outcome: &str) -> Self {
        match outcome {
            "passed" | "unexpected_pass" => Self::Passed,
            "failed" | "expected_failure" => Self::Failed,
            "not_applicable" => Self::NotApplicable,
            _ => Self::Error,
        }
    }

    /// The JSON word for the class.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::NotApplicable => "not_applicable",
            Self::Passed => "passed",
            Self::Error => "error",
            Self::Failed => "failed",
        }
    }

    /// Whether it is a failure or an error.
    pub fn is_bad(self) -> bool {
        matches!(self, Self::Failed | Self::Error)
    }
}

/// The kind of a change, in the order the output lists them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Change {
    /// Passed or not applicable before, failed or error now.
    Regressed,
    /// Failed or error before, passed now.
    Fixed,
    /// Checked before, not applicable now.
    NoLongerChecked,
    /// Another change of class: not applicable -> passed, failed <-> error.
    Other,
    /// Only in the new result.
    New,
    /// Only in the base result.
    Gone,
}

impl Change {
    /// The change between two classes, if there is one.
    pub fn between(before: Class, after: Class) -> Option<Self> {
        if before == after {
            None
        } else if !before.is_bad() && after.is_bad() {
            Some(Self::Regressed)
        } else if before.is_bad() && after == Class::Passed {
            Some(Self::Fixed)
        } else if after == Class::NotApplicable {
            Some(Self::NoLongerChecked)
        } else {
            Some(Self::Other)
        }
    }

    /// A short word for tables.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Regressed => "regressed",
            Self::Fixed => "fixed",
            Self::NoLongerChecked => "no longer checked",
            Self::Other => "changed",
            Self::New => "new",
            Self::Gone => "gone",
        }
    }

    /// The console's section title.
    fn heading(self) -> &'static str {
        match self {
            Self::Regressed => "Regressions",
            Self::Fixed => "Fixed",
            Self::NoLongerChecked => "No longer checked",
            Self::Other => "Other changes",
            Self::New => "New",
            Self::Gone => "Gone",
        }
    }

    /// Every kind, in the order the output lists them.
    const ALL: [Self; 6] = [
        Self::Regressed,
        Self::Fixed,
        Self::NoLongerChecked,
        Self::Other,
        Self::New,
        Self::Gone,
    ];
}

/// One scenario that changed (or is new, or gone).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScenarioChange {
    /// What changed.
    pub change: Change,
    /// The feature file.
    pub feature: String,
    /// The scenario title.
    pub name: String,
    /// Its line in the new result (in the base result when gone).
    pub line: usize,
    /// Its line in the base result, when it was there.
    pub base_line: Option<usize>,
    /// The requirement IDs it cites.
    pub requirements: Vec<String>,
    /// `must`, `should` or `may`.
    pub level: String,
    /// Whether a failure here counts against conformance (in the new result; in the
    /// base result when gone).
    pub counted: bool,
    /// The base outcome, as written (`None` when new).
    pub before: Option<String>,
    /// The new outcome, as written (`None` when gone).
    pub after: Option<String>,
    /// The first line of the new result's detail, unless the scenario passes now: the
    /// failing step for a failure, the reason for an error or a scenario not applicable.
    pub reason: Option<String>,
    /// The new result's whole detail (the base one's when gone).
    pub detail: Option<String>,
}

impl ScenarioChange {
    /// `feature:line`.
    pub fn id(&self) -> String {
        format!("{}:{}", self.feature, self.line)
    }

    /// The class it has now (the base one when gone).
    fn class_now(&self) -> Class {
        Class::of(
            self.after
                .as_deref()
                .or(self.before.as_deref())
                .unwrap_or(""),
        )
    }

    /// `MUST R41 R42`, with `(not counted)` for a failure that does not count.
    fn label(&self) -> String {
        let mut s = self.level.to_uppercase();
        for r in &self.requirements {
            s.push(' ');
            s.push_str(r);
        }
        if !self.counted && self.class_now() == Class::Failed {
            s.push_str(" (not counted)");
        }
        s
    }

    /// The level column: `MUST`, or `SHOULD (not counted)`.
    fn level_label(&self) -> String {
        let mut s = self.level.to_uppercase();
        if !self.counted && self.class_now() == Class::Failed {
            s.push_str(" (not counted)");
        }
        s
    }

    /// `passed -> failed`, `new: failed`, `gone (was passed)`.
    fn transition(&self) -> String {
        match (&self.before, &self.after) {
            (Some(b), Some(a)) => format!("{b} -> {a}"),
            (None, Some(a)) => format!("new: {a}"),
            (Some(b), None) => format!("gone (was {b})"),
            (None, None) => String::new(),
        }
    }
}

/// One requirement whose aggregated class changed (or that is new, or gone).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequirementChange {
    /// What changed.
    pub change: Change,
    /// The requirement ID (`R41`).
    pub id: String,
    /// The strongest level of the scenarios citing it (`must`, `should`, `may`).
    pub level: String,
    /// Its worst class in the base result.
    pub before: Option<Class>,
    /// Its worst class in the new result.
    pub after: Option<Class>,
}

/// Whether the two results ran the same suite (`tool.features_digest`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Suite {
    /// Both ran the suite with this digest.
    Unchanged(String),
    /// The digests differ.
    Changed {
        /// The base result's digest.
        base: String,
        /// The new result's digest.
        new: String,
    },
    /// One result, or both, has no digest.
    Unknown {
        /// Whether the base result lacks one.
        base_missing: bool,
        /// Whether the new result lacks one.
        new_missing: bool,
    },
}

impl Suite {
    /// Compares two digests.
    pub fn of(base: &str, new: &str) -> Self {
        if base.is_empty() || new.is_empty() {
            Self::Unknown {
                base_missing: base.is_empty(),
                new_missing: new.is_empty(),
            }
        } else if base == new {
            Self::Unchanged(base.to_owned())
        } else {
            Self::Changed {
                base: base.to_owned(),
                new: new.to_owned(),
            }
        }
    }

    /// `suite unchanged (digest abc123)`, `suite changed (digest a -> b)`, `suite
    /// unknown (no digest in base)`.
    pub fn describe(&self) -> String {
        match self {
            Self::Unchanged(d) => format!("suite unchanged (digest {d})"),
            Self::Changed { base, new } => format!("suite changed (digest {base} -> {new})"),
            Self::Unknown {
                base_missing,
                new_missing,
            } => {
                let which = match (base_missing, new_missing) {
                    (true, true) => "either result",
                    (true, false) => "base",
                    _ => "new",
                };
                format!("suite unknown (no digest in {which})")
            }
        }
    }
}

/// One side of the comparison: which target, when, how many scenarios.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Side {
    /// `target.name`.
    pub target: String,
    /// `target.issuer`.
    pub issuer: Option<String>,
    /// `started_at`.
    pub started_at: String,
    /// How many scenarios the result holds.
    pub scenarios: usize,
}

impl Side {
    /// The side of a result.
    fn of(r: &Report) -> Self {
        Self {
            target: r.target.name.clone(),
            issuer: r.target.issuer.clone(),
            started_at: r.started_at.clone(),
            scenarios: r.scenarios.len(),
        }
    }

    /// `name (issuer)`.
    fn describe(&self) -> String {
        match &self.issuer {
            Some(i) => format!("{} ({i})", self.target),
            None => self.target.clone(),
        }
    }
}

/// What changed between two results.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diff {
    /// The base result.
    pub base: Side,
    /// The new result.
    pub new: Side,
    /// Whether the suite changed.
    pub suite: Suite,
    /// How many scenarios are in both results.
    pub compared: usize,
    /// Every listed scenario change, by kind, then feature and line.
    pub scenarios: Vec<ScenarioChange>,
    /// Every requirement change, by kind, then ID.
    pub requirements: Vec<RequirementChange>,
}

/// Reads a result for a comparison: [`super::json::parse`], and every outcome must be
/// one the schema knows.
pub fn parse(text: &str) -> Result<Report, String> {
    let report = super::json::parse(text)?;
    if let Some(s) = report
        .scenarios
        .iter()
        .find(|s| !OUTCOMES.contains(&s.outcome.as_str()))
    {
        return Err(format!(
            "scenario {}: unknown outcome {:?} (expected one of {})",
            s.id,
            s.outcome,
            OUTCOMES.join(", ")
        ));
    }
    Ok(report)
}

/// Pairs the scenarios of the two results (see the module documentation); returns the
/// pairs of indices, the base indices left over (gone) and the new ones (new).
fn pair(base: &[Scenario], new: &[Scenario]) -> (Vec<(usize, usize)>, Vec<usize>, Vec<usize>) {
    /// Indices by feature and name.
    fn groups(list: &[Scenario]) -> BTreeMap<(&str, &str), Vec<usize>> {
        let mut g: BTreeMap<(&str, &str), Vec<usize>> = BTreeMap::new();
        for (i, s) in list.iter().enumerate() {
            g.entry((s.feature.as_str(), s.name.as_str()))
                .or_default()
                .push(i);
        }
        g
    }
    /// Indices by id.
    fn ids(list: &[Scenario]) -> HashMap<&str, Vec<usize>> {
        let mut m: HashMap<&str, Vec<usize>> = HashMap::new();
        for (i, s) in list.iter().enumerate() {
            m.entry(s.id.as_str()).or_default().push(i);
        }
        m
    }
    /// The pairs found so far, and which scenarios they took.
    struct Pairs {
        /// Base and new index of each pair.
        pairs: Vec<(usize, usize)>,
        /// Which base scenarios are paired.
        base: Vec<bool>,
        /// Which new scenarios are paired.
        new: Vec<bool>,
    }
    impl Pairs {
        /// Pairs two scenarios.
        fn take(&mut self, b: usize, n: usize) {
            self.base[b] = true;
            self.new[n] = true;
            self.pairs.push((b, n));
        }
    }
    let (gb, gn) = (groups(base), groups(new));
    let mut p = Pairs {
        pairs: Vec::new(),
        base: vec![false; base.len()],
        new: vec![false; new.len()],
    };
    // By feature and name; within a name shared by several scenarios, by line, then in
    // line order when as many are left on both sides.
    for (key, bs) in &gb {
        let Some(ns) = gn.get(key) else { continue };
        if let ([b], [n]) = (bs.as_slice(), ns.as_slice()) {
            p.take(*b, *n);
            continue;
        }
        let mut bs_left = Vec::new();
        let mut ns_left: Vec<usize> = ns.clone();
        for &b in bs {
            match ns_left.iter().position(|&n| new[n].line == base[b].line) {
                Some(i) => {
                    let n = ns_left.remove(i);
                    p.take(b, n);
                }
                None => bs_left.push(b),
            }
        }
        if bs_left.len() == ns_left.len() {
            bs_left.sort_by_key(|&b| base[b].line);
            ns_left.sort_by_key(|&n| new[n].line);
            for (b, n) in bs_left.into_iter().zip(ns_left) {
                p.take(b, n);
            }
        }
    }
    // Last, by id: only ids unique in both results, and never line 0.
    let (ib, inew) = (ids(base), ids(new));
    for (b, s) in base.iter().enumerate() {
        if p.base[b] || s.line == 0 {
            continue;
        }
        let unique = (
            ib.get(s.id.as_str()).map(Vec::as_slice),
            inew.get(s.id.as_str()).map(Vec::as_slice),
        );
        if let (Some([_]), Some(&[n])) = unique {
            if !p.new[n] {
                p.take(b, n);
            }
        }
    }
    let gone = (0..base.len()).filter(|&b| !p.base[b]).collect();
    let added = (0..new.len()).filter(|&n| !p.new[n]).collect();
    (p.pairs, gone, added)
}

/// The first non-empty line of a detail, without the colon that introduces the rest
/// (`step "Then ..." (line 12)`).
fn first_line(detail: Option<&str>) -> Option<String> {
    detail
        .and_then(|d| d.lines().map(str::trim).find(|l| !l.is_empty()))
        .map(|l| l.strip_suffix(':').unwrap_or(l).to_owned())
}

/// The listed change of a scenario, from its base and new entries (one may be absent).
fn scenario_change(
    change: Change,
    base: Option<&Scenario>,
    new: Option<&Scenario>,
) -> ScenarioChange {
    // One of the two is always there; `now` is the newer of them.
    let now = new.or(base);
    let field = |f: fn(&Scenario) -> String| now.map(f).unwrap_or_default();
    let after_class = new.map(|s| Class::of(&s.outcome));
    ScenarioChange {
        change,
        feature: field(|s| s.feature.clone()),
        name: field(|s| s.name.clone()),
        line: now.map_or(0, |s| s.line),
        base_line: base.map(|s| s.line),
        requirements: now.map(|s| s.requirements.clone()).unwrap_or_default(),
        level: field(|s| s.level.clone()),
        counted: now.is_some_and(|s| s.counted),
        before: base.map(|s| s.outcome.clone()),
        after: new.map(|s| s.outcome.clone()),
        reason: match after_class {
            Some(c) if c != Class::Passed => first_line(new.and_then(|s| s.detail.as_deref())),
            _ => None,
        },
        detail: now.and_then(|s| s.detail.clone()),
    }
}

/// Each requirement's worst class and strongest level in a result.
fn requirements(report: &Report) -> BTreeMap<String, (Class, String)> {
    /// MUST > SHOULD > MAY.
    fn strength(level: &str) -> u8 {
        match level {
            "must" => 2,
            "should" => 1,
            _ => 0,
        }
    }
    let mut m: BTreeMap<String, (Class, String)> = BTreeMap::new();
    for s in &report.scenarios {
        let class = Class::of(&s.outcome);
        for r in &s.requirements {
            let e = m
                .entry(r.clone())
                .or_insert_with(|| (class, s.level.clone()));
            e.0 = e.0.max(class);
            if strength(&s.level) > strength(&e.1) {
                e.1.clone_from(&s.level);
            }
        }
    }
    m
}

/// Compares two results.
pub fn compare(base: &Report, new: &Report) -> Diff {
    let (pairs, gone, added) = pair(&base.scenarios, &new.scenarios);
    let mut scenarios: Vec<ScenarioChange> = Vec::new();
    for &(b, n) in &pairs {
        let (sb, sn) = (&base.scenarios[b], &new.scenarios[n]);
        if let Some(c) = Change::between(Class::of(&sb.outcome), Class::of(&sn.outcome)) {
            scenarios.push(scenario_change(c, Some(sb), Some(sn)));
        }
    }
    for n in added {
        scenarios.push(scenario_change(Change::New, None, Some(&new.scenarios[n])));
    }
    for b in gone {
        scenarios.push(scenario_change(
            Change::Gone,
            Some(&base.scenarios[b]),
            None,
        ));
    }
    scenarios.sort_by(|x, y| {
        (x.change, &x.feature, x.line, &x.name).cmp(&(y.change, &y.feature, y.line, &y.name))
    });

    let (rb, rn) = (requirements(base), requirements(new));
    let mut reqs = Vec::new();
    for (id, (before, level)) in &rb {
        let change = match rn.get(id) {
            Some((after, _)) => Change::between(*before, *after),
            None => Some(Change::Gone),
        };
        if let Some(change) = change {
            reqs.push(RequirementChange {
                change,
                id: id.clone(),
                level: rn.get(id).map_or_else(|| level.clone(), |(_, l)| l.clone()),
                before: Some(*before),
                after: rn.get(id).map(|(c, _)| *c),
            });
        }
    }
    for (id, (after, level)) in &rn {
        if !rb.contains_key(id) {
            reqs.push(RequirementChange {
                change: Change::New,
                id: id.clone(),
                level: level.clone(),
                before: None,
                after: Some(*after),
            });
        }
    }
    reqs.sort_by_key(|x| (x.change, req_order(&x.id)));

    Diff {
        base: Side::of(base),
        new: Side::of(new),
        suite: Suite::of(&base.tool.features_digest, &new.tool.features_digest),
        compared: pairs.len(),
        scenarios,
        requirements: reqs,
    }
}

/// Sorts `R2` before `R10`: letter, number, suffix.
fn req_order(id: &str) -> (String, u64, String) {
    let letter: String = id.chars().take(1).collect();
    let rest = id.get(letter.len()..).unwrap_or("");
    let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
    let suffix = rest.get(digits.len()..).unwrap_or("").to_owned();
    (letter, digits.parse().unwrap_or(u64::MAX), suffix)
}

/// `1 regression`, `3 regressions`.
fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// Escapes text for one cell of a Markdown table: pipes, line breaks and HTML.
pub fn markdown_cell(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '|' => out.push_str("\\|"),
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '\r' => {
                if chars.peek() == Some(&'\n') {
                    chars.next();
                }
                out.push_str("<br>");
            }
            '\n' => out.push_str("<br>"),
            c if c.is_control() => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

impl Diff {
    /// How many scenarios regressed: what sets the exit code.
    pub fn regressions(&self) -> usize {
        self.count(Change::Regressed)
    }

    /// How many scenarios changed this way.
    pub fn count(&self, change: Change) -> usize {
        self.scenarios.iter().filter(|s| s.change == change).count()
    }

    /// How many requirements changed this way.
    pub fn requirement_count(&self, change: Change) -> usize {
        self.requirements
            .iter()
            .filter(|r| r.change == change)
            .count()
    }

    /// 0 without a regression, 1 with one ([`crate::EXIT_NOT_CONFORMANT`]).
    pub fn exit_code(&self) -> u8 {
        if self.regressions() > 0 {
            EXIT_NOT_CONFORMANT
        } else {
            EXIT_CONFORMANT
        }
    }

    /// The results are of different targets (name or issuer).
    pub fn different_targets(&self) -> bool {
        self.base.target != self.new.target || self.base.issuer != self.new.issuer
    }

    /// The summary line: `3 regressions, 1 fixed, 2 new, 0 gone; suite unchanged (digest
    /// abc123)` (with `N no longer checked` before the suite when there are some).
    pub fn summary(&self) -> String {
        let mut s = format!(
            "{}, {} fixed, {} new, {} gone",
            plural(self.regressions(), "regression", "regressions"),
            self.count(Change::Fixed),
            self.count(Change::New),
            self.count(Change::Gone)
        );
        let unchecked = self.count(Change::NoLongerChecked);
        if unchecked > 0 {
            let _ = write!(s, ", {unchecked} no longer checked");
        }
        let _ = write!(s, "; {}", self.suite.describe());
        s
    }

    /// The warning when the targets differ.
    fn target_warning(&self) -> Option<String> {
        self.different_targets().then(|| {
            format!(
                "warning: the results are of different targets: base {}, new {}; compared all the same",
                self.base.describe(),
                self.new.describe()
            )
        })
    }

    /// `base: name, started, N scenarios; new: ...; M compared`.
    fn sides(&self) -> String {
        format!(
            "base: {}, {}, {}; new: {}, {}, {}; {} in both",
            self.base.describe(),
            self.base.started_at,
            plural(self.base.scenarios, "scenario", "scenarios"),
            self.new.describe(),
            self.new.started_at,
            plural(self.new.scenarios, "scenario", "scenarios"),
            self.compared
        )
    }

    /// `Requirements: 1 regression, 0 fixed, 2 new, 0 gone`.
    fn requirement_summary(&self) -> String {
        let mut s = format!(
            "Requirements: {}, {} fixed, {} new, {} gone",
            plural(
                self.requirement_count(Change::Regressed),
                "regression",
                "regressions"
            ),
            self.requirement_count(Change::Fixed),
            self.requirement_count(Change::New),
            self.requirement_count(Change::Gone)
        );
        let unchecked = self.requirement_count(Change::NoLongerChecked);
        if unchecked > 0 {
            let _ = write!(s, ", {unchecked} no longer checked");
        }
        s
    }

    /// The requirement IDs that changed this way, comma-separated (`None` when none
    /// did).
    fn requirement_ids(&self, change: Change) -> Option<String> {
        let ids: Vec<&str> = self
            .requirements
            .iter()
            .filter(|r| r.change == change)
            .map(|r| r.id.as_str())
            .collect();
        (!ids.is_empty()).then(|| ids.join(", "))
    }

    /// Plain text for the console: the summary line first, then each kind of change,
    /// then the requirements.
    pub fn console(&self) -> String {
        let mut out = self.summary();
        out.push('\n');
        if let Some(w) = self.target_warning() {
            out.push_str(&w);
            out.push('\n');
        }
        out.push_str(&self.sides());
        out.push('\n');
        for kind in Change::ALL {
            let list: Vec<&ScenarioChange> =
                self.scenarios.iter().filter(|s| s.change == kind).collect();
            if list.is_empty() {
                continue;
            }
            let _ = writeln!(out, "\n{} ({})", kind.heading(), list.len());
            for s in list {
                let _ = writeln!(out, "  {}  {}", s.id(), s.name);
                let mut line = format!("    {}: {}", s.label(), s.transition());
                if let Some(r) = &s.reason {
                    let _ = write!(line, ": {r}");
                }
                out.push_str(&line);
                out.push('\n');
            }
        }
        let _ = writeln!(out, "\n{}", self.requirement_summary());
        for r in &self.requirements {
            if matches!(r.change, Change::New | Change::Gone) {
                continue;
            }
            let _ = writeln!(
                out,
                "  {:<18} {:<6} {:<6} {} -> {}",
                r.change.as_str(),
                r.id,
                r.level.to_uppercase(),
                r.before.map_or("-", Class::as_str),
                r.after.map_or("-", Class::as_str)
            );
        }
        for kind in [Change::New, Change::Gone] {
            if let Some(ids) = self.requirement_ids(kind) {
                let _ = writeln!(out, "  {}: {ids}", kind.as_str());
            }
        }
        out
    }

    /// GitHub-flavoured Markdown for a pull request: the summary, a table with one row
    /// per listed scenario change, and a short requirements section.
    pub fn markdown(&self) -> String {
        let mut out = format!("**{}**\n\n", markdown_cell(&self.summary()));
        if let Some(w) = self.target_warning() {
            let _ = writeln!(out, "> {}\n", markdown_cell(&w));
        }
        let _ = writeln!(out, "{}\n", markdown_cell(&self.sides()));
        if self.scenarios.is_empty() {
            out.push_str("No scenario changed.\n");
        } else {
            out.push_str(
                "| Change | Scenario | Requirements | Level | Before | After | Reason |\n\
                 |---|---|---|---|---|---|---|\n",
            );
            for s in &self.scenarios {
                let _ = writeln!(
                    out,
                    "| {} | {} {} | {} | {} | {} | {} | {} |",
                    s.change.as_str(),
                    markdown_cell(&s.id()),
                    markdown_cell(&s.name),
                    markdown_cell(&s.requirements.join(" ")),
                    markdown_cell(&s.level_label()),
                    s.before.as_deref().map_or("—".to_owned(), markdown_cell),
                    s.after.as_deref().map_or("—".to_owned(), markdown_cell),
                    s.reason.as_deref().map(markdown_cell).unwrap_or_default()
                );
            }
        }
        let _ = writeln!(out, "\n### {}\n", self.requirement_summary());
        let changed: Vec<&RequirementChange> = self
            .requirements
            .iter()
            .filter(|r| !matches!(r.change, Change::New | Change::Gone))
            .collect();
        if !changed.is_empty() {
            out.push_str(
                "| Change | Requirement | Level | Before | After |\n|---|---|---|---|---|\n",
            );
            for r in changed {
                let _ = writeln!(
                    out,
                    "| {} | {} | {} | {} | {} |",
                    r.change.as_str(),
                    markdown_cell(&r.id),
                    markdown_cell(&r.level.to_uppercase()),
                    r.before.map_or("—", Class::as_str),
                    r.after.map_or("—", Class::as_str)
                );
            }
            out.push('\n');
        }
        for kind in [Change::New, Change::Gone] {
            if let Some(ids) = self.requirement_ids(kind) {
                let _ = writeln!(out, "{}: {}\n", kind.as_str(), markdown_cell(&ids));
            }
        }
        out
    }

    /// JUnit XML: one test case per regression (a `failure`, or an `error` when the new
    /// outcome is `error`); without a regression, one passing test case named `no
    /// regressions`, so CI never shows an empty report.
    pub fn junit(&self) -> String {
        let regressions: Vec<&ScenarioChange> = self
            .scenarios
            .iter()
            .filter(|s| s.change == Change::Regressed)
            .collect();
        let errors = regressions
            .iter()
            .filter(|s| s.class_now() == Class::Error)
            .count();
        let failures = regressions.len() - errors;
        let tests = regressions.len().max(1);
        let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
        let _ = writeln!(
            out,
            "<testsuites name=\"{}\" tests=\"{tests}\" failures=\"{failures}\" errors=\"{errors}\">",
            escape(&format!(
                "OAuth 2.0 conformance regressions of {}",
                self.new.target
            ))
        );
        let _ = writeln!(
            out,
            "  <testsuite name=\"regressions\" tests=\"{tests}\" failures=\"{failures}\" errors=\"{errors}\" skipped=\"0\" timestamp=\"{}\">",
            escape(self.new.started_at.trim_end_matches('Z'))
        );
        let _ = writeln!(
            out,
            "    <properties>\n      <property name=\"summary\" value=\"{}\"/>\n    </properties>",
            escape(&self.summary())
        );
        if regressions.is_empty() {
            out.push_str(
                "    <testcase classname=\"oauth2-conformance.diff\" name=\"no regressions\"/>\n",
            );
        }
        for s in regressions {
            let tag = if s.class_now() == Class::Error {
                "error"
            } else {
                "failure"
            };
            let mut message = format!("{}: {}", s.label(), s.transition());
            if let Some(r) = &s.reason {
                let _ = write!(message, ": {r}");
            }
            let _ = write!(
                out,
                "    <testcase classname=\"{}\" name=\"{}\" file=\"features/{}\" line=\"{}\">\n      \
                 <{tag} type=\"{}\" message=\"{}\">{}</{tag}>\n    </testcase>\n",
                escape(&s.feature.trim_end_matches(".feature").replace('/', ".")),
                escape(&s.name),
                escape(&s.feature),
                s.line,
                escape(&format!("regression: {}", s.level_label())),
                escape(&message),
                escape(s.detail.as_deref().unwrap_or(""))
            );
        }
        out.push_str("  </testsuite>\n</testsuites>\n");
        out
    }
}

#[cfg(test)]
mod tests {
    use super::super::json::{Summary, TargetInfo, Tool};
    use super::*;

    const FEATURE: &str = "rfc6749/4.1-authorization-code.feature";

    fn scenario(line: usize, name: &str, reqs: &[&str], outcome: &str) -> Scenario {
        Scenario {
            id: format!("{FEATURE}:{line}"),
            document: "rfc6749".into(),
            feature: FEATURE.into(),
            feature_name: "Authorization code grant".into(),
            rule: None,
            name: name.into(),
            line,
            tags: reqs.iter().map(|r| (*r).to_owned()).collect(),
            requirements: reqs.iter().map(|r| (*r).to_owned()).collect(),
            level: "must".into(),
            sections: Vec::new(),
            outcome: outcome.into(),
            failing_step: None,
            duration_ms: 0,
            counted: true,
            detail: (outcome != "passed").then(|| format!("{outcome}: why\nmore")),
            screenshot: None,
        }
    }

    fn report(digest: &str, scenarios: Vec<Scenario>) -> Report {
        Report {
            schema: super::super::json::SCHEMA.into(),
            tool: Tool {
                name: "oauth2-conformance".into(),
                version: "0.1.0".into(),
                features_digest: digest.into(),
            },
            target: TargetInfo {
                name: "reference".into(),
                issuer: Some("http://127.0.0.1:8080".into()),
                profile: None,
            },
            started_at: "2026-11-27T20:12:07Z".into(),
            duration_ms: 1,
            strict: false,
            verdict: "conformant".into(),
            summary: Summary::default(),
            scenarios,
        }
    }

    fn diff(base: Vec<Scenario>, new: Vec<Scenario>) -> Diff {
        compare(&report("d1", base), &report("d1", new))
    }

    fn kinds(d: &Diff) -> Vec<(Change, usize, String)> {
        d.scenarios
            .iter()
            .map(|s| (s.change, s.line, s.name.clone()))
            .collect()
    }

    /// Passed or not applicable -> failed or error regresses and exits 1; a change
    /// within a class (expected failure <-> failed, unexpected pass <-> passed) is none.
    #[test]
    fn regressions() {
        let d = diff(
            vec![
                scenario(10, "a", &["R1"], "passed"),
                scenario(20, "b", &["R2"], "not_applicable"),
                scenario(30, "c", &["R3"], "expected_failure"),
                scenario(40, "d", &["R4"], "passed"),
                scenario(50, "e", &["R5"], "failed"),
            ],
            vec![
                scenario(10, "a", &["R1"], "failed"),
                scenario(20, "b", &["R2"], "error"),
                scenario(30, "c", &["R3"], "failed"),
                scenario(40, "d", &["R4"], "unexpected_pass"),
                scenario(50, "e", &["R5"], "expected_failure"),
            ],
        );
        assert_eq!(
            kinds(&d),
            vec![
                (Change::Regressed, 10, "a".into()),
                (Change::Regressed, 20, "b".into()),
            ]
        );
        assert_eq!(d.regressions(), 2);
        assert_eq!(d.exit_code(), EXIT_NOT_CONFORMANT);
        assert_eq!(d.scenarios[0].reason.as_deref(), Some("failed: why"));
        assert!(
            d.summary()
                .starts_with("2 regressions, 0 fixed, 0 new, 0 gone;")
        );
        let text = d.console();
        assert!(text.contains("Regressions (2)"));
        assert!(text.contains("MUST R1: passed -> failed: failed: why"));
    }

    /// Failed or error -> passed is fixed; -> not applicable is listed as no longer
    /// checked; neither sets the exit code.
    #[test]
    fn fixed_and_no_longer_checked() {
        let d = diff(
            vec![
                scenario(10, "a", &["R1"], "failed"),
                scenario(20, "b", &["R2"], "error"),
                scenario(30, "c", &["R3"], "failed"),
                scenario(40, "d", &["R4"], "not_applicable"),
            ],
            vec![
                scenario(10, "a", &["R1"], "passed"),
                scenario(20, "b", &["R2"], "unexpected_pass"),
                scenario(30, "c", &["R3"], "not_applicable"),
                scenario(40, "d", &["R4"], "passed"),
            ],
        );
        assert_eq!(
            kinds(&d),
            vec![
                (Change::Fixed, 10, "a".into()),
                (Change::Fixed, 20, "b".into()),
                (Change::NoLongerChecked, 30, "c".into()),
                (Change::Other, 40, "d".into()),
            ]
        );
        assert_eq!(d.regressions(), 0);
        assert_eq!(d.exit_code(), EXIT_CONFORMANT);
        assert_eq!(
            d.summary(),
            "0 regressions, 2 fixed, 0 new, 0 gone, 1 no longer checked; suite unchanged (digest d1)"
        );
        assert!(d.console().contains("No longer checked (1)"));
    }

    /// A scenario only in the new result is new (failing or not: exit 0), one only in
    /// the base result is gone.
    #[test]
    fn new_and_gone() {
        let d = diff(
            vec![
                scenario(10, "a", &["R1"], "passed"),
                scenario(20, "old", &["R2"], "passed"),
            ],
            vec![
                scenario(10, "a", &["R1"], "passed"),
                scenario(30, "fresh", &["R3"], "failed"),
            ],
        );
        assert_eq!(
            kinds(&d),
            vec![
                (Change::New, 30, "fresh".into()),
                (Change::Gone, 20, "old".into()),
            ]
        );
        assert_eq!(d.exit_code(), EXIT_CONFORMANT);
        assert_eq!(d.scenarios[0].after.as_deref(), Some("failed"));
        assert_eq!(d.scenarios[0].reason.as_deref(), Some("failed: why"));
        assert!(
            d.summary()
                .starts_with("0 regressions, 0 fixed, 1 new, 1 gone;")
        );
        assert!(d.console().contains("new: failed: failed: why"));
        assert_eq!(d.requirement_count(Change::New), 1);
        assert_eq!(d.requirement_count(Change::Gone), 1);
    }

    /// A scenario moved by three lines is the same scenario; its change is reported at
    /// its new line.
    #[test]
    fn moved_lines() {
        let d = diff(
            vec![
                scenario(10, "a", &["R1"], "passed"),
                scenario(20, "b", &["R2"], "passed"),
            ],
            vec![
                scenario(13, "a", &["R1"], "passed"),
                scenario(23, "b", &["R2"], "failed"),
            ],
        );
        assert_eq!(kinds(&d), vec![(Change::Regressed, 23, "b".into())]);
        assert_eq!(d.scenarios[0].base_line, Some(20));
        assert_eq!(d.compared, 2);
    }

    /// An outline's rows share their name: they stay two scenarios, matched by line,
    /// or in order when the outline moved as a whole.
    #[test]
    fn outline_rows() {
        let rows = |first: usize, outcomes: [&str; 2]| {
            vec![
                scenario(first, "row", &["R1"], outcomes[0]),
                scenario(first + 1, "row", &["R1"], outcomes[1]),
            ]
        };
        let d = diff(
            rows(20, ["passed", "passed"]),
            rows(20, ["passed", "failed"]),
        );
        assert_eq!(kinds(&d), vec![(Change::Regressed, 21, "row".into())]);
        assert_eq!(d.compared, 2);

        let d = diff(
            rows(20, ["passed", "failed"]),
            rows(23, ["failed", "passed"]),
        );
        assert_eq!(
            kinds(&d),
            vec![
                (Change::Regressed, 23, "row".into()),
                (Change::Fixed, 24, "row".into()),
            ]
        );

        // One row kept its line: it matches; the other moved, and is the only one left.
        let d = diff(
            rows(20, ["passed", "passed"]),
            vec![
                scenario(20, "row", &["R1"], "passed"),
                scenario(22, "row", &["R1"], "error"),
            ],
        );
        assert_eq!(kinds(&d), vec![(Change::Regressed, 22, "row".into())]);

        // A row added and the outline moved: no pairing is safe, so new and gone.
        let mut three = rows(30, ["passed", "passed"]);
        three.push(scenario(32, "row", &["R1"], "passed"));
        let d = diff(rows(20, ["passed", "passed"]), three);
        assert_eq!(d.count(Change::New), 3);
        assert_eq!(d.count(Change::Gone), 2);
    }

    /// What name and line cannot match is matched by id (a renamed scenario), but the
    /// line-0 entries of requirements no black box can check are not.
    #[test]
    fn id_fallback() {
        let d = diff(
            vec![scenario(10, "old title", &["R1"], "passed")],
            vec![scenario(10, "new title", &["R1"], "failed")],
        );
        assert_eq!(kinds(&d), vec![(Change::Regressed, 10, "new title".into())]);

        let d = diff(
            vec![scenario(0, "R5: text", &["R5"], "not_applicable")],
            vec![scenario(0, "R7: text", &["R7"], "not_applicable")],
        );
        assert_eq!(d.count(Change::New), 1);
        assert_eq!(d.count(Change::Gone), 1);
    }

    /// Equal digests: unchanged; different: changed; an empty one: unknown.
    #[test]
    fn digests() {
        let run = |a: &str, b: &str| compare(&report(a, Vec::new()), &report(b, Vec::new()));
        assert_eq!(
            run("abc123", "abc123").summary(),
            "0 regressions, 0 fixed, 0 new, 0 gone; suite unchanged (digest abc123)"
        );
        assert!(
            run("abc123", "def456")
                .summary()
                .ends_with("; suite changed (digest abc123 -> def456)")
        );
        assert!(
            run("", "def456")
                .summary()
                .ends_with("; suite unknown (no digest in base)")
        );
        assert!(
            run("abc123", "")
                .summary()
                .ends_with("; suite unknown (no digest in new)")
        );
        assert!(matches!(run("", "").suite, Suite::Unknown { .. }));
    }

    /// Each requirement takes its scenarios' worst class: failed > error > passed >
    /// not applicable; its regressions are listed in their own section.
    #[test]
    fn requirements_aggregate() {
        let d = diff(
            vec![
                scenario(10, "a", &["R1"], "passed"),
                scenario(20, "b", &["R1"], "not_applicable"),
                scenario(30, "c", &["R2"], "error"),
                scenario(40, "d", &["R2"], "passed"),
            ],
            vec![
                scenario(10, "a", &["R1"], "passed"),
                scenario(20, "b", &["R1"], "error"),
                scenario(30, "c", &["R2"], "failed"),
                scenario(40, "d", &["R2"], "passed"),
            ],
        );
        assert_eq!(
            d.requirements,
            vec![
                RequirementChange {
                    change: Change::Regressed,
                    id: "R1".into(),
                    level: "must".into(),
                    before: Some(Class::Passed),
                    after: Some(Class::Error),
                },
                RequirementChange {
                    change: Change::Other,
                    id: "R2".into(),
                    level: "must".into(),
                    before: Some(Class::Error),
                    after: Some(Class::Failed),
                },
            ]
        );
        let text = d.console();
        assert!(text.contains("Requirements: 1 regression, 0 fixed, 0 new, 0 gone"));
        assert!(text.contains("regressed          R1     MUST   passed -> error"));
        assert!(
            d.markdown()
                .contains("| regressed | R1 | MUST | passed | error |")
        );
    }

    /// A SHOULD failure that does not count is still a regression, marked with its
    /// level.
    #[test]
    fn uncounted_should() {
        let mut after = scenario(10, "a", &["R1"], "failed");
        after.level = "should".into();
        after.counted = false;
        let d = diff(vec![scenario(10, "a", &["R1"], "passed")], vec![after]);
        assert_eq!(d.exit_code(), EXIT_NOT_CONFORMANT);
        assert!(
            d.console()
                .contains("SHOULD R1 (not counted): passed -> failed")
        );
        assert!(d.markdown().contains("| SHOULD (not counted) |"));
    }

    /// Pipes and line breaks in cells never break the table; markup is not
    /// interpreted.
    #[test]
    fn markdown_escapes() {
        let mut after = scenario(10, "a | b\nc", &["R1"], "failed");
        after.detail = Some("expected | 400 <b>\r\nactual 200".into());
        let d = diff(
            vec![scenario(10, "a | b\nc", &["R1"], "passed")],
            vec![after],
        );
        let md = d.markdown();
        let row = md
            .lines()
            .find(|l| l.starts_with("| regressed |") && l.contains(FEATURE))
            .unwrap_or_default();
        assert!(row.contains("a \\| b<br>c"), "{row}");
        assert!(row.contains("expected \\| 400 &lt;b&gt; |"), "{row}");
        // Seven columns: eight unescaped pipes.
        let unescaped = row.len() - row.replace('|', "").len() - row.matches("\\|").count();
        assert_eq!(unescaped, 8, "{row}");
        assert_eq!(markdown_cell("x\r\ny"), "x<br>y");
        assert_eq!(
            first_line(Some("\nstep \"Then x\" (line 3):\nexpected: 400")).as_deref(),
            Some("step \"Then x\" (line 3)")
        );
        assert!(
            diff(Vec::new(), Vec::new())
                .markdown()
                .contains("No scenario changed.")
        );
    }

    /// One test case per regression, an error for an error; a single passing case
    /// without regressions; everything escaped.
    #[test]
    fn junit() {
        let mut broken = scenario(20, "b <&>", &["R2"], "error");
        broken.detail = Some("stopped: <html>".into());
        let d = diff(
            vec![
                scenario(10, "a", &["R1"], "passed"),
                scenario(20, "b <&>", &["R2"], "passed"),
                scenario(30, "c", &["R3"], "failed"),
            ],
            vec![
                scenario(10, "a", &["R1"], "failed"),
                broken,
                scenario(30, "c", &["R3"], "passed"),
            ],
        );
        let xml = d.junit();
        assert_eq!(xml.matches("<testcase").count(), 2);
        assert_eq!(xml.matches("<failure ").count(), 1);
        assert_eq!(xml.matches("<error ").count(), 1);
        assert!(xml.contains("tests=\"2\" failures=\"1\" errors=\"1\""));
        assert!(xml.contains("name=\"b &lt;&amp;&gt;\""));
        assert!(xml.contains("stopped: &lt;html&gt;"));
        assert!(!xml.contains("<html>"));
        assert_eq!(
            xml.matches("<testcase").count(),
            xml.matches("</testcase>").count()
        );

        let clean = diff(vec![scenario(10, "a", &["R1"], "passed")], Vec::new()).junit();
        assert_eq!(clean.matches("<testcase").count(), 1);
        assert!(clean.contains("name=\"no regressions\"/>"));
        assert!(clean.contains("tests=\"1\" failures=\"0\" errors=\"0\""));
    }

    /// Different targets give a warning, and are compared all the same.
    #[test]
    fn different_targets() {
        let base = report("d1", vec![scenario(10, "a", &["R1"], "passed")]);
        let mut new = report("d1", vec![scenario(10, "a", &["R1"], "failed")]);
        new.target.name = "other".into();
        let d = compare(&base, &new);
        assert!(d.different_targets());
        assert!(
            d.console()
                .contains("warning: the results are of different targets")
        );
        assert_eq!(d.regressions(), 1);
        assert!(!compare(&base, &base).different_targets());
    }

    /// A file with an outcome the schema does not know is refused.
    #[test]
    fn unknown_outcome() {
        let mut r = report("d1", vec![scenario(10, "a", &["R1"], "passed")]);
        assert!(parse(&super::super::json::render(&r)).is_ok());
        r.scenarios[0].outcome = "skipped".into();
        let err = parse(&super::super::json::render(&r))
            .err()
            .unwrap_or_default();
        assert!(err.contains("unknown outcome \"skipped\""), "{err}");
        assert!(parse("{}").is_err());
    }
}

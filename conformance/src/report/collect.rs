//! A cucumber writer that turns the event stream into one [`ScenarioResult`] per
//! scenario, and prints progress on stderr.

use std::collections::{BTreeSet, HashMap};
use std::io::{IsTerminal as _, Write as _};
use std::path::Path;
use std::sync::{Arc, Mutex};

use cucumber::event::{
    self, Cucumber, Feature, Hook, HookType, RetryableScenario, Rule, Scenario, Step, StepError,
};
use cucumber::{Event, Writer, cli, gherkin, parser};

use super::{Outcome, ScenarioResult};
use crate::mismatch::{Kind, classify};

/// Shared list of results; the runner reads it after the run.
pub type Results = Arc<Mutex<Vec<ScenarioResult>>>;

/// The collecting writer.
#[derive(Debug)]
pub struct Collector {
    results: Results,
    root: std::path::PathBuf,
    open: HashMap<(String, usize), (ScenarioResult, std::time::SystemTime)>,
    done: usize,
    total: usize,
    progress: bool,
}

impl Collector {
    /// A collector for features under `root`, writing into `results`.
    pub fn new(results: Results, root: &Path, total: usize) -> Self {
        Self {
            results,
            root: root.to_owned(),
            open: HashMap::new(),
            done: 0,
            total,
            progress: std::io::stderr().is_terminal(),
        }
    }
}

/// The path of a feature relative to the features folder, with `/` separators.
pub fn relative(root: &Path, path: Option<&std::path::PathBuf>) -> String {
    let Some(p) = path else {
        return "(unknown)".into();
    };
    let canonical = p.canonicalize().unwrap_or_else(|_| p.clone());
    let rel = canonical.strip_prefix(root).unwrap_or(&canonical);
    rel.components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect::<Vec<_>>()
        .join("/")
}

/// Every tag of a scenario, including its feature's and rule's, without `@`.
pub fn all_tags(
    f: &gherkin::Feature,
    r: Option<&gherkin::Rule>,
    s: &gherkin::Scenario,
) -> BTreeSet<String> {
    f.tags
        .iter()
        .chain(r.map(|r| r.tags.iter()).into_iter().flatten())
        .chain(s.tags.iter())
        .map(|t| t.trim_start_matches('@').to_owned())
        .collect()
}

fn panic_text(info: &event::Info) -> String {
    if let Some(s) = info.downcast_ref::<String>() {
        s.clone()
    } else if let Some(s) = info.downcast_ref::<&str>() {
        (*s).to_owned()
    } else {
        "the step panicked".to_owned()
    }
}

impl Collector {
    fn key(&self, f: &gherkin::Feature, s: &gherkin::Scenario) -> (String, usize) {
        (relative(&self.root, f.path.as_ref()), s.position.line)
    }

    fn scenario(
        &mut self,
        f: &gherkin::Feature,
        r: Option<&gherkin::Rule>,
        s: &gherkin::Scenario,
        ev: &Scenario<crate::world::OAuthWorld>,
        at: std::time::SystemTime,
    ) {
        let key = self.key(f, s);
        match ev {
            Scenario::Started => {
                self.open.insert(
                    key.clone(),
                    (
                        ScenarioResult {
                            feature: key.0.clone(),
                            feature_name: f.name.clone(),
                            rule: r.map(|r| r.name.clone()),
                            name: s.name.clone(),
                            line: s.position.line,
                            tags: all_tags(f, r, s),
                            outcome: Outcome::Passed,
                            failing_step: None,
                            duration_ms: 0,
                        },
                        at,
                    ),
                );
            }
            Scenario::Hook(HookType::After, Hook::Failed(_, info)) => {
                // The after hook fails a scenario that used a credential past its
                // lifetime: whatever its steps concluded, the check did not really run.
                let (_, why) = classify(&panic_text(info));
                if let Some((r, _)) = self.open.get_mut(&key) {
                    if matches!(r.outcome, Outcome::Passed | Outcome::Failed(_)) {
                        r.outcome = Outcome::Error(why);
                    }
                }
            }
            Scenario::Hook(_, Hook::Failed(_, info)) => self.stop(
                &key,
                Outcome::Error(format!("a hook failed: {}", panic_text(info))),
                None,
            ),
            Scenario::Step(step, Step::Failed(_, _, _, err)) => {
                let setup = step.ty == gherkin::StepType::Given;
                self.step_failed(&key, step, err, setup);
            }
            Scenario::Background(step, Step::Failed(_, _, _, err)) => {
                self.step_failed(&key, step, err, true);
            }
            Scenario::Finished => {
                if let Some((mut result, started)) = self.open.remove(&key) {
                    result.duration_ms = at
                        .duration_since(started)
                        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX));
                    self.done += 1;
                    if self.progress {
                        let mut err = std::io::stderr();
                        let _ = write!(
                            err,
                            "\r{} of {} scenarios done",
                            self.done,
                            self.total.max(self.done)
                        );
                        let _ = err.flush();
                    }
                    if let Ok(mut all) = self.results.lock() {
                        all.push(result);
                    }
                }
            }
            _ => {}
        }
    }

    /// Turns a failed step into the scenario's outcome: a check that failed in a setup
    /// step (`Given`, Background) is an error, since the scenario's own check did not run;
    /// a step that found the scenario not applicable makes it so; a step definition that
    /// is missing or ambiguous, or a step that panicked, is an error of the suite.
    fn step_failed(
        &mut self,
        key: &(String, usize),
        step: &gherkin::Step,
        err: &StepError,
        setup: bool,
    ) {
        let at = format!(
            "{} {} (line {})",
            step.keyword.trim(),
            step.value,
            step.position.line
        );
        let outcome = match err {
            StepError::NotFound => Outcome::Error(format!(
                "step \"{at}\": no step definition matches this step (a typo, or a step not written yet)"
            )),
            StepError::AmbiguousMatch(e) => Outcome::Error(format!(
                "step \"{at}\": more than one step definition matches: {e}"
            )),
            StepError::Panic(info) => match classify(&panic_text(info)) {
                (Kind::NotApplicable, why) => Outcome::NotApplicable(why),
                (Kind::Error, why) => Outcome::Error(format!(
                    "step \"{at}\" could not do its work, so the scenario's check did not run:\n{why}"
                )),
                (Kind::Failed, why) if setup => Outcome::Error(format!(
                    "setup step \"{at}\" failed, so the scenario's check did not run:\n{why}"
                )),
                (Kind::Failed, why) => Outcome::Failed(format!("step \"{at}\":\n{why}")),
            },
        };
        self.stop(key, outcome, Some(at));
    }

    fn stop(&mut self, key: &(String, usize), outcome: Outcome, step: Option<String>) {
        if let Some((r, _)) = self.open.get_mut(key) {
            if r.outcome == Outcome::Passed {
                r.outcome = outcome;
                r.failing_step = step;
            }
        }
    }
}

impl Writer<crate::world::OAuthWorld> for Collector {
    type Cli = cli::Empty;

    async fn handle_event(
        &mut self,
        event: parser::Result<Event<Cucumber<crate::world::OAuthWorld>>>,
        _cli: &Self::Cli,
    ) {
        // When the event happened (the writer gets them in order, later).
        let at = event
            .as_ref()
            .map_or_else(|_| std::time::SystemTime::now(), |e| e.at);
        let event = match event {
            Ok(e) => e.value,
            Err(e) => {
                if let Ok(mut all) = self.results.lock() {
                    all.push(ScenarioResult {
                        feature: "(parse error)".into(),
                        feature_name: "A feature file could not be read".into(),
                        rule: None,
                        name: e.to_string(),
                        line: 0,
                        tags: BTreeSet::from(["must".to_owned()]),
                        outcome: Outcome::Error(format!("the feature could not be parsed: {e}")),
                        failing_step: None,
                        duration_ms: 0,
                    });
                }
                return;
            }
        };
        match event {
            Cucumber::Feature(f, Feature::Scenario(s, RetryableScenario { event, .. })) => {
                self.scenario(&f, None, &s, &event, at);
            }
            Cucumber::Feature(
                f,
                Feature::Rule(r, Rule::Scenario(s, RetryableScenario { event, .. })),
            ) => {
                self.scenario(&f, Some(&r), &s, &event, at);
            }
            Cucumber::Finished if self.progress => {
                let _ = writeln!(std::io::stderr());
            }
            _ => {}
        }
    }
}

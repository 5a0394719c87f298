//! The CI recipes of `docs/ci.md`: the GitHub Actions and GitLab CI jobs of
//! `docs/ci/` parse as YAML (with `yaml-rust2`, a YAML 1.2 parser that refuses duplicate
//! keys), every `yaml` block of `docs/ci.md` parses and is one of those files word for
//! word, and each job has the parts a reader copies it for: the server as a service, the
//! suite run with its three reports, the baseline gate, and the reports kept.

use std::path::{Path, PathBuf};

use yaml_rust2::{Yaml, YamlLoader};

/// The suite's run in both jobs, as `docs/ci.md` explains it.
const RUN: &str = "oauth2-conformance --profile ci/profile.toml --json result.json --junit junit.xml --html report.html";
/// The baseline gate in both jobs.
const GATE: &str = "oauth2-conformance diff ci/baseline.json result.json --markdown diff.md --junit diff-junit.xml";
/// The files both jobs keep.
const REPORTS: [&str; 5] = [
    "result.json",
    "junit.xml",
    "report.html",
    "diff.md",
    "diff-junit.xml",
];

fn docs() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs")
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Parses one YAML document that must be a mapping.
fn parse(what: &str, text: &str) -> Yaml {
    let mut docs =
        YamlLoader::load_from_str(text).unwrap_or_else(|e| panic!("{what} is not YAML: {e}"));
    assert_eq!(docs.len(), 1, "{what} holds {} documents", docs.len());
    let doc = docs.remove(0);
    assert!(doc.as_hash().is_some(), "{what} is not a mapping");
    doc
}

/// The contents of the ```yaml blocks of a Markdown text.
fn yaml_blocks(markdown: &str) -> Vec<String> {
    let mut blocks = Vec::new();
    let mut open: Option<String> = None;
    for line in markdown.split_inclusive('\n') {
        match open.as_mut() {
            None if line.trim_end() == "```yaml" => open = Some(String::new()),
            None => {}
            Some(_) if line.trim_end() == "```" => blocks.extend(open.take()),
            Some(block) => block.push_str(line),
        }
    }
    assert!(open.is_none(), "docs/ci.md has an unterminated yaml block");
    blocks
}

fn strings(y: &Yaml) -> Vec<&str> {
    match y {
        Yaml::String(s) => vec![s.as_str()],
        Yaml::Array(a) => a.iter().filter_map(Yaml::as_str).collect(),
        _ => Vec::new(),
    }
}

fn github() -> String {
    read(&docs().join("ci/github-actions.yml"))
}

fn gitlab() -> String {
    read(&docs().join("ci/gitlab-ci.yml"))
}

/// Every yaml block of docs/ci.md parses and is one of the two files, each shown once.
#[test]
fn doc_blocks_are_the_files() {
    let blocks = yaml_blocks(&read(&docs().join("ci.md")));
    for (i, block) in blocks.iter().enumerate() {
        parse(&format!("yaml block {} of docs/ci.md", i + 1), block);
    }
    assert_eq!(
        blocks,
        [github(), gitlab()],
        "the yaml blocks of docs/ci.md differ from docs/ci/github-actions.yml and docs/ci/gitlab-ci.yml"
    );
}

/// The GitHub Actions job: a service, the run, the gate, the reports uploaded always.
#[test]
fn github_actions_job() {
    let doc = parse("docs/ci/github-actions.yml", &github());
    assert!(!doc["on"].is_badvalue(), "the workflow has no `on`");
    let jobs = doc["jobs"].as_hash().expect("a `jobs` mapping");
    assert_eq!(jobs.len(), 1, "one job");
    let job = jobs.values().next().expect("a job");
    assert!(job["runs-on"].as_str().is_some(), "the job has no runs-on");
    let services = job["services"].as_hash().expect("the job's `services`");
    assert!(
        services.values().all(|s| s["image"].as_str().is_some()),
        "a service without an image"
    );
    assert!(!services.is_empty(), "no service");
    let steps = job["steps"].as_vec().expect("the job's `steps`");
    let runs: Vec<&str> = steps.iter().filter_map(|s| s["run"].as_str()).collect();
    assert!(
        runs.iter()
            .any(|r| r.contains("cargo install --locked --git")),
        "no step installs the suite"
    );
    assert!(runs.iter().any(|r| r.contains(RUN)), "no step runs {RUN:?}");
    assert!(
        runs.iter().any(|r| r.contains(GATE)),
        "no step runs {GATE:?}"
    );
    let upload = steps
        .iter()
        .find(|s| {
            s["uses"]
                .as_str()
                .is_some_and(|u| u.starts_with("actions/upload-artifact@"))
        })
        .expect("an actions/upload-artifact step");
    assert_eq!(upload["if"].as_str(), Some("always()"));
    let paths = upload["with"]["path"].as_str().expect("the uploaded paths");
    for file in REPORTS {
        assert!(
            paths.lines().any(|l| l.trim() == file),
            "{file} is not uploaded"
        );
    }
}

/// The GitLab CI job: a service, the run, the gate, the reports kept and the JUnit one
/// read by GitLab.
#[test]
fn gitlab_ci_job() {
    let doc = parse("docs/ci/gitlab-ci.yml", &gitlab());
    let jobs = doc.as_hash().expect("a mapping of jobs");
    assert_eq!(jobs.len(), 1, "one job");
    let job = jobs.values().next().expect("a job");
    let services = job["services"].as_vec().expect("the job's `services`");
    assert!(!services.is_empty(), "no service");
    assert!(
        services.iter().all(|s| s["name"].as_str().is_some()),
        "a service without a name"
    );
    let lines: Vec<&str> = ["before_script", "script"]
        .iter()
        .flat_map(|k| strings(&job[*k]))
        .collect();
    assert!(
        lines
            .iter()
            .any(|r| r.contains("cargo install --locked --git")),
        "no line installs the suite"
    );
    let script = strings(&job["script"]);
    assert!(
        script.iter().any(|r| r.contains(RUN)),
        "no line runs {RUN:?}"
    );
    assert!(
        script.iter().any(|r| r.contains(GATE)),
        "no line runs {GATE:?}"
    );
    let artifacts = &job["artifacts"];
    assert_eq!(artifacts["when"].as_str(), Some("always"));
    assert_eq!(strings(&artifacts["reports"]["junit"]), ["junit.xml"]);
    let paths = strings(&artifacts["paths"]);
    for file in REPORTS {
        assert!(paths.contains(&file), "{file} is not kept");
    }
}

/// The block finder sees yaml blocks only, with their text as written.
#[test]
fn finds_yaml_blocks() {
    let md = "text\n```sh\nnot: yaml\n```\n```yaml\na: 1\n\nb: [2]\n```\n```yaml\n```\n";
    assert_eq!(yaml_blocks(md), ["a: 1\n\nb: [2]\n", ""]);
}

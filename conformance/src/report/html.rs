//! The HTML report: one self-contained page (inline CSS, no script, no external resource)
//! for one run, or, for several runs, an Autobahn-style matrix (rows = scenarios, columns =
//! targets) whose failing cells link to the failure details below it. Failures open as
//! `<details>`. Every string from a report is HTML-escaped: target names, scenario titles
//! and failure details come from servers we do not control. The output depends only on
//! the reports, so the same reports always give the same page.

use std::collections::HashMap;
use std::fmt::Write as _;

use super::json::{Report, Scenario};

const STYLE: &str = r#"
:root { color-scheme: light; }
body { font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: #1f2328;
  background: #fff; margin: 0; padding: 1.5rem 2rem; }
h1 { font-size: 1.6rem; margin: 0 0 .75rem; }
h2 { font-size: 1.3rem; margin: 2rem 0 .5rem; border-bottom: 1px solid #d0d7de; padding-bottom: .25rem; }
h3 { font-size: 1.1rem; margin: 1.5rem 0 .5rem; }
h4 { font-size: 1rem; margin: 1rem 0 .4rem; }
p { max-width: 60rem; }
a { color: #0969da; }
a:focus-visible, summary:focus-visible { outline: 2px solid #0969da; outline-offset: 2px; }
table { border-collapse: collapse; margin: .5rem 0; }
th, td { border: 1px solid #d0d7de; padding: .3rem .55rem; text-align: left; vertical-align: top; }
thead th { background: #f6f8fa; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
tr.total th, tr.total td { font-weight: 600; background: #f6f8fa; }
tr.doc th { background: #dde3ea; font-size: 1.05rem; }
tr.feature th { background: #f6f8fa; }
th.title { font-weight: normal; min-width: 18rem; max-width: 34rem; }
th.target { text-align: center; min-width: 8rem; }
td.cell { text-align: center; vertical-align: middle; }
td.nowrap, table.targets tbody th, a.sec { white-space: nowrap; }
table.reqs { width: 100%; max-width: 90rem; }
table.reqs td:first-child { width: 11rem; }
table.matrix thead th { position: sticky; top: 0; z-index: 1; box-shadow: 0 1px 0 #d0d7de; }
.sub { color: #57606a; font-size: .85em; }
.badge { display: inline-block; padding: .05rem .55rem; border-radius: 1rem; font-size: .85em;
  font-weight: 600; white-space: nowrap; color: #fff; border: 1px solid transparent; }
.passed { background: #1a7f37; }
.failed { background: #c62828; }
.warned { background: #fff; color: #a40e26; border: 1px dashed #a40e26; }
.na { background: #57606a; }
.xfail { background: #7d4e00; }
.xpass { background: #6f42c1; }
.error { background: #fff; color: #7d4e00; border: 1px solid #7d4e00; }
.other { background: #fff; color: #1f2328; border-color: #57606a; }
.missing { color: #57606a; }
.sr { position: absolute; width: 1px; height: 1px; overflow: hidden; clip-path: inset(50%); white-space: nowrap; }
dl.meta { display: grid; grid-template-columns: max-content 1fr; gap: .2rem 1.25rem; margin: 0; }
dl.meta dt { font-weight: 600; }
dl.meta dd { margin: 0; }
details > summary { cursor: pointer; }
details.item { border: 1px solid #d0d7de; border-radius: 6px; padding: .35rem .6rem; margin: .4rem 0; }
details:target { outline: 3px solid #0969da; outline-offset: 2px; }
details:target::details-content { content-visibility: visible; display: block; }
pre { white-space: pre-wrap; overflow-wrap: anywhere; background: #f6f8fa; border: 1px solid #d0d7de;
  border-radius: 6px; padding: .6rem; margin: .4rem 0; max-width: 100rem;
  font: 13px/1.4 ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; }
.shot img { max-width: 100%; border: 1px solid #d0d7de; border-radius: 6px; }
.shot figcaption { font-size: .85rem; color: #57606a; }
"#;

/// Renders one report as a page, or several as a matrix with one column per report.
pub fn render(reports: &[Report]) -> String {
    let title = match reports {
        [one] => format!("OAuth 2.0 conformance of {}", one.target.name),
        _ => "OAuth 2.0 conformance matrix".to_owned(),
    };
    let mut out = String::new();
    let _ = write!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>{}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n",
        esc(&title)
    );
    match reports {
        [] => out.push_str("<h1>OAuth 2.0 conformance</h1>\n<p>No results.</p>\n"),
        [one] => single(&mut out, one),
        _ => matrix(&mut out, reports),
    }
    out.push_str("</body>\n</html>\n");
    out
}

/// HTML-escapes text for element content and quoted attributes; control characters other
/// than whitespace become U+FFFD.
fn esc(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => o.push_str("&amp;"),
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '"' => o.push_str("&quot;"),
            '\'' => o.push_str("&#39;"),
            '\n' | '\t' | '\r' => o.push(c),
            c if c.is_control() => o.push('\u{FFFD}'),
            c => o.push(c),
        }
    }
    o
}

/// An id fragment from a scenario id: ASCII letters, digits and `-` kept, anything else
/// written as `_` and its hex code, so distinct ids stay distinct.
fn slug(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        if c.is_ascii_alphanumeric() || c == '-' {
            o.push(c);
        } else {
            let _ = write!(o, "_{:x}", u32::from(c));
        }
    }
    o
}

/// Whether the outcome is a failure of the run's expectations.
fn is_failure(s: &Scenario) -> bool {
    matches!(s.outcome.as_str(), "failed" | "unexpected_pass" | "error")
}

/// The outcome badge: colour plus text (the mark is decorative).
fn badge(s: &Scenario) -> String {
    let (class, mark, label) = match s.outcome.as_str() {
        "passed" => ("passed", "✓", "passed"),
        "failed" if s.counted => ("failed", "✗", "failed"),
        "failed" => ("warned", "!", "failed, not counted"),
        "not_applicable" => ("na", "–", "not applicable"),
        "error" => ("error", "?", "error: check did not run"),
        "expected_failure" => ("xfail", "✗", "expected failure"),
        "unexpected_pass" => ("xpass", "!", "unexpected pass"),
        other => return format!("<span class=\"badge other\">{}</span>", esc(other)),
    };
    format!("<span class=\"badge {class}\"><span aria-hidden=\"true\">{mark}</span> {label}</span>")
}

fn verdict_badge(verdict: &str) -> String {
    match verdict {
        "conformant" => "<span class=\"badge passed\">✓ conformant</span>".to_owned(),
        "not_conformant" => "<span class=\"badge failed\">✗ not conformant</span>".to_owned(),
        "no_verdict" => {
            "<span class=\"badge error\">! no verdict: checks did not run</span>".to_owned()
        }
        other => format!("<span class=\"badge other\">{}</span>", esc(other)),
    }
}

/// The text shown for a scenario's detail, if it has one.
/// The login screenshot of a scenario, inline (the page stays one self-contained file);
/// empty when there is none or it cannot be read.
fn screenshot(s: &Scenario) -> String {
    use base64::Engine as _;
    let Some(path) = s.screenshot.as_deref() else {
        return String::new();
    };
    match std::fs::read(path) {
        Ok(png) if png.starts_with(b"\x89PNG") => format!(
            "<figure class=\"shot\"><img alt=\"the login page when the browser gave up\" src=\"data:image/png;base64,{}\"><figcaption>{}</figcaption></figure>",
            base64::engine::general_purpose::STANDARD.encode(png),
            esc(path)
        ),
        _ => String::new(),
    }
}

fn detail_text(s: &Scenario) -> Option<String> {
    let d = s.detail.as_deref()?;
    Some(match s.outcome.as_str() {
        "unexpected_pass" => {
            format!("Passed, but the profile lists it as an expected failure: {d}")
        }
        "expected_failure" => format!("The profile expects this failure: {d}"),
        "error" => format!(
            "The scenario could not reach its check, so it says nothing about the requirement: {d}"
        ),
        _ => d.to_owned(),
    })
}

fn level(s: &Scenario) -> String {
    esc(&s.level.to_uppercase())
}

fn requirements(s: &Scenario) -> String {
    if s.requirements.is_empty() {
        "<span class=\"missing\">—</span>".to_owned()
    } else {
        esc(&s.requirements.join(", "))
    }
}

/// Section tags, linked to the RFC when the link is an `https` URL.
fn sections(s: &Scenario) -> String {
    let links: Vec<String> = s
        .sections
        .iter()
        .map(|sec| {
            if sec.url.starts_with("https://") {
                format!(
                    "<a class=\"sec\" href=\"{}\">{}</a>",
                    esc(&sec.url),
                    esc(&sec.tag)
                )
            } else {
                esc(&sec.tag)
            }
        })
        .collect();
    links.join(" ")
}

fn level_rank(level: &str) -> u8 {
    match level {
        "must" => 0,
        "should" => 1,
        "may" => 2,
        _ => 3,
    }
}

/// Every scenario id of the reports once (the first report holding it describes it),
/// grouped by document in the order documents first appear, each group in feature and
/// line order.
fn rows(reports: &[Report]) -> Vec<(&str, Vec<&Scenario>)> {
    let mut seen = std::collections::HashSet::new();
    let mut groups: Vec<(&str, Vec<&Scenario>)> = Vec::new();
    for s in reports.iter().flat_map(|r| &r.scenarios) {
        if !seen.insert(s.id.as_str()) {
            continue;
        }
        match groups.iter_mut().find(|(d, _)| *d == s.document) {
            Some((_, v)) => v.push(s),
            None => groups.push((&s.document, vec![s])),
        }
    }
    for (_, v) in &mut groups {
        v.sort_by(|a, b| (&a.feature, a.line, &a.id).cmp(&(&b.feature, b.line, &b.id)));
    }
    groups
}

#[derive(Default, Clone, Copy)]
struct Counts([usize; 6]);

impl Counts {
    fn add(&mut self, s: &Scenario) {
        let i = match s.outcome.as_str() {
            "passed" => 0,
            "failed" => 1,
            "error" => 2,
            "not_applicable" => 3,
            "expected_failure" => 4,
            "unexpected_pass" => 5,
            _ => return,
        };
        self.0[i] += 1;
    }

    fn cells(&self) -> String {
        self.0
            .iter()
            .map(|n| format!("<td class=\"num\">{n}</td>"))
            .collect()
    }
}

const COUNT_HEADS: &str = "<th>passed</th><th>failed</th><th>errors</th><th>not applicable</th>\
                           <th>expected failure</th><th>unexpected pass</th>";

fn duration(ms: u64) -> String {
    format!("{}.{} s", ms / 1000, ms % 1000 / 100)
}

fn yes_no(b: bool) -> &'static str {
    if b { "yes" } else { "no" }
}

/// The page of one run.
fn single(out: &mut String, r: &Report) {
    let _ = writeln!(
        out,
        "<header>\n<h1>OAuth 2.0 conformance of {} {}</h1>\n<dl class=\"meta\">",
        esc(&r.target.name),
        verdict_badge(&r.verdict)
    );
    let mut meta = vec![("Target", esc(&r.target.name))];
    if let Some(issuer) = &r.target.issuer {
        meta.push(("Issuer", esc(issuer)));
    }
    if let Some(profile) = &r.target.profile {
        meta.push(("Profile", esc(profile)));
    }
    meta.push(("Verdict", verdict_badge(&r.verdict)));
    meta.push(("Tool", esc(&format!("{} {}", r.tool.name, r.tool.version))));
    meta.push(("Started", esc(&r.started_at)));
    meta.push(("Duration", duration(r.duration_ms)));
    let strict = if r.strict {
        "yes (SHOULD failures count)"
    } else {
        "no (only MUST failures count)"
    };
    meta.push(("Strict", strict.to_owned()));
    for (k, v) in meta {
        let _ = writeln!(out, "<dt>{k}</dt><dd>{v}</dd>");
    }
    out.push_str("</dl>\n</header>\n<main>\n");

    let groups = rows(std::slice::from_ref(r));
    let _ = writeln!(
        out,
        "<h2>Summary</h2>\n<table class=\"summary\">\n<thead><tr><th>document</th><th>level</th>{COUNT_HEADS}</tr></thead>\n<tbody>"
    );
    let mut total = Counts::default();
    for (doc, scenarios) in &groups {
        let mut by_level: Vec<(&str, Counts)> = Vec::new();
        for s in scenarios {
            total.add(s);
            match by_level.iter_mut().find(|(l, _)| *l == s.level) {
                Some((_, c)) => c.add(s),
                None => {
                    let mut c = Counts::default();
                    c.add(s);
                    by_level.push((&s.level, c));
                }
            }
        }
        by_level.sort_by_key(|(l, _)| (level_rank(l), l.to_string()));
        for (l, c) in by_level {
            let _ = writeln!(
                out,
                "<tr><td><a href=\"#doc-{}\">{}</a></td><td>{}</td>{}</tr>",
                slug(doc),
                esc(doc),
                esc(&l.to_uppercase()),
                c.cells()
            );
        }
    }
    let _ = writeln!(
        out,
        "<tr class=\"total\"><th scope=\"row\" colspan=\"2\">all</th>{}</tr>\n</tbody>\n</table>",
        total.cells()
    );

    out.push_str("<h2>Requirements by document</h2>\n");
    for (doc, scenarios) in &groups {
        let _ = writeln!(
            out,
            "<section>\n<h3 id=\"doc-{}\">{}</h3>\n<table class=\"reqs\">\n\
             <thead><tr><th>outcome</th><th>scenario</th><th>level</th><th>requirements</th><th>sections</th></tr></thead>\n<tbody>",
            slug(doc),
            esc(doc)
        );
        let mut feature = None;
        for s in scenarios {
            if feature != Some(&s.feature) {
                feature = Some(&s.feature);
                let _ = writeln!(
                    out,
                    "<tr class=\"feature\"><th colspan=\"5\">{} <span class=\"sub\">{}</span></th></tr>",
                    esc(&s.feature_name),
                    esc(&s.feature)
                );
            }
            let title = match detail_text(s) {
                Some(d) => format!(
                    "<details id=\"s-{}\"><summary>{}</summary><pre>{}</pre>{}</details>",
                    slug(&s.id),
                    esc(&s.name),
                    esc(&d),
                    screenshot(s)
                ),
                None => format!("<span id=\"s-{}\">{}</span>", slug(&s.id), esc(&s.name)),
            };
            let rule = s
                .rule
                .as_deref()
                .map(|r| format!("{} · ", esc(r)))
                .unwrap_or_default();
            let _ = writeln!(
                out,
                "<tr><td>{}</td><td>{title}<div class=\"sub\">{rule}{}</div></td><td>{}</td><td>{}</td><td>{}</td></tr>",
                badge(s),
                esc(&s.id),
                level(s),
                requirements(s),
                sections(s)
            );
        }
        out.push_str("</tbody>\n</table>\n</section>\n");
    }
    out.push_str("</main>\n");
}

/// The matrix of several runs, then each target's details.
fn matrix(out: &mut String, reports: &[Report]) {
    let groups = rows(reports);
    let count: usize = groups.iter().map(|(_, v)| v.len()).sum();
    let _ = writeln!(
        out,
        "<header>\n<h1>OAuth 2.0 conformance matrix</h1>\n<p>{} targets, {count} scenarios. \
         A cell with an outcome other than passed links to its detail below the matrix; \
         “—” means the scenario is not in that target’s results.</p>\n</header>\n<main>",
        reports.len()
    );
    let _ = writeln!(
        out,
        "<h2>Targets</h2>\n<table class=\"targets\">\n<thead><tr><th>target</th><th>verdict</th>{COUNT_HEADS}\
         <th>tool</th><th>started</th><th>duration</th><th>strict</th></tr></thead>\n<tbody>"
    );
    for (i, r) in reports.iter().enumerate() {
        let mut c = Counts::default();
        r.scenarios.iter().for_each(|s| c.add(s));
        let _ = writeln!(
            out,
            "<tr><th scope=\"row\"><a href=\"#t{i}\">{}</a></th><td>{}</td>{}<td class=\"nowrap\">{}</td><td class=\"nowrap\">{}</td><td>{}</td><td>{}</td></tr>",
            esc(&r.target.name),
            verdict_badge(&r.verdict),
            c.cells(),
            esc(&format!("{} {}", r.tool.name, r.tool.version)),
            esc(&r.started_at),
            duration(r.duration_ms),
            yes_no(r.strict)
        );
    }
    out.push_str("</tbody>\n</table>\n");

    let lookup: Vec<HashMap<&str, &Scenario>> = reports
        .iter()
        .map(|r| {
            let mut m = HashMap::new();
            for s in &r.scenarios {
                m.entry(s.id.as_str()).or_insert(s);
            }
            m
        })
        .collect();
    let columns = 3 + reports.len();
    out.push_str(
        "<h2>Requirements</h2>\n<table class=\"matrix\">\n<thead><tr><th scope=\"col\">scenario</th>\
         <th scope=\"col\">level</th><th scope=\"col\">requirements</th>",
    );
    for r in reports {
        let _ = write!(
            out,
            "<th scope=\"col\" class=\"target\">{}<br>{}</th>",
            esc(&r.target.name),
            verdict_badge(&r.verdict)
        );
    }
    out.push_str("</tr></thead>\n<tbody>\n");
    for (doc, scenarios) in &groups {
        let _ = writeln!(
            out,
            "<tr class=\"doc\"><th colspan=\"{columns}\" scope=\"colgroup\" id=\"doc-{}\">{}</th></tr>",
            slug(doc),
            esc(doc)
        );
        for s in scenarios {
            let id = slug(&s.id);
            let _ = write!(
                out,
                "<tr id=\"s-{id}\"><th scope=\"row\" class=\"title\">{}<div class=\"sub\">{} {}</div></th><td>{}</td><td>{}</td>",
                esc(&s.name),
                esc(&s.id),
                sections(s),
                level(s),
                requirements(s)
            );
            for (i, m) in lookup.iter().enumerate() {
                match m.get(s.id.as_str()) {
                    None => out.push_str(
                        "<td class=\"cell\"><span class=\"missing\" aria-hidden=\"true\">—</span>\
                         <span class=\"sr\">not in this target’s results</span></td>",
                    ),
                    Some(c) if c.detail.is_some() => {
                        let _ = write!(
                            out,
                            "<td class=\"cell\"><a href=\"#t{i}-{id}\">{}</a></td>",
                            badge(c)
                        );
                    }
                    Some(c) => {
                        let _ = write!(out, "<td class=\"cell\">{}</td>", badge(c));
                    }
                }
            }
            out.push_str("</tr>\n");
        }
    }
    out.push_str("</tbody>\n</table>\n<h2>Details</h2>\n");

    for (i, r) in reports.iter().enumerate() {
        let _ = writeln!(
            out,
            "<section>\n<h3 id=\"t{i}\">{} {}</h3>",
            esc(&r.target.name),
            verdict_badge(&r.verdict)
        );
        let ordered: Vec<&Scenario> = groups
            .iter()
            .flat_map(|(_, v)| v)
            .filter_map(|s| lookup[i].get(s.id.as_str()).copied())
            .filter(|s| s.detail.is_some())
            .collect();
        for (heading, failures) in [("Failures", true), ("Other outcomes with a reason", false)] {
            let items: Vec<&&Scenario> = ordered
                .iter()
                .filter(|s| is_failure(s) == failures)
                .collect();
            let _ = writeln!(out, "<h4>{heading}</h4>");
            if items.is_empty() {
                out.push_str("<p>None.</p>\n");
            }
            for s in items {
                let id = slug(&s.id);
                let _ = writeln!(
                    out,
                    "<details class=\"item\" id=\"t{i}-{id}\"><summary>{} {} <span class=\"sub\">{}</span></summary>\n\
                     <p class=\"sub\">{} · {} · {} · <a href=\"#s-{id}\">back to the matrix</a></p>\n<pre>{}</pre>{}\n</details>",
                    badge(s),
                    esc(&s.name),
                    esc(&s.id),
                    level(s),
                    requirements(s),
                    sections(s),
                    esc(&detail_text(s).unwrap_or_default()),
                    screenshot(s)
                );
            }
        }
        out.push_str("</section>\n");
    }
    out.push_str("</main>\n");
}

#[cfg(test)]
mod tests {
    use super::super::json::{Section, Summary, TargetInfo, Tool};
    use super::*;

    fn scenario(line: usize, name: &str, outcome: &str, detail: Option<&str>) -> Scenario {
        Scenario {
            id: format!("rfc6749/4.1-authorization-code.feature:{line}"),
            document: "rfc6749".into(),
            feature: "rfc6749/4.1-authorization-code.feature".into(),
            feature_name: "Authorization code grant".into(),
            rule: Some("A code is used once".into()),
            name: name.into(),
            line,
            tags: vec!["must".into(), "R41".into(), "rfc6749-4.1.2".into()],
            requirements: vec!["R41".into()],
            level: "must".into(),
            sections: vec![Section {
                tag: "rfc6749-4.1.2".into(),
                url: "https://www.rfc-editor.org/rfc/rfc6749#section-4.1.2".into(),
            }],
            outcome: outcome.into(),
            failing_step: None,
            duration_ms: 0,
            counted: true,
            detail: detail.map(str::to_owned),
            screenshot: None,
        }
    }

    fn report(name: &str, scenarios: Vec<Scenario>) -> Report {
        let failing = scenarios.iter().any(is_failure);
        Report {
            schema: super::super::json::SCHEMA.into(),
            tool: Tool {
                name: "oauth2-conformance".into(),
                version: "0.1.0".into(),
                features_digest: String::new(),
            },
            target: TargetInfo {
                name: name.into(),
                issuer: Some("http://127.0.0.1:8080".into()),
                profile: None,
            },
            started_at: "2026-11-27T20:12:07Z".into(),
            duration_ms: 12_345,
            strict: false,
            verdict: if failing {
                "not_conformant"
            } else {
                "conformant"
            }
            .into(),
            summary: Summary::default(),
            scenarios,
        }
    }

    /// Markup in target names, titles and details is escaped, never interpreted.
    #[test]
    fn escapes_everything() {
        let r = report(
            "<b>evil</b>",
            vec![scenario(
                3,
                "x\"><img src=x>",
                "failed",
                Some("actual: <script>alert(1)</script> & 'q'"),
            )],
        );
        for page in [render(std::slice::from_ref(&r)), render(&[r.clone(), r])] {
            assert!(page.contains("&lt;script&gt;alert(1)&lt;/script&gt; &amp; &#39;q&#39;"));
            assert!(!page.contains("<script"));
            assert!(page.contains("&lt;b&gt;evil&lt;/b&gt;"));
            assert!(!page.contains("<img"));
        }
    }

    /// The browser driver's screenshot of a login that did not end is inline, under each
    /// report that has it; a file that cannot be read shows nothing.
    #[test]
    fn login_screenshots_are_inline() -> Result<(), Box<dyn std::error::Error>> {
        let dir = tempfile::tempdir()?;
        let png = dir.path().join("oauth2-conformance-login-abc.png");
        std::fs::write(&png, b"\x89PNG\r\n\x1a\nrest-of-image")?;
        let detail = format!(
            "actual: the browser login did not end within 5 s: ...; screenshot: {}",
            png.display()
        );
        let mut s = scenario(3, "A login", "failed", Some(&detail));
        s.screenshot = super::super::json::screenshot_in(&detail);
        assert_eq!(
            s.screenshot.as_deref(),
            Some(png.display().to_string().as_str())
        );
        let inline = "<img alt=\"the login page when the browser gave up\" src=\"data:image/png;base64,iVBORw0KGgpyZXN0LW9mLWltYWdl\">";
        let one = render(&[report("a", vec![s.clone()])]);
        assert_eq!(one.matches(inline).count(), 1);
        let two = render(&[report("a", vec![s.clone()]), report("b", vec![s.clone()])]);
        assert!(two.matches(inline).count() >= 2);
        s.screenshot = Some(dir.path().join("missing.png").display().to_string());
        assert!(!render(&[report("a", vec![s])]).contains("<img"));
        Ok(())
    }

    /// One report: header, summary by document and level, and a failure as details.
    #[test]
    fn one_report() {
        let r = report(
            "server-a",
            vec![
                scenario(10, "Redeeming a code once", "passed", None),
                scenario(
                    20,
                    "Redeeming a code twice",
                    "failed",
                    Some("expected: 400"),
                ),
                scenario(30, "PKCE plain", "not_applicable", Some("no pkce")),
            ],
        );
        let page = render(&[r]);
        assert!(page.starts_with("<!DOCTYPE html>"));
        assert!(page.contains("OAuth 2.0 conformance of server-a"));
        assert!(page.contains("not conformant"));
        assert!(page.contains("12.3 s"));
        assert!(page.contains(
            "<tr><td><a href=\"#doc-rfc6749\">rfc6749</a></td><td>MUST</td>\
             <td class=\"num\">1</td><td class=\"num\">1</td><td class=\"num\">0</td>\
             <td class=\"num\">1</td><td class=\"num\">0</td><td class=\"num\">0</td></tr>"
        ));
        assert!(page.contains("<summary>Redeeming a code twice</summary><pre>expected: 400</pre>"));
        assert!(page.contains("<span class=\"badge failed\">"));
        assert!(page.contains("R41"));
        assert!(page.contains(
            "class=\"sec\" href=\"https://www.rfc-editor.org/rfc/rfc6749#section-4.1.2\""
        ));
    }

    /// Two reports: a matrix with both targets, a failing cell linking to its detail, and
    /// "—" for a scenario one report lacks.
    #[test]
    fn two_reports_matrix() {
        let (a, b) = page_reports();
        let page = render(&[a.clone(), b.clone()]);
        assert!(page.contains("OAuth 2.0 conformance matrix"));
        assert!(page.contains("<th scope=\"col\" class=\"target\">server-a<br>"));
        assert!(page.contains("<th scope=\"col\" class=\"target\">server-b<br>"));
        let anchor = "t1-rfc6749_2f4_2e1-authorization-code_2efeature_3a20";
        assert!(page.contains(&format!(
            "<a href=\"#{anchor}\"><span class=\"badge failed\">"
        )));
        let details = page
            .find(&format!("<details class=\"item\" id=\"{anchor}\">"))
            .unwrap_or(0);
        assert!(
            details
                > page
                    .find("</table>\n<h2>Details</h2>")
                    .unwrap_or(usize::MAX)
        );
        assert!(page[details..].contains("<pre>MARKER-b</pre>"));
        assert!(page.contains("<span class=\"missing\" aria-hidden=\"true\">—</span>"));
        assert_eq!(page, render(&[a, b]), "the same reports give the same page");
    }

    fn page_reports() -> (Report, Report) {
        (
            report(
                "server-a",
                vec![
                    scenario(10, "Redeeming a code once", "passed", None),
                    scenario(20, "Redeeming a code twice", "passed", None),
                ],
            ),
            report(
                "server-b",
                vec![scenario(
                    20,
                    "Redeeming a code twice",
                    "failed",
                    Some("MARKER-b"),
                )],
            ),
        )
    }
}

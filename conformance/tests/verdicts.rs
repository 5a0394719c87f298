//! Verdicts that must be true against servers the suite was not written for: the
//! bundled server behind a rewriting proxy ([`proxy`]) that makes it differ in one
//! chosen way, or described by a profile that lacks something. One case per class of
//! false verdict: a profile gap reported as a failure, a failed setup step blamed on
//! the requirement, a level below the RFC's, a policy the RFC leaves open assumed, a
//! login that was not approved let through, a value the RFC compares exactly
//! normalised, and what the RFC allows refused without a failure.
//! (`harness = false`: the runner installs one target per process at a time, so the
//! cases run one after another; it answers `--list` for cargo-nextest.)

#[path = "verdicts/proxy.rs"]
mod proxy;

use std::process::ExitCode;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use conformance::report::{Outcome, RunResult, ScenarioResult};
use conformance::target::embedded::Embedded;
use conformance::target::{Profile, Target};
use conformance::{RunOptions, run};
use proxy::{Proxy, Req, Resp, Rule};
use reference_server::config::Config;

const AUTHORIZE: &str = "/oauth/authorize";
const TOKEN: &str = "/oauth/token";
const RESOURCE: &str = "/api/me";

/// The bundled server behind a proxy with `rule`, described by its profile changed by
/// `edit`, after `configure` changed its settings.
struct Setup {
    server: Embedded,
    _proxy: Proxy,
    target: Target,
}

impl Setup {
    async fn start(
        rule: impl Rule,
        edit: impl FnOnce(&mut Profile),
        configure: impl FnOnce(&mut Config),
    ) -> Result<Self, String> {
        let (listener, front) = Proxy::bind().await.map_err(|e| e.to_string())?;
        let issuer = front.clone();
        let (server, mut profile) = Embedded::start_configured(false, move |c| {
            c.issuer = Some(issuer);
            configure(c);
        })
        .await
        .map_err(|e| format!("the bundled server did not start: {e}"))?;
        let proxy = Proxy::serve(listener, server.url(), rule);
        edit(&mut profile);
        let http =
            conformance::http::Http::new(Duration::from_secs(10)).map_err(|e| e.to_string())?;
        let target = Target::resolve(profile, None, &http)
            .await
            .map_err(|e| format!("the target behind the proxy did not resolve: {e}"))?;
        Ok(Self {
            server,
            _proxy: proxy,
            target,
        })
    }

    /// Runs the scenarios `tags` selects.
    async fn run(self, tags: &str) -> Result<RunResult, String> {
        self.run_with(tags, None).await
    }

    /// Runs the scenarios `tags` selects, at most `max_rps` requests a second.
    async fn run_with(self, tags: &str, max_rps: Option<u32>) -> Result<RunResult, String> {
        let mut opts = RunOptions::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../features"));
        opts.tags = Some(tags.to_owned());
        opts.max_rps = max_rps;
        if max_rps.is_some() {
            // As the CLI does for a target that is not on loopback.
            opts.concurrency = 4;
        }
        let result = run(self.target, &opts).await;
        self.server.stop().await;
        let result = result.map_err(|e| e.to_string())?;
        if result.scenarios.is_empty() {
            return Err(format!("{tags} selected no scenario"));
        }
        Ok(result)
    }
}

/// Forwards everything unchanged.
struct Unchanged;
impl Rule for Unchanged {}

fn describe(s: &ScenarioResult) -> String {
    format!("{}:{} {:?}", s.feature, s.line, s.outcome)
}

/// Every scenario of `r` must satisfy `ok`.
fn all(r: &RunResult, what: &str, ok: impl Fn(&ScenarioResult) -> bool) -> Result<(), String> {
    let bad: Vec<String> = r
        .scenarios
        .iter()
        .filter(|s| !ok(s))
        .map(describe)
        .collect();
    if bad.is_empty() {
        Ok(())
    } else {
        Err(format!("{what}, but: {}", bad.join(" | ")))
    }
}

/// The scenarios at `file:line`.
fn at<'a>(r: &'a RunResult, file: &str, name_part: &str) -> Result<&'a ScenarioResult, String> {
    r.scenarios
        .iter()
        .find(|s| s.feature.ends_with(file) && s.name.contains(name_part))
        .ok_or_else(|| format!("no scenario {name_part:?} in {file} ran"))
}

fn is_na(s: &ScenarioResult) -> bool {
    matches!(s.outcome, Outcome::NotApplicable(_))
}

fn is_failed(s: &ScenarioResult) -> bool {
    matches!(s.outcome, Outcome::Failed(_))
}

/// Class 1: a profile whose second client's secret has no character that
/// form-urlencoding changes cannot check RFC 6749 §2.3.1's encoding: not applicable,
/// with that reason, never a MUST failure.
async fn profile_gap_is_not_applicable() -> Result<(), String> {
    let setup = Setup::start(
        Unchanged,
        |p| {
            if let Some(basic) = p.clients.get("confidential_basic").cloned() {
                p.clients.insert("second_confidential".into(), basic);
            }
        },
        |_| {},
    )
    .await?;
    let r = setup.run("@R11").await?;
    all(
        &r,
        "R11 is not applicable for a plain secret",
        |s| matches!(&s.outcome, Outcome::NotApplicable(why) if why.contains("form-urlencoding")),
    )
}

/// Refuses every authorization-code redemption after a delay, as a server whose codes
/// expired before they were redeemed would.
struct SlowCodes;
impl Rule for SlowCodes {
    fn before(&self, req: &mut Req) -> Option<Resp> {
        (req.path == TOKEN && req.form_value("grant_type").as_deref() == Some("authorization_code"))
            .then(|| {
                let mut r = Resp::json(400, &serde_json::json!({"error": "invalid_grant"}));
                r.delay = Duration::from_millis(1500);
                r
            })
    }
}

/// Refuses every code redemption at once, fresh codes included.
struct RefusesCodes;
impl Rule for RefusesCodes {
    fn before(&self, req: &mut Req) -> Option<Resp> {
        (req.path == TOKEN && req.form_value("grant_type").as_deref() == Some("authorization_code"))
            .then(|| Resp::json(400, &serde_json::json!({"error": "invalid_grant"})))
    }
}

/// Class 2: when `Given ... has tokens` cannot get tokens (the codes expired before
/// they were redeemed), the scenarios that needed them are errors, not failures of
/// their requirements, and the message says how old the code was. A Background that
/// fails for any other reason (fresh codes refused) is an error too.
async fn failed_setup_is_an_error() -> Result<(), String> {
    let setup = Setup::start(SlowCodes, |p| p.lifetimes.code = Some(1), |_| {}).await?;
    let r = setup.run("@R94 or @R86").await?;
    all(
        &r,
        "every scenario whose Background failed is an error",
        |s| {
            matches!(&s.outcome, Outcome::Error(why)
            if why.contains("s old when redeemed, within a second of [lifetimes].code = 1"))
                && s.failing_step
                    .as_deref()
                    .is_some_and(|f| f.starts_with("Given"))
        },
    )?;
    let setup = Setup::start(RefusesCodes, |_| {}, |_| {}).await?;
    let r = setup.run("@R86").await?;
    all(
        &r,
        "every scenario whose Background was refused at once is an error",
        |s| {
            matches!(&s.outcome, Outcome::Error(why) if why.contains("setup step"))
                && s.failing_step
                    .as_deref()
                    .is_some_and(|f| f.starts_with("Given"))
        },
    )
}

/// Accepts every bearer token at the resource, expired or not.
struct AcceptsAnyToken;
impl Rule for AcceptsAnyToken {
    fn before(&self, req: &mut Req) -> Option<Resp> {
        let bearer = req
            .headers
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.to_ascii_lowercase().starts_with("bearer "));
        (req.path == RESOURCE && bearer).then(|| {
            Resp::json(
                200,
                &serde_json::json!({"id": 1, "email": "alice@example.com"}),
            )
        })
    }
}

/// Class 3: a resource that accepts an expired access token breaks RFC 6749 §7's MUST,
/// so the failure is a MUST failure, whatever SHOULD governs the status code.
async fn expired_token_accepted_is_a_must_failure() -> Result<(), String> {
    let setup = Setup::start(AcceptsAnyToken, |_| {}, |_| {}).await?;
    let r = setup.run("@R95a").await?;
    all(&r, "R95a fails at the MUST level", |s| {
        is_failed(s) && s.tags.contains("must")
    })
}

/// Leaves the optional `scope` attribute out of every challenge.
struct NoScopeAttribute;
impl Rule for NoScopeAttribute {
    fn after(&self, req: &Req, resp: &mut Resp) {
        if req.path != RESOURCE {
            return;
        }
        if let Some(c) = resp.header("www-authenticate").map(str::to_owned) {
            let kept: Vec<&str> = c
                .trim_start_matches("Bearer ")
                .split(", ")
                .filter(|p| !p.starts_with("scope="))
                .collect();
            resp.set_header(
                "www-authenticate",
                Some(format!("Bearer {}", kept.join(", "))),
            );
        }
    }
}

/// Class 3: the `scope` attribute of an insufficient_scope challenge is MAY (RFC 6750
/// §3.1): its absence is not applicable, and the SHOULD and MUST parts still pass.
async fn missing_may_is_not_a_failure() -> Result<(), String> {
    let setup = Setup::start(NoScopeAttribute, |_| {}, |_| {}).await?;
    let r = setup.run("@R92 or @R92a or @R92b").await?;
    let may = at(&r, "bearer-resource.feature", "names the scope")?;
    if !is_na(may) {
        return Err(format!("R92b without scope: {}", describe(may)));
    }
    all(&r, "R92 and R92a pass", |s| {
        s.tags.contains("R92b") || s.outcome == Outcome::Passed
    })
}

/// Requires `state`: an authorization request without it, or with it empty, is
/// refused with invalid_request sent back to the client.
struct RequiresState;
impl Rule for RequiresState {
    fn before(&self, req: &mut Req) -> Option<Resp> {
        if req.path != AUTHORIZE || req.query_value("client_id").is_none() {
            return None;
        }
        if req.query_value("state").is_some_and(|s| !s.is_empty()) {
            return None;
        }
        let redirect = req.query_value("redirect_uri")?;
        Some(Resp::redirect(&format!("{redirect}?error=invalid_request")))
    }
}

/// Class 4a: a server that requires `state` refuses the empty and the omitted request
/// alike, which RFC 6749 §3.1 allows.
async fn required_state_is_conformant() -> Result<(), String> {
    let setup = Setup::start(RequiresState, |_| {}, |_| {}).await?;
    let r = setup.run("@R4").await?;
    let s = at(
        &r,
        "3.1-authorization-endpoint.feature",
        "state parameter sent without",
    )?;
    if s.outcome != Outcome::Passed {
        return Err(format!(
            "empty state against a server that requires it: {}",
            describe(s)
        ));
    }
    Ok(())
}

/// Refuses the password grant to the public client.
struct NoPasswordForPublic(String);
impl Rule for NoPasswordForPublic {
    fn before(&self, req: &mut Req) -> Option<Resp> {
        (req.path == TOKEN
            && req.form_value("grant_type").as_deref() == Some("password")
            && req.form_value("client_id").as_deref() == Some(self.0.as_str()))
        .then(|| Resp::json(400, &serde_json::json!({"error": "unauthorized_client"})))
    }
}

/// Class 4b: a public client the profile registers for the code grant only is not
/// assumed to have the password grant.
async fn client_grants_come_from_the_profile() -> Result<(), String> {
    let public = Profile::from_toml(conformance::target::embedded::PROFILE)
        .ok()
        .and_then(|p| p.clients.get("public").map(|c| c.id.clone()))
        .ok_or("the bundled profile has no public client")?;
    let setup = Setup::start(
        NoPasswordForPublic(public),
        |p| {
            if let Some(c) = p.clients.get_mut("public") {
                c.grants = Some(vec!["authorization_code".into(), "refresh_token".into()]);
            }
        },
        |_| {},
    )
    .await?;
    let r = setup.run("@R68").await?;
    let s = at(&r, "4.3-password.feature", "public client")?;
    if !is_na(s) {
        return Err(format!(
            "password grant of a code-only public client: {}",
            describe(s)
        ));
    }
    all(&r, "no R68 scenario fails", |s| !is_failed(s))
}

/// A resource that does not read form bodies: the body of a resource request is
/// dropped before it arrives.
struct IgnoresBodies;
impl Rule for IgnoresBodies {
    fn before(&self, req: &mut Req) -> Option<Resp> {
        if req.path == RESOURCE {
            req.body.clear();
            req.headers.remove("content-type");
        }
        None
    }
}

/// Class 4c: a resource that does not accept form-body tokens at all (RFC 6750 §2.2 is
/// MAY) serves a request with the token in both the header and the body: not
/// applicable, never a failure.
async fn header_and_body_token_served_is_not_applicable() -> Result<(), String> {
    let setup = Setup::start(IgnoresBodies, |_| {}, |_| {}).await?;
    let r = setup.run("@R89").await?;
    all(
        &r,
        "R89 is not applicable to a resource that ignores bodies",
        is_na,
    )
}

/// Turns every code sent back to the client into access_denied, as a consent page
/// submitted without its approve button would.
struct Denies;
impl Rule for Denies {
    fn after(&self, _req: &Req, resp: &mut Resp) {
        if let Some(l) = resp.header("location").map(str::to_owned) {
            if l.contains("code=") {
                let base = l.split('?').next().unwrap_or_default();
                resp.set_header("location", Some(format!("{base}?error=access_denied")));
            }
        }
    }
}

/// Class 6: a login that is not approved ends the run before any scenario, with the
/// error the server sent back.
async fn unapproved_login_ends_the_run() -> Result<(), String> {
    let setup = Setup::start(Denies, |_| {}, |_| {}).await?;
    let outcome = conformance::preflight_login(&setup.target, Duration::from_secs(10)).await;
    setup.server.stop().await;
    match outcome {
        Err(why) if why.contains("did not end in a code") && why.contains("access_denied") => {
            Ok(())
        }
        other => Err(format!("the preflight of a denied login gave {other:?}")),
    }
}

/// Adds a trailing `/` to the metadata's issuer.
struct SlashedIssuer;
impl Rule for SlashedIssuer {
    fn after(&self, req: &Req, resp: &mut Resp) {
        if !req.path.starts_with("/.well-known/") {
            return;
        }
        if let Ok(mut doc) = serde_json::from_slice::<serde_json::Value>(&resp.body) {
            if let Some(i) = doc
                .get("issuer")
                .and_then(|i| i.as_str())
                .map(str::to_owned)
            {
                doc["issuer"] = serde_json::Value::String(format!("{i}/"));
                resp.body = doc.to_string().into_bytes();
            }
        }
    }
}

/// Class 8: RFC 8414 §3.3 says the issuer "MUST be identical": a metadata issuer that
/// differs by a trailing `/` fails M2.
async fn issuer_is_compared_exactly() -> Result<(), String> {
    let setup = Setup::start(SlashedIssuer, |_| {}, |_| {}).await?;
    let r = setup.run("@M2").await?;
    let failed: Vec<&ScenarioResult> = r.scenarios.iter().filter(|s| is_failed(s)).collect();
    if failed.iter().any(|s| s.tags.contains("rfc8414-3.3")) {
        Ok(())
    } else {
        Err(format!(
            "an issuer with a trailing / passed M2: {}",
            r.scenarios
                .iter()
                .map(describe)
                .collect::<Vec<_>>()
                .join(" | ")
        ))
    }
}

/// Requires `redirect_uri` at the token endpoint even when the authorization request
/// left it out.
struct RequiresRedirectUri;
impl Rule for RequiresRedirectUri {
    fn before(&self, req: &mut Req) -> Option<Resp> {
        (req.path == TOKEN
            && req.form_value("grant_type").as_deref() == Some("authorization_code")
            && req.form_value("redirect_uri").is_none())
        .then(|| Resp::json(400, &serde_json::json!({"error": "invalid_request"})))
    }
}

/// Class 10: RFC 6749 §4.1.3 requires `redirect_uri` at the token endpoint only "if
/// the redirect_uri parameter was included in the authorization request": a server
/// that requires it always fails R39a.
async fn allowed_omission_is_checked() -> Result<(), String> {
    let setup = Setup::start(RequiresRedirectUri, |_| {}, |_| {}).await?;
    let r = setup.run("@R39a").await?;
    all(
        &r,
        "R39a fails against a server that always requires redirect_uri",
        is_failed,
    )
}

/// Records when each request reached the proxy.
struct Arrivals(Arc<Mutex<Vec<Instant>>>);
impl Rule for Arrivals {
    fn before(&self, _req: &mut Req) -> Option<Resp> {
        if let Ok(mut a) = self.0.lock() {
            a.push(Instant::now());
        }
        None
    }
}

/// The most requests any one-second window of `arrivals` holds.
fn busiest_second(arrivals: &[Instant]) -> usize {
    let mut a = arrivals.to_vec();
    a.sort();
    (0..a.len())
        .map(|i| {
            a[i..]
                .iter()
                .take_while(|t| **t - a[i] < Duration::from_secs(1))
                .count()
        })
        .max()
        .unwrap_or(0)
}

/// The revocation scenarios through a proxy that counts arrivals; the arrivals of the
/// run (discovery excluded).
async fn arrivals_of_a_run(max_rps: Option<u32>) -> Result<(RunResult, Vec<Instant>), String> {
    let seen = Arc::new(Mutex::new(Vec::new()));
    // Lifetimes long enough for a paced run: a cap slows every scenario down.
    let setup = Setup::start(
        Arrivals(seen.clone()),
        |p| {
            p.lifetimes.code = Some(60);
            p.lifetimes.access_token = Some(60);
        },
        |c| {
            c.code_ttl = 60;
            c.access_token_ttl = 60;
        },
    )
    .await?;
    if let Ok(mut s) = seen.lock() {
        s.clear();
    }
    let r = setup.run_with("@rfc7009", max_rps).await?;
    let arrivals = seen.lock().map(|s| s.clone()).unwrap_or_default();
    Ok((r, arrivals))
}

/// `--max-rps`: counted where the target sees them, no one-second window holds more
/// requests than the cap, and the verdicts do not change; without the cap the same run
/// is far busier (so the count can fail).
async fn max_rps_caps_every_window() -> Result<(), String> {
    const CAP: u32 = 6;
    let (free, free_arrivals) = arrivals_of_a_run(None).await?;
    let (capped, arrivals) = arrivals_of_a_run(Some(CAP)).await?;
    all(
        &capped,
        "every revocation scenario passes under the cap",
        |s| !matches!(s.outcome, Outcome::Failed(_) | Outcome::Error(_)),
    )?;
    let outcomes = |r: &RunResult| -> Vec<(String, usize, String)> {
        r.scenarios
            .iter()
            .map(|s| {
                (
                    s.feature.clone(),
                    s.line,
                    format!("{:?}", s.outcome).chars().take(12).collect(),
                )
            })
            .collect()
    };
    if outcomes(&free) != outcomes(&capped) {
        return Err("the cap changed a verdict".into());
    }
    if arrivals.len() < 3 * CAP as usize {
        return Err(format!(
            "only {} requests: too few to test the cap",
            arrivals.len()
        ));
    }
    let busiest = busiest_second(&arrivals);
    if busiest > CAP as usize {
        return Err(format!(
            "a one-second window held {busiest} requests under --max-rps {CAP} ({} in all)",
            arrivals.len()
        ));
    }
    let free_busiest = busiest_second(&free_arrivals);
    if free_busiest <= CAP as usize {
        return Err(format!(
            "without a cap the busiest second held only {free_busiest} requests: the \
             measurement cannot tell a cap from none"
        ));
    }
    Ok(())
}

/// Answers every third token request with `429 Too Many Requests` and `Retry-After`
/// itself, without forwarding it.
struct Throttles {
    seen: AtomicUsize,
    retry_after: &'static str,
    /// Bodies answered 429 once: sent again, they go through.
    throttled: Mutex<Vec<Vec<u8>>>,
}
impl Throttles {
    fn new(retry_after: &'static str) -> Self {
        Self {
            seen: AtomicUsize::new(0),
            retry_after,
            throttled: Mutex::new(Vec::new()),
        }
    }
}
impl Rule for Throttles {
    fn before(&self, req: &mut Req) -> Option<Resp> {
        if req.path != TOKEN || self.seen.fetch_add(1, Ordering::Relaxed) % 3 != 2 {
            return None;
        }
        let Ok(mut t) = self.throttled.lock() else {
            return None;
        };
        if t.contains(&req.body) {
            return None;
        }
        t.push(req.body.clone());
        let mut r = Resp::json(429, &serde_json::json!({"error": "slow_down"}));
        r.set_header("retry-after", Some(self.retry_after.to_owned()));
        Some(r)
    }
}

/// A 429 with a `Retry-After` within `[lifetimes].max_wait` is waited out and retried
/// before any step judges it: the verdicts are those of an unthrottled server, and the
/// result counts the waits. A `Retry-After` beyond it is judged as it is.
async fn throttle_is_waited_out() -> Result<(), String> {
    let setup = Setup::start(Throttles::new("1"), |_| {}, |_| {}).await?;
    let r = setup.run("@rfc7009").await?;
    all(
        &r,
        "every revocation scenario passes once 429s are waited out",
        |s| !matches!(s.outcome, Outcome::Failed(_) | Outcome::Error(_)),
    )?;
    if r.retried == 0 {
        return Err("no 429 was counted as waited out".into());
    }
    let setup = Setup::start(Throttles::new("3600"), |_| {}, |_| {}).await?;
    let r = setup.run("@rfc7009").await?;
    if r.retried != 0 {
        return Err(format!("{} waits of an hour were counted", r.retried));
    }
    // Not waited out, the 429 reaches the steps, and every scenario that met one is
    // an error (the target declined to serve), never a verdict on its requirement.
    let met: Vec<&ScenarioResult> = r
        .scenarios
        .iter()
        .filter(|s| !matches!(s.outcome, Outcome::Passed | Outcome::NotApplicable(_)))
        .collect();
    if met.is_empty() {
        return Err("a 429 that asks for an hour reached no step".into());
    }
    let wrong: Vec<String> = met
        .iter()
        .filter(|s| !matches!(&s.outcome, Outcome::Error(m) if m.contains("declined to serve") || m.contains("429")))
        .map(|s| describe(s))
        .collect();
    if !wrong.is_empty() {
        return Err(format!("a 429 judged as a verdict: {}", wrong.join(" | ")));
    }
    Ok(())
}

/// Publishes the metadata only where OpenID Connect Discovery looks: for an issuer
/// with the path `prefix`, appended to it (`/as/.well-known/openid-configuration`);
/// for one without, at `/.well-known/openid-configuration`. Nothing at
/// `/.well-known/oauth-authorization-server...`. Requests under `prefix` are forwarded
/// without it (the bundled server serves its endpoints at the root).
struct OidcDiscoveryOnly {
    prefix: &'static str,
}
impl Rule for OidcDiscoveryOnly {
    fn before(&self, req: &mut Req) -> Option<Resp> {
        let rfc8414 = format!("/.well-known/oauth-authorization-server{}", self.prefix);
        let oidc = format!("{}/.well-known/openid-configuration", self.prefix);
        if req.path.starts_with("/.well-known/") && req.path != oidc {
            return Some(Resp::json(404, &serde_json::json!({})));
        }
        if req.path == oidc {
            req.path = rfc8414;
        } else if let Some(rest) = req.path.strip_prefix(self.prefix) {
            if !self.prefix.is_empty() && rest.starts_with('/') {
                req.path = rest.to_owned();
            }
        }
        None
    }
}

/// Class 11: the metadata scenarios check the document discovery found, wherever it is
/// published. For an issuer with a path, a document only where OpenID Connect
/// Discovery appends the string fails M1 (RFC 8414 §3 requires the string inserted,
/// a MUST) and nothing else; for an issuer without a path, `openid-configuration` at
/// the root is an inserted location too, and M1 passes.
async fn metadata_is_read_where_discovery_found_it() -> Result<(), String> {
    let tags = "@rfc8414 or @R67";
    let (listener, front) = Proxy::bind().await.map_err(|e| e.to_string())?;
    let issuer = format!("{front}/as");
    let (server, profile) = Embedded::start_configured(false, move |c| {
        c.issuer = Some(issuer);
    })
    .await
    .map_err(|e| format!("the bundled server did not start: {e}"))?;
    let proxy = Proxy::serve(listener, server.url(), OidcDiscoveryOnly { prefix: "/as" });
    let http = conformance::http::Http::new(Duration::from_secs(10)).map_err(|e| e.to_string())?;
    let target = Target::resolve(profile, None, &http)
        .await
        .map_err(|e| format!("the target behind the proxy did not resolve: {e}"))?;
    if !target.has("metadata") {
        server.stop().await;
        return Err("discovery did not find the OpenID Connect location".into());
    }
    let r = Setup {
        server,
        _proxy: proxy,
        target,
    }
    .run(tags)
    .await?;
    all(
        &r,
        "with a path issuer, only M1 fails, at the MUST level",
        |s| {
            if s.tags.contains("M1") {
                is_failed(s) && s.tags.contains("must")
            } else {
                !matches!(s.outcome, Outcome::Failed(_) | Outcome::Error(_))
            }
        },
    )?;
    at(&r, "3-metadata.feature", "names the issuer the document").and_then(|s| {
        (s.outcome == Outcome::Passed)
            .then_some(())
            .ok_or_else(|| format!("M2 did not pass: {}", describe(s)))
    })?;
    let setup = Setup::start(OidcDiscoveryOnly { prefix: "" }, |_| {}, |_| {}).await?;
    let r = setup.run(tags).await?;
    all(
        &r,
        "with openid-configuration at the root, nothing fails",
        |s| !matches!(s.outcome, Outcome::Failed(_) | Outcome::Error(_)),
    )?;
    let m1 = at(&r, "3-metadata.feature", "from the well-known path")?;
    if m1.outcome != Outcome::Passed {
        return Err(format!("M1 at the root: {}", describe(m1)));
    }
    Ok(())
}

/// Refuses client credentials and password grant requests without a scope, with
/// invalid_scope (RFC 6749 §3.3 allows it), and counts them.
struct RequiresScope(Arc<AtomicUsize>);
impl Rule for RequiresScope {
    fn before(&self, req: &mut Req) -> Option<Resp> {
        let grant = req.form_value("grant_type");
        let scoped = req.form_value("scope").is_some_and(|s| !s.is_empty());
        if req.path != TOKEN
            || !matches!(grant.as_deref(), Some("client_credentials" | "password"))
            || scoped
        {
            return None;
        }
        self.0.fetch_add(1, Ordering::Relaxed);
        Some(Resp::json(
            400,
            &serde_json::json!({"error": "invalid_scope"}),
        ))
    }
}

/// Class 12: a server that requires a scope fails none of the client credentials or
/// password grant scenarios: each sends the client's profile scope, except R29a's,
/// which omit it on purpose (and pass, invalid_scope being one of §3.3's two answers).
async fn profile_scope_is_sent() -> Result<(), String> {
    let refused = Arc::new(AtomicUsize::new(0));
    let setup = Setup::start(RequiresScope(refused.clone()), |_| {}, |_| {}).await?;
    let r = setup
        .run(
            "@R72 or @R73 or @R74 or @R29a or @R54 or @R54a or @R68 or @R70 or @R46 or @M4 \
             or @R47 or @R48 or @R49 or @R50",
        )
        .await?;
    all(
        &r,
        "nothing fails against a server that requires a scope",
        |s| !matches!(s.outcome, Outcome::Failed(_) | Outcome::Error(_)),
    )?;
    let omitted = r
        .scenarios
        .iter()
        .filter(|s| s.tags.contains("R29a") && s.outcome == Outcome::Passed);
    let n = refused.load(Ordering::Relaxed);
    if omitted.count() < 2 || n < 2 {
        return Err(format!(
            "the R29a scenarios did not both omit scope and pass ({n} scope-less requests)"
        ));
    }
    Ok(())
}

/// Does not decode the Basic credentials (as Glewlwyd 2.7.5): a form-urlencoded
/// secret with `%` in it is refused with 403 unauthorized_client, wherever it is sent.
struct NoBasicDecoding;
impl Rule for NoBasicDecoding {
    fn before(&self, req: &mut Req) -> Option<Resp> {
        use base64::Engine as _;
        let basic = req
            .headers
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Basic "))
            .and_then(|b| base64::engine::general_purpose::STANDARD.decode(b).ok())
            .map(|b| String::from_utf8_lossy(&b).into_owned())?;
        let (_, secret) = basic.split_once(':')?;
        secret
            .contains('%')
            .then(|| Resp::json(403, &serde_json::json!({"error": "unauthorized_client"})))
    }
}

/// Class 13: a server that does not decode form-urlencoded Basic credentials fails
/// R11 (the behaviour under test), and the scenarios that merely need the second
/// client to authenticate (R40, R76, R98) are errors that point at R11.
async fn undecoded_basic_fails_r11() -> Result<(), String> {
    let setup = Setup::start(NoBasicDecoding, |_| {}, |_| {}).await?;
    let r = setup.run("@R11 or @R40 or @R76 or @R98").await?;
    all(
        &r,
        "R11 fails; the second client's others are errors naming R11",
        |s| {
            let second = s.name.starts_with("Another");
            if s.tags.contains("R11") {
                is_failed(s) && s.tags.contains("must")
            } else if second {
                matches!(&s.outcome, Outcome::Error(why) if why.contains("R11"))
            } else {
                !matches!(s.outcome, Outcome::Failed(_) | Outcome::Error(_))
            }
        },
    )?;
    let seconds = r
        .scenarios
        .iter()
        .filter(|s| s.name.starts_with("Another"))
        .count();
    if seconds < 4 {
        return Err(format!("only {seconds} second-client scenarios ran"));
    }
    Ok(())
}

/// Answers `Authorization: Bearer` without a token with 401 and a Bearer challenge
/// naming invalid_request: everything RFC 6750 requires, only the SHOULD of 400 not.
struct EmptyBearer401;
impl Rule for EmptyBearer401 {
    fn before(&self, req: &mut Req) -> Option<Resp> {
        let empty = req
            .headers
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.trim().eq_ignore_ascii_case("bearer"));
        (req.path == RESOURCE && empty).then(|| {
            let mut r = Resp::json(401, &serde_json::json!({}));
            r.set_header(
                "www-authenticate",
                Some("Bearer realm=\"conformance\", error=\"invalid_request\"".into()),
            );
            r
        })
    }
}

/// Class 3: RFC 6750 §3.1's status codes are SHOULD: a 401 for a malformed request
/// fails R93 at the SHOULD level only, and the MUST scenarios for the same request
/// (its challenge) pass.
async fn bearer_status_is_a_should() -> Result<(), String> {
    let setup = Setup::start(EmptyBearer401, |_| {}, |_| {}).await?;
    let r = setup.run("@R93 or @R91 or @R94").await?;
    all(&r, "only R93 fails, at the SHOULD level", |s| {
        if s.tags.contains("R93") {
            is_failed(s) && s.tags.contains("should") && !s.tags.contains("must")
        } else {
            s.outcome == Outcome::Passed
        }
    })?;
    let empty = r
        .scenarios
        .iter()
        .filter(|s| s.tags.contains("R91") && s.name.contains("\"Bearer\""))
        .count();
    if empty != 1 {
        return Err(format!(
            "{empty} R91 scenarios for \"Bearer\" without a token ran"
        ));
    }
    Ok(())
}

fn main() -> ExitCode {
    if std::env::args().any(|a| a == "--list") {
        println!("verdicts: test");
        return ExitCode::SUCCESS;
    }
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("cannot start a runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    type Case = fn() -> std::pin::Pin<Box<dyn std::future::Future<Output = Result<(), String>>>>;
    let cases: [(&str, Case); 16] = [
        ("metadata_is_read_where_discovery_found_it", || {
            Box::pin(metadata_is_read_where_discovery_found_it())
        }),
        (
            "profile_scope_is_sent",
            || Box::pin(profile_scope_is_sent()),
        ),
        ("undecoded_basic_fails_r11", || {
            Box::pin(undecoded_basic_fails_r11())
        }),
        ("bearer_status_is_a_should", || {
            Box::pin(bearer_status_is_a_should())
        }),
        ("max_rps_caps_every_window", || {
            Box::pin(max_rps_caps_every_window())
        }),
        ("throttle_is_waited_out", || {
            Box::pin(throttle_is_waited_out())
        }),
        ("profile_gap_is_not_applicable", || {
            Box::pin(profile_gap_is_not_applicable())
        }),
        ("failed_setup_is_an_error", || {
            Box::pin(failed_setup_is_an_error())
        }),
        ("expired_token_accepted_is_a_must_failure", || {
            Box::pin(expired_token_accepted_is_a_must_failure())
        }),
        ("missing_may_is_not_a_failure", || {
            Box::pin(missing_may_is_not_a_failure())
        }),
        ("required_state_is_conformant", || {
            Box::pin(required_state_is_conformant())
        }),
        ("client_grants_come_from_the_profile", || {
            Box::pin(client_grants_come_from_the_profile())
        }),
        ("header_and_body_token_served_is_not_applicable", || {
            Box::pin(header_and_body_token_served_is_not_applicable())
        }),
        ("unapproved_login_ends_the_run", || {
            Box::pin(unapproved_login_ends_the_run())
        }),
        ("issuer_is_compared_exactly", || {
            Box::pin(issuer_is_compared_exactly())
        }),
        ("allowed_omission_is_checked", || {
            Box::pin(allowed_omission_is_checked())
        }),
    ];
    let filter: Option<String> = std::env::args().skip(1).find(|a| !a.starts_with('-'));
    let (mut passed, mut failed) = (0, 0);
    for (name, case) in cases {
        if filter.as_deref().is_some_and(|f| !name.contains(f)) {
            continue;
        }
        match rt.block_on(case()) {
            Ok(()) => {
                println!("test {name} ... ok");
                passed += 1;
            }
            Err(e) => {
                println!("test {name} ... FAILED\n  {e}");
                failed += 1;
            }
        }
    }
    println!("{passed} passed, {failed} failed");
    if failed == 0 && passed > 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

//! `oauth2-conformance fuzz`: generated hostile requests against any target, with
//! findings named by the requirement they break, shrunk, and replayable.
//!
//! The generator is the `oauth2-fuzz` crate (shared with the reference server's own
//! fuzz test). The run obtains real codes and tokens with the profile's clients and
//! users, then sends case 0..N of the seed: mutations of valid requests to every
//! endpoint the profile and metadata name, and framing garbage. [`oracle`] judges each
//! answer; the first case of each kind of finding is shrunk while the finding persists
//! and reported with the name (`SEED:INDEX[:N.HEX]`) that `--replay` re-sends.

pub mod curl;
pub mod oracle;
pub mod send;

use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;
use std::sync::Arc;
use std::time::{Duration, Instant};

use oauth2_fuzz::case::{Case, Seed};
use oauth2_fuzz::pool::CodeSlot;
use oauth2_fuzz::replay::{self, CaseId, Shrinker};
use oauth2_fuzz::spec::{Client, Endpoints, Kinds, Method, Spec, User};
use oauth2_fuzz::{Built, Cred, Pool, build};

use crate::http::{Http, Outgoing};
use crate::report::{Outcome, RunResult, ScenarioResult};
use crate::target::{AuthMethod, ClientRole, Target};
use oracle::{Breach, Context, Ep, ROWS};
use send::{Answer, Conn, Origin};

/// Requests sent at once.
const BATCH: usize = 16;
/// Connections per origin a batch is spread over.
const LANES: usize = 8;
/// Candidates tried when shrinking one finding, and the time it may take.
const SHRINK_TRIES: usize = 160;
const SHRINK_TIME: Duration = Duration::from_secs(20);
/// Kinds of finding shrunk (the rest are reported as drawn).
const SHRINK_KINDS: usize = 16;
/// Logins (codes) one run may spend: one per 50 requests, within these bounds.
const LOGINS: (u64, u64) = (10, 200);

/// How to run.
#[derive(Debug, Clone)]
pub struct Options {
    /// Requests to send.
    pub requests: u64,
    /// The seed.
    pub seed: u64,
    /// Timeout of one exchange.
    pub timeout: Duration,
    /// How the report names the profile in replay commands (`None`: the bundled server).
    pub profile: Option<String>,
}

/// One kind of finding: the first case that showed it (shrunk) and how often it came.
#[derive(Debug, Clone)]
pub struct Finding {
    /// The row it breaks.
    pub row: &'static str,
    /// Where.
    pub ep: Ep,
    /// The cause's label.
    pub kind: String,
    /// What was expected and seen (of the minimal case).
    pub what: String,
    /// The minimal case's name.
    pub id: CaseId,
    /// Requests that gave it.
    pub count: u64,
    /// The minimal request, redacted.
    pub request: String,
    /// Its answer, redacted.
    pub answer: String,
    /// The request as a curl command, when it needs no fresh credential.
    pub curl: Option<curl::Command>,
    /// Whether shrinking ran.
    pub shrunk: bool,
}

/// A whole run.
#[derive(Debug, Clone, Default)]
pub struct FuzzRun {
    /// The seed.
    pub seed: u64,
    /// Generated requests sent.
    pub sent: u64,
    /// Extra requests: shrinking and the credential pool.
    pub extra: u64,
    /// Requests per endpoint.
    pub endpoints: BTreeMap<Ep, u64>,
    /// Answers per status (0: no answer).
    pub statuses: BTreeMap<u16, u64>,
    /// The findings, by row.
    pub findings: Vec<Finding>,
    /// Why the run stopped early, if it did (the circuit breaker).
    pub stopped: Option<String>,
    /// Logins spent on codes.
    pub logins: usize,
    /// How long it took.
    pub elapsed: Duration,
    /// What the pool could not get, for the report.
    pub notes: Vec<String>,
}

/// The generator's view of a target, and where each endpoint lives.
pub struct Plan {
    /// The spec.
    pub spec: Spec,
    /// Its seed kinds.
    pub kinds: Kinds,
    /// The origin of each endpoint.
    pub origins: BTreeMap<Ep, Origin>,
    /// Client roles by slot.
    pub roles: Vec<ClientRole>,
    /// Registered redirection URIs by client_id.
    pub redirect_uris: Vec<(String, Vec<String>)>,
    /// Origins a redirect may stay within.
    pub own_origins: Vec<String>,
    /// The profile's client secrets and passwords.
    pub credentials: Vec<String>,
    /// The same, with the environment variable a curl command names each by.
    pub named: Vec<(String, String)>,
}

impl Plan {
    /// What the profile and metadata name. Passwords are sent (and mutated) only for
    /// `[users.throttled]`: no other user's sign-in is ever tried with a wrong one.
    pub fn of(target: &Target) -> Result<Plan, String> {
        let mut origins = BTreeMap::new();
        let mut at = |ep: Ep, url: Option<&String>| -> Result<Option<String>, String> {
            let Some(url) = url else { return Ok(None) };
            let (origin, target) = Origin::split(url)
                .ok_or_else(|| format!("the {} {url:?} is not an http(s) URL", ep.name()))?;
            origins.insert(ep, origin);
            Ok(Some(target))
        };
        let e = &target.endpoints;
        let endpoints = Endpoints {
            token: at(Ep::Token, e.token.as_ref())?,
            authorize: at(Ep::Authorize, e.authorization.as_ref())?,
            revoke: at(Ep::Revoke, e.revocation.as_ref())?,
            introspect: at(Ep::Introspect, e.introspection.as_ref())?,
            resource: at(Ep::Resource, target.resource.as_ref().map(|r| &r.url))?,
            metadata: at(Ep::Metadata, e.metadata.as_ref())?,
        };
        let mut clients = Vec::new();
        let mut roles = Vec::new();
        let mut redirect_uris = Vec::new();
        let mut credentials = Vec::new();
        let mut named = Vec::new();
        for role in ClientRole::ALL {
            let Some(c) = target.client(role) else {
                continue;
            };
            let method = match c.auth {
                AuthMethod::Basic => Method::Basic,
                AuthMethod::Post => Method::Post,
                AuthMethod::None => Method::None,
            };
            if let Some(s) = &c.secret {
                credentials.push(s.expose().to_owned());
                named.push((
                    format!("{}_CLIENT_SECRET", role.key().to_ascii_uppercase()),
                    s.expose().to_owned(),
                ));
            }
            redirect_uris.push((
                c.id.clone(),
                [c.redirect_uri.clone(), c.redirect_uri_with_query.clone()]
                    .into_iter()
                    .flatten()
                    .collect(),
            ));
            clients.push(Client {
                id: c.id.clone(),
                secret: c.secret.as_ref().map(|s| s.expose().to_owned()),
                method,
                redirect_uri: c.redirect_uri.clone(),
                scope: c.scope.clone(),
                pkce: target.has("pkce") && method == Method::None,
            });
            roles.push(role);
        }
        let users: Vec<User> = target
            .throttled
            .iter()
            .map(|u| User {
                username: u.username.clone(),
                password: u.password.expose().to_owned(),
            })
            .collect();
        for (role, u) in [
            ("PRIMARY", &target.primary),
            ("SECONDARY", &target.secondary),
            ("THROTTLED", &target.throttled),
            ("THROTTLED_FORM", &target.throttled_form),
        ] {
            if let Some(u) = u {
                credentials.push(u.password.expose().to_owned());
                named.push((format!("{role}_PASSWORD"), u.password.expose().to_owned()));
            }
        }
        let mut own_origins: Vec<String> = origins.values().map(Origin::url).collect();
        own_origins.extend(target.issuer.iter().map(|i| crate::target::origin(i)));
        own_origins.extend(target.login.allowed_origins.iter().cloned());
        let spec = Spec {
            endpoints,
            clients,
            users,
            login: None,
            unknown_paths: Vec::new(),
        };
        let kinds = spec.kinds();
        if kinds == Kinds::default() {
            return Err("the profile names no endpoint to send requests to".into());
        }
        Ok(Plan {
            kinds,
            spec,
            origins,
            roles,
            redirect_uris,
            own_origins,
            credentials,
            named,
        })
    }

    /// The endpoint a case is aimed at (from its seed), and the origin it goes to.
    fn aim(&self, case: &Case, built: &Built) -> (Ep, Origin) {
        let ep = match case {
            Case::Garbage(_) => Ep::Other,
            Case::Mutated { seed, .. } => match seed {
                Seed::ClientCredentials(_)
                | Seed::Password(..)
                | Seed::Refresh(_)
                | Seed::Code(_) => Ep::Token,
                Seed::Revoke(..) => Ep::Revoke,
                Seed::Introspect(..) => Ep::Introspect,
                Seed::AuthorizeGet(_) | Seed::Login { .. } => Ep::Authorize,
                Seed::Me(..) => Ep::Resource,
                Seed::Metadata => Ep::Metadata,
                Seed::Unknown(_) => Ep::Other,
            },
        };
        let fallback = || {
            self.origins
                .get(&Ep::Token)
                .or_else(|| self.origins.values().next())
                .cloned()
                .unwrap_or(Origin {
                    tls: false,
                    host: "127.0.0.1".into(),
                    port: 80,
                })
        };
        let origin = self.origins.get(&ep).cloned().unwrap_or_else(fallback);
        // A mutated path is no longer the endpoint: only what any answer must be applies.
        let path = self.endpoint_path(ep);
        let ep = match path {
            Some(p) if built.wire.path() == p.as_bytes() => ep,
            _ => Ep::Other,
        };
        (ep, origin)
    }

    fn endpoint_path(&self, ep: Ep) -> Option<String> {
        let e = &self.spec.endpoints;
        let t = match ep {
            Ep::Token => &e.token,
            Ep::Authorize => &e.authorize,
            Ep::Revoke => &e.revoke,
            Ep::Introspect => &e.introspect,
            Ep::Resource => &e.resource,
            Ep::Metadata => &e.metadata,
            Ep::Other => return None,
        };
        t.as_ref()
            .map(|t| t.split('?').next().unwrap_or_default().to_owned())
    }

    fn context(&self) -> Context<'_> {
        Context {
            redirect_uris: &self.redirect_uris,
            own_origins: &self.own_origins,
            credentials: &self.credentials,
        }
    }
}

/// The run's state: the plan, the credential pool, the connections.
struct Engine<'a> {
    target: &'a Target,
    plan: Plan,
    opts: Options,
    pool: Pool,
    http: Http,
    tls: Option<Arc<tokio_rustls::TlsConnector>>,
    lanes: Vec<HashMap<Origin, Conn>>,
    logins: usize,
    max_logins: usize,
    extra: u64,
    /// Kinds of refill that keep failing, and how often in a row.
    refill_failures: BTreeMap<&'static str, u32>,
    notes: Vec<String>,
    seq: u64,
    /// The target issues no refresh token to the pool's grants.
    no_refresh: bool,
}

impl<'a> Engine<'a> {
    fn new(target: &'a Target, opts: Options) -> Result<Self, String> {
        let plan = Plan::of(target)?;
        let tls = if plan.origins.values().any(|o| o.tls) {
            Some(send::tls_connector()?)
        } else {
            None
        };
        let http = Http::new(opts.timeout).map_err(|e| e.to_string())?;
        let max_logins =
            usize::try_from((opts.requests / 50).clamp(LOGINS.0, LOGINS.1)).unwrap_or(10);
        for c in &plan.credentials {
            crate::http::witness(c);
        }
        Ok(Self {
            target,
            plan,
            opts,
            pool: Pool::default(),
            http,
            tls,
            lanes: (0..LANES).map(|_| HashMap::new()).collect(),
            logins: 0,
            max_logins,
            extra: 0,
            refill_failures: BTreeMap::new(),
            notes: Vec::new(),
            seq: 0,
            no_refresh: false,
        })
    }

    /// Sends one built request on a lane, under the run's pace, outside the circuit
    /// breaker's count (shrinking and replays re-send what failed on purpose).
    async fn send(&mut self, lane: usize, origin: &Origin, built: &Built) -> Answer {
        let conn = self.lanes[lane % LANES]
            .entry(origin.clone())
            .or_insert_with(|| Conn::new(origin.clone(), self.tls.clone(), self.opts.timeout));
        send_on(conn, origin, built, false).await
    }

    /// Keeps what a success issued and drops what it used or what is dead.
    fn absorb(&mut self, ep: Ep, b: &Built, answer: &Answer) {
        let Some(r) = answer.response() else { return };
        let body: serde_json::Value = serde_json::from_slice(&r.body).unwrap_or_default();
        match ep {
            Ep::Token if (200..300).contains(&r.status) && body["access_token"].is_string() => {
                for s in &b.secrets {
                    self.pool.mark_spent(s);
                }
                if let Some(cred) = b.cred {
                    self.add_tokens(cred, &body);
                }
            }
            Ep::Revoke if (200..300).contains(&r.status) => {
                for s in &b.secrets {
                    self.pool.forget(s);
                }
            }
            _ => {
                let text = String::from_utf8_lossy(&r.body);
                if text.contains("invalid_grant") || text.contains("invalid_token") {
                    for s in &b.secrets {
                        if !self.pool.is_spent(s) {
                            self.pool.forget(s);
                            self.pool.codes.retain(|c| &c.code != s);
                        }
                    }
                }
            }
        }
    }

    fn add_tokens(&mut self, cred: Cred, body: &serde_json::Value) {
        for k in ["access_token", "refresh_token"] {
            if let Some(t) = body[k].as_str() {
                crate::http::witness(t);
            }
        }
        // Client credentials tokens carry no user; the resource serves users' tokens.
        let for_user = self.plan.roles.get(usize::from(cred.0))
            != Some(&ClientRole::ClientCredentials)
            || body["refresh_token"].is_string();
        self.pool.add_tokens(cred, body, for_user);
    }

    fn slot(&self, role: ClientRole) -> Option<Cred> {
        self.plan
            .roles
            .iter()
            .position(|r| *r == role)
            .and_then(|i| u8::try_from(i).ok())
            .map(Cred)
    }

    /// A plain token request with a client's registered authentication.
    async fn token_request(
        &mut self,
        role: ClientRole,
        form: Vec<(String, String)>,
    ) -> Option<serde_json::Value> {
        let url = self.target.endpoints.token.clone()?;
        let client = self.target.client(role)?.clone();
        let mut form = form;
        let mut out = Outgoing::new(reqwest::Method::POST, url);
        match (client.auth, &client.secret) {
            (AuthMethod::Basic, Some(s)) => {
                out = out.header(
                    "authorization",
                    crate::steps::basic_header(&client.id, s.expose()),
                );
            }
            (AuthMethod::Post, Some(s)) => {
                form.push(("client_id".into(), client.id.clone()));
                form.push(("client_secret".into(), s.expose().to_owned()));
            }
            _ => form.push(("client_id".into(), client.id.clone())),
        }
        // The profile's scope for the grants that take one (§4.3.2, §4.4.2); a code
        // carries the scope it was issued with.
        let takes_scope = form
            .iter()
            .any(|(k, v)| k == "grant_type" && (v == "password" || v == "client_credentials"));
        if let (Some(scope), true) = (&client.scope, takes_scope) {
            if !form.iter().any(|(k, _)| k == "scope") {
                form.push(("scope".into(), scope.clone()));
            }
        }
        self.extra += 1;
        let x = self.http.send(out.form(&form)).await.ok()?;
        (x.status == 200).then(|| x.json()).flatten()
    }

    /// A code from a login through the profile's login driver.
    async fn login_code(&mut self) -> Option<CodeSlot> {
        let t = self.target;
        if !t.has("login") || self.logins >= self.max_logins {
            return None;
        }
        let (user, endpoint) = (t.primary.as_ref()?, t.endpoints.authorization.clone()?);
        let client = ClientRole::ALL
            .iter()
            .filter_map(|r| t.client(*r))
            .find(|c| c.redirect_uri.is_some() && c.has_grant("authorization_code"))?
            .clone();
        let cred = self.slot(client.role)?;
        let redirect_uri = client.redirect_uri.clone()?;
        let verifier = crate::steps::authorize::random();
        let mut params = vec![
            ("response_type".to_owned(), "code".to_owned()),
            ("client_id".to_owned(), client.id.clone()),
            ("redirect_uri".to_owned(), redirect_uri.clone()),
            ("state".to_owned(), crate::steps::authorize::random()),
        ];
        if let Some(s) = &client.scope {
            params.push(("scope".into(), s.clone()));
        }
        let pkce = t.has("pkce");
        if pkce {
            params.push((
                "code_challenge".into(),
                crate::steps::authorize::s256(&verifier),
            ));
            params.push(("code_challenge_method".into(), "S256".into()));
        }
        let sep = if endpoint.contains('?') { '&' } else { '?' };
        let url = format!("{endpoint}{sep}{}", crate::http::encode_pairs(&params));
        self.logins += 1;
        let resp =
            crate::login::drive(&url, &redirect_uri, user, &t.login, self.opts.timeout, true)
                .await
                .ok()?;
        let code = resp.get("code").filter(|c| !c.is_empty())?.to_owned();
        crate::http::witness(&code);
        Some(CodeSlot {
            cred,
            code,
            redirect_uri,
            verifier: pkce.then_some(verifier),
        })
    }

    /// Sends a case as a replay does (fresh credentials when it uses any) and returns
    /// the request, the answer and the breach when the finding is there, and whether
    /// any answer came.
    async fn try_alone(
        &mut self,
        case: &Case,
        ep0: Ep,
        row: &str,
        kind: &str,
    ) -> (Option<(Built, Answer, Breach)>, bool) {
        let mut b = build(case, &self.plan.spec, &self.pool);
        if !b.secrets.is_empty() {
            self.pool = Pool::default();
            self.refill().await;
            b = build(case, &self.plan.spec, &self.pool);
        }
        let (ep, origin) = self.plan.aim(case, &b);
        self.extra += 1;
        let a = self.send(0, &origin, &b).await;
        self.absorb(ep, &b, &a);
        let answered = a.response().is_some();
        if ep != ep0 {
            return (None, answered);
        }
        let hit = oracle::check(
            ep,
            &b,
            &a,
            &self.plan.context(),
            self.opts.timeout.as_secs(),
        )
        .into_iter()
        .find(|x| x.row == row && x.kind == kind);
        (hit.map(|h| (b, a, h)), answered)
    }

    /// A user's token response without a refresh token: the target does not issue
    /// them here (RFC 6749 §5.1: OPTIONAL), so the pool stops asking.
    fn note_refresh(&mut self, body: &serde_json::Value) {
        if !body["refresh_token"].is_string() && !self.no_refresh {
            self.no_refresh = true;
            self.notes.push(
                "the target issued no refresh token with the user's tokens: refresh-token cases use a made-up value"
                    .into(),
            );
        }
    }

    fn failing(&self, what: &'static str) -> bool {
        self.failing_n(what, 3)
    }

    fn failing_n(&self, what: &'static str, n: u32) -> bool {
        self.refill_failures.get(what).copied().unwrap_or(0) >= n
    }

    /// Counts a success or failure without a note.
    fn outcome_quiet(&mut self, what: &'static str, ok: bool) {
        let n = self.refill_failures.entry(what).or_default();
        *n = if ok { 0 } else { *n + 1 };
    }

    fn outcome(&mut self, what: &'static str, ok: bool, why: &str) {
        let n = self.refill_failures.entry(what).or_default();
        if ok {
            *n = 0;
        } else {
            *n += 1;
            if *n == 3 {
                let spent = self.logins >= self.max_logins;
                self.notes.push(if spent {
                    format!(
                        "{why} once the run's {} logins (one per 50 requests) were spent: later cases that need one use a made-up value instead",
                        self.max_logins
                    )
                } else {
                    format!("{why}: cases that need one use a made-up value instead")
                });
            }
        }
    }

    /// Tops the pool up: codes through the login, tokens through the password grant
    /// (the primary user) or a code, client credentials tokens.
    async fn refill(&mut self) {
        let t = self.target;
        if self.pool.codes.is_empty()
            && t.has("login")
            && !self.failing("code")
            && self.logins < self.max_logins
        {
            let code = self.login_code().await;
            self.outcome(
                "code",
                code.is_some(),
                "no authorization code could be obtained through the login",
            );
            if let Some(c) = code {
                self.pool.codes.push(c);
            }
        }
        let want_refresh = self.pool.refresh.len() < 4 && !self.no_refresh;
        if (want_refresh || self.pool.user_access.len() < 2) && !self.failing("user tokens") {
            self.seq += 1;
            // The password grant when a client has it and it has worked (or not failed
            // twice); else a code from the login, redeemed.
            let password_role = ClientRole::ALL
                .into_iter()
                .find(|r| t.client(*r).is_some_and(|c| c.has_grant("password")));
            let mut got = false;
            if let (Some(role), Some(user), false) = (
                password_role,
                t.primary.clone(),
                self.failing_n("password", 2),
            ) {
                let form = vec![
                    ("grant_type".to_owned(), "password".to_owned()),
                    ("username".to_owned(), user.username.clone()),
                    ("password".to_owned(), user.password.expose().to_owned()),
                ];
                if let (Some(body), Some(cred)) =
                    (self.token_request(role, form).await, self.slot(role))
                {
                    self.note_refresh(&body);
                    self.add_tokens(cred, &body);
                    got = true;
                }
                self.outcome_quiet("password", got);
            }
            if !got {
                if let Some(code) = self.login_code().await {
                    let role = self.plan.roles.get(usize::from(code.cred.0)).copied();
                    let mut form = vec![
                        ("grant_type".to_owned(), "authorization_code".to_owned()),
                        ("code".to_owned(), code.code.clone()),
                        ("redirect_uri".to_owned(), code.redirect_uri.clone()),
                    ];
                    if let Some(v) = &code.verifier {
                        form.push(("code_verifier".into(), v.clone()));
                    }
                    if let Some(role) = role {
                        if let Some(body) = self.token_request(role, form).await {
                            self.note_refresh(&body);
                            self.add_tokens(code.cred, &body);
                            got = true;
                        }
                    }
                }
            }
            self.outcome(
                "user tokens",
                got,
                "no user's tokens could be obtained (password grant or code)",
            );
        }
        if self.pool.other_access.is_empty() && !self.failing("client tokens") {
            // The client-credentials client first: others may have the grant only by the
            // profile's default.
            let roles = std::iter::once(ClientRole::ClientCredentials).chain(ClientRole::ALL);
            if let Some(role) = roles.into_iter().find(|r| {
                t.client(*r)
                    .is_some_and(|c| c.has_grant("client_credentials"))
            }) {
                let form = vec![("grant_type".to_owned(), "client_credentials".to_owned())];
                let got = match (self.token_request(role, form).await, self.slot(role)) {
                    (Some(body), Some(cred)) => {
                        let body = body.clone();
                        self.pool.add_tokens(cred, &body, false);
                        if let Some(t) = body["access_token"].as_str() {
                            crate::http::witness(t);
                        }
                        true
                    }
                    _ => false,
                };
                self.outcome(
                    "client tokens",
                    got,
                    "no client credentials token could be obtained",
                );
            }
        }
    }
}

/// Sends one request on a connection under the run's pace, and feeds the circuit
/// breaker (with `breaker`): an answer resets it; no answer to a well-formed request
/// counts.
async fn send_on(conn: &mut Conn, origin: &Origin, built: &Built, breaker: bool) -> Answer {
    let pace = crate::http::pace::current();
    let _lane = pace.lane().await;
    let bytes = built.wire.to_bytes_for(&origin.host_header());
    let head = built.wire.method.eq_ignore_ascii_case("HEAD");
    let answer = conn.send(&bytes, built.wire.garbage.is_some(), head).await;
    if !breaker {
        return answer;
    }
    match &answer {
        Answer::Response(_) => pace.answered(),
        Answer::Unreachable(e) => pace.transport_failed(&format!("no connection: {e}")),
        Answer::TimedOut if oracle::well_formed(&built.wire) => pace.transport_failed("timed out"),
        Answer::Closed if oracle::well_formed(&built.wire) => {
            pace.transport_failed("the connection closed without an answer")
        }
        Answer::NotHttp(why) => {
            pace.transport_failed(&format!("the answer is not HTTP/1.1: {why}"))
        }
        _ => {}
    }
    answer
}

/// The first case of a kind of finding, before shrinking.
struct FirstSeen {
    index: u64,
    breach: Breach,
    ep: Ep,
    count: u64,
    /// The request and answer as they were then.
    request: String,
    answer: String,
}

/// Runs `opts.requests` generated requests against the target.
pub async fn run(target: &Target, opts: Options) -> Result<FuzzRun, String> {
    let started = Instant::now();
    let mut e = Engine::new(target, opts.clone())?;
    let pace = crate::http::pace::current();
    let mut run = FuzzRun {
        seed: opts.seed,
        ..FuzzRun::default()
    };
    let mut seen: BTreeMap<(&'static str, Ep, String), FirstSeen> = BTreeMap::new();
    let n = opts.requests;
    let mut start = 0u64;
    while start < n {
        if let Some(why) = pace.tripped() {
            run.stopped = Some(why);
            break;
        }
        e.refill().await;
        let end = (start + BATCH as u64).min(n);
        let cases: Vec<(u64, Case)> = (start..end)
            .map(|i| (i, replay::tree(e.plan.kinds, opts.seed, i).current()))
            .collect();
        let built: Vec<(u64, Case, Built, Ep, Origin)> = cases
            .into_iter()
            .map(|(i, c)| {
                let b = build(&c, &e.plan.spec, &e.pool);
                let (ep, origin) = e.plan.aim(&c, &b);
                (i, c, b, ep, origin)
            })
            .collect();
        let answers = send_batch(&mut e, &built).await;
        for ((i, _, b, ep, _), answer) in built.iter().zip(&answers) {
            run.sent += 1;
            *run.endpoints.entry(*ep).or_default() += 1;
            *run.statuses
                .entry(answer.response().map_or(0, |r| r.status))
                .or_default() += 1;
            e.absorb(*ep, b, answer);
            for breach in oracle::check(*ep, b, answer, &e.plan.context(), opts.timeout.as_secs()) {
                let plan = &e.plan;
                seen.entry((breach.row, *ep, breach.kind.clone()))
                    .and_modify(|f| f.count += 1)
                    .or_insert_with(|| FirstSeen {
                        index: *i,
                        breach,
                        ep: *ep,
                        count: 1,
                        request: describe_request(b, plan),
                        answer: crate::http::scrub(&answer.describe(opts.timeout)).0,
                    });
            }
        }
        start = end;
    }
    // Shrink the first case of each kind of finding, while the target still answers.
    for (n_kind, ((row, _, kind), first)) in seen.into_iter().enumerate() {
        let shrink = n_kind < SHRINK_KINDS && pace.tripped().is_none();
        run.findings
            .push(minimise(&mut e, row, &kind, first, shrink).await);
    }
    run.extra = e.extra;
    run.logins = e.logins;
    run.notes = std::mem::take(&mut e.notes);
    if run.stopped.is_none() {
        run.stopped = pace.tripped();
    }
    run.elapsed = started.elapsed();
    Ok(run)
}

/// Sends a batch spread over the lanes, each lane in order.
async fn send_batch(e: &mut Engine<'_>, built: &[(u64, Case, Built, Ep, Origin)]) -> Vec<Answer> {
    let tls = e.tls.clone();
    let timeout = e.opts.timeout;
    let lanes = e.lanes.iter_mut().enumerate().map(|(lane, conns)| {
        let tls = tls.clone();
        async move {
            let mut out = Vec::new();
            for i in (lane..built.len()).step_by(LANES) {
                let (_, _, b, _, origin) = &built[i];
                let conn = conns
                    .entry(origin.clone())
                    .or_insert_with(|| Conn::new(origin.clone(), tls.clone(), timeout));
                out.push((i, send_on(conn, origin, b, true).await));
            }
            out
        }
    });
    let mut answers = vec![Answer::Closed; built.len()];
    for (i, a) in futures::future::join_all(lanes).await.into_iter().flatten() {
        answers[i] = a;
    }
    answers
}

/// Shrinks the first case of a kind of finding while it persists (same row, endpoint
/// and cause), each candidate built with fresh credentials; reports the smallest.
async fn minimise(
    e: &mut Engine<'_>,
    row: &'static str,
    kind: &str,
    first: FirstSeen,
    shrink: bool,
) -> Finding {
    let kinds = e.plan.kinds;
    let seed = e.opts.seed;
    let mut shrinker = Shrinker::new(kinds, seed, first.index);
    // The drawn case, as sent then (its credentials are spent now: describe it with
    // the pool's current ones, which is how a replay sends it too).
    let mut last: Option<(Built, Answer, Breach)> = None;
    // Whether the case, re-sent alone, got no answer at all (a busy or stalled target).
    let mut unanswered = false;
    if shrink {
        let started = Instant::now();
        // The drawn case first, then smaller ones, each as a replay sends it: with
        // credentials fresh from the pool's own grants, so that the case reported
        // reproduces with `--replay` and does not depend on what the run left behind.
        let mut candidate = Some(replay::draw(kinds, &CaseId::new(seed, first.index)));
        let mut tries = 0;
        while let Some(c) = candidate {
            if tries > SHRINK_TRIES || started.elapsed() > SHRINK_TIME {
                break;
            }
            let (hit, answered) = e.try_alone(&c, first.ep, row, kind).await;
            let persisted = hit.is_some();
            if let Some(h) = hit {
                last = Some(h);
            }
            if tries == 0 {
                if !persisted {
                    unanswered = !answered;
                    break;
                }
            } else {
                shrinker.tried(persisted);
            }
            tries += 1;
            candidate = shrinker.candidate();
        }
    }
    let Some((built, answer, breach)) = last else {
        // Not shrunk, or not seen again when re-sent alone: the drawn case as it was.
        let id = CaseId::new(seed, first.index);
        let case = replay::draw(kinds, &id);
        let b = build(&case, &e.plan.spec, &e.pool);
        let origin = e.plan.aim(&case, &b).1;
        let mut what = first.breach.what.clone();
        if shrink && unanswered {
            what.push_str(
                " (re-sent alone, the case got no answer, so it could not be shrunk: the target may have been busy; try the replay command)",
            );
        } else if shrink {
            what.push_str(
                " (re-sent alone with fresh credentials, the case did not give it again: it may depend on requests sent at the same time or before, or on the credentials it used then)",
            );
        }
        return Finding {
            row,
            ep: first.ep,
            kind: kind.to_owned(),
            what,
            id,
            count: first.count,
            request: first.request,
            answer: first.answer,
            curl: curl::command(&b, &origin, &e.plan),
            shrunk: false,
        };
    };
    let id = shrinker.id();
    let origin = e.plan.aim(&replay::draw(kinds, &id), &built).1;
    Finding {
        row,
        ep: first.ep,
        kind: kind.to_owned(),
        what: breach.what,
        id,
        count: first.count,
        request: describe_request(&built, &e.plan),
        answer: crate::http::scrub(&answer.describe(e.opts.timeout)).0,
        curl: curl::command(&built, &origin, &e.plan),
        shrunk: true,
    }
}

/// A request for a report: method, target, headers and body, secrets redacted (a
/// client's own Basic credentials are named, other Authorization values shown unless
/// they hold a credential).
pub fn describe_request(b: &Built, plan: &Plan) -> String {
    let w = &b.wire;
    if let Some(g) = &w.garbage {
        let shown: String = String::from_utf8_lossy(g).chars().take(300).collect();
        return crate::http::scrub(&format!("raw bytes {shown:?}")).0;
    }
    let mut s = format!(
        "{} {}",
        visible(w.method.as_bytes()),
        crate::http::redact_url(&visible(&w.target))
    );
    for (k, v) in &w.headers {
        let v = if k.eq_ignore_ascii_case("authorization") {
            authorization(v, b, plan)
        } else if k.eq_ignore_ascii_case("cookie") {
            let v = String::from_utf8_lossy(v);
            format!("{} [redacted]", v.split(' ').next().unwrap_or_default())
        } else {
            let v: String = visible(v).chars().take(120).collect();
            v
        };
        let _ = write!(s, " | {k}: {v}");
    }
    if w.chunked {
        s.push_str(" | (chunked)");
    }
    if !w.body.is_empty() {
        let body = match std::str::from_utf8(&w.body) {
            Ok(text) => visible(crate::http::redact_body(text).as_bytes()),
            Err(_) => visible(&w.body),
        };
        let body: String = body.chars().take(300).collect();
        let _ = write!(s, " | body ({} bytes) \"{body}\"", w.body.len());
    }
    let mut s = crate::http::scrub(&s).0;
    for secret in &b.secrets {
        s = s.replace(secret.as_str(), "[redacted]");
    }
    s
}

/// An Authorization value for a report.
fn authorization(v: &[u8], b: &Built, plan: &Plan) -> String {
    use base64::Engine as _;
    if let Some(c) = plan.spec.clients.iter().find(|c| {
        c.secret
            .as_deref()
            .is_some_and(|s| oauth2_fuzz::wire::basic(&c.id, s) == v)
    }) {
        return format!("Basic [{}'s credentials]", c.id);
    }
    let text = String::from_utf8_lossy(v);
    let decoded = text
        .strip_prefix("Basic ")
        .and_then(|p| {
            base64::engine::general_purpose::STANDARD
                .decode(p.trim())
                .ok()
        })
        .map(|d| String::from_utf8_lossy(&d).into_owned())
        .unwrap_or_default();
    let holds = |s: &String| {
        s.len() >= 4
            && (text.contains(s.as_str())
                || decoded.contains(s.as_str())
                || decoded.contains(&oauth2_fuzz::form_encode(s)))
    };
    if b.secrets.iter().chain(&plan.credentials).any(holds) {
        return format!("{} [redacted]", text.split(' ').next().unwrap_or_default());
    }
    visible(v).chars().take(120).collect()
}

/// Bytes as visible ASCII, others as `\xHH`.
fn visible(bytes: &[u8]) -> String {
    let mut s = String::new();
    for b in bytes {
        if (0x20..0x7f).contains(b) && *b != b'\\' {
            s.push(char::from(*b));
        } else {
            let _ = write!(s, "\\x{b:02x}");
        }
    }
    s
}

/// Re-sends the case an id names (with fresh credentials) and judges its answer.
pub async fn replay(target: &Target, opts: Options, id: &CaseId) -> Result<(String, bool), String> {
    let mut e = Engine::new(target, opts.clone())?;
    e.refill().await;
    let case = replay::draw(e.plan.kinds, id);
    let b = build(&case, &e.plan.spec, &e.pool);
    let (ep, origin) = e.plan.aim(&case, &b);
    let a = e.send(0, &origin, &b).await;
    let breaches = oracle::check(ep, &b, &a, &e.plan.context(), opts.timeout.as_secs());
    let mut out = String::new();
    let _ = writeln!(out, "case {id} at the {}:", ep.name());
    let _ = writeln!(out, "  request: {}", describe_request(&b, &e.plan));
    let _ = writeln!(
        out,
        "  answer:  {}",
        crate::http::scrub(&a.describe(opts.timeout)).0
    );
    if breaches.is_empty() {
        let _ = writeln!(
            out,
            "the finding does not reproduce: the answer breaks no robustness requirement"
        );
    } else {
        for x in &breaches {
            let r = oracle::row(x.row);
            let _ = writeln!(
                out,
                "reproduced: {} ({}, {}) {}: {}",
                r.id,
                r.level.to_uppercase(),
                r.sections.join(" "),
                r.title,
                x.what
            );
        }
    }
    if let Some(c) = curl::command(&b, &origin, &e.plan) {
        let _ = writeln!(out, "as curl:\n  {}", c.line);
        if !c.env.is_empty() {
            let _ = writeln!(out, "  (set {} first)", c.env.join(", "));
        }
    }
    Ok((crate::http::scrub(&out).0, !breaches.is_empty()))
}

/// The run as a result the suite's writers take: one scenario per robustness row.
pub fn result(run: &FuzzRun, plan_has: &dyn Fn(Ep) -> bool, profile: Option<&str>) -> RunResult {
    let scenarios = ROWS
        .iter()
        .enumerate()
        .map(|(i, row)| {
            let findings: Vec<&Finding> = run.findings.iter().filter(|f| f.row == row.id).collect();
            let missing: Vec<&str> = row
                .at
                .iter()
                .filter(|ep| !plan_has(**ep))
                .map(|ep| ep.name())
                .collect();
            let outcome = if !findings.is_empty() {
                Outcome::Failed(detail(&findings, run, profile))
            } else if !row.at.is_empty() && missing.len() == row.at.len() {
                Outcome::NotApplicable(format!("the profile names no {}", missing.join(" and no ")))
            } else {
                Outcome::Passed
            };
            let mut tags: std::collections::BTreeSet<String> =
                row.sections.iter().map(|s| (*s).to_owned()).collect();
            tags.insert(row.id.to_owned());
            tags.insert(row.level.to_owned());
            tags.insert("robustness".to_owned());
            ScenarioResult {
                feature: "robustness/fuzz".to_owned(),
                feature_name: "Robustness under generated requests".to_owned(),
                rule: None,
                name: row.title.to_owned(),
                line: i + 1,
                tags,
                outcome,
                failing_step: None,
                duration_ms: u64::try_from(run.elapsed.as_millis()).unwrap_or(u64::MAX),
            }
        })
        .collect();
    RunResult {
        scenarios,
        strict: false,
        features_digest: format!("fuzz-{}", crate::suite::embedded_digest()),
        retried: crate::http::pace::current().retried(),
        stopped: run.stopped.clone(),
    }
}

/// The replay command of a finding.
pub fn replay_command(id: &CaseId, profile: Option<&str>) -> String {
    match profile {
        Some(p) => format!("oauth2-conformance fuzz --profile {p} --replay {id}"),
        None => format!("oauth2-conformance fuzz --replay {id}"),
    }
}

fn detail(findings: &[&Finding], run: &FuzzRun, profile: Option<&str>) -> String {
    let total: u64 = findings.iter().map(|f| f.count).sum();
    let mut s = format!(
        "{total} of {} generated requests (seed {}) broke it, {} kind(s):",
        run.sent,
        run.seed,
        findings.len()
    );
    for f in findings {
        let _ = write!(
            s,
            "\n- {} at the {} ({}×): {}\n  replay: {}\n  request{}: {}\n  answer: {}",
            f.kind,
            f.ep.name(),
            f.count,
            f.what,
            replay_command(&f.id, profile),
            if f.shrunk { " (shrunk)" } else { "" },
            f.request,
            f.answer
        );
        match &f.curl {
            Some(c) => {
                let _ = write!(s, "\n  curl: {}", c.line);
                if !c.env.is_empty() {
                    let _ = write!(s, "\n  set first: {}", c.env.join(", "));
                }
            }
            None => s.push_str("\n  curl: none (the request needs a fresh code or token, or is raw framing): use the replay command"),
        }
    }
    crate::http::scrub(&s).0
}

/// A console summary of the run.
pub fn summary(run: &FuzzRun, profile: Option<&str>) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "\nfuzz: {} generated requests (seed {}) in {:.1} s, plus {} for credentials and shrinking ({} logins)",
        run.sent,
        run.seed,
        run.elapsed.as_secs_f64(),
        run.extra,
        run.logins
    );
    let eps: Vec<String> = run
        .endpoints
        .iter()
        .map(|(k, v)| format!("{} {v}", k.name()))
        .collect();
    let _ = writeln!(s, "fuzz: requests by endpoint: {}", eps.join(", "));
    let st: Vec<String> = run
        .statuses
        .iter()
        .map(|(k, v)| {
            if *k == 0 {
                format!("no answer {v}")
            } else {
                format!("{k}: {v}")
            }
        })
        .collect();
    let _ = writeln!(s, "fuzz: answers by status: {}", st.join(", "));
    for n in &run.notes {
        let _ = writeln!(s, "fuzz: note: {n}");
    }
    if run.findings.is_empty() {
        let _ = writeln!(s, "fuzz: no finding");
    }
    for f in &run.findings {
        let r = oracle::row(f.row);
        let _ = writeln!(
            s,
            "\nFINDING {} ({}, {}) {}\n  {} at the {} ({}×): {}\n  replay: {}\n  request: {}\n  answer: {}",
            r.id,
            r.level.to_uppercase(),
            r.sections.join(" "),
            r.title,
            f.kind,
            f.ep.name(),
            f.count,
            f.what,
            replay_command(&f.id, profile),
            f.request,
            f.answer
        );
        if let Some(c) = &f.curl {
            let _ = writeln!(s, "  curl: {}", c.line);
            if !c.env.is_empty() {
                let _ = writeln!(s, "  set first: {}", c.env.join(", "));
            }
        }
    }
    crate::http::scrub(&s).0
}

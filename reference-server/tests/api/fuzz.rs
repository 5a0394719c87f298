//! Generated hostile input: at least 100,000 requests across every endpoint, drawn by
//! proptest from a fixed seed. Most start as a valid request with live credentials
//! (client secrets, tokens, codes, the login form's CSRF pair) and are then mutated —
//! parameters dropped, repeated, renamed or replaced with broken percent-encoding,
//! invalid UTF-8, overlong or spent values; other methods, content types, credentials,
//! headers and paths; chunked and oversized bodies — and some are framing garbage.
//! Every answer must be spec-shaped and below 500, and every batch of requests that
//! changed nothing on purpose must leave the database digest as it was.

//! The generator is the `oauth2-fuzz` crate, shared with `oauth2-conformance fuzz`;
//! this test adds what only a test next to the database can check: the server's exact
//! answer shapes ([`oracle`]) and the database digest ([`digest`]).

mod digest;
mod oracle;

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::fmt::Write as _;

use proptest::test_runner::{
    Config as ProptestConfig, RngAlgorithm, TestCaseError, TestError, TestRng, TestRunner,
};
use sqlx::SqlitePool;

use oauth2_fuzz::case::{self, Case};
use oauth2_fuzz::pool::CodeSlot;
use oauth2_fuzz::spec::{Client, Endpoints, LoginForm, Method, Spec, User};
use oauth2_fuzz::{Built, Cred, Pool, build};

use crate::common::wire::{Conn, WireRequest, WireResponse};
use crate::common::*;
use crate::login::{BASIC_CALLBACK, PUBLIC_CALLBACK, s256};
use digest::{Counts, Digest};
use oracle::{Endpoint, Outcome};

/// The fixtures as the generator sees them. Slots: 0 basic-client, 1 post-client,
/// 2 public-client, 3 second-client (a secret form-encoding changes), 4 service-client.
fn spec() -> Spec {
    let client =
        |id: &str, secret: Option<&str>, method, redirect: Option<&str>, scope: Option<&str>| {
            Client {
                id: id.into(),
                secret: secret.map(Into::into),
                method,
                redirect_uri: redirect.map(Into::into),
                scope: scope.map(Into::into),
                pkce: method == Method::None,
            }
        };
    // Generated sign-ins and password grants (wrong passwords among them) are bob's;
    // the pool is refilled with alice's, so the brute-force throttle never blocks it.
    let bob = User {
        username: BOB.into(),
        password: BOB_PASSWORD.into(),
    };
    Spec {
        endpoints: Endpoints {
            token: Some("/oauth/token".into()),
            authorize: Some("/oauth/authorize".into()),
            revoke: Some("/oauth/revoke".into()),
            introspect: Some("/oauth/introspect".into()),
            resource: Some("/api/me".into()),
            metadata: Some("/.well-known/oauth-authorization-server".into()),
        },
        clients: vec![
            client(
                BASIC_ID,
                Some(BASIC_SECRET),
                Method::Basic,
                Some(BASIC_CALLBACK),
                Some("profile"),
            ),
            client(POST_ID, Some(POST_SECRET), Method::Post, None, None),
            client(PUBLIC_ID, None, Method::None, Some(PUBLIC_CALLBACK), None),
            client(SECOND_ID, Some(SECOND_SECRET), Method::Basic, None, None),
            client(SERVICE_ID, Some(SERVICE_SECRET), Method::Basic, None, None),
        ],
        users: vec![bob.clone()],
        login: Some(LoginForm {
            csrf_cookie: "oauth_csrf".into(),
            user: bob,
        }),
        unknown_paths: [
            "/",
            "/nope",
            "/oauth",
            "/oauth/tokens",
            "/api/me/x",
            "/api",
            "/oauth/token/",
            "/.well-known/openid-configuration",
            "/oauth/authorize/x",
            "/OAUTH/TOKEN",
        ]
        .map(String::from)
        .to_vec(),
    }
}

/// Whether a token response's access token is a user's that `/api/me` serves.
fn for_user(body: &serde_json::Value) -> bool {
    let scope = body["scope"].as_str().unwrap_or_default();
    body["refresh_token"].is_string() && scope.split(' ').any(|s| s == "profile")
}

/// Tops the pool up with plain valid requests on `conn`; returns how many it sent.
async fn refill(pool: &mut Pool, seq: &mut u64, spec: &Spec, conn: &mut Conn) -> usize {
    let mut sent = 0;
    while pool.refresh.len() < 8 || pool.user_access.len() < 4 {
        *seq += 1;
        let cred = Cred(u8::try_from(*seq % 4).unwrap());
        let client = spec.client(cred).unwrap();
        let r = conn
            .send(&WireRequest::post_form(
                "/oauth/token",
                client.auth(),
                &[
                    ("grant_type", "password"),
                    ("username", ALICE),
                    ("password", ALICE_PASSWORD),
                ],
            ))
            .await;
        assert_eq!(r.status, 200, "password grant for the pool: {r:?}");
        let body = serde_json::from_slice(&r.body).unwrap();
        pool.add_tokens(cred, &body, for_user(&body));
        sent += 1;
    }
    if pool.other_access.len() < 2 {
        let r = conn
            .send(&WireRequest::post_form(
                "/oauth/token",
                SERVICE,
                &[("grant_type", "client_credentials")],
            ))
            .await;
        assert_eq!(r.status, 200, "client credentials for the pool: {r:?}");
        let body = serde_json::from_slice(&r.body).unwrap();
        pool.add_tokens(Cred(4), &body, for_user(&body));
        sent += 1;
    }
    while pool.codes.len() < 4 {
        *seq += 1;
        let public = *seq % 2 == 0;
        let verifier = format!("verifier-{:040}", *seq);
        let challenge = s256(&verifier);
        let (cred, client_id, redirect_uri) = if public {
            (Cred(2), PUBLIC_ID, PUBLIC_CALLBACK)
        } else {
            (Cred(0), BASIC_ID, BASIC_CALLBACK)
        };
        let mut form = vec![
            ("response_type", "code"),
            ("client_id", client_id),
            ("redirect_uri", redirect_uri),
            ("csrf_token", "pool-csrf"),
            ("email", ALICE),
            ("password", ALICE_PASSWORD),
            ("action", "approve"),
        ];
        if public {
            form.push(("code_challenge", &challenge));
            form.push(("code_challenge_method", "S256"));
        }
        // The login form's double-submit CSRF pair (§10.12): cookie and field agree.
        let req = WireRequest::post_form("/oauth/authorize", Auth::Nothing, &form)
            .header("cookie", "oauth_csrf=pool-csrf");
        let r = conn.send(&req).await;
        assert_eq!(r.status, 303, "login for the pool: {r:?}");
        let location = r.header("location").unwrap();
        let code = location
            .split(['?', '&'])
            .find_map(|p| p.strip_prefix("code="))
            .unwrap()
            .to_owned();
        pool.codes.push(CodeSlot {
            cred,
            code,
            redirect_uri: redirect_uri.to_owned(),
            verifier: public.then_some(verifier),
        });
        sent += 1;
    }
    sent
}

/// Requests the run must send at least.
const TOTAL: usize = 100_000;
/// Requests per proptest case; one database digest per batch.
const BATCH: usize = 16;
/// Connections a batch is spread over.
const CONNECTIONS: usize = 8;
/// The fixed seed: a failure reproduces on every run.
const SEED: &[u8; 32] = b"oauth2-conformance fuzz seed 001";

#[derive(Debug, Default)]
struct Stats {
    sent: usize,
    refill: usize,
    via_reqwest: usize,
    statuses: BTreeMap<u16, usize>,
    endpoints: BTreeMap<Endpoint, usize>,
    server_errors: usize,
    rejected: usize,
    exact_batches: usize,
    exact_rejected: usize,
    replay_batches: usize,
}

struct Run {
    server: TestServer,
    conns: Vec<Conn>,
    refill_conn: Conn,
    pool: Pool,
    seq: u64,
    spec: Spec,
    db: SqlitePool,
    baseline: Digest,
    stats: Stats,
}

/// What a batch's successes may change.
#[derive(Debug, Default)]
struct Expected {
    counts: Counts,
    successes: usize,
    revocations: bool,
}

impl Run {
    async fn start() -> Self {
        let server = TestServer::start_with(|c| {
            c.code_ttl = 600;
            c.purge_interval = std::time::Duration::from_secs(3600);
        })
        .await;
        let db = digest::open(&server.db_path()).await;
        let baseline = digest::take(&db).await;
        let conns = (0..CONNECTIONS).map(|_| Conn::new(server.addr)).collect();
        Self {
            refill_conn: Conn::new(server.addr),
            server,
            conns,
            pool: Pool::default(),
            seq: 0,
            spec: spec(),
            db,
            baseline,
            stats: Stats::default(),
        }
    }

    async fn batch(&mut self, cases: &[Case]) -> Result<(), String> {
        let refilled = refill(
            &mut self.pool,
            &mut self.seq,
            &self.spec,
            &mut self.refill_conn,
        )
        .await;
        if refilled > 0 {
            self.stats.refill += refilled;
            self.baseline = digest::take(&self.db).await;
        }
        let built: Vec<Built> = cases
            .iter()
            .map(|c| build(c, &self.spec, &self.pool))
            .collect();
        let mut expected = Expected {
            revocations: built
                .iter()
                .any(|b| b.secrets.iter().any(|s| self.pool.is_spent(s))),
            ..Expected::default()
        };
        let replay = expected.revocations;
        // A secret used twice in one batch: if one use succeeds, the other is a replay.
        let mut uses: std::collections::HashMap<&str, usize> = std::collections::HashMap::new();
        for s in built.iter().flat_map(|b| &b.secrets) {
            *uses.entry(s.as_str()).or_default() += 1;
        }
        let answers = self.send(&built).await;

        let mut failures = String::new();
        let mut rejected = 0;
        for (i, r) in answers.iter().enumerate() {
            let b = &built[i];
            self.stats.sent += 1;
            self.stats.via_reqwest += usize::from(b.wire.via_reqwest && b.wire.library_can_send());
            *self.stats.statuses.entry(r.status).or_default() += 1;
            *self
                .stats
                .endpoints
                .entry(oracle::endpoint_of(&b.wire))
                .or_default() += 1;
            if r.status >= 500 {
                self.stats.server_errors += 1;
            }
            match oracle::check(&b.wire, r) {
                Ok(Outcome::Wrote) => {
                    expected.successes += 1;
                    expected.revocations |= b.secrets.iter().any(|s| uses[s.as_str()] > 1);
                    self.absorb(b, r, &mut expected);
                }
                Ok(Outcome::Unchanged) => {
                    rejected += usize::from(r.status >= 400);
                    self.forget_dead(b, r);
                }
                Err(e) => {
                    let _ = writeln!(
                        failures,
                        "{e}\n  case: {:?}\n  {}",
                        cases[i],
                        describe(b, r)
                    );
                }
            }
        }
        self.stats.rejected += rejected;
        if !failures.is_empty() {
            return Err(failures);
        }
        let after = digest::take(&self.db).await;
        let before = std::mem::replace(&mut self.baseline, after.clone());
        compare(&before, &after, &expected).map_err(|e| format!("{e}\n  cases: {cases:?}"))?;
        if expected.successes == 0 {
            self.stats.exact_batches += usize::from(!replay);
            self.stats.exact_rejected += rejected;
            self.stats.replay_batches += usize::from(replay);
        }
        Ok(())
    }

    /// Sends a batch spread over the connections, each connection in order.
    async fn send(&mut self, built: &[Built]) -> Vec<WireResponse> {
        let n = self.conns.len();
        let lanes = self
            .conns
            .iter_mut()
            .enumerate()
            .map(|(lane, conn)| async move {
                let mut out = Vec::new();
                for i in (lane..built.len()).step_by(n) {
                    out.push((i, conn.send(&built[i].wire).await));
                }
                out
            });
        let mut answers = vec![WireResponse::default(); built.len()];
        for (i, r) in futures_util::future::join_all(lanes)
            .await
            .into_iter()
            .flatten()
        {
            answers[i] = r;
        }
        answers
    }

    /// Keeps what a success issued, drops what it used, and adds what it may change.
    fn absorb(&mut self, b: &Built, r: &WireResponse, expected: &mut Expected) {
        match oracle::endpoint_of(&b.wire) {
            Endpoint::Token => {
                let body: serde_json::Value = serde_json::from_slice(&r.body).unwrap_or_default();
                let refresh = i64::from(body["refresh_token"].is_string());
                // §4.1.3, §4.3, §4.4: a new grant; §6: a rotation within the grant.
                expected.counts += match form_value(&b.wire.body, "grant_type").as_deref() {
                    Some("refresh_token") => Counts {
                        tokens: 2,
                        refresh_used: 1,
                        ..Counts::default()
                    },
                    Some("authorization_code") => Counts {
                        tokens: 1 + refresh,
                        grants: 1,
                        codes_used: 1,
                        ..Counts::default()
                    },
                    _ => Counts {
                        tokens: 1 + refresh,
                        grants: 1,
                        ..Counts::default()
                    },
                };
                for s in &b.secrets {
                    self.pool.mark_spent(s);
                }
                if let Some(cred) = b.cred {
                    self.pool.add_tokens(cred, &body, for_user(&body));
                }
            }
            Endpoint::Revoke => {
                expected.revocations = true;
                for s in &b.secrets {
                    self.pool.forget(s);
                }
            }
            Endpoint::Authorize => expected.counts.codes += 1,
            _ => expected.revocations = true,
        }
    }

    /// A pooled credential refused as invalid_grant or invalid_token is likely dead.
    fn forget_dead(&mut self, b: &Built, r: &WireResponse) {
        let body = String::from_utf8_lossy(&r.body);
        if body.contains("invalid_grant") || body.contains("invalid_token") {
            for s in &b.secrets {
                if !self.pool.is_spent(s) {
                    self.pool.forget(s);
                    self.pool.codes.retain(|c| &c.code != s);
                }
            }
        }
    }
}

/// The database check of one batch: row counts moved exactly by what the successes
/// did; users and clients never change; revocations only with a revocation or a
/// replayed code or refresh token (RFC 6749 §4.1.2, RFC 9700 §4.14.2); and with no
/// success at all, nothing changed, not even a commit.
fn compare(before: &Digest, after: &Digest, expected: &Expected) -> Result<(), String> {
    let moved = after.counts - before.counts;
    if moved != expected.counts {
        return Err(format!(
            "row counts moved by {moved:?}, the successes explain {:?}",
            expected.counts
        ));
    }
    if after.fixed != before.fixed {
        return Err("users or clients changed".into());
    }
    let grew = after
        .revocations
        .iter()
        .zip(&before.revocations)
        .all(|(a, b)| a >= b);
    if !grew || (!expected.revocations && after.revocations != before.revocations) {
        return Err(format!(
            "revocations went from {:?} to {:?} without a revocation or replay",
            before.revocations, after.revocations
        ));
    }
    if expected.successes == 0 && !expected.revocations && after != before {
        return Err(format!(
            "a batch of refusals changed the database:\n  before {before:?}\n  after  {after:?}"
        ));
    }
    Ok(())
}

/// The decoded value of one parameter of a form body.
fn form_value(body: &[u8], name: &str) -> Option<String> {
    body.split(|b| *b == b'&').find_map(|p| {
        let (k, v) = p.split_at(p.iter().position(|b| *b == b'=')?);
        (k == name.as_bytes()).then(|| crate::login::decode(&String::from_utf8_lossy(&v[1..])))
    })
}

/// The request and answer of a failure, with pool secrets masked.
fn describe(b: &Built, r: &WireResponse) -> String {
    let mask = |bytes: &[u8]| {
        let mut s = String::from_utf8_lossy(bytes).into_owned();
        for secret in &b.secrets {
            s = s.replace(secret.as_str(), "[secret]");
        }
        s.chars().take(400).collect::<String>()
    };
    let w = &b.wire;
    let headers: Vec<_> = w.headers.iter().map(|(k, _)| k.as_str()).collect();
    format!(
        "request: {} {} headers {headers:?} chunked {} reqwest {} body {:?}\n  answer: {} {:?} {:?}",
        w.method,
        mask(&w.target),
        w.chunked,
        w.via_reqwest && w.library_can_send(),
        mask(&w.body),
        r.status,
        r.headers
            .iter()
            .map(|(k, v)| format!("{k}: {}", String::from_utf8_lossy(v)))
            .collect::<Vec<_>>(),
        String::from_utf8_lossy(&r.body)
            .chars()
            .take(400)
            .collect::<String>(),
    )
}

/// 100,000 generated requests (mutated valid ones and garbage) across every endpoint get spec-shaped answers, no 5xx, and leave the database unchanged when refused.
#[test]
fn generated_requests_get_spec_shaped_answers_and_change_nothing_when_refused() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let run = RefCell::new(rt.block_on(Run::start()));
    let config = ProptestConfig {
        cases: u32::try_from(TOTAL.div_ceil(BATCH)).unwrap(),
        failure_persistence: None,
        max_shrink_iters: 0,
        ..ProptestConfig::default()
    };
    let mut runner =
        TestRunner::new_with_rng(config, TestRng::from_seed(RngAlgorithm::ChaCha, SEED));
    let started = std::time::Instant::now();
    let kinds = run.borrow().spec.kinds();
    let result = runner.run(&case::batch(kinds, BATCH), |cases| {
        let mut run = run.borrow_mut();
        rt.block_on(run.batch(&cases)).map_err(TestCaseError::fail)
    });
    let Run { server, stats, .. } = run.into_inner();
    let st = &stats;
    println!(
        "fuzz: {} generated requests ({} through reqwest, {} raw) plus {} pool refills in {:.1?}",
        st.sent,
        st.via_reqwest,
        st.sent - st.via_reqwest,
        st.refill,
        started.elapsed()
    );
    println!("fuzz: statuses {:?}", st.statuses);
    println!("fuzz: endpoints {:?}", st.endpoints);
    println!(
        "fuzz: 5xx seen {}; database digest checked after every batch; {} batches of refusals only (covering {} of {} refusals) compared exactly, {} with replays",
        st.server_errors, st.exact_batches, st.exact_rejected, st.rejected, st.replay_batches
    );
    if let Err(e) = result {
        match e {
            TestError::Fail(reason, cases) => {
                panic!("{reason}\nminimal failing batch: {cases:?}")
            }
            TestError::Abort(reason) => panic!("aborted: {reason}"),
        }
    }
    assert_eq!(st.server_errors, 0, "5xx answers");
    assert!(st.sent >= TOTAL, "only {} requests sent", st.sent);
    assert!(
        st.exact_batches >= 100,
        "too few batches of refusals only were compared exactly: {}",
        st.exact_batches
    );
    for e in [
        Endpoint::Token,
        Endpoint::Revoke,
        Endpoint::Introspect,
        Endpoint::Authorize,
        Endpoint::Me,
        Endpoint::Metadata,
        Endpoint::NotFound,
        Endpoint::Garbage,
    ] {
        assert!(
            st.endpoints.get(&e).copied().unwrap_or(0) >= 500,
            "{e:?} barely reached: {:?}",
            st.endpoints
        );
    }
    rt.block_on(async move {
        // Still serving after all of it.
        server.alice(BASIC).await;
        if let Some(s) = server.server {
            s.stop().await;
        }
    });
}

//! Turns an abstract [`Case`] into bytes on the wire: the seed becomes a valid request
//! with real credentials from the pool, then each mutation changes it.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

use super::case::*;
use super::mutate::{garbage_bytes, mutate};
use super::pool::{Pool, auth_of};
use crate::common::wire::WireRequest;
use crate::common::*;
use crate::login::{BASIC_CALLBACK, PUBLIC_CALLBACK, s256};

/// A request being built: parameters are kept already encoded, so mutations can put
/// raw bytes where encoding would have escaped them.
#[derive(Debug, Clone)]
pub(super) struct Draft {
    pub(super) method: String,
    pub(super) path: Vec<u8>,
    pub(super) query: Vec<(Vec<u8>, Vec<u8>)>,
    pub(super) headers: Vec<(String, Vec<u8>)>,
    pub(super) form: Vec<(Vec<u8>, Vec<u8>)>,
    pub(super) raw_body: Option<Vec<u8>>,
    pub(super) chunked: bool,
}

/// What was built, and what the bookkeeping needs to know about it.
#[derive(Debug, Clone)]
pub struct Built {
    /// The request.
    pub wire: WireRequest,
    /// Pool secrets the request carries verbatim.
    pub secrets: Vec<String>,
    /// The client the seed authenticated as (the owner of tokens a 200 returns).
    pub cred: Option<Cred>,
}

pub(super) const FORM: &[u8] = b"application/x-www-form-urlencoded";

pub(super) fn enc(s: &str) -> Vec<u8> {
    form_encode(s).into_bytes()
}

fn pair(k: &str, v: &str) -> (Vec<u8>, Vec<u8>) {
    (enc(k), enc(v))
}

pub(super) fn basic(id: &str, secret: &str) -> Vec<u8> {
    format!(
        "Basic {}",
        STANDARD.encode(format!("{}:{}", form_encode(id), form_encode(secret)))
    )
    .into_bytes()
}

impl Draft {
    fn new(method: &str, path: &str) -> Self {
        Self {
            method: method.into(),
            path: path.as_bytes().to_vec(),
            query: Vec::new(),
            headers: Vec::new(),
            form: Vec::new(),
            raw_body: None,
            chunked: false,
        }
    }

    fn post(path: &str, form: &[(&str, &str)]) -> Self {
        let mut d = Self::new("POST", path);
        d.headers.push(("content-type".into(), FORM.to_vec()));
        d.form = form.iter().map(|(k, v)| pair(k, v)).collect();
        d
    }

    fn authenticate(&mut self, cred: Cred) {
        match auth_of(cred) {
            Auth::Basic(id, secret) => self
                .headers
                .push(("authorization".into(), basic(id, secret))),
            Auth::Post(id, secret) => {
                self.form.push(pair("client_id", id));
                self.form.push(pair("client_secret", secret));
            }
            Auth::Public(id) => self.form.push(pair("client_id", id)),
            Auth::Nothing => {}
        }
    }

    /// The parameters mutations act on: the body's, or the query's for a body-less request.
    pub(super) fn params(&mut self) -> &mut Vec<(Vec<u8>, Vec<u8>)> {
        if self.form.is_empty() && !self.query.is_empty() {
            &mut self.query
        } else {
            &mut self.form
        }
    }

    pub(super) fn set_header(&mut self, name: &str, value: Option<Vec<u8>>) {
        self.headers.retain(|(k, _)| k != name);
        if let Some(v) = value {
            self.headers.push((name.into(), v));
        }
    }

    pub(super) fn header(&self, name: &str) -> Option<Vec<u8>> {
        self.headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
    }

    fn into_wire(self, via_reqwest: bool) -> WireRequest {
        let mut target = self.path;
        if !self.query.is_empty() {
            target.push(b'?');
            target.extend_from_slice(&join(&self.query));
        }
        let body = self.raw_body.unwrap_or_else(|| join(&self.form));
        WireRequest {
            method: self.method,
            target,
            headers: self.headers,
            body,
            chunked: self.chunked,
            garbage: None,
            via_reqwest,
        }
    }
}

fn join(pairs: &[(Vec<u8>, Vec<u8>)]) -> Vec<u8> {
    let mut out = Vec::new();
    for (i, (k, v)) in pairs.iter().enumerate() {
        if i > 0 {
            out.push(b'&');
        }
        out.extend_from_slice(k);
        out.push(b'=');
        out.extend_from_slice(v);
    }
    out
}

/// Builds the wire request of a case with the pool's current credentials.
pub fn build(case: &Case, pool: &Pool) -> Built {
    match case {
        Case::Garbage(g) => Built {
            wire: WireRequest {
                method: String::new(),
                target: Vec::new(),
                headers: Vec::new(),
                body: Vec::new(),
                chunked: false,
                garbage: Some(garbage_bytes(g)),
                via_reqwest: false,
            },
            secrets: Vec::new(),
            cred: None,
        },
        Case::Mutated {
            seed,
            mutations,
            reqwest,
        } => {
            let mut secrets = Vec::new();
            let (mut draft, cred) = seed_draft(seed, pool, &mut secrets);
            for m in mutations {
                mutate(&mut draft, m, pool, &mut secrets);
            }
            Built {
                wire: draft.into_wire(*reqwest),
                secrets,
                cred,
            }
        }
    }
}

fn seed_draft(seed: &Seed, pool: &Pool, secrets: &mut Vec<String>) -> (Draft, Option<Cred>) {
    let missing = "no-such-token-0000000000000000000000000000000";
    match *seed {
        Seed::ClientCredentials(cred) => {
            let mut d = Draft::post("/oauth/token", &[("grant_type", "client_credentials")]);
            d.authenticate(cred);
            (d, Some(cred))
        }
        Seed::Password(cred, bob) => {
            let (user, password) = if bob {
                (BOB, BOB_PASSWORD)
            } else {
                (ALICE, ALICE_PASSWORD)
            };
            let mut d = Draft::post(
                "/oauth/token",
                &[
                    ("grant_type", "password"),
                    ("username", user),
                    ("password", password),
                ],
            );
            d.authenticate(cred);
            (d, Some(cred))
        }
        Seed::Refresh(i) => {
            let t = pool.refresh(i);
            let token = t.as_ref().map_or(missing, |t| t.token.as_str());
            let cred = t.as_ref().map_or(Cred::Basic, |t| t.cred);
            secrets.push(token.to_owned());
            let mut d = Draft::post(
                "/oauth/token",
                &[("grant_type", "refresh_token"), ("refresh_token", token)],
            );
            d.authenticate(cred);
            (d, Some(cred))
        }
        Seed::Code(i) => {
            let c = pool.code(i);
            let code = c.as_ref().map_or(missing, |c| c.code.as_str());
            secrets.push(code.to_owned());
            let mut form = vec![("grant_type", "authorization_code"), ("code", code)];
            if let Some(c) = &c {
                form.push(("redirect_uri", c.redirect_uri));
                if let Some(v) = &c.verifier {
                    form.push(("code_verifier", v));
                }
            }
            let cred = c.as_ref().map_or(Cred::Basic, |c| c.cred);
            let mut d = Draft::post("/oauth/token", &form);
            d.authenticate(cred);
            (d, Some(cred))
        }
        Seed::Revoke(i, refresh) | Seed::Introspect(i, refresh, _) => {
            let t = if refresh {
                pool.refresh(i)
            } else {
                pool.access(i)
            };
            let token = t.as_ref().map_or(missing, |t| t.token.as_str());
            secrets.push(token.to_owned());
            let (path, cred) = match *seed {
                Seed::Introspect(_, _, c) => ("/oauth/introspect", c),
                _ => ("/oauth/revoke", t.as_ref().map_or(Cred::Basic, |t| t.cred)),
            };
            let mut d = Draft::post(path, &[("token", token)]);
            if i % 3 == 0 {
                d.form.push(pair(
                    "token_type_hint",
                    if refresh {
                        "refresh_token"
                    } else {
                        "access_token"
                    },
                ));
            }
            d.authenticate(cred);
            (d, None)
        }
        Seed::AuthorizeGet(public) => {
            let mut d = Draft::new("GET", "/oauth/authorize");
            d.query = authorize_params(public);
            (d, None)
        }
        Seed::Login {
            public,
            good_password,
            approve,
        } => {
            let mut d = Draft::post("/oauth/authorize", &[]);
            d.form = authorize_params(public);
            let csrf = "fuzz-csrf-0123456789abcdefghijklmnopqrstuv";
            d.form.push(pair("csrf_token", csrf));
            d.form.push(pair("email", ALICE));
            d.form.push(pair(
                "password",
                if good_password {
                    ALICE_PASSWORD
                } else {
                    "wrong-password"
                },
            ));
            d.form
                .push(pair("action", if approve { "approve" } else { "deny" }));
            d.headers
                .push(("cookie".into(), format!("oauth_csrf={csrf}").into_bytes()));
            (d, None)
        }
        Seed::Me(i, form) => {
            let t = pool.access(i);
            let token = t.as_ref().map_or(missing, |t| t.token.as_str());
            secrets.push(token.to_owned());
            let d = if form {
                Draft::post("/api/me", &[("access_token", token)])
            } else {
                let mut d = Draft::new("GET", "/api/me");
                d.headers.push((
                    "authorization".into(),
                    format!("Bearer {token}").into_bytes(),
                ));
                d
            };
            (d, None)
        }
        Seed::Metadata => (
            Draft::new("GET", "/.well-known/oauth-authorization-server"),
            None,
        ),
        Seed::Unknown(i) => {
            const PATHS: &[&str] = &[
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
            ];
            let method = if i % 2 == 0 { "GET" } else { "POST" };
            (
                Draft::new(method, PATHS[usize::from(i) % PATHS.len()]),
                None,
            )
        }
    }
}

fn authorize_params(public: bool) -> Vec<(Vec<u8>, Vec<u8>)> {
    if public {
        let challenge = s256("fuzz-verifier-0123456789-0123456789-0123456789");
        vec![
            pair("response_type", "code"),
            pair("client_id", PUBLIC_ID),
            pair("redirect_uri", PUBLIC_CALLBACK),
            pair("state", "st"),
            pair("code_challenge", &challenge),
            pair("code_challenge_method", "S256"),
        ]
    } else {
        vec![
            pair("response_type", "code"),
            pair("client_id", BASIC_ID),
            pair("redirect_uri", BASIC_CALLBACK),
            pair("scope", "profile"),
            pair("state", "st"),
        ]
    }
}

//! Turns an abstract [`Case`] into bytes on the wire: the seed becomes a valid request
//! with real credentials from the pool, then each mutation changes it.

use crate::case::*;
use crate::mutate::{garbage_bytes, mutate};
use crate::pool::Pool;
use crate::spec::Spec;
use crate::wire::{Auth, Request, basic, form_encode, s256};

/// A request being built: parameters are kept already encoded, so mutations can put
/// raw bytes where encoding would have escaped them.
#[derive(Debug, Clone)]
pub(crate) struct Draft {
    pub(crate) method: String,
    pub(crate) path: Vec<u8>,
    pub(crate) query: Vec<(Vec<u8>, Vec<u8>)>,
    pub(crate) headers: Vec<(String, Vec<u8>)>,
    pub(crate) form: Vec<(Vec<u8>, Vec<u8>)>,
    pub(crate) raw_body: Option<Vec<u8>>,
    pub(crate) chunked: bool,
    /// The client the seed authenticates as.
    pub(crate) cred: Option<Cred>,
}

/// What was built, and what the bookkeeping needs to know about it.
#[derive(Debug, Clone)]
pub struct Built {
    /// The request.
    pub wire: Request,
    /// Pool secrets the request carries verbatim.
    pub secrets: Vec<String>,
    /// The client the seed authenticated as (the owner of tokens a 200 returns).
    pub cred: Option<Cred>,
    /// The seed was left as it was: a valid request (its credentials may be spent).
    pub unmutated: bool,
    /// Pool secrets that were already used (spent codes and refresh tokens) the request
    /// carries.
    pub spent: Vec<String>,
}

pub(crate) const FORM: &[u8] = b"application/x-www-form-urlencoded";

pub(crate) fn enc(s: &str) -> Vec<u8> {
    form_encode(s).into_bytes()
}

fn pair(k: &str, v: &str) -> (Vec<u8>, Vec<u8>) {
    (enc(k), enc(v))
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
            cred: None,
        }
    }

    fn post(path: &str, form: &[(&str, &str)]) -> Self {
        let mut d = Self::new("POST", path);
        d.headers.push(("content-type".into(), FORM.to_vec()));
        d.form = form.iter().map(|(k, v)| pair(k, v)).collect();
        d
    }

    fn authenticate(&mut self, spec: &Spec, cred: Cred) {
        self.cred = Some(cred);
        let Some(client) = spec.client(cred) else {
            return;
        };
        match client.auth() {
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
    pub(crate) fn params(&mut self) -> &mut Vec<(Vec<u8>, Vec<u8>)> {
        if self.form.is_empty() && !self.query.is_empty() {
            &mut self.query
        } else {
            &mut self.form
        }
    }

    pub(crate) fn set_header(&mut self, name: &str, value: Option<Vec<u8>>) {
        self.headers.retain(|(k, _)| k != name);
        if let Some(v) = value {
            self.headers.push((name.into(), v));
        }
    }

    pub(crate) fn header(&self, name: &str) -> Option<Vec<u8>> {
        self.headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
    }

    fn into_wire(self, via_reqwest: bool) -> Request {
        let mut target = self.path;
        if !self.query.is_empty() {
            target.push(b'?');
            target.extend_from_slice(&join(&self.query));
        }
        let body = self.raw_body.unwrap_or_else(|| join(&self.form));
        Request {
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
pub fn build(case: &Case, spec: &Spec, pool: &Pool) -> Built {
    match case {
        Case::Garbage(g) => Built {
            wire: Request {
                method: String::new(),
                target: Vec::new(),
                headers: Vec::new(),
                body: Vec::new(),
                chunked: false,
                garbage: Some(garbage_bytes(g, spec)),
                via_reqwest: false,
            },
            secrets: Vec::new(),
            cred: None,
            unmutated: false,
            spent: Vec::new(),
        },
        Case::Mutated {
            seed,
            mutations,
            reqwest,
        } => {
            let mut secrets = Vec::new();
            let mut draft = seed_draft(seed, spec, pool, &mut secrets);
            let cred = draft.cred;
            for m in mutations {
                mutate(&mut draft, m, spec, pool, &mut secrets);
            }
            let spent = secrets
                .iter()
                .filter(|s| pool.is_spent(s))
                .cloned()
                .collect();
            Built {
                wire: draft.into_wire(*reqwest),
                secrets,
                cred,
                unmutated: mutations.is_empty(),
                spent,
            }
        }
    }
}

/// The path of an endpoint's request target, or `/` when the spec has none.
fn at(target: &Option<String>) -> &str {
    target.as_deref().unwrap_or("/")
}

fn seed_draft(seed: &Seed, spec: &Spec, pool: &Pool, secrets: &mut Vec<String>) -> Draft {
    let missing = "no-such-token-0000000000000000000000000000000";
    let e = &spec.endpoints;
    match *seed {
        Seed::ClientCredentials(cred) => {
            let mut d = Draft::post(at(&e.token), &[("grant_type", "client_credentials")]);
            if let Some(scope) = spec.client(cred).and_then(|c| c.scope.as_deref()) {
                d.form.push(pair("scope", scope));
            }
            d.authenticate(spec, cred);
            d
        }
        Seed::Password(cred, user) => {
            let (username, password) =
                match spec.users.get(usize::from(user) % spec.users.len().max(1)) {
                    Some(u) => (u.username.as_str(), u.password.as_str()),
                    None => ("nobody", "nothing"),
                };
            let mut d = Draft::post(
                at(&e.token),
                &[
                    ("grant_type", "password"),
                    ("username", username),
                    ("password", password),
                ],
            );
            if let Some(scope) = spec.client(cred).and_then(|c| c.scope.as_deref()) {
                d.form.push(pair("scope", scope));
            }
            d.authenticate(spec, cred);
            d
        }
        Seed::Refresh(i) => {
            let t = pool.refresh(i);
            let token = t.as_ref().map_or(missing, |t| t.token.as_str());
            let cred = t.as_ref().map_or(Cred(0), |t| t.cred);
            secrets.push(token.to_owned());
            let mut d = Draft::post(
                at(&e.token),
                &[("grant_type", "refresh_token"), ("refresh_token", token)],
            );
            d.authenticate(spec, cred);
            d
        }
        Seed::Code(i) => {
            let c = pool.code(i);
            let code = c.as_ref().map_or(missing, |c| c.code.as_str());
            secrets.push(code.to_owned());
            let mut form = vec![("grant_type", "authorization_code"), ("code", code)];
            if let Some(c) = &c {
                form.push(("redirect_uri", c.redirect_uri.as_str()));
                if let Some(v) = &c.verifier {
                    form.push(("code_verifier", v));
                }
            }
            let cred = c.as_ref().map_or(Cred(0), |c| c.cred);
            let mut d = Draft::post(at(&e.token), &form);
            d.authenticate(spec, cred);
            d
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
                Seed::Introspect(_, _, c) => (at(&e.introspect), c),
                _ => (at(&e.revoke), t.as_ref().map_or(Cred(0), |t| t.cred)),
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
            d.authenticate(spec, cred);
            d
        }
        Seed::AuthorizeGet(client) => {
            let (path, query) = split_target(at(&e.authorize));
            let mut d = Draft::new("GET", path);
            d.query = query;
            d.query.extend(authorize_params(spec, client));
            d
        }
        Seed::Login {
            client,
            good_password,
            approve,
        } => {
            let mut d = Draft::post(at(&e.authorize), &[]);
            d.form = authorize_params(spec, client);
            let csrf = "fuzz-csrf-0123456789abcdefghijklmnopqrstuv";
            if let Some(login) = &spec.login {
                d.form.push(pair("csrf_token", csrf));
                d.form.push(pair("email", &login.user.username));
                d.form.push(pair(
                    "password",
                    if good_password {
                        &login.user.password
                    } else {
                        "wrong-password"
                    },
                ));
                d.headers.push((
                    "cookie".into(),
                    format!("{}={csrf}", login.csrf_cookie).into_bytes(),
                ));
            }
            d.form
                .push(pair("action", if approve { "approve" } else { "deny" }));
            d
        }
        Seed::Me(i, form) => {
            let t = pool.access(i);
            let token = t.as_ref().map_or(missing, |t| t.token.as_str());
            secrets.push(token.to_owned());
            if form {
                Draft::post(at(&e.resource), &[("access_token", token)])
            } else {
                let mut d = Draft::new("GET", at(&e.resource));
                d.headers.push((
                    "authorization".into(),
                    format!("Bearer {token}").into_bytes(),
                ));
                d
            }
        }
        Seed::Metadata => Draft::new("GET", at(&e.metadata)),
        Seed::Unknown(i) => {
            let method = if i % 2 == 0 { "GET" } else { "POST" };
            let paths = &spec.unknown_paths;
            let path = if paths.is_empty() {
                "/"
            } else {
                paths[usize::from(i) % paths.len()].as_str()
            };
            Draft::new(method, path)
        }
    }
}

/// A request target's path, and its query as encoded pairs.
/// Encoded name-value pairs.
type Pairs = Vec<(Vec<u8>, Vec<u8>)>;

fn split_target(target: &str) -> (&str, Pairs) {
    match target.split_once('?') {
        None => (target, Vec::new()),
        Some((path, q)) => (
            path,
            q.split('&')
                .filter(|p| !p.is_empty())
                .map(|p| {
                    let (k, v) = p.split_once('=').unwrap_or((p, ""));
                    (k.as_bytes().to_vec(), v.as_bytes().to_vec())
                })
                .collect(),
        ),
    }
}

fn authorize_params(spec: &Spec, slot: u8) -> Vec<(Vec<u8>, Vec<u8>)> {
    let clients = spec.redirecting();
    let Some((_, client)) =
        (!clients.is_empty()).then(|| clients[usize::from(slot) % clients.len()])
    else {
        return vec![pair("response_type", "code")];
    };
    let mut out = vec![
        pair("response_type", "code"),
        pair("client_id", &client.id),
        pair(
            "redirect_uri",
            client.redirect_uri.as_deref().unwrap_or_default(),
        ),
    ];
    if let Some(scope) = &client.scope {
        out.push(pair("scope", scope));
    }
    out.push(pair("state", "st"));
    if client.pkce {
        let challenge = s256("fuzz-verifier-0123456789-0123456789-0123456789");
        out.push(pair("code_challenge", &challenge));
        out.push(pair("code_challenge_method", "S256"));
    }
    out
}

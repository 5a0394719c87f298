//! The live credentials mutations start from: tokens issued by the server (refilled by
//! plain grants and by every successful generated request), unused authorization codes
//! (refilled through the login form), and the codes and refresh tokens already used,
//! whose replays may revoke.

use std::collections::HashSet;

use serde_json::Value;

use super::case::Cred;
use crate::common::wire::{Conn, WireRequest};
use crate::common::*;
use crate::login::{BASIC_CALLBACK, PUBLIC_CALLBACK, s256};

/// A token the server issued.
#[derive(Debug, Clone)]
pub struct Issued {
    /// Its client.
    pub cred: Cred,
    /// The token.
    pub token: String,
}

/// An authorization code not yet redeemed.
#[derive(Debug, Clone)]
pub struct CodeSlot {
    /// Its client.
    pub cred: Cred,
    /// The code.
    pub code: String,
    /// The redirection URI it was issued for.
    pub redirect_uri: &'static str,
    /// The PKCE verifier, when a challenge was sent.
    pub verifier: Option<String>,
}

/// Every credential the generator can use.
#[derive(Debug, Default)]
pub struct Pool {
    /// Access tokens with the `profile` scope and a user.
    pub user_access: Vec<Issued>,
    /// Other access tokens (client credentials).
    pub other_access: Vec<Issued>,
    /// Refresh tokens not yet rotated.
    pub refresh: Vec<Issued>,
    /// Unused codes.
    pub codes: Vec<CodeSlot>,
    /// Codes and refresh tokens that were used (a replay revokes their grant).
    pub spent: Vec<String>,
    spent_set: HashSet<String>,
    seq: u64,
}

/// The credentials of a fixture client.
pub fn auth_of(cred: Cred) -> Auth<'static> {
    match cred {
        Cred::Basic => BASIC,
        Cred::Post => POST,
        Cred::Public => PUBLIC,
        Cred::Second => SECOND,
        Cred::Service => SERVICE,
    }
}

fn pick<T>(v: &[T], i: u16) -> Option<&T> {
    (!v.is_empty()).then(|| &v[usize::from(i) % v.len()])
}

impl Pool {
    /// A live secret of any kind.
    pub fn any_live(&self, i: u16) -> Option<String> {
        let n = self.user_access.len()
            + self.other_access.len()
            + self.refresh.len()
            + self.codes.len();
        if n == 0 {
            return None;
        }
        let mut k = usize::from(i) % n;
        for v in [&self.user_access, &self.other_access, &self.refresh] {
            if k < v.len() {
                return Some(v[k].token.clone());
            }
            k -= v.len();
        }
        Some(self.codes[k].code.clone())
    }

    /// A used code or refresh token.
    pub fn spent(&self, i: u16) -> Option<String> {
        pick(&self.spent, i).cloned()
    }

    /// Whether a secret was used before.
    pub fn is_spent(&self, s: &str) -> bool {
        self.spent_set.contains(s)
    }

    /// A refresh token.
    pub fn refresh(&self, i: u16) -> Option<Issued> {
        pick(&self.refresh, i).cloned()
    }

    /// An access token that `/api/me` accepts (mostly) or any other.
    pub fn access(&self, i: u16) -> Option<Issued> {
        if i % 8 == 7 {
            if let Some(t) = pick(&self.other_access, i) {
                return Some(t.clone());
            }
        }
        pick(&self.user_access, i).cloned()
    }

    /// An unused code.
    pub fn code(&self, i: u16) -> Option<CodeSlot> {
        pick(&self.codes, i).cloned()
    }

    /// Records a code or refresh token as used: it leaves the live lists.
    pub fn mark_spent(&mut self, s: &str) {
        let before = self.refresh.len() + self.codes.len();
        self.refresh.retain(|t| t.token != s);
        self.codes.retain(|c| c.code != s);
        if before != self.refresh.len() + self.codes.len() && self.spent_set.insert(s.to_owned()) {
            self.spent.push(s.to_owned());
        }
    }

    /// Forgets a token that was revoked (its grant may be gone with it).
    pub fn forget(&mut self, s: &str) {
        self.user_access.retain(|t| t.token != s);
        self.other_access.retain(|t| t.token != s);
        self.refresh.retain(|t| t.token != s);
    }

    /// Adds the tokens of a §5.1 response.
    pub fn add_tokens(&mut self, cred: Cred, body: &Value) {
        let scope = body["scope"].as_str().unwrap_or_default();
        if let Some(at) = body["access_token"].as_str() {
            let t = Issued {
                cred,
                token: at.to_owned(),
            };
            if body["refresh_token"].is_string() && scope.split(' ').any(|s| s == "profile") {
                self.user_access.push(t);
            } else {
                self.other_access.push(t);
            }
        }
        if let Some(rt) = body["refresh_token"].as_str() {
            self.refresh.push(Issued {
                cred,
                token: rt.to_owned(),
            });
        }
        // Keep the lists short so slots keep hitting recent, live entries.
        for v in [
            &mut self.user_access,
            &mut self.other_access,
            &mut self.refresh,
        ] {
            if v.len() > 64 {
                v.drain(..v.len() - 64);
            }
        }
    }

    /// Tops the pool up with plain valid requests on `conn`; returns how many it sent.
    pub async fn refill(&mut self, conn: &mut Conn) -> usize {
        let mut sent = 0;
        while self.refresh.len() < 8 || self.user_access.len() < 4 {
            self.seq += 1;
            let cred = [Cred::Basic, Cred::Post, Cred::Public, Cred::Second][self.seq as usize % 4];
            let r = conn
                .send(&WireRequest::post_form(
                    "/oauth/token",
                    auth_of(cred),
                    &[
                        ("grant_type", "password"),
                        ("username", ALICE),
                        ("password", ALICE_PASSWORD),
                    ],
                ))
                .await;
            assert_eq!(r.status, 200, "password grant for the pool: {r:?}");
            self.add_tokens(cred, &serde_json::from_slice(&r.body).unwrap());
            sent += 1;
        }
        if self.other_access.len() < 2 {
            let r = conn
                .send(&WireRequest::post_form(
                    "/oauth/token",
                    SERVICE,
                    &[("grant_type", "client_credentials")],
                ))
                .await;
            assert_eq!(r.status, 200, "client credentials for the pool: {r:?}");
            self.add_tokens(Cred::Service, &serde_json::from_slice(&r.body).unwrap());
            sent += 1;
        }
        while self.codes.len() < 4 {
            self.seq += 1;
            let public = self.seq % 2 == 0;
            let verifier = format!("verifier-{:040}", self.seq);
            let challenge = s256(&verifier);
            let (cred, client_id, redirect_uri) = if public {
                (Cred::Public, PUBLIC_ID, PUBLIC_CALLBACK)
            } else {
                (Cred::Basic, BASIC_ID, BASIC_CALLBACK)
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
            self.codes.push(CodeSlot {
                cred,
                code,
                redirect_uri,
                verifier: public.then_some(verifier),
            });
            sent += 1;
        }
        sent
    }
}

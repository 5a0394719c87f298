//! The live credentials mutations start from: tokens issued by the server (refilled by
//! plain grants and by every successful generated request), unused authorization codes
//! (refilled through the login form), and the codes and refresh tokens already used,
//! whose replays may revoke.

use std::collections::HashSet;

use serde_json::Value;

use crate::case::Cred;

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
    pub redirect_uri: String,
    /// The PKCE verifier, when a challenge was sent.
    pub verifier: Option<String>,
}

/// Every credential the generator can use.
#[derive(Debug, Default, Clone)]
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

    /// Adds the tokens of a §5.1 response; `for_user` when the access token is a user's
    /// that the protected resource serves.
    pub fn add_tokens(&mut self, cred: Cred, body: &Value, for_user: bool) {
        if let Some(at) = body["access_token"].as_str() {
            let t = Issued {
                cred,
                token: at.to_owned(),
            };
            if for_user {
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
}

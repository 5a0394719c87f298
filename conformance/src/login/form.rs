//! The form login driver: GET the authorization URL with a cookie jar, follow same-site
//! redirects, fill the form that has a password field, approve a consent form if one
//! follows, and stop at the first redirect to the client's redirection URI (never
//! following it) to read `code`, `state`, `iss` or `error` from it.

use std::collections::BTreeMap;
use std::time::Duration;

use super::html::{Button, Form, forms};
use crate::http::{Exchange, Outgoing, decode_pairs, excerpt, redact_url, send_with};
use crate::target::{LoginProfile, User, origin};

/// Most redirects and form posts one login may take.
const MAX_STEPS: usize = 12;

/// The authorization response the client would receive.
#[derive(Debug, Clone)]
pub struct AuthResponse {
    /// Status of the redirecting response (302, 303, ...).
    pub status: u16,
    /// The whole `Location` (secret values redacted in `Debug`).
    pub location: String,
    /// Query (or fragment) parameters of the redirect.
    pub params: BTreeMap<String, String>,
    /// Every parameter name, in order, repeats kept.
    pub names: Vec<String>,
    /// The exchanges on the way, for reports.
    pub trail: Vec<Exchange>,
}

impl AuthResponse {
    /// A parameter of the redirect.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.params.get(name).map(String::as_str)
    }
}

/// Why the driver could not get an authorization response.
#[derive(Debug, Clone, thiserror::Error)]
pub enum LoginError {
    /// A request got no response.
    #[error("{0}")]
    Send(String),
    /// The page had no form to fill.
    #[error(
        "no form with a password field or an approve button at {url} (status {status}: {excerpt})"
    )]
    NoForm {
        /// The page.
        url: String,
        /// Its status.
        status: u16,
        /// The start of its body.
        excerpt: String,
    },
    /// The login form came back after the credentials were sent.
    #[error(
        "the login was refused: the form with a password field came back at {0} after the credentials were sent"
    )]
    Rejected(String),
    /// A redirect went to another site that is not the client.
    #[error("redirected away from the authorization server to {0}")]
    LeftSite(String),
    /// An answer the driver cannot act on.
    #[error("unexpected answer {status} at {url}: {excerpt}")]
    Unexpected {
        /// The page.
        url: String,
        /// Its status.
        status: u16,
        /// The start of its body.
        excerpt: String,
    },
    /// Too many steps.
    #[error("no redirect to the client after {MAX_STEPS} steps")]
    TooManySteps,
}

/// Whether `location` is the client's redirection URI (any port for loopback IPs).
fn is_client_redirect(location: &str, redirect_uri: &str) -> bool {
    let base = redirect_uri
        .split(['?', '#'])
        .next()
        .unwrap_or(redirect_uri);
    let loc = location.split(['?', '#']).next().unwrap_or(location);
    loc == base || strip_port(loc) == strip_port(base) && is_loopback(base)
}

fn is_loopback(u: &str) -> bool {
    u.starts_with("http://127.0.0.1") || u.starts_with("http://[::1]")
}

fn strip_port(u: &str) -> String {
    let o = origin(u);
    let path = &u[o.len()..];
    let host = o
        .rsplit_once(':')
        .filter(|(_, p)| p.bytes().all(|b| b.is_ascii_digit()))
        .map_or(o.as_str(), |(h, _)| h);
    format!("{host}{path}")
}

/// Resolves a possibly relative reference against a base URL.
pub fn resolve(base: &str, reference: &str) -> String {
    if reference.contains("://") {
        return reference.to_owned();
    }
    let o = origin(base);
    if let Some(r) = reference.strip_prefix("//") {
        let scheme = base.split("://").next().unwrap_or("http");
        return format!("{scheme}://{r}");
    }
    if reference.starts_with('/') {
        return format!("{o}{reference}");
    }
    let path = base[o.len()..].split(['?', '#']).next().unwrap_or("/");
    if reference.is_empty() {
        return base.split('#').next().unwrap_or(base).to_owned();
    }
    if reference.starts_with('?') {
        return format!("{o}{path}{reference}");
    }
    let dir = path.rfind('/').map_or("/", |i| &path[..=i]);
    format!("{o}{dir}{reference}")
}

/// Parses the parameters of an authorization response redirect (query, or fragment).
pub fn response_params(location: &str) -> (BTreeMap<String, String>, Vec<String>) {
    let query = location
        .split_once('?')
        .map(|(_, q)| q.split('#').next().unwrap_or(q));
    let fragment = location.split_once('#').map(|(_, f)| f);
    let pairs = decode_pairs(query.or(fragment).unwrap_or(""));
    let names = pairs.iter().map(|(k, _)| k.clone()).collect();
    (pairs.into_iter().collect(), names)
}

/// Drives the login: from the authorization URL to the client's redirect.
pub async fn drive(
    authorization_url: &str,
    redirect_uri: &str,
    user: &User,
    login: &LoginProfile,
    timeout: Duration,
    approve: bool,
) -> Result<AuthResponse, LoginError> {
    let client =
        crate::http::Http::with_cookies(timeout).map_err(|e| LoginError::Send(e.to_string()))?;
    let site = origin(authorization_url);
    let mut next = Outgoing::new(reqwest::Method::GET, authorization_url);
    let mut url = authorization_url.to_owned();
    let mut sent_credentials = false;
    let mut trail = Vec::new();
    for _ in 0..MAX_STEPS {
        let x = send_with(&client, next.clone())
            .await
            .map_err(|e| LoginError::Send(e.to_string()))?;
        trail.push(x.clone());
        if (300..400).contains(&x.status) {
            let Some(loc) = x.header("location") else {
                return Err(unexpected(&url, &x));
            };
            let loc = resolve(&url, loc);
            if is_client_redirect(&loc, redirect_uri) {
                let (params, names) = response_params(&loc);
                return Ok(AuthResponse {
                    status: x.status,
                    location: loc,
                    params,
                    names,
                    trail,
                });
            }
            if origin(&loc) != site {
                return Err(LoginError::LeftSite(redact_url(&loc)));
            }
            next = Outgoing::new(reqwest::Method::GET, loc.clone());
            url = loc;
            continue;
        }
        if x.status != 200 {
            return Err(unexpected(&url, &x));
        }
        let page_forms = forms(&x.body);
        let login_form = page_forms.iter().find(|f| f.has_password());
        if let Some(form) = login_form {
            if sent_credentials {
                return Err(LoginError::Rejected(redact_url(&url)));
            }
            sent_credentials = true;
            next = submit(&url, form, Some(user), login, approve);
        } else if let Some(form) = page_forms
            .iter()
            .find(|f| pick_button(f, login, approve).is_some())
        {
            next = submit(&url, form, None, login, approve);
        } else {
            return Err(LoginError::NoForm {
                url: redact_url(&url),
                status: x.status,
                excerpt: excerpt(&x.body, 200),
            });
        }
        if next.method == reqwest::Method::GET {
            url = next.url.clone();
        }
    }
    Err(LoginError::TooManySteps)
}

fn unexpected(url: &str, x: &Exchange) -> LoginError {
    LoginError::Unexpected {
        url: redact_url(url),
        status: x.status,
        excerpt: excerpt(&crate::http::redact_body(&x.body), 200),
    }
}

const APPROVE_WORDS: &[&str] = &[
    "approve",
    "allow",
    "accept",
    "authorize",
    "authorise",
    "consent",
    "continue",
    "yes",
    "grant",
    "confirm",
    "sign in",
    "log in",
    "login",
    "submit",
];
const DENY_WORDS: &[&str] = &["deny", "decline", "reject", "cancel", "no"];

/// The button to press: the profile's, or one whose text or value reads like approval
/// (or refusal, when `approve` is false), or the only one.
fn pick_button<'a>(form: &'a Form, login: &LoginProfile, approve: bool) -> Option<&'a Button> {
    let matches = |b: &Button, words: &[&str]| {
        let t = format!("{} {}", b.text, b.value).to_ascii_lowercase();
        let tokens: Vec<&str> = t
            .split(|c: char| !c.is_ascii_alphanumeric())
            .filter(|s| !s.is_empty())
            .collect();
        words.iter().any(|w| {
            if w.contains(' ') {
                t.contains(w)
            } else {
                tokens.contains(w)
            }
        })
    };
    if let Some(wanted) = &login.approve_button {
        if approve {
            return form
                .buttons
                .iter()
                .find(|b| &b.text == wanted || &b.value == wanted);
        }
    }
    let words = if approve { APPROVE_WORDS } else { DENY_WORDS };
    form.buttons.iter().find(|b| matches(b, words)).or_else(|| {
        if approve && form.buttons.len() == 1 {
            form.buttons.first()
        } else {
            None
        }
    })
}

/// Builds the submission of a form: its inputs, the credentials, and the button.
fn submit(
    page_url: &str,
    form: &Form,
    user: Option<&User>,
    login: &LoginProfile,
    approve: bool,
) -> Outgoing {
    let mut pairs: Vec<(String, String)> = Vec::new();
    let username_field = login.username_field.clone().or_else(|| {
        form.inputs
            .iter()
            .find(|i| matches!(i.kind.as_str(), "email" | "text") && i.kind != "hidden")
            .map(|i| i.name.clone())
    });
    let password_field = login.password_field.clone().or_else(|| {
        form.inputs
            .iter()
            .find(|i| i.kind == "password")
            .map(|i| i.name.clone())
    });
    for i in &form.inputs {
        if Some(&i.name) == username_field.as_ref() && user.is_some() {
            continue;
        }
        if Some(&i.name) == password_field.as_ref() && user.is_some() {
            continue;
        }
        match i.kind.as_str() {
            "checkbox" | "radio" if !i.checked => {}
            "password" => {}
            _ => pairs.push((i.name.clone(), i.value.clone())),
        }
    }
    if let Some(u) = user {
        if let Some(f) = &username_field {
            pairs.push((f.clone(), u.username.clone()));
        }
        if let Some(f) = &password_field {
            pairs.push((f.clone(), u.password.expose().to_owned()));
        }
    }
    if let Some(b) = pick_button(form, login, approve) {
        if let Some(n) = &b.name {
            pairs.push((n.clone(), b.value.clone()));
        }
    }
    let action = resolve(page_url, &form.action);
    if form.method == "post" {
        Outgoing::new(reqwest::Method::POST, action).form(&pairs)
    } else {
        let base = action.split('?').next().unwrap_or(&action).to_owned();
        Outgoing::new(
            reqwest::Method::GET,
            format!("{base}?{}", crate::http::encode_pairs(&pairs)),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Relative references resolve as a browser would.
    #[test]
    fn resolves_references() {
        assert_eq!(
            resolve("http://a.example/oauth/authorize?x=1", "authorize"),
            "http://a.example/oauth/authorize"
        );
        assert_eq!(
            resolve("http://a.example/oauth/authorize", "/login"),
            "http://a.example/login"
        );
        assert_eq!(
            resolve("http://a.example/p", "https://b.example/cb?c=1"),
            "https://b.example/cb?c=1"
        );
    }

    /// The client's redirect is recognised, with any port on loopback only.
    #[test]
    fn recognises_client_redirect() {
        assert!(is_client_redirect(
            "https://c.example/cb?code=1",
            "https://c.example/cb"
        ));
        assert!(!is_client_redirect(
            "https://c.example/cb2?code=1",
            "https://c.example/cb"
        ));
        assert!(is_client_redirect(
            "http://127.0.0.1:5000/callback?code=1",
            "http://127.0.0.1/callback"
        ));
    }
}

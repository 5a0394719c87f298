//! The form login driver: GET the authorization URL with a cookie jar, follow same-site
//! redirects, fill the form that has a password field, approve a consent form if one
//! follows, and stop at the first redirect that leaves the authorization server (never
//! following it) to read `code`, `state`, `iss` or `error` from it. A [`Browser`] keeps
//! its cookies between visits, so a scenario can come back as the same user agent; a
//! visit can stop before a form submission, so a scenario can look at (or forge) it.

use std::collections::BTreeMap;
use std::time::Duration;

use super::html::{Button, Form, forms};
use crate::http::{Exchange, Http, Outgoing, decode_pairs, excerpt, redact_url};
use crate::target::{LoginProfile, User, origin};

/// Most redirects and form posts one login may take.
const MAX_STEPS: usize = 12;

/// Where an authorization request ended, as the user agent saw it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ended {
    /// A redirect to the client's redirection URI.
    Client,
    /// A redirect off the authorization server to somewhere that is not the client's
    /// redirection URI.
    OtherSite,
    /// A page the driver cannot act on: an error page, or a page without a usable form.
    Page,
    /// A form the driver was told not to submit.
    Stopped,
    /// The user was to deny, and the consent page offers a button to approve and none
    /// to deny: the driver cannot refuse there (nothing was submitted).
    NoDeny,
}

/// What the user agent saw of an authorization request: the redirect that ended it (to
/// the client or elsewhere), or the page it stopped at.
#[derive(Clone)]
pub struct AuthResponse {
    /// How it ended.
    pub ended: Ended,
    /// Status of the last response (the redirect's 302, 303, ..., or the page's).
    pub status: u16,
    /// The whole `Location` of the redirect that ended it; empty at a page.
    pub location: String,
    /// Query (or fragment) parameters of the redirect.
    pub params: BTreeMap<String, String>,
    /// Every parameter name, in order, repeats kept.
    pub names: Vec<String>,
    /// The exchanges on the way, for reports.
    pub trail: Vec<Exchange>,
    /// The authorization request URL as sent.
    pub request_url: String,
    /// How many forms the driver submitted.
    pub submissions: usize,
}

impl std::fmt::Debug for AuthResponse {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuthResponse")
            .field("ended", &self.ended)
            .field("status", &self.status)
            .field("location", &redact_url(&self.location))
            .field("names", &self.names)
            .field("submissions", &self.submissions)
            .finish_non_exhaustive()
    }
}

impl AuthResponse {
    /// A parameter of the redirect.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.params.get(name).map(String::as_str)
    }

    /// Whether it ended with a redirect to the client's redirection URI.
    pub fn to_client(&self) -> bool {
        self.ended == Ended::Client
    }

    /// Whether it ended with a redirect away from the authorization server.
    pub fn left_site(&self) -> bool {
        matches!(self.ended, Ended::Client | Ended::OtherSite)
    }

    /// A parameter of the authorization request as sent (first occurrence).
    pub fn request_param(&self, name: &str) -> Option<String> {
        let query = self.request_url.split_once('?').map_or("", |(_, q)| q);
        let query = query.split('#').next().unwrap_or(query);
        decode_pairs(query)
            .into_iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v)
    }
}

/// Why the driver could not get an authorization response.
#[derive(Debug, Clone, thiserror::Error)]
pub enum LoginError {
    /// A request of the login got no response.
    #[error("{0}")]
    Send(String),
    /// The driver itself failed, not the target: the browser could not be started or
    /// stopped answering, or an HTTP client could not be built.
    #[error("{0}")]
    Driver(String),
    /// The login page has no form in its HTML, only scripts.
    #[error(
        "the page builds its form with JavaScript: use driver = \"browser\" in [login] (the login page {0} has no <form> in its HTML, only scripts)"
    )]
    NeedsScript(String),
    /// The browser driver's login did not end in time.
    #[error(
        "the browser login did not end within {seconds} s: it waited for {waited_for}; last URL {url}; page text: {excerpt:?}{}",
        screenshot.as_ref().map_or(String::new(), |p| format!("; screenshot: {p}"))
    )]
    Browser {
        /// The last URL (redacted).
        url: String,
        /// What the driver waited for.
        waited_for: String,
        /// The login timeout.
        seconds: u64,
        /// The page's text, redacted.
        excerpt: String,
        /// Where the screenshot was written.
        screenshot: Option<String>,
    },
    /// The browser driver's login ended at a page it cannot act on.
    #[error(
        "the browser login stopped at {url}: {why}; page text: {excerpt:?}{}",
        screenshot.as_ref().map_or(String::new(), |p| format!("; screenshot: {p}"))
    )]
    BrowserStopped {
        /// The last URL (redacted).
        url: String,
        /// Why the driver stopped there.
        why: String,
        /// The page's text, redacted.
        excerpt: String,
        /// Where the screenshot was written.
        screenshot: Option<String>,
    },
    /// The login page opened a window of its own.
    #[error(
        "the login page opened a popup window ({0}): the browser driver signs in within the page it was sent to, so a login that continues in a popup cannot be driven"
    )]
    Popup(String),
    /// The browser was sent to an origin the login may not visit.
    #[error(
        "the browser was sent to {0}, whose origin is neither the authorization server's nor listed in [login] allowed_origins"
    )]
    BrowserLeft(String),
    /// The page had no form to fill.
    #[error(
        "no form with a password field or an approve button at {url} (status {status}; forms: {forms}; page: {excerpt})"
    )]
    NoForm {
        /// The page.
        url: String,
        /// Its status.
        status: u16,
        /// The page's forms, their fields and buttons.
        forms: String,
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
    /// The profile names an approve button that no form of the consent page has.
    #[error(
        "no button matches [login] approve_button = {wanted:?} at {url}; the page's forms: {forms}"
    )]
    NoButton {
        /// The page.
        url: String,
        /// What the profile asked for.
        wanted: String,
        /// The page's forms, their fields and buttons.
        forms: String,
    },
    /// The profile names a login field that the login form does not have.
    #[error(
        "the login form at {url} has no field named {name:?} ([login] {which}); its fields: {fields}"
    )]
    MissingField {
        /// The page.
        url: String,
        /// `username_field` or `password_field`.
        which: &'static str,
        /// The name the profile gives.
        name: String,
        /// The form's field names.
        fields: String,
    },
    /// Too many steps: a redirect loop, or a form that keeps coming back.
    #[error(
        "too many redirects and form posts: no redirect to the client after {MAX_STEPS} steps, the last at {0}"
    )]
    TooManySteps(String),
}

impl LoginError {
    /// Whether the login failed for a reason of the driver or the profile (the browser
    /// broke, the page needs the other driver, the page cannot be driven, the login
    /// goes on at an origin the profile does not allow, a field or button the profile
    /// names is missing), not for an answer of the target that breaks a requirement: a
    /// scenario it stops could not reach its check.
    pub fn is_driver_side(&self) -> bool {
        matches!(
            self,
            Self::Driver(_)
                | Self::NeedsScript(_)
                | Self::Browser { .. }
                | Self::BrowserStopped { .. }
                | Self::Popup(_)
                | Self::BrowserLeft(_)
                | Self::LeftSite(_)
                | Self::NoButton { .. }
                | Self::MissingField { .. }
        )
    }
}

/// Whether `location` is the client's redirection URI (any port for loopback IPs).
pub fn is_client_redirect(location: &str, redirect_uri: &str) -> bool {
    let base = redirect_uri
        .split(['?', '#'])
        .next()
        .unwrap_or(redirect_uri);
    let loc = location.split(['?', '#']).next().unwrap_or(location);
    loc == base || strip_port(loc) == strip_port(base) && is_loopback(base)
}

/// Whether `location` is `uri` with parameters added: the same URI without its query,
/// and every query parameter of `uri` kept.
pub fn is_redirect_to(location: &str, uri: &str) -> bool {
    if !is_client_redirect(location, uri) {
        return false;
    }
    let (params, _) = response_params(location);
    let query = uri.split_once('?').map_or("", |(_, q)| q);
    let query = query.split('#').next().unwrap_or(query);
    decode_pairs(query)
        .iter()
        .all(|(k, v)| params.get(k) == Some(v))
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

/// What a visit does at the authorization server.
#[derive(Debug, Clone, Copy)]
pub struct Visit<'a> {
    /// The client's redirection URI: the redirect to it ends the visit.
    pub redirect_uri: &'a str,
    /// The user who logs in; `None` never submits a login form.
    pub user: Option<&'a User>,
    /// Login settings of the target.
    pub login: &'a LoginProfile,
    /// Approve (or deny) the request at the consent step.
    pub approve: bool,
    /// Stop before the form submission with this index (0: the first); the visit then
    /// ends as [`Ended::Stopped`] and the submission is returned unsent.
    pub stop_before: Option<usize>,
}

/// A user agent with its own cookie jar.
#[derive(Debug, Clone)]
pub struct Browser {
    http: Http,
}

impl Browser {
    /// A fresh user agent: no cookies, redirects not followed.
    pub fn new(timeout: Duration) -> Result<Self, LoginError> {
        let http = Http::with_cookies(timeout).map_err(|e| LoginError::Driver(e.to_string()))?;
        Ok(Self { http })
    }

    /// Sends one request with this browser's cookies.
    pub async fn send(&self, out: Outgoing) -> Result<Exchange, LoginError> {
        self.http
            .send(out)
            .await
            .map_err(|e| LoginError::Send(e.to_string()))
    }

    /// Sends `first` (the authorization request), follows same-site redirects, fills
    /// the login and consent forms, and stops at the first redirect that leaves the
    /// authorization server, at a page it cannot act on, or before the submission
    /// `visit.stop_before`. Returns what was seen and, when stopped, the unsent
    /// submission.
    pub async fn visit(
        &self,
        first: Outgoing,
        visit: &Visit<'_>,
    ) -> Result<(AuthResponse, Option<Outgoing>), LoginError> {
        let request_url = first.url.clone();
        let site = origin(&request_url);
        let mut next = first;
        let mut url = request_url.clone();
        let mut sent_credentials = false;
        let mut submissions = 0;
        let mut trail: Vec<Exchange> = Vec::new();
        let end = |ended: Ended, status: u16, location: String, trail: Vec<Exchange>, n| {
            let (params, names) = if location.is_empty() {
                (BTreeMap::new(), Vec::new())
            } else {
                response_params(&location)
            };
            AuthResponse {
                ended,
                status,
                location,
                params,
                names,
                trail,
                request_url: request_url.clone(),
                submissions: n,
            }
        };
        for _ in 0..MAX_STEPS {
            let x = self.send(next.clone()).await?;
            trail.push(x.clone());
            if (300..400).contains(&x.status) {
                let Some(loc) = x.header("location") else {
                    return Ok((
                        end(Ended::Page, x.status, String::new(), trail, submissions),
                        None,
                    ));
                };
                let loc = resolve(&url, loc);
                if is_client_redirect(&loc, visit.redirect_uri) {
                    return Ok((end(Ended::Client, x.status, loc, trail, submissions), None));
                }
                if origin(&loc) != site {
                    return Ok((
                        end(Ended::OtherSite, x.status, loc, trail, submissions),
                        None,
                    ));
                }
                next = Outgoing::new(reqwest::Method::GET, loc.clone());
                url = loc;
                continue;
            }
            if x.status != 200 {
                return Ok((
                    end(Ended::Page, x.status, String::new(), trail, submissions),
                    None,
                ));
            }
            let page_forms = forms(&x.body);
            let submission = if let Some(form) = page_forms.iter().find(|f| f.has_password()) {
                if sent_credentials {
                    return Err(LoginError::Rejected(redact_url(&url)));
                }
                match visit.user {
                    Some(user) => {
                        check_fields(&url, form, visit.login)?;
                        sent_credentials = true;
                        Some(submit(&url, form, Some(user), visit.login, visit.approve))
                    }
                    None if visit.stop_before.is_some() => {
                        Some(submit(&url, form, None, visit.login, visit.approve))
                    }
                    None => None,
                }
            } else if visit.login.consent == Some(false) && sent_credentials {
                // The profile says there is no consent step: a form after the login is
                // not approved on the user's behalf, the visit ends at that page.
                None
            } else {
                let found = page_forms
                    .iter()
                    .find(|f| pick_button(f, visit.login, visit.approve).is_some());
                if let (None, Some(wanted), true) =
                    (found, &visit.login.approve_button, visit.approve)
                {
                    if page_forms.iter().any(|f| !f.buttons.is_empty()) {
                        return Err(LoginError::NoButton {
                            url: redact_url(&url),
                            wanted: wanted.clone(),
                            forms: describe_forms(&page_forms),
                        });
                    }
                }
                if found.is_none()
                    && !visit.approve
                    && page_forms
                        .iter()
                        .any(|f| pick_button(f, visit.login, true).is_some())
                {
                    // Asked to deny at a consent form that can only approve.
                    return Ok((
                        end(Ended::NoDeny, x.status, String::new(), trail, submissions),
                        None,
                    ));
                }
                found.map(|form| submit(&url, form, None, visit.login, visit.approve))
            };
            let Some(submission) = submission else {
                return Ok((
                    end(Ended::Page, x.status, String::new(), trail, submissions),
                    None,
                ));
            };
            if visit.stop_before == Some(submissions) {
                return Ok((
                    end(Ended::Stopped, x.status, String::new(), trail, submissions),
                    Some(submission),
                ));
            }
            submissions += 1;
            next = submission;
            if next.method == reqwest::Method::GET {
                url = next.url.clone();
            }
        }
        Err(LoginError::TooManySteps(redact_url(&url)))
    }
}

/// Drives the login in a fresh browser: from the authorization URL to the client's
/// redirect. Any other ending is an error.
pub async fn drive(
    authorization_url: &str,
    redirect_uri: &str,
    user: &User,
    login: &LoginProfile,
    timeout: Duration,
    approve: bool,
) -> Result<AuthResponse, LoginError> {
    if login.driver == crate::target::profile::Driver::Browser {
        let r =
            super::chrome::drive_for_code(authorization_url, redirect_uri, user, login, approve)
                .await?;
        return match r.ended {
            Ended::OtherSite => Err(LoginError::BrowserLeft(redact_url(&r.location))),
            _ => Ok(r),
        };
    }
    let browser = Browser::new(timeout)?;
    let visit = Visit {
        redirect_uri,
        user: Some(user),
        login,
        approve,
        stop_before: None,
    };
    let (r, _) = browser
        .visit(
            Outgoing::new(reqwest::Method::GET, authorization_url),
            &visit,
        )
        .await?;
    let last = r.trail.last();
    match r.ended {
        Ended::Client => Ok(r),
        Ended::OtherSite => Err(LoginError::LeftSite(redact_url(&r.location))),
        Ended::Page | Ended::Stopped | Ended::NoDeny => Err(match last {
            Some(x) if x.status == 200 && builds_form_by_script(&x.body) => {
                LoginError::NeedsScript(redact_url(&x.url))
            }
            Some(x) if x.status == 200 => LoginError::NoForm {
                url: redact_url(&x.url),
                status: x.status,
                forms: describe_forms(&forms(&x.body)),
                excerpt: excerpt(&crate::http::redact_body(&x.body), 200),
            },
            Some(x) => unexpected(&x.url, x),
            None => LoginError::TooManySteps(String::new()),
        }),
    }
}

/// Whether a page has no form of its own but scripts that may build one: a login page
/// only a browser can use.
pub fn builds_form_by_script(body: &str) -> bool {
    let lower = body.to_ascii_lowercase();
    !lower.contains("<form") && lower.contains("<script")
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

/// The forms of a page as a report names them: method, action, field names and buttons
/// (text, name and value), for a login the runner could not drive.
pub fn describe_forms(forms: &[Form]) -> String {
    if forms.is_empty() {
        return "none".to_owned();
    }
    forms
        .iter()
        .map(|f| {
            let fields: Vec<&str> = f
                .inputs
                .iter()
                .filter(|i| i.kind != "hidden")
                .map(|i| i.name.as_str())
                .collect();
            let buttons: Vec<String> = f
                .buttons
                .iter()
                .map(|b| match &b.name {
                    Some(n) => format!("{:?} ({n}={})", b.text.trim(), b.value),
                    None => format!("{:?} (value {:?})", b.text.trim(), b.value),
                })
                .collect();
            format!(
                "{} {:?} with fields {fields:?} and buttons [{}]",
                f.method.to_ascii_uppercase(),
                redact_url(&f.action),
                buttons.join(", ")
            )
        })
        .collect::<Vec<_>>()
        .join("; ")
}

/// Fails when the profile names a username or password field the login form lacks.
fn check_fields(url: &str, form: &Form, login: &LoginProfile) -> Result<(), LoginError> {
    for (which, name) in [
        ("username_field", &login.username_field),
        ("password_field", &login.password_field),
    ] {
        if let Some(name) = name {
            if !form.inputs.iter().any(|i| &i.name == name) {
                return Err(LoginError::MissingField {
                    url: redact_url(url),
                    which,
                    name: name.clone(),
                    fields: format!(
                        "{:?}",
                        form.inputs
                            .iter()
                            .filter(|i| i.kind != "hidden")
                            .map(|i| i.name.as_str())
                            .collect::<Vec<_>>()
                    ),
                });
            }
        }
    }
    Ok(())
}

/// Whether a button is the one `[login] approve_button` names: by its text, by its
/// value, or as `name=value`.
fn is_wanted(b: &Button, wanted: &str) -> bool {
    if b.text.trim() == wanted || b.value == wanted {
        return true;
    }
    match wanted.split_once('=') {
        Some((name, value)) => b.name.as_deref() == Some(name) && b.value == value,
        None => false,
    }
}

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
            if let Some(b) = form.buttons.iter().find(|b| is_wanted(b, wanted)) {
                return Some(b);
            }
            // The login form's own button need not be the approving one the profile
            // names (that one is on the consent page).
            if !form.has_password() {
                return None;
            }
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
    // A login form without a deny button is signed in even when the user is to deny:
    // the refusal comes at the consent step that follows.
    let button = pick_button(form, login, approve).or_else(|| {
        (!approve && user.is_some())
            .then(|| pick_button(form, login, true))
            .flatten()
    });
    if let Some(b) = button {
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

    /// A redirect "to" a URI keeps that URI's query; another path or a dropped query
    /// parameter is somewhere else.
    #[test]
    fn redirect_to_uri() {
        let uri = "https://c.example/cb?extra=1";
        assert!(is_redirect_to("https://c.example/cb?extra=1&error=x", uri));
        assert!(!is_redirect_to("https://c.example/cb?error=x", uri));
        assert!(!is_redirect_to(
            "https://c.example/cb/?extra=1",
            "https://c.example/cb"
        ));
        assert!(is_redirect_to(
            "https://c.example/cb?code=1",
            "https://c.example/cb"
        ));
    }

    /// Debug output never shows the code in the redirect.
    #[test]
    fn debug_redacts_the_code() {
        let (params, names) = response_params("https://c.example/cb?code=s3cr3t&state=x");
        let r = AuthResponse {
            ended: Ended::Client,
            status: 303,
            location: "https://c.example/cb?code=s3cr3t&state=x".into(),
            params,
            names,
            trail: Vec::new(),
            request_url: String::new(),
            submissions: 1,
        };
        assert!(!format!("{r:?}").contains("s3cr3t"));
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

    fn button(name: Option<&str>, value: &str, text: &str) -> Button {
        Button {
            name: name.map(str::to_owned),
            value: value.to_owned(),
            text: text.to_owned(),
        }
    }

    /// `approve_button` names a button by its text, its value, or `name=value`, and a
    /// consent form without it gets no button at all (never another one).
    #[test]
    fn approve_button_forms() {
        let allow = button(Some("decision"), "yes", "Allow access");
        assert!(is_wanted(&allow, "Allow access"));
        assert!(is_wanted(&allow, "yes"));
        assert!(is_wanted(&allow, "decision=yes"));
        assert!(!is_wanted(&allow, "decision=no"));
        assert!(!is_wanted(&allow, "Approve"));
        let consent = Form {
            action: String::new(),
            method: "post".into(),
            inputs: Vec::new(),
            buttons: vec![allow, button(Some("decision"), "no", "Deny")],
        };
        let login = |wanted: &str| {
            crate::target::Profile::from_toml(&format!(
                "[login]\ndriver = \"form\"\napprove_button = \"{wanted}\"\n"
            ))
            .ok()
            .and_then(|p| p.login)
        };
        let Some(named) = login("decision=yes") else {
            panic!("the [login] section did not parse");
        };
        assert_eq!(
            pick_button(&consent, &named, true).map(|b| b.value.as_str()),
            Some("yes")
        );
        let Some(absent) = login("Authorize") else {
            panic!("the [login] section did not parse");
        };
        assert!(pick_button(&consent, &absent, true).is_none());
    }
}

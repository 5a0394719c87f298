//! Authorization endpoint and authorization code steps (RFC 6749 §3.1, §4.1, §10.2,
//! §10.12, §10.13; RFC 7636; RFC 9207; RFC 9700 §2.1, §2.6, §4.2.4, §4.11, §4.12,
//! §4.16), driven through the target's login page by the form driver.
//!
//! Every authorization request a step sends leaves `w.auth_response` set to what the
//! user agent saw (a redirect to the client, a redirect elsewhere, or the page it
//! stopped at) and `w.last` to the last exchange, so the assertions can judge error
//! paths as well as successful ones. This file builds and sends the requests and
//! redeems codes; `browser` holds the requests that are not a plain login, `response`
//! the assertions on the answer, `pages` those on the pages and redirects shown.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use cucumber::gherkin::Step;
use cucumber::{given, when};
use sha2::{Digest as _, Sha256};

use super::params::{AuthVariant, ClientParam, UserParam};
use super::token::{parallel, token_request, token_set};
use super::{authenticated_post, endpoint};
use crate::http::{Exchange, Outgoing, encode_pairs, redact_url};
use crate::login::{AuthResponse, Browser, Ended, Visit};
use crate::mismatch::{Check, Mismatch};
use crate::secret::Secret;
use crate::target::ClientRole;
use crate::world::{CodeGrant, OAuthWorld, PkceMode, UserRole};

mod browser;
mod pages;
mod response;

/// A fresh random value: 256 bits, base64url (a valid PKCE verifier, 43 characters).
pub fn random() -> String {
    let mut b = [0u8; 32];
    // The OS generator does not fail on supported platforms; a zeroed value would
    // still produce a well-formed (if predictable) test value.
    let _ = getrandom::fill(&mut b);
    URL_SAFE_NO_PAD.encode(b)
}

/// A random string of `n` unreserved characters (RFC 7636 §4.1 syntax, any length).
pub fn random_of_len(n: usize) -> String {
    let mut s = String::with_capacity(n + 43);
    while s.len() < n {
        s.push_str(&random());
    }
    s.truncate(n);
    s
}

/// `BASE64URL(SHA256(verifier))` (RFC 7636 §4.2).
pub fn s256(verifier: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
}

/// Parameters of an authorization request, the PKCE verifier and the challenge.
type Request = (Vec<(String, String)>, Option<Secret>, Option<String>);

/// PKCE values a step chooses itself instead of the client's PKCE mode.
#[derive(Debug, Clone)]
struct ExplicitPkce {
    verifier: String,
    challenge: String,
    method: Option<&'static str>,
}

/// The default authorization request of a client: code flow, its redirect URI and
/// scope, a fresh state, and PKCE as chosen. Returns the parameters, the verifier and
/// the challenge.
pub(crate) fn default_request(w: &mut OAuthWorld, role: ClientRole) -> Result<Request, Mismatch> {
    let client = w.client(role)?;
    let redirect = client.redirect_uri.clone().ok_or_else(|| {
        Mismatch::not_applicable(format!("[clients.{}] has no redirect_uri", role.key()))
    })?;
    let state = random();
    w.state = Some(state.clone());
    let mut params = vec![
        ("response_type".to_owned(), "code".to_owned()),
        ("client_id".to_owned(), client.id.clone()),
        ("redirect_uri".to_owned(), redirect),
        ("state".to_owned(), state),
    ];
    if let Some(s) = &client.scope {
        params.push(("scope".into(), s.clone()));
    }
    let mode = match w.pkce {
        PkceMode::Auto if w.target().has("pkce") => PkceMode::S256,
        PkceMode::Auto => PkceMode::Off,
        m => m,
    };
    let verifier = random();
    let (verifier, challenge) = match mode {
        PkceMode::Off | PkceMode::Auto => (None, None),
        PkceMode::S256 => {
            let c = s256(&verifier);
            params.push(("code_challenge".into(), c.clone()));
            params.push(("code_challenge_method".into(), "S256".into()));
            (Some(Secret::new(verifier)), Some(c))
        }
        PkceMode::Plain => {
            params.push(("code_challenge".into(), verifier.clone()));
            params.push(("code_challenge_method".into(), "plain".into()));
            (Some(Secret::new(verifier.clone())), Some(verifier))
        }
        PkceMode::PlainImplicit => {
            params.push(("code_challenge".into(), verifier.clone()));
            (Some(Secret::new(verifier.clone())), Some(verifier))
        }
    };
    Ok((params, verifier, challenge))
}

pub(crate) fn authorization_url(
    w: &OAuthWorld,
    params: &[(String, String)],
) -> Result<String, Mismatch> {
    let base = endpoint(w, "authorization")?;
    let sep = if base.contains('?') { '&' } else { '?' };
    Ok(format!("{base}{sep}{}", encode_pairs(params)))
}

/// An authorization request to send through the login page.
struct Authorization<'a> {
    role: ClientRole,
    user: UserRole,
    table: Option<&'a Step>,
    approve: bool,
    pkce: Option<ExplicitPkce>,
    /// A parameter to leave out of the request.
    without: Option<String>,
}

/// Sends an authorization request through the login page and records what the user
/// agent saw, and the code if one came back to the client.
async fn run_authorization(w: &mut OAuthWorld, a: Authorization<'_>) -> Check {
    let (mut defaults, mut verifier, mut challenge) = default_request(w, a.role)?;
    if let Some(p) = &a.pkce {
        defaults.retain(|(k, _)| k != "code_challenge" && k != "code_challenge_method");
        defaults.push(("code_challenge".into(), p.challenge.clone()));
        if let Some(m) = p.method {
            defaults.push(("code_challenge_method".into(), m.into()));
        }
        verifier = Some(Secret::new(p.verifier.clone()));
        challenge = Some(p.challenge.clone());
    }
    let mut params = super::apply_overrides(w, a.role, defaults, a.table)?;
    if let Some(name) = &a.without {
        params.retain(|(k, _)| k != name);
    }
    let redirect_uri = remember_request(w, a.role, &params);
    let first = Outgoing::new(reqwest::Method::GET, authorization_url(w, &params)?);
    let u = w.user(a.user)?;
    let browser = Browser::new(w.ctx.timeout).map_err(login_failed)?;
    let visit = Visit {
        redirect_uri: &redirect_uri,
        user: Some(&u),
        login: &w.target().login,
        approve: a.approve,
        stop_before: None,
    };
    let resp = if w.target().login.driver == crate::target::profile::Driver::Browser {
        // Signed in by the real browser; what the browser was sent to is the answer.
        crate::http::pace::observing_throttle_if(
            w.observe_throttle,
            crate::login::chrome::drive(
                &first.url,
                &redirect_uri,
                Some(&u),
                &w.target().login,
                a.approve,
            ),
        )
        .await
        .map_err(login_failed)?
    } else {
        crate::http::pace::observing_throttle_if(w.observe_throttle, browser.visit(first, &visit))
            .await
            .map_err(login_failed)?
            .0
    };
    let no_deny = resp.ended == Ended::NoDeny;
    record(w, resp);
    w.code = None;
    if no_deny {
        return Err(Mismatch::not_applicable(
            "the user is to deny the request, and the consent page offers a button to approve \
             and none to deny (by the deny words, or [login] approve_button): the target gives \
             the user no way to refuse there",
        ));
    }
    if let Some(code) = w
        .auth_response
        .as_ref()
        .filter(|r| r.to_client())
        .and_then(|r| r.get("code"))
    {
        w.code = Some(CodeGrant {
            code: Secret::new(code),
            client: a.role,
            redirect_uri,
            redirect_uri_sent: params.iter().any(|(k, _)| k == "redirect_uri"),
            verifier,
            challenge,
            issued_at: std::time::Instant::now(),
        });
    }
    Ok(())
}

/// A login that did not lead back to the client: a failure when the target's answer
/// stopped it, an error when the driver or the profile did (the scenario could not
/// reach its check).
pub(crate) fn login_failed(e: crate::login::LoginError) -> Mismatch {
    let driver_side = e.is_driver_side();
    let m = Mismatch::new(
        "the login page to lead back to the client's redirect URI",
        e.to_string(),
    );
    if driver_side { m.into_error() } else { m }
}

/// Remembers what the user agent saw.
fn record(w: &mut OAuthWorld, resp: AuthResponse) {
    if let Some(x) = resp.trail.last() {
        w.last = Some(x.clone());
    }
    w.auth_answers.push(answer_of(&resp));
    w.auth_response = Some(resp);
}

/// What an authorization request ended in, for comparing two answers.
fn answer_of(r: &AuthResponse) -> String {
    match r.ended {
        Ended::Client => match (r.get("error"), r.get("code")) {
            (Some(e), _) => format!("a redirect to the client with error={e}"),
            (None, Some(_)) => "a redirect to the client with a code".to_owned(),
            (None, None) => "a redirect to the client with neither code nor error".to_owned(),
        },
        Ended::OtherSite => "a redirect to another site".to_owned(),
        Ended::Page => "a page without a redirect to the client (an error page)".to_owned(),
        Ended::Stopped => "a form asking for the user's input".to_owned(),
        Ended::NoDeny => "a consent page with no way to deny".to_owned(),
    }
}

/// Logs the user in through the authorization endpoint and records the response (and
/// the code, if one came back).
pub async fn authorize(
    w: &mut OAuthWorld,
    role: ClientRole,
    user: UserRole,
    overrides: Option<&Step>,
    approve: bool,
) -> Check {
    run_authorization(
        w,
        Authorization {
            role,
            user,
            table: overrides,
            approve,
            pkce: None,
            without: None,
        },
    )
    .await
}

/// Remembers the `state` of an authorization request and returns the redirection URI
/// the answer will go to: the one the request names, else the client's registered one.
pub fn remember_request(
    w: &mut OAuthWorld,
    role: ClientRole,
    params: &[(String, String)],
) -> String {
    let get = |name: &str| {
        params
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
    };
    w.state = get("state");
    get("redirect_uri")
        .or_else(|| w.client(role).ok().and_then(|c| c.redirect_uri))
        .unwrap_or_default()
}

/// The token request that redeems the current code (§4.1.3): the code, the
/// `redirect_uri` when the authorization request sent one, and the PKCE verifier.
pub fn redemption_params(w: &OAuthWorld) -> Result<Vec<(String, String)>, Mismatch> {
    let code = w
        .code
        .as_ref()
        .ok_or_else(|| Mismatch::error("no authorization code was obtained"))?;
    let mut params = vec![
        ("grant_type".to_owned(), "authorization_code".to_owned()),
        ("code".to_owned(), code.code.expose().to_owned()),
    ];
    if code.redirect_uri_sent {
        params.push(("redirect_uri".into(), code.redirect_uri.clone()));
    }
    if let Some(v) = &code.verifier {
        params.push(("code_verifier".into(), v.expose().to_owned()));
    }
    Ok(params)
}

/// Redeems the current code (with any overrides) at the token endpoint. A refusal of
/// a code already past the profile's lifetime is noted: it says nothing about the
/// requirement.
async fn redeem(w: &mut OAuthWorld, role: ClientRole, table: Option<&Step>) -> Check {
    let params = redemption_params(w)?;
    let params = super::apply_overrides(w, role, params, table)?;
    let x = token_request(w, role, params, AuthVariant::AsRegistered).await?;
    w.note_stale_code(&x);
    Ok(())
}

/// How [`request_user_tokens`] asks for user tokens.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenWay {
    /// The authorization code grant through the login page, else the password grant.
    CodeFirst,
    /// The password grant when the client has it (no login page), else the code grant.
    PasswordFirst,
}

/// Sends the token request that obtains tokens for a user: the redemption of a code
/// from the login page, or a password grant request (with the client's profile scope
/// unless `scope` is given). The answer is left as the last exchange, unjudged. Returns
/// whether it was a code redemption. A login that does not end in a code is a failed
/// check here; a step that only prepares its check turns it into an error.
pub async fn request_user_tokens(
    w: &mut OAuthWorld,
    role: ClientRole,
    user: UserRole,
    scope: Option<String>,
    way: TokenWay,
) -> Result<bool, Mismatch> {
    let client = w.client(role)?;
    let t = w.target();
    let by_code =
        t.has("login") && client.has_grant("authorization_code") && client.redirect_uri.is_some();
    let by_password = client.has_grant("password");
    let by_code = by_code && !(way == TokenWay::PasswordFirst && by_password);
    if by_code {
        let (mut defaults, verifier, challenge) = default_request(w, role)?;
        if let Some(s) = &scope {
            defaults.retain(|(k, _)| k != "scope");
            defaults.push(("scope".into(), s.clone()));
        }
        let redirect_uri = client.redirect_uri.clone().unwrap_or_default();
        let url = authorization_url(w, &defaults)?;
        let u = w.user(user)?;
        let resp = crate::login::drive(
            &url,
            &redirect_uri,
            &u,
            &w.target().login,
            w.ctx.timeout,
            true,
        )
        .await
        .map_err(|e| Mismatch::new("a login that ends with a code", e.to_string()))?;
        let code = resp.get("code").ok_or_else(|| {
            Mismatch::new(
                "an authorization code",
                format!(
                    "a redirect without code: error={:?} error_description={:?}",
                    resp.get("error"),
                    resp.get("error_description")
                ),
            )
        })?;
        w.code = Some(CodeGrant {
            code: Secret::new(code),
            client: role,
            redirect_uri,
            redirect_uri_sent: true,
            verifier,
            challenge,
            issued_at: std::time::Instant::now(),
        });
        w.auth_response = Some(resp);
        redeem(w, role, None).await?;
        Ok(true)
    } else if by_password {
        let u = w.user(user)?;
        let mut params = vec![
            ("grant_type".to_owned(), "password".to_owned()),
            ("username".to_owned(), u.username.clone()),
            ("password".to_owned(), u.password.expose().to_owned()),
        ];
        if let Some(s) = &scope {
            params.push(("scope".into(), s.clone()));
        }
        let params = super::token::with_profile_scope(w, role, params)?;
        token_request(w, role, params, AuthVariant::AsRegistered).await?;
        Ok(false)
    } else {
        let code_way = if !t.has("login") {
            "the profile describes no login".to_owned()
        } else if client.redirect_uri.is_none() {
            format!("[clients.{}] has no redirect_uri", role.key())
        } else {
            client
                .needs_grant("authorization_code")
                .err()
                .unwrap_or_default()
        };
        Err(Mismatch::not_applicable(format!(
            "no way to obtain user tokens for [clients.{}]: not by the code grant ({code_way}), \
             not by the password grant ({})",
            role.key(),
            client.needs_grant("password").err().unwrap_or_default()
        )))
    }
}

/// Obtains tokens for a user the best way the target allows: the authorization code
/// grant through the login page, else the password grant.
pub async fn obtain_tokens(
    w: &mut OAuthWorld,
    role: ClientRole,
    user: UserRole,
    scope: Option<String>,
) -> Check {
    let by_code = request_user_tokens(w, role, user, scope.clone(), TokenWay::CodeFirst).await?;
    let x = w.last()?.clone();
    let note = if by_code {
        w.code
            .as_ref()
            .and_then(|c| c.expired_note(w.target().code_lifetime))
    } else {
        None
    };
    // The requested scope: the one given, else what the password request sent.
    let requested = if by_code { scope } else { w.last_scope.clone() };
    let t = token_set(&x, role, requested).map_err(|m| match &note {
        Some(n) => m.with_note(n).into_error(),
        None => m,
    })?;
    w.remember(t);
    Ok(())
}

#[given(expr = "the {client} client uses PKCE with S256")]
async fn pkce_s256(w: &mut OAuthWorld, _c: ClientParam) {
    w.pkce = PkceMode::S256;
}

#[given(expr = "the {client} client uses PKCE with plain")]
async fn pkce_plain(w: &mut OAuthWorld, _c: ClientParam) {
    w.pkce = PkceMode::Plain;
}

#[given(expr = "the {client} client uses a PKCE challenge without a method")]
async fn pkce_implicit(w: &mut OAuthWorld, _c: ClientParam) {
    w.pkce = PkceMode::PlainImplicit;
}

#[given(expr = "the {client} client does not use PKCE")]
async fn pkce_off(w: &mut OAuthWorld, _c: ClientParam) {
    w.pkce = PkceMode::Off;
}

#[given(expr = "the {client} client has tokens for the {user} user")]
async fn has_tokens(w: &mut OAuthWorld, c: ClientParam, u: UserParam) -> Check {
    obtain_tokens(w, c.0, u.0, None).await
}

/// The request that obtains user tokens, as the check itself (R11: the client's
/// authentication is what is judged): the login that prepares it is not under test, so
/// its failure is an error; the token endpoint's answer is left to the `Then`.
#[when(expr = "the {client} client requests tokens for the {user} user")]
async fn requests_tokens(w: &mut OAuthWorld, c: ClientParam, u: UserParam) -> Check {
    request_user_tokens(w, c.0, u.0, None, TokenWay::CodeFirst)
        .await
        .map(drop)
        .map_err(Mismatch::into_error)
}

#[given(expr = "the {client} client has tokens for the {user} user with scope {string}")]
async fn has_tokens_scope(
    w: &mut OAuthWorld,
    c: ClientParam,
    u: UserParam,
    scope: String,
) -> Check {
    obtain_tokens(w, c.0, u.0, Some(scope)).await
}

#[given(expr = "the {client} client has tokens for the {user} user with the insufficient scope")]
async fn has_tokens_insufficient(w: &mut OAuthWorld, c: ClientParam, u: UserParam) -> Check {
    let scope = w
        .target()
        .resource
        .as_ref()
        .and_then(|r| r.insufficient_scope.clone())
        .ok_or_else(|| {
            Mismatch::not_applicable("the profile has no resource.insufficient_scope")
        })?;
    obtain_tokens(w, c.0, u.0, Some(scope)).await
}

#[given(expr = "the {client} client has an authorization code for the {user} user")]
async fn has_code(w: &mut OAuthWorld, c: ClientParam, u: UserParam) -> Check {
    authorize(w, c.0, u.0, None, true).await?;
    if w.code.is_none() {
        return Err(match (&w.auth_response, &w.last) {
            (Some(r), _) if r.left_site() => Mismatch::new(
                "an authorization code",
                format!(
                    "a redirect to {} with error={:?}",
                    redact_url(&r.location),
                    r.get("error")
                ),
            ),
            (_, Some(x)) => Mismatch::in_exchange(
                "an authorization code",
                format!("status {} without a redirect to the client", x.status),
                x,
            ),
            _ => Mismatch::new("an authorization code", "no response"),
        });
    }
    Ok(())
}

#[when(expr = "the {client} client sends the {user} user to the authorization endpoint")]
async fn send_user(w: &mut OAuthWorld, c: ClientParam, u: UserParam) -> Check {
    authorize(w, c.0, u.0, None, true).await
}

#[when(
    expr = "the {client} client sends the {user} user to the authorization endpoint and the user denies"
)]
async fn send_user_deny(w: &mut OAuthWorld, c: ClientParam, u: UserParam) -> Check {
    authorize(w, c.0, u.0, None, false).await
}

#[when(expr = "the {client} client sends the {user} user to the authorization endpoint with:")]
async fn send_user_with(w: &mut OAuthWorld, c: ClientParam, u: UserParam, step: &Step) -> Check {
    authorize(w, c.0, u.0, Some(step), true).await
}

#[when(
    expr = "the {client} client sends the {user} user to the authorization endpoint without {string}"
)]
async fn send_user_without(
    w: &mut OAuthWorld,
    c: ClientParam,
    u: UserParam,
    name: String,
) -> Check {
    run_authorization(
        w,
        Authorization {
            role: c.0,
            user: u.0,
            table: None,
            approve: true,
            pkce: None,
            without: Some(name),
        },
    )
    .await
}

#[when(
    expr = "the {client} client sends the {user} user to the authorization endpoint with an S256 challenge of a {int}-character verifier"
)]
async fn send_user_verifier_len(
    w: &mut OAuthWorld,
    c: ClientParam,
    u: UserParam,
    n: usize,
) -> Check {
    let verifier = random_of_len(n);
    let pkce = ExplicitPkce {
        challenge: s256(&verifier),
        verifier,
        method: Some("S256"),
    };
    approve_with_pkce(w, c, u, pkce).await
}

#[when(
    expr = "the {client} client sends the {user} user to the authorization endpoint with an S256-transformed challenge but no method"
)]
async fn send_user_s256_no_method(w: &mut OAuthWorld, c: ClientParam, u: UserParam) -> Check {
    let verifier = random();
    let pkce = ExplicitPkce {
        challenge: s256(&verifier),
        verifier,
        method: None,
    };
    approve_with_pkce(w, c, u, pkce).await
}

/// The user approves an authorization request carrying this PKCE challenge.
async fn approve_with_pkce(
    w: &mut OAuthWorld,
    c: ClientParam,
    u: UserParam,
    pkce: ExplicitPkce,
) -> Check {
    run_authorization(
        w,
        Authorization {
            role: c.0,
            user: u.0,
            table: None,
            approve: true,
            pkce: Some(pkce),
            without: None,
        },
    )
    .await
}

#[when(expr = "the {client} client redeems the authorization code")]
async fn redeem_code(w: &mut OAuthWorld, c: ClientParam) -> Check {
    redeem(w, c.0, None).await
}

/// Redeems the code of the last authorization request, if it brought one, and keeps
/// what the token endpoint answered (or that there was no code) for comparison.
#[when(expr = "the {client} client redeems the authorization code, if one came back")]
async fn redeem_if_any(w: &mut OAuthWorld, c: ClientParam) -> Check {
    if w.code.is_none() {
        w.token_answers.push("no code to redeem".to_owned());
        return Ok(());
    }
    redeem(w, c.0, None).await?;
    let answer = super::token::token_answer(w.last()?);
    w.token_answers.push(answer);
    Ok(())
}

/// Redeems the code with every percent-escape of the body in lower-case hex: a form
/// body means the same octets either way (RFC 3986 §2.1).
#[when(
    expr = "the {client} client redeems the authorization code with lower-case percent-encoding"
)]
async fn redeem_lowercase(w: &mut OAuthWorld, c: ClientParam) -> Check {
    let params = redemption_params(w)?;
    let mut out = super::token::token_post(w, c.0, params, AuthVariant::AsRegistered)?;
    let Some((kind, body)) = out.body.take() else {
        return Err(Mismatch::error("the redemption has no body"));
    };
    let body = String::from_utf8_lossy(&body).into_owned();
    let lowered = crate::http::lowercase_escapes(&body);
    if lowered == body {
        // Without redirect_uri (a client with one registered URI) and with a code
        // that needs no escaping, the profile gives nothing to write in lower case.
        return Err(Mismatch::not_applicable(
            "the redemption has no percent-escape with a letter (no redirect_uri is sent, and the code needs no escaping), so nothing can be written in lower case",
        ));
    }
    out = out.raw_body(&kind, lowered.into_bytes());
    let x = super::send(w, out).await?;
    w.note_stale_code(&x);
    Ok(())
}

#[when(expr = "the {client} client redeems the authorization code with:")]
async fn redeem_code_with(w: &mut OAuthWorld, c: ClientParam, step: &Step) -> Check {
    redeem(w, c.0, Some(step)).await
}

#[when(expr = "the {client} client redeems the authorization code {int} times in parallel")]
async fn redeem_parallel(w: &mut OAuthWorld, c: ClientParam, n: usize) -> Check {
    let params = redemption_params(w)?;
    let client = w.client(c.0)?;
    let url = endpoint(w, "token")?;
    let out = authenticated_post(&url, &client, params, AuthVariant::AsRegistered);
    parallel(w, out, n).await;
    w.last_client = Some(c.0);
    // Every redemption refused a code already past its lifetime: that says nothing.
    if let Some(x) = w
        .batch
        .iter()
        .filter_map(|r| r.as_ref().ok())
        .next()
        .cloned()
    {
        if w.batch.iter().flatten().all(|x| x.status != 200) {
            w.note_stale_code(&x);
        }
    }
    Ok(())
}

#[when(expr = "the client waits until the authorization code has expired")]
async fn wait_code_expiry(w: &mut OAuthWorld) -> Check {
    let lifetime = w
        .target()
        .code_lifetime
        .ok_or_else(|| Mismatch::not_applicable("the profile gives no [lifetimes].code"))?;
    w.expiry_intended = true;
    tokio::time::sleep(std::time::Duration::from_secs(lifetime + 1)).await;
    Ok(())
}

/// What the user agent saw of the last authorization request.
fn seen(w: &OAuthWorld) -> Result<&AuthResponse, Mismatch> {
    w.auth_response
        .as_ref()
        .ok_or_else(|| Mismatch::error("no authorization request was sent through a browser"))
}

/// The redirect to the client, or a mismatch saying where the request ended instead.
fn response(w: &OAuthWorld) -> Result<&AuthResponse, Mismatch> {
    let r = seen(w)?;
    match (r.ended, r.trail.last()) {
        (Ended::Client, _) => Ok(r),
        (Ended::OtherSite, Some(x)) => Err(Mismatch::in_exchange(
            "a redirect back to the client's redirection URI",
            format!("a redirect to {}", redact_url(&r.location)),
            x,
        )),
        (_, Some(x)) => Err(Mismatch::in_exchange(
            "a redirect back to the client",
            format!("status {} without a redirect to the client", x.status),
            x,
        )),
        (_, None) => Err(Mismatch::error("no authorization request was sent")),
    }
}

fn last_of(r: &AuthResponse) -> Result<&Exchange, Mismatch> {
    r.trail
        .last()
        .ok_or_else(|| Mismatch::error("no authorization request was sent"))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A login the driver or the profile stopped is an error (the check was not
    /// reached); one the target's answer stopped stays a failure.
    #[test]
    fn login_failures_by_side() {
        use crate::login::LoginError;
        use crate::mismatch::Kind;
        let driver = [
            LoginError::Driver("the browser stopped answering".into()),
            LoginError::NeedsScript("http://as.example/login".into()),
            LoginError::Popup("http://as.example/popup".into()),
            LoginError::BrowserLeft("http://idp.example/".into()),
            LoginError::LeftSite("http://idp.example/".into()),
            LoginError::BrowserStopped {
                url: "http://as.example/".into(),
                why: "no field".into(),
                excerpt: String::new(),
                screenshot: None,
            },
        ];
        for e in driver {
            let what = e.to_string();
            assert_eq!(login_failed(e).kind, Kind::Error, "{what}");
        }
        let target = [
            LoginError::Send("the connection closed before a response came".into()),
            LoginError::Rejected("http://as.example/login".into()),
        ];
        for e in target {
            let what = e.to_string();
            assert_eq!(login_failed(e).kind, Kind::Failed, "{what}");
        }
    }

    /// Verifiers of any length use only unreserved characters.
    #[test]
    fn verifier_lengths() {
        for n in [42, 43, 128, 129] {
            let v = random_of_len(n);
            assert_eq!(v.len(), n);
            assert!(
                v.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~'))
            );
        }
    }
}

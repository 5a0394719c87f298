//! Authorization endpoint and authorization code steps (RFC 6749 §3.1, §4.1; RFC 7636;
//! RFC 9207), driven through the target's login page by the form driver.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use cucumber::gherkin::Step;
use cucumber::{given, then, when};
use sha2::{Digest as _, Sha256};

use super::params::{AuthVariant, ClientParam, ErrorParam, UserParam};
use super::token::{parallel, password_tokens, token_request, token_set};
use super::{apply_overrides, authenticated_post, endpoint, send};
use crate::http::{Outgoing, encode_pairs};
use crate::login::{AuthResponse, drive, form::response_params};
use crate::mismatch::{Check, Mismatch, ensure};
use crate::secret::Secret;
use crate::target::{ClientRole, origin};
use crate::world::{CodeGrant, OAuthWorld, PkceMode, UserRole};

/// A fresh random value: 256 bits, base64url (a valid PKCE verifier, 43 characters).
pub fn random() -> String {
    let mut b = [0u8; 32];
    // The OS generator does not fail on supported platforms; a zeroed value would
    // still produce a well-formed (if predictable) test value.
    let _ = getrandom::fill(&mut b);
    URL_SAFE_NO_PAD.encode(b)
}

/// `BASE64URL(SHA256(verifier))` (RFC 7636 §4.2).
pub fn s256(verifier: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
}

/// Parameters of an authorization request, the PKCE verifier and the challenge.
type Request = (Vec<(String, String)>, Option<Secret>, Option<String>);

/// The default authorization request of a client: code flow, its redirect URI and
/// scope, a fresh state, and PKCE as chosen. Returns the parameters, the verifier and
/// the challenge.
fn default_request(w: &mut OAuthWorld, role: ClientRole) -> Result<Request, Mismatch> {
    let client = w.client(role)?;
    let redirect = client
        .redirect_uri
        .clone()
        .ok_or_else(|| Mismatch::cannot(format!("[clients.{}] has no redirect_uri", role.key())))?;
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

fn authorization_url(w: &OAuthWorld, params: &[(String, String)]) -> Result<String, Mismatch> {
    let base = endpoint(w, "authorization")?;
    let sep = if base.contains('?') { '&' } else { '?' };
    Ok(format!("{base}{sep}{}", encode_pairs(params)))
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
    let (defaults, verifier, challenge) = default_request(w, role)?;
    let params = match overrides {
        Some(step) => apply_overrides(w, role, defaults, step)?,
        None => defaults,
    };
    if let Some((_, s)) = params.iter().find(|(k, _)| k == "state") {
        w.state = Some(s.clone());
    } else {
        w.state = None;
    }
    let redirect_uri = params
        .iter()
        .find(|(k, _)| k == "redirect_uri")
        .map(|(_, v)| v.clone())
        .or_else(|| w.client(role).ok().and_then(|c| c.redirect_uri))
        .unwrap_or_default();
    let url = authorization_url(w, &params)?;
    let u = w.user(user)?;
    let resp = drive(
        &url,
        &redirect_uri,
        &u,
        &w.target().login,
        w.ctx.timeout,
        approve,
    )
    .await
    .map_err(|e| {
        Mismatch::new(
            "the login page to lead back to the client's redirect URI",
            e.to_string(),
        )
    })?;
    if let Some(x) = resp.trail.last() {
        w.last = Some(x.clone());
    }
    if let Some(code) = resp.get("code") {
        w.code = Some(CodeGrant {
            code: Secret::new(code),
            client: role,
            redirect_uri: redirect_uri.clone(),
            redirect_uri_sent: params.iter().any(|(k, _)| k == "redirect_uri"),
            verifier,
            challenge,
        });
    }
    w.auth_response = Some(resp);
    Ok(())
}

/// Redeems the current code (with any overrides) at the token endpoint.
async fn redeem(w: &mut OAuthWorld, role: ClientRole, overrides: Option<&Step>) -> Check {
    let code = w
        .code
        .clone()
        .ok_or_else(|| Mismatch::cannot("no authorization code was obtained"))?;
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
    let params = match overrides {
        Some(step) => apply_overrides(w, role, params, step)?,
        None => params,
    };
    token_request(w, role, params, AuthVariant::AsRegistered).await?;
    Ok(())
}

/// Obtains tokens for a user the best way the target allows: the authorization code
/// grant through the login page, else the password grant.
pub async fn obtain_tokens(
    w: &mut OAuthWorld,
    role: ClientRole,
    user: UserRole,
    scope: Option<String>,
) -> Check {
    let client = w.client(role)?;
    let t = w.target();
    if t.has("login") && t.has("authorization_code") && client.redirect_uri.is_some() {
        let (mut defaults, verifier, challenge) = default_request(w, role)?;
        if let Some(s) = &scope {
            defaults.retain(|(k, _)| k != "scope");
            defaults.push(("scope".into(), s.clone()));
        }
        let redirect_uri = client.redirect_uri.clone().unwrap_or_default();
        let url = authorization_url(w, &defaults)?;
        let u = w.user(user)?;
        let resp = drive(
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
                format!("a redirect without code: error={:?}", resp.get("error")),
            )
        })?;
        w.code = Some(CodeGrant {
            code: Secret::new(code),
            client: role,
            redirect_uri,
            redirect_uri_sent: true,
            verifier,
            challenge,
        });
        w.auth_response = Some(resp);
        redeem(w, role, None).await?;
        let x = w.last()?.clone();
        let t = token_set(&x, role, scope)?;
        w.remember(t);
        Ok(())
    } else if t.has("password") {
        password_tokens(w, role, user, scope).await
    } else {
        Err(Mismatch::cannot(
            "the target offers neither a login page with the code grant nor the password grant",
        ))
    }
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
        .ok_or_else(|| Mismatch::cannot("the profile has no resource.insufficient_scope"))?;
    obtain_tokens(w, c.0, u.0, Some(scope)).await
}

#[given(expr = "the {client} client has an authorization code for the {user} user")]
async fn has_code(w: &mut OAuthWorld, c: ClientParam, u: UserParam) -> Check {
    authorize(w, c.0, u.0, None, true).await?;
    if w.code.is_none() {
        let resp = w
            .auth_response
            .as_ref()
            .map(|r| format!("a redirect with error={:?}", r.get("error")));
        return Err(Mismatch::new(
            "an authorization code",
            resp.unwrap_or_else(|| "no response".into()),
        ));
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

#[when(expr = "the {client} client sends the user to the authorization endpoint with:")]
async fn front_channel(w: &mut OAuthWorld, c: ClientParam, step: &Step) -> Check {
    let (defaults, _, _) = default_request(w, c.0)?;
    let params = apply_overrides(w, c.0, defaults, step)?;
    w.state = params
        .iter()
        .find(|(k, _)| k == "state")
        .map(|(_, v)| v.clone());
    let url = authorization_url(w, &params)?;
    let x = send(w, Outgoing::new(reqwest::Method::GET, url.clone())).await?;
    w.auth_response = None;
    if (300..400).contains(&x.status) {
        if let Some(loc) = x.header("location") {
            let loc = crate::login::form::resolve(&url, loc);
            let (p, names) = response_params(&loc);
            w.auth_response = Some(AuthResponse {
                status: x.status,
                location: loc,
                params: p,
                names,
                trail: vec![x.clone()],
            });
        }
    }
    Ok(())
}

#[when(expr = "the {client} client redeems the authorization code")]
async fn redeem_code(w: &mut OAuthWorld, c: ClientParam) -> Check {
    redeem(w, c.0, None).await
}

#[when(expr = "the {client} client redeems the authorization code with:")]
async fn redeem_code_with(w: &mut OAuthWorld, c: ClientParam, step: &Step) -> Check {
    redeem(w, c.0, Some(step)).await
}

#[when(expr = "the {client} client redeems the authorization code {int} times in parallel")]
async fn redeem_parallel(w: &mut OAuthWorld, c: ClientParam, n: usize) -> Check {
    let code = w
        .code
        .clone()
        .ok_or_else(|| Mismatch::cannot("no authorization code was obtained"))?;
    let client = w.client(c.0)?;
    let url = endpoint(w, "token")?;
    let mut params = vec![
        ("grant_type".to_owned(), "authorization_code".to_owned()),
        ("code".to_owned(), code.code.expose().to_owned()),
        ("redirect_uri".to_owned(), code.redirect_uri.clone()),
    ];
    if let Some(v) = &code.verifier {
        params.push(("code_verifier".into(), v.expose().to_owned()));
    }
    let out = authenticated_post(&url, &client, params, AuthVariant::AsRegistered);
    parallel(w, out, n).await;
    w.last_client = Some(c.0);
    Ok(())
}

#[when(expr = "the client waits until the authorization code has expired")]
async fn wait_code_expiry(w: &mut OAuthWorld) -> Check {
    let lifetime = w
        .target()
        .code_lifetime
        .ok_or_else(|| Mismatch::cannot("the profile gives no [lifetimes].code"))?;
    tokio::time::sleep(std::time::Duration::from_secs(lifetime + 1)).await;
    Ok(())
}

#[then(expr = "the tokens of the successful parallel request no longer work")]
async fn winner_revoked(w: &mut OAuthWorld) -> Check {
    let role = w.last_client.unwrap_or(ClientRole::ConfidentialBasic);
    let winner = w
        .batch
        .iter()
        .filter_map(|r| r.as_ref().ok())
        .find(|x| x.status == 200)
        .cloned();
    let Some(x) = winner else { return Ok(()) };
    let t = token_set(&x, role, None)?;
    let access = t
        .access
        .clone()
        .ok_or_else(|| Mismatch::cannot("no access token"))?;
    let resp = super::resource::call_with(w, access.expose()).await?;
    ensure(
        resp.status == 401,
        "the access token from the one successful redemption revoked once the code was reused (RFC 6749 §4.1.2)",
        || format!("status {} from the resource", resp.status),
        &resp,
    )
}

fn response(w: &OAuthWorld) -> Result<&AuthResponse, Mismatch> {
    w.auth_response.as_ref().ok_or_else(|| match &w.last {
        Some(x) => Mismatch::in_exchange(
            "a redirect back to the client",
            format!("status {} without a redirect to the client", x.status),
            x,
        ),
        None => Mismatch::cannot("no authorization request was sent"),
    })
}

#[then(expr = "the user sees an error page and is not redirected")]
async fn error_page(w: &mut OAuthWorld) -> Check {
    let x = w.last()?;
    let site = w
        .target()
        .endpoints
        .authorization
        .as_deref()
        .map(origin)
        .unwrap_or_default();
    let location = x.header("location").map(str::to_owned);
    let off_site = location
        .as_deref()
        .is_some_and(|l| l.contains("://") && origin(l) != site);
    ensure(
        !((300..400).contains(&x.status) && off_site),
        "no redirect away from the authorization server (RFC 6749 §4.1.2.1: MUST NOT automatically redirect)",
        || {
            format!(
                "status {} to {}",
                x.status,
                crate::http::redact_url(location.as_deref().unwrap_or(""))
            )
        },
        x,
    )?;
    ensure(
        x.status >= 400 || x.status == 200,
        "an error page for the user",
        || format!("status {}", x.status),
        x,
    )
}

#[then(expr = "the client receives an authorization code")]
async fn receives_code(w: &mut OAuthWorld) -> Check {
    let r = response(w)?;
    if r.get("code").is_some_and(|c| !c.is_empty()) && r.get("error").is_none() {
        return Ok(());
    }
    Err(Mismatch::new(
        "a redirect with a code",
        format!("a redirect with error={:?}", r.get("error")),
    ))
}

#[then(expr = "the client receives the error {error}")]
async fn receives_error(w: &mut OAuthWorld, e: ErrorParam) -> Check {
    let r = response(w)?;
    let got = r.get("error");
    if got == Some(e.0.as_str()) && r.get("code").is_none() {
        return Ok(());
    }
    Err(Mismatch::new(
        format!("a redirect with error={}", e.0),
        match got {
            Some(g) => format!("error={g}"),
            None => "a redirect with a code".into(),
        },
    ))
}

#[then(expr = "the authorization response carries the state unchanged")]
async fn state_unchanged(w: &mut OAuthWorld) -> Check {
    let r = response(w)?;
    let sent = w.state.clone();
    if sent.is_some() && r.get("state") == sent.as_deref() {
        return Ok(());
    }
    Err(Mismatch::new(
        format!("state={sent:?}"),
        format!("state={:?}", r.get("state")),
    ))
}

#[then(expr = "the authorization response carries the issuer")]
async fn carries_iss(w: &mut OAuthWorld) -> Check {
    let r = response(w)?;
    let issuer = w.target().issuer.clone();
    let iss = r.get("iss").map(|s| s.trim_end_matches('/').to_owned());
    if iss.is_some() && iss == issuer {
        return Ok(());
    }
    Err(Mismatch::new(
        format!("iss={issuer:?} (RFC 9207 §2)"),
        format!("iss={:?}", r.get("iss")),
    ))
}

#[then(expr = "the authorization redirect does not use status 307 or 308")]
async fn not_307(w: &mut OAuthWorld) -> Check {
    let r = response(w)?;
    if r.status == 307 || r.status == 308 {
        return Err(Mismatch::new(
            "a 302 or 303 redirect (RFC 9700 §4.12)",
            format!("status {}", r.status),
        ));
    }
    Ok(())
}

#[then(expr = "each parameter appears once in the authorization response")]
async fn once_each(w: &mut OAuthWorld) -> Check {
    let r = response(w)?;
    let mut seen = std::collections::BTreeSet::new();
    for n in &r.names {
        if !seen.insert(n) {
            return Err(Mismatch::new(
                "each response parameter once (RFC 6749 §3.1)",
                format!("{n} repeated"),
            ));
        }
    }
    Ok(())
}

#[then(expr = "the redirect keeps the query of the registered redirect URI")]
async fn keeps_query(w: &mut OAuthWorld) -> Check {
    let r = response(w)?;
    let sent = w
        .code
        .as_ref()
        .map(|c| c.redirect_uri.clone())
        .unwrap_or_default();
    let Some((_, q)) = sent.split_once('?') else {
        return Err(Mismatch::cannot("the redirect URI in use has no query"));
    };
    for (k, v) in crate::http::decode_pairs(q) {
        if r.get(&k) != Some(v.as_str()) {
            return Err(Mismatch::new(
                format!("{k}={v} kept from the registered URI (RFC 6749 §3.1.2)"),
                format!("{k}={:?}", r.get(&k)),
            ));
        }
    }
    Ok(())
}

//! Token endpoint steps (RFC 6749 §2.3, §3.2, §3.3, §4.3, §4.4, §5, §6, §10.10; RFC 9700
//! §4.14.2): requests for each grant, and checks on token responses, scope and entropy.

use cucumber::gherkin::Step;
use cucumber::{given, then, when};
use serde_json::Value;

use super::entropy::{VSCHAR_BITS, alphabet_bits};
use super::params::{AuthVariant, ClientParam, UserParam};
use super::{apply_overrides, authenticated_post, endpoint, send, table_params};
use crate::http::{Exchange, Outgoing};
use crate::mismatch::{Check, Mismatch, ensure};
use crate::secret::Secret;
use crate::target::{AuthMethod, ClientRole};
use crate::world::{OAuthWorld, TokenSet, UserRole};

/// Sends a token request for a client with the given parameters and authentication.
pub async fn token_request(
    w: &mut OAuthWorld,
    role: ClientRole,
    params: Vec<(String, String)>,
    variant: AuthVariant,
) -> Result<Exchange, Mismatch> {
    let out = token_post(w, role, params, variant)?;
    send(w, out).await
}

/// The token request [`token_request`] sends, built but not sent (for a step that
/// changes its encoding); the client and the requested scope are noted for the
/// checks that follow.
pub fn token_post(
    w: &mut OAuthWorld,
    role: ClientRole,
    params: Vec<(String, String)>,
    variant: AuthVariant,
) -> Result<Outgoing, Mismatch> {
    let client = w.client(role)?;
    let url = endpoint(w, "token")?;
    w.last_client = Some(role);
    w.last_scope = params
        .iter()
        .find(|(k, _)| k == "scope")
        .map(|(_, v)| v.clone());
    Ok(authenticated_post(&url, &client, params, variant))
}

/// Reads a successful token response (§5.1) into a token set, or says why it is not one.
pub fn token_set(
    x: &Exchange,
    role: ClientRole,
    requested_scope: Option<String>,
) -> Result<TokenSet, Mismatch> {
    if x.status != 200 {
        return Err(Mismatch::in_exchange(
            "a 200 token response",
            x.status_text(),
            x,
        ));
    }
    let Some(json) = x.json().filter(Value::is_object) else {
        return Err(Mismatch::in_exchange(
            "a JSON object body (RFC 6749 §5.1)",
            x.body_kind(),
            x,
        ));
    };
    let access = json
        .get("access_token")
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty());
    if access.is_none() {
        return Err(Mismatch::in_exchange("an access_token member", "none", x));
    }
    Ok(TokenSet {
        client: role,
        access: access.map(Secret::new),
        refresh: json
            .get("refresh_token")
            .and_then(Value::as_str)
            .map(Secret::new),
        scope: json.get("scope").and_then(Value::as_str).map(str::to_owned),
        requested_scope,
        issued_at: x.received_at,
        expires_in: json.get("expires_in").and_then(Value::as_u64),
    })
}

/// `params` with the client's profile `scope` added, when the profile gives one: what
/// the code flow's authorization request sends. RFC 6749 §3.3 lets a server refuse a
/// request without scope ("fail the request indicating an invalid scope"); only the
/// scenarios about omitting scope (R29a) may leave it out, or a server that requires a
/// scope is failed on requirements it meets.
pub fn with_profile_scope(
    w: &OAuthWorld,
    role: ClientRole,
    mut params: Vec<(String, String)>,
) -> Result<Vec<(String, String)>, Mismatch> {
    if params.iter().any(|(k, _)| k == "scope") {
        return Ok(params);
    }
    if let Some(s) = w.client(role)?.scope.filter(|s| !s.is_empty()) {
        params.push(("scope".to_owned(), s));
    }
    Ok(params)
}

/// The parameters of a client credentials request (§4.4.2): `grant_type` and the
/// client's profile scope.
pub fn client_credentials_params(
    w: &OAuthWorld,
    role: ClientRole,
) -> Result<Vec<(String, String)>, Mismatch> {
    let params = vec![("grant_type".to_owned(), "client_credentials".to_owned())];
    with_profile_scope(w, role, params)
}

/// Obtains tokens with the password grant and remembers them.
pub async fn password_tokens(
    w: &mut OAuthWorld,
    role: ClientRole,
    user: UserRole,
    scope: Option<String>,
) -> Check {
    let u = w.user(user)?;
    let mut params = vec![
        ("grant_type".to_owned(), "password".to_owned()),
        ("username".to_owned(), u.username.clone()),
        ("password".to_owned(), u.password.expose().to_owned()),
    ];
    if let Some(s) = &scope {
        params.push(("scope".into(), s.clone()));
    }
    let x = token_request(w, role, params, AuthVariant::AsRegistered).await?;
    let t = token_set(&x, role, scope)?;
    w.remember(t);
    Ok(())
}

#[when(expr = "the {client} client requests a token with the password grant for the {user} user")]
async fn password(w: &mut OAuthWorld, c: ClientParam, u: UserParam) -> Check {
    let user = w.user(u.0)?;
    let params = vec![
        ("grant_type".to_owned(), "password".to_owned()),
        ("username".to_owned(), user.username.clone()),
        ("password".to_owned(), user.password.expose().to_owned()),
    ];
    // The scope the profile gives the client, as the authorization request sends it:
    // without it the server grants its own default scope (RFC 6749 §3.3), which need
    // not be enough for the resource.
    let params = with_profile_scope(w, c.0, params)?;
    token_request(w, c.0, params, AuthVariant::AsRegistered).await?;
    Ok(())
}

#[when(
    expr = "the {client} client requests a token with the password grant for the {user} user and scope {string}"
)]
async fn password_scope(w: &mut OAuthWorld, c: ClientParam, u: UserParam, scope: String) -> Check {
    let user = w.user(u.0)?;
    let params = vec![
        ("grant_type".to_owned(), "password".to_owned()),
        ("username".to_owned(), user.username.clone()),
        ("password".to_owned(), user.password.expose().to_owned()),
        ("scope".to_owned(), scope),
    ];
    token_request(w, c.0, params, AuthVariant::AsRegistered).await?;
    Ok(())
}

#[when(expr = "the {client} client requests a token with the client credentials grant")]
async fn client_credentials(w: &mut OAuthWorld, c: ClientParam) -> Check {
    let params = client_credentials_params(w, c.0)?;
    token_request(w, c.0, params, AuthVariant::AsRegistered).await?;
    Ok(())
}

#[when(
    expr = "the {client} client requests a token with the client credentials grant and scope {string}"
)]
async fn client_credentials_scope(w: &mut OAuthWorld, c: ClientParam, scope: String) -> Check {
    let params = vec![
        ("grant_type".to_owned(), "client_credentials".to_owned()),
        ("scope".to_owned(), scope),
    ];
    token_request(w, c.0, params, AuthVariant::AsRegistered).await?;
    Ok(())
}

/// The refresh token the client holds now: the newest one issued. A server that does
/// not rotate issues none on refresh, and the client keeps using the old one (§6).
pub fn current_refresh(w: &OAuthWorld) -> Result<Secret, Mismatch> {
    w.tokens
        .iter()
        .chain(w.earlier_tokens.iter().rev())
        .find_map(|t| t.refresh.clone())
        .ok_or_else(|| match &w.tokens {
            Some(t) => w.no_refresh_token(t.client),
            None => Mismatch::error("no tokens were obtained before this step"),
        })
}

/// The parameters of a refresh request (§6) for a refresh token.
pub fn refresh_params(rt: &Secret) -> Vec<(String, String)> {
    vec![
        ("grant_type".to_owned(), "refresh_token".to_owned()),
        ("refresh_token".to_owned(), rt.expose().to_owned()),
    ]
}

#[given(expr = "the {client} client has tokens for the {user} user from the password grant")]
async fn has_password_tokens(w: &mut OAuthWorld, c: ClientParam, u: UserParam) -> Check {
    let scope = w.client_with_grant(c.0, "password")?.scope;
    password_tokens(w, c.0, u.0, scope).await
}

#[given(expr = "the {client} client has refreshed its tokens")]
async fn has_refreshed(w: &mut OAuthWorld, c: ClientParam) -> Check {
    let rt = current_refresh(w)?;
    let params = refresh_params(&rt);
    let x = token_request(w, c.0, params, AuthVariant::AsRegistered).await?;
    let t = token_set(&x, c.0, None)?;
    w.remember(t);
    Ok(())
}

#[when(expr = "the {client} client refreshes the token")]
async fn refresh(w: &mut OAuthWorld, c: ClientParam) -> Check {
    let rt = current_refresh(w)?;
    let params = refresh_params(&rt);
    token_request(w, c.0, params, AuthVariant::AsRegistered).await?;
    Ok(())
}

#[when(expr = "the {client} client refreshes the token with scope {string}")]
async fn refresh_scope(w: &mut OAuthWorld, c: ClientParam, scope: String) -> Check {
    let rt = current_refresh(w)?;
    let mut params = refresh_params(&rt);
    params.push(("scope".to_owned(), scope));
    token_request(w, c.0, params, AuthVariant::AsRegistered).await?;
    Ok(())
}

#[when(expr = "the {client} client refreshes the earlier refresh token")]
async fn refresh_earlier(w: &mut OAuthWorld, c: ClientParam) -> Check {
    let rt = w
        .earlier_tokens
        .last()
        .and_then(|t| t.refresh.clone())
        .ok_or_else(|| Mismatch::error("no earlier refresh token was kept"))?;
    let params = refresh_params(&rt);
    token_request(w, c.0, params, AuthVariant::AsRegistered).await?;
    Ok(())
}

#[when(expr = "the {client} client sends a token request with:")]
async fn token_with_table(w: &mut OAuthWorld, c: ClientParam, step: &Step) -> Check {
    let params = table_params(w, c.0, step)?;
    token_request(w, c.0, params, AuthVariant::AsRegistered).await?;
    Ok(())
}

#[when(expr = "the {client} client sends a token request authenticated {auth} with:")]
async fn token_with_auth(
    w: &mut OAuthWorld,
    c: ClientParam,
    auth: AuthVariant,
    step: &Step,
) -> Check {
    let params = table_params(w, c.0, step)?;
    token_request(w, c.0, params, auth).await?;
    Ok(())
}

#[when(expr = "the {client} client sends a password grant request for the {user} user changed by:")]
async fn password_with_overrides(
    w: &mut OAuthWorld,
    c: ClientParam,
    u: UserParam,
    step: &Step,
) -> Check {
    let user = w.user(u.0)?;
    let defaults = vec![
        ("grant_type".to_owned(), "password".to_owned()),
        ("username".to_owned(), user.username.clone()),
        ("password".to_owned(), user.password.expose().to_owned()),
    ];
    // The profile scope too, so that a server requiring one answers to what the table
    // changes (R29a's table leaves it out).
    let defaults = with_profile_scope(w, c.0, defaults)?;
    let params = apply_overrides(w, c.0, defaults, Some(step))?;
    token_request(w, c.0, params, AuthVariant::AsRegistered).await?;
    Ok(())
}

#[when(expr = "a token request is sent with the GET method")]
async fn token_get(w: &mut OAuthWorld) -> Check {
    let client = w.client(ClientRole::ConfidentialBasic)?;
    let url = endpoint(w, "token")?;
    let user = w.user(UserRole::Primary)?;
    let query = crate::http::encode_pairs(&[
        ("grant_type".into(), "client_credentials".into()),
        ("username".into(), user.username.clone()),
    ]);
    let sep = if url.contains('?') { '&' } else { '?' };
    let mut out = Outgoing::new(reqwest::Method::GET, format!("{url}{sep}{query}"));
    if let Some(s) = &client.secret {
        out = out.header("authorization", super::basic_header(&client.id, s.expose()));
    }
    send(w, out).await?;
    Ok(())
}

#[when(expr = "the {client} client refreshes the token {int} times in parallel")]
async fn refresh_parallel(w: &mut OAuthWorld, c: ClientParam, n: usize) -> Check {
    let rt = current_refresh(w)?;
    let client = w.client(c.0)?;
    let url = endpoint(w, "token")?;
    let params = refresh_params(&rt);
    let out = authenticated_post(&url, &client, params, AuthVariant::AsRegistered);
    parallel(w, out, n).await;
    Ok(())
}

/// Sends the same request `n` times at once and keeps every answer.
pub async fn parallel(w: &mut OAuthWorld, out: Outgoing, n: usize) {
    let http = w.ctx.http.clone();
    let futures = (0..n).map(|_| {
        let http = http.clone();
        let out = out.clone();
        async move { http.send(out).await.map_err(|e| e.to_string()) }
    });
    w.batch = futures::future::join_all(futures).await;
    let answers: Vec<Exchange> = w.batch.iter().flatten().cloned().collect();
    for x in &answers {
        w.note_if_throttled(x);
    }
}

#[then(expr = "at most one of the parallel requests succeeds")]
async fn at_most_one(w: &mut OAuthWorld) -> Check {
    if w.batch.is_empty() {
        return Err(Mismatch::error("no parallel requests were sent"));
    }
    let ok: Vec<&Exchange> = w
        .batch
        .iter()
        .filter_map(|r| r.as_ref().ok())
        .filter(|x| x.status == 200)
        .collect();
    let errors: Vec<&String> = w.batch.iter().filter_map(|r| r.as_ref().err()).collect();
    if ok.len() > 1 {
        return Err(Mismatch::in_exchange(
            "at most one 200 among the parallel requests",
            format!("{} of {} answered 200", ok.len(), w.batch.len()),
            ok[1],
        ));
    }
    if errors.len() == w.batch.len() {
        return Err(Mismatch::new(
            "answers to the parallel requests",
            errors[0].clone(),
        ));
    }
    if let Some(x) = ok.first() {
        w.last = Some((*x).clone());
    }
    Ok(())
}

#[then(expr = "the token request succeeds")]
async fn token_succeeds(w: &mut OAuthWorld) -> Check {
    let x = w.last()?.clone();
    let role = w.last_client.unwrap_or(ClientRole::ConfidentialBasic);
    let t = token_set(&x, role, w.last_scope.clone())?;
    ensure(
        x.media_type().as_deref() == Some("application/json"),
        "Content-Type application/json (RFC 6749 §5.1)",
        || format!("{:?}", x.header("content-type")),
        &x,
    )?;
    let token_type = x.json().and_then(|j| {
        j.get("token_type")
            .and_then(Value::as_str)
            .map(str::to_owned)
    });
    check_bearer(token_type.as_deref(), &x)?;
    w.remember(t);
    Ok(())
}

#[then(expr = "the token request succeeds, or the error is invalid_scope")]
async fn succeeds_or_invalid_scope(w: &mut OAuthWorld) -> Check {
    if (200..300).contains(&w.last()?.status) {
        token_succeeds(w).await
    } else {
        super::http::check_error(w, &["invalid_scope"])
    }
}

#[given(expr = "the {client} client has registered only its one redirection URI")]
async fn only_redirect_uri(w: &mut OAuthWorld, c: ClientParam) -> Check {
    let client = w.client(c.0)?;
    if client.only_redirect_uri {
        return Ok(());
    }
    Err(Mismatch::not_applicable(format!(
        "the profile does not say that redirect_uri is the only redirection URI registered \
         for [clients.{}] (only_redirect_uri = true), and a client with several must name \
         one (RFC 6749 §3.1.2.3)",
        c.0.key()
    )))
}

#[then(expr = "the token response includes a refresh token")]
async fn has_refresh(w: &mut OAuthWorld) -> Check {
    let x = w.last()?;
    let expected = "a refresh_token member";
    let o = x
        .object()
        .map_err(|why| Mismatch::in_exchange(expected, why, x))?;
    let rt = o.get("refresh_token").and_then(Value::as_str).map(str::len);
    ensure(rt.is_some_and(|n| n > 0), expected, || "none".into(), x)
}

#[then(expr = "the token response includes no refresh token")]
async fn no_refresh(w: &mut OAuthWorld) -> Check {
    let x = w.last()?;
    let has = x.json().is_some_and(|j| j.get("refresh_token").is_some());
    ensure(
        !has,
        "no refresh_token member (RFC 6749 §4.4.3)",
        || "a refresh_token".into(),
        x,
    )
}

#[then(expr = "the token response includes expires_in")]
async fn has_expires_in(w: &mut OAuthWorld) -> Check {
    let x = w.last()?;
    let expected = "expires_in, a positive number of seconds (RFC 6749 §5.1)";
    let o = x
        .object()
        .map_err(|why| Mismatch::in_exchange(expected, why, x))?;
    let v = o.get("expires_in");
    ensure(
        v.is_some_and(|v| v.as_u64().is_some_and(|n| n > 0)),
        expected,
        || match v {
            Some(v) => format!("expires_in {v}"),
            None => "no expires_in member".into(),
        },
        x,
    )
}

fn scope_set(s: &str) -> std::collections::BTreeSet<&str> {
    s.split(' ').filter(|t| !t.is_empty()).collect()
}

#[then(expr = "the granted scope is {string}")]
async fn granted_scope(w: &mut OAuthWorld, expected: String) -> Check {
    let x = w.last()?;
    let scope = x
        .object()
        .map_err(|why| Mismatch::in_exchange(format!("scope {expected:?}"), why, x))?
        .get("scope")
        .and_then(Value::as_str)
        .map(str::to_owned);
    match scope {
        Some(s) => ensure(
            scope_set(&s) == scope_set(&expected),
            format!("scope {expected:?}"),
            || format!("scope {s:?}"),
            x,
        ),
        // §5.1: scope is "OPTIONAL, if identical to the scope requested by the client"
        None => {
            let requested = w.last_scope.clone();
            ensure(
                requested
                    .as_deref()
                    .is_some_and(|r| scope_set(r) == scope_set(&expected)),
                format!(
                    "scope {expected:?} in the response (it differs from the request, so it is REQUIRED, RFC 6749 §5.1)"
                ),
                || "no scope member".into(),
                x,
            )
        }
    }
}

#[then(expr = "the response includes the granted scope")]
async fn includes_scope(w: &mut OAuthWorld) -> Check {
    let x = w.last()?;
    let expected = "a scope member (RFC 6749 §5.1: REQUIRED when the granted scope differs from the requested)";
    let o = x
        .object()
        .map_err(|why| Mismatch::in_exchange(expected, why, x))?;
    ensure(
        o.get("scope").and_then(Value::as_str).is_some(),
        expected,
        || "none".into(),
        x,
    )
}

#[then(expr = "the new refresh token differs from the earlier one")]
async fn rotated(w: &mut OAuthWorld) -> Check {
    let new = w.refresh_token()?;
    let old = w
        .earlier_tokens
        .last()
        .and_then(|t| t.refresh.clone())
        .ok_or_else(|| Mismatch::error("no earlier refresh token was kept"))?;
    if new == old {
        return Err(Mismatch::new(
            "a new refresh token",
            "the same refresh token again",
        ));
    }
    Ok(())
}

#[when(expr = "the {client} client sends a refresh request changed by:")]
async fn refresh_with_overrides(w: &mut OAuthWorld, c: ClientParam, step: &Step) -> Check {
    let defaults = vec![
        ("grant_type".to_owned(), "refresh_token".to_owned()),
        (
            "refresh_token".to_owned(),
            current_refresh(w)?.expose().to_owned(),
        ),
    ];
    let params = apply_overrides(w, c.0, defaults, Some(step))?;
    token_request(w, c.0, params, AuthVariant::AsRegistered).await?;
    Ok(())
}

#[when(expr = "the {client} client sends a client credentials request changed by:")]
async fn client_credentials_with_overrides(
    w: &mut OAuthWorld,
    c: ClientParam,
    step: &Step,
) -> Check {
    // The profile scope too (R29a's table leaves it out).
    let defaults = client_credentials_params(w, c.0)?;
    let params = apply_overrides(w, c.0, defaults, Some(step))?;
    token_request(w, c.0, params, AuthVariant::AsRegistered).await?;
    Ok(())
}

/// A token request sent as GET, its parameters in the query (§3.2 requires POST). The
/// client authenticates in the Authorization header; a public client names itself in
/// the query, where a GET has to put it.
#[when(expr = "the {client} client sends a token request with the GET method with:")]
async fn token_get_with_table(w: &mut OAuthWorld, c: ClientParam, step: &Step) -> Check {
    let client = w.client(c.0)?;
    let url = endpoint(w, "token")?;
    let mut params = table_params(w, c.0, step)?;
    let mut out_header = None;
    match (client.auth, &client.secret) {
        (AuthMethod::Basic, Some(s)) => {
            out_header = Some(super::basic_header(&client.id, s.expose()));
        }
        (AuthMethod::None, _) => params.insert(0, ("client_id".into(), client.id.clone())),
        _ => {
            return Err(Mismatch::not_applicable(
                "a GET token request needs a client that authenticates with HTTP Basic or a public client",
            ));
        }
    }
    let sep = if url.contains('?') { '&' } else { '?' };
    let query = crate::http::encode_pairs(&params);
    let mut out = Outgoing::new(reqwest::Method::GET, format!("{url}{sep}{query}"));
    if let Some(h) = out_header {
        out = out.header("authorization", h);
    }
    w.last_client = Some(c.0);
    send(w, out).await?;
    Ok(())
}

/// Redeems the current authorization code (§4.1.3) with a chosen client authentication.
#[when(expr = "the {client} client redeems the authorization code authenticated {auth}")]
async fn redeem_with_auth(w: &mut OAuthWorld, c: ClientParam, auth: AuthVariant) -> Check {
    let params = super::authorize::redemption_params(w)?;
    let x = token_request(w, c.0, params, auth).await?;
    w.note_stale_code(&x);
    Ok(())
}

/// For the scenarios that need a client to authenticate in order to reach their check
/// (the binding checks of R40, R76, R98): whether it can, found once per run by
/// obtaining tokens for it in a scenario memory of its own (the password grant when it
/// has it, which needs no login). A refusal is an error of the scenario, not a verdict
/// on its requirement; for a client whose secret form-urlencoding changes, the reason
/// points at R11, which judges that refusal.
#[given(expr = "the {client} client can authenticate at the token endpoint")]
async fn can_authenticate(w: &mut OAuthWorld, c: ClientParam) -> Check {
    let role = c.0;
    let client = w.client(role)?;
    let ctx = w.ctx.clone();
    let mut known = ctx.can_authenticate.lock().await;
    if let Some(r) = known.get(&role) {
        return r.clone();
    }
    let mut probe = w.fresh();
    let sent = super::authorize::request_user_tokens(
        &mut probe,
        role,
        UserRole::Primary,
        None,
        super::authorize::TokenWay::PasswordFirst,
    )
    .await;
    let outcome = match sent {
        // No way to obtain tokens for it: nothing to learn here; the scenario's own
        // steps say whether it applies.
        Err(m) if m.kind == crate::mismatch::Kind::NotApplicable => Ok(()),
        Err(m) => Err(m.into_error().with_note(&format!(
            "[clients.{}] could not be shown to authenticate: obtaining tokens for it failed \
             before the token request",
            role.key()
        ))),
        Ok(_) => match probe.last.as_ref() {
            Some(x) if x.status == 200 => Ok(()),
            Some(x) => Err(cannot_authenticate(&client, x)),
            None => Err(Mismatch::error("the token request was not sent")),
        },
    };
    known.insert(role, outcome.clone());
    outcome
}

/// The error of a scenario whose client was refused at the token endpoint while it
/// only prepared the check.
fn cannot_authenticate(client: &crate::target::Client, x: &Exchange) -> Mismatch {
    let encoded = client
        .secret
        .as_ref()
        .is_some_and(|s| crate::http::encode(s.expose()) != s.expose());
    let why = if client.auth == AuthMethod::Basic && encoded {
        "its id and secret were sent form-urlencoded in HTTP Basic, as RFC 6749 §2.3.1 \
         requires, and its secret has characters that the encoding changes: R11 (\"A \
         secret with ':', '+', '%' and '/' sent form-urlencoded in HTTP Basic\") judges \
         that refusal"
    } else {
        "it authenticated as the profile registers it"
    };
    Mismatch::in_exchange(
        format!(
            "[clients.{}] to authenticate at the token endpoint, which this scenario needs \
             to reach its check",
            client.role.key()
        ),
        format!("its token request was refused ({}); {why}", token_answer(x)),
        x,
    )
    .into_error()
}

#[given(expr = "the {client} client's secret has characters that form-urlencoding changes")]
async fn secret_needs_encoding(w: &mut OAuthWorld, c: ClientParam) -> Check {
    let client = w.client(c.0)?;
    let secret = client.secret.ok_or_else(|| {
        Mismatch::not_applicable(format!("[clients.{}] has no secret", c.0.key()))
    })?;
    if crate::http::encode(secret.expose()) == secret.expose() {
        return Err(Mismatch::not_applicable(format!(
            "[clients.{}] needs a secret with characters such as ':', '+', '%' or '/', which \
             form-urlencoding changes, to check RFC 6749 §2.3.1",
            c.0.key()
        )));
    }
    Ok(())
}

/// `token_type` is REQUIRED (RFC 6749 §5.1) and matched in any letter case; the suite
/// uses bearer tokens (RFC 6750), so a target that issues another type (DPoP, MAC) is
/// outside what it can check.
fn check_bearer(token_type: Option<&str>, x: &Exchange) -> Check {
    match token_type {
        Some(t) if t.eq_ignore_ascii_case("bearer") => Ok(()),
        Some(t) => Err(Mismatch::not_applicable(format!(
            "the target issues token_type {t:?}; the suite checks bearer tokens (RFC 6750) only"
        ))),
        None => Err(Mismatch::in_exchange(
            "token_type (REQUIRED, RFC 6749 §5.1), Bearer in any letter case",
            "no token_type",
            x,
        )),
    }
}

#[then(expr = "the token type is Bearer")]
async fn token_type_is(w: &mut OAuthWorld) -> Check {
    let x = w.last()?;
    let want = "token_type Bearer, in any letter case (RFC 6749 §5.1, §7.1)";
    let got = x
        .object()
        .map_err(|why| Mismatch::in_exchange(want, why, x))?
        .get("token_type")
        .and_then(Value::as_str)
        .map(str::to_owned);
    check_bearer(got.as_deref(), x)
}

/// The scope of a token set as the client must understand it: the `scope` member, else
/// the requested scope (§5.1: omitted only when identical), else what the client asked
/// for at the authorization endpoint (its profile scope).
fn understood_scope(w: &OAuthWorld, t: &TokenSet) -> Option<String> {
    t.scope
        .clone()
        .or_else(|| t.requested_scope.clone())
        .or_else(|| w.client(t.client).ok().and_then(|c| c.scope))
}

#[then(expr = "the granted scope is the scope originally granted")]
async fn granted_scope_is_original(w: &mut OAuthWorld) -> Check {
    let first = w
        .earlier_tokens
        .first()
        .or(w.tokens.as_ref())
        .ok_or_else(|| Mismatch::error("no tokens were obtained before this step"))?;
    let original = understood_scope(w, first)
        .ok_or_else(|| Mismatch::not_applicable("the original scope is not known"))?;
    let x = w.last()?;
    let scope = x
        .json()
        .and_then(|j| j.get("scope").and_then(Value::as_str).map(str::to_owned));
    // Without a scope member the server says the scope is the requested one, and an
    // omitted (or empty, §3.2) scope requests the original (§6).
    let Some(s) = scope else { return Ok(()) };
    ensure(
        scope_set(&s) == scope_set(&original),
        format!("scope {original:?}, the scope originally granted (RFC 6749 §6)"),
        || format!("scope {s:?}"),
        x,
    )
}

/// §3.3 leaves the server two answers to a scope it will not grant: refuse the request
/// with `invalid_scope` (§5.2), or ignore that part of the request and name the scope
/// it did grant.
#[then(expr = "the scope {string} is refused with invalid_scope or left out of the granted scope")]
async fn scope_refused_or_left_out(w: &mut OAuthWorld, scope: String) -> Check {
    let role = w.last_client.unwrap_or(ClientRole::ConfidentialBasic);
    let scope = super::substitute(w, role, &scope)?.unwrap_or_default();
    // The check needs an original grant without that scope (a server may have widened
    // the grant and said so).
    if let Some(named) = w.tokens.as_ref().and_then(|t| t.scope.clone()) {
        if scope_set(&scope).is_subset(&scope_set(&named)) {
            return Err(Mismatch::not_applicable(format!(
                "the tokens were granted {named:?}, which already includes {scope:?}"
            )));
        }
    }
    let x = w.last()?;
    if x.status != 200 {
        return super::http::check_error(w, &["invalid_scope"]);
    }
    let named = x
        .object()
        .map_err(|why| {
            Mismatch::in_exchange(
                format!("invalid_scope, or a token response without {scope:?} in its scope"),
                why,
                x,
            )
        })?
        .get("scope")
        .and_then(Value::as_str)
        .map(str::to_owned);
    let Some(named) = named else {
        return Err(Mismatch::in_exchange(
            format!(
                "invalid_scope, or a scope member naming the granted scope without {scope:?} \
                 (RFC 6749 §3.3: REQUIRED when it differs from the request)"
            ),
            "200 without a scope member: the token claims the requested scope",
            x,
        ));
    };
    let granted = scope_set(&named);
    ensure(
        scope_set(&scope).is_disjoint(&granted),
        format!("invalid_scope, or a granted scope without {scope:?}"),
        || format!("scope {named:?}"),
        x,
    )
}

/// §3.3: "If the issued access token scope is different from the one requested by the
/// client, the authorization server MUST include the "scope" response parameter". A
/// black box learns the issued scope from the resource: a token whose stated scope
/// lacks the resource's scope must not be accepted there.
#[then(expr = "the access token does not carry more scope than the token response states")]
async fn no_hidden_scope(w: &mut OAuthWorld) -> Check {
    let t = w.tokens()?.clone();
    let resource = w
        .target()
        .resource
        .clone()
        .ok_or_else(|| Mismatch::not_applicable("the profile has no [resource]"))?;
    let stated = t
        .scope
        .clone()
        .or_else(|| t.requested_scope.clone())
        .ok_or_else(|| Mismatch::not_applicable("no scope was requested or stated"))?;
    let covers = scope_set(&resource.scope).is_subset(&scope_set(&stated));
    if covers {
        // Stated to cover the resource: nothing is hidden that the resource could show.
        return Ok(());
    }
    let token = t
        .access
        .clone()
        .ok_or_else(|| Mismatch::error("the token response had no access_token"))?;
    let x = super::resource::call_with(w, token.expose()).await?;
    let how = if t.scope.is_some() {
        format!("the token response states scope {stated:?}")
    } else {
        format!("the token response has no scope member, so the scope is the requested {stated:?}")
    };
    ensure(
        x.status != 200,
        format!(
            "the resource, which requires scope {:?}, to refuse the token: {how} \
             (RFC 6749 §3.3, §5.1)",
            resource.scope
        ),
        || "status 200: the token carries a scope the response did not state".into(),
        &x,
    )
}

#[when(expr = "the {client} client obtains {int} access tokens with the client credentials grant")]
async fn many_tokens(w: &mut OAuthWorld, c: ClientParam, n: usize) -> Check {
    let mut batch = Vec::with_capacity(n);
    for _ in 0..n {
        let params = client_credentials_params(w, c.0)?;
        let x = token_request(w, c.0, params, AuthVariant::AsRegistered).await?;
        token_set(&x, c.0, None)?;
        batch.push(Ok(x));
    }
    w.batch = batch;
    Ok(())
}

/// The access tokens of the batch.
fn batch_tokens(w: &OAuthWorld) -> Result<Vec<String>, Mismatch> {
    let tokens: Vec<String> = w
        .batch
        .iter()
        .filter_map(|r| r.as_ref().ok())
        .filter_map(|x| x.json())
        .filter_map(|j| {
            j.get("access_token")
                .and_then(Value::as_str)
                .map(str::to_owned)
        })
        .collect();
    if tokens.len() < 2 {
        return Err(Mismatch::error(
            "fewer than two access tokens were obtained",
        ));
    }
    Ok(tokens)
}

#[then(expr = "the access tokens are distinct and long enough to carry 128 bits")]
async fn tokens_carry_128(w: &mut OAuthWorld) -> Check {
    let tokens = batch_tokens(w)?;
    let x = w.batch.iter().find_map(|r| r.as_ref().ok()).cloned();
    let x = x.ok_or_else(|| Mismatch::error("no token response was kept"))?;
    let distinct: std::collections::BTreeSet<&String> = tokens.iter().collect();
    ensure(
        distinct.len() == tokens.len(),
        format!("{} different access tokens", tokens.len()),
        || format!("{} different among {}", distinct.len(), tokens.len()),
        &x,
    )?;
    let shortest = tokens.iter().map(|t| t.chars().count()).min().unwrap_or(0);
    let bits = shortest as f64 * VSCHAR_BITS;
    ensure(
        bits >= 128.0,
        "access tokens of at least 20 characters, the fewest that can hold 128 bits \
         (RFC 6749 §10.10)",
        || format!("a token of {shortest} characters (at most {bits:.0} bits)"),
        &x,
    )
}

#[then(expr = "the access tokens look long enough to carry 160 bits")]
async fn tokens_carry_160(w: &mut OAuthWorld) -> Check {
    let tokens = batch_tokens(w)?;
    let x = w.batch.iter().find_map(|r| r.as_ref().ok()).cloned();
    let x = x.ok_or_else(|| Mismatch::error("no token response was kept"))?;
    let (per_char, name) = alphabet_bits(&tokens);
    let shortest = tokens.iter().map(|t| t.chars().count()).min().unwrap_or(0);
    let bits = shortest as f64 * per_char;
    ensure(
        bits >= 160.0,
        "access tokens long enough for 160 bits in the alphabet they use (RFC 6749 §10.10)",
        || format!("{shortest} {name} characters: at most {bits:.0} bits"),
        &x,
    )
}

#[given(expr = "the {client} client is registered for the {word} grant")]
async fn registered_for(w: &mut OAuthWorld, c: ClientParam, grant: String) -> Check {
    w.client_with_grant(c.0, &grant).map(drop)
}

#[given(expr = "the {client} client is not registered for the {word} grant")]
async fn not_registered_for(w: &mut OAuthWorld, c: ClientParam, grant: String) -> Check {
    w.client_without_grant(c.0, &grant).map(drop)
}

/// What a token-endpoint answer amounts to, for comparing two answers: success, or
/// the status and error code.
pub fn token_answer(x: &Exchange) -> String {
    if (200..300).contains(&x.status) {
        return format!("success (status {})", x.status);
    }
    let error = x
        .json()
        .and_then(|j| j.get("error").and_then(Value::as_str).map(str::to_owned));
    match error {
        Some(e) => format!("status {} with error {e}", x.status),
        None => format!("status {} without an error code", x.status),
    }
}

/// RFC 6749 §3.2: "Parameters sent without a value MUST be treated as if they were
/// omitted from the request." Sends the refresh request again without the parameter
/// and compares the two answers.
#[then(expr = "the answer is the same as to the refresh request without {string}")]
async fn same_as_without(w: &mut OAuthWorld, name: String) -> Check {
    let first = w.last()?.clone();
    let role = w.last_client.unwrap_or(ClientRole::ConfidentialBasic);
    let params: Vec<(String, String)> = vec![
        ("grant_type".to_owned(), "refresh_token".to_owned()),
        (
            "refresh_token".to_owned(),
            current_refresh(w)?.expose().to_owned(),
        ),
    ]
    .into_iter()
    .filter(|(k, _)| *k != name)
    .collect();
    let second = token_request(w, role, params, AuthVariant::AsRegistered).await?;
    let (a, b) = (token_answer(&first), token_answer(&second));
    ensure(
        a == b,
        format!(
            "the answer to the request without {name} ({b}): a parameter sent without a \
             value is treated as omitted (RFC 6749 §3.2)"
        ),
        || format!("{a} with {name} empty"),
        &first,
    )
}

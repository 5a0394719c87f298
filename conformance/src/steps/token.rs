//! Token endpoint steps (RFC 6749 §3.2, §4.3, §4.4, §5, §6).

use cucumber::gherkin::Step;
use cucumber::{then, when};
use serde_json::Value;

use super::params::{AuthVariant, ClientParam, UserParam};
use super::{apply_overrides, authenticated_post, endpoint, send, table_params};
use crate::http::{Exchange, Outgoing};
use crate::mismatch::{Check, Mismatch, ensure};
use crate::secret::Secret;
use crate::target::ClientRole;
use crate::world::{OAuthWorld, TokenSet, UserRole};

/// Sends a token request for a client with the given parameters and authentication.
pub async fn token_request(
    w: &mut OAuthWorld,
    role: ClientRole,
    params: Vec<(String, String)>,
    variant: AuthVariant,
) -> Result<Exchange, Mismatch> {
    let client = w.client(role)?;
    let url = endpoint(w, "token")?;
    w.last_client = Some(role);
    w.last_scope = params
        .iter()
        .find(|(k, _)| k == "scope")
        .map(|(_, v)| v.clone());
    send(w, authenticated_post(&url, &client, params, variant)).await
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
            format!("status {}", x.status),
            x,
        ));
    }
    let Some(json) = x.json().filter(Value::is_object) else {
        return Err(Mismatch::in_exchange(
            "a JSON object body (RFC 6749 §5.1)",
            "a body that is not a JSON object",
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
    })
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
    let params = vec![("grant_type".to_owned(), "client_credentials".to_owned())];
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

#[when(expr = "the {client} client refreshes the token")]
async fn refresh(w: &mut OAuthWorld, c: ClientParam) -> Check {
    let rt = w.refresh_token()?;
    let params = vec![
        ("grant_type".to_owned(), "refresh_token".to_owned()),
        ("refresh_token".to_owned(), rt.expose().to_owned()),
    ];
    token_request(w, c.0, params, AuthVariant::AsRegistered).await?;
    Ok(())
}

#[when(expr = "the {client} client refreshes the token with scope {string}")]
async fn refresh_scope(w: &mut OAuthWorld, c: ClientParam, scope: String) -> Check {
    let rt = w.refresh_token()?;
    let params = vec![
        ("grant_type".to_owned(), "refresh_token".to_owned()),
        ("refresh_token".to_owned(), rt.expose().to_owned()),
        ("scope".to_owned(), scope),
    ];
    token_request(w, c.0, params, AuthVariant::AsRegistered).await?;
    Ok(())
}

#[when(expr = "the {client} client refreshes the earlier refresh token")]
async fn refresh_earlier(w: &mut OAuthWorld, c: ClientParam) -> Check {
    let rt = w
        .earlier_tokens
        .last()
        .and_then(|t| t.refresh.clone())
        .ok_or_else(|| Mismatch::cannot("no earlier refresh token was kept"))?;
    let params = vec![
        ("grant_type".to_owned(), "refresh_token".to_owned()),
        ("refresh_token".to_owned(), rt.expose().to_owned()),
    ];
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
    let params = apply_overrides(w, c.0, defaults, step)?;
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
    let rt = w.refresh_token()?;
    let client = w.client(c.0)?;
    let url = endpoint(w, "token")?;
    let params = vec![
        ("grant_type".to_owned(), "refresh_token".to_owned()),
        ("refresh_token".to_owned(), rt.expose().to_owned()),
    ];
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
}

#[then(expr = "at most one of the parallel requests succeeds")]
async fn at_most_one(w: &mut OAuthWorld) -> Check {
    if w.batch.is_empty() {
        return Err(Mismatch::cannot("no parallel requests were sent"));
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
    ensure(
        token_type
            .as_deref()
            .is_some_and(|t| t.eq_ignore_ascii_case("bearer")),
        "token_type Bearer (RFC 6749 §5.1, §7.1)",
        || format!("token_type {token_type:?}"),
        &x,
    )?;
    w.remember(t);
    Ok(())
}

#[then(expr = "the token response includes a refresh token")]
async fn has_refresh(w: &mut OAuthWorld) -> Check {
    let x = w.last()?;
    let rt = x
        .json()
        .and_then(|j| j.get("refresh_token").and_then(Value::as_str).map(str::len));
    ensure(
        rt.is_some_and(|n| n > 0),
        "a refresh_token member",
        || "none".into(),
        x,
    )
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
    let v = x.json().and_then(|j| j.get("expires_in").cloned());
    ensure(
        v.as_ref()
            .is_some_and(|v| v.as_u64().is_some_and(|n| n > 0)),
        "expires_in, a positive number of seconds (RFC 6749 §5.1)",
        || format!("{v:?}"),
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
        .json()
        .and_then(|j| j.get("scope").and_then(Value::as_str).map(str::to_owned));
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
    let scope = x
        .json()
        .and_then(|j| j.get("scope").and_then(Value::as_str).map(str::to_owned));
    ensure(
        scope.is_some(),
        "a scope member (RFC 6749 §5.1: REQUIRED when the granted scope differs from the requested)",
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
        .ok_or_else(|| Mismatch::cannot("no earlier refresh token was kept"))?;
    if new == old {
        return Err(Mismatch::new(
            "a new refresh token",
            "the same refresh token again",
        ));
    }
    Ok(())
}

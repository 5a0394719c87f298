//! Token introspection steps (RFC 7662 §2): introspection requests by a client, and
//! the answers of §2.2 (the `active` member) and §2.3 (errors).

use cucumber::{then, when};
use serde_json::Value;

use super::params::{AuthVariant, ClientParam, TokenKind};
use super::{authenticated_post, endpoint, send};
use crate::mismatch::{Check, Mismatch, ensure};
use crate::world::OAuthWorld;

async fn introspect(
    w: &mut OAuthWorld,
    c: ClientParam,
    token: Option<String>,
    auth: AuthVariant,
) -> Check {
    let params = token
        .map(|t| vec![("token".to_owned(), t)])
        .unwrap_or_default();
    introspect_with(w, c, params, auth).await
}

async fn introspect_with(
    w: &mut OAuthWorld,
    c: ClientParam,
    params: Vec<(String, String)>,
    auth: AuthVariant,
) -> Check {
    let client = w.client(c.0)?;
    let url = endpoint(w, "introspection")?;
    send(w, authenticated_post(&url, &client, params, auth)).await?;
    Ok(())
}

fn token(w: &OAuthWorld, kind: TokenKind) -> Result<String, Mismatch> {
    Ok(match kind {
        TokenKind::Access => w.access_token()?,
        TokenKind::Refresh => w.refresh_token()?,
    }
    .expose()
    .to_owned())
}

#[when(expr = "the {client} client introspects the {token_kind} token")]
async fn introspect_token(w: &mut OAuthWorld, c: ClientParam, kind: TokenKind) -> Check {
    let t = token(w, kind)?;
    introspect(w, c, Some(t), AuthVariant::AsRegistered).await
}

#[when(expr = "the {client} client introspects the token {string}")]
async fn introspect_literal(w: &mut OAuthWorld, c: ClientParam, t: String) -> Check {
    introspect(w, c, Some(t), AuthVariant::AsRegistered).await
}

#[when(expr = "the {client} client sends an introspection request without a token")]
async fn introspect_without(w: &mut OAuthWorld, c: ClientParam) -> Check {
    introspect(w, c, None, AuthVariant::AsRegistered).await
}

#[when(
    expr = "the {client} client sends an introspection request authenticated {auth} for the {token_kind} token"
)]
async fn introspect_auth(
    w: &mut OAuthWorld,
    c: ClientParam,
    auth: AuthVariant,
    kind: TokenKind,
) -> Check {
    let t = token(w, kind)?;
    introspect(w, c, Some(t), auth).await
}

#[then(expr = "the token is active")]
async fn active(w: &mut OAuthWorld) -> Check {
    let x = w.last()?;
    let expected = "200 with \"active\": true (RFC 7662 §2.2)";
    let a = x
        .object()
        .map_err(|why| Mismatch::in_exchange(expected, why, x))?
        .get("active")
        .cloned();
    ensure(
        x.status == 200 && a == Some(Value::Bool(true)),
        expected,
        || format!("status {} active {a:?}", x.status),
        x,
    )
}

#[then(expr = "the token is not active")]
async fn inactive(w: &mut OAuthWorld) -> Check {
    let x = w.last()?;
    let expected = "200 with \"active\": false (RFC 7662 §2.2)";
    let a = x
        .object()
        .map_err(|why| Mismatch::in_exchange(expected, why, x))?
        .get("active")
        .cloned();
    ensure(
        x.status == 200 && a == Some(Value::Bool(false)),
        expected,
        || format!("status {} active {a:?}", x.status),
        x,
    )
}

#[then(expr = "the introspection response has no member but active")]
async fn only_active(w: &mut OAuthWorld) -> Check {
    let x = w.last()?;
    let expected = "only the active member for an inactive token (RFC 7662 §2.2)";
    let keys: Vec<String> = x
        .object()
        .map_err(|why| Mismatch::in_exchange(expected, why, x))?
        .keys()
        .cloned()
        .collect();
    ensure(
        keys == ["active"],
        expected,
        || format!("members {keys:?}"),
        x,
    )
}

#[then(expr = "the introspection response includes {string}")]
async fn includes(w: &mut OAuthWorld, member: String) -> Check {
    let x = w.last()?;
    let expected = format!("the {member} member");
    let has = x
        .object()
        .map_err(|why| Mismatch::in_exchange(expected.clone(), why, x))?
        .get(&member)
        .is_some_and(|v| !v.is_null());
    ensure(has, expected, || "absent".into(), x)
}

#[when(expr = "the {client} client introspects the {token_kind} token with the hint {string}")]
async fn introspect_hint(
    w: &mut OAuthWorld,
    c: ClientParam,
    kind: TokenKind,
    hint: String,
) -> Check {
    let t = token(w, kind)?;
    let params = vec![
        ("token".to_owned(), t),
        ("token_type_hint".to_owned(), hint),
    ];
    introspect_with(w, c, params, AuthVariant::AsRegistered).await
}

#[when(expr = "the {client} client introspects the earlier refresh token")]
async fn introspect_earlier(w: &mut OAuthWorld, c: ClientParam) -> Check {
    let t = w
        .earlier_tokens
        .last()
        .and_then(|t| t.refresh.clone())
        .ok_or_else(|| Mismatch::error("no earlier refresh token was kept"))?;
    introspect(w, c, Some(t.expose().to_owned()), AuthVariant::AsRegistered).await
}

fn active_member(x: &crate::http::Exchange) -> Option<Value> {
    x.json().and_then(|j| j.get("active").cloned())
}

#[then(expr = "the introspection does not disclose the token")]
async fn not_disclosed(w: &mut OAuthWorld) -> Check {
    let x = w.last()?;
    // §2.1: "To prevent token scanning attacks, the endpoint MUST also require some
    // form of authorization". An unauthorized caller is refused, or learns nothing
    // ("active": false is what a caller "not allowed to introspect this particular
    // token" gets, §2.2).
    let a = active_member(x);
    ensure(
        (400..500).contains(&x.status) || (x.status == 200 && a == Some(Value::Bool(false))),
        "a refusal (4xx) or \"active\": false for a caller without authorization (RFC 7662 §2.1)",
        || format!("status {} active {a:?}", x.status),
        x,
    )
}

#[then(
    expr = "the introspection is refused with invalid_request or answers that the token is not active"
)]
async fn missing_token(w: &mut OAuthWorld) -> Check {
    let x = w.last()?;
    // RFC 7662 gives no error for a missing token: an RFC 6749 §5.2 invalid_request,
    // or an inactive answer ("does not exist on this server", §2.2), both fit.
    let a = active_member(x);
    if x.status == 200 {
        return ensure(
            a == Some(Value::Bool(false)),
            "400 invalid_request, or 200 with \"active\": false (RFC 7662 §2.1, §2.2)",
            || format!("status 200 active {a:?}"),
            x,
        );
    }
    super::http::check_error(w, &["invalid_request"])
}

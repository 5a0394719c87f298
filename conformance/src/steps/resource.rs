//! Bearer-protected resource steps (RFC 6750).

use cucumber::{then, when};
use serde_json::Value;

use super::params::{ErrorParam, UserParam};
use super::send;
use crate::http::{Exchange, Outgoing, encode};
use crate::mismatch::{Check, Mismatch, ensure};
use crate::target::Resource;
use crate::world::OAuthWorld;

fn resource(w: &OAuthWorld) -> Result<Resource, Mismatch> {
    w.target()
        .resource
        .clone()
        .ok_or_else(|| Mismatch::cannot("the profile has no [resource]"))
}

/// Calls the resource with a bearer token in the Authorization header.
pub async fn call_with(w: &mut OAuthWorld, token: &str) -> Result<Exchange, Mismatch> {
    let r = resource(w)?;
    send(
        w,
        Outgoing::new(reqwest::Method::GET, r.url)
            .header("authorization", format!("Bearer {token}")),
    )
    .await
}

#[when(expr = "the resource is requested with the access token")]
async fn with_access(w: &mut OAuthWorld) -> Check {
    let t = w.access_token()?;
    call_with(w, t.expose()).await?;
    Ok(())
}

#[when(expr = "the resource is requested with the earlier access token")]
async fn with_earlier_access(w: &mut OAuthWorld) -> Check {
    let t = w
        .earlier_tokens
        .last()
        .and_then(|t| t.access.clone())
        .ok_or_else(|| Mismatch::cannot("no earlier access token was kept"))?;
    call_with(w, t.expose()).await?;
    Ok(())
}

#[when(expr = "the resource is requested with the refresh token as a bearer token")]
async fn with_refresh(w: &mut OAuthWorld) -> Check {
    let t = w.refresh_token()?;
    call_with(w, t.expose()).await?;
    Ok(())
}

#[when(expr = "the resource is requested without a token")]
async fn without(w: &mut OAuthWorld) -> Check {
    let r = resource(w)?;
    send(w, Outgoing::new(reqwest::Method::GET, r.url)).await?;
    Ok(())
}

#[when(expr = "the resource is requested with the token {string}")]
async fn with_literal(w: &mut OAuthWorld, token: String) -> Check {
    call_with(w, &token).await?;
    Ok(())
}

#[when(expr = "the resource is requested with the Authorization header {string}")]
async fn with_header(w: &mut OAuthWorld, value: String) -> Check {
    let r = resource(w)?;
    let value = match w.tokens.as_ref().and_then(|t| t.access.clone()) {
        Some(t) => value.replace("<access_token>", t.expose()),
        None => value,
    };
    send(
        w,
        Outgoing::new(reqwest::Method::GET, r.url).header("authorization", value),
    )
    .await?;
    Ok(())
}

#[when(expr = "the resource is requested with the access token in the form body")]
async fn in_body(w: &mut OAuthWorld) -> Check {
    let r = resource(w)?;
    let t = w.access_token()?;
    let out = Outgoing::new(reqwest::Method::POST, r.url)
        .form(&[("access_token".into(), t.expose().to_owned())]);
    send(w, out).await?;
    Ok(())
}

#[when(expr = "the resource is requested with the access token in the query string")]
async fn in_query(w: &mut OAuthWorld) -> Check {
    let r = resource(w)?;
    let t = w.access_token()?;
    let sep = if r.url.contains('?') { '&' } else { '?' };
    send(
        w,
        Outgoing::new(
            reqwest::Method::GET,
            format!("{}{sep}access_token={}", r.url, encode(t.expose())),
        ),
    )
    .await?;
    Ok(())
}

#[when(expr = "the resource is requested with the access token in the header and the form body")]
async fn header_and_body(w: &mut OAuthWorld) -> Check {
    let r = resource(w)?;
    let t = w.access_token()?;
    let out = Outgoing::new(reqwest::Method::POST, r.url)
        .header("authorization", format!("Bearer {}", t.expose()))
        .form(&[("access_token".into(), t.expose().to_owned())]);
    send(w, out).await?;
    Ok(())
}

#[then(expr = "the resource answers for the {user} user")]
async fn answers_for(w: &mut OAuthWorld, u: UserParam) -> Check {
    let user = w.user(u.0)?;
    let r = resource(w)?;
    let x = w.last()?;
    ensure(
        x.status == 200,
        "status 200 from the resource",
        || format!("status {}", x.status),
        x,
    )?;
    if let Some(field) = &r.user_field {
        let got = x.json().and_then(|j| j.get(field).cloned());
        let matches = match &got {
            Some(Value::String(s)) => s.eq_ignore_ascii_case(&user.resource_id),
            Some(Value::Number(n)) => n.to_string() == user.resource_id,
            _ => false,
        };
        ensure(
            matches,
            format!(
                "{field} = {:?}, the user the token was issued for",
                user.resource_id
            ),
            || format!("{field} = {got:?}"),
            x,
        )?;
    }
    Ok(())
}

/// The auth-params of a `WWW-Authenticate: Bearer ...` challenge (RFC 6750 §3).
pub fn bearer_params(x: &Exchange) -> Result<Vec<(String, String)>, Mismatch> {
    let c = x
        .header_all("www-authenticate")
        .into_iter()
        .find(|v| {
            v.split(' ')
                .next()
                .is_some_and(|s| s.eq_ignore_ascii_case("bearer"))
        })
        .ok_or_else(|| {
            Mismatch::in_exchange(
                "a WWW-Authenticate: Bearer challenge (RFC 6750 §3)",
                "none",
                x,
            )
        })?;
    let rest = c.trim_start()[6..].trim();
    parse_auth_params(rest).ok_or_else(|| {
        Mismatch::in_exchange(
            "auth-params in the challenge grammar of RFC 6750 §3",
            format!("{c:?}"),
            x,
        )
    })
}

/// Parses `name="value", name=token, ...`.
pub fn parse_auth_params(s: &str) -> Option<Vec<(String, String)>> {
    let mut out = Vec::new();
    let b = s.as_bytes();
    let mut i = 0;
    while i < b.len() {
        while i < b.len() && (b[i] == b' ' || b[i] == b',') {
            i += 1;
        }
        if i >= b.len() {
            break;
        }
        let k0 = i;
        while i < b.len() && b[i] != b'=' && b[i] != b' ' {
            i += 1;
        }
        let key = s[k0..i].to_ascii_lowercase();
        if i >= b.len() || b[i] != b'=' {
            return None;
        }
        i += 1;
        let value = if i < b.len() && b[i] == b'"' {
            i += 1;
            let mut v = String::new();
            while i < b.len() && b[i] != b'"' {
                if b[i] == b'\\' && i + 1 < b.len() {
                    i += 1;
                }
                v.push(char::from(b[i]));
                i += 1;
            }
            if i >= b.len() {
                return None;
            }
            i += 1;
            v
        } else {
            let v0 = i;
            while i < b.len() && b[i] != b',' && b[i] != b' ' {
                i += 1;
            }
            s[v0..i].to_owned()
        };
        out.push((key, value));
    }
    Some(out)
}

#[then(expr = "the resource refuses the request with status {int}")]
async fn refuses(w: &mut OAuthWorld, status: u16) -> Check {
    let x = w.last()?;
    ensure(
        x.status == status,
        format!("status {status}"),
        || format!("status {}", x.status),
        x,
    )
}

#[then(expr = "the challenge has no error code")]
async fn challenge_no_error(w: &mut OAuthWorld) -> Check {
    let x = w.last()?.clone();
    let p = bearer_params(&x)?;
    let err = p.iter().find(|(k, _)| k == "error");
    ensure(
        err.is_none(),
        "a Bearer challenge without an error attribute (RFC 6750 §3.1)",
        || format!("error={:?}", err.map(|e| &e.1)),
        &x,
    )
}

#[then(expr = "the challenge error is {error}")]
async fn challenge_error(w: &mut OAuthWorld, e: ErrorParam) -> Check {
    let x = w.last()?.clone();
    let p = bearer_params(&x)?;
    let err = p.iter().find(|(k, _)| k == "error").map(|(_, v)| v.clone());
    ensure(
        err.as_deref() == Some(e.0.as_str()),
        format!("error=\"{}\" in the Bearer challenge", e.0),
        || format!("error={err:?}"),
        &x,
    )
}

#[then(expr = "the challenge names the scope the resource requires")]
async fn challenge_scope(w: &mut OAuthWorld) -> Check {
    let r = resource(w)?;
    let x = w.last()?.clone();
    let p = bearer_params(&x)?;
    let scope = p.iter().find(|(k, _)| k == "scope").map(|(_, v)| v.clone());
    ensure(
        scope
            .as_deref()
            .is_some_and(|s| s.split(' ').any(|t| t == r.scope)),
        format!("scope=\"{}\" in the challenge (RFC 6750 §3)", r.scope),
        || format!("scope={scope:?}"),
        &x,
    )
}

#[then(expr = "the challenge has at most one realm")]
async fn one_realm(w: &mut OAuthWorld) -> Check {
    let x = w.last()?.clone();
    let p = bearer_params(&x)?;
    let n = p.iter().filter(|(k, _)| k == "realm").count();
    ensure(
        n <= 1,
        "at most one realm attribute (RFC 6750 §3)",
        || format!("{n} realm attributes"),
        &x,
    )
}

#[then(expr = "the access token is refused by the resource")]
async fn access_refused(w: &mut OAuthWorld) -> Check {
    let t = w.access_token()?;
    let x = call_with(w, t.expose()).await?;
    ensure(
        x.status == 401,
        "401 from the resource for this access token (RFC 6750 §3.1 invalid_token)",
        || format!("status {}", x.status),
        &x,
    )
}

#[then(expr = "the earlier access token is refused by the resource")]
async fn earlier_refused(w: &mut OAuthWorld) -> Check {
    let t = w
        .earlier_tokens
        .last()
        .and_then(|t| t.access.clone())
        .ok_or_else(|| Mismatch::cannot("no earlier access token was kept"))?;
    let x = call_with(w, t.expose()).await?;
    ensure(
        x.status == 401,
        "401 from the resource for the earlier access token",
        || format!("status {}", x.status),
        &x,
    )
}

#[then(expr = "the access token still works at the resource")]
async fn still_works(w: &mut OAuthWorld) -> Check {
    let t = w.access_token()?;
    let x = call_with(w, t.expose()).await?;
    ensure(
        x.status == 200,
        "200 from the resource",
        || format!("status {}", x.status),
        &x,
    )
}

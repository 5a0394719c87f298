//! Bearer-protected resource steps (RFC 6750): presenting tokens by each method of §2,
//! and checking the `WWW-Authenticate: Bearer` challenge of §3 and its error codes
//! (§3.1), including a strict reading of the challenge grammar (RFC 6750 §3 on the
//! RFC 2617 / RFC 7235 framework).

use cucumber::{then, when};
use serde_json::Value;

use super::params::{ErrorParam, UserParam};
use super::{nqchar, nqschar, send};
use crate::http::{Exchange, Outgoing, encode};
use crate::mismatch::{Check, Mismatch, ensure};
use crate::target::Resource;
use crate::world::{OAuthWorld, UserRole};

fn resource(w: &OAuthWorld) -> Result<Resource, Mismatch> {
    w.target()
        .resource
        .clone()
        .ok_or_else(|| Mismatch::not_applicable("the profile has no [resource]"))
}

/// Calls the resource with a bearer token in the Authorization header.
/// A refusal of a token already past its lifetime is noted: it says nothing about the
/// requirement.
pub async fn call_with(w: &mut OAuthWorld, token: &str) -> Result<Exchange, Mismatch> {
    let r = resource(w)?;
    let x = send(
        w,
        Outgoing::new(reqwest::Method::GET, r.url)
            .header("authorization", format!("Bearer {token}")),
    )
    .await?;
    w.note_stale_token(&x, token);
    Ok(x)
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
        .ok_or_else(|| Mismatch::error("no earlier access token was kept"))?;
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
    let token = w.tokens.as_ref().and_then(|t| t.access.clone());
    let used = token.as_ref().filter(|_| value.contains("<access_token>"));
    let value = match &token {
        Some(t) => value.replace("<access_token>", t.expose()),
        None => value,
    };
    let x = send(
        w,
        Outgoing::new(reqwest::Method::GET, r.url).header("authorization", value),
    )
    .await?;
    if let Some(t) = used {
        w.note_stale_token(&x, t.expose());
    }
    Ok(())
}

#[when(expr = "the resource is requested with the access token in the form body")]
async fn in_body(w: &mut OAuthWorld) -> Check {
    let r = resource(w)?;
    let t = w.access_token()?;
    let out = Outgoing::new(reqwest::Method::POST, r.url)
        .form(&[("access_token".into(), t.expose().to_owned())]);
    let x = send(w, out).await?;
    w.note_stale_token(&x, t.expose());
    Ok(())
}

#[when(expr = "the resource is requested with the access token in the query string")]
async fn in_query(w: &mut OAuthWorld) -> Check {
    let r = resource(w)?;
    let t = w.access_token()?;
    let sep = if r.url.contains('?') { '&' } else { '?' };
    let x = send(
        w,
        Outgoing::new(
            reqwest::Method::GET,
            format!("{}{sep}access_token={}", r.url, encode(t.expose())),
        ),
    )
    .await?;
    w.note_stale_token(&x, t.expose());
    Ok(())
}

#[when(expr = "the resource is requested with the access token in the header and the form body")]
async fn header_and_body(w: &mut OAuthWorld) -> Check {
    let r = resource(w)?;
    let t = w.access_token()?;
    let out = Outgoing::new(reqwest::Method::POST, r.url)
        .header("authorization", format!("Bearer {}", t.expose()))
        .form(&[("access_token".into(), t.expose().to_owned())]);
    let x = send(w, out).await?;
    w.note_stale_token(&x, t.expose());
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
        || x.status_text(),
        x,
    )?;
    if let Some(field) = &r.user_field {
        let expected = format!(
            "{field} = {:?}, the user the token was issued for",
            user.resource_id
        );
        let got = x
            .object()
            .map_err(|why| Mismatch::in_exchange(expected.clone(), why, x))?
            .get(field)
            .cloned();
        let matches = match &got {
            Some(Value::String(s)) => s == &user.resource_id,
            Some(Value::Number(n)) => n.to_string() == user.resource_id,
            _ => false,
        };
        ensure(matches, expected, || format!("{field} = {got:?}"), x)?;
    }
    Ok(())
}

/// Whether a resource answer names one of the profile's users in `user_field`.
fn answered_for_a_user(w: &OAuthWorld, x: &Exchange) -> bool {
    let Some(field) = w
        .target()
        .resource
        .as_ref()
        .and_then(|r| r.user_field.clone())
    else {
        return false;
    };
    let Some(got) = x.json().and_then(|j| j.get(&field).cloned()) else {
        return false;
    };
    [UserRole::Primary, UserRole::Secondary]
        .into_iter()
        .filter_map(|role| w.user(role).ok())
        .any(|user| match &got {
            Value::String(s) => s == &user.resource_id,
            Value::Number(n) => n.to_string() == user.resource_id,
            _ => false,
        })
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
        || x.status_text(),
        x,
    )
}

#[then(
    expr = "if the request is refused, the resource answers 400 with the challenge error invalid_request"
)]
async fn if_refused_invalid_request(w: &mut OAuthWorld) -> Check {
    let x = w.last()?.clone();
    if (200..300).contains(&x.status) {
        return Err(Mismatch::not_applicable(format!(
            "the resource accepted the request (status {}), which the cited sentence leaves \
             to the server; only a refusal has a required form",
            x.status
        )));
    }
    ensure(
        x.status == 400,
        "status 400 for invalid_request (RFC 6750 §3.1)",
        || x.status_text(),
        &x,
    )?;
    let p = bearer_params(&x)?;
    let err = p.iter().find(|(k, _)| k == "error").map(|(_, v)| v.clone());
    ensure(
        err.as_deref() == Some("invalid_request"),
        "error=\"invalid_request\" in the Bearer challenge (RFC 6750 §3.1)",
        || format!("error={err:?}"),
        &x,
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
    // Any 4xx refusal: 401 is only the SHOULD of invalid_token (RFC 6750 §3.1), and the
    // scenarios using this step judge whether the token was revoked, not the status.
    ensure(
        (400..500).contains(&x.status),
        "the resource to refuse this access token (a 4xx answer, RFC 6750 §3.1)",
        || x.status_text(),
        &x,
    )
}

#[then(expr = "the earlier access token is refused by the resource")]
async fn earlier_refused(w: &mut OAuthWorld) -> Check {
    let t = w
        .earlier_tokens
        .last()
        .and_then(|t| t.access.clone())
        .ok_or_else(|| Mismatch::error("no earlier access token was kept"))?;
    let x = call_with(w, t.expose()).await?;
    ensure(
        (400..500).contains(&x.status),
        "the resource to refuse the earlier access token (a 4xx answer, RFC 6750 §3.1)",
        || x.status_text(),
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
        || x.status_text(),
        &x,
    )
}

#[then(expr = "the access token no longer works at the resource")]
async fn access_no_longer_works(w: &mut OAuthWorld) -> Check {
    let t = w.access_token()?;
    let x = call_with(w, t.expose()).await?;
    // RFC 6750 §3.1: a revoked or expired token is refused ("typically, 400, 401, 403");
    // 401 is only the SHOULD of invalid_token, so any 4xx refusal counts here.
    ensure(
        (400..500).contains(&x.status),
        "the resource to refuse this access token (a 4xx answer, RFC 6750 §3.1)",
        || x.status_text(),
        &x,
    )
}

#[when(expr = "the client waits until the access token has expired")]
async fn wait_token_expiry(w: &mut OAuthWorld) -> Check {
    let lifetime = w
        .target()
        .access_token_lifetime
        .ok_or_else(|| Mismatch::not_applicable("the profile gives no [lifetimes].access_token"))?;
    w.expiry_intended = true;
    tokio::time::sleep(std::time::Duration::from_secs(lifetime + 1)).await;
    Ok(())
}

#[then(expr = "the access token was issued for at most one hour")]
async fn short_lived(w: &mut OAuthWorld) -> Check {
    let x = w.last()?;
    let json = x
        .json()
        .filter(|j| j.get("access_token").is_some())
        .ok_or_else(|| Mismatch::error("the last response is not a token response"))?;
    // RFC 6749 §5.1: without expires_in, the lifetime comes "via other means or
    // document[ed]" — here the profile's [lifetimes].access_token.
    let (lifetime, source) = match json.get("expires_in").and_then(Value::as_u64) {
        Some(n) => (Some(n), "expires_in"),
        None => (
            w.target().access_token_lifetime,
            "the profile's [lifetimes].access_token",
        ),
    };
    ensure(
        lifetime.is_some_and(|n| n <= 3600),
        "an access token lifetime of one hour or less (RFC 6750 §5.3)",
        || match lifetime {
            Some(n) => format!("{n} seconds ({source})"),
            None => "no expires_in, and the profile gives no [lifetimes].access_token".into(),
        },
        x,
    )
}

/// Sends a request carrying the access token in a body of the given media type with
/// the given method, and records a copy of the exchange with the body redacted (a
/// multipart body escapes the generic redaction).
#[when(
    expr = "the resource is requested by {word} with the access token in a body of type {string}"
)]
async fn in_body_of_type(w: &mut OAuthWorld, method: String, media_type: String) -> Check {
    let r = resource(w)?;
    let t = w.access_token()?;
    let method = reqwest::Method::from_bytes(method.as_bytes())
        .map_err(|_| Mismatch::error(format!("{method:?} is not an HTTP method")))?;
    let (content_type, body) = match media_type.as_str() {
        "multipart/form-data" => {
            let boundary = "conformance-7f3a9c";
            (
                format!("multipart/form-data; boundary={boundary}"),
                format!(
                    "--{boundary}\r\nContent-Disposition: form-data; name=\"access_token\"\r\n\r\n{}\r\n--{boundary}--\r\n",
                    t.expose()
                ),
            )
        }
        "application/json" => (
            media_type.clone(),
            serde_json::json!({ "access_token": t.expose() }).to_string(),
        ),
        _ => (
            media_type.clone(),
            format!("access_token={}", encode(t.expose())),
        ),
    };
    let out = Outgoing::new(method, r.url).raw_body(&content_type, body.into_bytes());
    let mut x = w.ctx.http.send(out).await?;
    w.note_if_throttled(&x);
    x.request_body = Some(format!("access_token=[redacted] as {media_type}"));
    w.note_stale_token(&x, t.expose());
    w.last = Some(x);
    Ok(())
}

#[then(expr = "the request is refused, or its success response carries Cache-Control private")]
async fn refused_or_private(w: &mut OAuthWorld) -> Check {
    let x = w.last()?;
    if (400..500).contains(&x.status) {
        return Ok(());
    }
    let private = x
        .header_all("cache-control")
        .iter()
        .flat_map(|v| v.split(','))
        .any(|d| d.trim().eq_ignore_ascii_case("private"));
    ensure(
        (200..300).contains(&x.status) && private,
        "a refusal (4xx), or a success response with Cache-Control: private (RFC 6750 §2.3)",
        || {
            format!(
                "status {} with Cache-Control {:?}",
                x.status,
                x.header_all("cache-control")
            )
        },
        x,
    )
}

/// One parameter of an authentication challenge.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthParam {
    /// The name, lower-cased (names are case-insensitive, RFC 7235 §2.1).
    pub name: String,
    /// The value, with quoted-pairs resolved.
    pub value: String,
    /// Whether the value was a quoted-string.
    pub quoted: bool,
}

/// One challenge of a `WWW-Authenticate` field: a scheme and its auth-params.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Challenge {
    /// The auth-scheme as sent.
    pub scheme: String,
    /// Its auth-params, in order (a token68 form leaves this empty).
    pub params: Vec<AuthParam>,
}

fn is_tchar(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

fn skip(b: &[u8], i: &mut usize, also_comma: bool) {
    while *i < b.len() && (b[*i] == b' ' || b[*i] == b'\t' || (also_comma && b[*i] == b',')) {
        *i += 1;
    }
}

fn token(b: &[u8], i: &mut usize) -> String {
    let start = *i;
    while *i < b.len() && is_tchar(b[*i]) {
        *i += 1;
    }
    String::from_utf8_lossy(&b[start..*i]).into_owned()
}

fn quoted_string(b: &[u8], i: &mut usize) -> Result<String, String> {
    // quoted-string = DQUOTE *( qdtext / quoted-pair ) DQUOTE
    *i += 1;
    let mut v = Vec::new();
    while *i < b.len() {
        match b[*i] {
            b'"' => {
                *i += 1;
                return Ok(String::from_utf8_lossy(&v).into_owned());
            }
            b'\\' if *i + 1 < b.len() => {
                v.push(b[*i + 1]);
                *i += 2;
            }
            c => {
                v.push(c);
                *i += 1;
            }
        }
    }
    Err("an unterminated quoted-string".into())
}

/// Parses a `WWW-Authenticate` field value into its challenges (RFC 7235 §2.1, §4.1):
/// `challenge = auth-scheme [ 1*SP ( token68 / #auth-param ) ]`,
/// `auth-param = token BWS "=" BWS ( token / quoted-string )`.
pub fn parse_challenges(s: &str) -> Result<Vec<Challenge>, String> {
    let b = s.as_bytes();
    let mut i = 0;
    let mut out = Vec::new();
    loop {
        skip(b, &mut i, true);
        if i >= b.len() {
            break;
        }
        let scheme = token(b, &mut i);
        if scheme.is_empty() {
            return Err(format!(
                "{:?} where an auth-scheme was expected",
                char::from(b[i])
            ));
        }
        let mut params = Vec::new();
        loop {
            let before = i;
            skip(b, &mut i, true);
            if i >= b.len() {
                break;
            }
            let name = token(b, &mut i);
            if name.is_empty() {
                return Err(format!(
                    "{:?} where an auth-param was expected",
                    char::from(b[i])
                ));
            }
            let mut k = i;
            skip(b, &mut k, false);
            if k >= b.len() || b[k] != b'=' {
                // Not a parameter: the next challenge's scheme.
                i = before;
                break;
            }
            k += 1;
            skip(b, &mut k, false);
            let (value, quoted) = if k < b.len() && b[k] == b'"' {
                (quoted_string(b, &mut k)?, true)
            } else {
                let v = token(b, &mut k);
                if v.is_empty() {
                    // token68 (`abc==`): legal for other schemes, no auth-params.
                    while k < b.len() && b[k] == b'=' {
                        k += 1;
                    }
                    i = k;
                    continue;
                }
                (v, false)
            };
            params.push(AuthParam {
                name: name.to_ascii_lowercase(),
                value,
                quoted,
            });
            i = k;
            let mut m = i;
            skip(b, &mut m, false);
            if m < b.len() && b[m] != b',' {
                return Err(format!(
                    "{:?} after the {} parameter where a comma was expected",
                    char::from(b[m]),
                    name
                ));
            }
            i = m;
        }
        out.push(Challenge { scheme, params });
    }
    Ok(out)
}

/// The Bearer challenges of a response, parsed; `Err` names a field that does not parse.
fn bearer_challenges(x: &Exchange) -> Result<Vec<Challenge>, String> {
    let mut out = Vec::new();
    for v in x.header_all("www-authenticate") {
        let parsed = parse_challenges(&v).map_err(|e| format!("WWW-Authenticate {v:?}: {e}"))?;
        out.extend(
            parsed
                .into_iter()
                .filter(|c| c.scheme.eq_ignore_ascii_case("bearer")),
        );
    }
    Ok(out)
}

#[then(expr = "the response carries a Bearer challenge")]
async fn has_bearer_challenge(w: &mut OAuthWorld) -> Check {
    let x = w.last()?;
    let values = x.header_all("www-authenticate");
    // Presence only (the MUST of RFC 6750 §3); the grammar is checked on its own.
    let found = values.iter().any(|v| match parse_challenges(v) {
        Ok(cs) => cs.iter().any(|c| c.scheme.eq_ignore_ascii_case("bearer")),
        Err(_) => v
            .trim_start()
            .split([' ', ','])
            .next()
            .is_some_and(|s| s.eq_ignore_ascii_case("bearer")),
    });
    ensure(
        found,
        "a WWW-Authenticate header with a Bearer challenge (RFC 6750 §3: MUST include)",
        || format!("WWW-Authenticate {values:?}"),
        x,
    )
}

/// Every way a Bearer challenge breaks RFC 6750 §3.
pub fn challenge_problems(c: &Challenge) -> Vec<String> {
    let mut problems = Vec::new();
    if c.params.is_empty() {
        problems.push(
            "the Bearer scheme is not followed by any auth-param (MUST be one or more)".into(),
        );
    }
    for name in ["realm", "scope", "error", "error_description", "error_uri"] {
        let n = c.params.iter().filter(|p| p.name == name).count();
        if n > 1 {
            problems.push(format!(
                "{name} appears {n} times (MUST NOT appear more than once)"
            ));
        }
    }
    for p in &c.params {
        let ok = match p.name.as_str() {
            // RFC 2617 §1.2: realm-value = quoted-string.
            "realm" if !p.quoted => {
                problems.push("realm is not a quoted-string (RFC 2617 §1.2)".into());
                true
            }
            "error" | "error_description" => p.value.chars().all(nqschar),
            "error_uri" => !p.value.is_empty() && p.value.chars().all(nqchar),
            "scope" => p.value.split(' ').all(|t| t.chars().all(nqchar)),
            _ => true,
        };
        if !ok {
            problems.push(format!(
                "{} has characters outside the set RFC 6750 §3 allows: {:?}",
                p.name, p.value
            ));
        }
    }
    problems
}

#[then(expr = "the Bearer challenge is well formed")]
async fn challenge_well_formed(w: &mut OAuthWorld) -> Check {
    let x = w.last()?;
    // RFC 6750 §3 owes a challenge to a request that "does not include authentication
    // credentials or does not contain an access token that enables access". A request
    // the resource answered for one of the users carried such a token (in the header
    // and the body, say): no challenge is due; whether it should have been refused is
    // judged by its own scenario.
    if x.status == 200 && answered_for_a_user(w, x) {
        return Ok(());
    }
    let challenges = bearer_challenges(x).map_err(|e| {
        Mismatch::in_exchange(
            "a WWW-Authenticate field in the challenge grammar (RFC 6750 §3, RFC 7235 §4.1)",
            e,
            x,
        )
    })?;
    ensure(
        !challenges.is_empty(),
        "a Bearer challenge (RFC 6750 §3)",
        || format!("WWW-Authenticate {:?}", x.header_all("www-authenticate")),
        x,
    )?;
    let problems: Vec<String> = challenges.iter().flat_map(challenge_problems).collect();
    ensure(
        problems.is_empty(),
        "a Bearer challenge as RFC 6750 §3 defines it",
        || problems.join("; "),
        x,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(s: &str) -> Challenge {
        let mut cs = parse_challenges(s).unwrap_or_default();
        assert_eq!(cs.len(), 1, "{s}");
        cs.remove(0)
    }

    /// The RFC 6750 §3 examples parse and pass.
    #[test]
    fn rfc_examples() {
        let c = one(
            "Bearer realm=\"example\", error=\"invalid_token\", error_description=\"The access token expired\"",
        );
        assert_eq!(c.params.len(), 3);
        assert!(challenge_problems(&c).is_empty());
        assert!(challenge_problems(&one("Bearer realm=\"example\"")).is_empty());
    }

    /// Several challenges in one field are told apart, token68 included.
    #[test]
    fn several_challenges() {
        let cs = parse_challenges(
            "Basic realm=\"a\", Bearer realm=\"b\", scope=\"x y\", Negotiate abc==",
        )
        .unwrap_or_default();
        let schemes: Vec<&str> = cs.iter().map(|c| c.scheme.as_str()).collect();
        assert_eq!(schemes, ["Basic", "Bearer", "Negotiate"]);
        assert_eq!(cs[1].params.len(), 2);
    }

    /// What §3 forbids is reported.
    #[test]
    fn problems() {
        assert!(!challenge_problems(&one("Bearer")).is_empty());
        assert!(!challenge_problems(&one("Bearer realm=\"a\", realm=\"b\"")).is_empty());
        assert!(!challenge_problems(&one("Bearer realm=a")).is_empty());
        assert!(!challenge_problems(&one("Bearer error_description=\"tab\there\"")).is_empty());
        assert!(!challenge_problems(&one("Bearer error=\"a\\\"b\"")).is_empty());
        assert!(parse_challenges("Bearer realm=\"open").is_err());
        assert!(parse_challenges("Bearer realm=\"a\" error=\"b\"").is_err());
    }
}

//! What every answer must look like, by the endpoint the path names: never a 5xx, never
//! a dropped connection for a well-formed request, and errors in the shape the spec of
//! that endpoint gives them.

use serde_json::Value;

use crate::common::wire::{WireRequest, WireResponse};
use crate::common::{TOKEN_ERRORS, is_description_charset};

/// The endpoint a path reaches, as the server dispatches.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Endpoint {
    Token,
    Revoke,
    Introspect,
    Authorize,
    Me,
    Metadata,
    NotFound,
    Garbage,
}

/// How an answer counts for the database check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// A success that may write (tokens issued, a revocation, a code).
    Wrote,
    /// A success that reads only, or a refusal: the database must not change.
    Unchanged,
}

/// RFC 7009 §2.2.1 adds `unsupported_token_type` to the §5.2 codes.
const REVOKE_ERRORS: &[&str] = &[
    "invalid_request",
    "invalid_client",
    "unauthorized_client",
    "unsupported_token_type",
];
/// RFC 7662 §2.3 uses the §5.2 codes (no grant there).
const INTROSPECT_ERRORS: &[&str] = &["invalid_request", "invalid_client", "unauthorized_client"];
/// RFC 6749 §4.1.2.1.
const AUTHORIZE_ERRORS: &[&str] = &[
    "invalid_request",
    "unauthorized_client",
    "access_denied",
    "unsupported_response_type",
    "invalid_scope",
];

/// The endpoint of a request target (origin or absolute form).
pub fn endpoint_of(req: &WireRequest) -> Endpoint {
    if req.garbage.is_some() {
        return Endpoint::Garbage;
    }
    let target = String::from_utf8_lossy(&req.target);
    let target = target.strip_prefix("http://127.0.0.1").unwrap_or(&target);
    match target.split('?').next().unwrap_or_default() {
        "/oauth/token" => Endpoint::Token,
        "/oauth/revoke" => Endpoint::Revoke,
        "/oauth/introspect" => Endpoint::Introspect,
        "/oauth/authorize" => Endpoint::Authorize,
        "/api/me" => Endpoint::Me,
        "/.well-known/oauth-authorization-server" => Endpoint::Metadata,
        _ => Endpoint::NotFound,
    }
}

/// Whether the request breaks HTTP/1.1 itself, so hyper may refuse it before any
/// endpoint sees it (bytes a request target or header may not hold, a method that is
/// no token, a transfer coding it does not know, over 100 headers).
pub fn breaks_http(req: &WireRequest) -> bool {
    req.garbage.is_some()
        || !req.target.starts_with(b"/")
        || req.target.len() >= crate::common::wire::MAX_URI
        || req.target.iter().any(|b| !(0x21..=0x7e).contains(b))
        || req.method.is_empty()
        || !req.method.bytes().all(|b| b.is_ascii_alphanumeric())
        || req.headers.len() > 90
        || req.headers.iter().any(|(k, v)| {
            k == "transfer-encoding" || v.iter().any(|b| (*b < 0x20 && *b != b'\t') || *b == 0x7f)
        })
}

/// Checks an answer; `Err` says what is wrong.
pub fn check(req: &WireRequest, r: &WireResponse) -> Result<Outcome, String> {
    if r.status >= 500 {
        return Err(format!("server error {}", r.status));
    }
    let endpoint = endpoint_of(req);
    if endpoint == Endpoint::Garbage {
        // Anything but a 5xx; a success re-baselines the database check.
        return Ok(if (200..300).contains(&r.status) {
            Outcome::Wrote
        } else {
            Outcome::Unchanged
        });
    }
    if r.status == 0 {
        return Err("the connection closed without an answer".into());
    }
    let hyper_refusal = r.header("content-type").is_none()
        && r.body.is_empty()
        && matches!(r.status, 400 | 414 | 431);
    if hyper_refusal {
        return if breaks_http(req) {
            Ok(Outcome::Unchanged)
        } else {
            Err(format!(
                "refused at the HTTP layer ({}) though well-formed",
                r.status
            ))
        };
    }
    let head = req.method == "HEAD";
    match endpoint {
        Endpoint::Token | Endpoint::Revoke | Endpoint::Introspect => oauth(endpoint, head, r),
        Endpoint::Me => resource(head, r),
        Endpoint::Authorize => authorize(req, r),
        Endpoint::Metadata => match r.status {
            200 => json_body(head, r, "application/json").map(|_| Outcome::Unchanged),
            405 => oauth_error(head, r, &["invalid_request"]).map(|()| Outcome::Unchanged),
            // The body is read (and its limit enforced) before the method is looked at.
            413 => oauth_error(head, r, &["invalid_request"]).map(|()| Outcome::Unchanged),
            s => Err(format!("metadata answered {s}")),
        },
        Endpoint::NotFound => match r.status {
            404 => {
                let v = json_body(head, r, "application/json")?;
                if head || v["error"] == "not_found" {
                    Ok(Outcome::Unchanged)
                } else {
                    Err("404 without error not_found".into())
                }
            }
            // The body is read (and its limit enforced) before the path is looked up.
            413 => oauth_error(head, r, &["invalid_request"]).map(|()| Outcome::Unchanged),
            s => Err(format!("an unknown path answered {s}")),
        },
        Endpoint::Garbage => Ok(Outcome::Unchanged),
    }
}

fn json_body(head: bool, r: &WireResponse, media: &str) -> Result<Value, String> {
    if r.media_type() != media {
        return Err(format!(
            "content type {:?}, expected {media}",
            r.media_type()
        ));
    }
    if head {
        return Ok(Value::Null);
    }
    serde_json::from_slice(&r.body).map_err(|e| format!("body is not JSON: {e}"))
}

fn no_store(r: &WireResponse) -> Result<(), String> {
    if r.header("cache-control").as_deref() == Some("no-store") {
        Ok(())
    } else {
        Err("no Cache-Control: no-store".into())
    }
}

/// RFC 6749 §5.2 (and RFC 7009 §2.2.1, RFC 7662 §2.3): a JSON object with a known
/// `error`, only the three members, a clean description, no-store.
fn oauth_error(head: bool, r: &WireResponse, codes: &[&str]) -> Result<(), String> {
    let v = json_body(head, r, "application/json")?;
    no_store(r)?;
    if head {
        return Ok(());
    }
    let Some(obj) = v.as_object() else {
        return Err("error body is not an object".into());
    };
    let code = obj.get("error").and_then(Value::as_str).unwrap_or_default();
    if !codes.contains(&code) {
        return Err(format!("error {code:?} is not one of {codes:?}"));
    }
    for (k, val) in obj {
        if !["error", "error_description", "error_uri"].contains(&k.as_str()) {
            return Err(format!("unexpected member {k}"));
        }
        if !val.as_str().is_some_and(is_description_charset) {
            return Err(format!(
                "{k} is not a string in %x20-21 / %x23-5B / %x5D-7E"
            ));
        }
    }
    Ok(())
}

fn oauth(endpoint: Endpoint, head: bool, r: &WireResponse) -> Result<Outcome, String> {
    let codes = match endpoint {
        Endpoint::Token => TOKEN_ERRORS,
        Endpoint::Revoke => REVOKE_ERRORS,
        _ => INTROSPECT_ERRORS,
    };
    match (endpoint, r.status) {
        (Endpoint::Token, 200) => {
            let v = json_body(head, r, "application/json")?;
            no_store(r)?;
            if v["access_token"].is_string() && v["token_type"] == "Bearer" {
                Ok(Outcome::Wrote)
            } else {
                Err("200 without a §5.1 token response".into())
            }
        }
        (Endpoint::Revoke, 200) => Ok(Outcome::Wrote),
        (Endpoint::Introspect, 200) => {
            let v = json_body(head, r, "application/json")?;
            if head || v["active"].is_boolean() {
                Ok(Outcome::Unchanged)
            } else {
                Err("introspection answer without a boolean active".into())
            }
        }
        (_, 400 | 413) => oauth_error(head, r, codes).map(|()| Outcome::Unchanged),
        // Brute-force throttling of the password grant (RFC 6749 §4.3.2).
        (Endpoint::Token, 429) => {
            oauth_error(head, r, &["invalid_grant"])?;
            retry_after(r).map(|()| Outcome::Unchanged)
        }
        (_, 401) => {
            oauth_error(head, r, codes)?;
            match r.header("www-authenticate") {
                Some(c) if c.starts_with("Basic realm=") => Ok(Outcome::Unchanged),
                c => Err(format!("401 with challenge {c:?}")),
            }
        }
        (_, 405) => {
            oauth_error(head, r, codes)?;
            if r.header("allow").as_deref() == Some("POST") {
                Ok(Outcome::Unchanged)
            } else {
                Err("405 without Allow: POST".into())
            }
        }
        (_, s) => Err(format!("status {s}")),
    }
}

/// A throttled answer says when to come back: `Retry-After` in whole seconds.
fn retry_after(r: &WireResponse) -> Result<(), String> {
    match r.header("retry-after").map(|v| v.parse::<u64>()) {
        Some(Ok(n)) if n > 0 => Ok(()),
        v => Err(format!("429 with Retry-After {v:?}")),
    }
}

/// RFC 6750 §3: a Bearer challenge and a JSON:API error document.
fn resource(head: bool, r: &WireResponse) -> Result<Outcome, String> {
    if r.status == 200 {
        let v = json_body(head, r, "application/json")?;
        return if head || (v["id"].is_i64() && v["email"].is_string()) {
            Ok(Outcome::Unchanged)
        } else {
            Err("200 without id and email".into())
        };
    }
    if !matches!(r.status, 400 | 401 | 403 | 405 | 413) {
        return Err(format!("/api/me answered {}", r.status));
    }
    let challenges = r.header_count("www-authenticate");
    let expected = usize::from(r.status != 405);
    if challenges != expected {
        return Err(format!(
            "{challenges} WWW-Authenticate headers on {}",
            r.status
        ));
    }
    if expected == 1
        && !r
            .header("www-authenticate")
            .is_some_and(|c| c.starts_with("Bearer realm=\""))
    {
        return Err("challenge is not Bearer with a realm".into());
    }
    let v = json_body(head, r, "application/vnd.api+json")?;
    if head {
        return Ok(Outcome::Unchanged);
    }
    let e = &v["errors"][0];
    if e["status"].as_str() == Some(r.status.to_string().as_str())
        && e["code"].is_string()
        && e["detail"].is_string()
    {
        Ok(Outcome::Unchanged)
    } else {
        Err("no JSON:API error document".into())
    }
}

/// RFC 6749 §4.1.2.1: an HTML page (login, or an error the user reads), or a 303 back
/// to the client with a code or an error.
fn authorize(req: &WireRequest, r: &WireResponse) -> Result<Outcome, String> {
    match r.status {
        200 | 400 | 403 | 405 | 413 | 429 => {
            if r.status == 429 {
                // Brute-force throttling of the login form: only a sign-in is throttled.
                if req.method != "POST" {
                    return Err("429 for something other than a sign-in".into());
                }
                retry_after(r)?;
            }
            if r.media_type() != "text/html" {
                return Err(format!("{} page as {:?}", r.status, r.media_type()));
            }
            if r.header("x-frame-options").as_deref() != Some("DENY") {
                return Err("page without X-Frame-Options".into());
            }
            Ok(Outcome::Unchanged)
        }
        303 => {
            let location = r.header("location").ok_or("303 without Location")?;
            let query = location.split_once('?').map(|(_, q)| q).unwrap_or_default();
            let param = |name: &str| {
                query
                    .split('&')
                    .find_map(|p| p.strip_prefix(name).and_then(|v| v.strip_prefix('=')))
            };
            if param("iss").is_none() {
                return Err("redirect without iss (RFC 9207)".into());
            }
            match (param("code"), param("error")) {
                (Some(_), None) if req.method == "POST" => Ok(Outcome::Wrote),
                (None, Some(e)) if AUTHORIZE_ERRORS.contains(&e) => Ok(Outcome::Unchanged),
                _ => Err(format!(
                    "redirect carries neither a code after a POST nor a known error: {location}"
                )),
            }
        }
        s => Err(format!("authorization endpoint answered {s}")),
    }
}

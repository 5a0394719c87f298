//! `GET|POST /api/me`: the bearer-protected resource (RFC 6750). Errors carry an
//! RFC 6750 §3 challenge and a JSON:API error document, the seed design's format.

use serde_json::json;
use warp::http::header::{ALLOW, WWW_AUTHENTICATE};
use warp::http::{Method, StatusCode};
use warp::reply::Response;

use super::Request;
use super::error::clean_description;
use super::respond::{json_as, no_store, with_header};
use crate::State;
use crate::grant::now;
use crate::secret;
use crate::store::tokens;

/// The scope `/api/me` requires.
pub const REQUIRED_SCOPE: &str = "profile";

const JSON_API: &str = "application/vnd.api+json";

/// A refusal at the resource (RFC 6750 §3.1).
#[derive(Debug)]
enum Refusal {
    /// No credentials: 401 and a challenge without `error` ("If the request lacks any
    /// authentication information ..., the resource server SHOULD NOT include an error
    /// code or other error information.").
    NoCredentials,
    /// 400 `invalid_request`: malformed, or the token sent more than one way.
    InvalidRequest(&'static str),
    /// 401 `invalid_token`: "expired, revoked, malformed, or invalid for other reasons".
    InvalidToken(&'static str),
    /// 403 `insufficient_scope`.
    InsufficientScope,
    /// 405 for methods other than GET and POST.
    MethodNotAllowed,
    /// 413: the body is over the server's limit.
    TooLarge,
    /// 500 without details.
    Internal,
    /// 503 with `Retry-After`: the database cannot be reached.
    Unavailable,
}

/// The refusal of a request whose body could not be read.
pub fn body_error(e: super::BodyError, realm: &str) -> Response {
    match e {
        super::BodyError::TooLarge => refuse(Refusal::TooLarge, realm),
        super::BodyError::Unreadable => refuse(
            Refusal::InvalidRequest("the request body could not be read"),
            realm,
        ),
    }
}

/// Handles `/api/me`.
pub async fn handle(state: &State, req: &Request) -> Response {
    match me(state, req).await {
        Ok(r) => r,
        Err(refusal) => refuse(refusal, &state.config.realm),
    }
}

async fn me(state: &State, req: &Request) -> Result<Response, Refusal> {
    if req.method != Method::GET && req.method != Method::POST {
        return Err(Refusal::MethodNotAllowed);
    }
    let token = presented_token(req)?;
    let info = tokens::find_active_access(&state.db, &secret::digest(&token), now())
        .await
        .map_err(|e| {
            tracing::error!(error = %e, "token lookup failed");
            if e.is_unavailable() {
                Refusal::Unavailable
            } else {
                Refusal::Internal
            }
        })?
        .ok_or(Refusal::InvalidToken(
            "the access token is invalid, expired or revoked",
        ))?;
    if !info.info.scope.contains(REQUIRED_SCOPE) {
        return Err(Refusal::InsufficientScope);
    }
    let user_id = info.info.user_id.ok_or(Refusal::InvalidToken(
        "the access token does not represent a user",
    ))?;
    let email = info.email.as_deref().ok_or(Refusal::InvalidToken(
        "the access token's user no longer exists",
    ))?;
    let body = json!({"id": user_id, "email": email});
    Ok(no_store(super::respond::json(StatusCode::OK, &body)))
}

/// Finds the one bearer token of the request (RFC 6750 §2).
///
/// - §2.1 Authorization header, scheme `Bearer` (case-insensitive), `b64token` syntax.
/// - §2.2 form body, only for a form-encoded POST.
/// - §2.3 query parameter: not accepted here (RFC 9700 §4.3.2 forbids it), refused with
///   `invalid_request` so the client learns why.
/// - "Clients MUST NOT use more than one method to transmit the token in each request."
fn presented_token(req: &Request) -> Result<String, Refusal> {
    let malformed = |_| Refusal::InvalidRequest("the request is malformed");
    let header = req.authorization().map_err(malformed)?;
    let from_header = match header {
        Some(value) => bearer(value)?,
        None => None,
    };
    let from_body = if req.method == Method::POST && req.is_form() {
        let params = crate::grant::params::Params::parse(&req.body).map_err(|_| {
            Refusal::InvalidRequest("the form body is not valid application/x-www-form-urlencoded")
        })?;
        params.get("access_token").map(str::to_owned)
    } else {
        None
    };
    let query = req.query_params().map_err(malformed)?;
    if query.has("access_token") {
        return Err(Refusal::InvalidRequest(
            "access tokens are not accepted in the query string; use the Authorization header",
        ));
    }
    match (from_header, from_body) {
        (Some(_), Some(_)) => Err(Refusal::InvalidRequest(
            "the access token was sent by more than one method",
        )),
        (Some(t), None) | (None, Some(t)) => Ok(t),
        (None, None) => Err(Refusal::NoCredentials),
    }
}

/// Parses `Bearer <b64token>`. Another scheme is no bearer credential at all (`None`);
/// `Bearer` with a missing or malformed token is `invalid_request`.
fn bearer(value: &[u8]) -> Result<Option<String>, Refusal> {
    let bad = Refusal::InvalidRequest("the Authorization header is not a valid Bearer credential");
    let Ok(value) = std::str::from_utf8(value) else {
        return Err(bad);
    };
    let (scheme, rest) = value.split_once(' ').unwrap_or((value, ""));
    if !scheme.eq_ignore_ascii_case("bearer") {
        return Ok(None);
    }
    let token = rest.trim_matches(' ');
    // b64token = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="
    let body = token.trim_end_matches('=');
    let ok = !body.is_empty()
        && body
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-._~+/".contains(&b));
    if ok {
        Ok(Some(token.to_owned()))
    } else {
        Err(bad)
    }
}

/// The refusal response: status, `WWW-Authenticate: Bearer ...` and a JSON:API error.
fn refuse(refusal: Refusal, realm: &str) -> Response {
    let (status, code, title, detail): (StatusCode, Option<&str>, &str, &str) = match &refusal {
        Refusal::NoCredentials => (
            StatusCode::UNAUTHORIZED,
            None,
            "Authentication required",
            "send an access token in the Authorization header with the Bearer scheme",
        ),
        Refusal::InvalidRequest(d) => (
            StatusCode::BAD_REQUEST,
            Some("invalid_request"),
            "Invalid request",
            d,
        ),
        Refusal::InvalidToken(d) => (
            StatusCode::UNAUTHORIZED,
            Some("invalid_token"),
            "Invalid token",
            d,
        ),
        Refusal::InsufficientScope => (
            StatusCode::FORBIDDEN,
            Some("insufficient_scope"),
            "Insufficient scope",
            "the access token does not carry the scope this resource requires",
        ),
        Refusal::MethodNotAllowed => (
            StatusCode::METHOD_NOT_ALLOWED,
            Some("method_not_allowed"),
            "Method not allowed",
            "this resource accepts GET and POST only",
        ),
        Refusal::TooLarge => (
            StatusCode::PAYLOAD_TOO_LARGE,
            Some("invalid_request"),
            "Request too large",
            "the request body is over the server's limit",
        ),
        Refusal::Internal => (
            StatusCode::INTERNAL_SERVER_ERROR,
            Some("server_error"),
            "Server error",
            "the server could not process the request",
        ),
        Refusal::Unavailable => (
            StatusCode::SERVICE_UNAVAILABLE,
            Some("temporarily_unavailable"),
            "Service unavailable",
            "the server's database is unavailable; retry shortly",
        ),
    };
    let document = json!({
        "errors": [{
            "status": status.as_str(),
            "code": code.unwrap_or("unauthorized"),
            "title": title,
            "detail": detail,
        }]
    });
    let mut r = no_store(json_as(status, &document, JSON_API));
    let challenge = match (&refusal, code) {
        (Refusal::MethodNotAllowed | Refusal::Internal | Refusal::Unavailable, _) => None,
        (Refusal::NoCredentials, _) | (_, None) => Some(format!("Bearer realm=\"{realm}\"")),
        (Refusal::InsufficientScope, Some(code)) => Some(format!(
            "Bearer realm=\"{realm}\", error=\"{code}\", error_description=\"{}\", scope=\"{REQUIRED_SCOPE}\"",
            clean_description(detail)
        )),
        (_, Some(code)) => Some(format!(
            "Bearer realm=\"{realm}\", error=\"{code}\", error_description=\"{}\"",
            clean_description(detail)
        )),
    };
    if let Some(c) = challenge {
        r = with_header(r, WWW_AUTHENTICATE, &c);
    }
    if matches!(refusal, Refusal::MethodNotAllowed) {
        r = with_header(r, ALLOW, "GET, POST");
    }
    if matches!(refusal, Refusal::Unavailable) {
        r = with_header(
            r,
            warp::http::header::RETRY_AFTER,
            super::error::UNAVAILABLE_RETRY_AFTER,
        );
    }
    r
}

//! The one error edge: every failure of the token, revocation and introspection
//! endpoints becomes an RFC 6749 §5.2 response here, and every internal cause becomes a
//! logged `server_error` with no details for the client.

use warp::http::StatusCode;
use warp::http::header::{RETRY_AFTER, WWW_AUTHENTICATE};
use warp::reply::Response;

use super::respond::{json, no_store, with_header};
use crate::grant::{ErrorCode, OAuthError};
use crate::password::PasswordError;
use crate::store::StoreError;
use crate::throttle::Refused;

/// A failed request at an OAuth endpoint.
#[derive(Debug, thiserror::Error)]
pub enum HttpError {
    /// A protocol error for the client.
    #[error(transparent)]
    OAuth(#[from] OAuthError),
    /// Storage failed.
    #[error("storage failed")]
    Store(#[from] StoreError),
    /// Password verification failed to run.
    #[error("password verification failed")]
    Password(#[from] PasswordError),
    /// The CSPRNG failed.
    #[error("random generator failed")]
    Random(#[from] getrandom::Error),
}

impl HttpError {
    /// Whether the database could not be reached (or had no free connection in time):
    /// answered 503 with `Retry-After`, since the same request may work shortly.
    pub fn is_unavailable(&self) -> bool {
        matches!(self, Self::Store(e) if e.is_unavailable())
    }
}

/// Seconds a client is asked to wait when the database is unavailable.
pub const UNAVAILABLE_RETRY_AFTER: &str = "1";

/// The HTTP status of an error code (RFC 6749 §5.2: 400 unless otherwise specified;
/// `invalid_client` is 401).
pub fn status_of(code: ErrorCode) -> StatusCode {
    match code {
        ErrorCode::InvalidClient => StatusCode::UNAUTHORIZED,
        ErrorCode::ServerError => StatusCode::INTERNAL_SERVER_ERROR,
        ErrorCode::TemporarilyUnavailable => StatusCode::SERVICE_UNAVAILABLE,
        _ => StatusCode::BAD_REQUEST,
    }
}

/// Keeps only the characters RFC 6749 allows in `error_description`
/// (`%x20-21 / %x23-5B / %x5D-7E`).
pub fn clean_description(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            '\x20'..='\x21' | '\x23'..='\x5B' | '\x5D'..='\x7E' => c,
            _ => '?',
        })
        .collect()
}

/// The §5.2 error response: JSON body, `no-store`, and for 401 a `WWW-Authenticate`
/// challenge ("the authorization server MUST respond with an HTTP 401 (Unauthorized)
/// status code and include the "WWW-Authenticate" response header field matching the
/// authentication scheme used by the client").
///
/// When the database is unavailable the answer is 503 with `Retry-After` and
/// `server_error`: §5.2 has no code for it, and `temporarily_unavailable` belongs to the
/// authorization endpoint (§4.1.2.1). RFC 7009 §2.2.1 names 503 for revocation: "the
/// client must assume the token still exists and may retry after a reasonable delay".
pub fn oauth_error_response(err: HttpError, realm: &str) -> Response {
    if err.is_unavailable() {
        tracing::error!(error = %err, cause = ?std::error::Error::source(&err), "database unavailable");
        let body = serde_json::json!({
            "error": ErrorCode::ServerError.as_str(),
            "error_description": "the server's database is unavailable; retry shortly",
        });
        let r = no_store(json(StatusCode::SERVICE_UNAVAILABLE, &body));
        return with_header(r, RETRY_AFTER, UNAVAILABLE_RETRY_AFTER);
    }
    let error = match err {
        HttpError::OAuth(e) => e,
        other => {
            tracing::error!(error = %other, cause = ?std::error::Error::source(&other), "internal error");
            OAuthError::new(
                ErrorCode::ServerError,
                "the server could not process the request",
            )
        }
    };
    let status = status_of(error.code);
    let body = serde_json::json!({
        "error": error.code.as_str(),
        "error_description": clean_description(&error.description),
    });
    let mut r = no_store(json(status, &body));
    if status == StatusCode::UNAUTHORIZED {
        r = with_header(r, WWW_AUTHENTICATE, &format!("Basic realm=\"{realm}\""));
    }
    r
}

/// The refusal of a password grant while its account and client address are blocked
/// (RFC 6749 §4.3.2: "the authorization server MUST protect the endpoint against brute
/// force attacks"): 429 Too Many Requests with `Retry-After` (RFC 6585 §4), in the §5.2
/// shape. The code is `invalid_grant`, the one §5.2 gives refused resource owner
/// credentials, which every client already handles; `temporarily_unavailable` exists
/// only at the authorization endpoint (§4.1.2.1) and speaks of the whole server.
pub fn too_many_attempts(refused: Refused) -> Response {
    let seconds = refused.seconds();
    let body = serde_json::json!({
        "error": ErrorCode::InvalidGrant.as_str(),
        "error_description": format!(
            "too many failed sign-in attempts; retry after {seconds} seconds"
        ),
    });
    let r = no_store(json(StatusCode::TOO_MANY_REQUESTS, &body));
    with_header(r, RETRY_AFTER, &seconds.to_string())
}

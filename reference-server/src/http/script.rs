//! The script login UI ([`crate::config::LoginUi::Script`]): the JSON API its script
//! calls, its consent page, and the script itself. The login page is served by the
//! authorization endpoint's GET, as in the plain UI.
//!
//! - `GET /oauth/authorize/ui.js`: the script.
//! - `POST /oauth/authorize/login`: a form-encoded body with the authorization request
//!   as the page carries it, `csrf_token`, `username` and `password`; answers
//!   `200 {"next": url}` with the consent page, or the client's redirection URI with an
//!   error when the request itself is refused.
//! - `GET /oauth/authorize/consent?interaction=…`: the consent page.
//! - `POST /oauth/authorize/consent`: `interaction`, `csrf_token` and `action`
//!   (`approve` or `deny`); answers `200 {"next": url}`, the client's redirection URI
//!   with `code`, `state` and `iss`, or with `error=access_denied`.
//!
//! Every refusal is `{"error": code, "message": sentence}` with 400, 403, 405 or 429 (and
//! `Retry-After`). The rules are the plain form's, through the same functions: the
//! request revalidated from its parameters, the double-submit CSRF token (RFC 6749
//! §10.12), the brute-force throttle shared with the token endpoint (§10.10), the code
//! bound to client, redirection URI, scope, user and PKCE challenge, `state` and `iss`
//! (RFC 9207) on every redirect, and the same anti-framing, no-cache and no-referrer
//! headers on every answer (RFC 9700 §4.16). Only the format differs: where the plain
//! form answers a 303, the API answers `{"next": url}` and the script navigates there.

use warp::http::header::{ALLOW, CONTENT_TYPE, HeaderName, HeaderValue, RETRY_AFTER};
use warp::http::{Method, StatusCode};
use warp::reply::Response;

use super::Request;
use super::authorize::{
    UNUSABLE_REDIRECT, WRONG_CREDENTIALS, access_denied, client_name, csrf_cookie, csrf_matches,
    error_location, is_usable_location, issue_code, sentence, too_many_attempts, use_pushed,
    validated, with_csrf_cookie,
};
use super::pages::{ConsentView, SCRIPT_PATH, error_page, script_consent_page, secure};
use super::respond::{json, with_header};
use super::signin::{SignIn, sign_in};
use crate::State;
use crate::consent::{Pending, Refusal};
use crate::grant::authorize::AuthorizeError;
use crate::secret::{self, Secret};

/// The sign-in API.
pub const LOGIN_PATH: &str = "/oauth/authorize/login";

/// The consent page (GET) and the consent API (POST).
pub const CONSENT_PATH: &str = "/oauth/authorize/consent";

/// The script, served as is.
const SCRIPT: &str = include_str!("ui.js");

/// What an unknown or answered interaction is told.
const EXPIRED: &str =
    "This sign-in has expired or was already answered. Go back to the application and start again.";

/// What an interaction used from another browser is told.
const OTHER_BROWSER: &str =
    "This sign-in was not made in this browser. Go back to the application and start again.";

/// Whether a path belongs to the script login UI.
pub fn serves(path: &str) -> bool {
    matches!(path, SCRIPT_PATH | LOGIN_PATH | CONSENT_PATH)
}

/// Handles the script login UI's paths (see [`serves`]).
pub async fn handle(state: &State, req: &Request) -> Response {
    match (req.path.as_str(), &req.method) {
        (SCRIPT_PATH, &Method::GET | &Method::HEAD) => script(),
        (SCRIPT_PATH, _) => not_allowed("GET, HEAD"),
        (LOGIN_PATH, &Method::POST) => login(state, req).await.unwrap_or_else(internal),
        (LOGIN_PATH, _) => not_allowed("POST"),
        (CONSENT_PATH, &Method::GET) => consent_page(state, req).await.unwrap_or_else(|e| {
            tracing::error!(error = %e, cause = ?std::error::Error::source(&e), "consent page failed");
            error_page(
                StatusCode::INTERNAL_SERVER_ERROR,
                "The server could not process the request.",
            )
        }),
        (CONSENT_PATH, &Method::POST) => consent(state, req).await.unwrap_or_else(internal),
        (CONSENT_PATH, _) => not_allowed("GET, POST"),
        _ => refusal(StatusCode::NOT_FOUND, "not_found", "No such page."),
    }
}

/// The script, with the page headers and `nosniff`.
fn script() -> Response {
    let r = warp::http::Response::new(SCRIPT.into());
    let mut r = secure(r);
    r.headers_mut().insert(
        CONTENT_TYPE,
        HeaderValue::from_static("text/javascript; charset=utf-8"),
    );
    r.headers_mut().insert(
        HeaderName::from_static("x-content-type-options"),
        HeaderValue::from_static("nosniff"),
    );
    r
}

/// `POST /oauth/authorize/login`: the plain form's Approve without its consent, which
/// the consent page asks next.
async fn login(state: &State, req: &Request) -> Result<Response, super::HttpError> {
    let params = match req.form() {
        Ok(p) => p,
        Err(e) => return Ok(bad_request(&sentence(&e))),
    };
    let request = match validated(state, &params).await? {
        Ok(r) => r,
        Err(AuthorizeError::Page(message)) => return Ok(bad_request(message)),
        Err(AuthorizeError::Redirect {
            redirect_uri,
            state: client_state,
            error,
        }) => {
            return Ok(next(&error_location(
                state,
                &redirect_uri,
                client_state.as_deref(),
                &error,
            )));
        }
    };
    if !csrf_matches(req, params.get("csrf_token")) {
        return Ok(csrf_refused());
    }
    let password = params.get("password").map(Secret::new);
    let addr = req.remote.map(|a| a.ip());
    let user = match sign_in(state, params.get("username"), password.as_ref(), addr).await? {
        SignIn::Valid(user) => user,
        SignIn::Invalid => {
            return Ok(refusal(
                StatusCode::BAD_REQUEST,
                "invalid_credentials",
                WRONG_CREDENTIALS,
            ));
        }
        SignIn::Throttled(refused) => {
            let seconds = refused.seconds();
            let body = serde_json::json!({
                "error": "too_many_attempts",
                "message": too_many_attempts(seconds),
                "retry_after": seconds,
            });
            let r = secure(json(StatusCode::TOO_MANY_REQUESTS, &body));
            return Ok(with_header(r, RETRY_AFTER, &seconds.to_string()));
        }
    };
    // csrf_matches saw the cookie: the sign-in is bound to it.
    let cookie = csrf_cookie(req).unwrap_or_default();
    let pending = Pending {
        request,
        user_id: user.id,
        email: user.email,
    };
    let id = state.consents.insert(pending, &cookie)?;
    Ok(next(&format!("{CONSENT_PATH}?interaction={}", id.expose())))
}

/// `GET /oauth/authorize/consent`: the consent page of a sign-in made in this browser,
/// with a fresh CSRF token.
async fn consent_page(state: &State, req: &Request) -> Result<Response, super::HttpError> {
    let params = match req.query_params() {
        Ok(p) => p,
        Err(e) => return Ok(error_page(StatusCode::BAD_REQUEST, &sentence(&e))),
    };
    let Some(id) = params.get("interaction") else {
        return Ok(error_page(
            StatusCode::BAD_REQUEST,
            "The consent page was opened without signing in. Go back to the application and start again.",
        ));
    };
    let csrf = secret::generate()?;
    let pending = match state
        .consents
        .rebind(id, csrf_cookie(req).as_deref(), &csrf)
    {
        Ok(p) => p,
        Err(Refusal::Unknown) => return Ok(error_page(StatusCode::BAD_REQUEST, EXPIRED)),
        Err(Refusal::OtherBrowser) => {
            return Ok(error_page(StatusCode::FORBIDDEN, OTHER_BROWSER));
        }
    };
    let client_name = client_name(state, &pending.request.client_id).await?;
    let view = ConsentView {
        client_name: &client_name,
        scope: &pending.request.scope,
        email: &pending.email,
        interaction: id,
        csrf: csrf.expose(),
    };
    Ok(with_csrf_cookie(script_consent_page(&view), &csrf, state))
}

/// `POST /oauth/authorize/consent`: Approve issues the code, Deny sends
/// `access_denied`; either ends the sign-in.
async fn consent(state: &State, req: &Request) -> Result<Response, super::HttpError> {
    let params = match req.form() {
        Ok(p) => p,
        Err(e) => return Ok(bad_request(&sentence(&e))),
    };
    if !csrf_matches(req, params.get("csrf_token")) {
        return Ok(csrf_refused());
    }
    let approve = match params.get("action") {
        Some("approve") => true,
        Some("deny") => false,
        _ => {
            return Ok(bad_request(
                "The consent must be answered with Approve or Deny.",
            ));
        }
    };
    let Some(id) = params.get("interaction") else {
        return Ok(bad_request("The consent names no sign-in."));
    };
    let pending = match state.consents.take(id, csrf_cookie(req).as_deref()) {
        Ok(p) => p,
        Err(Refusal::Unknown) => {
            return Ok(refusal(StatusCode::BAD_REQUEST, "expired", EXPIRED));
        }
        Err(Refusal::OtherBrowser) => {
            return Ok(refusal(
                StatusCode::FORBIDDEN,
                "other_browser",
                OTHER_BROWSER,
            ));
        }
    };
    let request = &pending.request;
    // A pushed request (RFC 9126) is used once, when it is answered.
    if !use_pushed(state, request).await? {
        return Ok(bad_request(
            "This authorization request was already answered or has expired.",
        ));
    }
    if !approve {
        return Ok(next(&error_location(
            state,
            &request.redirect_uri,
            request.state.as_deref(),
            &access_denied(),
        )));
    }
    let location = issue_code(state, request, pending.user_id).await?;
    Ok(next(&location))
}

/// `200 {"next": url}`: where the script goes next (a 303 in the plain UI).
fn next(url: &str) -> Response {
    if !is_usable_location(url) {
        return bad_request(UNUSABLE_REDIRECT);
    }
    secure(json(StatusCode::OK, &serde_json::json!({ "next": url })))
}

/// A refusal: `{"error": code, "message": sentence}` with the page headers.
fn refusal(status: StatusCode, error: &str, message: &str) -> Response {
    secure(json(
        status,
        &serde_json::json!({ "error": error, "message": message }),
    ))
}

/// 400 `invalid_request`.
fn bad_request(message: &str) -> Response {
    refusal(StatusCode::BAD_REQUEST, "invalid_request", message)
}

/// 403 for a missing or wrong CSRF token, as the plain form's 403 page.
fn csrf_refused() -> Response {
    refusal(
        StatusCode::FORBIDDEN,
        "invalid_csrf_token",
        "The page expired or was not loaded from this site. Reload it and try again.",
    )
}

/// 405 with `Allow`.
fn not_allowed(allow: &'static str) -> Response {
    let r = refusal(
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
        &format!("This address accepts {allow} only."),
    );
    with_header(r, ALLOW, allow)
}

/// 500 for a failure of the server itself, logged.
fn internal(e: super::HttpError) -> Response {
    tracing::error!(error = %e, cause = ?std::error::Error::source(&e), "login API failed");
    if e.is_unavailable() {
        return with_header(
            refusal(
                StatusCode::SERVICE_UNAVAILABLE,
                "temporarily_unavailable",
                "The server is temporarily unavailable. Please try again shortly.",
            ),
            warp::http::header::RETRY_AFTER,
            super::error::UNAVAILABLE_RETRY_AFTER,
        );
    }
    refusal(
        StatusCode::INTERNAL_SERVER_ERROR,
        "server_error",
        "The server could not process the request.",
    )
}

/// The refusal of an unread body (too large or broken), in the API's format.
pub fn body_error(e: super::BodyError) -> Response {
    match e {
        super::BodyError::TooLarge => refusal(
            StatusCode::PAYLOAD_TOO_LARGE,
            "invalid_request",
            "The request is too large.",
        ),
        super::BodyError::Unreadable => bad_request("The request could not be read."),
    }
}

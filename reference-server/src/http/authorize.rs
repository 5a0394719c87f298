//! `GET|POST /oauth/authorize` (RFC 6749 §3.1, §4.1.1, §4.1.2): the login and consent
//! page, and the redirect back to the client with a code (or an error), `state` and
//! `iss` (RFC 9207). With the script login UI, GET serves that UI's login page; its
//! JSON API (in `script.rs`) calls the checks and code issuance shared here.

use warp::Reply as _;
use warp::http::header::{COOKIE, HeaderValue, LOCATION, RETRY_AFTER, SET_COOKIE};
use warp::http::{Method, StatusCode};
use warp::reply::Response;

use super::Request;
use super::pages::{LoginForm, error_page, login_page, script_login_page, secure};
use super::respond::with_header;
use super::signin::{SignIn, sign_in};
use crate::State;
use crate::config::LoginUi;
use crate::grant::authorize::{AuthorizeError, AuthorizeRequest, validate};
use crate::grant::params::{Params, encode_component};
use crate::grant::{OAuthError, now};
use crate::secret::{self, Secret};
use crate::store::codes::{self, NewCode};
use crate::store::pushed;

const CSRF_COOKIE: &str = "oauth_csrf";

/// What a wrong email or password is told, in both login UIs.
pub const WRONG_CREDENTIALS: &str = "The email or password is incorrect.";

/// What a blocked account and address are told, in both login UIs.
pub fn too_many_attempts(seconds: u64) -> String {
    format!("Too many failed sign-in attempts for this account. Try again in {seconds} seconds.")
}

/// Handles the authorization endpoint. "The authorization server MUST support the use
/// of the HTTP "GET" method for the authorization endpoint and MAY support the use of
/// the "POST" method as well." (§3.1) Here GET shows the page and POST submits it.
pub async fn handle(state: &State, req: &Request) -> Response {
    let result = match req.method {
        Method::GET => show(state, req).await,
        Method::POST => submit(state, req).await,
        _ => Ok(with_header(
            error_page(
                StatusCode::METHOD_NOT_ALLOWED,
                "The authorization endpoint accepts GET and POST only.",
            ),
            warp::http::header::ALLOW,
            "GET, POST",
        )),
    };
    result.unwrap_or_else(|e| {
        tracing::error!(error = %e, cause = ?std::error::Error::source(&e), "authorization endpoint failed");
        if e.is_unavailable() {
            return with_header(
                error_page(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "The server is temporarily unavailable. Please try again shortly.",
                ),
                RETRY_AFTER,
                super::error::UNAVAILABLE_RETRY_AFTER,
            );
        }
        error_page(StatusCode::INTERNAL_SERVER_ERROR, "The server could not process the request.")
    })
}

async fn show(state: &State, req: &Request) -> Result<Response, super::HttpError> {
    // "Request and response parameters MUST NOT be included more than once." (§3.1)
    // A repeated or malformed parameter makes client_id and redirect_uri untrustworthy,
    // so the answer is an error page, never a redirect.
    let params = match req.query_params() {
        Ok(p) => p,
        Err(e) => return Ok(error_page(StatusCode::BAD_REQUEST, &sentence(&e))),
    };
    let request = match validated(state, &params).await? {
        Ok(r) => r,
        Err(refusal) => return Ok(refuse(state, refusal)),
    };
    let client_name = client_name(state, &request.client_id).await?;
    let csrf = secret::generate()?;
    let form = LoginForm {
        request: &request,
        client_name: &client_name,
        scope_param: params.get("scope"),
        csrf: csrf.expose(),
        email: None,
        error: None,
    };
    let page = match state.config.login_ui {
        LoginUi::Plain => login_page(&form),
        LoginUi::Script => script_login_page(&form),
    };
    Ok(with_csrf_cookie(page, &csrf, state))
}

async fn submit(state: &State, req: &Request) -> Result<Response, super::HttpError> {
    let params = match req.form() {
        Ok(p) => p,
        Err(e) => return Ok(error_page(StatusCode::BAD_REQUEST, &sentence(&e))),
    };
    let request = match validated(state, &params).await? {
        Ok(r) => r,
        Err(refusal) => return Ok(refuse(state, refusal)),
    };
    if !csrf_matches(req, params.get("csrf_token")) {
        return Ok(error_page(
            StatusCode::FORBIDDEN,
            "The sign-in form expired or was not submitted from this site.",
        ));
    }
    match params.get("action") {
        Some("deny") => {
            if !use_pushed(state, &request).await? {
                return Ok(pushed_request_gone());
            }
            return Ok(redirect(&error_location(
                state,
                &request.redirect_uri,
                request.state.as_deref(),
                &access_denied(),
            )));
        }
        Some("approve") => {}
        _ => {
            return Ok(error_page(
                StatusCode::BAD_REQUEST,
                "The form must be submitted with Approve or Deny.",
            ));
        }
    }
    let email = params.get("email");
    let password = params.get("password").map(Secret::new);
    // Brute-force protection (RFC 6749 §10.10: the server "MUST prevent attackers from
    // guessing ... resource owner passwords"), one count with the token endpoint: a
    // blocked account and address get the form again with 429 and Retry-After,
    // whatever the password.
    let addr = req.remote.map(|a| a.ip());
    // Once the request is validated, a database outage goes back to the client as
    // `temporarily_unavailable` (§4.1.2.1: "the authorization server is currently unable
    // to handle the request due to a temporary overloading or maintenance").
    let unavailable = |e: super::HttpError| {
        if e.is_unavailable() {
            tracing::error!(error = %e, cause = ?std::error::Error::source(&e), "database unavailable");
            Ok(redirect(&error_location(
                state,
                &request.redirect_uri,
                request.state.as_deref(),
                &OAuthError::new(
                    crate::grant::ErrorCode::TemporarilyUnavailable,
                    "the server is temporarily unavailable",
                ),
            )))
        } else {
            Err(e)
        }
    };
    let signed_in = match sign_in(state, email, password.as_ref(), addr).await {
        Ok(s) => s,
        Err(e) => return unavailable(e),
    };
    let user = match signed_in {
        SignIn::Valid(user) => user,
        SignIn::Invalid => {
            return form_again(state, &request, &params, WRONG_CREDENTIALS).await;
        }
        SignIn::Throttled(refused) => {
            let seconds = refused.seconds();
            let message = too_many_attempts(seconds);
            let page = form_again(state, &request, &params, &message).await?;
            let mut page = with_header(page, RETRY_AFTER, &seconds.to_string());
            *page.status_mut() = StatusCode::TOO_MANY_REQUESTS;
            return Ok(page);
        }
    };
    match use_pushed(state, &request).await {
        Ok(true) => {}
        Ok(false) => return Ok(pushed_request_gone()),
        Err(e) => return unavailable(e),
    }
    match issue_code(state, &request, user.id).await {
        Ok(location) => Ok(redirect(&location)),
        Err(e) => unavailable(e),
    }
}

/// RFC 6749 §10.12: the authorization server protects its own endpoint against CSRF.
/// Double submit: the token sent with the form (or the script's request) must equal
/// the SameSite=Strict cookie set with the page.
pub fn csrf_matches(req: &Request, field: Option<&str>) -> bool {
    match (csrf_cookie(req).as_deref(), field) {
        (Some(c), Some(f)) => secret::matches_digest(f, &secret::digest(c)),
        _ => false,
    }
}

/// The refusal of a resource owner who clicked Deny (§4.1.2.1 `access_denied`).
pub fn access_denied() -> OAuthError {
    OAuthError::new(
        crate::grant::ErrorCode::AccessDenied,
        "the resource owner denied the request",
    )
}

/// Stores a code for the approved request of user `user_id` and returns the
/// redirection URI with `code`, `state` and `iss` (§4.1.2, RFC 9207).
pub async fn issue_code(
    state: &State,
    request: &AuthorizeRequest,
    user_id: i64,
) -> Result<String, super::HttpError> {
    let code = secret::generate()?;
    let now = now();
    codes::insert(
        &state.db,
        NewCode {
            digest: code.digest(),
            client_id: &request.client_id,
            user_id,
            redirect_uri: &request.redirect_uri,
            redirect_uri_sent: request.redirect_uri_sent,
            scope: &request.scope,
            challenge: request.challenge.as_ref(),
            expires_at: now + state.config.code_ttl,
        },
        now,
    )
    .await?;
    let mut pairs = vec![("code", code.expose())];
    if let Some(s) = request.state.as_deref() {
        pairs.push(("state", s));
    }
    pairs.push(("iss", state.issuer.as_str()));
    Ok(location(&request.redirect_uri, &pairs))
}

/// The login form again, with a fresh CSRF token, the email kept and a message.
async fn form_again(
    state: &State,
    request: &AuthorizeRequest,
    params: &Params,
    message: &str,
) -> Result<Response, super::HttpError> {
    let client_name = client_name(state, &request.client_id).await?;
    let csrf = secret::generate()?;
    let form = LoginForm {
        request,
        client_name: &client_name,
        scope_param: params.get("scope"),
        csrf: csrf.expose(),
        email: params.get("email"),
        error: Some(message),
    };
    Ok(with_csrf_cookie(login_page(&form), &csrf, state))
}

/// The authorization request in `params`, validated as at the first GET.
pub async fn validated(
    state: &State,
    params: &Params,
) -> Result<Result<AuthorizeRequest, AuthorizeError>, super::HttpError> {
    let client = match params.get("client_id") {
        Some(id) => state.client(id),
        None => None,
    };
    let Some(request_uri) = params.get("request_uri") else {
        // RFC 9126 §5: with require_pushed_authorization_requests, "the authorization
        // server accepts authorization request data only via PAR".
        if state.config.require_par {
            return Ok(Err(AuthorizeError::Page(
                "This server accepts only pushed authorization requests (RFC 9126): push the request first, then send client_id and request_uri.",
            )));
        }
        return Ok(validate(
            params,
            client.as_ref(),
            state.config.pkce_policy(),
        ));
    };
    // RFC 9126 §4: the request carries client_id and request_uri, and the server uses
    // the pushed parameters only. The reference must be this client's, unexpired and
    // unused; anything else is an error page, since no redirection URI can be trusted.
    const INVALID: &str =
        "The request_uri is unknown, expired, already used, or was pushed by another client.";
    let Some(client) = client else {
        return Ok(Err(AuthorizeError::Page(
            "The request has no client_id, or it names no registered client.",
        )));
    };
    let Some(reference) = request_uri.strip_prefix(super::par::REQUEST_URI_PREFIX) else {
        return Ok(Err(AuthorizeError::Page(INVALID)));
    };
    let found = pushed::find(&state.db, &secret::digest(reference)).await?;
    let Some(found) =
        found.filter(|p| p.client_id == client.id && p.used_at.is_none() && p.expires_at > now())
    else {
        return Ok(Err(AuthorizeError::Page(INVALID)));
    };
    let Ok(pushed_params) = Params::parse(found.params.as_bytes()) else {
        return Ok(Err(AuthorizeError::Page(INVALID)));
    };
    Ok(
        validate(&pushed_params, Some(&client), state.config.pkce_policy()).map(|mut r| {
            r.request_uri = Some(request_uri.to_owned());
            r
        }),
    )
}

/// Uses a pushed request once, when it is answered (approved or denied): `false` if it
/// was used meanwhile (another tab, another replica) or expired.
pub async fn use_pushed(
    state: &State,
    request: &AuthorizeRequest,
) -> Result<bool, super::HttpError> {
    let Some(uri) = &request.request_uri else {
        return Ok(true);
    };
    let Some(reference) = uri.strip_prefix(super::par::REQUEST_URI_PREFIX) else {
        return Ok(false);
    };
    Ok(pushed::use_once(
        &state.db,
        &secret::digest(reference),
        &request.client_id,
        now(),
    )
    .await?)
}

/// The error page for a pushed request that was used or expired before it was answered.
pub fn pushed_request_gone() -> Response {
    error_page(
        StatusCode::BAD_REQUEST,
        "This authorization request was already answered or has expired. Start again from the application.",
    )
}

/// The client's display name (its id when it has none).
pub async fn client_name(state: &State, client_id: &str) -> Result<String, super::HttpError> {
    Ok(state
        .client(client_id)
        .map_or_else(|| client_id.to_owned(), |c| c.name))
}

fn refuse(state: &State, refusal: AuthorizeError) -> Response {
    match refusal {
        AuthorizeError::Page(message) => error_page(StatusCode::BAD_REQUEST, message),
        AuthorizeError::Redirect {
            redirect_uri,
            state: client_state,
            error,
        } => redirect(&error_location(
            state,
            &redirect_uri,
            client_state.as_deref(),
            &error,
        )),
    }
}

/// The error response of §4.1.2.1: the redirection URI with `error`,
/// `error_description`, `state` and `iss`.
pub fn error_location(
    state: &State,
    redirect_uri: &str,
    client_state: Option<&str>,
    error: &OAuthError,
) -> String {
    let description = super::clean_description(&error.description);
    let mut pairs = vec![
        ("error", error.code.as_str()),
        ("error_description", description.as_str()),
    ];
    if let Some(s) = client_state {
        pairs.push(("state", s));
    }
    pairs.push(("iss", state.issuer.as_str()));
    location(redirect_uri, &pairs)
}

/// The redirection URI with parameters added to its query, keeping a query the
/// registered URI already has (§3.1.2: "MUST retain the query component").
fn location(redirect_uri: &str, pairs: &[(&str, &str)]) -> String {
    let mut url = redirect_uri.to_owned();
    let mut sep = if url.contains('?') { '&' } else { '?' };
    for (k, v) in pairs {
        url.push(sep);
        url.push_str(k);
        url.push('=');
        url.push_str(&encode_component(v));
        sep = '&';
    }
    url
}

/// Why a redirection URI cannot be sent, in both login UIs.
pub const UNUSABLE_REDIRECT: &str = "The redirection URI cannot be used in an HTTP redirect.";

/// Whether a URL can be sent to the browser (as a `Location` header value).
pub fn is_usable_location(url: &str) -> bool {
    HeaderValue::from_str(url).is_ok()
}

/// 303 See Other to `url`, so a browser never re-posts the password to the client
/// (RFC 9700 §4.12).
fn redirect(url: &str) -> Response {
    let Ok(location) = HeaderValue::from_str(url) else {
        return error_page(StatusCode::BAD_REQUEST, UNUSABLE_REDIRECT);
    };
    let mut r = warp::reply::with_status(String::new(), StatusCode::SEE_OTHER).into_response();
    r.headers_mut().insert(LOCATION, location);
    secure(r)
}

/// Sets the CSRF cookie (`HttpOnly`, `SameSite=Strict`, `Secure` under an https issuer).
pub fn with_csrf_cookie(mut r: Response, csrf: &Secret, state: &State) -> Response {
    let secure_flag = if state.issuer.starts_with("https://") {
        "; Secure"
    } else {
        ""
    };
    let cookie = format!(
        "{CSRF_COOKIE}={}; Path=/; HttpOnly; SameSite=Strict{secure_flag}",
        csrf.expose()
    );
    if let Ok(v) = HeaderValue::from_str(&cookie) {
        r.headers_mut().append(SET_COOKIE, v);
    }
    r
}

/// The CSRF cookie the request carries.
pub fn csrf_cookie(req: &Request) -> Option<String> {
    req.headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == CSRF_COOKIE)
        .map(|(_, value)| value.to_owned())
}

/// An OAuth error description as a sentence for a page.
pub fn sentence(e: &OAuthError) -> String {
    let mut s = e.description.to_string();
    if let Some(first) = s.get_mut(0..1) {
        first.make_ascii_uppercase();
    }
    s.push('.');
    s
}

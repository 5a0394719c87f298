//! `POST /oauth/par`: pushed authorization requests (RFC 9126). The client pushes the
//! parameters of an authorization request, authenticated as at the token endpoint
//! (§2: "the rules for client authentication as defined in [RFC6749] for token endpoint
//! requests ... apply for the PAR endpoint as well"); the server validates them as the
//! authorization endpoint would (§2.1) and answers 201 with a `request_uri` that names
//! them (§2.2). The authorization endpoint then takes `client_id` and `request_uri`
//! and uses only the pushed parameters (§4).

use warp::http::{Method, StatusCode};
use warp::reply::Response;

use super::error::{HttpError, oauth_error_response};
use super::respond::{json, no_store};
use super::token::authenticate;
use super::{Request, method_not_allowed};
use crate::State;
use crate::grant::authorize::{AuthorizeError, validate};
use crate::grant::params::{Params, encode_component};
use crate::grant::{OAuthError, now};
use crate::secret;
use crate::store::pushed;

/// The prefix of every `request_uri` this server issues (§2.2: "urn:ietf:params:oauth:
/// request_uri:<reference-value>").
pub const REQUEST_URI_PREFIX: &str = "urn:ietf:params:oauth:request_uri:";

/// Parameters never stored with a pushed request: client credentials.
const CREDENTIALS: [&str; 1] = ["client_secret"];

/// Handles the PAR endpoint.
pub async fn handle(state: &State, req: &Request) -> Response {
    if req.method != Method::POST {
        // §2.3: "405: If the request did not use the POST method".
        return method_not_allowed("POST");
    }
    match push(state, req).await {
        Ok(r) => r,
        Err(e) => oauth_error_response(e, &state.config.realm),
    }
}

async fn push(state: &State, req: &Request) -> Result<Response, HttpError> {
    let body = req.form()?;
    let client = authenticate(state, req, &body).await?;
    // §2.1: "The request_uri authorization request parameter is one exception, and it
    // MUST NOT be provided."
    if body.has("request_uri") {
        return Err(OAuthError::invalid_request(
            "request_uri must not be pushed: a pushed request cannot refer to another",
        )
        .into());
    }
    // The client_id of the pushed parameters (needed at the authorization endpoint) is
    // the authenticated client's.
    if body.get("client_id").is_some_and(|id| id != client.id) {
        return Err(OAuthError::invalid_request(
            "client_id does not name the authenticated client",
        )
        .into());
    }
    // The stored parameters: the pushed ones without client credentials, with the
    // authenticated client's id (a client authenticating with HTTP Basic need not
    // repeat it in the body).
    let mut params = body.encode_without(&CREDENTIALS);
    if !body.has("client_id") {
        params = format!("client_id={}&{params}", encode_component(&client.id));
    }
    let pushed_params = Params::parse(params.as_bytes()).map_err(super::params_error)?;
    // §2.1: the server "MUST validate the pushed request as it would an authorization
    // request sent to the authorization endpoint".
    if let Err(refusal) = validate(&pushed_params, Some(&client), state.config.pkce_policy()) {
        let error = match refusal {
            AuthorizeError::Page(message) => OAuthError::invalid_request(message),
            AuthorizeError::Redirect { error, .. } => error,
        };
        return Err(error.into());
    }
    let reference = secret::generate()?;
    let now = now();
    pushed::insert(
        &state.db,
        &reference.digest(),
        &client.id,
        &params,
        now + state.config.par_ttl,
    )
    .await?;
    let body = serde_json::json!({
        "request_uri": format!("{REQUEST_URI_PREFIX}{}", reference.expose()),
        "expires_in": state.config.par_ttl,
    });
    Ok(no_store(json(StatusCode::CREATED, &body)))
}

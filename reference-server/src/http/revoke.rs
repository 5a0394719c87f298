//! `POST /oauth/revoke` (RFC 7009 §2): the client revokes one of its own tokens.

use warp::Reply as _;
use warp::http::{Method, StatusCode};
use warp::reply::Response;

use super::error::{HttpError, oauth_error_response};
use super::respond::no_store;
use super::token::authenticate;
use super::{Request, method_not_allowed};
use crate::State;
use crate::grant::{OAuthError, now};
use crate::secret;
use crate::store::tokens::{self, RevokeOutcome};

/// Handles the revocation endpoint. "The client requests the revocation of a particular
/// token by making an HTTP POST request to the token revocation endpoint URL." (§2.1)
pub async fn handle(state: &State, req: &Request) -> Response {
    if req.method != Method::POST {
        return method_not_allowed("POST");
    }
    match revoke(state, req).await {
        Ok(r) => r,
        Err(e) => oauth_error_response(e, &state.config.realm),
    }
}

async fn revoke(state: &State, req: &Request) -> Result<Response, HttpError> {
    let body = req.form()?;
    let client = authenticate(state, req, &body).await?;
    let token = body
        .get("token")
        .ok_or_else(|| OAuthError::invalid_request("the token parameter is missing"))?;
    // token_type_hint: "the authorization server ... MUST extend its search across all of
    // its supported token types" when the hint is wrong, and "An invalid token type hint
    // value is ignored" (§2.1). Tokens of both types share one digest index, so every
    // search covers both and the hint needs no branch.
    let outcome = tokens::revoke(&state.db, &secret::digest(token), &client.id, now()).await?;
    match outcome {
        // "invalid tokens do not cause an error response" (§2.2)
        RevokeOutcome::NotFound | RevokeOutcome::Revoked => Ok(no_store(
            warp::reply::with_status(String::new(), StatusCode::OK).into_response(),
        )),
        // "verifies whether the token was issued to the client making the revocation
        // request. If this validation fails, the request is refused" (§2.1)
        RevokeOutcome::OtherClient => {
            Err(OAuthError::unauthorized_client("the token was not issued to this client").into())
        }
    }
}

//! `POST /oauth/introspect` (RFC 7662): confidential clients (the resource servers)
//! ask whether a token is active and what it carries.

use serde_json::json;
use warp::http::{Method, StatusCode};
use warp::reply::Response;

use super::error::{HttpError, oauth_error_response};
use super::respond::{json as json_response, no_store};
use super::token::authenticate;
use super::{Request, method_not_allowed};
use crate::State;
use crate::grant::{OAuthError, now};
use crate::secret;
use crate::store::{tokens, users};

/// Handles the introspection endpoint.
pub async fn handle(state: &State, req: &Request) -> Response {
    if req.method != Method::POST {
        return method_not_allowed("POST");
    }
    match introspect(state, req).await {
        Ok(r) => r,
        Err(e) => oauth_error_response(e, &state.config.realm),
    }
}

async fn introspect(state: &State, req: &Request) -> Result<Response, HttpError> {
    let body = req.form()?;
    let client = authenticate(state, req, &body).await?;
    // "the endpoint MUST also require some form of authorization to access this
    // endpoint" (§2.1): only confidential clients, which authenticated with a secret.
    if !client.auth_method.is_confidential() {
        return Err(
            OAuthError::invalid_client("introspection requires a confidential client").into(),
        );
    }
    let token = body
        .get("token")
        .ok_or_else(|| OAuthError::invalid_request("the token parameter is missing"))?;
    let now = now();
    let info = tokens::find(&state.db, &secret::digest(token)).await?;
    // "If the introspection call is properly authorized but the token is not active,
    // does not exist on this server, or the protected resource is not allowed to
    // introspect this particular token, then the authorization server MUST return an
    // introspection response with the "active" field set to "false"." (§2.2) Nothing
    // else is said about such a token.
    let Some(info) = info.filter(|i| i.is_active(now)) else {
        return Ok(no_store(json_response(
            StatusCode::OK,
            &json!({"active": false}),
        )));
    };
    let user = match info.user_id {
        Some(id) => users::find(&state.db, id).await?,
        None => None,
    };
    let mut doc = json!({
        "active": true,
        "scope": info.scope.to_string(),
        "client_id": info.client_id,
        "token_type": if info.kind == "access" { "Bearer" } else { "refresh_token" },
        "exp": info.expires_at,
        "iat": info.issued_at,
        "iss": state.issuer,
        "sub": user.as_ref().map_or_else(|| info.client_id.clone(), |u| u.id.to_string()),
    });
    if let Some(u) = user {
        doc["username"] = json!(u.email);
    }
    Ok(no_store(json_response(StatusCode::OK, &doc)))
}

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
    let digest = secret::digest(token);
    // An active access token usually comes from the cache of validated tokens; anything
    // else (refresh tokens, unknown or inactive tokens) from its row.
    let active = match tokens::find_active_access(&state.db, &digest, now).await? {
        Some(a) => Active {
            token_type: "Bearer",
            client_id: a.info.client_id.clone(),
            scope: a.info.scope.to_string(),
            issued_at: a.info.issued_at,
            expires_at: a.info.expires_at,
            user: a.info.user_id.zip(a.email.clone()),
        },
        None => {
            let info = tokens::find(&state.db, &digest).await?;
            // "If the introspection call is properly authorized but the token is not
            // active, does not exist on this server, or the protected resource is not
            // allowed to introspect this particular token, then the authorization server
            // MUST return an introspection response with the "active" field set to
            // "false"." (§2.2) Nothing else is said about such a token.
            let Some(info) = info.filter(|i| i.is_active(now)) else {
                return Ok(no_store(json_response(
                    StatusCode::OK,
                    &json!({"active": false}),
                )));
            };
            let user = match info.user_id {
                Some(id) => users::find(&state.db, id).await?.map(|u| (u.id, u.email)),
                None => None,
            };
            Active {
                token_type: if info.kind == "access" {
                    "Bearer"
                } else {
                    "refresh_token"
                },
                client_id: info.client_id,
                scope: info.scope.to_string(),
                issued_at: info.issued_at,
                expires_at: info.expires_at,
                user,
            }
        }
    };
    let mut doc = json!({
        "active": true,
        "scope": active.scope,
        "client_id": active.client_id,
        "token_type": active.token_type,
        "exp": active.expires_at,
        "iat": active.issued_at,
        "iss": state.issuer,
        "sub": active.user.as_ref().map_or_else(|| active.client_id.clone(), |(id, _)| id.to_string()),
    });
    if let Some((_, email)) = active.user {
        doc["username"] = json!(email);
    }
    Ok(no_store(json_response(StatusCode::OK, &doc)))
}

/// What an active token's introspection response says.
struct Active {
    token_type: &'static str,
    client_id: String,
    scope: String,
    issued_at: i64,
    expires_at: i64,
    /// The user's id and email.
    user: Option<(i64, String)>,
}

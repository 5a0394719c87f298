//! `POST /oauth/token` (RFC 6749 §3.2, §4.1.3, §4.3, §4.4, §5, §6): client authentication, then
//! the grant, then the token response.

use serde::Serialize;
use warp::http::{Method, StatusCode};
use warp::reply::Response;

use super::error::{HttpError, oauth_error_response, too_many_attempts};
use super::respond::{json, no_store};
use super::signin::{SignIn, sign_in};
use super::{Request, method_not_allowed};
use crate::State;
use crate::grant::scope::{Scope, resolve};
use crate::grant::token::{
    EnabledGrants, GrantType, TokenRequest, authorize_client, grant_type, parse,
};
use crate::grant::{OAuthError, client_auth, now};
use crate::model::Client;
use crate::secret::{self, Secret};
use crate::store::codes::{self, CodeOutcome, Redemption};
use crate::store::tokens::{self, NewGrant, NewToken, RefreshOutcome};

/// The successful token response (§5.1). Not `Debug`: it holds tokens.
#[derive(Serialize)]
struct TokenResponse {
    access_token: String,
    token_type: &'static str,
    expires_in: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    refresh_token: Option<String>,
    scope: String,
}

/// Handles the token endpoint. "The client MUST use the HTTP "POST" method when making
/// access token requests." (§3.2)
pub async fn handle(state: &State, req: &Request) -> Response {
    if req.method != Method::POST {
        return method_not_allowed("POST");
    }
    match token(state, req).await {
        Ok(r) => r,
        Err(e) => oauth_error_response(e, &state.config.realm),
    }
}

/// Authenticates the client as it registered (§2.3, §3.2.1). Shared with revocation.
pub async fn authenticate(
    state: &State,
    req: &Request,
    body: &crate::grant::params::Params,
) -> Result<Client, HttpError> {
    let query = req.query_params()?;
    let presented = client_auth::presented(req.authorization()?, body, &query)?;
    let client = state.client(&presented.client_id);
    client_auth::verify(&presented, client.as_ref())?;
    client.ok_or_else(|| OAuthError::invalid_client("client authentication failed").into())
}

async fn token(state: &State, req: &Request) -> Result<Response, HttpError> {
    let body = req.form()?;
    let client = authenticate(state, req, &body).await?;
    let enabled = EnabledGrants {
        password: state.config.password_grant,
    };
    let grant = grant_type(&body, enabled)?;
    authorize_client(&client, grant)?;
    match parse(&body, grant)? {
        TokenRequest::AuthorizationCode {
            code,
            redirect_uri,
            code_verifier,
        } => {
            redeem(
                state,
                &client,
                &code,
                redirect_uri.as_deref(),
                code_verifier.as_ref(),
            )
            .await
        }
        TokenRequest::Password {
            username,
            password,
            scope,
        } => {
            // Brute-force protection (§4.3.2): a blocked account and address get 429
            // whatever the password.
            let addr = req.remote.map(|a| a.ip());
            let user = match sign_in(state, Some(&username), Some(&password), addr).await? {
                SignIn::Valid(user) => user,
                SignIn::Invalid => {
                    return Err(OAuthError::invalid_grant(
                        "the resource owner credentials are invalid",
                    )
                    .into());
                }
                SignIn::Throttled(refused) => return Ok(too_many_attempts(refused)),
            };
            let scope = resolve(scope.as_deref(), &client.scope)?;
            let refresh = client.allows_grant(GrantType::RefreshToken.as_str());
            issue(state, &client, Some(user.id), &scope, refresh).await
        }
        TokenRequest::ClientCredentials { scope } => {
            let scope = resolve(scope.as_deref(), &client.scope)?;
            // "A refresh token SHOULD NOT be included." (§4.4.3)
            issue(state, &client, None, &scope, false).await
        }
        TokenRequest::RefreshToken {
            refresh_token,
            scope,
        } => refresh(state, &client, &refresh_token, scope.as_deref()).await,
    }
}

/// Lifetimes for a client: its own access-token TTL or the default, and the refresh
/// TTL derived from it.
fn lifetimes(state: &State, client: &Client) -> (i64, i64) {
    let access = client
        .access_token_ttl
        .unwrap_or(state.config.access_token_ttl);
    (access, state.config.refresh_ttl_for(access))
}

/// Issues a new grant's tokens and answers with them.
pub async fn issue(
    state: &State,
    client: &Client,
    user_id: Option<i64>,
    scope: &Scope,
    with_refresh: bool,
) -> Result<Response, HttpError> {
    let now = now();
    let (access_ttl, refresh_ttl) = lifetimes(state, client);
    let access = secret::generate()?;
    let access_row = NewToken {
        digest: access.digest(),
        expires_at: now + access_ttl,
    };
    let refresh = if with_refresh {
        Some(secret::generate()?)
    } else {
        None
    };
    let refresh_row = refresh.as_ref().map(|r| NewToken {
        digest: r.digest(),
        expires_at: now + refresh_ttl,
    });
    tokens::issue(
        &state.db,
        NewGrant {
            client_id: &client.id,
            user_id,
            scope,
            access: &access_row,
            refresh: refresh_row.as_ref(),
        },
        now,
    )
    .await?;
    Ok(respond(&access, refresh.as_ref(), access_ttl, scope))
}

async fn redeem(
    state: &State,
    client: &Client,
    code: &Secret,
    redirect_uri: Option<&str>,
    verifier: Option<&Secret>,
) -> Result<Response, HttpError> {
    let now = now();
    let (access_ttl, refresh_ttl) = lifetimes(state, client);
    let access = secret::generate()?;
    let refresh = if client.allows_grant(GrantType::RefreshToken.as_str()) {
        Some(secret::generate()?)
    } else {
        None
    };
    let access_row = NewToken {
        digest: access.digest(),
        expires_at: now + access_ttl,
    };
    let refresh_row = refresh.as_ref().map(|r| NewToken {
        digest: r.digest(),
        expires_at: now + refresh_ttl,
    });
    let outcome = codes::redeem(
        &state.db,
        Redemption {
            digest: &code.digest(),
            client_id: &client.id,
            redirect_uri,
            verifier: verifier.map(Secret::expose),
            access: &access_row,
            refresh: refresh_row.as_ref(),
        },
        now,
    )
    .await?;
    match outcome {
        CodeOutcome::Issued { scope } => Ok(respond(&access, refresh.as_ref(), access_ttl, &scope)),
        CodeOutcome::Refused(e) => Err(e.into()),
    }
}

async fn refresh(
    state: &State,
    client: &Client,
    presented: &Secret,
    requested_scope: Option<&str>,
) -> Result<Response, HttpError> {
    let now = now();
    let (access_ttl, refresh_ttl) = lifetimes(state, client);
    let access = secret::generate()?;
    let refresh = secret::generate()?;
    let outcome = tokens::refresh(
        &state.db,
        &presented.digest(),
        &client.id,
        requested_scope,
        &NewToken {
            digest: access.digest(),
            expires_at: now + access_ttl,
        },
        &NewToken {
            digest: refresh.digest(),
            expires_at: now + refresh_ttl,
        },
        now,
    )
    .await?;
    match outcome {
        RefreshOutcome::Rotated { access_scope, .. } => {
            Ok(respond(&access, Some(&refresh), access_ttl, &access_scope))
        }
        RefreshOutcome::Refused(e) => Err(e.into()),
    }
}

/// The §5.1 response, always with `Cache-Control: no-store` and `Pragma: no-cache`, and
/// always with `scope` (REQUIRED when it differs from the request, harmless otherwise).
fn respond(access: &Secret, refresh: Option<&Secret>, expires_in: i64, scope: &Scope) -> Response {
    let body = TokenResponse {
        access_token: access.expose().to_owned(),
        token_type: "Bearer",
        expires_in,
        refresh_token: refresh.map(|r| r.expose().to_owned()),
        scope: scope.to_string(),
    };
    no_store(json(StatusCode::OK, &body))
}

//! Token endpoint requests (RFC 6749 §4.3.2, §4.4.2, §6): which grant is asked for and
//! whether the request carries what that grant needs.

use super::params::Params;
use super::{ErrorCode, OAuthError};
use crate::model::Client;
use crate::secret::Secret;

/// The grant types this server implements at the token endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GrantType {
    /// RFC 6749 §4.1.3, the authorization code grant.
    AuthorizationCode,
    /// RFC 6749 §4.3, resource owner password credentials.
    Password,
    /// RFC 6749 §4.4.
    ClientCredentials,
    /// RFC 6749 §6.
    RefreshToken,
}

impl GrantType {
    /// The registered `grant_type` value.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::AuthorizationCode => "authorization_code",
            Self::Password => "password",
            Self::ClientCredentials => "client_credentials",
            Self::RefreshToken => "refresh_token",
        }
    }
}

/// Which grants the server has switched on.
#[derive(Debug, Clone, Copy)]
pub struct EnabledGrants {
    /// The password grant (off for an OAuth 2.1-style server, RFC 9700 §2.4).
    pub password: bool,
}

/// A token request, checked for the parameters its grant requires.
#[derive(Debug, Clone)]
pub enum TokenRequest {
    /// `grant_type=authorization_code`.
    AuthorizationCode {
        /// The code.
        code: Secret,
        /// `redirect_uri`, when sent.
        redirect_uri: Option<String>,
        /// The PKCE verifier, when sent.
        code_verifier: Option<Secret>,
    },
    /// `grant_type=password`.
    Password {
        /// The resource owner's login (an email here).
        username: String,
        /// The resource owner's password.
        password: Secret,
        /// The requested scope, if any.
        scope: Option<String>,
    },
    /// `grant_type=client_credentials`.
    ClientCredentials {
        /// The requested scope, if any.
        scope: Option<String>,
    },
    /// `grant_type=refresh_token`.
    RefreshToken {
        /// The refresh token presented.
        refresh_token: Secret,
        /// The requested scope, if any (may only narrow).
        scope: Option<String>,
    },
}

/// Reads `grant_type`: missing is `invalid_request`; unknown or switched off is
/// `unsupported_grant_type` (§5.2).
pub fn grant_type(params: &Params, enabled: EnabledGrants) -> Result<GrantType, OAuthError> {
    let value = params
        .get("grant_type")
        .ok_or_else(|| OAuthError::invalid_request("the grant_type parameter is missing"))?;
    let grant = match value {
        "authorization_code" => GrantType::AuthorizationCode,
        "password" if enabled.password => GrantType::Password,
        "client_credentials" => GrantType::ClientCredentials,
        "refresh_token" => GrantType::RefreshToken,
        _ => {
            return Err(OAuthError::new(
                ErrorCode::UnsupportedGrantType,
                "this grant_type is not supported by the authorization server",
            ));
        }
    };
    Ok(grant)
}

/// Checks that the authenticated client may use the grant.
///
/// "unauthorized_client: The authenticated client is not authorized to use this
/// authorization grant type." (§5.2) "The client credentials grant type MUST only be
/// used by confidential clients." (§4.4)
pub fn authorize_client(client: &Client, grant: GrantType) -> Result<(), OAuthError> {
    if !client.allows_grant(grant.as_str()) {
        return Err(OAuthError::unauthorized_client(
            "the client is not registered for this grant type",
        ));
    }
    if grant == GrantType::ClientCredentials && !client.auth_method.is_confidential() {
        return Err(OAuthError::unauthorized_client(
            "the client credentials grant is only for confidential clients",
        ));
    }
    Ok(())
}

/// Reads the parameters of the chosen grant; a missing required one is
/// `invalid_request` (§4.1.3, §4.3.2, §6).
pub fn parse(params: &Params, grant: GrantType) -> Result<TokenRequest, OAuthError> {
    let scope = params.get("scope").map(str::to_owned);
    let required = |name: &'static str| {
        params
            .get(name)
            .ok_or_else(|| OAuthError::invalid_request(format!("the {name} parameter is missing")))
    };
    Ok(match grant {
        GrantType::AuthorizationCode => TokenRequest::AuthorizationCode {
            code: Secret::new(required("code")?),
            redirect_uri: params.get("redirect_uri").map(str::to_owned),
            code_verifier: params.get("code_verifier").map(Secret::new),
        },
        GrantType::Password => TokenRequest::Password {
            username: required("username")?.to_owned(),
            password: Secret::new(required("password")?),
            scope,
        },
        GrantType::ClientCredentials => TokenRequest::ClientCredentials { scope },
        GrantType::RefreshToken => TokenRequest::RefreshToken {
            refresh_token: Secret::new(required("refresh_token")?),
            scope,
        },
    })
}

//! Pure protocol decisions: no warp, no sqlx. Each file owns one endpoint's or one
//! concept's rules and quotes the RFC sentence it implements. The HTTP layer feeds these
//! functions parsed input and records; the store layer persists what they decide.

pub mod authorize;
pub mod client_auth;
pub mod code;
pub mod params;
pub mod pkce;
pub mod refresh;
pub mod scope;
pub mod token;

use std::borrow::Cow;

/// The error codes of RFC 6749 §5.2 (token endpoint), §4.1.2.1 (authorization endpoint)
/// and RFC 7009 §2.2.1 (revocation), one variant per code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorCode {
    /// "The request is missing a required parameter, includes an unsupported parameter
    /// value (other than grant type), repeats a parameter, includes multiple credentials,
    /// utilizes more than one mechanism for authenticating the client, or is otherwise
    /// malformed." (RFC 6749 §5.2)
    InvalidRequest,
    /// "Client authentication failed (e.g., unknown client, no client authentication
    /// included, or unsupported authentication method)." (RFC 6749 §5.2)
    InvalidClient,
    /// "The provided authorization grant (e.g., authorization code, resource owner
    /// credentials) or refresh token is invalid, expired, revoked, does not match the
    /// redirection URI used in the authorization request, or was issued to another
    /// client." (RFC 6749 §5.2)
    InvalidGrant,
    /// "The authenticated client is not authorized to use this authorization grant
    /// type." (RFC 6749 §5.2)
    UnauthorizedClient,
    /// "The authorization grant type is not supported by the authorization server."
    /// (RFC 6749 §5.2)
    UnsupportedGrantType,
    /// "The requested scope is invalid, unknown, malformed, or exceeds the scope granted
    /// by the resource owner." (RFC 6749 §5.2)
    InvalidScope,
    /// "The authorization server does not support the revocation of the presented token
    /// type." (RFC 7009 §2.2.1)
    UnsupportedTokenType,
    /// "The resource owner or authorization server denied the request." (RFC 6749 §4.1.2.1)
    AccessDenied,
    /// "The authorization server does not support obtaining an authorization code using
    /// this method." (RFC 6749 §4.1.2.1)
    UnsupportedResponseType,
    /// "The authorization server encountered an unexpected condition that prevented it
    /// from fulfilling the request." (RFC 6749 §4.1.2.1)
    ServerError,
    /// "The authorization server is currently unable to handle the request due to a
    /// temporary overloading or maintenance of the server." (RFC 6749 §4.1.2.1)
    TemporarilyUnavailable,
}

impl ErrorCode {
    /// The code as it appears in the `error` parameter.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::InvalidRequest => "invalid_request",
            Self::InvalidClient => "invalid_client",
            Self::InvalidGrant => "invalid_grant",
            Self::UnauthorizedClient => "unauthorized_client",
            Self::UnsupportedGrantType => "unsupported_grant_type",
            Self::InvalidScope => "invalid_scope",
            Self::UnsupportedTokenType => "unsupported_token_type",
            Self::AccessDenied => "access_denied",
            Self::UnsupportedResponseType => "unsupported_response_type",
            Self::ServerError => "server_error",
            Self::TemporarilyUnavailable => "temporarily_unavailable",
        }
    }
}

/// A protocol error decided by the rules in this module. The HTTP edge turns it into a
/// response in one place (`http::error`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}: {description}", code.as_str())]
pub struct OAuthError {
    /// The RFC error code.
    pub code: ErrorCode,
    /// A human-readable explanation. Never contains a secret or echoed input.
    pub description: Cow<'static, str>,
}

impl OAuthError {
    /// An error with a fixed description.
    pub fn new(code: ErrorCode, description: impl Into<Cow<'static, str>>) -> Self {
        Self {
            code,
            description: description.into(),
        }
    }

    /// `invalid_request` with a description.
    pub fn invalid_request(description: impl Into<Cow<'static, str>>) -> Self {
        Self::new(ErrorCode::InvalidRequest, description)
    }

    /// `invalid_client` with a description.
    pub fn invalid_client(description: impl Into<Cow<'static, str>>) -> Self {
        Self::new(ErrorCode::InvalidClient, description)
    }

    /// `invalid_grant` with a description.
    pub fn invalid_grant(description: impl Into<Cow<'static, str>>) -> Self {
        Self::new(ErrorCode::InvalidGrant, description)
    }

    /// `invalid_scope` with a description.
    pub fn invalid_scope(description: impl Into<Cow<'static, str>>) -> Self {
        Self::new(ErrorCode::InvalidScope, description)
    }

    /// `unauthorized_client` with a description.
    pub fn unauthorized_client(description: impl Into<Cow<'static, str>>) -> Self {
        Self::new(ErrorCode::UnauthorizedClient, description)
    }
}

/// Seconds since the Unix epoch; every stored time uses it.
pub fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

//! Typed step parameters. Each `FromStr` rejects unknown words, so a typo in a feature
//! fails the step instead of matching something else.

use std::str::FromStr;

use cucumber::Parameter;

use crate::target::ClientRole;
use crate::world::UserRole;

/// `{client}`: `Basic`, `post`, `public`, `second` or `service` — the profile's
/// `confidential_basic`, `confidential_post`, `public`, `second_confidential` and
/// `client_credentials` clients.
#[derive(Debug, Clone, Copy, Parameter)]
#[param(name = "client", regex = "Basic|post|public|second|service")]
pub struct ClientParam(pub ClientRole);

impl FromStr for ClientParam {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(Self(match s {
            "Basic" => ClientRole::ConfidentialBasic,
            "post" => ClientRole::ConfidentialPost,
            "public" => ClientRole::Public,
            "second" => ClientRole::SecondConfidential,
            "service" => ClientRole::ClientCredentials,
            other => return Err(format!("unknown client {other:?}")),
        }))
    }
}

/// `{user}`: `primary`, `secondary`, `throttled` or `throttled form` (the profile's
/// `[users.<role>]`, `throttled_form` for the last).
#[derive(Debug, Clone, Copy, Parameter)]
#[param(name = "user", regex = "primary|secondary|throttled form|throttled")]
pub struct UserParam(pub UserRole);

impl FromStr for UserParam {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "primary" => Ok(Self(UserRole::Primary)),
            "secondary" => Ok(Self(UserRole::Secondary)),
            "throttled" => Ok(Self(UserRole::Throttled)),
            "throttled form" => Ok(Self(UserRole::ThrottledForm)),
            other => Err(format!("unknown user {other:?}")),
        }
    }
}

/// The error codes of RFC 6749 §5.2 (the token endpoint's), which RFC 7009 §2.2.1 also
/// uses for a refused revocation.
pub const SECTION_5_2: &[&str] = &[
    "invalid_request",
    "invalid_client",
    "invalid_grant",
    "unauthorized_client",
    "unsupported_grant_type",
    "invalid_scope",
];

/// The error codes of RFC 6749 §4.1.2.1, §5.2, RFC 6750 §3.1 and RFC 7009 §2.2.1.
pub const ERROR_CODES: &[&str] = &[
    "invalid_request",
    "invalid_client",
    "invalid_grant",
    "unauthorized_client",
    "unsupported_grant_type",
    "invalid_scope",
    "access_denied",
    "unsupported_response_type",
    "server_error",
    "temporarily_unavailable",
    "invalid_token",
    "insufficient_scope",
    "unsupported_token_type",
];

/// `{error}`: one of [`ERROR_CODES`].
#[derive(Debug, Clone, Parameter)]
#[param(name = "error", regex = "[a-z_]+")]
pub struct ErrorParam(pub String);

impl FromStr for ErrorParam {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if ERROR_CODES.contains(&s) {
            Ok(Self(s.to_owned()))
        } else {
            Err(format!("{s:?} is not an OAuth error code"))
        }
    }
}

/// `{token_kind}`: `access` or `refresh`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Parameter)]
#[param(name = "token_kind", regex = "access|refresh")]
pub enum TokenKind {
    /// The access token.
    Access,
    /// The refresh token.
    Refresh,
}

impl FromStr for TokenKind {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "access" => Ok(Self::Access),
            "refresh" => Ok(Self::Refresh),
            other => Err(format!("unknown token kind {other:?}")),
        }
    }
}

/// `{auth}`: how a confidential client presents its credentials, for client
/// authentication scenarios.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Parameter)]
#[param(
    name = "auth",
    regex = "as registered|with a wrong secret|with no credentials|in the query string|with Basic and the body together|with the other method|with Basic credentials not form-encoded|as an unknown client"
)]
pub enum AuthVariant {
    /// The registered method.
    AsRegistered,
    /// The registered method with a wrong secret.
    WrongSecret,
    /// Nothing at all.
    NoCredentials,
    /// `client_id` and `client_secret` in the URI query.
    InQuery,
    /// HTTP Basic and `client_secret` in the body at once.
    BasicAndBody,
    /// Basic for a post client, the body for a Basic client.
    OtherMethod,
    /// Basic with the raw id and secret (not form-urlencoded first).
    RawBasic,
    /// An id no client has.
    UnknownClient,
}

impl FromStr for AuthVariant {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(match s {
            "as registered" => Self::AsRegistered,
            "with a wrong secret" => Self::WrongSecret,
            "with no credentials" => Self::NoCredentials,
            "in the query string" => Self::InQuery,
            "with Basic and the body together" => Self::BasicAndBody,
            "with the other method" => Self::OtherMethod,
            "with Basic credentials not form-encoded" => Self::RawBasic,
            "as an unknown client" => Self::UnknownClient,
            other => return Err(format!("unknown authentication variant {other:?}")),
        })
    }
}

//! The nouns every layer shares: clients and users as the server knows them.

use crate::grant::scope::Scope;

/// How a client authenticates at the token endpoint (RFC 7591 §2
/// `token_endpoint_auth_method`; RFC 6749 §2.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthMethod {
    /// A public client: it sends only its `client_id`.
    None,
    /// HTTP Basic with the form-urlencoded id and secret (RFC 6749 §2.3.1).
    ClientSecretBasic,
    /// `client_id` and `client_secret` in the request body (RFC 6749 §2.3.1).
    ClientSecretPost,
}

impl AuthMethod {
    /// The registered name of the method.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::None => "none",
            Self::ClientSecretBasic => "client_secret_basic",
            Self::ClientSecretPost => "client_secret_post",
        }
    }

    /// Parses a registered name.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "none" => Some(Self::None),
            "client_secret_basic" => Some(Self::ClientSecretBasic),
            "client_secret_post" => Some(Self::ClientSecretPost),
            _ => None,
        }
    }

    /// Whether clients using this method are confidential (hold a secret).
    pub fn is_confidential(self) -> bool {
        self != Self::None
    }
}

/// A registered client.
#[derive(Clone)]
pub struct Client {
    /// The `client_id`.
    pub id: String,
    /// SHA-256 digest of the secret, for confidential clients.
    pub secret_digest: Option<Vec<u8>>,
    /// Human-readable name, shown on the consent page.
    pub name: String,
    /// The client's home page.
    pub uri: Option<String>,
    /// Grant types the client may use.
    pub grant_types: Vec<String>,
    /// Registered redirection URIs, compared by exact string match.
    pub redirect_uris: Vec<String>,
    /// Registered response types.
    pub response_types: Vec<String>,
    /// The most the client may ever be granted.
    pub scope: Scope,
    /// How it authenticates at the token endpoint.
    pub auth_method: AuthMethod,
    /// Access-token lifetime for this client, overriding the server default.
    pub access_token_ttl: Option<i64>,
}

impl Client {
    /// Whether the client registered this grant type.
    pub fn allows_grant(&self, grant_type: &str) -> bool {
        self.grant_types.iter().any(|g| g == grant_type)
    }
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("id", &self.id)
            .field("auth_method", &self.auth_method)
            .field("grant_types", &self.grant_types)
            .field("scope", &self.scope)
            .finish_non_exhaustive()
    }
}

/// A resource owner. Logs in with email and password.
#[derive(Clone)]
pub struct User {
    /// Stable numeric id.
    pub id: i64,
    /// Login name.
    pub email: String,
    /// bcrypt hash of the password.
    pub password_hash: String,
    /// Given name.
    pub first_name: String,
    /// Family name.
    pub last_name: String,
}

impl std::fmt::Debug for User {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("User")
            .field("id", &self.id)
            .field("email", &self.email)
            .finish_non_exhaustive()
    }
}

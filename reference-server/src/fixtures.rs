//! Seed documents (`fixtures/seed.json`): users and clients loaded at start. Loading is
//! idempotent: an existing user keeps its password hash; clients are upserted.

use std::path::Path;

use serde::Deserialize;

use crate::grant::scope::{SUPPORTED, Scope};
use crate::model::{AuthMethod, Client};
use crate::secret;
use crate::store::{Db, StoreError, clients, users};

/// A seed document.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Seed {
    /// Resource owners.
    #[serde(default)]
    pub users: Vec<SeedUser>,
    /// Registered clients.
    #[serde(default)]
    pub clients: Vec<SeedClient>,
}

/// A user as written in the seed (plain password, hashed at load).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SeedUser {
    /// Login email.
    pub email: String,
    /// Plain password; only its bcrypt hash is stored.
    pub password: String,
    /// Given name.
    #[serde(default)]
    pub first_name: String,
    /// Family name.
    #[serde(default)]
    pub last_name: String,
}

impl std::fmt::Debug for SeedUser {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SeedUser")
            .field("email", &self.email)
            .finish_non_exhaustive()
    }
}

/// A client as written in the seed, with the seed design's metadata.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SeedClient {
    /// The `client_id`.
    pub client_id: String,
    /// Plain secret for confidential clients; only its digest is stored.
    #[serde(default)]
    pub client_secret: Option<String>,
    /// Display name.
    pub client_name: String,
    /// Home page.
    #[serde(default)]
    pub client_uri: Option<String>,
    /// Allowed grant types.
    pub grant_types: Vec<String>,
    /// Registered redirection URIs.
    #[serde(default)]
    pub redirect_uris: Vec<String>,
    /// Registered response types.
    #[serde(default)]
    pub response_types: Vec<String>,
    /// Space-separated scope ceiling.
    pub scope: String,
    /// `none`, `client_secret_basic` or `client_secret_post`.
    pub token_endpoint_auth_method: String,
    /// Optional access-token lifetime override, seconds.
    #[serde(default)]
    pub access_token_ttl: Option<i64>,
}

impl std::fmt::Debug for SeedClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SeedClient")
            .field("client_id", &self.client_id)
            .finish_non_exhaustive()
    }
}

/// Why a seed could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum SeedError {
    /// The file could not be read.
    #[error("cannot read the fixtures file {path}")]
    Read {
        /// The file.
        path: String,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// The file is not a valid seed document.
    #[error("the fixtures file is not a valid seed document")]
    Parse(#[from] serde_json::Error),
    /// A record breaks a rule.
    #[error("invalid fixture: {0}")]
    Invalid(String),
    /// Storing failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Hashing failed.
    #[error("password hashing failed")]
    Hash(#[from] bcrypt::BcryptError),
    /// The blocking task failed.
    #[error("password hashing task failed")]
    Join(#[from] tokio::task::JoinError),
}

const GRANTS: &[&str] = &[
    "authorization_code",
    "password",
    "client_credentials",
    "refresh_token",
];

impl SeedClient {
    fn into_client(self) -> Result<Client, SeedError> {
        let bad = |what: &str| SeedError::Invalid(format!("client {}: {what}", self.client_id));
        let method = AuthMethod::parse(&self.token_endpoint_auth_method)
            .ok_or_else(|| bad("unknown token_endpoint_auth_method"))?;
        if self.client_id.is_empty() || self.client_id.contains([':', ' ']) {
            return Err(bad("client_id must be non-empty without ':' or spaces"));
        }
        let secret_digest = match (&self.client_secret, method.is_confidential()) {
            (Some(s), true) if s.len() >= 16 => Some(secret::digest(s)),
            (Some(_), true) => return Err(bad("client_secret must be at least 16 characters")),
            (None, true) => return Err(bad("a confidential client needs a client_secret")),
            (Some(_), false) => return Err(bad("a public client must not have a client_secret")),
            (None, false) => None,
        };
        let scope = if self.scope.is_empty() {
            Scope::default()
        } else {
            Scope::parse(&self.scope).ok_or_else(|| bad("malformed scope"))?
        };
        if scope.iter().any(|t| !SUPPORTED.contains(&t)) {
            return Err(bad("scope names a scope the server does not support"));
        }
        if let Some(g) = self
            .grant_types
            .iter()
            .find(|g| !GRANTS.contains(&g.as_str()))
        {
            return Err(bad(&format!("unknown grant type {g}")));
        }
        if self
            .redirect_uris
            .iter()
            .any(|u| u.is_empty() || u.contains([' ', '#']))
        {
            return Err(bad(
                "redirect URIs must be absolute, without spaces or fragment",
            ));
        }
        if self.access_token_ttl.is_some_and(|t| t <= 0) {
            return Err(bad("access_token_ttl must be positive"));
        }
        Ok(Client {
            id: self.client_id,
            secret_digest,
            name: self.client_name,
            uri: self.client_uri,
            grant_types: self.grant_types,
            redirect_uris: self.redirect_uris,
            response_types: self.response_types,
            scope,
            auth_method: method,
            access_token_ttl: self.access_token_ttl,
        })
    }
}

/// Reads a seed document from a file.
pub fn read(path: &Path) -> Result<Seed, SeedError> {
    let text = std::fs::read_to_string(path).map_err(|source| SeedError::Read {
        path: path.display().to_string(),
        source,
    })?;
    Ok(serde_json::from_str(&text)?)
}

/// Loads a seed into the database. Users that exist are left as they are (their
/// password is not re-hashed); clients are inserted or updated.
pub async fn load(db: &Db, seed: Seed, bcrypt_cost: u32) -> Result<(), SeedError> {
    let now = crate::grant::now();
    for client in seed.clients {
        clients::upsert(db, &client.into_client()?).await?;
    }
    for user in seed.users {
        if user.email.is_empty() || !user.email.contains('@') {
            return Err(SeedError::Invalid("a user email must contain '@'".into()));
        }
        if users::exists(db, &user.email).await? {
            continue;
        }
        let password = user.password;
        let hash =
            tokio::task::spawn_blocking(move || bcrypt::hash(password, bcrypt_cost)).await??;
        users::insert_if_missing(
            db,
            &user.email,
            &hash,
            &user.first_name,
            &user.last_name,
            now,
        )
        .await?;
    }
    Ok(())
}

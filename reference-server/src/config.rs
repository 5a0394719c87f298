//! Server settings. The binary fills them from flags and environment variables; tests
//! and the conformance runner build them directly.

use std::path::PathBuf;
use std::time::Duration;

/// Everything the server needs to know to run.
#[derive(Debug, Clone)]
pub struct Config {
    /// SQLite database file; created if missing.
    pub database: PathBuf,
    /// Seed document with users and clients, loaded idempotently at start.
    pub fixtures: Option<PathBuf>,
    /// The issuer identifier (RFC 8414 §2). `None`: `http://` plus the bound address.
    pub issuer: Option<String>,
    /// bcrypt cost for the passwords loaded from the fixtures.
    pub bcrypt_cost: u32,
    /// Access-token lifetime in seconds (clients may override it).
    pub access_token_ttl: i64,
    /// Refresh-token lifetime in seconds. `None`: the seed's rule, twice the access
    /// token's lifetime.
    pub refresh_token_ttl: Option<i64>,
    /// Whether the resource owner password credentials grant is offered.
    pub password_grant: bool,
    /// Authorization-code lifetime in seconds (at most 600, RFC 6749 §4.1.2).
    pub code_ttl: i64,
    /// Whether the PKCE `plain` method is accepted.
    pub pkce_plain: bool,
    /// Whether public clients must use PKCE.
    pub pkce_required_for_public: bool,
    /// Whether every client must use PKCE (OAuth 2.1).
    pub pkce_required: bool,
    /// Largest request body accepted, in bytes.
    pub body_limit: usize,
    /// How often expired tokens are purged.
    pub purge_interval: Duration,
    /// The `realm` of `WWW-Authenticate` challenges.
    pub realm: String,
    /// Brute-force protection of password sign-in (RFC 6749 §4.3.2, §10.10).
    pub login_throttle: crate::throttle::Settings,
}

impl Config {
    /// Defaults for a database at `database`, without fixtures.
    pub fn new(database: impl Into<PathBuf>) -> Self {
        Self {
            database: database.into(),
            fixtures: None,
            issuer: None,
            bcrypt_cost: 12,
            access_token_ttl: 3600,
            refresh_token_ttl: None,
            password_grant: true,
            code_ttl: 60,
            pkce_plain: true,
            pkce_required_for_public: true,
            pkce_required: false,
            body_limit: 64 * 1024,
            purge_interval: Duration::from_secs(60),
            realm: "reference-server".to_owned(),
            login_throttle: crate::throttle::Settings::default(),
        }
    }

    /// The PKCE policy these settings describe.
    pub fn pkce_policy(&self) -> crate::grant::pkce::Policy {
        crate::grant::pkce::Policy {
            allow_plain: self.pkce_plain,
            require_for_public: self.pkce_required_for_public,
            require_for_all: self.pkce_required,
        }
    }

    /// The refresh-token lifetime for an access-token lifetime.
    pub fn refresh_ttl_for(&self, access_ttl: i64) -> i64 {
        self.refresh_token_ttl
            .unwrap_or_else(|| access_ttl.saturating_mul(2))
    }
}

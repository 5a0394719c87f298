//! Server settings. The binary fills them from flags and environment variables; tests
//! and the conformance runner build them directly.

use std::path::PathBuf;
use std::time::Duration;

/// Everything the server needs to know to run.
#[derive(Debug, Clone)]
pub struct Config {
    /// The database: a SQLite file (created if missing) or a PostgreSQL URL.
    pub database: crate::store::Location,
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
    /// How the authorization endpoint's login and consent pages are built.
    pub login_ui: LoginUi,
    /// Lifetime of a pushed authorization request's `request_uri`, in seconds (RFC 9126
    /// §2.2).
    pub par_ttl: i64,
    /// Whether authorization requests must be pushed first (RFC 9126 §5,
    /// `require_pushed_authorization_requests`).
    pub require_par: bool,
    /// Whether validated access tokens are cached in memory (see
    /// [`crate::store::cache`]).
    pub token_cache: bool,
    /// With PostgreSQL, how long a cached token is served before it is read again: the
    /// bound for a revocation whose announcement was missed.
    pub token_cache_max_age: Duration,
    /// PostgreSQL connections per replica.
    pub db_pool_size: u32,
    /// How long a request waits for a free database connection before it is answered
    /// 503.
    pub db_acquire_timeout: Duration,
}

/// How the login and consent pages of the authorization endpoint are built. Both ask
/// the same things under the same security rules (CSRF token, anti-framing headers,
/// brute-force throttle); only the page and the answer format differ.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LoginUi {
    /// One HTML form without JavaScript (email, password, Approve and Deny), posted to
    /// the authorization endpoint, which answers with a 303 redirect.
    #[default]
    Plain,
    /// Pages without any form in their HTML, built by a same-origin script the way
    /// single-page login apps do: the user name, then the password on a second screen,
    /// then a consent page, each answered with `fetch` to a JSON API.
    Script,
}

impl LoginUi {
    /// The name the command line and the environment use.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Plain => "plain",
            Self::Script => "script",
        }
    }
}

impl std::fmt::Display for LoginUi {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for LoginUi {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "plain" => Ok(Self::Plain),
            "script" => Ok(Self::Script),
            other => Err(format!(
                "unknown login UI {other:?}; expected plain or script"
            )),
        }
    }
}

impl Config {
    /// Defaults for a database at `database` (a path, or a URL, see
    /// [`crate::store::Location`]), without fixtures.
    pub fn new(database: impl Into<crate::store::Location>) -> Self {
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
            login_ui: LoginUi::default(),
            par_ttl: 60,
            require_par: false,
            token_cache: true,
            token_cache_max_age: crate::store::cache::PG_MAX_AGE,
            db_pool_size: 16,
            db_acquire_timeout: Duration::from_secs(5),
        }
    }

    /// The store settings these settings describe.
    pub fn store_settings(&self) -> crate::store::Settings {
        crate::store::Settings {
            cache_capacity: if self.token_cache {
                crate::store::cache::DEFAULT_CAPACITY
            } else {
                0
            },
            pool_size: self.db_pool_size,
            acquire_timeout: self.db_acquire_timeout,
            cache_max_age: self.token_cache_max_age,
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

#[cfg(test)]
mod tests {
    use super::*;

    /// The plain UI is the default, and both names parse back to their variant.
    #[test]
    fn login_ui_names() {
        assert_eq!(Config::new("x.sqlite").login_ui, LoginUi::Plain);
        for ui in [LoginUi::Plain, LoginUi::Script] {
            assert_eq!(ui.as_str().parse::<LoginUi>(), Ok(ui));
            assert_eq!(ui.to_string(), ui.as_str());
        }
        assert!("Script".parse::<LoginUi>().is_err());
        assert!("".parse::<LoginUi>().is_err());
    }
}

//! The bundled reference OAuth 2.0 authorization and resource server.
//!
//! # Layout
//! - [`grant`]: pure protocol decisions (no warp, no sqlx), one file per concept:
//!   parameters, scope, client authentication, token requests, refresh.
//! - [`store`]: SQLite or PostgreSQL repositories (users, clients, grants and tokens)
//!   behind plain functions written once for both; tokens and secrets are stored only as SHA-256 digests.
//! - [`http`]: the warp edge: one filter reads each request, handlers per endpoint, and
//!   the single place where errors become responses.
//! - [`fixtures`]: the seed document of users and clients.
//! - [`consent`]: sign-ins waiting for the consent answer (script login UI), in memory.
//! - [`password`]: bcrypt verification on the blocking pool, bounded per core.
//! - [`secret`]: token generation, digests, redaction.
//! - [`throttle`]: brute-force protection of password sign-in, in memory (and shared
//!   by replicas through [`store::failures`] with PostgreSQL).
//!
//! [`Server::start`] runs the whole service on a bound listener; binaries, tests and the
//! conformance runner all start it that way.

pub mod config;
pub mod consent;
pub mod fixtures;
pub mod grant;
pub mod http;
pub mod model;
pub mod password;
pub mod secret;
pub mod store;
pub mod throttle;

use std::net::SocketAddr;
use std::sync::Arc;

use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

pub use config::{Config, LoginUi};
use password::Passwords;
use store::Db;

/// What every handler shares.
#[derive(Debug)]
pub struct State {
    /// The database.
    pub db: Db,
    /// The settings.
    pub config: Config,
    /// The issuer identifier in effect.
    pub issuer: String,
    /// The password verifier.
    pub passwords: Passwords,
    /// Registered clients, read once at start: they change only when fixtures load,
    /// which happens before serving, so every request is spared a database read.
    pub clients: std::collections::HashMap<String, model::Client>,
    /// Failed sign-ins by account and client address, shared by the token endpoint
    /// and the login form.
    pub throttle: throttle::Throttle,
    /// Sign-ins of the script login UI waiting for Approve or Deny.
    pub consents: consent::Consents,
}

impl State {
    /// The registered client with this id.
    pub fn client(&self, id: &str) -> Option<model::Client> {
        self.clients.get(id).cloned()
    }
}

/// Why the server could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// The database could not be opened or migrated.
    #[error("cannot open the database {location}")]
    Database {
        /// Where it is (without a password).
        location: String,
        /// Why.
        source: store::StoreError,
    },
    /// The database failed after it was opened.
    #[error("database failure")]
    Store(#[from] store::StoreError),
    /// The fixtures could not be loaded.
    #[error("cannot load the fixtures")]
    Fixtures(#[from] fixtures::SeedError),
    /// The password verifier could not be set up.
    #[error("cannot set up password hashing")]
    Password(#[from] password::PasswordError),
    /// The listener has no local address.
    #[error("cannot read the listener's address")]
    Io(#[from] std::io::Error),
    /// A setting is out of range.
    #[error("invalid setting: {0}")]
    Config(String),
}

/// A running server.
#[derive(Debug)]
pub struct Server {
    addr: SocketAddr,
    issuer: String,
    shutdown: Option<oneshot::Sender<()>>,
    serve: JoinHandle<()>,
    purge: JoinHandle<()>,
    state: Arc<State>,
}

/// Binds a listener (apart from serving, so tests can bind `127.0.0.1:0`).
pub async fn bind(addr: SocketAddr) -> std::io::Result<TcpListener> {
    TcpListener::bind(addr).await
}

impl Server {
    /// Opens the database, loads the fixtures and serves on `listener` until
    /// [`Server::stop`].
    pub async fn start(config: Config, listener: TcpListener) -> Result<Self, StartError> {
        if config.access_token_ttl <= 0 || config.refresh_token_ttl.is_some_and(|t| t <= 0) {
            return Err(StartError::Config(
                "token lifetimes must be positive".into(),
            ));
        }
        if !(1..=3600).contains(&config.par_ttl) {
            return Err(StartError::Config(
                "the request_uri lifetime must be between 1 and 3600 seconds".into(),
            ));
        }
        if !(1..=600).contains(&config.code_ttl) {
            return Err(StartError::Config(
                "the authorization code lifetime must be between 1 and 600 seconds".into(),
            ));
        }
        if !(4..=31).contains(&config.bcrypt_cost) {
            return Err(StartError::Config(
                "bcrypt cost must be between 4 and 31".into(),
            ));
        }
        config
            .login_throttle
            .check()
            .map_err(|e| StartError::Config(e.into()))?;
        let addr = listener.local_addr()?;
        let db = Db::open_with(&config.database, config.store_settings())
            .await
            .map_err(|source| StartError::Database {
                location: config.database.redacted(),
                source,
            })?;
        if let Some(path) = &config.fixtures {
            let seed = fixtures::read(path)?;
            fixtures::load(&db, seed, config.bcrypt_cost).await?;
        }
        let passwords = Passwords::new(config.bcrypt_cost).await?;
        let clients = store::clients::all(&db)
            .await?
            .into_iter()
            .map(|c| (c.id.clone(), c))
            .collect();
        let issuer = config
            .issuer
            .clone()
            .unwrap_or_else(|| format!("http://{addr}"));
        let throttle = throttle::Throttle::new(config.login_throttle);
        let state = Arc::new(State {
            db,
            config,
            issuer: issuer.clone(),
            passwords,
            clients,
            throttle,
            consents: consent::Consents::new(),
        });
        let (tx, rx) = oneshot::channel::<()>();
        let serve = tokio::spawn(
            warp::serve(http::routes(state.clone()))
                .incoming(listener)
                .graceful(async {
                    let _ = rx.await;
                })
                .run(),
        );
        let purge = tokio::spawn(purge_loop(state.clone()));
        tracing::info!(%addr, %issuer, "reference server listening");
        Ok(Self {
            addr,
            issuer,
            shutdown: Some(tx),
            serve,
            purge,
            state,
        })
    }

    /// The bound address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://` plus the bound address.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The issuer identifier.
    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    /// How many validated access tokens the cache holds now.
    pub fn cached_tokens(&self) -> usize {
        self.state.db.access_cache.len()
    }

    /// Waits until the server stops by itself (it does not, unless it fails).
    pub async fn wait(&mut self) {
        let _ = (&mut self.serve).await;
    }

    /// Stops accepting, finishes open requests, and closes the database.
    pub async fn stop(mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        self.purge.abort();
        let _ = (&mut self.serve).await;
        self.state.db.close().await;
    }
}

/// Deletes expired tokens and codes in small batches so the writer is never held for
/// long. Used codes are kept ten minutes past expiry so a late replay still revokes.
async fn purge_loop(state: Arc<State>) {
    const BATCH: i64 = 500;
    const KEEP_CODES: i64 = 600;
    loop {
        tokio::time::sleep(state.config.purge_interval).await;
        if let Err(e) =
            store::pushed::purge_expired(&state.db, grant::now(), KEEP_CODES, BATCH).await
        {
            tracing::warn!(error = %e, "purging expired pushed requests failed");
        }
        if let Err(e) = store::failures::purge(&state.db, state.throttle.settings()).await {
            tracing::warn!(error = %e, "purging old sign-in failures failed");
        }
        if let Err(e) =
            store::codes::purge_expired(&state.db, grant::now(), KEEP_CODES, BATCH).await
        {
            tracing::warn!(error = %e, "purging expired codes failed");
        }
        loop {
            match store::tokens::purge_expired(&state.db, grant::now(), BATCH).await {
                Ok(n) if n as i64 == BATCH => tokio::task::yield_now().await,
                Ok(n) => {
                    if n > 0 {
                        tracing::debug!(deleted = n, "purged expired tokens");
                    }
                    break;
                }
                Err(e) => {
                    tracing::warn!(error = %e, "purging expired tokens failed");
                    break;
                }
            }
        }
    }
}

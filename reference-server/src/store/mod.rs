//! Storage: SQLite through sqlx, behind repository functions so another backend can
//! follow. Every query binds its parameters; none is assembled from strings.
//!
//! Two pools share one database file in WAL mode: a single writer connection, so writes
//! queue in the application instead of failing with "database is locked", and a pool of
//! readers that WAL lets run beside it.

pub mod batch;
pub mod cache;
pub mod clients;
pub mod codes;
pub mod tokens;
pub mod users;

use std::path::Path;
use std::str::FromStr as _;
use std::time::Duration;

use sqlx::SqlitePool;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};

/// A storage failure. The HTTP edge turns it into `server_error` without details.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database answered with an error.
    #[error("database error")]
    Database(#[from] sqlx::Error),
    /// Migrations failed at start.
    #[error("database migration failed")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// A stored row does not hold what the schema promises.
    #[error("corrupt row: {0}")]
    Corrupt(&'static str),
    /// The store is shutting down.
    #[error("the store is closed")]
    Closed,
}

/// The database: one writer connection and a pool of readers.
#[derive(Debug, Clone)]
pub struct Db {
    /// Reads that decide nothing.
    pub read: SqlitePool,
    /// Every write, and every read that decides a write, in one connection.
    pub write: SqlitePool,
    /// Validated access tokens; revocations invalidate it (see [`cache`]).
    pub access_cache: std::sync::Arc<cache::AccessCache>,
    /// Group commit of new grants (see [`batch`]).
    pub batcher: batch::Batcher,
}

impl Db {
    /// Opens (creating if missing) the database file and runs the embedded migrations.
    pub async fn open(path: &Path) -> Result<Self, StoreError> {
        let options = SqliteConnectOptions::from_str("sqlite://")?
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .busy_timeout(Duration::from_secs(10))
            .foreign_keys(true);
        let write = SqlitePoolOptions::new()
            .max_connections(1)
            .min_connections(1)
            .idle_timeout(None)
            .max_lifetime(None)
            .acquire_timeout(Duration::from_secs(30))
            .connect_with(options.clone())
            .await?;
        sqlx::migrate!("./migrations").run(&write).await?;
        let read = SqlitePoolOptions::new()
            .max_connections(4)
            .acquire_timeout(Duration::from_secs(30))
            .connect_with(options.read_only(true))
            .await?;
        Ok(Self {
            batcher: batch::Batcher::start(write.clone()),
            read,
            write,
            access_cache: std::sync::Arc::new(cache::AccessCache::new(cache::DEFAULT_CAPACITY)),
        })
    }

    /// Closes both pools.
    pub async fn close(&self) {
        self.read.close().await;
        self.write.close().await;
    }
}

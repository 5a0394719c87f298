//! Storage through sqlx's `Any` driver, behind repository functions written once for
//! both backends: every query binds its parameters as `$1`, `$2`, ... (which SQLite and
//! PostgreSQL both read), and none is assembled from strings. The backend follows the
//! database location (see [`Location`]).
//!
//! - **SQLite** (the embedded default): two pools share one database file in WAL mode,
//!   a single writer connection, so writes queue in the application instead of failing
//!   with "database is locked", and a pool of readers that WAL lets run beside it. One
//!   process owns the file.
//! - **PostgreSQL** (the scale-out path): one pool; several replicas may share the
//!   database. Every decision that must have one winner (code redemption, refresh
//!   rotation) is a conditional update, so replicas never race a read against a write;
//!   revocations are announced with `NOTIFY` so every replica's token cache forgets them
//!   (see [`notify`]).

pub mod batch;
pub mod cache;
pub mod clients;
pub mod codes;
pub mod failures;
pub mod notify;
pub mod pushed;
pub mod tokens;
pub mod users;

use std::path::{Path, PathBuf};
use std::str::FromStr as _;
use std::sync::Arc;
use std::time::Duration;

use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::{AnyPool, Executor as _};

/// A storage failure. The HTTP edge turns it into `server_error` (or, when the database
/// cannot be reached, `temporarily_unavailable` / 503) without details.
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
    /// The database did not answer a connection attempt in time.
    #[error("no answer from the database within {0:?}")]
    ConnectTimeout(Duration),
    /// The database could not be reached for a batch this request was part of.
    #[error("database unavailable: {0}")]
    Unavailable(String),
}

impl StoreError {
    /// Whether the database could not be reached or had no connection free in time (as
    /// opposed to refusing a statement): the request may succeed when retried later.
    pub fn is_unavailable(&self) -> bool {
        match self {
            Self::Database(e) => {
                matches!(
                    e,
                    sqlx::Error::Io(_)
                        | sqlx::Error::Tls(_)
                        | sqlx::Error::PoolTimedOut
                        | sqlx::Error::PoolClosed
                        | sqlx::Error::WorkerCrashed
                        | sqlx::Error::Protocol(_)
                ) || is_pg_unavailable(e)
            }
            Self::Closed | Self::ConnectTimeout(_) | Self::Unavailable(_) => true,
            Self::Migrate(_) | Self::Corrupt(_) => false,
        }
    }

    /// Whether PostgreSQL gave up a transaction that may simply be run again
    /// (serialization failure or deadlock).
    pub fn is_retryable(&self) -> bool {
        let Self::Database(sqlx::Error::Database(db)) = self else {
            return false;
        };
        matches!(db.code().as_deref(), Some("40001" | "40P01"))
    }
}

/// Runs a decide-and-apply transaction until it holds: `once` gives `None` when a
/// conditional update found the row changed by another transaction (decide again, at
/// most three times), and a PostgreSQL serialization failure or deadlock is retried too.
pub(crate) async fn until_decided<T, F, Fut>(
    what: &'static str,
    mut once: F,
) -> Result<T, StoreError>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<Option<T>, StoreError>>,
{
    let mut attempts = 0;
    loop {
        attempts += 1;
        match once().await {
            Ok(Some(outcome)) => return Ok(outcome),
            Ok(None) if attempts < 3 => {}
            Ok(None) => return Err(StoreError::Corrupt(what)),
            Err(e) if e.is_retryable() && attempts < 5 => {}
            Err(e) => return Err(e),
        }
    }
}

/// PostgreSQL's codes for a server shutting down or refusing connections (class 57P
/// "operator intervention", 08 "connection exception", 53300 too many connections).
fn is_pg_unavailable(e: &sqlx::Error) -> bool {
    let sqlx::Error::Database(db) = e else {
        return false;
    };
    db.code()
        .is_some_and(|c| c.starts_with("57P") || c.starts_with("08") || c == "53300")
}

/// Which database engine a [`Db`] talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// An embedded SQLite file.
    Sqlite,
    /// A PostgreSQL server, possibly shared by several replicas.
    Postgres,
}

/// Where the database is: a SQLite file (a plain path, `sqlite://PATH` or `sqlite:PATH`)
/// or a PostgreSQL server (`postgres://...` or `postgresql://...`). `Debug` and `Display`
/// never show a password the URL carries.
#[derive(Clone, PartialEq, Eq)]
pub enum Location {
    /// A SQLite database file, created if missing.
    Sqlite(PathBuf),
    /// A PostgreSQL connection URL.
    Postgres(String),
}

impl Location {
    /// Reads a `--database` value.
    pub fn parse(s: &str) -> Self {
        let lower = s.get(..13).unwrap_or(s).to_ascii_lowercase();
        if lower.starts_with("postgres://") || lower.starts_with("postgresql://") {
            return Self::Postgres(s.to_owned());
        }
        let path = s
            .strip_prefix("sqlite://")
            .or_else(|| s.strip_prefix("sqlite:"))
            .unwrap_or(s);
        Self::Sqlite(PathBuf::from(path))
    }

    /// The backend this location needs.
    pub fn backend(&self) -> Backend {
        match self {
            Self::Sqlite(_) => Backend::Sqlite,
            Self::Postgres(_) => Backend::Postgres,
        }
    }

    /// The location with any password replaced by `***`.
    pub fn redacted(&self) -> String {
        match self {
            Self::Sqlite(p) => p.display().to_string(),
            Self::Postgres(url) => match url::Url::parse(url) {
                Ok(mut u) => {
                    if u.password().is_some() {
                        let _ = u.set_password(Some("***"));
                    }
                    // A password may also come as a query parameter.
                    let pairs: Vec<(String, String)> = u
                        .query_pairs()
                        .map(|(k, v)| {
                            let secret = k.eq_ignore_ascii_case("password")
                                || k.eq_ignore_ascii_case("sslpassword");
                            (
                                k.into_owned(),
                                if secret { "***".into() } else { v.into_owned() },
                            )
                        })
                        .collect();
                    if !pairs.is_empty() {
                        u.query_pairs_mut().clear().extend_pairs(pairs);
                    }
                    u.to_string()
                }
                Err(_) => "postgres://(unparsable URL)".to_owned(),
            },
        }
    }
}

impl std::fmt::Debug for Location {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Location({})", self.redacted())
    }
}

impl std::fmt::Display for Location {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.redacted())
    }
}

impl From<PathBuf> for Location {
    fn from(p: PathBuf) -> Self {
        Self::Sqlite(p)
    }
}

impl From<&Path> for Location {
    fn from(p: &Path) -> Self {
        Self::Sqlite(p.to_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Paths and URLs choose their backend; a password never shows in `Debug` or
    /// `Display`.
    #[test]
    fn locations() {
        assert_eq!(
            Location::parse("a.sqlite"),
            Location::Sqlite("a.sqlite".into())
        );
        assert_eq!(
            Location::parse("sqlite:///tmp/a.db"),
            Location::Sqlite("/tmp/a.db".into())
        );
        assert_eq!(
            Location::parse("sqlite:a.db"),
            Location::Sqlite("a.db".into())
        );
        for url in [
            "postgres://u:pw-secret@h:5432/d",
            "postgresql://u:pw-secret@h/d",
            "POSTGRES://u:pw-secret@h/d",
            "postgres://h/d?user=u&password=pw-secret",
        ] {
            let l = Location::parse(url);
            assert_eq!(l.backend(), Backend::Postgres, "{url}");
            assert!(!format!("{l:?} {l}").contains("pw-secret"), "{l:?}");
            assert!(l.redacted().contains("***"), "{}", l.redacted());
        }
        assert_eq!(
            Location::parse("postgres://h/d").redacted(),
            "postgres://h/d"
        );
    }
}

impl From<&PathBuf> for Location {
    fn from(p: &PathBuf) -> Self {
        Self::Sqlite(p.clone())
    }
}

impl From<&str> for Location {
    fn from(s: &str) -> Self {
        Self::parse(s)
    }
}

impl From<String> for Location {
    fn from(s: String) -> Self {
        Self::parse(&s)
    }
}

/// How the store connects and caches.
#[derive(Debug, Clone, Copy)]
pub struct Settings {
    /// Validated access tokens kept in memory; 0 turns the cache off.
    pub cache_capacity: usize,
    /// PostgreSQL connections per replica.
    pub pool_size: u32,
    /// How long a request waits for a free connection before it is answered 503.
    pub acquire_timeout: Duration,
    /// With PostgreSQL, how long a cache entry is served before it is read again (the
    /// bound for revocations whose announcement was missed).
    pub cache_max_age: Duration,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            cache_capacity: cache::DEFAULT_CAPACITY,
            pool_size: 16,
            acquire_timeout: Duration::from_secs(5),
            cache_max_age: cache::PG_MAX_AGE,
        }
    }
}

/// The database: pools for reads and writes (one writer connection with SQLite, the same
/// pool with PostgreSQL), the token cache and the group commit.
#[derive(Debug, Clone)]
pub struct Db {
    /// Which engine this is.
    pub backend: Backend,
    /// Reads that decide nothing.
    pub read: AnyPool,
    /// Every write, and every read that decides a write.
    pub write: AnyPool,
    /// Validated access tokens; revocations invalidate it (see [`cache`]).
    pub access_cache: Arc<cache::AccessCache>,
    /// Group commit of new grants (see [`batch`]).
    pub batcher: batch::Batcher,
    /// The task that listens for other replicas' revocations (PostgreSQL only).
    listener: Option<Arc<notify::ListenerTask>>,
}

impl Db {
    /// Opens (creating if missing) the database with the default settings and runs the
    /// embedded migrations.
    pub async fn open(location: impl Into<Location>) -> Result<Self, StoreError> {
        Self::open_with(&location.into(), Settings::default()).await
    }

    /// Opens the database and runs the embedded migrations of its backend.
    pub async fn open_with(location: &Location, settings: Settings) -> Result<Self, StoreError> {
        sqlx::any::install_default_drivers();
        match location {
            Location::Sqlite(path) => Self::open_sqlite(path, settings).await,
            Location::Postgres(url) => Self::open_postgres(url, settings).await,
        }
    }

    async fn open_sqlite(path: &Path, settings: Settings) -> Result<Self, StoreError> {
        let file = sqlx::sqlite::SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true);
        let url = sqlx::ConnectOptions::to_url_lossy(&file);
        let writer = AnyConnectOptions::from_str(url.as_str())?;
        let reader = AnyConnectOptions::from_str(&url.as_str().replace("mode=rwc", "mode=ro"))?;
        // The journal mode is a property of the file; synchronous, the busy timeout and
        // foreign keys are per connection.
        let write = AnyPoolOptions::new()
            .max_connections(1)
            .min_connections(1)
            .idle_timeout(None)
            .max_lifetime(None)
            .acquire_timeout(Duration::from_secs(30))
            .after_connect(|conn, _| {
                Box::pin(async move {
                    conn.execute(
                        "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;
                         PRAGMA busy_timeout = 10000; PRAGMA foreign_keys = ON;",
                    )
                    .await?;
                    Ok(())
                })
            })
            .connect_with(writer)
            .await?;
        sqlx::migrate!("./migrations/sqlite").run(&write).await?;
        let read = AnyPoolOptions::new()
            .max_connections(4)
            .acquire_timeout(Duration::from_secs(30))
            .after_connect(|conn, _| {
                Box::pin(async move {
                    conn.execute("PRAGMA busy_timeout = 10000;").await?;
                    Ok(())
                })
            })
            .connect_with(reader)
            .await?;
        Ok(Self {
            backend: Backend::Sqlite,
            batcher: batch::Batcher::start(write.clone(), Backend::Sqlite),
            read,
            write,
            access_cache: Arc::new(cache::AccessCache::new(settings.cache_capacity)),
            listener: None,
        })
    }

    async fn open_postgres(url: &str, settings: Settings) -> Result<Self, StoreError> {
        let options = AnyConnectOptions::from_str(url)?;
        // One connection first, so that a database that cannot be reached at start says
        // why (refused, unknown host, authentication) rather than "pool timed out".
        let first = tokio::time::timeout(
            settings.acquire_timeout,
            <sqlx::AnyConnection as sqlx::Connection>::connect_with(&options),
        )
        .await
        .map_err(|_| StoreError::ConnectTimeout(settings.acquire_timeout))??;
        let _ = sqlx::Connection::close(first).await;
        let pool = AnyPoolOptions::new()
            .max_connections(settings.pool_size.max(2))
            .min_connections(1)
            .acquire_timeout(settings.acquire_timeout)
            .connect_with(options)
            .await?;
        // sqlx takes a PostgreSQL advisory lock around the migrations, so replicas
        // starting together apply them once.
        sqlx::migrate!("./migrations/postgres").run(&pool).await?;
        let access_cache = Arc::new(cache::AccessCache::shared(
            settings.cache_capacity,
            settings.cache_max_age,
        ));
        let listener = notify::ListenerTask::start(url, Arc::clone(&access_cache)).await?;
        Ok(Self {
            backend: Backend::Postgres,
            batcher: batch::Batcher::start(pool.clone(), Backend::Postgres),
            read: pool.clone(),
            write: pool,
            access_cache,
            listener: Some(Arc::new(listener)),
        })
    }

    /// Closes the pools and stops listening.
    pub async fn close(&self) {
        if let Some(l) = &self.listener {
            l.stop();
        }
        self.read.close().await;
        self.write.close().await;
    }
}

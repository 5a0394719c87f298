//! A digest of the database content, cheap enough to take after every batch: per table
//! the row count, the highest row id and sums over every column a request could change,
//! plus SQLite's `data_version`, which moves whenever another connection commits.

use std::time::Duration;

use sqlx::SqlitePool;
use sqlx::sqlite::{SqliteConnectOptions, SqlitePoolOptions};

/// Row counts a successful request changes by a known amount.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    /// Tokens stored.
    pub tokens: i64,
    /// Grants stored.
    pub grants: i64,
    /// Codes stored.
    pub codes: i64,
    /// Codes redeemed.
    pub codes_used: i64,
    /// Refresh tokens rotated.
    pub refresh_used: i64,
}

impl std::ops::Sub for Counts {
    type Output = Counts;
    fn sub(self, o: Counts) -> Counts {
        Counts {
            tokens: self.tokens - o.tokens,
            grants: self.grants - o.grants,
            codes: self.codes - o.codes,
            codes_used: self.codes_used - o.codes_used,
            refresh_used: self.refresh_used - o.refresh_used,
        }
    }
}

impl std::ops::AddAssign for Counts {
    fn add_assign(&mut self, o: Counts) {
        self.tokens += o.tokens;
        self.grants += o.grants;
        self.codes += o.codes;
        self.codes_used += o.codes_used;
        self.refresh_used += o.refresh_used;
    }
}

/// The database content, summarised.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Digest {
    /// Row counts that successes change by known amounts.
    pub counts: Counts,
    /// Users and clients, which no request changes.
    pub fixed: Vec<i64>,
    /// The highest row ids and sums over every other column.
    pub rest: Vec<i64>,
    /// Revoked tokens and grants (a revocation, or a replayed code or refresh token).
    pub revocations: Vec<i64>,
    /// `PRAGMA data_version` of the digest's own connection: moves on any commit.
    pub data_version: i64,
}

/// One read-only connection kept for the whole run, so `data_version` compares.
pub async fn open(path: &std::path::Path) -> SqlitePool {
    let options = SqliteConnectOptions::new()
        .filename(path)
        .read_only(true)
        .busy_timeout(Duration::from_secs(10));
    SqlitePoolOptions::new()
        .max_connections(1)
        .min_connections(1)
        .idle_timeout(None)
        .max_lifetime(None)
        .connect_with(options)
        .await
        .unwrap()
}

async fn row(db: &SqlitePool, sql: &'static str) -> Vec<i64> {
    let row: (i64, i64, i64, i64, i64, i64, i64, i64) =
        sqlx::query_as(sql).fetch_one(db).await.unwrap();
    vec![row.0, row.1, row.2, row.3, row.4, row.5, row.6, row.7]
}

/// Takes the digest: one pass over each table.
pub async fn take(db: &SqlitePool) -> Digest {
    let tokens = row(
        db,
        "SELECT count(*), coalesce(sum(used_at IS NOT NULL), 0), coalesce(max(rowid), 0),
                coalesce(sum(used_at), 0), coalesce(sum(expires_at), 0),
                coalesce(sum(length(scope) + length(client_id) + coalesce(user_id, 0)), 0),
                coalesce(sum(revoked_at IS NOT NULL), 0), coalesce(sum(revoked_at), 0)
         FROM tokens",
    )
    .await;
    let grants = row(
        db,
        "SELECT count(*), coalesce(max(id), 0), coalesce(sum(created_at), 0),
                coalesce(sum(length(scope)), 0), coalesce(sum(coalesce(user_id, 0)), 0),
                coalesce(sum(length(client_id)), 0),
                coalesce(sum(revoked_at IS NOT NULL), 0), coalesce(sum(revoked_at), 0)
         FROM grants",
    )
    .await;
    let codes = row(
        db,
        "SELECT count(*), coalesce(sum(used_at IS NOT NULL), 0), coalesce(max(rowid), 0),
                coalesce(sum(used_at), 0), coalesce(sum(grant_id), 0),
                coalesce(sum(length(scope) + length(redirect_uri) + expires_at), 0), 0, 0
         FROM codes",
    )
    .await;
    let fixed = row(
        db,
        "SELECT count(*), coalesce(max(id), 0), coalesce(sum(length(password_hash)), 0),
                coalesce(sum(length(email) + created_at), 0),
                (SELECT count(*) FROM clients),
                (SELECT coalesce(sum(length(secret_digest)), 0) FROM clients),
                (SELECT coalesce(sum(length(redirect_uris) + length(grant_types)), 0) FROM clients),
                (SELECT coalesce(sum(length(scope)) + sum(coalesce(access_token_ttl, 0)), 0) FROM clients)
         FROM users",
    )
    .await;
    let data_version: i64 = sqlx::query_scalar("PRAGMA data_version")
        .fetch_one(db)
        .await
        .unwrap();
    Digest {
        counts: Counts {
            tokens: tokens[0],
            grants: grants[0],
            codes: codes[0],
            codes_used: codes[1],
            refresh_used: tokens[1],
        },
        fixed,
        rest: [&tokens[2..6], &grants[1..6], &codes[2..6]].concat(),
        revocations: vec![tokens[6], tokens[7], grants[6], grants[7]],
        data_version,
    }
}

//! Pushed authorization requests (RFC 9126): stored when pushed, read by the
//! authorization endpoint, used once.

use sqlx::Row as _;

use super::{Db, StoreError};

/// A pushed request as stored.
#[derive(Clone)]
pub struct Pushed {
    /// The client that pushed it.
    pub client_id: String,
    /// The pushed parameters, form-encoded (client credentials left out).
    pub params: String,
    /// Expiry, seconds since the epoch.
    pub expires_at: i64,
    /// When it was used, if it was.
    pub used_at: Option<i64>,
}

impl std::fmt::Debug for Pushed {
    /// Without the parameters, which may carry a PKCE challenge and state.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pushed")
            .field("client_id", &self.client_id)
            .field("expires_at", &self.expires_at)
            .field("used_at", &self.used_at)
            .finish_non_exhaustive()
    }
}

/// Stores a pushed request.
pub async fn insert(
    db: &Db,
    digest: &[u8],
    client_id: &str,
    params: &str,
    expires_at: i64,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO pushed_requests (digest, client_id, params, expires_at) VALUES ($1, $2, $3, $4)",
    )
    .bind(digest)
    .bind(client_id)
    .bind(params)
    .bind(expires_at)
    .execute(&db.write)
    .await?;
    Ok(())
}

/// The pushed request with this digest, used or not, expired or not.
pub async fn find(db: &Db, digest: &[u8]) -> Result<Option<Pushed>, StoreError> {
    let row = sqlx::query(
        "SELECT client_id, params, expires_at, used_at FROM pushed_requests WHERE digest = $1",
    )
    .bind(digest)
    .fetch_optional(&db.write)
    .await?;
    let Some(row) = row else { return Ok(None) };
    Ok(Some(Pushed {
        client_id: row.try_get("client_id")?,
        params: row.try_get("params")?,
        expires_at: row.try_get("expires_at")?,
        used_at: row.try_get("used_at")?,
    }))
}

/// Marks the request used, if it is this client's, unused and unexpired; returns
/// whether it did (a conditional update: of parallel uses, on any replica, one wins).
pub async fn use_once(
    db: &Db,
    digest: &[u8],
    client_id: &str,
    now: i64,
) -> Result<bool, StoreError> {
    let done = sqlx::query(
        "UPDATE pushed_requests SET used_at = $1
         WHERE digest = $2 AND client_id = $3 AND used_at IS NULL AND expires_at > $1",
    )
    .bind(now)
    .bind(digest)
    .bind(client_id)
    .execute(&db.write)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Deletes up to `batch` requests that expired more than `keep` seconds ago.
pub async fn purge_expired(db: &Db, now: i64, keep: i64, batch: i64) -> Result<u64, StoreError> {
    let done = sqlx::query(
        "DELETE FROM pushed_requests WHERE digest IN
            (SELECT digest FROM pushed_requests WHERE expires_at <= $1 LIMIT $2)",
    )
    .bind(now - keep)
    .bind(batch)
    .execute(&db.write)
    .await?;
    Ok(done.rows_affected())
}

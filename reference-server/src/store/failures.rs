//! Failed sign-ins shared by replicas (PostgreSQL only; with SQLite one process owns the
//! database and [`crate::throttle`] keeps the counts in memory).
//!
//! The rules are the in-memory throttle's: `max_failures` failures block the pair of
//! account and client address, the first block lasts `block`, each further one twice
//! as long up to `max_block`, a success forgets the pair, and so does `window` without a
//! failure once its block is over. Each failure is one atomic upsert, and the block is
//! set by a conditional update, so failures arriving at several replicas at once are all
//! counted and block the pair once.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use sqlx::Row as _;

use super::{Backend, Db, StoreError};
use crate::throttle::{Refused, Settings};

/// Milliseconds since the epoch (the replicas share the wall clock).
fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

fn ms(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

/// Whether the pair may try now: refused while it is blocked; otherwise how many
/// failures it has (0 with SQLite, where the in-memory throttle counts them).
pub async fn check(
    db: &Db,
    key: &[u8],
    settings: &Settings,
) -> Result<Result<u32, Refused>, StoreError> {
    if db.backend != Backend::Postgres || !settings.enabled() {
        return Ok(Ok(0));
    }
    let row = sqlx::query(
        "SELECT failures, blocked_until, last_failure FROM login_failures WHERE key = $1",
    )
    .bind(key)
    .fetch_optional(&db.read)
    .await?;
    let Some(row) = row else { return Ok(Ok(0)) };
    let now = now_ms();
    let blocked_until: i64 = row.try_get("blocked_until")?;
    if blocked_until > now {
        let wait = u64::try_from(blocked_until - now).unwrap_or(0);
        return Ok(Err(Refused {
            retry_after: Duration::from_millis(wait),
        }));
    }
    let failures: i64 = row.try_get("failures")?;
    let last: i64 = row.try_get("last_failure")?;
    let forgotten = last.max(blocked_until).saturating_add(ms(settings.window)) <= now;
    if forgotten {
        return Ok(Ok(0));
    }
    if failures >= i64::from(settings.max_failures) {
        return Ok(Err(Refused {
            retry_after: Duration::from_secs(1),
        }));
    }
    Ok(Ok(u32::try_from(failures).unwrap_or(u32::MAX)))
}

/// Counts one failure of the pair; blocks it when that makes `max_failures`. Returns
/// whether the database keeps the count (PostgreSQL); when it does not (SQLite), the
/// caller counts it in memory.
pub async fn record(db: &Db, key: &[u8], settings: &Settings) -> Result<bool, StoreError> {
    if db.backend != Backend::Postgres {
        return Ok(false);
    }
    if !settings.enabled() {
        return Ok(true);
    }
    let now = now_ms();
    let row = sqlx::query(
        "INSERT INTO login_failures AS f (key, failures, blocks, blocked_until, last_failure)
         VALUES ($1, 1, 0, 0, $2)
         ON CONFLICT (key) DO UPDATE SET
            failures = CASE WHEN GREATEST(f.last_failure, f.blocked_until) + $3 <= $2
                            THEN 1 ELSE f.failures + 1 END,
            blocks = CASE WHEN GREATEST(f.last_failure, f.blocked_until) + $3 <= $2
                          THEN 0 ELSE f.blocks END,
            blocked_until = CASE WHEN GREATEST(f.last_failure, f.blocked_until) + $3 <= $2
                                 THEN 0 ELSE f.blocked_until END,
            last_failure = $2
         RETURNING failures, blocks",
    )
    .bind(key)
    .bind(now)
    .bind(ms(settings.window))
    .fetch_one(&db.write)
    .await?;
    let failures: i64 = row.try_get("failures")?;
    let blocks: i64 = row.try_get("blocks")?;
    if failures < i64::from(settings.max_failures) {
        return Ok(true);
    }
    let block = settings.block_after(u32::try_from(blocks).unwrap_or(u32::MAX));
    let blocked = sqlx::query(
        "UPDATE login_failures SET failures = 0, blocks = blocks + 1, blocked_until = $2
         WHERE key = $1 AND failures >= $3",
    )
    .bind(key)
    .bind(now.saturating_add(ms(block)))
    .bind(i64::from(settings.max_failures))
    .execute(&db.write)
    .await?;
    if blocked.rows_affected() == 1 {
        tracing::warn!(
            block_seconds = block.as_secs(),
            blocks = blocks + 1,
            "sign-in blocked after repeated wrong passwords (shared by every replica)"
        );
    }
    Ok(true)
}

/// Forgets the pair after a successful sign-in.
pub async fn forget(db: &Db, key: &[u8]) -> Result<(), StoreError> {
    if db.backend != Backend::Postgres {
        return Ok(());
    }
    sqlx::query("DELETE FROM login_failures WHERE key = $1")
        .bind(key)
        .execute(&db.write)
        .await?;
    Ok(())
}

/// Deletes pairs quiet for longer than the window (PostgreSQL only).
pub async fn purge(db: &Db, settings: &Settings) -> Result<u64, StoreError> {
    if db.backend != Backend::Postgres {
        return Ok(0);
    }
    let done = sqlx::query(
        "DELETE FROM login_failures WHERE GREATEST(last_failure, blocked_until) + $1 < $2",
    )
    .bind(ms(settings.window))
    .bind(now_ms())
    .execute(&db.write)
    .await?;
    Ok(done.rows_affected())
}

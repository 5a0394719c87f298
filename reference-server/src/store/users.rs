//! Users: lookup by email and idempotent seeding.

use sqlx::Row as _;
use sqlx::any::AnyRow;

use super::{Db, StoreError};
use crate::model::User;

fn user(row: &AnyRow) -> Result<User, sqlx::Error> {
    Ok(User {
        id: row.try_get("id")?,
        email: row.try_get("email")?,
        password_hash: row.try_get("password_hash")?,
        first_name: row.try_get("first_name")?,
        last_name: row.try_get("last_name")?,
    })
}

/// The user with this email, if any. The comparison folds ASCII case only, the way
/// SQLite's `COLLATE NOCASE` and the sign-in throttle do: the input is folded here, and
/// PostgreSQL's `lower()`, which folds more than ASCII in some locales, is applied to
/// the stored value only. A name with a NUL character (which PostgreSQL cannot take in
/// text) names nobody.
pub async fn find_by_email(db: &Db, email: &str) -> Result<Option<User>, StoreError> {
    if email.contains('\0') {
        return Ok(None);
    }
    let row = sqlx::query(
        "SELECT id, email, password_hash, first_name, last_name FROM users WHERE lower(email) = $1",
    )
    .bind(email.to_ascii_lowercase())
    .fetch_optional(&db.read)
    .await?;
    Ok(row.as_ref().map(user).transpose()?)
}

/// The user with this id, if any.
pub async fn find(db: &Db, id: i64) -> Result<Option<User>, StoreError> {
    let row = sqlx::query(
        "SELECT id, email, password_hash, first_name, last_name FROM users WHERE id = $1",
    )
    .bind(id)
    .fetch_optional(&db.read)
    .await?;
    Ok(row.as_ref().map(user).transpose()?)
}

/// Whether a user with this email exists.
pub async fn exists(db: &Db, email: &str) -> Result<bool, StoreError> {
    if email.contains('\0') {
        return Ok(false);
    }
    let row = sqlx::query("SELECT 1 FROM users WHERE lower(email) = $1")
        .bind(email.to_ascii_lowercase())
        .fetch_optional(&db.write)
        .await?;
    Ok(row.is_some())
}

/// Inserts a user unless one with the email exists. Returns whether it inserted.
pub async fn insert_if_missing(
    db: &Db,
    email: &str,
    password_hash: &str,
    first_name: &str,
    last_name: &str,
    now: i64,
) -> Result<bool, StoreError> {
    let done = sqlx::query(
        "INSERT INTO users (email, password_hash, first_name, last_name, created_at)
         VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING",
    )
    .bind(email)
    .bind(password_hash)
    .bind(first_name)
    .bind(last_name)
    .bind(now)
    .execute(&db.write)
    .await?;
    Ok(done.rows_affected() == 1)
}

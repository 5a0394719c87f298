//! Users: lookup by email and idempotent seeding.

use sqlx::Row as _;
use sqlx::sqlite::SqliteRow;

use super::{Db, StoreError};
use crate::model::User;

fn user(row: &SqliteRow) -> Result<User, sqlx::Error> {
    Ok(User {
        id: row.try_get("id")?,
        email: row.try_get("email")?,
        password_hash: row.try_get("password_hash")?,
        first_name: row.try_get("first_name")?,
        last_name: row.try_get("last_name")?,
    })
}

/// The user with this email (case-insensitive), if any.
pub async fn find_by_email(db: &Db, email: &str) -> Result<Option<User>, StoreError> {
    let row = sqlx::query(
        "SELECT id, email, password_hash, first_name, last_name FROM users WHERE email = ?",
    )
    .bind(email)
    .fetch_optional(&db.read)
    .await?;
    Ok(row.as_ref().map(user).transpose()?)
}

/// The user with this id, if any.
pub async fn find(db: &Db, id: i64) -> Result<Option<User>, StoreError> {
    let row = sqlx::query(
        "SELECT id, email, password_hash, first_name, last_name FROM users WHERE id = ?",
    )
    .bind(id)
    .fetch_optional(&db.read)
    .await?;
    Ok(row.as_ref().map(user).transpose()?)
}

/// Whether a user with this email exists.
pub async fn exists(db: &Db, email: &str) -> Result<bool, StoreError> {
    let row = sqlx::query("SELECT 1 FROM users WHERE email = ?")
        .bind(email)
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
         VALUES (?, ?, ?, ?, ?) ON CONFLICT(email) DO NOTHING",
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

//! Registered clients: lookup and idempotent seeding. Lists are stored space-separated.

use sqlx::Row as _;
use sqlx::any::AnyRow;

use super::{Db, StoreError};
use crate::grant::scope::Scope;
use crate::model::{AuthMethod, Client};

fn list(s: &str) -> Vec<String> {
    s.split(' ')
        .filter(|t| !t.is_empty())
        .map(str::to_owned)
        .collect()
}

fn client(row: &AnyRow) -> Result<Client, StoreError> {
    let method: String = row.try_get("token_endpoint_auth_method")?;
    let scope: String = row.try_get("scope")?;
    Ok(Client {
        id: row.try_get("client_id")?,
        secret_digest: row.try_get("secret_digest")?,
        name: row.try_get("client_name")?,
        uri: row.try_get("client_uri")?,
        grant_types: list(&row.try_get::<String, _>("grant_types")?),
        redirect_uris: list(&row.try_get::<String, _>("redirect_uris")?),
        response_types: list(&row.try_get::<String, _>("response_types")?),
        scope: if scope.is_empty() {
            Scope::default()
        } else {
            Scope::parse(&scope).ok_or(StoreError::Corrupt("client scope"))?
        },
        auth_method: AuthMethod::parse(&method).ok_or(StoreError::Corrupt("client auth method"))?,
        access_token_ttl: row.try_get("access_token_ttl")?,
    })
}

/// The client with this id, if any.
pub async fn find(db: &Db, client_id: &str) -> Result<Option<Client>, StoreError> {
    let row = sqlx::query(
        "SELECT client_id, secret_digest, client_name, client_uri, grant_types, redirect_uris,
                response_types, scope, token_endpoint_auth_method, access_token_ttl
         FROM clients WHERE client_id = $1",
    )
    .bind(client_id)
    .fetch_optional(&db.read)
    .await?;
    row.as_ref().map(client).transpose()
}

/// Every registered client.
pub async fn all(db: &Db) -> Result<Vec<Client>, StoreError> {
    let rows = sqlx::query(
        "SELECT client_id, secret_digest, client_name, client_uri, grant_types, redirect_uris,
                response_types, scope, token_endpoint_auth_method, access_token_ttl
         FROM clients",
    )
    .fetch_all(&db.read)
    .await?;
    rows.iter().map(client).collect()
}

/// Inserts or updates a client's registration (seeding is idempotent).
pub async fn upsert(db: &Db, c: &Client) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO clients (client_id, secret_digest, client_name, client_uri, grant_types,
                redirect_uris, response_types, scope, token_endpoint_auth_method, access_token_ttl)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
         ON CONFLICT(client_id) DO UPDATE SET
            secret_digest = excluded.secret_digest, client_name = excluded.client_name,
            client_uri = excluded.client_uri, grant_types = excluded.grant_types,
            redirect_uris = excluded.redirect_uris, response_types = excluded.response_types,
            scope = excluded.scope,
            token_endpoint_auth_method = excluded.token_endpoint_auth_method,
            access_token_ttl = excluded.access_token_ttl",
    )
    .bind(&c.id)
    .bind(&c.secret_digest)
    .bind(&c.name)
    .bind(&c.uri)
    .bind(c.grant_types.join(" "))
    .bind(c.redirect_uris.join(" "))
    .bind(c.response_types.join(" "))
    .bind(c.scope.to_string())
    .bind(c.auth_method.as_str())
    .bind(c.access_token_ttl)
    .execute(&db.write)
    .await?;
    Ok(())
}

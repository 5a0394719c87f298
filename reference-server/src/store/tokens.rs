//! Grants and their tokens. Tokens are stored only as SHA-256 digests; a grant groups the
//! access and refresh tokens of one authorization so they can be revoked together.

use sqlx::Row as _;
use sqlx::any::AnyRow;

use std::sync::Arc;

use super::cache::ActiveAccess;
use super::notify::{Revoked, announce};
use super::{Backend, Db, StoreError};
use crate::grant::OAuthError;
use crate::grant::refresh::{RefreshDecision, RefreshRecord, decide};
use crate::grant::scope::Scope;

/// A token about to be stored.
#[derive(Debug, Clone)]
pub struct NewToken {
    /// SHA-256 digest of the token value.
    pub digest: Vec<u8>,
    /// Expiry, seconds since the epoch.
    pub expires_at: i64,
}

/// A new grant and its first tokens.
#[derive(Debug, Clone)]
pub struct NewGrant<'a> {
    /// The client the tokens are issued to.
    pub client_id: &'a str,
    /// The resource owner, if any (none for client credentials).
    pub user_id: Option<i64>,
    /// The scope granted.
    pub scope: &'a Scope,
    /// The access token.
    pub access: &'a NewToken,
    /// The refresh token, if one is issued.
    pub refresh: Option<&'a NewToken>,
}

/// An active access token as the resource server sees it.
#[derive(Debug, Clone)]
pub struct AccessInfo {
    /// The client it was issued to.
    pub client_id: String,
    /// The user it represents, if any.
    pub user_id: Option<i64>,
    /// Its scope.
    pub scope: Scope,
    /// When it was issued.
    pub issued_at: i64,
    /// When it expires.
    pub expires_at: i64,
}

/// What became of a refresh request.
#[derive(Debug)]
pub enum RefreshOutcome {
    /// The old token is retired; the new ones are stored with these scopes.
    Rotated {
        /// Scope of the new access token.
        access_scope: Scope,
        /// Scope of the new refresh token (always the old one's, §6).
        refresh_scope: Scope,
    },
    /// Refused; when the token was replayed, its whole family is now revoked.
    Refused(OAuthError),
}

/// What became of a revocation request (RFC 7009 §2.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RevokeOutcome {
    /// No such token (or already purged): nothing to do.
    NotFound,
    /// The token belongs to another client: nothing was changed.
    OtherClient,
    /// The token (and, for a refresh token, its whole grant) is revoked.
    Revoked,
}

fn scope_of(row: &AnyRow) -> Result<Scope, StoreError> {
    let s: String = row.try_get("scope")?;
    if s.is_empty() {
        return Ok(Scope::default());
    }
    Scope::parse(&s).ok_or(StoreError::Corrupt("token scope"))
}

/// Whose a token is: its grant, client and user.
struct Owner<'a> {
    grant_id: i64,
    client_id: &'a str,
    user_id: Option<i64>,
}

async fn insert_token(
    conn: &mut sqlx::AnyConnection,
    t: &NewToken,
    kind: &str,
    owner: &Owner<'_>,
    scope: &Scope,
    now: i64,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO tokens (digest, kind, grant_id, client_id, user_id, scope, issued_at, expires_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(&t.digest)
    .bind(kind)
    .bind(owner.grant_id)
    .bind(owner.client_id)
    .bind(owner.user_id)
    .bind(scope.to_string())
    .bind(now)
    .bind(t.expires_at)
    .execute(conn)
    .await?;
    Ok(())
}

/// Stores a new grant with its first access (and refresh) token, committed before this
/// returns; grants that arrive together share one transaction (see [`super::batch`]).
pub async fn issue(db: &Db, g: NewGrant<'_>, now: i64) -> Result<i64, StoreError> {
    db.batcher.issue(g, now).await
}

/// Stores a new grant and its tokens on a connection inside the caller's transaction.
pub(super) async fn issue_in(
    tx: &mut sqlx::AnyConnection,
    g: NewGrant<'_>,
    now: i64,
) -> Result<i64, StoreError> {
    let grant_id: i64 = sqlx::query_scalar(
        "INSERT INTO grants (client_id, user_id, scope, created_at) VALUES ($1, $2, $3, $4) RETURNING id",
    )
    .bind(g.client_id)
    .bind(g.user_id)
    .bind(g.scope.to_string())
    .bind(now)
    .fetch_one(&mut *tx)
    .await?;
    let owner = Owner {
        grant_id,
        client_id: g.client_id,
        user_id: g.user_id,
    };
    insert_token(tx, g.access, "access", &owner, g.scope, now).await?;
    if let Some(r) = g.refresh {
        insert_token(tx, r, "refresh", &owner, g.scope, now).await?;
    }
    Ok(grant_id)
}

/// The access token with this digest if it is active: not expired, not revoked. Served
/// from the cache of validated tokens when it is there; read (with its user's email, in
/// one query) and cached otherwise.
pub async fn find_active_access(
    db: &Db,
    digest: &[u8],
    now: i64,
) -> Result<Option<Arc<ActiveAccess>>, StoreError> {
    let ticket = match db.access_cache.get(digest, now) {
        Ok(hit) => return Ok(Some(hit)),
        Err(ticket) => ticket,
    };
    let row = sqlx::query(
        "SELECT t.grant_id, t.client_id, t.user_id, t.scope, t.issued_at, t.expires_at, u.email
         FROM tokens t LEFT JOIN users u ON u.id = t.user_id
         WHERE t.digest = $1 AND t.kind = 'access' AND t.revoked_at IS NULL AND t.expires_at > $2",
    )
    .bind(digest)
    .bind(now)
    .fetch_optional(&db.read)
    .await?;
    let Some(row) = row else { return Ok(None) };
    let entry = Arc::new(ActiveAccess {
        info: AccessInfo {
            client_id: row.try_get("client_id")?,
            user_id: row.try_get("user_id")?,
            scope: scope_of(&row)?,
            issued_at: row.try_get("issued_at")?,
            expires_at: row.try_get("expires_at")?,
        },
        grant_id: row.try_get("grant_id")?,
        email: row.try_get("email")?,
    });
    db.access_cache
        .insert(ticket, digest, Arc::clone(&entry), now);
    Ok(Some(entry))
}

/// Revokes every token of a grant, and the grant, and announces it to the other
/// replicas (delivered when the transaction commits). The caller must tell its own cache
/// ([`super::cache::AccessCache::forget_grant`]) once the transaction has committed.
pub(super) async fn revoke_grant(
    conn: &mut sqlx::AnyConnection,
    backend: Backend,
    grant_id: i64,
    now: i64,
) -> Result<(), StoreError> {
    sqlx::query("UPDATE grants SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL")
        .bind(now)
        .bind(grant_id)
        .execute(&mut *conn)
        .await?;
    sqlx::query("UPDATE tokens SET revoked_at = $1 WHERE grant_id = $2 AND revoked_at IS NULL")
        .bind(now)
        .bind(grant_id)
        .execute(&mut *conn)
        .await?;
    announce(conn, backend, Revoked::Grant(grant_id)).await
}

/// Redeems a refresh token: decides (see [`decide`]) and applies the decision in one
/// transaction. The token is retired by a conditional update, so of parallel uses of one
/// token (on one replica or several) exactly one rotates it; a use that lost the race
/// decides again, sees the token used, and takes it as the replay it is.
pub async fn refresh(
    db: &Db,
    presented: &[u8],
    client_id: &str,
    requested_scope: Option<&str>,
    access: &NewToken,
    refresh: &NewToken,
    now: i64,
) -> Result<RefreshOutcome, StoreError> {
    super::until_decided("refresh token changed three times", || {
        refresh_once(
            db,
            presented,
            client_id,
            requested_scope,
            access,
            refresh,
            now,
        )
    })
    .await
}

/// One try; `None` when another redemption retired the token between the read and the
/// update.
async fn refresh_once(
    db: &Db,
    presented: &[u8],
    client_id: &str,
    requested_scope: Option<&str>,
    access: &NewToken,
    refresh: &NewToken,
    now: i64,
) -> Result<Option<RefreshOutcome>, StoreError> {
    let mut tx = db.write.begin().await?;
    let row = sqlx::query(
        "SELECT grant_id, client_id, user_id, scope, expires_at, used_at, revoked_at FROM tokens
         WHERE digest = $1 AND kind = 'refresh'",
    )
    .bind(presented)
    .fetch_optional(&mut *tx)
    .await?;
    let record = match row {
        Some(row) => Some(RefreshRecord {
            grant_id: row.try_get("grant_id")?,
            client_id: row.try_get("client_id")?,
            user_id: row.try_get("user_id")?,
            scope: scope_of(&row)?,
            expires_at: row.try_get("expires_at")?,
            used_at: row.try_get("used_at")?,
            revoked_at: row.try_get("revoked_at")?,
        }),
        None => None,
    };
    let decision = decide(record.as_ref(), client_id, requested_scope, now);
    let (record, access_scope) = match (record, decision) {
        (_, Err(e)) => return Ok(Some(RefreshOutcome::Refused(e))),
        (Some(r), Ok(RefreshDecision::ReuseDetected)) => {
            revoke_grant(&mut tx, db.backend, r.grant_id, now).await?;
            tx.commit().await?;
            db.access_cache.forget_grant(r.grant_id);
            tracing::warn!(
                grant_id = r.grant_id,
                "refresh token replayed; grant revoked"
            );
            return Ok(Some(RefreshOutcome::Refused(OAuthError::invalid_grant(
                "the refresh token was already used",
            ))));
        }
        (Some(r), Ok(RefreshDecision::Rotate { access_scope })) => (r, access_scope),
        (None, Ok(_)) => return Err(StoreError::Corrupt("refresh decision without record")),
    };
    // Lock the grant before the token, in the order revoke_grant takes them, so that a
    // revocation of the whole grant running at the same time (on another replica) either
    // comes first, and this rotation finds the grant revoked, or waits for this commit
    // and then sees, and revokes, the tokens issued here.
    let live = sqlx::query(
        "UPDATE grants SET revoked_at = revoked_at WHERE id = $1 AND revoked_at IS NULL",
    )
    .bind(record.grant_id)
    .execute(&mut *tx)
    .await?;
    if live.rows_affected() != 1 {
        tx.rollback().await?;
        return Ok(Some(RefreshOutcome::Refused(OAuthError::invalid_grant(
            "the refresh token was revoked",
        ))));
    }
    let retired = sqlx::query(
        "UPDATE tokens SET used_at = $1 WHERE digest = $2 AND used_at IS NULL AND revoked_at IS NULL",
    )
    .bind(now)
    .bind(presented)
    .execute(&mut *tx)
    .await?;
    if retired.rows_affected() != 1 {
        // Another replica rotated or revoked it after our read: decide again.
        tx.rollback().await?;
        return Ok(None);
    }
    let owner = Owner {
        grant_id: record.grant_id,
        client_id,
        user_id: record.user_id,
    };
    insert_token(&mut tx, access, "access", &owner, &access_scope, now).await?;
    insert_token(&mut tx, refresh, "refresh", &owner, &record.scope, now).await?;
    tx.commit().await?;
    Ok(Some(RefreshOutcome::Rotated {
        access_scope,
        refresh_scope: record.scope,
    }))
}

/// Revokes a token for a client (RFC 7009 §2.1). A refresh token takes its whole grant
/// with it: "If the particular token is a refresh token and the authorization server
/// supports the revocation of access tokens, then the authorization server SHOULD also
/// invalidate all access tokens based on the same authorization grant."
pub async fn revoke(
    db: &Db,
    digest: &[u8],
    client_id: &str,
    now: i64,
) -> Result<RevokeOutcome, StoreError> {
    let mut tx = db.write.begin().await?;
    let row = sqlx::query("SELECT kind, client_id, grant_id FROM tokens WHERE digest = $1")
        .bind(digest)
        .fetch_optional(&mut *tx)
        .await?;
    let Some(row) = row else {
        return Ok(RevokeOutcome::NotFound);
    };
    let owner: String = row.try_get("client_id")?;
    if owner != client_id {
        return Ok(RevokeOutcome::OtherClient);
    }
    let kind: String = row.try_get("kind")?;
    let grant_id: i64 = row.try_get("grant_id")?;
    if kind == "refresh" {
        revoke_grant(&mut tx, db.backend, grant_id, now).await?;
    } else {
        sqlx::query("UPDATE tokens SET revoked_at = $1 WHERE digest = $2 AND revoked_at IS NULL")
            .bind(now)
            .bind(digest)
            .execute(&mut *tx)
            .await?;
        announce(&mut tx, db.backend, Revoked::Token(digest)).await?;
    }
    tx.commit().await?;
    if kind == "refresh" {
        db.access_cache.forget_grant(grant_id);
    } else {
        db.access_cache.forget_digest(digest);
    }
    Ok(RevokeOutcome::Revoked)
}

/// Deletes up to `batch` expired tokens, then grants left without tokens. Returns how
/// many tokens it deleted.
pub async fn purge_expired(db: &Db, now: i64, batch: i64) -> Result<u64, StoreError> {
    let done = sqlx::query(
        "DELETE FROM tokens WHERE digest IN
            (SELECT digest FROM tokens WHERE expires_at <= $1 LIMIT $2)",
    )
    .bind(now)
    .bind(batch)
    .execute(&db.write)
    .await?;
    sqlx::query(
        "DELETE FROM grants WHERE id IN
            (SELECT g.id FROM grants g
             WHERE NOT EXISTS (SELECT 1 FROM tokens t WHERE t.grant_id = g.id)
             LIMIT $1)",
    )
    .bind(batch)
    .execute(&db.write)
    .await?;
    Ok(done.rows_affected())
}

/// Any token as the introspection endpoint sees it.
#[derive(Debug, Clone)]
pub struct TokenInfo {
    /// `access` or `refresh`.
    pub kind: String,
    /// The client it was issued to.
    pub client_id: String,
    /// The user, if any.
    pub user_id: Option<i64>,
    /// Its scope.
    pub scope: Scope,
    /// When it was issued.
    pub issued_at: i64,
    /// When it expires.
    pub expires_at: i64,
    /// When a refresh token was rotated.
    pub used_at: Option<i64>,
    /// When it was revoked.
    pub revoked_at: Option<i64>,
}

impl TokenInfo {
    /// Whether the token is usable now: not revoked, not expired, not rotated.
    pub fn is_active(&self, now: i64) -> bool {
        self.revoked_at.is_none() && self.used_at.is_none() && self.expires_at > now
    }
}

/// The token of either kind with this digest.
pub async fn find(db: &Db, digest: &[u8]) -> Result<Option<TokenInfo>, StoreError> {
    let row = sqlx::query(
        "SELECT kind, client_id, user_id, scope, issued_at, expires_at, used_at, revoked_at
         FROM tokens WHERE digest = $1",
    )
    .bind(digest)
    .fetch_optional(&db.read)
    .await?;
    let Some(row) = row else { return Ok(None) };
    Ok(Some(TokenInfo {
        kind: row.try_get("kind")?,
        client_id: row.try_get("client_id")?,
        user_id: row.try_get("user_id")?,
        scope: scope_of(&row)?,
        issued_at: row.try_get("issued_at")?,
        expires_at: row.try_get("expires_at")?,
        used_at: row.try_get("used_at")?,
        revoked_at: row.try_get("revoked_at")?,
    }))
}

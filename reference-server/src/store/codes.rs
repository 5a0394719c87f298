//! Authorization codes: issue, and redeem in one transaction on the single writer, so
//! of parallel redemptions of one code exactly one succeeds and every other one is a
//! reuse that revokes what the first obtained.

use sqlx::Row as _;

use super::tokens::{NewGrant, NewToken, issue_in, revoke_grant};
use super::{Db, StoreError};
use crate::grant::OAuthError;
use crate::grant::code::{CodeDecision, CodeRecord, decide};
use crate::grant::pkce::{Challenge, Method};
use crate::grant::scope::Scope;

/// A code about to be stored.
#[derive(Debug, Clone)]
pub struct NewCode<'a> {
    /// SHA-256 digest of the code.
    pub digest: Vec<u8>,
    /// The client.
    pub client_id: &'a str,
    /// The user who approved.
    pub user_id: i64,
    /// The redirection URI used.
    pub redirect_uri: &'a str,
    /// Whether the request carried `redirect_uri`.
    pub redirect_uri_sent: bool,
    /// The approved scope.
    pub scope: &'a Scope,
    /// The PKCE challenge.
    pub challenge: Option<&'a Challenge>,
    /// Expiry.
    pub expires_at: i64,
}

/// A redemption request as the token endpoint read it. `Debug` leaves out the PKCE
/// verifier.
#[derive(Clone)]
pub struct Redemption<'a> {
    /// Digest of the presented code.
    pub digest: &'a [u8],
    /// The authenticated client.
    pub client_id: &'a str,
    /// `redirect_uri` of the token request, if sent.
    pub redirect_uri: Option<&'a str>,
    /// `code_verifier`, if sent.
    pub verifier: Option<&'a str>,
    /// The new access token.
    pub access: &'a NewToken,
    /// The new refresh token, if the client gets one.
    pub refresh: Option<&'a NewToken>,
}

impl std::fmt::Debug for Redemption<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Redemption")
            .field("client_id", &self.client_id)
            .field("redirect_uri", &self.redirect_uri)
            .field("verifier", &self.verifier.map(|_| "[redacted]"))
            .finish_non_exhaustive()
    }
}

/// What became of a redemption.
#[derive(Debug)]
pub enum CodeOutcome {
    /// Tokens stored for this user and scope.
    Issued {
        /// The approved scope.
        scope: Scope,
    },
    /// Refused; on reuse the first redemption's tokens are now revoked.
    Refused(OAuthError),
}

/// Stores a new code.
pub async fn insert(db: &Db, c: NewCode<'_>, now: i64) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO codes (digest, client_id, user_id, redirect_uri, redirect_uri_sent, scope,
                            code_challenge, code_challenge_method, issued_at, expires_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
    )
    .bind(&c.digest)
    .bind(c.client_id)
    .bind(c.user_id)
    .bind(c.redirect_uri)
    .bind(i64::from(c.redirect_uri_sent))
    .bind(c.scope.to_string())
    .bind(c.challenge.map(|ch| ch.value.as_str()))
    .bind(c.challenge.map(|ch| ch.method.as_str()))
    .bind(now)
    .bind(c.expires_at)
    .execute(&db.write)
    .await?;
    Ok(())
}

/// Redeems a code: decides (see [`decide`]) and applies the decision in one transaction.
/// The code is marked used by a conditional update, so of parallel redemptions (on one
/// replica or several) exactly one issues tokens; a redemption that lost the race decides
/// again, sees the code used, and takes it as the reuse it is.
pub async fn redeem(db: &Db, r: Redemption<'_>, now: i64) -> Result<CodeOutcome, StoreError> {
    super::until_decided("code changed three times", || {
        redeem_once(db, r.clone(), now)
    })
    .await
}

/// One try; `None` when another redemption marked the code used between the read and
/// the update.
async fn redeem_once(
    db: &Db,
    r: Redemption<'_>,
    now: i64,
) -> Result<Option<CodeOutcome>, StoreError> {
    let mut tx = db.write.begin().await?;
    let row = sqlx::query(
        "SELECT client_id, user_id, redirect_uri, redirect_uri_sent, scope, code_challenge,
                code_challenge_method, expires_at, used_at, grant_id
         FROM codes WHERE digest = $1",
    )
    .bind(r.digest)
    .fetch_optional(&mut *tx)
    .await?;
    let record = match row {
        None => None,
        Some(row) => {
            let scope: String = row.try_get("scope")?;
            let value: Option<String> = row.try_get("code_challenge")?;
            let method: Option<String> = row.try_get("code_challenge_method")?;
            let challenge = match (value, method) {
                (Some(value), Some(m)) => Some(Challenge {
                    value,
                    method: Method::parse(&m)
                        .ok_or(StoreError::Corrupt("code challenge method"))?,
                }),
                (None, None) => None,
                _ => return Err(StoreError::Corrupt("code challenge")),
            };
            Some(CodeRecord {
                client_id: row.try_get("client_id")?,
                user_id: row.try_get("user_id")?,
                redirect_uri: row.try_get("redirect_uri")?,
                redirect_uri_sent: row.try_get::<i64, _>("redirect_uri_sent")? != 0,
                scope: if scope.is_empty() {
                    Scope::default()
                } else {
                    Scope::parse(&scope).ok_or(StoreError::Corrupt("code scope"))?
                },
                challenge,
                expires_at: row.try_get("expires_at")?,
                used_at: row.try_get("used_at")?,
                grant_id: row.try_get("grant_id")?,
            })
        }
    };
    let decision = decide(
        record.as_ref(),
        r.client_id,
        r.redirect_uri,
        r.verifier,
        now,
    );
    let record = match (record, decision) {
        (_, Err(e)) => return Ok(Some(CodeOutcome::Refused(e))),
        (Some(_), Ok(CodeDecision::ReuseDetected { grant_id })) => {
            if let Some(g) = grant_id {
                revoke_grant(&mut tx, db.backend, g, now).await?;
                tx.commit().await?;
                db.access_cache.forget_grant(g);
                tracing::warn!(
                    grant_id = g,
                    "authorization code reused; its tokens are revoked"
                );
            }
            return Ok(Some(CodeOutcome::Refused(OAuthError::invalid_grant(
                "the authorization code was already used",
            ))));
        }
        (Some(record), Ok(CodeDecision::Issue)) => record,
        (None, Ok(_)) => return Err(StoreError::Corrupt("code decision without record")),
    };
    let marked = sqlx::query("UPDATE codes SET used_at = $1 WHERE digest = $2 AND used_at IS NULL")
        .bind(now)
        .bind(r.digest)
        .execute(&mut *tx)
        .await?;
    if marked.rows_affected() != 1 {
        // Another replica redeemed it after our read: decide again.
        tx.rollback().await?;
        return Ok(None);
    }
    let grant_id = issue_in(
        &mut tx,
        NewGrant {
            client_id: r.client_id,
            user_id: Some(record.user_id),
            scope: &record.scope,
            access: r.access,
            refresh: r.refresh,
        },
        now,
    )
    .await?;
    sqlx::query("UPDATE codes SET grant_id = $1 WHERE digest = $2")
        .bind(grant_id)
        .bind(r.digest)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(Some(CodeOutcome::Issued {
        scope: record.scope,
    }))
}

/// Deletes up to `batch` codes that expired more than `keep` seconds ago (used codes are
/// kept that long so a late replay still revokes what the code obtained).
pub async fn purge_expired(db: &Db, now: i64, keep: i64, batch: i64) -> Result<u64, StoreError> {
    let done = sqlx::query(
        "DELETE FROM codes WHERE digest IN
            (SELECT digest FROM codes WHERE expires_at <= $1 LIMIT $2)",
    )
    .bind(now - keep)
    .bind(batch)
    .execute(&db.write)
    .await?;
    Ok(done.rows_affected())
}

//! Group commit for new grants: the password and client-credentials grants each store a
//! grant and its tokens, and nothing they write depends on another request, so the
//! requests that queue up while the writer is busy are stored together in one
//! transaction (one commit, one WAL append) instead of one transaction each. With
//! PostgreSQL the batch is three statements whatever its size: the grant ids are drawn
//! from the grants' sequence, then every grant and every token is written by one
//! multi-row insert each.
//!
//! Each request still gets its own answer: when a batch fails as a whole (it should not:
//! every row is new), it is rolled back and each grant is retried in a transaction of its
//! own, so one bad row can only fail its own request. A grant is answered only after the
//! transaction holding it has committed, so a 200 always means stored.

use sqlx::Connection as _;
use tokio::sync::{mpsc, oneshot};

use super::tokens::{NewGrant, NewToken, issue_in};
use super::{Backend, StoreError};
use crate::grant::scope::Scope;

/// Most grants stored in one transaction.
const MAX_BATCH: usize = 128;

/// A grant to store, owned so it can wait in the queue.
#[derive(Debug)]
pub(super) struct Job {
    pub client_id: String,
    pub user_id: Option<i64>,
    pub scope: Scope,
    pub access: NewToken,
    pub refresh: Option<NewToken>,
    pub now: i64,
    /// Where the new grant's id (or the failure) goes.
    pub done: oneshot::Sender<Result<i64, StoreError>>,
}

impl Job {
    fn grant(&self) -> NewGrant<'_> {
        NewGrant {
            client_id: &self.client_id,
            user_id: self.user_id,
            scope: &self.scope,
            access: &self.access,
            refresh: self.refresh.as_ref(),
        }
    }
}

/// The queue in front of the writer.
#[derive(Debug, Clone)]
pub struct Batcher {
    queue: mpsc::UnboundedSender<Job>,
}

impl Batcher {
    /// Starts the task that drains the queue into `write` (the single-writer pool).
    pub(super) fn start(write: sqlx::AnyPool, backend: Backend) -> Self {
        let (queue, rx) = mpsc::unbounded_channel();
        tokio::spawn(run(write, backend, rx));
        Self { queue }
    }

    /// Queues a grant and waits until it is committed; returns its id.
    pub(super) async fn issue(&self, g: NewGrant<'_>, now: i64) -> Result<i64, StoreError> {
        let (done, answer) = oneshot::channel();
        let job = Job {
            client_id: g.client_id.to_owned(),
            user_id: g.user_id,
            scope: g.scope.clone(),
            access: g.access.clone(),
            refresh: g.refresh.cloned(),
            now,
            done,
        };
        self.queue.send(job).map_err(|_| StoreError::Closed)?;
        answer.await.map_err(|_| StoreError::Closed)?
    }
}

async fn run(write: sqlx::AnyPool, backend: Backend, mut rx: mpsc::UnboundedReceiver<Job>) {
    let mut jobs = Vec::with_capacity(MAX_BATCH);
    while rx.recv_many(&mut jobs, MAX_BATCH).await > 0 {
        store(&write, backend, std::mem::take(&mut jobs)).await;
    }
}

/// Stores a batch in one transaction, or each job alone if that fails.
async fn store(write: &sqlx::AnyPool, backend: Backend, jobs: Vec<Job>) {
    let stored = match backend {
        Backend::Sqlite => together(write, &jobs).await,
        Backend::Postgres => together_pg(write, &jobs).await,
    };
    match stored {
        Ok(ids) => {
            for (job, id) in jobs.into_iter().zip(ids) {
                let _ = job.done.send(Ok(id));
            }
        }
        // The database cannot be reached: every job gets the same answer now, rather
        // than each waiting for a connection in turn.
        Err(e) if e.is_unavailable() => {
            let reason = e.to_string();
            for job in jobs {
                let _ = job.done.send(Err(StoreError::Unavailable(reason.clone())));
            }
        }
        Err(e) => {
            if jobs.len() > 1 {
                tracing::warn!(error = %e, grants = jobs.len(), "batch of grants failed; storing them one by one");
            }
            for job in jobs {
                let result = alone(write, &job).await;
                let _ = job.done.send(result);
            }
        }
    }
}

async fn together(write: &sqlx::AnyPool, jobs: &[Job]) -> Result<Vec<i64>, StoreError> {
    let mut conn = write.acquire().await?;
    let mut tx = conn.begin().await?;
    let mut ids = Vec::with_capacity(jobs.len());
    for job in jobs {
        ids.push(issue_in(&mut tx, job.grant(), job.now).await?);
    }
    tx.commit().await?;
    Ok(ids)
}

/// `($1, $2, ...), ($n+1, ...)`: the placeholders of a multi-row insert (only
/// placeholders are assembled; every value is bound).
fn placeholders(rows: usize, columns: usize) -> String {
    let mut s = String::new();
    for r in 0..rows {
        if r > 0 {
            s.push_str(", ");
        }
        s.push('(');
        for c in 0..columns {
            if c > 0 {
                s.push_str(", ");
            }
            s.push_str(&format!("${}", r * columns + c + 1));
        }
        s.push(')');
    }
    s
}

/// The batch in three statements (PostgreSQL): draw the ids, insert the grants, insert
/// the tokens. Ids are drawn first so each token names its grant without relying on the
/// order a multi-row `RETURNING` gives.
async fn together_pg(write: &sqlx::AnyPool, jobs: &[Job]) -> Result<Vec<i64>, StoreError> {
    let mut tx = write.begin().await?;
    let ids: Vec<i64> = sqlx::query_scalar(
        "SELECT nextval(pg_get_serial_sequence('grants', 'id')) FROM generate_series(1, $1)",
    )
    .bind(i64::try_from(jobs.len()).unwrap_or(i64::MAX))
    .fetch_all(&mut *tx)
    .await?;
    if ids.len() != jobs.len() {
        return Err(StoreError::Corrupt("grant ids drawn"));
    }
    let sql = format!(
        "INSERT INTO grants (id, client_id, user_id, scope, created_at) VALUES {}",
        placeholders(jobs.len(), 5)
    );
    let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
    for (job, id) in jobs.iter().zip(&ids) {
        q = q
            .bind(*id)
            .bind(job.client_id.as_str())
            .bind(job.user_id)
            .bind(job.scope.to_string())
            .bind(job.now);
    }
    q.execute(&mut *tx).await?;
    let tokens: Vec<(&Job, i64, &NewToken, &str)> = jobs
        .iter()
        .zip(&ids)
        .flat_map(|(job, id)| {
            std::iter::once((job, *id, &job.access, "access"))
                .chain(job.refresh.as_ref().map(|r| (job, *id, r, "refresh")))
        })
        .collect();
    let sql = format!(
        "INSERT INTO tokens (digest, kind, grant_id, client_id, user_id, scope, issued_at, expires_at)
         VALUES {}",
        placeholders(tokens.len(), 8)
    );
    let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
    for (job, id, token, kind) in tokens {
        q = q
            .bind(token.digest.as_slice())
            .bind(kind)
            .bind(id)
            .bind(job.client_id.as_str())
            .bind(job.user_id)
            .bind(job.scope.to_string())
            .bind(job.now)
            .bind(token.expires_at);
    }
    q.execute(&mut *tx).await?;
    tx.commit().await?;
    Ok(ids)
}

async fn alone(write: &sqlx::AnyPool, job: &Job) -> Result<i64, StoreError> {
    let mut tx = write.begin().await?;
    let id = issue_in(&mut tx, job.grant(), job.now).await?;
    tx.commit().await?;
    Ok(id)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Db;

    /// A database of `backend` with one client, or `None` when PostgreSQL is missing
    /// (skipped loudly; a failure under CI).
    async fn db_on(backend: Backend) -> Option<(tempfile::TempDir, Db)> {
        let dir = tempfile::tempdir().unwrap();
        let db = match backend {
            Backend::Sqlite => Db::open(&dir.path().join("t.sqlite")).await.unwrap(),
            Backend::Postgres => match pg_throwaway::shared() {
                Ok(cluster) => Db::open(cluster.create_database().unwrap().as_str())
                    .await
                    .unwrap(),
                Err(e) => {
                    pg_throwaway::skip_or_panic(&e.to_string());
                    return None;
                }
            },
        };
        sqlx::query(
            "INSERT INTO clients (client_id, client_name, grant_types, redirect_uris,
                                  response_types, scope, token_endpoint_auth_method)
             VALUES ('c', 'c', 'client_credentials', '', '', 'a', 'none')",
        )
        .execute(&db.write)
        .await
        .unwrap();
        Some((dir, db))
    }

    fn token(n: u8) -> NewToken {
        NewToken {
            digest: vec![n; 32],
            expires_at: 100,
        }
    }

    async fn issue(db: &Db, client: &str, n: u8) -> Result<i64, StoreError> {
        let scope = Scope::default();
        let access = token(n);
        let g = NewGrant {
            client_id: client,
            user_id: None,
            scope: &scope,
            access: &access,
            refresh: None,
        };
        db.batcher.issue(g, 1).await
    }

    async fn count(db: &Db) -> i64 {
        sqlx::query_scalar("SELECT COUNT(*) FROM tokens")
            .fetch_one(&db.read)
            .await
            .unwrap()
    }

    /// Grants issued together are all stored, each with its own grant id.
    #[tokio::test]
    async fn concurrent_grants_are_all_stored() {
        concurrent_grants_are_all_stored_on(Backend::Sqlite).await;
    }

    /// The same on PostgreSQL, where a batch is three statements.
    #[tokio::test]
    async fn concurrent_grants_are_all_stored_on_postgres() {
        concurrent_grants_are_all_stored_on(Backend::Postgres).await;
    }

    async fn concurrent_grants_are_all_stored_on(backend: Backend) {
        let Some((_dir, db)) = db_on(backend).await else {
            return;
        };
        let results = futures_util::future::join_all((0..100u8).map(|n| issue(&db, "c", n))).await;
        let mut ids: Vec<i64> = results.into_iter().map(Result::unwrap).collect();
        ids.sort_unstable();
        ids.dedup();
        assert_eq!(ids.len(), 100);
        assert_eq!(count(&db).await, 100);
    }

    /// One bad grant in a batch fails alone; the others in the batch are stored.
    #[tokio::test]
    async fn a_bad_grant_fails_alone() {
        a_bad_grant_fails_alone_on(Backend::Sqlite).await;
    }

    /// The same on PostgreSQL.
    #[tokio::test]
    async fn a_bad_grant_fails_alone_on_postgres() {
        a_bad_grant_fails_alone_on(Backend::Postgres).await;
    }

    async fn a_bad_grant_fails_alone_on(backend: Backend) {
        let Some((_dir, db)) = db_on(backend).await else {
            return;
        };
        let bad = issue(&db, "c", 7);
        let results = futures_util::future::join_all(
            (0..20u8).map(|n| issue(&db, if n == 5 { "no-such-client" } else { "c" }, n + 10)),
        );
        let (bad, results) = tokio::join!(bad, results);
        assert!(bad.is_ok());
        for (n, r) in results.iter().enumerate() {
            assert_eq!(r.is_ok(), n != 5, "grant {n}: {r:?}");
        }
        // The same digest twice: the second is refused, the first stays.
        assert!(issue(&db, "c", 7).await.is_err());
        assert_eq!(count(&db).await, 20);
    }
}

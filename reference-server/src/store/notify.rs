//! Revocations announced to every replica (PostgreSQL only).
//!
//! A revocation runs `pg_notify` inside its own transaction, so PostgreSQL delivers the
//! announcement at commit, to every replica listening on [`CHANNEL`] (the one that
//! revoked included, which has already forgotten the token itself). Each replica's
//! listener makes its token cache forget the grant or token at once.
//!
//! Announcements can be missed only while a listener's connection is down. The listener
//! then pauses the cache (nothing is served from it, nothing is added) and clears it,
//! reconnects with a growing delay, and resumes only once it listens again. For a
//! connection that dies without telling (a network that drops packets), every cache
//! entry is also re-read from the database once it is older than
//! [`super::cache::PG_MAX_AGE`]: that is the bound on how long a revoked token can work
//! at another replica when every announcement is lost.

use std::sync::Arc;
use std::time::Duration;

use sqlx::postgres::PgListener;
use tokio::task::JoinHandle;

use super::cache::AccessCache;
use super::{Backend, StoreError};

/// The channel revocations are announced on.
pub const CHANNEL: &str = "reference_server_revocations";

/// What was revoked.
#[derive(Debug, Clone, Copy)]
pub enum Revoked<'a> {
    /// Every token of a grant.
    Grant(i64),
    /// One token, by digest.
    Token(&'a [u8]),
}

impl Revoked<'_> {
    fn payload(&self) -> String {
        match self {
            Self::Grant(id) => format!("g:{id}"),
            Self::Token(d) => {
                let mut s = String::with_capacity(2 + d.len() * 2);
                s.push_str("d:");
                for b in *d {
                    s.push_str(&format!("{b:02x}"));
                }
                s
            }
        }
    }
}

/// Announces a revocation inside the transaction that makes it (a no-op on SQLite,
/// where one process owns the database).
pub(super) async fn announce(
    conn: &mut sqlx::AnyConnection,
    backend: Backend,
    what: Revoked<'_>,
) -> Result<(), StoreError> {
    if backend != Backend::Postgres {
        return Ok(());
    }
    sqlx::query("SELECT 1 FROM (SELECT pg_notify($1, $2)) AS announced")
        .bind(CHANNEL)
        .bind(what.payload())
        .execute(conn)
        .await?;
    Ok(())
}

/// Applies one announcement to the cache. Unreadable payloads clear the whole cache
/// (the safe reading of an announcement this version does not understand).
fn apply(cache: &AccessCache, payload: &str) {
    if let Some(id) = payload
        .strip_prefix("g:")
        .and_then(|s| s.parse::<i64>().ok())
    {
        cache.forget_grant(id);
        return;
    }
    if let Some(hex) = payload.strip_prefix("d:")
        && let Some(digest) = decode_hex(hex)
    {
        cache.forget_digest(&digest);
        return;
    }
    cache.clear();
}

fn decode_hex(s: &str) -> Option<Vec<u8>> {
    if s.len() % 2 != 0 {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok())
        .collect()
}

/// The background task listening for announcements.
#[derive(Debug)]
pub struct ListenerTask {
    handle: JoinHandle<()>,
}

impl ListenerTask {
    /// Connects, listens, and starts the task. Fails if the first connection fails (the
    /// server then does not start).
    pub(super) async fn start(url: &str, cache: Arc<AccessCache>) -> Result<Self, StoreError> {
        let listener = connect(url).await?;
        cache.resume();
        let handle = tokio::spawn(run(url.to_owned(), listener, cache));
        Ok(Self { handle })
    }

    /// Stops listening.
    pub fn stop(&self) {
        self.handle.abort();
    }
}

impl Drop for ListenerTask {
    fn drop(&mut self) {
        self.handle.abort();
    }
}

async fn connect(url: &str) -> Result<PgListener, StoreError> {
    let mut listener = PgListener::connect(url).await?;
    listener.eager_reconnect(false);
    listener.listen(CHANNEL).await?;
    Ok(listener)
}

async fn run(url: String, mut listener: PgListener, cache: Arc<AccessCache>) {
    loop {
        match listener.try_recv().await {
            Ok(Some(n)) => apply(&cache, n.payload()),
            // The connection was lost: announcements may have been missed.
            Ok(None) | Err(_) => {
                cache.pause();
                tracing::warn!("lost the revocation listener's connection; token cache paused");
                let mut delay = Duration::from_millis(50);
                listener = loop {
                    tokio::time::sleep(delay).await;
                    match connect(&url).await {
                        Ok(l) => break l,
                        Err(e) => {
                            tracing::debug!(error = %e, "revocation listener cannot reconnect yet");
                            delay = (delay * 2).min(Duration::from_secs(2));
                        }
                    }
                };
                cache.resume();
                tracing::info!("revocation listener reconnected; token cache resumed");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Payloads round-trip; an unknown one clears the cache.
    #[test]
    fn payloads() {
        assert_eq!(Revoked::Grant(42).payload(), "g:42");
        let p = Revoked::Token(&[0, 0xab, 0xff]).payload();
        assert_eq!(p, "d:00abff");
        assert_eq!(decode_hex("00abff"), Some(vec![0, 0xab, 0xff]));
        assert_eq!(decode_hex("0"), None);
        assert_eq!(decode_hex("zz"), None);
    }
}

//! A bounded in-memory cache of validated access tokens, so that a client presenting the
//! same token again (the common case at a resource server) costs no database read.
//!
//! It never serves a revoked token: every store function that revokes a token calls
//! [`AccessCache::forget_grant`] or [`AccessCache::forget_digest`] after its transaction
//! commits and before the revocation is answered. A lookup that missed reads the database
//! and inserts its result only if no revocation happened since it started (a generation
//! counter), so a read that raced with a revocation can never put the revoked token back.
//! Expiry is checked on every hit.
//!
//! With SQLite one process owns the database, so its own revocations are all there is.
//! With PostgreSQL other replicas revoke too: their announcements reach
//! [`AccessCache::forget_grant`] and [`AccessCache::forget_digest`] through
//! [`super::notify`], the cache is paused while announcements may be missed, and no entry
//! is served once it is older than its maximum age ([`PG_MAX_AGE`]).

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use super::tokens::AccessInfo;

/// How many validated tokens the cache holds at most.
pub const DEFAULT_CAPACITY: usize = 10_000;

/// How long a cache entry is served with PostgreSQL before it is read again: the bound
/// on a revoked token working at another replica if every announcement were lost.
pub const PG_MAX_AGE: Duration = Duration::from_secs(1);

/// An active access token with what the resource and introspection need of it.
#[derive(Debug, Clone)]
pub struct ActiveAccess {
    /// The token's row.
    pub info: AccessInfo,
    /// Its grant (family), for invalidation.
    pub grant_id: i64,
    /// The email of its user, when it has one that still exists.
    pub email: Option<String>,
}

/// A lookup's ticket: the generation seen before reading the database.
#[derive(Debug, Clone, Copy)]
pub struct Ticket(u64);

#[derive(Debug, Default)]
struct Inner {
    /// Bumped by every revocation.
    generation: u64,
    /// Set while revocations may be missed: nothing is served or added.
    paused: bool,
    by_digest: HashMap<Vec<u8>, (Arc<ActiveAccess>, Instant)>,
    by_grant: HashMap<i64, Vec<Vec<u8>>>,
}

impl Inner {
    fn remove(&mut self, digest: &[u8]) {
        let Some((entry, _)) = self.by_digest.remove(digest) else {
            return;
        };
        if let Some(list) = self.by_grant.get_mut(&entry.grant_id) {
            list.retain(|d| d != digest);
            if list.is_empty() {
                self.by_grant.remove(&entry.grant_id);
            }
        }
    }

    /// Makes room for one entry: expired entries first, then an eighth of the capacity
    /// (at least one), so that a full cache sweeps its entries once per many inserts
    /// rather than on every one.
    fn make_room(&mut self, capacity: usize, now: i64) {
        if self.by_digest.len() < capacity {
            return;
        }
        let expired: Vec<Vec<u8>> = self
            .by_digest
            .iter()
            .filter(|(_, (e, _))| e.info.expires_at <= now)
            .map(|(d, _)| d.clone())
            .collect();
        for d in expired {
            self.remove(&d);
        }
        if self.by_digest.len() < capacity {
            return;
        }
        let evict: Vec<Vec<u8>> = self
            .by_digest
            .keys()
            .take((capacity / 8).max(1))
            .cloned()
            .collect();
        for d in evict {
            self.remove(&d);
        }
    }
}

/// The cache. Cheap to share: clone the `Arc` it lives in.
#[derive(Debug)]
pub struct AccessCache {
    inner: Mutex<Inner>,
    capacity: usize,
    max_age: Option<Duration>,
}

impl AccessCache {
    /// An empty cache holding at most `capacity` tokens (0 turns caching off).
    pub fn new(capacity: usize) -> Self {
        Self {
            inner: Mutex::new(Inner::default()),
            capacity,
            max_age: None,
        }
    }

    /// An empty cache whose entries are read again once older than `max_age`, paused
    /// until [`AccessCache::resume`] (for a database other processes write to).
    pub fn shared(capacity: usize, max_age: Duration) -> Self {
        Self {
            inner: Mutex::new(Inner {
                paused: true,
                ..Inner::default()
            }),
            capacity,
            max_age: Some(max_age),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        // A panic while holding the lock cannot leave the maps inconsistent in a way that
        // serves a revoked token (removal happens before anything else), so go on.
        self.inner
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The cached token with this digest if it has not expired, or a ticket for reading
    /// the database and calling [`AccessCache::insert`] afterwards.
    pub fn get(&self, digest: &[u8], now: i64) -> Result<Arc<ActiveAccess>, Ticket> {
        let mut inner = self.lock();
        let fresh = |at: &Instant| self.max_age.is_none_or(|m| at.elapsed() < m);
        match inner.by_digest.get(digest) {
            Some((e, at)) if e.info.expires_at > now && fresh(at) && !inner.paused => {
                Ok(Arc::clone(e))
            }
            Some(_) => {
                inner.remove(digest);
                Err(Ticket(inner.generation))
            }
            None => Err(Ticket(inner.generation)),
        }
    }

    /// Caches a token read from the database, unless a revocation happened since the
    /// ticket was taken (the read may predate it).
    pub fn insert(&self, ticket: Ticket, digest: &[u8], entry: Arc<ActiveAccess>, now: i64) {
        if self.capacity == 0 {
            return;
        }
        let mut inner = self.lock();
        if inner.generation != ticket.0 || entry.info.expires_at <= now || inner.paused {
            return;
        }
        inner.remove(digest);
        inner.make_room(self.capacity, now);
        inner
            .by_grant
            .entry(entry.grant_id)
            .or_default()
            .push(digest.to_vec());
        inner
            .by_digest
            .insert(digest.to_vec(), (entry, Instant::now()));
    }

    /// Forgets everything (a revocation may have been missed).
    pub fn clear(&self) {
        let mut inner = self.lock();
        inner.generation = inner.generation.wrapping_add(1);
        inner.by_digest.clear();
        inner.by_grant.clear();
    }

    /// Clears the cache and stops serving or adding entries until [`AccessCache::resume`]:
    /// revocations made elsewhere may be missed meanwhile.
    pub fn pause(&self) {
        let mut inner = self.lock();
        inner.paused = true;
        inner.generation = inner.generation.wrapping_add(1);
        inner.by_digest.clear();
        inner.by_grant.clear();
    }

    /// Serves and adds entries again (revocations are heard again).
    pub fn resume(&self) {
        let mut inner = self.lock();
        inner.generation = inner.generation.wrapping_add(1);
        inner.by_digest.clear();
        inner.by_grant.clear();
        inner.paused = false;
    }

    /// Forgets every token of a grant that was just revoked.
    pub fn forget_grant(&self, grant_id: i64) {
        let mut inner = self.lock();
        inner.generation = inner.generation.wrapping_add(1);
        if let Some(list) = inner.by_grant.remove(&grant_id) {
            for d in list {
                inner.by_digest.remove(&d);
            }
        }
    }

    /// Forgets one token that was just revoked.
    pub fn forget_digest(&self, digest: &[u8]) {
        let mut inner = self.lock();
        inner.generation = inner.generation.wrapping_add(1);
        inner.remove(digest);
    }

    /// How many tokens are cached.
    pub fn len(&self) -> usize {
        self.lock().by_digest.len()
    }

    /// Whether nothing is cached.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::grant::scope::Scope;

    fn entry(grant_id: i64, expires_at: i64) -> Arc<ActiveAccess> {
        Arc::new(ActiveAccess {
            info: AccessInfo {
                client_id: "c".into(),
                user_id: Some(1),
                scope: Scope::default(),
                issued_at: 0,
                expires_at,
            },
            grant_id,
            email: None,
        })
    }

    fn fill(c: &AccessCache, digest: &[u8], grant: i64, exp: i64) {
        let Err(t) = c.get(digest, 0) else {
            panic!("unexpected hit")
        };
        c.insert(t, digest, entry(grant, exp), 0);
    }

    /// A cached token is served until it expires.
    #[test]
    fn hit_until_expiry() {
        let c = AccessCache::new(10);
        fill(&c, b"a", 1, 100);
        assert!(c.get(b"a", 99).is_ok());
        assert!(c.get(b"a", 100).is_err());
        assert!(c.is_empty());
    }

    /// Revoking a grant or a digest removes its tokens.
    #[test]
    fn forget_removes() {
        let c = AccessCache::new(10);
        fill(&c, b"a", 1, 100);
        fill(&c, b"b", 1, 100);
        fill(&c, b"c", 2, 100);
        c.forget_grant(1);
        assert!(c.get(b"a", 0).is_err());
        assert!(c.get(b"b", 0).is_err());
        assert!(c.get(b"c", 0).is_ok());
        c.forget_digest(b"c");
        assert!(c.get(b"c", 0).is_err());
    }

    /// A read that started before a revocation cannot put its (stale) result in the cache.
    #[test]
    fn stale_read_is_not_cached() {
        let c = AccessCache::new(10);
        let Err(ticket) = c.get(b"a", 0) else {
            panic!("unexpected hit")
        };
        c.forget_grant(1);
        c.insert(ticket, b"a", entry(1, 100), 0);
        assert!(c.get(b"a", 0).is_err());
    }

    /// The cache never holds more than its capacity, and expired entries go first.
    #[test]
    fn bounded() {
        let c = AccessCache::new(3);
        fill(&c, b"old", 1, 5);
        fill(&c, b"b", 2, 100);
        fill(&c, b"c", 3, 100);
        let Err(t) = c.get(b"d", 10) else {
            panic!("unexpected hit")
        };
        c.insert(t, b"d", entry(4, 100), 10);
        assert_eq!(c.len(), 3);
        assert!(c.get(b"b", 10).is_ok() && c.get(b"c", 10).is_ok() && c.get(b"d", 10).is_ok());
        for i in 0..50u8 {
            fill(&c, &[i], i64::from(i) + 10, 100);
        }
        assert_eq!(c.len(), 3);
        let inner = c.lock();
        assert_eq!(inner.by_grant.values().map(Vec::len).sum::<usize>(), 3);
    }

    /// A larger cache evicts in batches and stays within its capacity, its grant index
    /// matching its entries.
    #[test]
    fn bounded_in_batches() {
        let c = AccessCache::new(16);
        for i in 0..100u8 {
            fill(&c, &[i, 1], i64::from(i % 7), 100);
            let n = c.len();
            assert!((1..=16).contains(&n), "{n} entries");
            let inner = c.lock();
            assert_eq!(inner.by_grant.values().map(Vec::len).sum::<usize>(), n);
        }
        assert!(c.get(&[99, 1], 0).is_ok(), "the newest entry is kept");
    }

    /// A shared cache serves nothing while paused, and nothing older than its maximum age.
    #[test]
    fn shared_cache_pauses_and_ages() {
        let c = AccessCache::shared(10, Duration::from_millis(50));
        fill(&c, b"a", 1, 100);
        assert!(c.is_empty(), "paused until it listens");
        c.resume();
        fill(&c, b"a", 1, 100);
        assert!(c.get(b"a", 0).is_ok());
        std::thread::sleep(Duration::from_millis(60));
        assert!(c.get(b"a", 0).is_err(), "older than its maximum age");
        fill(&c, b"a", 1, 100);
        let Err(ticket) = c.get(b"b", 0) else {
            panic!("unexpected hit")
        };
        c.pause();
        assert!(c.get(b"a", 0).is_err() && c.is_empty());
        c.insert(ticket, b"b", entry(2, 100), 0);
        assert!(c.is_empty(), "nothing is added while paused");
        c.resume();
        fill(&c, b"a", 1, 100);
        assert!(c.get(b"a", 0).is_ok());
        c.clear();
        assert!(c.is_empty());
    }

    /// Capacity 0 turns caching off.
    #[test]
    fn capacity_zero_caches_nothing() {
        let c = AccessCache::new(0);
        fill(&c, b"a", 1, 100);
        assert!(c.is_empty());
    }
}

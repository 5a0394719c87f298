//! Sign-ins waiting for the resource owner's decision, for the script login UI
//! ([`crate::config::LoginUi::Script`]), where signing in and consenting are two steps
//! (the plain UI asks both in one form, so it keeps nothing between requests).
//!
//! A correct password creates an entry: the validated authorization request and the
//! user, under a random interaction id (256 bits; only its SHA-256 digest is kept). The
//! entry is bound to the browser that signed in: to the digest of its CSRF cookie, which
//! is `HttpOnly` and `SameSite=Strict`. The consent page and the consent answer must
//! come with that cookie, so an interaction id alone (seen in a URL, say) lets nobody
//! else consent, and nobody can push their own sign-in into someone else's browser
//! (RFC 6749 §10.12). The answer consumes the entry: one decision per sign-in. Entries
//! live [`TTL`] in memory (a restart forgets them: the user signs in again), at most
//! [`CAPACITY`] of them; when full, the entry closest to its end goes first.

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use subtle::ConstantTimeEq as _;

use crate::grant::authorize::AuthorizeRequest;
use crate::secret::{self, Secret};

/// How long a sign-in waits for its consent.
pub const TTL: Duration = Duration::from_secs(600);

/// Most sign-ins waiting at once.
pub const CAPACITY: usize = 10_000;

/// A signed-in user's authorization request, waiting for Approve or Deny.
#[derive(Debug, Clone)]
pub struct Pending {
    /// The validated authorization request.
    pub request: AuthorizeRequest,
    /// The user who signed in.
    pub user_id: i64,
    /// Their login name, shown on the consent page.
    pub email: String,
}

/// Why an interaction cannot be used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// No such interaction: never issued, already answered, or expired.
    Unknown,
    /// The interaction belongs to another browser (its CSRF cookie differs or is
    /// missing).
    OtherBrowser,
}

/// One waiting sign-in.
#[derive(Debug)]
struct Entry {
    pending: Pending,
    /// SHA-256 digest of the CSRF cookie of the browser that signed in.
    cookie: Vec<u8>,
    expires: Instant,
}

/// The waiting sign-ins, keyed by the digest of their interaction id.
#[derive(Debug, Default)]
pub struct Consents {
    entries: Mutex<HashMap<Vec<u8>, Entry>>,
}

impl Consents {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    fn lock(&self) -> MutexGuard<'_, HashMap<Vec<u8>, Entry>> {
        self.entries.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Stores a sign-in for the browser whose CSRF cookie is `cookie` and returns its
    /// interaction id.
    pub fn insert(&self, pending: Pending, cookie: &str) -> Result<Secret, getrandom::Error> {
        let id = secret::generate()?;
        let now = Instant::now();
        let mut map = self.lock();
        map.retain(|_, e| e.expires > now);
        if map.len() >= CAPACITY {
            let oldest = map
                .iter()
                .min_by_key(|(_, e)| e.expires)
                .map(|(k, _)| k.clone());
            if let Some(k) = oldest {
                map.remove(&k);
            }
        }
        map.insert(
            id.digest(),
            Entry {
                pending,
                cookie: secret::digest(cookie),
                expires: now + TTL,
            },
        );
        Ok(id)
    }

    /// The sign-in behind `id` for the browser presenting `cookie`, now bound to the
    /// browser's next CSRF cookie `next_cookie` (the consent page sets a fresh one).
    pub fn rebind(
        &self,
        id: &str,
        cookie: Option<&str>,
        next_cookie: &Secret,
    ) -> Result<Pending, Refusal> {
        let mut map = self.lock();
        let entry = usable(&mut map, id, cookie)?;
        entry.cookie = next_cookie.digest();
        Ok(entry.pending.clone())
    }

    /// Removes and returns the sign-in behind `id` for the browser presenting `cookie`.
    pub fn take(&self, id: &str, cookie: Option<&str>) -> Result<Pending, Refusal> {
        let mut map = self.lock();
        usable(&mut map, id, cookie)?;
        map.remove(&secret::digest(id))
            .map(|e| e.pending)
            .ok_or(Refusal::Unknown)
    }

    /// How many sign-ins are waiting (expired ones included until the next insert).
    pub fn len(&self) -> usize {
        self.lock().len()
    }

    /// Whether no sign-in is waiting.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// The live entry of `id` if `cookie` is the one it is bound to; an expired entry is
/// removed.
fn usable<'a>(
    map: &'a mut HashMap<Vec<u8>, Entry>,
    id: &str,
    cookie: Option<&str>,
) -> Result<&'a mut Entry, Refusal> {
    let key = secret::digest(id);
    if map.get(&key).is_some_and(|e| e.expires <= Instant::now()) {
        map.remove(&key);
    }
    let entry = map.get_mut(&key).ok_or(Refusal::Unknown)?;
    let same_browser = cookie.is_some_and(|c| bool::from(secret::digest(c).ct_eq(&entry.cookie)));
    if same_browser {
        Ok(entry)
    } else {
        Err(Refusal::OtherBrowser)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::grant::scope::Scope;

    fn pending() -> Pending {
        Pending {
            request: AuthorizeRequest {
                client_id: "c".into(),
                redirect_uri: "https://c.example/cb".into(),
                redirect_uri_sent: true,
                scope: Scope::default(),
                state: None,
                challenge: None,
                request_uri: None,
            },
            user_id: 1,
            email: "a@example.com".into(),
        }
    }

    /// An interaction is used only with its browser's cookie, follows the cookie the
    /// consent page sets, and is answered once.
    #[test]
    fn bound_to_the_cookie_and_single_use() -> Result<(), getrandom::Error> {
        let store = Consents::new();
        let id = store.insert(pending(), "cookie-1")?;
        let id = id.expose();
        assert_eq!(store.take(id, None).err(), Some(Refusal::OtherBrowser));
        assert_eq!(
            store.take(id, Some("cookie-2")).err(),
            Some(Refusal::OtherBrowser)
        );
        assert_eq!(
            store.take("no-such-id", Some("cookie-1")).err(),
            Some(Refusal::Unknown)
        );
        let next = Secret::new("cookie-2");
        assert_eq!(
            store.rebind(id, Some("cookie-1"), &next).map(|p| p.user_id),
            Ok(1)
        );
        assert_eq!(
            store.take(id, Some("cookie-1")).err(),
            Some(Refusal::OtherBrowser)
        );
        assert_eq!(store.take(id, Some("cookie-2")).map(|p| p.user_id), Ok(1));
        assert_eq!(
            store.take(id, Some("cookie-2")).err(),
            Some(Refusal::Unknown)
        );
        assert!(store.is_empty());
        Ok(())
    }

    /// Debug output shows neither the interaction ids nor the cookies in clear.
    #[test]
    fn debug_shows_no_id() -> Result<(), getrandom::Error> {
        let store = Consents::new();
        let id = store.insert(pending(), "cookie-value-0123456789")?;
        let debug = format!("{store:?}");
        assert!(!debug.contains(id.expose()), "{debug}");
        assert!(!debug.contains("cookie-value"), "{debug}");
        Ok(())
    }
}

//! Brute-force protection for password sign-in. RFC 6749 §4.3.2: "the authorization
//! server MUST protect the endpoint against brute force attacks (e.g., using
//! rate-limitation or generating alerts)"; §10.10: it "MUST prevent attackers from
//! guessing ... resource owner passwords".
//!
//! Failed password checks are counted in memory per pair of account and client address,
//! shared by the token endpoint and the login form. After `max_failures` failures the
//! pair is blocked: every attempt is refused *without* checking the password (a correct
//! one too, or the block would not slow a guesser down) until the block ends. The first
//! block lasts `block`, each further one of the same pair twice as long as the one
//! before, up to `max_block`: a block always ends. A success forgets the pair, and so
//! does `window` without a failure once its block is over.
//!
//! A sign-in asks twice: before any work ([`Throttle::begin`]), and once it holds a
//! hashing slot ([`Attempt::start`]), where the checks running at once count against the
//! remaining tries. A burst of parallel guesses therefore never gets more than the
//! limit hashed, while a user's own parallel sign-ins (never more than the few slots)
//! are not refused for being parallel.
//!
//! Keys are per client address (an IPv6 address counts by its /64 network, which one
//! host can rotate through), so an attacker elsewhere cannot lock the owner out at
//! theirs. Unknown accounts are counted exactly like known ones, so the answers do not
//! tell which accounts exist. Accounts are keyed by the SHA-256 digest of the name as the
//! database matches it (ASCII case folded, like `COLLATE NOCASE`): a key takes the same
//! few bytes whatever was typed, and nothing typed into the login field (sometimes a
//! password) stays in memory. The map holds at most `capacity` pairs (plus those with
//! a check running): when it is full, forgotten pairs go first, then the oldest
//! unblocked ones, then the oldest blocked ones, an eighth of the capacity at a time.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use sha2::{Digest as _, Sha256};

/// How the throttle counts and blocks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Settings {
    /// Failures that block a pair; `0` switches the throttle off.
    pub max_failures: u32,
    /// How long a pair is remembered without a failure (after its block ended).
    pub window: Duration,
    /// The first block.
    pub block: Duration,
    /// The longest block (each further block doubles the one before up to this).
    pub max_block: Duration,
    /// Most pairs remembered.
    pub capacity: usize,
}

/// The longest block the settings may ask for: a block must always end soon enough.
pub const LONGEST_BLOCK: Duration = Duration::from_secs(24 * 3600);

/// The longest window the settings may ask for (times computed from it stay far from
/// any overflow).
pub const LONGEST_WINDOW: Duration = Duration::from_secs(30 * 24 * 3600);

impl Default for Settings {
    fn default() -> Self {
        Self {
            max_failures: 5,
            window: Duration::from_secs(900),
            block: Duration::from_secs(30),
            max_block: Duration::from_secs(900),
            capacity: 10_000,
        }
    }
}

impl Settings {
    /// Whether the throttle is on.
    pub fn enabled(&self) -> bool {
        self.max_failures > 0
    }

    /// Why these settings cannot be used, if they cannot.
    pub fn check(&self) -> Result<(), &'static str> {
        if !self.enabled() {
            return Ok(());
        }
        if self.block < Duration::from_secs(1) || self.window < Duration::from_secs(1) {
            return Err("the sign-in block and window must be at least one second");
        }
        if self.window > LONGEST_WINDOW {
            return Err("the sign-in window must be at most thirty days");
        }
        if self.max_block < self.block || self.max_block > LONGEST_BLOCK {
            return Err(
                "the longest sign-in block must be at least the first block and at most a day",
            );
        }
        if self.capacity == 0 {
            return Err("the sign-in throttle must remember at least one account");
        }
        Ok(())
    }

    /// The block that follows `blocks` earlier ones: doubling, capped at `max_block`.
    pub fn block_after(&self, blocks: u32) -> Duration {
        let factor = 1u32 << blocks.min(20);
        self.block.saturating_mul(factor).min(self.max_block)
    }
}

/// An attempt refused because its pair is blocked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Refused {
    /// How long until the pair may try again.
    pub retry_after: Duration,
}

impl Refused {
    /// The wait in whole seconds, rounded up and at least one: the `Retry-After` value
    /// (RFC 9110 §10.2.3, delay-seconds).
    pub fn seconds(&self) -> u64 {
        let d = self.retry_after;
        (d.as_secs() + u64::from(d.subsec_nanos() > 0)).max(1)
    }
}

#[derive(Clone, Copy, PartialEq, Eq, Hash)]
struct Key {
    account: [u8; 32],
    addr: IpAddr,
}

impl Key {
    fn new(account: &str, addr: Option<IpAddr>) -> Self {
        Self {
            account: Sha256::digest(account.to_ascii_lowercase().as_bytes()).into(),
            addr: addr.map_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED), network),
        }
    }
}

/// The key of a pair of account and client address as bytes, for the failure counts
/// replicas share ([`crate::store::failures`]): the digest of the folded account name,
/// then the address it is counted under.
pub fn shared_key(account: &str, addr: Option<IpAddr>) -> Vec<u8> {
    let k = Key::new(account, addr);
    let mut bytes = k.account.to_vec();
    match k.addr {
        IpAddr::V4(v4) => bytes.extend_from_slice(&v4.octets()),
        IpAddr::V6(v6) => bytes.extend_from_slice(&v6.octets()),
    }
    bytes
}

/// The address a client is counted under: IPv4 as is (also when IPv4-mapped), IPv6 by
/// its /64 network.
fn network(addr: IpAddr) -> IpAddr {
    match addr {
        IpAddr::V4(v4) => IpAddr::V4(v4),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => IpAddr::V6(Ipv6Addr::from(
                u128::from(v6) & 0xffff_ffff_ffff_ffff_0000_0000_0000_0000,
            )),
        },
    }
}

#[derive(Debug, Clone, Copy)]
struct Entry {
    /// Failures since the last block (or since the pair was first seen).
    failures: u32,
    /// Attempts begun and not yet finished.
    pending: u32,
    /// Blocks so far.
    blocks: u32,
    blocked_until: Option<Instant>,
    /// The last failure, or when the pair was first seen.
    last: Instant,
}

impl Entry {
    fn new(now: Instant) -> Self {
        Self {
            failures: 0,
            pending: 0,
            blocks: 0,
            blocked_until: None,
            last: now,
        }
    }

    fn blocked(&self, now: Instant) -> Option<Duration> {
        self.blocked_until
            .filter(|until| now < *until)
            .map(|until| until - now)
    }

    /// Nothing in flight, no block, and `window` since the last failure or block end.
    fn forgotten(&self, now: Instant, window: Duration) -> bool {
        let quiet_since = self.blocked_until.map_or(self.last, |b| b.max(self.last));
        self.pending == 0 && now >= quiet_since + window
    }
}

/// The in-memory throttle shared by every request.
pub struct Throttle {
    settings: Settings,
    entries: Mutex<HashMap<Key, Entry>>,
}

impl std::fmt::Debug for Throttle {
    /// The settings and the number of pairs only: keys are of no use in a log.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Throttle")
            .field("settings", &self.settings)
            .field("pairs", &self.len())
            .finish()
    }
}

/// A sign-in allowed to go on. Call [`Attempt::start`] once a hashing slot is held,
/// then report the result with [`Attempt::succeeded`] or [`Attempt::failed`]; dropped
/// without either (the check could not run), it counts as nothing.
#[must_use = "report the result of the password check"]
pub struct Attempt<'a> {
    throttle: &'a Throttle,
    key: Option<Key>,
    started: bool,
}

impl std::fmt::Debug for Attempt<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Attempt").finish_non_exhaustive()
    }
}

impl Attempt<'_> {
    /// Asks again just before the password is hashed, once the caller holds one of the
    /// few hashing slots: refused if the pair was blocked meanwhile (by guesses of the
    /// same burst that hashed first), or if the checks already running would use up its
    /// remaining tries. Only checks that hold a slot count as running, so parallel
    /// sign-ins of one user (a handful at most) are not refused for being parallel.
    pub fn start(&mut self) -> Result<(), Refused> {
        self.start_at(Instant::now(), 0)
    }

    /// [`Attempt::start`] for a pair that also has `elsewhere` failures counted outside
    /// this process (by replicas sharing a database): they count against its tries like
    /// its own.
    pub fn start_counting(&mut self, elsewhere: u32) -> Result<(), Refused> {
        self.start_at(Instant::now(), elsewhere)
    }

    fn start_at(&mut self, now: Instant, elsewhere: u32) -> Result<(), Refused> {
        let Some(key) = self.key else {
            return Ok(());
        };
        if self.started {
            return Ok(());
        }
        let t = self.throttle;
        let mut map = t.lock();
        if !map.contains_key(&key) {
            make_room(&mut map, &t.settings, now);
        }
        let e = map.entry(key).or_insert_with(|| Entry::new(now));
        admit(e, &t.settings, now, elsewhere)?;
        e.pending += 1;
        self.started = true;
        Ok(())
    }

    /// The password was right: the pair is forgotten.
    pub fn succeeded(mut self) {
        if let Some(key) = self.key.take() {
            self.throttle.lock().remove(&key);
        }
    }

    /// The password (or the account) was wrong.
    pub fn failed(self) {
        self.failed_at(Instant::now());
    }

    fn failed_at(mut self, now: Instant) {
        if let Some(key) = self.key.take() {
            self.throttle.record_failure(key, self.started, now);
        }
    }
}

impl Drop for Attempt<'_> {
    fn drop(&mut self) {
        if let Some(key) = self.key.take().filter(|_| self.started) {
            if let Some(e) = self.throttle.lock().get_mut(&key) {
                e.pending = e.pending.saturating_sub(1);
            }
        }
    }
}

impl Throttle {
    /// The settings in effect.
    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    /// A throttle with these settings (off when `max_failures` is 0).
    pub fn new(settings: Settings) -> Self {
        Self {
            settings,
            entries: Mutex::new(HashMap::new()),
        }
    }

    fn lock(&self) -> MutexGuard<'_, HashMap<Key, Entry>> {
        self.entries.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// How many pairs are remembered.
    pub fn len(&self) -> usize {
        self.lock().len()
    }

    /// Whether no pair is remembered.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Asks to sign in as `account` from `addr`, before any lookup or password work:
    /// refused while the pair is blocked, or while checks already running use up its
    /// remaining tries. Remembers nothing yet, so it costs no room.
    pub fn begin(&self, account: &str, addr: Option<IpAddr>) -> Result<Attempt<'_>, Refused> {
        self.begin_at(account, addr, Instant::now())
    }

    fn begin_at(
        &self,
        account: &str,
        addr: Option<IpAddr>,
        now: Instant,
    ) -> Result<Attempt<'_>, Refused> {
        if !self.settings.enabled() {
            return Ok(Attempt {
                throttle: self,
                key: None,
                started: false,
            });
        }
        let key = Key::new(account, addr);
        if let Some(e) = self.lock().get_mut(&key) {
            admit(e, &self.settings, now, 0)?;
        }
        Ok(Attempt {
            throttle: self,
            key: Some(key),
            started: false,
        })
    }

    fn record_failure(&self, key: Key, started: bool, now: Instant) {
        let s = &self.settings;
        let mut map = self.lock();
        if !map.contains_key(&key) {
            make_room(&mut map, s, now);
        }
        let e = map.entry(key).or_insert_with(|| Entry::new(now));
        if started {
            e.pending = e.pending.saturating_sub(1);
        }
        e.failures += 1;
        e.last = now;
        if e.failures >= s.max_failures {
            let block = s.block_after(e.blocks);
            e.blocks = e.blocks.saturating_add(1);
            e.failures = 0;
            e.blocked_until = Some(now + block);
            // The "alert" of §4.3.2: the client address only, since what was typed as
            // the account name can be a password.
            tracing::warn!(
                client = %key.addr,
                block_seconds = block.as_secs(),
                blocks = e.blocks,
                "sign-in blocked after repeated wrong passwords"
            );
        }
    }
}

/// Whether a pair may try now: not while blocked, nor while the checks running for it
/// would use up its remaining tries (counting `elsewhere` failures too). A pair quiet
/// for the window starts afresh.
fn admit(e: &mut Entry, s: &Settings, now: Instant, elsewhere: u32) -> Result<(), Refused> {
    if let Some(retry_after) = e.blocked(now) {
        return Err(Refused { retry_after });
    }
    if e.forgotten(now, s.window) {
        *e = Entry::new(now);
    }
    if e.failures
        .saturating_add(e.pending)
        .saturating_add(elsewhere)
        >= s.max_failures
    {
        return Err(Refused {
            retry_after: Duration::from_secs(1),
        });
    }
    Ok(())
}

/// Makes room for one more pair when the map is full: forgotten pairs first, then the
/// oldest without an attempt in flight (unblocked before blocked), an eighth of the
/// capacity at a time so the cost is shared by the insertions that follow.
fn make_room(map: &mut HashMap<Key, Entry>, s: &Settings, now: Instant) {
    if map.len() < s.capacity {
        return;
    }
    map.retain(|_, e| !e.forgotten(now, s.window));
    if map.len() < s.capacity {
        return;
    }
    let excess = map.len() + 1 - s.capacity;
    let target = excess.max(s.capacity / 8).min(map.len());
    let mut candidates: Vec<(bool, Instant, Key)> = map
        .iter()
        .filter(|(_, e)| e.pending == 0)
        .map(|(k, e)| (e.blocked(now).is_some(), e.last, *k))
        .collect();
    let target = target.min(candidates.len());
    if target == 0 {
        return;
    }
    if target < candidates.len() {
        candidates.select_nth_unstable_by(target - 1, |a, b| (a.0, a.1).cmp(&(b.0, b.1)));
    }
    for (_, _, key) in candidates.into_iter().take(target) {
        map.remove(&key);
    }
}

#[cfg(test)]
mod tests;

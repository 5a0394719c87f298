//! How hard a run may press a target: a global request-rate cap, one patient retry of
//! a `429` or `503` answer that says when to come back, and a circuit breaker that
//! stops a run whose target stopped answering.
//!
//! Every request of the runner (discovery, login, scenarios) goes through
//! [`super::Http::send`], which asks the one installed [`Pace`]:
//! - [`Pace::lane`] before each request: with `max_rps = N`, requests run in `N`
//!   lanes, and a lane is used again only one second after its last request got its
//!   answer (or failed). The target sees a request before it answers it, so any two
//!   requests of one lane reach it more than a second apart, and no sliding one-second
//!   window, seen from the target, holds more than `N` requests, bursts and retries
//!   included, whatever the network delays.
//! - a `429 Too Many Requests` or `503 Service Unavailable` with a `Retry-After` of at
//!   most `[lifetimes].max_wait` is waited out and the request sent once more before any
//!   step sees it (the brute-force scenarios, which provoke 429 on purpose, opt out with
//!   [`observing_throttle`]); the report counts these waits.
//! - [`BREAKER_THRESHOLD`] transport failures in a row (no HTTP answer at all: refused,
//!   reset, timed out, not HTTP) trip the breaker: every later request fails at once,
//!   and the run ends with exit 2 instead of failing every scenario one by one.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use tokio::time::Instant;

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// Transport failures in a row that stop a run.
pub const BREAKER_THRESHOLD: usize = 10;

/// The `N` lanes of a cap of `N` requests a second.
#[derive(Debug)]
struct Lanes {
    permits: Arc<Semaphore>,
    /// When each free lane may be used again.
    free: Mutex<BinaryHeap<Reverse<Instant>>>,
}

impl Lanes {
    fn new(n: u32) -> Arc<Self> {
        let now = Instant::now();
        Arc::new(Self {
            permits: Arc::new(Semaphore::new(n as usize)),
            free: Mutex::new((0..n).map(|_| Reverse(now)).collect()),
        })
    }
}

/// A lane held by one request; given back, usable a second later, when dropped.
#[derive(Debug)]
pub struct Lane {
    lanes: Option<Arc<Lanes>>,
    _permit: Option<OwnedSemaphorePermit>,
}

impl Drop for Lane {
    fn drop(&mut self) {
        // The time goes back before the permit does (fields drop after this body).
        if let Some(l) = &self.lanes {
            if let Ok(mut free) = l.free.lock() {
                free.push(Reverse(Instant::now() + Duration::from_secs(1)));
            }
        }
    }
}

/// The pacing of one run.
#[derive(Debug)]
pub struct Pace {
    /// The cap and the longest `Retry-After` waited out.
    settings: RwLock<(Option<u32>, Duration)>,
    /// The lanes of the cap (`None`: no cap).
    lanes: RwLock<Option<Arc<Lanes>>>,
    retried: AtomicUsize,
    failures_in_a_row: AtomicUsize,
    /// The distinct reasons of the failures in a row, oldest first.
    streak: Mutex<Vec<String>>,
    tripped: Mutex<Option<String>>,
}

impl Pace {
    /// A pace: at most `max_rps` requests in any second (`None`: no cap), and waits for
    /// `Retry-After` of at most `max_wait`.
    pub fn new(max_rps: Option<u32>, max_wait: Duration) -> Self {
        Self {
            settings: RwLock::new((max_rps.filter(|n| *n > 0), max_wait)),
            lanes: RwLock::new(max_rps.filter(|n| *n > 0).map(Lanes::new)),
            retried: AtomicUsize::new(0),
            failures_in_a_row: AtomicUsize::new(0),
            streak: Mutex::new(Vec::new()),
            tripped: Mutex::new(None),
        }
    }

    /// The cap, if any.
    pub fn max_rps(&self) -> Option<u32> {
        self.settings.read().map_or(None, |s| s.0)
    }

    /// The longest `Retry-After` waited out.
    pub fn max_wait(&self) -> Duration {
        self.settings.read().map_or(Duration::ZERO, |s| s.1)
    }

    /// Waits until a request may start under the cap; hold the lane until the request
    /// is over.
    pub async fn lane(&self) -> Lane {
        let lanes = self.lanes.read().ok().and_then(|l| l.clone());
        let Some(lanes) = lanes else {
            return Lane {
                lanes: None,
                _permit: None,
            };
        };
        let permit = lanes.permits.clone().acquire_owned().await.ok();
        // A permit means a free lane: there are as many permits as free lanes.
        let at = lanes
            .free
            .lock()
            .ok()
            .and_then(|mut f| f.pop())
            .map_or_else(Instant::now, |Reverse(t)| t);
        tokio::time::sleep_until(at).await;
        Lane {
            lanes: Some(lanes),
            _permit: permit,
        }
    }

    /// Counts a `Retry-After` wait.
    pub fn count_retry(&self) {
        self.retried.fetch_add(1, Ordering::Relaxed);
    }

    /// How many `429` / `503` answers were waited out and retried.
    pub fn retried(&self) -> usize {
        self.retried.load(Ordering::Relaxed)
    }

    /// Records an answer (any HTTP response): the failures in a row start over.
    pub fn answered(&self) {
        self.failures_in_a_row.store(0, Ordering::Relaxed);
        if let Ok(mut s) = self.streak.lock() {
            s.clear();
        }
    }

    /// Records a transport failure; trips the breaker at [`BREAKER_THRESHOLD`] in a row.
    pub fn transport_failed(&self, reason: &str) {
        let n = self.failures_in_a_row.fetch_add(1, Ordering::Relaxed) + 1;
        let seen = self.streak.lock().map_or_else(
            |_| vec![reason.to_owned()],
            |mut s| {
                // Every kind the streak met, so that the line names each, not only the
                // one that happened to come last.
                s.retain(|r| r != reason);
                s.push(reason.to_owned());
                if s.len() > 6 {
                    s.remove(0);
                }
                s.clone()
            },
        );
        if n >= BREAKER_THRESHOLD {
            if let Ok(mut t) = self.tripped.lock() {
                if t.is_none() {
                    *t = Some(format!(
                        "the target stopped answering: {n} transport failures in a row ({})",
                        seen.join("; ")
                    ));
                }
            }
        }
    }

    /// Why the breaker stopped the run, if it did.
    pub fn tripped(&self) -> Option<String> {
        self.tripped.lock().ok().and_then(|t| t.clone())
    }
}

impl Default for Pace {
    fn default() -> Self {
        Self::new(None, Duration::from_secs(30))
    }
}

static CURRENT: RwLock<Option<Arc<Pace>>> = RwLock::new(None);

/// Sets the cap and the longest wait of the pace every request follows, and starts its
/// counts (retries, the breaker) over; the record of recent requests is kept, so the
/// cap holds across the change (discovery, then the run). Returns the pace, to read
/// its counts after the run.
pub fn configure(max_rps: Option<u32>, max_wait: Duration) -> Arc<Pace> {
    let pace = current();
    let max_rps = max_rps.filter(|n| *n > 0);
    if let Ok(mut s) = pace.settings.write() {
        if s.0 != max_rps {
            if let Ok(mut l) = pace.lanes.write() {
                *l = max_rps.map(Lanes::new);
            }
        }
        *s = (max_rps, max_wait);
    }
    pace.retried.store(0, Ordering::Relaxed);
    pace.answered();
    if let Ok(mut t) = pace.tripped.lock() {
        *t = None;
    }
    pace
}

/// Makes `pace` the one every request follows from now on, and returns it (to read its
/// counts after the run).
pub fn install(pace: Pace) -> Arc<Pace> {
    let pace = Arc::new(pace);
    if let Ok(mut c) = CURRENT.write() {
        *c = Some(pace.clone());
    }
    pace
}

/// The installed pace (an unlimited one when none was installed).
pub fn current() -> Arc<Pace> {
    if let Ok(c) = CURRENT.read() {
        if let Some(p) = c.as_ref() {
            return p.clone();
        }
    }
    install(Pace::default())
}

tokio::task_local! {
    static OBSERVING_THROTTLE: bool;
}

/// Runs `f` with its `429` / `503` answers handed to it as they are, never waited out
/// and retried: for the steps that provoke a throttle to check it.
pub async fn observing_throttle<F: std::future::Future>(f: F) -> F::Output {
    OBSERVING_THROTTLE.scope(true, f).await
}

/// [`observing_throttle`] when `on`, else `f` as it is.
pub async fn observing_throttle_if<F: std::future::Future>(on: bool, f: F) -> F::Output {
    if on {
        observing_throttle(f).await
    } else {
        f.await
    }
}

/// Whether the current task observes throttling itself.
pub fn throttle_observed() -> bool {
    OBSERVING_THROTTLE.try_with(|v| *v).unwrap_or(false)
}

/// The seconds a `Retry-After` value asks to wait: delay-seconds, or an HTTP-date
/// (RFC 9110 §10.2.3), rounded up; `None` when it is neither.
pub fn retry_after_seconds(value: &str, now: std::time::SystemTime) -> Option<u64> {
    let value = value.trim();
    if let Ok(secs) = value.parse::<u64>() {
        return Some(secs);
    }
    let at = httpdate::parse_http_date(value).ok()?;
    let wait = at.duration_since(now).unwrap_or(Duration::ZERO);
    Some(wait.as_secs() + u64::from(wait.subsec_nanos() > 0))
}

/// Whether the host of `url` is a loopback address (`localhost`, `127.0.0.0/8`, `::1`).
pub fn is_loopback(url: &str) -> bool {
    let Ok(u) = reqwest::Url::parse(url) else {
        return false;
    };
    let Some(host) = u.host_str() else {
        return false;
    };
    let host = host.trim_start_matches('[').trim_end_matches(']');
    match host.parse::<std::net::IpAddr>() {
        Ok(ip) => ip.is_loopback(),
        Err(_) => {
            let d = host.trim_end_matches('.').to_ascii_lowercase();
            d == "localhost" || d.ends_with(".localhost")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// With a cap of N, any N + 1 starts span at least a second plus the time the
    /// first request took; without one, nothing waits.
    #[tokio::test(start_paused = true)]
    async fn cap_spaces_every_window() {
        let pace = Arc::new(Pace::new(Some(5), Duration::from_secs(1)));
        let t0 = tokio::time::Instant::now();
        let tasks: Vec<_> = (0..17u64)
            .map(|i| {
                let p = pace.clone();
                tokio::spawn(async move {
                    let lane = p.lane().await;
                    let start = tokio::time::Instant::now();
                    // Each request takes a while; its lane rests after it.
                    tokio::time::sleep(Duration::from_millis(10 * (i % 3))).await;
                    drop(lane);
                    start
                })
            })
            .collect();
        let mut starts = Vec::new();
        for t in tasks {
            starts.push(t.await.unwrap());
        }
        starts.sort();
        for w in starts.windows(6) {
            assert!(w[5] - w[0] >= Duration::from_secs(1), "{:?}", w[5] - w[0]);
        }
        // 17 requests at 5 per second: the last waits three windows and a little.
        let span = *starts.last().unwrap() - t0;
        assert!(span < Duration::from_millis(3100), "{span:?}");
        let free = Pace::new(None, Duration::from_secs(1));
        let t1 = tokio::time::Instant::now();
        for _ in 0..1000 {
            drop(free.lane().await);
        }
        assert_eq!(tokio::time::Instant::now(), t1);
    }

    /// Ten failures in a row trip the breaker; an answer in between starts the count
    /// over.
    #[test]
    fn breaker_counts_failures_in_a_row() {
        let pace = Pace::default();
        for _ in 0..9 {
            pace.transport_failed("timed out");
        }
        pace.answered();
        for _ in 0..9 {
            pace.transport_failed("timed out");
        }
        assert_eq!(pace.tripped(), None);
        pace.transport_failed("connection refused");
        let why = pace.tripped().unwrap();
        assert_eq!(
            why,
            "the target stopped answering: 10 transport failures in a row (timed out; connection refused)"
        );
    }

    /// Loopback hosts are told apart from the rest.
    #[test]
    fn loopback_hosts() {
        for u in [
            "http://localhost:8080/x",
            "http://127.0.0.1/",
            "http://127.9.9.9:1",
            "http://[::1]:80/",
            "https://app.localhost/",
        ] {
            assert!(is_loopback(u), "{u}");
        }
        for u in [
            "https://as.example/",
            "http://10.0.0.1/",
            "http://[::2]/",
            "http://localhost.example/",
            "not a url",
        ] {
            assert!(!is_loopback(u), "{u}");
        }
    }
}

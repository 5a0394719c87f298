//! Unit tests of the sign-in throttle, on a clock the tests move by hand.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::net::{IpAddr, Ipv6Addr};
use std::time::{Duration, Instant};

use super::{Attempt, Refused, Settings, Throttle};

const ALICE: &str = "alice@example.com";

fn ip(s: &str) -> Option<IpAddr> {
    Some(s.parse().unwrap())
}

fn secs(n: u64) -> Duration {
    Duration::from_secs(n)
}

fn settings() -> Settings {
    Settings {
        max_failures: 3,
        window: secs(60),
        block: secs(10),
        max_block: secs(25),
        capacity: 100,
    }
}

/// Fails `n` password checks for the pair at `now`.
fn fail(t: &Throttle, account: &str, addr: Option<IpAddr>, n: u32, now: Instant) {
    for _ in 0..n {
        t.begin_at(account, addr, now).unwrap().failed_at(now);
    }
}

fn refused(t: &Throttle, account: &str, addr: Option<IpAddr>, now: Instant) -> Option<Refused> {
    t.begin_at(account, addr, now).err()
}

/// The limit blocks the pair for the first block, and the block ends by itself.
#[test]
fn blocks_after_the_limit_until_the_block_ends() {
    let t = Throttle::new(settings());
    let t0 = Instant::now();
    fail(&t, ALICE, ip("192.0.2.1"), 2, t0);
    assert_eq!(refused(&t, ALICE, ip("192.0.2.1"), t0), None);
    fail(&t, ALICE, ip("192.0.2.1"), 1, t0);
    let r = refused(&t, ALICE, ip("192.0.2.1"), t0 + secs(4)).expect("blocked");
    assert_eq!(r.retry_after, secs(6));
    assert_eq!(r.seconds(), 6);
    assert!(refused(&t, ALICE, ip("192.0.2.1"), t0 + secs(10)).is_none());
}

/// Each further block doubles the one before, up to the longest block, and still ends.
#[test]
fn blocks_double_up_to_the_cap() {
    let t = Throttle::new(settings());
    let addr = ip("192.0.2.1");
    let mut now = Instant::now();
    for expected in [10, 20, 25, 25] {
        fail(&t, ALICE, addr, 3, now);
        let r = refused(&t, ALICE, addr, now).expect("blocked");
        assert_eq!(r.retry_after, secs(expected));
        now += secs(expected);
        assert!(refused(&t, ALICE, addr, now).is_none(), "the block ends");
    }
}

/// A success forgets the pair: the count starts again from zero.
#[test]
fn success_resets_the_count() {
    let t = Throttle::new(settings());
    let addr = ip("192.0.2.1");
    let now = Instant::now();
    fail(&t, ALICE, addr, 2, now);
    t.begin_at(ALICE, addr, now).unwrap().succeeded();
    assert!(t.is_empty());
    fail(&t, ALICE, addr, 2, now);
    assert!(refused(&t, ALICE, addr, now).is_none());
}

/// Failures are forgotten after the window without one, and so is the block level.
#[test]
fn quiet_window_forgets_failures_and_levels() {
    let t = Throttle::new(settings());
    let addr = ip("192.0.2.1");
    let t0 = Instant::now();
    fail(&t, ALICE, addr, 3, t0);
    // Block 10 s, then a quiet window of 60 s: the next block is the first again.
    let later = t0 + secs(10 + 60);
    fail(&t, ALICE, addr, 2, later);
    assert!(refused(&t, ALICE, addr, later).is_none());
    fail(&t, ALICE, addr, 1, later);
    assert_eq!(
        refused(&t, ALICE, addr, later).map(|r| r.retry_after),
        Some(secs(10))
    );
}

/// Another address, or another account, is not blocked by someone else's failures.
#[test]
fn per_account_and_address() {
    let t = Throttle::new(settings());
    let now = Instant::now();
    fail(&t, ALICE, ip("198.51.100.7"), 3, now);
    assert!(refused(&t, ALICE, ip("198.51.100.7"), now).is_some());
    assert!(refused(&t, ALICE, ip("192.0.2.1"), now).is_none());
    assert!(refused(&t, "bob@example.com", ip("198.51.100.7"), now).is_none());
}

/// Case variants of an account (as the database matches them), IPv4-mapped IPv6 and
/// addresses of one IPv6 /64 count as one pair.
#[test]
fn variants_share_a_pair() {
    let t = Throttle::new(settings());
    let now = Instant::now();
    fail(&t, "Alice@Example.COM", ip("::ffff:192.0.2.1"), 1, now);
    fail(&t, ALICE, ip("192.0.2.1"), 2, now);
    assert!(refused(&t, "ALICE@example.com", ip("192.0.2.1"), now).is_some());
    fail(&t, ALICE, ip("2001:db8:1:2::1"), 3, now);
    assert!(refused(&t, ALICE, ip("2001:db8:1:2:ffff::9"), now).is_some());
    assert!(refused(&t, ALICE, ip("2001:db8:1:3::1"), now).is_none());
}

/// Checks running at once use up the remaining tries, so a burst cannot overshoot the
/// limit; a check dropped unfinished gives its try back; sign-ins waiting for a slot
/// do not count until they start.
#[test]
fn running_checks_count() {
    let t = Throttle::new(settings());
    let addr = ip("192.0.2.1");
    let now = Instant::now();
    fn started(t: &Throttle, addr: Option<IpAddr>, now: Instant) -> Result<Attempt<'_>, Refused> {
        let mut a = t.begin_at(ALICE, addr, now)?;
        a.start_at(now, 0).map(|()| a)
    }
    let waiting: Vec<_> = (0..10)
        .map(|_| t.begin_at(ALICE, addr, now).unwrap())
        .collect();
    let a = started(&t, addr, now).unwrap();
    let b = started(&t, addr, now).unwrap();
    let c = started(&t, addr, now).unwrap();
    assert!(started(&t, addr, now).is_err());
    assert!(refused(&t, ALICE, addr, now).is_some());
    drop(c);
    let c = started(&t, addr, now).unwrap();
    a.failed_at(now);
    b.failed_at(now);
    c.failed_at(now);
    let r = refused(&t, ALICE, addr, now).expect("blocked");
    assert_eq!(r.retry_after, secs(10));
    // The queued ones are refused when their turn comes.
    for mut w in waiting {
        assert_eq!(w.start_at(now, 0).map_err(|r| r.retry_after), Err(secs(10)));
    }
}

/// With max_failures 0 the throttle refuses nothing and remembers nothing.
#[test]
fn zero_switches_it_off() {
    let t = Throttle::new(Settings {
        max_failures: 0,
        ..settings()
    });
    let now = Instant::now();
    fail(&t, ALICE, ip("192.0.2.1"), 50, now);
    assert!(refused(&t, ALICE, ip("192.0.2.1"), now).is_none());
    assert!(t.is_empty());
}

/// Spraying many accounts never grows the map past its capacity, and a blocked pair
/// outlives the unblocked ones the spray evicts.
#[test]
fn the_map_stays_bounded() {
    let t = Throttle::new(settings());
    let addr = ip("203.0.113.9");
    let now = Instant::now();
    fail(&t, ALICE, addr, 3, now);
    for i in 0..5_000 {
        fail(&t, &format!("user{i}@example.com"), addr, 1, now);
        assert!(t.len() <= 100, "{} pairs after {i}", t.len());
    }
    assert!(refused(&t, ALICE, addr, now).is_some());
    // Spraying from many addresses is bounded the same way.
    for i in 0..5_000u32 {
        let v6 = IpAddr::V6(Ipv6Addr::from(u128::from(i) << 64));
        fail(&t, ALICE, Some(v6), 1, now);
        assert!(t.len() <= 100);
    }
}

/// Settings that could block for ever, or for nothing, are refused.
#[test]
fn settings_are_checked() {
    assert!(Settings::default().check().is_ok());
    let bad = [
        Settings {
            block: Duration::ZERO,
            ..settings()
        },
        Settings {
            max_block: secs(5),
            ..settings()
        },
        Settings {
            max_block: secs(2 * 24 * 3600),
            ..settings()
        },
        Settings {
            capacity: 0,
            ..settings()
        },
    ];
    for s in bad {
        assert!(s.check().is_err(), "{s:?}");
    }
    let off = Settings {
        max_failures: 0,
        block: Duration::ZERO,
        ..settings()
    };
    assert!(off.check().is_ok());
}

/// Retry-After rounds up to whole seconds and is never zero.
#[test]
fn retry_after_rounds_up() {
    let r = |ms| Refused {
        retry_after: Duration::from_millis(ms),
    };
    assert_eq!(r(1).seconds(), 1);
    assert_eq!(r(1000).seconds(), 1);
    assert_eq!(r(1001).seconds(), 2);
    assert_eq!(r(0).seconds(), 1);
}

/// Debug output shows settings and a count, never an account.
#[test]
fn debug_shows_no_account() {
    let t = Throttle::new(settings());
    fail(&t, ALICE, ip("192.0.2.1"), 1, Instant::now());
    let d = format!("{t:?}");
    assert!(d.contains("pairs: 1"), "{d}");
    assert!(!d.to_ascii_lowercase().contains("alice"), "{d}");
}

/// Failures counted elsewhere (by other replicas) use up the tries like local ones.
#[test]
fn failures_elsewhere_count_against_the_tries() {
    let t = Throttle::new(settings());
    let now = Instant::now();
    let mut a = t.begin_at("x", None, now).unwrap();
    let limit = t.settings().max_failures;
    assert!(a.start_at(now, limit - 1).is_ok(), "one try left");
    let mut b = t.begin_at("x", None, now).unwrap();
    assert!(
        b.start_at(now, limit - 1).is_err(),
        "the last try is in flight"
    );
    drop(a);
    let mut c = t.begin_at("x", None, now).unwrap();
    assert!(c.start_at(now, limit).is_err(), "no try left");
}

//! Brute-force protection of the password grant (RFC 6749 §4.3.2: "the authorization
//! server MUST protect the endpoint against brute force attacks"): after the limit of
//! wrong passwords for one account from one address, 429 with `Retry-After` whatever
//! the password, until the block ends. The login form's side is in `throttle/form.rs`.

mod form;

use std::time::Duration;

use crate::common::*;

/// The default limit of wrong passwords before a block.
const LIMIT: usize = 5;

/// The block of [`server`]: short, so its end can be waited for, and long enough for
/// the next request to arrive while it lasts on a loaded machine.
const SHORT_BLOCK: u64 = 2;

/// A server with the default limit and a short block.
async fn server() -> TestServer {
    TestServer::start_with(|c| {
        c.login_throttle.block = Duration::from_secs(SHORT_BLOCK);
        c.login_throttle.max_block = Duration::from_secs(SHORT_BLOCK);
    })
    .await
}

/// Waits out a block of `secs` seconds (Retry-After), with a margin.
async fn wait_out(secs: u64) {
    tokio::time::sleep(Duration::from_millis(secs * 1000 + 500)).await;
}

/// Sends `n` wrong passwords for `user` and checks each is an ordinary invalid_grant.
async fn wrong_passwords(s: &TestServer, user: &str, n: usize) {
    for i in 0..n {
        let r = s.password(BASIC, user, "not-the-password", None).await;
        assert_eq!(r.status, 400, "attempt {i}: {}", r.text);
        assert_eq!(r.error(), "invalid_grant");
    }
}

/// The seconds of a 429's `Retry-After`, checked to be delay-seconds within `1..=max`.
pub fn retry_after(r: &Reply, max: u64) -> u64 {
    let value = r
        .header("retry-after")
        .unwrap_or_else(|| panic!("no Retry-After: {r:?}"));
    let secs: u64 = value
        .parse()
        .unwrap_or_else(|_| panic!("Retry-After is not delay-seconds: {value:?}"));
    assert!((1..=max).contains(&secs), "Retry-After {secs}");
    secs
}

/// A token-endpoint refusal for a blocked account: 429, `Retry-After`, no-store, and
/// an RFC 6749 §5.2 body without any token.
fn assert_throttled(r: &Reply, max_wait: u64) -> u64 {
    assert_oauth_error(r, 429, "invalid_grant");
    assert_eq!(r.header("cache-control").as_deref(), Some("no-store"));
    assert_eq!(r.header("pragma").as_deref(), Some("no-cache"));
    let secs = retry_after(r, max_wait);
    let description = r.json()["error_description"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    assert_eq!(
        description,
        format!("too many failed sign-in attempts; retry after {secs} seconds")
    );
    assert!(r.json().get("access_token").is_none());
    secs
}

/// How many access and refresh tokens the server has stored.
async fn stored_tokens(s: &TestServer) -> i64 {
    sqlx::query_scalar("SELECT COUNT(*) FROM tokens")
        .fetch_one(&s.db().await)
        .await
        .unwrap()
}

/// After the limit of wrong passwords the next attempt is 429 with Retry-After and a
/// §5.2 body; the limit counts case variants of the email as one account.
#[tokio::test]
async fn wrong_passwords_are_throttled() {
    let s = TestServer::start().await;
    wrong_passwords(&s, ALICE, LIMIT - 1).await;
    wrong_passwords(&s, "Alice@Example.COM", 1).await;
    let r = s.password(BASIC, ALICE, "not-the-password", None).await;
    let secs = assert_throttled(&r, 30);
    assert!(
        secs > 20,
        "the default first block is 30 s, Retry-After {secs}"
    );
}

/// While blocked, the correct password is refused too and no token is stored.
#[tokio::test]
async fn correct_password_is_refused_while_blocked() {
    let s = TestServer::start().await;
    wrong_passwords(&s, ALICE, LIMIT).await;
    let r = s.password(BASIC, ALICE, ALICE_PASSWORD, None).await;
    assert_throttled(&r, 30);
    let r = s.password(PUBLIC, ALICE, ALICE_PASSWORD, None).await;
    assert_throttled(&r, 30);
    assert_eq!(stored_tokens(&s).await, 0);
}

/// The block ends by itself: once Retry-After has passed the correct password works
/// (no permanent lockout).
#[tokio::test]
async fn correct_password_works_after_the_block() {
    let s = server().await;
    wrong_passwords(&s, ALICE, LIMIT).await;
    let r = s.password(BASIC, ALICE, ALICE_PASSWORD, None).await;
    wait_out(assert_throttled(&r, SHORT_BLOCK)).await;
    s.alice(BASIC).await;
}

/// A success forgets earlier failures: the count starts again.
#[tokio::test]
async fn success_resets_the_count() {
    let s = TestServer::start().await;
    wrong_passwords(&s, ALICE, LIMIT - 1).await;
    s.alice(BASIC).await;
    wrong_passwords(&s, ALICE, LIMIT - 1).await;
    s.alice(BASIC).await;
}

/// Another account at the same address is not blocked by alice's failures.
#[tokio::test]
async fn other_accounts_are_not_blocked() {
    let s = TestServer::start().await;
    wrong_passwords(&s, ALICE, LIMIT).await;
    let r = s.password(BASIC, BOB, BOB_PASSWORD, None).await;
    assert_eq!(r.status, 200, "{}", r.text);
}

/// Failures from one client address do not block the account at another address, so
/// an attacker cannot lock the owner out where the owner signs in.
#[tokio::test]
async fn other_addresses_are_not_blocked() {
    let s = TestServer::start().await;
    wrong_passwords(&s, ALICE, LIMIT).await;
    assert_throttled(&s.password(BASIC, ALICE, ALICE_PASSWORD, None).await, 30);
    // The same loopback server, reached from another source address of 127.0.0.0/8.
    let elsewhere = reqwest::Client::builder()
        .local_address(Some("127.0.0.2".parse().unwrap()))
        .build()
        .unwrap();
    let r = BASIC.apply(
        elsewhere.post(s.url("/oauth/token")),
        &[
            ("grant_type", "password"),
            ("username", ALICE),
            ("password", ALICE_PASSWORD),
        ],
    );
    let r = Reply::read(r.send().await.unwrap()).await;
    assert_eq!(r.status, 200, "{}", r.text);
}

/// An unknown account is throttled exactly like a known one, so the answers do not
/// reveal which accounts exist.
#[tokio::test]
async fn unknown_accounts_are_throttled_alike() {
    let s = TestServer::start().await;
    wrong_passwords(&s, "mallory@example.com", LIMIT).await;
    let r = s
        .password(BASIC, "mallory@example.com", "not-the-password", None)
        .await;
    assert_throttled(&r, 30);
    wrong_passwords(&s, ALICE, LIMIT).await;
    let known = s.password(BASIC, ALICE, "not-the-password", None).await;
    assert_eq!(known.text, r.text, "same body for a known account");
}

/// Guesses sent in parallel cannot overshoot the limit: at most the limit of them is
/// checked, the rest are 429, and none succeeds.
#[tokio::test]
async fn parallel_guesses_stop_at_the_limit() {
    let s = TestServer::start().await;
    let guesses = (0..20).map(|_| s.password(BASIC, ALICE, "not-the-password", None));
    let replies = futures_util::future::join_all(guesses).await;
    let checked = replies.iter().filter(|r| r.status == 400).count();
    let throttled = replies.iter().filter(|r| r.status == 429).count();
    assert_eq!(checked + throttled, 20, "{replies:?}");
    assert!(checked <= LIMIT, "{checked} guesses were checked");
    assert_throttled(&s.password(BASIC, ALICE, ALICE_PASSWORD, None).await, 30);
}

/// Many parallel sign-ins of one user with the right password all succeed: only
/// checks holding one of the few hashing slots count as running.
#[tokio::test]
async fn parallel_sign_ins_of_one_user_succeed() {
    let s = TestServer::start().await;
    let logins = (0..4 * LIMIT).map(|_| s.password(BASIC, ALICE, ALICE_PASSWORD, None));
    for r in futures_util::future::join_all(logins).await {
        assert_eq!(r.status, 200, "{}", r.text);
    }
}

/// `max_failures = 0` turns the protection off: wrong passwords are never throttled.
#[tokio::test]
async fn zero_turns_the_protection_off() {
    let s = TestServer::start_with(|c| c.login_throttle.max_failures = 0).await;
    wrong_passwords(&s, ALICE, 3 * LIMIT).await;
    s.alice(BASIC).await;
}

/// Settings whose block could last for ever (or for nothing) stop the server at start.
#[tokio::test]
async fn unusable_settings_do_not_start() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = reference_server::Config::new(dir.path().join("t.sqlite"));
    config.login_throttle.max_block = Duration::from_secs(2 * 24 * 3600);
    let listener = reference_server::bind("127.0.0.1:0".parse().unwrap())
        .await
        .unwrap();
    let err = reference_server::Server::start(config, listener)
        .await
        .unwrap_err();
    assert!(err.to_string().contains("at most a day"), "{err}");
}

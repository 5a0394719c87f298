//! Brute-force protection of the login form (RFC 6749 §10.10: the authorization server
//! "MUST prevent attackers from guessing ... resource owner passwords"): the same
//! counter as the token endpoint's, answered with the form again, status 429 and
//! `Retry-After`, and no code.

use super::{LIMIT, SHORT_BLOCK, assert_throttled, retry_after, server, wait_out, wrong_passwords};
use crate::common::*;
use crate::login::*;

fn request() -> Vec<(&'static str, &'static str)> {
    vec![
        ("response_type", "code"),
        ("client_id", BASIC_ID),
        ("redirect_uri", BASIC_CALLBACK),
        ("state", "t"),
    ]
}

/// Opens a fresh login page and signs in as `email` with `password`.
async fn sign_in(s: &TestServer, email: &str, password: &str) -> Reply {
    let b = Browser::new(s);
    let page = b.open(&request()).await;
    b.answer(&page, Some(email), Some(password), "approve")
        .await
}

/// Signs in `n` times with a wrong password; each is the form again with status 200.
async fn wrong_sign_ins(s: &TestServer, email: &str, n: usize) {
    for i in 0..n {
        let r = sign_in(s, email, "not-the-password").await;
        assert_eq!(r.status, 200, "attempt {i}: {}", r.text);
        assert!(r.text.contains("The email or password is incorrect."));
    }
}

/// A throttled sign-in: 429 with Retry-After, the form again (fresh CSRF token, the
/// request kept) with a message, the protective headers, and no redirect.
fn assert_throttled_page(r: &Reply, max_wait: u64) -> u64 {
    assert_eq!(r.status, 429, "{}", r.text);
    assert_eq!(r.header("location"), None, "no redirect");
    assert!(r.media_type().starts_with("text/html"), "{r:?}");
    assert_eq!(r.header("cache-control").as_deref(), Some("no-store"));
    assert_eq!(r.header("x-frame-options").as_deref(), Some("DENY"));
    let secs = retry_after(r, max_wait);
    let message =
        format!("Too many failed sign-in attempts for this account. Try again in {secs} seconds.");
    assert!(r.text.contains(&message), "{}", r.text);
    assert!(hidden(&r.text, "csrf_token").is_some_and(|c| !c.is_empty()));
    assert_eq!(hidden(&r.text, "state").as_deref(), Some("t"));
    secs
}

/// How many authorization codes the server has stored.
async fn stored_codes(s: &TestServer) -> i64 {
    sqlx::query_scalar("SELECT COUNT(*) FROM codes")
        .fetch_one(&s.db().await)
        .await
        .unwrap()
}

/// After the limit of wrong passwords at the form, the correct password gets 429 with
/// Retry-After and the form again; no code is issued.
#[tokio::test]
async fn wrong_passwords_at_the_form_are_throttled() {
    let s = TestServer::start().await;
    wrong_sign_ins(&s, ALICE, LIMIT).await;
    let r = sign_in(&s, ALICE, "not-the-password").await;
    assert_throttled_page(&r, 30);
    let r = sign_in(&s, ALICE, ALICE_PASSWORD).await;
    assert_throttled_page(&r, 30);
    assert_eq!(stored_codes(&s).await, 0);
}

/// The form's block ends by itself: after Retry-After the correct password gives a code.
#[tokio::test]
async fn form_works_after_the_block() {
    let s = server().await;
    wrong_sign_ins(&s, ALICE, LIMIT).await;
    let secs = assert_throttled_page(&sign_in(&s, ALICE, ALICE_PASSWORD).await, SHORT_BLOCK);
    wait_out(secs).await;
    let r = sign_in(&s, ALICE, ALICE_PASSWORD).await;
    assert_eq!(r.status, 303, "{}", r.text);
    Callback::from_reply(&r).code();
}

/// Failures at the token endpoint and at the form count together, both ways.
#[tokio::test]
async fn one_counter_for_both_surfaces() {
    let s = TestServer::start().await;
    wrong_passwords(&s, ALICE, LIMIT - 2).await;
    wrong_sign_ins(&s, ALICE, 2).await;
    assert_throttled_page(&sign_in(&s, ALICE, ALICE_PASSWORD).await, 30);

    wrong_sign_ins(&s, BOB, LIMIT - 1).await;
    wrong_passwords(&s, BOB, 1).await;
    assert_throttled(&s.password(BASIC, BOB, BOB_PASSWORD, None).await, 30);
}

/// An unknown email at the form is throttled like a known one, with the same page.
#[tokio::test]
async fn unknown_emails_are_throttled_alike_at_the_form() {
    let s = TestServer::start().await;
    wrong_sign_ins(&s, "mallory@example.com", LIMIT).await;
    let unknown = sign_in(&s, "mallory@example.com", "not-the-password").await;
    assert_throttled_page(&unknown, 30);
    wrong_sign_ins(&s, ALICE, LIMIT).await;
    let known = sign_in(&s, ALICE, "not-the-password").await;
    assert_throttled_page(&known, 30);
}

/// Deny needs no password and is not throttled: the user can always leave.
#[tokio::test]
async fn deny_is_not_throttled() {
    let s = TestServer::start().await;
    wrong_sign_ins(&s, ALICE, LIMIT).await;
    let b = Browser::new(&s);
    let page = b.open(&request()).await;
    let r = b.answer(&page, Some(ALICE), None, "deny").await;
    assert_eq!(r.status, 303, "{}", r.text);
    assert_eq!(Callback::from_reply(&r).get("error"), Some("access_denied"));
}

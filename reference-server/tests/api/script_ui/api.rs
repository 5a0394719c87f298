//! The sign-in API of the script login UI, `POST /oauth/authorize/login`: the plain
//! form's rules (RFC 6749 §4.1.2.1, §10.10, §10.12) with JSON answers.

use super::*;
use crate::throttle::retry_after;

/// The limit of wrong passwords of a default server.
const LIMIT: usize = 5;

/// A correct sign-in answers 200 `{"next": consent page}`: no code yet, and the
/// session cookie is left as the page set it.
#[tokio::test]
async fn correct_sign_in_answers_the_consent_page() {
    let s = server().await;
    let b = Browser::new(&s);
    let r = sign_in(&s, &b, &pairs(&basic_request("s")), ALICE, ALICE_PASSWORD).await;
    let next = next_of(&r);
    assert!(
        next.starts_with(&format!("{CONSENT}?interaction=")),
        "{next}"
    );
    assert_eq!(r.header("set-cookie"), None);
    assert_eq!(stored_codes(&s).await, 0);
}

/// A wrong password answers 400 `invalid_credentials` with the plain form's message;
/// the same page may then sign in.
#[tokio::test]
async fn wrong_password_is_refused_then_retry_works() {
    let s = server().await;
    let b = Browser::new(&s);
    let page = b.open(&pairs(&basic_request("s"))).await;
    let r = post(&s, &b, LOGIN_API, &sign_in_fields(&page, ALICE, "wrong")).await;
    assert_refusal(&r, 400, "invalid_credentials");
    assert_eq!(r.json()["message"], "The email or password is incorrect.");
    let unknown = post(&s, &b, LOGIN_API, &sign_in_fields(&page, "nobody@x", "x")).await;
    assert_refusal(&unknown, 400, "invalid_credentials");
    assert_eq!(unknown.json()["message"], r.json()["message"]);
    let r = post(
        &s,
        &b,
        LOGIN_API,
        &sign_in_fields(&page, ALICE, ALICE_PASSWORD),
    )
    .await;
    assert!(next_of(&r).starts_with(CONSENT));
}

/// After the limit of wrong passwords, the API answers 429 with `Retry-After` and the
/// plain form's message, for the correct password too, and no sign-in is made (R69).
#[tokio::test]
async fn wrong_passwords_are_throttled() {
    let s = server().await;
    let b = Browser::new(&s);
    let page = b.open(&pairs(&basic_request("s"))).await;
    for i in 0..LIMIT {
        let r = post(&s, &b, LOGIN_API, &sign_in_fields(&page, ALICE, "wrong")).await;
        assert_eq!(r.status, 400, "attempt {i}: {}", r.text);
    }
    for password in ["wrong", ALICE_PASSWORD] {
        let r = post(&s, &b, LOGIN_API, &sign_in_fields(&page, ALICE, password)).await;
        assert_refusal(&r, 429, "too_many_attempts");
        let secs = retry_after(&r, 30);
        assert_eq!(r.json()["retry_after"], secs);
        assert_eq!(
            r.json()["message"],
            format!(
                "Too many failed sign-in attempts for this account. Try again in {secs} seconds."
            )
        );
    }
    // One count with the token endpoint.
    let token = s.password(BASIC, ALICE, ALICE_PASSWORD, None).await;
    assert_eq!(token.status, 429, "{}", token.text);
    // Another account is not blocked.
    let bob = post(&s, &b, LOGIN_API, &sign_in_fields(&page, BOB, BOB_PASSWORD)).await;
    assert!(next_of(&bob).starts_with(CONSENT));
}

/// A missing or wrong CSRF token, a missing cookie, or another browser's token is
/// refused with 403 before any password is checked (R32).
#[tokio::test]
async fn csrf_token_must_match_the_cookie() {
    let s = server().await;
    let b = Browser::new(&s);
    let page = b.open(&pairs(&basic_request("s"))).await;
    let fields = sign_in_fields(&page, ALICE, ALICE_PASSWORD);
    let without: Vec<_> = fields
        .iter()
        .filter(|(k, _)| k != "csrf_token")
        .cloned()
        .collect();
    assert_refusal(
        &post(&s, &b, LOGIN_API, &without).await,
        403,
        "invalid_csrf_token",
    );
    let wrong: Vec<_> = fields
        .iter()
        .map(|(k, v)| match k.as_str() {
            "csrf_token" => (k.clone(), format!("{v}x")),
            _ => (k.clone(), v.clone()),
        })
        .collect();
    assert_refusal(
        &post(&s, &b, LOGIN_API, &wrong).await,
        403,
        "invalid_csrf_token",
    );
    // s.http keeps no cookies.
    let r = Reply::read(
        s.http
            .post(s.url(LOGIN_API))
            .form(&fields)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_refusal(&r, 403, "invalid_csrf_token");
    let other = Browser::new(&s).open(&pairs(&basic_request("s"))).await;
    let foreign = sign_in_fields(&other, ALICE, ALICE_PASSWORD);
    assert_refusal(
        &post(&s, &b, LOGIN_API, &foreign).await,
        403,
        "invalid_csrf_token",
    );
    // None of these counted as a wrong password: the page still signs in.
    assert!(next_of(&post(&s, &b, LOGIN_API, &fields).await).starts_with(CONSENT));
}

/// The request is revalidated as the plain form does: one the page could not show
/// gets 400 JSON, one with an error for the client gets `{"next"}` to its redirection
/// URI with `error`, `state` and `iss`.
#[tokio::test]
async fn request_is_revalidated() {
    let s = server().await;
    let b = Browser::new(&s);
    let page = b.open(&pairs(&basic_request("s"))).await;
    let fields = sign_in_fields(&page, ALICE, ALICE_PASSWORD);
    let with = |name: &str, value: &str| -> Vec<(String, String)> {
        fields
            .iter()
            .map(|(k, v)| {
                let v = if k == name { value } else { v.as_str() };
                (k.clone(), v.to_owned())
            })
            .collect()
    };
    let unknown = post(&s, &b, LOGIN_API, &with("client_id", "nobody")).await;
    assert_refusal(&unknown, 400, "invalid_request");
    let elsewhere = with("redirect_uri", "https://evil.example/cb");
    assert_refusal(
        &post(&s, &b, LOGIN_API, &elsewhere).await,
        400,
        "invalid_request",
    );
    let mut admin = fields.clone();
    admin.push(("scope".into(), "admin".into()));
    let next = next_of(&post(&s, &b, LOGIN_API, &admin).await);
    let cb = Callback::from_url(next);
    assert_eq!(cb.target, BASIC_CALLBACK);
    assert_eq!(cb.get("error"), Some("invalid_scope"), "{}", cb.location);
    assert_eq!(cb.get("state"), Some("s"));
    assert_eq!(cb.get("iss"), Some(issuer(&s).as_str()));
    assert_eq!(cb.get("code"), None);
    let mut repeated = fields.clone();
    repeated.push(("state".into(), "again".into()));
    assert_refusal(
        &post(&s, &b, LOGIN_API, &repeated).await,
        400,
        "invalid_request",
    );
}

/// Other methods, other content types and oversized bodies are refused in the API's
/// format, never with a 5xx.
#[tokio::test]
async fn malformed_calls_are_refused() {
    let s = server().await;
    let r = Reply::read(s.http.get(s.url(LOGIN_API)).send().await.unwrap()).await;
    assert_refusal(&r, 405, "method_not_allowed");
    assert_eq!(r.header("allow").as_deref(), Some("POST"));
    let json = s
        .send_raw(
            reqwest::Method::POST,
            LOGIN_API,
            &[("content-type", "application/json")],
            "{\"username\":\"alice@example.com\"}",
        )
        .await;
    assert_refusal(&json, 400, "invalid_request");
    let big = s
        .send_raw(
            reqwest::Method::POST,
            LOGIN_API,
            &[("content-type", "application/x-www-form-urlencoded")],
            format!("username={}", "a".repeat(70 * 1024)),
        )
        .await;
    assert_refusal(&big, 413, "invalid_request");
    let r = Reply::read(s.http.delete(s.url(CONSENT)).send().await.unwrap()).await;
    assert_refusal(&r, 405, "method_not_allowed");
    assert_eq!(r.header("allow").as_deref(), Some("GET, POST"));
}

/// How many authorization codes the server has stored.
pub async fn stored_codes(s: &TestServer) -> i64 {
    sqlx::query_scalar("SELECT COUNT(*) FROM codes")
        .fetch_one(&s.db().await)
        .await
        .unwrap()
}

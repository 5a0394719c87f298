//! The bearer-protected resource `/api/me` (RFC 6750): how a token may be sent, the
//! challenges and statuses of each refusal, and the JSON:API error documents.

use std::collections::BTreeSet;
use std::time::Duration;

use reqwest::Method;

use crate::common::*;

/// GETs /api/me with a literal Authorization header.
async fn me_with_authorization(s: &TestServer, value: &str) -> Reply {
    let r = s
        .http
        .get(s.url("/api/me"))
        .header("Authorization", value)
        .send()
        .await
        .unwrap();
    Reply::read(r).await
}

/// The id of a user in the server's database.
async fn user_id(s: &TestServer, email: &str) -> i64 {
    let db = s.db().await;
    sqlx::query_scalar("SELECT id FROM users WHERE email = $1")
        .bind(email)
        .fetch_one(&db)
        .await
        .unwrap()
}

/// A good token answers 200 with exactly `id` and `email` of its own user, alice or bob.
#[tokio::test]
async fn me_returns_the_tokens_user() {
    let s = TestServer::start().await;
    let alice = s.alice(BASIC).await.access_token();
    let bob = s.password(BASIC, BOB, BOB_PASSWORD, None).await;
    assert_token_ok(&bob);

    let a = s.me(&alice).await;
    assert_eq!(a.status, 200, "{a:?}");
    assert_eq!(a.media_type(), "application/json");
    let keys: BTreeSet<String> = a.json().as_object().unwrap().keys().cloned().collect();
    assert_eq!(keys, BTreeSet::from(["email".to_owned(), "id".to_owned()]));
    assert_eq!(a.json()["email"], ALICE);
    assert_eq!(a.json()["id"], user_id(&s, ALICE).await);

    let b = s.me(&bob.access_token()).await;
    assert_eq!(b.status, 200, "{b:?}");
    assert_eq!(b.json()["email"], BOB);
    assert_eq!(b.json()["id"], user_id(&s, BOB).await);
    assert_ne!(a.json()["id"], b.json()["id"]);
}

/// The `Bearer` scheme name is case-insensitive.
#[tokio::test]
async fn bearer_scheme_is_case_insensitive() {
    let s = TestServer::start().await;
    let at = s.alice(BASIC).await.access_token();
    let r = me_with_authorization(&s, &format!("bearer {at}")).await;
    assert_eq!(r.status, 200, "{r:?}");
}

/// POST with a form-body access_token works (RFC 6750 §2.2).
#[tokio::test]
async fn form_body_token_works() {
    let s = TestServer::start().await;
    let at = s.alice(BASIC).await.access_token();
    let r = s.me_form(&at).await;
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(r.json()["email"], ALICE);
}

/// POST with the token in the Authorization header works too.
#[tokio::test]
async fn post_with_header_works() {
    let s = TestServer::start().await;
    let at = s.alice(BASIC).await.access_token();
    let r = s
        .http
        .post(s.url("/api/me"))
        .bearer_auth(&at)
        .send()
        .await
        .unwrap();
    assert_eq!(Reply::read(r).await.status, 200);
}

/// No credentials: 401, `WWW-Authenticate: Bearer realm="..."` and no error attribute (RFC 6750 §3.1).
#[tokio::test]
async fn no_credentials_is_401_without_error() {
    let s = TestServer::start().await;
    let r = Reply::read(s.http.get(s.url("/api/me")).send().await.unwrap()).await;
    assert_bearer_error(&r, 401, None);
    assert_eq!(
        r.header("www-authenticate").as_deref(),
        Some(format!("Bearer realm=\"{REALM}\"").as_str())
    );
}

/// Another auth scheme (Basic) is no bearer credential: 401 without error (RFC 6750 §3.1).
#[tokio::test]
async fn other_scheme_is_401_without_error() {
    let s = TestServer::start().await;
    let r = me_with_authorization(&s, "Basic YWxpY2U6c2VjcmV0").await;
    assert_bearer_error(&r, 401, None);
}

/// A form-body token on GET is not accepted (RFC 6750 §2.2): 401 without error, never 200.
#[tokio::test]
async fn form_body_token_on_get_is_ignored() {
    let s = TestServer::start().await;
    let at = s.alice(BASIC).await.access_token();
    let r = s
        .http
        .get(s.url("/api/me"))
        .form(&[("access_token", at.as_str())])
        .send()
        .await
        .unwrap();
    assert_bearer_error(&Reply::read(r).await, 401, None);
}

/// A body token that is not form-encoded is not accepted (RFC 6750 §2.2): 401 without error.
#[tokio::test]
async fn json_body_token_is_ignored() {
    let s = TestServer::start().await;
    let at = s.alice(BASIC).await.access_token();
    let r = s
        .http
        .post(s.url("/api/me"))
        .json(&serde_json::json!({ "access_token": at }))
        .send()
        .await
        .unwrap();
    assert_bearer_error(&Reply::read(r).await, 401, None);
}

/// An unknown token is 401 with error="invalid_token".
#[tokio::test]
async fn unknown_token_is_invalid_token() {
    let s = TestServer::start().await;
    let r = s.me("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA").await;
    assert_bearer_error(&r, 401, Some("invalid_token"));
    let r = s
        .me_form("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")
        .await;
    assert_bearer_error(&r, 401, Some("invalid_token"));
}

/// A refresh token is not an access token: 401 invalid_token.
#[tokio::test]
async fn refresh_token_is_invalid_token() {
    let s = TestServer::start().await;
    let rt = s.alice(BASIC).await.refresh_token();
    assert_bearer_error(&s.me(&rt).await, 401, Some("invalid_token"));
}

/// An expired access token (access_token_ttl = 1) is 401 invalid_token.
#[tokio::test]
async fn expired_token_is_invalid_token() {
    let s = TestServer::start_with(|c| c.access_token_ttl = 1).await;
    let at = s.alice(BASIC).await.access_token();
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_bearer_error(&s.me(&at).await, 401, Some("invalid_token"));
}

/// A revoked access token is 401 invalid_token.
#[tokio::test]
async fn revoked_token_is_invalid_token() {
    let s = TestServer::start().await;
    let at = s.alice(BASIC).await.access_token();
    assert_eq!(s.revoke(BASIC, &[("token", &at)]).await.status, 200);
    assert_bearer_error(&s.me(&at).await, 401, Some("invalid_token"));
    assert_bearer_error(&s.me_form(&at).await, 401, Some("invalid_token"));
}

/// A token without scope `profile` is 403 insufficient_scope with scope="profile" in the challenge.
#[tokio::test]
async fn token_without_profile_is_insufficient_scope() {
    let s = TestServer::start().await;
    let r = s
        .password(BASIC, ALICE, ALICE_PASSWORD, Some("email"))
        .await;
    assert_token_ok(&r);
    let me = s.me(&r.access_token()).await;
    let c = assert_bearer_error(&me, 403, Some("insufficient_scope"));
    assert_eq!(c.params.get("scope").map(String::as_str), Some("profile"));
}

/// A client_credentials token carries no user: it cannot read /api/me (401 invalid_token).
#[tokio::test]
async fn client_credentials_token_cannot_read_me() {
    let s = TestServer::start().await;
    let r = s.client_credentials(BASIC, None).await;
    assert_token_ok(&r);
    assert_eq!(r.scope(), "email profile");
    assert_bearer_error(&s.me(&r.access_token()).await, 401, Some("invalid_token"));
}

/// The service client's token (scope `email` only) is 403 insufficient_scope at /api/me.
#[tokio::test]
async fn service_token_is_insufficient_scope() {
    let s = TestServer::start().await;
    let r = s.client_credentials(SERVICE, None).await;
    assert_token_ok(&r);
    let c = assert_bearer_error(
        &s.me(&r.access_token()).await,
        403,
        Some("insufficient_scope"),
    );
    assert_eq!(c.params.get("scope").map(String::as_str), Some("profile"));
}

/// A token in the header and in the body at once is 400 invalid_request (RFC 6750 §2).
#[tokio::test]
async fn token_in_header_and_body_is_invalid_request() {
    let s = TestServer::start().await;
    let at = s.alice(BASIC).await.access_token();
    let r = s
        .http
        .post(s.url("/api/me"))
        .bearer_auth(&at)
        .form(&[("access_token", at.as_str())])
        .send()
        .await
        .unwrap();
    assert_bearer_error(&Reply::read(r).await, 400, Some("invalid_request"));
}

/// `Bearer` with no token or with characters outside b64token is 400 invalid_request.
#[tokio::test]
async fn malformed_bearer_header_is_invalid_request() {
    let s = TestServer::start().await;
    let at = s.alice(BASIC).await.access_token();
    for value in [
        "Bearer".to_owned(),
        "Bearer ".to_owned(),
        "Bearer ===".to_owned(),
        format!("Bearer {at} extra"),
        format!("Bearer {at}!"),
        "Bearer a\"b".to_owned(),
        "Bearer a,b".to_owned(),
    ] {
        let r = me_with_authorization(&s, &value).await;
        assert_bearer_error(&r, 400, Some("invalid_request"));
    }
}

/// An access_token in the query string is refused with 400 invalid_request, never served.
#[tokio::test]
async fn query_token_is_invalid_request() {
    let s = TestServer::start().await;
    let at = s.alice(BASIC).await.access_token();
    let r = s
        .http
        .get(s.url(&format!("/api/me?access_token={at}")))
        .send()
        .await
        .unwrap();
    assert_bearer_error(&Reply::read(r).await, 400, Some("invalid_request"));
    // Also when a good header rides along.
    let r = s
        .http
        .get(s.url(&format!("/api/me?access_token={at}")))
        .bearer_auth(&at)
        .send()
        .await
        .unwrap();
    assert_bearer_error(&Reply::read(r).await, 400, Some("invalid_request"));
}

/// Two Authorization headers are 400 invalid_request.
#[tokio::test]
async fn repeated_authorization_header_is_invalid_request() {
    let s = TestServer::start().await;
    let at = s.alice(BASIC).await.access_token();
    let r = s
        .http
        .get(s.url("/api/me"))
        .bearer_auth(&at)
        .bearer_auth(&at)
        .send()
        .await
        .unwrap();
    assert_bearer_error(&Reply::read(r).await, 400, Some("invalid_request"));
}

/// Methods other than GET and POST are 405 with `Allow: GET, POST` and a JSON:API document.
#[tokio::test]
async fn other_methods_are_method_not_allowed() {
    let s = TestServer::start().await;
    let at = s.alice(BASIC).await.access_token();
    for method in [Method::PUT, Method::DELETE, Method::PATCH] {
        let r = s
            .http
            .request(method.clone(), s.url("/api/me"))
            .bearer_auth(&at)
            .send()
            .await
            .unwrap();
        let r = Reply::read(r).await;
        assert_eq!(r.status, 405, "{method}: {r:?}");
        assert_eq!(r.header("allow").as_deref(), Some("GET, POST"));
        assert_eq!(r.media_type(), "application/vnd.api+json");
        assert_eq!(r.json()["errors"][0]["status"], "405");
    }
}

/// A repeated form-body access_token is 400 invalid_request (RFC 6750 §3.1: "repeats the same parameter").
#[tokio::test]
async fn repeated_body_token_is_invalid_request() {
    let s = TestServer::start().await;
    let at = s.alice(BASIC).await.access_token();
    let r = s
        .http
        .post(s.url("/api/me"))
        .form(&[("access_token", at.as_str()), ("access_token", at.as_str())])
        .send()
        .await
        .unwrap();
    assert_bearer_error(&Reply::read(r).await, 400, Some("invalid_request"));
}

/// An oversized body at /api/me is refused with 413 and, like every /api/me error, a JSON:API document.
#[tokio::test]
async fn oversized_body_error_is_a_json_api_document() {
    let s = TestServer::start().await;
    let at = s.alice(BASIC).await.access_token();
    let mut body = format!("access_token={at}&pad=").into_bytes();
    body.resize(64 * 1024 + 1, b'a');
    let r = s
        .send_raw(
            Method::POST,
            "/api/me",
            &[("content-type", "application/x-www-form-urlencoded")],
            body,
        )
        .await;
    assert_eq!(r.status, 413, "{r:?}");
    assert_eq!(r.media_type(), "application/vnd.api+json", "{r:?}");
    assert_eq!(r.json()["errors"][0]["status"], "413", "{r:?}");
}

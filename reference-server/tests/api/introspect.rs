//! Token introspection (RFC 7662 §2.1-§2.3): who may ask, what an active token
//! reveals, and that every other token is exactly `{"active":false}`.

use std::time::Duration;

use serde_json::{Value, json};

use crate::common::*;
use crate::login::*;

/// Introspects as basic-client and asserts 200 with `Cache-Control: no-store`.
async fn ask(s: &TestServer, token: &str) -> Value {
    let r = introspect_basic(s, BASIC_ID, BASIC_SECRET, &[("token", token)]).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.header("cache-control").as_deref(), Some("no-store"));
    assert!(
        r.header("content-type")
            .unwrap()
            .starts_with("application/json")
    );
    r.json()
}

/// Asserts the exact inactive answer, nothing else leaked (I3; RFC 7662 §2.2).
async fn assert_inactive(s: &TestServer, token: &str) {
    assert_eq!(
        ask(s, token).await,
        json!({"active": false}),
        "token {token}"
    );
}

/// Alice's tokens from a code redeemed by basic-client.
async fn alice_code_tokens(s: &TestServer) -> Value {
    let code = basic_code(s).await;
    tokens(&redeem_basic(s, &code, &[("redirect_uri", BASIC_CALLBACK)]).await)
}

fn str_of<'a>(t: &'a Value, member: &str) -> &'a str {
    t[member]
        .as_str()
        .unwrap_or_else(|| panic!("no {member} in {t}"))
}

/// An error answer: status, error code, no-store.
fn assert_error(r: &Reply, status: u16, code: &str) {
    assert_eq!(r.status, status, "{}", r.text);
    assert_eq!(r.error(), code, "{}", r.text);
    assert_eq!(r.header("cache-control").as_deref(), Some("no-store"));
}

/// A public client may not introspect: 401 invalid_client (I2, I4).
#[tokio::test]
async fn public_client_cannot_introspect() {
    let s = TestServer::start().await;
    let t = alice_code_tokens(&s).await;
    let r = introspect_form(
        &s,
        &[
            ("token", str_of(&t, "access_token")),
            ("client_id", PUBLIC_ID),
        ],
    )
    .await;
    assert_error(&r, 401, "invalid_client");
}

/// A request without client credentials is 401 invalid_client (I2, I4).
#[tokio::test]
async fn no_credentials_is_unauthorized() {
    let s = TestServer::start().await;
    let t = alice_code_tokens(&s).await;
    let r = introspect_form(&s, &[("token", str_of(&t, "access_token"))]).await;
    assert_error(&r, 401, "invalid_client");
}

/// Wrong secrets and unknown callers are 401 invalid_client with a challenge (I4).
#[tokio::test]
async fn bad_credentials_are_invalid_client() {
    let s = TestServer::start().await;
    let t = alice_code_tokens(&s).await;
    let at = str_of(&t, "access_token");
    let r = introspect_basic(&s, BASIC_ID, "wrong-secret", &[("token", at)]).await;
    assert_error(&r, 401, "invalid_client");
    let challenge = r.header("www-authenticate").expect("no WWW-Authenticate");
    assert!(
        challenge.to_ascii_lowercase().starts_with("basic"),
        "{challenge}"
    );
    let r = introspect_basic(&s, "nobody", BASIC_SECRET, &[("token", at)]).await;
    assert_error(&r, 401, "invalid_client");
    let r = introspect_form(
        &s,
        &[
            ("token", at),
            ("client_id", POST_ID),
            ("client_secret", "wrong"),
        ],
    )
    .await;
    assert_error(&r, 401, "invalid_client");
}

/// A request without token is 400 invalid_request (I1; RFC 7662 §2.1 "token REQUIRED").
#[tokio::test]
async fn missing_token_is_invalid_request() {
    let s = TestServer::start().await;
    let r = introspect_basic(
        &s,
        BASIC_ID,
        BASIC_SECRET,
        &[("token_type_hint", "access_token")],
    )
    .await;
    assert_error(&r, 400, "invalid_request");
    let r = introspect_basic(&s, BASIC_ID, BASIC_SECRET, &[("token", "")]).await;
    assert_error(&r, 400, "invalid_request");
}

/// An active access token shows scope, client_id, username, token_type, exp, iat, sub.
#[tokio::test]
async fn active_access_token_is_described() {
    let s = TestServer::start().await;
    let before = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    let t = alice_code_tokens(&s).await;
    let d = ask(&s, str_of(&t, "access_token")).await;
    assert_eq!(d["active"], true, "{d}");
    assert_eq!(d["scope"], "email profile");
    assert_eq!(d["client_id"], BASIC_ID);
    assert_eq!(d["username"], ALICE);
    assert!(
        d["token_type"]
            .as_str()
            .unwrap()
            .eq_ignore_ascii_case("bearer"),
        "{d}"
    );
    let iat = d["iat"].as_i64().expect("no iat");
    let exp = d["exp"].as_i64().expect("no exp");
    assert!(
        iat >= before - 1 && iat <= before + 60,
        "iat {iat}, now {before}"
    );
    assert_eq!(exp - iat, t["expires_in"].as_i64().unwrap(), "{d}");
    assert!(d["sub"].as_str().is_some_and(|s| !s.is_empty()), "{d}");
}

/// A bob token names bob, not alice.
#[tokio::test]
async fn introspection_names_the_right_user() {
    let s = TestServer::start().await;
    let cb = approve_as(
        &s,
        &[
            ("response_type", "code"),
            ("client_id", BASIC_ID),
            ("redirect_uri", BASIC_CALLBACK),
        ],
        BOB,
        BOB_PASSWORD,
    )
    .await;
    let t = tokens(&redeem_basic(&s, &cb.code(), &[("redirect_uri", BASIC_CALLBACK)]).await);
    let bob = ask(&s, str_of(&t, "access_token")).await;
    assert_eq!(bob["username"], BOB);
    let alice = ask(&s, str_of(&alice_code_tokens(&s).await, "access_token")).await;
    assert_ne!(alice["sub"], bob["sub"]);
}

/// An active refresh token is active, with its client and user (RFC 7662 §2.2).
#[tokio::test]
async fn active_refresh_token_is_active() {
    let s = TestServer::start().await;
    let t = alice_code_tokens(&s).await;
    let d = ask(&s, str_of(&t, "refresh_token")).await;
    assert_eq!(d["active"], true, "{d}");
    assert_eq!(d["client_id"], BASIC_ID);
    assert_eq!(d["username"], ALICE);
    assert_eq!(d["scope"], "email profile");
}

/// A wrong token_type_hint does not hide the token (I1; RFC 7662 §2.1).
#[tokio::test]
async fn wrong_hint_still_finds_the_token() {
    let s = TestServer::start().await;
    let t = alice_code_tokens(&s).await;
    for (token, hint) in [
        (str_of(&t, "access_token"), "refresh_token"),
        (str_of(&t, "refresh_token"), "access_token"),
        (str_of(&t, "access_token"), "no_such_type"),
    ] {
        let r = introspect_basic(
            &s,
            BASIC_ID,
            BASIC_SECRET,
            &[("token", token), ("token_type_hint", hint)],
        )
        .await;
        assert_eq!(r.status, 200, "{}", r.text);
        assert_eq!(r.json()["active"], true, "hint {hint}");
    }
}

/// Expired access and refresh tokens are exactly {"active":false} (I3).
#[tokio::test]
async fn expired_tokens_are_inactive() {
    let s = TestServer::start_with(|c| c.access_token_ttl = 1).await;
    let t = alice_code_tokens(&s).await;
    tokio::time::sleep(Duration::from_millis(2200)).await;
    assert_inactive(&s, str_of(&t, "access_token")).await;
    assert_inactive(&s, str_of(&t, "refresh_token")).await;
}

/// Revoked tokens, and access tokens of a revoked refresh token, are {"active":false} (I3).
#[tokio::test]
async fn revoked_tokens_are_inactive() {
    let s = TestServer::start().await;
    let t = alice_code_tokens(&s).await;
    let at = str_of(&t, "access_token");
    let r = s
        .revoke_basic(BASIC_ID, BASIC_SECRET, &[("token", at)])
        .await;
    assert_eq!(r.status, 200);
    assert_inactive(&s, at).await;
    let t = alice_code_tokens(&s).await;
    let r = s
        .revoke_basic(
            BASIC_ID,
            BASIC_SECRET,
            &[("token", str_of(&t, "refresh_token"))],
        )
        .await;
    assert_eq!(r.status, 200);
    assert_inactive(&s, str_of(&t, "refresh_token")).await;
    assert_inactive(&s, str_of(&t, "access_token")).await;
}

/// A refresh token that was rotated is exactly {"active":false}; its successor is active.
#[tokio::test]
async fn rotated_refresh_token_is_inactive() {
    let s = TestServer::start().await;
    let t = alice_code_tokens(&s).await;
    let rt = str_of(&t, "refresh_token");
    let next = tokens(&refresh_basic(&s, BASIC_ID, BASIC_SECRET, rt).await);
    assert_inactive(&s, rt).await;
    assert_eq!(
        ask(&s, str_of(&next, "refresh_token")).await["active"],
        true
    );
}

/// Unknown tokens are 200 {"active":false}, not an error (I3, I4).
#[tokio::test]
async fn unknown_token_is_inactive() {
    let s = TestServer::start().await;
    for token in [
        "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
        "garbage",
        "ü ; = &",
    ] {
        assert_inactive(&s, token).await;
    }
    // An authorization code is not a token.
    assert_inactive(&s, &basic_code(&s).await).await;
}

/// Tokens revoked because their code was redeemed twice are exactly {"active":false}.
#[tokio::test]
async fn tokens_of_a_reused_code_are_inactive() {
    let s = TestServer::start().await;
    let code = basic_code(&s).await;
    let extra = [("redirect_uri", BASIC_CALLBACK)];
    let t = tokens(&redeem_basic(&s, &code, &extra).await);
    assert_token_error(&redeem_basic(&s, &code, &extra).await, "invalid_grant");
    assert_inactive(&s, str_of(&t, "access_token")).await;
    assert_inactive(&s, str_of(&t, "refresh_token")).await;
}

/// Every introspection answer, active, inactive or error, carries Cache-Control: no-store.
#[tokio::test]
async fn responses_are_not_cached() {
    let s = TestServer::start().await;
    let t = alice_code_tokens(&s).await;
    let at = str_of(&t, "access_token");
    let replies = [
        introspect_basic(&s, BASIC_ID, BASIC_SECRET, &[("token", at)]).await,
        introspect_basic(&s, BASIC_ID, BASIC_SECRET, &[("token", "unknown")]).await,
        introspect_basic(&s, BASIC_ID, "wrong", &[("token", at)]).await,
        introspect_basic(&s, BASIC_ID, BASIC_SECRET, &[]).await,
        introspect_form(&s, &[("token", at)]).await,
    ];
    for r in &replies {
        assert_eq!(
            r.header("cache-control").as_deref(),
            Some("no-store"),
            "{r:?}"
        );
    }
}

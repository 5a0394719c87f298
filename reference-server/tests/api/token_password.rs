//! The resource owner password credentials grant (RFC 6749 §4.3) and scope handling at
//! the token endpoint (RFC 6749 §3.3), using the password grant as the vehicle.

use std::collections::BTreeSet;

use crate::common::*;

/// A good password grant with Basic answers 200 with exactly the §5.1 members, a refresh token and the registered scope.
#[tokio::test]
async fn basic_client_gets_bearer_token_and_refresh_token() {
    let s = TestServer::start().await;
    let r = s.password(BASIC, ALICE, ALICE_PASSWORD, None).await;
    let body = assert_token_ok(&r);
    let members: BTreeSet<&str> = body
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        members,
        BTreeSet::from([
            "access_token",
            "expires_in",
            "refresh_token",
            "scope",
            "token_type"
        ])
    );
    assert_eq!(body["expires_in"], 3600);
    assert_eq!(body["scope"], "email profile");
    let at = r.access_token();
    let rt = r.refresh_token();
    assert!(is_b64token(&rt), "{rt}");
    assert_ne!(at, rt);
    // RFC 6749 §10.10: at least 128 bits; base64url carries 6 bits per character.
    assert!(at.len() >= 22 && rt.len() >= 22, "{}", r.text);
}

/// client_secret_post credentials in the body work for the post client.
#[tokio::test]
async fn post_client_gets_tokens() {
    let s = TestServer::start().await;
    let r = s.password(POST, ALICE, ALICE_PASSWORD, None).await;
    assert_token_ok(&r);
    assert_eq!(r.scope(), "email profile");
    assert!(!r.refresh_token().is_empty());
    assert_eq!(s.me(&r.access_token()).await.status, 200);
}

/// A public client authenticating with client_id alone gets tokens.
#[tokio::test]
async fn public_client_gets_tokens() {
    let s = TestServer::start().await;
    let r = s.password(PUBLIC, ALICE, ALICE_PASSWORD, None).await;
    assert_token_ok(&r);
    assert!(!r.refresh_token().is_empty());
    assert_eq!(s.me(&r.access_token()).await.status, 200);
}

/// Every grant issues fresh tokens: two logins never share an access or refresh token.
#[tokio::test]
async fn each_grant_issues_distinct_tokens() {
    let s = TestServer::start().await;
    let a = s.alice(BASIC).await;
    let b = s.alice(BASIC).await;
    assert_ne!(a.access_token(), b.access_token());
    assert_ne!(a.refresh_token(), b.refresh_token());
}

/// A wrong password is invalid_grant (RFC 6749 §5.2).
#[tokio::test]
async fn wrong_password_is_invalid_grant() {
    let s = TestServer::start().await;
    let r = s.password(BASIC, ALICE, "alice-wrong-horse", None).await;
    assert_oauth_error(&r, 400, "invalid_grant");
}

/// Another user's password does not open alice's account.
#[tokio::test]
async fn other_users_password_is_invalid_grant() {
    let s = TestServer::start().await;
    let r = s.password(BASIC, ALICE, BOB_PASSWORD, None).await;
    assert_oauth_error(&r, 400, "invalid_grant");
}

/// The password is compared case-sensitively.
#[tokio::test]
async fn password_is_case_sensitive() {
    let s = TestServer::start().await;
    let upper = ALICE_PASSWORD.to_uppercase();
    let r = s.password(BASIC, ALICE, &upper, None).await;
    assert_oauth_error(&r, 400, "invalid_grant");
}

/// An unknown user is invalid_grant, like a wrong password.
#[tokio::test]
async fn unknown_user_is_invalid_grant() {
    let s = TestServer::start().await;
    let r = s
        .password(BASIC, "mallory@example.com", ALICE_PASSWORD, None)
        .await;
    assert_oauth_error(&r, 400, "invalid_grant");
}

/// The email is matched case-insensitively and /api/me reports the stored address.
#[tokio::test]
async fn username_matches_case_insensitively() {
    let s = TestServer::start().await;
    let r = s
        .password(BASIC, "Alice@EXAMPLE.com", ALICE_PASSWORD, None)
        .await;
    assert_token_ok(&r);
    let me = s.me(&r.access_token()).await;
    assert_eq!(me.status, 200, "{me:?}");
    assert_eq!(me.json()["email"], ALICE);
}

/// A password grant without username is invalid_request (RFC 6749 §4.3.2).
#[tokio::test]
async fn missing_username_is_invalid_request() {
    let s = TestServer::start().await;
    let r = s
        .token(
            BASIC,
            &[("grant_type", "password"), ("password", ALICE_PASSWORD)],
        )
        .await;
    assert_oauth_error(&r, 400, "invalid_request");
}

/// A password grant without password is invalid_request (RFC 6749 §4.3.2).
#[tokio::test]
async fn missing_password_is_invalid_request() {
    let s = TestServer::start().await;
    let r = s
        .token(BASIC, &[("grant_type", "password"), ("username", ALICE)])
        .await;
    assert_oauth_error(&r, 400, "invalid_request");
}

/// A client not registered for the password grant is unauthorized_client (RFC 6749 §5.2).
#[tokio::test]
async fn client_without_password_grant_is_unauthorized_client() {
    let s = TestServer::start().await;
    let r = s.password(SERVICE, ALICE, ALICE_PASSWORD, None).await;
    assert_oauth_error(&r, 400, "unauthorized_client");
}

/// A bad client with a good password is invalid_client: the client is checked first.
#[tokio::test]
async fn bad_client_with_good_password_is_invalid_client() {
    let s = TestServer::start().await;
    let r = s
        .password(
            Auth::Basic(BASIC_ID, "wrong-secret-0123456789"),
            ALICE,
            ALICE_PASSWORD,
            None,
        )
        .await;
    assert_oauth_error(&r, 401, "invalid_client");
}

// ---- scope (RFC 6749 §3.3) ----

/// An omitted scope grants the client's registered scope, returned in `scope`.
#[tokio::test]
async fn omitted_scope_is_the_registered_scope() {
    let s = TestServer::start().await;
    let r = s.password(POST, BOB, BOB_PASSWORD, None).await;
    assert_token_ok(&r);
    assert_eq!(r.scope(), "email profile");
}

/// A narrower scope is granted as asked and returned.
#[tokio::test]
async fn narrower_scope_is_granted() {
    let s = TestServer::start().await;
    let r = s
        .password(BASIC, ALICE, ALICE_PASSWORD, Some("email"))
        .await;
    assert_token_ok(&r);
    assert_eq!(r.scope(), "email");
}

/// The scope is a set: any order of the registered tokens is accepted.
#[tokio::test]
async fn scope_order_does_not_matter() {
    let s = TestServer::start().await;
    let r = s
        .password(BASIC, ALICE, ALICE_PASSWORD, Some("profile email"))
        .await;
    assert_token_ok(&r);
    let granted: BTreeSet<String> = r.scope().split(' ').map(str::to_owned).collect();
    assert_eq!(
        granted,
        BTreeSet::from(["email".to_owned(), "profile".to_owned()])
    );
}

/// An unknown scope is invalid_scope.
#[tokio::test]
async fn unknown_scope_is_invalid_scope() {
    let s = TestServer::start().await;
    let r = s
        .password(BASIC, ALICE, ALICE_PASSWORD, Some("email admin"))
        .await;
    assert_oauth_error(&r, 400, "invalid_scope");
}

/// Scope tokens are case-sensitive: `EMAIL` is not `email`.
#[tokio::test]
async fn scope_is_case_sensitive() {
    let s = TestServer::start().await;
    let r = s
        .password(BASIC, ALICE, ALICE_PASSWORD, Some("EMAIL"))
        .await;
    assert_oauth_error(&r, 400, "invalid_scope");
}

/// A malformed scope (two spaces between tokens) is invalid_scope.
#[tokio::test]
async fn double_space_scope_is_invalid_scope() {
    let s = TestServer::start().await;
    let r = s
        .password(BASIC, ALICE, ALICE_PASSWORD, Some("email  profile"))
        .await;
    assert_oauth_error(&r, 400, "invalid_scope");
}

/// A scope token with a forbidden character (`"`) is invalid_scope.
#[tokio::test]
async fn scope_with_quote_is_invalid_scope() {
    let s = TestServer::start().await;
    let r = s
        .password(BASIC, ALICE, ALICE_PASSWORD, Some("email \"profile\""))
        .await;
    assert_oauth_error(&r, 400, "invalid_scope");
}

/// A user name with a NUL character (which PostgreSQL cannot take in text) or a Unicode
/// look-alike of an ASCII letter names nobody: `invalid_grant`, never a 500, on both
/// backends.
#[tokio::test]
async fn odd_user_names_are_invalid_grants() {
    let s = TestServer::start().await;
    for name in [
        "alice\0@example.com",
        "\u{212A}@example.com", // KELVIN SIGN, folded to "k" by some lower() functions
        "ALICE@EXAMPLE.COM\0",
    ] {
        let r = s.password(BASIC, name, ALICE_PASSWORD, None).await;
        assert_eq!(
            (r.status, r.error()),
            (400, "invalid_grant".to_owned()),
            "{name:?}: {r:?}"
        );
    }
    // ASCII case is folded as before.
    assert_token_ok(
        &s.password(BASIC, "ALICE@example.com", ALICE_PASSWORD, None)
            .await,
    );
}

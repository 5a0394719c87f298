//! Refreshing an access token (RFC 6749 §6) with rotation and reuse detection
//! (RFC 9700 §4.14.2).

use std::time::Duration;

use crate::common::*;

/// A refresh returns a new access and a new refresh token; the new access token works.
#[tokio::test]
async fn refresh_rotates_both_tokens() {
    let s = TestServer::start().await;
    let first = s.alice(BASIC).await;
    let r = s.refresh(BASIC, &first.refresh_token(), None).await;
    let body = assert_token_ok(&r);
    assert_eq!(body["expires_in"], 3600);
    assert_eq!(body["scope"], "email profile");
    assert_ne!(r.access_token(), first.access_token());
    assert_ne!(r.refresh_token(), first.refresh_token());
    let me = s.me(&r.access_token()).await;
    assert_eq!(me.status, 200, "{me:?}");
    assert_eq!(me.json()["email"], ALICE);
}

/// After rotation the old refresh token is dead (invalid_grant), and every rotation yields another one.
#[tokio::test]
async fn rotated_refresh_token_is_invalid_grant() {
    let s = TestServer::start().await;
    let rt1 = s.alice(BASIC).await.refresh_token();
    let r2 = s.refresh(BASIC, &rt1, None).await;
    assert_token_ok(&r2);
    let rt2 = r2.refresh_token();
    let r3 = s.refresh(BASIC, &rt2, None).await;
    assert_token_ok(&r3);
    let rt3 = r3.refresh_token();
    assert!(rt1 != rt2 && rt2 != rt3 && rt1 != rt3);
    let again = s.refresh(BASIC, &rt2, None).await;
    assert_oauth_error(&again, 400, "invalid_grant");
}

/// Replaying a rotated refresh token revokes the whole family: the newest access and refresh tokens stop working.
#[tokio::test]
async fn reuse_of_rotated_token_revokes_the_family() {
    let s = TestServer::start().await;
    let first = s.alice(BASIC).await;
    let rt1 = first.refresh_token();
    let second = s.refresh(BASIC, &rt1, None).await;
    assert_token_ok(&second);
    let (at2, rt2) = (second.access_token(), second.refresh_token());
    assert_eq!(s.me(&at2).await.status, 200);

    let replay = s.refresh(BASIC, &rt1, None).await;
    assert_oauth_error(&replay, 400, "invalid_grant");

    assert_bearer_error(&s.me(&at2).await, 401, Some("invalid_token"));
    assert_bearer_error(
        &s.me(&first.access_token()).await,
        401,
        Some("invalid_token"),
    );
    assert_oauth_error(&s.refresh(BASIC, &rt2, None).await, 400, "invalid_grant");
}

/// Reuse detection revokes only the replayed family; another grant of the same user keeps working.
#[tokio::test]
async fn reuse_leaves_other_grants_alone() {
    let s = TestServer::start().await;
    let victim = s.alice(BASIC).await.refresh_token();
    let other = s.alice(BASIC).await;
    assert_token_ok(&s.refresh(BASIC, &victim, None).await);
    assert_oauth_error(&s.refresh(BASIC, &victim, None).await, 400, "invalid_grant");
    assert_eq!(s.me(&other.access_token()).await.status, 200);
    assert_token_ok(&s.refresh(BASIC, &other.refresh_token(), None).await);
}

/// A refresh token is bound to its client: another confidential client gets invalid_grant.
#[tokio::test]
async fn refresh_token_of_another_client_is_invalid_grant() {
    let s = TestServer::start().await;
    let rt = s.alice(BASIC).await.refresh_token();
    assert_oauth_error(&s.refresh(SECOND, &rt, None).await, 400, "invalid_grant");
    assert_oauth_error(&s.refresh(POST, &rt, None).await, 400, "invalid_grant");
}

/// A public client's refresh token presented by a confidential client is invalid_grant.
#[tokio::test]
async fn public_clients_refresh_token_is_bound_too() {
    let s = TestServer::start().await;
    let rt = s.alice(PUBLIC).await.refresh_token();
    assert_oauth_error(&s.refresh(BASIC, &rt, None).await, 400, "invalid_grant");
}

/// A public client refreshes with client_id alone, and its token rotates.
#[tokio::test]
async fn public_client_refreshes_and_rotates() {
    let s = TestServer::start().await;
    let rt = s.alice(PUBLIC).await.refresh_token();
    let r = s.refresh(PUBLIC, &rt, None).await;
    assert_token_ok(&r);
    assert_ne!(r.refresh_token(), rt);
    assert_oauth_error(&s.refresh(PUBLIC, &rt, None).await, 400, "invalid_grant");
}

/// A client_secret_post client refreshes with its credentials in the body.
#[tokio::test]
async fn post_client_refreshes() {
    let s = TestServer::start().await;
    let rt = s.alice(POST).await.refresh_token();
    assert_token_ok(&s.refresh(POST, &rt, None).await);
}

/// A confidential client must authenticate to refresh (RFC 6749 §6): client_id alone is invalid_client.
#[tokio::test]
async fn confidential_client_must_authenticate_to_refresh() {
    let s = TestServer::start().await;
    let rt = s.alice(BASIC).await.refresh_token();
    let r = s.refresh(Auth::Public(BASIC_ID), &rt, None).await;
    assert_oauth_error(&r, 401, "invalid_client");
    assert_oauth_error(
        &s.refresh(Auth::Nothing, &rt, None).await,
        401,
        "invalid_client",
    );
}

/// A narrower scope narrows the access token only; the new refresh token keeps the original scope.
#[tokio::test]
async fn narrower_scope_narrows_only_the_access_token() {
    let s = TestServer::start().await;
    let rt = s.alice(BASIC).await.refresh_token();
    let narrow = s.refresh(BASIC, &rt, Some("email")).await;
    assert_token_ok(&narrow);
    assert_eq!(narrow.scope(), "email");
    // The narrowed access token lacks `profile`, which /api/me requires.
    let me = s.me(&narrow.access_token()).await;
    assert_bearer_error(&me, 403, Some("insufficient_scope"));

    let back = s.refresh(BASIC, &narrow.refresh_token(), None).await;
    assert_token_ok(&back);
    assert_eq!(back.scope(), "email profile");
    assert_eq!(s.me(&back.access_token()).await.status, 200);
}

/// A scope wider than the original grant is invalid_scope, and the refresh token survives the refusal.
#[tokio::test]
async fn wider_scope_is_invalid_scope() {
    let s = TestServer::start().await;
    let granted = s
        .password(BASIC, ALICE, ALICE_PASSWORD, Some("email"))
        .await;
    assert_token_ok(&granted);
    let rt = granted.refresh_token();
    let r = s.refresh(BASIC, &rt, Some("email profile")).await;
    assert_oauth_error(&r, 400, "invalid_scope");
    let r = s.refresh(BASIC, &rt, Some("profile")).await;
    assert_oauth_error(&r, 400, "invalid_scope");
    let ok = s.refresh(BASIC, &rt, None).await;
    assert_token_ok(&ok);
    assert_eq!(ok.scope(), "email");
}

/// An unknown scope on refresh is invalid_scope.
#[tokio::test]
async fn unknown_scope_on_refresh_is_invalid_scope() {
    let s = TestServer::start().await;
    let rt = s.alice(BASIC).await.refresh_token();
    let r = s.refresh(BASIC, &rt, Some("email admin")).await;
    assert_oauth_error(&r, 400, "invalid_scope");
}

/// A refresh request without refresh_token is invalid_request.
#[tokio::test]
async fn missing_refresh_token_is_invalid_request() {
    let s = TestServer::start().await;
    let r = s.token(BASIC, &[("grant_type", "refresh_token")]).await;
    assert_oauth_error(&r, 400, "invalid_request");
}

/// An unknown refresh token is invalid_grant.
#[tokio::test]
async fn unknown_refresh_token_is_invalid_grant() {
    let s = TestServer::start().await;
    let r = s
        .refresh(BASIC, "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", None)
        .await;
    assert_oauth_error(&r, 400, "invalid_grant");
}

/// An access token presented as refresh_token is invalid_grant.
#[tokio::test]
async fn access_token_is_not_a_refresh_token() {
    let s = TestServer::start().await;
    let at = s.alice(BASIC).await.access_token();
    assert_oauth_error(&s.refresh(BASIC, &at, None).await, 400, "invalid_grant");
}

/// With access_token_ttl = 1 the refresh token (2 x TTL) is refused after it expires.
#[tokio::test]
async fn refresh_token_expires_after_twice_the_access_ttl() {
    let s = TestServer::start_with(|c| c.access_token_ttl = 1).await;
    let fresh = s.alice(BASIC).await;
    assert_eq!(fresh.json()["expires_in"], 1);
    let stale = s.alice(BASIC).await.refresh_token();
    // The same configuration refreshes while the token is young.
    assert_token_ok(&s.refresh(BASIC, &fresh.refresh_token(), None).await);
    tokio::time::sleep(Duration::from_millis(2500)).await;
    assert_oauth_error(&s.refresh(BASIC, &stale, None).await, 400, "invalid_grant");
}

/// 32 parallel refreshes with one token: exactly one succeeds, the others are invalid_grant.
#[tokio::test]
async fn parallel_refreshes_yield_exactly_one_token() {
    let s = TestServer::start().await;
    let rt = s.alice(BASIC).await.refresh_token();
    let replies =
        futures_util::future::join_all((0..32).map(|_| s.refresh(BASIC, &rt, None))).await;
    let ok = replies.iter().filter(|r| r.status == 200).count();
    assert_eq!(ok, 1, "{replies:#?}");
    for r in replies.iter().filter(|r| r.status != 200) {
        assert_oauth_error(r, 400, "invalid_grant");
    }
}

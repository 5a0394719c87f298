//! The cache of validated access tokens never serves a revoked token: every way a token
//! dies (revocation of it or of its refresh token, refresh-token replay, code reuse) is
//! seen at `/api/me` and at introspection right after it is answered, even for a token
//! that was just served from the cache, and even while other requests race with it.

use std::sync::Arc;
use std::time::Instant;

use crate::common::*;
use crate::login::{BASIC_CALLBACK, basic_code, redeem_basic, tokens};

/// Presents the token at /api/me twice (the second from the cache) and introspects it.
async fn warm(s: &TestServer, at: &str) {
    for _ in 0..2 {
        assert_eq!(s.me(at).await.status, 200);
    }
    let r = s
        .post_form("/oauth/introspect", BASIC, &[("token", at)])
        .await;
    assert_eq!(r.json()["active"], true, "{r:?}");
}

/// The token is refused at /api/me and inactive at introspection.
async fn assert_dead(s: &TestServer, at: &str) {
    assert_bearer_error(&s.me(at).await, 401, Some("invalid_token"));
    let r = s
        .post_form("/oauth/introspect", BASIC, &[("token", at)])
        .await;
    assert_eq!(r.json(), serde_json::json!({"active": false}), "{r:?}");
}

/// A cached access token revoked directly is dead at once.
#[tokio::test]
async fn revoked_access_token_leaves_the_cache() {
    let s = TestServer::start().await;
    let at = s.alice(BASIC).await.access_token();
    warm(&s, &at).await;
    assert_eq!(s.revoke(BASIC, &[("token", &at)]).await.status, 200);
    assert_dead(&s, &at).await;
}

/// Revoking a refresh token kills the cached access tokens of its whole grant.
#[tokio::test]
async fn revoked_refresh_token_takes_cached_access_tokens() {
    let s = TestServer::start().await;
    let first = s.alice(BASIC).await;
    warm(&s, &first.access_token()).await;
    let second = s.refresh(BASIC, &first.refresh_token(), None).await;
    warm(&s, &second.access_token()).await;
    let other = s.alice(BASIC).await.access_token();
    warm(&s, &other).await;
    let r = s.revoke(BASIC, &[("token", &second.refresh_token())]).await;
    assert_eq!(r.status, 200);
    assert_dead(&s, &first.access_token()).await;
    assert_dead(&s, &second.access_token()).await;
    assert_eq!(s.me(&other).await.status, 200, "another grant is untouched");
}

/// A replayed refresh token revokes its family, cached access tokens included.
#[tokio::test]
async fn refresh_replay_takes_cached_access_tokens() {
    let s = TestServer::start().await;
    let first = s.alice(BASIC).await;
    warm(&s, &first.access_token()).await;
    let second = s.refresh(BASIC, &first.refresh_token(), None).await;
    warm(&s, &second.access_token()).await;
    let replay = s.refresh(BASIC, &first.refresh_token(), None).await;
    assert_oauth_error(&replay, 400, "invalid_grant");
    assert_dead(&s, &first.access_token()).await;
    assert_dead(&s, &second.access_token()).await;
}

/// A reused authorization code revokes the cached access token it produced.
#[tokio::test]
async fn code_reuse_takes_the_cached_access_token() {
    let s = TestServer::start().await;
    let code = basic_code(&s).await;
    let t = tokens(&redeem_basic(&s, &code, &[("redirect_uri", BASIC_CALLBACK)]).await);
    let at = t["access_token"].as_str().unwrap().to_owned();
    warm(&s, &at).await;
    let again = redeem_basic(&s, &code, &[("redirect_uri", BASIC_CALLBACK)]).await;
    assert_oauth_error(&again, 400, "invalid_grant");
    assert_dead(&s, &at).await;
}

/// Introspection of a refresh token still reads its row (token_type refresh_token) while
/// its access token sits in the cache.
#[tokio::test]
async fn refresh_token_introspection_is_not_confused_with_the_cache() {
    let s = TestServer::start().await;
    let t = s.alice(BASIC).await;
    warm(&s, &t.access_token()).await;
    let r = s
        .post_form("/oauth/introspect", BASIC, &[("token", &t.refresh_token())])
        .await;
    assert_eq!(r.json()["active"], true);
    assert_eq!(r.json()["token_type"], "refresh_token");
    assert_eq!(r.json()["username"], ALICE);
}

/// While 16 tasks keep presenting a token, it is revoked: no request that started after
/// the revocation was answered gets a 200 (20 rounds, a fresh token each).
#[tokio::test]
async fn revocation_racing_with_cached_reads() {
    let s = Arc::new(TestServer::start().await);
    for round in 0..20 {
        let at = s.alice(BASIC).await.access_token();
        assert_eq!(s.me(&at).await.status, 200);
        let done = Arc::new(std::sync::Mutex::new(None::<Instant>));
        let mut tasks = Vec::new();
        for _ in 0..16 {
            let (s, at, done) = (Arc::clone(&s), at.clone(), Arc::clone(&done));
            tasks.push(tokio::spawn(async move {
                let mut late_successes = 0;
                let mut after = 0;
                while after < 5 {
                    let started = Instant::now();
                    let status = s.me(&at).await.status;
                    let revoked_before = done.lock().unwrap().is_some_and(|t| t <= started);
                    if revoked_before {
                        after += 1;
                        if status == 200 {
                            late_successes += 1;
                        }
                    }
                }
                late_successes
            }));
        }
        let r = s.revoke(BASIC, &[("token", &at)]).await;
        assert_eq!(r.status, 200);
        *done.lock().unwrap() = Some(Instant::now());
        for t in tasks {
            assert_eq!(
                t.await.unwrap(),
                0,
                "round {round}: a revoked token was served"
            );
        }
        assert_dead(&s, &at).await;
    }
}

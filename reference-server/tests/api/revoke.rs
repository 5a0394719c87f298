//! Token revocation (RFC 7009): authenticated clients revoke their own tokens; unknown
//! tokens are not an error; refresh tokens take their grant's access tokens with them.

use crate::common::*;

/// Revoking an access token answers 200 and the token is then refused at /api/me (R104).
#[tokio::test]
async fn revoked_access_token_is_refused_at_the_resource() {
    let s = TestServer::start().await;
    let at = s.alice(BASIC).await.access_token();
    assert_eq!(s.me(&at).await.status, 200);
    let r = s.revoke(BASIC, &[("token", &at)]).await;
    assert_eq!(r.status, 200, "{r:?}");
    assert_bearer_error(&s.me(&at).await, 401, Some("invalid_token"));
}

/// Revoking one access token leaves the access token of another grant working.
#[tokio::test]
async fn revoking_one_access_token_leaves_others() {
    let s = TestServer::start().await;
    let a = s.alice(BASIC).await.access_token();
    let b = s.alice(BASIC).await.access_token();
    assert_eq!(s.revoke(BASIC, &[("token", &a)]).await.status, 200);
    assert_eq!(s.me(&b).await.status, 200);
}

/// Revoking a refresh token kills it and every access token of its grant, old and new (R102, R104).
#[tokio::test]
async fn revoking_refresh_token_kills_the_grant() {
    let s = TestServer::start().await;
    let first = s.alice(BASIC).await;
    let second = s.refresh(BASIC, &first.refresh_token(), None).await;
    assert_token_ok(&second);
    let other = s.alice(BASIC).await;

    let r = s.revoke(BASIC, &[("token", &second.refresh_token())]).await;
    assert_eq!(r.status, 200, "{r:?}");

    assert_bearer_error(
        &s.me(&first.access_token()).await,
        401,
        Some("invalid_token"),
    );
    assert_bearer_error(
        &s.me(&second.access_token()).await,
        401,
        Some("invalid_token"),
    );
    let again = s.refresh(BASIC, &second.refresh_token(), None).await;
    assert_oauth_error(&again, 400, "invalid_grant");
    // Another grant is untouched.
    assert_eq!(s.me(&other.access_token()).await.status, 200);
}

/// A refresh token is revoked with hint refresh_token and then refused at the token endpoint.
#[tokio::test]
async fn revoked_refresh_token_is_invalid_grant() {
    let s = TestServer::start().await;
    let rt = s.alice(BASIC).await.refresh_token();
    let r = s
        .revoke(
            BASIC,
            &[("token", &rt), ("token_type_hint", "refresh_token")],
        )
        .await;
    assert_eq!(r.status, 200, "{r:?}");
    assert_oauth_error(&s.refresh(BASIC, &rt, None).await, 400, "invalid_grant");
}

/// A wrong token_type_hint does not stop the revocation (R100).
#[tokio::test]
async fn wrong_hint_still_revokes() {
    let s = TestServer::start().await;
    let t = s.alice(BASIC).await;
    let at = t.access_token();
    let r = s
        .revoke(
            BASIC,
            &[("token", &at), ("token_type_hint", "refresh_token")],
        )
        .await;
    assert_eq!(r.status, 200, "{r:?}");
    assert_bearer_error(&s.me(&at).await, 401, Some("invalid_token"));

    let rt = t.refresh_token();
    let r = s
        .revoke(
            BASIC,
            &[("token", &rt), ("token_type_hint", "access_token")],
        )
        .await;
    assert_eq!(r.status, 200, "{r:?}");
    assert_oauth_error(&s.refresh(BASIC, &rt, None).await, 400, "invalid_grant");
}

/// An unknown token_type_hint value is ignored and the token is revoked.
#[tokio::test]
async fn unknown_hint_is_ignored() {
    let s = TestServer::start().await;
    let at = s.alice(BASIC).await.access_token();
    let r = s
        .revoke(BASIC, &[("token", &at), ("token_type_hint", "id_token")])
        .await;
    assert_eq!(r.status, 200, "{r:?}");
    assert_bearer_error(&s.me(&at).await, 401, Some("invalid_token"));
}

/// An unknown token is answered with 200 (R101).
#[tokio::test]
async fn unknown_token_is_200() {
    let s = TestServer::start().await;
    let r = s
        .revoke(
            BASIC,
            &[("token", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")],
        )
        .await;
    assert_eq!(r.status, 200, "{r:?}");
}

/// Revoking an already revoked token is answered with 200 (R101).
#[tokio::test]
async fn already_revoked_token_is_200() {
    let s = TestServer::start().await;
    let t = s.alice(BASIC).await;
    for token in [t.access_token(), t.refresh_token()] {
        assert_eq!(s.revoke(BASIC, &[("token", &token)]).await.status, 200);
        let r = s.revoke(BASIC, &[("token", &token)]).await;
        assert_eq!(r.status, 200, "{r:?}");
    }
}

/// A token of another client is refused with unauthorized_client and stays valid (RFC 7009 §2.1).
#[tokio::test]
async fn other_clients_token_is_refused_and_kept() {
    let s = TestServer::start().await;
    let t = s.alice(BASIC).await;
    let (at, rt) = (t.access_token(), t.refresh_token());
    let r = s.revoke(SECOND, &[("token", &at)]).await;
    assert_oauth_error(&r, 400, "unauthorized_client");
    let r = s.revoke(POST, &[("token", &rt)]).await;
    assert_oauth_error(&r, 400, "unauthorized_client");
    let r = s.revoke(PUBLIC, &[("token", &rt)]).await;
    assert_oauth_error(&r, 400, "unauthorized_client");

    assert_eq!(s.me(&at).await.status, 200);
    assert_token_ok(&s.refresh(BASIC, &rt, None).await);
}

/// Revocation requires client authentication: none, unknown or a wrong secret is 401 invalid_client, and nothing is revoked.
#[tokio::test]
async fn bad_client_authentication_is_invalid_client() {
    let s = TestServer::start().await;
    let at = s.alice(BASIC).await.access_token();
    for auth in [
        Auth::Nothing,
        Auth::Basic(BASIC_ID, "wrong-secret-0123456789"),
        Auth::Basic("nobody", "nobody-secret-0123456789"),
        Auth::Post(BASIC_ID, BASIC_SECRET),
        Auth::Public(BASIC_ID),
    ] {
        let r = s.revoke(auth, &[("token", &at)]).await;
        assert_oauth_error(&r, 401, "invalid_client");
    }
    assert_eq!(s.me(&at).await.status, 200);
}

/// A revocation request without `token` is invalid_request (RFC 7009 §2.1).
#[tokio::test]
async fn missing_token_is_invalid_request() {
    let s = TestServer::start().await;
    let r = s
        .revoke(BASIC, &[("token_type_hint", "access_token")])
        .await;
    assert_oauth_error(&r, 400, "invalid_request");
    let r = s.revoke(BASIC, &[("token", "")]).await;
    assert_oauth_error(&r, 400, "invalid_request");
}

/// A repeated `token` parameter is invalid_request.
#[tokio::test]
async fn repeated_token_is_invalid_request() {
    let s = TestServer::start().await;
    let at = s.alice(BASIC).await.access_token();
    let r = s.revoke(BASIC, &[("token", &at), ("token", &at)]).await;
    assert_oauth_error(&r, 400, "invalid_request");
    assert_eq!(s.me(&at).await.status, 200);
}

/// The post client and the public client revoke their own tokens with their registered methods.
#[tokio::test]
async fn post_and_public_clients_revoke_their_tokens() {
    let s = TestServer::start().await;
    for auth in [POST, PUBLIC] {
        let at = s.alice(auth).await.access_token();
        let r = s.revoke(auth, &[("token", &at)]).await;
        assert_eq!(r.status, 200, "{r:?}");
        assert_bearer_error(&s.me(&at).await, 401, Some("invalid_token"));
    }
}

/// Revocation accepts POST only (RFC 7009 §2.1): GET is 405.
#[tokio::test]
async fn get_is_method_not_allowed() {
    let s = TestServer::start().await;
    let at = s.alice(BASIC).await.access_token();
    let r = s
        .http
        .get(s.url(&format!("/oauth/revoke?token={at}")))
        .basic_auth(BASIC_ID, Some(BASIC_SECRET))
        .send()
        .await
        .unwrap();
    let r = Reply::read(r).await;
    assert_eq!(r.status, 405, "{r:?}");
    assert_eq!(r.header("allow").as_deref(), Some("POST"));
    assert_eq!(s.me(&at).await.status, 200);
}

/// A JSON body is not application/x-www-form-urlencoded: invalid_request (RFC 7009 §2.1).
#[tokio::test]
async fn json_body_is_invalid_request() {
    let s = TestServer::start().await;
    let at = s.alice(BASIC).await.access_token();
    let r = s
        .http
        .post(s.url("/oauth/revoke"))
        .basic_auth(BASIC_ID, Some(BASIC_SECRET))
        .json(&serde_json::json!({ "token": at }))
        .send()
        .await
        .unwrap();
    assert_oauth_error(&Reply::read(r).await, 400, "invalid_request");
    assert_eq!(s.me(&at).await.status, 200);
}

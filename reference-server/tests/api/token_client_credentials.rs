//! The client credentials grant (RFC 6749 §4.4): confidential clients only, no refresh
//! token, scope per §3.3.

use crate::common::*;

/// A confidential Basic client gets an access token, no refresh token, and its registered scope.
#[tokio::test]
async fn basic_client_gets_access_token_without_refresh_token() {
    let s = TestServer::start().await;
    let r = s.client_credentials(BASIC, None).await;
    let body = assert_token_ok(&r);
    assert_eq!(body["expires_in"], 3600);
    assert_eq!(body["scope"], "email profile");
    assert!(body.get("refresh_token").is_none(), "{}", r.text);
}

/// A client_secret_post client gets a token with its credentials in the body.
#[tokio::test]
async fn post_client_gets_access_token() {
    let s = TestServer::start().await;
    let r = s.client_credentials(POST, None).await;
    let body = assert_token_ok(&r);
    assert!(body.get("refresh_token").is_none(), "{}", r.text);
}

/// The service client gets its registered scope `email` and no refresh token.
#[tokio::test]
async fn service_client_gets_its_scope() {
    let s = TestServer::start().await;
    let r = s.client_credentials(SERVICE, None).await;
    let body = assert_token_ok(&r);
    assert_eq!(body["scope"], "email");
    assert!(body.get("refresh_token").is_none(), "{}", r.text);
}

/// A public client may not use client credentials: unauthorized_client.
#[tokio::test]
async fn public_client_is_unauthorized_client() {
    let s = TestServer::start().await;
    let r = s.client_credentials(PUBLIC, None).await;
    assert_oauth_error(&r, 400, "unauthorized_client");
}

/// The service client without its secret fails client authentication.
#[tokio::test]
async fn unauthenticated_confidential_client_is_invalid_client() {
    let s = TestServer::start().await;
    let r = s.client_credentials(Auth::Public(SERVICE_ID), None).await;
    assert_oauth_error(&r, 401, "invalid_client");
}

/// A narrower scope is granted and returned in `scope`.
#[tokio::test]
async fn narrower_scope_is_granted() {
    let s = TestServer::start().await;
    let r = s.client_credentials(BASIC, Some("email")).await;
    assert_token_ok(&r);
    assert_eq!(r.scope(), "email");
}

/// An unknown scope is invalid_scope.
#[tokio::test]
async fn unknown_scope_is_invalid_scope() {
    let s = TestServer::start().await;
    let r = s.client_credentials(BASIC, Some("admin")).await;
    assert_oauth_error(&r, 400, "invalid_scope");
}

/// A scope the client is not registered for (service-client asking `profile`) is invalid_scope.
#[tokio::test]
async fn unregistered_scope_is_invalid_scope() {
    let s = TestServer::start().await;
    let r = s.client_credentials(SERVICE, Some("profile")).await;
    assert_oauth_error(&r, 400, "invalid_scope");
    let r = s.client_credentials(SERVICE, Some("email profile")).await;
    assert_oauth_error(&r, 400, "invalid_scope");
}

/// A malformed scope (double space) is invalid_scope.
#[tokio::test]
async fn malformed_scope_is_invalid_scope() {
    let s = TestServer::start().await;
    let r = s.client_credentials(BASIC, Some("email  profile")).await;
    assert_oauth_error(&r, 400, "invalid_scope");
}

/// The service client is registered for client_credentials only: refresh_token is unauthorized_client.
#[tokio::test]
async fn service_client_refresh_is_unauthorized_client() {
    let s = TestServer::start().await;
    let r = s.refresh(SERVICE, "some-refresh-token", None).await;
    assert_oauth_error(&r, 400, "unauthorized_client");
}

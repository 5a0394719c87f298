//! Client authentication at the token endpoint (RFC 6749 §2.3, §3.2.1, §5.2): each client
//! exactly as registered, Basic credentials form-urlencoded, never in the query, never two
//! methods at once; failures are 401 invalid_client with a Basic challenge.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

use crate::common::*;

const CC: &[(&str, &str)] = &[("grant_type", "client_credentials")];

/// POSTs `form` to the token endpoint with a literal Authorization header.
async fn with_authorization(s: &TestServer, value: &str, form: &[(&str, &str)]) -> Reply {
    let r = s
        .http
        .post(s.url("/oauth/token"))
        .header("Authorization", value)
        .form(form)
        .send()
        .await
        .unwrap();
    Reply::read(r).await
}

/// `Basic base64(id ":" secret)` without form-urlencoding either part.
fn unencoded_basic(id: &str, secret: &str) -> String {
    format!("Basic {}", STANDARD.encode(format!("{id}:{secret}")))
}

/// client_secret_basic works for the Basic client.
#[tokio::test]
async fn basic_client_with_basic_succeeds() {
    let s = TestServer::start().await;
    assert_token_ok(&s.token(BASIC, CC).await);
}

/// client_secret_post works for the post client.
#[tokio::test]
async fn post_client_with_post_succeeds() {
    let s = TestServer::start().await;
    assert_token_ok(&s.token(POST, CC).await);
}

/// The Basic client sending its secret in the body (not its registered method) is invalid_client.
#[tokio::test]
async fn basic_client_with_post_is_invalid_client() {
    let s = TestServer::start().await;
    let r = s.token(Auth::Post(BASIC_ID, BASIC_SECRET), CC).await;
    assert_oauth_error(&r, 401, "invalid_client");
}

/// The post client using HTTP Basic (not its registered method) is invalid_client.
#[tokio::test]
async fn post_client_with_basic_is_invalid_client() {
    let s = TestServer::start().await;
    let r = s.token(Auth::Basic(POST_ID, POST_SECRET), CC).await;
    assert_oauth_error(&r, 401, "invalid_client");
}

/// A confidential client sending only its client_id (method none) is invalid_client.
#[tokio::test]
async fn confidential_client_without_secret_is_invalid_client() {
    let s = TestServer::start().await;
    let r = s.token(Auth::Public(BASIC_ID), CC).await;
    assert_oauth_error(&r, 401, "invalid_client");
    let r = s.token(Auth::Public(POST_ID), CC).await;
    assert_oauth_error(&r, 401, "invalid_client");
}

/// A public client presenting a secret, in the body or with Basic, is invalid_client.
#[tokio::test]
async fn public_client_with_a_secret_is_invalid_client() {
    let s = TestServer::start().await;
    let login = [
        ("grant_type", "password"),
        ("username", ALICE),
        ("password", ALICE_PASSWORD),
    ];
    let r = s
        .token(Auth::Post(PUBLIC_ID, "public-client-secret-0123"), &login)
        .await;
    assert_oauth_error(&r, 401, "invalid_client");
    let r = s
        .token(Auth::Basic(PUBLIC_ID, "public-client-secret-0123"), &login)
        .await;
    assert_oauth_error(&r, 401, "invalid_client");
}

/// The second client's secret with `:` `%` `+` `/` works when form-urlencoded before base64 (R11).
#[tokio::test]
async fn basic_secret_with_special_characters_works_encoded() {
    let s = TestServer::start().await;
    let r = s.token(SECOND, CC).await;
    assert_token_ok(&r);
}

/// The same secret sent without form-urlencoding is not the secret: invalid_client (R11).
#[tokio::test]
async fn basic_secret_with_special_characters_fails_unencoded() {
    let s = TestServer::start().await;
    let r = with_authorization(&s, &unencoded_basic(SECOND_ID, SECOND_SECRET), CC).await;
    assert_oauth_error(&r, 401, "invalid_client");
}

/// The client_id in Basic is form-urldecoded too: `basic%2Dclient` is basic-client.
#[tokio::test]
async fn basic_client_id_is_form_urldecoded() {
    let s = TestServer::start().await;
    let r = with_authorization(&s, &unencoded_basic("basic%2Dclient", BASIC_SECRET), CC).await;
    assert_token_ok(&r);
}

/// The auth-scheme name is case-insensitive: `basic` works like `Basic`.
#[tokio::test]
async fn basic_scheme_is_case_insensitive() {
    let s = TestServer::start().await;
    let value = unencoded_basic(BASIC_ID, BASIC_SECRET).replacen("Basic", "basic", 1);
    assert_token_ok(&with_authorization(&s, &value, CC).await);
}

/// An unknown client is invalid_client whichever method it uses.
#[tokio::test]
async fn unknown_client_is_invalid_client() {
    let s = TestServer::start().await;
    let r = s
        .token(Auth::Basic("nobody", "nobody-secret-0123456789"), CC)
        .await;
    assert_oauth_error(&r, 401, "invalid_client");
    let r = s
        .token(Auth::Post("nobody", "nobody-secret-0123456789"), CC)
        .await;
    assert_oauth_error(&r, 401, "invalid_client");
    let login = [
        ("grant_type", "password"),
        ("username", ALICE),
        ("password", ALICE_PASSWORD),
    ];
    let r = s.token(Auth::Public("nobody"), &login).await;
    assert_oauth_error(&r, 401, "invalid_client");
}

/// A wrong secret is invalid_client with Basic and with post.
#[tokio::test]
async fn wrong_secret_is_invalid_client() {
    let s = TestServer::start().await;
    let r = s
        .token(Auth::Basic(BASIC_ID, "basic-client-secret-012345678"), CC)
        .await;
    assert_oauth_error(&r, 401, "invalid_client");
    let r = s
        .token(Auth::Post(POST_ID, "post-client-secret-01234567890"), CC)
        .await;
    assert_oauth_error(&r, 401, "invalid_client");
    let r = s.token(Auth::Basic(SECOND_ID, "second:secret"), CC).await;
    assert_oauth_error(&r, 401, "invalid_client");
}

/// A request with no client credentials at all is invalid_client.
#[tokio::test]
async fn no_credentials_is_invalid_client() {
    let s = TestServer::start().await;
    let r = s.token(Auth::Nothing, CC).await;
    assert_oauth_error(&r, 401, "invalid_client");
}

/// Malformed Basic credentials (not base64, no colon, empty id, another scheme) are invalid_client.
#[tokio::test]
async fn malformed_authorization_is_invalid_client() {
    let s = TestServer::start().await;
    let no_colon = format!("Basic {}", STANDARD.encode("basic-client"));
    let empty_id = format!("Basic {}", STANDARD.encode(format!(":{BASIC_SECRET}")));
    let bad_escape = format!("Basic {}", STANDARD.encode("basic-client:%zz"));
    for value in [
        "Basic !!!not-base64!!!",
        "Basic",
        no_colon.as_str(),
        empty_id.as_str(),
        bad_escape.as_str(),
        "Bearer some-token",
    ] {
        let r = with_authorization(&s, value, CC).await;
        assert_oauth_error(&r, 401, "invalid_client");
    }
}

/// client_id and client_secret in the query string are refused with invalid_request (R13).
#[tokio::test]
async fn credentials_in_query_are_invalid_request() {
    let s = TestServer::start().await;
    let url = s.url(&format!(
        "/oauth/token?client_id={POST_ID}&client_secret={POST_SECRET}"
    ));
    let r = s.http.post(url).form(CC).send().await.unwrap();
    assert_oauth_error(&Reply::read(r).await, 400, "invalid_request");
}

/// A client_secret in the query is refused even next to valid Basic credentials (R13).
#[tokio::test]
async fn secret_in_query_beside_basic_is_invalid_request() {
    let s = TestServer::start().await;
    let url = s.url(&format!("/oauth/token?client_secret={BASIC_SECRET}"));
    let rb = BASIC.apply(s.http.post(url), CC);
    let r = Reply::read(rb.send().await.unwrap()).await;
    assert_oauth_error(&r, 400, "invalid_request");
}

/// A public client's client_id in the query instead of the body is refused (R13).
#[tokio::test]
async fn public_client_id_in_query_is_invalid_request() {
    let s = TestServer::start().await;
    let url = s.url(&format!("/oauth/token?client_id={PUBLIC_ID}"));
    let login = [
        ("grant_type", "password"),
        ("username", ALICE),
        ("password", ALICE_PASSWORD),
    ];
    let r = s.http.post(url).form(&login).send().await.unwrap();
    assert_oauth_error(&Reply::read(r).await, 400, "invalid_request");
}

/// Basic together with client_secret in the body is two methods: invalid_request (R14).
#[tokio::test]
async fn basic_and_body_secret_is_invalid_request() {
    let s = TestServer::start().await;
    let form = [
        ("grant_type", "client_credentials"),
        ("client_secret", BASIC_SECRET),
    ];
    let r = s.token(BASIC, &form).await;
    assert_oauth_error(&r, 400, "invalid_request");
}

/// Basic with the same client_id repeated in the body is accepted.
#[tokio::test]
async fn basic_with_matching_body_client_id_succeeds() {
    let s = TestServer::start().await;
    let form = [
        ("grant_type", "client_credentials"),
        ("client_id", BASIC_ID),
    ];
    assert_token_ok(&s.token(BASIC, &form).await);
}

/// Basic naming one client and the body naming another is invalid_request.
#[tokio::test]
async fn basic_with_other_body_client_id_is_invalid_request() {
    let s = TestServer::start().await;
    let form = [("grant_type", "client_credentials"), ("client_id", POST_ID)];
    let r = s.token(BASIC, &form).await;
    assert_oauth_error(&r, 400, "invalid_request");
}

/// Two Authorization headers in one request are invalid_request.
#[tokio::test]
async fn repeated_authorization_header_is_invalid_request() {
    let s = TestServer::start().await;
    let value = unencoded_basic(BASIC_ID, BASIC_SECRET);
    let r = s
        .http
        .post(s.url("/oauth/token"))
        .header("Authorization", value.as_str())
        .header("Authorization", value.as_str())
        .form(CC)
        .send()
        .await
        .unwrap();
    assert_oauth_error(&Reply::read(r).await, 400, "invalid_request");
}

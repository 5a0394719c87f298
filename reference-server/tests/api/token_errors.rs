//! Rules every token request follows (RFC 6749 §3.2, §5.1, §5.2): POST only, parameters
//! at most once, unknown ones ignored, empty ones omitted, grant types, the error body,
//! and the no-store headers on every response.

use reqwest::Method;

use crate::common::*;

const LOGIN: &[(&str, &str)] = &[
    ("grant_type", "password"),
    ("username", ALICE),
    ("password", ALICE_PASSWORD),
];

/// GET on the token endpoint is refused with 405 and `Allow: POST` (RFC 6749 §3.2).
#[tokio::test]
async fn get_is_method_not_allowed() {
    let s = TestServer::start().await;
    let url = s.url("/oauth/token?grant_type=client_credentials");
    let rb = s.http.get(url).basic_auth(BASIC_ID, Some(BASIC_SECRET));
    let r = Reply::read(rb.send().await.unwrap()).await;
    assert_eq!(r.status, 405, "{r:?}");
    assert_eq!(r.header("allow").as_deref(), Some("POST"));
    assert_no_store(&r);
}

/// PUT, DELETE and PATCH on the token endpoint are 405 as well.
#[tokio::test]
async fn other_methods_are_method_not_allowed() {
    let s = TestServer::start().await;
    for method in [Method::PUT, Method::DELETE, Method::PATCH] {
        let rb = BASIC.apply(s.http.request(method.clone(), s.url("/oauth/token")), LOGIN);
        let r = Reply::read(rb.send().await.unwrap()).await;
        assert_eq!(r.status, 405, "{method}: {r:?}");
        assert_eq!(r.header("allow").as_deref(), Some("POST"));
    }
}

/// A request without grant_type is invalid_request.
#[tokio::test]
async fn missing_grant_type_is_invalid_request() {
    let s = TestServer::start().await;
    let r = s.token(BASIC, &[("scope", "email")]).await;
    assert_oauth_error(&r, 400, "invalid_request");
}

/// An unknown grant_type is unsupported_grant_type.
#[tokio::test]
async fn unknown_grant_type_is_unsupported_grant_type() {
    let s = TestServer::start().await;
    let r = s.token(BASIC, &[("grant_type", "magic")]).await;
    assert_oauth_error(&r, 400, "unsupported_grant_type");
    let r = s
        .token(
            BASIC,
            &[("grant_type", "urn:ietf:params:oauth:grant-type:jwt-bearer")],
        )
        .await;
    assert_oauth_error(&r, 400, "unsupported_grant_type");
}

/// grant_type values are case-sensitive: `PASSWORD` is not `password`.
#[tokio::test]
async fn grant_type_is_case_sensitive() {
    let s = TestServer::start().await;
    let r = s
        .token(
            BASIC,
            &[
                ("grant_type", "PASSWORD"),
                ("username", ALICE),
                ("password", ALICE_PASSWORD),
            ],
        )
        .await;
    assert_oauth_error(&r, 400, "unsupported_grant_type");
}

/// Grant types this server does not implement (device code, JWT bearer) are unsupported_grant_type.
#[tokio::test]
async fn unimplemented_grant_types_are_unsupported_grant_type() {
    let s = TestServer::start().await;
    for grant in [
        "urn:ietf:params:oauth:grant-type:device_code",
        "urn:ietf:params:oauth:grant-type:jwt-bearer",
        "implicit",
    ] {
        let r = s
            .token(BASIC, &[("grant_type", grant), ("code", "some-code")])
            .await;
        assert_oauth_error(&r, 400, "unsupported_grant_type");
    }
}

/// With password_grant = false the password grant is unsupported_grant_type; other grants still work.
#[tokio::test]
async fn disabled_password_grant_is_unsupported_grant_type() {
    let s = TestServer::start_with(|c| c.password_grant = false).await;
    let r = s.token(BASIC, LOGIN).await;
    assert_oauth_error(&r, 400, "unsupported_grant_type");
    let r = s.token(PUBLIC, LOGIN).await;
    assert_oauth_error(&r, 400, "unsupported_grant_type");
    assert_token_ok(&s.client_credentials(BASIC, None).await);
}

/// A repeated grant_type is invalid_request (R7).
#[tokio::test]
async fn repeated_grant_type_is_invalid_request() {
    let s = TestServer::start().await;
    let r = s
        .token(
            BASIC,
            &[
                ("grant_type", "client_credentials"),
                ("grant_type", "client_credentials"),
            ],
        )
        .await;
    assert_oauth_error(&r, 400, "invalid_request");
}

/// A repeated parameter is invalid_request even when the values agree or one is empty (R7).
#[tokio::test]
async fn repeated_parameters_are_invalid_request() {
    let s = TestServer::start().await;
    for (name, first, second) in [
        ("scope", "email", "email"),
        ("username", ALICE, ALICE),
        ("password", "", ALICE_PASSWORD),
        ("unknown_extension", "a", "b"),
    ] {
        let mut form = vec![("grant_type", "password")];
        if name != "username" {
            form.push(("username", ALICE));
        }
        if name != "password" {
            form.push(("password", ALICE_PASSWORD));
        }
        form.push((name, first));
        form.push((name, second));
        let r = s.token(BASIC, &form).await;
        assert_oauth_error(&r, 400, "invalid_request");
    }
}

/// A client_secret repeated in the body is invalid_request.
#[tokio::test]
async fn repeated_client_secret_is_invalid_request() {
    let s = TestServer::start().await;
    let form = [
        ("grant_type", "client_credentials"),
        ("client_secret", POST_SECRET),
    ];
    let r = s.token(POST, &form).await;
    assert_oauth_error(&r, 400, "invalid_request");
}

/// Unknown parameters are ignored (R7).
#[tokio::test]
async fn unknown_parameters_are_ignored() {
    let s = TestServer::start().await;
    let form = [
        ("grant_type", "password"),
        ("username", ALICE),
        ("password", ALICE_PASSWORD),
        ("foo", "bar"),
        ("response_type", "code"),
        ("nonce", "n-0S6_WzA2Mj"),
    ];
    let r = s.token(BASIC, &form).await;
    assert_token_ok(&r);
}

/// An empty grant_type is treated as omitted: invalid_request, not unsupported_grant_type.
#[tokio::test]
async fn empty_grant_type_is_missing() {
    let s = TestServer::start().await;
    let r = s.token(BASIC, &[("grant_type", "")]).await;
    assert_oauth_error(&r, 400, "invalid_request");
}

/// An empty scope is treated as omitted: the registered scope is granted.
#[tokio::test]
async fn empty_scope_is_omitted() {
    let s = TestServer::start().await;
    let r = s.password(BASIC, ALICE, ALICE_PASSWORD, Some("")).await;
    assert_token_ok(&r);
    assert_eq!(r.scope(), "email profile");
}

/// An empty password is treated as omitted: invalid_request.
#[tokio::test]
async fn empty_password_is_missing() {
    let s = TestServer::start().await;
    let r = s.password(BASIC, ALICE, "", None).await;
    assert_oauth_error(&r, 400, "invalid_request");
}

/// An empty client_secret is treated as omitted: the post client is then unauthenticated.
#[tokio::test]
async fn empty_client_secret_is_missing() {
    let s = TestServer::start().await;
    let r = s.token(Auth::Post(POST_ID, ""), LOGIN).await;
    assert_oauth_error(&r, 401, "invalid_client");
}

/// An empty unknown parameter changes nothing.
#[tokio::test]
async fn empty_unknown_parameter_is_ignored() {
    let s = TestServer::start().await;
    let mut form = LOGIN.to_vec();
    form.push(("state", ""));
    assert_token_ok(&s.token(BASIC, &form).await);
}

/// Every error body is a JSON object with an `error` from the §5.2 set and a description in the allowed charset.
#[tokio::test]
async fn error_bodies_follow_section_5_2() {
    let s = TestServer::start().await;
    let hostile = "\"quote\\back\u{e9}\u{7}\ttab";
    let cases: Vec<Reply> = vec![
        s.token(BASIC, &[]).await,
        s.token(BASIC, &[("grant_type", hostile)]).await,
        s.token(Auth::Basic(hostile, hostile), LOGIN).await,
        s.token(Auth::Post(hostile, hostile), LOGIN).await,
        s.password(BASIC, hostile, hostile, None).await,
        s.password(BASIC, ALICE, ALICE_PASSWORD, Some(hostile))
            .await,
        s.refresh(BASIC, hostile, None).await,
        s.client_credentials(PUBLIC, None).await,
        s.token(BASIC, &[(hostile, "x"), (hostile, "y")]).await,
    ];
    for r in &cases {
        assert!(r.status == 400 || r.status == 401, "{r:?}");
        let code = r.error();
        assert!(TOKEN_ERRORS.contains(&code.as_str()), "{r:?}");
        assert_oauth_error(r, r.status, &code);
        assert!(!r.text.contains("quote"), "input echoed: {}", r.text);
    }
}

/// Success responses of every grant carry Cache-Control: no-store and Pragma: no-cache.
#[tokio::test]
async fn token_responses_are_not_cached() {
    let s = TestServer::start().await;
    let login = s.token(BASIC, LOGIN).await;
    assert_no_store(&login);
    assert_no_store(&s.client_credentials(BASIC, None).await);
    assert_no_store(&s.refresh(BASIC, &login.refresh_token(), None).await);
}

/// Error responses carry Cache-Control: no-store and Pragma: no-cache too.
#[tokio::test]
async fn token_errors_are_not_cached() {
    let s = TestServer::start().await;
    for r in [
        s.token(Auth::Nothing, LOGIN).await,
        s.token(BASIC, &[("grant_type", "magic")]).await,
        s.password(BASIC, ALICE, "wrong", None).await,
        s.refresh(BASIC, "unknown", None).await,
    ] {
        assert_ne!(r.status, 200, "{r:?}");
        assert_no_store(&r);
    }
}

//! Pushed authorization requests (RFC 9126): the PAR endpoint, and the authorization
//! endpoint taking `client_id` + `request_uri` with the pushed parameters only.

use std::time::Duration;

use crate::common::*;
use crate::login::{
    BASIC_CALLBACK, Browser, Callback, PUBLIC_CALLBACK, VERIFIER, redeem_basic, redeem_public, s256,
};

const PREFIX: &str = "urn:ietf:params:oauth:request_uri:";

/// Pushes `form` to the PAR endpoint with `auth`.
async fn push(s: &TestServer, auth: Auth<'_>, form: &[(&str, &str)]) -> Reply {
    s.post_form("/oauth/par", auth, form).await
}

/// A request of basic-client, pushed; returns its request_uri.
async fn pushed_basic(s: &TestServer, state: &str) -> String {
    let r = push(
        s,
        BASIC,
        &[
            ("response_type", "code"),
            ("redirect_uri", BASIC_CALLBACK),
            ("scope", "profile"),
            ("state", state),
        ],
    )
    .await;
    assert_eq!(r.status, 201, "{r:?}");
    r.json()["request_uri"].as_str().unwrap().to_owned()
}

/// Opens the authorization endpoint with `params` and approves as alice.
async fn approve(s: &TestServer, params: &[(&str, &str)]) -> Reply {
    let b = Browser::new(s);
    let page = b.open(params).await;
    assert_eq!(page.status, 200, "login page expected: {page:?}");
    b.answer(&page, Some(ALICE), Some(ALICE_PASSWORD), "approve")
        .await
}

/// 201 with a request_uri of the RFC's form (at least 128 random bits) and expires_in,
/// not cached.
#[tokio::test]
async fn push_answers_201_with_a_request_uri() {
    let s = TestServer::start().await;
    let r = push(
        &s,
        BASIC,
        &[("response_type", "code"), ("redirect_uri", BASIC_CALLBACK)],
    )
    .await;
    assert_eq!(r.status, 201, "{r:?}");
    assert_eq!(r.header("cache-control").as_deref(), Some("no-store"));
    let body = r.json();
    let uri = body["request_uri"].as_str().unwrap();
    let reference = uri
        .strip_prefix(PREFIX)
        .expect("urn:ietf:params:oauth:request_uri:");
    assert!(reference.len() >= 22, "at least 128 bits: {reference}");
    assert_eq!(body["expires_in"], 60);
    let again = push(
        &s,
        BASIC,
        &[("response_type", "code"), ("redirect_uri", BASIC_CALLBACK)],
    )
    .await;
    assert_ne!(again.json()["request_uri"], body["request_uri"]);
}

/// The whole flow: pushed, opened with client_id and request_uri, approved; the code
/// carries the pushed state and scope, and query parameters beside request_uri are
/// ignored.
#[tokio::test]
async fn pushed_request_flow() {
    let s = TestServer::start().await;
    let uri = pushed_basic(&s, "pushed-state").await;
    let r = approve(
        &s,
        &[
            ("client_id", BASIC_ID),
            ("request_uri", &uri),
            ("state", "query-state"),
            ("scope", "email"),
        ],
    )
    .await;
    assert_eq!(r.status, 303, "{r:?}");
    let cb = Callback::from_reply(&r);
    assert!(cb.location.starts_with(BASIC_CALLBACK), "{}", cb.location);
    assert_eq!(cb.get("state"), Some("pushed-state"));
    let tokens = redeem_basic(&s, &cb.code(), &[("redirect_uri", BASIC_CALLBACK)]).await;
    assert_token_ok(&tokens);
    assert_eq!(tokens.scope(), "profile");
}

/// A request_uri is used once: after the approval, it is refused.
#[tokio::test]
async fn request_uri_is_single_use() {
    let s = TestServer::start().await;
    let uri = pushed_basic(&s, "s").await;
    let params = [("client_id", BASIC_ID), ("request_uri", uri.as_str())];
    let b = Browser::new(&s);
    let page = b.open(&params).await;
    assert_eq!(page.status, 200);
    // Two tabs with the same pushed request: the second answer finds it used.
    let second = Browser::new(&s);
    let page2 = second.open(&params).await;
    assert_eq!(page2.status, 200);
    let r = b
        .answer(&page, Some(ALICE), Some(ALICE_PASSWORD), "approve")
        .await;
    assert_eq!(r.status, 303, "{r:?}");
    let r2 = second
        .answer(&page2, Some(ALICE), Some(ALICE_PASSWORD), "approve")
        .await;
    assert_eq!(r2.status, 400, "{r2:?}");
    assert!(r2.header("location").is_none());
    let reopened = Browser::new(&s).open(&params).await;
    assert_eq!(reopened.status, 400, "{reopened:?}");
}

/// A request_uri works only for the client that pushed it.
#[tokio::test]
async fn request_uri_is_bound_to_its_client() {
    let s = TestServer::start().await;
    let uri = pushed_basic(&s, "s").await;
    let r = Browser::new(&s)
        .open(&[("client_id", POST_ID), ("request_uri", &uri)])
        .await;
    assert_eq!(r.status, 400, "{r:?}");
    assert!(r.header("location").is_none());
    // Still usable by its own client.
    let ok = approve(&s, &[("client_id", BASIC_ID), ("request_uri", &uri)]).await;
    assert_eq!(ok.status, 303, "{ok:?}");
}

/// An expired request_uri is refused; unknown ones too.
#[tokio::test]
async fn expired_and_unknown_request_uris_are_refused() {
    let s = TestServer::start_with(|c| c.par_ttl = 1).await;
    let uri = pushed_basic(&s, "s").await;
    tokio::time::sleep(Duration::from_millis(2100)).await;
    let r = Browser::new(&s)
        .open(&[("client_id", BASIC_ID), ("request_uri", &uri)])
        .await;
    assert_eq!(r.status, 400, "{r:?}");
    for unknown in [
        format!("{PREFIX}nope"),
        "https://elsewhere.example/r".to_owned(),
    ] {
        let r = Browser::new(&s)
            .open(&[("client_id", BASIC_ID), ("request_uri", &unknown)])
            .await;
        assert_eq!(r.status, 400, "{r:?}");
    }
}

/// The PAR endpoint authenticates the client as the token endpoint does.
#[tokio::test]
async fn push_authenticates_the_client() {
    let s = TestServer::start().await;
    let form = [("response_type", "code"), ("redirect_uri", BASIC_CALLBACK)];
    let r = push(&s, Auth::Basic(BASIC_ID, "wrong-secret"), &form).await;
    assert_eq!(
        (r.status, r.error()),
        (401, "invalid_client".to_owned()),
        "{r:?}"
    );
    assert!(r.header("www-authenticate").is_some());
    let r = push(&s, Auth::Nothing, &form).await;
    assert_eq!(r.error(), "invalid_client", "{r:?}");
    // client_secret_post works for its client; a client_id naming another client is refused.
    let r = push(
        &s,
        POST,
        &[
            ("response_type", "code"),
            ("redirect_uri", crate::login::POST_CALLBACK),
        ],
    )
    .await;
    assert_eq!(r.status, 201, "{r:?}");
    let r = push(
        &s,
        BASIC,
        &[("response_type", "code"), ("client_id", POST_ID)],
    )
    .await;
    assert_eq!(r.status, 400, "{r:?}");
}

/// What the authorization endpoint would refuse is refused when pushed, and request_uri
/// cannot be pushed.
#[tokio::test]
async fn pushed_parameters_are_validated() {
    let s = TestServer::start().await;
    for (form, error) in [
        (
            vec![
                ("response_type", "code"),
                ("redirect_uri", "https://evil.example/cb"),
            ],
            "invalid_request",
        ),
        (
            vec![("response_type", "token"), ("redirect_uri", BASIC_CALLBACK)],
            "unsupported_response_type",
        ),
        (
            vec![
                ("response_type", "code"),
                ("redirect_uri", BASIC_CALLBACK),
                ("scope", "no-such-scope"),
            ],
            "invalid_scope",
        ),
        (
            vec![
                ("response_type", "code"),
                ("redirect_uri", BASIC_CALLBACK),
                ("request_uri", "urn:ietf:params:oauth:request_uri:x"),
            ],
            "invalid_request",
        ),
    ] {
        let r = push(&s, BASIC, &form).await;
        assert_eq!(
            (r.status, r.error()),
            (400, error.to_owned()),
            "{form:?}: {r:?}"
        );
    }
    let r = s.http.get(s.url("/oauth/par")).send().await.unwrap();
    let r = Reply::read(r).await;
    assert_eq!(r.status, 405);
    assert_eq!(r.header("allow").as_deref(), Some("POST"));
}

/// A public client pushes its PKCE challenge; the code needs the verifier.
#[tokio::test]
async fn pkce_through_par() {
    let s = TestServer::start().await;
    let challenge = s256(VERIFIER);
    let r = push(
        &s,
        PUBLIC,
        &[
            ("response_type", "code"),
            ("redirect_uri", PUBLIC_CALLBACK),
            ("code_challenge", &challenge),
            ("code_challenge_method", "S256"),
        ],
    )
    .await;
    assert_eq!(r.status, 201, "{r:?}");
    let uri = r.json()["request_uri"].as_str().unwrap().to_owned();
    let cb = Callback::from_reply(
        &approve(&s, &[("client_id", PUBLIC_ID), ("request_uri", &uri)]).await,
    );
    let refused = redeem_public(&s, &cb.code(), &[]).await;
    assert_eq!(refused.error(), "invalid_grant", "{refused:?}");
    // A redemption without the verifier is refused before the code is used.
    let ok = redeem_public(&s, &cb.code(), &[("code_verifier", VERIFIER)]).await;
    assert_token_ok(&ok);
}

/// With --require-par, a request that was not pushed is refused with an error page,
/// the metadata says so, and pushed requests work.
#[tokio::test]
async fn par_required() {
    let s = TestServer::start_with(|c| c.require_par = true).await;
    let r = Browser::new(&s)
        .open(&[
            ("response_type", "code"),
            ("client_id", BASIC_ID),
            ("redirect_uri", BASIC_CALLBACK),
        ])
        .await;
    assert_eq!(r.status, 400, "{r:?}");
    assert!(r.header("location").is_none());
    let meta = crate::login::metadata(&s).await;
    assert_eq!(meta["require_pushed_authorization_requests"], true);
    assert_eq!(
        meta["pushed_authorization_request_endpoint"],
        s.url("/oauth/par")
    );
    let uri = pushed_basic(&s, "s").await;
    assert_eq!(
        approve(&s, &[("client_id", BASIC_ID), ("request_uri", &uri)])
            .await
            .status,
        303
    );
}

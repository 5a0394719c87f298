//! The authorization code at the token endpoint (RFC 6749 §4.1.3, §4.1.4, §5, §10.5,
//! §10.6): redemption per client authentication method, binding to client and
//! redirection URI, single use, expiry.

use std::time::Duration;

use crate::common::*;
use crate::login::*;

/// basic-client redeems alice's code with HTTP Basic and gets tokens that act as alice.
#[tokio::test]
async fn basic_client_redeems_code() {
    let s = TestServer::start().await;
    let code = basic_code(&s).await;
    let r = redeem_basic(&s, &code, &[("redirect_uri", BASIC_CALLBACK)]).await;
    let t = tokens(&r);
    assert_eq!(r.header("pragma").as_deref(), Some("no-cache"));
    assert!(
        r.header("content-type")
            .unwrap()
            .starts_with("application/json")
    );
    assert!(t["expires_in"].as_i64().is_some_and(|e| e > 0));
    assert_eq!(t["scope"], "email profile");
    let rt = t["refresh_token"].as_str().expect("no refresh token");
    let me = s.me(t["access_token"].as_str().unwrap()).await;
    assert_eq!(me.status, 200, "{}", me.text);
    assert_eq!(me.json()["email"], ALICE);
    let r = refresh_basic(&s, BASIC_ID, BASIC_SECRET, rt).await;
    let t2 = tokens(&r);
    assert_eq!(
        s.me(t2["access_token"].as_str().unwrap()).await.json()["email"],
        ALICE
    );
}

/// post-client redeems bob's code with client_secret in the body and acts as bob.
#[tokio::test]
async fn post_client_redeems_code() {
    let s = TestServer::start().await;
    let cb = approve_as(
        &s,
        &[
            ("response_type", "code"),
            ("client_id", POST_ID),
            ("redirect_uri", POST_CALLBACK),
        ],
        BOB,
        BOB_PASSWORD,
    )
    .await;
    let r = s
        .token_form(&[
            ("grant_type", "authorization_code"),
            ("code", &cb.code()),
            ("redirect_uri", POST_CALLBACK),
            ("client_id", POST_ID),
            ("client_secret", POST_SECRET),
        ])
        .await;
    let t = tokens(&r);
    assert!(t["refresh_token"].as_str().is_some());
    let me = s.me(t["access_token"].as_str().unwrap()).await;
    assert_eq!(me.status, 200);
    assert_eq!(me.json()["email"], BOB);
}

/// public-client redeems with client_id and its PKCE verifier; its refresh token works.
#[tokio::test]
async fn public_client_redeems_code_with_pkce() {
    let s = TestServer::start().await;
    let code = public_code(&s, VERIFIER).await;
    let t = tokens(&redeem_public(&s, &code, &[("code_verifier", VERIFIER)]).await);
    let me = s.me(t["access_token"].as_str().unwrap()).await;
    assert_eq!(me.json()["email"], ALICE);
    let rt = t["refresh_token"].as_str().expect("no refresh token");
    let r = s
        .token_form(&[
            ("grant_type", "refresh_token"),
            ("refresh_token", rt),
            ("client_id", PUBLIC_ID),
        ])
        .await;
    tokens(&r);
}

/// second-client, whose secret needs form-urlencoding in Basic, redeems its code (R11).
#[tokio::test]
async fn second_client_redeems_with_encoded_basic() {
    let s = TestServer::start().await;
    let code = code_for(
        &s,
        &[
            ("response_type", "code"),
            ("client_id", SECOND_ID),
            ("redirect_uri", SECOND_CALLBACK),
        ],
    )
    .await;
    let r = s
        .token_basic(
            SECOND_ID,
            SECOND_SECRET,
            &[
                ("grant_type", "authorization_code"),
                ("code", &code),
                ("redirect_uri", SECOND_CALLBACK),
            ],
        )
        .await;
    tokens(&r);
}

/// The user who approved is the one the tokens represent: alice and bob do not mix.
#[tokio::test]
async fn tokens_represent_the_approving_user() {
    let s = TestServer::start().await;
    let req = [
        ("response_type", "code"),
        ("client_id", BASIC_ID),
        ("redirect_uri", BASIC_CALLBACK),
    ];
    let alice = approve_as(&s, &req, ALICE, ALICE_PASSWORD).await.code();
    let bob = approve_as(&s, &req, BOB, BOB_PASSWORD).await.code();
    let extra = [("redirect_uri", BASIC_CALLBACK)];
    let bob_t = tokens(&redeem_basic(&s, &bob, &extra).await);
    let alice_t = tokens(&redeem_basic(&s, &alice, &extra).await);
    let who = |t: &serde_json::Value| t["access_token"].as_str().unwrap().to_owned();
    assert_eq!(s.me(&who(&alice_t)).await.json()["email"], ALICE);
    assert_eq!(s.me(&who(&bob_t)).await.json()["email"], BOB);
}

/// A redirect_uri sent when authorizing must be repeated, else invalid_grant (R39).
#[tokio::test]
async fn redirect_uri_required_when_sent() {
    let s = TestServer::start().await;
    let code = basic_code(&s).await;
    assert_token_error(&redeem_basic(&s, &code, &[]).await, "invalid_grant");
}

/// A redirect_uri differing from the authorization request's is invalid_grant (R39).
#[tokio::test]
async fn redirect_uri_must_be_identical() {
    let s = TestServer::start().await;
    for other in [
        BASIC_OTHER,
        "https://basic.example/callback/",
        "https://basic.example/callback?x=1",
        "https://evil.example/callback",
    ] {
        let code = basic_code(&s).await;
        let r = redeem_basic(&s, &code, &[("redirect_uri", other)]).await;
        assert_token_error(&r, "invalid_grant");
    }
}

/// A code requested without redirect_uri is redeemed without it.
#[tokio::test]
async fn omitted_redirect_uri_need_not_be_repeated() {
    let s = TestServer::start().await;
    let code = code_for(&s, &[("response_type", "code"), ("client_id", POST_ID)]).await;
    let r = s
        .token_form(&[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("client_id", POST_ID),
            ("client_secret", POST_SECRET),
        ])
        .await;
    tokens(&r);
}

/// A code redeemed by another client is invalid_grant (R40).
#[tokio::test]
async fn code_is_bound_to_its_client() {
    let s = TestServer::start().await;
    let code = basic_code(&s).await;
    let r = s
        .token_basic(
            SECOND_ID,
            SECOND_SECRET,
            &[
                ("grant_type", "authorization_code"),
                ("code", &code),
                ("redirect_uri", BASIC_CALLBACK),
            ],
        )
        .await;
    assert_token_error(&r, "invalid_grant");
    let code = basic_code(&s).await;
    let r = s
        .token_form(&[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", BASIC_CALLBACK),
            ("client_id", POST_ID),
            ("client_secret", POST_SECRET),
        ])
        .await;
    assert_token_error(&r, "invalid_grant");
    // A public client's code, with its verifier, presented by a confidential client.
    let code = public_code(&s, VERIFIER).await;
    let r = redeem_basic(
        &s,
        &code,
        &[
            ("redirect_uri", PUBLIC_CALLBACK),
            ("code_verifier", VERIFIER),
        ],
    )
    .await;
    assert_token_error(&r, "invalid_grant");
}

/// A second redemption is invalid_grant and revokes the first one's tokens (R41, R42).
#[tokio::test]
async fn second_redemption_is_refused_and_revokes() {
    let s = TestServer::start().await;
    let code = basic_code(&s).await;
    let extra = [("redirect_uri", BASIC_CALLBACK)];
    let t = tokens(&redeem_basic(&s, &code, &extra).await);
    let at = t["access_token"].as_str().unwrap();
    let rt = t["refresh_token"].as_str().unwrap();
    assert_eq!(s.me(at).await.status, 200);
    assert_token_error(&redeem_basic(&s, &code, &extra).await, "invalid_grant");
    let me = s.me(at).await;
    assert_eq!(me.status, 401, "{}", me.text);
    assert!(
        me.header("www-authenticate")
            .unwrap()
            .contains("invalid_token")
    );
    assert_token_error(
        &refresh_basic(&s, BASIC_ID, BASIC_SECRET, rt).await,
        "invalid_grant",
    );
}

/// Unknown and garbage codes are invalid_grant (R44).
#[tokio::test]
async fn unknown_code_is_invalid_grant() {
    let s = TestServer::start().await;
    let real = basic_code(&s).await;
    // The real code with its last character changed (to another one, whatever it was).
    let last = if real.ends_with('A') { 'E' } else { 'A' };
    let altered = format!("{}{last}", &real[..real.len() - 1]);
    for code in [
        "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
        "garbage",
        "x",
        "not a code, ü & = ;",
        &altered,
        &"z".repeat(2000),
    ] {
        let r = redeem_basic(&s, code, &[("redirect_uri", BASIC_CALLBACK)]).await;
        assert_token_error(&r, "invalid_grant");
    }
}

/// A missing or empty code is invalid_request (RFC 6749 §4.1.3, §3.2).
#[tokio::test]
async fn missing_code_is_invalid_request() {
    let s = TestServer::start().await;
    let r = s
        .token_basic(
            BASIC_ID,
            BASIC_SECRET,
            &[
                ("grant_type", "authorization_code"),
                ("redirect_uri", BASIC_CALLBACK),
            ],
        )
        .await;
    assert_token_error(&r, "invalid_request");
    let r = redeem_basic(&s, "", &[("redirect_uri", BASIC_CALLBACK)]).await;
    assert_token_error(&r, "invalid_request");
}

/// A code past its lifetime is invalid_grant (R30, R44).
#[tokio::test]
async fn expired_code_is_invalid_grant() {
    let s = TestServer::start_with(|c| c.code_ttl = 1).await;
    let code = basic_code(&s).await;
    tokio::time::sleep(Duration::from_millis(2100)).await;
    let r = redeem_basic(&s, &code, &[("redirect_uri", BASIC_CALLBACK)]).await;
    assert_token_error(&r, "invalid_grant");
}

/// Of 32 parallel redemptions exactly one succeeds, and its tokens end up revoked (R43).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn parallel_redemptions_yield_one_token() {
    let s = TestServer::start().await;
    let code = basic_code(&s).await;
    let attempts = (0..32).map(|_| redeem_basic(&s, &code, &[("redirect_uri", BASIC_CALLBACK)]));
    let replies = futures_util::future::join_all(attempts).await;
    let winners: Vec<&Reply> = replies.iter().filter(|r| r.status == 200).collect();
    let statuses: Vec<u16> = replies.iter().map(|r| r.status).collect();
    assert_eq!(winners.len(), 1, "statuses: {statuses:?}");
    for r in replies.iter().filter(|r| r.status != 200) {
        assert_token_error(r, "invalid_grant");
    }
    let t = winners[0].json();
    let me = s.me(t["access_token"].as_str().unwrap()).await;
    assert_eq!(me.status, 401, "{}", me.text);
    let rt = t["refresh_token"].as_str().unwrap();
    assert_token_error(
        &refresh_basic(&s, BASIC_ID, BASIC_SECRET, rt).await,
        "invalid_grant",
    );
}

/// The token's scope is the approved one: a narrowed request gives a narrowed token.
#[tokio::test]
async fn granted_scope_is_approved_scope() {
    let s = TestServer::start().await;
    for (asked, me_status) in [("email", 403), ("profile", 200), ("email profile", 200)] {
        let code = code_for(
            &s,
            &[
                ("response_type", "code"),
                ("client_id", BASIC_ID),
                ("redirect_uri", BASIC_CALLBACK),
                ("scope", asked),
            ],
        )
        .await;
        let t = tokens(&redeem_basic(&s, &code, &[("redirect_uri", BASIC_CALLBACK)]).await);
        assert_eq!(t["scope"], asked);
        let me = s.me(t["access_token"].as_str().unwrap()).await;
        assert_eq!(me.status, me_status, "{asked}: {}", me.text);
    }
}

/// A client not registered for the code grant gets unauthorized_client (R46).
#[tokio::test]
async fn client_without_code_grant_is_unauthorized() {
    let s = TestServer::start().await;
    let code = basic_code(&s).await;
    let r = s
        .token_basic(
            SERVICE_ID,
            SERVICE_SECRET,
            &[("grant_type", "authorization_code"), ("code", &code)],
        )
        .await;
    assert_token_error(&r, "unauthorized_client");
}

//! The consent page and API of the script login UI (RFC 6749 §4.1.2, §4.1.2.1,
//! §10.12; RFC 7636; RFC 9207): Approve sends a code with `state` and `iss`, Deny
//! `access_denied`, and only the browser that signed in may answer, once.

use super::api::stored_codes;
use super::*;

/// Approving sends the browser to the redirection URI with a code, `state` and `iss`;
/// the code redeems at the token endpoint like a plain-form code.
#[tokio::test]
async fn approve_redirects_with_code_state_and_iss() {
    let s = server().await;
    let next = answer_as_alice(&s, &pairs(&basic_request("xyz")), "approve").await;
    let cb = Callback::from_url(next);
    assert_eq!(cb.target, BASIC_CALLBACK);
    assert_eq!(cb.get("state"), Some("xyz"));
    assert_eq!(cb.get("iss"), Some(issuer(&s).as_str()));
    assert_eq!(cb.count("code"), 1);
    let code = cb.code();
    let t = tokens(&redeem_basic(&s, &code, &[("redirect_uri", BASIC_CALLBACK)]).await);
    let me = s.me(t["access_token"].as_str().unwrap()).await;
    assert_eq!(me.status, 200, "{}", me.text);
    assert!(me.text.contains(ALICE), "{}", me.text);
}

/// A PKCE challenge travels with the sign-in: the code redeems only with its verifier.
#[tokio::test]
async fn pkce_challenge_is_kept() {
    let s = server().await;
    let challenge = s256(VERIFIER);
    let params = [
        ("response_type", "code"),
        ("client_id", PUBLIC_ID),
        ("redirect_uri", PUBLIC_CALLBACK),
        ("code_challenge", challenge.as_str()),
        ("code_challenge_method", "S256"),
    ];
    let code = Callback::from_url(answer_as_alice(&s, &params, "approve").await).code();
    let wrong = redeem_public(&s, &code, &[("code_verifier", &"x".repeat(43))]).await;
    assert_token_error(&wrong, "invalid_grant");
    let code = Callback::from_url(answer_as_alice(&s, &params, "approve").await).code();
    tokens(&redeem_public(&s, &code, &[("code_verifier", VERIFIER)]).await);
}

/// Denying sends `error=access_denied` with `state` and `iss`, and no code is stored.
#[tokio::test]
async fn deny_redirects_with_access_denied() {
    let s = server().await;
    let next = answer_as_alice(&s, &pairs(&basic_request("d")), "deny").await;
    let cb = Callback::from_url(next);
    assert_eq!(cb.target, BASIC_CALLBACK);
    assert_eq!(cb.get("error"), Some("access_denied"), "{}", cb.location);
    assert_eq!(cb.get("state"), Some("d"));
    assert_eq!(cb.get("iss"), Some(issuer(&s).as_str()));
    assert_eq!(cb.get("code"), None);
    assert_eq!(stored_codes(&s).await, 0);
}

/// The consent page has no form in its HTML, names the client, the user and the
/// scopes, and sets a fresh CSRF token equal to its cookie.
#[tokio::test]
async fn consent_page_is_built_by_script() {
    let s = server().await;
    let b = Browser::new(&s);
    let login = b.open(&pairs(&basic_request("s"))).await;
    let r = post(
        &s,
        &b,
        LOGIN_API,
        &sign_in_fields(&login, ALICE, ALICE_PASSWORD),
    )
    .await;
    let page = get(&s, &b, &next_of(&r)).await;
    assert_script_page(&page);
    assert_eq!(meta(&page.text, "ui-page").as_deref(), Some("consent"));
    assert!(page.text.contains("Basic Client"), "{}", page.text);
    assert!(page.text.contains(ALICE), "{}", page.text);
    assert!(page.text.contains("<code>profile</code>"), "{}", page.text);
    let token = meta(&page.text, "csrf-token").unwrap();
    assert_ne!(Some(&token), meta(&login.text, "csrf-token").as_ref());
    let cookie = page.header("set-cookie").expect("no Set-Cookie");
    assert!(
        cookie.starts_with(&format!("oauth_csrf={token};")),
        "{cookie}"
    );
    assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"));
}

/// Only the browser that signed in may open the consent page or answer it; a missing
/// or wrong CSRF token is refused with 403 and leaves the sign-in usable (R32).
#[tokio::test]
async fn consent_needs_the_browser_that_signed_in() {
    let s = server().await;
    let b = Browser::new(&s);
    let login = b.open(&pairs(&basic_request("s"))).await;
    let next = next_of(
        &post(
            &s,
            &b,
            LOGIN_API,
            &sign_in_fields(&login, ALICE, ALICE_PASSWORD),
        )
        .await,
    );
    // Another browser, with a page (and so a cookie) of its own.
    let other = Browser::new(&s);
    let other_login = other.open(&pairs(&basic_request("s"))).await;
    let foreign_page = get(&s, &other, &next).await;
    assert_eq!(foreign_page.status, 403, "{}", foreign_page.text);
    assert!(!foreign_page.text.contains("<form") && !foreign_page.text.contains(ALICE));
    assert_protected(&foreign_page);
    let no_cookie = Reply::read(s.http.get(s.url(&next)).send().await.unwrap()).await;
    assert_eq!(no_cookie.status, 403, "{}", no_cookie.text);

    let page = get(&s, &b, &next).await;
    assert_script_page(&page);
    let fields = consent_fields(&page, "approve");
    let mut stolen = fields.clone();
    stolen[1].1 = meta(&other_login.text, "csrf-token").unwrap();
    assert_refusal(
        &post(&s, &other, CONSENT, &stolen).await,
        403,
        "other_browser",
    );
    let without: Vec<_> = fields[..1].iter().chain(&fields[2..]).cloned().collect();
    assert_refusal(
        &post(&s, &b, CONSENT, &without).await,
        403,
        "invalid_csrf_token",
    );
    let mut wrong = fields.clone();
    wrong[1].1.push('x');
    assert_refusal(
        &post(&s, &b, CONSENT, &wrong).await,
        403,
        "invalid_csrf_token",
    );
    let mut neither = fields.clone();
    neither[2].1 = "maybe".into();
    assert_refusal(
        &post(&s, &b, CONSENT, &neither).await,
        400,
        "invalid_request",
    );
    // The token of the login page was replaced by the consent page's.
    let mut old = fields.clone();
    old[1].1 = meta(&login.text, "csrf-token").unwrap();
    assert_refusal(
        &post(&s, &b, CONSENT, &old).await,
        403,
        "invalid_csrf_token",
    );

    let cb = Callback::from_url(next_of(&post(&s, &b, CONSENT, &fields).await));
    assert!(cb.get("code").is_some(), "{}", cb.location);
}

/// A sign-in is answered once: a second answer, or an unknown interaction, gets 400
/// `expired`, and the consent page of an answered sign-in is an error page.
#[tokio::test]
async fn consent_is_answered_once() {
    let s = server().await;
    let b = Browser::new(&s);
    let login = b.open(&pairs(&basic_request("s"))).await;
    let next = next_of(
        &post(
            &s,
            &b,
            LOGIN_API,
            &sign_in_fields(&login, ALICE, ALICE_PASSWORD),
        )
        .await,
    );
    let page = get(&s, &b, &next).await;
    let fields = consent_fields(&page, "approve");
    Callback::from_url(next_of(&post(&s, &b, CONSENT, &fields).await)).code();
    assert_refusal(&post(&s, &b, CONSENT, &fields).await, 400, "expired");
    let deny = consent_fields(&page, "deny");
    assert_refusal(&post(&s, &b, CONSENT, &deny).await, 400, "expired");
    let mut unknown = fields.clone();
    unknown[0].1 = "no-such-interaction".into();
    assert_refusal(&post(&s, &b, CONSENT, &unknown).await, 400, "expired");
    assert_eq!(stored_codes(&s).await, 1);
    let again = get(&s, &b, &next).await;
    assert_eq!(again.status, 400, "{}", again.text);
    assert_protected(&again);
    let bare = get(&s, &b, CONSENT).await;
    assert_eq!(bare.status, 400, "{}", bare.text);
}

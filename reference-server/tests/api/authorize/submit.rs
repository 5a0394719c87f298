//! Submitting the login and consent form (RFC 6749 §4.1.2, §4.1.2.1, §10.12; RFC 9700
//! §4.12): CSRF protection, wrong credentials, deny and approve.

use super::{assert_error_page, assert_error_redirect, assert_protected, basic_request, pairs};
use crate::common::*;
use crate::login::*;

/// A form posted without the CSRF cookie is refused with 403 and no redirect (R32).
#[tokio::test]
async fn post_without_csrf_cookie_is_forbidden() {
    let s = TestServer::start().await;
    let page = Browser::new(&s).open(&pairs(&basic_request("c"))).await;
    let fields = fill(&page, Some(ALICE), Some(ALICE_PASSWORD), "approve");
    // s.http keeps no cookies: the same fields, without the cookie.
    let r = s
        .http
        .post(s.url("/oauth/authorize"))
        .form(&fields)
        .send()
        .await
        .unwrap();
    assert_error_page(&Reply::read(r).await, 403);
}

/// A form with a missing or wrong csrf_token is refused with 403 and no redirect (R32).
#[tokio::test]
async fn post_with_wrong_csrf_token_is_forbidden() {
    let s = TestServer::start().await;
    let b = Browser::new(&s);
    let page = b.open(&pairs(&basic_request("c"))).await;
    let fields = fill(&page, Some(ALICE), Some(ALICE_PASSWORD), "approve");
    let without: Vec<_> = fields
        .iter()
        .filter(|(k, _)| k != "csrf_token")
        .cloned()
        .collect();
    assert_error_page(&b.submit(&without).await, 403);
    let wrong: Vec<_> = fields
        .iter()
        .map(|(k, v)| {
            let v = if k == "csrf_token" {
                format!("{v}x")
            } else {
                v.clone()
            };
            (k.clone(), v)
        })
        .collect();
    assert_error_page(&b.submit(&wrong).await, 403);
    // A token taken from another browser's page does not match this browser's cookie.
    let other = Browser::new(&s).open(&pairs(&basic_request("c"))).await;
    let foreign = fill(&other, Some(ALICE), Some(ALICE_PASSWORD), "approve");
    assert_error_page(&b.submit(&foreign).await, 403);
}

/// A wrong password re-renders the form with an error and no redirect; then login works.
#[tokio::test]
async fn wrong_password_shows_page_again() {
    let s = TestServer::start().await;
    let b = Browser::new(&s);
    let page = b.open(&pairs(&basic_request("w"))).await;
    let r = b
        .answer(&page, Some(ALICE), Some("alice-wrong-horse"), "approve")
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.header("location"), None);
    assert!(r.text.contains("role=\"alert\""), "{}", r.text);
    assert!(form_tag(&r.text).is_some());
    assert_eq!(hidden(&r.text, "state").as_deref(), Some("w"));
    assert_protected(&r);
    let ok = b
        .answer(&r, Some(ALICE), Some(ALICE_PASSWORD), "approve")
        .await;
    assert_eq!(ok.status, 303, "{}", ok.text);
    assert_eq!(Callback::from_reply(&ok).get("state"), Some("w"));
}

/// An unknown email gets the same page and error as a wrong password, and no redirect.
#[tokio::test]
async fn unknown_email_shows_same_page() {
    let s = TestServer::start().await;
    let b = Browser::new(&s);
    let page = b.open(&pairs(&basic_request("w"))).await;
    let unknown = b
        .answer(
            &page,
            Some("mallory@example.com"),
            Some(ALICE_PASSWORD),
            "approve",
        )
        .await;
    // Each failed attempt renders a fresh form with a new CSRF cookie: answer that one.
    let wrong = b
        .answer(&unknown, Some(ALICE), Some("nope"), "approve")
        .await;
    let no_password = b.answer(&wrong, Some(ALICE), None, "approve").await;
    let alert = |r: &Reply| {
        assert_eq!(r.status, 200, "{}", r.text);
        assert_eq!(r.header("location"), None);
        let i = r.text.find("role=\"alert\"").expect("no error shown");
        let end = r.text[i..].find("</p>").unwrap();
        r.text[i..i + end].to_owned()
    };
    assert_eq!(alert(&unknown), alert(&wrong));
    assert_eq!(alert(&no_password), alert(&wrong));
}

/// Deny redirects with 303, error=access_denied, the state and iss, and no code.
#[tokio::test]
async fn deny_redirects_access_denied() {
    let s = TestServer::start().await;
    let b = Browser::new(&s);
    let page = b.open(&pairs(&basic_request("d"))).await;
    let r = b.answer(&page, None, None, "deny").await;
    let cb = assert_error_redirect(&r, BASIC_CALLBACK, "access_denied", Some("d"));
    assert_eq!(cb.get("iss"), Some(issuer(&s).as_str()));
}

/// Approve answers 303 (not 302/307) with a code of >= 43 chars, state, iss (R26, R35, R36).
#[tokio::test]
async fn approve_redirects_with_code_state_iss() {
    let s = TestServer::start().await;
    let b = Browser::new(&s);
    let page = b.open(&pairs(&basic_request("ok"))).await;
    let r = b
        .answer(&page, Some(ALICE), Some(ALICE_PASSWORD), "approve")
        .await;
    assert_eq!(r.status, 303, "{}", r.text);
    assert_protected(&r);
    let cb = Callback::from_reply(&r);
    assert_eq!(cb.target, BASIC_CALLBACK);
    assert!(cb.location.starts_with("https://basic.example/callback?"));
    let code = cb.code();
    assert!(code.len() >= 43, "code too short: {code}");
    assert_eq!(cb.count("code"), 1);
    assert_eq!(cb.get("state"), Some("ok"));
    assert_eq!(cb.get("iss"), Some(issuer(&s).as_str()));
    assert_eq!(cb.get("error"), None);
}

/// Every approval yields a new code.
#[tokio::test]
async fn codes_differ_every_time() {
    let s = TestServer::start().await;
    let mut codes = Vec::new();
    for _ in 0..5 {
        codes.push(approve(&s, &pairs(&basic_request("n"))).await.code());
    }
    let mut unique = codes.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), codes.len(), "{codes:?}");
}

/// A POST with a repeated parameter gets a 400 page, not a redirect (R5).
#[tokio::test]
async fn repeated_form_field_gets_error_page() {
    let s = TestServer::start().await;
    let b = Browser::new(&s);
    let page = b.open(&pairs(&basic_request("r"))).await;
    let mut fields = fill(&page, Some(ALICE), Some(ALICE_PASSWORD), "approve");
    fields.push(("redirect_uri".into(), "https://evil.example/cb".into()));
    assert_error_page(&b.submit(&fields).await, 400);
}

/// A POST whose redirect_uri was tampered with gets a 400 page, not a redirect (R24).
#[tokio::test]
async fn tampered_redirect_uri_gets_error_page() {
    let s = TestServer::start().await;
    let b = Browser::new(&s);
    let page = b.open(&pairs(&basic_request("t"))).await;
    let fields: Vec<_> = fill(&page, Some(ALICE), Some(ALICE_PASSWORD), "approve")
        .into_iter()
        .map(|(k, v)| {
            if k == "redirect_uri" {
                (k, "https://evil.example/callback".to_owned())
            } else {
                (k, v)
            }
        })
        .collect();
    assert_error_page(&b.submit(&fields).await, 400);
}

//! Proof Key for Code Exchange (RFC 7636 §4.1-§4.6) and the RFC 9700 §2.1.1 downgrade
//! rules, at both the authorization and the token endpoint.

use crate::common::*;
use crate::login::*;

/// An authorization request of public-client with these PKCE parameters.
fn public_request<'a>(pkce: &[(&'a str, &'a str)]) -> Vec<(&'a str, &'a str)> {
    let mut q = vec![
        ("response_type", "code"),
        ("client_id", PUBLIC_ID),
        ("redirect_uri", PUBLIC_CALLBACK),
        ("state", "pk"),
    ];
    q.extend_from_slice(pkce);
    q
}

/// An authorization request of basic-client with these PKCE parameters.
fn basic_request<'a>(pkce: &[(&'a str, &'a str)]) -> Vec<(&'a str, &'a str)> {
    let mut q = vec![
        ("response_type", "code"),
        ("client_id", BASIC_ID),
        ("redirect_uri", BASIC_CALLBACK),
        ("state", "pk"),
    ];
    q.extend_from_slice(pkce);
    q
}

/// The request is refused by a 303 redirect with invalid_request, state and iss
/// (RFC 7636 §4.4.1).
async fn assert_refused_by_redirect(s: &TestServer, q: &[(&str, &str)], target: &str) {
    let r = Browser::new(s).open(q).await;
    assert_eq!(r.status, 303, "{}", r.text);
    let cb = Callback::from_reply(&r);
    assert_eq!(cb.target, target);
    assert_eq!(cb.get("error"), Some("invalid_request"), "{}", cb.location);
    assert_eq!(cb.get("state"), Some("pk"));
    assert_eq!(cb.get("iss"), Some(issuer(s).as_str()));
    assert_eq!(cb.get("code"), None);
}

/// A refusal at the token endpoint whose error code RFC 7636 and RFC 9700 leave open:
/// 400 with invalid_grant (the grant does not verify) or invalid_request.
fn assert_token_refused(r: &Reply) {
    assert_eq!(r.status, 400, "{}", r.text);
    assert!(
        ["invalid_grant", "invalid_request"].contains(&r.error().as_str()),
        "{}",
        r.text
    );
}

/// An S256 challenge redeems with its verifier, for public and confidential clients (R56).
#[tokio::test]
async fn s256_works() {
    let s = TestServer::start().await;
    let code = public_code(&s, VERIFIER).await;
    tokens(&redeem_public(&s, &code, &[("code_verifier", VERIFIER)]).await);
    let challenge = s256(VERIFIER);
    let pkce = [
        ("code_challenge", challenge.as_str()),
        ("code_challenge_method", "S256"),
    ];
    let code = code_for(&s, &basic_request(&pkce)).await;
    let r = redeem_basic(
        &s,
        &code,
        &[
            ("redirect_uri", BASIC_CALLBACK),
            ("code_verifier", VERIFIER),
        ],
    )
    .await;
    tokens(&r);
}

/// The RFC 7636 appendix B pair works end to end.
#[tokio::test]
async fn rfc7636_appendix_b_example_works() {
    let s = TestServer::start().await;
    let verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
    let challenge = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
    assert_eq!(s256(verifier), challenge);
    let pkce = [
        ("code_challenge", challenge),
        ("code_challenge_method", "S256"),
    ];
    let code = code_for(&s, &public_request(&pkce)).await;
    tokens(&redeem_public(&s, &code, &[("code_verifier", verifier)]).await);
}

/// code_challenge_method=plain is redeemed with the challenge itself as verifier.
#[tokio::test]
async fn plain_works() {
    let s = TestServer::start().await;
    let pkce = [
        ("code_challenge", VERIFIER),
        ("code_challenge_method", "plain"),
    ];
    let code = code_for(&s, &public_request(&pkce)).await;
    tokens(&redeem_public(&s, &code, &[("code_verifier", VERIFIER)]).await);
}

/// Without code_challenge_method the challenge is plain: verifier = challenge works (R61).
#[tokio::test]
async fn missing_method_defaults_to_plain() {
    let s = TestServer::start().await;
    let code = code_for(&s, &public_request(&[("code_challenge", VERIFIER)])).await;
    tokens(&redeem_public(&s, &code, &[("code_verifier", VERIFIER)]).await);
}

/// An unsupported code_challenge_method is invalid_request by redirect (R62).
#[tokio::test]
async fn unknown_method_is_invalid_request() {
    let s = TestServer::start().await;
    let challenge = s256(VERIFIER);
    for method in ["S512", "sha256", "RS256"] {
        let pkce = [
            ("code_challenge", challenge.as_str()),
            ("code_challenge_method", method),
        ];
        assert_refused_by_redirect(&s, &public_request(&pkce), PUBLIC_CALLBACK).await;
    }
}

/// A verifier that does not match the challenge is invalid_grant (R57; RFC 7636 §4.6).
#[tokio::test]
async fn wrong_verifier_is_invalid_grant() {
    let s = TestServer::start().await;
    let code = public_code(&s, VERIFIER).await;
    let wrong = format!("{}x", &VERIFIER[..VERIFIER.len() - 1]);
    let r = redeem_public(&s, &code, &[("code_verifier", &wrong)]).await;
    assert_token_error(&r, "invalid_grant");
    let pkce = [
        ("code_challenge", VERIFIER),
        ("code_challenge_method", "plain"),
    ];
    let code = code_for(&s, &public_request(&pkce)).await;
    let r = redeem_public(&s, &code, &[("code_verifier", &wrong)]).await;
    assert_token_error(&r, "invalid_grant");
}

/// A code issued with a challenge is refused without a verifier (R58).
#[tokio::test]
async fn challenge_without_verifier_is_refused() {
    let s = TestServer::start().await;
    let code = public_code(&s, VERIFIER).await;
    assert_token_refused(&redeem_public(&s, &code, &[]).await);
    let challenge = s256(VERIFIER);
    let pkce = [
        ("code_challenge", challenge.as_str()),
        ("code_challenge_method", "S256"),
    ];
    let code = code_for(&s, &basic_request(&pkce)).await;
    assert_token_refused(&redeem_basic(&s, &code, &[("redirect_uri", BASIC_CALLBACK)]).await);
}

/// A verifier for a code issued without a challenge is refused (R59, downgrade).
#[tokio::test]
async fn verifier_without_challenge_is_refused() {
    let s = TestServer::start().await;
    let code = basic_code(&s).await;
    let r = redeem_basic(
        &s,
        &code,
        &[
            ("redirect_uri", BASIC_CALLBACK),
            ("code_verifier", VERIFIER),
        ],
    )
    .await;
    assert_token_refused(&r);
}

/// An S256 challenge presented back as the verifier (a plain downgrade) is refused (R60).
#[tokio::test]
async fn s256_challenge_as_verifier_is_refused() {
    let s = TestServer::start().await;
    let challenge = s256(VERIFIER);
    let code = public_code(&s, VERIFIER).await;
    let r = redeem_public(&s, &code, &[("code_verifier", &challenge)]).await;
    assert_token_error(&r, "invalid_grant");
}

/// Verifiers of 42 or 129 chars or bad characters are refused; 43 and 128 work (R64).
#[tokio::test]
async fn verifier_length_bounds() {
    let s = TestServer::start().await;
    let alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~";
    let of_len = |n: usize| alphabet.chars().cycle().take(n).collect::<String>();
    for bad in [
        of_len(42),
        of_len(129),
        format!("{}+", of_len(42)),
        format!("{} ", of_len(43)),
    ] {
        let code = public_code(&s, &bad).await;
        let r = redeem_public(&s, &code, &[("code_verifier", &bad)]).await;
        assert_token_refused(&r);
    }
    for good in [of_len(43), of_len(128)] {
        let code = public_code(&s, &good).await;
        tokens(&redeem_public(&s, &code, &[("code_verifier", &good)]).await);
    }
}

/// A public client without code_challenge is invalid_request by redirect (R63).
#[tokio::test]
async fn public_client_without_challenge_is_invalid_request() {
    let s = TestServer::start().await;
    assert_refused_by_redirect(&s, &public_request(&[]), PUBLIC_CALLBACK).await;
}

/// With plain disabled, plain is invalid_request by redirect and only S256 is listed (R65).
#[tokio::test]
async fn plain_refused_when_disabled() {
    let s = TestServer::start_with(|c| c.pkce_plain = false).await;
    let plain = [
        ("code_challenge", VERIFIER),
        ("code_challenge_method", "plain"),
    ];
    assert_refused_by_redirect(&s, &public_request(&plain), PUBLIC_CALLBACK).await;
    let absent = [("code_challenge", VERIFIER)];
    assert_refused_by_redirect(&s, &public_request(&absent), PUBLIC_CALLBACK).await;
    assert_refused_by_redirect(&s, &basic_request(&plain), BASIC_CALLBACK).await;
    let code = public_code(&s, VERIFIER).await;
    tokens(&redeem_public(&s, &code, &[("code_verifier", VERIFIER)]).await);
    let md = metadata(&s).await;
    assert_eq!(
        md["code_challenge_methods_supported"],
        serde_json::json!(["S256"])
    );
}

/// By default plain is offered and advertised beside S256.
#[tokio::test]
async fn plain_advertised_by_default() {
    let s = TestServer::start().await;
    let md = metadata(&s).await;
    let methods = md["code_challenge_methods_supported"].as_array().unwrap();
    assert!(methods.contains(&"S256".into()) && methods.contains(&"plain".into()));
}

/// With PKCE required, a confidential client without challenge is invalid_request (R63).
#[tokio::test]
async fn pkce_required_refuses_confidential_without_challenge() {
    let s = TestServer::start_with(|c| c.pkce_required = true).await;
    assert_refused_by_redirect(&s, &basic_request(&[]), BASIC_CALLBACK).await;
    let challenge = s256(VERIFIER);
    let pkce = [
        ("code_challenge", challenge.as_str()),
        ("code_challenge_method", "S256"),
    ];
    let code = code_for(&s, &basic_request(&pkce)).await;
    let r = redeem_basic(
        &s,
        &code,
        &[
            ("redirect_uri", BASIC_CALLBACK),
            ("code_verifier", VERIFIER),
        ],
    )
    .await;
    tokens(&r);
}

/// By default a confidential client may omit PKCE.
#[tokio::test]
async fn confidential_client_may_omit_pkce_by_default() {
    let s = TestServer::start().await;
    let code = basic_code(&s).await;
    tokens(&redeem_basic(&s, &code, &[("redirect_uri", BASIC_CALLBACK)]).await);
}

//! The authorization endpoint (RFC 6749 §3.1, §4.1.1, §4.1.2, §4.1.2.1; RFC 9700 §2.1,
//! §4.12, §4.16; RFC 9207): the login page, its refusals, and the redirect back.

mod submit;

use crate::common::*;
use crate::login::*;

/// The request basic-client sends in most tests.
fn basic_request(state: &str) -> Vec<(&'static str, String)> {
    vec![
        ("response_type", "code".into()),
        ("client_id", BASIC_ID.into()),
        ("redirect_uri", BASIC_CALLBACK.into()),
        ("state", state.into()),
    ]
}

fn pairs<'a>(v: &'a [(&'static str, String)]) -> Vec<(&'static str, &'a str)> {
    v.iter().map(|(k, v)| (*k, v.as_str())).collect()
}

/// RFC 9700 §4.16, §4.2.4: every page and redirect of the endpoint forbids framing and
/// caching and sends no referrer.
fn assert_protected(r: &Reply) {
    assert_eq!(
        r.header("x-frame-options").as_deref(),
        Some("DENY"),
        "{r:?}"
    );
    let csp = r.header("content-security-policy").unwrap_or_default();
    assert!(csp.contains("frame-ancestors 'none'"), "CSP: {csp:?}");
    assert_eq!(r.header("cache-control").as_deref(), Some("no-store"));
    assert_eq!(r.header("referrer-policy").as_deref(), Some("no-referrer"));
}

/// An HTML error page: the status, no redirect, the protective headers (RFC 6749 §4.1.2.1).
fn assert_error_page(r: &Reply, status: u16) {
    assert_eq!(r.status, status, "{}", r.text);
    assert_eq!(
        r.header("location"),
        None,
        "an error page must not redirect"
    );
    assert!(
        r.header("content-type")
            .unwrap_or_default()
            .starts_with("text/html"),
        "{r:?}"
    );
    assert!(!r.text.contains("<form"), "an error page offers no form");
    assert_protected(r);
}

/// A §4.1.2.1 error by 303 redirect to `target`, with `state` and `iss`.
fn assert_error_redirect(r: &Reply, target: &str, error: &str, state: Option<&str>) -> Callback {
    assert_eq!(r.status, 303, "{}", r.text);
    assert_protected(r);
    let cb = Callback::from_reply(r);
    assert_eq!(cb.target, target);
    assert_eq!(cb.get("error"), Some(error), "{}", cb.location);
    assert_eq!(cb.get("state"), state, "{}", cb.location);
    assert!(cb.get("iss").is_some(), "{}", cb.location);
    assert_eq!(cb.get("code"), None);
    // §4.1.2.1: error_description = 1*( %x20-21 / %x23-5B / %x5D-7E )
    if let Some(d) = cb.get("error_description") {
        assert!(
            d.bytes()
                .all(|b| matches!(b, 0x20..=0x21 | 0x23..=0x5B | 0x5D..=0x7E)),
            "{d:?}"
        );
    }
    cb
}

/// GET shows a form naming the client and the requested scopes, with every hidden field.
#[tokio::test]
async fn page_names_client_and_scopes() {
    let s = TestServer::start().await;
    let b = Browser::new(&s);
    let r = b.open(&pairs(&basic_request("s1"))).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert!(r.header("content-type").unwrap().starts_with("text/html"));
    assert!(r.text.contains("Basic Client"), "{}", r.text);
    assert!(r.text.contains("<code>profile</code>"), "{}", r.text);
    assert!(r.text.contains("<code>email</code>"), "{}", r.text);
    let h = hidden_fields(&r.text);
    let get = |n: &str| h.iter().find(|(k, _)| k == n).map(|(_, v)| v.as_str());
    assert_eq!(get("client_id"), Some(BASIC_ID));
    assert_eq!(get("response_type"), Some("code"));
    assert_eq!(get("redirect_uri"), Some(BASIC_CALLBACK));
    assert_eq!(get("state"), Some("s1"));
    assert!(get("csrf_token").is_some_and(|c| c.len() >= 32));
    assert_eq!(visible_inputs(&r.text), ["email", "password"]);
    assert!(r.text.contains("name=\"action\" value=\"approve\""));
    assert!(r.text.contains("name=\"action\" value=\"deny\""));
}

/// The page lists only the requested scope when the request narrows it.
#[tokio::test]
async fn page_lists_only_requested_scope() {
    let s = TestServer::start().await;
    let mut req = basic_request("s");
    req.push(("scope", "email".into()));
    let r = Browser::new(&s).open(&pairs(&req)).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert!(r.text.contains("<code>email</code>"));
    assert!(!r.text.contains("<code>profile</code>"));
    assert_eq!(hidden(&r.text, "scope").as_deref(), Some("email"));
}

/// The page sets cookie oauth_csrf (HttpOnly, SameSite=Strict) equal to csrf_token (R32).
#[tokio::test]
async fn page_sets_csrf_cookie() {
    let s = TestServer::start().await;
    let r = Browser::new(&s).open(&pairs(&basic_request("s"))).await;
    let token = hidden(&r.text, "csrf_token").unwrap();
    let cookie = r.header("set-cookie").expect("no Set-Cookie");
    let attrs: Vec<&str> = cookie.split(';').map(str::trim).collect();
    assert_eq!(attrs[0], format!("oauth_csrf={token}"), "{cookie}");
    assert!(attrs.contains(&"HttpOnly"), "{cookie}");
    assert!(attrs.contains(&"SameSite=Strict"), "{cookie}");
}

/// Pages, error pages and redirects forbid framing, caching and referrers (R33, R37).
#[tokio::test]
async fn pages_and_redirects_carry_protective_headers() {
    let s = TestServer::start().await;
    let b = Browser::new(&s);
    let page = b.open(&pairs(&basic_request("s"))).await;
    assert_eq!(page.status, 200);
    assert_protected(&page);
    let wrong = b.answer(&page, Some(ALICE), Some("wrong"), "approve").await;
    assert_eq!(wrong.status, 200);
    assert_protected(&wrong);
    let approved = b
        .answer(&wrong, Some(ALICE), Some(ALICE_PASSWORD), "approve")
        .await;
    assert_eq!(approved.status, 303);
    assert_protected(&approved);
    let unknown = b
        .open(&[("response_type", "code"), ("client_id", "nobody")])
        .await;
    assert_error_page(&unknown, 400);
    let mut forged = fill(&page, Some(ALICE), Some(ALICE_PASSWORD), "approve");
    forged.retain(|(k, _)| k != "csrf_token");
    let forbidden = b.submit(&forged).await;
    assert_error_page(&forbidden, 403);
    let mut req = basic_request("s");
    req.push(("scope", "admin".into()));
    let error = b.open(&pairs(&req)).await;
    assert_eq!(error.status, 303);
    assert_protected(&error);
}

/// No page of the endpoint contains a script, and the CSP allows none.
#[tokio::test]
async fn pages_have_no_script() {
    let s = TestServer::start().await;
    let b = Browser::new(&s);
    let page = b.open(&pairs(&basic_request("<script>"))).await;
    let wrong = b
        .answer(&page, Some("<script>@x"), Some("wrong"), "approve")
        .await;
    let error = b.open(&[("client_id", "<script>alert(1)</script>")]).await;
    for r in [&page, &wrong, &error] {
        assert!(
            !r.text.to_ascii_lowercase().contains("<script"),
            "{}",
            r.text
        );
    }
    assert!(csp_blocks_scripts(&page));
}

fn csp_blocks_scripts(r: &Reply) -> bool {
    let csp = r.header("content-security-policy").unwrap_or_default();
    csp.contains("default-src 'none'") && !csp.contains("script-src")
}

/// An unknown client_id gets a 400 page, never a redirect, even to a plausible URI (R24).
#[tokio::test]
async fn unknown_client_gets_error_page() {
    let s = TestServer::start().await;
    let b = Browser::new(&s);
    for redirect in [None, Some(BASIC_CALLBACK), Some("https://evil.example/cb")] {
        let mut q = vec![
            ("response_type", "code"),
            ("client_id", "no-such-client"),
            ("state", "s"),
        ];
        if let Some(r) = redirect {
            q.push(("redirect_uri", r));
        }
        assert_error_page(&b.open(&q).await, 400);
    }
}

/// A request without client_id gets a 400 page, never a redirect (R24).
#[tokio::test]
async fn missing_client_id_gets_error_page() {
    let s = TestServer::start().await;
    let r = Browser::new(&s)
        .open(&[("response_type", "code"), ("redirect_uri", BASIC_CALLBACK)])
        .await;
    assert_error_page(&r, 400);
}

/// A redirect_uri not exactly registered gets a 400 page, never a redirect (R22, R24, R34).
#[tokio::test]
async fn redirect_uri_must_match_exactly() {
    let s = TestServer::start().await;
    let b = Browser::new(&s);
    let variants = [
        "https://basic.example/callback/",
        "https://basic.example/callback?x=1",
        "https://basic.example/callback#frag",
        "https://evil.example/callback",
        "https://basic.example.evil.example/callback",
        "https://basic.example/callbackx",
        "https://basic.example/callback/extra",
        "https://basic.example/",
        "https://basic.example/other",
        "https://basic.example/other?from=seed&x=1",
        "http://basic.example/callback",
        "https://basic.example:8443/callback",
        "https://basic.example/%63allback",
    ];
    for uri in variants {
        for response_type in ["code", "token"] {
            let r = b
                .open(&[
                    ("response_type", response_type),
                    ("client_id", BASIC_ID),
                    ("redirect_uri", uri),
                    ("state", "s"),
                ])
                .await;
            assert_error_page(&r, 400);
        }
    }
    let r = b
        .open(&[
            ("response_type", "code"),
            ("client_id", PUBLIC_ID),
            ("redirect_uri", "http://127.0.0.1/callback/"),
            ("code_challenge", &s256(VERIFIER)),
            ("code_challenge_method", "S256"),
        ])
        .await;
    assert_error_page(&r, 400);
}

/// A loopback redirect_uri may use any port (R22; RFC 9700 §2.1, RFC 8252 §7.3).
#[tokio::test]
async fn loopback_redirect_uri_may_use_any_port() {
    let s = TestServer::start().await;
    let challenge = s256(VERIFIER);
    let uri = "http://127.0.0.1:49152/callback";
    let b = Browser::new(&s);
    let page = b
        .open(&[
            ("response_type", "code"),
            ("client_id", PUBLIC_ID),
            ("redirect_uri", uri),
            ("code_challenge", &challenge),
            ("code_challenge_method", "S256"),
        ])
        .await;
    assert_eq!(page.status, 200, "{}", page.text);
    let r = b
        .answer(&page, Some(ALICE), Some(ALICE_PASSWORD), "approve")
        .await;
    assert_eq!(r.status, 303);
    assert_eq!(Callback::from_reply(&r).target, uri);
}

/// With one registered URI the request may omit redirect_uri and the answer goes there.
#[tokio::test]
async fn omitted_redirect_uri_uses_the_only_registered_one() {
    let s = TestServer::start().await;
    let b = Browser::new(&s);
    let page = b
        .open(&[
            ("response_type", "code"),
            ("client_id", POST_ID),
            ("state", "p"),
        ])
        .await;
    assert_eq!(page.status, 200, "{}", page.text);
    assert_eq!(hidden(&page.text, "redirect_uri"), None);
    let r = b
        .answer(&page, Some(ALICE), Some(ALICE_PASSWORD), "approve")
        .await;
    assert_eq!(r.status, 303);
    let cb = Callback::from_reply(&r);
    assert_eq!(cb.target, POST_CALLBACK);
    assert!(cb.get("code").is_some());
    assert_eq!(cb.get("state"), Some("p"));
}

/// With two registered URIs, omitting redirect_uri gets a 400 page (RFC 6749 §3.1.2.3).
#[tokio::test]
async fn omitted_redirect_uri_with_several_registered_is_refused() {
    let s = TestServer::start().await;
    let r = Browser::new(&s)
        .open(&[
            ("response_type", "code"),
            ("client_id", BASIC_ID),
            ("state", "s"),
        ])
        .await;
    assert_error_page(&r, 400);
}

/// A client with no registered redirection URI gets a 400 page (RFC 6749 §3.1.2.2).
#[tokio::test]
async fn client_without_redirect_uris_is_refused() {
    let s = TestServer::start().await;
    let b = Browser::new(&s);
    assert_error_page(
        &b.open(&[("response_type", "code"), ("client_id", SERVICE_ID)])
            .await,
        400,
    );
    assert_error_page(
        &b.open(&[
            ("response_type", "code"),
            ("client_id", SERVICE_ID),
            ("redirect_uri", "https://service.example/callback"),
        ])
        .await,
        400,
    );
}

/// The query of a registered redirect URI is kept and the code is added to it (R23).
#[tokio::test]
async fn registered_query_is_kept() {
    let s = TestServer::start().await;
    let cb = approve(
        &s,
        &[
            ("response_type", "code"),
            ("client_id", BASIC_ID),
            ("redirect_uri", BASIC_OTHER),
            ("state", "q"),
        ],
    )
    .await;
    assert!(
        cb.location
            .starts_with("https://basic.example/other?from=seed&code="),
        "{}",
        cb.location
    );
    assert_eq!(cb.count("from"), 1);
    assert_eq!(cb.get("from"), Some("seed"));
    assert_eq!(cb.get("state"), Some("q"));
    let r = redeem_basic(&s, &cb.code(), &[("redirect_uri", BASIC_OTHER)]).await;
    tokens(&r);
}

/// A request without response_type is answered by redirect with invalid_request (R20).
#[tokio::test]
async fn missing_response_type_is_invalid_request() {
    let s = TestServer::start().await;
    let r = Browser::new(&s)
        .open(&[
            ("client_id", BASIC_ID),
            ("redirect_uri", BASIC_CALLBACK),
            ("state", "m"),
        ])
        .await;
    assert_error_redirect(&r, BASIC_CALLBACK, "invalid_request", Some("m"));
}

/// response_type=token and other values redirect with unsupported_response_type (R20).
#[tokio::test]
async fn unknown_response_type_is_unsupported() {
    let s = TestServer::start().await;
    let b = Browser::new(&s);
    for rt in ["token", "code token", "id_token", "CODE"] {
        let r = b
            .open(&[
                ("response_type", rt),
                ("client_id", BASIC_ID),
                ("redirect_uri", BASIC_CALLBACK),
                ("state", "t"),
            ])
            .await;
        assert_error_redirect(&r, BASIC_CALLBACK, "unsupported_response_type", Some("t"));
    }
}

/// An unknown scope is answered by redirect with invalid_scope and the state (R27, R29).
#[tokio::test]
async fn unknown_scope_is_invalid_scope() {
    let s = TestServer::start().await;
    let b = Browser::new(&s);
    for scope in ["admin", "profile admin", "Profile"] {
        let mut req = basic_request("sc");
        req.push(("scope", scope.into()));
        let r = b.open(&pairs(&req)).await;
        assert_error_redirect(&r, BASIC_CALLBACK, "invalid_scope", Some("sc"));
    }
}

/// An odd state comes back unchanged, on success and on error (R26, R27).
#[tokio::test]
async fn state_is_returned_unchanged() {
    let s = TestServer::start().await;
    let odd = "a b+c&d=e/f?g#h%25i~\"<>'{}|\\^`;:@!$*(),[]";
    let cb = approve(&s, &pairs(&basic_request(odd))).await;
    assert_eq!(cb.get("state"), Some(odd), "{}", cb.location);
    let mut req = basic_request(odd);
    req.push(("scope", "admin".into()));
    let r = Browser::new(&s).open(&pairs(&req)).await;
    assert_error_redirect(&r, BASIC_CALLBACK, "invalid_scope", Some(odd));
}

/// Without a state the response carries none.
#[tokio::test]
async fn no_state_means_no_state_returned() {
    let s = TestServer::start().await;
    let cb = approve(
        &s,
        &[
            ("response_type", "code"),
            ("client_id", BASIC_ID),
            ("redirect_uri", BASIC_CALLBACK),
        ],
    )
    .await;
    assert_eq!(cb.count("state"), 0, "{}", cb.location);
}

/// A repeated parameter gets a 400 page, not a redirect (R5).
#[tokio::test]
async fn repeated_parameter_gets_error_page() {
    let s = TestServer::start().await;
    let b = Browser::new(&s);
    let base = [
        ("response_type", "code"),
        ("client_id", BASIC_ID),
        ("redirect_uri", BASIC_CALLBACK),
        ("state", "r"),
    ];
    let repeats = [
        ("response_type", "code"),
        ("client_id", BASIC_ID),
        ("redirect_uri", BASIC_CALLBACK),
        ("state", "other"),
        ("state", ""),
        ("scope", "email"),
    ];
    for extra in repeats {
        let mut q = base.to_vec();
        q.push(extra);
        if extra.0 == "scope" {
            q.push(extra);
        }
        assert_error_page(&b.open(&q).await, 400);
    }
}

/// Unknown parameters are ignored: the flow completes as without them (R4).
#[tokio::test]
async fn unknown_parameters_are_ignored() {
    let s = TestServer::start().await;
    let base = basic_request("u");
    let mut req = pairs(&base);
    req.extend([
        ("nonce", "n-0S6_WzA2Mj"),
        ("prompt", "login"),
        ("x-custom", "whatever value"),
        ("resource", "https://api.example/"),
    ]);
    let cb = approve(&s, &req).await;
    assert_eq!(cb.get("state"), Some("u"));
    assert_eq!(cb.get("nonce"), None);
    tokens(&redeem_basic(&s, &cb.code(), &[("redirect_uri", BASIC_CALLBACK)]).await);
}

/// Parameters sent without a value are treated as omitted (R4).
#[tokio::test]
async fn empty_parameters_are_treated_as_omitted() {
    let s = TestServer::start().await;
    let b = Browser::new(&s);
    let raw = format!(
        "response_type=code&client_id={POST_ID}&redirect_uri=&scope=&state=&code_challenge=&code_challenge_method=&foo="
    );
    let page = b.open_raw(&raw).await;
    assert_eq!(page.status, 200, "{}", page.text);
    let r = b
        .answer(&page, Some(ALICE), Some(ALICE_PASSWORD), "approve")
        .await;
    assert_eq!(r.status, 303, "{}", r.text);
    let cb = Callback::from_reply(&r);
    assert_eq!(cb.target, POST_CALLBACK);
    assert_eq!(cb.count("state"), 0, "{}", cb.location);
    // No redirect_uri was sent, so none is needed at the token endpoint; the scope is the
    // default, and no PKCE was used.
    let t = tokens(
        &s.token_form(&[
            ("grant_type", "authorization_code"),
            ("code", &cb.code()),
            ("client_id", POST_ID),
            ("client_secret", POST_SECRET),
        ])
        .await,
    );
    assert_eq!(t["scope"], "email profile");
    let raw = format!("response_type=&client_id={BASIC_ID}&redirect_uri=&state=e");
    assert_error_page(&b.open_raw(&raw).await, 400);
    let raw = format!("response_type=&client_id={POST_ID}&state=e");
    assert_error_redirect(
        &b.open_raw(&raw).await,
        POST_CALLBACK,
        "invalid_request",
        Some("e"),
    );
}

/// iss in success and error responses equals the metadata issuer (R36; RFC 9207 §2).
#[tokio::test]
async fn iss_equals_metadata_issuer() {
    let s = TestServer::start().await;
    let md = metadata(&s).await;
    assert_eq!(md["authorization_response_iss_parameter_supported"], true);
    let issuer = md["issuer"].as_str().unwrap();
    let cb = approve(&s, &pairs(&basic_request("i"))).await;
    assert_eq!(cb.get("iss"), Some(issuer));
    let mut req = basic_request("i");
    req.push(("scope", "admin".into()));
    let r = Browser::new(&s).open(&pairs(&req)).await;
    let cb = assert_error_redirect(&r, BASIC_CALLBACK, "invalid_scope", Some("i"));
    assert_eq!(cb.get("iss"), Some(issuer));
}

/// PUT on the authorization endpoint is 405 with the protective headers.
#[tokio::test]
async fn put_is_method_not_allowed() {
    let s = TestServer::start().await;
    let q = query(&pairs(&basic_request("x")));
    let r = s
        .http
        .put(s.url(&format!("/oauth/authorize?{q}")))
        .send()
        .await
        .unwrap();
    let r = Reply::read(r).await;
    assert_error_page(&r, 405);
}

/// The 405 answer lists the allowed methods in Allow (RFC 9110 §15.5.6).
#[tokio::test]
async fn method_not_allowed_lists_allowed_methods() {
    let s = TestServer::start().await;
    let r = s.http.put(s.url("/oauth/authorize")).send().await.unwrap();
    let r = Reply::read(r).await;
    assert_eq!(r.status, 405);
    let allow = r.header("allow").expect("405 without Allow");
    let methods: Vec<&str> = allow.split(',').map(str::trim).collect();
    assert!(
        methods.contains(&"GET") && methods.contains(&"POST"),
        "{allow}"
    );
}

/// A body over the limit at the authorization endpoint gets a protected 413 HTML page, not JSON.
#[tokio::test]
async fn oversized_form_gets_an_error_page() {
    let s = TestServer::start().await;
    let body = format!("client_id=public-client&pad={}", "a".repeat(70 * 1024));
    let r = s
        .http
        .post(s.url("/oauth/authorize"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body)
        .send()
        .await
        .unwrap();
    let r = Reply::read(r).await;
    assert_error_page(&r, 413);
}

//! The script login UI (`login_ui = Script`, RFC 6749 §4.1.1, §4.1.2; RFC 9700 §4.16):
//! pages whose HTML has no form, built by a same-origin script, and the JSON API that
//! script calls. The helpers here do what the script does: read the `<meta>` tags,
//! post form-encoded bodies with the page's cookie, and follow `{"next": url}`.

mod api;
mod consent;
mod logs;

use reference_server::config::LoginUi;
use serde_json::Value;

use crate::common::*;
use crate::login::*;

/// The script's path, the sign-in API and the consent page and API.
const SCRIPT: &str = "/oauth/authorize/ui.js";
const LOGIN_API: &str = "/oauth/authorize/login";
const CONSENT: &str = "/oauth/authorize/consent";

/// A server with the script login UI.
async fn server() -> TestServer {
    TestServer::start_with(|c| c.login_ui = LoginUi::Script).await
}

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

/// The `content` of `<meta name="{name}" ...>`, unescaped.
fn meta(html: &str, name: &str) -> Option<String> {
    let needle = format!("<meta name=\"{name}\" content=\"");
    let start = html.find(&needle)? + needle.len();
    let len = html[start..].find('"')?;
    Some(
        html[start..start + len]
            .replace("&quot;", "\"")
            .replace("&#39;", "'")
            .replace("&lt;", "<")
            .replace("&gt;", ">")
            .replace("&amp;", "&"),
    )
}

/// Decodes a form-encoded string into pairs.
fn decode_pairs(s: &str) -> Vec<(String, String)> {
    s.split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (decode(k), decode(v))
        })
        .collect()
}

/// Headers every page and answer of the UI carries: no framing, no caching, no referrer.
fn assert_protected(r: &Reply) {
    assert_eq!(
        r.header("x-frame-options").as_deref(),
        Some("DENY"),
        "{r:?}"
    );
    let csp = r.header("content-security-policy").unwrap_or_default();
    assert!(csp.contains("frame-ancestors 'none'"), "CSP: {csp:?}");
    assert_eq!(
        r.header("cache-control").as_deref(),
        Some("no-store"),
        "{r:?}"
    );
    assert_eq!(r.header("referrer-policy").as_deref(), Some("no-referrer"));
}

/// A script page: 200 HTML, no form and no input in its HTML, the script loaded from
/// this origin under a CSP that allows only that script, and the protective headers.
fn assert_script_page(r: &Reply) {
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.media_type(), "text/html", "{r:?}");
    let lower = r.text.to_ascii_lowercase();
    assert!(!lower.contains("<form"), "{}", r.text);
    assert!(!lower.contains("<input"), "{}", r.text);
    assert!(!lower.contains("<button"), "{}", r.text);
    assert_eq!(lower.matches("<script").count(), 1, "{}", r.text);
    assert!(
        r.text
            .contains(&format!("<script src=\"{SCRIPT}\" defer></script>")),
        "{}",
        r.text
    );
    assert!(r.text.contains("<div id=\"screen\"></div>"), "{}", r.text);
    assert_protected(r);
    let csp = r.header("content-security-policy").unwrap_or_default();
    let directive = |name: &str| {
        csp.split(';')
            .map(str::trim)
            .find(|d| d.split(' ').next() == Some(name))
            .map(str::to_owned)
    };
    assert_eq!(
        directive("script-src").as_deref(),
        Some("script-src 'self'")
    );
    assert_eq!(
        directive("connect-src").as_deref(),
        Some("connect-src 'self'")
    );
    assert_eq!(
        directive("default-src").as_deref(),
        Some("default-src 'none'")
    );
}

/// A refusal of the API: the status, `{"error", "message"}`, the protective headers.
fn assert_refusal(r: &Reply, status: u16, error: &str) {
    assert_eq!(r.status, status, "{}", r.text);
    assert_eq!(r.media_type(), "application/json", "{r:?}");
    assert_eq!(r.error(), error, "{}", r.text);
    assert!(
        r.json()["message"].as_str().is_some_and(|m| !m.is_empty()),
        "{}",
        r.text
    );
    assert!(r.json().get("next").is_none(), "{}", r.text);
    assert_protected(r);
}

/// The `next` of a 200 answer of the API.
fn next_of(r: &Reply) -> String {
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.media_type(), "application/json", "{r:?}");
    assert_protected(r);
    let body: Value = r.json();
    body["next"]
        .as_str()
        .unwrap_or_else(|| panic!("no next: {}", r.text))
        .to_owned()
}

/// What the script posts to the sign-in API for a login page.
fn sign_in_fields(page: &Reply, username: &str, password: &str) -> Vec<(String, String)> {
    let mut fields = decode_pairs(&meta(&page.text, "authorization-request").unwrap());
    fields.push(("csrf_token".into(), meta(&page.text, "csrf-token").unwrap()));
    fields.push(("username".into(), username.into()));
    fields.push(("password".into(), password.into()));
    fields
}

/// POSTs form fields to a path with the browser's cookies.
async fn post(s: &TestServer, b: &Browser, path: &str, fields: &[(String, String)]) -> Reply {
    let r = b.http.post(s.url(path)).form(fields).send().await.unwrap();
    Reply::read(r).await
}

/// GETs a path (or a `next` URL) with the browser's cookies.
async fn get(s: &TestServer, b: &Browser, path_or_url: &str) -> Reply {
    let url = if path_or_url.starts_with('/') {
        s.url(path_or_url)
    } else {
        path_or_url.to_owned()
    };
    Reply::read(b.http.get(url).send().await.unwrap()).await
}

/// Opens the login page and signs in as the script does; returns the API's answer.
async fn sign_in(
    s: &TestServer,
    b: &Browser,
    params: &[(&str, &str)],
    username: &str,
    password: &str,
) -> Reply {
    let page = b.open(params).await;
    assert_script_page(&page);
    post(s, b, LOGIN_API, &sign_in_fields(&page, username, password)).await
}

/// What the script posts to the consent API for a consent page.
fn consent_fields(page: &Reply, action: &str) -> Vec<(String, String)> {
    vec![
        (
            "interaction".into(),
            meta(&page.text, "interaction").unwrap(),
        ),
        ("csrf_token".into(), meta(&page.text, "csrf-token").unwrap()),
        ("action".into(), action.into()),
    ]
}

/// Signs in as alice, opens the consent page the API names, and answers it with
/// `action`; returns the URL the script would go to.
async fn answer_as_alice(s: &TestServer, params: &[(&str, &str)], action: &str) -> String {
    let b = Browser::new(s);
    let next = next_of(&sign_in(s, &b, params, ALICE, ALICE_PASSWORD).await);
    assert!(
        next.starts_with(&format!("{CONSENT}?interaction=")),
        "{next}"
    );
    let page = get(s, &b, &next).await;
    assert_script_page(&page);
    next_of(&post(s, &b, CONSENT, &consent_fields(&page, action)).await)
}

/// The login page has no form or input in its HTML: a same-origin script builds them;
/// the CSRF token (equal to the cookie) and the request are in `<meta>` tags.
#[tokio::test]
async fn login_page_is_built_by_script() {
    let s = server().await;
    let r = Browser::new(&s).open(&pairs(&basic_request("s1"))).await;
    assert_script_page(&r);
    assert!(r.text.contains("Basic Client"), "{}", r.text);
    assert!(r.text.contains("<code>profile</code>"), "{}", r.text);
    assert_eq!(meta(&r.text, "ui-page").as_deref(), Some("login"));
    let token = meta(&r.text, "csrf-token").unwrap();
    assert!(token.len() >= 32, "{token}");
    let cookie = r.header("set-cookie").expect("no Set-Cookie");
    let attrs: Vec<&str> = cookie.split(';').map(str::trim).collect();
    assert_eq!(attrs[0], format!("oauth_csrf={token}"), "{cookie}");
    assert!(attrs.contains(&"HttpOnly"), "{cookie}");
    assert!(attrs.contains(&"SameSite=Strict"), "{cookie}");
    let request = decode_pairs(&meta(&r.text, "authorization-request").unwrap());
    let get = |n: &str| {
        request
            .iter()
            .find(|(k, _)| k == n)
            .map(|(_, v)| v.as_str())
    };
    assert_eq!(get("client_id"), Some(BASIC_ID));
    assert_eq!(get("response_type"), Some("code"));
    assert_eq!(get("redirect_uri"), Some(BASIC_CALLBACK));
    assert_eq!(get("state"), Some("s1"));
    assert_eq!(get("csrf_token"), None, "the token has its own tag");
}

/// Markup in the request's state adds no tag to the page and comes back exactly.
#[tokio::test]
async fn markup_in_state_stays_text() {
    let s = server().await;
    let state = "\"><script>alert(1)</script><form>";
    let r = Browser::new(&s).open(&pairs(&basic_request(state))).await;
    assert_script_page(&r);
    let request = decode_pairs(&meta(&r.text, "authorization-request").unwrap());
    assert!(
        request.contains(&("state".into(), state.into())),
        "{request:?}"
    );
}

/// The script is served from this origin as JavaScript, with `nosniff`, and builds the
/// two login screens and the consent screen with the names and labels a driver uses.
#[tokio::test]
async fn script_is_served() {
    let s = server().await;
    let r = Reply::read(s.http.get(s.url(SCRIPT)).send().await.unwrap()).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.media_type(), "text/javascript");
    assert_eq!(
        r.header("x-content-type-options").as_deref(),
        Some("nosniff")
    );
    assert_protected(&r);
    for needle in [
        "\"username-form\"",
        "name: \"username\"",
        "autocomplete: \"username\"",
        "[\"Next\"]",
        "\"password-form\"",
        "type: \"password\"",
        "name: \"password\"",
        "[\"Sign in\"]",
        "[\"Approve\"]",
        "[\"Deny\"]",
        "preventDefault()",
        "window.location.assign",
        LOGIN_API,
        CONSENT,
    ] {
        assert!(r.text.contains(needle), "the script lacks {needle}");
    }
    assert!(!r.text.contains("http://") && !r.text.contains("https://"));
    let post = Reply::read(s.http.post(s.url(SCRIPT)).send().await.unwrap()).await;
    assert_eq!(post.status, 405);
}

/// The plain UI serves none of the script UI's paths.
#[tokio::test]
async fn plain_ui_has_no_script_paths() {
    let s = TestServer::start().await;
    for path in [SCRIPT, LOGIN_API, CONSENT] {
        let r = Reply::read(s.http.get(s.url(path)).send().await.unwrap()).await;
        assert_eq!(r.status, 404, "{path}: {}", r.text);
    }
}

/// `--login-ui script` and `REFERENCE_SERVER_LOGIN_UI=script` select the script UI in
/// the binary; an unknown value is refused with exit code 2, naming the choices.
#[tokio::test]
async fn binary_flag_and_environment() {
    let dir = tempfile::tempdir().unwrap();
    let db = fresh_database(dir.path(), "b.sqlite");
    let log = dir.path().join("b.log");
    let args: [&[&str]; 2] = [&["--login-ui", "script"], &[]];
    let envs: [&[(&str, &str)]; 2] = [&[], &[("REFERENCE_SERVER_LOGIN_UI", "script")]];
    for (args, envs) in args.into_iter().zip(envs) {
        let server = BinaryServer::spawn_with(&db, &log, "warn", args, envs).await;
        let page = Browser::at(&server.base)
            .open(&pairs(&basic_request("s")))
            .await;
        assert_script_page(&page);
    }
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_reference-server"))
        .args(["--login-ui", "fancy"])
        .env_clear()
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("plain") && stderr.contains("script"),
        "{stderr}"
    );
}

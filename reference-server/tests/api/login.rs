//! A browserless driver for the authorization endpoint (RFC 6749 §4.1.1, §4.1.2): it
//! opens the login page with a cookie-keeping client that does not follow redirects,
//! reads the form's hidden fields by plain string search, submits the form with the
//! user's credentials, and parses the 303 `Location` into its query parameters. Also the
//! token-endpoint helpers the code-grant tests share.

use serde_json::Value;

use crate::common::*;

/// The redirection URIs of the fixtures.
pub const BASIC_CALLBACK: &str = "https://basic.example/callback";
pub const BASIC_OTHER: &str = "https://basic.example/other?from=seed";
pub const POST_CALLBACK: &str = "https://post.example/callback";
pub const PUBLIC_CALLBACK: &str = "http://127.0.0.1/callback";
pub const SECOND_CALLBACK: &str = "https://second.example/callback";

/// A fixed, valid PKCE verifier (RFC 7636 §4.1: 43..128 unreserved characters).
pub const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk-._~0123456789";

/// The PKCE S256 challenge of a verifier (RFC 7636 §4.2).
pub use oauth2_fuzz::wire::s256;

/// An `application/x-www-form-urlencoded` query string, in the given order (repeats
/// allowed, so tests can send a parameter twice).
pub use oauth2_fuzz::wire::query;

/// Decodes one `application/x-www-form-urlencoded` component (`+` is a space).
pub fn decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' => {
                let hex = bytes
                    .get(i + 1..i + 3)
                    .and_then(|h| std::str::from_utf8(h).ok())
                    .and_then(|h| u8::from_str_radix(h, 16).ok())
                    .unwrap_or_else(|| panic!("bad percent-encoding in {s:?}"));
                out.push(hex);
                i += 2;
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8(out).unwrap_or_else(|_| panic!("not UTF-8 once decoded: {s:?}"))
}

/// Undoes the HTML escaping of an attribute value.
fn unescape_html(s: &str) -> String {
    s.replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

/// The value of attribute `name` inside one tag's text (double-quoted values only, as the
/// server writes them).
fn attribute(tag: &str, name: &str) -> Option<String> {
    let needle = format!(" {name}=\"");
    let start = tag.find(&needle)? + needle.len();
    let len = tag[start..].find('"')?;
    Some(unescape_html(&tag[start..start + len]))
}

/// Every `<input ...>` tag of a page.
fn input_tags(html: &str) -> Vec<&str> {
    let mut tags = Vec::new();
    let mut rest = html;
    while let Some(i) = rest.find("<input") {
        let tag_start = &rest[i..];
        let end = tag_start.find('>').expect("unterminated <input> tag");
        tags.push(&tag_start[..=end]);
        rest = &tag_start[end + 1..];
    }
    tags
}

/// The hidden fields of the login form, in page order, values unescaped.
pub fn hidden_fields(html: &str) -> Vec<(String, String)> {
    input_tags(html)
        .into_iter()
        .filter(|t| attribute(t, "type").as_deref() == Some("hidden"))
        .map(|t| {
            (
                attribute(t, "name").expect("hidden input without a name"),
                attribute(t, "value").unwrap_or_default(),
            )
        })
        .collect()
}

/// The value of one hidden field.
pub fn hidden(html: &str, name: &str) -> Option<String> {
    hidden_fields(html)
        .into_iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v)
}

/// The names of the visible inputs (`email`, `password`).
pub fn visible_inputs(html: &str) -> Vec<String> {
    input_tags(html)
        .into_iter()
        .filter(|t| attribute(t, "type").as_deref() != Some("hidden"))
        .filter_map(|t| attribute(t, "name"))
        .collect()
}

/// The `<form ...>` opening tag.
pub fn form_tag(html: &str) -> Option<&str> {
    let i = html.find("<form")?;
    let end = html[i..].find('>')?;
    Some(&html[i..=i + end])
}

/// The parsed redirect back to the client.
#[derive(Debug)]
pub struct Callback {
    /// The whole `Location` value.
    pub location: String,
    /// The `Location` up to (not including) the `?`.
    pub target: String,
    /// The decoded query parameters, in order.
    pub params: Vec<(String, String)>,
}

impl Callback {
    /// Parses a redirect reply; panics when there is no `Location`.
    pub fn from_reply(r: &Reply) -> Self {
        let location = r
            .header("location")
            .unwrap_or_else(|| panic!("no Location in a {} answer: {}", r.status, r.text));
        Self::from_url(location)
    }

    /// Parses the URL of a redirect back to the client.
    pub fn from_url(location: String) -> Self {
        assert!(
            !location.contains('#'),
            "the redirect carries a fragment: {location}"
        );
        let (target, q) = location.split_once('?').unwrap_or((&location, ""));
        let params = q
            .split('&')
            .filter(|p| !p.is_empty())
            .map(|p| {
                let (k, v) = p.split_once('=').unwrap_or((p, ""));
                (decode(k), decode(v))
            })
            .collect();
        Self {
            target: target.to_owned(),
            location: location.clone(),
            params,
        }
    }

    /// The value of a query parameter, if present.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// The value of a query parameter that must be present.
    pub fn param(&self, name: &str) -> &str {
        self.get(name)
            .unwrap_or_else(|| panic!("no {name} in {}", self.location))
    }

    /// How many times a parameter appears.
    pub fn count(&self, name: &str) -> usize {
        self.params.iter().filter(|(k, _)| k == name).count()
    }

    /// The authorization code of a successful response.
    pub fn code(&self) -> String {
        assert_eq!(
            self.get("error"),
            None,
            "an error came back: {}",
            self.location
        );
        self.param("code").to_owned()
    }
}

/// A cookie-keeping user agent that does not follow redirects.
pub struct Browser {
    pub http: reqwest::Client,
    base: String,
}

impl Browser {
    /// A fresh user agent (empty cookie jar) for a server.
    pub fn new(s: &TestServer) -> Self {
        Self::at(&s.base)
    }

    /// A fresh user agent for the server at `base` (`http://host:port`).
    pub fn at(base: &str) -> Self {
        crate::common::install_tls();
        let http = reqwest::Client::builder()
            .cookie_store(true)
            .redirect(reqwest::redirect::Policy::none())
            .timeout(std::time::Duration::from_secs(30))
            .build()
            .unwrap();
        Self {
            http,
            base: base.to_owned(),
        }
    }

    /// GET /oauth/authorize with a raw query string.
    pub async fn open_raw(&self, raw_query: &str) -> Reply {
        let r = self
            .http
            .get(format!("{}/oauth/authorize?{raw_query}", self.base))
            .send()
            .await
            .unwrap();
        Reply::read(r).await
    }

    /// GET /oauth/authorize with parameters.
    pub async fn open(&self, params: &[(&str, &str)]) -> Reply {
        self.open_raw(&query(params)).await
    }

    /// POSTs fields to the form's action, `/oauth/authorize`.
    pub async fn submit(&self, fields: &[(String, String)]) -> Reply {
        let r = self
            .http
            .post(format!("{}/oauth/authorize", self.base))
            .form(fields)
            .send()
            .await
            .unwrap();
        Reply::read(r).await
    }

    /// Fills a login page's form and submits it with `action` (`approve` or `deny`).
    pub async fn answer(
        &self,
        page: &Reply,
        email: Option<&str>,
        password: Option<&str>,
        action: &str,
    ) -> Reply {
        self.submit(&fill(page, email, password, action)).await
    }
}

/// The fields a browser would post for this page: the hidden fields, the credentials
/// and the clicked button. Checks the form's method and action first.
pub fn fill(
    page: &Reply,
    email: Option<&str>,
    password: Option<&str>,
    action: &str,
) -> Vec<(String, String)> {
    assert_eq!(page.status, 200, "not a login page: {}", page.text);
    let form = form_tag(&page.text).expect("the page has no form");
    assert_eq!(attribute(form, "method").as_deref(), Some("post"), "{form}");
    assert_eq!(
        attribute(form, "action").as_deref(),
        Some("authorize"),
        "{form}"
    );
    let mut fields = hidden_fields(&page.text);
    if let Some(e) = email {
        fields.push(("email".into(), e.into()));
    }
    if let Some(p) = password {
        fields.push(("password".into(), p.into()));
    }
    fields.push(("action".into(), action.into()));
    fields
}

/// The whole flow for one user: open the page, sign in, click `approve`; returns the
/// redirect (asserting it is a 303 with a `Location`).
pub async fn approve_as(
    s: &TestServer,
    params: &[(&str, &str)],
    email: &str,
    password: &str,
) -> Callback {
    let b = Browser::new(s);
    let page = b.open(params).await;
    assert_eq!(page.status, 200, "login page expected: {}", page.text);
    let r = b
        .answer(&page, Some(email), Some(password), "approve")
        .await;
    assert_eq!(r.status, 303, "{}", r.text);
    Callback::from_reply(&r)
}

/// Alice approves the request; returns the redirect.
pub async fn approve(s: &TestServer, params: &[(&str, &str)]) -> Callback {
    approve_as(s, params, ALICE, ALICE_PASSWORD).await
}

/// Alice approves the request; returns the code.
pub async fn code_for(s: &TestServer, params: &[(&str, &str)]) -> String {
    approve(s, params).await.code()
}

/// A code for basic-client to `BASIC_CALLBACK`, approved by alice, no PKCE.
pub async fn basic_code(s: &TestServer) -> String {
    code_for(
        s,
        &[
            ("response_type", "code"),
            ("client_id", BASIC_ID),
            ("redirect_uri", BASIC_CALLBACK),
            ("state", "xyz"),
        ],
    )
    .await
}

/// A code for public-client with an S256 challenge of `verifier`, approved by alice.
pub async fn public_code(s: &TestServer, verifier: &str) -> String {
    let challenge = s256(verifier);
    code_for(
        s,
        &[
            ("response_type", "code"),
            ("client_id", PUBLIC_ID),
            ("redirect_uri", PUBLIC_CALLBACK),
            ("code_challenge", &challenge),
            ("code_challenge_method", "S256"),
        ],
    )
    .await
}

/// Redeems a code as basic-client (HTTP Basic), adding `extra` parameters.
pub async fn redeem_basic(s: &TestServer, code: &str, extra: &[(&str, &str)]) -> Reply {
    let mut form = vec![("grant_type", "authorization_code"), ("code", code)];
    form.extend_from_slice(extra);
    s.token_basic(BASIC_ID, BASIC_SECRET, &form).await
}

/// Redeems a code as public-client (only `client_id` in the body).
pub async fn redeem_public(s: &TestServer, code: &str, extra: &[(&str, &str)]) -> Reply {
    let mut form = vec![
        ("grant_type", "authorization_code"),
        ("code", code),
        ("client_id", PUBLIC_ID),
        ("redirect_uri", PUBLIC_CALLBACK),
    ];
    form.extend_from_slice(extra);
    s.token_form(&form).await
}

/// Asserts a §5.1 success and returns the body.
pub fn tokens(r: &Reply) -> Value {
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.header("cache-control").as_deref(), Some("no-store"));
    let t = r.json();
    assert!(t["access_token"].as_str().is_some_and(|a| !a.is_empty()));
    assert_eq!(t["token_type"], "Bearer");
    t
}

/// Asserts a §5.2 error with this code (400).
pub fn assert_token_error(r: &Reply, code: &str) {
    assert_eq!(r.status, 400, "{}", r.text);
    assert_eq!(r.error(), code, "{}", r.text);
    assert_eq!(r.header("cache-control").as_deref(), Some("no-store"));
}

/// The issuer the running server uses.
pub fn issuer(s: &TestServer) -> String {
    s.server.as_ref().unwrap().issuer().to_owned()
}

/// GET the metadata document at the default path.
pub async fn metadata(s: &TestServer) -> Value {
    let r = s
        .http
        .get(s.url("/.well-known/oauth-authorization-server"))
        .send()
        .await
        .unwrap();
    let r = Reply::read(r).await;
    assert_eq!(r.status, 200, "{}", r.text);
    r.json()
}

/// A refresh-token grant with HTTP Basic.
pub async fn refresh_basic(s: &TestServer, id: &str, secret: &str, rt: &str) -> Reply {
    s.token_basic(
        id,
        secret,
        &[("grant_type", "refresh_token"), ("refresh_token", rt)],
    )
    .await
}

/// POST /oauth/introspect with HTTP Basic.
pub async fn introspect_basic(
    s: &TestServer,
    id: &str,
    secret: &str,
    form: &[(&str, &str)],
) -> Reply {
    let r = s
        .http
        .post(s.url("/oauth/introspect"))
        .basic_auth(form_encode(id), Some(form_encode(secret)))
        .form(form)
        .send()
        .await
        .unwrap();
    Reply::read(r).await
}

/// POST /oauth/introspect with the form as is (no Authorization header).
pub async fn introspect_form(s: &TestServer, form: &[(&str, &str)]) -> Reply {
    let r = s
        .http
        .post(s.url("/oauth/introspect"))
        .form(form)
        .send()
        .await
        .unwrap();
    Reply::read(r).await
}

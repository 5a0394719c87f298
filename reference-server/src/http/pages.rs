//! The HTML pages of the authorization endpoint: the login and consent form and the
//! error page. Plain HTML without JavaScript, so any HTTP client can drive them, with
//! headers against framing, caching and referrer leaks (RFC 9700 §4.16, §4.2.4).
//!
//! The script login UI ([`crate::config::LoginUi::Script`]) has its own login and
//! consent pages: the same headings and scope list, no form in the HTML, and the
//! same-origin script `ui.js` that builds the screens, allowed by their own
//! Content-Security-Policy (`script-src 'self'`, `connect-src 'self'`); the plain pages
//! keep theirs, which allows no script at all.

use warp::Reply as _;
use warp::http::StatusCode;
use warp::http::header::{
    CACHE_CONTROL, HeaderName, HeaderValue, PRAGMA, REFERRER_POLICY, X_FRAME_OPTIONS,
};
use warp::reply::Response;

use crate::grant::authorize::AuthorizeRequest;
use crate::grant::params::encode_component;
use crate::grant::scope::Scope;

/// Where the script login UI's script is served.
pub const SCRIPT_PATH: &str = "/oauth/authorize/ui.js";

/// The Content-Security-Policy of the script login UI's pages: the plain pages' policy
/// plus the same-origin script and its `fetch` calls, no inline script, no `<base>`,
/// and forms submitted only to this origin.
const SCRIPT_CSP: &str = "default-src 'none'; script-src 'self'; connect-src 'self'; \
style-src 'unsafe-inline'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

const STYLE: &str = "body{font-family:system-ui,sans-serif;max-width:28rem;margin:3rem auto;padding:0 1rem;color:#222}\
h1{font-size:1.4rem}label{display:block;margin:.8rem 0}input[type=email],input[type=text],input[type=password]{display:block;width:100%;padding:.4rem;margin-top:.2rem}\
button{padding:.5rem 1.2rem;margin-right:.6rem}.error{color:#a00;border:1px solid #a00;padding:.5rem}code{background:#eee;padding:0 .2rem}";

/// Escapes text for HTML element content and attribute values.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

/// Headers every authorization page and redirect carries: no framing
/// (`X-Frame-Options: DENY`, CSP `frame-ancestors 'none'`), no caching, no referrer.
pub fn secure(mut r: Response) -> Response {
    let h = r.headers_mut();
    h.insert(X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(
        HeaderName::from_static("content-security-policy"),
        HeaderValue::from_static(
            "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'",
        ),
    );
    h.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(PRAGMA, HeaderValue::from_static("no-cache"));
    h.insert(REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    r
}

/// The headers of [`secure`], with the script login UI's Content-Security-Policy.
pub fn secure_script(r: Response) -> Response {
    let mut r = secure(r);
    r.headers_mut().insert(
        HeaderName::from_static("content-security-policy"),
        HeaderValue::from_static(SCRIPT_CSP),
    );
    r
}

/// A whole HTML document; `head` is markup the caller built and escaped.
fn document(title: &str, head: &str, body: &str) -> String {
    format!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
<title>{title}</title><style>{STYLE}</style>{head}</head>\n<body><main>\n{body}\n</main></body></html>\n",
        title = escape(title),
    )
}

fn page(status: StatusCode, title: &str, body: &str) -> Response {
    let html = document(title, "", body);
    secure(warp::reply::with_status(warp::reply::html(html), status).into_response())
}

/// A page of the script login UI: `meta` becomes `<meta name content>` tags the script
/// reads, the script is loaded from [`SCRIPT_PATH`], and `body` gets the element the
/// script fills, a message line, and a note for browsers without JavaScript.
fn script_page(title: &str, meta: &[(&str, &str)], body: &str) -> Response {
    let mut head = String::new();
    for (name, content) in meta {
        head.push_str(&format!(
            "<meta name=\"{name}\" content=\"{}\">",
            escape(content)
        ));
    }
    head.push_str(&format!("<script src=\"{SCRIPT_PATH}\" defer></script>"));
    let body = format!(
        "{body}\n<p id=\"message\" class=\"error\" role=\"alert\" hidden></p>\n\
<div id=\"screen\"></div>\n<noscript><p class=\"error\">This page needs JavaScript. \
Turn it on and reload the page.</p></noscript>"
    );
    let html = document(title, &head, &body);
    secure_script(warp::reply::with_status(warp::reply::html(html), StatusCode::OK).into_response())
}

/// The error page shown instead of redirecting (unknown client, bad redirect URI, bad
/// form).
pub fn error_page(status: StatusCode, message: &str) -> Response {
    page(
        status,
        "Authorization error",
        &format!(
            "<h1>Authorization error</h1>\n<p class=\"error\" role=\"alert\">{}</p>\n\
<p>Nothing was shared with the application. Go back to it and start again.</p>",
            escape(message)
        ),
    )
}

fn describe(scope: &str) -> &'static str {
    match scope {
        "profile" => "your account id and email address",
        "email" => "your email address",
        _ => "",
    }
}

/// What the login form needs to render. `Debug` leaves out the CSRF token.
pub struct LoginForm<'a> {
    /// The validated request.
    pub request: &'a AuthorizeRequest,
    /// The client's display name.
    pub client_name: &'a str,
    /// The requested `scope` parameter as sent (kept so the POST revalidates the same
    /// request), if any.
    pub scope_param: Option<&'a str>,
    /// The CSRF token for the hidden field (its twin is in a cookie).
    pub csrf: &'a str,
    /// The email to prefill after a failed attempt.
    pub email: Option<&'a str>,
    /// An error to show above the form.
    pub error: Option<&'a str>,
}

impl std::fmt::Debug for LoginForm<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LoginForm")
            .field("request", &self.request)
            .field("client_name", &self.client_name)
            .field("scope_param", &self.scope_param)
            .field("csrf", &"[redacted]")
            .field("email", &self.email)
            .field("error", &self.error)
            .finish()
    }
}

/// The parameters that let the form's submission revalidate the request exactly as
/// the GET did.
fn request_fields<'a>(f: &'a LoginForm<'_>) -> Vec<(&'static str, &'a str)> {
    let r = f.request;
    // A pushed request (RFC 9126) is carried by reference: the parameters stay on the
    // server, and the answer is checked against them again.
    if let Some(uri) = &r.request_uri {
        return vec![("client_id", r.client_id.as_str()), ("request_uri", uri)];
    }
    let mut fields = vec![
        ("client_id", r.client_id.as_str()),
        ("response_type", "code"),
    ];
    if r.redirect_uri_sent {
        fields.push(("redirect_uri", &r.redirect_uri));
    }
    if let Some(s) = f.scope_param {
        fields.push(("scope", s));
    }
    if let Some(s) = &r.state {
        fields.push(("state", s));
    }
    if let Some(c) = &r.challenge {
        fields.push(("code_challenge", &c.value));
        fields.push(("code_challenge_method", c.method.as_str()));
    }
    fields
}

/// The list items naming each scope and what it shares.
fn scope_items(scope: &Scope) -> String {
    scope
        .iter()
        .map(|s| format!("<li><code>{}</code> {}</li>", escape(s), describe(s)))
        .collect()
}

/// The login and consent page: the client, the scopes, email and password, Approve and
/// Deny.
pub fn login_page(f: &LoginForm<'_>) -> Response {
    let r = f.request;
    let mut hidden = String::new();
    let mut field = |name: &str, value: &str| {
        hidden.push_str(&format!(
            "<input type=\"hidden\" name=\"{name}\" value=\"{}\">\n",
            escape(value)
        ));
    };
    for (name, value) in request_fields(f) {
        field(name, value);
    }
    field("csrf_token", f.csrf);
    let scopes = scope_items(&r.scope);
    let error = f
        .error
        .map(|e| format!("<p class=\"error\" role=\"alert\">{}</p>\n", escape(e)))
        .unwrap_or_default();
    let body = format!(
        "<h1>Sign in to continue to {name}</h1>\n\
<p><strong>{name}</strong> asks to access your account with these permissions:</p>\n<ul>{scopes}</ul>\n\
{error}<form method=\"post\" action=\"authorize\">\n{hidden}\
<label>Email <input type=\"email\" name=\"email\" autocomplete=\"username\" required value=\"{email}\"></label>\n\
<label>Password <input type=\"password\" name=\"password\" autocomplete=\"current-password\" required></label>\n\
<button type=\"submit\" name=\"action\" value=\"approve\">Approve</button>\n\
<button type=\"submit\" name=\"action\" value=\"deny\" formnovalidate>Deny</button>\n</form>",
        name = escape(f.client_name),
        email = escape(f.email.unwrap_or("")),
    );
    page(StatusCode::OK, "Sign in", &body)
}

/// The script login UI's login page: the client and the scopes as on the plain page,
/// and for the script the CSRF token (`csrf-token`) and the authorization request as a
/// form-encoded string (`authorization-request`), in `<meta>` tags. No form: the script
/// builds the user-name screen, then the password screen.
pub fn script_login_page(f: &LoginForm<'_>) -> Response {
    let request = request_fields(f)
        .into_iter()
        .map(|(k, v)| format!("{k}={}", encode_component(v)))
        .collect::<Vec<_>>()
        .join("&");
    let body = format!(
        "<h1>Sign in to continue to {name}</h1>\n\
<p><strong>{name}</strong> asks to access your account with these permissions:</p>\n<ul>{scopes}</ul>",
        name = escape(f.client_name),
        scopes = scope_items(&f.request.scope),
    );
    script_page(
        "Sign in",
        &[
            ("ui-page", "login"),
            ("csrf-token", f.csrf),
            ("authorization-request", &request),
        ],
        &body,
    )
}

/// What the script login UI's consent page shows. `Debug` leaves out the CSRF token.
pub struct ConsentView<'a> {
    /// The client's display name.
    pub client_name: &'a str,
    /// The scope to be granted.
    pub scope: &'a Scope,
    /// Who signed in.
    pub email: &'a str,
    /// The interaction id of the sign-in.
    pub interaction: &'a str,
    /// The CSRF token (its twin is in a cookie).
    pub csrf: &'a str,
}

impl std::fmt::Debug for ConsentView<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ConsentView")
            .field("client_name", &self.client_name)
            .field("scope", &self.scope)
            .field("email", &self.email)
            .field("interaction", &"[redacted]")
            .field("csrf", &"[redacted]")
            .finish()
    }
}

/// The script login UI's consent page: who signed in, the client and the scopes, and
/// for the script the CSRF token and the interaction id in `<meta>` tags. No form: the
/// script builds the Approve and Deny buttons.
pub fn script_consent_page(v: &ConsentView<'_>) -> Response {
    let body = format!(
        "<h1>Allow {name} to access your account?</h1>\n\
<p>Signed in as <strong>{email}</strong>.</p>\n\
<p><strong>{name}</strong> asks to access your account with these permissions:</p>\n<ul>{scopes}</ul>",
        name = escape(v.client_name),
        email = escape(v.email),
        scopes = scope_items(v.scope),
    );
    script_page(
        "Allow access",
        &[
            ("ui-page", "consent"),
            ("csrf-token", v.csrf),
            ("interaction", v.interaction),
        ],
        &body,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Debug output of the login form never shows its CSRF token.
    #[test]
    fn login_form_debug_redacts_the_csrf_token() {
        let request = AuthorizeRequest {
            client_id: "c".into(),
            redirect_uri: "https://c.example/cb".into(),
            redirect_uri_sent: true,
            scope: Scope::default(),
            state: None,
            challenge: None,
            request_uri: None,
        };
        let form = LoginForm {
            request: &request,
            client_name: "C",
            scope_param: None,
            csrf: "csrf-token-value-0123456789",
            email: None,
            error: None,
        };
        let debug = format!("{form:?}");
        assert!(!debug.contains("csrf-token-value"), "{debug}");
        assert!(debug.contains("[redacted]"), "{debug}");
    }

    /// Debug output of the consent view never shows its CSRF token or interaction id.
    #[test]
    fn consent_view_debug_redacts_the_tokens() {
        let view = ConsentView {
            client_name: "C",
            scope: &Scope::default(),
            email: "a@example.com",
            interaction: "interaction-id-0123456789",
            csrf: "csrf-token-value-0123456789",
        };
        let debug = format!("{view:?}");
        assert!(!debug.contains("csrf-token-value"), "{debug}");
        assert!(!debug.contains("interaction-id"), "{debug}");
    }

    /// The script UI's pages allow the same-origin script and its fetch calls; the plain
    /// pages' policy still allows no script.
    #[test]
    fn script_policy_is_apart_from_the_plain_one() {
        let plain = error_page(StatusCode::BAD_REQUEST, "x");
        let script = secure_script(error_page(StatusCode::BAD_REQUEST, "x"));
        let csp = |r: &Response| {
            r.headers()
                .get("content-security-policy")
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
                .unwrap_or_default()
        };
        assert!(!csp(&plain).contains("script-src"), "{}", csp(&plain));
        assert!(
            csp(&script).contains("script-src 'self';"),
            "{}",
            csp(&script)
        );
        assert!(csp(&script).contains("frame-ancestors 'none'"));
        assert_eq!(
            script.headers().get(X_FRAME_OPTIONS),
            plain.headers().get(X_FRAME_OPTIONS)
        );
    }
}

//! The HTML pages of the authorization endpoint: the login and consent form and the
//! error page. Plain HTML without JavaScript, so any HTTP client can drive them, with
//! headers against framing, caching and referrer leaks (RFC 9700 §4.16, §4.2.4).

use warp::Reply as _;
use warp::http::StatusCode;
use warp::http::header::{
    CACHE_CONTROL, HeaderName, HeaderValue, PRAGMA, REFERRER_POLICY, X_FRAME_OPTIONS,
};
use warp::reply::Response;

use crate::grant::authorize::AuthorizeRequest;

const STYLE: &str = "body{font-family:system-ui,sans-serif;max-width:28rem;margin:3rem auto;padding:0 1rem;color:#222}\
h1{font-size:1.4rem}label{display:block;margin:.8rem 0}input[type=email],input[type=password]{display:block;width:100%;padding:.4rem;margin-top:.2rem}\
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

fn page(status: StatusCode, title: &str, body: &str) -> Response {
    let html = format!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
<title>{title}</title><style>{STYLE}</style></head>\n<body><main>\n{body}\n</main></body></html>\n",
        title = escape(title),
    );
    secure(warp::reply::with_status(warp::reply::html(html), status).into_response())
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
    field("client_id", &r.client_id);
    field("response_type", "code");
    if r.redirect_uri_sent {
        field("redirect_uri", &r.redirect_uri);
    }
    if let Some(s) = f.scope_param {
        field("scope", s);
    }
    if let Some(s) = &r.state {
        field("state", s);
    }
    if let Some(c) = &r.challenge {
        field("code_challenge", &c.value);
        field("code_challenge_method", c.method.as_str());
    }
    field("csrf_token", f.csrf);
    let scopes: String = r
        .scope
        .iter()
        .map(|s| format!("<li><code>{}</code> {}</li>", escape(s), describe(s)))
        .collect();
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::grant::scope::Scope;

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
}

//! What a generated request's answer must not be. Each check names the requirement
//! row (document `robustness` of `features/requirements.tsv`) it enforces; nothing is
//! judged that the RFCs leave to the server (a refusal's exact 4xx when HTTP itself
//! names one, which clients a server knows, whether it rotates refresh tokens).

use oauth2_fuzz::Built;
use oauth2_fuzz::case::PROBE;

use super::send::{Answer, Response};
use crate::steps::params::SECTION_5_2;

/// A requirement the fuzzer checks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Row {
    /// `F1` ...
    pub id: &'static str,
    /// `must`, `should` or `may`, as the index says.
    pub level: &'static str,
    /// Section tags.
    pub sections: &'static [&'static str],
    /// What a finding of it is, in a few words.
    pub title: &'static str,
    /// The endpoints it is judged at (none: every request).
    pub at: &'static [Ep],
}

/// The rows, in index order.
pub const ROWS: &[Row] = &[
    Row {
        id: "F1",
        level: "must",
        sections: &["rfc9110-15.6", "rfc6749-5.2"],
        title: "No 5xx answer to a generated request",
        at: &[],
    },
    Row {
        id: "F2",
        level: "must",
        sections: &["rfc9110-15"],
        title: "Every well-formed request gets an answer: no dropped connection, no timeout",
        at: &[],
    },
    Row {
        id: "F3",
        level: "must",
        sections: &["rfc6749-5.2", "rfc7009-2.2.1"],
        title: "Token and revocation errors are 400 or 401 with a JSON object holding a registered error code",
        at: &[Ep::Token, Ep::Revoke],
    },
    Row {
        id: "F4",
        level: "must",
        sections: &["rfc6750-3"],
        title: "A 401 from the protected resource carries a Bearer challenge",
        at: &[Ep::Resource],
    },
    Row {
        id: "F5",
        level: "must",
        sections: &["rfc6749-4.1.2.1", "rfc6749-3.1.2.4"],
        title: "The authorization endpoint redirects only to a redirection URI registered for the client",
        at: &[Ep::Authorize],
    },
    Row {
        id: "F6",
        level: "must",
        sections: &["rfc6749-4.1.2", "rfc6749-4.1.3"],
        title: "No tokens for a redeemed code or a token request without grant_type",
        at: &[Ep::Token],
    },
    Row {
        id: "F7",
        level: "must",
        sections: &["rfc6749-10.14"],
        title: "No received value echoed unescaped into an HTML answer",
        at: &[],
    },
    Row {
        id: "F8",
        level: "may",
        sections: &["rfc6749-10.3", "rfc6749-10.5"],
        title: "No credential of the request echoed in an error answer",
        at: &[],
    },
];

/// The row with an id.
pub fn row(id: &str) -> &'static Row {
    ROWS.iter().find(|r| r.id == id).unwrap_or(&ROWS[0])
}

/// The endpoint a request was aimed at.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Ep {
    /// Token endpoint.
    Token,
    /// Authorization endpoint.
    Authorize,
    /// Revocation endpoint.
    Revoke,
    /// Introspection endpoint.
    Introspect,
    /// The protected resource.
    Resource,
    /// The metadata document.
    Metadata,
    /// A path next to one of them (a mutated path), or framing garbage.
    Other,
}

impl Ep {
    /// Its name in reports.
    pub fn name(self) -> &'static str {
        match self {
            Self::Token => "token endpoint",
            Self::Authorize => "authorization endpoint",
            Self::Revoke => "revocation endpoint",
            Self::Introspect => "introspection endpoint",
            Self::Resource => "protected resource",
            Self::Metadata => "metadata document",
            Self::Other => "mutated path or framing",
        }
    }
}

/// Codes later RFCs register for the token endpoint beside RFC 6749 §5.2's (RFC 8628
/// §3.5, RFC 8707 §2, RFC 9449 §5 and §8).
const TOKEN_EXTENSION_ERRORS: &[&str] = &[
    "authorization_pending",
    "slow_down",
    "access_denied",
    "expired_token",
    "invalid_target",
    "invalid_dpop_proof",
    "use_dpop_nonce",
];

/// RFC 7009 §2.2.1 adds `unsupported_token_type` to §5.2's codes.
const REVOKE_EXTENSION_ERRORS: &[&str] = &["unsupported_token_type"];

/// What the judge knows of the target beyond the request.
pub struct Context<'a> {
    /// Registered redirection URIs by client_id, as the profile names them.
    pub redirect_uris: &'a [(String, Vec<String>)],
    /// Origins a redirect may stay within (the authorization server's, the login's).
    pub own_origins: &'a [String],
    /// Credentials of the profile (client secrets, passwords) that must not come back.
    pub credentials: &'a [String],
}

/// A finding: the row it breaks and what was seen. `kind` groups findings of one
/// cause (a status, a code) for the report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Breach {
    /// The row.
    pub row: &'static str,
    /// A short label of the cause.
    pub kind: String,
    /// What was expected and what came.
    pub what: String,
}

fn breach(row: &'static str, kind: impl Into<String>, what: impl Into<String>) -> Breach {
    Breach {
        row,
        kind: kind.into(),
        what: what.into(),
    }
}

/// Parameters whose values are credentials (RFC 6749 §2.3.1, §4.1.3, §4.3.2, §6; RFC
/// 7009 §2.1; RFC 7662 §2.1; RFC 6750 §2.2; RFC 7636 §4.5).
const CREDENTIAL_PARAMS: &[&str] = &[
    "client_secret",
    "password",
    "code",
    "refresh_token",
    "token",
    "access_token",
    "code_verifier",
];

/// Methods every HTTP server knows (RFC 9110 §9.3).
const KNOWN_METHODS: &[&str] = &["GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS", "PATCH"];

/// Whether the request is well-formed HTTP/1.1 of a size any server reads, so that it
/// deserves an answer rather than a closed connection.
pub fn well_formed(req: &oauth2_fuzz::Request) -> bool {
    let header_bytes: usize = req.headers.iter().map(|(k, v)| k.len() + v.len() + 4).sum();
    req.garbage.is_none()
        && req.target.starts_with(b"/")
        && req.target.len() < 8 * 1024
        && req.target.iter().all(|b| (0x21..=0x7e).contains(b))
        && KNOWN_METHODS.contains(&req.method.as_str())
        && req.headers.len() <= 50
        && header_bytes < 8 * 1024
        && req.body.len() < 32 * 1024
        && !req.chunked
        && req.headers.iter().all(|(k, v)| {
            reqwest::header::HeaderName::from_bytes(k.as_bytes()).is_ok()
                && !k.eq_ignore_ascii_case("transfer-encoding")
                && !k.eq_ignore_ascii_case("expect")
                && !k.eq_ignore_ascii_case("content-length")
                && v.iter().all(|b| *b >= 0x20 && *b != 0x7f || *b == b'\t')
        })
}

/// The decoded values of a parameter in the query and (for a form body) the body.
pub fn params(req: &oauth2_fuzz::Request, name: &str) -> Vec<String> {
    let query = req
        .target
        .splitn(2, |b| *b == b'?')
        .nth(1)
        .unwrap_or_default()
        .to_vec();
    [query, req.body.clone()]
        .iter()
        .flat_map(|part| {
            part.split(|b| *b == b'&')
                .filter_map(|p| {
                    let i = p.iter().position(|b| *b == b'=')?;
                    let k = crate::http::decode(&String::from_utf8_lossy(&p[..i]));
                    (k == name).then(|| crate::http::decode(&String::from_utf8_lossy(&p[i + 1..])))
                })
                .collect::<Vec<_>>()
        })
        .collect()
}

/// Checks one answer; every row it breaks.
pub fn check(ep: Ep, b: &Built, answer: &Answer, ctx: &Context<'_>, timeout_s: u64) -> Vec<Breach> {
    let req = &b.wire;
    let r = match answer {
        Answer::Response(r) => r,
        Answer::Closed | Answer::NotHttp(_) if well_formed(req) => {
            return vec![breach(
                "F2",
                "no answer",
                "a well-formed request got no answer: the connection closed before a complete response",
            )];
        }
        Answer::TimedOut if well_formed(req) => {
            return vec![breach(
                "F2",
                "timeout",
                format!("a well-formed request got no complete answer within {timeout_s} s"),
            )];
        }
        _ => return Vec::new(),
    };
    let mut out = Vec::new();
    server_error(req, r, &mut out);
    // A request that is not valid HTTP/1.1 may be refused by the HTTP layer before any
    // endpoint sees it: only what any answer must be applies to it.
    if !well_formed(req) {
        echo(b, r, ctx, &mut out);
        return out;
    }
    match ep {
        Ep::Token => {
            error_shape(r, TOKEN_EXTENSION_ERRORS, req, &mut out);
            invalid_success(b, r, &mut out);
        }
        Ep::Revoke => error_shape(r, REVOKE_EXTENSION_ERRORS, req, &mut out),
        Ep::Resource => challenge(r, &mut out),
        Ep::Authorize => redirect(req, r, ctx, &mut out),
        _ => {}
    }
    echo(b, r, ctx, &mut out);
    out
}

/// F1: a 5xx says the server erred; 501 for a method it does not implement and 505 for
/// an HTTP version it does not support are what RFC 9110 §15.6.2 and §15.6.6 give,
/// and 503 with `Retry-After` is overload the pace waits out.
fn server_error(req: &oauth2_fuzz::Request, r: &Response, out: &mut Vec<Breach>) {
    let s = r.status;
    if s < 500 {
        return;
    }
    let excused = match s {
        501 => !matches!(req.method.as_str(), "GET" | "HEAD" | "POST") || req.garbage.is_some(),
        505 => true,
        503 => r.header("retry-after").is_some(),
        _ => false,
    };
    if !excused {
        out.push(breach(
            "F1",
            format!("status {s}"),
            format!("status {s}: the server erred on a request it should have refused or served"),
        ));
    }
}

/// Whether HTTP itself names the status for what the request did (RFC 9110 §15.5):
/// the "unless specified otherwise" of RFC 6749 §5.2.
fn http_reason(req: &oauth2_fuzz::Request, status: u16) -> bool {
    let ct = req
        .header_value("content-type")
        .unwrap_or_default()
        .to_ascii_lowercase();
    let header_bytes: usize = req.headers.iter().map(|(k, v)| k.len() + v.len()).sum();
    match status {
        404 | 405 => req.method != "POST",
        406 => req.header_value("accept").is_some(),
        411 => req.chunked,
        413 => req.body.len() > 8 * 1024 || header_bytes > 8 * 1024,
        414 => req.target.len() > 2 * 1024,
        // Anything but the form media type (in any case, RFC 9110 §8.3.1), alone or with
        // `charset=utf-8`, may be refused as unsupported; those two may not.
        415 => {
            let plain = ct.replace(' ', "");
            let types = req
                .headers
                .iter()
                .filter(|(k, _)| k.eq_ignore_ascii_case("content-type"))
                .count();
            types != 1
                || (plain != "application/x-www-form-urlencoded"
                    && plain != "application/x-www-form-urlencoded;charset=utf-8"
                    && plain != "application/x-www-form-urlencoded;charset=\"utf-8\"")
        }
        417 => req.header_value("expect").is_some(),
        431 => header_bytes > 4 * 1024 || req.headers.len() > 30,
        429 => true,
        _ => false,
    }
}

/// F3: RFC 6749 §5.2 (RFC 7009 §2.2.1 for revocation); `extra`: the codes the
/// endpoint registers beside §5.2's.
fn error_shape(r: &Response, extra: &[&str], req: &oauth2_fuzz::Request, out: &mut Vec<Breach>) {
    let s = r.status;
    if (200..300).contains(&s) || s >= 500 {
        return;
    }
    if !matches!(s, 400 | 401) {
        if !http_reason(req, s) {
            out.push(breach(
                "F3",
                format!("status {s}"),
                format!("status {s}: an error is 400 (401 for invalid_client) and nothing in the request called for {s}"),
            ));
        }
        return;
    }
    if r.media_type() != "application/json" {
        out.push(breach(
            "F3",
            "not JSON",
            format!(
                "a {s} error as {:?}, not an application/json object",
                r.media_type()
            ),
        ));
        return;
    }
    let v: serde_json::Value = serde_json::from_slice(&r.body).unwrap_or_default();
    match v.get("error").and_then(serde_json::Value::as_str) {
        None => out.push(breach(
            "F3",
            "no error",
            format!("a {s} error without a string \"error\" member"),
        )),
        Some(code) if !SECTION_5_2.contains(&code) && !extra.contains(&code) => out.push(breach(
            "F3",
            format!("error {code}"),
            format!(
                "error {code:?} is no registered code here (one of {}, {})",
                SECTION_5_2.join(", "),
                extra.join(", ")
            ),
        )),
        Some(_) => {}
    }
}

/// F6: tokens for what the RFC says to refuse.
fn invalid_success(b: &Built, r: &Response, out: &mut Vec<Breach>) {
    if !(200..300).contains(&r.status) {
        return;
    }
    let v: serde_json::Value = serde_json::from_slice(&r.body).unwrap_or_default();
    if !v
        .get("access_token")
        .is_some_and(serde_json::Value::is_string)
    {
        return;
    }
    let grant = params(&b.wire, "grant_type");
    // Any spelling anywhere (a JSON or multipart body, a renamed parameter): a lenient
    // parser may have read it, which no sentence forbids.
    let anywhere = String::from_utf8_lossy(&b.wire.to_bytes())
        .to_ascii_lowercase()
        .contains("grant_type");
    if grant.is_empty() && !anywhere {
        out.push(breach(
            "F6",
            "no grant_type",
            "tokens were issued for a token request without grant_type (REQUIRED, §4.1.3, §4.3.2, §4.4.2, §6)",
        ));
        return;
    }
    let codes = params(&b.wire, "code");
    if grant.iter().all(|g| g == "authorization_code")
        && !codes.is_empty()
        && codes.iter().all(|c| b.spent.contains(c))
    {
        out.push(breach(
            "F6",
            "code replay",
            "tokens were issued for an authorization code that had already been redeemed (the server MUST deny the request, §4.1.2)",
        ));
    }
}

/// F4: RFC 6750 §3 (and RFC 9110 §15.5.2: a 401 MUST carry a challenge).
fn challenge(r: &Response, out: &mut Vec<Breach>) {
    if r.status != 401 {
        return;
    }
    let challenges = r.headers_named("www-authenticate");
    let bearer = challenges.iter().any(|c| {
        c.split(',').any(|part| {
            part.trim_start()
                .get(..6)
                .is_some_and(|s| s.eq_ignore_ascii_case("bearer"))
        })
    });
    if !bearer {
        out.push(breach(
            "F4",
            "no Bearer challenge",
            format!("401 with WWW-Authenticate {challenges:?}, not a Bearer challenge"),
        ));
    }
}

/// F5: RFC 6749 §4.1.2.1 (and §3.1.2.4's open-redirector warning).
fn redirect(req: &oauth2_fuzz::Request, r: &Response, ctx: &Context<'_>, out: &mut Vec<Breach>) {
    if !(300..400).contains(&r.status) {
        return;
    }
    let Some(location) = r.header("location") else {
        return;
    };
    let Some(origin) = absolute_origin(&location) else {
        // A relative reference stays at the authorization server.
        return;
    };
    if ctx
        .own_origins
        .iter()
        .any(|o| o.eq_ignore_ascii_case(&origin))
    {
        return;
    }
    let ids = params(req, "client_id");
    // With client_id repeated, a server that goes by any one of them may send its error
    // to that client's registered URI (§4.1.2.1 forbids only an invalid one).
    let registered: Vec<&String> = ctx
        .redirect_uris
        .iter()
        .filter(|(c, _)| ids.contains(c))
        .flat_map(|(_, uris)| uris)
        .collect();
    let fits = registered.iter().any(|uri| {
        location
            .strip_prefix(uri.as_str())
            .is_some_and(|rest| rest.is_empty() || rest.starts_with(['?', '#', '&']))
    });
    if !fits {
        out.push(breach(
            "F5",
            "unregistered redirect",
            format!(
                "{} to {}, which is not a redirection URI the profile registers for client_id {:?}",
                r.status,
                crate::http::redact_url(&location),
                ids
            ),
        ));
    }
}

/// `scheme://authority` of an absolute URL, lower-cased.
fn absolute_origin(url: &str) -> Option<String> {
    let (scheme, rest) = url.split_once("://")?;
    if scheme.is_empty()
        || !scheme
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c))
    {
        return None;
    }
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    Some(format!(
        "{}://{}",
        scheme.to_ascii_lowercase(),
        authority.to_ascii_lowercase()
    ))
}

/// F7 and F8: what the answer echoes.
fn echo(b: &Built, r: &Response, ctx: &Context<'_>, out: &mut Vec<Breach>) {
    let body = String::from_utf8_lossy(&r.body);
    let probe_tag = &PROBE[..PROBE.find(' ').unwrap_or(PROBE.len())];
    let sent = String::from_utf8_lossy(&b.wire.target).contains("oauth2-fuzz-probe")
        || String::from_utf8_lossy(&b.wire.body).contains("oauth2-fuzz-probe");
    let html =
        r.media_type() == "text/html" || (r.media_type().is_empty() && body.contains("<html"));
    if sent && html && body.contains(probe_tag) {
        out.push(breach(
            "F7",
            "markup echoed",
            format!("the input {PROBE:?} came back unescaped in a text/html answer"),
        ));
    }
    if r.status < 300 {
        return;
    }
    // What the request carried as a credential: the values of the parameters that hold
    // one and the Authorization header (a token that happened to land in `state` is no
    // credential of that request, and echoing it is no leak).
    let mut carried: Vec<String> = CREDENTIAL_PARAMS
        .iter()
        .flat_map(|n| params(&b.wire, n))
        .collect();
    carried.extend(b.wire.header_value("authorization"));
    if let Some(basic) = b
        .wire
        .header_value("authorization")
        .and_then(|a| a.strip_prefix("Basic ").map(str::to_owned))
    {
        use base64::Engine as _;
        if let Ok(d) = base64::engine::general_purpose::STANDARD.decode(basic.trim()) {
            let d = String::from_utf8_lossy(&d).into_owned();
            carried.extend(d.split(':').map(crate::http::decode));
        }
    }
    let headers: String = r
        .headers
        .iter()
        // A redirect carries `state` back by design (§4.1.2), whatever it holds.
        .filter(|(k, _)| k != "set-cookie" && k != "location")
        .map(|(_, v)| String::from_utf8_lossy(v).into_owned())
        .collect::<Vec<_>>()
        .join("\n");
    for secret in b.secrets.iter().chain(ctx.credentials) {
        if secret.len() < 8 || !carried.iter().any(|c| c.contains(secret.as_str())) {
            continue;
        }
        if body.contains(secret.as_str()) || headers.contains(secret.as_str()) {
            out.push(breach(
                "F8",
                "credential echoed",
                format!(
                    "a credential the request carried came back in the {} answer",
                    r.status
                ),
            ));
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(
        method: &str,
        target: &str,
        headers: &[(&str, &str)],
        body: &str,
    ) -> oauth2_fuzz::Request {
        oauth2_fuzz::Request {
            method: method.into(),
            target: target.as_bytes().to_vec(),
            headers: headers
                .iter()
                .map(|(k, v)| ((*k).to_owned(), v.as_bytes().to_vec()))
                .collect(),
            body: body.as_bytes().to_vec(),
            chunked: false,
            garbage: None,
            via_reqwest: false,
        }
    }

    fn built(r: oauth2_fuzz::Request) -> Built {
        Built {
            wire: r,
            secrets: Vec::new(),
            cred: None,
            unmutated: false,
            spent: Vec::new(),
        }
    }

    fn resp(status: u16, headers: &[(&str, &str)], body: &str) -> Answer {
        Answer::Response(Response {
            status,
            headers: headers
                .iter()
                .map(|(k, v)| ((*k).to_owned(), v.as_bytes().to_vec()))
                .collect(),
            body: body.as_bytes().to_vec(),
        })
    }

    fn rows_of(ep: Ep, b: &Built, a: &Answer) -> Vec<&'static str> {
        let uris = vec![("c".to_owned(), vec!["https://c.example/cb".to_owned()])];
        let own = vec!["http://as.example".to_owned()];
        let ctx = Context {
            redirect_uris: &uris,
            own_origins: &own,
            credentials: &[],
        };
        check(ep, b, a, &ctx, 10)
            .into_iter()
            .map(|x| x.row)
            .collect()
    }

    const FORM: (&str, &str) = ("content-type", "application/x-www-form-urlencoded");

    fn html_ct() -> (&'static str, &'static str) {
        ("content-type", "text/html")
    }

    /// Each check fires on what it names and stays quiet on what the RFCs allow.
    #[test]
    fn checks() {
        let token = built(req("POST", "/token", &[FORM], "grant_type=x"));
        let json = ("content-type", "application/json");
        // F3: a registered code passes; an unregistered one, HTML, or a 403 fail.
        assert!(
            rows_of(
                Ep::Token,
                &token,
                &resp(400, &[json], r#"{"error":"invalid_grant"}"#)
            )
            .is_empty()
        );
        assert_eq!(
            rows_of(
                Ep::Token,
                &token,
                &resp(400, &[json], r#"{"error":"nope"}"#)
            ),
            ["F3"]
        );
        assert_eq!(
            rows_of(
                Ep::Token,
                &token,
                &resp(400, &[("content-type", "text/html")], "x")
            ),
            ["F3"]
        );
        assert_eq!(
            rows_of(
                Ep::Token,
                &token,
                &resp(403, &[json], r#"{"error":"invalid_client"}"#)
            ),
            ["F3"]
        );
        // ... but 415 is HTTP's answer to another media type, not to the form in capitals.
        let other = built(req(
            "POST",
            "/token",
            &[("content-type", "text/plain")],
            "grant_type=x",
        ));
        assert!(rows_of(Ep::Token, &other, &resp(415, &[], "")).is_empty());
        let capitals = built(req(
            "POST",
            "/token",
            &[("content-type", "APPLICATION/X-WWW-FORM-URLENCODED")],
            "grant_type=x",
        ));
        assert_eq!(rows_of(Ep::Token, &capitals, &resp(415, &[], "")), ["F3"]);
        // F1, with HTTP's own 505 excused.
        assert_eq!(rows_of(Ep::Token, &token, &resp(500, &[], "")), ["F1"]);
        assert!(rows_of(Ep::Other, &token, &resp(505, &[], "")).is_empty());
        // F6: tokens without grant_type, but not when it came in another spelling.
        let ok = r#"{"access_token":"a","token_type":"Bearer"}"#;
        let none = built(req("POST", "/token", &[FORM], "code=x"));
        assert_eq!(rows_of(Ep::Token, &none, &resp(200, &[json], ok)), ["F6"]);
        let in_json = built(req(
            "POST",
            "/token",
            &[json],
            r#"{"grant_type":"client_credentials"}"#,
        ));
        assert!(rows_of(Ep::Token, &in_json, &resp(200, &[json], ok)).is_empty());
        // F4: a Bearer challenge among others passes; none fails.
        let me = built(req("GET", "/me", &[], ""));
        assert!(
            rows_of(
                Ep::Resource,
                &me,
                &resp(
                    401,
                    &[("www-authenticate", "Basic realm=\"a\", Bearer realm=\"b\"")],
                    ""
                )
            )
            .is_empty()
        );
        assert_eq!(
            rows_of(
                Ep::Resource,
                &me,
                &resp(401, &[("www-authenticate", "Basic realm=\"a\"")], "")
            ),
            ["F4"]
        );
        // F5: the registered URI (with a query after it), the server's own origin and a
        // relative reference pass; another URI fails.
        let auth = built(req("GET", "/authorize?client_id=c&redirect_uri=x", &[], ""));
        for fine in [
            "https://c.example/cb?error=invalid_request",
            "http://as.example/login",
            "/login",
        ] {
            assert!(
                rows_of(Ep::Authorize, &auth, &resp(302, &[("location", fine)], "")).is_empty(),
                "{fine}"
            );
        }
        for bad in ["https://c.example/cbx?error=x", "https://evil.example/cb"] {
            assert_eq!(
                rows_of(Ep::Authorize, &auth, &resp(302, &[("location", bad)], "")),
                ["F5"],
                "{bad}"
            );
        }
        // ... and with client_id repeated, either client's registered URI passes.
        let twice = built(req(
            "GET",
            "/authorize?client_id=c&client_id=c&redirect_uri=x",
            &[],
            "",
        ));
        assert!(
            rows_of(
                Ep::Authorize,
                &twice,
                &resp(
                    302,
                    &[("location", "https://c.example/cb?error=invalid_request")],
                    ""
                )
            )
            .is_empty()
        );
        // F8: a token sent as `token` and echoed is a finding; the same value sent as
        // `state` and echoed is not.
        let mut as_token = built(req("POST", "/revoke", &[FORM], "token=secret-token-0001"));
        as_token.secrets.push("secret-token-0001".into());
        assert_eq!(
            rows_of(
                Ep::Revoke,
                &as_token,
                &resp(
                    400,
                    &[json],
                    r#"{"error":"invalid_request","error_description":"bad secret-token-0001"}"#
                )
            ),
            ["F8"]
        );
        let mut as_state = built(req("GET", "/authorize?state=secret-token-0001", &[], ""));
        as_state.secrets.push("secret-token-0001".into());
        assert!(
            rows_of(
                Ep::Authorize,
                &as_state,
                &resp(400, &[html_ct()], "<p>state secret-token-0001</p>")
            )
            .is_empty()
        );
        // F7: the probe unescaped in HTML fails; escaped, it passes.
        let probe = built(req(
            "GET",
            "/authorize?state=%3Coauth2-fuzz-probe+x%3D%221%22%3E",
            &[],
            "",
        ));
        let html = ("content-type", "text/html");
        assert_eq!(
            rows_of(
                Ep::Authorize,
                &probe,
                &resp(400, &[html], "<p><oauth2-fuzz-probe x=\"1\"></p>")
            ),
            ["F7"]
        );
        assert!(
            rows_of(
                Ep::Authorize,
                &probe,
                &resp(400, &[html], "<p>&lt;oauth2-fuzz-probe x=\"1\"&gt;</p>")
            )
            .is_empty()
        );
        // F2 only for well-formed requests.
        assert_eq!(rows_of(Ep::Token, &token, &Answer::Closed), ["F2"]);
        let mut garbage = req("POST", "/token", &[], "");
        garbage.garbage = Some(b"zz".to_vec());
        assert!(rows_of(Ep::Other, &built(garbage), &Answer::TimedOut).is_empty());
    }

    /// Each row is in the index with the level the code gives it.
    #[test]
    fn rows_are_indexed() {
        let index = crate::requirements::load(
            &std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../features/requirements.tsv"),
        )
        .unwrap_or_else(|e| panic!("{e}"));
        let indexed: Vec<(&str, &str, String)> = index
            .iter()
            .filter(|r| r.document == "robustness")
            .map(|r| (r.id.as_str(), r.level.as_str(), r.section.clone()))
            .collect();
        let ours: Vec<(&str, &str, String)> = ROWS
            .iter()
            .map(|r| (r.id, r.level, r.sections.join(" ")))
            .collect();
        assert_eq!(indexed, ours);
    }
}

//! Redaction: secret parameters and JSON members replaced by `[redacted]` in anything a
//! report may print, and the record of every secret seen, checked against each report
//! before it is written.

use reqwest::header::HeaderMap;

use super::form::decode;
use super::form::decode_pairs;

/// Parameter and JSON member names whose values are secrets.
pub const SECRET_NAMES: &[&str] = &[
    "access_token",
    "refresh_token",
    "id_token",
    "code",
    "code_verifier",
    "client_secret",
    "password",
    "token",
    "csrf_token",
    "assertion",
];

fn is_secret(name: &str) -> bool {
    SECRET_NAMES.contains(&name)
}

/// In JSON bodies `code` is an error code (JSON:API, RFC 6750 documents), not an
/// authorization code, which only travels in redirects and form bodies.
fn is_secret_member(name: &str) -> bool {
    name != "code" && is_secret(name)
}

/// Redacts secret values in a query or form string.
pub fn redact_query(q: &str) -> String {
    q.split('&')
        .map(|p| match p.split_once('=') {
            Some((k, _)) if is_secret(&decode(k)) => format!("{k}=[redacted]"),
            _ => p.to_owned(),
        })
        .collect::<Vec<_>>()
        .join("&")
}

/// Redacts secret query values of a URL.
pub fn redact_url(url: &str) -> String {
    match url.split_once('?') {
        Some((base, q)) => {
            let (q, frag) = q.split_once('#').map_or((q, None), |(q, f)| (q, Some(f)));
            let mut s = format!("{base}?{}", redact_query(q));
            if let Some(f) = frag {
                s.push('#');
                s.push_str(&redact_query(f));
            }
            s
        }
        None => url.to_owned(),
    }
}

/// Redacts a response or request body for a report: secret members of a JSON body,
/// secret pairs of a form body, and in any other text (an HTML page, a "Redirecting to
/// ..." body that repeats the Location URL) every secret parameter of a URL in it; then
/// every secret the run has witnessed, wherever it appears.
pub fn redact_body(body: &str) -> String {
    let out = if let Ok(mut v) = serde_json::from_str::<serde_json::Value>(body) {
        redact_json(&mut v);
        v.to_string()
    } else if body.contains('=') && !body.contains('<') && !body.contains(' ') {
        redact_query(body)
    } else if let Some(parts) = redact_multipart(body) {
        parts
    } else {
        redact_text(body)
    };
    scrub(&out).0
}

/// Redacts the values of the secret parts of a `multipart/form-data` body (a part whose
/// `Content-Disposition` names a secret parameter); `None` when the body is not one.
fn redact_multipart(body: &str) -> Option<String> {
    if !body
        .to_ascii_lowercase()
        .contains("content-disposition: form-data")
    {
        return None;
    }
    let mut out = Vec::new();
    // 0: outside a secret part; 1: in its headers; 2: in its value.
    let mut state = 0;
    for line in body.split_inclusive('\n') {
        let bare = line.trim_end_matches(['\r', '\n']);
        if bare.starts_with("--") {
            state = 0;
        } else if state == 0 {
            let lower = bare.to_ascii_lowercase();
            if let Some(name) = lower
                .strip_prefix("content-disposition: form-data;")
                .and_then(|r| r.split("name=\"").nth(1))
                .and_then(|r| r.split('"').next())
            {
                if is_secret(name) {
                    state = 1;
                }
            }
        } else if state == 1 && bare.is_empty() {
            out.push(line.to_owned());
            out.push(format!("[redacted]{}", &line[bare.len()..]));
            state = 2;
            continue;
        }
        if state != 2 {
            out.push(line.to_owned());
        }
    }
    Some(out.concat())
}

/// Redacts the value of every secret parameter (`code=...`, `access_token=...`) that
/// follows `?`, `&`, `#` or `;` (as in `&amp;`) in free text, up to the next delimiter.
fn redact_text(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let b = text.as_bytes();
    let mut i = 0;
    let mut copied = 0;
    while i < b.len() {
        if matches!(b[i], b'?' | b'&' | b'#' | b';') {
            let start = i + 1;
            let name_end = text[start..]
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .map_or(text.len(), |n| start + n);
            if name_end < b.len() && b[name_end] == b'=' && is_secret(&text[start..name_end]) {
                let value_start = name_end + 1;
                let value_end = text[value_start..]
                    .find(|c: char| {
                        c.is_whitespace() || matches!(c, '&' | '#' | '"' | '\'' | '<' | '>')
                    })
                    .map_or(text.len(), |n| value_start + n);
                if value_end > value_start {
                    out.push_str(&text[copied..value_start]);
                    out.push_str("[redacted]");
                    copied = value_end;
                }
                i = value_end.max(i + 1);
                continue;
            }
        }
        i += 1;
    }
    out.push_str(&text[copied..]);
    out
}

fn redact_json(v: &mut serde_json::Value) {
    match v {
        serde_json::Value::Object(map) => {
            for (k, val) in map.iter_mut() {
                if is_secret_member(k) && val.is_string() {
                    *val = serde_json::Value::String("[redacted]".into());
                } else {
                    redact_json(val);
                }
            }
        }
        serde_json::Value::Array(a) => a.iter_mut().for_each(redact_json),
        // A URL in a member (a login API's `{"next": "https://client/cb?code=..."}`).
        serde_json::Value::String(s) => {
            let r = redact_text(s);
            if r != *s {
                *s = r;
            }
        }
        _ => {}
    }
}

/// Every secret the runner has seen in this process: tokens and codes from responses,
/// and the profile's client secrets and passwords. Reports are checked against it before
/// they are written ([`scrub`]), a second line of defence behind the redaction above.
static SEEN: std::sync::Mutex<std::collections::BTreeSet<String>> =
    std::sync::Mutex::new(std::collections::BTreeSet::new());

/// Shortest value treated as a secret by [`scrub`] (shorter ones would match ordinary
/// words).
const MIN_SECRET_LEN: usize = 8;

/// Remembers a secret value.
pub fn witness(value: &str) {
    if value.len() >= MIN_SECRET_LEN {
        if let Ok(mut seen) = SEEN.lock() {
            seen.insert(value.to_owned());
        }
    }
}

/// The secrets seen so far.
pub fn witnessed() -> Vec<String> {
    SEEN.lock()
        .map(|s| s.iter().cloned().collect())
        .unwrap_or_default()
}

fn witness_json(v: &serde_json::Value) {
    match v {
        serde_json::Value::Object(map) => {
            for (k, val) in map {
                match val.as_str() {
                    Some(s) if is_secret_member(k) => witness(s),
                    _ => witness_json(val),
                }
            }
        }
        serde_json::Value::Array(a) => a.iter().for_each(witness_json),
        _ => {}
    }
}

pub(super) fn witness_response(headers: &HeaderMap, body: &str) {
    if let Ok(v) = serde_json::from_str::<serde_json::Value>(body) {
        witness_json(&v);
    }
    if let Some(loc) = headers.get("location").and_then(|v| v.to_str().ok()) {
        for part in loc.split(['?', '#']).skip(1) {
            for (k, v) in decode_pairs(part) {
                if is_secret(&k) {
                    witness(&v);
                }
            }
        }
    }
}

/// Replaces every witnessed secret in `text` with `[redacted]`; returns the text and
/// how many replacements were needed (0 when redaction upstream did its job).
pub fn scrub(text: &str) -> (String, usize) {
    let mut out = text.to_owned();
    let mut n = 0;
    for secret in witnessed() {
        if out.contains(&secret) {
            n += out.matches(&secret).count();
            out = out.replace(&secret, "[redacted]");
        }
    }
    (out, n)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The secret parts of a multipart body (a token sent as form data) and the secret
    /// members of a login page's JSON submission are redacted.
    #[test]
    fn multipart_and_json_submissions_are_redacted() {
        let body = "--b7\r\nContent-Disposition: form-data; name=\"access_token\"\r\n\r\ntok-s3cr3t-41\r\n--b7\r\nContent-Disposition: form-data; name=\"note\"\r\n\r\nkept\r\n--b7--\r\n";
        let out = redact_body(body);
        assert!(!out.contains("tok-s3cr3t-41"), "{out}");
        assert!(
            out.contains("[redacted]") && out.contains("kept") && out.contains("--b7--"),
            "{out}"
        );
        let json = r#"{"username":"alice","password":"pw-s3cr3t-42"}"#;
        let out = redact_body(json);
        assert!(
            !out.contains("pw-s3cr3t-42") && out.contains("alice"),
            "{out}"
        );
    }

    /// A redirect body that repeats the Location URL, as Koa and Express write it, keeps
    /// no code, whether the URL is written raw or HTML-escaped, and witnessed secrets are
    /// removed from any text.
    #[test]
    fn urls_in_json_members_are_redacted() {
        let body = r#"{"next":"https://c.example/cb?code=c0de-in-json-77&state=s1","error":"x"}"#;
        let out = redact_body(body);
        assert!(!out.contains("c0de-in-json-77"), "{out}");
        assert!(
            out.contains("state=s1") && out.contains("code=[redacted]"),
            "{out}"
        );
    }

    #[test]
    fn redirect_bodies_are_redacted() {
        let body = "<p>Redirecting to <a href=\"https://c.example/cb?code=c0de-s3cr3t-9f&amp;state=x\">\
                    https://c.example/cb?state=x&code=c0de-s3cr3t-9f</a>.</p>";
        let out = redact_body(body);
        assert!(!out.contains("c0de-s3cr3t-9f"), "{out}");
        assert!(
            out.contains("state=x") && out.contains("code=[redacted]"),
            "{out}"
        );
        let plain = "Found. Redirecting to https://c.example/cb?code=0th3r-c0de-77#x";
        assert!(!redact_body(plain).contains("0th3r-c0de-77"));
        witness("w1tn3ssed-t0ken-value");
        let text = "<p>your token is w1tn3ssed-t0ken-value</p>";
        assert!(!redact_body(text).contains("w1tn3ssed-t0ken-value"));
        assert_eq!(
            redact_body("<p>no secrets here, code: 7</p>"),
            "<p>no secrets here, code: 7</p>"
        );
    }
}

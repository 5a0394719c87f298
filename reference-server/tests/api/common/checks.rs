//! Assertions shared by the endpoint modules: RFC 6749 §5.1/§5.2 token responses and
//! errors, and RFC 6750 §3 challenges with the JSON:API error documents of `/api/me`.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use super::{REALM, Reply};

/// The error codes RFC 6749 §5.2 defines for the token endpoint.
pub const TOKEN_ERRORS: &[&str] = &[
    "invalid_request",
    "invalid_client",
    "invalid_grant",
    "unauthorized_client",
    "unsupported_grant_type",
    "invalid_scope",
];

/// Whether `s` uses only the characters RFC 6749 §5.2 and RFC 6750 §3 allow in
/// `error_description` (`%x20-21 / %x23-5B / %x5D-7E`).
pub fn is_description_charset(s: &str) -> bool {
    s.bytes()
        .all(|b| matches!(b, 0x20..=0x21 | 0x23..=0x5B | 0x5D..=0x7E))
}

/// Whether `s` is an RFC 6750 §2.1 `b64token`.
pub fn is_b64token(s: &str) -> bool {
    let body = s.trim_end_matches('=');
    !body.is_empty()
        && body
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-._~+/".contains(&b))
}

/// Asserts `Cache-Control: no-store` and `Pragma: no-cache` (RFC 6749 §5.1).
pub fn assert_no_store(r: &Reply) {
    assert_eq!(
        r.header("cache-control").as_deref(),
        Some("no-store"),
        "Cache-Control (RFC 6749 §5.1): {r:?}"
    );
    assert_eq!(
        r.header("pragma").as_deref(),
        Some("no-cache"),
        "Pragma (RFC 6749 §5.1): {r:?}"
    );
}

/// Asserts an RFC 6749 §5.2 error response: the status, a JSON object whose `error` is
/// `code` and whose members are only `error`, `error_description` and `error_uri`, a
/// description in the allowed characters, the no-store headers, and
/// `WWW-Authenticate: Basic realm=...` exactly when the status is 401.
pub fn assert_oauth_error(r: &Reply, status: u16, code: &str) {
    assert_eq!(r.status, status, "status: {r:?}");
    assert_eq!(r.media_type(), "application/json", "content type: {r:?}");
    let body = r.json();
    let members = body
        .as_object()
        .unwrap_or_else(|| panic!("error body is not a JSON object: {}", r.text));
    assert_eq!(body["error"], code, "error code: {}", r.text);
    for (name, value) in members {
        assert!(
            ["error", "error_description", "error_uri"].contains(&name.as_str()),
            "unexpected member {name} in {}",
            r.text
        );
        assert!(value.is_string(), "{name} is not a string: {}", r.text);
    }
    if let Some(d) = body["error_description"].as_str() {
        assert!(
            is_description_charset(d),
            "error_description outside %x20-21 / %x23-5B / %x5D-7E: {d:?}"
        );
    }
    assert_no_store(r);
    if status == 401 {
        assert_eq!(
            r.header("www-authenticate").as_deref(),
            Some(format!("Basic realm=\"{REALM}\"").as_str()),
            "401 must carry a Basic challenge (RFC 6749 §5.2): {r:?}"
        );
    } else {
        assert_eq!(r.header("www-authenticate"), None, "{r:?}");
    }
}

/// Asserts a successful RFC 6749 §5.1 token response and returns its body.
pub fn assert_token_ok(r: &Reply) -> Value {
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(r.media_type(), "application/json", "{r:?}");
    assert_no_store(r);
    let body = r.json();
    assert_eq!(body["token_type"], "Bearer", "{}", r.text);
    let at = body["access_token"].as_str().unwrap_or_default();
    assert!(is_b64token(at), "access_token is no b64token: {}", r.text);
    assert!(
        body["expires_in"].as_i64().is_some_and(|n| n > 0),
        "expires_in: {}",
        r.text
    );
    body
}

/// An RFC 6750 §3 challenge: the scheme and its attributes.
#[derive(Debug)]
pub struct Challenge {
    /// The auth scheme as sent.
    pub scheme: String,
    /// Attribute names (lower-cased) and their unquoted values.
    pub params: BTreeMap<String, String>,
}

/// Parses a `WWW-Authenticate` value with one challenge whose attributes are all
/// quoted-strings (RFC 6750 §3); panics on a repeated attribute or a token value.
pub fn parse_challenge(value: &str) -> Challenge {
    let (scheme, rest) = value.split_once(' ').unwrap_or((value, ""));
    let mut params = BTreeMap::new();
    let mut chars = rest.chars().peekable();
    loop {
        while matches!(chars.peek(), Some(' ' | ',')) {
            chars.next();
        }
        if chars.peek().is_none() {
            break;
        }
        let mut name = String::new();
        while let Some(&c) = chars.peek() {
            if c == '=' {
                break;
            }
            name.push(c);
            chars.next();
        }
        assert_eq!(
            chars.next(),
            Some('='),
            "auth-param without '=' in {value:?}"
        );
        assert_eq!(
            chars.next(),
            Some('"'),
            "attribute {name} is not a quoted-string in {value:?}"
        );
        let mut v = String::new();
        loop {
            match chars.next() {
                Some('"') => break,
                Some('\\') => v.push(chars.next().expect("dangling escape")),
                Some(c) => v.push(c),
                None => panic!("unterminated quoted-string in {value:?}"),
            }
        }
        let name = name.trim().to_ascii_lowercase();
        assert!(
            params.insert(name.clone(), v).is_none(),
            "attribute {name} repeated in {value:?}"
        );
    }
    Challenge {
        scheme: scheme.to_owned(),
        params,
    }
}

/// Asserts a refusal at `/api/me`: the status; one `WWW-Authenticate: Bearer` challenge
/// with `realm` and exactly the `error` given (none at all when `None`, RFC 6750 §3.1);
/// and a JSON:API error document (`application/vnd.api+json`, `errors[0]` with exactly
/// `status`, `code`, `title`, `detail`). Returns the challenge.
pub fn assert_bearer_error(r: &Reply, status: u16, error: Option<&str>) -> Challenge {
    assert_eq!(r.status, status, "status: {r:?}");
    let values: Vec<_> = r.headers.get_all("www-authenticate").iter().collect();
    assert_eq!(values.len(), 1, "one WWW-Authenticate header: {r:?}");
    let c = parse_challenge(values[0].to_str().unwrap());
    assert!(c.scheme.eq_ignore_ascii_case("bearer"), "scheme: {r:?}");
    assert_eq!(
        c.params.get("realm").map(String::as_str),
        Some(REALM),
        "{r:?}"
    );
    assert_eq!(c.params.get("error").map(String::as_str), error, "{r:?}");
    match error {
        None => {
            let extra: BTreeSet<_> = c.params.keys().filter(|k| *k != "realm").collect();
            assert!(extra.is_empty(), "no error information expected: {r:?}");
        }
        Some(_) => {
            if let Some(d) = c.params.get("error_description") {
                assert!(is_description_charset(d), "error_description: {d:?}");
            }
        }
    }
    assert_eq!(r.media_type(), "application/vnd.api+json", "{r:?}");
    let doc = r.json();
    let errors = doc["errors"]
        .as_array()
        .unwrap_or_else(|| panic!("no errors array: {}", r.text));
    assert!(!errors.is_empty(), "{}", r.text);
    let e = errors[0]
        .as_object()
        .unwrap_or_else(|| panic!("error is not an object: {}", r.text));
    let keys: BTreeSet<&str> = e.keys().map(String::as_str).collect();
    assert_eq!(
        keys,
        BTreeSet::from(["code", "detail", "status", "title"]),
        "{}",
        r.text
    );
    assert!(e.values().all(Value::is_string), "{}", r.text);
    assert_eq!(e["status"], status.to_string(), "{}", r.text);
    if let Some(code) = error {
        assert_eq!(e["code"], code, "{}", r.text);
    }
    c
}

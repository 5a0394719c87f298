//! Assertions on the last HTTP exchange, shared by every surface.

use cucumber::then;
use serde_json::Value;

use super::params::{ERROR_CODES, ErrorParam};
use crate::mismatch::{Check, Mismatch, ensure};
use crate::world::OAuthWorld;

#[then(expr = "the response status is {int}")]
async fn status(w: &mut OAuthWorld, code: u16) -> Check {
    let x = w.last()?;
    ensure(
        x.status == code,
        format!("status {code}"),
        || x.status_text(),
        x,
    )
}

#[then(expr = "the request is refused")]
async fn refused(w: &mut OAuthWorld) -> Check {
    let x = w.last()?;
    ensure(
        (400..500).contains(&x.status),
        "a 4xx refusal",
        || x.status_text(),
        x,
    )
}

/// Checks an RFC 6749 §5.2 error response with one of `codes`.
pub fn check_error(w: &OAuthWorld, codes: &[&str]) -> Check {
    let x = w.last()?;
    let json = x.json();
    let got = json
        .as_ref()
        .and_then(|j| j.get("error"))
        .and_then(Value::as_str)
        .map(str::to_owned);
    let want = codes.join(" or ");
    ensure(
        got.as_deref().is_some_and(|g| codes.contains(&g)),
        format!("error {want}"),
        || match &got {
            Some(g) => format!("error {g} (status {})", x.status),
            None => format!(
                "{} and no error member in {}",
                x.status_text(),
                x.body_kind()
            ),
        },
        x,
    )?;
    // §5.2: "The authorization server responds with an HTTP 400 (Bad Request) status
    // code (unless specified otherwise)"; invalid_client "MAY" be 401.
    let allowed: &[u16] = if got.as_deref() == Some("invalid_client") {
        &[400, 401]
    } else {
        &[400]
    };
    ensure(
        allowed.contains(&x.status),
        format!(
            "status {} for {}",
            allowed
                .iter()
                .map(u16::to_string)
                .collect::<Vec<_>>()
                .join(" or "),
            got.as_deref().unwrap_or("")
        ),
        || x.status_text(),
        x,
    )?;
    ensure(
        x.media_type().as_deref() == Some("application/json"),
        "Content-Type application/json (RFC 6749 §5.2)",
        || format!("{:?}", x.header("content-type")),
        x,
    )
}

#[then(expr = "the error is {error}")]
async fn error_is(w: &mut OAuthWorld, e: ErrorParam) -> Check {
    check_error(w, &[e.0.as_str()])
}

#[then(expr = "the error is {error} or {error}")]
async fn error_is_either(w: &mut OAuthWorld, a: ErrorParam, b: ErrorParam) -> Check {
    check_error(w, &[a.0.as_str(), b.0.as_str()])
}

/// For a request the cited sentence leaves to the server to accept or refuse: a
/// success is not applicable, a refusal must carry one of `codes`.
fn check_error_if_refused(w: &OAuthWorld, codes: &[&str]) -> Check {
    let x = w.last()?;
    if (200..300).contains(&x.status) {
        return Err(Mismatch::not_applicable(format!(
            "the target accepted the request (status {}), which the cited sentence leaves \
             to the server; only a refusal has a required form",
            x.status
        )));
    }
    check_error(w, codes)
}

#[then(expr = "if the request is refused, the error is {error}")]
async fn error_if_refused(w: &mut OAuthWorld, e: ErrorParam) -> Check {
    check_error_if_refused(w, &[e.0.as_str()])
}

#[then(expr = "if the request is refused, the error is {error} or {error}")]
async fn error_if_refused_either(w: &mut OAuthWorld, a: ErrorParam, b: ErrorParam) -> Check {
    check_error_if_refused(w, &[a.0.as_str(), b.0.as_str()])
}

#[then(expr = "the error response is well formed")]
async fn error_well_formed(w: &mut OAuthWorld) -> Check {
    let x = w.last()?;
    let json = x.json().unwrap_or(Value::Null);
    let code = json.get("error").and_then(Value::as_str).unwrap_or("");
    ensure(
        ERROR_CODES.contains(&code),
        "an error code from RFC 6749 §5.2",
        || format!("error {code:?}"),
        x,
    )?;
    // Appendix A.8, A.9: error_description is 1*NQSCHAR; error_uri has no spaces.
    for (member, text) in [("error_description", true), ("error_uri", false)] {
        if let Some(v) = json.get(member) {
            let ok = v.as_str().is_some_and(|s| super::error_member_ok(s, text));
            ensure(
                ok,
                format!("{member} in the characters RFC 6749 §5.2 allows"),
                || format!("{member} {v}"),
                x,
            )?;
        }
    }
    Ok(())
}

/// Whether a `WWW-Authenticate` field value holds a challenge with this scheme. A
/// field may list several challenges (RFC 9110 §11.6.1), separated by commas that also
/// separate parameters; a challenge starts where a piece's first word is not followed
/// by `=`.
fn has_challenge(value: &str, scheme: &str) -> bool {
    value.split(',').any(|piece| {
        let piece = piece.trim_start();
        let word = piece.split([' ', '=']).next().unwrap_or("");
        word.eq_ignore_ascii_case(scheme) && !piece[word.len()..].starts_with('=')
    })
}

#[then(expr = "the response is 401 with a {word} challenge")]
async fn challenge(w: &mut OAuthWorld, scheme: String) -> Check {
    let x = w.last()?;
    ensure(x.status == 401, "status 401", || x.status_text(), x)?;
    let values = x.header_all("www-authenticate");
    ensure(
        values.iter().any(|v| has_challenge(v, &scheme)),
        format!("WWW-Authenticate with a {scheme} challenge"),
        || format!("WWW-Authenticate {values:?}"),
        x,
    )
}

#[then(expr = "the response header {string} includes {string}")]
async fn header_includes(w: &mut OAuthWorld, name: String, token: String) -> Check {
    let x = w.last()?;
    let values = x.header_all(&name);
    let has = values
        .iter()
        .flat_map(|v| v.split(','))
        .any(|v| v.trim().eq_ignore_ascii_case(&token));
    ensure(
        has,
        format!("{name}: {token}"),
        || format!("{name}: {values:?}"),
        x,
    )
}

#[then(expr = "the response has no header {string}")]
async fn header_absent(w: &mut OAuthWorld, name: String) -> Check {
    let x = w.last()?;
    let v = x.header_all(&name);
    ensure(
        v.is_empty(),
        format!("no {name} header"),
        || format!("{name}: {v:?}"),
        x,
    )
}

#[then(expr = "the response is JSON")]
async fn is_json(w: &mut OAuthWorld) -> Check {
    let x = w.last()?;
    ensure(
        x.media_type().as_deref() == Some("application/json") && x.json().is_some(),
        "a JSON body with Content-Type application/json",
        || {
            format!(
                "Content-Type {:?}, {}",
                x.header("content-type"),
                x.body_kind()
            )
        },
        x,
    )
}

#[cfg(test)]
mod tests {
    use super::has_challenge;

    /// A challenge is found first, later in a list, or not at all.
    #[test]
    fn challenges() {
        assert!(has_challenge("Basic realm=\"a\"", "basic"));
        assert!(has_challenge(
            "Bearer realm=\"a, b\", Basic realm=\"c\"",
            "Basic"
        ));
        assert!(has_challenge("Basic", "Basic"));
        assert!(!has_challenge("Bearer realm=\"Basic\"", "Basic"));
        assert!(!has_challenge("Bearer basic=1", "Basic"));
        assert!(!has_challenge("", "Basic"));
    }
}

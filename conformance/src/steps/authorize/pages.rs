//! Assertions on the pages and redirects the user agent is shown on the way: no
//! fragment in the endpoint (RFC 6749 §3.1), no framing (§10.13; RFC 9700 §4.16), a
//! referrer policy (RFC 9700 §4.2.4), and no 307 for a request that carried the user's
//! credentials (RFC 9700 §4.12), and no markup written from the request (RFC 6749 §10.14).

use cucumber::then;
use serde_json::Value;

use super::seen;
use crate::http::Exchange;
use crate::login::AuthResponse;
use crate::mismatch::{Check, Mismatch, ensure};
use crate::steps::endpoint;
use crate::target::origin;
use crate::world::OAuthWorld;

/// Responses to submitted forms that carried the user's credentials (a form with a
/// password input), answered with a redirect. RFC 9700 §4.12 is about "a request that
/// potentially contains user credentials"; a consent form that carries only the user's
/// decision is outside it.
fn redirected_posts(r: &AuthResponse) -> impl Iterator<Item = &Exchange> {
    r.trail.iter().enumerate().filter_map(|(i, x)| {
        let redirected = x.method == "POST" && (300..400).contains(&x.status);
        let credentials = r.trail[..i]
            .iter()
            .rev()
            .find(|p| p.status == 200 && p.body.contains("<form"))
            .is_some_and(|p| {
                crate::login::html::forms(&p.body)
                    .iter()
                    .any(|f| f.has_password())
            });
        (redirected && credentials).then_some(x)
    })
}

#[then(expr = "no redirect answering the submitted form uses status 307 or 308")]
async fn not_307(w: &mut OAuthWorld) -> Check {
    let r = seen(w)?;
    if let Some(x) = redirected_posts(r).find(|x| x.status == 307 || x.status == 308) {
        return Err(Mismatch::in_exchange(
            "no 307 (or 308) redirect of a request that may carry the user's credentials (RFC 9700 §4.12, §2.1)",
            format!("status {}", x.status),
            x,
        ));
    }
    Ok(())
}

#[then(expr = "every redirect answering the submitted form uses status 303")]
async fn uses_303(w: &mut OAuthWorld) -> Check {
    let r = seen(w)?;
    if let Some(x) = redirected_posts(r).find(|x| x.status != 303) {
        return Err(Mismatch::in_exchange(
            "303 See Other for a redirect of a request that may carry the user's credentials (RFC 9700 §4.12)",
            format!("status {}", x.status),
            x,
        ));
    }
    Ok(())
}

#[then(expr = "no page on the way holds an element with the attribute {word}")]
async fn no_injected_markup(w: &mut OAuthWorld, attribute: String) -> Check {
    let r = seen(w)?;
    for x in &r.trail {
        if let Some(tag) = crate::login::html::tag_with_attribute(&x.body, &attribute) {
            return Err(Mismatch::in_exchange(
                "the request's values written as text, not markup (RFC 6749 §10.14: the server MUST sanitize any value received, in particular state and redirect_uri)",
                format!(
                    "a page whose <{tag}> element has the attribute {attribute}: a value of the request written as markup"
                ),
                x,
            ));
        }
    }
    Ok(())
}

#[then(expr = "the authorization endpoint URI has no fragment component")]
async fn no_fragment(w: &mut OAuthWorld) -> Check {
    let advertised = w
        .target()
        .metadata
        .as_ref()
        .and_then(|m| m.get("authorization_endpoint"))
        .and_then(Value::as_str)
        .map(str::to_owned);
    let uri = match advertised {
        Some(u) => u,
        None => endpoint(w, "authorization")?,
    };
    if uri.contains('#') {
        return Err(Mismatch::new(
            "an authorization endpoint URI without a fragment (RFC 6749 §3.1)",
            uri,
        ));
    }
    Ok(())
}

/// The HTML pages the user agent was shown on the authorization server.
fn pages(w: &OAuthWorld) -> Result<Vec<&Exchange>, Mismatch> {
    let r = seen(w)?;
    let site = origin(&r.request_url);
    let pages: Vec<&Exchange> = r
        .trail
        .iter()
        .filter(|x| {
            origin(&x.url) == site
                && x.media_type().is_some_and(|m| m == "text/html")
                && !(300..400).contains(&x.status)
        })
        .collect();
    if pages.is_empty() {
        return Err(Mismatch::error(
            "the authorization request showed no HTML page",
        ));
    }
    Ok(pages)
}

/// The `frame-ancestors` sources of a page's Content-Security-Policy headers, if any.
fn frame_ancestors(x: &Exchange) -> Option<Vec<String>> {
    x.header_all("content-security-policy")
        .iter()
        .flat_map(|h| h.split(';'))
        .map(str::trim)
        .find_map(|d| {
            let mut parts = d.split_whitespace();
            parts
                .next()
                .filter(|n| n.eq_ignore_ascii_case("frame-ancestors"))
                .map(|_| parts.map(str::to_ascii_lowercase).collect())
        })
}

/// Whether `frame-ancestors` keeps arbitrary sites out: no `*`, no bare scheme.
fn restricts_framing(sources: &[String]) -> bool {
    !sources
        .iter()
        .any(|s| s == "*" || s == "https:" || s == "http:" || s == "data:" || s == "blob:")
}

#[then(expr = "no page of the authorization flow can be framed by another site")]
async fn no_framing(w: &mut OAuthWorld) -> Check {
    for x in pages(w)? {
        let xfo = x
            .header("x-frame-options")
            .map(|v| v.trim().to_ascii_lowercase());
        let by_xfo = matches!(xfo.as_deref(), Some("deny" | "sameorigin"));
        let by_csp = frame_ancestors(x).is_some_and(|s| restricts_framing(&s));
        ensure(
            by_xfo || by_csp,
            "X-Frame-Options DENY or SAMEORIGIN, or a Content-Security-Policy frame-ancestors directive (RFC 9700 §4.16: authorization servers MUST prevent clickjacking; RFC 6749 §10.13)",
            || {
                format!(
                    "X-Frame-Options {:?}, Content-Security-Policy {:?}",
                    x.header("x-frame-options"),
                    x.header_all("content-security-policy")
                )
            },
            x,
        )?;
    }
    Ok(())
}

#[then(expr = "every page of the authorization flow sets a frame-ancestors policy")]
async fn csp_frame_ancestors(w: &mut OAuthWorld) -> Check {
    for x in pages(w)? {
        ensure(
            frame_ancestors(x).is_some_and(|s| restricts_framing(&s)),
            "Content-Security-Policy with a frame-ancestors directive that names no wildcard (RFC 9700 §4.16: SHOULD use CSP level 2 or greater)",
            || format!("{:?}", x.header_all("content-security-policy")),
            x,
        )?;
    }
    Ok(())
}

/// Referrer policies that send no path or query to other sites.
const CONTAINED_REFERRER: &[&str] = &[
    "no-referrer",
    "same-origin",
    "origin",
    "strict-origin",
    "origin-when-cross-origin",
    "strict-origin-when-cross-origin",
];

/// The effective referrer policy of a page: the last known token of the header, else
/// a `<meta name="referrer">`.
fn referrer_policy(x: &Exchange) -> Option<String> {
    let from_header = x
        .header_all("referrer-policy")
        .iter()
        .flat_map(|h| h.split(','))
        .map(|t| t.trim().to_ascii_lowercase())
        .rfind(|t| {
            CONTAINED_REFERRER.contains(&t.as_str())
                || t == "unsafe-url"
                || t == "no-referrer-when-downgrade"
        });
    from_header.or_else(|| {
        let body = x.body.to_ascii_lowercase();
        let i = body.find("name=\"referrer\"")?;
        let tag_start = body[..i].rfind('<')?;
        let tag_end = i + body[i..].find('>')?;
        let tag = &body[tag_start..tag_end];
        let c = tag.find("content=\"")? + "content=\"".len();
        let end = tag[c..].find('"')?;
        Some(tag[c..c + end].trim().to_owned())
    })
}

#[then(
    expr = "every page of the authorization flow sets a referrer policy that keeps its URL from other sites"
)]
async fn referrer(w: &mut OAuthWorld) -> Check {
    for x in pages(w)? {
        let policy = referrer_policy(x);
        ensure(
            policy
                .as_deref()
                .is_some_and(|p| CONTAINED_REFERRER.contains(&p)),
            "a Referrer-Policy (header or meta) that sends no path or query to other sites (RFC 9700 §4.2.4)",
            || format!("referrer policy {policy:?}"),
            x,
        )?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// frame-ancestors is read from any CSP header, and wildcards do not count.
    #[test]
    fn frame_ancestor_sources() {
        assert!(restricts_framing(&["'none'".into()]));
        assert!(restricts_framing(&[
            "'self'".into(),
            "https://a.example".into()
        ]));
        assert!(!restricts_framing(&["*".into()]));
        assert!(!restricts_framing(&["https:".into()]));
    }
}

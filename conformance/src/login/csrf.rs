//! A cross-site request forgery against the authorization server's own login and
//! consent forms (RFC 6749 §10.12: "The authorization server MUST implement CSRF
//! protection for its authorization endpoint"), emulated without a browser:
//!
//! 1. a probe login finds how many forms lead to the code;
//! 2. the attacker starts a flow in their own user agent and keeps the last form
//!    unsent (its action, hidden fields and any anti-forgery value are the attacker's);
//! 3. the victim's user agent starts a flow too and reaches the same form, so it holds
//!    whatever session the server gives at that point;
//! 4. the attacker's form is submitted as a cross-site page would make the victim's
//!    browser submit it: with the victim's cookies that browsers send on cross-site
//!    POSTs (`SameSite=None` only), `Origin` and `Referer` of the attacker's site, and
//!    `Sec-Fetch-Site: cross-site`.
//!
//! A server that binds its forms to the user agent (a token tied to a cookie, SameSite
//! cookies, an Origin or Fetch Metadata check) refuses the forged submission; one that
//! does not issues a code.

use std::collections::BTreeMap;
use std::time::Duration;

use super::form::{AuthResponse, Browser, Ended, LoginError, Visit, resolve, response_params};
use crate::http::{Exchange, Http, Outgoing};
use crate::target::{LoginProfile, User, origin};

/// The site the forged submission comes from.
pub const ATTACKER_ORIGIN: &str = "https://csrf-attacker.example";

/// Why the forgery could not be attempted.
#[derive(Debug, Clone, thiserror::Error)]
pub enum ForgeError {
    /// The driver failed.
    #[error(transparent)]
    Login(#[from] LoginError),
    /// The flow does not allow the emulation (no form, no code for the real user).
    #[error("{0}")]
    Cannot(String),
}

/// Attempts the forgery; returns what the victim's user agent ended at.
pub async fn forge(
    url: &str,
    redirect_uri: &str,
    user: &User,
    login: &LoginProfile,
    timeout: Duration,
) -> Result<AuthResponse, ForgeError> {
    let get = || Outgoing::new(reqwest::Method::GET, url);
    let visit = |stop_before| Visit {
        redirect_uri,
        user: Some(user),
        login,
        approve: true,
        stop_before,
    };
    let (probe, _) = Browser::new(timeout)?.visit(get(), &visit(None)).await?;
    if !probe.to_client() || probe.get("code").is_none() {
        return Err(ForgeError::Cannot(format!(
            "the real login did not end with a code (ended {:?}, status {}, error {:?})",
            probe.ended,
            probe.status,
            probe.get("error")
        )));
    }
    let Some(last) = probe.submissions.checked_sub(1) else {
        return Err(ForgeError::Cannot(
            "the code came without any form submission, so there is no form to forge".into(),
        ));
    };
    let (_, attacker_form) = Browser::new(timeout)?
        .visit(get(), &visit(Some(last)))
        .await?;
    let attacker_form = attacker_form.ok_or_else(|| {
        ForgeError::Cannot("the attacker's flow did not reach the same form".into())
    })?;
    let victim = Browser::new(timeout)?;
    let (at_form, _) = victim.visit(get(), &visit(Some(last))).await?;
    if at_form.ended != Ended::Stopped {
        return Err(ForgeError::Cannot(
            "the victim's flow did not reach the same form".into(),
        ));
    }
    let site = origin(url);
    let mut forged = attacker_form
        .header("origin", ATTACKER_ORIGIN)
        .header("referer", format!("{ATTACKER_ORIGIN}/"))
        .header("sec-fetch-site", "cross-site")
        .header("sec-fetch-mode", "navigate")
        .header("sec-fetch-dest", "document");
    let cookies = cross_site_cookies(&at_form.trail, &site);
    if !cookies.is_empty() {
        forged = forged.header("cookie", cookies);
    }
    let action = forged.url.clone();
    let http = Http::new(timeout).map_err(|e| LoginError::Send(e.to_string()))?;
    let x = http
        .send(forged)
        .await
        .map_err(|e| LoginError::Send(e.to_string()))?;
    let page = |x: Exchange| AuthResponse {
        ended: Ended::Page,
        status: x.status,
        location: String::new(),
        params: BTreeMap::new(),
        names: Vec::new(),
        trail: vec![x],
        request_url: url.to_owned(),
        submissions: 1,
    };
    if !(300..400).contains(&x.status) {
        return Ok(page(x));
    }
    let Some(loc) = x.header("location").map(|l| resolve(&action, l)) else {
        return Ok(page(x));
    };
    if origin(&loc) != site {
        let (params, names) = response_params(&loc);
        let ended = if super::form::is_redirect_to(&loc, redirect_uri) {
            Ended::Client
        } else {
            Ended::OtherSite
        };
        return Ok(AuthResponse {
            ended,
            status: x.status,
            location: loc,
            params,
            names,
            trail: vec![x],
            request_url: url.to_owned(),
            submissions: 1,
        });
    }
    // A same-site redirect: the victim's browser follows it, submitting nothing more.
    let follow = Visit {
        redirect_uri,
        user: None,
        login,
        approve: true,
        stop_before: Some(0),
    };
    let (mut after, _) = victim
        .visit(Outgoing::new(reqwest::Method::GET, loc), &follow)
        .await?;
    after.trail.insert(0, x);
    after.request_url = url.to_owned();
    after.submissions = 1;
    Ok(after)
}

/// The `Cookie` header a browser would send on a cross-site POST to `site`: the cookies
/// the site set with `SameSite=None`, latest value of each.
pub fn cross_site_cookies(trail: &[Exchange], site: &str) -> String {
    let mut jar: BTreeMap<String, String> = BTreeMap::new();
    for x in trail.iter().filter(|x| origin(&x.url) == site) {
        for c in x.header_all("set-cookie") {
            let mut parts = c.split(';');
            let Some((name, value)) = parts.next().and_then(|p| p.trim().split_once('=')) else {
                continue;
            };
            let attrs: Vec<String> = parts.map(|a| a.trim().to_ascii_lowercase()).collect();
            let expired = attrs.iter().any(|a| a == "max-age=0") || value.is_empty();
            let cross_site = attrs.iter().any(|a| a.replace(' ', "") == "samesite=none");
            if expired || !cross_site {
                jar.remove(name.trim());
            } else {
                jar.insert(name.trim().to_owned(), value.trim().to_owned());
            }
        }
    }
    jar.iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("; ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with_cookies(url: &str, cookies: &[&str]) -> Exchange {
        let mut headers = reqwest::header::HeaderMap::new();
        for c in cookies {
            if let Ok(v) = reqwest::header::HeaderValue::from_str(c) {
                headers.append("set-cookie", v);
            }
        }
        Exchange {
            method: "GET".into(),
            url: url.into(),
            request_headers: Vec::new(),
            request_body: None,
            status: 200,
            headers,
            body: String::new(),
            received_at: std::time::Instant::now(),
        }
    }

    /// Only SameSite=None cookies of the site go along, the latest value of each.
    #[test]
    fn cross_site_cookies_are_samesite_none_only() {
        let trail = [
            with_cookies(
                "https://as.example/authorize",
                &[
                    "sid=1; Path=/; SameSite=None; Secure",
                    "csrf=2; SameSite=Strict",
                    "lax=3",
                ],
            ),
            with_cookies("https://other.example/", &["other=4; SameSite=None"]),
            with_cookies("https://as.example/login", &["sid=5; SameSite=none"]),
        ];
        assert_eq!(cross_site_cookies(&trail, "https://as.example"), "sid=5");
    }
}

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

/// The real login must end with a code, or there is nothing to forge.
fn ended_with_code(probe: &AuthResponse) -> Result<(), ForgeError> {
    if probe.to_client() && probe.get("code").is_some() {
        return Ok(());
    }
    Err(ForgeError::Cannot(format!(
        "the real login did not end with a code (ended {:?}, status {}, error {:?})",
        probe.ended,
        probe.status,
        probe.get("error")
    )))
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
    ended_with_code(&probe)?;
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
    let http = Http::new(timeout).map_err(|e| LoginError::Driver(e.to_string()))?;
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

/// The forgery with the real browser (`[login] driver = "browser"`), for login pages
/// that submit with their own `fetch` as well as with forms. The submissions are the
/// POST requests the browser makes; the attacker's last one is captured in the
/// attacker's browser context and never sent, the victim's context is signed in up to
/// the same point (its cookies read from the browser, with the `SameSite` the browser
/// applies). The attacker's request is then sent as a cross-site page can make the
/// victim's browser send it: only the headers a cross-site page may set without a
/// CORS preflight (a body of another content type only after a preflight that the
/// server allows for the attacker's origin, and otherwise as `text/plain`, which a
/// `no-cors` fetch sends), the victim's `SameSite=None` cookies, and the attacker's
/// `Origin`, `Referer` and `Sec-Fetch-Site`. A code for the client in the answer (its
/// `Location`, or a URL in a JSON body) is a code issued to the forgery.
pub async fn forge_in_browser(
    url: &str,
    redirect_uri: &str,
    user: &User,
    login: &LoginProfile,
    timeout: Duration,
) -> Result<AuthResponse, ForgeError> {
    use super::chrome::{self, SameSite};
    let probe = chrome::drive(url, redirect_uri, Some(user), login, true).await?;
    ended_with_code(&probe)?;
    let posts = probe.trail.iter().filter(|x| x.method == "POST").count();
    let Some(last) = posts.checked_sub(1) else {
        return Err(ForgeError::Cannot(
            "the code came without any submission, so there is nothing to forge".into(),
        ));
    };
    let (attacker, victim) = tokio::join!(
        chrome::drive_until_post(url, redirect_uri, user, login, last),
        chrome::drive_until_post(url, redirect_uri, user, login, last),
    );
    let attacker = attacker?.ok_or_else(|| {
        ForgeError::Cannot("the attacker's flow did not reach the same submission".into())
    })?;
    let victim = victim?.ok_or_else(|| {
        ForgeError::Cannot("the victim's flow did not reach the same submission".into())
    })?;
    if origin(&attacker.url) != origin(&victim.url) {
        return Err(ForgeError::Cannot(
            "the attacker's and the victim's submissions go to different origins".into(),
        ));
    }
    let jar = |sent: &[SameSite]| {
        victim
            .cookies
            .iter()
            .filter(|c| sent.contains(&c.same_site))
            .map(|c| format!("{}={}", c.name, c.value))
            .collect::<Vec<_>>()
            .join("; ")
    };
    let cross_site = jar(&[SameSite::None]);
    let http = Http::new(timeout).map_err(|e| LoginError::Driver(e.to_string()))?;
    let send = |out: Outgoing| {
        let http = &http;
        async move {
            http.send(out)
                .await
                .map_err(|e| ForgeError::Login(LoginError::Send(e.to_string())))
        }
    };
    let content_type = attacker
        .header("content-type")
        .unwrap_or("text/plain")
        .to_owned();
    let essence = content_type
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    let safelisted_type = [
        "application/x-www-form-urlencoded",
        "multipart/form-data",
        "text/plain",
    ]
    .contains(&essence.as_str());
    // Headers a page sets that need a preflight cross-site (RFC 9110 names; the
    // CORS-safelisted ones and what the browser sets itself excluded).
    let custom: Vec<(String, String)> = attacker
        .headers
        .iter()
        .filter(|(n, _)| {
            let n = n.to_ascii_lowercase();
            !matches!(
                n.as_str(),
                "accept"
                    | "accept-language"
                    | "content-language"
                    | "content-type"
                    | "origin"
                    | "referer"
                    | "user-agent"
                    | "cookie"
                    | "content-length"
                    | "host"
                    | "connection"
                    | "accept-encoding"
            ) && !n.starts_with("sec-")
        })
        .cloned()
        .collect();
    let forged = |mode: &str, dest: &str| {
        let mut out = Outgoing::new(
            reqwest::Method::from_bytes(attacker.method.as_bytes())
                .unwrap_or(reqwest::Method::POST),
            attacker.url.clone(),
        )
        .header("origin", ATTACKER_ORIGIN)
        .header("referer", format!("{ATTACKER_ORIGIN}/"))
        .header("sec-fetch-site", "cross-site")
        .header("sec-fetch-mode", mode)
        .header("sec-fetch-dest", dest);
        if !cross_site.is_empty() {
            out = out.header("cookie", cross_site.clone());
        }
        out
    };
    let mut attempts = Vec::new();
    if safelisted_type && custom.is_empty() {
        // What an HTML form on the attacker's page submits.
        attempts.push((
            true,
            forged("navigate", "document").raw_body(&content_type, attacker.body.clone()),
        ));
    } else {
        let mut asked: Vec<String> = custom.iter().map(|(n, _)| n.to_ascii_lowercase()).collect();
        if !safelisted_type {
            asked.push("content-type".into());
        }
        asked.sort();
        let preflight = send(
            Outgoing::new(reqwest::Method::OPTIONS, attacker.url.clone())
                .header("origin", ATTACKER_ORIGIN)
                .header("access-control-request-method", attacker.method.clone())
                .header("access-control-request-headers", asked.join(","))
                .header("sec-fetch-site", "cross-site")
                .header("sec-fetch-mode", "cors"),
        )
        .await?;
        if preflight_allows(&preflight, &attacker.method, &asked) {
            let mut out = forged("cors", "empty").raw_body(&content_type, attacker.body.clone());
            for (n, v) in &custom {
                out = out.header(n, v.clone());
            }
            attempts.push((false, out));
        }
        // What a `no-cors` fetch sends: the same body as text/plain, no custom header.
        attempts.push((
            false,
            forged("no-cors", "empty").raw_body("text/plain;charset=UTF-8", attacker.body.clone()),
        ));
    }
    let mut trail = Vec::new();
    for (navigates, out) in attempts {
        let action = out.url.clone();
        let x = send(out).await?;
        let mut here = action.clone();
        let mut answer = x;
        // A form's answer is followed as the victim's browser follows a redirect of a
        // cross-site navigation: GET, with the SameSite=None and Lax cookies.
        for _ in 0..10 {
            trail.push(answer.clone());
            if let Some(loc) = code_for_client(&answer, &here, redirect_uri) {
                let (params, names) = response_params(&loc);
                return Ok(AuthResponse {
                    ended: Ended::Client,
                    status: answer.status,
                    location: loc,
                    params,
                    names,
                    trail,
                    request_url: url.to_owned(),
                    submissions: 1,
                });
            }
            let next = (navigates && (300..400).contains(&answer.status))
                .then(|| answer.header("location").map(|l| resolve(&here, l)))
                .flatten()
                .filter(|l| origin(l) == origin(&action));
            let Some(next) = next else { break };
            let mut get = Outgoing::new(reqwest::Method::GET, next.clone())
                .header("sec-fetch-site", "cross-site")
                .header("sec-fetch-mode", "navigate")
                .header("sec-fetch-dest", "document");
            let lax = jar(&[SameSite::None, SameSite::Lax]);
            if !lax.is_empty() {
                get = get.header("cookie", lax);
            }
            answer = send(get).await?;
            here = next;
        }
    }
    let status = trail.last().map_or(0, |x| x.status);
    Ok(AuthResponse {
        ended: Ended::Page,
        status,
        location: String::new(),
        params: BTreeMap::new(),
        names: Vec::new(),
        trail,
        request_url: url.to_owned(),
        submissions: 1,
    })
}

/// Whether a CORS preflight answer lets the attacker's page send `method` with the
/// `asked` headers and its credentials (the Fetch standard's CORS check: the exact
/// origin, `Access-Control-Allow-Credentials: true`, the method and every header
/// listed; `*` does not count with credentials).
fn preflight_allows(x: &Exchange, method: &str, asked: &[String]) -> bool {
    let list = |name: &str| -> Vec<String> {
        x.header_all(name)
            .iter()
            .flat_map(|v| v.split(','))
            .map(|v| v.trim().to_ascii_lowercase())
            .filter(|v| !v.is_empty())
            .collect()
    };
    (200..300).contains(&x.status)
        && x.header("access-control-allow-origin").map(str::trim) == Some(ATTACKER_ORIGIN)
        && x.header("access-control-allow-credentials").map(str::trim) == Some("true")
        && (["GET", "HEAD", "POST"].contains(&method)
            || list("access-control-allow-methods").contains(&method.to_ascii_lowercase()))
        && asked
            .iter()
            .all(|h| list("access-control-allow-headers").contains(h))
}

/// A redirect to the client carrying a code in an answer: its `Location`, or a URL
/// in a JSON body (a login page's API that tells its script where to go next).
fn code_for_client(x: &Exchange, base: &str, redirect_uri: &str) -> Option<String> {
    let carries_code = |u: &str| {
        super::form::is_redirect_to(u, redirect_uri) && response_params(u).0.contains_key("code")
    };
    if let Some(loc) = x.header("location").map(|l| resolve(base, l)) {
        if carries_code(&loc) {
            return Some(loc);
        }
    }
    fn strings(v: &serde_json::Value, out: &mut Vec<String>) {
        match v {
            serde_json::Value::String(s) => out.push(s.clone()),
            serde_json::Value::Array(a) => a.iter().for_each(|v| strings(v, out)),
            serde_json::Value::Object(o) => o.values().for_each(|v| strings(v, out)),
            _ => {}
        }
    }
    let mut found = Vec::new();
    if let Ok(v) = serde_json::from_str::<serde_json::Value>(&x.body) {
        strings(&v, &mut found);
    }
    found
        .into_iter()
        .map(|s| resolve(base, &s))
        .find(|u| carries_code(u))
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

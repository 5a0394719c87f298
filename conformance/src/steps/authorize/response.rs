//! Assertions on what came back from the authorization endpoint: the code or the error
//! at the client (RFC 6749 §4.1.2, §4.1.2.1), where the user agent was (or was not)
//! sent (§3.1.2.3, §3.1.2.4; RFC 9700 §2.1, §4.11.2), `state` and `iss` (RFC 9207),
//! and what became of the tokens of a code used twice (§4.1.2).

use cucumber::then;
use serde_json::Value;

use super::{last_of, redeem, response, seen};
use crate::http::redact_url;
use crate::login::Ended;
use crate::login::form::is_redirect_to;
use crate::mismatch::{Check, Mismatch, ensure};
use crate::steps::params::ErrorParam;
use crate::steps::token::token_set;
use crate::target::{ClientRole, origin};
use crate::world::OAuthWorld;

/// The error codes of an authorization error response (RFC 6749 §4.1.2.1).
const AUTHORIZATION_ERRORS: &[&str] = &[
    "invalid_request",
    "unauthorized_client",
    "access_denied",
    "unsupported_response_type",
    "invalid_scope",
    "server_error",
    "temporarily_unavailable",
];

#[then(expr = "the tokens of the successful parallel request no longer work")]
async fn winner_revoked(w: &mut OAuthWorld) -> Check {
    let role = w.last_client.unwrap_or(ClientRole::ConfidentialBasic);
    let winner = w
        .batch
        .iter()
        .filter_map(|r| r.as_ref().ok())
        .find(|x| x.status == 200)
        .cloned();
    // Which of several winners (an R43 failure, reported by its own scenario) does not
    // matter: the first one's tokens are checked.
    let Some(x) = winner else {
        return Err(Mismatch::not_applicable(
            "no parallel redemption succeeded, so no token was issued whose revocation could be checked",
        ));
    };
    let t = token_set(&x, role, None)?;
    let access = t
        .access
        .clone()
        .ok_or_else(|| Mismatch::error("no access token"))?;
    let resp = crate::steps::resource::call_with(w, access.expose()).await?;
    ensure(
        (400..500).contains(&resp.status),
        "the access token from the successful redemption refused by the resource once the code was reused (RFC 6749 §4.1.2)",
        || format!("status {} from the resource", resp.status),
        &resp,
    )
}

#[then(expr = "the user sees an error page and is not redirected")]
async fn error_page(w: &mut OAuthWorld) -> Check {
    let x = w.last()?;
    if let Some(r) = &w.auth_response {
        ensure(
            r.ended != Ended::Stopped,
            "an error page for the user (RFC 6749 §4.1.2.1: SHOULD inform the resource owner)",
            || "a form asking for the user's input".into(),
            x,
        )?;
    }
    let site = w
        .target()
        .endpoints
        .authorization
        .as_deref()
        .map(origin)
        .unwrap_or_default();
    let location = x.header("location").map(str::to_owned);
    let off_site = location
        .as_deref()
        .is_some_and(|l| l.contains("://") && origin(l) != site);
    ensure(
        !((300..400).contains(&x.status) && off_site),
        "no redirect away from the authorization server (RFC 6749 §4.1.2.1: MUST NOT automatically redirect)",
        || {
            format!(
                "status {} to {}",
                x.status,
                redact_url(location.as_deref().unwrap_or(""))
            )
        },
        x,
    )?;
    ensure(
        x.status >= 400 || x.status == 200,
        "an error page for the user",
        || x.status_text(),
        x,
    )?;
    // An empty answer informs nobody. Any text counts (a page built by script too).
    ensure(
        !crate::login::html::strip_tags(&x.body).trim().is_empty(),
        "an error page with something for the user to read (RFC 6749 §4.1.2.1: SHOULD inform the resource owner)",
        || format!("{} with an empty body", x.status_text()),
        x,
    )
}

#[then(expr = "the user-agent is not redirected away from the authorization server")]
async fn not_away(w: &mut OAuthWorld) -> Check {
    let r = seen(w)?;
    ensure(
        !r.left_site(),
        "no redirect away from the authorization server, since the client or its redirection URI is not valid (RFC 6749 §4.1.2.1: MUST NOT automatically redirect)",
        || format!("status {} to {}", r.status, redact_url(&r.location)),
        last_of(r)?,
    )
}

#[then(expr = "the user-agent is not redirected to the unregistered redirection URI")]
async fn not_to_unregistered(w: &mut OAuthWorld) -> Check {
    let r = seen(w)?;
    if !r.left_site() {
        return Ok(());
    }
    let x = last_of(r)?;
    let loc = || redact_url(&r.location);
    ensure(
        r.get("code").is_none(),
        "no authorization code for a request whose redirect_uri matches no registered one (RFC 6749 §3.1.2.3, RFC 9700 §2.1: exact string matching)",
        || format!("a code sent to {}", loc()),
        x,
    )?;
    if let Some(presented) = r.request_param("redirect_uri") {
        ensure(
            !is_redirect_to(&r.location, &presented),
            "no redirect to the mismatching redirection URI (RFC 6749 §4.1.2.1: MUST NOT automatically redirect the user-agent to the invalid redirection URI)",
            || format!("status {} to {}", r.status, loc()),
            x,
        )?;
    }
    let registered: Vec<String> = w
        .target()
        .clients
        .values()
        .filter_map(|c| c.redirect_uri.clone())
        .collect();
    ensure(
        registered.iter().any(|u| is_redirect_to(&r.location, u)),
        "no redirect to a URI that is not registered (RFC 9700 §2.1: the authorization server MUST NOT be an open redirector)",
        || format!("status {} to {}", r.status, loc()),
        x,
    )
}

#[then(expr = "the request is refused with an error page or the error invalid_request")]
async fn refused_page_or_invalid_request(w: &mut OAuthWorld) -> Check {
    let r = seen(w)?;
    let x = last_of(r)?;
    match r.ended {
        Ended::Client => ensure(
            r.get("error") == Some("invalid_request") && r.get("code").is_none(),
            "error=invalid_request (RFC 6749 §4.1.2.1: \"includes a parameter more than once\") or an error page",
            || match r.get("error") {
                Some(e) => format!("error={e}"),
                None => "a redirect with a code".into(),
            },
            x,
        ),
        Ended::OtherSite => Err(Mismatch::in_exchange(
            "an error page or error=invalid_request at the client",
            format!("a redirect to {}", redact_url(&r.location)),
            x,
        )),
        Ended::Page => ensure(
            x.status == 200 || x.status >= 400,
            "an error page or error=invalid_request at the client",
            || x.status_text(),
            x,
        ),
        Ended::Stopped => Err(Mismatch::in_exchange(
            "an error page or error=invalid_request at the client",
            "a form asking for the user's input",
            x,
        )),
        Ended::NoDeny => Err(Mismatch::error(
            "the consent page offers no way to deny, so the request could not be refused",
        )),
    }
}

#[then(
    expr = "if the request is refused, it is refused with an error page or the error invalid_request"
)]
async fn if_refused_page_or_invalid_request(w: &mut OAuthWorld) -> Check {
    let r = seen(w)?;
    if r.ended == Ended::Client && r.get("code").is_some() && r.get("error").is_none() {
        return Err(Mismatch::not_applicable(
            "the target accepted the request and issued a code, which the cited sentence \
             leaves to the server; only a refusal has a required form",
        ));
    }
    refused_page_or_invalid_request(w).await
}

#[then(expr = "both authorization answers are the same")]
async fn same_answers(w: &mut OAuthWorld) -> Check {
    let [.., a, b] = w.auth_answers.as_slice() else {
        return Err(Mismatch::error("two authorization requests were not sent"));
    };
    let x = last_of(seen(w)?)?;
    ensure(
        a == b,
        format!(
            "the same answer to both requests ({b} for the request without the parameter): \
             a parameter sent without a value is treated as omitted (RFC 6749 §3.1)"
        ),
        || format!("{a} for the request with the parameter empty"),
        x,
    )
}

#[then(expr = "both redemptions are answered the same")]
async fn same_redemptions(w: &mut OAuthWorld) -> Check {
    let [.., a, b] = w.token_answers.as_slice() else {
        return Err(Mismatch::error("two redemptions were not attempted"));
    };
    let x = w.last()?;
    ensure(
        a == b,
        format!(
            "the same answer to both redemptions ({b} for the code requested without the \
             parameter): a parameter sent without a value is treated as omitted (RFC 6749 §3.1)"
        ),
        || format!("{a} for the code requested with the parameter empty"),
        x,
    )
}

#[then(expr = "the client receives an authorization code")]
async fn receives_code(w: &mut OAuthWorld) -> Check {
    let r = response(w)?;
    if r.get("code").is_some_and(|c| !c.is_empty()) && r.get("error").is_none() {
        return Ok(());
    }
    Err(Mismatch::in_exchange(
        "a redirect with a code",
        format!("a redirect with error={:?}", r.get("error")),
        last_of(r)?,
    ))
}

fn check_auth_error(w: &OAuthWorld, codes: &[&str]) -> Check {
    let r = response(w)?;
    let got = r.get("error");
    if got.is_some_and(|g| codes.contains(&g)) && r.get("code").is_none() {
        return Ok(());
    }
    Err(Mismatch::in_exchange(
        format!("a redirect with error={}", codes.join(" or ")),
        match got {
            Some(g) => format!("error={g}"),
            None => "a redirect with a code".into(),
        },
        last_of(r)?,
    ))
}

#[then(expr = "the client receives the error {error}")]
async fn receives_error(w: &mut OAuthWorld, e: ErrorParam) -> Check {
    check_auth_error(w, &[e.0.as_str()])
}

#[then(expr = "the client receives the error {error} or {error}")]
async fn receives_error_either(w: &mut OAuthWorld, a: ErrorParam, b: ErrorParam) -> Check {
    check_auth_error(w, &[a.0.as_str(), b.0.as_str()])
}

#[then(expr = "the client receives an authorization code or the error invalid_scope")]
async fn receives_code_or_invalid_scope(w: &mut OAuthWorld) -> Check {
    let r = response(w)?;
    let code = r.get("code").is_some_and(|c| !c.is_empty()) && r.get("error").is_none();
    if code || (r.get("error") == Some("invalid_scope") && r.get("code").is_none()) {
        return Ok(());
    }
    Err(Mismatch::in_exchange(
        "a code (the server's default scope) or error=invalid_scope (RFC 6749 §3.3)",
        match r.get("error") {
            Some(e) => format!("error={e}"),
            None => "a redirect with neither code nor error".into(),
        },
        last_of(r)?,
    ))
}

#[then(expr = "the authorization error response is well formed")]
async fn auth_error_well_formed(w: &mut OAuthWorld) -> Check {
    let r = response(w)?;
    let x = last_of(r)?;
    let error = r.get("error").unwrap_or("");
    ensure(
        AUTHORIZATION_ERRORS.contains(&error),
        "an error code from RFC 6749 §4.1.2.1",
        || format!("error={error:?}"),
        x,
    )?;
    // error, error_description: %x20-21 / %x23-5B / %x5D-7E; error_uri: %x21 / %x23-5B / %x5D-7E
    for (member, text) in [
        ("error", true),
        ("error_description", true),
        ("error_uri", false),
    ] {
        if let Some(v) = r.get(member) {
            let ok = crate::steps::error_member_ok(v, text);
            ensure(
                ok,
                format!("{member} in the characters RFC 6749 §4.1.2.1 allows"),
                || format!("{member}={v:?}"),
                x,
            )?;
        }
    }
    Ok(())
}

#[then(expr = "the client receives the error invalid_scope or a code without the scope {string}")]
async fn invalid_scope_or_narrowed(w: &mut OAuthWorld, unknown: String) -> Check {
    let r = response(w)?;
    if r.get("error") == Some("invalid_scope") && r.get("code").is_none() {
        return Ok(());
    }
    if r.get("code").is_none() {
        return Err(Mismatch::in_exchange(
            "error=invalid_scope, or a code for a narrower scope (RFC 6749 §3.3, §4.1.2.1)",
            format!("error={:?}", r.get("error")),
            last_of(r)?,
        ));
    }
    let role = w
        .code
        .as_ref()
        .map(|c| c.client)
        .ok_or_else(|| Mismatch::error("no authorization code was recorded"))?;
    redeem(w, role, None).await?;
    let x = w.last()?;
    token_set(x, role, None)?;
    let scope = x
        .json()
        .and_then(|j| j.get("scope").and_then(Value::as_str).map(str::to_owned));
    ensure(
        scope
            .as_deref()
            .is_some_and(|s| !s.split(' ').any(|t| t == unknown)),
        format!(
            "a scope member without {unknown:?} (RFC 6749 §3.3: REQUIRED when the granted scope differs from the requested)"
        ),
        || format!("scope {scope:?}"),
        x,
    )
}

#[then(expr = "the authorization response carries the state unchanged")]
async fn state_unchanged(w: &mut OAuthWorld) -> Check {
    let r = response(w)?;
    let sent = w.state.clone();
    if sent.is_some() && r.get("state") == sent.as_deref() {
        return Ok(());
    }
    Err(Mismatch::in_exchange(
        format!("state={sent:?}, the exact value received from the client"),
        format!("state={:?}", r.get("state")),
        last_of(r)?,
    ))
}

#[then(expr = "the authorization response carries the issuer")]
async fn carries_iss(w: &mut OAuthWorld) -> Check {
    let r = response(w)?;
    // RFC 9207 §2: "The value of the iss parameter MUST be the issuer identifier of the
    // authorization server", and §2.4 has the client compare it by simple string
    // comparison: with the issuer the profile names (checked against the metadata by
    // RFC 8414 §3.3), else the metadata's.
    let issuer = w.target().issuer.clone().or_else(|| {
        w.target()
            .metadata
            .as_ref()
            .and_then(|m| m.get("issuer"))
            .and_then(Value::as_str)
            .map(str::to_owned)
    });
    let iss = r.get("iss").map(str::to_owned);
    if iss.is_some() && iss == issuer {
        return Ok(());
    }
    Err(Mismatch::in_exchange(
        format!("iss={issuer:?} (RFC 9207 §2)"),
        format!("iss={:?}", r.get("iss")),
        last_of(r)?,
    ))
}

#[then(expr = "each parameter appears once in the authorization response")]
async fn once_each(w: &mut OAuthWorld) -> Check {
    let r = response(w)?;
    let mut seen = std::collections::BTreeSet::new();
    for n in &r.names {
        if !seen.insert(n) {
            return Err(Mismatch::in_exchange(
                "each response parameter once (RFC 6749 §3.1)",
                format!("{n} repeated"),
                last_of(r)?,
            ));
        }
    }
    Ok(())
}

#[then(expr = "the redirect keeps the query of the registered redirect URI")]
async fn keeps_query(w: &mut OAuthWorld) -> Check {
    let r = response(w)?;
    let sent = w
        .code
        .as_ref()
        .map(|c| c.redirect_uri.clone())
        .unwrap_or_default();
    let Some((_, q)) = sent.split_once('?') else {
        return Err(Mismatch::not_applicable(
            "the redirect URI in use has no query",
        ));
    };
    for (k, v) in crate::http::decode_pairs(q) {
        if r.get(&k) != Some(v.as_str()) {
            return Err(Mismatch::in_exchange(
                format!("{k}={v} kept from the registered URI (RFC 6749 §3.1.2)"),
                format!("{k}={:?}", r.get(&k)),
                last_of(r)?,
            ));
        }
    }
    Ok(())
}

#[then(expr = "no authorization code is issued")]
async fn no_code(w: &mut OAuthWorld) -> Check {
    let r = seen(w)?;
    if let (Some(until), Some(got), true) = (
        w.block_until,
        r.trail.last().map(|x| x.received_at),
        r.get("code").is_some(),
    ) {
        if got > until {
            // The login took longer than the block the server announced: the code
            // says nothing about whether the block refuses the right password.
            return Err(Mismatch::error(format!(
                "the code came {:.1} s after the block announced by the last refusal's \
                 Retry-After had ended, too late to tell whether the block refuses the \
                 right password (the login was slower than the block)",
                got.duration_since(until).as_secs_f64()
            )));
        }
    }
    ensure(
        r.get("code").is_none(),
        "no authorization code",
        || format!("a code sent to {}", redact_url(&r.location)),
        last_of(r)?,
    )
}

#[then(expr = "the authorization server asks the user again before issuing a code")]
async fn asks_again(w: &mut OAuthWorld) -> Check {
    let r = seen(w)?;
    ensure(
        !(r.get("code").is_some() && r.submissions == 0),
        "the repeated request is not approved without the resource owner's interaction (RFC 6749 §10.2)",
        || format!("a code sent to {} at once", redact_url(&r.location)),
        last_of(r)?,
    )
}

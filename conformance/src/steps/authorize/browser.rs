//! Authorization requests that are not a plain login: the front channel alone (no
//! login), a single request with a chosen header or a CORS preflight (RFC 9700 §2.6), a
//! forged cross-site form submission (RFC 6749 §10.12), and a second request in the
//! same browser (§10.2).

use cucumber::gherkin::Step;
use cucumber::when;

use super::{authorization_url, default_request, login_failed, record};
use crate::http::Outgoing;
use crate::login::{Browser, Visit, csrf};
use crate::mismatch::{Check, Mismatch};
use crate::steps::apply_overrides as overrides;
use crate::steps::params::{ClientParam, UserParam};
use crate::steps::{endpoint, send};
use crate::world::OAuthWorld;

#[when(expr = "the {client} client sends the user to the authorization endpoint with:")]
async fn front_channel(w: &mut OAuthWorld, c: ClientParam, step: &Step) -> Check {
    let (defaults, _, _) = default_request(w, c.0)?;
    let params = overrides(w, c.0, defaults, Some(step))?;
    let redirect_uri = super::remember_request(w, c.0, &params);
    let url = authorization_url(w, &params)?;
    let browser = Browser::new(w.ctx.timeout).map_err(login_failed)?;
    // Follow same-site redirects, submit nothing: the user has not acted yet.
    let visit = Visit {
        redirect_uri: &redirect_uri,
        user: None,
        login: &w.target().login,
        approve: true,
        stop_before: Some(0),
    };
    let (resp, _) = browser
        .visit(Outgoing::new(reqwest::Method::GET, url), &visit)
        .await
        .map_err(login_failed)?;
    record(w, resp);
    Ok(())
}

#[when(
    expr = "the {client} client sends the user to the authorization endpoint with the header {string}"
)]
async fn front_channel_header(w: &mut OAuthWorld, c: ClientParam, header: String) -> Check {
    let (name, value) = header
        .split_once(':')
        .ok_or_else(|| Mismatch::error(format!("{header:?} is not `Name: value`")))?;
    let (params, _, _) = default_request(w, c.0)?;
    let url = authorization_url(w, &params)?;
    let out = Outgoing::new(reqwest::Method::GET, url).header(name.trim(), value.trim());
    send(w, out).await?;
    w.auth_response = None;
    Ok(())
}

#[when(expr = "a CORS preflight request for the authorization endpoint comes from {string}")]
async fn cors_preflight(w: &mut OAuthWorld, from: String) -> Check {
    let url = endpoint(w, "authorization")?;
    let out = Outgoing::new(reqwest::Method::OPTIONS, url)
        .header("origin", from)
        .header("access-control-request-method", "GET");
    send(w, out).await?;
    w.auth_response = None;
    Ok(())
}

#[when(
    expr = "a cross-site page submits the {client} client's authorization form for the {user} user"
)]
async fn cross_site_form(w: &mut OAuthWorld, c: ClientParam, u: UserParam) -> Check {
    let (params, _, _) = default_request(w, c.0)?;
    let redirect_uri = w.client(c.0)?.redirect_uri.unwrap_or_default();
    let url = authorization_url(w, &params)?;
    let user = w.user(u.0)?;
    let login = w.target().login.clone();
    let forged = if login.driver == crate::target::profile::Driver::Browser {
        csrf::forge_in_browser(&url, &redirect_uri, &user, &login, w.ctx.timeout).await
    } else {
        csrf::forge(&url, &redirect_uri, &user, &login, w.ctx.timeout).await
    };
    let resp = forged.map_err(|e| {
        Mismatch::error(format!(
            "the cross-site submission could not be prepared: {e}"
        ))
    })?;
    record(w, resp);
    Ok(())
}

#[when(
    expr = "the {user} user approves the {client} client, and the client sends the user to the authorization endpoint again in the same browser"
)]
async fn again_same_browser(w: &mut OAuthWorld, u: UserParam, c: ClientParam) -> Check {
    let redirect_uri = w.client(c.0)?.redirect_uri.unwrap_or_default();
    let user = w.user(u.0)?;
    let login = w.target().login.clone();
    let (first, _, _) = default_request(w, c.0)?;
    let first = authorization_url(w, &first)?;
    let (second, _, _) = default_request(w, c.0)?;
    let second = authorization_url(w, &second)?;
    let visit = |stop_before| Visit {
        redirect_uri: &redirect_uri,
        user: Some(&user),
        login: &login,
        approve: true,
        stop_before,
    };
    if login.driver == crate::target::profile::Driver::Browser {
        // Both requests in one real browser; the second signs nobody in.
        let mut answers = crate::login::chrome::drive_sequence(
            &[(first, Some(&user)), (second, None)],
            &redirect_uri,
            &login,
        )
        .await
        .map_err(login_failed)?;
        let second = answers.pop();
        let first = answers.pop();
        match (first, second) {
            (Some(f), Some(s)) if f.to_client() && f.get("code").is_some() => {
                record(w, s);
                return Ok(());
            }
            (Some(f), _) => {
                return Err(Mismatch::new(
                    "a code for the first, approved request",
                    format!(
                        "ended {:?} with status {} and error {:?}",
                        f.ended,
                        f.status,
                        f.get("error")
                    ),
                ));
            }
            _ => return Err(Mismatch::error("the browser made no second request")),
        }
    }
    let browser = Browser::new(w.ctx.timeout).map_err(login_failed)?;
    let (resp, _) = browser
        .visit(Outgoing::new(reqwest::Method::GET, first), &visit(None))
        .await
        .map_err(login_failed)?;
    if !resp.to_client() || resp.get("code").is_none() {
        return Err(Mismatch::new(
            "a code for the first, approved request",
            format!(
                "ended {:?} with status {} and error {:?}",
                resp.ended,
                resp.status,
                resp.get("error")
            ),
        ));
    }
    // The second request: nothing is submitted, so a code now came without the user.
    let (resp, _) = browser
        .visit(Outgoing::new(reqwest::Method::GET, second), &visit(Some(0)))
        .await
        .map_err(login_failed)?;
    record(w, resp);
    Ok(())
}

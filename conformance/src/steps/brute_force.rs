//! Brute-force protection steps (RFC 6749 §4.3.2: "the authorization server MUST
//! protect the endpoint against brute force attacks (e.g., using rate-limitation or
//! generating alerts)"; §10.10): wrong passwords for a dedicated account until the
//! target refuses to check more, the refusal (429 Too Many Requests with `Retry-After`,
//! RFC 6585 §4, RFC 9110 §10.2.3), and the wait for the block to end.

use std::time::{Duration, SystemTime};

use cucumber::{then, when};

use super::authorize::{authorization_url, default_request, login_failed, random};
use super::params::{AuthVariant, ClientParam, UserParam};
use super::token::{token_request, with_profile_scope};
use crate::http::pace::{observing_throttle, retry_after_seconds};
use crate::http::{Exchange, Outgoing};
use crate::login::{Browser, Visit};
use crate::mismatch::{Check, Mismatch, ensure};
use crate::secret::Secret;
use crate::target::ClientRole;
use crate::world::{OAuthWorld, UserRole};

/// A wrong password: random, so no account has it and no target can recognise it.
fn wrong_password() -> Secret {
    Secret::new(format!("wrong-{}", random()))
}

#[when(expr = "the {client} client keeps sending wrong passwords for the {user} user")]
async fn wrong_passwords(w: &mut OAuthWorld, c: ClientParam, u: UserParam) -> Check {
    w.observe_throttle = true;
    let user = w.user(u.0)?;
    for _ in 0..w.target().max_attempts {
        let params = vec![
            ("grant_type".to_owned(), "password".to_owned()),
            ("username".to_owned(), user.username.clone()),
            ("password".to_owned(), wrong_password().expose().to_owned()),
        ];
        // With the profile scope: a server that requires one must get to the password.
        let params = with_profile_scope(w, c.0, params)?;
        let x = token_request(w, c.0, params, AuthVariant::AsRegistered).await?;
        // Until something other than the ordinary refusal of a wrong password (§5.2:
        // 400 invalid_grant; some servers answer 401) comes back.
        if !matches!(x.status, 400 | 401) {
            break;
        }
    }
    Ok(())
}

#[when(expr = "the {user} user keeps signing in with wrong passwords for the {client} client")]
async fn wrong_sign_ins(w: &mut OAuthWorld, u: UserParam, c: ClientParam) -> Check {
    w.observe_throttle = true;
    for _ in 0..w.target().max_attempts {
        let x = wrong_sign_in(w, c.0, u.0).await?;
        // Until something other than the login form again (200, or a redirect that
        // does not go to the client) comes back.
        let to_client = x.header("location").is_some_and(|l| {
            w.client(c.0)
                .ok()
                .and_then(|c| c.redirect_uri)
                .is_some_and(|r| crate::login::form::is_redirect_to(l, &r))
        });
        // A login page that posts with a script gets the refusal as its API's answer
        // (400 or 401), not as the form again.
        let scripted = w.target().login.driver == crate::target::profile::Driver::Browser
            && matches!(x.status, 400 | 401);
        let form_again =
            x.status == 200 || ((300..400).contains(&x.status) && !to_client) || scripted;
        if !form_again {
            break;
        }
    }
    // The block the last refusal announced, if it did: how long a refusal of the right
    // password can be expected.
    w.block_until = w.last.as_ref().and_then(|x| {
        let secs = x
            .header("retry-after")
            .and_then(|v| retry_after_seconds(v, SystemTime::now()))?;
        Some(x.received_at + std::time::Duration::from_secs(secs))
    });
    Ok(())
}

/// Opens the login page in a fresh browser and submits the login form with a wrong
/// password; returns (and remembers) the answer to that submission.
async fn wrong_sign_in(
    w: &mut OAuthWorld,
    role: ClientRole,
    user: UserRole,
) -> Result<Exchange, Mismatch> {
    let mut u = w.user(user)?;
    u.password = wrong_password();
    let client = w.client(role)?;
    let redirect_uri = client.redirect_uri.clone().unwrap_or_default();
    let (params, _, _) = default_request(w, role)?;
    let url = authorization_url(w, &params)?;
    if w.target().login.driver == crate::target::profile::Driver::Browser {
        // The real browser types the wrong password; the answer is the server's answer
        // to that submission (the form post, or the login page's own fetch).
        let x = observing_throttle(crate::login::chrome::submit_password(
            &url,
            &redirect_uri,
            &u,
            &w.target().login,
        ))
        .await
        .map_err(login_failed)?;
        w.last = Some(x.clone());
        w.auth_response = None;
        return Ok(x);
    }
    let browser = Browser::new(w.ctx.timeout).map_err(login_failed)?;
    let visit = Visit {
        redirect_uri: &redirect_uri,
        user: Some(&u),
        login: &w.target().login,
        approve: true,
        stop_before: Some(0),
    };
    let (resp, submission) =
        observing_throttle(browser.visit(Outgoing::new(reqwest::Method::GET, url), &visit))
            .await
            .map_err(login_failed)?;
    let Some(submission) = submission else {
        return Err(Mismatch::new(
            "a login page with a password field",
            format!("the authorization request ended at status {}", resp.status),
        ));
    };
    let x = observing_throttle(browser.send(submission))
        .await
        .map_err(login_failed)?;
    w.last = Some(x.clone());
    w.auth_response = None;
    Ok(x)
}

#[then(expr = "the attempt is refused with status 429 and a Retry-After header")]
async fn throttled(w: &mut OAuthWorld) -> Check {
    let x = w.last()?;
    let expected = "429 Too Many Requests with Retry-After (RFC 6585 §4): repeated wrong \
                    passwords for one account are throttled (RFC 6749 §4.3.2, §10.10)";
    ensure(
        x.status == 429,
        expected,
        || format!("status {}", x.status),
        x,
    )?;
    let value = x.header("retry-after");
    ensure(
        value.is_some_and(|v| retry_after_seconds(v, SystemTime::now()).is_some()),
        expected,
        || match value {
            Some(v) => format!("Retry-After {v:?}, neither delay-seconds nor an HTTP-date"),
            None => "no Retry-After header".to_owned(),
        },
        x,
    )
}

#[when(expr = "the client waits as long as Retry-After asks")]
async fn wait_retry_after(w: &mut OAuthWorld) -> Check {
    let x = w.last()?;
    let secs = x
        .header("retry-after")
        .and_then(|v| retry_after_seconds(v, SystemTime::now()))
        .ok_or_else(|| Mismatch::error("the last response has no usable Retry-After"))?;
    let max = w.target().max_wait;
    ensure(
        secs <= max,
        format!(
            "a block that ends within [lifetimes].max_wait ({max} s), so its end can be \
             checked (raise max_wait for a target that blocks longer)"
        ),
        || format!("Retry-After: {secs} seconds"),
        x,
    )?;
    // One second more: the server counts in whole seconds too.
    tokio::time::sleep(Duration::from_secs(secs + 1)).await;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Retry-After is read as delay-seconds or as an HTTP-date, rounded up; anything
    /// else is unusable.
    #[test]
    fn reads_retry_after() {
        let now = httpdate::parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT").unwrap();
        assert_eq!(retry_after_seconds("120", now), Some(120));
        assert_eq!(retry_after_seconds(" 0 ", now), Some(0));
        assert_eq!(
            retry_after_seconds("Sun, 06 Nov 1994 08:50:07 GMT", now),
            Some(30)
        );
        assert_eq!(
            retry_after_seconds("Sun, 06 Nov 1994 08:49:00 GMT", now),
            Some(0)
        );
        assert_eq!(retry_after_seconds("soon", now), None);
        assert_eq!(retry_after_seconds("-5", now), None);
    }
}

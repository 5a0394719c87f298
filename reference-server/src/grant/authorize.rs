//! Authorization requests (RFC 6749 §3.1, §4.1.1, §4.1.2.1): which errors may be sent
//! back to the client by redirect, and which must be shown to the user instead.

use super::params::Params;
use super::pkce::{self, Challenge, Policy};
use super::scope::{Scope, resolve};
use super::{ErrorCode, OAuthError};
use crate::model::Client;

/// A valid authorization request, ready for the login and consent page.
#[derive(Debug, Clone)]
pub struct AuthorizeRequest {
    /// The client.
    pub client_id: String,
    /// Where the answer goes: the request's `redirect_uri`, or the only registered one.
    pub redirect_uri: String,
    /// Whether the request carried `redirect_uri` (then the token request must repeat
    /// it, §4.1.3).
    pub redirect_uri_sent: bool,
    /// The scope to be granted.
    pub scope: Scope,
    /// The client's `state`, returned unchanged.
    pub state: Option<String>,
    /// The PKCE challenge, if any.
    pub challenge: Option<Challenge>,
    /// The `request_uri` of a pushed request (RFC 9126) these parameters came from; the
    /// request is used once, when it is answered.
    pub request_uri: Option<String>,
}

/// Why an authorization request failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuthorizeError {
    /// "If the request fails due to a missing, invalid, or mismatching redirection URI,
    /// or if the client identifier is missing or invalid, the authorization server SHOULD
    /// inform the resource owner of the error and MUST NOT automatically redirect the
    /// user-agent to the invalid redirection URI." (§4.1.2.1) An error page.
    Page(&'static str),
    /// Every other error goes back to the client's redirection URI.
    Redirect {
        /// The verified redirection URI.
        redirect_uri: String,
        /// The request's `state`, echoed.
        state: Option<String>,
        /// The error.
        error: OAuthError,
    },
}

/// Verifies the client and the redirection URI: a registered client, and a
/// `redirect_uri` that equals one of its registered URIs exactly (RFC 9700 §2.1:
/// "exact string matching"); omitted only when exactly one is registered (§3.1.2.3).
/// Returns the redirection URI and whether the request sent it.
pub fn check_client(
    params: &Params,
    client: Option<&Client>,
) -> Result<(String, bool), AuthorizeError> {
    if !params.has("client_id") {
        return Err(AuthorizeError::Page("The request has no client_id."));
    }
    let client = client.ok_or(AuthorizeError::Page(
        "The client_id names no registered client.",
    ))?;
    match params.get("redirect_uri") {
        Some(uri)
            if client
                .redirect_uris
                .iter()
                .any(|r| redirect_matches(r, uri)) =>
        {
            Ok((uri.to_owned(), true))
        }
        Some(_) => Err(AuthorizeError::Page(
            "The redirect_uri does not match any redirection URI registered for this client.",
        )),
        None => match client.redirect_uris.as_slice() {
            [only] => Ok((only.clone(), false)),
            [] => Err(AuthorizeError::Page(
                "This client has no registered redirection URI.",
            )),
            _ => Err(AuthorizeError::Page(
                "This client registered several redirection URIs, so the request must name one in redirect_uri.",
            )),
        },
    }
}

/// Whether a presented redirection URI matches a registered one: exact string
/// comparison, "except for port numbers in localhost redirection URIs of native apps"
/// (RFC 9700 §2.1; RFC 8252 §7.3: "The authorization server MUST allow any port to be
/// specified at the time of the request for loopback IP redirect URIs"). The exception
/// covers `http://127.0.0.1` and `http://[::1]` only.
pub fn redirect_matches(registered: &str, presented: &str) -> bool {
    if registered == presented {
        return true;
    }
    match (
        loopback_without_port(registered),
        loopback_without_port(presented),
    ) {
        (Some(a), Some(b)) => a == b,
        _ => false,
    }
}

/// For `http://127.0.0.1[:port]/rest` or `http://[::1][:port]/rest`: the URI with the
/// port removed.
fn loopback_without_port(uri: &str) -> Option<String> {
    let rest = uri.strip_prefix("http://")?;
    let (host, tail) = if let Some(r) = rest.strip_prefix("[::1]") {
        ("[::1]", r)
    } else {
        ("127.0.0.1", rest.strip_prefix("127.0.0.1")?)
    };
    let tail = match tail.strip_prefix(':') {
        Some(t) => {
            let digits = t.bytes().take_while(u8::is_ascii_digit).count();
            if digits == 0 || digits > 5 {
                return None;
            }
            &t[digits..]
        }
        None => tail,
    };
    if !(tail.is_empty() || tail.starts_with(['/', '?'])) {
        return None;
    }
    Some(format!("http://{host}{tail}"))
}

/// Validates a whole authorization request.
pub fn validate(
    params: &Params,
    client: Option<&Client>,
    policy: Policy,
) -> Result<AuthorizeRequest, AuthorizeError> {
    let (redirect_uri, redirect_uri_sent) = check_client(params, client)?;
    let Some(client) = client else {
        return Err(AuthorizeError::Page(
            "The client_id names no registered client.",
        ));
    };
    let state = params.get("state").map(str::to_owned);
    let fail = |error: OAuthError| AuthorizeError::Redirect {
        redirect_uri: redirect_uri.clone(),
        state: state.clone(),
        error,
    };
    match params.get("response_type") {
        None => {
            return Err(fail(OAuthError::invalid_request(
                "the response_type parameter is missing",
            )));
        }
        Some("code") => {}
        Some(_) => {
            return Err(fail(OAuthError::new(
                ErrorCode::UnsupportedResponseType,
                "only response_type=code is supported",
            )));
        }
    }
    if !client.allows_grant("authorization_code")
        || !client.response_types.iter().any(|r| r == "code")
    {
        return Err(fail(OAuthError::unauthorized_client(
            "the client is not registered for the authorization code grant",
        )));
    }
    let scope = resolve(params.get("scope"), &client.scope).map_err(fail)?;
    let challenge = pkce::check_request(
        params.get("code_challenge"),
        params.get("code_challenge_method"),
        !client.auth_method.is_confidential(),
        policy,
    )
    .map_err(fail)?;
    Ok(AuthorizeRequest {
        client_id: client.id.clone(),
        redirect_uri: redirect_uri.clone(),
        redirect_uri_sent,
        scope,
        state: state.clone(),
        challenge,
        request_uri: None,
    })
}

#[cfg(test)]
mod tests {
    use super::redirect_matches;

    /// Exact match, and any port for loopback IP literals only (RFC 8252 §7.3).
    #[test]
    fn loopback_port_exception() {
        assert!(redirect_matches(
            "https://a.example/cb",
            "https://a.example/cb"
        ));
        assert!(!redirect_matches(
            "https://a.example/cb",
            "https://a.example/cb/"
        ));
        assert!(redirect_matches(
            "http://127.0.0.1/cb",
            "http://127.0.0.1:51234/cb"
        ));
        assert!(redirect_matches("http://[::1]:80/cb", "http://[::1]:9/cb"));
        assert!(!redirect_matches(
            "http://127.0.0.1/cb",
            "http://127.0.0.1:51234/other"
        ));
        assert!(!redirect_matches(
            "http://127.0.0.1/cb",
            "http://127.0.0.10/cb"
        ));
        assert!(!redirect_matches(
            "http://localhost/cb",
            "http://localhost:8080/cb"
        ));
        assert!(!redirect_matches(
            "https://127.0.0.1/cb",
            "https://127.0.0.1:8443/cb"
        ));
        assert!(!redirect_matches(
            "http://127.0.0.1/cb",
            "http://127.0.0.1:/cb"
        ));
    }
}

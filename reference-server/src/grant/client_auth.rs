//! Client authentication at the token, revocation and introspection endpoints
//! (RFC 6749 §2.3, §3.2.1).
//!
//! The client must authenticate exactly as it registered: `client_secret_basic`,
//! `client_secret_post`, or `none` (a public client sending only `client_id`).

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

use super::params::{Params, decode_component};
use super::{ErrorCode, OAuthError};
use crate::model::{AuthMethod, Client};
use crate::secret::{Secret, matches_digest};

/// The credentials a request presented, before they are checked against a client.
#[derive(Debug, Clone)]
pub struct Presented {
    /// The `client_id` the request names.
    pub client_id: String,
    /// The method the request used.
    pub method: AuthMethod,
    /// The secret, for `client_secret_basic` and `client_secret_post`.
    pub secret: Option<Secret>,
}

/// Reads the credentials a request presents.
///
/// - "The parameters can only be transmitted in the request-body and MUST NOT be
///   included in the request URI." (§2.3.1) → credentials in the query are refused.
/// - "The client MUST NOT use more than one authentication method in each request."
///   (§2.3) → Basic together with `client_secret` in the body is refused.
/// - "The client identifier is encoded using the application/x-www-form-urlencoded
///   encoding algorithm ... and the encoded value is used as the username; the client
///   password is encoded using the same algorithm and used as the password." (§2.3.1)
pub fn presented(
    authorization: Option<&[u8]>,
    body: &Params,
    query: &Params,
) -> Result<Presented, OAuthError> {
    if query.has("client_secret") || query.has("client_id") {
        return Err(OAuthError::invalid_request(
            "client credentials must not be sent in the request URI",
        ));
    }
    if let Some(header) = authorization {
        let (id, secret) = parse_basic(header).ok_or_else(|| {
            OAuthError::invalid_client(
                "the Authorization header is not valid HTTP Basic client authentication",
            )
        })?;
        if body.has("client_secret") {
            return Err(OAuthError::invalid_request(
                "more than one client authentication method was used",
            ));
        }
        if body.get("client_id").is_some_and(|b| b != id) {
            return Err(OAuthError::invalid_request(
                "client_id in the body differs from the Authorization header",
            ));
        }
        return Ok(Presented {
            client_id: id,
            method: AuthMethod::ClientSecretBasic,
            secret: Some(secret),
        });
    }
    let Some(id) = body.get("client_id") else {
        return Err(OAuthError::invalid_client(
            "no client authentication was included",
        ));
    };
    Ok(match body.get("client_secret") {
        Some(secret) => Presented {
            client_id: id.to_owned(),
            method: AuthMethod::ClientSecretPost,
            secret: Some(Secret::new(secret)),
        },
        None => Presented {
            client_id: id.to_owned(),
            method: AuthMethod::None,
            secret: None,
        },
    })
}

/// Checks presented credentials against the registered client (`None` when unknown).
/// Every failure is the same `invalid_client`, so the answer does not tell whether the
/// client exists.
pub fn verify(presented: &Presented, client: Option<&Client>) -> Result<(), OAuthError> {
    let fail = || OAuthError::new(ErrorCode::InvalidClient, "client authentication failed");
    let client = client.ok_or_else(fail)?;
    if client.auth_method != presented.method {
        return Err(fail());
    }
    match (&presented.secret, &client.secret_digest) {
        (None, None) if client.auth_method == AuthMethod::None => Ok(()),
        (Some(secret), Some(stored)) if matches_digest(secret.expose(), stored) => Ok(()),
        _ => Err(fail()),
    }
}

/// Parses `Basic base64(urlencode(id) ":" urlencode(secret))`; the scheme name is
/// case-insensitive (RFC 9110 §11.1).
fn parse_basic(header: &[u8]) -> Option<(String, Secret)> {
    let header = std::str::from_utf8(header).ok()?.trim();
    let (scheme, rest) = header.split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = STANDARD.decode(rest.trim()).ok()?;
    let decoded = String::from_utf8(decoded).ok()?;
    let (id, secret) = decoded.split_once(':')?;
    let id = decode_component(id.as_bytes()).ok()?;
    let secret = decode_component(secret.as_bytes()).ok()?;
    if id.is_empty() {
        return None;
    }
    Some((id, Secret::new(secret)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn basic(id: &str, secret: &str) -> Vec<u8> {
        format!("Basic {}", STANDARD.encode(format!("{id}:{secret}"))).into_bytes()
    }

    /// Basic credentials are form-urldecoded after base64 (R11).
    #[test]
    fn basic_is_form_urldecoded() -> Result<(), OAuthError> {
        let h = basic("my%3Aclient", "a%2Bb+c%25");
        let p = presented(Some(&h), &Params::default(), &Params::default())?;
        assert_eq!(p.client_id, "my:client");
        assert_eq!(p.secret.as_ref().map(Secret::expose), Some("a+b c%"));
        Ok(())
    }

    /// Basic plus a body secret is two methods (R14); query credentials are refused (R13).
    #[test]
    fn two_methods_and_query_refused() -> Result<(), crate::grant::params::ParamsError> {
        let h = basic("c", "s");
        let body = Params::parse(b"client_secret=s")?;
        let err = presented(Some(&h), &body, &Params::default()).err();
        assert_eq!(err.map(|e| e.code), Some(ErrorCode::InvalidRequest));
        let q = Params::parse(b"client_secret=s")?;
        let err = presented(None, &Params::default(), &q).err();
        assert_eq!(err.map(|e| e.code), Some(ErrorCode::InvalidRequest));
        Ok(())
    }

    /// A malformed header is invalid_client.
    #[test]
    fn malformed_header() {
        let err = presented(Some(b"Basic !!!"), &Params::default(), &Params::default()).err();
        assert_eq!(err.map(|e| e.code), Some(ErrorCode::InvalidClient));
    }
}

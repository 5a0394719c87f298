//! Proof Key for Code Exchange (RFC 7636), with the RFC 9700 §2.1.1 downgrade checks.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest as _, Sha256};
use subtle::ConstantTimeEq as _;

use super::OAuthError;

/// A code challenge method (RFC 7636 §4.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    /// `code_challenge = code_verifier`.
    Plain,
    /// `code_challenge = BASE64URL-ENCODE(SHA256(ASCII(code_verifier)))`.
    S256,
}

impl Method {
    /// The registered name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Plain => "plain",
            Self::S256 => "S256",
        }
    }

    /// Parses a stored or requested method name (case-sensitive).
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "plain" => Some(Self::Plain),
            "S256" => Some(Self::S256),
            _ => None,
        }
    }
}

/// A challenge accepted at the authorization endpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Challenge {
    /// The challenge value.
    pub value: String,
    /// Its method.
    pub method: Method,
}

/// PKCE policy of the server.
#[derive(Debug, Clone, Copy)]
pub struct Policy {
    /// Whether `plain` is accepted.
    pub allow_plain: bool,
    /// Whether public clients must send a challenge.
    pub require_for_public: bool,
    /// Whether every client must send a challenge (OAuth 2.1).
    pub require_for_all: bool,
}

/// `code-verifier = 43*128unreserved`, unreserved = ALPHA / DIGIT / "-" / "." / "_" / "~"
/// (RFC 7636 §4.1). A plain challenge has the same syntax.
pub fn is_valid_verifier(v: &str) -> bool {
    (43..=128).contains(&v.len())
        && v.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~'))
}

/// Checks the PKCE parameters of an authorization request.
///
/// - "code_challenge_method ... Defaults to "plain" if not present in the request."
///   (§4.3)
/// - "If the server supporting PKCE does not support the requested transformation, the
///   authorization endpoint MUST return the authorization error response with "error"
///   value set to "invalid_request"." (§4.4.1)
/// - "If the server requires Proof Key for Code Exchange (PKCE) by OAuth public clients
///   and the client does not send the "code_challenge" in the request, the authorization
///   endpoint MUST return the authorization error response with the "error" value set to
///   "invalid_request"." (§4.4.1)
pub fn check_request(
    challenge: Option<&str>,
    method: Option<&str>,
    public_client: bool,
    policy: Policy,
) -> Result<Option<Challenge>, OAuthError> {
    let Some(value) = challenge else {
        if method.is_some() {
            return Err(OAuthError::invalid_request(
                "code_challenge_method was sent without a code_challenge",
            ));
        }
        if policy.require_for_all || (public_client && policy.require_for_public) {
            return Err(OAuthError::invalid_request(
                "this client must use PKCE: code_challenge is required",
            ));
        }
        return Ok(None);
    };
    let method = match method {
        None => Method::Plain,
        Some(m) => Method::parse(m).ok_or_else(|| {
            OAuthError::invalid_request("the code_challenge_method is not supported")
        })?,
    };
    if method == Method::Plain && !policy.allow_plain {
        return Err(OAuthError::invalid_request(
            "the plain code_challenge_method is not supported; use S256",
        ));
    }
    let well_formed = match method {
        Method::Plain => is_valid_verifier(value),
        Method::S256 => {
            value.len() == 43
                && value
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_'))
        }
    };
    if !well_formed {
        return Err(OAuthError::invalid_request(
            "the code_challenge is malformed",
        ));
    }
    Ok(Some(Challenge {
        value: value.to_owned(),
        method,
    }))
}

/// Checks the `code_verifier` of a token request against the stored challenge.
///
/// - "If the values are equal, the token endpoint MUST continue processing as normal
///   ... If the values are not equal, an error response indicating "invalid_grant" ...
///   MUST be returned." (§4.6)
/// - RFC 9700 §2.1.1: a token request with a `code_verifier` for a code issued without a
///   challenge is refused, and so is a missing verifier when a challenge was sent.
pub fn check_verifier(
    challenge: Option<&Challenge>,
    verifier: Option<&str>,
) -> Result<(), OAuthError> {
    match (challenge, verifier) {
        (None, None) => Ok(()),
        (None, Some(_)) => Err(OAuthError::invalid_grant(
            "a code_verifier was sent but the authorization request had no code_challenge",
        )),
        (Some(_), None) => Err(OAuthError::invalid_grant("the code_verifier is missing")),
        (Some(c), Some(v)) => {
            if !is_valid_verifier(v) {
                return Err(OAuthError::invalid_grant("the code_verifier is malformed"));
            }
            let computed = match c.method {
                Method::Plain => v.to_owned(),
                Method::S256 => URL_SAFE_NO_PAD.encode(Sha256::digest(v.as_bytes())),
            };
            if bool::from(computed.as_bytes().ct_eq(c.value.as_bytes())) {
                Ok(())
            } else {
                Err(OAuthError::invalid_grant(
                    "the code_verifier does not match the code_challenge",
                ))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::grant::ErrorCode;

    const POLICY: Policy = Policy {
        allow_plain: true,
        require_for_public: true,
        require_for_all: false,
    };

    /// The RFC 7636 appendix B example verifies.
    #[test]
    fn appendix_b_example() {
        let c = Challenge {
            value: "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM".into(),
            method: Method::S256,
        };
        assert_eq!(
            check_verifier(
                Some(&c),
                Some("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk")
            ),
            Ok(())
        );
    }

    /// The S256 challenge itself, sent as a plain verifier, fails (R60).
    #[test]
    fn s256_downgrade_to_plain_fails() {
        let c = Challenge {
            value: "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM".into(),
            method: Method::S256,
        };
        let err = check_verifier(Some(&c), Some(&c.value)).err();
        assert_eq!(err.map(|e| e.code), Some(ErrorCode::InvalidGrant));
    }

    /// Absent method means plain; an unknown method and a public client without a
    /// challenge are invalid_request.
    #[test]
    fn request_rules() {
        let v = "a".repeat(43);
        assert_eq!(
            check_request(Some(&v), None, false, POLICY)
                .ok()
                .flatten()
                .map(|c| c.method),
            Some(Method::Plain)
        );
        assert!(check_request(Some(&v), Some("S512"), false, POLICY).is_err());
        assert!(check_request(None, None, true, POLICY).is_err());
        assert!(check_request(None, None, false, POLICY).is_ok());
        let no_plain = Policy {
            allow_plain: false,
            ..POLICY
        };
        assert!(check_request(Some(&v), None, false, no_plain).is_err());
    }

    /// Verifier length bounds are 43 and 128.
    #[test]
    fn verifier_syntax() {
        assert!(!is_valid_verifier(&"a".repeat(42)));
        assert!(is_valid_verifier(&"a".repeat(43)));
        assert!(is_valid_verifier(&"a".repeat(128)));
        assert!(!is_valid_verifier(&"a".repeat(129)));
        assert!(!is_valid_verifier(&format!("{}+", "a".repeat(43))));
    }
}

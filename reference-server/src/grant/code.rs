//! Authorization code redemption (RFC 6749 §4.1.3, §10.5; RFC 7636 §4.6).

use super::OAuthError;
use super::pkce::{Challenge, check_verifier};
use super::scope::Scope;

/// What the store knows of a presented authorization code.
#[derive(Debug, Clone)]
pub struct CodeRecord {
    /// The client it was issued to.
    pub client_id: String,
    /// The user who approved it.
    pub user_id: i64,
    /// The redirection URI used in the authorization request.
    pub redirect_uri: String,
    /// Whether the authorization request carried `redirect_uri`.
    pub redirect_uri_sent: bool,
    /// The approved scope.
    pub scope: Scope,
    /// The PKCE challenge, if any.
    pub challenge: Option<Challenge>,
    /// When it stops being redeemable.
    pub expires_at: i64,
    /// When it was redeemed, if it was.
    pub used_at: Option<i64>,
    /// The grant its tokens belong to, once redeemed.
    pub grant_id: Option<i64>,
}

/// What to do with a redemption.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CodeDecision {
    /// Issue tokens and mark the code used.
    Issue,
    /// "If an authorization code is used more than once, the authorization server MUST
    /// deny the request and SHOULD revoke (when possible) all tokens previously issued
    /// based on that authorization code." (§4.1.2)
    ReuseDetected {
        /// The grant to revoke, if the first redemption created one.
        grant_id: Option<i64>,
    },
}

/// Decides a redemption.
///
/// - "ensure that the authorization code was issued to the authenticated confidential
///   client, or if the client is public, ensure that the code was issued to "client_id"
///   in the request" (§4.1.3)
/// - "ensure that the "redirect_uri" parameter is present if the "redirect_uri"
///   parameter was included in the initial authorization request ..., and if included
///   ensure that their values are identical." (§4.1.3)
/// - PKCE per [`check_verifier`].
pub fn decide(
    record: Option<&CodeRecord>,
    client_id: &str,
    redirect_uri: Option<&str>,
    verifier: Option<&str>,
    now: i64,
) -> Result<CodeDecision, OAuthError> {
    let record =
        record.ok_or_else(|| OAuthError::invalid_grant("the authorization code is invalid"))?;
    if record.used_at.is_some() {
        return Ok(CodeDecision::ReuseDetected {
            grant_id: record.grant_id,
        });
    }
    if record.client_id != client_id {
        return Err(OAuthError::invalid_grant(
            "the authorization code was issued to another client",
        ));
    }
    if record.expires_at <= now {
        return Err(OAuthError::invalid_grant(
            "the authorization code has expired",
        ));
    }
    match redirect_uri {
        None if record.redirect_uri_sent => {
            return Err(OAuthError::invalid_grant(
                "redirect_uri is required because the authorization request included it",
            ));
        }
        Some(uri) if uri != record.redirect_uri => {
            return Err(OAuthError::invalid_grant(
                "redirect_uri differs from the one in the authorization request",
            ));
        }
        _ => {}
    }
    check_verifier(record.challenge.as_ref(), verifier)?;
    Ok(CodeDecision::Issue)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::grant::ErrorCode;

    fn record() -> CodeRecord {
        CodeRecord {
            client_id: "a".into(),
            user_id: 1,
            redirect_uri: "https://a.example/cb".into(),
            redirect_uri_sent: true,
            scope: Scope::default(),
            challenge: None,
            expires_at: 100,
            used_at: None,
            grant_id: None,
        }
    }

    /// The redirect_uri must be repeated exactly when it was sent (R39).
    #[test]
    fn redirect_uri_binding() {
        let r = record();
        let code = |x: Result<CodeDecision, OAuthError>| x.err().map(|e| e.code);
        assert_eq!(
            code(decide(Some(&r), "a", None, None, 50)),
            Some(ErrorCode::InvalidGrant)
        );
        assert_eq!(
            code(decide(
                Some(&r),
                "a",
                Some("https://a.example/cb/"),
                None,
                50
            )),
            Some(ErrorCode::InvalidGrant)
        );
        assert_eq!(
            decide(Some(&r), "a", Some("https://a.example/cb"), None, 50),
            Ok(CodeDecision::Issue)
        );
    }

    /// Another client's code and an expired code are invalid_grant (R40, R44).
    #[test]
    fn client_and_expiry() {
        let r = record();
        assert!(decide(Some(&r), "b", Some("https://a.example/cb"), None, 50).is_err());
        assert!(decide(Some(&r), "a", Some("https://a.example/cb"), None, 100).is_err());
    }

    /// A used code is reuse, whoever presents it (R41).
    #[test]
    fn reuse() {
        let r = CodeRecord {
            used_at: Some(10),
            grant_id: Some(7),
            ..record()
        };
        assert_eq!(
            decide(Some(&r), "b", None, None, 50),
            Ok(CodeDecision::ReuseDetected { grant_id: Some(7) })
        );
    }
}

//! Refresh token decisions (RFC 6749 §6, RFC 9700 §4.14.2).

use super::OAuthError;
use super::scope::{Scope, resolve};

/// What the store knows of a presented refresh token.
#[derive(Debug, Clone)]
pub struct RefreshRecord {
    /// The grant (token family) the token belongs to.
    pub grant_id: i64,
    /// The client it was issued to.
    pub client_id: String,
    /// The user, if any.
    pub user_id: Option<i64>,
    /// The token's scope.
    pub scope: Scope,
    /// When it stops being usable.
    pub expires_at: i64,
    /// When it was rotated, if it was.
    pub used_at: Option<i64>,
    /// When it was revoked, if it was.
    pub revoked_at: Option<i64>,
}

/// What to do with a refresh request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RefreshDecision {
    /// Issue a new access token with `access_scope` and a new refresh token with the
    /// old token's scope, and retire the old one.
    Rotate {
        /// Scope of the new access token (the request's, narrowed).
        access_scope: Scope,
    },
    /// The token was already rotated: someone replays it. Revoke the whole family and
    /// answer `invalid_grant` (RFC 9700 §4.14.2).
    ReuseDetected,
}

/// Decides a refresh request.
///
/// - "[The authorization server MUST] ensure that the refresh token was issued to the
///   authenticated client" (§6) → another client's token is `invalid_grant`.
/// - Unknown, expired or revoked → `invalid_grant` (§5.2).
/// - "The requested scope MUST NOT include any scope not originally granted by the
///   resource owner, and if omitted is treated as equal to the scope originally granted"
///   (§6) → wider is `invalid_scope`.
pub fn decide(
    record: Option<&RefreshRecord>,
    client_id: &str,
    requested_scope: Option<&str>,
    now: i64,
) -> Result<RefreshDecision, OAuthError> {
    let record = record.ok_or_else(|| OAuthError::invalid_grant("the refresh token is invalid"))?;
    if record.client_id != client_id {
        return Err(OAuthError::invalid_grant("the refresh token is invalid"));
    }
    if record.revoked_at.is_some() {
        return Err(OAuthError::invalid_grant("the refresh token was revoked"));
    }
    if record.used_at.is_some() {
        return Ok(RefreshDecision::ReuseDetected);
    }
    if record.expires_at <= now {
        return Err(OAuthError::invalid_grant("the refresh token has expired"));
    }
    let access_scope = resolve(requested_scope, &record.scope)?;
    Ok(RefreshDecision::Rotate { access_scope })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::grant::ErrorCode;

    fn record() -> RefreshRecord {
        RefreshRecord {
            grant_id: 1,
            client_id: "a".into(),
            user_id: Some(1),
            scope: Scope::parse("email profile").unwrap_or_default(),
            expires_at: 100,
            used_at: None,
            revoked_at: None,
        }
    }

    /// Another client's token, an expired token and a wider scope are refused.
    #[test]
    fn refusals() {
        let r = record();
        let code = |res: Result<RefreshDecision, OAuthError>| res.err().map(|e| e.code);
        assert_eq!(
            code(decide(Some(&r), "b", None, 50)),
            Some(ErrorCode::InvalidGrant)
        );
        assert_eq!(
            code(decide(Some(&r), "a", None, 100)),
            Some(ErrorCode::InvalidGrant)
        );
        assert_eq!(
            code(decide(None, "a", None, 50)),
            Some(ErrorCode::InvalidGrant)
        );
        let wide = RefreshRecord {
            scope: Scope::parse("email").unwrap_or_default(),
            ..record()
        };
        assert_eq!(
            code(decide(Some(&wide), "a", Some("profile"), 50)),
            Some(ErrorCode::InvalidScope)
        );
    }

    /// A rotated token presented again is reuse.
    #[test]
    fn reuse() {
        let r = RefreshRecord {
            used_at: Some(10),
            ..record()
        };
        assert_eq!(
            decide(Some(&r), "a", None, 50),
            Ok(RefreshDecision::ReuseDetected)
        );
    }
}

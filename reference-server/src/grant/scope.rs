//! Access token scope (RFC 6749 §3.3).
//!
//! "The value of the scope parameter is expressed as a list of space-delimited,
//! case-sensitive strings." `scope-token = 1*( %x21 / %x23-5B / %x5D-7E )`. The server
//! knows the scopes in [`SUPPORTED`]; a client never receives a scope it was not
//! registered for.

use std::collections::BTreeSet;

use super::OAuthError;

/// Every scope this server knows.
pub const SUPPORTED: &[&str] = &["profile", "email"];

/// A set of scope tokens, kept ordered so responses are stable.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Scope(BTreeSet<String>);

impl Scope {
    /// Parses a space-delimited scope string; `None` when the syntax is wrong.
    pub fn parse(s: &str) -> Option<Self> {
        let mut set = BTreeSet::new();
        for token in s.split(' ') {
            if token.is_empty()
                || !token
                    .bytes()
                    .all(|b| b == 0x21 || (0x23..=0x5B).contains(&b) || (0x5D..=0x7E).contains(&b))
            {
                return None;
            }
            set.insert(token.to_owned());
        }
        Some(Self(set))
    }

    /// Whether every token of `self` is in `other`.
    pub fn is_subset(&self, other: &Scope) -> bool {
        self.0.is_subset(&other.0)
    }

    /// Whether the set holds a token.
    pub fn contains(&self, token: &str) -> bool {
        self.0.contains(token)
    }

    /// The tokens.
    pub fn iter(&self) -> impl Iterator<Item = &str> {
        self.0.iter().map(String::as_str)
    }
}

impl std::fmt::Display for Scope {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut first = true;
        for t in &self.0 {
            if !first {
                f.write_str(" ")?;
            }
            f.write_str(t)?;
            first = false;
        }
        Ok(())
    }
}

/// Decides the scope to grant for a request.
///
/// "If the client omits the scope parameter when requesting authorization, the
/// authorization server MUST either process the request using a pre-defined default
/// value or fail the request indicating an invalid scope." (§3.3) The default is the
/// whole of `ceiling` (the client's registration, or the original grant on refresh).
/// A request for an unknown scope, or one beyond the ceiling, fails with `invalid_scope`.
pub fn resolve(requested: Option<&str>, ceiling: &Scope) -> Result<Scope, OAuthError> {
    let Some(requested) = requested else {
        return Ok(ceiling.clone());
    };
    let scope = Scope::parse(requested)
        .ok_or_else(|| OAuthError::invalid_scope("the scope parameter is malformed"))?;
    if scope.iter().any(|t| !SUPPORTED.contains(&t)) {
        return Err(OAuthError::invalid_scope(
            "the requested scope includes a value this server does not know",
        ));
    }
    if !scope.is_subset(ceiling) {
        return Err(OAuthError::invalid_scope(
            "the requested scope exceeds what this client may be granted",
        ));
    }
    Ok(scope)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &str) -> Scope {
        Scope::parse(v).unwrap_or_default()
    }

    /// Omitted scope means the whole ceiling.
    #[test]
    fn omitted_is_ceiling() {
        assert_eq!(resolve(None, &s("email profile")), Ok(s("email profile")));
    }

    /// Narrowing is allowed; widening and unknown scopes are not.
    #[test]
    fn narrowing_only() {
        assert_eq!(resolve(Some("email"), &s("email profile")), Ok(s("email")));
        assert!(resolve(Some("profile"), &s("email")).is_err());
        assert!(resolve(Some("admin"), &s("email profile")).is_err());
    }

    /// Double spaces and quotes are syntax errors.
    #[test]
    fn syntax() {
        assert!(Scope::parse("a  b").is_none());
        assert!(Scope::parse("a\"b").is_none());
        assert_eq!(s("profile email").to_string(), "email profile");
    }
}

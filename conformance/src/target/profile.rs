//! The target profile: a TOML file that says where an authorization server is, which
//! clients and users the runner may use, what the server supports, and which failures
//! are expected. Documented field by field in `docs/profile.md`.

use std::collections::BTreeMap;

use serde::Deserialize;

use crate::secret::Secret;

/// A whole profile as written.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Profile {
    /// A short name for reports.
    #[serde(default)]
    pub name: Option<String>,
    /// The issuer identifier, used for RFC 8414 discovery.
    #[serde(default)]
    pub issuer: Option<String>,
    /// Explicit endpoints; they override what discovery finds.
    #[serde(default)]
    pub endpoints: EndpointsProfile,
    /// Clients by role: `confidential_basic`, `confidential_post`, `public`,
    /// `second_confidential`, `client_credentials`.
    #[serde(default)]
    pub clients: BTreeMap<String, ClientProfile>,
    /// Users by role: `primary`, `secondary`, and the accounts the brute-force
    /// scenarios send wrong passwords for, `throttled` (token endpoint) and
    /// `throttled_form` (login form).
    #[serde(default)]
    pub users: BTreeMap<String, UserProfile>,
    /// The protected resource.
    #[serde(default)]
    pub resource: Option<ResourceProfile>,
    /// How to log in at the authorization endpoint (`None`: the section is absent and
    /// the form driver's defaults apply).
    #[serde(default)]
    pub login: Option<LoginProfile>,
    /// What the target supports; unset entries come from discovery.
    #[serde(default)]
    pub capabilities: CapabilitiesProfile,
    /// Lifetimes, so expiry scenarios run only where they are short.
    #[serde(default)]
    pub lifetimes: LifetimesProfile,
    /// How the brute-force scenarios probe the target's throttle.
    #[serde(default)]
    pub brute_force: BruteForceProfile,
    /// Scenario names or requirement IDs that are known to fail, each with a reason.
    #[serde(default)]
    pub expected_failures: BTreeMap<String, String>,
}

/// `[endpoints]`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EndpointsProfile {
    /// Authorization endpoint URL.
    pub authorization: Option<String>,
    /// Token endpoint URL.
    pub token: Option<String>,
    /// Revocation endpoint URL (RFC 7009).
    pub revocation: Option<String>,
    /// Introspection endpoint URL (RFC 7662).
    pub introspection: Option<String>,
    /// Pushed authorization request endpoint URL (RFC 9126).
    pub par: Option<String>,
}

/// `[clients.<role>]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClientProfile {
    /// The `client_id`.
    pub id: String,
    /// The secret of a confidential client.
    #[serde(default)]
    pub secret: Option<Secret>,
    /// `client_secret_basic`, `client_secret_post` or `none`.
    pub auth_method: String,
    /// A registered redirection URI.
    #[serde(default)]
    pub redirect_uri: Option<String>,
    /// The scope to request (space-separated).
    #[serde(default)]
    pub scope: Option<String>,
    /// Another registered redirection URI, one that has a query component (for the
    /// check that the query is kept, RFC 6749 §3.1.2).
    #[serde(default)]
    pub redirect_uri_with_query: Option<String>,
    /// The grant types this client is registered for (default: every grant type of the
    /// target). A scenario that needs a grant the client is not registered for is not
    /// applicable to it.
    #[serde(default)]
    pub grants: Option<Vec<String>>,
    /// Whether `redirect_uri` is the only redirection URI registered for the client, so
    /// that its authorization requests may leave `redirect_uri` out (RFC 6749 §3.1.2.3,
    /// §4.1.1: OPTIONAL).
    #[serde(default)]
    pub only_redirect_uri: bool,
}

/// `[users.<role>]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UserProfile {
    /// The login name.
    pub username: String,
    /// The password.
    pub password: Secret,
    /// What the protected resource reports for this user in `resource.user_field`
    /// (default: the username).
    #[serde(default)]
    pub resource_id: Option<String>,
}

/// `[resource]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ResourceProfile {
    /// URL of a bearer-protected resource (absolute, or a path on the issuer).
    pub url: String,
    /// The scope it requires.
    pub scope: String,
    /// A valid scope that is not enough for it (for the 403 check).
    #[serde(default)]
    pub insufficient_scope: Option<String>,
    /// The JSON member of its answer that identifies the user.
    #[serde(default)]
    pub user_field: Option<String>,
}

/// `[login] driver`: how the runner drives the login page.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Driver {
    /// The HTML form driver (no JavaScript).
    #[default]
    Form,
    /// Headless Chromium through the DevTools protocol, for login pages that need
    /// JavaScript.
    Browser,
}

/// One `[[login.steps]]` entry of the browser driver's scripted mode. Each step waits
/// (up to its `timeout`) until the current URL matches `url` (a glob) and its element
/// exists, then fills and clicks.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LoginStep {
    /// A glob (`*`, `?`) the current URL must match.
    #[serde(default)]
    pub url: Option<String>,
    /// `[CSS selector, value]`; `{username}` and `{password}` are replaced.
    #[serde(default)]
    pub fill: Option<[String; 2]>,
    /// A CSS selector to click.
    #[serde(default)]
    pub click: Option<String>,
    /// A CSS selector to wait for.
    #[serde(default)]
    pub wait_for: Option<String>,
    /// A URL glob to wait for.
    #[serde(default)]
    pub wait_for_url: Option<String>,
    /// A step that may not happen (a consent page shown only the first time).
    #[serde(default)]
    pub optional: bool,
    /// Seconds the step may wait (default 10).
    #[serde(default)]
    pub timeout: Option<u64>,
}

impl LoginStep {
    /// What the step waits for, for an error.
    pub fn describe(&self) -> String {
        let mut parts = Vec::new();
        if let Some(u) = &self.url {
            parts.push(format!("a URL matching {u:?}"));
        }
        if let Some(s) = &self.wait_for {
            parts.push(format!("an element {s:?}"));
        }
        if let Some(u) = &self.wait_for_url {
            parts.push(format!("a URL matching {u:?}"));
        }
        if let Some(f) = &self.fill {
            parts.push(format!("a field {:?} to fill", f[0]));
        }
        if let Some(c) = &self.click {
            parts.push(format!("an element {c:?} to click"));
        }
        format!("[[login.steps]]: {}", parts.join(" and "))
    }
}

/// `[login]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LoginProfile {
    /// The driver: `form`.
    #[serde(default)]
    pub driver: Driver,
    /// Name of the username field; default: the first email or text input.
    #[serde(default)]
    pub username_field: Option<String>,
    /// Name of the password field; default: the password input.
    #[serde(default)]
    pub password_field: Option<String>,
    /// Text or value of the button that approves; default: a button named like
    /// approve, allow, accept, authorize, consent, continue, yes, or the first submit.
    #[serde(default)]
    pub approve_button: Option<String>,
    /// Whether a consent form follows the login form (default: detected).
    #[serde(default)]
    pub consent: Option<bool>,
    /// Browser driver: the scripted steps (none: automatic mode).
    #[serde(default)]
    pub steps: Option<Vec<LoginStep>>,
    /// Browser driver: origins besides the authorization server's the login may visit
    /// (an identity provider's page); a navigation anywhere else ends the login.
    #[serde(default)]
    pub allowed_origins: Vec<String>,
    /// Browser driver: seconds a whole login may take (default 30).
    #[serde(default)]
    pub timeout: Option<u64>,
}

impl Default for LoginProfile {
    fn default() -> Self {
        Self {
            driver: Driver::Form,
            username_field: None,
            password_field: None,
            approve_button: None,
            consent: None,
            steps: None,
            allowed_origins: Vec::new(),
            timeout: None,
        }
    }
}

/// `[capabilities]`: each `None` is taken from discovery where possible.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CapabilitiesProfile {
    /// Grant types the target supports.
    pub grants: Option<Vec<String>>,
    /// PKCE with S256.
    pub pkce: Option<bool>,
    /// PKCE with plain.
    pub pkce_plain: Option<bool>,
    /// Token revocation (RFC 7009).
    pub revocation: Option<bool>,
    /// Token introspection (RFC 7662).
    pub introspection: Option<bool>,
    /// Pushed authorization requests (RFC 9126).
    pub par: Option<bool>,
    /// Authorization requests must be pushed (RFC 9126 §5,
    /// `require_pushed_authorization_requests`).
    pub par_required: Option<bool>,
    /// Refresh-token rotation with reuse detection.
    pub refresh_rotation: Option<bool>,
    /// RFC 8414 metadata.
    pub metadata: Option<bool>,
    /// The `iss` authorization response parameter (RFC 9207).
    pub iss_parameter: Option<bool>,
    /// Public clients must use PKCE.
    pub pkce_required_for_public: Option<bool>,
    /// Every client must use PKCE (OAuth 2.1).
    pub pkce_required: Option<bool>,
    /// Repeated wrong passwords for one account are throttled with 429 and
    /// `Retry-After`, for a limited time.
    pub brute_force_protection: Option<bool>,
    /// The target follows the OAuth 2.1 / RFC 9700 profile: no password grant, PKCE
    /// for every client, no bearer tokens in the query. Turns on the `@oauth21`
    /// scenarios, which invert what plain OAuth 2.0 allows.
    pub oauth21: Option<bool>,
}

/// `[lifetimes]` in seconds.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LifetimesProfile {
    /// Authorization-code lifetime.
    #[serde(default)]
    pub code: Option<u64>,
    /// Access-token lifetime.
    #[serde(default)]
    pub access_token: Option<u64>,
    /// The longest a scenario may wait for something to expire.
    #[serde(default = "default_max_wait")]
    pub max_wait: u64,
}

fn default_max_wait() -> u64 {
    5
}

impl Default for LifetimesProfile {
    fn default() -> Self {
        Self {
            code: None,
            access_token: None,
            max_wait: default_max_wait(),
        }
    }
}

/// `[brute_force]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BruteForceProfile {
    /// The most wrong passwords a scenario sends before it expects a refusal.
    #[serde(default = "default_max_attempts")]
    pub max_attempts: u32,
    /// Whether the brute-force scenarios may run against a target that is not on
    /// loopback (they lock accounts and send bursts of wrong passwords, so a shared or
    /// production server must opt in).
    #[serde(default)]
    pub remote: bool,
}

fn default_max_attempts() -> u32 {
    10
}

impl Default for BruteForceProfile {
    fn default() -> Self {
        Self {
            max_attempts: default_max_attempts(),
            remote: false,
        }
    }
}

/// Why a profile cannot be used (exit code 2).
#[derive(Debug, thiserror::Error)]
pub enum ProfileError {
    /// Not TOML, or a field of the wrong type or with a value outside its set.
    #[error("{0}")]
    Toml(#[from] toml::de::Error),
    /// A value the runner does not know or cannot use.
    #[error("{0}")]
    Invalid(String),
}

/// The client roles a profile can fill (`[clients.<role>]`).
pub const CLIENT_ROLES: &[&str] = &[
    "confidential_basic",
    "confidential_post",
    "public",
    "second_confidential",
    "client_credentials",
];

/// The user roles a profile can fill (`[users.<role>]`).
pub const USER_ROLES: &[&str] = &["primary", "secondary", "throttled", "throttled_form"];

/// The client authentication methods a client role can use.
pub const AUTH_METHODS: &[&str] = &["client_secret_basic", "client_secret_post", "none"];

/// Grant type names registered for RFC 6749 and its extensions; any other value must be
/// an absolute URI (RFC 6749 §4.5).
pub const KNOWN_GRANTS: &[&str] = &[
    "authorization_code",
    "implicit",
    "password",
    "client_credentials",
    "refresh_token",
];

fn one_of(field: &str, value: &str, allowed: &[&str]) -> Result<(), ProfileError> {
    if allowed.contains(&value) {
        Ok(())
    } else {
        Err(ProfileError::Invalid(format!(
            "{field} = {value:?} is not one of: {}",
            allowed.join(", ")
        )))
    }
}

fn grant_names(field: &str, grants: &[String]) -> Result<(), ProfileError> {
    for g in grants {
        // Extension grants are absolute URIs (`urn:ietf:params:oauth:grant-type:...`).
        if !KNOWN_GRANTS.contains(&g.as_str()) && !g.contains(':') {
            return Err(ProfileError::Invalid(format!(
                "{field} has {g:?}, which is neither one of {} nor an absolute URI (RFC 6749 §4.5)",
                KNOWN_GRANTS.join(", ")
            )));
        }
    }
    Ok(())
}

impl Profile {
    /// Parses a profile from TOML text and checks every value with a fixed set of
    /// choices, so a typo ends the run instead of quietly turning scenarios off.
    pub fn from_toml(text: &str) -> Result<Self, ProfileError> {
        let p: Self = toml::from_str(text)?;
        p.validate()?;
        Ok(p)
    }

    /// Checks role names, enumerated values and values that must agree.
    pub fn validate(&self) -> Result<(), ProfileError> {
        for (key, c) in &self.clients {
            one_of("a client role [clients.<role>]", key, CLIENT_ROLES)?;
            one_of(
                &format!("[clients.{key}] auth_method"),
                &c.auth_method,
                AUTH_METHODS,
            )?;
            if c.auth_method != "none" && c.secret.is_none() {
                return Err(ProfileError::Invalid(format!(
                    "[clients.{key}] needs a secret for {}",
                    c.auth_method
                )));
            }
            if c.auth_method == "none" && c.secret.is_some() {
                return Err(ProfileError::Invalid(format!(
                    "[clients.{key}] has a secret but auth_method = \"none\": give it \
                     client_secret_basic or client_secret_post, or remove the secret"
                )));
            }
            if let Some(g) = &c.grants {
                grant_names(&format!("[clients.{key}] grants"), g)?;
            }
            if c.only_redirect_uri
                && (c.redirect_uri.is_none() || c.redirect_uri_with_query.is_some())
            {
                return Err(ProfileError::Invalid(format!(
                    "[clients.{key}] only_redirect_uri = true needs a redirect_uri and no \
                     redirect_uri_with_query (that would be a second registered URI)"
                )));
            }
            if let Some(u) = &c.redirect_uri_with_query {
                if !u.contains('?') {
                    return Err(ProfileError::Invalid(format!(
                        "[clients.{key}] redirect_uri_with_query = {u:?} has no query"
                    )));
                }
            }
        }
        for key in self.users.keys() {
            one_of("a user role [users.<role>]", key, USER_ROLES)?;
        }
        if let Some(g) = &self.capabilities.grants {
            grant_names("[capabilities] grants", g)?;
        }
        if self.capabilities.brute_force_protection == Some(true)
            && !self.users.contains_key("throttled")
            && !self.users.contains_key("throttled_form")
        {
            return Err(ProfileError::Invalid(
                "[capabilities] brute_force_protection = true needs [users.throttled] or \
                 [users.throttled_form], the accounts the brute-force scenarios may block"
                    .into(),
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(text: &str) -> String {
        match Profile::from_toml(text) {
            Ok(_) => String::new(),
            Err(e) => e.to_string(),
        }
    }

    /// A value outside a field's set ends with the field, the value and the choices.
    #[test]
    fn unknown_values_are_refused() {
        let e = err("issuer = \"https://a.example\"\n[login]\ndriver = \"selenium\"\n");
        assert!(
            e.contains("driver")
                && e.contains("selenium")
                && e.contains("form")
                && e.contains("browser"),
            "{e}"
        );
        let e = err(
            "[clients.confidential_basic]\nid = \"a\"\nsecret = \"s\"\nauth_method = \"client_secret_jwt\"\n",
        );
        assert!(
            e.contains("auth_method")
                && e.contains("client_secret_jwt")
                && e.contains("client_secret_post"),
            "{e}"
        );
        let e = err("[clients.confidental_basic]\nid = \"a\"\nauth_method = \"none\"\n");
        assert!(
            e.contains("confidental_basic") && e.contains("confidential_basic"),
            "{e}"
        );
        let e = err("[users.primry]\nusername = \"a\"\npassword = \"b\"\n");
        assert!(e.contains("primry") && e.contains("primary"), "{e}");
        let e = err("[capabilities]\ngrants = [\"authorization-code\"]\n");
        assert!(e.contains("authorization-code"), "{e}");
        let e = err("[capabilities]\nbrute_force_protection = true\n");
        assert!(e.contains("throttled"), "{e}");
        assert_eq!(
            err(
                "[capabilities]\ngrants = [\"urn:ietf:params:oauth:grant-type:device_code\", \"password\"]\n"
            ),
            ""
        );
    }
}

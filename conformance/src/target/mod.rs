//! Targets: a profile resolved against a live server (discovery, capabilities), and
//! the embedded bundled server.

pub mod embedded;
pub mod profile;

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use crate::http::{Http, Outgoing};
use crate::secret::Secret;
pub use profile::{LoginProfile, Profile};

/// The client roles a profile can fill.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ClientRole {
    /// A confidential client using `client_secret_basic`.
    ConfidentialBasic,
    /// A confidential client using `client_secret_post`.
    ConfidentialPost,
    /// A public client (`none`).
    Public,
    /// Another confidential client, for binding checks.
    SecondConfidential,
    /// A client restricted to the client credentials grant.
    ClientCredentials,
}

impl ClientRole {
    /// Every role.
    pub const ALL: [ClientRole; 5] = [
        Self::ConfidentialBasic,
        Self::ConfidentialPost,
        Self::Public,
        Self::SecondConfidential,
        Self::ClientCredentials,
    ];

    /// The profile key.
    pub fn key(self) -> &'static str {
        match self {
            Self::ConfidentialBasic => "confidential_basic",
            Self::ConfidentialPost => "confidential_post",
            Self::Public => "public",
            Self::SecondConfidential => "second_confidential",
            Self::ClientCredentials => "client_credentials",
        }
    }

    /// The capability a scenario needs to use this role.
    pub fn capability(self) -> &'static str {
        match self {
            Self::ConfidentialBasic => "basic_client",
            Self::ConfidentialPost => "post_client",
            Self::Public => "public_client",
            Self::SecondConfidential => "second_client",
            Self::ClientCredentials => "client_credentials_client",
        }
    }
}

/// How a client authenticates at the token endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthMethod {
    /// HTTP Basic.
    Basic,
    /// Credentials in the body.
    Post,
    /// `client_id` only.
    None,
}

/// A client the runner may use.
#[derive(Debug, Clone)]
pub struct Client {
    /// Its role.
    pub role: ClientRole,
    /// `client_id`.
    pub id: String,
    /// The secret, for confidential clients.
    pub secret: Option<Secret>,
    /// How it authenticates.
    pub auth: AuthMethod,
    /// A registered redirection URI.
    pub redirect_uri: Option<String>,
    /// The scope to request.
    pub scope: Option<String>,
    /// A registered redirection URI with a query component.
    pub redirect_uri_with_query: Option<String>,
    /// The grant types it is registered for (the profile's `grants`, else the target's).
    pub grants: BTreeSet<String>,
    /// Whether the profile named its grants (else they are the target's).
    pub grants_given: bool,
    /// Whether `redirect_uri` is its only registered redirection URI.
    pub only_redirect_uri: bool,
}

impl Client {
    /// Whether the client is registered for a grant type.
    pub fn has_grant(&self, grant: &str) -> bool {
        self.grants.contains(grant)
    }

    /// Why a scenario that needs `grant` for this client does not apply, if it does not.
    pub fn needs_grant(&self, grant: &str) -> Result<(), String> {
        if self.has_grant(grant) {
            return Ok(());
        }
        let of = if self.grants_given {
            format!(
                "its grants are {:?}",
                self.grants.iter().collect::<Vec<_>>()
            )
        } else {
            "the target does not offer it".to_owned()
        };
        Err(format!(
            "[clients.{}] is not registered for the {grant} grant ({of})",
            self.role.key()
        ))
    }
}

/// A user the runner may log in as.
#[derive(Debug, Clone)]
pub struct User {
    /// Login name.
    pub username: String,
    /// Password.
    pub password: Secret,
    /// What the protected resource reports for the user.
    pub resource_id: String,
}

/// The protected resource.
#[derive(Debug, Clone)]
pub struct Resource {
    /// Its URL.
    pub url: String,
    /// The scope it requires.
    pub scope: String,
    /// A valid scope that is not enough.
    pub insufficient_scope: Option<String>,
    /// The JSON member that identifies the user.
    pub user_field: Option<String>,
}

/// The endpoints in use.
#[derive(Debug, Clone, Default)]
pub struct Endpoints {
    /// Authorization endpoint.
    pub authorization: Option<String>,
    /// Token endpoint.
    pub token: Option<String>,
    /// Revocation endpoint.
    pub revocation: Option<String>,
    /// Introspection endpoint.
    pub introspection: Option<String>,
    /// Pushed authorization request endpoint (RFC 9126).
    pub par: Option<String>,
    /// Where the metadata was found.
    pub metadata: Option<String>,
}

/// A target ready to run against.
#[derive(Debug, Clone)]
pub struct Target {
    /// Name for reports.
    pub name: String,
    /// Issuer identifier, if known.
    pub issuer: Option<String>,
    /// Endpoints.
    pub endpoints: Endpoints,
    /// The metadata document, if discovery found one.
    pub metadata: Option<Value>,
    /// Clients by role.
    pub clients: BTreeMap<ClientRole, Client>,
    /// The primary user.
    pub primary: Option<User>,
    /// The secondary user.
    pub secondary: Option<User>,
    /// The account the token-endpoint brute-force scenario sends wrong passwords for.
    pub throttled: Option<User>,
    /// The account the login-form brute-force scenario sends wrong passwords for.
    pub throttled_form: Option<User>,
    /// The most wrong passwords a brute-force scenario sends before it expects a
    /// refusal.
    pub max_attempts: u32,
    /// The protected resource.
    pub resource: Option<Resource>,
    /// Login settings.
    pub login: LoginProfile,
    /// Whether the profile has a `[login]` section (a login it expects to work).
    pub login_configured: bool,
    /// Capability names (see [`capabilities`]).
    pub capabilities: BTreeSet<String>,
    /// Authorization-code lifetime, seconds, if known.
    pub code_lifetime: Option<u64>,
    /// Access-token lifetime, seconds, if known.
    pub access_token_lifetime: Option<u64>,
    /// The longest a scenario may wait.
    pub max_wait: u64,
    /// Expected failures: scenario name or requirement ID → reason.
    pub expected_failures: BTreeMap<String, String>,
}

/// Why a target could not be prepared (exit code 2).
#[derive(Debug, thiserror::Error)]
pub enum TargetError {
    /// The profile is wrong.
    #[error("bad profile: {0}")]
    Profile(String),
    /// The target does not answer.
    #[error("the target is unreachable: {0}")]
    Unreachable(String),
    /// The target answered discovery with something that is not HTTP, or not in time.
    #[error("discovery failed: {0}")]
    Discovery(String),
}

impl Target {
    /// Whether every URL the target is known by (issuer and endpoints) is on loopback:
    /// a local server that a run may press hard.
    pub fn is_loopback(&self) -> bool {
        let e = &self.endpoints;
        let urls: Vec<&String> = [
            self.issuer.as_ref(),
            e.authorization.as_ref(),
            e.token.as_ref(),
            e.revocation.as_ref(),
            e.introspection.as_ref(),
            e.metadata.as_ref(),
            self.resource.as_ref().map(|r| &r.url),
        ]
        .into_iter()
        .flatten()
        .collect();
        !urls.is_empty() && urls.iter().all(|u| crate::http::pace::is_loopback(u))
    }

    /// How hard a run presses this target unless told: `(scenarios at once, requests a
    /// second)`: 32 and no cap for a server on loopback, 4 and 20 for any other host
    /// (a shared staging or production deployment).
    pub fn load_defaults(&self) -> (usize, Option<u32>) {
        if self.is_loopback() {
            (32, None)
        } else {
            (4, Some(20))
        }
    }

    /// Whether the target has a capability.
    pub fn has(&self, capability: &str) -> bool {
        self.capabilities.contains(capability)
    }

    /// Why the runner cannot log in at this target, if it cannot: no authorization
    /// endpoint, no authorization code grant, no primary user, or no client with a
    /// redirection URI.
    pub fn login_missing(&self, capabilities: &BTreeSet<String>) -> Option<String> {
        let mut missing = Vec::new();
        if self.endpoints.authorization.is_none() {
            missing.push("an authorization endpoint (metadata or [endpoints].authorization)");
        }
        if !capabilities.contains("authorization_code") {
            missing.push("the authorization_code grant");
        }
        if self.primary.is_none() {
            missing.push("[users.primary]");
        }
        if !self.clients.values().any(|c| c.redirect_uri.is_some()) {
            missing.push("a client with a redirect_uri");
        }
        (!missing.is_empty()).then(|| format!("no {}", missing.join(", no ")))
    }

    /// The client for a role.
    pub fn client(&self, role: ClientRole) -> Option<&Client> {
        self.clients.get(&role)
    }

    /// Resolves a profile: discovery (unless endpoints are all given), then capabilities.
    pub async fn resolve(
        profile: Profile,
        issuer_override: Option<String>,
        http: &Http,
    ) -> Result<Self, TargetError> {
        // As written: RFC 8414 §3.3 compares it with the metadata's issuer exactly.
        let issuer = issuer_override.or(profile.issuer.clone());
        let mut endpoints = Endpoints::default();
        let mut metadata = None;
        let mut discovery_notes = Vec::new();
        if let Some(iss) = &issuer {
            if profile.capabilities.metadata != Some(false) {
                let found = discover(iss, http).await?;
                metadata = found.document;
                endpoints.metadata = found.url;
                discovery_notes = found.notes;
            }
        }
        let from_meta = |k: &str| {
            metadata
                .as_ref()
                .and_then(|m: &Value| m.get(k))
                .and_then(Value::as_str)
                .map(str::to_owned)
        };
        let absolute = |u: Option<String>| -> Option<String> {
            u.map(|u| match (&issuer, u.starts_with('/')) {
                (Some(iss), true) => format!("{}{u}", origin(iss)),
                _ => u,
            })
        };
        endpoints.authorization = absolute(
            profile
                .endpoints
                .authorization
                .clone()
                .or_else(|| from_meta("authorization_endpoint")),
        );
        endpoints.token = absolute(
            profile
                .endpoints
                .token
                .clone()
                .or_else(|| from_meta("token_endpoint")),
        );
        endpoints.revocation = absolute(
            profile
                .endpoints
                .revocation
                .clone()
                .or_else(|| from_meta("revocation_endpoint")),
        );
        endpoints.introspection = absolute(
            profile
                .endpoints
                .introspection
                .clone()
                .or_else(|| from_meta("introspection_endpoint")),
        );
        endpoints.par = absolute(
            profile
                .endpoints
                .par
                .clone()
                .or_else(|| from_meta("pushed_authorization_request_endpoint")),
        );
        if endpoints.token.is_none() {
            let seen = if discovery_notes.is_empty() {
                String::new()
            } else {
                format!(
                    " (discovery found no metadata: {})",
                    discovery_notes.join("; ")
                )
            };
            return Err(TargetError::Profile(format!(
                "no token endpoint: set [endpoints].token or an issuer whose metadata names one{seen}"
            )));
        }

        let mut clients = BTreeMap::new();
        for (key, c) in &profile.clients {
            let role = ClientRole::ALL
                .into_iter()
                .find(|r| r.key() == key)
                .ok_or_else(|| {
                    TargetError::Profile(format!("unknown client role [clients.{key}]"))
                })?;
            let auth = match c.auth_method.as_str() {
                "client_secret_basic" => AuthMethod::Basic,
                "client_secret_post" => AuthMethod::Post,
                "none" => AuthMethod::None,
                other => {
                    return Err(TargetError::Profile(format!(
                        "[clients.{key}] auth_method {other:?} is not client_secret_basic, client_secret_post or none"
                    )));
                }
            };
            if auth != AuthMethod::None && c.secret.is_none() {
                return Err(TargetError::Profile(format!(
                    "[clients.{key}] needs a secret for {}",
                    c.auth_method
                )));
            }
            clients.insert(
                role,
                Client {
                    role,
                    id: c.id.clone(),
                    secret: c.secret.clone(),
                    auth,
                    redirect_uri: c.redirect_uri.clone(),
                    scope: c.scope.clone(),
                    redirect_uri_with_query: c.redirect_uri_with_query.clone(),
                    only_redirect_uri: c.only_redirect_uri,
                    grants: c.grants.iter().flatten().cloned().collect(),
                    grants_given: c.grants.is_some(),
                },
            );
        }
        let user = |key: &str| {
            profile.users.get(key).map(|u| User {
                username: u.username.clone(),
                password: u.password.clone(),
                resource_id: u.resource_id.clone().unwrap_or_else(|| u.username.clone()),
            })
        };
        let resource = profile.resource.as_ref().map(|r| crate::target::Resource {
            url: absolute(Some(r.url.clone())).unwrap_or_default(),
            scope: r.scope.clone(),
            insufficient_scope: r.insufficient_scope.clone(),
            user_field: r.user_field.clone(),
        });
        let mut target = Self {
            name: profile
                .name
                .clone()
                .or(issuer.clone())
                .unwrap_or_else(|| "target".into()),
            issuer,
            endpoints,
            metadata,
            clients,
            primary: user("primary"),
            secondary: user("secondary"),
            throttled: user("throttled"),
            throttled_form: user("throttled_form"),
            max_attempts: profile.brute_force.max_attempts,
            resource,
            login: profile.login.clone().unwrap_or_default(),
            login_configured: profile.login.is_some(),
            capabilities: BTreeSet::new(),
            code_lifetime: profile.lifetimes.code,
            access_token_lifetime: profile.lifetimes.access_token,
            max_wait: profile.lifetimes.max_wait,
            expected_failures: profile.expected_failures.clone(),
        };
        target.capabilities = capabilities(&target, &profile);
        // A client whose grants the profile does not name has every grant of the target.
        let target_grants: BTreeSet<String> = GRANT_TYPES
            .iter()
            .filter(|g| target.has(g))
            .map(|g| (*g).to_owned())
            .collect();
        for c in target.clients.values_mut() {
            if !c.grants_given {
                c.grants = target_grants.clone();
            }
        }
        // The profile's secrets must never reach a report either.
        for c in target.clients.values() {
            if let Some(s) = &c.secret {
                crate::http::witness(s.expose());
            }
        }
        let users = [
            &target.primary,
            &target.secondary,
            &target.throttled,
            &target.throttled_form,
        ];
        for u in users.into_iter().flatten() {
            crate::http::witness(u.password.expose());
        }
        Ok(target)
    }
}

/// The grant types the suite exercises (RFC 6749 §4).
pub const GRANT_TYPES: &[&str] = &[
    "authorization_code",
    "implicit",
    "password",
    "client_credentials",
    "refresh_token",
];

/// `scheme://host[:port]` of a URL.
pub fn origin(url: &str) -> String {
    match url.split_once("://") {
        Some((scheme, rest)) => {
            let host = rest.split('/').next().unwrap_or(rest);
            format!("{scheme}://{host}")
        }
        None => url.to_owned(),
    }
}

/// The well-known URI strings the runner knows: RFC 8414's default, and the OpenID
/// Connect one, which RFC 8414 §3 and §5 name as a suffix an application may use.
pub const WELL_KNOWN: [&str; 2] = [
    "/.well-known/oauth-authorization-server",
    "/.well-known/openid-configuration",
];

/// RFC 8414 §3, §3.1: the locations formed by inserting a well-known URI string
/// between the host and the path of the issuer ("any terminating "/" MUST be removed"
/// from the path first), for each string of [`WELL_KNOWN`], the default first.
pub fn inserted_metadata_urls(issuer: &str) -> Vec<String> {
    let base = origin(issuer);
    let path = issuer[base.len()..].trim_end_matches('/');
    WELL_KNOWN
        .iter()
        .map(|w| format!("{base}{w}{path}"))
        .collect()
}

/// Where discovery looks, in order (RFC 8414 §5: "first apply the transformation
/// defined in this specification ... only if the retrieval from that location fails
/// should they fall back to" OpenID Connect Discovery's): the default string inserted,
/// then `openid-configuration` appended to the issuer, then, for an issuer with a path
/// (without one the two coincide), `openid-configuration` inserted.
pub fn metadata_urls(issuer: &str) -> Vec<String> {
    let inserted = inserted_metadata_urls(issuer);
    let appended = format!(
        "{}/.well-known/openid-configuration",
        issuer.trim_end_matches('/')
    );
    let mut urls = vec![inserted[0].clone(), appended];
    if !urls.contains(&inserted[1]) {
        urls.push(inserted[1].clone());
    }
    urls
}

/// What discovery found: the metadata document and where, or, for each URL tried, why
/// its answer was not one.
struct Discovered {
    document: Option<Value>,
    url: Option<String>,
    notes: Vec<String>,
}

/// RFC 8414 §3.1: the metadata "MUST be queried using an HTTP "GET" request"; §3.2: "A
/// successful response MUST use the 200 OK HTTP status code and return a JSON object".
/// Any other answer at a URL is noted and the next URL tried; a target that cannot be
/// reached, or answers something that is not HTTP or not in time, ends the run.
async fn discover(issuer: &str, http: &Http) -> Result<Discovered, TargetError> {
    let mut notes = Vec::new();
    for url in metadata_urls(issuer) {
        match http
            .send(Outgoing::new(reqwest::Method::GET, url.clone()))
            .await
        {
            Ok(x) if x.status == 200 && x.json().is_some_and(|j| j.is_object()) => {
                return Ok(Discovered {
                    document: x.json(),
                    url: Some(url),
                    notes,
                });
            }
            Ok(x) if x.status == 200 => {
                notes.push(format!("GET {}: status 200 with {}", x.url, x.body_kind()));
            }
            Ok(x) => notes.push(format!("GET {}: {}", x.url, x.status_text())),
            Err(e) if e.unreachable => return Err(TargetError::Unreachable(e.to_string())),
            Err(e) => return Err(TargetError::Discovery(e.to_string())),
        }
    }
    Ok(Discovered {
        document: None,
        url: None,
        notes,
    })
}

/// Derives the capability set: profile settings first, then the metadata.
///
/// Names: the grant types; `pkce`, `pkce_plain`, `pkce_plain_unsupported`, `revocation`, `introspection`,
/// `par`, `par_required`,
/// `refresh_rotation`, `metadata`, `iss_parameter`, `pkce_required_for_public`,
/// `brute_force_protection`, `oauth21`, `pkce_optional`, `redirect_uri_with_query`, `tls`, `issuer`, `resource`, `login`, `user_tokens`, one per client role
/// ([`ClientRole::capability`]), `secondary_user`, `throttled_user`,
/// `throttled_form_user`, `code_expiry`, `token_expiry`.
fn capabilities(t: &Target, p: &Profile) -> BTreeSet<String> {
    let c = &p.capabilities;
    let meta = t.metadata.as_ref();
    let meta_list = |k: &str| -> Option<Vec<String>> {
        meta.and_then(|m| m.get(k))
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(Value::as_str)
                    .map(str::to_owned)
                    .collect()
            })
    };
    let mut set = BTreeSet::new();
    let grants = c
        .grants
        .clone()
        .or_else(|| meta_list("grant_types_supported"))
        .unwrap_or_else(|| {
            // RFC 8414 §2: "If omitted, the default value is ["authorization_code", "implicit"]."
            if meta.is_some() {
                vec!["authorization_code".into(), "implicit".into()]
            } else {
                Vec::new()
            }
        });
    set.extend(grants);
    let methods = meta_list("code_challenge_methods_supported").unwrap_or_default();
    let mut flag = |name: &str, v: Option<bool>, default: bool| {
        if v.unwrap_or(default) {
            set.insert(name.to_owned());
        }
    };
    flag("pkce", c.pkce, methods.iter().any(|m| m == "S256"));
    flag(
        "pkce_plain",
        c.pkce_plain,
        methods.iter().any(|m| m == "plain"),
    );
    flag("revocation", c.revocation, t.endpoints.revocation.is_some());
    flag(
        "introspection",
        c.introspection,
        t.endpoints.introspection.is_some(),
    );
    flag("par", c.par, t.endpoints.par.is_some());
    flag(
        "par_required",
        c.par_required,
        meta.and_then(|m| m.get("require_pushed_authorization_requests"))
            .and_then(Value::as_bool)
            .unwrap_or(false),
    );
    flag("refresh_rotation", c.refresh_rotation, false);
    flag("metadata", c.metadata, meta.is_some());
    flag(
        "iss_parameter",
        c.iss_parameter,
        meta.and_then(|m| m.get("authorization_response_iss_parameter_supported"))
            .and_then(Value::as_bool)
            .unwrap_or(false),
    );
    flag(
        "pkce_required_for_public",
        c.pkce_required_for_public,
        false,
    );
    flag("brute_force_protection", c.brute_force_protection, false);
    flag(
        "brute_force_allowed",
        Some(t.is_loopback() || p.brute_force.remote),
        false,
    );
    flag("oauth21", c.oauth21, false);
    // Known not to support plain: the profile says so, or the metadata lists the
    // methods without it. Unknown (no list, no setting) is not "unsupported".
    let plain_known_missing = match c.pkce_plain {
        Some(v) => !v,
        None => !methods.is_empty() && !methods.iter().any(|m| m == "plain"),
    };
    if plain_known_missing && set.contains("pkce") {
        set.insert("pkce_plain_unsupported".into());
    }
    // Codes without PKCE can be obtained only where PKCE is optional for confidential
    // clients.
    if !c.pkce_required.unwrap_or(false) && !c.oauth21.unwrap_or(false) {
        set.insert("pkce_optional".into());
    }
    if t.clients
        .values()
        .any(|c| c.redirect_uri_with_query.is_some())
    {
        set.insert("redirect_uri_with_query".into());
    }
    // TLS requirements can only be checked against an https target.
    if t.issuer
        .as_deref()
        .is_some_and(|i| i.starts_with("https://"))
        || t.endpoints
            .token
            .as_deref()
            .is_some_and(|u| u.starts_with("https://"))
    {
        set.insert("tls".into());
    }
    // Where metadata would be published can only be known from an issuer identifier.
    if t.issuer.is_some() {
        set.insert("issuer".into());
    }
    if t.resource.is_some() {
        set.insert("resource".into());
    }
    if t.login_missing(&set).is_none() {
        set.insert("login".into());
    }
    for role in t.clients.keys() {
        set.insert(role.capability().into());
    }
    if t.secondary.is_some() {
        set.insert("secondary_user".into());
    }
    if t.throttled.is_some() {
        set.insert("throttled_user".into());
    }
    if t.throttled_form.is_some() {
        set.insert("throttled_form_user".into());
    }
    // Tokens for a user: through the login page with the code grant, or the password grant.
    if (set.contains("login") && set.contains("authorization_code")) || set.contains("password") {
        set.insert("user_tokens".into());
    }
    if t.code_lifetime.is_some_and(|l| l < t.max_wait) {
        set.insert("code_expiry".into());
    }
    if t.access_token_lifetime.is_some_and(|l| l < t.max_wait) {
        set.insert("token_expiry".into());
    }
    set
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 8414 §3.1's examples, the OpenID Connect location as §5 describes it, and
    /// discovery's order: the default inserted, the appended one, then the
    /// `openid-configuration` string inserted when that differs.
    #[test]
    fn metadata_locations() {
        assert_eq!(
            inserted_metadata_urls("https://example.com/issuer1/"),
            [
                "https://example.com/.well-known/oauth-authorization-server/issuer1",
                "https://example.com/.well-known/openid-configuration/issuer1",
            ]
        );
        assert_eq!(
            metadata_urls("https://example.com/issuer1"),
            [
                "https://example.com/.well-known/oauth-authorization-server/issuer1",
                "https://example.com/issuer1/.well-known/openid-configuration",
                "https://example.com/.well-known/openid-configuration/issuer1",
            ]
        );
        assert_eq!(
            metadata_urls("https://example.com"),
            [
                "https://example.com/.well-known/oauth-authorization-server",
                "https://example.com/.well-known/openid-configuration",
            ]
        );
    }

    async fn target(issuer: &str, brute_force: &str) -> Target {
        let text = format!(
            "name = \"t\"\nissuer = \"{issuer}\"\n[endpoints]\ntoken = \"{issuer}/token\"\n\
             [capabilities]\nmetadata = false\nbrute_force_protection = true\n\
             [users.throttled]\nusername = \"u\"\npassword = \"p\"\n{brute_force}"
        );
        let profile = match Profile::from_toml(&text) {
            Ok(p) => p,
            Err(e) => panic!("{e}"),
        };
        let http = Http::new(std::time::Duration::from_secs(1)).unwrap();
        Target::resolve(profile, None, &http).await.unwrap()
    }

    /// Pushed authorization requests (RFC 9126): `par` follows the endpoint (from the
    /// profile here, else the metadata), `par_required` the profile's setting (else the
    /// metadata's `require_pushed_authorization_requests`).
    #[tokio::test]
    async fn par_capabilities() {
        let without = target("https://as.example", "").await;
        assert!(!without.has("par") && !without.has("par_required"));
        let text = "name = \"t\"\nissuer = \"https://as.example\"\n[endpoints]\n\
                    token = \"https://as.example/token\"\npar = \"/par\"\n\
                    [capabilities]\nmetadata = false\npar_required = true\n";
        let profile = Profile::from_toml(text).unwrap();
        let http = Http::new(std::time::Duration::from_secs(1)).unwrap();
        let t = Target::resolve(profile, None, &http).await.unwrap();
        assert!(t.has("par") && t.has("par_required"));
        assert_eq!(t.endpoints.par.as_deref(), Some("https://as.example/par"));
    }

    /// A server on loopback is pressed hard; any other gets 4 scenarios at once and 20
    /// requests a second, and the brute-force scenarios only when its profile opts in.
    #[tokio::test]
    async fn remote_targets_are_spared() {
        let local = target("http://127.0.0.1:8080", "").await;
        assert_eq!(local.load_defaults(), (32, None));
        assert!(local.has("brute_force_allowed"));
        let remote = target("https://as.example", "").await;
        assert_eq!(remote.load_defaults(), (4, Some(20)));
        assert!(!remote.has("brute_force_allowed"));
        assert!(remote.has("brute_force_protection"));
        let opted_in = target("https://as.example", "[brute_force]\nremote = true\n").await;
        assert!(opted_in.has("brute_force_allowed"));
        assert_eq!(opted_in.load_defaults(), (4, Some(20)));
    }
}

//! The World: what one scenario remembers between its steps. Thin: the target and the
//! HTTP client are shared; tokens and codes are secrets whose `Debug` is redacted.

use std::sync::{Arc, RwLock};
use std::time::Duration;

use cucumber::World;

use crate::http::{Exchange, Http};
use crate::login::AuthResponse;
use crate::mismatch::Mismatch;
use crate::secret::Secret;
use crate::target::{Client, ClientRole, Target, User};

/// What every scenario shares.
#[derive(Debug)]
pub struct Context {
    /// The target.
    pub target: Target,
    /// The HTTP client.
    pub http: Http,
    /// Per-request timeout.
    pub timeout: Duration,
}

static CONTEXT: RwLock<Option<Arc<Context>>> = RwLock::new(None);

/// Installs the context for the next run.
pub fn install(ctx: Arc<Context>) {
    if let Ok(mut g) = CONTEXT.write() {
        *g = Some(ctx);
    }
}

fn current() -> Result<Arc<Context>, String> {
    CONTEXT
        .read()
        .ok()
        .and_then(|g| g.clone())
        .ok_or_else(|| "no target is installed".to_owned())
}

/// Tokens obtained from the token endpoint.
#[derive(Debug, Clone)]
pub struct TokenSet {
    /// The client they were issued to.
    pub client: ClientRole,
    /// The access token.
    pub access: Option<Secret>,
    /// The refresh token.
    pub refresh: Option<Secret>,
    /// The `scope` member of the response, if any.
    pub scope: Option<String>,
    /// The scope that was requested, if any.
    pub requested_scope: Option<String>,
}

/// The PKCE choice for the next authorization request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum PkceMode {
    /// S256 if the target supports PKCE, else none.
    #[default]
    Auto,
    /// No challenge.
    Off,
    /// `S256`.
    S256,
    /// `plain` with the method parameter.
    Plain,
    /// A challenge with no method parameter (defaults to plain).
    PlainImplicit,
}

/// An authorization code and how it was obtained.
#[derive(Debug, Clone)]
pub struct CodeGrant {
    /// The code.
    pub code: Secret,
    /// The client that asked.
    pub client: ClientRole,
    /// The redirection URI in use.
    pub redirect_uri: String,
    /// Whether the request carried `redirect_uri`.
    pub redirect_uri_sent: bool,
    /// The PKCE verifier, if a challenge was sent.
    pub verifier: Option<Secret>,
    /// The challenge sent.
    pub challenge: Option<String>,
}

/// One scenario's memory.
#[derive(Debug, World)]
#[world(init = Self::new)]
pub struct OAuthWorld {
    /// Target and client, shared by all scenarios.
    pub ctx: Arc<Context>,
    /// The last HTTP exchange.
    pub last: Option<Exchange>,
    /// The newest tokens.
    pub tokens: Option<TokenSet>,
    /// The tokens before the newest (kept across a refresh or a second redemption).
    pub earlier_tokens: Vec<TokenSet>,
    /// The newest authorization code.
    pub code: Option<CodeGrant>,
    /// PKCE choice for the next authorization request.
    pub pkce: PkceMode,
    /// The authorization response the client received.
    pub auth_response: Option<AuthResponse>,
    /// The `state` sent with the last authorization request.
    pub state: Option<String>,
    /// Answers to requests sent in parallel.
    pub batch: Vec<Result<Exchange, String>>,
    /// A metadata document fetched by a step.
    pub metadata: Option<serde_json::Value>,
    /// The client of the last token-endpoint request.
    pub last_client: Option<ClientRole>,
    /// The scope requested in the last token request, if any.
    pub last_scope: Option<String>,
    /// Codes or tokens collected for the entropy checks.
    pub samples: Vec<Secret>,
}

impl OAuthWorld {
    fn new() -> Result<Self, Mismatch> {
        Ok(Self {
            ctx: current().map_err(Mismatch::cannot)?,
            last: None,
            tokens: None,
            earlier_tokens: Vec::new(),
            code: None,
            pkce: PkceMode::Auto,
            auth_response: None,
            state: None,
            batch: Vec::new(),
            metadata: None,
            last_client: None,
            last_scope: None,
            samples: Vec::new(),
        })
    }

    /// The target.
    pub fn target(&self) -> &Target {
        &self.ctx.target
    }

    /// The client for a role, or a failure naming the missing profile entry.
    pub fn client(&self, role: ClientRole) -> Result<Client, Mismatch> {
        self.target()
            .client(role)
            .cloned()
            .ok_or_else(|| Mismatch::cannot(format!("the profile has no [clients.{}]", role.key())))
    }

    /// The user for a role.
    pub fn user(&self, role: UserRole) -> Result<User, Mismatch> {
        match role {
            UserRole::Primary => self.target().primary.clone(),
            UserRole::Secondary => self.target().secondary.clone(),
            UserRole::Throttled => self.target().throttled.clone(),
            UserRole::ThrottledForm => self.target().throttled_form.clone(),
        }
        .ok_or_else(|| Mismatch::cannot(format!("the profile has no [users.{}]", role.key())))
    }

    /// The last exchange, or a failure saying a request was expected first.
    pub fn last(&self) -> Result<&Exchange, Mismatch> {
        self.last
            .as_ref()
            .ok_or_else(|| Mismatch::cannot("no request was sent before this step"))
    }

    /// The newest tokens.
    pub fn tokens(&self) -> Result<&TokenSet, Mismatch> {
        self.tokens
            .as_ref()
            .ok_or_else(|| Mismatch::cannot("no tokens were obtained before this step"))
    }

    /// The newest access token.
    pub fn access_token(&self) -> Result<Secret, Mismatch> {
        self.tokens()?
            .access
            .clone()
            .ok_or_else(|| Mismatch::cannot("the token response had no access_token"))
    }

    /// The newest refresh token.
    pub fn refresh_token(&self) -> Result<Secret, Mismatch> {
        self.tokens()?
            .refresh
            .clone()
            .ok_or_else(|| Mismatch::cannot("the token response had no refresh_token"))
    }

    /// Records a new token set, keeping the previous one.
    pub fn remember(&mut self, t: TokenSet) {
        if let Some(old) = self.tokens.take() {
            self.earlier_tokens.push(old);
        }
        self.tokens = Some(t);
    }
}

/// A user role of the profile.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UserRole {
    /// `[users.primary]`.
    Primary,
    /// `[users.secondary]`.
    Secondary,
    /// `[users.throttled]`: wrong passwords are sent for it at the token endpoint.
    Throttled,
    /// `[users.throttled_form]`: wrong passwords are sent for it at the login form.
    ThrottledForm,
}

impl UserRole {
    /// The profile key.
    pub fn key(self) -> &'static str {
        match self {
            Self::Primary => "primary",
            Self::Secondary => "secondary",
            Self::Throttled => "throttled",
            Self::ThrottledForm => "throttled_form",
        }
    }
}

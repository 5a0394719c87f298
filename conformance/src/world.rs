//! The World: what one scenario remembers between its steps. Thin: the target and the
//! HTTP client are shared; tokens and codes are secrets whose `Debug` is redacted.

use std::collections::BTreeMap;
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
    /// Whether each client could authenticate at the token endpoint, found once per run
    /// by the step that scenarios needing that client begin with.
    pub can_authenticate: tokio::sync::Mutex<BTreeMap<ClientRole, Result<(), Mismatch>>>,
}

impl Context {
    /// A context for a run against `target`.
    pub fn new(target: Target, http: Http, timeout: Duration) -> Self {
        Self {
            target,
            http,
            timeout,
            can_authenticate: tokio::sync::Mutex::new(BTreeMap::new()),
        }
    }
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
    /// When the token response arrived.
    pub issued_at: std::time::Instant,
    /// The response's `expires_in`, if any.
    pub expires_in: Option<u64>,
}

impl TokenSet {
    /// When the access token was older than its lifetime (the response's `expires_in`,
    /// else the profile's `[lifetimes].access_token`), a note saying so.
    pub fn expired_note(&self, profile_lifetime: Option<u64>) -> Option<String> {
        let age = self.issued_at.elapsed().as_secs_f64();
        let (lifetime, source) = match (self.expires_in, profile_lifetime) {
            (Some(n), _) => (n, "its expires_in"),
            (None, Some(n)) => (n, "[lifetimes].access_token"),
            (None, None) => return None,
        };
        // Servers count lifetimes in whole seconds, so a token may die up to a second
        // before its lifetime is over by the runner's clock.
        (age + 1.0 > lifetime as f64).then(|| {
            format!(
                "the access token was {age:.1} s old when used, within a second of {source} = \
                 {lifetime} or past it (servers count whole seconds): lengthen the lifetimes \
                 or lower --concurrency"
            )
        })
    }
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
    /// When the authorization response with the code arrived.
    pub issued_at: std::time::Instant,
}

impl CodeGrant {
    /// When the code was older than the profile's `[lifetimes].code`, a note saying so.
    pub fn expired_note(&self, lifetime: Option<u64>) -> Option<String> {
        let lifetime = lifetime?;
        let age = self.issued_at.elapsed().as_secs_f64();
        (age + 1.0 > lifetime as f64).then(|| {
            format!(
                "the code was {age:.1} s old when redeemed, within a second of \
                 [lifetimes].code = {lifetime} or past it (servers count whole seconds): \
                 lengthen the lifetimes or lower --concurrency"
            )
        })
    }
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
    /// Refusals of a code or token that was already past its lifetime when it was used:
    /// such a refusal says nothing about the requirement, so the scenario ends as an
    /// error (see [`OAuthWorld::note_if_stale`]).
    pub stale: Vec<String>,
    /// Set by the steps that wait for a lifetime to end on purpose.
    pub expiry_intended: bool,
    /// What each authorization request of the scenario ended in ("a code",
    /// "error=invalid_request", ...), for the steps that compare two answers.
    pub auth_answers: Vec<String>,
    /// What each redemption of the codes of those requests ended in, for the steps
    /// that compare two answers.
    pub token_answers: Vec<String>,
    /// Set by the steps that provoke a throttle: from then on, the scenario's `429` and
    /// `503` answers reach its steps as they are, never waited out and retried.
    pub observe_throttle: bool,
    /// When the block that the last refused sign-in announced (`Retry-After`) ends: a
    /// code that comes later says nothing about the block.
    pub block_until: Option<std::time::Instant>,
    /// Answers in which the target declined to serve (`429`, `503`) after the one
    /// patient retry: they say nothing about a requirement, so the scenario ends as an
    /// error, whatever its steps concluded.
    pub throttled: Vec<String>,
}

impl OAuthWorld {
    fn new() -> Result<Self, Mismatch> {
        Ok(Self::with_context(current().map_err(Mismatch::error)?))
    }

    /// A fresh scenario memory on the same run (for a step that must not disturb the
    /// scenario's own codes and tokens).
    pub fn fresh(&self) -> Self {
        Self::with_context(self.ctx.clone())
    }

    fn with_context(ctx: Arc<Context>) -> Self {
        Self {
            ctx,
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
            stale: Vec::new(),
            expiry_intended: false,
            auth_answers: Vec::new(),
            token_answers: Vec::new(),
            observe_throttle: false,
            block_until: None,
            throttled: Vec::new(),
        }
    }

    /// The target.
    pub fn target(&self) -> &Target {
        &self.ctx.target
    }

    /// The client for a role, or a failure naming the missing profile entry.
    pub fn client(&self, role: ClientRole) -> Result<Client, Mismatch> {
        self.target().client(role).cloned().ok_or_else(|| {
            Mismatch::not_applicable(format!("the profile has no [clients.{}]", role.key()))
        })
    }

    /// The user for a role.
    pub fn user(&self, role: UserRole) -> Result<User, Mismatch> {
        match role {
            UserRole::Primary => self.target().primary.clone(),
            UserRole::Secondary => self.target().secondary.clone(),
            UserRole::Throttled => self.target().throttled.clone(),
            UserRole::ThrottledForm => self.target().throttled_form.clone(),
        }
        .ok_or_else(|| {
            Mismatch::not_applicable(format!("the profile has no [users.{}]", role.key()))
        })
    }

    /// The last exchange, or a failure saying a request was expected first.
    pub fn last(&self) -> Result<&Exchange, Mismatch> {
        self.last
            .as_ref()
            .ok_or_else(|| Mismatch::error("no request was sent before this step"))
    }

    /// The newest tokens.
    pub fn tokens(&self) -> Result<&TokenSet, Mismatch> {
        self.tokens
            .as_ref()
            .ok_or_else(|| Mismatch::error("no tokens were obtained before this step"))
    }

    /// The newest access token.
    pub fn access_token(&self) -> Result<Secret, Mismatch> {
        self.tokens()?
            .access
            .clone()
            .ok_or_else(|| Mismatch::error("the token response had no access_token"))
    }

    /// The newest refresh token. Without one, the scenario does not apply when its
    /// client is not registered for the refresh token grant, and could not run when it
    /// is (the target did not issue what the profile promised).
    pub fn refresh_token(&self) -> Result<Secret, Mismatch> {
        let t = self.tokens()?;
        if let Some(r) = &t.refresh {
            return Ok(r.clone());
        }
        Err(self.no_refresh_token(t.client))
    }

    /// Why a scenario that needs a refresh token of this client got none.
    pub fn no_refresh_token(&self, role: ClientRole) -> Mismatch {
        match self.client(role) {
            Err(m) => m,
            Ok(c) => match c.needs_grant("refresh_token") {
                Err(why) => Mismatch::not_applicable(why),
                Ok(()) => Mismatch::error(format!(
                    "the token response to [clients.{}] had no refresh_token, although the \
                     profile says the client may use the refresh_token grant (set its `grants` \
                     if the target issues no refresh tokens to it)",
                    role.key()
                )),
            },
        }
    }

    /// The client for a role, if the profile says it is not registered for `grant`;
    /// not applicable when the profile does not say so (a server may register any
    /// client for any grant, RFC 6749 §5.2 `unauthorized_client`).
    pub fn client_without_grant(&self, role: ClientRole, grant: &str) -> Result<Client, Mismatch> {
        let c = self.client(role)?;
        if !c.grants_given {
            return Err(Mismatch::not_applicable(format!(
                "the profile does not list the grants [clients.{}] is registered for \
                 (grants = [...]), so nothing says the target refuses it the {grant} grant",
                role.key()
            )));
        }
        if c.has_grant(grant) {
            return Err(Mismatch::not_applicable(format!(
                "[clients.{}] is registered for the {grant} grant",
                role.key()
            )));
        }
        Ok(c)
    }

    /// The client for a role, when it is registered for a grant; otherwise the scenario
    /// does not apply.
    pub fn client_with_grant(&self, role: ClientRole, grant: &str) -> Result<Client, Mismatch> {
        let c = self.client(role)?;
        c.needs_grant(grant).map_err(Mismatch::not_applicable)?;
        Ok(c)
    }

    /// Remembers that a refusal (`x`) came for a code or token that was past its
    /// lifetime (`note`), unless the scenario let it expire on purpose.
    pub fn note_if_stale(&mut self, x: &Exchange, note: Option<String>) {
        if let Some(n) = note {
            if x.status >= 400 && !self.expiry_intended && !self.stale.contains(&n) {
                self.stale.push(n);
            }
        }
    }

    /// Notes an answer in which the target declined to serve (`429 Too Many Requests`
    /// or `503 Service Unavailable`), unless the scenario provokes that on purpose.
    pub fn note_if_throttled(&mut self, x: &Exchange) {
        if matches!(x.status, 429 | 503) && !self.observe_throttle {
            let n = format!(
                "{} {} was answered {} (a Retry-After within [lifetimes].max_wait is waited \
                 out once before this)",
                x.method, x.url, x.status
            );
            if !self.throttled.contains(&n) {
                self.throttled.push(n);
            }
        }
    }

    /// The stale-credential note for a code redemption answered by `x`.
    pub fn note_stale_code(&mut self, x: &Exchange) {
        let note = self
            .code
            .as_ref()
            .and_then(|c| c.expired_note(self.ctx.target.code_lifetime));
        self.note_if_stale(x, note);
    }

    /// The stale-credential note for a resource request with `token` answered by `x`.
    pub fn note_stale_token(&mut self, x: &Exchange, token: &str) {
        let note = self
            .tokens
            .iter()
            .chain(self.earlier_tokens.iter())
            .find(|t| t.access.as_ref().is_some_and(|a| a.expose() == token))
            .and_then(|t| t.expired_note(self.ctx.target.access_token_lifetime));
        self.note_if_stale(x, note);
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

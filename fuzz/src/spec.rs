//! What the generator knows of a target: the request targets of its endpoints, its
//! clients and the users whose passwords may be sent wrong. Only endpoints named here
//! get requests (mutated paths aside, which stay next to a named one).

use crate::wire::Auth;

/// How a client authenticates (RFC 6749 §2.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    /// `client_secret_basic`.
    Basic,
    /// `client_secret_post`.
    Post,
    /// `none` (a public client).
    None,
}

/// A registered client.
#[derive(Debug, Clone)]
pub struct Client {
    /// `client_id`.
    pub id: String,
    /// Its secret, if confidential.
    pub secret: Option<String>,
    /// How it authenticates.
    pub method: Method,
    /// A registered redirection URI (authorization requests need one).
    pub redirect_uri: Option<String>,
    /// The scope its requests ask for, if any.
    pub scope: Option<String>,
    /// Whether its authorization requests carry a PKCE challenge.
    pub pkce: bool,
}

impl Client {
    /// Its authentication as registered.
    pub fn auth(&self) -> Auth<'_> {
        match (self.method, &self.secret) {
            (Method::Basic, Some(s)) => Auth::Basic(&self.id, s),
            (Method::Post, Some(s)) => Auth::Post(&self.id, s),
            _ => Auth::Public(&self.id),
        }
    }
}

/// A resource owner whose password the generator may send (and mutate).
#[derive(Debug, Clone)]
pub struct User {
    /// Username.
    pub username: String,
    /// Password.
    pub password: String,
}

/// The reference server's login form (a double-submit CSRF cookie and field, RFC 6749
/// §10.12), which generated sign-ins post to.
#[derive(Debug, Clone)]
pub struct LoginForm {
    /// The CSRF cookie's name.
    pub csrf_cookie: String,
    /// The user who signs in.
    pub user: User,
}

/// The endpoints' request targets (origin form: path and query).
#[derive(Debug, Clone, Default)]
pub struct Endpoints {
    /// Token endpoint (RFC 6749 §3.2).
    pub token: Option<String>,
    /// Authorization endpoint (§3.1).
    pub authorize: Option<String>,
    /// Revocation endpoint (RFC 7009).
    pub revoke: Option<String>,
    /// Introspection endpoint (RFC 7662).
    pub introspect: Option<String>,
    /// A protected resource (RFC 6750).
    pub resource: Option<String>,
    /// The metadata document (RFC 8414).
    pub metadata: Option<String>,
}

/// The target as the generator sees it.
#[derive(Debug, Clone, Default)]
pub struct Spec {
    /// Where requests go.
    pub endpoints: Endpoints,
    /// Clients; [`crate::Cred`] slots index this list.
    pub clients: Vec<Client>,
    /// Users for the password grant (wrong passwords are sent for them too).
    pub users: Vec<User>,
    /// The login form, when generated sign-ins may be posted.
    pub login: Option<LoginForm>,
    /// Paths no endpoint serves, for requests that must get a 404.
    pub unknown_paths: Vec<String>,
}

/// Which seed requests a spec allows.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Kinds {
    /// Token endpoint with any client.
    pub token: bool,
    /// Password grant (a user is given).
    pub password: bool,
    /// Revocation.
    pub revoke: bool,
    /// Introspection.
    pub introspect: bool,
    /// Authorization requests (an endpoint and a client with a redirection URI).
    pub authorize: bool,
    /// Sign-ins at the login form.
    pub login: bool,
    /// The protected resource.
    pub resource: bool,
    /// The metadata document.
    pub metadata: bool,
    /// Unknown paths.
    pub unknown: bool,
}

impl Spec {
    /// The seeds this spec can build.
    pub fn kinds(&self) -> Kinds {
        let e = &self.endpoints;
        let clients = !self.clients.is_empty();
        Kinds {
            token: e.token.is_some() && clients,
            password: e.token.is_some() && clients && !self.users.is_empty(),
            revoke: e.revoke.is_some() && clients,
            introspect: e.introspect.is_some() && clients,
            authorize: e.authorize.is_some()
                && self.clients.iter().any(|c| c.redirect_uri.is_some()),
            login: e.authorize.is_some()
                && self.login.is_some()
                && self.clients.iter().any(|c| c.redirect_uri.is_some()),
            resource: e.resource.is_some(),
            metadata: e.metadata.is_some(),
            unknown: !self.unknown_paths.is_empty(),
        }
    }

    /// The client of a slot.
    pub fn client(&self, cred: crate::Cred) -> Option<&Client> {
        (!self.clients.is_empty()).then(|| &self.clients[usize::from(cred.0) % self.clients.len()])
    }

    /// The clients with a redirection URI (authorization requests).
    pub fn redirecting(&self) -> Vec<(crate::Cred, &Client)> {
        self.clients
            .iter()
            .enumerate()
            .filter(|(_, c)| c.redirect_uri.is_some())
            .filter_map(|(i, c)| Some((crate::Cred(u8::try_from(i).ok()?), c)))
            .collect()
    }
}

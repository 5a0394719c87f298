//! The embedded default target: the bundled reference server started in-process on
//! `127.0.0.1:0`, with a temporary SQLite database and the repository's fixtures
//! (bcrypt cost 4, since the suite logs in hundreds of times; a three-second first
//! sign-in block, so the brute-force scenarios end quickly), described by
//! `fixtures/profiles/reference.toml` exactly as an external target would be.
//!
//! The server runs on a runtime of its own, so a request it never finishes (a handler
//! that loops) cannot take the runner's threads: the runner's timeouts still fire and
//! the scenario fails with what it waited for.

use reference_server::{Config, Server, bind};

use super::Profile;

/// The seed the bundled server loads.
pub const SEED: &str = include_str!("../../../fixtures/seed.json");
/// The profile that describes the bundled server.
pub const PROFILE: &str = include_str!("../../../fixtures/profiles/reference.toml");

/// Authorization-code lifetime of the embedded server: short, so the expiry scenario
/// runs, and long enough for a login and a redemption on a loaded machine.
pub const CODE_TTL: i64 = 5;
/// Access-token lifetime of the embedded server: short, so the expiry scenarios run,
/// and long enough for the scenarios that use a token after a login on a loaded machine.
pub const ACCESS_TOKEN_TTL: i64 = 5;

/// The first sign-in block of the embedded server after repeated wrong passwords:
/// short, so the brute-force scenarios can wait for it to end, and long enough for the
/// correct password to arrive while it lasts on a loaded machine.
pub const LOGIN_BLOCK_SECONDS: u64 = 3;

/// How long [`Embedded::stop`] waits for open requests before it abandons them.
const STOP_GRACE: std::time::Duration = std::time::Duration::from_secs(10);

/// A running embedded server; stopped and its database deleted on [`Embedded::stop`].
#[derive(Debug)]
pub struct Embedded {
    server: Option<Server>,
    runtime: Option<tokio::runtime::Runtime>,
    _dir: tempfile::TempDir,
}

/// Why the embedded server could not start.
#[derive(Debug, thiserror::Error)]
pub enum EmbeddedError {
    /// Temporary files.
    #[error("cannot prepare a temporary directory")]
    Io(#[from] std::io::Error),
    /// The server.
    #[error("the bundled server did not start")]
    Start(#[from] reference_server::StartError),
    /// The profile.
    #[error("the bundled profile is invalid")]
    Profile(#[from] super::profile::ProfileError),
}

impl Embedded {
    /// Starts the bundled server and returns it with its profile (issuer set to its
    /// URL).
    pub async fn start() -> Result<(Self, Profile), EmbeddedError> {
        Self::start_with(false).await
    }

    /// Starts the bundled server, as an OAuth 2.1 / RFC 9700 style server when
    /// `oauth21` is set (no password grant, PKCE required for every client), with the
    /// profile saying so.
    pub async fn start_with(oauth21: bool) -> Result<(Self, Profile), EmbeddedError> {
        Self::start_configured(oauth21, |_| {}).await
    }

    /// [`Embedded::start_with`], with `configure` applied to the server's settings
    /// before it starts (for a test that puts something in front of the server, such
    /// as an issuer that names the front). The profile's issuer is the server's.
    pub async fn start_configured(
        oauth21: bool,
        configure: impl FnOnce(&mut Config),
    ) -> Result<(Self, Profile), EmbeddedError> {
        let dir = tempfile::tempdir()?;
        let seed = dir.path().join("seed.json");
        std::fs::write(&seed, SEED)?;
        let mut config = Config::new(dir.path().join("reference.sqlite"));
        config.fixtures = Some(seed);
        config.bcrypt_cost = 4;
        config.code_ttl = CODE_TTL;
        config.access_token_ttl = ACCESS_TOKEN_TTL;
        config.login_throttle.block = std::time::Duration::from_secs(LOGIN_BLOCK_SECONDS);
        if oauth21 {
            config.password_grant = false;
            config.pkce_required = true;
            config.pkce_plain = false;
        }
        configure(&mut config);
        let mut profile = Profile::from_toml(PROFILE)?;
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("reference-server")
            .enable_all()
            .build()?;
        let started = runtime
            .spawn(async move {
                let listener = bind(([127, 0, 0, 1], 0).into()).await?;
                Ok::<_, EmbeddedError>(Server::start(config, listener).await?)
            })
            .await;
        // On failure the runtime is let go: it may not be dropped from async code.
        let server = match started {
            Ok(Ok(server)) => server,
            Ok(Err(e)) => {
                runtime.shutdown_background();
                return Err(e);
            }
            Err(e) => {
                runtime.shutdown_background();
                return Err(EmbeddedError::Io(std::io::Error::other(e)));
            }
        };
        profile.issuer = Some(server.issuer().to_owned());
        profile.lifetimes.code = Some(u64::try_from(CODE_TTL).unwrap_or(60));
        profile.lifetimes.access_token = Some(u64::try_from(ACCESS_TOKEN_TTL).unwrap_or(3600));
        if oauth21 {
            profile.name = Some("reference-server (OAuth 2.1 profile)".into());
            profile.capabilities.oauth21 = Some(true);
            profile.capabilities.pkce_required = Some(true);
        }
        Ok((
            Self {
                server: Some(server),
                runtime: Some(runtime),
                _dir: dir,
            },
            profile,
        ))
    }

    /// The server's base URL.
    pub fn url(&self) -> String {
        self.server.as_ref().map(Server::url).unwrap_or_default()
    }

    /// Stops the server: no new connections, open requests finished (abandoned after
    /// [`STOP_GRACE`]), the database closed, the server's runtime shut down.
    pub async fn stop(mut self) {
        if let (Some(server), Some(rt)) = (self.server.take(), self.runtime.as_ref()) {
            let stopping = rt.spawn(server.stop());
            let _ = tokio::time::timeout(STOP_GRACE, stopping).await;
        }
        if let Some(rt) = self.runtime.take() {
            rt.shutdown_background();
        }
    }
}

impl Drop for Embedded {
    fn drop(&mut self) {
        // A runtime may not be dropped from async code; this one is let go instead.
        if let Some(rt) = self.runtime.take() {
            rt.shutdown_background();
        }
    }
}

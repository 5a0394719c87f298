//! `reference-server`: parse flags, set up logging, bind, serve until Ctrl-C or SIGTERM.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;
use clap::builder::{PossibleValuesParser, TypedValueParser as _};
use reference_server::store::Location;
use reference_server::{Config, LoginUi, Server, bind};

/// The bundled OAuth 2.0 authorization and resource server of the conformance suite.
///
/// Every flag can also be set through the environment variable shown with it.
/// Log verbosity follows RUST_LOG (default: info).
#[derive(Debug, Parser)]
#[command(name = "reference-server", version, about, long_about = None)]
struct Cli {
    /// Address to listen on (plain HTTP; put TLS in front of it for anything public).
    #[arg(long, env = "REFERENCE_SERVER_BIND", default_value = "127.0.0.1:8080")]
    bind: SocketAddr,

    /// The database: a SQLite file (a path or sqlite://PATH; created if missing, opened
    /// in WAL mode), or PostgreSQL (postgres://USER:PASSWORD@HOST:PORT/DB or
    /// postgresql://...), which several replicas may share.
    #[arg(
        long,
        env = "REFERENCE_SERVER_DATABASE",
        // The value can hold a password: --help names the variable without it.
        hide_env_values = true,
        default_value = "reference-server.sqlite",
        value_parser = |s: &str| Ok::<_, String>(Location::parse(s))
    )]
    database: Location,

    /// Cache validated access tokens in memory ("on"), or read every token from the
    /// database ("off"). With PostgreSQL, revocations reach every replica's cache at once
    /// (LISTEN/NOTIFY), and no entry is served for more than one second without reading it
    /// again.
    #[arg(long, env = "REFERENCE_SERVER_TOKEN_CACHE", default_value = "on",
          value_parser = PossibleValuesParser::new(["on", "off"]).map(|s| s == "on"))]
    token_cache: bool,

    /// PostgreSQL connections per replica.
    #[arg(long, env = "REFERENCE_SERVER_DB_POOL_SIZE", default_value_t = 16,
          value_parser = clap::value_parser!(u32).range(2..=1000))]
    db_pool_size: u32,

    /// Seconds a request waits for a free database connection before it is answered
    /// 503 Service Unavailable.
    #[arg(long, env = "REFERENCE_SERVER_DB_ACQUIRE_TIMEOUT", default_value_t = 5,
          value_parser = clap::value_parser!(u64).range(1..=300))]
    db_acquire_timeout: u64,

    /// Seed document with users and clients, loaded idempotently at start.
    #[arg(
        long,
        env = "REFERENCE_SERVER_FIXTURES",
        default_value = "fixtures/seed.json"
    )]
    fixtures: PathBuf,

    /// Start without loading any fixtures.
    #[arg(long, env = "REFERENCE_SERVER_NO_FIXTURES")]
    no_fixtures: bool,

    /// Issuer identifier (RFC 8414); default: http:// plus the bound address.
    #[arg(long, env = "REFERENCE_SERVER_ISSUER")]
    issuer: Option<String>,

    /// bcrypt cost for the passwords the fixtures load (4 to 31).
    #[arg(long, env = "REFERENCE_SERVER_BCRYPT_COST", default_value_t = 12,
          value_parser = clap::value_parser!(u32).range(4..=31))]
    bcrypt_cost: u32,

    /// Access-token lifetime in seconds (a client's own setting wins).
    #[arg(long, env = "REFERENCE_SERVER_ACCESS_TOKEN_TTL", default_value_t = 3600,
          value_parser = clap::value_parser!(i64).range(1..))]
    access_token_ttl: i64,

    /// Refresh-token lifetime in seconds; default: twice the access-token lifetime.
    #[arg(long, env = "REFERENCE_SERVER_REFRESH_TOKEN_TTL",
          value_parser = clap::value_parser!(i64).range(1..))]
    refresh_token_ttl: Option<i64>,

    /// Refuse the resource owner password grant (OAuth 2.1 / RFC 9700 §2.4 profile).
    #[arg(long, env = "REFERENCE_SERVER_DISABLE_PASSWORD_GRANT")]
    disable_password_grant: bool,

    /// Authorization-code lifetime in seconds (1 to 600).
    #[arg(long, env = "REFERENCE_SERVER_CODE_TTL", default_value_t = 60,
          value_parser = clap::value_parser!(i64).range(1..=600))]
    code_ttl: i64,

    /// Refuse the PKCE "plain" method; only S256 is accepted.
    #[arg(long, env = "REFERENCE_SERVER_DISABLE_PKCE_PLAIN")]
    disable_pkce_plain: bool,

    /// Let public clients use the authorization code grant without PKCE (not advised).
    #[arg(long, env = "REFERENCE_SERVER_ALLOW_PUBLIC_WITHOUT_PKCE")]
    allow_public_without_pkce: bool,

    /// Accept authorization requests only when pushed first (RFC 9126 PAR); metadata
    /// then says require_pushed_authorization_requests.
    #[arg(long, env = "REFERENCE_SERVER_REQUIRE_PAR")]
    require_par: bool,

    /// Lifetime of a pushed request's request_uri in seconds (1 to 3600).
    #[arg(long, env = "REFERENCE_SERVER_PAR_TTL", default_value_t = 60,
          value_parser = clap::value_parser!(i64).range(1..=3600))]
    par_ttl: i64,

    /// Require PKCE from every client, confidential ones too (OAuth 2.1).
    #[arg(long, env = "REFERENCE_SERVER_REQUIRE_PKCE")]
    require_pkce: bool,

    /// Wrong passwords for one account from one client address that block further
    /// sign-ins from there (token endpoint and login form together); 0 turns the
    /// brute-force protection off.
    #[arg(long, env = "REFERENCE_SERVER_LOGIN_MAX_FAILURES", default_value_t = 5)]
    login_max_failures: u32,

    /// Seconds without a wrong password after which an account and address are
    /// forgotten (their count and block level start again).
    #[arg(long, env = "REFERENCE_SERVER_LOGIN_WINDOW_SECONDS", default_value_t = 900,
          value_parser = clap::value_parser!(u64).range(1..=2_592_000))]
    login_window_seconds: u64,

    /// Seconds of the first block; each further block doubles the one before.
    #[arg(long, env = "REFERENCE_SERVER_LOGIN_BLOCK_SECONDS", default_value_t = 30,
          value_parser = clap::value_parser!(u64).range(1..=86400))]
    login_block_seconds: u64,

    /// Seconds of the longest block (at most a day: a block always ends).
    #[arg(long, env = "REFERENCE_SERVER_LOGIN_MAX_BLOCK_SECONDS", default_value_t = 900,
          value_parser = clap::value_parser!(u64).range(1..=86400))]
    login_max_block_seconds: u64,

    /// How the login and consent pages are built: "plain", one HTML form without
    /// JavaScript; "script", screens built by a same-origin script that signs in and
    /// consents through a JSON API, as single-page login apps do.
    #[arg(long, env = "REFERENCE_SERVER_LOGIN_UI", default_value = "plain",
          value_parser = PossibleValuesParser::new(["plain", "script"])
              .try_map(|s| s.parse::<LoginUi>()))]
    login_ui: LoginUi,
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .init();
    let mut config = Config::new(cli.database);
    config.token_cache = cli.token_cache;
    config.db_pool_size = cli.db_pool_size;
    config.db_acquire_timeout = Duration::from_secs(cli.db_acquire_timeout);
    config.fixtures = (!cli.no_fixtures).then_some(cli.fixtures);
    config.issuer = cli.issuer;
    config.bcrypt_cost = cli.bcrypt_cost;
    config.access_token_ttl = cli.access_token_ttl;
    config.refresh_token_ttl = cli.refresh_token_ttl;
    config.password_grant = !cli.disable_password_grant;
    config.code_ttl = cli.code_ttl;
    config.pkce_plain = !cli.disable_pkce_plain;
    config.pkce_required_for_public = !cli.allow_public_without_pkce;
    config.pkce_required = cli.require_pkce;
    config.require_par = cli.require_par;
    config.par_ttl = cli.par_ttl;
    config.login_throttle.max_failures = cli.login_max_failures;
    config.login_throttle.window = Duration::from_secs(cli.login_window_seconds);
    config.login_throttle.block = Duration::from_secs(cli.login_block_seconds);
    config.login_throttle.max_block = Duration::from_secs(cli.login_max_block_seconds);
    config.login_ui = cli.login_ui;

    let listener = match bind(cli.bind).await {
        Ok(l) => l,
        Err(e) => return fail(&format!("cannot listen on {}", cli.bind), &e),
    };
    let mut server = match Server::start(config, listener).await {
        Ok(s) => s,
        Err(e) => return fail("cannot start", &e),
    };
    eprintln!("reference-server listening on {}", server.url());
    tokio::select! {
        () = shutdown_signal() => {
            eprintln!("shutting down");
            server.stop().await;
            ExitCode::SUCCESS
        }
        () = server.wait() => ExitCode::FAILURE,
    }
}

/// Prints an error with its whole chain and returns exit code 2.
fn fail(what: &str, e: &dyn std::error::Error) -> ExitCode {
    let mut msg = format!("reference-server: {what}: {e}");
    let mut source = e.source();
    while let Some(s) = source {
        // Some errors repeat their source in their own text: say it once.
        let text = s.to_string();
        if !msg.ends_with(&text) {
            msg.push_str(&format!(": {text}"));
        }
        source = s.source();
    }
    eprintln!("{msg}");
    ExitCode::from(2)
}

async fn shutdown_signal() {
    #[cfg(unix)]
    {
        let mut term =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(s) => s,
                Err(_) => {
                    let _ = tokio::signal::ctrl_c().await;
                    return;
                }
            };
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

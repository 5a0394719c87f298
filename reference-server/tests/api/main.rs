//! Integration tests of the reference server over HTTP: one binary, a module per
//! endpoint. Each test starts its own server on `127.0.0.1:0` with a temporary database
//! and the repository's fixtures (bcrypt cost 4), so tests share no state.
//!
//! This binary runs them on SQLite; `api_postgres` (`postgres.rs`) runs the same
//! modules on PostgreSQL, plus the tests of several replicas on one database.

#![allow(clippy::unwrap_used, clippy::expect_used)]

/// The database engine of this binary's servers.
const BACKEND: common::Backend = common::Backend::Sqlite;

mod common;
mod login;

mod authorize;
mod client_auth;
mod code_grant;
mod concurrency;
mod crash;
mod fuzz;
mod hardening;
mod introspect;
mod log_secrets;
mod metadata;
mod par;
mod pkce;
mod redaction;
mod request_line;
mod resource;
mod revoke;
mod script_ui;
mod smoke;
mod throttle;
mod token_cache;
mod token_client_credentials;
mod token_errors;
mod token_password;
mod token_refresh;

/// The PostgreSQL binary declares the same modules as this one (but `fuzz`, whose
/// database digest reads SQLite's own counters), so the two suites cannot drift apart.
#[test]
fn postgres_binary_runs_the_same_modules() {
    let modules = |file: &str| -> Vec<String> {
        std::fs::read_to_string(format!("{}/tests/api/{file}", env!("CARGO_MANIFEST_DIR")))
            .unwrap()
            .lines()
            .filter_map(|l| l.strip_prefix("mod "))
            .map(|m| m.trim_end_matches(';').to_owned())
            .collect()
    };
    let sqlite: Vec<String> = modules("main.rs")
        .into_iter()
        .filter(|m| m != "fuzz")
        .collect();
    let postgres: Vec<String> = modules("postgres.rs")
        .into_iter()
        .filter(|m| m != "replicas" && m != "outage")
        .collect();
    assert_eq!(sqlite, postgres);
}

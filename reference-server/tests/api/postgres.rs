//! The integration tests of `main.rs` on PostgreSQL: every server of these tests gets a
//! fresh database in one throwaway cluster this process starts from Debian's binaries
//! (`pg-throwaway`; stopped when the process ends). `replicas` adds what only a shared
//! database has: several replicas serving as one authorization server.
//!
//! Without the PostgreSQL binaries the whole binary is skipped with a loud line, unless
//! `CI` is set, where it fails.

#![allow(clippy::unwrap_used, clippy::expect_used)]

/// The database engine of this binary's servers.
const BACKEND: common::Backend = common::Backend::Postgres;

mod common;
mod login;

mod authorize;
mod client_auth;
mod code_grant;
mod concurrency;
mod crash;
mod hardening;
mod introspect;
mod log_secrets;
mod metadata;
mod outage;
mod par;
mod pkce;
mod redaction;
mod replicas;
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

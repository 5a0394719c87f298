//! Integration tests of the reference server over HTTP: one binary, a module per
//! endpoint. Each test starts its own server on `127.0.0.1:0` with a temporary database
//! and the repository's fixtures (bcrypt cost 4), so tests share no state.

#![allow(clippy::unwrap_used, clippy::expect_used)]

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

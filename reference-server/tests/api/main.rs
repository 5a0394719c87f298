//! Integration tests of the reference server over HTTP: one binary, a module per
//! endpoint. Each test starts its own server on `127.0.0.1:0` with a temporary database
//! and the repository's fixtures (bcrypt cost 4), so tests share no state.

mod common;

mod smoke;

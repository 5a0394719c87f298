//! The OAuth 2.0 conformance runner: Gherkin features under `features/` checked against
//! an authorization server over HTTP.
//!
//! The runner is being built; until it lands, the binary says so and exits with the
//! "could not run" code, so no pipeline can mistake it for a verdict.

/// Exit code for "could not run" (0 conformant, 1 not conformant, 2 could not run).
pub const EXIT_COULD_NOT_RUN: u8 = 2;

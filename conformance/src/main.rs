//! `oauth2-conformance`: not yet implemented; exits 2 ("could not run") with a reason.

use std::process::ExitCode;

fn main() -> ExitCode {
    eprintln!(
        "oauth2-conformance: the conformance runner is not built yet; no verdict was produced"
    );
    ExitCode::from(conformance::EXIT_COULD_NOT_RUN)
}

//! `skip_or_panic` in child processes with and without `CI` / `PG_TESTS_REQUIRED`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::process::{Command, Output};

/// Set in the child processes of `skips_unless_required`.
const CHILD_ENV: &str = "PG_THROWAWAY_TEST_SKIP_CHILD";

/// Runs only as a child of `skips_unless_required`.
#[test]
fn skip_child() {
    if std::env::var_os(CHILD_ENV).is_none() {
        return;
    }
    pg_throwaway::skip_or_panic("no initdb here");
    println!("RETURNED");
}

fn child(env: &[(&str, &str)]) -> Output {
    let mut command = Command::new(std::env::current_exe().expect("test binary"));
    command
        .args(["--exact", "skip_child", "--nocapture", "--test-threads=1"])
        .env(CHILD_ENV, "1")
        .env_remove("CI")
        .env_remove("PG_TESTS_REQUIRED");
    for (key, value) in env {
        command.env(key, value);
    }
    command.output().expect("run the child")
}

#[test]
fn skips_unless_required() {
    for env in [&[][..], &[("CI", "")], &[("PG_TESTS_REQUIRED", "0")]] {
        let out = child(env);
        let stdout = String::from_utf8_lossy(&out.stdout);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{env:?}: {stdout}{stderr}");
        assert!(stdout.contains("RETURNED"), "{env:?}: {stdout}");
        assert!(
            stderr.contains(
                "SKIPPED (no PostgreSQL): no initdb here; install Debian's postgresql \
                 package to run the PostgreSQL tests"
            ),
            "{env:?}: {stderr}"
        );
    }
    for env in [&[("CI", "true")][..], &[("PG_TESTS_REQUIRED", "1")]] {
        let out = child(env);
        let stdout = String::from_utf8_lossy(&out.stdout);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{env:?}: {stdout}{stderr}");
        assert!(!stdout.contains("RETURNED"), "{env:?}: {stdout}");
        assert!(
            stderr.contains("PostgreSQL is required") && stderr.contains("no initdb here"),
            "{env:?}: {stderr}"
        );
        assert!(!stderr.contains("SKIPPED"), "{env:?}: {stderr}");
    }
}

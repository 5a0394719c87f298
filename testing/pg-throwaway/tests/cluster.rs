//! A real cluster from the installed PostgreSQL binaries: start, databases, `psql`, a
//! server stop and start keeping the data, the final stop, and the watchdog's cleanup
//! after a process that never dropped its cluster.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::net::{Ipv4Addr, TcpStream};
use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

use pg_throwaway::{Cluster, Error};

/// Set in the child process of `watchdog_cleans_up_after_the_process_exits`.
const LEAK_ENV: &str = "PG_THROWAWAY_TEST_LEAK";

/// A new cluster, or `None` after [`pg_throwaway::skip_or_panic`] when PostgreSQL is not
/// installed.
fn cluster_or_skip() -> Option<Cluster> {
    match Cluster::start() {
        Ok(cluster) => Some(cluster),
        Err(Error::Unavailable(reason)) => {
            pg_throwaway::skip_or_panic(&reason);
            None
        }
        Err(e) => panic!("{e}"),
    }
}

fn port_open(port: u16) -> bool {
    TcpStream::connect_timeout(&(Ipv4Addr::LOCALHOST, port).into(), Duration::from_secs(2)).is_ok()
}

/// `SELECT 1` on database `db` through `psql`, or `psql`'s error output.
fn select_one(cluster: &Cluster, db: &str) -> Result<String, String> {
    let out = cluster
        .psql(db)
        .args(["-t", "-A", "-c", "SELECT 1"])
        .output()
        .expect("run psql");
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).trim().to_owned())
    } else {
        Err(String::from_utf8_lossy(&out.stderr).into_owned())
    }
}

/// The database name at the end of a URL from [`Cluster::create_database`].
fn db_name(url: &str) -> &str {
    url.rsplit('/').next().expect("database name")
}

#[test]
fn starts_creates_databases_and_stops() {
    let Some(mut cluster) = cluster_or_skip() else {
        return;
    };
    let port = cluster.port();
    let dir = cluster.dir().expect("directory").to_path_buf();
    assert!(dir.join("data/PG_VERSION").is_file());
    assert!(port_open(port));

    let first = cluster.create_database().expect("first database");
    let second = cluster.create_database().expect("second database");
    assert_ne!(first, second);
    let prefix = format!("postgres://postgres@127.0.0.1:{port}/");
    assert!(first.starts_with(&prefix), "{first}");
    assert!(second.starts_with(&prefix), "{second}");
    assert_eq!(cluster.url(db_name(&first)), first);
    assert_eq!(select_one(&cluster, db_name(&first)).as_deref(), Ok("1"));

    // A second server on the same data fails, and the error carries the server log.
    let Err(Error::Failed(reason)) = cluster.start_server() else {
        panic!("a second start on the same data directory succeeded");
    };
    assert!(reason.contains("pg_ctl start failed"), "{reason}");
    assert!(reason.contains("lines of /tmp/pg-throwaway-"), "{reason}");
    assert!(reason.contains("postmaster.pid"), "{reason}");
    assert!(port_open(port));

    // The server lost while serving, then back with the same data on the same port.
    cluster.stop_server().expect("stop the server");
    assert!(!port_open(port));
    assert!(select_one(&cluster, db_name(&second)).is_err());
    assert!(cluster.create_database().is_err());
    cluster.start_server().expect("start the server again");
    assert_eq!(select_one(&cluster, db_name(&second)).as_deref(), Ok("1"));

    cluster.stop();
    assert!(!port_open(port), "port {port} still open after stop");
    assert!(!dir.exists(), "{} still there after stop", dir.display());
    assert_eq!(cluster.dir(), None);
    assert!(matches!(cluster.create_database(), Err(Error::Failed(_))));
    assert!(cluster.start_server().is_err());
    cluster.stop();
}

#[test]
fn shared_is_one_cluster_per_process() {
    let first = match pg_throwaway::shared() {
        Ok(cluster) => cluster,
        Err(Error::Unavailable(reason)) => return pg_throwaway::skip_or_panic(&reason),
        Err(e) => panic!("{e}"),
    };
    let again = pg_throwaway::shared().expect("the same cluster");
    assert!(std::ptr::eq(first, again));
    let url = first.create_database().expect("database");
    assert_eq!(select_one(first, db_name(&url)).as_deref(), Ok("1"));
}

/// Runs only as the child of `watchdog_cleans_up_after_the_process_exits`: starts a
/// cluster, prints its port and directory, and exits without stopping it.
#[test]
fn leaked_cluster_child() {
    if std::env::var_os(LEAK_ENV).is_none() {
        return;
    }
    let cluster = Cluster::start().expect("cluster");
    println!("PORT={}", cluster.port());
    println!("DIR={}", cluster.dir().expect("directory").display());
    std::mem::forget(cluster);
}

#[test]
fn watchdog_cleans_up_after_the_process_exits() {
    // Only where a cluster can start at all.
    let Some(probe) = cluster_or_skip() else {
        return;
    };
    drop(probe);
    let out = Command::new(std::env::current_exe().expect("test binary"))
        .args([
            "--exact",
            "leaked_cluster_child",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(LEAK_ENV, "1")
        .output()
        .expect("run the child");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let field = |key: &str| {
        stdout
            .lines()
            .find_map(|line| Some(line.split_once(key)?.1))
            .unwrap_or_else(|| panic!("no {key} in {stdout}"))
            .to_owned()
    };
    let port: u16 = field("PORT=").parse().expect("port");
    let dir = PathBuf::from(field("DIR="));

    let deadline = Instant::now() + Duration::from_secs(60);
    while (port_open(port) || dir.exists()) && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(200));
    }
    assert!(
        !port_open(port),
        "port {port} still open after the process exited"
    );
    assert!(
        !dir.exists(),
        "{} still there after the process exited",
        dir.display()
    );
}

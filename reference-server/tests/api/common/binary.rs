//! The real `reference-server` binary as a child process: a free port of 127.0.0.1, a
//! database file that outlives it (so it can be killed and started again), and its
//! stdout and stderr appended to a log file.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use super::SEED;

/// A running binary.
pub struct BinaryServer {
    /// The child process.
    pub child: Child,
    /// Where it listens.
    pub addr: SocketAddr,
    /// `http://` plus the address.
    pub base: String,
    /// The file its output goes to.
    pub log: PathBuf,
}

impl BinaryServer {
    /// Starts the binary on `database` with the fixtures, bcrypt cost 4, `RUST_LOG` set
    /// to `filter` and nothing else from the environment; waits (at most 60 s) until it
    /// accepts connections.
    pub async fn spawn(database: impl AsRef<std::ffi::OsStr>, log: &Path, filter: &str) -> Self {
        Self::spawn_with(database, log, filter, &[], &[]).await
    }

    /// [`BinaryServer::spawn`] with more arguments and environment variables.
    pub async fn spawn_with(
        database: impl AsRef<std::ffi::OsStr>,
        log: &Path,
        filter: &str,
        args: &[&str],
        envs: &[(&str, &str)],
    ) -> Self {
        for _ in 0..5 {
            let port = std::net::TcpListener::bind("127.0.0.1:0")
                .and_then(|l| l.local_addr())
                .unwrap()
                .port();
            let addr = SocketAddr::from(([127, 0, 0, 1], port));
            let out = std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(log)
                .unwrap();
            let mut child = Command::new(env!("CARGO_BIN_EXE_reference-server"))
                .arg("--bind")
                .arg(addr.to_string())
                .arg("--database")
                .arg(database.as_ref())
                .arg("--fixtures")
                .arg(SEED)
                .args(["--bcrypt-cost", "4"])
                .args(args)
                .env_clear()
                .envs(envs.iter().copied())
                .env("RUST_LOG", filter)
                .env("NO_COLOR", "1")
                .stdin(Stdio::null())
                .stdout(out.try_clone().unwrap())
                .stderr(out)
                .spawn()
                .unwrap();
            let deadline = Instant::now() + Duration::from_secs(60);
            loop {
                if tokio::net::TcpStream::connect(addr).await.is_ok() {
                    return Self {
                        child,
                        addr,
                        base: format!("http://{addr}"),
                        log: log.to_owned(),
                    };
                }
                if child.try_wait().unwrap().is_some() {
                    // Most likely the port was taken in between: another one.
                    break;
                }
                assert!(
                    Instant::now() < deadline,
                    "the binary did not listen within 60 s:\n{}",
                    std::fs::read_to_string(log).unwrap_or_default()
                );
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
        panic!(
            "the binary did not start:\n{}",
            std::fs::read_to_string(log).unwrap_or_default()
        );
    }

    /// Kills the process with SIGKILL (no shutdown of any kind) and reaps it.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// Stops the process with SIGTERM (a graceful shutdown) and waits at most 30 s.
    pub async fn terminate(&mut self) {
        let pid = self.child.id().to_string();
        let _ = Command::new("kill").args(["-TERM", &pid]).status();
        let deadline = Instant::now() + Duration::from_secs(30);
        while self.child.try_wait().unwrap().is_none() {
            if Instant::now() > deadline {
                self.kill();
                panic!("the binary did not stop within 30 s of SIGTERM");
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Everything the process wrote so far.
    pub fn log_text(&self) -> String {
        String::from_utf8_lossy(&std::fs::read(&self.log).unwrap_or_default()).into_owned()
    }
}

impl Drop for BinaryServer {
    fn drop(&mut self) {
        self.kill();
    }
}

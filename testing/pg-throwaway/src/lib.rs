//! Throwaway PostgreSQL clusters for tests, started from Debian's binaries with no system
//! service.
//!
//! [`Cluster::start`] runs `initdb` into a fresh directory under `/tmp`, then starts the
//! server with `pg_ctl` on a free TCP port of 127.0.0.1 (no Unix socket, no fsync, trust
//! authentication for the `postgres` role). [`Cluster::create_database`] gives each test
//! its own database; [`shared`] starts one cluster per test process on first use.
//!
//! # Finding PostgreSQL
//! `initdb`, `pg_ctl` and `postgres` are taken from `PATH` when all three are there,
//! otherwise from the newest `/usr/lib/postgresql/<version>/bin/`, where Debian's
//! `postgresql` package installs them (only `psql` gets a wrapper on `PATH`). `psql` is
//! taken from beside `initdb` (or beside the file a symbolic link `initdb` points to), else
//! from `PATH`. Without them, [`Cluster::start`] returns [`Error::Unavailable`].
//!
//! # Running as root
//! PostgreSQL refuses to run as root. When the test process's effective user is root, the
//! cluster's directory is given to `nobody` (uid and gid 65534) and `initdb`, `pg_ctl` and
//! `postgres` run as that user.
//!
//! # Stopping
//! Dropping a [`Cluster`] (or [`Cluster::stop`]) stops the server at once and removes its
//! directory. A cluster kept in a `static`, as [`shared`] does, is never dropped, so every
//! cluster also has a watchdog: a small `sh` process that waits until the test process has
//! exited, then stops the server and removes the directory. The watchdog's standard streams
//! are `/dev/null`, so it never holds a test's output pipes open, and it runs in its own
//! process group, so a Ctrl-C meant for the tests does not end it early.
//!
//! # Skipping or failing
//! Tests that need PostgreSQL call [`skip_or_panic`] when a cluster cannot be had. Where
//! PostgreSQL is [`required`] (the `CI` variable set and not empty, or
//! `PG_TESTS_REQUIRED=1`) that panics with the reason; elsewhere it prints one line to
//! standard error,
//!
//! ```text
//! SKIPPED (no PostgreSQL): <reason>; install Debian's postgresql package to run the PostgreSQL tests
//! ```
//!
//! and the test returns early, passing.
//!
//! ```no_run
//! let cluster = match pg_throwaway::shared() {
//!     Ok(cluster) => cluster,
//!     Err(e) => return pg_throwaway::skip_or_panic(&e.to_string()),
//! };
//! let url = cluster.create_database().expect("database");
//! // connect to `url` ...
//! ```

use std::ffi::OsStr;
use std::fmt::Write as _;
use std::net::{Ipv4Addr, TcpListener};
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};

use tempfile::TempDir;

/// The user and group the PostgreSQL processes run as when the tests run as root
/// (`nobody` and `nogroup` on Debian).
const NOBODY: u32 = 65534;

/// How many ports [`Cluster::start`] tries when the one it picked is taken before the
/// server binds it.
const PORT_ATTEMPTS: usize = 5;

/// How many lines of the server log an error message carries.
const LOG_TAIL_LINES: usize = 30;

/// Why a cluster could not be had or could not do what was asked.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// PostgreSQL's binaries are not installed (the reason names what is missing).
    #[error("PostgreSQL is not available: {0}")]
    Unavailable(String),
    /// The binaries are there but a step failed: the reason holds the command's output
    /// and, when the server was involved, the tail of its log.
    #[error("PostgreSQL failed: {0}")]
    Failed(String),
}

/// The PostgreSQL programs a cluster runs (`pg_ctl` runs the `postgres` beside it).
#[derive(Debug, Clone)]
struct Binaries {
    initdb: PathBuf,
    pg_ctl: PathBuf,
    psql: PathBuf,
}

/// A running throwaway PostgreSQL cluster, listening on 127.0.0.1 only.
///
/// The `postgres` superuser connects without a password. Dropping the cluster stops the
/// server and removes its directory; see the crate documentation for clusters that are
/// never dropped.
#[derive(Debug)]
pub struct Cluster {
    bin: Binaries,
    /// The cluster's directory (`data/` and `log` inside); `None` once stopped.
    dir: Option<TempDir>,
    port: u16,
    /// Whether the PostgreSQL programs run as `nobody` (the tests run as root).
    as_nobody: bool,
    /// The process that cleans up after the test process exits.
    watchdog: Option<Child>,
}

impl Cluster {
    /// Creates a cluster in a new directory under `/tmp` and starts its server on a free
    /// port of 127.0.0.1, waiting up to 60 seconds until it accepts connections.
    ///
    /// # Errors
    /// [`Error::Unavailable`] when `initdb`, `pg_ctl`, `postgres` or `psql` cannot be found;
    /// [`Error::Failed`] when the directory, `initdb` or the server start fails (with the
    /// tail of the server log).
    pub fn start() -> Result<Cluster, Error> {
        let bin = find_binaries()?;
        let as_nobody = effective_uid_is_root();
        let dir = tempfile::Builder::new()
            .prefix("pg-throwaway-")
            .tempdir_in("/tmp")
            .map_err(|e| Error::Failed(format!("cannot create a directory under /tmp: {e}")))?;
        if as_nobody {
            std::os::unix::fs::chown(dir.path(), Some(NOBODY), Some(NOBODY)).map_err(|e| {
                Error::Failed(format!(
                    "cannot give {} to uid {NOBODY} (PostgreSQL refuses to run as root): {e}",
                    dir.path().display()
                ))
            })?;
        }
        let mut cluster = Cluster {
            bin,
            dir: Some(dir),
            port: 0,
            as_nobody,
            watchdog: None,
        };
        cluster.init()?;
        cluster.watchdog = Some(cluster.spawn_watchdog()?);
        let mut last = String::new();
        for _ in 0..PORT_ATTEMPTS {
            cluster.port = free_port()?;
            match cluster.start_server() {
                Ok(()) => return Ok(cluster),
                Err(Error::Failed(reason)) if port_taken(&reason) => last = reason,
                Err(e) => return Err(e),
            }
        }
        Err(Error::Failed(format!(
            "no free port after {PORT_ATTEMPTS} attempts; last failure: {last}"
        )))
    }

    /// The TCP port the server listens on (on 127.0.0.1).
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The cluster's directory (the data directory `data/` and the server log `log`
    /// inside), or `None` once [`Cluster::stop`] removed it.
    pub fn dir(&self) -> Option<&Path> {
        self.dir.as_ref().map(TempDir::path)
    }

    /// The connection URL of database `db` for the `postgres` superuser:
    /// `postgres://postgres@127.0.0.1:PORT/db`.
    pub fn url(&self, db: &str) -> String {
        format!("postgres://postgres@127.0.0.1:{}/{db}", self.port)
    }

    /// Creates a new, empty database with a name no other call in any process uses
    /// (`test_<pid>_<counter>`) and returns its URL (see [`Cluster::url`]).
    ///
    /// # Errors
    /// [`Error::Failed`] when `psql` fails (with its output), e.g. after the server was
    /// stopped.
    pub fn create_database(&self) -> Result<String, Error> {
        static NEXT: AtomicU64 = AtomicU64::new(0);
        let name = format!(
            "test_{}_{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        );
        let mut psql = self.psql("postgres");
        psql.args(["-c", &format!("CREATE DATABASE \"{name}\"")]);
        run(&mut psql, "psql CREATE DATABASE")?;
        Ok(self.url(&name))
    }

    /// A `psql` command connected to database `db` of this cluster as `postgres`, not
    /// reading `~/.psqlrc` and stopping at the first error; add the arguments (`-c SQL`)
    /// and run it.
    pub fn psql(&self, db: &str) -> Command {
        let mut command = Command::new(&self.bin.psql);
        command
            .args(["-X", "-q", "-v", "ON_ERROR_STOP=1", "-h", "127.0.0.1", "-p"])
            .arg(self.port.to_string())
            .args(["-U", "postgres", "-d", db])
            .stdin(Stdio::null());
        command
    }

    /// Stops the server (`pg_ctl stop -m fast`) and keeps the data, so that
    /// [`Cluster::start_server`] can bring the same databases back on the same port: for
    /// tests of a database lost while serving.
    ///
    /// # Errors
    /// [`Error::Failed`] when `pg_ctl` fails (e.g. the server is not running) or the
    /// cluster was stopped with [`Cluster::stop`].
    pub fn stop_server(&self) -> Result<(), Error> {
        let data = self.data_dir()?;
        let mut command = self.pg_command(&self.bin.pg_ctl)?;
        command
            .arg("-D")
            .arg(&data)
            .args(["-w", "-t", "60", "stop", "-m", "fast"]);
        run(&mut command, "pg_ctl stop").map_err(|e| self.with_log(e))?;
        Ok(())
    }

    /// Starts the server again after [`Cluster::stop_server`], on the same port, waiting
    /// up to 60 seconds until it accepts connections.
    ///
    /// # Errors
    /// [`Error::Failed`] when the server does not start (with the tail of its log), e.g.
    /// because it is already running or something else took the port meanwhile, or the
    /// cluster was stopped with [`Cluster::stop`].
    pub fn start_server(&self) -> Result<(), Error> {
        let data = self.data_dir()?;
        let log = self.log_path()?;
        let options = format!(
            "-c listen_addresses=127.0.0.1 -p {} -c unix_socket_directories='' \
             -c fsync=off -c synchronous_commit=off -c full_page_writes=off \
             -c max_connections=300",
            self.port
        );
        let mut command = self.pg_command(&self.bin.pg_ctl)?;
        command
            .arg("-D")
            .arg(&data)
            .arg("-l")
            .arg(&log)
            .arg("-o")
            .arg(options)
            .args(["-w", "-t", "60", "start"]);
        run(&mut command, "pg_ctl start").map_err(|e| self.with_log(e))?;
        Ok(())
    }

    /// Stops the server at once (`pg_ctl stop -m immediate`), ends the watchdog and
    /// removes the cluster's directory. Calling it again does nothing; [`Drop`] calls it.
    pub fn stop(&mut self) {
        if self.dir.is_none() {
            return;
        }
        if let (Ok(data), Ok(mut command)) = (self.data_dir(), self.pg_command(&self.bin.pg_ctl)) {
            // A server already stopped makes pg_ctl fail, which is fine here.
            let _ = command
                .arg("-D")
                .arg(&data)
                .args(["-w", "-t", "60", "stop", "-m", "immediate"])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status();
        }
        if let Some(mut watchdog) = self.watchdog.take() {
            let _ = watchdog.kill();
            let _ = watchdog.wait();
        }
        if let Some(dir) = self.dir.take() {
            let _ = dir.close();
        }
    }

    /// Runs `initdb` into `<dir>/data`.
    fn init(&self) -> Result<(), Error> {
        let data = self.data_dir()?;
        let mut command = self.pg_command(&self.bin.initdb)?;
        command.arg("-D").arg(&data).args([
            "-U",
            "postgres",
            "--auth=trust",
            "--encoding=UTF8",
            // Independent of the locales installed and of the caller's LANG.
            "--locale=C",
            "--no-sync",
        ]);
        run(&mut command, "initdb")?;
        Ok(())
    }

    /// Starts the process that waits for the test process to exit, then stops the server
    /// and removes the directory.
    fn spawn_watchdog(&self) -> Result<Child, Error> {
        let dir = self.dir_path()?;
        let data = self.data_dir()?;
        // $1 test process, $2 cluster directory, $3 data directory, $4 pg_ctl, $5 root.
        // pg_ctl refuses to run as root, and a watchdog running as nobody could not see the
        // root test process with kill -0; so as root the watchdog sends the postmaster
        // SIGQUIT itself and, like pg_ctl, waits until postmaster.pid is gone (an exited
        // postmaster may stay a zombie where nothing reaps orphans).
        const SCRIPT: &str = r#"
trap '' INT HUP
while kill -0 "$1" 2>/dev/null; do sleep 1; done
if [ "$5" = 1 ]; then
    pid=$(head -n 1 "$3/postmaster.pid" 2>/dev/null)
    if [ -n "$pid" ] && kill -QUIT "$pid" 2>/dev/null; then
        n=0
        while [ -e "$3/postmaster.pid" ] && [ "$n" -lt 600 ]; do sleep 0.1; n=$((n + 1)); done
    fi
else
    "$4" -D "$3" -w -t 60 stop -m immediate
fi
rm -rf "$2"
"#;
        Command::new("sh")
            .args(["-c", SCRIPT, "pg-throwaway-watchdog"])
            .arg(std::process::id().to_string())
            .arg(&dir)
            .arg(&data)
            .arg(&self.bin.pg_ctl)
            .arg(if self.as_nobody { "1" } else { "0" })
            .current_dir("/")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .process_group(0)
            .spawn()
            .map_err(|e| Error::Failed(format!("cannot start the watchdog (sh): {e}")))
    }

    /// A command for `initdb`, `pg_ctl` or `postgres`: in the cluster's directory, as
    /// `nobody` when the tests run as root.
    fn pg_command(&self, program: &Path) -> Result<Command, Error> {
        let mut command = Command::new(program);
        command.current_dir(self.dir_path()?).stdin(Stdio::null());
        if self.as_nobody {
            // Dropping from root this way also clears the supplementary groups.
            command.uid(NOBODY).gid(NOBODY);
        }
        Ok(command)
    }

    fn dir_path(&self) -> Result<PathBuf, Error> {
        self.dir
            .as_ref()
            .map(|dir| dir.path().to_path_buf())
            .ok_or_else(|| Error::Failed("the cluster was stopped and removed".to_owned()))
    }

    fn data_dir(&self) -> Result<PathBuf, Error> {
        Ok(self.dir_path()?.join("data"))
    }

    fn log_path(&self) -> Result<PathBuf, Error> {
        Ok(self.dir_path()?.join("log"))
    }

    /// Adds the tail of the server log to a failure.
    fn with_log(&self, error: Error) -> Error {
        let Error::Failed(mut reason) = error else {
            return error;
        };
        let Ok(path) = self.log_path() else {
            return Error::Failed(reason);
        };
        match std::fs::read_to_string(&path) {
            Ok(log) => {
                let lines: Vec<&str> = log.lines().collect();
                let tail = &lines[lines.len().saturating_sub(LOG_TAIL_LINES)..];
                let _ = write!(
                    reason,
                    "\nlast {} lines of {}:\n{}",
                    tail.len(),
                    path.display(),
                    tail.join("\n")
                );
            }
            Err(e) => {
                let _ = write!(reason, "\n(no server log at {}: {e})", path.display());
            }
        }
        Error::Failed(reason)
    }
}

impl Drop for Cluster {
    /// Stops the server at once and removes the cluster's directory ([`Cluster::stop`]).
    fn drop(&mut self) {
        self.stop();
    }
}

/// The cluster of this test process, started on the first call; later calls return the
/// same cluster, or the same error when the start failed. It is never dropped: its
/// watchdog stops it after the process exits.
///
/// # Errors
/// The error of the first [`Cluster::start`], again on every call.
pub fn shared() -> Result<&'static Cluster, Error> {
    static SHARED: OnceLock<Result<Cluster, Error>> = OnceLock::new();
    SHARED
        .get_or_init(Cluster::start)
        .as_ref()
        .map_err(Clone::clone)
}

/// Whether the PostgreSQL tests must run rather than skip: the environment variable `CI`
/// is set and not empty, or `PG_TESTS_REQUIRED` is `1`.
pub fn required() -> bool {
    std::env::var_os("CI").is_some_and(|ci| !ci.is_empty())
        || std::env::var_os("PG_TESTS_REQUIRED").is_some_and(|v| v == "1")
}

/// What a test does when it cannot have PostgreSQL: panics with `reason` when PostgreSQL
/// is [`required`], otherwise prints one line to standard error and returns, so that the
/// test can return early and pass:
///
/// ```text
/// SKIPPED (no PostgreSQL): <reason>; install Debian's postgresql package to run the PostgreSQL tests
/// ```
///
/// # Panics
/// When [`required`] is true.
pub fn skip_or_panic(reason: &str) {
    if required() {
        panic!("PostgreSQL is required (CI or PG_TESTS_REQUIRED=1): {reason}");
    }
    eprintln!(
        "SKIPPED (no PostgreSQL): {reason}; install Debian's postgresql package to run the \
         PostgreSQL tests"
    );
}

/// Finds the PostgreSQL programs: all three server programs on `PATH`, else the newest
/// `/usr/lib/postgresql/*/bin/` holding them; `psql` beside `initdb` or the file it links
/// to, else on `PATH`.
fn find_binaries() -> Result<Binaries, Error> {
    const SERVER: [&str; 3] = ["initdb", "pg_ctl", "postgres"];
    let (initdb, pg_ctl) = match SERVER.map(|name| find_on_path(OsStr::new(name))) {
        [Some(initdb), Some(pg_ctl), Some(_postgres)] => (initdb, pg_ctl),
        _ => {
            let dir = newest_debian_bin_dir(&SERVER).ok_or_else(|| {
                Error::Unavailable(
                    "initdb, pg_ctl and postgres are neither all on PATH nor in \
                     /usr/lib/postgresql/*/bin/"
                        .to_owned(),
                )
            })?;
            (dir.join("initdb"), dir.join("pg_ctl"))
        }
    };
    // Beside the real initdb: the one on PATH may be a symbolic link into Debian's
    // versioned directory, whose psql is not on PATH (only Debian's wrapper script is).
    let real_initdb = std::fs::canonicalize(&initdb).unwrap_or_else(|_| initdb.clone());
    let psql = if let Some(beside) = [&initdb, &real_initdb]
        .map(|path| path.with_file_name("psql"))
        .into_iter()
        .find(|path| is_executable(path))
    {
        beside
    } else {
        find_on_path(OsStr::new("psql")).ok_or_else(|| {
            Error::Unavailable(format!(
                "psql is neither beside {} nor on PATH",
                initdb.display()
            ))
        })?
    };
    Ok(Binaries {
        initdb,
        pg_ctl,
        psql,
    })
}

fn find_on_path(name: &OsStr) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(name))
        .find(|candidate| is_executable(candidate))
}

/// The `/usr/lib/postgresql/<version>/bin` with the highest version that holds all of
/// `names`.
fn newest_debian_bin_dir(names: &[&str]) -> Option<PathBuf> {
    let entries = std::fs::read_dir("/usr/lib/postgresql").ok()?;
    entries
        .filter_map(Result::ok)
        .filter_map(|entry| {
            let version: Vec<u32> = entry
                .file_name()
                .to_str()?
                .split('.')
                .map(str::parse)
                .collect::<Result<_, _>>()
                .ok()?;
            let bin = entry.path().join("bin");
            names
                .iter()
                .all(|name| is_executable(&bin.join(name)))
                .then_some((version, bin))
        })
        .max_by(|a, b| a.0.cmp(&b.0))
        .map(|(_, bin)| bin)
}

fn is_executable(path: &Path) -> bool {
    std::fs::metadata(path).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

/// Whether this process runs as root (effective uid 0): the owner of `/proc/self`, or
/// `id -u` where there is no `/proc`.
fn effective_uid_is_root() -> bool {
    if let Ok(meta) = std::fs::metadata("/proc/self") {
        return meta.uid() == 0;
    }
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|out| out.status.success() && out.stdout.trim_ascii() == b"0")
}

/// A TCP port of 127.0.0.1 that was free a moment ago.
fn free_port() -> Result<u16, Error> {
    TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .and_then(|listener| listener.local_addr())
        .map(|addr| addr.port())
        .map_err(|e| Error::Failed(format!("cannot find a free port on 127.0.0.1: {e}")))
}

/// Whether a failed start says the port was in use.
fn port_taken(reason: &str) -> bool {
    reason.contains("Address already in use") || reason.contains("could not bind")
}

/// Runs `command` to completion; a failure carries its exit status and output.
fn run(command: &mut Command, what: &str) -> Result<Output, Error> {
    let output = command
        .output()
        .map_err(|e| Error::Failed(format!("cannot run {what}: {e}")))?;
    if output.status.success() {
        return Ok(output);
    }
    Err(Error::Failed(format!(
        "{what} failed ({}):\n{}{}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )))
}

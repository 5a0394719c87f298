//! The browser login driver against login pages it cannot get through, run as a user
//! runs it (the real `oauth2-conformance` binary with `[login] driver = "browser"`): a
//! page that never shows a password field, a login that loops between two pages, a
//! page that opens a popup, a redirect to an origin the profile does not allow. Each
//! run ends with exit 2 and its reason within the login timeout, and leaves no browser
//! process and no profile folder behind. So do a run stopped with Ctrl-C or SIGTERM,
//! and a panic in a process that drives a browser (the panic hook). Skipped with a loud line
//! without chromium, failed under CI without it. (`harness = false`.)

use std::net::SocketAddr;
use std::path::Path;
use std::process::{Command, ExitCode, Stdio};
use std::time::{Duration, Instant};

use warp::Filter as _;
use warp::http::{Response, StatusCode};

const BIN: &str = env!("CARGO_BIN_EXE_oauth2-conformance");
/// The profile's `[login] timeout`.
const LOGIN_TIMEOUT: u64 = 8;
/// What a run may take beyond the login timeout: starting the browser, the preflight's
/// other requests, writing the screenshot, killing the browser.
const SLACK: Duration = Duration::from_secs(25);

fn html(body: &str) -> Response<String> {
    Response::builder()
        .header("content-type", "text/html; charset=utf-8")
        .body(format!(
            "<!doctype html><html><head><title>Sign in</title></head><body>{body}</body></html>"
        ))
        .unwrap_or_default()
}

fn see_other(to: &str) -> Response<String> {
    Response::builder()
        .status(StatusCode::SEE_OTHER)
        .header("location", to)
        .body(String::new())
        .unwrap_or_default()
}

/// The login pages, by path.
fn page(path: &str, port: u16) -> Response<String> {
    match path {
        // A user-name screen whose Next leads to a screen that waits for something
        // the driver cannot do (a push approval), and keeps changing.
        "/never/authorize" => html(
            r#"<main id="m"><form id="f"><label>Email <input id="user" name="user" type="email" autocomplete="username"></label>
<button type="submit">Next</button></form></main>
<script>
document.getElementById("f").addEventListener("submit", function (e) {
  e.preventDefault();
  var n = 0, m = document.getElementById("m");
  setInterval(function () { n += 1; m.textContent = "Approve the sign-in on your phone (" + n + ")"; }, 300);
});
</script>"#,
        ),
        // User name, then password, then back to the start.
        "/loop/authorize" => html(
            r#"<form method="get" action="/loop/password"><label>Email <input name="user" type="email" autocomplete="username"></label><button type="submit">Next</button></form>"#,
        ),
        "/loop/password" => html(
            r#"<form method="post" action="/loop/back"><label>Password <input name="password" type="password"></label><button type="submit">Sign in</button></form>"#,
        ),
        "/loop/back" => see_other("/loop/authorize"),
        // The sign-in continues in a window of its own.
        "/popup/authorize" => html(
            r#"<form id="f"><label>Email <input name="user" type="email" autocomplete="username"></label>
<label>Password <input name="password" type="password"></label><button type="submit">Sign in</button></form>
<script>
document.getElementById("f").addEventListener("submit", function (e) {
  e.preventDefault();
  window.open("/popup/continue", "signin", "width=400,height=500");
});
</script>"#,
        ),
        "/popup/continue" => html("<p>Continue signing in here.</p>"),
        // Off to another origin (localhost is not 127.0.0.1).
        "/foreign/authorize" => see_other(&format!("http://localhost:{port}/elsewhere/login")),
        _ => Response::builder()
            .status(StatusCode::NOT_FOUND)
            .body("not found".to_owned())
            .unwrap_or_default(),
    }
}

async fn start_pages() -> Result<(SocketAddr, tokio::task::JoinHandle<()>), String> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .map_err(|e| e.to_string())?;
    let addr = listener.local_addr().map_err(|e| e.to_string())?;
    let port = addr.port();
    let routes =
        warp::path::full().map(move |path: warp::path::FullPath| page(path.as_str(), port));
    let task = tokio::spawn(warp::serve(routes).incoming(listener).run());
    Ok((addr, task))
}

fn profile(base: &str, mode: &str) -> String {
    format!(
        r#"name = "login pages"
[endpoints]
authorization = "{base}/{mode}/authorize"
token = "{base}/token"

[clients.confidential_basic]
id = "basic"
secret = "basic-secret-4f1c9a"
auth_method = "client_secret_basic"
redirect_uri = "http://127.0.0.1/callback"

[users.primary]
username = "alice@example.com"
password = "alice-password-5b7d"

[login]
driver = "browser"
timeout = {LOGIN_TIMEOUT}

[capabilities]
metadata = false
grants = ["authorization_code"]
"#
    )
}

/// Processes whose command line names `dir` (the browsers of a run whose temporary
/// folder it is).
fn processes_in(dir: &Path) -> Vec<String> {
    let Ok(out) = Command::new("pgrep")
        .args(["-a", "-f", &dir.display().to_string()])
        .output()
    else {
        return Vec::new();
    };
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(str::to_owned)
        .collect()
}

/// Browser profile folders left in `dir`.
fn folders_in(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .map(|d| {
            d.flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .filter(|n| n.starts_with("oauth2-conformance-chromium-"))
                .collect()
        })
        .unwrap_or_default()
}

/// Nothing of the run's browsers is left in `tmp` (processes get a moment to go).
fn nothing_left(tmp: &Path) -> Result<(), String> {
    let until = Instant::now() + Duration::from_secs(3);
    loop {
        let (procs, folders) = (processes_in(tmp), folders_in(tmp));
        if procs.is_empty() && folders.is_empty() {
            return Ok(());
        }
        if Instant::now() > until {
            return Err(format!(
                "left behind: processes {procs:?}, profile folders {folders:?}"
            ));
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

struct Run {
    code: Option<i32>,
    stderr: String,
    wall: Duration,
}

/// Runs the CLI against one mode's profile, with its own temporary folder; with a
/// signal (`INT`, `TERM`), sends it that once its browser runs.
fn run_cli(dir: &Path, base: &str, mode: &str, signal: Option<&str>) -> Result<Run, String> {
    let tmp = dir.join(format!("tmp-{mode}-{}", signal.unwrap_or("none")));
    std::fs::create_dir_all(&tmp).map_err(|e| e.to_string())?;
    let path = dir.join(format!("{mode}.toml"));
    std::fs::write(&path, profile(base, mode)).map_err(|e| e.to_string())?;
    let started = Instant::now();
    let mut child = Command::new(BIN)
        .arg("--profile")
        .arg(&path)
        .args(["--timeout", "5"])
        .arg("--html")
        .arg(dir.join(format!("{mode}.html")))
        .env("TMPDIR", &tmp)
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot start {BIN}: {e}"))?;
    if let Some(signal) = signal {
        let until = Instant::now() + SLACK;
        while processes_in(&tmp).is_empty() {
            if Instant::now() > until {
                let _ = child.kill();
                return Err("no browser started within the slack".into());
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        // Let the login get under way, then press Ctrl-C.
        std::thread::sleep(Duration::from_millis(700));
        let _ = Command::new("kill")
            .args([format!("-{signal}"), child.id().to_string()])
            .status();
    }
    let bound = Duration::from_secs(LOGIN_TIMEOUT) + SLACK;
    let status = loop {
        match child.try_wait().map_err(|e| e.to_string())? {
            Some(s) => break s,
            None if started.elapsed() > bound => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(format!("{mode}: still running after {} s", bound.as_secs()));
            }
            None => std::thread::sleep(Duration::from_millis(50)),
        }
    };
    let wall = started.elapsed();
    let mut stderr = String::new();
    if let Some(mut e) = child.stderr.take() {
        use std::io::Read as _;
        let _ = e.read_to_string(&mut stderr);
    }
    nothing_left(&tmp).map_err(|e| format!("{mode}: {e}"))?;
    Ok(Run {
        code: status.code(),
        stderr,
        wall,
    })
}

/// A run against each page mode: exit 2, the reason, in time, nothing left.
fn page_modes(dir: &Path, base: &str) -> Vec<String> {
    let cases: [(&str, &[&str]); 4] = [
        (
            "never",
            &[
                "did not end within 8 s",
                "a password field, a user-name field or a consent button",
                "Approve the sign-in on your phone",
                "screenshot: ",
            ],
        ),
        (
            "loop",
            &[
                "the same page came back after three submissions",
                "screenshot: ",
            ],
        ),
        ("popup", &["opened a popup window", "/popup/continue"]),
        ("foreign", &["http://localhost:", "[login] allowed_origins"]),
    ];
    let mut problems = Vec::new();
    for (mode, phrases) in cases {
        match run_cli(dir, base, mode, None) {
            Err(e) => problems.push(e),
            Ok(r) => {
                println!(
                    "{mode:<8} exit {:?} in {:.1} s",
                    r.code,
                    r.wall.as_secs_f64()
                );
                if r.code != Some(2) {
                    problems.push(format!("{mode}: exit {:?}, not 2:\n{}", r.code, r.stderr));
                }
                for p in phrases {
                    if !r.stderr.contains(p) {
                        problems.push(format!(
                            "{mode}: the reason does not say {p:?}:\n{}",
                            r.stderr
                        ));
                    }
                }
                if r.wall > Duration::from_secs(LOGIN_TIMEOUT) + SLACK {
                    problems.push(format!("{mode}: took {:?}", r.wall));
                }
                if r.stderr.contains("alice-password-5b7d")
                    || r.stderr.contains("basic-secret-4f1c9a")
                {
                    problems.push(format!("{mode}: a secret in the output"));
                }
                // The screenshot named in the reason is a PNG.
                if let Some(p) = r.stderr.split("screenshot: ").nth(1) {
                    let p = p.split_whitespace().next().unwrap_or_default();
                    let png = std::fs::read(p).unwrap_or_default();
                    if !png.starts_with(b"\x89PNG") {
                        problems.push(format!("{mode}: the screenshot {p} is not a PNG"));
                    }
                }
            }
        }
    }
    problems
}

/// Ctrl-C (SIGINT), or a CI system's SIGTERM, during a login: the runner says so,
/// exits 130 or 143, and kills its browser.
fn signals(dir: &Path, base: &str) -> Vec<String> {
    let mut problems = Vec::new();
    for (signal, code, says) in [("INT", 130, "interrupted"), ("TERM", 143, "terminated")] {
        match run_cli(dir, base, "never", Some(signal)) {
            Err(e) => problems.push(format!("SIG{signal}: {e}")),
            Ok(r) => {
                println!(
                    "SIG{signal:<5} exit {:?} in {:.1} s",
                    r.code,
                    r.wall.as_secs_f64()
                );
                if r.code != Some(code) || !r.stderr.contains(says) {
                    problems.push(format!(
                        "SIG{signal}: exit {:?}, not {code} with {says:?}:\n{}",
                        r.code, r.stderr
                    ));
                }
            }
        }
    }
    problems
}

/// A panic in a process that drives a browser: the panic hook kills the browser and
/// removes its profile folder.
async fn panic_hook(base: &str) -> Vec<String> {
    use conformance::login::chrome;
    chrome::install_hooks();
    let login: conformance::target::LoginProfile = match toml::from_str(&format!(
        "driver = \"browser\"\ntimeout = {LOGIN_TIMEOUT}\n"
    )) {
        Ok(l) => l,
        Err(e) => return vec![format!("panic hook: the login profile: {e}")],
    };
    let user = conformance::target::User {
        username: "alice@example.com".into(),
        password: conformance::secret::Secret::new("alice-password-5b7d"),
        resource_id: String::new(),
    };
    let url = format!("{base}/never/authorize");
    let login2 = login.clone();
    let drive = tokio::spawn(async move {
        let _ = chrome::drive(
            &url,
            "http://127.0.0.1/callback",
            Some(&user),
            &login2,
            true,
        )
        .await;
    });
    let until = Instant::now() + SLACK;
    let running = |profiles: &[String]| {
        profiles
            .iter()
            .any(|p| !processes_in(Path::new(p)).is_empty())
    };
    while !running(&chrome::started_profiles()) {
        if Instant::now() > until {
            drive.abort();
            return vec!["panic hook: no browser started".into()];
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    // A panic on another thread runs the hook; the thread's end is all it does.
    let _ = std::thread::spawn(|| panic!("a deliberate panic, to test the browser cleanup")).join();
    drive.abort();
    tokio::time::sleep(Duration::from_millis(300)).await;
    let profiles = chrome::started_profiles();
    let mut problems = Vec::new();
    for p in &profiles {
        let procs = processes_in(Path::new(p));
        if !procs.is_empty() {
            problems.push(format!("panic hook: browser processes left: {procs:?}"));
        }
        if Path::new(p).exists() {
            problems.push(format!("panic hook: profile folder left: {p}"));
        }
    }
    println!("panic    {} browser(s) killed by the hook", profiles.len());
    problems
}

fn main() -> ExitCode {
    if std::env::args().any(|a| a == "--list") {
        println!("browser_failures: test");
        return ExitCode::SUCCESS;
    }
    if conformance::login::chrome::executable().is_none() {
        if std::env::var_os("CI").is_some() {
            println!("test browser_failures ... FAILED\n  no chromium on PATH under CI");
            return ExitCode::FAILURE;
        }
        println!(
            "test browser_failures ... SKIPPED: no chromium on PATH (install Debian's chromium)"
        );
        return ExitCode::SUCCESS;
    }
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::FAILURE;
        }
    };
    let dir = match tempfile::tempdir() {
        Ok(d) => d,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::FAILURE;
        }
    };
    let problems = rt.block_on(async {
        let (addr, server) = match start_pages().await {
            Ok(s) => s,
            Err(e) => return vec![format!("cannot start the login pages: {e}")],
        };
        let base = format!("http://{addr}");
        let (d, b) = (dir.path().to_owned(), base.clone());
        let mut problems = tokio::task::spawn_blocking(move || {
            let mut p = page_modes(&d, &b);
            p.extend(signals(&d, &b));
            p
        })
        .await
        .unwrap_or_else(|e| vec![e.to_string()]);
        problems.extend(panic_hook(&base).await);
        server.abort();
        problems
    });
    if problems.is_empty() {
        println!("test browser_failures ... ok");
        ExitCode::SUCCESS
    } else {
        println!("test browser_failures ... FAILED");
        for p in problems {
            println!("  {p}");
        }
        ExitCode::FAILURE
    }
}

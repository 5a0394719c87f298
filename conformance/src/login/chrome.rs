//! The browser login driver (`[login] driver = "browser"`): Debian's `chromium`, headless,
//! driven through the DevTools protocol (`chromiumoxide`), for login pages that need
//! JavaScript.
//!
//! - **Processes.** A bounded pool of browser processes (`--browsers N`, default 2) is
//!   shared by every login; a login waits for a free one. Each process runs in its own
//!   process group with an empty profile folder, and every group is killed when the pool
//!   is shut down, when the runner panics, or on Ctrl-C ([`shutdown`], [`install_hooks`]),
//!   so no `chromium` outlives a run.
//! - **Isolation.** Every login gets a fresh browser context (its own cookies), disposed
//!   afterwards.
//! - **The end.** Every document request is intercepted: a navigation or a redirect to
//!   the client's redirection URI is answered by the driver, never loaded, and its URL
//!   read for code, state, iss or error; a navigation to another origin that is neither
//!   the authorization server's nor in `[login] allowed_origins` ends the login too.
//! - **Automatic mode** (no `[[login.steps]]`): the form driver's rules on the live page:
//!   a visible password field gets the user's credentials and its form is submitted; a
//!   user-name field alone gets the user name and its form is submitted (two-screen
//!   logins); a consent page gets its approve (or deny) button clicked.
//! - **Scripted mode**: the profile's steps, in order (see [`crate::target::profile`]).
//! - **Failure.** When the login does not end within `[login] timeout`, the error names
//!   the last URL, what the driver waited for, an excerpt of the page's text (field
//!   values never appear in it) and a PNG screenshot written to [`set_artifact_dir`].

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use chromiumoxide::Page;
use chromiumoxide::browser::Browser as Cdp;
use chromiumoxide::cdp::browser_protocol::fetch::{
    ContinueRequestParams, EnableParams, EventRequestPaused, FailRequestParams,
    GetResponseBodyParams, HeaderEntry, RequestPattern, RequestStage,
};
use chromiumoxide::cdp::browser_protocol::network::{
    CookieSameSite, ErrorReason, GetCookiesParams, ResourceType,
};
use chromiumoxide::cdp::browser_protocol::page::{
    CaptureScreenshotFormat, EventLoadEventFired, EventWindowOpen, NavigateParams,
};
use chromiumoxide::cdp::browser_protocol::target::{
    CreateBrowserContextParams, CreateTargetParams,
};
use chromiumoxide::page::ScreenshotParams;
use futures::StreamExt as _;
use tokio::io::AsyncBufReadExt as _;
use tokio::sync::{OwnedSemaphorePermit, Semaphore, watch};

use super::form::{AuthResponse, Ended, LoginError, is_client_redirect, response_params};
use crate::http::{Exchange, excerpt, redact_body, redact_url};
use crate::target::User;
use crate::target::profile::{LoginProfile, LoginStep};

/// Default number of browser processes.
pub const DEFAULT_BROWSERS: usize = 2;

/// How long a browser may take to start.
const LAUNCH_TIMEOUT: Duration = Duration::from_secs(20);

/// A running browser process, in its own process group.
struct Chromium {
    cdp: Cdp,
    child: tokio::process::Child,
    pgid: Option<u32>,
    profile: PathBuf,
    handler: tokio::task::JoinHandle<()>,
    /// A login found it broken, or its connection ended: not lent again.
    dead: Arc<std::sync::atomic::AtomicBool>,
    /// A fresh browser context with a blank page, prepared while the last login ran
    /// (a new context starts a renderer process: a good part of a login's time).
    spare: tokio::sync::Mutex<Option<tokio::task::JoinHandle<Result<Fresh, LoginError>>>>,
}

/// A browser context no page has used yet, and a blank page in it.
type Fresh = (
    chromiumoxide::cdp::browser_protocol::browser::BrowserContextId,
    Page,
);

impl Drop for Chromium {
    fn drop(&mut self) {
        self.handler.abort();
        if let Some(pgid) = self.pgid {
            kill_group(pgid);
            forget_group(pgid);
        }
        let _ = self.child.start_kill();
        remove_profile(&self.profile);
    }
}

/// Every process group of a browser this run started and has not yet killed, with the
/// browser's profile folder.
static GROUPS: Mutex<Vec<(u32, PathBuf)>> = Mutex::new(Vec::new());

/// The profile folders of every browser this process started (to find its processes).
static PROFILES: Mutex<Vec<String>> = Mutex::new(Vec::new());

/// The profile folders of the browsers this process started: a process whose command
/// line names one of them is one of this run's.
pub fn started_profiles() -> Vec<String> {
    PROFILES.lock().map(|p| p.clone()).unwrap_or_default()
}

fn forget_group(pgid: u32) {
    if let Ok(mut g) = GROUPS.lock() {
        g.retain(|(p, _)| *p != pgid);
    }
}

/// Removes a killed browser's profile folder. Its processes may still be dying and
/// writing into it for a moment after the kill, so a failed removal is retried briefly.
fn remove_profile(dir: &std::path::Path) {
    for _ in 0..40 {
        match std::fs::remove_dir_all(dir) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                std::thread::sleep(Duration::from_millis(25));
            }
            _ => return,
        }
    }
}

/// Kills a whole process group (the browser and every helper process it started).
fn kill_group(pgid: u32) {
    let _ = std::process::Command::new("kill")
        .args(["-KILL", "--", &format!("-{pgid}")])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status();
}

/// Kills every browser this run started (at the end of the run, on Ctrl-C, on a panic).
pub fn kill_all() {
    let groups: Vec<(u32, PathBuf)> = GROUPS.lock().map(|g| g.clone()).unwrap_or_default();
    for (pgid, _) in &groups {
        kill_group(*pgid);
    }
    for (_, profile) in &groups {
        remove_profile(profile);
    }
    if let Ok(mut g) = GROUPS.lock() {
        g.clear();
    }
}

/// Installs the panic hook and the Ctrl-C (SIGINT) and SIGTERM handlers that kill every
/// browser of the run (call once, from the runner's `main`).
pub fn install_hooks() {
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        kill_all();
        previous(info);
    }));
    tokio::spawn(async {
        if tokio::signal::ctrl_c().await.is_ok() {
            kill_all();
            eprintln!("oauth2-conformance: interrupted");
            std::process::exit(130);
        }
    });
    // What CI systems send to a job they cancel.
    if let Ok(mut term) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
    {
        tokio::spawn(async move {
            if term.recv().await.is_some() {
                kill_all();
                eprintln!("oauth2-conformance: terminated");
                std::process::exit(143);
            }
        });
    }
}

/// The browser executable: `$CHROMIUM`, else `chromium`, `chromium-browser`,
/// `google-chrome` on `PATH`.
pub fn executable() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("CHROMIUM").filter(|p| !p.is_empty()) {
        return Some(PathBuf::from(p));
    }
    let path = std::env::var_os("PATH")?;
    ["chromium", "chromium-browser", "google-chrome"]
        .iter()
        .flat_map(|name| std::env::split_paths(&path).map(move |dir| dir.join(name)))
        .find(|p| p.is_file())
}

impl Chromium {
    async fn launch() -> Result<Self, LoginError> {
        let exe = executable().ok_or_else(|| {
            LoginError::Driver(
                "[login] driver = \"browser\" needs chromium: none on PATH (install Debian's \
                 chromium, or set CHROMIUM to the executable)"
                    .to_owned(),
            )
        })?;
        let profile = tempfile::Builder::new()
            .prefix("oauth2-conformance-chromium-")
            .tempdir()
            .map_err(|e| LoginError::Driver(format!("cannot create a browser profile: {e}")))?
            // Removed by hand once the browser is killed (`remove_profile`), never while
            // it may still write into it.
            .keep();
        if let Ok(mut p) = PROFILES.lock() {
            p.push(profile.display().to_string());
        }
        let mut cmd = tokio::process::Command::new(&exe);
        cmd.args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-dev-shm-usage",
            "--disable-extensions",
            // A page that opens a window is seen (and ends the login), not silently
            // blocked.
            "--disable-popup-blocking",
            "--disable-sync",
            // Several logins share a browser: none of their pages is throttled as a
            // page in the background would be.
            "--disable-background-timer-throttling",
            "--disable-backgrounding-occluded-windows",
            "--disable-renderer-backgrounding",
            // Services a login never uses: less work per browser context (measured
            // with scripts/bench: about a tenth of the CPU a login costs).
            "--disable-component-update",
            "--disable-default-apps",
            "--disable-client-side-phishing-detection",
            "--disable-hang-monitor",
            "--disable-breakpad",
            "--mute-audio",
            "--disable-renderer-accessibility",
            "--disable-features=Translate,OptimizationHints,MediaRouter,InterestFeedContentSuggestions,CertificateTransparencyComponentUpdater,AutofillServerCommunication",
            "--no-first-run",
            "--no-default-browser-check",
            "--remote-debugging-port=0",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .arg("about:blank")
        .process_group(0)
        .kill_on_drop(true)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped());
        let mut child = match cmd.spawn() {
            Ok(c) => c,
            Err(e) => {
                remove_profile(&profile);
                return Err(LoginError::Driver(format!(
                    "cannot start {}: {e}",
                    exe.display()
                )));
            }
        };
        let pgid = child.id();
        if let (Some(p), Ok(mut g)) = (pgid, GROUPS.lock()) {
            g.push((p, profile.clone()));
        }
        let stderr = child.stderr.take();
        let ws = async {
            let stderr = stderr?;
            let mut lines = tokio::io::BufReader::new(stderr).lines();
            while let Ok(Some(line)) = lines.next_line().await {
                if let Some(url) = line.split("DevTools listening on ").nth(1) {
                    let url = url.trim().to_owned();
                    // Keep draining, so the browser never blocks on a full pipe.
                    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
                    return Some(url);
                }
            }
            None
        };
        let started = tokio::time::timeout(LAUNCH_TIMEOUT, ws).await;
        let fail = |why: String, pgid: Option<u32>| {
            if let Some(p) = pgid {
                kill_group(p);
                forget_group(p);
            }
            remove_profile(&profile);
            LoginError::Driver(why)
        };
        let ws = match started {
            Ok(Some(ws)) => ws,
            Ok(None) => {
                return Err(fail(
                    format!("{} exited before it could be driven", exe.display()),
                    pgid,
                ));
            }
            Err(_) => {
                return Err(fail(
                    format!(
                        "{} did not start within {} s",
                        exe.display(),
                        LAUNCH_TIMEOUT.as_secs()
                    ),
                    pgid,
                ));
            }
        };
        let (cdp, mut handler) = Cdp::connect(ws)
            .await
            .map_err(|e| fail(format!("cannot drive the browser: {e}"), pgid))?;
        // The handler drives every request to this browser (and their timeouts): it
        // must run as long as the connection lives. One message it cannot read (a
        // newer browser's event) is no reason to stop; a long run of errors is a dead
        // connection.
        let dead = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let gone = dead.clone();
        let handler = tokio::spawn(async move {
            let mut errors_in_a_row = 0_u32;
            while let Some(event) = handler.next().await {
                if event.is_err() {
                    errors_in_a_row += 1;
                    if errors_in_a_row >= 100 {
                        break;
                    }
                } else {
                    errors_in_a_row = 0;
                }
            }
            gone.store(true, Ordering::SeqCst);
        });
        Ok(Self {
            cdp,
            child,
            pgid,
            profile,
            handler,
            dead,
            spare: tokio::sync::Mutex::new(None),
        })
    }
}

/// Logins one browser process serves at once, each in its own browser context. More
/// than one at a time on a two-core machine made logins stall and the heuristics that
/// judge a settled page misfire: measured, not guessed.
const LOGINS_PER_BROWSER: usize = 1;

/// Scenarios run at once per browser of the pool: they wait for a login slot, and do
/// their other requests (and their waits) meanwhile.
pub const SCENARIOS_PER_BROWSER: usize = 4;

/// The bounded pool of browsers: `n` processes, launched when first needed, each
/// serving up to [`LOGINS_PER_BROWSER`] logins at once.
struct Pool {
    permits: Arc<Semaphore>,
    slots: Vec<tokio::sync::Mutex<Option<Arc<Chromium>>>>,
    next: AtomicUsize,
}

static POOL: OnceLock<Pool> = OnceLock::new();
static SIZE: OnceLock<usize> = OnceLock::new();
static ARTIFACTS: Mutex<Option<PathBuf>> = Mutex::new(None);

/// Sets the number of browser processes (`--browsers N`); call before the first login.
pub fn set_pool_size(n: usize) {
    let _ = SIZE.set(n.max(1));
}

/// Sets where screenshots of failed logins are written (next to the reports).
pub fn set_artifact_dir(dir: PathBuf) {
    if let Ok(mut a) = ARTIFACTS.lock() {
        *a = Some(dir);
    }
}

fn pool() -> &'static Pool {
    POOL.get_or_init(|| {
        let n = *SIZE.get_or_init(|| DEFAULT_BROWSERS);
        Pool {
            permits: Arc::new(Semaphore::new(n * LOGINS_PER_BROWSER)),
            slots: (0..n).map(|_| tokio::sync::Mutex::new(None)).collect(),
            next: AtomicUsize::new(0),
        }
    })
}

/// A browser lent to one login (shared with the other logins it serves). A login that
/// broke it marks it dead: the next login on its slot launches a new one, and the old
/// process is killed when its last login lets go.
struct Lent {
    chromium: Option<Arc<Chromium>>,
    _permit: OwnedSemaphorePermit,
    broken: bool,
}

impl Drop for Lent {
    fn drop(&mut self) {
        if let (Some(c), true) = (&self.chromium, self.broken) {
            c.dead.store(true, Ordering::SeqCst);
        }
    }
}

async fn lend() -> Result<Lent, LoginError> {
    let pool = pool();
    let permit = pool
        .permits
        .clone()
        .acquire_owned()
        .await
        .map_err(|e| LoginError::Driver(e.to_string()))?;
    let i = pool.next.fetch_add(1, Ordering::Relaxed) % pool.slots.len().max(1);
    let Some(slot) = pool.slots.get(i) else {
        return Err(LoginError::Driver("no browser slot".to_owned()));
    };
    // Held while launching, so that the logins of one slot wait for one launch.
    let mut slot = slot.lock().await;
    let chromium = match slot.as_ref() {
        Some(c) if !c.dead.load(Ordering::SeqCst) => c.clone(),
        _ => {
            let c = Arc::new(Chromium::launch().await?);
            *slot = Some(c.clone());
            c
        }
    };
    Ok(Lent {
        chromium: Some(chromium),
        _permit: permit,
        broken: false,
    })
}

/// Kills every browser of the run when dropped: hold one in `main`, so every way out of
/// it (a return, an early exit path, an unwinding panic) ends the browsers too.
#[derive(Debug)]
pub struct Guard;

impl Drop for Guard {
    fn drop(&mut self) {
        shutdown();
    }
}

/// Kills every browser of the pool (at the end of a run).
pub fn shutdown() {
    if let Some(p) = POOL.get() {
        for slot in &p.slots {
            if let Ok(mut s) = slot.try_lock() {
                s.take();
            }
        }
    }
    kill_all();
}

/// How a login ended, as the interception saw it.
#[derive(Debug, Clone)]
struct End {
    ended: Ended,
    status: u16,
    location: String,
}

/// A request the browser was about to send, captured and never sent. No `Debug`: its
/// body may hold a password.
#[derive(Clone)]
pub struct Captured {
    /// The request's URL.
    pub url: String,
    /// Its method.
    pub method: String,
    /// The headers the page gave it (the browser adds cookies later: none here).
    pub headers: Vec<(String, String)>,
    /// Its body.
    pub body: Vec<u8>,
    /// The cookies the browser held for `url` at that moment.
    pub cookies: Vec<HeldCookie>,
}

impl Captured {
    /// A header the page gave the request.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// A cookie of the browser, with its `SameSite` attribute as the browser applies it.
#[derive(Clone)]
pub struct HeldCookie {
    /// Name.
    pub name: String,
    /// Value.
    pub value: String,
    /// `SameSite`; a cookie set without the attribute is `Lax`, as browsers treat it.
    pub same_site: SameSite,
}

/// The `SameSite` attribute of a cookie.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SameSite {
    /// Sent on cross-site requests too.
    None,
    /// Sent on cross-site top-level navigations with a safe method.
    Lax,
    /// Never sent on a request a cross-site page started.
    Strict,
}

/// Stop a login when the browser is about to send its `nth` POST (0-based), and keep
/// that request.
struct StopAt {
    nth: usize,
    seen: AtomicUsize,
    captured: Mutex<Option<Captured>>,
}

/// The request of a paused event, as [`Captured`] (cookies are added later).
fn captured_of(ev: &EventRequestPaused) -> Captured {
    let headers = ev
        .request
        .headers
        .inner()
        .as_object()
        .map(|o| {
            o.iter()
                .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_owned()))
                .collect()
        })
        .unwrap_or_default();
    let body = ev
        .request
        .post_data_entries
        .iter()
        .flatten()
        .filter_map(|e| e.bytes.as_ref())
        .flat_map(|b| {
            use base64::Engine as _;
            base64::engine::general_purpose::STANDARD
                .decode(AsRef::<[u8]>::as_ref(b))
                .unwrap_or_default()
        })
        .collect();
    Captured {
        url: ev.request.url.clone(),
        method: ev.request.method.clone(),
        headers,
        body,
        cookies: Vec::new(),
    }
}

/// The cookies the page's browser context holds for `url`.
async fn cookies_for(page: &Page, url: &str) -> Vec<HeldCookie> {
    let Ok(r) = page
        .execute(GetCookiesParams::builder().url(url).build())
        .await
    else {
        return Vec::new();
    };
    r.result
        .cookies
        .iter()
        .map(|c| HeldCookie {
            name: c.name.clone(),
            value: c.value.clone(),
            same_site: match c.same_site {
                Some(CookieSameSite::None) => SameSite::None,
                Some(CookieSameSite::Strict) => SameSite::Strict,
                _ => SameSite::Lax,
            },
        })
        .collect()
}

/// The origin (`scheme://host[:port]`) of a URL, lower-cased.
fn origin_of(url: &str) -> String {
    reqwest::Url::parse(url).map_or_else(|_| String::new(), |u| u.origin().ascii_serialization())
}

/// The pages the browser loaded, as exchanges for the steps that read them.
type Trail = Arc<Mutex<Vec<Exchange>>>;

/// A document response the browser received, as an [`Exchange`] (body read for pages,
/// empty for redirects).
async fn exchange_of(page: &Page, ev: &EventRequestPaused, status: u16) -> Exchange {
    let mut headers = reqwest::header::HeaderMap::new();
    for HeaderEntry { name, value } in ev.response_headers.iter().flatten() {
        if let (Ok(n), Ok(v)) = (
            reqwest::header::HeaderName::from_bytes(name.as_bytes()),
            reqwest::header::HeaderValue::from_str(value),
        ) {
            headers.append(n, v);
        }
    }
    let body = if (300..400).contains(&status) {
        String::new()
    } else {
        match page
            .execute(GetResponseBodyParams::new(ev.request_id.clone()))
            .await
        {
            Ok(r) if r.result.base64_encoded => {
                use base64::Engine as _;
                base64::engine::general_purpose::STANDARD
                    .decode(&r.result.body)
                    .map(|b| String::from_utf8_lossy(&b).into_owned())
                    .unwrap_or_default()
            }
            Ok(r) => r.result.body.clone(),
            Err(_) => String::new(),
        }
    };
    crate::http::witness_page(&headers, &body);
    let post: Option<String> = ev.request.post_data_entries.as_ref().map(|entries| {
        entries
            .iter()
            .filter_map(|e| e.bytes.as_ref())
            .map(|b| {
                use base64::Engine as _;
                let raw = base64::engine::general_purpose::STANDARD
                    .decode(AsRef::<[u8]>::as_ref(b))
                    .unwrap_or_default();
                String::from_utf8_lossy(&raw).into_owned()
            })
            .collect()
    });
    Exchange {
        method: ev.request.method.clone(),
        url: redact_url(&ev.request.url),
        request_headers: Vec::new(),
        // A login's own `fetch` posts JSON as often as a form: each redacted as what it is.
        request_body: post.map(|p| redact_body(&p)),
        status,
        headers,
        body,
        received_at: std::time::Instant::now(),
    }
}

/// Answers each intercepted document request: the client's redirection URI and foreign
/// origins end the login (never loaded), anything else goes on; every document response
/// joins the trail.
#[allow(clippy::too_many_arguments)]
async fn intercept(
    page: Page,
    mut events: chromiumoxide::listeners::EventStream<EventRequestPaused>,
    redirect_uri: String,
    allowed: Vec<String>,
    end: watch::Sender<Option<End>>,
    trail: Trail,
    stop: Option<Arc<StopAt>>,
    wake: Arc<Wake>,
) {
    while let Some(ev) = events.next().await {
        // The trail: every page, and what the page sends (its sign-in `fetch`); not the
        // requests a login app makes in the background to draw itself.
        let kept = ev.resource_type == ResourceType::Document || ev.request.method != "GET";
        if kept {
            // A page or a submission under way or answered: the login looks again.
            wake.ring();
        }
        if let (Some(code), true) = (ev.response_status_code, kept) {
            let x = exchange_of(&page, &ev, u16::try_from(code).unwrap_or(0)).await;
            if let Ok(mut t) = trail.lock() {
                t.push(x);
            }
        }
        let requesting = ev.response_status_code.is_none() && ev.response_error_reason.is_none();
        if let Some(stop) = stop
            .as_ref()
            .filter(|_| requesting && ev.request.method == "POST")
        {
            if stop.seen.fetch_add(1, Ordering::SeqCst) == stop.nth {
                if let Ok(mut c) = stop.captured.lock() {
                    *c = Some(captured_of(&ev));
                }
                let _ = end.send(Some(End {
                    ended: Ended::Stopped,
                    status: 0,
                    location: ev.request.url.clone(),
                }));
                let _ = page
                    .execute(FailRequestParams::new(
                        ev.request_id.clone(),
                        ErrorReason::Aborted,
                    ))
                    .await;
                continue;
            }
        }
        if requesting && ev.resource_type != ResourceType::Document {
            // A page's own request, paused only to find the submission to stop at.
            let _ = page
                .execute(ContinueRequestParams::new(ev.request_id.clone()))
                .await;
            continue;
        }
        let url = ev.request.url.clone();
        let status = ev.response_status_code.unwrap_or(0);
        let location = ev.response_headers.as_ref().and_then(|h| {
            h.iter()
                .find(|e| e.name.eq_ignore_ascii_case("location"))
                .map(|e| e.value.clone())
        });
        // A redirect answer (response stage) is judged by where it leads; a request
        // (a navigation, a redirect being followed) by its own URL.
        let (target, code) = match (&location, (300..400).contains(&status)) {
            (Some(loc), true) => (
                reqwest::Url::parse(&url)
                    .and_then(|b| b.join(loc))
                    .map_or_else(|_| loc.clone(), |u| u.to_string()),
                u16::try_from(status).unwrap_or(0),
            ),
            _ => (url.clone(), 0),
        };
        let verdict = if is_client_redirect(&target, &redirect_uri) {
            Some(Ended::Client)
        } else if (ev.response_status_code.is_none() || code != 0)
            && !allowed.contains(&origin_of(&target))
        {
            // A navigation, or a redirect, to an origin the login may not visit.
            Some(Ended::OtherSite)
        } else {
            None
        };
        match verdict {
            Some(ended) => {
                let _ = end.send(Some(End {
                    ended,
                    status: code,
                    location: target,
                }));
                let _ = page
                    .execute(FailRequestParams::new(
                        ev.request_id.clone(),
                        ErrorReason::Aborted,
                    ))
                    .await;
            }
            None => {
                let _ = page
                    .execute(ContinueRequestParams::new(ev.request_id.clone()))
                    .await;
            }
        }
    }
}

/// Rung when a login's page may have changed (a request or answer seen, a page
/// loaded), so that the login looks at once rather than at its next poll; and when
/// that last happened.
struct Wake {
    notify: tokio::sync::Notify,
    last: Mutex<tokio::time::Instant>,
}

impl Wake {
    fn new() -> Self {
        Self {
            notify: tokio::sync::Notify::new(),
            last: Mutex::new(tokio::time::Instant::now()),
        }
    }

    fn ring(&self) {
        if let Ok(mut l) = self.last.lock() {
            *l = tokio::time::Instant::now();
        }
        self.notify.notify_one();
    }

    /// How long nothing has happened on the page's network.
    fn quiet_for(&self) -> Duration {
        self.last.lock().map(|l| l.elapsed()).unwrap_or_default()
    }
}

/// How long the page's network must stay quiet, after the answer to a submission,
/// before the driver submits the same page again (a page's script needs a moment to
/// move on after its `fetch` is answered).
const QUIET: Duration = Duration::from_millis(300);

/// How often a login looks at its page when nothing told it the page changed.
const POLL: Duration = Duration::from_millis(50);

/// How long a page the driver cannot act on must stay unchanged, once loaded, before
/// the login ends there.
const SETTLED: Duration = Duration::from_millis(1500);

/// Whether the page has stayed the same (URL and text), loaded, for [`SETTLED`]:
/// `idle` remembers since when it has looked as it does now.
fn settled(idle: &mut Option<(String, tokio::time::Instant)>, st: &PageState) -> bool {
    let seen = format!("{}\n{}", st.url, st.text);
    match idle {
        Some((s, since)) if *s == seen && st.complete => since.elapsed() >= SETTLED,
        _ => {
            *idle = Some((seen, tokio::time::Instant::now()));
            false
        }
    }
}

/// What the page shows, as [`STATE_JS`] reports it.
#[derive(Debug, Default, serde::Deserialize)]
struct PageState {
    url: String,
    complete: bool,
    /// The document is parsed (not `loading`): every field and button of the HTML is
    /// in the DOM.
    parsed: bool,
    password: bool,
    username: bool,
    buttons: Vec<String>,
    text: String,
}

/// Reads the page: visible password and user-name fields, visible buttons, and a text
/// excerpt (never field values).
const STATE_JS: &str = r#"(() => {
  const vis = e => { const r = e.getBoundingClientRect(); const s = getComputedStyle(e);
    return r.width > 0 && r.height > 0 && s.visibility !== 'hidden' && s.display !== 'none' && !e.disabled; };
  const inputs = [...document.querySelectorAll('input')].filter(vis);
  const buttons = [...document.querySelectorAll('button, input[type=submit], input[type=button]')].filter(vis)
    .map(b => (b.innerText || b.value || b.name || '').trim());
  return JSON.stringify({
    url: location.href,
    complete: document.readyState === 'complete',
    parsed: document.readyState !== 'loading',
    password: inputs.some(i => i.type === 'password'),
    username: inputs.some(i => ['text', 'email', ''].includes(i.type) || i.autocomplete === 'username'),
    buttons,
    text: (document.body ? document.body.innerText : '').slice(0, 600),
  });
})()"#;

/// Fills visible fields (user name, password) and submits their form.
fn fill_js(
    user: Option<&str>,
    password: Option<&str>,
    username_field: Option<&str>,
    password_field: Option<&str>,
    button: Option<&str>,
) -> String {
    let q = |s: Option<&str>| serde_json::to_string(&s).unwrap_or_else(|_| "null".to_owned());
    format!(
        r#"(() => {{
  const U = {u}, P = {p}, UF = {uf}, PF = {pf}, B = {b};
  const vis = e => {{ const r = e.getBoundingClientRect(); const s = getComputedStyle(e);
    return r.width > 0 && r.height > 0 && s.visibility !== 'hidden' && s.display !== 'none' && !e.disabled; }};
  const set = (el, v) => {{
    const d = Object.getOwnPropertyDescriptor(HTMLInputElement.prototype, 'value');
    d.set.call(el, v);
    el.dispatchEvent(new Event('input', {{ bubbles: true }}));
    el.dispatchEvent(new Event('change', {{ bubbles: true }}));
  }};
  const inputs = [...document.querySelectorAll('input')].filter(vis);
  const pw = inputs.find(i => PF ? i.name === PF : i.type === 'password');
  const un = inputs.find(i => UF ? i.name === UF :
    (i.autocomplete === 'username' || i.type === 'email' || i.type === 'text' || i.type === ''));
  let form = null;
  if (un && U !== null) {{ set(un, U); form = un.form; }}
  if (pw && P !== null) {{ set(pw, P); form = pw.form || form; }}
  const target = pw || un;
  if (!target) return 'nothing';
  form = form || target.form;
  if (form) {{
    const subs = [...form.querySelectorAll('button, input[type=submit]')].filter(b => vis(b) && (b.type || 'submit') === 'submit');
    const submit = subs.find(b => B !== null && (b.innerText || b.value || b.name || '').trim() === B) || subs[0];
    // As a person does: a click on the submit button (its own handlers run, as a
    // script-driven login needs), else a submission that fires the form's handlers.
    if (submit) {{ submit.click(); return 'clicked'; }}
    if (form.requestSubmit) form.requestSubmit(); else form.submit();
    return 'submitted';
  }}
  const b = [...document.querySelectorAll('button')].find(vis);
  if (b) {{ b.click(); return 'clicked'; }}
  target.dispatchEvent(new KeyboardEvent('keydown', {{ key: 'Enter', bubbles: true }}));
  return 'entered';
}})()"#,
        u = q(user),
        p = q(password),
        uf = q(username_field),
        pf = q(password_field),
        b = q(button),
    )
}

/// The button rules of the form driver: the profile's `approve_button`, else a button
/// named like approving (or, to deny, like refusing).
fn choose_button(buttons: &[String], login: &LoginProfile, approve: bool) -> Option<String> {
    // Whole words, as the form driver matches them: "no" is not the "no" in "another".
    let words_of = |b: &String| -> Vec<String> {
        b.to_lowercase()
            .split(|c: char| !c.is_alphanumeric())
            .filter(|w| !w.is_empty())
            .map(str::to_owned)
            .collect()
    };
    let lower: Vec<Vec<String>> = buttons.iter().map(words_of).collect();
    if approve {
        if let Some(want) = &login.approve_button {
            return buttons
                .iter()
                .find(|b| b.eq_ignore_ascii_case(want.trim()))
                .cloned();
        }
        const WORDS: [&str; 7] = [
            "approve",
            "allow",
            "accept",
            "authorize",
            "consent",
            "continue",
            "yes",
        ];
        WORDS
            .iter()
            .find_map(|w| lower.iter().position(|b| b.iter().any(|x| x == w)))
            .and_then(|i| buttons.get(i).cloned())
    } else {
        const WORDS: [&str; 5] = ["deny", "cancel", "reject", "decline", "no"];
        WORDS
            .iter()
            .find_map(|w| lower.iter().position(|b| b.iter().any(|x| x == w)))
            .and_then(|i| buttons.get(i).cloned())
    }
}

fn click_js(text: &str) -> String {
    let t = serde_json::to_string(text).unwrap_or_else(|_| "\"\"".to_owned());
    format!(
        r#"(() => {{ const b = [...document.querySelectorAll('button, input[type=submit], input[type=button]')]
  .find(b => (b.innerText || b.value || b.name || '').trim() === {t});
  if (!b) return 'none'; b.click(); return 'clicked'; }})()"#
    )
}

async fn eval_string(page: &Page, js: String) -> Option<String> {
    page.evaluate(js)
        .await
        .ok()
        .and_then(|r| r.into_value::<String>().ok())
}

async fn state(page: &Page) -> PageState {
    let mut st: PageState = eval_string(page, STATE_JS.to_owned())
        .await
        .and_then(|s| serde_json::from_str(&s).ok())
        .unwrap_or_default();
    // The blank page the login starts from is not a page of the login yet.
    if st.url.starts_with("about:") {
        st.complete = false;
    }
    st
}

/// A glob match (`*` any run, `?` one character) of a whole URL.
pub fn glob(pattern: &str, text: &str) -> bool {
    let (p, t): (Vec<char>, Vec<char>) = (pattern.chars().collect(), text.chars().collect());
    let (mut pi, mut ti, mut star, mut mark) = (0, 0, None, 0);
    while ti < t.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == t[ti]) {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some(pi);
            mark = ti;
            pi += 1;
        } else if let Some(s) = star {
            pi = s + 1;
            mark += 1;
            ti = mark;
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|c| *c == '*')
}

/// Replaces `{username}` and `{password}` in a scripted fill value.
fn placeholders(value: &str, user: &User) -> String {
    value
        .replace("{username}", &user.username)
        .replace("{password}", user.password.expose())
}

/// Runs one scripted step; `Err` with what it waited for.
async fn scripted_step(
    page: &Page,
    step: &LoginStep,
    user: &User,
    deadline: tokio::time::Instant,
    end: &watch::Receiver<Option<End>>,
    answered: &(dyn Fn() -> bool + Sync),
    wake: &Wake,
) -> Result<bool, String> {
    let mut idle: Option<(String, tokio::time::Instant)> = None;
    let until = (tokio::time::Instant::now() + Duration::from_secs(step.timeout.unwrap_or(10)))
        .min(deadline);
    let exists = |sel: &str| {
        let s = serde_json::to_string(sel).unwrap_or_default();
        format!("(() => document.querySelector({s}) ? 'yes' : 'no')()")
    };
    loop {
        if end.borrow().is_some() || answered() {
            return Ok(false);
        }
        let st = state(page).await;
        let url_ok = step.url.as_deref().is_none_or(|g| glob(g, &st.url));
        let ready = if !url_ok {
            false
        } else if let Some(sel) = step.wait_for.as_deref() {
            eval_string(page, exists(sel)).await.as_deref() == Some("yes")
        } else if let Some(pat) = step.wait_for_url.as_deref() {
            glob(pat, &st.url)
        } else if let Some((sel, _)) = step.fill.as_ref().map(|f| (f[0].as_str(), f[1].as_str())) {
            eval_string(page, exists(sel)).await.as_deref() == Some("yes")
        } else if let Some(sel) = step.click.as_deref() {
            eval_string(page, exists(sel)).await.as_deref() == Some("yes")
        } else {
            true
        };
        if ready {
            if let Some(f) = &step.fill {
                let (sel, v) = (
                    serde_json::to_string(&f[0]).unwrap_or_default(),
                    serde_json::to_string(&placeholders(&f[1], user)).unwrap_or_default(),
                );
                eval_string(page, format!(r#"(() => {{ const el = document.querySelector({sel}); if (!el) return 'none';
  const d = Object.getOwnPropertyDescriptor(HTMLInputElement.prototype, 'value'); d.set.call(el, {v});
  el.dispatchEvent(new Event('input', {{ bubbles: true }})); el.dispatchEvent(new Event('change', {{ bubbles: true }})); return 'ok'; }})()"#)).await;
            }
            if let Some(sel) = &step.click {
                let sel = serde_json::to_string(sel).unwrap_or_default();
                eval_string(page, format!("(() => {{ const el = document.querySelector({sel}); if (!el) return 'none'; el.click(); return 'ok'; }})()")).await;
            }
            return Ok(false);
        }
        // An error page (no field to sign in with), loaded and unchanged: the login
        // ends there, as in automatic mode.
        let seen = format!("{}\n{}", st.url, st.text);
        if !st.password && !st.username && st.complete {
            match &idle {
                Some((s, since)) if *s == seen => {
                    if since.elapsed() >= SETTLED {
                        return Ok(true);
                    }
                }
                _ => idle = Some((seen, tokio::time::Instant::now())),
            }
        } else {
            idle = None;
        }
        if tokio::time::Instant::now() >= until {
            return Err(step.describe());
        }
        tokio::select! {
            () = wake.notify.notified() => {}
            () = tokio::time::sleep(POLL) => {}
        }
    }
}

/// How a login is driven.
#[derive(Clone, Default)]
struct How {
    /// Approve (else deny) a consent page.
    approve: bool,
    /// End as soon as the answer to the password submission came.
    first_submission: bool,
    /// End when the browser is about to send this POST.
    stop: Option<Arc<StopAt>>,
    /// The caller needs a code: a page the driver cannot act on is an error saying why,
    /// with a screenshot.
    need_code: bool,
}

/// Signs `user` in at `authorization_url` in a fresh browser context and returns where
/// the browser was sent: the client's redirection URI (never loaded), another origin,
/// the page it stopped at, or an error saying what the login waited for.
pub async fn drive(
    authorization_url: &str,
    redirect_uri: &str,
    user: Option<&User>,
    login: &LoginProfile,
    approve: bool,
) -> Result<AuthResponse, LoginError> {
    let how = How {
        approve,
        ..How::default()
    };
    drive_to(authorization_url, redirect_uri, user, login, how).await
}

/// [`drive`] for a caller that needs a code (the login preflight, the tokens of a
/// scenario): a page the driver cannot act on is an error saying why, with the page's
/// text and a screenshot.
pub async fn drive_for_code(
    authorization_url: &str,
    redirect_uri: &str,
    user: &User,
    login: &LoginProfile,
    approve: bool,
) -> Result<AuthResponse, LoginError> {
    let how = How {
        approve,
        need_code: true,
        ..How::default()
    };
    drive_to(authorization_url, redirect_uri, Some(user), login, how).await
}

/// Opens the login page in a fresh browser context, submits `user`'s password once,
/// and returns the server's answer to that submission (a form post, or the login
/// page's own `fetch`), for the checks of what a wrong password gets.
pub async fn submit_password(
    authorization_url: &str,
    redirect_uri: &str,
    user: &User,
    login: &LoginProfile,
) -> Result<Exchange, LoginError> {
    let how = How {
        approve: true,
        first_submission: true,
        ..How::default()
    };
    let r = drive_to(authorization_url, redirect_uri, Some(user), login, how).await?;
    r.trail
        .iter()
        .rev()
        .find(|x| x.method == "POST")
        .cloned()
        .ok_or_else(|| LoginError::Driver("the password submission got no answer".to_owned()))
}

/// A blank page in a browser context.
async fn blank_page(
    cdp: &Cdp,
    context: &chromiumoxide::cdp::browser_protocol::browser::BrowserContextId,
) -> Result<Page, LoginError> {
    let params = CreateTargetParams::builder()
        .url("about:blank")
        .browser_context_id(context.clone())
        .build()
        .map_err(LoginError::Driver)?;
    cdp.new_page(params)
        .await
        .map_err(|e| LoginError::Driver(format!("the browser: {e}")))
}

/// A new browser context and a blank page in it.
async fn new_context(cdp: &Cdp) -> Result<Fresh, LoginError> {
    let context = cdp
        .create_browser_context(CreateBrowserContextParams::default())
        .await
        .map_err(|e| LoginError::Driver(format!("the browser: {e}")))?;
    match blank_page(cdp, &context).await {
        Ok(page) => Ok((context, page)),
        Err(e) => {
            let _ = cdp.dispose_browser_context(context).await;
            Err(e)
        }
    }
}

/// A fresh browser context for one login: the spare one `c` prepared (waited for if
/// under way; a new one if it failed), else a new one.
async fn fresh(c: &Arc<Chromium>) -> Result<Fresh, LoginError> {
    let ready = c.spare.lock().await.take();
    match ready {
        Some(h) => match h.await {
            Ok(Ok(f)) => Ok(f),
            _ => new_context(&c.cdp).await,
        },
        None => new_context(&c.cdp).await,
    }
}

/// Starts preparing `c`'s next fresh context, unless one is already under way: after a
/// login, so that the preparation never competes with a login's own pages.
async fn prepare(c: &Arc<Chromium>) {
    let mut spare = c.spare.lock().await;
    if spare.is_none() && !c.dead.load(Ordering::SeqCst) {
        let next = c.clone();
        *spare = Some(tokio::spawn(async move { new_context(&next.cdp).await }));
    }
}

/// Several authorization requests in one browser context, one after another (the
/// second sees the cookies the first left): each `(url, user)` signs in when a user is
/// given, and only watches where the browser is sent when none is.
pub async fn drive_sequence(
    visits: &[(String, Option<&User>)],
    redirect_uri: &str,
    login: &LoginProfile,
) -> Result<Vec<AuthResponse>, LoginError> {
    let mut lent = lend().await?;
    let Some(c) = lent.chromium.as_ref() else {
        return Err(LoginError::Driver("no browser".to_owned()));
    };
    let (context, first) = fresh(c).await?;
    let mut first = Some(first);
    let mut out = Vec::new();
    let mut result = Ok(());
    for (url, user) in visits {
        let page = match first.take() {
            Some(p) => p,
            None => match blank_page(&c.cdp, &context).await {
                Ok(p) => p,
                Err(e) => {
                    result = Err(e);
                    break;
                }
            },
        };
        let how = How {
            approve: true,
            ..How::default()
        };
        let r = bounded(login, async {
            let r = run_login(&page, url, redirect_uri, *user, login, how).await;
            let _ = page.close().await;
            r
        })
        .await;
        match r {
            Ok(r) => out.push(r),
            Err(e) => {
                result = Err(e);
                break;
            }
        }
    }
    let _ = c.cdp.dispose_browser_context(context).await;
    if matches!(&result, Err(LoginError::Driver(_))) {
        lent.broken = true;
    } else {
        prepare(c).await;
    }
    result.map(|()| out)
}

async fn drive_to(
    authorization_url: &str,
    redirect_uri: &str,
    user: Option<&User>,
    login: &LoginProfile,
    how: How,
) -> Result<AuthResponse, LoginError> {
    let mut lent = lend().await?;
    let result = match lent.chromium.as_ref() {
        Some(c) => drive_in(c, authorization_url, redirect_uri, user, login, how).await,
        None => Err(LoginError::Driver("no browser".to_owned())),
    };
    if matches!(&result, Err(LoginError::Driver(_))) {
        lent.broken = true;
    }
    result
}

/// Signs `user` in, in a fresh browser context, until the browser is about to send its
/// `nth` POST (0-based: a form post or the login page's own `fetch`); that request is
/// captured with the cookies the context holds for it, and never sent. `None` when the
/// login ended before it.
pub async fn drive_until_post(
    authorization_url: &str,
    redirect_uri: &str,
    user: &User,
    login: &LoginProfile,
    nth: usize,
) -> Result<Option<Captured>, LoginError> {
    let stop = Arc::new(StopAt {
        nth,
        seen: AtomicUsize::new(0),
        captured: Mutex::new(None),
    });
    let how = How {
        approve: true,
        stop: Some(stop.clone()),
        ..How::default()
    };
    let mut lent = lend().await?;
    let result = match lent.chromium.as_ref() {
        Some(c) => drive_in(c, authorization_url, redirect_uri, Some(user), login, how).await,
        None => Err(LoginError::Driver("no browser".to_owned())),
    };
    if matches!(&result, Err(LoginError::Driver(_))) {
        lent.broken = true;
    }
    let r = result?;
    let captured = stop.captured.lock().ok().and_then(|mut c| c.take());
    Ok(captured.filter(|_| r.ended == Ended::Stopped))
}

/// Bounds a whole login (the login's own timeout, then the browser's answers to
/// closing it): a browser that stops answering ends the login with an error, and is
/// not lent again, rather than holding it forever.
async fn bounded<T>(
    login: &LoginProfile,
    work: impl std::future::Future<Output = Result<T, LoginError>>,
) -> Result<T, LoginError> {
    let bound = Duration::from_secs(login.timeout.unwrap_or(30)) + Duration::from_secs(45);
    tokio::time::timeout(bound, work).await.unwrap_or_else(|_| {
        Err(LoginError::Driver(format!(
            "the browser stopped answering: the login did not end within {} s",
            bound.as_secs()
        )))
    })
}

async fn drive_in(
    c: &Arc<Chromium>,
    authorization_url: &str,
    redirect_uri: &str,
    user: Option<&User>,
    login: &LoginProfile,
    how: How,
) -> Result<AuthResponse, LoginError> {
    bounded(
        login,
        drive_in_unbounded(c, authorization_url, redirect_uri, user, login, how),
    )
    .await
}

async fn drive_in_unbounded(
    c: &Arc<Chromium>,
    authorization_url: &str,
    redirect_uri: &str,
    user: Option<&User>,
    login: &LoginProfile,
    how: How,
) -> Result<AuthResponse, LoginError> {
    let (context, page) = fresh(c).await?;
    let result = run_login(&page, authorization_url, redirect_uri, user, login, how).await;
    let _ = page.close().await;
    let _ = c.cdp.dispose_browser_context(context).await;
    if result.is_ok() {
        prepare(c).await;
    }
    result
}

async fn run_login(
    page: &Page,
    authorization_url: &str,
    redirect_uri: &str,
    user: Option<&User>,
    login: &LoginProfile,
    how: How,
) -> Result<AuthResponse, LoginError> {
    let How {
        approve,
        first_submission,
        stop,
        need_code,
    } = how;
    let cdp_err =
        |e: chromiumoxide::error::CdpError| LoginError::Driver(format!("the browser: {e}"));
    let mut allowed = vec![origin_of(authorization_url)];
    allowed.extend(login.allowed_origins.iter().map(|o| origin_of(o)));
    let pattern = |t: ResourceType, stage: RequestStage| {
        RequestPattern::builder()
            .url_pattern("*")
            .resource_type(t)
            .request_stage(stage)
            .build()
    };
    let mut patterns = vec![
        pattern(ResourceType::Document, RequestStage::Request),
        pattern(ResourceType::Document, RequestStage::Response),
        // A login page's own requests (its sign-in `fetch`): recorded.
        pattern(ResourceType::Fetch, RequestStage::Response),
        pattern(ResourceType::Xhr, RequestStage::Response),
    ];
    if stop.is_some() {
        // To stop at a submission the page makes with its own request.
        patterns.push(pattern(ResourceType::Fetch, RequestStage::Request));
        patterns.push(pattern(ResourceType::Xhr, RequestStage::Request));
    }
    let (tx, mut rx) = watch::channel(None);
    let trail: Trail = Arc::new(Mutex::new(Vec::new()));
    // Rung when the page may have changed (a request or answer seen, a page loaded):
    // the login looks at the page at once rather than at its next poll.
    let wake = Arc::new(Wake::new());
    // Listening before interception is enabled: a paused request whose event nobody
    // heard would hold the page forever.
    let events = page
        .event_listener::<EventRequestPaused>()
        .await
        .map_err(cdp_err)?;
    let watcher = tokio::spawn(intercept(
        page.clone(),
        events,
        redirect_uri.to_owned(),
        allowed,
        tx,
        trail.clone(),
        stop.clone(),
        wake.clone(),
    ));
    page.execute(EnableParams::builder().patterns(patterns).build())
        .await
        .map_err(cdp_err)?;
    let timeout = Duration::from_secs(login.timeout.unwrap_or(30));
    let deadline = tokio::time::Instant::now() + timeout;
    // A window the page opens (`window.open`, a form or link with a target) ends the
    // login: the driver signs in within this page only.
    let (popup_tx, popup_rx) = watch::channel::<Option<String>>(None);
    let loads = match page.event_listener::<EventLoadEventFired>().await {
        Ok(mut events) => {
            let wake = wake.clone();
            Some(tokio::spawn(async move {
                while events.next().await.is_some() {
                    wake.ring();
                }
            }))
        }
        Err(_) => None,
    };
    let popups = match page.event_listener::<EventWindowOpen>().await {
        Ok(mut events) => Some(tokio::spawn(async move {
            if let Some(ev) = events.next().await {
                let _ = popup_tx.send(Some(redact_url(&ev.url)));
            }
        })),
        Err(_) => None,
    };
    // Not awaited in line: a navigation whose answer the driver fails (a redirect to
    // the client or to another origin) may leave the command unanswered.
    let navigation = {
        let (page, url) = (page.clone(), authorization_url.to_owned());
        tokio::spawn(async move {
            let _ = page.execute(NavigateParams::new(url)).await;
        })
    };
    let mut page_why: Option<String> = None;
    let mut no_deny = false;
    let outcome = async {
        let mut waited_for = "the login page".to_owned();
        // After scripted steps the automatic rules only answer a consent page: the
        // steps signed in, and a field still on screen is the page's own business (its
        // request may be under way).
        let mut scripted = false;
        let posts = || {
            trail
                .lock()
                .map(|t| t.iter().filter(|x| x.method == "POST").count())
                .unwrap_or(0)
        };
        // With `first_submission`, the number of answered POSTs before the password was
        // submitted: one more is the answer to it.
        let posts_before = AtomicUsize::new(usize::MAX);
        let answered = || {
            let b = posts_before.load(Ordering::SeqCst);
            b != usize::MAX && posts() > b
        };
        if let (Some(steps), Some(user)) = (login.steps.as_ref().filter(|s| !s.is_empty()), user) {
            scripted = true;
            for step in steps {
                // The step that fills the password starts the submission whose answer
                // a `first_submission` login ends on (the click may be a later step).
                if first_submission
                    && step
                        .fill
                        .as_ref()
                        .is_some_and(|f| f[1].contains("{password}"))
                {
                    let _ = posts_before.compare_exchange(
                        usize::MAX,
                        posts(),
                        Ordering::SeqCst,
                        Ordering::SeqCst,
                    );
                }
                match scripted_step(page, step, user, deadline, &rx, &answered, &wake).await {
                    Ok(true) => return Ok(usize::MAX),
                    Ok(false) => {}
                    Err(_) if step.optional => {}
                    Err(what) => return Err(what),
                }
                if answered() {
                    return Ok(usize::MAX);
                }
            }
        }
        let mut acted: BTreeMap<String, usize> = BTreeMap::new();
        // A page the driver cannot act on (an error page), unchanged for a while once
        // loaded, ends the login as it ends the form driver's.
        let mut idle: Option<(String, tokio::time::Instant)> = None;
        let trail_len = || trail.lock().map(|t| t.len()).unwrap_or(0);
        let mut last_action: Option<(String, usize, tokio::time::Instant)> = None;
        loop {
            if rx.borrow().is_some() {
                return Ok(acted.values().sum::<usize>());
            }
            if popup_rx.borrow().is_some() {
                return Ok(usize::MAX);
            }
            let posts = posts();
            if answered() {
                return Ok(usize::MAX);
            }
            if tokio::time::Instant::now() >= deadline {
                return Err(waited_for);
            }
            let st = state(page).await;
            let consent = choose_button(&st.buttons, login, approve);
            // Asked to deny at a (parsed) consent page that can only approve.
            let cannot_deny = !approve
                && consent.is_none()
                && st.parsed
                && choose_button(&st.buttons, login, true).is_some();
            let (key, action) = if user.is_none() {
                // Nobody signs in: the login page (or an error page) is where it ends.
                waited_for = "the authorization server to send the browser on".into();
                if settled(&mut idle, &st) {
                    return Ok(usize::MAX);
                }
                (String::new(), None)
            } else if scripted && cannot_deny {
                no_deny = true;
                return Ok(usize::MAX);
            } else if scripted && consent.is_none() {
                waited_for =
                    "the page to move on after the scripted steps (a consent page, or the redirect to the client)"
                        .into();
                if settled(&mut idle, &st) {
                    page_why = Some(
                        "after the scripted steps the page offers no consent button and \
                         stopped changing"
                            .into(),
                    );
                    return Ok(usize::MAX);
                }
                (String::new(), None)
            } else if st.password {
                waited_for = "the redirect to the client after the password was submitted".into();
                let u = user.map(|u| u.username.as_str());
                let p = user.map(|u| u.password.expose());
                (
                    format!("password {}", st.url),
                    // A login and consent form in one: its approve (or deny) button.
                    Some(fill_js(
                        u,
                        p,
                        login.username_field.as_deref(),
                        login.password_field.as_deref(),
                        consent.as_deref(),
                    )),
                )
            } else if st.username && consent.is_none() {
                waited_for = "a password field after the user name was submitted".into();
                (
                    format!("username {}", st.url),
                    Some(fill_js(
                        user.map(|u| u.username.as_str()),
                        None,
                        login.username_field.as_deref(),
                        None,
                        None,
                    )),
                )
            } else if let Some(b) = consent {
                waited_for = "the redirect to the client after the consent".into();
                (format!("consent {}", st.url), Some(click_js(&b)))
            } else if cannot_deny {
                no_deny = true;
                return Ok(usize::MAX);
            } else {
                waited_for = "a password field, a user-name field or a consent button".into();
                if settled(&mut idle, &st) {
                    page_why = Some(
                        "the page shows no password field, no user-name field and no consent \
                         button, and stopped changing"
                            .into(),
                    );
                    return Ok(usize::MAX);
                }
                (String::new(), None)
            };
            // The same page again soon after acting on it: it may still be moving on
            // (its submission under way, or answered a moment ago). Acted on again
            // only once the answer came and the network stayed quiet, or after a
            // while with no answer at all (a click that did nothing).
            let too_soon = last_action.as_ref().is_some_and(|(k, len, at)| {
                *k == key
                    && (wake.quiet_for() < QUIET || (trail_len() <= *len && at.elapsed() < SETTLED))
            });
            // A page still being parsed may not have its buttons yet: acted on once
            // parsed, so that its submit button (and the value it sends) is there.
            let action = action.filter(|_| st.parsed && !too_soon);
            if let Some(js) = action {
                last_action = Some((key.clone(), trail_len(), tokio::time::Instant::now()));
                if first_submission && key.starts_with("password ") {
                    let _ = posts_before.compare_exchange(
                        usize::MAX,
                        posts,
                        Ordering::SeqCst,
                        Ordering::SeqCst,
                    );
                }
                let n = acted.entry(key).or_default();
                if *n >= 3 {
                    // The same page after three submissions (a refused password, a
                    // block): the login ends there, as the form driver's does.
                    page_why = Some(
                        "the same page came back after three submissions (a refused \
                         password, a block, or a login that loops)"
                            .into(),
                    );
                    return Ok(usize::MAX);
                }
                *n += 1;
                eval_string(page, js).await;
            }
            tokio::select! {
                _ = rx.changed() => {}
                () = wake.notify.notified() => {}
                () = tokio::time::sleep(POLL) => {}
            }
        }
    };
    let outcome = tokio::time::timeout_at(deadline + Duration::from_millis(500), outcome).await;
    navigation.abort();
    for task in [popups, loads].into_iter().flatten() {
        task.abort();
    }
    if let Some(url) = popup_rx.borrow().clone() {
        if rx.borrow().is_none() {
            watcher.abort();
            return Err(LoginError::Popup(url));
        }
    }
    // Let the last response reach the trail (when the interception ended the login,
    // everything before the end is in it already).
    if rx.borrow().is_none() {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let end = rx.borrow().clone();
    watcher.abort();
    if let Some(stop) = &stop {
        let url = stop
            .captured
            .lock()
            .ok()
            .and_then(|c| c.as_ref().map(|c| c.url.clone()));
        if let Some(url) = url {
            let cookies = cookies_for(page, &url).await;
            if let Ok(mut c) = stop.captured.lock() {
                if let Some(c) = c.as_mut() {
                    c.cookies = cookies;
                }
            }
        }
    }
    let trail: Vec<Exchange> = trail.lock().map(|t| t.clone()).unwrap_or_default();
    let settled = matches!(outcome, Ok(Ok(usize::MAX)));
    let submissions = match &outcome {
        Ok(Ok(n)) if *n != usize::MAX => *n,
        _ => 0,
    };
    match end {
        Some(end) => {
            let (params, names) = response_params(&end.location);
            let status = if end.status == 0 {
                trail.last().map_or(0, |x| x.status)
            } else {
                end.status
            };
            Ok(AuthResponse {
                ended: end.ended,
                status,
                location: end.location,
                params,
                names,
                trail,
                request_url: authorization_url.to_owned(),
                submissions,
            })
        }
        None if settled && need_code => {
            let why = page_why.unwrap_or_else(|| {
                "the login ended at this page without sending the browser to the client".into()
            });
            Err(stopped(page, why).await)
        }
        None if settled => Ok(AuthResponse {
            ended: if no_deny { Ended::NoDeny } else { Ended::Page },
            status: trail.last().map_or(0, |x| x.status),
            location: String::new(),
            params: BTreeMap::new(),
            names: Vec::new(),
            trail,
            request_url: authorization_url.to_owned(),
            submissions: 0,
        }),
        None => {
            let what = match outcome {
                Ok(Err(what)) => what,
                _ => "the login page to answer".to_owned(),
            };
            Err(failure(page, what, timeout).await)
        }
    }
}

/// The error of a login that ended at a page the driver cannot act on: its URL, why,
/// the page's text (redacted) and a screenshot.
async fn stopped(page: &Page, why: String) -> LoginError {
    let st = state(page).await;
    LoginError::BrowserStopped {
        url: redact_url(&st.url),
        why,
        excerpt: excerpt(&redact_body(&st.text), 300),
        screenshot: screenshot(page).await,
    }
}

/// The error of a login that did not end: last URL, what it waited for, the page's
/// text (redacted) and a screenshot.
async fn failure(page: &Page, waited_for: String, timeout: Duration) -> LoginError {
    let st = state(page).await;
    LoginError::Browser {
        url: redact_url(&st.url),
        waited_for,
        seconds: timeout.as_secs(),
        excerpt: excerpt(&redact_body(&st.text), 300),
        screenshot: screenshot(page).await,
    }
}

/// A PNG screenshot of the page, written next to the reports; its path.
async fn screenshot(page: &Page) -> Option<String> {
    let png = page
        .screenshot(
            ScreenshotParams::builder()
                .format(CaptureScreenshotFormat::Png)
                .full_page(true)
                .build(),
        )
        .await
        .ok()?;
    let dir = ARTIFACTS
        .lock()
        .ok()
        .and_then(|a| a.clone())
        .unwrap_or_else(std::env::temp_dir);
    let name = format!(
        "oauth2-conformance-login-{}.png",
        crate::steps::authorize::random()
            .chars()
            .take(10)
            .collect::<String>()
    );
    let path = dir.join(name);
    std::fs::write(&path, png).ok()?;
    Some(path.display().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Globs match whole URLs.
    #[test]
    fn globs() {
        assert!(glob(
            "https://as.example/login*",
            "https://as.example/login?x=1"
        ));
        assert!(glob("*/consent", "http://127.0.0.1:9/consent"));
        assert!(!glob("*/consent", "http://127.0.0.1:9/consent/x"));
        assert!(glob("http://h/?", "http://h/a"));
        assert!(!glob("http://h/", "http://h/a"));
    }

    /// The form driver's button rules.
    #[test]
    fn buttons() {
        let login = LoginProfile::default();
        let b = vec!["Deny".to_owned(), "Allow access".to_owned()];
        assert_eq!(
            choose_button(&b, &login, true).as_deref(),
            Some("Allow access")
        );
        assert_eq!(choose_button(&b, &login, false).as_deref(), Some("Deny"));
        assert_eq!(choose_button(&["Next".to_owned()], &login, true), None);
        // Whole words only: "another" holds "no", and is no refusal.
        let b = vec!["Use another account".to_owned(), "Continue".to_owned()];
        assert_eq!(choose_button(&b, &login, false), None);
        assert_eq!(choose_button(&b, &login, true).as_deref(), Some("Continue"));
        assert_eq!(
            choose_button(&["No".to_owned(), "Yes".to_owned()], &login, false).as_deref(),
            Some("No")
        );
    }
}

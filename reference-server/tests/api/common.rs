//! Test harness: a server per test, the fixture credentials, and small HTTP helpers.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use reference_server::{Config, Server, bind};
use serde_json::Value;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

mod binary;
mod checks;
pub mod wire;
pub use binary::BinaryServer;
pub use checks::*;

/// The fixtures every test server loads.
pub const SEED: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../fixtures/seed.json");

pub const BASIC_ID: &str = "basic-client";
pub const BASIC_SECRET: &str = "basic-client-secret-0123456789";
pub const POST_ID: &str = "post-client";
pub const POST_SECRET: &str = "post-client-secret-0123456789";
pub const PUBLIC_ID: &str = "public-client";
pub const SECOND_ID: &str = "second-client";
pub const SECOND_SECRET: &str = "second:secret+with%special/chars";
pub const SERVICE_ID: &str = "service-client";
pub const SERVICE_SECRET: &str = "service-client-secret-0123456789";
pub const ALICE: &str = "alice@example.com";
pub const ALICE_PASSWORD: &str = "alice-correct-horse";
pub const BOB: &str = "bob@example.com";
pub const BOB_PASSWORD: &str = "bob-battery-staple";

/// The database engine a test binary runs its servers on: the `api` binary uses
/// SQLite, `api_postgres` the same tests on PostgreSQL (see `postgres.rs`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// A fresh, empty database for one server: a SQLite file named `name` in `dir`, or a
/// new database in this process's throwaway PostgreSQL cluster. Without PostgreSQL the
/// PostgreSQL binary stops here: it fails under CI, and elsewhere says loudly that it
/// skipped every test and exits.
pub fn fresh_database(dir: &std::path::Path, name: &str) -> String {
    match crate::BACKEND {
        Backend::Sqlite => dir.join(name).display().to_string(),
        Backend::Postgres => match pg_throwaway::shared() {
            Ok(cluster) => cluster.create_database().unwrap(),
            Err(e) => {
                pg_throwaway::skip_or_panic(&e.to_string());
                eprintln!("SKIPPED: every test of the api_postgres binary (no PostgreSQL)");
                std::process::exit(0);
            }
        },
    }
}

/// A running server with its own temporary database.
pub struct TestServer {
    pub server: Option<Server>,
    pub base: String,
    pub addr: SocketAddr,
    pub http: reqwest::Client,
    pub dir: tempfile::TempDir,
    /// The `--database` value: a SQLite path or a PostgreSQL URL.
    pub database: String,
}

impl TestServer {
    /// A server with the default settings and the fixtures.
    pub async fn start() -> Self {
        Self::start_with(|_| {}).await
    }

    /// A server with settings adjusted by `f`.
    pub async fn start_with(f: impl FnOnce(&mut Config)) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let database = fresh_database(dir.path(), "test.sqlite");
        Self::start_in(dir, database, f).await
    }

    /// Another replica on this server's (PostgreSQL) database, with settings adjusted
    /// by `f`.
    pub async fn replica(&self, f: impl FnOnce(&mut Config)) -> Self {
        Self::start_on(&self.database, f).await
    }

    /// A server on an existing PostgreSQL database, with settings adjusted by `f`.
    pub async fn start_on(database: &str, f: impl FnOnce(&mut Config)) -> Self {
        assert_eq!(
            crate::BACKEND,
            Backend::Postgres,
            "replicas share PostgreSQL"
        );
        Self::start_in(tempfile::tempdir().unwrap(), database.to_owned(), f).await
    }

    async fn start_in(
        dir: tempfile::TempDir,
        database: String,
        f: impl FnOnce(&mut Config),
    ) -> Self {
        let mut config = Config::new(database.as_str());
        config.fixtures = Some(SEED.into());
        config.bcrypt_cost = 4;
        f(&mut config);
        let listener = bind("127.0.0.1:0".parse().unwrap()).await.unwrap();
        let server = Server::start(config, listener).await.unwrap();
        let addr = server.addr();
        install_tls();
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(std::time::Duration::from_secs(30))
            .build()
            .unwrap();
        Self {
            base: server.url(),
            addr,
            server: Some(server),
            http,
            dir,
            database,
        }
    }

    /// An absolute URL for a path.
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    /// POSTs a form to the token endpoint authenticating with HTTP Basic.
    pub async fn token_basic(&self, id: &str, secret: &str, form: &[(&str, &str)]) -> Reply {
        let r = self
            .http
            .post(self.url("/oauth/token"))
            .basic_auth(form_encode(id), Some(form_encode(secret)))
            .form(form)
            .send()
            .await
            .unwrap();
        Reply::read(r).await
    }

    /// POSTs a form to the token endpoint as is (credentials, if any, in the form).
    pub async fn token_form(&self, form: &[(&str, &str)]) -> Reply {
        let r = self
            .http
            .post(self.url("/oauth/token"))
            .form(form)
            .send()
            .await
            .unwrap();
        Reply::read(r).await
    }

    /// A password grant for alice with the Basic client; returns the token response.
    pub async fn alice_tokens(&self) -> Value {
        let r = self
            .token_basic(
                BASIC_ID,
                BASIC_SECRET,
                &[
                    ("grant_type", "password"),
                    ("username", ALICE),
                    ("password", ALICE_PASSWORD),
                ],
            )
            .await;
        assert_eq!(r.status, 200, "{}", r.text);
        r.json()
    }

    /// GET /api/me with a bearer token.
    pub async fn me(&self, token: &str) -> Reply {
        let r = self
            .http
            .get(self.url("/api/me"))
            .header("Authorization", format!("Bearer {token}"))
            .send()
            .await
            .unwrap();
        Reply::read(r).await
    }

    /// POST /oauth/revoke with Basic authentication.
    pub async fn revoke_basic(&self, id: &str, secret: &str, form: &[(&str, &str)]) -> Reply {
        let r = self
            .http
            .post(self.url("/oauth/revoke"))
            .basic_auth(form_encode(id), Some(form_encode(secret)))
            .form(form)
            .send()
            .await
            .unwrap();
        Reply::read(r).await
    }
}

/// application/x-www-form-urlencoded encoding of one value, as RFC 6749 §2.3.1 requires
/// for Basic credentials.
pub use oauth2_fuzz::form_encode;

/// A response read whole.
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub headers: reqwest::header::HeaderMap,
    pub text: String,
}

impl Reply {
    pub async fn read(r: reqwest::Response) -> Self {
        let status = r.status().as_u16();
        let headers = r.headers().clone();
        let text = r.text().await.unwrap();
        Self {
            status,
            headers,
            text,
        }
    }

    pub fn json(&self) -> Value {
        serde_json::from_str(&self.text).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.text))
    }

    pub fn header(&self, name: &str) -> Option<String> {
        self.headers
            .get(name)
            .map(|v| v.to_str().unwrap().to_owned())
    }

    /// The `error` member of a JSON error body.
    pub fn error(&self) -> String {
        self.json()["error"].as_str().unwrap_or_default().to_owned()
    }
}

/// The realm every challenge of a default test server carries.
pub const REALM: &str = "reference-server";

/// How a request authenticates the client (RFC 6749 §2.3).
pub use oauth2_fuzz::Auth;

/// basic-client, authenticating as registered (client_secret_basic).
pub const BASIC: Auth<'static> = Auth::Basic(BASIC_ID, BASIC_SECRET);
/// post-client, authenticating as registered (client_secret_post).
pub const POST: Auth<'static> = Auth::Post(POST_ID, POST_SECRET);
/// public-client, authenticating as registered (none).
pub const PUBLIC: Auth<'static> = Auth::Public(PUBLIC_ID);
/// second-client, authenticating as registered (client_secret_basic, encoded secret).
pub const SECOND: Auth<'static> = Auth::Basic(SECOND_ID, SECOND_SECRET);
/// service-client, authenticating as registered (client_secret_basic).
pub const SERVICE: Auth<'static> = Auth::Basic(SERVICE_ID, SERVICE_SECRET);

/// Client authentication applied to a reqwest request.
pub trait ApplyAuth {
    /// Adds the credentials to a request and sends `form` as its body.
    fn apply(&self, rb: reqwest::RequestBuilder, form: &[(&str, &str)]) -> reqwest::RequestBuilder;
}

impl ApplyAuth for Auth<'_> {
    fn apply(&self, rb: reqwest::RequestBuilder, form: &[(&str, &str)]) -> reqwest::RequestBuilder {
        let mut pairs: Vec<(String, String)> = form
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        let rb = match *self {
            Auth::Basic(id, secret) => rb.basic_auth(form_encode(id), Some(form_encode(secret))),
            Auth::Post(id, secret) => {
                pairs.push(("client_id".into(), id.into()));
                pairs.push(("client_secret".into(), secret.into()));
                rb
            }
            Auth::Public(id) => {
                pairs.push(("client_id".into(), id.into()));
                rb
            }
            Auth::Nothing => rb,
        };
        rb.form(&pairs)
    }
}

impl TestServer {
    /// The SQLite file this server uses (SQLite-only tests).
    pub fn db_path(&self) -> PathBuf {
        assert_eq!(crate::BACKEND, Backend::Sqlite, "a SQLite-only test");
        self.dir.path().join("test.sqlite")
    }

    /// A connection pool on the server's database (read-only with SQLite). Queries
    /// number their parameters (`$1`), which both engines read.
    pub async fn db(&self) -> sqlx::AnyPool {
        sqlx::any::install_default_drivers();
        let url = match crate::BACKEND {
            Backend::Sqlite => {
                let options = sqlx::sqlite::SqliteConnectOptions::new()
                    .filename(self.db_path())
                    .read_only(true);
                sqlx::ConnectOptions::to_url_lossy(&options).to_string()
            }
            Backend::Postgres => self.database.clone(),
        };
        sqlx::any::AnyPoolOptions::new()
            .max_connections(1)
            .acquire_timeout(Duration::from_secs(10))
            .connect(&url)
            .await
            .unwrap()
    }

    /// POSTs a form to `path` with the given client authentication.
    pub async fn post_form(&self, path: &str, auth: Auth<'_>, form: &[(&str, &str)]) -> Reply {
        let rb = auth.apply(self.http.post(self.url(path)), form);
        Reply::read(rb.send().await.unwrap()).await
    }

    /// POSTs a form to the token endpoint.
    pub async fn token(&self, auth: Auth<'_>, form: &[(&str, &str)]) -> Reply {
        self.post_form("/oauth/token", auth, form).await
    }

    /// POSTs a form to the revocation endpoint.
    pub async fn revoke(&self, auth: Auth<'_>, form: &[(&str, &str)]) -> Reply {
        self.post_form("/oauth/revoke", auth, form).await
    }

    /// A password grant request; `scope` is sent only when given.
    pub async fn password(
        &self,
        auth: Auth<'_>,
        user: &str,
        password: &str,
        scope: Option<&str>,
    ) -> Reply {
        let mut form = vec![
            ("grant_type", "password"),
            ("username", user),
            ("password", password),
        ];
        if let Some(scope) = scope {
            form.push(("scope", scope));
        }
        self.token(auth, &form).await
    }

    /// A successful password grant for alice; panics unless it is a 200.
    pub async fn alice(&self, auth: Auth<'_>) -> Reply {
        let r = self.password(auth, ALICE, ALICE_PASSWORD, None).await;
        assert_eq!(r.status, 200, "{}", r.text);
        r
    }

    /// A refresh request; `scope` is sent only when given.
    pub async fn refresh(&self, auth: Auth<'_>, refresh_token: &str, scope: Option<&str>) -> Reply {
        let mut form = vec![
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh_token),
        ];
        if let Some(scope) = scope {
            form.push(("scope", scope));
        }
        self.token(auth, &form).await
    }

    /// A client credentials request; `scope` is sent only when given.
    pub async fn client_credentials(&self, auth: Auth<'_>, scope: Option<&str>) -> Reply {
        let mut form = vec![("grant_type", "client_credentials")];
        if let Some(scope) = scope {
            form.push(("scope", scope));
        }
        self.token(auth, &form).await
    }

    /// POST /api/me with the token as a form-body `access_token` (RFC 6750 §2.2).
    pub async fn me_form(&self, token: &str) -> Reply {
        let r = self
            .http
            .post(self.url("/api/me"))
            .form(&[("access_token", token)])
            .send()
            .await
            .unwrap();
        Reply::read(r).await
    }

    /// Sends a request with a raw body and extra headers; the content type is whatever
    /// `headers` says (none if it says nothing).
    pub async fn send_raw(
        &self,
        method: reqwest::Method,
        path: &str,
        headers: &[(&str, &str)],
        body: impl Into<reqwest::Body>,
    ) -> Reply {
        let mut rb = self.http.request(method, self.url(path)).body(body);
        for (k, v) in headers {
            rb = rb.header(*k, *v);
        }
        Reply::read(rb.send().await.unwrap()).await
    }

    /// Writes `request` as is on a new TCP connection and reads until the server closes
    /// it (send `Connection: close`). Write errors are ignored: the server may answer and
    /// close before it has read everything.
    pub async fn raw(&self, request: &[u8]) -> RawReply {
        let exchange = async {
            let mut stream = tokio::net::TcpStream::connect(self.addr).await.unwrap();
            let _ = stream.write_all(request).await;
            let mut buf = Vec::new();
            let mut chunk = [0u8; 16 * 1024];
            loop {
                match stream.read(&mut chunk).await {
                    Ok(0) | Err(_) => break,
                    Ok(n) => buf.extend_from_slice(&chunk[..n]),
                }
            }
            buf
        };
        let buf = tokio::time::timeout(Duration::from_secs(30), exchange)
            .await
            .expect("the raw exchange timed out");
        RawReply::parse(&buf)
    }
}

/// A response read from a raw TCP exchange.
#[derive(Debug)]
pub struct RawReply {
    /// The status code (0 when the server answered nothing).
    pub status: u16,
    /// The response head, lower-cased.
    pub head: String,
    /// The body bytes, as sent (not de-chunked).
    pub body: Vec<u8>,
}

impl RawReply {
    fn parse(buf: &[u8]) -> Self {
        let split = buf.windows(4).position(|w| w == b"\r\n\r\n");
        let (head, body) = match split {
            Some(i) => (&buf[..i], buf[i + 4..].to_vec()),
            None => (buf, Vec::new()),
        };
        let head = String::from_utf8_lossy(head).to_ascii_lowercase();
        let status = head
            .split(' ')
            .nth(1)
            .and_then(|s| s.parse().ok())
            .unwrap_or(0);
        Self { status, head, body }
    }

    /// The body as JSON.
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| {
            panic!(
                "not JSON ({e}): {}\n{}",
                self.head,
                String::from_utf8_lossy(&self.body)
            )
        })
    }
}

impl Reply {
    /// The `access_token` of a token response.
    pub fn access_token(&self) -> String {
        self.json()["access_token"]
            .as_str()
            .unwrap_or_else(|| panic!("no access_token: {}", self.text))
            .to_owned()
    }

    /// The `refresh_token` of a token response.
    pub fn refresh_token(&self) -> String {
        self.json()["refresh_token"]
            .as_str()
            .unwrap_or_else(|| panic!("no refresh_token: {}", self.text))
            .to_owned()
    }

    /// The `scope` of a token response.
    pub fn scope(&self) -> String {
        self.json()["scope"]
            .as_str()
            .unwrap_or_else(|| panic!("no scope: {}", self.text))
            .to_owned()
    }

    /// The media type of the body, without parameters.
    pub fn media_type(&self) -> String {
        media_type_of(self.header("content-type"))
    }
}

/// The media type of a `Content-Type` value, without parameters, lower-cased.
pub fn media_type_of(content_type: Option<String>) -> String {
    content_type
        .unwrap_or_default()
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase()
}

/// Installs the TLS crypto provider reqwest needs in this workspace (its
/// `rustls-no-provider` feature, chosen for the conformance runner's https targets), once.
pub fn install_tls() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let _ = rustls::crypto::ring::default_provider().install_default();
    });
}

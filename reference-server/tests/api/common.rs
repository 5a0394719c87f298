//! Test harness: a server per test, the fixture credentials, and small HTTP helpers.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::net::SocketAddr;

use reference_server::{Config, Server, bind};
use serde_json::Value;

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

/// A running server with its own temporary database.
pub struct TestServer {
    pub server: Option<Server>,
    pub base: String,
    pub addr: SocketAddr,
    pub http: reqwest::Client,
    pub dir: tempfile::TempDir,
}

impl TestServer {
    /// A server with the default settings and the fixtures.
    pub async fn start() -> Self {
        Self::start_with(|_| {}).await
    }

    /// A server with settings adjusted by `f`.
    pub async fn start_with(f: impl FnOnce(&mut Config)) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let mut config = Config::new(dir.path().join("test.sqlite"));
        config.fixtures = Some(SEED.into());
        config.bcrypt_cost = 4;
        f(&mut config);
        let listener = bind("127.0.0.1:0".parse().unwrap()).await.unwrap();
        let server = Server::start(config, listener).await.unwrap();
        let addr = server.addr();
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
pub fn form_encode(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'*' => {
                out.push(b as char)
            }
            b' ' => out.push('+'),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

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

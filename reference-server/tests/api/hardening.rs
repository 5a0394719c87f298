//! Hardening beyond the letter of the RFCs: the body limit, content types, malformed
//! input, odd requests that must never cause a 5xx, and what the database keeps.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use reqwest::Method;

use crate::common::*;

const LIMIT: usize = 64 * 1024;
const FORM: &str = "application/x-www-form-urlencoded";

/// The `Authorization` value of basic-client.
fn basic_header() -> String {
    format!(
        "Basic {}",
        STANDARD.encode(format!("{BASIC_ID}:{BASIC_SECRET}"))
    )
}

/// A client_credentials form body padded with an unknown parameter to exactly `len` bytes.
fn padded_form(len: usize) -> Vec<u8> {
    let mut body = b"grant_type=client_credentials&pad=".to_vec();
    body.resize(len, b'a');
    body
}

/// A raw chunked POST of `body` to the token endpoint in 8 KiB chunks, as basic-client.
fn chunked_request(s: &TestServer, body: &[u8]) -> Vec<u8> {
    let mut req = format!(
        "POST /oauth/token HTTP/1.1\r\nHost: {}\r\nAuthorization: {}\r\nContent-Type: {FORM}\r\n\
         Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n",
        s.addr,
        basic_header()
    )
    .into_bytes();
    for chunk in body.chunks(8 * 1024) {
        req.extend_from_slice(format!("{:x}\r\n", chunk.len()).as_bytes());
        req.extend_from_slice(chunk);
        req.extend_from_slice(b"\r\n");
    }
    req.extend_from_slice(b"0\r\n\r\n");
    req
}

/// Deterministic pseudo-random bytes.
fn noise(len: usize, mut seed: u32) -> Vec<u8> {
    (0..len)
        .map(|_| {
            seed ^= seed << 13;
            seed ^= seed >> 17;
            seed ^= seed << 5;
            seed.to_le_bytes()[0]
        })
        .collect()
}

/// A body of exactly 64 KiB is read and processed (200).
#[tokio::test]
async fn body_at_the_limit_is_processed() {
    let s = TestServer::start().await;
    let r = s
        .send_raw(
            Method::POST,
            "/oauth/token",
            &[("content-type", FORM), ("authorization", &basic_header())],
            padded_form(LIMIT),
        )
        .await;
    assert_token_ok(&r);
}

/// A body over 64 KiB with Content-Length is refused with 413 at every endpoint.
#[tokio::test]
async fn body_over_the_limit_is_413() {
    let s = TestServer::start().await;
    for path in ["/oauth/token", "/oauth/revoke", "/api/me"] {
        let r = s
            .send_raw(
                Method::POST,
                path,
                &[("content-type", FORM), ("authorization", &basic_header())],
                padded_form(LIMIT + 1),
            )
            .await;
        assert_eq!(r.status, 413, "{path}: {r:?}");
        if path != "/api/me" {
            assert_eq!(r.error(), "invalid_request", "{path}: {r:?}");
            assert_no_store(&r);
        }
    }
}

/// A chunked body under the limit is read and processed (200).
#[tokio::test]
async fn chunked_body_under_the_limit_is_processed() {
    let s = TestServer::start().await;
    let r = s.raw(&chunked_request(&s, &padded_form(20 * 1024))).await;
    assert_eq!(r.status, 200, "{r:?}");
}

/// A chunked body over 64 KiB (no Content-Length) is refused with 413.
#[tokio::test]
async fn chunked_body_over_the_limit_is_413() {
    let s = TestServer::start().await;
    let r = s
        .raw(&chunked_request(&s, &padded_form(LIMIT + 8 * 1024)))
        .await;
    assert_eq!(r.status, 413, "{r:?}");
    assert_eq!(r.json()["error"], "invalid_request", "{r:?}");
    assert!(r.head.contains("\r\ncache-control: no-store\r\n"), "{r:?}");
}

/// A JSON body, no content type, or text/plain is invalid_request; a form type with charset is fine.
#[tokio::test]
async fn wrong_content_type_is_invalid_request() {
    let s = TestServer::start().await;
    let auth = basic_header();
    let json = r#"{"grant_type":"client_credentials"}"#;
    let form = "grant_type=client_credentials";
    for (ct, body) in [
        (Some("application/json"), json),
        (Some("text/plain"), form),
        (Some("multipart/form-data; boundary=x"), form),
        (None, form),
    ] {
        let mut headers = vec![("authorization", auth.as_str())];
        if let Some(ct) = ct {
            headers.push(("content-type", ct));
        }
        let r = s
            .send_raw(Method::POST, "/oauth/token", &headers, body.to_owned())
            .await;
        assert_oauth_error(&r, 400, "invalid_request");
    }
    let r = s
        .send_raw(
            Method::POST,
            "/oauth/token",
            &[
                ("authorization", auth.as_str()),
                (
                    "content-type",
                    "application/x-www-form-urlencoded; charset=UTF-8",
                ),
            ],
            form.to_owned(),
        )
        .await;
    assert_token_ok(&r);
}

/// Broken percent-encoding and invalid UTF-8 in a form body are invalid_request at the token and revocation endpoints.
#[tokio::test]
async fn malformed_form_bodies_are_invalid_request() {
    let s = TestServer::start().await;
    let auth = basic_header();
    let bodies: [&[u8]; 6] = [
        b"grant_type=client_credentials&scope=%zz",
        b"grant_type=client_credentials&scope=%4",
        b"grant_type=client_credentials&scope=%",
        b"grant_type=client_credentials&scope=%e9",
        b"grant_type=client_credentials&scope=\xff\xfe",
        b"grant_type=client_credentials&%C3%28=x",
    ];
    for path in ["/oauth/token", "/oauth/revoke"] {
        for body in bodies {
            let r = s
                .send_raw(
                    Method::POST,
                    path,
                    &[("content-type", FORM), ("authorization", &auth)],
                    body.to_vec(),
                )
                .await;
            assert_oauth_error(&r, 400, "invalid_request");
        }
    }
}

/// A broken query string is invalid_request at the token endpoint and at /api/me.
#[tokio::test]
async fn malformed_query_is_invalid_request() {
    let s = TestServer::start().await;
    let r = s
        .token_basic(
            BASIC_ID,
            BASIC_SECRET,
            &[("grant_type", "client_credentials")],
        )
        .await;
    assert_token_ok(&r);
    let at = s.alice(BASIC).await.access_token();
    let rb = BASIC.apply(
        s.http.post(s.url("/oauth/token?x=%zz")),
        &[("grant_type", "client_credentials")],
    );
    let r = Reply::read(rb.send().await.unwrap()).await;
    assert_oauth_error(&r, 400, "invalid_request");
    let r = s
        .http
        .get(s.url("/api/me?x=%ff"))
        .bearer_auth(&at)
        .send()
        .await
        .unwrap();
    assert_bearer_error(&Reply::read(r).await, 400, Some("invalid_request"));
}

/// A broken form body at /api/me is invalid_request.
#[tokio::test]
async fn malformed_resource_body_is_invalid_request() {
    let s = TestServer::start().await;
    let r = s
        .send_raw(
            Method::POST,
            "/api/me",
            &[("content-type", FORM)],
            b"access_token=%zz".to_vec(),
        )
        .await;
    assert_bearer_error(&r, 400, Some("invalid_request"));
}

/// Unknown paths are 404.
#[tokio::test]
async fn unknown_path_is_404() {
    let s = TestServer::start().await;
    for (method, path) in [
        (Method::GET, "/"),
        (Method::GET, "/nope"),
        (Method::POST, "/oauth/tokens"),
        (Method::POST, "/oauth"),
        (Method::GET, "/api/me/extra"),
        (Method::GET, "/api/you"),
    ] {
        let r = s.send_raw(method.clone(), path, &[], Vec::new()).await;
        assert_eq!(r.status, 404, "{method} {path}: {r:?}");
    }
}

/// None of a batch of odd requests (huge headers, binary bodies, odd methods, garbage credentials) gets a 5xx.
#[tokio::test]
async fn odd_requests_never_cause_5xx() {
    let s = TestServer::start().await;
    let at = s.alice(BASIC).await.access_token();
    let paths = ["/oauth/token", "/oauth/revoke", "/api/me", "/elsewhere"];
    let mut replies: Vec<(String, u16)> = Vec::new();

    for path in paths {
        for method in [
            Method::PUT,
            Method::DELETE,
            Method::PATCH,
            Method::OPTIONS,
            Method::HEAD,
            Method::GET,
            Method::from_bytes(b"BREW").unwrap(),
        ] {
            let r = s.send_raw(method.clone(), path, &[], Vec::new()).await;
            replies.push((format!("{method} {path}"), r.status));
        }
        for (i, ct) in [FORM, "application/octet-stream", "application/json"]
            .into_iter()
            .enumerate()
        {
            for len in [1, 100, 4096, 60_000] {
                let body = noise(len, 0x9E37_79B9 ^ (len as u32) ^ (i as u32));
                let r = s
                    .send_raw(
                        Method::POST,
                        path,
                        &[("content-type", ct), ("authorization", &basic_header())],
                        body,
                    )
                    .await;
                replies.push((format!("POST {path} {ct} {len} binary bytes"), r.status));
            }
        }
        let big = "x".repeat(32 * 1024);
        let garbage_utf8 = format!("Basic {}", STANDARD.encode([0xff, 0xfe, b':', 0xc3]));
        let many_colons = format!("Basic {}", STANDARD.encode("a:b:c:d"));
        let long_basic = format!("Basic {}", STANDARD.encode("x".repeat(20_000)));
        let long_bearer = format!("Bearer {}", "A".repeat(30_000));
        for auth in [
            "Basic ",
            "Basic ====",
            garbage_utf8.as_str(),
            many_colons.as_str(),
            long_basic.as_str(),
            long_bearer.as_str(),
            "Bearer",
            "Digest username=\"x\"",
            ",,,",
        ] {
            let rb = s
                .http
                .post(s.url(path))
                .header("authorization", auth)
                .form(&[("grant_type", "client_credentials"), ("token", "x")]);
            let r = Reply::read(rb.send().await.unwrap()).await;
            replies.push((format!("POST {path} Authorization {auth:.30}"), r.status));
        }
        let rb = s
            .http
            .post(s.url(path))
            .header("authorization", &b"Basic \xff\xfe\x80"[..])
            .header("x-huge", big.as_str())
            .header("user-agent", big.as_str())
            .form(&[("grant_type", "client_credentials")]);
        let r = Reply::read(rb.send().await.unwrap()).await;
        replies.push((format!("POST {path} huge headers"), r.status));
    }
    let huge = format!(
        "GET /api/me HTTP/1.1\r\nHost: x\r\nX-Huge: {}\r\nConnection: close\r\n\r\n",
        "y".repeat(512 * 1024)
    );
    let r = s.raw(huge.as_bytes()).await;
    replies.push(("GET /api/me 512 KiB header".into(), r.status));
    let r = s
        .raw(b"POST /oauth/token HTTP/1.1\r\nHost: x\r\nContent-Length: nope\r\nConnection: close\r\n\r\n")
        .await;
    replies.push(("bad Content-Length".into(), r.status));

    let server_errors: Vec<_> = replies.iter().filter(|(_, st)| *st >= 500).collect();
    assert!(server_errors.is_empty(), "5xx answers: {server_errors:#?}");
    // The server still serves.
    assert_eq!(s.me(&at).await.status, 200);
}

/// No issued token, client secret or user password is stored in plain text anywhere in the database files.
#[tokio::test]
async fn database_holds_no_plain_tokens_or_secrets() {
    let s = TestServer::start().await;
    let first = s.alice(BASIC).await;
    let second = s.refresh(BASIC, &first.refresh_token(), None).await;
    assert_token_ok(&second);
    let public = s.alice(PUBLIC).await;
    let post = s.password(POST, BOB, BOB_PASSWORD, None).await;
    assert_token_ok(&post);
    let service = s.client_credentials(SERVICE, None).await;
    assert_token_ok(&service);
    let revoked = s.alice(SECOND).await;
    assert_eq!(
        s.revoke(SECOND, &[("token", &revoked.refresh_token())])
            .await
            .status,
        200
    );

    let mut needles: Vec<(String, String)> = Vec::new();
    for (name, r) in [
        ("first", &first),
        ("second", &second),
        ("public", &public),
        ("post", &post),
        ("revoked", &revoked),
    ] {
        needles.push((format!("{name} access token"), r.access_token()));
        needles.push((format!("{name} refresh token"), r.refresh_token()));
    }
    needles.push(("service access token".into(), service.access_token()));
    for secret in [BASIC_SECRET, POST_SECRET, SECOND_SECRET, SERVICE_SECRET] {
        needles.push(("client secret".into(), secret.to_owned()));
    }
    for password in [ALICE_PASSWORD, BOB_PASSWORD] {
        needles.push(("user password".into(), password.to_owned()));
    }

    let mut haystack = Vec::new();
    if crate::BACKEND == Backend::Sqlite {
        for suffix in ["", "-wal", "-shm", "-journal"] {
            let path = format!("{}{suffix}", s.db_path().display());
            if let Ok(bytes) = std::fs::read(&path) {
                haystack.extend_from_slice(&bytes);
                haystack.extend_from_slice(b"\n--\n");
            }
        }
    } else {
        // PostgreSQL's files are the cluster's; every row as text is what it stores.
        let db = s.db().await;
        for table in ["users", "clients", "grants", "tokens", "codes"] {
            let rows: Vec<String> = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
                "SELECT CAST(t AS TEXT) FROM {table} t"
            )))
            .fetch_all(&db)
            .await
            .unwrap();
            for row in rows {
                haystack.extend_from_slice(row.as_bytes());
                haystack.extend_from_slice(b"\n");
            }
        }
    }
    let contains = |needle: &[u8]| haystack.windows(needle.len()).any(|w| w == needle);
    // The scan does see what the database stores.
    assert!(
        contains(SECOND_ID.as_bytes()),
        "the scan reads no client rows"
    );
    assert!(contains(BOB.as_bytes()), "the scan reads no user rows");
    for (what, value) in &needles {
        assert!(
            !contains(value.as_bytes()),
            "{what} found in plain text in the database files"
        );
    }
}

/// The tokens table holds exactly the SHA-256 digests of the issued tokens, and clients only the digests of their secrets.
#[tokio::test]
async fn database_holds_only_digests() {
    let s = TestServer::start().await;
    let first = s.alice(BASIC).await;
    let second = s.refresh(BASIC, &first.refresh_token(), None).await;
    assert_token_ok(&second);
    let service = s.client_credentials(SERVICE, None).await;
    assert_token_ok(&service);
    let issued = [
        first.access_token(),
        first.refresh_token(),
        second.access_token(),
        second.refresh_token(),
        service.access_token(),
    ];
    let expected: BTreeSet<Vec<u8>> = issued
        .iter()
        .map(|t| reference_server::secret::digest(t))
        .collect();

    let db = s.db().await;
    let stored: Vec<Vec<u8>> = sqlx::query_scalar("SELECT digest FROM tokens")
        .fetch_all(&db)
        .await
        .unwrap();
    assert!(stored.iter().all(|d| d.len() == 32), "digests are 32 bytes");
    let stored: BTreeSet<Vec<u8>> = stored.into_iter().collect();
    assert_eq!(stored, expected);

    for (id, secret) in [
        (BASIC_ID, Some(BASIC_SECRET)),
        (POST_ID, Some(POST_SECRET)),
        (SECOND_ID, Some(SECOND_SECRET)),
        (SERVICE_ID, Some(SERVICE_SECRET)),
        (PUBLIC_ID, None),
    ] {
        let digest: Option<Vec<u8>> =
            sqlx::query_scalar("SELECT secret_digest FROM clients WHERE client_id = $1")
                .bind(id)
                .fetch_one(&db)
                .await
                .unwrap();
        assert_eq!(digest, secret.map(reference_server::secret::digest), "{id}");
    }
    for (email, password) in [(ALICE, ALICE_PASSWORD), (BOB, BOB_PASSWORD)] {
        let hash: String = sqlx::query_scalar("SELECT password_hash FROM users WHERE email = $1")
            .bind(email)
            .fetch_one(&db)
            .await
            .unwrap();
        assert!(hash.starts_with("$2"), "{email}: not a bcrypt hash");
        assert!(bcrypt::verify(password, &hash).unwrap(), "{email}");
    }
}

/// The background purge deletes expired access tokens and keeps live refresh tokens (bounded wait of 5 s).
#[tokio::test]
async fn purge_deletes_expired_tokens() {
    let s = TestServer::start_with(|c| {
        c.access_token_ttl = 1;
        c.refresh_token_ttl = Some(3600);
        c.purge_interval = Duration::from_millis(200);
    })
    .await;
    let mut refresh_tokens = Vec::new();
    for _ in 0..3 {
        refresh_tokens.push(s.alice(BASIC).await.refresh_token());
    }
    let db = s.db().await;
    let count = |kind: &'static str| {
        let db = db.clone();
        async move {
            sqlx::query_scalar::<_, i64>("SELECT count(*) FROM tokens WHERE kind = $1")
                .bind(kind)
                .fetch_one(&db)
                .await
                .unwrap()
        }
    };
    let deadline = Instant::now() + Duration::from_secs(5);
    while count("access").await > 0 {
        assert!(
            Instant::now() < deadline,
            "expired access tokens still stored after 5 s"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(count("refresh").await, 3, "live refresh tokens were purged");
    let grants: i64 = sqlx::query_scalar("SELECT count(*) FROM grants")
        .fetch_one(&db)
        .await
        .unwrap();
    assert_eq!(grants, 3, "grants with live tokens were purged");
    assert_token_ok(&s.refresh(BASIC, &refresh_tokens[0], None).await);
}

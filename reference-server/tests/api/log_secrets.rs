//! No secret in the logs: the binary runs with `RUST_LOG=trace` (every target,
//! dependencies included) through every flow and error path, and its whole output is
//! searched for every token, code, client secret, password, PKCE verifier and CSRF
//! token it issued or was sent, in plain, form-encoded and HTTP Basic forms.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

use crate::common::wire::{Conn, WireRequest, WireResponse};
use crate::common::*;
use crate::login::{BASIC_CALLBACK, Browser, Callback, PUBLIC_CALLBACK, hidden, s256};

/// Everything secret a run used or saw.
#[derive(Default)]
struct Secrets(Vec<String>);

impl Secrets {
    /// Adds a secret with its encodings: form-encoded, and as the Basic credentials of
    /// `client_id` when it is a client secret.
    fn add(&mut self, s: &str) {
        assert!(s.len() >= 8, "too short to search for: {s:?}");
        self.0.push(s.to_owned());
        self.0.push(form_encode(s));
    }

    fn client(&mut self, id: &str, secret: &str) {
        self.add(secret);
        for pair in [
            format!("{}:{}", form_encode(id), form_encode(secret)),
            format!("{id}:{secret}"),
        ] {
            self.0.push(STANDARD.encode(&pair));
            self.0.push(pair);
        }
    }

    /// Adds the tokens of a §5.1 response.
    fn tokens(&mut self, r: &WireResponse) -> (String, String) {
        assert_eq!(r.status, 200, "{r:?}");
        let v = r.json();
        let at = v["access_token"].as_str().unwrap().to_owned();
        let rt = v["refresh_token"].as_str().unwrap_or_default().to_owned();
        self.add(&at);
        if !rt.is_empty() {
            self.add(&rt);
        }
        (at, rt)
    }
}

fn post(path: &str, auth: Auth<'_>, form: &[(&str, &str)]) -> WireRequest {
    WireRequest::post_form(path, auth, form)
}

/// Signs in through the login form (reading the CSRF token from the page) and returns
/// the code.
async fn login(base: &str, params: &[(&str, &str)], secrets: &mut Secrets) -> String {
    let b = Browser::at(base);
    let page = b.open(params).await;
    secrets.add(&hidden(&page.text, "csrf_token").unwrap());
    // A wrong password first: the page comes back with a new CSRF token.
    let retry = b
        .answer(
            &page,
            Some(ALICE),
            Some("wrong-password-for-the-log"),
            "approve",
        )
        .await;
    assert_eq!(retry.status, 200, "{retry:?}");
    secrets.add(&hidden(&retry.text, "csrf_token").unwrap());
    let r = b
        .answer(&retry, Some(ALICE), Some(ALICE_PASSWORD), "approve")
        .await;
    let code = Callback::from_reply(&r).code();
    secrets.add(&code);
    code
}

/// With RUST_LOG=trace, the server's output through every flow and error path holds none of the tokens, codes, client secrets, passwords, PKCE verifiers or CSRF tokens it saw, in any encoding.
#[tokio::test]
async fn trace_logs_hold_no_secret() {
    let dir = tempfile::tempdir().unwrap();
    let mut server = BinaryServer::spawn(
        fresh_database(dir.path(), "db.sqlite"),
        &dir.path().join("log"),
        "trace",
    )
    .await;
    let mut c = Conn::new(server.addr);
    let mut secrets = Secrets::default();
    for (id, secret) in [
        (BASIC_ID, BASIC_SECRET),
        (POST_ID, POST_SECRET),
        (SECOND_ID, SECOND_SECRET),
        (SERVICE_ID, SERVICE_SECRET),
    ] {
        secrets.client(id, secret);
    }
    for p in [
        ALICE_PASSWORD,
        BOB_PASSWORD,
        "wrong-password-for-the-log",
        "wrong-client-secret-xyz",
    ] {
        secrets.add(p);
    }
    let password = |user, pw| {
        [
            ("grant_type", "password"),
            ("username", user),
            ("password", pw),
        ]
    };

    // Password grants (§4.3) with Basic, post and public clients; client credentials (§4.4).
    let (at, rt) = secrets.tokens(
        &c.send(&post(
            "/oauth/token",
            BASIC,
            &password(ALICE, ALICE_PASSWORD),
        ))
        .await,
    );
    let (bob_at, bob_rt) = secrets.tokens(
        &c.send(&post("/oauth/token", POST, &password(BOB, BOB_PASSWORD)))
            .await,
    );
    secrets.tokens(
        &c.send(&post(
            "/oauth/token",
            PUBLIC,
            &password(ALICE, ALICE_PASSWORD),
        ))
        .await,
    );
    let (service_at, _) = secrets.tokens(
        &c.send(&post(
            "/oauth/token",
            SERVICE,
            &[("grant_type", "client_credentials")],
        ))
        .await,
    );
    // Refresh (§6); the rotated token is replayed with the error paths below.
    fn refresh(t: &str) -> [(&'static str, &str); 2] {
        [("grant_type", "refresh_token"), ("refresh_token", t)]
    }
    let (at2, rt2) = secrets.tokens(&c.send(&post("/oauth/token", BASIC, &refresh(&rt))).await);

    // Code + PKCE through the login form, the CSRF pair and its cookie (§4.1, RFC 7636).
    let verifier = "log-verifier-0123456789-abcdefghijklmnopqrstuvwxyz";
    secrets.add(verifier);
    let challenge = s256(verifier);
    let code = login(
        &server.base,
        &[
            ("response_type", "code"),
            ("client_id", PUBLIC_ID),
            ("redirect_uri", PUBLIC_CALLBACK),
            ("code_challenge", &challenge),
            ("code_challenge_method", "S256"),
        ],
        &mut secrets,
    )
    .await;
    let redeem = [
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("redirect_uri", PUBLIC_CALLBACK),
        ("code_verifier", verifier),
    ];
    secrets.tokens(&c.send(&post("/oauth/token", PUBLIC, &redeem)).await);
    // A confidential client's code, redeemed twice (the second revokes, §4.1.2).
    let code = login(
        &server.base,
        &[
            ("response_type", "code"),
            ("client_id", BASIC_ID),
            ("redirect_uri", BASIC_CALLBACK),
        ],
        &mut secrets,
    )
    .await;
    let redeem = [
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("redirect_uri", BASIC_CALLBACK),
    ];
    secrets.tokens(&c.send(&post("/oauth/token", BASIC, &redeem)).await);
    assert_eq!(
        c.send(&post("/oauth/token", BASIC, &redeem)).await.status,
        400
    );

    // Introspection (RFC 7662), the resource (RFC 6750) in header, body and query.
    for t in [&at2, &rt2, &service_at, &bob_at] {
        assert_eq!(
            c.send(&post("/oauth/introspect", SECOND, &[("token", t)]))
                .await
                .status,
            200
        );
    }
    let me = WireRequest::get("/api/me").header("authorization", format!("Bearer {at2}"));
    assert_eq!(c.send(&me).await.status, 200);
    assert_eq!(
        c.send(&post("/api/me", Auth::Nothing, &[("access_token", &at2)]))
            .await
            .status,
        200
    );
    assert_eq!(
        c.send(&WireRequest::get(&format!("/api/me?access_token={at2}")))
            .await
            .status,
        400
    );
    // Revocation (RFC 7009) of an access and a refresh token.
    assert_eq!(
        c.send(&post("/oauth/revoke", BASIC, &[("token", &at)]))
            .await
            .status,
        200
    );
    assert_eq!(
        c.send(&post("/oauth/revoke", POST, &[("token", &bob_rt)]))
            .await
            .status,
        200
    );

    // Error paths: wrong passwords and secrets, credentials in the query, garbage.
    let wrong = Auth::Basic(BASIC_ID, "wrong-client-secret-xyz");
    assert_eq!(
        c.send(&post(
            "/oauth/token",
            BASIC,
            &password(ALICE, "wrong-password-for-the-log")
        ))
        .await
        .status,
        400
    );
    assert_eq!(
        c.send(&post(
            "/oauth/token",
            wrong,
            &password(ALICE, ALICE_PASSWORD)
        ))
        .await
        .status,
        401
    );
    assert_eq!(
        c.send(&post("/oauth/introspect", wrong, &[("token", &at2)]))
            .await
            .status,
        401
    );
    let query = format!(
        "/oauth/token?client_id={BASIC_ID}&client_secret={}",
        form_encode(BASIC_SECRET)
    );
    let mut in_query = post(
        "/oauth/token",
        Auth::Nothing,
        &[("grant_type", "client_credentials")],
    );
    in_query.target = query.into_bytes();
    assert_eq!(c.send(&in_query).await.status, 400);
    let garbage =
        WireRequest::get("/api/me").header("authorization", format!("Bearer {at2}\u{1}x"));
    assert!(c.send(&garbage).await.status < 500);

    // A replay of the rotated refresh token (revokes the family).
    assert_eq!(
        c.send(&post("/oauth/token", BASIC, &refresh(&rt)))
            .await
            .status,
        400
    );

    server.terminate().await;
    let log = server.log_text();
    let lines = log.lines().count();
    // Proof that the run logged verbosely: the server's own trace events and the
    // dependencies' debug events (every SQL statement) are there.
    assert!(
        log.contains("TRACE reference_server"),
        "no trace-level line: logging was off"
    );
    assert!(
        log.contains("DEBUG sqlx::query"),
        "no dependency debug line: logging was off"
    );
    assert!(lines > 100, "only {lines} log lines");
    for s in &secrets.0 {
        assert!(
            !log.contains(s.as_str()),
            "a secret ({} chars) is in the log",
            s.len()
        );
    }
    println!(
        "log secrets: {lines} log lines scanned for {} secret forms",
        secrets.0.len()
    );
}

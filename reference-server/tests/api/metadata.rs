//! Authorization server metadata (RFC 8414 §2, §3) and whether it tells the truth: every
//! advertised grant, method and endpoint works (M6), disabled ones are not advertised.

use serde_json::Value;

use crate::common::*;
use crate::login::*;

/// GET a metadata path; returns the reply.
async fn get(s: &TestServer, path: &str) -> Reply {
    Reply::read(s.http.get(s.url(path)).send().await.unwrap()).await
}

/// The strings of an array member; panics when absent or not an array of strings.
fn strings(md: &Value, member: &str) -> Vec<String> {
    md[member]
        .as_array()
        .unwrap_or_else(|| panic!("{member} is not an array: {md}"))
        .iter()
        .map(|v| v.as_str().unwrap().to_owned())
        .collect()
}

/// Every array in a JSON document, with its path.
fn arrays<'a>(v: &'a Value, path: String, out: &mut Vec<(String, &'a Vec<Value>)>) {
    match v {
        Value::Array(a) => {
            for (i, x) in a.iter().enumerate() {
                arrays(x, format!("{path}[{i}]"), out);
            }
            out.push((path, a));
        }
        Value::Object(o) => {
            for (k, x) in o {
                arrays(x, format!("{path}.{k}"), out);
            }
        }
        _ => {}
    }
}

/// M5: no member is an empty array.
fn assert_no_empty_arrays(md: &Value) {
    let mut all = Vec::new();
    arrays(md, String::new(), &mut all);
    for (path, a) in all {
        assert!(!a.is_empty(), "{path} is an empty array");
    }
}

/// The document is 200 application/json at /.well-known/oauth-authorization-server (M1).
#[tokio::test]
async fn metadata_is_json_at_well_known() {
    let s = TestServer::start().await;
    let r = get(&s, "/.well-known/oauth-authorization-server").await;
    assert_eq!(r.status, 200, "{}", r.text);
    let ct = r.header("content-type").unwrap();
    assert_eq!(
        ct.split(';').next().unwrap().trim(),
        "application/json",
        "{ct}"
    );
    assert!(r.json().is_object());
}

/// issuer equals the server's, has no query or fragment, and builds the metadata URL (M2).
#[tokio::test]
async fn issuer_matches_server_and_url() {
    let s = TestServer::start().await;
    let md = metadata(&s).await;
    let iss = md["issuer"].as_str().unwrap();
    assert_eq!(iss, issuer(&s));
    assert_eq!(iss, s.base);
    assert!(!iss.contains('?') && !iss.contains('#'), "{iss}");
    // No path in the issuer: the well-known suffix goes right after the host.
    let url = format!(
        "{}/.well-known/oauth-authorization-server",
        iss.trim_end_matches('/')
    );
    let r = Reply::read(s.http.get(&url).send().await.unwrap()).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.json()["issuer"], iss);
}

/// The required members are present and every endpoint lives under the issuer (M3, R8).
#[tokio::test]
async fn required_members_present() {
    let s = TestServer::start().await;
    let md = metadata(&s).await;
    let iss = md["issuer"].as_str().unwrap();
    for member in [
        "authorization_endpoint",
        "token_endpoint",
        "revocation_endpoint",
        "introspection_endpoint",
    ] {
        let url = md[member].as_str().unwrap_or_else(|| panic!("no {member}"));
        assert!(url.starts_with(iss), "{member}: {url}");
        assert!(!url.contains('#'), "{member}: {url}");
    }
    assert_eq!(
        md["authorization_endpoint"],
        format!("{iss}/oauth/authorize")
    );
    assert_eq!(md["token_endpoint"], format!("{iss}/oauth/token"));
    assert_eq!(md["revocation_endpoint"], format!("{iss}/oauth/revoke"));
    assert_eq!(
        md["introspection_endpoint"],
        format!("{iss}/oauth/introspect")
    );
    assert_eq!(strings(&md, "response_types_supported"), ["code"]);
}

/// Client authentication methods are listed per endpoint; introspection omits none (I2).
#[tokio::test]
async fn auth_methods_advertised() {
    let s = TestServer::start().await;
    let md = metadata(&s).await;
    let all = ["client_secret_basic", "client_secret_post", "none"];
    assert_eq!(strings(&md, "token_endpoint_auth_methods_supported"), all);
    assert_eq!(
        strings(&md, "revocation_endpoint_auth_methods_supported"),
        all
    );
    let introspection = strings(&md, "introspection_endpoint_auth_methods_supported");
    assert!(introspection.contains(&"client_secret_basic".to_owned()));
    assert!(
        !introspection.contains(&"none".to_owned()),
        "{introspection:?}"
    );
}

/// PKCE methods and the RFC 9207 iss flag are advertised (R36, R67).
#[tokio::test]
async fn pkce_and_iss_advertised() {
    let s = TestServer::start().await;
    let md = metadata(&s).await;
    assert!(strings(&md, "code_challenge_methods_supported").contains(&"S256".to_owned()));
    assert_eq!(md["authorization_response_iss_parameter_supported"], true);
}

/// No member is an empty array, whatever is switched off (M5; RFC 8414 §3.2).
#[tokio::test]
async fn no_empty_arrays() {
    let s = TestServer::start().await;
    assert_no_empty_arrays(&metadata(&s).await);
    let s = TestServer::start_with(|c| {
        c.password_grant = false;
        c.pkce_plain = false;
    })
    .await;
    assert_no_empty_arrays(&metadata(&s).await);
}

/// Runs one advertised grant end to end; panics for a grant this suite cannot run.
async fn run_grant(s: &TestServer, grant: &str) {
    match grant {
        "authorization_code" => {
            let code = basic_code(s).await;
            tokens(&redeem_basic(s, &code, &[("redirect_uri", BASIC_CALLBACK)]).await);
        }
        "password" => {
            let r = s
                .token_basic(
                    BASIC_ID,
                    BASIC_SECRET,
                    &[
                        ("grant_type", "password"),
                        ("username", BOB),
                        ("password", BOB_PASSWORD),
                    ],
                )
                .await;
            let t = tokens(&r);
            assert_eq!(
                s.me(t["access_token"].as_str().unwrap()).await.json()["email"],
                BOB
            );
        }
        "client_credentials" => {
            let r = s
                .token_basic(
                    SERVICE_ID,
                    SERVICE_SECRET,
                    &[("grant_type", "client_credentials")],
                )
                .await;
            tokens(&r);
        }
        "refresh_token" => {
            let code = basic_code(s).await;
            let t = tokens(&redeem_basic(s, &code, &[("redirect_uri", BASIC_CALLBACK)]).await);
            let rt = t["refresh_token"].as_str().unwrap();
            tokens(&refresh_basic(s, BASIC_ID, BASIC_SECRET, rt).await);
        }
        other => panic!("the server advertises grant {other:?}, which this suite cannot run"),
    }
}

/// Every grant in grant_types_supported works (M6).
#[tokio::test]
async fn every_advertised_grant_works() {
    let s = TestServer::start().await;
    let grants = strings(&metadata(&s).await, "grant_types_supported");
    assert!(
        grants.contains(&"authorization_code".to_owned()),
        "{grants:?}"
    );
    for g in &grants {
        run_grant(&s, g).await;
    }
}

/// Every token-endpoint authentication method advertised works (M6).
#[tokio::test]
async fn every_advertised_auth_method_works() {
    let s = TestServer::start().await;
    for method in strings(&metadata(&s).await, "token_endpoint_auth_methods_supported") {
        let r = match method.as_str() {
            "client_secret_basic" => {
                s.token_basic(
                    BASIC_ID,
                    BASIC_SECRET,
                    &[("grant_type", "client_credentials")],
                )
                .await
            }
            "client_secret_post" => {
                s.token_form(&[
                    ("grant_type", "client_credentials"),
                    ("client_id", POST_ID),
                    ("client_secret", POST_SECRET),
                ])
                .await
            }
            "none" => {
                let code = public_code(&s, VERIFIER).await;
                redeem_public(&s, &code, &[("code_verifier", VERIFIER)]).await
            }
            other => panic!("advertised auth method {other:?} cannot be run"),
        };
        tokens(&r);
    }
}

/// Every advertised revocation and introspection authentication method works (M6).
#[tokio::test]
async fn every_advertised_revocation_and_introspection_method_works() {
    let s = TestServer::start().await;
    let md = metadata(&s).await;
    for method in strings(&md, "revocation_endpoint_auth_methods_supported") {
        let (at, r) = match method.as_str() {
            "client_secret_basic" => {
                let t = s.alice_tokens().await;
                let at = t["access_token"].as_str().unwrap().to_owned();
                let r = s
                    .revoke_basic(BASIC_ID, BASIC_SECRET, &[("token", &at)])
                    .await;
                (at, r)
            }
            "client_secret_post" => {
                let t = tokens(
                    &s.token_form(&[
                        ("grant_type", "password"),
                        ("username", ALICE),
                        ("password", ALICE_PASSWORD),
                        ("client_id", POST_ID),
                        ("client_secret", POST_SECRET),
                    ])
                    .await,
                );
                let at = t["access_token"].as_str().unwrap().to_owned();
                let form = [
                    ("token", at.as_str()),
                    ("client_id", POST_ID),
                    ("client_secret", POST_SECRET),
                ];
                let r = Reply::read(
                    s.http
                        .post(s.url("/oauth/revoke"))
                        .form(&form)
                        .send()
                        .await
                        .unwrap(),
                )
                .await;
                (at, r)
            }
            "none" => {
                let code = public_code(&s, VERIFIER).await;
                let t = tokens(&redeem_public(&s, &code, &[("code_verifier", VERIFIER)]).await);
                let at = t["access_token"].as_str().unwrap().to_owned();
                let form = [("token", at.as_str()), ("client_id", PUBLIC_ID)];
                let r = Reply::read(
                    s.http
                        .post(s.url("/oauth/revoke"))
                        .form(&form)
                        .send()
                        .await
                        .unwrap(),
                )
                .await;
                (at, r)
            }
            other => panic!("advertised revocation auth method {other:?} cannot be run"),
        };
        assert_eq!(r.status, 200, "{method}: {}", r.text);
        assert_eq!(s.me(&at).await.status, 401, "{method}: token still works");
    }
    for method in strings(&md, "introspection_endpoint_auth_methods_supported") {
        let t = s.alice_tokens().await;
        let at = t["access_token"].as_str().unwrap();
        let r = match method.as_str() {
            "client_secret_basic" => {
                introspect_basic(&s, BASIC_ID, BASIC_SECRET, &[("token", at)]).await
            }
            "client_secret_post" => {
                introspect_form(
                    &s,
                    &[
                        ("token", at),
                        ("client_id", POST_ID),
                        ("client_secret", POST_SECRET),
                    ],
                )
                .await
            }
            other => panic!("advertised introspection auth method {other:?} cannot be run"),
        };
        assert_eq!(r.status, 200, "{method}: {}", r.text);
        assert_eq!(r.json()["active"], true, "{method}");
    }
}

/// Every advertised scope can be requested and is granted (M6).
#[tokio::test]
async fn every_advertised_scope_works() {
    let s = TestServer::start().await;
    for scope in strings(&metadata(&s).await, "scopes_supported") {
        let code = code_for(
            &s,
            &[
                ("response_type", "code"),
                ("client_id", BASIC_ID),
                ("redirect_uri", BASIC_CALLBACK),
                ("scope", &scope),
            ],
        )
        .await;
        let t = tokens(&redeem_basic(&s, &code, &[("redirect_uri", BASIC_CALLBACK)]).await);
        assert_eq!(t["scope"], scope.as_str());
    }
}

/// Every advertised PKCE method works (M6).
#[tokio::test]
async fn every_advertised_pkce_method_works() {
    let s = TestServer::start().await;
    for method in strings(&metadata(&s).await, "code_challenge_methods_supported") {
        let challenge = match method.as_str() {
            "S256" => s256(VERIFIER),
            "plain" => VERIFIER.to_owned(),
            other => panic!("advertised PKCE method {other:?} cannot be run"),
        };
        let code = code_for(
            &s,
            &[
                ("response_type", "code"),
                ("client_id", PUBLIC_ID),
                ("redirect_uri", PUBLIC_CALLBACK),
                ("code_challenge", &challenge),
                ("code_challenge_method", &method),
            ],
        )
        .await;
        tokens(&redeem_public(&s, &code, &[("code_verifier", VERIFIER)]).await);
    }
}

/// With password off it is not advertised and is unsupported_grant_type (R71, M6).
#[tokio::test]
async fn password_grant_disabled_is_not_advertised() {
    let s = TestServer::start_with(|c| c.password_grant = false).await;
    let grants = strings(&metadata(&s).await, "grant_types_supported");
    assert!(!grants.contains(&"password".to_owned()), "{grants:?}");
    let r = s
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
    assert_token_error(&r, "unsupported_grant_type");
    for g in &grants {
        run_grant(&s, g).await;
    }
}

/// By default the password grant is advertised (and works, see above).
#[tokio::test]
async fn password_grant_advertised_by_default() {
    let s = TestServer::start().await;
    let grants = strings(&metadata(&s).await, "grant_types_supported");
    assert!(grants.contains(&"password".to_owned()), "{grants:?}");
}

/// An issuer with a path is served at the inserted well-known path (M1, M2; RFC 8414 §3.1).
#[tokio::test]
async fn issuer_with_path_served_at_inserted_path() {
    let s = TestServer::start_with(|c| c.issuer = Some("https://as.example/tenant".into())).await;
    let r = get(&s, "/.well-known/oauth-authorization-server/tenant").await;
    assert_eq!(r.status, 200, "{}", r.text);
    let ct = r.header("content-type").unwrap();
    assert_eq!(
        ct.split(';').next().unwrap().trim(),
        "application/json",
        "{ct}"
    );
    let md = r.json();
    assert_eq!(md["issuer"], "https://as.example/tenant");
    assert_eq!(
        md["authorization_endpoint"],
        "https://as.example/tenant/oauth/authorize"
    );
    assert_eq!(
        md["token_endpoint"],
        "https://as.example/tenant/oauth/token"
    );
}

/// A terminating "/" of the issuer path is dropped from the metadata path (RFC 8414 §3.1).
#[tokio::test]
async fn issuer_trailing_slash_removed_from_metadata_path() {
    let s = TestServer::start_with(|c| c.issuer = Some("https://as.example/tenant/".into())).await;
    let r = get(&s, "/.well-known/oauth-authorization-server/tenant").await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.json()["issuer"], "https://as.example/tenant/");
}

/// An https issuer is reported as configured and iss in the redirect repeats it (M2, R36).
#[tokio::test]
async fn configured_issuer_is_used_for_iss() {
    let s = TestServer::start_with(|c| c.issuer = Some("https://as.example".into())).await;
    let md = Reply::read(
        s.http
            .get(s.url("/.well-known/oauth-authorization-server"))
            .send()
            .await
            .unwrap(),
    )
    .await
    .json();
    assert_eq!(md["issuer"], "https://as.example");
    let cb = approve(
        &s,
        &[
            ("response_type", "code"),
            ("client_id", BASIC_ID),
            ("redirect_uri", BASIC_CALLBACK),
        ],
    )
    .await;
    assert_eq!(cb.get("iss"), Some("https://as.example"));
}

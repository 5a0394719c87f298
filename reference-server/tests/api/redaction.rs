//! `Debug` output of every server type that carries a secret (a failing run or a log
//! line may print it) shows no secret.

use reference_server::fixtures::Seed;
use reference_server::grant::client_auth::Presented;
use reference_server::grant::params::Params;
use reference_server::grant::scope::Scope;
use reference_server::grant::token::TokenRequest;
use reference_server::http::Request;
use reference_server::model::{AuthMethod, Client, User};
use reference_server::secret::Secret;
use reference_server::store::codes::Redemption;
use reference_server::store::tokens::NewToken;
use warp::http::header::{AUTHORIZATION, COOKIE};
use warp::http::{HeaderMap, HeaderValue, Method};

const S: &str = "s3cret-value-0123456789";

/// Debug of requests, redemptions, presented credentials, token requests, parameters, secrets, users, clients and the seed never shows the secret they hold.
#[test]
fn debug_output_redacts_every_secret() {
    let mut headers = HeaderMap::new();
    headers.insert(
        AUTHORIZATION,
        HeaderValue::from_str(&format!("Bearer {S}")).unwrap(),
    );
    headers.insert(
        COOKIE,
        HeaderValue::from_str(&format!("oauth_csrf={S}")).unwrap(),
    );
    let request = Request {
        method: Method::POST,
        path: "/oauth/token".into(),
        query: format!("access_token={S}"),
        headers,
        remote: None,
        body: format!("password={S}&client_secret={S}").into(),
    };
    let access = NewToken {
        digest: vec![1, 2, 3],
        expires_at: 0,
    };
    let redemption = Redemption {
        digest: &[1, 2, 3],
        client_id: "c",
        redirect_uri: None,
        verifier: Some(S),
        access: &access,
        refresh: None,
    };
    let presented = Presented {
        client_id: "c".into(),
        method: AuthMethod::ClientSecretBasic,
        secret: Some(Secret::new(S)),
    };
    let token_requests = [
        TokenRequest::Password {
            username: "u".into(),
            password: Secret::new(S),
            scope: None,
        },
        TokenRequest::RefreshToken {
            refresh_token: Secret::new(S),
            scope: None,
        },
        TokenRequest::AuthorizationCode {
            code: Secret::new(S),
            redirect_uri: None,
            code_verifier: Some(Secret::new(S)),
        },
    ];
    let params = Params::parse(format!("client_secret={S}&password={S}").as_bytes()).unwrap();
    let user = User {
        id: 1,
        email: "u@example.com".into(),
        password_hash: S.into(),
        first_name: String::new(),
        last_name: String::new(),
    };
    let client = Client {
        id: "c".into(),
        secret_digest: Some(S.as_bytes().to_vec()),
        name: "C".into(),
        uri: None,
        grant_types: vec![],
        redirect_uris: vec![],
        response_types: vec![],
        scope: Scope::default(),
        auth_method: AuthMethod::ClientSecretBasic,
        access_token_ttl: None,
    };
    let seed: Seed = serde_json::from_value(serde_json::json!({
        "users": [{"email": "u@example.com", "password": S}],
        "clients": [{
            "client_id": "c", "client_secret": S, "client_name": "C",
            "grant_types": [], "scope": "", "token_endpoint_auth_method": "client_secret_basic"
        }]
    }))
    .unwrap();

    let outputs = [
        format!("{request:?}"),
        format!("{redemption:?}"),
        format!("{presented:?}"),
        format!("{token_requests:?}"),
        format!("{params:?}"),
        format!("{:?}", Secret::new(S)),
        format!("{user:?}"),
        format!("{client:?}"),
        format!("{seed:?}"),
    ];
    for o in &outputs {
        assert!(!o.contains("s3cret"), "a secret in Debug output: {o}");
    }
    // The outputs are real descriptions, not empty strings.
    assert!(outputs[0].contains("/oauth/token") && outputs[0].contains("authorization"));
    assert!(outputs[1].contains("[redacted]"));
}

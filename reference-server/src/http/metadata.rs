//! `GET /.well-known/oauth-authorization-server` (RFC 8414): what this server offers,
//! listing exactly what works with the current settings.

use serde_json::{Value, json};
use warp::http::StatusCode;
use warp::reply::Response;

use super::respond::json as json_response;
use crate::State;
use crate::grant::scope::SUPPORTED;

/// The metadata path for the issuer: "/.well-known/oauth-authorization-server" inserted
/// between the host and the issuer's path (RFC 8414 §3.1).
pub fn path_for(issuer: &str) -> String {
    let after_scheme = issuer.split_once("://").map_or(issuer, |(_, rest)| rest);
    let path = after_scheme.find('/').map_or("", |i| &after_scheme[i..]);
    let path = path.trim_end_matches('/');
    format!("/.well-known/oauth-authorization-server{path}")
}

/// The metadata document.
pub fn document(state: &State) -> Value {
    let issuer = state.issuer.trim_end_matches('/');
    let endpoint = |p: &str| format!("{issuer}{p}");
    let mut grants = vec!["authorization_code"];
    if state.config.password_grant {
        grants.push("password");
    }
    grants.extend(["client_credentials", "refresh_token"]);
    let mut pkce = vec!["S256"];
    if state.config.pkce_plain {
        pkce.push("plain");
    }
    let mut doc = json!({
        "issuer": state.issuer,
        "authorization_endpoint": endpoint("/oauth/authorize"),
        "token_endpoint": endpoint("/oauth/token"),
        "revocation_endpoint": endpoint("/oauth/revoke"),
        "introspection_endpoint": endpoint("/oauth/introspect"),
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "grant_types_supported": grants,
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "none"],
        "revocation_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "none"],
        "introspection_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
        "code_challenge_methods_supported": pkce,
        "scopes_supported": SUPPORTED,
        "authorization_response_iss_parameter_supported": true,
        "pushed_authorization_request_endpoint": endpoint("/oauth/par"),
    });
    // RFC 9126 §5: "If omitted, the default value is false."
    if state.config.require_par {
        doc["require_pushed_authorization_requests"] = json!(true);
    }
    doc
}

/// Serves the document.
pub fn handle(state: &State) -> Response {
    json_response(StatusCode::OK, &document(state))
}

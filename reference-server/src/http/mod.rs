//! The HTTP edge: one warp filter that reads every request into a [`Request`] (with a
//! body limit) and dispatches by path to the endpoint handlers, one file per endpoint.

mod authorize;
mod error;
mod introspect;
mod metadata;
mod pages;
mod par;
mod resource;
mod respond;
mod revoke;
mod script;
mod signin;
mod token;

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

use bytes::{Bytes, BytesMut};
use futures_util::StreamExt as _;
use warp::Filter;
use warp::http::header::{ALLOW, AUTHORIZATION, CONTENT_LENGTH, CONTENT_TYPE};
use warp::http::{HeaderMap, Method, StatusCode};
use warp::reply::Response;

pub use error::{HttpError, clean_description, oauth_error_response};

use crate::State;
use crate::config::LoginUi;
use crate::grant::OAuthError;
use crate::grant::params::{Params, ParamsError, printable_name};

/// One request as the handlers see it. `Debug` shows header names and the body's
/// length only: values carry credentials (Authorization, the CSRF cookie, passwords).
pub struct Request {
    /// The method.
    pub method: Method,
    /// The path, without the query.
    pub path: String,
    /// The raw query string (empty when there is none).
    pub query: String,
    /// The headers.
    pub headers: HeaderMap,
    /// The peer's address.
    pub remote: Option<SocketAddr>,
    /// The whole body (at most the configured limit).
    pub body: Bytes,
}

impl std::fmt::Debug for Request {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Request")
            .field("method", &self.method)
            .field("path", &self.path)
            .field("query", &"[redacted]")
            .field("headers", &self.headers.keys().collect::<Vec<_>>())
            .field("remote", &self.remote)
            .field("body_len", &self.body.len())
            .finish()
    }
}

impl Request {
    /// The single value of a header. `Err` when the header is repeated.
    pub fn single_header(
        &self,
        name: &warp::http::HeaderName,
    ) -> Result<Option<&[u8]>, OAuthError> {
        let mut values = self.headers.get_all(name).iter();
        let first = values.next();
        if values.next().is_some() {
            return Err(OAuthError::invalid_request(format!(
                "the {name} header is repeated"
            )));
        }
        Ok(first.map(|v| v.as_bytes()))
    }

    /// The Authorization header, refused when repeated.
    pub fn authorization(&self) -> Result<Option<&[u8]>, OAuthError> {
        self.single_header(&AUTHORIZATION)
    }

    /// Whether the body is declared `application/x-www-form-urlencoded` (parameters such
    /// as `charset` allowed).
    pub fn is_form(&self) -> bool {
        self.headers
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
            .is_some_and(|m| {
                m.trim()
                    .eq_ignore_ascii_case("application/x-www-form-urlencoded")
            })
    }

    /// The form body of a POST to an OAuth endpoint: the content type must be
    /// `application/x-www-form-urlencoded` (RFC 6749 §3.2, RFC 7009 §2.1).
    pub fn form(&self) -> Result<Params, OAuthError> {
        if !self.is_form() {
            return Err(OAuthError::invalid_request(
                "the request body must be application/x-www-form-urlencoded",
            ));
        }
        Params::parse(&self.body).map_err(params_error)
    }

    /// The query parameters.
    pub fn query_params(&self) -> Result<Params, OAuthError> {
        Params::parse(self.query.as_bytes()).map_err(params_error)
    }
}

/// Turns a parameter parsing failure into `invalid_request`.
pub fn params_error(e: ParamsError) -> OAuthError {
    match e {
        ParamsError::Malformed => OAuthError::invalid_request(
            "the parameters are not valid application/x-www-form-urlencoded UTF-8",
        ),
        ParamsError::Repeated(name) => OAuthError::invalid_request(format!(
            "the {} parameter is included more than once",
            printable_name(&name)
        )),
    }
}

/// Every route of the server.
pub fn routes(
    state: Arc<State>,
) -> impl Filter<Extract = (Response,), Error = Infallible> + Clone + Send + Sync + 'static {
    // A request target without a path (authority-form such as `CONNECT host:port`, or
    // `POST *;x=1`, which parses as one) makes warp 0.4.3's `path::full()` panic with
    // http >= 1.4.1 (warp issue #1166). No endpoint lives at an empty path or at "/",
    // which are the only two that reach here, so both are answered 404 before that
    // filter runs.
    let no_path = warp::path::end().map(|| {
        tracing::info!(status = 404, "request to \"/\" or without a path");
        not_found()
    });
    let endpoints = warp::method()
        .and(warp::path::full())
        .and(warp::query::raw().or(warp::any().map(String::new)).unify())
        .and(warp::header::headers_cloned())
        .and(warp::addr::remote())
        .and(warp::body::stream())
        .then(
            move |method, path: warp::path::FullPath, query, headers, remote, body| {
                let state = state.clone();
                async move {
                    let started = Instant::now();
                    let path = path.as_str().to_owned();
                    tracing::trace!(method = %method, path = %path, "request received");
                    let log_method = Method::clone(&method);
                    let read = read_body(body, &headers, state.config.body_limit).await;
                    let response = match read {
                        Ok(body) => {
                            let req = Request {
                                method,
                                path: path.clone(),
                                query,
                                headers,
                                remote,
                                body,
                            };
                            dispatch(&state, req).await
                        }
                        Err(e) => unreadable(&state, &path, e),
                    };
                    tracing::info!(
                        method = %log_method,
                        path = %path,
                        status = response.status().as_u16(),
                        micros = u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX),
                        "request"
                    );
                    response
                }
            },
        );
    no_path
        .or(endpoints)
        .unify()
        .recover(|_rejection: warp::Rejection| async {
            Ok::<_, Infallible>(too_large_or_bad(
                StatusCode::BAD_REQUEST,
                "the request could not be read",
            ))
        })
        .unify()
}

/// 404 for a path no endpoint serves.
fn not_found() -> Response {
    respond::json(
        StatusCode::NOT_FOUND,
        &serde_json::json!({"error": "not_found", "error_description": "no such endpoint"}),
    )
}

/// Why a request body was not read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyError {
    /// Over the configured limit: 413.
    TooLarge,
    /// The connection failed mid-body: 400.
    Unreadable,
}

/// The refusal of an unread body, in the error format of the endpoint it was sent to.
fn unreadable(state: &State, path: &str, e: BodyError) -> Response {
    if path == "/api/me" {
        return resource::body_error(e, &state.config.realm);
    }
    if script_ui(state, path) {
        return script::body_error(e);
    }
    if path == "/oauth/authorize" {
        return match e {
            BodyError::TooLarge => {
                pages::error_page(StatusCode::PAYLOAD_TOO_LARGE, "The request is too large.")
            }
            BodyError::Unreadable => {
                pages::error_page(StatusCode::BAD_REQUEST, "The request could not be read.")
            }
        };
    }
    match e {
        BodyError::TooLarge => too_large_or_bad(
            StatusCode::PAYLOAD_TOO_LARGE,
            "the request body is too large",
        ),
        BodyError::Unreadable => too_large_or_bad(
            StatusCode::BAD_REQUEST,
            "the request body could not be read",
        ),
    }
}

async fn read_body<S, B>(stream: S, headers: &HeaderMap, limit: usize) -> Result<Bytes, BodyError>
where
    S: futures_util::Stream<Item = Result<B, warp::Error>>,
    B: warp::Buf,
{
    let declared = headers
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit as u64) {
        return Err(BodyError::TooLarge);
    }
    let mut stream = std::pin::pin!(stream);
    let mut buf = BytesMut::new();
    while let Some(chunk) = stream.next().await {
        let mut chunk = chunk.map_err(|_| BodyError::Unreadable)?;
        if buf.len() + chunk.remaining() > limit {
            return Err(BodyError::TooLarge);
        }
        while chunk.has_remaining() {
            let part = chunk.chunk();
            buf.extend_from_slice(part);
            let n = part.len();
            chunk.advance(n);
        }
    }
    Ok(buf.freeze())
}

fn too_large_or_bad(status: StatusCode, description: &str) -> Response {
    respond::no_store(respond::json(
        status,
        &serde_json::json!({"error": "invalid_request", "error_description": description}),
    ))
}

async fn dispatch(state: &State, req: Request) -> Response {
    match req.path.as_str() {
        "/oauth/authorize" => authorize::handle(state, &req).await,
        "/oauth/token" => token::handle(state, &req).await,
        "/oauth/introspect" => introspect::handle(state, &req).await,
        "/oauth/revoke" => revoke::handle(state, &req).await,
        "/oauth/par" => par::handle(state, &req).await,
        "/api/me" => resource::handle(state, &req).await,
        p if script_ui(state, p) => script::handle(state, &req).await,
        p if p == metadata::path_for(&state.issuer) => {
            if req.method == Method::GET || req.method == Method::HEAD {
                metadata::handle(state)
            } else {
                method_not_allowed("GET")
            }
        }
        _ => not_found(),
    }
}

/// Whether `path` is one of the script login UI's, served only with that UI.
fn script_ui(state: &State, path: &str) -> bool {
    state.config.login_ui == LoginUi::Script && script::serves(path)
}

/// 405 for an OAuth endpoint, with `Allow` and an §5.2-shaped body.
pub fn method_not_allowed(allow: &'static str) -> Response {
    let r = respond::no_store(respond::json(
        StatusCode::METHOD_NOT_ALLOWED,
        &serde_json::json!({
            "error": "invalid_request",
            "error_description": format!("this endpoint accepts {allow} only"),
        }),
    ));
    respond::with_header(r, ALLOW, allow)
}

//! Small response builders shared by the handlers.

use warp::Reply as _;
use warp::http::StatusCode;
use warp::http::header::{CACHE_CONTROL, HeaderName, HeaderValue, PRAGMA};
use warp::reply::Response;

/// A JSON response with a status.
pub fn json<T: serde::Serialize>(status: StatusCode, value: &T) -> Response {
    warp::reply::with_status(warp::reply::json(value), status).into_response()
}

/// A JSON response with an explicit media type (for example `application/vnd.api+json`).
pub fn json_as<T: serde::Serialize>(
    status: StatusCode,
    value: &T,
    media_type: &'static str,
) -> Response {
    let mut r = json(status, value);
    r.headers_mut().insert(
        warp::http::header::CONTENT_TYPE,
        HeaderValue::from_static(media_type),
    );
    r
}

/// Adds `Cache-Control: no-store` and `Pragma: no-cache` (RFC 6749 §5.1: "The
/// authorization server MUST include the HTTP "Cache-Control" response header field
/// with a value of "no-store" in any response containing tokens, credentials, or other
/// sensitive information, as well as the "Pragma" response header field with a value
/// of "no-cache".").
pub fn no_store(mut r: Response) -> Response {
    r.headers_mut()
        .insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    r.headers_mut()
        .insert(PRAGMA, HeaderValue::from_static("no-cache"));
    r
}

/// Sets a header whose value was built by the server (never from raw input).
pub fn with_header(mut r: Response, name: HeaderName, value: &str) -> Response {
    if let Ok(v) = HeaderValue::from_str(value) {
        r.headers_mut().insert(name, v);
    }
    r
}

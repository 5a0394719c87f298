//! A request as it goes on the wire: method, target, headers and body kept as raw
//! bytes, so that anything byte-level (invalid UTF-8, broken framing, odd header bytes)
//! can be expressed; and the client authentication of RFC 6749 §2.3.

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use sha2::{Digest as _, Sha256};

/// The longest request target the http crate represents (`u16::MAX - 1`); longer ones
/// are 414 from hyper, and reqwest cannot send them at all.
pub const MAX_URI: usize = 65_534;

/// How a request authenticates the client (RFC 6749 §2.3).
#[derive(Debug, Clone, Copy)]
pub enum Auth<'a> {
    /// HTTP Basic with the form-urlencoded id and secret (`client_secret_basic`).
    Basic(&'a str, &'a str),
    /// `client_id` and `client_secret` in the body (`client_secret_post`).
    Post(&'a str, &'a str),
    /// `client_id` only in the body (`none`, a public client).
    Public(&'a str),
    /// No client credentials at all.
    Nothing,
}

/// A request ready to be written.
#[derive(Debug, Clone)]
pub struct Request {
    /// The method token as sent.
    pub method: String,
    /// Path and query as sent on the request line.
    pub target: Vec<u8>,
    /// Header names and raw values (Host and the framing header are added on the wire).
    pub headers: Vec<(String, Vec<u8>)>,
    /// The body.
    pub body: Vec<u8>,
    /// Send the body with `Transfer-Encoding: chunked` instead of `Content-Length`.
    pub chunked: bool,
    /// Whole raw bytes sent instead of the above (framing garbage), on a fresh
    /// connection that is closed afterwards.
    pub garbage: Option<Vec<u8>>,
    /// Send through a client library (reqwest) when it can express the request.
    pub via_reqwest: bool,
}

/// `application/x-www-form-urlencoded` encoding of one component (space as `+`).
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

/// An `application/x-www-form-urlencoded` string, in the given order.
pub fn query(pairs: &[(&str, &str)]) -> String {
    pairs
        .iter()
        .map(|(k, v)| format!("{}={}", form_encode(k), form_encode(v)))
        .collect::<Vec<_>>()
        .join("&")
}

/// The PKCE S256 challenge of a verifier (RFC 7636 §4.2).
pub fn s256(verifier: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
}

/// An `Authorization: Basic` value with the form-urlencoded id and secret (§2.3.1).
pub fn basic(id: &str, secret: &str) -> Vec<u8> {
    format!(
        "Basic {}",
        STANDARD.encode(format!("{}:{}", form_encode(id), form_encode(secret)))
    )
    .into_bytes()
}

impl Request {
    /// A GET of `target`.
    pub fn get(target: &str) -> Self {
        Self {
            method: "GET".into(),
            target: target.as_bytes().to_vec(),
            headers: Vec::new(),
            body: Vec::new(),
            chunked: false,
            garbage: None,
            via_reqwest: false,
        }
    }

    /// A form POST to `path`, authenticated as `auth` says (RFC 6749 §2.3).
    pub fn post_form(path: &str, auth: Auth<'_>, form: &[(&str, &str)]) -> Self {
        let mut form = form.to_vec();
        let mut headers = vec![(
            "content-type".to_owned(),
            b"application/x-www-form-urlencoded".to_vec(),
        )];
        match auth {
            Auth::Basic(id, secret) => headers.push(("authorization".into(), basic(id, secret))),
            Auth::Post(id, secret) => {
                form.push(("client_id", id));
                form.push(("client_secret", secret));
            }
            Auth::Public(id) => form.push(("client_id", id)),
            Auth::Nothing => {}
        }
        Self {
            method: "POST".into(),
            target: path.as_bytes().to_vec(),
            headers,
            body: query(&form).into_bytes(),
            chunked: false,
            garbage: None,
            via_reqwest: false,
        }
    }

    /// Adds a header.
    pub fn header(mut self, name: &str, value: impl Into<Vec<u8>>) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// The value of a header of the request, as text.
    pub fn header_value(&self, name: &str) -> Option<String> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| String::from_utf8_lossy(v).into_owned())
    }

    /// The path of the target, without the query.
    pub fn path(&self) -> &[u8] {
        self.target.split(|b| *b == b'?').next().unwrap_or_default()
    }

    /// Whether a client library (the http crate's types, as reqwest uses them) can
    /// express this request unchanged.
    pub fn library_can_send(&self) -> bool {
        // reqwest normalises a path (dot segments, absolute form): only plain ones go.
        let path = self.path();
        self.garbage.is_none()
            && self.target.len() < MAX_URI
            && path.starts_with(b"/")
            && !path.windows(2).any(|w| w == b"/.")
            && !self.chunked
            && http::Method::from_bytes(self.method.as_bytes()).is_ok()
            && self
                .target
                .iter()
                .all(|b| b.is_ascii_graphic() && *b != b'#')
            && self.headers.iter().all(|(k, v)| {
                http::header::HeaderName::from_bytes(k.as_bytes()).is_ok()
                    && http::header::HeaderValue::from_bytes(v).is_ok()
                    && !k.eq_ignore_ascii_case("host")
                    && !k.eq_ignore_ascii_case("content-length")
                    && !k.eq_ignore_ascii_case("transfer-encoding")
                    && !k.eq_ignore_ascii_case("connection")
                    && !k.eq_ignore_ascii_case("expect")
            })
    }

    /// The raw HTTP/1.1 bytes of the request, with `Host: 127.0.0.1`.
    pub fn to_bytes(&self) -> Vec<u8> {
        self.to_bytes_for("127.0.0.1")
    }

    /// The raw HTTP/1.1 bytes of the request for the server `host` (the Host header).
    pub fn to_bytes_for(&self, host: &str) -> Vec<u8> {
        if let Some(g) = &self.garbage {
            return g.clone();
        }
        let mut out = Vec::with_capacity(self.body.len() + 512);
        out.extend_from_slice(self.method.as_bytes());
        out.push(b' ');
        out.extend_from_slice(&self.target);
        out.extend_from_slice(b" HTTP/1.1\r\nhost: ");
        out.extend_from_slice(host.as_bytes());
        out.extend_from_slice(b"\r\n");
        for (k, v) in &self.headers {
            out.extend_from_slice(k.as_bytes());
            out.extend_from_slice(b": ");
            out.extend_from_slice(v);
            out.extend_from_slice(b"\r\n");
        }
        if self.chunked {
            out.extend_from_slice(b"transfer-encoding: chunked\r\n\r\n");
            for chunk in self.body.chunks(4096) {
                out.extend_from_slice(format!("{:x}\r\n", chunk.len()).as_bytes());
                out.extend_from_slice(chunk);
                out.extend_from_slice(b"\r\n");
            }
            out.extend_from_slice(b"0\r\n\r\n");
        } else {
            if !self.body.is_empty() || self.method == "POST" || self.method == "PUT" {
                out.extend_from_slice(
                    format!("content-length: {}\r\n", self.body.len()).as_bytes(),
                );
            }
            out.extend_from_slice(b"\r\n");
            out.extend_from_slice(&self.body);
        }
        out
    }
}

/// A response as read, or the fact that none came (status 0).
#[derive(Debug, Clone, Default)]
pub struct Response {
    /// The status (0 when the connection closed without a response).
    pub status: u16,
    /// Header names (lower-cased) and values.
    pub headers: Vec<(String, Vec<u8>)>,
    /// The body, de-chunked.
    pub body: Vec<u8>,
}

impl Response {
    /// The first value of a header, as text.
    pub fn header(&self, name: &str) -> Option<String> {
        self.headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| String::from_utf8_lossy(v).into_owned())
    }

    /// Every value of a header, as text.
    pub fn headers_named(&self, name: &str) -> Vec<String> {
        self.headers
            .iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| String::from_utf8_lossy(v).into_owned())
            .collect()
    }

    /// How many times a header occurs.
    pub fn header_count(&self, name: &str) -> usize {
        self.headers.iter().filter(|(k, _)| k == name).count()
    }

    /// The body as JSON (`Null` when it is not).
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap_or_default()
    }

    /// The media type without parameters, lower-cased.
    pub fn media_type(&self) -> String {
        self.header("content-type")
            .unwrap_or_default()
            .split(';')
            .next()
            .unwrap_or_default()
            .trim()
            .to_ascii_lowercase()
    }
}

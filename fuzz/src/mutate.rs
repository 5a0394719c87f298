//! The mutations and the framing garbage: each changes a [`Draft`] (or replaces it) in
//! one way a hostile or broken client would.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

use crate::build::{Draft, FORM, enc};
use crate::case::*;
use crate::pool::Pool;
use crate::spec::Spec;
use crate::wire::basic;

/// Deterministic pseudo-random bytes (xorshift).
pub fn noise(len: usize, mut seed: u32) -> Vec<u8> {
    seed |= 1;
    (0..len)
        .map(|_| {
            seed ^= seed << 13;
            seed ^= seed >> 17;
            seed ^= seed << 5;
            seed.to_le_bytes()[1]
        })
        .collect()
}

/// The bytes of a value, given the current (encoded) value it may derive from.
fn value(v: &Val, current: &[u8], pool: &Pool, secrets: &mut Vec<String>) -> Vec<u8> {
    match v {
        Val::Empty => Vec::new(),
        Val::Word(i) => enc(WORDS[usize::from(*i) % WORDS.len()]),
        Val::Long(len, b) => vec![b'a' + b % 26; *len as usize],
        Val::Noise(len, seed) => noise(usize::from(*len), *seed),
        Val::BrokenPct(i) => {
            let mut out = current.to_vec();
            out.extend_from_slice(BROKEN[usize::from(*i) % BROKEN.len()].as_bytes());
            out
        }
        Val::Unicode(s) => enc(s),
        Val::Pool(i) => match pool.any_live(*i) {
            Some(s) => {
                secrets.push(s.clone());
                enc(&s)
            }
            None => b"nothing-live".to_vec(),
        },
        Val::Spent(i) => match pool.spent(*i) {
            Some(s) => {
                secrets.push(s.clone());
                enc(&s)
            }
            None => b"nothing-spent".to_vec(),
        },
        Val::Flip(pos) => {
            let mut out = current.to_vec();
            if !out.is_empty() {
                let p = usize::from(*pos) % out.len();
                out[p] = if out[p] == b'A' { b'B' } else { b'A' };
            }
            out
        }
        Val::Probe => enc(PROBE),
        Val::Truncate(n) => {
            let mut out = current.to_vec();
            let cut = usize::from(*n) % (out.len() + 1);
            out.truncate(out.len() - cut.min(out.len()));
            out
        }
    }
}

pub(crate) fn mutate(
    d: &mut Draft,
    m: &Mutation,
    spec: &Spec,
    pool: &Pool,
    secrets: &mut Vec<String>,
) {
    match m {
        Mutation::Drop(i) => {
            let p = d.params();
            if !p.is_empty() {
                let i = usize::from(*i) % p.len();
                p.remove(i);
            }
        }
        Mutation::Repeat(i, v) => {
            let p = d.params();
            if !p.is_empty() {
                let (k, cur) = p[usize::from(*i) % p.len()].clone();
                let v = match v {
                    None => cur,
                    Some(v) => value(v, &cur, pool, secrets),
                };
                d.params().push((k, v));
            }
        }
        Mutation::Set(i, v) => {
            let p = d.params();
            if !p.is_empty() {
                let i = usize::from(*i) % p.len();
                let new = value(v, &p[i].1.clone(), pool, secrets);
                d.params()[i].1 = new;
            }
        }
        Mutation::Add(n, v) => {
            let new = value(v, b"", pool, secrets);
            d.params().push((
                NAMES[usize::from(*n) % NAMES.len()].as_bytes().to_vec(),
                new,
            ));
        }
        Mutation::Rename(i) => {
            let p = d.params();
            if !p.is_empty() {
                let i = usize::from(*i) % p.len();
                p[i].0.make_ascii_uppercase();
            }
        }
        Mutation::Query(n, v) => {
            let new = value(v, b"", pool, secrets);
            d.query.push((
                NAMES[usize::from(*n) % NAMES.len()].as_bytes().to_vec(),
                new,
            ));
        }
        Mutation::FormToQuery => {
            let form = std::mem::take(&mut d.form);
            d.query.extend(form);
        }
        Mutation::Method(i) => d.method = METHODS[usize::from(*i) % METHODS.len()].into(),
        Mutation::ContentType(i) => content_type(d, *i),
        Mutation::Auth(i) => authorization(d, *i, spec, pool, secrets),
        Mutation::Header(k, n) => odd_header(d, *k, *n),
        Mutation::Path(i) => path(d, *i),
        Mutation::RawBody(v) => d.raw_body = Some(value(v, b"", pool, secrets)),
        Mutation::Chunked => d.chunked = true,
    }
}

fn content_type(d: &mut Draft, i: u8) {
    let ct: Option<&[u8]> = match i % 10 {
        0 => None,
        1 => Some(b"application/json"),
        2 => Some(b"text/plain"),
        3 => Some(b"multipart/form-data; boundary=x"),
        4 => Some(b"APPLICATION/X-WWW-FORM-URLENCODED; charset=UTF-8"),
        5 => Some(b"application/x-www-form-urlencoded;;;"),
        6 => Some(b""),
        7 => Some(b"application/x-www-form-urlencodedx"),
        8 => Some(b"application/x-www-form-urlencoded; charset=\xff"),
        _ => {
            d.headers.push(("content-type".into(), FORM.to_vec()));
            return;
        }
    };
    d.set_header("content-type", ct.map(<[u8]>::to_vec));
}

fn authorization(d: &mut Draft, i: u8, spec: &Spec, pool: &Pool, secrets: &mut Vec<String>) {
    let current = d.header("authorization");
    // Another client than the request's own when there is one: the one after it.
    let own = d.cred.map_or(0, |c| usize::from(c.0));
    let other = spec.client(Cred(u8::try_from((own + 1) % 256).unwrap_or(0)));
    let first = spec.client(Cred(0));
    let v: Option<Vec<u8>> = match i % 13 {
        0 => None,
        1 => Some(basic(
            first.map_or("unknown-client", |c| c.id.as_str()),
            "wrong-secret",
        )),
        2 => Some(b"Basic =====".to_vec()),
        3 => Some(b"Basic".to_vec()),
        4 => match pool.any_live(u16::from(i)) {
            Some(t) => {
                let v = format!("Bearer {t}").into_bytes();
                secrets.push(t);
                Some(v)
            }
            None => Some(b"Bearer x".to_vec()),
        },
        5 => {
            // A second Authorization header, another client's.
            if let Some(c) = other {
                d.headers.push((
                    "authorization".into(),
                    basic(&c.id, c.secret.as_deref().unwrap_or_default()),
                ));
            }
            return;
        }
        6 => current.map(|c| {
            let mut c = c;
            let n = c.len().min(5);
            c[..n].make_ascii_lowercase();
            c
        }),
        7 => Some(b"Basic \xff\xfe\x80".to_vec()),
        8 => Some(format!("Basic {}", "A".repeat(20_000)).into_bytes()),
        // A client's credentials without the form-encoding of §2.3.1: differs from the
        // right value when the id or secret holds a reserved character.
        9 => other.map(|c| {
            format!(
                "Basic {}",
                STANDARD.encode(format!(
                    "{}:{}",
                    c.id,
                    c.secret.as_deref().unwrap_or_default()
                ))
            )
            .into_bytes()
        }),
        10 => Some(basic("unknown-client", "secret")),
        11 => Some(format!("Basic {}", STANDARD.encode(":secret")).into_bytes()),
        _ => Some(b"Digest username=\"x\", realm=\"y\"".to_vec()),
    };
    d.set_header("authorization", v);
}

fn odd_header(d: &mut Draft, k: u8, n: u16) {
    match k % 12 {
        0 => d
            .headers
            .push(("x-fuzz".into(), vec![b'h'; usize::from(n % 30_000)])),
        1 => {
            for j in 0..(n % 120) {
                d.headers.push((format!("x-many-{j}"), b"v".to_vec()));
            }
        }
        2 => d
            .headers
            .push(("x-odd".into(), b"\x80\xff obs-text \xc3\x28".to_vec())),
        3 => d.headers.push((
            "cookie".into(),
            b"oauth_csrf=a; oauth_csrf=b; =; ;;; x".to_vec(),
        )),
        4 => d.headers.push(("expect".into(), b"100-continue".to_vec())),
        5 => d.headers.push(("connection".into(), b"close".to_vec())),
        6 => d
            .headers
            .push(("accept".into(), b"application/xml;q=0, */*;q=abc".to_vec())),
        7 => d.headers.push(("x-empty".into(), Vec::new())),
        8 => d
            .headers
            .push(("origin".into(), b"https://evil.example".to_vec())),
        9 => d.headers.push(("x-ctl".into(), b"a\x01b\x7f".to_vec())),
        10 => d
            .headers
            .push(("transfer-encoding".into(), b"gzip".to_vec())),
        _ => d.headers.push(("range".into(), b"bytes=0-1,-5".to_vec())),
    }
}

fn path(d: &mut Draft, i: u8) {
    let p = String::from_utf8_lossy(&d.path).into_owned();
    d.path = match i % 9 {
        0 => format!("{p}/"),
        1 => p.to_ascii_uppercase(),
        2 => p.replacen('/', "//", 1),
        3 => p.replacen('o', "%6F", 1),
        4 => format!("{p}/../{}", p.rsplit('/').next().unwrap_or_default()),
        5 => format!("http://127.0.0.1{p}"),
        6 => format!("{p};x=1"),
        7 => format!("{p}%00"),
        _ => "*".into(),
    }
    .into_bytes();
}

/// The paths garbage is aimed at: the token endpoint's (or any named one's).
fn aims(spec: &Spec) -> (String, String, String) {
    let e = &spec.endpoints;
    let path = |t: &Option<String>| {
        t.as_ref()
            .map(|t| t.split('?').next().unwrap_or("/").to_owned())
    };
    let any = [
        &e.token,
        &e.resource,
        &e.metadata,
        &e.revoke,
        &e.introspect,
        &e.authorize,
    ]
    .into_iter()
    .find_map(path)
    .unwrap_or_else(|| "/".to_owned());
    let token = path(&e.token).unwrap_or_else(|| any.clone());
    let get = path(&e.resource)
        .or_else(|| path(&e.metadata))
        .unwrap_or_else(|| any.clone());
    (token, get, path(&e.revoke).unwrap_or(any))
}

pub(crate) fn garbage_bytes(g: &Garbage, spec: &Spec) -> Vec<u8> {
    let (token, get, revoke) = aims(spec);
    let post_token = format!("POST {token} HTTP/1.1");
    let end = b"\r\nconnection: close\r\n\r\n";
    let mut out: Vec<u8> = match g {
        Garbage::Noise(len, seed) => return noise(usize::from(*len), *seed),
        Garbage::RequestLine(i) => match i % 6 {
            0 => format!("POST {token} HTTP/9.9").into_bytes(),
            1 => format!("POST  {token}  HTTP/1.1").into_bytes(),
            2 => b"\x00\x01 / HTTP/1.1".to_vec(),
            3 => format!("GET {get}").into_bytes(),
            4 => {
                let mut v = format!("GET {token}").into_bytes();
                v.extend_from_slice(b"\xff\xfe HTTP/1.1");
                v
            }
            _ => format!("GET /{} HTTP/1.1", "a".repeat(70_000)).into_bytes(),
        },
        Garbage::HeaderLine(i) => {
            let mut v = format!("{post_token}\r\n").into_bytes();
            v.extend_from_slice(match i % 4 {
                0 => b"no colon here".as_slice(),
                1 => b"bad name: x",
                2 => b": empty name",
                _ => b"x-fold: a\r\n  folded",
            });
            v
        }
        Garbage::ShortContentLength => {
            return format!(
                "{post_token}\r\ncontent-type: application/x-www-form-urlencoded\r\n\
content-length: 5\r\nconnection: close\r\n\r\ngrant_type=client_credentials"
            )
            .into_bytes();
        }
        Garbage::BadChunk(i) => {
            let mut v = format!(
                "{post_token}\r\ntransfer-encoding: chunked\r\nconnection: close\r\n\
content-type: application/x-www-form-urlencoded\r\n\r\n"
            )
            .into_bytes();
            v.extend_from_slice(match i % 3 {
                0 => b"zz\r\nabc\r\n0\r\n\r\n".as_slice(),
                1 => b"3\r\nabcdef\r\n0\r\n\r\n",
                _ => b"ffffffffffffffffff\r\nabc\r\n",
            });
            return v;
        }
        Garbage::BothFramings => {
            return format!(
                "POST {revoke} HTTP/1.1\r\ncontent-length: 3\r\ntransfer-encoding: chunked\r\n\
connection: close\r\n\r\n3\r\nabc\r\n0\r\n\r\n"
            )
            .into_bytes();
        }
        Garbage::Http10(body) => {
            return if *body {
                format!(
                    "POST {token} HTTP/1.0\r\ncontent-type: application/x-www-form-urlencoded\r\n\
content-length: 29\r\n\r\ngrant_type=client_credentials"
                )
                .into_bytes()
            } else {
                format!("GET {get} HTTP/1.0\r\n\r\n").into_bytes()
            };
        }
    };
    out.extend_from_slice(end);
    out
}

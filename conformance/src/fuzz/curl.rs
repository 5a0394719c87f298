//! A finding's request as a `curl` command a developer can paste: exact bytes (via
//! `--request-target`, `--path-as-is`, `printf` for the body), the profile's secrets as
//! `${NAME}` placeholders. A request that carries a fresh code or token, or framing
//! curl cannot produce, gets none: `--replay` sends those.

use oauth2_fuzz::Built;
use oauth2_fuzz::wire::basic;

use super::Plan;
use super::send::Origin;

/// A command and the variables it reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Command {
    /// The shell line.
    pub line: String,
    /// Variables to set first, with a word on each.
    pub env: Vec<String>,
}

/// A piece of a shell word: literal bytes, or a variable.
enum Piece {
    Bytes(Vec<u8>),
    Var(String),
}

/// Splits bytes at every occurrence of a named secret (raw or form-encoded).
fn pieces(bytes: &[u8], named: &[(String, String)], used: &mut Vec<String>) -> Vec<Piece> {
    let mut out = vec![Piece::Bytes(bytes.to_vec())];
    for (name, value) in named {
        for form in [value.clone(), oauth2_fuzz::form_encode(value)] {
            if form.len() < 4 {
                continue;
            }
            let mut next = Vec::new();
            for p in out {
                match p {
                    Piece::Var(v) => next.push(Piece::Var(v)),
                    Piece::Bytes(b) => {
                        let mut rest = b.as_slice();
                        while let Some(i) = find(rest, form.as_bytes()) {
                            next.push(Piece::Bytes(rest[..i].to_vec()));
                            next.push(Piece::Var(name.clone()));
                            if !used.contains(name) {
                                used.push(name.clone());
                            }
                            rest = &rest[i + form.len()..];
                        }
                        next.push(Piece::Bytes(rest.to_vec()));
                    }
                }
            }
            out = next;
        }
    }
    out
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// Bash ANSI-C quoting of bytes (`$'...'`); `None` for a NUL, which no argument holds.
fn ansi(bytes: &[u8]) -> Option<String> {
    if bytes.contains(&0) {
        return None;
    }
    let mut s = String::from("$'");
    for b in bytes {
        match b {
            b'\'' => s.push_str("\\'"),
            b'\\' => s.push_str("\\\\"),
            0x20..=0x7e => s.push(char::from(*b)),
            _ => s.push_str(&format!("\\x{b:02x}")),
        }
    }
    s.push('\'');
    Some(s)
}

/// A shell word from pieces.
fn word(pieces: &[Piece]) -> Option<String> {
    let mut s = String::new();
    for p in pieces {
        match p {
            Piece::Bytes(b) if b.is_empty() => {}
            Piece::Bytes(b) => s.push_str(&ansi(b)?),
            Piece::Var(v) => s.push_str(&format!("\"${{{v}}}\"")),
        }
    }
    if s.is_empty() {
        s.push_str("''");
    }
    Some(s)
}

/// A `printf` format and its arguments for bytes with placeholders (NUL allowed).
fn printf(pieces: &[Piece]) -> String {
    let mut format = String::from("'");
    let mut args = String::new();
    for p in pieces {
        match p {
            Piece::Bytes(b) => {
                for c in b {
                    match c {
                        b'\'' => format.push_str("'\\''"),
                        b'\\' => format.push_str("\\\\"),
                        b'%' => format.push_str("%%"),
                        0x20..=0x7e => format.push(char::from(*c)),
                        _ => format.push_str(&format!("\\x{c:02x}")),
                    }
                }
            }
            Piece::Var(v) => {
                format.push_str("%s");
                args.push_str(&format!(" \"${{{v}}}\""));
            }
        }
    }
    format.push('\'');
    format!("printf {format}{args}")
}

/// The command, when the request needs no fresh credential and curl can send it.
pub fn command(b: &Built, origin: &Origin, plan: &Plan) -> Option<Command> {
    let w = &b.wire;
    if w.garbage.is_some() || !b.secrets.is_empty() {
        return None;
    }
    if w.method.is_empty() || !w.method.bytes().all(|c| c.is_ascii_alphanumeric()) {
        return None;
    }
    let mut used = Vec::new();
    let mut args: Vec<String> = vec!["curl -sS -i --http1.1 --path-as-is".into()];
    if w.method == "HEAD" {
        args.push("--head".into());
    } else {
        args.push(format!("-X {}", w.method));
    }
    let has = |n: &str| w.headers.iter().any(|(k, _)| k.eq_ignore_ascii_case(n));
    for (k, v) in &w.headers {
        if k.eq_ignore_ascii_case("authorization") {
            // The client's own Basic credentials, rebuilt from its variables.
            if let Some((name, id)) =
                plan.spec
                    .clients
                    .iter()
                    .zip(&plan.roles)
                    .find_map(|(c, role)| {
                        let secret = c.secret.as_deref()?;
                        (basic(&c.id, secret) == *v).then(|| {
                            (
                                format!("{}_CLIENT_SECRET", role.key().to_ascii_uppercase()),
                                oauth2_fuzz::form_encode(&c.id),
                            )
                        })
                    })
            {
                if !used.contains(&name) {
                    used.push(name.clone());
                }
                args.push(format!(
                    "-H \"Authorization: Basic $(printf '%s:%s' '{id}' \"${{{name}}}\" | base64 -w0)\""
                ));
                continue;
            }
        }
        let text = String::from_utf8_lossy(v);
        let leaks = plan
            .named
            .iter()
            .any(|(_, s)| s.len() >= 4 && (text.contains(s.as_str())))
            || k.eq_ignore_ascii_case("authorization") && text.starts_with("Basic ");
        if leaks && k.eq_ignore_ascii_case("authorization") {
            // Credentials encoded some other way: no placeholder can stand for them.
            return None;
        }
        let mut header = k.as_bytes().to_vec();
        if v.is_empty() {
            header.push(b';');
        } else {
            header.extend_from_slice(b": ");
            header.extend_from_slice(v);
        }
        args.push(format!(
            "-H {}",
            word(&pieces(&header, &plan.named, &mut used))?
        ));
    }
    if w.chunked {
        args.push("-H 'Transfer-Encoding: chunked'".into());
    }
    let sends_body = !w.body.is_empty() || matches!(w.method.as_str(), "POST" | "PUT");
    if sends_body && !has("content-type") {
        args.push("-H 'Content-Type:'".into());
    }
    for h in ["accept", "user-agent"] {
        if !has(h) {
            args.push(format!(
                "-H '{}:'",
                if h == "accept" {
                    "Accept"
                } else {
                    "User-Agent"
                }
            ));
        }
    }
    args.push(format!(
        "--request-target {}",
        word(&pieces(&w.target, &plan.named, &mut used))?
    ));
    args.push(format!("'{}'", origin.url()));
    let mut line = args.join(" ");
    if sends_body {
        let body = pieces(&w.body, &plan.named, &mut used);
        line = format!("{} | {line} --data-binary @-", printf(&body));
    }
    let env = used
        .into_iter()
        .map(|n| {
            if n.ends_with("_CLIENT_SECRET") {
                format!("{n} (form-encoded as RFC 6749 §2.3.1 requires, if it holds a reserved character)")
            } else {
                n
            }
        })
        .collect();
    Some(Command { line, env })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoting() {
        assert_eq!(ansi(b"a'b\\c\x01"), Some("$'a\\'b\\\\c\\x01'".to_owned()));
        assert_eq!(ansi(b"a\0"), None);
        let named = vec![("S".to_owned(), "top-secret".to_owned())];
        let mut used = Vec::new();
        let p = pieces(b"x=top-secret&y=%", &named, &mut used);
        assert_eq!(word(&p), Some("$'x='\"${S}\"$'&y=%'".to_owned()));
        assert_eq!(printf(&p), "printf 'x=%s&y=%%' \"${S}\"");
        assert_eq!(used, vec!["S".to_owned()]);
    }
}

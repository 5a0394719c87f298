//! Step definitions, one module per protocol surface, and the helpers they share.
//!
//! Vocabulary (see `features/README.md` for the full list): clients are named by role
//! (`the Basic client`, `the post client`, `the public client`, `the second client`,
//! `the service client`), users as `the primary user` / `the secondary user` (and the
//! brute-force accounts, `the throttled user` / `the throttled form user`). Tables of
//! request parameters may use placeholders in angle brackets: `<code>`,
//! `<refresh_token>`, `<access_token>`, `<code_verifier>`, `<redirect_uri>`,
//! `<client_id>`, `<primary.username>`, `<primary.password>`, `<secondary.username>`,
//! `<secondary.password>`, `<scope>`, `<resource_scope>`, `<insufficient_scope>`,
//! `<redirect_uri.port.N>` (the client's loopback redirection URI with port N); the value
//! `(omitted)` leaves the parameter out.

pub mod authorize;
pub mod brute_force;
pub mod entropy;
pub mod http;
pub mod introspect;
pub mod metadata;
pub mod params;
pub mod resource;
pub mod revoke;
pub mod token;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

use crate::http::{Exchange, Outgoing, encode};
use crate::mismatch::Mismatch;
use crate::target::{AuthMethod, Client, ClientRole};
use crate::world::{OAuthWorld, UserRole};
use params::AuthVariant;

/// Sends a request and remembers the exchange as the last one.
pub async fn send(w: &mut OAuthWorld, out: Outgoing) -> Result<Exchange, Mismatch> {
    let x =
        crate::http::pace::observing_throttle_if(w.observe_throttle, w.ctx.http.send(out)).await?;
    w.note_if_throttled(&x);
    w.last = Some(x.clone());
    Ok(x)
}

/// `Basic base64(urlencode(id) ":" urlencode(secret))` (RFC 6749 §2.3.1).
pub fn basic_header(id: &str, secret: &str) -> String {
    format!(
        "Basic {}",
        STANDARD.encode(format!("{}:{}", encode(id), encode(secret)))
    )
}

/// An endpoint URL from the target, or a failure naming it.
pub fn endpoint(w: &OAuthWorld, which: &str) -> Result<String, Mismatch> {
    let e = &w.target().endpoints;
    match which {
        "token" => e.token.clone(),
        "authorization" => e.authorization.clone(),
        "revocation" => e.revocation.clone(),
        "introspection" => e.introspection.clone(),
        _ => None,
    }
    .ok_or_else(|| Mismatch::not_applicable(format!("the target has no {which} endpoint")))
}

/// A POST to an endpoint with client authentication and form parameters.
pub fn authenticated_post(
    url: &str,
    client: &Client,
    mut params: Vec<(String, String)>,
    variant: AuthVariant,
) -> Outgoing {
    let secret = client.secret.as_ref().map(|s| s.expose().to_owned());
    let wrong = || {
        format!(
            "{}-wrong",
            secret.clone().unwrap_or_else(|| "secret".into())
        )
    };
    let mut url = url.to_owned();
    let mut header: Option<String> = None;
    let mut body_creds: Vec<(String, String)> = Vec::new();
    let as_registered = |id: &str,
                         s: Option<String>,
                         header: &mut Option<String>,
                         body: &mut Vec<(String, String)>| match client.auth
    {
        AuthMethod::Basic => *header = Some(basic_header(id, s.as_deref().unwrap_or(""))),
        AuthMethod::Post => {
            body.push(("client_id".into(), id.to_owned()));
            body.push(("client_secret".into(), s.unwrap_or_default()));
        }
        AuthMethod::None => body.push(("client_id".into(), id.to_owned())),
    };
    match variant {
        AuthVariant::AsRegistered => {
            as_registered(&client.id, secret.clone(), &mut header, &mut body_creds)
        }
        AuthVariant::WrongSecret => {
            as_registered(&client.id, Some(wrong()), &mut header, &mut body_creds)
        }
        AuthVariant::UnknownClient => {
            as_registered(
                "no-such-client-e9a1",
                Some(wrong()),
                &mut header,
                &mut body_creds,
            );
        }
        AuthVariant::NoCredentials => {}
        AuthVariant::InQuery => {
            let sep = if url.contains('?') { '&' } else { '?' };
            url = format!(
                "{url}{sep}client_id={}&client_secret={}",
                encode(&client.id),
                encode(secret.as_deref().unwrap_or(""))
            );
        }
        AuthVariant::BasicAndBody => {
            header = Some(basic_header(&client.id, secret.as_deref().unwrap_or("")));
            body_creds.push(("client_id".into(), client.id.clone()));
            body_creds.push(("client_secret".into(), secret.clone().unwrap_or_default()));
        }
        AuthVariant::OtherMethod => match client.auth {
            AuthMethod::Basic => {
                body_creds.push(("client_id".into(), client.id.clone()));
                body_creds.push(("client_secret".into(), secret.clone().unwrap_or_default()));
            }
            _ => header = Some(basic_header(&client.id, secret.as_deref().unwrap_or(""))),
        },
        AuthVariant::RawBasic => {
            header = Some(format!(
                "Basic {}",
                STANDARD.encode(format!("{}:{}", client.id, secret.as_deref().unwrap_or("")))
            ));
        }
    }
    body_creds.append(&mut params);
    let mut out = Outgoing::new(reqwest::Method::POST, url).form(&body_creds);
    if let Some(h) = header {
        out = out.header("authorization", h);
    }
    out
}

/// Replaces a placeholder table value with what it stands for.
pub fn substitute(
    w: &OAuthWorld,
    client: ClientRole,
    value: &str,
) -> Result<Option<String>, Mismatch> {
    if value == "(omitted)" {
        return Ok(None);
    }
    let Some(name) = value.strip_prefix('<').and_then(|v| v.strip_suffix('>')) else {
        return Ok(Some(value.to_owned()));
    };
    let user = |r: UserRole| w.user(r);
    let resource = || {
        w.target()
            .resource
            .clone()
            .ok_or_else(|| Mismatch::not_applicable("the profile has no [resource]"))
    };
    let v = match name {
        "code" => w
            .code
            .as_ref()
            .map(|c| c.code.expose().to_owned())
            .ok_or_else(|| Mismatch::error("no authorization code was obtained"))?,
        "refresh_token" => w.refresh_token()?.expose().to_owned(),
        "access_token" => w.access_token()?.expose().to_owned(),
        "code_verifier" => w
            .code
            .as_ref()
            .and_then(|c| c.verifier.as_ref())
            .map(|v| v.expose().to_owned())
            .ok_or_else(|| Mismatch::error("no code_verifier was used"))?,
        "code_challenge" => w
            .code
            .as_ref()
            .and_then(|c| c.challenge.clone())
            .ok_or_else(|| Mismatch::error("no code_challenge was used"))?,
        "redirect_uri" => w
            .code
            .as_ref()
            .map(|c| c.redirect_uri.clone())
            .or_else(|| w.client(client).ok().and_then(|c| c.redirect_uri))
            .ok_or_else(|| Mismatch::not_applicable("no redirect_uri is known for this client"))?,
        "redirect_uri_with_query" => {
            w.client(client)?.redirect_uri_with_query.ok_or_else(|| {
                Mismatch::not_applicable("the client has no redirect_uri_with_query in the profile")
            })?
        }
        "client_id" => w.client(client)?.id,
        // The profile's scope for the client; left out when the profile gives none.
        "scope" => match w.client(client)?.scope {
            Some(s) if !s.is_empty() => s,
            _ => return Ok(None),
        },
        "resource_scope" => resource()?.scope,
        "insufficient_scope" => resource()?.insufficient_scope.ok_or_else(|| {
            Mismatch::not_applicable("the profile has no resource.insufficient_scope")
        })?,
        "primary.username" => user(UserRole::Primary)?.username,
        "primary.password" => user(UserRole::Primary)?.password.expose().to_owned(),
        "secondary.username" => user(UserRole::Secondary)?.username,
        "secondary.password" => user(UserRole::Secondary)?.password.expose().to_owned(),
        other => match other
            .strip_prefix("redirect_uri.port.")
            .and_then(|p| p.parse::<u16>().ok())
        {
            Some(port) => {
                let registered = w.client(client)?.redirect_uri.ok_or_else(|| {
                    Mismatch::not_applicable("no redirect_uri is known for this client")
                })?;
                with_loopback_port(&registered, port).ok_or_else(|| {
                    Mismatch::not_applicable(format!(
                        "the client's redirect_uri {registered} is not a loopback IP redirection URI (http://127.0.0.1 or http://[::1], RFC 8252 §7.3)"
                    ))
                })?
            }
            None => return Err(Mismatch::error(format!("unknown placeholder <{other}>"))),
        },
    };
    Ok(Some(v))
}

/// `NQSCHAR = %x20-21 / %x23-5B / %x5D-7E` (RFC 6749 Appendix A; RFC 6750 §3 for error
/// and error_description).
pub fn nqschar(c: char) -> bool {
    matches!(c, '\x20'..='\x21' | '\x23'..='\x5B' | '\x5D'..='\x7E')
}

/// `NQCHAR = %x21 / %x23-5B / %x5D-7E` (error_uri, and scope tokens).
pub fn nqchar(c: char) -> bool {
    c != ' ' && nqschar(c)
}

/// Whether an OAuth error member is in its grammar (RFC 6749 Appendix A.7 - A.9):
/// `error` and `error_description` (`text`) are `1*NQSCHAR`, never empty; `error_uri`
/// has no spaces and, as a URI-reference, may be empty.
pub fn error_member_ok(value: &str, text: bool) -> bool {
    if text {
        !value.is_empty() && value.chars().all(nqschar)
    } else {
        value.chars().all(nqchar)
    }
}

/// A loopback IP redirection URI (`http://127.0.0.1[:port]/...` or
/// `http://[::1][:port]/...`, RFC 8252 §7.3) with its port replaced; `None` for any
/// other URI.
pub fn with_loopback_port(uri: &str, port: u16) -> Option<String> {
    let rest = uri.strip_prefix("http://")?;
    let host = ["127.0.0.1", "[::1]"]
        .into_iter()
        .find(|h| rest.starts_with(h))?;
    let mut tail = &rest[host.len()..];
    if let Some(t) = tail.strip_prefix(':') {
        tail = t.trim_start_matches(|c: char| c.is_ascii_digit());
    }
    if !(tail.is_empty() || tail.starts_with(['/', '?', '#'])) {
        return None;
    }
    Some(format!("http://{host}:{port}{tail}"))
}

/// Reads a two-column table (`| name | value |`) into parameters, placeholders
/// replaced; a header row `| parameter | value |` is skipped.
pub fn table_params(
    w: &OAuthWorld,
    client: ClientRole,
    step: &cucumber::gherkin::Step,
) -> Result<Vec<(String, String)>, Mismatch> {
    let mut out = Vec::new();
    let Some(table) = step.table.as_ref() else {
        return Ok(out);
    };
    for row in &table.rows {
        let (Some(k), Some(v)) = (row.first(), row.get(1)) else {
            return Err(Mismatch::error("a parameter table needs two columns"));
        };
        if k == "parameter" && v == "value" {
            continue;
        }
        if let Some(v) = substitute(w, client, v)? {
            out.push((k.clone(), v));
        }
    }
    Ok(out)
}

/// A table value with its placeholders replaced: a whole-cell placeholder as
/// [`substitute`] reads it, and placeholders inside a longer value (`<redirect_uri>/`)
/// too. `(omitted)` is `None`.
pub fn interpolate(
    w: &OAuthWorld,
    role: ClientRole,
    value: &str,
) -> Result<Option<String>, Mismatch> {
    if value == "(omitted)" || (value.starts_with('<') && value.ends_with('>')) {
        return substitute(w, role, value);
    }
    let mut out = String::new();
    let mut rest = value;
    while let Some(i) = rest.find('<') {
        let Some(j) = rest[i..].find('>').map(|j| i + j) else {
            break;
        };
        let name = &rest[i + 1..j];
        if name.is_empty()
            || !name
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'.')
        {
            out.push_str(&rest[..=i]);
            rest = &rest[i + 1..];
            continue;
        }
        out.push_str(&rest[..i]);
        out.push_str(&substitute(w, role, &rest[i..=j])?.unwrap_or_default());
        rest = &rest[j + 1..];
    }
    out.push_str(rest);
    Ok(Some(out))
}

/// Applies table overrides to default parameters: a row replaces the parameter of the
/// same name, `(omitted)` removes it, `(repeated)` sends it twice, an empty cell sends
/// it without a value; placeholders may sit inside a value (`<redirect_uri>/`).
pub fn apply_overrides(
    w: &OAuthWorld,
    client: ClientRole,
    defaults: Vec<(String, String)>,
    step: Option<&cucumber::gherkin::Step>,
) -> Result<Vec<(String, String)>, Mismatch> {
    let mut params = defaults;
    let Some(table) = step.and_then(|s| s.table.as_ref()) else {
        return Ok(params);
    };
    for row in &table.rows {
        let (Some(k), Some(v)) = (row.first(), row.get(1)) else {
            return Err(Mismatch::error("a parameter table needs two columns"));
        };
        if k == "parameter" && v == "value" {
            continue;
        }
        if v == "(repeated)" {
            let existing = params
                .iter()
                .find(|(n, _)| n == k)
                .cloned()
                .unwrap_or_else(|| (k.clone(), "x".into()));
            params.push(existing);
            continue;
        }
        params.retain(|(n, _)| n != k);
        if let Some(v) = interpolate(w, client, v)? {
            params.push((k.clone(), v));
        }
    }
    Ok(params)
}

#[cfg(test)]
mod tests {
    use super::{error_member_ok, with_loopback_port};

    /// error and error_description are 1*NQSCHAR; error_uri has no space and may be
    /// empty (RFC 6749 Appendix A.7 - A.9).
    #[test]
    fn error_members() {
        assert!(error_member_ok("bad request", true));
        assert!(!error_member_ok("", true));
        assert!(!error_member_ok("say \"no\"", true));
        assert!(!error_member_ok("back\\slash", true));
        assert!(error_member_ok("", false));
        assert!(error_member_ok("https://as.example/e", false));
        assert!(!error_member_ok("https://as.example/a b", false));
    }

    /// The port of a loopback IP redirection URI is set or replaced; other URIs, and
    /// hosts that only start like a loopback address, have none.
    #[test]
    fn loopback_ports() {
        let cases = [
            (
                "http://127.0.0.1/callback",
                Some("http://127.0.0.1:51004/callback"),
            ),
            (
                "http://127.0.0.1:8000/cb?x=1",
                Some("http://127.0.0.1:51004/cb?x=1"),
            ),
            ("http://[::1]", Some("http://[::1]:51004")),
            ("http://127.0.0.1.example/cb", None),
            ("https://127.0.0.1/cb", None),
            ("http://localhost/cb", None),
            ("https://client.example/cb", None),
        ];
        for (uri, want) in cases {
            assert_eq!(with_loopback_port(uri, 51004).as_deref(), want, "{uri}");
        }
    }
}

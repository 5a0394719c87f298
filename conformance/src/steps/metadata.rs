//! Authorization server metadata steps (RFC 8414): fetching the document (§3), its
//! members (§2, §3.2, §3.3), and whether what it advertises works (the defaults of §2
//! applied to omitted members).

use cucumber::{then, when};
use serde_json::Value;

use super::authorize::{authorize, obtain_tokens, random, redemption_params};
use super::http::check_error;
use super::params::AuthVariant;
use super::token::{password_tokens, token_request, token_set};
use super::{authenticated_post, send};
use crate::http::{Exchange, Outgoing, encode_pairs};
use crate::mismatch::{Check, Mismatch, ensure};
use crate::target::{AuthMethod, ClientRole, inserted_metadata_urls, metadata_urls};
use crate::world::{OAuthWorld, PkceMode, UserRole};

/// Whether an answer is a metadata document: 200 with a JSON object (RFC 8414 §3.2).
fn is_document(x: &Exchange) -> bool {
    x.status == 200 && x.json().is_some_and(|j| j.is_object())
}

/// GETs each URL in turn until one answers with a metadata document; keeps every
/// answer (in `batch`) and the document.
async fn fetch_first(w: &mut OAuthWorld, urls: Vec<String>) -> Check {
    w.batch.clear();
    w.metadata = None;
    for url in urls {
        let x = send(w, Outgoing::new(reqwest::Method::GET, url)).await?;
        w.batch.push(Ok(x.clone()));
        if is_document(&x) {
            w.metadata = x.json();
            break;
        }
    }
    Ok(())
}

/// The document the server publishes, for the scenarios about its contents: where
/// discovery found it (RFC 8414 §3's location, or OpenID Connect Discovery's, which §5
/// has clients fall back to), else wherever [`metadata_urls`] finds one now.
#[when(expr = "the metadata document is fetched")]
async fn fetch(w: &mut OAuthWorld) -> Check {
    let issuer = w
        .target()
        .issuer
        .clone()
        .ok_or_else(|| Mismatch::not_applicable("the profile has no issuer"))?;
    let urls = match w.target().endpoints.metadata.clone() {
        Some(found) => vec![found],
        None => metadata_urls(&issuer),
    };
    fetch_first(w, urls).await
}

/// RFC 8414 §3: the locations formed by inserting a well-known URI string between the
/// issuer's host and path, for the default string and `openid-configuration`.
#[when(expr = "the metadata document is fetched from a path RFC 8414 §3 forms from the issuer")]
async fn fetch_inserted(w: &mut OAuthWorld) -> Check {
    let issuer = w
        .target()
        .issuer
        .clone()
        .ok_or_else(|| Mismatch::not_applicable("the profile has no issuer"))?;
    fetch_first(w, inserted_metadata_urls(&issuer)).await
}

fn doc(w: &OAuthWorld) -> Result<&Value, Mismatch> {
    w.metadata.as_ref().ok_or_else(|| match &w.last {
        Some(x) => Mismatch::in_exchange("a JSON metadata document", x.body_kind(), x),
        None => Mismatch::error("the metadata was not fetched"),
    })
}

#[then(expr = "the metadata includes {string}")]
async fn includes(w: &mut OAuthWorld, member: String) -> Check {
    let d = doc(w)?;
    let has = d.get(&member).is_some_and(|v| !v.is_null());
    if has {
        Ok(())
    } else {
        Err(Mismatch::new(
            format!("the {member} member (RFC 8414 §2)"),
            "absent",
        ))
    }
}

#[then(expr = "the metadata issuer is the issuer the document was fetched for")]
async fn issuer_matches(w: &mut OAuthWorld) -> Check {
    let d = doc(w)?;
    // §3.3: "The "issuer" value returned MUST be identical to the authorization
    // server's issuer identifier value into which the well-known URI string was
    // inserted": compared exactly, trailing "/" included.
    let iss = d.get("issuer").and_then(Value::as_str).map(str::to_owned);
    let want = w.target().issuer.clone();
    if iss.is_some() && iss == want {
        Ok(())
    } else {
        Err(Mismatch::new(
            format!("issuer {want:?} (RFC 8414 §3.3)"),
            format!("issuer {iss:?}"),
        ))
    }
}

#[then(expr = "the metadata issuer has no query or fragment")]
async fn issuer_clean(w: &mut OAuthWorld) -> Check {
    let d = doc(w)?;
    let iss = d.get("issuer").and_then(Value::as_str).unwrap_or("");
    if iss.contains(['?', '#']) || iss.is_empty() {
        return Err(Mismatch::new(
            "an issuer URL without query or fragment (RFC 8414 §2)",
            iss.to_owned(),
        ));
    }
    Ok(())
}

#[then(expr = "no metadata member is an empty array")]
async fn no_empty(w: &mut OAuthWorld) -> Check {
    let d = doc(w)?;
    let empty: Vec<&String> = d
        .as_object()
        .map(|o| {
            o.iter()
                .filter(|(_, v)| v.as_array().is_some_and(Vec::is_empty))
                .map(|(k, _)| k)
                .collect()
        })
        .unwrap_or_default();
    if empty.is_empty() {
        Ok(())
    } else {
        Err(Mismatch::new(
            "no empty arrays (RFC 8414 §3.2: omitted instead)",
            format!("{empty:?}"),
        ))
    }
}

#[then(expr = "the metadata lists {string} in {string}")]
async fn lists(w: &mut OAuthWorld, value: String, member: String) -> Check {
    let d = doc(w)?;
    let list = d
        .get(&member)
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let has = list.iter().any(|v| v.as_str() == Some(value.as_str()));
    if has {
        Ok(())
    } else {
        Err(Mismatch::new(
            format!("{value:?} in {member}"),
            format!("{member} = {list:?}"),
        ))
    }
}

#[then(expr = "the metadata response is JSON")]
async fn is_json(w: &mut OAuthWorld) -> Check {
    let x = w.last()?;
    if x.status == 200
        && x.media_type().as_deref() == Some("application/json")
        && x.json().is_some_and(|j| j.is_object())
    {
        return Ok(());
    }
    let expected = "200 with an application/json object (RFC 8414 §3.2)";
    let tried: Vec<String> = w
        .batch
        .iter()
        .flatten()
        .map(|a| format!("GET {}: {}, {}", a.url, a.status_text(), a.body_kind()))
        .collect();
    if tried.len() < 2 {
        return Err(Mismatch::in_exchange(
            expected,
            format!("{}, {}", x.status_text(), x.body_kind()),
            x,
        ));
    }
    let mut actual = tried.join("; ");
    // Where discovery found it instead, if it did: not a location §3 forms.
    if let Some(found) = w.target().endpoints.metadata.as_ref() {
        if !w.batch.iter().flatten().any(|a| &a.url == found) {
            actual.push_str(&format!(
                "; the document is published at {found}, where OpenID Connect Discovery \
                 appends the string to the issuer's path, which RFC 8414 §5 names as a \
                 legacy location apart from §3's"
            ));
        }
    }
    let inserted = w
        .target()
        .issuer
        .as_deref()
        .map(inserted_metadata_urls)
        .unwrap_or_default();
    let expected = if w.batch.iter().flatten().all(|a| inserted.contains(&a.url)) {
        format!(
            "{expected}, at a path formed by inserting a well-known URI string between \
             the issuer's host and path (RFC 8414 §3)"
        )
    } else {
        format!("{expected}, at any of the well-known locations")
    };
    Err(Mismatch::in_exchange(expected, actual, x))
}

#[then(expr = "the metadata does not list {string} in {string}")]
async fn does_not_list(w: &mut OAuthWorld, value: String, member: String) -> Check {
    let list = effective(doc(w)?, &member);
    if list.contains(&value) {
        return Err(Mismatch::new(
            format!("no {value:?} in {member}"),
            format!("{member} = {list:?}"),
        ));
    }
    Ok(())
}

#[then(expr = "the metadata issuer uses the https scheme")]
async fn issuer_https(w: &mut OAuthWorld) -> Check {
    let d = doc(w)?;
    let iss = d.get("issuer").and_then(Value::as_str).unwrap_or("");
    let scheme = iss.split_once("://").map(|(s, _)| s.to_ascii_lowercase());
    if scheme.as_deref() == Some("https") {
        Ok(())
    } else {
        Err(Mismatch::new(
            "an issuer URL with the https scheme (RFC 8414 §2)",
            format!("issuer {iss:?}"),
        ))
    }
}

/// The members RFC 8414 §2 gives a default when omitted.
fn default_of(member: &str) -> &'static [&'static str] {
    match member {
        // "If omitted, the default value is ["authorization_code", "implicit"]."
        "grant_types_supported" => &["authorization_code", "implicit"],
        // "If omitted, the default is "client_secret_basic""
        "token_endpoint_auth_methods_supported" | "revocation_endpoint_auth_methods_supported" => {
            &["client_secret_basic"]
        }
        // "If omitted, the default is "["query", "fragment"]"."
        "response_modes_supported" => &["query", "fragment"],
        // code_challenge_methods_supported: "If omitted, the authorization server does
        // not support PKCE."
        _ => &[],
    }
}

/// The values of a list member, or its §2 default when the member is omitted.
fn effective(d: &Value, member: &str) -> Vec<String> {
    match d.get(member).and_then(Value::as_array) {
        Some(a) => a
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_owned)
            .collect(),
        None => default_of(member).iter().map(|s| (*s).to_owned()).collect(),
    }
}

/// What became of one advertised value.
enum Verdict {
    /// It works.
    Works,
    /// The runner cannot check it (the implicit grant has no token request).
    Unchecked,
}

/// The failures of several checks, as one mismatch.
fn combine(what: &str, failures: Vec<(String, Mismatch)>, checked: usize) -> Check {
    if failures.is_empty() {
        if checked == 0 {
            return Err(Mismatch::not_applicable(format!(
                "nothing advertised in {what} could be checked with this profile"
            )));
        }
        return Ok(());
    }
    let actual = failures
        .iter()
        .map(|(v, m)| format!("{v}: {}", m.actual))
        .collect::<Vec<_>>()
        .join("; ");
    let exchange = failures.iter().find_map(|(_, m)| m.exchange.clone());
    Err(Mismatch {
        kind: crate::mismatch::Kind::Failed,
        expected: format!("every value advertised in {what} to work (RFC 8414 §2)"),
        actual,
        exchange,
    })
}

/// Sends `grant_type` alone for the Basic client: a supported grant type fails on its
/// missing parameters, never with unsupported_grant_type (RFC 6749 §5.2).
async fn probe_grant(w: &mut OAuthWorld, grant: &str) -> Result<Verdict, Mismatch> {
    let params = vec![("grant_type".to_owned(), grant.to_owned())];
    let x = token_request(
        w,
        ClientRole::ConfidentialBasic,
        params,
        AuthVariant::AsRegistered,
    )
    .await?;
    let error = x
        .json()
        .and_then(|j| j.get("error").and_then(Value::as_str).map(str::to_owned));
    ensure(
        x.status < 500 && error.as_deref() != Some("unsupported_grant_type"),
        format!("grant_type={grant} recognised by the token endpoint"),
        || format!("status {} error {error:?}", x.status),
        &x,
    )?;
    Ok(Verdict::Works)
}

/// Logs the primary user in for the Basic client with a PKCE mode and redeems the code.
async fn code_flow(w: &mut OAuthWorld, pkce: PkceMode) -> Check {
    let role = ClientRole::ConfidentialBasic;
    w.pkce = pkce;
    authorize(w, role, UserRole::Primary, None, true).await?;
    if w.code.is_none() {
        return Err(Mismatch::new(
            "an authorization code",
            format!(
                "a redirect with error={:?}",
                w.auth_response.as_ref().and_then(|r| r.get("error"))
            ),
        ));
    }
    let params = redemption_params(w)?;
    let x = token_request(w, role, params, AuthVariant::AsRegistered).await?;
    let t = token_set(&x, role, None)?;
    w.remember(t);
    Ok(())
}

fn can_log_in(w: &OAuthWorld) -> bool {
    w.target().has("login")
        && w.target()
            .client(ClientRole::ConfidentialBasic)
            .is_some_and(|c| c.redirect_uri.is_some())
}

/// Uses one advertised grant type the way its RFC section describes.
async fn check_grant(w: &mut OAuthWorld, grant: &str) -> Result<Verdict, Mismatch> {
    match grant {
        "authorization_code" if can_log_in(w) => {
            code_flow(w, PkceMode::Auto).await?;
            Ok(Verdict::Works)
        }
        "password" if w.target().primary.is_some() => {
            let role = ClientRole::ConfidentialBasic;
            let scope = w.client(role)?.scope;
            password_tokens(w, role, UserRole::Primary, scope).await?;
            Ok(Verdict::Works)
        }
        "client_credentials" if w.target().client(ClientRole::ClientCredentials).is_some() => {
            let role = ClientRole::ClientCredentials;
            let params = super::token::client_credentials_params(w, role)?;
            let x = token_request(w, role, params, AuthVariant::AsRegistered).await?;
            token_set(&x, role, w.last_scope.clone())?;
            Ok(Verdict::Works)
        }
        "refresh_token" => {
            if w.tokens.as_ref().and_then(|t| t.refresh.as_ref()).is_none()
                && w.target().has("user_tokens")
            {
                obtain_tokens(w, ClientRole::ConfidentialBasic, UserRole::Primary, None).await?;
            }
            let Some(t) = w.tokens.clone().filter(|t| t.refresh.is_some()) else {
                // No refresh token came with the other grants: the grant type can only
                // be probed.
                return probe_grant(w, grant).await;
            };
            let rt = w.refresh_token()?;
            let params = super::token::refresh_params(&rt);
            let x = token_request(w, t.client, params, AuthVariant::AsRegistered).await?;
            let new = token_set(&x, t.client, None)?;
            w.remember(new);
            Ok(Verdict::Works)
        }
        // The implicit grant has no token request (RFC 6749 §4.2).
        "implicit" => Ok(Verdict::Unchecked),
        _ => probe_grant(w, grant).await,
    }
}

#[then(expr = "every grant type the metadata advertises works at the token endpoint")]
async fn every_grant_works(w: &mut OAuthWorld) -> Check {
    let grants = effective(doc(w)?, "grant_types_supported");
    let mut failures = Vec::new();
    let mut checked = 0;
    for g in grants {
        match check_grant(w, &g).await {
            Ok(Verdict::Works) => checked += 1,
            Ok(Verdict::Unchecked) => {}
            Err(m) => failures.push((g, m)),
        }
    }
    combine("grant_types_supported", failures, checked)
}

#[then(expr = "every code challenge method the metadata advertises works")]
async fn every_pkce_method_works(w: &mut OAuthWorld) -> Check {
    let d = doc(w)?;
    if d.get("code_challenge_methods_supported").is_none() {
        return Err(Mismatch::new(
            "code_challenge_methods_supported, since the target supports PKCE (RFC 8414 §2: omitted means no PKCE)",
            "omitted",
        ));
    }
    let methods = effective(d, "code_challenge_methods_supported");
    let mut failures = Vec::new();
    let mut checked = 0;
    for m in methods {
        let mode = match m.as_str() {
            "S256" => PkceMode::S256,
            "plain" => PkceMode::Plain,
            // Only the methods of RFC 7636 §4.2 are known to the runner.
            _ => continue,
        };
        match code_flow(w, mode).await {
            Ok(()) => checked += 1,
            Err(e) => failures.push((m, e)),
        }
    }
    combine("code_challenge_methods_supported", failures, checked)
}

#[then(
    expr = "every client authentication method the metadata advertises works at the token endpoint"
)]
async fn every_auth_method_works(w: &mut OAuthWorld) -> Check {
    let methods = effective(doc(w)?, "token_endpoint_auth_methods_supported");
    let mut failures = Vec::new();
    let mut checked = 0;
    for m in methods {
        let wanted = match m.as_str() {
            "client_secret_basic" => AuthMethod::Basic,
            "client_secret_post" => AuthMethod::Post,
            "none" => AuthMethod::None,
            // private_key_jwt, tls_client_auth, ...: the profile holds no such client.
            _ => continue,
        };
        let Some(role) = ClientRole::ALL.into_iter().find(|r| {
            *r != ClientRole::ClientCredentials
                && w.target().client(*r).is_some_and(|c| c.auth == wanted)
        }) else {
            continue;
        };
        match obtain_tokens(w, role, UserRole::Primary, None).await {
            Ok(()) => checked += 1,
            Err(e) => failures.push((m, e)),
        }
    }
    combine("token_endpoint_auth_methods_supported", failures, checked)
}

fn metadata_url(d: &Value, member: &str) -> Option<String> {
    d.get(member).and_then(Value::as_str).map(str::to_owned)
}

/// Sends a request and checks its answer, keeping the exchange as the last one.
async fn answered(
    w: &mut OAuthWorld,
    out: Outgoing,
    ok: impl Fn(&Exchange) -> bool,
    expected: &str,
) -> Check {
    let x = send(w, out).await?;
    ensure(ok(&x), expected, || x.status_text(), &x)
}

#[then(expr = "every endpoint the metadata advertises answers as its specification defines")]
async fn every_endpoint_answers(w: &mut OAuthWorld) -> Check {
    let d = doc(w)?.clone();
    let client = w.client(ClientRole::ConfidentialBasic)?;
    let mut failures = Vec::new();
    let mut checked = 0;
    if let (Some(url), Some(redirect)) = (
        metadata_url(&d, "authorization_endpoint"),
        client.redirect_uri.clone(),
    ) {
        let verifier = random();
        let query = encode_pairs(&[
            ("response_type".into(), "code".into()),
            ("client_id".into(), client.id.clone()),
            ("redirect_uri".into(), redirect),
            ("state".into(), random()),
            ("code_challenge".into(), super::authorize::s256(&verifier)),
            ("code_challenge_method".into(), "S256".into()),
        ]);
        let sep = if url.contains('?') { '&' } else { '?' };
        let out = Outgoing::new(reqwest::Method::GET, format!("{url}{sep}{query}"));
        // A login page, or a redirect to one (RFC 6749 §3.1: GET MUST be supported).
        let r = answered(
            w,
            out,
            |x| (200..400).contains(&x.status),
            "a login page or a redirect for a valid authorization request (RFC 6749 §3.1)",
        )
        .await;
        checked += 1;
        if let Err(e) = r {
            failures.push(("authorization_endpoint".to_owned(), e));
        }
    }
    if let Some(url) = metadata_url(&d, "token_endpoint") {
        // A well-formed redemption but for the code: the redirect_uri every authorization
        // request of the suite carries (RFC 6749 §4.1.3: REQUIRED then), and a
        // code_verifier for servers that require PKCE, so that only the unknown code is
        // wrong and a server may not answer invalid_request for a missing parameter.
        let mut params = vec![
            ("grant_type".to_owned(), "authorization_code".to_owned()),
            ("code".to_owned(), random()),
        ];
        if let Some(redirect) = &client.redirect_uri {
            params.push(("redirect_uri".to_owned(), redirect.clone()));
        }
        params.push(("code_verifier".to_owned(), random()));
        send(
            w,
            authenticated_post(&url, &client, params, AuthVariant::AsRegistered),
        )
        .await?;
        checked += 1;
        // An unknown code: invalid_grant (RFC 6749 §5.2).
        if let Err(e) = check_error(w, &["invalid_grant"]) {
            failures.push(("token_endpoint".to_owned(), e));
        }
    }
    if let Some(url) = metadata_url(&d, "revocation_endpoint") {
        let params = vec![("token".to_owned(), random())];
        let out = authenticated_post(&url, &client, params, AuthVariant::AsRegistered);
        // An unknown token: 200 (RFC 7009 §2.2).
        let r = answered(
            w,
            out,
            |x| x.status == 200,
            "200 for an unknown token (RFC 7009 §2.2)",
        )
        .await;
        checked += 1;
        if let Err(e) = r {
            failures.push(("revocation_endpoint".to_owned(), e));
        }
    }
    if let Some(url) = metadata_url(&d, "introspection_endpoint") {
        let params = vec![("token".to_owned(), random())];
        let out = authenticated_post(&url, &client, params, AuthVariant::AsRegistered);
        // An unknown token: {"active": false} (RFC 7662 §2.2).
        let r = answered(
            w,
            out,
            |x| {
                x.status == 200
                    && x.json().and_then(|j| j.get("active").cloned()) == Some(Value::Bool(false))
            },
            "200 with \"active\": false for an unknown token (RFC 7662 §2.2)",
        )
        .await;
        checked += 1;
        if let Err(e) = r {
            failures.push(("introspection_endpoint".to_owned(), e));
        }
    }
    combine("the endpoint members", failures, checked)
}

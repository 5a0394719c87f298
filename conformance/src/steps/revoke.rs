//! Token revocation steps (RFC 7009 §2): revocation requests, their answers (§2.2,
//! §2.2.1), and whether a revocation took effect at the resource and at the token
//! endpoint.

use cucumber::{given, then, when};

use super::http::check_error;
use super::params::{AuthVariant, ClientParam, SECTION_5_2, TokenKind};
use super::{authenticated_post, endpoint, send};
use crate::mismatch::{Check, Mismatch, ensure};
use crate::secret::Secret;
use crate::target::ClientRole;
use crate::world::OAuthWorld;

fn token_of(w: &OAuthWorld, kind: TokenKind) -> Result<Secret, Mismatch> {
    match kind {
        TokenKind::Access => w.access_token(),
        TokenKind::Refresh => w.refresh_token(),
    }
}

/// Sends a revocation request.
pub async fn revoke(
    w: &mut OAuthWorld,
    role: ClientRole,
    params: Vec<(String, String)>,
    variant: AuthVariant,
) -> Check {
    let client = w.client(role)?;
    let url = endpoint(w, "revocation")?;
    send(w, authenticated_post(&url, &client, params, variant)).await?;
    Ok(())
}

/// Whether the target revokes access tokens at all (RFC 7009 §2: SHOULD), found out on
/// tokens of their own, without a hint; the scenario's tokens are left as they were.
/// A target that does not is not applicable to the checks that need it.
#[given(expr = "the {client} client finds that the target revokes access tokens")]
async fn revokes_access_tokens(w: &mut OAuthWorld, c: ClientParam) -> Check {
    // A property of the target: probed once per run, endpoint and client.
    static PROBED: std::sync::Mutex<Vec<(String, bool)>> = std::sync::Mutex::new(Vec::new());
    let key = format!("{} {}", endpoint(w, "revocation")?, w.client(c.0)?.id);
    let known = PROBED
        .lock()
        .ok()
        .and_then(|p| p.iter().find(|(k, _)| *k == key).map(|(_, v)| *v));
    let revokes = match known {
        Some(v) => v,
        None => {
            let kept = (w.tokens.take(), std::mem::take(&mut w.earlier_tokens));
            let probe = probe_access_revocation(w, c.0).await;
            (w.tokens, w.earlier_tokens) = kept;
            let v = probe?;
            if let Ok(mut p) = PROBED.lock() {
                p.push((key, v));
            }
            v
        }
    };
    match revokes {
        true => Ok(()),
        false => Err(Mismatch::not_applicable(
            "the target does not revoke access tokens (RFC 7009 §2 makes that a SHOULD, \
             R99a): an access token revoked without a hint still works at the resource",
        )),
    }
}

async fn probe_access_revocation(w: &mut OAuthWorld, role: ClientRole) -> Result<bool, Mismatch> {
    let user = crate::world::UserRole::Primary;
    super::authorize::obtain_tokens(w, role, user, None)
        .await
        .map_err(Mismatch::into_error)?;
    let t = w.access_token()?;
    revoke(
        w,
        role,
        vec![("token".into(), t.expose().to_owned())],
        AuthVariant::AsRegistered,
    )
    .await
    .map_err(Mismatch::into_error)?;
    let x = super::resource::call_with(w, t.expose()).await?;
    Ok((400..500).contains(&x.status))
}

#[when(expr = "the {client} client revokes the {token_kind} token")]
async fn revoke_token(w: &mut OAuthWorld, c: ClientParam, kind: TokenKind) -> Check {
    let t = token_of(w, kind)?;
    revoke(
        w,
        c.0,
        vec![("token".into(), t.expose().to_owned())],
        AuthVariant::AsRegistered,
    )
    .await
}

#[when(expr = "the {client} client revokes the {token_kind} token with the hint {string}")]
async fn revoke_with_hint(
    w: &mut OAuthWorld,
    c: ClientParam,
    kind: TokenKind,
    hint: String,
) -> Check {
    let t = token_of(w, kind)?;
    let params = vec![
        ("token".into(), t.expose().to_owned()),
        ("token_type_hint".into(), hint),
    ];
    revoke(w, c.0, params, AuthVariant::AsRegistered).await
}

#[when(expr = "the {client} client revokes the token {string}")]
async fn revoke_literal(w: &mut OAuthWorld, c: ClientParam, token: String) -> Check {
    revoke(
        w,
        c.0,
        vec![("token".into(), token)],
        AuthVariant::AsRegistered,
    )
    .await
}

#[when(expr = "the {client} client sends a revocation request without a token")]
async fn revoke_without(w: &mut OAuthWorld, c: ClientParam) -> Check {
    revoke(w, c.0, Vec::new(), AuthVariant::AsRegistered).await
}

#[when(
    expr = "the {client} client sends a revocation request authenticated {auth} for the {token_kind} token"
)]
async fn revoke_auth(
    w: &mut OAuthWorld,
    c: ClientParam,
    auth: AuthVariant,
    kind: TokenKind,
) -> Check {
    let t = token_of(w, kind)?;
    revoke(w, c.0, vec![("token".into(), t.expose().to_owned())], auth).await
}

#[then(expr = "the revocation succeeds")]
async fn succeeds(w: &mut OAuthWorld) -> Check {
    let x = w.last()?;
    ensure(
        x.status == 200,
        "status 200 (RFC 7009 §2.2)",
        || x.status_text(),
        x,
    )
}

/// Presents the current refresh token again, as its client, and returns the answer.
async fn refresh_again(
    w: &mut OAuthWorld,
) -> Result<(crate::http::Exchange, ClientRole), Mismatch> {
    let rt = w.refresh_token()?;
    let role = w.tokens()?.client;
    let params = super::token::refresh_params(&rt);
    let x = super::token::token_request(w, role, params, AuthVariant::AsRegistered).await?;
    Ok((x, role))
}

#[then(expr = "the refresh token is refused at the token endpoint")]
async fn refresh_refused(w: &mut OAuthWorld) -> Check {
    let (x, _) = refresh_again(w).await?;
    let error = x
        .json()
        .and_then(|j| j.get("error").and_then(|e| e.as_str().map(str::to_owned)));
    ensure(
        x.status == 400 && error.as_deref() == Some("invalid_grant"),
        "400 invalid_grant for this refresh token (RFC 6749 §5.2)",
        || format!("status {} error {error:?}", x.status),
        &x,
    )
}

#[then(expr = "the revocation is refused with an error")]
async fn refused(w: &mut OAuthWorld) -> Check {
    // §2.1: "the request is refused and the client is informed of the error"; §2.2.1:
    // "The error presentation conforms to the definition in Section 5.2 of [RFC6749]."
    // RFC 7009 names no particular code for a token of another client.
    check_error(w, SECTION_5_2)
}

#[then(expr = "the refresh token still works at the token endpoint")]
async fn refresh_still_works(w: &mut OAuthWorld) -> Check {
    let (x, role) = refresh_again(w).await?;
    let t = super::token::token_set(&x, role, None).map_err(|m| {
        Mismatch::in_exchange(
            "a 200 token response: the refresh token was not revoked",
            m.actual,
            &x,
        )
    })?;
    w.remember(t);
    Ok(())
}

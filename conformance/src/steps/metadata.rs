//! Authorization server metadata steps (RFC 8414).

use cucumber::{then, when};
use serde_json::Value;

use super::send;
use crate::http::Outgoing;
use crate::mismatch::{Check, Mismatch, ensure};
use crate::target::metadata_urls;
use crate::world::OAuthWorld;

#[when(expr = "the metadata document is fetched")]
async fn fetch(w: &mut OAuthWorld) -> Check {
    let issuer = w
        .target()
        .issuer
        .clone()
        .ok_or_else(|| Mismatch::cannot("the profile has no issuer"))?;
    let url = metadata_urls(&issuer)
        .into_iter()
        .next()
        .unwrap_or_default();
    let x = send(w, Outgoing::new(reqwest::Method::GET, url)).await?;
    w.metadata = x.json();
    Ok(())
}

fn doc(w: &OAuthWorld) -> Result<&Value, Mismatch> {
    w.metadata.as_ref().ok_or_else(|| match &w.last {
        Some(x) => Mismatch::in_exchange("a JSON metadata document", "no JSON body", x),
        None => Mismatch::cannot("the metadata was not fetched"),
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
    let iss = d
        .get("issuer")
        .and_then(Value::as_str)
        .map(|s| s.trim_end_matches('/').to_owned());
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
    ensure(
        x.status == 200
            && x.media_type().as_deref() == Some("application/json")
            && x.json().is_some_and(|j| j.is_object()),
        "200 with an application/json object (RFC 8414 §3.2)",
        || format!("status {} {:?}", x.status, x.header("content-type")),
        x,
    )
}

//! Entropy of codes and tokens (RFC 6749 §10.10): "The probability of an attacker
//! guessing generated tokens (and other credentials not intended for handling by
//! end-users) MUST be less than or equal to 2^(-128) and SHOULD be less than or equal to
//! 2^(-160)." A black box cannot measure randomness; it can check that values differ and
//! are long enough to hold that many bits.

use cucumber::{then, when};

use super::authorize::{authorize, obtain_tokens};
use super::params::{ClientParam, UserParam};
use crate::mismatch::{Check, Mismatch};
use crate::world::OAuthWorld;

/// RFC 6749 Appendix A: tokens and codes are `1*VSCHAR`, 95 symbols, so a value of `n`
/// characters holds at most `n * log2(95)` bits whatever its encoding.
pub const VSCHAR_BITS: f64 = 6.569_855_608_330_948;

/// The smallest common alphabet that holds every character seen: hex, base32,
/// base64(url) or any visible ASCII, and its bits per character. A heuristic: a sample
/// shows the alphabet a generator uses, not a guarantee of it.
pub fn alphabet_bits(values: &[String]) -> (f64, &'static str) {
    let all = |f: fn(char) -> bool| values.iter().all(|t| t.chars().all(f));
    let (size, name): (u32, &str) = if all(|c| c.is_ascii_digit() || ('a'..='f').contains(&c))
        || all(|c| c.is_ascii_digit() || ('A'..='F').contains(&c))
    {
        (16, "hexadecimal")
    } else if all(|c| c.is_ascii_hexdigit()) {
        (22, "mixed-case hexadecimal")
    } else if all(|c| c.is_ascii_uppercase() || ('2'..='7').contains(&c) || c == '=') {
        (33, "base32")
    } else if all(|c| c.is_ascii_alphanumeric() || "-._~+/=".contains(c)) {
        (68, "base64 or base64url")
    } else {
        (95, "visible ASCII")
    };
    (f64::from(size).log2(), name)
}

#[when(expr = "the {client} client obtains {int} authorization codes for the {user} user")]
async fn many_codes(w: &mut OAuthWorld, c: ClientParam, n: usize, u: UserParam) -> Check {
    w.samples.clear();
    for _ in 0..n {
        authorize(w, c.0, u.0, None, true).await?;
        let code =
            w.code.as_ref().map(|g| g.code.clone()).ok_or_else(|| {
                Mismatch::new("an authorization code", "a response without a code")
            })?;
        w.samples.push(code);
    }
    Ok(())
}

#[when(expr = "the {client} client obtains {int} refresh tokens for the {user} user")]
async fn many_refresh_tokens(w: &mut OAuthWorld, c: ClientParam, n: usize, u: UserParam) -> Check {
    w.samples.clear();
    for _ in 0..n {
        obtain_tokens(w, c.0, u.0, None).await?;
        let rt = w.refresh_token()?;
        w.samples.push(rt);
    }
    Ok(())
}

fn samples(w: &OAuthWorld) -> Result<Vec<String>, Mismatch> {
    if w.samples.len() < 2 {
        return Err(Mismatch::error("fewer than two values were collected"));
    }
    Ok(w.samples.iter().map(|s| s.expose().to_owned()).collect())
}

#[then(expr = "the collected values are distinct and long enough to carry 128 bits")]
async fn carry_128(w: &mut OAuthWorld) -> Check {
    let values = samples(w)?;
    let distinct: std::collections::BTreeSet<&String> = values.iter().collect();
    if distinct.len() != values.len() {
        return Err(Mismatch::new(
            format!("{} different values", values.len()),
            format!("{} different among {}", distinct.len(), values.len()),
        ));
    }
    let shortest = values.iter().map(|t| t.chars().count()).min().unwrap_or(0);
    let bits = shortest as f64 * VSCHAR_BITS;
    if bits < 128.0 {
        return Err(Mismatch::new(
            "values of at least 20 characters, the fewest that can hold 128 bits (RFC 6749 §10.10)",
            format!("a value of {shortest} characters (at most {bits:.0} bits)"),
        ));
    }
    Ok(())
}

#[then(expr = "the collected values look long enough to carry 160 bits")]
async fn carry_160(w: &mut OAuthWorld) -> Check {
    let values = samples(w)?;
    let (per_char, name) = alphabet_bits(&values);
    let shortest = values.iter().map(|t| t.chars().count()).min().unwrap_or(0);
    let bits = shortest as f64 * per_char;
    if bits < 160.0 {
        return Err(Mismatch::new(
            "values long enough for 160 bits in the alphabet they use (RFC 6749 §10.10)",
            format!("{shortest} {name} characters: at most {bits:.0} bits"),
        ));
    }
    Ok(())
}

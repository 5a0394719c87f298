//! Password sign-in, shared by the password grant (RFC 6749 §4.3.2) and the login form
//! (§4.1.1): the user lookup and the bcrypt check inside the brute-force throttle
//! ("the authorization server MUST protect the endpoint against brute force attacks",
//! §4.3.2; "MUST prevent attackers from guessing ... resource owner passwords",
//! §10.10).

use std::net::IpAddr;

use super::HttpError;
use crate::State;
use crate::model::User;
use crate::secret::Secret;
use crate::store::{failures, users};
use crate::throttle::{Refused, shared_key};

/// How a sign-in ended.
#[derive(Debug)]
pub enum SignIn {
    /// The account exists and the password is its own.
    Valid(User),
    /// Unknown account, missing or wrong password: one failure more.
    Invalid,
    /// The account and address are blocked; nothing was looked up or hashed.
    Throttled(Refused),
}

/// Signs in as `account` with `password` from `addr`. The throttle is asked first,
/// before any lookup or bcrypt work, and again once a hashing slot is free: a burst of
/// parallel guesses queues for the few slots, and those still queued when the first
/// ones have blocked the pair are refused without being hashed. With PostgreSQL the
/// failure counts and blocks are also kept in the database and asked at both points, so
/// every replica refuses a pair that guessed wrong at the others.
pub async fn sign_in(
    state: &State,
    account: Option<&str>,
    password: Option<&Secret>,
    addr: Option<IpAddr>,
) -> Result<SignIn, HttpError> {
    let mut attempt = match state.throttle.begin(account.unwrap_or(""), addr) {
        Ok(a) => a,
        Err(refused) => return Ok(SignIn::Throttled(refused)),
    };
    let settings = *state.throttle.settings();
    let key = shared_key(account.unwrap_or(""), addr);
    if let Err(refused) = failures::check(&state.db, &key, &settings).await? {
        return Ok(SignIn::Throttled(refused));
    }
    let user = match account {
        Some(a) => users::find_by_email(&state.db, a).await?,
        None => None,
    };
    let Some(password) = password else {
        failed(state, attempt, &key, &settings).await?;
        return Ok(SignIn::Invalid);
    };
    let slot = state.passwords.slot().await?;
    let elsewhere = match failures::check(&state.db, &key, &settings).await? {
        Ok(n) => n,
        Err(refused) => return Ok(SignIn::Throttled(refused)),
    };
    if let Err(refused) = attempt.start_counting(elsewhere) {
        return Ok(SignIn::Throttled(refused));
    }
    let hash = user.as_ref().map(|u| u.password_hash.as_str());
    let verified = state.passwords.verify_in(slot, password, hash).await?;
    match user.filter(|_| verified) {
        Some(user) => {
            attempt.succeeded();
            failures::forget(&state.db, &key).await?;
            Ok(SignIn::Valid(user))
        }
        None => {
            failed(state, attempt, &key, &settings).await?;
            Ok(SignIn::Invalid)
        }
    }
}

/// Counts a failure: in the database when it keeps the counts for every replica (the
/// attempt is then dropped, so the in-memory throttle keeps only its count of checks in
/// flight, which bounds a burst at this replica), in memory otherwise. The database
/// counts it before the check stops counting as in flight, so a check starting in
/// between sees one or the other.
async fn failed(
    state: &State,
    attempt: crate::throttle::Attempt<'_>,
    key: &[u8],
    settings: &crate::throttle::Settings,
) -> Result<(), HttpError> {
    if failures::record(&state.db, key, settings).await? {
        drop(attempt);
    } else {
        attempt.failed();
    }
    Ok(())
}

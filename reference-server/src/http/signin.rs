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
use crate::store::users;
use crate::throttle::Refused;

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
/// ones have blocked the pair are refused without being hashed.
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
    let user = match account {
        Some(a) => users::find_by_email(&state.db, a).await?,
        None => None,
    };
    let Some(password) = password else {
        attempt.failed();
        return Ok(SignIn::Invalid);
    };
    let slot = state.passwords.slot().await?;
    if let Err(refused) = attempt.start() {
        return Ok(SignIn::Throttled(refused));
    }
    let hash = user.as_ref().map(|u| u.password_hash.as_str());
    let verified = state.passwords.verify_in(slot, password, hash).await?;
    match user.filter(|_| verified) {
        Some(user) => {
            attempt.succeeded();
            Ok(SignIn::Valid(user))
        }
        None => {
            attempt.failed();
            Ok(SignIn::Invalid)
        }
    }
}

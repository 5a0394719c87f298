//! Password verification: bcrypt on tokio's blocking pool, at most one hash per core at
//! a time, so a burst of logins never starves the async threads that serve everything
//! else. Unknown users cost the same as known ones (a dummy hash is verified).

use std::sync::Arc;

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::secret::Secret;

/// Why a verification could not be carried out (not "wrong password").
#[derive(Debug, thiserror::Error)]
pub enum PasswordError {
    /// bcrypt refused the stored hash.
    #[error("bcrypt failed")]
    Bcrypt(#[from] bcrypt::BcryptError),
    /// The blocking task died.
    #[error("password task failed")]
    Join(#[from] tokio::task::JoinError),
    /// The limiter was closed.
    #[error("password limiter closed")]
    Closed(#[from] tokio::sync::AcquireError),
}

/// A held hashing slot of [`Passwords`].
#[derive(Debug)]
pub struct Slot {
    _permit: OwnedSemaphorePermit,
}

/// Verifies passwords against bcrypt hashes.
#[derive(Debug, Clone)]
pub struct Passwords {
    permits: Arc<Semaphore>,
    dummy_hash: Arc<str>,
}

impl Passwords {
    /// A verifier allowing one hash per core; computes the dummy hash at `cost`.
    pub async fn new(cost: u32) -> Result<Self, PasswordError> {
        let cores = std::thread::available_parallelism().map_or(1, std::num::NonZero::get);
        let dummy =
            tokio::task::spawn_blocking(move || bcrypt::hash("dummy password", cost)).await??;
        Ok(Self {
            permits: Arc::new(Semaphore::new(cores)),
            dummy_hash: dummy.into(),
        })
    }

    /// Waits for a free hashing slot (one per core).
    pub async fn slot(&self) -> Result<Slot, PasswordError> {
        Ok(Slot {
            _permit: self.permits.clone().acquire_owned().await?,
        })
    }

    /// Whether `password` matches `hash`; with no hash (unknown user) the dummy hash is
    /// checked and the answer is `false`.
    pub async fn verify(
        &self,
        password: &Secret,
        hash: Option<&str>,
    ) -> Result<bool, PasswordError> {
        let slot = self.slot().await?;
        self.verify_in(slot, password, hash).await
    }

    /// [`Passwords::verify`] in a slot already held (so the caller can decide, once its
    /// turn has come, whether to hash at all).
    pub async fn verify_in(
        &self,
        slot: Slot,
        password: &Secret,
        hash: Option<&str>,
    ) -> Result<bool, PasswordError> {
        let _slot = slot;
        let known = hash.is_some();
        let hash = hash.map_or_else(|| self.dummy_hash.to_string(), str::to_owned);
        let password = password.clone();
        let ok =
            tokio::task::spawn_blocking(move || bcrypt::verify(password.expose(), &hash)).await??;
        Ok(ok && known)
    }
}

//! Password verification: bcrypt on a few dedicated threads, one per core, that run at
//! the lowest scheduling priority (SCHED_BATCH, nice 19 on Linux). When nothing else
//! wants the CPU they use all of it, so the password grant runs at the bcrypt bound
//! (`cores / t_bcrypt`); when a request for anything else arrives, the scheduler gives
//! its thread the CPU first, so a burst of logins does not slow the rest of the server.
//! A caller first takes one of the hashing slots (one per core), so it can decide once
//! its turn has come whether to hash at all (the brute-force throttle does). Unknown
//! users cost the same as known ones (a dummy hash is verified).

use std::sync::{Arc, Mutex, mpsc};

use tokio::sync::{OwnedSemaphorePermit, Semaphore, oneshot};

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
    Limiter(#[from] tokio::sync::AcquireError),
    /// The verifier threads are gone.
    #[error("password verifier closed")]
    Closed,
    /// A verifier thread could not be started.
    #[error("could not start a password thread")]
    Spawn(#[from] std::io::Error),
}

/// A held hashing slot of [`Passwords`].
#[derive(Debug)]
pub struct Slot {
    _permit: OwnedSemaphorePermit,
}

/// One verification for the threads.
struct Job {
    password: Secret,
    hash: Arc<str>,
    done: oneshot::Sender<Result<bool, bcrypt::BcryptError>>,
}

/// Verifies passwords against bcrypt hashes.
#[derive(Debug, Clone)]
pub struct Passwords {
    permits: Arc<Semaphore>,
    jobs: mpsc::Sender<Job>,
    dummy_hash: Arc<str>,
}

impl Passwords {
    /// A verifier with one slot and one thread per core; computes the dummy hash at `cost`.
    pub async fn new(cost: u32) -> Result<Self, PasswordError> {
        let cores = std::thread::available_parallelism().map_or(1, std::num::NonZero::get);
        let dummy =
            tokio::task::spawn_blocking(move || bcrypt::hash("dummy password", cost)).await??;
        let (jobs, rx) = mpsc::channel::<Job>();
        let rx = Arc::new(Mutex::new(rx));
        for i in 0..cores {
            let rx = Arc::clone(&rx);
            std::thread::Builder::new()
                .name(format!("bcrypt-{i}"))
                .spawn(move || work(&rx))?;
        }
        Ok(Self {
            permits: Arc::new(Semaphore::new(cores)),
            jobs,
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
        let hash = hash.map_or_else(|| Arc::clone(&self.dummy_hash), Arc::from);
        let (done, answer) = oneshot::channel();
        self.jobs
            .send(Job {
                password: password.clone(),
                hash,
                done,
            })
            .map_err(|_| PasswordError::Closed)?;
        let ok = answer.await.map_err(|_| PasswordError::Closed)??;
        Ok(ok && known)
    }
}

/// A verifier thread: lowest priority, then jobs until every sender is gone.
fn work(rx: &Mutex<mpsc::Receiver<Job>>) {
    lower_priority();
    loop {
        // Waiting for the next job holds the lock; the other idle threads wait for it.
        let job = match rx.lock() {
            Ok(rx) => rx.recv(),
            Err(_) => return,
        };
        let Ok(job) = job else { return };
        let result = bcrypt::verify(job.password.expose(), &job.hash);
        let _ = job.done.send(result);
    }
}

/// Puts the calling thread at the lowest priority of the normal scheduling classes.
#[cfg(target_os = "linux")]
fn lower_priority() {
    use thread_priority::{
        NormalThreadSchedulePolicy, ThreadPriority, ThreadSchedulePolicy,
        set_thread_priority_and_policy, thread_native_id,
    };
    if let Err(e) = set_thread_priority_and_policy(
        thread_native_id(),
        ThreadPriority::Min,
        ThreadSchedulePolicy::Normal(NormalThreadSchedulePolicy::Batch),
    ) {
        tracing::debug!(error = ?e, "could not lower the priority of a password thread");
    }
}

/// Elsewhere the threads keep the default priority.
#[cfg(not(target_os = "linux"))]
fn lower_priority() {}

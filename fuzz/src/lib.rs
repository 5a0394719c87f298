//! The request generator of `oauth2-conformance fuzz` and of the reference server's own
//! fuzz test: one module, so both grow together.
//!
//! A [`case::Case`] is an abstract request: a valid seed request for one endpoint of a
//! [`spec::Spec`] (the target's endpoints, clients and users) plus a list of mutations,
//! or framing garbage. Cases name slots (a client, a pooled token or code), never
//! secrets, so a case prints no credential and shrinks like any other value.
//! [`build::build`] turns a case into bytes for the wire with the live credentials of a
//! [`pool::Pool`]. [`replay`] draws case `INDEX` of seed `SEED` on its own (so a finding is
//! replayable from two numbers) and shrinks it while a finding persists, recording the
//! shrink decisions so that the minimal case is replayable too.

pub mod build;
pub mod case;
mod mutate;
pub mod pool;
pub mod replay;
pub mod spec;
pub mod wire;

pub use build::{Built, build};
pub use case::{Case, Cred};
pub use pool::Pool;
pub use replay::{CaseId, Shrinker};
pub use spec::Spec;
pub use wire::{Auth, Request, form_encode};

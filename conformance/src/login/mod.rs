//! Drivers that obtain an authorization response from a login page, the way a user's
//! browser would, without a browser.

pub mod form;
pub mod html;

pub use form::{AuthResponse, LoginError, drive};

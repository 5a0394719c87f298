//! Drivers that obtain an authorization response from a login page, the way a user's
//! browser would, without a browser; and the cross-site forgery of those forms.

pub mod chrome;
pub mod csrf;
pub mod form;
pub mod html;

pub use form::{AuthResponse, Browser, Ended, LoginError, Visit, drive};

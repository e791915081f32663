//! Plaudit's rules. Nothing in this crate touches a database, a file or the
//! network, so every rule can be unit-tested on its own.

pub mod chat;
pub mod directory;
pub mod email;
pub mod error;
pub mod events;
pub mod mail;
pub mod member;
pub mod okr;
pub mod org;
pub mod period;
pub mod points;
pub mod recognition;
pub mod rewards;
pub mod scim;
pub mod sso;
pub mod text;
pub mod webhooks;

pub use error::{Error, ErrorKind, Result};

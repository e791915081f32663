//! One error type for every refusal. `code` is the stable, machine-readable
//! name clients rely on; `message` is for people.

use std::fmt;

/// What sort of failure this is; the HTTP layer maps it to a status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    Validation,
    Unauthenticated,
    Forbidden,
    NotFound,
    Conflict,
    PlanLimit,
    RateLimited,
    /// The request body is larger than the server takes.
    TooLarge,
    /// The request body is not in a format the route takes.
    UnsupportedMediaType,
    Unavailable,
    Internal,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error {
    pub kind: ErrorKind,
    pub code: &'static str,
    pub message: String,
    /// The input field the error is about, so forms can show it beside that field.
    pub field: Option<String>,
    /// Seconds a client should wait before trying again (rate limits).
    pub retry_after: Option<u64>,
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    pub fn new(kind: ErrorKind, code: &'static str, message: impl Into<String>) -> Self {
        Error { kind, code, message: message.into(), field: None, retry_after: None }
    }

    /// A bad value in one input field.
    pub fn invalid(field: &str, message: impl Into<String>) -> Self {
        Error::new(ErrorKind::Validation, "validation_failed", message).on_field(field)
    }

    pub fn not_found(what: &str) -> Self {
        Error::new(ErrorKind::NotFound, "not_found", format!("{what} not found"))
    }

    pub fn forbidden(message: impl Into<String>) -> Self {
        Error::new(ErrorKind::Forbidden, "not_permitted", message)
    }

    pub fn unauthenticated() -> Self {
        Error::new(ErrorKind::Unauthenticated, "unauthenticated", "sign in first")
    }

    pub fn conflict(code: &'static str, message: impl Into<String>) -> Self {
        Error::new(ErrorKind::Conflict, code, message)
    }

    pub fn internal(message: impl Into<String>) -> Self {
        Error::new(ErrorKind::Internal, "internal", message)
    }

    pub fn with_code(mut self, code: &'static str) -> Self {
        self.code = code;
        self
    }

    pub fn on_field(mut self, field: &str) -> Self {
        self.field = Some(field.to_string());
        self
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", self.message, self.code)
    }
}

impl std::error::Error for Error {}

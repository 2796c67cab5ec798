//! One error type for the whole crate: an HTTP status plus the message a user reads (Chinese).
//! Internal details go to the log, never to the page.

use std::fmt;

/// What went wrong, as callers branch on it; the HTTP status is derived from the kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// The request itself is wrong (a field, a value): 400.
    BadRequest,
    /// Not signed in, or the session expired: 401.
    Unauthenticated,
    /// Signed in, but not allowed: 403.
    Forbidden,
    NotFound,
    MethodNotAllowed,
    /// The state forbids it now (the switch is open, the session is reported …): 409.
    Conflict,
    TooLarge,
    /// A defect or an I/O failure: logged where it is created, a generic message shown.
    Internal,
}

impl Kind {
    pub fn status(self) -> u16 {
        match self {
            Kind::BadRequest => 400,
            Kind::Unauthenticated => 401,
            Kind::Forbidden => 403,
            Kind::NotFound => 404,
            Kind::MethodNotAllowed => 405,
            Kind::Conflict => 409,
            Kind::TooLarge => 413,
            Kind::Internal => 500,
        }
    }
}

#[derive(Debug)]
pub struct Error {
    pub kind: Kind,
    /// What the user reads (Chinese).
    pub message: String,
    /// For `Internal`: what went wrong, for the log. Logged once, where the error becomes a
    /// response or a command's exit (not where it is created, so it is never logged twice).
    cause: Option<String>,
}

pub type Result<T> = std::result::Result<T, Error>;

/// The message of SQLite's RAISE in the triggers that freeze a reported session.
pub const REPORTED_RAISE: &str = "pingshen: session reported";
pub const REPORTED_MESSAGE: &str = "评审结果已上报，评审工作已结束，不能再做任何修改。";

impl Error {
    pub fn new(kind: Kind, message: impl Into<String>) -> Self {
        Error { kind, message: message.into(), cause: None }
    }
    /// The internal cause, for the log (None for refusals the user can act on).
    pub fn cause(&self) -> Option<&str> {
        self.cause.as_deref()
    }
    pub fn status(&self) -> u16 {
        self.kind.status()
    }
    /// A refusal the user can act on (400 or 409): shown on the page they came from.
    pub fn is_refusal(&self) -> bool {
        matches!(self.kind, Kind::BadRequest | Kind::Conflict)
    }
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(Kind::BadRequest, message)
    }
    pub fn forbidden() -> Self {
        Self::new(Kind::Forbidden, "您没有权限访问此页面。")
    }
    pub fn forbidden_msg(message: impl Into<String>) -> Self {
        Self::new(Kind::Forbidden, message)
    }
    pub fn not_found() -> Self {
        Self::new(Kind::NotFound, "页面不存在。")
    }
    pub fn conflict(message: impl Into<String>) -> Self {
        Self::new(Kind::Conflict, message)
    }
    /// After the report nothing in the session changes (DOMAIN decision 3).
    pub fn reported() -> Self {
        Self::conflict(REPORTED_MESSAGE)
    }
    /// A generic message for the user; the cause goes to the log where the error is answered:
    /// internals never reach the browser.
    pub fn internal(cause: impl fmt::Display) -> Self {
        Error {
            kind: Kind::Internal, message: "系统内部错误，请联系会务人员。".into(), cause: Some(cause.to_string())
        }
    }
}

/// The message, and for internal errors the cause (what a log line or a terminal shows).
impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.cause {
            Some(c) => write!(f, "{}（{c}）", self.message),
            None => write!(f, "{}", self.message),
        }
    }
}

impl std::error::Error for Error {}

impl From<rusqlite::Error> for Error {
    fn from(e: rusqlite::Error) -> Self {
        // The freeze triggers' refusal is a state conflict, not a defect.
        if e.to_string().contains(REPORTED_RAISE) {
            return Error::reported();
        }
        Error::internal(format!("database: {e}"))
    }
}

impl From<std::io::Error> for Error {
    fn from(e: std::io::Error) -> Self {
        Error::internal(format!("io: {e}"))
    }
}

impl From<minijinja::Error> for Error {
    fn from(e: minijinja::Error) -> Self {
        Error::internal(format!("template: {e:#}"))
    }
}

//! One error type for the whole crate: an HTTP status plus the message a user reads (Chinese).
//! Internal details go to the log, never to the page.

use std::fmt;

#[derive(Debug)]
pub struct Error {
    pub status: u16,
    pub message: String,
}

pub type Result<T> = std::result::Result<T, Error>;

impl Error {
    pub fn new(status: u16, message: impl Into<String>) -> Self {
        Error { status, message: message.into() }
    }
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(400, message)
    }
    pub fn forbidden() -> Self {
        Self::new(403, "您没有权限访问此页面。")
    }
    pub fn forbidden_msg(message: impl Into<String>) -> Self {
        Self::new(403, message)
    }
    pub fn not_found() -> Self {
        Self::new(404, "页面不存在。")
    }
    pub fn conflict(message: impl Into<String>) -> Self {
        Self::new(409, message)
    }
    /// Logs the cause and returns a generic message: internals never reach the browser.
    pub fn internal(cause: impl fmt::Display) -> Self {
        log::error!("internal error: {cause}");
        Self::new(500, "系统内部错误，请联系会务人员。")
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.message)
    }
}

impl std::error::Error for Error {}

impl From<rusqlite::Error> for Error {
    fn from(e: rusqlite::Error) -> Self {
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

//! The connection layer's caps and deadlines, in one value (set from the config by `cli`).

use std::time::Duration;

pub struct Limits {
    /// Worker handlers running at once (the rest wait their turn).
    pub threads: usize,
    /// Open connections at once; more are answered 503 and closed.
    pub max_connections: usize,
    /// Open connections from one client address. A venue router may put every tablet behind
    /// one NAT address, so the default is half of `max_connections`: one device can hold at
    /// most half, never all.
    pub max_per_address: usize,
    /// A connection silent this long between requests is closed; a request's head must
    /// arrive within it of its first byte.
    pub idle: Duration,
    /// A whole request (head and body) from its first byte.
    pub request: Duration,
    /// A whole request whose body is over `server::LARGE_BODY` (the admin's package upload).
    pub upload: Duration,
    /// A TLS handshake from the connection's first byte.
    pub handshake: Duration,
    /// An answer's deadline with no body; a body adds its length at `min_rate` (see
    /// `wire::answer_deadline`). A client that stops reading is cut off at it.
    pub write: Duration,
    /// The slowest reading a client is allowed, in bytes a second, for a body's share of the
    /// answer's deadline (a 12 MB material at 64 KiB/s: `write` + 3 min).
    pub min_rate: u64,
    /// How long a handler may take before its request is answered 503 (the handler runs on:
    /// nothing can stop it, but the connection is no longer held for it); `upload` for a
    /// request with a body over `server::LARGE_BODY`.
    pub handler: Duration,
    /// Requests waiting for one lane's workers; beyond it a request is answered 503 at once
    /// (`server::QUEUE` unless a test sets it).
    pub queue: usize,
    /// How long a connection thread whose connection ended waits for the next one (see
    /// `Parked`) before it exits.
    pub park: Duration,
}

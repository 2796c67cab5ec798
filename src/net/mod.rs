//! The connection layer: everything between a socket and a rouille `Request` / `Response`.
//! `web` (routes, handlers, pages) sits on it and is never used by it.
//!
//! What it guarantees, for HTTP and HTTPS alike (`server` owns the accept loop and the pools,
//! `wire` one connection's bytes, `tls` the certificate):
//! - **Caps.** At most `Limits::max_connections` open connections, and `max_per_address` from
//!   one client address; over either, a fixed 503 is written without parsing anything.
//! - **Deadlines on everything read.** A TLS handshake within `handshake`; a request head's
//!   first byte within `idle` of the previous answer and the whole head within
//!   `min(idle, request)`; a body within `request` (`upload` above 1 MiB). Every socket read
//!   waits at most `wire::SLICE`, so a client dripping bytes is cut off on time.
//! - **One deadline for each answer written.** Head, body, error answers, `100 Continue`,
//!   TLS records and close_notify: all of an answer before `write` plus its body at
//!   `min_rate` bytes a second (`wire::answer_deadline`), however the client paces its reads.
//!   Sending never reads: while an answer is unsent no further request is read, so a client
//!   that pipelines and never reads holds one answer's worth and is cut at that deadline.
//! - **Bounded work.** Handlers run on fixed worker pools, one per `server::Lane`, each with a
//!   queue of at most `Limits::queue` requests (`server::QUEUE`, 1,024) (a full queue is answered 503 at once); a
//!   handler past `Limits::handler` is answered 503 and logged once per interval (it runs on,
//!   but no connection waits for it).
//! - **Bodies bounded before they are read** (`body_limit`), spooled to a file above 1 MiB.
//!
//! What may run inline, on a connection thread's small stack (`server::CONNECTION_STACK`,
//! 128 KiB): only `Lane::Inline` handlers — embedded static files and the health check,
//! neither of which touches the database or a template — and the `body_limit` function
//! (which may read the database for the signed-in account: one small query).

mod limits;
pub mod server;
pub mod tls;
mod wire;

/// The header by which a handler finds a body spooled to a file (set only by this layer;
/// a client's own header of that name is dropped).
pub const SPOOL_HEADER: &str = "X-Pingshen-Spool";

//! One HTTP/1.1 connection on the wire: the stream (plain or TLS), reading request heads and
//! bodies against their deadlines, and writing answers against one deadline for the whole
//! answer. Nothing here knows a page or a route.

use super::limits::Limits;
use rouille::Response;
use rustls::{ServerConnection, StreamOwned};
use std::io::{ErrorKind, Read, Write};
use std::net::{Shutdown, TcpStream};
use std::path::Path;
use std::time::{Duration, Instant};

/// Largest request head (request line + headers) accepted.
const MAX_HEAD: usize = 32 * 1024;
const MAX_HEADERS: usize = 100;
/// The longest single wait on a socket read or send: deadlines are checked at least this often.
pub(super) const SLICE: Duration = Duration::from_millis(500);
/// One socket read; bytes not yet used stay in the connection's buffer.
const READ_CHUNK: usize = 16 * 1024;
/// Bodies up to this size leave in the same send as the head.
const ONE_SEND: usize = 256 * 1024;
/// Pieces a large body is read and sent in.
const SEND_CHUNK: usize = 64 * 1024;

/// What the connection code needs from a stream: bytes in, the socket under it (for
/// deadlines), bytes out against a deadline, and a clean close. Plain TCP and rustls'
/// `StreamOwned` both are one: the same code, deadlines and caps serve HTTP and HTTPS, one
/// thread per connection either way.
pub trait Transport: Read {
    fn socket(&self) -> &TcpStream;
    /// Sends all of `data` before `deadline`, or fails (`TimedOut` past it). It never reads:
    /// rustls' own `write` runs `complete_io`, which, blocked on a client that does not read,
    /// went on reading that client's pipelined requests — one blocked send at a time, for
    /// minutes. The socket's send timeout is `SLICE`, so the deadline is checked that often.
    fn send(&mut self, data: &[u8], deadline: Instant) -> std::io::Result<()>;
    /// Ends the connection (TLS: close_notify first, itself under a short deadline).
    fn finish(&mut self);
}

/// One socket send before `deadline`: `Ok(n)` sent, or `TimedOut` once it has passed.
fn send_some(mut w: impl Write, data: &[u8], deadline: Instant) -> std::io::Result<usize> {
    loop {
        if Instant::now() >= deadline {
            return Err(ErrorKind::TimedOut.into());
        }
        match w.write(data) {
            Ok(0) => return Err(ErrorKind::WriteZero.into()),
            Ok(n) => return Ok(n),
            Err(e) if timed_out(&e) => continue,
            Err(e) => return Err(e),
        }
    }
}

impl Transport for TcpStream {
    fn socket(&self) -> &TcpStream {
        self
    }
    fn send(&mut self, mut data: &[u8], deadline: Instant) -> std::io::Result<()> {
        while !data.is_empty() {
            let n = send_some(&*self, data, deadline)?;
            data = &data[n..];
        }
        Ok(())
    }
    fn finish(&mut self) {
        if let Err(e) = self.shutdown(Shutdown::Both) {
            log::trace!("shutdown: {e}");
        }
    }
}

/// Hands rustls' pending TLS records to the socket before `deadline`, without reading.
fn drain_tls(conn: &mut ServerConnection, sock: &TcpStream, deadline: Instant) -> std::io::Result<()> {
    while conn.wants_write() {
        if Instant::now() >= deadline {
            return Err(ErrorKind::TimedOut.into());
        }
        match conn.write_tls(&mut &*sock) {
            Ok(0) => return Err(ErrorKind::WriteZero.into()),
            Ok(_) => {}
            Err(e) if timed_out(&e) => continue,
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

impl Transport for StreamOwned<ServerConnection, TcpStream> {
    fn socket(&self) -> &TcpStream {
        &self.sock
    }
    fn send(&mut self, mut data: &[u8], deadline: Instant) -> std::io::Result<()> {
        drain_tls(&mut self.conn, &self.sock, deadline)?;
        while !data.is_empty() {
            // Plaintext in, as much as rustls' buffer takes; then its records out.
            let n = self.conn.writer().write(data)?;
            drain_tls(&mut self.conn, &self.sock, deadline)?;
            if n == 0 {
                return Err(ErrorKind::WriteZero.into());
            }
            data = &data[n..];
        }
        Ok(())
    }
    fn finish(&mut self) {
        self.conn.send_close_notify();
        if let Err(e) = drain_tls(&mut self.conn, &self.sock, Instant::now() + Duration::from_secs(1)) {
            log::trace!("close_notify: {e}");
        }
        if let Err(e) = self.sock.shutdown(Shutdown::Both) {
            log::trace!("shutdown: {e}");
        }
    }
}

/// A connection's stream with the bytes read but not yet used (the rest of a head, a body, a
/// pipelined request). Nothing is reserved for a body before its bytes arrive.
pub(super) struct Conn<S: Transport> {
    pub(super) s: S,
    pub(super) buf: Vec<u8>,
    /// The read timeout last set on the socket: most reads keep `SLICE`, and setting it again
    /// would cost a system call per read.
    pub(super) timeout: Option<Duration>,
}

pub(super) fn timed_out(e: &std::io::Error) -> bool {
    matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut | ErrorKind::Interrupted)
}

impl<S: Transport> Conn<S> {
    /// Reads more bytes before `deadline`; `Ok(0)`: the client closed. Each read waits at most
    /// `SLICE`, so a deadline holds even when one read call makes several socket reads (TLS).
    pub(super) fn fill(&mut self, deadline: Instant) -> std::io::Result<usize> {
        let mut chunk = [0u8; READ_CHUNK];
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(ErrorKind::TimedOut.into());
            }
            let want = left.min(SLICE);
            if self.timeout != Some(want) {
                self.s.socket().set_read_timeout(Some(want))?;
                self.timeout = Some(want);
            }
            match self.s.read(&mut chunk) {
                Ok(n) => {
                    self.buf.extend_from_slice(&chunk[..n]);
                    return Ok(n);
                }
                Err(e) if timed_out(&e) => continue,
                Err(e) => return Err(e),
            }
        }
    }

    /// One request head. The first byte must come within `idle` of the previous answer (else
    /// the connection just ends); from it, the whole head within `min(idle, request)` — checked
    /// before every read, so a client dripping a byte at a time is cut off too (408).
    pub(super) fn read_head(&mut self, l: &Limits) -> Result<(Head, Instant), HeadError> {
        let waiting = Instant::now() + l.idle;
        let mut started: Option<Instant> = None;
        loop {
            // Stray CRLFs between requests are tolerated (RFC 9112 §2.2).
            let blank = self.buf.iter().take_while(|b| matches!(b, b'\r' | b'\n')).count();
            self.buf.drain(..blank);
            if !self.buf.is_empty() {
                let start = *started.get_or_insert_with(Instant::now);
                if let Some((head, used)) = parse_head(&self.buf)? {
                    self.buf.drain(..used);
                    return Ok((head, start));
                }
            }
            let deadline = match started {
                None => waiting,
                Some(s) => s + l.idle.min(l.request),
            };
            match self.fill(deadline) {
                Ok(0) => return Err(HeadError::Gone),
                Ok(_) => {}
                Err(e) if e.kind() == ErrorKind::TimedOut && started.is_some() => {
                    return Err(HeadError::Bad(408, "请求超时。"));
                }
                Err(_) => return Err(HeadError::Gone),
            }
        }
    }

    /// A body of `n` bytes before `deadline`: in memory, grown as it arrives, or written to a
    /// spool file in `spool` as it arrives. `None`: the client left.
    pub(super) fn read_body(
        &mut self,
        n: u64,
        deadline: Instant,
        spool: Option<&Path>,
    ) -> Result<Option<Body>, BodyError> {
        let mut body = match spool {
            Some(dir) => {
                Body::Spooled(tempfile::Builder::new().prefix("upload-").tempfile_in(dir).map_err(BodyError::Spool)?)
            }
            None => Body::Mem(Vec::with_capacity(READ_CHUNK)),
        };
        let mut got: u64 = 0;
        loop {
            let take = (self.buf.len() as u64).min(n - got) as usize;
            match &mut body {
                Body::Mem(v) => v.extend_from_slice(&self.buf[..take]),
                Body::Spooled(f) => f.write_all(&self.buf[..take]).map_err(BodyError::Spool)?,
            }
            self.buf.drain(..take);
            got += take as u64;
            if got == n {
                return Ok(Some(body));
            }
            match self.fill(deadline) {
                Ok(0) => return Ok(None),
                Ok(_) => {}
                Err(e) if e.kind() == ErrorKind::TimedOut => return Err(BodyError::TimedOut),
                Err(e) => return Err(BodyError::Io(e)),
            }
        }
    }

    /// After a refusal: what the client still sends (an oversized upload) is read and dropped
    /// for at most a few seconds, so it sees the answer instead of "connection reset".
    pub(super) fn linger(&mut self) {
        let until = Instant::now() + Duration::from_secs(5);
        while matches!(self.fill(until), Ok(n) if n > 0) {
            self.buf.clear();
        }
    }
}

/// A request body as read: in memory, or spooled to a file removed when this is dropped.
pub(super) enum Body {
    Mem(Vec<u8>),
    Spooled(tempfile::NamedTempFile),
}

pub(super) enum BodyError {
    TimedOut,
    /// The spool file could not be written (disk full?): the server's fault, not the client's.
    Spool(std::io::Error),
    Io(std::io::Error),
}

pub(super) struct Head {
    pub(super) method: String,
    pub(super) url: String,
    pub(super) headers: Vec<(String, String)>,
    pub(super) keep_alive: bool,
    pub(super) content_length: u64,
    pub(super) expect_continue: bool,
}

pub(super) enum HeadError {
    /// The connection closed or went silent between requests: nothing to answer.
    Gone,
    /// Answer with this status and close.
    Bad(u16, &'static str),
}

/// Parses a request head at the start of `buf` with httparse: `None` until it is complete.
/// Strict: obs-fold, whitespace before a colon and bare CR are errors (400); chunked bodies
/// are refused (411, browsers send forms with a length), and so are conflicting lengths.
pub(super) fn parse_head(buf: &[u8]) -> Result<Option<(Head, usize)>, HeadError> {
    let bad = HeadError::Bad(400, "请求格式错误。");
    let mut slots = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut req = httparse::Request::new(&mut slots);
    let used = match req.parse(buf) {
        Ok(httparse::Status::Complete(n)) => n,
        Ok(httparse::Status::Partial) if buf.len() > MAX_HEAD => return Err(HeadError::Bad(431, "请求头过大。")),
        Ok(httparse::Status::Partial) => return Ok(None),
        Err(httparse::Error::TooManyHeaders) => return Err(HeadError::Bad(431, "请求头过多。")),
        Err(httparse::Error::Version) => return Err(HeadError::Bad(505, "不支持的 HTTP 版本。")),
        Err(_) => return Err(bad),
    };
    if used > MAX_HEAD {
        return Err(HeadError::Bad(431, "请求头过大。"));
    }
    let (Some(method), Some(url), Some(version)) = (req.method, req.path, req.version) else { return Err(bad) };
    if method.is_empty() || !method.bytes().all(|b| b.is_ascii_uppercase()) || !url.starts_with('/') {
        return Err(bad);
    }
    let mut headers = Vec::with_capacity(req.headers.len());
    let mut content_length: Option<u64> = None;
    let mut connection = String::new();
    let mut expect_continue = false;
    for h in req.headers.iter() {
        let (name, value) = (h.name, String::from_utf8_lossy(h.value).trim().to_string());
        if name.eq_ignore_ascii_case("Content-Length") {
            if value.is_empty() || !value.bytes().all(|b| b.is_ascii_digit()) {
                return Err(bad);
            }
            let n: u64 = value.parse().map_err(|_| HeadError::Bad(400, "请求格式错误。"))?;
            if content_length.is_some_and(|m| m != n) {
                return Err(bad);
            }
            content_length = Some(n);
        } else if name.eq_ignore_ascii_case("Transfer-Encoding") {
            return Err(HeadError::Bad(411, "请求需要 Content-Length。"));
        } else if name.eq_ignore_ascii_case("Connection") {
            connection = value.to_ascii_lowercase();
        } else if name.eq_ignore_ascii_case("Expect") {
            if !value.eq_ignore_ascii_case("100-continue") {
                return Err(HeadError::Bad(417, "不支持的 Expect。"));
            }
            expect_continue = true;
        }
        headers.push((name.to_string(), value));
    }
    let keep_alive = if version == 1 { !connection.contains("close") } else { connection.contains("keep-alive") };
    let head = Head {
        method: method.to_string(),
        url: url.to_string(),
        headers,
        keep_alive,
        content_length: content_length.unwrap_or(0),
        expect_continue,
    };
    Ok(Some((head, used)))
}

fn reason(status: u16) -> &'static str {
    match status {
        100 => "Continue",
        200 => "OK",
        204 => "No Content",
        206 => "Partial Content",
        301 => "Moved Permanently",
        302 => "Found",
        303 => "See Other",
        304 => "Not Modified",
        307 => "Temporary Redirect",
        308 => "Permanent Redirect",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        408 => "Request Timeout",
        409 => "Conflict",
        411 => "Length Required",
        413 => "Content Too Large",
        417 => "Expectation Failed",
        429 => "Too Many Requests",
        431 => "Request Header Fields Too Large",
        500 => "Internal Server Error",
        503 => "Service Unavailable",
        507 => "Insufficient Storage",
        505 => "HTTP Version Not Supported",
        _ => "Status",
    }
}

/// How long an answer of `len` body bytes may take to leave: `Limits::write`, plus the body at
/// `Limits::min_rate` bytes a second. A client slower than that (or one that stops reading)
/// is cut off, however it paces its reads: the deadline is for the whole answer, not a send.
pub(super) fn answer_deadline(l: &Limits, len: u64) -> Instant {
    let rate = l.min_rate.max(1);
    Instant::now() + l.write + Duration::from_millis(len.saturating_mul(1000) / rate)
}

pub(super) fn write_plain(w: &mut impl Transport, l: &Limits, status: u16, msg: &str) -> std::io::Result<()> {
    let text = format!(
        "HTTP/1.1 {status} {}\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{msg}",
        reason(status),
        msg.len()
    );
    w.send(text.as_bytes(), answer_deadline(l, msg.len() as u64))
}

/// Head and body go out in one send when the body is small (a page), so no connection keeps
/// a write buffer between requests; a large body (a material file) follows the head in
/// pieces. All of it before one deadline (`answer_deadline`).
pub(super) fn write_response(
    w: &mut impl Transport,
    l: &Limits,
    r: Response,
    is_head: bool,
    keep_alive: bool,
) -> std::io::Result<()> {
    let (mut data, len) = r.data.into_reader_and_size();
    let mut out = Vec::with_capacity(512);
    let mut body_in_out = false;
    let len = match len {
        Some(n) => n,
        None => {
            // Unknown length: read it all first (the head needs Content-Length).
            let mut body = Vec::new();
            data.read_to_end(&mut body)?;
            let n = body.len();
            data = Box::new(std::io::Cursor::new(body));
            n
        }
    };
    let status = r.status_code;
    write!(out, "HTTP/1.1 {status} {}\r\n", reason(status))?;
    for (k, v) in &r.headers {
        if k.eq_ignore_ascii_case("Content-Length")
            || k.eq_ignore_ascii_case("Transfer-Encoding")
            || k.eq_ignore_ascii_case("Connection")
            || k.contains(['\r', '\n'])
            || v.contains(['\r', '\n'])
        {
            continue;
        }
        write!(out, "{k}: {v}\r\n")?;
    }
    let bodiless = is_head || status == 304 || status == 204 || (100..200).contains(&status);
    if status != 304 && status != 204 {
        write!(out, "Content-Length: {len}\r\n")?;
    }
    out.extend_from_slice(if keep_alive { b"Connection: keep-alive\r\n\r\n" } else { b"Connection: close\r\n\r\n" });
    if !bodiless && len <= ONE_SEND {
        out.reserve_exact(len);
        (&mut data).take(len as u64).read_to_end(&mut out)?;
        body_in_out = true;
    }
    let deadline = answer_deadline(l, if bodiless { 0 } else { len as u64 });
    w.send(&out, deadline)?;
    if !bodiless && !body_in_out {
        let mut rest = data.take(len as u64);
        let mut chunk = vec![0u8; SEND_CHUNK];
        loop {
            let n = rest.read(&mut chunk)?;
            if n == 0 {
                break;
            }
            w.send(&chunk[..n], deadline)?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn head(text: &str) -> Result<Head, HeadError> {
        let raw = format!("{text}\r\n\r\n");
        parse_head(raw.as_bytes()).map(|h| h.map(|(h, _)| h).expect("complete"))
    }

    fn status(r: Result<Head, HeadError>) -> u16 {
        match r {
            Ok(_) => 200,
            Err(HeadError::Gone) => 0,
            Err(HeadError::Bad(s, _)) => s,
        }
    }

    #[test]
    fn parses_and_refuses_heads() {
        let h = head("POST /login HTTP/1.1\r\nHost: x\r\nContent-Length: 12").ok().unwrap();
        assert_eq!((h.method.as_str(), h.url.as_str(), h.content_length, h.keep_alive), ("POST", "/login", 12, true));
        assert!(!head("GET / HTTP/1.0").ok().unwrap().keep_alive);
        assert!(!head("GET / HTTP/1.1\r\nConnection: close").ok().unwrap().keep_alive);
        assert_eq!(status(head("GET / HTTP/2.0")), 505);
        assert_eq!(status(head("GET http://evil/ HTTP/1.1")), 400);
        assert_eq!(status(head("GET / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2")), 400);
        assert_eq!(status(head("GET / HTTP/1.1\r\nContent-Length: -1")), 400);
        assert_eq!(status(head("GET / HTTP/1.1\r\nContent-Length: +1")), 400);
        assert_eq!(status(head("POST / HTTP/1.1\r\nTransfer-Encoding: chunked")), 411);
        assert_eq!(status(head("GET / HTTP/1.1\r\nno colon")), 400);
        assert_eq!(status(head("get / HTTP/1.1")), 400);
    }

    /// Smuggling shapes a lenient parser lets through (RFC 9112 §5.1, §5.2, §2.2).
    #[test]
    fn strict_about_folding_whitespace_and_bare_cr() {
        assert_eq!(status(head("GET / HTTP/1.1\r\nX-A: 1\r\n folded")), 400, "obs-fold");
        assert_eq!(status(head("GET / HTTP/1.1\r\nContent-Length : 5")), 400, "space before the colon");
        assert_eq!(status(head("GET / HTTP/1.1\r\nX-A: 1\rX-B: 2")), 400, "bare CR");
    }

    #[test]
    fn a_head_is_complete_only_at_its_blank_line() {
        assert!(parse_head(b"GET / HTTP/1.1\r\nHost: x\r\n").ok().unwrap().is_none());
        let (h, used) = parse_head(b"GET /a HTTP/1.1\r\n\r\nGET /b").ok().unwrap().unwrap();
        assert_eq!((h.url.as_str(), used), ("/a", 19));
        let long = format!("GET / HTTP/1.1\r\nX: {}\r\n", "a".repeat(40_000));
        assert!(matches!(parse_head(long.as_bytes()), Err(HeadError::Bad(431, _))));
    }
}

//! The HTTP/1.1 connection layer under rouille's `Request` / `Response`.
//!
//! rouille's own server (tiny_http) failed the venue load test in three ways, each measured by
//! `examples/loadtest.rs` (BENCHMARKS.md):
//! - its connection thread pool has a race: two connections arriving together while one pool
//!   thread is idle leave the second queued until some other connection closes — a browser
//!   hung for 30 s, or for ever without a timeout;
//! - no timeouts: a client that opens connections and never finishes a request holds a thread
//!   each, without limit, until thread creation fails and the accept thread dies;
//! - it writes a response's head and body in two sends without `TCP_NODELAY`, so every page over
//!   1 KiB waited ~40 ms for the browser's delayed ACK.
//!
//! So this module owns the socket: one accept loop with a connection cap, one small thread per
//! connection with `TCP_NODELAY`, an idle timeout and a deadline for each request's head (a
//! slow-drip client cannot keep a thread), bodies bounded before they are read, and a fixed
//! pool of workers running the handlers, in lanes (see `Lane`). Connection threads only parse and write, so
//! their stacks stay small; the deep stacks of page rendering exist `threads` times, not once
//! per connection (that was most of the server's memory with 500 browsers). Handlers are
//! unchanged: they get a rouille `Request`.

// The connection layer is being rewritten as one piece by its own issue (one connection layer that no
// misbehaving device can take down); until then it keeps its own error handling.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::let_underscore_must_use, unsafe_code)]

use rouille::{Request, Response};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{channel, sync_channel, Receiver, Sender, SyncSender};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Largest request head (request line + headers) accepted.
const MAX_HEAD: usize = 32 * 1024;
const MAX_HEADERS: usize = 100;

/// Which pool of workers answers a request. Lanes keep cheap requests from queueing behind
/// expensive ones: a live-counter poll never waits behind page renders, and 500 people
/// signing in at once (bcrypt, ~60 ms of CPU each) occupy the login lane, not every worker.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Lane {
    /// Pages: `Limits::threads` workers (CPU-bound; more would only hold more pages in memory).
    Main,
    /// Form posts: `FORM_WORKERS`. A write spends most of its time waiting for its group
    /// commit, not on the CPU: with as few workers as pages get, 500 votes submitted at once
    /// queued for 0.6 s while the disk idled and each commit carried only a few of them.
    Form,
    /// Polls, static files, health: small and read-only; 4 workers.
    Light,
    /// Password checks: as many workers as cores.
    Login,
}

const LANES: [Lane; 4] = [Lane::Main, Lane::Form, Lane::Light, Lane::Login];
const FORM_WORKERS: usize = 16;

pub struct Limits {
    /// Worker handlers running at once (the rest wait their turn).
    pub threads: usize,
    /// Open connections at once; more are answered 503 and closed.
    pub max_connections: usize,
    /// A connection silent this long is closed; a request's head must arrive within it.
    pub idle: Duration,
}

type BodyLimit = dyn Fn(&Request) -> u64 + Send + Sync;
type Classify = dyn Fn(&Request) -> Lane + Send + Sync;
type Handler = dyn Fn(&Request) -> Response + Send + Sync;

/// A parsed request on its way to a worker, with where to send the answer.
struct Job {
    request: Request,
    reply: SyncSender<Response>,
}

struct Shared {
    limits: Limits,
    body_limit: Box<BodyLimit>,
    lane: Box<Classify>,
    open: AtomicUsize,
    /// One queue per lane, in the order of `LANES`.
    jobs: Vec<Mutex<Sender<Job>>>,
}

/// Read buffer of a connection.
const READ_BUFFER: usize = 4 * 1024;
/// Bodies up to this size leave in the same send as the head.
const ONE_SEND: usize = 256 * 1024;

/// Stack of a connection thread: parsing and writing only (handlers run on the workers).
const CONNECTION_STACK: usize = 128 * 1024;

pub struct Server {
    listener: TcpListener,
    shared: Arc<Shared>,
}

impl Server {
    /// `body_limit` sees a request without its body and says how many body bytes it may send;
    /// more is refused with 413 before anything is read.
    /// `lane` picks the worker pool of each request.
    pub fn new<L, C, F>(listener: TcpListener, limits: Limits, body_limit: L, lane: C, handler: F) -> Server
    where
        L: Fn(&Request) -> u64 + Send + Sync + 'static,
        C: Fn(&Request) -> Lane + Send + Sync + 'static,
        F: Fn(&Request) -> Response + Send + Sync + 'static,
    {
        let handler: Arc<Handler> = Arc::new(handler);
        let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(2);
        let jobs = LANES
            .iter()
            .map(|lane| {
                let workers = match lane {
                    Lane::Main => limits.threads.max(1),
                    Lane::Form => FORM_WORKERS,
                    Lane::Light => 4,
                    Lane::Login => cores,
                };
                let (tx, rx) = channel::<Job>();
                let rx = Arc::new(Mutex::new(rx));
                for i in 0..workers {
                    let (rx, handler) = (rx.clone(), handler.clone());
                    std::thread::Builder::new()
                        .name(format!("http-{lane:?}-{i}").to_lowercase())
                        .spawn(move || worker(&rx, &*handler))
                        .expect("start an HTTP worker");
                }
                Mutex::new(tx)
            })
            .collect();
        let shared =
            Shared { limits, body_limit: Box::new(body_limit), lane: Box::new(lane), open: AtomicUsize::new(0), jobs };
        Server { listener, shared: Arc::new(shared) }
    }

    pub fn server_addr(&self) -> SocketAddr {
        self.listener.local_addr().expect("bound listener")
    }

    /// Accepts connections until the process ends.
    pub fn run(self) {
        loop {
            let stream = match self.listener.accept() {
                Ok((s, _)) => s,
                Err(e) => {
                    // E.g. out of file descriptors: wait a little and carry on, never stop.
                    log::warn!("accept: {e}");
                    std::thread::sleep(Duration::from_millis(50));
                    continue;
                }
            };
            let shared = self.shared.clone();
            if shared.open.fetch_add(1, Ordering::AcqRel) >= shared.limits.max_connections {
                shared.open.fetch_sub(1, Ordering::AcqRel);
                refuse(stream);
                continue;
            }
            let spawned =
                std::thread::Builder::new().name("http-conn".into()).stack_size(CONNECTION_STACK).spawn(move || {
                    let _ = connection(&shared, stream);
                    shared.open.fetch_sub(1, Ordering::AcqRel);
                });
            if let Err(e) = spawned {
                // The closure (and the connection) was dropped; count it closed.
                self.shared.open.fetch_sub(1, Ordering::AcqRel);
                log::warn!("cannot start a connection thread: {e}");
            }
        }
    }
}

/// Over the cap: a short answer instead of silence, so a browser shows something and retries.
fn refuse(mut stream: TcpStream) {
    let _ = stream.set_write_timeout(Some(Duration::from_secs(1)));
    let body = "服务器繁忙，请稍后刷新。";
    let _ = write!(
        stream,
        "HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: {}\r\nRetry-After: 2\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    let _ = stream.shutdown(Shutdown::Both);
}

struct Head {
    method: String,
    url: String,
    headers: Vec<(String, String)>,
    keep_alive: bool,
    content_length: u64,
    expect_continue: bool,
}

enum HeadError {
    /// The connection closed or went silent between requests: nothing to answer.
    Gone,
    /// Answer with this status and close.
    Bad(u16, &'static str),
}

fn connection(shared: &Shared, stream: TcpStream) -> std::io::Result<()> {
    let idle = shared.limits.idle;
    stream.set_nodelay(true)?;
    stream.set_write_timeout(Some(idle))?;
    let remote = stream.peer_addr()?;
    // Small: request heads are a few hundred bytes, and 500 idle keep-alive connections each
    // hold one. Responses are assembled per request (write_response), not in a kept buffer.
    let mut reader = BufReader::with_capacity(READ_BUFFER, stream.try_clone()?);
    let mut writer = stream.try_clone()?;
    loop {
        let head = match read_head(&mut reader, &stream, idle) {
            Ok(h) => h,
            Err(HeadError::Gone) => break,
            Err(HeadError::Bad(status, msg)) => {
                write_plain(&mut writer, status, msg)?;
                linger(&mut reader, &stream);
                return Ok(());
            }
        };
        let probe =
            Request::fake_http_from(remote, head.method.as_str(), head.url.as_str(), head.headers.clone(), vec![]);
        let mut body = Vec::new();
        if head.content_length > 0 {
            if head.content_length > (shared.body_limit)(&probe) {
                write_plain(&mut writer, 413, "请求内容过大。")?;
                linger(&mut reader, &stream);
                return Ok(());
            }
            if head.expect_continue {
                writer.write_all(b"HTTP/1.1 100 Continue\r\n\r\n")?;
            }
            stream.set_read_timeout(Some(idle))?;
            body.reserve_exact(head.content_length as usize);
            if (&mut reader).take(head.content_length).read_to_end(&mut body)? as u64 != head.content_length {
                break; // the client went away halfway
            }
        }
        let is_head = head.method == "HEAD";
        let request = Request::fake_http_from(remote, head.method, head.url, head.headers, body);
        let response = run_handler(shared, request);
        write_response(&mut writer, response, is_head, head.keep_alive)?;
        if !head.keep_alive {
            break;
        }
    }
    let _ = stream.shutdown(Shutdown::Both);
    Ok(())
}

/// Closes after a refusal without resetting the connection under the client's feet: a browser
/// still sending an oversized upload would otherwise see "connection reset" instead of the
/// answer. What it still sends is read and dropped, for at most a few seconds.
fn linger(reader: &mut BufReader<TcpStream>, stream: &TcpStream) {
    let _ = stream.shutdown(Shutdown::Write);
    let until = Instant::now() + Duration::from_secs(5);
    let _ = stream.set_read_timeout(Some(Duration::from_secs(1)));
    let mut buf = [0u8; 16 * 1024];
    while Instant::now() < until {
        match reader.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(_) => {}
        }
    }
}

fn internal_error() -> Response {
    Response::html("<h1>服务器内部错误</h1><p>请重试；如仍有问题，请联系会务人员。</p>").with_status_code(500)
}

/// Hands the request to the worker pool and waits for its answer.
fn run_handler(shared: &Shared, request: Request) -> Response {
    let (reply, answer) = sync_channel(1);
    let lane = (shared.lane)(&request);
    let queue = &shared.jobs[LANES.iter().position(|l| *l == lane).unwrap_or(0)];
    let sent = queue.lock().unwrap_or_else(|p| p.into_inner()).send(Job { request, reply });
    if sent.is_err() {
        return internal_error();
    }
    answer.recv().unwrap_or_else(|_| internal_error())
}

/// A worker: runs handlers one at a time; a panic becomes a 500 page, never a dead worker.
fn worker(jobs: &Mutex<Receiver<Job>>, handler: &Handler) {
    loop {
        let job = match jobs.lock().unwrap_or_else(|p| p.into_inner()).recv() {
            Ok(j) => j,
            Err(_) => return,
        };
        let response = catch_unwind(AssertUnwindSafe(|| handler(&job.request))).unwrap_or_else(|_| internal_error());
        let _ = job.reply.send(response);
    }
}

/// Reads one request head. The whole head must arrive within `idle` of its first byte (and the
/// first byte within `idle` of the previous response): the deadline is checked before every
/// read, so a client dripping one byte every few seconds is cut off too, not only a silent one.
fn read_head(reader: &mut BufReader<TcpStream>, stream: &TcpStream, idle: Duration) -> Result<Head, HeadError> {
    let mut lines: Vec<String> = Vec::new();
    let mut total = 0usize;
    let mut deadline: Option<Instant> = None;
    let mut line = Vec::new();
    loop {
        let left = match deadline {
            None => idle,
            Some(d) => d.checked_duration_since(Instant::now()).ok_or(HeadError::Bad(408, "请求超时。"))?,
        };
        stream.set_read_timeout(Some(left.max(Duration::from_millis(1)))).map_err(|_| HeadError::Gone)?;
        let buf = match reader.fill_buf() {
            Ok(b) => b,
            Err(e) if matches!(e.kind(), std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut) => {
                return Err(if deadline.is_none() { HeadError::Gone } else { HeadError::Bad(408, "请求超时。") });
            }
            Err(_) => return Err(HeadError::Gone),
        };
        if buf.is_empty() {
            return Err(HeadError::Gone);
        }
        deadline.get_or_insert_with(|| Instant::now() + idle);
        let (take, complete) = match buf.iter().position(|&b| b == b'\n') {
            Some(i) => (i + 1, true),
            None => (buf.len(), false),
        };
        line.extend_from_slice(&buf[..take]);
        reader.consume(take);
        total += take;
        if total > MAX_HEAD {
            return Err(HeadError::Bad(431, "请求头过大。"));
        }
        if !complete {
            continue;
        }
        let text = String::from_utf8_lossy(&line).trim_end_matches(['\r', '\n']).to_string();
        line.clear();
        if text.is_empty() {
            if lines.is_empty() {
                continue; // tolerated: a stray CRLF between requests
            }
            break;
        }
        lines.push(text);
        if lines.len() > MAX_HEADERS + 1 {
            return Err(HeadError::Bad(431, "请求头过多。"));
        }
    }
    parse_head(&lines)
}

fn parse_head(lines: &[String]) -> Result<Head, HeadError> {
    let bad = HeadError::Bad(400, "请求格式错误。");
    let mut parts = lines[0].split(' ');
    let (Some(method), Some(url), Some(version), None) = (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(bad);
    };
    if method.is_empty() || !method.bytes().all(|b| b.is_ascii_uppercase()) || !url.starts_with('/') {
        return Err(bad);
    }
    let http11 = match version {
        "HTTP/1.1" => true,
        "HTTP/1.0" => false,
        _ => return Err(HeadError::Bad(505, "不支持的 HTTP 版本。")),
    };
    let mut headers = Vec::with_capacity(lines.len() - 1);
    let mut content_length: Option<u64> = None;
    let mut connection = String::new();
    let mut expect_continue = false;
    for l in &lines[1..] {
        let Some((name, value)) = l.split_once(':') else { return Err(bad) };
        let (name, value) = (name.trim(), value.trim());
        if name.is_empty() || name.contains(' ') {
            return Err(bad);
        }
        if name.eq_ignore_ascii_case("Content-Length") {
            let n: u64 = value.parse().map_err(|_| HeadError::Bad(400, "请求格式错误。"))?;
            if content_length.is_some_and(|m| m != n) {
                return Err(bad);
            }
            content_length = Some(n);
        } else if name.eq_ignore_ascii_case("Transfer-Encoding") {
            // Browsers send forms and uploads with a length; chunked bodies are not accepted.
            return Err(HeadError::Bad(411, "请求需要 Content-Length。"));
        } else if name.eq_ignore_ascii_case("Connection") {
            connection = value.to_ascii_lowercase();
        } else if name.eq_ignore_ascii_case("Expect") {
            if !value.eq_ignore_ascii_case("100-continue") {
                return Err(HeadError::Bad(417, "不支持的 Expect。"));
            }
            expect_continue = true;
        }
        headers.push((name.to_string(), value.to_string()));
    }
    let keep_alive = if http11 { !connection.contains("close") } else { connection.contains("keep-alive") };
    Ok(Head {
        method: method.to_string(),
        url: url.to_string(),
        headers,
        keep_alive,
        content_length: content_length.unwrap_or(0),
        expect_continue,
    })
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
        505 => "HTTP Version Not Supported",
        _ => "Status",
    }
}

fn write_plain(w: &mut TcpStream, status: u16, msg: &str) -> std::io::Result<()> {
    let text = format!(
        "HTTP/1.1 {status} {}\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{msg}",
        reason(status),
        msg.len()
    );
    w.write_all(text.as_bytes())
}

/// Head and body go out in one send when the body is small (a page), so no connection keeps
/// a write buffer between requests; a large body (a material file) is copied after the head.
fn write_response(w: &mut TcpStream, r: Response, is_head: bool, keep_alive: bool) -> std::io::Result<()> {
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
    w.write_all(&out)?;
    if !bodiless && !body_in_out {
        std::io::copy(&mut data.take(len as u64), w)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn head(lines: &[&str]) -> Result<Head, HeadError> {
        parse_head(&lines.iter().map(|s| s.to_string()).collect::<Vec<_>>())
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
        let h = head(&["POST /login HTTP/1.1", "Host: x", "Content-Length: 12"]).ok().unwrap();
        assert_eq!((h.method.as_str(), h.url.as_str(), h.content_length, h.keep_alive), ("POST", "/login", 12, true));
        assert!(!head(&["GET / HTTP/1.0"]).ok().unwrap().keep_alive);
        assert!(!head(&["GET / HTTP/1.1", "Connection: close"]).ok().unwrap().keep_alive);
        assert_eq!(status(head(&["GET / HTTP/2.0"])), 505);
        assert_eq!(status(head(&["GET http://evil/ HTTP/1.1"])), 400);
        assert_eq!(status(head(&["GET / HTTP/1.1", "Content-Length: 1", "Content-Length: 2"])), 400);
        assert_eq!(status(head(&["GET / HTTP/1.1", "Content-Length: -1"])), 400);
        assert_eq!(status(head(&["POST / HTTP/1.1", "Transfer-Encoding: chunked"])), 411);
        assert_eq!(status(head(&["GET / HTTP/1.1", "no colon"])), 400);
        assert_eq!(status(head(&["get / HTTP/1.1"])), 400);
    }
}

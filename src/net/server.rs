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
//! connection (kept for the next connection when one ends, see `connection_thread`) with
//! `TCP_NODELAY`, an idle timeout and a deadline for each request's head (a slow-drip client
//! cannot keep a thread), bodies bounded before they are read, and a fixed pool of workers
//! running the handlers, in lanes (see `Lane`). Connection threads only parse and write (and
//! answer `Lane::Inline`), so their stacks stay small; the deep stacks of page rendering exist
//! `threads` times, not once per connection (that was most of the server's memory with 500
//! browsers). Handlers are unchanged: they get a rouille `Request`.

pub use super::limits::Limits;
use super::wire::{
    answer_deadline, timed_out, write_plain, write_response, Body, BodyError, Conn, HeadError, Transport, SLICE,
};
use super::SPOOL_HEADER;
use rouille::{Request, Response};
use rustls::{ServerConfig, ServerConnection, StreamOwned};
use std::collections::HashMap;
use std::io::{ErrorKind, Write};
use std::net::{IpAddr, Shutdown, SocketAddr, TcpListener, TcpStream};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{sync_channel, Receiver, RecvTimeoutError, SyncSender, TrySendError};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

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
    /// Answered on the connection thread itself, no queue and no hand-off: only what needs
    /// neither the database nor a template (embedded static files, the health check), so a
    /// page's CSS and script never wait behind polls and fit the connection's small stack.
    Inline,
}

/// The lanes with a worker pool (`Inline` has none).
const LANES: [Lane; 4] = [Lane::Main, Lane::Form, Lane::Light, Lane::Login];
const FORM_WORKERS: usize = 16;
/// Requests waiting for one lane's workers; beyond it a request is answered 503 at once. A
/// connection waits for one answer at a time, so this is reached only when a lane's workers
/// are stuck (a thousand requests queued is seconds of waiting already).
pub const QUEUE: usize = 1024;

/// The default `Limits::park`: a burst of reconnecting tablets finds threads waiting.
pub const PARK: Duration = Duration::from_secs(30);
/// At most this many connection threads wait for a connection; more exit at once.
const MAX_PARKED: usize = 256;

/// Bodies above this get `Limits::upload` instead of `Limits::request`.
const LARGE_BODY: u64 = 1024 * 1024;

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
    /// Open connections per client address.
    per_address: Mutex<HashMap<IpAddr, usize>>,
    /// When an over-cap refusal was last logged (once per interval, not per connection).
    refused_logged: Mutex<Option<Instant>>,
    /// The queue of each pooled lane.
    jobs: Vec<(Lane, SyncSender<Job>)>,
    /// When a busy lane or an overrun handler was last logged (once per interval).
    busy_logged: Mutex<Option<Instant>>,
    /// Where bodies over `LARGE_BODY` are written as they arrive (none: kept in memory).
    spool: std::sync::OnceLock<std::path::PathBuf>,
    /// Connection threads waiting for their next connection, the latest last.
    parked: Mutex<Vec<(u64, SyncSender<Work>)>>,
    /// For `Lane::Inline` requests (the workers have their own handle on it).
    handler: Arc<Handler>,
    /// Connection threads started so far (the rest of the connections went to parked ones).
    threads_started: AtomicUsize,
}

/// An accepted connection on its way to a connection thread.
struct Work {
    stream: TcpStream,
    peer: SocketAddr,
    slot: Slot,
}

/// Connections the kernel may hold before the accept loop takes them.
const LISTEN_BACKLOG: i32 = 4096;

/// Stack of a connection thread: parsing and writing only (handlers run on the workers).
pub(crate) const CONNECTION_STACK: usize = 128 * 1024;

pub struct Server {
    listener: TcpListener,
    shared: Arc<Shared>,
    tls: Option<Arc<ServerConfig>>,
}

/// One open connection counted, released on every path (drop), per address too.
struct Slot {
    shared: Arc<Shared>,
    ip: IpAddr,
}

impl Drop for Slot {
    fn drop(&mut self) {
        self.shared.open.fetch_sub(1, Ordering::AcqRel);
        let mut map = self.shared.per_address.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(n) = map.get_mut(&self.ip) {
            *n -= 1;
            if *n == 0 {
                map.remove(&self.ip);
            }
        }
    }
}

impl Shared {
    /// A slot for a new connection from `ip`, or `None` over either cap.
    fn admit(self: &Arc<Self>, ip: IpAddr) -> Option<Slot> {
        let mut map = self.per_address.lock().unwrap_or_else(|p| p.into_inner());
        let mine = map.get(&ip).copied().unwrap_or(0);
        if mine >= self.limits.max_per_address {
            return None;
        }
        if self.open.fetch_add(1, Ordering::AcqRel) >= self.limits.max_connections {
            self.open.fetch_sub(1, Ordering::AcqRel);
            return None;
        }
        *map.entry(ip).or_insert(0) += 1;
        Some(Slot { shared: self.clone(), ip })
    }

    /// Logs a busy lane or an overrun handler at most once every 10 s.
    fn log_busy(&self, what: &str) {
        let mut last = self.busy_logged.lock().unwrap_or_else(|p| p.into_inner());
        if last.is_none_or(|t| t.elapsed() >= Duration::from_secs(10)) {
            *last = Some(Instant::now());
            log::warn!("answered 503: {what}");
        }
    }

    /// Logs a refusal at most once every 10 s: a flood costs no log space.
    fn log_refusal(&self, ip: IpAddr) {
        let mut last = self.refused_logged.lock().unwrap_or_else(|p| p.into_inner());
        if last.is_none_or(|t| t.elapsed() >= Duration::from_secs(10)) {
            *last = Some(Instant::now());
            log::warn!(
                "connections over the cap refused (e.g. from {ip}); per address {}",
                self.limits.max_per_address
            );
        }
    }
}

/// A view of the connection counts the pages may show.
#[derive(Clone)]
pub struct Stats(Arc<Shared>);

#[derive(Debug, Clone, serde::Serialize)]
pub struct Snapshot {
    pub open: usize,
    /// Client addresses holding connections.
    pub addresses: usize,
    /// The address holding the most, and how many.
    pub top: Option<(String, usize)>,
    pub per_address_cap: usize,
    /// Most connections come from one address (a NAT'd Wi-Fi): that address may meet its cap.
    pub mostly_one_address: bool,
}

pub use crate::store::STATS_FILE;
/// How often a serving appliance rewrites its latest `Snapshot` to `STATS_FILE` (with the time
/// it was taken) for `pingshen doctor`, another process, to read.
pub const STATS_EVERY: Duration = Duration::from_secs(5);

impl Stats {
    /// Writes the snapshot to `path` (atomically: a reader never sees half a file).
    pub fn write(&self, path: &Path) -> std::io::Result<()> {
        let at = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0);
        let text = serde_json::json!({ "at": at, "snapshot": self.snapshot() }).to_string();
        let tmp = path.with_extension("json.tmp");
        std::fs::write(&tmp, text)?;
        std::fs::rename(tmp, path)
    }

    pub fn snapshot(&self) -> Snapshot {
        let map = self.0.per_address.lock().unwrap_or_else(|p| p.into_inner());
        let open: usize = map.values().sum();
        let top = map.iter().max_by_key(|(_, n)| **n).map(|(ip, n)| (ip.to_string(), *n));
        let mostly_one_address = open >= 20 && top.as_ref().is_some_and(|(_, n)| n * 2 > open);
        Snapshot { open, addresses: map.len(), top, per_address_cap: self.0.limits.max_per_address, mostly_one_address }
    }
}

impl Server {
    /// `body_limit` sees a request without its body and says how many body bytes it may send;
    /// more is refused with 413 before anything is read.
    /// `lane` picks the worker pool of each request.
    /// Fails only if a worker thread cannot start.
    pub fn new<L, C, F>(
        listener: TcpListener,
        limits: Limits,
        body_limit: L,
        lane: C,
        handler: F,
    ) -> std::io::Result<Server>
    where
        L: Fn(&Request) -> u64 + Send + Sync + 'static,
        C: Fn(&Request) -> Lane + Send + Sync + 'static,
        F: Fn(&Request) -> Response + Send + Sync + 'static,
    {
        let handler: Arc<Handler> = Arc::new(handler);
        let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(2);
        let mut jobs = Vec::with_capacity(LANES.len());
        for lane in LANES {
            let workers = match lane {
                Lane::Main => limits.threads.max(1),
                Lane::Form => FORM_WORKERS,
                Lane::Light => 4,
                Lane::Login => cores,
                Lane::Inline => continue, // no pool
            };
            let (tx, rx) = sync_channel::<Job>(limits.queue.max(1));
            let rx = Arc::new(Mutex::new(rx));
            for i in 0..workers {
                let (rx, handler) = (rx.clone(), handler.clone());
                std::thread::Builder::new()
                    .name(format!("http-{lane:?}-{i}").to_lowercase())
                    .spawn(move || worker(&rx, &*handler))?;
            }
            jobs.push((lane, tx));
        }
        // std listens with a backlog of 128: 500 tablets connecting in the same second (sign-in,
        // the submit after the switch opens) overflow it and wait out a 1 s SYN retry. Listening
        // again only raises the queue (the kernel caps it at net.core.somaxconn).
        let listener = socket2::Socket::from(listener);
        listener.listen(LISTEN_BACKLOG)?;
        let listener: TcpListener = listener.into();
        let shared = Shared {
            limits,
            body_limit: Box::new(body_limit),
            lane: Box::new(lane),
            open: AtomicUsize::new(0),
            per_address: Mutex::new(HashMap::new()),
            refused_logged: Mutex::new(None),
            busy_logged: Mutex::new(None),
            jobs,
            spool: std::sync::OnceLock::new(),
            parked: Mutex::new(Vec::new()),
            handler: handler.clone(),
            threads_started: AtomicUsize::new(0),
        };
        Ok(Server { listener, shared: Arc::new(shared), tls: None })
    }

    /// Serves HTTPS with `config` on this listener (a plain request gets a redirect).
    pub fn with_tls(mut self, config: Arc<ServerConfig>) -> Server {
        self.tls = Some(config);
        self
    }

    /// Writes large bodies (the package upload) to a file in `dir` as they arrive, so memory
    /// holds none of them; the handler finds it by `http::SPOOL_HEADER`; it is removed once the
    /// answer is made. Files left by a crash are removed here.
    pub fn with_spool(self, dir: std::path::PathBuf) -> std::io::Result<Server> {
        std::fs::create_dir_all(&dir)?;
        for e in std::fs::read_dir(&dir)?.flatten() {
            if e.file_name().to_string_lossy().starts_with("upload-") {
                std::fs::remove_file(e.path())?;
            }
        }
        if self.shared.spool.set(dir).is_err() {
            log::warn!("the spool directory was already set");
        }
        Ok(self)
    }

    pub fn server_addr(&self) -> std::io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    pub fn stats(&self) -> Stats {
        Stats(self.shared.clone())
    }

    /// Accepts connections until the process ends. Accept errors (out of file descriptors)
    /// back off, up to a second, instead of spinning; a thread that cannot start is a refused
    /// connection, never a panic.
    pub fn run(self) {
        let mut backoff = Duration::from_millis(10);
        loop {
            let (stream, peer) = match self.listener.accept() {
                Ok(x) => {
                    backoff = Duration::from_millis(10);
                    x
                }
                Err(e) => {
                    log::warn!("accept: {e}; retrying in {backoff:?}");
                    std::thread::sleep(backoff);
                    backoff = (backoff * 2).min(Duration::from_secs(1));
                    continue;
                }
            };
            let Some(slot) = self.shared.admit(peer.ip()) else {
                self.shared.log_refusal(peer.ip());
                refuse(stream);
                continue;
            };
            self.dispatch(Work { stream, peer, slot });
        }
    }

    /// Gives a connection to the thread that parked last, or to a new thread. Creating a
    /// thread (its stack, its task) was a fifth of the cost of a new HTTPS connection; a parked
    /// one is woken instead. A thread that cannot start is a refused connection.
    fn dispatch(&self, mut work: Work) {
        loop {
            let parked = self.shared.parked.lock().unwrap_or_else(|p| p.into_inner()).pop();
            let Some((_, to)) = parked else { break };
            // A popped thread is waiting on its receiver (see `connection_thread`): this only
            // fails if it died, and then the next one (or a new thread) takes the connection.
            match to.try_send(work) {
                Ok(()) => return,
                Err(TrySendError::Full(w) | TrySendError::Disconnected(w)) => work = w,
            }
        }
        let tls = self.tls.clone();
        match spawn_connection(move || connection_thread(work, tls)) {
            Ok(()) => {
                self.shared.threads_started.fetch_add(1, Ordering::Relaxed);
            }
            // The closure (the slot and the socket with it) was dropped: refused, counted closed.
            Err(e) => log::warn!("cannot start a connection thread: {e}"),
        }
    }
}

/// Serves one connection, then parks: waits up to `Limits::park` for the accept loop to hand
/// it the next one. Race-free: a thread that times out leaves only if it can still take itself
/// off the parked list; if the accept loop popped it first, the connection is on its way.
fn connection_thread(mut work: Work, tls: Option<Arc<ServerConfig>>) {
    static IDS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let id = IDS.fetch_add(1, Ordering::Relaxed);
    loop {
        let shared = work.slot.shared.clone();
        serve(work, tls.clone());
        let (to, from) = sync_channel(1);
        {
            let mut parked = shared.parked.lock().unwrap_or_else(|p| p.into_inner());
            if parked.len() >= MAX_PARKED {
                return;
            }
            parked.push((id, to));
        }
        work = match from.recv_timeout(shared.limits.park) {
            Ok(w) => w,
            Err(_) => {
                let mut parked = shared.parked.lock().unwrap_or_else(|p| p.into_inner());
                if let Some(i) = parked.iter().position(|(p, _)| *p == id) {
                    parked.remove(i);
                    return;
                }
                drop(parked);
                match from.recv() {
                    Ok(w) => w,
                    Err(_) => return,
                }
            }
        };
    }
}

/// One connection, its slot released when it ends.
fn serve(work: Work, tls: Option<Arc<ServerConfig>>) {
    let Work { stream, peer, slot } = work;
    let result = match tls {
        None => plain(&slot.shared, stream, peer),
        Some(config) => secure(&slot.shared, stream, peer, config),
    };
    drop(slot);
    if let Err(e) = result {
        log::debug!("connection from {}: {e}", peer.ip());
    }
}

/// Starts a connection thread; a test switch (`PINGSHEN_TEST_FAIL_SPAWN=N`) makes the next N
/// attempts fail as if the system were out of threads (CI runs as root, where `ulimit -u`
/// does not bite).
fn spawn_connection(f: impl FnOnce() + Send + 'static) -> std::io::Result<()> {
    static FAIL: AtomicUsize = AtomicUsize::new(usize::MAX);
    if FAIL.load(Ordering::Relaxed) == usize::MAX {
        let n = std::env::var("PINGSHEN_TEST_FAIL_SPAWN").ok().and_then(|v| v.parse().ok()).unwrap_or(0);
        FAIL.store(n, Ordering::Relaxed);
    }
    if FAIL.load(Ordering::Relaxed) > 0 {
        FAIL.fetch_sub(1, Ordering::Relaxed);
        return Err(std::io::Error::other("injected spawn failure"));
    }
    std::thread::Builder::new().name("http-conn".into()).stack_size(CONNECTION_STACK).spawn(f).map(drop)
}

/// Over a cap: a short answer instead of silence, so a browser shows something and retries.
/// On the TLS port this is plain text the browser cannot read; it closes and retries.
fn refuse(mut stream: TcpStream) {
    let body = "服务器繁忙，请稍后刷新。";
    let sent = stream.set_write_timeout(Some(Duration::from_secs(1))).and_then(|()| {
        write!(
            stream,
            "HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: {}\r\nRetry-After: 2\r\nConnection: close\r\n\r\n{body}",
            body.len()
        )
    });
    if let Err(e) = sent.and_then(|()| stream.shutdown(Shutdown::Both)) {
        log::trace!("refusal: {e}");
    }
}

/// Every send waits at most `SLICE`, so the answer's deadline is checked that often.
fn prepare(stream: &TcpStream) -> std::io::Result<()> {
    stream.set_nodelay(true)?;
    stream.set_write_timeout(Some(SLICE))
}

fn plain(shared: &Shared, stream: TcpStream, peer: SocketAddr) -> std::io::Result<()> {
    prepare(&stream)?;
    connection(shared, Conn { s: stream, buf: Vec::new(), timeout: None }, peer)
}

/// HTTPS: a first byte that is not a TLS handshake is a browser that typed http:// (308 to
/// https://); otherwise the handshake must finish within `Limits::handshake`.
fn secure(shared: &Shared, stream: TcpStream, peer: SocketAddr, config: Arc<ServerConfig>) -> std::io::Result<()> {
    let l = &shared.limits;
    prepare(&stream)?;
    // A connection that sends nothing is closed after the idle timeout, as on plain HTTP.
    stream.set_read_timeout(Some(l.idle.min(l.handshake)))?;
    let mut first = [0u8; 1];
    if stream.peek(&mut first)? == 0 {
        return Ok(());
    }
    let deadline = Instant::now() + l.handshake;
    if first[0] != 0x16 {
        return redirect_plain(Conn { s: stream, buf: Vec::new(), timeout: None }, l);
    }
    let mut tls = StreamOwned::new(ServerConnection::new(config).map_err(std::io::Error::other)?, stream);
    let mut timeout = None;
    while tls.conn.is_handshaking() {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(ErrorKind::TimedOut.into());
        }
        let want = left.min(SLICE);
        if timeout != Some(want) {
            tls.sock.set_read_timeout(Some(want))?;
            timeout = Some(want);
        }
        match tls.conn.complete_io(&mut tls.sock) {
            Ok(_) => {}
            Err(e) if timed_out(&e) => {}
            Err(e) => return Err(e),
        }
    }
    connection(shared, Conn { s: tls, buf: Vec::new(), timeout }, peer)
}

/// A browser that typed http:// on the HTTPS port is sent to https:// on the same host.
fn redirect_plain(mut c: Conn<TcpStream>, l: &Limits) -> std::io::Result<()> {
    match c.read_head(l) {
        Ok((head, _)) => {
            let host = head
                .headers
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case("Host"))
                .map(|(_, v)| v.as_str())
                .filter(|h| h.bytes().all(|b| b.is_ascii_alphanumeric() || b".-:[]".contains(&b)))
                .unwrap_or("");
            let body = "This is an HTTPS port. 请使用 https:// 访问。\n";
            let resp = Response::text(body)
                .with_status_code(308)
                .with_unique_header("Location", format!("https://{host}{}", head.url));
            write_response(&mut c.s, l, resp, head.method == "HEAD", false)?;
        }
        Err(HeadError::Bad(status, msg)) => write_plain(&mut c.s, l, status, msg)?,
        Err(HeadError::Gone) => {}
    }
    c.s.finish();
    Ok(())
}

fn connection<S: Transport>(shared: &Shared, mut c: Conn<S>, remote: SocketAddr) -> std::io::Result<()> {
    let l = &shared.limits;
    loop {
        let (mut head, started) = match c.read_head(l) {
            Ok(h) => h,
            Err(HeadError::Gone) => break,
            Err(HeadError::Bad(status, msg)) => {
                write_plain(&mut c.s, l, status, msg)?;
                c.linger();
                break;
            }
        };
        // Only this layer says a body was spooled, never the client.
        head.headers.retain(|(k, _)| !k.eq_ignore_ascii_case(SPOOL_HEADER));
        let probe =
            Request::fake_http_from(remote, head.method.as_str(), head.url.as_str(), head.headers.clone(), vec![]);
        let mut body = Vec::new();
        // Kept until the answer is made: dropping it removes the spool file.
        let mut spooled = None;
        if head.content_length > 0 {
            if head.content_length > (shared.body_limit)(&probe) {
                write_plain(&mut c.s, l, 413, "请求内容过大。")?;
                c.linger();
                break;
            }
            if head.expect_continue {
                c.s.send(b"HTTP/1.1 100 Continue\r\n\r\n", answer_deadline(l, 0))?;
            }
            let large = head.content_length > LARGE_BODY;
            let whole = if large { l.upload } else { l.request };
            let spool = shared.spool.get().filter(|_| large).map(|p| p.as_path());
            match c.read_body(head.content_length, started + whole, spool) {
                Ok(Some(Body::Mem(b))) => body = b,
                Ok(Some(Body::Spooled(f))) => {
                    let name = f.path().file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
                    head.headers.push((SPOOL_HEADER.to_string(), name));
                    spooled = Some(f);
                }
                Ok(None) => break, // the client went away halfway
                Err(BodyError::TimedOut) => {
                    write_plain(&mut c.s, l, 408, "请求超时。")?;
                    break;
                }
                Err(BodyError::Spool(e)) => {
                    log::error!("cannot write an upload to the spool directory: {e}");
                    write_plain(&mut c.s, l, 507, "服务器无法暂存上传的文件（磁盘空间不足？），请联系会务人员。")?;
                    c.linger();
                    break;
                }
                Err(BodyError::Io(e)) => return Err(e),
            }
        }
        let is_head = head.method == "HEAD";
        let request = Request::fake_http_from(remote, head.method, head.url, head.headers, body);
        let response = run_handler(shared, request, spooled.is_some());
        drop(spooled);
        // The next request is read only once this answer has left (or its deadline passed):
        // a client that pipelines and never reads holds one answer's worth, no more.
        write_response(&mut c.s, l, response, is_head, head.keep_alive)?;
        if !head.keep_alive {
            break;
        }
    }
    c.s.finish();
    Ok(())
}

fn internal_error() -> Response {
    Response::html("<h1>服务器内部错误</h1><p>请重试；如仍有问题，请联系会务人员。</p>").with_status_code(500)
}

/// Hands the request to its lane's worker pool and waits for its answer (or answers it here,
/// for `Lane::Inline`). A full queue, or a handler past `Limits::handler`, is answered 503 at
/// once and logged (at most once per interval).
fn run_handler(shared: &Shared, request: Request, large: bool) -> Response {
    let lane = (shared.lane)(&request);
    if lane == Lane::Inline {
        return catch_unwind(AssertUnwindSafe(|| (shared.handler)(&request))).unwrap_or_else(|_| internal_error());
    }
    let (reply, answer) = sync_channel(1);
    let Some((_, queue)) = shared.jobs.iter().find(|(l, _)| *l == lane) else { return internal_error() };
    match queue.try_send(Job { request, reply }) {
        Ok(()) => {}
        Err(TrySendError::Full(_)) => {
            shared.log_busy(&format!("the {lane:?} lane's queue is full ({})", shared.limits.queue));
            return busy();
        }
        Err(TrySendError::Disconnected(_)) => return internal_error(),
    }
    let limit = if large { shared.limits.upload } else { shared.limits.handler };
    match answer.recv_timeout(limit) {
        Ok(r) => r,
        Err(RecvTimeoutError::Timeout) => {
            shared.log_busy(&format!("a {lane:?} handler ran past {limit:?}"));
            busy()
        }
        Err(RecvTimeoutError::Disconnected) => internal_error(),
    }
}

/// The server is overloaded or a handler is stuck: say so, and let the browser retry.
fn busy() -> Response {
    Response::text("服务器繁忙，请稍后刷新。").with_status_code(503).with_unique_header("Retry-After", "2")
}

/// A worker: runs handlers one at a time; a panic becomes a 500 page, never a dead worker.
fn worker(jobs: &Mutex<Receiver<Job>>, handler: &Handler) {
    loop {
        let job = match jobs.lock().unwrap_or_else(|p| p.into_inner()).recv() {
            Ok(j) => j,
            Err(_) => return,
        };
        let response = catch_unwind(AssertUnwindSafe(|| handler(&job.request))).unwrap_or_else(|_| internal_error());
        if job.reply.send(response).is_err() {
            log::trace!("the connection went away before its answer");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    fn limits(park: Duration) -> Limits {
        let s = Duration::from_secs(5);
        Limits {
            threads: 2,
            max_connections: 64,
            max_per_address: 64,
            idle: s,
            request: s,
            upload: s,
            handshake: s,
            write: s,
            min_rate: 64 * 1024,
            handler: s,
            queue: QUEUE,
            park,
        }
    }

    /// A server answering "ok" inline, its thread count, and its address.
    fn serve_ok(park: Duration) -> (Arc<Shared>, SocketAddr) {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let server = Server::new(listener, limits(park), |_| 0, |_| Lane::Inline, |_| Response::text("ok")).unwrap();
        let (shared, addr) = (server.shared.clone(), server.server_addr().unwrap());
        std::thread::spawn(move || server.run());
        (shared, addr)
    }

    /// A worker that takes too long, and a lane whose queue is full, are answered 503 at once
    /// (issue 27): one Main worker, a queue of one, a handler that sleeps past its 300 ms.
    #[test]
    fn an_overrun_handler_and_a_full_queue_are_answered_busy() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let mut l = limits(Duration::from_secs(5));
        l.threads = 1;
        l.queue = 1;
        l.handler = Duration::from_millis(300);
        let slow = |_: &Request| {
            std::thread::sleep(Duration::from_millis(1500));
            Response::text("late")
        };
        let server = Server::new(listener, l, |_| 0, |_| Lane::Main, slow).unwrap();
        let addr = server.server_addr().unwrap();
        std::thread::spawn(move || server.run());
        let status = |answer: &str| answer.split(' ').nth(1).unwrap_or("").to_string();
        // The first occupies the worker and is answered 503 after 300 ms, not 1.5 s.
        let t = std::time::Instant::now();
        let first = std::thread::spawn(move || get_once(addr));
        std::thread::sleep(Duration::from_millis(50));
        // The second waits in the queue (the only place); the third finds it full: 503 at once.
        let second = std::thread::spawn(move || get_once(addr));
        std::thread::sleep(Duration::from_millis(50));
        let third = get_once(addr);
        assert_eq!(status(&third), "503", "{third}");
        let first = first.join().unwrap();
        assert_eq!(status(&first), "503", "{first}");
        assert!(t.elapsed() < Duration::from_millis(1400), "the overrun was answered at its limit");
        assert_eq!(status(&second.join().unwrap()), "503");
    }

    fn get_once(addr: SocketAddr) -> String {
        let mut s = TcpStream::connect(addr).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        s.write_all(b"GET / HTTP/1.1\r\nConnection: close\r\n\r\n").unwrap();
        let mut out = String::new();
        s.read_to_string(&mut out).unwrap();
        out
    }

    /// A new connection is given to the thread whose connection just ended: one after another,
    /// 200 connections are served by a few threads (here usually one), not 200.
    #[test]
    fn connection_threads_are_reused() {
        let (shared, addr) = serve_ok(Duration::from_secs(10));
        for _ in 0..200 {
            assert!(get_once(addr).ends_with("ok"));
        }
        let started = shared.threads_started.load(Ordering::Relaxed);
        // A thread finishing its close while the next connection arrives is not parked yet.
        assert!(started <= 50, "{started} threads for 200 connections one after another");
    }

    /// Parked threads give up after `park`, while the accept loop hands out connections: no
    /// connection is lost in between (each gets its answer), in sequence and in bursts.
    #[test]
    fn no_connection_is_lost_while_parked_threads_leave() {
        let (shared, addr) = serve_ok(Duration::from_millis(3));
        for i in 0..300u64 {
            assert!(get_once(addr).ends_with("ok"), "connection {i}");
            std::thread::sleep(Duration::from_micros((i % 7) * 1000));
        }
        for _ in 0..20 {
            let burst: Vec<_> = (0..16).map(|_| std::thread::spawn(move || get_once(addr))).collect();
            for b in burst {
                assert!(b.join().unwrap().ends_with("ok"));
            }
            std::thread::sleep(Duration::from_millis(3));
        }
        let started = shared.threads_started.load(Ordering::Relaxed);
        assert!(started < 300 + 320, "some connections went to parked threads ({started} started)");
        // The client sees the close a moment before the thread lets go of its slot.
        let until = Instant::now() + Duration::from_secs(2);
        while shared.open.load(Ordering::Relaxed) != 0 && Instant::now() < until {
            std::thread::sleep(Duration::from_millis(10));
        }
        assert_eq!(shared.open.load(Ordering::Relaxed), 0, "every slot released");
    }
}

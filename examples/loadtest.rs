//! Load generator: a whole voting day over real HTTP against the real server.
//!
//!     cargo run --release --example loadtest -- [--experts 500] [--groups 25] [--applicants 1000]
//!         [--committee 35] [--mode lecture_defense] [--poll-ms 2000] [--threads 0 (server default)] [--keep]
//!         [--stalled 1000] [--tls]
//!
//! It writes a synthetic package, imports it and issues passwords with the `pingshen` command
//! line, starts `pingshen serve` as a child process (this same executable re-runs itself as the
//! server, so no separate build is needed) and plays the day: every expert signs in at once, the
//! leaders assign lead reviewers, experts score (in the defense modes), save every draft vote
//! one request at a time, load their 40-applicant lists, the leaders open the switch, then every
//! expert submits at the same instant; the leaders submit the deliberation; the committee drafts,
//! the chair opens the vote, every member submits at once, the reporter reports. Throughout,
//! every browser polls its live status every `--poll-ms` as the real pages do. Before the day the
//! same server answers a tiny embedded static file as fast as it can: the floor.
//!
//! Every simulated browser connects from one of 32 loopback addresses (127.0.0.2 …), so the
//! server's per-address cap applies with its default, as at a venue where tablets have their own
//! addresses.
//!
//! Printed per request kind: count, throughput, p50/p95/p99/max latency, errors, and p50 as a
//! multiple of the floor's p50; then the server's peak RSS. Any error makes the exit code 1.

// A measuring tool, not the product: a failed unwrap stops the run with its reason.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::let_underscore_must_use)]

use serde_json::json;
use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Barrier, Mutex, OnceLock};
use std::time::{Duration, Instant};

struct Opts {
    experts: usize,
    groups: usize,
    applicants: usize,
    committee: usize,
    mode: String,
    poll_ms: u64,
    threads: usize,
    /// Hostile connections held open all day: each sends a partial request head and then one
    /// byte every 5 s, reconnecting whenever the server drops it.
    stalled: usize,
    /// Keep the data directory (for profiling the finished session) instead of deleting it.
    keep: bool,
    /// The whole day over HTTPS (the server's own generated certificate, trusted by the
    /// simulated browsers).
    tls: bool,
}

fn opts() -> Opts {
    let mut o = Opts {
        experts: 500,
        groups: 25,
        applicants: 1000,
        committee: 35,
        mode: "lecture_defense".into(),
        poll_ms: 2000,
        threads: 0,
        keep: false,
        stalled: 0,
        tls: false,
    };
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut it = args.iter();
    while let Some(flag) = it.next() {
        if flag == "--tls" {
            o.tls = true;
            continue;
        }
        if flag == "--keep" {
            o.keep = true;
            continue;
        }
        let value = it.next().unwrap_or_else(|| panic!("{flag} needs a value"));
        let n = || value.parse::<usize>().unwrap_or_else(|_| panic!("{flag}: not a number: {value}"));
        match flag.as_str() {
            "--experts" => o.experts = n(),
            "--groups" => o.groups = n(),
            "--applicants" => o.applicants = n(),
            "--committee" => o.committee = n(),
            "--mode" => o.mode = value.clone(),
            "--poll-ms" => o.poll_ms = n() as u64,
            "--threads" => o.threads = n(),
            "--stalled" => o.stalled = n(),
            _ => panic!("unknown flag {flag}"),
        }
    }
    assert!(o.groups > 0 && o.experts >= o.groups * 3, "at least three experts per group");
    assert!(o.committee <= o.experts && o.committee >= 3);
    o
}

// ---------------------------------------------------------------------------------------------
// Measurements

#[derive(Default)]
struct Kind {
    lat: Vec<Duration>,
    errors: u64,
    first: Option<Instant>,
    last: Option<Instant>,
}

fn stats() -> &'static Mutex<BTreeMap<&'static str, Kind>> {
    static S: OnceLock<Mutex<BTreeMap<&'static str, Kind>>> = OnceLock::new();
    S.get_or_init(Default::default)
}

fn record(kind: &'static str, start: Instant, ok: bool) {
    let end = Instant::now();
    let mut s = stats().lock().unwrap();
    let k = s.entry(kind).or_default();
    k.lat.push(end - start);
    if !ok {
        k.errors += 1;
    }
    k.first = Some(k.first.map_or(start, |f| f.min(start)));
    k.last = Some(k.last.map_or(end, |l| l.max(end)));
}

static ERROR_SAMPLES: AtomicU64 = AtomicU64::new(0);

fn note_error(kind: &str, path: &str, status: u16, body: &str) {
    if ERROR_SAMPLES.fetch_add(1, Ordering::Relaxed) < 8 {
        let text: String = body.chars().take(300).collect();
        eprintln!("error: {kind} {path} -> {status}: {text}");
    }
}

fn pct(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let i = ((sorted.len() as f64 * p).ceil() as usize).clamp(1, sorted.len()) - 1;
    sorted[i]
}

fn ms(d: Duration) -> String {
    let m = d.as_secs_f64() * 1000.0;
    if m < 10.0 {
        format!("{m:.2}")
    } else {
        format!("{m:.0}")
    }
}

// ---------------------------------------------------------------------------------------------
// One browser

struct Browser {
    agent: ureq3::Agent,
    base: String,
    cookie: Mutex<String>,
    csrf: Mutex<String>,
}

struct Resp {
    status: u16,
    body: String,
}

/// Opens every connection of a browser from its own loopback address (127.0.0.x), as tablets on
/// a venue LAN each have theirs: the server's per-address cap applies as at a venue.
#[derive(Debug)]
struct FromAddress(std::net::IpAddr);

/// A plain TCP transport for `FromAddress` (ureq's own is not public); the socket's timeouts
/// are the generator's 120 s, set once.
struct Tcp {
    stream: std::net::TcpStream,
    buffers: ureq3::unversioned::transport::LazyBuffers,
}

impl std::fmt::Debug for Tcp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tcp").field("stream", &self.stream).finish()
    }
}

impl ureq3::unversioned::transport::Transport for Tcp {
    fn buffers(&mut self) -> &mut dyn ureq3::unversioned::transport::Buffers {
        &mut self.buffers
    }

    fn transmit_output(
        &mut self,
        amount: usize,
        _: ureq3::unversioned::transport::NextTimeout,
    ) -> Result<(), ureq3::Error> {
        use std::io::Write;
        use ureq3::unversioned::transport::Buffers;
        (&self.stream).write_all(&self.buffers.output()[..amount])?;
        Ok(())
    }

    fn await_input(&mut self, _: ureq3::unversioned::transport::NextTimeout) -> Result<bool, ureq3::Error> {
        use ureq3::unversioned::transport::Buffers;
        let n = (&self.stream).read(self.buffers.input_append_buf())?;
        self.buffers.input_appended(n);
        Ok(n > 0)
    }

    fn is_open(&mut self) -> bool {
        // A kept-alive connection the server has closed reads 0 bytes without blocking.
        if self.stream.set_nonblocking(true).is_err() {
            return false;
        }
        let open = match self.stream.peek(&mut [0u8; 1]) {
            Ok(n) => n > 0,
            Err(e) => e.kind() == std::io::ErrorKind::WouldBlock,
        };
        self.stream.set_nonblocking(false).is_ok() && open
    }
}

impl<In: ureq3::unversioned::transport::Transport> ureq3::unversioned::transport::Connector<In> for FromAddress {
    type Out = ureq3::unversioned::transport::Either<In, Tcp>;

    fn connect(
        &self,
        details: &ureq3::unversioned::transport::ConnectionDetails,
        chained: Option<In>,
    ) -> Result<Option<Self::Out>, ureq3::Error> {
        use ureq3::unversioned::transport::{Either, LazyBuffers};
        if let Some(c) = chained {
            return Ok(Some(Either::A(c)));
        }
        let to = *details.addrs.first().ok_or(ureq3::Error::HostNotFound)?;
        let socket = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None)?;
        socket.bind(&std::net::SocketAddr::new(self.0, 0).into())?;
        socket.connect(&to.into())?;
        let stream: std::net::TcpStream = socket.into();
        stream.set_nodelay(true)?;
        stream.set_read_timeout(Some(Duration::from_secs(120)))?;
        stream.set_write_timeout(Some(Duration::from_secs(120)))?;
        let c = details.config;
        Ok(Some(Either::B(Tcp { stream, buffers: LazyBuffers::new(c.input_buffer_size(), c.output_buffer_size()) })))
    }
}

impl Browser {
    /// A browser whose connections come from `source`.
    fn new(base: &str, source: std::net::IpAddr) -> Browser {
        use ureq3::unversioned::transport::{Connector, RustlsConnector};
        let mut config = ureq3::Agent::config_builder()
            .max_redirects(0)
            .http_status_as_error(false)
            .timeout_global(Some(Duration::from_secs(120)));
        if let Some(tls) = TLS.get() {
            config = config.tls_config(tls.clone());
        }
        let connector = FromAddress(source).chain(RustlsConnector::default());
        Browser {
            agent: ureq3::Agent::with_parts(
                config.build(),
                connector,
                ureq3::unversioned::resolver::DefaultResolver::default(),
            ),
            base: base.to_string(),
            cookie: Mutex::new(String::new()),
            csrf: Mutex::new(String::new()),
        }
    }

    fn finish(&self, r: Result<ureq3::http::Response<ureq3::Body>, ureq3::Error>) -> Resp {
        let mut r = match r {
            Ok(r) => r,
            Err(e) => return Resp { status: 0, body: e.to_string() },
        };
        let status = r.status().as_u16();
        for v in r.headers().get_all("set-cookie") {
            let v = v.to_str().unwrap_or("");
            if let Some(pair) = v.split(';').next().filter(|p| p.starts_with("pingshen_")) {
                let mut c = self.cookie.lock().unwrap();
                let name = pair.split('=').next().unwrap_or("");
                let mut kept: Vec<String> = c
                    .split("; ")
                    .filter(|x| !x.is_empty() && !x.starts_with(&format!("{name}=")))
                    .map(String::from)
                    .collect();
                kept.push(pair.to_string());
                *c = kept.join("; ");
            }
        }
        let body = r.body_mut().with_config().limit(64 << 20).read_to_string().unwrap_or_default();
        for marker in ["name=\"csrf-token\" content=\"", "name=\"_csrf\" value=\""] {
            if let Some(i) = body.find(marker) {
                let rest = &body[i + marker.len()..];
                if let Some(j) = rest.find('"') {
                    *self.csrf.lock().unwrap() = rest[..j].to_string();
                }
                break;
            }
        }
        Resp { status, body }
    }

    fn get(&self, kind: &'static str, path: &str) -> Resp {
        self.get_with(kind, path, None).0
    }

    /// GET with an optional ETag; returns the response and its ETag.
    fn get_with(&self, kind: &'static str, path: &str, etag: Option<&str>) -> (Resp, Option<String>) {
        let t = Instant::now();
        let cookie = self.cookie.lock().unwrap().clone();
        let mut req = self.agent.get(&format!("{}{path}", self.base)).header("Cookie", &cookie);
        if let Some(e) = etag {
            req = req.header("If-None-Match", e).header("Accept", "application/json");
        }
        let result = req.call();
        let tag = match &result {
            Ok(r) => r.headers().get("ETag").and_then(|v| v.to_str().ok()).map(String::from),
            _ => None,
        };
        let r = self.finish(result);
        let ok = (200..400).contains(&r.status);
        record(kind, t, ok);
        if !ok {
            note_error(kind, path, r.status, &r.body);
        }
        (r, tag)
    }

    fn post(&self, kind: &'static str, path: &str, fields: &[(String, String)]) -> Resp {
        self.post_as(kind, path, fields, false)
    }

    /// What the page's script sends for each tap: the form fields, answered with JSON.
    fn post_json(&self, kind: &'static str, path: &str, fields: &[(String, String)]) -> Resp {
        self.post_as(kind, path, fields, true)
    }

    fn post_as(&self, kind: &'static str, path: &str, fields: &[(String, String)], json: bool) -> Resp {
        let csrf = self.csrf.lock().unwrap().clone();
        let mut all: Vec<(&str, &str)> = vec![("_csrf", csrf.as_str())];
        all.extend(fields.iter().map(|(k, v)| (k.as_str(), v.as_str())));
        let t = Instant::now();
        let cookie = self.cookie.lock().unwrap().clone();
        let mut req = self.agent.post(&format!("{}{path}", self.base)).header("Cookie", &cookie);
        if json {
            req = req.header("Accept", "application/json");
        }
        let r = self.finish(req.send_form(all));
        let ok = (200..400).contains(&r.status);
        record(kind, t, ok);
        if !ok {
            note_error(kind, path, r.status, &r.body);
        }
        r
    }

    fn login(&self, user: &str, password: &str) -> bool {
        let t = Instant::now();
        self.get("login page", "/login");
        let r = self.post("sign in (bcrypt)", "/login", &[f("username", user), f("password", password)]);
        record("sign in: page + POST", t, r.status == 303);
        if r.status == 303 {
            // The desk page carries the session's CSRF token for later forms.
            self.get("desk page", "/desk");
        }
        r.status == 303
    }
}

/// The value of the first `name="…"` attribute in a page (e.g. the draft form's data-vote).
fn attr(body: &str, name: &str) -> String {
    let marker = format!("{name}=\"");
    body.split(&marker).nth(1).and_then(|r| r.split('"').next()).unwrap_or_default().to_string()
}

fn f(k: &str, v: &str) -> (String, String) {
    (k.to_string(), v.to_string())
}

// ---------------------------------------------------------------------------------------------
// The venue

struct Expert {
    code: String,
    group: usize,
    leader: bool,
    member: bool,
    chair: bool,
    reporter: bool,
    browser: Browser,
}

fn package(o: &Opts) -> serde_json::Value {
    let per_group = o.experts / o.groups;
    let group_of = |i: usize| (i / per_group).min(o.groups - 1);
    let groups: Vec<_> = (0..o.groups)
        .map(|g| json!({ "code": format!("G{g:03}"), "name": format!("第{}专业组", g + 1), "leader": format!("E{:04}", g * per_group) }))
        .collect();
    let experts: Vec<_> = (0..o.experts)
        .map(|i| {
            json!({ "code": format!("E{i:04}"), "name": format!("专家{i}"), "unit": format!("专家单位{i}"),
                    "group": format!("G{:03}", group_of(i)), "gender": "男", "phone": "13800000000",
                    "id_number": "410101197001010011", "title": "教授", "title_level": "正高级", "specialty": "教育学" })
        })
        .collect();
    // Committee members are group experts spread over the groups (not the leaders).
    let stride = (o.experts / o.committee).max(1);
    let members: Vec<String> = (0..o.committee).map(|k| format!("E{:04}", (k * stride + 1) % o.experts)).collect();
    let applicants: Vec<_> = (0..o.applicants)
        .map(|i| {
            let g = i % o.groups;
            json!({ "code": format!("A{i:05}"), "name": format!("申报人{i}"), "unit": format!("学校{}", i % 997),
                    "series": "中小学教师", "specialty": format!("专业{}", i % 12), "title": "中小学一级教师",
                    "review_type": "评审(正常)", "group": format!("G{g:03}"), "details": {}, "materials": [],
                    "lecture": { "order": i / o.groups + 1, "room": format!("{}", g + 1), "topic": "课题", "chapter": "1" } })
        })
        .collect();
    json!({
        "format": "pingshen-package/1",
        "session": { "id": "LOAD-1", "name": "负载测试评审会", "committee": "负载测试评委会", "mode": o.mode },
        "groups": groups, "experts": experts,
        "committee": { "members": members, "chair": members[0], "reporter": members[1] },
        "applicants": applicants,
    })
}

/// A fixed but varied choice for (expert, applicant): mostly agree.
fn choice(expert: &str, applicant: &str) -> &'static str {
    let h = expert.bytes().chain(applicant.bytes()).fold(2166136261u32, |h, b| (h ^ b as u32).wrapping_mul(16777619));
    match h % 20 {
        0 | 1 => "oppose",
        2 => "abstain",
        _ => "agree",
    }
}

fn pingshen(args: &[&str]) -> String {
    let exe = std::env::current_exe().unwrap();
    let out = Command::new(exe).arg("__pingshen").args(args).output().expect("run pingshen");
    if !out.status.success() {
        panic!(
            "pingshen {args:?} failed:\n{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn start_server(data: &Path, config: &Path, log: &Path) -> (Child, String) {
    let exe = std::env::current_exe().unwrap();
    // For profiling: LOADTEST_WRAP="heaptrack -o /tmp/ht" runs the server under a tool.
    let wrap: Vec<String> =
        std::env::var("LOADTEST_WRAP").unwrap_or_default().split_whitespace().map(String::from).collect();
    let mut cmd = match wrap.split_first() {
        Some((tool, args)) => {
            let mut c = Command::new(tool);
            c.args(args).arg(exe);
            c
        }
        None => Command::new(exe),
    };
    let mut child = cmd
        .arg("__pingshen")
        .args(["serve", "--listen", "127.0.0.1:0", "--data"])
        .arg(data)
        .arg("--config")
        .arg(config)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::from(std::fs::File::create(log).unwrap()))
        .spawn()
        .expect("start server");
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if let Some(a) = line.strip_prefix("pingshen: listening on ") {
                let _ = tx.send(a.to_string());
            }
        }
    });
    let addr = rx.recv_timeout(Duration::from_secs(60)).expect("server did not start");
    (child, format!("http://{addr}"))
}

fn proc_kb(pid: u32, field: &str) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| s.lines().find(|l| l.starts_with(field)).and_then(|l| l.split_whitespace().nth(1)?.parse().ok()))
        .unwrap_or(0)
}

/// Runs `work` for every expert on its own thread (all at once), and waits for all.
fn each<'a>(experts: impl IntoIterator<Item = &'a Expert>, work: impl Fn(&Expert) + Sync) {
    std::thread::scope(|s| {
        for e in experts {
            let work = &work;
            std::thread::Builder::new().stack_size(256 << 10).spawn_scoped(s, move || work(e)).unwrap();
        }
    });
}

/// With `--tls`: a client configuration trusting the server's generated certificate.
static TLS: OnceLock<ureq3::tls::TlsConfig> = OnceLock::new();

fn trust(cert_pem: &Path) -> ureq3::tls::TlsConfig {
    let pem = std::fs::read(cert_pem).unwrap();
    let cert = ureq3::tls::Certificate::from_pem(&pem).unwrap();
    ureq3::tls::TlsConfig::builder().root_certs(ureq3::tls::RootCerts::new_with_certs(&[cert])).build()
}

/// How many loopback source addresses the simulated browsers share (127.0.0.2 …).
const SOURCES: u8 = 32;

fn source(i: usize) -> std::net::IpAddr {
    std::net::IpAddr::from([127, 0, 0, 2 + (i % SOURCES as usize) as u8])
}

/// The server's pid, once started (phases print its peak RSS so far).
static SERVER_PID: OnceLock<u32> = OnceLock::new();

fn phase(name: &str, t: Instant) {
    let hwm = SERVER_PID.get().map(|p| format!("   peak RSS so far {:>4} MB", proc_kb(*p, "VmHWM:") / 1024));
    println!("  {:<52} {:>8.2} s{}", name, t.elapsed().as_secs_f64(), hwm.unwrap_or_default());
    if std::env::var_os("LOADTEST_CLOCK").is_some() {
        // For `perf record -k CLOCK_MONOTONIC`: on Linux an Instant's Debug form is that clock.
        println!("    from {t:?} to {:?}", Instant::now());
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.get(1).map(String::as_str) == Some("__pingshen") {
        let rest = std::iter::once("pingshen".to_string()).chain(args[2..].iter().cloned());
        std::process::exit(pingshen::cli::run_from(rest));
    }
    let o = opts();
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let data = dir.join("data");
    let config = dir.join("config.toml");
    // threads 0: the server's default. The simulated browsers come from `SOURCES` loopback
    // addresses and the server keeps its default per-address cap; stalled connections (one
    // misbehaving device) all come from 127.0.0.1.
    std::fs::write(&config, format!("threads = {}\ntls = {}\n", o.threads, o.tls)).unwrap();
    let pkg_path = dir.join("package.json");
    std::fs::write(&pkg_path, serde_json::to_vec(&package(&o)).unwrap()).unwrap();
    let s = |p: &Path| p.to_str().unwrap().to_string();
    let (data_s, config_s) = (s(&data), s(&config));
    println!(
        "pingshen load test: {} experts in {} groups, {} applicants, committee of {}, mode {}, polls every {} ms, server threads {} (0: default)",
        o.experts, o.groups, o.applicants, o.committee, o.mode, o.poll_ms, o.threads
    );
    let t = Instant::now();
    pingshen(&["import", &s(&pkg_path), "--data", &data_s, "--config", &config_s]);
    let csv = dir.join("accounts.csv");
    pingshen(&["accounts", "--out", &s(&csv), "--data", &data_s, "--config", &config_s]);
    phase("import + passwords (CLI)", t);
    let creds: BTreeMap<String, (String, String)> = std::fs::read_to_string(&csv)
        .unwrap()
        .lines()
        .skip(1)
        .filter_map(|l| {
            let c: Vec<&str> = l.split(',').collect();
            (c.len() >= 6).then(|| (c[0].to_string(), (c[4].to_string(), c[5].to_string())))
        })
        .collect();

    let (mut child, base) = start_server(&data, &config, &dir.join("server.log"));
    let base = if o.tls {
        let _ = TLS.set(trust(&data.join("tls-cert.pem")));
        base.replace("http://", "https://")
    } else {
        base
    };
    let pid = child.id();
    let _ = SERVER_PID.set(pid);
    let rss_peak = Arc::new(AtomicU64::new(0));
    let done = Arc::new(AtomicBool::new(false));
    {
        let (rss_peak, done) = (rss_peak.clone(), done.clone());
        std::thread::spawn(move || {
            while !done.load(Ordering::Relaxed) {
                rss_peak.fetch_max(proc_kb(pid, "VmRSS:"), Ordering::Relaxed);
                std::thread::sleep(Duration::from_millis(100));
            }
        });
    }

    // The floor: a tiny embedded static file, as fast as 32 keep-alive clients can ask.
    let t = Instant::now();
    std::thread::scope(|s| {
        for _ in 0..32 {
            s.spawn(|| {
                let b = Browser::new(&base, source(0));
                while t.elapsed() < Duration::from_secs(3) {
                    b.get("floor: static file", "/static/favicon.svg");
                }
            });
        }
    });
    phase("floor: static file for 3 s", t);

    let pkg = package(&o);
    let members: Vec<&str> =
        pkg["committee"]["members"].as_array().unwrap().iter().map(|m| m.as_str().unwrap()).collect();
    let per_group = o.experts / o.groups;
    let experts: Vec<Expert> = (0..o.experts)
        .map(|i| {
            let code = format!("E{i:04}");
            Expert {
                group: (i / per_group).min(o.groups - 1),
                leader: i % per_group == 0 && i / per_group < o.groups,
                member: members.contains(&code.as_str()),
                chair: members[0] == code,
                reporter: members[1] == code,
                browser: Browser::new(&base, source(i)),
                code,
            }
        })
        .collect();
    let day = Instant::now();
    let stop_stalled = Arc::new(AtomicBool::new(false));
    let dropped = Arc::new(AtomicU64::new(0));
    let drop_secs = Arc::new(Mutex::new(Vec::<f64>::new()));
    let stalled_threads = start_stalled(&o, &base, &stop_stalled, &dropped, &drop_secs);

    let t = Instant::now();
    each(&experts, |e| {
        let (u, p) = &creds[&e.code];
        assert!(e.browser.login(u, p), "{} could not sign in", e.code);
    });
    phase("every expert signs in at once", t);

    // Every open page polls its live status every poll_ms, staggered like real browsers.
    let stage_committee = AtomicBool::new(false);
    let polling = AtomicBool::new(true);
    let n_pollers = 50.min(experts.len());
    std::thread::scope(|s| {
        for k in 0..n_pollers {
            let (experts, stage_committee, polling, o) = (&experts, &stage_committee, &polling, &o);
            s.spawn(move || {
                let mine: Vec<&Expert> = experts.iter().skip(k).step_by(n_pollers).collect();
                let interval = Duration::from_millis(o.poll_ms);
                let start = Instant::now();
                let mut due: Vec<Instant> = (0..mine.len())
                    .map(|j| start + interval * (k + j * n_pollers) as u32 / experts.len() as u32)
                    .collect();
                let mut etags: Vec<Option<String>> = vec![None; mine.len()];
                while polling.load(Ordering::Relaxed) {
                    let now = Instant::now();
                    let (j, next) = due.iter().enumerate().min_by_key(|(_, d)| **d).map(|(j, d)| (j, *d)).unwrap();
                    if next > now {
                        std::thread::sleep((next - now).min(Duration::from_millis(50)));
                        continue;
                    }
                    let e = mine[j];
                    let committee = stage_committee.load(Ordering::Relaxed) && e.member;
                    let (kind, path) = match (committee, e.leader, e.chair) {
                        (false, true, _) => ("poll: leader's live counter", "/review/ops/status"),
                        (false, false, _) => ("poll: voter's round status", "/review/draft/status"),
                        (true, _, true) => ("poll: chair's live counter", "/committee/ops/status"),
                        (true, _, false) => ("poll: voter's round status", "/committee/draft/status"),
                    };
                    let (_, tag) = e.browser.get_with(kind, path, Some(etags[j].as_deref().unwrap_or("\"none\"")));
                    if tag.is_some() {
                        etags[j] = tag;
                    }
                    due[j] = next + interval;
                }
            });
        }

        group_stage(&o, &experts);
        stage_committee.store(true, Ordering::Relaxed);
        committee_stage(&experts);
        polling.store(false, Ordering::Relaxed);
    });
    phase("the whole day after sign-in", day);
    stop_stalled.store(true, Ordering::Relaxed);
    if o.stalled > 0 {
        let mut d = drop_secs.lock().unwrap().clone();
        d.sort_by(|a, b| a.total_cmp(b));
        println!(
            "stalled connections: {} held open all day; the server dropped them {} times, after {:.1} s (median), {:.1}–{:.1} s",
            o.stalled,
            dropped.load(Ordering::Relaxed),
            d.get(d.len() / 2).copied().unwrap_or(0.0),
            d.first().copied().unwrap_or(0.0),
            d.last().copied().unwrap_or(0.0)
        );
    }
    drop(stalled_threads);
    done.store(true, Ordering::Relaxed);
    if let Ok(to) = std::env::var("LOADTEST_SMAPS") {
        // For finding what holds the server's memory: its mappings at the end of the day.
        let _ = std::fs::copy(format!("/proc/{pid}/smaps"), to);
    }
    let hwm = proc_kb(pid, "VmHWM:").max(rss_peak.load(Ordering::Relaxed));
    let threads = proc_kb(pid, "Threads:");
    // SIGTERM first, so a wrapping profiler (LOADTEST_WRAP) can write its file.
    let _ = Command::new("kill").args(["-TERM", &child.id().to_string()]).status();
    let stop = Instant::now();
    while child.try_wait().ok().flatten().is_none() && stop.elapsed() < Duration::from_secs(30) {
        std::thread::sleep(Duration::from_millis(50));
    }
    let _ = child.kill();
    let _ = child.wait();

    let bundle = std::fs::read_dir(&data)
        .unwrap()
        .filter_map(|e| e.ok().map(|e| e.path()))
        .find(|p| p.to_string_lossy().ends_with("-result.zip"));
    let verified = match &bundle {
        Some(b) => {
            let out = pingshen(&["verify", &s(b)]);
            out.lines().last().unwrap_or("").to_string()
        }
        None => "NO BUNDLE WRITTEN".to_string(),
    };
    report(hwm, threads, &verified);
    if o.keep {
        println!("data kept in {}", tmp.keep().display());
        return;
    }
    let _ = std::fs::copy(dir.join("server.log"), std::env::temp_dir().join("pingshen-loadtest-server.log"));
    let errors: u64 = stats().lock().unwrap().values().map(|k| k.errors).sum();
    if errors > 0 || bundle.is_none() {
        std::process::exit(1);
    }
}

/// Hostile clients: a partial request head, then a byte every 5 s; when the server drops the
/// connection, note after how long, and open a new one.
fn start_stalled(
    o: &Opts,
    base: &str,
    stop: &Arc<AtomicBool>,
    dropped: &Arc<AtomicU64>,
    drop_secs: &Arc<Mutex<Vec<f64>>>,
) -> Vec<std::thread::JoinHandle<()>> {
    use std::io::Write;
    let addr: std::net::SocketAddr = base.trim_start_matches("http://").trim_start_matches("https://").parse().unwrap();
    (0..o.stalled)
        .map(|_| {
            let (stop, dropped, drop_secs) = (stop.clone(), dropped.clone(), drop_secs.clone());
            std::thread::Builder::new()
                .stack_size(64 << 10)
                .spawn(move || {
                    while !stop.load(Ordering::Relaxed) {
                        let Ok(mut s) = std::net::TcpStream::connect(addr) else {
                            std::thread::sleep(Duration::from_millis(200));
                            continue;
                        };
                        let opened = Instant::now();
                        let _ = s.set_read_timeout(Some(Duration::from_secs(5)));
                        if s.write_all(b"GET /desk HTTP/1.1\r\nHost: x\r\n").is_err() {
                            continue;
                        }
                        let mut buf = [0u8; 512];
                        loop {
                            if stop.load(Ordering::Relaxed) {
                                return;
                            }
                            match s.read(&mut buf) {
                                Ok(0) => break,
                                Ok(_) => {}
                                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                                    if s.write_all(b"X").is_err() {
                                        break;
                                    }
                                    continue;
                                }
                                Err(_) => break,
                            }
                        }
                        dropped.fetch_add(1, Ordering::Relaxed);
                        drop_secs.lock().unwrap().push(opened.elapsed().as_secs_f64());
                    }
                })
                .unwrap()
        })
        .collect()
}

/// Every voter opens the confirmation page and submits, all released at the same instant.
fn submit_at_once(voters: Vec<&Expert>, path: &str, kind: &'static str) {
    let barrier = Barrier::new(voters.len());
    each(voters, |e| {
        barrier.wait();
        let t0 = Instant::now();
        let page = e.browser.get("submit: confirmation page", path);
        let vote = page.body.split("name=\"vote\" value=\"").nth(1).and_then(|x| x.split('"').next()).unwrap_or("0");
        let r = e.browser.post("submit: POST", path, &[f("vote", vote)]);
        record(kind, t0, r.status == 303);
    });
}

fn group_stage(o: &Opts, experts: &[Expert]) {
    let leaders = || experts.iter().filter(|e| e.leader);
    let t = Instant::now();
    each(leaders(), |e| {
        let r = e.browser.post("assign: suggestion", "/review/assign/suggest", &[]);
        let pairs: Vec<(String, String)> =
            r.body.split("name=\"pairs\" value=\"").skip(1).map(|x| f("pairs", x.split('"').next().unwrap())).collect();
        e.browser.post("assign: confirm", "/review/assign/confirm", &pairs);
    });
    phase("leaders assign lead reviewers", t);

    let my_apps = |e: &Expert| -> Vec<String> {
        (0..o.applicants).filter(|i| i % o.groups == e.group).map(|i| format!("A{i:05}")).collect()
    };
    if o.mode != "expert_review" {
        let (page, kind) = if o.mode == "lecture_defense" {
            ("/lecture", "scores: 40 per form")
        } else {
            ("/interview/defense", "scores: 40 per form")
        };
        let t = Instant::now();
        each(experts, |e| {
            e.browser.get("page: 40-applicant scoring list, all at once", page);
            let fields: Vec<(String, String)> = my_apps(e)
                .iter()
                .enumerate()
                .map(|(k, a)| (format!("score_{a}"), format!("{}.{}", 70 + (k * 7) % 30, k % 10)))
                .collect();
            e.browser.post(kind, page, &fields);
        });
        phase("every expert scores the defenses", t);
    }

    let t = Instant::now();
    each(experts, |e| {
        let page = e.browser.get("page: 40-applicant list, in the draft storm", "/review/draft");
        // As the page's script does: one JSON save per tap, naming the round and the epoch.
        let (vote, epoch) = (attr(&page.body, "data-vote"), attr(&page.body, "data-epoch"));
        for a in my_apps(e) {
            let fields = [
                (format!("choice_{a}"), choice(&e.code, &a).to_string()),
                (format!("opinion_{a}"), String::new()),
                f("vote", &vote),
                f("epoch", &epoch),
            ];
            let r = e.browser.post_json("draft: one tap, autosaved (JSON)", "/review/draft", &fields);
            if r.status == 200 && !r.body.contains("\"saved\"") {
                note_error("draft: one tap, autosaved (JSON)", "/review/draft", r.status, &r.body);
            }
        }
    });
    phase("every expert drafts every vote (one JSON save per tap)", t);

    // Checking the list before the vote: everyone reloads it three times within ~8 s
    // (about 190 pages/s), as people read and scroll, not as fast as the machine allows.
    let t = Instant::now();
    each(experts, |e| {
        let mut h = e.code.bytes().fold(7u64, |h, b| h.wrapping_mul(31).wrapping_add(b as u64));
        for _ in 0..3 {
            h = h.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            std::thread::sleep(Duration::from_millis((h >> 33) % 2500));
            e.browser.get("page: 40-applicant list, reading pace", "/review/draft");
        }
    });
    phase("every expert rereads the list three times", t);

    let t = Instant::now();
    each(leaders(), |e| {
        e.browser.get("page: leader's ops", "/review/ops");
        e.browser.post("switch: open / close", "/review/ops/open", &[]);
    });
    phase("leaders open the switch", t);

    let t = Instant::now();
    submit_at_once(experts.iter().collect(), "/review/submit", "SUBMIT ALL, group (page + POST)");
    phase("every expert submits at the same instant", t);

    let t = Instant::now();
    each(leaders(), |e| {
        let page = e.browser.get("page: deliberation", "/review/deliberate");
        let mut fields = vec![f("action", "submit")];
        for part in page.body.split("<select name=\"passed_").skip(1) {
            let code = part.split('"').next().unwrap();
            let computed = part.split("data-computed=\"").nth(1).and_then(|x| x.split('"').next()).unwrap_or("no");
            fields.push((format!("passed_{code}"), computed.to_string()));
        }
        e.browser.post("deliberation: submit", "/review/deliberate", &fields);
    });
    phase("leaders submit the deliberation", t);
}

fn committee_stage(experts: &[Expert]) {
    let members = || experts.iter().filter(|e| e.member);
    let t = Instant::now();
    each(members(), |e| {
        let page = e.browser.get("page: committee list (all groups)", "/committee/draft");
        let groups: Vec<String> = page
            .body
            .split("<option value=\"")
            .skip(1)
            .filter_map(|x| x.split('"').next())
            .filter(|g| g.starts_with('G'))
            .map(String::from)
            .collect();
        for g in groups {
            let p = e.browser.get("page: committee list (one group)", &format!("/committee/draft?group={g}"));
            let mut fields = vec![f("group", &g), f("vote", &attr(&p.body, "data-vote"))];
            for part in p.body.split("name=\"choice_").skip(1) {
                let a = part.split('"').next().unwrap().to_string();
                if !fields.iter().any(|(k, _)| k == &format!("choice_{a}")) {
                    fields.push((format!("choice_{a}"), choice(&e.code, &a).to_string()));
                }
            }
            e.browser.post("committee draft: one group per form", "/committee/draft", &fields);
        }
    });
    phase("committee members draft every applicant", t);

    let t = Instant::now();
    each(members().filter(|e| e.chair), |e| {
        e.browser.get("page: chair's ops", "/committee/ops");
        e.browser.post("switch: open / close", "/committee/ops/open", &[]);
    });
    phase("the chair opens the committee vote", t);

    let t = Instant::now();
    submit_at_once(members().collect(), "/committee/submit", "SUBMIT ALL, committee (page + POST)");
    phase("every member submits at the same instant", t);

    let t = Instant::now();
    each(members().filter(|e| e.reporter), |e| {
        e.browser.get("page: report", "/committee/report");
        e.browser.post("report (writes the signed bundle)", "/committee/report", &[f("action", "submit")]);
    });
    phase("the reporter reports", t);
}

fn report(hwm_kb: u64, threads: u64, verified: &str) {
    let s = stats().lock().unwrap();
    let floor_p50 = s.get("floor: static file").map(|k| {
        let mut v = k.lat.clone();
        v.sort();
        pct(&v, 0.5)
    });
    println!();
    println!(
        "| {:<38} | {:>6} | {:>8} | {:>7} | {:>7} | {:>7} | {:>7} | {:>6} | {:>9} |",
        "request kind", "count", "req/s", "p50 ms", "p95 ms", "p99 ms", "max ms", "errors", "p50/floor"
    );
    println!("|{}|", ["-"; 9].map(|_| "---").join("|"));
    for (name, k) in s.iter() {
        let mut v = k.lat.clone();
        v.sort();
        let span = match (k.first, k.last) {
            (Some(a), Some(b)) => (b - a).as_secs_f64(),
            _ => 0.0,
        };
        let rate = if span > 0.0 { v.len() as f64 / span } else { 0.0 };
        let p50 = pct(&v, 0.5);
        let ratio = floor_p50.filter(|f| !f.is_zero()).map(|f| p50.as_secs_f64() / f.as_secs_f64()).unwrap_or(0.0);
        println!(
            "| {:<38} | {:>6} | {:>8.0} | {:>7} | {:>7} | {:>7} | {:>7} | {:>6} | {:>8.1}× |",
            name,
            v.len(),
            rate,
            ms(p50),
            ms(pct(&v, 0.95)),
            ms(pct(&v, 0.99)),
            ms(*v.last().unwrap_or(&Duration::ZERO)),
            k.errors,
            ratio
        );
    }
    println!();
    println!("server peak RSS: {:.1} MB (VmHWM), threads at the end: {threads}", hwm_kb as f64 / 1024.0);
    println!("bundle: {verified}");
}

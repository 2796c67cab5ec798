//! Hostile and broken connections at the socket: silent, dripping, too many, malformed. Each
//! is cut off within the idle timeout (or refused), and real users are answered meanwhile.

use crate::common::*;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

fn addr(s: &Server) -> String {
    s.base.trim_start_matches("http://").to_string()
}

/// Reads until the server closes; returns what it sent and how long that took.
fn until_closed(mut c: TcpStream, limit: Duration) -> (String, Duration) {
    let start = Instant::now();
    c.set_read_timeout(Some(limit)).unwrap();
    let mut out = Vec::new();
    let _ = c.read_to_end(&mut out);
    (String::from_utf8_lossy(&out).into_owned(), start.elapsed())
}

#[test]
fn a_silent_connection_is_closed_after_the_idle_timeout() {
    let s = Server::start_with(&["--demo"], "idle_timeout_secs = 1");
    let c = TcpStream::connect(addr(&s)).unwrap();
    let (sent, took) = until_closed(c, Duration::from_secs(10));
    assert!(sent.is_empty(), "nothing to answer: {sent}");
    assert!(took < Duration::from_secs(5), "closed after {took:?}");
}

#[test]
fn a_dripping_request_head_is_cut_off_while_others_are_served() {
    let s = Server::start_with(&["--demo"], "idle_timeout_secs = 2");
    let mut c = TcpStream::connect(addr(&s)).unwrap();
    c.write_all(b"GET /desk HTTP/1.1\r\nHost: x\r\n").unwrap();
    let start = Instant::now();
    let mut closed = false;
    // One byte every 300 ms never lets a per-read timeout fire; the head deadline must.
    while start.elapsed() < Duration::from_secs(10) {
        if c.write_all(b"X").is_err() {
            closed = true;
            break;
        }
        assert_eq!(s.client().get("/healthz").status, 200, "a real user is answered meanwhile");
        std::thread::sleep(Duration::from_millis(300));
        let mut probe = [0u8; 256];
        c.set_read_timeout(Some(Duration::from_millis(1))).unwrap();
        match c.read(&mut probe) {
            Ok(0) => {
                closed = true;
                break;
            }
            Ok(n) => {
                let text = String::from_utf8_lossy(&probe[..n]).into_owned();
                assert!(text.starts_with("HTTP/1.1 408"), "{text}");
                closed = true;
                break;
            }
            Err(_) => {}
        }
    }
    assert!(closed, "the dripping client was never cut off");
    assert!(start.elapsed() < Duration::from_secs(6), "cut off after {:?}", start.elapsed());
}

#[test]
fn connections_over_the_cap_get_busy_and_the_rest_still_work() {
    let s = Server::start_with(&["--demo"], "max_connections = 4\nidle_timeout_secs = 30");
    let held: Vec<TcpStream> = (0..4).map(|_| TcpStream::connect(addr(&s)).unwrap()).collect();
    std::thread::sleep(Duration::from_millis(300));
    let mut extra = TcpStream::connect(addr(&s)).unwrap();
    extra.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
    let (sent, _) = until_closed(extra, Duration::from_secs(5));
    assert!(sent.starts_with("HTTP/1.1 503"), "{sent}");
    assert!(sent.contains("服务器繁忙"), "{sent}");
    drop(held);
    assert!(wait_until(Duration::from_secs(5), || s.client().get("/healthz").status == 200));
}

#[test]
fn malformed_heads_get_a_clear_status_and_change_nothing() {
    let s = Server::start_with(&["--demo"], "");
    let ask = |raw: &[u8]| {
        let mut c = TcpStream::connect(addr(&s)).unwrap();
        c.write_all(raw).unwrap();
        until_closed(c, Duration::from_secs(5)).0
    };
    assert!(ask(b"GARBAGE\r\n\r\n").starts_with("HTTP/1.1 400"));
    assert!(ask(b"GET / HTTP/9.9\r\n\r\n").starts_with("HTTP/1.1 505"));
    assert!(ask(b"POST /login HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n").starts_with("HTTP/1.1 411"));
    let long = format!("GET / HTTP/1.1\r\nX: {}\r\n\r\n", "a".repeat(40_000));
    assert!(ask(long.as_bytes()).starts_with("HTTP/1.1 431"));
    let big = b"POST /login HTTP/1.1\r\nContent-Length: 999999999\r\n\r\n";
    assert!(ask(big).starts_with("HTTP/1.1 413"));
    // Keep-alive and HEAD still behave.
    let mut c = TcpStream::connect(addr(&s)).unwrap();
    c.write_all(
        b"HEAD /healthz HTTP/1.1\r\nHost: x\r\n\r\nGET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    )
    .unwrap();
    let (both, _) = until_closed(c, Duration::from_secs(5));
    assert_eq!(both.matches("HTTP/1.1 200").count(), 2, "{both}");
    assert!(both.ends_with("ok"), "HEAD has no body, GET has: {both}");
}

/// A client socket from a chosen loopback source address (127.0.0.x) to the server.
fn from(source: &str, s: &Server) -> TcpStream {
    use std::net::SocketAddr;
    let sock = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).unwrap();
    sock.bind(&format!("{source}:0").parse::<SocketAddr>().unwrap().into()).unwrap();
    sock.connect(&addr(s).parse::<SocketAddr>().unwrap().into()).unwrap();
    sock.into()
}

/// One device holds at most its share (issue 14): its next connection is told 503, while a
/// real user at another address gets a page within a second.
#[test]
fn one_address_holds_only_its_share_and_another_address_is_served() {
    let s = Server::start_with(
        &["--demo"],
        "max_connections = 16\nmax_connections_per_address = 4\nidle_timeout_secs = 30",
    );
    let held: Vec<TcpStream> = (0..4)
        .map(|_| {
            let mut c = from("127.0.0.1", &s);
            c.write_all(b"POST /login HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nx").unwrap();
            c
        })
        .collect();
    std::thread::sleep(Duration::from_millis(300));
    let mut extra = from("127.0.0.1", &s);
    extra.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
    let (sent, _) = until_closed(extra, Duration::from_secs(5));
    assert!(sent.starts_with("HTTP/1.1 503"), "over its share: {sent}");
    let start = Instant::now();
    let mut other = from("127.0.0.2", &s);
    other.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").unwrap();
    let (sent, _) = until_closed(other, Duration::from_secs(5));
    assert!(sent.starts_with("HTTP/1.1 200") && sent.ends_with("ok"), "{sent}");
    assert!(start.elapsed() < Duration::from_secs(1), "served in {:?}", start.elapsed());
    drop(held);
}

/// A body dripped a byte at a time is cut off at the whole-request deadline (408), not kept
/// for ever by a per-read timeout.
#[test]
fn a_dripping_body_is_cut_off_at_the_request_deadline() {
    let s = Server::start_with(&["--demo"], "request_timeout_secs = 2\nidle_timeout_secs = 30");
    let mut c = TcpStream::connect(addr(&s)).unwrap();
    c.write_all(b"POST /login HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n").unwrap();
    let start = Instant::now();
    let mut answer = String::new();
    while start.elapsed() < Duration::from_secs(10) {
        if c.write_all(b"a").is_err() {
            break;
        }
        std::thread::sleep(Duration::from_millis(300));
        let mut probe = [0u8; 256];
        c.set_read_timeout(Some(Duration::from_millis(1))).unwrap();
        match c.read(&mut probe) {
            Ok(0) => break,
            Ok(n) => {
                answer = String::from_utf8_lossy(&probe[..n]).into_owned();
                break;
            }
            Err(_) => {}
        }
    }
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(start.elapsed() < Duration::from_secs(5), "cut off after {:?}", start.elapsed());
}

/// On the HTTPS port: a handshake that stalls and plain bytes dripped are both cut at their
/// deadlines, with the real client's address in the connection layer (no relay).
#[test]
fn stalled_tls_handshakes_and_plain_drips_are_cut_off() {
    let s = Server::start_with(
        &["--demo"],
        "tls = true\ntls_handshake_timeout_secs = 1\nrequest_timeout_secs = 2\nidle_timeout_secs = 30",
    );
    let mut c = TcpStream::connect(addr(&s)).unwrap();
    c.write_all(&[0x16, 0x03, 0x01, 0x00]).unwrap(); // a ClientHello that never finishes
    let (_, took) = until_closed(c, Duration::from_secs(10));
    assert!(took < Duration::from_secs(4), "handshake cut after {took:?}");
    let mut c = TcpStream::connect(addr(&s)).unwrap();
    let start = Instant::now();
    for b in b"GET / HTTP/1.1\r\nHost: x\r\nX: ".iter().chain(b"y".repeat(40).iter()) {
        if c.write_all(&[*b]).is_err() {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let (sent, _) = until_closed(c, Duration::from_secs(10));
    assert!(sent.is_empty() || sent.starts_with("HTTP/1.1 408"), "{sent}");
    assert!(start.elapsed() < Duration::from_secs(8), "plain drip cut after {:?}", start.elapsed());
}

/// A connection thread that cannot start is a refused connection, not a panic: the server
/// goes on serving (the failure injected by a test switch; CI runs as root, where `ulimit -u`
/// does not bite).
#[test]
fn a_thread_that_cannot_start_refuses_one_connection_and_the_server_goes_on() {
    let s = Server::start_wrapped("", |bin, args| {
        let mut c = std::process::Command::new(bin);
        c.args(args).env("PINGSHEN_TEST_FAIL_SPAWN", "3");
        c
    });
    for _ in 0..3 {
        let mut c = TcpStream::connect(addr(&s)).unwrap();
        let _ = c.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n");
        let (sent, _) = until_closed(c, Duration::from_secs(5));
        assert!(sent.is_empty(), "{sent}");
    }
    assert_eq!(s.client().get("/healthz").status, 200);
}

/// Out of file descriptors (a low `ulimit -n`): accepts back off and the server serves again
/// once the pressure goes.
#[test]
fn out_of_file_descriptors_the_server_backs_off_and_recovers() {
    let s = Server::start_wrapped("idle_timeout_secs = 30", |bin, args| {
        let mut c = std::process::Command::new("sh");
        c.arg("-c").arg("ulimit -n 64 && exec \"$0\" \"$@\"").arg(bin).args(args);
        c
    });
    let flood: Vec<TcpStream> = (0..120).filter_map(|_| TcpStream::connect(addr(&s)).ok()).collect();
    std::thread::sleep(Duration::from_secs(2));
    drop(flood);
    assert!(
        wait_until(Duration::from_secs(10), || {
            let c = s.client();
            c.get("/healthz").status == 200
        }),
        "serving again once the connections are gone"
    );
    let log = std::fs::read_to_string(s.data.join("pingshen.log")).unwrap_or_default();
    let accept_lines = log.lines().filter(|l| l.contains("accept:")).count();
    assert!(accept_lines >= 1, "the flood ran the server out of descriptors: {log}");
    assert!(accept_lines < 40, "accept errors back off instead of spinning: {accept_lines} lines");
}

/// A flood of long URLs (issue 14: 16 connections of 30 KB URLs grew the log by 875 MB in 4 s)
/// costs bounded disk: each line is cut, and the file rotates by size.
#[test]
fn a_log_flood_costs_bounded_disk() {
    let s = Server::start_with(&["--demo"], "log_level = \"info\"\nlog_max_mb = 1\nlog_keep = 1");
    let long = format!("/{}", "a".repeat(30_000));
    let workers: Vec<_> = (0..8)
        .map(|_| {
            let (a, long) = (addr(&s), long.clone());
            std::thread::spawn(move || {
                let mut c = TcpStream::connect(a).unwrap();
                let req = format!("GET {long} HTTP/1.1\r\nHost: x\r\n\r\n");
                let mut buf = vec![0u8; 64 * 1024];
                for _ in 0..1_000 {
                    if c.write_all(req.as_bytes()).is_err() {
                        break;
                    }
                    // Read the whole answer (head, then Content-Length bytes) before the next.
                    let mut got = Vec::new();
                    let body_at = loop {
                        if let Some(i) = got.windows(4).position(|w| w == b"\r\n\r\n") {
                            break i + 4;
                        }
                        match c.read(&mut buf) {
                            Ok(0) | Err(_) => return,
                            Ok(n) => got.extend_from_slice(&buf[..n]),
                        }
                    };
                    let head = String::from_utf8_lossy(&got[..body_at]).to_ascii_lowercase();
                    let len: usize = head
                        .lines()
                        .find_map(|l| l.strip_prefix("content-length:"))
                        .map_or(0, |v| v.trim().parse().unwrap());
                    while got.len() < body_at + len {
                        match c.read(&mut buf) {
                            Ok(0) | Err(_) => return,
                            Ok(n) => got.extend_from_slice(&buf[..n]),
                        }
                    }
                }
            })
        })
        .collect();
    for w in workers {
        w.join().unwrap();
    }
    let total: u64 = std::fs::read_dir(&s.data)
        .unwrap()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().starts_with("pingshen.log"))
        .map(|e| e.metadata().unwrap().len())
        .sum();
    // 8,000 requests × 30 KB of URL would be 240 MB logged whole.
    assert!(total <= 2 * 1024 * 1024 + 64 * 1024, "log files hold {total} bytes");
    assert!(s.data.join("pingshen.log.1").exists(), "the flood rotated the log");
    assert!(!s.data.join("pingshen.log.2").exists(), "log_keep = 1");
}

/// A TLS ClientHello carrying `name` as its server name (SNI), and nothing else a server
/// needs: enough for rustls to read the name, not to finish a handshake.
fn client_hello_with_sni(name: &[u8]) -> Vec<u8> {
    let entry = [&[0u8][..], &(name.len() as u16).to_be_bytes(), name].concat();
    let list = [&(entry.len() as u16).to_be_bytes()[..], &entry].concat();
    let ext = [&[0u8, 0][..], &(list.len() as u16).to_be_bytes(), &list].concat();
    let mut body = vec![0x03, 0x03];
    body.extend_from_slice(&[7u8; 32]); // random
    body.push(0); // no session id
    body.extend_from_slice(&[0, 2, 0x13, 0x01]); // TLS_AES_128_GCM_SHA256
    body.extend_from_slice(&[1, 0]); // no compression
    body.extend_from_slice(&(ext.len() as u16).to_be_bytes());
    body.extend_from_slice(&ext);
    let hs = [&[1u8][..], &(body.len() as u32).to_be_bytes()[1..], &body].concat();
    [&[0x16u8, 0x03, 0x01][..], &(hs.len() as u16).to_be_bytes(), &hs].concat()
}

/// What a client puts in its TLS hello is not a log line: rustls warns about an IP address or
/// a malformed name as SNI (wrk and some tools send the IP), once per connection, with the
/// client's text — a line per connection any device on the LAN could ask for. Filtered.
#[test]
fn what_a_client_sends_in_its_tls_hello_writes_no_log_line() {
    let s = Server::start_with(&["--demo"], "tls = true\nlog_level = \"info\"");
    let log = s.data.join("pingshen.log");
    let before = std::fs::metadata(&log).map(|m| m.len()).unwrap_or(0);
    let long_bad_name = format!("bad name {}", "x".repeat(2_000));
    for i in 0..100 {
        let name: &[u8] = if i % 2 == 0 { b"127.0.0.1" } else { long_bad_name.as_bytes() };
        let mut c = TcpStream::connect(addr(&s)).unwrap();
        c.write_all(&client_hello_with_sni(name)).unwrap();
        let (answer, _) = until_closed(c, Duration::from_secs(5));
        assert!(answer.starts_with('\u{15}'), "rustls read the hello and answered with an alert: {answer:?}");
    }
    let text = std::fs::read_to_string(&log).unwrap_or_default();
    let grown = text.len() as u64 - before;
    assert!(!text.contains("SNI"), "rustls' per-connection warning reached the log");
    assert!(grown < 10_000, "100 hellos grew the log by {grown} bytes");
}

/// Answered polls and static files are debug lines, not info: every voter's page polls every
/// 2 s, and at info those lines rotated the morning's sign-ins, imports and errors out of the
/// kept files by the afternoon. Pages, refusals and a missing file are still logged.
#[test]
fn routine_polls_and_static_files_leave_the_log_to_what_matters() {
    let s = Server::start_with(&["--demo", "expert_review"], "log_level = \"info\"");
    let expert = s.login("wangjianhua", "pingshen");
    for _ in 0..30 {
        assert_eq!(expert.get("/review/draft/status").status, 200);
        assert_eq!(expert.get("/static/app.css").status, 200);
    }
    assert_eq!(expert.get("/review/draft").status, 200);
    assert_eq!(expert.get("/static/missing.css").status, 404);
    assert_eq!(expert.get("/review/ops/status").status, 403, "a leader's poll, refused");
    let log = std::fs::read_to_string(s.data.join("pingshen.log")).unwrap();
    assert!(!log.contains("/review/draft/status") && !log.contains("/static/app.css"), "{log}");
    assert!(log.contains("GET /review/draft 200"), "the page is logged: {log}");
    assert!(log.contains("GET /static/missing.css 404"), "{log}");
    assert!(log.contains("GET /review/ops/status 403"), "{log}");
}

/// Pipelines `n` requests for `path` and never reads an answer, as a client that stopped
/// reading does; the write side may block once the server stops reading too (ignored).
fn pipeline_without_reading(w: &mut impl Write, path: &str, n: usize) {
    let one = format!("GET {path} HTTP/1.1\r\nHost: x\r\n\r\n");
    for _ in 0..n {
        if w.write_all(one.as_bytes()).is_err() {
            return;
        }
    }
    let _ = w.flush();
}

/// A rustls client session to the server's own certificate, over `tcp`.
fn tls_client(s: &Server, tcp: TcpStream) -> rustls::StreamOwned<rustls::ClientConnection, TcpStream> {
    use rustls::pki_types::pem::PemObject;
    let pem = std::fs::read(s.data.join("tls-cert.pem")).unwrap();
    let mut roots = rustls::RootCertStore::empty();
    for cert in rustls::pki_types::CertificateDer::pem_slice_iter(&pem) {
        roots.add(cert.unwrap()).unwrap();
    }
    let provider = std::sync::Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    let name = rustls::pki_types::ServerName::try_from("127.0.0.1").unwrap();
    let conn = rustls::ClientConnection::new(std::sync::Arc::new(config), name).unwrap();
    rustls::StreamOwned::new(conn, tcp)
}

/// Asks for /healthz from 127.0.0.1 on a fresh connection; the answer's status code.
fn healthz_status(s: &Server, tls: bool) -> u16 {
    healthz_status_from("127.0.0.1", s, tls)
}

fn healthz_status_from(source: &str, s: &Server, tls: bool) -> u16 {
    let tcp = from(source, s);
    tcp.set_read_timeout(Some(Duration::from_secs(3))).unwrap();
    let req = b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
    let mut out = Vec::new();
    if tls {
        let mut c = tls_client(s, tcp);
        if c.write_all(req).is_err() {
            return 0; // refused before the handshake: the 503 is plain text
        }
        let _ = c.read_to_end(&mut out);
    } else {
        let mut c = tcp;
        let _ = c.write_all(req);
        let _ = c.read_to_end(&mut out);
    }
    String::from_utf8_lossy(&out).split(' ').nth(1).and_then(|c| c.parse().ok()).unwrap_or(0)
}

/// Issue 14: clients that pipeline and stop reading held every slot of the TLS front for 105 s;
/// issue 27: answers made on the connection thread (an embedded file, /healthz) over TLS were
/// never let go — a blocked rustls write read the client's next pipelined requests instead.
/// Now an answer has one deadline (`write_timeout_secs` plus its body at the floor rate), for
/// both schemes and every answer: the address's share is held while the sends block, and free
/// again soon after the deadline.
#[test]
fn clients_that_stop_reading_are_cut_off_at_the_write_deadline() {
    for tls in [false, true] {
        for path in ["/static/app.css", "/healthz"] {
            let s = Server::start_with(
                &["--demo"],
                &format!(
                    "tls = {tls}\nmax_connections = 16\nmax_connections_per_address = 2\nwrite_timeout_secs = 2\n\
                     idle_timeout_secs = 30\nrequest_timeout_secs = 30"
                ),
            );
            let stuck: Vec<std::thread::JoinHandle<()>> = (0..2)
                .map(|_| {
                    let tcp = from("127.0.0.1", &s);
                    tcp.set_write_timeout(Some(Duration::from_secs(5))).unwrap();
                    let client = tls.then(|| tls_client(&s, tcp.try_clone().unwrap()));
                    let path = path.to_string();
                    std::thread::spawn(move || {
                        // Far more than the sockets' buffers hold (app.css: ~70 MB in all;
                        // /healthz: enough requests to fill the server's receive side).
                        let n = if path == "/healthz" { 100_000 } else { 4000 };
                        match client {
                            Some(mut c) => pipeline_without_reading(&mut c, &path, n),
                            None => pipeline_without_reading(&mut &tcp, &path, n),
                        }
                        std::thread::sleep(Duration::from_secs(40)); // holds the socket, never reads
                    })
                })
                .collect();
            std::thread::sleep(Duration::from_millis(700));
            assert_ne!(
                healthz_status(&s, tls),
                200,
                "tls={tls} {path}: the two stuck clients hold the address's share"
            );
            let start = Instant::now();
            assert!(
                wait_until(Duration::from_secs(20), || healthz_status(&s, tls) == 200),
                "tls={tls} {path}: the stuck connections were never cut off"
            );
            assert!(start.elapsed() < Duration::from_secs(15), "tls={tls} {path}: freed after {:?}", start.elapsed());
            drop(stuck); // detached; they end with the test process
        }
    }
}

/// A 12 MB material, read 4 KB a second: every send makes progress inside the write timeout,
/// so a per-send deadline would hold the connection (and its thread) for the best part of an
/// hour. The answer's deadline — `write_timeout_secs` plus 12 MB at the floor rate (here 1 MiB/s,
/// so about 14 s) — cuts it off; its address's share is free again; and 40 such readers from
/// other addresses leave a normal user's page answered (issue 27).
#[test]
fn a_client_reading_just_enough_is_cut_off_at_the_answers_deadline() {
    // Incompressible bytes (the importer refuses a zip bomb), 12 MB.
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    let big: Vec<u8> = (0..12 * 1024 * 1024)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect();
    let mut p = example_json();
    p["applicants"][0]["materials"] = serde_json::json!(["materials/A0001/扫描件.bin"]);
    let zip = zip_of(&[("package.json", &serde_json::to_vec(&p).unwrap()), ("materials/A0001/扫描件.bin", &big)]);
    let v = Venue::with_package(
        &p,
        "package.zip",
        &zip,
        "max_connections = 256\nmax_connections_per_address = 2\nwrite_timeout_secs = 2\n\
         min_send_bytes_per_sec = 1048576\nidle_timeout_secs = 60",
    );
    let s = &v.s;
    let id: i64 = s.db().query_row("SELECT id FROM materials", [], |r| r.get(0)).unwrap();
    let cookie = v.login("E001").session_cookie().unwrap();
    let request = format!("GET /materials/{id} HTTP/1.1\r\nHost: x\r\nCookie: pingshen_sid={cookie}\r\n\r\n");
    // Readers that take 4 KB a second: two from 127.0.0.9 (its whole share), 40 from others.
    let sources: Vec<String> = ["127.0.0.9".to_string(), "127.0.0.9".to_string()]
        .into_iter()
        .chain((0..40).map(|i| format!("127.0.1.{}", i + 1)))
        .collect();
    let readers: Vec<_> = sources
        .iter()
        .map(|src| {
            let mut c = from(src, s);
            c.write_all(request.as_bytes()).unwrap();
            c.set_read_timeout(Some(Duration::from_secs(1))).unwrap();
            std::thread::spawn(move || {
                let mut buf = [0u8; 4096];
                let mut got = 0usize;
                let start = Instant::now();
                while start.elapsed() < Duration::from_secs(60) {
                    std::thread::sleep(Duration::from_secs(1));
                    match c.read(&mut buf) {
                        Ok(0) => break,
                        Ok(n) => got += n,
                        Err(e)
                            if e.kind() == std::io::ErrorKind::WouldBlock
                                || e.kind() == std::io::ErrorKind::TimedOut => {}
                        Err(_) => break,
                    }
                }
                got
            })
        })
        .collect();
    std::thread::sleep(Duration::from_millis(1500));
    assert_ne!(healthz_status_from("127.0.0.9", s, false), 200, "the two slow readers hold 127.0.0.9's share");
    // A normal user elsewhere is answered meanwhile.
    let page = v.login("E002").get("/review/draft");
    assert_eq!(page.status, 200, "a normal user is served while 42 slow readers hold answers");
    let start = Instant::now();
    assert!(
        wait_until(Duration::from_secs(40), || healthz_status_from("127.0.0.9", s, false) == 200),
        "the slow readers were never cut off"
    );
    let took = start.elapsed();
    assert!(took < Duration::from_secs(30), "freed after {took:?} (the answer's deadline is about 14 s)");
    drop(readers); // detached; they stop by themselves within a minute
}

/// Issue 14: the TLS front cost 3 threads and 10 file descriptors per connection (a relay to a
/// loopback backend). Terminated in the connection layer, an open HTTPS connection is one
/// socket and one thread, like a plain one.
#[test]
fn an_https_connection_costs_one_descriptor_and_one_thread() {
    let s = Server::start_with(&["--demo"], "tls = true\nidle_timeout_secs = 60");
    let (fds0, threads0) = s.fds_and_threads();
    let n = 40;
    let open: Vec<_> = (0..n)
        .map(|i| {
            let mut c = tls_client(&s, from("127.0.0.1", &s));
            c.sock.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
            c.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
            let mut got = Vec::new();
            let mut buf = [0u8; 512];
            while !got.ends_with(b"ok") {
                let k = c.read(&mut buf).unwrap();
                assert!(k > 0, "connection {i} closed early");
                got.extend_from_slice(&buf[..k]);
            }
            assert!(got.starts_with(b"HTTP/1.1 200"), "{}", String::from_utf8_lossy(&got));
            c // kept open (keep-alive)
        })
        .collect();
    std::thread::sleep(Duration::from_millis(300));
    let (fds, threads) = s.fds_and_threads();
    let (dfd, dth) = (fds.saturating_sub(fds0), threads.saturating_sub(threads0));
    assert!(dfd >= n - 2 && dfd <= n + 4, "{dfd} descriptors for {n} open HTTPS connections");
    assert!(dth <= n + 4, "{dth} threads for {n} open HTTPS connections");
    drop(open);
}

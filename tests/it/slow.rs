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

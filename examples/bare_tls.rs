//! The floor for `examples/bench-connections.sh`: the smallest server the same crates make —
//! a thread per connection, rustls with the same provider, certificate type, session cache
//! and tickets as pingshen, answering every request "ok" with no parsing beyond the blank line.
//! What pingshen loses against it is the cost of its own connection layer.
//!
//!     cargo run --release --example bare_tls -- [--plain] [ADDR]

// A measuring tool: a failure to start is a panic with its reason.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::let_underscore_must_use)]

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::Arc;

fn serve(mut s: impl Read + Write) {
    let mut buf = Vec::with_capacity(4096);
    let mut chunk = [0u8; 16 * 1024];
    loop {
        while let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            let close = String::from_utf8_lossy(&buf[..end]).to_ascii_lowercase().contains("connection: close");
            buf.drain(..end + 4);
            let conn = if close { "close" } else { "keep-alive" };
            let answer = format!("HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: {conn}\r\n\r\nok");
            if s.write_all(answer.as_bytes()).and_then(|_| s.flush()).is_err() || close {
                return;
            }
        }
        match s.read(&mut chunk) {
            Ok(0) | Err(_) => return,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
    }
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let plain = args.iter().any(|a| a == "--plain");
    let addr = args.iter().find(|a| !a.starts_with("--")).cloned().unwrap_or_else(|| "127.0.0.1:0".into());
    let listener = TcpListener::bind(&addr).expect("bind");
    let config = (!plain).then(|| {
        let key = rcgen::KeyPair::generate().expect("key");
        let cert = rcgen::CertificateParams::new(vec!["localhost".into()]).unwrap().self_signed(&key).unwrap();
        let der_key = rustls::pki_types::PrivateKeyDer::Pkcs8(key.serialize_der().into());
        let mut c = rustls::ServerConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_no_client_auth()
            .with_single_cert(vec![cert.der().clone()], der_key)
            .unwrap();
        c.ticketer = rustls::crypto::ring::Ticketer::new().unwrap();
        c.session_storage = rustls::server::ServerSessionMemoryCache::new(4096);
        Arc::new(c)
    });
    println!("bare: listening on {}", listener.local_addr().unwrap());
    for stream in listener.incoming().flatten() {
        let config = config.clone();
        std::thread::spawn(move || {
            let _ = stream.set_nodelay(true);
            match config {
                None => serve(stream),
                Some(c) => {
                    let Ok(conn) = rustls::ServerConnection::new(c) else { return };
                    serve(rustls::StreamOwned::<_, TcpStream>::new(conn, stream));
                }
            }
        });
    }
}

//! HTTPS on the LAN: a TLS front (current rustls) that terminates TLS in-process and relays
//! plaintext to the rouille server bound to loopback. It adds what tiny_http lacks: an idle
//! read timeout per connection and a cap on connections. A plain-HTTP request on the HTTPS port
//! gets a redirect. rouille sees every request from 127.0.0.1, so the front records which
//! client each relay connection belongs to (`Peers`) for throttling and logs.

// The TLS front is being rewritten as one piece by its own issue (one connection layer that no
// misbehaving device can take down); until then it keeps its own error handling.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::let_underscore_must_use, unsafe_code)]

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::{ServerConfig, ServerConnection};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::{IpAddr, Shutdown, SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

pub const CERT_FILE: &str = "tls-cert.pem";
pub const KEY_FILE: &str = "tls-key.pem";

/// Relay connection's local port (as rouille sees it) → the real client's address.
#[derive(Default)]
pub struct Peers(Mutex<HashMap<u16, IpAddr>>);

impl Peers {
    pub fn client_of(&self, relay: SocketAddr) -> Option<IpAddr> {
        if !relay.ip().is_loopback() {
            return None;
        }
        self.0.lock().unwrap_or_else(|p| p.into_inner()).get(&relay.port()).copied()
    }
}

pub struct Cert {
    pub chain: Vec<CertificateDer<'static>>,
    pub key: PrivateKeyDer<'static>,
    pub fingerprint: String,
    pub generated: bool,
}

/// SHA-256 of the leaf certificate, as browsers show it ("AB:CD:…").
pub fn fingerprint(der: &[u8]) -> String {
    Sha256::digest(der).iter().map(|b| format!("{b:02X}")).collect::<Vec<_>>().join(":")
}

/// The fingerprint of the certificate the server will use (for slips printed by the CLI).
pub fn configured_fingerprint(cert: Option<&Path>, data_dir: &Path) -> Option<String> {
    let path = cert.map(Path::to_path_buf).unwrap_or_else(|| data_dir.join(CERT_FILE));
    let first = CertificateDer::pem_file_iter(&path).ok()?.next()?.ok()?;
    Some(fingerprint(first.as_ref()))
}

/// The configured certificate, or the one generated earlier, or a new self-signed one for the
/// machine's LAN addresses (written to the data dir, the key owner-only).
pub fn load_or_generate(
    cert: Option<&Path>,
    key: Option<&Path>,
    data_dir: &Path,
    names: &[String],
) -> Result<Cert, String> {
    let (cert_path, key_path, generated) = match (cert, key) {
        (Some(c), Some(k)) => (c.to_path_buf(), k.to_path_buf(), false),
        (None, None) => {
            let (c, k) = (data_dir.join(CERT_FILE), data_dir.join(KEY_FILE));
            if !c.exists() {
                generate(&c, &k, names)?;
                (c, k, true)
            } else {
                (c, k, false)
            }
        }
        _ => return Err("tls_cert and tls_key must be set together".into()),
    };
    let chain: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(&cert_path)
        .map_err(|e| format!("{}: {e}", cert_path.display()))?
        .collect::<Result<_, _>>()
        .map_err(|e| format!("{}: {e}", cert_path.display()))?;
    let first = chain.first().ok_or(format!("{}: no certificate", cert_path.display()))?;
    let fingerprint = fingerprint(first.as_ref());
    let key = PrivateKeyDer::from_pem_file(&key_path).map_err(|e| format!("{}: {e}", key_path.display()))?;
    Ok(Cert { chain, key, fingerprint, generated })
}

fn generate(cert: &PathBuf, key: &PathBuf, names: &[String]) -> Result<(), String> {
    let mut sans: Vec<String> = names.to_vec();
    for n in ["localhost", "127.0.0.1"] {
        if !sans.iter().any(|s| s == n) {
            sans.push(n.to_string());
        }
    }
    let mut params = rcgen::CertificateParams::new(sans).map_err(|e| e.to_string())?;
    params.distinguished_name.push(rcgen::DnType::CommonName, "pingshen venue appliance");
    params.not_before = rcgen::date_time_ymd(2024, 1, 1);
    params.not_after = rcgen::date_time_ymd(2036, 1, 1);
    let kp = rcgen::KeyPair::generate().map_err(|e| e.to_string())?;
    let c = params.self_signed(&kp).map_err(|e| e.to_string())?;
    std::fs::write(cert, c.pem()).map_err(|e| e.to_string())?;
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    opts.open(key).and_then(|mut f| f.write_all(kp.serialize_pem().as_bytes())).map_err(|e| e.to_string())?;
    log::info!("self-signed TLS certificate generated for {names:?}");
    Ok(())
}

pub struct Front {
    pub idle: Duration,
    pub max_connections: usize,
}

/// Accepts on `listener` forever (in its own thread), relaying each connection to `backend`.
pub fn spawn(
    listener: TcpListener,
    backend: SocketAddr,
    cert: Cert,
    front: Front,
    peers: Arc<Peers>,
) -> Result<(), String> {
    let config = ServerConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?
        .with_no_client_auth()
        .with_single_cert(cert.chain, cert.key)
        .map_err(|e| format!("TLS certificate: {e}"))?;
    let config = Arc::new(config);
    let open = Arc::new(AtomicUsize::new(0));
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(client) = stream else { continue };
            if open.load(Ordering::Relaxed) >= front.max_connections {
                drop(client); // over the cap: refuse rather than starve the others
                continue;
            }
            open.fetch_add(1, Ordering::Relaxed);
            let (config, peers, open, idle) = (config.clone(), peers.clone(), open.clone(), front.idle);
            std::thread::spawn(move || {
                if let Err(e) = relay(client, backend, config, &peers, idle) {
                    log::debug!("tls connection: {e}");
                }
                open.fetch_sub(1, Ordering::Relaxed);
            });
        }
    });
    Ok(())
}

fn relay(
    client: TcpStream,
    backend: SocketAddr,
    config: Arc<ServerConfig>,
    peers: &Peers,
    idle: Duration,
) -> std::io::Result<()> {
    client.set_read_timeout(Some(idle))?;
    client.set_nodelay(true)?;
    let mut first = [0u8; 1];
    if client.peek(&mut first)? == 0 {
        return Ok(());
    }
    if first[0] != 0x16 {
        return redirect_plain(client);
    }
    let upstream = TcpStream::connect(backend)?;
    upstream.set_nodelay(true)?;
    let relay_port = upstream.local_addr()?.port();
    if let Ok(addr) = client.peer_addr() {
        peers.0.lock().unwrap_or_else(|p| p.into_inner()).insert(relay_port, addr.ip());
    }
    let conn = Arc::new(Mutex::new(ServerConnection::new(config).map_err(std::io::Error::other)?));
    // Backend → client: encrypt what rouille answers.
    let down = {
        let (conn, mut up_r, mut cl_w) = (conn.clone(), upstream.try_clone()?, client.try_clone()?);
        std::thread::spawn(move || {
            let mut buf = vec![0u8; 16 * 1024];
            loop {
                let n = match up_r.read(&mut buf) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => n,
                };
                let mut c = conn.lock().unwrap_or_else(|p| p.into_inner());
                if c.writer().write_all(&buf[..n]).is_err() {
                    break;
                }
                while c.wants_write() {
                    if c.write_tls(&mut cl_w).is_err() {
                        return;
                    }
                }
            }
            let mut c = conn.lock().unwrap_or_else(|p| p.into_inner());
            c.send_close_notify();
            while c.wants_write() && c.write_tls(&mut cl_w).is_ok() {}
            let _ = cl_w.shutdown(Shutdown::Both);
        })
    };
    // Client → backend: decrypt what the browser sends.
    let (mut cl_r, mut cl_w, mut up_w) = (client.try_clone()?, client.try_clone()?, upstream.try_clone()?);
    let mut buf = vec![0u8; 16 * 1024];
    let mut plain = Vec::new();
    let result: std::io::Result<()> = 'outer: loop {
        let n = match cl_r.read(&mut buf) {
            Ok(0) => break Ok(()),
            Ok(n) => n,
            Err(e) => break Err(e), // includes the idle timeout
        };
        plain.clear();
        {
            let mut c = conn.lock().unwrap_or_else(|p| p.into_inner());
            let mut slice = &buf[..n];
            while !slice.is_empty() {
                if let Err(e) = c.read_tls(&mut slice) {
                    break 'outer Err(e);
                }
                if let Err(e) = c.process_new_packets() {
                    while c.wants_write() && c.write_tls(&mut cl_w).is_ok() {}
                    break 'outer Err(std::io::Error::other(e));
                }
            }
            let mut tmp = [0u8; 16 * 1024];
            loop {
                match c.reader().read(&mut tmp) {
                    Ok(0) => break,
                    Ok(k) => plain.extend_from_slice(&tmp[..k]),
                    Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => break,
                    Err(e) => break 'outer Err(e),
                }
            }
            while c.wants_write() {
                if let Err(e) = c.write_tls(&mut cl_w) {
                    break 'outer Err(e);
                }
            }
        }
        if !plain.is_empty() && up_w.write_all(&plain).is_err() {
            break Ok(());
        }
    };
    let _ = upstream.shutdown(Shutdown::Both);
    let _ = down.join();
    peers.0.lock().unwrap_or_else(|p| p.into_inner()).remove(&relay_port);
    result
}

/// A browser that typed http:// on the HTTPS port gets sent to https:// on the same port.
fn redirect_plain(mut client: TcpStream) -> std::io::Result<()> {
    let mut head = Vec::new();
    let mut buf = [0u8; 1024];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") && head.len() < 8192 {
        let n = client.read(&mut buf)?;
        if n == 0 {
            break;
        }
        head.extend_from_slice(&buf[..n]);
    }
    let text = String::from_utf8_lossy(&head);
    let path = text.split_whitespace().nth(1).filter(|p| p.starts_with('/')).unwrap_or("/");
    let host = text
        .lines()
        .find_map(|l| l.strip_prefix("Host:").or_else(|| l.strip_prefix("host:")))
        .map(str::trim)
        .unwrap_or("");
    let location = format!("https://{host}{path}");
    let body = "This is an HTTPS port. 请使用 https:// 访问。\n";
    let resp = format!(
        "HTTP/1.1 308 Permanent Redirect\r\nLocation: {location}\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    client.write_all(resp.as_bytes())?;
    let _ = client.shutdown(Shutdown::Both);
    Ok(())
}

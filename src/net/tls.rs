//! HTTPS on the LAN: the certificate (configured, or generated once for the LAN addresses) and
//! its rustls configuration. The connection layer (`server`) terminates TLS itself.

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::ServerConfig;
use sha2::{Digest, Sha256};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;

pub const CERT_FILE: &str = "tls-cert.pem";
pub const KEY_FILE: &str = "tls-key.pem";

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

/// The rustls configuration for a certificate (ring, TLS 1.2 and 1.3), with session tickets:
/// a browser that reconnects resumes its session instead of a full handshake (the costly part
/// of a new HTTPS connection).
pub fn server_config(cert: Cert) -> Result<Arc<ServerConfig>, String> {
    let mut config = ServerConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?
        .with_no_client_auth()
        .with_single_cert(cert.chain, cert.key)
        .map_err(|e| format!("TLS certificate: {e}"))?;
    config.ticketer = rustls::crypto::ring::Ticketer::new().map_err(|e| e.to_string())?;
    config.session_storage = rustls::server::ServerSessionMemoryCache::new(4096);
    Ok(Arc::new(config))
}

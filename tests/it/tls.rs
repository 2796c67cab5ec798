//! HTTPS: the TLS front answers with the generated certificate, cookies become Secure, plain
//! HTTP on the port is redirected, idle connections are closed, and the fingerprint is shown.

use crate::common::*;
use std::io::{Read, Write};
use std::sync::Arc;

fn agent(s: &Server) -> ureq::Agent {
    let pem = std::fs::read(s.data.join("tls-cert.pem")).unwrap();
    let mut roots = rustls::RootCertStore::empty();
    for cert in rustls_pemfile_certs(&pem) {
        roots.add(cert).unwrap();
    }
    let config = rustls::ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    ureq::AgentBuilder::new().redirects(0).tls_config(Arc::new(config)).build()
}

fn rustls_pemfile_certs(pem: &[u8]) -> Vec<rustls::pki_types::CertificateDer<'static>> {
    use rustls::pki_types::pem::PemObject;
    rustls::pki_types::CertificateDer::pem_slice_iter(pem).map(Result::unwrap).collect()
}

fn status(r: Result<ureq::Response, ureq::Error>) -> ureq::Response {
    match r {
        Ok(r) => r,
        Err(ureq::Error::Status(_, r)) => r,
        Err(e) => panic!("{e}"),
    }
}

#[test]
fn the_server_answers_over_tls_with_its_certificate() {
    let s = Server::start_with(&["--demo", "expert_review"], "tls = true\nidle_timeout_secs = 1");
    let https = s.base.replace("http://", "https://");
    let a = agent(&s);
    let r = status(a.get(&format!("{https}/login")).call());
    assert_eq!(r.status(), 200);
    let cookie = r.all("set-cookie").into_iter().find(|c| c.starts_with("pingshen_login=")).unwrap().to_string();
    assert!(cookie.contains("Secure"), "{cookie}");
    let body = r.into_string().unwrap();
    let token = extract_csrf(&body).unwrap();
    // Log in over TLS; the session cookie is Secure too.
    let r = status(a.post(&format!("{https}/login")).set("Cookie", cookie.split(';').next().unwrap()).send_form(&[
        ("_csrf", &token),
        ("username", "admin"),
        ("password", "admin-demo"),
    ]));
    assert_eq!(r.status(), 303);
    let sid = r.all("set-cookie").into_iter().find(|c| c.starts_with("pingshen_sid=")).unwrap().to_string();
    assert!(sid.contains("Secure") && sid.contains("HttpOnly"), "{sid}");
    let r = status(a.get(&format!("{https}/admin")).set("Cookie", sid.split(';').next().unwrap()).call());
    assert_eq!(r.status(), 200);
    let page = unescape(&r.into_string().unwrap());
    // The dashboard shows the certificate's fingerprint, and it is this certificate's.
    let pem = std::fs::read(s.data.join("tls-cert.pem")).unwrap();
    let der = rustls_pemfile_certs(&pem).remove(0);
    let fp = pingshen::net::tls::fingerprint(der.as_ref());
    assert!(page.contains(&fp), "dashboard lacks {fp}");
    assert!(s.stdout_text().contains(&fp), "the banner prints the fingerprint");
    assert!(s.stdout_text().contains("https://127.0.0.1:"));
    // The key file is the service's own.
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(s.data.join("tls-key.pem")).unwrap().permissions().mode();
    assert_eq!(mode & 0o077, 0, "tls-key.pem is readable by others");

    // Plain HTTP on the HTTPS port is redirected.
    let plain = ureq::AgentBuilder::new().redirects(0).build();
    let r = status(plain.get(&format!("{}/desk", s.base)).call());
    assert_eq!(r.status(), 308);
    assert_eq!(r.header("Location"), Some(format!("{https}/desk").as_str()));

    // A connection that sends nothing is closed after the idle timeout.
    let addr = s.base.trim_start_matches("http://").to_string();
    let mut idle = std::net::TcpStream::connect(&addr).unwrap();
    idle.set_read_timeout(Some(std::time::Duration::from_secs(10))).unwrap();
    let started = std::time::Instant::now();
    let mut buf = [0u8; 16];
    let n = idle.read(&mut buf).unwrap_or(0);
    assert_eq!(n, 0, "the server closed the idle connection");
    assert!(started.elapsed() < std::time::Duration::from_secs(8));
    let _ = idle.write_all(b"x");
}

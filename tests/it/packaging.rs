//! The service install: staged into a temp root, the files, modes and the venue config are right.

use crate::common::*;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

#[test]
fn the_install_script_stages_a_hardened_service() {
    let root = tempfile::tempdir().unwrap();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("packaging/install.sh");
    let out = std::process::Command::new("bash")
        .arg(&script)
        .arg("--no-start")
        .env("DESTDIR", root.path())
        .env("PINGSHEN_BIN", BIN)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let r = root.path();
    let bin = r.join("usr/bin/pingshen");
    assert_eq!(std::fs::metadata(&bin).unwrap().permissions().mode() & 0o777, 0o755);
    let v = std::process::Command::new(&bin).arg("--version").output().unwrap();
    assert!(String::from_utf8_lossy(&v.stdout).starts_with("pingshen "));
    assert_eq!(std::fs::metadata(r.join("var/lib/pingshen")).unwrap().permissions().mode() & 0o777, 0o700);
    let cfg = pingshen::config::Config::load(Some(&r.join("etc/pingshen/config.toml"))).unwrap();
    assert!(cfg.tls, "a venue install serves HTTPS");
    assert_eq!(cfg.listen, "0.0.0.0:443");
    assert_eq!(cfg.data_dir, Path::new("/var/lib/pingshen"));
    let unit = std::fs::read_to_string(r.join("etc/systemd/system/pingshen.service")).unwrap();
    for line in [
        "User=pingshen",
        "StateDirectory=pingshen",
        "ProtectSystem=strict",
        "ProtectHome=yes",
        "NoNewPrivileges=yes",
        "PrivateTmp=yes",
        "ExecStart=/usr/bin/pingshen serve --config /etc/pingshen/config.toml --data /var/lib/pingshen",
    ] {
        assert!(unit.lines().any(|l| l == line), "the unit lacks {line}");
    }
    // The staged binary reads the staged config (pointing its data at a temp dir).
    let (code, _, err) = run(&[
        "doctor",
        "--config",
        r.join("etc/pingshen/config.toml").to_str().unwrap(),
        "--data",
        r.join("var/lib/pingshen").to_str().unwrap(),
        "--listen",
        "127.0.0.1:0",
    ]);
    assert_eq!(code, 0, "{err}");
}

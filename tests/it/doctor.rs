//! `pingshen doctor`: the venue checklist finds a taken port and an unusable data directory.

use crate::common::*;

#[test]
fn doctor_reports_what_to_fix() {
    let t = tempfile::tempdir().unwrap();
    let data = t.path().join("data");
    let (code, out, err) = run(&["doctor", "--data", data.to_str().unwrap(), "--listen", "127.0.0.1:0"]);
    assert_eq!(code, 0, "{out}{err}");
    for line in
        ["is writable", "free on the data directory's disk", "port 0 is free", "the clock reads", "HTTPS is off"]
    {
        assert!(out.contains(line), "doctor lacks {line:?}:\n{out}");
    }
    // A port in use and a data directory that cannot exist: both named, with what to do.
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().to_string();
    let file = t.path().join("a-file");
    std::fs::write(&file, b"x").unwrap();
    let bad = file.join("data");
    let (code, out, err) = run(&["doctor", "--data", bad.to_str().unwrap(), "--listen", &port]);
    assert_eq!(code, 1);
    assert!(out.contains("[FAIL] cannot listen on") && out.contains("stop it or choose another --listen"), "{out}");
    assert!(out.contains("[FAIL] data directory") && out.contains("not writable"), "{out}");
    assert!(err.contains("2 problem(s)"), "{err}");
}

/// Issue 14: while the appliance serves, `pingshen doctor` reads its connection figures and
/// warns when most connections come from one address (a Wi-Fi router that NATs every tablet).
#[test]
fn doctor_warns_when_most_connections_share_one_address() {
    let s = Server::start(&[]);
    let doctor = || {
        let (code, out, err) = run(&[
            "doctor",
            "--data",
            s.data.to_str().unwrap(),
            "--config",
            s.config.to_str().unwrap(),
            "--listen",
            "127.0.0.1:0",
        ]);
        assert_eq!(code, 0, "{out}{err}");
        out
    };
    let wait_for = |what: &str| {
        let until = std::time::Instant::now() + std::time::Duration::from_secs(20);
        loop {
            let out = doctor();
            if out.contains(what) || std::time::Instant::now() > until {
                return out;
            }
            std::thread::sleep(std::time::Duration::from_millis(500));
        }
    };
    let out = wait_for("address(es) now");
    assert!(out.contains("[OK  ]") && out.contains("address(es) now"), "{out}");
    // 30 devices behind one address (here: all on 127.0.0.1), connected and idle.
    let held: Vec<_> =
        (0..30).map(|_| std::net::TcpStream::connect(s.base.trim_start_matches("http://")).unwrap()).collect();
    let out = wait_for("come from one address");
    assert!(out.contains("[WARN] most connections") && out.contains("127.0.0.1"), "{out}");
    assert!(out.contains("bridge (AP) mode"), "{out}");
    drop(held);
}

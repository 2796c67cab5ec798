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

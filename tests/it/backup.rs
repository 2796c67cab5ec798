//! Online backups (the backup API while serving, at start, on phase changes, rotated) and
//! `pingshen restore` onto a fresh data directory that continues the session.

use crate::common::*;
use std::time::Duration;

fn backups(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    pingshen::store::backup::list(dir)
}

#[test]
fn backups_follow_the_phases_and_restore_continues_the_session() {
    let t = tempfile::tempdir().unwrap();
    let bdir = t.path().join("usb");
    let s = Server::start_with(&["--demo", "expert_review"], &format!("backup_dir = {:?}\nbackup_keep = 3", bdir));
    assert!(wait_until(Duration::from_secs(10), || !backups(&bdir).is_empty()), "a backup at start");
    // 小学语文组 votes: two of four submit, the leader closes (a phase change).
    let leader = s.login("sunyi", "pingshen");
    let wang = s.login("wangjianhua", "pingshen");
    let _li = s.login("lihongmei", "pingshen"); // signed in, admitted, never submits
    let apps: Vec<String> = (1..=7).map(|i| format!("A{i:04}")).collect();
    for c in [&leader, &wang] {
        let f: Vec<(String, String)> = apps.iter().map(|a| (format!("choice_{a}"), "agree".to_string())).collect();
        let r: Vec<(&str, &str)> = f.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        assert_eq!(c.post_form("/review/draft", &r).status, 303);
    }
    assert_eq!(leader.post_form("/review/ops/open", &[]).status, 303);
    for c in [&leader, &wang] {
        assert_eq!(submit(c).status, 303);
    }
    assert_eq!(leader.post_form("/review/ops/close", &[]).status, 303);
    assert!(
        wait_until(Duration::from_secs(10), || backups(&bdir)
            .iter()
            .any(|p| p.to_string_lossy().contains("review-ops-close"))),
        "a backup after the vote closed: {:?}",
        backups(&bdir)
    );
    assert!(backups(&bdir).len() <= 3, "rotation keeps 3: {:?}", backups(&bdir));
    assert!(bdir.join("appliance.key").exists(), "the signing key travels with the backups");
    let admin = s.admin();
    let health = admin.get("/admin").text();
    assert!(health.contains("review-ops-close"), "the dashboard names the last backup");
    let ballots: i64 = s.db().query_row("SELECT count(*) FROM ballots", [], |r| r.get(0)).unwrap();
    assert_eq!(ballots, 14);

    // Restore the newest backup onto a fresh data dir; a server there continues the session.
    let newest = backups(&bdir).pop().unwrap();
    let fresh = t.path().join("restored");
    let (code, out, err) = run(&["restore", newest.to_str().unwrap(), "--data", fresh.to_str().unwrap()]);
    assert_eq!(code, 0, "{out}{err}");
    let (code, _, err) = run(&["restore", newest.to_str().unwrap(), "--data", fresh.to_str().unwrap()]);
    assert_eq!(code, 1, "restoring over a session is refused");
    assert!(err.contains("empty data directory"), "{err}");
    assert_eq!(
        std::fs::read(fresh.join("appliance.pub")).unwrap(),
        std::fs::read(s.data.join("appliance.pub")).unwrap(),
        "the same signing key"
    );
    let cfg = write_config(&t.path().join("cfg2"), "");
    let s2 = Server::spawn(&fresh, &cfg, &[]);
    let leader2 = s2.login("sunyi", "pingshen");
    let st = leader2.get_json("/review/ops/status");
    assert_eq!(serde_json::from_str::<serde_json::Value>(&st.body).unwrap()["status"], "closed");
    let b2: i64 = s2.db().query_row("SELECT count(*) FROM ballots", [], |r| r.get(0)).unwrap();
    assert_eq!(b2, ballots, "every ballot is in the restored copy");
    // The session goes on: the leader deliberates in the restored server.
    let page = leader2.get("/review/deliberate");
    assert_eq!(page.status, 200);
    assert!(page.text().contains("规则结果"));
}

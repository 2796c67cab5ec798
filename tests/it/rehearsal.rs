//! 彩排 (issue 16, DOMAIN "Rehearsal and the end of the day"): the day before, the real package
//! is played end to end; afterwards the session is exactly as it was and nothing of the
//! rehearsal is left in any file. Each guarantee has its check here.

use crate::common::*;
use std::path::Path;

const MARKER: &str = "REHEARSAL-MARKER-7f3a9c";

/// The session's content hash as `pingshen rehearsal status` prints it.
fn status(s: &Server) -> (bool, String) {
    let (code, out, err) =
        run(&["rehearsal", "status", "--data", s.data.to_str().unwrap(), "--config", s.config.to_str().unwrap()]);
    assert_eq!(code, 0, "{out}{err}");
    let hash = out.lines().find_map(|l| l.split("SHA-256): ").nth(1)).unwrap().trim().to_string();
    assert_eq!(hash.len(), 64, "{out}");
    (out.contains("彩排进行中"), hash)
}

/// Every file under `dir` whose raw bytes contain `needle` (WAL, SHM, logs, zips included).
fn files_containing(dir: &Path, needle: &[u8]) -> Vec<String> {
    let mut hits = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else { return hits };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            hits.extend(files_containing(&p, needle));
        } else if let Ok(bytes) = std::fs::read(&p) {
            if bytes.windows(needle.len()).any(|w| w == needle) {
                hits.push(p.display().to_string());
            }
        }
    }
    hits
}

fn verify(bundle: &Path) -> (i32, String) {
    let (code, out, err) = run(&["verify", bundle.to_str().unwrap()]);
    (code, format!("{out}{err}"))
}

#[test]
fn a_rehearsal_leaves_the_session_exactly_as_it_was_and_no_trace_in_any_file() {
    let backups = tempfile::tempdir().unwrap();
    let p = example_json();
    let v = Venue::with_config(&p, &format!("backup_dir = {:?}\n", backups.path().display().to_string()));
    let id = p["session"]["id"].as_str().unwrap().to_string();
    // Signed in before the rehearsal (a sign-in is recorded in the session: attendance).
    let e2_before = v.login("E002");
    let (running, before) = status(&v.s);
    assert!(!running);
    let page = v.admin.get("/admin/rehearsal").text();
    assert!(page.contains(&before) && page.contains("开始彩排"), "the console shows the same hash: {page}");
    let backups_before = pingshen::store::backup::list(backups.path()).len();

    // The rehearsal starts; every page says so.
    let draft_page = e2_before.get("/review/draft").body;
    let epoch_of = |body: &str| body.split("data-epoch=\"").nth(1).unwrap().split('"').next().unwrap().to_string();
    let real_epoch = epoch_of(&draft_page);
    assert_eq!(v.admin.post_form("/admin/rehearsal/start", &[]).status, 303);
    assert!(status(&v.s).0, "status says a rehearsal runs");
    for (who, path) in [("E002", "/review/draft"), ("E101", "/committee/ops"), ("E102", "/committee/report")] {
        let page = v.login(who).get(path);
        assert!(page.body.contains("id=\"rehearsal-mark\"") && page.text().contains("彩排"), "{who} {path}");
    }
    assert!(e2_before.get("/review/draft").body.contains("rehearsal-mark"), "signed in before: still signed in");
    let rehearsal_epoch = epoch_of(&v.login("E002").get("/review/draft").body);
    assert_ne!(rehearsal_epoch, real_epoch, "the epoch changes at the start");
    // A save kept on a device from before the rehearsal is refused in it.
    let vote = draft_page.split("name=\"vote\" value=\"").nth(1).unwrap().split('"').next().unwrap().to_string();
    let stale =
        e2_before.post_form("/review/draft", &[("vote", &vote), ("epoch", &real_epoch), ("choice_A0001", "agree")]);
    assert_eq!(stale.status, 409, "{}", stale.text());
    // What a rehearsal may not do.
    let pkg = serde_json::to_vec(&p).unwrap();
    for r in [
        v.admin.upload("/admin/import", "package", "package.json", &pkg),
        v.admin.post_form("/admin/accounts/issue", &[("confirm", "yes")]),
        v.admin.post_form("/admin/accounts/reset", &[("code", "E002")]),
    ] {
        assert_eq!(r.status, 409, "{}", r.text());
        assert!(r.text().contains("彩排进行中"), "{}", r.text());
    }
    // A lead reviewer types an opinion with a marker; the day is played to the report.
    let leader = v.login("E004");
    assert_eq!(leader.post_form("/review/assign/A0003", &[("experts", "E006")]).status, 303);
    let e5 = v.login("E006");
    let r = e5.post_form("/applicants/A0003/opinion", &[("text", MARKER)]);
    assert_eq!(r.status, 303, "{}", r.text());
    let display = v.admin.get("/admin/display").text();
    let display_link = display.split("/display?token=").nth(1).unwrap().split(['<', '\n']).next().unwrap().to_string();
    assert!(v.s.client().get(&format!("/display?token={display_link}")).body.contains("rehearsal-mark"));
    // A link made during the rehearsal (更换链接) dies at its end; the session's own comes back.
    let rotated = v.admin.post_form("/admin/display/rotate", &[]).text();
    let rotated = rotated.split("/display?token=").nth(1).unwrap().split(['<', '\n']).next().unwrap().to_string();
    assert_ne!(rotated, display_link);
    play_example_to_report(&v);
    let rehearsal_bundle = v.s.data.join("rehearsal").join(format!("{id}-REHEARSAL-result.zip"));
    assert!(rehearsal_bundle.is_file(), "the rehearsal's bundle is named as such");
    let (code, out) = verify(&rehearsal_bundle);
    assert_ne!(code, 0, "{out}");
    assert!(out.contains("彩排"), "{out}");
    assert!(!files_containing(&v.s.data, MARKER.as_bytes()).is_empty(), "the marker was written somewhere");
    assert!(
        v.s.db().query_row("SELECT count(*) FROM lead_opinions", [], |r| r.get::<_, i64>(0)).unwrap() == 0,
        "the session's own file is not written during a rehearsal"
    );

    // The end: the same content, the same passwords, everyone but the admin signed out, no trace.
    let ended = v.admin.post_form("/admin/rehearsal/end", &[]);
    assert_eq!(ended.status, 200, "{}", ended.text());
    assert!(ended.text().contains("会务内容与彩排开始时一致"), "{}", ended.text());
    let (running, after) = status(&v.s);
    assert!(!running);
    assert_eq!(after, before, "the content hash is equal before and after");
    assert!(!v.s.data.join("rehearsal").exists(), "the copy and its bundle are removed");
    assert_eq!(files_containing(&v.s.data, MARKER.as_bytes()), Vec::<String>::new(), "data dir");
    assert_eq!(files_containing(backups.path(), MARKER.as_bytes()), Vec::<String>::new(), "backup dir");
    assert_eq!(pingshen::store::backup::list(backups.path()).len(), backups_before, "no backup taken or rotated");
    assert_eq!(v.s.client().get(&format!("/display?token={rotated}")).status, 403, "the rehearsal's link is dead");
    assert_eq!(v.s.client().get(&format!("/display?token={display_link}")).status, 200);
    assert!(e2_before.get("/review/draft").location().is_some_and(|l| l.starts_with("/login")), "signed out");
    assert!(v.admin.get("/admin").status == 200, "the admin who ended it stays signed in");
    let held: String =
        v.s.db().query_row("SELECT details FROM audit WHERE action = 'rehearsal.held'", [], |r| r.get(0)).unwrap();
    assert!(held.contains(&before) && held.contains("\"unchanged\":true"), "{held}");
    // A save kept on a device during the rehearsal is refused on the real day.
    let e2 = v.login("E002");
    let real_epoch_now = epoch_of(&e2.get("/review/draft").body);
    assert!(real_epoch_now != rehearsal_epoch && real_epoch_now != real_epoch, "a new epoch at the end");
    let stale =
        e2.post_form("/review/draft", &[("vote", &vote), ("epoch", &rehearsal_epoch), ("choice_A0001", "agree")]);
    assert_eq!(stale.status, 409, "{}", stale.text());

    // The real day runs from zero with the same slips.
    play_example_to_report(&v);
    let bundle = v.s.data.join(format!("{id}-result.zip"));
    let (code, out) = verify(&bundle);
    assert_eq!(code, 0, "{out}");
}

/// The command line does the same with the server stopped, and refuses while it runs.
#[test]
fn the_command_line_starts_and_ends_a_rehearsal_with_the_server_stopped() {
    let mut v = Venue::new(&example_json());
    let (data, config) = (v.s.data.to_str().unwrap().to_string(), v.s.config.to_str().unwrap().to_string());
    let cli = |action: &str| run(&["rehearsal", action, "--data", &data, "--config", &config]);
    let (code, _, err) = cli("start");
    assert_eq!(code, 1);
    assert!(err.contains("服务正在运行"), "{err}");
    let (_, before) = status(&v.s);
    v.s.stop();
    let (code, out, err) = cli("start");
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains(&before), "{out}");
    let (code, _, err) = cli("start");
    assert_eq!(code, 1, "a second start is refused");
    assert!(err.contains("彩排已在进行中"), "{err}");
    // The server started meanwhile runs the rehearsal.
    v.s.start_again_same_port();
    assert!(v.login("E002").get("/review/draft").body.contains("rehearsal-mark"));
    assert_eq!(draft(&v.login("E002"), &[("A0001", "agree")]).status, 303);
    v.s.stop();
    let (code, out, err) = cli("end");
    assert_eq!(code, 0, "{out}{err}");
    assert!(
        out.contains(&format!("开始时校验值: {before}")) && out.contains(&format!("现在的校验值: {before}")),
        "{out}"
    );
    let (running, after) = status(&v.s);
    assert!(!running && after == before);
    let (code, _, err) = cli("end");
    assert_eq!(code, 1);
    assert!(err.contains("没有进行中的彩排"), "{err}");
    v.s.start_again_same_port();
    assert!(!v.login("E002").get("/review/draft").body.contains("rehearsal-mark"));
    assert_eq!(v.count("SELECT count(*) FROM drafts"), 0, "the rehearsal's draft is gone");
}

/// Once a real round has opened, no rehearsal can start.
#[test]
fn no_rehearsal_after_the_first_real_round_opens() {
    let v = Venue::new(&example_json());
    let leader = v.login("E001");
    for c in ["E001", "E002", "E003"] {
        let votes: &[(&str, &str)] =
            if c == "E003" { &[("A0002", "agree")] } else { &[("A0001", "agree"), ("A0002", "agree")] };
        assert_eq!(draft(&v.login(c), votes).status, 303);
    }
    assert_eq!(leader.post_form("/review/ops/open", &[]).status, 303);
    let r = v.admin.post_form("/admin/rehearsal/start", &[]);
    assert_eq!(r.status, 409);
    assert!(r.text().contains("第一轮正式投票开启之前"), "{}", r.text());
    assert!(!v.admin.get("/admin/rehearsal").body.contains("rehearsal-start"));
}

/// In the browser, as the venue would do it the day before: the admin starts the rehearsal in
/// the console, the leader and two experts draft, open, submit on their tablets under the 彩排
/// band; the admin ends it; everyone signs in again with the same slips and the real group vote
/// runs from zero (nothing drafted, round 1, no band).
#[test]
fn a_rehearsal_on_tablets_then_the_real_group_vote_from_zero() {
    use crate::browser::{browser, click_and_wait, go, login_fast, tap_all, text};
    let Some(browser) = browser(1024, 768) else { return };
    let v = Venue::new(&example_json());
    let admin = browser.new_context().unwrap().new_tab().unwrap();
    login_fast(&admin, &v.s.base, "admin", &v.s.admin_password());
    go(&admin, &v.s.base, "/admin/rehearsal");
    click_and_wait(&admin, "#rehearsal-start", "#rehearsal-end");
    assert!(text(&admin, "#rehearsal-mark").contains("彩排"));
    let people = ["E001", "E002", "E003"];
    let tabs: Vec<_> = people.iter().map(|_| browser.new_context().unwrap().new_tab().unwrap()).collect();
    let sign_in = |tab: &std::sync::Arc<headless_chrome::Tab>, code: &str| {
        let (u, pw) = v.credentials(code);
        login_fast(tab, &v.s.base, &u, &pw);
    };
    let play = |rehearsal: bool| {
        for (tab, code) in tabs.iter().zip(people) {
            sign_in(tab, code);
            go(tab, &v.s.base, "/review/draft");
            assert_eq!(tab.find_element("#rehearsal-mark").is_ok(), rehearsal, "{code}: the 彩排 band");
            let checked = tab
                .evaluate("document.querySelectorAll('#drafts input[type=radio]:checked').length", false)
                .unwrap()
                .value
                .unwrap();
            assert_eq!(checked, serde_json::json!(0), "{code} starts with nothing drafted");
            tap_all(tab, "agree");
        }
        go(&tabs[0], &v.s.base, "/review/ops");
        click_and_wait(&tabs[0], "#open-vote", "#close-vote");
        for tab in &tabs {
            go(tab, &v.s.base, "/review/draft");
            click_and_wait(tab, "#go-submit", "#confirm-submit");
            click_and_wait(tab, "#confirm-submit", "#submitted");
        }
    };
    play(true);
    go(&admin, &v.s.base, "/admin/rehearsal");
    click_and_wait(&admin, "#rehearsal-end", "#rehearsal-ended");
    assert!(text(&admin, "#rehearsal-ended").contains("会务内容与彩排开始时一致"));
    assert!(admin.find_element("#rehearsal-mark").is_err(), "no band after the end");
    // The experts were signed out; the same slips sign in; the real vote from zero.
    go(&tabs[1], &v.s.base, "/review/draft");
    tabs[1].wait_for_element("#login-submit").unwrap();
    play(false);
    assert_eq!(v.count("SELECT count(*) FROM votes WHERE stage = 'group' AND scope = 'G01' AND round > 1"), 0);
    // E001 and E002 on both applicants, E003 (recused from A0001) on one: the real ballots only.
    let ballots = "SELECT count(*) FROM ballots b JOIN votes v ON v.id = b.vote_id WHERE v.scope = 'G01'";
    assert_eq!(v.count(ballots), 5);
}

/// Screenshots of the day before and after the meeting (PINGSHEN_SCREENSHOTS=dir, --ignored).
#[test]
#[ignore]
fn screenshots_of_the_day_before_and_after() {
    use crate::browser::{browser, click_and_wait, go, login_fast, snap};
    std::env::var("PINGSHEN_SCREENSHOTS").expect("set PINGSHEN_SCREENSHOTS=dir");
    let tmp = tempfile::tempdir().unwrap();
    let stick = tmp.path().join("media").join("STICK1");
    std::fs::create_dir_all(&stick).unwrap();
    let v = Venue::with_config(
        &example_json(),
        &format!("handover_dirs = [{:?}]\n", tmp.path().join("media").display().to_string()),
    );
    let desk = v.admin.post_form("/admin/accounts/desk", &[]);
    let (_, du, dp) = slip_credentials(&desk.body).remove(0);
    for (w, h) in [(1366, 768), (768, 1024)] {
        let Some(b) = browser(w, h) else { return };
        let admin = b.new_context().unwrap().new_tab().unwrap();
        login_fast(&admin, &v.s.base, "admin", &v.s.admin_password());
        go(&admin, &v.s.base, "/admin/rehearsal");
        snap(&admin, &format!("{w}-rehearsal-before"));
        click_and_wait(&admin, "#rehearsal-start", "#rehearsal-end");
        snap(&admin, &format!("{w}-rehearsal-running"));
        let e = b.new_context().unwrap().new_tab().unwrap();
        let (u, pw) = v.credentials("E002");
        login_fast(&e, &v.s.base, &u, &pw);
        go(&e, &v.s.base, "/review/draft");
        snap(&e, &format!("{w}-rehearsal-expert-draft"));
        click_and_wait(&admin, "#rehearsal-end", "#rehearsal-ended");
        snap(&admin, &format!("{w}-rehearsal-ended"));
        let d = b.new_context().unwrap().new_tab().unwrap();
        login_fast(&d, &v.s.base, &du, &dp);
        go(&d, &v.s.base, "/staff/attendance");
        snap(&d, &format!("{w}-desk-attendance"));
    }
    play_example_to_report(&v);
    assert_eq!(v.admin.post_form("/admin/handover/copy", &[("dir", stick.to_str().unwrap())]).status, 200);
    for (w, h) in [(1366, 768), (768, 1024)] {
        let Some(b) = browser(w, h) else { return };
        let admin = b.new_context().unwrap().new_tab().unwrap();
        login_fast(&admin, &v.s.base, "admin", &v.s.admin_password());
        for page in ["/admin/handover", "/admin/handover/form", "/admin/wipe"] {
            go(&admin, &v.s.base, page);
            snap(&admin, &format!("{w}-{}", page.trim_matches('/').replace('/', "-")));
        }
    }
}

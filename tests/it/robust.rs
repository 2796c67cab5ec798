//! Power cuts and concurrency against the real server: SIGKILL in a submission storm, the same
//! voter in two tabs, the switch flipped while people draft and submit, the report racing a
//! retry. Never a lost, doubled or half-counted ballot.

use crate::common::*;
use std::sync::{Arc, Barrier, Mutex};

const APPS: usize = 20;
/// The power-cut test uses more applicants so that the storm lasts long enough to be cut.
const STORM_APPS: usize = 200;

fn apps(n: usize) -> Vec<(String, String)> {
    (1..=n).map(|i| (format!("A{i:03}"), format!("某单位{i}"))).collect()
}

fn venue(members: usize) -> Venue {
    venue_with(members, APPS)
}

fn venue_with(members: usize, n_apps: usize) -> Venue {
    let a = apps(n_apps);
    let refs: Vec<(&str, &str)> = a.iter().map(|(c, u)| (c.as_str(), u.as_str())).collect();
    Venue::new(&committee_package(members, &refs, false))
}

fn draft_all(c: &Client, choice: &str) -> Resp {
    draft_n(c, APPS, choice)
}

fn draft_n(c: &Client, n_apps: usize, choice: &str) -> Resp {
    let owned: Vec<(String, String)> =
        apps(n_apps).into_iter().map(|(a, _)| (format!("choice_{a}"), choice.to_string())).collect();
    let refs: Vec<(&str, &str)> = owned.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    c.post_form("/committee/draft", &refs)
}

fn vote_id(v: &Venue) -> String {
    v.count("SELECT id FROM votes WHERE stage = 'committee' ORDER BY round DESC LIMIT 1").to_string()
}

/// Every voter marked submitted has exactly APPS ballots' worth in the table, and no more.
fn assert_consistent(v: &Venue) -> i64 {
    assert_consistent_n(v, APPS)
}

fn assert_consistent_n(v: &Venue, n_apps: usize) -> i64 {
    let submitted = v.count("SELECT count(*) FROM vote_voters WHERE submitted = 1");
    let ballots = v.count("SELECT count(*) FROM ballots");
    assert_eq!(ballots, submitted * n_apps as i64, "ballots {ballots} for {submitted} submitted voters");
    let per_app =
        v.count("SELECT coalesce(max(n), 0) FROM (SELECT count(*) AS n FROM ballots GROUP BY applicant_code)");
    assert!(per_app <= submitted, "an applicant has more ballots than voters");
    submitted
}

fn assert_chain_intact(s: &Server) {
    let db = s.db();
    let mut st = db.prepare("SELECT line, hash FROM audit ORDER BY seq").unwrap();
    let rows: Vec<(String, String)> =
        st.query_map([], |r| Ok((r.get(0)?, r.get(1)?))).unwrap().map(Result::unwrap).collect();
    let mut prev = pingshen::store::GENESIS.to_string();
    for (i, (line, hash)) in rows.iter().enumerate() {
        let v: serde_json::Value = serde_json::from_str(line).unwrap();
        assert_eq!(v["prev"].as_str(), Some(prev.as_str()), "audit line {} breaks the chain", i + 1);
        assert_eq!(&pingshen::package::sha256_hex(line.as_bytes()), hash);
        prev = hash.clone();
    }
}

#[test]
fn sigkill_in_a_submission_storm_loses_no_acknowledged_ballot() {
    let mut v = venue_with(30, STORM_APPS);
    let members: Vec<Client> = (1..=30).map(|i| v.login(&format!("E{i:02}"))).collect();
    for m in &members {
        assert_eq!(draft_n(m, STORM_APPS, "agree").status, 303);
    }
    assert_eq!(members[0].post_form("/committee/ops/open", &[]).status, 303);
    let id = vote_id(&v);
    let acked = Arc::new(Mutex::new(Vec::new()));
    let barrier = Arc::new(Barrier::new(members.len() + 1));
    let cookies: Vec<(String, String, String)> = members
        .iter()
        .enumerate()
        .map(|(i, m)| (format!("E{:02}", i + 1), m.session_cookie().unwrap(), m.token()))
        .collect();
    let base = v.s.base.clone();
    let handles: Vec<_> = cookies
        .clone()
        .into_iter()
        .map(|(code, cookie, token)| {
            let (acked, barrier, base, id) = (acked.clone(), barrier.clone(), base.clone(), id.clone());
            std::thread::spawn(move || {
                barrier.wait();
                // A cut connection is an unacknowledged submission, not a test failure.
                let r = ureq::AgentBuilder::new()
                    .redirects(0)
                    .build()
                    .post(&format!("{base}/committee/submit"))
                    .set("Cookie", &format!("pingshen_sid={cookie}"))
                    .send_form(&[("_csrf", &token), ("vote", &id)]);
                if matches!(&r, Ok(resp) if resp.status() == 303) {
                    acked.lock().unwrap().push(code);
                }
            })
        })
        .collect();
    barrier.wait();
    // Pull the plug while the storm is on.
    let start = std::time::Instant::now();
    while acked.lock().unwrap().is_empty() && start.elapsed().as_secs() < 20 {
        std::thread::sleep(std::time::Duration::from_millis(1));
    }
    v.s.kill();
    for h in handles {
        let _ = h.join();
    }
    let acked = acked.lock().unwrap().clone();
    assert!(!acked.is_empty());
    // Otherwise this is only a restart test: the plug was pulled with submissions in flight.
    assert!(acked.len() < members.len(), "all {} submissions were acknowledged before the kill", acked.len());
    v.s.respawn();
    eprintln!("power cut after {} of 30 acknowledged submissions", acked.len());
    // Every acknowledged submission is there, exactly once, with all of its ballots.
    let submitted = assert_consistent_n(&v, STORM_APPS);
    for code in &acked {
        assert_eq!(
            v.count(&format!("SELECT submitted FROM vote_voters WHERE voter_code = '{code}'")),
            1,
            "{code} was acknowledged but is not recorded"
        );
    }
    assert!(submitted as usize >= acked.len());
    assert_chain_intact(&v.s);
    // Logins survive; the others can still submit, once.
    for (code, cookie, token) in &cookies {
        let c = Client::with_session(&v.s.base, cookie, token);
        assert_eq!(c.get("/committee/draft").status, 200, "{code}'s session survived the restart");
        assert_eq!(c.post_form("/committee/submit", &[("vote", &id)]).status, 303);
    }
    assert_eq!(assert_consistent_n(&v, STORM_APPS), 30);
    assert_eq!(v.count("SELECT status = 'closed' FROM votes WHERE stage = 'committee'"), 1);
}

#[test]
fn the_same_voter_in_two_tabs_is_counted_once() {
    let v = venue(5);
    let members: Vec<Client> = (1..=5).map(|i| v.login(&format!("E{i:02}"))).collect();
    for m in &members {
        draft_all(m, "oppose");
    }
    members[0].post_form("/committee/ops/open", &[]);
    let id = vote_id(&v);
    // E02 signs in a second time (another tab or device) and double-clicks in both.
    let tabs: Vec<Client> = vec![v.login("E02"), v.login("E02")];
    let barrier = Arc::new(Barrier::new(4));
    let handles: Vec<_> = tabs
        .iter()
        .flat_map(|t| {
            [t.session_cookie().unwrap(), t.session_cookie().unwrap()].into_iter().zip([t.token(), t.token()])
        })
        .map(|(cookie, token)| {
            let (barrier, base, id) = (barrier.clone(), v.s.base.clone(), id.clone());
            std::thread::spawn(move || {
                let c = Client::with_session(&base, &cookie, &token);
                barrier.wait();
                c.post_form("/committee/submit", &[("vote", &id)]).status
            })
        })
        .collect();
    let statuses: Vec<u16> = handles.into_iter().map(|h| h.join().unwrap()).collect();
    assert!(statuses.iter().all(|s| *s == 303), "{statuses:?}");
    assert_eq!(assert_consistent(&v), 1);
    assert_eq!(v.count("SELECT count(*) FROM audit WHERE action = 'vote.submit'"), 1);
}

#[test]
fn flipping_the_switch_while_people_draft_and_submit_never_half_counts() {
    let v = venue(12);
    let members: Vec<Client> = (1..=12).map(|i| v.login(&format!("E{i:02}"))).collect();
    // Half draft before; the others draft while the chair opens.
    for m in &members[..6] {
        draft_all(m, "agree");
    }
    let barrier = Arc::new(Barrier::new(7));
    let drafting: Vec<_> = (7..=12)
        .map(|i| {
            let c = v.login(&format!("E{i:02}"));
            let (cookie, token) = (c.session_cookie().unwrap(), c.token());
            let (barrier, base) = (barrier.clone(), v.s.base.clone());
            std::thread::spawn(move || {
                let c = Client::with_session(&base, &cookie, &token);
                barrier.wait();
                draft_all(&c, "abstain").status
            })
        })
        .collect();
    barrier.wait();
    assert_eq!(members[0].post_form("/committee/ops/open", &[]).status, 303);
    let outcomes: Vec<u16> = drafting.into_iter().map(|h| h.join().unwrap()).collect();
    assert!(outcomes.iter().all(|s| *s == 303 || *s == 409), "{outcomes:?}");
    // Every draft saved before the switch is whole: all APPS applicants or nothing.
    let partial = v.count(&format!(
        "SELECT count(*) FROM (SELECT voter_code, count(*) AS n FROM drafts GROUP BY voter_code HAVING n <> {APPS})"
    ));
    assert_eq!(partial, 0);
    // Now everyone submits while the chair closes.
    let id = vote_id(&v);
    let barrier = Arc::new(Barrier::new(13));
    let subs: Vec<_> = members
        .iter()
        .map(|m| {
            let (cookie, token) = (m.session_cookie().unwrap(), m.token());
            let (barrier, base, id) = (barrier.clone(), v.s.base.clone(), id.clone());
            std::thread::spawn(move || {
                let c = Client::with_session(&base, &cookie, &token);
                barrier.wait();
                c.post_form("/committee/submit", &[("vote", &id)]).status
            })
        })
        .collect();
    barrier.wait();
    let close = members[0].post_form("/committee/ops/close", &[]).status;
    let statuses: Vec<u16> = subs.into_iter().map(|h| h.join().unwrap()).collect();
    let acked = statuses.iter().filter(|s| **s == 303).count() as i64;
    assert!(statuses.iter().all(|s| [303, 400, 409].contains(s)), "{statuses:?}");
    // Submitted voters = acknowledged ones; each fully counted.
    let submitted = assert_consistent(&v);
    assert_eq!(submitted, acked, "acknowledged {acked}, recorded {submitted} (close answered {close})");
    assert_eq!(v.count("SELECT count(*) FROM votes WHERE stage = 'committee' AND status = 'closed'"), 1);
}

#[test]
fn the_report_racing_a_retry_changes_nothing_after_it() {
    let v = venue(5);
    let members: Vec<Client> = (1..=5).map(|i| v.login(&format!("E{i:02}"))).collect();
    for m in &members {
        draft_all(m, "agree");
    }
    members[0].post_form("/committee/ops/open", &[]);
    let id = vote_id(&v);
    for m in &members {
        m.post_form("/committee/submit", &[("vote", &id)]);
    }
    let before = v.count("SELECT count(*) FROM ballots");
    // The reporter reports while a member retries submitting and drafting, many times.
    let (cookie, token) = (members[3].session_cookie().unwrap(), members[3].token());
    let base = v.s.base.clone();
    let idc = id.clone();
    let retry = std::thread::spawn(move || {
        let c = Client::with_session(&base, &cookie, &token);
        (0..30).map(|_| c.post_form("/committee/submit", &[("vote", &idc)]).status).collect::<Vec<_>>()
    });
    assert_eq!(members[1].post_form("/committee/report", &[("action", "submit")]).status, 303);
    let statuses = retry.join().unwrap();
    assert!(statuses.iter().all(|s| *s == 303 || *s == 409), "{statuses:?}");
    assert_eq!(v.count("SELECT count(*) FROM ballots"), before);
    assert_eq!(members[3].post_form("/committee/submit", &[("vote", &id)]).status, 409);
    assert_chain_intact(&v.s);
}

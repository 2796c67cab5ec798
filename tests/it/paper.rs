//! Paper rounds (DOMAIN, "Paper rounds"; issue 28): a round switched to paper — void when it
//! was open, its electronic ballots sealed and counting for nothing — voters refused with the
//! reason, the tally entered twice by two different clerks, a mismatch naming fields and never
//! numbers, entries refused by the consistency rules, and the decision following `rules` from
//! the accepted tally, at the boundary.

use crate::common::*;
use serde_json::Value;

/// The form of one tally entry: issued, returned, invalid and per applicant (agree, oppose, abstain).
fn entry(issued: u32, returned: u32, invalid: u32, counts: &[(&str, [u32; 3])]) -> Vec<(String, String)> {
    let mut f = vec![
        ("issued".to_string(), issued.to_string()),
        ("returned".to_string(), returned.to_string()),
        ("invalid".to_string(), invalid.to_string()),
    ];
    for (a, [x, y, z]) in counts {
        f.push((format!("agree_{a}"), x.to_string()));
        f.push((format!("oppose_{a}"), y.to_string()));
        f.push((format!("abstain_{a}"), z.to_string()));
    }
    f
}

/// Posts a form and, as a browser does, follows the redirect an accepted entry answers with
/// (post/redirect/get): the page that comes back says where counting stands.
fn post(c: &Client, path: &str, fields: &[(String, String)]) -> Resp {
    let refs: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let r = c.post_form(path, &refs);
    match (r.status, r.location()) {
        (303, Some(to)) if to == path => c.get(to),
        _ => r,
    }
}

/// A new desk-staff (会务签到员) account's username and password.
fn desk_credentials(v: &Venue) -> (String, String) {
    let slip = v.admin.post_form("/admin/accounts/desk", &[]);
    assert_eq!(slip.status, 200);
    let (_, user, pw) = slip_credentials(&slip.body).remove(0);
    (user, pw)
}

/// A desk-staff account, logged in: the second clerk.
pub(crate) fn desk_clerk(v: &Venue) -> Client {
    let (user, pw) = desk_credentials(v);
    v.s.login(&user, &pw)
}

fn vote_row(v: &Venue, stage: &str, scope: &str, round: i64) -> (i64, String, String, Option<String>, String) {
    v.s.db()
        .query_row(
            "SELECT id, status, medium, void_reason, medium_reason FROM votes WHERE stage = ?1 AND scope = ?2 AND round = ?3",
            rusqlite::params![stage, scope, round],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)),
        )
        .unwrap()
}

#[test]
fn an_open_group_round_switched_to_paper_is_void_and_the_paper_round_is_counted_twice() {
    let v = Venue::new(&example_json());
    let (e1, e2, e3) = (v.login("E001"), v.login("E002"), v.login("E003"));
    // E003 is recused from A0001 (same unit): 3 voters, 2 eligible for A0001.
    assert_eq!(draft(&e1, &[("A0001", "oppose"), ("A0002", "oppose")]).status, 303);
    assert_eq!(draft(&e2, &[("A0001", "agree"), ("A0002", "agree")]).status, 303);
    assert_eq!(e1.post_form("/review/ops/open", &[]).status, 303);
    assert_eq!(submit(&e1).status, 303, "one electronic ballot set before the network fails");

    // Only the leader switches, and only with a reason.
    assert_eq!(e2.post_form("/review/ops/paper", &[("reason_kind", "网络故障")]).status, 403);
    let r = e1.post_form("/review/ops/paper", &[("reason_kind", "其他"), ("reason_detail", "")]);
    assert_eq!(r.status, 400, "其他 needs words");
    let r = e1.post_form("/review/ops/paper", &[("reason_kind", "网络故障"), ("reason_detail", "路由器断电")]);
    assert_eq!(r.status, 303, "{}", r.text());

    // Round 1 is void, closed, its sealed ballots kept; round 2 is on paper for the same voters.
    let (r1, s1, m1, void1, _) = vote_row(&v, "group", "G01", 1);
    assert_eq!((s1.as_str(), m1.as_str(), void1.as_deref()), ("closed", "electronic", Some("网络故障：路由器断电")));
    assert_eq!(v.count(&format!("SELECT count(*) FROM ballots WHERE vote_id = {r1}")), 2, "e1's ballots stay sealed");
    let (r2, s2, m2, void2, why2) = vote_row(&v, "group", "G01", 2);
    assert_eq!((s2.as_str(), m2.as_str(), void2, why2.as_str()), ("open", "paper", None, "网络故障：路由器断电"));
    assert_eq!(
        v.count(&format!("SELECT count(*) FROM vote_voters WHERE vote_id = {r2}")),
        3,
        "the same frozen voters, nobody added"
    );
    assert_eq!(v.count(&format!("SELECT count(*) FROM vote_voters WHERE vote_id = {r2} AND submitted = 1")), 0);

    // Voters are told, and nothing a device still sends is taken.
    let page = e2.get("/review/draft");
    assert!(page.text().contains("本轮改为纸质投票，请在纸质选票上投票"), "{}", page.text());
    assert!(!page.body.contains("data-autosave"), "no electronic voting on a paper round");
    assert!(e3.get("/review/draft").text().contains("本轮改为纸质投票"), "every voter of the round is told");
    let r = draft(&e2, &[("A0001", "oppose")]);
    assert_eq!(r.status, 409);
    assert!(r.text().contains("本轮改为纸质投票"), "{}", r.text());
    let r = e2.post_form("/review/submit", &[("vote", &r1.to_string())]);
    assert_eq!(r.status, 409, "a submission for the void round is refused");
    assert_eq!(v.count("SELECT count(*) FROM drafts"), 0);
    assert_eq!(v.count(&format!("SELECT count(*) FROM ballots WHERE vote_id = {r2}")), 0);

    // The leader prints the ballot and tally sheets: identical, no names of voters.
    let ballot = e1.get(&format!("/review/ops/paper/{r2}/ballot"));
    assert_eq!(ballot.status, 200);
    let bt = ballot.text();
    assert!(bt.contains("第 2 轮表决票") && bt.contains("A0001") && bt.contains("回避"), "{bt}");
    for voter in ["孙怡", "王健华", "李红梅"] {
        assert!(!bt.split("id=\"ballot\"").nth(1).unwrap().contains(voter), "no voter named on the ballot");
    }
    assert!(bt.contains("请打印 <b>3</b> 份"), "the count to issue, on screen only");
    let tally = e1.get(&format!("/review/ops/paper/{r2}/tally"));
    assert!(tally.text().contains("计票人") && tally.text().contains("监票人"));
    assert_eq!(e1.get("/paper").status, 403, "clerks only: the admin and desk staff");

    // Two clerks. The first entry waits; one account cannot be both.
    let desk = desk_clerk(&v);
    let url = format!("/paper/{r2}");
    let good = entry(3, 3, 0, &[("A0001", [2, 0, 0]), ("A0002", [2, 1, 0])]);
    let r = post(&v.admin, &url, &good);
    assert_eq!(r.status, 200, "{}", r.text());
    assert!(r.text().contains("请另一位计票人"), "{}", r.text());
    let r = post(&v.admin, &url, &good);
    assert!(r.text().contains("请另一位计票人"), "the same clerk again replaces their own entry: {}", r.text());
    assert_eq!(vote_row(&v, "group", "G01", 2).1, "open", "one clerk alone never counts a round");

    // Refused entries: each named, nothing stored.
    let before = v.count("SELECT count(*) FROM paper_entries");
    let r = post(&desk, &url, &entry(3, 4, 0, &[("A0001", [2, 0, 0]), ("A0002", [2, 1, 0])]));
    assert_eq!(r.status, 400);
    assert!(r.text().contains("收回选票（returned）4 张，多于发出选票 3 张"), "{}", r.text());
    let r = post(&desk, &url, &entry(3, 3, 0, &[("A0001", [2, 1, 0]), ("A0002", [2, 1, 0])]));
    assert_eq!(r.status, 400);
    assert!(r.text().contains("A0001：同意 + 反对 + 弃权 = 3，多于可对其表决的 2 人"), "{}", r.text());
    let r = post(&desk, &url, &entry(4, 3, 0, &[("A0001", [2, 0, 0]), ("A0002", [2, 1, 0])]));
    assert_eq!(r.status, 400);
    assert!(
        r.text().contains("发出选票（issued）4 张，多于本轮投票人数 3 人"),
        "issued = the frozen voters at most: {}",
        r.text()
    );
    let r = post(&desk, &url, &entry(3, 3, 1, &[("A0001", [2, 0, 0]), ("A0002", [2, 1, 0])]));
    assert!(r.text().contains("A0002：同意 + 反对 + 弃权 = 3，多于有效选票 2 张"), "{}", r.text());
    let mut missing = good.clone();
    missing.retain(|(k, _)| k != "oppose_A0002");
    let r = post(&desk, &url, &missing);
    assert_eq!(r.status, 400);
    assert!(r.text().contains("oppose_A0002") && r.text().contains("未填写"), "{}", r.text());
    assert!(r.body.contains("value=\"2\""), "what the clerk typed stays on the form");
    assert_eq!(v.count("SELECT count(*) FROM paper_entries"), before);

    // A deliberate mismatch: the fields are named to both, the numbers to neither.
    let slip = entry(3, 3, 0, &[("A0001", [2, 0, 0]), ("A0002", [1, 2, 0])]);
    let r = post(&desk, &url, &slip);
    assert_eq!(r.status, 200);
    let t = r.text();
    assert!(t.contains("两次录入不一致") && t.contains("agree_A0002") && t.contains("oppose_A0002"), "{t}");
    let alert = t.split("id=\"paper-mismatch\"").nth(1).unwrap().split("</div>").next().unwrap();
    assert!(!alert.contains("issued") && !alert.contains("agree_A0001"), "only the fields that differ: {alert}");
    assert_eq!(vote_row(&v, "group", "G01", 2).1, "open");
    let admin_view = v.admin.get(&url);
    assert!(admin_view.text().contains("agree_A0002"), "the other clerk sees the same fields");
    for c in [&admin_view, &r] {
        assert!(!c.body.contains("name=\"agree_A0002\" inputmode=\"numeric\" pattern=\"[0-9]*\" maxlength=\"6\" required aria-label=\"A0002 同意\" value=\"1\""));
        assert!(
            !c.body.contains("aria-label=\"A0002 同意\" value=\"2\""),
            "no clerk's number is shown after a mismatch"
        );
    }

    // The live pages say where it stands: the room display and the leader's page.
    let token: String =
        v.s.db().query_row("SELECT value FROM meta WHERE key = 'display_token'", [], |r| r.get(0)).unwrap();
    let display: Value =
        serde_json::from_str(&v.s.client().get(&format!("/display/status?token={token}")).body).unwrap();
    let g01 = display["groups"].as_array().unwrap().iter().find(|g| g["name"] == "小学语文组").unwrap().clone();
    assert_eq!((g01["status_label"].as_str(), g01["done"].as_str()), (Some("纸质投票计票中"), Some("纸质")), "{g01}");
    assert!(e1.get("/review/ops").text().contains("纸质投票计票中"));

    // Both re-count and re-enter: identical now, the round is counted.
    let r = post(&desk, &url, &good);
    assert!(r.text().contains("请另一位计票人"), "{}", r.text());
    let r = post(&v.admin, &url, &good);
    assert_eq!(r.status, 200);
    assert!(r.text().contains("本轮已计票完成"), "{}", r.text());
    assert_eq!(vote_row(&v, "group", "G01", 2).1, "closed");
    let r = post(&desk, &url, &good);
    assert_eq!(r.status, 409, "a counted round takes no more entries");

    // The decision follows the rules from the paper tally (more than half of those present,
    // the recused E003 out of A0001's denominator): A0001 2 of 2, A0002 2 of 3 — both pass.
    // The void round's ballot (e1: oppose, oppose) counts for nothing.
    let page = e1.get("/review/deliberate");
    let text = page.text();
    assert!(text.contains("第 2 轮"), "{text}");
    let rows = deliberation_results(&page.body);
    assert_eq!(rows, vec![("A0001".into(), "通过".into()), ("A0002".into(), "通过".into())], "{text}");

    finish_day_and_check_the_bundle(&v, &e1);

    // The audit: the void, the switch, every entry (by hash), the mismatch by fields, the acceptance.
    let actions: Vec<(String, String)> = v
        .s
        .db()
        .prepare("SELECT action, details FROM audit WHERE action LIKE 'paper.%' OR action IN ('vote.void', 'vote.paper') ORDER BY seq")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    let names: Vec<&str> = actions.iter().map(|(a, _)| a.as_str()).collect();
    assert_eq!(
        names,
        [
            "vote.void",
            "vote.paper",
            "paper.entry",
            "paper.entry",
            "paper.entry",
            "paper.mismatch",
            "paper.entry",
            "paper.entry",
            "paper.accept"
        ]
    );
    for (a, d) in &actions {
        if a == "paper.entry" {
            let d: Value = serde_json::from_str(d).unwrap();
            assert!(d["sha256"].is_string() && d.get("issued").is_none(), "an entry is audited by its hash: {d}");
        }
    }
}

/// Plays the rest of the example's day after G01's paper round: G01 submits its deliberation
/// (both passed), G02 votes electronically, the committee votes, the reporter reports. Then the
/// bundle: `verify` passes and reports the paper round; the standard tools agree; a hand-edited
/// paper tally, an entry of one clerk changed, and a flipped void flag are each caught by the
/// recount, even re-signed with the appliance's own key.
fn finish_day_and_check_the_bundle(v: &Venue, e1: &Client) {
    let zip = play_rest_of_example(&|code| v.login(code), &v.s, e1);
    check_bundle(v, &zip);
}

/// After G01's round: G01 submits its deliberation (both passed), G02 votes electronically,
/// the committee votes, the reporter reports. Returns the bundle's path.
fn play_rest_of_example(login: &dyn Fn(&str) -> Client, s: &Server, e1: &Client) -> std::path::PathBuf {
    let r =
        e1.post_form("/review/deliberate", &[("passed_A0001", "yes"), ("passed_A0002", "yes"), ("action", "submit")]);
    assert_eq!(r.status, 303, "{}", r.text());
    let (e4, e5, e6) = (login("E004"), login("E005"), login("E006"));
    draft(&e4, &[("A0003", "agree"), ("A0004", "agree")]);
    draft(&e5, &[("A0004", "agree")]);
    draft(&e6, &[("A0003", "agree")]);
    assert_eq!(e4.post_form("/review/ops/open", &[]).status, 303);
    for x in [&e4, &e5, &e6] {
        assert_eq!(submit(x).status, 303);
    }
    let r =
        e4.post_form("/review/deliberate", &[("passed_A0003", "yes"), ("passed_A0004", "yes"), ("action", "submit")]);
    assert_eq!(r.status, 303);
    let (chair, reporter, e103) = (login("E101"), login("E102"), login("E103"));
    let members = [&chair, &reporter, &e103, e1, &e4];
    for m in members {
        committee_draft(m, &[("A0001", "agree"), ("A0002", "agree"), ("A0003", "agree"), ("A0004", "agree")]);
    }
    assert_eq!(chair.post_form("/committee/ops/open", &[]).status, 303);
    for m in members {
        assert_eq!(committee_submit(m).status, 303);
    }
    let r = reporter.post_form("/committee/report", &[("action", "submit")]);
    assert_eq!(r.status, 303, "{}", r.text());
    s.data.join("2026-HN-ZXXJS-01-result.zip")
}

/// The bundle of the day played in the first test: verify passes and reports the paper
/// round; the files say what happened; tampering is caught.
fn check_bundle(v: &Venue, zip: &std::path::Path) {
    let zip = zip.to_path_buf();
    let pubfile = v.s.data.join("appliance.pub");
    let (code, out) = crate::bundle::verify(&zip, Some(&pubfile));
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("2 of void rounds, sealed, not counted") && out.contains("1 paper rounds"), "{out}");
    let files = crate::bundle::unzip(&zip);
    let results: Value = serde_json::from_slice(&files["results.json"]).unwrap();
    let round = |n: i64| {
        results["rounds"].as_array().unwrap().iter().find(|r| r["scope"] == "G01" && r["round"] == n).unwrap().clone()
    };
    let (r1, r2) = (round(1), round(2));
    assert_eq!(
        (r1["status"].as_str(), r1["void"].as_bool(), r1["medium"].as_str()),
        (Some("void"), Some(true), Some("electronic"))
    );
    assert_eq!(r1["void_reason"], "网络故障：路由器断电");
    assert_eq!(r1["tallies"].as_array().unwrap().len(), 0, "a void round decides nothing");
    assert_eq!((r2["medium"].as_str(), r2["status"].as_str()), (Some("paper"), Some("closed")));
    let entries = r2["entries"].as_array().unwrap();
    assert_eq!(entries.len(), 2);
    assert_ne!(entries[0]["clerk"], entries[1]["clerk"]);
    assert_eq!(entries[0]["counts"], entries[1]["counts"]);
    assert_eq!(entries[0]["returned"], 3);
    let a1 = r2["tallies"].as_array().unwrap().iter().find(|t| t["applicant"] == "A0001").unwrap().clone();
    assert_eq!((a1["agree"].as_u64(), a1["present"].as_u64(), a1["eligible"].as_u64()), (Some(2), Some(2), Some(2)));
    let ballots = String::from_utf8(files["ballots.json"].clone()).unwrap();
    assert_eq!(ballots.matches("\"void\":true").count(), 2, "e1's two void ballots, sealed");
    // The minutes say it (report.html is the minutes).
    let report = String::from_utf8(files["report.html"].clone()).unwrap();
    assert!(
        report.contains("纸质投票：网络故障：路由器断电") && report.contains("作废"),
        "minutes name the paper and void rounds"
    );

    // results.xlsx lists every round with its medium; the 汇总表 marks paper counts.
    {
        use calamine::Reader;
        let mut wb: calamine::Xlsx<_> =
            calamine::open_workbook_from_rs(std::io::Cursor::new(files["results.xlsx"].clone())).unwrap();
        let rounds = wb.worksheet_range("投票轮次").unwrap();
        let rows: Vec<Vec<String>> = rounds.rows().map(|r| r.iter().map(|c| c.to_string()).collect()).collect();
        let g01: Vec<&Vec<String>> = rows.iter().filter(|r| r[0] == "专业组 G01").collect();
        assert_eq!(g01.len(), 2, "{rows:?}");
        assert_eq!((g01[0][2].as_str(), g01[0][3].as_str()), ("电子", "作废"));
        assert_eq!((g01[1][2].as_str(), g01[1][3].as_str(), g01[1][8].as_str()), ("纸质", "已结束", "3"));
    }
    let summary = v.login("E102").get("/summary").text();
    assert!(
        summary.contains("id=\"summary-paper\"") && summary.contains("小学语文组第 2 轮（网络故障：路由器断电）"),
        "{summary}"
    );
    assert!(summary.contains("class=\"paper-mark\""));

    // The standard tools agree: minisign -Vm SHA256SUMS -P KEY && sha256sum -c SHA256SUMS.
    let plain = tempfile::tempdir().unwrap();
    crate::bundle::write_dir(plain.path(), &files);
    let key = pingshen::bundle::key::load(&v.s.data).unwrap().unwrap().public_base64();
    match std::process::Command::new("minisign")
        .current_dir(plain.path())
        .args(["-Vm", "SHA256SUMS", "-P", &key])
        .output()
    {
        Ok(o) => assert!(o.status.success(), "minisign: {}", String::from_utf8_lossy(&o.stderr)),
        Err(_) => assert!(std::env::var("CI").is_err(), "minisign missing under CI"),
    }
    let o =
        std::process::Command::new("sha256sum").current_dir(plain.path()).args(["-c", "SHA256SUMS"]).output().unwrap();
    assert!(o.status.success(), "sha256sum -c: {}", String::from_utf8_lossy(&o.stdout));

    // Tampering, each re-signed with the appliance's own key so only the recount can catch it.
    let dir = tempfile::tempdir().unwrap();
    let tampered = |name: &str, edit: &dyn Fn(&mut Value)| -> String {
        let mut f = files.clone();
        let mut res: Value = serde_json::from_slice(&f["results.json"]).unwrap();
        edit(&mut res);
        f.insert("results.json".into(), serde_json::to_vec_pretty(&res).unwrap());
        crate::bundle::reseal(&mut f, Some(&v.s.data));
        let d = dir.path().join(name);
        crate::bundle::write_dir(&d, &f);
        let (code, out) = crate::bundle::verify(&d, Some(&pubfile));
        assert_ne!(code, 0, "{name}: {out}");
        assert_eq!(crate::bundle::failed_check(&out).as_deref(), Some("recount"), "{name}: {out}");
        out
    };
    let g01 = |res: &mut Value, n: i64| -> usize {
        res["rounds"].as_array().unwrap().iter().position(|r| r["scope"] == "G01" && r["round"] == n).unwrap()
    };
    // A hand-edited tally: both entries and the stated tally say 1 agree for A0002.
    let out = tampered("tally", &|res| {
        let i = g01(res, 2);
        for e in 0..2 {
            res["rounds"][i]["entries"][e]["counts"][1]["agree"] = serde_json::json!(1);
        }
    });
    assert!(out.contains("differs") || out.contains("says"), "{out}");
    // One clerk's entry changed: the two no longer agree.
    let out = tampered("entry", &|res| {
        let i = g01(res, 2);
        res["rounds"][i]["entries"][1]["returned"] = serde_json::json!(2);
    });
    assert!(out.contains("entries differ"), "{out}");
    // One entry only.
    tampered("single", &|res| {
        let i = g01(res, 2);
        res["rounds"][i]["entries"].as_array_mut().unwrap().pop();
    });
    // A flipped void flag: round 1 made a counted round (its sealed ballots would count).
    let out = tampered("unvoid", &|res| {
        let i = g01(res, 1);
        res["rounds"][i]["void"] = serde_json::json!(false);
        res["rounds"][i]["status"] = serde_json::json!("closed");
        res["rounds"][i]["void_reason"] = Value::Null;
    });
    assert!(out.contains("void"), "{out}");
    // The paper round's medium removed: a missing field, by name.
    let out = tampered("nomedium", &|res| {
        let i = g01(res, 2);
        res["rounds"][i].as_object_mut().unwrap().remove("medium");
    });
    assert!(out.contains("missing field `medium`"), "{out}");
}

/// The verdict column of the deliberation page: (code, 通过 / 未通过 / …) per applicant.
fn deliberation_results(html: &str) -> Vec<(String, String)> {
    html.split("<tr data-code=\"")
        .skip(1)
        .map(|row| {
            let code = row.split('"').next().unwrap().to_string();
            let verdict = if row.contains("未通过") {
                "未通过"
            } else if row.contains("通过") {
                "通过"
            } else {
                "?"
            };
            (code, verdict.to_string())
        })
        .collect()
}

/// The committee holds a round on paper before opening it: the voters are frozen at the
/// switch (quorum checked as at any opening), and 2/3 of 25 present is 17 on paper too.
#[test]
fn a_committee_round_on_paper_decides_at_the_two_thirds_boundary() {
    let p = committee_package(25, &[("C0001", "甲单位"), ("C0002", "乙单位")], false);
    let v = Venue::new(&p);
    // Opening on paper checks the quorum as any opening does: 16 of 25 present is too few.
    let mut members: Vec<Client> = (1..=16).map(|i| v.login(&format!("E{i:02}"))).collect();
    let r = members[0].post_form("/committee/ops/paper", &[("reason_kind", "设备故障")]);
    assert_eq!(r.status, 409, "{}", r.text());
    assert!(r.text().contains("出席评委 16 人") && r.text().contains("至少需要 17 人"), "{}", r.text());
    assert_eq!(vote_row(&v, "committee", "committee", 1).1, "drafting", "nothing switched");
    members.extend((17..=25).map(|i| v.login(&format!("E{i:02}"))));
    let chair = &members[0];
    assert_eq!(members[1].post_form("/committee/ops/paper", &[("reason_kind", "设备故障")]).status, 403);
    let r = chair.post_form("/committee/ops/paper", &[("reason_kind", "设备故障")]);
    assert_eq!(r.status, 303, "{}", r.text());
    let (id, status, medium, void, _) = vote_row(&v, "committee", "committee", 1);
    assert_eq!((status.as_str(), medium.as_str(), void), ("open", "paper", None), "round 1 itself, on paper");
    assert_eq!(v.count(&format!("SELECT count(*) FROM vote_voters WHERE vote_id = {id}")), 25);
    assert!(members[3].get("/committee/draft").text().contains("本轮改为纸质投票"));
    let ops = chair.get("/committee/ops");
    assert!(ops.text().contains("打印表决票") && ops.text().contains("纸质投票"), "{}", ops.text());

    let desk = desk_clerk(&v);
    let url = format!("/paper/{id}");
    // 25 ballots issued, 24 returned, 1 invalid: C0001 17 agree (= ⌈25 × 2/3⌉), C0002 16.
    let sheet = entry(25, 24, 1, &[("C0001", [17, 5, 1]), ("C0002", [16, 6, 1])]);
    assert_eq!(post(&desk, &url, &sheet).status, 200);
    let r = post(&v.admin, &url, &sheet);
    assert!(r.text().contains("本轮已计票完成"), "{}", r.text());
    let report = members[1].get("/committee/report");
    let t = report.text();
    // The table row of an applicant, from its <tr to its </tr>.
    let row = |code: &str| {
        let at = t.find(&format!(">{code}<")).unwrap();
        let start = t[..at].rfind("<tr").unwrap();
        t[start..].split("</tr>").next().unwrap().to_string()
    };
    assert!(row("C0001").contains("通过") && !row("C0001").contains("未通过"), "17 of 25 passes: {}", row("C0001"));
    assert!(row("C0002").contains("未通过"), "16 of 25 does not: {}", row("C0002"));

    // From the counted paper round on, the day goes on as usual: a re-vote may be electronic.
    let r = chair.post_form("/committee/ops/revote", &[("applicants", "C0002"), ("reason", "复议")]);
    assert_eq!(r.status, 303, "{}", r.text());
    let (_, status, medium, _, _) = vote_row(&v, "committee", "committee", 2);
    assert_eq!((status.as_str(), medium.as_str()), ("drafting", "electronic"));
    for m in &members {
        assert_eq!(committee_draft(m, &[("C0002", "agree")]).status, 303);
    }
    assert_eq!(chair.post_form("/committee/ops/open", &[]).status, 303);
    for m in &members {
        assert_eq!(committee_submit(m).status, 303);
    }
    let t = members[1].get("/committee/report").text();
    let at = t.find(">C0002<").unwrap();
    let start = t[..at].rfind("<tr").unwrap();
    let row2 = t[start..].split("</tr>").next().unwrap();
    assert!(row2.contains("通过") && !row2.contains("未通过"), "the electronic re-vote decides: {row2}");
}

/// The appliance dies mid-round (its data directory lost): `pingshen restore` from the backup
/// stick onto a fresh directory, the round is finished there on paper — voided, the same
/// frozen voters, counted twice — and the day's bundle verifies.
#[test]
fn after_a_restore_from_the_backup_the_round_is_finished_on_paper() {
    let t = tempfile::tempdir().unwrap();
    let usb = t.path().join("usb");
    let v = Venue::with_config(&example_json(), &format!("backup_dir = {usb:?}"));
    let admin_pw = v.s.admin_password();
    let (e1, e2) = (v.login("E001"), v.login("E002"));
    let _e3 = v.login("E003");
    draft(&e1, &[("A0001", "agree"), ("A0002", "agree")]);
    draft(&e2, &[("A0001", "agree"), ("A0002", "agree")]);
    assert_eq!(e1.post_form("/review/ops/open", &[]).status, 303);
    let opened = |p: &std::path::Path| p.to_string_lossy().contains("review-ops-open");
    assert!(
        wait_until(std::time::Duration::from_secs(10), || pingshen::store::backup::list(&usb)
            .iter()
            .any(|p| opened(p))),
        "a backup when the switch opened"
    );
    let creds: std::collections::HashMap<String, (String, String)> =
        ["E001", "E002", "E003", "E004", "E005", "E006", "E101", "E102", "E103"]
            .iter()
            .map(|c| (c.to_string(), v.credentials(c)))
            .collect();
    // The machine dies; its disk is gone.
    let mut dead = v.s;
    dead.kill();
    std::fs::remove_dir_all(&dead.data).unwrap();

    let backup = pingshen::store::backup::list(&usb).into_iter().rev().find(|p| opened(p)).unwrap();
    let fresh = t.path().join("restored");
    let (code, out, err) = run(&["restore", backup.to_str().unwrap(), "--data", fresh.to_str().unwrap()]);
    assert_eq!(code, 0, "{out}{err}");
    let cfg = write_config(&t.path().join("cfg2"), "");
    let s2 = Server::spawn(&fresh, &cfg, &[]);
    let login = |code: &str| {
        let (u, p) = &creds[code];
        s2.login(u, p)
    };
    let leader = login("E001");
    assert!(leader.get("/review/ops").text().contains("已开启"), "the round is open in the restored copy");
    let r = leader
        .post_form("/review/ops/paper", &[("reason_kind", "设备故障"), ("reason_detail", "服务器损坏，已用备份恢复")]);
    assert_eq!(r.status, 303, "{}", r.text());
    let paper_id: i64 = s2
        .db()
        .query_row("SELECT id FROM votes WHERE scope = 'G01' AND round = 2 AND medium = 'paper'", [], |r| r.get(0))
        .unwrap();
    let voters: i64 = s2
        .db()
        .query_row(&format!("SELECT count(*) FROM vote_voters WHERE vote_id = {paper_id}"), [], |r| r.get(0))
        .unwrap();
    assert_eq!(voters, 3, "the voters frozen before the failure");

    let admin = s2.login("admin", &admin_pw);
    let slip = admin.post_form("/admin/accounts/desk", &[]);
    let (_, user, pw) = slip_credentials(&slip.body).remove(0);
    let desk = s2.login(&user, &pw);
    let sheet = entry(3, 3, 0, &[("A0001", [2, 0, 0]), ("A0002", [3, 0, 0])]);
    let url = format!("/paper/{paper_id}");
    assert_eq!(post(&desk, &url, &sheet).status, 200);
    assert!(post(&admin, &url, &sheet).text().contains("本轮已计票完成"));

    let zip = play_rest_of_example(&login, &s2, &leader);
    let (code, out) = crate::bundle::verify(&zip, Some(&fresh.join("appliance.pub")));
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("1 paper rounds"), "{out}");
}

/// 应急纸质投票包: before the meeting, per stage, a blank ballot (codes only in a blind
/// review), two tally sheets and an attendance sheet, with the copies to print; the same from
/// `pingshen paper-pack`.
#[test]
fn the_emergency_pack_has_every_stages_sheets_in_the_console_and_from_the_command_line() {
    let mut p = example_json();
    p["session"]["blind"] = serde_json::json!(true);
    let v = Venue::new(&p);
    let list = v.admin.get("/admin/paper-pack");
    assert_eq!(list.status, 200);
    let t = list.text();
    assert!(t.contains("小学语文组") && t.contains("评委会") && t.contains("/admin/paper-pack/committee"), "{t}");
    let committee = v.admin.get("/admin/paper-pack/committee").text();
    // Every applicant the committee might vote on, by code only (blind), and its members.
    for code in ["A0001", "A0002", "A0003", "A0004"] {
        assert!(committee.contains(&format!(">{code}<")), "{code}");
    }
    for name in ["李娜", "张伟", "逸夫小学"] {
        assert!(
            !committee
                .split("class=\"paper ballot\"")
                .nth(1)
                .unwrap()
                .split("</article>")
                .next()
                .unwrap()
                .contains(name),
            "blind: {name}"
        );
    }
    assert!(committee.contains("请打印 <b>10</b> 份"), "5 members, a spare round");
    assert!(committee.contains("王东") && committee.contains("签到表"), "the attendance sheet names the members");
    assert_eq!(committee.matches("class=\"paper tally\"").count(), 2);
    assert!(committee.contains("第 ____ 轮表决票"));
    let g01 = v.admin.get("/admin/paper-pack/G01").text();
    assert!(
        g01.contains("请打印 <b>6</b> 份") && g01.contains(">A0001<") && !g01.contains(">A0003<"),
        "G01's own applicants"
    );
    assert_eq!(v.login("E001").get("/admin/paper-pack").status, 403);

    let out = tempfile::tempdir().unwrap();
    let (code, stdout, err) = run(&[
        "paper-pack",
        "--data",
        v.s.data.to_str().unwrap(),
        "--config",
        v.s.config.to_str().unwrap(),
        "--out",
        out.path().to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{stdout}{err}");
    for scope in ["G01", "G02", "committee"] {
        let f = out.path().join(format!("应急纸质投票包-{scope}.html"));
        let html = std::fs::read_to_string(&f).unwrap();
        assert!(html.contains("<style>") && !html.contains("href=\"/static"), "self-contained: {}", f.display());
        assert!(html.contains("class=\"paper ballot\"") && html.contains("签到表"));
    }
}

/// In Chromium, as people see it: the chair's switch (1366×768), a member's notice and the
/// clerk's form (768×1024), entered by the number keypad alone — digits and Enter, no Tab, no
/// mouse — for 40 applicants; the second clerk's mismatch page; the ballot and tally sheets
/// printed to A4 PDF with every row on the page and boxes of at least 8 mm.
#[test]
fn paper_pages_in_chromium_and_a_keyboard_only_entry_of_forty_applicants() {
    use crate::browser::{browser, click_and_wait, go, login_fast, snap};
    let Some(wide) = browser(1366, 768) else {
        return;
    };
    let apps: Vec<(String, String)> = (1..=40).map(|i| (format!("C{i:04}"), format!("第{i}小学"))).collect();
    let refs: Vec<(&str, &str)> = apps.iter().map(|(a, u)| (a.as_str(), u.as_str())).collect();
    let p = committee_package(5, &refs, false);
    let v = Venue::new(&p);
    let members: Vec<Client> = (1..=5).map(|i| v.login(&format!("E{i:02}"))).collect();
    let base = v.s.base.clone();

    // The switch form on the chair's tablet too (a browser context of its own: its own cookies).
    let Some(tablet) = browser(768, 1024) else {
        return;
    };
    {
        let t = tablet.new_context().unwrap().new_tab().unwrap();
        let (u, pw) = v.credentials("E01");
        login_fast(&t, &base, &u, &pw);
        go(&t, &base, "/committee/ops");
        t.wait_for_element("#paper-switch").unwrap();
        t.evaluate("document.getElementById('paper-panel').scrollIntoView()", false).unwrap();
        snap(&t, "paper-switch-768");
    }
    // The chair switches the round to paper from 评委会数据操作.
    let chair_tab = wide.new_tab().unwrap();
    let (u, pw) = v.credentials("E01");
    login_fast(&chair_tab, &base, &u, &pw);
    go(&chair_tab, &base, "/committee/ops");
    chair_tab.wait_for_element("#paper-switch").unwrap();
    chair_tab.evaluate("document.getElementById('paper-panel').scrollIntoView()", false).unwrap();
    snap(&chair_tab, "paper-switch-1366");
    chair_tab
        .evaluate("document.querySelector('input[name=reason_kind][value=网络故障]').checked = true", false)
        .unwrap();
    click_and_wait(&chair_tab, "#to-paper", "#paper-state");
    snap(&chair_tab, "paper-switch-done-1366");
    let id: i64 = v.count("SELECT id FROM votes WHERE stage = 'committee' AND medium = 'paper'");

    // A member's page says so, on a tablet and on a laptop.
    {
        let t = wide.new_context().unwrap().new_tab().unwrap();
        let (u, pw) = v.credentials("E04");
        login_fast(&t, &base, &u, &pw);
        go(&t, &base, "/committee/draft");
        assert!(t.wait_for_element("#paper-note").unwrap().get_inner_text().unwrap().contains("本轮改为纸质投票"));
        snap(&t, "paper-voter-1366");
    }
    let member_tab = tablet.new_tab().unwrap();
    let (u, pw) = v.credentials("E03");
    login_fast(&member_tab, &base, &u, &pw);
    go(&member_tab, &base, "/committee/draft");
    let note = member_tab.wait_for_element("#paper-note").unwrap().get_inner_text().unwrap();
    assert!(note.contains("本轮改为纸质投票，请在纸质选票上投票"), "{note}");
    snap(&member_tab, "paper-voter-768");

    // The admin enters the tally sheet by keyboard only, on a tablet.
    let clerk_tab = tablet.new_tab().unwrap();
    login_fast(&clerk_tab, &base, "admin", &v.s.admin_password());
    go(&clerk_tab, &base, &format!("/paper/{id}"));
    clerk_tab.wait_for_element("#paper-form").unwrap();
    let focused = clerk_tab.evaluate("document.activeElement.name", false).unwrap().value.unwrap();
    assert_eq!(focused, "issued", "the form starts in its first field, no tap needed");
    // 5 ballots issued and returned, none invalid; applicant i: agree 3 + i % 3, the rest oppose.
    let counts: Vec<[u32; 3]> = (1..=40).map(|i| [3 + i % 3, 2 - i % 3, 0]).collect();
    let mut fields: Vec<String> = vec!["5".into(), "5".into(), "0".into()];
    for c in &counts {
        fields.extend(c.iter().map(|n| n.to_string()));
    }
    let keystrokes: usize = fields.iter().map(|f| f.len() + 1).sum::<usize>() + 1;
    let started = std::time::Instant::now();
    for f in &fields {
        clerk_tab.type_str(f).unwrap();
        clerk_tab.press_key("Enter").unwrap();
    }
    let focused = clerk_tab.evaluate("document.activeElement.id", false).unwrap().value.unwrap();
    assert_eq!(focused, "paper-save", "Enter after the last field lands on 保存");
    snap(&clerk_tab, "paper-entry-typed-768");
    clerk_tab.evaluate("window.__oldPage = true", false).unwrap();
    clerk_tab.press_key("Enter").unwrap();
    assert!(wait_until(std::time::Duration::from_secs(15), || clerk_tab
        .evaluate("window.__oldPage === undefined && !!document.getElementById('paper-waiting')", false)
        .ok()
        .and_then(|r| r.value)
        == Some(serde_json::json!(true))));
    let typing = started.elapsed();
    snap(&clerk_tab, "paper-entry-saved-768");
    eprintln!(
        "keyboard-only entry of 40 applicants: {} fields, {keystrokes} keystrokes (digits and Enter); \
         scripted in {:.1} s; at 2.5 keystrokes/s (a clerk on a number keypad) {:.0} s",
        fields.len(),
        typing.as_secs_f64(),
        keystrokes as f64 / 2.5
    );
    assert!(keystrokes as f64 / 2.5 < 180.0, "{keystrokes} keystrokes is more than 3 minutes at 2.5 a second");

    // The second clerk (desk staff, at a laptop) mistypes one row: the mismatch page.
    let (du, dpw) = desk_credentials(&v);
    let desk = v.s.login(&du, &dpw);
    let mut sheet: Vec<(&str, [u32; 3])> = Vec::new();
    for (i, c) in counts.iter().enumerate() {
        sheet.push((apps[i].0.as_str(), *c));
    }
    let mut wrong = sheet.clone();
    wrong[6].1 = [wrong[6].1[0] - 1, wrong[6].1[1] + 1, 0];
    assert_eq!(post(&desk, &format!("/paper/{id}"), &entry(5, 5, 0, &wrong)).status, 200);
    let desk_tab = wide.new_tab().unwrap();
    login_fast(&desk_tab, &base, &du, &dpw);
    go(&desk_tab, &base, &format!("/paper/{id}"));
    let mm = desk_tab.wait_for_element("#paper-mismatch").unwrap().get_inner_text().unwrap();
    assert!(mm.contains("C0007 同意") && mm.contains("C0007 反对"), "{mm}");
    snap(&desk_tab, "paper-mismatch-1366");
    go(&clerk_tab, &base, &format!("/paper/{id}"));
    snap(&clerk_tab, "paper-mismatch-768");
    // Both re-enter; counted.
    assert_eq!(post(&desk, &format!("/paper/{id}"), &entry(5, 5, 0, &sheet)).status, 200);
    assert!(post(&v.admin, &format!("/paper/{id}"), &entry(5, 5, 0, &sheet)).text().contains("本轮已计票完成"));
    drop(members);

    // The ballot and tally sheets as A4 PDFs: every applicant on the pages, boxes ≥ 8 mm.
    let chair_tab = wide.new_tab().unwrap();
    for (kind, name) in [("ballot", "paper-ballot"), ("tally", "paper-tally")] {
        // Printed by the desk clerk (the browser's cookie is theirs now), as at the venue.
        let url = format!("{base}/paper/{id}/{kind}");
        chair_tab.navigate_to(&url).unwrap();
        let check = format!("location.href === {} && document.readyState === 'complete'", serde_json::json!(url));
        assert!(wait_until(std::time::Duration::from_secs(15), || chair_tab
            .evaluate(&check, false)
            .ok()
            .and_then(|r| r.value)
            == Some(serde_json::json!(true))));
        chair_tab.wait_for_element(".paper").unwrap();
        chair_tab
            .call_method(headless_chrome::protocol::cdp::Emulation::SetEmulatedMedia {
                media: Some("print".into()),
                features: None,
            })
            .unwrap();
        if kind == "ballot" {
            let min_box = chair_tab
                .evaluate(
                    "Math.min(...[...document.querySelectorAll('.box')].map(b => Math.min(b.getBoundingClientRect().width, b.getBoundingClientRect().height)))",
                    false,
                )
                .unwrap()
                .value
                .unwrap()
                .as_f64()
                .unwrap();
            assert!(min_box >= 8.0 * 96.0 / 25.4, "boxes are {min_box:.1} px, under 8 mm");
        }
        let pdf = chair_tab
            .print_to_pdf(Some(headless_chrome::types::PrintToPdfOptions {
                prefer_css_page_size: Some(true),
                print_background: Some(true),
                ..Default::default()
            }))
            .unwrap();
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join(format!("{name}.pdf"));
        std::fs::write(&file, &pdf).unwrap();
        if let Ok(shots) = std::env::var("PINGSHEN_SCREENSHOTS") {
            std::fs::create_dir_all(&shots).unwrap();
            std::fs::copy(&file, std::path::Path::new(&shots).join(format!("{name}.pdf"))).unwrap();
        }
        let Ok(info) = std::process::Command::new("pdfinfo").arg(&file).output() else {
            assert!(std::env::var("CI").is_err(), "pdfinfo missing under CI");
            continue;
        };
        let info = String::from_utf8_lossy(&info.stdout).into_owned();
        assert!(info.contains("(A4)"), "A4: {info}");
        let text = std::process::Command::new("pdftotext").args(["-layout"]).arg(&file).arg("-").output().unwrap();
        let text = String::from_utf8_lossy(&text.stdout);
        for (code, _) in &apps {
            assert!(text.contains(code.as_str()), "{name}: {code} is on the pages");
        }
        assert!(!text.contains("打印表决票") && !text.contains("返回"), "{name}: no screen controls printed");
        if kind == "tally" {
            assert!(text.contains("计票人") && text.contains("监票人"));
        }
    }
}

/// No machine at all for a while: the group voted on paper (attendance on the paper sheet,
/// two rounds). When a machine is back, staff record the paper attendance as staff check-in,
/// and the rounds are entered in order — the first, then the re-vote — each by two clerks.
#[test]
fn rounds_held_with_no_machine_are_entered_in_order_with_the_paper_attendance() {
    let v = Venue::new(&example_json());
    // The paper attendance sheet, recorded as 代为签到 (nobody signs in on a device).
    for code in ["E001", "E002", "E003"] {
        let r = v.admin.post_form("/admin/attendance/checkin", &[("code", code)]);
        assert_eq!(r.status, 303, "{}", r.text());
    }
    let leader = v.login("E001");
    let r =
        leader.post_form("/review/ops/paper", &[("reason_kind", "设备故障"), ("reason_detail", "会场断电，全程纸质")]);
    assert_eq!(r.status, 303, "{}", r.text());
    let (id1, status, medium, _, _) = vote_row(&v, "group", "G01", 1);
    assert_eq!((status.as_str(), medium.as_str()), ("open", "paper"));
    assert_eq!(v.count(&format!("SELECT count(*) FROM vote_voters WHERE vote_id = {id1}")), 3, "the checked-in voters");
    // The re-vote cannot be entered before the first round is counted.
    let r = leader.post_form("/review/revote", &[("applicants", "A0002"), ("reason", "复议")]);
    assert_eq!(r.status, 409, "rounds in order: {}", r.text());
    let desk = desk_clerk(&v);
    let first = entry(3, 3, 0, &[("A0001", [2, 0, 0]), ("A0002", [1, 2, 0])]);
    post(&desk, &format!("/paper/{id1}"), &first);
    assert!(post(&v.admin, &format!("/paper/{id1}"), &first).text().contains("本轮已计票完成"));
    // The re-vote held on paper: a new round, switched to paper before opening, entered.
    let r = leader.post_form("/review/revote", &[("applicants", "A0002"), ("reason", "复议")]);
    assert_eq!(r.status, 303, "{}", r.text());
    let r =
        leader.post_form("/review/ops/paper", &[("reason_kind", "设备故障"), ("reason_detail", "会场断电，全程纸质")]);
    assert_eq!(r.status, 303, "{}", r.text());
    let (id2, status, medium, _, _) = vote_row(&v, "group", "G01", 2);
    assert_eq!((status.as_str(), medium.as_str()), ("open", "paper"));
    let second = entry(3, 3, 0, &[("A0002", [2, 1, 0])]);
    post(&desk, &format!("/paper/{id2}"), &second);
    assert!(post(&v.admin, &format!("/paper/{id2}"), &second).text().contains("本轮已计票完成"));
    let rows = deliberation_results(&leader.get("/review/deliberate").body);
    assert_eq!(
        rows,
        vec![("A0001".into(), "通过".into()), ("A0002".into(), "通过".into())],
        "the re-vote decides A0002"
    );
}

/// A paper round at venue size: a committee of 35 voting on 1,000 applicants. The clerk's form,
/// the ballot and the tally sheet answer; two full entries (3,003 fields each) count the round;
/// the form's page script still answers at once in Chromium with 3,000 inputs. Times printed
/// (`-- --nocapture`), never asserted.
#[test]
fn a_paper_round_of_a_thousand_applicants() {
    let apps: Vec<(String, String)> = (1..=1000).map(|i| (format!("C{i:04}"), format!("学校{i:04}"))).collect();
    let refs: Vec<(&str, &str)> = apps.iter().map(|(a, u)| (a.as_str(), u.as_str())).collect();
    let v = Venue::new(&committee_package(35, &refs, false));
    let members: Vec<Client> = (1..=35).map(|i| v.login(&format!("E{i:02}"))).collect();
    assert_eq!(members[0].post_form("/committee/ops/paper", &[("reason_kind", "网络故障")]).status, 303);
    let id: i64 = v.count("SELECT id FROM votes WHERE medium = 'paper'");
    let timed = |what: &str, f: &dyn Fn() -> Resp| {
        let t = std::time::Instant::now();
        let r = f();
        eprintln!("{what}: {} in {:.0} ms ({} KB)", r.status, t.elapsed().as_secs_f64() * 1000.0, r.body.len() / 1024);
        r
    };
    for path in [format!("/paper/{id}"), format!("/paper/{id}/ballot"), format!("/paper/{id}/tally"), "/paper".into()] {
        let r = timed(&format!("GET {path}"), &|| v.admin.get(&path));
        assert_eq!(r.status, 200, "{path}");
    }
    // The form's script with 3,000 inputs, in Chromium on a tablet: the page answers at once,
    // and a typed digit and Enter update the row's 合计 and move on.
    if let Some(b) = crate::browser::browser(768, 1024) {
        let tab = b.new_tab().unwrap();
        crate::browser::login_fast(&tab, &v.s.base, "admin", &v.s.admin_password());
        crate::browser::go(&tab, &v.s.base, &format!("/paper/{id}"));
        tab.wait_for_element("#paper-form").unwrap();
        let n = tab.evaluate("document.querySelectorAll('#paper-form input[inputmode]').length", false).unwrap().value;
        assert_eq!(n, Some(serde_json::json!(3003)));
        let t = std::time::Instant::now();
        assert_eq!(tab.evaluate("1 + 1", false).unwrap().value, Some(serde_json::json!(2)));
        let answer = t.elapsed();
        let mut typed = Vec::new();
        for digits in ["35", "34", "0", "7"] {
            let t = std::time::Instant::now();
            tab.type_str(digits).unwrap();
            tab.press_key("Enter").unwrap();
            typed.push(format!("{digits}: {:.0} ms", t.elapsed().as_secs_f64() * 1000.0));
        }
        let sum =
            tab.evaluate("document.querySelector('tr[data-code=C0001] .row-sum').textContent", false).unwrap().value;
        assert_eq!(sum, Some(serde_json::json!("7")));
        let focused = tab.evaluate("document.activeElement.name", false).unwrap().value;
        assert_eq!(focused, Some(serde_json::json!("oppose_C0001")));
        eprintln!(
            "1,000-row entry form in Chromium: a script answers in {:.0} ms; typed + Enter, issued / returned / invalid / a count: {}",
            answer.as_secs_f64() * 1000.0,
            typed.join(", ")
        );
    }
    let counts: Vec<(&str, [u32; 3])> =
        apps.iter().enumerate().map(|(i, (a, _))| (a.as_str(), [20 + i as u32 % 10, 5, 0])).collect();
    let sheet = entry(35, 34, 0, &counts);
    let desk = desk_clerk(&v);
    let r = timed("POST the first entry (3,003 fields)", &|| post(&desk, &format!("/paper/{id}"), &sheet));
    assert!(
        r.text().contains("请另一位计票人"),
        "{}: {}",
        r.status,
        r.text().split("id=\"paper-error\"").nth(1).unwrap_or("").chars().take(600).collect::<String>()
    );
    let r = timed("POST the second entry", &|| post(&v.admin, &format!("/paper/{id}"), &sheet));
    assert!(r.text().contains("本轮已计票完成"));
    let report = members[1].get("/committee/report").text();
    assert!(report.contains("C1000"), "the report lists the last applicant");
}

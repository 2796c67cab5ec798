//! DOMAIN.md "Decisions on the edge cases", points 2–5, over HTTP and in the signed bundle:
//! no decision without voters, nothing changes after the report, present means frozen at the
//! switch (迟到 apart), staff check-in with undo and 离场. The rule functions themselves are
//! table-tested in `src/rules.rs`. The other decisions are tested where a person meets them:
//! 1 (drafts open until one submits) in `review.rs`; 6 (no choice lost without a word: offline,
//! an opinion typed first, a second device) in `tablet.rs`; 7 (blind until the report) in
//! `blind.rs`. Paper rounds (void rounds, the two clerks' entries, decisions at the boundary
//! from a paper tally, the bundle's recount of them) are in `paper.rs`.

use crate::common::*;
use serde_json::{json, Value};
use std::collections::BTreeMap;

fn bundle_files(v: &Venue) -> BTreeMap<String, Vec<u8>> {
    let zip = std::fs::read_dir(&v.s.data)
        .unwrap()
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .find(|p| p.to_string_lossy().ends_with("-result.zip"))
        .expect("the report wrote a bundle");
    pingshen::bundle::verify::read_bundle(&zip).unwrap()
}

fn json_of(files: &BTreeMap<String, Vec<u8>>, name: &str) -> Value {
    serde_json::from_slice(&files[name]).unwrap()
}

fn applicant<'a>(results: &'a Value, code: &str) -> &'a Value {
    results["applicants"].as_array().unwrap().iter().find(|a| a["code"] == code).unwrap()
}

/// Every table but web_sessions, whole: what DOMAIN decision 3 says may not change.
fn session_tables(v: &Venue) -> BTreeMap<String, Vec<String>> {
    let db = v.s.db();
    let tables: Vec<String> = {
        let mut st = db
            .prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name <> 'web_sessions' ORDER BY name")
            .unwrap();
        let rows = st.query_map([], |r| r.get(0)).unwrap().collect::<Result<_, _>>().unwrap();
        rows
    };
    tables
        .into_iter()
        .map(|t| {
            let mut st = db.prepare(&format!("SELECT * FROM {t}")).unwrap();
            let n = st.column_count();
            let mut rows: Vec<String> = st
                .query_map([], |r| {
                    let cells: Vec<String> = (0..n).map(|i| format!("{:?}", r.get_ref(i).unwrap())).collect();
                    Ok(cells.join("|"))
                })
                .unwrap()
                .collect::<Result<_, _>>()
                .unwrap();
            rows.sort();
            (t, rows)
        })
        .collect()
}

/// Decision 2, committee: A1's every present member is recused. It gets no decision — not
/// "passed with 0 of 0" — and is reported apart; the bundle says `no_decision` and verifies.
#[test]
fn an_applicant_every_present_member_is_recused_from_gets_no_decision() {
    let mut p = committee_package(4, &[("A1", "某小学"), ("A2", "某中学")], false);
    p["recusals"] = json!([
        { "expert": "E01", "applicant": "A1", "reason": "亲属" },
        { "expert": "E02", "applicant": "A1", "reason": "亲属" },
        { "expert": "E03", "applicant": "A1", "reason": "师生" },
    ]);
    let v = Venue::new(&p);
    let members = committee_round(&v, 3, &[("A2", "agree")]);
    let page = members[1].get("/committee/report").text();
    let a1 = page.split("data-code=\"A1\"").nth(1).unwrap().split("</tr>").next().unwrap().to_string();
    assert!(a1.contains("无法表决（回避后无有效表决人）"), "{a1}");
    assert!(!a1.contains(">通过<"), "never passed with 0 of 0: {a1}");
    let r = members[1].post_form("/committee/report", &[("action", "submit")]);
    assert_eq!(r.status, 303, "a no-decision applicant does not block the report: {}", r.text());
    let files = bundle_files(&v);
    let results = json_of(&files, "results.json");
    let a1 = applicant(&results, "A1");
    assert_eq!(a1["outcome"], "no_decision", "{a1}");
    assert_eq!(a1["committee_result"]["passed"], Value::Null);
    assert_eq!(a1["committee_result"]["decision"], "no_decision");
    assert_eq!(a1["committee_result"]["eligible"], 0);
    assert_eq!(applicant(&results, "A2")["outcome"], "passed");
    let minutes = String::from_utf8(files["report.html"].clone()).unwrap();
    let apart = minutes.split("id=\"no-decision\"").nth(1).expect("the minutes list no-decision applicants apart");
    assert!(apart.split("</table>").next().unwrap().contains("申报人A1"), "{apart}");
    let (code, out, err) = run(&[
        "verify",
        &v.s.data.join(format!("{}-result.zip", p["session"]["id"].as_str().unwrap())).display().to_string(),
    ]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("1 without a decision"), "{out}");
    // The recount itself refuses "passed with 0 of 0" (the old behaviour), whatever the file says.
    let mut forged = files.clone();
    let mut r2 = results.clone();
    for a in r2["applicants"].as_array_mut().unwrap() {
        if a["code"] == "A1" {
            a["outcome"] = json!("passed");
            a["committee_result"]["passed"] = json!(true);
            a["committee_result"]["decision"] = json!("passed");
        }
    }
    forged.insert("results.json".into(), serde_json::to_vec_pretty(&r2).unwrap());
    let err = pingshen::bundle::verify::recount(&forged).unwrap_err();
    assert!(err.contains("A1"), "{err}");
}

/// Decision 2, group stage: all three G02 experts are recused from A0003. The leader cannot
/// mark it, the group still submits, and A0003 never reaches the committee.
#[test]
fn a_group_applicant_nobody_can_vote_on_is_not_marked_and_does_not_go_on() {
    let mut p = example_json();
    p["recusals"] = json!([
        { "expert": "E004", "applicant": "A0003", "reason": "师生关系" },
        { "expert": "E005", "applicant": "A0003", "reason": "师生关系" },
        { "expert": "E006", "applicant": "A0003", "reason": "同事" },
    ]);
    let v = Venue::new(&p);
    let (e4, e5, e6) = (v.login("E004"), v.login("E005"), v.login("E006"));
    // E006 shares A0004's unit: recused from both, nothing to draft, still a voter.
    for e in [&e4, &e5] {
        assert_eq!(draft(e, &[("A0004", "agree")]).status, 303);
    }
    assert_eq!(e4.post_form("/review/ops/open", &[]).status, 303);
    for e in [&e4, &e5, &e6] {
        assert_eq!(submit(e).status, 303);
    }
    let page = e4.get("/review/deliberate").text();
    let row = page.split("data-code=\"A0003\"").nth(1).unwrap().split("</tr>").next().unwrap().to_string();
    assert!(row.contains("无法表决（回避后无有效表决人）") && !row.contains("passed_A0003"), "{row}");
    let r = e4.post_form("/review/deliberate", &[("passed_A0003", "yes"), ("reason_A0003", "组长认为应通过")]);
    assert_eq!(r.status, 409, "nobody can mark a no-decision applicant: {}", r.text());
    let r = e4.post_form("/review/deliberate", &[("passed_A0004", "yes"), ("action", "submit")]);
    assert_eq!(r.status, 303, "the group submits without it: {}", r.text());
    assert_eq!(
        v.count("SELECT count(*) FROM vote_applicants va JOIN votes v ON v.id = va.vote_id WHERE v.stage = 'committee' AND va.applicant_code = 'A0003'"),
        0,
        "A0003 does not go on to the committee"
    );
    assert_eq!(v.count("SELECT count(*) FROM group_decisions WHERE applicant_code = 'A0003'"), 0);
}

/// Decision 3: after the report a member who never attended signs in; only web_sessions
/// change, the minutes do not call him present, and `pingshen bundle` rebuilds the same
/// content files.
#[test]
fn after_the_report_a_login_changes_nothing_but_web_sessions() {
    let mut p = example_json();
    p["experts"].as_array_mut().unwrap().push(json!({
        "code": "E104", "name": "迟来委员", "gender": "男", "phone": "13700000104", "id_number": "410101197001010104",
        "unit": "河南省某单位", "title": "教授", "title_level": "正高级", "specialty": "教育学", "group": null
    }));
    p["committee"]["members"].as_array_mut().unwrap().push(json!("E104"));
    let v = Venue::new(&p);
    play_example_to_report(&v);
    let signed = bundle_files(&v);
    let before = session_tables(&v);
    let late = v.login("E104");
    assert_eq!(late.get("/minutes").status, 403, "a plain member does not read the minutes");
    assert_eq!(late.get("/committee/draft").status, 200, "pages stay readable after the report");
    assert!(v.admin.get("/admin").text().contains("已上报，会务结束"), "the phase follows the state");
    let after = session_tables(&v);
    for (t, rows) in &before {
        assert_eq!(rows, &after[t], "table {t} changed after the report");
    }
    assert_eq!(v.count("SELECT count(*) FROM attendance WHERE person_code = 'E104'"), 0);
    // Staff cannot check him in either: refused, not silently ignored.
    let r = v.admin.post_form("/admin/attendance/checkin", &[("code", "E104")]);
    assert_eq!(r.status, 409, "{}", r.text());
    let minutes = v.login("E101").get("/minutes").text();
    let row = minutes.split("data-code=\"E104\"").nth(1).unwrap().split("</tr>").next().unwrap().to_string();
    assert!(row.contains("未签到") && row.contains("缺席"), "{row}");
    // `pingshen bundle` gives byte-identical content files.
    let out = v.s.data.join("rebuilt.zip");
    let (code, so, se) =
        run(&["bundle", "--data", &v.s.data.display().to_string(), "--out", &out.display().to_string()]);
    assert_eq!(code, 0, "{so}{se}");
    let rebuilt = pingshen::bundle::verify::read_bundle(&out).unwrap();
    for name in pingshen::bundle::CONTENT_FILES {
        assert!(signed[*name] == rebuilt[*name], "{name} differs from the signed bundle");
    }
    let results = json_of(&rebuilt, "results.json");
    let e104 = results["attendance"].as_array().unwrap().iter().find(|m| m["code"] == "E104").unwrap();
    assert_eq!(e104["first_sign_in"], Value::Null, "{e104}");
}

/// Decision 4: E06 signs in after the committee vote opened. He is not a voter, is shown as
/// 迟到 in the minutes and in attendance.json, and the quorum's "present" is the frozen 5.
#[test]
fn a_member_who_signs_in_after_the_switch_is_late_not_present() {
    let v = Venue::new(&committee_package(6, &[("A1", "某小学")], false));
    let present: Vec<Client> = (1..=5).map(|i| v.login(&format!("E{i:02}"))).collect();
    for m in &present {
        committee_draft(m, &[("A1", "agree")]);
    }
    assert_eq!(present[0].post_form("/committee/ops/open", &[]).status, 303);
    let late = v.login("E06");
    // The ops page counts the frozen voters, not who is signed in now.
    let ops = present[0].get("/committee/ops").text();
    assert!(ops.contains("本轮开启时出席 5 人"), "{ops}");
    for m in &present {
        assert_eq!(committee_submit(m).status, 303);
    }
    assert_eq!(late.get("/committee/draft").status, 200);
    let minutes = present[0].get("/minutes").text();
    let row = minutes.split("data-code=\"E06\"").nth(1).unwrap().split("</tr>").next().unwrap().to_string();
    assert!(row.contains("第 1 轮：迟到"), "{row}");
    assert!(minutes.contains("迟到（不参加本轮表决）：评委06"), "{minutes}");
    assert_eq!(present[1].post_form("/committee/report", &[("action", "submit")]).status, 303);
    let files = bundle_files(&v);
    let results = json_of(&files, "results.json");
    assert_eq!(results["quorum"]["present"], 5, "{}", results["quorum"]);
    let e06 = results["attendance"].as_array().unwrap().iter().find(|m| m["code"] == "E06").unwrap();
    assert_eq!(e06["rounds"][0]["presence"], "late", "{e06}");
    assert!(e06["first_sign_in"].is_string());
    assert!(e06.get("signed_in").is_none(), "no plain 'signed in' that reads as present");
    let e01 = results["attendance"].as_array().unwrap().iter().find(|m| m["code"] == "E01").unwrap();
    assert_eq!(e01["rounds"][0]["presence"], "voter");
    let att = json_of(&files, "attendance.json");
    assert_eq!(att["rounds"][0]["late"], json!(["E06"]));
    assert_eq!(att["rounds"][0]["present"].as_array().unwrap().len(), 5);
}

/// Decision 5: a staff check-in counts and can be undone before a round opens; someone marked
/// 离场 is not frozen; once the round opens, its voters stay as they were.
#[test]
fn staff_check_in_can_be_undone_and_leavers_are_not_frozen() {
    let v = Venue::new(&committee_package(4, &[("A1", "某小学")], false));
    let members: Vec<Client> = (1..=3).map(|i| v.login(&format!("E{i:02}"))).collect();
    let admin = &v.admin;
    assert_eq!(admin.post_form("/admin/attendance/checkin", &[("code", "E04")]).status, 303);
    assert_eq!(admin.post_form("/admin/attendance/undo", &[("code", "E04")]).status, 303);
    assert_eq!(v.count("SELECT count(*) FROM attendance WHERE person_code = 'E04'"), 0, "undone");
    let r = admin.post_form("/admin/attendance/undo", &[("code", "E01")]);
    assert_eq!(r.status, 409, "a sign-in on one's own device is not undone: {}", r.text());
    assert_eq!(admin.post_form("/admin/attendance/checkin", &[("code", "E04")]).status, 303);
    assert_eq!(admin.post_form("/admin/attendance/left", &[("code", "E03")]).status, 303);
    let page = admin.get("/admin/attendance").text();
    assert!(page.contains("离场") && page.contains("撤销签到") && page.contains("返回会场"), "{page}");
    let ops = members[0].get("/committee/ops").text();
    assert!(ops.contains("已签到 3 人"), "E01, E02 and the checked-in E04; E03 left: {ops}");
    // Decision 5: before opening, the chair sees who is checked in by staff with no device.
    let warn = ops.split("id=\"open-warnings\"").nth(1).unwrap().split("</div>").next().unwrap().to_string();
    let staff = warn.split("data-list=\"staff_only\"").nth(1).unwrap().split("</p>").next().unwrap().to_string();
    assert!(staff.contains("评委04") && !staff.contains("评委01"), "{warn}");
    assert!(!staff.starts_with(" hidden"), "shown, not hidden: {warn}");
    for m in &members[..2] {
        committee_draft(m, &[("A1", "agree")]);
    }
    assert_eq!(members[0].post_form("/committee/ops/open", &[]).status, 303);
    let voters: Vec<String> = {
        let db = v.s.db();
        let mut st = db.prepare("SELECT voter_code FROM vote_voters ORDER BY voter_code").unwrap();
        let rows = st.query_map([], |r| r.get(0)).unwrap().collect::<Result<_, _>>().unwrap();
        rows
    };
    assert_eq!(voters, ["E01", "E02", "E04"]);
    assert_eq!(admin.post_form("/admin/attendance/undo", &[("code", "E04")]).status, 409, "frozen now");
    let r = members[2].post_form("/committee/submit", &[("vote", "1")]);
    assert_eq!(r.status, 403, "E03 left before the switch: not a voter: {}", r.text());
    let actions = v.count("SELECT count(*) FROM audit WHERE action IN ('attendance.undo', 'attendance.left')");
    assert_eq!(actions, 2, "both audited");
}

/// A stored rule that does not parse is an error on every page that needs it, never a silent
/// default (the old code fell back to 2/3 or "more than half").
#[test]
fn a_broken_stored_rule_surfaces_instead_of_defaulting() {
    let v = Venue::new(&committee_package(3, &[("A1", "某小学")], false));
    let chair = v.login("E01");
    assert_eq!(chair.get("/committee/ops").status, 200);
    v.s.db().execute("UPDATE session SET committee_pass_ratio = '3/2'", []).unwrap();
    assert_eq!(chair.get("/committee/ops").status, 500);
    let log = std::fs::read_to_string(v.s.data.join("pingshen.log")).unwrap_or_default();
    assert!(log.contains("committee_pass_ratio"), "the log names the field: {log}");
}

/// The minutes name each applicant's lead reviewers with their opinions, and per closed round
/// who was frozen as a voter but did not vote.
#[test]
fn the_minutes_show_lead_reviewers_their_opinions_and_who_did_not_vote() {
    let v = Venue::new(&example_json());
    let (leader, wang, li) = (v.login("E001"), v.login("E002"), v.login("E003"));
    assert_eq!(leader.post_form("/review/assign/A0002", &[("experts", "E002")]).status, 303);
    assert_eq!(wang.post_form("/applicants/A0002/opinion", &[("text", "教学成果突出")]).status, 303);
    draft(&leader, &[("A0001", "agree"), ("A0002", "agree")]);
    draft(&li, &[("A0002", "agree")]);
    assert_eq!(leader.post_form("/review/ops/open", &[]).status, 303);
    assert_eq!(submit(&leader).status, 303);
    assert_eq!(submit(&li).status, 303);
    // 王健华 does not vote; the leader closes the round.
    assert_eq!(leader.post_form("/review/ops/close", &[]).status, 303);
    let chair = v.login("E101");
    let minutes = chair.get("/minutes").text();
    assert!(minutes.contains("主审专家 / 主审意见"), "{minutes}");
    let row = minutes.split("<td>A0002</td>").nth(1).unwrap().split("</tr>").next().unwrap().to_string();
    assert!(row.contains("王健华") && row.contains("教学成果突出"), "{row}");
    assert!(minutes.contains("未投票：王健华"), "{minutes}");
}

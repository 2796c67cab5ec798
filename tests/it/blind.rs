//! Blind review (盲评), DOMAIN decision 7: no expert account — leader, chair and reporter
//! included — sees an applicant's name or unit on any page, list, detail, printout or download
//! before the report; the room display neither. The admin sees everything; after the report the
//! minutes and 汇总表 carry names for the office.

use crate::common::*;
use std::collections::{BTreeSet, VecDeque};

/// The example package made blind, with units no expert shares (so a unit found on a page can
/// only be an applicant's).
fn blind_package() -> serde_json::Value {
    let mut p = example_json();
    p["session"]["blind"] = serde_json::json!(true);
    for (i, a) in p["applicants"].as_array_mut().unwrap().iter_mut().enumerate() {
        a["unit"] = serde_json::json!(format!("盲评测试单位{}号", i + 1));
    }
    p
}

/// Every applicant's name and unit, which must appear nowhere an expert looks.
fn needles(p: &serde_json::Value) -> Vec<String> {
    p["applicants"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|a| [a["name"].as_str().unwrap().to_string(), a["unit"].as_str().unwrap().to_string()])
        .collect()
}

/// The site's own links on a page (no logout, no static files, no actions).
fn links(html: &str) -> Vec<String> {
    html.split("href=\"")
        .skip(1)
        .filter_map(|s| s.split('"').next())
        .map(unescape)
        .filter(|h| h.starts_with('/') && !h.starts_with("//"))
        .filter(|h| !h.starts_with("/static/") && !h.starts_with("/logout"))
        .collect()
}

/// `%E6%9D%8E` → 李 (a Content-Disposition filename* is percent-encoded UTF-8).
fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' && i + 2 < b.len() {
            if let Ok(x) = u8::from_str_radix(&s[i + 1..i + 3], 16) {
                out.push(x);
                i += 3;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Crawls everything a signed-in person reaches from the desk by following links (pages,
/// printouts, downloads), and returns each place where an applicant's name or unit shows.
fn leaks(c: &Client, needles: &[String], stage: &str, who: &str) -> Vec<String> {
    let mut seen = BTreeSet::new();
    let mut queue: VecDeque<String> = ["/desk", "/", "/minutes", "/summary"].iter().map(|s| s.to_string()).collect();
    let mut found = Vec::new();
    while let Some(path) = queue.pop_front() {
        if seen.len() >= 300 || !seen.insert(path.clone()) {
            continue;
        }
        let r = c.get(&path);
        if r.status != 200 {
            continue;
        }
        // A download's file name is shown too (the browser's save dialog, the tab's title).
        let disposition = r.header("content-disposition").map(|d| {
            let d = d.to_string();
            percent_decode(&d)
        });
        for n in needles {
            if disposition.as_deref().is_some_and(|d| d.contains(n.as_str())) {
                found.push(format!("{stage}: {who} downloads a file named with 「{n}」 from {path}"));
            }
        }
        let kind = r.header("content-type").unwrap_or("").to_string();
        let body = if kind.contains("zip") || kind.contains("spreadsheet") {
            // A download (xlsx, zip): every entry, inflated.
            let mut z = zip::ZipArchive::new(std::io::Cursor::new(r.bytes.clone())).unwrap();
            let mut all = String::new();
            for i in 0..z.len() {
                let mut e = z.by_index(i).unwrap();
                let mut b = Vec::new();
                std::io::Read::read_to_end(&mut e, &mut b).unwrap();
                all.push_str(&String::from_utf8_lossy(&b));
            }
            all
        } else {
            r.text()
        };
        for n in needles {
            if body.contains(n.as_str()) {
                found.push(format!("{stage}: {who} sees 「{n}」 on {path}"));
            }
        }
        if kind.starts_with("text/html") {
            queue.extend(links(&body));
        }
    }
    assert!(seen.len() >= 3, "{stage} {who}: the crawl reached only {seen:?}");
    found
}

#[test]
fn a_blind_session_shows_no_expert_a_name_or_unit_until_the_report() {
    let mut p = blind_package();
    let needles = needles(&p);
    // A material whose file name names its applicant, as offices often send them.
    p["applicants"][0]["materials"] = serde_json::json!(["materials/A0001/李娜-申报表.pdf"]);
    let pdf = b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj 2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n";
    let zip = zip_of(&[("package.json", &serde_json::to_vec(&p).unwrap()), ("materials/A0001/李娜-申报表.pdf", pdf)]);
    let v = Venue::with_package(&p, "package.zip", &zip, "");
    let people: Vec<(&str, Client)> = ["E001", "E002", "E003", "E004", "E005", "E006", "E101", "E102", "E103"]
        .iter()
        .map(|c| (*c, v.login(c)))
        .collect();
    let get = |code: &str| &people.iter().find(|(c, _)| *c == code).unwrap().1;
    let display = {
        let page = v.admin.get("/admin/display");
        let link = unescape(page.body.split("id=\"display-link\">").nth(1).unwrap().split('<').next().unwrap());
        link[link.find("/display").unwrap()..].to_string()
    };
    let mut found = Vec::new();
    let mut scan = |stage: &str| {
        for (code, c) in &people {
            found.extend(leaks(c, &needles, stage, code));
        }
        let screen = Client::new(&v.s.base);
        for path in [display.clone(), display.replace("/display?", "/display/status?")] {
            let r = screen.get(&path);
            assert_eq!(r.status, 200, "{path}");
            for n in &needles {
                if r.text().contains(n.as_str()) {
                    found.push(format!("{stage}: the room display shows 「{n}」 ({path})"));
                }
            }
        }
    };
    scan("before the vote");
    // Every group member drafts; the leaders open; everyone submits; the leaders decide.
    let group_votes: [(&str, &[(&str, &str)]); 6] = [
        ("E001", &[("A0001", "agree"), ("A0002", "oppose")]),
        ("E002", &[("A0001", "agree"), ("A0002", "oppose")]),
        ("E003", &[("A0001", "agree"), ("A0002", "oppose")]),
        ("E004", &[("A0003", "agree"), ("A0004", "agree")]),
        ("E005", &[("A0004", "agree")]),
        ("E006", &[("A0003", "agree"), ("A0004", "agree")]),
    ];
    for (code, votes) in group_votes {
        assert_eq!(draft(get(code), votes).status, 303);
    }
    scan("drafting");
    for leader in ["E001", "E004"] {
        assert_eq!(get(leader).post_form("/review/ops/open", &[]).status, 303);
    }
    scan("group switch open");
    for (code, _) in group_votes {
        let r = submit(get(code));
        assert_eq!(r.status, 303, "{code}: {}", r.text());
    }
    scan("group voted, before deliberation");
    let r = get("E001")
        .post_form("/review/deliberate", &[("passed_A0001", "yes"), ("passed_A0002", "no"), ("action", "submit")]);
    assert_eq!(r.status, 303, "{}", r.text());
    let r = get("E004")
        .post_form("/review/deliberate", &[("passed_A0003", "yes"), ("passed_A0004", "yes"), ("action", "submit")]);
    assert_eq!(r.status, 303, "{}", r.text());
    let members = ["E101", "E102", "E103", "E001", "E004"];
    for m in members {
        assert_eq!(committee_draft(get(m), &[("A0001", "agree"), ("A0003", "agree"), ("A0004", "oppose")]).status, 303);
    }
    scan("committee drafting");
    assert_eq!(get("E101").post_form("/committee/ops/open", &[]).status, 303);
    scan("committee switch open");
    for m in members {
        assert_eq!(committee_submit(get(m)).status, 303);
    }
    assert_eq!(get("E101").post_form("/committee/ops/release", &[("released", "yes")]).status, 303);
    scan("committee voted, results released, before the report");
    assert!(found.is_empty(), "{} leaks:\n{}", found.len(), found.join("\n"));

    // As the leader, the chair and the reporter see it (screenshots with PINGSHEN_SCREENSHOTS).
    if let Some(browser) = crate::browser::browser(1366, 768) {
        for (code, pages) in [
            ("E001", &["/review/deliberate", "/review/ops"][..]),
            ("E101", &["/committee/ops", "/minutes", "/summary"][..]),
            ("E102", &["/committee/report"][..]),
        ] {
            let tab = browser.new_context().unwrap().new_tab().unwrap();
            let (user, password) = v.credentials(code);
            crate::browser::login_fast(&tab, &v.s.base, &user, &password);
            for page in pages {
                crate::browser::go(&tab, &v.s.base, page);
                let shown = tab.evaluate("document.body.innerText", false).unwrap().value.unwrap();
                let shown = shown.as_str().unwrap();
                for n in &needles {
                    assert!(!shown.contains(n.as_str()), "{code} sees 「{n}」 on {page} in the browser");
                }
                crate::browser::snap(&tab, &format!("blind-{code}{}", page.replace('/', "-")));
            }
        }
    }
    // The admin sees everything, all along.
    let admin = v.admin.get("/admin/applicants").text();
    assert!(admin.contains("李娜") && admin.contains("盲评测试单位1号"), "{admin}");
    assert!(v.admin.get("/applicants/A0001").text().contains("李娜"));
    assert!(v.admin.get("/applicants/A0001").text().contains("李娜-申报表.pdf"), "the admin sees the file's name");
    // Coded, not emptied: the expert still finds each applicant by code.
    let desk = get("E002").get("/review/draft").text();
    assert!(desk.contains("A0001") && desk.contains("盲评隐藏"), "{desk}");

    // The report: from now on the minutes and 汇总表 carry names for the office.
    let r = get("E102").post_form("/committee/report", &[("action", "submit")]);
    assert_eq!(r.status, 303, "{}", r.text());
    let minutes = get("E101").get("/minutes").text();
    let summary = get("E101").get("/summary").text();
    assert!(minutes.contains("李娜") && summary.contains("李娜"), "named after the report");
}

//! A venue for tests: a server with a package imported and every slip issued, people logged
//! in by expert code, and the steps of the day (drafts, submissions, the example played to
//! the report) that several test files share.

use super::*;
use serde_json::{json, Value};
use std::collections::HashMap;

/// (name, username, password) from a slips page.
pub fn slip_credentials(html: &str) -> Vec<(String, String, String)> {
    let cell = |part: &str, marker: &str| -> String {
        let i = part.find(marker).unwrap_or_else(|| panic!("no {marker} in slip"));
        let rest = &part[i + marker.len()..];
        let rest = &rest[rest.find('>').unwrap() + 1..];
        rest[..rest.find('<').unwrap()].trim().to_string()
    };
    html.split("<section class=\"slip\">")
        .skip(1)
        .map(|part| (cell(part, "class=\"name\""), cell(part, "data-username"), cell(part, "data-password")))
        .collect()
}

/// A server with a package imported and every slip issued; log in people by expert code.
pub struct Venue {
    pub s: Server,
    pub admin: Client,
    creds: HashMap<String, (String, String)>,
}

impl Venue {
    pub fn new(p: &Value) -> Venue {
        Self::with_config(p, "")
    }

    /// A venue whose server runs with extra config lines (e.g. a backup directory).
    pub fn with_config(p: &Value, config_extra: &str) -> Venue {
        Self::with_package(p, "package.json", &serde_json::to_vec(p).unwrap(), config_extra)
    }

    /// A venue imported from a package file as uploaded (`p` is its package.json, for names).
    pub fn with_package(p: &Value, filename: &str, bytes: &[u8], config_extra: &str) -> Venue {
        let s = Server::start_with(&[], config_extra);
        let admin = s.admin();
        let r = admin.upload("/admin/import", "package", filename, bytes);
        assert_eq!(r.status, 200, "{}", r.text());
        let slips = admin.post_form("/admin/accounts/issue", &[]);
        let by_name: HashMap<String, (String, String)> =
            slip_credentials(&slips.body).into_iter().map(|(n, u, pw)| (unescape(&n), (u, pw))).collect();
        let creds = p["experts"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| (e["code"].as_str().unwrap().to_string(), by_name[e["name"].as_str().unwrap()].clone()))
            .collect();
        Venue { s, admin, creds }
    }

    /// After a password was reissued outside the venue's own flow (e.g. `pingshen accounts --only`).
    pub fn replace_credentials(&mut self, code: &str, username: &str, password: &str) {
        self.creds.insert(code.to_string(), (username.to_string(), password.to_string()));
    }

    pub fn credentials(&self, code: &str) -> (String, String) {
        self.creds[code].clone()
    }

    pub fn login(&self, code: &str) -> Client {
        let (u, p) = &self.creds[code];
        self.s.login(u, p)
    }

    pub fn count(&self, sql: &str) -> i64 {
        self.s.db().query_row(sql, [], |r| r.get(0)).unwrap()
    }
}

/// Group drafts with an opinion each.
pub fn draft(c: &Client, votes: &[(&str, &str)]) -> Resp {
    let mut fields = Vec::new();
    for (a, choice) in votes {
        fields.push((format!("choice_{a}"), choice.to_string()));
        fields.push((format!("opinion_{a}"), format!("意见{a}")));
    }
    let refs: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    c.post_form("/review/draft", &refs)
}

/// Opens the group's confirmation page and submits the round it names.
pub fn submit(c: &Client) -> Resp {
    let page = c.get("/review/submit");
    assert_eq!(page.status, 200, "{}", page.text());
    let vote = page.body.split("name=\"vote\" value=\"").nth(1).unwrap().split('"').next().unwrap().to_string();
    c.post_form("/review/submit", &[("vote", &vote)])
}

/// A session with no groups: `n` committee members E01.. (E01 chair, E02 reporter) and the
/// given applicants (code, unit), all straight to the committee.
pub fn committee_package(n: usize, applicants: &[(&str, &str)], recused_present: bool) -> Value {
    let mut p = example_json();
    p["session"]["recused_count_as_present"] = json!(recused_present);
    p["groups"] = json!([]);
    p["recusals"] = json!([]);
    let experts: Vec<Value> = (1..=n)
        .map(|i| {
            json!({ "code": format!("E{i:02}"), "name": format!("评委{i:02}"), "unit": format!("单位{i:02}"),
                    "gender": "男", "phone": format!("1370000{i:04}"), "id_number": format!("41010119700101{i:04}"),
                    "title": "教授", "title_level": "正高级", "specialty": "教育学", "group": null })
        })
        .collect();
    p["experts"] = json!(experts);
    let members: Vec<String> = (1..=n).map(|i| format!("E{i:02}")).collect();
    p["committee"] = json!({ "members": members, "chair": "E01", "reporter": "E02" });
    let apps: Vec<Value> = applicants
        .iter()
        .map(|(code, unit)| {
            json!({ "code": code, "name": format!("申报人{code}"), "unit": unit, "series": "中小学教师",
                    "specialty": if code.ends_with('1') { "小学语文" } else { "小学数学" }, "title": "中小学一级教师",
                    "review_type": "评审(正常)", "group": null, "details": {}, "materials": [] })
        })
        .collect();
    p["applicants"] = json!(apps);
    p
}

/// Committee drafts (choices only).
pub fn committee_draft(c: &Client, votes: &[(&str, &str)]) -> Resp {
    let owned: Vec<(String, String)> = votes.iter().map(|(a, ch)| (format!("choice_{a}"), ch.to_string())).collect();
    let refs: Vec<(&str, &str)> = owned.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    c.post_form("/committee/draft", &refs)
}

/// Opens the committee's confirmation page and submits the round it names.
pub fn committee_submit(c: &Client) -> Resp {
    let page = c.get("/committee/submit");
    assert_eq!(page.status, 200, "{}", page.text());
    let vote = page.body.split("name=\"vote\" value=\"").nth(1).unwrap().split('"').next().unwrap().to_string();
    c.post_form("/committee/submit", &[("vote", &vote)])
}

/// Plays the example package to the report: both groups vote and submit (G01 fails A0002),
/// the committee votes on the rest, the reporter reports. Returns the logged-in clients.
pub fn play_example_to_report(v: &Venue) -> Vec<(String, Client)> {
    play_example_to_report_with(v, "A")
}

/// `play_example_to_report` for the example with its applicant codes' letter `A` changed to
/// `letter` (`renamed_example`): several sessions whose applicants differ.
pub fn play_example_to_report_with(v: &Venue, letter: &str) -> Vec<(String, Client)> {
    let (a1, a2, a3, a4) =
        (format!("{letter}0001"), format!("{letter}0002"), format!("{letter}0003"), format!("{letter}0004"));
    let (a1, a2, a3, a4) = (a1.as_str(), a2.as_str(), a3.as_str(), a4.as_str());
    let c = |code: &str| v.login(code);
    let (e1, e2, e3, e4, e5, e6) = (c("E001"), c("E002"), c("E003"), c("E004"), c("E005"), c("E006"));
    let (chair, reporter, e103) = (c("E101"), c("E102"), c("E103"));
    // G01 passes A0001 and fails A0002; G02 passes both.
    draft(&e1, &[(a1, "agree"), (a2, "oppose")]);
    draft(&e2, &[(a1, "agree"), (a2, "oppose")]);
    draft(&e3, &[(a2, "oppose")]);
    draft(&e4, &[(a3, "agree"), (a4, "agree")]);
    draft(&e5, &[(a4, "agree")]);
    draft(&e6, &[(a3, "agree")]);
    // The committee cannot open before every group has submitted.
    let r = chair.post_form("/committee/ops/open", &[]);
    assert_eq!(r.status, 409);
    assert!(r.text().contains("小学语文组"));
    for (leader, rest) in [(&e1, [&e2, &e3]), (&e4, [&e5, &e6])] {
        assert_eq!(leader.post_form("/review/ops/open", &[]).status, 303);
        for x in [leader, rest[0], rest[1]] {
            assert_eq!(submit(x).status, 303);
        }
    }
    assert_eq!(
        e1.post_form(
            "/review/deliberate",
            &[(&format!("passed_{a1}"), "yes"), (&format!("passed_{a2}"), "no"), ("action", "submit")]
        )
        .status,
        303
    );
    assert_eq!(
        e4.post_form(
            "/review/deliberate",
            &[(&format!("passed_{a3}"), "yes"), (&format!("passed_{a4}"), "yes"), ("action", "submit")]
        )
        .status,
        303
    );
    // A0002 failed its group: it never reaches the committee.
    let page = chair.get("/committee/draft");
    assert!(page.body.contains(&format!("data-code=\"{a1}\"")) && !page.body.contains(&format!("data-code=\"{a2}\"")));
    assert!(page.text().contains("小学语文组"));
    let members = [&chair, &reporter, &e103, &e1, &e4];
    for m in members {
        let r = committee_draft(m, &[(a1, "agree"), (a3, "agree"), (a4, "oppose")]);
        assert_eq!(r.status, 303);
    }
    assert_eq!(chair.post_form("/committee/ops/open", &[]).status, 303);
    for m in members {
        assert_eq!(committee_submit(m).status, 303);
    }
    assert_eq!(chair.post_form("/committee/report", &[("action", "submit")]).status, 403, "the chair views only");
    let r = reporter.post_form("/committee/report", &[(&format!("opinion_{a1}"), "同意晋升"), ("action", "submit")]);
    assert_eq!(r.status, 303, "{}", r.text());
    assert!(reporter.get("/committee/report").text().contains("评审结果已于"));

    ["E001", "E002", "E004", "E101", "E102", "E103"]
        .iter()
        .map(|c| c.to_string())
        .zip([e1, e2, e4, chair, reporter, e103])
        .collect()
}

/// The example package as another session: its id `id`, its applicants' codes with `letter`
/// for `A` (recusals follow).
pub fn renamed_example(id: &str, letter: &str) -> Value {
    let text = example_json().to_string().replace("\"A000", &format!("\"{letter}000"));
    let mut p: Value = serde_json::from_str(&text).unwrap();
    p["session"]["id"] = serde_json::json!(id);
    p
}

/// Members E01..En sign in, draft `votes`, the chair (E01) opens, everyone submits: one
/// committee round played; returns the signed-in members (E02 is the reporter).
pub fn committee_round(v: &Venue, n: usize, votes: &[(&str, &str)]) -> Vec<Client> {
    let members: Vec<Client> = (1..=n).map(|i| v.login(&format!("E{i:02}"))).collect();
    for m in &members {
        assert_eq!(committee_draft(m, votes).status, 303);
    }
    assert_eq!(members[0].post_form("/committee/ops/open", &[]).status, 303);
    for m in &members {
        assert_eq!(committee_submit(m).status, 303);
    }
    members
}

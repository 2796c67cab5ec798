//! From the office to the venue (PACKAGE.md, "Signed packages"; issue 29): the office's key,
//! packages signed as they travel (standard `minisign` checks them), the appliance importing only
//! what the office signed — each refusal with its reason and nothing written — and an unsigned
//! import marked 来源未验证 on 会务概览, in the minutes and in the bundle.

use crate::common::*;
use std::path::{Path, PathBuf};

fn office(dir: &Path, args: &[&str]) -> (i32, String, String) {
    let mut all = vec!["office"];
    all.extend_from_slice(args);
    all.extend_from_slice(&["--dir", dir.to_str().unwrap()]);
    run(&all)
}

/// `pingshen import` into a fresh data dir under `at`, with the office key given.
fn import_with_key(package: &Path, at: &Path, key: &Path) -> (i32, String, String, PathBuf) {
    let cfg = write_config(at, "");
    let data = at.join("data");
    let (code, out, err) = run(&[
        "import",
        package.to_str().unwrap(),
        "--data",
        data.to_str().unwrap(),
        "--config",
        cfg.to_str().unwrap(),
        "--office-pubkey",
        key.to_str().unwrap(),
    ]);
    (code, out, err, data)
}

/// How many sessions a data dir holds (0 when nothing was written, or no database at all).
fn sessions(data: &Path) -> i64 {
    let db = data.join("pingshen.db");
    if !db.exists() {
        return 0;
    }
    let c = rusqlite::Connection::open(db).unwrap();
    c.query_row("SELECT count(*) FROM session", [], |r| r.get(0)).unwrap_or(0)
}

fn minisign_verifies(file: &Path, pubkey: &Path) -> Option<bool> {
    match std::process::Command::new("minisign").args(["-Vm"]).arg(file).arg("-p").arg(pubkey).output() {
        Ok(out) => Some(out.status.success()),
        Err(_) if std::env::var("CI").is_ok_and(|v| v == "true") => panic!("minisign missing under CI"),
        Err(_) => None,
    }
}

fn office_key_id(dir: &Path) -> String {
    let pk = pingshen::sign::parse_public(dir.join("office.pub").to_str().unwrap()).unwrap();
    pingshen::sign::key_id(&pk)
}

#[test]
fn the_office_signs_packages_and_the_venue_imports_only_what_it_signed() {
    let t = tempfile::tempdir().unwrap();
    let off = t.path().join("office");
    let (code, out, err) = office(&off, &["init"]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("密钥 ID") && out.contains("office_pubkey"), "{out}");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(off.join("office.key")).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "the secret key is its owner's only");
    }
    let (code, _, err) = office(&off, &["init"]);
    assert_ne!(code, 0, "a second init is refused");
    assert!(err.contains("只生成一次"), "{err}");
    let key = off.join("office.pub");
    let id = office_key_id(&off);

    // Three shapes: JSON, a workbook, and a directory with a material (zipped when issued).
    let json_file = t.path().join("package.json");
    std::fs::write(&json_file, serde_json::to_vec_pretty(&example_json()).unwrap()).unwrap();
    let xlsx_file = t.path().join("package.xlsx");
    std::fs::copy(example_dir().join("package.xlsx"), &xlsx_file).unwrap();
    let dir_pkg = t.path().join("会务包");
    std::fs::create_dir_all(dir_pkg.join("materials/A0001")).unwrap();
    let mut p = example_json();
    p["applicants"][0]["materials"] = serde_json::json!(["materials/A0001/申报表.pdf"]);
    std::fs::write(dir_pkg.join("package.json"), serde_json::to_vec(&p).unwrap()).unwrap();
    std::fs::write(dir_pkg.join("materials/A0001/申报表.pdf"), b"%PDF-1.4\n%%EOF\n").unwrap();

    for (i, (shape, travels)) in
        [("json", json_file.clone()), ("xlsx", xlsx_file.clone()), ("dir", t.path().join("会务包.zip"))]
            .into_iter()
            .enumerate()
    {
        let given = if shape == "dir" { dir_pkg.clone() } else { travels.clone() };
        let replace: &[&str] = if i == 0 { &[] } else { &["--replace"] };
        let mut args = vec!["issue", given.to_str().unwrap()];
        args.extend_from_slice(replace);
        let (code, out, err) = office(&off, &args);
        assert_eq!(code, 0, "{shape}: {out}{err}");
        let sig = PathBuf::from(format!("{}.minisig", travels.display()));
        assert!(sig.is_file(), "{shape}: the signature beside the file that travels");
        if let Some(ok) = minisign_verifies(&travels, &key) {
            assert!(ok, "{shape}: minisign -Vm {} -p office.pub", travels.display());
        }
        let (code, out, err, data) = import_with_key(&travels, &t.path().join(format!("venue-{shape}")), &key);
        assert_eq!(code, 0, "{shape}: {out}{err}");
        assert!(out.contains("职改办签名有效"), "{shape}: {out}");
        let c = rusqlite::Connection::open(data.join("pingshen.db")).unwrap();
        let stored: Option<String> = c.query_row("SELECT office_key_id FROM session", [], |r| r.get(0)).unwrap();
        assert_eq!(stored.as_deref(), Some(id.as_str()), "{shape}: the session records the office key");
    }
    // The same directory zipped again gives the same bytes (and so the same signature holds).
    let first = std::fs::read(t.path().join("会务包.zip")).unwrap();
    pingshen::office::zip_dir(&dir_pkg).unwrap();
    assert_eq!(std::fs::read(t.path().join("会务包.zip")).unwrap(), first, "deterministic zip");
    // A second package for an issued session needs --replace; the registry keeps both.
    let (code, _, err) = office(&off, &["issue", json_file.to_str().unwrap()]);
    assert_eq!(code, 3, "{err}");
    assert!(err.contains("--replace"), "{err}");
    let registry = std::fs::read_to_string(off.join("registry.toml")).unwrap();
    assert_eq!(registry.matches("[[issued]]").count(), 3, "{registry}");
    assert!(registry.contains("replaces = "), "{registry}");

    // Refusals: each with its reason, nothing written.
    let refuse = |name: &str, package: &Path, want: &str| {
        let at = t.path().join(format!("refused-{name}"));
        let (code, out, err, data) = import_with_key(package, &at, &key);
        assert_eq!(code, 2, "{name}: {out}{err}");
        assert!(err.contains(want) && err.contains("未导入任何内容"), "{name}: {err}");
        assert_eq!(sessions(&data), 0, "{name}: nothing written");
    };
    // A byte changed in the workbook after signing (a cell's text in the zip's central record
    // would not reparse: flip one in a string table instead, still a valid workbook or not).
    let tampered = t.path().join("tampered.xlsx");
    let mut bytes = std::fs::read(&xlsx_file).unwrap();
    let at = bytes.len() - 30;
    bytes[at] ^= 0x01;
    std::fs::write(&tampered, &bytes).unwrap();
    std::fs::copy(format!("{}.minisig", xlsx_file.display()), format!("{}.minisig", tampered.display())).unwrap();
    let tampered_json = t.path().join("tampered.json");
    let mut p = example_json();
    p["applicants"][0]["name"] = serde_json::json!("李娜娜");
    std::fs::write(&tampered_json, serde_json::to_vec_pretty(&p).unwrap()).unwrap();
    std::fs::copy(format!("{}.minisig", json_file.display()), format!("{}.minisig", tampered_json.display())).unwrap();
    refuse("altered", &tampered_json, "签名之后被改动");
    let (code, _, err, data) = import_with_key(&tampered, &t.path().join("refused-xlsx"), &key);
    assert_ne!(code, 0, "a flipped byte in the workbook: {err}");
    assert_eq!(sessions(&data), 0);
    // Signed by another office's key.
    let other = t.path().join("other-office");
    assert_eq!(office(&other, &["init"]).0, 0);
    let foreign = t.path().join("foreign.json");
    std::fs::copy(&json_file, &foreign).unwrap();
    let keys = pingshen::sign::load(&other.join("office.key"), &other.join("office.pub")).unwrap().unwrap();
    let bytes = std::fs::read(&foreign).unwrap();
    let sha = pingshen::ids::sha256_hex(&bytes);
    let trusted = pingshen::package::signature::trusted_comment("2026-HN-ZXXJS-01", &sha);
    std::fs::write(format!("{}.minisig", foreign.display()), keys.sign(&bytes, &trusted, "x").unwrap()).unwrap();
    refuse("other key", &foreign, "不是本机登记的职改办密钥");
    // Signed by this office, but for another session.
    let wrong = t.path().join("wrong-session.json");
    std::fs::copy(&json_file, &wrong).unwrap();
    let ours = pingshen::sign::load(&off.join("office.key"), &off.join("office.pub")).unwrap().unwrap();
    let trusted = pingshen::package::signature::trusted_comment("2026-HN-OTHER-09", &sha);
    std::fs::write(format!("{}.minisig", wrong.display()), ours.sign(&bytes, &trusted, "x").unwrap()).unwrap();
    refuse("another session", &wrong, "签名属于另一个会务");
    // No signature at all.
    let bare = t.path().join("bare.json");
    std::fs::copy(&json_file, &bare).unwrap();
    refuse("unsigned", &bare, "没有职改办签名");
}

/// The console's 导入会务包 takes the package and its .minisig in one form when an office key is
/// set; without a key, an import works as before and is marked 来源未验证 on 会务概览, in the
/// minutes and in the bundle (`office_key_id: null`, and `verify` says so).
#[test]
fn the_console_checks_the_signature_and_an_unchecked_import_says_so_everywhere() {
    let t = tempfile::tempdir().unwrap();
    let off = t.path().join("office");
    assert_eq!(office(&off, &["init"]).0, 0);
    let pkg = t.path().join("package.json");
    std::fs::write(&pkg, serde_json::to_vec(&example_json()).unwrap()).unwrap();
    assert_eq!(office(&off, &["issue", pkg.to_str().unwrap()]).0, 0);
    let sig = std::fs::read(t.path().join("package.json.minisig")).unwrap();
    let bytes = std::fs::read(&pkg).unwrap();
    let s = Server::start_with(&[], &format!("office_pubkey = {:?}\n", off.join("office.pub").display().to_string()));
    let admin = s.admin();
    assert!(admin.get("/admin/import").text().contains("必须提供"));
    let r = admin.upload("/admin/import", "package", "package.json", &bytes);
    assert_eq!(r.status, 422, "{}", r.text());
    assert!(r.text().contains("没有职改办签名"), "{}", r.text());
    assert!(!admin.get("/admin").text().contains("2026-HN-ZXXJS-01"), "nothing imported");
    let r = upload_two(&admin, &bytes, &sig);
    assert_eq!(r.status, 200, "{}", r.text());
    let overview = admin.get("/admin").text();
    assert!(overview.contains("已验证") && overview.contains(&office_key_id(&off)), "{overview}");

    // No office key: imported, and marked 来源未验证 through to the bundle.
    let v = Venue::new(&example_json());
    assert!(v.admin.get("/admin").text().contains("来源未验证"));
    play_example_to_report(&v);
    assert!(v.login("E101").get("/minutes").text().contains("来源未验证"));
    let files = pingshen::bundle::verify::read_bundle(&v.s.data.join("2026-HN-ZXXJS-01-result.zip")).unwrap();
    let m: serde_json::Value = serde_json::from_slice(&files["manifest.json"]).unwrap();
    assert_eq!(m["format"], "pingshen-bundle/3");
    assert!(m.as_object().unwrap().contains_key("office_key_id") && m["office_key_id"].is_null(), "{m}");
    let (code, out, err) = run(&[
        "verify",
        v.s.data.join("2026-HN-ZXXJS-01-result.zip").to_str().unwrap(),
        "--pubkey",
        v.s.data.join("appliance.pub").to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("origin was NOT verified"), "{out}");
}

/// A multipart form with the package and its signature, as the console's form sends them.
fn upload_two(c: &Client, package: &[u8], sig: &[u8]) -> Resp {
    let boundary = "----pingshen-office-test";
    let mut body = Vec::new();
    body.extend_from_slice(
        format!("--{boundary}\r\nContent-Disposition: form-data; name=\"_csrf\"\r\n\r\n{}\r\n", c.token()).as_bytes(),
    );
    for (name, file, data) in [("package", "package.json", package), ("signature", "package.json.minisig", sig)] {
        body.extend_from_slice(
            format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"; filename=\"{file}\"\r\nContent-Type: application/octet-stream\r\n\r\n"
            )
            .as_bytes(),
        );
        body.extend_from_slice(data);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    c.post_bytes("/admin/import", &format!("multipart/form-data; boundary={boundary}"), &body)
}

/// One session of the season: the example renamed (`id`, applicant letter), issued by the office
/// (or not), played to its report on its own appliance; its appliance key registered. Returns
/// the venue (kept alive for its data dir) and its bundle.
fn season_session(off: &Path, work: &Path, id: &str, letter: &str, issue: bool) -> (Venue, PathBuf) {
    let p = renamed_example(id, letter);
    let file = work.join(format!("{id}.json"));
    let bytes = serde_json::to_vec(&p).unwrap();
    std::fs::write(&file, &bytes).unwrap();
    if issue {
        let (code, out, err) = office(off, &["issue", file.to_str().unwrap()]);
        assert_eq!(code, 0, "{out}{err}");
    }
    let v = Venue::with_package(&p, "package.json", &bytes, "");
    play_example_to_report_with(&v, letter);
    if issue {
        let key = v.s.data.join("appliance.pub");
        let (code, out, err) = office(off, &["register", id, "--pubkey", key.to_str().unwrap()]);
        assert_eq!(code, 0, "{out}{err}");
    }
    let zip = v.s.data.join(format!("{id}-result.zip"));
    assert!(zip.is_file());
    (v, zip)
}

fn ingest(off: &Path, inputs: &[&Path], out: &Path) -> (i32, String) {
    let mut args = vec!["office", "ingest"];
    args.extend(inputs.iter().map(|p| p.to_str().unwrap()));
    args.extend_from_slice(&["--dir", off.to_str().unwrap(), "--out", out.to_str().unwrap()]);
    let (code, stdout, err) = run(&args);
    (code, format!("{stdout}{err}"))
}

/// The sheet's rows as text, header first.
fn sheet_rows(xlsx: &Path, sheet: &str) -> Vec<Vec<String>> {
    use calamine::Reader;
    let mut wb: calamine::Xlsx<_> = calamine::open_workbook(xlsx).unwrap();
    let range = wb.worksheet_range(sheet).unwrap();
    range.rows().map(|r| r.iter().map(|c| c.to_string()).collect()).collect()
}

/// A season at the office (issue 29): bundles of several sessions checked at once with their
/// registered keys; all clean → exit 0 and the workbook's figures are each bundle's own; then
/// one each of: tampered and re-signed with another key, a rehearsal bundle, a bundle of a
/// package never issued, an issued session with no bundle, a session twice with different
/// content, an applicant in two sessions — each named on its line and in 问题, the rest merged.
#[test]
fn a_season_of_bundles_is_checked_at_once() {
    let t = tempfile::tempdir().unwrap();
    let off = t.path().join("office");
    assert_eq!(office(&off, &["init"]).0, 0);
    let (v1, b1) = season_session(&off, t.path(), "2026-S1", "A", true);
    let (v2, b2) = season_session(&off, t.path(), "2026-S2", "B", true);
    let season = t.path().join("season");
    std::fs::create_dir_all(&season).unwrap();
    for b in [&b1, &b2] {
        std::fs::copy(b, season.join(b.file_name().unwrap())).unwrap();
    }
    // Registering from the handover record reads the same key (its signature checked).
    let stick = t.path().join("stick");
    std::fs::create_dir_all(&stick).unwrap();
    let (data, config) = (v1.s.data.to_str().unwrap().to_string(), v1.s.config.to_str().unwrap().to_string());
    let (code, out, err) =
        run(&["handover", "--data", &data, "--config", &config, "--copy-to", stick.to_str().unwrap()]);
    assert_eq!(code, 0, "{out}{err}");
    let record = v1.s.data.join("handover-record.txt");
    let (code, out, err) = office(&off, &["register", "2026-S1", "--from", record.to_str().unwrap()]);
    assert_eq!(code, 0, "{out}{err}");
    let (code, _, err) = office(&off, &["register", "2026-S2", "--from", record.to_str().unwrap()]);
    assert_ne!(code, 0, "a record of another session is refused");
    assert!(err.contains("2026-S1"), "{err}");
    let out1 = t.path().join("season-1.xlsx");
    let (code, out) = ingest(&off, &[&season], &out1);
    assert_eq!(code, 0, "{out}");
    assert_eq!(out.matches("通过  ").count(), 2, "{out}");
    // The workbook's figures are the bundles' own.
    let rows = sheet_rows(&out1, "申报人");
    assert_eq!(rows.len(), 1 + 8, "two sessions of four applicants: {rows:?}");
    for (v, id) in [(&v1, "2026-S1"), (&v2, "2026-S2")] {
        let files = crate::bundle::unzip(&v.s.data.join(format!("{id}-result.zip")));
        let r: serde_json::Value = serde_json::from_slice(&files["results.json"]).unwrap();
        for a in r["applicants"].as_array().unwrap() {
            let row = rows.iter().find(|row| row[0] == id && row[4] == a["code"].as_str().unwrap()).unwrap();
            assert_eq!(row[5], a["name"].as_str().unwrap());
            if let Some(c) = a["committee_result"].as_object() {
                assert_eq!(row[12], c["agree"].to_string(), "{id} {row:?}");
                assert_eq!(row[16], c["needed"].to_string(), "{id} {row:?}");
            }
        }
    }
    // The same input, the same bytes.
    let out2 = t.path().join("season-2.xlsx");
    assert_eq!(ingest(&off, &[&season], &out2).0, 0);
    assert_eq!(std::fs::read(&out1).unwrap(), std::fs::read(&out2).unwrap(), "byte-identical workbook");

    // The troubles of a real season.
    let (v3, b3) = season_session(&off, t.path(), "2026-S3", "C", true); // tampered, re-signed by S2's key
    let mut files = crate::bundle::unzip(&b3);
    let mut r: serde_json::Value = serde_json::from_slice(&files["results.json"]).unwrap();
    r["applicants"][0]["committee_result"]["opinion"] = serde_json::json!("改过的评议");
    files.insert("results.json".into(), serde_json::to_vec_pretty(&r).unwrap());
    // The forger puts their own key in the manifest, so the signature itself checks.
    let forger = pingshen::bundle::key::load(&v2.s.data).unwrap().unwrap();
    let mut m: serde_json::Value = serde_json::from_slice(&files["manifest.json"]).unwrap();
    m["public_key"] = serde_json::json!(forger.public_base64());
    m["key_id"] = serde_json::json!(forger.id());
    files.insert("manifest.json".into(), serde_json::to_vec_pretty(&m).unwrap());
    crate::bundle::reseal(&mut files, Some(&v2.s.data));
    crate::bundle::write_dir(&season.join("2026-S3-result"), &files);
    let (v4, b4) = season_session(&off, t.path(), "2026-S4", "D", true); // marked as a rehearsal
    let mut files = crate::bundle::unzip(&b4);
    let mut m: serde_json::Value = serde_json::from_slice(&files["manifest.json"]).unwrap();
    m["rehearsal"] = serde_json::json!(true);
    files.insert("manifest.json".into(), serde_json::to_vec_pretty(&m).unwrap());
    crate::bundle::reseal(&mut files, Some(&v4.s.data));
    crate::bundle::write_dir(&season.join("2026-S4-result"), &files);
    let (_v5, b5) = season_session(&off, t.path(), "2026-S5", "E", false); // never issued
    std::fs::copy(&b5, season.join("2026-S5-result.zip")).unwrap();
    let never = t.path().join("2026-S6.json"); // issued, never answered
    std::fs::write(&never, serde_json::to_vec(&renamed_example("2026-S6", "F")).unwrap()).unwrap();
    assert_eq!(office(&off, &["issue", never.to_str().unwrap()]).0, 0);
    let mut files = crate::bundle::unzip(&b2); // S2 again, different content, its own key
    let mut r: serde_json::Value = serde_json::from_slice(&files["results.json"]).unwrap();
    r["applicants"][0]["committee_result"]["opinion"] = serde_json::json!("另一份");
    files.insert("results.json".into(), serde_json::to_vec_pretty(&r).unwrap());
    crate::bundle::reseal(&mut files, Some(&v2.s.data));
    crate::bundle::write_dir(&season.join("2026-S2-again"), &files);
    let (_v7, b7) = season_session(&off, t.path(), "2026-S7", "A", true); // S1's applicant codes
    std::fs::copy(&b7, season.join("2026-S7-result.zip")).unwrap();
    let (_v8, b8) = season_session(&off, t.path(), "2026-S8", "H", true); // clean
    std::fs::copy(&b8, season.join("2026-S8-result.zip")).unwrap();
    drop(v3);

    let out3 = t.path().join("season-3.xlsx");
    let (code, out) = ingest(&off, &[&season], &out3);
    assert_eq!(code, 1, "{out}");
    let line = |name: &str| {
        out.lines().find(|l| l.contains(name)).unwrap_or_else(|| panic!("no line for {name}:\n{out}")).to_string()
    };
    assert!(line("2026-S3-result").contains("pinned key"), "{out}");
    assert!(line("2026-S4-result").contains("彩排"), "{out}");
    assert!(line("2026-S5-result").contains("不是本办签发"), "{out}");
    assert!(line("2026-S6").starts_with("缺失") && line("2026-S6").contains("未收到"), "{out}");
    assert!(line("2026-S2-again").contains("内容不同"), "{out}");
    assert!(line("2026-S2-result").contains("内容不同"), "{out}");
    assert!(line("2026-S7-result").contains("两个会务") && line("2026-S1-result").contains("两个会务"), "{out}");
    assert!(line("2026-S8-result").starts_with("通过"), "{out}");
    let problems = sheet_rows(&out3, "问题");
    for want in ["2026-S3-result", "2026-S4-result", "2026-S5-result", "2026-S6", "2026-S2-again", "2026-S7-result"] {
        assert!(problems.iter().any(|r| r[0].contains(want)), "问题 lacks {want}: {problems:?}");
    }
    let rows = sheet_rows(&out3, "申报人");
    assert!(rows[1..].iter().all(|r| r[0] == "2026-S8") && rows.len() == 5, "only the clean bundle merged: {rows:?}");
}

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

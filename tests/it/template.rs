//! The office's package workbook (issue 30): `pingshen office template` blank and `--from` a
//! package; what it holds (headers exactly as PACKAGE.md, frozen, a note on each; drop-downs
//! built from the importer's own lists; text formats); LibreOffice opening it, round-tripping it
//! through .ods with its validations, and a person *typing* the example into it — leading zeros,
//! 18-digit ID numbers, `2/3` and `1986-05` all stay as typed — after which importing it gives
//! exactly the session the JSON gives. `import --check` ends with the console's words.

use crate::common::*;
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::process::Command;

/// The headers of each sheet, copied from PACKAGE.md (not from the code under test).
const SHEETS: &[(&str, &[&str])] = &[
    ("评审会", &["项目", "值", "说明"]),
    ("专业组", &["组编号", "组名", "组长编号"]),
    (
        "专家",
        &[
            "编号",
            "姓名",
            "性别",
            "手机号码",
            "证件号",
            "工作单位",
            "专业技术职务",
            "专业技术职务等级",
            "推荐专业",
            "专业组编号",
            "评委",
            "主任",
            "上报人",
        ],
    ),
    (
        "申报人",
        &[
            "编号",
            "姓名",
            "推荐单位",
            "申报系列",
            "申报专业",
            "申报职称",
            "评审类型",
            "专业组编号",
            "面试顺序",
            "考场号",
            "讲课题目",
            "章节",
            "教材版本",
            "材料",
        ],
    ),
    ("回避", &["专家编号", "申报人编号", "原因"]),
];

fn template(out: &Path, from: Option<&Path>) -> (i32, String, String) {
    let mut args = vec!["office", "template", "--out", out.to_str().unwrap()];
    if let Some(f) = from {
        args.extend(["--from", f.to_str().unwrap()]);
    }
    run(&args)
}

/// Imports a package into a fresh data dir; panics with the importer's words when refused.
fn import_fresh(package: &Path, at: &Path) -> PathBuf {
    let data = at.join("data");
    let cfg = write_config(at, "");
    let (code, out, err) = run(&[
        "import",
        package.to_str().unwrap(),
        "--data",
        data.to_str().unwrap(),
        "--config",
        cfg.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "import {}: {out}\n{err}", package.display());
    data
}

/// Everything an import writes that describes the session — people, applicants, committee,
/// recusals, materials, the first rounds and their voters, the accounts — as text, leaving out
/// only what differs by nature between two imports (times, the source file's name and hash,
/// random usernames and password hashes).
fn dump(data: &Path) -> String {
    let c = rusqlite::Connection::open(data.join("pingshen.db")).unwrap();
    let skip = |col: &str| {
        col.ends_with("_at") || ["password_hash", "package_sha256", "package_source", "username"].contains(&col)
    };
    let mut out = String::new();
    for table in [
        "session",
        "groups",
        "experts",
        "committee",
        "applicants",
        "recusals",
        "materials",
        "votes",
        "vote_applicants",
        "vote_voters",
        "accounts",
        "attendance",
    ] {
        let cols: Vec<String> = c
            .prepare(&format!("PRAGMA table_info({table})"))
            .unwrap()
            .query_map([], |r| r.get::<_, String>(1))
            .unwrap()
            .map(Result::unwrap)
            // PACKAGE.md's Excel shape marks members 是 in the 专家 rows and has no column for
            // the committee's own order: a workbook lists the committee in the experts' order
            // (so does the spec's example.xlsx). Membership, chair and reporter must match.
            .filter(|n| !(skip(n) || (table == "committee" && n == "ord")))
            .collect();
        assert!(!cols.is_empty(), "{table}");
        let order = if table == "committee" { "expert_code" } else { "rowid" };
        let sql = format!("SELECT {} FROM {table} ORDER BY {order}", cols.join(", "));
        let mut st = c.prepare(&sql).unwrap();
        let rows: Vec<String> = st
            .query_map([], |r| {
                Ok((0..cols.len())
                    .map(|i| match r.get_ref(i).unwrap() {
                        rusqlite::types::ValueRef::Text(t) => String::from_utf8_lossy(t).into_owned(),
                        other => format!("{other:?}"),
                    })
                    .collect::<Vec<_>>()
                    .join(" | "))
            })
            .unwrap()
            .map(Result::unwrap)
            .collect();
        out.push_str(&format!("## {table} ({})\n{}\n", cols.join(", "), rows.join("\n")));
    }
    out
}

/// Two dumps are equal; otherwise the lines that differ, side by side.
fn same(json: &str, other: &str, what: &str) {
    let (a, b): (Vec<&str>, Vec<&str>) = (json.lines().collect(), other.lines().collect());
    let diff: Vec<String> =
        a.iter().zip(&b).filter(|(x, y)| x != y).map(|(x, y)| format!("json: {x}\nxlsx: {y}")).collect();
    assert!(diff.is_empty() && a.len() == b.len(), "{what}: {} lines differ\n{}", diff.len(), diff.join("\n"));
}

/// The example with what a workbook must keep: a code of digits (007), an 18-digit ID number, a
/// phone number with a leading zero, extra keys on a group and an expert, a further session
/// setting, and a material.
fn rich_example(dir: &Path) -> PathBuf {
    // A group code of digits with a leading zero: typed into a code column it must stay "007".
    let mut p: Value = serde_json::from_str(&example_json().to_string().replace("\"G02\"", "\"007\"")).unwrap();
    p["experts"][0]["id_number"] = json!("410108199003077123");
    p["experts"][1]["phone"] = json!("01088886666");
    p["groups"][0]["会议室"] = json!("302");
    p["experts"][2]["银行卡号"] = json!("6222020200112233445");
    p["session"]["评审地点"] = json!("郑州");
    p["applicants"][0]["materials"] = json!(["materials/A0001/申报表.pdf", "materials/A0001/论文.pdf"]);
    std::fs::create_dir_all(dir.join("materials/A0001")).unwrap();
    std::fs::write(dir.join("materials/A0001/申报表.pdf"), b"%PDF-1.4 form").unwrap();
    std::fs::write(dir.join("materials/A0001/论文.pdf"), b"%PDF-1.4 paper").unwrap();
    let path = dir.join("package.json");
    std::fs::write(&path, serde_json::to_vec_pretty(&p).unwrap()).unwrap();
    path
}

/// One part of a zip (an xlsx) as text.
fn part(xlsx: &Path, name: &str) -> String {
    let mut z = zip::ZipArchive::new(std::fs::File::open(xlsx).unwrap()).unwrap();
    let mut s = String::new();
    std::io::Read::read_to_string(&mut z.by_name(name).unwrap(), &mut s).unwrap();
    s
}

/// The worksheet part of each named sheet (workbook.xml order = sheetN.xml order here).
fn sheet_parts(xlsx: &Path) -> Vec<(String, String)> {
    let wb = part(xlsx, "xl/workbook.xml");
    let names: Vec<String> = wb
        .split("<sheet ")
        .skip(1)
        .map(|s| s.split("name=\"").nth(1).unwrap().split('"').next().unwrap().to_string())
        .collect();
    names.into_iter().enumerate().map(|(i, n)| (n, part(xlsx, &format!("xl/worksheets/sheet{}.xml", i + 1)))).collect()
}

/// Each data validation of a sheet: (first column letter, type, error style, list or bounds).
fn validations(sheet_xml: &str) -> Vec<(String, String, String, String)> {
    let attr = |el: &str, name: &str| {
        el.split(&format!(" {name}=\"")).nth(1).map(|s| s.split('"').next().unwrap().to_string()).unwrap_or_default()
    };
    let mut out: Vec<_> = sheet_xml
        .split("<dataValidation ")
        .skip(1)
        .map(|el| {
            let el = format!(" {}", el.split("</dataValidation>").next().unwrap());
            let el = el.as_str();
            let sqref = attr(el, "sqref");
            let col: String = sqref.chars().take_while(|c| c.is_ascii_alphabetic()).collect();
            let f1 = el.split("<formula1>").nth(1).map(|s| s.split("</formula1>").next().unwrap()).unwrap_or("");
            let style = match attr(el, "errorStyle").as_str() {
                "" => "stop".to_string(),
                s => s.to_string(),
            };
            (col, attr(el, "type"), style, f1.replace("&quot;", "\""))
        })
        .collect();
    out.sort();
    out
}

/// The last row each validation of a sheet reaches.
fn validation_rows(sheet_xml: &str) -> Vec<u32> {
    sheet_xml
        .split("<dataValidation ")
        .skip(1)
        .filter_map(|el| el.split(" sqref=\"").nth(1))
        .map(|s| {
            let r = s.split('"').next().unwrap();
            r.rsplit(':').next().unwrap().trim_start_matches(|c: char| c.is_ascii_alphabetic()).parse().unwrap()
        })
        .collect()
}

/// The header cells of row 1 of a sheet, as read by the importer's own reader (calamine).
fn header_row(xlsx: &Path, sheet: &str) -> Vec<String> {
    use calamine::Reader;
    let mut wb = calamine::open_workbook_auto(xlsx).unwrap();
    let range = wb.worksheet_range(sheet).unwrap();
    range.rows().next().unwrap().iter().map(|d| d.to_string()).take_while(|s| !s.is_empty()).collect()
}

#[test]
fn the_blank_workbook_has_the_sheets_headers_lists_and_text_formats_the_importer_expects() {
    let t = tempfile::tempdir().unwrap();
    let out = t.path().join("会务包.xlsx");
    let (code, stdout, err) = template(&out, None);
    assert_eq!(code, 0, "{stdout}{err}");
    assert!(stdout.contains("pingshen import --check"), "{stdout}");

    // Sheets in order: the guide first (the sheet a new user sees), the examples last.
    let parts = sheet_parts(&out);
    let names: Vec<&str> = parts.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, ["说明", "评审会", "专业组", "专家", "申报人", "回避", "示例"]);
    for (sheet, headers) in SHEETS {
        assert_eq!(header_row(&out, sheet), *headers, "{sheet}");
        let xml = &parts.iter().find(|(n, _)| n == sheet).unwrap().1;
        assert!(xml.contains("ySplit=\"1\"") && xml.contains("state=\"frozen\""), "{sheet}: header frozen");
        assert!(xml.contains("<legacyDrawing"), "{sheet}: header notes");
    }
    // 评审会 lists every setting, the defaults filled in and the required ones blank.
    {
        use calamine::Reader;
        let mut wb = calamine::open_workbook_auto(&out).unwrap();
        let r = wb.worksheet_range("评审会").unwrap();
        let rows: Vec<(String, String)> = r
            .rows()
            .skip(1)
            .map(|row| (row[0].to_string(), row.get(1).map(|d| d.to_string()).unwrap_or_default()))
            .collect();
        let expect = [
            ("编号", ""),
            ("名称", ""),
            ("评委会", ""),
            ("评审模式", ""),
            ("通过比例", "2/3"),
            ("出席比例", "2/3"),
            ("专业组通过规则", "过半数"),
            ("计分规则", "平均分"),
            ("回避者计入出席", "否"),
            ("盲评", "否"),
        ];
        assert_eq!(rows, expect.map(|(a, b)| (a.to_string(), b.to_string())));
    }

    // The drop-downs are the importer's own lists (one list in the code, used by both).
    let list = |choices: Vec<String>| format!("\"{}\"", choices.join(","));
    use pingshen::package::columns::Kind;
    let v = |sheet: &str| validations(&parts.iter().find(|(n, _)| n == sheet).unwrap().1);
    let experts = v("专家");
    for (col, kind) in [("C", Kind::Gender), ("K", Kind::YesNo), ("L", Kind::YesNo), ("M", Kind::YesNo)] {
        assert!(
            experts.contains(&(col.into(), "list".into(), "stop".into(), list(kind.choices()))),
            "专家!{col}: {experts:?}"
        );
    }
    for col in ["A", "J"] {
        assert!(experts.iter().any(|(c, ty, _, f)| c == col && ty == "textLength" && f == "1"), "专家!{col} length");
    }
    let session = v("评审会");
    assert!(session.contains(&("B".into(), "list".into(), "stop".into(), list(Kind::Mode.choices()))));
    assert!(session.contains(&("B".into(), "list".into(), "stop".into(), list(Kind::ScoreRule.choices()))));
    assert!(session.contains(&("B".into(), "list".into(), "warning".into(), list(Kind::GroupRule.choices()))));
    assert_eq!(Kind::Mode.choices(), ["专家评审", "专家评审+讲课答辩", "专家答辩+面试答辩"], "PACKAGE.md's labels");
    assert!(v("申报人").iter().any(|(c, ty, _, _)| c == "I" && ty == "whole"), "面试顺序 whole numbers");
    assert!(v("回避").iter().filter(|(_, ty, _, _)| ty == "textLength").count() == 2);
    // Validations reach a venue-size session's rows.
    assert!(validation_rows(&parts[4].1).iter().all(|r| *r >= 20_001), "{:?}", validation_rows(&parts[4].1));

    // Code, phone and ID columns are text-formatted (`@`), as is 评审会's 值 column.
    let styles = part(&out, "xl/styles.xml");
    let text_fmt_ids: Vec<String> = styles
        .split("<numFmt ")
        .skip(1)
        .filter(|s| s.contains("formatCode=\"@\""))
        .map(|s| s.split("numFmtId=\"").nth(1).unwrap().split('"').next().unwrap().to_string())
        .chain(["49".to_string()])
        .collect();
    let xfs: Vec<String> = styles
        .split("<cellXfs")
        .nth(1)
        .unwrap()
        .split("</cellXfs>")
        .next()
        .unwrap()
        .split("<xf ")
        .skip(1)
        .map(|x| x.split("numFmtId=\"").nth(1).unwrap().split('"').next().unwrap().to_string())
        .collect();
    let col_is_text = |xml: &str, col: u32| {
        xml.split("<col ").skip(1).any(|c| {
            let n = |a: &str| {
                c.split(&format!("{a}=\"")).nth(1).unwrap().split('"').next().unwrap().parse::<u32>().unwrap()
            };
            let style = c.split("style=\"").nth(1).map(|s| s.split('"').next().unwrap().parse::<usize>().unwrap());
            n("min") <= col && col <= n("max") && style.is_some_and(|s| text_fmt_ids.contains(&xfs[s]))
        })
    };
    let sheet = |n: &str| parts.iter().find(|(name, _)| name == n).unwrap().1.clone();
    for (s, cols) in
        [("评审会", vec![2]), ("专业组", vec![1, 3]), ("专家", vec![1, 4, 5, 10]), ("申报人", vec![1, 8, 14, 15, 20])]
    {
        for c in cols {
            assert!(col_is_text(&sheet(s), c), "{s} column {c} is text");
        }
    }
    assert!(!col_is_text(&sheet("申报人"), 9), "面试顺序 stays a number column");

    // The blank workbook checks as a clerk would see it: every missing thing named, then the
    // one-line verdict.
    let (code, _, err) = run(&["import", out.to_str().unwrap(), "--check"]);
    assert_eq!(code, 2);
    let lines: Vec<&str> = err.lines().collect();
    let problems = lines.iter().filter(|l| l.starts_with("  - ")).count();
    assert!(problems >= 4 && err.contains("评审会!B2: 缺少「编号」"), "{err}");
    assert_eq!(*lines.last().unwrap(), format!("共 {problems} 个问题，未导入任何内容"));

    // Never over a clerk's filled-in file.
    let before = std::fs::read(&out).unwrap();
    let (code, _, err) = template(&out, None);
    assert_eq!(code, 3, "{err}");
    assert!(err.contains("已存在，未覆盖"), "{err}");
    assert_eq!(std::fs::read(&out).unwrap(), before);
}

#[test]
fn a_package_written_into_the_workbook_imports_as_the_same_session() {
    let t = tempfile::tempdir().unwrap();
    // The spec's example as it is, and a richer variant with extras, materials and digits.
    let example = t.path().join("example/package.json");
    std::fs::create_dir_all(example.parent().unwrap()).unwrap();
    std::fs::copy(example_dir().join("package.json"), &example).unwrap();
    for (name, src) in [("example", example), ("rich", rich_example(&t.path().join("rich")))] {
        let dir = src.parent().unwrap();
        let xlsx = dir.join(format!("{name}-from.xlsx"));
        let (code, out, err) = template(&xlsx, Some(&src));
        assert_eq!(code, 0, "{out}{err}");
        assert!(!out.contains("提示"), "nothing of {name} is left behind: {out}");
        let (code, out, err) = run(&["import", xlsx.to_str().unwrap(), "--check"]);
        assert_eq!(code, 0, "{out}{err}");
        assert!(out.trim_end().ends_with("检查通过：2 个专业组、9 名专家、4 名申报人"), "{out}");
        let from_json = dump(&import_fresh(&src, &t.path().join(format!("{name}-j"))));
        let from_xlsx = dump(&import_fresh(&xlsx, &t.path().join(format!("{name}-x"))));
        same(&from_json, &from_xlsx, name);
        if name == "rich" {
            for kept in ["410108199003077123", "01088886666", "会议室", "6222020200112233445", "评审地点", "论文.pdf"]
            {
                assert!(from_xlsx.contains(kept), "{kept} kept");
            }
        }
    }

    // What a workbook has no place for is said, not dropped silently.
    let mut p = example_json();
    p["exported_by"] = json!("人事系统");
    p["applicants"][1]["内部编号"] = json!("HR-7");
    let src = t.path().join("odd.json");
    std::fs::write(&src, serde_json::to_vec(&p).unwrap()).unwrap();
    let (code, out, err) = template(&t.path().join("odd.xlsx"), Some(&src));
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("「exported_by」") && out.contains("未写入"), "{out}");
    assert!(out.contains("「内部编号」") && out.contains("申报人详情"), "{out}");

    // A package with problems is not converted: the problems and the verdict, no file.
    let mut bad = example_json();
    bad["groups"][0]["leader"] = json!("E999");
    std::fs::write(t.path().join("bad.json"), serde_json::to_vec(&bad).unwrap()).unwrap();
    let (code, _, err) = template(&t.path().join("bad.xlsx"), Some(&t.path().join("bad.json")));
    assert_eq!(code, 2);
    assert!(err.contains("groups[0].leader") && err.contains("共 1 个问题"), "{err}");
    assert!(!t.path().join("bad.xlsx").exists());
}

/// LibreOffice here: the tests run it under CI (`.ci/run` installs it); elsewhere they skip.
fn libreoffice() -> bool {
    let ok = Command::new("soffice").arg("--version").output().is_ok_and(|o| o.status.success());
    if !ok && std::env::var("CI").is_ok_and(|v| v == "true") {
        panic!("LibreOffice (soffice) missing under CI");
    }
    ok
}

/// `soffice --convert-to`, in a profile of its own (tests run in parallel).
fn convert(file: &Path, to: &str, outdir: &Path) -> PathBuf {
    let profile = tempfile::tempdir().unwrap();
    let st = Command::new("soffice")
        .arg(format!("-env:UserInstallation=file://{}", profile.path().display()))
        .args(["--headless", "--convert-to", to, "--outdir"])
        .arg(outdir)
        .arg(file)
        .output()
        .unwrap();
    assert!(st.status.success(), "{}", String::from_utf8_lossy(&st.stderr));
    let ext = to.split(':').next().unwrap();
    let out = outdir.join(Path::new(file.file_name().unwrap()).with_extension(ext));
    assert!(out.exists(), "{} → {ext}: {}", file.display(), String::from_utf8_lossy(&st.stdout));
    out
}

/// The cells a clerk types into the blank workbook to enter `p`: (sheet, row, column, text),
/// 0-based, in PACKAGE.md's column order.
fn typed_cells(p: &Value) -> Vec<(String, u32, u32, String)> {
    let s = |v: &Value| match v {
        Value::Null => String::new(),
        Value::String(x) => x.clone(),
        other => other.to_string(),
    };
    let yes = |b: bool| if b { "是" } else { "否" }.to_string();
    let mut cells = Vec::new();
    let mut put = |sheet: &str, r: u32, c: u32, text: String| {
        if !text.is_empty() {
            cells.push((sheet.to_string(), r, c, text));
        }
    };
    let se = &p["session"];
    let mode = pingshen::rules::Mode::parse(se["mode"].as_str().unwrap()).unwrap().label().to_string();
    let rule = match se["group_pass_rule"].as_str().unwrap() {
        "more_than_half" => "过半数".to_string(),
        other => other.to_string(),
    };
    let score = if se["score_rule"] == "mean" { "平均分" } else { "去掉最高最低分" };
    for (i, v) in [
        s(&se["id"]),
        s(&se["name"]),
        s(&se["committee"]),
        mode,
        s(&se["committee_pass_ratio"]),
        s(&se["quorum_ratio"]),
        rule,
        score.to_string(),
        yes(se["recused_count_as_present"].as_bool().unwrap()),
        yes(se["blind"].as_bool().unwrap()),
    ]
    .into_iter()
    .enumerate()
    {
        put("评审会", i as u32 + 1, 1, v);
    }
    for (r, g) in p["groups"].as_array().unwrap().iter().enumerate() {
        for (c, k) in ["code", "name", "leader"].iter().enumerate() {
            put("专业组", r as u32 + 1, c as u32, s(&g[k]));
        }
    }
    let committee = &p["committee"];
    for (r, e) in p["experts"].as_array().unwrap().iter().enumerate() {
        let code = e["code"].as_str().unwrap();
        let member = committee["members"].as_array().unwrap().iter().any(|m| m == code);
        let mut row: Vec<String> =
            ["code", "name", "gender", "phone", "id_number", "unit", "title", "title_level", "specialty", "group"]
                .iter()
                .map(|k| s(&e[k]))
                .collect();
        row.extend([yes(member), yes(committee["chair"] == code), yes(committee["reporter"] == code)]);
        for (c, v) in row.into_iter().enumerate() {
            put("专家", r as u32 + 1, c as u32, v);
        }
    }
    let mut detail_keys: Vec<String> = Vec::new();
    for a in p["applicants"].as_array().unwrap() {
        for k in a["details"].as_object().unwrap().keys() {
            if !detail_keys.contains(k) {
                detail_keys.push(k.clone());
            }
        }
    }
    for (j, k) in detail_keys.iter().enumerate() {
        put("申报人", 0, 14 + j as u32, k.clone());
    }
    for (r, a) in p["applicants"].as_array().unwrap().iter().enumerate() {
        let l = &a["lecture"];
        let mut row: Vec<String> = ["code", "name", "unit", "series", "specialty", "title", "review_type", "group"]
            .iter()
            .map(|k| s(&a[k]))
            .collect();
        row.extend(["order", "room", "topic", "chapter", "textbook"].iter().map(|k| s(&l[k])));
        row.push(a["materials"].as_array().unwrap().iter().map(|m| m.as_str().unwrap()).collect::<Vec<_>>().join(";"));
        row.extend(detail_keys.iter().map(|k| s(&a["details"][k])));
        for (c, v) in row.into_iter().enumerate() {
            put("申报人", r as u32 + 1, c as u32, v);
        }
    }
    for (r, x) in p["recusals"].as_array().unwrap().iter().enumerate() {
        for (c, k) in ["expert", "applicant", "reason"].iter().enumerate() {
            put("回避", r as u32 + 1, c as u32, s(&x[k]));
        }
    }
    cells
}

/// Types cells into a workbook in LibreOffice (through its input line, as a person types, so
/// the cells' formats decide what a typed value becomes) and saves it as xlsx.
fn type_into(workbook: &Path, cells: &[(String, u32, u32, String)], out: &Path) {
    let mut by_sheet: serde_json::Map<String, Value> = serde_json::Map::new();
    for (sheet, r, c, text) in cells {
        by_sheet.entry(sheet.clone()).or_insert_with(|| json!([])).as_array_mut().unwrap().push(json!([r, c, text]));
    }
    let spec = out.with_extension("cells.json");
    std::fs::write(&spec, serde_json::to_vec(&by_sheet).unwrap()).unwrap();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/it/lo_type.py");
    // Debian's python3, which has LibreOffice's `uno` module (python3-uno).
    let st = Command::new("/usr/bin/python3").arg(script).arg(workbook).arg(out).arg(&spec).output().unwrap();
    assert!(
        st.status.success() && out.exists(),
        "{}{}",
        String::from_utf8_lossy(&st.stdout),
        String::from_utf8_lossy(&st.stderr)
    );
}

#[test]
fn libreoffice_keeps_the_workbooks_rules_and_what_a_clerk_types_imports_exactly() {
    if !libreoffice() {
        return;
    }
    let t = tempfile::tempdir().unwrap();
    let blank = t.path().join("会务包.xlsx");
    assert_eq!(template(&blank, None).0, 0);

    // Through .ods and back: the same validations on every sheet (LibreOffice writes empty
    // rows only up to row 1,001 when it saves an xlsx, so the ranges are compared by column).
    let ods = convert(&blank, "ods", t.path());
    let back_dir = t.path().join("back");
    let back = convert(&ods, "xlsx:Calc MS Excel 2007 XML", &back_dir);
    let (a, b) = (sheet_parts(&blank), sheet_parts(&back));
    assert_eq!(a.iter().map(|(n, _)| n).collect::<Vec<_>>(), b.iter().map(|(n, _)| n).collect::<Vec<_>>());
    for ((name, x), (_, y)) in a.iter().zip(&b) {
        assert_eq!(validations(x), validations(y), "{name}");
        if name != "评审会" {
            assert!(validation_rows(y).iter().all(|r| *r >= 1001), "{name}: {:?}", validation_rows(y));
        }
    }

    // A clerk types the (rich) example into the round-tripped blank workbook: the result
    // imports exactly as the JSON does — so the text formats survived too, or the ID number's
    // 18 digits, the phone's leading 0 and 2/3 would have become numbers and dates (the
    // control below shows they do in a cell without them).
    let rich_dir = t.path().join("rich");
    let json_path = rich_example(&rich_dir);
    let p: Value = serde_json::from_slice(&std::fs::read(&json_path).unwrap()).unwrap();
    let mut cells = typed_cells(&p);
    // The rich example's extra columns and rows, typed too.
    cells.push(("专业组".into(), 0, 3, "会议室".into()));
    cells.push(("专业组".into(), 1, 3, "302".into()));
    cells.push(("专家".into(), 0, 13, "银行卡号".into()));
    cells.push(("专家".into(), 3, 13, "6222020200112233445".into()));
    cells.push(("评审会".into(), 11, 0, "评审地点".into()));
    cells.push(("评审会".into(), 11, 1, "郑州".into()));
    let typed = rich_dir.join("typed.xlsx");
    type_into(&back, &cells, &typed);
    let (code, out, err) = run(&["import", typed.to_str().unwrap(), "--check"]);
    assert_eq!(code, 0, "{out}{err}");
    let from_json = dump(&import_fresh(&json_path, &t.path().join("j")));
    let from_typed = dump(&import_fresh(&typed, &t.path().join("x")));
    same(&from_json, &from_typed, "typed");

    // The control: typed into a sheet without the text formats, the same values change.
    let mut plain = rust_xlsxwriter::Workbook::new();
    plain.add_worksheet().set_name("专家").unwrap();
    let plain_path = t.path().join("plain.xlsx");
    plain.save(&plain_path).unwrap();
    let probe = t.path().join("probe.xlsx");
    type_into(&plain_path, &[("专家".into(), 1, 0, "01088886666".into()), ("专家".into(), 1, 1, "2/3".into())], &probe);
    {
        use calamine::Reader;
        let mut wb = calamine::open_workbook_auto(&probe).unwrap();
        let r = wb.worksheet_range("专家").unwrap();
        let (phone, ratio) = (r.get_value((1, 0)).unwrap(), r.get_value((1, 1)).unwrap());
        assert!(!matches!(phone, calamine::Data::String(_)), "a general cell turns 01088886666 into {phone:?}");
        assert!(!matches!(ratio, calamine::Data::String(_)), "a general cell turns 2/3 into {ratio:?}");
    }

    // How LibreOffice prints it (PINGSHEN_SCREENSHOTS keeps the PDF and pages to look at).
    let pdf = convert(&typed, "pdf", t.path());
    let pages = Command::new("pdfinfo").arg(&pdf).output().map(|o| String::from_utf8_lossy(&o.stdout).into_owned());
    if let Ok(info) = pages {
        assert!(info.lines().any(|l| l.starts_with("Pages:")), "{info}");
    }
    if let Ok(dir) = std::env::var("PINGSHEN_SCREENSHOTS") {
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::copy(&pdf, Path::new(&dir).join("template-typed.pdf")).unwrap();
        let _ = Command::new("pdftoppm")
            .args(["-r", "70", "-png"])
            .arg(&pdf)
            .arg(Path::new(&dir).join("template"))
            .status();
    }
}

/// The console's 导入会务包 ends with the same words as `import --check`.
#[test]
fn the_console_and_the_check_use_the_same_words() {
    let s = Server::start(&[]);
    let admin = s.admin();
    let mut bad = example_json();
    bad["groups"][0]["leader"] = json!("E999");
    bad["experts"][0]["gender"] = json!("M");
    let r = admin.upload("/admin/import", "package", "package.json", &serde_json::to_vec(&bad).unwrap());
    assert_eq!(r.status, 422);
    let body = unescape(&r.body);
    assert!(body.contains("共 2 个问题，未导入任何内容"), "{body}");
    assert!(body.contains("性别应为 男 或 女"), "gender is checked against the template's list: {body}");
    let good = std::fs::read(example_dir().join("package.json")).unwrap();
    let r = admin.upload("/admin/import", "package", "package.json", &good);
    assert_eq!(r.status, 200);
    assert!(unescape(&r.body).contains("检查通过：2 个专业组、9 名专家、4 名申报人"), "{}", r.body);
}

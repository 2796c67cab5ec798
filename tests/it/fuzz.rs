//! The importer under mutated packages (JSON, xlsx, zip): it never panics, and a package it
//! refuses writes nothing. A bounded proptest run (PROPTEST_CASES, 96 per format by default)
//! keeps CI fast; raise it locally for a longer hunt.

use crate::common::*;
use pingshen::package;
use pingshen::store::Db;
use proptest::prelude::*;
use serde_json::Value;
use std::sync::OnceLock;

fn cases() -> u32 {
    std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(96)
}

fn seeds() -> &'static (Vec<u8>, Vec<u8>, Vec<u8>) {
    static S: OnceLock<(Vec<u8>, Vec<u8>, Vec<u8>)> = OnceLock::new();
    S.get_or_init(|| {
        let json = std::fs::read(example_dir().join("package.json")).unwrap();
        let xlsx = std::fs::read(example_dir().join("package.xlsx")).unwrap();
        let zip = zip_of(&[("package.json", &json), ("materials/A0001/a.pdf", b"%PDF-1.4 tiny")]);
        (json, xlsx, zip)
    })
}

/// A byte-level mutation: flip, insert, delete, or cut, at a position given as a fraction.
#[derive(Debug, Clone)]
enum Edit {
    Flip(f64, u8),
    Insert(f64, Vec<u8>),
    Delete(f64, usize),
    Truncate(f64),
}

fn edit() -> impl Strategy<Value = Edit> {
    prop_oneof![
        (0.0..1.0f64, any::<u8>()).prop_map(|(p, b)| Edit::Flip(p, b)),
        (0.0..1.0f64, proptest::collection::vec(any::<u8>(), 1..16)).prop_map(|(p, b)| Edit::Insert(p, b)),
        (0.0..1.0f64, 1usize..64).prop_map(|(p, n)| Edit::Delete(p, n)),
        (0.0..1.0f64).prop_map(Edit::Truncate),
    ]
}

fn apply(mut bytes: Vec<u8>, edits: &[Edit]) -> Vec<u8> {
    for e in edits {
        let at = |p: f64, len: usize| ((p * len as f64) as usize).min(len);
        match e {
            Edit::Flip(p, b) if !bytes.is_empty() => {
                let i = at(*p, bytes.len() - 1);
                bytes[i] ^= b | 1;
            }
            Edit::Insert(p, b) => {
                let i = at(*p, bytes.len());
                bytes.splice(i..i, b.iter().copied());
            }
            Edit::Delete(p, n) => {
                let i = at(*p, bytes.len());
                let j = (i + n).min(bytes.len());
                bytes.drain(i..j);
            }
            Edit::Truncate(p) => {
                let i = at(*p, bytes.len());
                bytes.truncate(i);
            }
            _ => {}
        }
    }
    bytes
}

/// Loads; if the loader accepts, imports into a fresh database. Either way: no panic, and when
/// anything is refused the database holds no session.
fn load_and_import(name: &str, bytes: Vec<u8>) {
    let loaded = std::panic::catch_unwind(|| package::load_bytes(name, bytes, 16 << 20));
    let loaded = loaded.unwrap_or_else(|_| panic!("the loader panicked on a mutated {name}"));
    let Ok(mut loaded) = loaded else { return };
    let dir = tempfile::tempdir().unwrap();
    let db = Db::open(dir.path(), 8).unwrap();
    let result = package::import(&db, dir.path(), &mut loaded, "fuzz", false);
    let sessions: i64 = db.read(|c| Ok(c.query_row("SELECT count(*) FROM session", [], |r| r.get(0))?)).unwrap();
    match result {
        Ok(_) => assert_eq!(sessions, 1),
        Err(e) => assert_eq!(sessions, 0, "a refused import ({}) left a session behind", e.message),
    }
}

proptest! {
    // A failing case's seed is written to tests/it/fuzz.proptest-regressions (commit it): every
    // later run replays it first.
    #![proptest_config(ProptestConfig {
        cases: cases(),
        failure_persistence: Some(Box::new(proptest::test_runner::FileFailurePersistence::Direct(
            "tests/it/fuzz.proptest-regressions"
        ))),
        ..ProptestConfig::default()
    })]

    #[test]
    fn mutated_json_never_panics_nor_half_writes(edits in proptest::collection::vec(edit(), 1..6)) {
        load_and_import("package.json", apply(seeds().0.clone(), &edits));
    }

    #[test]
    fn mutated_xlsx_never_panics_nor_half_writes(edits in proptest::collection::vec(edit(), 1..4)) {
        load_and_import("package.xlsx", apply(seeds().1.clone(), &edits));
    }

    #[test]
    fn mutated_zip_never_panics_nor_half_writes(edits in proptest::collection::vec(edit(), 1..4)) {
        load_and_import("package.zip", apply(seeds().2.clone(), &edits));
    }

    /// Structure-aware: any string field replaced by hostile text, any value by a wrong type.
    #[test]
    fn hostile_values_in_any_json_field(
        picks in proptest::collection::vec((0.0..1.0f64, 0usize..6), 1..8),
    ) {
        let mut p: Value = serde_json::from_slice(&seeds().0).unwrap();
        let mut paths = Vec::new();
        collect(&p, String::new(), &mut paths);
        for (at, kind) in picks {
            let path = &paths[((at * paths.len() as f64) as usize).min(paths.len() - 1)];
            let replacement = match kind {
                0 => Value::String("<script>alert(1)</script>\"'&".into()),
                1 => Value::String("x".repeat(5000)),
                2 => Value::from(-1),
                3 => Value::Null,
                4 => serde_json::json!([1, {"a": []}]),
                _ => Value::String("../../etc/passwd".into()),
            };
            if let Some(slot) = p.pointer_mut(path) {
                *slot = replacement;
            }
        }
        load_and_import("package.json", serde_json::to_vec(&p).unwrap());
    }
}

fn collect(v: &Value, at: String, out: &mut Vec<String>) {
    match v {
        Value::Object(m) => {
            m.iter().for_each(|(k, x)| collect(x, format!("{at}/{}", k.replace('~', "~0").replace('/', "~1")), out))
        }
        Value::Array(a) => a.iter().enumerate().for_each(|(i, x)| collect(x, format!("{at}/{i}"), out)),
        _ => out.push(at),
    }
}

#[test]
fn zip_bombs_and_traversal_are_refused_by_name() {
    let json = &seeds().0;
    // A bomb: 64 MB of zeros compresses to ~64 KB; the unpacked cap (4× the limit) stops it.
    let mut p: Value = serde_json::from_slice(json).unwrap();
    p["applicants"][0]["materials"] = serde_json::json!(["materials/A0001/zeros.pdf"]);
    let with_bomb = serde_json::to_vec(&p).unwrap();
    let zeros = vec![0u8; 64 << 20];
    let bomb = zip_of(&[("package.json", &with_bomb), ("materials/A0001/zeros.pdf", &zeros)]);
    assert!(bomb.len() < 1 << 20);
    let dir = tempfile::tempdir().unwrap();
    let db = Db::open(dir.path(), 8).unwrap();
    let text = match package::load_bytes("package.zip", bomb, 4 << 20) {
        Err(problems) => problems.iter().map(|p| p.to_string()).collect::<Vec<_>>().join(" "),
        Ok(mut loaded) => match package::import(&db, dir.path(), &mut loaded, "fuzz", false) {
            Ok(_) => panic!("the bomb is refused"),
            Err(e) => e.message,
        },
    };
    assert!(text.contains("zeros.pdf"), "{text}");
    let sessions: i64 = db.read(|c| Ok(c.query_row("SELECT count(*) FROM session", [], |r| r.get(0))?)).unwrap();
    assert_eq!(sessions, 0);
    assert!(
        std::fs::read_dir(dir.path().join("materials")).map_or(true, |d| d.count() == 0),
        "no material left behind"
    );
    // Entries that climb out: the whole zip is refused, naming the entry.
    for evil in ["../evil.pdf", "materials/../../evil.pdf", "materials\\..\\evil.pdf"] {
        let z = zip_of(&[("package.json", json), (evil, b"x")]);
        let err = package::load_bytes("package.zip", z, 16 << 20).err().unwrap_or_else(|| panic!("{evil} accepted"));
        let text = err.iter().map(|p| p.to_string()).collect::<Vec<_>>().join(" ");
        assert!(text.contains(evil) || text.contains("路径"), "{evil}: {text}");
    }
    // A package that names a material outside materials/: refused, naming the field.
    for evil in ["../../etc/passwd", "/etc/passwd", "materials/../../../etc/passwd"] {
        let mut p: Value = serde_json::from_slice(json).unwrap();
        p["applicants"][0]["materials"] = serde_json::json!([evil]);
        let z = zip_of(&[("package.json", &serde_json::to_vec(&p).unwrap())]);
        let err = package::load_bytes("package.zip", z, 16 << 20).err().unwrap_or_else(|| panic!("{evil} accepted"));
        let text = err.iter().map(|p| p.to_string()).collect::<Vec<_>>().join(" ");
        assert!(text.contains("materials"), "{evil}: {text}");
    }
}

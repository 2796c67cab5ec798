//! The crate's dependencies run one way (the brief: rules → store → accounts/ballot → review →
//! committee → import/bundle → web → cli). Every `crate::module` reference outside test code
//! is read from the source; a reference to the same or a higher layer fails here.
//! `cargo test --test it layers -- --nocapture` prints every edge.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// Each top-level module's layer: a module may use only modules of a lower layer.
const LAYERS: &[(&str, u32)] = &[
    ("error", 0),
    ("ids", 0),
    ("rules", 0),
    ("config", 10),
    ("render", 10),
    ("sheet", 10),
    ("sign", 10),
    ("logfile", 10),
    ("store", 15),
    ("accounts", 20),
    ("ballot", 20),
    ("venue", 25),
    ("review", 30),
    ("committee", 40),
    ("package", 50),
    ("bundle", 50),
    ("slips", 50),
    ("demo", 55),
    ("office", 56),
    // The connection layer: below the pages, never among them (web uses it, not the reverse).
    ("net", 58),
    ("web", 60),
    ("doctor", 65),
    ("cli", 70),
];

fn layer(m: &str) -> Option<u32> {
    LAYERS.iter().find(|(n, _)| *n == m).map(|(_, l)| *l)
}

fn rust_files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let p = e.path();
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

/// Module names a source text refers to as `crate::name` or inside `crate::{…}`.
fn references(text: &str) -> BTreeSet<String> {
    let ident = |s: &str| s.chars().take_while(|c| c.is_ascii_lowercase() || *c == '_').collect::<String>();
    let mut out = BTreeSet::new();
    for part in text.split("crate::").skip(1) {
        if let Some(group) = part.strip_prefix('{') {
            let inner = group.split('}').next().unwrap_or("");
            for item in inner.split(',') {
                out.insert(ident(item.trim()));
            }
        } else {
            out.insert(ident(part));
        }
    }
    out.retain(|m| layer(m).is_some());
    out
}

#[test]
fn dependencies_run_one_way() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let mut edges: BTreeMap<(String, String), BTreeSet<String>> = BTreeMap::new();
    for f in &files {
        let rel = f.strip_prefix(&src).unwrap().to_string_lossy().replace('\\', "/");
        let module = rel.split('/').next().unwrap().trim_end_matches(".rs").to_string();
        if module == "main" || module == "lib" {
            continue;
        }
        assert!(layer(&module).is_some(), "src/{rel}: module {module} has no layer in LAYERS");
        let text = std::fs::read_to_string(f).unwrap();
        // Unit tests may reach anywhere; the layering is about the product code.
        let code = text.split("#[cfg(test)]").next().unwrap_or("");
        for m in references(code) {
            if m != module {
                edges.entry((module.clone(), m)).or_default().insert(rel.clone());
            }
        }
    }
    let mut wrong = Vec::new();
    for ((from, to), files) in &edges {
        let (a, b) = (layer(from).unwrap(), layer(to).unwrap());
        println!("{from} ({a}) -> {to} ({b})");
        if b >= a {
            wrong.push(format!("{from} ({a}) uses {to} ({b}) in {files:?}"));
        }
    }
    assert!(wrong.is_empty(), "dependencies that run upward or sideways:\n{}", wrong.join("\n"));
    assert!(edges.len() > 30, "the scan found the crate's references ({} edges)", edges.len());
}

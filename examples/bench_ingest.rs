//! Benchmark: the office checks a season of bundles at once (`pingshen office ingest`).
//!
//!     cargo run --release --example bench_ingest -- [sessions] [applicants]
//!
//! Defaults: 30 sessions of 1,000 applicants (25 groups, 500 experts, a committee of 35), each
//! made by the synthetic venue through the library — issued and signed by an office key, played
//! to its report, its bundle written and its appliance key registered — and kept under
//! `target/bench-ingest-S-A/` so a rerun only times the ingest. Then `office::ingest` (every
//! bundle verified with its registered key, recounted, held against the registry) and the
//! workbook are timed, as `pingshen office ingest` runs them.

// A measuring tool, not the product: a failed unwrap stops the run with its reason.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::let_underscore_must_use)]

use pingshen::demo::synthetic::{self, Size};
use pingshen::office::{self, ingest};
use pingshen::store::Db;
use std::path::Path;
use std::time::Instant;

fn main() {
    let args: Vec<usize> = std::env::args().skip(1).filter_map(|a| a.parse().ok()).collect();
    let sessions = *args.first().unwrap_or(&30);
    let applicants = *args.get(1).unwrap_or(&1_000);
    let size = Size { applicants, ..Size::VENUE };
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("target/bench-ingest-{sessions}-{applicants}"));
    let (off, season) = (root.join("office"), root.join("season"));
    std::fs::create_dir_all(&season).unwrap();
    if !off.join(office::SECRET_FILE).exists() {
        office::init(&off).unwrap();
    }
    let t0 = Instant::now();
    let mut made = 0;
    for k in 1..=sessions {
        let id = format!("BENCH-{k:02}");
        let bundle = season.join(format!("{id}-result.zip"));
        if bundle.exists() {
            continue;
        }
        // Each session its own applicant codes, so none is flagged as being in two sessions.
        let mut pkg = synthetic::package(size);
        pkg["session"]["id"] = serde_json::json!(id);
        for a in pkg["applicants"].as_array_mut().unwrap() {
            let code = format!("S{k:02}{}", a["code"].as_str().unwrap());
            a["code"] = serde_json::json!(code);
        }
        let file = root.join(format!("{id}.json"));
        std::fs::write(&file, serde_json::to_vec(&pkg).unwrap()).unwrap();
        office::issue(&off, &file, true, "2026-12-06T09:00:00+08:00").unwrap();
        let data = tempfile::tempdir().unwrap();
        let db = Db::open(data.path(), 8).unwrap();
        synthetic::import(&db, data.path(), &pkg).unwrap();
        synthetic::play_to_report(&db, size).unwrap();
        let t = pingshen::render::Templates::load();
        let (key, _) = pingshen::bundle::key::load_or_create(data.path()).unwrap();
        pingshen::bundle::write_streaming(&db, &t, &key, &bundle).unwrap();
        office::register(&off, &id, Some(&key.public_base64()), None, "2026-12-06T18:00:00+08:00").unwrap();
        made += 1;
    }
    if made > 0 {
        println!("made {made} sessions of {applicants} applicants in {:.1} s", t0.elapsed().as_secs_f64());
    }
    let bytes: u64 = std::fs::read_dir(&season).unwrap().map(|e| e.unwrap().metadata().unwrap().len()).sum();
    let registry = office::load_registry(&off).unwrap();
    let t1 = Instant::now();
    let paths = ingest::expand(std::slice::from_ref(&season)).unwrap();
    let report = ingest::ingest(&registry, &paths);
    let checked = t1.elapsed();
    let xlsx = ingest::workbook(&report).unwrap();
    std::fs::write(root.join("season.xlsx"), &xlsx).unwrap();
    let total = t1.elapsed();
    let clean = report.bundles.iter().filter(|b| b.clean()).count();
    assert!(report.clean(), "{:?}", report.problems());
    println!(
        "ingest: {} bundles ({:.1} MB), {clean} clean, {} applicants; checked in {:.2} s, workbook ({:.1} MB) written, {:.2} s in all",
        paths.len(),
        bytes as f64 / 1e6,
        sessions * applicants,
        checked.as_secs_f64(),
        xlsx.len() as f64 / 1e6,
        total.as_secs_f64()
    );
}

//! Benchmark: how long a large finished session takes to write its signed bundle and to verify.
//!
//!     cargo run --release --example bench_bundle -- [applicants] [groups] [experts] [committee]
//!
//! Defaults: 10000 applicants, 40 groups, 300 experts, a committee of 35. The session is built
//! and played through the library (not HTTP: the load generator of the venue issue does that),
//! then `bundle::build` + `write_zip` and `verify` are timed.

// A measuring tool, not the product: a failed unwrap stops the run with its reason.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::let_underscore_must_use)]

use pingshen::demo::synthetic::{self, Size};
use pingshen::store::Db;
use std::time::Instant;

fn main() {
    let args: Vec<usize> = std::env::args().skip(1).filter_map(|a| a.parse().ok()).collect();
    let n_app = *args.first().unwrap_or(&10_000);
    let n_groups = *args.get(1).unwrap_or(&40);
    let n_experts = *args.get(2).unwrap_or(&300);
    let n_committee = *args.get(3).unwrap_or(&35);
    if std::env::var("BENCH_DEBUG").is_ok() {
        let _ = simplelog::TermLogger::init(
            log::LevelFilter::Debug,
            simplelog::Config::default(),
            simplelog::TerminalMode::Stderr,
            simplelog::ColorChoice::Never,
        );
    }
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path();
    let t0 = Instant::now();

    let size = Size { applicants: n_app, groups: n_groups, experts: n_experts, committee: n_committee };
    let db = Db::open(data, 8).unwrap();
    synthetic::import(&db, data, &synthetic::package(size)).unwrap();
    synthetic::play_to_report(&db, size).unwrap();
    let ballots: i64 = db.read(|c| Ok(c.query_row("SELECT count(*) FROM ballots", [], |r| r.get(0))?)).unwrap();
    println!(
        "session: {n_app} applicants, {n_groups} groups, {n_experts} experts, committee {n_committee}; {ballots} ballots; set up in {:.1} s",
        t0.elapsed().as_secs_f64()
    );

    let t = pingshen::render::Templates::load();
    let (key, _) = pingshen::bundle::key::load_or_create(data).unwrap();
    let t1 = Instant::now();
    let b = pingshen::bundle::build(&db, &t, &key).unwrap();
    let path = data.join("bundle.zip");
    pingshen::bundle::write_zip(&b, &path).unwrap();
    let write = t1.elapsed();
    let size = std::fs::metadata(&path).unwrap().len();
    let t2 = Instant::now();
    let files = pingshen::bundle::verify::read_bundle(&path).unwrap();
    let checks = pingshen::bundle::verify::verify(&files, Some(&key.pk));
    let verify = t2.elapsed();
    assert!(pingshen::bundle::verify::passed(&checks), "{checks:?}");
    println!(
        "bundle: write {:.2} s ({:.1} MB zip), verify {:.2} s",
        write.as_secs_f64(),
        size as f64 / 1e6,
        verify.as_secs_f64()
    );
}

//! Benchmark: how long a large finished session takes to write its signed bundle and to verify.
//!
//!     cargo run --release --example bench_bundle -- [applicants] [groups] [experts] [committee]
//!
//! Defaults: 10000 applicants, 40 groups, 300 experts, a committee of 35. The session is built
//! and played through the library (not HTTP: the load generator of the venue issue does that),
//! then `bundle::build` + `write_zip` and `verify` are timed.

// A measuring tool, not the product: a failed unwrap stops the run with its reason.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::let_underscore_must_use)]

use pingshen::ballot::{self, Choice, Draft, Stage};
use pingshen::store::Db;
use serde_json::json;
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

    let groups: Vec<_> = (0..n_groups)
        .map(|g| json!({ "code": format!("G{g:03}"), "name": format!("第{g}组"), "leader": format!("E{g:04}") }))
        .collect();
    let experts: Vec<_> = (0..n_experts)
        .map(|i| {
            let group =
                if i < n_experts - n_committee / 2 { json!(format!("G{:03}", i % n_groups)) } else { json!(null) };
            json!({ "code": format!("E{i:04}"), "name": format!("专家{i}"), "unit": format!("单位{i}"), "group": group,
                    "gender": "男", "phone": "13800000000", "id_number": "410101197001010011", "title": "教授",
                    "title_level": "正高级", "specialty": "教育学" })
        })
        .collect();
    let members: Vec<String> = (n_experts - n_committee..n_experts).map(|i| format!("E{i:04}")).collect();
    let applicants: Vec<_> = (0..n_app)
        .map(|i| {
            json!({ "code": format!("A{i:05}"), "name": format!("申报人{i}"), "unit": format!("学校{}", i % 997),
                    "series": "中小学教师", "specialty": format!("专业{}", i % 12), "title": "中小学一级教师",
                    "review_type": "评审(正常)", "group": format!("G{:03}", i % n_groups), "details": {}, "materials": [] })
        })
        .collect();
    let pkg = json!({
        "format": "pingshen-package/1",
        "session": { "id": "BENCH-1", "name": "基准测试", "committee": "基准评委会", "mode": "expert_review" },
        "groups": groups, "experts": experts,
        "committee": { "members": members, "chair": members[0], "reporter": members[1] },
        "applicants": applicants,
    });
    let db = Db::open(data, 8).unwrap();
    let mut loaded = pingshen::package::load_bytes("p.json", serde_json::to_vec(&pkg).unwrap(), u64::MAX).unwrap();
    pingshen::package::import(&db, data, &mut loaded, "bench", false).unwrap();
    for i in 0..n_experts {
        pingshen::venue::check_in(&db, &format!("E{i:04}"), "bench").unwrap();
    }
    let session = db.read(pingshen::venue::session).unwrap().unwrap();
    let vote_all = |v: &ballot::Vote, choice: &dyn Fn(usize) -> Choice| {
        let voters = db.read(|c| ballot::voters(c, v)).unwrap();
        let apps = db.read(|c| ballot::applicants_of(c, v.id)).unwrap();
        let recused = db.read(|c| ballot::recused_pairs(c, v.id)).unwrap();
        for who in &voters {
            let drafts: Vec<Draft> = apps
                .iter()
                .enumerate()
                .filter(|(_, a)| !recused.contains(&(who.clone(), (*a).clone())))
                .map(|(i, a)| Draft { applicant_code: a.clone(), choice: Some(choice(i)), opinion: String::new() })
                .collect();
            ballot::save_drafts(&db, v.id, who, &drafts).unwrap();
        }
        ballot::open(&db, v.id, "bench", |_, _| Ok(())).unwrap();
        for who in &voters {
            ballot::submit(&db, v.id, who).unwrap();
        }
    };
    for g in 0..n_groups {
        let code = format!("G{g:03}");
        let v = db.read(|c| ballot::latest(c, Stage::Group, &code)).unwrap().unwrap();
        vote_all(&v, &|i| if i % 10 == 0 { Choice::Oppose } else { Choice::Agree });
        let rows = db.read(|c| pingshen::review::deliberation(c, &code, &session)).unwrap();
        let inputs: Vec<_> = rows
            .iter()
            .map(|r| pingshen::review::DecisionInput {
                applicant: r.applicant.code.clone(),
                passed: r.computed_pass.unwrap_or(false),
                override_reason: String::new(),
                evaluation: String::new(),
                opinion: String::new(),
            })
            .collect();
        pingshen::review::save_decisions(&db, &session, &code, &inputs, true, &format!("E{g:04}")).unwrap();
    }
    let v = db.read(pingshen::committee::current).unwrap();
    vote_all(&v, &|i| if i % 7 == 0 { Choice::Abstain } else { Choice::Agree });
    pingshen::committee::report(&db, &session, &members[1]).unwrap();
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

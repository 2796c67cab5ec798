//! A generated session of any size, played to the report through the library: the venue-size
//! test crawls it over HTTP and the bundle benchmark times its signing. Codes follow one scheme
//! (groups `G000`, experts `E0000`, applicants `A00000`); the leader of group *g* is expert *g*,
//! the last `committee` experts form the committee (chair, then reporter), and the last half of
//! them sit in no group.

use crate::ballot::{self, Choice, DraftEdit, Stage};
use crate::error::{Error, Result};
use crate::store::Db;
use crate::{committee, package, review, venue};
use serde_json::{json, Value};
use std::path::Path;

#[derive(Debug, Clone, Copy)]
pub struct Size {
    pub applicants: usize,
    pub groups: usize,
    pub experts: usize,
    pub committee: usize,
}

impl Size {
    /// The venue the issues measure against: 1,000 applicants, 25 groups, 500 experts.
    pub const VENUE: Size = Size { applicants: 1_000, groups: 25, experts: 500, committee: 35 };

    pub fn expert(i: usize) -> String {
        format!("E{i:04}")
    }
    pub fn group(g: usize) -> String {
        format!("G{g:03}")
    }
    pub fn applicant(i: usize) -> String {
        format!("A{i:05}")
    }
    pub fn members(&self) -> Vec<String> {
        (self.experts - self.committee..self.experts).map(Self::expert).collect()
    }
    pub fn chair(&self) -> String {
        Self::expert(self.experts - self.committee)
    }
    pub fn reporter(&self) -> String {
        Self::expert(self.experts - self.committee + 1)
    }
}

/// The package (format `pingshen-package/1`, mode 专家评审).
pub fn package(size: Size) -> Value {
    let Size { applicants: n_app, groups: n_groups, experts: n_experts, committee: n_committee } = size;
    let groups: Vec<_> = (0..n_groups)
        .map(|g| json!({ "code": Size::group(g), "name": format!("第{g}组"), "leader": Size::expert(g) }))
        .collect();
    let experts: Vec<_> = (0..n_experts)
        .map(|i| {
            let group = if i < n_experts - n_committee / 2 { json!(Size::group(i % n_groups)) } else { json!(null) };
            json!({ "code": Size::expert(i), "name": format!("专家{i}"), "unit": format!("单位{i}"), "group": group,
                    "gender": "男", "phone": "13800000000", "id_number": "410101197001010011", "title": "教授",
                    "title_level": "正高级", "specialty": "教育学" })
        })
        .collect();
    let members = size.members();
    let applicants: Vec<_> = (0..n_app)
        .map(|i| {
            json!({ "code": Size::applicant(i), "name": format!("申报人{i}"), "unit": format!("学校{}", i % 997),
                    "series": "中小学教师", "specialty": format!("专业{}", i % 12), "title": "中小学一级教师",
                    "review_type": "评审(正常)", "group": Size::group(i % n_groups), "details": {}, "materials": [] })
        })
        .collect();
    json!({
        "format": "pingshen-package/1",
        "session": { "id": "SYN-1", "name": "生成的会务", "committee": "生成的评委会", "mode": "expert_review" },
        "groups": groups, "experts": experts,
        "committee": { "members": members, "chair": size.chair(), "reporter": size.reporter() },
        "applicants": applicants,
    })
}

/// Imports `pkg` (a package as built by [`package`], possibly edited) into `db`.
pub fn import(db: &Db, data_dir: &Path, pkg: &Value) -> Result<()> {
    let bytes = serde_json::to_vec(pkg).map_err(Error::internal)?;
    let mut loaded = package::load_bytes("synthetic.json", bytes, u64::MAX)
        .map_err(|p| Error::bad_request(p.iter().map(|x| x.to_string()).collect::<Vec<_>>().join("; ")))?;
    package::import(db, data_dir, &mut loaded, "synthetic", false).map(drop)
}

/// Plays the whole day: everyone checked in, each group drafts, opens, submits and decides (every
/// tenth applicant opposed), the committee votes (every seventh abstains) and the reporter reports.
pub fn play_to_report(db: &Db, size: Size) -> Result<()> {
    for i in 0..size.experts {
        venue::check_in(db, &Size::expert(i), "synthetic")?;
    }
    let session = db.read(venue::session)?.ok_or_else(Error::not_found)?;
    for g in 0..size.groups {
        let code = Size::group(g);
        let v = db.read(|c| ballot::latest(c, Stage::Group, &code))?.ok_or_else(Error::not_found)?;
        vote_all(db, &v, &|i| if i % 10 == 0 { Choice::Oppose } else { Choice::Agree })?;
        let rows = db.read(|c| review::deliberation(c, &code, &session))?;
        let inputs: Vec<_> = rows
            .iter()
            .map(|r| review::DecisionInput {
                applicant: r.applicant.code.clone(),
                passed: r.computed_pass.unwrap_or(false),
                override_reason: String::new(),
                evaluation: String::new(),
                opinion: String::new(),
            })
            .collect();
        review::save_decisions(db, &session, &code, &inputs, true, &Size::expert(g))?;
    }
    let v = db.read(committee::current)?;
    vote_all(db, &v, &|i| if i % 7 == 0 { Choice::Abstain } else { Choice::Agree })?;
    committee::report(db, &session, &size.reporter())
}

/// Every voter drafts every applicant they may (recusals skipped), the round opens, all submit.
fn vote_all(db: &Db, v: &ballot::Vote, choice: &dyn Fn(usize) -> Choice) -> Result<()> {
    let voters = db.read(|c| ballot::voters(c, v))?;
    let apps = db.read(|c| ballot::applicants_of(c, v.id))?;
    let recused = db.read(|c| ballot::recused_pairs(c, v.id))?;
    for who in &voters {
        let drafts: Vec<DraftEdit> = apps
            .iter()
            .enumerate()
            .filter(|(_, a)| !recused.contains(&(who.clone(), (*a).clone())))
            .map(|(i, a)| DraftEdit {
                applicant_code: a.clone(),
                choice: Some(choice(i)),
                opinion: String::new(),
                base: None,
            })
            .collect();
        ballot::save_drafts(db, v.id, who, &drafts)?;
    }
    ballot::open(db, v.id, "synthetic", |_, _| Ok(()))?;
    for who in &voters {
        ballot::submit(db, v.id, who)?;
    }
    Ok(())
}

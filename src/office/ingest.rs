//! `pingshen office ingest`: a season's bundles checked at once at the office (BUNDLE.md, "At the
//! office: many bundles at once"). Each bundle is verified as `pingshen verify` does, pinned to
//! the appliance key registered for its session, and held against what the office issued: the
//! package it was made from, not a rehearsal, one content per session, every issued session
//! answered, no applicant in two sessions. The applicants of the clean bundles go into one
//! workbook with a 问题 sheet; the same input always gives the same bytes.

use super::Registry;
use crate::bundle::model::{self, Manifest, Results};
use crate::bundle::verify;
use crate::error::{Error, Result};
use crate::rules::{self, Outcome};
use crate::sheet::{add_sheet, Cell};
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// One bundle as ingested.
#[derive(Debug, Clone)]
pub struct Bundle {
    pub path: String,
    pub session_id: Option<String>,
    /// Every problem found, the first one first (the terminal line shows it).
    pub problems: Vec<String>,
    /// SHA-256 of its SHA256SUMS: the identity of its content.
    content: String,
    key_id: String,
    results: Option<Results>,
}

impl Bundle {
    pub fn clean(&self) -> bool {
        self.problems.is_empty()
    }
}

/// What an ingest found.
pub struct Report {
    pub bundles: Vec<Bundle>,
    /// Issued sessions no bundle answered: (session id, name).
    pub missing: Vec<(String, String)>,
    /// Bundles that repeat another's content exactly (ignored, said once): (path, same as).
    pub duplicates: Vec<(String, String)>,
}

impl Report {
    pub fn clean(&self) -> bool {
        self.bundles.iter().all(Bundle::clean) && self.missing.is_empty()
    }

    /// The 问题 sheet's rows: (where, what), in a stable order.
    pub fn problems(&self) -> Vec<(String, String)> {
        let mut out: Vec<(String, String)> =
            self.bundles.iter().flat_map(|b| b.problems.iter().map(move |p| (b.path.clone(), p.clone()))).collect();
        out.extend(self.missing.iter().map(|(id, name)| (id.clone(), format!("已签发（{name}），未收到结果包"))));
        out
    }
}

/// The bundles named: each file (a .zip), each directory holding a bundle's files, and the
/// .zip files and bundle directories directly inside any other directory. Sorted by path.
pub fn expand(inputs: &[PathBuf]) -> Result<Vec<PathBuf>> {
    let mut out = BTreeSet::new();
    for p in inputs {
        if p.is_file() || p.join(crate::bundle::MANIFEST).is_file() {
            out.insert(p.clone());
        } else if p.is_dir() {
            for e in std::fs::read_dir(p)? {
                let q = e?.path();
                let zip = q.is_file() && q.extension().is_some_and(|x| x.eq_ignore_ascii_case("zip"));
                if zip || q.join(crate::bundle::MANIFEST).is_file() {
                    out.insert(q);
                }
            }
        } else {
            return Err(Error::bad_request(format!("{} 不存在", p.display())));
        }
    }
    Ok(out.into_iter().collect())
}

/// Checks every bundle; never stops at a bad one.
pub fn ingest(registry: &Registry, paths: &[PathBuf]) -> Report {
    let mut bundles: Vec<Bundle> = paths.iter().map(|p| check_one(registry, p)).collect();
    // One content per session: an exact repeat is ignored; different contents are a problem.
    let mut duplicates = Vec::new();
    let mut by_session: BTreeMap<String, Vec<usize>> = BTreeMap::new();
    for (i, b) in bundles.iter().enumerate() {
        if let Some(s) = &b.session_id {
            by_session.entry(s.clone()).or_default().push(i);
        }
    }
    let mut ignored = BTreeSet::new();
    for (session, idx) in &by_session {
        let contents: BTreeSet<&str> = idx.iter().map(|&i| bundles[i].content.as_str()).collect();
        if contents.len() > 1 {
            let all: Vec<String> = idx.iter().map(|&i| bundles[i].path.clone()).collect();
            for &i in idx {
                bundles[i].problems.push(format!("会务 {session} 有内容不同的多个结果包：{}", all.join("、")));
            }
        } else {
            for &i in &idx[1..] {
                duplicates.push((bundles[i].path.clone(), bundles[idx[0]].path.clone()));
                ignored.insert(i);
            }
        }
    }
    // An applicant code in two sessions (of bundles that are otherwise clean).
    let mut seen: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (i, b) in bundles.iter().enumerate() {
        if let (Some(r), true, false) = (&b.results, b.clean(), ignored.contains(&i)) {
            for a in &r.applicants {
                seen.entry(a.code.clone()).or_default().insert(r.session.id.clone());
            }
        }
    }
    for (i, b) in bundles.iter_mut().enumerate() {
        let Some(r) = &b.results else { continue };
        if ignored.contains(&i) {
            continue;
        }
        let mut twice: Vec<String> = Vec::new();
        for a in &r.applicants {
            if let Some(sessions) = seen.get(&a.code).filter(|s| s.len() > 1) {
                let others: Vec<&str> = sessions.iter().map(String::as_str).filter(|s| *s != r.session.id).collect();
                twice.push(format!("{}（也在 {}）", a.code, others.join("、")));
            }
        }
        if !twice.is_empty() {
            b.problems.push(format!("申报人编号出现在两个会务中：{}", twice.join("、")));
        }
    }
    let answered: BTreeSet<&str> = bundles.iter().filter_map(|b| b.session_id.as_deref()).collect();
    let mut missing: Vec<(String, String)> = Vec::new();
    let mut issued: BTreeSet<&str> = BTreeSet::new();
    for i in &registry.issued {
        if issued.insert(&i.session_id) && !answered.contains(i.session_id.as_str()) {
            let name = registry.issued_for(&i.session_id).map(|x| x.name.clone()).unwrap_or_default();
            missing.push((i.session_id.clone(), name));
        }
    }
    let bundles = bundles.into_iter().enumerate().filter(|(i, _)| !ignored.contains(i)).map(|(_, b)| b).collect();
    Report { bundles, missing, duplicates }
}

fn check_one(registry: &Registry, path: &Path) -> Bundle {
    let mut b = Bundle {
        path: path.display().to_string(),
        session_id: None,
        problems: Vec::new(),
        content: String::new(),
        key_id: String::new(),
        results: None,
    };
    let files = match verify::read_bundle(path) {
        Ok(f) => f,
        Err(e) => {
            b.problems.push(format!("无法读取：{e}"));
            return b;
        }
    };
    b.content = files.get(crate::bundle::SUMS).map(|s| crate::ids::sha256_hex(s)).unwrap_or_default();
    let manifest: Manifest = match files.get(crate::bundle::MANIFEST).map(|m| model::parse(crate::bundle::MANIFEST, m))
    {
        Some(Ok(m)) => m,
        Some(Err(e)) => {
            b.problems.push(format!("不是完整的结果包：{e}"));
            return b;
        }
        None => {
            b.problems.push("不是结果包：缺少 manifest.json".into());
            return b;
        }
    };
    let session = manifest.session_id.clone();
    b.session_id = Some(session.clone());
    let Some(issued) = registry.issued_for(&session) else {
        b.problems.push(format!("会务 {session} 不是本办签发的会务包"));
        return b;
    };
    let Some(appliance) = registry.appliance_for(&session) else {
        b.problems.push(format!("会务 {session} 未登记设备公钥（pingshen office register {session} --pubkey …）"));
        return b;
    };
    let pk = match crate::sign::parse_public(&appliance.public_key) {
        Ok(pk) => pk,
        Err(e) => {
            b.problems.push(format!("登记的设备公钥无效：{e}"));
            return b;
        }
    };
    b.key_id = appliance.key_id.clone();
    let checks = verify::verify(&files, Some(&pk));
    if !verify::passed(&checks) {
        let first = checks.iter().find(|c| c.outcome == verify::Outcome::Fail);
        let why = match first {
            Some(c) if c.name == "result" => "彩排结果包，不是评审结果".to_string(),
            Some(c) => format!("校验未通过（{}：{}）", c.name, c.detail),
            None => "校验未完成".to_string(),
        };
        b.problems.push(why);
        return b;
    }
    if manifest.package_sha256 != issued.sha256 {
        b.problems.push(format!(
            "结果包所用会务包（SHA-256 {}…）不是本办签发的（{}…）",
            &manifest.package_sha256.chars().take(12).collect::<String>(),
            &issued.sha256.chars().take(12).collect::<String>()
        ));
    }
    match files.get("results.json").map(|r| model::parse::<Results>("results.json", r)) {
        Some(Ok(r)) => b.results = Some(r),
        Some(Err(e)) => b.problems.push(e),
        None => b.problems.push("缺少 results.json".into()),
    }
    b
}

fn outcome_label(o: Outcome) -> &'static str {
    match o {
        Outcome::Passed => "通过",
        Outcome::FailedGroup => "专业组未通过",
        Outcome::FailedCommittee => "评委会未通过",
        Outcome::NoDecision => rules::NO_DECISION_LABEL,
    }
}

/// The workbook: every applicant of every clean bundle (by session, in each bundle's order) and
/// the 问题 sheet. Byte-identical for the same input (`sheet::workbook` fixes its time).
pub fn workbook(report: &Report) -> Result<Vec<u8>> {
    let mut wb = crate::sheet::workbook()?;
    let num = |v: Option<u64>| v.map_or(Cell::Text(String::new()), |x| Cell::Num(x as f64));
    let mut clean: Vec<&Bundle> = report.bundles.iter().filter(|b| b.clean()).collect();
    clean.sort_by(|a, b| (&a.session_id, &a.path).cmp(&(&b.session_id, &b.path)));
    let mut rows = Vec::new();
    for b in clean {
        let Some(r) = &b.results else { continue };
        for a in &r.applicants {
            let g = a.group_result.as_ref();
            let c = a.committee_result.as_ref();
            let decision = |d: Option<rules::Decision>| d.map(|d| d.label().to_string()).unwrap_or_default();
            rows.push(vec![
                Cell::Text(r.session.id.clone()),
                Cell::Text(r.session.name.clone()),
                Cell::Text(r.session.committee.clone()),
                Cell::Text(a.group_name.clone()),
                Cell::Text(a.code.clone()),
                Cell::Text(a.name.clone()),
                Cell::Text(a.unit.clone()),
                num(g.map(|g| g.counts.agree)),
                num(g.map(|g| g.counts.oppose)),
                num(g.map(|g| g.counts.abstain)),
                num(g.map(|g| g.counts.present)),
                Cell::Text(g.map(|g| decision(g.decision)).unwrap_or_default()),
                num(c.map(|c| c.counts.agree)),
                num(c.map(|c| c.counts.oppose)),
                num(c.map(|c| c.counts.abstain)),
                num(c.map(|c| c.counts.present)),
                num(c.map(|c| c.needed)),
                Cell::Text(c.map(|c| decision(c.decision)).unwrap_or_default()),
                Cell::Text(outcome_label(a.outcome).to_string()),
                Cell::Text(b.key_id.clone()),
            ]);
        }
    }
    add_sheet(
        &mut wb,
        "申报人",
        &[
            "会务编号",
            "会务名称",
            "评委会",
            "专业组",
            "编号",
            "姓名",
            "单位名称",
            "专业组同意",
            "专业组反对",
            "专业组弃权",
            "专业组出席",
            "专业组结果",
            "评委会同意",
            "评委会反对",
            "评委会弃权",
            "评委会出席",
            "需同意票数",
            "评委会结果",
            "最终结果",
            "设备密钥 ID",
        ],
        rows,
    )?;
    let problems = report.problems().into_iter().map(|(w, p)| vec![Cell::Text(w), Cell::Long(p)]).collect();
    add_sheet(&mut wb, "问题", &["结果包或会务", "问题"], problems)?;
    wb.save_to_buffer().map_err(Error::internal)
}

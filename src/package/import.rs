//! Importing a checked package: the materials copied into the content-addressed store, then
//! the session replaced in one transaction (people, applicants, recusals, the first rounds of
//! every group and of the committee, the accounts). Refused once any vote has begun.

use super::{source, Loaded};
use crate::error::{Error, Result};

use crate::store::{self, Db};
use rusqlite::params;
use serde_json::json;
use std::collections::HashMap;
use std::path::Path;

#[derive(Debug, Clone, serde::Serialize)]
pub struct ImportSummary {
    pub session_id: String,
    pub groups: usize,
    pub experts: usize,
    pub committee: usize,
    pub applicants: usize,
    pub recusals: usize,
    pub materials: usize,
    pub new_accounts: usize,
    pub warnings: Vec<String>,
}

/// True once any vote exists: from then on the session must not be replaced.
pub fn voting_started(conn: &rusqlite::Connection) -> Result<bool> {
    Ok(conn.query_row(
        "SELECT EXISTS (SELECT 1 FROM drafts) OR EXISTS (SELECT 1 FROM votes WHERE status <> 'drafting')
             OR EXISTS (SELECT 1 FROM scores)",
        [],
        |r| r.get(0),
    )?)
}

/// Copies the materials into the content-addressed store, then replaces the session in one
/// transaction. Orphaned material files (a failed import) are harmless: named by their hash.
pub fn import(db: &Db, data_dir: &Path, loaded: &mut Loaded, actor: &str, is_demo: bool) -> Result<ImportSummary> {
    db.read(|c| store::rehearsal::refuse_during(c, "重新导入会务包"))?;
    if db.read(voting_started)? {
        return Err(Error::conflict("投票已经开始，不能重新导入会务包。"));
    }
    let mdir = data_dir.join("materials");
    let mut stored: Vec<(String, usize, String, String, u64)> = Vec::new();
    for a in &loaded.package.applicants {
        for (j, path) in a.materials.iter().enumerate() {
            let (sha, len) = store_blob(&mdir, |out| loaded.source.copy_to(path, u64::MAX / 8, out)).map_err(|m| {
                Error::bad_request(format!("{}: 材料「{path}」{m}", a.src.at(&format!("materials[{j}]"))))
            })?;
            stored.push((a.code.clone(), j, path.clone(), sha, len));
        }
    }
    let p = &loaded.package;
    let now = db.now();
    let summary = db.write(|tx| {
        if voting_started(tx)? {
            return Err(Error::conflict("投票已经开始，不能重新导入会务包。"));
        }
        // The session is replaced whole; attendance rows of people who stay are kept.
        tx.execute_batch("PRAGMA defer_foreign_keys = ON")?;
        tx.execute_batch(
            "DELETE FROM meta; DELETE FROM committee_opinions; DELETE FROM paper_entries; DELETE FROM ballots; DELETE FROM vote_voters; DELETE FROM drafts; DELETE FROM vote_applicants;
             DELETE FROM votes; DELETE FROM lead_reviewers; DELETE FROM lead_opinions;
             DELETE FROM interview_questions; DELETE FROM scores; DELETE FROM group_decisions;
             DELETE FROM group_submissions;
             DELETE FROM recusals; DELETE FROM materials; DELETE FROM committee; DELETE FROM applicants;
             DELETE FROM experts; DELETE FROM groups; DELETE FROM session;",
        )?;
        let s = &p.session;
        tx.execute(
            "INSERT INTO session (id, session_id, name, committee, mode, committee_pass_ratio, quorum_ratio,
               group_pass_rule, score_rule, recused_count_as_present, blind, extra, package_sha256,
               package_source, imported_at, is_demo, office_key_id)
             VALUES (1, ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16)",
            params![
                s.id,
                s.name,
                s.committee,
                s.mode.code(),
                s.committee_pass_ratio.to_string(),
                s.quorum_ratio.to_string(),
                s.group_pass_rule.code(),
                s.score_rule.code(),
                s.recused_count_as_present,
                s.blind,
                serde_json::Value::Object(merge_extra(&s.extra, &p.extra)).to_string(),
                loaded.sha256,
                loaded.source_name,
                now,
                is_demo,
                loaded.office_key_id
            ],
        )?;
        for (i, g) in p.groups.iter().enumerate() {
            tx.execute(
                "INSERT INTO groups (code, name, leader, ord, extra) VALUES (?1, ?2, ?3, ?4, ?5)",
                params![g.code, g.name, g.leader, i, serde_json::Value::Object(g.extra.clone()).to_string()],
            )?;
        }
        for (i, e) in p.experts.iter().enumerate() {
            tx.execute(
                "INSERT INTO experts (code, name, gender, phone, id_number, unit, title, title_level, specialty,
                   group_code, ord, extra) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
                params![
                    e.code,
                    e.name,
                    e.gender,
                    e.phone,
                    e.id_number,
                    e.unit,
                    e.title,
                    e.title_level,
                    e.specialty,
                    e.group,
                    i,
                    serde_json::Value::Object(e.extra.clone()).to_string()
                ],
            )?;
        }
        let c = &p.committee;
        for (i, m) in c.members.iter().enumerate() {
            tx.execute(
                "INSERT INTO committee (expert_code, is_chair, is_reporter, ord) VALUES (?1, ?2, ?3, ?4)",
                params![m, *m == c.chair, *m == c.reporter, i],
            )?;
        }
        for (i, a) in p.applicants.iter().enumerate() {
            let l = a.lecture.clone().unwrap_or_default();
            let details: Vec<[&String; 2]> = a.details.iter().map(|(k, v)| [k, v]).collect();
            tx.execute(
                "INSERT INTO applicants (code, name, unit, series, specialty, title, review_type, group_code,
                   lecture_order, lecture_room, lecture_topic, lecture_chapter, lecture_textbook, details, extra, ord)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16)",
                params![
                    a.code,
                    a.name,
                    a.unit,
                    a.series,
                    a.specialty,
                    a.title,
                    a.review_type,
                    a.group,
                    l.order,
                    l.room,
                    l.topic,
                    l.chapter,
                    l.textbook,
                    serde_json::to_string(&details).unwrap_or_default(),
                    serde_json::Value::Object(a.extra.clone()).to_string(),
                    i
                ],
            )?;
        }
        for (code, ord, path, sha, size) in &stored {
            tx.execute(
                "INSERT INTO materials (applicant_code, ord, path, sha256, size, content_type) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                params![code, ord, path, sha, size, source::content_type(path)],
            )?;
        }
        // Listed recusals first (their reason wins), then every same-unit pair.
        for r in &p.recusals {
            tx.execute(
                "INSERT OR IGNORE INTO recusals (expert_code, applicant_code, source, reason) VALUES (?1, ?2, 'list', ?3)",
                params![r.expert, r.applicant, r.reason],
            )?;
        }
        let mut by_unit: HashMap<&str, Vec<&str>> = HashMap::new();
        for e in &p.experts {
            let u = e.unit.trim();
            if !u.is_empty() {
                by_unit.entry(u).or_default().push(&e.code);
            }
        }
        for a in &p.applicants {
            for e in by_unit.get(a.unit.trim()).into_iter().flatten() {
                tx.execute(
                    "INSERT OR IGNORE INTO recusals (expert_code, applicant_code, source, reason) VALUES (?1, ?2, 'unit', ?3)",
                    params![e, a.code, format!("同单位：{}", a.unit.trim())],
                )?;
            }
        }
        // Round 1 of every group exists from the start: experts can draft at once.
        for g in &p.groups {
            let apps: Vec<String> =
                p.applicants.iter().filter(|a| a.group.as_deref() == Some(g.code.as_str())).map(|a| a.code.clone()).collect();
            crate::ballot::create_round(tx, crate::ballot::Stage::Group, &g.code, &apps, "", &now)?;
        }
        // The committee's round 1 starts with the applicants who skip the groups; each group
        // adds the applicants it passes when it submits.
        let direct: Vec<String> = p.applicants.iter().filter(|a| a.group.is_none()).map(|a| a.code.clone()).collect();
        crate::ballot::create_round(tx, crate::ballot::Stage::Committee, crate::committee::SCOPE, &direct, "", &now)?;
        tx.execute(
            "DELETE FROM attendance WHERE person_code NOT IN (SELECT code FROM experts)",
            [],
        )?;
        let new_accounts = crate::accounts::sync_people(tx)?;
        let recusals: i64 = tx.query_row("SELECT count(*) FROM recusals", [], |r| r.get(0))?;
        let summary = ImportSummary {
            session_id: s.id.clone(),
            groups: p.groups.len(),
            experts: p.experts.len(),
            committee: c.members.len(),
            applicants: p.applicants.len(),
            recusals: recusals as usize,
            materials: stored.len(),
            new_accounts,
            warnings: loaded.warnings.clone(),
        };
        // A new session is a new epoch: nothing a device kept for the old one is accepted.
        store::set_meta(tx, store::EPOCH, &crate::ids::random_token())?;
        // The room-display link exists from the start, so showing it never needs a write (after
        // the report nothing may be written, and the display is wanted most then).
        if store::meta(tx, "display_token")?.is_none() {
            store::set_meta(tx, "display_token", &crate::ids::random_token())?;
        }
        store::audit(
            tx,
            &now,
            actor,
            "package.import",
            &s.id,
            json!({
                "sha256": loaded.sha256, "mode": s.mode.code(), "groups": summary.groups,
                "experts": summary.experts, "applicants": summary.applicants,
                "committee": summary.committee, "recusals": summary.recusals, "materials": summary.materials,
            }),
        )?;
        Ok(summary)
    })?;
    log::info!(
        "package {} imported ({} groups, {} experts, {} applicants) by {actor}",
        summary.session_id,
        summary.groups,
        summary.experts,
        summary.applicants
    );
    Ok(summary)
}

fn merge_extra(
    session: &serde_json::Map<String, serde_json::Value>,
    top: &serde_json::Map<String, serde_json::Value>,
) -> serde_json::Map<String, serde_json::Value> {
    let mut m = session.clone();
    if !top.is_empty() {
        m.insert("_package".into(), serde_json::Value::Object(top.clone()));
    }
    m
}

/// Streams one material into the content-addressed store: written to a temporary file while
/// hashed, synced, then renamed to its SHA-256 (an identical file already there is kept).
fn store_blob(
    dir: &Path,
    fill: impl FnOnce(&mut dyn std::io::Write) -> std::result::Result<u64, String>,
) -> std::result::Result<(String, u64), String> {
    use sha2::Digest;
    struct Hashing<'a> {
        file: std::io::BufWriter<&'a std::fs::File>,
        hash: sha2::Sha256,
    }
    impl std::io::Write for Hashing<'_> {
        fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
            let n = self.file.write(b)?;
            self.hash.update(&b[..n]);
            Ok(n)
        }
        fn flush(&mut self) -> std::io::Result<()> {
            self.file.flush()
        }
    }
    let io = |e: std::io::Error| format!("无法写入材料目录 ({e})");
    std::fs::create_dir_all(dir).map_err(io)?;
    let tmp = tempfile::NamedTempFile::new_in(dir).map_err(io)?;
    let (sha, len) = {
        let mut w = Hashing { file: std::io::BufWriter::new(tmp.as_file()), hash: sha2::Sha256::new() };
        let len = fill(&mut w)?;
        std::io::Write::flush(&mut w).map_err(io)?;
        (hex::encode(w.hash.finalize()), len)
    };
    let path = dir.join(&sha);
    if !path.exists() {
        tmp.as_file().sync_all().map_err(io)?;
        tmp.persist(&path).map_err(|e| io(e.error))?;
    }
    Ok((sha, len))
}

pub fn material_path(data_dir: &Path, sha: &str) -> std::path::PathBuf {
    data_dir.join("materials").join(sha)
}

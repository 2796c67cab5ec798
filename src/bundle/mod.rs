//! The signed result bundle (评审结果包), `../shared/spec/BUNDLE.md`: content files built from
//! the finished session, a manifest and `SHA256SUMS` over them, and a minisign signature of
//! `SHA256SUMS` whose trusted comment pins the session id and the audit chain's head.
//!
//! Everything is a function of the database alone (times are the session's own, the ballot
//! order is fixed by a seed drawn at the report), so rebuilding gives identical content files.

pub mod handover;
pub mod key;
pub mod model;
pub mod verify;
pub mod wipe;

use crate::ballot::{self, Stage};
use crate::committee;
use crate::error::{Error, Result};
use crate::render::Templates;
use crate::review;
use crate::rules::{self, Decision};
use crate::store::{self, Db};
use crate::venue;
use key::Key;
use rusqlite::Connection;
use serde_json::{json, Value};
use std::io::Write;
use std::path::{Path, PathBuf};

/// The bundle format written now; `verify` also reads `pingshen-bundle/1` and `/2`.
pub const FORMAT: &str = "pingshen-bundle/3";
/// The formats of results.json and attendance.json written now.
pub const RESULTS_FORMAT: &str = "pingshen-results/2";
pub const ATTENDANCE_FORMAT: &str = "pingshen-attendance/2";
pub const CONTENT_FILES: &[&str] =
    &["attendance.json", "audit.jsonl", "ballots.json", "report.html", "results.json", "results.xlsx"];
pub const MANIFEST: &str = "manifest.json";
pub const SUMS: &str = "SHA256SUMS";
pub const SIG: &str = "SHA256SUMS.minisig";

pub struct Bundle {
    pub session_id: String,
    pub audit_head: String,
    /// Every file of the bundle, in archive order.
    pub files: Vec<(String, Vec<u8>)>,
}

/// The bundle's file name; a rehearsal's says so (`…-REHEARSAL-result.zip`).
pub fn zip_name(session_id: &str, rehearsal: bool) -> String {
    if rehearsal {
        format!("{session_id}-REHEARSAL-result.zip")
    } else {
        format!("{session_id}-result.zip")
    }
}

/// Where this database's bundle goes: beside the database in use, so a rehearsal's bundle
/// lives (and is removed) with the rehearsal's copy.
pub fn path_for(db: &Db, session_id: &str) -> Result<PathBuf> {
    let rehearsal = db.read(crate::store::rehearsal::started)?.is_some();
    Ok(db.dir().join(zip_name(session_id, rehearsal)))
}

fn pretty(v: &impl serde::Serialize) -> Result<Vec<u8>> {
    let mut s = serde_json::to_vec_pretty(v).map_err(Error::internal)?;
    s.push(b'\n');
    Ok(s)
}

/// Builds the whole bundle of a reported session in memory.
pub fn build(db: &Db, t: &Templates, key: &Key) -> Result<Bundle> {
    let mut files = Vec::new();
    let (session_id, audit_head) = produce(db, t, key, &mut |name, bytes| {
        files.push((name.to_string(), bytes));
        Ok(())
    })?;
    Ok(Bundle { session_id, audit_head, files })
}

/// Produces the bundle's files one at a time in archive order, handing each to `emit` (which
/// may write it out and drop it), and returns the session id and the audit head. Only
/// names, sizes and hashes are kept between files: holding every file at once made the report
/// of a 1,000-applicant session the server's peak memory.
fn produce(
    db: &Db,
    t: &Templates,
    key: &Key,
    emit: &mut dyn FnMut(&str, Vec<u8>) -> Result<()>,
) -> Result<(String, String)> {
    let session = db.read(venue::session)?.ok_or_else(Error::not_found)?;
    let (reported_at, close_seq, seed, rehearsal) = db.read(|c| {
        Ok((
            committee::meta(c, "reported_at")?,
            committee::meta(c, "audit_close_seq")?,
            committee::meta(c, "ballot_seed")?,
            crate::store::rehearsal::started(c)?.is_some(),
        ))
    })?;
    let (Some(reported_at), Some(close_seq), Some(seed)) = (reported_at, close_seq, seed) else {
        return Err(Error::conflict("评审结果尚未上报，不能生成结果包。"));
    };
    let close_seq: i64 = close_seq.parse().map_err(Error::internal)?;
    let mut listed: Vec<(String, usize, String)> = Vec::new();
    let mut out = |name: &str, bytes: Vec<u8>| -> Result<()> {
        listed.push((name.to_string(), bytes.len(), crate::ids::sha256_hex(&bytes)));
        emit(name, bytes)
    };
    // Content files in name order (the archive's order), each dropped once handed on.
    out("attendance.json", pretty(&db.read(|c| attendance_json(c, &session))?)?)?;
    let (audit, head) = db.read(|c| audit_jsonl(c, close_seq))?;
    out("audit.jsonl", audit)?;
    out("ballots.json", db.read(|c| ballots_bytes(c, &seed))?)?;
    // The groups' deliberations and the committee's rows, computed once for the last three;
    // the report's data and the results' tree are each dropped before the next is built.
    db.read(|c| {
        let groups = committee::all_deliberations(c, &session)?;
        let rows = committee::rows_with(c, &session, &groups)?;
        let report_data = committee::minutes_with(c, &session, &groups, &rows, false)?;
        out("report.html", report_html(report_data, t, key, &head)?.into_bytes())?;
        let results = results_json_with(c, &session, &groups, &rows)?;
        out("results.json", pretty(&results)?)?;
        out("results.xlsx", results_xlsx(&results, session.rehearsal.is_some())?)
    })?;
    debug_assert!(listed.iter().map(|(n, _, _)| n.as_str()).eq(CONTENT_FILES.iter().copied()));
    let files: Vec<model::FileEntry> = listed
        .iter()
        .map(|(n, size, sha)| model::FileEntry { path: n.clone(), size: *size as u64, sha256: sha.clone() })
        .collect();
    let manifest = model::Manifest {
        format: FORMAT.into(),
        rehearsal: Some(rehearsal),
        session_id: session.session_id.clone(),
        session_name: session.name.clone(),
        package_sha256: session.package_sha256.clone(),
        office_key_id: Some(session.office_key_id.clone()),
        created_at: reported_at,
        appliance_version: env!("CARGO_PKG_VERSION").into(),
        key_id: key.id(),
        public_key: key.public_base64(),
        audit_head: head.clone(),
        files,
    };
    let manifest = pretty(&manifest)?;
    listed.push((MANIFEST.to_string(), manifest.len(), crate::ids::sha256_hex(&manifest)));
    emit(MANIFEST, manifest)?;
    listed.sort_by(|a, b| a.0.cmp(&b.0));
    let mut sums = String::new();
    for (n, _, sha) in &listed {
        sums.push_str(&format!("{sha}  {n}\n"));
    }
    let trusted = trusted_comment(&session.session_id, &head);
    let sig = key.sign(sums.as_bytes(), &trusted)?;
    emit(SUMS, sums.into_bytes())?;
    emit(SIG, sig.into_bytes())?;
    Ok((session.session_id, head))
}

pub fn trusted_comment(session_id: &str, head: &str) -> String {
    format!("{FORMAT} session:{session_id} audit_head:{head}")
}

/// The zip entries' options: fixed timestamps, so the same content gives the same entries.
fn zip_options() -> zip::write::SimpleFileOptions {
    zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .last_modified_time(zip::DateTime::default())
        .unix_permissions(0o644)
}

/// Writes `path` through a temporary file, synced and renamed into place when complete.
fn write_zip_with(path: &Path, fill: impl FnOnce(&mut zip::ZipWriter<std::fs::File>) -> Result<()>) -> Result<()> {
    let tmp = path.with_extension("zip.tmp");
    let written: Result<()> = (|| {
        let mut w = zip::ZipWriter::new(std::fs::File::create(&tmp)?);
        fill(&mut w)?;
        let f = w.finish().map_err(Error::internal)?;
        f.sync_all()?;
        Ok(())
    })();
    if written.is_err() {
        store::remove_if_exists(&tmp)?;
    }
    written?;
    std::fs::rename(&tmp, path)?;
    Ok(())
}

fn add_entry(w: &mut zip::ZipWriter<std::fs::File>, name: &str, bytes: &[u8]) -> Result<()> {
    w.start_file(name, zip_options()).map_err(Error::internal)?;
    w.write_all(bytes)?;
    Ok(())
}

/// Writes a built bundle as a zip.
pub fn write_zip(b: &Bundle, path: &Path) -> Result<()> {
    write_zip_with(path, |w| b.files.iter().try_for_each(|(name, bytes)| add_entry(w, name, bytes)))
}

/// Builds the bundle straight into a zip at `path`, one file at a time; returns the session id
/// and the audit head. Same bytes as `build` + `write_zip`.
pub fn write_streaming(db: &Db, t: &Templates, key: &Key, path: &Path) -> Result<(String, String)> {
    let mut ids = None;
    write_zip_with(path, |w| {
        ids = Some(produce(db, t, key, &mut |name, bytes| add_entry(w, name, &bytes))?);
        Ok(())
    })?;
    ids.ok_or_else(|| Error::internal("bundle not produced"))
}

/// Builds and writes `<session id>-result.zip` beside the database in use (`path_for`), signed
/// with the key in the data directory; returns its path.
pub fn write_for_session(db: &Db, data_dir: &Path, t: &Templates) -> Result<PathBuf> {
    let (key, _) = key::load_or_create(data_dir)?;
    let session = db.read(venue::session)?.ok_or_else(Error::not_found)?;
    let path = path_for(db, &session.session_id)?;
    write_streaming(db, t, &key, &path)?;
    log::info!("result bundle written: {}", path.display());
    Ok(path)
}

/// Every round of both stages with its tallies, taken from the per-applicant histories the
/// deliberation and committee rows already hold (no second count of the ballots).
fn rounds_out(
    conn: &Connection,
    groups: &committee::GroupDeliberations,
    committee_rows: &[committee::Row],
) -> Result<Vec<model::RoundOut>> {
    let mut tallies: std::collections::HashMap<(Stage, String, i64), Vec<model::RoundTally>> =
        std::collections::HashMap::new();
    let histories = groups
        .iter()
        .flat_map(|(g, rows)| rows.iter().map(move |r| (Stage::Group, g.code.clone(), &r.applicant.code, &r.rounds)))
        .chain(
            committee_rows
                .iter()
                .map(|r| (Stage::Committee, committee::SCOPE.to_string(), &r.applicant.code, &r.rounds)),
        );
    for (stage, scope, code, rounds) in histories {
        for h in rounds {
            if let Some(t) = &h.tally {
                tallies
                    .entry((stage, scope.clone(), h.round))
                    .or_default()
                    .push(model::RoundTally { counts: model::Counts::of(t), applicant: code.clone() });
            }
        }
    }
    let mut out = Vec::new();
    let mut scopes: Vec<(Stage, String)> = groups.iter().map(|(g, _)| (Stage::Group, g.code.clone())).collect();
    scopes.push((Stage::Committee, committee::SCOPE.to_string()));
    for (stage, scope) in scopes {
        for v in ballot::rounds(conn, stage, &scope)? {
            let applicants = ballot::applicants_of(conn, v.id)?;
            let mut t = tallies.remove(&(stage, scope.clone(), v.round)).unwrap_or_default();
            let order: std::collections::HashMap<&String, usize> =
                applicants.iter().enumerate().map(|(i, a)| (a, i)).collect();
            t.sort_by_key(|x| order.get(&x.applicant).copied());
            let entries = ballot::paper::accepted(conn, &v)?
                .into_iter()
                .map(|a| model::PaperEntry {
                    clerk: a.clerk,
                    entered_at: store::display_time(&a.entered_at),
                    issued: a.entry.issued,
                    returned: a.entry.returned,
                    invalid: a.entry.invalid,
                    counts: a
                        .entry
                        .counts
                        .into_iter()
                        .map(|c| model::PaperCount {
                            applicant: c.applicant_code,
                            agree: c.agree,
                            oppose: c.oppose,
                            abstain: c.abstain,
                        })
                        .collect(),
                })
                .collect();
            out.push(model::RoundOut {
                stage: stage.code().into(),
                scope: scope.clone(),
                round: v.round,
                status: v.status.code().into(),
                reason: v.reason.clone(),
                opened_at: v.opened_at.clone(),
                closed_at: v.closed_at.clone(),
                applicants,
                tallies: t,
                medium: Some(v.medium.code().into()),
                medium_reason: Some(v.medium_reason.clone()),
                void: Some(v.status == ballot::Status::Void),
                void_reason: Some(v.void_reason.clone()),
                entries: Some(entries),
            });
        }
    }
    Ok(out)
}

pub fn results_json(conn: &Connection, session: &venue::SessionView) -> Result<model::Results> {
    let groups = committee::all_deliberations(conn, session)?;
    let rows = committee::rows_with(conn, session, &groups)?;
    results_json_with(conn, session, &groups, &rows)
}

fn results_json_with(
    conn: &Connection,
    session: &venue::SessionView,
    groups: &committee::GroupDeliberations,
    committee_rows: &[committee::Row],
) -> Result<model::Results> {
    let group_rows: std::collections::HashMap<&str, &review::DelibRow> =
        groups.iter().flat_map(|(_, d)| d.iter()).map(|r| (r.applicant.code.as_str(), r)).collect();
    let scores = review::scores_display(conn, session.rules.score, None)?;
    let mut applicants = Vec::new();
    for a in venue::search_applicants(conn, None, None, 1, i64::MAX / 4)?.rows {
        let g = group_rows.get(a.code.as_str()).copied();
        let group = g.and_then(|r| {
            r.tally.as_ref().map(|t| model::GroupResult {
                round: r.rounds.iter().rev().find(|h| h.tally.is_some()).map(|h| h.round),
                counts: model::Counts::of(t),
                decision: r.decision,
                computed_passed: r.computed_pass,
                passed: r.passed,
                override_reason: r.override_reason.clone(),
                evaluation: r.evaluation.clone(),
                opinion: r.opinion.clone(),
            })
        });
        let c = committee_rows.iter().find(|r| r.applicant.code == a.code);
        let committee_result = c.and_then(|r| {
            r.tally.as_ref().map(|t| model::CommitteeResult {
                round: r.rounds.iter().rev().find(|h| h.tally.is_some()).map(|h| h.round),
                counts: model::Counts::of(t),
                needed: rules::votes_needed(&session.rules, t.present),
                decision: r.decision,
                passed: r.passed,
                opinion: r.opinion.clone(),
            })
        });
        // The group's final word: the leader's decision, or no decision when nobody could vote.
        let group_word = a.group_code.as_ref().map(|_| match g {
            Some(r) if r.no_decision => None,
            Some(r) => Some(r.passed == Some(true)),
            None => Some(false),
        });
        let outcome = rules::outcome(group_word, c.and_then(|r| r.decision));
        applicants.push(model::ApplicantOut {
            score: scores.get(&a.code).cloned(),
            code: a.code,
            name: a.name,
            unit: a.unit,
            group: a.group_code,
            group_name: a.group_name,
            specialty: a.specialty,
            group_result: group,
            committee_result,
            outcome,
        });
    }
    let first =
        ballot::rounds(conn, Stage::Committee, committee::SCOPE)?.into_iter().next().ok_or_else(Error::not_found)?;
    let q = committee::quorum_of_round(conn, session, &first)?;
    let attendance = committee::attendance(conn)?
        .into_iter()
        .map(|m| model::MemberOut {
            code: m.code,
            name: m.name,
            chair: m.is_chair,
            reporter: m.is_reporter,
            first_sign_in: m.signed_in_at,
            staff_check_in: m.staff_check_in,
            left_at: m.left_at,
            rounds: m.rounds.iter().map(|r| model::MemberRound { round: r.round, presence: r.presence }).collect(),
        })
        .collect();
    let r = &session.rules;
    Ok(model::Results {
        format: RESULTS_FORMAT.into(),
        session: model::SessionRulesOut {
            id: session.session_id.clone(),
            name: session.name.clone(),
            committee: session.committee.clone(),
            mode: r.mode.code().into(),
            committee_pass_ratio: r.committee_pass.to_string(),
            quorum_ratio: r.quorum.to_string(),
            group_pass_rule: r.group_pass.code(),
            score_rule: r.score.code().into(),
            recused_count_as_present: r.recused_count_as_present,
        },
        reported_at: committee::meta(conn, "reported_at")?,
        quorum: model::QuorumOut { members: q.members, present: q.present, needed: q.needed, reached: q.reached },
        attendance,
        applicants,
        rounds: rounds_out(conn, groups, committee_rows)?,
    })
}

/// Every submitted ballot with no voter and no time, ordered by SHA-256(seed ‖ id): the seed is
/// drawn once at the report, so the order is fixed but unrelated to submission. Written one
/// ballot per line (hundreds of thousands of them build no JSON tree).
pub fn ballots_bytes(conn: &Connection, seed: &str) -> Result<Vec<u8>> {
    // The round of each vote once, and per ballot only its sort key, round and applicant.
    let votes: std::collections::HashMap<i64, (String, String, i64, bool)> = {
        let mut st = conn.prepare("SELECT id, stage, scope, round, void_reason IS NOT NULL FROM votes")?;
        let rows = st.query_map([], |r| Ok((r.get(0)?, (r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))))?;
        rows.collect::<rusqlite::Result<_>>()?
    };
    let mut st = conn.prepare("SELECT id, vote_id, applicant_code, choice FROM ballots")?;
    let mut rows: Vec<([u8; 32], i64, String, &'static str)> = st
        .query_map([], |r| {
            let id: String = r.get(0)?;
            let mut h = <sha2::Sha256 as sha2::Digest>::new();
            sha2::Digest::update(&mut h, seed.as_bytes());
            sha2::Digest::update(&mut h, id.as_bytes());
            let choice = ballot::Choice::parse(&r.get::<_, String>(3)?).map(|c| c.code()).ok_or_else(|| {
                rusqlite::Error::FromSqlConversionFailure(3, rusqlite::types::Type::Text, "not a ballot choice".into())
            })?;
            Ok((sha2::Digest::finalize(h).into(), r.get(1)?, r.get(2)?, choice))
        })?
        .collect::<rusqlite::Result<_>>()?;
    rows.sort_unstable_by_key(|r| r.0);
    let mut out = Vec::with_capacity(rows.len() * 80 + 64);
    out.extend_from_slice(b"{\"format\":\"pingshen-ballots/1\",\"ballots\":[");
    for (i, (_, vote, applicant, choice)) in rows.iter().enumerate() {
        let (stage, scope, round, void) =
            votes.get(vote).ok_or_else(|| Error::internal(format!("ballot of unknown vote {vote}")))?;
        out.extend_from_slice(if i == 0 { b"\n" } else { b",\n" });
        let b = model::Ballot {
            stage: stage.as_str(),
            scope: scope.as_str(),
            round: *round,
            applicant: applicant.as_str(),
            choice: *choice,
            void: void.then_some(true),
        };
        serde_json::to_writer(&mut out, &b).map_err(Error::internal)?;
    }
    out.extend_from_slice(b"\n]}\n");
    Ok(out)
}

/// Who was frozen as a voter when each round opened, who of its prospective voters signed in
/// only after it opened (迟到: not voters), the staff check-ins and 离场 marks, and the recusals.
pub fn attendance_json(conn: &Connection, session: &venue::SessionView) -> Result<model::Attendance> {
    let first_sign_in: std::collections::HashMap<String, String> = {
        let mut st = conn.prepare("SELECT person_code, signed_in_at FROM attendance")?;
        let rows = st.query_map([], |r| Ok((r.get(0)?, store::display_time(&r.get::<_, String>(1)?))))?;
        rows.collect::<rusqlite::Result<_>>()?
    };
    let mut rounds = Vec::new();
    let mut scopes: Vec<(Stage, String)> = venue::groups(conn)?.into_iter().map(|g| (Stage::Group, g.code)).collect();
    scopes.push((Stage::Committee, committee::SCOPE.to_string()));
    for (stage, scope) in scopes {
        let prospective = ballot::prospective_voters(conn, stage, &scope)?;
        for v in ballot::rounds(conn, stage, &scope)? {
            let Some(opened_at) = v.opened_at.as_deref() else { continue };
            let voters = ballot::voters(conn, &v)?;
            let late: Vec<&String> = prospective
                .iter()
                .filter(|c| {
                    let presence =
                        rules::round_presence(voters.contains(c), first_sign_in.get(*c).map(String::as_str), opened_at);
                    presence == rules::RoundPresence::Late
                })
                .collect();
            rounds.push(model::AttendanceRound {
                stage: stage.code().into(),
                scope: scope.clone(),
                round: v.round,
                opened_at: opened_at.to_string(),
                present: voters.clone(),
                late: Some(late.into_iter().cloned().collect()),
            });
        }
    }
    let mut st = conn.prepare(
        "SELECT a.person_code, a.signed_in_at, a.left_at FROM attendance a JOIN experts e ON e.code = a.person_code
         WHERE a.method = 'admin' ORDER BY e.ord",
    )?;
    let staff: Vec<model::StaffCheckIn> = st
        .query_map([], |r| {
            Ok(model::StaffCheckIn {
                code: r.get(0)?,
                at: store::display_time(&r.get::<_, String>(1)?),
                left_at: r.get::<_, Option<String>>(2)?.map(|s| store::display_time(&s)),
            })
        })?
        .collect::<rusqlite::Result<_>>()?;
    let mut st = conn.prepare(
        "SELECT a.person_code, a.left_at FROM attendance a JOIN experts e ON e.code = a.person_code
         WHERE a.left_at IS NOT NULL ORDER BY e.ord",
    )?;
    let left: Vec<model::Left> = st
        .query_map([], |r| Ok(model::Left { code: r.get(0)?, at: store::display_time(&r.get::<_, String>(1)?) }))?
        .collect::<rusqlite::Result<_>>()?;
    let mut st =
        conn.prepare("SELECT expert_code, applicant_code, source FROM recusals ORDER BY applicant_code, expert_code")?;
    let recusals: Vec<model::Recusal> = st
        .query_map([], |r| Ok(model::Recusal { expert: r.get(0)?, applicant: r.get(1)?, source: r.get(2)? }))?
        .collect::<rusqlite::Result<_>>()?;
    Ok(model::Attendance {
        format: ATTENDANCE_FORMAT.into(),
        recused_count_as_present: session.rules.recused_count_as_present,
        rounds,
        staff_check_ins: Some(staff),
        left: Some(left),
        recusals,
    })
}

/// The audit lines up to the one that closed the chain at the report, and that line's hash.
pub fn audit_jsonl(conn: &Connection, close_seq: i64) -> Result<(Vec<u8>, String)> {
    let mut st = conn.prepare("SELECT line, hash FROM audit WHERE seq <= ?1 ORDER BY seq")?;
    let mut out = Vec::new();
    let mut head = String::new();
    for row in st.query_map([close_seq], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))? {
        let (line, hash) = row?;
        out.extend_from_slice(line.as_bytes());
        out.push(b'\n');
        head = hash;
    }
    Ok((out, head))
}

/// 是否通过 of a group or committee result: 通过 / 未通过, or the no-decision label.
/// 是否通过 as the office reads it: 通过, 未通过, or 无法表决 (DOMAIN decision 2).
fn passed_cell(decision: Option<Decision>, passed: Option<bool>) -> String {
    match (decision, passed) {
        (Some(Decision::NoDecision), _) => rules::NO_DECISION_LABEL.to_string(),
        (_, Some(true)) => "通过".to_string(),
        (_, Some(false)) => "未通过".to_string(),
        _ => String::new(),
    }
}

/// 评委会评议情况汇总表 for office staff, readable as opened: a bold frozen header, columns fitted
/// to their content (long opinions wrapped), A4 landscape fit to the page width when printed.
/// Counts are numbers; every text cell is text with a quote prefix, so an opinion or a name that
/// starts with `=`, `+`, `-` or `@` stays text even when a clerk edits the cell (the stored
/// value is unchanged: results.json and the recount read the same text).
fn results_xlsx(results: &model::Results, rehearsal: bool) -> Result<Vec<u8>> {
    // A rehearsal's workbook says so in every sheet's name (the tab a clerk sees first).
    let mark = |name: &str| if rehearsal { format!("彩排-{name}") } else { name.to_string() };
    use crate::sheet::{add_sheet, Cell};
    let mut wb = crate::sheet::workbook()?;
    let text = |v: &Option<String>| Cell::Text(v.clone().unwrap_or_default());
    let num = |v: Option<u64>| v.map_or(Cell::Text(String::new()), |x| Cell::Num(x as f64));
    let group_rows = results
        .applicants
        .iter()
        .filter(|a| a.group.is_some())
        .map(|a| {
            let g = a.group_result.as_ref();
            vec![
                Cell::Text(a.code.clone()),
                Cell::Text(a.name.clone()),
                Cell::Text(a.unit.clone()),
                Cell::Text(a.group_name.clone()),
                text(&a.score),
                Cell::Text(g.map(|g| passed_cell(g.decision, g.passed)).unwrap_or_default()),
                num(g.map(|g| g.counts.agree)),
                num(g.map(|g| g.counts.oppose)),
                num(g.map(|g| g.counts.abstain)),
                num(g.map(|g| g.counts.present)),
                Cell::Long(g.map(|g| g.opinion.clone()).unwrap_or_default()),
                Cell::Long(g.map(|g| g.override_reason.clone()).unwrap_or_default()),
            ]
        })
        .collect();
    add_sheet(
        &mut wb,
        &mark("专业组评议"),
        &[
            "编号",
            "姓名",
            "单位名称",
            "专业组",
            "得分",
            "是否通过",
            "同意票数",
            "反对票数",
            "弃权票数",
            "出席人数",
            "专业组评议",
            "改动理由",
        ],
        group_rows,
    )?;
    let committee_rows = results
        .applicants
        .iter()
        .map(|a| {
            let c = a.committee_result.as_ref();
            let outcome = match a.outcome {
                rules::Outcome::Passed => "通过",
                rules::Outcome::FailedGroup => "专业组未通过",
                rules::Outcome::NoDecision => rules::NO_DECISION_LABEL,
                rules::Outcome::FailedCommittee => "评委会未通过",
            };
            vec![
                Cell::Text(a.code.clone()),
                Cell::Text(a.name.clone()),
                Cell::Text(a.unit.clone()),
                Cell::Text(a.group_name.clone()),
                Cell::Text(c.map(|c| passed_cell(c.decision, c.passed)).unwrap_or_default()),
                num(c.map(|c| c.counts.agree)),
                num(c.map(|c| c.counts.oppose)),
                num(c.map(|c| c.counts.abstain)),
                num(c.map(|c| c.counts.present)),
                num(c.map(|c| c.needed)),
                Cell::Long(c.map(|c| c.opinion.clone()).unwrap_or_default()),
                Cell::Text(outcome.to_string()),
            ]
        })
        .collect();
    add_sheet(
        &mut wb,
        &mark("评委会评议"),
        &[
            "编号",
            "姓名",
            "单位名称",
            "专业组",
            "是否通过",
            "同意票数",
            "反对票数",
            "弃权票数",
            "出席人数",
            "需同意票数",
            "评委会评议",
            "最终结果",
        ],
        committee_rows,
    )?;
    // Every round of both stages, with its medium: a round voided by the switch to paper and
    // the paper round after it (issued / returned / invalid, the two clerks) stand in the record.
    let round_rows = results
        .rounds
        .iter()
        .map(|r| {
            let entry = r.entries.as_ref().and_then(|e| e.first());
            let clerks: Vec<&str> = r.entries.iter().flatten().map(|e| e.clerk.as_str()).collect();
            let medium = if r.medium.as_deref() == Some("paper") { "纸质" } else { "电子" };
            let status = match r.status.as_str() {
                "void" => "作废",
                "closed" => "已结束",
                "paper" => "纸质投票中",
                "open" => "进行中",
                _ => "未开启",
            };
            vec![
                Cell::Text(if r.stage == "committee" { "评委会".into() } else { format!("专业组 {}", r.scope) }),
                Cell::Num(r.round as f64),
                Cell::Text(medium.into()),
                Cell::Text(status.into()),
                Cell::Long(
                    [
                        r.medium_reason.clone().unwrap_or_default(),
                        r.void_reason.clone().flatten().unwrap_or_default(),
                        r.reason.clone(),
                    ]
                    .into_iter()
                    .filter(|x| !x.is_empty())
                    .collect::<Vec<_>>()
                    .join("；"),
                ),
                text(&r.opened_at),
                text(&r.closed_at),
                num(entry.map(|e| e.issued)),
                num(entry.map(|e| e.returned)),
                num(entry.map(|e| e.invalid)),
                Cell::Text(clerks.join("、")),
            ]
        })
        .collect();
    add_sheet(
        &mut wb,
        &mark("投票轮次"),
        &["阶段", "轮次", "方式", "状态", "原因", "开启时间", "结束时间", "发出选票", "收回选票", "无效选票", "计票人"],
        round_rows,
    )?;
    wb.save_to_buffer().map_err(Error::internal)
}

fn report_html(mut data: Value, t: &Templates, key: &Key, head: &str) -> Result<String> {
    data["standalone"] = json!(true);
    data["inline_css"] =
        json!(crate::render::static_asset("app.css").map(|(b, _)| String::from_utf8_lossy(&b).into_owned()));
    data["key_id"] = json!(key.id());
    data["fingerprint"] = json!(key.fingerprint());
    data["audit_head"] = json!(head);
    t.render("report.html", data)
}

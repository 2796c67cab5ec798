//! The full committee (大评委 / 评委会): attendance and quorum, the committee vote (the same
//! `ballot` protocol as the groups), results by `committee_pass_ratio`, the reporter's one-way
//! report that makes the session read-only, and the room display's release.

use crate::ballot::{self, Stage, Status, Tally};
use crate::error::{Error, Result};
use crate::review;
use crate::rules::{self, Decision, Quorum, RoundPresence};
use crate::store::{self, Db};
use crate::venue::{self, ApplicantRow, SessionView};
use rusqlite::{params, Connection};
use serde::Serialize;
use serde_json::json;
use std::collections::{HashMap, HashSet};
use std::sync::Arc;

/// The committee votes in one scope; its rounds live beside the groups' in `ballot`.
pub const SCOPE: &str = ballot::COMMITTEE_SCOPE;

pub use crate::store::meta;
use crate::store::set_meta;

/// When the reporter submitted, if they have: from then on the session is read-only.
pub fn reported(conn: &Connection) -> Result<Option<String>> {
    Ok(meta(conn, "reported_at")?.map(|s| store::display_time(&s)))
}

pub fn ensure_not_reported(conn: &Connection) -> Result<()> {
    if store::is_reported(conn)? {
        return Err(Error::reported());
    }
    Ok(())
}

pub fn current(conn: &Connection) -> Result<ballot::Vote> {
    ballot::latest(conn, Stage::Committee, SCOPE)?.ok_or_else(Error::not_found)
}

/// The quorum of a committee round with one meaning of "present" (DOMAIN decision 4): once
/// the round has opened, its frozen voters; before, those who would be frozen if it opened now.
pub fn quorum_of_round(conn: &Connection, session: &SessionView, v: &ballot::Vote) -> Result<Quorum> {
    let members: i64 = conn.query_row("SELECT count(*) FROM committee", [], |r| r.get(0))?;
    let frozen = match v.status {
        Status::Drafting => None,
        _ => Some(ballot::voters(conn, v)?.len() as u64),
    };
    let now = match frozen {
        Some(_) => 0,
        None => ballot::would_be_frozen(conn, Stage::Committee, SCOPE)?.len() as u64,
    };
    Ok(rules::quorum(&session.rules, members as u64, rules::present_members(frozen, now)))
}

/// The quorum of the committee's current round.
pub fn quorum(conn: &Connection, session: &SessionView) -> Result<Quorum> {
    quorum_of_round(conn, session, &current(conn)?)
}

#[derive(Debug, Clone, Serialize)]
pub struct GroupsPending {
    pub code: String,
    pub name: String,
}

pub fn groups_not_submitted(conn: &Connection) -> Result<Vec<GroupsPending>> {
    let mut st = conn.prepare(
        "SELECT code, name FROM groups WHERE code NOT IN (SELECT group_code FROM group_submissions) ORDER BY ord",
    )?;
    let rows = st
        .query_map([], |r| Ok(GroupsPending { code: r.get(0)?, name: r.get(1)? }))?
        .collect::<rusqlite::Result<_>>()?;
    Ok(rows)
}

/// The chair opens the committee vote: every group must have submitted, and the quorum must
/// hold among the members signed in, who are frozen as this round's voters.
pub fn open(db: &Db, session: &SessionView, actor: &str) -> Result<()> {
    let v = db.read(current)?;
    ballot::open(db, v.id, actor, |tx, present| may_open(tx, session, v.id, present))
}

/// The chair holds the committee's current round on paper (DOMAIN, paper rounds): a round
/// still drafting opens on paper under the same conditions as `open` (every group submitted,
/// the quorum among those present); an open electronic round becomes void and the next round
/// opens on paper for the same voters. Returns the paper round.
pub fn to_paper(db: &Db, session: &SessionView, actor: &str, reason: &str) -> Result<i64> {
    let v = db.read(current)?;
    ballot::paper::switch(db, v.id, actor, reason, |tx, present| may_open(tx, session, v.id, present))
}

/// Whether the committee's round may open with these members present.
fn may_open(tx: &crate::store::Tx, session: &SessionView, v: i64, present: &[String]) -> Result<()> {
    ensure_not_reported(tx)?;
    let pending = groups_not_submitted(tx)?;
    if !pending.is_empty() {
        let names: Vec<String> = pending.into_iter().map(|g| g.name).collect();
        return Err(Error::conflict(format!("以下专业组尚未提交评议结果：{}。", names.join("、"))));
    }
    if ballot::applicants_of(tx, v)?.is_empty() {
        return Err(Error::conflict("没有需要评委会表决的申报人。"));
    }
    let members: i64 = tx.query_row("SELECT count(*) FROM committee", [], |r| r.get(0))?;
    let q = rules::quorum(&session.rules, members as u64, present.len() as u64);
    if !q.reached {
        return Err(Error::conflict(format!(
            "出席评委 {} 人，不足评委总数 {} 人的 {}（至少需要 {} 人），不能开启投票。",
            q.present, q.members, q.ratio, q.needed
        )));
    }
    Ok(())
}

pub fn close(db: &Db, actor: &str) -> Result<()> {
    db.read(ensure_not_reported)?;
    let v = db.read(current)?;
    ballot::close(db, v.id, actor)
}

/// The chair repeats the vote for chosen applicants as a new round (reason required).
pub fn revote(db: &Db, applicants: &[String], reason: &str, actor: &str) -> Result<i64> {
    let at = db.now();
    db.write(|tx| {
        ensure_not_reported(tx)?;
        let in_committee = committee_applicants(tx)?;
        if let Some(a) = applicants.iter().find(|a| !in_committee.contains(a)) {
            return Err(Error::bad_request(format!("申报人「{a}」不在评委会表决范围内。")));
        }
        ballot::revote(tx, Stage::Committee, SCOPE, applicants, reason, actor, &at)
    })
}

/// Applicants the committee votes on: everyone in its first round (direct ones and those the
/// groups passed).
pub fn committee_applicants(conn: &Connection) -> Result<Vec<String>> {
    let first = ballot::rounds(conn, Stage::Committee, SCOPE)?.into_iter().next().ok_or_else(Error::not_found)?;
    ballot::applicants_of(conn, first.id)
}

#[derive(Debug, Clone, Serialize)]
pub struct GroupResult {
    pub agree: u64,
    pub oppose: u64,
    pub abstain: u64,
    pub present: u64,
    pub passed: bool,
    pub evaluation: String,
    pub opinion: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Row {
    pub applicant: ApplicantRow,
    pub score: Option<String>,
    pub group: Option<GroupResult>,
    pub tally: Option<Tally>,
    pub needed: Option<u64>,
    /// The latest closed round's decision (`rules::committee_decision`), none while pending.
    pub decision: Option<Decision>,
    pub passed: Option<bool>,
    /// 无法表决: nobody eligible voted (DOMAIN decision 2).
    pub no_decision: bool,
    pub pending: bool,
    pub opinion: String,
    pub rounds: Vec<ballot::RoundResult>,
}

/// Every group's deliberation rows, computed once for pages and printouts that need them all.
pub type GroupDeliberations = Vec<(venue::GroupView, Arc<Vec<review::DelibRow>>)>;

/// A submitted group's deliberation is final (nothing in the group can change after the
/// submission), so it is computed once per database and group, not on every committee page:
/// recomputing all groups was most of a committee page's time and of the server's heap peak.
/// Shared, not copied, by the pages that read it.
type FinalKey = (String, String, String); // database file, group, submitted at
type FinalCache = std::sync::Mutex<HashMap<FinalKey, Arc<Vec<review::DelibRow>>>>;

fn final_deliberations() -> &'static FinalCache {
    static CACHE: std::sync::OnceLock<FinalCache> = std::sync::OnceLock::new();
    CACHE.get_or_init(Default::default)
}

pub fn all_deliberations(conn: &Connection, session: &SessionView) -> Result<GroupDeliberations> {
    venue::groups(conn)?
        .into_iter()
        .map(|g| {
            let rows = deliberation_of(conn, session, &g.code)?;
            Ok((g, rows))
        })
        .collect()
}

/// One group's deliberation rows (from the cache once the group has submitted).
fn deliberation_of(conn: &Connection, session: &SessionView, group: &str) -> Result<Arc<Vec<review::DelibRow>>> {
    let db = conn.path().unwrap_or_default().to_string();
    let key = review::submitted(conn, group)?.map(|at| (db.clone(), group.to_string(), at));
    if let Some(k) = &key {
        if let Some(rows) = final_deliberations().lock().unwrap_or_else(|p| p.into_inner()).get(k) {
            return Ok(rows.clone());
        }
    }
    let rows = Arc::new(review::deliberation(conn, group, session)?);
    if let (Some(k), false) = (key, db.is_empty()) {
        final_deliberations().lock().unwrap_or_else(|p| p.into_inner()).insert(k, rows.clone());
    }
    Ok(rows)
}

/// The group's final tally and decision per applicant (latest closed group round).
fn group_results<'a>(rows: impl Iterator<Item = &'a review::DelibRow>) -> HashMap<String, GroupResult> {
    let mut out = HashMap::new();
    for r in rows {
        if let (Some(t), Some(passed)) = (&r.tally, r.passed) {
            out.insert(
                r.applicant.code.clone(),
                GroupResult {
                    agree: t.agree,
                    oppose: t.oppose,
                    abstain: t.abstain,
                    present: t.present,
                    passed,
                    evaluation: r.evaluation.clone(),
                    opinion: r.opinion.clone(),
                },
            );
        }
    }
    out
}

/// Who an applicant is, as a member's draft list shows it.
#[derive(Debug, Clone, Serialize)]
pub struct Brief {
    pub code: String,
    pub name: String,
    pub unit: String,
    pub group_name: String,
}

/// One line of a member's draft list: the applicant, the group's result, the score.
#[derive(Debug, Clone, Serialize)]
pub struct DraftLine {
    pub applicant: Brief,
    pub group: Option<GroupResult>,
    pub score: Option<String>,
}

/// Which applicants of a committee round a list shows.
pub enum Filter<'a> {
    All,
    /// Those sent straight to the committee, not through a group.
    Direct,
    Group(&'a str),
}

/// The member's draft list of a round: only what the list shows and only the lines asked for
/// (35 members paging through 25 groups built the full committee rows, with every round's
/// tally, on each view: most of the server's peak memory).
pub fn draft_lines(conn: &Connection, session: &SessionView, vote_id: i64, filter: Filter) -> Result<Vec<DraftLine>> {
    let group = match filter {
        Filter::Group(g) => Some(g),
        _ => None,
    };
    let mut st = conn.prepare_cached(
        "SELECT a.code, a.name, a.unit, coalesce(g.name, ''), a.group_code
         FROM vote_applicants v JOIN applicants a ON a.code = v.applicant_code
         LEFT JOIN groups g ON g.code = a.group_code
         WHERE v.vote_id = ?1 AND (?2 IS NULL OR a.group_code = ?2) ORDER BY a.ord",
    )?;
    let direct = matches!(filter, Filter::Direct);
    let rows: Vec<(Brief, Option<String>)> = st
        .query_map(params![vote_id, group], |r| {
            Ok((Brief { code: r.get(0)?, name: r.get(1)?, unit: r.get(2)?, group_name: r.get(3)? }, r.get(4)?))
        })?
        .filter(|r| !direct || matches!(r, Ok((_, None))))
        .collect::<rusqlite::Result<_>>()?;
    let deliberations: Vec<Arc<Vec<review::DelibRow>>> = match group {
        Some(g) => vec![deliberation_of(conn, session, g)?],
        None if direct => Vec::new(),
        None => all_deliberations(conn, session)?.into_iter().map(|(_, d)| d).collect(),
    };
    let mut results = group_results(deliberations.iter().flat_map(|d| d.iter()));
    let scores = review::scores_display(conn, session.rules.score, group)?;
    Ok(rows
        .into_iter()
        .map(|(applicant, _)| DraftLine {
            score: scores.get(&applicant.code).cloned(),
            group: results.remove(&applicant.code),
            applicant,
        })
        .collect())
}

/// Everything the committee pages show, per applicant before the committee: the group's
/// result, the committee's latest closed tally, votes needed and the computed outcome.
pub fn rows(conn: &Connection, session: &SessionView) -> Result<Vec<Row>> {
    rows_with(conn, session, &all_deliberations(conn, session)?)
}

/// `rows`, given the groups' deliberations already computed.
pub fn rows_with(conn: &Connection, session: &SessionView, deliberations: &GroupDeliberations) -> Result<Vec<Row>> {
    let scores = review::scores_display(conn, session.rules.score, None)?;
    let groups = group_results(deliberations.iter().flat_map(|(_, rows)| rows.iter()));
    let mut histories = ballot::histories(conn, Stage::Committee, SCOPE, &session.rules)?;
    let opinions: HashMap<String, String> = {
        let mut st = conn.prepare("SELECT applicant_code, opinion FROM committee_opinions")?;
        let rows = st.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?.collect::<rusqlite::Result<_>>()?;
        rows
    };
    let codes = committee_applicants(conn)?;
    let mut all: HashMap<String, ApplicantRow> = venue::search_applicants(conn, None, None, 1, i64::MAX / 4)?
        .rows
        .into_iter()
        .map(|a| (a.code.clone(), a))
        .collect();
    let mut out = Vec::new();
    for code in codes {
        let Some(applicant) = all.remove(&code) else { continue };
        let ballot::History { rounds: history, latest, pending } = histories.remove(&code).unwrap_or_default();
        let needed = latest.as_ref().map(|t| rules::votes_needed(&session.rules, t.present));
        let decision = match (&latest, pending) {
            (Some(t), false) => Some(rules::committee_decision(&session.rules, t.agree, t.present, t.eligible)),
            _ => None,
        };
        out.push(Row {
            score: scores.get(&code).cloned(),
            group: groups.get(&code).cloned(),
            applicant,
            tally: latest,
            needed,
            decision,
            passed: decision.and_then(Decision::passed),
            no_decision: decision == Some(Decision::NoDecision),
            pending,
            opinion: opinions.get(&code).cloned().unwrap_or_default(),
            rounds: history,
        });
    }
    Ok(out)
}

/// The reporter's 评委会评议 texts, saved before (or with) the report.
pub fn save_opinions(db: &Db, opinions: &[(String, String)], actor: &str) -> Result<()> {
    let at = db.now();
    db.write(|tx| {
        ensure_not_reported(tx)?;
        let codes = committee_applicants(tx)?;
        for (a, text) in opinions {
            if !codes.contains(a) {
                return Err(Error::bad_request(format!("申报人「{a}」不在评委会表决范围内。")));
            }
            if text.chars().count() > 2000 {
                return Err(Error::bad_request("评委会评议不能超过 2000 字。"));
            }
            tx.execute(
                "INSERT INTO committee_opinions (applicant_code, opinion, updated_at) VALUES (?1, ?2, ?3)
                 ON CONFLICT (applicant_code) DO UPDATE SET opinion = excluded.opinion, updated_at = excluded.updated_at",
                params![a, text.trim(), at],
            )?;
        }
        store::audit(tx, &at, actor, "committee.opinions", SCOPE, json!({ "count": opinions.len() }))
    })
}

/// 确定提交 by the reporter: one-way. Every applicant needs a closed committee result.
pub fn report(db: &Db, session: &SessionView, actor: &str) -> Result<()> {
    let at = db.now();
    db.write(|tx| {
        ensure_not_reported(tx)?;
        let rows = rows(tx, session)?;
        if rows.is_empty() {
            return Err(Error::conflict("没有评委会表决结果，不能上报。"));
        }
        if let Some(r) = rows.iter().find(|r| r.decision.is_none()) {
            return Err(Error::conflict(format!("申报人 {} 还没有结束的评委会投票，不能上报。", r.applicant.code)));
        }
        set_meta(tx, "reported_by", actor)?;
        // The bundle's ballot order: fixed now, unrelated to the order ballots were cast.
        set_meta(tx, "ballot_seed", &crate::ids::random_token())?;
        let passed = rows.iter().filter(|r| r.passed == Some(true)).count();
        let no_decision = rows.iter().filter(|r| r.no_decision).count();
        store::audit(
            tx,
            &at,
            actor,
            "committee.report",
            SCOPE,
            json!({ "applicants": rows.len(), "passed": passed, "no_decision": no_decision }),
        )?;
        // The final line closes the chain the bundle signs; later logins are not part of it.
        store::audit(tx, &at, "system", "audit.close", SCOPE, json!({}))?;
        let seq: i64 = tx.query_row("SELECT max(seq) FROM audit", [], |r| r.get(0))?;
        set_meta(tx, "audit_close_seq", &seq.to_string())?;
        // Last: from this row on the schema's triggers refuse every write but web sessions.
        set_meta(tx, "reported_at", &at)
    })
}

/// 当前阶段, derived from the state (never stored, so it cannot go stale).
pub fn phase(conn: &Connection) -> Result<&'static str> {
    if store::is_reported(conn)? {
        return Ok("已上报，会务结束");
    }
    let Some(c) = ballot::latest(conn, Stage::Committee, SCOPE)? else { return Ok("尚未导入会务包") };
    match c.status {
        Status::Open => return Ok("评委会投票进行中"),
        // A void round is always followed by its paper round; it is never the latest.
        Status::Paper | Status::Void => return Ok("评委会纸质投票进行中"),
        Status::Closed => return Ok("评委会投票已结束，待上报"),
        Status::Drafting => {}
    }
    let groups_open: bool =
        conn.query_row("SELECT EXISTS (SELECT 1 FROM votes WHERE stage = 'group' AND status = 'open')", [], |r| {
            r.get(0)
        })?;
    if groups_open {
        return Ok("专业组投票进行中");
    }
    let all_groups_done = groups_not_submitted(conn)?.is_empty();
    let started: bool = conn.query_row(
        "SELECT EXISTS (SELECT 1 FROM drafts) OR EXISTS (SELECT 1 FROM scores)
             OR EXISTS (SELECT 1 FROM votes WHERE status <> 'drafting')",
        [],
        |r| r.get(0),
    )?;
    Ok(match (all_groups_done, started) {
        (true, true) => "专业组评议已提交，评委会拟投票",
        (false, true) => "专业组评审中",
        _ => "准备中（可重新导入）",
    })
}

/// The chair releases (or hides) the results on the room display.
pub fn set_released(db: &Db, released: bool, actor: &str) -> Result<()> {
    let at = db.now();
    db.write(|tx| {
        set_meta(tx, "results_released", if released { "1" } else { "0" })?;
        store::audit(tx, &at, actor, "display.release", SCOPE, json!({ "released": released }))
    })
}

pub fn released(conn: &Connection) -> Result<bool> {
    Ok(meta(conn, "results_released")?.as_deref() == Some("1"))
}

/// The room display's secret link token, made on first use; rotating it revokes old links.
pub fn display_token(db: &Db, rotate: bool, actor: &str) -> Result<String> {
    if !rotate {
        if let Some(t) = db.read(|c| meta(c, "display_token"))? {
            return Ok(t);
        }
    }
    let token = crate::ids::random_token();
    let at = db.now();
    db.write(|tx| {
        set_meta(tx, "display_token", &token)?;
        store::audit(tx, &at, actor, "display.token", SCOPE, json!({}))
    })?;
    Ok(token)
}

/// One member's presence in one committee round (DOMAIN decision 4).
#[derive(Debug, Clone, Serialize)]
pub struct RoundMark {
    pub round: i64,
    pub presence: RoundPresence,
    pub label: &'static str,
}

#[derive(Debug, Clone, Serialize)]
pub struct MemberPresence {
    pub code: String,
    pub name: String,
    pub is_chair: bool,
    pub is_reporter: bool,
    /// First sign-in (or staff check-in) time.
    pub signed_in_at: Option<String>,
    /// 代为签到: checked in by staff (DOMAIN decision 5).
    pub staff_check_in: bool,
    /// 离场: marked as gone; not frozen into rounds opened afterwards.
    pub left_at: Option<String>,
    /// Per committee round that has opened: voter, 迟到 or absent.
    pub rounds: Vec<RoundMark>,
}

pub fn attendance(conn: &Connection) -> Result<Vec<MemberPresence>> {
    let opened: Vec<(i64, String, HashSet<String>)> = ballot::rounds(conn, Stage::Committee, SCOPE)?
        .into_iter()
        .filter_map(|v| v.opened_at.clone().map(|at| (v, at)))
        .map(|(v, at)| Ok((v.round, at, ballot::voters(conn, &v)?.into_iter().collect())))
        .collect::<Result<_>>()?;
    let mut st = conn.prepare(
        "SELECT c.expert_code, e.name, c.is_chair, c.is_reporter, a.signed_in_at, a.method, a.left_at FROM committee c
         JOIN experts e ON e.code = c.expert_code LEFT JOIN attendance a ON a.person_code = c.expert_code ORDER BY c.ord",
    )?;
    let rows = st
        .query_map([], |r| {
            let code: String = r.get(0)?;
            let signed_in_at = r.get::<_, Option<String>>(4)?.map(|s| store::display_time(&s));
            let rounds = opened
                .iter()
                .map(|(round, at, voters)| {
                    let presence = rules::round_presence(voters.contains(&code), signed_in_at.as_deref(), at);
                    RoundMark { round: *round, presence, label: presence.label() }
                })
                .collect();
            Ok(MemberPresence {
                code,
                name: r.get(1)?,
                is_chair: r.get(2)?,
                is_reporter: r.get(3)?,
                signed_in_at,
                staff_check_in: r.get::<_, Option<String>>(5)?.as_deref() == Some("admin"),
                left_at: r.get::<_, Option<String>>(6)?.map(|s| store::display_time(&s)),
                rounds,
            })
        })?
        .collect::<rusqlite::Result<_>>()?;
    Ok(rows)
}

/// A counted paper round's line in the minutes: ballots issued / returned / invalid (both
/// clerks entered the same) and the clerks' accounts; `null` for any other round.
fn paper_note(c: &rusqlite::Connection, v: &ballot::Vote) -> Result<serde_json::Value> {
    let pair = ballot::paper::accepted(c, v)?;
    Ok(match pair.first() {
        Some(a) => json!({
            "issued": a.entry.issued, "returned": a.entry.returned, "invalid": a.entry.invalid,
            "clerks": pair.iter().map(|x| x.clerk.as_str()).collect::<Vec<_>>(),
        }),
        None => serde_json::Value::Null,
    })
}

/// The data of the minutes (会议记录) and the summary table (评委会评议情况汇总表).
pub fn minutes(db: &Db) -> Result<serde_json::Value> {
    let s = db.read(venue::session)?.ok_or_else(Error::not_found)?;
    db.read(|c| {
        let groups = all_deliberations(c, &s)?;
        let rows = rows_with(c, &s, &groups)?;
        minutes_with(c, &s, &groups, &rows, true)
    })
}

/// `minutes` from the groups' deliberations and the committee rows already computed.
pub fn minutes_with(
    c: &rusqlite::Connection,
    s: &SessionView,
    groups: &GroupDeliberations,
    rows: &[Row],
    with_summary: bool,
) -> Result<serde_json::Value> {
    // Per round: who was frozen but did not vote (closed rounds only; an open one is not over),
    // and for a counted paper round its ballots issued / returned / invalid and its clerks.
    let round_notes = |stage: ballot::Stage, scope: &str| -> Result<Vec<serde_json::Value>> {
        ballot::rounds(c, stage, scope)?
            .into_iter()
            .map(|v| {
                let missing = if v.status == Status::Closed { ballot::not_submitted(c, v.id)? } else { Vec::new() };
                Ok(json!({ "round": v, "not_voted": missing, "paper": paper_note(c, &v)? }))
            })
            .collect()
    };
    let mut group_rows = Vec::new();
    for (g, delib) in groups {
        let leads = review::lead_reviewers(c, &g.code)?;
        let mut opinions = review::lead_opinions_of_group(c, &g.code)?;
        // 主审专家 and 主审意见 beside each applicant's result.
        let lead_info: HashMap<&str, serde_json::Value> = delib
            .iter()
            .map(|r| {
                let code = r.applicant.code.as_str();
                let names: Vec<&str> =
                    leads.get(code).map(|l| l.iter().map(|(_, n)| n.as_str()).collect()).unwrap_or_default();
                (code, json!({ "leads": names, "opinions": opinions.remove(code).unwrap_or_default() }))
            })
            .collect();
        group_rows.push(json!({
            "group": g,
            "rows": delib.as_slice(),
            "leads": lead_info,
            "rounds": ballot::rounds(c, ballot::Stage::Group, &g.code)?,
            "round_notes": round_notes(ballot::Stage::Group, &g.code)?,
            "submitted": review::submitted(c, &g.code)?,
        }));
    }
    let committee_rounds = ballot::rounds(c, ballot::Stage::Committee, SCOPE)?;
    let members = attendance(c)?;
    let mut round_voters = Vec::new();
    for v in &committee_rounds {
        let voters = ballot::voters(c, v)?;
        let names: Vec<String> = voters
            .iter()
            .map(|code| c.query_row("SELECT name FROM experts WHERE code = ?1", [code], |r| r.get(0)))
            .collect::<rusqlite::Result<_>>()?;
        let late: Vec<&str> = members
            .iter()
            .filter(|m| m.rounds.iter().any(|x| x.round == v.round && x.presence == RoundPresence::Late))
            .map(|m| m.name.as_str())
            .collect();
        let not_voted = if v.status == Status::Closed { ballot::not_submitted(c, v.id)? } else { Vec::new() };
        round_voters.push(
            json!({ "round": v, "present": names, "late": late, "not_voted": not_voted, "paper": paper_note(c, v)? }),
        );
    }
    let all_applicants =
        if with_summary { venue::search_applicants(c, None, None, 1, i64::MAX / 4)?.rows } else { vec![] };
    let in_committee: std::collections::HashMap<&str, &Row> =
        rows.iter().map(|r| (r.applicant.code.as_str(), r)).collect();
    let group_by_code: std::collections::HashMap<&str, &review::DelibRow> =
        groups.iter().flat_map(|(_, d)| d.iter()).map(|r| (r.applicant.code.as_str(), r)).collect();
    // 评委会评议情况汇总表 per group (DOMAIN: per group), the groups in package order and those
    // sent straight to the committee last, each with its totals.
    let mut summary: Vec<(String, Vec<serde_json::Value>, [u64; 5])> =
        groups.iter().map(|(g, _)| (g.name.clone(), Vec::new(), [0; 5])).collect();
    summary.push(("直接评委会评审".to_string(), Vec::new(), [0; 5]));
    let direct = summary.len() - 1;
    for a in &all_applicants {
        let cm = in_committee.get(a.code.as_str());
        let g = group_by_code.get(a.code.as_str());
        let slot = match &a.group_code {
            Some(code) => groups.iter().position(|(g, _)| &g.code == code).unwrap_or(direct),
            None => direct,
        };
        let (_, list, t) = &mut summary[slot];
        // [applicants, passed the group, passed the committee, failed, no decision]
        t[0] += 1;
        if g.is_some_and(|r| r.passed == Some(true)) {
            t[1] += 1;
        }
        match (cm.and_then(|r| r.decision), g.is_some_and(|r| r.no_decision)) {
            (Some(Decision::Passed), _) => t[2] += 1,
            (Some(Decision::NoDecision), _) | (None, true) => t[4] += 1,
            _ => t[3] += 1,
        }
        list.push(json!({ "a": a, "group": g, "committee": cm, "reached_committee": cm.is_some() }));
    }
    let summary: Vec<serde_json::Value> = summary
        .into_iter()
        .filter(|(_, list, _)| !list.is_empty())
        .map(|(name, list, t)| {
            json!({ "name": name, "rows": list, "totals": { "applicants": t[0], "group_passed": t[1],
                    "passed": t[2], "failed": t[3], "no_decision": t[4] } })
        })
        .collect();
    // The rounds held on paper, for the printouts' notes (汇总表 marks their counts with *).
    let mut paper_rounds = Vec::new();
    for v in ballot::paper::all(c)? {
        let scope_name: String = match v.stage {
            ballot::Stage::Committee => "评委会".into(),
            ballot::Stage::Group => c.query_row("SELECT name FROM groups WHERE code = ?1", [&v.scope], |r| r.get(0))?,
        };
        paper_rounds.push(json!({ "scope_name": scope_name, "round": v.round, "reason": v.medium_reason }));
    }
    Ok(json!({
        "paper_rounds": paper_rounds,
        "rows": rows,
        "groups": group_rows,
        "committee_rounds": round_voters,
        "attendance": members,
        "quorum": quorum(c, s)?,
        "reported": reported(c)?,
        "summary": summary,
        // DOMAIN decision 2: listed apart for the office, from both stages.
        "no_decision": groups
            .iter()
            .flat_map(|(g, d)| d.iter().filter(|r| r.no_decision && !r.pending).map(move |r| (g.name.as_str(), &r.applicant)))
            .map(|(stage, a)| json!({ "a": a, "stage": stage }))
            .chain(rows.iter().filter(|r| r.no_decision).map(|r| json!({ "a": r.applicant, "stage": "评委会" })))
            .collect::<Vec<_>>(),
        "chart": bars_svg(&bars(rows)),
        "s": s,
    }))
}

/// 按专业统计 of the committee's outcomes.
pub fn bars(rows: &[Row]) -> Vec<review::SpecialtyStat> {
    review::by_specialty(rows.iter().map(|r| (r.applicant.specialty.as_str(), r.passed)))
}

/// The chart as inline SVG drawn here: no JavaScript library, prints cleanly.
pub fn bars_svg(bars: &[review::SpecialtyStat]) -> String {
    let esc = |s: &str| s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;");
    let max = bars.iter().map(|b| b.passed + b.failed).max().unwrap_or(0).max(1);
    let (label_w, bar_w, row_h) = (140.0, 420.0, 34.0);
    let height = 40.0 + row_h * bars.len() as f64;
    let mut s = format!(
        r##"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {w} {height}" width="100%" role="img" aria-label="按专业统计" class="chart">"##,
        w = label_w + bar_w + 80.0
    );
    s.push_str(r##"<g font-size="13" fill="#1f2933">"##);
    s.push_str(&format!(
        r##"<rect x="{label_w}" y="6" width="12" height="12" fill="#1e7b34"/><text x="{}" y="17">通过</text><rect x="{}" y="6" width="12" height="12" fill="#c4ccd6"/><text x="{}" y="17">未通过</text>"##,
        label_w + 16.0,
        label_w + 70.0,
        label_w + 86.0
    ));
    for (i, b) in bars.iter().enumerate() {
        let y = 30.0 + row_h * i as f64;
        let pw = bar_w * b.passed as f64 / max as f64;
        let fw = bar_w * b.failed as f64 / max as f64;
        s.push_str(&format!(
            r##"<text x="{}" y="{}" text-anchor="end">{}</text><rect x="{label_w}" y="{y}" width="{pw:.1}" height="22" fill="#1e7b34"/><rect x="{}" y="{y}" width="{fw:.1}" height="22" fill="#c4ccd6"/><text x="{}" y="{}">{} / {}</text>"##,
            label_w - 8.0,
            y + 16.0,
            esc(&b.specialty),
            label_w + pw,
            label_w + pw + fw + 6.0,
            y + 16.0,
            b.passed,
            b.failed
        ));
    }
    s.push_str("</g></svg>");
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chart_escapes_labels() {
        let svg = bars_svg(&[review::SpecialtyStat {
            specialty: "<b>x".into(),
            applicants: 3,
            passed: 2,
            failed: 1,
            undecided: 0,
        }]);
        assert!(svg.contains("&lt;b&gt;x") && !svg.contains("<b>x"));
        assert!(svg.starts_with("<svg"));
    }
}

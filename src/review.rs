//! The professional-group stage (专业组): lead reviewers and their opinions, interview
//! questions, defense scores, and the group's deliberation (专业组评议). Voting itself is
//! `ballot`'s protocol; this module adds what only the group stage has.

use crate::ballot::{self, Stage, Tally};
use crate::error::{Error, Result};
use crate::rules::{self, Decision, Mode, ScoreRule};
use crate::store::{self, Db, Tx};
use crate::venue::{self, ApplicantRow, SessionView};
use rusqlite::{params, Connection, OptionalExtension};
use serde::Serialize;
use serde_json::json;
use std::collections::{HashMap, HashSet};

#[derive(Debug, Clone, Serialize)]
pub struct GroupExpert {
    pub code: String,
    pub name: String,
    pub phone: String,
    pub title: String,
    pub title_level: String,
    pub specialty: String,
    pub id_number: String,
    pub gender: String,
}

pub fn group_experts(conn: &Connection, group: &str) -> Result<Vec<GroupExpert>> {
    let mut st = conn.prepare(
        "SELECT code, name, phone, title, title_level, specialty, id_number, gender FROM experts WHERE group_code = ?1 ORDER BY ord",
    )?;
    let rows = st
        .query_map([group], |r| {
            Ok(GroupExpert {
                code: r.get(0)?,
                name: r.get(1)?,
                phone: r.get(2)?,
                title: r.get(3)?,
                title_level: r.get(4)?,
                specialty: r.get(5)?,
                id_number: venue::mask_id(&r.get::<_, String>(6)?),
                gender: r.get(7)?,
            })
        })?
        .collect::<rusqlite::Result<_>>()?;
    Ok(rows)
}

pub fn group_applicants(conn: &Connection, group: &str) -> Result<Vec<ApplicantRow>> {
    venue::applicants_of_group(conn, group)
}

pub fn submitted(conn: &Connection, group: &str) -> Result<Option<String>> {
    Ok(conn
        .query_row("SELECT submitted_at FROM group_submissions WHERE group_code = ?1", [group], |r| {
            r.get::<_, String>(0)
        })
        .optional()?
        .map(|s| store::display_time(&s)))
}

fn ensure_open_for_work(tx: &Tx, group: &str) -> Result<()> {
    let done: bool =
        tx.query_row("SELECT EXISTS (SELECT 1 FROM group_submissions WHERE group_code = ?1)", [group], |r| r.get(0))?;
    if done {
        return Err(Error::conflict("本组评议结果已提交，不能再修改。"));
    }
    Ok(())
}

fn applicant_group(tx: &Connection, applicant: &str) -> Result<Option<String>> {
    tx.query_row("SELECT group_code FROM applicants WHERE code = ?1", [applicant], |r| r.get::<_, Option<String>>(0))
        .optional()?
        .ok_or_else(Error::not_found)
}

/// Lead reviewers of every applicant of the group: applicant → [(code, name)].
pub fn lead_reviewers(conn: &Connection, group: &str) -> Result<HashMap<String, Vec<(String, String)>>> {
    let mut st = conn.prepare(
        "SELECT l.applicant_code, e.code, e.name FROM lead_reviewers l JOIN experts e ON e.code = l.expert_code
         JOIN applicants a ON a.code = l.applicant_code WHERE a.group_code = ?1 ORDER BY e.ord",
    )?;
    let mut out: HashMap<String, Vec<(String, String)>> = HashMap::new();
    for row in
        st.query_map([group], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?, r.get::<_, String>(2)?)))?
    {
        let (a, c, n) = row?;
        out.entry(a).or_default().push((c, n));
    }
    Ok(out)
}

pub fn is_lead(conn: &Connection, applicant: &str, expert: &str) -> Result<bool> {
    Ok(conn.query_row(
        "SELECT EXISTS (SELECT 1 FROM lead_reviewers WHERE applicant_code = ?1 AND expert_code = ?2)",
        [applicant, expert],
        |r| r.get(0),
    )?)
}

fn set_leads_tx(tx: &Tx, group: &str, applicant: &str, experts: &[String], actor: &str, at: &str) -> Result<()> {
    if applicant_group(tx, applicant)?.as_deref() != Some(group) {
        return Err(Error::forbidden_msg("该申报人不属于本组。"));
    }
    let members: Vec<String> = group_experts(tx, group)?.into_iter().map(|e| e.code).collect();
    for e in experts {
        if !members.contains(e) {
            return Err(Error::bad_request(format!("专家「{e}」不是本组成员。")));
        }
        if ballot::is_recused(tx, e, applicant)? {
            return Err(Error::bad_request(format!("专家「{e}」需回避该申报人，不能担任主审专家。")));
        }
    }
    let before: Vec<String> = {
        let mut st =
            tx.prepare("SELECT expert_code FROM lead_reviewers WHERE applicant_code = ?1 ORDER BY expert_code")?;
        let rows = st.query_map([applicant], |r| r.get(0))?.collect::<rusqlite::Result<_>>()?;
        rows
    };
    tx.execute("DELETE FROM lead_reviewers WHERE applicant_code = ?1", [applicant])?;
    for e in experts {
        tx.execute(
            "INSERT OR IGNORE INTO lead_reviewers (applicant_code, expert_code) VALUES (?1, ?2)",
            [applicant, e],
        )?;
    }
    store::audit(tx, at, actor, "lead.assign", applicant, json!({ "before": before, "after": experts }))
}

/// Sets the lead reviewers of one applicant (one or more; recused experts refused).
pub fn set_leads(db: &Db, group: &str, applicant: &str, experts: &[String], actor: &str) -> Result<()> {
    let at = db.now();
    db.write(|tx| {
        ensure_open_for_work(tx, group)?;
        set_leads_tx(tx, group, applicant, experts, actor, &at)
    })
}

/// Applies a whole assignment (the confirmed suggestion) in one transaction.
pub fn set_all_leads(db: &Db, group: &str, pairs: &[(String, String)], actor: &str) -> Result<()> {
    let at = db.now();
    let mut by_app: Vec<(String, Vec<String>)> = Vec::new();
    for (a, e) in pairs {
        match by_app.iter_mut().find(|(x, _)| x == a) {
            Some((_, v)) => v.push(e.clone()),
            None => by_app.push((a.clone(), vec![e.clone()])),
        }
    }
    db.write(|tx| {
        ensure_open_for_work(tx, group)?;
        for (a, es) in &by_app {
            set_leads_tx(tx, group, a, es, actor, &at)?;
        }
        Ok(())
    })
}

/// A balanced proposal: each applicant gets the non-recused expert with the fewest
/// assignments so far (ties by package order). By default only applicants without a lead
/// reviewer get one, and the leads already picked count in the balance; `replace_all`
/// proposes anew for everyone. The leader reviews it before confirming.
pub fn suggest_leads(conn: &Connection, group: &str, replace_all: bool) -> Result<Vec<(String, String)>> {
    let experts = group_experts(conn, group)?;
    let mut load: Vec<usize> = vec![0; experts.len()];
    let current = lead_reviewers(conn, group)?;
    if !replace_all {
        for leads in current.values() {
            for (code, _) in leads {
                if let Some(i) = experts.iter().position(|e| &e.code == code) {
                    load[i] += 1;
                }
            }
        }
    }
    let mut out = Vec::new();
    for a in group_applicants(conn, group)? {
        if !replace_all && current.get(&a.code).is_some_and(|l| !l.is_empty()) {
            continue;
        }
        let mut best: Option<usize> = None;
        for (i, e) in experts.iter().enumerate() {
            if ballot::is_recused(conn, &e.code, &a.code)? {
                continue;
            }
            if best.is_none_or(|b| load[i] < load[b]) {
                best = Some(i);
            }
        }
        if let Some(i) = best {
            load[i] += 1;
            out.push((a.code.clone(), experts[i].code.clone()));
        }
    }
    Ok(out)
}

#[derive(Debug, Clone, Serialize)]
pub struct Note {
    pub expert_code: String,
    pub expert_name: String,
    pub text: String,
    pub updated_at: String,
}

fn notes(conn: &Connection, table: &str, applicant: &str) -> Result<Vec<Note>> {
    let mut st = conn.prepare(&format!(
        "SELECT n.expert_code, e.name, n.text, n.updated_at FROM {table} n JOIN experts e ON e.code = n.expert_code
         WHERE n.applicant_code = ?1 ORDER BY e.ord"
    ))?;
    let rows = st
        .query_map([applicant], |r| {
            Ok(Note {
                expert_code: r.get(0)?,
                expert_name: r.get(1)?,
                text: r.get(2)?,
                updated_at: store::display_time(&r.get::<_, String>(3)?),
            })
        })?
        .collect::<rusqlite::Result<_>>()?;
    Ok(rows)
}

/// 面试题 of every applicant of a group, by applicant (one query for a list page).
pub fn questions_of_group(conn: &Connection, group: &str) -> Result<HashMap<String, Vec<Note>>> {
    notes_of_group(conn, NoteKind::Question, group)
}

/// 主审意见 of every applicant of a group, in one query (the minutes print them all).
pub fn lead_opinions_of_group(conn: &Connection, group: &str) -> Result<HashMap<String, Vec<Note>>> {
    notes_of_group(conn, NoteKind::LeadOpinion, group)
}

fn notes_of_group(conn: &Connection, kind: NoteKind, group: &str) -> Result<HashMap<String, Vec<Note>>> {
    let mut st = conn.prepare_cached(&format!(
        "SELECT n.applicant_code, n.expert_code, e.name, n.text, n.updated_at FROM {} n
         JOIN experts e ON e.code = n.expert_code JOIN applicants a ON a.code = n.applicant_code
         WHERE a.group_code = ?1 ORDER BY e.ord",
        kind.table()
    ))?;
    let mut out: HashMap<String, Vec<Note>> = HashMap::new();
    let rows = st.query_map([group], |r| {
        Ok((
            r.get::<_, String>(0)?,
            Note {
                expert_code: r.get(1)?,
                expert_name: r.get(2)?,
                text: r.get(3)?,
                updated_at: store::display_time(&r.get::<_, String>(4)?),
            },
        ))
    })?;
    for row in rows {
        let (a, n) = row?;
        out.entry(a).or_default().push(n);
    }
    Ok(out)
}

/// The applicants this expert is a lead reviewer (主审) of.
pub fn lead_of(conn: &Connection, expert: &str) -> Result<HashSet<String>> {
    let mut st = conn.prepare_cached("SELECT applicant_code FROM lead_reviewers WHERE expert_code = ?1")?;
    let rows = st.query_map([expert], |r| r.get(0))?.collect::<rusqlite::Result<_>>()?;
    Ok(rows)
}

pub fn lead_opinions(conn: &Connection, applicant: &str) -> Result<Vec<Note>> {
    notes(conn, "lead_opinions", applicant)
}

pub fn questions(conn: &Connection, applicant: &str) -> Result<Vec<Note>> {
    notes(conn, "interview_questions", applicant)
}

const MAX_NOTE: usize = 2000;

/// The lead reviewer writes (or rewrites) their 主审意见 / 面试题 for an applicant.
pub fn write_note(db: &Db, kind: NoteKind, applicant: &str, expert: &str, text: &str) -> Result<()> {
    if text.chars().count() > MAX_NOTE {
        return Err(Error::bad_request(format!("内容不能超过 {MAX_NOTE} 字。")));
    }
    let at = db.now();
    db.write(|tx| {
        let group = applicant_group(tx, applicant)?.ok_or_else(Error::forbidden)?;
        ensure_open_for_work(tx, &group)?;
        if !is_lead(tx, applicant, expert)? {
            return Err(Error::forbidden_msg("只有该申报人的主审专家可以填写。"));
        }
        if kind == NoteKind::Question && !scoring_open(tx, &group)? {
            return Err(Error::conflict("评分已结束，面试题不能再修改。"));
        }
        let table = kind.table();
        if text.trim().is_empty() {
            tx.execute(&format!("DELETE FROM {table} WHERE applicant_code = ?1 AND expert_code = ?2"), [applicant, expert])?;
        } else {
            tx.execute(
                &format!(
                    "INSERT INTO {table} (applicant_code, expert_code, text, updated_at) VALUES (?1, ?2, ?3, ?4)
                     ON CONFLICT (applicant_code, expert_code) DO UPDATE SET text = excluded.text, updated_at = excluded.updated_at"
                ),
                params![applicant, expert, text.trim(), at],
            )?;
        }
        store::audit(tx, &at, expert, kind.action(), applicant, json!({}))
    })
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NoteKind {
    LeadOpinion,
    Question,
}

impl NoteKind {
    fn table(self) -> &'static str {
        match self {
            NoteKind::LeadOpinion => "lead_opinions",
            NoteKind::Question => "interview_questions",
        }
    }
    fn action(self) -> &'static str {
        match self {
            NoteKind::LeadOpinion => "lead.opinion",
            NoteKind::Question => "interview.question",
        }
    }
}

fn scoring_closed_key(group: &str) -> String {
    format!("scoring_closed.{group}")
}

/// Scoring (and setting interview questions) is open until it is closed (DOMAIN decision 1):
/// by the leader (评分结束), by itself when every group expert has scored every applicant they
/// may score, or when the group's vote opens. While open, nobody sees an aggregate.
pub fn scoring_open(conn: &Connection, group: &str) -> Result<bool> {
    if store::meta(conn, &scoring_closed_key(group))?.is_some() {
        return Ok(false);
    }
    let first: Option<String> = conn
        .query_row("SELECT status FROM votes WHERE stage = 'group' AND scope = ?1 AND round = 1", [group], |r| r.get(0))
        .optional()?;
    Ok(first.as_deref() == Some("drafting"))
}

/// When scoring closed, if it has.
pub fn scoring_closed_at(conn: &Connection, group: &str) -> Result<Option<String>> {
    Ok(store::meta(conn, &scoring_closed_key(group))?.map(|t| store::display_time(&t)))
}

fn close_scoring_tx(tx: &Tx, group: &str, actor: &str, at: &str, why: &str) -> Result<()> {
    if store::meta(tx, &scoring_closed_key(group))?.is_some() {
        return Ok(());
    }
    store::set_meta(tx, &scoring_closed_key(group), at)?;
    store::audit(tx, at, actor, "score.close", group, json!({ "reason": why }))
}

/// 评分结束 by the leader: scores lock and 得分 appears in every list.
pub fn close_scoring(db: &Db, mode: Mode, group: &str, actor: &str) -> Result<()> {
    if !mode.has_scores() {
        return Err(Error::conflict("本次评审不含答辩打分，没有评分需要结束。"));
    }
    let at = db.now();
    db.write(|tx| {
        ensure_open_for_work(tx, group)?;
        if !scoring_open(tx, group)? {
            return Err(Error::conflict("评分已经结束。"));
        }
        close_scoring_tx(tx, group, actor, &at, "closed by leader")
    })
}

/// The leader opens the group's vote; in the defense modes that also closes scoring.
pub fn open_vote(db: &Db, mode: Mode, group: &str, vote_id: i64, actor: &str) -> Result<()> {
    let at = db.now();
    ballot::open(db, vote_id, actor, |tx, _| {
        if mode.has_scores() {
            close_scoring_tx(tx, group, actor, &at, "vote opened")?;
        }
        Ok(())
    })
}

/// The leader holds the group's current round on paper (DOMAIN, paper rounds): a round still
/// drafting opens on paper (scoring closes as at any opening); an open electronic round becomes
/// void and the next round opens on paper for the same voters. Returns the paper round.
pub fn to_paper(db: &Db, mode: Mode, group: &str, vote_id: i64, actor: &str, reason: &str) -> Result<i64> {
    db.read(|c| {
        let v = ballot::vote(c, vote_id)?.ok_or_else(Error::not_found)?;
        if v.stage != Stage::Group || v.scope != group {
            return Err(Error::forbidden());
        }
        Ok(())
    })?;
    let at = db.now();
    ballot::paper::switch(db, vote_id, actor, reason, |tx, _| {
        ensure_open_for_work(tx, group)?;
        if mode.has_scores() {
            close_scoring_tx(tx, group, actor, &at, "vote opened on paper")?;
        }
        Ok(())
    })
}

pub use crate::rules::{format_tenths, parse_score};

/// Group experts who have not yet scored every applicant they may score, while scoring is
/// open in a defense mode (names, for the leader's switch dialog); empty otherwise.
pub fn not_scored(conn: &Connection, mode: Mode, group: &str) -> Result<Vec<String>> {
    if !mode.has_scores() || !scoring_open(conn, group)? {
        return Ok(Vec::new());
    }
    let mut st = conn.prepare_cached(
        "SELECT e.name FROM experts e WHERE e.group_code = ?1 AND EXISTS (
            SELECT 1 FROM applicants a WHERE a.group_code = ?1
              AND NOT EXISTS (SELECT 1 FROM recusals r WHERE r.expert_code = e.code AND r.applicant_code = a.code)
              AND NOT EXISTS (SELECT 1 FROM scores s WHERE s.expert_code = e.code AND s.applicant_code = a.code))
         ORDER BY e.ord",
    )?;
    let rows = st.query_map([group], |r| r.get(0))?.collect::<rusqlite::Result<_>>()?;
    Ok(rows)
}

/// 得分 of every scored applicant (all groups), as "87.2".
/// Each applicant's shown score: of one group's applicants, or of everyone (`None`).
pub fn scores_display(conn: &Connection, rule: ScoreRule, group: Option<&str>) -> Result<HashMap<String, String>> {
    // Two statements, not `?1 IS NULL OR …`: the planner can then walk the group's applicants
    // by index instead of every score of the session (it was 58% of a committee page).
    // Only groups whose scoring has closed: while it is open an aggregate would show another
    // expert's marks (with one scorer, exactly them).
    if let Some(g) = group {
        if scoring_open(conn, g)? {
            return Ok(HashMap::new());
        }
    }
    let mut st = match group {
        Some(_) => conn.prepare_cached(
            "SELECT s.applicant_code, s.tenths FROM applicants a JOIN scores s ON s.applicant_code = a.code
             WHERE a.group_code = ?1",
        )?,
        None => conn.prepare_cached(
            "SELECT s.applicant_code, s.tenths FROM scores s JOIN applicants a ON a.code = s.applicant_code
             WHERE ?1 IS NULL AND (EXISTS (SELECT 1 FROM meta m WHERE m.key = 'scoring_closed.' || a.group_code)
                OR EXISTS (SELECT 1 FROM votes v WHERE v.stage = 'group' AND v.scope = a.group_code AND v.round = 1
                           AND v.status <> 'drafting'))",
        )?,
    };
    let mut by: HashMap<String, Vec<i64>> = HashMap::new();
    for row in st.query_map([group], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?)))? {
        let (a, t) = row?;
        by.entry(a).or_default().push(t);
    }
    Ok(by.into_iter().filter_map(|(a, v)| rules::aggregate_score(&v, rule).map(|t| (a, format_tenths(t)))).collect())
}

pub fn my_scores(conn: &Connection, expert: &str) -> Result<HashMap<String, String>> {
    let mut st = conn.prepare("SELECT applicant_code, tenths FROM scores WHERE expert_code = ?1")?;
    let rows = st
        .query_map([expert], |r| Ok((r.get::<_, String>(0)?, format_tenths(r.get::<_, i64>(1)?))))?
        .collect::<rusqlite::Result<_>>()?;
    Ok(rows)
}

/// Saves an expert's scores (empty clears one). Only in a defense mode, only for their own
/// group's non-recused applicants, only until the group's vote opens.
pub fn save_scores(db: &Db, mode: Mode, group: &str, expert: &str, entries: &[(String, Option<i64>)]) -> Result<()> {
    if mode == Mode::ExpertReview {
        return Err(Error::forbidden_msg("本次评审不含答辩打分。"));
    }
    let at = db.now();
    db.write(|tx| {
        ensure_open_for_work(tx, group)?;
        if !scoring_open(tx, group)? {
            return Err(Error::conflict("本组评分已结束，评分不能再修改。"));
        }
        for (a, t) in entries {
            if applicant_group(tx, a)?.as_deref() != Some(group) {
                return Err(Error::forbidden_msg("该申报人不属于本组。"));
            }
            if ballot::is_recused(tx, expert, a)? {
                return Err(Error::forbidden_msg(format!("您需回避申报人「{a}」，不能打分。")));
            }
            match t {
                Some(t) => tx.execute(
                    "INSERT INTO scores (applicant_code, expert_code, tenths, updated_at) VALUES (?1, ?2, ?3, ?4)
                     ON CONFLICT (applicant_code, expert_code) DO UPDATE SET tenths = excluded.tenths, updated_at = excluded.updated_at",
                    params![a, expert, t, at],
                )?,
                None => tx.execute("DELETE FROM scores WHERE applicant_code = ?1 AND expert_code = ?2", [a, expert])?,
            };
        }
        store::audit(tx, &at, expert, "score.save", group, json!({ "count": entries.len() }))?;
        // The last score of the last expert closes scoring by itself.
        if not_scored(tx, mode, group)?.is_empty() {
            close_scoring_tx(tx, group, "system", &at, "all scored")?;
        }
        Ok(())
    })
}

pub use crate::ballot::RoundResult;

#[derive(Debug, Clone, Serialize)]
pub struct DelibRow {
    pub applicant: ApplicantRow,
    pub score: Option<String>,
    pub tally: Option<Tally>,
    /// What the group's rule gives for the latest closed round (`rules::group_decision`).
    pub decision: Option<Decision>,
    pub computed_pass: Option<bool>,
    /// 无法表决: nobody eligible voted (DOMAIN decision 2); the leader cannot mark it.
    pub no_decision: bool,
    pub passed: Option<bool>,
    pub override_reason: String,
    pub evaluation: String,
    pub opinion: String,
    pub rounds: Vec<RoundResult>,
    pub pending: bool,
}

/// Everything the leader needs for 专业组评议: per applicant the latest closed round's tally,
/// the pass pre-filled by the rule, the saved decision, and every round kept.
pub fn deliberation(conn: &Connection, group: &str, session: &SessionView) -> Result<Vec<DelibRow>> {
    let scores = scores_display(conn, session.rules.score, Some(group))?;
    let mut histories = ballot::histories(conn, Stage::Group, group, &session.rules)?;
    let mut decisions: HashMap<String, (bool, String, String, String)> = {
        let mut st = conn.prepare_cached(
            "SELECT d.applicant_code, d.passed, d.override_reason, d.evaluation, d.opinion FROM group_decisions d
             JOIN applicants a ON a.code = d.applicant_code WHERE a.group_code = ?1",
        )?;
        let rows = st
            .query_map([group], |r| Ok((r.get::<_, String>(0)?, (r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))))?
            .collect::<rusqlite::Result<_>>()?;
        rows
    };
    let mut out = Vec::new();
    for a in group_applicants(conn, group)? {
        let ballot::History { rounds: history, latest, pending } = histories.remove(&a.code).unwrap_or_default();
        let decision = latest.as_ref().map(|t| rules::group_decision(&session.rules, t.agree, t.present, t.eligible));
        let computed = decision.and_then(Decision::passed);
        let saved = decisions.remove(&a.code);
        let (passed, override_reason, evaluation, opinion) = match saved {
            Some((p, r, e, o)) => (Some(p), r, e, o),
            None => (computed, String::new(), String::new(), String::new()),
        };
        out.push(DelibRow {
            score: scores.get(&a.code).cloned(),
            applicant: a,
            tally: latest,
            decision,
            computed_pass: computed,
            no_decision: decision == Some(Decision::NoDecision),
            passed,
            override_reason,
            evaluation,
            opinion,
            rounds: history,
            pending,
        });
    }
    Ok(out)
}

#[derive(Debug, Clone)]
pub struct DecisionInput {
    pub applicant: String,
    pub passed: bool,
    pub override_reason: String,
    pub evaluation: String,
    pub opinion: String,
}

/// Saves the leader's decisions; with `submit`, also submits the group's result (one-way).
/// A decision differing from the rule needs a written reason.
pub fn save_decisions(
    db: &Db,
    session: &SessionView,
    group: &str,
    inputs: &[DecisionInput],
    submit: bool,
    actor: &str,
) -> Result<()> {
    let at = db.now();
    db.write(|tx| {
        ensure_open_for_work(tx, group)?;
        let rows = deliberation(tx, group, session)?;
        for i in inputs {
            let row = rows
                .iter()
                .find(|r| r.applicant.code == i.applicant)
                .ok_or_else(|| Error::forbidden_msg("该申报人不属于本组。"))?;
            if row.pending {
                return Err(Error::conflict(format!("申报人 {} 的复议投票尚未结束。", row.applicant.code)));
            }
            let computed = match row.decision {
                None => {
                    return Err(Error::conflict(format!("申报人 {} 还没有结束的投票，不能评议。", row.applicant.code)))
                }
                Some(Decision::NoDecision) => {
                    return Err(Error::conflict(format!(
                        "申报人「{}」{}，不能标记是否通过。",
                        row.applicant.name,
                        rules::NO_DECISION_LABEL
                    )))
                }
                Some(d) => d == Decision::Passed,
            };
            if i.passed != computed && i.override_reason.trim().is_empty() {
                return Err(Error::bad_request(format!(
                    "申报人「{}」的「是否通过」与投票规则的结果不同，请填写改动理由。",
                    row.applicant.name
                )));
            }
            for (label, text) in [("评价", &i.evaluation), ("专业组评议", &i.opinion), ("改动理由", &i.override_reason)] {
                if text.chars().count() > MAX_NOTE {
                    return Err(Error::bad_request(format!("{label}不能超过 {MAX_NOTE} 字。")));
                }
            }
            let reason = if i.passed == computed { String::new() } else { i.override_reason.trim().to_string() };
            let before: Option<bool> = tx
                .query_row("SELECT passed FROM group_decisions WHERE applicant_code = ?1", [&i.applicant], |r| r.get(0))
                .optional()?;
            tx.execute(
                "INSERT INTO group_decisions (applicant_code, passed, override_reason, evaluation, opinion, updated_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)
                 ON CONFLICT (applicant_code) DO UPDATE SET passed = excluded.passed, override_reason = excluded.override_reason,
                   evaluation = excluded.evaluation, opinion = excluded.opinion, updated_at = excluded.updated_at",
                params![i.applicant, i.passed, reason, i.evaluation.trim(), i.opinion.trim(), at],
            )?;
            if i.passed != computed && before != Some(i.passed) {
                store::audit(
                    tx,
                    &at,
                    actor,
                    "group.override",
                    &i.applicant,
                    json!({ "computed": computed, "passed": i.passed, "reason": reason }),
                )?;
            }
        }
        store::audit(tx, &at, actor, "group.decisions", group, json!({ "count": inputs.len() }))?;
        if submit {
            let decided: i64 = tx.query_row(
                "SELECT count(*) FROM group_decisions d JOIN applicants a ON a.code = d.applicant_code WHERE a.group_code = ?1",
                [group],
                |r| r.get(0),
            )?;
            // Applicants with no decision cannot be marked; the group submits without them and
            // they do not go on to the committee (DOMAIN decision 2).
            let no_decision = rows.iter().filter(|r| r.no_decision && !r.pending).count();
            if decided as usize + no_decision != rows.len() {
                return Err(Error::bad_request("还有申报人没有评议结果，不能提交。"));
            }
            tx.execute(
                "INSERT INTO group_submissions (group_code, submitted_at, submitted_by) VALUES (?1, ?2, ?3)",
                params![group, at, actor],
            )?;
            store::audit(tx, &at, actor, "group.submit", group, json!({}))?;
            admit_to_committee(tx, group)?;
        }
        Ok(())
    })
}

/// A group's submission admits the applicants it passed to the committee's first round.
fn admit_to_committee(tx: &Tx, group: &str) -> Result<()> {
    let first = ballot::rounds(tx, Stage::Committee, ballot::COMMITTEE_SCOPE)?
        .into_iter()
        .next()
        .ok_or_else(Error::not_found)?;
    if first.status != ballot::Status::Drafting {
        return Err(Error::conflict("评委会投票已开启，不能再提交专业组结果。"));
    }
    tx.execute(
        "INSERT OR IGNORE INTO vote_applicants (vote_id, applicant_code)
         SELECT ?1, d.applicant_code FROM group_decisions d JOIN applicants a ON a.code = d.applicant_code
         WHERE a.group_code = ?2 AND d.passed = 1",
        params![first.id, group],
    )?;
    Ok(())
}

/// A repeated vote (复议) for chosen applicants of the group; their decisions are redone.
pub fn revote(db: &Db, group: &str, applicants: &[String], reason: &str, actor: &str) -> Result<i64> {
    let at = db.now();
    db.write(|tx| {
        ensure_open_for_work(tx, group)?;
        for a in applicants {
            if applicant_group(tx, a)?.as_deref() != Some(group) {
                return Err(Error::forbidden_msg("该申报人不属于本组。"));
            }
        }
        let id = ballot::revote(tx, Stage::Group, group, applicants, reason, actor, &at)?;
        for a in applicants {
            tx.execute("DELETE FROM group_decisions WHERE applicant_code = ?1", [a])?;
        }
        Ok(id)
    })
}

/// 按专业统计: per specialty, applicants, and (after a closed vote) passed / not passed.
#[derive(Debug, Clone, Serialize)]
pub struct SpecialtyStat {
    pub specialty: String,
    pub applicants: usize,
    pub passed: usize,
    pub failed: usize,
    pub undecided: usize,
}

pub fn specialty_stats(rows: &[DelibRow]) -> Vec<SpecialtyStat> {
    by_specialty(rows.iter().map(|r| (r.applicant.specialty.as_str(), if r.pending { None } else { r.passed })))
}

/// Counts (specialty, outcome) pairs per specialty, in order of first appearance.
pub fn by_specialty<'a>(items: impl IntoIterator<Item = (&'a str, Option<bool>)>) -> Vec<SpecialtyStat> {
    let mut out: Vec<SpecialtyStat> = Vec::new();
    for (specialty, outcome) in items {
        let idx = match out.iter().position(|s| s.specialty == specialty) {
            Some(i) => i,
            None => {
                out.push(SpecialtyStat {
                    specialty: specialty.to_string(),
                    applicants: 0,
                    passed: 0,
                    failed: 0,
                    undecided: 0,
                });
                out.len() - 1
            }
        };
        let s = &mut out[idx];
        s.applicants += 1;
        match outcome {
            Some(true) => s.passed += 1,
            Some(false) => s.failed += 1,
            None => s.undecided += 1,
        }
    }
    out
}

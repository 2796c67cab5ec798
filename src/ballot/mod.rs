//! The voting protocol, written once for both stages (专业组 and 评委会):
//! draft (拟投票) → the switch opens (开启投票, voters frozen) → each voter submits all their
//! ballots at once → the round closes (everyone submitted, or the leader/chair closes it) →
//! only then a tally exists, over all of the round's ballots.
//!
//! Secrecy: `vote_voters` says who submitted; `ballots` holds choices under a random id with no
//! voter and no time, in a WITHOUT ROWID table ordered by that id. Drafts are deleted at
//! submission (secure_delete is on) and the WAL is truncated when a round closes.

use crate::error::{Error, Result};
use crate::rules::{self, SessionRules};
use crate::store::{self, Db, Tx};
use rusqlite::{params, Connection, OptionalExtension};
use serde::Serialize;
use serde_json::json;
use std::collections::{HashMap, HashSet};

pub mod paper;

/// The scope of the committee's rounds (a group's rounds are scoped by the group's code).
pub const COMMITTEE_SCOPE: &str = "committee";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Stage {
    Group,
    Committee,
}

impl Stage {
    pub fn code(self) -> &'static str {
        match self {
            Stage::Group => "group",
            Stage::Committee => "committee",
        }
    }
    fn parse(s: &str) -> Stage {
        if s == "committee" {
            Stage::Committee
        } else {
            Stage::Group
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Choice {
    Agree,
    Oppose,
    Abstain,
}

impl Choice {
    pub fn parse(s: &str) -> Option<Choice> {
        match s {
            "agree" => Some(Choice::Agree),
            "oppose" => Some(Choice::Oppose),
            "abstain" => Some(Choice::Abstain),
            _ => None,
        }
    }
    pub fn code(self) -> &'static str {
        match self {
            Choice::Agree => "agree",
            Choice::Oppose => "oppose",
            Choice::Abstain => "abstain",
        }
    }
    pub fn label(self) -> &'static str {
        match self {
            Choice::Agree => "同意",
            Choice::Oppose => "反对",
            Choice::Abstain => "弃权",
        }
    }
}

/// Where a round's state stands. `Open` is electronic voting; a round held on paper is `Paper`
/// until its tally is counted (then `Closed`, its medium paper); a round an open electronic vote
/// became void by a switch to paper is `Void` — closed, deciding nothing (DOMAIN, paper rounds).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Drafting,
    Open,
    Paper,
    Closed,
    Void,
}

impl Status {
    /// The stored state (`votes.status`, `medium`, `void_reason`) as one value.
    fn from_row(status: &str, medium: Medium, void: bool) -> Status {
        match (status, medium) {
            ("closed", _) if void => Status::Void,
            ("closed", _) => Status::Closed,
            ("open", Medium::Paper) => Status::Paper,
            ("open", Medium::Electronic) => Status::Open,
            _ => Status::Drafting,
        }
    }
    pub fn code(self) -> &'static str {
        match self {
            Status::Drafting => "drafting",
            Status::Open => "open",
            Status::Paper => "paper",
            Status::Closed => "closed",
            Status::Void => "void",
        }
    }
    pub fn label(self) -> &'static str {
        match self {
            Status::Drafting => "拟投票中（投票未开启）",
            Status::Open => "投票进行中",
            Status::Paper => "纸质投票进行中",
            Status::Closed => "投票已结束",
            Status::Void => "已作废（改为纸质投票）",
        }
    }
    /// Whether the round is over: counted (closed) or void. Nothing more happens in it.
    pub fn finished(self) -> bool {
        matches!(self, Status::Closed | Status::Void)
    }
}

/// How a round is voted: on the voters' devices, or on paper ballots counted by two clerks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Medium {
    Electronic,
    Paper,
}

impl Medium {
    pub fn code(self) -> &'static str {
        match self {
            Medium::Electronic => "electronic",
            Medium::Paper => "paper",
        }
    }
    fn parse(s: &str) -> Medium {
        if s == "paper" {
            Medium::Paper
        } else {
            Medium::Electronic
        }
    }
}

/// What a voter's device is told about a round held on paper, or voided for one: every page
/// and every refused save or submission says the same.
pub const ON_PAPER: &str = "本轮改为纸质投票，请在纸质选票上投票。";

#[derive(Debug, Clone, Serialize)]
pub struct Vote {
    pub id: i64,
    pub stage: Stage,
    pub scope: String,
    pub round: i64,
    pub status: Status,
    pub status_label: &'static str,
    pub reason: String,
    pub created_at: String,
    pub opened_at: Option<String>,
    pub closed_at: Option<String>,
    pub medium: Medium,
    /// Why the round is held on paper (网络故障 …); empty for an electronic round.
    pub medium_reason: String,
    /// Why the round was voided (the switch to paper's reason); `None` unless `Status::Void`.
    pub void_reason: Option<String>,
}

const VOTE_SQL: &str = "SELECT id, stage, scope, round, status, reason, created_at, opened_at, closed_at, medium,
    medium_reason, void_reason, EXISTS (SELECT 1 FROM paper_entries p WHERE p.vote_id = votes.id) FROM votes";

fn vote_row(r: &rusqlite::Row) -> rusqlite::Result<Vote> {
    let medium = Medium::parse(&r.get::<_, String>(9)?);
    let void_reason: Option<String> = r.get(11)?;
    let status = Status::from_row(&r.get::<_, String>(4)?, medium, void_reason.is_some());
    // A paper round with a clerk's entry is being counted (计票中): said on every live page.
    let counting: bool = r.get(12)?;
    let status_label = if status == Status::Paper && counting { "纸质投票计票中" } else { status.label() };
    Ok(Vote {
        medium,
        medium_reason: r.get(10)?,
        void_reason,
        id: r.get(0)?,
        stage: Stage::parse(&r.get::<_, String>(1)?),
        scope: r.get(2)?,
        round: r.get(3)?,
        status,
        status_label,
        reason: r.get(5)?,
        created_at: store::display_time(&r.get::<_, String>(6)?),
        opened_at: r.get::<_, Option<String>>(7)?.map(|s| store::display_time(&s)),
        closed_at: r.get::<_, Option<String>>(8)?.map(|s| store::display_time(&s)),
    })
}

pub fn vote(conn: &Connection, id: i64) -> Result<Option<Vote>> {
    Ok(store::row(conn, &format!("{VOTE_SQL} WHERE id = ?1"), [id], vote_row).optional()?)
}

/// Every round of a scope, oldest first.
pub fn rounds(conn: &Connection, stage: Stage, scope: &str) -> Result<Vec<Vote>> {
    let mut st = conn.prepare(&format!("{VOTE_SQL} WHERE stage = ?1 AND scope = ?2 ORDER BY round"))?;
    let rows = st.query_map(params![stage.code(), scope], vote_row)?.collect::<rusqlite::Result<_>>()?;
    Ok(rows)
}

pub fn latest(conn: &Connection, stage: Stage, scope: &str) -> Result<Option<Vote>> {
    Ok(store::row(
        conn,
        &format!("{VOTE_SQL} WHERE stage = ?1 AND scope = ?2 ORDER BY round DESC LIMIT 1"),
        params![stage.code(), scope],
        vote_row,
    )
    .optional()?)
}

pub fn applicants_of(conn: &Connection, vote_id: i64) -> Result<Vec<String>> {
    let mut st = conn.prepare_cached(
        "SELECT v.applicant_code FROM vote_applicants v JOIN applicants a ON a.code = v.applicant_code
         WHERE v.vote_id = ?1 ORDER BY a.ord",
    )?;
    let rows = st.query_map([vote_id], |r| r.get(0))?.collect::<rusqlite::Result<_>>()?;
    Ok(rows)
}

/// Creates the next round of a scope (round 1 at import; later rounds are re-votes).
pub fn create_round(tx: &Tx, stage: Stage, scope: &str, applicants: &[String], reason: &str, at: &str) -> Result<i64> {
    let next: i64 = tx.query_row(
        "SELECT coalesce(max(round), 0) + 1 FROM votes WHERE stage = ?1 AND scope = ?2",
        params![stage.code(), scope],
        |r| r.get(0),
    )?;
    tx.execute(
        "INSERT INTO votes (stage, scope, round, status, reason, created_at) VALUES (?1, ?2, ?3, 'drafting', ?4, ?5)",
        params![stage.code(), scope, next, reason, at],
    )?;
    let id = tx.last_insert_rowid();
    for a in applicants {
        tx.execute("INSERT INTO vote_applicants (vote_id, applicant_code) VALUES (?1, ?2)", params![id, a])?;
    }
    Ok(id)
}

/// Who may vote in a scope before its switch opens: the group's experts, or the committee.
pub fn prospective_voters(conn: &Connection, stage: Stage, scope: &str) -> Result<Vec<String>> {
    let mut st = match stage {
        Stage::Group => conn.prepare("SELECT code FROM experts WHERE group_code = ?1 ORDER BY ord")?,
        Stage::Committee => conn.prepare(
            "SELECT c.expert_code FROM committee c JOIN experts e ON e.code = c.expert_code WHERE ?1 = ?1 ORDER BY c.ord",
        )?,
    };
    let rows = st.query_map([scope], |r| r.get(0))?.collect::<rusqlite::Result<_>>()?;
    Ok(rows)
}

/// Whether `voter` may vote in this scope (one lookup; `prospective_voters` lists them all).
pub fn is_prospective_voter(conn: &Connection, stage: Stage, scope: &str, voter: &str) -> Result<bool> {
    let sql = match stage {
        Stage::Group => "SELECT EXISTS (SELECT 1 FROM experts WHERE code = ?1 AND group_code = ?2)",
        Stage::Committee => "SELECT EXISTS (SELECT 1 FROM committee WHERE expert_code = ?1 AND ?2 = ?2)",
    };
    Ok(store::row(conn, sql, [voter, scope], |r| r.get(0))?)
}

/// Whether the applicant is in this round.
pub fn in_round(conn: &Connection, vote_id: i64, applicant: &str) -> Result<bool> {
    Ok(store::row(
        conn,
        "SELECT EXISTS (SELECT 1 FROM vote_applicants WHERE vote_id = ?1 AND applicant_code = ?2)",
        params![vote_id, applicant],
        |r| r.get(0),
    )?)
}

/// Voters of a round: the frozen list once open, the prospective list while drafting.
pub fn voters(conn: &Connection, v: &Vote) -> Result<Vec<String>> {
    if v.status == Status::Drafting {
        return prospective_voters(conn, v.stage, &v.scope);
    }
    let mut st = conn.prepare(
        "SELECT vv.voter_code FROM vote_voters vv JOIN experts e ON e.code = vv.voter_code WHERE vv.vote_id = ?1 ORDER BY e.ord",
    )?;
    let rows = st.query_map([v.id], |r| r.get(0))?.collect::<rusqlite::Result<_>>()?;
    Ok(rows)
}

/// Whether an expert is recused from an applicant (回避): they cannot draft, vote, score or
/// lead on it, and they leave its denominator unless the session counts them as present.
pub fn is_recused(conn: &Connection, expert: &str, applicant: &str) -> Result<bool> {
    Ok(store::row(
        conn,
        "SELECT EXISTS (SELECT 1 FROM recusals WHERE expert_code = ?1 AND applicant_code = ?2)",
        [expert, applicant],
        |r| r.get(0),
    )?)
}

pub fn recused_pairs(conn: &Connection, vote_id: i64) -> Result<HashSet<(String, String)>> {
    let mut st = conn.prepare_cached(
        "SELECT r.expert_code, r.applicant_code FROM recusals r
         JOIN vote_applicants v ON v.applicant_code = r.applicant_code WHERE v.vote_id = ?1",
    )?;
    let rows = st.query_map([vote_id], |r| Ok((r.get(0)?, r.get(1)?)))?.collect::<rusqlite::Result<_>>()?;
    Ok(rows)
}

/// A voter's draft for one applicant: a choice (or none yet), an opinion, and the revision it
/// was saved at (rows only ever move to a higher revision; 0 is "never saved").
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Draft {
    pub applicant_code: String,
    pub choice: Option<Choice>,
    pub opinion: String,
    pub rev: i64,
}

fn draft_row(r: &rusqlite::Row) -> rusqlite::Result<(String, Draft)> {
    let code: String = r.get(0)?;
    let choice: Option<String> = r.get(1)?;
    Ok((
        code.clone(),
        Draft {
            applicant_code: code,
            choice: choice.as_deref().and_then(Choice::parse),
            opinion: r.get(2)?,
            rev: r.get(3)?,
        },
    ))
}

/// One voter's own drafts of a round (nobody else's: drafts are private).
pub fn my_drafts(conn: &Connection, vote_id: i64, voter: &str) -> Result<HashMap<String, Draft>> {
    let mut st = conn.prepare_cached(
        "SELECT applicant_code, choice, opinion, rev FROM drafts WHERE vote_id = ?1 AND voter_code = ?2",
    )?;
    let rows = st.query_map(params![vote_id, voter], draft_row)?.collect::<rusqlite::Result<_>>()?;
    Ok(rows)
}

/// The drafts of one voter saved after revision `since` (what another device of the same
/// person changed since the page last looked), and the voter's latest revision in the round.
pub fn drafts_since(conn: &Connection, vote_id: i64, voter: &str, since: i64) -> Result<(i64, Vec<Draft>)> {
    let latest: i64 = store::row(
        conn,
        "SELECT coalesce(max(rev), 0) FROM drafts WHERE vote_id = ?1 AND voter_code = ?2",
        params![vote_id, voter],
        |r| r.get(0),
    )?;
    if latest <= since {
        return Ok((latest, Vec::new()));
    }
    let mut st = conn.prepare_cached(
        "SELECT applicant_code, choice, opinion, rev FROM drafts WHERE vote_id = ?1 AND voter_code = ?2 AND rev > ?3",
    )?;
    let rows = st.query_map(params![vote_id, voter, since], draft_row)?;
    let changed = rows.map(|r| r.map(|(_, d)| d)).collect::<rusqlite::Result<_>>()?;
    Ok((latest, changed))
}

/// One line of what a voter confirms before submitting.
#[derive(Debug, Clone, Serialize)]
pub struct ConfirmRow {
    pub code: String,
    pub name: String,
    pub recused: bool,
    pub draft: Option<Draft>,
}

/// Every applicant of the round in list order with the voter's own draft or recusal: what the
/// confirmation page shows. One statement, because a whole venue opens that page at once.
pub fn confirmation(conn: &Connection, vote_id: i64, voter: &str) -> Result<Vec<ConfirmRow>> {
    let mut st = conn.prepare_cached(
        "SELECT a.code, a.name,
                EXISTS (SELECT 1 FROM recusals r WHERE r.expert_code = ?2 AND r.applicant_code = a.code),
                d.choice, d.opinion, d.rev
         FROM vote_applicants v JOIN applicants a ON a.code = v.applicant_code
         LEFT JOIN drafts d ON d.vote_id = v.vote_id AND d.voter_code = ?2 AND d.applicant_code = a.code
         WHERE v.vote_id = ?1 ORDER BY a.ord",
    )?;
    let rows = st
        .query_map(params![vote_id, voter], |r| {
            let code: String = r.get(0)?;
            let draft = match r.get::<_, Option<i64>>(5)? {
                Some(rev) => Some(Draft {
                    applicant_code: code.clone(),
                    choice: r.get::<_, Option<String>>(3)?.as_deref().and_then(Choice::parse),
                    opinion: r.get(4)?,
                    rev,
                }),
                None => None,
            };
            Ok(ConfirmRow { code, name: r.get(1)?, recused: r.get(2)?, draft })
        })?
        .collect::<rusqlite::Result<_>>()?;
    Ok(rows)
}

/// (applicants the voter may vote on, of them with a chosen draft) in a round: the counter of
/// a voter's page, two counts instead of the whole confirmation list.
pub fn draft_counts(conn: &Connection, vote_id: i64, voter: &str) -> Result<(u64, u64)> {
    let total: i64 = store::row(
        conn,
        "SELECT count(*) FROM vote_applicants v WHERE v.vote_id = ?1
           AND NOT EXISTS (SELECT 1 FROM recusals r WHERE r.expert_code = ?2 AND r.applicant_code = v.applicant_code)",
        params![vote_id, voter],
        |r| r.get(0),
    )?;
    let chosen: i64 = store::row(
        conn,
        "SELECT count(*) FROM drafts WHERE vote_id = ?1 AND voter_code = ?2 AND choice IS NOT NULL",
        params![vote_id, voter],
        |r| r.get(0),
    )?;
    Ok((total as u64, chosen as u64))
}

/// Applicants a voter still has to decide on before submitting (recused ones excepted).
pub fn missing(rows: &[ConfirmRow]) -> usize {
    rows.iter().filter(|r| !r.recused && r.draft.as_ref().and_then(|d| d.choice).is_none()).count()
}

/// Whether `voter` may draft in this round now (DOMAIN decision 1): any prospective voter
/// while drafting; once open, a frozen voter who has not submitted.
pub fn can_draft(conn: &Connection, v: &Vote, voter: &str) -> Result<bool> {
    match v.status {
        Status::Drafting => is_prospective_voter(conn, v.stage, &v.scope, voter),
        Status::Open => Ok(is_voter(conn, v.id, voter)? && !has_submitted(conn, v.id, voter)?),
        Status::Paper | Status::Closed | Status::Void => Ok(false),
    }
}

/// Names of a round's frozen voters who did not submit (for the minutes: who did not vote).
/// A paper round has no per-voter record: nobody is named.
pub fn not_submitted(conn: &Connection, vote_id: i64) -> Result<Vec<String>> {
    let paper: bool = store::row(conn, "SELECT medium = 'paper' FROM votes WHERE id = ?1", [vote_id], |r| r.get(0))
        .optional()?
        .unwrap_or(false);
    if paper {
        return Ok(Vec::new());
    }
    let mut st = conn.prepare_cached(
        "SELECT e.name FROM vote_voters vv JOIN experts e ON e.code = vv.voter_code
         WHERE vv.vote_id = ?1 AND vv.submitted = 0 ORDER BY e.ord",
    )?;
    let rows = st.query_map([vote_id], |r| r.get(0))?.collect::<rusqlite::Result<_>>()?;
    Ok(rows)
}

/// Whether `voter` was frozen into this round when it opened.
pub fn is_voter(conn: &Connection, vote_id: i64, voter: &str) -> Result<bool> {
    Ok(store::row(
        conn,
        "SELECT EXISTS (SELECT 1 FROM vote_voters WHERE vote_id = ?1 AND voter_code = ?2)",
        params![vote_id, voter],
        |r| r.get(0),
    )?)
}

pub fn has_submitted(conn: &Connection, vote_id: i64, voter: &str) -> Result<bool> {
    Ok(store::row(
        conn,
        "SELECT submitted FROM vote_voters WHERE vote_id = ?1 AND voter_code = ?2",
        params![vote_id, voter],
        |r| r.get::<_, bool>(0),
    )
    .optional()?
    .unwrap_or(false))
}

fn load_vote_tx(tx: &Tx, vote_id: i64) -> Result<Vote> {
    store::row(tx, &format!("{VOTE_SQL} WHERE id = ?1"), [vote_id], vote_row).optional()?.ok_or_else(Error::not_found)
}

const MAX_OPINION: usize = 500;

/// One change a device sends: the applicant, the choice (none: not chosen, or cleared), the
/// opinion, and the revision of the draft the change was made on, when the device knows it.
#[derive(Debug, Clone)]
pub struct DraftEdit {
    pub applicant_code: String,
    pub choice: Option<Choice>,
    pub opinion: String,
    /// `None` (a plain form, a script that does not track revisions): the last save wins.
    pub base: Option<i64>,
}

/// What a save did: per applicant, the revision now held, and the drafts it did not replace
/// because they had changed (on another device) since the revision the edit was made on.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Saved {
    pub saved: Vec<(String, i64)>,
    pub conflicts: Vec<Draft>,
}

/// Saves a voter's drafts for the given applicants, for applicants of the round the voter is
/// not recused from. Drafts stay open until the voter submits (DOMAIN decision 1): while
/// drafting for every prospective voter, once open for the round's frozen voters who have not
/// submitted. A draft with an opinion and no choice is kept (DOMAIN decision 6: nothing typed
/// is dropped); a cleared row stays as a row without a choice, so its revision is not lost.
/// An edit made on an older revision than the one held, with another value, is not applied
/// and comes back as a conflict: a device that was offline never silently replaces a newer
/// choice made on another device. Saving the same value again changes nothing (a retried save
/// is safe, whatever its base).
pub fn save_drafts(db: &Db, vote_id: i64, voter: &str, entries: &[DraftEdit]) -> Result<Saved> {
    let at = db.now();
    db.write(|tx| {
        // ballots and drafts carry no freeze trigger (schema 6): the report is checked here.
        if store::is_reported(tx)? {
            return Err(Error::reported());
        }
        let v = load_vote_tx(tx, vote_id)?;
        match v.status {
            Status::Drafting => {
                if !is_prospective_voter(tx, v.stage, &v.scope, voter)? {
                    return Err(Error::forbidden());
                }
            }
            Status::Open => {
                let submitted: Option<bool> = store::row(
                    tx,
                    "SELECT submitted FROM vote_voters WHERE vote_id = ?1 AND voter_code = ?2",
                    params![vote_id, voter],
                    |r| r.get(0),
                )
                .optional()?;
                match submitted {
                    None => return Err(Error::forbidden_msg("开启投票时您未签到，不在本轮投票名单中，不能投票。")),
                    Some(true) => return Err(Error::conflict("您已提交本轮投票，不能再修改。")),
                    Some(false) => {}
                }
            }
            Status::Closed => return Err(Error::conflict("未能保存：本轮投票已结束。")),
            // A device still holding drafts for a round now on paper: refused, never counted.
            Status::Paper | Status::Void => return Err(Error::conflict(format!("未能保存：{ON_PAPER}"))),
        }
        let mut next: i64 = store::row(
            tx,
            "SELECT coalesce(max(rev), 0) + 1 FROM drafts WHERE vote_id = ?1 AND voter_code = ?2",
            params![vote_id, voter],
            |r| r.get(0),
        )?;
        let mut out = Saved::default();
        // Point lookups per entry: a committee round holds a thousand applicants, a draft one.
        for d in entries {
            if !in_round(tx, vote_id, &d.applicant_code)? {
                return Err(Error::bad_request(format!("申报人「{}」不在本轮投票中。", d.applicant_code)));
            }
            if is_recused(tx, voter, &d.applicant_code)? {
                return Err(Error::forbidden_msg(format!("您需回避申报人「{}」，不能投票。", d.applicant_code)));
            }
            if d.opinion.chars().count() > MAX_OPINION {
                return Err(Error::bad_request(format!("意见不能超过 {MAX_OPINION} 字。")));
            }
            let held = tx
                .prepare_cached(
                    "SELECT applicant_code, choice, opinion, rev FROM drafts
                     WHERE vote_id = ?1 AND voter_code = ?2 AND applicant_code = ?3",
                )?
                .query_row(params![vote_id, voter, d.applicant_code], draft_row)
                .optional()?
                .map(|(_, h)| h);
            let same = |h: &Draft| h.choice == d.choice && h.opinion == d.opinion;
            match &held {
                Some(h) if same(h) => {
                    out.saved.push((d.applicant_code.clone(), h.rev));
                    continue;
                }
                Some(h) if d.base.is_some_and(|b| h.rev > b) => {
                    out.conflicts.push(h.clone());
                    continue;
                }
                None if d.choice.is_none() && d.opinion.is_empty() => {
                    out.saved.push((d.applicant_code.clone(), 0));
                    continue;
                }
                _ => {}
            }
            tx.prepare_cached(
                "INSERT INTO drafts (vote_id, voter_code, applicant_code, choice, opinion, rev) VALUES (?1, ?2, ?3, ?4, ?5, ?6)
                 ON CONFLICT (vote_id, voter_code, applicant_code)
                 DO UPDATE SET choice = excluded.choice, opinion = excluded.opinion, rev = excluded.rev",
            )?
            .execute(params![vote_id, voter, d.applicant_code, d.choice.map(Choice::code), d.opinion, next])?;
            out.saved.push((d.applicant_code.clone(), next));
            next += 1;
        }
        // The audit records that a voter drafted, never what.
        store::audit(tx, &at, voter, "vote.draft", &vote_id.to_string(), json!({ "count": entries.len() }))?;
        Ok(out)
    })
}

/// The prospective voters who would be frozen if the round opened now (DOMAIN decision 4):
/// signed in or checked in by staff, and not marked 离场. A database error is an error here,
/// never "not signed in".
pub fn would_be_frozen(conn: &Connection, stage: Stage, scope: &str) -> Result<Vec<String>> {
    let mut st =
        conn.prepare_cached("SELECT EXISTS (SELECT 1 FROM attendance WHERE person_code = ?1 AND left_at IS NULL)")?;
    let mut out = Vec::new();
    for c in prospective_voters(conn, stage, scope)? {
        if st.query_row([&c], |r| r.get::<_, bool>(0))? {
            out.push(c);
        }
    }
    Ok(out)
}

/// Opens the switch: freezes the voters (prospective voters who are signed in) and ends
/// drafting for everyone else. `check` lets a stage add its own condition (the quorum).
pub fn open(db: &Db, vote_id: i64, actor: &str, check: impl FnOnce(&Tx, &[String]) -> Result<()>) -> Result<()> {
    let at = db.now();
    db.write(|tx| {
        let v = load_vote_tx(tx, vote_id)?;
        if v.status != Status::Drafting {
            return Err(Error::conflict("投票已经开启过了。"));
        }
        let present = would_be_frozen(tx, v.stage, &v.scope)?;
        if present.is_empty() {
            return Err(Error::conflict("还没有任何投票人签到，不能开启投票。"));
        }
        check(tx, &present)?;
        for c in &present {
            tx.execute("INSERT INTO vote_voters (vote_id, voter_code) VALUES (?1, ?2)", params![vote_id, c])?;
        }
        // Drafts of people not admitted (not signed in) are void.
        tx.execute(
            "DELETE FROM drafts WHERE vote_id = ?1 AND voter_code NOT IN (SELECT voter_code FROM vote_voters WHERE vote_id = ?1)",
            [vote_id],
        )?;
        tx.execute("UPDATE votes SET status = 'open', opened_at = ?1 WHERE id = ?2", params![at, vote_id])?;
        store::audit(
            tx,
            &at,
            actor,
            "vote.open",
            &vote_id.to_string(),
            json!({ "stage": v.stage.code(), "scope": v.scope, "round": v.round, "voters": present }),
        )
    })
}

#[derive(Debug, PartialEq, Eq)]
pub enum Submitted {
    Now,
    Already,
}

/// Submits all of a voter's ballots at once. A second submit changes nothing (`Already`).
/// The last voter's submission closes the round.
pub fn submit(db: &Db, vote_id: i64, voter: &str) -> Result<Submitted> {
    let at = db.now();
    let outcome = db.write(|tx| {
        if store::is_reported(tx)? {
            return Err(Error::reported());
        }
        let v = load_vote_tx(tx, vote_id)?;
        let admitted: Option<bool> = tx
            .query_row(
                "SELECT submitted FROM vote_voters WHERE vote_id = ?1 AND voter_code = ?2",
                params![vote_id, voter],
                |r| r.get(0),
            )
            .optional()?;
        // Before "already submitted": a ballot sent for a round voided by the switch to paper
        // is refused with the reason, whatever the device believes it did before.
        if matches!(v.status, Status::Paper | Status::Void) {
            return Err(Error::conflict(ON_PAPER));
        }
        if admitted == Some(true) {
            return Ok((Submitted::Already, false));
        }
        match v.status {
            Status::Drafting => return Err(Error::conflict("投票尚未开启，请等待组长（主任）开启投票。")),
            Status::Closed => return Err(Error::conflict("本轮投票已经结束，不能再提交。")),
            Status::Open => {}
            Status::Paper | Status::Void => return Err(Error::conflict(ON_PAPER)),
        }
        if admitted.is_none() {
            return Err(Error::forbidden_msg("开启投票时您未签到，不在本轮投票名单中，不能投票。"));
        }
        let mut missing = Vec::new();
        let mut ballots = Vec::new();
        // Per applicant of the round: recused, or the voter's draft (no names, no list order:
        // this runs on the single writer, once per voter of a venue submitting at once).
        let mut st = tx.prepare_cached(
            "SELECT v.applicant_code,
                    EXISTS (SELECT 1 FROM recusals r WHERE r.expert_code = ?2 AND r.applicant_code = v.applicant_code),
                    d.choice, d.opinion
             FROM vote_applicants v
             LEFT JOIN drafts d ON d.vote_id = v.vote_id AND d.voter_code = ?2 AND d.applicant_code = v.applicant_code
             WHERE v.vote_id = ?1",
        )?;
        let rows = st.query_map(params![vote_id, voter], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, bool>(1)?,
                r.get::<_, Option<String>>(2)?,
                r.get::<_, Option<String>>(3)?,
            ))
        })?;
        for row in rows {
            let (code, recused, choice, opinion) = row?;
            if recused {
                continue;
            }
            match choice.as_deref().and_then(Choice::parse) {
                Some(c) => ballots.push((code, c, opinion.unwrap_or_default())),
                None => missing.push(code),
            }
        }
        drop(st);
        if !missing.is_empty() {
            return Err(Error::bad_request(format!(
                "还有 {} 名申报人未选择投票意见：{}。",
                missing.len(),
                missing.join("、")
            )));
        }
        for (a, c, op) in &ballots {
            tx.prepare_cached(
                "INSERT INTO ballots (id, vote_id, applicant_code, choice, opinion) VALUES (?1, ?2, ?3, ?4, ?5)",
            )?
            .execute(params![crate::ids::random_token(), vote_id, a, c.code(), op])?;
        }
        tx.execute("DELETE FROM drafts WHERE vote_id = ?1 AND voter_code = ?2", params![vote_id, voter])?;
        tx.execute(
            "UPDATE vote_voters SET submitted = 1 WHERE vote_id = ?1 AND voter_code = ?2",
            params![vote_id, voter],
        )?;
        store::audit(tx, &at, voter, "vote.submit", &vote_id.to_string(), json!({ "ballots": ballots.len() }))?;
        let left: i64 =
            tx.query_row("SELECT count(*) FROM vote_voters WHERE vote_id = ?1 AND submitted = 0", [vote_id], |r| {
                r.get(0)
            })?;
        let closed = left == 0;
        if closed {
            close_tx(tx, vote_id, "system", &at, "all submitted")?;
        }
        Ok((Submitted::Now, closed))
    })?;
    if outcome.1 {
        db.truncate_wal();
    }
    Ok(outcome.0)
}

fn close_tx(tx: &Tx, vote_id: i64, actor: &str, at: &str, why: &str) -> Result<()> {
    // Whoever has not submitted cannot vote in this round any more; their drafts go.
    tx.execute("DELETE FROM drafts WHERE vote_id = ?1", [vote_id])?;
    tx.execute("UPDATE votes SET status = 'closed', closed_at = ?1 WHERE id = ?2", params![at, vote_id])?;
    let missing: Vec<String> = {
        let mut st = tx.prepare("SELECT voter_code FROM vote_voters WHERE vote_id = ?1 AND submitted = 0")?;
        let rows = st.query_map([vote_id], |r| r.get(0))?.collect::<rusqlite::Result<_>>()?;
        rows
    };
    store::audit(tx, at, actor, "vote.close", &vote_id.to_string(), json!({ "reason": why, "not_submitted": missing }))
}

/// The leader/chair closes the vote early; those who have not submitted cannot any more.
pub fn close(db: &Db, vote_id: i64, actor: &str) -> Result<()> {
    let at = db.now();
    db.write(|tx| {
        let v = load_vote_tx(tx, vote_id)?;
        if v.status != Status::Open {
            return Err(Error::conflict("投票未在进行中。"));
        }
        close_tx(tx, vote_id, actor, &at, "closed by leader")
    })?;
    db.truncate_wal();
    Ok(())
}

#[derive(Debug, Clone, Serialize)]
pub struct VoterProgress {
    pub code: String,
    pub name: String,
    /// Drafting: has a draft for every applicant they may vote on. Open: has submitted.
    pub done: bool,
    /// Has a draft for every applicant they may vote on (drafts stay open until submission).
    pub drafted: bool,
    /// Signed in or checked in, and not marked 离场: would be (or was) frozen as a voter.
    pub present: bool,
    /// 代为签到 with no signed-in device: present, but cannot vote electronically.
    pub staff_only: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct Progress {
    pub vote_id: i64,
    pub round: i64,
    pub status: Status,
    pub status_label: &'static str,
    pub done: usize,
    pub not_done: usize,
    pub voters: Vec<VoterProgress>,
}

/// 已投票 / 未投票: while drafting, who has a draft for every applicant they may vote on;
/// once open, who has submitted. Names only, never choices.
pub fn progress(conn: &Connection, v: &Vote) -> Result<Progress> {
    let codes = voters(conn, v)?;
    let recused = recused_pairs(conn, v.id)?;
    let apps = applicants_of(conn, v.id)?;
    let mut presence = conn.prepare_cached(
        "SELECT a.left_at IS NULL, a.method = 'admin' AND NOT EXISTS (
                SELECT 1 FROM web_sessions s JOIN accounts c ON c.id = s.account_id WHERE c.person_code = a.person_code)
         FROM attendance a WHERE a.person_code = ?1",
    )?;
    let mut list = Vec::new();
    for code in codes {
        let name: String = conn.query_row("SELECT name FROM experts WHERE code = ?1", [&code], |r| r.get(0))?;
        if v.status != Status::Drafting {
            // Once open only submissions count; the drafting warnings are gone with the switch
            // (and this runs on every leader's poll while a venue submits).
            let done = has_submitted(conn, v.id, &code)?;
            list.push(VoterProgress { code, name, done, drafted: done, present: true, staff_only: false });
            continue;
        }
        let need = apps.iter().filter(|a| !recused.contains(&(code.clone(), (*a).clone()))).count() as i64;
        let have: i64 = conn.query_row(
            "SELECT count(*) FROM drafts WHERE vote_id = ?1 AND voter_code = ?2 AND choice IS NOT NULL",
            params![v.id, code],
            |r| r.get(0),
        )?;
        let drafted = have >= need;
        let (present, staff_only) = presence
            .query_row([&code], |r| Ok((r.get::<_, bool>(0)?, r.get::<_, bool>(1)?)))
            .optional()?
            .unwrap_or_default();
        list.push(VoterProgress { code, name, done: drafted, drafted, present, staff_only });
    }
    let done = list.iter().filter(|p| p.done).count();
    Ok(Progress {
        vote_id: v.id,
        round: v.round,
        status: v.status,
        status_label: v.status.label(),
        done,
        not_done: list.len() - done,
        voters: list,
    })
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Tally {
    pub applicant_code: String,
    pub agree: u64,
    pub oppose: u64,
    pub abstain: u64,
    /// Voters present for this applicant (the threshold's denominator): `rules::present`.
    pub present: u64,
    /// Voters who may vote on this applicant (`rules::eligible`); 0 means no decision.
    pub eligible: u64,
    pub recused: u64,
    pub opinions: Vec<String>,
}

/// Counts of a closed round, over all of its ballots. Refused while the round is not closed:
/// a tally that moves as ballots arrive would reveal each vote to whoever watches it.
pub fn tally(conn: &Connection, vote_id: i64, session: &SessionRules) -> Result<Vec<Tally>> {
    let v = vote(conn, vote_id)?.ok_or_else(Error::not_found)?;
    match v.status {
        Status::Closed => {}
        Status::Void => return Err(Error::conflict("本轮投票已作废（改为纸质投票），不产生计票结果。")),
        _ => return Err(Error::conflict("本轮投票尚未结束，没有计票结果。")),
    }
    let voters = voters(conn, &v)?;
    let recused = recused_pairs(conn, vote_id)?;
    // One pass over the round's ballots (not a query per applicant: rounds can hold thousands).
    let mut counts: HashMap<String, (u64, u64, u64, Vec<String>)> = HashMap::new();
    // A paper round counts its accepted tally sheet (two identical entries); it has no
    // electronic ballots and no opinions. Decisions follow from here exactly as for ballots.
    if v.medium == Medium::Paper {
        for (a, (agree, oppose, abstain)) in paper::counted(conn, &v)? {
            counts.insert(a, (agree, oppose, abstain, Vec::new()));
        }
    }
    let mut st = conn.prepare_cached("SELECT applicant_code, choice, opinion FROM ballots WHERE vote_id = ?1")?;
    let rows =
        st.query_map([vote_id], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?, r.get::<_, String>(2)?)))?;
    for row in rows {
        let (a, c, op) = row?;
        let e = counts.entry(a).or_default();
        // A ballot that is not one of the three choices is a corrupt database: it must stop
        // the count, not vanish from it.
        match Choice::parse(&c) {
            Some(Choice::Agree) => e.0 += 1,
            Some(Choice::Oppose) => e.1 += 1,
            Some(Choice::Abstain) => e.2 += 1,
            None => return Err(Error::internal(format!("round {vote_id}: a ballot with choice {c:?}"))),
        }
        if !op.trim().is_empty() {
            e.3.push(op);
        }
    }
    let mut out = Vec::new();
    for a in applicants_of(conn, vote_id)? {
        let (agree, oppose, abstain, mut opinions) = counts.remove(&a).unwrap_or_default();
        // Sorted text: an order that says nothing about who wrote what, or when.
        opinions.sort();
        let rec = if recused.is_empty() {
            0
        } else {
            voters.iter().filter(|c| recused.contains(&((*c).clone(), a.clone()))).count() as u64
        };
        let n = voters.len() as u64;
        out.push(Tally {
            present: rules::present(session, n, rec),
            eligible: rules::eligible(n, rec),
            applicant_code: a,
            agree,
            oppose,
            abstain,
            recused: rec,
            opinions,
        });
    }
    Ok(out)
}

/// One round as seen from one applicant: when it ran, why, and its tally once closed.
#[derive(Debug, Clone, Serialize)]
pub struct RoundResult {
    pub round: i64,
    pub reason: String,
    pub status_label: &'static str,
    pub medium: Medium,
    pub medium_reason: String,
    pub void_reason: Option<String>,
    pub opened_at: Option<String>,
    pub closed_at: Option<String>,
    pub tally: Option<Tally>,
}

/// Every round an applicant was in (kept, never overwritten), the tally of the latest closed
/// one (which decides), and whether a later round is still running.
#[derive(Debug, Clone, Default, Serialize)]
pub struct History {
    pub rounds: Vec<RoundResult>,
    pub latest: Option<Tally>,
    pub pending: bool,
}

/// The histories of every applicant of a scope, counting each round's ballots once.
pub fn histories(
    conn: &Connection,
    stage: Stage,
    scope: &str,
    session: &SessionRules,
) -> Result<HashMap<String, History>> {
    let mut out: HashMap<String, History> = HashMap::new();
    for r in rounds(conn, stage, scope)? {
        let mut tallies: HashMap<String, Tally> = if r.status == Status::Closed {
            tally(conn, r.id, session)?.into_iter().map(|t| (t.applicant_code.clone(), t)).collect()
        } else {
            HashMap::new()
        };
        for a in applicants_of(conn, r.id)? {
            let t = tallies.remove(&a);
            let h = out.entry(a).or_default();
            match r.status {
                Status::Closed => {
                    h.latest = t.clone();
                    h.pending = false;
                }
                // A void round is listed and decides nothing; its paper round follows.
                Status::Void => {}
                Status::Drafting | Status::Open | Status::Paper => h.pending = true,
            }
            h.rounds.push(RoundResult {
                round: r.round,
                reason: r.reason.clone(),
                status_label: r.status_label,
                medium: r.medium,
                medium_reason: r.medium_reason.clone(),
                void_reason: r.void_reason.clone(),
                opened_at: r.opened_at.clone(),
                closed_at: r.closed_at.clone(),
                tally: t,
            });
        }
    }
    Ok(out)
}

/// A repeated vote (复议) as a new round beside the old ones: needs a reason, chosen
/// applicants, and the scope's current round closed. The stage checks who may be chosen.
pub fn revote(
    tx: &Tx,
    stage: Stage,
    scope: &str,
    applicants: &[String],
    reason: &str,
    actor: &str,
    at: &str,
) -> Result<i64> {
    if reason.trim().is_empty() {
        return Err(Error::bad_request("请填写重新投票的理由。"));
    }
    if applicants.is_empty() {
        return Err(Error::bad_request("请选择需要重新投票的申报人。"));
    }
    let latest = latest(tx, stage, scope)?.ok_or_else(Error::not_found)?;
    if latest.status != Status::Closed {
        return Err(Error::conflict("当前一轮投票尚未结束，不能发起新一轮投票。"));
    }
    let id = create_round(tx, stage, scope, applicants, reason.trim(), at)?;
    store::audit(
        tx,
        at,
        actor,
        "vote.revote",
        scope,
        json!({ "vote": id, "applicants": applicants, "reason": reason.trim() }),
    )?;
    Ok(id)
}

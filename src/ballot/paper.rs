//! Paper rounds (DOMAIN, "Paper rounds"): when the network or the appliance fails, a round is
//! held on paper inside the same protocol. The leader or chair switches a round to paper with
//! a reason — a round still drafting opens on paper (its voters frozen now, as any opening
//! freezes them); an open electronic round becomes void (closed, deciding nothing, its sealed
//! ballots kept) and the next round number opens on paper for the same applicants and the same
//! frozen voters. Two different clerks (the admin or desk staff) then each enter the tally
//! sheet; the round is counted only when both entries are identical, and its decision comes
//! from `rules` exactly as an electronic round's (the tally feeds `ballot::tally`).
//!
//! Secrecy between clerks: an entry is stored whole but the audit records only its hash; a
//! mismatch names the fields that differ, never either clerk's numbers.

use super::{applicants_of, create_round, load_vote_tx, would_be_frozen, Medium, Stage, Status, Vote};
use crate::error::{Error, Result};
use crate::rules;
use crate::store::{self, Db, Tx};
use rusqlite::{params, Connection};
use serde::Serialize;
use serde_json::json;
use std::collections::HashMap;

/// The reasons offered for switching to paper; any other is given as free text (其他).
pub const REASONS: [&str; 3] = ["网络故障", "设备故障", "其他"];
const MAX_REASON: usize = 200;
/// More ballots than this in one field is a typing slip, not a venue (500 experts at most).
const MAX_COUNT: u64 = 100_000;

/// One clerk's tally sheet of a paper round, as the form posts it: ballots issued, returned
/// and invalid, and for each applicant of the round (in its order) agree / oppose / abstain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Entry {
    pub issued: u64,
    pub returned: u64,
    pub invalid: u64,
    pub counts: Vec<Count>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Count {
    pub applicant_code: String,
    pub agree: u64,
    pub oppose: u64,
    pub abstain: u64,
}

impl Entry {
    /// The form's field names (tests and the office's scripts rely on them): `issued`,
    /// `returned`, `invalid`, and `agree_CODE`, `oppose_CODE`, `abstain_CODE` per applicant.
    /// Every field is required, a whole number from 0; each problem names its field.
    pub fn from_form(field: impl Fn(&str) -> Option<String>, applicants: &[String]) -> Result<Entry> {
        let mut problems = Vec::new();
        let mut num = |name: &str, label: &str| -> u64 {
            let raw = field(name).unwrap_or_default();
            let t = raw.trim();
            match t.parse::<u64>() {
                Ok(n) if n <= MAX_COUNT => n,
                _ if t.is_empty() => {
                    problems.push(format!("「{label}」（{name}）未填写"));
                    0
                }
                _ => {
                    problems.push(format!("「{label}」（{name}）应为 0 或正整数，实为「{}」", printable(t)));
                    0
                }
            }
        };
        let issued = num("issued", "发出选票");
        let returned = num("returned", "收回选票");
        let invalid = num("invalid", "无效选票");
        let counts = applicants
            .iter()
            .map(|a| Count {
                agree: num(&format!("agree_{a}"), &format!("{a} 同意")),
                oppose: num(&format!("oppose_{a}"), &format!("{a} 反对")),
                abstain: num(&format!("abstain_{a}"), &format!("{a} 弃权")),
                applicant_code: a.clone(),
            })
            .collect();
        if !problems.is_empty() {
            return Err(Error::bad_request(problems.join("\n")));
        }
        Ok(Entry { issued, returned, invalid, counts })
    }

    /// The fields in which two entries differ, by their form names (no values).
    pub fn differences(&self, other: &Entry) -> Vec<String> {
        let mut out = Vec::new();
        for (name, a, b) in [
            ("issued", self.issued, other.issued),
            ("returned", self.returned, other.returned),
            ("invalid", self.invalid, other.invalid),
        ] {
            if a != b {
                out.push(name.to_string());
            }
        }
        for (x, y) in self.counts.iter().zip(&other.counts) {
            for (kind, a, b) in
                [("agree", x.agree, y.agree), ("oppose", x.oppose, y.oppose), ("abstain", x.abstain, y.abstain)]
            {
                if a != b {
                    out.push(format!("{kind}_{}", x.applicant_code));
                }
            }
        }
        if self.counts.len() != other.counts.len() {
            out.push("counts".into());
        }
        out
    }

    fn counts_json(&self) -> String {
        let m: serde_json::Map<String, serde_json::Value> =
            self.counts.iter().map(|c| (c.applicant_code.clone(), json!([c.agree, c.oppose, c.abstain]))).collect();
        serde_json::Value::Object(m).to_string()
    }

    fn digest(&self) -> String {
        crate::ids::sha256_hex(
            format!("{}/{}/{}/{}", self.issued, self.returned, self.invalid, self.counts_json()).as_bytes(),
        )
    }
}

/// A field's label for people: `agree_A0001` → "A0001 同意".
pub fn field_label(name: &str) -> String {
    match name {
        "issued" => "发出选票".into(),
        "returned" => "收回选票".into(),
        "invalid" => "无效选票".into(),
        other => match other.split_once('_') {
            Some(("agree", a)) => format!("{a} 同意"),
            Some(("oppose", a)) => format!("{a} 反对"),
            Some(("abstain", a)) => format!("{a} 弃权"),
            _ => other.to_string(),
        },
    }
}

fn printable(s: &str) -> String {
    s.chars().take(20).filter(|c| !c.is_control()).collect()
}

/// The switch's reason as recorded: one of `REASONS`, with the free text after it (required
/// for 其他).
pub fn reason_text(kind: &str, detail: &str) -> Result<String> {
    let detail = detail.trim();
    if !REASONS.contains(&kind) {
        return Err(Error::bad_request("请选择改为纸质投票的原因（网络故障 / 设备故障 / 其他）。"));
    }
    if kind == "其他" && detail.is_empty() {
        return Err(Error::bad_request("原因为「其他」时请写明原因。"));
    }
    if detail.chars().count() > MAX_REASON || detail.chars().any(|c| c.is_control()) {
        return Err(Error::bad_request(format!("原因说明不能超过 {MAX_REASON} 字，且不能含控制字符。")));
    }
    Ok(if detail.is_empty() { kind.to_string() } else { format!("{kind}：{detail}") })
}

/// Switches a scope's round to paper. A round still drafting opens on paper (its voters frozen
/// now; `check` is the stage's condition for opening, e.g. the quorum); an open electronic
/// round becomes void and the next round opens on paper for the same applicants and voters.
/// Returns the paper round's id.
pub fn switch(
    db: &Db,
    vote_id: i64,
    actor: &str,
    reason: &str,
    check: impl FnOnce(&Tx, &[String]) -> Result<()>,
) -> Result<i64> {
    let at = db.now();
    let id = db.write(|tx| {
        if store::is_reported(tx)? {
            return Err(Error::reported());
        }
        let v = load_vote_tx(tx, vote_id)?;
        match v.status {
            Status::Drafting => {
                let present = would_be_frozen(tx, v.stage, &v.scope)?;
                if present.is_empty() {
                    return Err(Error::conflict("还没有任何投票人签到（或由会务人员代为签到），不能开始纸质投票。"));
                }
                check(tx, &present)?;
                for c in &present {
                    tx.execute("INSERT INTO vote_voters (vote_id, voter_code) VALUES (?1, ?2)", params![v.id, c])?;
                }
                tx.execute("DELETE FROM drafts WHERE vote_id = ?1", [v.id])?;
                tx.execute(
                    "UPDATE votes SET status = 'open', medium = 'paper', medium_reason = ?1, opened_at = ?2 WHERE id = ?3",
                    params![reason, at, v.id],
                )?;
                store::audit(
                    tx,
                    &at,
                    actor,
                    "vote.paper",
                    &v.id.to_string(),
                    json!({ "stage": v.stage.code(), "scope": v.scope, "round": v.round, "reason": reason, "voters": present }),
                )?;
                Ok(v.id)
            }
            Status::Open => {
                // The open round is void: closed, its sealed ballots kept, deciding nothing.
                tx.execute("DELETE FROM drafts WHERE vote_id = ?1", [v.id])?;
                tx.execute(
                    "UPDATE votes SET status = 'closed', closed_at = ?1, void_reason = ?2 WHERE id = ?3",
                    params![at, reason, v.id],
                )?;
                let submitted: i64 =
                    tx.query_row("SELECT count(*) FROM vote_voters WHERE vote_id = ?1 AND submitted = 1", [v.id], |r| {
                        r.get(0)
                    })?;
                store::audit(
                    tx,
                    &at,
                    actor,
                    "vote.void",
                    &v.id.to_string(),
                    json!({ "stage": v.stage.code(), "scope": v.scope, "round": v.round, "reason": reason, "submitted": submitted }),
                )?;
                // The next round number, the same applicants and the same frozen voters.
                let apps = applicants_of(tx, v.id)?;
                let next = create_round(tx, v.stage, &v.scope, &apps, &v.reason, &at)?;
                tx.execute(
                    "INSERT INTO vote_voters (vote_id, voter_code) SELECT ?1, voter_code FROM vote_voters WHERE vote_id = ?2",
                    params![next, v.id],
                )?;
                tx.execute(
                    "UPDATE votes SET status = 'open', medium = 'paper', medium_reason = ?1, opened_at = ?2 WHERE id = ?3",
                    params![reason, at, next],
                )?;
                let voters: Vec<String> = {
                    let mut st = tx.prepare("SELECT voter_code FROM vote_voters WHERE vote_id = ?1")?;
                    let rows = st.query_map([next], |r| r.get(0))?.collect::<rusqlite::Result<_>>()?;
                    rows
                };
                store::audit(
                    tx,
                    &at,
                    actor,
                    "vote.paper",
                    &next.to_string(),
                    json!({ "stage": v.stage.code(), "scope": v.scope, "round": v.round + 1, "reason": reason,
                            "voided": v.id, "voters": voters }),
                )?;
                Ok(next)
            }
            Status::Paper => Err(Error::conflict("本轮已经是纸质投票。")),
            Status::Closed | Status::Void => Err(Error::conflict("本轮投票已经结束，不能改为纸质投票。")),
        }
    })?;
    db.truncate_wal();
    Ok(id)
}

/// What an entry did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum Outcome {
    /// The first entry of this try; the other clerk has not entered yet.
    Waiting,
    /// Both entries agree: the round is counted and closed.
    Accepted,
    /// The entries differ in these fields (form names); both clerks re-count and re-enter.
    Mismatch { fields: Vec<String> },
}

/// A clerk's view of a paper round's counting: which try it is, whether they have entered in
/// it, whether the other clerk has, and the fields of the last mismatch (never numbers).
#[derive(Debug, Clone, Serialize)]
pub struct Counting {
    pub attempt: i64,
    pub mine: bool,
    pub others: usize,
    pub mismatch: Vec<String>,
    pub accepted: bool,
}

struct Stored {
    attempt: i64,
    clerk: String,
    entry: Entry,
    entered_at: String,
}

fn stored_entries(conn: &Connection, vote_id: i64, applicants: &[String]) -> Result<Vec<Stored>> {
    let mut st = conn.prepare_cached(
        "SELECT attempt, clerk, issued, returned, invalid, counts, entered_at FROM paper_entries
         WHERE vote_id = ?1 AND current = 1 ORDER BY attempt, id",
    )?;
    let rows = st.query_map([vote_id], |r| {
        Ok((
            r.get::<_, i64>(0)?,
            r.get::<_, String>(1)?,
            r.get::<_, i64>(2)?,
            r.get::<_, i64>(3)?,
            r.get::<_, i64>(4)?,
            r.get::<_, String>(5)?,
            r.get::<_, String>(6)?,
        ))
    })?;
    let mut out = Vec::new();
    for row in rows {
        let (attempt, clerk, issued, returned, invalid, counts, entered_at) = row?;
        let map: HashMap<String, [u64; 3]> = serde_json::from_str(&counts)
            .map_err(|e| Error::internal(format!("paper entry of round {vote_id}: {e}")))?;
        let counts = applicants
            .iter()
            .map(|a| {
                let [agree, oppose, abstain] = map
                    .get(a)
                    .copied()
                    .ok_or_else(|| Error::internal(format!("paper entry of round {vote_id} lacks applicant {a}")))?;
                Ok(Count { applicant_code: a.clone(), agree, oppose, abstain })
            })
            .collect::<Result<Vec<_>>>()?;
        let n = |x: i64| u64::try_from(x).map_err(|_| Error::internal("negative paper count"));
        out.push(Stored {
            attempt,
            clerk,
            entry: Entry { issued: n(issued)?, returned: n(returned)?, invalid: n(invalid)?, counts },
            entered_at,
        });
    }
    Ok(out)
}

/// The consistency rules of one entry against its round (DOMAIN, paper rounds): issued ≤ the
/// round's voters, returned ≤ issued, invalid ≤ returned, and per applicant agree + oppose +
/// abstain ≤ the valid ballots and ≤ its eligible voters. Every problem at once, each named.
fn check_entry(conn: &Connection, v: &Vote, e: &Entry) -> Result<()> {
    let voters = super::voters(conn, v)?;
    let recused = super::recused_pairs(conn, v.id)?;
    let n = voters.len() as u64;
    let mut problems = Vec::new();
    if e.issued > n {
        problems.push(format!("发出选票（issued）{} 张，多于本轮投票人数 {n} 人", e.issued));
    }
    if e.returned > e.issued {
        problems.push(format!("收回选票（returned）{} 张，多于发出选票 {} 张", e.returned, e.issued));
    }
    if e.invalid > e.returned {
        problems.push(format!("无效选票（invalid）{} 张，多于收回选票 {} 张", e.invalid, e.returned));
    }
    let valid = e.returned.saturating_sub(e.invalid);
    for c in &e.counts {
        let sum = c.agree + c.oppose + c.abstain;
        let rec = voters.iter().filter(|x| recused.contains(&((*x).clone(), c.applicant_code.clone()))).count() as u64;
        let eligible = rules::eligible(n, rec);
        if sum > valid {
            problems.push(format!(
                "{}：同意 + 反对 + 弃权 = {sum}，多于有效选票 {valid} 张（收回 {} 张，无效 {} 张）",
                c.applicant_code, e.returned, e.invalid
            ));
        }
        if sum > eligible {
            problems.push(format!(
                "{}：同意 + 反对 + 弃权 = {sum}，多于可对其表决的 {eligible} 人（{n} 名投票人中 {rec} 人回避）：\
                 可能有回避的评委在该栏作了标记，请报告主任（组长）决定，通常重新投票",
                c.applicant_code
            ));
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(Error::bad_request(problems.join("\n")))
    }
}

/// Enters one clerk's tally of a paper round. Within a try, a clerk's second entry replaces
/// their first (a typo corrected before the other has entered); the other clerk's entry is
/// compared with it — identical: the round is counted and closed; different: the fields are
/// named and a new try begins, both clerks re-entering. Each entry is audited by its hash, a
/// mismatch by its fields, the acceptance with the tally.
pub fn enter(db: &Db, vote_id: i64, clerk: &str, entry: &Entry) -> Result<Outcome> {
    let at = db.now();
    db.write(|tx| {
        if store::is_reported(tx)? {
            return Err(Error::reported());
        }
        let v = load_vote_tx(tx, vote_id)?;
        match v.status {
            Status::Paper => {}
            Status::Closed if v.medium == Medium::Paper => return Err(Error::conflict("本轮纸质投票已经计票完成。")),
            _ => return Err(Error::conflict("本轮不是纸质投票，没有计票单可录入。")),
        }
        let apps = applicants_of(tx, v.id)?;
        if entry.counts.iter().map(|c| &c.applicant_code).ne(apps.iter()) {
            return Err(Error::bad_request("计票单的申报人与本轮不一致，请刷新页面后重新录入。"));
        }
        check_entry(tx, &v, entry)?;
        let stored = stored_entries(tx, v.id, &apps)?;
        let (_, attempt) = current_try(&stored, false);
        tx.execute(
            "UPDATE paper_entries SET current = 0 WHERE vote_id = ?1 AND attempt = ?2 AND clerk = ?3",
            params![v.id, attempt, clerk],
        )?;
        tx.execute(
            "INSERT INTO paper_entries (vote_id, attempt, clerk, issued, returned, invalid, counts, entered_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            params![
                v.id,
                attempt,
                clerk,
                entry.issued as i64,
                entry.returned as i64,
                entry.invalid as i64,
                entry.counts_json(),
                at
            ],
        )?;
        store::audit(
            tx,
            &at,
            clerk,
            "paper.entry",
            &v.id.to_string(),
            json!({ "round": v.round, "attempt": attempt, "sha256": entry.digest() }),
        )?;
        let other = stored.iter().find(|s| s.attempt == attempt && s.clerk != clerk);
        let Some(other) = other else { return Ok(Outcome::Waiting) };
        let fields = entry.differences(&other.entry);
        if !fields.is_empty() {
            store::audit(
                tx,
                &at,
                "system",
                "paper.mismatch",
                &v.id.to_string(),
                json!({ "round": v.round, "attempt": attempt, "fields": fields, "clerks": [other.clerk, clerk] }),
            )?;
            return Ok(Outcome::Mismatch { fields });
        }
        tx.execute("UPDATE votes SET status = 'closed', closed_at = ?1 WHERE id = ?2", params![at, v.id])?;
        store::audit(
            tx,
            &at,
            "system",
            "paper.accept",
            &v.id.to_string(),
            json!({ "round": v.round, "attempt": attempt, "clerks": [other.clerk, clerk], "tally": entry }),
        )?;
        Ok(Outcome::Accepted)
    })
}

/// The try an entry made now belongs to, and the last try with entries: the next try when the
/// last holds two entries of a round not yet counted (they differed), else the last.
fn current_try(stored: &[Stored], counted: bool) -> (i64, i64) {
    let last = stored.iter().map(|s| s.attempt).max().unwrap_or(1);
    let in_last = stored.iter().filter(|s| s.attempt == last).count();
    (last, if in_last >= 2 && !counted { last + 1 } else { last })
}

/// Where counting stands for one clerk (no numbers of anyone's).
pub fn counting(conn: &Connection, v: &Vote, clerk: &str) -> Result<Counting> {
    Ok(counting_and_own(conn, v, clerk)?.0)
}

/// `counting`, and the clerk's own entry of the current try to show back on their form (never
/// the other's), from one read of the entries.
pub fn counting_and_own(conn: &Connection, v: &Vote, clerk: &str) -> Result<(Counting, Option<Entry>)> {
    let apps = applicants_of(conn, v.id)?;
    let stored = stored_entries(conn, v.id, &apps)?;
    let accepted = v.status == Status::Closed;
    let (last, attempt) = current_try(&stored, accepted);
    let of = |t: i64| -> Vec<&Stored> { stored.iter().filter(|s| s.attempt == t).collect() };
    let differences = |pair: &[&Stored]| match pair {
        [a, b, ..] => a.entry.differences(&b.entry),
        _ => Vec::new(),
    };
    // A new try is due: the last one's fields differ. Otherwise the earlier try's mismatch
    // stays shown until this try is decided.
    let mismatch = if attempt > last { differences(&of(last)) } else { differences(&of(last - 1)) };
    let this = of(attempt);
    let own = this.iter().find(|s| s.clerk == clerk).map(|s| s.entry.clone());
    let counting = Counting {
        attempt,
        mine: own.is_some(),
        others: this.iter().filter(|s| s.clerk != clerk).count(),
        mismatch,
        accepted,
    };
    Ok((counting, own))
}

/// The two identical entries a counted paper round was accepted on (the bundle records both).
#[derive(Debug, Clone, Serialize)]
pub struct Accepted {
    pub clerk: String,
    pub entered_at: String,
    pub entry: Entry,
}

pub fn accepted(conn: &Connection, v: &Vote) -> Result<Vec<Accepted>> {
    if !(v.medium == Medium::Paper && v.status == Status::Closed) {
        return Ok(Vec::new());
    }
    let apps = applicants_of(conn, v.id)?;
    let stored = stored_entries(conn, v.id, &apps)?;
    let last = stored.iter().map(|s| s.attempt).max().unwrap_or(1);
    let pair: Vec<Accepted> = stored
        .into_iter()
        .filter(|s| s.attempt == last)
        .map(|s| Accepted { clerk: s.clerk, entered_at: s.entered_at, entry: s.entry })
        .collect();
    match pair.as_slice() {
        [a, b] if a.entry == b.entry && a.clerk != b.clerk => Ok(pair),
        _ => Err(Error::internal(format!("paper round {}: counted without two equal entries", v.id))),
    }
}

/// The counts a counted paper round decides on, per applicant (`ballot::tally` uses them).
pub(super) fn counted(conn: &Connection, v: &Vote) -> Result<HashMap<String, (u64, u64, u64)>> {
    let pair = accepted(conn, v)?;
    let first = pair.first().ok_or_else(|| Error::internal("paper round without entries"))?;
    Ok(first.entry.counts.iter().map(|c| (c.applicant_code.clone(), (c.agree, c.oppose, c.abstain))).collect())
}

/// Every paper round of the session (waiting or counted), oldest first.
pub fn all(conn: &Connection) -> Result<Vec<Vote>> {
    let ids: Vec<i64> = {
        let mut st = conn.prepare("SELECT id FROM votes WHERE medium = 'paper' ORDER BY id")?;
        let rows = st.query_map([], |r| r.get(0))?.collect::<rusqlite::Result<_>>()?;
        rows
    };
    let mut out = Vec::new();
    for id in ids {
        if let Some(v) = super::vote(conn, id)? {
            out.push(v);
        }
    }
    Ok(out)
}

/// One applicant line of a round's ballot, tally sheet and entry form.
#[derive(Debug, Clone, Serialize)]
pub struct SheetRow {
    pub code: String,
    pub name: String,
    pub unit: String,
    /// Voters of the round who may vote on this applicant (not recused).
    pub eligible: u64,
}

/// The round's voters (the ballots to issue) and the lines of its sheets, in the round's
/// order, each with the applicant's eligible voters.
pub fn sheet_rows(conn: &Connection, v: &Vote) -> Result<(usize, Vec<SheetRow>)> {
    let voters = super::voters(conn, v)?;
    let recused = super::recused_pairs(conn, v.id)?;
    let mut st = conn.prepare_cached(
        "SELECT a.code, a.name, a.unit FROM vote_applicants va JOIN applicants a ON a.code = va.applicant_code
         WHERE va.vote_id = ?1 ORDER BY a.ord",
    )?;
    let rows =
        st.query_map([v.id], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?, r.get::<_, String>(2)?)))?;
    let mut out = Vec::new();
    for row in rows {
        let (code, name, unit) = row?;
        let rec = voters.iter().filter(|x| recused.contains(&((*x).clone(), code.clone()))).count() as u64;
        out.push(SheetRow { eligible: rules::eligible(voters.len() as u64, rec), code, name, unit });
    }
    Ok((voters.len(), out))
}

/// One stage of the emergency pack (应急纸质投票包), printed before the meeting for a venue
/// with no machine at all: the stage's applicants (each with the voters who may vote on it)
/// and its prospective voters, for blank ballots, tally sheets and an attendance sheet.
#[derive(Debug, Clone, Serialize)]
pub struct PackStage {
    pub stage: Stage,
    pub scope: String,
    pub scope_name: String,
    pub rows: Vec<SheetRow>,
    /// (code, name) of everyone who may vote in this stage.
    pub voters: Vec<(String, String)>,
}

/// Every stage of the session, the groups in package order and the committee last. The
/// committee's sheets list every applicant it might vote on: those sent straight to it and
/// every group's (which of them passed is known only on the day).
pub fn pack(conn: &Connection) -> Result<Vec<PackStage>> {
    let groups: Vec<(String, String)> = {
        let mut st = conn.prepare("SELECT code, name FROM groups ORDER BY ord")?;
        let rows = st.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?.collect::<rusqlite::Result<_>>()?;
        rows
    };
    let mut out = Vec::new();
    let stages = groups.into_iter().map(|(code, name)| (Stage::Group, code, name)).chain(std::iter::once((
        Stage::Committee,
        super::COMMITTEE_SCOPE.to_string(),
        "评委会".to_string(),
    )));
    for (stage, scope, scope_name) in stages {
        let codes = super::prospective_voters(conn, stage, &scope)?;
        let mut voters = Vec::new();
        for c in &codes {
            let name: String = conn.query_row("SELECT name FROM experts WHERE code = ?1", [c], |r| r.get(0))?;
            voters.push((c.clone(), name));
        }
        let sql = match stage {
            Stage::Group => "SELECT code, name, unit FROM applicants WHERE group_code = ?1 ORDER BY ord",
            Stage::Committee => {
                "SELECT code, name, unit FROM applicants WHERE ?1 = ?1 ORDER BY group_code IS NOT NULL, ord"
            }
        };
        let mut st = conn.prepare(sql)?;
        let apps: Vec<(String, String, String)> =
            st.query_map([&scope], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?.collect::<rusqlite::Result<_>>()?;
        let mut rec = conn.prepare_cached("SELECT expert_code FROM recusals WHERE applicant_code = ?1")?;
        let mut rows = Vec::new();
        for (code, name, unit) in apps {
            let recused: Vec<String> = rec.query_map([&code], |r| r.get(0))?.collect::<rusqlite::Result<_>>()?;
            let n = codes.iter().filter(|c| recused.contains(c)).count() as u64;
            rows.push(SheetRow { eligible: rules::eligible(codes.len() as u64, n), code, name, unit });
        }
        out.push(PackStage { stage, scope, scope_name, rows, voters });
    }
    Ok(out)
}

//! Read models of the imported session for the pages: overview, groups, people, applicants,
//! attendance, audit. Plain functions over a connection, so tests can call them directly.

use crate::error::{Error, Result};
use crate::rules::{Mode, SessionRules};
use crate::store::{self, Db};
use rusqlite::{params, Connection, OptionalExtension};
use serde::Serialize;
use serde_json::json;

#[derive(Debug, Clone, Serialize)]
pub struct SessionView {
    pub session_id: String,
    pub name: String,
    pub committee: String,
    /// The rules, typed; serialized flat with their codes and labels for the pages.
    #[serde(flatten)]
    pub rules: SessionRules,
    pub blind: bool,
    pub package_sha256: String,
    /// The office key the package's signature was checked with; `None`: 来源未验证.
    pub office_key_id: Option<String>,
    pub package_source: String,
    pub imported_at: String,
    pub is_demo: bool,
    /// While a rehearsal (彩排) runs on this copy, when it started: every page, printout and
    /// file made from this view carries the 彩排 mark.
    pub rehearsal: Option<String>,
}

impl SessionView {
    pub fn mode(&self) -> Mode {
        self.rules.mode
    }
}

/// What a blind review shows in place of an applicant's unit.
pub const HIDDEN_UNIT: &str = "（盲评隐藏）";

/// Whether applicants' names and units are hidden from a viewer — the one place that decides
/// (DOMAIN decision 7): in a blind session (盲评), from every account but the admin's (leader,
/// chair, reporter and desk staff included), on every page, printout, download and the room
/// display, until the report; after it the minutes, 汇总表 and bundle carry names for the
/// office, as in any session.
pub fn names_hidden(session: &SessionView, viewer_is_admin: bool, reported: bool) -> bool {
    session.blind && !viewer_is_admin && !reported
}

/// Every applicant code of the session (what `mask_applicants` recognises).
pub fn applicant_codes(conn: &Connection) -> Result<std::collections::HashSet<String>> {
    let mut st = conn.prepare_cached("SELECT code FROM applicants")?;
    let codes = st.query_map([], |r| r.get(0))?.collect::<rusqlite::Result<_>>()?;
    Ok(codes)
}

/// Hides applicants in the data a page, printout or display is made from: every object whose
/// `code` is an applicant's shows the code as its name and `HIDDEN_UNIT` as its unit, however
/// deep it sits and whatever struct it came from. Masking the data, not each template, is
/// what keeps a new page or column from showing a name by mistake.
pub fn mask_applicants(v: &mut serde_json::Value, codes: &std::collections::HashSet<String>) {
    match v {
        serde_json::Value::Object(m) => {
            let code = m.get("code").and_then(|c| c.as_str()).filter(|c| codes.contains(*c)).map(str::to_string);
            if let Some(code) = code {
                if let Some(name) = m.get_mut("name") {
                    *name = json!(code);
                }
                if let Some(unit) = m.get_mut("unit") {
                    *unit = json!(HIDDEN_UNIT);
                }
            }
            m.values_mut().for_each(|x| mask_applicants(x, codes));
        }
        serde_json::Value::Array(a) => a.iter_mut().for_each(|x| mask_applicants(x, codes)),
        _ => {}
    }
}

/// The imported session, its rules parsed once here: a stored rule that does not parse is an
/// error (the database was changed by hand or by another version), never a silent default.
pub fn session(conn: &Connection) -> Result<Option<SessionView>> {
    type SessionRow = ([String; 11], [bool; 3], Option<String>, Option<String>);
    let row: Option<SessionRow> = store::row(
        conn,
        "SELECT session_id, name, committee, mode, committee_pass_ratio, quorum_ratio, group_pass_rule,
                score_rule, package_sha256, package_source, imported_at, recused_count_as_present, blind, is_demo,
                (SELECT value FROM meta WHERE key = ?1), office_key_id
         FROM session WHERE id = 1",
        [store::rehearsal::STARTED],
        |r| {
            let mut texts: [String; 11] = Default::default();
            for (i, t) in texts.iter_mut().enumerate() {
                *t = r.get(i)?;
            }
            Ok((texts, [r.get(11)?, r.get(12)?, r.get(13)?], r.get(14)?, r.get(15)?))
        },
    )
    .optional()?;
    let Some((
        [id, name, committee, mode, pass, quorum, group, score, sha, source, at],
        [counted, blind, is_demo],
        rehearsal,
        office_key_id,
    )) = row
    else {
        return Ok(None);
    };
    let rules = SessionRules::parse(&mode, &pass, &quorum, &group, &score, counted).map_err(Error::internal)?;
    Ok(Some(SessionView {
        session_id: id,
        name,
        committee,
        rules,
        blind,
        package_sha256: sha,
        office_key_id,
        package_source: source,
        imported_at: store::display_time(&at),
        rehearsal: rehearsal.as_deref().map(store::display_time),
        is_demo,
    }))
}

#[derive(Debug, Serialize, Default)]
pub struct Counts {
    pub groups: i64,
    pub experts: i64,
    pub committee: i64,
    pub applicants: i64,
    pub direct_applicants: i64,
    pub recusals: i64,
    pub materials: i64,
    pub accounts_issued: i64,
    pub accounts: i64,
    pub signed_in: i64,
    pub committee_signed_in: i64,
}

pub fn counts(conn: &Connection) -> Result<Counts> {
    let q = |sql: &str| -> Result<i64> { Ok(conn.query_row(sql, [], |r| r.get(0))?) };
    Ok(Counts {
        groups: q("SELECT count(*) FROM groups")?,
        experts: q("SELECT count(*) FROM experts")?,
        committee: q("SELECT count(*) FROM committee")?,
        applicants: q("SELECT count(*) FROM applicants")?,
        direct_applicants: q("SELECT count(*) FROM applicants WHERE group_code IS NULL")?,
        recusals: q("SELECT count(*) FROM recusals")?,
        materials: q("SELECT count(*) FROM materials")?,
        accounts_issued: q("SELECT count(*) FROM accounts WHERE is_admin = 0 AND password_hash IS NOT NULL")?,
        accounts: q("SELECT count(*) FROM accounts WHERE is_admin = 0")?,
        signed_in: q("SELECT count(*) FROM attendance")?,
        committee_signed_in: q("SELECT count(*) FROM attendance a JOIN committee c ON c.expert_code = a.person_code")?,
    })
}

#[derive(Debug, Serialize)]
pub struct GroupView {
    pub code: String,
    pub name: String,
    pub leader_code: String,
    pub leader_name: String,
    pub members: Vec<String>,
    pub applicants: i64,
}

pub fn groups(conn: &Connection) -> Result<Vec<GroupView>> {
    let mut st = conn.prepare(
        "SELECT g.code, g.name, g.leader, coalesce(e.name, ''),
                (SELECT count(*) FROM applicants a WHERE a.group_code = g.code)
         FROM groups g LEFT JOIN experts e ON e.code = g.leader ORDER BY g.ord",
    )?;
    let mut out: Vec<GroupView> = st
        .query_map([], |r| {
            Ok(GroupView {
                code: r.get(0)?,
                name: r.get(1)?,
                leader_code: r.get(2)?,
                leader_name: r.get(3)?,
                members: vec![],
                applicants: r.get(4)?,
            })
        })?
        .collect::<rusqlite::Result<_>>()?;
    let mut st = conn.prepare("SELECT name FROM experts WHERE group_code = ?1 ORDER BY ord")?;
    for g in &mut out {
        g.members = st.query_map([&g.code], |r| r.get(0))?.collect::<rusqlite::Result<_>>()?;
    }
    Ok(out)
}

#[derive(Debug, Serialize)]
pub struct ExpertView {
    pub code: String,
    pub name: String,
    pub gender: String,
    pub phone: String,
    pub id_number: String,
    pub unit: String,
    pub title: String,
    pub title_level: String,
    pub specialty: String,
    pub group_name: String,
    pub roles: String,
    pub username: String,
    pub issued_at: String,
    pub signed_in_at: String,
}

/// 138****0003: enough to recognise, not enough to misuse.
pub fn mask_phone(s: &str) -> String {
    let c: Vec<char> = s.chars().collect();
    if c.len() < 7 {
        return "*".repeat(c.len());
    }
    format!("{}****{}", c[..3].iter().collect::<String>(), c[c.len() - 4..].iter().collect::<String>())
}

/// A resident ID number (GB 11643): 17 digits and a check character that matches them.
pub fn is_resident_id(s: &str) -> bool {
    const W: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
    const CHECK: &[u8; 11] = b"10X98765432";
    let b = s.trim().as_bytes();
    if b.len() != 18 || !b[..17].iter().all(u8::is_ascii_digit) {
        return false;
    }
    let sum: u32 = b[..17].iter().zip(W).map(|(d, w)| (d - b'0') as u32 * w).sum();
    b[17].to_ascii_uppercase() == CHECK[(sum % 11) as usize]
}

/// A mainland mobile number: 11 digits starting 13–19.
pub fn is_mobile(s: &str) -> bool {
    let b = s.trim().as_bytes();
    b.len() == 11 && b[0] == b'1' && (b'3'..=b'9').contains(&b[1]) && b.iter().all(u8::is_ascii_digit)
}

/// A free field (package details and extra columns) as a non-admin may see it: ID numbers
/// (by their check digit, or by a column named for them) and phone numbers masked.
pub fn mask_field(name: &str, value: &str) -> String {
    let named_id = ["身份证", "证件号", "id_number", "idcard"].iter().any(|k| name.to_lowercase().contains(k));
    let named_phone = ["手机", "电话", "联系方式", "phone", "mobile"].iter().any(|k| name.to_lowercase().contains(k));
    if is_resident_id(value) || (named_id && !value.trim().is_empty()) {
        mask_id(value.trim())
    } else if is_mobile(value) || (named_phone && !value.trim().is_empty()) {
        mask_phone(value.trim())
    } else {
        mask_embedded(value)
    }
}

/// ID and mobile numbers inside a longer text (e.g. 备注：身份证 4101…): each run of digits
/// (with a trailing X) that is one, masked in place.
fn mask_embedded(value: &str) -> String {
    let chars: Vec<char> = value.chars().collect();
    let mut out = String::with_capacity(value.len());
    let mut i = 0;
    while i < chars.len() {
        if !chars[i].is_ascii_digit() {
            out.push(chars[i]);
            i += 1;
            continue;
        }
        let mut j = i;
        while j < chars.len() && chars[j].is_ascii_digit() {
            j += 1;
        }
        if j < chars.len() && j - i == 17 && matches!(chars[j], 'X' | 'x') {
            j += 1;
        }
        let run: String = chars[i..j].iter().collect();
        out.push_str(&if is_resident_id(&run) {
            mask_id(&run)
        } else if is_mobile(&run) {
            mask_phone(&run)
        } else {
            run
        });
        i = j;
    }
    out
}

/// 410***********0023
pub fn mask_id(s: &str) -> String {
    let c: Vec<char> = s.chars().collect();
    if c.len() < 8 {
        return "*".repeat(c.len());
    }
    format!(
        "{}{}{}",
        c[..3].iter().collect::<String>(),
        "*".repeat(c.len() - 7),
        c[c.len() - 4..].iter().collect::<String>()
    )
}

/// All experts with their account and attendance; phone and ID masked unless `reveal` names them.
pub fn experts(conn: &Connection, reveal: Option<&str>) -> Result<Vec<ExpertView>> {
    let people: std::collections::HashMap<String, crate::accounts::Person> =
        crate::accounts::load_people(conn)?.into_iter().map(|p| (p.code.clone(), p)).collect();
    let mut st = conn.prepare(
        "SELECT e.code, e.gender, e.phone, e.id_number, e.title, e.title_level, coalesce(a.username, ''),
                coalesce(a.issued_at, ''), coalesce(t.signed_in_at, '')
         FROM experts e LEFT JOIN accounts a ON a.person_code = e.code
         LEFT JOIN attendance t ON t.person_code = e.code ORDER BY e.ord",
    )?;
    let rows = st.query_map([], |r| {
        let code: String = r.get(0)?;
        let show = reveal == Some(code.as_str());
        let phone: String = r.get(2)?;
        let id: String = r.get(3)?;
        let p = people.get(&code);
        Ok(ExpertView {
            roles: p.map(|p| p.role_labels().join("、")).unwrap_or_default(),
            name: p.map(|p| p.name.clone()).unwrap_or_default(),
            unit: p.map(|p| p.unit.clone()).unwrap_or_default(),
            specialty: p.map(|p| p.specialty.clone()).unwrap_or_default(),
            group_name: p.and_then(|p| p.group_name.clone()).unwrap_or_default(),
            code,
            gender: r.get(1)?,
            phone: if show { phone } else { mask_phone(&phone) },
            id_number: if show { id } else { mask_id(&id) },
            title: r.get(4)?,
            title_level: r.get(5)?,
            username: r.get(6)?,
            issued_at: store::display_time(&r.get::<_, String>(7)?),
            signed_in_at: store::display_time(&r.get::<_, String>(8)?),
        })
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

pub fn reveal_expert(db: &Db, code: &str, actor: &str) -> Result<()> {
    let exists: bool =
        db.read(|c| Ok(c.query_row("SELECT EXISTS (SELECT 1 FROM experts WHERE code = ?1)", [code], |r| r.get(0))?))?;
    if !exists {
        return Err(Error::not_found());
    }
    let at = db.now();
    db.write(|tx| store::audit(tx, &at, actor, "expert.reveal", code, json!({})))
}

#[derive(Debug, Clone, Serialize)]
pub struct ApplicantRow {
    pub code: String,
    pub name: String,
    pub unit: String,
    pub series: String,
    pub specialty: String,
    pub title: String,
    pub review_type: String,
    pub group_code: Option<String>,
    pub group_name: String,
    pub lecture_order: Option<i64>,
    pub lecture_room: String,
    pub lecture_topic: String,
    pub lecture_chapter: String,
    pub lecture_textbook: String,
    pub recusals: i64,
    pub materials: i64,
}

const APPLICANT_SQL: &str = "SELECT a.code, a.name, a.unit, a.series, a.specialty, a.title, a.review_type,
        a.group_code, coalesce(g.name, ''), a.lecture_order, a.lecture_room, a.lecture_topic, a.lecture_chapter,
        a.lecture_textbook,
        (SELECT count(*) FROM recusals r WHERE r.applicant_code = a.code),
        (SELECT count(*) FROM materials m WHERE m.applicant_code = a.code)
     FROM applicants a LEFT JOIN groups g ON g.code = a.group_code";

fn applicant_row(r: &rusqlite::Row) -> rusqlite::Result<ApplicantRow> {
    Ok(ApplicantRow {
        code: r.get(0)?,
        name: r.get(1)?,
        unit: r.get(2)?,
        series: r.get(3)?,
        specialty: r.get(4)?,
        title: r.get(5)?,
        review_type: r.get(6)?,
        group_code: r.get(7)?,
        group_name: r.get(8)?,
        lecture_order: r.get(9)?,
        lecture_room: r.get(10)?,
        lecture_topic: r.get(11)?,
        lecture_chapter: r.get(12)?,
        lecture_textbook: r.get(13)?,
        recusals: r.get(14)?,
        materials: r.get(15)?,
    })
}

#[derive(Debug, Serialize)]
pub struct Paged<T> {
    pub rows: Vec<T>,
    pub total: i64,
    pub page: i64,
    pub pages: i64,
    pub per_page: i64,
}

/// Search by code, name, unit or specialty (substring), optionally within one group.
/// A group's applicants in order (by index; `search_applicants` scans the whole table).
pub fn applicants_of_group(conn: &Connection, group: &str) -> Result<Vec<ApplicantRow>> {
    let mut st = conn.prepare_cached(&format!("{APPLICANT_SQL} WHERE a.group_code = ?1 ORDER BY a.ord"))?;
    let rows = st.query_map([group], applicant_row)?.collect::<rusqlite::Result<_>>()?;
    Ok(rows)
}

pub fn search_applicants(
    conn: &Connection,
    q: Option<&str>,
    group: Option<&str>,
    page: i64,
    per_page: i64,
) -> Result<Paged<ApplicantRow>> {
    let pattern = q.map(|s| format!("%{}%", s.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_")));
    let filter = "WHERE (?1 IS NULL OR a.code LIKE ?1 ESCAPE '\\' OR a.name LIKE ?1 ESCAPE '\\'
                   OR a.unit LIKE ?1 ESCAPE '\\' OR a.specialty LIKE ?1 ESCAPE '\\')
                  AND (?2 IS NULL OR a.group_code = ?2)";
    let total: i64 =
        conn.query_row(&format!("SELECT count(*) FROM applicants a {filter}"), params![pattern, group], |r| r.get(0))?;
    let pages = ((total + per_page - 1) / per_page).max(1);
    let page = page.clamp(1, pages);
    let mut st = conn.prepare(&format!("{APPLICANT_SQL} {filter} ORDER BY a.ord LIMIT ?3 OFFSET ?4"))?;
    let rows = st
        .query_map(params![pattern, group, per_page, (page - 1) * per_page], applicant_row)?
        .collect::<rusqlite::Result<_>>()?;
    Ok(Paged { rows, total, page, pages, per_page })
}

#[derive(Debug, Serialize)]
pub struct MaterialView {
    pub id: i64,
    pub path: String,
    pub file_name: String,
    pub size: i64,
    pub content_type: String,
    pub kind: &'static str,
}

#[derive(Debug, Serialize)]
pub struct RecusalView {
    pub expert_code: String,
    pub expert_name: String,
    pub source: String,
    pub reason: String,
}

#[derive(Debug, Serialize)]
pub struct ApplicantDetail {
    pub row: ApplicantRow,
    pub details: Vec<(String, String)>,
    pub extra: Vec<(String, String)>,
    pub materials: Vec<MaterialView>,
    pub recusals: Vec<RecusalView>,
}

pub fn applicant(conn: &Connection, code: &str) -> Result<Option<ApplicantDetail>> {
    let Some(row) = conn.query_row(&format!("{APPLICANT_SQL} WHERE a.code = ?1"), [code], applicant_row).optional()?
    else {
        return Ok(None);
    };
    let (details, extra): (String, String) =
        conn.query_row("SELECT details, extra FROM applicants WHERE code = ?1", [code], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })?;
    let details: Vec<(String, String)> = serde_json::from_str::<Vec<[String; 2]>>(&details)
        .unwrap_or_default()
        .into_iter()
        .map(|[k, v]| (k, v))
        .collect();
    let extra: Vec<(String, String)> = match serde_json::from_str::<serde_json::Value>(&extra) {
        Ok(serde_json::Value::Object(m)) => m
            .into_iter()
            .map(|(k, v)| (k, if let serde_json::Value::String(s) = v { s } else { v.to_string() }))
            .collect(),
        _ => vec![],
    };
    let mut st =
        conn.prepare("SELECT id, path, size, content_type FROM materials WHERE applicant_code = ?1 ORDER BY ord")?;
    let materials = st
        .query_map([code], |r| {
            let path: String = r.get(1)?;
            let ct: String = r.get(3)?;
            Ok(MaterialView {
                id: r.get(0)?,
                file_name: path.rsplit('/').next().unwrap_or(&path).to_string(),
                path,
                size: r.get(2)?,
                kind: if ct == "application/pdf" {
                    "pdf"
                } else if ct.starts_with("image/") {
                    "image"
                } else {
                    "other"
                },
                content_type: ct,
            })
        })?
        .collect::<rusqlite::Result<_>>()?;
    let mut st = conn.prepare(
        "SELECT r.expert_code, e.name, r.source, r.reason FROM recusals r JOIN experts e ON e.code = r.expert_code
         WHERE r.applicant_code = ?1 ORDER BY e.ord",
    )?;
    let recusals = st
        .query_map([code], |r| {
            Ok(RecusalView { expert_code: r.get(0)?, expert_name: r.get(1)?, source: r.get(2)?, reason: r.get(3)? })
        })?
        .collect::<rusqlite::Result<_>>()?;
    Ok(Some(ApplicantDetail { row, details, extra, materials, recusals }))
}

/// Every applicant this expert must recuse from (one query for a list page).
pub fn recused_from(conn: &Connection, expert: &str) -> Result<std::collections::HashSet<String>> {
    let mut st = conn.prepare_cached("SELECT applicant_code FROM recusals WHERE expert_code = ?1")?;
    let rows = st.query_map([expert], |r| r.get(0))?.collect::<rusqlite::Result<_>>()?;
    Ok(rows)
}

pub struct MaterialFile {
    pub applicant_code: String,
    pub path: String,
    pub sha256: String,
    pub content_type: String,
}

pub fn material(conn: &Connection, id: i64) -> Result<Option<MaterialFile>> {
    Ok(conn
        .query_row("SELECT applicant_code, path, sha256, content_type FROM materials WHERE id = ?1", [id], |r| {
            Ok(MaterialFile { applicant_code: r.get(0)?, path: r.get(1)?, sha256: r.get(2)?, content_type: r.get(3)? })
        })
        .optional()?)
}

#[derive(Debug, Serialize)]
pub struct AttendanceRow {
    pub code: String,
    pub name: String,
    pub roles: String,
    pub group_name: String,
    pub signed_in_at: String,
    pub method: String,
    pub staff: bool,
    pub left_at: String,
}

pub fn attendance(conn: &Connection) -> Result<Vec<AttendanceRow>> {
    let people = crate::accounts::load_people(conn)?;
    let mut st = conn.prepare("SELECT signed_in_at, method, left_at FROM attendance WHERE person_code = ?1")?;
    let mut out = Vec::new();
    for p in people {
        let (at, method, left): (String, String, Option<String>) =
            st.query_row([&p.code], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?))).optional()?.unwrap_or_default();
        out.push(AttendanceRow {
            roles: p.role_labels().join("、"),
            code: p.code,
            name: p.name,
            group_name: p.group_name.unwrap_or_default(),
            signed_in_at: store::display_time(&at),
            staff: method == "admin",
            left_at: left.map(|t| store::display_time(&t)).unwrap_or_default(),
            method: match method.as_str() {
                "login" => "登录签到".into(),
                "admin" => "会务人员签到".into(),
                _ => String::new(),
            },
        });
    }
    Ok(out)
}

/// 代为签到 (DOMAIN decision 5): staff record someone's physical presence (e.g. a member
/// whose phone has no browser). Counts for the quorum and puts them into the next round's voters.
pub fn check_in(db: &Db, code: &str, actor: &str) -> Result<bool> {
    let at = db.now();
    db.write(|tx| {
        ensure_person(tx, code)?;
        let n = tx.execute(
            "INSERT OR IGNORE INTO attendance (person_code, signed_in_at, method) VALUES (?1, ?2, 'admin')",
            params![code, at],
        )?;
        if n == 1 {
            store::audit(tx, &at, actor, "attendance.sign_in", code, json!({ "method": "admin" }))?;
        }
        Ok(n == 1)
    })
}

/// Undoes a mistaken staff check-in. Refused once the person has been frozen into a round
/// (that round's record stays as it was) and for someone who signed in on their own device.
pub fn undo_check_in(db: &Db, code: &str, actor: &str) -> Result<()> {
    let at = db.now();
    db.write(|tx| {
        ensure_person(tx, code)?;
        let method: Option<String> =
            store::row(tx, "SELECT method FROM attendance WHERE person_code = ?1", [code], |r| r.get(0)).optional()?;
        match method.as_deref() {
            None => return Err(Error::conflict("此人尚未签到。")),
            Some("admin") => {}
            Some(_) => return Err(Error::conflict("此人已用本人账号登录签到，不能撤销；如已离开会场，请标记离场。")),
        }
        ensure_not_frozen(tx, code)?;
        tx.execute("DELETE FROM attendance WHERE person_code = ?1", [code])?;
        store::audit(tx, &at, actor, "attendance.undo", code, json!({}))
    })
}

/// 离场 (or back, with `left = false`): someone who left is not frozen into rounds opened
/// afterwards; rounds already open keep their voters.
pub fn mark_left(db: &Db, code: &str, left: bool, actor: &str) -> Result<()> {
    let at = db.now();
    db.write(|tx| {
        ensure_person(tx, code)?;
        let n = tx.execute(
            "UPDATE attendance SET left_at = ?2 WHERE person_code = ?1 AND (left_at IS NULL) = ?3",
            params![code, left.then_some(at.as_str()), left],
        )?;
        if n == 0 {
            return Err(Error::conflict(if left {
                "此人未签到或已标记离场。"
            } else {
                "此人未标记离场。"
            }));
        }
        store::audit(tx, &at, actor, if left { "attendance.left" } else { "attendance.back" }, code, json!({}))
    })
}

fn ensure_person(tx: &Connection, code: &str) -> Result<()> {
    let exists: bool = tx.query_row("SELECT EXISTS (SELECT 1 FROM experts WHERE code = ?1)", [code], |r| r.get(0))?;
    if !exists {
        return Err(Error::not_found());
    }
    Ok(())
}

/// A person frozen as a voter of a round that has opened cannot have their check-in undone.
fn ensure_not_frozen(tx: &Connection, code: &str) -> Result<()> {
    let frozen: bool =
        tx.query_row("SELECT EXISTS (SELECT 1 FROM vote_voters WHERE voter_code = ?1)", [code], |r| r.get(0))?;
    if frozen {
        return Err(Error::conflict("此人已在已开启的投票名单中，该轮的出席记录不能更改；如已离开会场，请标记离场。"));
    }
    Ok(())
}

#[derive(Debug, Serialize)]
pub struct AuditRow {
    pub seq: i64,
    pub at: String,
    pub actor: String,
    pub action: String,
    pub object: String,
    pub details: String,
}

pub fn audit_page(conn: &Connection, page: i64, per_page: i64) -> Result<Paged<AuditRow>> {
    let total: i64 = conn.query_row("SELECT count(*) FROM audit", [], |r| r.get(0))?;
    let pages = ((total + per_page - 1) / per_page).max(1);
    let page = page.clamp(1, pages);
    let mut st =
        conn.prepare("SELECT seq, at, actor, action, object, details FROM audit ORDER BY seq DESC LIMIT ?1 OFFSET ?2")?;
    let rows = st
        .query_map(params![per_page, (page - 1) * per_page], |r| {
            Ok(AuditRow {
                seq: r.get(0)?,
                at: store::display_time(&r.get::<_, String>(1)?),
                actor: r.get(2)?,
                action: r.get(3)?,
                object: r.get(4)?,
                details: r.get(5)?,
            })
        })?
        .collect::<rusqlite::Result<_>>()?;
    Ok(Paged { rows, total, page, pages, per_page })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn personal_numbers_are_recognised_by_check_digit_and_column_name() {
        assert!(is_resident_id("11010519491231002X"));
        assert!(!is_resident_id("110105194912310021"), "wrong check digit");
        assert!(!is_resident_id("123456789012345678"), "a bare 18-digit count is not enough");
        assert_eq!(mask_field("备注", "11010519491231002X"), "110***********002X");
        assert_eq!(mask_field("身份证号码", "12345"), "*****", "by the column name");
        assert_eq!(mask_field("联系电话", "0371-6666888"), "037****6888");
        assert_eq!(mask_field("备注", "13803710003"), "138****0003");
        assert_eq!(
            mask_field("备注", "身份证11010519491231002X，电话13803710003。"),
            "身份证110***********002X，电话138****0003。"
        );
        assert_eq!(mask_field("编号", "123456789012345678"), "123456789012345678");
    }

    #[test]
    fn masks() {
        assert_eq!(mask_phone("13803710003"), "138****0003");
        assert_eq!(mask_id("410105197805120023"), "410***********0023");
        assert_eq!(mask_id("123"), "***");
    }
}

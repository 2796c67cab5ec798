//! Paper rounds on the web (DOMAIN, "Paper rounds"): the clerks' 纸质计票 pages (the admin and
//! desk staff enter a round's tally sheet; two different accounts, compared), and the round's
//! printouts — the ballot sheet and the tally sheet — for the clerks and for the leader or
//! chair whose round it is. The rules live in `ballot::paper`; these are thin handlers.

use super::{layout, App, Ctx, Input};
use crate::ballot::{self, paper, Stage, Status, Vote};
use crate::error::{Error, Result};
use crate::venue;
use rouille::Response;
use serde_json::json;

/// Paper pages exist for rounds held on paper; any other round is told apart, not hidden.
fn not_paper(v: &Vote) -> Result<()> {
    if v.medium == ballot::Medium::Paper {
        Ok(())
    } else {
        Err(Error::conflict(format!("第 {} 轮不是纸质投票。", v.round)))
    }
}

/// The round a `/paper/{id}…` URL names, and what follows its id.
fn round_of<'u>(app: &App, rest: &'u str) -> Result<(Vote, &'u str)> {
    let (id, tail) = rest.split_once('/').unwrap_or((rest, ""));
    let id: i64 = id.parse().map_err(|_| Error::not_found())?;
    let v = app.db.read(|c| ballot::vote(c, id))?.ok_or_else(Error::not_found)?;
    not_paper(&v)?;
    Ok((v, tail))
}

fn scope_name(app: &App, v: &Vote) -> Result<String> {
    match v.stage {
        Stage::Committee => Ok("评委会".into()),
        Stage::Group => app.db.read(|c| {
            Ok(c.query_row("SELECT name FROM groups WHERE code = ?1", [&v.scope], |r| r.get::<_, String>(0))?)
        }),
    }
}

/// GET `/paper…` (clerks: the admin and desk staff).
pub fn get(app: &App, ctx: &Ctx, url: &str) -> Result<Response> {
    if url == "/paper" {
        return list(app, ctx);
    }
    let rest = url.strip_prefix("/paper/").ok_or_else(Error::not_found)?;
    let (v, tail) = round_of(app, rest)?;
    match tail {
        "" => entry_form(app, ctx, &v, None),
        "ballot" | "tally" => sheet(app, ctx, &v, tail, "/paper"),
        _ => Err(Error::not_found()),
    }
}

/// POST `/paper/{id}`: one clerk's entry of the round's tally sheet.
pub fn post(app: &App, ctx: &Ctx, url: &str, input: Input) -> Result<Response> {
    let rest = url.strip_prefix("/paper/").ok_or_else(Error::not_found)?;
    let (v, tail) = round_of(app, rest)?;
    if !tail.is_empty() {
        return Err(Error::not_found());
    }
    let apps = app.db.read(|c| ballot::applicants_of(c, v.id))?;
    let f = &input.form;
    let entry = paper::Entry::from_form(|name| f.get(name).map(str::to_string), &apps);
    let outcome = entry.and_then(|e| paper::enter(&app.db, v.id, &ctx.actor(), &e));
    match outcome {
        // Post/redirect/get: the page then says where counting stands (waiting, a mismatch's
        // fields, counted), and reloading it never sends the entry again.
        Ok(_) => Ok(Response::redirect_303(format!("/paper/{}", v.id))),
        // A refused entry comes back on the form with what was typed and every reason.
        Err(e) if e.is_refusal() => {
            let status = e.status();
            let typed: serde_json::Map<String, serde_json::Value> =
                f.keys().into_iter().filter(|k| *k != "_csrf").map(|k| (k.to_string(), json!(f.text(k)))).collect();
            entry_form(app, ctx, &v, Some((e.message, typed))).map(|r| r.with_status_code(status))
        }
        Err(e) => Err(e),
    }
}

fn list(app: &App, ctx: &Ctx) -> Result<Response> {
    let rounds = app.db.read(paper::all)?;
    let mut rows = Vec::new();
    for v in &rounds {
        let c = app.db.read(|c| paper::counting(c, v, &ctx.actor()))?;
        rows.push(json!({ "vote": v, "scope_name": scope_name(app, v)?, "counting": c }));
    }
    layout(app, ctx, "paper_list.html", "/paper", "纸质计票", json!({ "rows": rows }))
}

/// The clerk's form: the round, where counting stands (never the other clerk's numbers), and
/// the fields — their own entry of this try shown back, or what they just typed if refused.
fn entry_form(
    app: &App,
    ctx: &Ctx,
    v: &Vote,
    refused: Option<(String, serde_json::Map<String, serde_json::Value>)>,
) -> Result<Response> {
    let me = ctx.actor();
    let ((voters, rows), (counting, own)) =
        app.db.read(|c| Ok((paper::sheet_rows(c, v)?, paper::counting_and_own(c, v, &me)?)))?;
    let mismatch: Vec<serde_json::Value> =
        counting.mismatch.iter().map(|f| json!({ "field": f, "label": paper::field_label(f) })).collect();
    let (error, typed) = match refused {
        Some((msg, typed)) => (Some(msg.lines().map(str::to_string).collect::<Vec<_>>()), Some(typed)),
        None => (None, None),
    };
    // The values to show in the fields: what was just typed (refused), else the clerk's own
    // entry of this try.
    let values = match (&typed, &own) {
        (Some(t), _) => serde_json::Value::Object(t.clone()),
        (None, Some(e)) => {
            let mut m = serde_json::Map::new();
            m.insert("issued".into(), json!(e.issued));
            m.insert("returned".into(), json!(e.returned));
            m.insert("invalid".into(), json!(e.invalid));
            for c in &e.counts {
                m.insert(format!("agree_{}", c.applicant_code), json!(c.agree));
                m.insert(format!("oppose_{}", c.applicant_code), json!(c.oppose));
                m.insert(format!("abstain_{}", c.applicant_code), json!(c.abstain));
            }
            serde_json::Value::Object(m)
        }
        (None, None) => json!({}),
    };
    let tally = if v.status == Status::Closed {
        let s = app.db.read(venue::session)?.ok_or_else(Error::not_found)?;
        Some(app.db.read(|c| ballot::tally(c, v.id, &s.rules))?)
    } else {
        None
    };
    layout(
        app,
        ctx,
        "paper_entry.html",
        "/paper",
        "纸质计票",
        json!({
            "vote": v, "scope_name": scope_name(app, v)?, "voters": voters, "rows": rows, "counting": counting,
            "mismatch": mismatch, "error": error, "values": values, "me": me, "tally": tally,
        }),
    )
}

/// The round's ballot sheet or tally sheet (A4 printouts). `back` is the page they belong to.
pub fn sheet(app: &App, ctx: &Ctx, v: &Vote, kind: &str, back: &str) -> Result<Response> {
    not_paper(v)?;
    let s = app.db.read(venue::session)?.ok_or_else(Error::not_found)?;
    let (voters, rows) = app.db.read(|c| paper::sheet_rows(c, v))?;
    let reported = app.db.read(crate::store::is_reported)?;
    // Ballots show codes only in a blind review, whoever prints them (DOMAIN decision 7).
    let codes_only = s.blind && !reported;
    let (template, title) =
        if kind == "ballot" { ("paper_ballot.html", "纸质表决票") } else { ("paper_tally.html", "计票单") };
    layout(
        app,
        ctx,
        template,
        back,
        title,
        json!({
            "vote": v, "scope_name": scope_name(app, v)?, "rows": rows, "voters": voters, "codes_only": codes_only,
            "stage_word": if v.stage == Stage::Committee { "评委会" } else { "专业组" }, "back": back,
        }),
    )
}

/// 会务管理 → 应急纸质投票包: the stages, or one stage's pack to print (`scope`: a group's code
/// or `committee`).
pub fn pack_page(app: &App, ctx: &Ctx, scope: Option<&str>) -> Result<Response> {
    let s = app.db.read(venue::session)?.ok_or_else(Error::not_found)?;
    let stages = app.db.read(paper::pack)?;
    let reported = app.db.read(crate::store::is_reported)?;
    let codes_only = s.blind && !reported;
    match scope {
        None => layout(app, ctx, "paper_pack.html", "/admin/paper-pack", "应急纸质投票包", json!({ "stages": stages })),
        Some(code) => {
            let p = stages.into_iter().find(|p| p.scope == code).ok_or_else(Error::not_found)?;
            let title = format!("应急纸质投票包 · {}", p.scope_name);
            layout(
                app,
                ctx,
                "paper_pack.html",
                "/admin/paper-pack",
                &title,
                json!({ "p": p, "session_name": s.name, "codes_only": codes_only }),
            )
        }
    }
}

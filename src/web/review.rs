//! Pages of the group stage: 分配主审专家, 讲课答辩, 查看资料 / 面试答辩, 专业组拟投票 and its
//! submission, 小组数据操作 (the switch and live counts), 专业组评议. Each handler resolves the
//! person's own group and calls `review` / `ballot`; authorization per page comes from `menu`.

use super::http::Form;
use super::{layout, App, Ctx, Input};
use crate::accounts::Person;
use crate::ballot::{self, Choice, DraftEdit, Stage, Status};
use crate::error::{Error, Result};
use crate::review::{self, DecisionInput, NoteKind};
use crate::venue::{self, SessionView};
use minijinja::Value;
use rouille::{Request, Response};
use serde_json::json;
use std::collections::HashSet;

struct Here<'a> {
    person: &'a Person,
    group: String,
    group_name: String,
    session: SessionView,
}

fn here<'a>(app: &App, ctx: &'a Ctx) -> Result<Here<'a>> {
    let person = ctx.person.as_ref().ok_or_else(Error::forbidden)?;
    let group = person.group_code.clone().ok_or_else(Error::forbidden)?;
    let session = app.db.read(venue::session)?.ok_or_else(Error::not_found)?;
    Ok(Here { group_name: person.group_name.clone().unwrap_or_default(), person, group, session })
}

fn blind(h: &Here) -> bool {
    h.session.blind
}

pub fn get(app: &App, req: &Request, ctx: &Ctx, url: &str) -> Result<Response> {
    let h = here(app, ctx)?;
    match url {
        "/review/assign" => assign_page(app, ctx, &h),
        "/review/draft" => {
            draft_page(app, ctx, &h, req.get_param("submitted").is_some(), req.get_param("saved").is_some())
        }
        "/review/submit" => submit_confirm(app, ctx, &h),
        "/review/ops" => ops_page(app, ctx, &h),
        "/review/ops/status" => ops_status(app, req, &h),
        "/review/draft/status" => {
            let v = current(app, &h)?;
            draft_status(app, req, &v, &h.person.code)
        }
        "/review/deliberate" => deliberate_page(app, ctx, &h, None, req.get_param("saved").is_some()),
        "/lecture" => scores_page(app, ctx, &h, "lecture.html", "/lecture", "讲课答辩", req),
        "/interview/defense" => {
            scores_page(app, ctx, &h, "interview_defense.html", "/interview/defense", "面试答辩", req)
        }
        "/interview/materials" => {
            scores_page(app, ctx, &h, "interview_materials.html", "/interview/materials", "查看资料", req)
        }
        _ => {
            if let Some(code) = url.strip_prefix("/review/assign/") {
                return pick_page(app, ctx, &h, code);
            }
            // The printouts of this group's paper round (ballot and tally sheets).
            let printout = url.strip_prefix("/review/ops/paper/").and_then(|r| r.split_once('/'));
            match printout {
                Some((id, kind @ ("ballot" | "tally"))) => {
                    let v = own_round(app, &h, id)?;
                    super::paper::sheet(app, ctx, &v, kind, "/review/ops")
                }
                _ => Err(Error::not_found()),
            }
        }
    }
}

pub fn post(app: &App, ctx: &Ctx, url: &str, input: Input) -> Result<Response> {
    let h = here(app, ctx)?;
    let f = &input.form;
    let me = h.person.code.as_str();
    match url {
        "/review/assign/suggest" => {
            let replace_all = f.get("replace") == Some("all");
            let (pairs, apps, experts, current) = app.db.read(|c| {
                Ok((
                    review::suggest_leads(c, &h.group, replace_all)?,
                    review::group_applicants(c, &h.group)?,
                    review::group_experts(c, &h.group)?,
                    review::lead_reviewers(c, &h.group)?,
                ))
            })?;
            // Every applicant with what it has now beside what is proposed.
            let rows: Vec<_> = apps
                .iter()
                .map(|a| {
                    let proposed = pairs.iter().find(|(x, _)| x == &a.code).map(|(_, e)| e);
                    let now: Vec<&str> =
                        current.get(&a.code).map(|v| v.iter().map(|(_, n)| n.as_str()).collect()).unwrap_or_default();
                    json!({
                        "applicant": a,
                        "current": now,
                        "expert": proposed.and_then(|e| experts.iter().find(|x| &x.code == e)),
                        "pair": proposed.map(|e| format!("{}:{e}", a.code)),
                    })
                })
                .collect();
            layout(
                app,
                ctx,
                "review_suggest.html",
                "/review/assign",
                "一键均衡分配",
                json!({ "rows": rows, "blind": blind(&h), "replace_all": replace_all, "changes": pairs.len() }),
            )
        }
        "/review/assign/confirm" => {
            let pairs: Vec<(String, String)> = f
                .all("pairs")
                .iter()
                .filter_map(|p| p.split_once(':').map(|(a, e)| (a.to_string(), e.to_string())))
                .collect();
            review::set_all_leads(&app.db, &h.group, &pairs, me)?;
            Ok(Response::redirect_303("/review/assign"))
        }
        "/review/draft" => {
            let v = current(app, &h)?;
            let back = if f.get("next") == Some("submit") { "/review/submit" } else { "/review/draft?saved=1" };
            save_drafts_request(app, &v, me, &input, back)
        }
        "/review/submit" => {
            let v = current(app, &h)?;
            if f.get("vote").and_then(|x| x.parse::<i64>().ok()) != Some(v.id) {
                return Err(Error::conflict("投票轮次已变化，请返回重新确认。"));
            }
            ballot::submit(&app.db, v.id, me)?;
            Ok(Response::redirect_303("/review/draft?submitted=1"))
        }
        "/review/ops/open" => {
            let v = current(app, &h)?;
            review::open_vote(&app.db, h.session.mode(), &h.group, v.id, me)?;
            Ok(Response::redirect_303("/review/ops"))
        }
        "/review/ops/scoring" => {
            review::close_scoring(&app.db, h.session.mode(), &h.group, me)?;
            Ok(Response::redirect_303("/review/ops"))
        }
        "/review/ops/paper" => {
            let v = current(app, &h)?;
            let reason = ballot::paper::reason_text(&f.text("reason_kind"), &f.text("reason_detail"))?;
            review::to_paper(&app.db, h.session.mode(), &h.group, v.id, me, &reason)?;
            Ok(Response::redirect_303("/review/ops"))
        }
        "/review/ops/close" => {
            let v = current(app, &h)?;
            ballot::close(&app.db, v.id, me)?;
            Ok(Response::redirect_303("/review/ops"))
        }
        "/review/deliberate" => {
            let rows = app.db.read(|c| review::deliberation(c, &h.group, &h.session))?;
            let inputs: Vec<DecisionInput> = rows
                .iter()
                .filter(|r| f.get(&format!("passed_{}", r.applicant.code)).is_some())
                .map(|r| {
                    let c = &r.applicant.code;
                    DecisionInput {
                        applicant: c.clone(),
                        passed: f.get(&format!("passed_{c}")) == Some("yes"),
                        override_reason: f.text(&format!("reason_{c}")),
                        evaluation: f.text(&format!("eval_{c}")),
                        opinion: f.text(&format!("opinion_{c}")),
                    }
                })
                .collect();
            let submit = f.get("action") == Some("submit");
            match review::save_decisions(&app.db, &h.session, &h.group, &inputs, submit, me) {
                Ok(()) => Ok(Response::redirect_303("/review/deliberate?saved=1")),
                Err(e) if e.is_refusal() => {
                    let status = e.status();
                    deliberate_page(app, ctx, &h, Some(e.message), false).map(|r| r.with_status_code(status))
                }
                Err(e) => Err(e),
            }
        }
        "/review/revote" => {
            review::revote(&app.db, &h.group, &f.all("applicants"), &f.text("reason"), me)?;
            Ok(Response::redirect_303("/review/ops"))
        }
        "/lecture" | "/interview/defense" => {
            let apps = app.db.read(|c| review::group_applicants(c, &h.group))?;
            let mut entries = Vec::new();
            for a in &apps {
                if let Some(raw) = f.get(&format!("score_{}", a.code)) {
                    let raw = raw.trim();
                    let t = if raw.is_empty() {
                        None
                    } else {
                        Some(review::parse_score(raw).ok_or_else(|| {
                            Error::bad_request(format!("「{}」的分数「{raw}」无效：应为 0–100，最多一位小数。", a.code))
                        })?)
                    };
                    entries.push((a.code.clone(), t));
                }
            }
            review::save_scores(&app.db, h.session.mode(), &h.group, me, &entries)?;
            let back = DefenseFilter { status: f.text("status"), q: f.text("q") }.query();
            Ok(Response::redirect_303(format!("{url}?saved=1{back}")))
        }
        _ => match url.strip_prefix("/review/assign/") {
            Some(code) => {
                review::set_leads(&app.db, &h.group, code, &f.all("experts"), me)?;
                Ok(Response::redirect_303("/review/assign"))
            }
            None => Err(Error::not_found()),
        },
    }
}

/// A round of this leader's own group, by id (another group's round is not theirs to print).
fn own_round(app: &App, h: &Here, id: &str) -> Result<ballot::Vote> {
    let id: i64 = id.parse().map_err(|_| Error::not_found())?;
    let v = app.db.read(|c| ballot::vote(c, id))?.ok_or_else(Error::not_found)?;
    if v.stage != Stage::Group || v.scope != h.group {
        return Err(Error::not_found());
    }
    Ok(v)
}

fn current(app: &App, h: &Here) -> Result<ballot::Vote> {
    app.db.read(|c| ballot::latest(c, Stage::Group, &h.group))?.ok_or_else(Error::not_found)
}

/// Saves the drafts a form carries, for both stages. The form names its round (`vote`) and,
/// from the page's script, the session epoch: a save meant for another round or epoch is
/// refused, never applied to this one. The script gets JSON, a plain form a redirect.
pub(super) fn save_drafts_request(
    app: &App,
    v: &ballot::Vote,
    me: &str,
    input: &Input,
    back: &str,
) -> Result<Response> {
    let f = &input.form;
    if let Some(vote) = f.get("vote") {
        if vote.parse::<i64>().ok() != Some(v.id) {
            return Err(Error::conflict("未能保存：投票轮次已变化，请刷新页面后重新选择。"));
        }
    }
    if let Some(epoch) = f.get("epoch") {
        if epoch != app.db.read(crate::store::epoch)? {
            return Err(Error::conflict("未能保存：会务数据已重置，本机保存的选择已作废。"));
        }
    }
    let drafts = drafts_from_form(app, v.id, f)?;
    let saved = ballot::save_drafts(&app.db, v.id, me, &drafts)?;
    if input.wants_json {
        // The page marks a row 已保存 only for what is listed here, at the revision given; a
        // conflict carries what the server holds, so the row can offer both.
        let saved_map: serde_json::Map<String, serde_json::Value> =
            saved.saved.iter().map(|(code, rev)| (code.clone(), json!(rev))).collect();
        let conflicts: serde_json::Map<String, serde_json::Value> =
            saved.conflicts.iter().map(|d| (d.applicant_code.clone(), draft_json(d))).collect();
        return Ok(Response::json(&json!({
            "saved": saved_map, "conflicts": conflicts, "at": crate::store::display_time(&app.db.now()),
        })));
    }
    if !saved.conflicts.is_empty() {
        let names: Vec<String> = saved
            .conflicts
            .iter()
            .map(|d| format!("{}（现为「{}」）", d.applicant_code, d.choice.map_or("未选择", Choice::label)))
            .collect();
        return Err(Error::conflict(format!(
            "以下选择已在另一设备上修改，本次未覆盖：{}。请刷新页面，确认后再保存。",
            names.join("、")
        )));
    }
    // Saved from an applicant's details page: back there (the code is one just saved).
    if let (Some("applicant"), Some(d)) = (f.get("next"), drafts.first()) {
        let code: String = form_urlencoded::byte_serialize(d.applicant_code.as_bytes()).collect();
        return Ok(Response::redirect_303(format!("/applicants/{code}?saved=1")));
    }
    Ok(Response::redirect_303(back.to_string()))
}

/// One draft as a page's script reads it (a conflict, or a change seen by the poll).
pub(super) fn draft_json(d: &ballot::Draft) -> serde_json::Value {
    json!({ "choice": d.choice.map_or("", Choice::code), "opinion": d.opinion, "rev": d.rev })
}

/// A voter's draft page polls this: the round and its state (so the page can say when the
/// switch opens or closes; it never reloads itself), and the voter's own drafts changed after
/// revision `since` (`?since=N`), so a page open on one device learns of a change made on
/// another instead of showing a stale 已保存. No names or counts: those are the leader's.
pub(super) fn draft_status(app: &App, req: &Request, v: &ballot::Vote, me: &str) -> Result<Response> {
    let since = req.get_param("since").and_then(|s| s.parse::<i64>().ok()).unwrap_or(i64::MAX);
    let (latest, changed) = app.db.read(|c| ballot::drafts_since(c, v.id, me, since))?;
    let drafts: serde_json::Map<String, serde_json::Value> =
        changed.iter().map(|d| (d.applicant_code.clone(), draft_json(d))).collect();
    let mut body = super::round_json(v);
    body["mine"] = json!(latest);
    body["drafts"] = serde_json::Value::Object(drafts);
    super::live_json(req, &body)
}

/// The drafts a form carries (`choice_<code>` / `opinion_<code>`), for applicants of the round;
/// other fields are ignored.
pub(super) fn drafts_from_form(app: &App, vote_id: i64, f: &Form) -> Result<Vec<DraftEdit>> {
    // A row is sent with its choice, its opinion or both: an opinion typed before a choice is
    // a draft too (a radio group with nothing checked sends no `choice_` field at all).
    let mut codes: Vec<&str> =
        f.keys().into_iter().filter_map(|k| k.strip_prefix("choice_").or_else(|| k.strip_prefix("opinion_"))).collect();
    codes.sort_unstable();
    codes.dedup();
    let apps: Vec<String> = app.db.read(|c| {
        let mut v = Vec::new();
        for a in codes {
            if ballot::in_round(c, vote_id, a)? {
                v.push(a.to_string());
            }
        }
        Ok(v)
    })?;
    let mut out = Vec::new();
    for a in apps {
        let choice = match f.get(&format!("choice_{a}")) {
            None | Some("") => None,
            Some(c) => Some(Choice::parse(c).ok_or_else(|| Error::bad_request("投票选项无效。"))?),
        };
        let base = match f.get(&format!("rev_{a}")) {
            None | Some("") => None,
            Some(r) => Some(r.parse::<i64>().map_err(|_| Error::bad_request(format!("rev_{a}：修订号无效。")))?),
        };
        out.push(DraftEdit { opinion: f.text(&format!("opinion_{a}")), applicant_code: a, choice, base });
    }
    Ok(out)
}

fn assign_page(app: &App, ctx: &Ctx, h: &Here) -> Result<Response> {
    let (apps, leads, submitted) = app.db.read(|c| {
        Ok((
            review::group_applicants(c, &h.group)?,
            review::lead_reviewers(c, &h.group)?,
            review::submitted(c, &h.group)?,
        ))
    })?;
    let rows: Vec<_> = apps
        .iter()
        .map(|a| {
            let names: Vec<&str> =
                leads.get(&a.code).map(|v| v.iter().map(|(_, n)| n.as_str()).collect()).unwrap_or_default();
            json!({ "a": a, "leads": names.join("、") })
        })
        .collect();
    layout(
        app,
        ctx,
        "review_assign.html",
        "/review/assign",
        "分配主审专家",
        json!({ "rows": rows, "group_name": h.group_name, "blind": blind(h), "submitted": submitted }),
    )
}

fn pick_page(app: &App, ctx: &Ctx, h: &Here, code: &str) -> Result<Response> {
    let detail = app.db.read(|c| venue::applicant(c, code))?.ok_or_else(Error::not_found)?;
    if detail.row.group_code.as_deref() != Some(h.group.as_str()) {
        return Err(Error::forbidden());
    }
    let (experts, leads) =
        app.db.read(|c| Ok((review::group_experts(c, &h.group)?, review::lead_reviewers(c, &h.group)?)))?;
    let chosen: Vec<String> = leads.get(code).map(|v| v.iter().map(|(c, _)| c.clone()).collect()).unwrap_or_default();
    let rows: Vec<_> = experts
        .iter()
        .map(|e| {
            let recused = app.db.read(|c| crate::ballot::is_recused(c, &e.code, code))?;
            Ok(json!({ "e": e, "phone": venue::mask_phone(&e.phone), "recused": recused, "chosen": chosen.contains(&e.code) }))
        })
        .collect::<Result<_>>()?;
    layout(
        app,
        ctx,
        "review_pick.html",
        "/review/assign",
        "分配主审专家",
        json!({ "a": detail.row, "rows": rows, "blind": blind(h) }),
    )
}

/// One applicant of an expert's 40-applicant lists (scores, drafts).
#[derive(serde::Serialize)]
struct ListRow {
    a: venue::ApplicantRow,
    score: Option<String>,
    my_score: Option<String>,
    recused: bool,
    in_round: bool,
    draft: Option<ballot::Draft>,
    questions: Vec<review::Note>,
    lead: bool,
}

/// Rows of the group's applicants with the score, the viewer's own draft and recusal.
fn list_rows(app: &App, h: &Here, vote: Option<&ballot::Vote>) -> Result<Vec<ListRow>> {
    let me = &h.person.code;
    app.db.read(|c| {
        let apps = review::group_applicants(c, &h.group)?;
        let mut scores = review::scores_display(c, h.session.rules.score, Some(&h.group))?;
        let mut mine = review::my_scores(c, me)?;
        let in_round: HashSet<String> = match vote {
            Some(v) => ballot::applicants_of(c, v.id)?.into_iter().collect(),
            None => apps.iter().map(|a| a.code.clone()).collect(),
        };
        let mut drafts = match vote {
            Some(v) => ballot::my_drafts(c, v.id, me)?,
            None => Default::default(),
        };
        let recused_from = venue::recused_from(c, me)?;
        let mut questions = review::questions_of_group(c, &h.group)?;
        let lead_of = review::lead_of(c, me)?;
        Ok(apps
            .into_iter()
            .map(|a| ListRow {
                score: scores.remove(&a.code),
                my_score: mine.remove(&a.code),
                recused: recused_from.contains(&a.code),
                in_round: in_round.contains(&a.code),
                draft: drafts.remove(&a.code),
                questions: questions.remove(&a.code).unwrap_or_default(),
                lead: lead_of.contains(&a.code),
                a,
            })
            .collect())
    })
}

fn scores_page(
    app: &App,
    ctx: &Ctx,
    h: &Here,
    template: &str,
    path: &str,
    title: &str,
    req: &Request,
) -> Result<Response> {
    let rows = list_rows(app, h, None)?;
    let open = app.db.read(|c| review::scoring_open(c, &h.group))?;
    let filter = DefenseFilter::of(req);
    let total = rows.len();
    let rows: Vec<ListRow> = rows.into_iter().filter(|r| filter.keeps(r, blind(h))).collect();
    layout(
        app,
        ctx,
        template,
        path,
        title,
        minijinja::context! {
            rows => Value::from_serialize(&rows), scoring_open => open, group_name => h.group_name, blind => blind(h),
            saved => req.get_param("saved").is_some(), group => h.group, total,
            filter => Value::from_serialize(&filter), back => filter.query(),
        },
    )
}

/// The manual's tools on 讲课答辩 (组 ▼ 全部 ▼ 搜索) and 面试答辩 (组 ▼ 搜索): the expert's own
/// group, whether they have scored yet, and a search. They narrow what is shown; saving scores
/// only touches the rows the form carries, so a narrowed list never clears a hidden score.
#[derive(Default, serde::Serialize)]
struct DefenseFilter {
    status: String,
    q: String,
}

impl DefenseFilter {
    fn of(req: &Request) -> DefenseFilter {
        let get = |k: &str| super::http::query(req, k).unwrap_or_default().trim().chars().take(100).collect();
        DefenseFilter { status: get("status"), q: get("q") }
    }
    /// In a blind review names and units are hidden, so the search looks at codes and topics
    /// only: typing a name must not reveal which row is whose.
    fn keeps(&self, r: &ListRow, blind: bool) -> bool {
        let status_ok = match self.status.as_str() {
            "todo" => !r.recused && r.my_score.is_none(),
            "done" => r.my_score.is_some(),
            _ => true,
        };
        let q = self.q.as_str();
        let a = &r.a;
        let text_ok = q.is_empty()
            || a.code.contains(q)
            || a.lecture_topic.contains(q)
            || (!blind && (a.name.contains(q) || a.unit.contains(q)));
        status_ok && text_ok
    }
    /// The filter as a query string to come back to after a save.
    fn query(&self) -> String {
        let mut out = String::new();
        for (k, v) in [("status", &self.status), ("q", &self.q)] {
            if !v.is_empty() {
                out.push_str(&format!("&{k}={}", super::http::urlencode(v)));
            }
        }
        out
    }
}

fn draft_page(app: &App, ctx: &Ctx, h: &Here, just_submitted: bool, saved: bool) -> Result<Response> {
    let v = current(app, h)?;
    let rows = list_rows(app, h, Some(&v))?;
    let (submitted, admitted, group_done, epoch, (_, chosen), (since, _)) = app.db.read(|c| {
        Ok((
            ballot::has_submitted(c, v.id, &h.person.code)?,
            ballot::is_voter(c, v.id, &h.person.code)?,
            review::submitted(c, &h.group)?,
            crate::store::epoch(c)?,
            ballot::draft_counts(c, v.id, &h.person.code)?,
            ballot::drafts_since(c, v.id, &h.person.code, i64::MAX)?,
        ))
    })?;
    layout(
        app,
        ctx,
        "review_draft.html",
        "/review/draft",
        "专业组拟投票",
        minijinja::context! {
            rows => Value::from_serialize(&rows), vote => Value::from_serialize(&v), submitted, admitted,
            group_name => h.group_name, blind => blind(h), just_submitted, group_done, saved, epoch,
            me => h.person.code, chosen, since,
        },
    )
}

fn submit_confirm(app: &App, ctx: &Ctx, h: &Here) -> Result<Response> {
    let v = current(app, h)?;
    if v.status != Status::Open {
        return Err(Error::conflict("投票未开启，不能提交。"));
    }
    let rows = app.db.read(|c| ballot::confirmation(c, v.id, &h.person.code))?;
    layout(
        app,
        ctx,
        "vote_submit.html",
        "/review/draft",
        "确认提交投票",
        minijinja::context! {
            missing => ballot::missing(&rows), rows => Value::from_serialize(&rows), vote => Value::from_serialize(&v),
            blind => blind(h), base => "/review", stage_label => "", with_opinion => true,
        },
    )
}

fn ops_page(app: &App, ctx: &Ctx, h: &Here) -> Result<Response> {
    let v = current(app, h)?;
    let (progress, rows, submitted, not_scored, scoring) = app.db.read(|c| {
        Ok((
            ballot::progress(c, &v)?,
            review::deliberation(c, &h.group, &h.session)?,
            review::submitted(c, &h.group)?,
            review::not_scored(c, h.session.mode(), &h.group)?,
            json!({
                "has": h.session.mode().has_scores(),
                "open": review::scoring_open(c, &h.group)?,
                "closed_at": review::scoring_closed_at(c, &h.group)?,
            }),
        ))
    })?;
    let stats = review::specialty_stats(&rows);
    layout(
        app,
        ctx,
        "review_ops.html",
        "/review/ops",
        "小组数据操作",
        json!({ "vote": v, "w": super::progress_json(&progress, &not_scored), "p": progress, "stats": stats,
                "group_name": h.group_name, "submitted": submitted, "scoring": scoring, "not_scored": not_scored,
                "paper_reasons": ballot::paper::REASONS }),
    )
}

/// The live counter the ops page polls every 2 s: small JSON, ETag / 304 when unchanged.
fn ops_status(app: &App, req: &Request, h: &Here) -> Result<Response> {
    let v = current(app, h)?;
    let (p, not_scored) =
        app.db.read(|c| Ok((ballot::progress(c, &v)?, review::not_scored(c, h.session.mode(), &h.group)?)))?;
    super::live_json(req, &super::progress_json(&p, &not_scored))
}

fn deliberate_page(app: &App, ctx: &Ctx, h: &Here, error: Option<String>, saved: bool) -> Result<Response> {
    let (rows, submitted, latest) = app.db.read(|c| {
        Ok((
            review::deliberation(c, &h.group, &h.session)?,
            review::submitted(c, &h.group)?,
            ballot::latest(c, Stage::Group, &h.group)?,
        ))
    })?;
    let rounds = app.db.read(|c| ballot::rounds(c, Stage::Group, &h.group))?;
    layout(
        app,
        ctx,
        "review_deliberate.html",
        "/review/deliberate",
        "专业组评议",
        json!({
            "rows": rows, "submitted": submitted, "latest": latest, "rounds": rounds, "error": error, "saved": saved,
            "group_name": h.group_name, "rule": h.session.rules.group_pass.label(),
        }),
    )
}

/// POSTs on an applicant's page by its lead reviewer: 主审意见 and 面试题.
pub fn note(app: &App, ctx: &Ctx, code: &str, kind: NoteKind, input: &Input) -> Result<Response> {
    let person = ctx.person.as_ref().ok_or_else(Error::forbidden)?;
    review::write_note(&app.db, kind, code, &person.code, &input.form.text("text"))?;
    Ok(Response::redirect_303(format!("/applicants/{code}?saved=1")))
}

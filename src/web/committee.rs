//! Pages of the committee stage: 大评委拟投票 and its submission, 评委会数据操作 (attendance,
//! quorum, the switch, live counts, chart, re-vote, releasing results to the room display),
//! 大评委上报评审结果, the minutes and summary printouts, and the room display itself.

use super::{layout, App, Ctx, Input};
use crate::accounts::Person;
use crate::ballot::{self, Status};
use crate::committee;
use crate::error::{Error, Kind, Result};
use crate::venue::{self, SessionView};
use minijinja::Value;
use rouille::{Request, Response};
use serde_json::json;

fn session(app: &App) -> Result<SessionView> {
    app.db.read(venue::session)?.ok_or_else(Error::not_found)
}

fn person(ctx: &Ctx) -> Result<&Person> {
    ctx.person.as_ref().ok_or_else(Error::forbidden)
}

pub fn get(app: &App, req: &Request, ctx: &Ctx, url: &str) -> Result<Response> {
    match url {
        "/committee/draft" => draft_page(app, req, ctx),
        "/committee/submit" => submit_confirm(app, ctx),
        "/committee/ops" => ops_page(app, ctx, None),
        "/committee/ops/status" => {
            let v = app.db.read(committee::current)?;
            let p = app.db.read(|c| ballot::progress(c, &v))?;
            super::live_json(req, &super::progress_json(&p, &[]))
        }
        "/committee/draft/status" => {
            let v = app.db.read(committee::current)?;
            super::review::draft_status(app, req, &v, &person(ctx)?.code)
        }
        "/committee/report" => report_page(app, ctx, None, req.get_param("saved").is_some(), ListFilter::of(req)),
        "/minutes" => printout(app, ctx, "minutes.html", "会议记录", req),
        "/summary" => printout(app, ctx, "summary.html", "评委会评议情况汇总表", req),
        _ => {
            // The printouts of the committee's paper round (ballot and tally sheets).
            match url.strip_prefix("/committee/ops/paper/").and_then(|r| r.split_once('/')) {
                Some((id, kind @ ("ballot" | "tally"))) => {
                    let id: i64 = id.parse().map_err(|_| Error::not_found())?;
                    let v = app.db.read(|c| ballot::vote(c, id))?.ok_or_else(Error::not_found)?;
                    if v.stage != ballot::Stage::Committee {
                        return Err(Error::not_found());
                    }
                    super::paper::sheet(app, ctx, &v, kind, "/committee/ops")
                }
                _ => Err(Error::not_found()),
            }
        }
    }
}

pub fn post(app: &App, ctx: &Ctx, url: &str, input: Input) -> Result<Response> {
    let f = &input.form;
    let me = person(ctx)?.code.clone();
    match url {
        "/committee/draft" => {
            let v = app.db.read(committee::current)?;
            let group = f.text("group");
            let back = if f.get("next") == Some("submit") {
                "/committee/submit".to_string()
            } else if group.is_empty() {
                "/committee/draft?saved=1".to_string()
            } else {
                format!(
                    "/committee/draft?saved=1&group={}",
                    form_urlencoded::byte_serialize(group.as_bytes()).collect::<String>()
                )
            };
            super::review::save_drafts_request(app, &v, &me, &input, &back)
        }
        "/committee/submit" => {
            let v = app.db.read(committee::current)?;
            if f.get("vote").and_then(|x| x.parse::<i64>().ok()) != Some(v.id) {
                return Err(Error::conflict("投票轮次已变化，请返回重新确认。"));
            }
            ballot::submit(&app.db, v.id, &me)?;
            Ok(Response::redirect_303("/committee/draft?submitted=1"))
        }
        "/committee/ops/open" => match committee::open(&app.db, &session(app)?, &me) {
            Ok(()) => Ok(Response::redirect_303("/committee/ops")),
            Err(e) if e.kind == Kind::Conflict => ops_page(app, ctx, Some(e.message)).map(|r| r.with_status_code(409)),
            Err(e) => Err(e),
        },
        "/committee/ops/paper" => {
            let reason = ballot::paper::reason_text(&f.text("reason_kind"), &f.text("reason_detail"))?;
            match committee::to_paper(&app.db, &session(app)?, &me, &reason) {
                Ok(_) => Ok(Response::redirect_303("/committee/ops")),
                Err(e) if e.kind == Kind::Conflict => {
                    ops_page(app, ctx, Some(e.message)).map(|r| r.with_status_code(409))
                }
                Err(e) => Err(e),
            }
        }
        "/committee/ops/close" => {
            committee::close(&app.db, &me)?;
            Ok(Response::redirect_303("/committee/ops"))
        }
        "/committee/ops/release" => {
            committee::set_released(&app.db, f.get("released") == Some("yes"), &me)?;
            Ok(Response::redirect_303("/committee/ops"))
        }
        "/committee/ops/revote" => {
            committee::revote(&app.db, &f.all("applicants"), &f.text("reason"), &me)?;
            Ok(Response::redirect_303("/committee/ops"))
        }
        "/committee/report" => {
            if !person(ctx)?.is_reporter {
                return Err(Error::forbidden_msg("只有上报人可以提交评审结果。"));
            }
            let s = session(app)?;
            let codes = app.db.read(committee::committee_applicants)?;
            let opinions: Vec<(String, String)> =
                codes.into_iter().filter_map(|c| f.get(&format!("opinion_{c}")).map(|o| (c, o.to_string()))).collect();
            committee::save_opinions(&app.db, &opinions, &me)?;
            if f.get("action") == Some("submit") {
                if let Err(e) = committee::report(&app.db, &s, &me) {
                    let status = e.status();
                    return report_page(app, ctx, Some(e.message), false, ListFilter::default())
                        .map(|r| r.with_status_code(status));
                }
                // The report stands even if writing the file fails; `pingshen bundle` redoes it.
                if let Err(e) = crate::bundle::write_for_session(&app.db, &app.data_dir, &app.t) {
                    log::error!("writing the result bundle failed: {e}");
                }
            }
            Ok(Response::redirect_303("/committee/report?saved=1"))
        }
        _ => Err(Error::not_found()),
    }
}

fn draft_page(app: &App, req: &Request, ctx: &Ctx) -> Result<Response> {
    let s = session(app)?;
    let me = person(ctx)?;
    let filter = super::http::query(req, "group");
    let which = match filter.as_deref() {
        None | Some("") => committee::Filter::All,
        Some("direct") => committee::Filter::Direct,
        Some(g) => committee::Filter::Group(g),
    };
    let v = app.db.read(committee::current)?;
    let (lines, drafts, submitted, admitted, groups, reported, recused_from, epoch) = app.db.read(|c| {
        Ok((
            committee::draft_lines(c, &s, v.id, which)?,
            ballot::my_drafts(c, v.id, &me.code)?,
            ballot::has_submitted(c, v.id, &me.code)?,
            ballot::is_voter(c, v.id, &me.code)?,
            venue::groups(c)?,
            committee::reported(c)?,
            venue::recused_from(c, &me.code)?,
            crate::store::epoch(c)?,
        ))
    })?;
    // The counter covers the whole round, whichever group the list is filtered to.
    let (total, chosen) = app.db.read(|c| ballot::draft_counts(c, v.id, &me.code))?;
    let since = drafts.values().map(|d| d.rev).max().unwrap_or(0);
    #[derive(serde::Serialize)]
    struct Line<'a> {
        r: &'a committee::DraftLine,
        draft: Option<&'a ballot::Draft>,
        recused: bool,
    }
    // 搜索 (the manual: 全部 ▼ 搜索): code, name or unit; in a blind review the code only.
    let q: String = super::http::query(req, "q").unwrap_or_default().trim().chars().take(100).collect();
    let matches = |b: &committee::Brief| {
        q.is_empty() || b.code.contains(&q) || (!s.blind && (b.name.contains(&q) || b.unit.contains(&q)))
    };
    let list: Vec<Line> = lines
        .iter()
        .filter(|l| matches(&l.applicant))
        .map(|l| {
            let code = &l.applicant.code;
            Line { r: l, draft: drafts.get(code), recused: recused_from.contains(code) }
        })
        .collect();
    layout(
        app,
        ctx,
        "committee_draft.html",
        "/committee/draft",
        "大评委拟投票",
        minijinja::context! {
            rows => Value::from_serialize(&list), vote => Value::from_serialize(&v),
            submitted, admitted, groups => Value::from_serialize(&groups), filter, blind => s.blind,
            reported, just_submitted => req.get_param("submitted").is_some(), saved => req.get_param("saved").is_some(),
            epoch, me => me.code, total, chosen, since, q, listed => lines.len(),
        },
    )
}

fn submit_confirm(app: &App, ctx: &Ctx) -> Result<Response> {
    let s = session(app)?;
    let me = person(ctx)?;
    let v = app.db.read(committee::current)?;
    if v.status != Status::Open {
        return Err(Error::conflict("投票未开启，不能提交。"));
    }
    let rows = app.db.read(|c| ballot::confirmation(c, v.id, &me.code))?;
    layout(
        app,
        ctx,
        "vote_submit.html",
        "/committee/draft",
        "确认提交投票",
        minijinja::context! {
            missing => ballot::missing(&rows), rows => Value::from_serialize(&rows),
            vote => Value::from_serialize(&v), blind => s.blind, base => "/committee",
            stage_label => "评委会", with_opinion => false,
        },
    )
}

fn ops_page(app: &App, ctx: &Ctx, error: Option<String>) -> Result<Response> {
    let s = session(app)?;
    let v = app.db.read(committee::current)?;
    let (progress, quorum, attendance, pending_groups, rows, released, reported) = app.db.read(|c| {
        Ok((
            ballot::progress(c, &v)?,
            committee::quorum(c, &s)?,
            committee::attendance(c)?,
            committee::groups_not_submitted(c)?,
            committee::rows(c, &s)?,
            committee::released(c)?,
            committee::reported(c)?,
        ))
    })?;
    let chart = committee::bars_svg(&committee::bars(&rows));
    layout(
        app,
        ctx,
        "committee_ops.html",
        "/committee/ops",
        "评委会数据操作",
        minijinja::context! {
            vote => Value::from_serialize(&v), p => Value::from_serialize(&progress), w => Value::from_serialize(super::progress_json(&progress, &[])),
            quorum => Value::from_serialize(&quorum), attendance => Value::from_serialize(&attendance),
            pending_groups => Value::from_serialize(&pending_groups), rows => Value::from_serialize(&rows), chart,
            released, reported, error, frozen => v.status != Status::Drafting,
            paper_reasons => ballot::paper::REASONS,
        },
    )
}

/// 已投票 / 未投票 as the room display shows them: a paper round has no electronic
/// submissions to count, so it shows 纸质 rather than a misleading 0.
fn counts_shown(v: &ballot::Vote, p: &ballot::Progress) -> (serde_json::Value, serde_json::Value) {
    if v.medium == ballot::Medium::Paper {
        (json!("纸质"), json!("纸质"))
    } else {
        (json!(p.done), json!(p.not_done))
    }
}

/// The manual's list tools on 大评委上报评审结果: group (全部 ▼), result, and 搜索 by code, name or
/// unit. They narrow what is shown; the report itself always covers everyone.
#[derive(Default, serde::Serialize)]
struct ListFilter {
    group: String,
    result: String,
    q: String,
}

impl ListFilter {
    fn of(req: &Request) -> ListFilter {
        let get = |k: &str| super::http::query(req, k).unwrap_or_default().trim().chars().take(100).collect();
        ListFilter { group: get("group"), result: get("result"), q: get("q") }
    }
    fn keeps(&self, r: &committee::Row) -> bool {
        let a = &r.applicant;
        let group_ok = match self.group.as_str() {
            "" => true,
            "direct" => a.group_code.is_none(),
            g => a.group_code.as_deref() == Some(g),
        };
        let result_ok = match self.result.as_str() {
            "passed" => r.passed == Some(true),
            "failed" => r.passed == Some(false),
            "no_decision" => r.no_decision,
            _ => true,
        };
        let q = self.q.as_str();
        group_ok && result_ok && (q.is_empty() || a.code.contains(q) || a.name.contains(q) || a.unit.contains(q))
    }
}

fn report_page(app: &App, ctx: &Ctx, error: Option<String>, saved: bool, filter: ListFilter) -> Result<Response> {
    let s = session(app)?;
    let (rows, reported, latest, groups) = app
        .db
        .read(|c| Ok((committee::rows(c, &s)?, committee::reported(c)?, committee::current(c)?, venue::groups(c)?)))?;
    let all_decided = !rows.is_empty() && rows.iter().all(|r| r.decision.is_some());
    let total = rows.len();
    let rows: Vec<committee::Row> = rows.into_iter().filter(|r| filter.keeps(r)).collect();
    let bundle = crate::bundle::path_for(&app.db, &s.session_id)?;
    let bundle = bundle.exists().then(|| bundle.canonicalize().unwrap_or(bundle).display().to_string());
    layout(
        app,
        ctx,
        "committee_report.html",
        "/committee/report",
        "大评委上报评审结果",
        minijinja::context! {
            rows => Value::from_serialize(&rows), reported, latest => Value::from_serialize(&latest), error,
            all_decided, is_reporter => person(ctx)?.is_reporter, ratio => s.rules.committee_pass.to_string(), bundle,
            saved, total, groups => Value::from_serialize(&groups), filter => Value::from_serialize(&filter),
        },
    )
}

fn printout(app: &App, ctx: &Ctx, template: &str, title: &str, req: &Request) -> Result<Response> {
    let mut data = committee::minutes(&app.db)?;
    if let Some(k) = crate::bundle::key::load(&app.data_dir)? {
        data["key_id"] = json!(k.id());
        data["fingerprint"] = json!(k.fingerprint());
    }
    data["audit_head"] = json!(app.db.read(crate::store::audit_head)?);
    data["filter"] = json!(super::http::query(req, "filter").unwrap_or_else(|| "all".into()));
    let active = if template == "minutes.html" { "/minutes" } else { "/summary" };
    layout(app, ctx, template, active, title, data)
}

/// The room display (大屏): no login, a secret token in the link; progress without names, and
/// results only once the chair releases them.
pub fn display(app: &App, req: &Request, json_only: bool) -> Result<Response> {
    let token = super::http::query(req, "token").unwrap_or_default();
    let expected = app.db.read(|c| committee::meta(c, "display_token"))?;
    if expected.as_deref().is_none_or(|t| !super::http::constant_eq(t, &token)) {
        return Err(Error::forbidden_msg("大屏链接无效或已更换，请向会务人员索取新的链接。"));
    }
    let s = session(app)?;
    let mut data = app.db.read(|c| {
        let v = committee::current(c)?;
        let p = ballot::progress(c, &v)?;
        let mut groups = Vec::new();
        for g in venue::groups(c)? {
            let gv = ballot::latest(c, ballot::Stage::Group, &g.code)?.ok_or_else(Error::not_found)?;
            let gp = ballot::progress(c, &gv)?;
            let (done, not_done) = counts_shown(&gv, &gp);
            groups.push(json!({
                "name": g.name, "round": gv.round, "status_label": gv.status_label, "done": done, "not_done": not_done,
                "submitted": crate::review::submitted(c, &g.code)?.is_some(),
            }));
        }
        let released = committee::released(c)?;
        let results: Vec<_> = if released {
            committee::rows(c, &s)?
                .into_iter()
                .map(|r| {
                    json!({
                        "code": r.applicant.code,
                        "name": r.applicant.name,
                        "group": r.applicant.group_name,
                        "tally": r.tally, "passed": r.passed, "no_decision": r.no_decision,
                    })
                })
                .collect()
        } else {
            vec![]
        };
        Ok(json!({
            "session": s.name,
            "rehearsal": s.rehearsal,
            "committee": {
                "round": v.round, "status": v.status, "status_label": v.status_label,
                "done": counts_shown(&v, &p).0, "not_done": counts_shown(&v, &p).1,
            },
            "groups": groups,
            "released": released,
            "results": results,
            "reported": committee::reported(c)?,
        }))
    })?;
    // The whole room sees the screen: in a blind review, codes only until the report.
    if venue::names_hidden(&s, false, data["reported"].is_string()) {
        venue::mask_applicants(&mut data, &app.db.read(venue::applicant_codes)?);
    }
    if json_only {
        return super::live_json(req, &data);
    }
    let mut page = data.clone();
    page["token"] = json!(token);
    Ok(Response::html(app.t.render("display.html", page)?))
}

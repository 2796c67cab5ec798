//! Pages every signed-in person uses: the desk, applicant details and materials.

use super::{layout, App, Ctx};
use crate::error::{Error, Result};
use crate::venue::{self, ApplicantRow};
use rouille::Response;
use serde_json::json;

pub fn desk(app: &App, ctx: &Ctx) -> Result<Response> {
    if ctx.acc.is_desk {
        return Ok(Response::redirect_303("/staff/attendance"));
    }
    if ctx.acc.is_admin {
        return Ok(Response::redirect_303("/admin"));
    }
    let person = ctx.person.as_ref().ok_or_else(Error::forbidden)?;
    let (signed_in, group_applicants, recused) = app.db.read(|c| {
        let at: Option<String> = rusqlite::OptionalExtension::optional(c.query_row(
            "SELECT signed_in_at FROM attendance WHERE person_code = ?1",
            [&person.code],
            |r| r.get(0),
        ))?;
        let n: i64 = c.query_row(
            "SELECT count(*) FROM applicants WHERE group_code = ?1",
            [person.group_code.as_deref().unwrap_or("")],
            |r| r.get(0),
        )?;
        let rec: i64 =
            c.query_row("SELECT count(*) FROM recusals WHERE expert_code = ?1", [&person.code], |r| r.get(0))?;
        Ok((at.map(|s| crate::store::display_time(&s)), n, rec))
    })?;
    layout(
        app,
        ctx,
        "desk.html",
        "/desk",
        "我的桌面",
        json!({ "signed_in_at": signed_in, "group_applicants": group_applicants, "recused": recused }),
    )
}

/// Admin, committee members, and the experts of the applicant's own group may look.
fn can_view(ctx: &Ctx, row: &ApplicantRow) -> bool {
    if ctx.acc.is_admin {
        return true;
    }
    match &ctx.person {
        Some(p) => p.is_member || (p.group_code.is_some() && p.group_code == row.group_code),
        None => false,
    }
}

pub fn applicant(app: &App, ctx: &Ctx, code: &str, saved: bool) -> Result<Response> {
    let mut detail = app.db.read(|c| venue::applicant(c, code))?.ok_or_else(Error::not_found)?;
    if !can_view(ctx, &detail.row) {
        return Err(Error::forbidden());
    }
    // Personal numbers in the package's free fields: masked for everyone but the admin.
    if !ctx.acc.is_admin {
        for (k, v) in detail.details.iter_mut().chain(detail.extra.iter_mut()) {
            *v = venue::mask_field(k, v);
        }
    }
    let session = app.db.read(venue::session)?;
    let blind = super::names_hidden(app, ctx, session.as_ref())?;
    let recused = match &ctx.person {
        Some(p) => app.db.read(|c| crate::ballot::is_recused(c, &p.code, code))?,
        None => false,
    };
    let title = if blind { format!("申报人 {}", detail.row.code) } else { format!("申报人 {}", detail.row.name) };
    // The group's work on this applicant: lead reviewers, their opinions, interview questions.
    let in_group = ctx.acc.is_admin
        || ctx.person.as_ref().is_some_and(|p| p.group_code.is_some() && p.group_code == detail.row.group_code);
    let work = match (&detail.row.group_code, in_group) {
        (Some(g), true) => {
            let me = ctx.person.as_ref().map(|p| p.code.clone()).unwrap_or_default();
            Some(app.db.read(|c| {
                let leads = crate::review::lead_reviewers(c, g)?.remove(code).unwrap_or_default();
                Ok(json!({
                    "leads": leads.iter().map(|(_, n)| n.clone()).collect::<Vec<_>>(),
                    "opinions": crate::review::lead_opinions(c, code)?,
                    "questions": crate::review::questions(c, code)?,
                    "is_lead": crate::review::is_lead(c, code, &me)?,
                    "scoring_open": crate::review::scoring_open(c, g)?,
                    "interview": session.as_ref().is_some_and(|s| s.mode() == crate::rules::Mode::InterviewDefense),
                }))
            })?)
        }
        _ => None,
    };
    // The viewer's own provisional vote on this applicant, if they may draft now (the manual:
    // 点击参评人的姓名…查看信息详情,并对该申报人进行拟投票), and the list to go back to.
    let (my_vote, back) = match &ctx.person {
        None => (None, ("/admin/applicants", "申报人列表")),
        Some(p) => {
            let in_my_group = p.group_code.is_some() && p.group_code == detail.row.group_code;
            let candidates: &[(crate::ballot::Stage, &str, &str)] = &[
                (crate::ballot::Stage::Group, "/review/draft", "专业组拟投票"),
                (crate::ballot::Stage::Committee, "/committee/draft", "大评委拟投票"),
            ];
            let mut found = None;
            for (stage, path, label) in candidates {
                let scope = match stage {
                    crate::ballot::Stage::Group if in_my_group => detail.row.group_code.clone(),
                    crate::ballot::Stage::Committee if p.is_member => Some(crate::ballot::COMMITTEE_SCOPE.to_string()),
                    _ => None,
                };
                let Some(scope) = scope else { continue };
                let vote = app.db.read(|c| {
                    let Some(v) = crate::ballot::latest(c, *stage, &scope)? else { return Ok(None) };
                    if recused || !crate::ballot::in_round(c, v.id, code)? || !crate::ballot::can_draft(c, &v, &p.code)?
                    {
                        return Ok(None);
                    }
                    let draft = crate::ballot::my_drafts(c, v.id, &p.code)?.remove(code);
                    Ok(Some(json!({ "vote": v.id, "action": path, "draft": draft,
                                    "with_opinion": *stage == crate::ballot::Stage::Group })))
                })?;
                if vote.is_some() {
                    found = Some((vote, (*path, *label)));
                    break;
                }
            }
            match found {
                Some((vote, back)) => (vote, back),
                None if in_my_group => (None, ("/review/draft", "专业组拟投票")),
                None => (None, ("/committee/draft", "大评委拟投票")),
            }
        }
    };
    layout(
        app,
        ctx,
        "applicant.html",
        "",
        &title,
        json!({ "a": detail, "blind": blind, "recused": recused, "show_recusals": ctx.acc.is_admin, "work": work,
                "my_vote": my_vote, "back": { "href": back.0, "label": back.1 }, "saved": saved }),
    )
}

pub fn material(app: &App, ctx: &Ctx, id: &str) -> Result<Response> {
    let id: i64 = id.parse().map_err(|_| Error::not_found())?;
    let m = app.db.read(|c| venue::material(c, id))?.ok_or_else(Error::not_found)?;
    let row = app.db.read(|c| venue::applicant(c, &m.applicant_code))?.ok_or_else(Error::not_found)?.row;
    if !can_view(ctx, &row) {
        return Err(Error::forbidden());
    }
    // Served only from the content-addressed store, by the id the package gave it.
    let path = crate::package::material_path(&app.data_dir, &m.sha256);
    let file = std::fs::File::open(&path).map_err(|e| Error::internal(format!("material {}: {e}", path.display())))?;
    let name = m.path.rsplit('/').next().unwrap_or(&m.path);
    // A file name can name the applicant: in a blind review the download is named by code.
    let session = app.db.read(venue::session)?;
    let coded;
    let name = if super::names_hidden(app, ctx, session.as_ref())? {
        let ext = name.rsplit_once('.').map(|(_, e)| e).filter(|e| e.len() <= 8).unwrap_or("bin");
        coded = format!("{}-材料{id}.{ext}", m.applicant_code);
        coded.as_str()
    } else {
        name
    };
    let inline = m.content_type != "application/octet-stream";
    let mut resp = Response::from_file(m.content_type.clone(), file)
        .with_unique_header(
            "Content-Disposition",
            super::http::disposition(if inline { "inline" } else { "attachment" }, name),
        )
        .with_unique_header("Cache-Control", "private, no-store");
    if m.content_type != "application/pdf" {
        // Anything but the PDF viewer runs sandboxed: an image or text cannot script our origin.
        resp = resp.with_unique_header("Content-Security-Policy", "sandbox; default-src 'none'; img-src 'self'");
    } else {
        resp = resp.with_unique_header("Content-Security-Policy", "default-src 'none'; frame-ancestors 'self'");
    }
    Ok(resp)
}

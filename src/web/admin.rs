//! 会务管理: the admin console. Every handler here is reached only after `require_admin`.

use super::http::query;
use super::{layout, App, Ctx, Input};
use crate::accounts;
use crate::error::{Error, Result};
use crate::package;
use crate::venue;
use rouille::{Request, Response};
use serde_json::json;

pub fn get(app: &App, req: &Request, ctx: &Ctx, url: &str) -> Result<Response> {
    match url {
        "/admin" => overview(app, ctx),
        "/admin/import" => {
            layout(app, ctx, "admin_import.html", url, "导入会务包", json!({ "office_key": office_key_id(app) }))
        }
        "/admin/groups" => {
            let groups = app.db.read(venue::groups)?;
            layout(app, ctx, "admin_groups.html", url, "专业组", json!({ "groups": groups }))
        }
        "/admin/experts" => experts(app, ctx, None),
        "/admin/paper-pack" => super::paper::pack_page(app, ctx, None),
        "/admin/applicants" => {
            let q = query(req, "q");
            let group = query(req, "group");
            let page: i64 = query(req, "page").and_then(|p| p.parse().ok()).unwrap_or(1);
            let paged = app.db.read(|c| venue::search_applicants(c, q.as_deref(), group.as_deref(), page, 20))?;
            let groups = app.db.read(venue::groups)?;
            layout(
                app,
                ctx,
                "admin_applicants.html",
                url,
                "申报人",
                json!({ "p": paged, "q": q, "group": group, "groups": groups }),
            )
        }
        "/admin/accounts" => {
            let experts = app.db.read(|c| venue::experts(c, None))?;
            let issued = experts.iter().filter(|e| !e.issued_at.is_empty()).count();
            let desk_count: i64 = app
                .db
                .read(|c| Ok(c.query_row("SELECT count(*) FROM accounts WHERE is_desk = 1", [], |r| r.get(0))?))?;
            layout(
                app,
                ctx,
                "admin_accounts.html",
                url,
                "账号与密码条",
                json!({ "experts": experts, "issued": issued, "address": app.primary_address(), "desk_count": desk_count }),
            )
        }
        "/admin/attendance" => attendance_page(app, ctx, url),
        "/admin/audit" => {
            let page: i64 = query(req, "page").and_then(|p| p.parse().ok()).unwrap_or(1);
            let paged = app.db.read(|c| venue::audit_page(c, page, 50))?;
            layout(app, ctx, "admin_audit.html", url, "审计日志", json!({ "p": paged }))
        }
        "/admin/password" => layout(app, ctx, "admin_password.html", url, "修改密码", json!({})),
        "/admin/rehearsal" => rehearsal_page(app, ctx, None),
        "/admin/wipe" => wipe_page(app, ctx, None),
        "/admin/handover" => handover_page(app, ctx, None, None),
        "/admin/handover/form" => {
            let h = crate::bundle::handover::status(&app.db, &app.data_dir, &app.t)?;
            layout(app, ctx, "handover_form.html", "/admin/handover", "交接单", json!({ "h": h }))
        }
        "/admin/display" => display_page(app, ctx, false),
        "/admin/bundle" => {
            let s = app.db.read(venue::session)?.ok_or_else(Error::not_found)?;
            let path = crate::bundle::path_for(&app.db, &s.session_id)?;
            if !path.exists() {
                crate::bundle::write_for_session(&app.db, &app.data_dir, &app.t)?;
            }
            let f = std::fs::File::open(&path)?;
            Ok(Response::from_file("application/zip", f).with_unique_header(
                "Content-Disposition",
                super::http::disposition("attachment", &path.file_name().unwrap_or_default().to_string_lossy()),
            ))
        }
        _ => match url.strip_prefix("/admin/paper-pack/") {
            Some(scope) => super::paper::pack_page(app, ctx, Some(scope)),
            None => Err(Error::not_found()),
        },
    }
}

pub fn post(app: &App, _req: &Request, ctx: &Ctx, url: &str, input: Input) -> Result<Response> {
    let actor = ctx.actor();
    match url {
        "/admin/import" => import(app, ctx, input),
        "/admin/display/rotate" => display_page(app, ctx, true),
        "/admin/experts/reveal" => {
            let code = input.form.text("code");
            venue::reveal_expert(&app.db, &code, &actor)?;
            experts(app, ctx, Some(&code))
        }
        "/admin/accounts/issue" => {
            let any_issued = app.db.read(|c| {
                Ok(c.query_row(
                    "SELECT EXISTS (SELECT 1 FROM accounts WHERE is_admin = 0 AND password_hash IS NOT NULL)",
                    [],
                    |r| r.get::<_, bool>(0),
                )?)
            })?;
            if any_issued && input.form.get("confirm") != Some("yes") {
                return Err(Error::bad_request(
                    "已经发放过密码。重新生成会使所有已发放的密码失效：请勾选确认后再提交。",
                ));
            }
            let slips = accounts::issue_passwords(&app.db, app.cfg.bcrypt_cost, None, &actor)?;
            slips_page(app, slips)
        }
        "/admin/accounts/reset" => {
            let code = input.form.text("code");
            let slips = accounts::issue_passwords(&app.db, app.cfg.bcrypt_cost, Some(&[code]), &actor)?;
            slips_page(app, slips)
        }
        "/admin/rehearsal/start" => {
            crate::store::rehearsal::start(&app.db, &app.data_dir, &actor)?;
            Ok(Response::redirect_303("/admin/rehearsal"))
        }
        "/admin/rehearsal/end" => {
            let ended = crate::store::rehearsal::end(&app.db, &app.data_dir, &actor)?;
            rehearsal_page(app, ctx, Some(ended))
        }
        "/admin/wipe" => {
            let f = &input.form;
            let s = app.db.read(venue::session)?.ok_or_else(Error::not_found)?;
            let refuse = |m: &str| wipe_page(app, ctx, Some(m.to_string())).map(|r| r.with_status_code(400));
            if accounts::verify_login(&app.db, &ctx.acc.username, f.get("password").unwrap_or(""))?.is_none() {
                return refuse("管理员密码不正确。");
            }
            if f.text("session_id") != s.session_id {
                return refuse("输入的会务编号不一致。");
            }
            let record = crate::bundle::wipe::wipe(&app.db, &app.cfg, &app.t, false, &actor)?;
            // The session is gone from this process: answer without it, then stop serving.
            let page = app.t.render(
                "wiped.html",
                json!({ "r": record, "at": crate::store::display_time(&record.at), "title": "本机数据已清除" }),
            )?;
            std::thread::spawn(|| {
                std::thread::sleep(std::time::Duration::from_millis(1500));
                log::warn!("stopping: the session was wiped");
                std::process::exit(0);
            });
            Ok(Response::html(page))
        }
        "/admin/handover/copy" => {
            // Only a listed medium: the console never writes to a path typed into a form.
            let chosen = input.form.text("dir");
            let targets = crate::bundle::handover::targets(&app.cfg.handover_dirs);
            let Some(dir) = targets.into_iter().find(|t| t.display().to_string() == chosen) else {
                return handover_page(app, ctx, None, Some("请选择一个列出的 U 盘目录。".into()))
                    .map(|r| r.with_status_code(400));
            };
            match crate::bundle::handover::copy_to(&app.db, &app.data_dir, &app.t, &dir) {
                Ok(copy) => handover_page(app, ctx, Some(copy), None),
                Err(e) if e.status() == 400 => {
                    handover_page(app, ctx, None, Some(e.message)).map(|r| r.with_status_code(400))
                }
                Err(e) => Err(e),
            }
        }
        "/admin/accounts/desk" => {
            slips_page(app, vec![accounts::create_desk_account(&app.db, app.cfg.bcrypt_cost, &actor)?])
        }
        _ if url.starts_with("/admin/attendance/") => attendance_action(app, ctx, url, &input),
        "/admin/password" => {
            let current = input.form.get("current").unwrap_or("");
            let new = input.form.get("new").unwrap_or("");
            let confirm = input.form.get("confirm").unwrap_or("");
            let err = |m: &str| layout(app, ctx, "admin_password.html", url, "修改密码", json!({ "error": m }));
            if accounts::verify_login(&app.db, &ctx.acc.username, current)?.is_none() {
                return err("当前密码不正确。").map(|r| r.with_status_code(400));
            }
            if new.chars().count() < 10 {
                return err("新密码至少需要 10 个字符。").map(|r| r.with_status_code(400));
            }
            if new != confirm {
                return err("两次输入的新密码不一致。").map(|r| r.with_status_code(400));
            }
            accounts::set_password(&app.db, ctx.acc.id, new, app.cfg.bcrypt_cost, &actor)?;
            Ok(Response::redirect_303("/login"))
        }
        _ => Err(Error::not_found()),
    }
}

fn overview(app: &App, ctx: &Ctx) -> Result<Response> {
    let counts = app.db.read(venue::counts)?;
    let voting = app.db.read(package::voting_started)?;
    let materials_bytes: i64 =
        app.db.read(|c| Ok(c.query_row("SELECT coalesce(sum(size), 0) FROM materials", [], |r| r.get(0))?))?;
    let health = json!({
        "data_dir": app.data_dir.canonicalize().unwrap_or(app.data_dir.clone()).display().to_string(),
        "db_size": app.db.size_bytes(),
        "materials_size": materials_bytes,
        "log_file": app.cfg.log_path().display().to_string(),
        "addresses": app.addresses(),
        "version": env!("CARGO_PKG_VERSION"),
        "backup_dir": app.cfg.backup_dir.as_ref().map(|d| d.display().to_string()),
        "last_backup": app.cfg.backup_dir.as_ref().and_then(|d| crate::store::backup::list(d).pop())
            .and_then(|p| p.file_name().map(|n| n.to_string_lossy().into_owned())),
        "connections": app.connections.get().map(|s| s.snapshot()),
    });
    let key = crate::bundle::key::load(&app.data_dir)?;
    let signing = json!({
        "key_id": key.as_ref().map(|k| k.id()),
        "fingerprint": key.as_ref().map(|k| k.fingerprint()),
        "public_key": key.as_ref().map(|k| k.public_base64()),
        "audit_head": app.db.read(crate::store::audit_head)?,
        "reported": app.db.read(crate::committee::reported)?,
        "tls_fingerprint": app.tls_fingerprint.get(),
    });
    layout(
        app,
        ctx,
        "admin_overview.html",
        "/admin",
        "会务概览",
        json!({ "counts": counts, "health": health, "voting_started": voting, "signing": signing,
                "phase": app.db.read(crate::committee::phase)? }),
    )
}

/// 会务管理 → 清除本机数据: what stands in the way, or what will go, and the confirmation.
fn wipe_page(app: &App, ctx: &Ctx, error: Option<String>) -> Result<Response> {
    let obstacles = match crate::bundle::wipe::obstacles(&app.db, &app.cfg, &app.t) {
        Ok(o) => o,
        Err(e) if e.status() == 409 => vec![e.message],
        Err(e) => return Err(e),
    };
    let (count, bytes) = if obstacles.is_empty() {
        let s = app.db.read(venue::session)?.ok_or_else(Error::not_found)?;
        let files = crate::bundle::wipe::planned(&app.db, &app.cfg, &s.session_id)?;
        (files.len(), files.iter().filter_map(|f| std::fs::metadata(f).ok()).map(|m| m.len()).sum::<u64>())
    } else {
        (0, 0)
    };
    layout(
        app,
        ctx,
        "admin_wipe.html",
        "/admin/wipe",
        "清除本机数据",
        json!({ "obstacles": obstacles, "count": count, "total_kb": bytes.div_ceil(1024), "error": error }),
    )
}

/// 会务管理 → 交接: the appliance's own check of the bundle, the media to copy to, the copies.
fn handover_page(
    app: &App,
    ctx: &Ctx,
    copied: Option<crate::bundle::handover::Copy>,
    error: Option<String>,
) -> Result<Response> {
    let h = if app.db.read(crate::store::is_reported)? {
        Some(crate::bundle::handover::status(&app.db, &app.data_dir, &app.t)?)
    } else {
        None
    };
    let targets: Vec<String> =
        crate::bundle::handover::targets(&app.cfg.handover_dirs).iter().map(|p| p.display().to_string()).collect();
    let dirs: Vec<String> = app.cfg.handover_dirs.iter().map(|p| p.display().to_string()).collect();
    layout(
        app,
        ctx,
        "admin_handover.html",
        "/admin/handover",
        "交接",
        json!({ "h": h, "targets": targets, "dirs": dirs, "copied": copied, "error": error }),
    )
}

/// 会务管理 → 彩排: whether one runs, the content hash, start / end (DOMAIN, rehearsal).
fn rehearsal_page(app: &App, ctx: &Ctx, ended: Option<crate::store::rehearsal::Ended>) -> Result<Response> {
    let status = crate::store::rehearsal::status(&app.db)?;
    let may_start = app.db.read(|c| {
        Ok(c.query_row(
            "SELECT NOT EXISTS (SELECT 1 FROM votes WHERE status <> 'drafting') AND EXISTS (SELECT 1 FROM session)",
            [],
            |r| r.get::<_, bool>(0),
        )?)
    })?;
    layout(
        app,
        ctx,
        "admin_rehearsal.html",
        "/admin/rehearsal",
        "彩排",
        json!({ "status": status, "ended": ended, "may_start": may_start,
                "started": status.started_at.as_deref().map(crate::store::display_time) }),
    )
}

/// The sign-in desk's pages (会务签到员), the same as the admin's minus everything else.
pub fn staff_get(app: &App, ctx: &Ctx, url: &str) -> Result<Response> {
    match url {
        "/staff/attendance" => attendance_page(app, ctx, url),
        "/staff/display" => display_page(app, ctx, false),
        _ => Err(Error::not_found()),
    }
}

pub fn staff_post(app: &App, ctx: &Ctx, url: &str, input: &Input) -> Result<Response> {
    attendance_action(app, ctx, url, input)
}

/// 签到: who signed in, staff check-ins (DOMAIN decision 5); for the admin and the desk staff,
/// each on their own path (`base`).
fn attendance_page(app: &App, ctx: &Ctx, base: &str) -> Result<Response> {
    let rows = app.db.read(venue::attendance)?;
    let present = rows.iter().filter(|r| !r.signed_in_at.is_empty()).count();
    layout(app, ctx, "admin_attendance.html", base, "签到", json!({ "rows": rows, "present": present, "base": base }))
}

/// 代为签到 / 撤销签到 / 离场 at `<base>/checkin|undo|left`; back to the list.
fn attendance_action(app: &App, ctx: &Ctx, url: &str, input: &Input) -> Result<Response> {
    let (base, action) = url.rsplit_once('/').ok_or_else(Error::not_found)?;
    let code = input.form.text("code");
    let actor = ctx.actor();
    match action {
        "checkin" => venue::check_in(&app.db, &code, &actor).map(drop)?,
        "undo" => venue::undo_check_in(&app.db, &code, &actor).map(drop)?,
        "left" => venue::mark_left(&app.db, &code, input.form.text("back") != "1", &actor).map(drop)?,
        _ => return Err(Error::not_found()),
    }
    Ok(Response::redirect_303(base.to_string()))
}

fn display_page(app: &App, ctx: &Ctx, rotate: bool) -> Result<Response> {
    // A session reported before links were made at import has none, and can no longer store one.
    let token = match app.db.read(crate::committee::reported)? {
        Some(_) if !rotate => app.db.read(|c| crate::store::meta(c, "display_token"))?,
        _ => Some(crate::committee::display_token(&app.db, rotate, &ctx.actor())?),
    };
    let links: Vec<String> = match token {
        Some(token) => app.addresses().iter().map(|a| format!("{a}display?token={token}")).collect(),
        None => Vec::new(),
    };
    let released = app.db.read(crate::committee::released)?;
    layout(
        app,
        ctx,
        "admin_display.html",
        "/admin/display",
        "大屏显示",
        json!({ "links": links, "released": released, "can_rotate": ctx.acc.is_admin }),
    )
}

fn experts(app: &App, ctx: &Ctx, reveal: Option<&str>) -> Result<Response> {
    let experts = app.db.read(|c| venue::experts(c, reveal))?;
    layout(app, ctx, "admin_experts.html", "/admin/experts", "专家", json!({ "experts": experts, "revealed": reveal }))
}

fn slips_page(app: &App, slips: Vec<accounts::Slip>) -> Result<Response> {
    let name = app.db.read(venue::session)?.map(|s| s.name).unwrap_or_default();
    let page = crate::slips::SlipPage {
        session_name: &name,
        address: &app.primary_address(),
        key_fingerprint: crate::bundle::key::load(&app.data_dir)?.map(|k| k.fingerprint()),
        tls_fingerprint: app.tls_fingerprint.get().cloned(),
        standalone: false,
    };
    let html = crate::slips::slips_html(&app.t, &page, &slips)?;
    Ok(Response::html(html))
}

fn import(app: &App, ctx: &Ctx, input: Input) -> Result<Response> {
    let mut parts = input.parts;
    let signature = parts
        .iter()
        .position(|p| p.name == "signature" && p.filename.as_deref().is_some_and(|f| !f.is_empty()))
        .map(|i| parts.remove(i).data.small_bytes(64 * 1024))
        .transpose()?
        .map(|b| String::from_utf8_lossy(&b.unwrap_or_default()).into_owned());
    let file = parts
        .into_iter()
        .find(|p| p.name == "package" && p.filename.as_deref().is_some_and(|f| !f.is_empty()))
        .ok_or_else(|| Error::bad_request("请选择要上传的会务包文件（package.json、package.xlsx 或 .zip）。"))?;
    let filename = file.filename.clone().unwrap_or_default();
    let render_problems = |problems: Vec<String>| {
        layout(
            app,
            ctx,
            "admin_import.html",
            "/admin/import",
            "导入会务包",
            json!({
                "verdict": package::problems_line(problems.len()), "problems": problems,
                "filename": filename, "office_key": office_key_id(app)
            }),
        )
        .map(|r| r.with_status_code(422))
    };
    let again = file.data.reader();
    let mut loaded = match package::load_upload(&filename, file.data.into_reader(), app.cfg.upload_limit()) {
        Ok(l) => l,
        Err(problems) => return render_problems(problems.iter().map(|p| p.to_string()).collect()),
    };
    // With an office key set, only a package the office signed (PACKAGE.md): checked before
    // anything is written.
    if let Some(k) = &app.cfg.office_pubkey {
        let pk = crate::sign::parse_public(k)
            .map_err(|e| Error::internal(format!("office_pubkey in the configuration: {e}")))?;
        match package::signature::check(&pk, signature.as_deref(), again, &loaded.package.session.id, &loaded.sha256) {
            Ok(id) => loaded.office_key_id = Some(id),
            Err(why) => return render_problems(vec![why]),
        }
    }
    // A material that cannot be stored (too large, a zip bomb) is a problem of the package:
    // shown in the same list as the others, with the form to try again.
    let summary = match package::import(&app.db, &app.data_dir, &mut loaded, &ctx.actor(), false) {
        Err(e) if e.kind == crate::error::Kind::BadRequest => return render_problems(vec![e.message]),
        other => other?,
    };
    layout(
        app,
        ctx,
        "admin_import.html",
        "/admin/import",
        "导入会务包",
        json!({
            "verdict": package::passed_line(summary.groups, summary.experts, summary.applicants),
            "summary": summary, "filename": filename, "office_key": office_key_id(app)
        }),
    )
}

/// The id of the office key this appliance checks packages with, if one is set.
fn office_key_id(app: &App) -> Option<String> {
    app.cfg.office_pubkey.as_deref().and_then(|k| crate::sign::parse_public(k).ok()).map(|pk| crate::sign::key_id(&pk))
}

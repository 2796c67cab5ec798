//! Login, logout, the session cookie and CSRF.
//!
//! The session id is random, stored only hashed, renewed at every login and sent in an
//! HttpOnly, SameSite=Strict cookie. Every POST carries the session's CSRF token (form field
//! `_csrf` or header `X-CSRF-Token`); the login form uses a double-submit cookie instead.

use super::http::{self, Form};
use super::{App, Ctx, Input};
use crate::accounts;
use crate::error::{Error, Result};
use crate::venue;
use rouille::{Request, Response};
use serde_json::json;
use std::path::Path;

pub const SESSION_COOKIE: &str = "pingshen_sid";
const LOGIN_COOKIE: &str = "pingshen_login";

pub fn current(app: &App, req: &Request) -> Result<Option<Ctx>> {
    let Some(token) = http::cookie(req, SESSION_COOKIE) else {
        return Ok(None);
    };
    let Some((acc, csrf)) = accounts::lookup_session(&app.db, &token, &app.limits)? else {
        return Ok(None);
    };
    let person = match &acc.person_code {
        Some(code) => app.db.read(|c| accounts::load_person(c, code))?,
        None => None,
    };
    if !acc.is_admin && !acc.is_desk && person.is_none() {
        return Ok(None); // the person left the package at a re-import
    }
    Ok(Some(Ctx { acc, person, csrf, token }))
}

/// Reads the body and checks the CSRF token and, when the browser sends one, the Origin.
pub fn checked_input(req: &Request, ctx: &Ctx, limit: u64, spool_dir: &Path) -> Result<Input> {
    check_origin(req)?;
    let body = match http::spooled(req, spool_dir)? {
        Some((_, len)) if len > limit.saturating_add(64 * 1024) => return Err(http::too_large(limit)),
        Some((file, len)) => http::Body::File(file, len),
        None => http::Body::Mem(http::read_body(req, limit)?),
    };
    let is_multipart = req.header("Content-Type").is_some_and(|c| c.starts_with("multipart/form-data"));
    let (form, parts) = if is_multipart {
        let parts = http::multipart(req, &body)?;
        let fields: Vec<(String, String)> =
            parts.iter().filter(|p| p.filename.is_none()).map(|p| (p.name.clone(), p.data.text())).collect();
        let encoded = form_urlencoded::Serializer::new(String::new()).extend_pairs(fields).finish();
        (Form::parse(encoded.as_bytes()), parts)
    } else {
        match &body {
            http::Body::Mem(b) => (Form::parse(b), Vec::new()),
            http::Body::File(..) => {
                return Err(Error::bad_request("请求格式错误：应为文件上传表单 (multipart/form-data)。"))
            }
        }
    };
    let token = req.header("X-CSRF-Token").map(str::to_string).or_else(|| form.get("_csrf").map(str::to_string));
    match token {
        Some(t) if http::constant_eq(&t, &ctx.csrf) => {
            let wants_json = req.header("Accept").is_some_and(|a| a.contains("application/json"));
            Ok(Input { form, parts, wants_json })
        }
        _ => Err(Error::forbidden_msg("页面已过期或请求来源无效（CSRF 校验失败），请刷新页面后重试。")),
    }
}

fn check_origin(req: &Request) -> Result<()> {
    let (Some(origin), Some(host)) = (req.header("Origin"), req.header("Host")) else {
        return Ok(());
    };
    let origin_host = origin.split("://").nth(1).unwrap_or("");
    if origin != "null" && origin_host != host {
        return Err(Error::forbidden_msg("请求来源无效。"));
    }
    Ok(())
}

pub fn login_page(app: &App, req: &Request) -> Result<Response> {
    render_login(app, req, None, 200, "")
}

fn render_login(app: &App, req: &Request, error: Option<String>, status: u16, username: &str) -> Result<Response> {
    let token = accounts::random_token();
    let session = app.db.read(venue::session)?;
    let next = http::query(req, "next").filter(|n| safe_next(n)).unwrap_or_default();
    let html = app.t.render(
        "login.html",
        json!({ "csrf": token, "error": error, "session": session, "next": next, "username": username }),
    )?;
    Ok(http::set_cookie(
        Response::html(html).with_status_code(status),
        LOGIN_COOKIE,
        &token,
        None,
        app.secure_cookies(),
    ))
}

/// A typed username as a log line shows it: quoted, escaped, at most 64 characters (a 250 KB
/// username costs a line, not 250 KB of disk per attempt).
fn shown_name(username: &str) -> String {
    let cut: String = username.chars().take(64).collect();
    format!("{cut:?}{}", if username.chars().count() > 64 { "…" } else { "" })
}

/// Where to go after signing in: a path on this site only. Checked as given and once more
/// percent-decoded (a browser resolves `/\t/evil.example` or `/%2F/evil` to another host): no
/// `//` at the start, no backslash, no control or whitespace character anywhere.
fn safe_next(n: &str) -> bool {
    let ok = |s: &str| {
        s.starts_with('/')
            && !s.starts_with("//")
            && !s.chars().any(|c| c == '\\' || c.is_control() || c.is_whitespace())
            && s.len() <= 2000
    };
    let decoded: String = form_urlencoded::parse(format!("x={}", n.replace('+', "%2B")).as_bytes())
        .next()
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default();
    ok(n) && ok(&decoded) && n != "/login"
}

pub fn login_post(app: &App, req: &Request) -> Result<Response> {
    let body = http::read_body(req, app.cfg.body_limit())?;
    let form = Form::parse(&body);
    let username = form.text("username").to_lowercase();
    let password = form.get("password").unwrap_or("").to_string();
    let cookie = http::cookie(req, LOGIN_COOKIE).unwrap_or_default();
    if cookie.is_empty() || !http::constant_eq(&cookie, form.get("_csrf").unwrap_or("")) {
        return render_login(app, req, Some("页面已过期，请重新输入用户名和密码。".into()), 403, &username);
    }
    let addr = app.client_ip(req).to_string();
    if let Some(secs) = app.throttle.blocked(&username, &addr) {
        log::warn!("login refused (throttled) for {} from {addr}", shown_name(&username));
        let mins = secs.div_ceil(60);
        return render_login(
            app,
            req,
            Some(format!("登录失败次数过多，请 {mins} 分钟后再试，或联系会务人员。")),
            429,
            &username,
        );
    }
    if username.is_empty() || password.is_empty() {
        return render_login(app, req, Some("请输入用户名和密码。".into()), 400, &username);
    }
    let Some(acc) = accounts::verify_login(&app.db, &username, &password)? else {
        app.throttle.failure(&username, &addr);
        log::warn!("login failed for {} from {addr}", shown_name(&username));
        return render_login(app, req, Some("用户名或密码错误。".into()), 401, &username);
    };
    app.throttle.success(&username, &addr);
    if let Some(old) = http::cookie(req, SESSION_COOKIE) {
        if let Ok(Some((old_acc, _))) = accounts::lookup_session(&app.db, &old, &app.limits) {
            // The new login goes on even if the old session could not be ended: it expires.
            if let Err(e) = accounts::end_session(&app.db, &old, &old_acc) {
                log::warn!("ending the previous session: {e}");
            }
        }
    }
    let (token, _) = accounts::start_session(&app.db, &acc, &addr)?;
    log::info!("login {:?} from {addr}", acc.username);
    let next = form.get("next").filter(|n| safe_next(n)).unwrap_or("/").to_string();
    let resp = Response::redirect_303(next);
    let secure = app.secure_cookies();
    let resp = http::set_cookie(resp, SESSION_COOKIE, &token, Some(app.limits.max_secs), secure);
    Ok(http::set_cookie(resp, LOGIN_COOKIE, "", Some(0), secure))
}

pub fn logout(app: &App, ctx: &Ctx) -> Result<Response> {
    accounts::end_session(&app.db, &ctx.token, &ctx.acc)?;
    Ok(http::set_cookie(Response::redirect_303("/login"), SESSION_COOKIE, "", Some(0), app.secure_cookies()))
}

#[cfg(test)]
mod tests {
    use super::safe_next;

    #[test]
    fn next_is_a_path_on_this_site_only() {
        for ok in ["/", "/review/draft", "/committee/draft?group=G01", "/applicants/A0001"] {
            assert!(safe_next(ok), "{ok}");
        }
        for bad in [
            "//evil.example",
            "/\\evil.example",
            "/%09/evil.example",
            "/\t/evil.example",
            "/%2F/evil.example",
            "/%5Cevil.example",
            "/%0d%0aSet-Cookie:x",
            "https://evil.example/",
            "evil.example",
            "/ /evil.example",
            "/login",
        ] {
            assert!(!safe_next(bad), "{bad:?}");
        }
    }
}

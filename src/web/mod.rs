//! HTTP: routing, authentication, CSRF and pages. Handlers parse the request, call a plain
//! domain function and render; they never hold business rules of their own.

mod admin;
mod auth;
mod committee;
pub mod http;
pub mod menu;
mod pages;
mod paper;
mod review;

use crate::accounts::{Account, Person, SessionLimits, Throttle};
use crate::config::Config;
use crate::error::{Error, Kind, Result};
use crate::net::server;
use crate::render;
use crate::store::Db;
use crate::venue;
use rouille::{Request, Response};
use serde_json::{json, Value};
use std::path::PathBuf;
use std::time::Instant;

pub struct App {
    pub cfg: Config,
    pub db: Db,
    pub t: render::Templates,
    pub throttle: Throttle,
    pub limits: SessionLimits,
    /// Base URLs experts type or scan (public_url, or one per LAN address); set once bound.
    addresses: std::sync::OnceLock<Vec<String>>,
    pub data_dir: PathBuf,
    /// Connection counts from the connection layer (set once serving): the NAT warning.
    pub connections: std::sync::OnceLock<server::Stats>,
    /// SHA-256 fingerprint of the TLS certificate, when TLS is on.
    pub tls_fingerprint: std::sync::OnceLock<String>,
    /// Pokes the backup thread at phase changes (off without `backup_dir`).
    pub backup: std::sync::OnceLock<crate::store::backup::Trigger>,
}

impl App {
    pub fn new(cfg: Config, db: Db, addresses: Vec<String>) -> App {
        App {
            throttle: Throttle::new(
                cfg.login_max_failures_per_account,
                cfg.login_max_failures_per_address,
                cfg.login_lockout_minutes,
            ),
            limits: SessionLimits {
                idle_secs: cfg.session_idle_minutes as i64 * 60,
                max_secs: cfg.session_max_hours as i64 * 3600,
            },
            t: render::Templates::load(),
            data_dir: cfg.data_dir.clone(),
            connections: std::sync::OnceLock::new(),
            tls_fingerprint: std::sync::OnceLock::new(),
            backup: std::sync::OnceLock::new(),
            addresses: if addresses.is_empty() { std::sync::OnceLock::new() } else { addresses.into() },
            db,
            cfg,
        }
    }

    pub fn set_addresses(&self, addresses: Vec<String>) {
        // The first (from --listen or config) stays: the slips printed with it stay right.
        if self.addresses.set(addresses).is_err() {
            log::debug!("venue addresses already set");
        }
    }

    pub fn addresses(&self) -> Vec<String> {
        self.addresses.get().cloned().unwrap_or_default()
    }

    /// The client's own address: TLS ends in the connection layer, so it is always the peer.
    pub fn client_ip(&self, req: &Request) -> std::net::IpAddr {
        req.remote_addr().ip()
    }

    /// Cookies get `Secure` when the browser talks HTTPS.
    pub fn secure_cookies(&self) -> bool {
        self.cfg.tls
    }

    pub fn primary_address(&self) -> String {
        self.addresses().first().cloned().unwrap_or_else(|| "http://127.0.0.1:8080/".into())
    }
}

/// The signed-in user of a request.
pub struct Ctx {
    pub acc: Account,
    pub person: Option<Person>,
    pub csrf: String,
    pub token: String,
}

impl Ctx {
    pub fn actor(&self) -> String {
        crate::accounts::actor_name(&self.acc)
    }
    pub fn require_admin(&self) -> Result<()> {
        if self.acc.is_admin {
            Ok(())
        } else {
            Err(Error::forbidden())
        }
    }
    fn user_json(&self) -> Value {
        match &self.person {
            Some(p) => json!({
                "name": p.name, "code": p.code, "roles": p.role_labels(), "group": p.group_name,
                "is_admin": false,
            }),
            None if self.acc.is_desk => {
                json!({ "name": "会务签到员", "code": self.acc.username, "roles": ["会务签到员"], "is_admin": false, "is_desk": true })
            }
            None => {
                json!({ "name": "会务管理员", "code": "admin", "roles": ["会务管理员"], "is_admin": true })
            }
        }
    }
}

/// A POST's fields, from a urlencoded form or a multipart upload.
pub struct Input {
    pub form: http::Form,
    pub parts: Vec<http::Part>,
    /// The page's script sent it (autosave) and reads a JSON answer instead of a redirect.
    pub wants_json: bool,
}

pub fn handle(app: &App, req: &Request) -> Response {
    let started = Instant::now();
    let resp = match route(app, req) {
        Ok(r) => r,
        Err(e) => error_response(app, req, &e),
    };
    let resp = http::secure_headers(resp);
    // Path only (query strings may carry tokens: the room display's link), escaped and cut:
    // a CR/LF in a URL cannot forge a second line, a 30 KB URL costs 200 characters.
    // Answered polls and static files are logged at debug: every voter's page polls every
    // 2 s, and at info those lines (~70 MB an hour with 500 tablets) rotated the morning's
    // sign-ins, imports and errors out of the kept files before the afternoon's vote.
    let routine = resp.status_code < 400 && matches!(lane(req), server::Lane::Light | server::Lane::Inline);
    log::log!(
        if routine { log::Level::Debug } else { log::Level::Info },
        "{} {} {} {} {}ms",
        app.client_ip(req),
        req.method(),
        log_path(req.raw_url()),
        resp.status_code,
        started.elapsed().as_millis()
    );
    resp
}

/// The worker lane of a request (see `server::Lane`): embedded files and the health check
/// are answered inline (an unknown file's 404 page is a template: a worker renders it), polls
/// are light, password checks have their own lane, other forms theirs, pages are main.
pub fn lane(req: &Request) -> server::Lane {
    let url = req.url();
    match req.method() {
        "GET" | "HEAD"
            if url == "/healthz"
                || url == "/favicon.ico"
                || url.strip_prefix("/static/").is_some_and(render::static_asset_exists) =>
        {
            server::Lane::Inline
        }
        "GET" | "HEAD" if url.ends_with("/status") || url.starts_with("/static/") => server::Lane::Light,
        "POST" if url == "/login" => server::Lane::Login,
        "POST" => server::Lane::Form,
        _ => server::Lane::Main,
    }
}

/// How many body bytes a request may send, judged from its head: the package upload of a
/// signed-in admin may be large, everything else is a small form. The route checks again.
pub fn body_limit(app: &App, req: &Request) -> u64 {
    let slack = 64 * 1024; // multipart framing around the file
    if req.method() == "POST" && req.url() == "/admin/import" {
        if let Ok(Some(ctx)) = auth::current(app, req) {
            if ctx.acc.is_admin {
                return app.cfg.upload_limit() + slack;
            }
        }
    }
    app.cfg.body_limit() + slack
}

fn route(app: &App, req: &Request) -> Result<Response> {
    let url = req.url();
    // HEAD is answered as GET; the connection layer leaves the body out.
    let method = if req.method() == "HEAD" { "GET" } else { req.method() };
    if let Some(rest) = url.strip_prefix("/static/") {
        return static_file(rest);
    }
    match (method, url.as_str()) {
        ("GET", "/login") => return auth::login_page(app, req),
        ("POST", "/login") => return auth::login_post(app, req),
        ("GET", "/healthz") => return Ok(Response::text("ok")),
        ("GET", "/favicon.ico") => return static_file("favicon.svg"),
        ("GET", "/display") => return committee::display(app, req, false),
        ("GET", "/display/status") => return committee::display(app, req, true),
        _ => {}
    }
    let Some(ctx) = auth::current(app, req)? else {
        if method == "GET" {
            let next: String = form_urlencoded::byte_serialize(url.as_bytes()).collect();
            return Ok(Response::redirect_303(format!("/login?next={next}")));
        }
        return Err(Error::new(Kind::Unauthenticated, "登录已过期，请重新登录。"));
    };
    if method == "POST" {
        let limit =
            if url == "/admin/import" && ctx.acc.is_admin { app.cfg.upload_limit() } else { app.cfg.body_limit() };
        let input = auth::checked_input(req, &ctx, limit, &http::spool_dir(&app.data_dir))?;
        // After the report the session is read-only: one check here covers every route.
        if !AFTER_REPORT.contains(&url.as_str()) {
            app.db.read(crate::committee::ensure_not_reported)?;
        }
        return post(app, req, &ctx, &url, input);
    }
    if method != "GET" && method != "HEAD" {
        return Err(Error::new(Kind::MethodNotAllowed, "不支持的请求方法。"));
    }
    get(app, req, &ctx, &url)
}

fn get(app: &App, req: &Request, ctx: &Ctx, url: &str) -> Result<Response> {
    if url == "/" {
        let home = if ctx.acc.is_admin {
            "/admin"
        } else if ctx.acc.is_desk {
            "/staff/attendance"
        } else {
            "/desk"
        };
        return Ok(Response::redirect_303(home));
    }
    if url == "/desk" {
        return pages::desk(app, ctx);
    }
    if let Some(code) = url.strip_prefix("/applicants/") {
        return pages::applicant(app, ctx, code, req.get_param("saved").is_some());
    }
    if let Some(id) = url.strip_prefix("/materials/") {
        return pages::material(app, ctx, id);
    }
    if url.starts_with("/admin") {
        ctx.require_admin()?;
        return admin::get(app, req, ctx, url);
    }
    let page = authorize(app, ctx, url)?;
    if page.path.starts_with("/staff/") {
        return admin::staff_get(app, ctx, url);
    }
    if page.path == "/paper" {
        return paper::get(app, ctx, url);
    }
    if is_group_stage(page.path) {
        return review::get(app, req, ctx, url);
    }
    if is_committee_stage(page.path) {
        return committee::get(app, req, ctx, url);
    }
    Err(Error::not_found())
}

fn is_committee_stage(path: &str) -> bool {
    path.starts_with("/committee/") || path == "/minutes" || path == "/summary"
}

fn is_group_stage(path: &str) -> bool {
    path.starts_with("/review/") || path == "/lecture" || path.starts_with("/interview/")
}

/// The page owning `url`, if this user may use it (403 otherwise, 404 for unknown URLs).
fn authorize(app: &App, ctx: &Ctx, url: &str) -> Result<&'static menu::Page> {
    let page = menu::owner(url).ok_or_else(Error::not_found)?;
    let mode = app.db.read(venue::session)?.map(|s| s.mode()).unwrap_or(crate::rules::Mode::ExpertReview);
    if !(page.allowed)(ctx, mode) {
        return Err(Error::forbidden());
    }
    Ok(page)
}

/// A small JSON body for polling, with an ETag so an unchanged answer is a bodiless 304.
pub fn live_json(req: &Request, value: &Value) -> Result<Response> {
    let body = value.to_string();
    let etag = format!("\"{}\"", &crate::ids::sha256_hex(body.as_bytes())[..16]);
    if req.header("If-None-Match") == Some(etag.as_str()) {
        return Ok(Response::text("").with_status_code(304).with_unique_header("ETag", etag));
    }
    Ok(Response::from_data("application/json", body).with_unique_header("ETag", etag))
}

/// The round and its state, as a voter's draft page polls them: the page says when the switch
/// opens or closes and offers a reload — it never reloads itself over a person's work (no
/// names or counts: those are the leader's).
pub fn round_json(v: &crate::ballot::Vote) -> Value {
    json!({ "round": v.round, "status": v.status })
}

/// The live counters of 小组数据操作 / 评委会数据操作, and the names the switch dialog warns
/// about: drafts not finished, not signed in (will not be frozen), checked in by staff with no
/// device (cannot vote electronically), and in the defense modes scores not finished.
pub fn progress_json(p: &crate::ballot::Progress, not_scored: &[String]) -> Value {
    let names = |f: &dyn Fn(&crate::ballot::VoterProgress) -> bool| -> Vec<&str> {
        p.voters.iter().filter(|v| f(v)).map(|v| v.name.as_str()).collect()
    };
    json!({
        "round": p.round, "status": p.status, "status_label": p.status_label,
        "done": p.done, "not_done": p.not_done, "pending": names(&|v| !v.done),
        "not_drafted": names(&|v| !v.drafted), "absent": names(&|v| !v.present),
        "staff_only": names(&|v| v.staff_only), "not_scored": not_scored,
    })
}

/// POSTs that change the phase of the meeting: each is followed by a backup.
/// The POSTs that work after the report: none writes the session. Ending a rehearsal that
/// played to its report goes back to the unreported session; the handover copies the bundle.
const AFTER_REPORT: &[&str] = &["/logout", "/admin/rehearsal/end", "/admin/handover/copy", "/admin/wipe"];

const PHASE_CHANGES: &[&str] = &[
    "/admin/import",
    "/review/ops/open",
    "/review/ops/scoring",
    "/review/ops/close",
    "/review/ops/paper",
    "/review/deliberate",
    "/committee/ops/open",
    "/committee/ops/close",
    "/committee/ops/paper",
    "/committee/report",
];

fn post(app: &App, req: &Request, ctx: &Ctx, url: &str, input: Input) -> Result<Response> {
    let resp = dispatch_post(app, req, ctx, url, input)?;
    // A clerk's entry may count a paper round: a phase change too.
    if (PHASE_CHANGES.contains(&url) || url.starts_with("/paper/")) && resp.status_code < 400 {
        if let Some(b) = app.backup.get() {
            b.now(url.trim_start_matches('/').replace('/', "-").as_str());
        }
    }
    Ok(resp)
}

fn dispatch_post(app: &App, req: &Request, ctx: &Ctx, url: &str, input: Input) -> Result<Response> {
    if url == "/logout" {
        return auth::logout(app, ctx);
    }
    if url.starts_with("/admin") {
        ctx.require_admin()?;
        return admin::post(app, req, ctx, url, input);
    }
    if let Some(code) = url.strip_prefix("/applicants/") {
        return match code.split_once('/') {
            Some((code, "opinion")) => review::note(app, ctx, code, crate::review::NoteKind::LeadOpinion, &input),
            Some((code, "question")) => review::note(app, ctx, code, crate::review::NoteKind::Question, &input),
            _ => Err(Error::not_found()),
        };
    }
    let page = authorize(app, ctx, url)?;
    if page.path.starts_with("/staff/") {
        return admin::staff_post(app, ctx, url, &input);
    }
    if page.path == "/paper" {
        return paper::post(app, ctx, url, input);
    }
    if is_group_stage(page.path) {
        return review::post(app, ctx, url, input);
    }
    if is_committee_stage(page.path) {
        return committee::post(app, ctx, url, input);
    }
    // Pages of later issues accept no changes yet.
    Err(Error::forbidden())
}

fn static_file(path: &str) -> Result<Response> {
    let (data, ct) = render::static_asset(path).ok_or_else(Error::not_found)?;
    Ok(Response::from_data(ct, data).with_unique_header("Cache-Control", "public, max-age=3600"))
}

/// Whether this viewer sees applicants by code only (`venue::names_hidden`: a blind session,
/// anyone but the admin, before the report).
pub fn names_hidden(app: &App, ctx: &Ctx, session: Option<&venue::SessionView>) -> Result<bool> {
    match session {
        Some(s) if s.blind => Ok(venue::names_hidden(s, ctx.acc.is_admin, app.db.read(crate::store::is_reported)?)),
        _ => Ok(false),
    }
}

/// Renders a page inside the common layout (header, left menu) with the user's context.
/// `extra` is any serializable context (a `json!` value, or typed rows for the long lists:
/// those skip the serde_json tree, a third of a 1,000-row page's memory and time); its keys
/// win over the frame's.
pub fn layout(
    app: &App,
    ctx: &Ctx,
    template: &str,
    active: &str,
    title: &str,
    extra: impl serde::Serialize,
) -> Result<Response> {
    let session = app.db.read(venue::session)?;
    let mode = session.as_ref().map(|s| s.mode()).unwrap_or(crate::rules::Mode::ExpertReview);
    // A blind review (DOMAIN decision 7): the page's data is masked here, for every page, and
    // `blind` tells the templates what this viewer may see (it wins over a handler's own).
    let hide = names_hidden(app, ctx, session.as_ref())?;
    let extra = if hide {
        let mut data = serde_json::to_value(&extra).map_err(|e| Error::internal(format!("page data: {e}")))?;
        venue::mask_applicants(&mut data, &app.db.read(venue::applicant_codes)?);
        minijinja::Value::from_serialize(&data)
    } else {
        minijinja::Value::from_serialize(&extra)
    };
    let frame = minijinja::context! {
        title => title,
        active => active,
        csrf => ctx.csrf,
        user => minijinja::Value::from_serialize(ctx.user_json()),
        menu => minijinja::Value::from_serialize(menu::build(ctx, mode, active)),
        session => minijinja::Value::from_serialize(&session),
    };
    let page = minijinja::value::merge_maps([minijinja::context! { blind => hide }, extra, frame]);
    Ok(Response::html(app.t.render_value(template, page)?))
}

/// A request path as a log line may show it: no query (it can hold a display token), control
/// characters escaped (no forged lines), at most 200 characters.
pub(crate) fn log_path(raw_url: &str) -> String {
    let path = raw_url.split('?').next().unwrap_or("");
    let mut out: String = path.chars().take(200).flat_map(char::escape_debug).collect();
    if path.chars().count() > 200 {
        out.push('…');
    }
    out
}

fn error_response(app: &App, req: &Request, e: &Error) -> Response {
    // The one place a request's internal error is logged.
    if let Some(cause) = e.cause() {
        log::error!("{} {}: internal error: {cause}", req.method(), log_path(req.raw_url()));
    }
    let wants_json = req.header("Accept").is_some_and(|a| a.contains("application/json"));
    if wants_json {
        return Response::json(&json!({ "error": e.message })).with_status_code(e.status());
    }
    let ctx = auth::current(app, req).ok().flatten();
    let html = match &ctx {
        Some(ctx) => {
            layout(app, ctx, "error.html", "", "出错了", json!({ "status": e.status(), "message": e.message })).ok()
        }
        None => app
            .t
            .render("error.html", json!({ "status": e.status(), "message": e.message, "bare": true }))
            .ok()
            .map(Response::html),
    };
    html.unwrap_or_else(|| Response::text(e.message.clone())).with_status_code(e.status())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Inline requests run on a connection thread, whose stack is small (`CONNECTION_STACK`):
    /// their whole handler fits in a quarter of it, even unoptimised. (An overflow aborts the
    /// test run: it cannot pass by accident.) An unknown file is not inline: its 404 is a page.
    #[test]
    fn inline_requests_fit_a_connection_threads_stack() {
        let dir = tempfile::tempdir().unwrap();
        let cfg = Config { data_dir: dir.path().to_path_buf(), ..Config::default() };
        let app = App::new(cfg, Db::open(dir.path(), 8).unwrap(), Vec::new());
        let get = |url: &str| Request::fake_http("GET", url, vec![], vec![]);
        assert_eq!(lane(&get("/static/missing.css")), server::Lane::Light);
        assert_eq!(lane(&get("/static/../config.toml")), server::Lane::Light);
        assert_eq!(lane(&get("/vote/status")), server::Lane::Light);
        std::thread::scope(|s| {
            let small = std::thread::Builder::new().stack_size(server::CONNECTION_STACK / 4);
            small
                .spawn_scoped(s, || {
                    for url in ["/healthz", "/favicon.ico", "/static/app.css", "/static/app.js", "/static/display.js"] {
                        assert_eq!(lane(&get(url)), server::Lane::Inline, "{url}");
                        assert_eq!(handle(&app, &get(url)).status_code, 200, "{url}");
                    }
                })
                .unwrap()
                .join()
                .unwrap();
        });
    }

    #[test]
    fn logged_paths_are_one_short_line() {
        assert_eq!(log_path("/review/draft?token=secret"), "/review/draft");
        let forged = log_path("/x\r\n2026-12-05 INFO login \"admin\" from 10.0.0.1");
        assert!(!forged.contains('\n') && !forged.contains('\r') && forged.contains("\\r\\n"), "{forged}");
        let long = log_path(&format!("/{}", "a".repeat(30_000)));
        assert!(long.chars().count() <= 201 && long.ends_with('…'));
    }
}

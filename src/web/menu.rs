//! The pages of each role, in one table: the left menu is built from it and every route checks
//! the same predicate, so a hidden link is also a refused request.

use super::Ctx;
use crate::rules::Mode;

pub struct Page {
    pub section: &'static str,
    pub label: &'static str,
    pub path: &'static str,
    pub allowed: fn(&Ctx, Mode) -> bool,
}

fn group_expert(c: &Ctx, _: Mode) -> bool {
    c.person.as_ref().is_some_and(|p| p.is_group_expert())
}
fn leader(c: &Ctx, _: Mode) -> bool {
    c.person.as_ref().is_some_and(|p| p.is_leader)
}
fn lecture(c: &Ctx, m: Mode) -> bool {
    m == Mode::LectureDefense && group_expert(c, m)
}
fn interview(c: &Ctx, m: Mode) -> bool {
    m == Mode::InterviewDefense && group_expert(c, m)
}
fn member(c: &Ctx, _: Mode) -> bool {
    c.person.as_ref().is_some_and(|p| p.is_member)
}
fn chair(c: &Ctx, _: Mode) -> bool {
    c.person.as_ref().is_some_and(|p| p.is_chair)
}
fn reporter_or_chair(c: &Ctx, _: Mode) -> bool {
    c.person.as_ref().is_some_and(|p| p.is_reporter || p.is_chair)
}
fn admin(c: &Ctx, _: Mode) -> bool {
    c.acc.is_admin
}
fn desk_staff(c: &Ctx, _: Mode) -> bool {
    c.acc.is_desk
}
/// 计票人 of a paper round: the admin or desk staff (two different accounts per round).
fn clerk(c: &Ctx, m: Mode) -> bool {
    admin(c, m) || desk_staff(c, m)
}
fn record_reader(c: &Ctx, m: Mode) -> bool {
    admin(c, m) || reporter_or_chair(c, m)
}

pub const PAGES: &[Page] = &[
    Page { section: "讲课答辩", label: "讲课答辩", path: "/lecture", allowed: lecture },
    Page { section: "面试答辩", label: "查看资料", path: "/interview/materials", allowed: interview },
    Page { section: "面试答辩", label: "面试答辩", path: "/interview/defense", allowed: interview },
    Page { section: "专家评审", label: "分配主审专家", path: "/review/assign", allowed: leader },
    Page { section: "专家评审", label: "专业组拟投票", path: "/review/draft", allowed: group_expert },
    Page { section: "专家评审", label: "小组数据操作", path: "/review/ops", allowed: leader },
    Page { section: "专家评审", label: "专业组评议", path: "/review/deliberate", allowed: leader },
    Page { section: "评委会", label: "大评委拟投票", path: "/committee/draft", allowed: member },
    Page { section: "评委会", label: "评委会数据操作", path: "/committee/ops", allowed: chair },
    Page {
        section: "评委会", label: "大评委上报评审结果", path: "/committee/report", allowed: reporter_or_chair
    },
    Page { section: "评审结果", label: "会议记录", path: "/minutes", allowed: record_reader },
    Page { section: "评审结果", label: "评委会评议情况汇总表", path: "/summary", allowed: record_reader },
    Page { section: "会务签到", label: "签到", path: "/staff/attendance", allowed: desk_staff },
    Page { section: "会务签到", label: "大屏显示", path: "/staff/display", allowed: desk_staff },
    Page { section: "纸质投票", label: "纸质计票", path: "/paper", allowed: clerk },
    Page { section: "会务管理", label: "会务概览", path: "/admin", allowed: admin },
    Page { section: "会务管理", label: "导入会务包", path: "/admin/import", allowed: admin },
    Page { section: "会务管理", label: "专业组", path: "/admin/groups", allowed: admin },
    Page { section: "会务管理", label: "专家", path: "/admin/experts", allowed: admin },
    Page { section: "会务管理", label: "申报人", path: "/admin/applicants", allowed: admin },
    Page { section: "会务管理", label: "账号与密码条", path: "/admin/accounts", allowed: admin },
    Page { section: "会务管理", label: "签到", path: "/admin/attendance", allowed: admin },
    Page { section: "会务管理", label: "应急纸质投票包", path: "/admin/paper-pack", allowed: admin },
    Page { section: "会务管理", label: "大屏显示", path: "/admin/display", allowed: admin },
    Page { section: "会务管理", label: "彩排", path: "/admin/rehearsal", allowed: admin },
    Page { section: "会务管理", label: "交接", path: "/admin/handover", allowed: admin },
    Page { section: "会务管理", label: "清除本机数据", path: "/admin/wipe", allowed: admin },
    Page { section: "会务管理", label: "审计日志", path: "/admin/audit", allowed: admin },
    Page { section: "会务管理", label: "修改密码", path: "/admin/password", allowed: admin },
];

pub fn find(path: &str) -> Option<&'static Page> {
    PAGES.iter().find(|p| p.path == path)
}

/// Sub-routes of a page that are not below its path.
const ALIASES: &[(&str, &str)] = &[
    ("/review/submit", "/review/draft"),
    ("/review/revote", "/review/deliberate"),
    ("/committee/submit", "/committee/draft"),
];

/// The page a URL belongs to: the page itself, a route below it (`/review/ops/status`), or an
/// alias; its predicate authorizes the route.
pub fn owner(url: &str) -> Option<&'static Page> {
    if let Some((_, page)) = ALIASES.iter().find(|(a, _)| *a == url) {
        return find(page);
    }
    PAGES
        .iter()
        .filter(|p| url == p.path || url.strip_prefix(p.path).is_some_and(|rest| rest.starts_with('/')))
        .max_by_key(|p| p.path.len())
}

#[derive(serde::Serialize)]
pub struct Section {
    pub title: &'static str,
    pub items: Vec<Item>,
}

#[derive(serde::Serialize)]
pub struct Item {
    pub label: &'static str,
    pub path: &'static str,
    pub active: bool,
}

pub fn build(ctx: &Ctx, mode: Mode, active: &str) -> Vec<Section> {
    let mut out: Vec<Section> = Vec::new();
    for p in PAGES.iter().filter(|p| (p.allowed)(ctx, mode)) {
        let item = Item { label: p.label, path: p.path, active: p.path == active };
        match out.last_mut() {
            Some(s) if s.title == p.section => s.items.push(item),
            _ => out.push(Section { title: p.section, items: vec![item] }),
        }
    }
    out
}

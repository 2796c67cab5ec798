//! Cross-checks of a parsed package, the same for JSON and Excel. Every problem is collected;
//! warnings (e.g. a group smaller than the national minimum of 3) are shown but do not block.

use super::model::*;
use crate::rules::Mode;
use std::collections::{HashMap, HashSet};

pub struct Report {
    pub problems: Vec<Problem>,
    pub warnings: Vec<String>,
}

/// PACKAGE.md: a code is 1–32 letters (any script), digits, `-`, `_` and `.`, not dots alone —
/// it appears in links, file names and spreadsheet cells, so nothing else is let through.
pub fn code_ok(code: &str) -> bool {
    let n = code.chars().count();
    (1..=32).contains(&n)
        && code.chars().all(|c| c.is_alphanumeric() || matches!(c, '-' | '_' | '.'))
        && !code.chars().all(|c| c == '.')
}

fn check_code(code: &str, place: String, what: &str, problems: &mut Vec<Problem>) {
    if code.is_empty() {
        return; // already reported as missing by the parser
    }
    if !code_ok(code) {
        problems.push(Problem::new(
            place,
            format!("{what}「{}」无效：只能由 1–32 个字母、数字和 - _ . 组成", printable(code)),
        ));
    }
}

/// A value as an error message may show it: control characters written as escapes.
fn printable(s: &str) -> String {
    s.chars()
        .take(40)
        .flat_map(|c| if c.is_control() { c.escape_default().collect::<Vec<_>>() } else { vec![c] })
        .collect()
}

/// PACKAGE.md: text fields hold no control characters but tab and newline (they would reach a
/// terminal, a log or a spreadsheet as commands).
fn check_text(value: &str, place: impl FnOnce() -> String, problems: &mut Vec<Problem>) {
    if let Some(c) = value.chars().find(|c| c.is_control() && *c != '\t' && *c != '\n') {
        problems
            .push(Problem::new(place(), format!("含有不允许的控制字符 U+{:04X}：「{}」", c as u32, printable(value))));
    }
}

fn check_extra(extra: &serde_json::Map<String, serde_json::Value>, src: &Src, problems: &mut Vec<Problem>) {
    for (k, v) in extra {
        check_text(k, || src.at(k), problems);
        let mut stack = vec![v];
        while let Some(v) = stack.pop() {
            match v {
                serde_json::Value::String(s) => check_text(s, || src.at(k), problems),
                serde_json::Value::Array(a) => stack.extend(a.iter()),
                serde_json::Value::Object(o) => stack.extend(o.values()),
                _ => {}
            }
        }
    }
}

/// Every text field of the package, each checked with its place.
fn check_texts(p: &Package, problems: &mut Vec<Problem>) {
    let s = &p.session;
    for (f, v) in [("name", &s.name), ("committee", &s.committee)] {
        check_text(v, || p.session_src.at(f), problems);
    }
    check_extra(&s.extra, &p.session_src, problems);
    for g in &p.groups {
        check_text(&g.name, || g.src.at("name"), problems);
        check_extra(&g.extra, &g.src, problems);
    }
    for e in &p.experts {
        for (f, v) in [
            ("name", &e.name),
            ("gender", &e.gender),
            ("phone", &e.phone),
            ("id_number", &e.id_number),
            ("unit", &e.unit),
            ("title", &e.title),
            ("title_level", &e.title_level),
            ("specialty", &e.specialty),
        ] {
            check_text(v, || e.src.at(f), problems);
        }
        check_extra(&e.extra, &e.src, problems);
        // The same list the template's drop-down offers (columns::GENDERS).
        if !super::columns::gender_ok(&e.gender) && !e.gender.chars().any(char::is_control) {
            problems.push(Problem::new(
                e.src.at("gender"),
                format!("性别应为 男 或 女（或留空），实为「{}」", printable(&e.gender)),
            ));
        }
    }
    for a in &p.applicants {
        for (f, v) in [
            ("name", &a.name),
            ("unit", &a.unit),
            ("series", &a.series),
            ("specialty", &a.specialty),
            ("title", &a.title),
            ("review_type", &a.review_type),
        ] {
            check_text(v, || a.src.at(f), problems);
        }
        if let Some(l) = &a.lecture {
            for (f, v) in [("room", &l.room), ("topic", &l.topic), ("chapter", &l.chapter), ("textbook", &l.textbook)] {
                check_text(v, || a.src.at(f), problems);
            }
        }
        for (k, v) in &a.details {
            check_text(k, || a.src.at("details"), problems);
            check_text(v, || a.src.at("details"), problems);
        }
        check_extra(&a.extra, &a.src, problems);
    }
    for r in &p.recusals {
        check_text(&r.reason, || r.src.at("reason"), problems);
    }
    check_extra(&p.extra, &p.session_src, problems);
}

/// A material path must stay inside the package: relative, no `..`, no drive or backslash.
pub fn safe_material_path(path: &str) -> bool {
    !path.is_empty()
        && !path.starts_with('/')
        && !path.contains('\\')
        && !path.contains(':')
        && !path.chars().any(|c| c.is_control())
        && path.split('/').all(|seg| !seg.is_empty() && seg != "." && seg != "..")
}

pub fn check(p: &Package) -> Report {
    let mut problems = Vec::new();
    let mut warnings = Vec::new();
    check_code(&p.session.id, p.session_src.at("id"), "会务编号", &mut problems);
    check_texts(p, &mut problems);

    let mut group_codes: HashMap<&str, &Group> = HashMap::new();
    for g in &p.groups {
        check_code(&g.code, g.src.at("code"), "组编号", &mut problems);
        if !g.code.is_empty() && group_codes.insert(&g.code, g).is_some() {
            problems.push(Problem::new(g.src.at("code"), format!("组编号「{}」重复 (duplicate)", g.code)));
        }
    }
    let mut experts: HashMap<&str, &Expert> = HashMap::new();
    for e in &p.experts {
        check_code(&e.code, e.src.at("code"), "专家编号", &mut problems);
        if !e.code.is_empty() && experts.insert(&e.code, e).is_some() {
            problems.push(Problem::new(e.src.at("code"), format!("专家编号「{}」重复 (duplicate)", e.code)));
        }
        if let Some(g) = &e.group {
            if !group_codes.contains_key(g.as_str()) {
                problems.push(Problem::new(e.src.at("group"), format!("专业组编号「{g}」不是已定义的专业组")));
            }
        }
    }
    for g in &p.groups {
        if g.leader.is_empty() {
            continue;
        }
        match experts.get(g.leader.as_str()) {
            None => problems.push(Problem::new(g.src.at("leader"), format!("组长「{}」不是已定义的专家", g.leader))),
            Some(e) if e.group.as_deref() != Some(g.code.as_str()) => problems.push(Problem::new(
                g.src.at("leader"),
                format!("组长「{}」({}) 不是本组「{}」的成员", g.leader, e.name, g.code),
            )),
            Some(_) => {}
        }
    }

    let c = &p.committee;
    if c.members.is_empty() {
        problems.push(Problem::new(c.src.at("members"), "评委会至少需要一名评委 (committee has no members)"));
    }
    let mut seen = HashSet::new();
    for (i, m) in c.members.iter().enumerate() {
        let place = c.src.at(&format!("members[{i}]"));
        if !experts.contains_key(m.as_str()) {
            problems.push(Problem::new(place, format!("评委「{m}」不是已定义的专家")));
        } else if !seen.insert(m.as_str()) {
            problems.push(Problem::new(place, format!("评委「{m}」重复 (duplicate)")));
        }
    }
    for (field, who, label) in [("chair", &c.chair, "主任"), ("reporter", &c.reporter, "上报人")] {
        if !who.is_empty() && !c.members.contains(who) {
            problems.push(Problem::new(c.src.at(field), format!("{label}「{who}」不是评委会成员")));
        }
    }

    let mut applicants: HashSet<&str> = HashSet::new();
    let mut per_group: HashMap<&str, usize> = HashMap::new();
    for a in &p.applicants {
        check_code(&a.code, a.src.at("code"), "申报人编号", &mut problems);
        if !a.code.is_empty() && !applicants.insert(&a.code) {
            problems.push(Problem::new(a.src.at("code"), format!("申报人编号「{}」重复 (duplicate)", a.code)));
        }
        if let Some(g) = &a.group {
            if !group_codes.contains_key(g.as_str()) {
                problems.push(Problem::new(a.src.at("group"), format!("专业组编号「{g}」不是已定义的专业组")));
            }
            *per_group.entry(g.as_str()).or_default() += 1;
        }
        for (j, m) in a.materials.iter().enumerate() {
            if !safe_material_path(m) {
                problems.push(Problem::new(
                    a.src.at(&format!("materials[{j}]")),
                    format!("材料路径「{m}」不在会务包之内 (path escapes the package)"),
                ));
            }
        }
    }
    for r in &p.recusals {
        if !r.expert.is_empty() && !experts.contains_key(r.expert.as_str()) {
            problems.push(Problem::new(r.src.at("expert"), format!("专家编号「{}」不是已定义的专家", r.expert)));
        }
        if !r.applicant.is_empty() && !applicants.contains(r.applicant.as_str()) {
            problems
                .push(Problem::new(r.src.at("applicant"), format!("申报人编号「{}」不是已定义的申报人", r.applicant)));
        }
    }

    for g in &p.groups {
        let n = p.experts.iter().filter(|e| e.group.as_deref() == Some(g.code.as_str())).count();
        if n < 3 {
            warnings.push(format!("专业组「{}」只有 {n} 名专家，少于规定的 3 名", g.name));
        }
        if !per_group.contains_key(g.code.as_str()) {
            warnings.push(format!("专业组「{}」没有申报人", g.name));
        }
    }
    for e in &p.experts {
        if e.group.is_none() && !c.members.contains(&e.code) {
            warnings.push(format!("专家「{}」({}) 既不在专业组也不是评委", e.name, e.code));
        }
    }
    if p.session.mode != Mode::ExpertReview {
        let missing = p.applicants.iter().filter(|a| a.group.is_some() && a.lecture.is_none()).count();
        if missing > 0 {
            warnings.push(format!("{missing} 名申报人没有答辩信息（面试顺序、考场号等）"));
        }
    }
    Report { problems, warnings }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_group_under_three_experts_is_warned_about_but_not_refused() {
        let json = include_str!("../../tests/data/example/package.json");
        let mut p: serde_json::Value = serde_json::from_str(json).unwrap();
        p["experts"][2]["group"] = serde_json::json!("G02"); // 小学语文组 drops to 2 experts
        let pkg = crate::package::json::parse(&serde_json::to_vec(&p).unwrap()).unwrap();
        let r = check(&pkg);
        assert!(r.problems.is_empty(), "{:?}", r.problems);
        assert!(
            r.warnings.iter().any(|w| w.contains("小学语文组") && w.contains("少于规定的 3 名")),
            "{:?}",
            r.warnings
        );
        let full = crate::package::json::parse(json.as_bytes()).unwrap();
        assert!(check(&full).warnings.iter().all(|w| !w.contains("少于规定的 3 名")));
    }

    #[test]
    fn codes_follow_the_package_spec() {
        for ok in ["A0001", "G-01", "e_1.2", "张三01", "2026-HN-ZXXJS-01", &"x".repeat(32)] {
            assert!(code_ok(ok), "{ok}");
        }
        for bad in ["", ".", "..", "A?1", "A&B", "A#1", "A/1", "A 1", "A\u{1b}1", "<b>", &"x".repeat(33)] {
            assert!(!code_ok(bad), "{bad:?}");
        }
    }

    #[test]
    fn control_characters_in_any_text_field_are_named() {
        let json = include_str!("../../tests/data/example/package.json");
        let mut p: serde_json::Value = serde_json::from_str(json).unwrap();
        p["experts"][0]["name"] = serde_json::json!("孙\u{1b}[31m怡");
        p["applicants"][1]["details"] = serde_json::json!({ "备注": "a\u{7}b" });
        p["applicants"][0]["code"] = serde_json::json!("A?0001");
        let pkg = crate::package::json::parse(&serde_json::to_vec(&p).unwrap()).unwrap();
        let places: Vec<String> = check(&pkg).problems.iter().map(|x| x.to_string()).collect();
        assert!(places.iter().any(|x| x.starts_with("experts[0].name") && x.contains("U+001B")), "{places:?}");
        assert!(places.iter().any(|x| x.starts_with("applicants[1].details") && x.contains("U+0007")), "{places:?}");
        assert!(places.iter().any(|x| x.starts_with("applicants[0].code")), "{places:?}");
        assert!(places.iter().all(|x| !x.contains('\u{1b}')), "the message itself is escaped: {places:?}");
        // Tab and newline are fine in text.
        p = serde_json::from_str(json).unwrap();
        p["applicants"][0]["unit"] = serde_json::json!("逸夫\t小学\n本部");
        let pkg = crate::package::json::parse(&serde_json::to_vec(&p).unwrap()).unwrap();
        assert!(check(&pkg).problems.is_empty());
    }

    #[test]
    fn material_paths() {
        assert!(safe_material_path("materials/A0001/申报表.pdf"));
        assert!(!safe_material_path("../etc/passwd"));
        assert!(!safe_material_path("materials/../../x"));
        assert!(!safe_material_path("/etc/passwd"));
        assert!(!safe_material_path("C:/x.pdf"));
        assert!(!safe_material_path("materials\\..\\x"));
        assert!(!safe_material_path("materials//x"));
        assert!(!safe_material_path(""));
    }
}

//! `package.xlsx`: the sheets 评审会, 专业组, 专家, 申报人 (and optional 回避), read with calamine
//! (which reads Excel- and WPS-saved workbooks alike). Problems name the sheet and cell.

use super::columns::{headers, yes_no, Column, APPLICANTS, EXPERTS, GROUPS, LECTURE, RECUSALS, SESSION};
use super::model::*;
use crate::rules::{GroupRule, Mode, Ratio, ScoreRule};
use calamine::{Data, Reader, Sheets};
use serde_json::{Map, Value};
use std::collections::HashMap;
use std::io::Cursor;
use std::sync::Arc;

struct Sheet {
    name: &'static str,
    /// header text → column index (0-based, absolute)
    header: HashMap<String, usize>,
    /// header texts in column order, for "further columns as details"
    header_order: Vec<(usize, String)>,
    /// (excel row number, cells by absolute column)
    rows: Vec<(usize, Vec<Data>)>,
}

impl Sheet {
    fn cell<'r>(&self, row: &'r [Data], col: &str) -> Option<&'r Data> {
        self.header.get(col).and_then(|c| row.get(*c))
    }
}

fn cell_text(d: &Data) -> String {
    match d {
        Data::String(s) => s.trim().to_string(),
        Data::Int(i) => i.to_string(),
        Data::Float(f) if f.fract() == 0.0 && f.abs() < 1e15 => format!("{}", *f as i64),
        Data::Float(f) => f.to_string(),
        Data::Bool(b) => if *b { "是" } else { "否" }.to_string(),
        Data::DateTime(dt) => excel_date(dt.as_f64()),
        Data::DateTimeIso(s) | Data::DurationIso(s) => s.clone(),
        Data::Error(_) | Data::Empty => String::new(),
    }
}

/// Excel serial day (1900 system) → "YYYY-MM-DD".
fn excel_date(serial: f64) -> String {
    let base = time::macros::date!(1899 - 12 - 30);
    match base.checked_add(time::Duration::days(serial.floor() as i64)) {
        Some(d) => format!("{:04}-{:02}-{:02}", d.year(), d.month() as u8, d.day()),
        None => serial.to_string(),
    }
}

fn read_sheet(
    wb: &mut Sheets<Cursor<&[u8]>>,
    name: &'static str,
    required_cols: &[&str],
    optional: bool,
    problems: &mut Vec<Problem>,
) -> Option<Sheet> {
    if !wb.sheet_names().iter().any(|s| s.trim() == name) {
        if !optional {
            problems.push(Problem::new(name, format!("缺少工作表「{name}」(missing sheet)")));
        }
        return None;
    }
    let real = wb.sheet_names().into_iter().find(|s| s.trim() == name)?;
    let range = match wb.worksheet_range(&real) {
        Ok(r) => r,
        Err(e) => {
            problems.push(Problem::new(name, format!("无法读取工作表 ({e})")));
            return None;
        }
    };
    let (r0, c0) = range.start().unwrap_or((0, 0));
    let mut iter = range.rows().enumerate();
    let mut header = HashMap::new();
    let mut header_order = Vec::new();
    let mut header_row = 0;
    for (i, row) in iter.by_ref() {
        if row.iter().all(|d| cell_text(d).is_empty()) {
            continue;
        }
        header_row = r0 as usize + i + 1;
        for (j, d) in row.iter().enumerate() {
            let t = cell_text(d);
            if !t.is_empty() {
                let col = c0 as usize + j;
                header.entry(t.clone()).or_insert(col);
                header_order.push((col, t));
            }
        }
        break;
    }
    let mut missing = false;
    for col in required_cols {
        if !header.contains_key(*col) {
            missing = true;
            let at = if header_row > 0 { format!("{name}!第{header_row}行") } else { name.to_string() };
            problems.push(Problem::new(at, format!("缺少列「{col}」(missing required column)")));
        }
    }
    if missing {
        return None;
    }
    let mut rows = Vec::new();
    for (i, row) in iter {
        if row.iter().all(|d| cell_text(d).is_empty()) {
            continue;
        }
        let mut cells = vec![Data::Empty; c0 as usize];
        cells.extend(row.iter().cloned());
        rows.push((r0 as usize + i + 1, cells));
    }
    Some(Sheet { name, header, header_order, rows })
}

fn src_for(sheet: &Sheet, row: usize, fields: &[Column]) -> Src {
    let cols: HashMap<&'static str, usize> =
        fields.iter().filter_map(|c| sheet.header.get(c.header).map(|i| (c.field, *i))).collect();
    Src::Sheet { sheet: sheet.name, row, cols: Arc::new(cols) }
}

/// A problem for each required cell of a row left blank.
fn required(src: &Src, cols: &[Column], text: impl Fn(&str) -> String, problems: &mut Vec<Problem>) {
    for c in cols.iter().filter(|c| c.required) {
        if text(c.header).is_empty() {
            problems.push(Problem::new(src.at(c.field), format!("「{}」不能为空", c.header)));
        }
    }
}

/// Reads the package workbook: Excel 2007+ (.xlsx), Excel 97–2003 (.xls, still the format of
/// many office templates) or OpenDocument (.ods) — the same sheets, headers and checks.
pub fn parse(bytes: &[u8]) -> Result<Package, Vec<Problem>> {
    let mut wb = calamine::open_workbook_auto_from_rs(Cursor::new(bytes)).map_err(|e| {
        vec![Problem::new(
            "package.xlsx",
            format!(
                "不是可读取的工作簿（应为 Excel .xlsx / .xls 或 WPS/LibreOffice .ods）(not a readable workbook: {e})"
            ),
        )]
    })?;
    let mut problems = Vec::new();
    let s_sheet = read_sheet(&mut wb, "评审会", &["项目", "值"], false, &mut problems);
    let g_sheet = read_sheet(&mut wb, "专业组", &headers(GROUPS), false, &mut problems);
    let e_sheet = read_sheet(&mut wb, "专家", &headers(EXPERTS), false, &mut problems);
    let a_sheet = read_sheet(&mut wb, "申报人", &headers(APPLICANTS), false, &mut problems);
    let r_sheet = read_sheet(&mut wb, "回避", &headers(RECUSALS), true, &mut problems);
    let (Some(s_sheet), Some(g_sheet), Some(e_sheet), Some(a_sheet)) = (s_sheet, g_sheet, e_sheet, a_sheet) else {
        return Err(problems);
    };

    // 评审会: key/value rows.
    let mut values: HashMap<&'static str, String> = HashMap::new();
    let mut places: HashMap<String, String> = HashMap::new();
    let mut session_extra = Map::new();
    let (kc, vc) = (s_sheet.header["项目"], s_sheet.header["值"]);
    for (rn, row) in &s_sheet.rows {
        let key = row.get(kc).map(cell_text).unwrap_or_default();
        let val = row.get(vc).map(cell_text).unwrap_or_default();
        match SESSION.iter().find(|c| c.header == key) {
            Some(c) => {
                values.insert(c.field, val);
                places.insert(c.field.to_string(), format!("评审会!{}{rn}", col_letter(vc)));
            }
            None if !key.is_empty() => {
                session_extra.insert(key, Value::String(val));
            }
            None => {}
        }
    }
    let session_src = Src::Places(Arc::new(places), "评审会".into());
    let get = |f: &str| values.get(f).cloned().unwrap_or_default();
    for c in SESSION.iter().filter(|c| c.required) {
        if get(c.field).is_empty() {
            problems.push(Problem::new(session_src.at(c.field), format!("缺少「{}」(required)", c.header)));
        }
    }
    let mode_s = get("mode");
    let mode = Mode::parse(&mode_s).unwrap_or_else(|| {
        if !mode_s.is_empty() {
            problems.push(Problem::new(
                session_src.at("mode"),
                format!("评审模式「{mode_s}」无效，应为 专家评审 / 专家评审+讲课答辩 / 专家答辩+面试答辩"),
            ));
        }
        Mode::ExpertReview
    });
    let ratio = |field: &str, problems: &mut Vec<Problem>| {
        let s = get(field);
        if s.is_empty() {
            return Ratio { p: 2, q: 3 };
        }
        Ratio::parse(&s).unwrap_or_else(|| {
            problems.push(Problem::new(
                session_src.at(field),
                format!("比例「{s}」无效，应为 p/q 形式且 0 < p ≤ q (如 2/3)"),
            ));
            Ratio { p: 2, q: 3 }
        })
    };
    let committee_pass_ratio = ratio("committee_pass_ratio", &mut problems);
    let quorum_ratio = ratio("quorum_ratio", &mut problems);
    let gr = get("group_pass_rule");
    let group_pass_rule = if gr.is_empty() {
        GroupRule::MoreThanHalf
    } else {
        GroupRule::parse(&gr).unwrap_or_else(|| {
            problems.push(Problem::new(
                session_src.at("group_pass_rule"),
                format!("专业组通过规则「{gr}」无效，应为 过半数 或 p/q"),
            ));
            GroupRule::MoreThanHalf
        })
    };
    let sr = get("score_rule");
    let score_rule = if sr.is_empty() {
        ScoreRule::Mean
    } else {
        ScoreRule::parse(&sr).unwrap_or_else(|| {
            problems.push(Problem::new(
                session_src.at("score_rule"),
                format!("计分规则「{sr}」无效，应为 平均分 或 去掉最高最低分"),
            ));
            ScoreRule::Mean
        })
    };
    let flag = |field: &str, problems: &mut Vec<Problem>| {
        let s = get(field);
        yes_no(&s).unwrap_or_else(|| {
            problems.push(Problem::new(session_src.at(field), format!("应为 是 或 否，实为「{s}」")));
            false
        })
    };
    let recused_count_as_present = flag("recused_count_as_present", &mut problems);
    let blind = flag("blind", &mut problems);
    let session = SessionInfo {
        id: get("id"),
        name: get("name"),
        committee: get("committee"),
        mode,
        committee_pass_ratio,
        quorum_ratio,
        group_pass_rule,
        score_rule,
        recused_count_as_present,
        blind,
        extra: session_extra,
    };

    let known_extra = |sheet: &Sheet, row: &[Data], known: &[&[Column]]| -> Vec<(String, String)> {
        sheet
            .header_order
            .iter()
            .filter(|(_, h)| !known.iter().any(|t| t.iter().any(|c| c.header == h)))
            .map(|(c, h)| (h.clone(), row.get(*c).map(cell_text).unwrap_or_default()))
            // A blank cell is a value not given, as an absent key is in JSON.
            .filter(|(_, v)| !v.is_empty())
            .collect()
    };

    let mut groups = Vec::new();
    for (rn, row) in &g_sheet.rows {
        let t = |h: &str| g_sheet.cell(row, h).map(cell_text).unwrap_or_default();
        let src = src_for(&g_sheet, *rn, GROUPS);
        required(&src, GROUPS, t, &mut problems);
        let extra = known_extra(&g_sheet, row, &[GROUPS]).into_iter().map(|(k, v)| (k, Value::String(v))).collect();
        groups.push(Group { code: t("组编号"), name: t("组名"), leader: t("组长编号"), extra, src });
    }

    let mut experts = Vec::new();
    let mut members = Vec::new();
    let mut chairs = Vec::new();
    let mut reporters = Vec::new();
    for (rn, row) in &e_sheet.rows {
        let t = |h: &str| e_sheet.cell(row, h).map(cell_text).unwrap_or_default();
        let src = src_for(&e_sheet, *rn, EXPERTS);
        required(&src, EXPERTS, t, &mut problems);
        if let Some(Data::Float(f)) = e_sheet.cell(row, "证件号") {
            if f.abs() >= 1e15 {
                problems.push(Problem::new(
                    src.at("id_number"),
                    "证件号以数字格式保存，Excel 已丢失末尾数字；请把该列设为文本格式后重新录入",
                ));
            }
        }
        let code = t("编号");
        for (f, h, list) in
            [("member", "评委", &mut members), ("chair", "主任", &mut chairs), ("reporter", "上报人", &mut reporters)]
        {
            match yes_no(&t(h)) {
                Some(true) => list.push((code.clone(), src.at(f))),
                Some(false) => {}
                None => problems.push(Problem::new(src.at(f), format!("「{h}」应为 是 或 否，实为「{}」", t(h)))),
            }
        }
        let group = Some(t("专业组编号")).filter(|g| !g.is_empty());
        let extra = known_extra(&e_sheet, row, &[EXPERTS]).into_iter().map(|(k, v)| (k, Value::String(v))).collect();
        experts.push(Expert {
            code,
            name: t("姓名"),
            gender: t("性别"),
            phone: t("手机号码"),
            id_number: t("证件号"),
            unit: t("工作单位"),
            title: t("专业技术职务"),
            title_level: t("专业技术职务等级"),
            specialty: t("推荐专业"),
            group,
            extra,
            src,
        });
    }
    let col_place = |h: &str| match e_sheet.header.get(h) {
        Some(c) => format!("专家!{}列", col_letter(*c)),
        None => "专家".into(),
    };
    let pick_one = |list: &[(String, String)], h: &str, problems: &mut Vec<Problem>| -> String {
        match list {
            [] => {
                problems.push(Problem::new(col_place(h), format!("没有专家的「{h}」为 是 (exactly one required)")));
                String::new()
            }
            [(code, _)] => code.clone(),
            more => {
                for (_, place) in more {
                    problems.push(Problem::new(place.clone(), format!("「{h}」只能有一人为 是")));
                }
                String::new()
            }
        }
    };
    let chair = pick_one(&chairs, "主任", &mut problems);
    let reporter = pick_one(&reporters, "上报人", &mut problems);
    let mut cplaces = HashMap::new();
    cplaces.insert("chair".to_string(), col_place("主任"));
    cplaces.insert("reporter".to_string(), col_place("上报人"));
    for (i, (_, place)) in members.iter().enumerate() {
        cplaces.insert(format!("members[{i}]"), place.clone());
    }
    // Chair/reporter rows also carry the exact cell, used when they are not members.
    if let [(_, p)] = chairs.as_slice() {
        cplaces.insert("chair".to_string(), p.clone());
    }
    if let [(_, p)] = reporters.as_slice() {
        cplaces.insert("reporter".to_string(), p.clone());
    }
    let committee = Committee {
        members: members.into_iter().map(|(c, _)| c).collect(),
        chair,
        reporter,
        src: Src::Places(Arc::new(cplaces), col_place("评委")),
    };

    let mut applicants = Vec::new();
    let all_cols: Vec<Column> = APPLICANTS.iter().chain(LECTURE).copied().collect();
    for (rn, row) in &a_sheet.rows {
        let t = |h: &str| a_sheet.cell(row, h).map(cell_text).unwrap_or_default();
        let src = src_for(&a_sheet, *rn, &all_cols);
        required(&src, APPLICANTS, t, &mut problems);
        let lecture_cells: Vec<String> =
            ["面试顺序", "考场号", "讲课题目", "章节", "教材版本"].iter().map(|h| t(h)).collect();
        let lecture = if lecture_cells.iter().all(|s| s.is_empty()) {
            None
        } else {
            let order = if lecture_cells[0].is_empty() {
                None
            } else {
                match lecture_cells[0].parse::<i64>() {
                    Ok(n) => Some(n),
                    Err(_) => {
                        problems.push(Problem::new(
                            src.at("lecture.order"),
                            format!("面试顺序应为整数，实为「{}」", lecture_cells[0]),
                        ));
                        None
                    }
                }
            };
            Some(Lecture {
                order,
                room: lecture_cells[1].clone(),
                topic: lecture_cells[2].clone(),
                chapter: lecture_cells[3].clone(),
                textbook: lecture_cells[4].clone(),
            })
        };
        let materials =
            t("材料").split([';', '；', '\n']).map(|s| s.trim().to_string()).filter(|s| !s.is_empty()).collect();
        applicants.push(Applicant {
            code: t("编号"),
            name: t("姓名"),
            unit: t("推荐单位"),
            series: t("申报系列"),
            specialty: t("申报专业"),
            title: t("申报职称"),
            review_type: t("评审类型"),
            group: Some(t("专业组编号")).filter(|g| !g.is_empty()),
            lecture,
            details: known_extra(&a_sheet, row, &[APPLICANTS, LECTURE]),
            materials,
            extra: Map::new(),
            src,
        });
    }

    let mut recusals = Vec::new();
    if let Some(r_sheet) = &r_sheet {
        for (rn, row) in &r_sheet.rows {
            let t = |h: &str| r_sheet.cell(row, h).map(cell_text).unwrap_or_default();
            let src = src_for(r_sheet, *rn, RECUSALS);
            required(&src, RECUSALS, t, &mut problems);
            recusals
                .push(Recusal { expert: t("专家编号"), applicant: t("申报人编号"), reason: t("原因"), src });
        }
    }

    if !problems.is_empty() {
        return Err(problems);
    }
    Ok(Package { session, session_src, groups, experts, committee, applicants, recusals, extra: Map::new() })
}

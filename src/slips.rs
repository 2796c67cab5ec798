//! Account slips (账号条) and the admin's account list: the only outputs that carry plain
//! passwords. Shared by the web console and `pingshen accounts`.

use crate::accounts::Slip;
use crate::error::{Error, Result};
use crate::render::Templates;
use qrcode::render::svg;
use qrcode::QrCode;
use serde_json::json;

/// An inline SVG QR code of `text` (the venue address), drawn on the server: no JS, prints crisp.
pub fn qr_svg(text: &str) -> String {
    match QrCode::new(text.as_bytes()) {
        Ok(code) => code
            .render::<svg::Color>()
            .min_dimensions(120, 120)
            .quiet_zone(true)
            .dark_color(svg::Color("#000000"))
            .light_color(svg::Color("#ffffff"))
            .build(),
        Err(_) => String::new(),
    }
}

/// The printable A4 page of slips, with download links for the CSV and xlsx lists embedded as
/// data URIs: nothing with a password is stored or served twice.
pub struct SlipPage<'a> {
    pub session_name: &'a str,
    pub address: &'a str,
    /// The signing key's fingerprint, printed in each slip's footer.
    pub key_fingerprint: Option<String>,
    /// The HTTPS certificate's fingerprint, to compare with the browser's warning.
    pub tls_fingerprint: Option<String>,
    /// A file on its own (CLI): CSS inline, no links back into the console.
    pub standalone: bool,
}

pub fn slips_html(t: &Templates, page: &SlipPage, slips: &[Slip]) -> Result<String> {
    let (session_name, address, standalone) = (page.session_name, page.address, page.standalone);
    let csv = base64_encode(&csv(slips));
    let xlsx = base64_encode(&xlsx(slips)?);
    t.render(
        "slips.html",
        json!({
            "session_name": session_name,
            "address": address,
            "qr": qr_svg(address),
            "slips": slips,
            "csv_b64": csv,
            "xlsx_b64": xlsx,
            "standalone": standalone,
            "fingerprint": page.key_fingerprint,
            "tls_fingerprint": page.tls_fingerprint,
            "inline_css": if standalone {
                crate::render::static_asset("slips.css").map(|(b, _)| String::from_utf8_lossy(&b).into_owned())
            } else {
                None
            },
        }),
    )
}

fn base64_encode(bytes: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

const HEAD: [&str; 6] = ["编号", "姓名", "角色", "专业组", "用户名", "密码"];

fn cells(s: &Slip) -> [&str; 6] {
    [&s.code, &s.name, &s.roles, &s.group, &s.username, &s.password]
}

/// The account list as CSV (formula-like text neutralised by `sheet::csv`).
pub fn csv(slips: &[Slip]) -> Vec<u8> {
    let rows: Vec<Vec<&str>> = slips.iter().map(|s| cells(s).to_vec()).collect();
    crate::sheet::csv(&HEAD, &rows)
}

/// The account list as a workbook made like every other (`sheet`): all cells text.
pub fn xlsx(slips: &[Slip]) -> Result<Vec<u8>> {
    use crate::sheet::Cell;
    let mut wb = crate::sheet::workbook()?;
    let rows = slips.iter().map(|s| cells(s).iter().map(|v| Cell::Text(v.to_string())).collect()).collect();
    crate::sheet::add_sheet(&mut wb, "账号", &HEAD, rows)?;
    wb.save_to_buffer().map_err(Error::internal)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn account_lists_keep_formula_like_names_as_text() {
        let s = Slip {
            code: "E1".into(),
            name: "=cmd|' /C calc'!A0".into(),
            roles: "a,b".into(),
            group: "".into(),
            username: "u".into(),
            password: "p\"q".into(),
        };
        let text = String::from_utf8(csv(std::slice::from_ref(&s))).unwrap();
        assert!(text.contains("'=cmd") && text.contains("\"a,b\"") && text.contains("\"p\"\"q\""), "{text}");
        let bytes = xlsx(&[s]).unwrap();
        use calamine::{Data, Reader};
        let mut book = calamine::Xlsx::new(std::io::Cursor::new(bytes.clone())).unwrap();
        let range = book.worksheet_range("账号").unwrap();
        assert_eq!(range.get_value((1, 1)), Some(&Data::String("=cmd|' /C calc'!A0".into())));
        assert!(crate::sheet::tests::part(&bytes, "xl/styles.xml").contains("quotePrefix=\"1\""));
        assert!(crate::sheet::tests::part(&bytes, "xl/worksheets/sheet1.xml").contains("state=\"frozen\""));
    }

    #[test]
    fn qr_is_svg() {
        assert!(qr_svg("http://192.168.1.10:8080/").starts_with("<?xml") || qr_svg("x").contains("<svg"));
    }
}

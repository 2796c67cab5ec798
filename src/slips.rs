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

fn csv_field(s: &str) -> String {
    // A leading = + - @ would run as a formula in Excel/WPS: quote it away.
    let s = if s.starts_with(['=', '+', '-', '@']) { format!("'{s}") } else { s.to_string() };
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s
    }
}

pub fn csv(slips: &[Slip]) -> Vec<u8> {
    // BOM so Excel opens the UTF-8 Chinese text correctly.
    let mut out = String::from("\u{feff}编号,姓名,角色,专业组,用户名,密码\r\n");
    for s in slips {
        let row = [&s.code, &s.name, &s.roles, &s.group, &s.username, &s.password];
        out.push_str(&row.iter().map(|f| csv_field(f)).collect::<Vec<_>>().join(","));
        out.push_str("\r\n");
    }
    out.into_bytes()
}

pub fn xlsx(slips: &[Slip]) -> Result<Vec<u8>> {
    use rust_xlsxwriter::{Format, Workbook};
    let mut wb = Workbook::new();
    let ws = wb.add_worksheet();
    ws.set_name("账号").map_err(Error::internal)?;
    let bold = Format::new().set_bold();
    let text = Format::new().set_num_format("@");
    for (c, h) in ["编号", "姓名", "角色", "专业组", "用户名", "密码"].iter().enumerate() {
        ws.write_string_with_format(0, c as u16, *h, &bold).map_err(Error::internal)?;
    }
    for (i, s) in slips.iter().enumerate() {
        let r = i as u32 + 1;
        for (c, v) in [&s.code, &s.name, &s.roles, &s.group, &s.username, &s.password].iter().enumerate() {
            ws.write_string_with_format(r, c as u16, v.as_str(), &text).map_err(Error::internal)?;
        }
    }
    ws.set_column_width(2, 20).map_err(Error::internal)?;
    ws.set_column_width(4, 14).map_err(Error::internal)?;
    ws.set_column_width(5, 14).map_err(Error::internal)?;
    wb.save_to_buffer().map_err(Error::internal)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_neutralises_formulas_and_quotes() {
        let s = Slip {
            code: "E1".into(),
            name: "=cmd".into(),
            roles: "a,b".into(),
            group: "".into(),
            username: "u".into(),
            password: "p\"q".into(),
        };
        let text = String::from_utf8(csv(&[s])).unwrap();
        assert!(text.contains("'=cmd"));
        assert!(text.contains("\"a,b\""));
        assert!(text.contains("\"p\"\"q\""));
    }

    #[test]
    fn qr_is_svg() {
        assert!(qr_svg("http://192.168.1.10:8080/").starts_with("<?xml") || qr_svg("x").contains("<svg"));
    }
}

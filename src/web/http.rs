//! Request plumbing rouille leaves to us: a body-size limit, form and multipart parsing,
//! cookies, and the security headers every response carries.

use crate::error::{Error, Result};
use rouille::{Request, Response};
use std::collections::HashMap;
use std::io::Read;

/// Reads the body, refusing (413) anything over `limit` whether or not Content-Length says so.
pub fn read_body(req: &Request, limit: u64) -> Result<Vec<u8>> {
    if let Some(len) = req.header("Content-Length").and_then(|v| v.trim().parse::<u64>().ok()) {
        if len > limit {
            return Err(too_large(limit));
        }
    }
    let Some(data) = req.data() else {
        return Ok(Vec::new());
    };
    let mut buf = Vec::new();
    data.take(limit + 1).read_to_end(&mut buf).map_err(|e| Error::bad_request(format!("请求读取失败 ({e})")))?;
    if buf.len() as u64 > limit {
        return Err(too_large(limit));
    }
    Ok(buf)
}

fn too_large(limit: u64) -> Error {
    let size =
        if limit >= 1024 * 1024 { format!("{} MiB", limit / 1024 / 1024) } else { format!("{} KiB", limit / 1024) };
    Error::new(crate::error::Kind::TooLarge, format!("提交的内容过大（上限 {size}）。"))
}

/// An `application/x-www-form-urlencoded` body.
#[derive(Debug, Default)]
pub struct Form {
    fields: HashMap<String, Vec<String>>,
}

impl Form {
    pub fn parse(body: &[u8]) -> Form {
        let mut fields: HashMap<String, Vec<String>> = HashMap::new();
        for (k, v) in form_urlencoded::parse(body) {
            fields.entry(k.into_owned()).or_default().push(v.into_owned());
        }
        Form { fields }
    }
    pub fn get(&self, key: &str) -> Option<&str> {
        self.fields.get(key).and_then(|v| v.first()).map(String::as_str)
    }
    pub fn text(&self, key: &str) -> String {
        self.get(key).unwrap_or("").trim().to_string()
    }
    /// The field names, sorted.
    pub fn keys(&self) -> Vec<&str> {
        let mut k: Vec<&str> = self.fields.keys().map(String::as_str).collect();
        k.sort_unstable();
        k
    }
    pub fn all(&self, key: &str) -> Vec<String> {
        self.fields.get(key).cloned().unwrap_or_default()
    }
}

/// Percent-encodes a value for a query string (RFC 3986 unreserved characters kept).
pub fn urlencode(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for b in value.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

pub fn query(req: &Request, key: &str) -> Option<String> {
    req.get_param(key).map(|s| s.trim().to_string()).filter(|s| !s.is_empty())
}

pub struct Part {
    pub name: String,
    pub filename: Option<String>,
    pub data: Vec<u8>,
}

/// Parses a `multipart/form-data` body already read (and size-checked) into memory.
pub fn multipart(req: &Request, body: &[u8]) -> Result<Vec<Part>> {
    let ct = req.header("Content-Type").unwrap_or("");
    let boundary = ct
        .split(';')
        .map(str::trim)
        .find_map(|p| p.strip_prefix("boundary="))
        .map(|b| b.trim_matches('"').to_string())
        .ok_or_else(|| Error::bad_request("请求格式错误：应为文件上传表单 (multipart/form-data)。"))?;
    let delim = format!("--{boundary}").into_bytes();
    let mut parts = Vec::new();
    let mut pos = find(body, &delim, 0).ok_or_else(|| Error::bad_request("上传内容格式错误。"))? + delim.len();
    loop {
        if body[pos..].starts_with(b"--") {
            break;
        }
        pos += 2; // CRLF after the delimiter
        let head_end = find(body, b"\r\n\r\n", pos).ok_or_else(|| Error::bad_request("上传内容格式错误。"))?;
        let head = String::from_utf8_lossy(&body[pos..head_end]).to_string();
        let data_start = head_end + 4;
        let mut end_delim = b"\r\n".to_vec();
        end_delim.extend_from_slice(&delim);
        let data_end = find(body, &end_delim, data_start).ok_or_else(|| Error::bad_request("上传内容不完整。"))?;
        let mut name = String::new();
        let mut filename = None;
        for line in head.lines() {
            if line.to_ascii_lowercase().starts_with("content-disposition") {
                for attr in line.split(';').map(str::trim) {
                    if let Some(v) = attr.strip_prefix("name=") {
                        name = v.trim_matches('"').to_string();
                    } else if let Some(v) = attr.strip_prefix("filename=") {
                        filename = Some(v.trim_matches('"').to_string());
                    }
                }
            }
        }
        parts.push(Part { name, filename, data: body[data_start..data_end].to_vec() });
        pos = data_end + end_delim.len();
        if pos + 2 > body.len() {
            break;
        }
    }
    Ok(parts)
}

fn find(hay: &[u8], needle: &[u8], from: usize) -> Option<usize> {
    if from > hay.len() || needle.is_empty() {
        return None;
    }
    hay[from..].windows(needle.len()).position(|w| w == needle).map(|p| p + from)
}

pub fn cookie(req: &Request, name: &str) -> Option<String> {
    rouille::input::cookies(req).find(|(k, _)| *k == name).map(|(_, v)| v.to_string())
}

pub fn set_cookie(resp: Response, name: &str, value: &str, max_age: Option<i64>, secure: bool) -> Response {
    let mut c = format!("{name}={value}; Path=/; HttpOnly; SameSite=Strict");
    if let Some(age) = max_age {
        c.push_str(&format!("; Max-Age={age}"));
    }
    if secure {
        c.push_str("; Secure");
    }
    resp.with_additional_header("Set-Cookie", c)
}

/// Headers every response gets; pages are never cached (they show votes and passwords).
pub fn secure_headers(resp: Response) -> Response {
    let mut resp = resp
        .with_unique_header("X-Content-Type-Options", "nosniff")
        .with_unique_header("Referrer-Policy", "no-referrer")
        .with_unique_header("X-Frame-Options", "SAMEORIGIN");
    if !resp.headers.iter().any(|(k, _)| k.eq_ignore_ascii_case("Content-Security-Policy")) {
        resp = resp.with_unique_header(
            "Content-Security-Policy",
            "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; object-src 'none'; frame-ancestors 'self'; base-uri 'none'; form-action 'self'",
        );
    }
    if !resp.headers.iter().any(|(k, _)| k.eq_ignore_ascii_case("Cache-Control")) {
        resp = resp.with_unique_header("Cache-Control", "no-store");
    }
    resp
}

/// Compares in time independent of where the strings differ.
pub fn constant_eq(a: &str, b: &str) -> bool {
    a.len() == b.len() && a.bytes().zip(b.bytes()).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// `filename*=` parameter for non-ASCII names in Content-Disposition.
pub fn disposition(kind: &str, filename: &str) -> String {
    let enc: String = form_urlencoded::byte_serialize(filename.as_bytes()).collect::<String>().replace('+', "%20");
    format!("{kind}; filename*=UTF-8''{enc}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn constant_eq_works() {
        assert!(constant_eq("abc", "abc"));
        assert!(!constant_eq("abc", "abd"));
        assert!(!constant_eq("abc", "ab"));
    }

    #[test]
    fn urlencode_keeps_a_query_value_one_value() {
        assert_eq!(urlencode("a-b_c.d~9"), "a-b_c.d~9");
        assert_eq!(urlencode("x&y=z#w?"), "x%26y%3Dz%23w%3F");
        assert_eq!(urlencode("赵 州"), "%E8%B5%B5%20%E5%B7%9E");
    }
}

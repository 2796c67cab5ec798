//! Request plumbing rouille leaves to us: a body-size limit, form and multipart parsing,
//! cookies, and the security headers every response carries.

use crate::error::{Error, Result};
use crate::package::source::Window;
use crate::package::ReadSeek;
use rouille::{Request, Response};
use std::collections::HashMap;
use std::fs::File;
use std::io::Read;
use std::path::Path;
use std::sync::Arc;

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

pub fn too_large(limit: u64) -> Error {
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
    pub data: PartData,
}

/// A part's bytes: in memory (form fields, small bodies), or a region of the spooled body.
pub enum PartData {
    Mem(Vec<u8>),
    File { file: Arc<File>, start: u64, len: u64 },
}

impl PartData {
    /// The part as a form field's text (fields are always in memory).
    pub fn text(&self) -> String {
        match self {
            PartData::Mem(b) => String::from_utf8_lossy(b).into_owned(),
            PartData::File { .. } => String::new(),
        }
    }

    /// A small uploaded file's bytes (a signature), wherever the body was kept; `None` if it is
    /// larger than `max`.
    pub fn small_bytes(&self, max: u64) -> std::io::Result<Option<Vec<u8>>> {
        let mut out = Vec::new();
        let n = self.reader().take(max + 1).read_to_end(&mut out)?;
        Ok((n as u64 <= max).then_some(out))
    }
    /// Another reader of the same bytes (the package is read once to load, once to check its
    /// signature).
    pub fn reader(&self) -> Box<dyn ReadSeek> {
        match self {
            PartData::Mem(b) => Box::new(std::io::Cursor::new(b.clone())),
            PartData::File { file, start, len } => Box::new(Window::new(file.clone(), *start, *len)),
        }
    }
    pub fn into_reader(self) -> Box<dyn ReadSeek> {
        match self {
            PartData::Mem(b) => Box::new(std::io::Cursor::new(b)),
            PartData::File { file, start, len } => Box::new(Window::new(file, start, len)),
        }
    }
}

/// The header the connection layer sets on a request whose body it spooled to a file (and
/// strips from whatever a client sends): the file's name in the spool directory.
pub use crate::net::SPOOL_HEADER;

pub use crate::store::spool_dir;

/// The request's body as a file, if the connection layer spooled it (a large upload).
pub fn spooled(req: &Request, spool_dir: &Path) -> Result<Option<(Arc<File>, u64)>> {
    let Some(name) = req.header(SPOOL_HEADER) else {
        return Ok(None);
    };
    if name.is_empty()
        || !name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.')
        || name.starts_with('.')
    {
        return Err(Error::bad_request("请求格式错误。"));
    }
    let file = File::open(spool_dir.join(name)).map_err(|e| Error::bad_request(format!("上传内容读取失败 ({e})")))?;
    let len = file.metadata().map_err(|e| Error::bad_request(format!("上传内容读取失败 ({e})")))?.len();
    Ok(Some((Arc::new(file), len)))
}

/// A request body to parse: read into memory, or spooled to a file.
pub enum Body {
    Mem(Vec<u8>),
    File(Arc<File>, u64),
}

impl Body {
    fn len(&self) -> u64 {
        match self {
            Body::Mem(b) => b.len() as u64,
            Body::File(_, len) => *len,
        }
    }

    fn reader(&self) -> Box<dyn Read + '_> {
        match self {
            Body::Mem(b) => Box::new(&b[..]),
            Body::File(f, len) => Box::new(Window::new(f.clone(), 0, *len)),
        }
    }

    fn bytes(&self, start: u64, end: u64) -> Result<Vec<u8>> {
        match self {
            Body::Mem(b) => Ok(b[start as usize..end as usize].to_vec()),
            Body::File(f, _) => {
                let mut out = vec![0u8; (end - start) as usize];
                std::os::unix::fs::FileExt::read_exact_at(&**f, &mut out, start)
                    .map_err(|e| Error::bad_request(format!("上传内容读取失败 ({e})")))?;
                Ok(out)
            }
        }
    }

    fn part(&self, start: u64, end: u64) -> Result<PartData> {
        Ok(match self {
            Body::File(f, _) => PartData::File { file: f.clone(), start, len: end - start },
            Body::Mem(_) => PartData::Mem(self.bytes(start, end)?),
        })
    }
}

/// A form field in a multipart body is text someone typed: far below this.
const FIELD_MAX: u64 = 1 << 20;
/// Parts in one form: ours have a handful; a body of millions of delimiters stops here.
const MAX_PARTS: usize = 256;
/// A part's own head (Content-Disposition, Content-Type).
const PART_HEAD_MAX: u64 = 8 * 1024;

/// Parses a `multipart/form-data` body in one pass over it, whether in memory or spooled: file
/// parts of a spooled body stay where they are (a region of the file), never copied to memory.
pub fn multipart(req: &Request, body: &Body) -> Result<Vec<Part>> {
    let ct = req.header("Content-Type").unwrap_or("");
    let boundary = ct
        .split(';')
        .map(str::trim)
        .find_map(|p| p.strip_prefix("boundary="))
        .map(|b| b.trim_matches('"').to_string())
        .filter(|b| !b.is_empty() && b.len() <= 200)
        .ok_or_else(|| Error::bad_request("请求格式错误：应为文件上传表单 (multipart/form-data)。"))?;
    let malformed = || Error::bad_request("上传内容格式错误。");
    // Every "\r\n--boundary"; a CRLF put before the body makes the first delimiter one too.
    let needle = format!("\r\n--{boundary}").into_bytes();
    let hits = find_all(std::io::Cursor::new(b"\r\n").chain(body.reader()), &needle, MAX_PARTS + 1)
        .map_err(|e| Error::bad_request(format!("上传内容读取失败 ({e})")))?;
    if hits.len() > MAX_PARTS {
        return Err(Error::bad_request("上传表单的字段过多。"));
    }
    // With the CRLF put before, a hit's offset is where its "--boundary" starts in the body.
    let delims = hits;
    let dl = needle.len() as u64 - 2;
    let total = body.len();
    let mut parts = Vec::new();
    for (i, &d) in delims.iter().enumerate() {
        let after = d + dl;
        let tail = body.bytes(after, (after + 2).min(total))?;
        if tail == b"--" {
            return Ok(parts);
        }
        let next = *delims.get(i + 1).ok_or_else(|| Error::bad_request("上传内容不完整。"))?;
        if tail != b"\r\n" || next < after + 2 + 2 {
            return Err(malformed());
        }
        // The part's head ends at its first blank line.
        let head_from = after + 2;
        let window = body.bytes(head_from, (head_from + PART_HEAD_MAX).min(next.saturating_sub(2).max(head_from)))?;
        let head_len = find(&window, b"\r\n\r\n", 0).ok_or_else(malformed)? as u64;
        let head = String::from_utf8_lossy(&window[..head_len as usize]).to_string();
        let (data_start, data_end) = (head_from + head_len + 4, next - 2);
        if data_start > data_end {
            return Err(malformed());
        }
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
        let data = if filename.is_some() {
            body.part(data_start, data_end)?
        } else if data_end - data_start > FIELD_MAX {
            return Err(Error::bad_request(format!("表单字段「{}」过长。", name.chars().take(40).collect::<String>())));
        } else {
            PartData::Mem(body.bytes(data_start, data_end)?)
        };
        parts.push(Part { name, filename, data });
    }
    Err(Error::bad_request("上传内容不完整。"))
}

/// Offsets of the occurrences of `needle` in a stream (at most `max`), read once in chunks.
fn find_all(mut r: impl Read, needle: &[u8], max: usize) -> std::io::Result<Vec<u64>> {
    let finder = memchr::memmem::Finder::new(needle);
    let mut hits = Vec::new();
    let mut buf: Vec<u8> = Vec::new();
    let mut base: u64 = 0; // offset of buf[0] in the stream
    let mut chunk = vec![0u8; 256 * 1024];
    loop {
        let n = r.read(&mut chunk)?;
        if n == 0 {
            return Ok(hits);
        }
        buf.extend_from_slice(&chunk[..n]);
        let mut from = 0;
        while let Some(p) = finder.find(&buf[from..]) {
            if hits.len() == max {
                return Ok(hits);
            }
            hits.push(base + (from + p) as u64);
            from += p + needle.len();
        }
        // Keep only what could still start a match across the next chunk.
        let cut = from.max(buf.len().saturating_sub(needle.len() - 1));
        buf.drain(..cut);
        base += cut as u64;
    }
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

    /// A reader handing out a few bytes per call: every match crosses a read somewhere.
    struct Trickle<'a>(&'a [u8], usize);
    impl Read for Trickle<'_> {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            self.1 = self.1 % 7 + 1;
            let n = self.1.min(buf.len()).min(self.0.len());
            buf[..n].copy_from_slice(&self.0[..n]);
            self.0 = &self.0[n..];
            Ok(n)
        }
    }

    #[test]
    fn delimiters_are_found_across_reads_once_each() {
        let hay = b"xx--b--b-b--b\r\n--b--b";
        let naive: Vec<u64> = (0..hay.len() - 2).filter(|&i| &hay[i..i + 3] == b"--b").map(|i| i as u64).collect();
        assert_eq!(find_all(Trickle(hay, 0), b"--b", 100).unwrap(), naive);
        assert_eq!(find_all(&hay[..], b"--b", 100).unwrap(), naive);
        assert_eq!(find_all(&b"aaaa"[..], b"aa", 100).unwrap(), [0, 2], "matches do not overlap");
        assert_eq!(find_all(&hay[..], b"--b", 2).unwrap(), naive[..2], "at most max");
    }

    #[test]
    fn multipart_from_memory_and_from_a_spool_file_agree() {
        let body = b"preamble\r\n--XyZ\r\nContent-Disposition: form-data; name=\"_csrf\"\r\n\r\ntok\r\n--XyZ\r\nContent-Disposition: form-data; name=\"package\"; filename=\"p.zip\"\r\n\r\nPK\r\n--X\r\n\r\n--XyZ--\r\n".to_vec();
        let req = Request::fake_http(
            "POST",
            "/admin/import",
            vec![("Content-Type".into(), "multipart/form-data; boundary=XyZ".into())],
            vec![],
        );
        let mut f = tempfile::tempfile().unwrap();
        std::io::Write::write_all(&mut f, &body).unwrap();
        for b in [Body::Mem(body.clone()), Body::File(Arc::new(f), body.len() as u64)] {
            let parts = multipart(&req, &b).unwrap();
            assert_eq!(parts.len(), 2);
            assert_eq!((parts[0].name.as_str(), parts[0].data.text()), ("_csrf", "tok".to_string()));
            assert_eq!(parts[1].filename.as_deref(), Some("p.zip"));
            let mut data = Vec::new();
            parts.into_iter().nth(1).unwrap().data.into_reader().read_to_end(&mut data).unwrap();
            assert_eq!(data, b"PK\r\n--X\r\n");
        }
        // A body of nothing but delimiters: refused, not collected.
        let flood = Body::Mem(b"--XyZ\r\n".repeat(10_000));
        assert!(multipart(&req, &flood).is_err());
        // Cut short: no closing delimiter.
        let cut = Body::Mem(body[..body.len() - 12].to_vec());
        assert!(multipart(&req, &cut).is_err());
    }

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

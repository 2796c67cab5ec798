//! Where a package's files live: a directory on disk, a zip archive (a file, a region of a
//! spooled upload, or bytes in memory), or nowhere (a lone uploaded JSON/xlsx). Reads never
//! leave the package: paths are checked, symlinks resolved, and zip entries are measured while
//! they inflate (a zip bomb stops at a cap, not at the end of memory or disk).

use super::validate::safe_material_path;
use std::io::{Cursor, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

/// The package file itself (package.json or the workbook, inflated): far above any real
/// session (1,000 applicants are about 1 MiB of JSON), low enough to parse in little memory.
pub const PACKAGE_FILE_MAX: u64 = 32 << 20;
/// A zip entry inflating beyond this many times its compressed size (past the first MiB) is a
/// zip bomb: PDFs, images and office files never come near it.
const MAX_RATIO: u64 = 200;

/// Anything a zip can be read from.
pub trait ReadSeek: Read + Seek + Send {}
impl<T: Read + Seek + Send> ReadSeek for T {}

pub type Archive = zip::ZipArchive<Box<dyn ReadSeek>>;

pub enum Source {
    None,
    Dir(PathBuf),
    Zip { archive: Box<Archive>, prefix: String, budget: u64 },
}

/// A region of a file read through its own cursor (`pread`): an uploaded file inside a spooled
/// multipart body, opened as a zip without copying it out.
pub struct Window {
    file: std::sync::Arc<std::fs::File>,
    start: u64,
    len: u64,
    pos: u64,
}

impl Window {
    pub fn new(file: std::sync::Arc<std::fs::File>, start: u64, len: u64) -> Window {
        Window { file, start, len, pos: 0 }
    }
}

impl Read for Window {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        use std::os::unix::fs::FileExt;
        let left = self.len.saturating_sub(self.pos);
        let want = buf.len().min(usize::try_from(left).unwrap_or(usize::MAX));
        if want == 0 {
            return Ok(0);
        }
        let n = self.file.read_at(&mut buf[..want], self.start + self.pos)?;
        self.pos += n as u64;
        Ok(n)
    }
}

impl Seek for Window {
    fn seek(&mut self, to: SeekFrom) -> std::io::Result<u64> {
        let next = match to {
            SeekFrom::Start(n) => Some(n),
            SeekFrom::End(d) => self.len.checked_add_signed(d),
            SeekFrom::Current(d) => self.pos.checked_add_signed(d),
        };
        self.pos = next.ok_or_else(|| std::io::Error::new(std::io::ErrorKind::InvalidInput, "seek before start"))?;
        Ok(self.pos)
    }
}

impl Source {
    /// Size of a file in the package, or why it cannot be used.
    pub fn size(&mut self, rel: &str) -> Result<u64, String> {
        if !safe_material_path(rel) {
            return Err("路径不在会务包之内".into());
        }
        match self {
            Source::None => Err("上传的单个文件中不含材料；请上传包含 materials/ 的 zip 包".into()),
            Source::Dir(root) => {
                let p = inside(root, rel)?;
                Ok(std::fs::metadata(p).map_err(|_| "文件不存在".to_string())?.len())
            }
            Source::Zip { archive, prefix, .. } => {
                let f = archive.by_name(&format!("{prefix}{rel}")).map_err(|_| "文件不存在".to_string())?;
                Ok(f.size())
            }
        }
    }

    /// Streams a material into `out` (at most `limit` bytes, and at most what is left of the
    /// package's inflation budget); returns the bytes written.
    pub fn copy_to(&mut self, rel: &str, limit: u64, out: &mut dyn Write) -> Result<u64, String> {
        if !safe_material_path(rel) {
            return Err("路径不在会务包之内".into());
        }
        match self {
            Source::None => Err("没有材料".into()),
            Source::Dir(root) => {
                let p = inside(root, rel)?;
                let f = std::fs::File::open(p).map_err(|e| format!("无法读取: {e}"))?;
                copy_capped(f, limit, u64::MAX, out)
            }
            Source::Zip { archive, prefix, budget } => {
                let f = archive.by_name(&format!("{prefix}{rel}")).map_err(|_| "文件不存在".to_string())?;
                let ratio_cap = f.compressed_size().saturating_mul(MAX_RATIO).max(1 << 20);
                let n = copy_capped(f, limit.min(*budget), ratio_cap, out)?;
                *budget -= n;
                Ok(n)
            }
        }
    }
}

/// The canonical path of `rel` under `root`, refusing anything a symlink leads outside.
fn inside(root: &Path, rel: &str) -> Result<PathBuf, String> {
    let root = root.canonicalize().map_err(|_| "会务包目录不存在".to_string())?;
    let p = root.join(rel).canonicalize().map_err(|_| "文件不存在".to_string())?;
    if !p.starts_with(&root) || !p.is_file() {
        return Err("路径不在会务包之内".into());
    }
    Ok(p)
}

/// Copies at most `limit` bytes; more is an error naming the limit, and more than `ratio_cap`
/// (a zip entry's compressed size × `MAX_RATIO`) is refused as a zip bomb.
fn copy_capped(mut r: impl Read, limit: u64, ratio_cap: u64, out: &mut dyn Write) -> Result<u64, String> {
    let mut chunk = vec![0u8; 64 * 1024];
    let mut n: u64 = 0;
    loop {
        let got = r.read(&mut chunk).map_err(|e| format!("无法读取: {e}"))?;
        if got == 0 {
            return Ok(n);
        }
        n += got as u64;
        if n > ratio_cap {
            return Err("解压后远大于压缩前（疑似 zip 炸弹），已拒绝".into());
        }
        if n > limit {
            return Err(format!("文件超过大小上限 {}", mib(limit)));
        }
        out.write_all(&chunk[..got]).map_err(|e| format!("无法写入: {e}"))?;
    }
}

/// Reads a whole file into memory, at most `limit` bytes.
pub fn read_capped(r: impl Read, limit: u64) -> Result<Vec<u8>, String> {
    let mut buf = Vec::new();
    copy_capped(r, limit, u64::MAX, &mut buf)?;
    Ok(buf)
}

fn mib(n: u64) -> String {
    if n >= 1 << 20 {
        format!("{} MiB", n >> 20)
    } else {
        format!("{} KiB", n >> 10)
    }
}

/// A workbook (.xlsx and .ods are zips) is inflated once, counting, before calamine reads it:
/// the sheets and shared strings it would hold in memory stay under `PACKAGE_FILE_MAX`.
pub fn check_workbook(bytes: &[u8]) -> Result<(), String> {
    if !bytes.starts_with(b"PK") {
        return Ok(()); // .xls: a compound file, no bigger inflated than on disk
    }
    let Ok(mut archive) = zip::ZipArchive::new(Cursor::new(bytes)) else {
        return Ok(()); // calamine says what is wrong with it
    };
    let mut total: u64 = 0;
    for i in 0..archive.len() {
        let Ok(f) = archive.by_index(i) else { continue };
        let ratio_cap = f.compressed_size().saturating_mul(MAX_RATIO).max(1 << 20);
        total += copy_capped(f, PACKAGE_FILE_MAX - total.min(PACKAGE_FILE_MAX), ratio_cap, &mut std::io::sink())
            .map_err(|m| format!("工作簿内容{m}（上限 {}）", mib(PACKAGE_FILE_MAX)))?;
    }
    Ok(())
}

/// Opens a zip, refuses unsafe entry names, and finds the package file (at the root or in one
/// top folder). Returns (package file name, its bytes, the source for materials).
pub fn open_zip(reader: Box<dyn ReadSeek>, limit: u64) -> Result<(String, Vec<u8>, Source), String> {
    let mut archive: Archive = zip::ZipArchive::new(reader).map_err(|e| format!("不是有效的 zip 文件 ({e})"))?;
    if archive.len() > 100_000 {
        return Err(format!("zip 包含 {} 个文件，超过上限 100000", archive.len()));
    }
    let mut found: Option<String> = None;
    for i in 0..archive.len() {
        let f = archive.by_index_raw(i).map_err(|e| format!("zip 文件损坏 ({e})"))?;
        let name = f.name().map_err(|e| format!("zip 中有无法识别的文件名 ({e})"))?.to_string();
        if f.enclosed_name().is_none() || name.contains('\\') {
            return Err(format!("zip 中的文件「{name}」路径不安全 (path traversal)"));
        }
        let depth = name.matches('/').count();
        let base = name.rsplit('/').next().unwrap_or("");
        if depth <= 1 && matches!(base, "package.json" | "package.xlsx" | "package.xls" | "package.ods") {
            let better = match &found {
                None => true,
                Some(prev) => {
                    depth < prev.matches('/').count() || (base.ends_with(".json") && !prev.ends_with(".json"))
                }
            };
            if better {
                found = Some(name);
            }
        }
    }
    let name = found.ok_or("zip 中没有 package.json、package.xlsx、package.xls 或 package.ods")?;
    let prefix = name.rsplit_once('/').map(|(d, _)| format!("{d}/")).unwrap_or_default();
    let budget = limit.saturating_mul(4);
    let pkg = {
        let f = archive.by_name(&name).map_err(|e| format!("zip 文件损坏 ({e})"))?;
        let ratio_cap = f.compressed_size().saturating_mul(MAX_RATIO).max(1 << 20);
        let mut out = Vec::new();
        copy_capped(f, PACKAGE_FILE_MAX, ratio_cap, &mut out).map_err(|m| format!("{name}: {m}"))?;
        out
    };
    let base = name.rsplit('/').next().unwrap_or(&name).to_string();
    Ok((base, pkg, Source::Zip { archive: Box::new(archive), prefix, budget }))
}

pub fn content_type(path: &str) -> &'static str {
    let ext = path.rsplit('.').next().unwrap_or("").to_ascii_lowercase();
    match ext.as_str() {
        "pdf" => "application/pdf",
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "gif" => "image/gif",
        "webp" => "image/webp",
        "txt" => "text/plain; charset=utf-8",
        _ => "application/octet-stream",
    }
}

//! Where a package's files live: a directory on disk, a zip archive in memory, or nowhere
//! (a lone uploaded JSON/xlsx). Reads never leave the package: paths are checked, symlinks
//! resolved and zip sizes capped (a zip bomb stops at the cap, not at the disk's end).

use super::validate::safe_material_path;
use std::io::{Cursor, Read};
use std::path::{Path, PathBuf};

pub enum Source {
    None,
    Dir(PathBuf),
    Zip { archive: Box<zip::ZipArchive<Cursor<Vec<u8>>>>, prefix: String, budget: u64 },
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

    pub fn read(&mut self, rel: &str, limit: u64) -> Result<Vec<u8>, String> {
        if !safe_material_path(rel) {
            return Err("路径不在会务包之内".into());
        }
        match self {
            Source::None => Err("没有材料".into()),
            Source::Dir(root) => {
                let p = inside(root, rel)?;
                let f = std::fs::File::open(p).map_err(|e| format!("无法读取: {e}"))?;
                read_capped(f, limit)
            }
            Source::Zip { archive, prefix, budget } => {
                let f = archive.by_name(&format!("{prefix}{rel}")).map_err(|_| "文件不存在".to_string())?;
                let cap = limit.min(*budget);
                let bytes = read_capped(f, cap)?;
                *budget -= bytes.len() as u64;
                Ok(bytes)
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

fn read_capped(r: impl Read, limit: u64) -> Result<Vec<u8>, String> {
    let mut buf = Vec::new();
    r.take(limit + 1).read_to_end(&mut buf).map_err(|e| format!("无法读取: {e}"))?;
    if buf.len() as u64 > limit {
        return Err(format!("文件超过大小上限 {} MiB", limit / 1024 / 1024));
    }
    Ok(buf)
}

/// Opens a zip, refuses unsafe entry names, and finds the package file (at the root or in one
/// top folder). Returns (package file name, its bytes, the source for materials).
pub fn open_zip(bytes: Vec<u8>, limit: u64) -> Result<(String, Vec<u8>, Source), String> {
    let mut archive = zip::ZipArchive::new(Cursor::new(bytes)).map_err(|e| format!("不是有效的 zip 文件 ({e})"))?;
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
        read_capped(f, limit)?
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

//! The session package (会务包): load it from any of its shapes and check all of it (here and
//! in `json`, `xlsx`, `validate`: no database); `import` then replaces the session in the
//! database in one transaction, creating the rounds and the accounts.

pub mod columns;
mod import;
pub mod json;
pub mod model;
pub mod signature;
pub mod source;
pub mod template;
pub mod validate;
pub mod xlsx;

pub use import::{import, material_path, voting_started, ImportSummary};
use model::{Package, Problem};

pub use source::ReadSeek;
use source::Source;
use std::path::Path;

/// A package that parsed and passed every check, with its materials still to be copied.
pub struct Loaded {
    pub package: Package,
    pub sha256: String,
    pub source_name: String,
    pub warnings: Vec<String>,
    /// The id of the office key whose signature of the package was checked before import;
    /// `None`: imported without one (来源未验证).
    pub office_key_id: Option<String>,
    source: Source,
}

pub use crate::ids::sha256_hex;

/// The verdict on a package with problems, in the words both the console's 导入会务包 and
/// `pingshen import --check` end with.
pub fn problems_line(count: usize) -> String {
    format!("共 {count} 个问题，未导入任何内容")
}

/// The verdict on a package that passed every check (console and `import --check` alike).
pub fn passed_line(groups: usize, experts: usize, applicants: usize) -> String {
    format!("检查通过：{groups} 个专业组、{experts} 名专家、{applicants} 名申报人")
}

/// Loads `package.json`, `package.xlsx`, a directory holding one of them, or a `.zip`.
pub fn load_path(path: &Path, limit: u64) -> std::result::Result<Loaded, Vec<Problem>> {
    let shown = path.display().to_string();
    let one = |msg: String| vec![Problem::new(shown.clone(), msg)];
    if path.is_dir() {
        let (file, kind) = ["package.json", "package.xlsx", "package.xls", "package.ods"]
            .iter()
            .map(|f| path.join(f))
            .find(|p| p.is_file())
            .map(|p| {
                let k = p.extension().and_then(|e| e.to_str()).unwrap_or("").to_string();
                (p, k)
            })
            .ok_or_else(|| one("目录中没有 package.json、package.xlsx、package.xls 或 package.ods".into()))?;
        let bytes = read_limited(&file, limit).map_err(one)?;
        return finish(&kind, &bytes, Source::Dir(path.to_path_buf()), file.display().to_string());
    }
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("").to_string();
    let dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
    if name.to_lowercase().ends_with(".zip") {
        let file = std::fs::File::open(path).map_err(|e| one(format!("无法读取 ({e})")))?;
        return load_named(&name, Box::new(file), limit, Source::Dir(dir), shown);
    }
    let bytes = read_limited(path, limit.min(source::PACKAGE_FILE_MAX)).map_err(one)?;
    load_named(&name, Box::new(std::io::Cursor::new(bytes)), limit, Source::Dir(dir), shown)
}

/// Loads an uploaded file held in memory (the demo, tests): see `load_upload`.
pub fn load_bytes(filename: &str, bytes: Vec<u8>, limit: u64) -> std::result::Result<Loaded, Vec<Problem>> {
    load_upload(filename, Box::new(std::io::Cursor::new(bytes)), limit)
}

/// Loads an uploaded file: a `.zip` with materials (read in place: a spooled upload is never
/// copied into memory), or a lone JSON/workbook (then it has none).
pub fn load_upload(filename: &str, file: Box<dyn ReadSeek>, limit: u64) -> std::result::Result<Loaded, Vec<Problem>> {
    load_named(filename, file, limit, Source::None, filename.to_string())
}

fn load_named(
    name: &str,
    mut file: Box<dyn ReadSeek>,
    limit: u64,
    beside: Source,
    shown: String,
) -> std::result::Result<Loaded, Vec<Problem>> {
    let lower = name.to_lowercase();
    let one = |m: String| vec![Problem::new(shown.clone(), m)];
    let kind = if lower.ends_with(".zip") {
        "zip"
    } else if lower.ends_with(".json") {
        "json"
    } else if [".xlsx", ".xls", ".ods"].iter().any(|x| lower.ends_with(x)) {
        "xlsx"
    } else {
        return Err(one("文件类型不支持：应为 package.json、Excel 工作簿（.xlsx / .xls）、.ods 或 .zip".into()));
    };
    if kind == "zip" {
        let sha = sha256_of(&mut file).map_err(|e| one(format!("无法读取 ({e})")))?;
        let (inner, pkg, src) = source::open_zip(file, limit).map_err(one)?;
        let kind = inner.rsplit('.').next().unwrap_or("").to_string();
        let mut loaded = finish(&kind, &pkg, src, format!("{shown}:{inner}"))?;
        loaded.sha256 = sha;
        return Ok(loaded);
    }
    let bytes = source::read_capped(file, source::PACKAGE_FILE_MAX)
        .map_err(|m| one(format!("{m}（会务包文件本身；材料请放在 zip 包的 materials/ 中）")))?;
    finish(kind, &bytes, beside, shown)
}

/// SHA-256 of a whole reader, streamed; leaves it at its start.
fn sha256_of(r: &mut dyn ReadSeek) -> std::io::Result<String> {
    use std::io::SeekFrom;
    r.seek(SeekFrom::Start(0))?;
    let (_, sha) = crate::ids::sha256_reader(&mut *r)?;
    r.seek(SeekFrom::Start(0))?;
    Ok(sha)
}

fn read_limited(path: &Path, limit: u64) -> std::result::Result<Vec<u8>, String> {
    let meta = std::fs::metadata(path).map_err(|e| format!("无法读取 ({e})"))?;
    if meta.len() > limit {
        return Err(format!("文件大小 {} 字节超过上限 {} 字节", meta.len(), limit));
    }
    std::fs::read(path).map_err(|e| format!("无法读取 ({e})"))
}

fn finish(kind: &str, bytes: &[u8], mut source: Source, shown: String) -> std::result::Result<Loaded, Vec<Problem>> {
    let package = match kind {
        "json" => json::parse(bytes)?,
        "xlsx" | "xls" | "ods" => {
            source::check_workbook(bytes).map_err(|m| vec![Problem::new(shown.clone(), m)])?;
            xlsx::parse(bytes)?
        }
        _ => return Err(vec![Problem::new(shown, "文件类型不支持")]),
    };
    let report = validate::check(&package);
    let mut problems = report.problems;
    for a in &package.applicants {
        for (j, m) in a.materials.iter().enumerate() {
            if validate::safe_material_path(m) {
                if let Err(msg) = source.size(m) {
                    problems.push(Problem::new(a.src.at(&format!("materials[{j}]")), format!("材料「{m}」: {msg}")));
                }
            }
        }
    }
    if !problems.is_empty() {
        return Err(problems);
    }
    Ok(Loaded {
        package,
        sha256: sha256_hex(bytes),
        source_name: shown,
        warnings: report.warnings,
        office_key_id: None,
        source,
    })
}

//! The title office's side of the chain (PACKAGE.md, "Signed packages"; BUNDLE.md, "At the
//! office"): the office's own key pair, the packages it signs as they travel, and a registry of
//! what it issued — a plain TOML file in the office directory, readable and diff-able, so the
//! office can keep it under its own records.
//!
//! Runs on an office laptop with no network; nothing here touches a session database.

use crate::error::{Error, Result};
use crate::package;
use crate::sign;
use serde::{Deserialize, Serialize};
use std::io::Write;
use std::path::{Path, PathBuf};

pub mod ingest;

pub const SECRET_FILE: &str = "office.key";
pub const PUBLIC_FILE: &str = "office.pub";
pub const REGISTRY_FILE: &str = "registry.toml";

/// What the office has issued (and, later, which appliance key it registered for each session).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Registry {
    #[serde(default)]
    pub issued: Vec<Issued>,
    /// The appliance key of each session, as read from its signed 交接单 (`office register`).
    #[serde(default)]
    pub appliances: Vec<Appliance>,
}

/// The appliance key a session's bundle must be signed with.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Appliance {
    pub session_id: String,
    pub key_id: String,
    pub public_key: String,
    pub registered_at: String,
}

impl Registry {
    /// The package last issued for a session.
    pub fn issued_for(&self, session_id: &str) -> Option<&Issued> {
        self.issued.iter().rev().find(|i| i.session_id == session_id)
    }
    /// The appliance key registered last for a session.
    pub fn appliance_for(&self, session_id: &str) -> Option<&Appliance> {
        self.appliances.iter().rev().find(|a| a.session_id == session_id)
    }
}

/// One package the office signed.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Issued {
    pub session_id: String,
    pub name: String,
    /// The file as it travels (its name only).
    pub file: String,
    pub sha256: String,
    pub issued_at: String,
    /// An earlier package for the same session that this one replaced (`--replace`), by hash.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replaces: Option<String>,
}

fn paths(dir: &Path) -> (PathBuf, PathBuf) {
    (dir.join(SECRET_FILE), dir.join(PUBLIC_FILE))
}

/// `pingshen office init`: the office key pair (the secret key 0600) and an empty registry.
/// Refused when the directory already holds a key: an office key is made once.
pub fn init(dir: &Path) -> Result<sign::Keys> {
    let (sk, pk) = paths(dir);
    if sk.exists() || pk.exists() {
        return Err(Error::conflict(format!(
            "{} 已有职改办密钥：密钥只生成一次（重新生成会让已签发的会务包全部无法验证）。",
            dir.display()
        )));
    }
    std::fs::create_dir_all(dir)?;
    let keys = sign::create(&sk, &pk, "pingshen title office secret key")?;
    save_registry(dir, &Registry::default())?;
    Ok(keys)
}

fn load_keys(dir: &Path) -> Result<sign::Keys> {
    let (sk, pk) = paths(dir);
    sign::load(&sk, &pk)?.ok_or_else(|| {
        Error::bad_request(format!("{} 中没有职改办密钥：请先运行 pingshen office init --dir {0}", dir.display()))
    })
}

pub fn load_registry(dir: &Path) -> Result<Registry> {
    let path = dir.join(REGISTRY_FILE);
    let text = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Registry::default()),
        Err(e) => return Err(e.into()),
    };
    toml::from_str(&text).map_err(|e| Error::bad_request(format!("{}: {e}", path.display())))
}

/// Writes the registry whole, through a temporary file (never half a registry).
pub fn save_registry(dir: &Path, r: &Registry) -> Result<()> {
    let body = toml::to_string_pretty(r).map_err(Error::internal)?;
    let text = format!(
        "# pingshen 职改办登记簿: the packages this office issued (pingshen office issue) and the\n# appliance key registered for each session (pingshen office register).\n# Edited only by pingshen; kept with the office's records.\n\n{body}"
    );
    let path = dir.join(REGISTRY_FILE);
    let tmp = dir.join(format!("{REGISTRY_FILE}.tmp"));
    {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(text.as_bytes())?;
        f.sync_all()?;
    }
    std::fs::rename(tmp, path)?;
    Ok(())
}

/// `pingshen office template`: the package workbook for office staff, blank or filled from a
/// package (`from`: JSON, a workbook, a directory or a zip — checked as import checks it, so a
/// package with problems is not converted). Never overwrites a file: a filled-in workbook is
/// a day of a clerk's work. Returns what of the source the workbook could not carry as it was.
pub fn template(out: &Path, from: Option<&Path>) -> Result<Vec<String>> {
    if out.exists() {
        return Err(Error::conflict(format!("{} 已存在，未覆盖：请换一个文件名，或先移走原文件。", out.display())));
    }
    let loaded = match from {
        Some(p) => Some(package::load_path(p, u64::MAX).map_err(|problems| {
            let lines: Vec<String> =
                problems.iter().map(|p| format!("  - {}", terminal_safe(&p.to_string()))).collect();
            Error::bad_request(format!("{}\n{}", lines.join("\n"), package::problems_line(problems.len())))
        })?),
        None => None,
    };
    let t = package::template::workbook(loaded.as_ref().map(|l| &l.package))?;
    let mut f = std::fs::OpenOptions::new().write(true).create_new(true).open(out)?;
    f.write_all(&t.bytes)?;
    f.sync_all()?;
    Ok(t.notes)
}

/// What `issue` did: the record, the file that travels and its signature's path.
pub struct IssueOutcome {
    pub issued: Issued,
    pub file: PathBuf,
    pub signature: PathBuf,
    pub key_id: String,
}

/// `pingshen office issue`: checks the package as the appliance will, signs the file exactly as
/// it travels (a directory is zipped first, deterministically), writes `FILE.minisig` beside it
/// (minisign's detached format; the trusted comment names the session id and the file's
/// SHA-256) and records the session. A second package for an issued session is refused unless
/// `replace`.
pub fn issue(dir: &Path, package_path: &Path, replace: bool, now: &str) -> Result<IssueOutcome> {
    let keys = load_keys(dir)?;
    let file = if package_path.is_dir() { zip_dir(package_path)? } else { package_path.to_path_buf() };
    let loaded = package::load_path(&file, u64::MAX).map_err(|problems| {
        let lines: Vec<String> = problems.iter().map(|p| format!("  - {p}")).collect();
        Error::bad_request(format!("会务包有 {} 个问题，未签发:\n{}", problems.len(), lines.join("\n")))
    })?;
    let session_id = loaded.package.session.id.clone();
    let mut registry = load_registry(dir)?;
    let earlier = registry.issued.iter().rposition(|i| i.session_id == session_id);
    if earlier.is_some() && !replace {
        return Err(Error::conflict(format!(
            "会务 {session_id} 已签发过会务包：如确需替换，请加 --replace（登记簿会记下被替换的版本）。"
        )));
    }
    let bytes = std::fs::read(&file)?;
    let sha256 = crate::ids::sha256_hex(&bytes);
    let trusted = package::signature::trusted_comment(&session_id, &sha256);
    let sig = keys.sign(&bytes, &trusted, "signature from the title office (pingshen office issue)")?;
    let signature = PathBuf::from(format!("{}.minisig", file.display()));
    std::fs::write(&signature, sig)?;
    let issued = Issued {
        session_id,
        name: loaded.package.session.name.clone(),
        file: file.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default(),
        sha256,
        issued_at: now.to_string(),
        replaces: earlier.map(|i| registry.issued[i].sha256.clone()),
    };
    registry.issued.push(issued.clone());
    save_registry(dir, &registry)?;
    Ok(IssueOutcome { issued, file, signature, key_id: sign::key_id(&keys.pk) })
}

/// Zips a package directory beside it (`DIR.zip`): entries in name order, fixed times and
/// permissions, so the same directory always gives the same bytes (and the same signature).
pub fn zip_dir(dir: &Path) -> Result<PathBuf> {
    let name = dir.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| "package".into());
    let out = dir.with_file_name(format!("{name}.zip"));
    let mut files = Vec::new();
    collect(dir, dir, &mut files)?;
    files.sort();
    let opts = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .last_modified_time(zip::DateTime::default())
        .unix_permissions(0o644);
    let tmp = out.with_extension("zip.tmp");
    {
        let mut w = zip::ZipWriter::new(std::fs::File::create(&tmp)?);
        for rel in &files {
            w.start_file(rel.as_str(), opts).map_err(Error::internal)?;
            let mut f = std::fs::File::open(dir.join(rel))?;
            std::io::copy(&mut f, &mut w)?;
        }
        w.finish().map_err(Error::internal)?.sync_all()?;
    }
    std::fs::rename(tmp, &out)?;
    Ok(out)
}

/// Every file below `root`, as a relative path with `/` separators.
fn collect(root: &Path, dir: &Path, out: &mut Vec<String>) -> Result<()> {
    for e in std::fs::read_dir(dir)? {
        let p = e?.path();
        if p.is_dir() {
            collect(root, &p, out)?;
        } else if p.is_file() {
            let rel = p.strip_prefix(root).map_err(Error::internal)?;
            let parts: Vec<String> = rel.components().map(|c| c.as_os_str().to_string_lossy().into_owned()).collect();
            out.push(parts.join("/"));
        }
    }
    Ok(())
}

/// `pingshen office register`: records the appliance key for a session, typed from the signed
/// 交接单 or read from its `handover-record.txt` (whose own signature must check with the key it
/// names, and whose session must be this one). A key registered again replaces the earlier one
/// (both stay in the registry).
pub fn register(
    dir: &Path,
    session_id: &str,
    pubkey: Option<&str>,
    from: Option<&Path>,
    now: &str,
) -> Result<Appliance> {
    let pk = match (pubkey, from) {
        (Some(k), None) => sign::parse_public(k).map_err(|e| Error::bad_request(format!("--pubkey: {e}")))?,
        (None, Some(record)) => key_from_record(record, session_id)?,
        _ => return Err(Error::bad_request("请给出 --pubkey KEY 或 --from handover-record.txt（二者之一）。")),
    };
    let mut registry = load_registry(dir)?;
    if registry.issued_for(session_id).is_none() {
        return Err(Error::bad_request(format!(
            "会务 {session_id} 不在本办的签发登记中：请先签发（pingshen office issue）。"
        )));
    }
    let a = Appliance {
        session_id: session_id.to_string(),
        key_id: sign::key_id(&pk),
        public_key: pk.to_base64(),
        registered_at: now.to_string(),
    };
    registry.appliances.push(a.clone());
    save_registry(dir, &registry)?;
    Ok(a)
}

/// The appliance key in a handover record, once the record's own signature checks with it.
fn key_from_record(record: &Path, session_id: &str) -> Result<minisign::PublicKey> {
    let text = std::fs::read_to_string(record)?;
    let field = |k: &str| text.lines().find_map(|l| l.strip_prefix(&format!("{k}: "))).map(str::trim);
    let key =
        field("public_key").ok_or_else(|| Error::bad_request(format!("{} 中没有 public_key", record.display())))?;
    let pk = sign::parse_public(key).map_err(|e| Error::bad_request(format!("{}: {e}", record.display())))?;
    let recorded = field("session").and_then(|s| s.split_whitespace().next()).unwrap_or("");
    if recorded != session_id {
        return Err(Error::bad_request(format!("交接记录属于会务 {recorded}，不是 {session_id}。")));
    }
    let sig_path = PathBuf::from(format!("{}.minisig", record.display()));
    let sig = std::fs::read_to_string(&sig_path)
        .map_err(|e| Error::bad_request(format!("{}: {e}（交接记录的签名文件）", sig_path.display())))?;
    sign::verify_detached(&pk, &sig, std::io::Cursor::new(text.as_bytes()))
        .map_err(|_| Error::bad_request(format!("{} 的签名与其中的公钥不符：记录被改动过。", record.display())))?;
    Ok(pk)
}

/// Text from a file on a stick, made safe for a terminal line: control characters (an escape
/// sequence could rewrite the screen) shown as escapes.
pub fn terminal_safe(s: &str) -> String {
    s.chars().flat_map(|c| if c.is_control() { c.escape_default().collect::<Vec<_>>() } else { vec![c] }).collect()
}

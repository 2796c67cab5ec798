//! 交接 (handover, DOMAIN "Rehearsal and the end of the day"): after the report the appliance
//! checks its own bundle with its own public key, copies it to the media the staff choose,
//! flushes and reads every copy back, and keeps a signed record beside the bundle (never rows
//! in the session database: after the report nothing in it changes). The 交接单 prints from it.
//!
//! The record is `handover-record.txt` (one line per fact, one `copy` line per copy) and its
//! minisign signature `handover-record.txt.minisig` by the appliance key, re-signed after
//! every copy: `minisign -Vm handover-record.txt -P KEY` checks it with standard tools.

use super::{key, verify};
use crate::error::{Error, Result};
use crate::store::Db;
use std::io::Write;
use std::path::{Path, PathBuf};

pub const RECORD: &str = "handover-record.txt";
pub const RECORD_SIG: &str = "handover-record.txt.minisig";

#[derive(Debug, Clone, serde::Serialize)]
pub struct Copy {
    pub at: String,
    pub path: String,
    /// Read back equal when it was made.
    pub verified: bool,
    /// Whether it is still there and equal now (read again whenever the status is shown):
    /// a stick pulled out or corrupted since no longer counts as a copy.
    pub intact: bool,
}

/// What the 交接单 shows: the bundle, the appliance's own check of it, and the copies made.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Handover {
    pub session_id: String,
    pub session_name: String,
    pub committee: String,
    pub rehearsal: bool,
    pub bundle_name: String,
    pub bundle_path: String,
    pub size: u64,
    pub sha256: String,
    pub key_id: String,
    pub fingerprint: String,
    pub public_key: String,
    pub audit_head: String,
    /// `verify`'s checks with the appliance's own key, one line each.
    pub checks: Vec<String>,
    pub verified: bool,
    pub copies: Vec<Copy>,
}

impl Handover {
    /// Copies that read back equal when made and still do now.
    pub fn verified_copies(&self) -> usize {
        self.copies.iter().filter(|c| c.verified && c.intact).count()
    }
}

/// SHA-256 and size of a file, read in blocks (a bundle can be tens of MB).
pub fn file_sha256(path: &Path) -> Result<(u64, String)> {
    let f = std::fs::File::open(path).map_err(|e| Error::internal(format!("{}: {e}", path.display())))?;
    Ok(crate::ids::sha256_reader(f)?)
}

/// The bundle of the reported session (written now if it is missing) checked with the
/// appliance's own key, and the copies recorded so far.
pub fn status(db: &Db, data_dir: &Path, t: &crate::render::Templates) -> Result<Handover> {
    let session = db.read(crate::venue::session)?.ok_or_else(Error::not_found)?;
    if !db.read(crate::store::is_reported)? {
        return Err(Error::conflict("评审结果尚未上报：上报后才能交接。"));
    }
    let path = super::path_for(db, &session.session_id)?;
    if !path.is_file() {
        super::write_for_session(db, data_dir, t)?;
    }
    let k = key::load(data_dir)?.ok_or_else(|| Error::internal("the appliance key is missing"))?;
    let (size, sha256) = file_sha256(&path)?;
    let (checks, verified) = match verify::read_bundle(&path) {
        Ok(files) => {
            let checks = verify::verify(&files, Some(&k.pk));
            let ok = verify::passed(&checks);
            (checks.iter().map(|c| c.to_string()).collect(), ok)
        }
        Err(e) => (vec![format!("[FAIL] read: {e}")], false),
    };
    let mut copies = read_copies(&path.with_file_name(RECORD), &k)?;
    for c in &mut copies {
        c.intact = file_sha256(Path::new(&c.path)).is_ok_and(|(_, sha)| sha == sha256);
    }
    Ok(Handover {
        session_id: session.session_id.clone(),
        session_name: session.name.clone(),
        committee: session.committee.clone(),
        rehearsal: session.rehearsal.is_some(),
        bundle_name: path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default(),
        bundle_path: path.display().to_string(),
        size,
        sha256,
        key_id: k.id(),
        fingerprint: k.fingerprint(),
        public_key: k.public_base64(),
        audit_head: db.read(crate::store::audit_head)?.unwrap_or_default(),
        checks,
        verified,
        copies,
    })
}

/// The media a copy may go to: each configured directory and the directories directly in it,
/// those that exist. (A USB stick mounted at /media/pingshen or /media/pingshen/STICK.)
pub fn targets(dirs: &[PathBuf]) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for d in dirs {
        if d.is_dir() {
            out.push(d.clone());
            if let Ok(entries) = std::fs::read_dir(d) {
                let mut subs: Vec<PathBuf> = entries.flatten().map(|e| e.path()).filter(|p| p.is_dir()).collect();
                subs.sort();
                out.extend(subs);
            }
        }
    }
    out
}

/// Copies the bundle into `dir`: written beside as `.part`, flushed to the device, renamed,
/// read back and compared by SHA-256; the copy is recorded (verified or not) and the record
/// re-signed. A copy that does not read back equal is an error naming the place.
pub fn copy_to(db: &Db, data_dir: &Path, t: &crate::render::Templates, dir: &Path) -> Result<Copy> {
    let h = status(db, data_dir, t)?;
    if !h.verified {
        return Err(Error::conflict("结果包未通过本机自检，不能交接：请联系技术支持。"));
    }
    if !dir.exists() {
        return Err(copy_failed(dir, Failure::Missing, None));
    }
    if !dir.is_dir() {
        return Err(copy_failed(dir, Failure::NotADirectory, None));
    }
    let src = PathBuf::from(&h.bundle_path);
    let dest = dir.join(&h.bundle_name);
    let part = dir.join(format!("{}.part", h.bundle_name));
    let size = std::fs::metadata(&src)?.len();
    // Any failure from here leaves no partial file that could pass for a copy.
    let fail = |e: std::io::Error| {
        if let Err(rm) = std::fs::remove_file(&part) {
            log::debug!("remove {}: {rm}", part.display());
        }
        copy_failed(dir, Failure::of(&e, dir, size), Some(&e))
    };
    {
        let mut from = std::fs::File::open(&src)?;
        let mut to = std::fs::File::create(&part).map_err(fail)?;
        std::io::copy(&mut from, &mut to).map_err(fail)?;
        to.flush().map_err(fail)?;
        to.sync_all().map_err(fail)?;
    }
    std::fs::rename(&part, &dest).map_err(fail)?;
    if let Ok(d) = std::fs::File::open(dir) {
        if let Err(e) = d.sync_all() {
            log::warn!("sync {}: {e}", dir.display());
        }
    }
    let read_back = file_sha256(&dest).map(|(_, sha)| sha);
    let verified = read_back.as_deref().ok() == Some(h.sha256.as_str());
    let copy = Copy { at: db.now(), path: dest.display().to_string(), verified, intact: verified };
    let mut copies = h.copies.clone();
    copies.push(copy.clone());
    write_record(data_dir, &src.with_file_name(RECORD), &Handover { copies, ..h })?;
    log::info!("bundle copied to {} (verified: {verified})", dest.display());
    if !verified {
        return Err(Error::bad_request(format!(
            "复制到 {} 后读回的内容与结果包不一致：这个副本不可用，请换一个 U 盘重试。",
            dest.display()
        )));
    }
    Ok(copy)
}

/// Why a copy to a medium failed, as the person at the appliance needs to hear it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Failure {
    /// The directory is not there: the stick is not plugged in or not mounted.
    Missing,
    NotADirectory,
    /// Read-only (a write-protect switch, a read-only mount) or no permission.
    ReadOnly,
    /// No space left; the bundle's size is given.
    Full(u64),
    /// The medium went away during the copy (pulled out, disconnected, an I/O error).
    Vanished,
    /// Anything else: the system's own words are added.
    Other,
}

impl Failure {
    /// Classifies an error met while writing into `dir` (whose presence is checked again: a
    /// stick pulled out mid-copy shows up as a missing directory or an I/O error).
    pub fn of(e: &std::io::Error, dir: &Path, size: u64) -> Failure {
        match e.raw_os_error() {
            Some(libc::ENOSPC) | Some(libc::EDQUOT) | Some(libc::EFBIG) => Failure::Full(size),
            Some(libc::EROFS) | Some(libc::EACCES) | Some(libc::EPERM) => Failure::ReadOnly,
            Some(libc::EIO) | Some(libc::ENODEV) | Some(libc::ENXIO) | Some(libc::ESHUTDOWN) => Failure::Vanished,
            _ if !dir.is_dir() => Failure::Vanished,
            _ => Failure::Other,
        }
    }

    /// The reason and what to do, in Chinese (the console page and the command line).
    pub fn explain(self) -> String {
        match self {
            Failure::Missing => "目录不存在：U 盘可能没有插好或没有挂载。请插入 U 盘，确认目录已出现后重试。".into(),
            Failure::NotADirectory => "这个路径不是目录：请选择 U 盘上的一个目录。".into(),
            Failure::ReadOnly => {
                "U 盘不可写：可能打开了写保护开关，或以只读方式挂载。请关闭写保护或换一个 U 盘后重试。".into()
            }
            Failure::Full(size) => format!(
                "U 盘空间不足：结果包需要 {:.1} MB。请删除 U 盘上不需要的文件或换一个 U 盘后重试。",
                size as f64 / 1_048_576.0
            ),
            Failure::Vanished => {
                "复制过程中 U 盘断开（被拔出或读写出错）：未完成的文件不算副本。请重新插好 U 盘后再复制一次。".into()
            }
            Failure::Other => "写入出错。请换一个 U 盘后重试。".into(),
        }
    }
}

/// The error for a failed copy: the place, the reason and the fix (the system's own words
/// kept in the log, and in the message when the reason is not one of the known ones).
fn copy_failed(dir: &Path, why: Failure, e: Option<&std::io::Error>) -> Error {
    log::warn!("handover copy to {} failed: {why:?} {e:?}", dir.display());
    let system = match (why, e) {
        (Failure::Other, Some(e)) => format!("（系统信息：{e}）"),
        _ => String::new(),
    };
    Error::bad_request(format!("未能复制到 {}：{}{system}", dir.display(), why.explain()))
}

/// The 交接单's content as text (the command line prints it; the page shows the same).
pub fn record_text(h: &Handover) -> String {
    let mut s = String::new();
    s.push_str(if h.rehearsal {
        "pingshen handover record (彩排 — not a result)\n"
    } else {
        "pingshen handover record\n"
    });
    for (k, v) in [
        ("session", format!("{} {}", h.session_id, h.session_name)),
        ("committee", h.committee.clone()),
        ("bundle", h.bundle_name.clone()),
        ("size", h.size.to_string()),
        ("sha256", h.sha256.clone()),
        ("key_id", h.key_id.clone()),
        ("key_fingerprint", h.fingerprint.clone()),
        ("public_key", h.public_key.clone()),
        ("audit_head", h.audit_head.clone()),
        ("self_check", if h.verified { "passed" } else { "FAILED" }.to_string()),
    ] {
        s.push_str(&format!("{k}: {}\n", one_line(&v)));
    }
    for c in &h.copies {
        let state = if c.verified { "verified" } else { "MISMATCH" };
        s.push_str(&format!("copy\t{}\t{state}\t{}\n", one_line(&c.at), one_line(&c.path)));
    }
    s
}

/// A value on one line of the record: a newline or tab in a session name (the package allows
/// them in text) must not forge a `copy` line, and no control character reaches a terminal.
fn one_line(v: &str) -> String {
    v.chars().map(|c| if c.is_control() { ' ' } else { c }).collect()
}

fn write_record(data_dir: &Path, path: &Path, h: &Handover) -> Result<()> {
    let text = record_text(h);
    let k = key::load(data_dir)?.ok_or_else(|| Error::internal("the appliance key is missing"))?;
    let sig =
        k.sign(text.as_bytes(), &format!("pingshen handover session:{} bundle_sha256:{}", h.session_id, h.sha256))?;
    write_synced(path, text.as_bytes())?;
    write_synced(&path.with_file_name(RECORD_SIG), sig.as_bytes())
}

/// Writes a file whole (temporary beside it, synced, renamed).
pub fn write_synced(path: &Path, bytes: &[u8]) -> Result<()> {
    let tmp = path.with_extension("tmp");
    {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
    }
    std::fs::rename(&tmp, path)?;
    Ok(())
}

/// The copies of a record, once its signature checks: an edited record is an error, never
/// a reason to believe a copy exists (the wipe depends on it).
fn read_copies(path: &Path, k: &key::Key) -> Result<Vec<Copy>> {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(e.into()),
    };
    // An unreadable signature file is an I/O error to report as such, not "edited"; a missing
    // one is a record nobody signed.
    let sig_path = path.with_file_name(RECORD_SIG);
    let sig = match std::fs::read_to_string(&sig_path) {
        Ok(s) => s,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
        Err(e) => {
            return Err(Error::internal(format!("交接记录的签名文件 {} 无法读取：{e}", sig_path.display())));
        }
    };
    let checked = minisign::SignatureBox::from_string(&sig)
        .and_then(|s| minisign::verify(&k.pk, &s, std::io::Cursor::new(text.as_bytes()), true, false, false));
    if let Err(e) = checked {
        return Err(Error::conflict(format!(
            "交接记录 {} 的签名无效（{e}）：记录被改动过，请联系技术支持。",
            path.display()
        )));
    }
    Ok(text
        .lines()
        .filter_map(|l| l.strip_prefix("copy\t"))
        .filter_map(|l| {
            let mut parts = l.splitn(3, '\t');
            let (at, state, path) = (parts.next()?, parts.next()?, parts.next()?);
            Some(Copy { at: at.to_string(), path: path.to_string(), verified: state == "verified", intact: false })
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::Failure;
    use std::io::Error;

    /// What the system says when a stick is pulled out mid-copy, or refuses a write, becomes
    /// a reason a person can act on (the real mounts are in tests/it/handover.rs).
    #[test]
    fn copy_failures_are_classified_for_the_person_at_the_appliance() {
        let here = std::env::temp_dir();
        let gone = here.join("pingshen-no-such-stick");
        let of = |errno: i32, dir: &std::path::Path| Failure::of(&Error::from_raw_os_error(errno), dir, 2_097_152);
        assert_eq!(of(libc::ENOSPC, &here), Failure::Full(2_097_152));
        assert_eq!(of(libc::EROFS, &here), Failure::ReadOnly);
        assert_eq!(of(libc::EACCES, &here), Failure::ReadOnly);
        assert_eq!(of(libc::EIO, &here), Failure::Vanished);
        assert_eq!(of(libc::ENODEV, &here), Failure::Vanished);
        assert_eq!(of(libc::ENOENT, &gone), Failure::Vanished, "the directory went away during the copy");
        assert_eq!(of(libc::EINVAL, &here), Failure::Other);
        assert!(Failure::Full(2_097_152).explain().contains("2.0 MB"));
        assert!(Failure::Vanished.explain().contains("拔出"));
        for f in [Failure::Missing, Failure::ReadOnly, Failure::Full(1), Failure::Vanished, Failure::Other] {
            assert!(f.explain().contains("重试") || f.explain().contains("再复制"), "{f:?} says what to do");
        }
    }
}

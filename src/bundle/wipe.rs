//! 清除本机数据 (wipe, DOMAIN "Rehearsal and the end of the day", 第二十四条: meetings are
//! confidential): once the bundle is verified and copied at least once, everything the
//! appliance wrote and knows of is overwritten and removed — the session database with its
//! WAL/SHM, materials, logs, the result zip (it has verified copies), the account lists and
//! slips `pingshen accounts` wrote, and in the backup directory the backups with the key copies
//! and materials beside them. What stays: the signing key (the appliance's identity), the TLS
//! certificate, the signed handover record, and `wipe-record.txt` with its minisign signature:
//! every removed file's name, size and SHA-256 before removal, the bundle's SHA-256, the time.
//!
//! Overwriting with zeros before unlinking removes the bytes from the file on a plain disk; an
//! SSD or a journaling file system may keep older copies in blocks it remapped (README).

use super::handover::{self, file_sha256, write_synced};
use super::key;
use crate::config::Config;
use crate::error::{Error, Result};
use crate::store::Db;
use std::path::{Path, PathBuf};

pub const RECORD: &str = "wipe-record.txt";
pub const RECORD_SIG: &str = "wipe-record.txt.minisig";
/// In the data directory: the paths of account lists and slips written by `pingshen accounts`,
/// one per line, so the wipe can find them.
pub const EXPORTS: &str = "exports.txt";

/// Notes a file written outside the data directory (an account list, slips) for the wipe.
pub fn note_export(data_dir: &Path, path: &Path) -> Result<()> {
    use std::io::Write;
    let abs = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
    let mut f = std::fs::OpenOptions::new().create(true).append(true).open(data_dir.join(EXPORTS))?;
    writeln!(f, "{}", abs.display())?;
    Ok(())
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct Removed {
    pub path: String,
    pub size: u64,
    pub sha256: String,
    /// Why it could not be removed (the record says so; the wipe then reports failure).
    pub error: Option<String>,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct WipeRecord {
    pub session_id: String,
    pub at: String,
    pub bundle_sha256: String,
    /// Why the preconditions were overridden (`--force` on the command line), if they were.
    pub forced: Vec<String>,
    pub actor: String,
    pub removed: Vec<Removed>,
    pub record_path: String,
}

impl WipeRecord {
    pub fn complete(&self) -> bool {
        self.removed.iter().all(|r| r.error.is_none())
    }
}

/// Why a wipe may not run now; empty when it may. `--force` turns these into recorded reasons.
pub fn obstacles(db: &Db, cfg: &Config, t: &crate::render::Templates) -> Result<Vec<String>> {
    let mut out = Vec::new();
    if db.read(crate::store::rehearsal::started)?.is_some() {
        // Never forced: the copy is not the session.
        return Err(Error::conflict("彩排进行中，不能清除本机数据。请先结束彩排。"));
    }
    if !db.read(crate::store::is_reported)? {
        out.push("评审结果尚未上报".to_string());
    } else {
        let h = handover::status(db, &cfg.data_dir, t)?;
        if !h.verified {
            out.push("结果包未通过本机自检".to_string());
        }
        if h.verified_copies() == 0 {
            out.push("结果包还没有一份读回校验一致的副本（会务管理 → 交接）".to_string());
        }
    }
    if let Some(b) = &cfg.backup_dir {
        if !b.is_dir() {
            out.push(format!("备份目录 {} 无法访问（其中的备份无法清除）", b.display()));
        }
    }
    Ok(out)
}

/// Every file the wipe would remove now.
pub fn planned(db: &Db, cfg: &Config, session_id: &str) -> Result<Vec<PathBuf>> {
    targets(db, cfg, session_id)
}

/// Every file the wipe removes, in a stable order.
fn targets(db: &Db, cfg: &Config, session_id: &str) -> Result<Vec<PathBuf>> {
    let data = &cfg.data_dir;
    let mut files = Vec::new();
    let db_file = data.join("pingshen.db");
    for f in [db_file.clone(), db_file.with_extension("db-wal"), db_file.with_extension("db-shm")] {
        files.push(f);
    }
    walk(&data.join("materials"), &mut files);
    walk(&crate::store::spool_dir(data), &mut files);
    files.push(data.join(crate::store::STATS_FILE));
    files.push(super::path_for(db, session_id)?);
    let log = cfg.log_path();
    if let (Some(dir), Some(name)) = (log.parent(), log.file_name()) {
        let name = name.to_string_lossy().into_owned();
        if let Ok(entries) = std::fs::read_dir(if dir.as_os_str().is_empty() { Path::new(".") } else { dir }) {
            let mut logs: Vec<PathBuf> = entries
                .flatten()
                .map(|e| e.path())
                .filter(|p| p.file_name().is_some_and(|n| n.to_string_lossy().starts_with(&name)))
                .collect();
            logs.sort();
            files.extend(logs);
        }
    }
    if let Ok(text) = std::fs::read_to_string(data.join(EXPORTS)) {
        files.extend(text.lines().filter(|l| !l.trim().is_empty()).map(PathBuf::from));
        files.push(data.join(EXPORTS));
    }
    if let Some(b) = &cfg.backup_dir {
        files.extend(crate::store::backup::list(b));
        files.push(b.join(key::SECRET_FILE));
        files.push(b.join(key::PUBLIC_FILE));
        walk(&b.join("materials"), &mut files);
    }
    files.retain(|f| f.is_file());
    files.dedup();
    Ok(files)
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    let mut paths: Vec<PathBuf> = entries.flatten().map(|e| e.path()).collect();
    paths.sort();
    for p in paths {
        if p.is_dir() {
            walk(&p, out);
        } else {
            out.push(p);
        }
    }
}

/// Wipes the session. `force` (command line only) overrides the obstacles and records them.
/// The database is retired first ([`Db::retire_with`]): from then on this process answers no
/// more requests from it; the server stops after answering the wipe.
pub fn wipe(db: &Db, cfg: &Config, t: &crate::render::Templates, force: bool, actor: &str) -> Result<WipeRecord> {
    let obstacles = obstacles(db, cfg, t)?;
    if !obstacles.is_empty() && !force {
        return Err(Error::conflict(format!("现在不能清除本机数据：{}。", obstacles.join("；"))));
    }
    let session = db.read(crate::venue::session)?.ok_or_else(|| Error::conflict("本机没有会务数据。"))?;
    let k = key::load(&cfg.data_dir)?.ok_or_else(|| Error::internal("the appliance key is missing"))?;
    let bundle = super::path_for(db, &session.session_id)?;
    let bundle_sha256 = if bundle.is_file() { file_sha256(&bundle)?.1 } else { String::new() };
    let at = db.now();
    let files = targets(db, cfg, &session.session_id)?;
    let removed = db.retire_with(|| {
        let mut removed = Vec::new();
        for f in &files {
            let (size, sha256) = file_sha256(f).unwrap_or((0, String::new()));
            let error = crate::store::shred(f).err().map(|e| e.message);
            removed.push(Removed { path: f.display().to_string(), size, sha256, error });
        }
        for dir in
            [cfg.data_dir.join("materials")].into_iter().chain(cfg.backup_dir.iter().map(|b| b.join("materials")))
        {
            if dir.is_dir() {
                if let Err(e) = crate::store::shred(&dir) {
                    log::warn!("{}: {}", dir.display(), e.message);
                }
            }
        }
        Ok(removed)
    })?;
    let record = WipeRecord {
        session_id: session.session_id.clone(),
        at,
        bundle_sha256,
        forced: if force { obstacles } else { Vec::new() },
        actor: actor.to_string(),
        removed,
        record_path: cfg.data_dir.join(RECORD).display().to_string(),
    };
    let text = record_text(&record);
    let sig = k.sign(text.as_bytes(), &format!("pingshen wipe session:{} at:{}", record.session_id, record.at))?;
    write_synced(&cfg.data_dir.join(RECORD), text.as_bytes())?;
    write_synced(&cfg.data_dir.join(RECORD_SIG), sig.as_bytes())?;
    log::warn!("session {} wiped by {actor}: {} files", record.session_id, record.removed.len());
    Ok(record)
}

pub fn record_text(r: &WipeRecord) -> String {
    let clean = |v: &str| v.chars().map(|c| if c.is_control() { ' ' } else { c }).collect::<String>();
    let mut s = String::from("pingshen wipe record\n");
    s.push_str(&format!("session: {}\n", clean(&r.session_id)));
    s.push_str(&format!("wiped_at: {}\n", r.at));
    s.push_str(&format!("actor: {}\n", clean(&r.actor)));
    s.push_str(&format!("bundle_sha256: {}\n", r.bundle_sha256));
    s.push_str(&format!(
        "forced: {}\n",
        if r.forced.is_empty() { "no".to_string() } else { format!("yes ({})", clean(&r.forced.join("; "))) }
    ));
    s.push_str("method: overwritten with zeros, synced, unlinked\n");
    for f in &r.removed {
        match &f.error {
            None => s.push_str(&format!("removed\t{}\t{}\t{}\n", f.size, f.sha256, clean(&f.path))),
            Some(e) => s.push_str(&format!("FAILED\t{}\t{}\t{}\t{}\n", f.size, f.sha256, clean(&f.path), clean(e))),
        }
    }
    s
}

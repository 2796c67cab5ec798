//! Online backups to a second directory (a USB stick): a consistent copy of the database made
//! with SQLite's backup API while the server runs, plus the signing key and any new material
//! files. Taken every N minutes and at every phase change; the oldest are rotated away.
//! `pingshen restore` puts one back onto a fresh data directory.

use super::Db;
use crate::error::{Error, Result};
use std::path::{Path, PathBuf};
use std::sync::mpsc::{Receiver, RecvTimeoutError, Sender};
use std::time::Duration;

const PREFIX: &str = "pingshen-";

/// Makes one backup now; returns the database copy's path.
/// During a rehearsal none is taken (`Ok(None)`): its copy must never rotate the session's
/// own backups away, nor leave a trace of the rehearsal in the backup directory.
pub fn backup_now(db: &Db, data_dir: &Path, dir: &Path, keep: usize, reason: &str) -> Result<Option<PathBuf>> {
    if db.read(super::rehearsal::started)?.is_some() {
        log::info!("no backup ({reason}): a rehearsal is running");
        return Ok(None);
    }
    std::fs::create_dir_all(dir)?;
    // Local time to the microsecond: names sort in the order the backups were taken.
    let offset = time::UtcOffset::from_hms(db.utc_offset_hours, 0, 0).unwrap_or(time::UtcOffset::UTC);
    let t = time::OffsetDateTime::now_utc().to_offset(offset);
    let stamp = format!(
        "{:04}{:02}{:02}-{:02}{:02}{:02}-{:06}",
        t.year(),
        t.month() as u8,
        t.day(),
        t.hour(),
        t.minute(),
        t.second(),
        t.microsecond()
    );
    let reason: String = reason.chars().filter(|c| c.is_ascii_alphanumeric() || *c == '-').collect();
    let target = dir.join(format!("{PREFIX}{stamp}-{reason}.db"));
    let tmp = target.with_extension("db.tmp");
    super::remove_if_exists(&tmp)?;
    db.read(|src| {
        let mut dst = rusqlite::Connection::open(&tmp)?;
        let b = rusqlite::backup::Backup::new(src, &mut dst)?;
        b.run_to_completion(256, Duration::from_millis(5), None)?;
        Ok(())
    })?;
    std::fs::File::open(&tmp)?.sync_all()?;
    std::fs::rename(&tmp, &target)?;
    for f in [super::KEY_SECRET_FILE, super::KEY_PUBLIC_FILE] {
        let (from, to) = (data_dir.join(f), dir.join(f));
        if from.exists() && !to.exists() {
            std::fs::copy(&from, &to)?;
        }
    }
    copy_new_files(&data_dir.join("materials"), &dir.join("materials"))?;
    rotate(dir, keep)?;
    log::info!("backup written: {}", target.display());
    Ok(Some(target))
}

fn copy_new_files(from: &Path, to: &Path) -> Result<()> {
    let Ok(entries) = std::fs::read_dir(from) else { return Ok(()) };
    std::fs::create_dir_all(to)?;
    for e in entries.flatten() {
        let dest = to.join(e.file_name());
        if e.path().is_file() && !dest.exists() && !e.file_name().to_string_lossy().ends_with(".tmp") {
            std::fs::copy(e.path(), dest)?;
        }
    }
    Ok(())
}

/// The backups in `dir`, newest last.
pub fn list(dir: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.file_name().and_then(|n| n.to_str()).is_some_and(|n| n.starts_with(PREFIX) && n.ends_with(".db")))
        .collect();
    v.sort();
    v
}

fn rotate(dir: &Path, keep: usize) -> Result<()> {
    let all = list(dir);
    if all.len() > keep.max(1) {
        for old in &all[..all.len() - keep.max(1)] {
            std::fs::remove_file(old)?;
        }
    }
    Ok(())
}

/// A handle the web layer pokes at phase changes; the backup thread does the work.
#[derive(Clone)]
pub struct Trigger(Option<Sender<String>>);

impl Trigger {
    pub fn off() -> Trigger {
        Trigger(None)
    }
    pub fn now(&self, reason: &str) {
        if let Some(tx) = &self.0 {
            if tx.send(reason.to_string()).is_err() {
                log::error!("backup thread is gone: no backup for {reason}");
            }
        }
    }
}

/// Starts the backup thread: `run(reason)` every `interval`, and once for every trigger.
pub fn start(run: impl Fn(&str) -> Result<Option<PathBuf>> + Send + 'static, interval: Duration) -> Trigger {
    let (tx, rx): (Sender<String>, Receiver<String>) = std::sync::mpsc::channel();
    std::thread::spawn(move || loop {
        let reason = match rx.recv_timeout(interval) {
            Ok(r) => r,
            Err(RecvTimeoutError::Timeout) => "interval".into(),
            Err(RecvTimeoutError::Disconnected) => return,
        };
        if let Err(e) = run(&reason) {
            log::error!("backup failed: {}", e.message);
        }
    });
    Trigger(Some(tx))
}

/// Restores a backup (its `.db` file) onto an empty data directory, with the signing key and
/// the materials kept beside it.
pub fn restore(backup: &Path, data_dir: &Path) -> Result<()> {
    if !backup.is_file() {
        return Err(Error::bad_request(format!("{} is not a backup file", backup.display())));
    }
    if data_dir.join("pingshen.db").exists() {
        return Err(Error::conflict(format!(
            "{} already holds a session: restore onto an empty data directory",
            data_dir.display()
        )));
    }
    std::fs::create_dir_all(data_dir)?;
    // Check it is a pingshen database before copying anything.
    let conn = rusqlite::Connection::open_with_flags(backup, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)?;
    let ok: String = conn.query_row("PRAGMA integrity_check", [], |r| r.get(0))?;
    if ok != "ok" {
        return Err(Error::bad_request(format!("{}: integrity check failed ({ok})", backup.display())));
    }
    drop(conn);
    std::fs::copy(backup, data_dir.join("pingshen.db"))?;
    let from = backup.parent().unwrap_or(Path::new("."));
    for f in [super::KEY_SECRET_FILE, super::KEY_PUBLIC_FILE] {
        if from.join(f).exists() {
            std::fs::copy(from.join(f), data_dir.join(f))?;
        }
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let k = data_dir.join(super::KEY_SECRET_FILE);
        if k.exists() {
            std::fs::set_permissions(&k, std::fs::Permissions::from_mode(0o600))?;
        }
    }
    copy_new_files(&from.join("materials"), &data_dir.join("materials"))?;
    Ok(())
}

//! SQLite storage: the one place for the schema, migrations and the write rule.
//!
//! Write rule: every change goes through [`Db::write`], which holds the single writer connection
//! behind a mutex and runs the closure in one `BEGIN IMMEDIATE` transaction. Readers take their
//! own connection from a small pool; WAL mode gives each read a consistent snapshot. With
//! `synchronous=FULL` a change acknowledged to a browser survives a power cut.

pub mod backup;
mod schema;

use crate::error::{Error, Result};
use rusqlite::{Connection, OpenFlags, OptionalExtension, Transaction, TransactionBehavior};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

pub use schema::SCHEMA_VERSION;

pub struct Db {
    path: PathBuf,
    writer: Mutex<Connection>,
    readers: Mutex<Vec<Connection>>,
    pub utc_offset_hours: i8,
}

const DB_FILE: &str = "pingshen.db";
const MAX_IDLE_READERS: usize = 16;

impl Db {
    /// Opens (creating if needed) the database in `data_dir` and brings the schema up to date.
    pub fn open(data_dir: &Path, utc_offset_hours: i8) -> Result<Db> {
        std::fs::create_dir_all(data_dir)
            .map_err(|e| Error::internal(format!("cannot create data dir {}: {e}", data_dir.display())))?;
        let path = data_dir.join(DB_FILE);
        let mut conn = open_conn(&path, true)?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        schema::migrate(&mut conn)?;
        Ok(Db { path, writer: Mutex::new(conn), readers: Mutex::new(Vec::new()), utc_offset_hours })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Runs `f` in one IMMEDIATE transaction on the writer connection; commits on `Ok`.
    pub fn write<T>(&self, f: impl FnOnce(&Transaction) -> Result<T>) -> Result<T> {
        let mut conn = self.writer.lock().unwrap_or_else(|p| p.into_inner());
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let out = f(&tx)?;
        tx.commit()?;
        Ok(out)
    }

    /// Runs `f` on a reader connection (a consistent snapshot for each statement/transaction).
    pub fn read<T>(&self, f: impl FnOnce(&Connection) -> Result<T>) -> Result<T> {
        let conn = {
            let mut pool = self.readers.lock().unwrap_or_else(|p| p.into_inner());
            pool.pop()
        };
        let conn = match conn {
            Some(c) => c,
            None => open_conn(&self.path, false)?,
        };
        let out = f(&conn);
        let mut pool = self.readers.lock().unwrap_or_else(|p| p.into_inner());
        if pool.len() < MAX_IDLE_READERS {
            pool.push(conn);
        }
        out
    }

    /// Current time in the venue's offset, RFC 3339 (what every stored timestamp uses).
    pub fn now(&self) -> String {
        now_rfc3339(self.utc_offset_hours)
    }

    /// Empties the WAL file after a round closes: old frames there would otherwise keep the
    /// order in which ballots were written until SQLite happened to overwrite them.
    pub fn truncate_wal(&self) {
        let conn = self.writer.lock().unwrap_or_else(|p| p.into_inner());
        if let Err(e) = conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(())) {
            log::warn!("wal checkpoint: {e}");
        }
    }

    pub fn size_bytes(&self) -> u64 {
        let wal = self.path.with_extension("db-wal");
        let main = std::fs::metadata(&self.path).map(|m| m.len()).unwrap_or(0);
        main + std::fs::metadata(wal).map(|m| m.len()).unwrap_or(0)
    }
}

fn open_conn(path: &Path, create: bool) -> Result<Connection> {
    let mut flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    if create {
        flags |= OpenFlags::SQLITE_OPEN_CREATE;
    }
    let conn = Connection::open_with_flags(path, flags)
        .map_err(|e| Error::internal(format!("cannot open database {}: {e}", path.display())))?;
    conn.busy_timeout(std::time::Duration::from_secs(10))?;
    conn.set_prepared_statement_cache_capacity(64);
    conn.pragma_update(None, "synchronous", "FULL")?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    // Deleted drafts must not linger in free pages where a file reader could find them.
    conn.pragma_update(None, "secure_delete", "ON")?;
    // The writer keeps a large page cache (a 10,000-applicant session fits); readers are many
    // (one per concurrent request) and each has its own cache, so theirs stays small: the
    // kernel's page cache serves them just as well (BENCHMARKS.md, peak RSS).
    conn.pragma_update(None, "cache_size", if create { -16000 } else { -2000 })?;
    Ok(conn)
}

pub fn now_rfc3339(offset_hours: i8) -> String {
    let offset = time::UtcOffset::from_hms(offset_hours, 0, 0).unwrap_or(time::UtcOffset::UTC);
    let now = time::OffsetDateTime::now_utc().to_offset(offset);
    now.replace_nanosecond(0).unwrap_or(now).format(&time::format_description::well_known::Rfc3339).unwrap_or_default()
}

/// "2026-11-27T09:30:00+08:00" → "2026-11-27 09:30:00" for pages and printouts.
pub fn display_time(rfc3339: &str) -> String {
    let s = rfc3339.replace('T', " ");
    s.get(..19).unwrap_or(&s).to_string()
}

/// The `prev` of the first line of the chain.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// Appends one audit event, chained to the one before. Called inside the same transaction as
/// the change it records, so an event exists exactly when its change does; the single writer
/// makes the chain strictly sequential.
pub fn audit(
    tx: &Transaction,
    at: &str,
    actor: &str,
    action: &str,
    object: &str,
    details: serde_json::Value,
) -> Result<()> {
    let (seq, prev): (i64, String) =
        row(tx, "SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1", [], |r| Ok((r.get(0)?, r.get(1)?)))
            .optional()?
            .unwrap_or((0, GENESIS.to_string()));
    let seq = seq + 1;
    let line = serde_json::json!({
        "seq": seq, "at": at, "actor": actor, "action": action, "object": object, "details": details, "prev": prev,
    })
    .to_string();
    let hash = crate::package::sha256_hex(line.as_bytes());
    tx.prepare_cached(
        "INSERT INTO audit (seq, at, actor, action, object, details, line, hash) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
    )?
    .execute(
        rusqlite::params![seq, at, actor, action, object, details.to_string(), line, hash],
    )?;
    Ok(())
}

/// `query_row` through the connection's statement cache: the queries every request makes
/// (session, person, vote, meta) were spending a fifth of a request re-parsing their SQL.
pub fn row<T, P: rusqlite::Params>(
    conn: &rusqlite::Connection,
    sql: &str,
    params: P,
    f: impl FnOnce(&rusqlite::Row<'_>) -> rusqlite::Result<T>,
) -> rusqlite::Result<T> {
    conn.prepare_cached(sql)?.query_row(params, f)
}

/// The hash of the newest audit line (the chain's head), if any.
pub fn audit_head(conn: &rusqlite::Connection) -> Result<Option<String>> {
    Ok(conn.query_row("SELECT hash FROM audit ORDER BY seq DESC LIMIT 1", [], |r| r.get(0)).optional()?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn opens_migrates_and_reopens() {
        let dir = tempfile::tempdir().unwrap();
        let db = Db::open(dir.path(), 8).unwrap();
        let v: i64 = db.read(|c| Ok(c.query_row("PRAGMA user_version", [], |r| r.get(0))?)).unwrap();
        assert_eq!(v, SCHEMA_VERSION);
        let mode: String = db.read(|c| Ok(c.query_row("PRAGMA journal_mode", [], |r| r.get(0))?)).unwrap();
        assert_eq!(mode, "wal");
        drop(db);
        Db::open(dir.path(), 8).unwrap();
    }

    #[test]
    fn refuses_newer_schema() {
        let dir = tempfile::tempdir().unwrap();
        drop(Db::open(dir.path(), 8).unwrap());
        let c = Connection::open(dir.path().join(DB_FILE)).unwrap();
        c.pragma_update(None, "user_version", SCHEMA_VERSION + 1).unwrap();
        drop(c);
        assert!(Db::open(dir.path(), 8).is_err());
    }

    #[test]
    fn failed_write_rolls_back() {
        let dir = tempfile::tempdir().unwrap();
        let db = Db::open(dir.path(), 8).unwrap();
        let r: Result<()> = db.write(|tx| {
            audit(tx, "t", "a", "x", "o", serde_json::json!({}))?;
            Err(Error::bad_request("no"))
        });
        assert!(r.is_err());
        let n: i64 = db.read(|c| Ok(c.query_row("SELECT count(*) FROM audit", [], |r| r.get(0))?)).unwrap();
        assert_eq!(n, 0);
    }
}
